// Test harness: builds cuttle from this checkout, runs it on a free loopback
// port with a fresh data dir, and drives Debian's Chromium through
// playwright-core (never a downloaded browser).

import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = resolve(webDir, '..');
export const outDir = process.env.E2E_OUT ? resolve(process.env.E2E_OUT) : join(webDir, 'e2e-output');
export const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
// The shared G-code corpus sits beside the checkout (../shared/gcode); from a
// git worktree one level deeper, one folder further up.
export const corpusDir = process.env.GCODE_CORPUS
  ? resolve(process.env.GCODE_CORPUS)
  : [resolve(repoRoot, '../shared/gcode'), resolve(repoRoot, '../../shared/gcode')].find((d) => existsSync(d)) ?? resolve(repoRoot, '../shared/gcode');

const chromiumFlags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let built = null;

/** Builds ./cmd/cuttle once per process and returns the binary's path. */
export function buildCuttle() {
  if (built) return built;
  const dir = mkdtempSync(join(tmpdir(), 'cuttle-e2e-bin-'));
  const bin = join(dir, 'cuttle');
  execFileSync('go', ['build', '-o', bin, './cmd/cuttle'], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
  built = bin;
  return bin;
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

function yamlOf(sections) {
  return Object.entries(sections)
    .map(([k, v]) => `${k}:\n${v.replace(/^/gm, '  ')}`)
    .join('\n');
}

/**
 * Starts cuttle with a config assembled from `sections` (top-level YAML key
 * → indented body). A section this build does not know (the config loader
 * rejects unknown fields) is dropped and reported in `dropped`, so a test can
 * mark what depends on it as pending instead of failing to start at all.
 */
export async function startCuttle({ sections = {}, admin = null } = {}) {
  const bin = buildCuttle();
  const dropped = [];
  let config = { ...sections };
  for (let attempt = 0; attempt < 6; attempt++) {
    const dataDir = mkdtempSync(join(tmpdir(), 'cuttle-e2e-data-'));
    const cfgPath = join(dataDir, 'config.yaml');
    writeFileSync(cfgPath, yamlOf(config));
    if (admin) {
      execFileSync(bin, ['user', 'add', '--data-dir', dataDir, '--admin', admin.user], { input: admin.pass + '\n', stdio: ['pipe', 'ignore', 'inherit'] });
    }
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const logPath = join(dataDir, 'serve.log');
    const chunks = [];
    const proc = spawn(bin, ['serve', '--data-dir', dataDir, '--config', cfgPath, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout.on('data', (d) => chunks.push(d));
    proc.stderr.on('data', (d) => chunks.push(d));
    let exited = false;
    proc.on('exit', () => (exited = true));
    const log = () => Buffer.concat(chunks).toString();
    const deadline = Date.now() + 20000;
    let up = false;
    while (Date.now() < deadline && !exited) {
      try {
        const r = await fetch(`${base}/api/cuttle/setup`);
        if (r.status < 500) {
          up = true;
          break;
        }
      } catch {
        /* not yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (up) {
      return {
        base,
        dataDir,
        dropped,
        log,
        async stop() {
          writeFileSync(logPath, log());
          if (!exited) {
            proc.kill('SIGTERM');
            await new Promise((r) => {
              const t = setTimeout(() => (proc.kill('SIGKILL'), r()), 10000);
              proc.on('exit', () => (clearTimeout(t), r()));
            });
          }
          if (!process.env.E2E_KEEP) rmSync(dataDir, { recursive: true, force: true });
        },
      };
    }
    proc.kill('SIGKILL');
    const text = log();
    const m = /field (\w+) not found/.exec(text);
    if (m && m[1] in config) {
      dropped.push(m[1]);
      delete config[m[1]];
      continue;
    }
    throw new Error(`cuttle did not start:\n${text}`);
  }
  throw new Error('cuttle did not start: too many config retries');
}

/** Launches Debian's Chromium with a fresh profile. */
export async function launch(viewport = { width: 1280, height: 800 }) {
  const profile = mkdtempSync(join(tmpdir(), 'cuttle-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: chromiumFlags,
    viewport,
    acceptDownloads: false,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Makes sure the screenshot folder exists and returns a path in it. */
export function outPath(name) {
  mkdirSync(outDir, { recursive: true });
  return join(outDir, name);
}

/**
 * Returns step(name, { needs, after }, fn) for a browser test: each step is a
 * subtest that starts with no dialog open. A step whose routes (needs:
 * [method, path] pairs) this build lacks is TODO; a step after one that failed
 * or was pending fails with "not run"; a failing step leaves a screenshot
 * named after tag and the step.
 */
export function stepper(t, page, base, tag) {
  const failed = new Set();
  async function routed(method, path) {
    const r = await page.request.fetch(base + path, { method: 'OPTIONS' });
    return r.status() !== 404 || !/no such resource/.test(await r.text());
  }
  return async function step(name, { needs = [], after = [] }, fn) {
    await t.test(name, async (st) => {
      for (const d of after) if (failed.has(d)) throw new Error(`not run: the step "${d}" it depends on failed`);
      for (const [m, p] of needs) {
        if (!(await routed(m, p))) {
          failed.add(name);
          return st.todo(`pending: ${m} ${p} is not routed in this cuttle build`);
        }
      }
      try {
        await page.keyboard.press('Escape').catch(() => {});
        await fn(st);
      } catch (e) {
        failed.add(name);
        await page.screenshot({ path: outPath(`failed-${tag}-${name.replace(/\W+/g, '-')}.png`) }).catch(() => {});
        throw e;
      }
    });
  };
}

/** Reads the asset URLs index.html loads first. */
export function firstLoadAssets(html) {
  return [...html.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map((m) => m[1]);
}

export { readFileSync };

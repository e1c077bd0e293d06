// End-to-end: the whole user journey in Chromium against a real cuttle.
//
// Each step is a subtest. A step fails loudly when the UI or the server
// misbehaves. A step whose server API is not in this build (its route answers
// 404 "no such resource", or its config section is unknown) is marked TODO
// with the missing piece named, never passed silently. When a step fails,
// the steps that depend on it fail too, naming the step that broke; the
// others still run.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { corpusDir, launch, outPath, startCuttle } from './harness.mjs';

const USER = 'admin';
const PASS = 'e2e-secret-pw';
const CORPUS = process.env.E2E_GCODE ?? 'ps_tower.gcode'; // long enough to pause and cancel mid-print
// E2E_SERIAL_PORT points the test at another printer link (a pty of a
// separately started simulator, or real hardware) instead of VIRTUAL.
const SERIAL = process.env.E2E_SERIAL_PORT ?? '';
const LOGIN = 'log out and log in with the password';
const UPLOAD = `upload ${CORPUS} with a progress bar`;

test('web UI end to end', { timeout: 10 * 60 * 1000 }, async (t) => {
  const server = await startCuttle({
    sections: {
      power: 'relays:\n  - name: psu\n    driver: sim\n  - name: led\n    driver: sim\n',
      ...(SERIAL ? { serial: `additionalPorts: ["${SERIAL}"]\n` } : {}),
    },
  });
  const browser = await launch({ width: 1280, height: 800 });
  const page = await browser.context.newPage();
  const base = server.base;
  const consoleErrors = [];
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  t.after(async () => {
    await browser.close();
    await server.stop();
  });

  const failed = new Set(); // steps that failed
  const skipped = new Set(); // steps that were pending

  /** Whether method+path is routed by this build (404 "no such resource" = not). */
  async function routed(method, path) {
    const r = await page.request.fetch(base + path, { method: 'OPTIONS' });
    if (r.status() !== 404) return true;
    const body = await r.text();
    return !/no such resource/.test(body) ? true : false;
  }

  /**
   * Runs one step. `needs` lists [method, path] routes and config sections
   * the step depends on; a missing one makes the step TODO.
   */
  async function step(name, { needs = [], sections = [], after = [] }, fn) {
    await t.test(name, async (st) => {
      for (const dep of after) {
        if (failed.has(dep)) {
          failed.add(name);
          throw new Error(`not run: the step "${dep}" it depends on failed`);
        }
        if (skipped.has(dep)) {
          skipped.add(name);
          st.todo(`pending: depends on "${dep}", which is pending`);
          return;
        }
      }
      for (const s of sections) {
        if (server.dropped.includes(s)) {
          skipped.add(name);
          st.todo(`pending: this cuttle build has no "${s}" config section`);
          return;
        }
      }
      for (const [m, p] of needs) {
        if (!(await routed(m, p))) {
          skipped.add(name);
          st.todo(`pending: ${m} ${p} is not routed in this cuttle build`);
          return;
        }
      }
      try {
        // Start each step from the dashboard with no dialog open.
        await page.keyboard.press('Escape').catch(() => {});
        const pending = await fn(st);
        if (typeof pending === 'string') {
          skipped.add(name);
          st.todo(`pending: ${pending}`);
        }
      } catch (e) {
        failed.add(name);
        await page.screenshot({ path: outPath(`failed-${name.replace(/\W+/g, '-')}.png`) }).catch(() => {});
        throw e;
      }
    });
  }

  /** Screenshots of the dashboard at desktop and phone size; the phone layout must not scroll sideways. */
  async function shootDashboard() {
    await page.screenshot({ path: outPath('dashboard-1280x800.png') });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: outPath('dashboard-390x844.png') });
    for (const w of [390, 360]) {
      await page.setViewportSize({ width: w, height: 844 });
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `the ${w} px layout scrolls sideways by ${overflow}px`);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  }

  const stateText = () => page.getByTestId('printer-state').textContent();
  async function waitState(re, timeout = 30000) {
    await page.waitForFunction(
      (src) => new RegExp(src).test(document.querySelector('[data-testid=printer-state]')?.textContent ?? ''),
      re.source,
      { timeout },
    );
  }

  await step('first-run setup creates the admin', { needs: [['GET', '/api/cuttle/setup']] }, async () => {
    await page.goto(base + '/');
    await page.getByRole('heading', { name: 'Welcome to cuttle' }).waitFor();
    await page.screenshot({ path: outPath('setup-1280x800.png') });
    await page.getByLabel('User name').fill(USER);
    await page.getByLabel('Password', { exact: true }).fill(PASS);
    await page.getByLabel('Repeat password').fill(PASS);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByTestId('logout').waitFor({ timeout: 10000 });
    const setup = await (await page.request.get(base + '/api/cuttle/setup')).json();
    assert.equal(setup.needed, false, 'setup still needed after creating the admin');
  });

  await step('log out and log in with the password', { after: ['first-run setup creates the admin'] }, async () => {
    await page.getByTestId('logout').click();
    await page.getByRole('heading', { name: 'Log in to cuttle' }).waitFor();
    await page.getByLabel('User name').fill(USER);
    await page.getByLabel('Password', { exact: true }).fill('wrong-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').waitFor();
    assert.match(await page.getByRole('alert').textContent(), /wrong/i);
    await page.getByLabel('Password', { exact: true }).fill(PASS);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByTestId('logout').waitFor({ timeout: 10000 });
    // A reload keeps the session (cookie), and the page holds no API key.
    await page.reload();
    await page.getByTestId('logout').waitFor({ timeout: 10000 });
    const html = await (await page.request.get(base + '/')).text();
    assert.doesNotMatch(html, /apikey|X-Api-Key/i, 'index.html mentions an API key');
    await shootDashboard();
  });

  await step('connect to the virtual printer', { needs: [['GET', '/api/connection'], ['POST', '/api/connection']], after: [LOGIN] }, async () => {
    const conn = await (await page.request.get(base + '/api/connection')).json();
    const port = SERIAL || 'VIRTUAL';
    if (!conn.options.ports.includes(port)) {
      return `this build does not offer the ${port} port (ports: ${JSON.stringify(conn.options.ports)})`;
    }
    await page.locator('#conn-port').selectOption(port);
    await page.getByTestId('connect').click();
    await waitState(/^Operational/, 30000);
  });

  await step('set a tool target; chart and value move', { needs: [['POST', '/api/printer/tool']], after: ['connect to the virtual printer'] }, async () => {
    await page.getByTestId('temp-row-tool0').waitFor({ timeout: 15000 });
    const before = await page.getByTestId('temp-actual-tool0').textContent();
    const points = Number(await page.getByTestId('temp-chart').getAttribute('data-points'));
    // Preheat to what the corpus file asks for (205/60), so its M109/M190
    // waits end soon after the print starts.
    await page.getByTestId('temp-input-tool0').fill('205');
    await page.getByTestId('temp-set-tool0').click();
    await page.waitForFunction(() => /205/.test(document.querySelector('[data-testid=temp-target-tool0]')?.textContent ?? ''), null, { timeout: 15000 });
    if (await page.getByTestId('temp-row-bed').count()) {
      await page.getByTestId('temp-input-bed').fill('60');
      await page.getByTestId('temp-set-bed').click();
      await page.waitForFunction(() => /60/.test(document.querySelector('[data-testid=temp-target-bed]')?.textContent ?? ''), null, { timeout: 15000 });
    }
    await page.waitForFunction(
      (b) => {
        const now = document.querySelector('[data-testid=temp-actual-tool0]')?.textContent ?? '';
        return parseFloat(now) - parseFloat(b) >= 1;
      },
      before,
      { timeout: 30000 },
    );
    await page.waitForFunction((p) => Number(document.querySelector('[data-testid=temp-chart]')?.getAttribute('data-points')) > p + 1, points, {
      timeout: 15000,
    });
    const canvas = await page.locator('[data-testid=temp-chart] canvas').count();
    assert.ok(canvas > 0, 'the chart drew no canvas');
    await shootDashboard();
  });

  await step(UPLOAD, { needs: [['POST', '/api/files/local'], ['GET', '/api/files/local']], after: [LOGIN] }, async () => {
    const file = join(corpusDir, CORPUS);
    assert.ok(existsSync(file), `corpus file missing: ${file}`);
    // Slow the upload down so the progress bar is visible on loopback.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 512 * 1024 });
    await page.getByTestId('upload-input').setInputFiles(file);
    const bar = page.getByTestId('upload-progress').getByRole('progressbar');
    await bar.waitFor({ timeout: 10000 });
    await page.waitForFunction(
      () => {
        const v = Number(document.querySelector('[data-testid=upload-progress] [role=progressbar]')?.getAttribute('aria-valuenow'));
        return v > 0 && v < 100;
      },
      null,
      { timeout: 10000 },
    );
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await page.locator(`[data-testid=file-item][data-path="${CORPUS}"]`).first().waitFor({ timeout: 30000 });
    await cdp.detach();
  });

  const printStep = 'start printing it';
  await step(printStep, { needs: [['POST', '/api/files/local/x.gcode'], ['POST', '/api/job']], after: ['connect to the virtual printer', UPLOAD] }, async () => {
    await page.locator(`[data-testid=file-item][data-path="${CORPUS}"]`).first().getByTestId('file-print').click();
    await waitState(/^(Printing|Starting)/, 30000);
    await page.waitForFunction((n) => (document.querySelector('[data-testid=job-file]')?.textContent ?? '').includes(n), CORPUS, { timeout: 10000 });
  });

  await step('progress advances', { needs: [['GET', '/api/job']], after: [printStep] }, async () => {
    // The file starts by waiting for its temperatures; then the bar must move.
    const value = () => Number(document.querySelector('[data-testid=job-progress]')?.getAttribute('data-value') ?? 0);
    const start = await page.evaluate(value);
    await page.waitForFunction((s) => Number(document.querySelector('[data-testid=job-progress]')?.getAttribute('data-value') ?? 0) >= s + 0.2, start, {
      timeout: 240000,
    });
    await page.waitForFunction(() => /\d/.test(document.querySelector('[data-testid=job-elapsed]')?.textContent ?? ''), null, { timeout: 10000 });
    assert.match(await stateText(), /^Printing/);
    await shootDashboard();
  });

  await step('pause and resume', { after: [printStep] }, async () => {
    await page.getByTestId('job-pause').click();
    await waitState(/^Paused/, 30000);
    await page.getByTestId('job-resume').click();
    await waitState(/^Printing/, 30000);
  });

  await step('cancel, after confirming', { after: [printStep] }, async () => {
    await page.getByTestId('job-cancel').click();
    await page.getByTestId('confirm-dialog').waitFor();
    await page.getByTestId('confirm-no').click();
    assert.match(await stateText(), /^Printing/, 'backing out of the dialog still cancelled');
    await page.getByTestId('job-cancel').click();
    await page.getByTestId('confirm-yes').click();
    await waitState(/^(Operational|Cancelling)/, 30000);
    await waitState(/^Operational/, 60000);
  });

  await step('control: jog, home and fan reach the printer', { needs: [['POST', '/api/printer/printhead']], after: ['connect to the virtual printer'] }, async () => {
    await waitState(/^Operational/, 60000);
    await page.getByRole('link', { name: 'Control' }).click();
    await page.getByRole('radio', { name: '10 mm' }).click();
    await page.getByRole('button', { name: 'X plus' }).click();
    await page.getByRole('button', { name: 'Home X and Y' }).click();
    await page.getByRole('button', { name: 'Fan on' }).click();
    await page.getByRole('link', { name: 'Terminal' }).click();
    for (const re of [/Send: (N\d+ )?G1 .*X10/, /Send: (N\d+ )?G28 .*X/, /Send: (N\d+ )?M106 S255/]) {
      await page.waitForFunction((src) => new RegExp(src).test(document.querySelector('[data-testid=terminal-log]')?.textContent ?? ''), re.source, {
        timeout: 15000,
      });
    }
    await page.getByRole('link', { name: 'Dashboard' }).click();
  });

  await step('terminal command and its reply', { needs: [['POST', '/api/printer/command'], ['GET', '/sockjs/websocket']], after: ['connect to the virtual printer'] }, async () => {
    await page.getByRole('link', { name: 'Terminal' }).click();
    // The connection handshake sends M115 too: count, then look after the newest one.
    const sends = () => (document.querySelector('[data-testid=terminal-log]')?.textContent ?? '').split('\n').filter((l) => /^Send: (N\d+ )?M115\b/.test(l)).length;
    const before = await page.evaluate(sends);
    await page.getByTestId('terminal-input').fill('m115');
    await page.getByTestId('terminal-send').click();
    await page.waitForFunction(
      (n) => {
        const lines = (document.querySelector('[data-testid=terminal-log]')?.textContent ?? '').split('\n');
        const idx = lines.map((l, i) => (/^Send: (N\d+ )?M115\b/.test(l) ? i : -1)).filter((i) => i >= 0);
        return idx.length > n && lines.slice(idx[idx.length - 1]).some((l) => /^Recv: FIRMWARE_NAME/.test(l));
      },
      before,
      { timeout: 15000 },
    );
    assert.equal(await page.getByTestId('terminal-input').inputValue(), '', 'the input was not cleared after sending');
    await page.screenshot({ path: outPath('terminal-1280x800.png') });
    await page.getByRole('link', { name: 'Dashboard' }).click();
  });

  await step('PSU switch toggles the (simulated) relay', { needs: [['GET', '/api/plugin/psucontrol'], ['POST', '/api/plugin/psucontrol']], sections: ['power'], after: [LOGIN] }, async () => {
    const sw = page.getByTestId('psu-switch');
    await sw.waitFor({ timeout: 10000 });
    const was = (await sw.getAttribute('aria-checked')) === 'true';
    await sw.click();
    await page.waitForFunction((w) => document.querySelector('[data-testid=psu-switch]')?.getAttribute('aria-checked') === String(!w), was, { timeout: 10000 });
    const api = await (await page.request.get(base + '/api/plugin/psucontrol')).json();
    assert.equal(api.isPSUOn, !was, 'the switch and the API disagree');
    await sw.click();
    await page.waitForFunction((w) => document.querySelector('[data-testid=psu-switch]')?.getAttribute('aria-checked') === String(w), was, { timeout: 10000 });
  });

  await step('log out', { after: [LOGIN] }, async () => {
    await page.getByTestId('logout').click();
    await page.getByRole('heading', { name: 'Log in to cuttle' }).waitFor();
    const r = await page.request.get(base + '/api/currentuser');
    const me = await r.json();
    assert.ok(!me.name, `still logged in as ${me.name} after logout`);
    await page.reload();
    await page.getByRole('heading', { name: 'Log in to cuttle' }).waitFor();
  });

  await t.test('no uncaught errors in the page', () => {
    assert.deepEqual(consoleErrors, []);
  });
});

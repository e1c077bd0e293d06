// Budgets from issue 8, measured against a real cuttle in Chromium:
//  - first load: JS+CSS ≤ 250 KB gzipped, everything transferred ≤ 500 KB;
//  - interactive ≤ 1.5 s with the CPU throttled 4× (devtools protocol).
// The figures go to e2e-output/budgets.json and the test log. Sizes are
// deterministic and always enforced. The interactive time depends on how busy
// the machine is, so it is enforced only with WEB_BUDGET_STRICT=1 (a quiet
// machine); otherwise exceeding it is reported as a warning in the log.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { loadavg } from 'node:os';
import { firstLoadAssets, launch, outPath, startCuttle } from './harness.mjs';

const KB = 1024;
const BUDGET = { jsCssGzip: 250 * KB, transferred: 500 * KB, interactiveMs: 1500 };
const admin = { user: 'budget', pass: 'budget-secret-pw' };

// Records when a selector first appears, from the page's own clock
// (milliseconds since navigation start), without waiting on the test's polling.
const readyProbe = (selector) => {
  const check = () => {
    const el = document.querySelector(selector);
    if (el && !window.__ready) {
      window.__ready = performance.now();
      return true;
    }
    return false;
  };
  new MutationObserver((_, obs) => check() && obs.disconnect()).observe(document, { childList: true, subtree: true });
};

/** Loads url three times (cache off) and keeps the median interactive time. */
async function measure(context, url, selector) {
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(await measureOnce(context, url, selector));
  runs.sort((a, b) => a.interactiveMs - b.interactiveMs);
  return { ...runs[1], runsMs: runs.map((r) => r.interactiveMs) };
}

async function measureOnce(context, url, selector) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  let transferred = 0;
  const assets = new Set();
  cdp.on('Network.loadingFinished', (e) => (transferred += e.encodedDataLength));
  cdp.on('Network.responseReceived', (e) => {
    if (/\.(js|css)$/.test(new URL(e.response.url).pathname)) assets.add(e.response.url);
  });
  await page.addInitScript(readyProbe, selector);
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => window.__ready > 0, null, { timeout: 20000 });
  await page.waitForLoadState('networkidle').catch(() => {});
  const interactive = await page.evaluate(() => window.__ready);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
  await page.close();
  return { interactiveMs: Math.round(interactive), transferred, assets: [...assets] };
}

test('first-load budgets', { timeout: 180000 }, async (t) => {
  const server = await startCuttle({ admin });
  const browser = await launch();
  t.after(async () => {
    await browser.close();
    await server.stop();
  });
  const base = server.base;

  const html = await (await fetch(base + '/')).text();
  assert.ok(firstLoadAssets(html).length > 0, 'index.html loads no JS or CSS');
  const gzipped = async (urls) => {
    let n = 0;
    for (const u of urls) n += gzipSync(Buffer.from(await (await fetch(u)).arrayBuffer()), { level: 9 }).length;
    return n;
  };

  // Warm the browser (process start, fonts) on a page that is not ours, as a
  // user's browser is warm; our files are still fetched afresh (cache off).
  const warm = await browser.context.newPage();
  await warm.goto(base + '/online.txt');
  await warm.close();

  // Logged out: the login page.
  const login = await measure(browser.context, base + '/', '#auth-user');
  // Logged in: the dashboard with the API calls it makes.
  const r = await browser.context.request.post(base + '/api/login', { data: { user: admin.user, pass: admin.pass } });
  assert.equal(r.status(), 200, `login failed: ${r.status()} ${await r.text()}`);
  const dash = await measure(browser.context, base + '/', '[data-testid=job-progress]');
  // Every JS and CSS file either page fetched (the index's and the lazily
  // loaded dashboard shell), not only what index.html names.
  const jsCssGzip = await gzipped(new Set([...login.assets, ...dash.assets]));

  const result = {
    jsCssGzipBytes: jsCssGzip,
    login: { interactiveMs: login.interactiveMs, runsMs: login.runsMs, transferred: login.transferred },
    dashboard: { interactiveMs: dash.interactiveMs, runsMs: dash.runsMs, transferred: dash.transferred },
    assets: [...new Set([...login.assets, ...dash.assets])].map((u) => new URL(u).pathname),
    budget: BUDGET,
    cpuThrottling: 4,
    loadAverage: loadavg()[0],
  };
  writeFileSync(outPath('budgets.json'), JSON.stringify(result, null, 2) + '\n');
  t.diagnostic(`JS+CSS gzipped ${jsCssGzip} B; login page ${login.transferred} B, interactive ${login.interactiveMs} ms (runs ${login.runsMs}); dashboard ${dash.transferred} B, interactive ${dash.interactiveMs} ms (runs ${dash.runsMs}); 4x CPU throttling`);

  assert.ok(jsCssGzip <= BUDGET.jsCssGzip, `first-load JS+CSS is ${jsCssGzip} B gzipped; budget ${BUDGET.jsCssGzip}`);
  for (const [name, m] of [['login page', login], ['dashboard', dash]]) {
    assert.ok(m.transferred <= BUDGET.transferred, `${name} transferred ${m.transferred} B; budget ${BUDGET.transferred}`);
    const msg = `${name} interactive after ${m.interactiveMs} ms at 4x throttling; budget ${BUDGET.interactiveMs}`;
    if (process.env.WEB_BUDGET_STRICT === '1') assert.ok(m.interactiveMs <= BUDGET.interactiveMs, msg);
    else if (m.interactiveMs > BUDGET.interactiveMs) t.diagnostic(`WARNING: ${msg} (load average ${loadavg()[0].toFixed(1)})`);
  }
});

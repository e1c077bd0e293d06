// End-to-end: settings, accounts, keys and application-key approval in
// Chromium against a real cuttle. Same rules as flow.test.mjs: a step whose
// API this build lacks is TODO with the missing route named; anything else
// that goes wrong fails.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { corpusDir, launch, outPath, startCuttle, stepper } from './harness.mjs';

const admin = { user: 'admin', pass: 'e2e-secret-pw' };

test('settings, accounts and keys', { timeout: 5 * 60 * 1000 }, async (t) => {
  const server = await startCuttle({ admin });
  const browser = await launch({ width: 1280, height: 800 });
  const page = await browser.context.newPage();
  const base = server.base;
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  t.after(async () => {
    await browser.close();
    await server.stop();
  });

  const step = stepper(t, page, base, 'settings');
  const api = async (path) => (await page.request.get(base + path)).json();
  async function section(label) {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('navigation', { name: 'Settings sections' }).getByRole('button', { name: label }).click();
  }
  async function login(pass) {
    await page.getByLabel('User name').fill(admin.user);
    await page.getByLabel('Password', { exact: true }).fill(pass);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByTestId('logout').waitFor({ timeout: 10000 });
  }

  const LOGIN = 'log in';
  await step(LOGIN, {}, async () => {
    await page.goto(base + '/settings');
    await page.getByRole('heading', { name: 'Log in to cuttle' }).waitFor();
    await login(admin.pass);
    // The bookmarked client route survives the login.
    await page.getByRole('navigation', { name: 'Settings sections' }).waitFor();
  });

  await step('keyboard: skip link first, sections reachable', { after: [LOGIN] }, async () => {
    await page.goto(base + '/');
    await page.getByTestId('logout').waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Skip to content');
    await page.getByRole('link', { name: 'Control' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Move' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/control');
  });

  await step('temperature preset saved', { needs: [['POST', '/api/settings']], after: [LOGIN] }, async () => {
    await section('Temperatures');
    await page.getByLabel('Preset name').first().fill('E2E');
    await page.getByLabel('Tool temperature').first().fill('199');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('toast').filter({ hasText: 'Settings saved' }).waitFor();
    const s = await api('/api/settings');
    assert.deepEqual(
      { name: s.temperature.profiles[0].name, extruder: s.temperature.profiles[0].extruder },
      { name: 'E2E', extruder: 199 },
    );
  });

  await step('printer profile saved', { needs: [['GET', '/api/printerprofiles'], ['PATCH', '/api/printerprofiles/_default']], after: [LOGIN] }, async () => {
    await section('Printer profile');
    await page.locator('#pp-name').fill('E2E printer');
    await page.locator('#pp-w').fill('222');
    await page.getByRole('button', { name: 'Save profile' }).click();
    await page.getByTestId('toast').filter({ hasText: 'Printer profile saved' }).waitFor();
    const r = await api('/api/printerprofiles');
    const p = Object.values(r.profiles).find((x) => x.name === 'E2E printer');
    assert.ok(p, `no profile named "E2E printer": ${JSON.stringify(Object.values(r.profiles).map((x) => x.name))}`);
    assert.equal(p.volume.width, 222);
  });

  await step('API key regenerated', { needs: [['POST', '/api/access/users/admin/apikey']], after: [LOGIN] }, async () => {
    await section('Account');
    const before = (await api('/api/access/users/admin')).apikey;
    await page.getByRole('button', { name: /^(Regenerate|Generate)$/ }).click();
    if (before) await page.getByTestId('confirm-yes').click();
    await page.waitForFunction((b) => {
      const k = document.querySelector('[data-testid=apikey]')?.textContent ?? '';
      return k.length >= 32 && !k.includes('•') && k !== b;
    }, before);
    const shown = await page.getByTestId('apikey').textContent();
    const now = (await api('/api/access/users/admin')).apikey;
    assert.equal(shown, now, 'the page shows another key than the server holds');
    const v = await fetch(base + '/api/version', { headers: { 'X-Api-Key': shown } });
    assert.equal(v.status, 200, 'the new key does not work');
  });

  const APPKEY = 'application key approved in a prompt';
  await step(APPKEY, { needs: [['POST', '/plugin/appkeys/request'], ['POST', '/plugin/appkeys/decision/x']], after: [LOGIN] }, async () => {
    const req = await fetch(base + '/plugin/appkeys/request', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ app: 'E2E Slicer', user: admin.user }),
    });
    assert.equal(req.status, 201);
    const token = new URL(req.headers.get('location')).pathname.split('/').pop();
    // Keep the request alive (it dies when not polled for 5 s) until decided.
    let key = null;
    const poller = (async () => {
      for (let i = 0; i < 60 && !key; i++) {
        const r = await fetch(`${base}/plugin/appkeys/request/${token}`);
        if (r.status === 200) key = (await r.json()).api_key;
        else if (r.status !== 202) throw new Error(`poll answered ${r.status}`);
        else await new Promise((res) => setTimeout(res, 500));
      }
    })();
    const prompt = page.getByTestId('access-request').filter({ hasText: 'E2E Slicer' });
    await prompt.waitFor({ timeout: 15000 });
    await page.screenshot({ path: outPath('appkey-prompt-1280x800.png') });
    await prompt.getByRole('button', { name: 'Allow' }).click();
    await poller;
    assert.ok(key && key.length >= 32, `no key delivered: ${key}`);
    const v = await fetch(base + '/api/version', { headers: { 'X-Api-Key': key } });
    assert.equal(v.status, 200, 'the approved key does not work');
    await prompt.waitFor({ state: 'detached' });
    // Listed, then revoked from the account page.
    await section('Account');
    const row = page.getByRole('row').filter({ hasText: 'E2E Slicer' });
    await row.waitFor();
    await row.getByRole('button', { name: 'Revoke' }).click();
    await page.getByTestId('confirm-yes').click();
    await row.waitFor({ state: 'detached' });
    const after = await fetch(base + '/api/version', { headers: { 'X-Api-Key': key } });
    assert.equal(after.status, 401, 'the revoked key still works');
  });

  await step('users added and deleted', { needs: [['POST', '/api/access/users']], after: [LOGIN] }, async () => {
    await section('Users');
    await page.getByLabel('New user name').fill('bob');
    await page.getByLabel('New user password').fill('bob-secret-pw');
    await page.getByRole('button', { name: 'Add' }).click();
    const row = page.getByRole('row').filter({ hasText: 'bob' });
    await row.waitFor();
    assert.ok((await api('/api/access/users')).users.some((u) => u.name === 'bob'));
    await row.getByRole('button', { name: 'Delete' }).click();
    await page.getByTestId('confirm-yes').click();
    await row.waitFor({ state: 'detached' });
    assert.ok(!(await api('/api/access/users')).users.some((u) => u.name === 'bob'));
  });

  await step('own password changed', { needs: [['PUT', '/api/access/users/admin/password']], after: [LOGIN] }, async () => {
    await section('Account');
    await page.locator('#pw-cur').fill(admin.pass);
    await page.locator('#pw-new').fill('e2e-new-secret');
    await page.locator('#pw-new2').fill('e2e-new-secret');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByTestId('toast').filter({ hasText: 'Password changed' }).waitFor();
    await page.getByTestId('logout').click();
    await login('e2e-new-secret');
  });

  await step('dark theme', { after: [LOGIN] }, async () => {
    await page.getByRole('link', { name: 'Dashboard' }).click();
    while ((await page.evaluate(() => document.documentElement.dataset.theme)) !== 'dark') {
      await page.getByRole('button', { name: /Colour theme/ }).click();
    }
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.notEqual(bg, 'rgb(244, 245, 247)', 'the dark theme kept the light background');
    await page.screenshot({ path: outPath('dashboard-dark-1280x800.png') });
    await page.reload();
    await page.getByTestId('logout').waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark', 'the theme was not remembered');
  });

  await step(
    'files: drop to upload, folder, move, search, download, delete',
    { needs: [['POST', '/api/files/local'], ['POST', '/api/files/local/x.gcode'], ['DELETE', '/api/files/local/x.gcode']], after: [LOGIN] },
    async () => {
      const name = 'cura_cube20.gcode';
      const bytes = readFileSync(join(corpusDir, name));
      await page.getByRole('link', { name: 'Files' }).click();
      const panel = page.getByTestId('files');
      await panel.waitFor();
      // Drag and drop a file onto the panel.
      const dt = await page.evaluateHandle(
        ([b64, n]) => {
          const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
          const d = new DataTransfer();
          d.items.add(new File([bin], n, { type: 'application/octet-stream' }));
          return d;
        },
        [bytes.toString('base64'), name],
      );
      await panel.dispatchEvent('dragover', { dataTransfer: dt });
      await panel.dispatchEvent('drop', { dataTransfer: dt });
      const item = (path) => page.locator(`[data-testid=file-item][data-path="${path}"]`);
      await item(name).waitFor({ timeout: 20000 });
      // A folder, then move the file into it.
      await page.getByLabel('New folder name').fill('e2e');
      await page.getByRole('button', { name: 'Create folder' }).click();
      await item('e2e').waitFor();
      await item(name).getByRole('button', { name }).click();
      await item(name).getByRole('button', { name: 'Move' }).click();
      await item(name).getByRole('combobox').selectOption('e2e');
      await item(name).getByRole('button', { name: 'Move' }).last().click();
      await item(name).waitFor({ state: 'detached' });
      // Search finds it inside the folder.
      await page.getByLabel('Search files').fill('cube20');
      const moved = item(`e2e/${name}`);
      await moved.waitFor();
      await moved.getByRole('button', { name }).click();
      const href = await moved.getByRole('link', { name: 'Download' }).getAttribute('href');
      const dl = await page.request.get(new URL(href, base).href);
      assert.equal(dl.status(), 200);
      assert.equal((await dl.body()).length, bytes.length, 'the download differs in size from the upload');
      await moved.getByTestId('file-delete').click();
      await page.getByTestId('confirm-yes').click();
      await moved.waitFor({ state: 'detached' });
      await page.getByLabel('Search files').fill('');
      await item('e2e').getByRole('button', { name: 'Delete folder e2e' }).click();
      await page.getByTestId('confirm-yes').click();
      await item('e2e').waitFor({ state: 'detached' });
      const left = await api('/api/files/local?recursive=true');
      assert.deepEqual(left.files, [], 'files remain after deleting everything');
    },
  );

  await step('slicer thumbnail and analysis shown', { needs: [['POST', '/api/files/local']], after: [LOGIN] }, async () => {
    // A tiny sliced file with a PrusaSlicer thumbnail block (a 1x1 PNG).
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
    const gcode = [
      '; generated by PrusaSlicer 2.5.0 on 2026-11-28 at 12:00:00 UTC',
      ';',
      `; thumbnail begin 1x1 ${png.length}`,
      `; ${png}`,
      '; thumbnail end',
      ';',
      'G28',
      'G1 Z0.2 F600',
      'G1 X10 Y10 E1 F1200',
      'G1 X20 Y10 E2',
      '',
    ].join('\n');
    await page.getByRole('link', { name: 'Files' }).click();
    await page.getByTestId('upload-input').setInputFiles({ name: 'thumb.gcode', mimeType: 'application/octet-stream', buffer: Buffer.from(gcode) });
    const item = page.locator('[data-testid=file-item][data-path="thumb.gcode"]');
    await item.waitFor({ timeout: 20000 });
    // The analysis may finish after the upload: the listing follows the events.
    await item.getByRole('button', { name: 'thumb.gcode' }).click();
    const img = item.getByRole('img', { name: 'Preview of thumb.gcode' });
    await img.waitFor({ timeout: 20000 });
    await page.waitForFunction(() => document.querySelector('img[alt="Preview of thumb.gcode"]')?.naturalWidth === 1, null, { timeout: 10000 });
    await item.getByText('Print time').waitFor();
  });

  await step('webcam tab hidden until a camera answers', { needs: [['POST', '/api/settings']], after: [LOGIN] }, async (st) => {
    // A stand-in camera on loopback serving one PNG frame.
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==', 'base64');
    const cam = createServer((req, res) => res.writeHead(200, { 'Content-Type': 'image/png' }).end(png));
    await new Promise((r) => cam.listen(0, '127.0.0.1', r));
    st.after(() => new Promise((r) => cam.close(r)));
    const url = `http://127.0.0.1:${cam.address().port}/snapshot.png`;
    await page.goto(base + '/');
    await page.getByTestId('logout').waitFor();
    await page.locator('nav[data-webcam=none]').waitFor(); // the default camera URL was probed and found absent
    assert.equal(await page.getByRole('link', { name: 'Webcam' }).count(), 0, 'a Webcam tab with no camera behind it');
    await section('Webcam');
    await page.getByLabel('Enabled').check();
    await page.getByLabel('Stream URL').fill(url);
    await page.getByLabel('Snapshot URL').fill(url);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('toast').filter({ hasText: 'Settings saved' }).first().waitFor();
    await page.getByRole('link', { name: 'Webcam' }).click({ timeout: 15000 });
    await page.waitForFunction(() => document.querySelector('img[alt="Live webcam view"]')?.naturalWidth === 1, null, { timeout: 10000 });
  });

  await t.test('no uncaught errors in the page', () => assert.deepEqual(errors, []));
});

// End-to-end: the Files panel lists the printer's SD card beside the local
// files. Connects to VIRTUAL (whose card starts empty), puts a file on the
// card with "Upload to SD" (stored locally, then streamed with M28/M29),
// and selects and deletes it from the panel. Same rules as flow.test.mjs: a
// step whose API this build lacks is TODO; anything else that goes wrong fails.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, outPath, startCuttle, stepper } from './harness.mjs';

const admin = { user: 'admin', pass: 'e2e-secret-pw' };
const GCODE = 'G28\nG1 X10 Y10 F3000\nG1 X20 Y20\nM400\n';

test('SD card files in the Files panel', { timeout: 3 * 60 * 1000 }, async (t) => {
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

  const step = stepper(t, page, base, 'sdcard');
  const sdItem = () => page.locator('[data-testid=file-item][data-origin=sdcard]');

  const CONNECT = 'log in and connect to VIRTUAL; its card is ready';
  await step(CONNECT, { needs: [['POST', '/api/connection']] }, async () => {
    await page.goto(base + '/');
    await page.getByLabel('User name').fill(admin.user);
    await page.getByLabel('Password', { exact: true }).fill(admin.pass);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByTestId('logout').waitFor({ timeout: 10000 });
    // No SD controls while no printer reports a card.
    assert.equal(await page.getByTestId('upload-sd-button').count(), 0, '"Upload to SD" shown with no card ready');
    await page.locator('#conn-port').selectOption('VIRTUAL');
    await page.getByTestId('connect').click();
    await page.waitForFunction(() => /^Operational/.test(document.querySelector('[data-testid=printer-state]')?.textContent ?? ''), null, { timeout: 30000 });
    await page.getByTestId('upload-sd-button').waitFor({ timeout: 15000 });
  });

  const UPLOAD = 'upload to SD: the file is listed with an SD mark';
  await step(UPLOAD, { needs: [['POST', '/api/files/sdcard'], ['GET', '/api/files']], after: [CONNECT] }, async () => {
    await page.getByTestId('upload-sd-input').setInputFiles({ name: 'sdtest.gcode', mimeType: 'application/octet-stream', buffer: Buffer.from(GCODE) });
    await sdItem().first().waitFor({ timeout: 30000 });
    assert.equal(await sdItem().count(), 1);
    assert.match(await sdItem().textContent(), /sdtest/i);
    assert.match(await sdItem().locator('.origin').textContent(), /SD/);
    // The local copy the upload went through is listed too, unmarked.
    const local = page.locator('[data-testid=file-item][data-origin=local][data-path="sdtest.gcode"]');
    await local.waitFor({ timeout: 10000 });
    assert.equal(await local.locator('.origin').count(), 0);
    const api = await (await page.request.get(base + '/api/files/sdcard')).json();
    assert.equal(api.files.length, 1, `the card holds ${JSON.stringify(api.files)}`);
    assert.equal(await sdItem().getAttribute('data-path'), api.files[0].path);
  });

  await step('the storage filter shows one origin', { after: [UPLOAD] }, async () => {
    await page.getByTestId('files-origin').selectOption('sdcard');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=file-item][data-origin=local]').length === 0, null, { timeout: 5000 });
    assert.equal(await sdItem().count(), 1);
    await page.getByTestId('files-origin').selectOption('local');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=file-item][data-origin=sdcard]').length === 0, null, { timeout: 5000 });
    await page.getByTestId('files-origin').selectOption('all');
    await sdItem().waitFor({ timeout: 5000 });
  });

  const SELECT = 'select the SD file: the job shows it and the entry is highlighted';
  await step(SELECT, { needs: [['POST', '/api/files/sdcard/x.gco']], after: [UPLOAD] }, async () => {
    await page.waitForFunction(() => /^Operational/.test(document.querySelector('[data-testid=printer-state]')?.textContent ?? ''), null, { timeout: 30000 });
    const name = (await sdItem().locator('.name').textContent()).replace(/\s*SD\s*$/, '').trim();
    await sdItem().getByTestId('file-select').click();
    await page.waitForFunction((n) => (document.querySelector('[data-testid=job-file]')?.textContent ?? '').includes(n), name, { timeout: 10000 });
    assert.match(await page.getByTestId('job-file').textContent(), /\(SD\)/);
    await page.waitForFunction(() => document.querySelector('[data-testid=file-item][data-origin=sdcard]')?.classList.contains('selected'), null, { timeout: 5000 });
    // Only the SD entry: the local file of the same name is not the job.
    assert.equal(await page.locator('[data-testid=file-item].selected').count(), 1);
    const job = await (await page.request.get(base + '/api/job')).json();
    assert.equal(job.job.file.origin, 'sdcard');
    await page.screenshot({ path: outPath('files-sdcard-1280x800.png') });
  });

  await step('delete the SD file, after confirming', { needs: [['DELETE', '/api/files/sdcard/x.gco']], after: [UPLOAD] }, async () => {
    await sdItem().locator('.name').click();
    await sdItem().getByTestId('file-delete').click();
    await page.getByTestId('confirm-yes').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=file-item][data-origin=sdcard]').length === 0, null, { timeout: 15000 });
    const api = await (await page.request.get(base + '/api/files/sdcard')).json();
    assert.deepEqual(api.files, []);
  });

  await t.test('no uncaught errors in the page', () => {
    assert.deepEqual(errors, []);
  });
});

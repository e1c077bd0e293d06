import { launch } from './harness.mjs';
const b = await launch({ width: 360, height: 800 });
const page = await b.context.newPage();
await page.goto('http://127.0.0.1:5871/');
await page.getByLabel('User name').fill('admin');
await page.getByLabel('Password', { exact: true }).fill('check-secret-pw');
await page.getByRole('button', { name: 'Log in' }).click();
await page.getByTestId('logout').waitFor();
await page.getByTestId('connect').click().catch(()=>{});
await page.getByTestId('temp-row-tool0').waitFor({ timeout: 20000 });
await page.waitForTimeout(1000);
console.log(await page.evaluate(() => {
  const W = document.documentElement.clientWidth; const out = [];
  for (const el of document.querySelectorAll('body *')) { const r = el.getBoundingClientRect(); if (r.right > W + 0.5) out.push(el.tagName + '.' + el.className + ' ' + Math.round(r.right)); }
  return [W, document.documentElement.scrollWidth, out.slice(0, 15)];
}));
await page.screenshot({ path: 'e2e-output/probe360.png', fullPage: true });
await b.close();

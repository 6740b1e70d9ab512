// The "Tải Word (.docx)" links of a published test's page in Debian's
// headless Chromium, driven by playwright-core against the real server with
// the `kiemtra demo` school: the teacher logs in, opens the test, clicks the
// link of the second form and gets de-<code>.docx, saved where KT_DOCX_OUT
// says for tests/integration/test_docx_export.py to read back.
//
// Environment: KT_URL, KT_CREDS (demo credentials JSON), KT_TEST (test id),
// KT_DOCX_OUT, KT_SHOTS, KT_PROFILE. Exit 0 and "ALL OK" when every check
// passed; otherwise a FAIL line.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const env = process.env;
for (const k of ['KT_URL', 'KT_CREDS', 'KT_TEST', 'KT_DOCX_OUT']) {
  if (!env[k]) { console.log(`FAIL: ${k} is not set`); process.exit(2); }
}
const BASE = env.KT_URL.replace(/\/$/, '');
const SHOTS = env.KT_SHOTS || os.tmpdir();
const CREDS = JSON.parse(fs.readFileSync(env.KT_CREDS, 'utf8'));
const OVERALL_MS = 90000;

class Fail extends Error {}
const check = (cond, msg) => { if (!cond) throw new Fail(msg); };
const facts = {};

const profile = fs.mkdtempSync(path.join(env.KT_PROFILE || os.tmpdir(), 'profile-'));
let ctx = null;
let page;
const pageErrors = [];
async function cleanup() {
  try { if (ctx) await ctx.close(); } catch (e) { /* already gone */ }
  fs.rmSync(profile, { recursive: true, force: true });
}
const overall = setTimeout(async () => {
  console.log(`FAIL: overall time limit of ${OVERALL_MS / 1000} s reached`);
  await cleanup();
  process.exit(3);
}, OVERALL_MS);

async function waitFor(desc, fn, arg, timeout = 10000) {
  try {
    await page.waitForFunction(fn, arg, { timeout, polling: 100 });
  } catch (e) {
    throw new Fail(`${desc} (not within ${timeout} ms)`);
  }
}

async function main() {
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium', headless: true, locale: 'vi-VN',
    viewport: { width: 1366, height: 768 }, args: ['--no-sandbox'], acceptDownloads: true,
  });
  page = ctx.pages()[0] || await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));

  await page.goto(BASE + '/', { waitUntil: 'domcontentloaded' });
  await page.locator('#view-login').waitFor({ state: 'visible' });
  await page.fill('#login-user', CREDS.teacher.username);
  await page.fill('#login-pass', CREDS.teacher.password);
  await page.click('#login-submit');
  await page.locator('#view-app').waitFor({ state: 'visible' });
  await waitFor('the start screen is drawn', () => !document.querySelector('#screen .loading'));

  await page.evaluate((h) => { location.hash = h; }, `#/tests/${env.KT_TEST}`);
  await waitFor('the published test page has its Word links', () => document.querySelectorAll('.docx-links a[data-code]').length > 1, null, 15000);
  const links = await page.evaluate(() => Array.from(document.querySelectorAll('.docx-links a[data-code]')).map((a) => ({ code: a.dataset.code, text: a.textContent })));
  check(links.every((l) => l.text.startsWith('Tải Word (.docx)') && l.text.includes(l.code)), `link texts: ${JSON.stringify(links)}`);
  facts.codes = links.map((l) => l.code);
  const code = links[1].code;
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 30000 }),
    page.click(`.docx-links a[data-code="${code}"]`)]);
  facts.name = dl.suggestedFilename();
  facts.code = code;
  await dl.saveAs(env.KT_DOCX_OUT);
  await waitFor('the download is confirmed', (c) => (document.querySelector('.docx-links [role=status]')?.textContent || '').includes(`Đã tải mã đề ${c}`), code);
  await page.screenshot({ path: path.join(SHOTS, 'staff-test-docx-links-1366.png') });
  check(pageErrors.length === 0, `page errors: ${pageErrors.join(' | ')}`);
}

main().then(async () => {
  console.log('@@ ' + JSON.stringify({ event: 'done', ...facts }));
  clearTimeout(overall);
  await cleanup();
  console.log('ALL OK');
  process.exit(0);
}).catch(async (e) => {
  console.log(`FAIL: ${e instanceof Fail ? e.message : (e && e.stack) || e}`);
  try { await page.screenshot({ path: path.join(SHOTS, 'staff-test-docx-fail.png'), fullPage: true }); } catch (x) { /* none */ }
  clearTimeout(overall);
  await cleanup();
  process.exit(1);
});

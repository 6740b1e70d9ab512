// The import screen with question sheets in Debian's headless Chromium,
// driven by playwright-core against the real server: a teacher picks an
// .xlsx and a .csv, the preview lists each question with its row and the
// CSV's bad row with its error, and "Chỉ nhập các câu hợp lệ" imports the
// good questions.
//
// Run by tests/integration/test_import_xlsx.py, which checks the database
// from the facts printed on the `@@ {"event":"done"}` line.
//
// Environment: KT_URL, KT_USER, KT_PASS, KT_FILES (paths separated by
// newlines), KT_SHOTS, KT_PROFILE. Exit 0 and "ALL OK" when every check
// passed; otherwise a FAIL line.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const env = process.env;
for (const k of ['KT_URL', 'KT_USER', 'KT_PASS', 'KT_FILES']) {
  if (!env[k]) { console.log(`FAIL: ${k} is not set`); process.exit(2); }
}
const BASE = env.KT_URL.replace(/\/$/, '');
const SHOTS = env.KT_SHOTS || os.tmpdir();
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
    const state = await page.evaluate(() => ({
      preview: document.querySelector('.import-preview')?.textContent,
    })).catch(() => ({}));
    throw new Fail(`${desc} (not within ${timeout} ms; page: ${JSON.stringify(state)})`);
  }
}

async function main() {
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium', headless: true, locale: 'vi-VN',
    viewport: { width: 1366, height: 768 }, args: ['--no-sandbox'],
  });
  page = ctx.pages()[0] || await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));

  await page.goto(BASE + '/', { waitUntil: 'domcontentloaded' });
  await page.locator('#view-login').waitFor({ state: 'visible' });
  await page.fill('#login-user', env.KT_USER);
  await page.fill('#login-pass', env.KT_PASS);
  await page.click('#login-submit');
  await page.locator('#view-app').waitFor({ state: 'visible' });
  await waitFor('the start screen is drawn', () => !document.querySelector('#screen .loading'));

  await page.evaluate(() => { location.hash = '#/import'; });
  await page.locator('#import-files').waitFor({ state: 'attached' });
  const accept = await page.getAttribute('#import-files', 'accept');
  check(/\.xlsx/.test(accept) && /\.csv/.test(accept), `the file picker accepts ${accept}`);
  facts.hint = await page.locator('#import-hint').innerText();
  await page.setInputFiles('#import-files', env.KT_FILES.split('\n'));
  await waitFor('the preview lists the questions with their rows and the bad row with its error', () => {
    const t = document.querySelector('table.import-table');
    const e = document.querySelector('.import-errors');
    return t && /Câu 1 \(dòng 2\)/.test(t.textContent) && /Câu 3 \(dòng 4\)/.test(t.textContent)
      && e && /Dòng 3 \(Câu 2\): không tìm thấy đáp án/.test(e.textContent);
  }, null, 20000);
  facts.preview = await page.locator('table.import-table tbody').innerText();
  facts.error = (await page.locator('.import-errors li').first().innerText()).trim();
  await page.screenshot({ path: path.join(SHOTS, 'staff-import-xlsx-1366.png'), fullPage: true });
  await page.click('button:has-text("Chỉ nhập các câu hợp lệ")');
  await page.locator('dialog.kt-dialog[open] button', { hasText: 'Nhập' }).first().click();
  await waitFor('the good questions are imported', () => document.querySelectorAll('table.import-done tr').length > 1, null, 20000);
  facts.imported = await page.evaluate(() => Array.from(document.querySelectorAll('table.import-done tbody tr'))
    .filter((tr) => tr.cells[2] && tr.cells[2].textContent === 'mới')
    .map((tr) => Number(tr.querySelector('a').getAttribute('href').split('/')[2])));
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
  try { await page.screenshot({ path: path.join(SHOTS, 'staff-import-xlsx-fail.png'), fullPage: true }); } catch (x) { /* none */ }
  clearTimeout(overall);
  await cleanup();
  process.exit(1);
});

// What the staff page scripts (staff_*.mjs) share: the environment check, a
// fresh Chromium profile, the overall time limit, check() and the facts,
// Debian's /usr/bin/chromium through playwright-core, the staff login and
// screenshots, and the output protocol the Python side reads: facts on one
// `@@ {"event":"done",...}` line, then "ALL OK" (exit 0); otherwise a
// "FAIL: ..." line (exit 1, 2 for a missing variable, 3 for the time limit)
// and a full-page screenshot of the failure.
//
// A script calls setup() first, then run(main):
//   setup({ need: ['KT_URL', ...], overallMs, failShot: 'x-FAIL.png',
//           launch: { timezoneId: ... }, dump: { status: '.monitor-status' } });
// `launch` is merged into the browser's options (zone, viewport, ...);
// `dump` adds the text of these elements to the page state that a failed
// waitFor() reports. `page` is a live binding: set once run() has started.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const env = process.env;
export const SHOTS = env.KT_SHOTS || os.tmpdir();
export const BASE = (env.KT_URL || '').replace(/\/$/, '');
export const facts = {};
export let page = null;

export class Fail extends Error {}
export const check = (cond, msg) => { if (!cond) throw new Fail(msg); };
const t0 = Date.now();
export const log = (msg) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
export const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));

let opts = null;
let ctx = null;
let profile = null;
let overall = null;
let timedOut = false;
const pageErrors = [];

async function cleanup() {
  try { if (ctx) await ctx.close(); } catch (e) { /* already gone */ }
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
}

/* The environment check, the profile and the overall time limit. */
export function setup(o) {
  opts = { dump: {}, launch: {}, ...o };
  for (const k of opts.need) {
    if (!env[k]) { console.log(`FAIL: ${k} is not set`); process.exit(2); }
  }
  profile = fs.mkdtempSync(path.join(env.KT_PROFILE || os.tmpdir(), 'profile-'));
  overall = setTimeout(async () => {
    timedOut = true;
    console.log(`FAIL: overall time limit of ${opts.overallMs / 1000} s reached`);
    await cleanup();
    process.exit(3);
  }, opts.overallMs);
}

/* Launches Chromium, runs MAIN, and ends the process with the protocol's
 * last lines. Errors thrown on the page and console errors fail the run. */
export async function run(main) {
  try {
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium', headless: true, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh',
      viewport: { width: 1366, height: 768 }, args: ['--no-sandbox'], acceptDownloads: true, ...opts.launch,
    });
    page = ctx.pages()[0] || await ctx.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) pageErrors.push(m.text()); });
    await main();
    check(!pageErrors.length, `errors on the page: ${pageErrors.join(' | ')}`);
    console.log('@@ ' + JSON.stringify({ event: 'done', ...facts }));
  } catch (e) {
    if (timedOut) await new Promise(() => {}); // the time limit ends the process (exit 3)
    clearTimeout(overall);
    console.log(`FAIL: ${e instanceof Fail ? e.message : (e && e.stack) || e}`);
    try { if (page) await page.screenshot({ path: path.join(SHOTS, opts.failShot), fullPage: true }); } catch (x) { /* gone */ }
    await cleanup();
    process.exit(1);
  }
  clearTimeout(overall);
  await cleanup();
  console.log('ALL OK');
  process.exit(0);
}

/* Waits for FN(ARG) to be true on the page; on a timeout, fails with the
 * page's state (address, title, focus, error notices and the `dump` texts). */
export async function waitFor(desc, fn, arg, timeout = 10000) {
  try {
    await page.waitForFunction(fn, arg, { timeout, polling: 100 });
  } catch (e) {
    const state = await page.evaluate((dump) => ({
      hash: location.hash, title: document.getElementById('page-title')?.textContent,
      focus: document.activeElement && (document.activeElement.id || document.activeElement.tagName),
      alerts: Array.from(document.querySelectorAll('.notice.error, .field-error')).map((n) => n.textContent).join(' | '),
      ...Object.fromEntries(Object.entries(dump).map(([k, sel]) => [k, document.querySelector(sel)?.textContent.slice(0, 600)])),
    }), opts.dump).catch(() => ({}));
    throw new Fail(`${desc} (not within ${timeout} ms; page: ${JSON.stringify(state)})`);
  }
}

/* NAME-WIDTH.png at each of WIDTHS (1366×768, 390×844), the toast removed
 * first; at 390 px the page must not scroll sideways. */
export async function shot(name, full = true, widths = [1366, 390]) {
  await page.evaluate(() => { const t = document.getElementById('toast'); if (t) t.remove(); });
  for (const width of widths) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 768 });
    await page.waitForTimeout(width === 390 ? 200 : 150);
    if (width === 390) {
      const sw = await page.evaluate(() => document.documentElement.scrollWidth);
      check(sw <= 390, `${name}: the page scrolls sideways at 390 px (${sw} px wide)`);
    }
    await page.screenshot({ path: path.join(SHOTS, `${name}-${width}.png`), fullPage: full });
  }
  await page.setViewportSize({ width: 1366, height: 768 });
}

/* The login form at / (staff and students alike), submitted. */
export async function login(username, password) {
  await page.goto(BASE + '/', { waitUntil: 'domcontentloaded' });
  await page.locator('#view-login').waitFor({ state: 'visible' });
  await page.fill('#login-user', username);
  await page.fill('#login-pass', password);
  await page.click('#login-submit');
}
/* A staff login (WHO: {username, password}) up to the drawn start screen. */
export async function staffLogin(who) {
  await login(who.username, who.password);
  await page.locator('#view-app').waitFor({ state: 'visible' });
  await waitFor('the start screen is drawn', () => !document.querySelector('#screen .loading'));
}
export async function logout() {
  await page.click('#logout');
  await page.locator('#view-login').waitFor({ state: 'visible' });
}
/* Goes to a staff screen by its address and waits until it is drawn. */
export async function open(hash) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  await waitFor(`${hash} is drawn`, (h) => location.hash.startsWith(h.split('?')[0]) && !document.querySelector('#screen .loading'), hash);
}
/* Clicks the button LABEL of the open dialog. */
export const dlg = (label) => page.locator('dialog.kt-dialog[open] button', { hasText: label }).first().click();

// The student page in Debian's headless Chromium, driven by playwright-core.
//
// Run by tests/integration/test_browser.py, which starts the server, creates
// the school, the items and the sessions, and answers the checkpoints this
// script prints as `@@ {"event": ...}` lines (it checks the database,
// releases results, moves a deadline) with one JSON line on stdin.
//
// Environment: KT_URL, KT_USER, KT_PASSWORD (KT_CODE: log in with that exam code), KT_SESSION_TITLE,
// KT_LATER_TITLE, KT_SHORT_TITLE, KT_SHOTS (directory for screenshots),
// KT_PROFILE (where the fresh Chromium profile is made).
// Exit 0 and "ALL OK" when every check passed; otherwise a FAIL line.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

const env = process.env;
for (const k of ['KT_URL', 'KT_USER', 'KT_PASSWORD', 'KT_SESSION_TITLE', 'KT_LATER_TITLE', 'KT_SHORT_TITLE']) {
  if (!env[k]) { console.log(`FAIL: ${k} is not set`); process.exit(2); }
}
const BASE = env.KT_URL.replace(/\/$/, '');
const SHOTS = env.KT_SHOTS || os.tmpdir();
const OVERALL_MS = 85000;
const t0 = Date.now();

class Fail extends Error {}
const check = (cond, msg) => { if (!cond) throw new Fail(msg); };
const log = (msg) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------ the line protocol
const rl = readline.createInterface({ input: process.stdin });
const inbox = [];
let waiter = null;
rl.on('line', (l) => { if (waiter) { const w = waiter; waiter = null; w(l); } else inbox.push(l); });
async function sync(event, data, timeoutMs = 15000) {
  console.log('@@ ' + JSON.stringify({ event, ...data }));
  const line = inbox.length ? inbox.shift() : await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { waiter = null; reject(new Fail(`no reply to "${event}" within ${timeoutMs} ms`)); }, timeoutMs);
    waiter = (l) => { clearTimeout(timer); resolve(l); };
  });
  const reply = JSON.parse(line);
  check(reply.ok, `the test side refused "${event}": ${line}`);
  return reply;
}

// ------------------------------------------------------------ browser
// A fresh profile each run (the test side gives one inside its cluster directory).
const profile = fs.mkdtempSync(path.join(env.KT_PROFILE || os.tmpdir(), 'profile-'));
let ctx = null;
const pageErrors = [];
const cspErrors = [];

async function cleanup() {
  try { if (ctx) await ctx.close(); } catch (e) { /* already gone */ }
  fs.rmSync(profile, { recursive: true, force: true });
}
const overall = setTimeout(async () => {
  console.log(`FAIL: overall time limit of ${OVERALL_MS / 1000} s reached`);
  await cleanup();
  process.exit(3);
}, OVERALL_MS);

let page;
async function waitFor(desc, fn, arg, timeout = 6000) {
  try {
    await page.waitForFunction(fn, arg, { timeout, polling: 100 });
  } catch (e) {
    const state = await page.evaluate(() => ({
      view: document.body.dataset.view,
      save: document.getElementById('save-status')?.textContent,
      timer: document.getElementById('timer')?.textContent,
      alert: document.getElementById('test-alert')?.textContent,
    })).catch(() => ({}));
    throw new Fail(`${desc} (not within ${timeout} ms; page: ${JSON.stringify(state)})`);
  }
}
const visible = (sel) => page.locator(sel).isVisible();
const text = (sel) => page.locator(sel).innerText();
const noHScroll = () => page.evaluate(() => ({
  sw: document.documentElement.scrollWidth, iw: window.innerWidth,
}));
async function assertNoHScroll(where) {
  const { sw, iw } = await noHScroll();
  check(sw <= iw, `horizontal scroll ${where}: scrollWidth ${sw} > innerWidth ${iw}`);
}
const attemptId = () => page.evaluate(() => sessionStorage.getItem('kiemtra.attempt'));
const journal = () => page.evaluate(() => {
  const id = sessionStorage.getItem('kiemtra.attempt');
  return JSON.parse(localStorage.getItem('kiemtra.journal.' + id) || 'null');
});
// Saved: the indicator says "Đã lưu" (or, with refusedOk, names the refused
// answers only) and the journal has every given answer acknowledged.
async function waitSaved(desc, refs, refusedOk = false) {
  await waitFor(`${desc}: the indicator says "Đã lưu" and the journal has every answer acknowledged`,
    ([refs, refusedOk]) => {
      const s = document.getElementById('save-status');
      const id = sessionStorage.getItem('kiemtra.attempt');
      const j = JSON.parse(localStorage.getItem('kiemtra.journal.' + id) || 'null');
      const shown = (s.dataset.state === 'saved' && s.textContent.trim() === 'Đã lưu') ||
        (refusedOk && s.dataset.state === 'refused');
      return shown && j && refs.every((r) => j.answers[r] && j.answers[r].acked === true);
    }, [refs, refusedOk], 8000);
}
async function goToKind(kind) {
  const btn = page.locator(`.nav-item[data-kind="${kind}"]`).first();
  if (!(await btn.isVisible())) { // the collapsed navigator on a phone
    await page.click('#nav-toggle');
  }
  await btn.click();
  await waitFor(`question of kind ${kind} on screen`, (k) => document.getElementById('question').dataset.kind === k, kind);
  return page.evaluate(() => document.getElementById('question').dataset.ref);
}
function timerSeconds(t) {
  const m = /^(?:(\d+):)?(\d{1,2}):(\d{2})$/.exec(t.trim());
  if (!m) return NaN;
  return (Number(m[1] || 0) * 3600) + Number(m[2]) * 60 + Number(m[3]);
}
const vi = (s) => {
  let t = String(s);
  if (t.includes('.')) t = t.replace(/0+$/, '').replace(/\.$/, '');
  return t.replace('.', ',');
};

async function main() {
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1366, height: 768 },
    locale: 'vi-VN',
    timezoneId: 'Asia/Ho_Chi_Minh',
  });
  ctx.setDefaultTimeout(8000);
  page = ctx.pages()[0] || await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content.Security.Policy|Refused to/i.test(m.text())) cspErrors.push(m.text());
  });

  // ---------------------------------------------------------------- login
  log('login page');
  await page.goto(BASE + '/student/', { waitUntil: 'domcontentloaded' });
  check(await page.getAttribute('html', 'lang') === 'vi', 'the page is not marked lang="vi"');
  await page.locator('#view-login').waitFor({ state: 'visible' });
  check((await text('#login-title')).includes('Đăng nhập'), 'login title is not Vietnamese');
  check(await page.locator('label[for=login-user]').count() === 1 && await page.locator('label[for=login-pass]').count() === 1,
    'login inputs have no labels');

  await page.fill('#login-user', env.KT_USER);
  await page.fill('#login-pass', 'mat-khau-sai');
  await page.click('#login-submit');
  await waitFor('wrong password shows the Vietnamese error',
    () => /Sai tên đăng nhập hoặc mật khẩu/.test(document.getElementById('login-error').textContent) &&
      !document.getElementById('login-error').hidden);
  check(await visible('#view-login'), 'a wrong password left the login page');
  await page.screenshot({ path: path.join(SHOTS, 'student-login.png') });
  log('ok: wrong password refused in Vietnamese');

  if (env.KT_CODE) {
    // The exam login code of the slip (migration 0035) instead of the password.
    await page.click('#login-mode');
    check((await text('#login-pass-label')).includes('Mã đăng nhập') &&
      await page.getAttribute('#login-pass', 'type') === 'text', 'the code mode does not relabel the field');
    await page.fill('#login-pass', '0000-0000-0000-0000');
    await page.click('#login-submit');
    await waitFor('a wrong code shows the Vietnamese error',
      () => /Sai tên đăng nhập hoặc mã đăng nhập/.test(document.getElementById('login-error').textContent));
    await page.fill('#login-pass', env.KT_CODE.toLowerCase());
    log('ok: wrong code refused; logging in with the code of the slip');
  } else {
    await page.fill('#login-pass', env.KT_PASSWORD);
  }
  await page.click('#login-submit');
  await page.locator('#view-sessions').waitFor({ state: 'visible' });
  const token = await page.evaluate(() => sessionStorage.getItem('kiemtra.token'));
  check(token && token.length > 20, 'no token in sessionStorage after login');
  log('ok: logged in');

  // ---------------------------------------------------------------- sessions
  const card = page.locator('.session-card', { has: page.locator('h2', { hasText: env.KT_SESSION_TITLE }) });
  await card.waitFor({ state: 'visible' });
  const later = page.locator('.session-card', { has: page.locator('h2', { hasText: env.KT_LATER_TITLE }) });
  await later.waitFor({ state: 'visible' });
  check((await later.innerText()).includes('Chưa đến giờ làm bài'), 'the session of tomorrow does not say it has not opened');
  check(await later.locator('button').count() === 0, 'the session of tomorrow can be started');
  check((await later.innerText()).includes('Thời gian mở'), 'the session window is not shown');
  const start = card.locator('button', { hasText: 'Bắt đầu làm bài' });
  check(await start.count() === 1, 'the open session has no "Bắt đầu làm bài" button');
  await start.click();
  // The start is confirmed first; nothing starts before "Bắt đầu".
  await page.locator('#start-dialog').waitFor({ state: 'visible' });
  const facts = await text('#start-facts');
  check(facts.includes('45 phút'), `the start confirmation does not give the duration: ${facts}`);
  check(await page.locator('#view-test').isHidden(), 'the test opened before the start was confirmed');
  await page.screenshot({ path: path.join(SHOTS, 'student-start-confirm.png') });
  await page.click('#start-confirm');
  await page.locator('#view-test').waitFor({ state: 'visible' });
  log('ok: session listed (and tomorrow\'s shown as not open), start confirmed');

  // ---------------------------------------------------------------- header
  const code = (await text('#form-code')).trim();
  check(/^\d{3}$/.test(code), `form code "${code}" is not three digits`);
  const t1 = timerSeconds(await text('#timer'));
  check(t1 > 2600 && t1 <= 2700, `countdown ${t1}s is not about 45 minutes`);
  await sleep(2300);
  const t2 = timerSeconds(await text('#timer'));
  check(t2 < t1 && t1 - t2 <= 4, `countdown did not decrease properly: ${t1} -> ${t2}`);
  log(`ok: form code ${code}, countdown ${t1}s -> ${t2}s`);
  const aid = await attemptId();
  check(aid, 'no attempt id kept for a reload');

  // The service worker keeps the page available offline.
  const sw = await Promise.race([
    page.evaluate(() => navigator.serviceWorker.ready.then((r) => !!r.active)),
    sleep(8000).then(() => false),
  ]);
  check(sw, 'the service worker did not become active');

  // ---------------------------------------------------------------- navigator, rendering
  const navItems = await page.locator('.nav-item').count();
  check(navItems === 6, `navigator has ${navItems} questions, not 6`);
  const groups = await page.locator('.nav-group h3').allInnerTexts();
  check(groups.length === 4 && groups[0].startsWith('Phần I.'), `navigator part titles: ${JSON.stringify(groups)}`);
  let mathOk = 0;
  for (let i = 0; i < navItems; i++) {
    await page.locator('.nav-item').nth(i).click();
    const info = await page.evaluate(() => {
      const q = document.getElementById('question');
      const maths = Array.from(q.querySelectorAll('math'));
      const sized = maths.filter((m) => {
        const r = m.getBoundingClientRect();
        return r.width > 0 && r.height > 0 && m.namespaceURI === 'http://www.w3.org/1998/Math/MathML';
      });
      const inputs = Array.from(q.querySelectorAll('#q-answer input, #q-answer textarea'));
      const unlabelled = inputs.filter((x) => !x.labels || x.labels.length === 0).length;
      const imgs = Array.from(q.querySelectorAll('#q-stem img')).map((im) => ({ ok: im.complete && im.naturalWidth > 0 && im.getBoundingClientRect().width > 0 }));
      return { kind: q.dataset.kind, maths: maths.length, sized: sized.length, display: maths[0] ? getComputedStyle(maths[0]).display : '', inputs: inputs.length, unlabelled, imgs };
    });
    check(info.inputs > 0, `question ${i + 1} (${info.kind}) has no answer input`);
    check(info.unlabelled === 0, `question ${i + 1} (${info.kind}) has ${info.unlabelled} inputs without a label`);
    if (info.kind === 'SHORT') {
      check(info.imgs.length === 1 && info.imgs[0].ok, `the image in the SHORT stem did not render: ${JSON.stringify(info.imgs)}`);
    }
    if (info.sized > 0) {
      check(/math/.test(info.display), `MathML is not laid out as math (display: ${info.display})`);
      mathOk++;
    }
    await assertNoHScroll(`at 1366x768 on question ${i + 1}`);
  }
  check(mathOk >= 3, `MathML rendered with a size in only ${mathOk} questions`);
  log(`ok: 6 questions in 4 parts, MathML rendered in ${mathOk}, the stem image rendered, every input labelled`);

  // ---------------------------------------------------------------- MCQ, durable
  const mcq = await goToKind('MCQ4');
  const optA = page.locator('#q-answer .opt').first();
  check((await optA.locator('.letter').innerText()).trim() === 'A.', 'the first option is not labelled A');
  const mcqValue = await optA.locator('input').getAttribute('value');
  await optA.click();
  await waitSaved('MCQ answered', [mcq]);
  check(await optA.locator('input').isChecked(), 'the chosen option is not checked');
  check(await page.locator(`.nav-item[data-ref="${mcq}"]`).evaluate((b) => b.classList.contains('answered')),
    'the navigator does not show the MCQ as answered');
  await sync('saved', { attempt: aid, answers: { [mcq]: mcqValue } });
  log(`ok: MCQ ${mcq} = ${mcqValue} shows "Đã lưu" and is in the database`);

  // ---------------------------------------------------------------- flag
  await page.click('#q-flag');
  check(await page.getAttribute('#q-flag', 'aria-pressed') === 'true', 'flag button not pressed');
  const navLabel = await page.locator(`.nav-item[data-ref="${mcq}"]`).getAttribute('aria-label');
  const flagged = await page.locator(`.nav-item[data-ref="${mcq}"]`).evaluate((b) => b.classList.contains('flagged'));
  check(flagged && /đánh dấu xem lại/.test(navLabel), `the navigator does not show the flag (${navLabel})`);
  log('ok: flag for review shows in the navigator');

  // ---------------------------------------------------------------- keyboard
  await page.focus('#q-heading');
  let reached = null;
  for (let i = 0; i < 8 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => {
      const a = document.activeElement;
      if (!a || !a.closest('#q-answer') || a.tagName !== 'INPUT') return null;
      return { type: a.type, outline: getComputedStyle(a).outlineStyle };
    });
  }
  check(reached, 'Tab from the question heading does not reach the answer inputs');
  check(reached.outline !== 'none', 'the focused answer input has no visible focus outline');
  await page.keyboard.press('ArrowDown'); // radios: the arrow keys move the choice
  const second = await page.evaluate(() => document.activeElement.value);
  await waitSaved('MCQ changed by keyboard', [mcq]);
  await page.keyboard.press('ArrowUp');
  await waitSaved('MCQ changed back by keyboard', [mcq]);
  const back = await page.evaluate(() => document.querySelector('#q-answer input:checked')?.value);
  check(back === mcqValue && second !== mcqValue, `keyboard choice did not move and return (${second}, ${back})`);
  log('ok: Tab reaches the answer inputs with a visible focus; arrows change the choice');

  // ---------------------------------------------------------------- offline
  await ctx.setOffline(true);
  const short = await goToKind('SHORT');
  await page.fill('#q-answer input.short', '1,5');
  await waitFor('offline answer shows the not-saved state',
    () => {
      const s = document.getElementById('save-status');
      return s.dataset.state === 'offline' && s.textContent.includes('Chưa lưu — mất kết nối, câu trả lời vẫn được giữ trên máy này');
    }, null, 8000);
  const mr = await goToKind('MR');
  const boxes = page.locator('#q-answer input[type=checkbox]');
  const mrValue = [await boxes.nth(0).getAttribute('value'), await boxes.nth(2).getAttribute('value')];
  await page.locator('#q-answer .opt').nth(0).click();
  await page.locator('#q-answer .opt').nth(2).click();
  await sleep(300);
  check((await page.getAttribute('#save-status', 'data-state')) === 'offline', 'MR answered offline is not shown as not saved');
  let j = await journal();
  check(j.answers[short] && j.answers[short].response === '1,5' && j.answers[short].acked === false,
    `the SHORT answer is not in the journal as unacknowledged: ${JSON.stringify(j.answers[short])}`);
  log('ok: offline answers show "Chưa lưu — mất kết nối…" and sit in the journal');

  await page.reload({ waitUntil: 'domcontentloaded' });
  await page.locator('#view-test').waitFor({ state: 'visible' });
  await waitFor('after an offline reload the indicator still says not saved',
    () => document.getElementById('save-status').dataset.state === 'offline');
  check(timerSeconds(await text('#timer')) > 2500, 'no countdown after the offline reload');
  const mrChecked = await page.evaluate(() => document.getElementById('question').dataset.kind === 'MR' &&
    Array.from(document.querySelectorAll('#q-answer input[type=checkbox]')).map((c) => c.checked));
  check(JSON.stringify(mrChecked) === JSON.stringify([true, false, true, false, false].slice(0, mrChecked.length)),
    `MR choices not restored from the journal after the reload: ${JSON.stringify(mrChecked)}`);
  await goToKind('SHORT');
  const shortShown = await page.inputValue('#q-answer input.short');
  check(shortShown === '1,5', `SHORT answer lost in the offline reload (shows "${shortShown}")`);
  log('ok: reload while offline keeps both answers (from the journal)');

  await ctx.setOffline(false);
  await waitSaved('back online, the journal is replayed', [mcq, short, mr]);
  await sync('saved', { attempt: aid, answers: { [mcq]: mcqValue, [short]: '1,5', [mr]: mrValue } });
  log('ok: back online the journal is replayed, "Đã lưu", answers in the database');

  // ---------------------------------------------------------------- TF4, essay
  const tf = await goToKind('TF4');
  const stA = await page.locator('#q-answer fieldset.tf').nth(0).getAttribute('data-statement');
  const stB = await page.locator('#q-answer fieldset.tf').nth(1).getAttribute('data-statement');
  await page.locator('#q-answer fieldset.tf').nth(0).locator('label', { hasText: 'Đúng' }).click();
  await page.locator('#q-answer fieldset.tf').nth(1).locator('label', { hasText: 'Sai' }).click();
  await waitFor('the TF4 answer is saved or refused',
    () => ['saved', 'refused'].includes(document.getElementById('save-status').dataset.state), null, 8000);
  check(await page.locator(`.nav-item[data-ref="${tf}"]`).evaluate((b) => b.classList.contains('partial')),
    'a half-answered TF4 is not shown as partly answered');
  let tfValue = { [stA]: true, [stB]: false };
  if ((await page.getAttribute('#save-status', 'data-state')) === 'refused') {
    // The server refuses the {"a": true, ...} form (see the report of the
    // browser test): the page must say so and keep the answer locally.
    const status = await text('#save-status');
    const alert = await text('#test-alert');
    check(/^Chưa lưu được câu \d+/.test(status),
      `a refused answer is not shown as not saved: "${status}"`);
    check(/^Câu \d+:/.test(alert), `no message for the refused answer: "${alert}"`);
    j = await journal();
    check(j.answers[tf] && j.answers[tf].rejected === true, 'the refused TF4 answer is not kept in the journal');
    console.log(`KNOWN SERVER BUG: PUT of a TF4 response ${JSON.stringify(tfValue)} is refused: ${alert}`);
    tfValue = undefined;
  }
  const essay = await goToKind('ESSAY');
  const essayText = 'a) Với m = 2: A ∩ B = [2; 4) và A ∪ B = (−1; 5].\nb) −1 < m < 1.';
  await page.fill('#q-answer textarea', essayText);
  await waitSaved('essay answered', tfValue ? [tf, essay] : [essay], !tfValue);
  await sync('saved', { attempt: aid, answers: tfValue ? { [tf]: tfValue, [essay]: essayText } : { [essay]: essayText } });
  log(`ok: TF4 (${tfValue ? 'partial, saved' : 'refused by the server and shown as not saved'}) and essay saved`);

  // ---------------------------------------------------------------- layout
  await assertNoHScroll('at 1366x768');
  await page.screenshot({ path: path.join(SHOTS, 'student-test-1366x768.png') });
  await page.locator('.nav-item').first().click();
  await page.setViewportSize({ width: 390, height: 844 });
  await sleep(150);
  check(await visible('#nav-toggle'), 'no navigator toggle at 390 px');
  check(!(await visible('#nav-panel')), 'the navigator is not collapsed at 390 px');
  for (let i = 0; i < navItems; i++) {
    if (i > 0) await page.click('#q-next');
    await assertNoHScroll(`at 390x844 on question ${i + 1}`);
  }
  await page.click('#nav-toggle');
  check(await visible('#nav-panel'), 'the navigator does not open at 390 px');
  await assertNoHScroll('at 390x844 with the navigator open');
  await page.locator('.nav-item').first().click();
  check(!(await visible('#nav-panel')), 'choosing a question does not collapse the navigator');
  await page.screenshot({ path: path.join(SHOTS, 'student-test-390x844.png') });
  await page.setViewportSize({ width: 1366, height: 768 });
  log('ok: no horizontal scroll at 1366x768 and 390x844; the navigator collapses on the phone');

  // ---------------------------------------------------------------- submit
  await page.click('#submit-open');
  await page.locator('#submit-dialog').waitFor({ state: 'visible' });
  const summary = await text('#submit-summary');
  check(/Còn 2 câu chưa trả lời/.test(summary), `confirmation does not count 2 unanswered: ${summary}`);
  check(/1 câu đang đánh dấu xem lại/.test(summary), `confirmation does not count 1 flagged: ${summary}`);
  await page.screenshot({ path: path.join(SHOTS, 'student-submit.png') });
  await page.click('#submit-cancel');
  check(!(await visible('#submit-dialog')) && await visible('#view-test'), 'cancel did not return to the test');
  await page.click('#submit-open');
  await page.click('#submit-confirm');
  await page.locator('#view-done').waitFor({ state: 'visible' });
  check((await text('#done-title')).trim() === 'Đã nộp bài', 'no "Đã nộp bài" after submit');
  check(await visible('#done-wait') && !(await visible('#done-result')), 'a result is shown before release');
  log('ok: submit asks for confirmation (2 unanswered, 1 flagged), then "Đã nộp bài"');

  const rel = await sync('release', { attempt: aid });
  check(rel.result && rel.result.score !== undefined, `no result from the test side: ${JSON.stringify(rel)}`);
  await page.click('#done-refresh');
  await page.locator('#done-result').waitFor({ state: 'visible' });
  const shown = (await text('#score-value')).trim();
  check(shown === vi(rel.result.score), `score shown "${shown}", expected "${vi(rel.result.score)}"`);
  check((await text('#done-result')).includes(`/ ${vi(rel.result.max_score)}`), 'max score not shown');
  await page.screenshot({ path: path.join(SHOTS, 'student-result.png') });
  await page.reload({ waitUntil: 'domcontentloaded' });
  await page.locator('#done-result').waitFor({ state: 'visible' });
  log(`ok: released result shown: ${shown} / ${vi(rel.result.max_score)}`);

  // Nothing but sessionStorage holds the token; the submitted journal is gone.
  const stored = await page.evaluate(() => {
    const all = {};
    for (let i = 0; i < localStorage.length; i++) all[localStorage.key(i)] = localStorage.getItem(localStorage.key(i));
    return all;
  });
  check(!Object.values(stored).some((v) => v.includes(token)), 'the token is in localStorage');
  check(!(`kiemtra.journal.${aid}` in stored), 'the journal of a submitted attempt was kept');
  const cookies = await ctx.cookies();
  check(cookies.length === 0, 'cookies were set');

  // ---------------------------------------------------------------- time up
  await page.click('#done-back');
  await page.locator('#view-sessions').waitFor({ state: 'visible' });
  await page.screenshot({ path: path.join(SHOTS, 'student-sessions.png') });
  const shortCard = page.locator('.session-card', { has: page.locator('h2', { hasText: env.KT_SHORT_TITLE }) });
  await shortCard.locator('button', { hasText: 'Bắt đầu làm bài' }).click();
  await page.click('#start-confirm');
  await page.locator('#view-test').waitFor({ state: 'visible' });
  const aid2 = await attemptId();
  check(aid2 && aid2 !== aid, 'the second session did not start its own attempt');
  check(timerSeconds(await text('#timer')) > 550, 'the 10-minute test does not show about 10 minutes');
  // Results of this session released before the end, and score stores held
  // by the test side: the automatic submit is shown before its score.
  await sync('hold_scores', { attempt: aid2 });
  await sync('shorten', { attempt: aid2 });
  // The next save's reply carries the new remaining time.
  const mcq2 = await goToKind('MCQ4');
  await page.locator('#q-answer .opt').nth(1).click();
  await waitSaved('answer in the short test', [mcq2]);
  const left = timerSeconds(await text('#timer'));
  check(left <= 5, `the countdown did not follow the server's deadline (shows ${left}s)`);
  await waitFor('the countdown reaches "Hết giờ" and input stops',
    () => document.getElementById('timer').textContent === 'Hết giờ' && document.getElementById('q-answer').disabled, null, 8000);
  await waitFor('the server submits automatically and the page says so',
    () => document.body.dataset.view === 'done' && /nộp tự động/.test(document.getElementById('done-info').textContent), null, 20000);
  log('ok: the countdown follows the server, "Hết giờ" stops input, the automatic submit is shown');
  check((await text('#done-wait')).trim() === 'Bài đã nộp. Đang chấm điểm…' && !(await visible('#done-result')),
    `no "Đang chấm điểm…" while the score is not stored: "${await text('#done-wait')}"`);
  await page.screenshot({ path: path.join(SHOTS, 'student-scoring.png') });
  const freed = await sync('free_scores', { attempt: aid2 });
  // The page fetches the attempt again by itself (no click) until the score is there.
  await page.locator('#done-result').waitFor({ state: 'visible', timeout: 20000 });
  const shown2 = (await text('#score-value')).trim();
  check(freed.result && shown2 === vi(freed.result.score), `score shown "${shown2}" after scoring, expected ${JSON.stringify(freed.result)}`);
  check(!(await visible('#done-wait')), '"Đang chấm điểm…" still shown with the score');
  log(`ok: "Đang chấm điểm…" until the score is stored, then ${shown2} shown without a click`);

  check(pageErrors.length === 0, `JavaScript errors on the page: ${pageErrors.join(' | ')}`);
  check(cspErrors.length === 0, `CSP violations: ${cspErrors.join(' | ')}`);
}

let code = 0;
try {
  await main();
  log('ALL OK');
} catch (e) {
  code = 1;
  console.log(`FAIL: ${e instanceof Fail ? e.message : e.stack || e}`);
  if (page) {
    try { await page.screenshot({ path: path.join(SHOTS, 'student-failure.png') }); console.log(`screenshot: ${path.join(SHOTS, 'student-failure.png')}`); } catch (err) { /* page gone */ }
  }
}
clearTimeout(overall);
rl.close();
await cleanup();
process.exit(code);

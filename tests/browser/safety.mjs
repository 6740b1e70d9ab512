// The student page's safety rules in Debian's headless Chromium, driven by
// playwright-core. Run by tests/integration/test_browser_safety.py, which
// builds the school and answers the `@@ {"event": ...}` checkpoints after
// checking the database (the line protocol of student.mjs).
//
//  1. Item HTML is cleaned on the page: the attempt view is rewritten on its
//     way in (as if the server had let it through) with SVG animation that
//     writes a javascript: href, style attributes that cover the page, ids,
//     classes of the page, links and event attributes; none survives.
//  2. "Quay lại làm tiếp" calls off a submit waiting for pending saves:
//     offline, Nộp bài, cancel, back online: not submitted, the saves arrive.
//  3. Logging out, and submitting, leave no answer in localStorage.
//  4. A linear test reaches the page one item at a time: no later item in
//     any reply or storage; offline, the next item waits for the network.
//
// Environment: KT_URL, KT_USER, KT_PASSWORD, KT_SESSION_TITLE,
// KT_LINEAR_TITLE, KT_SHOTS, KT_PROFILE. Exit 0 and "ALL OK" when every
// check passed; otherwise a FAIL line.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

const env = process.env;
for (const k of ['KT_URL', 'KT_USER', 'KT_PASSWORD', 'KT_SESSION_TITLE', 'KT_LINEAR_TITLE']) {
  if (!env[k]) { console.log(`FAIL: ${k} is not set`); process.exit(2); }
}
const BASE = env.KT_URL.replace(/\/$/, '');
const SHOTS = env.KT_SHOTS || os.tmpdir();
const OVERALL_MS = 140000;
const FLUSH_WINDOW_MS = 8000; // how long the page waits for pending saves before a submit
const t0 = Date.now();

class Fail extends Error {}
const check = (cond, msg) => { if (!cond) throw new Fail(msg); };
const log = (msg) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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
  check(JSON.parse(line).ok, `the test side refused "${event}": ${line}`);
}

const profile = fs.mkdtempSync(path.join(env.KT_PROFILE || os.tmpdir(), 'profile-'));
let ctx = null;
let page;
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

async function waitFor(desc, fn, arg, timeout = 8000) {
  try {
    await page.waitForFunction(fn, arg, { timeout, polling: 100 });
  } catch (e) {
    const state = await page.evaluate(() => ({
      view: document.body.dataset.view,
      save: document.getElementById('save-status')?.textContent,
      pos: document.getElementById('q-pos')?.textContent,
      alert: document.getElementById('test-alert')?.textContent,
    })).catch(() => ({}));
    throw new Fail(`${desc} (not within ${timeout} ms; page: ${JSON.stringify(state)})`);
  }
}
const text = (sel) => page.locator(sel).innerText();
const attemptId = () => page.evaluate(() => sessionStorage.getItem('kiemtra.attempt'));
async function waitSaved(desc, refs, timeout = 8000) {
  await waitFor(`${desc}: "Đã lưu" and every answer acknowledged`, (refs) => {
    const s = document.getElementById('save-status');
    const j = JSON.parse(localStorage.getItem('kiemtra.journal.' + sessionStorage.getItem('kiemtra.attempt')) || 'null');
    return s.dataset.state === 'saved' && j && refs.every((r) => j.answers[r] && j.answers[r].acked === true);
  }, refs, timeout);
}
async function goToKind(kind) {
  const here = await page.evaluate(() => document.getElementById('question').dataset.kind);
  if (here !== kind) await page.locator(`.nav-item[data-kind="${kind}"]`).first().click();
  await waitFor(`question of kind ${kind} on screen`, (k) => document.getElementById('question').dataset.kind === k, kind);
  return page.evaluate(() => document.getElementById('question').dataset.ref);
}
const storage = () => page.evaluate(() => {
  const dump = (area) => Object.fromEntries(Object.keys(area).map((k) => [k, area.getItem(k)]));
  return { local: dump(localStorage), session: dump(sessionStorage) };
});
async function login() {
  await page.locator('#view-login').waitFor({ state: 'visible' });
  await page.fill('#login-user', env.KT_USER);
  await page.fill('#login-pass', env.KT_PASSWORD);
  await page.click('#login-submit');
  await page.locator('#view-sessions').waitFor({ state: 'visible' });
}
const card = (title) => page.locator('.session-card', { has: page.locator('h2', { hasText: title }) });

// What a careless or hostile item could hold (the server cleans it too; the
// page must not rely on that).
const EVIL_STEM =
  '<svg width="240" height="30"><a><animate attributeName="href" values="javascript:window.__pwned=1" dur="1s"/>' +
  '<set attributeName="href" to="javascript:window.__pwned=2"/><text x="0" y="20">BAM-VAO</text></a>' +
  '<animate attributeName="xlink:href" values="javascript:window.__pwned=3"/>' +
  '<circle cx="10" cy="10" r="8" fill="#36c"><animate attributeName="r" values="2;8" dur="1s" repeatCount="indefinite"/></circle></svg>' +
  '<div id="kt-cover" class="test-head" style="position:fixed;inset:0;z-index:2147483647;background:rgba(180,0,0,.92);color:#fff;font-size:40px">CHE-TRANG</div>' +
  '<p style="color:red" onclick="window.__pwned=4">DOAN-VAN <a href="javascript:window.__pwned=5">LIEN-KET</a></p>' +
  '<math><mi href="javascript:window.__pwned=6">x</mi><mo>+</mo><mn>1</mn></math>';
const EVIL_OPTION = '<span style="position:fixed;top:0;left:0;width:100vw;height:100vh;background:#0a0">PHU-KIN</span>';

async function main() {
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1366, height: 768 },
    locale: 'vi-VN',
    timezoneId: 'Asia/Ho_Chi_Minh',
    serviceWorkers: 'block', // so that page.route sees the API
  });
  ctx.setDefaultTimeout(8000);
  page = ctx.pages()[0] || await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content.Security.Policy|Refused to/i.test(m.text())) cspErrors.push(m.text());
  });
  await page.route(/\/api\/v1\/(sessions\/\d+\/attempts|attempts\/\d+)$/, async (route) => {
    let res;
    try { res = await route.fetch(); } catch (e) { await route.abort('internetdisconnected'); return; }
    let body = await res.text();
    try {
      const v = JSON.parse(body);
      if (v.payload && v.payload.test && v.payload.test.title === env.KT_SESSION_TITLE) {
        for (const it of v.payload.items) {
          if (it.stem !== undefined) it.stem = EVIL_STEM + it.stem;
          if (it.options && it.options[0]) it.options[0].html += EVIL_OPTION;
        }
        body = JSON.stringify(v);
      }
    } catch (e) { /* not JSON: as it came */ }
    await route.fulfill({ response: res, body });
  });

  await page.goto(BASE + '/student/', { waitUntil: 'domcontentloaded' });
  await login();
  await card(env.KT_SESSION_TITLE).locator('button', { hasText: 'Bắt đầu làm bài' }).click();
  await page.click('#start-confirm'); // the start confirmation
  await page.locator('#view-test').waitFor({ state: 'visible' });
  const aid = await attemptId();
  log('logged in, test started');

  // ------------------------------------------------------------ 1. sanitizer
  for (const kind of ['MCQ4', 'SHORT']) {
    await goToKind(kind);
    await sleep(1200); // the SVG animations would have run by now
    const got = await page.evaluate(() => {
      const q = document.getElementById('question');
      const all = Array.from(q.querySelectorAll('*'));
      // The item's two would-be covers, and whether they span the window.
      const covers = all.filter((n) => ['CHE-TRANG', 'PHU-KIN'].includes(n.textContent.trim()) && !n.children.length);
      const w = window.innerWidth, h = window.innerHeight;
      const covered = covers.filter((n) => { const r = n.getBoundingClientRect(); return r.width >= w * 0.95 && r.height >= h * 0.5; }).length;
      const math = q.querySelector('#q-stem math');
      return {
        active: all.filter((n) => /^(animate|set|animatemotion|animatetransform|a|script|foreignobject)$/i.test(n.localName)).map((n) => n.localName),
        styled: all.filter((n) => n.hasAttribute('style')).map((n) => n.localName),
        scripted: all.flatMap((n) => Array.from(n.attributes).filter((a) => /javascript:/i.test(a.value) || /^on/i.test(a.name)).map((a) => `${n.localName}@${a.name}`)),
        ids: Array.from(q.querySelectorAll('#q-stem [id], .opt-html [id]')).map((n) => n.id),
        classes: Array.from(q.querySelectorAll('#q-stem [class]:not(#q-stem > p.hint), .opt-html [class]')).map((n) => n.className.baseVal ?? n.className),
        fixed: Array.from(q.querySelectorAll('#q-stem *, .opt-html *')).filter((n) => ['fixed', 'absolute', 'sticky'].includes(getComputedStyle(n).position)).length,
        covered,
        kept: ['CHE-TRANG', 'DOAN-VAN', 'LIEN-KET'].filter((t) => q.textContent.includes(t)),
        svgShapes: q.querySelectorAll('#q-stem svg circle').length,
        math: math ? { ns: math.namespaceURI, w: math.getBoundingClientRect().width } : null,
        pwned: window.__pwned || null,
      };
    });
    check(got.active.length === 0, `${kind}: active elements survived: ${got.active.join(', ')}`);
    check(got.styled.length === 0, `${kind}: style attributes survived on ${got.styled.join(', ')}`);
    check(got.scripted.length === 0, `${kind}: javascript: or on… attributes survived: ${got.scripted.join(', ')}`);
    check(got.ids.length === 0 && got.classes.length === 0, `${kind}: ids ${got.ids} or classes ${got.classes} of the item survived`);
    check(got.fixed === 0 && got.covered === 0, `${kind}: the item covers the page (${got.fixed} fixed elements, ${got.covered} probe points)`);
    check(got.kept.length === 3, `${kind}: the item's text was lost: ${got.kept}`);
    check(got.svgShapes === 1, `${kind}: the static SVG shape was lost`);
    check(got.math && got.math.ns === 'http://www.w3.org/1998/Math/MathML' && got.math.w > 0, `${kind}: MathML no longer renders: ${JSON.stringify(got.math)}`);
    check(got.pwned === null, `${kind}: item script ran (${got.pwned})`);
    await page.locator('#q-stem svg').click({ position: { x: 20, y: 20 } });
    check(await page.evaluate(() => window.__pwned || null) === null, `${kind}: a click on the SVG ran item script`);
    if (kind === 'MCQ4') await page.screenshot({ path: path.join(SHOTS, 'safety-sanitized.png') });
  }
  log('ok: no SVG animation, javascript: href, style, id, class or handler survives; text, SVG shapes and MathML stay');

  // ------------------------------------------------------------ 2. cancel a waiting submit
  const mcq = await goToKind('MCQ4');
  const opt = page.locator('#q-answer .opt').first();
  const mcqValue = await opt.locator('input').getAttribute('value');
  await opt.click();
  await waitSaved('MCQ answered', [mcq]);
  await ctx.setOffline(true);
  const short = await goToKind('SHORT');
  await page.fill('#q-answer input.short', '2,5');
  await waitFor('the offline answer is shown as not saved', () => document.getElementById('save-status').dataset.state === 'offline');
  await page.click('#submit-open');
  await page.locator('#submit-dialog').waitFor({ state: 'visible' });
  await page.click('#submit-confirm');
  const pressed = Date.now();
  await sleep(700);
  check((await text('#submit-confirm')).trim() === 'Đang lưu…', 'the submit is not waiting for the pending save');
  await page.click('#submit-cancel');
  check(!(await page.locator('#submit-dialog').isVisible()), '"Quay lại làm tiếp" did not close the dialog');
  await ctx.setOffline(false);
  await waitSaved('back online after the cancel, the pending answer is saved', [mcq, short]);
  await sleep(Math.max(0, pressed + FLUSH_WINDOW_MS + 2000 - Date.now()));
  check(await page.evaluate(() => document.body.dataset.view) === 'test', 'the test was submitted after "Quay lại làm tiếp"');
  await page.screenshot({ path: path.join(SHOTS, 'safety-submit-cancelled.png') });
  await sync('not_submitted', { attempt: aid, answers: { [mcq]: mcqValue, [short]: '2,5' } });
  log('ok: "Quay lại làm tiếp" called the submit off; the answers arrived; the attempt is still open');

  // ------------------------------------------------------------ 3. nothing left behind
  await page.click('#q-flag');
  let st = await storage();
  check(Object.values(st.local).some((v) => v.includes('2,5')), 'no journal before the logout: the check below would prove nothing');
  await page.click('#logout');
  await page.locator('#view-login').waitFor({ state: 'visible' });
  st = await storage();
  const left = Object.keys(st.local).filter((k) => k.startsWith('kiemtra.')).concat(Object.keys(st.session).filter((k) => k.startsWith('kiemtra.')));
  check(left.length === 0, `after logout the browser still holds ${left.join(', ')}`);
  check(!Object.values(st.local).some((v) => v.includes('2,5')), 'after logout an answer is still in localStorage');
  check(await page.inputValue('#login-user') === '', 'after logout the login form still shows who was here');
  await page.screenshot({ path: path.join(SHOTS, 'safety-logged-out.png') });
  log('ok: logout leaves no journal, flag or token');

  await login();
  await card(env.KT_SESSION_TITLE).locator('button', { hasText: 'Tiếp tục làm bài' }).click();
  await page.locator('#view-test').waitFor({ state: 'visible' });
  await goToKind('SHORT');
  check(await page.inputValue('#q-answer input.short') === '2,5', 'the saved answer did not come back from the server after the logout');
  await page.click('#submit-open');
  await page.click('#submit-confirm');
  await page.locator('#view-done').waitFor({ state: 'visible' });
  st = await storage();
  const kept = Object.keys(st.local).filter((k) => k.startsWith('kiemtra.'));
  check(kept.length === 0, `after the submit localStorage still holds ${kept.join(', ')}`);
  await sync('submitted', { attempt: aid });
  log('ok: answers come back from the server after a new login; the submit leaves nothing in localStorage');

  // ------------------------------------------------------------ 4. linear, one at a time
  const bodies = [];
  page.on('response', async (r) => {
    if (!r.url().includes('/api/v1/')) return;
    try { bodies.push(await r.text()); } catch (e) { /* no body */ }
  });
  // Nothing of a later item anywhere the student could look.
  const leaked = async (upto) => {
    const html = await page.content();
    const stored = JSON.stringify(await storage());
    const out = [];
    for (let n = upto + 1; n <= 4; n++) {
      const m = `NOIDUNG-LD-${n}`;
      if (html.includes(m)) out.push(`${m} in the page`);
      if (stored.includes(m)) out.push(`${m} in storage`);
      if (bodies.some((b) => b.includes(m))) out.push(`${m} in a reply`);
    }
    return out;
  };
  const at = async (n, total) => {
    await waitFor(`question ${n}/${total} on screen`, (want) => document.getElementById('q-pos').textContent === want, `Câu ${n}/${total}`, 12000);
    check((await text('#q-stem')).includes(`NOIDUNG-LD-${n}`) || (await text('#question')).includes(`NOIDUNG-LD-${n}`), `question ${n} does not show its own content`);
  };
  await page.click('#done-back');
  await card(env.KT_LINEAR_TITLE).locator('button', { hasText: 'Bắt đầu làm bài' }).click();
  await page.click('#start-confirm'); // the start confirmation
  await page.locator('#view-test').waitFor({ state: 'visible' });
  const lid = await attemptId();
  await at(1, 4);
  check(await page.locator('.nav-item').count() === 1, 'the navigator lists questions not sent yet');
  check(await page.locator('#q-prev').isDisabled() && !(await page.locator('#q-next').isDisabled()), 'Previous/Next are wrong on the first question of a linear test');
  let l = await leaked(1);
  check(l.length === 0, `later items reached the page at the start: ${l.join('; ')}`);

  await page.locator('#q-answer input[value="B"]').click();
  await waitSaved('linear question 1 answered', ['q1']);
  await page.click('#q-next');
  await at(2, 4);
  check(await page.locator('.nav-item').count() === 2, 'the navigator does not list exactly the questions received');
  check(await page.locator('.nav-item[data-ref="q1"]').isDisabled(), 'the question left behind can still be chosen');
  l = await leaked(2);
  check(l.length === 0, `later items reached the page after question 1: ${l.join('; ')}`);

  await page.click('#q-next'); // question 2 left empty: skipped
  await at(3, 4);
  await waitFor('the image of question 3 is shown', () => {
    const im = document.querySelector('#question img');
    return im && im.src.startsWith('data:image/') && im.complete && im.naturalWidth > 0;
  });
  l = await leaked(3);
  check(l.length === 0, `the last item reached the page early: ${l.join('; ')}`);
  await page.screenshot({ path: path.join(SHOTS, 'safety-linear.png') });
  await sync('linear', { attempt: lid, answers: { q1: { RESPONSE: 'B' }, q2: null } });
  log('ok: linear test: one question at a time, a skipped one saved as null, nothing later in any reply');

  await ctx.setOffline(true);
  await page.locator('#q-answer input[value="A"]').click();
  await page.click('#q-next');
  await waitFor('offline, the page says the next question needs the network',
    () => /Chưa nhận được câu tiếp theo/.test(document.getElementById('test-alert').textContent), null, 15000);
  check(await text('#q-pos') === 'Câu 3/4', 'offline, the page left question 3');
  await page.screenshot({ path: path.join(SHOTS, 'safety-linear-offline.png') });
  await ctx.setOffline(false);
  await page.click('#q-next');
  await at(4, 4);
  check(await page.locator('#q-next').isDisabled(), 'Next is enabled on the last question');
  check(await page.locator('#test-alert').isHidden(), 'the offline notice stayed');
  await sync('linear', { attempt: lid, answers: { q1: { RESPONSE: 'B' }, q2: null, q3: { RESPONSE: 'A' } } });
  await page.screenshot({ path: path.join(SHOTS, 'safety-linear-last.png') });
  log('ok: offline the next question waits for the network; back online it comes');

  check(pageErrors.length === 0, `JavaScript errors on the page: ${pageErrors.join(' | ')}`);
  // Chromium reports the item's onclick as a CSP violation when the HTML is
  // parsed, even in an inert <template>; it never runs (window.__pwned
  // stayed unset above). Anything else the CSP had to stop is a failure.
  const other = cspErrors.filter((m) => !/^Executing inline event handler/.test(m));
  check(other.length === 0, `CSP violations: ${other.join(' | ')}`);
}

let code = 0;
try {
  await main();
  log('ALL OK');
} catch (e) {
  code = 1;
  console.log(`FAIL: ${e instanceof Fail ? e.message : e.stack || e}`);
  if (page) {
    try { await page.screenshot({ path: path.join(SHOTS, 'safety-failure.png') }); console.log(`screenshot: ${path.join(SHOTS, 'safety-failure.png')}`); } catch (err) { /* page gone */ }
  }
}
clearTimeout(overall);
rl.close();
await cleanup();
process.exit(code);

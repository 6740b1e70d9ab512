// The live monitor of a session in Debian's headless Chromium, driven by
// playwright-core against the real server with the `kiemtra demo` school.
//
// Run by tests/integration/test_browser_staff_monitor.py, which starts the
// server, loads the demo data and passes the logins and the demo session;
// it checks the database after this script ends, from the facts printed on
// the `@@ {"event":"done"}` line.
//
// The teacher turns on the access code on the session page and opens the
// monitor; 20 students of 10A1 start (with the code) and save through the
// API while the table shows them moving from "Chưa vào" to "Đang làm" with
// their answered counts; the teacher gives one of them 10 more minutes (the
// row's time left grows), submits another's attempt on their behalf and
// reopens it with a reason (keyboard only); the filters narrow the table;
// a student confirms the start on the student page with the code (a wrong
// code first). Screenshots at 1366×768 and 390×844 go to KT_SHOTS.
//
// Environment: KT_URL, KT_CREDS (the demo credentials JSON), KT_SESSION
// (the demo session's id), KT_SHOTS, KT_PROFILE.
// Exit 0 and "ALL OK" when every check passed; otherwise a FAIL line (the
// protocol of harness.mjs).
import path from 'node:path';
import { BASE, check, dlg, env, facts, log, login, logout, open, page, readJson, run, setup, shot, SHOTS, staffLogin, waitFor } from './harness.mjs';

setup({ need: ['KT_URL', 'KT_CREDS', 'KT_SESSION'], overallMs: 240000, failShot: 'monitor-FAIL.png',
  launch: { timezoneId: 'Europe/Paris' }, dump: { status: '.monitor-status' } });
const CREDS = readJson(env.KT_CREDS);
const SID = Number(env.KT_SESSION);

/* The API as a student (from node, not the page). */
async function api(method, p, body, token) {
  const h = { 'Content-Type': 'application/json' };
  if (token) h.Authorization = 'Bearer ' + token;
  const r = await fetch(BASE + '/api/v1' + p, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  return { status: r.status, data };
}

/* The monitor's rows as the page shows them, by student name. */
const rows = () => page.evaluate(() => Object.fromEntries(Array.from(document.querySelectorAll('table.monitor-table tbody tr')).map((tr) => {
  const c = tr.children;
  return [c[0].querySelector('.name').textContent, { state: c[2].textContent, answered: c[3].textContent, seen: c[4].textContent, left: c[5].textContent, extra: c[6].textContent }];
})));
const secs = (t) => { const p = t.split(':').map(Number); return p.length === 3 ? p[0] * 3600 + p[1] * 60 + p[2] : p[0] * 60 + p[1]; };
const row = (name) => page.locator('table.monitor-table tbody tr', { has: page.locator('.name', { hasText: name }) });

run(async () => {
  // ---------------------------------------------------------------- access code on the session page
  await staffLogin(CREDS.teacher);
  await open(`#/sessions/${SID}`);
  await page.check('#room-code');
  await page.locator('form.session-form button[type=submit]').click();
  await waitFor('the code is shown on the session page', () => /^\d{6}$/.test(document.querySelector('.session-code')?.textContent || ''));
  const code = (await page.locator('.session-code').innerText()).trim();
  facts.code = code;
  await shot('session-room');
  log(`ok: the teacher turned on the access code (${code})`);

  // ---------------------------------------------------------------- the monitor, nobody started
  await page.locator('a.monitor-link').click();
  await waitFor('the monitor is drawn', () => document.querySelectorAll('table.monitor-table tbody tr').length === 40);
  check((await page.locator('.access-code .code').innerText()).trim() === code, 'the monitor does not show the access code');
  let r0 = await rows();
  check(Object.values(r0).every((x) => x.state === 'Chưa vào' && x.answered.startsWith('0/')), 'a student is not "Chưa vào" before anyone started');
  const total = Number(Object.values(r0)[0].answered.split('/')[1]);
  check(total > 0, 'the items total is not shown');
  log(`ok: 40 students not started, ${total} questions each`);

  // ---------------------------------------------------------------- 20 students start and save through the API
  const kids = CREDS.students.slice(0, 20);
  const started = await Promise.all(kids.map(async (s, i) => {
    const lr = await api('POST', '/auth/login', { username: s.username, password: s.password });
    check(lr.status === 200, `login of ${s.username}: ${lr.status}`);
    const tok = lr.data.token;
    const st = await api('POST', `/sessions/${SID}/attempts`, { access_code: code }, tok);
    check(st.status === 201, `start of ${s.username}: ${st.status} ${JSON.stringify(st.data)}`);
    return { ...s, tok, attempt: st.data, name: null, i };
  }));
  const names = {};
  for (const s of started) {
    const me = await api('GET', '/me', undefined, s.tok);
    s.name = me.data.full_name || (me.data.user && me.data.user.full_name);
    names[s.username] = s.name;
  }
  // Each saves i % 5 + 1 answers (choice items).
  async function saveSome(s, n, seq0 = 1) {
    const items = s.attempt.payload.items.filter((it) => Array.isArray(it.options) && it.options.length && it.kind === 'MCQ4');
    for (let k = 0; k < n; k++) {
      const it = items[k];
      const r = await api('PUT', `/attempts/${s.attempt.id}/responses/${it.ref}`, { response: it.options[0].id, seq: seq0 + k }, s.tok);
      check(r.status === 200, `save of ${s.username}: ${r.status} ${JSON.stringify(r.data)}`);
    }
  }
  await Promise.all(started.map((s) => saveSome(s, s.i % 5 + 1)));
  log('20 students started and saved through the API');
  await waitFor('the table shows 20 students in progress with their answers', (want) => {
    const trs = Array.from(document.querySelectorAll('table.monitor-table tbody tr'));
    const m = Object.fromEntries(trs.map((tr) => [tr.querySelector('.name').textContent, tr.children]));
    return want.every(([name, n]) => m[name] && m[name][2].textContent === 'Đang làm' && m[name][3].textContent.startsWith(`${n}/`));
  }, started.map((s) => [s.name, s.i % 5 + 1]), 15000);
  r0 = await rows();
  check(Object.values(r0).filter((x) => x.state === 'Chưa vào').length === 20, 'the 20 others are not "Chưa vào"');
  check((await page.locator('.monitor-counts .count-in_progress strong').innerText()) === '20', 'the count of students in progress is not 20');
  const leftA = secs(r0[started[0].name].left);
  check(leftA > 60, `time left of ${started[0].name} is ${r0[started[0].name].left}`);
  check(Object.values(r0).some((x) => x.seen === 'vừa xong'), 'last seen is not shown as "vừa xong"');
  await shot('monitor');
  log('ok: the table moved 20 students to "Đang làm" with their answered counts');

  // The countdown runs locally between polls.
  const l1 = secs((await rows())[started[0].name].left);
  await page.waitForTimeout(2200);
  const l2 = secs((await rows())[started[0].name].left);
  check(l2 < l1 && l1 - l2 <= 4, `the countdown did not run: ${l1} -> ${l2}`);

  // ---------------------------------------------------------------- extra time
  const a = started[0];
  await row(a.name).locator('button', { hasText: 'Thêm giờ' }).click();
  await page.fill('dialog.kt-dialog[open] input[name=minutes]', '10');
  await shot('monitor-extra-dialog', false);
  await dlg('Thêm giờ');
  await waitFor('the row shows 10 more minutes', (n) => {
    const tr = Array.from(document.querySelectorAll('table.monitor-table tbody tr')).find((t) => t.querySelector('.name').textContent === n);
    return tr && tr.children[6].textContent === '+10 phút';
  }, a.name);
  const l3 = secs((await rows())[a.name].left);
  check(l3 >= l2 + 540, `time left did not grow by 10 minutes: ${l2} -> ${l3}`);
  facts.extra_attempt = a.attempt.id;
  log(`ok: extra time, ${a.name}: ${l2}s -> ${l3}s`);

  // ---------------------------------------------------------------- force submit, then reopen by keyboard
  const b = started[1];
  await row(b.name).locator('button', { hasText: 'Nộp hộ' }).click();
  await dlg('Nộp hộ');
  await waitFor('the row shows "Đã nộp"', (n) => {
    const tr = Array.from(document.querySelectorAll('table.monitor-table tbody tr')).find((t) => t.querySelector('.name').textContent === n);
    return tr && tr.children[2].textContent === 'Đã nộp';
  }, b.name);
  let sv = await api('PUT', `/attempts/${b.attempt.id}/responses/${b.attempt.payload.items[0].ref}`, { response: null, seq: 99 }, b.tok);
  check(sv.status === 409, `a save after the force submit was not refused: ${sv.status}`);
  log(`ok: ${b.name} submitted on their behalf`);
  await row(b.name).locator('button', { hasText: 'Mở lại bài' }).focus();
  await page.keyboard.press('Enter');
  await page.locator('dialog.kt-dialog[open] textarea[name=reason]').waitFor({ state: 'visible' });
  await page.keyboard.type('Em bấm nộp nhầm khi máy bị treo');
  await shot('monitor-reopen-dialog', false);
  await page.keyboard.press('Tab'); // minutes: left empty (the time that was left)
  await page.keyboard.press('Tab'); // Quay lại
  await page.keyboard.press('Tab'); // Mở lại bài
  await page.keyboard.press('Enter');
  await waitFor('the row is in progress again', (n) => {
    const tr = Array.from(document.querySelectorAll('table.monitor-table tbody tr')).find((t) => t.querySelector('.name').textContent === n);
    return tr && tr.children[2].textContent === 'Đang làm';
  }, b.name);
  sv = await api('PUT', `/attempts/${b.attempt.id}/responses/${b.attempt.payload.items[0].ref}`, { response: null, seq: 100 }, b.tok);
  check(sv.status === 200, `a save after the reopen was refused: ${sv.status} ${JSON.stringify(sv.data)}`);
  facts.reopened_attempt = b.attempt.id;
  log(`ok: ${b.name} reopened with a reason (keyboard), saves again`);

  // ---------------------------------------------------------------- filters
  await page.selectOption('select[name=state]', 'not_started');
  await waitFor('only the students not started', () => {
    const trs = document.querySelectorAll('table.monitor-table tbody tr');
    return trs.length === 20 && Array.from(trs).every((t) => t.children[2].textContent === 'Chưa vào');
  });
  await page.selectOption('select[name=state]', '');
  await page.fill('input[name=q]', a.name);
  await waitFor('the search finds the student', (n) => {
    const trs = document.querySelectorAll('table.monitor-table tbody tr');
    return trs.length >= 1 && Array.from(trs).every((t) => t.querySelector('.name').textContent.includes(n));
  }, a.name);
  await page.fill('input[name=q]', '');
  log('ok: filters by state and by name');

  // ---------------------------------------------------------------- a student confirms the start with the code
  const c = CREDS.students[25];
  await logout();
  await login(c.username, c.password);
  await page.waitForURL(/\/student\/$/, { timeout: 10000 });
  await page.setViewportSize({ width: 390, height: 844 });
  const card = page.locator('.session-card').first();
  await card.waitFor({ state: 'visible' });
  await card.locator('button', { hasText: 'Bắt đầu làm bài' }).click();
  await page.locator('#start-dialog').waitFor({ state: 'visible' });
  check(await page.locator('#start-code').count() === 1, 'the start confirmation has no access code field');
  check((await page.locator('#start-facts').innerText()).includes(`${total}`), 'the start confirmation does not give the number of questions');
  const wrong = String((Number(code) + 1) % 1000000).padStart(6, '0');
  await page.fill('#start-code', wrong);
  await page.click('#start-confirm');
  await waitFor('the wrong code is refused in the dialog', () => /không đúng/.test(document.getElementById('start-error')?.textContent || ''));
  check(await page.locator('#start-code').getAttribute('aria-invalid') === 'true', 'the code field is not marked invalid');
  await page.screenshot({ path: path.join(SHOTS, 'student-start-code-390.png') });
  await page.fill('#start-code', code);
  await page.click('#start-confirm');
  await page.locator('#view-test').waitFor({ state: 'visible' });
  await page.setViewportSize({ width: 1366, height: 768 });
  facts.code_student = c.username;
  log('ok: the student confirmed the start with the access code (a wrong one first)');

  facts.started = started.map((s) => s.username);
  facts.names = names;
});

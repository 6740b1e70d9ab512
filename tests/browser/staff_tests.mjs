// The staff screens for tests, sessions, import and people in Debian's
// headless Chromium, driven by playwright-core against the real server with
// the `kiemtra demo` school.
//
// Run by tests/integration/test_browser_staff_tests.py, which starts the
// server, loads the demo data and passes the logins; it checks the database
// after this script ends, from the facts printed on the `@@ {"event":"done"}`
// line.
//
// Environment: KT_URL, KT_CREDS (the demo credentials JSON), KT_ROSTER (a
// small roster .csv), KT_QTI and KT_QTI_BAD (a good and a broken QTI item
// .xml), KT_DOCX (a Word file with one bad question), KT_SHOTS (screenshots),
// KT_PROFILE (where the fresh Chromium profile is made).
// Exit 0 and "ALL OK" when every check passed; otherwise a FAIL line (the
// protocol of harness.mjs).
import fs from 'node:fs';
import path from 'node:path';
import { check, dlg, env, facts, log, login, logout, open, page, readJson, run, setup, shot as shotAt, SHOTS, staffLogin, waitFor } from './harness.mjs';

setup({ need: ['KT_URL', 'KT_CREDS', 'KT_ROSTER', 'KT_QTI', 'KT_QTI_BAD', 'KT_DOCX'], overallMs: 240000, failShot: 'staff-FAIL.png',
  launch: { timezoneId: 'Europe/Paris' } });
const CREDS = readJson(env.KT_CREDS);
const ZONE = 'Asia/Ho_Chi_Minh';
const text = (sel) => page.locator(sel).first().innerText();
const shot = (name, full) => shotAt(`staff-${name}`, full);

/* dd/mm/yyyy HH:mm in the school's zone, `min` minutes from now. */
function viDate(min) {
  const d = new Date(Date.now() + min * 60000);
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-GB', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .formatToParts(d).map((x) => [x.type, x.value]));
  return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}`;
}
const apiAs = (method, p, body) => page.evaluate(async ([method, p, body]) => {
  const r = await fetch('/api/v1' + p, { method, headers: { Authorization: 'Bearer ' + sessionStorage.getItem('kiemtra.token'), 'Content-Type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  return { status: r.status, data };
}, [method, p, body]);

run(async () => {
  const title = `Kiểm tra giữa kỳ — Toán 10 (trình duyệt ${Date.now() % 100000})`;
  // ---------------------------------------------------------------- builder
  await staffLogin(CREDS.teacher);
  await open('#/tests');
  await waitFor('the tests list shows the demo test', () => document.querySelectorAll('table.tests-list tbody tr').length >= 1);
  await shot('tests-list');
  await page.click('a:has-text("Tạo đề mới")');
  await waitFor('the new test form', () => !!document.querySelector('select[name="row1_node"]') && !document.querySelector('#screen .loading'));
  await page.fill('input[name=title]', title);
  await page.selectOption('select[name=kind]', 'gk');
  await page.fill('input[name=duration_seconds]', '40');
  await page.fill('input[name=forms]', '4');
  // Row 1 asks more "Biết" items of one topic than the bank has.
  await page.selectOption('select[name="row1_node"]', 'VN18.TOAN.10.SDS.01');
  await page.selectOption('select[name="row1_format"]', 'DT.NLC');
  await page.fill('input[name="row1_points"]', '0,25');
  await page.fill('input[name="row1_MD.B"]', '8');
  await page.fill('input[name="row1_MD.H"]', '4');
  await waitFor('the over-asked cell says "thiếu"', () => {
    const td = document.querySelector('tr[data-row="1"] td[data-level="MD.B"]');
    return td && td.classList.contains('short') && /có \d+ câu · thiếu \d+ câu/.test(td.textContent);
  });
  const shortText = await text('tr[data-row="1"] td[data-level="MD.B"] .bp-avail');
  check(await page.locator('.bp-summary').isVisible(), 'no summary of shortages');
  check(/thiếu/.test(await text('.bp-summary')), 'the summary does not name the shortage');
  await page.click('button:has-text("Thêm dòng")');
  await page.selectOption('select[name="row2_node"]', 'VN18.TOAN.10');
  await page.selectOption('select[name="row2_format"]', 'DT.DS');
  await page.fill('input[name="row2_points"]', '1');
  await page.fill('input[name="row2_MD.H"]', '2');
  await page.fill('input[name="row2_MD.V"]', '2');
  await page.click('button:has-text("Thêm dòng")');
  await page.selectOption('select[name="row3_node"]', 'VN18.TOAN.10');
  await page.selectOption('select[name="row3_format"]', 'DT.TLN');
  await page.fill('input[name="row3_points"]', '0,5');
  await page.fill('input[name="row3_MD.H"]', '2');
  await page.fill('input[name="row3_MD.V"]', '4');
  await waitFor('availability shown for every row', () => Array.from(document.querySelectorAll('.bp-avail')).every((s) => /có \d+ câu/.test(s.textContent)));
  await shot('builder-shortage');
  log(`ok: shortage shown (${shortText})`);
  // Fix it: the whole programme instead of one topic.
  await page.selectOption('select[name="row1_node"]', 'VN18.TOAN.10');
  await waitFor('no cell is short any more', () => !document.querySelector('.bp-cell.short') && document.querySelector('.bp-summary').hidden
    && Array.from(document.querySelectorAll('.bp-avail')).every((s) => /có \d+ câu/.test(s.textContent)));
  const totals = await text('.bp-totals');
  check(/22 câu, 10 điểm/.test(totals) && !/nên là 10/.test(totals), `totals: ${totals}`);
  await page.click('button:has-text("Lưu nháp")');
  await waitFor('saved: the address names the test', () => /^#\/tests\/\d+$/.test(location.hash));
  const testId = Number((await page.evaluate(() => location.hash)).split('/')[2]);
  facts.test_id = testId;
  log(`ok: draft saved as test ${testId}`);
  // A change after saving is saved (PATCH of the draft) before publishing.
  await page.fill('input[name=duration_seconds]', '45');
  await page.click('button:has-text("Xuất bản")');
  await dlg('Xuất bản');
  await waitFor('the published test page with its form codes', () => !!document.querySelector('.form-codes'), null, 60000);
  const codes = (await text('.form-codes')).split(',').map((s) => s.trim()).filter(Boolean);
  check(codes.length === 4, `not 4 form codes: ${codes}`);
  await waitFor('the first form is previewed with its keys', () => document.querySelectorAll('.form-item').length === 22
    && document.querySelectorAll('.form-item .form-key').length === 22, null, 15000);
  const key1 = await text('.form-item .form-key');
  check(/Đáp án: \S/.test(key1), `no key shown: ${key1}`);
  facts.renderer = await page.evaluate(() => document.querySelectorAll('.form-item .kt-item').length);
  await page.locator('.form-tabs button').nth(1).click();
  await waitFor('the second form is previewed', (c) => document.getElementById('fp-h')?.textContent.includes(c), codes[1]);
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot('test-published', false);
  await page.locator('#fp-h').scrollIntoViewIfNeeded();
  await page.evaluate(() => document.getElementById('fp-h').scrollIntoView());
  await shot('test-form-preview', false);
  log(`ok: published with forms ${codes.join(', ')}; preview with keys (renderer items: ${facts.renderer})`);

  // ---------------------------------------------------------------- session
  await page.click('a:has-text("Mở phiên kiểm tra")');
  await waitFor('the session form', () => !!document.querySelector('input[name=opens_at]'));
  const cls = page.locator('label.check', { hasText: '10A1' }).locator('input');
  check(await cls.count() === 1, 'class 10A1 is not offered');
  await cls.check();
  await page.fill('input[name=opens_at]', viDate(120));
  await page.fill('input[name=closes_at]', viDate(-5));
  await page.click('button:has-text("Mở phiên")');
  await waitFor('a reversed window is refused next to "Đóng lúc"', () => {
    const i = document.querySelector('input[name=closes_at]');
    return i.getAttribute('aria-invalid') === 'true' && i.parentNode.querySelector('.field-error');
  });
  const why = await text('.session-form .field-error');
  check(/đóng|closes_at/i.test(why), `the error does not name the field: ${why}`);
  await shot('session-reversed');
  log(`ok: reversed window refused: ${why}`);
  await page.fill('input[name=opens_at]', viDate(-5));
  await page.fill('input[name=closes_at]', viDate(180));
  await page.click('button:has-text("Mở phiên")');
  await waitFor('the new session page', () => /^#\/sessions\/\d+$/.test(location.hash) && !!document.querySelector('.state-open'));
  facts.session_id = Number((await page.evaluate(() => location.hash)).split('/')[2]);
  await shot('session-view');
  await open('#/sessions');
  await waitFor('the sessions list', () => document.querySelectorAll('table.sessions-list tbody tr').length >= 2);
  await shot('sessions-list');
  log(`ok: session ${facts.session_id} open for 10A1`);
  // A second window tomorrow: moved, then cancelled with a reason.
  await open(`#/sessions/new?test=${testId}`);
  await page.locator('label.check', { hasText: '10A1' }).locator('input').check();
  await page.fill('input[name=opens_at]', viDate(24 * 60));
  await page.fill('input[name=closes_at]', viDate(24 * 60 + 90));
  await page.click('button:has-text("Mở phiên")');
  await waitFor('the second session, not open yet', () => /^#\/sessions\/\d+$/.test(location.hash) && !!document.querySelector('.state-scheduled'));
  facts.session2_id = Number((await page.evaluate(() => location.hash)).split('/')[2]);
  await page.fill('input[name=closes_at]', viDate(24 * 60 + 20));
  await page.click('button:has-text("Lưu thay đổi")');
  await waitFor('a window shorter than the test is refused next to "Đóng lúc"', () => {
    const i = document.querySelector('input[name=closes_at]');
    return i.getAttribute('aria-invalid') === 'true' && /ngắn hơn thời gian làm bài/.test(i.parentNode.textContent);
  });
  const closes2 = viDate(24 * 60 + 120);
  await page.fill('input[name=closes_at]', closes2);
  await page.click('button:has-text("Lưu thay đổi")');
  await waitFor('the new closing time is shown', (c) => document.querySelector('dd.closes')?.textContent === c
    && !document.querySelector('input[aria-invalid=true]'), closes2);
  await page.click('button:has-text("Huỷ phiên")');
  await page.fill('dialog.kt-dialog[open] textarea[name=reason]', 'Trùng lịch thi học kỳ');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(SHOTS, 'staff-session-cancel-390.png') });
  await page.setViewportSize({ width: 1366, height: 768 });
  await page.screenshot({ path: path.join(SHOTS, 'staff-session-cancel-1366.png') });
  await dlg('Huỷ phiên');
  await waitFor('the session says "đã huỷ" with the reason', () => !!document.querySelector('.state-cancelled') && /Trùng lịch thi học kỳ/.test(document.getElementById('screen').textContent));
  await shot('session-cancelled');
  log(`ok: session ${facts.session2_id} moved (a too short window refused first), then cancelled`);
  // The demo test has a session still open: archiving it is refused, and said so.
  await open('#/tests');
  const demoRow = page.locator('table.tests-list tbody tr', { hasText: 'đề mẫu' });
  await demoRow.locator('button', { hasText: 'Lưu trữ' }).click();
  await dlg('Lưu trữ');
  await waitFor('the refusal is shown', () => /chưa kết thúc/.test(document.querySelector('.notice.error')?.textContent || ''));
  // A draft never taken is deleted from the list after a confirmation.
  const draft = await apiAs('POST', '/tests', { title: 'Nháp để xoá', subject: 'TOAN', grade: 10, kind: 'tx', duration_seconds: 900, forms: 1,
    blueprint: [{ node: 'VN18.TOAN.10', level: 'MD.B', format: 'DT.NLC', count: 2, points: '0,5' }] });
  check(draft.status === 201, `draft not created: ${JSON.stringify(draft)}`);
  facts.deleted_test = draft.data.id;
  await page.evaluate(() => window.KT.render());
  await waitFor('the draft is listed', () => /Nháp để xoá/.test(document.querySelector('table.tests-list')?.textContent || ''));
  await page.locator('table.tests-list tbody tr', { hasText: 'Nháp để xoá' }).locator('button', { hasText: 'Xoá' }).click();
  await dlg('Xoá đề');
  await waitFor('the deleted draft leaves the list', () => !!document.querySelector('table.tests-list') && !/Nháp để xoá/.test(document.querySelector('table.tests-list').textContent));
  log('ok: archiving a test with an open session refused; a draft deleted');

  // ---------------------------------------------------------------- import (teacher)
  await open('#/import');
  await page.setInputFiles('#import-files', [env.KT_QTI, env.KT_QTI_BAD]);
  await waitFor('the preview lists the good item as new and the broken file\'s error with its line', () => {
    const t = document.querySelector('table.import-table');
    const e = document.querySelector('.import-errors');
    return t && /mới/.test(t.textContent) && e && /hong\.xml, dòng \d+/.test(e.textContent);
  }, null, 20000);
  facts.import_error = (await text('.import-errors li')).trim();
  const prevText = await text('table.import-table tbody');
  await shot('import-preview');
  await page.click('button:has-text("Nhập vào ngân hàng")');
  await dlg('Nhập');
  await waitFor('the result links to the item', () => !!document.querySelector('table.import-done a[href^="#/items/"]'), null, 20000);
  facts.imported_item = Number((await page.locator('table.import-done a').first().getAttribute('href')).split('/')[2]);
  await shot('import-done');
  log(`ok: QTI previewed (${prevText.replace(/\s+/g, ' ').trim()}) and imported as item ${facts.imported_item}`);
  // A Word file with one bad question: previewed per question with the problem, then only
  // the good questions imported.
  await open('#/import');
  await page.setInputFiles('#import-files', [env.KT_DOCX]);
  await waitFor('the Word preview lists its questions and names the bad one', () => {
    const t = document.querySelector('table.import-table');
    const e = document.querySelector('.import-errors');
    return t && /Câu 1/.test(t.textContent) && /Câu 3/.test(t.textContent) && e && /Câu 2 \(đoạn \d+\)/.test(e.textContent);
  }, null, 20000);
  facts.docx_error = (await text('.import-errors li')).trim();
  await page.click('button:has-text("Chỉ nhập các câu hợp lệ")');
  await dlg('Nhập');
  await waitFor('the two good questions are imported', () => document.querySelectorAll('table.import-done a[href^="#/items/"]').length === 2, null, 20000);
  log('ok: Word file previewed with its problem; the good questions imported');
  await logout();

  // ---------------------------------------------------------------- student takes it
  const student = CREDS.students[1];
  await login(student.username, student.password);
  await page.waitForURL(/\/student\/$/, { timeout: 10000 });
  const card = page.locator('.session-card', { has: page.locator('h2', { hasText: title }) });
  await card.waitFor({ state: 'visible' });
  await card.locator('button', { hasText: 'Bắt đầu làm bài' }).click();
  await page.click('#start-confirm'); // the start confirmation
  await page.locator('#view-test').waitFor({ state: 'visible' });
  await page.locator('#q-answer .opt').first().click();
  await waitFor('the answer is saved', () => document.getElementById('save-status')?.dataset.state === 'saved', null, 15000);
  await page.click('#submit-open');
  await page.locator('#submit-dialog').waitFor({ state: 'visible' });
  await page.click('#submit-confirm');
  await page.locator('#view-done').waitFor({ state: 'visible' });
  facts.student = student.username;
  log('ok: a student of 10A1 logged in at /, took the test, submitted');
  await page.evaluate(() => { sessionStorage.clear(); });

  // ---------------------------------------------------------------- school admin
  await staffLogin(CREDS.school_admin);
  await open('#/people');
  await waitFor('the accounts list', () => document.querySelectorAll('table.users-list tbody tr').length > 0);
  await shot('people-accounts', false);
  await page.click('button:has-text("Thêm tài khoản")');
  await page.selectOption('dialog.kt-dialog select[name=role]', 'teacher');
  await page.fill('dialog.kt-dialog input[name=full_name]', 'Đỗ Văn Lí');
  await page.fill('dialog.kt-dialog input[name=username]', 'gv.ly.trinhduyet');
  await page.selectOption('dialog.kt-dialog select[name=subject]', 'VL');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(SHOTS, 'staff-people-add-390.png') });
  await page.setViewportSize({ width: 1366, height: 768 });
  await page.screenshot({ path: path.join(SHOTS, 'staff-people-add-1366.png') });
  await dlg('Tạo tài khoản');
  await page.locator('dialog.kt-dialog[open] input.password-once').waitFor({ state: 'visible' });
  const lyPassword = await page.locator('dialog.kt-dialog[open] input.password-once').inputValue();
  check(lyPassword.length >= 8, `no password shown for the new account: "${lyPassword}"`);
  await page.screenshot({ path: path.join(SHOTS, 'staff-people-password-1366.png') });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(SHOTS, 'staff-people-password-390.png') });
  await page.setViewportSize({ width: 1366, height: 768 });
  await dlg('Đã ghi lại');
  log('ok: teacher account added, password shown once');

  await open('#/people/assignments');
  await page.selectOption('select[name=teacher_id]', { label: 'Đỗ Văn Lí (gv.ly.trinhduyet)' });
  await page.selectOption('select[name=subject]', 'VL');
  await page.selectOption('select[name=class_id]', { label: '10A1' });
  await page.click('button:has-text("Thêm phân công")');
  await waitFor('the assignment is listed', () => Array.from(document.querySelectorAll('table.assignments-list tbody tr'))
    .some((r) => r.textContent.includes('gv.ly.trinhduyet') && r.textContent.includes('Vật lí') && r.textContent.includes('10A1')));
  await shot('people-assignments');
  log('ok: assigned Vật lí 10A1');

  const resetStudent = CREDS.students[2];
  await open(`#/people?q=${resetStudent.username}`);
  const row = page.locator('table.users-list tbody tr', { hasText: resetStudent.username });
  await row.waitFor({ state: 'visible' });
  await row.locator('button', { hasText: 'Đặt lại mật khẩu' }).click();
  await dlg('Đặt lại mật khẩu');
  await page.locator('dialog.kt-dialog[open] input.password-once').waitFor({ state: 'visible' });
  const newPassword = await page.locator('dialog.kt-dialog[open] input.password-once').inputValue();
  check(newPassword && newPassword !== resetStudent.password, 'no new password shown');
  await dlg('Đã ghi lại');
  log('ok: a student\'s password reset by the school admin');
  await logout();
  await login(resetStudent.username, newPassword);
  await page.waitForURL(/\/student\/$/, { timeout: 10000 });
  await page.locator('#view-sessions').waitFor({ state: 'visible' });
  await page.evaluate(() => { sessionStorage.clear(); });
  facts.reset_student = resetStudent.username;
  log('ok: the student logs in at / with the new password');
  await staffLogin(CREDS.school_admin);

  await open('#/people/roster');
  await page.setInputFiles('#roster-file', env.KT_ROSTER);
  await waitFor('the roster preview lists the students', () => document.querySelectorAll('table.roster-table tbody tr').length === 3, null, 20000);
  await shot('people-roster-preview');
  await page.click('button:has-text("Nhập danh sách")');
  await dlg('Nhập');
  await waitFor('the new students\' slips', () => document.querySelectorAll('.roster-result .slip').length === 3, null, 30000);
  await shot('people-roster-done');
  log('ok: roster of 3 previewed, imported, slips shown');

  await open('#/people/slips');
  await page.click('ul.class-links a:text-is("Lớp 10A1")');
  await waitFor('the slips page of 10A1', () => /^#\/people\/slips\/\d+$/.test(location.hash) && !document.querySelector('#screen .loading'));
  const classId = Number((await page.evaluate(() => location.hash)).split('/')[3]);
  await page.click('button:has-text("Đặt lại mật khẩu và in phiếu")');
  await dlg('Đặt lại và in phiếu');
  await waitFor('40 slips for 10A1', () => document.querySelectorAll('.slips .slip').length === 40, null, 60000);
  await shot('people-slips', false);
  await page.emulateMedia({ media: 'print' });
  await page.screenshot({ path: path.join(SHOTS, 'staff-people-slips-print.png'), fullPage: false });
  const navShown = await page.evaluate(() => ['topbar', 'nav'].some((id) => getComputedStyle(document.getElementById(id)).display !== 'none'));
  check(!navShown, 'the navigation is printed');
  const pdf = await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true });
  await page.emulateMedia({ media: 'screen' });
  fs.writeFileSync(path.join(SHOTS, 'staff-slips-10A1.pdf'), pdf);
  const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;
  check(pages === 5, `40 slips should print on 5 A4 pages (8 a page), got ${pages}`);
  const slipPw = await page.evaluate(() => Array.from(document.querySelectorAll('.slip')).map((s) => [s.querySelector('dd.mono').textContent, s.querySelector('.slip-pass').textContent]));
  facts.slips = slipPw.length;
  log(`ok: slips for 10A1 printed on ${pages} pages`);
  // Exam slips: one exam login code per student of the open session (0035).
  await open('#/people/slips');
  await page.click(`ul.exam-slip-links a[href="#/people/exam-slips/${facts.session_id}"]`);
  await page.click('button:has-text("Tạo mã và in phiếu dự thi")');
  await waitFor('40 exam slips with codes', () => document.querySelectorAll('.slips .slip .slip-code').length === 40, null, 60000);
  const slipCode = await page.evaluate(() => { const s = document.querySelectorAll('.slip')[7]; return [s.querySelector('dd.mono').textContent, s.querySelector('.slip-code').textContent]; });
  check(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/.test(slipCode[1]), `the slip's code is not 4 groups of 4: ${slipCode[1]}`);
  await shot('people-exam-slips', false);
  log('ok: exam slips with login codes for the session');
  await logout();
  const cr = await page.evaluate(async ([u, c]) => (await fetch('/api/v1/auth/exam-login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: u, code: c }) })).status, slipCode);
  check(cr === 200, `a slip's exam login code does not work: ${cr}`);

  // A slip's password is the account's password now.
  const [su, sp] = slipPw[5];
  const lr = await page.evaluate(async ([u, p]) => (await fetch('/api/v1/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: u, password: p }) })).status, [su, sp]);
  check(lr === 200, `a slip's login does not work: ${lr}`);
  facts.slip_user = su;

  // ---------------------------------------------------------------- teacher of another subject
  await staffLogin({ username: 'gv.ly.trinhduyet', password: lyPassword });
  await open(`#/sessions/new?test=${testId}`);
  await waitFor('the session form', () => !!document.querySelector('.session-form'));
  const offered = await page.locator('label.check', { hasText: '10A1' }).count();
  const formText = await text('.session-form');
  check(offered === 0, 'a teacher of Vật lí is offered 10A1 for the Toán test');
  check(/chưa được phân công/.test(formText), `no clear message: ${formText}`);
  await shot('session-other-subject');
  const r = await apiAs('POST', `/tests/${testId}/sessions`, { class_ids: [classId], opens_at: '2027-01-05T07:30:00+07:00', closes_at: '2027-01-05T09:00:00+07:00' });
  facts.other_subject_status = r.status;
  facts.other_subject_error = r.data && r.data.error ? r.data.error : null;
  check(r.status === 403, `the server let a teacher of Vật lí open a session of the Toán test: ${r.status} ${JSON.stringify(r.data)}`);
  log(`ok: a teacher of another subject cannot open it (${r.status} ${r.data.error.code}: ${r.data.error.message})`);
  await logout();

  // ---------------------------------------------------------------- teacher: students of the class
  await staffLogin(CREDS.teacher);
  await open('#/people');
  await waitFor('the students of 10A1', () => document.querySelectorAll('table.students-list tbody tr').length === 40 + 0 || document.querySelectorAll('table.students-list tbody tr').length >= 40);
  const t1 = Date.now();
  const srow = page.locator('table.students-list tbody tr', { hasText: CREDS.students[3].username });
  await srow.locator('button', { hasText: 'Đặt lại mật khẩu' }).click();
  await dlg('Đặt lại mật khẩu');
  await page.locator('dialog.kt-dialog[open] input.password-once').waitFor({ state: 'visible' });
  facts.teacher_reset = { username: CREDS.students[3].username, password: await page.locator('dialog.kt-dialog[open] input.password-once').inputValue() };
  await shot('people-teacher-reset', false);
  await dlg('Đã ghi lại');
  check(Date.now() - t1 < 60000, 'a teacher\'s reset took a minute or more');
  await srow.locator('button', { hasText: 'Mở khoá đăng nhập' }).click();
  await waitFor('unlock confirmed', () => /Đã mở khoá/.test(document.getElementById('toast')?.textContent || ''));
  await shot('people-teacher', false);
  log('ok: teacher resets a student\'s password and unlocks in a few seconds');
});

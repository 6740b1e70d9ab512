// The score book (sổ điểm) and the printing of a test in Debian's headless
// Chromium, driven by playwright-core against the real server with the
// `kiemtra demo` school.
//
// Run by tests/integration/test_browser_staff_gradebook.py, which starts the
// server, loads the demo data, has three students of 10A1 take the demo test
// through the API and passes what their marks must be; it checks the database,
// the exported .xlsx and the PDFs after this script ends, from the facts
// printed on the `@@ {"event":"done"}` line.
//
// Environment: KT_URL, KT_CREDS (the demo credentials JSON), KT_PUBLISHED
// (JSON {full name: mark as shown} of the students who took the test),
// KT_SHOTS (screenshots, PDFs and the downloads), KT_PROFILE.
// Exit 0 and "ALL OK" when every check passed; otherwise a FAIL line (the
// protocol of harness.mjs).
import fs from 'node:fs';
import path from 'node:path';
import { check, dlg, env, facts, log, logout, open, page, readJson, run, setup, shot, SHOTS, staffLogin, waitFor } from './harness.mjs';

setup({ need: ['KT_URL', 'KT_CREDS', 'KT_PUBLISHED'], overallMs: 240000, failShot: 'gradebook-FAIL.png' });
const CREDS = readJson(env.KT_CREDS);
const PUBLISHED = JSON.parse(env.KT_PUBLISHED);

const cell = (r, c) => page.locator(`table.gradebook tbody tr:nth-child(${r + 1}) .gb-cell`).nth(c);
const focused = () => page.evaluate(() => { const a = document.activeElement; return a && a.dataset ? `${a.dataset.r},${a.dataset.c}` : ''; });
const avgText = (r) => page.locator(`table.gradebook tbody tr:nth-child(${r + 1}) td.gb-avg`).innerText();
const rowName = (r) => page.locator(`table.gradebook tbody tr:nth-child(${r + 1}) th.gb-name`).innerText();
const sheetDrawn = () => waitFor('the sheet is drawn', () => document.querySelectorAll('table.gradebook tbody tr').length === 40 && !document.querySelector('#screen .loading'));

run(async () => {
  // ---------------------------------------------------------------- teacher: the sheet
  await staffLogin(CREDS.teacher);
  await page.click('#nav-list a:has-text("Sổ điểm")');
  await waitFor('the picker', () => !!document.querySelector('form.gb-picker select[name=class_id]'));
  const offered = await page.locator('form.gb-picker select[name=class_id] option').allInnerTexts();
  const subjects = await page.locator('form.gb-picker select[name=subject] option').allInnerTexts();
  check(offered.join() === '10A1' && subjects.join() === 'Toán', `the teacher is offered ${offered} / ${subjects}`);
  await page.selectOption('form.gb-picker select[name=semester]', '1');
  await page.click('form.gb-picker button[type=submit]');
  await sheetDrawn();
  const heads = await page.locator('table.gradebook thead th').allInnerTexts();
  check(heads.join('|') === 'STT|Mã học sinh|Họ và tên|ĐĐGtx1|ĐĐGtx2|ĐĐGtx3|ĐĐGtx4|ĐĐGgk|ĐĐGck|ĐTBmhk', `columns: ${heads.join('|')}`);
  check(await page.locator('.gb-lock').count() === 0, 'a teacher is offered the lock');
  facts.hash = await page.evaluate(() => location.hash);
  facts.rows = [await rowName(0), await rowName(1), await rowName(2)];
  check(/chưa có điểm/.test(await avgText(0)), `a blank average without its reason: ${await avgText(0)}`);

  // Row 1: a whole semester typed with the keyboard only.
  const t1 = Date.now();
  await cell(0, 0).click();
  const keys = [];
  const type = async (s, key) => { await page.keyboard.type(s); await page.keyboard.press(key); keys.push(s, key); };
  await type('8,5', 'ArrowRight');
  await type('7', 'ArrowRight');
  await type('9', 'ArrowRight');
  await type('6.5', 'ArrowRight');
  await type('8', 'ArrowRight');
  check(await focused() === '0,5', `ArrowRight did not reach ĐĐGck: ${await focused()}`);
  await type('9,5', 'Enter');
  check(await focused() === '1,5', `Enter did not go down: ${await focused()}`);
  await waitFor('ĐTBmhk of row 1 from the server', () => /^\d/.test(document.querySelector('table.gradebook tbody tr td.gb-avg').innerText.trim()), null, 10000);
  facts.avg_row0 = (await avgText(0)).trim();
  facts.marks_row0 = await Promise.all([0, 1, 2, 3, 4, 5].map((c) => cell(0, c).inputValue()));
  check(facts.marks_row0.join('|') === '8,5|7|9|6,5|8|9,5', `the cells show ${facts.marks_row0.join('|')}`);
  check(facts.avg_row0 === '8,4', `ĐTBmhk shown ${facts.avg_row0}`);
  check(/chưa có điểm|thiếu GK/.test(await avgText(1)), `row 2 without its reason: ${await avgText(1)}`);
  log(`ok: one student's semester typed in ${Date.now() - t1} ms, ĐTBmhk ${facts.avg_row0} from the server`);

  // Row 2, ĐĐGtx1: arrows go back and Enter saves "7".
  for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowLeft');
  check(await focused() === '1,0', `ArrowLeft did not reach ĐĐGtx1 of row 2: ${await focused()}`);
  await type('7', 'Enter');
  await waitFor('row 2 ĐĐGtx1 saved', () => document.querySelector('table.gradebook tbody tr:nth-child(2) .gb-cell').dataset.state === 'saved');
  check(await focused() === '2,0', `Enter did not go down from row 2: ${await focused()}`);

  // Row 3: bad marks are refused with a message, kept in the cell, not saved.
  for (const bad of ['11', '8,55']) {
    await page.keyboard.type(bad);
    await page.keyboard.press('Enter');
    await waitFor(`"${bad}" refused`, () => { const c = document.querySelector('table.gradebook tbody tr:nth-child(3) .gb-cell'); return c.dataset.state === 'error' && !document.getElementById('gb-error').hidden; });
    check(await focused() === '2,0', `an invalid mark let the focus leave: ${await focused()}`);
    const msg = await page.locator('#gb-error').innerText();
    check(bad === '11' ? /từ 0 đến 10/.test(msg) : /một chữ số thập phân/.test(msg), `message for ${bad}: ${msg}`);
    check(await cell(2, 0).getAttribute('aria-invalid') === 'true', 'aria-invalid is not set');
    facts[`msg_${bad}`] = msg;
    if (bad === '11') await shot('gradebook-error', false);
    await page.keyboard.press('Escape');
    check(await cell(2, 0).inputValue() === '', 'Esc did not put back the stored (empty) value');
  }
  await page.keyboard.press('ArrowUp');
  check(await focused() === '1,0', `ArrowUp: ${await focused()}`);
  facts.keys = keys;
  log(`ok: bad marks refused: ${facts['msg_11']} / ${facts['msg_8,55']}`);

  // ---------------------------------------------------------------- publish a session into ĐĐGgk
  await page.click('button.gb-publish');
  await page.locator('dialog.kt-dialog[open] select[name=session]').waitFor({ state: 'visible' });
  check(await page.locator('dialog.kt-dialog[open] select[name=slot]').inputValue() === 'gk', 'the gk test does not go to ĐĐGgk by default');
  const slotOpts = await page.locator('dialog.kt-dialog[open] select[name=slot] option').count();
  check(slotOpts === 6, `${slotOpts} columns offered`);
  await shot('gradebook-publish', false);
  await dlg('Ghi vào sổ');
  await waitFor('published', () => /Đã ghi \d+ điểm/.test(document.getElementById('toast')?.textContent || ''));
  facts.publish_toast = await page.locator('#toast').innerText();
  await sheetDrawn();
  facts.published = {};
  const rows = await page.locator('table.gradebook tbody tr').count();
  for (let r = 0; r < rows; r++) {
    const n = (await rowName(r)).trim();
    if (n in PUBLISHED) facts.published[n] = await cell(r, 4).inputValue();
  }
  check(Object.keys(PUBLISHED).every((n) => facts.published[n] === PUBLISHED[n]),
    `published marks shown ${JSON.stringify(facts.published)}, want ${JSON.stringify(PUBLISHED)}`);
  log(`ok: ${facts.publish_toast}`);
  await shot('gradebook');

  // ---------------------------------------------------------------- exports
  for (const fmt of ['xlsx', 'csv']) {
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click(`button.gb-export-${fmt}`)]);
    const where = path.join(SHOTS, `gradebook-export.${fmt}`);
    await dl.saveAs(where);
    facts[`export_${fmt}`] = where;
    facts[`export_${fmt}_name`] = dl.suggestedFilename();
  }
  log(`ok: exported ${facts.export_xlsx_name}, ${facts.export_csv_name}`);
  await logout();

  // ---------------------------------------------------------------- school_admin: lock, unlock
  await staffLogin(CREDS.school_admin);
  await open(facts.hash);
  await sheetDrawn();
  await page.click('button.gb-lock-btn');
  await dlg('Khoá sổ');
  await waitFor('locked', () => !!document.querySelector('.gb-locked') && document.querySelectorAll('table.gradebook tbody tr').length === 40);
  check(await cell(0, 0).evaluate((n) => n.readOnly) === true, 'a locked sheet is editable');
  check(await page.locator('button.gb-publish').count() === 0, 'publishing offered on a locked sheet');
  await cell(0, 0).click();
  await page.keyboard.type('5');
  await page.keyboard.press('Enter');
  check(await cell(0, 0).inputValue() === '8,5', 'typing changed a locked cell');
  facts.locked_notice = await page.locator('.gb-locked').innerText();
  await shot('gradebook-locked');
  await page.click('button.gb-unlock-btn');
  await page.locator('dialog.kt-dialog[open] textarea[name=reason]').waitFor({ state: 'visible' });
  await dlg('Mở khoá');
  await waitFor('a reason is asked', () => /lí do/.test(document.querySelector('dialog.kt-dialog[open] .notice.error')?.textContent || ''));
  facts.reason = 'Sửa điểm ĐĐGtx1 nhập nhầm (trình duyệt)';
  await page.fill('dialog.kt-dialog[open] textarea[name=reason]', facts.reason);
  await dlg('Mở khoá');
  await waitFor('unlocked', () => !document.querySelector('.gb-locked') && !!document.querySelector('button.gb-lock-btn') && document.querySelectorAll('table.gradebook tbody tr').length === 40);
  check(await cell(0, 0).evaluate((n) => n.readOnly) === false, 'still read-only after the unlock');
  log('ok: locked (read-only) and unlocked with a reason');
  await logout();

  // ---------------------------------------------------------------- printing
  await staffLogin(CREDS.teacher);
  await open('#/tests');
  await page.locator('table.tests-list a').first().click();
  await waitFor('the test page', () => !!document.querySelector('a.print-link'));
  facts.test_id = Number(await page.evaluate(() => location.hash.split('/')[2]));
  await page.click('a.print-link');
  await waitFor('the print page', () => document.querySelectorAll('.pr-page').length >= 12, null, 20000);
  const codes = await page.locator('.pr-controls select[name=form] option').allInnerTexts();
  facts.forms = codes.length - 1;
  check(await page.locator('.pr-paper').count() === facts.forms && await page.locator('.pr-key').count() === facts.forms, 'a paper and a key per form');
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SHOTS, 'print-form.png') });
  await shot('print-all', false);
  await page.emulateMedia({ media: 'print' });
  fs.writeFileSync(path.join(SHOTS, 'print-all.pdf'), await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true }));
  await page.emulateMedia({ media: 'screen' });
  // One form, and its key alone.
  const first = await page.locator('.pr-paper .pr-code strong').first().innerText();
  facts.form_code = first;
  await page.selectOption('.pr-controls select[name=form]', first);
  await waitFor('one form', () => document.querySelectorAll('.pr-page').length === 3);
  await page.emulateMedia({ media: 'print' });
  fs.writeFileSync(path.join(SHOTS, 'print-form.pdf'), await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true }));
  await page.emulateMedia({ media: 'screen' });
  await page.selectOption('.pr-controls select[name=only]', 'key');
  await waitFor('the key alone', () => document.querySelectorAll('.pr-page').length === 1 && !!document.querySelector('.pr-key'));
  await page.screenshot({ path: path.join(SHOTS, 'print-key.png'), fullPage: true });
  await page.emulateMedia({ media: 'print' });
  await page.screenshot({ path: path.join(SHOTS, 'print-key-media-print.png'), fullPage: true });
  fs.writeFileSync(path.join(SHOTS, 'print-key.pdf'), await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true }));
  await page.emulateMedia({ media: 'screen' });
  log(`ok: printed ${facts.forms} forms, form ${first}, key of ${first}`);
});

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
// passed; otherwise a FAIL line (the protocol of harness.mjs).
import path from 'node:path';
import { check, dlg, env, facts, open, page, run, setup, SHOTS, staffLogin, waitFor } from './harness.mjs';

setup({ need: ['KT_URL', 'KT_USER', 'KT_PASS', 'KT_FILES'], overallMs: 90000, failShot: 'staff-import-xlsx-fail.png',
  dump: { preview: '.import-preview' } });

run(async () => {
  await staffLogin({ username: env.KT_USER, password: env.KT_PASS });
  await open('#/import');
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
  await dlg('Nhập');
  await waitFor('the good questions are imported', () => document.querySelectorAll('table.import-done tr').length > 1, null, 20000);
  facts.imported = await page.evaluate(() => Array.from(document.querySelectorAll('table.import-done tbody tr'))
    .filter((tr) => tr.cells[2] && tr.cells[2].textContent === 'mới')
    .map((tr) => Number(tr.querySelector('a').getAttribute('href').split('/')[2])));
});

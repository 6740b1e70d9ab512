// The "Tải Word (.docx)" links of a published test's page in Debian's
// headless Chromium, driven by playwright-core against the real server with
// the `kiemtra demo` school: the teacher logs in, opens the test, clicks the
// link of the second form and gets de-<code>.docx, saved where KT_DOCX_OUT
// says for tests/integration/test_docx_export.py to read back.
//
// Environment: KT_URL, KT_CREDS (demo credentials JSON), KT_TEST (test id),
// KT_DOCX_OUT, KT_SHOTS, KT_PROFILE. Exit 0 and "ALL OK" when every check
// passed; otherwise a FAIL line (the protocol of harness.mjs).
import path from 'node:path';
import { check, env, facts, open, page, readJson, run, setup, SHOTS, staffLogin, waitFor } from './harness.mjs';

setup({ need: ['KT_URL', 'KT_CREDS', 'KT_TEST', 'KT_DOCX_OUT'], overallMs: 90000, failShot: 'staff-test-docx-fail.png' });
const CREDS = readJson(env.KT_CREDS);

run(async () => {
  await staffLogin(CREDS.teacher);
  await open(`#/tests/${env.KT_TEST}`);
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
});

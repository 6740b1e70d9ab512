// Marking through the queue with the keyboard, the release with answers and
// explanations, and the student's per-question review, in Debian's headless
// Chromium against the real server with the `kiemtra demo` school.
//
// Run by tests/integration/test_browser_staff_marking.py, which publishes a
// test with essays, has students answer and submit through the API, and
// checks the database after this script ends (the marks and comments it
// reports on the `@@ {"event":"done"}` line).
//
// Environment: KT_URL, KT_CREDS (demo credentials JSON), KT_SESSION (the
// session id), KT_ESSAYS (JSON: [{ref, criteria}] per essay), KT_STUDENTS
// (how many answered), KT_SHOTS, KT_PROFILE.
// Exit 0 and "ALL OK" when every check passed; otherwise a FAIL line (the
// protocol of harness.mjs).
import { check, env, facts, log, login, logout, open, page, readJson, run, setup, shot, staffLogin, waitFor } from './harness.mjs';

setup({ need: ['KT_URL', 'KT_CREDS', 'KT_SESSION', 'KT_ESSAYS', 'KT_STUDENTS'], overallMs: 200000, failShot: 'marking-FAIL.png' });
const CREDS = readJson(env.KT_CREDS);
const SID = env.KT_SESSION;
const ESSAYS = JSON.parse(env.KT_ESSAYS);
const NSTUDENTS = Number(env.KT_STUDENTS);
facts.marks = [];

const focusName = () => page.evaluate(() => document.activeElement && (document.activeElement.name || document.activeElement.id));

/* Marks every answer of the essay on screen with the keyboard only. */
async function markEssay(e, number) {
  for (let n = 0; n < NSTUDENTS; n++) {
    await waitFor(`answer ${n + 1} on screen with the first mark box focused`,
      (k) => (document.getElementById('mark-who')?.textContent || '').startsWith(`Bài ${k}/`) &&
        document.activeElement && document.activeElement.name === 'criteria[0]', n + 1);
    const who = await page.locator('#mark-who').innerText();
    // Criterion k gets its full points, but student 1 loses the first criterion.
    const given = e.criteria.map((p, k) => (n === 1 && k === 0 ? '0' : p.replace('.', ',')));
    for (let k = 0; k < given.length; k++) {
      await page.keyboard.press('Control+A');
      await page.keyboard.type(given[k]);
      await page.keyboard.press('Tab');
    }
    check(await focusName() === 'comment', `after the marks the comment box has the focus (it is ${await focusName()})`);
    const comment = `Câu ${number}: ${n === 1 ? 'thiếu ý a' : 'làm tốt'} (bài ${n + 1}).`;
    await page.keyboard.press('Control+A');
    await page.keyboard.type(comment);
    if (n === 0 && number === ESSAYS[0].number) {
      await shot('marking', false, [1366]);
      await shot('marking', true, [390]);
    }
    await page.keyboard.press('Control+Enter');
    facts.marks.push({ ref: e.ref, who, given: given.map((x) => x.replace(',', '.')), comment });
  }
}

run(async () => {
  // ---------------------------------------------------------------- the queue
  await staffLogin(CREDS.teacher);
  await open(`#/sessions/${SID}`);
  await waitFor('the session page links to the marking', () => !!document.querySelector('.release-panel a[href$="/marking"]'));
  await page.click('.release-panel a[href$="/marking"]');
  await waitFor('the queue lists the essays', (n) => document.querySelectorAll('table.marking-queue tbody tr').length === n, ESSAYS.length);
  const rows = await page.locator('table.marking-queue tbody tr').allInnerTexts();
  check(rows.every((r) => r.includes(`Đã chấm 0/${NSTUDENTS}`)), `every essay shows "Đã chấm 0/${NSTUDENTS}": ${rows.join(' | ')}`);
  await shot('marking-queue');
  log('ok: the queue shows each essay with its progress');

  // ---------------------------------------------------------------- keyboard marking
  await page.locator('table.marking-queue tbody tr a').first().click();
  for (let i = 0; i < ESSAYS.length; i++) {
    const e = ESSAYS[i];
    await waitFor(`essay ${e.ref} is on screen`, (ref) => location.hash.endsWith('/marking/' + ref) && !!document.getElementById('mark-who'), e.ref);
    if (i === 0) {
      // Names hidden for fair marking; J/K and Alt+arrows move between students.
      const named = await page.locator('#mark-who').innerText();
      check(!/^Bài 1\/\d+: Bài số/.test(named), `names are shown by default (${named})`);
      await page.keyboard.press('Alt+ArrowRight');
      await waitFor('Alt+→ shows the next student', () => /^Bài 2\//.test(document.getElementById('mark-who').textContent));
      await page.keyboard.press('Alt+ArrowLeft');
      await waitFor('Alt+← goes back', () => /^Bài 1\//.test(document.getElementById('mark-who').textContent));
      await page.evaluate(() => document.getElementById('mark-who').focus());
      await page.keyboard.press('j');
      await waitFor('J shows the next student', () => /^Bài 2\//.test(document.getElementById('mark-who').textContent));
      await page.keyboard.press('k');
      await waitFor('K goes back', () => /^Bài 1\//.test(document.getElementById('mark-who').textContent));
      await page.focus('input[name="criteria[0]"]');
      const keys = await page.locator('#mark-keys').innerText();
      check(/Ctrl/.test(keys) && /J/.test(keys) && /Alt/.test(keys), `the keys are documented on screen: ${keys}`);
      log('ok: J/K and Alt+←/→ move between students');
    }
    e.number = Number((await page.locator('#mark-q-title').innerText()).match(/Câu (\d+)/)[1]);
    await markEssay(e, e.number);
    await waitFor(`essay ${e.ref} done: "Đã chấm ${NSTUDENTS}/${NSTUDENTS}"`, (n) => !!document.querySelector('.mark-done') &&
      (document.querySelector('.mark-progress-box')?.textContent || '').includes(`Đã chấm ${n}/${n}`), NSTUDENTS);
    if (i < ESSAYS.length - 1) {
      // The link to the next essay has the focus: Enter opens it.
      check(await page.evaluate(() => document.activeElement && document.activeElement.closest('.mark-done') !== null), 'the next-question link has the focus');
      await page.keyboard.press('Enter');
    }
    log(`ok: essay ${e.ref} marked for ${NSTUDENTS} students with the keyboard only`);
  }
  // The anonymous mode hides names.
  await page.check('#mark-anon');
  await waitFor('names hidden', () => /Bài số \d+/.test(document.getElementById('mark-who').textContent));
  await page.uncheck('#mark-anon');
  await open(`#/sessions/${SID}/marking`);
  await waitFor('the queue shows everything marked', (n) => Array.from(document.querySelectorAll('table.marking-queue tbody tr')).every((r) => r.textContent.includes(`Đã chấm ${n}/${n}`)), NSTUDENTS);

  // ---------------------------------------------------------------- release
  await open(`#/sessions/${SID}`);
  await page.check('#release-explanations');
  await page.click('.release-form button[type=submit]');
  await waitFor('released with the explanations', () => /Đã công bố: điểm, đáp án và lời giải/.test(document.querySelector('.release-state')?.textContent || ''));
  log('ok: released with answers and explanations');
  await logout();

  // ---------------------------------------------------------------- the student
  const st = CREDS.students[1];
  await login(st.username, st.password);
  await page.waitForURL('**/student/**');
  await page.locator('#view-sessions').waitFor({ state: 'visible' });
  await page.locator(`li[data-session="${SID}"] button`, { hasText: 'Xem kết quả' }).click();
  await page.locator('#view-done').waitFor({ state: 'visible' });
  await waitFor('the review is drawn', () => document.querySelectorAll('.review-q').length > 0);
  const review = await page.evaluate(() => Array.from(document.querySelectorAll('.review-q')).map((q) => ({
    ref: q.dataset.ref, text: q.innerText, key: !!q.querySelector('.is-key'), math: !!q.querySelector('math'),
  })));
  for (const e of ESSAYS) {
    const q = review.find((x) => x.ref === e.ref);
    check(q, `the review has essay ${e.ref}`);
    check(q.text.includes(`Câu ${e.number}: thiếu ý a (bài 2).`), `essay ${e.ref} shows the teacher's comment: ${q.text.slice(0, 400)}`);
    check(q.text.includes('Bài giải mẫu') && q.text.includes('Điểm theo hướng dẫn chấm'), `essay ${e.ref} shows the model answer and rubric`);
  }
  const choice = review.filter((x) => x.text.includes('Em đã chọn'));
  check(choice.length > 0 && choice.every((x) => x.text.includes('Đáp án đúng') && x.key), 'each choice question shows the correct answer, marked in the options');
  check(review.some((x) => x.text.includes('Lời giải')), 'explanations are shown');
  const badges = await page.locator('.review-q .rv-badge').allInnerTexts();
  check(badges.includes('Sai') && badges.includes('Đúng'), `right and wrong answers are told apart: ${badges.join(', ')}`);
  check(review.some((x) => x.math), 'math renders as MathML');
  facts.review = review.length;
  await shot('student-review');
  log('ok: the student sees the per-question review with the key, explanation and comment');
});

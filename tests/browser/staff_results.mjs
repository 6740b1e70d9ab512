// The results and item statistics screen in Debian's headless Chromium,
// driven by playwright-core against the real server with the `kiemtra demo`
// school, after students answered the demo session with a known pattern.
//
// Run by tests/integration/test_browser_staff_results.py, which answers the
// session through the API, computes the expected statistics itself and
// passes them here (KT_EXPECT); it reads back the .xlsx this script saves.
//
// Environment: KT_URL, KT_CREDS (demo credentials JSON), KT_EXPECT (JSON:
// session_id, test_id, n, mean, sd, median, hist, items {ref: {p, r_pb,
// r_rest, d, flags, options}}), KT_XLSX (where to save the download),
// KT_SHOTS (screenshots), KT_PROFILE. Exit 0 and "ALL OK" when every check
// passed; otherwise a FAIL line (the protocol of harness.mjs).
import { check, env, facts, log, open, page, readJson, run, setup, shot, staffLogin, waitFor } from './harness.mjs';

setup({ need: ['KT_URL', 'KT_CREDS', 'KT_EXPECT', 'KT_XLSX'], overallMs: 150000, failShot: 'results-fail.png' });
const CREDS = readJson(env.KT_CREDS);
const EXP = readJson(env.KT_EXPECT);

/* "0,63" → 0.63; "—" → null. The page shows two decimals of the server's four:
 * equal within half a unit plus the server's rounding. */
const parseVi = (t) => (t.trim() === '—' ? null : Number(t.trim().replace(',', '.')));
function near(got, want, what) {
  if (want === null || want === undefined) { check(got === null, `${what}: expected no value, page shows ${got}`); return; }
  check(got !== null && Math.abs(got - want) <= 0.00505 + 1e-9, `${what}: page shows ${got}, expected ${want}`);
}

run(async () => {
  await staffLogin(CREDS.teacher);

  // From the session page, by its link.
  await open(`#/sessions/${EXP.session_id}`);
  await waitFor('the session page has the results link', () => !!document.querySelector('a.results-link'));
  await page.click('a.results-link');
  await waitFor('the results page is drawn', () => location.hash.endsWith('/results') && !!document.querySelector('.result-cards') && !document.querySelector('#screen .loading'));
  log('results page open');

  // Summary cards.
  const card = async (k) => parseVi(await page.locator(`.result-card[data-stat="${k}"] .rc-value`).innerText());
  check(await card('n') === EXP.n, `n: ${await card('n')} vs ${EXP.n}`);
  near(await card('mean'), EXP.mean, 'mean');
  near(await card('sd'), EXP.sd, 'sd');
  near(await card('median'), EXP.median, 'median');
  near(await card('min'), EXP.min, 'min');
  near(await card('max'), EXP.max, 'max');
  const relLabel = await page.locator('.result-card[data-stat="reliability"] .rc-label').innerText();
  near(await card('reliability'), EXP.kr20 !== null ? EXP.kr20 : EXP.alpha, relLabel);
  facts.reliability_label = relLabel;

  // The histogram: one SVG bar per bin, its data-count the expected count,
  // heights proportional; role=img with title and desc; the data table too.
  const hist = await page.evaluate(() => {
    const svg = document.querySelector('svg.hist');
    return {
      role: svg.getAttribute('role'), title: svg.querySelector('title')?.textContent, desc: svg.querySelector('desc')?.textContent,
      bars: Array.from(svg.querySelectorAll('rect.hist-bar')).map((r) => ({ c: Number(r.dataset.count), h: Number(r.getAttribute('height')) })),
      labels: Array.from(svg.querySelectorAll('text.hist-count')).map((t) => Number(t.textContent)),
      table: Array.from(document.querySelectorAll('table.hist-table tbody tr td.num')).map((t) => Number(t.textContent)),
    };
  });
  check(hist.role === 'img' && /Phân bố điểm/.test(hist.title) && hist.desc.length > 10, `histogram accessibility: ${JSON.stringify(hist)}`);
  check(JSON.stringify(hist.bars.map((b) => b.c)) === JSON.stringify(EXP.hist), `bars ${JSON.stringify(hist.bars)} vs ${JSON.stringify(EXP.hist)}`);
  check(JSON.stringify(hist.labels) === JSON.stringify(EXP.hist), `bar labels ${hist.labels}`);
  check(JSON.stringify(hist.table) === JSON.stringify(EXP.hist), `histogram table ${hist.table}`);
  const most = Math.max(...EXP.hist);
  for (const b of hist.bars) check(Math.abs(b.h - Math.round((b.c / most) * 192)) <= 1, `bar height ${b.h} for ${b.c} of ${most}`);
  facts.bars = hist.bars.length;

  // The item table: p, r_pb, r_rest, D and flags as computed independently.
  const rows = await page.evaluate(() => Array.from(document.querySelectorAll('table.results-items tbody tr[data-item-ref]')).map((tr) => ({
    ref: tr.dataset.itemRef,
    p: tr.querySelector('.p').textContent, rpb: tr.querySelector('.rpb').textContent,
    rrest: tr.querySelector('.rrest').textContent, d: tr.querySelector('.d').textContent,
    flags: Array.from(tr.querySelectorAll('[data-flag]')).map((b) => b.dataset.flag),
    flagText: Array.from(tr.querySelectorAll('[data-flag]')).map((b) => b.textContent),
  })));
  check(rows.length === Object.keys(EXP.items).length, `item rows ${rows.length} vs ${Object.keys(EXP.items).length}`);
  let flagged = 0;
  for (const r of rows) {
    const e = EXP.items[r.ref];
    check(e, `unexpected item ${r.ref}`);
    near(parseVi(r.p), e.p, `${r.ref} p`);
    near(parseVi(r.rpb), e.r_pb, `${r.ref} r_pb`);
    near(parseVi(r.rrest), e.r_rest, `${r.ref} r_rest`);
    near(parseVi(r.d), e.d, `${r.ref} D`);
    check(JSON.stringify(r.flags) === JSON.stringify(e.flags), `${r.ref} flags ${r.flags} vs ${e.flags}`);
    for (const t of r.flagText) check(['độ phân biệt âm', 'quá khó (p < 0,2)', 'quá dễ (p > 0,9)'].includes(t), `flag text ${t}`);
    flagged += r.flags.length ? 1 : 0;
    check(!/\d\.\d/.test(r.p + r.rpb + r.rrest + r.d), `${r.ref}: a decimal point instead of a comma`);
  }
  facts.flagged = flagged;
  await shot('results');

  // One item's distractors, opened with the keyboard.
  const mcq = Object.keys(EXP.items).find((k) => EXP.items[k].options && EXP.items[k].kind === 'MCQ4');
  const btn = page.locator(`tr[data-item-ref="${mcq}"] button[aria-expanded]`);
  await btn.focus();
  await page.keyboard.press('Enter');
  await waitFor('the distractor table opens', (ref) => {
    const b = document.querySelector(`tr[data-item-ref="${ref}"] button[aria-expanded]`);
    return b && b.getAttribute('aria-expanded') === 'true' && !document.getElementById(b.getAttribute('aria-controls')).hidden;
  }, mcq);
  const dist = await page.evaluate((ref) => {
    const b = document.querySelector(`tr[data-item-ref="${ref}"] button[aria-expanded]`);
    const box = document.getElementById(b.getAttribute('aria-controls'));
    return Array.from(box.querySelectorAll('tbody tr[data-option]')).filter((tr) => tr.dataset.option)
      .map((tr) => ({ o: tr.dataset.option, count: Number(tr.querySelector('.count').textContent), key: tr.classList.contains('key') }));
  }, mcq);
  for (const d of dist) {
    const e = EXP.items[mcq].options[d.o];
    check(e && e.count === d.count, `${mcq} option ${d.o}: ${d.count} vs ${JSON.stringify(e)}`);
  }
  check(dist.filter((d) => d.key).length === 1, `${mcq}: one key marked`);
  await page.locator(`tr[data-item-ref="${mcq}"]`).scrollIntoViewIfNeeded();
  await shot('results-items-distractors', true);

  // Students sorted by score, highest first.
  await page.click('button.sort[data-sort="score"]');
  const scores = await page.evaluate(() => Array.from(document.querySelectorAll('table.results-students tbody td.total')).map((t) => t.textContent));
  const nums = scores.filter((s) => s !== '—').map((s) => Number(s.replace(',', '.')));
  check(nums.length >= EXP.n && nums.every((v, i) => i === 0 || nums[i - 1] >= v), `sorted scores ${scores.slice(0, 8)}`);
  await page.click('button.sort[data-sort="name"]');
  check(await page.locator('th[aria-sort="ascending"] button.sort[data-sort="name"]').count() === 1, 'name sort is announced');

  // The Excel download (fetched with the token, saved as a blob).
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 20000 }), page.click('button.xlsx-download')]);
  facts.xlsx_name = dl.suggestedFilename();
  await dl.saveAs(env.KT_XLSX);
  await waitFor('the download is confirmed', () => /Đã tải/.test(document.querySelector('.results-head .notice')?.textContent || ''));

  // The test's results (all sessions), from the test page's link.
  await open(`#/tests/${EXP.test_id}`);
  await waitFor('the test page has the results link', () => !!document.querySelector('a.results-link'));
  await page.click('a.results-link');
  await waitFor('the test results are drawn', () => /\/tests\/\d+\/results$/.test(location.hash) && !!document.querySelector('svg.hist') && !document.querySelector('#screen .loading'));
  const bars2 = await page.evaluate(() => Array.from(document.querySelectorAll('svg.hist rect.hist-bar')).map((r) => Number(r.dataset.count)));
  check(JSON.stringify(bars2) === JSON.stringify(EXP.hist), `test histogram ${bars2}`);
  await shot('results-test', true);
});

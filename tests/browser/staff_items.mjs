// The staff item screens in Debian's headless Chromium (playwright-core):
// bank, item page, editor with LaTeX and a pasted image, review with the
// diff, return with a comment, resubmit, approval, and the refusal of a
// teacher of another subject.
//
// Run by tests/integration/test_browser_staff_items.py, which starts the
// server with the demo school and passes: KT_URL, KT_TEACHER, KT_HEAD,
// KT_OTHER (user:password each), KT_SHOTS (screenshots), KT_PROFILE.
// Prints "ITEM <id>" once the item exists, and "ALL OK" when every check
// passed; otherwise a FAIL line and a non-zero exit (the protocol of
// harness.mjs).
import zlib from 'node:zlib';
import { check, env, log, logout, page, run, setup, shot, staffLogin, waitFor } from './harness.mjs';

setup({ need: ['KT_URL', 'KT_TEACHER', 'KT_HEAD', 'KT_OTHER'], overallMs: 170000, failShot: 'staff-FAIL.png', dump: { screen: '#screen' } });
const cred = (v) => { const i = v.indexOf(':'); return { username: v.slice(0, i), password: v.slice(i + 1) }; };

/* A real PNG (a 20x10 red bar with a CRC-checked structure). */
function png() {
  const w = 20, h = 10;
  const raw = Buffer.concat(Array.from({ length: h }, () => Buffer.concat([Buffer.from([0]), Buffer.alloc(w * 3, Buffer.from([0xd0, 0x30, 0x30]))])));
  const crcTable = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
  const crc = (b) => { let c = 0xffffffff; for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4); c.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

const screenReady = () => waitFor('screen rendered', () => !document.querySelector('#screen > .loading'));

/* Every screen at 1366×768 and at 390×844 (full page; no sideways scroll at 390). */
const shots = (name) => shot(`staff-${name}`);
/* Logs in at a fresh visit of / (no screen in the address) as WHO (user:password). */
async function login(who) {
  if (await page.locator('#logout').isVisible()) await logout();
  await staffLogin(cred(who));
}
const go = async (hash) => { await page.evaluate((h) => { location.hash = h; }, hash); await page.waitForTimeout(50); await screenReady(); };
const total = () => page.evaluate(() => Number(document.getElementById('bank-total')?.dataset.total));

run(async () => {
  const cspErrors = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text()); });
  page.on('dialog', (d) => d.dismiss());

  // ---- the teacher lands on the bank
  await login(env.KT_TEACHER);
  check(await page.evaluate(() => location.hash) === '#/bank', 'the teacher does not land on #/bank');
  await page.waitForSelector('#bank-filters');
  const all = await total();
  check(all >= 64, `the bank shows ${all} items, the demo has 64`);
  await shots('bank');

  // ---- search without diacritics, then the level filter
  await page.fill('#bank-filters [name=q]', 'ham so');
  await page.click('#bank-filters button[type=submit]');
  await waitFor('search applied', () => location.hash.includes('q=ham+so') && document.getElementById('bank-total'));
  await screenReady();
  const found = await total();
  const titles = await page.locator('.bank-table tbody tr td:first-child a').allInnerTexts();
  check(found > 0 && found < all, `"ham so" found ${found} of ${all}`);
  check(titles.some((t) => /hàm số/i.test(t)), `no "hàm số" title among ${JSON.stringify(titles)}`);
  const hasCounts = await page.evaluate(() => /\(\d+\)/.test(document.querySelector('#bank-filters [name=level]').innerText));
  check(hasCounts, 'the level filter shows no counts');
  await page.selectOption('#bank-filters [name=level]', 'MD.B');
  await waitFor('level applied', () => location.hash.includes('level=MD.B'));
  await screenReady();
  const byLevel = await total();
  check(byLevel > 0 && byLevel < found, `the level filter did not change the count (${found} → ${byLevel})`);
  await page.reload();
  await screenReady();
  check(await page.inputValue('#bank-filters [name=q]') === 'ham so' && await page.inputValue('#bank-filters [name=level]') === 'MD.B' && await total() === byLevel,
    'the filters were not kept across a reload');
  await shots('bank-filtered');
  log(`bank: ${all} items, "ham so" ${found}, Biết ${byLevel}`);

  // ---- the editor: LaTeX and a pasted PNG
  await go('#/items/new');
  await page.waitForSelector('#item-editor');
  const title = `Câu hỏi trình duyệt ${Date.now() % 100000}`;
  await page.fill('#item-editor [name=title]', title);
  await page.fill('#item-editor [name=stem]', 'Tính giá trị của $\\frac{1}{2}+\\sqrt{x}$ khi $x = 4$.\n\nHình vẽ: ');
  await page.focus('#item-editor [name=stem]');
  await page.evaluate((b64) => {
    const ta = document.querySelector('#item-editor [name=stem]');
    ta.selectionStart = ta.selectionEnd = ta.value.length;
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'hinh.png', { type: 'image/png' }));
    ta.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  }, png().toString('base64'));
  await waitFor('the pasted image uploaded and inserted', () => /!\[ảnh\]\(media\/[0-9a-f]{64}\.png\)/.test(document.querySelector('#item-editor [name=stem]').value));
  await waitFor('the preview shows MathML and the image', () => {
    const pv = document.querySelector('.math-field[data-field=stem] .math-preview');
    const img = pv && pv.querySelector('img');
    return pv && pv.querySelector('math mfrac') && pv.querySelector('math msqrt') && img && img.src.startsWith('data:image/png') && img.naturalWidth === 20;
  });
  // A LaTeX error is shown next to its field, in Vietnamese.
  await page.fill('#item-editor [name="options[0].html"]', '$\\frac{1}{$');
  await waitFor('a LaTeX error shown', () => { const e = document.querySelector('.math-field[data-field="options[0].html"] .latex-error'); return e && !e.hidden && /lỗi LaTeX/.test(e.textContent); });
  const opts = ['$\\frac{5}{2}$', '$\\frac{3}{2}$', '$2$', '$\\frac{1}{2}$'];
  for (let i = 0; i < 4; i++) await page.fill(`#item-editor [name="options[${i}].html"]`, opts[i]);
  await page.check('#item-editor input[name=key][value=A]');
  await page.fill('#item-editor [name=explanation]', 'Với $x = 4$: $\\frac{1}{2}+\\sqrt{4} = \\frac{5}{2}$.');
  await page.fill('#outcome-search', 'ham so');
  const shown = await page.locator('#outcome-tree label.tree-node:not([hidden]) input[value^="VN18.TOAN.10"]').count();
  const every = await page.locator('#outcome-tree label.tree-node input[value^="VN18."]').count();
  check(shown > 0 && shown < every, `the outcome search shows ${shown} of ${every} nodes`);
  await page.locator('#outcome-tree label.tree-node:not([hidden]) input[value^="VN18.TOAN.10"]').first().check();
  check(/Đã chọn/.test(await page.locator('#outcome-chosen').innerText()), 'the chosen outcome is not shown');
  await page.waitForTimeout(200);
  await shots('editor');
  await page.click('#save-draft');
  await waitFor('saved as a draft', () => /Đã lưu phiên bản 1/.test(document.getElementById('editor-status').textContent), null, 10000);
  const id = await page.evaluate(() => (/#\/items\/(\d+)\/edit/.exec(location.hash) || [])[1]);
  check(id, 'the address did not become the item\'s edit page');
  console.log(`ITEM ${id}`);
  await page.click('#save-submit');
  await waitFor('submitted, on the item page', (i) => location.hash === `#/items/${i}` && /Chờ duyệt/.test(document.querySelector('.item-head')?.textContent || ''), id, 10000);
  await waitFor('the item page preview shows MathML and the stored image', () => {
    const pv = document.getElementById('item-preview');
    const img = pv && pv.querySelector('img');
    return pv.querySelector('math') && img && img.src.startsWith('data:image/png') && img.naturalWidth === 20;
  });
  check(await page.locator('.key-panel .key').innerText() === 'A', 'the key shown is not A');
  await shots('item-submitted');
  log(`item ${id} written and submitted`);

  // ---- the subject head: queue, diff, return with a comment
  await login(env.KT_HEAD);
  check(await page.evaluate(() => location.hash) === '#/review', 'the subject head does not land on #/review');
  await page.waitForSelector(`.review-table tr[data-id="${id}"]`);
  await shots('review-queue');
  await page.click(`.review-table tr[data-id="${id}"] a`);
  await page.waitForSelector('#diff');
  check(/Câu hỏi mới/.test(await page.locator('#diff-versions').innerText()), 'a first version is not shown as new');
  await page.click('#act-return');
  const comment = 'Phương án B và D cần rõ ràng hơn; thầy kiểm tra lại lời giải.';
  await page.fill('dialog textarea[name=comment]', '');
  await page.click('dialog button.danger');
  await waitFor('an empty comment is refused', () => /Cần nhập nhận xét/.test(document.querySelector('dialog')?.textContent || ''));
  await page.fill('dialog textarea[name=comment]', comment);
  await page.click('dialog button.danger');
  await waitFor('back to the queue', () => location.hash === '#/review');
  await screenReady();
  check(await page.locator(`.review-table tr[data-id="${id}"]`).count() === 0, 'the returned item is still in the queue');

  // ---- the teacher sees the comment, edits, resubmits
  await login(env.KT_TEACHER);
  await go('#/bank?author=me&status=draft');
  await page.waitForSelector(`.bank-table tr[data-id="${id}"]`);
  check(/Bị trả lại/.test(await page.locator(`.bank-table tr[data-id="${id}"]`).innerText()), 'no "Bị trả lại" badge in the bank');
  await page.click(`.bank-table tr[data-id="${id}"] a`);
  await page.waitForSelector('#review-comment');
  check((await page.locator('#review-comment').innerText()).includes(comment), 'the comment is not on the item page');
  await shots('item-returned');
  await page.click('#act-edit');
  await page.waitForSelector('#item-editor');
  const stem = await page.inputValue('#item-editor [name=stem]');
  check(stem.includes('$\\frac{1}{2}+\\sqrt{x}$') && /!\[ảnh\]\(media\//.test(stem), `the stored stem did not come back as text: ${stem}`);
  await page.fill('#item-editor [name=stem]', stem.replace('Tính giá trị của', 'Tính chính xác giá trị của'));
  await page.fill('#item-editor [name="options[1].html"]', '$\\frac{3}{4}$');
  await page.click('#save-submit');
  await waitFor('resubmitted', (i) => location.hash === `#/items/${i}` && /Chờ duyệt/.test(document.querySelector('.item-head')?.textContent || ''), id, 10000);

  // ---- the subject head: the diff, then approval
  await login(env.KT_HEAD);
  await go(`#/review/${id}`);
  await page.waitForSelector('#diff');
  check(/phiên bản 2 .*phiên bản 1/.test(await page.locator('#diff-versions').innerText()), 'the diff does not compare versions 2 and 1');
  const changed = await page.locator('.diff-field.changed').evaluateAll((xs) => xs.map((x) => x.dataset.field));
  check(changed.includes('Đề bài') && changed.includes('Phương án B') && !changed.includes('Phương án A'), `changed fields: ${changed}`);
  check(/chính xác/.test(await page.locator('.diff-field.changed[data-field="Đề bài"] ins').first().innerText()), 'the inserted words are not marked');
  check(await page.locator('.diff-field[data-field="Đề bài"] math').count() >= 2, 'the diff does not render the formulas');
  await shots('review-diff');
  await page.click('#act-approve');
  await waitFor('approved, back to the queue', () => location.hash === '#/review');

  // ---- the item page: approved, versions, history
  await go(`#/items/${id}`);
  await page.waitForSelector('#item-history');
  check(/Đã duyệt/.test(await page.locator('.item-head').innerText()), 'the item is not shown as approved');
  check(await page.locator('.version-list').getAttribute('data-versions') === '1,2', 'versions are not 1,2');
  await waitFor('the history lists the review', (c) => { const h = document.getElementById('item-history'); return h.querySelectorAll('li').length >= 4 && h.textContent.includes(c); }, comment);
  await shots('item-approved');
  await go(`#/items/${id}?version=1`);
  check(/đang xem phiên bản cũ/.test(await page.locator('.item-head').innerText()), 'version 1 is not shown as an old version');

  // ---- a teacher of another subject may not edit it
  await login(env.KT_OTHER);
  await go(`#/items/${id}/edit`);
  await page.waitForSelector('#item-editor');
  await page.fill('#item-editor [name=title]', title + ' (môn khác)');
  await page.click('#save-draft');
  await waitFor('the refusal is shown', () => { const m = document.getElementById('editor-msg'); return m && !m.hidden && m.textContent.length > 10; }, null, 10000);
  const refusal = await page.locator('#editor-msg').innerText();
  check(!/Máy chủ trả lỗi/.test(refusal) && /[ạảãáàâăêôơưđ]/i.test(refusal), `the refusal is not a clear Vietnamese message: ${refusal}`);
  log(`refusal: ${refusal}`);
  await shots('editor-refused');

  check(!cspErrors.length, 'CSP violations: ' + cspErrors.join(' | '));
});

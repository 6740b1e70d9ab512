/*
 * kiemtra — review by the subject head (#/review, #/review/:id): the queue
 * of submitted items of the head's subject, and for one item the submitted
 * version beside the one before it (the approved version when there is
 * one), field by field, each drawn as the student sees it with its textual
 * changes marked; then Duyệt, or Trả lại with a required comment that the
 * author sees on the item page and in the bank.
 */
'use strict';

(function () {
  const KT = window.KT;
  const { el } = KT;
  const L = KT.labels;
  const HEADS = ['subject_head'];

  KT.nav({ id: 'review', label: 'Duyệt câu hỏi', hash: '#/review', roles: HEADS, order: 12 });

  const mySubjects = () => (KT.me.subjects && KT.me.subjects.length ? KT.me.subjects : KT.me.subject ? [KT.me.subject] : []);

  KT.route('/review', {
    title: 'Câu hỏi chờ duyệt', nav: 'review', roles: HEADS,
    render: async (root) => {
      const subs = mySubjects();
      if (!subs.length) { root.append(el('p', { class: 'notice', text: 'Tài khoản chưa được gán môn nên chưa có câu hỏi để duyệt.' })); return; }
      const lists = await Promise.all(subs.map((subject) => KT.api('GET', '/items' + KT.qs({ status: 'submitted', subject, limit: 100 }))));
      const bad = lists.find((r) => !r.ok);
      if (bad) { const b = el('div'); KT.showError(b, bad); root.append(b); return; }
      const items = lists.flatMap((r) => r.data.items || []);
      // Items approved earlier whose new version waits (an import) show as approved with pending.
      root.append(el('p', { role: 'status', id: 'review-count', text: items.length ? `Có ${items.length} câu hỏi chờ duyệt (môn ${subs.map(KT.subjectName).join(', ')}).` : 'Không có câu hỏi nào chờ duyệt.' }));
      if (!items.length) return;
      const t = el('table', { class: 'data review-table' }, el('caption', { class: 'sr-only', text: 'Câu hỏi chờ duyệt' }),
        el('thead', {}, el('tr', {}, ...['Câu hỏi', 'Dạng', 'Mức độ', 'Phiên bản', 'Tác giả', 'Gửi lúc', ''].map((h) => el('th', { scope: 'col', text: h })))));
      const body = el('tbody');
      for (const it of items) {
        const author = it.author ? it.author.full_name || it.author.username : it.author_name || '';
        body.append(el('tr', { 'data-id': it.id },
          el('td', {}, el('a', { href: `#/review/${it.id}`, text: it.title || it.identifier }), el('div', { class: 'hint', text: `${it.identifier} · ${KT.subjectName(it.subject)} ${it.grade || ''}` })),
          el('td', { text: L.kinds[it.kind] || it.kind }),
          el('td', { text: L.levels[KT.items.levelOf(it.tags)] || '' }),
          el('td', { class: 'num', text: String(it.version || '') }),
          el('td', { text: author }),
          el('td', { text: KT.formatLocal(it.submitted_at || it.updated_at || '') }),
          el('td', {}, el('a', { class: 'button small', href: `#/review/${it.id}`, text: 'Xem xét' }))));
      }
      t.append(body);
      root.append(el('div', { class: 'table-wrap' }, t));
    },
  });

  // ---------------------------------------------------------------- word diff
  function words(s) { return String(s || '').match(/\s+|[^\s]+/g) || []; }
  /* Word-level diff of two texts as nodes with <del>/<ins>. */
  function diffNodes(a, b) {
    const x = words(a), y = words(b);
    if (x.length * y.length > 4e6) return [el('del', { text: a }), ' ', el('ins', { text: b })];
    const n = x.length, m = y.length;
    const d = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
    for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) d[i][j] = x[i] === y[j] ? d[i + 1][j + 1] + 1 : Math.max(d[i + 1][j], d[i][j + 1]);
    const out = [];
    let i = 0, j = 0;
    const push = (tag, t) => {
      const last = out[out.length - 1];
      if (last && last.tag === tag) last.t += t; else out.push({ tag, t });
    };
    while (i < n && j < m) {
      if (x[i] === y[j]) { push('', x[i]); i++; j++; } else if (d[i + 1][j] >= d[i][j + 1]) push('del', x[i++]); else push('ins', y[j++]);
    }
    while (i < n) push('del', x[i++]);
    while (j < m) push('ins', y[j++]);
    return out.map((p) => (p.tag ? el(p.tag, { text: p.t }) : document.createTextNode(p.t)));
  }
  const asText = (h, block) => KT.itemText.fromHTML(h || '', block).text;

  /* The fields compared, each {label, old, new, kind: 'html'|'text'}. */
  function fields(a, b, namesA, namesB) {
    const ca = (a && a.content) || {}, cb = b.content || {}, sa = (a && a.scoring) || {}, sb = b.scoring || {};
    const out = [];
    out.push({ label: 'Tiêu đề', kind: 'text', old: a ? a.title : '', new: b.title });
    out.push({ label: 'Đề bài', kind: 'html', block: true, old: ca.stem, new: cb.stem });
    const optsN = Math.max((ca.options || []).length, (cb.options || []).length);
    for (let i = 0; i < optsN; i++) {
      const oa = (ca.options || [])[i], ob = (cb.options || [])[i];
      out.push({ label: `Phương án ${String.fromCharCode(65 + i)}`, kind: 'html', old: oa ? oa.html + (oa.fixed ? ' (cố định)' : '') : '', new: ob ? ob.html + (ob.fixed ? ' (cố định)' : '') : '' });
    }
    const stN = Math.max((ca.statements || []).length, (cb.statements || []).length);
    for (let i = 0; i < stN; i++) {
      const oa = (ca.statements || [])[i], ob = (cb.statements || [])[i];
      out.push({ label: `Ý ${String.fromCharCode(97 + i)})`, kind: 'html', old: oa ? oa.html : '', new: ob ? ob.html : '' });
    }
    out.push({ label: 'Đáp án', kind: 'text', old: a ? keyText(a) : '', new: keyText(b) });
    if (sa.rubric || sb.rubric) out.push({ label: 'Hướng dẫn chấm', kind: 'text', old: rubricText(sa.rubric), new: rubricText(sb.rubric) });
    if (sa.model_answer || sb.model_answer) out.push({ label: 'Bài làm mẫu', kind: 'html', block: true, old: sa.model_answer, new: sb.model_answer });
    out.push({ label: 'Lời giải', kind: 'html', block: true, old: sa.explanation, new: sb.explanation });
    out.push({ label: 'Phân loại', kind: 'text', old: namesA.map((t) => `${t.code}${t.name ? ' ' + t.name : ''}`).join('\n'), new: namesB.map((t) => `${t.code}${t.name ? ' ' + t.name : ''}`).join('\n') });
    return out;
  }
  function keyText(v) {
    const s = v.scoring || {}, c = v.content || {};
    const letter = (id) => { const i = (c.options || []).findIndex((o) => o.id === id); return i >= 0 ? String.fromCharCode(65 + i) : id; };
    if (v.kind === 'MCQ4') return letter(s.key);
    if (v.kind === 'MR') return (s.keys || []).map(letter).join(', ') + (s.scoring_mode === 'per_option' ? ' (chấm từng phương án)' : '');
    if (v.kind === 'TF4') {
      const sk = s.statement_keys || {};
      return (c.statements || []).map((st, i) => `${String.fromCharCode(97 + i)}) ${sk[st.id] ? 'Đúng' : 'Sai'}`).join('; ') +
        (s.score_table ? ` — điểm: ${s.score_table.map(KT.decimalVi).join(' / ')}` : '');
    }
    if (v.kind === 'SHORT') return s.answer_type === 'text' ? s.key : KT.decimalVi(s.key) + (s.tolerance && Number(s.tolerance) ? ` ± ${KT.decimalVi(s.tolerance)}` : '');
    return '';
  }
  const rubricText = (r) => (r || []).map((x) => `${x.criterion} (${KT.decimalVi(x.points)} điểm)`).join('\n');

  KT.route('/review/:id', {
    title: 'Duyệt câu hỏi', nav: 'review', roles: HEADS,
    render: async (root, params, query, ctx) => {
      const id = encodeURIComponent(params.id);
      const head = await KT.api('GET', `/items/${id}`);
      if (!head.ok) { const b = el('div'); KT.showError(b, head); root.append(b); return; }
      const cur = head.data;
      const newV = cur.pending ? cur.pending.version : cur.current_version;
      const oldV = cur.approved_version && cur.approved_version !== newV ? cur.approved_version : newV > 1 ? newV - 1 : null;
      const [nr, or] = await Promise.all([
        newV === cur.version ? Promise.resolve(head) : KT.api('GET', `/items/${id}?version=${newV}`),
        oldV ? KT.api('GET', `/items/${id}?version=${oldV}`) : Promise.resolve(null),
      ]);
      if (!nr.ok) { const b = el('div'); KT.showError(b, nr); root.append(b); return; }
      const b = nr.data, a = or && or.ok ? or.data : null;
      ctx.setTitle('Duyệt: ' + (b.title || b.identifier));
      const author = b.author ? b.author.full_name || b.author.username : '';
      root.append(el('p', {}, el('a', { href: '#/review', text: '← Về danh sách chờ duyệt' }), ' · ', el('a', { href: `#/items/${cur.id}`, text: 'Trang câu hỏi' })));
      const work = cur.pending ? cur.pending.status : cur.status;
      const info = el('div', { class: 'panel' },
        el('p', {}, ...KT.items.badges(cur), ' ', el('span', { text: `${L.kinds[b.kind] || b.kind} · ${KT.subjectName(b.subject)} lớp ${b.grade} · mã ${b.identifier}${author ? ' · tác giả ' + author : ''}` })),
        el('p', { class: 'hint', id: 'diff-versions', text: a ? `So sánh phiên bản ${newV} (gửi duyệt) với phiên bản ${oldV}${oldV === cur.approved_version ? ' (đang dùng)' : ''}.` : `Câu hỏi mới (phiên bản ${newV}), chưa có phiên bản trước để so sánh.` }));
      if (work !== 'submitted') info.append(el('p', { class: 'notice warn', text: `Câu hỏi không ở trạng thái chờ duyệt (hiện là: ${L.status[work] || work}).` }));
      const msg = el('div', { hidden: true });
      const bar = el('p', { class: 'actions' });
      if (work === 'submitted' && KT.items.isHeadOf(cur.subject)) {
        const ok = el('button', { type: 'button', class: 'primary', id: 'act-approve', text: 'Duyệt' });
        const back = el('button', { type: 'button', class: 'danger', id: 'act-return', text: 'Trả lại' });
        const done = (r, text) => {
          if (r.ok) { KT.toast(text); KT.go('#/review'); return; }
          KT.showError(msg, r);
        };
        ok.addEventListener('click', async () => { ok.disabled = true; done(await KT.items.setStatus(cur, 'approved'), 'Đã duyệt câu hỏi.'); ok.disabled = false; });
        back.addEventListener('click', async () => {
          const c = await KT.items.askComment();
          if (c) done(await KT.items.setStatus(cur, 'draft', c), 'Đã trả lại câu hỏi cho tác giả.');
        });
        bar.append(ok, back);
      }
      info.append(bar, msg);
      root.append(info);

      // Both versions as the student sees them.
      const pv = el('div', { class: 'cols two' },
        el('section', { class: 'panel' }, el('h2', { text: a ? `Phiên bản ${oldV} (trước)` : 'Phiên bản trước' }), a ? KT.items.preview(a) : el('p', { class: 'hint', text: 'Không có.' })),
        el('section', { class: 'panel' }, el('h2', { text: `Phiên bản ${newV} (gửi duyệt)` }), KT.items.preview(b)));
      root.append(el('h2', { text: 'Học sinh nhìn thấy' }), pv);

      const [namesA, namesB] = await Promise.all([a ? KT.items.tagNames(a) : Promise.resolve([]), KT.items.tagNames(b)]);
      const assetA = a ? KT.items.itemAsset(cur.id, oldV) : null, assetB = KT.items.itemAsset(cur.id, newV);
      const list = el('div', { class: 'diff', id: 'diff' });
      let changed = 0;
      for (const f of fields(a, b, namesA, namesB)) {
        const ta = f.kind === 'html' ? asText(f.old, f.block) : f.old || '';
        const tb = f.kind === 'html' ? asText(f.new, f.block) : f.new || '';
        const same = (f.old || '') === (f.new || '') || (a && ta === tb && f.kind === 'text');
        if (same && !ta && !tb) continue;
        if (!same) changed++;
        const cell = (h, text, asset) => {
          const d = el('div', { class: 'diff-cell' });
          if (f.kind === 'html') d.append(KT.renderer.html(h || '', { asset }));
          else d.append(el('span', { class: 'pre', text: text || '—' }));
          return d;
        };
        const sec = el('section', { class: 'diff-field' + (same ? '' : ' changed'), 'data-field': f.label },
          el('h3', {}, f.label, same ? '' : el('span', { class: 'badge submitted', text: a ? 'Đã sửa' : 'Mới' })),
          el('div', { class: 'diff-pair' },
            el('div', {}, el('p', { class: 'diff-side', text: 'Trước' }), cell(f.old, ta, assetA)),
            el('div', {}, el('p', { class: 'diff-side', text: 'Sau' }), cell(f.new, tb, assetB))));
        if (!same && a && ta !== tb) sec.append(el('p', { class: 'diff-text' }, el('span', { class: 'sr-only', text: 'Thay đổi: ' }), ...diffNodes(ta, tb)));
        list.append(sec);
      }
      root.append(el('h2', { text: 'Thay đổi từng phần' }),
        el('p', { class: 'hint', id: 'diff-summary', text: a ? (changed ? `${changed} phần đã thay đổi (đánh dấu màu; chữ gạch là bỏ đi, chữ gạch chân là thêm vào).` : 'Không có phần nào thay đổi.') : 'Toàn bộ nội dung là mới.' }), list);
    },
  });
})();

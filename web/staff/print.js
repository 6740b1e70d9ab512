/*
 * kiemtra — printing a published test (#/tests/:id/print?form=CODE|all&only=key):
 * for each form (mã đề) the paper the student gets (a header with the
 * school, subject, grade, time allowed, title, mã đề and blanks for name,
 * class and số báo danh; the questions numbered and in the order of that
 * form, with writing space for short answers and essays), its answer sheet
 * (phiếu trả lời: bubbles A B C D per question, an Đúng/Sai grid, boxes for
 * short answers) and its answer key on a page of its own. "Chỉ in đáp án"
 * prints the keys alone. The browser prints the page to paper or PDF; the
 * print rules (A4, a page break before every form, answer sheet and key, no
 * navigation or buttons, black on white) are at the end of staff/app.css.
 * Every form is read from GET /tests/{id}/forms/{code}: the questions as the
 * student sees them in that form and the key in the form's letters.
 */
'use strict';

(function () {
  const KT = window.KT;
  const { el } = KT;
  const AUTHORS = ['teacher', 'subject_head', 'school_admin'];
  const KIND = { tx: 'KIỂM TRA THƯỜNG XUYÊN', gk: 'KIỂM TRA GIỮA KÌ', ck: 'KIỂM TRA CUỐI KÌ' };
  const letter = (i) => String.fromCharCode(65 + i);
  const num = (s) => KT.decimalVi(String(s));

  /* The pictures of a question, fetched with the token. */
  function assetOf(it) {
    const fetchImage = KT.renderer && KT.renderer.fetchImage;
    const id = it.item_id || it.id;
    if (!fetchImage || !id) return null;
    const enc = (p) => String(p).split('/').map(encodeURIComponent).join('/');
    return (path) => fetchImage(`${KT.API}/items/${encodeURIComponent(id)}/assets/${enc(path)}${it.version ? '?version=' + it.version : ''}`);
  }
  function html(h, it, tag) {
    const box = el(tag || 'div', { class: 'pr-html' });
    if (KT.renderer && KT.renderer.html) box.append(KT.renderer.html(h || '', { asset: assetOf(it) }));
    else box.append(KT.safeHTML(h || ''));
    return box;
  }

  // ---------------------------------------------------------------- the paper
  function header(t, form, label) {
    const school = (KT.me.school && KT.me.school.name) || '';
    const minutes = Math.round((form.duration_seconds || t.duration_seconds) / 60);
    return el('header', { class: 'pr-head' },
      el('div', { class: 'pr-head-grid' },
        el('div', { class: 'pr-head-left' },
          el('p', { class: 'pr-school', text: school.toUpperCase() }),
          el('p', { class: 'pr-official', text: label === 'key' ? 'HƯỚNG DẪN CHẤM' : 'ĐỀ CHÍNH THỨC' }),
          el('p', { class: 'pr-small', text: `(Đề có ${form.items.length} câu)` })),
        el('div', { class: 'pr-head-right' },
          el('p', { class: 'pr-exam', text: label === 'sheet' ? 'PHIẾU TRẢ LỜI' : (KIND[t.kind] || 'BÀI KIỂM TRA') }),
          el('p', { class: 'pr-title', text: t.title }),
          el('p', { class: 'pr-subject', text: `Môn: ${KT.subjectName(t.subject)} — Lớp ${t.grade}` }),
          el('p', { class: 'pr-time', text: `Thời gian làm bài: ${minutes} phút, không kể thời gian phát đề` }))),
      el('div', { class: 'pr-code-row' },
        label === 'key' ? '' : el('p', { class: 'pr-blanks' },
          el('span', { text: 'Họ và tên: ' }), el('span', { class: 'pr-line pr-line-long' }),
          el('span', { text: ' Lớp: ' }), el('span', { class: 'pr-line pr-line-short' }),
          el('span', { text: ' Số báo danh: ' }), el('span', { class: 'pr-line pr-line-short' })),
        el('p', { class: 'pr-code' }, 'Mã đề ', el('strong', { text: form.form_code }))));
  }

  /* Items grouped by part, in the form's order. */
  function partsOf(form) {
    const titles = Object.fromEntries((form.parts || []).map((p) => [p.part, p]));
    const out = [];
    for (const it of form.items) {
      const p = it.part ?? 0;
      let g = out[out.length - 1];
      if (!g || g.part !== p) { g = { part: p, info: titles[p] || null, items: [] }; out.push(g); }
      g.items.push(it);
    }
    return out;
  }
  const PART_HINT = {
    'DT.NLC': 'Thí sinh trả lời từ câu {a} đến câu {b}. Mỗi câu hỏi thí sinh chọn một phương án.',
    'DT.DS': 'Thí sinh trả lời từ câu {a} đến câu {b}. Trong mỗi ý a), b), c), d) ở mỗi câu, thí sinh chọn đúng hoặc sai.',
    'DT.TLN': 'Thí sinh trả lời từ câu {a} đến câu {b}.',
    'DT.TL': 'Thí sinh trình bày bài làm vào giấy thi.',
  };
  const numOf = (it, i) => it.number || i + 1;

  function question(it, n) {
    const li = el('li', { class: `pr-q pr-${String(it.kind).toLowerCase()}`, 'data-number': String(n) });
    const stem = html(it.stem, it);
    stem.prepend(el('strong', { class: 'pr-qnum', text: `Câu ${n}. ` }));
    li.append(stem);
    switch (it.kind) {
      case 'MCQ4':
      case 'MR': {
        const opts = it.options || [];
        const long = opts.some((o) => (o.html || '').replace(/<[^>]+>/g, '').length > 28);
        const ol = el('ol', { class: 'pr-opts' + (long ? ' long' : '') });
        opts.forEach((o, i) => {
          const x = el('li', {}, el('strong', { text: `${letter(i)}. ` }));
          x.append(html(o.html, it, 'span'));
          ol.append(x);
        });
        if (it.kind === 'MR') li.append(el('p', { class: 'pr-note', text: '(Chọn tất cả các phương án đúng.)' }));
        li.append(ol);
        break;
      }
      case 'TF4': {
        const ol = el('ol', { class: 'pr-stmts' });
        (it.statements || []).forEach((s, i) => {
          const x = el('li', {}, el('strong', { text: `${String.fromCharCode(97 + i)}) ` }));
          x.append(html(s.html, it, 'span'));
          ol.append(x);
        });
        li.append(ol);
        break;
      }
      case 'SHORT':
        li.append(el('p', { class: 'pr-answer-line' }, 'Trả lời: ', el('span', { class: 'pr-line pr-line-answer' })));
        break;
      case 'ESSAY':
        li.append(el('div', { class: 'pr-writing', 'aria-label': 'Chỗ trình bày bài làm' }, ...Array.from({ length: 8 }, () => el('span', { class: 'pr-rule' }))));
        break;
      default: {
        const drawn = typeof KT.renderItem === 'function' ? KT.renderItem(it, null, { disabled: true, hint: false, name: `pr-${n}`, label: `Câu ${n}`, asset: assetOf(it) }) : null;
        if (drawn) li.replaceChildren(el('strong', { class: 'pr-qnum', text: `Câu ${n}.` }), drawn);
      }
    }
    return li;
  }

  function paper(t, form) {
    const doc = el('section', { class: 'pr-page pr-paper', 'aria-label': `Đề — mã đề ${form.form_code}` }, header(t, form, 'paper'));
    let i = 0;
    for (const g of partsOf(form)) {
      if (g.info) {
        const a = numOf(g.items[0], i), b = numOf(g.items[g.items.length - 1], i + g.items.length - 1);
        const hint = (PART_HINT[g.info.format] || '').replace('{a}', a).replace('{b}', b);
        doc.append(el('h3', { class: 'pr-part' }, `${g.info.title.toUpperCase()}`, g.info.points ? ` (${num(g.info.points)} điểm)` : ''),
          hint ? el('p', { class: 'pr-part-hint', text: hint }) : '');
      }
      const ol = el('ol', { class: 'pr-qs' });
      for (const it of g.items) { ol.append(question(it, numOf(it, i))); i++; }
      doc.append(ol);
    }
    doc.append(el('p', { class: 'pr-end', text: '—— HẾT ——' }),
      el('p', { class: 'pr-small pr-center', text: 'Thí sinh không được sử dụng tài liệu. Cán bộ coi thi không giải thích gì thêm.' }));
    return doc;
  }

  // ---------------------------------------------------------------- answer sheet
  const bubble = (txt) => el('span', { class: 'pr-bubble', text: txt });
  function sheet(t, form) {
    const doc = el('section', { class: 'pr-page pr-sheet', 'aria-label': `Phiếu trả lời — mã đề ${form.form_code}` }, header(t, form, 'sheet'));
    let i = 0;
    for (const g of partsOf(form)) {
      const title = g.info ? g.info.title : 'Các câu hỏi';
      const box = el('div', { class: 'pr-sheet-part' }, el('h3', { class: 'pr-part', text: title.toUpperCase() }));
      const kinds = new Set(g.items.map((x) => x.kind));
      if ([...kinds].every((k) => k === 'MCQ4' || k === 'MR')) {
        const grid = el('div', { class: 'pr-mcq-grid' });
        for (const it of g.items) {
          const n = numOf(it, i++);
          grid.append(el('div', { class: 'pr-mcq-row' }, el('span', { class: 'pr-n', text: String(n) }),
            ...(it.options || [0, 1, 2, 3]).map((_, k) => bubble(letter(k)))));
        }
        box.append(grid);
      } else if ([...kinds].every((k) => k === 'TF4')) {
        const grid = el('div', { class: 'pr-tf-grid' });
        for (const it of g.items) {
          const n = numOf(it, i++);
          const tbl = el('table', { class: 'pr-tf' }, el('caption', { text: `Câu ${n}` }),
            el('thead', {}, el('tr', {}, el('th', { text: 'Ý' }), el('th', { text: 'Đúng' }), el('th', { text: 'Sai' }))));
          const tb = el('tbody');
          (it.statements || [0, 1, 2, 3]).forEach((_, k) => tb.append(el('tr', {}, el('th', { text: `${String.fromCharCode(97 + k)})` }), el('td', {}, bubble('')), el('td', {}, bubble('')))));
          tbl.append(tb);
          grid.append(tbl);
        }
        box.append(grid);
      } else {
        const grid = el('div', { class: 'pr-short-grid' });
        for (const it of g.items) {
          const n = numOf(it, i++);
          if (it.kind === 'ESSAY') { grid.append(el('div', { class: 'pr-short' }, el('span', { class: 'pr-n', text: `Câu ${n}` }), el('span', { class: 'pr-small', text: 'Trình bày vào giấy thi.' }))); continue; }
          grid.append(el('div', { class: 'pr-short' }, el('span', { class: 'pr-n', text: `Câu ${n}` }),
            el('span', { class: 'pr-boxes' }, ...Array.from({ length: 6 }, () => el('span', { class: 'pr-box' })))));
        }
        box.append(grid);
      }
      doc.append(box);
    }
    doc.append(el('p', { class: 'pr-small', text: 'Tô kín một ô tròn cho mỗi lựa chọn bằng bút chì hoặc bút mực; phần trả lời ngắn viết mỗi kí tự (chữ số, dấu “-”, dấu “,”) vào một ô.' }));
    return doc;
  }

  // ---------------------------------------------------------------- key
  function keyText(it) {
    const k = it.key_shown;
    if (it.kind === 'ESSAY') return 'Tự luận: chấm theo hướng dẫn chấm';
    if (k === undefined || k === null) return '';
    if (Array.isArray(k)) return k.join(', ');
    if (typeof k === 'object') return Object.entries(k).map(([a, v]) => `${a}) ${v ? 'Đ' : 'S'}`).join('  ');
    return num(k);
  }
  function keyPage(t, form) {
    const doc = el('section', { class: 'pr-page pr-key', 'aria-label': `Đáp án — mã đề ${form.form_code}` }, header(t, form, 'key'));
    doc.append(el('h3', { class: 'pr-part pr-center', text: `ĐÁP ÁN — MÃ ĐỀ ${form.form_code}` }));
    let i = 0;
    for (const g of partsOf(form)) {
      const tb = el('tbody');
      for (const it of g.items) {
        const n = numOf(it, i++);
        tb.append(el('tr', {}, el('th', { scope: 'row', text: `Câu ${n}` }), el('td', { class: 'pr-keyval', text: keyText(it) }), el('td', { class: 'num', text: it.points !== undefined ? num(it.points) : '' })));
      }
      doc.append(el('table', { class: 'pr-keytable' },
        el('caption', { text: g.info ? g.info.title : 'Đáp án' }),
        el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Câu' }), el('th', { scope: 'col', text: 'Đáp án' }), el('th', { scope: 'col', class: 'num', text: 'Điểm' }))), tb));
    }
    const notes = [];
    if (form.total_points) notes.push(`Tổng điểm: ${num(form.total_points)}.`);
    if (form.items.some((x) => x.kind === 'TF4')) notes.push('Đ: Đúng; S: Sai. Điểm câu Đúng/Sai tính theo số ý đúng của câu.');
    if (notes.length) doc.append(el('p', { class: 'pr-small', text: notes.join(' ') }));
    return doc;
  }

  // ---------------------------------------------------------------- route
  KT.route('/tests/:id/print', {
    title: 'In đề', nav: 'tests', roles: AUTHORS,
    render: async (root, params, query, ctx) => {
      const r = await KT.api('GET', `/tests/${encodeURIComponent(params.id)}`);
      if (!r.ok) { const m = el('p'); root.append(m); KT.showError(m, r); return; }
      const t = r.data.test || r.data;
      const codes = t.form_codes || [];
      if (t.status !== 'published' || !codes.length) {
        root.append(el('p', { class: 'notice warn', text: 'Chỉ in được đề đã xuất bản (có mã đề).' }), el('p', {}, el('a', { href: `#/tests/${t.id}`, text: 'Về trang đề' })));
        return;
      }
      ctx.setTitle(`In đề: ${t.title}`);
      const want = query.get('form') || 'all';
      const only = query.get('only') || '';
      const chosen = want === 'all' ? codes : codes.filter((c) => c === want);
      if (!chosen.length) { root.append(el('p', { class: 'notice error', role: 'alert', text: `Đề không có mã đề ${want}.` })); return; }

      // The controls (never printed).
      const formSel = KT.select('form', [['all', 'Tất cả mã đề'], ...codes.map((c) => [c, `Mã đề ${c}`])], want);
      const whatSel = KT.select('only', [['', 'Đề, phiếu trả lời và đáp án'], ['paper', 'Đề và phiếu trả lời (không có đáp án)'], ['key', 'Chỉ in đáp án']], only);
      const go = () => KT.go(`#/tests/${t.id}/print` + KT.qs({ form: formSel.value, only: whatSel.value }));
      formSel.addEventListener('change', go);
      whatSel.addEventListener('change', go);
      const printBtn = el('button', { type: 'button', class: 'primary pr-print', text: 'In (hoặc lưu PDF)' });
      printBtn.addEventListener('click', () => window.print());
      root.append(el('div', { class: 'panel no-print pr-controls' },
        el('div', { class: 'row' }, KT.field('Mã đề', formSel), KT.field('Nội dung in', whatSel)),
        el('p', { class: 'hint', text: 'Mỗi mã đề, phiếu trả lời và đáp án bắt đầu ở một trang A4 mới. Trong hộp thoại in, chọn khổ A4, lề mặc định; để lưu PDF chọn “Lưu dưới dạng PDF”.' }),
        el('p', { class: 'actions' }, printBtn, ' ', el('a', { class: 'button', href: `#/tests/${t.id}`, text: 'Về trang đề' }))));

      const forms = await Promise.all(chosen.map((c) => KT.api('GET', `/tests/${t.id}/forms/${encodeURIComponent(c)}`)));
      const bad = forms.find((x) => !x.ok);
      if (bad) { const m = el('p'); root.append(m); KT.showError(m, bad); return; }
      const docs = el('div', { class: 'pr-docs' });
      for (const x of forms) {
        const form = Object.assign({ items: [] }, x.data);
        if (only !== 'key') docs.append(paper(t, form), sheet(t, form));
        if (only !== 'paper') docs.append(keyPage(t, form));
      }
      root.append(docs);
      root.classList.add('print-root');
    },
  });
})();

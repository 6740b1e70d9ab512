/*
 * kiemtra — the test builder (đề kiểm tra): the tests list, a new or draft
 * test with its blueprint (ma trận đề) as a grid of taxonomy rows × levels
 * whose cells show how many approved items the bank has, saving, publishing
 * (a 409 shortage is shown on its cells), and a published test's forms with
 * a preview of each form and its key.
 */
'use strict';

(function () {
  const KT = window.KT;
  const { el } = KT;
  const L = KT.labels;
  const LEVELS = ['MD.B', 'MD.H', 'MD.V'];
  const FORMATS = [['DT.NLC', 'Nhiều lựa chọn'], ['DT.DS', 'Đúng/Sai'], ['DT.TLN', 'Trả lời ngắn'], ['DT.TL', 'Tự luận']];
  const FORMAT_NAME = Object.fromEntries(FORMATS);
  const STATUS = { draft: 'Nháp', published: 'Đã xuất bản', archived: 'Đã lưu trữ' };
  const AUTHORS = ['teacher', 'subject_head', 'school_admin'];

  KT.nav({ id: 'tests', label: 'Đề kiểm tra', hash: '#/tests', roles: AUTHORS, order: 40 });

  /* "0,25" / "0.25" / 0.25 -> hundredths (integer), or NaN. */
  function hundredths(p) {
    const t = String(p === undefined || p === null ? '' : p).trim().replace(',', '.');
    if (!/^\d+(\.\d{1,2})?$/.test(t)) return NaN;
    const [a, b] = t.split('.');
    return Number(a) * 100 + Number((b || '').padEnd(2, '0'));
  }
  const pointsText = (h) => KT.decimalVi((h / 100).toFixed(2));
  const subjectsOf = () => {
    const me = KT.me;
    if (me.role === 'school_admin') return Object.keys(L.subjects);
    const s = (me.subjects && me.subjects.length ? me.subjects : [me.subject]).filter(Boolean);
    return s.length ? s : Object.keys(L.subjects);
  };

  // ---------------------------------------------------------------- list
  KT.route('/tests', {
    title: 'Đề kiểm tra', nav: 'tests', roles: AUTHORS,
    render: async (root, params, query) => {
      const f = { status: query.get('status') || '', subject: query.get('subject') || '', grade: query.get('grade') || '', archived: query.get('archived') || '' };
      const form = el('form', { class: 'row panel filters no-print', role: 'search', 'aria-label': 'Lọc đề kiểm tra' },
        KT.field('Trạng thái', KT.select('status', [['', 'Tất cả'], ['draft', 'Nháp'], ['published', 'Đã xuất bản']], f.status)),
        KT.field('Môn', KT.select('subject', [['', 'Tất cả'], ...subjectsOf().map((s) => [s, KT.subjectName(s)])], f.subject)),
        KT.field('Khối', KT.select('grade', [['', 'Tất cả'], ...Array.from({ length: 12 }, (_, i) => [String(i + 1), 'Khối ' + (i + 1)])], f.grade)),
        KT.field('Lưu trữ', KT.select('archived', [['', 'Đề đang dùng'], ['1', 'Đề đã lưu trữ']], f.archived)),
        el('button', { type: 'submit', text: 'Lọc' }));
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const d = Object.fromEntries(new FormData(form));
        KT.go('#/tests' + KT.qs(d));
      });
      const msg = el('p', { class: 'notice', hidden: true });
      root.append(el('p', { class: 'actions no-print' }, el('a', { class: 'button primary', href: '#/tests/new', text: 'Tạo đề mới' })), form, msg);
      const r = await KT.api('GET', '/tests' + KT.qs(f));
      if (!r.ok) { KT.showError(msg, r); return; }
      const tests = Array.isArray(r.data) ? r.data : (r.data.tests || []);
      if (!tests.length) { KT.notice(msg, 'Chưa có đề nào. Thầy cô bấm "Tạo đề mới" để bắt đầu.'); return; }
      const tb = el('tbody');
      for (const t of tests) {
        const acts = el('td', { class: 'actions-cell' }, el('a', { href: `#/tests/${t.id}`, text: 'Mở' }));
        if (!t.archived_at && !t.archived) {
          const b = el('button', { type: 'button', class: 'small', text: 'Lưu trữ' });
          b.addEventListener('click', async () => {
            const ok = await KT.confirm('Lưu trữ đề', `Lưu trữ đề "${t.title}"? Đề sẽ ẩn khỏi danh sách đang dùng; các phiên và kết quả vẫn giữ nguyên.`, 'Lưu trữ');
            if (!ok) return;
            const x = await KT.api('POST', `/tests/${t.id}/archive`);
            if (x.ok) { KT.toast('Đã lưu trữ đề.'); KT.render(); } else KT.showError(msg, x);
          });
          acts.append(' ', b);
        } else {
          const b = el('button', { type: 'button', class: 'small', text: 'Bỏ lưu trữ' });
          b.addEventListener('click', async () => {
            const x = await KT.api('POST', `/tests/${t.id}/unarchive`);
            if (x.ok) { KT.toast('Đã đưa đề trở lại.'); KT.render(); } else KT.showError(msg, x);
          });
          acts.append(' ', b);
        }
        const taken = Number(t.attempt_count ?? t.attempts ?? 0) > 0;
        if (!taken) {
          const b = el('button', { type: 'button', class: 'small danger', text: 'Xoá' });
          b.addEventListener('click', async () => {
            const ok = await KT.confirm('Xoá đề', `Xoá hẳn đề "${t.title}"? Đề chưa có học sinh nào làm nên có thể xoá; không thể hoàn tác.`, 'Xoá đề', true);
            if (!ok) return;
            const x = await KT.api('DELETE', `/tests/${t.id}`);
            if (x.ok) { KT.toast('Đã xoá đề.'); KT.render(); } else KT.showError(msg, x);
          });
          acts.append(' ', b);
        }
        tb.append(el('tr', {},
          el('td', {}, el('a', { href: `#/tests/${t.id}`, text: t.title })),
          el('td', { text: KT.subjectName(t.subject) }),
          el('td', { class: 'num', text: String(t.grade) }),
          el('td', { text: L.testKinds[t.kind] || t.kind }),
          el('td', {}, el('span', { class: 'badge ' + (t.status === 'published' ? 'approved' : t.status), text: (t.archived_at || t.archived) ? 'Đã lưu trữ' : STATUS[t.status] || t.status })),
          el('td', { class: 'num', text: String(t.forms ?? '') }),
          el('td', { class: 'num', text: String(t.session_count ?? t.sessions ?? 0) }),
          el('td', { class: 'num', text: String(t.attempt_count ?? t.attempts ?? 0) }),
          acts));
      }
      root.append(el('div', { class: 'table-wrap' }, KT.stackTable(el('table', { class: 'data tests-list' },
        el('caption', { class: 'sr-only', text: 'Danh sách đề kiểm tra' }),
        el('thead', {}, el('tr', {}, ...['Tên đề', 'Môn', 'Khối', 'Loại', 'Trạng thái', 'Số mã đề', 'Phiên', 'Lượt làm', 'Thao tác']
          .map((h, i) => el('th', { scope: 'col', class: i >= 5 && i <= 7 ? 'num' : '', text: h })))),
        tb))));
    },
  });

  // ---------------------------------------------------------------- taxonomy
  const taxCache = {};
  async function taxonomy(subject, grade) {
    const key = subject + '|' + grade;
    if (taxCache[key]) return taxCache[key];
    const r = await KT.api('GET', '/taxonomy' + KT.qs({ subject, grade, limit: 5000 }));
    const nodes = r.ok ? (r.data.nodes || []).filter((n) => ['strand', 'topic', 'unit', 'outcome'].includes(n.kind) && !n.deprecated) : [];
    taxCache[key] = nodes;
    return nodes;
  }
  /* Options of the node picker: the grade itself, then strands/topics/units/
   * outcomes indented by depth (document order from the server). */
  function nodeOptions(nodes, subject, grade) {
    const root = `VN18.${subject}.${grade}`;
    const depth = { strand: 1, topic: 2, unit: 3, outcome: 4 };
    const opts = [[root, `Cả chương trình ${KT.subjectName(subject)} ${grade}`]];
    for (const n of nodes) {
      const label = n.kind === 'outcome' ? (n.text || n.name || n.code) : (n.name || n.code);
      opts.push([n.code, '\u00a0\u00a0'.repeat(depth[n.kind] || 1) + label.slice(0, 90)]);
    }
    return opts;
  }

  // ---------------------------------------------------------------- availability
  /* Fallback when the server has no availability route: the approved items
   * of the subject and grade, counted per (node prefix, level, format). */
  async function bankCounts(subject, grade) {
    const all = [];
    let cursor = '';
    for (let i = 0; i < 40; i++) {
      const r = await KT.api('GET', '/items' + KT.qs({ subject, grade, status: 'approved', limit: 200, cursor }));
      if (!r.ok) return null;
      all.push(...(r.data.items || []));
      cursor = r.data.next_cursor;
      if (!cursor) break;
    }
    return all.filter((it) => it.kind !== 'QTI');
  }
  function countLocal(items, node, level, format) {
    return items.filter((it) => {
      const tags = it.tags || [];
      return tags.includes(level) && tags.includes(format) && tags.some((t) => t === node || t.startsWith(node + '.'));
    }).length;
  }

  // ---------------------------------------------------------------- editor
  KT.route('/tests/new', {
    title: 'Tạo đề kiểm tra', nav: 'tests', roles: AUTHORS,
    render: (root) => editor(root, null),
  });
  KT.route('/tests/:id', {
    title: 'Đề kiểm tra', nav: 'tests', roles: AUTHORS,
    render: async (root, params, query, ctx) => {
      const r = await KT.api('GET', `/tests/${encodeURIComponent(params.id)}`);
      if (!r.ok) { const m = el('p'); root.append(m); KT.showError(m, r); return; }
      const t = r.data.test || r.data;
      ctx.setTitle(t.title);
      if (t.status === 'draft') return editor(root, t);
      return published(root, t, query);
    },
  });

  /* Blueprint entries (one per non-empty cell) -> grid rows keyed by
   * (node, format, points), with a count per level. */
  function rowsOf(bp) {
    const rows = [];
    for (const e of bp || []) {
      const pts = hundredths(e.points);
      let row = rows.find((r) => r.node === e.node && r.format === e.format && r.points === pts && !r.counts[e.level]);
      if (!row) { row = { node: e.node, format: e.format, points: pts, counts: {} }; rows.push(row); }
      row.counts[e.level] = (row.counts[e.level] || 0) + Number(e.count || 0);
    }
    return rows;
  }

  async function editor(root, test) {
    const subjects = subjectsOf();
    const t = test || { title: '', subject: subjects[0] || 'TOAN', grade: 10, kind: 'gk', duration_seconds: 2700, forms: 4, blueprint: [] };
    let rows = rowsOf(t.blueprint);
    if (!rows.length) rows = [{ node: '', format: 'DT.NLC', points: 25, counts: {} }];
    let dirty = !test;
    let testId = test ? test.id : null;
    let avail = {};       // key node|level|format -> available
    let shortage = {};    // key -> needed more (from a 409 publish)

    const msg = el('div', { class: 'notice', hidden: true });
    const meta = el('form', { class: 'panel test-meta', novalidate: true, 'aria-label': 'Thông tin đề' });
    const inp = {
      title: el('input', { name: 'title', maxLength: 300, required: true, value: t.title, autocomplete: 'off' }),
      subject: KT.select('subject', subjects.map((s) => [s, KT.subjectName(s)]), t.subject),
      grade: KT.select('grade', Array.from({ length: 12 }, (_, i) => [String(i + 1), 'Khối ' + (i + 1)]), t.grade),
      kind: KT.select('kind', Object.entries(L.testKinds).map(([k, v]) => [k, `${v} (${k})`]), t.kind),
      duration: el('input', { name: 'duration_seconds', type: 'number', min: 1, max: 240, step: 1, value: Math.round(t.duration_seconds / 60), inputMode: 'numeric' }),
      forms: el('input', { name: 'forms', type: 'number', min: 1, max: 24, step: 1, value: t.forms, inputMode: 'numeric' }),
    };
    meta.append(el('h2', { text: 'Thông tin đề' }),
      KT.field('Tên đề', inp.title),
      el('div', { class: 'row' },
        KT.field('Môn', inp.subject), KT.field('Khối', inp.grade), KT.field('Loại bài kiểm tra', inp.kind),
        KT.field('Thời gian làm bài (phút)', inp.duration), KT.field('Số mã đề (1–24)', inp.forms)));

    const grid = el('div', { class: 'table-wrap bp-wrap' });
    const totals = el('p', { class: 'bp-totals', 'aria-live': 'polite' });
    const summary = el('div', { class: 'notice warn bp-summary', hidden: true, role: 'status' });
    const addRow = el('button', { type: 'button', text: 'Thêm dòng' });
    const bpPanel = el('section', { class: 'panel', 'aria-labelledby': 'bp-h' },
      el('h2', { id: 'bp-h', text: 'Ma trận đề' }),
      el('p', { class: 'hint', text: 'Mỗi dòng là một chủ đề (hoặc mạch, yêu cầu cần đạt) với dạng câu và điểm mỗi câu; mỗi ô là số câu ở mức độ đó. Dưới mỗi ô là số câu đã duyệt có trong ngân hàng.' }),
      grid, el('p', { class: 'actions' }, addRow), totals, summary);
    const saveBtn = el('button', { type: 'button', text: 'Lưu nháp' });
    const pubBtn = el('button', { type: 'button', class: 'primary', text: 'Xuất bản' });
    const status = el('p', { class: 'hint', 'aria-live': 'polite' });
    root.append(meta, bpPanel, msg, el('p', { class: 'actions' }, saveBtn, ' ', pubBtn), status);

    let nodes = await taxonomy(inp.subject.value, inp.grade.value);
    let bank = null; // fallback counts
    let availRoute = true;

    const key = (node, level, format) => `${node}|${level}|${format}`;
    function entries() {
      const out = [];
      rows.forEach((r, ri) => {
        for (const lv of LEVELS) {
          const c = Number(r.counts[lv] || 0);
          if (c > 0) out.push({ ri, lv, e: { node: r.node, level: lv, format: r.format, count: c, points: pointsText(r.points) } });
        }
      });
      return out;
    }

    function drawGrid() {
      const head = el('tr', {}, el('th', { scope: 'col', text: 'Chủ đề / yêu cầu cần đạt' }), el('th', { scope: 'col', text: 'Dạng câu' }),
        el('th', { scope: 'col', text: 'Điểm mỗi câu' }), ...LEVELS.map((lv) => el('th', { scope: 'col', text: L.levels[lv] })),
        el('th', { scope: 'col', text: '' }));
      const tb = el('tbody');
      const opts = nodeOptions(nodes, inp.subject.value, inp.grade.value);
      rows.forEach((r, ri) => {
        const n = ri + 1;
        const nodeSel = KT.select(`row${n}_node`, [['', '— chọn —'], ...opts], r.node, { 'aria-label': `Dòng ${n}: chủ đề` });
        nodeSel.addEventListener('change', () => { r.node = nodeSel.value; changed(); });
        const fmtSel = KT.select(`row${n}_format`, FORMATS, r.format, { 'aria-label': `Dòng ${n}: dạng câu` });
        fmtSel.addEventListener('change', () => { r.format = fmtSel.value; changed(); });
        const pts = el('input', { name: `row${n}_points`, class: 'bp-points', inputMode: 'decimal', value: isNaN(r.points) ? '' : pointsText(r.points), 'aria-label': `Dòng ${n}: điểm mỗi câu`, autocomplete: 'off' });
        pts.addEventListener('input', () => { r.points = hundredths(pts.value); pts.setAttribute('aria-invalid', String(isNaN(r.points) || r.points <= 0)); changed(true); });
        const tr = el('tr', { 'data-row': String(n) }, el('td', { class: 'bp-node' }, nodeSel), el('td', {}, fmtSel), el('td', {}, pts));
        for (const lv of LEVELS) {
          const c = el('input', { type: 'number', min: 0, max: 200, step: 1, class: 'bp-count', name: `row${n}_${lv}`, value: r.counts[lv] || '', inputMode: 'numeric', 'aria-label': `Dòng ${n}, ${L.levels[lv]}: số câu`, 'aria-describedby': `avail-${n}-${lv}` });
          c.addEventListener('input', () => { r.counts[lv] = Math.max(0, Math.floor(Number(c.value) || 0)); changed(); });
          tr.append(el('td', { class: 'bp-cell', 'data-level': lv }, c, el('span', { class: 'bp-avail', id: `avail-${n}-${lv}` })));
        }
        const del = el('button', { type: 'button', class: 'small', text: 'Xoá dòng', 'aria-label': `Xoá dòng ${n}` });
        del.addEventListener('click', () => { rows.splice(ri, 1); if (!rows.length) rows.push({ node: '', format: 'DT.NLC', points: 25, counts: {} }); drawGrid(); changed(); });
        tr.append(el('td', {}, del));
        tb.append(tr);
      });
      grid.replaceChildren(KT.stackTable(el('table', { class: 'data bp-grid' }, el('caption', { class: 'sr-only', text: 'Ma trận đề: số câu theo chủ đề và mức độ' }), el('thead', {}, head), tb)));
      paint();
    }

    /* Cells: "có N câu", "thiếu K câu" when asked more than available. */
    function paint() {
      let q = 0, p = 0;
      const short = [];
      rows.forEach((r, ri) => {
        const tr = grid.querySelector(`tr[data-row="${ri + 1}"]`);
        for (const lv of LEVELS) {
          const c = Number(r.counts[lv] || 0);
          q += c;
          if (!isNaN(r.points)) p += c * r.points;
          const td = tr && tr.querySelector(`td[data-level="${lv}"]`);
          if (!td) continue;
          const span = td.querySelector('.bp-avail');
          const k = key(r.node, lv, r.format);
          const a = r.node ? avail[k] : undefined;
          const need = c * 1;
          let missing = 0;
          if (a !== undefined && need > a) missing = need - a;
          if (serverShort[k] && need > 0) missing = Math.max(missing, serverShort[k]);
          if (shortage[k] && need > 0) missing = Math.max(missing, shortage[k]);
          td.classList.toggle('short', missing > 0);
          const input = td.querySelector('input');
          if (missing > 0) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
          span.textContent = !r.node ? '' : a === undefined ? '…' : missing > 0 ? `có ${a} câu · thiếu ${missing} câu` : `có ${a} câu`;
          if (missing > 0) short.push(`Dòng ${ri + 1} (${labelOf(r.node)}, ${L.levels[lv]}, ${FORMAT_NAME[r.format] || r.format}): cần ${need}, có ${a ?? '?'} — thiếu ${missing} câu`);
        }
      });
      const pts = p / 100;
      totals.replaceChildren(el('strong', { text: `Tổng: ${q} câu, ${KT.decimalVi(pts.toFixed(2))} điểm` }));
      if (q > 0 && p !== 1000) totals.append(el('span', { class: 'bp-warn', text: ` — tổng điểm nên là 10 (hiện ${KT.decimalVi(pts.toFixed(2))}).` }));
      summary.replaceChildren();
      if (short.length) {
        summary.append(el('strong', { text: `Ngân hàng chưa đủ câu cho ${short.length} ô của ma trận:` }), el('ul', {}, ...short.map((s) => el('li', { text: s }))));
        summary.hidden = false;
      } else summary.hidden = true;
      return short;
    }
    const labelOf = (code) => {
      const n = nodes.find((x) => x.code === code);
      return n ? (n.name || n.text || code) : code;
    };

    let availSeq = 0;
    let serverShort = {}; // key -> shortage the server computed for the real counts
    /* Two questions to the server: the cells with a count (their shortage,
     * which accounts for rows sharing items) and the empty cells asked for one
     * item each (only what is available). */
    const refresh = KT.debounce(async () => {
      const seq = ++availSeq;
      const real = [], empty = [];
      rows.forEach((r) => {
        if (!r.node) return;
        for (const lv of LEVELS) {
          const c = Number(r.counts[lv] || 0);
          const cell = { node: r.node, level: lv, format: r.format, count: Math.max(1, c), points: isNaN(r.points) || r.points <= 0 ? '1' : pointsText(r.points) };
          (c > 0 ? real : empty).push(cell);
        }
      });
      if (!real.length && !empty.length) { paint(); return; }
      const subject = inp.subject.value, grade = Number(inp.grade.value);
      const next = {}, nextShort = {};
      let done = false;
      if (availRoute) {
        const ask = (cells) => (cells.length ? KT.api('POST', '/blueprints/availability', { subject, grade, blueprint: cells }) : Promise.resolve({ ok: true, data: { rows: [] } }));
        const [ra, rb] = await Promise.all([ask(real), ask(empty)]);
        if (ra.status === 404 || ra.status === 405) availRoute = false;
        else if (ra.ok && rb.ok) {
          const take = (cells, data, withShort) => {
            const per = Array.isArray(data) ? data : (data.rows || []);
            per.forEach((x, i) => {
              const c = cells[x.row ? x.row - 1 : i];
              if (!c || x.available === null || x.available === undefined) return;
              const k = key(c.node, c.level, c.format);
              next[k] = Number(x.available);
              if (withShort && Number(x.shortage) > 0) nextShort[k] = (nextShort[k] || 0) + Number(x.shortage);
            });
          };
          take(real, ra.data, true);
          take(empty, rb.data, false);
          done = true;
        }
      }
      if (!done) {
        if (!bank) bank = await bankCounts(subject, grade);
        if (bank) for (const c of real.concat(empty)) next[key(c.node, c.level, c.format)] = countLocal(bank, c.node, c.level, c.format);
      }
      if (seq !== availSeq) return;
      avail = next;
      serverShort = done ? nextShort : {};
      paint();
    }, 350);

    function changed(pointsOnly) {
      dirty = true;
      shortage = {};
      serverShort = {};
      status.textContent = 'Có thay đổi chưa lưu.';
      if (pointsOnly) paint(); else { paint(); refresh(); }
    }
    addRow.addEventListener('click', () => {
      const last = rows[rows.length - 1];
      rows.push({ node: '', format: last ? last.format : 'DT.NLC', points: last ? last.points : 25, counts: {} });
      drawGrid();
      const sel = grid.querySelector(`select[name="row${rows.length}_node"]`);
      if (sel) sel.focus();
    });
    for (const k of ['title', 'kind', 'duration', 'forms']) inp[k].addEventListener('input', () => { dirty = true; status.textContent = 'Có thay đổi chưa lưu.'; });
    for (const k of ['subject', 'grade']) {
      inp[k].addEventListener('change', async () => {
        nodes = await taxonomy(inp.subject.value, inp.grade.value);
        bank = null;
        for (const r of rows) if (r.node && !r.node.startsWith(`VN18.${inp.subject.value}.${inp.grade.value}`)) r.node = '';
        drawGrid(); changed();
      });
    }

    function body() {
      return {
        title: inp.title.value.trim(), subject: inp.subject.value, grade: Number(inp.grade.value), kind: inp.kind.value,
        duration_seconds: Math.round(Number(inp.duration.value) * 60), forms: Number(inp.forms.value),
        blueprint: entries().map((x) => x.e),
      };
    }
    /* Client-side checks with the same field names as the server's. */
    function localProblems(b) {
      const p = [];
      if (!b.title) p.push({ field: 'title', message: 'Cần nhập tên đề.' });
      if (!(b.duration_seconds >= 60 && b.duration_seconds <= 14400)) p.push({ field: 'duration_seconds', message: 'Thời gian làm bài từ 1 đến 240 phút.' });
      if (!(Number.isInteger(b.forms) && b.forms >= 1 && b.forms <= 24)) p.push({ field: 'forms', message: 'Số mã đề từ 1 đến 24.' });
      rows.forEach((r, i) => {
        const any = LEVELS.some((lv) => Number(r.counts[lv] || 0) > 0);
        if (any && !r.node) p.push({ field: `row${i + 1}_node`, message: `Dòng ${i + 1}: chọn chủ đề.` });
        if (any && (isNaN(r.points) || r.points <= 0)) p.push({ field: `row${i + 1}_points`, message: `Dòng ${i + 1}: điểm mỗi câu là số dương, tối đa hai chữ số thập phân (ví dụ 0,25).` });
      });
      if (!b.blueprint.length) p.push({ field: 'row1_MD.B', message: 'Ma trận chưa có câu nào: nhập số câu vào ít nhất một ô.' });
      return p;
    }
    async function save(confirmShort) {
      KT.clearError(msg);
      const b = body();
      const probs = localProblems(b);
      if (probs.length) {
        KT.showError(msg, { error: { message: 'Đề chưa hợp lệ: thầy cô sửa các ô được đánh dấu.', details: probs } }, root);
        return false;
      }
      const short = paint();
      if (short.length && confirmShort) {
        const ok = await KT.confirm('Ma trận còn thiếu câu', `Ngân hàng chưa đủ câu cho ${short.length} ô (xem phần tóm tắt dưới ma trận). Vẫn lưu nháp? Đề chỉ xuất bản được khi đủ câu.`, 'Vẫn lưu nháp');
        if (!ok) return false;
      }
      saveBtn.disabled = pubBtn.disabled = true;
      const r = testId ? await KT.api('PATCH', `/tests/${testId}`, b) : await KT.api('POST', '/tests', b);
      saveBtn.disabled = pubBtn.disabled = false;
      if (!r.ok) { mapFieldErrors(r); KT.showError(msg, r, root); return false; }
      const saved = r.data.test || r.data;
      const isNew = !testId;
      testId = saved.id;
      dirty = false;
      status.textContent = 'Đã lưu nháp.';
      KT.toast('Đã lưu nháp đề.');
      if (isNew) { KT.keepFocus = true; history.replaceState(null, '', `#/tests/${testId}`); }
      return true;
    }
    /* The server names blueprint fields as blueprint[i].x: point them at the grid's controls. */
    function mapFieldErrors(r) {
      const d = r && r.error && Array.isArray(r.error.details) ? r.error.details : [];
      const list = entries();
      for (const x of d) {
        if (!x || typeof x.field !== 'string') continue;
        const m = /^blueprint\[(\d+)\]\.?(\w+)?/.exec(x.field);
        if (m && list[Number(m[1])]) {
          const { ri, lv } = list[Number(m[1])];
          const f = m[2] === 'node' ? 'node' : m[2] === 'format' ? 'format' : m[2] === 'points' ? 'points' : lv;
          x.field = `row${ri + 1}_${f}`;
        }
      }
    }
    saveBtn.addEventListener('click', () => save(true));
    pubBtn.addEventListener('click', async () => {
      if ((dirty || !testId) && !(await save(false))) return;
      const short = paint();
      if (short.length) {
        KT.showError(msg, { error: { message: 'Chưa xuất bản được: ngân hàng chưa đủ câu cho các ô được đánh dấu "thiếu". Thầy cô giảm số câu hoặc bổ sung câu hỏi rồi thử lại.' } });
        return;
      }
      const ok = await KT.confirm('Xuất bản đề', `Xuất bản đề với ${inp.forms.value} mã đề? Sau khi xuất bản, ma trận không sửa được nữa.`, 'Xuất bản');
      if (!ok) return;
      pubBtn.disabled = true;
      status.textContent = 'Đang ghép các mã đề…';
      const r = await KT.api('POST', `/tests/${testId}/publish`, undefined, { timeout: 120000 });
      pubBtn.disabled = false;
      status.textContent = '';
      if (r.status === 409 && r.error && r.error.code === 'blueprint_shortage') {
        const list = entries();
        shortage = {};
        for (const x of r.error.details || []) {
          const e = list[Number(x.row) - 1] ? list[Number(x.row) - 1].e : x;
          const k = key(x.node || e.node, x.level || e.level, x.format || e.format);
          shortage[k] = Math.max(1, Number(x.needed || 0) - Number(x.available || 0));
          if (x.available !== undefined) avail[k] = Number(x.available);
        }
        paint();
        KT.showError(msg, r);
        return;
      }
      if (!r.ok) { KT.showError(msg, r); return; }
      KT.toast('Đã xuất bản đề.');
      KT.go(`#/tests/${testId}`);
    });
    window.addEventListener('beforeunload', (ev) => { if (dirty && document.contains(saveBtn)) { ev.preventDefault(); ev.returnValue = ''; } });

    drawGrid();
    refresh();
  }

  // ---------------------------------------------------------------- published
  async function published(root, t, query) {
    const codes = t.form_codes || [];
    const total = t.total_points ? KT.decimalVi(t.total_points) : '';
    root.append(el('section', { class: 'panel' },
      el('h2', { text: 'Thông tin đề' }),
      el('dl', { class: 'test-facts' },
        el('dt', { text: 'Môn, khối' }), el('dd', { text: `${KT.subjectName(t.subject)} ${t.grade}` }),
        el('dt', { text: 'Loại' }), el('dd', { text: L.testKinds[t.kind] || t.kind }),
        el('dt', { text: 'Thời gian' }), el('dd', { text: `${Math.round(t.duration_seconds / 60)} phút` }),
        el('dt', { text: 'Tổng điểm' }), el('dd', { text: total }),
        el('dt', { text: 'Trạng thái' }), el('dd', {}, el('span', { class: 'badge approved', text: STATUS[t.status] || t.status })),
        el('dt', { text: 'Mã đề' }), el('dd', { class: 'form-codes', text: codes.join(', ') })),
      el('p', { class: 'actions no-print' },
        el('a', { class: 'button primary', href: `#/sessions/new?test=${t.id}`, text: 'Mở phiên kiểm tra' }), ' ',
        el('a', { class: 'button', href: `#/sessions?test_id=${t.id}`, text: 'Các phiên của đề' }), ' ',
        el('a', { class: 'button results-link', href: `#/tests/${t.id}/results`, text: 'Kết quả và thống kê' }), ' ',
        el('a', { class: 'button print-link', href: `#/tests/${t.id}/print`, text: 'In đề' }))));
    if (Array.isArray(t.blueprint) && t.blueprint.length) {
      const tb = el('tbody');
      const nodes = await taxonomy(t.subject, t.grade);
      const nodeName = (code) => (code === `VN18.${t.subject}.${t.grade}` ? `Cả chương trình ${KT.subjectName(t.subject)} ${t.grade}`
        : ((nodes.find((n) => n.code === code) || {}).name || code));
      for (const e of t.blueprint) {
        tb.append(el('tr', {}, el('td', { text: nodeName(e.node), title: e.node }), el('td', { text: L.levels[e.level] || e.level }), el('td', { text: FORMAT_NAME[e.format] || e.format }),
          el('td', { class: 'num', text: String(e.count) }), el('td', { class: 'num', text: KT.decimalVi(e.points) })));
      }
      root.append(el('section', { class: 'panel' }, el('h2', { text: 'Ma trận đề' }), el('div', { class: 'table-wrap' }, KT.stackTable(el('table', { class: 'data' },
        el('thead', {}, el('tr', {}, ...['Chủ đề', 'Mức độ', 'Dạng câu', 'Số câu', 'Điểm/câu'].map((h) => el('th', { scope: 'col', text: h })))), tb)))));
    }
    if (!codes.length) return;
    const pick = el('div', { class: 'form-tabs no-print', role: 'group', 'aria-label': 'Chọn mã đề để xem trước' });
    const view = el('section', { class: 'panel form-preview', 'aria-live': 'polite', 'aria-labelledby': 'fp-h' });
    root.append(el('h2', { text: 'Xem trước mã đề' }), pick, view);
    const show = async (code) => {
      for (const b of pick.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.code === code));
      view.replaceChildren(el('p', { class: 'loading', text: 'Đang tải mã đề…' }));
      const r = await KT.api('GET', `/tests/${t.id}/forms/${encodeURIComponent(code)}`);
      if (!r.ok) { const m = el('p'); view.replaceChildren(el('h3', { id: 'fp-h', text: `Mã đề ${code}` }), m); KT.showError(m, r); return; }
      renderForm(view, t, code, r.data);
    };
    for (const c of codes) {
      const b = el('button', { type: 'button', class: 'small', text: `Mã đề ${c}`, 'data-code': c, 'aria-pressed': 'false' });
      b.addEventListener('click', () => show(c));
      pick.append(b, ' ');
    }
    const printBtn = el('button', { type: 'button', class: 'small', text: 'In mã đề' });
    printBtn.addEventListener('click', () => window.print());
    pick.append(printBtn);
    // Each form as the Word document a school prints, fetched with the token.
    const words = el('p', { class: 'actions no-print docx-links' });
    const wordMsg = el('span', { role: 'status' });
    for (const c of codes) {
      const a = el('a', { href: '#', class: 'button small', text: `Tải Word (.docx) mã đề ${c}`, 'data-code': c });
      a.addEventListener('click', async (ev) => {
        ev.preventDefault();
        wordMsg.className = '';
        wordMsg.setAttribute('role', 'status');
        wordMsg.textContent = 'Đang tạo tệp Word…';
        const r = await KT.api('GET', `/tests/${t.id}/forms/${encodeURIComponent(c)}.docx`, undefined, { blob: true, timeout: 60000 });
        if (!r.ok || !(r.data instanceof Blob)) { KT.showError(wordMsg, r); return; }
        const url = URL.createObjectURL(r.data);
        const link = el('a', { href: url, download: `de-${c}.docx`, hidden: true });
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10000);
        wordMsg.textContent = `Đã tải mã đề ${c}.`;
      });
      words.append(a, ' ');
    }
    words.append(wordMsg);
    view.before(words);
    await show(query.get('form') && codes.includes(query.get('form')) ? query.get('form') : codes[0]);
  }

  /* One form: its questions in order, drawn as the student sees them
   * (disabled), each followed by its key, points and explanation. */
  function keyText(it, key) {
    if (key === null || key === undefined) return 'Chấm tay (tự luận)';
    const letter = (id) => {
      const i = (it.options || []).findIndex((o) => o.id === id);
      return i >= 0 ? String.fromCharCode(65 + i) : String(id);
    };
    if (it.kind === 'MCQ4') return letter(key);
    if (it.kind === 'MR') return (Array.isArray(key) ? key : [key]).map(letter).join(', ');
    if (it.kind === 'TF4' && typeof key === 'object') {
      return (it.statements || []).map((s, i) => `${String.fromCharCode(97 + i)}) ${key[s.id] ? 'Đúng' : 'Sai'}`).join('; ') || JSON.stringify(key);
    }
    if (typeof key === 'string' || typeof key === 'number') return KT.decimalVi(String(key));
    if (Array.isArray(key)) return key.map((k) => KT.decimalVi(String(k))).join(' hoặc ');
    return JSON.stringify(key);
  }
  /* The key as the teacher reads it on this form: the server's key_shown
   * (letters in the form's order, a)–d) for statements) when given. */
  function shownKey(it) {
    const k = it.key_shown;
    if (k === undefined || k === null) return keyText(it, it.kind === 'MR' ? it.keys : it.key);
    if (Array.isArray(k)) return k.join(', ');
    if (typeof k === 'object') return Object.entries(k).map(([a, v]) => `${a}) ${v ? 'Đúng' : 'Sai'}`).join('; ');
    return KT.decimalVi(String(k));
  }
  /* The pictures of a question on the form: the version the form holds,
   * fetched with the token (the renderer turns them into data: URLs). */
  function assetOf(it) {
    const fetchImage = KT.renderer && KT.renderer.fetchImage;
    const id = it.item_id || it.id;
    if (!fetchImage || !id) return null;
    const enc = (p) => String(p).split('/').map(encodeURIComponent).join('/');
    return (path) => fetchImage(`${KT.API}/items/${encodeURIComponent(id)}/assets/${enc(path)}${it.version ? '?version=' + it.version : ''}`);
  }
  function renderForm(view, t, code, data) {
    const items = data.items || (data.form && data.form.items) || (data.payload && data.payload.items) || [];
    view.replaceChildren(el('h3', { id: 'fp-h', text: `Mã đề ${data.form_code || data.code || code} — ${items.length} câu` + (data.total_points ? `, ${KT.decimalVi(String(data.total_points))} điểm` : '') }));
    const parts = Object.fromEntries((data.parts || []).map((p) => [p.part, p]));
    let ol = el('ol', { class: 'form-items' });
    let part = null;
    items.forEach((it, i) => {
      if (it.part !== undefined && it.part !== part && parts[it.part]) {
        if (ol.children.length) view.append(ol);
        part = it.part;
        view.append(el('h4', { class: 'form-part', text: `${parts[part].title}` + (parts[part].points ? ` (${KT.decimalVi(String(parts[part].points))} điểm)` : '') }));
        ol = el('ol', { class: 'form-items' });
      }
      const ref = it.item_ref || it.ref || String(i + 1);
      const li = el('li', { class: 'form-item', 'data-ref': ref });
      const head = el('p', { class: 'q-head' }, el('strong', { text: `Câu ${i + 1}` }), ` · ${L.kinds[it.kind] || it.kind}` + (it.points !== undefined ? ` · ${KT.decimalVi(String(it.points))} điểm` : ''));
      head.firstChild.textContent = `Câu ${it.number || i + 1}`;
      li.append(head);
      let drawn = null;
      if (typeof KT.renderItem === 'function') {
        try {
          drawn = KT.renderItem(it, null, { disabled: true, name: `f${code}-${i}`, label: `Câu ${i + 1}`, asset: assetOf(it) });
        } catch (e) { drawn = null; }
      }
      if (!drawn) {
        drawn = el('div', { class: 'stem' });
        drawn.append(KT.safeHTML(it.stem || it.html || ''));
        if (it.options) {
          const o = el('ol', { class: 'opts', type: 'A' });
          for (const x of it.options) { const l = el('li'); l.append(KT.safeHTML(x.html)); o.append(l); }
          drawn.append(o);
        }
      }
      li.append(drawn);
      li.append(el('p', { class: 'form-key' }, el('strong', { text: 'Đáp án: ' }), shownKey(it)));
      if (it.model_answer) {
        const ma = el('div', { class: 'form-expl' }, el('strong', { text: 'Đáp án mẫu: ' }));
        ma.append(KT.safeHTML(it.model_answer));
        li.append(ma);
      }
      if (it.explanation) {
        const ex = el('div', { class: 'form-expl' }, el('strong', { text: 'Lời giải: ' }));
        ex.append(KT.safeHTML(it.explanation));
        li.append(ex);
      }
      ol.append(li);
    });
    view.append(ol);
  }

  KT.builder = { hundredths, rowsOf };
})();

/*
 * kiemtra — results and item statistics of a session (#/sessions/:id/results)
 * or of all sessions of a test (#/tests/:id/results): summary cards (n,
 * mean, population SD, median, min, max, KR-20 or Cronbach's α), the score
 * histogram as SVG built here (with a data table for screen readers), the
 * students (sortable by score or name), the items (p, point-biserial with
 * the total and with the rest, D of the 27 % groups, flags with reasons) and
 * per choice item its distractor table. Attempts with answers waiting for
 * marking are not in the statistics; the page says how many. Decimal comma
 * everywhere; "Tải Excel (.xlsx)" downloads the server's workbook.
 */
'use strict';

(function () {
  const KT = window.KT;
  const { el } = KT;
  const STAFF = ['admin', 'school_admin', 'subject_head', 'teacher'];
  const SVG = 'http://www.w3.org/2000/svg';
  const FLAGS = {
    negative_discrimination: 'độ phân biệt âm',
    too_hard: 'quá khó (p < 0,2)',
    too_easy: 'quá dễ (p > 0,9)',
  };
  const STATE = { not_started: 'Chưa làm', in_progress: 'Đang làm', submitted: 'Đã nộp' };

  /* A number with a decimal comma; null (undefined statistic) as a dash. */
  const num = (v, d) => (v === null || v === undefined || Number.isNaN(v)) ? '—' : Number(v).toFixed(d).replace('.', ',');
  const pts = (v) => (v === null || v === undefined) ? '—' : KT.decimalVi(String(v));
  const short = (v) => KT.decimalVi(String(Math.round(v * 100) / 100)); // 2,5 / 10

  function svg(tag, attrs, ...kids) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    for (const c of kids) e.append(c);
    return e;
  }

  /* The histogram: one bar per bin, its count above it, the bin's range
   * below; role=img with a title and a description, and the same numbers in
   * a table (the accessible alternative, also shown on request). */
  function histogram(bins, n) {
    const W = 640, H = 260, top = 24, bottom = 44, left = 36, right = 8;
    const plotH = H - top - bottom, slot = (W - left - right) / Math.max(1, bins.length);
    const most = Math.max(1, ...bins.map((b) => b.count));
    const desc = bins.map((b) => `${num(b.from, 1)}–${num(b.to, 1)} điểm: ${b.count} bài`).join('; ');
    const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'hist-title hist-desc', class: 'hist' },
      svg('title', { id: 'hist-title' }), svg('desc', { id: 'hist-desc' }));
    root.querySelector('title').textContent = `Phân bố điểm của ${n} bài`;
    root.querySelector('desc').textContent = desc;
    root.append(svg('line', { x1: left, y1: top + plotH, x2: W - right, y2: top + plotH, class: 'hist-axis' }));
    bins.forEach((b, i) => {
      const h = Math.round((b.count / most) * plotH);
      const x = left + i * slot + slot * 0.12, w = slot * 0.76, y = top + plotH - h;
      const bar = svg('rect', { x: x.toFixed(1), y, width: w.toFixed(1), height: h, class: 'hist-bar', 'data-count': b.count });
      root.append(bar);
      const c = svg('text', { x: (x + w / 2).toFixed(1), y: y - 6, 'text-anchor': 'middle', class: 'hist-count' });
      c.textContent = String(b.count);
      const lab = svg('text', { x: (x + w / 2).toFixed(1), y: top + plotH + 18, 'text-anchor': 'middle', class: 'hist-label' });
      lab.textContent = `${short(b.from)}–${short(b.to)}`;
      root.append(c, lab);
    });
    const axis = svg('text', { x: (left + W - right) / 2, y: H - 6, 'text-anchor': 'middle', class: 'hist-label' });
    axis.textContent = 'Khoảng điểm';
    root.append(axis);
    const table = el('table', { class: 'data hist-table' },
      el('caption', { text: 'Phân bố điểm (dạng bảng)' }),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Khoảng điểm' }), el('th', { scope: 'col', class: 'num', text: 'Số bài' }))),
      el('tbody', {}, ...bins.map((b, i) => el('tr', {},
        el('td', { text: `${num(b.from, 2)} – ${num(b.to, 2)}${i === bins.length - 1 ? ' (gồm cả điểm tối đa)' : ''}` }),
        el('td', { class: 'num', text: String(b.count) })))));
    return el('figure', { class: 'panel hist-figure' }, root,
      el('details', { class: 'hist-details' }, el('summary', { text: 'Xem số liệu dạng bảng' }), el('div', { class: 'table-wrap' }, table)));
  }

  function cards(t, stats) {
    const rel = t.kr20 !== null && t.kr20 !== undefined
      ? ['Độ tin cậy KR-20', num(t.kr20, 3)]
      : ['Độ tin cậy (Cronbach α)', num(t.alpha, 3)];
    const list = [
      ['Số bài tính thống kê', String(t.n), 'n'],
      ['Điểm trung bình', num(t.mean, 2), 'mean'],
      ['Độ lệch chuẩn', num(t.sd, 2), 'sd'],
      ['Trung vị', num(t.median, 2), 'median'],
      ['Thấp nhất', num(t.min, 2), 'min'],
      ['Cao nhất', num(t.max, 2), 'max'],
      [rel[0], rel[1], 'reliability'],
    ];
    return el('ul', { class: 'result-cards', 'aria-label': 'Tổng quan kết quả' },
      ...list.map(([label, value, key]) => el('li', { class: 'result-card', 'data-stat': key },
        el('span', { class: 'rc-label', text: label }), el('strong', { class: 'rc-value', text: value }))),
      el('li', { class: 'result-card note' }, el('span', { class: 'rc-label', text: 'Thang điểm' }),
        el('span', { class: 'rc-small', text: `tối đa ${num(t.max_score, 2)} · ĐLC tổng thể (chia n) · nhóm cao/thấp ${t.group_size} HS (27 %)` })));
  }

  /* Students: sortable by score and by name (Vietnamese: given name first). */
  function studentsTable(students, byTest) {
    const tbody = el('tbody');
    const given = (s) => (s.full_name || '').trim().split(/\s+/).pop() || '';
    const heads = [['STT', 'num'], ['Mã HS', ''], ['Họ và tên', 'name'], ['Lớp', ''], ['Mã đề', ''], ['Trạng thái', ''], ['Điểm', 'score']];
    let sort = { key: '', dir: 1 };
    const ths = heads.map(([h, key]) => {
      const th = el('th', { scope: 'col', class: key === 'score' || key === 'num' ? 'num' : '' });
      if (key === 'name' || key === 'score') {
        const b = el('button', { type: 'button', class: 'sort', 'data-sort': key, text: h });
        b.addEventListener('click', () => {
          sort = { key, dir: sort.key === key ? -sort.dir : (key === 'score' ? -1 : 1) };
          draw();
        });
        th.append(b);
      } else th.textContent = h;
      return th;
    });
    function draw() {
      const rows = students.slice();
      if (sort.key === 'score') {
        rows.sort((a, b) => {
          const x = a.score === null || a.score === undefined ? -1 : Number(a.score);
          const y = b.score === null || b.score === undefined ? -1 : Number(b.score);
          return (x - y) * sort.dir;
        });
      } else if (sort.key === 'name') {
        rows.sort((a, b) => (given(a).localeCompare(given(b), 'vi') || (a.full_name || '').localeCompare(b.full_name || '', 'vi')) * sort.dir);
      }
      ths.forEach((th, i) => {
        const key = heads[i][1];
        if (key === 'name' || key === 'score') th.setAttribute('aria-sort', sort.key === key ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none');
      });
      tbody.replaceChildren(...rows.map((s, i) => {
        const waiting = s.state === 'submitted' && s.included === false;
        return el('tr', { 'data-student': s.student_code || '' },
          el('td', { class: 'num', text: String(i + 1) }),
          el('td', { class: 'mono', text: s.student_code || '' }),
          el('td', { text: s.full_name || '' }),
          el('td', { text: s.class || '' }),
          el('td', { text: s.form_code || '' }),
          el('td', {}, el('span', { class: 'badge ' + (s.state === 'submitted' ? 'approved' : s.state === 'in_progress' ? 'submitted' : 'draft'), text: STATE[s.state] || s.state }),
            waiting ? el('span', { class: 'badge submitted', text: 'chờ chấm' }) : ''),
          el('td', { class: 'num total', text: s.state === 'submitted' ? pts(s.score) : '—' }));
      }));
    }
    draw();
    const table = el('table', { class: 'data results-students' },
      el('caption', { class: 'sr-only', text: byTest ? 'Kết quả của học sinh trong các phiên của đề' : 'Kết quả của học sinh' }),
      el('thead', {}, el('tr', {}, ...ths)), tbody);
    return table;
  }

  function distractors(it) {
    const rows = it.options.map((o) => el('tr', { class: o.key ? 'key' : '', 'data-option': o.option },
      el('th', { scope: 'row', text: o.option + (o.key ? ' (đáp án)' : '') }),
      el('td', { class: 'num count', text: String(o.count) }),
      el('td', { class: 'num', text: num(o.p, 2) }),
      el('td', { class: 'num', text: num(o.p_upper, 2) }),
      el('td', { class: 'num', text: num(o.p_lower, 2) }),
      el('td', { class: 'num', text: num(o.mean_total, 2) })));
    rows.push(el('tr', { 'data-option': '' }, el('th', { scope: 'row', text: 'Bỏ trống' }),
      el('td', { class: 'num count', text: String(it.omitted || 0) }), el('td', { colSpan: 4 })));
    return el('div', { class: 'table-wrap' }, el('table', { class: 'data distractors' },
      el('caption', { text: 'Phương án nhiễu: ai chọn phương án nào' }),
      el('thead', {}, el('tr', {}, ...['Phương án', 'Số HS chọn', 'Tỉ lệ', 'Nhóm cao', 'Nhóm thấp', 'Điểm TB người chọn']
        .map((h, i) => el('th', { scope: 'col', class: i ? 'num' : '', text: h })))),
      el('tbody', {}, ...rows)));
  }

  function itemsTable(items) {
    const tbody = el('tbody');
    items.forEach((it, i) => {
      const flags = el('td', { class: 'flags' });
      for (const f of it.flags || []) flags.append(el('span', { class: 'badge ' + (f === 'negative_discrimination' ? 'bad' : 'submitted'), 'data-flag': f, text: FLAGS[f] || f }), ' ');
      const row = el('tr', { 'data-item-ref': it.item_ref, class: (it.flags || []).length ? 'flagged' : '' },
        el('th', { scope: 'row', text: `Câu ${i + 1}` }),
        el('td', { text: KT.labels.kinds[it.kind] || it.kind }),
        el('td', { class: 'num', text: pts(it.points) }),
        el('td', { class: 'num p', text: num(it.p, 2) }),
        el('td', { class: 'num rpb', text: num(it.r_pb, 2) }),
        el('td', { class: 'num rrest', text: num(it.r_rest, 2) }),
        el('td', { class: 'num d', text: num(it.d, 2) }),
        flags);
      const more = el('td');
      row.append(more);
      tbody.append(row);
      if (Array.isArray(it.options)) {
        const id = `dist-${i}`;
        const b = el('button', { type: 'button', class: 'small', 'aria-expanded': 'false', 'aria-controls': id, text: 'Phương án' });
        const sub = el('tr', { id, class: 'dist-row', hidden: true }, el('td', { colSpan: 9 }, distractors(it)));
        b.addEventListener('click', () => {
          const open = sub.hidden;
          sub.hidden = !open;
          b.setAttribute('aria-expanded', String(open));
        });
        more.append(b);
        tbody.append(sub);
      }
    });
    return el('table', { class: 'data results-items' },
      el('caption', { class: 'sr-only', text: 'Thống kê từng câu hỏi' }),
      el('thead', {}, el('tr', {}, ...['Câu', 'Loại', 'Điểm', 'Độ khó p', 'r_pb', 'r (trừ câu)', 'D', 'Cảnh báo', '']
        .map((h, i) => el('th', { scope: 'col', class: i >= 2 && i <= 6 ? 'num' : '', text: h })))), tbody);
  }

  async function download(path, name, status) {
    KT.notice(status, 'Đang tạo tệp Excel…');
    const r = await KT.api('GET', path, undefined, { blob: true, timeout: 60000 });
    if (!r.ok || !(r.data instanceof Blob)) {
      KT.notice(status, r.error && r.error.message ? r.error.message : 'Không tải được tệp Excel.', 'error');
      return;
    }
    const url = URL.createObjectURL(r.data);
    const a = el('a', { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    KT.notice(status, 'Đã tải tệp Excel.', 'ok');
  }

  async function render(root, params, ctx, byTest) {
    const id = encodeURIComponent(params.id);
    const base = byTest ? `/tests/${id}/results` : `/sessions/${id}/results`;
    const r = await KT.api('GET', base);
    if (!r.ok) { const m = el('p'); root.append(m); KT.showError(m, r); return; }
    const d = r.data, stats = d.statistics || {}, t = stats.test;
    const title = (d.test && d.test.title) || '';
    ctx.setTitle(`Kết quả: ${title}`);
    const status = el('p', { class: 'notice', hidden: true, 'aria-live': 'polite' });
    const btn = el('button', { type: 'button', class: 'primary xlsx-download', text: 'Tải Excel (.xlsx)' });
    btn.addEventListener('click', () => download(base + '.xlsx', `Kết quả - ${title}.xlsx`.replace(/[\\/:*?"<>|]/g, '-'), status));
    const sessions = (d.sessions || []).map((s) => el('li', {},
      el('a', { href: `#/sessions/${s.id}/results`, text: `Phiên ${s.id}` }), ` — ${s.classes || ''}, mở ${KT.formatLocal(s.opens_at)}`));
    root.append(el('section', { class: 'panel results-head' },
      el('p', { class: 'actions' }, btn, ' ',
        byTest ? '' : el('a', { class: 'button', href: `#/sessions/${id}`, text: 'Về phiên kiểm tra' }), ' ',
        d.test ? el('a', { class: 'button', href: byTest ? `#/tests/${id}` : `#/tests/${d.test.id}/results`, text: byTest ? 'Về đề kiểm tra' : 'Kết quả mọi phiên của đề' }) : ''),
      byTest ? el('ul', { class: 'results-sessions', 'aria-label': 'Các phiên của đề' }, ...sessions) : '',
      status));
    const ex = stats.excluded || {};
    if (ex.attempts) {
      root.append(el('p', { class: 'notice warn pending-note', role: 'status', text: stats.note || `${ex.attempts} bài còn câu chờ chấm chưa được tính vào thống kê.` }));
    }
    if (!t || !t.n) {
      root.append(el('p', { class: 'notice', text: 'Chưa có bài nào đã chấm xong để thống kê.' }));
    }
    if (t) {
      root.append(el('h2', { text: 'Tổng quan' }), cards(t, stats));
      root.append(el('h2', { text: 'Phân bố điểm' }), histogram(t.histogram || [], t.n));
    }
    root.append(el('h2', { text: 'Học sinh' }), el('div', { class: 'table-wrap' }, KT.stackTable(studentsTable(d.students || [], byTest))));
    if (Array.isArray(stats.items) && stats.items.length) {
      root.append(el('h2', { text: 'Thống kê câu hỏi' }),
        el('p', { class: 'hint', text: 'p: độ khó (tỉ lệ điểm đạt được). r_pb: tương quan điểm-nhị phân giữa câu và tổng điểm; r (trừ câu): tương quan với tổng điểm không tính câu đó, dùng để cảnh báo độ phân biệt âm. D: chênh lệch p giữa nhóm 27 % điểm cao và 27 % điểm thấp.' }),
        el('div', { class: 'table-wrap' }, itemsTable(stats.items)));
    }
  }

  KT.route('/sessions/:id/results', {
    title: 'Kết quả phiên kiểm tra', nav: 'sessions', roles: STAFF,
    render: (root, params, query, ctx) => render(root, params, ctx, false),
  });
  KT.route('/tests/:id/results', {
    title: 'Kết quả của đề', nav: 'tests', roles: STAFF,
    render: (root, params, query, ctx) => render(root, params, ctx, true),
  });
})();

/*
 * kiemtra — the item bank (#/bank) and the item page (#/items/:id), plus
 * KT.items, the helpers the editor and the review screens share: the
 * taxonomy tree, tag names, an item's images, its preview with the shared
 * renderer, its key and explanation, and the status actions.
 *
 * The bank's filters live in the hash query (#/bank?subject=TOAN&level=MD.B…)
 * so a reload or Back shows the same page; the cursor of the page shown is
 * there too, with the cursors of the pages before it ("back").
 */
'use strict';

(function () {
  const KT = window.KT;
  const { el } = KT;
  const L = KT.labels;
  const STAFF = ['teacher', 'subject_head', 'school_admin', 'admin'];
  const AUTHORS = ['teacher', 'subject_head', 'school_admin'];

  // ---------------------------------------------------------------- shared helpers
  const cache = new Map();
  /* GET once per page load (taxonomy is national data and changes rarely). */
  function once(path) {
    if (!cache.has(path)) {
      cache.set(path, KT.api('GET', path).then((r) => {
        if (!r.ok) cache.delete(path);
        return r;
      }));
    }
    return cache.get(path);
  }
  /* The taxonomy of a subject and grade: strand → topic → unit → outcome,
   * in document order, with depth and a map by code. */
  async function taxonomy(subject, grade) {
    if (!subject || !grade) return { nodes: [], byCode: new Map() };
    const r = await once(`/taxonomy${KT.qs({ subject, grade, limit: 5000 })}`);
    const all = (r.ok && r.data && r.data.nodes) || [];
    const DEPTH = { strand: 0, topic: 1, unit: 2, outcome: 3 };
    const nodes = all.filter((n) => n.kind in DEPTH).map((n) => Object.assign({ depth: DEPTH[n.kind] }, n));
    return { nodes, byCode: new Map(nodes.map((n) => [n.code, n])) };
  }
  async function competencies(subject) {
    if (!subject) return [];
    const r = await once(`/taxonomy${KT.qs({ kind: 'competency', subject })}`);
    return ((r.ok && r.data && r.data.nodes) || []).filter((n) => n.parent);
  }
  const KIND_LABEL = { strand: 'Mạch', topic: 'Chủ đề', unit: 'Nội dung', outcome: 'YCCĐ' };
  /* A short name of a taxonomy node: outcomes are long verbatim texts. */
  function nodeName(n, max) {
    const t = n.name || n.text || n.code;
    max = max || 90;
    return t.length > max ? t.slice(0, max - 1) + '…' : t;
  }
  /* <option>s of a tree, indented by depth. */
  function treeOptions(nodes, value, allLabel) {
    const out = [el('option', { value: '', text: allLabel || 'Tất cả' })];
    for (const n of nodes) {
      const pad = '\u00a0\u00a0'.repeat(n.depth * 2);
      out.push(el('option', { value: n.code, text: `${pad}${KIND_LABEL[n.kind]}: ${nodeName(n, 70)}`, selected: n.code === value }));
    }
    return out;
  }

  const levelOf = (tags) => (tags || []).find((t) => /^MD\./.test(t)) || '';
  const outcomeOf = (tags) => (tags || []).find((t) => /^VN\d+\./.test(t)) || '';
  const competenciesOf = (tags) => (tags || []).filter((t) => /^NL\./.test(t));
  const FORMAT_TAGS = { 'DT.NLC': 'Nhiều lựa chọn (dạng thức)', 'DT.DS': 'Đúng/Sai (dạng thức)', 'DT.TLN': 'Trả lời ngắn (dạng thức)', 'DT.TL': 'Tự luận (dạng thức)' };

  /* Tag code → readable name (level, format, outcome, competency). */
  async function tagNames(item) {
    const tax = await taxonomy(item.subject, item.grade);
    const comps = await competencies(item.subject);
    const byComp = new Map(comps.map((c) => [c.code, c]));
    return (item.tags || []).map((t) => {
      let name = L.levels[t] || FORMAT_TAGS[t] || '';
      const n = tax.byCode.get(t) || byComp.get(t);
      if (n) name = `${KIND_LABEL[n.kind] || 'Năng lực'}: ${n.name || n.text}`;
      return { code: t, name };
    });
  }

  /* The student-shaped item of a teacher view, for the shared renderer. */
  function toRender(view) {
    const c = view.content || {};
    return { kind: view.kind, stem: c.stem || '', options: c.options || [], statements: c.statements || [], html: c.html || '', interactions: c.interactions || [] };
  }
  /* Images of a stored item (version-exact), fetched with the token once. */
  const images = new Map();
  function imageOnce(url) {
    if (!images.has(url)) images.set(url, KT.renderer.fetchImage(url).then((u) => { if (!u) images.delete(url); return u; }));
    return images.get(url);
  }
  const enc = (path) => path.split('/').map(encodeURIComponent).join('/');
  function itemAsset(id, version) {
    return (path) => imageOnce(`${KT.API}/items/${encodeURIComponent(id)}/assets/${enc(path)}${version ? '?version=' + version : ''}`);
  }
  /* While editing, an image just uploaded (not yet in a version). */
  function mediaAsset(id, version) {
    const stored = id ? itemAsset(id, version) : null;
    return (path) => imageOnce(`${KT.API}/${enc(path)}`).then((u) => u || (stored ? stored(path) : null));
  }

  /* The preview: the item exactly as a student sees it, not answerable. */
  function preview(view, opts) {
    if (view.kind === 'QTI' && !(view.content && view.content.html)) {
      return el('p', { class: 'notice', text: 'Câu hỏi QTI nhập từ gói: học sinh thấy nội dung của gói khi làm bài. Thầy cô tải bản QTI để xem toàn bộ.' });
    }
    return KT.renderItem(toRender(view), null, Object.assign({ disabled: true, name: 'pv-' + (view.id || 'new') + '-' + (view.version || 0), asset: itemAsset(view.id, view.version) }, opts || {}));
  }

  const html = (h, asset) => { const d = el('div', { class: 'rich' }); d.append(KT.renderer.html(h, { asset })); return d; };

  /* The key, the explanation and the rubric (scoring), for teachers only. */
  function keyPanel(view, asset) {
    const s = view.scoring || {}, c = view.content || {};
    asset = asset || itemAsset(view.id, view.version);
    const box = el('div', { class: 'key-panel' });
    const letter = (id) => { const i = (c.options || []).findIndex((o) => o.id === id); return i >= 0 ? String.fromCharCode(65 + i) : id; };
    if (view.kind === 'MCQ4') {
      box.append(el('p', {}, 'Đáp án: ', el('strong', { class: 'key', text: letter(s.key) })));
      const fixed = (c.options || []).filter((o) => o.fixed).map((o) => letter(o.id));
      if (fixed.length) box.append(el('p', { class: 'hint', text: `Phương án giữ cố định vị trí khi trộn: ${fixed.join(', ')}.` }));
    } else if (view.kind === 'MR') {
      box.append(el('p', {}, 'Các đáp án đúng: ', el('strong', { class: 'key', text: (s.keys || []).map(letter).join(', ') })),
        el('p', { class: 'hint', text: s.scoring_mode === 'per_option' ? 'Chấm theo từng phương án.' : 'Chấm đúng hết mới có điểm.' }));
    } else if (view.kind === 'TF4') {
      const sk = s.statement_keys || {};
      const t = el('table', { class: 'data' }, el('thead', {}, el('tr', {}, el('th', { text: 'Ý' }), el('th', { text: 'Đáp án' }))));
      const b = el('tbody');
      (c.statements || []).forEach((st, i) => b.append(el('tr', {}, el('td', { text: String.fromCharCode(97 + i) + ')' }), el('td', { class: 'key', text: sk[st.id] === true ? 'Đúng' : sk[st.id] === false ? 'Sai' : '—' }))));
      t.append(b);
      box.append(el('div', { class: 'table-wrap' }, t));
      if (Array.isArray(s.score_table)) {
        box.append(el('p', { class: 'hint', text: 'Điểm theo số ý đúng (0–4 ý): ' + s.score_table.map(KT.decimalVi).join(' / ') }));
      }
    } else if (view.kind === 'SHORT') {
      if (s.answer_type === 'text') box.append(el('p', {}, 'Đáp án (văn bản): ', el('strong', { class: 'key', text: s.key || '' })));
      else {
        box.append(el('p', {}, 'Đáp án: ', el('strong', { class: 'key', text: KT.decimalVi(s.key) }),
          s.tolerance && Number(s.tolerance) ? ` (sai số cho phép ${KT.decimalVi(s.tolerance)})` : ''));
      }
    } else if (view.kind === 'ESSAY') {
      const t = el('table', { class: 'data' }, el('thead', {}, el('tr', {}, el('th', { text: 'Tiêu chí' }), el('th', { class: 'num', text: 'Điểm' }))));
      const b = el('tbody');
      for (const r of s.rubric || []) b.append(el('tr', {}, el('td', { text: r.criterion }), el('td', { class: 'num', text: KT.decimalVi(r.points) })));
      t.append(b);
      box.append(el('h3', { text: 'Hướng dẫn chấm' }), el('div', { class: 'table-wrap' }, t));
      if (s.model_answer) box.append(el('h3', { text: 'Bài làm mẫu' }), html(s.model_answer, asset));
    } else if (view.kind === 'QTI') {
      box.append(el('p', { class: 'hint', text: 'Đáp án và cách chấm nằm trong bản QTI của câu hỏi.' }));
    }
    if (s.explanation) box.append(el('h3', { text: 'Lời giải' }), html(s.explanation, asset));
    return box;
  }

  function isReturned(it) {
    return !!(it.returned || (it.status === 'draft' && it.review_comment));
  }
  function badges(it) {
    const out = [el('span', { class: 'badge ' + it.status, text: L.status[it.status] || it.status })];
    if (isReturned(it)) out.push(el('span', { class: 'badge bad', text: 'Bị trả lại' }));
    if (it.pending) out.push(el('span', { class: 'badge submitted', text: `Phiên bản ${it.pending.version} ${it.pending.status === 'submitted' ? 'chờ duyệt' : 'nháp'}` }));
    return out;
  }
  const isHeadOf = (subject) => KT.me && KT.me.role === 'subject_head' &&
    (KT.me.subject === subject || (KT.me.subjects || []).includes(subject));

  /* PATCH a status with the version read; resolves to the reply. */
  const setStatus = (view, status, comment) => KT.api('PATCH', `/items/${view.id}`,
    Object.assign({ status, version: view.current_version || view.version }, comment ? { comment } : {}));

  /* "Trả lại": a dialog asking for the required comment. */
  async function askComment() {
    const ta = el('textarea', { name: 'comment', rows: 5, maxLength: 2000, required: true, 'aria-required': 'true' });
    const body = el('div', {}, el('p', { text: 'Thầy cô ghi rõ điều cần sửa; tác giả sẽ thấy nhận xét này.' }), KT.field('Nhận xét (bắt buộc)', ta));
    const v = await KT.dialog({
      title: 'Trả lại câu hỏi', body,
      actions: [{ label: 'Quay lại', value: null }, { label: 'Trả lại', value: 'ok', danger: true }],
      validate: () => (ta.value.trim() ? '' : 'Cần nhập nhận xét trước khi trả lại.'),
    });
    return v ? ta.value.trim() : null;
  }

  function statusBlock(it) {
    return el('span', { class: 'badges' }, ...badges(it));
  }

  KT.items = {
    taxonomy, competencies, nodeName, treeOptions, levelOf, outcomeOf, competenciesOf, tagNames, toRender,
    itemAsset, mediaAsset, preview, keyPanel, isReturned, badges, statusBlock, isHeadOf, setStatus, askComment,
    KIND_LABEL, imageOnce,
  };

  // ---------------------------------------------------------------- the bank
  KT.nav({ id: 'bank', label: 'Ngân hàng câu hỏi', hash: '#/bank', roles: STAFF, order: 10 });
  const FILTERS = ['subject', 'grade', 'node', 'level', 'format', 'status', 'author', 'q'];

  KT.route('/bank', {
    title: 'Ngân hàng câu hỏi', nav: 'bank', roles: STAFF,
    render: async (root, params, query) => {
      const f = {};
      for (const k of FILTERS) f[k] = query.get(k) || '';
      const cursor = query.get('cursor') || '';
      let back = [];
      try { back = JSON.parse(query.get('back') || '[]'); } catch (e) { back = []; }
      if (!Array.isArray(back)) back = [];

      const hashOf = (filters, extra) => '#/bank' + KT.qs(Object.assign({}, filters, extra || {}));
      const apply = (name) => {
        const nf = {};
        for (const k of FILTERS) nf[k] = (form.elements[k] && form.elements[k].value.trim()) || '';
        if (name === 'subject' || name === 'grade') nf.node = '';
        KT.keepFocus = !!name;
        if (name) setTimeout(() => { const c = document.querySelector(`#bank-filters [name="${name}"]`); if (c) c.focus(); }, 0);
        KT.go(hashOf(nf));
      };

      const [list, tax] = await Promise.all([
        KT.api('GET', '/items' + KT.qs({
          subject: f.subject, grade: f.grade, node: f.node, level: f.level, format: f.format, status: f.status,
          author: f.author, q: f.q, cursor, limit: 20, counts: 1,
        })),
        taxonomy(f.subject, f.grade),
      ]);
      const counts = (list.ok && list.data && list.data.counts) || {};
      const withCount = (facet, code, label) => {
        const n = counts[facet] && counts[facet][code];
        return n !== undefined ? `${label} (${n})` : label;
      };

      // Filters.
      const form = el('form', { id: 'bank-filters', class: 'panel filters', role: 'search', 'aria-label': 'Lọc câu hỏi' });
      const subjects = Object.keys(L.subjects);
      const mine = (KT.me.subjects && KT.me.subjects.length ? KT.me.subjects : KT.me.subject ? [KT.me.subject] : []);
      const subjOrder = mine.concat(subjects.filter((s) => !mine.includes(s)));
      const sel = (name, opts, value, label) => {
        const s = KT.select(name, opts, value);
        s.addEventListener('change', () => apply(name));
        return KT.field(label, s);
      };
      const search = el('input', { type: 'search', name: 'q', value: f.q, maxLength: 200, placeholder: 'ví dụ: ham so bac hai' });
      const nodeSel = el('select', { name: 'node', disabled: !tax.nodes.length }, ...treeOptions(tax.nodes, f.node, tax.nodes.length ? 'Tất cả chủ đề' : 'Chọn môn và lớp trước'));
      nodeSel.addEventListener('change', () => apply('node'));
      form.append(
        el('div', { class: 'row' },
          KT.field('Tìm theo nội dung', search, 'Không cần gõ dấu: "ham so" tìm được "hàm số".'),
          el('div', { class: 'field search-go' }, el('button', { type: 'submit', class: 'primary', text: 'Tìm' }))),
        el('div', { class: 'row' },
          sel('subject', [['', 'Tất cả môn']].concat(subjOrder.map((s) => [s, L.subjects[s]])), f.subject, 'Môn'),
          sel('grade', [['', 'Tất cả lớp']].concat([...Array(12)].map((_, i) => [String(i + 1), 'Lớp ' + (i + 1)])), f.grade, 'Lớp'),
          KT.field('Mạch / chủ đề / YCCĐ', nodeSel)),
        el('div', { class: 'row' },
          sel('level', [['', 'Tất cả mức độ']].concat(['MD.B', 'MD.H', 'MD.V', 'MD.VC', 'MD.M1', 'MD.M2', 'MD.M3'].map((c) => [c, withCount('level', c, L.levels[c])])), f.level, 'Mức độ'),
          sel('format', [['', 'Tất cả dạng']].concat(Object.keys(L.kinds).map((c) => [c, withCount('kind', c, L.kinds[c])])), f.format, 'Dạng câu hỏi'),
          sel('status', [['', 'Tất cả trạng thái']].concat(Object.keys(L.status).map((c) => [c, withCount('status', c, L.status[c])])), f.status, 'Trạng thái'),
          sel('author', [['', 'Mọi người'], ['me', 'Của tôi']], f.author, 'Tác giả')));
      form.addEventListener('submit', (e) => { e.preventDefault(); apply('q'); });

      const actions = el('p', { class: 'actions' });
      if (KT.can(AUTHORS)) actions.append(el('a', { class: 'button primary', href: '#/items/new', text: 'Soạn câu hỏi mới' }));
      const clear = el('button', { type: 'button', text: 'Bỏ lọc' });
      clear.addEventListener('click', () => KT.go('#/bank'));
      if (FILTERS.some((k) => f[k])) actions.append(clear);
      root.append(actions, form);

      if (!list.ok) {
        const box = el('div');
        KT.showError(box, list);
        root.append(box);
        return;
      }
      const items = list.data.items || [];
      const total = list.data.total;
      root.append(el('p', { class: 'summary', id: 'bank-total', role: 'status', 'data-total': total ?? '' },
        total !== undefined && total !== null ? `Tìm thấy ${total} câu hỏi.` : `${items.length} câu hỏi trên trang này.`));
      if (!items.length) {
        root.append(el('p', { class: 'notice', text: 'Không có câu hỏi nào khớp bộ lọc.' }));
      } else {
        const t = el('table', { class: 'data bank-table' });
        t.append(el('caption', { class: 'sr-only', text: 'Danh sách câu hỏi' }),
          el('thead', {}, el('tr', {}, ...['Câu hỏi', 'Dạng', 'Mức độ', 'Trạng thái', 'Phiên bản', 'Tác giả', 'Cập nhật'].map((h) => el('th', { scope: 'col', text: h })))));
        const body = el('tbody');
        for (const it of items) {
          const author = it.author ? it.author.full_name || it.author.username : it.author_name || '';
          body.append(el('tr', { 'data-id': it.id },
            el('td', {}, el('a', { href: `#/items/${it.id}`, text: it.title || it.identifier }), el('div', { class: 'hint', text: `${it.identifier} · ${KT.subjectName(it.subject)} ${it.grade || ''}` })),
            el('td', { text: L.kinds[it.kind] || it.kind }),
            el('td', { text: L.levels[levelOf(it.tags)] || '' }),
            el('td', {}, ...badges(it)),
            el('td', { class: 'num', text: String(it.version || '') }),
            el('td', { text: author }),
            el('td', { text: KT.formatLocal(it.updated_at || it.version_created_at || '') })));
        }
        t.append(body);
        root.append(el('div', { class: 'table-wrap' }, t));
      }
      const pager = el('nav', { class: 'pager', 'aria-label': 'Chuyển trang' });
      if (cursor) {
        const prev = el('a', { class: 'button', href: hashOf(f, back.length ? { cursor: back[back.length - 1], back: back.length > 1 ? JSON.stringify(back.slice(0, -1)) : '' } : {}), text: '← Trang trước' });
        pager.append(prev);
      }
      if (list.data.next_cursor) {
        pager.append(el('a', { class: 'button', href: hashOf(f, { cursor: list.data.next_cursor, back: cursor ? JSON.stringify(back.concat([cursor])) : '' }), text: 'Trang sau →' }));
      }
      if (pager.children.length) root.append(pager);
    },
  });

  // ---------------------------------------------------------------- the item page
  // (?!new$): #/items/new is the editor's (editor.js).
  KT.route('/items/(?!new$):id', {
    title: 'Câu hỏi', nav: 'bank', roles: STAFF,
    render: async (root, params, query, ctx) => {
      const version = query.get('version') || '';
      const r = await KT.api('GET', `/items/${encodeURIComponent(params.id)}${KT.qs({ version })}`);
      if (!r.ok) { const b = el('div'); KT.showError(b, r); root.append(b, el('p', {}, el('a', { href: '#/bank', text: '← Về ngân hàng câu hỏi' }))); return; }
      const v = r.data;
      ctx.setTitle(v.title || v.identifier);
      const latest = v.version === v.current_version;
      const author = v.author ? v.author.full_name || v.author.username : '';

      root.append(el('p', {}, el('a', { href: '#/bank', text: '← Về ngân hàng câu hỏi' })));
      const head = el('div', { class: 'panel item-head' },
        el('p', { class: 'item-meta' }, ...badges(v), ' ',
          el('span', { text: `${L.kinds[v.kind] || v.kind} · ${KT.subjectName(v.subject)} lớp ${v.grade} · mã ${v.identifier}` })),
        el('p', { class: 'hint', text: [`Phiên bản ${v.version}${latest ? ' (mới nhất)' : ` — đang xem phiên bản cũ, mới nhất là ${v.current_version}`}`,
          author ? `Tác giả: ${author}` : '', v.version_created_at ? `Cập nhật: ${KT.formatLocal(v.version_created_at)}` : '',
          v.approved_version ? `Phiên bản đang dùng: ${v.approved_version}` : ''].filter(Boolean).join(' · ') }));
      if (isReturned(v) && v.review_comment) {
        head.append(el('div', { class: 'notice error returned', role: 'alert', id: 'review-comment' },
          el('strong', { text: 'Tổ trưởng đã trả lại câu hỏi này. ' }), el('span', { text: 'Nhận xét: ' }),
          el('q', { class: 'comment', text: v.review_comment }),
          el('span', { class: 'hint', text: v.reviewed_at ? ` (${KT.formatLocal(v.reviewed_at)})` : '' })));
      } else if (v.review_comment && v.status !== 'approved') {
        head.append(el('p', { class: 'notice', text: 'Nhận xét lần duyệt trước: ' + v.review_comment }));
      }
      if (v.shared) head.append(el('p', { class: 'notice', text: 'Câu hỏi dùng chung của Sở: nhà trường chỉ xem, không sửa.' }));

      // Actions by role and status.
      const msg = el('div', { id: 'item-msg', hidden: true });
      const bar = el('p', { class: 'actions item-actions' });
      const act = (label, cls, fn) => { const b = el('button', { type: 'button', class: cls || '', text: label }); b.addEventListener('click', async () => { b.disabled = true; try { await fn(); } finally { b.disabled = false; } }); bar.append(b); return b; };
      const after = (res, done) => {
        if (res.ok) { KT.toast(done); KT.go(`#/items/${v.id}`); return; }
        KT.showError(msg, res);
        msg.scrollIntoView({ block: 'nearest' });
      };
      const editable = !v.shared && v.status !== 'retired' && v.kind !== 'QTI' && KT.can(AUTHORS);
      if (editable) bar.append(el('a', { class: 'button', href: `#/items/${v.id}/edit`, id: 'act-edit', text: 'Sửa' }));
      const work = v.pending ? v.pending.status : v.status;
      if (!v.shared && work === 'draft' && KT.can(AUTHORS)) {
        act('Gửi duyệt', 'primary', async () => after(await setStatus(v, 'submitted'), 'Đã gửi câu hỏi cho tổ trưởng duyệt.'));
      }
      if (work === 'submitted' && isHeadOf(v.subject)) {
        bar.append(el('a', { class: 'button', href: `#/review/${v.id}`, text: 'So sánh thay đổi' }));
        act('Duyệt', 'primary', async () => after(await setStatus(v, 'approved'), 'Đã duyệt câu hỏi.'));
        act('Trả lại', 'danger', async () => {
          const c = await askComment();
          if (c) after(await setStatus(v, 'draft', c), 'Đã trả lại câu hỏi cho tác giả.');
        });
      }
      if (v.status === 'approved' && isHeadOf(v.subject)) {
        act('Ngừng dùng', 'danger', async () => {
          if (await KT.confirm('Ngừng dùng câu hỏi?', 'Câu hỏi sẽ không được chọn vào đề mới nữa. Các đề đã xuất bản vẫn giữ nguyên.', 'Ngừng dùng', true)) {
            after(await setStatus(v, 'retired'), 'Đã ngừng dùng câu hỏi.');
          }
        });
      }
      if (v.kind === 'QTI') bar.append(el('a', { class: 'button', href: '#', id: 'act-qti', text: 'Tải bản QTI' }));
      head.append(bar, msg);
      root.append(head);
      const qtiLink = bar.querySelector('#act-qti');
      if (qtiLink) {
        qtiLink.addEventListener('click', async (e) => {
          e.preventDefault();
          const res = await KT.api('GET', `/items/${v.id}/qti${KT.qs({ version: v.version })}`, undefined, { blob: true });
          if (!res.ok) { KT.showError(msg, res); return; }
          const a = el('a', { href: URL.createObjectURL(res.data), download: `${v.identifier}.xml` });
          document.body.append(a); a.click(); a.remove();
        });
      }

      // Versions.
      const versions = (v.versions || []).slice().sort((a, b) => a - b);
      if (versions.length) {
        const vs = KT.select('version', versions.map((n) => [String(n), `Phiên bản ${n}${n === v.current_version ? ' (mới nhất)' : ''}${n === v.approved_version ? ' — đang dùng' : ''}`]), v.version, { id: 'version-pick' });
        vs.addEventListener('change', () => KT.go(`#/items/${v.id}` + (Number(vs.value) === v.current_version ? '' : `?version=${vs.value}`)));
        root.append(el('div', { class: 'panel versions' }, el('h2', { text: 'Các phiên bản' }),
          el('p', { class: 'version-list', 'data-versions': versions.join(',') }, `Có ${versions.length} phiên bản: ${versions.join(', ')}.`),
          KT.field('Xem phiên bản', vs)));
      }

      const grid = el('div', { class: 'cols two' });
      grid.append(el('section', { class: 'panel', 'aria-labelledby': 'pv-h' }, el('h2', { id: 'pv-h', text: 'Học sinh nhìn thấy' }), el('div', { id: 'item-preview' }, preview(v))),
        el('section', { class: 'panel', 'aria-labelledby': 'key-h' }, el('h2', { id: 'key-h', text: 'Đáp án và lời giải' }), keyPanel(v)));
      root.append(grid);

      const tags = el('ul', { class: 'tag-list' });
      for (const t of await tagNames(v)) tags.append(el('li', {}, el('code', { text: t.code }), t.name ? ' ' + t.name : ''));
      root.append(el('section', { class: 'panel', 'aria-labelledby': 'tags-h' }, el('h2', { id: 'tags-h', text: 'Phân loại' }), tags));

      // History.
      const hist = el('section', { class: 'panel', 'aria-labelledby': 'hist-h', id: 'item-history' }, el('h2', { id: 'hist-h', text: 'Lịch sử' }));
      const h = await KT.api('GET', `/items/${v.id}/history`);
      const rows = h.ok ? (Array.isArray(h.data) ? h.data : h.data.history || h.data.events || h.data.items || []) : null;
      if (!rows) hist.append(el('p', { class: 'notice', text: KT.errText(h, 'Chưa xem được lịch sử của câu hỏi.') }));
      else if (!rows.length) hist.append(el('p', { text: 'Chưa có thay đổi nào.' }));
      else hist.append(historyList(rows));
      root.append(hist);
    },
  });

  const ACTIONS = {
    'item.create': 'Tạo câu hỏi', 'item.update': 'Sửa', 'item.edit': 'Sửa', 'item.version': 'Sửa (phiên bản mới)',
    'item.status': 'Đổi trạng thái', 'item.submit': 'Gửi duyệt', 'item.approve': 'Duyệt', 'item.return': 'Trả lại',
    'item.reject': 'Trả lại', 'item.retire': 'Ngừng dùng', 'item.import': 'Nhập từ gói QTI', 'item.max_score': 'Ghi điểm tối đa',
  };
  function historyList(rows) {
    const ol = el('ol', { class: 'history' });
    for (const x of rows) {
      const d = x.details || x.detail || {};
      const who = x.actor ? x.actor.full_name || x.actor.username : x.actor_name || x.user_name || x.username || '';
      const at = x.at || x.created_at || x.time || '';
      const to = d.status || d.to || x.status;
      const from = d.from || d.old_status;
      let what = ACTIONS[x.action] || x.action || '';
      if (to && L.status[to]) {
        if (to === 'submitted') what = 'Gửi duyệt';
        else if (to === 'approved') what = 'Duyệt';
        else if (to === 'draft' && from === 'submitted') what = 'Trả lại';
        else if (to === 'retired') what = 'Ngừng dùng';
        else what += ` → ${L.status[to]}`;
      }
      const ver = d.version || x.version;
      const li = el('li', { 'data-action': x.action || '' },
        el('span', { class: 'when', text: KT.formatLocal(at) }), ' ',
        el('strong', { text: what }), ver ? ` (phiên bản ${ver})` : '', who ? ` — ${who}` : '');
      const comment = d.comment || x.comment;
      if (comment) li.append(el('blockquote', { class: 'comment', text: comment }));
      ol.append(li);
    }
    return ol;
  }
  KT.items.historyList = historyList;
})();

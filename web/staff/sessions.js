/*
 * kiemtra — test sessions (phiên kiểm tra): the list with state badges and
 * filters, a new session for a published test (classes, opening and closing
 * typed as dd/mm/yyyy HH:mm in the school's zone), editing its window or
 * classes, and cancelling it with a reason. The server's validation errors
 * (reversed window, window shorter than the test, missing zone) are shown
 * next to the field they name.
 */
'use strict';

(function () {
  const KT = window.KT;
  const { el } = KT;
  const AUTHORS = ['teacher', 'subject_head', 'school_admin'];
  const STATE = { scheduled: 'sắp mở', open: 'đang mở', closed: 'đã đóng', cancelled: 'đã huỷ' };
  const BADGE = { scheduled: 'submitted', open: 'approved', closed: 'draft', cancelled: 'bad' };

  KT.nav({ id: 'sessions', label: 'Phiên kiểm tra', hash: '#/sessions', roles: AUTHORS, order: 50 });

  function stateOf(s) {
    if (s.state && STATE[s.state]) return s.state;
    if (s.cancelled_at || s.cancelled || s.status === 'cancelled') return 'cancelled';
    const now = Date.now();
    if (now < Date.parse(s.opens_at)) return 'scheduled';
    if (now < Date.parse(s.closes_at)) return 'open';
    return 'closed';
  }
  const attemptsText = (a) => (a && typeof a === 'object' ? `${a.submitted || 0} đã nộp / ${(a.started || 0)} đã vào` : a === undefined || a === null ? '' : String(a));
  const local = (s, k) => s[k + '_local'] || KT.formatLocal(s[k]);
  let classCache = null;
  async function classes() {
    if (classCache) return classCache;
    const r = await KT.api('GET', '/classes');
    classCache = r.ok ? (r.data.classes || []) : [];
    return classCache;
  }
  const className = (list, id) => (list.find((c) => c.id === id) || {}).name || `#${id}`;
  async function testsList(extra) {
    const r = await KT.api('GET', '/tests' + KT.qs(Object.assign({ status: 'published' }, extra || {})));
    if (!r.ok) return null;
    return Array.isArray(r.data) ? r.data : (r.data.tests || []);
  }

  // ---------------------------------------------------------------- list
  KT.route('/sessions', {
    title: 'Phiên kiểm tra', nav: 'sessions', roles: AUTHORS,
    render: async (root, params, query) => {
      const f = { test_id: query.get('test_id') || '', class_id: query.get('class_id') || '', state: query.get('state') || '', cursor: query.get('cursor') || '' };
      const [cls, tests] = await Promise.all([classes(), testsList()]);
      const testOpts = [['', 'Tất cả'], ...(tests || []).map((t) => [String(t.id), t.title])];
      if (f.test_id && !testOpts.some((o) => o[0] === f.test_id)) testOpts.push([f.test_id, `Đề #${f.test_id}`]);
      const form = el('form', { class: 'row panel filters', role: 'search', 'aria-label': 'Lọc phiên kiểm tra' },
        KT.field('Đề', KT.select('test_id', testOpts, f.test_id)),
        KT.field('Lớp', KT.select('class_id', [['', 'Tất cả'], ...cls.map((c) => [String(c.id), c.name])], f.class_id)),
        KT.field('Trạng thái', KT.select('state', [['', 'Tất cả'], ...Object.entries(STATE)], f.state)),
        el('button', { type: 'submit', text: 'Lọc' }));
      form.addEventListener('submit', (ev) => { ev.preventDefault(); KT.go('#/sessions' + KT.qs(Object.fromEntries(new FormData(form)))); });
      const pager = el('p', { class: 'pager' });
      if (f.cursor) pager.append(el('a', { href: '#/sessions' + KT.qs(Object.assign({}, f, { cursor: '' })), text: 'Về trang đầu' }));
      const msg = el('p', { class: 'notice', hidden: true });
      root.append(el('p', { class: 'actions' }, el('a', { class: 'button primary', href: '#/sessions/new' + (f.test_id ? `?test=${f.test_id}` : ''), text: 'Mở phiên mới' })), form, msg);
      const r = await KT.api('GET', '/sessions' + KT.qs(f));
      if (!r.ok) { KT.showError(msg, r); return; }
      const list = Array.isArray(r.data) ? r.data : (r.data.sessions || []);
      if (!list.length) { KT.notice(msg, 'Chưa có phiên kiểm tra nào khớp bộ lọc.'); return; }
      const tb = el('tbody');
      for (const s of list) {
        const st = stateOf(s);
        const title = s.test_title || s.title || (s.test && s.test.title) || ((tests || []).find((t) => t.id === s.test_id) || {}).title || `Đề #${s.test_id}`;
        const names = s.classes ? s.classes.map((c) => c.name || className(cls, c.id || c)).join(', ') : (s.class_ids || []).map((id) => className(cls, id)).join(', ');
        tb.append(el('tr', {},
          el('td', {}, el('a', { href: `#/sessions/${s.id}`, text: title })),
          el('td', { text: names }),
          el('td', { text: local(s, 'opens_at') }),
          el('td', { text: local(s, 'closes_at') }),
          el('td', {}, el('span', { class: `badge ${BADGE[st]} state-${st}`, text: STATE[st] })),
          el('td', { class: 'num', text: attemptsText(s.attempts) })));
      }
      root.append(el('div', { class: 'table-wrap' }, KT.stackTable(el('table', { class: 'data sessions-list' },
        el('caption', { class: 'sr-only', text: 'Danh sách phiên kiểm tra' }),
        el('thead', {}, el('tr', {}, ...['Đề', 'Lớp', 'Mở lúc', 'Đóng lúc', 'Trạng thái', 'Bài làm'].map((h, i) => el('th', { scope: 'col', class: i === 5 ? 'num' : '', text: h })))),
        tb))));
      if (r.data.next_cursor) pager.append(el('a', { href: '#/sessions' + KT.qs(Object.assign({}, f, { cursor: r.data.next_cursor })), text: 'Trang sau' }));
      root.append(pager);
    },
  });

  // ---------------------------------------------------------------- form
  /* The window and classes form, shared by new and edit. */
  async function sessionForm(root, opts) {
    const { test, session } = opts;
    const msg = el('div', { class: 'notice', hidden: true });
    const form = el('form', { class: 'panel session-form', novalidate: true });
    const all = await classes();
    // A teacher whose assignments are known sees only the classes taught in the test's subject.
    const asg = (KT.me.assignments || []).filter((a) => !test || !a.subject || a.subject === test.subject);
    const limited = KT.me.role === 'teacher' && KT.me.assignments && KT.me.assignments.length > 0;
    const allowed = new Set(asg.map((a) => a.class_id));
    const gradeOk = (c) => !test || !c.grade || c.grade === test.grade;
    const chosen = new Set(session ? (session.class_ids || (session.classes || []).map((c) => c.id || c)) : []);
    // The session's own classes stay listed (unticking one is a choice, not a side effect).
    const shown = all.filter((c) => chosen.has(c.id) || (gradeOk(c) && (!limited || allowed.has(c.id))));
    const box = el('fieldset', { class: 'class-checks' }, el('legend', { text: 'Lớp làm bài' }));
    box.setAttribute('name', 'class_ids');
    if (!shown.length) box.append(el('p', { class: 'hint', text: limited ? 'Thầy cô chưa được phân công dạy lớp nào của môn này. Nhờ quản trị nhà trường phân công.' : 'Trường chưa có lớp nào của khối này.' }));
    for (const c of shown) {
      const id = `cls-${c.id}`;
      box.append(el('label', { class: 'check', for: id }, el('input', { type: 'checkbox', id, value: String(c.id), checked: chosen.has(c.id) }), ` ${c.name}` + (c.students !== undefined ? ` (${c.students} học sinh)` : '')));
    }
    const hint = `Nhập ngày/tháng/năm giờ:phút, ví dụ 15/12/2026 07:30, theo giờ của trường${KT.zone() === 'Asia/Ho_Chi_Minh' ? ' (giờ Việt Nam)' : ` (${KT.zone()})`}.`;
    const opens = el('input', { name: 'opens_at', autocomplete: 'off', inputMode: 'numeric', placeholder: 'dd/mm/yyyy HH:mm', value: session ? local(session, 'opens_at') : '', spellcheck: false });
    const closes = el('input', { name: 'closes_at', autocomplete: 'off', inputMode: 'numeric', placeholder: 'dd/mm/yyyy HH:mm', value: session ? local(session, 'closes_at') : '', spellcheck: false });
    const dur = test ? Math.round(test.duration_seconds / 60) : 0;
    // Exam-room controls (monitor.js shows the code to the proctor).
    const hadCode = !!(session && session.access_code);
    const needCode = el('input', { type: 'checkbox', name: 'access_code', id: 'room-code', checked: hadCode });
    const newCode = el('input', { type: 'checkbox', name: 'new_code', id: 'room-new-code' });
    const cidrText = ((session && session.allowed_cidrs) || []).join('\n');
    const cidrs = el('textarea', { name: 'allowed_cidrs', class: 'short', spellcheck: false, value: cidrText });
    cidrs.value = cidrText;
    const room = el('fieldset', { class: 'session-room' }, el('legend', { text: 'Phòng thi' }),
      el('label', { class: 'check', for: 'room-code' }, needCode, ' Học sinh phải nhập mã vào phòng (6 chữ số, thầy cô coi thi đọc)'),
      hadCode ? el('label', { class: 'check', for: 'room-new-code' }, newCode, ` Tạo mã mới (mã hiện tại: ${session.access_code})`) : '',
      KT.field('Chỉ cho bắt đầu từ các dải địa chỉ', cidrs, 'Mỗi dòng một dải, ví dụ 10.0.5.0/24 (mạng phòng máy). Bỏ trống: mọi địa chỉ.'));
    form.append(
      test ? el('p', {}, 'Đề: ', el('strong', { text: test.title }), dur ? ` · ${dur} phút` : '') : '',
      box,
      el('div', { class: 'row' }, KT.field('Mở lúc', opens, hint), KT.field('Đóng lúc', closes, dur ? `Khoảng mở phải dài ít nhất ${dur} phút (thời gian làm bài).` : hint)),
      room,
      msg);
    const submit = el('button', { type: 'submit', class: 'primary', text: opts.submitLabel });
    form.append(el('p', { class: 'actions' }, submit));
    root.append(form);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const ids = Array.from(box.querySelectorAll('input:checked')).map((i) => Number(i.value));
      const o = KT.parseLocal(opens.value), c = KT.parseLocal(closes.value);
      const probs = [];
      if (!ids.length) probs.push({ field: 'class_ids', message: 'Chọn ít nhất một lớp.' });
      if (!o) probs.push({ field: 'opens_at', message: 'Thời điểm mở chưa đúng dạng dd/mm/yyyy HH:mm.' });
      if (!c) probs.push({ field: 'closes_at', message: 'Thời điểm đóng chưa đúng dạng dd/mm/yyyy HH:mm.' });
      if (probs.length) { KT.showError(msg, { error: { message: 'Thầy cô kiểm tra lại các ô được đánh dấu.', details: probs } }, form); return; }
      submit.disabled = true;
      const body = { class_ids: ids, opens_at: o, closes_at: c };
      if (needCode.checked && (!hadCode || newCode.checked)) body.access_code = true;
      else if (!needCode.checked && hadCode) body.access_code = null;
      const ranges = cidrs.value.split(/[\s,;]+/).filter(Boolean);
      if (ranges.join('\n') !== cidrText) body.allowed_cidrs = ranges;
      const r = await opts.send(body);
      submit.disabled = false;
      if (!r.ok) {
        const d = r.error && r.error.details;
        // A reply naming its field only in the message still points at the field.
        if (!Array.isArray(d) || !d.some((x) => x && x.field)) {
          const m = (r.error && r.error.message) || '';
          const field = r.error && r.error.field ? r.error.field : /closes_at|đóng/i.test(m) ? 'closes_at' : /opens_at|mở/i.test(m) ? 'opens_at' : /class|lớp/i.test(m) ? 'class_ids' : null;
          if (field) r.error.details = [{ field, message: m }];
        }
        KT.showError(msg, r, form);
        return;
      }
      opts.done(r.data.session || r.data);
    });
  }

  KT.route('/sessions/new', {
    title: 'Mở phiên kiểm tra', nav: 'sessions', roles: AUTHORS,
    render: async (root, params, query) => {
      const tid = query.get('test');
      if (!tid) {
        const tests = await testsList();
        const msg = el('p', { class: 'notice', hidden: true });
        root.append(msg);
        if (!tests) { KT.notice(msg, 'Thầy cô mở phiên từ trang của một đề đã xuất bản (Đề kiểm tra → mở đề → "Mở phiên kiểm tra").', 'warn'); return; }
        if (!tests.length) { KT.notice(msg, 'Chưa có đề nào đã xuất bản.'); return; }
        const sel = KT.select('test', tests.map((t) => [String(t.id), t.title]));
        const f = el('form', { class: 'panel row' }, KT.field('Chọn đề đã xuất bản', sel), el('button', { type: 'submit', class: 'primary', text: 'Tiếp tục' }));
        f.addEventListener('submit', (ev) => { ev.preventDefault(); KT.go(`#/sessions/new?test=${sel.value}`); });
        root.append(f);
        return;
      }
      const r = await KT.api('GET', `/tests/${encodeURIComponent(tid)}`);
      if (!r.ok) { const m = el('p'); root.append(m); KT.showError(m, r); return; }
      const test = r.data.test || r.data;
      if (test.status !== 'published') {
        root.append(el('p', { class: 'notice warn', text: 'Đề này chưa xuất bản. Thầy cô xuất bản đề trước khi mở phiên.' }), el('p', {}, el('a', { href: `#/tests/${test.id}`, text: 'Mở đề' })));
        return;
      }
      await sessionForm(root, {
        test, submitLabel: 'Mở phiên',
        send: (b) => KT.api('POST', `/tests/${test.id}/sessions`, b),
        done: (s) => { KT.toast('Đã mở phiên kiểm tra.'); KT.go(`#/sessions/${s.id}`); },
      });
    },
  });

  KT.route('/sessions/:id', {
    title: 'Phiên kiểm tra', nav: 'sessions', roles: AUTHORS,
    render: async (root, params, query, ctx) => {
      const r = await KT.api('GET', `/sessions/${encodeURIComponent(params.id)}`);
      if (!r.ok) { const m = el('p'); root.append(m); KT.showError(m, r); return; }
      const s = r.data.session || r.data;
      const tr = await KT.api('GET', `/tests/${s.test_id}`);
      const test = tr.ok ? (tr.data.test || tr.data) : null;
      const cls = await classes();
      const st = stateOf(s);
      ctx.setTitle(`Phiên kiểm tra: ${test ? test.title : 'đề #' + s.test_id}`);
      const names = (s.classes ? s.classes.map((c) => c.name || className(cls, c.id)) : (s.class_ids || []).map((id) => className(cls, id))).join(', ');
      root.append(el('section', { class: 'panel' },
        el('dl', { class: 'test-facts' },
          el('dt', { text: 'Trạng thái' }), el('dd', {}, el('span', { class: `badge ${BADGE[st]} state-${st}`, text: STATE[st] })),
          el('dt', { text: 'Lớp' }), el('dd', { text: names }),
          el('dt', { text: 'Mở lúc' }), el('dd', { class: 'opens', text: local(s, 'opens_at') }),
          el('dt', { text: 'Đóng lúc' }), el('dd', { class: 'closes', text: local(s, 'closes_at') }),
          test ? el('dt', { text: 'Đề' }) : '', test ? el('dd', {}, el('a', { href: `#/tests/${test.id}`, text: test.title })) : '',
          s.access_code ? el('dt', { text: 'Mã vào phòng' }) : '', s.access_code ? el('dd', {}, el('strong', { class: 'session-code', text: s.access_code })) : '',
          s.allowed_cidrs ? el('dt', { text: 'Dải địa chỉ' }) : '', s.allowed_cidrs ? el('dd', { text: s.allowed_cidrs.join(', ') }) : '',
          s.cancel_reason ? el('dt', { text: 'Lí do huỷ' }) : '', s.cancel_reason ? el('dd', { text: s.cancel_reason }) : ''),
        el('p', { class: 'actions' }, el('a', { class: 'button primary monitor-link', href: `#/sessions/${s.id}/monitor`, text: 'Theo dõi trực tiếp' }), ' ',
          el('a', { class: 'button results-link', href: `#/sessions/${s.id}/results`, text: 'Kết quả và thống kê' }))));
      if (st === 'cancelled') return;
      // Marking and release (marking.js): the queue, and what the students see.
      if (KT.releasePanel) root.append(KT.releasePanel(s));
      if (st !== 'closed') {
        root.append(el('h2', { text: 'Sửa phiên' }));
        await sessionForm(root, {
          test, session: s, submitLabel: 'Lưu thay đổi',
          send: (b) => KT.api('PATCH', `/sessions/${s.id}`, b),
          done: () => { KT.toast('Đã lưu phiên kiểm tra.'); KT.render(); },
        });
        const cancel = el('button', { type: 'button', class: 'danger', text: 'Huỷ phiên' });
        const cmsg = el('p', { class: 'notice', hidden: true });
        cancel.addEventListener('click', async () => {
          const reason = el('textarea', { name: 'reason', class: 'short', maxLength: 500, required: true });
          const v = await KT.dialog({
            title: 'Huỷ phiên kiểm tra',
            body: el('div', {}, el('p', { text: 'Học sinh sẽ không vào làm được nữa. Bài đã làm (nếu có) vẫn được giữ.' }), KT.field('Lí do huỷ', reason)),
            actions: [{ label: 'Quay lại', value: null }, { label: 'Huỷ phiên', value: 'yes', danger: true }],
            validate: () => (reason.value.trim() ? '' : 'Cần nhập lí do huỷ.'),
          });
          if (v !== 'yes') return;
          const x = await KT.api('POST', `/sessions/${s.id}/cancel`, { reason: reason.value.trim() });
          if (!x.ok) { KT.showError(cmsg, x); return; }
          KT.toast('Đã huỷ phiên.');
          KT.render();
        });
        root.append(el('section', { class: 'panel' }, el('h2', { text: 'Huỷ phiên' }), cmsg, el('p', { class: 'actions' }, cancel)));
      }
    },
  });

  KT.sessions = { stateOf };
})();

/*
 * kiemtra — people: for the school administrator the accounts of the school
 * (list with filters and paging, add, disable/enable, reset a password,
 * clear login waits), the roster import (.xlsx/.csv, previewed with dry_run
 * first), teaching assignments (teacher × subject × class) and the printable
 * login slips of a class (8 per A4 page). For teachers and subject heads the
 * students of the classes they teach, with a one-click password reset and
 * "Mở khoá đăng nhập" for exam day. A new password is shown once, big and
 * copyable; it is never stored by the page.
 */
'use strict';

(function () {
  const KT = window.KT;
  const { el } = KT;
  const L = KT.labels;
  const ADMIN = ['school_admin'];
  const TEACHERS = ['teacher', 'subject_head'];
  const STAFF_ROLES = ['teacher', 'subject_head', 'school_admin'];

  KT.nav({ id: 'people', label: 'Tài khoản và lớp', hash: '#/people', roles: ADMIN, order: 60 });
  KT.nav({ id: 'people', label: 'Học sinh của lớp', hash: '#/people', roles: TEACHERS, order: 60 });

  // ---------------------------------------------------------------- helpers
  const tabs = (current) => el('nav', { class: 'tabs no-print', 'aria-label': 'Mục quản lí' },
    ...[['accounts', '#/people', 'Tài khoản'], ['roster', '#/people/roster', 'Nhập danh sách lớp'],
      ['assignments', '#/people/assignments', 'Phân công giảng dạy'], ['slips', '#/people/slips', 'Phiếu đăng nhập']]
      .map(([id, href, label]) => el('a', { href, text: label, 'aria-current': id === current ? 'page' : null })));
  let classCache = null;
  async function classes() {
    if (classCache) return classCache;
    const r = await KT.api('GET', '/classes');
    classCache = r.ok ? (r.data.classes || []) : [];
    return classCache;
  }
  async function copy(text, input) {
    try { await navigator.clipboard.writeText(text); return true; } catch (e) { /* not a secure context */ }
    try { input.select(); return document.execCommand('copy'); } catch (e) { return false; }
  }
  /* A new password, shown once: big, selectable, with a copy button. */
  async function showPassword(title, who, username, password) {
    const out = el('input', { class: 'password-once', readOnly: true, value: password, 'aria-label': 'Mật khẩu mới', spellcheck: false });
    const b = el('button', { type: 'button', text: 'Sao chép' });
    const done = el('span', { class: 'hint', role: 'status' });
    b.addEventListener('click', async () => { done.textContent = (await copy(password, out)) ? ' Đã sao chép.' : ' Không sao chép được: thầy cô chọn và chép tay.'; });
    await KT.dialog({
      title,
      body: el('div', { class: 'password-box' },
        el('p', {}, `${who} — tên đăng nhập `, el('strong', { class: 'mono', text: username })),
        el('p', { text: 'Mật khẩu mới (chỉ hiện một lần, thầy cô ghi lại hoặc đưa cho người dùng ngay):' }),
        out, el('p', {}, b, done)),
      actions: [{ label: 'Đã ghi lại, đóng', value: true, primary: true }],
    });
  }
  async function resetPassword(u, box) {
    const ok = await KT.confirm('Đặt lại mật khẩu', `Đặt lại mật khẩu cho ${u.full_name} (${u.username})? Mật khẩu cũ sẽ không dùng được nữa.`, 'Đặt lại mật khẩu');
    if (!ok) return;
    const r = await KT.api('POST', `/users/${u.id}/password`, {});
    if (!r.ok) { KT.showError(box, r); return; }
    await showPassword('Mật khẩu mới', u.full_name, r.data.username || u.username, r.data.password);
  }
  async function unlock(u, box) {
    const r = await KT.api('POST', `/users/${u.id}/unlock`, {});
    if (!r.ok) { KT.showError(box, r); return; }
    KT.toast(`Đã mở khoá đăng nhập cho ${u.full_name}.`);
    KT.announce(`Đã mở khoá đăng nhập cho ${u.full_name}.`);
  }
  const classNames = (u) => (u.classes || []).map((c) => c.name).join(', ');

  // ---------------------------------------------------------------- accounts
  KT.route('/people', {
    title: (p) => (KT.me && KT.me.role === 'school_admin' ? 'Tài khoản' : 'Học sinh của lớp'), nav: 'people', roles: STAFF_ROLES,
    render: async (root, params, query) => (KT.me.role === 'school_admin' ? accounts(root, query) : myStudents(root, query)),
  });

  async function accounts(root, query) {
    const cls = await classes();
    const f = { role: query.get('role') || '', class_id: query.get('class_id') || '', q: query.get('q') || '', disabled: query.get('disabled') || '', cursor: query.get('cursor') || '' };
    const form = el('form', { class: 'row panel filters', role: 'search', 'aria-label': 'Lọc tài khoản' },
      KT.field('Vai trò', KT.select('role', [['', 'Tất cả'], ...Object.entries(L.roles).filter(([k]) => k !== 'admin')], f.role)),
      KT.field('Lớp', KT.select('class_id', [['', 'Tất cả'], ...cls.map((c) => [String(c.id), c.name])], f.class_id)),
      KT.field('Tìm (tên, tên đăng nhập, mã HS)', el('input', { type: 'search', name: 'q', value: f.q })),
      KT.field('Trạng thái', KT.select('disabled', [['', 'Tất cả'], ['0', 'Đang dùng'], ['1', 'Đã khoá']], f.disabled)),
      el('button', { type: 'submit', text: 'Lọc' }));
    form.addEventListener('submit', (ev) => { ev.preventDefault(); KT.go('#/people' + KT.qs(Object.fromEntries(new FormData(form)))); });
    const add = el('button', { type: 'button', class: 'primary', text: 'Thêm tài khoản' });
    add.addEventListener('click', () => addAccount(cls));
    const msg = el('div', { class: 'notice', hidden: true });
    root.append(tabs('accounts'), el('p', { class: 'actions' }, add), form, msg);
    const r = await KT.api('GET', '/users' + KT.qs(Object.assign({}, f, { limit: 50 })));
    if (!r.ok) { KT.showError(msg, r); return; }
    const users = r.data.users || [];
    if (!users.length) { KT.notice(msg, 'Không có tài khoản nào khớp bộ lọc.'); return; }
    const tb = el('tbody');
    for (const u of users) {
      const acts = el('td', { class: 'actions-cell' });
      const rb = el('button', { type: 'button', class: 'small', text: 'Đặt lại mật khẩu' });
      rb.addEventListener('click', () => resetPassword(u, msg));
      const ub = el('button', { type: 'button', class: 'small', text: 'Mở khoá đăng nhập' });
      ub.addEventListener('click', () => unlock(u, msg));
      const db = el('button', { type: 'button', class: 'small' + (u.disabled ? '' : ' danger'), text: u.disabled ? 'Mở lại tài khoản' : 'Khoá tài khoản' });
      db.addEventListener('click', async () => {
        const to = !u.disabled;
        if (to && !(await KT.confirm('Khoá tài khoản', `Khoá tài khoản ${u.full_name} (${u.username})? Người dùng sẽ không đăng nhập được cho đến khi mở lại.`, 'Khoá', true))) return;
        const x = await KT.api('PATCH', `/users/${u.id}`, { disabled: to });
        if (!x.ok) { KT.showError(msg, x); return; }
        KT.toast(to ? 'Đã khoá tài khoản.' : 'Đã mở lại tài khoản.');
        KT.render();
      });
      acts.append(rb, ' ', ub, ' ', db);
      tb.append(el('tr', { 'data-user': u.username, class: u.disabled ? 'disabled' : '' },
        el('td', { text: u.full_name }), el('td', {}, el('span', { class: 'mono', text: u.username })),
        el('td', { text: L.roles[u.role] || u.role }),
        el('td', { text: u.role === 'student' ? [u.student_code, classNames(u)].filter(Boolean).join(' · ') : KT.subjectName(u.subject) }),
        el('td', {}, el('span', { class: 'badge ' + (u.disabled ? 'bad' : 'approved'), text: u.disabled ? 'Đã khoá' : 'Đang dùng' })),
        acts));
    }
    root.append(el('div', { class: 'table-wrap' }, KT.stackTable(el('table', { class: 'data users-list' },
      el('caption', { class: 'sr-only', text: 'Danh sách tài khoản' }),
      el('thead', {}, el('tr', {}, ...['Họ và tên', 'Tên đăng nhập', 'Vai trò', 'Lớp / môn', 'Trạng thái', 'Thao tác'].map((h) => el('th', { scope: 'col', text: h })))), tb))));
    const pager = el('p', { class: 'pager' });
    if (f.cursor) pager.append(el('a', { href: '#/people' + KT.qs(Object.assign({}, f, { cursor: '' })), text: 'Về trang đầu' }));
    if (r.data.next_cursor) pager.append(el('a', { href: '#/people' + KT.qs(Object.assign({}, f, { cursor: r.data.next_cursor })), text: 'Trang sau' }));
    root.append(pager);
  }

  async function addAccount(cls) {
    const role = KT.select('role', [['teacher', L.roles.teacher], ['subject_head', L.roles.subject_head], ['school_admin', L.roles.school_admin], ['student', L.roles.student]], 'teacher');
    const f = {
      full_name: el('input', { name: 'full_name', maxLength: 200, autocomplete: 'off' }),
      username: el('input', { name: 'username', maxLength: 64, autocomplete: 'off', autocapitalize: 'none', spellcheck: false }),
      subject: KT.select('subject', [['', '—'], ...Object.entries(L.subjects)], 'TOAN'),
      student_code: el('input', { name: 'student_code', maxLength: 32, autocomplete: 'off' }),
      class_id: KT.select('class_id', [['', '—'], ...cls.map((c) => [String(c.id), c.name])], ''),
    };
    const subjWrap = KT.field('Môn phụ trách', f.subject);
    const stWrap = el('div', { class: 'row' }, KT.field('Mã học sinh', f.student_code), KT.field('Lớp', f.class_id));
    const sync = () => { const st = role.value === 'student'; subjWrap.hidden = st || role.value === 'school_admin'; stWrap.hidden = !st; };
    role.addEventListener('change', sync);
    const form = el('div', { class: 'add-account' }, KT.field('Vai trò', role), KT.field('Họ và tên', f.full_name),
      KT.field('Tên đăng nhập', f.username, '3–64 ký tự: chữ thường không dấu, chữ số, dấu chấm, gạch dưới hoặc gạch ngang. Với học sinh có thể để trống: dùng mã học sinh.'), subjWrap, stWrap);
    sync();
    let created = null;
    const v = await KT.dialog({
      title: 'Thêm tài khoản', body: form,
      actions: [{ label: 'Huỷ', value: null }, { label: 'Tạo tài khoản', value: 'go', primary: true }],
      validate: async () => {
        const b = { role: role.value, full_name: f.full_name.value.trim() };
        if (f.username.value.trim()) b.username = f.username.value.trim();
        if (role.value === 'teacher' || role.value === 'subject_head') { if (f.subject.value) b.subject = f.subject.value; }
        if (role.value === 'student') { b.student_code = f.student_code.value.trim(); if (f.class_id.value) b.class_id = Number(f.class_id.value); }
        const r = await KT.api('POST', '/users', b);
        if (!r.ok) {
          const box = el('div');
          KT.showError(box, r, form);
          const d = (r.error && r.error.details) || [];
          return KT.errText(r) + (Array.isArray(d) && d.length ? ' ' + d.map((x) => x.message || '').join(' ') : '');
        }
        created = r.data;
        return '';
      },
    });
    if (v !== 'go' || !created) return;
    const u = created.user || {};
    if (created.password) await showPassword('Đã tạo tài khoản', u.full_name, u.username, created.password);
    else KT.toast('Đã tạo tài khoản.');
    KT.render();
  }

  // ---------------------------------------------------------------- teacher
  async function myStudents(root, query) {
    const cls = await classes();
    const mine = cls.filter((c) => !(KT.me.assignments && KT.me.assignments.length) || KT.me.assignments.some((a) => a.class_id === c.id));
    const msg = el('div', { class: 'notice', hidden: true });
    root.append(el('p', { class: 'hint', text: 'Học sinh quên mật khẩu hoặc bị khoá vì nhập sai nhiều lần: bấm "Đặt lại mật khẩu" hoặc "Mở khoá đăng nhập" ở dòng của em đó.' }), msg);
    if (!mine.length) { KT.notice(msg, 'Thầy cô chưa được phân công dạy lớp nào.'); return; }
    const cid = query.get('class') || String(mine[0].id);
    const search = el('input', { type: 'search', name: 'q', value: query.get('q') || '', autocomplete: 'off' });
    const sel = KT.select('class', mine.map((c) => [String(c.id), c.name]), cid);
    const form = el('form', { class: 'row panel filters', role: 'search', 'aria-label': 'Chọn lớp' }, KT.field('Lớp', sel), KT.field('Tìm học sinh (tên, mã, tên đăng nhập)', search), el('button', { type: 'submit', text: 'Xem' }));
    form.addEventListener('submit', (ev) => { ev.preventDefault(); KT.go('#/people' + KT.qs({ class: sel.value, q: search.value.trim() })); });
    root.append(form);
    const r = await KT.api('GET', '/users' + KT.qs({ role: 'student', class_id: cid, q: query.get('q') || '', limit: 200 }));
    let students = r.ok ? (r.data.users || []) : null;
    if (!students) {
      const x = await KT.api('GET', `/classes/${cid}/students`);
      if (!x.ok) { KT.showError(msg, x); return; }
      students = x.data.students || [];
    }
    const tb = el('tbody');
    for (const u of students) {
      const rb = el('button', { type: 'button', class: 'small', text: 'Đặt lại mật khẩu', 'aria-label': `Đặt lại mật khẩu cho ${u.full_name}` });
      rb.addEventListener('click', () => resetPassword(u, msg));
      const ub = el('button', { type: 'button', class: 'small', text: 'Mở khoá đăng nhập', 'aria-label': `Mở khoá đăng nhập cho ${u.full_name}` });
      ub.addEventListener('click', () => unlock(u, msg));
      tb.append(el('tr', { 'data-user': u.username }, el('td', { text: u.student_code || '' }), el('td', { text: u.full_name }), el('td', {}, el('span', { class: 'mono', text: u.username })),
        el('td', { class: 'actions-cell' }, rb, ' ', ub)));
    }
    root.append(el('div', { class: 'table-wrap' }, KT.stackTable(el('table', { class: 'data students-list' },
      el('caption', { class: 'sr-only', text: 'Học sinh của lớp' }),
      el('thead', {}, el('tr', {}, ...['Mã HS', 'Họ và tên', 'Tên đăng nhập', 'Thao tác'].map((h) => el('th', { scope: 'col', text: h })))), tb))));
    if (KT.me.role !== 'student') root.append(el('p', { class: 'actions' }, el('a', { class: 'button', href: `#/people/slips/${cid}`, text: 'In phiếu đăng nhập của lớp' })));
  }

  // ---------------------------------------------------------------- roster
  KT.route('/people/roster', {
    title: 'Nhập danh sách lớp', nav: 'people', roles: ADMIN,
    render: async (root) => {
      const input = el('input', { type: 'file', id: 'roster-file', accept: '.xlsx,.csv,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' });
      const year = el('input', { name: 'year', placeholder: '2026-2027', maxLength: 9, autocomplete: 'off' });
      const msg = el('div', { class: 'notice', hidden: true });
      const preview = el('div', { class: 'roster-preview' });
      const go = el('button', { type: 'button', class: 'primary', text: 'Nhập danh sách', hidden: true });
      const out = el('div', { class: 'roster-result' });
      const formPanel = el('section', { class: 'panel' },
        el('p', { class: 'hint', text: 'Tệp .xlsx hoặc .csv với các cột Mã học sinh, Họ và tên, Ngày sinh (dd/mm/yyyy), Giới tính, Lớp. Nhập thử trước; chỉ ghi khi thầy cô xác nhận. Mật khẩu của học sinh mới hiện một lần ở phiếu đăng nhập.' }),
        el('div', { class: 'row' }, el('div', { class: 'field' }, el('label', { for: 'roster-file', text: 'Tệp danh sách lớp' }), input), KT.field('Năm học (để trống: năm học hiện tại)', year)));
      root.append(tabs('roster'), formPanel, msg, preview, el('p', { class: 'actions' }, go), out);
      let bytes = null, type = '';
      const send = (dry) => KT.api('POST', '/rosters/import' + KT.qs({ dry_run: dry ? 1 : '', year: year.value.trim() }), undefined, { raw: bytes, contentType: type, timeout: 120000 });
      async function dry() {
        KT.clearError(msg); out.replaceChildren(); go.hidden = true;
        const f = input.files[0];
        if (!f) return;
        bytes = await KT.readBytes(f);
        type = /\.csv$/i.test(f.name) ? 'text/csv' : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
        preview.replaceChildren(el('p', { class: 'loading', text: 'Đang đọc tệp…' }));
        const r = await send(true);
        preview.replaceChildren();
        if (!r.ok) { KT.showError(msg, r); return; }
        const d = r.data;
        const errs = d.errors || [];
        if (errs.length) {
          preview.append(el('div', { class: 'notice error', role: 'alert' }, el('strong', { text: `Tệp có ${errs.length} lỗi, chưa nhập được:` }),
            el('ul', { class: 'error-list' }, ...errs.map((e) => el('li', { text: `${e.row ? 'Dòng ' + e.row : ''}${e.column ? ', cột ' + e.column : ''}: ${e.message}` })))));
        }
        const s = d.summary || {};
        preview.append(el('p', { text: `Năm học ${d.school_year || ''}: ${s.students_create || 0} học sinh mới, ${s.students_update || 0} cập nhật; ${s.classes_create || 0} lớp mới.` }));
        const tb = el('tbody');
        const ACT = { create: 'mới', update: 'cập nhật', unchanged: 'không đổi' };
        for (const x of d.students || []) tb.append(el('tr', {}, el('td', { class: 'num', text: String(x.row ?? '') }), el('td', { text: x.student_code }), el('td', { text: x.full_name }), el('td', { text: x.class_name }), el('td', { text: ACT[x.action] || x.action || '' })));
        preview.append(el('div', { class: 'table-wrap' }, KT.stackTable(el('table', { class: 'data roster-table' },
          el('thead', {}, el('tr', {}, ...['Dòng', 'Mã HS', 'Họ và tên', 'Lớp', 'Kết quả'].map((h) => el('th', { scope: 'col', text: h })))), tb))));
        go.hidden = !(d.ok !== false && !errs.length);
      }
      input.addEventListener('change', dry);
      go.addEventListener('click', async () => {
        if (!(await KT.confirm('Nhập danh sách lớp', 'Ghi danh sách này vào hệ thống? Học sinh mới được tạo tài khoản và mật khẩu; phiếu đăng nhập hiện ngay sau đây, chỉ một lần.', 'Nhập'))) return;
        go.disabled = true;
        const r = await send(false);
        go.disabled = false;
        if (!r.ok) { KT.showError(msg, r); return; }
        go.hidden = true;
        // Only the slips print from here on.
        for (const n of [formPanel, preview]) n.classList.add('no-print');
        const logins = r.data.logins || [];
        KT.toast(`Đã nhập: ${r.data.created || 0} học sinh mới, ${r.data.updated || 0} cập nhật.`);
        out.replaceChildren(el('p', { class: 'notice ok no-print', text: `Đã nhập: ${r.data.created || 0} học sinh mới, ${r.data.updated || 0} cập nhật. ${logins.length ? 'Phiếu đăng nhập của học sinh mới ở dưới; thầy cô in ngay (mật khẩu chỉ hiện một lần).' : ''}` }));
        if (logins.length) out.append(slipsView(logins, null));
      });
    },
  });

  // ---------------------------------------------------------------- assignments
  KT.route('/people/assignments', {
    title: 'Phân công giảng dạy', nav: 'people', roles: ADMIN,
    render: async (root) => {
      const msg = el('div', { class: 'notice', hidden: true });
      root.append(tabs('assignments'), msg);
      const [cls, a, t1, t2] = await Promise.all([classes(), KT.api('GET', '/assignments'),
        KT.api('GET', '/users' + KT.qs({ role: 'teacher', limit: 200 })), KT.api('GET', '/users' + KT.qs({ role: 'subject_head', limit: 200 }))]);
      if (!a.ok) { KT.showError(msg, a); return; }
      const teachers = [...(t1.ok ? t1.data.users : []), ...(t2.ok ? t2.data.users : [])].filter((u) => !u.disabled);
      const tSel = KT.select('teacher_id', teachers.map((u) => [String(u.id), `${u.full_name} (${u.username})`]));
      const sSel = KT.select('subject', Object.entries(L.subjects), teachers[0] && teachers[0].subject);
      tSel.addEventListener('change', () => { const u = teachers.find((x) => String(x.id) === tSel.value); if (u && u.subject) sSel.value = u.subject; });
      const cSel = KT.select('class_id', cls.map((c) => [String(c.id), c.name]));
      const form = el('form', { class: 'panel row', 'aria-label': 'Thêm phân công' }, KT.field('Giáo viên', tSel), KT.field('Môn', sSel), KT.field('Lớp', cSel), el('button', { type: 'submit', class: 'primary', text: 'Thêm phân công' }));
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const r = await KT.api('POST', '/assignments', { teacher_id: Number(tSel.value), subject: sSel.value, class_id: Number(cSel.value) });
        if (!r.ok) { KT.showError(msg, r, form); return; }
        KT.toast('Đã thêm phân công.');
        KT.render();
      });
      root.append(form);
      const list = a.data.assignments || [];
      if (!list.length) { root.append(el('p', { class: 'notice', text: 'Chưa có phân công nào.' })); return; }
      const tb = el('tbody');
      for (const x of list) {
        const del = el('button', { type: 'button', class: 'small danger', text: 'Bỏ phân công' });
        del.addEventListener('click', async () => {
          if (!(await KT.confirm('Bỏ phân công', `Bỏ phân công ${x.teacher.full_name} dạy ${KT.subjectName(x.subject)} lớp ${x.class.name}?`, 'Bỏ phân công', true))) return;
          const r = await KT.api('DELETE', `/assignments/${x.id}`);
          if (!r.ok) { KT.showError(msg, r); return; }
          KT.toast('Đã bỏ phân công.');
          KT.render();
        });
        tb.append(el('tr', {}, el('td', { text: x.teacher.full_name }), el('td', {}, el('span', { class: 'mono', text: x.teacher.username })), el('td', { text: KT.subjectName(x.subject) }), el('td', { text: x.class.name }), el('td', {}, del)));
      }
      root.append(el('div', { class: 'table-wrap' }, KT.stackTable(el('table', { class: 'data assignments-list' },
        el('caption', { class: 'sr-only', text: 'Phân công giảng dạy' }),
        el('thead', {}, el('tr', {}, ...['Giáo viên', 'Tên đăng nhập', 'Môn', 'Lớp', 'Thao tác'].map((h) => el('th', { scope: 'col', text: h })))), tb))));
    },
  });

  // ---------------------------------------------------------------- slips
  /* The printable grid of slips: school, class, name, code, username, and
   * the password, or (exam given) the exam login code of that session. */
  function slipsView(slips, className, exam) {
    const school = (KT.me.school && KT.me.school.name) || '';
    const print = el('button', { type: 'button', class: 'primary', text: 'In phiếu' });
    print.addEventListener('click', () => window.print());
    const grid = el('div', { class: 'slips' });
    for (const s of slips) {
      grid.append(el('section', { class: 'slip', 'aria-label': `Phiếu của ${s.full_name}` },
        el('p', { class: 'slip-school', text: school }),
        el('p', { class: 'slip-title', text: `Phiếu đăng nhập — lớp ${s.class_name || className || ''}` }),
        el('p', { class: 'slip-name', text: s.full_name }),
        el('dl', {},
          el('dt', { text: 'Mã học sinh' }), el('dd', { text: s.student_code || '' }),
          el('dt', { text: 'Tên đăng nhập' }), el('dd', { class: 'mono', text: s.username }),
          ...(exam ? [el('dt', { text: 'Mã đăng nhập' }), el('dd', { class: 'mono slip-code', text: s.code })]
            : [el('dt', { text: 'Mật khẩu' }), el('dd', { class: 'mono slip-pass', text: s.password })])),
        el('p', { class: 'slip-note', text: exam
          ? `${exam.test_title || 'Buổi thi'}: mã dùng được từ ${KT.formatLocal(exam.valid_from)} đến khi buổi thi đóng. Đăng nhập tại ${location.origin}/student/, chọn "Đăng nhập bằng mã trên phiếu dự thi".`
          : `Đăng nhập tại ${location.origin}/ — giữ kín mật khẩu.` })));
    }
    return el('div', { class: 'slips-page' }, el('p', { class: 'actions no-print' }, print, ' ', el('span', { class: 'hint', text: `${slips.length} phiếu, 8 phiếu mỗi trang A4.` })), grid);
  }

  KT.route('/people/slips', {
    title: 'Phiếu đăng nhập', nav: 'people', roles: STAFF_ROLES,
    render: async (root) => {
      const cls = await classes();
      if (KT.me.role === 'school_admin') root.append(tabs('slips'));
      root.append(el('p', { class: 'hint', text: 'In phiếu đăng nhập cho cả lớp sẽ đặt lại mật khẩu của mọi học sinh trong lớp.' }));
      const ul = el('ul', { class: 'class-links' });
      for (const c of cls) ul.append(el('li', {}, el('a', { href: `#/people/slips/${c.id}`, text: `Lớp ${c.name}` }), c.students !== undefined ? ` (${c.students} học sinh)` : ''));
      root.append(ul);
      // Exam login codes (one per student and session): no password is reset.
      if (KT.me.role === 'admin') return;
      root.append(el('h2', { text: 'Phiếu dự thi có mã đăng nhập' }),
        el('p', { class: 'hint', text: 'Mỗi học sinh nhận một mã riêng cho buổi thi, dùng được từ một giờ trước giờ mở đến khi buổi thi đóng; mật khẩu không đổi. Tạo lại phiếu sẽ thu hồi mã cũ.' }));
      const r = await KT.api('GET', '/sessions' + KT.qs({ state: 'open' }));
      const r2 = await KT.api('GET', '/sessions' + KT.qs({ state: 'scheduled' }));
      const list = [r, r2].flatMap((x) => (x.ok ? (Array.isArray(x.data) ? x.data : (x.data.sessions || [])) : []));
      const su = el('ul', { class: 'class-links exam-slip-links' });
      for (const x of list) su.append(el('li', {}, el('a', { href: `#/people/exam-slips/${x.id}`, text: `${x.test_title || x.title || 'Buổi thi'} — ${(x.classes || []).map((c) => c.name).join(', ')}` })));
      if (!list.length) su.append(el('li', { class: 'hint', text: 'Chưa có buổi thi nào đang mở hoặc sắp mở.' }));
      root.append(su);
    },
  });

  KT.route('/people/exam-slips/:sessionId', {
    title: 'Phiếu dự thi', nav: 'people', roles: ['school_admin', 'subject_head', 'teacher'],
    render: async (root, params, query, ctx) => {
      const msg = el('div', { class: 'notice no-print', hidden: true });
      const go = el('button', { type: 'button', class: 'primary', text: 'Tạo mã và in phiếu dự thi' });
      const back = el('a', { class: 'button', href: '#/people/slips', text: 'Quay lại' });
      const intro = el('section', { class: 'panel no-print' },
        el('p', { text: 'Mỗi học sinh của buổi thi nhận một mã đăng nhập mới (mã chỉ hiện một lần, trên phiếu); mã cũ của buổi thi này bị thu hồi. Mật khẩu của học sinh không đổi.' }),
        el('p', { class: 'actions' }, go, ' ', back));
      root.append(msg, intro);
      go.addEventListener('click', async () => {
        go.disabled = true;
        const r = await KT.api('POST', `/sessions/${encodeURIComponent(params.sessionId)}/login-codes`, {}, { timeout: 120000 });
        go.disabled = false;
        if (!r.ok) { KT.showError(msg, r); return; }
        ctx.setTitle(`Phiếu dự thi — ${r.data.session.test_title || ''}`);
        intro.replaceWith(slipsView(r.data.codes || [], '', r.data.session));
        KT.announce(`Đã tạo ${(r.data.codes || []).length} phiếu dự thi.`);
      });
    },
  });

  KT.route('/people/slips/:classId', {
    title: 'Phiếu đăng nhập', nav: 'people', roles: STAFF_ROLES,
    render: async (root, params, query, ctx) => {
      const cls = await classes();
      const c = cls.find((x) => String(x.id) === params.classId);
      const name = c ? c.name : params.classId;
      ctx.setTitle(`Phiếu đăng nhập — lớp ${name}`);
      const msg = el('div', { class: 'notice no-print', hidden: true });
      root.append(msg);
      const go = el('button', { type: 'button', class: 'danger', text: `Đặt lại mật khẩu và in phiếu lớp ${name}` });
      const back = el('a', { class: 'button', href: '#/people/slips', text: 'Quay lại' });
      const intro = el('section', { class: 'panel no-print' },
        el('p', { text: `Thao tác này đặt lại mật khẩu của tất cả học sinh lớp ${name}${c && c.students !== undefined ? ` (${c.students} em)` : ''}: mật khẩu cũ không dùng được nữa, mật khẩu mới chỉ hiện một lần trên phiếu.` }),
        el('p', { class: 'actions' }, go, ' ', back));
      root.append(intro);
      go.addEventListener('click', async () => {
        const ok = await KT.confirm('Đặt lại mật khẩu cả lớp', `Đặt lại mật khẩu của mọi học sinh lớp ${name} và in phiếu mới?`, 'Đặt lại và in phiếu', true);
        if (!ok) return;
        go.disabled = true;
        const r = await KT.api('POST', `/classes/${encodeURIComponent(params.classId)}/slips`, {}, { timeout: 120000 });
        go.disabled = false;
        if (!r.ok) { KT.showError(msg, r); return; }
        const slips = Array.isArray(r.data) ? r.data : (r.data.slips || []);
        intro.replaceWith(slipsView(slips, r.data.class_name || name));
        KT.announce(`Đã tạo ${slips.length} phiếu đăng nhập.`);
      });
    },
  });
})();

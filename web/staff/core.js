/*
 * kiemtra — the staff pages' core: login at /, the API client, the hash
 * router and the navigation by role, and the small UI pieces every screen
 * uses (notices, field errors, dialogs, Vietnamese labels, dates in the
 * school's time zone). Screens live in their own files and register with
 * KT.route(); main.js starts the app once every file is loaded.
 *
 * The bearer token is kept in sessionStorage only (gone with the tab),
 * under the same key as the student page, so a student who logs in here
 * lands on /student/ already logged in. It is never logged or put in a URL.
 */
'use strict';

(function () {
  const KT = window.KT;
  const { el, store } = KT;
  const API = '/api/v1';
  const K = { token: 'kiemtra.token', user: 'kiemtra.user' };
  const ss = store(window.sessionStorage);
  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- labels
  const L = {
    roles: { admin: 'Quản trị Sở', school_admin: 'Quản trị nhà trường', subject_head: 'Tổ trưởng chuyên môn', teacher: 'Giáo viên', student: 'Học sinh' },
    subjects: {
      TOAN: 'Toán', NV: 'Ngữ văn', TV: 'Tiếng Việt', TA: 'Tiếng Anh', NN1: 'Ngoại ngữ 1', VL: 'Vật lí', HH: 'Hoá học',
      SH: 'Sinh học', LS: 'Lịch sử', DL: 'Địa lí', LSDL: 'Lịch sử và Địa lí', TIN: 'Tin học', CN: 'Công nghệ',
      GDCD: 'Giáo dục công dân', GDKTPL: 'Giáo dục kinh tế và pháp luật', KHTN: 'Khoa học tự nhiên',
      GDTC: 'Giáo dục thể chất', GDQPAN: 'Giáo dục quốc phòng và an ninh', DD: 'Đạo đức', KH: 'Khoa học',
    },
    kinds: { MCQ4: 'Một lựa chọn', MR: 'Nhiều lựa chọn', TF4: 'Đúng/Sai', SHORT: 'Trả lời ngắn', ESSAY: 'Tự luận', QTI: 'QTI' },
    status: { draft: 'Nháp', submitted: 'Chờ duyệt', approved: 'Đã duyệt', retired: 'Ngừng dùng' },
    levels: { 'MD.B': 'Biết', 'MD.H': 'Hiểu', 'MD.V': 'Vận dụng', 'MD.VC': 'Vận dụng cao', 'MD.M1': 'Mức 1', 'MD.M2': 'Mức 2', 'MD.M3': 'Mức 3' },
    testKinds: { tx: 'Thường xuyên', gk: 'Giữa kỳ', ck: 'Cuối kỳ' },
  };
  const subjectName = (c) => L.subjects[c] || c || '';

  // ---------------------------------------------------------------- API
  /* One request. Returns {status, ok, data, error}; never throws. status 0
   * is a network failure. A 401 on any call but login ends the session. */
  async function api(method, path, body, opts) {
    opts = opts || {};
    const headers = { Accept: 'application/json' };
    const tok = ss.get(K.token);
    if (tok) headers.Authorization = 'Bearer ' + tok;
    if (opts.headers) Object.assign(headers, opts.headers); // e.g. If-None-Match (monitor.js)
    const init = { method, headers, cache: 'no-store', credentials: 'omit' };
    if (opts.raw !== undefined) {
      headers['Content-Type'] = opts.contentType || 'application/octet-stream';
      init.body = opts.raw;
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), opts.timeout || 30000);
    init.signal = ctl.signal;
    let res;
    try {
      res = await fetch(path.startsWith('/') && !path.startsWith(API) ? API + path : path, init);
    } catch (e) {
      clearTimeout(timer);
      return { status: 0, ok: false, data: null, error: { code: 'network', message: 'Không kết nối được máy chủ. Thầy cô kiểm tra mạng rồi thử lại.' } };
    }
    let data = null;
    try {
      const type = res.headers.get('Content-Type') || '';
      data = opts.blob ? await res.blob() : type.includes('json') ? await res.json() : await res.text();
    } catch (e) { data = null; }
    clearTimeout(timer);
    const error = data && data.error ? data.error
      : res.ok ? null : { code: 'http_' + res.status, message: `Máy chủ trả lỗi ${res.status}.` };
    if (res.status === 401 && path !== '/auth/login') {
      endSession('Phiên đăng nhập đã hết hạn. Thầy cô đăng nhập lại.');
    }
    return { status: res.status, ok: res.ok, data, error, etag: res.headers.get('ETag') };
  }
  const errText = (r, fallback) => (r && r.error && r.error.message) || fallback || 'Đã có lỗi, thầy cô thử lại sau.';

  // ---------------------------------------------------------------- notices
  function announce(text, urgent) {
    const box = $(urgent ? 'live-alert' : 'live-polite');
    box.textContent = '';
    setTimeout(() => { box.textContent = text; }, 30);
  }
  /* A notice paragraph: kind '' | 'ok' | 'error' | 'warn'. Empty text hides it. */
  function notice(node, text, kind) {
    node.textContent = text || '';
    node.className = 'notice' + (kind ? ' ' + kind : '');
    node.hidden = !text;
    if (kind === 'error') node.setAttribute('role', 'alert'); else node.removeAttribute('role');
  }
  /* The details of an error reply ([{field, message}] or [{row, ...}]) as a list. */
  function errorDetails(r) {
    const d = r && r.error && r.error.details;
    if (!Array.isArray(d) || !d.length) return null;
    const ul = el('ul', { class: 'error-list' });
    for (const x of d.slice(0, 200)) {
      if (typeof x === 'string') { ul.append(el('li', { text: x })); continue; }
      const where = x.field || x.file || (x.row !== undefined ? `Dòng ${x.row}` : '') || x.item || '';
      ul.append(el('li', { text: (where ? where + ': ' : '') + (x.message || JSON.stringify(x)) }));
    }
    return ul;
  }
  /* Shows an error reply in `box`: its message, its details, and marks the
   * inputs of `form` named by a detail's field (aria-invalid + description). */
  function showError(box, r, form) {
    box.replaceChildren();
    box.hidden = false;
    box.className = 'notice error';
    box.setAttribute('role', 'alert');
    box.append(el('span', { text: errText(r) }));
    const list = errorDetails(r);
    if (list) box.append(list);
    if (form) {
      for (const bad of form.querySelectorAll('[aria-invalid="true"]')) {
        bad.removeAttribute('aria-invalid');
        const m = bad.parentNode.querySelector('.field-error');
        if (m) m.remove();
      }
      const d = (r && r.error && Array.isArray(r.error.details)) ? r.error.details : [];
      let first = null;
      for (const x of d) {
        if (!x || !x.field) continue;
        const input = form.querySelector(`[name="${CSS.escape(x.field)}"]`);
        if (!input) continue;
        input.setAttribute('aria-invalid', 'true');
        const id = (input.id || x.field.replace(/\W/g, '_')) + '-err';
        input.parentNode.append(el('p', { class: 'field-error', id, text: x.message }));
        input.setAttribute('aria-describedby', id);
        first = first || input;
      }
      if (first) first.focus();
    }
  }
  function clearError(box) { box.replaceChildren(); box.hidden = true; }

  let toastTimer = 0;
  function toast(text, kind) {
    let t = $('toast');
    if (!t) { t = el('div', { id: 'toast', class: 'toast', role: 'status' }); document.body.append(t); }
    t.textContent = text;
    t.className = 'toast show' + (kind ? ' ' + kind : '');
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.className = 'toast'; }, 4000);
  }

  /* A modal dialog. `body` is a node (or text); actions [{label, value,
   * primary, danger}]. Resolves with the chosen value, or null on Esc /
   * "Đóng". The caller may pass validate(value) returning an error text
   * that keeps the dialog open. */
  function dialog(opts) {
    return new Promise((resolve) => {
      const d = el('dialog', { class: 'kt-dialog', 'aria-labelledby': 'dlg-title' });
      const err = el('p', { class: 'notice error', hidden: true });
      const form = el('form', { method: 'dialog' },
        el('h2', { id: 'dlg-title', text: opts.title || '' }),
        typeof opts.body === 'string' ? el('p', { text: opts.body }) : (opts.body || ''),
        err);
      const row = el('p', { class: 'actions' });
      for (const a of opts.actions || [{ label: 'Đóng', value: null }]) {
        const b = el('button', { type: 'button', class: a.primary ? 'primary' : a.danger ? 'danger' : '', text: a.label });
        b.addEventListener('click', async () => {
          if (a.value !== null && opts.validate) {
            const msg = await opts.validate(a.value, d);
            if (msg) { notice(err, msg, 'error'); return; }
          }
          d.close(); d.remove(); resolve(a.value);
        });
        row.append(b);
      }
      form.append(row);
      d.append(form);
      d.addEventListener('cancel', () => { d.remove(); resolve(null); });
      document.body.append(d);
      d.showModal();
      const first = d.querySelector('input, select, textarea') || d.querySelector('button.primary') || d.querySelector('button');
      if (first) first.focus();
    });
  }
  const confirm = (title, text, yes, danger) => dialog({
    title, body: text, actions: [{ label: 'Quay lại', value: false }, { label: yes || 'Đồng ý', value: true, primary: !danger, danger }],
  }).then((v) => v === true);

  // ---------------------------------------------------------------- forms
  /* A labelled field: input (or given control) with an id derived from name. */
  let uid = 0;
  function field(label, control, hint) {
    const id = control.id || `f${++uid}`;
    control.id = id;
    const wrap = el('div', { class: 'field' }, el('label', { for: id, text: label }), control);
    if (hint) {
      const h = el('p', { class: 'hint', id: id + '-hint', text: hint });
      control.setAttribute('aria-describedby', id + '-hint');
      wrap.append(h);
    }
    return wrap;
  }
  function select(name, options, value, attrs) {
    const s = el('select', Object.assign({ name }, attrs || {}));
    for (const o of options) {
      const [v, t] = Array.isArray(o) ? o : [o, o];
      const op = el('option', { value: v, text: t });
      if (String(v) === String(value ?? '')) op.selected = true;
      s.append(op);
    }
    return s;
  }

  // ---------------------------------------------------------------- time zone
  /* Dates are shown and typed as dd/mm/yyyy HH:mm in the school's zone
   * (Asia/Ho_Chi_Minh unless the school says otherwise) and sent to the
   * server as RFC 3339 with that zone's offset. */
  const zone = () => (KT.me && (KT.me.school_timezone || (KT.me.school && KT.me.school.timezone))) || 'Asia/Ho_Chi_Minh';
  function partsIn(date, tz) {
    const f = new Intl.DateTimeFormat('en-GB', {
      timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
    });
    const p = {};
    for (const x of f.formatToParts(date)) p[x.type] = x.value;
    return p;
  }
  function formatLocal(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (isNaN(d)) return '';
    const p = partsIn(d, zone());
    return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}`;
  }
  /* "dd/mm/yyyy HH:mm" (also d/m/yyyy, H:mm) in the school's zone → ISO
   * string with offset, or null when it is not a real date and time. */
  function parseLocal(text) {
    const m = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})\s+(\d{1,2})[:h](\d{2})\s*$/.exec(text || '');
    if (!m) return null;
    const [day, mon, year, hh, mm] = m.slice(1).map(Number);
    if (mon < 1 || mon > 12 || day < 1 || day > 31 || hh > 23 || mm > 59) return null;
    const guess = Date.UTC(year, mon - 1, day, hh, mm);
    // The zone's offset at that instant (two passes cover a change of offset).
    let utc = guess;
    for (let i = 0; i < 2; i++) {
      const p = partsIn(new Date(utc), zone());
      const shown = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute);
      utc += guess - shown;
    }
    const back = partsIn(new Date(utc), zone());
    if (+back.day !== day || +back.month !== mon || +back.hour !== hh) return null;
    const off = Math.round((guess - utc) / 60000);
    const sign = off >= 0 ? '+' : '-';
    const two = (n) => String(Math.abs(n)).padStart(2, '0');
    return `${year}-${two(mon)}-${two(day)}T${two(hh)}:${two(mm)}:00${sign}${two(Math.trunc(Math.abs(off) / 60))}:${two(Math.abs(off) % 60)}`;
  }

  // ---------------------------------------------------------------- router
  /* KT.route('/items/:id/edit', {title, nav, roles, render(root, params, query)}).
   * nav: the navigation entry it belongs to. roles: who may open it. */
  const routes = [];
  const navItems = [];
  function route(pattern, def) {
    const keys = [];
    const rx = new RegExp('^' + pattern.replace(/:(\w+)/g, (_, k) => { keys.push(k); return '([^/]+)'; }) + '$');
    routes.push(Object.assign({ pattern, rx, keys }, def));
  }
  /* A navigation entry: KT.nav({id, label, hash, roles, order}). */
  function nav(item) { navItems.push(item); }
  const can = (roles) => !roles || (KT.me && roles.includes(KT.me.role));
  function go(hash) { if (location.hash === hash) render(); else location.hash = hash; }

  let renderSeq = 0;
  async function render() {
    if (!KT.me) return;
    const raw = location.hash.replace(/^#/, '') || '';
    const [path, qs] = raw.split('?');
    const query = new URLSearchParams(qs || '');
    let match = null, params = {};
    for (const r of routes) {
      const m = r.rx.exec(path);
      if (m) { match = r; r.keys.forEach((k, i) => { params[k] = decodeURIComponent(m[i + 1]); }); break; }
    }
    if (!match) { go(homeOf(KT.me.role)); return; }
    const seq = ++renderSeq;
    const root = $('screen');
    const title = $('page-title');
    for (const a of document.querySelectorAll('#nav-list a')) {
      if (a.dataset.nav === match.nav) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    }
    closeNav();
    if (!can(match.roles)) {
      title.textContent = 'Không có quyền';
      root.replaceChildren(el('p', { class: 'notice error', role: 'alert', text: 'Tài khoản của thầy cô không dùng được chức năng này.' }));
      return;
    }
    title.textContent = typeof match.title === 'function' ? match.title(params) : match.title;
    document.title = `${title.textContent} — kiemtra`;
    root.replaceChildren(el('p', { class: 'loading', text: 'Đang tải…' }));
    document.body.dataset.screen = match.nav || '';
    const box = el('div', { class: 'screen' });
    try {
      await match.render(box, params, query, { stale: () => seq !== renderSeq, setTitle: (t) => { title.textContent = t; document.title = `${t} — kiemtra`; } });
    } catch (e) {
      box.replaceChildren(el('p', { class: 'notice error', role: 'alert', text: 'Trang gặp lỗi: ' + (e && e.message) }));
      if (window.console) console.error(e); // eslint-disable-line no-console
    }
    if (seq !== renderSeq) return;
    root.replaceChildren(box);
    if (!KT.keepFocus) title.focus();
    KT.keepFocus = false;
  }
  const homeOf = (role) => ({ subject_head: '#/review', school_admin: '#/people' }[role] || '#/bank');

  function buildNav() {
    const ul = $('nav-list');
    ul.replaceChildren();
    for (const n of navItems.filter((x) => can(x.roles)).sort((a, b) => a.order - b.order)) {
      ul.append(el('li', {}, el('a', { href: n.hash, 'data-nav': n.id, text: n.label })));
    }
  }
  function closeNav() {
    if (window.matchMedia('(max-width: 899px)').matches) {
      $('nav').classList.remove('open');
      $('nav-toggle').setAttribute('aria-expanded', 'false');
    }
  }

  // ---------------------------------------------------------------- session
  function showLogin(note) {
    KT.me = null;
    $('view-app').hidden = true;
    $('nav').hidden = true;
    $('nav-toggle').hidden = true;
    $('who').hidden = true;
    $('logout').hidden = true;
    $('view-login').hidden = false;
    notice($('login-note'), note || '', note ? 'warn' : '');
    notice($('login-error'), '');
    $('login-pass').value = '';
    document.title = 'Đăng nhập — kiemtra';
    $('login-user').focus();
  }
  function endSession(note) {
    ss.del(K.token);
    ss.del(K.user);
    showLogin(note);
  }
  async function enterApp() {
    const r = await api('GET', '/me');
    if (!r.ok || !r.data) { if (r.status !== 401) endSession(errText(r)); return; }
    const me = r.data.user || r.data;
    if (me.role === 'student') { location.assign('/student/'); return; }
    KT.me = Object.assign({}, me, {
      assignments: r.data.assignments || me.assignments || [],
      subjects: r.data.subjects || me.subjects || (me.subject ? [me.subject] : []),
      school: r.data.school || me.school || null,
    });
    if (r.data.school_timezone) KT.me.school_timezone = r.data.school_timezone;
    $('view-login').hidden = true;
    $('view-app').hidden = false;
    $('nav').hidden = false;
    $('nav-toggle').hidden = false;
    $('who').hidden = false;
    $('who').textContent = `${KT.me.full_name || KT.me.username} · ${L.roles[KT.me.role] || KT.me.role}`;
    $('logout').hidden = false;
    buildNav();
    if (!location.hash || location.hash === '#') location.replace(homeOf(KT.me.role)); else render();
  }
  async function onLogin(ev) {
    ev.preventDefault();
    const username = $('login-user').value.trim(), password = $('login-pass').value;
    if (!username || !password) { notice($('login-error'), 'Cần nhập tên đăng nhập và mật khẩu.', 'error'); return; }
    const btn = $('login-submit');
    btn.disabled = true;
    notice($('login-error'), '');
    const r = await api('POST', '/auth/login', { username, password });
    btn.disabled = false;
    if (r.status !== 200 || !r.data || !r.data.token) {
      notice($('login-error'), errText(r, 'Đăng nhập không thành công.'), 'error');
      $('login-pass').select();
      return;
    }
    ss.set(K.token, r.data.token);
    ss.set(K.user, JSON.stringify(r.data.user || {}));
    if (r.data.user && r.data.user.role === 'student') { location.assign('/student/'); return; }
    await enterApp();
  }
  async function onLogout() {
    await api('POST', '/auth/logout');
    endSession('Đã đăng xuất.');
  }

  function start() {
    $('login-form').addEventListener('submit', onLogin);
    $('logout').addEventListener('click', onLogout);
    $('nav-toggle').addEventListener('click', () => {
      const open = !$('nav').classList.contains('open');
      $('nav').classList.toggle('open', open);
      $('nav-toggle').setAttribute('aria-expanded', String(open));
    });
    window.addEventListener('hashchange', render);
    if (ss.get(K.token)) enterApp(); else showLogin();
  }

  // ---------------------------------------------------------------- misc
  function debounce(fn, ms) {
    let t = 0;
    return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
  }
  /* Reads a File as bytes (ArrayBuffer). */
  const readBytes = (file) => file.arrayBuffer();
  const qs = (o) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== null && v !== '') p.set(k, v);
    const s = p.toString();
    return s ? '?' + s : '';
  };

  Object.assign(KT, {
    API, api, errText, announce, notice, showError, clearError, errorDetails, toast, dialog, confirm,
    field, select, formatLocal, parseLocal, zone, route, nav, go, render, can, start, debounce, readBytes,
    qs, labels: L, subjectName, me: null,
  });
})();

/* A table that becomes one card per row below 700 px (class "stack"): each
 * cell is labelled with its column's header (data-label, shown by CSS). */
(function () {
  window.KT.stackTable = function stackTable(table) {
    const heads = Array.from(table.querySelectorAll('thead th')).map((th) => th.textContent.trim());
    for (const tr of table.querySelectorAll('tbody tr')) {
      Array.from(tr.children).forEach((td, i) => { if (heads[i]) td.setAttribute('data-label', heads[i]); });
    }
    table.classList.add('stack');
    return table;
  };
})();

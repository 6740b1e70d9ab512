/*
 * kiemtra — the student's test page. Plain browser JavaScript, no build step.
 *
 * Three rules hold everywhere below (web/README.md explains them):
 *  1. Journal first: every change of an answer is written to localStorage
 *     (with a fresh seq) before anything is sent; an entry stays "not acked"
 *     until the server replies saved_seq >= its seq.
 *  2. seq only grows: the counter lives in the journal and starts above every
 *     seq the server has reported, so a re-sent or late save can never
 *     overwrite a newer answer.
 *  3. The server owns the clock: remaining_seconds from each reply becomes a
 *     local deadline on performance.now(); the wall clock is used only to age
 *     a cached view while offline.
 * The bearer token lives in sessionStorage only and is never logged.
 */
'use strict';

(function () {
  const API = '/api/v1';
  const K = {
    token: 'kiemtra.token',
    user: 'kiemtra.user',
    attempt: 'kiemtra.attempt', // the attempt on screen, for a reload
    view: 'kiemtra.view.', // + attempt id: last attempt view (offline reload)
    pos: 'kiemtra.pos.', // + attempt id: question on screen
    journal: 'kiemtra.journal.', // + attempt id (localStorage)
    flags: 'kiemtra.flags.', // + attempt id (localStorage)
  };
  const SEND_PARALLEL = 4;
  const TEXT_DEBOUNCE_MS = 400;
  const SAVE_TIMEOUT_MS = 10000;
  const RESYNC_MS = 30000;
  const WARN_AT = [300, 60]; // seconds left that are announced

  const TEXT = {
    saved: 'Đã lưu',
    saving: 'Đang lưu…',
    offline: 'Chưa lưu — mất kết nối, câu trả lời vẫn được giữ trên máy này',
    closed: 'Đã khoá bài làm',
    network: 'Không kết nối được máy chủ. Em kiểm tra mạng rồi thử lại.',
    expired: 'Phiên đăng nhập đã hết hạn. Em đăng nhập lại để làm tiếp; câu trả lời vẫn được giữ trên máy này.',
    timeUp: 'Hết giờ',
  };
  const KINDS = { tx: 'Kiểm tra thường xuyên', gk: 'Kiểm tra giữa kỳ', ck: 'Kiểm tra cuối kỳ' };
  const SUBJECTS = {
    TOAN: 'Toán', NV: 'Ngữ văn', TA: 'Tiếng Anh', VL: 'Vật lí', HH: 'Hoá học', SH: 'Sinh học',
    LS: 'Lịch sử', DL: 'Địa lí', TIN: 'Tin học', CN: 'Công nghệ', GDCD: 'Giáo dục công dân',
    KHTN: 'Khoa học tự nhiên',
  };
  const HINTS = window.KT.renderer.HINTS;

  // ---------------------------------------------------------------- storage
  const { store, el, decimalVi } = window.KT;
  const R = window.KT.renderer; // the item renderer shared with the staff pages
  const ss = store(window.sessionStorage);
  const ls = store(window.localStorage);

  // ---------------------------------------------------------------- helpers
  const $ = (id) => document.getElementById(id);
  const dateFmt = new Intl.DateTimeFormat('vi-VN', { hour: '2-digit', minute: '2-digit', day: '2-digit', month: '2-digit', year: 'numeric' });
  const timeFmt = new Intl.DateTimeFormat('vi-VN', { hour: '2-digit', minute: '2-digit', second: '2-digit', day: '2-digit', month: '2-digit', year: 'numeric' });
  function when(iso, fmt) {
    const d = new Date(iso);
    return isNaN(d) ? '' : (fmt || dateFmt).format(d);
  }
  function clockText(secs) {
    const s = Math.max(0, Math.floor(secs));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const two = (n) => String(n).padStart(2, '0');
    return h > 0 ? `${h}:${two(m)}:${two(r)}` : `${two(m)}:${two(r)}`;
  }
  function announce(text, urgent) {
    const box = $(urgent ? 'live-alert' : 'live-polite');
    box.textContent = '';
    setTimeout(() => { box.textContent = text; }, 30);
  }
  function showNotice(node, text) {
    node.textContent = text || '';
    node.hidden = !text;
  }

  // ---------------------------------------------------------------- API
  class NetError extends Error {}
  async function api(method, path, body, timeoutMs) {
    const headers = { Accept: 'application/json' };
    const tok = ss.get(K.token);
    if (tok) headers.Authorization = 'Bearer ' + tok;
    const init = { method, headers, cache: 'no-store', credentials: 'omit' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), timeoutMs || 15000);
    init.signal = ctl.signal;
    try {
      const res = await fetch(API + path, init);
      let data = null;
      try { data = await res.json(); } catch (e) { data = null; }
      return { status: res.status, data };
    } catch (e) {
      throw new NetError('network');
    } finally {
      clearTimeout(timer);
    }
  }
  function errCode(r) {
    return (r && r.data && r.data.error && r.data.error.code) || '';
  }
  function errText(r, fallback) {
    return (r && r.data && r.data.error && r.data.error.message) || fallback || 'Đã có lỗi, em thử lại sau.';
  }

  // ---------------------------------------------------------------- views
  const VIEWS = ['login', 'sessions', 'test', 'done'];
  function show(name) {
    for (const v of VIEWS) $('view-' + v).hidden = v !== name;
    const user = ss.json(K.user);
    $('who').hidden = !user || name === 'login';
    $('who').textContent = user ? user.full_name || user.username || '' : '';
    $('logout').hidden = name === 'login';
    document.body.dataset.view = name;
  }

  // ---------------------------------------------------------------- login
  function showLogin(note) {
    leaveAttempt();
    show('login');
    showNotice($('login-note'), note || '');
    showNotice($('login-error'), '');
    $('login-pass').value = '';
    $('login-user').focus();
  }

  /* The second field takes the password, or the exam login code printed on
   * the slip (16 letters and digits in 4 groups): no password hashing on the
   * server, so a whole school logs in at once. */
  let codeMode = false;
  function setLoginMode(code) {
    codeMode = code;
    const f = $('login-pass');
    $('login-pass-label').textContent = code ? 'Mã đăng nhập (trên phiếu dự thi)' : 'Mật khẩu';
    f.type = code ? 'text' : 'password';
    f.autocomplete = code ? 'off' : 'current-password';
    f.placeholder = code ? 'XXXX-XXXX-XXXX-XXXX' : '';
    f.setAttribute('autocapitalize', code ? 'characters' : 'none');
    f.spellcheck = false;
    $('login-mode').textContent = code ? 'Đăng nhập bằng mật khẩu' : 'Đăng nhập bằng mã trên phiếu dự thi';
    f.value = '';
  }

  /* A server whose password queue is full (503 login_busy) says when to
   * come back (Retry-After): the page counts down and tries again by itself. */
  let loginRetry = null;
  function retryLoginAfter(r, ev) {
    const secs = Math.min(120, Math.max(1, Number((r.data && r.data.error && r.data.error.details &&
      r.data.error.details.retry_after) || 5)));
    let left = Math.ceil(secs);
    const msg = errText(r, 'Máy chủ đang bận.');
    const tick = () => {
      showNotice($('login-error'), `${msg} Tự thử lại sau ${left} giây.`);
      if (left-- <= 0) { loginRetry = null; onLogin(ev); return; }
      loginRetry = setTimeout(tick, 1000);
    };
    tick();
  }

  async function onLogin(ev) {
    if (ev && ev.preventDefault) ev.preventDefault();
    if (loginRetry) { clearTimeout(loginRetry); loginRetry = null; }
    const username = $('login-user').value.trim(), password = $('login-pass').value;
    if (!username || !password) {
      showNotice($('login-error'), codeMode ? 'Em cần nhập tên đăng nhập và mã đăng nhập trên phiếu.'
        : 'Em cần nhập tên đăng nhập và mật khẩu.');
      return;
    }
    const btn = $('login-submit');
    btn.disabled = true;
    showNotice($('login-error'), '');
    try {
      const r = codeMode ? await api('POST', '/auth/exam-login', { username, code: password })
        : await api('POST', '/auth/login', { username, password });
      if (r.status === 503 && errCode(r) === 'login_busy') {
        retryLoginAfter(r, ev);
        return;
      }
      if (r.status !== 200 || !r.data || !r.data.token) {
        showNotice($('login-error'), errText(r, 'Đăng nhập không thành công.'));
        $('login-pass').select();
        return;
      }
      if (r.data.user && r.data.user.role !== 'student') {
        showNotice($('login-error'), 'Đây là trang làm bài của học sinh; tài khoản này không phải tài khoản học sinh.');
        return;
      }
      ss.set(K.token, r.data.token);
      const u = r.data.user || {};
      ss.set(K.user, JSON.stringify({ id: u.id, username: u.username, full_name: u.full_name }));
      $('login-pass').value = '';
      const resume = ss.get(K.attempt);
      if (resume) openAttempt(resume); else showSessions();
    } catch (e) {
      showNotice($('login-error'), TEXT.network);
    } finally {
      btn.disabled = false;
    }
  }

  /* Logging out leaves nothing of the student on this computer (a lab
   * computer is shared): pending answers are sent first, and the journals
   * and flags go with the token. */
  async function onLogout() {
    const btn = $('logout');
    if (A && pendingCount() > 0) {
      btn.disabled = true;
      const sent = await flush(8000);
      btn.disabled = false;
      if (!sent && A && pendingCount() > 0 &&
          !window.confirm(`Còn ${pendingCount()} câu trả lời chưa lưu được lên máy chủ (mất kết nối). Nếu đăng xuất, các câu trả lời này bị xoá khỏi máy này và không được chấm. Em vẫn đăng xuất?`)) return;
    }
    const tok = ss.get(K.token);
    leaveAttempt();
    if (tok) api('POST', '/auth/logout', {}).catch(() => {});
    for (const k of ss.keys()) if (k.startsWith('kiemtra.')) ss.del(k);
    for (const k of ls.keys()) if (k.startsWith(K.journal) || k.startsWith(K.flags)) ls.del(k);
    $('login-user').value = '';
    showLogin('Em đã đăng xuất.');
  }

  function sessionExpired() {
    const keep = ss.get(K.attempt);
    ss.del(K.token);
    ss.del(K.user);
    if (keep) ss.set(K.attempt, keep);
    showLogin(TEXT.expired);
  }

  // ---------------------------------------------------------------- sessions
  async function showSessions() {
    leaveAttempt();
    ss.del(K.attempt);
    show('sessions');
    showNotice($('sessions-error'), '');
    const list = $('sessions-list');
    let r;
    try {
      r = await api('GET', '/me/sessions');
    } catch (e) {
      showNotice($('sessions-error'), TEXT.network);
      return;
    }
    if (r.status === 401) { sessionExpired(); return; }
    if (r.status !== 200 || !Array.isArray(r.data)) {
      showNotice($('sessions-error'), errText(r));
      return;
    }
    list.replaceChildren(...r.data.map(sessionCard));
    $('sessions-empty').hidden = r.data.length > 0;
  }

  function sessionCard(s) {
    const mins = Math.round((s.duration_seconds || 0) / 60);
    const meta = [SUBJECTS[s.subject] || s.subject, s.grade ? 'Lớp ' + s.grade : null,
      KINDS[s.kind] || null, mins ? mins + ' phút' : null].filter(Boolean).join(' · ');
    const li = el('li', { class: 'session-card', 'data-session': s.id });
    li.append(el('h2', { text: s.title }), el('p', { class: 'meta', text: meta }),
      el('p', { class: 'window', text: `Thời gian mở: từ ${when(s.opens_at)} đến ${when(s.closes_at)}` }));
    const state = el('p', { class: 'state' });
    let action = null;
    const a = s.attempt;
    if (a && a.status === 'submitted') {
      forgetAttemptLocally(a.id); // submitted elsewhere or while away: nothing left to send
      state.textContent = s.results_released ? 'Đã nộp bài. Đã có kết quả.' : 'Đã nộp bài.';
      action = el('button', { type: 'button', text: s.results_released ? 'Xem kết quả' : 'Xem bài đã nộp' });
      action.addEventListener('click', () => openAttempt(a.id));
    } else if (s.open) {
      state.textContent = a ? 'Em đang làm bài này.' : 'Đang mở.';
      action = el('button', { type: 'button', class: 'primary', text: a ? 'Tiếp tục làm bài' : 'Bắt đầu làm bài' });
      // A new start is confirmed first: the clock starts at the server's start.
      action.addEventListener('click', () => (a ? startSession(s.id, action) : confirmStart(s, action)));
    } else if (new Date(s.opens_at) > new Date()) {
      state.textContent = `Chưa đến giờ làm bài. Bài mở lúc ${when(s.opens_at)}.`;
    } else {
      state.textContent = 'Đã hết thời gian làm bài.';
    }
    state.dataset.open = s.open ? 'true' : 'false';
    li.append(state);
    if (action) li.append(action);
    return li;
  }

  /* "Bắt đầu làm bài" opens this confirmation (the test, its duration, the
   * number of questions when known, the access code when the session needs
   * one); only its "Bắt đầu" starts the attempt. A wrong or missing code
   * keeps it open with the server's message on the field. */
  function confirmStart(s, btn) {
    const mins = Math.round((s.duration_seconds || 0) / 60);
    const err = el('p', { class: 'notice error', role: 'alert', hidden: true, id: 'start-error' });
    const facts = [mins ? `Thời gian làm bài: ${mins} phút.` : null,
      s.items_total ? `Số câu hỏi: ${s.items_total}.` : null].filter(Boolean).join(' ');
    const code = s.needs_access_code ? el('input', {
      id: 'start-code', name: 'access_code', inputMode: 'numeric', autocomplete: 'off',
      maxLength: 6, pattern: '[0-9]{6}', required: true, spellcheck: false, class: 'access-code-input',
    }) : null;
    const go = el('button', { type: 'button', class: 'primary', id: 'start-confirm', text: 'Bắt đầu' });
    const back = el('button', { type: 'button', id: 'start-cancel', text: 'Quay lại' });
    const d = el('dialog', { id: 'start-dialog', 'aria-labelledby': 'start-title', 'aria-describedby': 'start-facts' },
      el('h2', { id: 'start-title', text: s.title }),
      el('p', { id: 'start-facts', text: `${facts} Đồng hồ bắt đầu tính khi em bấm "Bắt đầu"; em làm liền một mạch cho đến khi nộp bài.` }),
      code ? el('p', { class: 'field' }, el('label', { for: 'start-code', text: 'Mã vào phòng (6 chữ số thầy cô đọc)' }), code) : '',
      err,
      el('p', { class: 'actions' }, back, go));
    const close = () => { d.close(); d.remove(); };
    back.addEventListener('click', close);
    d.addEventListener('cancel', (e) => { e.preventDefault(); close(); });
    go.addEventListener('click', async () => {
      const typed = code ? code.value.trim() : '';
      if (code && !/^[0-9]{6}$/.test(typed)) {
        code.setAttribute('aria-invalid', 'true');
        showNotice(err, 'Em hãy nhập đủ 6 chữ số của mã vào phòng.');
        code.focus();
        return;
      }
      go.disabled = true;
      const r = await startSession(s.id, btn, code ? { access_code: typed } : undefined, true);
      go.disabled = false;
      if (!r || r.started) { close(); return; }
      const e = r.data && r.data.error;
      if (code && e && /^access_code/.test(e.code)) {
        code.setAttribute('aria-invalid', 'true');
        showNotice(err, e.message);
        code.select();
        code.focus();
        return;
      }
      close();
      showNotice($('sessions-error'), errText(r, 'Không bắt đầu được bài kiểm tra.'));
    });
    document.body.append(d);
    d.showModal();
    (code || go).focus();
  }

  async function startSession(id, btn, body, confirming) {
    btn.disabled = true;
    try {
      const r = await api('POST', `/sessions/${encodeURIComponent(id)}/attempts`, body);
      if (confirming && r.status !== 401 && !((r.status === 200 || r.status === 201) && r.data && r.data.id)) return r;
      if (r.status === 401) { sessionExpired(); return { started: true }; }
      if (r.status === 401) { sessionExpired(); return; }
      if ((r.status === 200 || r.status === 201) && r.data && r.data.id) {
        enterAttempt(r.data, { fresh: true });
        return { started: true };
      }
      showNotice($('sessions-error'), errText(r, 'Không bắt đầu được bài kiểm tra.'));
    } catch (e) {
      showNotice($('sessions-error'), TEXT.network);
      return { started: true }; // nothing more for the dialog to show
    } finally {
      btn.disabled = false;
    }
    return { started: false };
  }

  // ---------------------------------------------------------------- attempt
  /* The attempt on screen; null outside the test. */
  let A = null;

  async function openAttempt(id) {
    let r;
    try {
      r = await api('GET', `/attempts/${encodeURIComponent(id)}`);
    } catch (e) {
      const cached = ss.json(K.view + id);
      if (cached && cached.view && cached.view.status === 'in_progress') {
        enterAttempt(cached.view, { fresh: false, wall: cached.wall });
        A.offline = true;
        updateIndicator();
        scheduleRetry();
        return;
      }
      show('sessions');
      showNotice($('sessions-error'), TEXT.network);
      return;
    }
    if (r.status === 401) { sessionExpired(); return; }
    if (r.status !== 200 || !r.data) {
      ss.del(K.attempt);
      showSessions();
      return;
    }
    enterAttempt(r.data, { fresh: true });
  }

  function leaveAttempt() {
    if (!A) return;
    clearInterval(A.tickTimer);
    clearInterval(A.resyncTimer);
    clearTimeout(A.retryTimer);
    clearTimeout(A.pollTimer);
    for (const t of A.debounce.values()) clearTimeout(t);
    A = null;
  }

  function loadJournal(id) {
    const j = ls.json(K.journal + id);
    if (j && typeof j === 'object' && j.answers && typeof j.answers === 'object' && Number.isFinite(j.seq)) return j;
    return { seq: 0, answers: {}, updated: Date.now() };
  }
  function saveJournal() {
    if (!A) return;
    A.journal.updated = Date.now();
    A.journalOk = ls.set(K.journal + A.id, JSON.stringify(A.journal));
  }
  function saveFlags() {
    if (A) ls.set(K.flags + A.id, JSON.stringify(Array.from(A.flags)));
  }
  function forgetAttemptLocally(id) {
    ls.del(K.journal + id);
    ls.del(K.flags + id);
    ss.del(K.view + id);
    ss.del(K.pos + id);
  }

  /* Server responses into the journal. A server seq at or above the
   * journal's wins (it is the same answer, or a newer one from another
   * computer). On a fresh load, a journal entry newer than the server's is
   * marked for re-sending. */
  function mergeResponses(journal, responses, fresh) {
    let top = journal.seq || 0;
    for (const [ref, r] of Object.entries(responses || {})) {
      const seq = Number(r.seq) || 0;
      top = Math.max(top, seq);
      const e = journal.answers[ref];
      if (!e || e.seq <= seq) {
        const changed = !e || JSON.stringify(e.response) !== JSON.stringify(r.response);
        journal.answers[ref] = { response: r.response, seq, acked: true };
        if (changed && A && A.journal === journal) A.changedFromServer = true;
      }
    }
    if (fresh) {
      for (const [ref, e] of Object.entries(journal.answers)) {
        const server = responses && responses[ref] ? Number(responses[ref].seq) || 0 : 0;
        if (e.seq > server) { e.acked = false; delete e.rejected; }
      }
    }
    journal.seq = Math.max(top, journal.seq || 0);
  }

  function enterAttempt(view, opts) {
    if (view.status !== 'in_progress') {
      leaveAttempt();
      forgetAttemptLocally(view.id);
      showDone(view);
      return;
    }
    leaveAttempt();
    const id = String(view.id);
    const payload = view.payload || {};
    const items = Array.isArray(payload.items) ? payload.items.slice() : [];
    items.sort((a, b) => (a.number || 0) - (b.number || 0));
    A = {
      id, view, items, byRef: {}, index: 0,
      journal: loadJournal(id),
      flags: new Set(ls.json(K.flags + id) || []),
      inflight: new Map(), debounce: new Map(),
      failures: 0, offline: false, retryTimer: null, locked: false,
      deadlineLocal: 0, warned: new Set(), lastSecond: null,
      tickTimer: null, resyncTimer: null, pollTimer: null,
    };
    items.forEach((it, i) => { A.byRef[it.ref] = i; });
    for (const ref of Object.keys(A.journal.answers)) if (!(ref in A.byRef)) delete A.journal.answers[ref];
    mergeResponses(A.journal, view.responses, opts.fresh);
    // A linear test goes forward only: never before the furthest item seen
    // (or saved, here or on another computer). The server sends its items
    // up to the first one not saved yet; items_total says how many in all.
    A.linear = (payload.test || {}).navigation_mode === 'linear';
    A.total = A.linear && Number.isInteger(payload.items_total) ? payload.items_total : items.length;
    A.furthest = 0;
    if (A.linear) {
      for (const ref of Object.keys(A.journal.answers)) if (ref in A.byRef) A.furthest = Math.max(A.furthest, A.byRef[ref]);
      A.furthest = Math.min(items.length - 1, Math.max(A.furthest, Number(ss.get(K.pos + id)) || 0));
    }
    saveJournal();
    ss.set(K.attempt, id);
    if (opts.fresh) ss.set(K.view + id, JSON.stringify({ view, wall: Date.now() }));
    let remaining = Number(view.remaining_seconds) || 0;
    if (!opts.fresh && opts.wall) remaining -= (Date.now() - opts.wall) / 1000;
    setClock(remaining);

    const test = payload.test || {};
    $('test-title').textContent = test.title || 'Bài kiểm tra';
    $('form-code').textContent = view.form_code || payload.form_code || '';
    $('test-points').textContent = test.total_points ? `Tổng điểm: ${decimalVi(test.total_points)}` : '';
    document.title = `${test.title || 'Bài kiểm tra'} — kiemtra`;
    showNotice($('test-alert'), '');
    $('submit-open').disabled = false;
    show('test');
    buildNavigator();
    const saved = Number(ss.get(K.pos + id));
    goTo(Number.isInteger(saved) && saved >= 0 && saved < items.length ? saved : 0, false);
    A.tickTimer = setInterval(tick, 250);
    A.resyncTimer = setInterval(resync, RESYNC_MS);
    tick();
    updateIndicator();
    pump();
  }

  /* GET the attempt again: the clock, a submit from elsewhere, newer answers. */
  async function resync() {
    if (!A || A.resyncing) return;
    const att = A;
    att.resyncing = true;
    let r;
    try {
      r = await api('GET', `/attempts/${encodeURIComponent(att.id)}`);
    } catch (e) {
      att.resyncing = false;
      return;
    }
    att.resyncing = false;
    if (att !== A) return;
    if (r.status === 401) { sessionExpired(); return; }
    if (r.status !== 200 || !r.data) return;
    if (r.data.status !== 'in_progress') {
      const lost = pendingCount();
      leaveAttempt();
      forgetAttemptLocally(r.data.id);
      showDone(r.data, lost);
      return;
    }
    A.changedFromServer = false;
    const more = adoptItems(r.data);
    mergeResponses(A.journal, r.data.responses, false);
    saveJournal();
    ss.set(K.view + A.id, JSON.stringify({ view: r.data, wall: Date.now() }));
    setClock(r.data.remaining_seconds);
    if (A.changedFromServer) renderAnswer();
    if (A.changedFromServer || more) refreshNavigator();
    updateIndicator();
  }

  /* A newer view of a linear test may carry more items (the next one, once
   * the current one is saved): they join the navigator. */
  function adoptItems(view) {
    const items = Array.isArray(view.payload && view.payload.items) ? view.payload.items.slice() : [];
    if (!A.linear || items.length <= A.items.length) return false;
    items.sort((a, b) => (a.number || 0) - (b.number || 0));
    A.view = view;
    A.items = items;
    A.byRef = {};
    items.forEach((it, i) => { A.byRef[it.ref] = i; });
    buildNavigator();
    $('q-next').disabled = A.locked || A.index === A.total - 1;
    return true;
  }

  /* "Câu sau" on the last item received in a linear test: this item is
   * saved (left empty, it is saved as null: skipped), then the view brings
   * the next one. Offline the student stays here, told why. */
  async function advance() {
    if (!A || A.advancing || A.locked) return;
    const att = A, it = A.items[A.index];
    att.advancing = true;
    $('q-next').disabled = true;
    if (!att.journal.answers[it.ref]) setAnswer(it.ref, null, false);
    let r = null;
    if (await flush(8000)) {
      try { r = await api('GET', `/attempts/${encodeURIComponent(att.id)}`); } catch (e) { r = null; }
    }
    att.advancing = false;
    if (att !== A) return;
    if (r && r.status === 401) { sessionExpired(); return; }
    if (r && r.status === 200 && r.data && r.data.status !== 'in_progress') { resync(); return; }
    if (r && r.status === 200 && r.data) {
      adoptItems(r.data);
      ss.set(K.view + att.id, JSON.stringify({ view: r.data, wall: Date.now() }));
    }
    if (A.index + 1 < A.items.length) {
      goTo(A.index + 1, false);
      announce($('q-heading').textContent);
    } else {
      $('q-next').disabled = false;
      A.nextMissing = true; // the notice goes when the student moves on
      showNotice($('test-alert'), 'Chưa nhận được câu tiếp theo vì mất kết nối. Câu trả lời của em vẫn được giữ trên máy này; em kiểm tra kết nối rồi bấm "Câu sau" lần nữa.');
    }
  }

  // ---------------------------------------------------------------- clock
  function setClock(remaining) {
    if (!A) return;
    A.deadlineLocal = performance.now() + Math.max(0, Number(remaining) || 0) * 1000;
    tick();
  }

  function tick() {
    if (!A) return;
    const left = (A.deadlineLocal - performance.now()) / 1000;
    const secs = Math.max(0, Math.ceil(left));
    if (secs === A.lastSecond) return;
    A.lastSecond = secs;
    const box = $('timer-box'), timer = $('timer');
    if (left <= 0) {
      timer.textContent = TEXT.timeUp;
      box.dataset.state = 'over';
      timeUp();
      return;
    }
    timer.textContent = clockText(secs);
    box.dataset.state = secs <= 60 ? 'urgent' : secs <= 300 ? 'warn' : 'normal';
    let crossed = false;
    for (const w of WARN_AT) {
      if (secs <= w && !A.warned.has(w)) { A.warned.add(w); crossed = true; }
    }
    if (crossed) announce(`Còn ${Math.ceil(secs / 60)} phút làm bài.`, true);
  }

  /* The local deadline passed: no more input; send what is pending (the
   * server is the judge), then wait for the automatic submit. */
  function timeUp() {
    if (!A || A.locked) return;
    lock('Hết giờ làm bài. Bài làm được nộp tự động; em không cần làm gì thêm.');
    announce('Hết giờ làm bài.', true);
    pump();
    pollSubmitted(0);
  }

  function lock(message) {
    if (!A) return;
    A.locked = true;
    for (const t of A.debounce.values()) clearTimeout(t);
    A.debounce.clear();
    $('q-answer').disabled = true;
    $('q-clear').disabled = true;
    $('submit-open').disabled = true;
    showNotice($('test-alert'), message);
    updateIndicator();
  }

  async function pollSubmitted(n) {
    if (!A) return;
    const att = A;
    let r = null;
    try { r = await api('GET', `/attempts/${encodeURIComponent(att.id)}`); } catch (e) { r = null; }
    if (att !== A) return;
    if (r && r.status === 401) { sessionExpired(); return; }
    if (r && r.status === 200 && r.data && r.data.status !== 'in_progress') {
      const lost = pendingCount();
      leaveAttempt();
      forgetAttemptLocally(r.data.id);
      showDone(r.data, lost);
      return;
    }
    if (r && r.status === 200 && r.data && r.data.remaining_seconds > 5 && !att.closedByServer) {
      // The server still has time (extra time was given): unlock.
      att.locked = false;
      $('q-answer').disabled = false;
      $('q-clear').disabled = false;
      $('submit-open').disabled = false;
      showNotice($('test-alert'), 'Em được cộng thêm thời gian làm bài.');
      att.lastSecond = null;
      setClock(r.data.remaining_seconds);
      updateIndicator();
      return;
    }
    att.pollTimer = setTimeout(() => pollSubmitted(n + 1), Math.min(5000, 1000 + n * 500));
  }

  // ---------------------------------------------------------------- saving
  function isPending(e) { return e && !e.acked && !e.rejected; }
  function pendingCount() {
    if (!A) return 0;
    let n = 0;
    for (const e of Object.values(A.journal.answers)) if (isPending(e)) n++;
    return n;
  }

  function setAnswer(ref, response, debounced) {
    if (!A || A.locked) return;
    const seq = A.journal.seq + 1;
    A.journal.seq = seq;
    A.journal.answers[ref] = { response, seq, acked: false };
    saveJournal(); // before anything is sent
    refreshNavItem(ref);
    updateIndicator();
    const old = A.debounce.get(ref);
    if (old) clearTimeout(old);
    if (debounced) {
      A.debounce.set(ref, setTimeout(() => { if (A) { A.debounce.delete(ref); pump(); } }, TEXT_DEBOUNCE_MS));
    } else {
      A.debounce.delete(ref);
      pump();
    }
  }

  /* Sends every pending entry not already on its way (a few at a time). */
  function pump() {
    if (!A || A.retryTimer) return;
    for (const [ref, e] of Object.entries(A.journal.answers)) {
      if (A.inflight.size >= SEND_PARALLEL) break;
      if (!isPending(e) || A.inflight.has(ref) || A.debounce.has(ref)) continue;
      send(ref, e.response, e.seq);
    }
    updateIndicator();
  }

  async function send(ref, response, seq) {
    const att = A;
    att.inflight.set(ref, seq);
    let r = null;
    try {
      r = await api('PUT', `/attempts/${encodeURIComponent(att.id)}/responses/${encodeURIComponent(ref)}`,
        { response, seq }, SAVE_TIMEOUT_MS);
    } catch (e) {
      r = null;
    }
    att.inflight.delete(ref);
    if (att !== A) return;
    const cur = A.journal.answers[ref];
    if (!r || r.status >= 500 || r.status === 429 || r.status === 408) {
      A.offline = true;
      scheduleRetry();
      updateIndicator();
      return;
    }
    if (r.status === 200 && r.data) {
      A.failures = 0;
      A.offline = false;
      const saved = Number(r.data.saved_seq) || 0;
      if (cur && cur.seq <= saved) {
        cur.acked = true;
        saveJournal();
        if (A.alertRef === ref) { A.alertRef = null; showNotice($('test-alert'), ''); }
      }
      if (Number.isFinite(r.data.remaining_seconds)) setClock(r.data.remaining_seconds);
      if (saved > seq) resync(); // a newer answer came from elsewhere
    } else if (r.status === 401) {
      sessionExpired();
      return;
    } else if (r.status === 409 && errCode(r) === 'linear_navigation' && cur && cur.seq === seq) {
      // A linear test: this item was left behind; the answer stays local.
      cur.rejected = true;
      saveJournal();
      showNotice($('test-alert'), errText(r, 'Không quay lại sửa câu trước được.'));
      A.alertRef = ref;
    } else if (r.status === 409) {
      A.closedByServer = true;
      if (!A.locked) lock('Bài làm đã được nộp hoặc đã hết giờ; máy chủ không nhận thêm câu trả lời.');
      pollSubmitted(0);
    } else if (r.status === 400 && cur && cur.seq === seq && errCode(r) !== 'invalid_response' &&
               (cur.tries = (cur.tries || 0) + 1) <= 4) {
      // A 400 that is not about this answer (a database refusal of a whole
      // group-committed batch, say): try again later, a few times.
      scheduleRetry();
      updateIndicator();
      return;
    } else if (cur && cur.seq === seq) {
      // Refused for good (400/404/413): keep it locally, show why.
      cur.rejected = true;
      saveJournal();
      const n = A.items[A.byRef[ref]] ? A.items[A.byRef[ref]].number : '';
      showNotice($('test-alert'), `Câu ${n}: ${errText(r, 'câu trả lời không được máy chủ chấp nhận.')}`);
      A.alertRef = ref;
    }
    updateIndicator();
    pump();
  }

  function scheduleRetry() {
    if (!A || A.retryTimer) return;
    A.failures++;
    const base = Math.min(15000, 1000 * Math.pow(2, Math.min(A.failures - 1, 4)));
    const delay = base * (0.75 + Math.random() * 0.5);
    A.retryTimer = setTimeout(() => { if (A) { A.retryTimer = null; pump(); } }, delay);
  }

  function retryNow() {
    if (!A) return;
    clearTimeout(A.retryTimer);
    A.retryTimer = null;
    A.failures = 0;
    pump();
  }

  function updateIndicator() {
    if (!A) return;
    const node = $('save-status');
    const pending = pendingCount();
    const refused = A.items.filter((it) => { const e = A.journal.answers[it.ref]; return e && e.rejected; });
    let state, text;
    if (refused.length && pending === 0) {
      state = 'refused';
      text = `Chưa lưu được câu ${refused.map((it) => it.number).join(', ')} — máy chủ không nhận câu trả lời này`;
    } else if (pending === 0) {
      state = 'saved'; text = TEXT.saved;
    } else if (A.offline || !navigator.onLine) {
      state = 'offline'; text = TEXT.offline;
    } else {
      state = 'saving'; text = TEXT.saving;
    }
    if (pending > 0 && A.locked && A.closedByServer) { state = 'offline'; text = 'Có câu trả lời chưa kịp lưu trước khi bài bị khoá'; }
    if (A.journalOk === false) text += ' (trình duyệt không cho lưu trên máy này)';
    if (node.dataset.state !== state || node.textContent !== text) {
      node.dataset.state = state;
      node.textContent = text;
    }
    $('nav-summary').textContent = `(${answeredCount()}/${A.total} đã làm)`;
  }

  /* Waits until nothing is pending, re-sending at once; false on timeout or
   * as soon as stop() says so. */
  function flush(timeoutMs, stop) {
    return new Promise((resolve) => {
      if (!A) { resolve(false); return; }
      const att = A, end = performance.now() + timeoutMs;
      let lastTry = performance.now();
      for (const t of att.debounce.values()) clearTimeout(t);
      att.debounce.clear();
      retryNow();
      const check = () => {
        if (att !== A || (stop && stop())) { resolve(false); return; }
        if (pendingCount() === 0 && att.inflight.size === 0) { resolve(true); return; }
        if (performance.now() > end) { resolve(false); return; }
        if (att.inflight.size === 0 && performance.now() - lastTry > 1000) {
          lastTry = performance.now();
          retryNow();
        }
        setTimeout(check, 150);
      };
      check();
    });
  }

  // ---------------------------------------------------------------- answers
  function answerOf(ref) {
    const e = A && A.journal.answers[ref];
    return e ? e.response : null;
  }
  function answerState(it) {
    const v = answerOf(it.ref);
    if (v === null || v === undefined || v === '') return 'empty';
    if (Array.isArray(v)) return v.length ? 'answered' : 'empty';
    if (typeof v === 'object' && it.kind === 'QTI') {
      const n = Object.values(v).filter((x) => x !== null && !(Array.isArray(x) && !x.length)).length;
      return n === 0 ? 'empty' : n < (it.interactions || []).length ? 'partial' : 'answered';
    }
    if (typeof v === 'object') {
      const n = Object.keys(v).length, total = (it.statements || []).length || 4;
      return n === 0 ? 'empty' : n < total ? 'partial' : 'answered';
    }
    if (typeof v === 'string' && v.trim() === '') return 'empty';
    return 'answered';
  }
  function answeredCount() {
    return A ? A.items.filter((it) => answerState(it) === 'answered').length : 0;
  }

  // ---------------------------------------------------------------- navigator
  function buildNavigator() {
    const groups = $('nav-groups');
    const parts = (A.view.payload && A.view.payload.parts) || [];
    const byPart = new Map();
    for (const it of A.items) {
      if (!byPart.has(it.part)) byPart.set(it.part, []);
      byPart.get(it.part).push(it);
    }
    const out = [];
    const seen = new Set();
    const addGroup = (title, list) => {
      const ol = el('ol', { class: 'nav-list' });
      for (const it of list) {
        const b = el('button', { type: 'button', class: 'nav-item', 'data-ref': it.ref, 'data-kind': it.kind, 'data-index': A.byRef[it.ref], text: String(it.number) });
        b.addEventListener('click', () => { goTo(A.byRef[it.ref], true); closeNavOnPhone(); });
        ol.append(el('li', null, b));
      }
      out.push(el('section', { class: 'nav-group' }, el('h3', { text: title }), ol));
    };
    for (const p of parts) {
      const list = byPart.get(p.part) || [];
      seen.add(p.part);
      if (list.length) addGroup(p.points ? `${p.title} (${decimalVi(p.points)} điểm)` : p.title, list);
    }
    for (const [part, list] of byPart) if (!seen.has(part)) addGroup('Các câu khác', list);
    groups.replaceChildren(...out);
    refreshNavigator();
  }

  function refreshNavItem(ref) {
    const b = document.querySelector(`.nav-item[data-ref="${CSS.escape(ref)}"]`);
    if (!b || !A) return;
    const i = A.byRef[ref], it = A.items[i];
    const st = answerState(it), flagged = A.flags.has(ref), current = i === A.index;
    b.classList.toggle('answered', st === 'answered');
    b.classList.toggle('partial', st === 'partial');
    b.classList.toggle('flagged', flagged);
    b.classList.toggle('current', current);
    b.disabled = A.linear && i < A.furthest;
    if (current) b.setAttribute('aria-current', 'step'); else b.removeAttribute('aria-current');
    const bits = [`Câu ${it.number}`, st === 'answered' ? 'đã trả lời' : st === 'partial' ? 'trả lời chưa đủ' : 'chưa trả lời'];
    if (flagged) bits.push('đánh dấu xem lại');
    if (current) bits.push('đang xem');
    b.setAttribute('aria-label', bits.join(', '));
  }
  function refreshNavigator() {
    if (!A) return;
    for (const it of A.items) refreshNavItem(it.ref);
    updateIndicator();
  }
  function closeNavOnPhone() {
    const nav = $('navigator');
    if (nav.classList.contains('open')) {
      nav.classList.remove('open');
      $('nav-toggle').setAttribute('aria-expanded', 'false');
    }
  }

  // ---------------------------------------------------------------- question
  function goTo(i, focusHeading) {
    if (!A || !A.items.length) return;
    if (A.linear && i < A.furthest) i = A.furthest;
    A.index = Math.max(0, Math.min(A.items.length - 1, i));
    if (A.linear) A.furthest = Math.max(A.furthest, A.index);
    if (A.nextMissing) { A.nextMissing = false; showNotice($('test-alert'), ''); }
    ss.set(K.pos + A.id, String(A.index));
    const it = A.items[A.index];
    const parts = (A.view.payload && A.view.payload.parts) || [];
    const part = parts.find((p) => p.part === it.part);
    $('q-part').textContent = part ? part.title : '';
    $('q-heading').textContent = `Câu ${it.number}` + (it.points ? ` (${decimalVi(it.points)} điểm)` : '');
    $('q-stem').replaceChildren(it.kind === 'QTI' ? '' : R.html(it.stem, { asset: assetOf(it) }), el('p', { class: 'hint', text: A.linear ? 'Đề làm lần lượt: sang câu sau thì không quay lại câu này được.' : HINTS[it.kind] || '' }));
    $('question').dataset.kind = it.kind;
    $('question').dataset.ref = it.ref;
    renderAnswer();
    const flagged = A.flags.has(it.ref);
    $('q-flag').setAttribute('aria-pressed', flagged ? 'true' : 'false');
    $('q-flag').textContent = flagged ? 'Bỏ đánh dấu xem lại' : 'Đánh dấu xem lại';
    $('q-prev').disabled = A.index === 0 || A.linear;
    $('q-next').disabled = A.index === A.total - 1 || !!A.advancing;
    $('q-pos').textContent = `Câu ${A.index + 1}/${A.total}`;
    refreshNavigator();
    if (focusHeading) $('q-heading').focus();
  }

  function renderAnswer() {
    if (!A) return;
    const it = A.items[A.index];
    const box = $('q-answer');
    const v = answerOf(it.ref);
    const name = 'ans-' + it.ref;
    const nodes = [el('legend', { class: 'sr-only', text: `Câu trả lời câu ${it.number}` }),
      ...R.controls(it, v, { name, asset: assetOf(it) })];
    box.replaceChildren(...nodes);
    box.disabled = A.locked;
    $('q-clear').disabled = A.locked || answerState(it) === 'empty';
  }

  /* Item images (a native item's media/ files, a QTI item's assets) come
   * from the attempt's asset route with the bearer token, as data: URLs
   * (the only non-same-origin images the CSP allows). */
  function assetOf(it) {
    const att = A;
    return (path) => R.fetchImage(`${API}/attempts/${encodeURIComponent(att.id)}/assets/${encodeURIComponent(it.ref)}/` +
      path.split('/').map(encodeURIComponent).join('/'));
  }

  function onAnswerEvent(ev) {
    if (!A || A.locked) return;
    const it = A.items[A.index];
    const t = ev.target;
    const box = $('q-answer');
    if (it.kind === 'MCQ4' && ev.type === 'change' && t.type === 'radio') {
      setAnswer(it.ref, t.value, false);
    } else if (it.kind === 'MR' && ev.type === 'change' && t.type === 'checkbox') {
      const ids = Array.from(box.querySelectorAll('input[type=checkbox]')).filter((c) => c.checked).map((c) => c.value);
      setAnswer(it.ref, ids.length ? ids : null, false);
    } else if (it.kind === 'TF4' && ev.type === 'change' && t.type === 'radio') {
      const obj = {};
      for (const r of box.querySelectorAll('input[type=radio]:checked')) obj[r.dataset.statement] = r.value === 'true';
      setAnswer(it.ref, Object.keys(obj).length ? obj : null, false);
    } else if (it.kind === 'QTI') {
      if (ev.type === 'change' && t.type === 'checkbox') { const m = R.limitChoices(t); if (m) announce(m); }
      const text = ev.type === 'input' && (t.tagName === 'TEXTAREA' || t.type === 'text');
      if (!text && ev.type !== 'change') return;
      setAnswer(it.ref, R.qtiResponse(box), text);
    } else if ((it.kind === 'SHORT' || it.kind === 'ESSAY') && ev.type === 'input') {
      const text = t.value;
      setAnswer(it.ref, text.trim() === '' ? null : text, true);
      if (it.kind === 'ESSAY') { const c = $(t.id + '-count'); if (c) c.textContent = `${text.length}/6600 ký tự`; }
    } else {
      return;
    }
    $('q-clear').disabled = answerState(it) === 'empty';
  }

  function onClear() {
    if (!A || A.locked) return;
    const it = A.items[A.index];
    setAnswer(it.ref, null, false);
    renderAnswer();
    refreshNavItem(it.ref);
    announce(`Đã xoá câu trả lời câu ${it.number}.`);
    $('q-heading').focus();
  }

  function onFlag() {
    if (!A) return;
    const it = A.items[A.index];
    if (A.flags.has(it.ref)) A.flags.delete(it.ref); else A.flags.add(it.ref);
    saveFlags();
    const on = A.flags.has(it.ref);
    $('q-flag').setAttribute('aria-pressed', on ? 'true' : 'false');
    $('q-flag').textContent = on ? 'Bỏ đánh dấu xem lại' : 'Đánh dấu xem lại';
    refreshNavItem(it.ref);
    announce(on ? `Đã đánh dấu câu ${it.number} để xem lại.` : `Đã bỏ đánh dấu câu ${it.number}.`);
  }

  // ---------------------------------------------------------------- submit
  function openSubmit() {
    if (!A || A.locked) return;
    const missing = A.items.filter((it) => answerState(it) !== 'answered');
    // A linear test: the items not received yet are unanswered too.
    for (let n = A.items.length + 1; n <= A.total; n++) missing.push({ number: n });
    const flagged = A.items.filter((it) => A.flags.has(it.ref));
    const list = (xs) => xs.map((it) => it.number).join(', ');
    const sum = $('submit-summary');
    const parts = [el('p', { text: `Em đã trả lời ${A.total - missing.length}/${A.total} câu.` })];
    parts.push(el('p', { 'data-count': 'unanswered', text: missing.length ? `Còn ${missing.length} câu chưa trả lời (hoặc chưa đủ các ý): câu ${list(missing)}.` : 'Em đã trả lời tất cả các câu.' }));
    parts.push(el('p', { 'data-count': 'flagged', text: flagged.length ? `${flagged.length} câu đang đánh dấu xem lại: câu ${list(flagged)}.` : 'Không có câu nào đang đánh dấu xem lại.' }));
    const refused = A.items.filter((it) => { const e = A.journal.answers[it.ref]; return e && e.rejected; });
    if (refused.length) parts.push(el('p', { class: 'notice error', text: `Máy chủ không nhận câu trả lời của câu ${list(refused)}; câu đó sẽ được tính theo câu trả lời đã lưu trước đó (nếu có).` }));
    parts.push(el('p', { class: 'strong', text: 'Sau khi nộp, em không thể sửa bài nữa.' }));
    sum.replaceChildren(...parts);
    showNotice($('submit-error'), '');
    $('submit-confirm').disabled = false;
    $('submit-confirm').textContent = 'Nộp bài';
    $('submit-dialog').showModal();
  }

  /* "Nộp bài" in the dialog: send what is pending, then submit. Until the
   * submit request leaves, "Quay lại làm tiếp" (or Esc) calls it off; the
   * pending answers are still sent as usual. */
  async function confirmSubmit() {
    if (!A) return;
    const att = A, btn = $('submit-confirm');
    const run = att.submitRun = { cancelled: false, posting: false };
    btn.disabled = true;
    btn.textContent = 'Đang lưu…';
    showNotice($('submit-error'), '');
    const ok = await flush(8000, () => run.cancelled);
    if (att !== A || run.cancelled) return;
    if (!ok) {
      const n = pendingCount();
      showNotice($('submit-error'), `Chưa lưu được ${n} câu trả lời vì mất kết nối. Bài chưa được nộp; câu trả lời vẫn được giữ trên máy này. Em kiểm tra kết nối rồi bấm Nộp bài lần nữa.`);
      btn.disabled = false;
      btn.textContent = 'Nộp bài';
      return;
    }
    btn.textContent = 'Đang nộp…';
    run.posting = true; // on its way: no calling it back now
    $('submit-cancel').disabled = true;
    let r;
    try {
      r = await api('POST', `/attempts/${encodeURIComponent(att.id)}/submit`, {});
    } catch (e) {
      r = null;
    }
    run.posting = false;
    $('submit-cancel').disabled = false;
    if (att !== A) return;
    if (r && r.status === 401) { $('submit-dialog').close(); sessionExpired(); return; }
    if (!r || r.status !== 200 || !r.data) {
      showNotice($('submit-error'), r ? errText(r, 'Chưa nộp được bài.') : `Chưa nộp được bài: ${TEXT.network}`);
      btn.disabled = false;
      btn.textContent = 'Nộp bài';
      return;
    }
    $('submit-dialog').close();
    leaveAttempt();
    forgetAttemptLocally(r.data.id);
    showDone(r.data);
  }

  // ---------------------------------------------------------------- done
  let doneId = null, scoreWait = null;
  /* A submit is acknowledged before it is scored: when the score is to be
   * shown (results released) but not stored yet, the attempt is fetched
   * again with backoff (0.5 s doubling to 8 s) until it is. */
  function awaitScore(view, lost, delay) {
    clearTimeout(scoreWait);
    const id = String(view.id);
    scoreWait = setTimeout(async () => {
      if (doneId !== id) return;
      let r = null;
      try { r = await api('GET', `/attempts/${encodeURIComponent(id)}`); } catch (e) { r = null; }
      if (doneId !== id) return;
      if (r && r.status === 401) { sessionExpired(); return; }
      if (r && r.status === 200 && r.data && r.data.scored) showDone(r.data, lost);
      else awaitScore(view, lost, Math.min(delay * 2, 8000));
    }, delay);
  }
  function showDone(view, lost) {
    clearTimeout(scoreWait);
    doneId = String(view.id);
    ss.set(K.attempt, doneId);
    show('done');
    $('view-done').classList.toggle('with-review', !!(view.result && Array.isArray(view.review) && view.review.length));
    const test = (view.payload && view.payload.test) || {};
    document.title = 'Đã nộp bài — kiemtra';
    const bits = [`Bài “${test.title || 'kiểm tra'}”`];
    if (view.form_code) bits.push(` (mã đề ${view.form_code})`);
    bits.push(view.submitted_at ? ` đã được nộp lúc ${when(view.submitted_at, timeFmt)}.` : ' đã được nộp.');
    if (view.submitted_by === 'auto') bits.push(' Hết giờ — bài làm đã được nộp tự động.');
    if (lost) bits.push(` Có ${lost} câu trả lời chưa kịp lưu trước khi hết giờ.`);
    $('done-info').textContent = bits.join('');
    const res = $('done-result');
    if (view.result) {
      const r = view.result;
      const score = el('p', { class: 'score' }, 'Điểm của em: ', el('strong', { id: 'score-value', text: decimalVi(r.score) }),
        ` / ${decimalVi(r.max_score)}`);
      const kids = [el('h2', { text: 'Kết quả' }), score];
      if (r.needs_marking) kids.push(el('p', { class: 'notice', text: 'Một số câu tự luận đang chờ thầy cô chấm; điểm có thể thay đổi.' }));
      if (Array.isArray(view.review) && view.review.length) kids.push(reviewOf(view));
      res.replaceChildren(...kids);
      res.hidden = false;
      $('done-wait').hidden = true;
    } else {
      res.hidden = true;
      $('done-wait').hidden = false;
      if (view.results_released && view.scored === false) {
        $('done-wait').textContent = 'Bài đã nộp. Đang chấm điểm…';
        awaitScore(view, lost, 500);
      } else {
        $('done-wait').textContent = view.results_released ? 'Bài của em đang được chấm. Em xem lại sau ít phút.' : 'Kết quả sẽ hiển thị ở đây khi thầy cô công bố.';
      }
    }
    $('done-title').focus();
  }

  /* The review after release (view.review, one entry per question in the
   * form's order): the question drawn read-only by the shared renderer with
   * the student's answer, right / wrong or the points, and, as the teacher
   * released them, the correct answer (in this form's letters), the
   * explanation, the model answer and the rubric; the teacher's comment. */
  const RESULT = { correct: ['Đúng', 'ok'], partial: ['Đúng một phần', 'partial'], incorrect: ['Sai', 'bad'], pending: ['Đang chờ chấm', 'pending'] };
  function shownText(kind, v) {
    if (v === null || v === undefined) return '';
    if (kind === 'TF4' && typeof v === 'object') return Object.entries(v).map(([k, x]) => `${k}) ${x === true ? 'Đúng' : x === false ? 'Sai' : '—'}`).join('; ');
    if (Array.isArray(v)) return v.join(', ');
    return kind === 'SHORT' ? decimalVi(v) : String(v);
  }
  function reviewOf(view) {
    const items = new Map(((view.payload && view.payload.items) || []).map((it) => [it.ref, it]));
    const level = view.release_show || 'score';
    const sec = el('section', { class: 'review', 'aria-labelledby': 'review-title' },
      el('h2', { id: 'review-title', text: 'Xem lại bài làm' }),
      el('p', { class: 'hint', text: level === 'explanations' ? 'Thầy cô đã công bố điểm, đáp án và lời giải.' : level === 'answers' ? 'Thầy cô đã công bố điểm và đáp án.' : 'Thầy cô đã công bố điểm từng câu.' }));
    const att = view.id;
    for (const q of view.review) {
      const it = items.get(q.ref) || { ref: q.ref, kind: q.kind, stem: '' };
      const [word, cls] = RESULT[q.result] || RESULT.pending;
      const pts = q.points !== undefined ? `${decimalVi(q.points)} / ${decimalVi(q.max_points)} điểm` : `tối đa ${decimalVi(q.max_points)} điểm`;
      const art = el('article', { class: `review-q result-${cls}`, 'data-ref': q.ref, 'aria-labelledby': `rv-h-${q.ref}` },
        el('h3', { id: `rv-h-${q.ref}` }, `Câu ${q.number}`, el('span', { class: `rv-badge ${cls}`, text: word }), el('span', { class: 'rv-points', text: pts })));
      const asset = (path) => R.fetchImage(`${API}/attempts/${encodeURIComponent(att)}/assets/${encodeURIComponent(q.ref)}/` + path.split('/').map(encodeURIComponent).join('/'));
      const node = window.KT.renderItem(it, q.response === undefined ? null : q.response, { disabled: true, hint: false, name: 'rv-' + q.ref, label: `Câu trả lời của em, câu ${q.number}`, asset });
      // Marks the options: the one chosen and, when released, the right ones.
      const keyLetters = q.key_shown === undefined ? null : [].concat(q.key_shown);
      if (['MCQ4', 'MR'].includes(it.kind)) {
        node.querySelectorAll('label.opt').forEach((lab, i) => {
          const letter = String.fromCharCode(65 + i);
          if (keyLetters && keyLetters.includes(letter)) { lab.classList.add('is-key'); lab.append(el('span', { class: 'rv-mark', text: 'Đáp án đúng' })); }
        });
      }
      art.append(node);
      const facts = el('dl', { class: 'rv-facts' });
      const fact = (dt, dd) => facts.append(el('dt', { text: dt }), el('dd', {}, dd));
      if (['MCQ4', 'MR', 'TF4'].includes(it.kind)) fact('Em đã chọn', shownText(it.kind, q.response_shown) || 'Chưa trả lời');
      if (it.kind === 'SHORT') fact('Em đã trả lời', q.response ? decimalVi(q.response) : 'Chưa trả lời');
      if (q.key_shown !== undefined) fact('Đáp án đúng', shownText(it.kind, q.key_shown));
      if (facts.children.length) art.append(facts);
      if (Array.isArray(q.rubric)) {
        art.append(el('h4', { text: 'Điểm theo hướng dẫn chấm' }), el('ul', { class: 'rv-rubric' }, ...q.rubric.map((c) =>
          el('li', {}, el('span', { text: c.criterion }), el('strong', { text: ` ${c.given !== undefined ? decimalVi(c.given) : '—'} / ${decimalVi(c.points)}` })))));
      }
      if (q.comment) art.append(el('div', { class: 'rv-comment' }, el('h4', { text: 'Nhận xét của thầy cô' }), el('p', { text: q.comment })));
      for (const [k, title] of [['explanation', 'Lời giải'], ['model_answer', 'Bài giải mẫu']]) {
        if (!q[k]) continue;
        const body = el('div', { class: 'rv-html' });
        body.append(R.html(q[k], { asset }));
        art.append(el('div', { class: 'rv-expl' }, el('h4', { text: title }), body));
      }
      sec.append(art);
    }
    return sec;
  }

  async function refreshDone() {
    if (!doneId) return;
    const btn = $('done-refresh');
    btn.disabled = true;
    try {
      const r = await api('GET', `/attempts/${encodeURIComponent(doneId)}`);
      if (r.status === 401) { sessionExpired(); return; }
      if (r.status === 200 && r.data) showDone(r.data);
      else announce(errText(r));
    } catch (e) {
      announce(TEXT.network, true);
    } finally {
      btn.disabled = false;
    }
  }

  // ---------------------------------------------------------------- boot
  function cleanupJournals() {
    const now = Date.now();
    for (const k of ls.keys()) {
      if (!k.startsWith(K.journal)) continue;
      const j = ls.json(k);
      const age = j && j.updated ? now - j.updated : Infinity;
      const pending = j && j.answers ? Object.values(j.answers).some(isPending) : false;
      if (age > (pending ? 30 : 3) * 86400000) {
        ls.del(k);
        ls.del(K.flags + k.slice(K.journal.length));
      }
    }
  }

  function wire() {
    $('login-form').addEventListener('submit', onLogin);
    $('login-mode').addEventListener('click', () => { setLoginMode(!codeMode); $('login-pass').focus(); });
    $('logout').addEventListener('click', onLogout);
    $('sessions-refresh').addEventListener('click', showSessions);
    $('q-answer').addEventListener('change', onAnswerEvent);
    $('q-answer').addEventListener('input', onAnswerEvent);
    const step = (d) => {
      if (!A) return;
      if (A.linear && d > 0 && A.index === A.items.length - 1) { advance(); return; }
      goTo(A.index + d, false);
      announce($('q-heading').textContent); // focus stays on the button
    };
    $('q-prev').addEventListener('click', () => step(-1));
    $('q-next').addEventListener('click', () => step(1));
    $('q-flag').addEventListener('click', onFlag);
    $('q-clear').addEventListener('click', onClear);
    $('submit-open').addEventListener('click', openSubmit);
    const callOff = () => { if (A && A.submitRun && !A.submitRun.posting) A.submitRun.cancelled = true; };
    $('submit-cancel').addEventListener('click', () => { callOff(); $('submit-dialog').close(); });
    $('submit-dialog').addEventListener('cancel', (e) => { if (A && A.submitRun && A.submitRun.posting) e.preventDefault(); else callOff(); });
    $('submit-confirm').addEventListener('click', confirmSubmit);
    $('done-refresh').addEventListener('click', refreshDone);
    $('done-back').addEventListener('click', () => { doneId = null; showSessions(); });
    $('nav-toggle').addEventListener('click', () => {
      const nav = $('navigator');
      const open = !nav.classList.contains('open');
      nav.classList.toggle('open', open);
      $('nav-toggle').setAttribute('aria-expanded', open ? 'true' : 'false');
    });
    window.addEventListener('online', () => { if (A) { A.offline = false; retryNow(); resync(); } });
    window.addEventListener('offline', () => { if (A) { A.offline = true; updateIndicator(); } });
    document.addEventListener('visibilitychange', () => { if (A && document.visibilityState === 'visible') { A.lastSecond = null; tick(); resync(); } });
    window.addEventListener('pageshow', (e) => { if (e.persisted && A) resync(); });
    window.addEventListener('storage', (e) => {
      // Another tab of the same attempt changed the journal: take its newer entries.
      if (!A || e.key !== K.journal + A.id || !e.newValue) return;
      try {
        const other = JSON.parse(e.newValue);
        A.journal.seq = Math.max(A.journal.seq, other.seq || 0);
        for (const [ref, oe] of Object.entries(other.answers || {})) {
          const mine = A.journal.answers[ref];
          if (!mine || oe.seq > mine.seq) A.journal.answers[ref] = oe;
        }
        renderAnswer();
        refreshNavigator();
      } catch (err) { /* ignore a torn value */ }
    });
  }

  function registerWorker() {
    // Keeps the page itself available for a reload while the network is down.
    if ('serviceWorker' in navigator && window.isSecureContext) {
      navigator.serviceWorker.register('/student/sw.js', { scope: '/student/' }).catch(() => {});
    }
  }

  function boot() {
    wire();
    registerWorker();
    cleanupJournals();
    if (!ss.get(K.token)) { showLogin(); return; }
    const aid = ss.get(K.attempt);
    if (aid) openAttempt(aid); else showSessions();
  }

  boot();
})();

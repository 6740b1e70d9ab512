/*
 * kiemtra — the live monitor of a session (#/sessions/:id/monitor): the
 * test, the window, the access code in large digits for the proctor to read
 * out, counts per state, and one row per student of the session's classes
 * (also those not started) with state, answered x/y, last seen, time left
 * (counted down locally between polls from the server's clock) and extra
 * time. Polls every 5 s with If-None-Match (the server answers 304 when
 * nothing changed). Actions per row: extra time, reopen a submitted attempt
 * (reason required), submit on the student's behalf.
 */
'use strict';

(function () {
  const KT = window.KT;
  const { el } = KT;
  const AUTHORS = ['teacher', 'subject_head', 'school_admin'];
  const POLL_MS = 5000;
  const STATE = { not_started: 'Chưa vào', in_progress: 'Đang làm', submitted: 'Đã nộp', auto_submitted: 'Tự nộp khi hết giờ' };
  const BADGE = { not_started: 'draft', in_progress: 'submitted', submitted: 'approved', auto_submitted: 'retired' };

  const pad = (n) => String(n).padStart(2, '0');
  function clock(secs) {
    if (secs === null || secs === undefined) return '—';
    const s = Math.max(0, Math.floor(secs));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
  }
  function ago(iso, now) {
    if (!iso) return '—';
    const d = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
    if (d < 60) return 'vừa xong';
    if (d < 3600) return `${Math.floor(d / 60)} phút trước`;
    if (d < 86400) return `${Math.floor(d / 3600)} giờ trước`;
    return KT.formatLocal(iso);
  }
  const norm = (t) => (t || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd').replace(/Đ/g, 'D').toLowerCase();

  KT.route('/sessions/:id/monitor', {
    title: 'Theo dõi phiên kiểm tra', nav: 'sessions', roles: AUTHORS,
    render: async (root, params, query, ctx) => {
      const sid = encodeURIComponent(params.id);
      let data = null, etag = null, offset = 0, timer = null, tick = null;
      const first = await KT.api('GET', `/sessions/${sid}/monitor`);
      if (!first.ok) { const m = el('p'); root.append(m); KT.showError(m, first); return; }

      const head = el('section', { class: 'panel monitor-head' });
      const counts = el('ul', { class: 'monitor-counts', 'aria-label': 'Số học sinh theo trạng thái' });
      const status = el('p', { class: 'hint monitor-status', role: 'status', 'aria-live': 'polite' });
      const msg = el('p', { class: 'notice', hidden: true });
      const stateSel = KT.select('state', [['', 'Tất cả'], ...Object.entries(STATE)], query.get('state') || '');
      const search = el('input', { type: 'search', name: 'q', autocomplete: 'off', placeholder: 'Tên hoặc mã học sinh', value: query.get('q') || '' });
      const filters = el('form', { class: 'row panel filters', role: 'search', 'aria-label': 'Lọc học sinh' },
        KT.field('Trạng thái', stateSel), KT.field('Tìm học sinh', search));
      filters.addEventListener('submit', (ev) => ev.preventDefault());
      const tbody = el('tbody');
      const table = el('table', { class: 'data monitor-table' },
        el('caption', { class: 'sr-only', text: 'Học sinh của phiên kiểm tra' }),
        el('thead', {}, el('tr', {}, ...['Học sinh', 'Lớp', 'Trạng thái', 'Đã làm', 'Lần cuối', 'Còn lại', 'Thêm giờ', 'Thao tác']
          .map((h, i) => el('th', { scope: 'col', class: [3, 5, 6].includes(i) ? 'num' : '', text: h })))),
        tbody);
      const shown = el('p', { class: 'hint', 'aria-live': 'polite' });
      root.append(head, counts, status, msg, filters, shown, el('div', { class: 'table-wrap' }, table));

      const serverNow = () => Date.now() + offset;
      function timeLeft(s) {
        if (s.state !== 'in_progress' || !s.deadline) return null;
        return (Date.parse(s.deadline) - serverNow()) / 1000;
      }

      function drawHead() {
        const t = data.test || {};
        ctx.setTitle(`Theo dõi: ${t.title || 'phiên #' + data.session_id}`);
        const code = data.access_code
          ? el('div', { class: 'access-code' }, el('span', { class: 'label', text: 'Mã vào phòng' }), el('strong', { class: 'code', 'aria-label': 'Mã vào phòng ' + data.access_code.split('').join(' '), text: data.access_code }))
          : el('p', { class: 'hint', text: 'Phiên không dùng mã vào phòng.' });
        head.replaceChildren(
          el('div', { class: 'monitor-facts' },
            el('h2', { text: t.title || '' }),
            el('p', {}, `Mở ${KT.formatLocal(data.opens_at)} — đóng ${KT.formatLocal(data.closes_at)}`, t.duration_seconds ? ` · ${Math.round(t.duration_seconds / 60)} phút` : '', ` · ${data.items_total} câu`),
            data.allowed_cidrs ? el('p', { class: 'hint', text: 'Chỉ bắt đầu được từ: ' + data.allowed_cidrs.join(', ') }) : '',
            el('p', {}, el('a', { href: `#/sessions/${data.session_id}`, text: 'Về trang phiên kiểm tra' }))),
          code);
        const c = data.counts || {};
        counts.replaceChildren(...['not_started', 'in_progress', 'submitted', 'auto_submitted'].map((k) =>
          el('li', { class: `count-${k}` }, el('span', { class: `badge ${BADGE[k]}`, text: STATE[k] }), ' ', el('strong', { text: String(c[k] || 0) }))),
        el('li', {}, 'Tổng ', el('strong', { text: String(c.total || 0) })),
        c.needs_marking ? el('li', {}, el('span', { class: 'badge submitted', text: 'Cần chấm' }), ' ', el('strong', { text: String(c.needs_marking) })) : '');
      }

      function actionButtons(s) {
        const box = el('span', { class: 'row-actions' });
        const who = s.full_name || s.student_code;
        const btn = (label, act, fn, cls) => {
          const b = el('button', { type: 'button', class: cls || '', text: label, 'aria-label': `${label}: ${who}` });
          b.dataset.key = `${s.student_id}:${act}`;
          b.addEventListener('click', () => fn(s));
          box.append(b);
        };
        if (s.state === 'in_progress') {
          btn('Thêm giờ', 'extra', extraTime);
          btn('Nộp hộ', 'force', forceSubmit, 'danger');
        } else if (s.state === 'submitted' || s.state === 'auto_submitted') {
          if (!data.results_released) btn('Mở lại bài', 'reopen', reopen);
        }
        return box;
      }

      function drawRows() {
        const want = stateSel.value, q = norm(search.value.trim());
        const list = (data.students || []).filter((s) => (!want || s.state === want)
          && (!q || norm(s.full_name).includes(q) || norm(s.student_code).includes(q)));
        const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : null;
        const now = serverNow();
        tbody.replaceChildren(...list.map((s) => {
          const tr = el('tr', { 'data-student': String(s.student_id), class: `st-${s.state}` },
            el('td', {}, el('span', { class: 'name', text: s.full_name || '' }), s.student_code ? el('span', { class: 'hint code', text: ` ${s.student_code}` }) : ''),
            el('td', { text: s.class || '' }),
            el('td', {}, el('span', { class: `badge ${BADGE[s.state]}`, text: STATE[s.state] || s.state })),
            el('td', { class: 'num answered', text: `${s.answered}/${s.items_total}` }),
            el('td', { class: 'seen', 'data-at': s.last_seen_at || '', text: s.attempt_id ? ago(s.last_seen_at, now) : '—' }),
            el('td', { class: 'num left', text: clock(timeLeft(s)) }),
            el('td', { class: 'num extra', text: s.extra_seconds ? `+${Math.round(s.extra_seconds / 60)} phút` : '—' }),
            el('td', { class: 'actions-cell' }, actionButtons(s)));
          tr._s = s;
          return tr;
        }));
        KT.stackTable(table);
        shown.textContent = list.length === (data.students || []).length ? `${list.length} học sinh` : `Đang hiện ${list.length} / ${(data.students || []).length} học sinh`;
        if (focused) { const b = tbody.querySelector(`[data-key="${focused}"]`); if (b) b.focus(); }
      }

      function countdown() {
        const now = serverNow();
        for (const tr of tbody.children) {
          const s = tr._s;
          if (!s) continue;
          const left = tr.querySelector('.left');
          if (s.state === 'in_progress') left.textContent = clock(timeLeft(s));
          const seen = tr.querySelector('.seen');
          if (s.attempt_id) seen.textContent = ago(s.last_seen_at, now);
        }
      }

      function take(r) {
        data = r.data;
        etag = r.etag || null;
        if (data.server_time) offset = Date.parse(data.server_time) - Date.now();
        drawHead();
        drawRows();
      }

      async function poll(force) {
        if (ctx.stale()) return stop();
        const r = await KT.api('GET', `/sessions/${sid}/monitor`, undefined, { headers: force || !etag ? {} : { 'If-None-Match': etag } });
        if (ctx.stale()) return stop();
        const t = new Date();
        if (r.status === 304) {
          status.textContent = `Không có thay đổi · kiểm tra lúc ${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
        } else if (r.ok) {
          take(r);
          status.textContent = `Cập nhật lúc ${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
        } else {
          status.textContent = (r.error && r.error.message) || 'Không tải được dữ liệu; sẽ thử lại.';
        }
        return undefined;
      }
      function stop() { clearInterval(timer); clearInterval(tick); timer = tick = null; }

      async function act(promise, done) {
        const r = await promise;
        if (!r.ok) { KT.showError(msg, r); return false; }
        msg.hidden = true;
        KT.toast(done);
        await poll(true);
        return true;
      }

      async function extraTime(s) {
        const mins = el('input', { type: 'number', name: 'minutes', min: '1', max: '240', step: '1', value: '5', inputMode: 'numeric' });
        const v = await KT.dialog({
          title: `Thêm giờ cho ${s.full_name}`,
          body: el('div', {}, el('p', { text: `Hiện đã cộng ${Math.round((s.extra_seconds || 0) / 60)} phút; còn lại ${clock(timeLeft(s))}.` }), KT.field('Cộng thêm (phút)', mins)),
          actions: [{ label: 'Quay lại', value: null }, { label: 'Thêm giờ', value: 'yes', primary: true }],
          validate: () => (/^\d+$/.test(mins.value) && +mins.value >= 1 && +mins.value <= 240 ? '' : 'Số phút từ 1 đến 240.'),
        });
        if (v !== 'yes') return;
        const extra = (s.extra_seconds || 0) + Number(mins.value) * 60;
        await act(KT.api('PATCH', `/attempts/${s.attempt_id}`, { extra_seconds: extra }), `Đã thêm ${mins.value} phút cho ${s.full_name}.`);
      }

      async function reopen(s) {
        const reason = el('textarea', { name: 'reason', class: 'short', maxLength: 500, required: true });
        const mins = el('input', { type: 'number', name: 'minutes', min: '1', max: '240', step: '1', inputMode: 'numeric' });
        const v = await KT.dialog({
          title: `Mở lại bài của ${s.full_name}`,
          body: el('div', {},
            el('p', { text: 'Bài làm trở lại trạng thái đang làm; điểm đã chấm bị xoá và sẽ chấm lại khi học sinh nộp. Việc này được ghi nhật ký.' }),
            KT.field('Lí do', reason),
            KT.field('Số phút làm tiếp', mins, 'Bỏ trống: bằng thời gian còn lại lúc nộp.')),
          actions: [{ label: 'Quay lại', value: null }, { label: 'Mở lại bài', value: 'yes', primary: true }],
          validate: () => (!reason.value.trim() ? 'Cần nhập lí do mở lại.' : mins.value && !(+mins.value >= 1 && +mins.value <= 240) ? 'Số phút từ 1 đến 240.' : ''),
        });
        if (v !== 'yes') return;
        const body = { reason: reason.value.trim() };
        if (mins.value) body.minutes = Number(mins.value);
        await act(KT.api('POST', `/attempts/${s.attempt_id}/reopen`, body), `Đã mở lại bài của ${s.full_name}.`);
      }

      async function forceSubmit(s) {
        const ok = await KT.confirm(`Nộp hộ bài của ${s.full_name}?`, `Bài sẽ được nộp ngay với ${s.answered}/${s.items_total} câu đã làm; học sinh không làm tiếp được (trừ khi thầy cô mở lại bài).`, 'Nộp hộ', true);
        if (!ok) return;
        await act(KT.api('POST', `/attempts/${s.attempt_id}/force-submit`), `Đã nộp bài của ${s.full_name}.`);
      }

      stateSel.addEventListener('change', drawRows);
      search.addEventListener('input', KT.debounce ? KT.debounce(drawRows, 150) : drawRows);
      take(first);
      const t0 = new Date();
      status.textContent = `Cập nhật lúc ${pad(t0.getHours())}:${pad(t0.getMinutes())}:${pad(t0.getSeconds())} · tự làm mới mỗi 5 giây`;
      timer = setInterval(() => { poll(false); }, POLL_MS);
      tick = setInterval(() => { if (ctx.stale()) stop(); else countdown(); }, 1000);
    },
  });
})();

/*
 * kiemtra — marking (chấm bài): the queue of a session (#/sessions/:id/marking),
 * one line per question a teacher marks (essays, and any question with an
 * answer the engine could not score) with its progress, then question by
 * question (#/sessions/:id/marking/:ref): the question with its rubric and
 * model answer beside one student's answer, a mark per rubric criterion (or
 * one mark for the question when it has no rubric) in decimal comma, a
 * comment to the student, "Lưu và tiếp" (Enter, or Ctrl+Enter in the
 * comment) and the previous / next student (J / K or Alt+→ / Alt+←). Each
 * answer is saved by one request (PUT /attempts/{id}/marks/{ref}). Names can
 * be hidden while marking ("Ẩn tên học sinh khi chấm"), for fair marking.
 */
'use strict';

(function () {
  const KT = window.KT;
  const { el, decimalVi } = KT;
  const AUTHORS = ['teacher', 'subject_head', 'school_admin'];
  const ANON_KEY = 'kiemtra.marking.anon';
  const STATE = { needs_marking: 'chờ chấm', scoring_failed: 'không chấm tự động được', marked: 'đã chấm', scored: 'đã chấm tự động' };
  const BADGE = { needs_marking: 'submitted', scoring_failed: 'bad', marked: 'approved', scored: 'approved' };
  const ls = KT.store(window.localStorage);

  /* "0,25" or "0.25" -> "0.25"; null when it is not a decimal with at most two places. */
  function parseMark(text) {
    const t = String(text || '').trim().replace(',', '.');
    return /^\d+(\.\d{1,2})?$/.test(t) ? t : null;
  }
  const num = (s) => Number(String(s).replace(',', '.'));
  const round2 = (x) => Math.round(x * 100 + 1e-9) / 100;
  const vi = (x) => decimalVi(String(round2(x)));

  function progress(marked, total, label) {
    return el('div', { class: 'mark-progress' },
      el('progress', { max: String(Math.max(total, 1)), value: String(marked), 'aria-label': label || 'Tiến độ chấm' }),
      el('span', { class: 'mark-progress-text', text: `Đã chấm ${marked}/${total}` }));
  }

  // ---------------------------------------------------------------- queue
  KT.route('/sessions/:id/marking', {
    title: 'Chấm bài', nav: 'sessions', roles: AUTHORS,
    render: async (root, params, query, ctx) => {
      const msg = el('p', { class: 'notice', hidden: true });
      root.append(msg);
      const r = await KT.api('GET', `/sessions/${encodeURIComponent(params.id)}/marking`);
      if (!r.ok) { KT.showError(msg, r); return; }
      const q = r.data;
      ctx.setTitle(`Chấm bài: ${q.test ? q.test.title : 'phiên #' + q.session_id}`);
      const total = q.to_mark + q.marked;
      root.append(el('p', { class: 'actions' }, el('a', { href: `#/sessions/${q.session_id}`, text: '← Về phiên kiểm tra' })));
      root.append(el('section', { class: 'panel mark-summary', 'aria-label': 'Tiến độ chung' },
        progress(q.marked, total, 'Tiến độ chấm cả phiên'),
        q.in_progress ? el('p', { class: 'hint', text: `Còn ${q.in_progress} bài chưa nộp; câu tự luận của các bài đó sẽ vào hàng chấm khi nộp.` }) : ''));
      if (!q.items.length) { KT.notice(msg, 'Đề này không có câu nào cần chấm tay.'); return; }
      const tb = el('tbody');
      for (const it of q.items) {
        const done = it.total > 0 && it.to_mark === 0;
        const label = it.to_mark ? `Chấm câu ${it.number}` : `Xem lại câu ${it.number}`;
        tb.append(el('tr', { 'data-ref': it.item_ref },
          el('td', { class: 'num', text: String(it.number) }),
          el('td', {}, el('span', { text: it.title || '' }),
            it.scoring_failed ? el('span', { class: 'badge bad', text: `${it.scoring_failed} bài không chấm tự động được` }) : ''),
          el('td', { text: KT.labels.kinds[it.kind] || it.kind }),
          el('td', { class: 'num', text: decimalVi(it.points) }),
          el('td', {}, progress(it.marked, it.total, `Tiến độ câu ${it.number}`)),
          el('td', { class: 'actions-cell' }, it.total
            ? el('a', { class: 'button' + (done ? '' : ' primary'), href: `#/sessions/${q.session_id}/marking/${encodeURIComponent(it.item_ref)}`, text: label })
            : el('span', { class: 'hint', text: 'Chưa có bài nào' }))));
      }
      root.append(el('div', { class: 'table-wrap' }, KT.stackTable(el('table', { class: 'data marking-queue' },
        el('caption', { class: 'sr-only', text: 'Các câu cần chấm' }),
        el('thead', {}, el('tr', {}, ...['Câu', 'Nội dung', 'Dạng', 'Điểm', 'Tiến độ', ''].map((h, i) =>
          el('th', { scope: 'col', class: i === 0 || i === 3 ? 'num' : '', text: h })))),
        tb))));
    },
  });

  // ---------------------------------------------------------------- one question
  let M = null; // the marker on screen (for the keyboard)

  KT.route('/sessions/:id/marking/:ref', {
    title: 'Chấm bài', nav: 'sessions', roles: AUTHORS,
    render: async (root, params, query, ctx) => {
      const msg = el('p', { class: 'notice', hidden: true });
      root.append(msg);
      const base = `/sessions/${encodeURIComponent(params.id)}/marking`;
      const r = await KT.api('GET', `${base}/${encodeURIComponent(params.ref)}`);
      if (!r.ok) { KT.showError(msg, r); return; }
      const d = r.data;
      const it = d.item;
      ctx.setTitle(`Chấm câu ${it.number}: ${it.title || ''}`);
      const qr = await KT.api('GET', base);
      const queue = qr.ok ? qr.data.items : [];
      const pos = queue.findIndex((x) => x.item_ref === it.item_ref);
      const nextItem = pos >= 0 ? queue.slice(pos + 1).find((x) => x.to_mark > 0) || queue.find((x, i) => i !== pos && x.to_mark > 0) : null;
      const m = {
        root, d, it, base, sessionId: params.id, nextItem,
        i: Math.max(0, d.answers.findIndex((a) => a.state !== 'marked' && a.state !== 'scored')),
        anon: ls.get(ANON_KEY) === '1',
      };
      if (query.get('i') && Number(query.get('i')) >= 1 && Number(query.get('i')) <= d.answers.length) m.i = Number(query.get('i')) - 1;
      M = m;
      root.classList.add('marking-screen');
      root.append(el('p', { class: 'actions mark-top' },
        el('a', { href: `#/sessions/${params.id}/marking`, text: '← Danh sách câu cần chấm' }),
        nextItem ? el('a', { href: `#/sessions/${params.id}/marking/${encodeURIComponent(nextItem.item_ref)}`, text: `Câu cần chấm tiếp: câu ${nextItem.number} →` }) : ''));
      const anon = el('input', { type: 'checkbox', id: 'mark-anon', checked: m.anon });
      anon.addEventListener('change', () => { m.anon = anon.checked; ls.set(ANON_KEY, m.anon ? '1' : '0'); showAnswer(m, false); });
      m.progress = el('div', { class: 'mark-progress-box', role: 'status', 'aria-live': 'polite' });
      root.append(el('div', { class: 'row mark-tools' }, m.progress,
        el('label', { class: 'check', for: 'mark-anon' }, anon, ' Ẩn tên học sinh khi chấm')),
      el('p', { class: 'hint mark-keys', id: 'mark-keys' },
        'Phím tắt: nhập điểm từng tiêu chí (Tab để sang ô sau), ', el('kbd', { text: 'Enter' }), ' lưu và sang bài sau (trong ô nhận xét: ',
        el('kbd', { text: 'Ctrl' }), '+', el('kbd', { text: 'Enter' }), '); ', el('kbd', { text: 'J' }), ' / ', el('kbd', { text: 'K' }),
        ' hoặc ', el('kbd', { text: 'Alt' }), '+', el('kbd', { text: '→' }), ' / ', el('kbd', { text: 'Alt' }), '+', el('kbd', { text: '←' }),
        ': bài sau / bài trước.'));
      // The question: stem (as the students saw it), rubric, model answer.
      const qbox = el('section', { class: 'panel mark-question', 'aria-labelledby': 'mark-q-title' },
        el('h2', { id: 'mark-q-title', text: `Câu ${it.number} · ${decimalVi(it.points)} điểm` }));
      const view = it.view || {};
      if (view.kind === 'QTI') qbox.append(el('p', { class: 'hint', text: 'Câu hỏi QTI: nội dung và câu trả lời của học sinh ở khung bên cạnh.' }));
      else if (view.stem) { const st = el('div', { class: 'stem' }); st.append(KT.renderer.html(view.stem)); qbox.append(st); }
      if (Array.isArray(view.options) && view.options.length) {
        qbox.append(el('ol', { class: 'mark-options', type: 'A' }, ...view.options.map((o) => { const li = el('li'); li.append(KT.renderer.html(o.html)); return li; })));
      }
      if (Array.isArray(it.rubric) && it.rubric.length) {
        const max = it.rubric.reduce((s, c) => s + num(c.points), 0);
        qbox.append(el('h3', { text: `Hướng dẫn chấm (${vi(max)} điểm)` }),
          el('ol', { class: 'mark-rubric' }, ...it.rubric.map((c) => el('li', {}, el('span', { text: c.criterion }), el('strong', { text: ` (${decimalVi(c.points)} đ)` })))));
        if (Math.abs(max - num(it.points)) > 1e-9) qbox.append(el('p', { class: 'hint', text: `Điểm theo hướng dẫn chấm được quy ra ${decimalVi(it.points)} điểm của câu trong đề.` }));
      }
      if (it.model_answer) {
        const ma = el('div', { class: 'mark-model' });
        ma.append(KT.renderer.html(it.model_answer));
        qbox.append(el('details', { class: 'mark-model-box', open: true }, el('summary', { text: 'Bài giải mẫu' }), ma));
      }
      m.answerBox = el('section', { class: 'panel mark-answer', 'aria-labelledby': 'mark-who' });
      root.append(el('div', { class: 'mark-layout' }, qbox, m.answerBox));
      if (!d.answers.length) { m.answerBox.append(el('p', { class: 'notice', text: 'Chưa có bài nào cần chấm ở câu này.' })); return; }
      showAnswer(m, true);
    },
  });

  function counts(m) {
    const marked = m.d.answers.filter((a) => a.state === 'marked').length;
    return { marked, total: m.d.answers.length };
  }

  function showAnswer(m, focus) {
    const a = m.d.answers[m.i];
    const it = m.it;
    const n = m.d.answers.length;
    const c = counts(m);
    m.progress.replaceChildren(progress(c.marked, c.total, `Tiến độ chấm câu ${it.number}`));
    const who = m.anon ? `Bài số ${m.i + 1}` : `${a.full_name} (${a.student_code || '—'}${a.class ? ', lớp ' + a.class : ''})`;
    const box = m.answerBox;
    box.replaceChildren();
    box.append(el('div', { class: 'mark-head' },
      el('h2', { id: 'mark-who', tabIndex: -1, text: `Bài ${m.i + 1}/${n}: ${who}` }),
      el('span', { class: `badge ${BADGE[a.state] || ''} mark-state`, text: STATE[a.state] || a.state })));
    if (a.state === 'scoring_failed' || a.error) {
      box.append(el('p', { class: 'notice warn', role: 'note' }, el('strong', { text: 'Không chấm tự động được: ' }), a.error || 'không rõ lí do', '. Thầy cô chấm tay câu trả lời này.'));
    }
    const ans = el('div', { class: 'mark-response', 'aria-label': 'Câu trả lời của học sinh' });
    const view = it.view || {};
    if (it.kind === 'ESSAY' || view.kind === 'ESSAY') {
      if (a.answer_html) ans.append(KT.safeHTML(a.answer_html)); else ans.append(el('p', { class: 'hint', text: '(Học sinh để trống)' }));
    } else if (view.kind) {
      ans.append(KT.renderItem(view, a.response, { disabled: true, hint: false, name: 'mk-' + a.attempt_id, label: 'Câu trả lời của học sinh' }));
      if (a.answer_text) ans.append(el('p', { class: 'hint' }, 'Dữ liệu đã lưu: ', el('code', { text: a.answer_text })));
    } else {
      ans.append(el('p', { text: a.answer_text || '(Học sinh để trống)' }));
    }
    box.append(el('h3', { text: 'Bài làm' }), ans);

    // The marks.
    const form = el('form', { class: 'mark-form', novalidate: true, 'aria-describedby': 'mark-keys' });
    const rubric = Array.isArray(it.rubric) && it.rubric.length && it.kind === 'ESSAY' ? it.rubric : null;
    const inputs = [];
    const total = el('p', { class: 'mark-total', 'aria-live': 'polite' });
    const grid = el('div', { class: 'mark-criteria' });
    if (rubric) {
      rubric.forEach((cr, k) => {
        const id = `mark-c${k}`;
        const given = a.criteria && a.criteria[k] !== undefined && a.criteria[k] !== null ? decimalVi(a.criteria[k]) : '';
        const inp = el('input', { id, name: `criteria[${k}]`, class: 'mark-input', inputMode: 'decimal', autocomplete: 'off', value: given, 'data-max': cr.points, 'aria-describedby': id + '-max' });
        inputs.push(inp);
        grid.append(el('div', { class: 'field mark-criterion' },
          el('label', { for: id, text: `Tiêu chí ${k + 1}: ${cr.criterion}` }),
          el('div', { class: 'mark-input-row' }, inp, el('span', { id: id + '-max', class: 'mark-max', text: `/ ${decimalVi(cr.points)}` }))));
      });
    } else {
      const id = 'mark-points';
      const given = a.score !== null && a.score !== undefined && a.state === 'marked' ? decimalVi(a.score) : '';
      const inp = el('input', { id, name: 'points', class: 'mark-input', inputMode: 'decimal', autocomplete: 'off', value: given, 'data-max': it.points, 'aria-describedby': id + '-max' });
      inputs.push(inp);
      grid.append(el('div', { class: 'field mark-criterion' }, el('label', { for: id, text: 'Điểm của câu' }),
        el('div', { class: 'mark-input-row' }, inp, el('span', { id: id + '-max', class: 'mark-max', text: `/ ${decimalVi(it.points)}` }))));
    }
    const rubricMax = rubric ? rubric.reduce((s, cr) => s + num(cr.points), 0) : num(it.points);
    const showTotal = () => {
      const vals = inputs.map((i) => parseMark(i.value));
      if (vals.some((v) => v === null)) { total.textContent = 'Tổng: nhập đủ điểm các ô.'; return; }
      const got = vals.reduce((s, v) => s + Number(v), 0);
      const scaled = rubric ? round2(got * num(it.points) / rubricMax) : got;
      total.textContent = rubric && Math.abs(rubricMax - num(it.points)) > 1e-9
        ? `Tổng: ${vi(got)} / ${vi(rubricMax)} → ${vi(scaled)} / ${decimalVi(it.points)} điểm của câu`
        : `Tổng: ${vi(scaled)} / ${decimalVi(it.points)} điểm`;
    };
    form.addEventListener('input', showTotal);
    const comment = el('textarea', { id: 'mark-comment', name: 'comment', rows: 3, maxLength: 2000, class: 'mark-comment' });
    comment.value = a.comment || '';
    comment.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); form.requestSubmit(); }
    });
    const err = el('div', { class: 'notice', hidden: true });
    const save = el('button', { type: 'submit', class: 'primary', text: 'Lưu và tiếp' });
    const prev = el('button', { type: 'button', text: '← Bài trước', disabled: m.i === 0, 'aria-keyshortcuts': 'K Alt+ArrowLeft' });
    const next = el('button', { type: 'button', text: 'Bài sau →', disabled: m.i === n - 1, 'aria-keyshortcuts': 'J Alt+ArrowRight' });
    prev.addEventListener('click', () => go(m, -1));
    next.addEventListener('click', () => go(m, 1));
    form.append(grid, total, KT.field('Nhận xét gửi học sinh', comment, 'Học sinh đọc được nhận xét này khi kết quả được công bố.'), err,
      el('p', { class: 'actions mark-actions' }, prev, save, next));
    form.addEventListener('submit', (ev) => { ev.preventDefault(); submit(m, form, inputs, rubric, comment, err, save); });
    box.append(el('h3', { text: 'Chấm điểm' }), form);
    showTotal();
    if (focus) {
      // On the first draw the screen is not attached yet: focus once it is.
      const f = () => { inputs[0].focus(); inputs[0].select(); };
      if (inputs[0].isConnected) f(); else { KT.keepFocus = true; setTimeout(f, 0); }
    }
  }

  async function submit(m, form, inputs, rubric, comment, err, save) {
    const a = m.d.answers[m.i];
    const probs = [];
    const vals = inputs.map((inp, k) => {
      const v = parseMark(inp.value);
      const max = num(inp.dataset.max);
      if (v === null) probs.push({ field: inp.name, message: `Nhập điểm dạng số, ví dụ 0,25 (tối đa ${decimalVi(inp.dataset.max)}).` });
      else if (Number(v) > max + 1e-9) probs.push({ field: inp.name, message: `Điểm ${rubric ? 'tiêu chí ' + (k + 1) : 'của câu'} tối đa là ${decimalVi(inp.dataset.max)}.` });
      return v;
    });
    if (probs.length) { KT.showError(err, { error: { message: 'Thầy cô kiểm tra lại điểm ở các ô được đánh dấu.', details: probs } }, form); return; }
    const body = rubric ? { criteria: vals } : { points: vals[0] };
    body.comment = comment.value;
    save.disabled = true;
    const r = await KT.api('PUT', `/attempts/${encodeURIComponent(a.attempt_id)}/marks/${encodeURIComponent(m.it.item_ref)}`, body);
    save.disabled = false;
    if (!r.ok) {
      const e = r.error || {};
      if (e.code === 'invalid_mark' && !(Array.isArray(e.details) && e.details.length)) e.details = [{ field: inputs[0].name, message: e.message }];
      KT.showError(err, r, form);
      return;
    }
    Object.assign(a, { state: 'marked', score: r.data.score, criteria: rubric ? vals : a.criteria, comment: comment.value });
    KT.announce(`Đã lưu: ${decimalVi(r.data.score)} điểm.`);
    const c = counts(m);
    if (m.i < m.d.answers.length - 1) { go(m, 1); return; }
    const left = m.d.answers.findIndex((x) => x.state !== 'marked');
    if (left >= 0) { m.i = left; showAnswer(m, true); return; }
    showAnswer(m, false);
    const done = el('div', { class: 'notice ok mark-done', role: 'status' },
      el('strong', { text: `Đã chấm xong câu ${m.it.number} (${c.marked}/${c.total} bài).` }), ' ',
      m.nextItem ? el('a', { href: `#/sessions/${m.sessionId}/marking/${encodeURIComponent(m.nextItem.item_ref)}`, text: `Chấm câu ${m.nextItem.number}` }) : el('a', { href: `#/sessions/${m.sessionId}`, text: 'Về phiên kiểm tra để công bố kết quả' }));
    m.answerBox.prepend(done);
    const link = done.querySelector('a');
    if (link) link.focus();
  }

  /* To the previous / next student; J and K leave the focus on the
   * student's heading (so they can be pressed again), the rest put it in
   * the first mark box. */
  function go(m, d, onHeading) {
    const i = m.i + d;
    if (i < 0 || i >= m.d.answers.length) return;
    m.i = i;
    showAnswer(m, !onHeading);
    if (onHeading) document.getElementById('mark-who').focus();
  }

  document.addEventListener('keydown', (ev) => {
    if (!M || !document.body.contains(M.root) || ev.defaultPrevented) return;
    if (document.querySelector('dialog[open]')) return;
    const t = ev.target;
    const typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable);
    let d = 0, onHeading = false;
    if (ev.altKey && !ev.ctrlKey && !ev.metaKey && (ev.key === 'ArrowRight' || ev.key === 'ArrowLeft')) d = ev.key === 'ArrowRight' ? 1 : -1;
    else if (!typing && !ev.altKey && !ev.ctrlKey && !ev.metaKey && (ev.key === 'j' || ev.key === 'J' || ev.key === 'k' || ev.key === 'K')) { d = ev.key.toLowerCase() === 'j' ? 1 : -1; onHeading = true; }
    if (!d) return;
    ev.preventDefault();
    go(M, d, onHeading);
  });

  // ---------------------------------------------------------------- release
  const SHOW = [
    ['score', 'Chỉ điểm', 'Điểm bài và điểm từng câu, câu trả lời của em, nhận xét của thầy cô.'],
    ['answers', 'Điểm và đáp án', 'Thêm đáp án đúng của từng câu (theo đúng thứ tự phương án trong mã đề của em).'],
    ['explanations', 'Điểm, đáp án và lời giải', 'Thêm lời giải và bài giải mẫu.'],
  ];
  /* The session page's panel (sessions.js): the marking queue and the release
   * with what the students see. */
  KT.releasePanel = function releasePanel(s) {
    const cur = s.release_show || 'score';
    const label = (v) => (SHOW.find((x) => x[0] === v) || SHOW[0])[1].toLowerCase();
    const box = el('fieldset', { class: 'release-show' }, el('legend', { text: 'Khi công bố, học sinh được xem' }));
    box.setAttribute('name', 'show');
    for (const [v, t, h] of SHOW) {
      const id = `release-${v}`;
      box.append(el('div', { class: 'release-option' },
        el('input', { type: 'radio', name: 'show', id, value: v, checked: v === cur, 'aria-describedby': id + '-hint' }),
        el('label', { for: id, text: ' ' + t }), el('p', { class: 'hint', id: id + '-hint', text: h })));
    }
    const msg = el('p', { class: 'notice', hidden: true });
    const btn = el('button', { type: 'submit', class: 'primary', text: s.results_released ? 'Cập nhật công bố' : 'Công bố kết quả' });
    const form = el('form', { class: 'release-form' }, box, msg, el('p', { class: 'actions' }, btn));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const show = (form.querySelector('input[name=show]:checked') || {}).value || 'score';
      btn.disabled = true;
      const r = await KT.api('POST', `/sessions/${s.id}/release`, { show });
      btn.disabled = false;
      if (!r.ok) { KT.showError(msg, r, form); return; }
      KT.toast(`Đã công bố kết quả: ${label(show)}.`);
      KT.render();
    });
    return el('section', { class: 'panel release-panel', 'aria-labelledby': 'release-title' },
      el('h2', { id: 'release-title', text: 'Chấm bài và công bố kết quả' }),
      el('p', { class: 'actions' }, el('a', { class: 'button', href: `#/sessions/${s.id}/marking`, text: 'Chấm bài tự luận' })),
      el('p', { class: 'release-state', text: s.results_released ? `Đã công bố: ${label(cur)}.` : 'Chưa công bố kết quả cho học sinh.' }),
      form);
  };

  KT.marking = { parseMark };
})();

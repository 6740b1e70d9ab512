/*
 * kiemtra — the score book (sổ điểm): one class × subject × semester sheet.
 * A teacher types marks as on paper ("8,5", "8.5", "10"; never tenths),
 * each cell is saved on its own when the teacher leaves it (Enter, arrows,
 * Tab, a click elsewhere), and the ĐTBmhk the server recomputes after every
 * change is shown at once: the server's engine (engine/record_calc.c) is the
 * only place the formula lives, so this page never averages anything. Comment
 * subjects take Đ / CĐ. Marks of a session go into a column through
 * POST /sessions/{id}/publish; the school_admin locks a semester and lifts the
 * lock with a reason; a locked sheet is read-only. Exports (.xlsx, .csv) are
 * fetched with the token and saved from a blob.
 *
 * Keyboard: arrows move between cells like a spreadsheet (left/right when the
 * caret is at the edge of the text), Enter saves and goes down, Shift+Enter
 * up, Esc puts back the saved value.
 */
'use strict';

(function () {
  const KT = window.KT;
  const { el } = KT;
  const STAFF = ['teacher', 'subject_head', 'school_admin'];
  /* Subjects by school level (the defaults of migration 0009); the sheet's
   * own subject.name from the server wins once a sheet is loaded. */
  const NAMES = {
    TOAN: 'Toán', NV: 'Ngữ văn', NN1: 'Ngoại ngữ 1', LS: 'Lịch sử', LY: 'Vật lí', HOA: 'Hoá học', SINH: 'Sinh học',
    DIA: 'Địa lí', GDKTPL: 'Giáo dục kinh tế và pháp luật', TIN: 'Tin học', CN: 'Công nghệ', AN: 'Âm nhạc', MT: 'Mĩ thuật',
    GDTC: 'Giáo dục thể chất', HDTN: 'Hoạt động trải nghiệm, hướng nghiệp', GDDP: 'Nội dung giáo dục của địa phương',
    KHTN: 'Khoa học tự nhiên', LSDL: 'Lịch sử và Địa lí', GDCD: 'Giáo dục công dân', NT: 'Nghệ thuật', TV: 'Tiếng Việt',
    TINCN: 'Tin học và Công nghệ', KH: 'Khoa học', DD: 'Đạo đức', TNXH: 'Tự nhiên và Xã hội',
  };
  const BY_LEVEL = {
    thpt: ['TOAN', 'NV', 'NN1', 'LS', 'LY', 'HOA', 'SINH', 'DIA', 'GDKTPL', 'TIN', 'CN', 'AN', 'MT', 'GDTC', 'HDTN', 'GDDP'],
    thcs: ['TOAN', 'NV', 'KHTN', 'NN1', 'LSDL', 'CN', 'TIN', 'GDCD', 'GDTC', 'NT', 'HDTN', 'GDDP'],
    th: ['TV', 'TOAN', 'NN1', 'TINCN', 'LSDL', 'KH', 'DD', 'TNXH', 'GDTC', 'NT', 'HDTN'],
  };
  const subjectLabel = (c) => NAMES[c] || KT.subjectName(c);
  const levelOf = (g) => (g >= 10 ? 'thpt' : g >= 6 ? 'thcs' : 'th');

  KT.nav({ id: 'gradebook', label: 'Sổ điểm', hash: '#/gradebook', roles: STAFF, order: 70 });

  // ---------------------------------------------------------------- values
  /* Stored tenths ("85") as the teacher writes them ("8,5"); codes as labels. */
  function shown(v, kind) {
    if (v === null || v === undefined || v === '') return '';
    if (kind === 'DCD') return v === 'D' ? 'Đ' : v === 'CD' ? 'CĐ' : v;
    if (kind === 'THC') return v;
    if (!/^\d+$/.test(v)) return v;
    const t = Number(v);
    return t % 10 ? `${Math.floor(t / 10)},${t % 10}` : String(t / 10);
  }
  /* What the teacher typed: null (clear), a value to send, or an error text.
   * The same rules as the server (engine/grades.c kt_score_parse), which
   * checks again and has the last word. */
  function parseMark(text, kind) {
    const s = text.trim();
    if (s === '') return { value: null };
    if (kind === 'int') {
      if (!/^\d{1,2}$/.test(s) || Number(s) > 10) return { error: 'Điểm kiểm tra định kì tiểu học là số nguyên từ 0 đến 10.' };
      return { value: s };
    }
    if (/^-/.test(s)) return { error: 'Điểm không được âm.' };
    const m = /^(\d+)(?:[.,](\d+))?$/.exec(s);
    if (!m) return { error: 'Điểm là một số từ 0 đến 10, viết với dấu phẩy hoặc dấu chấm (ví dụ 8,5).' };
    if (m[2] && m[2].length > 1) return { error: `Điểm chỉ lấy đến một chữ số thập phân (ví dụ 8,5), không nhập ${m[2].length} chữ số.` };
    const tenths = Number(m[1]) * 10 + (m[2] ? Number(m[2]) : 0);
    if (tenths > 100) return { error: 'Điểm phải từ 0 đến 10.' };
    return { value: m[2] ? `${Number(m[1])},${m[2]}` : String(Number(m[1])) };
  }

  /* The columns of a subject's sheet, from its mode and ĐĐGtx count. */
  function columnsOf(subject) {
    const n = Number(subject.tx_slots) || 0;
    const tx = (kind) => Array.from({ length: n }, (_, i) => ({ slot: `tx${i + 1}`, label: `ĐĐGtx${i + 1}`, title: `Điểm đánh giá thường xuyên ${i + 1}`, kind }));
    switch (subject.mode) {
      case 'score': return tx('score').concat([
        { slot: 'gk', label: 'ĐĐGgk', title: 'Điểm đánh giá giữa kì', kind: 'score' },
        { slot: 'ck', label: 'ĐĐGck', title: 'Điểm đánh giá cuối kì', kind: 'score' }]);
      case 'comment': return tx('DCD').concat([
        { slot: 'gk', label: 'ĐĐGgk', title: 'Đánh giá giữa kì', kind: 'DCD' },
        { slot: 'ck', label: 'ĐĐGck', title: 'Đánh giá cuối kì', kind: 'DCD' }]);
      case 'primary_test': return [
        { slot: 'level_gk', label: 'Mức GK', title: 'Mức đạt được giữa kì', kind: 'THC' },
        { slot: 'gk', label: 'KTĐK GK', title: 'Điểm kiểm tra định kì giữa kì', kind: 'int' },
        { slot: 'level_ck', label: 'Mức CK', title: 'Mức đạt được cuối kì', kind: 'THC' },
        { slot: 'ck', label: 'KTĐK CK', title: 'Điểm kiểm tra định kì cuối kì', kind: 'int' }];
      default: return [
        { slot: 'level_gk', label: 'Mức GK', title: 'Mức đạt được giữa kì', kind: 'THC' },
        { slot: 'level_ck', label: 'Mức CK', title: 'Mức đạt được cuối kì', kind: 'THC' }];
    }
  }
  const CHOICES = {
    DCD: [['', '—'], ['Đ', 'Đ'], ['CĐ', 'CĐ']],
    THC: [['', '—'], ['T', 'T'], ['H', 'H'], ['C', 'C']],
  };

  // ---------------------------------------------------------------- picker
  let classCache = null;
  async function classes() {
    if (classCache) return classCache;
    const r = await KT.api('GET', '/classes');
    classCache = r.ok ? (r.data.classes || []) : [];
    return classCache;
  }
  /* The (class, subject) pairs the user may open: a teacher's assignments,
   * every class and subject of its level for a school_admin. */
  function choicesFor(all) {
    const me = KT.me;
    const asg = me.assignments || [];
    if (me.role !== 'school_admin' && asg.length) {
      const by = new Map();
      for (const a of asg) {
        const c = all.find((x) => x.id === a.class_id) || { id: a.class_id, name: a.class_name };
        if (!by.has(c.id)) by.set(c.id, { cls: c, subjects: [] });
        if (!by.get(c.id).subjects.includes(a.subject)) by.get(c.id).subjects.push(a.subject);
      }
      return Array.from(by.values()).sort((a, b) => String(a.cls.name).localeCompare(String(b.cls.name), 'vi'));
    }
    if (me.role !== 'school_admin') return [];
    return all.map((c) => ({ cls: c, subjects: BY_LEVEL[levelOf(c.grade || 10)] }));
  }
  const defaultSemester = () => { const m = new Date().getMonth() + 1; return m >= 1 && m <= 5 ? '2' : '1'; };

  function picker(choices, cur) {
    const clsSel = KT.select('class_id', choices.map((c) => [String(c.cls.id), c.cls.name]), cur.classId);
    const subSel = el('select', { name: 'subject' });
    const fillSubjects = () => {
      const ch = choices.find((c) => String(c.cls.id) === clsSel.value) || choices[0];
      subSel.replaceChildren(...(ch ? ch.subjects : []).map((s) => el('option', { value: s, text: subjectLabel(s), selected: s === cur.subject })));
      return ch;
    };
    const first = fillSubjects();
    const year = el('input', { name: 'year', value: cur.year || (first && first.cls.school_year) || '', inputMode: 'numeric', autocomplete: 'off', spellcheck: false, placeholder: '2026-2027', size: 10 });
    const sem = KT.select('semester', [['1', 'Học kì I'], ['2', 'Học kì II']], cur.semester || defaultSemester());
    clsSel.addEventListener('change', () => {
      const ch = fillSubjects();
      if (ch && ch.cls.school_year) year.value = ch.cls.school_year;
    });
    const msg = el('p', { class: 'notice', hidden: true });
    const form = el('form', { class: 'row panel filters gb-picker', 'aria-label': 'Chọn sổ điểm' },
      KT.field('Lớp', clsSel), KT.field('Môn', subSel), KT.field('Năm học', year), KT.field('Học kì', sem),
      el('button', { type: 'submit', class: 'primary', text: 'Mở sổ điểm' }), msg);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (!/^\d{4}-\d{4}$/.test(year.value.trim()) || Number(year.value.slice(5)) !== Number(year.value.slice(0, 4)) + 1) {
        KT.showError(msg, { error: { message: 'Năm học viết dạng 2026-2027.', details: [{ field: 'year', message: 'Năm học viết dạng 2026-2027 (năm sau liền năm trước).' }] } }, form);
        return;
      }
      KT.go(`#/gradebook/${clsSel.value}` + KT.qs({ subject: subSel.value, year: year.value.trim(), semester: sem.value }));
    });
    return form;
  }

  KT.route('/gradebook', {
    title: 'Sổ điểm', nav: 'gradebook', roles: STAFF,
    render: async (root) => {
      const choices = choicesFor(await classes());
      if (!choices.length) {
        root.append(el('p', { class: 'notice warn', text: 'Thầy cô chưa được phân công dạy lớp nào. Nhờ quản trị nhà trường phân công để mở sổ điểm.' }));
        return;
      }
      root.append(el('p', { text: 'Thầy cô chọn lớp, môn, năm học và học kì để mở sổ điểm.' }), picker(choices, {}));
    },
  });

  // ---------------------------------------------------------------- sheet
  KT.route('/gradebook/:classId', {
    title: 'Sổ điểm', nav: 'gradebook', roles: STAFF,
    render: async (root, params, query, ctx) => {
      const all = await classes();
      const choices = choicesFor(all);
      const cls = all.find((c) => String(c.id) === params.classId) || { id: Number(params.classId), name: `#${params.classId}` };
      const cur = {
        classId: params.classId, subject: query.get('subject') || 'TOAN',
        year: query.get('year') || cls.school_year || '', semester: query.get('semester') || defaultSemester(),
      };
      if (choices.length) root.append(el('details', { class: 'gb-switch' }, el('summary', { text: 'Đổi lớp, môn hoặc học kì' }), picker(choices, cur)));
      const path = `/classes/${encodeURIComponent(cur.classId)}/records` + KT.qs({ year: cur.year, semester: cur.semester, subject: cur.subject });
      const r = await KT.api('GET', path);
      const top = el('div', { class: 'notice', hidden: true });
      root.append(top);
      if (!r.ok) { KT.showError(top, r); return; }
      const data = r.data;
      if (!data.subject) {
        KT.notice(top, `Lớp ${data.class.name} không có môn ${subjectLabel(cur.subject)} trong cấu hình đánh giá của khối ${data.class.grade}.`, 'warn');
        return;
      }
      ctx.setTitle(`Sổ điểm ${data.subject.name} — lớp ${data.class.name}`);
      sheet(root, data, cur);
    },
  });

  function sheet(root, data, cur) {
    const cols = columnsOf(data.subject);
    const mode = data.subject.mode;
    const locked = !!data.locked;
    const hasAvg = mode === 'score' || mode === 'comment';
    const semName = String(data.semester) === '2' ? 'học kì II' : 'học kì I';
    const teaches = KT.me.role === 'school_admin' || (KT.me.assignments || []).some((a) => String(a.class_id) === String(data.class.id) && a.subject === data.subject.code);
    const editable = !locked && teaches;

    root.append(el('p', { class: 'gb-facts' },
      el('strong', { text: `Lớp ${data.class.name}` }), ` · ${data.subject.name} · ${semName} · năm học ${data.school_year} · ${data.students.length} học sinh`));
    if (locked) {
      root.append(el('p', { class: 'notice warn gb-locked', role: 'status' },
        el('strong', { text: 'Sổ đã khoá. ' }), `Nhà trường đã khoá sổ điểm ${semName} năm học ${data.school_year}: sổ chỉ để xem, không sửa được điểm.`
        + (KT.me.role === 'school_admin' ? ' Quản trị nhà trường có thể mở khoá (ghi lí do) ở cuối trang.' : ' Cần sửa điểm, thầy cô liên hệ quản trị nhà trường.')));
    } else if (!teaches) {
      root.append(el('p', { class: 'notice warn', text: 'Thầy cô không được phân công dạy môn này ở lớp này: sổ chỉ để xem.' }));
    } else {
      root.append(el('p', { class: 'hint gb-help', id: 'gb-help', text: mode === 'comment'
        ? 'Chọn Đ (Đạt) hoặc CĐ (Chưa đạt) cho từng ô; mỗi ô được lưu ngay khi chọn. Mũi tên lên/xuống để chuyển dòng.'
        : 'Gõ điểm như trên sổ giấy: 8,5 hoặc 8.5 hoặc 10. Enter hoặc mũi tên để lưu và chuyển ô; Esc để trả lại điểm đã lưu. Để trống rồi Enter là xoá điểm.' }));
    }

    // Actions: publish, export.
    const actions = el('p', { class: 'actions gb-actions' });
    if (editable && (mode === 'score' || mode === 'primary_test')) {
      const pub = el('button', { type: 'button', class: 'gb-publish', text: 'Lấy điểm từ phiên kiểm tra…' });
      pub.addEventListener('click', () => publishDialog(data, cols, cur));
      actions.append(pub, ' ');
    }
    for (const fmt of ['xlsx', 'csv']) {
      const b = el('button', { type: 'button', class: `gb-export-${fmt}`, text: fmt === 'xlsx' ? 'Tải về Excel (.xlsx)' : 'Tải về .csv' });
      b.addEventListener('click', () => exportFile(data, cur, fmt, b));
      actions.append(b, ' ');
    }
    root.append(actions);

    const status = el('p', { class: 'gb-status', role: 'status', 'aria-live': 'polite' });
    const err = el('p', { class: 'notice error gb-error', id: 'gb-error', role: 'alert', hidden: true });
    root.append(err);

    // The table.
    const head = el('tr', {},
      el('th', { scope: 'col', class: 'num', text: 'STT' }),
      el('th', { scope: 'col', text: 'Mã học sinh' }),
      el('th', { scope: 'col', class: 'gb-name', text: 'Họ và tên' }),
      ...cols.map((c) => el('th', { scope: 'col', class: 'gb-mark', title: c.title, text: c.label })),
      hasAvg ? el('th', { scope: 'col', class: 'gb-avg', title: mode === 'score' ? 'Điểm trung bình môn học kì (máy chủ tính theo Thông tư 22)' : 'Kết quả học kì (máy chủ tính)', text: mode === 'score' ? 'ĐTBmhk' : 'Kết quả HK' }) : '');
    const tb = el('tbody');
    const grid = []; // grid[row][col] = control
    const avgCells = new Map(); // student id -> td
    data.students.forEach((st, ri) => {
      const tr = el('tr', { 'data-student': String(st.id) });
      tr.append(el('td', { class: 'num', text: String(ri + 1) }), el('td', { class: 'mono', text: st.student_code || '' }),
        el('th', { scope: 'row', class: 'gb-name', text: st.full_name }));
      const row = [];
      cols.forEach((c, ci) => {
        const saved = shown((st.marks || {})[c.slot], c.kind);
        const label = `${c.label} của ${st.full_name}`;
        let ctl;
        if (CHOICES[c.kind]) {
          ctl = el('select', { class: 'gb-cell', 'aria-label': label, disabled: !editable });
          for (const [v, t] of CHOICES[c.kind]) ctl.append(el('option', { value: v, text: t, selected: v === saved }));
        } else {
          ctl = el('input', { class: 'gb-cell', 'aria-label': label, value: saved, inputMode: 'decimal', autocomplete: 'off', spellcheck: false, maxLength: 6, size: 4, readOnly: !editable });
          if (!editable) ctl.setAttribute('aria-readonly', 'true');
          if (editable) ctl.setAttribute('aria-describedby', 'gb-help');
        }
        Object.assign(ctl.dataset, { r: String(ri), c: String(ci), slot: c.slot, saved, state: 'clean' });
        ctl.gb = { student: st, col: c };
        row.push(ctl);
        tr.append(el('td', { class: 'gb-mark' }, ctl));
      });
      grid.push(row);
      if (hasAvg) {
        const td = el('td', { class: 'gb-avg' });
        avgCells.set(st.id, td);
        showResult(td, st.result, mode);
        tr.append(td);
      }
      tb.append(tr);
    });
    const table = el('table', { class: 'data gradebook' + (locked ? ' locked' : '') },
      el('caption', { class: 'sr-only', text: `Sổ điểm ${data.subject.name} lớp ${data.class.name}, ${semName}` }),
      el('thead', {}, head), tb);
    root.append(el('div', { class: 'table-wrap gb-wrap' }, table), status);

    // ------------------------------------------------------------ saving
    let refreshTimer = 0, refreshSeq = 0;
    async function refreshResults() {
      const seq = ++refreshSeq;
      const x = await KT.api('GET', `/classes/${data.class.id}/records` + KT.qs({ year: data.school_year, semester: data.semester, subject: data.subject.code }));
      if (!x.ok || seq !== refreshSeq) return;
      for (const st of x.data.students || []) {
        const td = avgCells.get(st.id);
        if (td) showResult(td, st.result, mode);
      }
    }
    const scheduleRefresh = () => { clearTimeout(refreshTimer); refreshTimer = setTimeout(refreshResults, 120); };

    function setState(ctl, state, message) {
      ctl.dataset.state = state;
      if (state === 'error') {
        ctl.setAttribute('aria-invalid', 'true');
        ctl.setAttribute('aria-errormessage', 'gb-error');
        ctl.title = message || '';
        KT.notice(err, `Dòng ${Number(ctl.dataset.r) + 1}, ${ctl.gb.col.label} (${ctl.gb.student.full_name}): ${message} Điểm này chưa được lưu.`, 'error');
      } else {
        ctl.removeAttribute('aria-invalid');
        ctl.removeAttribute('aria-errormessage');
        ctl.title = state === 'dirty' ? 'Chưa lưu' : state === 'saving' ? 'Đang lưu…' : '';
      }
    }
    /* Saves one cell when its text differs from what is stored. Returns
     * false when the text is not a valid mark (the cell keeps it, marked). */
    function commit(ctl) {
      if (!editable) return true;
      const text = ctl.value;
      const kind = ctl.gb.col.kind;
      if (text === ctl.dataset.saved && ctl.dataset.state !== 'error') { if (ctl.dataset.state === 'dirty') setState(ctl, 'clean'); return true; }
      if (ctl.dataset.state === 'saving' && ctl.dataset.sending === text) return true;
      let value;
      if (CHOICES[kind]) value = text === '' ? null : text;
      else {
        const p = parseMark(text, kind);
        if (p.error) { setState(ctl, 'error', p.error); return false; }
        value = p.value;
        if ((value === null ? '' : value) === ctl.dataset.saved) { ctl.value = ctl.dataset.saved; setState(ctl, 'clean'); return true; }
      }
      ctl.dataset.sending = text;
      setState(ctl, 'saving');
      /* One save at a time, in the order typed: the server recomputes the
       * whole class after each edit, and two recomputations running side
       * by side could each miss the other's mark. */
      queue = queue.then(() => save(ctl, value, text)).catch(() => { /* shown on the cell */ });
      return true;
    }
    let queue = Promise.resolve();
    async function save(ctl, value, text) {
      if (ctl.dataset.sending !== text) return; // replaced by a newer edit before it was sent
      const st = ctl.gb.student, col = ctl.gb.col;
      const x = await KT.api('PUT', `/classes/${data.class.id}/records`, {
        student_id: st.id, subject: data.subject.code, school_year: data.school_year,
        semester: Number(data.semester), slot: col.slot, value,
      });
      if (ctl.dataset.sending !== text) return; // a newer edit of this cell is on its way
      delete ctl.dataset.sending;
      if (!x.ok) {
        setState(ctl, 'error', KT.errText(x));
        if (x.error && x.error.code === 'term_locked') KT.notice(err, 'Học kì này vừa được khoá sổ: điểm không lưu được nữa. Thầy cô tải lại trang để xem sổ đã khoá.', 'error');
        return;
      }
      const saved = shown(x.data.value, col.kind);
      ctl.dataset.saved = saved;
      if (ctl.value === text) { ctl.value = saved; setState(ctl, 'saved'); } else setState(ctl, 'dirty');
      if (!root.querySelector('.gb-cell[data-state="error"]')) KT.notice(err, '');
      status.textContent = value === null ? `Đã xoá ${col.label} của ${st.full_name}.` : `Đã lưu ${col.label} của ${st.full_name}: ${saved}.`;
      scheduleRefresh();
    }

    // ------------------------------------------------------------ keyboard
    function focusCell(r, c) {
      if (r < 0 || r >= grid.length || c < 0 || c >= cols.length) return false;
      const t = grid[r][c];
      t.focus();
      if (t.select) t.select();
      return true;
    }
    tb.addEventListener('focusin', (ev) => {
      const t = ev.target;
      if (t.classList && t.classList.contains('gb-cell') && t.select) t.select();
    });
    tb.addEventListener('focusout', (ev) => {
      const t = ev.target;
      if (t.classList && t.classList.contains('gb-cell') && t.tagName === 'INPUT') commit(t);
    });
    tb.addEventListener('input', (ev) => {
      const t = ev.target;
      if (t.tagName === 'INPUT' && t.classList.contains('gb-cell') && t.dataset.state !== 'saving') setState(t, t.value === t.dataset.saved ? 'clean' : 'dirty');
    });
    tb.addEventListener('change', (ev) => { if (ev.target.tagName === 'SELECT') commit(ev.target); });
    tb.addEventListener('keydown', (ev) => {
      const t = ev.target;
      if (!t.classList || !t.classList.contains('gb-cell') || ev.altKey || ev.ctrlKey || ev.metaKey) return;
      const r = Number(t.dataset.r), c = Number(t.dataset.c);
      const isInput = t.tagName === 'INPUT';
      const atStart = isInput ? t.selectionStart === 0 && t.selectionEnd === 0 : true;
      const atEnd = isInput ? t.selectionStart === t.value.length && t.selectionEnd === t.value.length : true;
      const all = isInput && t.selectionStart === 0 && t.selectionEnd === t.value.length;
      let to = null;
      switch (ev.key) {
        case 'Enter': to = ev.shiftKey ? [r - 1, c] : [r + 1, c]; break;
        case 'ArrowDown': to = [r + 1, c]; break;
        case 'ArrowUp': to = [r - 1, c]; break;
        case 'ArrowLeft': if (atStart || all) to = [r, c - 1]; break;
        case 'ArrowRight': if (atEnd || all) to = [r, c + 1]; break;
        case 'Escape':
          if (isInput && t.value !== t.dataset.saved) { t.value = t.dataset.saved; setState(t, 'clean'); if (!root.querySelector('.gb-cell[data-state="error"]')) KT.notice(err, ''); ev.preventDefault(); t.select(); }
          return;
        default: return;
      }
      ev.preventDefault();
      if (isInput && !commit(t)) { t.select(); return; } // an invalid mark keeps the focus
      if (!focusCell(to[0], to[1]) && ev.key === 'Enter') t.select();
    });

    // ------------------------------------------------------------ lock
    if (KT.me.role === 'school_admin') {
      const box = el('section', { class: 'panel gb-lock' }, el('h2', { text: locked ? 'Mở khoá sổ' : 'Khoá sổ' }));
      const lmsg = el('p', { class: 'notice', hidden: true });
      if (!locked) {
        box.append(el('p', { text: `Khoá sổ ${semName} năm học ${data.school_year} cho cả trường: sau khi khoá, mọi lớp, mọi môn không sửa được điểm nữa (trừ khi quản trị mở khoá, có ghi lí do).` }));
        const b = el('button', { type: 'button', class: 'danger gb-lock-btn', text: `Khoá sổ ${semName}` });
        b.addEventListener('click', async () => {
          const ok = await KT.confirm('Khoá sổ điểm', `Khoá sổ ${semName} năm học ${data.school_year} cho toàn trường?`, 'Khoá sổ', true);
          if (!ok) return;
          const x = await KT.api('POST', '/records/lock', { school_year: data.school_year, semester: Number(data.semester) });
          if (!x.ok) { KT.showError(lmsg, x); return; }
          KT.toast('Đã khoá sổ.');
          KT.render();
        });
        box.append(lmsg, el('p', { class: 'actions' }, b));
      } else {
        box.append(el('p', { text: 'Mở khoá để sửa điểm đã chốt. Lí do mở khoá được ghi vào nhật ký của nhà trường.' }));
        const b = el('button', { type: 'button', class: 'gb-unlock-btn', text: 'Mở khoá sổ…' });
        b.addEventListener('click', async () => {
          const reason = el('textarea', { name: 'reason', class: 'short', maxLength: 500, required: true });
          const v = await KT.dialog({
            title: 'Mở khoá sổ điểm',
            body: el('div', {}, el('p', { text: `Mở khoá sổ ${semName} năm học ${data.school_year} cho toàn trường.` }), KT.field('Lí do mở khoá', reason, 'Bắt buộc, ghi vào nhật ký (tối đa 500 kí tự).')),
            actions: [{ label: 'Quay lại', value: null }, { label: 'Mở khoá', value: 'yes', primary: true }],
            validate: async () => {
              if (!reason.value.trim()) return 'Cần ghi lí do mở khoá.';
              const x = await KT.api('POST', '/records/unlock', { school_year: data.school_year, semester: Number(data.semester), reason: reason.value.trim() });
              return x.ok ? '' : KT.errText(x);
            },
          });
          if (v !== 'yes') return;
          KT.toast('Đã mở khoá sổ.');
          KT.render();
        });
        box.append(lmsg, el('p', { class: 'actions' }, b));
      }
      root.append(box);
    }
  }

  /* The result cell: the server's ĐTBmhk (or Đ/CĐ), or a blank with why. */
  function showResult(td, res, mode) {
    td.replaceChildren();
    td.classList.remove('incomplete');
    if (res && res.status === 'ok' && res.value !== null && res.value !== undefined) {
      td.append(el('strong', { class: 'gb-avg-value', text: shown(res.value, mode === 'comment' ? 'DCD' : 'score') }));
      td.removeAttribute('title');
      return;
    }
    td.classList.add('incomplete');
    const notes = (res && Array.isArray(res.notes) ? res.notes : []).map((n) => n.replace(/^Môn [A-Z0-9.]+: /, ''));
    const why = notes.length ? notes.join(' ') : 'Chưa có điểm nào trong học kì.';
    td.title = why;
    td.append(el('span', { class: 'sr-only', text: 'Chưa có. ' }), el('span', { class: 'gb-why', text: shortWhy(notes) }));
  }
  function shortWhy(notes) {
    if (!notes.length) return 'chưa có điểm';
    const miss = [];
    for (const n of notes) {
      if (/ĐĐGgk/.test(n)) miss.push('thiếu GK');
      else if (/ĐĐGck/.test(n)) miss.push('thiếu CK');
      else { const m = /mới có (\d+) trong (\d+)/.exec(n); miss.push(m ? `TX ${m[1]}/${m[2]}` : n); }
    }
    return miss.join(', ');
  }

  // ---------------------------------------------------------------- publish
  async function publishDialog(data, cols, cur) {
    const r = await KT.api('GET', '/sessions' + KT.qs({ class_id: data.class.id }));
    const list = r.ok ? (Array.isArray(r.data) ? r.data : (r.data.sessions || [])) : [];
    const mine = list.filter((s) => !s.cancelled_at && (!s.test || s.test.subject === data.subject.code));
    const body = el('div', { class: 'gb-publish-form' });
    if (!r.ok) { KT.toast(KT.errText(r), 'error'); return; }
    if (!mine.length) {
      await KT.dialog({ title: 'Lấy điểm từ phiên kiểm tra', body: `Lớp ${data.class.name} chưa có phiên kiểm tra môn ${data.subject.name} nào.` });
      return;
    }
    const STATE = { scheduled: 'sắp mở', open: 'đang mở', closed: 'đã đóng' };
    const sessSel = KT.select('session', mine.map((s) => {
      const a = s.attempts || {};
      return [String(s.id), `${(s.test && s.test.title) || 'Đề #' + s.test_id} · ${s.opens_at_local || KT.formatLocal(s.opens_at)} · ${STATE[s.state] || s.state || ''} · ${a.submitted || 0} bài đã nộp`];
    }));
    const slots = cols.filter((c) => c.kind === 'score' || c.kind === 'int');
    const kindOf = (s) => (s && s.test && s.test.kind) || '';
    const slotSel = KT.select('slot', slots.map((c) => [c.slot, `${c.label} — ${c.title}`]));
    const guess = () => { const k = kindOf(mine.find((s) => String(s.id) === sessSel.value)); if (k === 'gk' || k === 'ck') slotSel.value = k; };
    sessSel.addEventListener('change', guess);
    guess();
    body.append(el('p', { text: `Điểm (thang 10, làm tròn một chữ số thập phân) của các bài đã nộp và đã chấm xong được ghi vào cột đã chọn của sổ ${String(data.semester) === '2' ? 'học kì II' : 'học kì I'}. Điểm thầy cô đã nhập tay ở cột đó được giữ nguyên.` }),
      KT.field('Phiên kiểm tra', sessSel), KT.field('Ghi vào cột', slotSel));
    let result = null;
    const v = await KT.dialog({
      title: 'Lấy điểm từ phiên kiểm tra', body,
      actions: [{ label: 'Quay lại', value: null }, { label: 'Ghi vào sổ', value: 'yes', primary: true }],
      validate: async () => {
        const x = await KT.api('POST', `/sessions/${encodeURIComponent(sessSel.value)}/publish`, { slot: slotSel.value, school_year: data.school_year, semester: Number(data.semester) });
        if (!x.ok) return KT.errText(x);
        result = x.data;
        return '';
      },
    });
    if (v !== 'yes' || !result) return;
    const col = cols.find((c) => c.slot === result.slot);
    KT.toast(`Đã ghi ${result.updated} điểm vào cột ${col ? col.label : result.slot}` + (result.manual_kept ? `; giữ ${result.manual_kept} điểm thầy cô nhập tay.` : '.'));
    KT.keepFocus = true;
    KT.render();
  }

  // ---------------------------------------------------------------- export
  async function exportFile(data, cur, fmt, btn) {
    btn.disabled = true;
    const x = await KT.api('GET', '/exports/records' + KT.qs({ class_id: data.class.id, year: data.school_year, semester: data.semester, subject: data.subject.code, format: fmt }), undefined, { blob: true, timeout: 60000 });
    btn.disabled = false;
    if (!x.ok || !(x.data instanceof Blob)) {
      let m = KT.errText(x);
      try { const j = JSON.parse(await x.data.text()); if (j.error) m = j.error.message; } catch (e) { /* keep the generic text */ }
      KT.toast(m, 'error');
      return;
    }
    const url = URL.createObjectURL(x.data);
    const a = el('a', { href: url, download: `so-diem-${data.subject.code}-${data.class.name}-${data.school_year}-hk${data.semester}.${fmt}`, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    KT.announce(`Đã tải tệp sổ điểm .${fmt}.`);
  }

  KT.gradebook = { shown, parseMark, columnsOf };
})();

/*
 * kiemtra — importing questions into the bank: QTI .xml, content
 * packages (.zip), Word documents (.docx) and question sheets (.xlsx,
 * .csv; docs/IMPORT-WORD.md), several
 * files at once, chosen or dropped. Each file is first sent with
 * ?dry_run=1 (nothing stored) for a preview: per item its identifier (for
 * Word, the question number), title or stem excerpt, format, key and level,
 * and what would happen (mới / phiên bản mới / không đổi), and every error
 * with its file and line (for Word, question and paragraph; for a sheet,
 * its row). Only when the teacher confirms is the same request sent
 * without dry_run; a Word file or sheet with some bad questions can be
 * imported with only its good ones
 * ("Chỉ nhập các câu hợp lệ", ?partial=1). The results link to the items.
 */
'use strict';

(function () {
  const KT = window.KT;
  const { el } = KT;
  const ROLES = ['teacher', 'subject_head', 'school_admin'];
  const ACTION = { new: 'mới', new_version: 'phiên bản mới', unchanged: 'không đổi', existing: 'đã có' };
  const ROMAN = ['', 'I', 'II', 'III', 'IV'];
  const isWord = (f) => /\.doc[xm]$/i.test(f.name);
  const isSheet = (f) => /\.(xlsx|csv)$/i.test(f.name);
  const keyText = (k) => (k === null || k === undefined ? '' : Array.isArray(k) ? k.join(', ')
    : typeof k === 'object' ? Object.keys(k).map((s) => `${s}) ${k[s] ? 'Đ' : 'S'}`).join(' ') : String(k));
  const ACTION_BADGE = { new: 'approved', new_version: 'submitted', unchanged: 'draft' };
  const MAX_BYTES = 32 * 1024 * 1024;

  KT.nav({ id: 'import', label: 'Nhập câu hỏi', hash: '#/import', roles: ROLES, order: 30 });

  const typeOf = (f) => (/\.zip$/i.test(f.name) ? 'application/zip' : /\.xml$/i.test(f.name) ? 'application/xml'
    : /\.docx$/i.test(f.name) ? 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'
      : /\.xlsx$/i.test(f.name) ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
        : /\.csv$/i.test(f.name) ? 'text/csv' : 'application/octet-stream');
  const where = (e) => [e.file, e.line ? `dòng ${e.line}` : '', e.column ? `cột ${e.column}` : '', e.element ? `<${e.element}>` : ''].filter(Boolean).join(', ');

  KT.route('/import', {
    title: 'Nhập câu hỏi vào ngân hàng', nav: 'import', roles: ROLES,
    render: async (root) => {
      const me = KT.me;
      const subjects = me.role === 'school_admin' ? Object.keys(KT.labels.subjects)
        : ((me.subjects && me.subjects.length ? me.subjects : [me.subject]).filter(Boolean));
      const subject = KT.select('subject', (subjects.length ? subjects : Object.keys(KT.labels.subjects)).map((s) => [s, KT.subjectName(s)]), me.subject || subjects[0]);
      const grade = KT.select('grade', Array.from({ length: 12 }, (_, i) => [String(i + 1), 'Khối ' + (i + 1)]), '10');
      const input = el('input', { type: 'file', id: 'import-files', multiple: true, accept: '.xml,.zip,.docx,.xlsx,.csv,application/xml,text/xml,application/zip,application/vnd.openxmlformats-officedocument.wordprocessingml.document,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,text/csv' });
      const drop = el('div', { class: 'dropzone', tabindex: '0', role: 'button', 'aria-describedby': 'import-hint' },
        el('p', {}, el('strong', { text: 'Kéo thả tệp vào đây' }), ' hoặc bấm để chọn tệp.'));
      const hint = el('p', { class: 'hint', id: 'import-hint', text: 'Nhận tệp QTI 2.x/3.0 (.xml), gói nội dung IMS (.zip), tệp Word (.docx) soạn theo mẫu “Câu 1.”, “A.”… (đáp án gạch chân, tô đỏ, in đậm hoặc bảng đáp án) và bảng tính Excel (.xlsx) hoặc CSV mỗi dòng một câu (cột STT, Loại, Câu hỏi, A, B, C, D, Đáp án, Mức độ, Mã, Lời giải, Điểm), nhiều tệp một lúc, mỗi tệp tối đa 32 MB. Nhập thử trước: chưa có gì được ghi vào ngân hàng cho đến khi thầy cô xác nhận.' });
      const files = el('ul', { class: 'file-list', 'aria-live': 'polite' });
      const msg = el('div', { class: 'notice', hidden: true });
      const preview = el('div', { class: 'import-preview' });
      const go = el('button', { type: 'button', class: 'primary', text: 'Nhập vào ngân hàng', hidden: true });
      const goPartial = el('button', { type: 'button', class: 'import-partial', text: 'Chỉ nhập các câu hợp lệ', hidden: true });
      const results = el('section', { class: 'import-results', 'aria-live': 'polite' });
      root.append(el('section', { class: 'panel' },
        el('h2', { text: '1. Chọn tệp' }),
        el('div', { class: 'row' }, KT.field('Môn của câu hỏi', subject), KT.field('Khối lớp', grade)),
        el('div', { class: 'field' }, el('label', { for: 'import-files', text: 'Tệp câu hỏi' }), input), drop, hint, files),
      msg,
      el('section', { class: 'panel', 'aria-labelledby': 'imp-prev-h' }, el('h2', { id: 'imp-prev-h', text: '2. Xem trước' }), preview, el('p', { class: 'actions' }, go, ' ', goPartial)),
      results);

      let chosen = [];   // [{file, dry}]
      let seq = 0;
      async function previewAll() {
        const my = ++seq;
        results.replaceChildren();
        go.hidden = true;
        goPartial.hidden = true;
        KT.clearError(msg);
        files.replaceChildren(...chosen.map((c) => el('li', { text: `${c.file.name} (${Math.ceil(c.file.size / 1024)} KB)` })));
        if (!chosen.length) { preview.replaceChildren(el('p', { class: 'hint', text: 'Chưa chọn tệp nào.' })); return; }
        preview.replaceChildren(el('p', { class: 'loading', text: 'Đang nhập thử…' }));
        for (const c of chosen) {
          c.dry = null;
          if (c.file.size > MAX_BYTES) { c.dry = { refused: true, errors: [{ file: c.file.name, message: 'Tệp lớn hơn 32 MB.' }] }; continue; }
          const r = await KT.api('POST', '/items/import' + KT.qs({ dry_run: 1, subject: subject.value, grade: grade.value, filename: c.file.name }),
            undefined, { raw: await KT.readBytes(c.file), contentType: typeOf(c.file), timeout: 120000 });
          if (my !== seq) return;
          c.dry = dryOf(c.file, r);
        }
        drawPreview();
      }
      function wordDryOf(file, r, d) {
        const probs = Array.isArray(d.problems) ? d.problems : [];
        const errors = probs.filter((p) => p.severity === 'error').map((p) => ({ file: file.name, message: p.message }));
        const warnings = probs.filter((p) => p.severity !== 'error').map((p) => ({ file: file.name, message: 'Cảnh báo: ' + p.message }));
        if (!r.ok) errors.push({ file: file.name, message: KT.errText(r) });
        const items = (d.items || []).map((it) => ({
          file: file.name,
          identifier: `Câu ${it.number}` + (it.part ? ` (phần ${ROMAN[it.part]})` : '')
            + (d.format === 'xlsx' || d.format === 'csv' ? ` (dòng ${it.paragraph})` : ''),
          title: [it.excerpt || it.title || '', it.key !== null && it.key !== undefined ? `Đáp án: ${keyText(it.key)}` : '',
            it.level ? (KT.labels.levels && KT.labels.levels[it.level]) || it.level : ''].filter(Boolean).join(' — '),
          kind: it.kind, action: it.action === 'existing' ? 'unchanged' : it.action, id: it.item_id,
        }));
        const ok = r.ok && d.would_import === true;
        return { ok, partial: r.ok && !ok && d.valid > 0 && d.invalid > 0, word: true, items, tests: [], errors, warnings };
      }
      function dryOf(file, r) {
        const d = r.data && typeof r.data === 'object' ? r.data : {};
        if (isWord(file) || isSheet(file) || ['docx', 'xlsx', 'csv'].includes(d.format)) return wordDryOf(file, r, d);
        let errors = Array.isArray(d.errors) ? d.errors.slice() : [];
        if (!r.ok && !errors.length) {
          let m = KT.errText(r);
          errors.push({ file: file.name, message: m });
        }
        const items = (d.items || []).map((it) => Object.assign({ file: file.name }, it));
        for (const it of items) if (it.error) errors.push({ file: file.name, message: `${it.identifier}: ${it.error}` });
        return { ok: r.ok && d.would_import !== false && !errors.length, items, tests: d.tests || [], errors };
      }
      function drawPreview() {
        const tb = el('tbody');
        const errs = [], warns = [];
        let importable = 0, partialable = 0;
        for (const c of chosen) {
          const d = c.dry;
          if (!d) continue;
          for (const it of d.items) {
            if (d.ok && it.action !== 'unchanged') importable++;
            if (d.partial && it.action !== 'unchanged') partialable++;
            tb.append(el('tr', { class: it.error ? 'bad' : '' },
              el('td', { text: it.identifier }),
              el('td', { text: it.title || '' }),
              el('td', { text: KT.labels.kinds[it.kind] || it.format || it.kind || '' }),
              el('td', {}, el('span', { class: 'badge ' + (ACTION_BADGE[it.action] || ''), text: ACTION[it.action] || it.action })),
              el('td', { text: it.file })));
          }
          for (const t of d.tests) {
            if (d.ok && t.action === 'new') importable++;
            tb.append(el('tr', {}, el('td', { text: t.identifier }), el('td', { text: t.title || '' }), el('td', { text: 'Đề QTI' }),
              el('td', {}, el('span', { class: 'badge ' + (ACTION_BADGE[t.action] || ''), text: ACTION[t.action] || t.action })), el('td', { text: c.file.name })));
          }
          for (const e of d.errors) errs.push(e);
          for (const e of d.warnings || []) warns.push(e);
        }
        const out = [];
        if (tb.children.length) {
          out.push(el('div', { class: 'table-wrap' }, KT.stackTable(el('table', { class: 'data import-table' },
            el('caption', { class: 'sr-only', text: 'Các câu hỏi sẽ được nhập' }),
            el('thead', {}, el('tr', {}, ...['Mã câu (identifier)', 'Tiêu đề', 'Dạng', 'Kết quả', 'Tệp'].map((h) => el('th', { scope: 'col', text: h })))), tb))));
        }
        if (errs.length) {
          out.push(el('div', { class: 'notice error import-errors', role: 'alert' },
            el('strong', { text: `Có ${errs.length} lỗi; các tệp có lỗi sẽ không được nhập (chưa có gì được ghi):` }),
            el('ul', { class: 'error-list' }, ...errs.slice(0, 300).map((e) => el('li', {}, where(e) ? el('span', { class: 'where', text: where(e) + ': ' }) : '', e.message || '')))));
        }
        if (warns.length) {
          out.push(el('div', { class: 'notice import-warnings' },
            el('strong', { text: `Có ${warns.length} cảnh báo (câu hỏi vẫn được nhập; hãy kiểm tra lại trong trình soạn thảo):` }),
            el('ul', { class: 'error-list' }, ...warns.slice(0, 300).map((e) => el('li', {}, el('span', { class: 'where', text: e.file + ': ' }), e.message)))));
        }
        if (partialable) {
          out.push(el('p', { class: 'hint', text: `Tệp Word hoặc bảng tính có câu bị lỗi: có thể chỉ nhập ${partialable} câu hợp lệ (các câu lỗi được bỏ qua).` }));
        }
        const okFiles = chosen.filter((c) => c.dry && c.dry.ok).length;
        out.push(el('p', { class: 'hint', text: `${okFiles}/${chosen.length} tệp nhập được; ${importable} câu mới hoặc phiên bản mới.` }));
        preview.replaceChildren(...out);
        go.hidden = importable === 0;
        goPartial.hidden = partialable === 0;
      }
      async function runImport(withPartial) {
        const okFiles = chosen.filter((c) => c.dry && (c.dry.ok || (withPartial && c.dry.partial)));
        const ok = await KT.confirm('Nhập vào ngân hàng', `Nhập ${okFiles.length} tệp vào ngân hàng câu hỏi (${KT.subjectName(subject.value)}, khối ${grade.value})?${withPartial ? ' Các câu bị lỗi trong tệp Word hoặc bảng tính được bỏ qua.' : ''} Câu mới và phiên bản mới được lưu ở trạng thái nháp, chờ duyệt.`, 'Nhập');
        if (!ok) return;
        go.disabled = true;
        goPartial.disabled = true;
        const rows = el('tbody');
        for (const c of okFiles) {
          const q = { subject: subject.value, grade: grade.value, filename: c.file.name };
          if (c.dry.partial) q.partial = 1;
          const r = await KT.api('POST', '/items/import' + KT.qs(q),
            undefined, { raw: await KT.readBytes(c.file), contentType: typeOf(c.file), timeout: 120000 });
          if (!r.ok) {
            const e = ((r.data && r.data.errors) || []).concat(((r.data && r.data.problems) || []).filter((p) => p.severity === 'error'));
            rows.append(el('tr', { class: 'bad' }, el('td', { text: c.file.name }), el('td', { colspan: 3, text: KT.errText(r) + (e.length ? ' ' + e.map((x) => `${where(x)}: ${x.message}`).join('; ') : '') })));
            continue;
          }
          const d = r.data;
          const add = (list, label) => {
            for (const it of list || []) {
              rows.append(el('tr', {}, el('td', { text: c.file.name }),
                el('td', {}, el('a', { href: `#/items/${it.id}`, text: it.identifier })),
                el('td', { text: label }), el('td', { class: 'num', text: it.version !== undefined ? `bản ${it.version}` : '' })));
            }
          };
          add(d.imported, 'mới'); add(d.updated, 'phiên bản mới'); add(d.existing, 'không đổi');
        }
        go.disabled = false;
        go.hidden = true;
        goPartial.disabled = false;
        goPartial.hidden = true;
        results.replaceChildren(el('h2', { text: '3. Kết quả' }), el('div', { class: 'table-wrap' }, KT.stackTable(el('table', { class: 'data import-done' },
          el('thead', {}, el('tr', {}, ...['Tệp', 'Câu hỏi', 'Kết quả', 'Phiên bản'].map((h) => el('th', { scope: 'col', text: h })))), rows))));
        KT.toast('Đã nhập xong.');
        KT.announce('Đã nhập xong. Kết quả ở bên dưới.');
      }
      go.addEventListener('click', () => runImport(false));
      goPartial.addEventListener('click', () => runImport(true));
      const take = (list) => { chosen = Array.from(list || []).map((file) => ({ file, dry: null })); previewAll(); };
      input.addEventListener('change', () => take(input.files));
      drop.addEventListener('click', () => input.click());
      drop.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); input.click(); } });
      drop.addEventListener('dragover', (ev) => { ev.preventDefault(); drop.classList.add('over'); });
      drop.addEventListener('dragleave', () => drop.classList.remove('over'));
      drop.addEventListener('drop', (ev) => { ev.preventDefault(); drop.classList.remove('over'); take(ev.dataTransfer.files); });
      for (const s of [subject, grade]) s.addEventListener('change', () => { if (chosen.length) previewAll(); });
      preview.append(el('p', { class: 'hint', text: 'Chưa chọn tệp nào.' }));
    },
  });
})();

/*
 * kiemtra — the item editor (#/items/new, #/items/:id/edit).
 *
 * Teachers write every text field (stem, options, statements, explanation,
 * model answer) as plain text with LaTeX between $…$ or \( … \) (display
 * math: $$…$$ or \[ … \]); a live preview under each field shows it as the
 * student will see it. KaTeX (Debian's libjs-katex, served by the gateway
 * at /vendor/katex/) turns each formula into MathML, which the browser
 * draws natively; LaTeX errors are shown next to the field.
 *
 * The text format (KT.itemText), both ways:
 *   blank line            paragraph (<p>) in stem, explanation, model answer
 *   line break            <br>
 *   $x$  \(x\)            <math> (KaTeX MathML, LaTeX kept in
 *                         <annotation encoding="application/x-tex">)
 *   $$x$$  \[x\]          <math display="block">
 *   \$                    a dollar sign
 *   ![ảnh](media/F.png)   <img src="media/F.png" alt="ảnh">: an image
 *                         uploaded by pasting or "Chèn ảnh" (POST /media)
 * Stored HTML is turned back into this text for editing: MathML with a
 * LaTeX annotation gives its LaTeX; MathML without one (imported or
 * hand-written items) is converted to LaTeX; other formatting (bold,
 * tables, lists) becomes plain text, and the teacher is told so. A field
 * left untouched keeps its stored HTML exactly.
 */
'use strict';

(function () {
  const KT = window.KT;
  const { el } = KT;
  const L = KT.labels;
  const AUTHORS = ['teacher', 'subject_head', 'school_admin'];

  // ---------------------------------------------------------------- KaTeX
  let katexLoad = null;
  function loadKatex() {
    if (window.katex) return Promise.resolve(window.katex);
    if (!katexLoad) {
      katexLoad = new Promise((resolve) => {
        const s = el('script', { src: '/vendor/katex/katex.min.js' });
        s.addEventListener('load', () => resolve(window.katex || null));
        s.addEventListener('error', () => { katexLoad = null; resolve(null); });
        document.head.append(s);
      });
    }
    return katexLoad;
  }

  // ---------------------------------------------------------------- text → HTML
  const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const IMG = /^!\[([^\]\n]*)\]\((media\/[A-Za-z0-9._-]+|data:image\/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+)\)/;

  /* Splits one paragraph into text, math and image tokens. */
  function tokens(s, errors) {
    const out = [];
    let text = '', i = 0;
    const flush = () => { if (text) out.push({ t: 'text', v: text }); text = ''; };
    while (i < s.length) {
      const c = s[i], rest = s.slice(i);
      if (c === '\\' && s[i + 1] === '$') { text += '$'; i += 2; continue; }
      const open = rest.startsWith('$$') ? ['$$', '$$', true] : c === '$' ? ['$', '$', false]
        : rest.startsWith('\\(') ? ['\\(', '\\)', false] : rest.startsWith('\\[') ? ['\\[', '\\]', true] : null;
      if (open) {
        let j = i + open[0].length, end = -1;
        while (j < s.length) {
          if (s[j] === '\\' && open[1] === '$' && s[j + 1] === '$') { j += 2; continue; }
          if (s.startsWith(open[1], j)) { end = j; break; }
          j++;
        }
        if (end < 0) {
          errors.push({ tex: rest.slice(0, 30), message: `Thiếu dấu đóng công thức "${open[1]}" (mở bằng "${open[0]}").` });
          text += rest;
          break;
        }
        flush();
        out.push({ t: 'math', v: s.slice(i + open[0].length, end).replace(/\\\$/g, '\\$'), display: open[2] });
        i = end + open[1].length;
        continue;
      }
      const m = c === '!' ? IMG.exec(rest) : null;
      if (m) { flush(); out.push({ t: 'img', alt: m[1], src: m[2] }); i += m[0].length; continue; }
      text += c;
      i++;
    }
    flush();
    return out;
  }

  /* One formula as MathML text (or null with an error). */
  function mathHTML(katex, tex, display, errors) {
    if (!tex.trim()) { errors.push({ tex, message: 'Công thức rỗng.' }); return ''; }
    let out;
    try {
      out = katex.renderToString(tex, { output: 'mathml', throwOnError: true, displayMode: display, strict: 'ignore' });
    } catch (e) {
      const msg = String((e && e.message) || e).replace(/^KaTeX parse error:\s*/, '');
      errors.push({ tex, message: `Công thức $${tex}$ có lỗi LaTeX: ${msg}` });
      out = katex.renderToString(tex, { output: 'mathml', throwOnError: false, displayMode: display, strict: 'ignore' });
    }
    const t = document.createElement('template');
    t.innerHTML = out;
    const math = t.content.querySelector('math');
    if (!math) return esc(tex);
    if (display) math.setAttribute('display', 'block');
    const clean = KT.safeHTML(math.outerHTML);
    const box = document.createElement('div');
    box.append(clean);
    return box.innerHTML;
  }

  /* Text of a field → {html, errors}. block: paragraphs (stem...), else
   * inline (an option, a statement). */
  function toHTML(text, block, katex) {
    const errors = [];
    const paras = block ? String(text || '').replace(/\r/g, '').split(/\n[ \t]*\n+/) : [String(text || '').replace(/\r/g, '')];
    const parts = [];
    for (const p of paras) {
      const s = block ? p.replace(/^\n+|\n+$/g, '') : p;
      if (block && !s.trim()) continue;
      let h = '';
      for (const tk of tokens(s, errors)) {
        if (tk.t === 'text') h += esc(tk.v).replace(/\n/g, '<br/>');
        else if (tk.t === 'img') h += `<img src="${esc(tk.src)}" alt="${esc(tk.alt)}"/>`;
        else h += katex ? mathHTML(katex, tk.v, tk.display, errors) : esc(tk.v);
      }
      parts.push(block ? `<p>${h}</p>` : h);
    }
    return { html: parts.join(''), errors };
  }

  // ---------------------------------------------------------------- HTML → text
  const MO = {
    '−': '-', '×': '\\times ', '÷': '\\div ', '≤': '\\le ', '≥': '\\ge ', '≠': '\\ne ', '∈': '\\in ', '∉': '\\notin ',
    '⊂': '\\subset ', '⊃': '\\supset ', '⊆': '\\subseteq ', '⊇': '\\supseteq ', '∪': '\\cup ', '∩': '\\cap ',
    '∅': '\\emptyset ', '{': '\\{', '}': '\\}', '∀': '\\forall ', '∃': '\\exists ', '⇒': '\\Rightarrow ',
    '⇔': '\\Leftrightarrow ', '→': '\\to ', '±': '\\pm ', '·': '\\cdot ', '∞': '\\infty ', '…': '\\ldots ',
    '%': '\\%', '°': '^\\circ ', '|': '|', '∖': '\\setminus ', '≈': '\\approx ', '⊥': '\\perp ', '∥': '\\parallel ',
    '∠': '\\angle ', '△': '\\triangle ', '′': "'", '#': '\\#', '&': '\\&', '_': '\\_', '~': '\\sim ',
  };
  const MI = { 'ℕ': '\\mathbb{N}', 'ℤ': '\\mathbb{Z}', 'ℚ': '\\mathbb{Q}', 'ℝ': '\\mathbb{R}', 'ℂ': '\\mathbb{C}', 'π': '\\pi ', 'α': '\\alpha ', 'β': '\\beta ', 'γ': '\\gamma ', 'Δ': '\\Delta ', 'Ω': '\\Omega ', 'φ': '\\varphi ', 'ω': '\\omega ', 'λ': '\\lambda ', 'μ': '\\mu ', 'θ': '\\theta ', 'σ': '\\sigma ', '∅': '\\emptyset ' };
  const mapChars = (s, table) => Array.from(s).map((ch) => table[ch] || ch).join('');
  /* MathML without a LaTeX source, as LaTeX (for editing). */
  function mml2tex(n) {
    const kids = () => Array.from(n.children);
    const all = () => kids().map(mml2tex).join('');
    const arg = (k) => `{${k ? mml2tex(k) : ''}}`;
    const name = n.localName;
    const txt = (n.textContent || '').trim();
    switch (name) {
      case 'mi': return txt.length > 1 && /^[A-Za-z]+$/.test(txt) ? `\\operatorname{${txt}}` : mapChars(txt, MI);
      case 'mn': return txt;
      case 'mo': return mapChars(txt, MO);
      case 'mtext': return txt ? `\\text{${txt.replace(/[{}\\]/g, '')}}` : '';
      case 'mspace': return '\\,';
      case 'mfrac': return `\\frac${arg(n.children[0])}${arg(n.children[1])}`;
      case 'msqrt': return `\\sqrt{${all()}}`;
      case 'mroot': return `\\sqrt[${mml2tex(n.children[1])}]${arg(n.children[0])}`;
      case 'msup': return `${arg(n.children[0])}^${arg(n.children[1])}`;
      case 'msub': return `${arg(n.children[0])}_${arg(n.children[1])}`;
      case 'msubsup': return `${arg(n.children[0])}_${arg(n.children[1])}^${arg(n.children[2])}`;
      case 'mover': {
        const o = (n.children[1] && n.children[1].textContent.trim()) || '';
        if (o === '¯' || o === '‾' || o === '―' || o === '_') return `\\overline${arg(n.children[0])}`;
        if (o === '→' || o === '⃗') return `\\overrightarrow${arg(n.children[0])}`;
        if (o === '^' || o === 'ˆ') return `\\hat${arg(n.children[0])}`;
        return `\\overset${arg(n.children[1])}${arg(n.children[0])}`;
      }
      case 'munder': return `\\underset${arg(n.children[1])}${arg(n.children[0])}`;
      case 'munderover': return `\\underset${arg(n.children[1])}{\\overset${arg(n.children[2])}${arg(n.children[0])}}`;
      case 'mfenced': {
        const o = n.getAttribute('open') ?? '(', c = n.getAttribute('close') ?? ')';
        const d = (x) => (x === '{' ? '\\{' : x === '}' ? '\\}' : x || '.');
        return `\\left${d(o)}${kids().map(mml2tex).join(',')}\\right${d(c)}`;
      }
      case 'mtable': return `\\begin{matrix}${kids().map((tr) => Array.from(tr.children).map(mml2tex).join(' & ')).join(' \\\\ ')}\\end{matrix}`;
      case 'semantics': return n.children[0] ? mml2tex(n.children[0]) : '';
      case 'annotation': case 'annotation-xml': return '';
      default: return all();
    }
  }
  const escText = (s) => s.replace(/\$/g, '\\$');
  /* Stored HTML → {text, lossy, converted}. */
  function fromHTML(h, block) {
    const t = document.createElement('template');
    t.innerHTML = String(h || '');
    const st = { lossy: false, converted: false };
    const BLOCK = new Set(['p', 'div', 'blockquote', 'pre', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'ul', 'ol', 'figure']);
    const FORMAT = new Set(['b', 'strong', 'i', 'em', 'u', 's', 'sub', 'sup', 'table', 'code', 'mark', 'small', 'big', 'pre', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'svg']);
    function walk(n) {
      if (n.nodeType === 3) return escText(n.nodeValue.replace(/\n/g, ' '));
      if (n.nodeType !== 1) return '';
      const name = n.localName;
      if (FORMAT.has(name)) st.lossy = true;
      if (name === 'math') {
        const ann = n.querySelector('annotation[encoding="application/x-tex"]');
        const display = n.getAttribute('display') === 'block';
        let tex;
        if (ann) tex = ann.textContent.trim();
        else { tex = mml2tex(n).replace(/\s+/g, ' ').trim(); st.converted = true; }
        return display ? `$$${tex}$$` : `$${tex}$`;
      }
      if (name === 'br') return '\n';
      if (name === 'img') {
        const src = n.getAttribute('src') || '';
        if (IMG.test(`![x](${src})`)) return `![${(n.getAttribute('alt') || 'ảnh').replace(/[\]\n]/g, '')}](${src})`;
        st.lossy = true;
        return '';
      }
      if (name === 'li') return '- ' + kids(n).trim() + '\n';
      if (name === 'tr') return Array.from(n.children).map((c) => kids(c).trim()).join(' | ') + '\n';
      const inner = kids(n);
      return BLOCK.has(name) ? '\n\n' + inner.trim() + '\n\n' : inner;
    }
    const kids = (n) => Array.from(n.childNodes).map(walk).join('');
    let text = Array.from(t.content.childNodes).map(walk).join('');
    text = block ? text.replace(/\n{3,}/g, '\n\n').trim() : text.replace(/\n+/g, block ? '\n' : ' ').trim();
    return { text, lossy: st.lossy, converted: st.converted };
  }

  KT.itemText = { toHTML, fromHTML, loadKatex, mml2tex };

  // ---------------------------------------------------------------- helpers
  const decIn = (s) => String(s ?? '').trim().replace(',', '.');
  const genId = (subject, grade) => {
    const a = new Uint8Array(4);
    crypto.getRandomValues(a);
    return `${subject || 'CH'}${grade || ''}-${Array.from(a, (b) => b.toString(36).padStart(2, '0')).join('').slice(0, 6).toUpperCase()}`;
  };
  /* Server field names of a PATCH (content.stem, scoring.key) → the form's. */
  function normalizeErrors(r) {
    if (!r || !r.error || !Array.isArray(r.error.details)) return r;
    const details = r.error.details.map((d) => (d && d.field ? Object.assign({}, d, { field: d.field.replace(/^(content|scoring)\./, '') }) : d));
    return Object.assign({}, r, { error: Object.assign({}, r.error, { details }) });
  }

  // ---------------------------------------------------------------- the screen
  KT.nav({ id: 'new-item', label: 'Soạn câu hỏi', hash: '#/items/new', roles: AUTHORS, order: 11 });
  KT.route('/items/new', { title: 'Soạn câu hỏi mới', nav: 'new-item', roles: AUTHORS, render: (root, p, q, ctx) => editor(root, null, q, ctx) });
  KT.route('/items/:id/edit', { title: 'Sửa câu hỏi', nav: 'bank', roles: AUTHORS, render: (root, p, q, ctx) => editor(root, p.id, q, ctx) });

  async function editor(root, id, query, ctx) {
    const katex = await loadKatex();
    let view = null;
    if (id) {
      const r = await KT.api('GET', `/items/${encodeURIComponent(id)}`);
      if (!r.ok) { const b = el('div'); KT.showError(b, r); root.append(b); return; }
      view = r.data;
      if (view.kind === 'QTI') { root.append(el('p', { class: 'notice', text: 'Câu hỏi QTI nhập từ gói không sửa được ở đây; thầy cô sửa gói rồi nhập lại.' })); return; }
      ctx.setTitle('Sửa: ' + (view.title || view.identifier));
    }
    const me = KT.me;
    const mySubjects = (me.subjects && me.subjects.length ? me.subjects : me.subject ? [me.subject] : []);
    const c = (view && view.content) || {}, s = (view && view.scoring) || {};
    const notes = { lossy: false, converted: false };
    const txt = (h, block) => { const x = fromHTML(h, block); notes.lossy = notes.lossy || x.lossy; notes.converted = notes.converted || x.converted; return { text: x.text, orig: h }; };

    // The editing state: every field's text, whatever the format shown.
    const S = {
      id: view ? view.id : null, version: view ? view.current_version : null,
      subject: view ? view.subject : query.get('subject') || mySubjects[0] || 'TOAN',
      grade: view ? String(view.grade) : query.get('grade') || '10',
      kind: view ? view.kind : query.get('kind') || 'MCQ4',
      title: view ? view.title : '', identifier: view ? view.identifier : '',
      outcome: view ? KT.items.outcomeOf(view.tags) : '', level: view ? KT.items.levelOf(view.tags) : 'MD.B',
      comps: new Set(view ? KT.items.competenciesOf(view.tags) : []),
      stem: txt(c.stem || '', true), explanation: txt(s.explanation || '', true), model: txt(s.model_answer || '', true),
      options: (c.options && c.options.length ? c.options : ['A', 'B', 'C', 'D'].map((x) => ({ id: x, html: '' })))
        .map((o) => ({ id: o.id, fixed: !!o.fixed, t: txt(o.html || '', false) })),
      statements: (c.statements && c.statements.length ? c.statements : ['a', 'b', 'c', 'd'].map((x) => ({ id: x, html: '' })))
        .map((o) => ({ id: o.id, t: txt(o.html || '', false) })),
      key: s.key ?? 'A', keys: new Set(s.keys || []), mode: s.scoring_mode || 'all_or_nothing',
      sk: Object.assign({}, s.statement_keys || {}),
      table: (s.score_table || ['0', '0.1', '0.25', '0.5', '1']).map(KT.decimalVi),
      shortKey: view && view.kind === 'SHORT' ? (s.answer_type === 'text' ? s.key : KT.decimalVi(s.key)) : '',
      tolerance: s.tolerance ? KT.decimalVi(s.tolerance) : '', answerType: s.answer_type === 'text' ? 'text' : 'number',
      rubric: (s.rubric && s.rubric.length ? s.rubric : [{ criterion: '', points: '1' }]).map((r) => ({ criterion: r.criterion, points: KT.decimalVi(r.points) })),
    };
    if (S.kind === 'MCQ4' && S.options.length !== 4) S.options = S.options.slice(0, 4);

    const form = el('form', { class: 'editor', novalidate: true, id: 'item-editor' });
    const top = el('div', { id: 'editor-msg', hidden: true });
    if (!katex) root.append(el('p', { class: 'notice warn', text: 'Không tải được bộ hiển thị công thức (KaTeX). Thầy cô vẫn soạn được, nhưng công thức chưa xem trước được.' }));
    if (notes.lossy) root.append(el('p', { class: 'notice warn', text: 'Câu hỏi có định dạng mà trình soạn thảo này chỉ giữ dạng chữ thường (chữ đậm, bảng, danh sách...). Trường nào thầy cô không sửa thì vẫn giữ nguyên như cũ.' }));
    if (notes.converted) root.append(el('p', { class: 'notice', text: 'Các công thức cũ đã được chuyển sang LaTeX để sửa; thầy cô xem lại phần xem trước.' }));
    root.append(el('p', { class: 'hint', text: 'Gõ công thức LaTeX giữa hai dấu $ (ví dụ $\\frac{1}{2}$) hoặc \\( … \\); công thức riêng dòng giữa $$ … $$. Dán ảnh (Ctrl+V) hoặc bấm "Chèn ảnh" để chèn ảnh; ảnh hiện trong ô là ![ảnh](media/…). Để trống một dòng để xuống đoạn mới.' }));

    // ---------- math fields
    const mediaAsset = KT.items.mediaAsset(S.id, null);
    const fields = [];
    function mathField(name, label, ref, block, opts) {
      opts = opts || {};
      const ta = el('textarea', { name, id: 'ed-' + name.replace(/\W+/g, '-'), rows: opts.rows || (block ? 4 : 2), class: 'mathsrc', spellcheck: true });
      ta.value = ref.t ? ref.t.text : ref.text;
      const pv = el('div', { class: 'math-preview' + (block ? ' stem' : ' opt-html'), 'aria-label': 'Xem trước: ' + label, role: 'region' });
      const err = el('p', { class: 'field-error latex-error', role: 'alert', hidden: true });
      const file = el('input', { type: 'file', accept: 'image/png,image/jpeg,image/gif,image/webp', class: 'sr-only', tabIndex: -1, 'aria-hidden': 'true' });
      const pick = el('button', { type: 'button', class: 'small', text: 'Chèn ảnh' });
      const tools = el('div', { class: 'math-tools' }, pick, file);
      const wrap = el('div', { class: 'field math-field', 'data-field': name }, el('label', { for: ta.id, text: label }), ta, tools, el('p', { class: 'pv-label', text: 'Xem trước' }), pv, err);
      const holder = ref.t || ref;
      const update = () => {
        holder.text = ta.value;
        const out = toHTML(ta.value, block, katex);
        holder.html = out.html;
        holder.errors = out.errors;
        pv.replaceChildren(KT.renderer.html(out.html, { asset: mediaAsset }));
        if (out.errors.length) {
          err.textContent = out.errors.map((e) => e.message).join(' ');
          err.hidden = false;
          ta.setAttribute('aria-invalid', 'true');
        } else {
          err.hidden = true;
          if (!wrap.querySelector('.field-error:not(.latex-error)')) ta.removeAttribute('aria-invalid');
        }
      };
      const insertAtCursor = (str) => {
        const a = ta.selectionStart ?? ta.value.length, b = ta.selectionEnd ?? a;
        ta.value = ta.value.slice(0, a) + str + ta.value.slice(b);
        ta.selectionStart = ta.selectionEnd = a + str.length;
        ta.focus();
        update();
      };
      const upload = async (f) => {
        if (!f || !/^image\/(png|jpeg|gif|webp)$/.test(f.type)) { KT.notice(err, 'Chỉ chèn được ảnh PNG, JPEG, GIF hoặc WebP.', 'error'); err.className = 'field-error latex-error'; return; }
        if (f.size > 2 * 1024 * 1024) { err.textContent = 'Ảnh lớn hơn 2 MB; thầy cô thu nhỏ ảnh rồi thử lại.'; err.hidden = false; return; }
        pick.disabled = true;
        KT.announce('Đang tải ảnh lên…');
        const r = await KT.api('POST', '/media', undefined, { raw: f, contentType: f.type });
        pick.disabled = false;
        if (!r.ok || !r.data || !r.data.path) { err.textContent = KT.errText(r, 'Không tải được ảnh lên.'); err.hidden = false; return; }
        insertAtCursor(`![ảnh](${r.data.path})`);
        KT.announce('Đã chèn ảnh.');
      };
      pick.addEventListener('click', () => file.click());
      file.addEventListener('change', () => { upload(file.files[0]); file.value = ''; });
      ta.addEventListener('paste', (e) => {
        const items = Array.from((e.clipboardData && e.clipboardData.items) || []);
        const img = items.find((x) => x.kind === 'file' && x.type.startsWith('image/'));
        if (img) { e.preventDefault(); upload(img.getAsFile()); }
      });
      ta.addEventListener('input', KT.debounce(update, 120));
      ta.addEventListener('blur', update);
      update();
      fields.push({ holder, update, name });
      return wrap;
    }

    // ---------- general
    const subjOpts = mySubjects.concat(Object.keys(L.subjects).filter((x) => !mySubjects.includes(x))).map((x) => [x, L.subjects[x] || x]);
    const subjectSel = KT.select('subject', subjOpts, S.subject, { disabled: !!view });
    const gradeSel = KT.select('grade', [...Array(12)].map((_, i) => [String(i + 1), 'Lớp ' + (i + 1)]), S.grade, { disabled: !!view });
    const titleIn = el('input', { name: 'title', value: S.title, maxLength: 300, required: true, 'aria-required': 'true' });
    const identIn = el('input', { name: 'identifier', value: S.identifier, maxLength: 100, disabled: !!view, autocomplete: 'off', spellcheck: false });
    const kindSel = KT.select('kind', ['MCQ4', 'MR', 'TF4', 'SHORT', 'ESSAY'].map((k) => [k, L.kinds[k]]), S.kind, { disabled: !!view });
    titleIn.addEventListener('input', () => { S.title = titleIn.value; });
    identIn.addEventListener('input', () => { S.identifier = identIn.value.trim(); });
    form.append(el('section', { class: 'panel', 'aria-labelledby': 'ed-gen' }, el('h2', { id: 'ed-gen', text: 'Thông tin chung' }),
      el('div', { class: 'row' }, KT.field('Môn', subjectSel), KT.field('Lớp', gradeSel), KT.field('Dạng câu hỏi', kindSel)),
      el('div', { class: 'row' }, KT.field('Tiêu đề', titleIn, 'Tên ngắn để tìm lại câu hỏi trong ngân hàng.'),
        KT.field('Mã câu hỏi', identIn, view ? 'Mã không đổi sau khi tạo.' : 'Để trống: hệ thống tự tạo (ví dụ TOAN10-K3F9QZ).'))));

    // ---------- tags
    const tagBox = el('section', { class: 'panel', 'aria-labelledby': 'ed-tags' });
    form.append(tagBox);
    async function renderTags() {
      const tax = await KT.items.taxonomy(S.subject, S.grade);
      const comps = await KT.items.competencies(S.subject);
      const search = el('input', { type: 'search', placeholder: 'Tìm yêu cầu cần đạt, chủ đề…', 'aria-controls': 'outcome-tree' });
      const tree = el('div', { class: 'tree', id: 'outcome-tree', role: 'radiogroup', 'aria-label': 'Yêu cầu cần đạt hoặc chủ đề' });
      const chosen = el('p', { class: 'hint', id: 'outcome-chosen', 'aria-live': 'polite' });
      const showChosen = () => {
        const n = tax.byCode.get(S.outcome);
        chosen.textContent = S.outcome ? `Đã chọn: ${n ? `${KT.items.KIND_LABEL[n.kind]} — ${n.name || n.text}` : S.outcome} (${S.outcome})` : 'Chưa chọn yêu cầu cần đạt.';
      };
      const none = el('label', { class: 'tree-node' }, el('input', { type: 'radio', name: 'outcome', value: '', checked: !S.outcome }), el('span', { text: 'Không gắn' }));
      tree.append(none);
      for (const n of tax.nodes) {
        const lab = el('label', { class: `tree-node depth-${n.depth}`, 'data-code': n.code, 'data-search': fold(`${n.code} ${n.name} ${n.text || ''}`) },
          el('input', { type: 'radio', name: 'outcome', value: n.code, checked: n.code === S.outcome }),
          el('span', { class: 'kind', text: KT.items.KIND_LABEL[n.kind] + ':' }), ' ', el('span', { text: n.name || n.text }));
        tree.append(lab);
      }
      if (!tax.nodes.length) tree.append(el('p', { class: 'hint', text: 'Chưa có danh mục yêu cầu cần đạt cho môn và lớp này.' }));
      tree.addEventListener('change', (e) => { if (e.target.name === 'outcome') { S.outcome = e.target.value; showChosen(); } });
      search.addEventListener('input', () => {
        const q = fold(search.value.trim());
        for (const lab of tree.querySelectorAll('[data-search]')) lab.hidden = !!q && !lab.dataset.search.includes(q);
      });
      showChosen();
      const levelSel = KT.select('level', Object.keys(L.levels).map((k) => [k, L.levels[k]]), S.level);
      levelSel.addEventListener('change', () => { S.level = levelSel.value; });
      const compBox = el('fieldset', { class: 'checks' }, el('legend', { text: 'Năng lực' }));
      for (const cp of comps) {
        const cb = el('input', { type: 'checkbox', name: 'competencies', value: cp.code, checked: S.comps.has(cp.code) });
        cb.addEventListener('change', () => { if (cb.checked) S.comps.add(cp.code); else S.comps.delete(cp.code); });
        compBox.append(el('label', { class: 'check' }, cb, ' ', cp.name));
      }
      if (!comps.length) compBox.append(el('p', { class: 'hint', text: 'Môn này chưa có danh mục năng lực.' }));
      tagBox.replaceChildren(el('h2', { id: 'ed-tags', text: 'Phân loại' }),
        el('div', { class: 'field' }, el('label', { text: 'Yêu cầu cần đạt (YCCĐ) / chủ đề', for: 'outcome-search' }), Object.assign(search, { id: 'outcome-search' }), tree, chosen),
        el('div', { class: 'row' }, KT.field('Mức độ nhận thức', levelSel)), compBox);
    }
    subjectSel.addEventListener('change', () => { S.subject = subjectSel.value; S.outcome = ''; S.comps.clear(); renderTags(); });
    gradeSel.addEventListener('change', () => { S.grade = gradeSel.value; S.outcome = ''; renderTags(); });

    // ---------- content
    const contentBox = el('section', { class: 'panel', 'aria-labelledby': 'ed-content' });
    form.append(contentBox);
    function renderContent() {
      fields.length = 0;
      const kids = [el('h2', { id: 'ed-content', text: 'Nội dung câu hỏi' }), mathField('stem', 'Đề bài', S.stem, true, { rows: 5 })];
      if (S.kind === 'MCQ4' || S.kind === 'MR') {
        const multi = S.kind === 'MR';
        if (!multi) { while (S.options.length < 4) S.options.push({ id: 'ABCD'[S.options.length], fixed: false, t: { text: '' } }); S.options = S.options.slice(0, 4); }
        const list = el('fieldset', { class: 'options' }, el('legend', { text: multi ? 'Các phương án (chọn các đáp án đúng)' : 'Các phương án (chọn một đáp án đúng)' }));
        S.options.forEach((o, i) => {
          o.id = String.fromCharCode(65 + i);
          const letter = o.id;
          const keyIn = multi
            ? el('input', { type: 'checkbox', name: 'keys', value: letter, checked: S.keys.has(letter) })
            : el('input', { type: 'radio', name: 'key', value: letter, checked: S.key === letter });
          keyIn.addEventListener('change', () => { if (multi) { if (keyIn.checked) S.keys.add(letter); else S.keys.delete(letter); } else S.key = letter; });
          const row = el('div', { class: 'option-row' }, mathField(`options[${i}].html`, `Phương án ${letter}`, o, false),
            el('div', { class: 'option-side' }, el('label', { class: 'check' }, keyIn, ' Đáp án đúng')));
          if (!multi) {
            const fx = el('input', { type: 'checkbox', checked: o.fixed, name: `options[${i}].fixed` });
            fx.addEventListener('change', () => { o.fixed = fx.checked; });
            row.lastChild.append(el('label', { class: 'check' }, fx, ' Giữ cố định khi trộn'));
          } else if (S.options.length > 2) {
            const del = el('button', { type: 'button', class: 'small', text: `Xoá phương án ${letter}` });
            del.addEventListener('click', () => { collect(); S.options.splice(i, 1); S.keys = new Set(Array.from(S.keys).filter((k) => k !== letter).map((k) => (k > letter ? String.fromCharCode(k.charCodeAt(0) - 1) : k))); renderContent(); });
            row.lastChild.append(del);
          }
          list.append(row);
        });
        kids.push(list);
        if (multi) {
          if (S.options.length < 8) {
            const add = el('button', { type: 'button', text: 'Thêm phương án' });
            add.addEventListener('click', () => { collect(); S.options.push({ id: '', fixed: false, t: { text: '' } }); renderContent(); });
            kids.push(el('p', {}, add));
          }
          const modeSel = KT.select('scoring_mode', [['all_or_nothing', 'Đúng hết các đáp án mới có điểm'], ['per_option', 'Chấm theo từng phương án']], S.mode);
          modeSel.addEventListener('change', () => { S.mode = modeSel.value; });
          kids.push(el('div', { class: 'row' }, KT.field('Cách chấm', modeSel)));
        }
      } else if (S.kind === 'TF4') {
        const list = el('fieldset', { class: 'options' }, el('legend', { text: 'Các ý a), b), c), d)' }));
        S.statements.slice(0, 4).forEach((st, i) => {
          const g = el('div', { class: 'tf-key', role: 'radiogroup', 'aria-label': `Đáp án ý ${st.id}` });
          for (const [val, lab] of [[true, 'Đúng'], [false, 'Sai']]) {
            const r = el('input', { type: 'radio', name: `statements[${i}].key`, value: String(val), checked: S.sk[st.id] === val });
            r.addEventListener('change', () => { S.sk[st.id] = val; });
            g.append(el('label', { class: 'check' }, r, ' ' + lab));
          }
          list.append(el('div', { class: 'option-row' }, mathField(`statements[${i}].html`, `Ý ${st.id})`, st, false), el('div', { class: 'option-side' }, g)));
        });
        kids.push(list);
        const tbl = el('div', { class: 'row score-table' });
        S.table.forEach((v, i) => {
          const inp = el('input', { name: `score_table[${i}]`, value: v, inputMode: 'decimal', size: 5 });
          inp.addEventListener('input', () => { S.table[i] = inp.value; });
          tbl.append(KT.field(`${i} ý đúng`, inp));
        });
        kids.push(el('fieldset', { class: 'checks', name: 'score_table' }, el('legend', { text: 'Tỉ lệ điểm theo số ý đúng' }), tbl));
      } else if (S.kind === 'SHORT') {
        const typeSel = KT.select('answer_type', [['number', 'Số'], ['text', 'Văn bản']], S.answerType);
        const keyIn = el('input', { name: 'key', value: S.shortKey, maxLength: 200, autocomplete: 'off', spellcheck: false });
        const tolIn = el('input', { name: 'tolerance', value: S.tolerance, inputMode: 'decimal', maxLength: 30 });
        const tolField = KT.field('Sai số cho phép', tolIn, 'Ví dụ 0,05; để trống: phải đúng tuyệt đối.');
        typeSel.addEventListener('change', () => { S.answerType = typeSel.value; tolField.hidden = S.answerType === 'text'; });
        keyIn.addEventListener('input', () => { S.shortKey = keyIn.value; });
        tolIn.addEventListener('input', () => { S.tolerance = tolIn.value; });
        tolField.hidden = S.answerType === 'text';
        kids.push(el('div', { class: 'row' }, KT.field('Kiểu đáp án', typeSel), KT.field('Đáp án', keyIn, 'Số thập phân dùng dấu phẩy, ví dụ 2,5.'), tolField));
      } else if (S.kind === 'ESSAY') {
        const list = el('fieldset', { class: 'options' }, el('legend', { text: 'Hướng dẫn chấm (tiêu chí và điểm)' }));
        S.rubric.forEach((r, i) => {
          const cr = el('textarea', { name: `rubric[${i}].criterion`, rows: 2 });
          cr.value = r.criterion;
          const pt = el('input', { name: `rubric[${i}].points`, value: r.points, inputMode: 'decimal', size: 6 });
          cr.addEventListener('input', () => { r.criterion = cr.value; });
          pt.addEventListener('input', () => { r.points = pt.value; });
          const row = el('div', { class: 'rubric-row' }, KT.field(`Tiêu chí ${i + 1}`, cr), KT.field('Điểm', pt));
          if (S.rubric.length > 1) {
            const del = el('button', { type: 'button', class: 'small', text: `Xoá tiêu chí ${i + 1}` });
            del.addEventListener('click', () => { collect(); S.rubric.splice(i, 1); renderContent(); });
            row.append(del);
          }
          list.append(row);
        });
        const add = el('button', { type: 'button', text: 'Thêm tiêu chí' });
        add.addEventListener('click', () => { collect(); S.rubric.push({ criterion: '', points: '1' }); renderContent(); });
        list.append(el('p', {}, add));
        kids.push(list, mathField('model_answer', 'Bài làm mẫu', S.model, true, { rows: 5 }));
      }
      kids.push(mathField('explanation', 'Lời giải', S.explanation, true, { rows: 4 }));
      contentBox.replaceChildren(...kids);
    }
    const collect = () => { for (const f of fields) f.update(); };
    kindSel.addEventListener('change', () => { collect(); S.kind = kindSel.value; renderContent(); });

    // ---------- preview of the whole item
    const pvBox = el('section', { class: 'panel', 'aria-labelledby': 'ed-pv' });
    const pvBtn = el('button', { type: 'button', text: 'Xem trước như học sinh' });
    pvBox.append(el('h2', { id: 'ed-pv', text: 'Xem trước toàn câu' }), pvBtn, el('div', { id: 'editor-preview' }));
    pvBtn.addEventListener('click', () => {
      collect();
      const b = body();
      pvBox.querySelector('#editor-preview').replaceChildren(KT.renderItem({ kind: S.kind, stem: b.item.stem, options: b.item.options || [], statements: b.item.statements || [] }, null, { disabled: true, name: 'edpv', asset: mediaAsset }));
    });

    // ---------- buttons
    const saveBtn = el('button', { type: 'submit', class: 'primary', text: 'Lưu nháp', id: 'save-draft' });
    const submitBtn = el('button', { type: 'button', text: 'Gửi duyệt', id: 'save-submit' });
    const cancel = el('a', { class: 'button', href: S.id ? `#/items/${S.id}` : '#/bank', text: 'Huỷ' });
    const status = el('p', { class: 'hint', role: 'status', id: 'editor-status' });
    form.append(pvBox, top, el('p', { class: 'actions sticky-actions' }, saveBtn, submitBtn, cancel), status);
    root.append(form);

    // ---------- building the body
    const kept = (ref, block) => (ref.text === (ref.orig !== undefined ? fromHTML(ref.orig, block).text : null) ? ref.orig : ref.html);
    function body() {
      const item = { kind: S.kind, subject: S.subject, grade: Number(S.grade), title: S.title.trim(), stem: kept(S.stem, true) };
      if (S.kind === 'MCQ4' || S.kind === 'MR') {
        item.options = S.options.map((o) => Object.assign({ id: o.id, html: kept(o.t, false) }, S.kind === 'MCQ4' && o.fixed ? { fixed: true } : {}));
        if (S.kind === 'MCQ4') item.key = S.key; else { item.keys = Array.from(S.keys).sort(); item.scoring_mode = S.mode; }
      } else if (S.kind === 'TF4') {
        item.statements = S.statements.slice(0, 4).map((st) => ({ id: st.id, html: kept(st.t, false), key: S.sk[st.id] }));
        item.score_table = S.table.map(decIn);
      } else if (S.kind === 'SHORT') {
        item.key = S.answerType === 'text' ? S.shortKey.trim() : decIn(S.shortKey);
        if (S.answerType === 'text') item.answer_type = 'text';
        else if (S.tolerance.trim()) item.tolerance = decIn(S.tolerance);
      } else if (S.kind === 'ESSAY') {
        item.rubric = S.rubric.map((r) => ({ criterion: r.criterion.trim(), points: decIn(r.points) }));
        const m = kept(S.model, true);
        if (m) item.model_answer = m;
      }
      const ex = kept(S.explanation, true);
      if (ex) item.explanation = ex;
      const tags = [];
      if (S.outcome) tags.push(S.outcome);
      if (S.level) tags.push(S.level);
      tags.push({ TF4: 'DT.DS', SHORT: 'DT.TLN', ESSAY: 'DT.TL' }[S.kind] || 'DT.NLC');
      for (const cp of S.comps) tags.push(cp);
      const known = new Set(tags);
      for (const t of (view && view.tags) || []) if (!/^(MD\.|DT\.|NL\.|VN\d+\.)/.test(t) && !known.has(t)) tags.push(t);
      return { item, tags };
    }
    function latexErrors() {
      const bad = [];
      for (const f of fields) if (f.holder.errors && f.holder.errors.length) bad.push(f.name);
      return bad;
    }

    async function save() {
      collect();
      KT.clearError(top);
      if (!S.title.trim()) {
        KT.showError(top, { error: { message: 'Cần nhập tiêu đề câu hỏi.', details: [{ field: 'title', message: 'Không được để trống.' }] } }, form);
        return false;
      }
      const bad = latexErrors();
      if (bad.length) {
        KT.showError(top, { error: { message: 'Còn công thức LaTeX bị lỗi; thầy cô sửa các ô được đánh dấu trước khi lưu.' } });
        const f = form.querySelector(`[name="${CSS.escape(bad[0])}"]`);
        if (f) f.focus();
        return false;
      }
      const { item, tags } = body();
      let r;
      status.textContent = 'Đang lưu…';
      if (!S.id) {
        const post = Object.assign({ identifier: S.identifier || genId(S.subject, S.grade) }, item);
        if (S.outcome) post.outcome = S.outcome;
        if (S.level) post.level = S.level;
        if (S.comps.size) post.competencies = Array.from(S.comps);
        r = await KT.api('POST', '/items', post);
      } else {
        const content = Object.assign({}, c, { stem: item.stem });
        const scoring = {};
        for (const k of ['key', 'keys', 'scoring_mode', 'score_table', 'tolerance', 'answer_type', 'rubric', 'model_answer', 'explanation']) if (item[k] !== undefined) scoring[k] = item[k];
        if (item.options) content.options = item.options;
        if (item.statements) {
          content.statements = item.statements.map((x) => ({ id: x.id, html: x.html }));
          scoring.statement_keys = Object.fromEntries(item.statements.map((x) => [x.id, x.key]));
        }
        r = await KT.api('PATCH', `/items/${S.id}`, { version: S.version, title: item.title, content, scoring, tags });
      }
      status.textContent = '';
      if (!r.ok) {
        KT.showError(top, normalizeErrors(r), form);
        top.scrollIntoView({ block: 'nearest' });
        return false;
      }
      const fresh = !S.id;
      S.id = r.data.id;
      S.version = r.data.current_version || r.data.version;
      S.identifier = r.data.identifier;
      identIn.value = S.identifier;
      identIn.disabled = true;
      subjectSel.disabled = gradeSel.disabled = kindSel.disabled = true;
      view = r.data;
      if (fresh) history.replaceState(null, '', `#/items/${S.id}/edit`);
      cancel.href = `#/items/${S.id}`;
      status.textContent = `Đã lưu phiên bản ${S.version}.`;
      return r.data;
    }
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      saveBtn.disabled = submitBtn.disabled = true;
      const ok = await save();
      saveBtn.disabled = submitBtn.disabled = false;
      if (ok) KT.toast(`Đã lưu nháp (phiên bản ${S.version}).`);
    });
    submitBtn.addEventListener('click', async () => {
      saveBtn.disabled = submitBtn.disabled = true;
      const v = await save();
      if (v) {
        const r = await KT.api('PATCH', `/items/${S.id}`, { status: 'submitted', version: S.version });
        if (r.ok) { KT.toast('Đã gửi câu hỏi cho tổ trưởng duyệt.'); KT.go(`#/items/${S.id}`); return; }
        KT.showError(top, r);
      }
      saveBtn.disabled = submitBtn.disabled = false;
    });

    await renderTags();
    renderContent();
  }

  const fold = (s) => String(s || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd').replace(/Đ/g, 'D').toLowerCase();
})();

/*
 * kiemtra — the item renderer shared by the student page and the staff
 * pages: an item as the student sees it (stem, options, statements, the
 * answer controls of each format, imported QTI bodies with their
 * interactions), and the answer read back from those controls. The student
 * page keeps its journal and saving; the staff pages use the same renderer,
 * disabled, for the preview of an item, so a teacher sees exactly what a
 * student will see.
 *
 * Teacher-written HTML goes through KT.safeHTML. Images of an item never
 * load by themselves: a native item's <img src="media/FILE"> and a QTI
 * item's <img data-kt-asset="PATH"> get their picture from opts.asset(path),
 * which fetches it with the token from the page's asset route and resolves
 * to a data: URL (the only images besides same-origin ones the CSP allows),
 * or null (the alt text stays).
 *
 * Plain browser JavaScript, no build step; loaded after /common/kt.js, it
 * adds KT.renderer (and the KT.renderItem / KT.itemResponse shortcuts;
 * KT.render is the staff router of core.js).
 */
'use strict';

(function () {
  const KT = window.KT;
  const { el, safeHTML } = KT;

  const HINTS = {
    MCQ4: 'Chọn một phương án đúng.',
    MR: 'Chọn tất cả các phương án đúng.',
    TF4: 'Với mỗi ý a), b), c), d), chọn Đúng hoặc Sai.',
    SHORT: 'Điền câu trả lời ngắn.',
    ESSAY: 'Trình bày bài làm tự luận.',
    QTI: '',
  };
  const MEDIA = /^media\/[A-Za-z0-9._-]+$/;

  /* Fetches an image with the page's token (sessionStorage, never sent
   * anywhere else) and resolves to a data: URL, or null when it is not an
   * image or cannot be had. */
  function fetchImage(url) {
    let tok = null;
    try { tok = window.sessionStorage.getItem('kiemtra.token'); } catch (e) { tok = null; }
    return fetch(url, { headers: tok ? { Authorization: 'Bearer ' + tok } : {}, credentials: 'omit', cache: 'no-store' })
      .then((r) => (r.ok ? r.blob() : null))
      .then((b) => new Promise((resolve) => {
        if (!b || !b.type.startsWith('image/')) { resolve(null); return; }
        const fr = new FileReader();
        fr.onload = () => resolve(fr.result);
        fr.onerror = () => resolve(null);
        fr.readAsDataURL(b);
      }))
      .catch(() => null);
  }

  /* The item images inside `root`: relative media/ sources and QTI assets
   * are taken off the element (nothing loads from a relative URL) and
   * filled from asset(path) when the caller gives one. */
  function loadImages(root, asset) {
    for (const img of root.querySelectorAll('img')) {
      const src = img.getAttribute('src') || '';
      let path = null;
      if (img.dataset.ktAsset) path = img.dataset.ktAsset;
      else if (MEDIA.test(src)) { path = src; img.dataset.ktMedia = src; }
      else continue;
      img.removeAttribute('src');
      if (!asset) continue;
      Promise.resolve(asset(path)).then((url) => { if (url) img.src = url; }).catch(() => { /* the alt text stays */ });
    }
  }

  /* Teacher-written HTML as a fragment: cleaned, images from asset(). */
  function html(h, opts) {
    const frag = safeHTML(h);
    loadImages(frag, opts && opts.asset);
    return frag;
  }
  const htmlSpan = (h, opts) => { const s = el('span', { class: 'opt-html' }); s.append(html(h, opts)); return s; };

  /* The answer controls of one item (without the surrounding fieldset):
   * an array of nodes. value is the saved answer; opts.name prefixes the
   * control names and ids. */
  function controls(it, v, opts) {
    opts = opts || {};
    const name = opts.name || 'ans';
    const nodes = [];
    if (it.kind === 'MCQ4' || it.kind === 'MR') {
      const multi = it.kind === 'MR';
      const chosen = new Set(multi ? (Array.isArray(v) ? v : []) : v === null || v === undefined ? [] : [v]);
      (it.options || []).forEach((o, i) => {
        const letter = String.fromCharCode(65 + i);
        const id = `${name}-${i}`;
        const input = el('input', { type: multi ? 'checkbox' : 'radio', name, id, value: o.id, checked: chosen.has(o.id) });
        nodes.push(el('label', { class: 'opt', for: id }, input, el('span', { class: 'letter', text: letter + '.' }), htmlSpan(o.html, opts)));
      });
    } else if (it.kind === 'TF4') {
      const obj = v && typeof v === 'object' && !Array.isArray(v) ? v : {};
      (it.statements || []).forEach((s, i) => {
        const letter = String.fromCharCode(97 + i);
        const group = `${name}-${s.id}`;
        const fs = el('fieldset', { class: 'tf', 'data-statement': s.id },
          el('legend', null, el('span', { class: 'letter', text: letter + ')' }), htmlSpan(s.html, opts)));
        const choices = el('div', { class: 'tf-choices' });
        for (const [val, label] of [[true, 'Đúng'], [false, 'Sai']]) {
          const id = `${group}-${val ? 'd' : 's'}`;
          const input = el('input', { type: 'radio', name: group, id, value: String(val), checked: obj[s.id] === val, 'data-statement': s.id });
          choices.append(el('label', { class: 'tf-choice', for: id }, input, el('span', { text: label })));
        }
        fs.append(choices);
        nodes.push(fs);
      });
    } else if (it.kind === 'SHORT') {
      const id = name + '-text';
      nodes.push(el('label', { for: id, class: 'field-label', text: 'Câu trả lời của em' }),
        el('input', { type: 'text', id, class: 'short', autocomplete: 'off', spellcheck: false, maxLength: 200, value: typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v), 'aria-describedby': id + '-hint' }),
        el('p', { class: 'hint', id: id + '-hint', text: 'Số thập phân dùng dấu phẩy, ví dụ 1,5.' }));
    } else if (it.kind === 'QTI') {
      nodes.push(qti(it, v, name, opts));
    } else if (it.kind === 'ESSAY') {
      const id = name + '-text';
      const ta = el('textarea', { id, class: 'essay', rows: 12, maxLength: 6600, spellcheck: false, 'aria-describedby': id + '-count' });
      ta.value = typeof v === 'string' ? v : '';
      nodes.push(el('label', { for: id, class: 'field-label', text: 'Bài làm của em' }), ta,
        el('p', { class: 'hint', id: id + '-count', text: `${ta.value.length}/6600 ký tự` }));
    } else {
      nodes.push(el('p', { class: 'notice', text: 'Dạng câu hỏi này chưa hiển thị được trên trang làm bài.' }));
    }
    return nodes;
  }

  /* An imported QTI item: its sanitised body with each interaction
   * placeholder replaced by a control. The response is one object
   * {RESPONSE_ID: value}; choices come in the form's order (shuffled by the
   * server), so nothing is reordered here. */
  function qti(it, v, name, opts) {
    const root = el('div', { class: 'qti' });
    root.append(safeHTML(it.html));
    const given = v && typeof v === 'object' && !Array.isArray(v) ? v : {};
    (it.interactions || []).forEach((ia, n) => {
      const ph = root.querySelector(`[data-kt-interaction="${n}"]`);
      if (ph) ph.replaceWith(qtiControl(ia, given[ia.response_identifier], `${name}-${n}`));
    });
    loadImages(root, opts && opts.asset);
    return root;
  }

  function qtiControl(ia, v, name) {
    const box = el(['textEntry', 'inlineChoice'].includes(ia.type) ? 'span' : 'div',
      { class: 'qti-' + ia.type, 'data-rid': ia.response_identifier, 'data-type': ia.type });
    if (ia.prompt_html) { const p = el('div', { class: 'qti-prompt' }); p.append(safeHTML(ia.prompt_html)); box.append(p); }
    const html = (h) => { const s = el('span', { class: 'opt-html' }); s.append(safeHTML(h)); return s; };
    if (ia.type === 'choice') {
      const multi = ia.cardinality !== 'single';
      const chosen = new Set(Array.isArray(v) ? v : v ? [v] : []);
      (ia.choices || []).forEach((c, i) => {
        const id = `${name}-${i}`;
        box.append(el('label', { class: 'opt', for: id },
          el('input', { type: multi ? 'checkbox' : 'radio', name, id, value: c.identifier, checked: chosen.has(c.identifier), 'data-max': multi ? ia.max_choices || 0 : 1 }),
          el('span', { class: 'letter', text: String.fromCharCode(65 + i) + '.' }), html(c.html)));
      });
      if (multi && ia.max_choices > 0) box.append(el('p', { class: 'hint', text: `Chọn tối đa ${ia.max_choices} phương án.` }));
    } else if (ia.type === 'inlineChoice') {
      const sel = el('select', { name, 'aria-label': 'Chọn đáp án' }, el('option', { value: '', text: '—' }));
      for (const c of ia.choices || []) {
        const t = document.createElement('template');
        t.innerHTML = c.html;
        sel.append(el('option', { value: c.identifier, text: t.content.textContent.trim(), selected: v === c.identifier }));
      }
      box.append(sel);
    } else if (ia.type === 'textEntry') {
      const numeric = ia.base_type === 'float' || ia.base_type === 'integer';
      box.append(el('input', { type: 'text', name, class: 'qti-text', autocomplete: 'off', spellcheck: false, maxLength: 200,
        size: Math.max(3, Math.min(40, ia.expected_length || 10)), value: typeof v === 'string' ? v : '',
        'aria-label': numeric ? 'Điền số (dấu phẩy hoặc dấu chấm)' : 'Điền câu trả lời', 'data-numeric': numeric ? '1' : null }));
    } else if (ia.type === 'extendedText') {
      const ta = el('textarea', { name, class: 'essay', rows: Math.max(3, Math.min(20, ia.expected_lines || 8)), maxLength: 6600, spellcheck: false, 'aria-label': 'Bài làm của em' });
      ta.value = typeof v === 'string' ? v : '';
      box.append(ta);
    } else if (ia.type === 'order') {
      const byId = new Map((ia.choices || []).map((c) => [c.identifier, c]));
      const ids = Array.isArray(v) && v.every((x) => byId.has(x)) && v.length === byId.size ? v : Array.from(byId.keys());
      const ol = el('ol', { class: 'qti-order-list', 'data-answered': Array.isArray(v) ? '1' : null });
      const move = (li, d) => {
        const to = d < 0 ? li.previousElementSibling : li.nextElementSibling;
        if (!to) return;
        if (d < 0) ol.insertBefore(li, to); else ol.insertBefore(to, li);
        ol.dataset.answered = '1';
        li.querySelector(d < 0 ? '.up' : '.down').focus();
        box.dispatchEvent(new Event('change', { bubbles: true }));
      };
      for (const id of ids) {
        const li = el('li', { 'data-id': id }, html(byId.get(id).html));
        const up = el('button', { type: 'button', class: 'up', text: '↑', 'aria-label': 'Đưa lên' });
        const down = el('button', { type: 'button', class: 'down', text: '↓', 'aria-label': 'Đưa xuống' });
        up.addEventListener('click', () => move(li, -1));
        down.addEventListener('click', () => move(li, 1));
        li.append(up, down);
        ol.append(li);
      }
      box.append(ol);
    } else if (ia.type === 'match') {
      const [rows, cols] = ia.sets || [[], []];
      const chosen = new Set(Array.isArray(v) ? v : []);
      const head = el('tr', null, el('th', { text: '' }), ...cols.map((c) => el('th', null, html(c.html))));
      const table = el('table', { class: 'qti-match-grid' }, el('thead', null, head));
      const body = el('tbody');
      rows.forEach((r) => {
        const tr = el('tr', null, el('th', { scope: 'row' }, html(r.html)));
        for (const c of cols) {
          const pair = `${r.identifier} ${c.identifier}`;
          tr.append(el('td', null, el('input', { type: 'checkbox', name, value: pair, checked: chosen.has(pair), 'data-max': ia.max_associations || 0, 'aria-label': pair })));
        }
        body.append(tr);
      });
      table.append(body);
      box.append(table);
    } else if (ia.type === 'gapMatch') {
      const chosen = new Map((Array.isArray(v) ? v : []).map((p) => p.split(' ')).map(([a, b]) => [b, a]));
      const content = el('div', { class: 'qti-gap-text' });
      content.append(safeHTML(ia.html));
      for (const gap of content.querySelectorAll('[data-kt-gap]')) {
        const g = gap.dataset.ktGap;
        const sel = el('select', { name: `${name}-${g}`, 'data-gap': g, 'aria-label': 'Chọn từ điền vào chỗ trống' }, el('option', { value: '', text: '—' }));
        for (const c of ia.choices || []) {
          const t = document.createElement('template');
          t.innerHTML = c.html;
          sel.append(el('option', { value: c.identifier, text: t.content.textContent.trim(), selected: chosen.get(g) === c.identifier }));
        }
        gap.replaceWith(sel);
      }
      box.append(content);
    }
    return box;
  }

  /* At most data-max boxes of one group checked (0: no limit). Returns the
   * message to announce when a box was unticked, else null. */
  function limitChoices(t) {
    const max = Number(t.dataset.max) || 0;
    if (!t.checked || !max) return null;
    const group = Array.from(t.closest('[data-rid]').querySelectorAll('input[type=checkbox]')).filter((c) => c.checked);
    if (group.length > max) { t.checked = false; return `Chỉ chọn được tối đa ${max}.`; }
    return null;
  }

  function qtiResponse(box) {
    const out = {};
    let any = false;
    for (const w of box.querySelectorAll('[data-rid]')) {
      const type = w.dataset.type;
      let val = null;
      if (type === 'choice') {
        const c = Array.from(w.querySelectorAll('input:checked')).map((x) => x.value);
        val = w.querySelector('input[type=radio]') ? c[0] || null : c.length ? c : null;
      } else if (type === 'inlineChoice') {
        val = w.querySelector('select').value || null;
      } else if (type === 'textEntry') {
        const inp = w.querySelector('input');
        const t = inp.value.trim();
        val = t === '' ? null : inp.dataset.numeric ? t.replace(',', '.') : t;
      } else if (type === 'extendedText') {
        const t = w.querySelector('textarea').value;
        val = t.trim() === '' ? null : t;
      } else if (type === 'order') {
        const ol = w.querySelector('ol');
        val = ol.dataset.answered ? Array.from(ol.children).map((li) => li.dataset.id) : null;
      } else if (type === 'match') {
        const c = Array.from(w.querySelectorAll('input:checked')).map((x) => x.value);
        val = c.length ? c : null;
      } else if (type === 'gapMatch') {
        const c = Array.from(w.querySelectorAll('select[data-gap]')).filter((s) => s.value).map((s) => `${s.value} ${s.dataset.gap}`);
        val = c.length ? c : null;
      }
      out[w.dataset.rid] = val;
      any = any || val !== null;
    }
    return any ? out : null;
  }

  /* The answer the controls in `box` hold for item `it` (null: none). */
  function response(box, it) {
    if (it.kind === 'MCQ4') {
      const c = box.querySelector('input[type=radio]:checked');
      return c ? c.value : null;
    }
    if (it.kind === 'MR') {
      const ids = Array.from(box.querySelectorAll('input[type=checkbox]')).filter((c) => c.checked).map((c) => c.value);
      return ids.length ? ids : null;
    }
    if (it.kind === 'TF4') {
      const obj = {};
      for (const r of box.querySelectorAll('input[type=radio]:checked')) obj[r.dataset.statement] = r.value === 'true';
      return Object.keys(obj).length ? obj : null;
    }
    if (it.kind === 'QTI') return qtiResponse(box);
    const t = box.querySelector('input.short, textarea.essay');
    return !t || t.value.trim() === '' ? null : t.value;
  }

  /* A whole item as the student sees it: stem, hint, and the answer
   * controls in a fieldset. opts: name, asset(path), disabled, hint (false
   * to leave it out), label (the fieldset's legend), onChange(response). */
  function renderItem(it, v, opts) {
    opts = opts || {};
    const wrap = el('div', { class: 'kt-item question', 'data-kind': it.kind });
    const stem = el('div', { class: 'stem' });
    if (it.kind !== 'QTI') stem.append(html(it.stem, opts));
    if (opts.hint !== false && HINTS[it.kind]) stem.append(el('p', { class: 'hint', text: HINTS[it.kind] }));
    const box = el('fieldset', { class: 'answer', disabled: !!opts.disabled },
      el('legend', { class: 'sr-only', text: opts.label || 'Câu trả lời' }), ...controls(it, v, opts));
    if (opts.onChange) {
      const on = (ev) => {
        const t = ev.target;
        if (it.kind === 'QTI' && ev.type === 'change' && t.type === 'checkbox') limitChoices(t);
        const text = ev.type === 'input' && (t.tagName === 'TEXTAREA' || t.type === 'text');
        if (!text && ev.type !== 'change') return;
        opts.onChange(response(box, it), ev);
      };
      box.addEventListener('change', on);
      box.addEventListener('input', on);
    }
    wrap.append(stem, box);
    return wrap;
  }

  KT.renderer = { HINTS, fetchImage, loadImages, html, controls, qtiResponse, limitChoices, response, item: renderItem };
  KT.renderItem = renderItem;
  KT.itemResponse = (node, it) => response(node.querySelector('fieldset.answer') || node, it);
})();

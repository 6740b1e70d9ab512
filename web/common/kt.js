/*
 * kiemtra — what the student page and the staff pages share: storage
 * wrappers, a DOM builder, the decimal comma, and safeHTML, the allow-list
 * every piece of teacher-written HTML passes before it reaches the page.
 * Plain browser JavaScript, no build step; it defines window.KT and nothing
 * else. Loaded before the page's own script.
 */
'use strict';

(function () {
  function store(area) {
    return {
      get(k) { try { return area.getItem(k); } catch (e) { return null; } },
      set(k, v) { try { area.setItem(k, v); return true; } catch (e) { return false; } },
      del(k) { try { area.removeItem(k); } catch (e) { /* unavailable */ } },
      json(k) { try { const v = area.getItem(k); return v ? JSON.parse(v) : null; } catch (e) { return null; } },
      keys() { try { return Object.keys(area); } catch (e) { return []; } },
    };
  }

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role' || k === 'for') e.setAttribute(k, v === true ? '' : String(v));
      else e[k] = v;
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }

  function decimalVi(s) {
    if (s === null || s === undefined) return '';
    let t = String(s);
    if (t.includes('.')) t = t.replace(/0+$/, '').replace(/\.$/, '');
    return t.replace('.', ',');
  }

  /* Teacher-written HTML (stems, options, QTI bodies): parsed inert in a
   * <template>, then only an allow-list is kept: text, formatting, tables,
   * images, MathML and static SVG shapes, with their presentational
   * attributes. Never `style`, ids or the page's classes (an item must not
   * cover or restyle the page), links, forms, media, or SVG animation
   * (<animate>/<set> can write a javascript: href). Other elements go with
   * their content, except a few HTML wrappers (a, font, label...) that are
   * replaced by their content. The server cleans stored HTML too; this is
   * the second line, and the CSP the third. */
  const words = (s) => new Set(s.split(' '));
  const NS_MATH = 'http://www.w3.org/1998/Math/MathML', NS_SVG = 'http://www.w3.org/2000/svg';
  const KEEP = {
    html: words('p div span b i em strong sub sup br ul ol li table caption thead tbody tfoot tr th td ' +
      'colgroup col img h1 h2 h3 h4 h5 h6 blockquote pre code hr u s small big tt dl dt dd q cite abbr ' +
      'dfn kbd samp var mark figure figcaption bdo bdi ruby rb rp rt rtc wbr'),
    math: words('math mi mn mo ms mtext mspace mrow mfrac msqrt mroot mstyle merror mpadded mphantom ' +
      'mfenced menclose msub msup msubsup munder mover munderover mmultiscripts mprescripts none mtable ' +
      'mtr mtd mlabeledtr semantics annotation'),
    svg: words('svg g path line polyline polygon rect circle ellipse text tspan title desc'),
  };
  const UNWRAP = words('a font center label nav details summary section article header footer aside address acronym main');
  const CELL = words('colspan rowspan scope align valign headers');
  const ATTRS = {
    html: words('lang dir title data-kt-interaction data-kt-asset data-kt-gap'),
    td: CELL, th: CELL, ol: words('start type reversed'), li: words('value'), col: words('span'),
    colgroup: words('span'), img: words('src alt width height'),
    math: words('mathvariant display displaystyle scriptlevel fence separator stretchy symmetric largeop ' +
      'movablelimits accent accentunder form lspace rspace linethickness bevelled notation open close ' +
      'separators columnalign rowalign columnspan rowspan columnlines rowlines frame width height depth ' +
      'voffset mathsize minsize maxsize numalign denomalign align dir encoding'),
    svg: words('viewbox width height x y x1 y1 x2 y2 cx cy r rx ry d points fill fill-rule fill-opacity ' +
      'stroke stroke-width stroke-dasharray stroke-linecap stroke-linejoin stroke-opacity opacity ' +
      'transform font-size font-family font-weight font-style text-anchor dominant-baseline dx dy ' +
      'preserveaspectratio'),
  };
  const NONE = new Set();
  function attrAllowed(ns, el, name, value) {
    if (/url\(|javascript:|vbscript:|expression\(/.test(value)) return false;
    if (ns !== 'html') return ATTRS[ns].has(name);
    if (name === 'src') {
      return el === 'img' && !/^(javascript|vbscript):/.test(value) &&
        (!value.startsWith('data:') || value.startsWith('data:image/'));
    }
    return ATTRS.html.has(name) || (ATTRS[el] || NONE).has(name);
  }
  function safeHTML(html) {
    const t = document.createElement('template');
    t.innerHTML = String(html || '');
    for (const node of Array.from(t.content.querySelectorAll('*'))) {
      const ns = node.namespaceURI === NS_MATH ? 'math' : node.namespaceURI === NS_SVG ? 'svg' : 'html';
      const name = node.localName.toLowerCase();
      if (!KEEP[ns].has(name)) {
        if (ns === 'html' && UNWRAP.has(name)) node.replaceWith(...node.childNodes); else node.remove();
        continue;
      }
      for (const a of Array.from(node.attributes)) {
        const n = a.name.toLowerCase();
        const v = a.value.replace(/[\u0000-\u0020]/g, '').toLowerCase();
        // The server's own markers (kt-rubric) are the only classes kept.
        const kt = n === 'class' ? a.value.split(/\s+/).filter((c) => /^kt-[a-z0-9-]+$/.test(c)).join(' ') : '';
        if (kt) node.setAttribute('class', kt);
        else if (!attrAllowed(ns, name, n, v)) node.removeAttribute(a.name);
      }
      if (name === 'img') {
        node.setAttribute('loading', 'eager');
        if (!node.hasAttribute('alt')) node.setAttribute('alt', '');
      }
    }
    return t.content;
  }

  window.KT = Object.assign(window.KT || {}, { store, el, decimalVi, safeHTML });
})();

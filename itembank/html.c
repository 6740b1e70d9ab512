/*
 * The allow-list of student-visible markup (XHTML and MathML elements and
 * attributes), shared by the QTI item view and teacher-written item HTML,
 * and the check of teacher-written HTML: parsed with libxml2's HTML parser,
 * walked with the allow-list, refused by element and attribute name, and
 * written back from the checked tree so that what is stored is exactly what
 * was checked (no parser of a browser can read it differently).
 */
#include "html.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/SAX2.h>

#include "arena.h"
#include "text.h"

#define MATHML_NS "http://www.w3.org/1998/Math/MathML"
#define CLEAN_MAX_DEPTH 64
#define CLEAN_MAX_PROBLEMS 8 /* per field: the first few say enough */

static bool
eq(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

bool
kt_str_in_set(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (eq(s, *set))
            return true;
    return false;
}

/* ---- the allow-list -------------------------------------------------------- */

static const char *const ELEMENTS[] = {
    "p",       "div",    "span",       "b",       "i",       "em",       "strong",     "sub",
    "sup",     "br",     "ul",         "ol",      "li",      "table",    "caption",    "thead",
    "tbody",   "tfoot",  "tr",         "th",      "td",      "colgroup", "col",        "img",
    "h1",      "h2",     "h3",         "h4",      "h5",      "h6",       "blockquote", "pre",
    "code",    "hr",     "u",          "small",   "big",     "tt",       "dl",         "dt",
    "dd",      "q",      "cite",       "abbr",    "acronym", "dfn",      "kbd",        "samp",
    "var",     "figure", "figcaption", "section", "article", "header",   "footer",     "aside",
    "address", "bdo",    "bdi",        "ruby",    "rb",      "rp",       "rt",         "rtc",
    "wbr",     NULL};
static const char *const VOID_ELEMENTS[] = {"br", "hr", "img", "col", "wbr", NULL};

static const char *const MATHML[] = {
    "math",        "mi",         "mn",        "mo",      "ms",         "mtext",
    "mspace",      "mrow",       "mfrac",     "msqrt",   "mroot",      "mstyle",
    "merror",      "mpadded",    "mphantom",  "mfenced", "menclose",   "msub",
    "msup",        "msubsup",    "munder",    "mover",   "munderover", "mmultiscripts",
    "mprescripts", "none",       "mtable",    "mtr",     "mtd",        "mlabeledtr",
    "maligngroup", "malignmark", "semantics",  "annotation", NULL};
static const char *const MATHML_ATTRS[] = {
    "mathvariant",   "display",     "displaystyle", "scriptlevel", "fence",
    "separator",     "stretchy",    "symmetric",    "largeop",     "movablelimits",
    "accent",        "accentunder", "form",         "lspace",      "rspace",
    "linethickness", "bevelled",    "notation",     "open",        "close",
    "separators",    "columnalign", "rowalign",     "columnspan",  "rowspan",
    "columnlines",   "rowlines",    "frame",        "width",       "height",
    "depth",         "voffset",     "mathsize",     "minsize",     "maxsize",
    "numalign",      "denomalign",  "align",        "dir",         "rowspacing",
    "columnspacing", "encoding",    NULL};

bool
kt_html_element_ok(const char *name)
{
    return kt_str_in_set(name, ELEMENTS);
}

bool
kt_html_void(const char *name)
{
    return kt_str_in_set(name, VOID_ELEMENTS);
}

bool
kt_html_attr_ok(const char *el, const char *a)
{
    static const char *const GLOBAL[] = {"lang", "dir", "title", NULL};
    if (kt_str_in_set(a, GLOBAL))
        return true;
    if (eq(el, "td") || eq(el, "th"))
        return eq(a, "colspan") || eq(a, "rowspan") || eq(a, "scope") || eq(a, "align") ||
               eq(a, "valign");
    if (eq(el, "ol"))
        return eq(a, "start") || eq(a, "type");
    if (eq(el, "li"))
        return eq(a, "value");
    if (eq(el, "col") || eq(el, "colgroup"))
        return eq(a, "span");
    if (eq(el, "img"))
        return eq(a, "alt") || eq(a, "width") || eq(a, "height");
    return false;
}

bool
kt_mathml_element_ok(const char *name)
{
    return kt_str_in_set(name, MATHML);
}

bool
kt_mathml_attr_ok(const char *a)
{
    return kt_str_in_set(a, MATHML_ATTRS);
}

/* ---- teacher-written HTML ------------------------------------------------- */

struct clean {
    char *out;
    size_t n, cap;
    const char *field;
    json_t *problems;
    int refused;
};

static void
put(struct clean *c, const char *s, size_t n)
{
    c->out = kt_grow(c->out, &c->cap, c->n + n + 1, 1);
    memcpy(c->out + c->n, s, n);
    c->n += n;
    c->out[c->n] = '\0';
}

static void
puts_(struct clean *c, const char *s)
{
    put(c, s, strlen(s));
}

/* Text (quote false) or an attribute value (quote true), escaped. */
static void
put_escaped(struct clean *c, const char *s, bool quote)
{
    for (; *s; s++) {
        if (*s == '&')
            puts_(c, "&amp;");
        else if (*s == '<')
            puts_(c, "&lt;");
        else if (*s == '>')
            puts_(c, "&gt;");
        else if (*s == '"' && quote)
            puts_(c, "&quot;");
        else
            put(c, s, 1);
    }
}

__attribute__((format(printf, 2, 3))) static void
refuse(struct clean *c, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    if (c->refused++ >= CLEAN_MAX_PROBLEMS || !c->problems)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t i;
    json_t *p;
    json_array_foreach(c->problems, i, p)
    {
        if (eq(json_string_value(json_object_get(p, "field")), c->field) &&
            eq(json_string_value(json_object_get(p, "message")), msg))
            return; /* the same problem twice in a field is said once */
    }
    json_array_append_new(c->problems, json_pack("{s:s,s:s}", "field", c->field, "message", msg));
}

/* A name from the document, short enough for a message. */
static const char *
shown(const xmlChar *name, char buf[48])
{
    if (kt_copy_utf8(buf, 40, (const char *)name))
        strcat(buf, "…");
    return buf;
}

/* An image source: a relative path, or an embedded PNG, JPEG, GIF or WebP. */
static bool
img_src_ok(const char *v)
{
    static const char *const types[] = {"image/png", "image/jpeg", "image/gif", "image/webp"};
    if (strncasecmp(v, "data:", 5) == 0) {
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
            size_t n = strlen(types[i]);
            if (strncasecmp(v + 5, types[i], n) == 0 && (v[5 + n] == ';' || v[5 + n] == ','))
                return true;
        }
        return false;
    }
    if (!*v || *v == '/' || strchr(v, '\\') || strchr(v, ':'))
        return false; /* absolute, protocol-relative or with a scheme */
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false; /* browsers drop tabs and line breaks from URLs */
    return *v != ' ';
}

static void
refuse_attr(struct clean *c, const char *el, const xmlChar *attr)
{
    char a[48];
    shown(attr, a);
    if (strncasecmp(a, "on", 2) == 0)
        refuse(c,
               "Thuộc tính %s của thẻ <%s> không được phép: nội dung câu hỏi không được chứa"
               " mã chạy được.",
               a, el);
    else if (strcasecmp(a, "style") == 0)
        refuse(c,
               "Thuộc tính style của thẻ <%s> không được phép; hãy định dạng bằng các thẻ"
               " như <b>, <i>, <u>, <sub>, <sup>.",
               el);
    else if (strcasecmp(a, "href") == 0 || strcasecmp(a, "src") == 0 || strchr(a, ':'))
        refuse(c,
               "Thuộc tính %s của thẻ <%s> không được phép: câu hỏi không liên kết ra"
               " ngoài.",
               a, el);
    else
        refuse(c, "Thuộc tính %s của thẻ <%s> không được phép.", a, el);
}

static void walk(struct clean *c, const xmlNode *first, bool math, int depth);

static void
attributes(struct clean *c, const xmlNode *n, const char *el, bool math)
{
    for (const xmlAttr *a = n->properties; a; a = a->next) {
        const char *name = (const char *)a->name;
        xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
        const char *value = v ? (const char *)v : "";
        bool ok;
        if (a->ns)
            ok = false;
        else if (eq(el, "math") && eq(name, "xmlns") && eq(value, MATHML_NS)) {
            xmlFree(v);
            continue; /* the namespace MathML has anyway in HTML */
        } else if (eq(el, "img") && eq(name, "src")) {
            if (!img_src_ok(value)) {
                refuse(c, "Ảnh <img> phải có src là đường dẫn tương đối (ví dụ hinh1.png) hoặc"
                          " ảnh nhúng data:image/png, jpeg, gif hoặc webp.");
                xmlFree(v);
                continue;
            }
            ok = true;
        } else {
            ok = math ? kt_mathml_attr_ok(name) : kt_html_attr_ok(el, name);
        }
        if (ok) {
            puts_(c, " ");
            puts_(c, name);
            puts_(c, "=\"");
            put_escaped(c, value, true);
            puts_(c, "\"");
        } else {
            refuse_attr(c, el, a->name);
        }
        xmlFree(v);
    }
}

static void
element(struct clean *c, const xmlNode *n, bool math, int depth)
{
    char el[48];
    const char *name = shown(n->name, el);
    if (depth > CLEAN_MAX_DEPTH) {
        refuse(c, "Nội dung lồng quá sâu (tối đa %d cấp thẻ).", CLEAN_MAX_DEPTH);
        return;
    }
    if (math && eq(name, "annotation-xml"))
        return; /* other encodings of a formula as markup: never shown, as in QTI views */
    if (math && eq(name, "annotation")) {
        /* The formula's source (KaTeX: encoding="application/x-tex"), kept so
         * that the editor can edit it again; browsers show only the first
         * child of <semantics>. Text only. */
        for (const xmlNode *x = n->children; x; x = x->next)
            if (x->type == XML_ELEMENT_NODE) {
                refuse(c, "Thẻ <annotation> trong công thức MathML chỉ được chứa văn bản (mã"
                          " LaTeX của công thức).");
                return;
            }
    }
    math = math || eq(name, "math");
    if (math ? !kt_mathml_element_ok(name) : !kt_html_element_ok(name)) {
        if (math)
            refuse(c, "Thẻ <%s> không được phép trong công thức MathML.", name);
        else
            refuse(c,
                   "Thẻ <%s> không được phép trong nội dung câu hỏi (chỉ văn bản định dạng,"
                   " danh sách, bảng, ảnh và công thức MathML).",
                   name);
        return;
    }
    puts_(c, "<");
    puts_(c, name);
    attributes(c, n, name, math);
    if (!math && kt_html_void(name)) {
        puts_(c, "/>");
        return;
    }
    puts_(c, ">");
    walk(c, n->children, math, depth + 1);
    puts_(c, "</");
    puts_(c, name);
    puts_(c, ">");
}

static void
node(struct clean *c, const xmlNode *x, bool math, int depth)
{
    if (x->type == XML_TEXT_NODE || x->type == XML_CDATA_SECTION_NODE)
        put_escaped(c, (const char *)x->content, false);
    else if (x->type == XML_ELEMENT_NODE)
        element(c, x, math, depth);
    /* comments and processing instructions: invisible, dropped */
}

static void
walk(struct clean *c, const xmlNode *first, bool math, int depth)
{
    for (const xmlNode *x = first; x; x = x->next)
        node(c, x, math, depth);
}

char *
kt_html_clean(const char *html, const char *field, json_t *problems)
{
    struct clean c = {.field = field ? field : "", .problems = problems};
    char *doc;
    int len = asprintf(&doc, "<div>%s</div>", html);
    if (len < 0)
        abort();
    htmlParserCtxtPtr p = htmlNewParserCtxt();
    if (!p)
        abort();
    /* Keep every space: "<b>a</b> <i>b</i>" is not "<b>a</b><i>b</i>". */
    p->sax->ignorableWhitespace = xmlSAX2Characters;
    htmlDocPtr d = htmlCtxtReadMemory(p, doc, len, NULL, "UTF-8",
                                      HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                          HTML_PARSE_NOIMPLIED | HTML_PARSE_NODEFDTD);
    free(doc);
    if (!d) {
        htmlFreeParserCtxt(p);
        refuse(&c, "Không đọc được nội dung HTML.");
        return NULL;
    }
    /* The wrapper's children, then whatever a stray </div> put after it. */
    for (const xmlNode *x = d->children; x; x = x->next) {
        if (x == d->children && x->type == XML_ELEMENT_NODE && eq((const char *)x->name, "div"))
            walk(&c, x->children, false, 1);
        else
            node(&c, x, false, 1);
    }
    xmlFreeDoc(d);
    htmlFreeParserCtxt(p);
    if (c.refused) {
        free(c.out);
        return NULL;
    }
    char *nfc = kt_nfc(c.out ? c.out : "", c.n);
    free(c.out);
    if (!nfc)
        abort();
    return nfc;
}

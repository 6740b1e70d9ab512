/*
 * A form of a published test as a .docx (docx_write.h). The document is
 * written as text (WordprocessingML with OMML equations); item HTML, which
 * the item model keeps in the canonical, well-formed form of
 * kt_html_clean, is read with libxml2 and walked. The package is the
 * minimal one Word and LibreOffice open: [Content_Types].xml, _rels/.rels,
 * word/document.xml, word/styles.xml, word/_rels/document.xml.rels and
 * word/media/ (the pictures).
 */
#include "docx_write.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <zip.h>

#include "omml.h"

#define NS_DECLS                                                                                  \
    " xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\""                   \
    " xmlns:m=\"http://schemas.openxmlformats.org/officeDocument/2006/math\""                     \
    " xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\""            \
    " xmlns:wp=\"http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing\""        \
    " xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\""                          \
    " xmlns:pic=\"http://schemas.openxmlformats.org/drawingml/2006/picture\""

/* Text width of an A4 page with 2 cm margins, in twentieths of a point. */
#define TEXT_TWIPS 9638
#define EMU_PER_PX 9525L
#define MAX_IMG_EMU (TEXT_TWIPS * 635L)

static const char *
elname(const xmlNode *n)
{
    return n && n->type == XML_ELEMENT_NODE ? (const char *)n->name : "";
}

static bool
is(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static void
puts_b(kt_strbuf *b, const char *s)
{
    kt_strbuf_puts(b, s);
}

static void
esc(kt_strbuf *b, const char *s)
{
    kt_strbuf_escape(b, s, strlen(s));
}

static void
printf_b(kt_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
printf_b(kt_strbuf *b, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0)
        kt_strbuf_add(b, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* Element children only. */
static xmlNode *
first_el(xmlNode *n)
{
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return c;
    return NULL;
}

static xmlNode *
next_el(xmlNode *n)
{
    for (xmlNode *c = n ? n->next : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return c;
    return NULL;
}

static size_t
count_el(xmlNode *n)
{
    size_t k = 0;
    for (xmlNode *c = first_el(n); c; c = next_el(c))
        k++;
    return k;
}

/* The text of n with surrounding white space removed, malloc'd. */
static char *
trimmed_text(const xmlNode *n)
{
    xmlChar *t = xmlNodeGetContent(n);
    const char *s = t ? (const char *)t : "";
    while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
        s++;
    size_t len = strlen(s);
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\n' || s[len - 1] == '\t' ||
                   s[len - 1] == '\r'))
        len--;
    char *out = strndup(s, len);
    xmlFree(t);
    if (!out)
        abort();
    return out;
}

static bool
attr_is(const xmlNode *n, const char *name, const char *value)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    bool r = v && strcmp((const char *)v, value) == 0;
    xmlFree(v);
    return r;
}

/* ======================================================================== */
/* MathML to OMML                                                           */

static void m_node(kt_strbuf *b, xmlNode *n);
static void m_seq(kt_strbuf *b, xmlNode *first, xmlNode *stop);

/* A run of math text. sty: NULL (Word's math italic), "p" plain, "b" bold;
 * nor: ordinary text (mtext). */
static void
m_run(kt_strbuf *b, const char *text, const char *sty, bool nor)
{
    if (!*text)
        return;
    puts_b(b, "<m:r>");
    if (nor)
        puts_b(b, "<m:rPr><m:nor/></m:rPr>");
    else if (sty)
        printf_b(b, "<m:rPr><m:sty m:val=\"%s\"/></m:rPr>", sty);
    puts_b(b, "<m:t xml:space=\"preserve\">");
    esc(b, text);
    puts_b(b, "</m:t></m:r>");
}

/* <m:tag>n</m:tag>; an empty argument when n is NULL. */
static void
m_arg(kt_strbuf *b, const char *tag, xmlNode *n)
{
    printf_b(b, "<m:%s>", tag);
    if (n)
        m_node(b, n);
    printf_b(b, "</m:%s>", tag);
}

static const char *const LARGE_OPS[] = {"∑", "∏", "∐", "∫", "∬", "∭", "∮", "⋃", "⋂", "⋁", "⋀",
                                        NULL};

/* The character of a large operator base (an <mo> ∑ ∫ ...), else NULL;
 * malloc'd. */
static char *
large_op(xmlNode *n)
{
    if (!is(n, "mo"))
        return NULL;
    char *t = trimmed_text(n);
    for (int i = 0; LARGE_OPS[i]; i++)
        if (strcmp(t, LARGE_OPS[i]) == 0)
            return t;
    free(t);
    return NULL;
}

/* A scripted large operator as m:nary; the operand is e (may be NULL). */
static void
m_nary(kt_strbuf *b, const char *chr, bool undovr, xmlNode *sub, xmlNode *sup, xmlNode *e)
{
    puts_b(b, "<m:nary><m:naryPr><m:chr m:val=\"");
    esc(b, chr);
    printf_b(b, "\"/><m:limLoc m:val=\"%s\"/>", undovr ? "undOvr" : "subSup");
    if (!sub)
        puts_b(b, "<m:subHide m:val=\"1\"/>");
    if (!sup)
        puts_b(b, "<m:supHide m:val=\"1\"/>");
    puts_b(b, "</m:naryPr>");
    m_arg(b, "sub", sub);
    m_arg(b, "sup", sup);
    m_arg(b, "e", e);
    puts_b(b, "</m:nary>");
}

/* Sub-, super- and under/over-scripts whose base is a large operator:
 * returns true when written (the operand, the next sibling, consumed). */
static bool
m_try_nary(kt_strbuf *b, xmlNode *n, xmlNode *stop, xmlNode **next)
{
    const char *name = elname(n);
    bool undovr = strcmp(name, "munderover") == 0 || strcmp(name, "munder") == 0 ||
                  strcmp(name, "mover") == 0;
    if (!undovr && strcmp(name, "msubsup") != 0 && strcmp(name, "msub") != 0 &&
        strcmp(name, "msup") != 0)
        return false;
    xmlNode *base = first_el(n);
    char *chr = large_op(base);
    if (!chr)
        return false;
    xmlNode *a1 = next_el(base), *a2 = next_el(a1), *sub = NULL, *sup = NULL;
    if (strcmp(name, "munderover") == 0 || strcmp(name, "msubsup") == 0)
        sub = a1, sup = a2;
    else if (strcmp(name, "munder") == 0 || strcmp(name, "msub") == 0)
        sub = a1;
    else
        sup = a1;
    xmlNode *e = next_el(n);
    if (e == stop)
        e = NULL;
    m_nary(b, chr, undovr, sub, sup, e);
    *next = e ? next_el(e) : next_el(n);
    free(chr);
    return true;
}

static const char *const OPENERS[] = {"(", "[", "{", "⟨", "⌊", "⌈", NULL};
static const char *const CLOSERS[] = {")", "]", "}", "⟩", "⌋", "⌉", NULL};

static int
index_in(const char *t, const char *const *set)
{
    for (int i = 0; set[i]; i++)
        if (strcmp(t, set[i]) == 0)
            return i;
    return -1;
}

/* An <mo> that may open or close a delimiter: a bracket, or any operator
 * marked fence="true" (bars only then). */
static bool
is_fence(xmlNode *n)
{
    if (!is(n, "mo"))
        return false;
    if (attr_is(n, "fence", "true"))
        return true;
    char *t = trimmed_text(n);
    bool r = index_in(t, OPENERS) >= 0 || index_in(t, CLOSERS) >= 0;
    free(t);
    return r;
}

/* The closing fence of open at the same level, or NULL. "(" closes with
 * ")" (or, an interval, with the other bracket: "[0; 1)"), a bar marked
 * fence="true" with the same bar; brackets between nest. Brackets pair
 * whether marked or not: Word and LibreOffice draw an m:d, where a lone
 * bracket run may not convert (LibreOffice's formula editor). */
static xmlNode *
matching_fence(xmlNode *open)
{
    char *o = trimmed_text(open);
    bool bar = (strcmp(o, "|") == 0 || strcmp(o, "‖") == 0) && attr_is(open, "fence", "true");
    if (!bar && index_in(o, OPENERS) < 0) {
        free(o);
        return NULL;
    }
    int depth = 0;
    xmlNode *found = NULL;
    for (xmlNode *c = next_el(open); c && !found; c = next_el(c)) {
        if (!is_fence(c))
            continue;
        char *t = trimmed_text(c);
        bool closer = index_in(t, CLOSERS) >= 0;
        if (depth == 0 && (bar ? strcmp(t, o) == 0 : closer))
            found = c;
        else if (index_in(t, OPENERS) >= 0)
            depth++;
        else if (closer && depth > 0)
            depth--;
        free(t);
    }
    free(o);
    return found;
}

/* open ... close as m:d, separators (<mo separator="true">) splitting the
 * m:e arguments. An empty fence character is a missing one ("{" alone). */
static void
m_delim(kt_strbuf *b, xmlNode *open, xmlNode *close)
{
    char *o = trimmed_text(open), *c = trimmed_text(close);
    char *sep = NULL;
    for (xmlNode *x = next_el(open); x && x != close; x = next_el(x))
        if (is(x, "mo") && attr_is(x, "separator", "true") && !sep)
            sep = trimmed_text(x);
    puts_b(b, "<m:d><m:dPr><m:begChr m:val=\"");
    esc(b, o);
    if (sep) {
        puts_b(b, "\"/><m:sepChr m:val=\"");
        esc(b, sep);
    }
    puts_b(b, "\"/><m:endChr m:val=\"");
    esc(b, c);
    puts_b(b, "\"/></m:dPr><m:e>");
    xmlNode *start = next_el(open);
    for (xmlNode *x = start; x && x != close; x = next_el(x)) {
        if (sep && is(x, "mo") && attr_is(x, "separator", "true")) {
            m_seq(b, start, x);
            puts_b(b, "</m:e><m:e>");
            start = next_el(x);
        }
    }
    if (start && start != close)
        m_seq(b, start, close);
    puts_b(b, "</m:e></m:d>");
    free(o);
    free(c);
    free(sep);
}

/* The element siblings from first up to (not including) stop. */
static void
m_seq(kt_strbuf *b, xmlNode *first, xmlNode *stop)
{
    xmlNode *n = first;
    if (n && n->type != XML_ELEMENT_NODE)
        n = next_el(n);
    while (n && n != stop) {
        xmlNode *next = next_el(n);
        xmlNode *close;
        if (is_fence(n) && (close = matching_fence(n)) != NULL) {
            bool inside = true; /* the closing fence must come before stop */
            for (xmlNode *x = n; x && x != close; x = next_el(x))
                if (x == stop)
                    inside = false;
            if (inside) {
                m_delim(b, n, close);
                n = next_el(close);
                continue;
            }
        }
        if (m_try_nary(b, n, stop, &next)) {
            n = next;
            continue;
        }
        m_node(b, n);
        n = next;
    }
}

static void
m_children(kt_strbuf *b, xmlNode *n)
{
    m_seq(b, first_el(n), NULL);
}

static bool
accent_char(const char *t)
{
    static const char *const acc[] = {"¯", "^", "~", "→", "˙", "¨", "ˆ", "˜", "‾", "←", "↔",
                                      "´", "`", "ˇ", "⃗", "⏞", NULL};
    for (int i = 0; acc[i]; i++)
        if (strcmp(t, acc[i]) == 0)
            return true;
    return false;
}

static void
m_node(kt_strbuf *b, xmlNode *n)
{
    const char *name = elname(n);
    xmlNode *a1 = first_el(n), *a2 = next_el(a1), *a3 = next_el(a2);
    if (strcmp(name, "mi") == 0) {
        char *t = trimmed_text(n);
        xmlChar *v = xmlGetProp(n, (const xmlChar *)"mathvariant");
        const char *sty = NULL;
        if (v && strcmp((const char *)v, "bold") == 0)
            sty = "b";
        else if ((v && strcmp((const char *)v, "normal") == 0) || xmlUTF8Strlen((xmlChar *)t) > 1)
            sty = "p";
        m_run(b, t, sty, false);
        xmlFree(v);
        free(t);
    } else if (strcmp(name, "mn") == 0 || strcmp(name, "mo") == 0 || strcmp(name, "ms") == 0) {
        char *t = trimmed_text(n);
        /* a bar that is no fence ("{x | x < 4}") as U+2223, which the
         * formula editors do not take for a logical "or" */
        m_run(b, strcmp(name, "mo") == 0 && strcmp(t, "|") == 0 ? "∣" : t, "p", false);
        free(t);
    } else if (strcmp(name, "mtext") == 0) {
        xmlChar *t = xmlNodeGetContent(n);
        m_run(b, t ? (const char *)t : "", NULL, true);
        xmlFree(t);
    } else if (strcmp(name, "mspace") == 0) {
        m_run(b, " ", "p", false);
    } else if (strcmp(name, "mfrac") == 0) {
        puts_b(b, "<m:f>");
        if (attr_is(n, "linethickness", "0") || attr_is(n, "linethickness", "0px"))
            puts_b(b, "<m:fPr><m:type m:val=\"noBar\"/></m:fPr>");
        m_arg(b, "num", a1);
        m_arg(b, "den", a2);
        puts_b(b, "</m:f>");
    } else if (strcmp(name, "msqrt") == 0) {
        puts_b(b, "<m:rad><m:radPr><m:degHide m:val=\"1\"/></m:radPr><m:deg/><m:e>");
        m_children(b, n);
        puts_b(b, "</m:e></m:rad>");
    } else if (strcmp(name, "mroot") == 0) {
        puts_b(b, "<m:rad>");
        m_arg(b, "deg", a2);
        m_arg(b, "e", a1);
        puts_b(b, "</m:rad>");
    } else if (strcmp(name, "msup") == 0) {
        puts_b(b, "<m:sSup>");
        m_arg(b, "e", a1);
        m_arg(b, "sup", a2);
        puts_b(b, "</m:sSup>");
    } else if (strcmp(name, "msub") == 0) {
        puts_b(b, "<m:sSub>");
        m_arg(b, "e", a1);
        m_arg(b, "sub", a2);
        puts_b(b, "</m:sSub>");
    } else if (strcmp(name, "msubsup") == 0) {
        puts_b(b, "<m:sSubSup>");
        m_arg(b, "e", a1);
        m_arg(b, "sub", a2);
        m_arg(b, "sup", a3);
        puts_b(b, "</m:sSubSup>");
    } else if (strcmp(name, "mover") == 0) {
        char *t = is(a2, "mo") ? trimmed_text(a2) : NULL;
        if (t && accent_char(t)) {
            puts_b(b, "<m:acc><m:accPr><m:chr m:val=\"");
            esc(b, t);
            puts_b(b, "\"/></m:accPr>");
            m_arg(b, "e", a1);
            puts_b(b, "</m:acc>");
        } else {
            puts_b(b, "<m:limUpp>");
            m_arg(b, "e", a1);
            m_arg(b, "lim", a2);
            puts_b(b, "</m:limUpp>");
        }
        free(t);
    } else if (strcmp(name, "munder") == 0) {
        puts_b(b, "<m:limLow>");
        m_arg(b, "e", a1);
        m_arg(b, "lim", a2);
        puts_b(b, "</m:limLow>");
    } else if (strcmp(name, "munderover") == 0) {
        puts_b(b, "<m:limUpp><m:e><m:limLow>");
        m_arg(b, "e", a1);
        m_arg(b, "lim", a2);
        puts_b(b, "</m:limLow></m:e>");
        m_arg(b, "lim", a3);
        puts_b(b, "</m:limUpp>");
    } else if (strcmp(name, "mtable") == 0) {
        size_t cols = 1;
        for (xmlNode *r = first_el(n); r; r = next_el(r))
            if (count_el(r) > cols)
                cols = count_el(r);
        printf_b(b,
                 "<m:m><m:mPr><m:mcs><m:mc><m:mcPr><m:count m:val=\"%zu\"/>"
                 "<m:mcJc m:val=\"center\"/></m:mcPr></m:mc></m:mcs></m:mPr>",
                 cols);
        for (xmlNode *r = first_el(n); r; r = next_el(r)) {
            puts_b(b, "<m:mr>");
            size_t k = 0;
            for (xmlNode *c = first_el(r); c; c = next_el(c), k++) {
                puts_b(b, "<m:e>");
                if (is(c, "mtd"))
                    m_children(b, c);
                else
                    m_node(b, c);
                puts_b(b, "</m:e>");
            }
            for (; k < cols; k++)
                puts_b(b, "<m:e/>");
            puts_b(b, "</m:mr>");
        }
        puts_b(b, "</m:m>");
    } else if (strcmp(name, "semantics") == 0) {
        if (a1 && strncmp(elname(a1), "annotation", 10) != 0)
            m_node(b, a1);
    } else if (strncmp(name, "annotation", 10) == 0) {
        /* dropped: the presentation is the first child of semantics */
    } else {
        /* math, mrow, mstyle, mpadded, mphantom, menclose, mtd, ...: content */
        m_children(b, n);
    }
}

static void
math_element(kt_strbuf *b, xmlNode *math)
{
    puts_b(b, "<m:oMath>");
    m_node(b, math);
    puts_b(b, "</m:oMath>");
}

char *
kt_mathml_to_omml(const char *mathml)
{
    xmlDoc *d = xmlReadMemory(mathml, (int)strlen(mathml), "math.xml", "UTF-8",
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!d)
        return NULL;
    kt_strbuf b = {0};
    math_element(&b, xmlDocGetRootElement(d));
    xmlFreeDoc(d);
    return kt_strbuf_take(&b);
}

/* ======================================================================== */
/* The document                                                             */

struct image_use {
    size_t asset;
    int rid;
};

struct doc {
    kt_strbuf body;
    const kt_docx_asset *assets;
    size_t nassets;
    struct image_use *used;
    size_t nused;
    int next_rid; /* rId1 is the styles part */
    int next_pic;
    bool para_open;   /* a <w:p> is open in body */
    const char *lead; /* runs for the start of the next paragraph opened ("Câu 1.") */
    const char *ppr;  /* properties of paragraphs opened by inline content */
};

/* Inline formatting in force while walking HTML. */
struct fmt {
    bool b, i, u, sup, sub;
};

static void
rpr(kt_strbuf *b, struct fmt f)
{
    if (!(f.b || f.i || f.u || f.sup || f.sub))
        return;
    puts_b(b, "<w:rPr>");
    if (f.b)
        puts_b(b, "<w:b/>");
    if (f.i)
        puts_b(b, "<w:i/>");
    if (f.u)
        puts_b(b, "<w:u w:val=\"single\"/>");
    if (f.sup)
        puts_b(b, "<w:vertAlign w:val=\"superscript\"/>");
    else if (f.sub)
        puts_b(b, "<w:vertAlign w:val=\"subscript\"/>");
    puts_b(b, "</w:rPr>");
}

static void
text_run(kt_strbuf *b, const char *s, size_t n, struct fmt f)
{
    if (!n)
        return;
    puts_b(b, "<w:r>");
    rpr(b, f);
    puts_b(b, "<w:t xml:space=\"preserve\">");
    kt_strbuf_escape(b, s, n);
    puts_b(b, "</w:t></w:r>");
}

static void
open_para(struct doc *d)
{
    if (d->para_open)
        return;
    puts_b(&d->body, "<w:p>");
    if (d->ppr)
        puts_b(&d->body, d->ppr);
    if (d->lead) {
        puts_b(&d->body, d->lead);
        d->lead = NULL;
    }
    d->para_open = true;
}

static void
close_para(struct doc *d)
{
    if (d->para_open)
        puts_b(&d->body, "</w:p>");
    d->para_open = false;
}

/* Text with runs of white space (new lines included) as single spaces. */
static void
html_text(struct doc *d, const char *s, struct fmt f)
{
    kt_strbuf t = {0};
    bool sp = false;
    for (; *s; s++) {
        if (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r') {
            sp = true;
            continue;
        }
        if (sp)
            kt_strbuf_add(&t, " ", 1);
        sp = false;
        kt_strbuf_add(&t, s, 1);
    }
    if (sp)
        kt_strbuf_add(&t, " ", 1);
    if (t.n) {
        open_para(d);
        text_run(&d->body, t.s, t.n, f);
    }
    free(t.s);
}

/* Pixel size of PNG, GIF and JPEG pictures; false when unknown. */
static bool
image_size(const unsigned char *p, size_t n, long *w, long *h)
{
    if (n >= 24 && memcmp(p, "\x89PNG", 4) == 0) {
        *w = (long)p[16] << 24 | (long)p[17] << 16 | (long)p[18] << 8 | p[19];
        *h = (long)p[20] << 24 | (long)p[21] << 16 | (long)p[22] << 8 | p[23];
        return *w > 0 && *h > 0;
    }
    if (n >= 10 && memcmp(p, "GIF8", 4) == 0) {
        *w = p[6] | p[7] << 8;
        *h = p[8] | p[9] << 8;
        return *w > 0 && *h > 0;
    }
    if (n >= 4 && p[0] == 0xFF && p[1] == 0xD8) {
        size_t i = 2;
        while (i + 9 < n && p[i] == 0xFF) {
            unsigned char m = p[i + 1];
            size_t seg = (size_t)(p[i + 2] << 8 | p[i + 3]);
            if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
                *h = p[i + 5] << 8 | p[i + 6];
                *w = p[i + 7] << 8 | p[i + 8];
                return *w > 0 && *h > 0;
            }
            i += 2 + seg;
        }
    }
    return false;
}

static const char *
image_ext(const char *type)
{
    if (strcmp(type, "image/jpeg") == 0)
        return "jpg";
    if (strcmp(type, "image/gif") == 0)
        return "gif";
    if (strcmp(type, "image/webp") == 0)
        return "webp";
    return "png";
}

static void
html_image(struct doc *d, xmlNode *n, struct fmt f)
{
    xmlChar *src = xmlGetProp(n, (const xmlChar *)"src");
    size_t k = d->nassets;
    for (size_t i = 0; src && i < d->nassets; i++)
        if (d->assets[i].path && strcmp(d->assets[i].path, (const char *)src) == 0) {
            k = i;
            break;
        }
    xmlFree(src);
    if (k == d->nassets) {
        xmlChar *alt = xmlGetProp(n, (const xmlChar *)"alt");
        if (alt && *alt)
            html_text(d, (const char *)alt, f);
        xmlFree(alt);
        return;
    }
    int rid = 0;
    for (size_t i = 0; i < d->nused; i++)
        if (d->used[i].asset == k)
            rid = d->used[i].rid;
    if (!rid) {
        d->used = realloc(d->used, (d->nused + 1) * sizeof(*d->used));
        if (!d->used)
            abort();
        rid = d->next_rid++;
        d->used[d->nused++] = (struct image_use){k, rid};
    }
    long w = 200, h = 150;
    image_size(d->assets[k].data, d->assets[k].len, &w, &h);
    long cx = w * EMU_PER_PX, cy = h * EMU_PER_PX;
    if (cx > MAX_IMG_EMU) {
        cy = (long)((double)cy * MAX_IMG_EMU / (double)cx);
        cx = MAX_IMG_EMU;
    }
    int id = ++d->next_pic;
    open_para(d);
    printf_b(&d->body,
             "<w:r><w:drawing><wp:inline distT=\"0\" distB=\"0\" distL=\"0\" distR=\"0\">"
             "<wp:extent cx=\"%ld\" cy=\"%ld\"/><wp:docPr id=\"%d\" name=\"Hình %d\"/>"
             "<a:graphic><a:graphicData uri=\"http://schemas.openxmlformats.org/drawingml/2006/"
             "picture\"><pic:pic><pic:nvPicPr><pic:cNvPr id=\"%d\" name=\"hinh%d\"/>"
             "<pic:cNvPicPr/></pic:nvPicPr><pic:blipFill><a:blip r:embed=\"rId%d\"/>",
             cx, cy, id, id, id, id, rid);
    printf_b(&d->body,
             "<a:stretch><a:fillRect/></a:stretch></pic:blipFill><pic:spPr><a:xfrm>"
             "<a:off x=\"0\" y=\"0\"/><a:ext cx=\"%ld\" cy=\"%ld\"/></a:xfrm>"
             "<a:prstGeom prst=\"rect\"><a:avLst/></a:prstGeom></pic:spPr></pic:pic>"
             "</a:graphicData></a:graphic></wp:inline></w:drawing></w:r>",
             cx, cy);
}

static void html_nodes(struct doc *d, xmlNode *first, struct fmt f);

static void
html_table(struct doc *d, xmlNode *t)
{
    /* rows: tr children of table, thead, tbody, tfoot */
    xmlNode *rows[400];
    size_t nrows = 0, cols = 1;
    for (xmlNode *c = first_el(t); c; c = next_el(c)) {
        if (is(c, "tr")) {
            if (nrows < 400)
                rows[nrows++] = c;
        } else if (is(c, "thead") || is(c, "tbody") || is(c, "tfoot")) {
            for (xmlNode *r = first_el(c); r; r = next_el(r))
                if (is(r, "tr") && nrows < 400)
                    rows[nrows++] = r;
        }
    }
    if (!nrows)
        return;
    for (size_t i = 0; i < nrows; i++)
        if (count_el(rows[i]) > cols)
            cols = count_el(rows[i]);
    if (cols > 60)
        cols = 60;
    int cw = TEXT_TWIPS / (int)(cols ? cols : 1);
    kt_strbuf *b = &d->body;
    puts_b(b, "<w:tbl><w:tblPr><w:tblW w:w=\"0\" w:type=\"auto\"/><w:tblBorders>"
              "<w:top w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
              "<w:left w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
              "<w:bottom w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
              "<w:right w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
              "<w:insideH w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
              "<w:insideV w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
              "</w:tblBorders></w:tblPr><w:tblGrid>");
    for (size_t k = 0; k < cols; k++)
        printf_b(b, "<w:gridCol w:w=\"%d\"/>", cw);
    puts_b(b, "</w:tblGrid>");
    const char *lead = d->lead, *ppr = d->ppr;
    d->lead = NULL;
    d->ppr = NULL;
    for (size_t i = 0; i < nrows; i++) {
        puts_b(b, "<w:tr>");
        size_t k = 0;
        for (xmlNode *c = first_el(rows[i]); c && k < cols; c = next_el(c), k++) {
            printf_b(b, "<w:tc><w:tcPr><w:tcW w:w=\"%d\" w:type=\"dxa\"/></w:tcPr>", cw);
            struct fmt f = {.b = is(c, "th")};
            html_nodes(d, c->children, f);
            close_para(d);
            /* a cell holds at least one paragraph and ends with one */
            if (b->n < 6 || memcmp(b->s + b->n - 6, "</w:p>", 6) != 0)
                puts_b(b, "<w:p/>");
            puts_b(b, "</w:tc>");
        }
        for (; k < cols; k++)
            printf_b(b, "<w:tc><w:tcPr><w:tcW w:w=\"%d\" w:type=\"dxa\"/></w:tcPr><w:p/></w:tc>",
                     cw);
        puts_b(b, "</w:tr>");
    }
    puts_b(b, "</w:tbl>");
    d->lead = lead;
    d->ppr = ppr;
}

static bool
block_element(const char *name)
{
    static const char *const blocks[] = {"p",  "div", "h1", "h2", "h3", "h4",         "h5",
                                         "h6", "ul",  "ol", "li", "blockquote", "pre", "figure",
                                         NULL};
    for (int i = 0; blocks[i]; i++)
        if (strcmp(name, blocks[i]) == 0)
            return true;
    return false;
}

static void
html_node(struct doc *d, xmlNode *n, struct fmt f, int *li_number)
{
    if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
        if (n->content)
            html_text(d, (const char *)n->content, f);
        return;
    }
    if (n->type != XML_ELEMENT_NODE)
        return;
    const char *name = elname(n);
    if (strcmp(name, "math") == 0) {
        open_para(d);
        math_element(&d->body, n);
    } else if (strcmp(name, "br") == 0) {
        open_para(d);
        puts_b(&d->body, "<w:r><w:br/></w:r>");
    } else if (strcmp(name, "img") == 0) {
        html_image(d, n, f);
    } else if (strcmp(name, "table") == 0) {
        if (d->lead) { /* "Câu N." before a table that opens the stem */
            open_para(d);
        }
        close_para(d);
        html_table(d, n);
    } else if (strcmp(name, "b") == 0 || strcmp(name, "strong") == 0) {
        f.b = true;
        html_nodes(d, n->children, f);
    } else if (strcmp(name, "i") == 0 || strcmp(name, "em") == 0) {
        f.i = true;
        html_nodes(d, n->children, f);
    } else if (strcmp(name, "u") == 0) {
        f.u = true;
        html_nodes(d, n->children, f);
    } else if (strcmp(name, "sup") == 0) {
        f.sup = true;
        html_nodes(d, n->children, f);
    } else if (strcmp(name, "sub") == 0) {
        f.sub = true;
        html_nodes(d, n->children, f);
    } else if (strcmp(name, "ul") == 0 || strcmp(name, "ol") == 0) {
        close_para(d);
        int num = strcmp(name, "ol") == 0 ? 1 : 0;
        for (xmlNode *c = n->children; c; c = c->next)
            html_node(d, c, f, &num);
        close_para(d);
    } else if (strcmp(name, "li") == 0) {
        close_para(d);
        open_para(d);
        char mark[16];
        if (li_number && *li_number > 0)
            snprintf(mark, sizeof(mark), "%d. ", (*li_number)++);
        else
            snprintf(mark, sizeof(mark), "• ");
        text_run(&d->body, mark, strlen(mark), f);
        html_nodes(d, n->children, f);
        close_para(d);
    } else if (strncmp(name, "h", 1) == 0 && name[1] >= '1' && name[1] <= '6' && !name[2]) {
        close_para(d);
        f.b = true;
        html_nodes(d, n->children, f);
        close_para(d);
    } else if (block_element(name)) {
        close_para(d);
        html_nodes(d, n->children, f);
        close_para(d);
    } else {
        html_nodes(d, n->children, f); /* span, a, code, small, ... */
    }
}

static void
html_nodes(struct doc *d, xmlNode *first, struct fmt f)
{
    for (xmlNode *c = first; c; c = c->next)
        html_node(d, c, f, NULL);
}

/* Item HTML parsed: as XML (the canonical form of the item model), else
 * with the HTML parser. Returns the wrapper element (free its document). */
static xmlNode *
parse_html(const char *html, xmlDoc **doc)
{
    size_t n = strlen(html);
    char *wrapped = malloc(n + 32);
    if (!wrapped)
        abort();
    snprintf(wrapped, n + 32, "<div>%s</div>", html);
    *doc = xmlReadMemory(wrapped, (int)(n + 11), "item.xml", "UTF-8",
                         XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!*doc)
        *doc = htmlReadMemory(wrapped, (int)(n + 11), "item.html", "UTF-8",
                              HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                  HTML_PARSE_NOIMPLIED);
    free(wrapped);
    if (!*doc)
        return NULL;
    xmlNode *root = xmlDocGetRootElement(*doc);
    /* the HTML parser may still add html/body around the div */
    while (root && !is(root, "div") && first_el(root))
        root = first_el(root);
    return root;
}

/* HTML blocks as paragraphs, the first one starting with lead. ppr: the
 * properties of paragraphs opened for inline content. */
static void
write_html(struct doc *d, const char *html, const char *lead, const char *ppr)
{
    d->lead = lead;
    d->ppr = ppr;
    xmlDoc *x = NULL;
    xmlNode *root = html && *html ? parse_html(html, &x) : NULL;
    if (root)
        html_nodes(d, root->children, (struct fmt){0});
    if (d->lead) /* nothing written: the lead alone */
        open_para(d);
    close_para(d);
    d->lead = NULL;
    d->ppr = NULL;
    xmlFreeDoc(x);
}

/* Plain text length of an HTML fragment (math counted by its characters);
 * -1 when it holds a table, a picture or a block. */
static long
inline_length(const char *html)
{
    xmlDoc *x = NULL;
    xmlNode *root = html ? parse_html(html, &x) : NULL;
    long len = -1;
    if (root) {
        len = 0;
        for (xmlNode *c = root; c && len >= 0;) {
            if (c != root && c->type == XML_ELEMENT_NODE &&
                (is(c, "table") || is(c, "img") || block_element(elname(c)) || is(c, "br") ||
                 is(c, "mfrac") || is(c, "mtable")))
                len = -1;
            if (c->type == XML_TEXT_NODE && c->content)
                len += xmlUTF8Strlen(c->content);
            /* depth-first walk */
            if (c->children && c->type == XML_ELEMENT_NODE)
                c = c->children;
            else {
                while (c && c != root && !c->next)
                    c = c->parent;
                c = c && c != root ? c->next : NULL;
            }
        }
    }
    xmlFreeDoc(x);
    return len;
}

/* ---- paragraphs of the layout ------------------------------------------- */

static void
para_text(struct doc *d, const char *ppr, const char *text, struct fmt f)
{
    puts_b(&d->body, "<w:p>");
    if (ppr)
        puts_b(&d->body, ppr);
    text_run(&d->body, text, strlen(text), f);
    puts_b(&d->body, "</w:p>");
}

#define PPR_CENTER "<w:pPr><w:jc w:val=\"center\"/></w:pPr>"
#define PPR_KEEP "<w:pPr><w:keepNext/></w:pPr>"

static const char *
str_of(const json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : dflt;
}

static void
header(struct doc *d, const json_t *form, const kt_docx_header *h)
{
    kt_strbuf *b = &d->body;
    const char *school = h && h->school && *h->school ? h->school : "";
    const char *subject = h && h->subject_name && *h->subject_name
                              ? h->subject_name
                              : str_of(form, "subject", "");
    char line[512];
    int half = TEXT_TWIPS / 2;
    printf_b(b,
             "<w:tbl><w:tblPr><w:tblW w:w=\"%d\" w:type=\"dxa\"/><w:tblBorders>"
             "<w:top w:val=\"nil\"/><w:left w:val=\"nil\"/><w:bottom w:val=\"nil\"/>"
             "<w:right w:val=\"nil\"/><w:insideH w:val=\"nil\"/><w:insideV w:val=\"nil\"/>"
             "</w:tblBorders></w:tblPr><w:tblGrid><w:gridCol w:w=\"%d\"/><w:gridCol w:w=\"%d\"/>"
             "</w:tblGrid><w:tr><w:tc><w:tcPr><w:tcW w:w=\"%d\" w:type=\"dxa\"/></w:tcPr>",
             TEXT_TWIPS, half, TEXT_TWIPS - half, half);
    para_text(d, PPR_CENTER, school, (struct fmt){.b = true});
    snprintf(line, sizeof(line), "Mã đề: %s", str_of(form, "form_code", ""));
    para_text(d, PPR_CENTER, line, (struct fmt){.b = true});
    printf_b(b, "</w:tc><w:tc><w:tcPr><w:tcW w:w=\"%d\" w:type=\"dxa\"/></w:tcPr>",
             TEXT_TWIPS - half);
    para_text(d, PPR_CENTER, str_of(form, "title", ""), (struct fmt){.b = true});
    json_t *grade = json_object_get(form, "grade");
    if (json_is_integer(grade))
        snprintf(line, sizeof(line), "Môn: %s – Lớp %lld", subject,
                 (long long)json_integer_value(grade));
    else
        snprintf(line, sizeof(line), "Môn: %s", subject);
    para_text(d, PPR_CENTER, line, (struct fmt){.b = true});
    long secs = (long)json_integer_value(json_object_get(form, "duration_seconds"));
    snprintf(line, sizeof(line), "Thời gian làm bài: %ld phút, không kể thời gian phát đề",
             (secs + 59) / 60);
    para_text(d, PPR_CENTER, line, (struct fmt){.i = true});
    puts_b(b, "</w:tc></w:tr></w:tbl>");
    para_text(d, NULL, "", (struct fmt){0});
    para_text(d,
              "<w:pPr><w:tabs><w:tab w:val=\"right\" w:leader=\"dot\" w:pos=\"6400\"/>"
              "<w:tab w:val=\"right\" w:leader=\"dot\" w:pos=\"9600\"/></w:tabs></w:pPr>",
              "Họ và tên thí sinh:\tSố báo danh:\t", (struct fmt){0});
}

/* The 2025 part number (1-4) of a kind, 0 when none. */
static int
part_of_kind(const char *kind)
{
    if (strcmp(kind, "MCQ4") == 0 || strcmp(kind, "MR") == 0)
        return 1;
    if (strcmp(kind, "TF4") == 0)
        return 2;
    if (strcmp(kind, "SHORT") == 0)
        return 3;
    if (strcmp(kind, "ESSAY") == 0)
        return 4;
    return 0;
}

static const char *const ROMAN[] = {"", "I", "II", "III", "IV"};
static const char *const PART_TITLE[] = {
    "", "Câu trắc nghiệm nhiều phương án lựa chọn", "Câu trắc nghiệm đúng sai",
    "Câu trắc nghiệm trả lời ngắn", "Tự luận"};

/* The 2025 layout applies when every item's kind has a part (MCQ4 and MR,
 * TF4, SHORT, ESSAY), the form's parts hold one kind each and come in the
 * order I, II, III, IV. Then part_no[i] is item i's part (1-4). */
static bool
layout_2025(const json_t *items, int *part_no)
{
    size_t n = json_array_size(items);
    int last = 0, last_form_part = -1;
    for (size_t i = 0; i < n; i++) {
        const json_t *it = json_array_get(items, i);
        int p = part_of_kind(str_of(it, "kind", ""));
        int fp = (int)json_integer_value(json_object_get(it, "part"));
        if (!p || p < last || (p != last && fp == last_form_part) ||
            (p == last && fp != last_form_part))
            return false;
        last = p;
        last_form_part = fp;
        part_no[i] = p;
    }
    return n > 0;
}

static void
points_text(char *out, size_t n, const char *points)
{
    snprintf(out, n, "%s", points ? points : "");
    for (char *p = out; *p; p++)
        if (*p == '.')
            *p = ',';
}

/* The lead runs of a question: "Câu N." in bold, "(x điểm)" for essays. */
static void
question_lead(kt_strbuf *lead, int number, const json_t *it)
{
    char buf[96];
    if (strcmp(str_of(it, "kind", ""), "ESSAY") == 0) {
        char pts[32];
        points_text(pts, sizeof(pts), str_of(it, "points", "0"));
        snprintf(buf, sizeof(buf), "Câu %d (%s điểm).", number, pts);
    } else {
        snprintf(buf, sizeof(buf), "Câu %d.", number);
    }
    text_run(lead, buf, strlen(buf), (struct fmt){.b = true});
    text_run(lead, " ", 1, (struct fmt){0});
}

/* Options A. B. ... (or statements a) b) ...): four on a line, two on a
 * line or one per line by their length, separated by tabs. */
static void
choices(struct doc *d, const json_t *list, bool statements)
{
    size_t n = json_array_size(list);
    long longest = 0;
    for (size_t i = 0; i < n && longest >= 0; i++) {
        long l = inline_length(str_of(json_array_get(list, i), "html", ""));
        longest = l < 0 ? -1 : l > longest ? l : longest;
    }
    size_t per_line = statements || longest < 0 ? 1 : longest <= 18 ? 4 : longest <= 40 ? 2 : 1;
    const char *ppr4 = "<w:pPr><w:tabs><w:tab w:val=\"left\" w:pos=\"2410\"/>"
                       "<w:tab w:val=\"left\" w:pos=\"4820\"/><w:tab w:val=\"left\" w:pos=\"7230\"/>"
                       "</w:tabs><w:ind w:left=\"284\"/></w:pPr>";
    const char *ppr2 = "<w:pPr><w:tabs><w:tab w:val=\"left\" w:pos=\"4820\"/></w:tabs>"
                       "<w:ind w:left=\"284\"/></w:pPr>";
    const char *ppr1 = "<w:pPr><w:ind w:left=\"284\"/></w:pPr>";
    const char *ppr = per_line == 4 ? ppr4 : per_line == 2 ? ppr2 : ppr1;
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(list, i);
        char label[8];
        if (statements)
            snprintf(label, sizeof(label), "%c)", (char)('a' + i));
        else
            snprintf(label, sizeof(label), "%c.", (char)('A' + i));
        kt_strbuf lead = {0};
        if (i % per_line)
            puts_b(&lead, "<w:r><w:tab/></w:r>");
        text_run(&lead, label, strlen(label), (struct fmt){.b = true});
        text_run(&lead, " ", 1, (struct fmt){0});
        char *l = kt_strbuf_take(&lead);
        if (i % per_line == 0) {
            close_para(d);
            d->ppr = ppr;
        } else {
            d->ppr = NULL;
        }
        if (d->para_open) {
            puts_b(&d->body, l);
        } else {
            d->lead = l;
            open_para(d); /* the label even for an empty option */
        }
        xmlDoc *x = NULL;
        xmlNode *root = parse_html(str_of(o, "html", ""), &x);
        bool first = true;
        for (xmlNode *c = root ? root->children : NULL; c; c = c->next) {
            if (first && is(c, "p")) /* "<p>text</p>": on the label's line */
                html_nodes(d, c->children, (struct fmt){0});
            else
                html_node(d, c, (struct fmt){0}, NULL);
            if (c->type == XML_ELEMENT_NODE ||
                (c->type == XML_TEXT_NODE && c->content && strspn((char *)c->content, " \n\t")
                 != strlen((char *)c->content)))
                first = false;
        }
        xmlFreeDoc(x);
        if ((i + 1) % per_line == 0 || i + 1 == n)
            close_para(d);
        d->ppr = NULL;
        free(l);
    }
    close_para(d);
}

/* The key of an item as the table shows it, malloc'd: a letter, letters
 * "A, C", Đ/S per statement "ĐSĐS", a short answer with a decimal comma,
 * "tự luận". */
static char *
key_text(const json_t *it)
{
    const char *kind = str_of(it, "kind", "");
    const json_t *k = json_object_get(it, "key_shown");
    kt_strbuf b = {0};
    if (strcmp(kind, "ESSAY") == 0) {
        puts_b(&b, "tự luận");
    } else if (json_is_string(k) && strcmp(kind, "SHORT") == 0) {
        const char *s = json_string_value(k);
        bool number = *s != '\0';
        for (const char *p = s; *p; p++)
            if (!((*p >= '0' && *p <= '9') || *p == '.' || (*p == '-' && p == s)))
                number = false;
        for (const char *p = s; *p; p++)
            kt_strbuf_add(&b, number && *p == '.' ? "," : p, 1);
    } else if (json_is_string(k)) {
        puts_b(&b, json_string_value(k));
    } else if (json_is_array(k)) {
        /* the letters in order, as a key is read ("A, C") */
        for (int c = 'A'; c <= 'Z'; c++) {
            size_t i;
            json_t *v;
            json_array_foreach(k, i, v)
            {
                const char *l = json_string_value(v);
                if (l && l[0] == c && !l[1]) {
                    if (b.n)
                        puts_b(&b, ", ");
                    puts_b(&b, l);
                    break;
                }
            }
        }
    } else if (json_is_object(k)) {
        for (int c = 'a'; c <= 'h'; c++) {
            char name[2] = {(char)c, 0};
            const json_t *v = json_object_get(k, name);
            if (!v)
                break;
            puts_b(&b, json_is_true(v) ? "Đ" : "S");
        }
    }
    return kt_strbuf_take(&b);
}

static void
cell(kt_strbuf *b, int width, const char *text, bool bold)
{
    printf_b(b, "<w:tc><w:tcPr><w:tcW w:w=\"%d\" w:type=\"dxa\"/></w:tcPr><w:p>%s", width,
             "<w:pPr><w:jc w:val=\"center\"/></w:pPr>");
    text_run(b, text, strlen(text), (struct fmt){.b = bold});
    puts_b(b, "</w:p></w:tc>");
}

static void
table_open(kt_strbuf *b, int cols, int width)
{
    puts_b(b, "<w:tbl><w:tblPr><w:tblW w:w=\"0\" w:type=\"auto\"/><w:jc w:val=\"center\"/>"
              "<w:tblBorders>"
              "<w:top w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
              "<w:left w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
              "<w:bottom w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
              "<w:right w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
              "<w:insideH w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
              "<w:insideV w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
              "</w:tblBorders></w:tblPr><w:tblGrid>");
    for (int k = 0; k < cols; k++)
        printf_b(b, "<w:gridCol w:w=\"%d\"/>", width);
    puts_b(b, "</w:tblGrid>");
}

/* Keys of one value each as rows "Câu | 1 | 2 ..." over "Đáp án | A | C
 * ...", ten questions per pair of rows. */
static void
key_rows(struct doc *d, const json_t *items, const int *numbers, size_t from, size_t to)
{
    kt_strbuf *b = &d->body;
    const int per = 10, first = 1400, w = (TEXT_TWIPS - first) / per;
    puts_b(b, "<w:tbl><w:tblPr><w:tblW w:w=\"0\" w:type=\"auto\"/><w:jc w:val=\"center\"/>"
              "<w:tblBorders>"
              "<w:top w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
              "<w:left w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
              "<w:bottom w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
              "<w:right w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
              "<w:insideH w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
              "<w:insideV w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
              "</w:tblBorders></w:tblPr><w:tblGrid>");
    printf_b(b, "<w:gridCol w:w=\"%d\"/>", first);
    for (int k = 0; k < per; k++)
        printf_b(b, "<w:gridCol w:w=\"%d\"/>", w);
    puts_b(b, "</w:tblGrid>");
    for (size_t at = from; at < to; at += (size_t)per) {
        puts_b(b, "<w:tr>");
        cell(b, first, "Câu", true);
        for (size_t i = at; i < at + (size_t)per; i++) {
            char num[16] = "";
            if (i < to)
                snprintf(num, sizeof(num), "%d", numbers[i]);
            cell(b, w, num, true);
        }
        puts_b(b, "</w:tr><w:tr>");
        cell(b, first, "Đáp án", true);
        for (size_t i = at; i < at + (size_t)per; i++) {
            char *k = i < to ? key_text(json_array_get(items, i)) : NULL;
            cell(b, w, k ? k : "", false);
            free(k);
        }
        puts_b(b, "</w:tr>");
    }
    puts_b(b, "</w:tbl>");
}

/* Đúng/Sai keys: "Câu | a | b | c | d" with a row of Đ/S per question. */
static void
key_tf(struct doc *d, const json_t *items, const int *numbers, size_t from, size_t to)
{
    kt_strbuf *b = &d->body;
    const int w = 1200;
    table_open(b, 5, w);
    puts_b(b, "<w:tr>");
    cell(b, w, "Câu", true);
    for (int c = 'a'; c <= 'd'; c++) {
        char s[2] = {(char)c, 0};
        cell(b, w, s, true);
    }
    puts_b(b, "</w:tr>");
    for (size_t i = from; i < to; i++) {
        char num[16];
        snprintf(num, sizeof(num), "%d", numbers[i]);
        char *k = key_text(json_array_get(items, i));
        puts_b(b, "<w:tr>");
        cell(b, w, num, true);
        const char *p = k;
        for (int s = 0; s < 4; s++) {
            char mark[4] = "";
            if (strncmp(p, "Đ", strlen("Đ")) == 0) {
                snprintf(mark, sizeof(mark), "Đ");
                p += strlen("Đ");
            } else if (*p == 'S') {
                snprintf(mark, sizeof(mark), "S");
                p++;
            }
            cell(b, w, mark, false);
        }
        puts_b(b, "</w:tr>");
        free(k);
    }
    puts_b(b, "</w:tbl>");
}

/* After the key table: per question of items[from, to) with a rubric or an
 * explanation, "Câu N." then "Hướng dẫn chấm:" and a line per criterion
 * with its points ("(0,5 điểm)"), and "Lời giải:" with the explanation,
 * which the reader attaches to question N of the part. */
static void
worked_answers(struct doc *d, const json_t *items, const int *numbers, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        const json_t *it = json_array_get(items, i);
        const json_t *rubric = json_object_get(it, "rubric");
        const char *expl = str_of(it, "explanation", "");
        if (!json_array_size(rubric) && !*expl)
            continue;
        kt_strbuf lead = {0};
        question_lead(&lead, numbers[i], it);
        puts_b(&d->body, "<w:p>" PPR_KEEP);
        puts_b(&d->body, lead.s);
        puts_b(&d->body, "</w:p>");
        free(lead.s);
        if (json_array_size(rubric)) {
            para_text(d, PPR_KEEP, "Hướng dẫn chấm:", (struct fmt){.i = true});
            size_t k;
            const json_t *r;
            json_array_foreach(rubric, k, r)
            {
                char pts[32], line[2048];
                points_text(pts, sizeof(pts), str_of(r, "points", "0"));
                snprintf(line, sizeof(line), "%s (%s điểm)", str_of(r, "criterion", ""), pts);
                para_text(d, NULL, line, (struct fmt){0});
            }
        }
        if (*expl) {
            kt_strbuf l = {0};
            text_run(&l, "Lời giải:", strlen("Lời giải:"), (struct fmt){.i = true});
            text_run(&l, " ", 1, (struct fmt){0});
            char *ls = kt_strbuf_take(&l);
            write_html(d, expl, ls, NULL);
            free(ls);
        }
    }
}

static void
answer_key(struct doc *d, const json_t *form, const json_t *items, const int *part_no,
           const int *numbers, bool y2025)
{
    char line[160];
    /* page break, then the form's code: outside the answer section */
    puts_b(&d->body, "<w:p><w:r><w:br w:type=\"page\"/></w:r></w:p>");
    snprintf(line, sizeof(line), "MÃ ĐỀ %s", str_of(form, "form_code", ""));
    para_text(d, PPR_CENTER, line, (struct fmt){.b = true});
    para_text(d, PPR_CENTER, "ĐÁP ÁN", (struct fmt){.b = true});
    size_t n = json_array_size(items);
    if (!y2025) {
        key_rows(d, items, numbers, 0, n);
        worked_answers(d, items, numbers, 0, n);
        return;
    }
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && part_no[j] == part_no[i])
            j++;
        snprintf(line, sizeof(line), "PHẦN %s", ROMAN[part_no[i]]);
        para_text(d, PPR_KEEP, line, (struct fmt){.b = true});
        if (part_no[i] == 2)
            key_tf(d, items, numbers, i, j);
        else
            key_rows(d, items, numbers, i, j);
        para_text(d, NULL, "", (struct fmt){0});
        worked_answers(d, items, numbers, i, j);
        i = j;
    }
}

static void
questions(struct doc *d, const json_t *form, const json_t *items, const int *part_no,
          const int *numbers, bool y2025)
{
    const json_t *parts = json_object_get(form, "parts");
    int last_part = -1;
    size_t n = json_array_size(items);
    for (size_t i = 0; i < n; i++) {
        const json_t *it = json_array_get(items, i);
        int fp = (int)json_integer_value(json_object_get(it, "part"));
        if (fp != last_part) {
            char title[300] = "";
            const json_t *p = NULL;
            for (size_t k = 0; k < json_array_size(parts); k++)
                if (json_integer_value(json_object_get(json_array_get(parts, k), "part")) == fp)
                    p = json_array_get(parts, k);
            const char *pts = p ? str_of(p, "points", NULL) : NULL;
            char ptxt[32];
            points_text(ptxt, sizeof(ptxt), pts);
            if (y2025) {
                snprintf(title, sizeof(title), "PHẦN %s. %s", ROMAN[part_no[i]],
                         PART_TITLE[part_no[i]]);
            } else if (p) {
                /* "Phần I. ..." would be read back as a 2025 part: the title
                 * after its numeral only */
                const char *t = str_of(p, "title", "");
                const char *dot = strstr(t, ". ");
                snprintf(title, sizeof(title), "%s", dot ? dot + 2 : t);
            }
            if (*title) {
                if (pts) {
                    size_t l = strlen(title);
                    snprintf(title + l, sizeof(title) - l, " (%s điểm)", ptxt);
                }
                para_text(d, "<w:pPr><w:keepNext/><w:spacing w:before=\"120\"/></w:pPr>", title,
                          (struct fmt){.b = true});
            }
            last_part = fp;
        }
        kt_strbuf lead = {0};
        question_lead(&lead, numbers[i], it);
        char *l = kt_strbuf_take(&lead);
        const char *kind = str_of(it, "kind", "");
        write_html(d, str_of(it, "stem", ""), l, NULL);
        free(l);
        if (json_is_array(json_object_get(it, "options")) &&
            (strcmp(kind, "MCQ4") == 0 || strcmp(kind, "MR") == 0))
            choices(d, json_object_get(it, "options"), false);
        else if (json_is_array(json_object_get(it, "statements")) && strcmp(kind, "TF4") == 0)
            choices(d, json_object_get(it, "statements"), true);
    }
    para_text(d, PPR_CENTER, "------------- HẾT -------------", (struct fmt){.b = true});
}

static const char STYLES[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<w:styles xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">"
    "<w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii=\"Times New Roman\""
    " w:hAnsi=\"Times New Roman\" w:cs=\"Times New Roman\" w:eastAsia=\"Times New Roman\"/>"
    "<w:sz w:val=\"26\"/><w:szCs w:val=\"26\"/><w:lang w:val=\"vi-VN\"/></w:rPr></w:rPrDefault>"
    "<w:pPrDefault><w:pPr><w:spacing w:after=\"60\" w:line=\"276\" w:lineRule=\"auto\"/>"
    "</w:pPr></w:pPrDefault></w:docDefaults>"
    "<w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\"><w:name w:val=\"Normal\"/>"
    "</w:style></w:styles>";

static const char CONTENT_TYPES[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
    "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package."
    "relationships+xml\"/>"
    "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
    "<Default Extension=\"png\" ContentType=\"image/png\"/>"
    "<Default Extension=\"jpg\" ContentType=\"image/jpeg\"/>"
    "<Default Extension=\"gif\" ContentType=\"image/gif\"/>"
    "<Default Extension=\"webp\" ContentType=\"image/webp\"/>"
    "<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-"
    "officedocument.wordprocessingml.document.main+xml\"/>"
    "<Override PartName=\"/word/styles.xml\" ContentType=\"application/vnd.openxmlformats-"
    "officedocument.wordprocessingml.styles+xml\"/>"
    "</Types>";

static const char ROOT_RELS[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
    "relationships/officeDocument\" Target=\"word/document.xml\"/></Relationships>";

struct part {
    char name[96];
    const void *data;
    size_t len;
};

static void *
zip_parts(const struct part *parts, size_t n, size_t *len)
{
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
    zip_t *za = NULL;
    void *out = NULL;
    bool ok = false;
    if (src) {
        zip_source_keep(src);
        za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
    }
    if (za) {
        ok = true;
        for (size_t i = 0; i < n && ok; i++) {
            zip_source_t *s = zip_source_buffer(za, parts[i].data, parts[i].len, 0);
            zip_int64_t idx = s ? zip_file_add(za, parts[i].name, s, ZIP_FL_ENC_UTF_8) : -1;
            if (idx < 0) {
                zip_source_free(s);
                ok = false;
            } else {
                zip_file_set_mtime(za, (zip_uint64_t)idx, 315532800, 0);
            }
        }
    }
    if (ok && zip_close(za) == 0) {
        if (zip_source_open(src) == 0) {
            if (zip_source_seek(src, 0, SEEK_END) == 0) {
                zip_int64_t size = zip_source_tell(src);
                if (size > 0 && zip_source_seek(src, 0, SEEK_SET) == 0 &&
                    (out = malloc((size_t)size)) != NULL &&
                    zip_source_read(src, out, (zip_uint64_t)size) == size) {
                    *len = (size_t)size;
                } else {
                    free(out);
                    out = NULL;
                }
            }
            zip_source_close(src);
        }
    } else if (za) {
        zip_discard(za);
    }
    zip_source_free(src);
    zip_error_fini(&ze);
    return out;
}

void *
kt_docx_write_form(const json_t *form, const kt_docx_header *h, const kt_docx_asset *assets,
                   size_t nassets, size_t *len)
{
    const json_t *items = json_object_get(form, "items");
    size_t n = json_array_size(items);
    *len = 0;
    if (!n)
        return NULL;
    int *part_no = calloc(n, sizeof(int)), *numbers = calloc(n, sizeof(int));
    if (!part_no || !numbers)
        abort();
    bool y2025 = layout_2025(items, part_no);
    for (size_t i = 0; i < n; i++) {
        if (y2025) /* numbering restarts in each part */
            numbers[i] = i && part_no[i] == part_no[i - 1] ? numbers[i - 1] + 1 : 1;
        else
            numbers[i] = (int)i + 1;
    }
    struct doc d = {.assets = assets, .nassets = nassets, .next_rid = 2};
    puts_b(&d.body, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
                    "<w:document" NS_DECLS "><w:body>");
    header(&d, form, h);
    questions(&d, form, items, part_no, numbers, y2025);
    answer_key(&d, form, items, part_no, numbers, y2025);
    puts_b(&d.body, "<w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/>"
                    "<w:pgMar w:top=\"1134\" w:right=\"1134\" w:bottom=\"1134\" w:left=\"1134\""
                    " w:header=\"567\" w:footer=\"567\" w:gutter=\"0\"/></w:sectPr>"
                    "</w:body></w:document>");
    char *document = kt_strbuf_take(&d.body);

    kt_strbuf rels = {0};
    puts_b(&rels, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
                  "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/"
                  "relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas."
                  "openxmlformats.org/officeDocument/2006/relationships/styles\""
                  " Target=\"styles.xml\"/>");
    struct part *parts = calloc(5 + d.nused, sizeof(*parts));
    if (!parts)
        abort();
    size_t np = 0;
    for (size_t i = 0; i < d.nused; i++) {
        const kt_docx_asset *a = &assets[d.used[i].asset];
        struct part *p = &parts[np++];
        snprintf(p->name, sizeof(p->name), "word/media/image%d.%s", d.used[i].rid,
                 image_ext(a->content_type ? a->content_type : ""));
        p->data = a->data;
        p->len = a->len;
        printf_b(&rels,
                 "<Relationship Id=\"rId%d\" Type=\"http://schemas.openxmlformats.org/"
                 "officeDocument/2006/relationships/image\" Target=\"%s\"/>",
                 d.used[i].rid, p->name + strlen("word/"));
    }
    puts_b(&rels, "</Relationships>");
    char *doc_rels = kt_strbuf_take(&rels);
    struct part fixed[] = {{"[Content_Types].xml", CONTENT_TYPES, sizeof(CONTENT_TYPES) - 1},
                           {"_rels/.rels", ROOT_RELS, sizeof(ROOT_RELS) - 1},
                           {"word/document.xml", document, strlen(document)},
                           {"word/styles.xml", STYLES, sizeof(STYLES) - 1},
                           {"word/_rels/document.xml.rels", doc_rels, strlen(doc_rels)}};
    /* the fixed parts first, then the pictures */
    memmove(parts + 5, parts, np * sizeof(*parts));
    memcpy(parts, fixed, sizeof(fixed));
    void *out = zip_parts(parts, np + 5, len);
    free(parts);
    free(doc_rels);
    free(document);
    free(d.used);
    free(part_no);
    free(numbers);
    return out;
}

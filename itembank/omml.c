/*
 * OMML to presentation MathML. Each OMML construct maps to one MathML
 * element (fraction, radical, scripts, n-ary operator, delimiter, matrix,
 * accent, bar, group character, limits, function, equation array, boxes);
 * a run's text is split into numbers (<mn>), identifiers (<mi>) and
 * operators (<mo>). An argument (m:e, m:num, m:sub...) that gives more than
 * one element is wrapped in <mrow>.
 */
#include "omml.h"

#include <stdlib.h>
#include <string.h>

static void convert_children(kt_strbuf *b, const xmlNode *parent, int *count, int plain);

/* ---- string builder ---------------------------------------------------- */

void
kt_strbuf_add(kt_strbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        if (!(b->s = realloc(b->s, cap)))
            abort();
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

void
kt_strbuf_puts(kt_strbuf *b, const char *s)
{
    kt_strbuf_add(b, s, strlen(s));
}

void
kt_strbuf_escape(kt_strbuf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&':
            kt_strbuf_puts(b, "&amp;");
            break;
        case '<':
            kt_strbuf_puts(b, "&lt;");
            break;
        case '>':
            kt_strbuf_puts(b, "&gt;");
            break;
        case '"':
            kt_strbuf_puts(b, "&quot;");
            break;
        default:
            kt_strbuf_add(b, s + i, 1);
        }
    }
}

char *
kt_strbuf_take(kt_strbuf *b)
{
    char *s = b->s;
    if (!s && !(s = calloc(1, 1)))
        abort();
    b->s = NULL;
    b->n = b->cap = 0;
    return s;
}

/* ---- OMML helpers ------------------------------------------------------ */

int
kt_omml_is(const xmlNode *n, const char *local)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           strcmp((const char *)n->ns->href, KT_OMML_NS) == 0 &&
           strcmp((const char *)n->name, local) == 0;
}

static const xmlNode *
child(const xmlNode *n, const char *local)
{
    for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (kt_omml_is(c, local))
            return c;
    return NULL;
}

/* m:val of the property local inside the properties element pr; NULL when
 * the property is absent, "" when present without m:val. */
static const char *
prop_val(const xmlNode *pr, const char *local, char *tmp, size_t tmplen)
{
    const xmlNode *p = child(pr, local);
    if (!p)
        return NULL;
    xmlChar *v = xmlGetNsProp(p, (const xmlChar *)"val", (const xmlChar *)KT_OMML_NS);
    if (!v)
        return "";
    snprintf(tmp, tmplen, "%s", (const char *)v);
    xmlFree(v);
    return tmp;
}

static int
prop_on(const xmlNode *pr, const char *local)
{
    char tmp[16];
    const char *v = prop_val(pr, local, tmp, sizeof tmp);
    return v && (!*v || strcmp(v, "1") == 0 || strcmp(v, "on") == 0 || strcmp(v, "true") == 0);
}

static void
token(kt_strbuf *b, const char *el, const char *s, size_t n, int *count)
{
    kt_strbuf_puts(b, "<");
    kt_strbuf_puts(b, el);
    kt_strbuf_puts(b, ">");
    kt_strbuf_escape(b, s, n);
    kt_strbuf_puts(b, "</");
    kt_strbuf_puts(b, el);
    kt_strbuf_puts(b, ">");
    (*count)++;
}

static int
is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Letters: ASCII letters and every non-ASCII character that is not a known
 * operator (Greek, Vietnamese, ℝ...). */
static int
is_letter_at(const char *s, size_t *len)
{
    static const char *const ops[] = {"−", "±", "∓", "×", "÷", "⋅", "·", "≤", "≥", "≠", "≈",
                                      "≡", "∈", "∉", "⊂", "⊃", "⊆", "⊇", "∪", "∩", "→", "⇒",
                                      "⇔", "←", "↔", "∞", "∑", "∏", "∫", "∂", "∇", "°", "∠",
                                      "⊥", "∥", "∀", "∃", "∅", "…", "′", "″", "√", "∖", NULL};
    unsigned char c = (unsigned char)*s;
    if (c < 0x80) {
        *len = 1;
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    for (size_t i = 1; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            n = i;
            break;
        }
    *len = n;
    for (size_t i = 0; ops[i]; i++)
        if (strlen(ops[i]) == n && memcmp(s, ops[i], n) == 0)
            return 0;
    return 1;
}

/* A run's text: numbers (digits with an inner '.' or ','), identifiers
 * (one letter each, or the whole word in plain style or a function name),
 * operators (every other character); spaces dropped. */
static void
run_text(kt_strbuf *b, const char *s, int plain, int *count)
{
    while (*s) {
        size_t n;
        if (*s == ' ' || *s == '\t' ||
            ((unsigned char)s[0] == 0xC2 && (unsigned char)s[1] == 0xA0)) {
            s += *s == ' ' || *s == '\t' ? 1 : 2;
            continue;
        }
        if (is_digit((unsigned char)*s)) {
            n = 0;
            while (is_digit((unsigned char)s[n]) ||
                   ((s[n] == '.' || s[n] == ',') && is_digit((unsigned char)s[n + 1]) && n > 0))
                n++;
            token(b, "mn", s, n, count);
            s += n;
        } else if (is_letter_at(s, &n)) {
            if (plain) {
                size_t m = 0, k;
                while (s[m] && is_letter_at(s + m, &k))
                    m += k;
                n = m;
            }
            token(b, "mi", s, n, count);
            s += n;
        } else {
            token(b, "mo", s, n, count);
            s += n;
        }
    }
}

static void
run(kt_strbuf *b, const xmlNode *r, int plain, int *count)
{
    const xmlNode *pr = child(r, "rPr");
    char tmp[16];
    const char *sty = prop_val(pr, "sty", tmp, sizeof tmp);
    if ((sty && strcmp(sty, "p") == 0) || prop_on(pr, "nor"))
        plain = 1;
    for (const xmlNode *c = r->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "t") != 0)
            continue;
        xmlChar *t = xmlNodeGetContent(c);
        if (t)
            run_text(b, (const char *)t, plain, count);
        xmlFree(t);
    }
}

/* The argument element local of n as one MathML element. */
static void
arg_node(kt_strbuf *b, const xmlNode *a, int plain)
{
    kt_strbuf tmp = {0};
    int n = 0;
    if (a)
        convert_children(&tmp, a, &n, plain);
    if (n == 1) {
        kt_strbuf_add(b, tmp.s, tmp.n);
    } else {
        kt_strbuf_puts(b, "<mrow>");
        if (tmp.n)
            kt_strbuf_add(b, tmp.s, tmp.n);
        kt_strbuf_puts(b, "</mrow>");
    }
    free(tmp.s);
}

static void
arg(kt_strbuf *b, const xmlNode *n, const char *local)
{
    arg_node(b, child(n, local), 0);
}

static void
mo(kt_strbuf *b, const char *s, const char *attrs)
{
    kt_strbuf_puts(b, "<mo");
    if (attrs)
        kt_strbuf_puts(b, attrs);
    kt_strbuf_puts(b, ">");
    kt_strbuf_escape(b, s, strlen(s));
    kt_strbuf_puts(b, "</mo>");
}

static void
open_close(kt_strbuf *b, const char *el, const char *attrs, int open)
{
    kt_strbuf_puts(b, open ? "<" : "</");
    kt_strbuf_puts(b, el);
    if (open && attrs)
        kt_strbuf_puts(b, attrs);
    kt_strbuf_puts(b, ">");
}

/* ---- constructs -------------------------------------------------------- */

static void
fraction(kt_strbuf *b, const xmlNode *n)
{
    char tmp[16];
    const char *type = prop_val(child(n, "fPr"), "type", tmp, sizeof tmp);
    if (type && strcmp(type, "lin") == 0) {
        kt_strbuf_puts(b, "<mrow>");
        arg(b, n, "num");
        mo(b, "/", NULL);
        arg(b, n, "den");
        kt_strbuf_puts(b, "</mrow>");
        return;
    }
    const char *attrs = !type                        ? NULL
                        : strcmp(type, "skw") == 0   ? " bevelled=\"true\""
                        : strcmp(type, "noBar") == 0 ? " linethickness=\"0\""
                                                     : NULL;
    open_close(b, "mfrac", attrs, 1);
    arg(b, n, "num");
    arg(b, n, "den");
    open_close(b, "mfrac", NULL, 0);
}

static int
empty_arg(const xmlNode *a)
{
    for (const xmlNode *c = a ? a->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && !kt_omml_is(c, "ctrlPr") &&
            !(c->name && strstr((const char *)c->name, "Pr") &&
              strlen(strstr((const char *)c->name, "Pr")) == 2))
            return 0;
    return 1;
}

static void
radical(kt_strbuf *b, const xmlNode *n)
{
    const xmlNode *deg = child(n, "deg");
    if (prop_on(child(n, "radPr"), "degHide") || empty_arg(deg)) {
        kt_strbuf_puts(b, "<msqrt>");
        arg(b, n, "e");
        kt_strbuf_puts(b, "</msqrt>");
    } else {
        kt_strbuf_puts(b, "<mroot>");
        arg(b, n, "e");
        arg(b, n, "deg");
        kt_strbuf_puts(b, "</mroot>");
    }
}

static void
nary(kt_strbuf *b, const xmlNode *n)
{
    const xmlNode *pr = child(n, "naryPr");
    char t1[16], t2[16];
    const char *chr = prop_val(pr, "chr", t1, sizeof t1);
    const char *loc = prop_val(pr, "limLoc", t2, sizeof t2);
    if (!chr || !*chr)
        chr = "∫";
    int integral = strstr("∫∬∭∮∯∰", chr) != NULL;
    int under = loc ? strcmp(loc, "undOvr") == 0 : !integral;
    int nosub = prop_on(pr, "subHide") || empty_arg(child(n, "sub"));
    int nosup = prop_on(pr, "supHide") || empty_arg(child(n, "sup"));
    kt_strbuf_puts(b, "<mrow>");
    if (nosub && nosup) {
        mo(b, chr, " largeop=\"true\"");
    } else {
        const char *el = nosup   ? (under ? "munder" : "msub")
                         : nosub ? (under ? "mover" : "msup")
                                 : (under ? "munderover" : "msubsup");
        open_close(b, el, NULL, 1);
        mo(b, chr, " largeop=\"true\"");
        if (!nosub)
            arg(b, n, "sub");
        if (!nosup)
            arg(b, n, "sup");
        open_close(b, el, NULL, 0);
    }
    arg(b, n, "e");
    kt_strbuf_puts(b, "</mrow>");
}

static void
delimiter(kt_strbuf *b, const xmlNode *n)
{
    const xmlNode *pr = child(n, "dPr");
    char t1[16], t2[16], t3[16];
    const char *beg = prop_val(pr, "begChr", t1, sizeof t1);
    const char *end = prop_val(pr, "endChr", t2, sizeof t2);
    const char *sep = prop_val(pr, "sepChr", t3, sizeof t3);
    kt_strbuf_puts(b, "<mrow>");
    beg = beg ? beg : "(";
    end = end ? end : ")";
    sep = sep ? sep : "|";
    if (*beg)
        mo(b, beg, " fence=\"true\"");
    int first = 1;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (!kt_omml_is(c, "e"))
            continue;
        if (!first && *sep)
            mo(b, sep, " separator=\"true\"");
        first = 0;
        arg_node(b, c, 0);
    }
    if (*end)
        mo(b, end, " fence=\"true\"");
    kt_strbuf_puts(b, "</mrow>");
}

static void
matrix(kt_strbuf *b, const xmlNode *n)
{
    kt_strbuf_puts(b, "<mtable>");
    for (const xmlNode *r = n->children; r; r = r->next) {
        if (!kt_omml_is(r, "mr"))
            continue;
        kt_strbuf_puts(b, "<mtr>");
        for (const xmlNode *c = r->children; c; c = c->next)
            if (kt_omml_is(c, "e")) {
                kt_strbuf_puts(b, "<mtd>");
                arg_node(b, c, 0);
                kt_strbuf_puts(b, "</mtd>");
            }
        kt_strbuf_puts(b, "</mtr>");
    }
    kt_strbuf_puts(b, "</mtable>");
}

static void
eq_array(kt_strbuf *b, const xmlNode *n)
{
    kt_strbuf_puts(b, "<mtable columnalign=\"left\">");
    for (const xmlNode *c = n->children; c; c = c->next)
        if (kt_omml_is(c, "e")) {
            kt_strbuf_puts(b, "<mtr><mtd>");
            arg_node(b, c, 0);
            kt_strbuf_puts(b, "</mtd></mtr>");
        }
    kt_strbuf_puts(b, "</mtable>");
}

/* e with chr over it (top) or under it: accents, bars, group characters. */
static void
over_under(kt_strbuf *b, const xmlNode *n, const char *chr, int top, int accent)
{
    const char *el = top ? "mover" : "munder";
    open_close(b, el, accent ? (top ? " accent=\"true\"" : " accentunder=\"true\"") : NULL, 1);
    arg(b, n, "e");
    mo(b, chr, " stretchy=\"true\"");
    open_close(b, el, NULL, 0);
}

static void
element(kt_strbuf *b, const xmlNode *n, int *count, int plain)
{
    char t1[16], t2[16];
    const char *name = (const char *)n->name;

    if (!n->ns || !n->ns->href || strcmp((const char *)n->ns->href, KT_OMML_NS) != 0) {
        /* Word markup inside an equation (w:r with w:t, bookmarks...). */
        if (strcmp(name, "t") == 0) {
            xmlChar *t = xmlNodeGetContent(n);
            if (t)
                run_text(b, (const char *)t, plain, count);
            xmlFree(t);
        } else if (strcmp(name, "rPr") != 0) {
            convert_children(b, n, count, plain);
        }
        return;
    }
    size_t nl = strlen(name);
    if (nl > 2 && strcmp(name + nl - 2, "Pr") == 0)
        return; /* properties */
    if (strcmp(name, "r") == 0) {
        run(b, n, plain, count);
        return;
    }
    (*count)++;
    if (strcmp(name, "f") == 0) {
        fraction(b, n);
    } else if (strcmp(name, "rad") == 0) {
        radical(b, n);
    } else if (strcmp(name, "sSup") == 0) {
        kt_strbuf_puts(b, "<msup>");
        arg(b, n, "e");
        arg(b, n, "sup");
        kt_strbuf_puts(b, "</msup>");
    } else if (strcmp(name, "sSub") == 0) {
        kt_strbuf_puts(b, "<msub>");
        arg(b, n, "e");
        arg(b, n, "sub");
        kt_strbuf_puts(b, "</msub>");
    } else if (strcmp(name, "sSubSup") == 0) {
        kt_strbuf_puts(b, "<msubsup>");
        arg(b, n, "e");
        arg(b, n, "sub");
        arg(b, n, "sup");
        kt_strbuf_puts(b, "</msubsup>");
    } else if (strcmp(name, "sPre") == 0) {
        kt_strbuf_puts(b, "<mmultiscripts>");
        arg(b, n, "e");
        kt_strbuf_puts(b, "<mprescripts/>");
        arg(b, n, "sub");
        arg(b, n, "sup");
        kt_strbuf_puts(b, "</mmultiscripts>");
    } else if (strcmp(name, "nary") == 0) {
        nary(b, n);
    } else if (strcmp(name, "d") == 0) {
        delimiter(b, n);
    } else if (strcmp(name, "m") == 0) {
        matrix(b, n);
    } else if (strcmp(name, "eqArr") == 0) {
        eq_array(b, n);
    } else if (strcmp(name, "acc") == 0) {
        const char *chr = prop_val(child(n, "accPr"), "chr", t1, sizeof t1);
        over_under(b, n, chr && *chr ? chr : "\xCC\x82", 1, 1);
    } else if (strcmp(name, "bar") == 0) {
        const char *pos = prop_val(child(n, "barPr"), "pos", t1, sizeof t1);
        int top = pos && strcmp(pos, "top") == 0;
        over_under(b, n, top ? "¯" : "_", top, 0);
    } else if (strcmp(name, "groupChr") == 0) {
        const xmlNode *pr = child(n, "groupChrPr");
        const char *chr = prop_val(pr, "chr", t1, sizeof t1);
        const char *pos = prop_val(pr, "pos", t2, sizeof t2);
        over_under(b, n, chr && *chr ? chr : "⏟", pos && strcmp(pos, "top") == 0, 0);
    } else if (strcmp(name, "limLow") == 0 || strcmp(name, "limUpp") == 0) {
        const char *el = name[3] == 'L' ? "munder" : "mover";
        open_close(b, el, NULL, 1);
        arg(b, n, "e");
        arg(b, n, "lim");
        open_close(b, el, NULL, 0);
    } else if (strcmp(name, "func") == 0) {
        kt_strbuf_puts(b, "<mrow>");
        arg_node(b, child(n, "fName"), 1);
        mo(b, "\xE2\x81\xA1", NULL); /* U+2061 function application */
        arg(b, n, "e");
        kt_strbuf_puts(b, "</mrow>");
    } else if (strcmp(name, "borderBox") == 0) {
        kt_strbuf_puts(b, "<menclose notation=\"box\">");
        arg(b, n, "e");
        kt_strbuf_puts(b, "</menclose>");
    } else if (strcmp(name, "phant") == 0) {
        kt_strbuf_puts(b, "<mphantom>");
        arg(b, n, "e");
        kt_strbuf_puts(b, "</mphantom>");
    } else if (strcmp(name, "box") == 0 || strcmp(name, "e") == 0 || strcmp(name, "oMath") == 0) {
        arg_node(b, strcmp(name, "box") == 0 ? child(n, "e") : n, plain);
    } else {
        arg_node(b, n, plain); /* unknown: its content */
    }
}

static void
convert_children(kt_strbuf *b, const xmlNode *parent, int *count, int plain)
{
    for (const xmlNode *c = parent->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            element(b, c, count, plain);
}

char *
kt_omml_to_mathml(const xmlNode *node)
{
    kt_strbuf b = {0};
    int count = 0;
    if (kt_omml_is(node, "oMathPara")) {
        kt_strbuf_puts(&b, "<math display=\"block\">");
        int first = 1;
        for (const xmlNode *c = node->children; c; c = c->next) {
            if (!kt_omml_is(c, "oMath"))
                continue;
            if (!first)
                kt_strbuf_puts(&b, "<mspace width=\"1em\"/>");
            first = 0;
            convert_children(&b, c, &count, 0);
        }
    } else {
        kt_strbuf_puts(&b, "<math>");
        convert_children(&b, node, &count, 0);
    }
    kt_strbuf_puts(&b, "</math>");
    return kt_strbuf_take(&b);
}

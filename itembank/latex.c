/*
 * LaTeX (the subset of school tests) to presentation MathML, written as
 * KaTeX writes it: a sequence of atoms, each a complete MathML element;
 * scripts attach to the atom before them; a group of more than one atom is
 * an <mrow>. Anything outside the subset is refused with a reason rather
 * than shown half-converted.
 */
#include "latex.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "omml.h" /* kt_strbuf */
#include "text.h"

#define MATHML_NS "http://www.w3.org/1998/Math/MathML"
#define MAX_DEPTH 20 /* nested groups and arguments (the allow-list takes 64 tags) */
#define MAX_LEN 4000 /* bytes of LaTeX in one formula */
#define FUNC_APPLY "<mo>\xE2\x81\xA1</mo>" /* U+2061 after sin, log... */

enum stop { S_TOP, S_BRACE, S_BRACKET, S_RIGHT };
enum kind { K_ORD, K_FUNC, K_LIMOP };

struct lx {
    const char *s;
    size_t i, n;
    char *err;
    size_t errlen;
    int failed;
    int depth;
};

struct seq {
    char **a;
    size_t n, cap;
};

static char *parse_seq(struct lx *x, enum stop stop);
static char *parse_arg(struct lx *x, const char *cmd);

/* ---- helpers -------------------------------------------------------------- */

__attribute__((format(printf, 2, 3))) static void
fail(struct lx *x, const char *fmt, ...)
{
    if (x->failed)
        return;
    x->failed = 1;
    if (x->err && x->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(x->err, x->errlen, fmt, ap);
        va_end(ap);
    }
}

static char *
el(const char *open, const char *body, const char *close)
{
    kt_strbuf b = {0};
    kt_strbuf_puts(&b, open);
    kt_strbuf_puts(&b, body);
    kt_strbuf_puts(&b, close);
    return kt_strbuf_take(&b);
}

static char *
el_escaped(const char *open, const char *s, size_t n, const char *close)
{
    kt_strbuf b = {0};
    kt_strbuf_puts(&b, open);
    kt_strbuf_escape(&b, s, n);
    kt_strbuf_puts(&b, close);
    return kt_strbuf_take(&b);
}

static void
seq_push(struct seq *q, char *s)
{
    if (q->n == q->cap) {
        q->cap = q->cap ? 2 * q->cap : 8;
        if (!(q->a = realloc(q->a, q->cap * sizeof *q->a)))
            abort();
    }
    q->a[q->n++] = s;
}

static void
seq_free(struct seq *q)
{
    for (size_t k = 0; k < q->n; k++)
        free(q->a[k]);
    free(q->a);
}

/* The atoms as one element: the atom itself when one, else an <mrow>. */
static char *
seq_join(struct seq *q, int always_mrow)
{
    char *r;
    if (q->n == 1 && !always_mrow) {
        r = q->a[0];
        free(q->a);
        return r;
    }
    kt_strbuf b = {0};
    kt_strbuf_puts(&b, "<mrow>");
    for (size_t k = 0; k < q->n; k++) {
        kt_strbuf_puts(&b, q->a[k]);
        free(q->a[k]);
    }
    kt_strbuf_puts(&b, "</mrow>");
    free(q->a);
    return kt_strbuf_take(&b);
}

static int
is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static void
skip_ws(struct lx *x)
{
    while (x->i < x->n &&
           (x->s[x->i] == ' ' || x->s[x->i] == '\t' || x->s[x->i] == '\n' || x->s[x->i] == '\r'))
        x->i++;
}

/* The command name at x->i (just after a backslash): letters, or one
 * other character. Copied to name, x->i moved past it. */
static void
read_cmd(struct lx *x, char *name, size_t size)
{
    size_t k = 0;
    if (x->i < x->n && is_alpha(x->s[x->i])) {
        while (x->i < x->n && is_alpha(x->s[x->i])) {
            if (k + 1 < size)
                name[k++] = x->s[x->i];
            x->i++;
        }
    } else if (x->i < x->n) {
        name[k++] = x->s[x->i++];
    }
    name[k] = '\0';
}

/* Whether the command \name starts at x->i (the backslash). */
static int
at_cmd(const struct lx *x, const char *name)
{
    size_t l = strlen(name);
    return x->i + 1 + l <= x->n && x->s[x->i] == '\\' && strncmp(x->s + x->i + 1, name, l) == 0 &&
           (x->i + 1 + l == x->n || !is_alpha(x->s[x->i + 1 + l]));
}

/* ---- symbol tables ---------------------------------------------------------- */

struct sym {
    const char *name, *mathml;
};

static const struct sym SYMBOLS[] = {
    /* Greek: lower case italic, upper case upright, as KaTeX */
    {"alpha", "<mi>α</mi>"},
    {"beta", "<mi>β</mi>"},
    {"gamma", "<mi>γ</mi>"},
    {"delta", "<mi>δ</mi>"},
    {"epsilon", "<mi>ϵ</mi>"},
    {"varepsilon", "<mi>ε</mi>"},
    {"zeta", "<mi>ζ</mi>"},
    {"eta", "<mi>η</mi>"},
    {"theta", "<mi>θ</mi>"},
    {"vartheta", "<mi>ϑ</mi>"},
    {"iota", "<mi>ι</mi>"},
    {"kappa", "<mi>κ</mi>"},
    {"lambda", "<mi>λ</mi>"},
    {"mu", "<mi>μ</mi>"},
    {"nu", "<mi>ν</mi>"},
    {"xi", "<mi>ξ</mi>"},
    {"pi", "<mi>π</mi>"},
    {"rho", "<mi>ρ</mi>"},
    {"sigma", "<mi>σ</mi>"},
    {"tau", "<mi>τ</mi>"},
    {"upsilon", "<mi>υ</mi>"},
    {"phi", "<mi>ϕ</mi>"},
    {"varphi", "<mi>φ</mi>"},
    {"chi", "<mi>χ</mi>"},
    {"psi", "<mi>ψ</mi>"},
    {"omega", "<mi>ω</mi>"},
    {"Gamma", "<mi mathvariant=\"normal\">Γ</mi>"},
    {"Delta", "<mi mathvariant=\"normal\">Δ</mi>"},
    {"Theta", "<mi mathvariant=\"normal\">Θ</mi>"},
    {"Lambda", "<mi mathvariant=\"normal\">Λ</mi>"},
    {"Pi", "<mi mathvariant=\"normal\">Π</mi>"},
    {"Sigma", "<mi mathvariant=\"normal\">Σ</mi>"},
    {"Phi", "<mi mathvariant=\"normal\">Φ</mi>"},
    {"Psi", "<mi mathvariant=\"normal\">Ψ</mi>"},
    {"Omega", "<mi mathvariant=\"normal\">Ω</mi>"},
    /* relations and operators */
    {"le", "<mo>≤</mo>"},
    {"leq", "<mo>≤</mo>"},
    {"ge", "<mo>≥</mo>"},
    {"geq", "<mo>≥</mo>"},
    {"leqslant", "<mo>⩽</mo>"},
    {"geqslant", "<mo>⩾</mo>"},
    {"ne", "<mo>≠</mo>"},
    {"neq", "<mo>≠</mo>"},
    {"pm", "<mo>±</mo>"},
    {"mp", "<mo>∓</mo>"},
    {"cdot", "<mo>⋅</mo>"},
    {"times", "<mo>×</mo>"},
    {"div", "<mo>÷</mo>"},
    {"in", "<mo>∈</mo>"},
    {"notin", "<mo>∉</mo>"},
    {"subset", "<mo>⊂</mo>"},
    {"subseteq", "<mo>⊆</mo>"},
    {"cup", "<mo>∪</mo>"},
    {"cap", "<mo>∩</mo>"},
    {"setminus", "<mo>∖</mo>"},
    {"to", "<mo>→</mo>"},
    {"rightarrow", "<mo>→</mo>"},
    {"Rightarrow", "<mo>⇒</mo>"},
    {"Leftarrow", "<mo>⇐</mo>"},
    {"Leftrightarrow", "<mo>⇔</mo>"},
    {"approx", "<mo>≈</mo>"},
    {"equiv", "<mo>≡</mo>"},
    {"perp", "<mo>⊥</mo>"},
    {"parallel", "<mo>∥</mo>"},
    {"circ", "<mo>∘</mo>"},
    {"forall", "<mi mathvariant=\"normal\">∀</mi>"},
    {"exists", "<mi mathvariant=\"normal\">∃</mi>"},
    {"infty", "<mi mathvariant=\"normal\">∞</mi>"},
    {"emptyset", "<mi mathvariant=\"normal\">∅</mi>"},
    {"varnothing", "<mi mathvariant=\"normal\">∅</mi>"},
    {"angle", "<mi mathvariant=\"normal\">∠</mi>"},
    {"triangle", "<mi mathvariant=\"normal\">△</mi>"},
    {"degree", "<mi mathvariant=\"normal\">°</mi>"},
    {"cdots", "<mo>⋯</mo>"},
    {"ldots", "<mi mathvariant=\"normal\">…</mi>"},
    {"dots", "<mi mathvariant=\"normal\">…</mi>"},
    /* escaped characters */
    {"{", "<mo stretchy=\"false\">{</mo>"},
    {"}", "<mo stretchy=\"false\">}</mo>"},
    {"%", "<mi mathvariant=\"normal\">%</mi>"},
    {"|", "<mo>∥</mo>"},
    /* spaces */
    {",", "<mspace width=\"0.1667em\"></mspace>"},
    {":", "<mspace width=\"0.2222em\"></mspace>"},
    {";", "<mspace width=\"0.2778em\"></mspace>"},
    {"!", "<mspace width=\"-0.1667em\"></mspace>"},
    {" ", "<mtext>\xC2\xA0</mtext>"},
    {"quad", "<mspace width=\"1em\"></mspace>"},
    {"qquad", "<mspace width=\"2em\"></mspace>"},
    {NULL, NULL}};

/* Functions written upright, followed by a function application. */
static const char *const FUNCS[] = {"sin", "cos", "tan", "cot", "log", "ln", "exp", NULL};
/* Operators whose scripts go under and over them. */
static const char *const LIMOPS[] = {"lim", "max", "min", NULL};

/* Accents: \name{x} as <mover accent="true">x<mo>mark</mo></mover>. */
static const struct sym ACCENTS[] = {{"overline", "<mo stretchy=\"true\">‾</mo>"},
                                     {"bar", "<mo>ˉ</mo>"},
                                     {"vec", "<mo>⃗</mo>"},
                                     {"hat", "<mo>^</mo>"},
                                     {"overrightarrow", "<mo stretchy=\"true\">→</mo>"},
                                     {NULL, NULL}};

/* Unicode characters typed directly: operators (the rest are identifiers). */
static const char *const UNICODE_MO[] = {"≤", "≥", "≠", "±", "∓", "×", "÷", "·", "⋅",
                                         "−", "→", "⇒", "⇔", "≈", "≡", "⊥", "∥", "∈",
                                         "∉", "⊂", "∪", "∩", "∘", "⩽", "⩾", "…", NULL};

static const char *
lookup(const struct sym *t, const char *name)
{
    for (; t->name; t++)
        if (strcmp(t->name, name) == 0)
            return t->mathml;
    return NULL;
}

static int
in_list(const char *const *l, const char *name)
{
    for (; *l; l++)
        if (strcmp(*l, name) == 0)
            return 1;
    return 0;
}

/* ---- parsing ------------------------------------------------------------- */

/* The delimiter after \left or \right: "" for '.', else its text. */
static const char *
read_delim(struct lx *x, const char *cmd)
{
    skip_ws(x);
    if (x->i >= x->n) {
        fail(x, "\\%s thiếu dấu ngoặc đi kèm", cmd);
        return NULL;
    }
    char c = x->s[x->i];
    if (c == '(' || c == ')' || c == '[' || c == ']' || c == '|' || c == '.') {
        x->i++;
        return c == '('   ? "("
               : c == ')' ? ")"
               : c == '[' ? "["
               : c == ']' ? "]"
               : c == '|' ? "|"
                          : "";
    }
    if (c == '\\' && x->i + 1 < x->n) {
        char n = x->s[x->i + 1];
        if (n == '{' || n == '}' || n == '|') {
            x->i += 2;
            return n == '{' ? "{" : n == '}' ? "}" : "∥";
        }
    }
    fail(x, "dấu ngoặc sau \\%s không được hỗ trợ (chỉ ( ) [ ] | \\{ \\} hoặc .)", cmd);
    return NULL;
}

static char *
fence(const char *d)
{
    return *d ? el("<mo fence=\"true\">", d, "</mo>") : NULL;
}

/* \text{...}: the characters up to the closing brace as <mtext>. */
static char *
read_text(struct lx *x, const char *cmd)
{
    skip_ws(x);
    if (x->i >= x->n || x->s[x->i] != '{') {
        fail(x, "\\%s phải có nội dung trong dấu { }", cmd);
        return NULL;
    }
    size_t from = ++x->i;
    while (x->i < x->n && x->s[x->i] != '}') {
        if (x->s[x->i] == '{' || x->s[x->i] == '\\' || x->s[x->i] == '$') {
            fail(x, "trong \\%s{…} chỉ được có chữ, không có lệnh hay dấu ngoặc { }", cmd);
            return NULL;
        }
        x->i++;
    }
    if (x->i >= x->n) {
        fail(x, "thiếu dấu } đóng \\%s{", cmd);
        return NULL;
    }
    size_t to = x->i++;
    if (strcmp(cmd, "text") == 0)
        return el_escaped("<mtext>", x->s + from, to - from, "</mtext>");
    /* \mathrm, \mathbb: runs of letters as one identifier, digits as numbers */
    const char *open = strcmp(cmd, "mathbb") == 0 ? "<mi mathvariant=\"double-struck\">"
                                                  : "<mi mathvariant=\"normal\">";
    struct seq q = {0};
    for (size_t k = from; k < to;) {
        size_t e = k;
        if (x->s[k] == ' ') {
            k++;
            continue;
        }
        if (is_alpha(x->s[k])) {
            while (e < to && is_alpha(x->s[e]))
                e++;
            seq_push(&q, el_escaped(open, x->s + k, e - k, "</mi>"));
        } else if (is_digit(x->s[k]) && strcmp(cmd, "mathrm") == 0) {
            while (e < to && is_digit(x->s[e]))
                e++;
            seq_push(&q, el_escaped("<mn>", x->s + k, e - k, "</mn>"));
        } else {
            seq_free(&q);
            fail(x, "trong \\%s{…} chỉ được có chữ cái Latinh", cmd);
            return NULL;
        }
        k = e;
    }
    if (!q.n) {
        fail(x, "\\%s{} rỗng", cmd);
        return NULL;
    }
    return seq_join(&q, 0);
}

/* A command after its backslash (x->i past the name): its atom. */
static char *
command(struct lx *x, const char *name, enum kind *kind)
{
    const char *m = lookup(SYMBOLS, name);
    if (m)
        return kt_xstrdup(m);
    if (in_list(FUNCS, name)) {
        *kind = K_FUNC;
        return el("<mi>", name, "</mi>");
    }
    if (in_list(LIMOPS, name)) {
        *kind = K_LIMOP;
        return el("<mo movablelimits=\"true\" form=\"prefix\">", name, "</mo>");
    }
    if (strcmp(name, "frac") == 0 || strcmp(name, "dfrac") == 0 || strcmp(name, "tfrac") == 0) {
        char *num = parse_arg(x, name);
        char *den = x->failed ? NULL : parse_arg(x, name);
        if (x->failed) {
            free(num);
            free(den);
            return NULL;
        }
        kt_strbuf b = {0};
        if (name[0] == 'd')
            kt_strbuf_puts(&b, "<mstyle displaystyle=\"true\" scriptlevel=\"0\">");
        else if (name[0] == 't')
            kt_strbuf_puts(&b, "<mstyle displaystyle=\"false\" scriptlevel=\"0\">");
        kt_strbuf_puts(&b, "<mfrac>");
        kt_strbuf_puts(&b, num);
        kt_strbuf_puts(&b, den);
        kt_strbuf_puts(&b, "</mfrac>");
        if (name[0] != 'f')
            kt_strbuf_puts(&b, "</mstyle>");
        free(num);
        free(den);
        return kt_strbuf_take(&b);
    }
    if (strcmp(name, "sqrt") == 0) {
        char *index = NULL;
        skip_ws(x);
        if (x->i < x->n && x->s[x->i] == '[') {
            x->i++;
            index = parse_seq(x, S_BRACKET);
            if (x->failed)
                return NULL;
        }
        char *arg = parse_arg(x, name);
        if (x->failed) {
            free(index);
            return NULL;
        }
        char *r = index ? el("<mroot>", arg, "") : el("<msqrt>", arg, "</msqrt>");
        if (index) {
            char *t = el(r, index, "</mroot>");
            free(r);
            r = t;
        }
        free(arg);
        free(index);
        return r;
    }
    m = lookup(ACCENTS, name);
    if (m) {
        char *arg = parse_arg(x, name);
        if (x->failed)
            return NULL;
        kt_strbuf b = {0};
        kt_strbuf_puts(&b, "<mover accent=\"true\">");
        kt_strbuf_puts(&b, arg);
        kt_strbuf_puts(&b, m);
        kt_strbuf_puts(&b, "</mover>");
        free(arg);
        return kt_strbuf_take(&b);
    }
    if (strcmp(name, "text") == 0 || strcmp(name, "mathrm") == 0 || strcmp(name, "mathbb") == 0)
        return read_text(x, name);
    if (strcmp(name, "left") == 0) {
        const char *open = read_delim(x, "left");
        if (!open)
            return NULL;
        if (++x->depth > MAX_DEPTH) {
            fail(x, "công thức lồng nhau quá sâu (tối đa %d cấp)", MAX_DEPTH);
            return NULL;
        }
        char *inner = parse_seq(x, S_RIGHT);
        x->depth--;
        if (x->failed)
            return NULL;
        x->i += strlen("\\right");
        const char *close = read_delim(x, "right");
        if (!close) {
            free(inner);
            return NULL;
        }
        char *o = fence(open), *c = fence(close);
        kt_strbuf b = {0};
        kt_strbuf_puts(&b, "<mrow>");
        kt_strbuf_puts(&b, o ? o : "");
        /* inner is an <mrow> of its atoms, or one atom: its content inline */
        if (strncmp(inner, "<mrow>", 6) == 0 && strlen(inner) >= 13 &&
            strcmp(inner + strlen(inner) - 7, "</mrow>") == 0 &&
            strcmp(inner, "<mrow></mrow>") != 0)
            kt_strbuf_add(&b, inner + 6, strlen(inner) - 13);
        else if (strcmp(inner, "<mrow></mrow>") != 0)
            kt_strbuf_puts(&b, inner);
        kt_strbuf_puts(&b, c ? c : "");
        kt_strbuf_puts(&b, "</mrow>");
        free(o);
        free(c);
        free(inner);
        return kt_strbuf_take(&b);
    }
    if (strcmp(name, "right") == 0)
        fail(x, "\\right không có \\left tương ứng");
    else if (!name[0])
        fail(x, "dấu \\ ở cuối công thức");
    else
        fail(x, "lệnh \\%s chưa được hỗ trợ", name);
    return NULL;
}

/* The length of the UTF-8 character at s (at most n bytes), 0 if invalid. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
    size_t l = s[0] < 0x80             ? 1
               : (s[0] & 0xE0) == 0xC0 ? 2
               : (s[0] & 0xF0) == 0xE0 ? 3
               : (s[0] & 0xF8) == 0xF0 ? 4
                                       : 0;
    if (!l || l > n)
        return 0;
    for (size_t k = 1; k < l; k++)
        if ((s[k] & 0xC0) != 0x80)
            return 0;
    return l;
}

/* One atom at x->i (not a script): a number (one digit when single), a
 * letter, an operator, a group, a command. */
static char *
parse_atom(struct lx *x, int single, enum kind *kind)
{
    *kind = K_ORD;
    const char *s = x->s;
    char c = s[x->i];
    if (is_digit(c) || (c == '.' && x->i + 1 < x->n && is_digit(s[x->i + 1]))) {
        size_t from = x->i++;
        while (!single && x->i < x->n &&
               (is_digit(s[x->i]) || (s[x->i] == '.' && x->i + 1 < x->n && is_digit(s[x->i + 1]))))
            x->i++;
        return el_escaped("<mn>", s + from, x->i - from, "</mn>");
    }
    if (is_alpha(c)) {
        x->i++;
        return el_escaped("<mi>", s + x->i - 1, 1, "</mi>");
    }
    if (c == '{') {
        x->i++;
        if (++x->depth > MAX_DEPTH) {
            fail(x, "công thức lồng nhau quá sâu (tối đa %d cấp)", MAX_DEPTH);
            return NULL;
        }
        char *g = parse_seq(x, S_BRACE);
        x->depth--;
        return g;
    }
    if (c == '\\') {
        char name[32];
        x->i++;
        read_cmd(x, name, sizeof name);
        return command(x, name, kind);
    }
    x->i++;
    switch (c) {
    case '+':
        return kt_xstrdup("<mo>+</mo>");
    case '-':
        return kt_xstrdup("<mo>−</mo>");
    case '=':
        return kt_xstrdup("<mo>=</mo>");
    case '<':
        return kt_xstrdup("<mo>&lt;</mo>");
    case '>':
        return kt_xstrdup("<mo>&gt;</mo>");
    case '(':
        return kt_xstrdup("<mo stretchy=\"false\">(</mo>");
    case ')':
        return kt_xstrdup("<mo stretchy=\"false\">)</mo>");
    case '[':
        return kt_xstrdup("<mo stretchy=\"false\">[</mo>");
    case ']':
        return kt_xstrdup("<mo stretchy=\"false\">]</mo>");
    case '|':
        return kt_xstrdup("<mo stretchy=\"false\">|</mo>");
    case ',':
        return kt_xstrdup("<mo separator=\"true\">,</mo>");
    case ';':
        return kt_xstrdup("<mo separator=\"true\">;</mo>");
    case ':':
        return kt_xstrdup("<mo>:</mo>");
    case '!':
        return kt_xstrdup("<mo stretchy=\"false\">!</mo>");
    case '/':
        return kt_xstrdup("<mo>/</mo>");
    case '*':
        return kt_xstrdup("<mo>∗</mo>");
    case '.':
        return kt_xstrdup("<mo>.</mo>");
    case '~':
        return kt_xstrdup("<mtext>\xC2\xA0</mtext>");
    default:
        break;
    }
    x->i--;
    if ((unsigned char)c >= 0x80) {
        size_t l = utf8_len((const unsigned char *)s + x->i, x->n - x->i);
        if (l) {
            char ch[5];
            memcpy(ch, s + x->i, l);
            ch[l] = '\0';
            x->i += l;
            return el(in_list(UNICODE_MO, ch) ? "<mo>" : "<mi>", ch,
                      in_list(UNICODE_MO, ch) ? "</mo>" : "</mi>");
        }
        fail(x, "công thức có ký tự không hợp lệ");
        return NULL;
    }
    if (c == '}')
        fail(x, "thừa dấu }");
    else if (c == '^' || c == '_')
        fail(x, "thiếu nội dung sau dấu %c", c);
    else if ((unsigned char)c < 0x20)
        fail(x, "công thức có đối tượng nhúng hoặc ký tự điều khiển");
    else
        fail(x, "ký tự \"%c\" không được hỗ trợ trong công thức", c);
    return NULL;
}

/* The argument of a command or script: a {group} or one token. */
static char *
parse_arg(struct lx *x, const char *cmd)
{
    skip_ws(x);
    if (x->i >= x->n || x->s[x->i] == '}' || x->s[x->i] == '^' || x->s[x->i] == '_' ||
        x->s[x->i] == '&') {
        fail(x, "%s%s thiếu đối số", cmd[0] == '^' || cmd[0] == '_' ? "dấu " : "\\", cmd);
        return NULL;
    }
    enum kind k;
    return parse_atom(x, 1, &k);
}

/* Atoms up to the end of stop (consumed, except \right): one element. */
static char *
parse_seq(struct lx *x, enum stop stop)
{
    struct seq q = {0};
    for (;;) {
        skip_ws(x);
        if (x->failed)
            break;
        if (x->i >= x->n) {
            if (stop == S_BRACE)
                fail(x, "thiếu dấu } đóng nhóm");
            else if (stop == S_BRACKET)
                fail(x, "thiếu dấu ] đóng chỉ số căn");
            else if (stop == S_RIGHT)
                fail(x, "\\left thiếu \\right tương ứng");
            break;
        }
        char c = x->s[x->i];
        if (c == '}' && stop == S_BRACE) {
            x->i++;
            break;
        }
        if (c == ']' && stop == S_BRACKET) {
            x->i++;
            break;
        }
        if (stop == S_RIGHT && at_cmd(x, "right"))
            break;
        enum kind kind = K_ORD;
        char *base = NULL;
        if (c != '^' && c != '_') {
            base = parse_atom(x, 0, &kind);
            if (x->failed)
                break;
        }
        char *sub = NULL, *sup = NULL;
        int primes = 0;
        while (x->i < x->n && x->s[x->i] == '\'') {
            primes++;
            x->i++;
        }
        if (primes) {
            kt_strbuf b = {0};
            for (int k = 0; k < primes; k++)
                kt_strbuf_puts(&b, "′");
            sup = el("<mo>", b.s, "</mo>");
            free(b.s);
        }
        for (;;) {
            skip_ws(x);
            if (x->i >= x->n || (x->s[x->i] != '^' && x->s[x->i] != '_'))
                break;
            char op = x->s[x->i++];
            char **slot = op == '^' ? &sup : &sub;
            /* a second ^ or _ on one atom; f'^2 is the prime's exponent */
            if (*slot && !(op == '^' && primes > 0)) {
                fail(x, "dấu %c lặp lại trên cùng một ký hiệu (dùng { } để nhóm)", op);
                break;
            }
            if (op == '^')
                primes = 0;
            char *arg = parse_arg(x, op == '^' ? "^" : "_");
            if (x->failed)
                break;
            if (*slot) { /* f'^2: the prime and the exponent together */
                char *t = el("<mrow>", *slot, arg);
                char *u = el(t, "</mrow>", "");
                free(t);
                free(arg);
                free(*slot);
                arg = u;
            }
            *slot = arg;
        }
        if (x->failed) {
            free(base);
            free(sub);
            free(sup);
            break;
        }
        if (sub || sup) {
            const char *tag = kind == K_LIMOP ? (sub && sup ? "munderover"
                                                 : sub      ? "munder"
                                                            : "mover")
                                              : (sub && sup ? "msubsup"
                                                 : sub      ? "msub"
                                                            : "msup");
            kt_strbuf b = {0};
            kt_strbuf_puts(&b, "<");
            kt_strbuf_puts(&b, tag);
            kt_strbuf_puts(&b, ">");
            kt_strbuf_puts(&b, base ? base : "<mrow></mrow>");
            if (sub)
                kt_strbuf_puts(&b, sub);
            if (sup)
                kt_strbuf_puts(&b, sup);
            kt_strbuf_puts(&b, "</");
            kt_strbuf_puts(&b, tag);
            kt_strbuf_puts(&b, ">");
            free(base);
            free(sub);
            free(sup);
            base = kt_strbuf_take(&b);
        }
        seq_push(&q, base);
        if (kind == K_FUNC)
            seq_push(&q, kt_xstrdup(FUNC_APPLY));
    }
    if (x->failed) {
        seq_free(&q);
        return NULL;
    }
    if (!q.n) {
        free(q.a);
        return kt_xstrdup("<mrow></mrow>");
    }
    return seq_join(&q, stop == S_TOP); /* the formula is one <mrow>, as KaTeX writes it */
}

/* ---- public ---------------------------------------------------------------- */

char *
kt_latex_to_mathml(const char *tex, int display, char *err, size_t errlen)
{
    struct lx x = {.s = tex, .n = tex ? strlen(tex) : 0, .err = err, .errlen = errlen};
    if (err && errlen)
        err[0] = '\0';
    if (!tex || strspn(tex, " \t\r\n") == x.n) {
        fail(&x, "công thức rỗng");
        return NULL;
    }
    if (x.n > MAX_LEN) {
        fail(&x, "công thức quá dài (tối đa %d ký tự)", MAX_LEN);
        return NULL;
    }
    char *body = parse_seq(&x, S_TOP);
    if (!body)
        return NULL;
    kt_strbuf b = {0};
    kt_strbuf_puts(&b, "<math xmlns=\"" MATHML_NS "\"");
    if (display)
        kt_strbuf_puts(&b, " display=\"block\"");
    kt_strbuf_puts(&b, "><semantics>");
    kt_strbuf_puts(&b, body);
    kt_strbuf_puts(&b, "<annotation encoding=\"application/x-tex\">");
    kt_strbuf_escape(&b, tex, x.n);
    kt_strbuf_puts(&b, "</annotation></semantics></math>");
    free(body);
    return kt_strbuf_take(&b);
}

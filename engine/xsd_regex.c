/*
 * XML Schema regex to POSIX ERE (xsd_regex.h). A recursive-descent walk of
 * the XSD grammar (branches, pieces, quantifiers, atoms, character classes
 * with subtraction) writes an ERE in which every UTF-8 character is one
 * group, so quantifiers and '.' apply to characters, not bytes. Limits:
 * negated classes cannot exclude specific non-ASCII characters, and large
 * non-ASCII ranges stand for "any non-ASCII character".
 */
#include "xsd_regex.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define MAX_RANGES 64
#define ENUM_LIMIT 64 /* non-ASCII ranges up to this many code points are listed */

/* A character set: exact on ASCII, exact or "all" above it. */
struct set {
    bool ascii[128];
    bool any_high; /* every code point >= 0x80 */
    struct {
        uint32_t lo, hi;
    } r[MAX_RANGES];
    size_t nr;
};

struct tr {
    const char *p; /* the pattern, advancing */
    char *out;
    size_t n, size;
    bool fail;
};

/* ---- output ------------------------------------------------------------ */

static void
put(struct tr *t, const char *s, size_t len)
{
    if (t->fail || t->n + len + 1 > t->size) {
        t->fail = true;
        return;
    }
    memcpy(t->out + t->n, s, len);
    t->n += len;
    t->out[t->n] = '\0';
}

static void
puts_(struct tr *t, const char *s)
{
    put(t, s, strlen(s));
}

static size_t
utf8_encode(uint32_t c, char *b)
{
    if (c < 0x80) {
        b[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        b[0] = (char)(0xc0 | (c >> 6));
        b[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        b[0] = (char)(0xe0 | (c >> 12));
        b[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        b[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    b[0] = (char)(0xf0 | (c >> 18));
    b[1] = (char)(0x80 | ((c >> 12) & 0x3f));
    b[2] = (char)(0x80 | ((c >> 6) & 0x3f));
    b[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

/* Next code point of the pattern (invalid bytes are taken one by one). */
static uint32_t
next_cp(struct tr *t)
{
    const unsigned char *s = (const unsigned char *)t->p;
    uint32_t c = s[0];
    size_t len = 1;
    if (c >= 0xc0 && c < 0xe0 && (s[1] & 0xc0) == 0x80) {
        c = ((c & 0x1f) << 6) | (s[1] & 0x3f);
        len = 2;
    } else if (c >= 0xe0 && c < 0xf0 && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80) {
        c = ((c & 0x0f) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
        len = 3;
    } else if (c >= 0xf0 && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80 &&
               (s[3] & 0xc0) == 0x80) {
        c = ((c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3f) << 12) |
            ((uint32_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
        len = 4;
    }
    t->p += len;
    return c;
}

/* The bytes 0x80-0xff and control characters cannot be written with escapes
 * in a POSIX bracket, so they go in raw. */
#define HIGH_LEAD "[\xc0-\xff][\x80-\xbf]*"

static void
put_literal(struct tr *t, uint32_t c)
{
    char b[8];
    if (c < 0x80) {
        if (strchr(".[]()*+?{}|^$\\", (int)c) && c) {
            b[0] = '\\';
            b[1] = (char)c;
            put(t, b, 2);
        } else {
            b[0] = (char)c;
            put(t, b, 1);
        }
        return;
    }
    size_t n = utf8_encode(c, b);
    puts_(t, "(");
    put(t, b, n);
    puts_(t, ")");
}

/* ---- sets ------------------------------------------------------------- */

static void
set_range(struct tr *t, struct set *s, uint32_t lo, uint32_t hi)
{
    for (uint32_t c = lo; c <= hi && c < 0x80; c++)
        s->ascii[c] = true;
    if (hi < 0x80)
        return;
    if (lo < 0x80)
        lo = 0x80;
    if (s->nr == MAX_RANGES) {
        t->fail = true;
        return;
    }
    s->r[s->nr].lo = lo;
    s->r[s->nr].hi = hi;
    s->nr++;
}

static void
set_union(struct tr *t, struct set *a, const struct set *b)
{
    for (int c = 0; c < 128; c++)
        a->ascii[c] |= b->ascii[c];
    a->any_high |= b->any_high;
    for (size_t i = 0; i < b->nr; i++)
        set_range(t, a, b->r[i].lo, b->r[i].hi);
}

static void
set_negate(struct set *s)
{
    for (int c = 1; c < 128; c++)
        s->ascii[c] = !s->ascii[c];
    s->any_high = !s->any_high || s->nr > 0; /* cannot exclude single high characters */
    s->nr = 0;
}

/* a minus b: exact when b has no "any_high". */
static void
set_subtract(struct tr *t, struct set *a, const struct set *b)
{
    for (int c = 0; c < 128; c++)
        a->ascii[c] &= !b->ascii[c];
    if (b->any_high) {
        a->any_high = false;
        a->nr = 0;
        return;
    }
    for (size_t j = 0; j < b->nr; j++) {
        struct set out = {0};
        for (size_t i = 0; i < a->nr; i++) {
            uint32_t lo = a->r[i].lo, hi = a->r[i].hi;
            if (b->r[j].hi < lo || b->r[j].lo > hi) {
                set_range(t, &out, lo, hi);
                continue;
            }
            if (b->r[j].lo > lo)
                set_range(t, &out, lo, b->r[j].lo - 1);
            if (b->r[j].hi < hi)
                set_range(t, &out, b->r[j].hi + 1, hi);
        }
        memcpy(a->r, out.r, sizeof out.r);
        a->nr = out.nr;
    }
}

static void
set_posix(struct set *s, const char *cls, bool negate)
{
    for (int c = 1; c < 128; c++) {
        bool in;
        if (strcmp(cls, "digit") == 0)
            in = c >= '0' && c <= '9';
        else if (strcmp(cls, "space") == 0)
            in = c == ' ' || c == '\t' || c == '\n' || c == '\r';
        else if (strcmp(cls, "word") == 0) /* XSD \w: not punctuation, separator or other */
            in = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 c == '$' || c == '+' || c == '<' || c == '=' || c == '>' || c == '^' ||
                 c == '`' || c == '|' || c == '~';
        else if (strcmp(cls, "alpha") == 0)
            in = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        else if (strcmp(cls, "upper") == 0)
            in = c >= 'A' && c <= 'Z';
        else if (strcmp(cls, "lower") == 0)
            in = c >= 'a' && c <= 'z';
        else if (strcmp(cls, "punct") == 0)
            in = strchr("!\"#%&'()*,-./:;?@[\\]_{}", c) != NULL;
        else if (strcmp(cls, "namestart") == 0)
            in = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        else /* namechar */
            in = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == ':' || c == '-' || c == '.';
        if (in != negate)
            s->ascii[c] = true;
    }
    /* Letters and name characters above ASCII are "any high" (Vietnamese letters). */
    bool high = strcmp(cls, "word") == 0 || strcmp(cls, "alpha") == 0 ||
                strcmp(cls, "upper") == 0 || strcmp(cls, "lower") == 0 ||
                strcmp(cls, "namestart") == 0 || strcmp(cls, "namechar") == 0;
    if (high != negate)
        s->any_high = true;
}

static void
emit_set(struct tr *t, const struct set *s)
{
    char br[300];
    size_t n = 0;
    bool alt = s->any_high || s->nr > 0, any_ascii = false;

    br[n++] = '[';
    if (s->ascii[']'])
        br[n++] = ']';
    for (int c = 1; c < 128; c++)
        if (s->ascii[c] && c != ']' && c != '-' && c != '^')
            br[n++] = (char)c;
    if (s->ascii['^'])
        br[n++] = '^';
    if (s->ascii['-'])
        br[n++] = '-';
    for (int c = 1; c < 128; c++)
        any_ascii |= s->ascii[c];
    if (n == 2 && br[1] == '^') { /* "[^]" would be a negation */
        br[1] = '\\';
        br[2] = '^';
        n = 3;
    }
    br[n++] = ']';
    if (!alt) {
        if (any_ascii)
            put(t, br, n);
        else
            puts_(t, "[^\x01-\xff]"); /* the empty set: no string holds NUL */
        return;
    }
    puts_(t, "(");
    bool first = true;
    if (any_ascii) {
        put(t, br, n);
        first = false;
    }
    bool all_high = s->any_high;
    for (size_t i = 0; i < s->nr; i++)
        all_high |= s->r[i].hi - s->r[i].lo >= ENUM_LIMIT;
    if (all_high) {
        puts_(t, first ? "" : "|");
        puts_(t, HIGH_LEAD);
    } else {
        for (size_t i = 0; i < s->nr; i++)
            for (uint32_t c = s->r[i].lo; c <= s->r[i].hi; c++) {
                char b[4];
                size_t len = utf8_encode(c, b);
                puts_(t, first ? "" : "|");
                put(t, b, len);
                first = false;
            }
    }
    puts_(t, ")");
}

/* ---- parsing ---------------------------------------------------------------- */

/* \p{Name} categories that have a fair ASCII-plus-high translation. */
static bool
category(struct tr *t, struct set *s, bool negate)
{
    static const struct {
        const char *name, *cls;
    } CATS[] = {{"L", "alpha"}, {"Lu", "upper"}, {"Ll", "lower"}, {"N", "digit"},
                {"Nd", "digit"}, {"P", "punct"}, {"Z", "space"}};
    const char *end;
    if (*t->p != '{' || !(end = strchr(t->p, '}')))
        return false;
    size_t len = (size_t)(end - t->p - 1);
    for (size_t i = 0; i < sizeof CATS / sizeof *CATS; i++)
        if (strlen(CATS[i].name) == len && strncmp(t->p + 1, CATS[i].name, len) == 0) {
            set_posix(s, CATS[i].cls, negate);
            t->p = end + 1;
            return true;
        }
    return false;
}

/* After a backslash: a class escape into s (returns true) or a single
 * character into *c (returns false). */
static bool
escape(struct tr *t, struct set *s, uint32_t *c)
{
    char e = *t->p++;
    static const char *const NAMES[] = {"d", "digit", "s", "space", "w", "word",
                                        "i", "namestart", "c", "namechar"};
    for (size_t i = 0; i < sizeof NAMES / sizeof *NAMES; i += 2) {
        if (e == NAMES[i][0]) {
            set_posix(s, NAMES[i + 1], false);
            return true;
        }
        if (e == NAMES[i][0] - 32) {
            set_posix(s, NAMES[i + 1], true);
            return true;
        }
    }
    if (e == 'p' || e == 'P') {
        if (!category(t, s, e == 'P'))
            t->fail = true;
        return true;
    }
    switch (e) {
    case 'n': *c = '\n'; return false;
    case 'r': *c = '\r'; return false;
    case 't': *c = '\t'; return false;
    case '\0': t->fail = true; t->p--; *c = 0; return false;
    default:
        if (strchr("\\|.-^?*+{}()[]", e)) {
            *c = (uint32_t)(unsigned char)e;
            return false;
        }
        t->fail = true; /* back references and unknown escapes */
        *c = 0;
        return false;
    }
}

static void parse_class(struct tr *t, struct set *s);

/* One class item: a character, a range a-b or a class escape. */
static void
class_item(struct tr *t, struct set *s)
{
    uint32_t lo, hi;
    struct set esc = {0};
    if (*t->p == '\\') {
        t->p++;
        if (escape(t, &esc, &lo)) {
            set_union(t, s, &esc);
            return;
        }
    } else {
        lo = next_cp(t);
    }
    hi = lo;
    if (t->p[0] == '-' && t->p[1] && t->p[1] != ']' && t->p[1] != '[') {
        t->p++;
        if (*t->p == '\\') {
            t->p++;
            if (escape(t, &esc, &hi))
                t->fail = true;
        } else {
            hi = next_cp(t);
        }
        if (hi < lo)
            t->fail = true;
    }
    set_range(t, s, lo, hi);
}

/* [ ... ] with '^' negation and '-[...]' subtraction; t->p is past '['. */
static void
parse_class(struct tr *t, struct set *s)
{
    bool neg = false;
    if (*t->p == '^') {
        neg = true;
        t->p++;
    }
    bool first = true;
    while (!t->fail && *t->p && (*t->p != ']' || first)) {
        if (t->p[0] == '-' && t->p[1] == '[') {
            struct set sub = {0};
            t->p += 2;
            parse_class(t, &sub);
            if (neg) {
                set_negate(s);
                neg = false;
            }
            set_subtract(t, s, &sub);
            break;
        }
        class_item(t, s);
        first = false;
    }
    if (*t->p != ']')
        t->fail = true;
    else
        t->p++;
    if (neg)
        set_negate(s);
}

static void parse_regexp(struct tr *t, int depth);

static void
atom(struct tr *t, int depth)
{
    uint32_t c;
    struct set s = {0};
    switch (*t->p) {
    case '(':
        t->p++;
        puts_(t, "(");
        parse_regexp(t, depth + 1);
        if (*t->p != ')')
            t->fail = true;
        else
            t->p++;
        puts_(t, ")");
        return;
    case '[':
        t->p++;
        parse_class(t, &s);
        emit_set(t, &s);
        return;
    case '.':
        t->p++;
        puts_(t, "([^\n\r\x80-\xff]|" HIGH_LEAD ")");
        return;
    case '\\':
        t->p++;
        if (escape(t, &s, &c))
            emit_set(t, &s);
        else
            put_literal(t, c);
        return;
    case ')':
    case '|':
    case '?':
    case '*':
    case '+':
    case '{':
        t->fail = true;
        return;
    default:
        put_literal(t, next_cp(t));
    }
}

static void
quantifier(struct tr *t)
{
    char c = *t->p;
    if (c == '?' || c == '*' || c == '+') {
        put(t, &c, 1);
        t->p++;
    } else if (c == '{') {
        const char *end = strchr(t->p, '}');
        if (!end || strspn(t->p + 1, "0123456789,") != (size_t)(end - t->p - 1) ||
            !strchr("0123456789", t->p[1]))
            t->fail = true;
        else {
            put(t, t->p, (size_t)(end - t->p + 1));
            t->p = end + 1;
        }
    }
}

static void
parse_regexp(struct tr *t, int depth)
{
    if (depth > 64) {
        t->fail = true;
        return;
    }
    bool empty = true;
    while (!t->fail && *t->p && *t->p != ')') {
        if (*t->p == '|') {
            if (empty)
                puts_(t, "()");
            puts_(t, "|");
            t->p++;
            empty = true;
            continue;
        }
        puts_(t, "(");
        atom(t, depth);
        puts_(t, ")");
        quantifier(t);
        empty = false;
    }
    if (empty)
        puts_(t, "()");
}

int
kt_xsd_regex_translate(const char *pattern, char *out, size_t size)
{
    struct tr t = {.p = pattern, .out = out, .size = size};
    if (!size)
        return -1;
    out[0] = '\0';
    puts_(&t, "^(");
    parse_regexp(&t, 0);
    if (*t.p)
        t.fail = true; /* an unbalanced ')' */
    puts_(&t, ")$");
    return t.fail ? -1 : 0;
}

int
kt_xsd_regex_compile(const char *pattern, regex_t *re)
{
    char buf[8192];
    if (kt_xsd_regex_translate(pattern, buf, sizeof buf) < 0)
        return -1;
    return regcomp(re, buf, REG_EXTENDED | REG_NOSUB) == 0 ? 0 : -1;
}

/*
 * QTI values (qti_value.h): base-type and cardinality names, parsing of the
 * string forms QTI documents and candidates use, the shortest round-trip
 * formatting of floats, equality as match defines it, and deep copies into
 * an arena. No I/O, no state.
 */
#include "qti_value.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const BASE_NAMES[] = {
    [KT_QV_IDENTIFIER] = "identifier",
    [KT_QV_BOOLEAN] = "boolean",
    [KT_QV_INTEGER] = "integer",
    [KT_QV_FLOAT] = "float",
    [KT_QV_STRING] = "string",
    [KT_QV_POINT] = "point",
    [KT_QV_PAIR] = "pair",
    [KT_QV_DIRECTED_PAIR] = "directedPair",
    [KT_QV_DURATION] = "duration",
    [KT_QV_FILE] = "file",
    [KT_QV_URI] = "uri",
    [KT_QV_INT_OR_IDENTIFIER] = "intOrIdentifier",
};

static const char *const CARD_NAMES[] = {
    [KT_QV_SINGLE] = "single",
    [KT_QV_MULTIPLE] = "multiple",
    [KT_QV_ORDERED] = "ordered",
    [KT_QV_RECORD] = "record",
};

int
kt_qv_base_from_name(const char *name)
{
    for (size_t i = 0; name && i < sizeof BASE_NAMES / sizeof *BASE_NAMES; i++)
        if (strcmp(name, BASE_NAMES[i]) == 0)
            return (int)i;
    return -1;
}

int
kt_qv_card_from_name(const char *name)
{
    for (size_t i = 0; name && i < sizeof CARD_NAMES / sizeof *CARD_NAMES; i++)
        if (strcmp(name, CARD_NAMES[i]) == 0)
            return (int)i;
    return -1;
}

const char *
kt_qv_base_name(kt_qv_base base)
{
    return BASE_NAMES[base];
}

const char *
kt_qv_card_name(kt_qv_card card)
{
    return CARD_NAMES[card];
}

bool
kt_qv_base_numeric(kt_qv_base base)
{
    return base == KT_QV_INTEGER || base == KT_QV_FLOAT;
}

/* ---- construction ------------------------------------------------------ */

kt_qv
kt_qv_null(kt_qv_card card, kt_qv_base base)
{
    return (kt_qv){.card = card, .base = base, .null = true};
}

kt_qv
kt_qv_of(kt_qv_scalar s)
{
    return (kt_qv){.card = KT_QV_SINGLE, .base = s.base, .one = s};
}

kt_qv
kt_qv_int(int64_t i)
{
    return kt_qv_of((kt_qv_scalar){.base = KT_QV_INTEGER, .u.i = i});
}

kt_qv
kt_qv_float(double f)
{
    return kt_qv_of((kt_qv_scalar){.base = KT_QV_FLOAT, .u.f = f});
}

kt_qv
kt_qv_bool(bool b)
{
    return kt_qv_of((kt_qv_scalar){.base = KT_QV_BOOLEAN, .u.b = b});
}

kt_qv
kt_qv_identifier(const char *s)
{
    return kt_qv_of((kt_qv_scalar){.base = KT_QV_IDENTIFIER, .u.s = s});
}

static bool
stringish(kt_qv_base b)
{
    return b == KT_QV_IDENTIFIER || b == KT_QV_STRING || b == KT_QV_FILE || b == KT_QV_URI ||
           b == KT_QV_INT_OR_IDENTIFIER;
}

bool
kt_qv_is_null(const kt_qv *v)
{
    if (v->null)
        return true;
    if (v->card != KT_QV_SINGLE)
        return v->n == 0;
    return stringish(v->base) && (!v->one.u.s || !*v->one.u.s);
}

/* ---- parsing ------------------------------------------------------------ */

/* s without surrounding white space, as [*b, *e). */
static void
trim(const char *s, const char **b, const char **e)
{
    while (isspace((unsigned char)*s))
        s++;
    const char *t = s + strlen(s);
    while (t > s && isspace((unsigned char)t[-1]))
        t--;
    *b = s;
    *e = t;
}

static const char *
keep(kt_arena *a, const char *b, const char *e, const char *whole)
{
    if (a)
        return kt_arena_strndup(a, b, (size_t)(e - b));
    /* Without an arena only a string that needs no trimming can be shared. */
    return b == whole && *e == '\0' ? whole : NULL;
}

static int
parse_int(const char *b, const char *e, int64_t *out)
{
    char buf[32];
    const char *p = b;
    if ((size_t)(e - b) >= sizeof buf || b == e)
        return -1;
    if (*p == '+' || *p == '-')
        p++;
    if (p == e)
        return -1;
    for (const char *q = p; q < e; q++)
        if (!isdigit((unsigned char)*q))
            return -1;
    memcpy(buf, b, (size_t)(e - b));
    buf[e - b] = '\0';
    errno = 0;
    long long v = strtoll(buf, NULL, 10);
    if (errno)
        return -1;
    *out = v;
    return 0;
}

/* xsd:double: digits with an optional point and exponent, INF, -INF, NaN. */
static int
parse_double(const char *b, const char *e, double *out)
{
    char buf[64];
    size_t n = (size_t)(e - b);
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, b, n);
    buf[n] = '\0';
    if (strcmp(buf, "INF") == 0 || strcmp(buf, "+INF") == 0) {
        *out = INFINITY;
        return 0;
    }
    if (strcmp(buf, "-INF") == 0) {
        *out = -INFINITY;
        return 0;
    }
    if (strcmp(buf, "NaN") == 0) {
        *out = NAN;
        return 0;
    }
    const char *p = buf;
    bool digits = false;
    if (*p == '+' || *p == '-')
        p++;
    for (; isdigit((unsigned char)*p); p++)
        digits = true;
    if (*p == '.')
        for (p++; isdigit((unsigned char)*p); p++)
            digits = true;
    if (!digits)
        return -1;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p)
        return -1;
    *out = strtod(buf, NULL);
    return 0;
}

/* ISO 8601 duration (PnDTnHnMnS; a year is 365 days, a month 30) or seconds. */
static int
parse_duration(const char *b, const char *e, double *out)
{
    const char *p = b;
    bool neg = false, time = false, any = false;
    double total = 0;

    if (p < e && *p == '-') {
        neg = true;
        p++;
    }
    if (p == e || *p != 'P')
        return parse_double(b, e, out);
    for (p++; p < e;) {
        if (*p == 'T') {
            time = true;
            p++;
            continue;
        }
        const char *q = p;
        while (q < e && (isdigit((unsigned char)*q) || *q == '.'))
            q++;
        double v;
        if (q == p || q == e || parse_double(p, q, &v) < 0)
            return -1;
        switch (*q) {
        case 'Y': total += v * 365 * 86400; break;
        case 'M': total += time ? v * 60 : v * 30 * 86400; break;
        case 'W': total += v * 7 * 86400; break;
        case 'D': total += v * 86400; break;
        case 'H': total += v * 3600; break;
        case 'S': total += v; break;
        default: return -1;
        }
        any = true;
        p = q + 1;
    }
    if (!any)
        return -1;
    *out = neg ? -total : total;
    return 0;
}

/* Two white-space separated tokens of [b, e). */
static int
two_tokens(const char *b, const char *e, const char **t1, const char **e1, const char **t2,
           const char **e2)
{
    const char *p = b;
    while (p < e && !isspace((unsigned char)*p))
        p++;
    *t1 = b;
    *e1 = p;
    while (p < e && isspace((unsigned char)*p))
        p++;
    *t2 = p;
    while (p < e && !isspace((unsigned char)*p))
        p++;
    *e2 = p;
    return *e1 > *t1 && *e2 > *t2 && p == e ? 0 : -1;
}

int
kt_qv_parse_scalar(kt_qv_base base, const char *s, kt_arena *a, kt_qv_scalar *out)
{
    const char *b, *e, *t1, *e1, *t2, *e2;

    memset(out, 0, sizeof *out);
    out->base = base;
    if (!s)
        return -1;
    trim(s, &b, &e);
    switch (base) {
    case KT_QV_STRING:
        out->u.s = a ? kt_arena_strdup(a, s) : s;
        return 0;
    case KT_QV_IDENTIFIER:
    case KT_QV_FILE:
    case KT_QV_URI:
    case KT_QV_INT_OR_IDENTIFIER:
        if (b == e)
            return -1;
        out->u.s = keep(a, b, e, s);
        return out->u.s ? 0 : -1;
    case KT_QV_BOOLEAN:
        if ((e - b == 4 && strncmp(b, "true", 4) == 0) || (e - b == 1 && *b == '1'))
            out->u.b = true;
        else if (!((e - b == 5 && strncmp(b, "false", 5) == 0) || (e - b == 1 && *b == '0')))
            return -1;
        return 0;
    case KT_QV_INTEGER:
        return parse_int(b, e, &out->u.i);
    case KT_QV_FLOAT:
        return parse_double(b, e, &out->u.f);
    case KT_QV_DURATION:
        return parse_duration(b, e, &out->u.f);
    case KT_QV_POINT:
        if (two_tokens(b, e, &t1, &e1, &t2, &e2) < 0 || parse_int(t1, e1, &out->u.pt.x) < 0 ||
            parse_int(t2, e2, &out->u.pt.y) < 0)
            return -1;
        return 0;
    case KT_QV_PAIR:
    case KT_QV_DIRECTED_PAIR:
        if (two_tokens(b, e, &t1, &e1, &t2, &e2) < 0 || !a)
            return -1;
        out->u.pair.a = kt_arena_strndup(a, t1, (size_t)(e1 - t1));
        out->u.pair.b = kt_arena_strndup(a, t2, (size_t)(e2 - t2));
        return 0;
    }
    return -1;
}

int
kt_qv_parse(kt_qv_card card, kt_qv_base base, const char *const *strs, size_t n, kt_arena *a,
            kt_qv *out)
{
    *out = kt_qv_null(card, base);
    if (card == KT_QV_RECORD)
        return n ? -1 : 0;
    if (card == KT_QV_SINGLE) {
        if (n == 0)
            return 0;
        if (n > 1 || kt_qv_parse_scalar(base, strs[0], a, &out->one) < 0)
            return -1;
        out->null = false;
        return 0;
    }
    if (n == 0)
        return 0;
    if (!a)
        return -1;
    out->items = kt_arena_alloc(a, n * sizeof *out->items);
    for (size_t i = 0; i < n; i++)
        if (kt_qv_parse_scalar(base, strs[i], a, &out->items[i]) < 0)
            return -1;
    out->n = n;
    out->null = false;
    return 0;
}

/* ---- formatting --------------------------------------------------------- */

void
kt_qv_format_double(double f, char *buf, size_t size)
{
    if (isnan(f)) {
        snprintf(buf, size, "NaN");
        return;
    }
    if (isinf(f)) {
        snprintf(buf, size, f > 0 ? "INF" : "-INF");
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, f);
        if (strtod(buf, NULL) == f)
            break;
    }
    if (!strpbrk(buf, ".e")) {
        size_t n = strlen(buf);
        if (n + 3 <= size)
            memcpy(buf + n, ".0", 3);
    }
}

int
kt_qv_format_scalar(const kt_qv_scalar *s, char *buf, size_t size)
{
    char num[32];
    switch (s->base) {
    case KT_QV_BOOLEAN:
        return snprintf(buf, size, "%s", s->u.b ? "true" : "false");
    case KT_QV_INTEGER:
        return snprintf(buf, size, "%lld", (long long)s->u.i);
    case KT_QV_FLOAT:
    case KT_QV_DURATION:
        kt_qv_format_double(s->u.f, num, sizeof num);
        return snprintf(buf, size, "%s", num);
    case KT_QV_POINT:
        return snprintf(buf, size, "%lld %lld", (long long)s->u.pt.x, (long long)s->u.pt.y);
    case KT_QV_PAIR:
    case KT_QV_DIRECTED_PAIR:
        return snprintf(buf, size, "%s %s", s->u.pair.a, s->u.pair.b);
    default:
        return snprintf(buf, size, "%s", s->u.s ? s->u.s : "");
    }
}

/* ---- comparison ----------------------------------------------------------- */

static bool
streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

bool
kt_qv_scalar_equal(const kt_qv_scalar *a, const kt_qv_scalar *b)
{
    if (a->base != b->base)
        return false;
    switch (a->base) {
    case KT_QV_BOOLEAN:
        return a->u.b == b->u.b;
    case KT_QV_INTEGER:
        return a->u.i == b->u.i;
    case KT_QV_FLOAT:
    case KT_QV_DURATION:
        return a->u.f == b->u.f;
    case KT_QV_POINT:
        return a->u.pt.x == b->u.pt.x && a->u.pt.y == b->u.pt.y;
    case KT_QV_PAIR:
        return (streq(a->u.pair.a, b->u.pair.a) && streq(a->u.pair.b, b->u.pair.b)) ||
               (streq(a->u.pair.a, b->u.pair.b) && streq(a->u.pair.b, b->u.pair.a));
    case KT_QV_DIRECTED_PAIR:
        return streq(a->u.pair.a, b->u.pair.a) && streq(a->u.pair.b, b->u.pair.b);
    default:
        return streq(a->u.s, b->u.s);
    }
}

/* Multiset equality: every element of a pairs with a distinct equal one of b. */
static bool
multiset_equal(const kt_qv *a, const kt_qv *b)
{
    unsigned char used_small[64];
    unsigned char *used = used_small;
    bool ok = true;

    if (a->n != b->n)
        return false;
    if (b->n > sizeof used_small && !(used = calloc(b->n, 1)))
        abort();
    if (used == used_small)
        memset(used, 0, sizeof used_small);
    for (size_t i = 0; ok && i < a->n; i++) {
        size_t j = 0;
        while (j < b->n && (used[j] || !kt_qv_scalar_equal(&a->items[i], &b->items[j])))
            j++;
        if (j == b->n)
            ok = false;
        else
            used[j] = 1;
    }
    if (used != used_small)
        free(used);
    return ok;
}

bool
kt_qv_equal(const kt_qv *a, const kt_qv *b)
{
    if (a->card != b->card)
        return false;
    switch (a->card) {
    case KT_QV_SINGLE:
        return kt_qv_scalar_equal(&a->one, &b->one);
    case KT_QV_MULTIPLE:
        return multiset_equal(a, b);
    case KT_QV_ORDERED:
        if (a->n != b->n)
            return false;
        for (size_t i = 0; i < a->n; i++)
            if (!kt_qv_scalar_equal(&a->items[i], &b->items[i]))
                return false;
        return true;
    case KT_QV_RECORD:
        if (a->n != b->n)
            return false;
        for (size_t i = 0; i < a->n; i++) {
            size_t j = 0;
            while (j < b->n && !streq(a->fields[i], b->fields[j]))
                j++;
            if (j == b->n || !kt_qv_scalar_equal(&a->items[i], &b->items[j]))
                return false;
        }
        return true;
    }
    return false;
}

double
kt_qv_number(const kt_qv_scalar *s)
{
    return s->base == KT_QV_INTEGER ? (double)s->u.i : s->u.f;
}

/* ---- copies ----------------------------------------------------------------- */

static void
copy_scalar(kt_arena *a, kt_qv_scalar *d, const kt_qv_scalar *s)
{
    *d = *s;
    if (s->base == KT_QV_PAIR || s->base == KT_QV_DIRECTED_PAIR) {
        d->u.pair.a = kt_arena_strdup(a, s->u.pair.a);
        d->u.pair.b = kt_arena_strdup(a, s->u.pair.b);
    } else if (stringish(s->base)) {
        d->u.s = kt_arena_strdup(a, s->u.s);
    }
}

void
kt_qv_copy(kt_arena *a, kt_qv *dst, const kt_qv *src)
{
    *dst = *src;
    if (src->card == KT_QV_SINGLE) {
        if (!src->null)
            copy_scalar(a, &dst->one, &src->one);
        return;
    }
    dst->items = src->n ? kt_arena_alloc(a, src->n * sizeof *dst->items) : NULL;
    for (size_t i = 0; i < src->n; i++)
        copy_scalar(a, &dst->items[i], &src->items[i]);
    if (src->card == KT_QV_RECORD && src->n) {
        dst->fields = kt_arena_alloc(a, src->n * sizeof *dst->fields);
        for (size_t i = 0; i < src->n; i++)
            dst->fields[i] = kt_arena_strdup(a, src->fields[i]);
    }
}

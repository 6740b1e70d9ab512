/*
 * The QTI expression evaluator: every operator of QTI 2.1/2.2 item response
 * and template processing plus the test-level item counters, with the
 * spec's NULL rules (a NULL operand gives NULL, except isNull, the
 * container builders, containerSize and the and/or three-valued logic).
 * Values are produced in the context's arena; nothing is freed one by one.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "rp_eval.h"
#include "xsd_regex.h"

int
kt_rp_fail(kt_rp_ctx *c, const char *fmt, ...)
{
    if (c->err && c->errsize && !c->err[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err, c->errsize, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int
type_error(kt_rp_ctx *c, const kt_rp_expr *e, const char *what)
{
    return kt_rp_fail(c, "%s: %s", e->element, what);
}

/* ---- helpers ------------------------------------------------------------------ */

static bool
is_null(const kt_qv *v)
{
    return kt_qv_is_null(v);
}

/* Room for a node's operand values: on the stack for the usual few. */
#define ARGS_ON_STACK 8

/* Evaluates every operand of e into stack (or the arena when there are
 * more than ARGS_ON_STACK); NULL on an error. */
static kt_qv *
eval_all(kt_rp_ctx *c, const kt_rp_expr *e, kt_qv *stack)
{
    kt_qv *vals = e->nargs <= ARGS_ON_STACK ? stack
                                            : kt_arena_alloc(c->arena, e->nargs * sizeof *vals);
    memset(vals, 0, (e->nargs ? e->nargs : 1) * sizeof *vals);
    for (size_t i = 0; i < e->nargs; i++)
        if (kt_rp_eval(c, &e->args[i], &vals[i]) < 0)
            return NULL;
    return vals;
}

static bool
any_null(const kt_qv *vals, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (is_null(&vals[i]))
            return true;
    return false;
}

static bool
single_number(const kt_qv *v, double *d, bool *is_int)
{
    if (v->card != KT_QV_SINGLE ||
        !(v->base == KT_QV_INTEGER || v->base == KT_QV_FLOAT || v->base == KT_QV_DURATION))
        return false;
    *d = kt_qv_number(&v->one);
    if (is_int)
        *is_int = v->base == KT_QV_INTEGER;
    return true;
}

static bool
single_bool(const kt_qv *v, bool *b)
{
    if (v->card != KT_QV_SINGLE || v->base != KT_QV_BOOLEAN)
        return false;
    *b = v->one.u.b;
    return true;
}

static bool
single_string(const kt_qv *v, const char **s)
{
    if (v->card != KT_QV_SINGLE ||
        !(v->base == KT_QV_STRING || v->base == KT_QV_IDENTIFIER || v->base == KT_QV_URI ||
          v->base == KT_QV_INT_OR_IDENTIFIER || v->base == KT_QV_FILE))
        return false;
    *s = v->one.u.s ? v->one.u.s : "";
    return true;
}

static bool
is_container(const kt_qv *v)
{
    return v->card == KT_QV_MULTIPLE || v->card == KT_QV_ORDERED;
}

/* The value of a number-or-{VAR} attribute; false when the variable is NULL
 * or not numeric. */
static bool
num_ref(kt_rp_ctx *c, const kt_rp_num_ref *r, double *out)
{
    if (r->var < 0) {
        *out = r->number;
        return true;
    }
    return !is_null(&c->values[r->var]) && single_number(&c->values[r->var], out, NULL);
}

/* Case-folded copy (Unicode simple folding through utf8proc), malloc'd. */
static char *
fold(const char *s)
{
    utf8proc_uint8_t *out = NULL;
    if (utf8proc_map((const utf8proc_uint8_t *)s, 0, &out,
                     UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD) <
        0) {
        free(out);
        out = (utf8proc_uint8_t *)strdup(s);
        if (!out)
            abort();
    }
    return (char *)out;
}

/* a == b, or a contains b (substring), optionally ignoring case. */
static bool
text_match(const char *a, const char *b, bool case_sensitive, bool substring)
{
    char *fa = NULL, *fb = NULL;
    if (!case_sensitive) {
        a = fa = fold(a);
        b = fb = fold(b);
    }
    bool r = substring ? strstr(a, b) != NULL : strcmp(a, b) == 0;
    free(fa);
    free(fb);
    return r;
}

static kt_qv
container(kt_rp_ctx *c, kt_qv_card card, kt_qv_base base, size_t cap)
{
    kt_qv v = kt_qv_null(card, base);
    v.null = false;
    v.items = cap ? kt_arena_alloc(c->arena, cap * sizeof *v.items) : NULL;
    return v;
}

/* ---- shapes ------------------------------------------------------------------- */

static bool
inside(const kt_rp_area *a, double x, double y)
{
    const double *k = a->coords;
    switch (a->shape) {
    case KT_RP_SHAPE_DEFAULT:
        return true;
    case KT_RP_SHAPE_RECT:
        return a->ncoords >= 4 && x >= fmin(k[0], k[2]) && x <= fmax(k[0], k[2]) &&
               y >= fmin(k[1], k[3]) && y <= fmax(k[1], k[3]);
    case KT_RP_SHAPE_CIRCLE:
        return a->ncoords >= 3 && (x - k[0]) * (x - k[0]) + (y - k[1]) * (y - k[1]) <= k[2] * k[2];
    case KT_RP_SHAPE_ELLIPSE:
        return a->ncoords >= 4 && k[2] > 0 && k[3] > 0 &&
               (x - k[0]) * (x - k[0]) / (k[2] * k[2]) + (y - k[1]) * (y - k[1]) / (k[3] * k[3]) <=
                   1;
    case KT_RP_SHAPE_POLY: {
        size_t n = a->ncoords / 2;
        bool in = false;
        for (size_t i = 0, j = n - 1; n >= 3 && i < n; j = i++) {
            double xi = k[2 * i], yi = k[2 * i + 1], xj = k[2 * j], yj = k[2 * j + 1];
            if (xi == x && yi == y)
                return true; /* a vertex */
            if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi)
                in = !in;
        }
        return in;
    }
    }
    return false;
}

/* The points of a single or multiple point value. */
static size_t
points(const kt_qv *v, const kt_qv_scalar **pts)
{
    if (v->card == KT_QV_SINGLE) {
        *pts = &v->one;
        return 1;
    }
    *pts = v->items;
    return v->n;
}

/* ---- mapping ------------------------------------------------------------------ */

static bool
key_matches(const kt_rp_map_entry *m, const kt_qv_scalar *v)
{
    if (v->base == KT_QV_STRING && m->key.base == KT_QV_STRING && !m->case_sensitive)
        return text_match(v->u.s, m->key.u.s, false, false);
    return kt_qv_scalar_equal(&m->key, v);
}

/* The first entry that maps v, or NULL. */
static const kt_rp_map_entry *
map_lookup(const kt_rp_mapping *m, const kt_qv_scalar *v)
{
    for (size_t i = 0; i < m->nentries; i++)
        if (key_matches(&m->entries[i], v))
            return &m->entries[i];
    return NULL;
}

static double
bounded(double x, bool has_lower, double lower, bool has_upper, double upper)
{
    if (has_lower && x < lower)
        return lower;
    if (has_upper && x > upper)
        return upper;
    return x;
}

static int
map_response(kt_rp_ctx *c, const kt_rp_expr *e, kt_qv *out)
{
    if (e->var < 0)
        return type_error(c, e, "unknown response variable");
    const kt_rp_decl *d = &c->decls[e->var];
    const kt_rp_mapping *m = &d->mapping;
    const kt_qv *v = &c->values[e->var];
    double total = 0;

    if (!m->present) {
        *out = kt_qv_float(0);
        return 0;
    }
    if (v->card == KT_QV_RECORD)
        return type_error(c, e, "a record cannot be mapped");
    if (is_null(v)) {
        /* NULL maps like the empty string for strings, else to the default. */
        kt_qv_scalar empty = {.base = KT_QV_STRING, .u.s = ""};
        const kt_rp_map_entry *hit = d->base == KT_QV_STRING ? map_lookup(m, &empty) : NULL;
        total = hit ? hit->value : m->default_value;
    } else if (v->card == KT_QV_SINGLE) {
        const kt_rp_map_entry *hit = map_lookup(m, &v->one);
        total = hit ? hit->value : m->default_value;
    } else {
        for (size_t i = 0; i < v->n; i++) {
            bool seen = false;
            for (size_t j = 0; j < i && !seen; j++)
                seen = kt_qv_scalar_equal(&v->items[i], &v->items[j]);
            if (seen)
                continue; /* each distinct value counts once */
            const kt_rp_map_entry *hit = map_lookup(m, &v->items[i]);
            total += hit ? hit->value : m->default_value;
        }
    }
    *out = kt_qv_float(bounded(total, m->has_lower, m->lower, m->has_upper, m->upper));
    return 0;
}

static int
map_response_point(kt_rp_ctx *c, const kt_rp_expr *e, kt_qv *out)
{
    if (e->var < 0)
        return type_error(c, e, "unknown response variable");
    const kt_rp_decl *d = &c->decls[e->var];
    const kt_rp_area_mapping *m = &d->area_mapping;
    const kt_qv *v = &c->values[e->var];

    if (!m->present) {
        *out = kt_qv_float(0);
        return 0;
    }
    if (d->base != KT_QV_POINT || v->card == KT_QV_RECORD || v->card == KT_QV_ORDERED)
        return type_error(c, e, "needs a single or multiple point response");
    if (is_null(v)) {
        *out = kt_qv_float(m->default_value);
        return 0;
    }
    const kt_qv_scalar *pts;
    size_t npts = points(v, &pts), nmapped = 0;
    double total = 0;
    for (size_t j = 0; j < m->nentries; j++) {
        for (size_t i = 0; i < npts; i++)
            if (inside(&m->entries[j].area, (double)pts[i].u.pt.x, (double)pts[i].u.pt.y)) {
                total += m->entries[j].value; /* each area counts once */
                nmapped++;
                break;
            }
    }
    if (!nmapped)
        total = m->default_value;
    else
        total = bounded(total, m->has_lower, m->lower, m->has_upper, m->upper);
    *out = kt_qv_float(total);
    return 0;
}

/* ---- logic -------------------------------------------------------------------- */

static int
logic(kt_rp_ctx *c, const kt_rp_expr *e, kt_qv *out)
{
    bool want = e->op == KT_RP_OR, saw_null = false;
    for (size_t i = 0; i < e->nargs; i++) {
        kt_qv v = {0};
        bool b;
        if (kt_rp_eval(c, &e->args[i], &v) < 0)
            return -1;
        if (is_null(&v)) {
            saw_null = true;
            continue;
        }
        if (!single_bool(&v, &b))
            return type_error(c, e, "operands must be single booleans");
        if (b == want) {
            *out = kt_qv_bool(want); /* and: a false decides; or: a true decides */
            return 0;
        }
    }
    *out = saw_null ? kt_qv_null(KT_QV_SINGLE, KT_QV_BOOLEAN) : kt_qv_bool(!want);
    return 0;
}

static int
any_n(kt_rp_ctx *c, const kt_rp_expr *e, kt_qv *out)
{
    double min, max;
    size_t ntrue = 0, nnull = 0;
    kt_qv stack[ARGS_ON_STACK];
    kt_qv *vals = eval_all(c, e, stack);
    if (!vals)
        return -1;
    if (!num_ref(c, &e->min, &min) || !num_ref(c, &e->max, &max)) {
        *out = kt_qv_null(KT_QV_SINGLE, KT_QV_BOOLEAN);
        return 0;
    }
    for (size_t i = 0; i < e->nargs; i++) {
        bool b;
        if (is_null(&vals[i]))
            nnull++;
        else if (!single_bool(&vals[i], &b))
            return type_error(c, e, "operands must be single booleans");
        else
            ntrue += b;
    }
    /* true (false) when every way of reading the NULLs is inside (outside) [min, max] */
    if ((double)ntrue >= min && (double)(ntrue + nnull) <= max)
        *out = kt_qv_bool(true);
    else if ((double)(ntrue + nnull) < min || (double)ntrue > max)
        *out = kt_qv_bool(false);
    else
        *out = kt_qv_null(KT_QV_SINGLE, KT_QV_BOOLEAN);
    return 0;
}

/* ---- containers ------------------------------------------------------------------ */

static int
build_container(kt_rp_ctx *c, const kt_rp_expr *e, kt_qv_card card, kt_qv *out)
{
    size_t total = 0;
    bool typed = false;
    kt_qv_base base = KT_QV_IDENTIFIER;
    kt_qv stack[ARGS_ON_STACK];
    kt_qv *vals = eval_all(c, e, stack);
    if (!vals)
        return -1;
    for (size_t i = 0; i < e->nargs; i++) {
        if (is_null(&vals[i]))
            continue; /* NULL sub-expressions are ignored */
        if (vals[i].card == KT_QV_RECORD || (vals[i].card != KT_QV_SINGLE && vals[i].card != card))
            return type_error(c, e, "operands must be single values or containers like the result");
        if (typed && vals[i].base != base)
            return type_error(c, e, "operands must share one base type");
        base = vals[i].base;
        typed = true;
        total += vals[i].card == KT_QV_SINGLE ? 1 : vals[i].n;
    }
    if (!total) {
        *out = kt_qv_null(card, base);
        return 0;
    }
    *out = container(c, card, base, total);
    for (size_t i = 0; i < e->nargs; i++) {
        if (is_null(&vals[i]))
            continue;
        if (vals[i].card == KT_QV_SINGLE)
            out->items[out->n++] = vals[i].one;
        else
            for (size_t j = 0; j < vals[i].n; j++)
                out->items[out->n++] = vals[i].items[j];
    }
    return 0;
}

static int
repeat(kt_rp_ctx *c, const kt_rp_expr *e, kt_qv *out)
{
    double times;
    if (!num_ref(c, &e->n, &times) || times < 1) {
        *out = kt_qv_null(KT_QV_ORDERED, KT_QV_IDENTIFIER);
        return 0;
    }
    if (times > 10000)
        return type_error(c, e, "numberRepeats above 10000");
    size_t total = 0, cap = 0;
    bool typed = false;
    kt_qv_base base = KT_QV_IDENTIFIER;
    kt_qv res = kt_qv_null(KT_QV_ORDERED, base);
    for (long r = 0; r < (long)times; r++)
        for (size_t i = 0; i < e->nargs; i++) {
            kt_qv v = {0};
            if (kt_rp_eval(c, &e->args[i], &v) < 0)
                return -1;
            if (is_null(&v))
                continue;
            if (v.card == KT_QV_RECORD || v.card == KT_QV_MULTIPLE || (typed && v.base != base))
                return type_error(c, e, "operands must be single or ordered values of one type");
            base = v.base;
            typed = true;
            size_t add = v.card == KT_QV_SINGLE ? 1 : v.n;
            if (total + add > cap) {
                size_t ncap = (total + add) * 2;
                kt_qv_scalar *grown = kt_arena_alloc(c->arena, ncap * sizeof *grown);
                if (total)
                    memcpy(grown, res.items, total * sizeof *grown);
                res.items = grown;
                cap = ncap;
            }
            if (v.card == KT_QV_SINGLE)
                res.items[total++] = v.one;
            else
                for (size_t j = 0; j < v.n; j++)
                    res.items[total++] = v.items[j];
        }
    res.base = base;
    res.n = total;
    res.null = total == 0;
    *out = res;
    return 0;
}

static bool
holds(const kt_qv *cont, const kt_qv_scalar *s)
{
    for (size_t i = 0; i < cont->n; i++)
        if (kt_qv_scalar_equal(&cont->items[i], s))
            return true;
    return false;
}

static int
contains(kt_rp_ctx *c, const kt_rp_expr *e, const kt_qv *a, const kt_qv *b, kt_qv *out)
{
    if (!is_container(a) || a->card != b->card || a->base != b->base)
        return type_error(c, e, "operands must be containers of the same kind");
    if (a->card == KT_QV_ORDERED) {
        bool found = false;
        for (size_t i = 0; !found && i + b->n <= a->n; i++) {
            size_t j = 0;
            while (j < b->n && kt_qv_scalar_equal(&a->items[i + j], &b->items[j]))
                j++;
            found = j == b->n;
        }
        *out = kt_qv_bool(found);
        return 0;
    }
    /* multiset inclusion: each element of b uses up one equal element of a */
    unsigned char *used = kt_arena_alloc(c->arena, a->n ? a->n : 1);
    for (size_t i = 0; i < b->n; i++) {
        size_t j = 0;
        while (j < a->n && (used[j] || !kt_qv_scalar_equal(&a->items[j], &b->items[i])))
            j++;
        if (j == a->n) {
            *out = kt_qv_bool(false);
            return 0;
        }
        used[j] = 1;
    }
    *out = kt_qv_bool(true);
    return 0;
}

static int
delete_from(kt_rp_ctx *c, const kt_rp_expr *e, const kt_qv *x, const kt_qv *cont, kt_qv *out)
{
    if (x->card != KT_QV_SINGLE || !is_container(cont) || x->base != cont->base)
        return type_error(c, e, "needs a single value and a container of its type");
    *out = container(c, cont->card, cont->base, cont->n);
    for (size_t i = 0; i < cont->n; i++)
        if (!kt_qv_scalar_equal(&cont->items[i], &x->one))
            out->items[out->n++] = cont->items[i];
    out->null = out->n == 0;
    return 0;
}

/* ---- comparison -------------------------------------------------------------------- */

static int
compare(kt_rp_ctx *c, const kt_rp_expr *e, const kt_qv *vals, kt_qv *out)
{
    double a, b;
    if (!single_number(&vals[0], &a, NULL) || !single_number(&vals[1], &b, NULL))
        return type_error(c, e, "operands must be single numbers");
    bool r = e->op == KT_RP_GT || e->op == KT_RP_DURATION_GTE ? (e->op == KT_RP_GT ? a > b : a >= b)
             : e->op == KT_RP_GTE                             ? a >= b
             : e->op == KT_RP_LT || e->op == KT_RP_DURATION_LT ? a < b
                                                               : a <= b;
    *out = kt_qv_bool(r);
    return 0;
}

static int
equal(kt_rp_ctx *c, const kt_rp_expr *e, const kt_qv *vals, kt_qv *out)
{
    double x, y, t0 = 0, t1 = 0;
    if (!single_number(&vals[0], &x, NULL) || !single_number(&vals[1], &y, NULL))
        return type_error(c, e, "operands must be single numbers");
    if (e->tolerance_mode == KT_RP_TOL_EXACT) {
        *out = kt_qv_bool(x == y);
        return 0;
    }
    if (!num_ref(c, &e->tolerance[0], &t0))
        return type_error(c, e, "tolerance is not a number");
    t1 = t0;
    if ((e->tolerance[1].var >= 0 || !isnan(e->tolerance[1].number)) &&
        !num_ref(c, &e->tolerance[1], &t1))
        return type_error(c, e, "tolerance is not a number");
    double lo, hi;
    if (e->tolerance_mode == KT_RP_TOL_ABSOLUTE) {
        lo = y - t0;
        hi = y + t1;
    } else {
        lo = y * (1 - t0 / 100);
        hi = y * (1 + t1 / 100);
    }
    bool ok_lo = e->include_lower ? x >= lo : x > lo;
    bool ok_hi = e->include_upper ? x <= hi : x < hi;
    *out = kt_qv_bool(ok_lo && ok_hi);
    return 0;
}

/* x to figures significant figures or decimal places, halves away from zero,
 * on the shortest decimal form of x (so 2.675, binary 2.67499..., gives 2.68). */
static double
round_to(double x, kt_rp_rounding_mode mode, int figures)
{
    char buf[48], out[64];
    if (x == 0 || !isfinite(x))
        return x;
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, fabs(x));
        if (strtod(buf, NULL) == fabs(x))
            break;
    }
    char digits[20];
    int nd = 0, exp10 = atoi(strchr(buf, 'e') + 1);
    for (const char *p = buf; *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            digits[nd++] = *p;
    int keep = mode == KT_RP_ROUND_SIGNIFICANT ? figures : exp10 + 1 + figures;
    if (keep >= nd)
        return x;
    if (keep < 0)
        return copysign(0, x);
    bool up = digits[keep] >= '5';
    int i = keep - 1;
    for (; up && i >= 0; i--) {
        if (digits[i] == '9')
            digits[i] = '0';
        else {
            digits[i]++;
            up = false;
        }
    }
    if (up) { /* 9.99 -> 10.0: one more digit in front */
        memmove(digits + 1, digits, (size_t)keep);
        digits[0] = '1';
        keep++;
        exp10++;
    }
    snprintf(out, sizeof out, "0.%.*se%d", keep, digits, exp10 + 1);
    if (keep == 0)
        snprintf(out, sizeof out, "0");
    return copysign(strtod(out, NULL), x);
}

static int
equal_rounded(kt_rp_ctx *c, const kt_rp_expr *e, const kt_qv *vals, kt_qv *out)
{
    double x, y, figures;
    if (!single_number(&vals[0], &x, NULL) || !single_number(&vals[1], &y, NULL))
        return type_error(c, e, "operands must be single numbers");
    if (!num_ref(c, &e->figures, &figures)) {
        *out = kt_qv_null(KT_QV_SINGLE, KT_QV_BOOLEAN);
        return 0;
    }
    if ((e->rounding_mode == KT_RP_ROUND_SIGNIFICANT && figures < 1) || figures < 0)
        return type_error(c, e, "figures out of range");
    *out = kt_qv_bool(round_to(x, e->rounding_mode, (int)figures) ==
                      round_to(y, e->rounding_mode, (int)figures));
    return 0;
}

static int
pattern_match(kt_rp_ctx *c, const kt_rp_expr *e, const kt_qv *v, kt_qv *out)
{
    const char *s;
    if (!single_string(v, &s))
        return type_error(c, e, "operand must be a single string");
    if (e->regex) {
        *out = kt_qv_bool(regexec(e->regex, s, 0, NULL, 0) == 0);
        return 0;
    }
    const char *pat;
    if (e->pattern_var < 0 || is_null(&c->values[e->pattern_var]) ||
        !single_string(&c->values[e->pattern_var], &pat)) {
        *out = kt_qv_null(KT_QV_SINGLE, KT_QV_BOOLEAN);
        return 0;
    }
    regex_t re;
    if (kt_xsd_regex_compile(pat, &re) < 0)
        return type_error(c, e, "the pattern cannot be compiled");
    *out = kt_qv_bool(regexec(&re, s, 0, NULL, 0) == 0);
    regfree(&re);
    return 0;
}

/* ---- arithmetic ---------------------------------------------------------------- */

/* The operands as numbers. sum and product also take the elements of
 * numeric containers, as qti-sdk does; the other operators single values. */
static int
numbers(kt_rp_ctx *c, const kt_rp_expr *e, const kt_qv *vals, double **d, size_t *n,
        bool *all_int)
{
    bool flatten = e->op == KT_RP_SUM || e->op == KT_RP_PRODUCT;
    size_t total = 0;
    for (size_t i = 0; i < e->nargs; i++) {
        if (!kt_qv_base_numeric(vals[i].base) || vals[i].card == KT_QV_RECORD ||
            (vals[i].card != KT_QV_SINGLE && !flatten))
            return type_error(c, e, flatten ? "operands must be integers or floats"
                                            : "operands must be single integers or floats");
        total += vals[i].card == KT_QV_SINGLE ? 1 : vals[i].n;
    }
    *d = kt_arena_alloc(c->arena, (total + 1) * sizeof **d);
    *n = 0;
    *all_int = true;
    for (size_t i = 0; i < e->nargs; i++) {
        const kt_qv_scalar *xs = vals[i].card == KT_QV_SINGLE ? &vals[i].one : vals[i].items;
        size_t k = vals[i].card == KT_QV_SINGLE ? 1 : vals[i].n;
        *all_int &= vals[i].base == KT_QV_INTEGER;
        for (size_t j = 0; j < k; j++)
            (*d)[(*n)++] = kt_qv_number(&xs[j]);
    }
    return 0;
}

static kt_qv
number(double x, bool as_int)
{
    return as_int ? kt_qv_int((int64_t)x) : kt_qv_float(x);
}

/* Integer sum or product without overflow. */
static int
integer_fold(kt_rp_ctx *c, const kt_rp_expr *e, const kt_qv *vals, kt_qv *out)
{
    int64_t acc = e->op == KT_RP_SUM ? 0 : 1;
    for (size_t i = 0; i < e->nargs; i++) {
        const kt_qv_scalar *xs = vals[i].card == KT_QV_SINGLE ? &vals[i].one : vals[i].items;
        size_t k = vals[i].card == KT_QV_SINGLE ? 1 : vals[i].n;
        for (size_t j = 0; j < k; j++)
            if (e->op == KT_RP_SUM ? __builtin_add_overflow(acc, xs[j].u.i, &acc)
                                   : __builtin_mul_overflow(acc, xs[j].u.i, &acc))
                return type_error(c, e, "integer overflow");
    }
    *out = kt_qv_int(acc);
    return 0;
}

static int
arithmetic(kt_rp_ctx *c, const kt_rp_expr *e, kt_qv *out)
{
    bool all_int = true;
    double *d = NULL;
    size_t nd = 0;
    kt_qv stack[ARGS_ON_STACK];
    kt_qv *vals = eval_all(c, e, stack);
    if (!vals)
        return -1;
    if (any_null(vals, e->nargs)) {
        *out = kt_qv_null(KT_QV_SINGLE, KT_QV_FLOAT);
        return 0;
    }
    if (numbers(c, e, vals, &d, &nd, &all_int) < 0)
        return -1;
    if ((e->op == KT_RP_SUM || e->op == KT_RP_PRODUCT) && all_int)
        return integer_fold(c, e, vals, out);
    double r;
    switch (e->op) {
    case KT_RP_SUM:
        r = 0;
        for (size_t i = 0; i < nd; i++)
            r += d[i];
        break;
    case KT_RP_PRODUCT:
        r = 1;
        for (size_t i = 0; i < nd; i++)
            r *= d[i];
        break;
    case KT_RP_SUBTRACT:
        if (all_int) {
            int64_t x;
            if (__builtin_sub_overflow(vals[0].one.u.i, vals[1].one.u.i, &x))
                return type_error(c, e, "integer overflow");
            *out = kt_qv_int(x);
            return 0;
        }
        r = d[0] - d[1];
        break;
    case KT_RP_DIVIDE:
        if (d[1] == 0) {
            *out = kt_qv_null(KT_QV_SINGLE, KT_QV_FLOAT);
            return 0;
        }
        r = d[0] / d[1];
        break;
    case KT_RP_POWER:
        r = pow(d[0], d[1]);
        if (!isfinite(r)) {
            *out = kt_qv_null(KT_QV_SINGLE, KT_QV_FLOAT);
            return 0;
        }
        break;
    case KT_RP_INTEGER_DIVIDE:
    case KT_RP_INTEGER_MODULUS: {
        if (!all_int)
            return type_error(c, e, "operands must be integers");
        int64_t x = vals[0].one.u.i, y = vals[1].one.u.i;
        if (y == 0 || (x == INT64_MIN && y == -1)) {
            *out = kt_qv_null(KT_QV_SINGLE, KT_QV_INTEGER);
            return 0;
        }
        int64_t q = x / y;
        if ((x % y != 0) && ((x < 0) != (y < 0)))
            q--; /* rounded down, towards negative infinity */
        *out = kt_qv_int(e->op == KT_RP_INTEGER_DIVIDE ? q : x - y * q);
        return 0;
    }
    default:
        return type_error(c, e, "not an arithmetic operator");
    }
    *out = kt_qv_float(r);
    return 0;
}

static int
min_max(kt_rp_ctx *c, const kt_rp_expr *e, kt_qv *out)
{
    bool all_int = true, first = true;
    double best = 0;
    kt_qv stack[ARGS_ON_STACK];
    kt_qv *vals = eval_all(c, e, stack);
    if (!vals)
        return -1;
    for (size_t i = 0; i < e->nargs; i++) {
        if (is_null(&vals[i])) {
            *out = kt_qv_null(KT_QV_SINGLE, KT_QV_FLOAT);
            return 0;
        }
        const kt_qv_scalar *xs = vals[i].card == KT_QV_SINGLE ? &vals[i].one : vals[i].items;
        size_t n = vals[i].card == KT_QV_SINGLE ? 1 : vals[i].n;
        if (vals[i].card == KT_QV_RECORD || !kt_qv_base_numeric(vals[i].base))
            return type_error(c, e, "operands must be numbers");
        all_int &= vals[i].base == KT_QV_INTEGER;
        for (size_t j = 0; j < n; j++) {
            double x = kt_qv_number(&xs[j]);
            if (first || (e->op == KT_RP_MIN ? x < best : x > best))
                best = x;
            first = false;
        }
    }
    *out = first ? kt_qv_null(KT_QV_SINGLE, KT_QV_FLOAT) : number(best, all_int);
    return 0;
}

static int64_t
gcd64(int64_t a, int64_t b)
{
    a = a < 0 ? -a : a;
    b = b < 0 ? -b : b;
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static int
gcd_lcm(kt_rp_ctx *c, const kt_rp_expr *e, kt_qv *out)
{
    int64_t acc = e->op == KT_RP_GCD ? 0 : 1;
    bool any = false, zero = false;
    kt_qv stack[ARGS_ON_STACK];
    kt_qv *vals = eval_all(c, e, stack);
    if (!vals)
        return -1;
    for (size_t i = 0; i < e->nargs; i++) {
        if (is_null(&vals[i])) {
            *out = kt_qv_null(KT_QV_SINGLE, KT_QV_INTEGER);
            return 0;
        }
        if (vals[i].card == KT_QV_RECORD || vals[i].base != KT_QV_INTEGER)
            return type_error(c, e, "operands must be integers");
        const kt_qv_scalar *xs = vals[i].card == KT_QV_SINGLE ? &vals[i].one : vals[i].items;
        size_t n = vals[i].card == KT_QV_SINGLE ? 1 : vals[i].n;
        for (size_t j = 0; j < n; j++) {
            int64_t x = xs[j].u.i;
            any = true;
            if (e->op == KT_RP_GCD)
                acc = gcd64(acc, x);
            else if (x == 0)
                zero = true;
            else {
                int64_t g = gcd64(acc, x), ax = x < 0 ? -x : x;
                if (__builtin_mul_overflow(acc / g, ax, &acc))
                    return type_error(c, e, "integer overflow");
            }
        }
    }
    *out = any ? kt_qv_int(zero ? 0 : acc) : kt_qv_null(KT_QV_SINGLE, KT_QV_INTEGER);
    return 0;
}

static int
stats(kt_rp_ctx *c, const kt_rp_expr *e, const kt_qv *v, kt_qv *out)
{
    if (!is_container(v) || !kt_qv_base_numeric(v->base))
        return type_error(c, e, "operand must be a container of numbers");
    double sum = 0, sq = 0, n = (double)v->n;
    for (size_t i = 0; i < v->n; i++)
        sum += kt_qv_number(&v->items[i]);
    double mean = sum / n;
    for (size_t i = 0; i < v->n; i++) {
        double d = kt_qv_number(&v->items[i]) - mean;
        sq += d * d;
    }
    const char *k = e->name;
    bool sample = strncmp(k, "sample", 6) == 0;
    if (strcmp(k, "mean") == 0)
        *out = kt_qv_float(mean);
    else if (sample && v->n < 2)
        *out = kt_qv_null(KT_QV_SINGLE, KT_QV_FLOAT);
    else {
        double var = sq / (sample ? n - 1 : n);
        *out = kt_qv_float(strstr(k, "SD") ? sqrt(var) : var);
    }
    return 0;
}

static int
math_operator(kt_rp_ctx *c, const kt_rp_expr *e, const kt_qv *vals, kt_qv *out)
{
    double x, y = 0;
    bool is_int;
    const char *k = e->name;
    if (!single_number(&vals[0], &x, &is_int) ||
        (e->nargs > 1 && !single_number(&vals[1], &y, NULL)))
        return type_error(c, e, "operands must be single numbers");
    double r;
    if (strcmp(k, "abs") == 0) {
        *out = is_int ? kt_qv_int(vals[0].one.u.i < 0 ? -vals[0].one.u.i : vals[0].one.u.i)
                      : kt_qv_float(fabs(x));
        return 0;
    }
    if (strcmp(k, "signum") == 0 || strcmp(k, "floor") == 0 || strcmp(k, "ceil") == 0) {
        r = k[0] == 's' ? (x > 0) - (x < 0) : k[0] == 'f' ? floor(x) : ceil(x);
        *out = isfinite(r) && fabs(r) < 9.2e18 ? kt_qv_int((int64_t)r)
                                               : kt_qv_null(KT_QV_SINGLE, KT_QV_INTEGER);
        return 0;
    }
    static const struct {
        const char *name;
        double (*f)(double);
    } F1[] = {{"sin", sin},   {"cos", cos},   {"tan", tan},   {"asin", asin}, {"acos", acos},
              {"atan", atan}, {"sinh", sinh}, {"cosh", cosh}, {"tanh", tanh}, {"log", log10},
              {"ln", log},    {"exp", exp}};
    r = NAN;
    for (size_t i = 0; i < sizeof F1 / sizeof *F1; i++)
        if (strcmp(k, F1[i].name) == 0)
            r = F1[i].f(x);
    if (strcmp(k, "sec") == 0)
        r = 1 / cos(x);
    else if (strcmp(k, "csc") == 0)
        r = 1 / sin(x);
    else if (strcmp(k, "cot") == 0)
        r = 1 / tan(x);
    else if (strcmp(k, "asec") == 0)
        r = acos(1 / x);
    else if (strcmp(k, "acsc") == 0)
        r = asin(1 / x);
    else if (strcmp(k, "acot") == 0)
        r = atan(1 / x);
    else if (strcmp(k, "sech") == 0)
        r = 1 / cosh(x);
    else if (strcmp(k, "csch") == 0)
        r = 1 / sinh(x);
    else if (strcmp(k, "coth") == 0)
        r = 1 / tanh(x);
    else if (strcmp(k, "atan2") == 0)
        r = atan2(x, y);
    else if (strcmp(k, "toDegrees") == 0)
        r = x * 180 / M_PI;
    else if (strcmp(k, "toRadians") == 0)
        r = x * M_PI / 180;
    *out = isfinite(r) ? kt_qv_float(r) : kt_qv_null(KT_QV_SINGLE, KT_QV_FLOAT);
    return 0;
}

/* ---- random ------------------------------------------------------------------- */

static int
random_value(kt_rp_ctx *c, const kt_rp_expr *e, kt_qv *out)
{
    double lo, hi, step = 1;
    if (!c->prng)
        return type_error(c, e, "random values are not available here");
    if (e->op == KT_RP_RANDOM) {
        kt_qv v = {0};
        if (kt_rp_eval(c, &e->args[0], &v) < 0)
            return -1;
        if (is_null(&v)) {
            *out = v;
            return 0;
        }
        if (!is_container(&v))
            return type_error(c, e, "operand must be a container");
        *out = kt_qv_of(v.items[kt_prng_below(c->prng, v.n)]);
        return 0;
    }
    if (!num_ref(c, &e->min, &lo) || !num_ref(c, &e->max, &hi) ||
        (e->op == KT_RP_RANDOM_INTEGER && !num_ref(c, &e->step, &step)))
        return type_error(c, e, "min, max or step is not a number");
    if (hi < lo || step < 1)
        return type_error(c, e, "max below min, or step below 1");
    if (e->op == KT_RP_RANDOM_FLOAT) {
        *out = kt_qv_float(lo + kt_prng_unit(c->prng) * (hi - lo));
        return 0;
    }
    uint64_t span = (uint64_t)((hi - lo) / step) + 1;
    *out = kt_qv_int((int64_t)lo + (int64_t)(kt_prng_below(c->prng, span) * (uint64_t)step));
    return 0;
}

/* ---- test level ------------------------------------------------------------------ */

static bool
in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

static bool
selected(const kt_rp_items_filter *f, const kt_rp_test_item *it)
{
    if (f->section && !in_list(f->section, it->sections, it->nsections))
        return false;
    bool inc = f->ninclude == 0;
    for (size_t i = 0; i < f->ninclude && !inc; i++)
        inc = in_list(f->include[i], it->categories, it->ncategories);
    for (size_t i = 0; i < f->nexclude && inc; i++)
        inc = !in_list(f->exclude[i], it->categories, it->ncategories);
    return inc;
}

static double
weight_of(const kt_rp_items_filter *f, const kt_rp_test_item *it)
{
    for (size_t i = 0; f->weight && i < it->nweights; i++)
        if (strcmp(it->weight_ids[i], f->weight) == 0)
            return it->weights[i];
    return 1;
}

/* An item counts as correct when every response matches its correct value;
 * responded when some response is not NULL and not its default. */
static void
item_state(const kt_rp_session *s, bool *correct, bool *responded)
{
    *correct = true;
    *responded = false;
    bool any_response = false;
    for (size_t i = 0; i < s->item->ndecls; i++) {
        const kt_rp_decl *d = &s->item->decls[i];
        if (d->kind != KT_RP_RESPONSE || (int)i == s->item->num_attempts ||
            (int)i == s->item->duration)
            continue;
        any_response = true;
        const kt_qv *v = &s->values[i];
        if (!is_null(v) && (is_null(&s->defaults[i]) || !kt_qv_equal(v, &s->defaults[i])))
            *responded = true;
        if (is_null(&s->correct[i]) || is_null(v) || !kt_qv_equal(v, &s->correct[i]))
            *correct = false;
    }
    if (!any_response)
        *correct = false;
}

static int
test_count(kt_rp_ctx *c, const kt_rp_expr *e, kt_qv *out)
{
    int64_t n = 0;
    for (size_t i = 0; i < c->nitems; i++) {
        const kt_rp_test_item *it = &c->items[i];
        if (!selected(&e->filter, it))
            continue;
        if (e->op == KT_RP_NUMBER_SELECTED) {
            n++;
            continue;
        }
        if (!it->session)
            continue;
        bool correct, responded;
        item_state(it->session, &correct, &responded);
        const kt_qv *tries = &it->session->values[it->session->item->num_attempts];
        bool attempted = !is_null(tries) && tries->one.u.i > 0;
        n += e->op == KT_RP_NUMBER_PRESENTED    ? 1
             : e->op == KT_RP_NUMBER_RESPONDED  ? responded
             : e->op == KT_RP_NUMBER_CORRECT    ? attempted && correct
                                                : attempted && !correct;
    }
    *out = kt_qv_int(n);
    return 0;
}

static int
test_values(kt_rp_ctx *c, const kt_rp_expr *e, kt_qv *out)
{
    kt_qv res = container(c, KT_QV_MULTIPLE, KT_QV_FLOAT, c->nitems ? c->nitems : 1);
    bool typed = false, all_int = true;
    for (size_t i = 0; i < c->nitems; i++) {
        const kt_rp_test_item *it = &c->items[i];
        if (!selected(&e->filter, it) || !it->session)
            continue;
        int k = kt_rp_find(it->session->item, e->filter.outcome);
        if (k < 0) {
            if (e->op != KT_RP_TEST_VARIABLES) {
                *out = kt_qv_null(KT_QV_MULTIPLE, KT_QV_FLOAT);
                return 0; /* outcomeMinimum/Maximum: an item without the outcome */
            }
            continue;
        }
        const kt_rp_decl *d = &it->session->item->decls[k];
        double w = weight_of(&e->filter, it);
        if (e->op != KT_RP_TEST_VARIABLES) {
            bool has = e->op == KT_RP_OUTCOME_MINIMUM ? d->has_normal_min : d->has_normal_max;
            if (!has) {
                *out = kt_qv_null(KT_QV_MULTIPLE, KT_QV_FLOAT);
                return 0;
            }
            double x = e->op == KT_RP_OUTCOME_MINIMUM ? d->normal_min : d->normal_max;
            res.items[res.n++] = (kt_qv_scalar){.base = KT_QV_FLOAT, .u.f = x * w};
            continue;
        }
        const kt_qv *v = &it->session->values[k];
        if (is_null(v) || v->card != KT_QV_SINGLE)
            continue;
        if (e->filter.base >= 0 && v->base != (kt_qv_base)e->filter.base)
            continue;
        if (typed && v->base != res.base &&
            !(kt_qv_base_numeric(v->base) && kt_qv_base_numeric(res.base)))
            return type_error(c, e, "the items' variables have different base types");
        if (!typed)
            res.base = v->base;
        typed = true;
        kt_qv_scalar s = v->one;
        if (kt_qv_base_numeric(v->base)) {
            all_int &= v->base == KT_QV_INTEGER && w == 1;
            s = (kt_qv_scalar){.base = KT_QV_FLOAT, .u.f = kt_qv_number(&v->one) * w};
        }
        res.items[res.n++] = s;
    }
    if (e->op == KT_RP_TEST_VARIABLES && typed && kt_qv_base_numeric(res.base)) {
        res.base = all_int ? KT_QV_INTEGER : KT_QV_FLOAT;
        for (size_t i = 0; i < res.n; i++)
            res.items[i] = all_int ? (kt_qv_scalar){.base = KT_QV_INTEGER,
                                                    .u.i = (int64_t)res.items[i].u.f}
                                   : res.items[i];
    }
    res.null = res.n == 0;
    *out = res;
    return 0;
}

/* ---- the dispatcher --------------------------------------------------------------- */

static int
binary(kt_rp_ctx *c, const kt_rp_expr *e, kt_qv *out)
{
    kt_qv stack[ARGS_ON_STACK];
    kt_qv *vals = eval_all(c, e, stack);
    if (!vals)
        return -1;
    kt_qv_base result = e->op == KT_RP_DELETE ? (vals[1].base) : KT_QV_BOOLEAN;
    if (any_null(vals, e->nargs)) {
        *out = kt_qv_null(e->op == KT_RP_DELETE ? vals[1].card : KT_QV_SINGLE, result);
        return 0;
    }
    const char *a, *b;
    switch (e->op) {
    case KT_RP_MATCH:
        if (vals[0].card != vals[1].card || vals[0].base != vals[1].base)
            return type_error(c, e, "operands must have the same base type and cardinality");
        *out = kt_qv_bool(kt_qv_equal(&vals[0], &vals[1]));
        return 0;
    case KT_RP_MEMBER: /* a single second operand is read as a container of one (qti-sdk) */
        if (vals[0].card != KT_QV_SINGLE || vals[1].card == KT_QV_RECORD ||
            vals[0].base != vals[1].base)
            return type_error(c, e, "needs a single value and a container of its type");
        *out = kt_qv_bool(vals[1].card == KT_QV_SINGLE
                              ? kt_qv_scalar_equal(&vals[0].one, &vals[1].one)
                              : holds(&vals[1], &vals[0].one));
        return 0;
    case KT_RP_CONTAINS:
        return contains(c, e, &vals[0], &vals[1], out);
    case KT_RP_DELETE:
        return delete_from(c, e, &vals[0], &vals[1], out);
    case KT_RP_EQUAL:
        return equal(c, e, vals, out);
    case KT_RP_EQUAL_ROUNDED:
        return equal_rounded(c, e, vals, out);
    case KT_RP_STRING_MATCH:
    case KT_RP_SUBSTRING:
        if (!single_string(&vals[0], &a) || !single_string(&vals[1], &b))
            return type_error(c, e, "operands must be single strings");
        /* stringMatch substring="true" and substring: the first within the second. */
        *out = kt_qv_bool(e->op == KT_RP_SUBSTRING || e->substring
                              ? text_match(b, a, e->case_sensitive, true)
                              : text_match(a, b, e->case_sensitive, false));
        return 0;
    default:
        return compare(c, e, vals, out);
    }
}

static int
unary(kt_rp_ctx *c, const kt_rp_expr *e, kt_qv *out)
{
    kt_qv v = {0};
    double x;
    bool b;
    if (kt_rp_eval(c, &e->args[0], &v) < 0)
        return -1;
    if (e->op == KT_RP_IS_NULL) {
        *out = kt_qv_bool(is_null(&v));
        return 0;
    }
    if (e->op == KT_RP_CONTAINER_SIZE) {
        if (!is_null(&v) && !is_container(&v))
            return type_error(c, e, "operand must be a container");
        *out = kt_qv_int(is_null(&v) ? 0 : (int64_t)v.n);
        return 0;
    }
    if (is_null(&v)) {
        *out = kt_qv_null(KT_QV_SINGLE, e->op == KT_RP_NOT ? KT_QV_BOOLEAN : KT_QV_INTEGER);
        return 0;
    }
    switch (e->op) {
    case KT_RP_NOT:
        if (!single_bool(&v, &b))
            return type_error(c, e, "operand must be a single boolean");
        *out = kt_qv_bool(!b);
        return 0;
    case KT_RP_INDEX: {
        double n;
        if (v.card != KT_QV_ORDERED)
            return type_error(c, e, "operand must be an ordered container");
        if (!num_ref(c, &e->n, &n) || n < 1 || n > (double)v.n) {
            *out = kt_qv_null(KT_QV_SINGLE, v.base);
            return 0;
        }
        *out = kt_qv_of(v.items[(size_t)n - 1]);
        return 0;
    }
    case KT_RP_FIELD_VALUE:
        if (v.card != KT_QV_RECORD)
            return type_error(c, e, "operand must be a record");
        for (size_t i = 0; i < v.n; i++)
            if (strcmp(v.fields[i], e->name) == 0) {
                *out = kt_qv_of(v.items[i]);
                return 0;
            }
        *out = kt_qv_null(KT_QV_SINGLE, KT_QV_IDENTIFIER);
        return 0;
    case KT_RP_PATTERN_MATCH:
        return pattern_match(c, e, &v, out);
    case KT_RP_STATS_OPERATOR:
        return stats(c, e, &v, out);
    case KT_RP_INTEGER_TO_FLOAT:
        if (v.card != KT_QV_SINGLE || v.base != KT_QV_INTEGER)
            return type_error(c, e, "operand must be a single integer");
        *out = kt_qv_float((double)v.one.u.i);
        return 0;
    case KT_RP_INSIDE: {
        const kt_qv_scalar *pts;
        if (v.base != KT_QV_POINT || v.card == KT_QV_RECORD)
            return type_error(c, e, "operand must be points");
        size_t n = points(&v, &pts);
        bool in = false;
        for (size_t i = 0; i < n && !in; i++)
            in = inside(&e->area, (double)pts[i].u.pt.x, (double)pts[i].u.pt.y);
        *out = kt_qv_bool(in);
        return 0;
    }
    default: /* round, roundTo, truncate */
        if (!single_number(&v, &x, NULL) || v.base == KT_QV_DURATION)
            return type_error(c, e, "operand must be a single number");
        if (e->op == KT_RP_ROUND_TO) {
            double figures;
            if (!num_ref(c, &e->figures, &figures)) {
                *out = kt_qv_null(KT_QV_SINGLE, KT_QV_FLOAT);
                return 0;
            }
            *out = kt_qv_float(round_to(x, e->rounding_mode, (int)figures));
            return 0;
        }
        x = e->op == KT_RP_ROUND ? floor(x + 0.5) : trunc(x);
        *out = isfinite(x) && fabs(x) < 9.2e18 ? kt_qv_int((int64_t)x)
                                               : kt_qv_null(KT_QV_SINGLE, KT_QV_INTEGER);
        return 0;
    }
}

int
kt_rp_eval(kt_rp_ctx *c, const kt_rp_expr *e, kt_qv *out)
{
    switch (e->op) {
    case KT_RP_BASE_VALUE:
        *out = e->value;
        return 0;
    case KT_RP_VARIABLE:
        if (e->var < 0) { /* undeclared: NULL, as qti-sdk reads it */
            *out = kt_qv_null(KT_QV_SINGLE, KT_QV_IDENTIFIER);
            return 0;
        }
        *out = c->values[e->var];
        return 0;
    case KT_RP_CORRECT: /* of an undeclared response: NULL, like its value */
        *out = e->var >= 0 && c->correct ? c->correct[e->var]
                                         : kt_qv_null(KT_QV_SINGLE, KT_QV_IDENTIFIER);
        return 0;
    case KT_RP_DEFAULT:
        *out = e->var >= 0 ? c->defaults[e->var] : kt_qv_null(KT_QV_SINGLE, KT_QV_IDENTIFIER);
        return 0;
    case KT_RP_NULL:
        *out = kt_qv_null(KT_QV_SINGLE, KT_QV_IDENTIFIER);
        return 0;
    case KT_RP_MAP_RESPONSE:
        return map_response(c, e, out);
    case KT_RP_MAP_RESPONSE_POINT:
        return map_response_point(c, e, out);
    case KT_RP_RANDOM_INTEGER:
    case KT_RP_RANDOM_FLOAT:
    case KT_RP_RANDOM:
        return random_value(c, e, out);
    case KT_RP_MATH_CONSTANT:
        *out = kt_qv_float(strcmp(e->name, "pi") == 0 ? M_PI : M_E);
        return 0;
    case KT_RP_AND:
    case KT_RP_OR:
        return logic(c, e, out);
    case KT_RP_ANY_N:
        return any_n(c, e, out);
    case KT_RP_MULTIPLE:
        return build_container(c, e, KT_QV_MULTIPLE, out);
    case KT_RP_ORDERED:
        return build_container(c, e, KT_QV_ORDERED, out);
    case KT_RP_REPEAT:
        return repeat(c, e, out);
    case KT_RP_MATCH:
    case KT_RP_MEMBER:
    case KT_RP_CONTAINS:
    case KT_RP_DELETE:
    case KT_RP_EQUAL:
    case KT_RP_EQUAL_ROUNDED:
    case KT_RP_GT:
    case KT_RP_GTE:
    case KT_RP_LT:
    case KT_RP_LTE:
    case KT_RP_DURATION_LT:
    case KT_RP_DURATION_GTE:
    case KT_RP_STRING_MATCH:
    case KT_RP_SUBSTRING:
        return binary(c, e, out);
    case KT_RP_IS_NULL:
    case KT_RP_NOT:
    case KT_RP_CONTAINER_SIZE:
    case KT_RP_INDEX:
    case KT_RP_FIELD_VALUE:
    case KT_RP_PATTERN_MATCH:
    case KT_RP_STATS_OPERATOR:
    case KT_RP_INTEGER_TO_FLOAT:
    case KT_RP_INSIDE:
    case KT_RP_ROUND:
    case KT_RP_ROUND_TO:
    case KT_RP_TRUNCATE:
        return unary(c, e, out);
    case KT_RP_SUM:
    case KT_RP_PRODUCT:
    case KT_RP_SUBTRACT:
    case KT_RP_DIVIDE:
    case KT_RP_POWER:
    case KT_RP_INTEGER_DIVIDE:
    case KT_RP_INTEGER_MODULUS:
        return arithmetic(c, e, out);
    case KT_RP_MIN:
    case KT_RP_MAX:
        return min_max(c, e, out);
    case KT_RP_GCD:
    case KT_RP_LCM:
        return gcd_lcm(c, e, out);
    case KT_RP_MATH_OPERATOR: {
        kt_qv stack[ARGS_ON_STACK];
        kt_qv *vals = eval_all(c, e, stack);
        if (!vals)
            return -1;
        if (any_null(vals, e->nargs)) {
            *out = kt_qv_null(KT_QV_SINGLE, KT_QV_FLOAT);
            return 0;
        }
        return math_operator(c, e, vals, out);
    }
    case KT_RP_NUMBER_CORRECT:
    case KT_RP_NUMBER_INCORRECT:
    case KT_RP_NUMBER_RESPONDED:
    case KT_RP_NUMBER_PRESENTED:
    case KT_RP_NUMBER_SELECTED:
        if (!c->items)
            return type_error(c, e, "only available in test outcome processing");
        return test_count(c, e, out);
    case KT_RP_TEST_VARIABLES:
    case KT_RP_OUTCOME_MINIMUM:
    case KT_RP_OUTCOME_MAXIMUM:
        if (!c->items)
            return type_error(c, e, "only available in test outcome processing");
        return test_values(c, e, out);
    case KT_RP_UNSUPPORTED:
        break;
    }
    return kt_rp_fail(c, "unsupported: %s", e->element);
}

int
kt_rp_coerce(kt_rp_ctx *c, const kt_rp_decl *d, kt_qv *v)
{
    if (is_null(v)) {
        *v = kt_qv_null(d->card, d->base);
        return 0;
    }
    if (is_container(v) && v->n == 1 && d->card == KT_QV_SINGLE)
        *v = kt_qv_of(v->items[0]); /* a container of one into a single variable (qti-sdk) */
    if (v->card == KT_QV_SINGLE && (d->card == KT_QV_MULTIPLE || d->card == KT_QV_ORDERED)) {
        kt_qv w = container(c, d->card, v->base, 1);
        w.items[w.n++] = v->one;
        *v = w;
    }
    if (v->card != d->card)
        return kt_rp_fail(c, "%s: a %s value cannot be set to a %s variable", d->identifier,
                          kt_qv_card_name(v->card), kt_qv_card_name(d->card));
    if (v->card == KT_QV_RECORD || v->base == d->base)
        return 0;
    if (v->card == KT_QV_SINGLE && d->base == KT_QV_INTEGER && v->base == KT_QV_FLOAT) {
        if (!isfinite(v->one.u.f) || fabs(v->one.u.f) >= 9.2e18)
            return kt_rp_fail(c, "%s: the float does not fit an integer", d->identifier);
        *v = kt_qv_int((int64_t)v->one.u.f); /* truncation, as qti-sdk does */
        return 0;
    }
    if (v->card == KT_QV_SINGLE && d->base == KT_QV_FLOAT && v->base == KT_QV_INTEGER) {
        *v = kt_qv_float((double)v->one.u.i);
        return 0;
    }
    bool stringish_pair = (v->base == KT_QV_IDENTIFIER || v->base == KT_QV_STRING) &&
                          (d->base == KT_QV_IDENTIFIER || d->base == KT_QV_STRING);
    if (stringish_pair && v->card == KT_QV_SINGLE) {
        v->base = v->one.base = d->base;
        return 0;
    }
    return kt_rp_fail(c, "%s: a %s value cannot be set to a %s variable", d->identifier,
                      kt_qv_base_name(v->base), kt_qv_base_name(d->base));
}

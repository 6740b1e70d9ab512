/*
 * The maximum of SCORE read from an item's compiled rules (rp_maxscore.h):
 * each numeric outcome is followed through response processing as a range
 * whose ends some answer reaches, branches joined, answers to different
 * responses assumed free of each other. Whatever could make a stated end
 * unreachable (a value computed under a condition on its own response,
 * overlapping areas, a condition on a computed outcome) gives "unknown".
 */
#include "rp_maxscore.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#define MAX_DEPTH 64

/* A number as far as the analysis knows it: every value in [lo, hi], both
 * ends reached by some answer. deps has a bit (declaration index modulo 64)
 * for each response it depends on; a shared bit only makes it stricter. */
typedef struct {
    bool known;
    double lo, hi;
    uint64_t deps;
    char why[240]; /* when not known */
} aval;

struct an {
    const kt_rp_item *it;
    aval *exit; /* the outcomes joined over every exitResponse, or NULL */
};

/* The conditions a rule sits under: deps of all of them, and of those that
 * do more than test a response for NULL. */
struct guard {
    uint64_t all, strict;
    const struct guard *up;
};

static uint64_t
bit(int k)
{
    return 1ULL << ((unsigned)k % 64);
}

static aval
known(double lo, double hi, uint64_t deps)
{
    return (aval){.known = true, .lo = lo, .hi = hi, .deps = deps};
}

__attribute__((format(printf, 1, 2))) static aval
unknown(const char *fmt, ...)
{
    aval v = {0};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v.why, sizeof v.why, fmt, ap);
    va_end(ap);
    return v;
}

static bool
tracked(const kt_rp_decl *d)
{
    return d->kind == KT_RP_OUTCOME && d->card == KT_QV_SINGLE && kt_qv_base_numeric(d->base);
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
desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* The largest total of at most k values (k 0: no limit) taken from vals
 * (sorted largest first, each once) and rep (as often as wanted, when
 * positive); with nothing positive to take, the best single value or none
 * (def, what no value at all gives). */
static double
best_total(const double *vals, size_t n, int k, double rep, double def)
{
    double sum = 0;
    size_t i = 0;
    if (rep > 0 && k == 0)
        return INFINITY;
    if (rep > 0) {
        for (int t = 0; t < k; t++)
            sum += i < n && vals[i] > rep ? vals[i++] : rep;
        return sum;
    }
    for (; i < n && vals[i] > 0 && (k == 0 || (int)i < k); i++)
        sum += vals[i];
    if (i > 0)
        return sum;
    return n && vals[0] > def ? vals[0] : def;
}

/* ---- mapResponse ----------------------------------------------------------------- */

static bool
folded_equal(const char *a, const char *b)
{
    utf8proc_uint8_t *fa = NULL, *fb = NULL;
    int opts = UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD;
    bool eq = utf8proc_map((const utf8proc_uint8_t *)a, 0, &fa, opts) >= 0 &&
              utf8proc_map((const utf8proc_uint8_t *)b, 0, &fb, opts) >= 0 &&
              strcmp((char *)fa, (char *)fb) == 0;
    free(fa);
    free(fb);
    return eq;
}

/* An entry no value reaches: an earlier entry takes every value it would. */
static bool
shadowed(const kt_rp_mapping *m, size_t j)
{
    const kt_rp_map_entry *b = &m->entries[j];
    for (size_t i = 0; i < j; i++) {
        const kt_rp_map_entry *a = &m->entries[i];
        bool string = a->key.base == KT_QV_STRING && b->key.base == KT_QV_STRING;
        if (string && !a->case_sensitive
                ? folded_equal(a->key.u.s, b->key.u.s)
                : b->case_sensitive && kt_qv_scalar_equal(&a->key, &b->key))
            return true;
    }
    return false;
}

/* Two positive pair entries with an end in common: a gap holds one word
 * and matchMax may allow a choice once, so both may not count together. */
static bool
shared_pairs(const kt_rp_mapping *m)
{
    for (size_t i = 0; i < m->nentries; i++)
        for (size_t j = 0; j < i; j++) {
            const kt_qv_scalar *a = &m->entries[i].key, *b = &m->entries[j].key;
            if ((a->base != KT_QV_PAIR && a->base != KT_QV_DIRECTED_PAIR) ||
                m->entries[i].value <= 0 || m->entries[j].value <= 0)
                continue;
            if (!strcmp(a->u.pair.a, b->u.pair.a) || !strcmp(a->u.pair.a, b->u.pair.b) ||
                !strcmp(a->u.pair.b, b->u.pair.a) || !strcmp(a->u.pair.b, b->u.pair.b))
                return true;
        }
    return false;
}

static aval
map_response(const kt_rp_decl *d, int var)
{
    const kt_rp_mapping *m = &d->mapping;
    if (!m->present)
        return known(0, 0, 0);
    if (m->has_lower && m->has_upper && m->lower > m->upper)
        return unknown("Mapping của %s có lowerBound lớn hơn upperBound.", d->identifier);
    if (d->card == KT_QV_RECORD)
        return unknown("mapResponse trên câu trả lời dạng record %s.", d->identifier);
    double *vals = malloc((2 * m->nentries + 1) * sizeof *vals), *neg = vals + m->nentries;
    double def = m->default_value, rep_pos = def, rep_neg = def;
    size_t n = 0;
    for (size_t j = 0; j < m->nentries; j++) {
        if (shadowed(m, j))
            continue;
        vals[n++] = m->entries[j].value;
        /* A case-insensitive string key maps every spelling of it, and in a
         * container each spelling counts: as repeatable as the default. */
        if (m->entries[j].key.base == KT_QV_STRING && !m->entries[j].case_sensitive) {
            rep_pos = fmax(rep_pos, m->entries[j].value);
            rep_neg = fmin(rep_neg, m->entries[j].value);
        }
    }
    if (d->card != KT_QV_SINGLE && shared_pairs(m)) {
        free(vals);
        return unknown("Hai cặp được cộng điểm của %s dùng chung một lựa chọn, mà số lần ghép "
                       "mỗi lựa chọn có thể bị giới hạn: không suy ra được điểm tối đa.",
                       d->identifier);
    }
    qsort(vals, n, sizeof *vals, desc);
    double lo = def, hi = def;
    if (d->card == KT_QV_SINGLE) {
        if (n) {
            hi = fmax(hi, vals[0]);
            lo = fmin(lo, vals[n - 1]);
        }
    } else {
        hi = best_total(vals, n, d->max_values, rep_pos, def);
        for (size_t i = 0; i < n; i++) /* the least total: the same over the negated values */
            neg[i] = -vals[n - 1 - i];
        lo = -best_total(neg, n, d->max_values, -rep_neg, -def);
    }
    free(vals);
    return known(bounded(lo, m->has_lower, m->lower, m->has_upper, m->upper),
                 bounded(hi, m->has_lower, m->lower, m->has_upper, m->upper), bit(var));
}

/* ---- mapResponsePoint ------------------------------------------------------------ */

static void
area_box(const kt_rp_area *a, double box[4])
{
    const double *c = a->coords;
    switch (a->shape) {
    case KT_RP_SHAPE_RECT:
        box[0] = fmin(c[0], c[2]), box[1] = fmin(c[1], c[3]);
        box[2] = fmax(c[0], c[2]), box[3] = fmax(c[1], c[3]);
        return;
    case KT_RP_SHAPE_CIRCLE:
        box[0] = c[0] - fabs(c[2]), box[1] = c[1] - fabs(c[2]);
        box[2] = c[0] + fabs(c[2]), box[3] = c[1] + fabs(c[2]);
        return;
    case KT_RP_SHAPE_ELLIPSE:
        box[0] = c[0] - fabs(c[2]), box[1] = c[1] - fabs(c[3]);
        box[2] = c[0] + fabs(c[2]), box[3] = c[1] + fabs(c[3]);
        return;
    case KT_RP_SHAPE_POLY:
        box[0] = box[2] = c[0], box[1] = box[3] = c[1];
        for (size_t i = 0; i + 1 < a->ncoords; i += 2) {
            box[0] = fmin(box[0], c[i]), box[2] = fmax(box[2], c[i]);
            box[1] = fmin(box[1], c[i + 1]), box[3] = fmax(box[3], c[i + 1]);
        }
        return;
    case KT_RP_SHAPE_DEFAULT:
        break;
    }
    box[0] = box[1] = -INFINITY;
    box[2] = box[3] = INFINITY;
}

static aval
map_point(const kt_rp_decl *d, int var)
{
    const kt_rp_area_mapping *m = &d->area_mapping;
    if (!m->present)
        return known(0, 0, 0);
    if (m->has_lower && m->has_upper && m->lower > m->upper)
        return unknown("areaMapping của %s có lowerBound lớn hơn upperBound.", d->identifier);
    if (d->base != KT_QV_POINT || d->card == KT_QV_RECORD || d->card == KT_QV_ORDERED)
        return unknown("mapResponsePoint trên câu trả lời %s không phải điểm.", d->identifier);
    /* Areas apart from each other: a point falls in at most one. */
    for (size_t i = 0; i < m->nentries; i++)
        for (size_t j = 0; j < i; j++) {
            double a[4], b[4];
            area_box(&m->entries[i].area, a);
            area_box(&m->entries[j].area, b);
            if (!(a[2] < b[0] || b[2] < a[0] || a[3] < b[1] || b[3] < a[1]))
                return unknown("Các vùng trong areaMapping của %s chồng lên nhau: không suy ra "
                               "được điểm tối đa.",
                               d->identifier);
        }
    double *vals = malloc((2 * m->nentries + 1) * sizeof *vals), *neg = vals + m->nentries;
    size_t n = m->nentries;
    for (size_t i = 0; i < n; i++)
        vals[i] = m->entries[i].value, neg[i] = -m->entries[i].value;
    qsort(vals, n, sizeof *vals, desc);
    qsort(neg, n, sizeof *neg, desc);
    int k = d->card == KT_QV_SINGLE ? 1 : d->max_values;
    double def = m->default_value;
    /* No point in any area gives the default, unbounded. */
    double hi = n ? bounded(best_total(vals, n, k, 0, vals[0]), m->has_lower, m->lower,
                            m->has_upper, m->upper)
                  : def;
    double lo = n ? bounded(-best_total(neg, n, k, 0, neg[0]), m->has_lower, m->lower, m->has_upper,
                            m->upper)
                  : def;
    free(vals);
    return known(fmin(lo, def), fmax(hi, def), bit(var));
}

/* ---- expressions ------------------------------------------------------------------ */

static aval eval(const struct an *a, const aval *vars, const kt_rp_expr *e, int depth);

static aval
operands(const struct an *a, const aval *vars, const kt_rp_expr *e, aval *out, int depth)
{
    uint64_t seen = 0;
    for (size_t i = 0; i < e->nargs; i++) {
        out[i] = eval(a, vars, &e->args[i], depth + 1);
        if (!out[i].known)
            return out[i];
        if (out[i].deps & seen)
            return unknown("%s gộp hai giá trị cùng phụ thuộc một câu trả lời: không suy ra "
                           "được điểm tối đa.",
                           e->element);
        seen |= out[i].deps;
    }
    return known(0, 0, seen);
}

static aval
arith(const struct an *a, const aval *vars, const kt_rp_expr *e, int depth)
{
    aval *v = malloc((e->nargs + 1) * sizeof *v);
    aval r = operands(a, vars, e, v, depth);
    if (!r.known || e->nargs == 0)
        goto out;
    if (e->op == KT_RP_SUM) {
        for (size_t i = 0; i < e->nargs; i++)
            r.lo += v[i].lo, r.hi += v[i].hi;
    } else if (e->op == KT_RP_SUBTRACT && e->nargs == 2) {
        r.lo = v[0].lo - v[1].hi, r.hi = v[0].hi - v[1].lo;
    } else if (e->op == KT_RP_MIN || e->op == KT_RP_MAX) {
        bool mn = e->op == KT_RP_MIN;
        r.lo = v[0].lo, r.hi = v[0].hi;
        for (size_t i = 1; i < e->nargs; i++) {
            r.lo = mn ? fmin(r.lo, v[i].lo) : fmax(r.lo, v[i].lo);
            r.hi = mn ? fmin(r.hi, v[i].hi) : fmax(r.hi, v[i].hi);
        }
    } else { /* product, divide: by constants only */
        double c = 1, lo = 1, hi = 1;
        int varying = -1;
        for (size_t i = 0; i < e->nargs; i++) {
            if (v[i].lo == v[i].hi && !v[i].deps) {
                c = e->op == KT_RP_DIVIDE && i > 0 ? c / v[i].lo : c * v[i].lo;
            } else if (varying < 0 && (e->op == KT_RP_PRODUCT || i == 0)) {
                varying = (int)i, lo = v[i].lo, hi = v[i].hi;
            } else {
                r = unknown("%s với hơn một thừa số thay đổi: không suy ra được điểm tối đa.",
                            e->element);
                goto out;
            }
        }
        if (!isfinite(c) || (e->op == KT_RP_DIVIDE && e->nargs != 2)) {
            r = unknown("%s không cho một số xác định.", e->element);
            goto out;
        }
        r.lo = c == 0 ? 0 : c > 0 ? c * lo : c * hi;
        r.hi = c == 0 ? 0 : c > 0 ? c * hi : c * lo;
    }
out:
    free(v);
    return r;
}

static aval
monotone(const struct an *a, const aval *vars, const kt_rp_expr *e, int depth)
{
    aval v = eval(a, vars, &e->args[0], depth + 1);
    if (!v.known || e->op == KT_RP_INTEGER_TO_FLOAT)
        return v;
    v.lo = e->op == KT_RP_ROUND ? floor(v.lo + 0.5) : trunc(v.lo);
    v.hi = e->op == KT_RP_ROUND ? floor(v.hi + 0.5) : trunc(v.hi);
    return v;
}

static aval
eval(const struct an *a, const aval *vars, const kt_rp_expr *e, int depth)
{
    if (depth > MAX_DEPTH)
        return unknown("Biểu thức tính SCORE lồng quá sâu.");
    const kt_rp_decl *d = e->var >= 0 ? &a->it->decls[e->var] : NULL;
    switch (e->op) {
    case KT_RP_BASE_VALUE:
        if (!kt_qv_is_null(&e->value) && e->value.card == KT_QV_SINGLE &&
            kt_qv_base_numeric(e->value.base)) {
            double x = kt_qv_number(&e->value.one);
            return known(x, x, 0);
        }
        return unknown("Điểm nhận một giá trị không phải số (baseValue).");
    case KT_RP_VARIABLE:
        if (!d)
            return unknown("Điểm lấy giá trị của một biến không được khai báo.");
        if (tracked(d))
            return vars[e->var];
        if (d->kind == KT_RP_RESPONSE)
            return unknown("Điểm lấy thẳng giá trị câu trả lời %s, nên phụ thuộc vào số học sinh "
                           "nhập.",
                           d->identifier);
        if (d->kind == KT_RP_TEMPLATE)
            return unknown("Điểm lấy giá trị biến mẫu %s (sinh ngẫu nhiên).", d->identifier);
        return unknown("Điểm lấy giá trị của %s, không phải một số.", d->identifier);
    case KT_RP_MAP_RESPONSE:
        return d ? map_response(d, e->var) : unknown("mapResponse của biến không khai báo.");
    case KT_RP_MAP_RESPONSE_POINT:
        return d ? map_point(d, e->var) : unknown("mapResponsePoint của biến không khai báo.");
    case KT_RP_SUM:
    case KT_RP_SUBTRACT:
    case KT_RP_MIN:
    case KT_RP_MAX:
    case KT_RP_PRODUCT:
    case KT_RP_DIVIDE:
        return arith(a, vars, e, depth);
    case KT_RP_ROUND:
    case KT_RP_TRUNCATE:
    case KT_RP_INTEGER_TO_FLOAT:
        return e->nargs == 1 ? monotone(a, vars, e, depth)
                             : unknown("%s cần một toán hạng.", e->element);
    default:
        return unknown("Điểm được tính bằng %s: không suy ra được điểm tối đa.", e->element);
    }
}

/* ---- rules ------------------------------------------------------------------------ */

/* Responses a condition reads; *outcome set when it reads a tracked outcome. */
static uint64_t
cond_deps(const struct an *a, const aval *vars, const kt_rp_expr *e, const char **outcome,
          int depth)
{
    uint64_t m = 0;
    if (e->var >= 0) {
        const kt_rp_decl *d = &a->it->decls[e->var];
        if (tracked(d)) {
            *outcome = d->identifier;
            m |= vars[e->var].deps;
        } else if (d->kind != KT_RP_OUTCOME) {
            m |= bit(e->var);
        }
    }
    for (size_t i = 0; i < e->nargs && depth < MAX_DEPTH; i++)
        m |= cond_deps(a, vars, &e->args[i], outcome, depth + 1);
    return m;
}

/* isNull(variable) or not(isNull(variable)): no value is excluded. */
static bool
null_test(const kt_rp_expr *e)
{
    if (e->op == KT_RP_NOT && e->nargs == 1)
        e = &e->args[0];
    return e->op == KT_RP_IS_NULL && e->nargs == 1 && e->args[0].op == KT_RP_VARIABLE;
}

/* An operand that is always NULL: an undeclared variable, or the correct
 * value of a response that declares none (and template processing cannot
 * set one). */
static bool
always_null(const kt_rp_item *it, const kt_rp_expr *e)
{
    if (e->op != KT_RP_VARIABLE && e->op != KT_RP_CORRECT)
        return false;
    if (e->var < 0)
        return true;
    return e->op == KT_RP_CORRECT && kt_qv_is_null(&it->decls[e->var].correct) &&
           !it->ntemplate_rules;
}

/* match with an operand always NULL is NULL, which a condition takes as
 * false: that branch is never taken. */
static bool
never_true(const kt_rp_item *it, const kt_rp_expr *e)
{
    if (e->op != KT_RP_MATCH)
        return false;
    for (size_t i = 0; i < e->nargs; i++)
        if (always_null(it, &e->args[i]))
            return true;
    return false;
}

static void
join(aval *dst, const aval *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!dst[i].known)
            continue;
        if (!src[i].known) {
            dst[i] = src[i];
            continue;
        }
        dst[i].lo = fmin(dst[i].lo, src[i].lo);
        dst[i].hi = fmax(dst[i].hi, src[i].hi);
        dst[i].deps |= src[i].deps;
    }
}

/* Whether some branch of r (at any depth) sets var. */
static bool
assigns(const kt_rp_rule *r, int var, int depth)
{
    if ((r->kind == KT_RP_SET_OUTCOME || r->kind == KT_RP_LOOKUP_OUTCOME) && r->var == var)
        return true;
    for (size_t b = 0; b < r->nbranches && depth < MAX_DEPTH; b++)
        for (size_t i = 0; i < r->branches[b].nrules; i++)
            if (assigns(&r->branches[b].rules[i], var, depth + 1))
                return true;
    return false;
}

static bool run(struct an *a, const kt_rp_rule *rules, size_t n, aval *vars, const struct guard *g,
                int depth);

static void
set_outcome(const struct an *a, const kt_rp_rule *r, aval *vars, const struct guard *g, int depth)
{
    const kt_rp_decl *d = &a->it->decls[r->var];
    aval v = eval(a, vars, r->expr, depth + 1);
    uint64_t strict = 0;
    for (; g; g = g->up)
        strict |= g->strict;
    if (v.known && (v.deps & strict))
        v = unknown("%s được tính từ một câu trả lời trong nhánh có điều kiện trên chính câu trả "
                    "lời đó: không suy ra được điểm tối đa.",
                    d->identifier);
    if (v.known && d->base == KT_QV_INTEGER) /* a float set to an integer truncates */
        v.lo = trunc(v.lo), v.hi = trunc(v.hi);
    vars[r->var] = v;
}

static bool
condition(struct an *a, const kt_rp_rule *r, aval *vars, const struct guard *g, int depth)
{
    size_t n = a->it->ndecls, bytes = (n + 1) * sizeof(aval);
    aval *out = malloc(bytes), *branch = malloc(bytes);
    struct guard bg = {.up = g};
    const char *outcome = NULL;
    bool any = false, has_else = false;
    for (size_t i = 0; i < r->nbranches; i++) {
        const kt_rp_branch *b = &r->branches[i];
        if (b->condition) {
            uint64_t m = cond_deps(a, vars, b->condition, &outcome, depth + 1);
            bg.all |= m;
            bg.strict |= null_test(b->condition) ? 0 : m;
        } else {
            has_else = true;
        }
        memcpy(branch, vars, bytes);
        if (b->condition && never_true(a->it, b->condition))
            continue;
        if (!run(a, b->rules, b->nrules, branch, &bg, depth + 1))
            continue;
        if (!any)
            memcpy(out, branch, bytes);
        else
            join(out, branch, n);
        any = true;
    }
    if (!has_else) { /* no branch taken */
        if (!any)
            memcpy(out, vars, bytes);
        else
            join(out, vars, n);
        any = true;
    }
    for (size_t i = 0; any && i < n; i++) {
        if (!tracked(&a->it->decls[i]) || !out[i].known || !assigns(r, (int)i, depth))
            continue;
        if (outcome)
            out[i] = unknown("%s đổi theo điều kiện trên giá trị của %s: không suy ra được điểm "
                             "tối đa.",
                             a->it->decls[i].identifier, outcome);
        else
            out[i].deps |= bg.all;
    }
    if (any)
        memcpy(vars, out, bytes);
    free(out);
    free(branch);
    return any;
}

/* Runs rules over vars; false when every path ended in exitResponse. */
static bool
run(struct an *a, const kt_rp_rule *rules, size_t n, aval *vars, const struct guard *g, int depth)
{
    size_t nd = a->it->ndecls;
    for (size_t i = 0; i < n; i++) {
        const kt_rp_rule *r = &rules[i];
        const kt_rp_decl *d = r->var >= 0 ? &a->it->decls[r->var] : NULL;
        if (depth > MAX_DEPTH) {
            for (size_t k = 0; k < nd; k++)
                vars[k] = unknown("Xử lý phản hồi lồng quá sâu.");
            return true;
        }
        switch (r->kind) {
        case KT_RP_CONDITION:
            if (!condition(a, r, vars, g, depth))
                return false;
            break;
        case KT_RP_SET_OUTCOME:
            if (d && tracked(d))
                set_outcome(a, r, vars, g, depth);
            break;
        case KT_RP_LOOKUP_OUTCOME:
            if (d && tracked(d))
                vars[r->var] = unknown("%s lấy từ bảng tra (lookupOutcomeValue): không suy ra "
                                       "được điểm tối đa.",
                                       d->identifier);
            break;
        case KT_RP_EXIT:
            if (!a->exit) {
                a->exit = malloc((nd + 1) * sizeof(aval));
                memcpy(a->exit, vars, nd * sizeof(aval));
            } else {
                join(a->exit, vars, nd);
            }
            return false;
        case KT_RP_RULE_UNSUPPORTED:
            for (size_t k = 0; k < nd; k++)
                if (tracked(&a->it->decls[k]))
                    vars[k] = unknown("Xử lý phản hồi dùng %s, chưa được hỗ trợ.", r->element);
            break;
        default:
            break;
        }
    }
    return true;
}

/* Outcomes whose default template processing changes. */
static void
template_defaults(const kt_rp_item *it, const kt_rp_rule *rules, size_t n, aval *vars, int depth)
{
    for (size_t i = 0; i < n && depth < MAX_DEPTH; i++) {
        const kt_rp_rule *r = &rules[i];
        if (r->kind == KT_RP_SET_DEFAULT && r->var >= 0 && tracked(&it->decls[r->var]))
            vars[r->var] = unknown("Giá trị mặc định của %s do templateProcessing đặt.",
                                   it->decls[r->var].identifier);
        for (size_t b = 0; b < r->nbranches; b++)
            template_defaults(it, r->branches[b].rules, r->branches[b].nrules, vars, depth + 1);
    }
}

void
kt_rp_max_score(const kt_rp_item *it, kt_rp_max *out)
{
    memset(out, 0, sizeof *out);
    size_t n = it->ndecls;
    aval *vars = calloc(n + 1, sizeof *vars);
    for (size_t i = 0; i < n; i++) {
        const kt_rp_decl *d = &it->decls[i];
        double x = kt_qv_is_null(&d->default_value) ? 0 : kt_qv_number(&d->default_value.one);
        vars[i] = tracked(d) ? known(x, x, 0) : unknown("%s không phải một số.", d->identifier);
    }
    template_defaults(it, it->template_rules, it->ntemplate_rules, vars, 0);
    struct an a = {.it = it};
    bool fell = run(&a, it->response_rules, it->nresponse_rules, vars, NULL, 0);
    if (a.exit && fell)
        join(vars, a.exit, n);
    else if (a.exit)
        memcpy(vars, a.exit, n * sizeof *vars);
    free(a.exit);

    int ms = kt_rp_find(it, "MAXSCORE"), sc = kt_rp_find(it, "SCORE");
    const aval *s = sc >= 0 ? &vars[sc] : NULL;
    if (ms >= 0 && vars[ms].known && vars[ms].lo == vars[ms].hi && vars[ms].hi > 0) {
        out->source = KT_RP_MAX_MAXSCORE;
        out->value = vars[ms].hi;
    } else if (sc < 0 || it->decls[sc].kind != KT_RP_OUTCOME) {
        snprintf(out->reason, sizeof out->reason, "Câu hỏi không khai báo biến điểm SCORE.");
    } else if (it->decls[sc].has_normal_max && it->decls[sc].normal_max > 0) {
        out->source = KT_RP_MAX_NORMAL_MAXIMUM;
        out->value = it->decls[sc].normal_max;
    } else if (!tracked(&it->decls[sc])) {
        snprintf(out->reason, sizeof out->reason, "SCORE không phải một biến số đơn.");
    } else if (!s->known) {
        snprintf(out->reason, sizeof out->reason, "%s", s->why);
    } else if (isinf(s->hi)) {
        snprintf(out->reason, sizeof out->reason,
                 "SCORE không có giới hạn trên (mapping không có upperBound mà một câu trả lời "
                 "được cộng điểm không giới hạn số lần).");
    } else if (!(s->hi > 0)) {
        snprintf(out->reason, sizeof out->reason, "SCORE không bao giờ lớn hơn 0.");
    } else {
        out->source = KT_RP_MAX_DERIVED;
        out->value = round(s->hi * 1e6) / 1e6;
    }
    free(vars);
}

const char *
kt_rp_max_source_name(kt_rp_max_source source)
{
    switch (source) {
    case KT_RP_MAX_MAXSCORE:
        return "MAXSCORE";
    case KT_RP_MAX_NORMAL_MAXIMUM:
        return "normalMaximum";
    case KT_RP_MAX_DERIVED:
        return "derived";
    case KT_RP_MAX_UNKNOWN:
        break;
    }
    return NULL;
}

/*
 * Static typing of template and response processing (rp_check.h): one walk
 * over the compiled rules infers what each expression can hold (its possible
 * cardinalities and base types) and compares it with what the evaluator of
 * rp_expr.c and rp.c accepts, leniencies included (sum over containers, a
 * container of one set to a single variable, integer and float widening),
 * so that an item the evaluator would stop on is refused before delivery.
 */
#include "rp_check.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CARD(c) (1u << (c))
#define BASE(b) (1u << (b))
#define CARDS_ALL                                                                                  \
    (CARD(KT_QV_SINGLE) | CARD(KT_QV_MULTIPLE) | CARD(KT_QV_ORDERED) | CARD(KT_QV_RECORD))
#define CONTAINERS (CARD(KT_QV_MULTIPLE) | CARD(KT_QV_ORDERED))
#define VALUES (CARD(KT_QV_SINGLE) | CONTAINERS) /* anything but a record */
#define SINGLE CARD(KT_QV_SINGLE)
#define BASES_ALL ((1u << (KT_QV_INT_OR_IDENTIFIER + 1)) - 1)
#define INTEGER BASE(KT_QV_INTEGER)
#define NUMBERS (BASE(KT_QV_INTEGER) | BASE(KT_QV_FLOAT))
#define NUMBERS_D (NUMBERS | BASE(KT_QV_DURATION)) /* what comparisons take */
#define BOOLEAN BASE(KT_QV_BOOLEAN)
#define POINT BASE(KT_QV_POINT)
#define STRINGS                                                                                    \
    (BASE(KT_QV_STRING) | BASE(KT_QV_IDENTIFIER) | BASE(KT_QV_URI) |                               \
     BASE(KT_QV_INT_OR_IDENTIFIER) | BASE(KT_QV_FILE))
#define TEXT (BASE(KT_QV_STRING) | BASE(KT_QV_IDENTIFIER)) /* converted into each other */
#define MANY SIZE_MAX

/* What an expression can be when it is not NULL. */
typedef struct {
    unsigned cards, bases;
    size_t maxn; /* containers: the most elements, MANY when unbounded */
    bool null;   /* always NULL */
} ty;

struct ck {
    const kt_rp_item *item;
    kt_rp_check_report report;
    void *ctx;
    size_t problems;
    const kt_rp_rule *rule; /* the innermost rule, named in messages */
    /* Per declaration, the most elements its value (or default) and its
     * correct response can hold: grown to a fixed point by quiet passes. */
    size_t *values, *corrects;
    bool quiet, grew;
    int pass;
};

static ty
ty_of(unsigned cards, unsigned bases)
{
    return (ty){cards, bases, cards & CONTAINERS ? MANY : 1, false};
}

static const ty ANY = {CARDS_ALL, BASES_ALL, MANY, false};
static const ty NUL = {CARDS_ALL, BASES_ALL, 0, true};

static ty
of_decl(const kt_rp_decl *d)
{
    return ty_of(CARD(d->card), d->card == KT_QV_RECORD ? BASES_ALL : BASE(d->base));
}

static bool
one_bit(unsigned x)
{
    return x && !(x & (x - 1));
}

static int
bit_index(unsigned x)
{
    return __builtin_ctz(x);
}

/* "single identifier", "multiple integer", "record", "NULL". */
static const char *
describe(ty t, char *buf, size_t size)
{
    if (t.null)
        return "NULL";
    if (t.cards == CARD(KT_QV_RECORD))
        return "record";
    const char *card = one_bit(t.cards) ? kt_qv_card_name((kt_qv_card)bit_index(t.cards)) : "?";
    if (one_bit(t.bases))
        snprintf(buf, size, "%s %s", card, kt_qv_base_name((kt_qv_base)bit_index(t.bases)));
    else
        snprintf(buf, size, "%s", card);
    return buf;
}

__attribute__((format(printf, 4, 5))) static void
problem(struct ck *k, long line, const char *element, const char *fmt, ...)
{
    char what[400], msg[560];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const kt_rp_rule *r = k->rule;
    if (r && r->identifier && *r->identifier)
        snprintf(msg, sizeof msg, "Sai kiểu dữ liệu trong %s (biến %s): %s", r->element,
                 r->identifier, what);
    else if (r)
        snprintf(msg, sizeof msg, "Sai kiểu dữ liệu trong %s: %s", r->element, what);
    else
        snprintf(msg, sizeof msg, "Sai kiểu dữ liệu: %s", what);
    if (k->quiet)
        return;
    k->problems++;
    if (k->report)
        k->report(k->ctx, line ? line : r ? r->line : 0, element, msg);
}

static bool
fits(ty t, unsigned cards, unsigned bases)
{
    return t.null || (t.cards & cards & CARD(KT_QV_RECORD)) ||
           ((t.cards & cards & ~CARD(KT_QV_RECORD)) && (t.bases & bases));
}

/* Operand i of e must be one of cards and bases ("want" says which). */
static bool
operand(struct ck *k, const kt_rp_expr *e, size_t i, ty t, unsigned cards, unsigned bases,
        const char *want)
{
    char buf[64], pos[32] = "";
    if (fits(t, cards, bases))
        return true;
    if (e->nargs > 1)
        snprintf(pos, sizeof pos, " thứ %zu", i + 1);
    problem(k, e->args[i].line ? e->args[i].line : e->line, e->element,
            "<%s>: toán hạng%s là %s, cần %s.", e->element, pos, describe(t, buf, sizeof buf),
            want);
    return false;
}

/* The operands of e that are not NULL must share a base type. */
static bool
same_base(struct ck *k, const kt_rp_expr *e, const ty *ts, size_t n)
{
    unsigned acc = BASES_ALL;
    const ty *first = NULL;
    for (size_t i = 0; i < n; i++) {
        if (ts[i].null || ts[i].cards == CARD(KT_QV_RECORD))
            continue;
        if (first && !(acc & ts[i].bases)) {
            char a[64], b[64];
            problem(k, e->args[i].line ? e->args[i].line : e->line, e->element,
                    "<%s>: các toán hạng phải cùng kiểu cơ sở, không phải %s và %s.", e->element,
                    describe(*first, a, sizeof a), describe(ts[i], b, sizeof b));
            return false;
        }
        acc &= ts[i].bases;
        first = first ? first : &ts[i];
    }
    return true;
}

/* A {VAR} attribute whose variable must hold a number when it is read. */
static void
number_attr(struct ck *k, const kt_rp_expr *e, const kt_rp_num_ref *r, const char *name)
{
    if (r->var < 0)
        return;
    const kt_rp_decl *d = &k->item->decls[r->var];
    char buf[64];
    if (d->card != KT_QV_SINGLE || !(BASE(d->base) & NUMBERS_D))
        problem(k, e->line, e->element, "<%s>: thuộc tính %s lấy biến %s kiểu %s, cần một số.",
                e->element, name, d->identifier, describe(of_decl(d), buf, sizeof buf));
}

/* integer when every operand is an integer, float when one cannot be. */
static unsigned
arithmetic_base(const ty *ts, size_t n)
{
    bool all_int = true, some_float = false;
    for (size_t i = 0; i < n; i++) {
        if (ts[i].null)
            continue;
        all_int &= (ts[i].bases & NUMBERS) == INTEGER;
        some_float |= !(ts[i].bases & INTEGER);
    }
    return all_int ? INTEGER : some_float ? BASE(KT_QV_FLOAT) : NUMBERS;
}

static size_t
add_sizes(size_t a, size_t b)
{
    return a > MANY - b ? MANY : a + b;
}

static ty expr(struct ck *k, const kt_rp_expr *e);

/* multiple and ordered: single values or containers like the result, of one base. */
static ty
container_of(struct ck *k, const kt_rp_expr *e, const ty *ts, kt_qv_card card)
{
    unsigned bases = BASES_ALL;
    size_t n = 0;
    bool ok = true, all_null = true;
    for (size_t i = 0; i < e->nargs; i++) {
        ok &= operand(k, e, i, ts[i], SINGLE | CARD(card), BASES_ALL,
                      card == KT_QV_MULTIPLE ? "single hoặc multiple" : "single hoặc ordered");
        if (ts[i].null)
            continue;
        all_null = false;
        bases &= ts[i].bases;
        n = add_sizes(n, ts[i].cards & CONTAINERS ? ts[i].maxn : 1);
    }
    ok = ok && same_base(k, e, ts, e->nargs);
    if (all_null)
        return NUL;
    ty t = ty_of(CARD(card), ok && bases ? bases : BASES_ALL);
    t.maxn = n;
    return t;
}

static ty
test_level(struct ck *k, const kt_rp_expr *e)
{
    problem(k, e->line, e->element,
            "<%s> chỉ dùng được trong xử lý kết quả của đề (outcomeProcessing), không dùng trong "
            "câu hỏi.",
            e->element);
    return e->op >= KT_RP_TEST_VARIABLES ? ty_of(CARD(KT_QV_MULTIPLE), NUMBERS | STRINGS)
                                         : ty_of(SINGLE, INTEGER);
}

static ty
var_ref(struct ck *k, const kt_rp_expr *e, bool must_exist)
{
    if (e->var >= 0) {
        ty t = of_decl(&k->item->decls[e->var]);
        if (t.cards & CONTAINERS)
            t.maxn = (e->op == KT_RP_CORRECT ? k->corrects : k->values)[e->var];
        return t;
    }
    if (must_exist)
        problem(k, e->line, e->element, "<%s>: biến %s chưa được khai báo.", e->element,
                e->identifier ? e->identifier : "");
    return NUL;
}

/* The operands' types are known (ts); the result's and the checks of e. */
static ty
apply(struct ck *k, const kt_rp_expr *e, const ty *ts)
{
    const char *num = "một số (integer hoặc float)",
               *num1 = "một số đơn (single integer hoặc float)";
    const char *ordered = "ordered", *cont = "multiple hoặc ordered";
    bool ok = true;
    size_t n = e->nargs;
    switch (e->op) {
    case KT_RP_BASE_VALUE:
        return ty_of(SINGLE, BASE(e->value.base));
    case KT_RP_VARIABLE:
    case KT_RP_CORRECT:
    case KT_RP_DEFAULT:
        return var_ref(k, e, false);
    case KT_RP_NULL:
        return NUL;
    case KT_RP_MAP_RESPONSE: {
        var_ref(k, e, true);
        const kt_rp_decl *d = e->var >= 0 ? &k->item->decls[e->var] : NULL;
        if (d && d->mapping.present && d->card == KT_QV_RECORD)
            problem(k, e->line, e->element, "<mapResponse>: biến %s là record, không ánh xạ được.",
                    d->identifier);
        return ty_of(SINGLE, BASE(KT_QV_FLOAT));
    }
    case KT_RP_MAP_RESPONSE_POINT: {
        var_ref(k, e, true);
        const kt_rp_decl *d = e->var >= 0 ? &k->item->decls[e->var] : NULL;
        char buf[64];
        if (d && d->area_mapping.present &&
            (d->base != KT_QV_POINT || d->card == KT_QV_RECORD || d->card == KT_QV_ORDERED))
            problem(k, e->line, e->element,
                    "<mapResponsePoint>: biến %s là %s, cần single hoặc multiple point.",
                    d->identifier, describe(of_decl(d), buf, sizeof buf));
        return ty_of(SINGLE, BASE(KT_QV_FLOAT));
    }
    case KT_RP_RANDOM_INTEGER:
    case KT_RP_RANDOM_FLOAT:
        number_attr(k, e, &e->min, "min");
        number_attr(k, e, &e->max, "max");
        if (e->op == KT_RP_RANDOM_INTEGER)
            number_attr(k, e, &e->step, "step");
        return ty_of(SINGLE, e->op == KT_RP_RANDOM_INTEGER ? INTEGER : BASE(KT_QV_FLOAT));
    case KT_RP_MATH_CONSTANT:
        return ty_of(SINGLE, BASE(KT_QV_FLOAT));
    case KT_RP_IS_NULL:
        return ty_of(SINGLE, BOOLEAN);
    case KT_RP_AND:
    case KT_RP_OR:
    case KT_RP_NOT:
    case KT_RP_ANY_N:
        for (size_t i = 0; i < n; i++)
            operand(k, e, i, ts[i], SINGLE, BOOLEAN, "single boolean");
        return ty_of(SINGLE, BOOLEAN);
    case KT_RP_MULTIPLE:
        return container_of(k, e, ts, KT_QV_MULTIPLE);
    case KT_RP_ORDERED:
        return container_of(k, e, ts, KT_QV_ORDERED);
    case KT_RP_CONTAINER_SIZE:
        operand(k, e, 0, ts[0], CONTAINERS, BASES_ALL, cont);
        return ty_of(SINGLE, INTEGER);
    case KT_RP_MEMBER:
        ok &= operand(k, e, 0, ts[0], SINGLE, BASES_ALL, "một giá trị đơn (single)");
        ok &= operand(k, e, 1, ts[1], VALUES, BASES_ALL, "một tập giá trị (multiple hoặc ordered)");
        if (ok)
            same_base(k, e, ts, 2);
        return ty_of(SINGLE, BOOLEAN);
    case KT_RP_CONTAINS:
        ok &= operand(k, e, 0, ts[0], CONTAINERS, BASES_ALL, cont);
        ok &= operand(k, e, 1, ts[1], CONTAINERS, BASES_ALL, cont);
        if (ok && !ts[0].null && !ts[1].null && !(ts[0].cards & ts[1].cards)) {
            char a[64], b[64];
            problem(k, e->line, e->element,
                    "<contains>: hai toán hạng phải cùng bản số, không phải %s và %s.",
                    describe(ts[0], a, sizeof a), describe(ts[1], b, sizeof b));
        } else if (ok) {
            same_base(k, e, ts, 2);
        }
        return ty_of(SINGLE, BOOLEAN);
    case KT_RP_DELETE:
        ok &= operand(k, e, 0, ts[0], SINGLE, BASES_ALL, "một giá trị đơn (single)");
        ok &= operand(k, e, 1, ts[1], CONTAINERS, BASES_ALL, cont);
        if (ok)
            ok = same_base(k, e, ts, 2);
        return ok && !ts[1].null ? ts[1] : ty_of(CONTAINERS, BASES_ALL);
    case KT_RP_INDEX:
    case KT_RP_RANDOM:
        if (!operand(k, e, 0, ts[0], e->op == KT_RP_INDEX ? CARD(KT_QV_ORDERED) : CONTAINERS,
                     BASES_ALL, e->op == KT_RP_INDEX ? ordered : cont))
            return ANY;
        return ts[0].null ? NUL : ty_of(SINGLE, ts[0].bases);
    case KT_RP_FIELD_VALUE:
        operand(k, e, 0, ts[0], CARD(KT_QV_RECORD), BASES_ALL, "record");
        return ty_of(SINGLE, BASES_ALL);
    case KT_RP_REPEAT: {
        unsigned bases = BASES_ALL;
        for (size_t i = 0; i < n; i++) {
            ok &= operand(k, e, i, ts[i], SINGLE | CARD(KT_QV_ORDERED), BASES_ALL,
                          "single hoặc ordered");
            if (!ts[i].null)
                bases &= ts[i].bases;
        }
        ok = ok && same_base(k, e, ts, n);
        return ty_of(CARD(KT_QV_ORDERED), ok && bases ? bases : BASES_ALL);
    }
    case KT_RP_MATCH:
        if (!ts[0].null && !ts[1].null) {
            char a[64], b[64];
            bool records = ts[0].cards & ts[1].cards & CARD(KT_QV_RECORD);
            if (!(ts[0].cards & ts[1].cards) || (!records && !(ts[0].bases & ts[1].bases)))
                problem(k, e->line, e->element,
                        "<match>: hai toán hạng phải cùng bản số và kiểu cơ sở, không phải %s và "
                        "%s.",
                        describe(ts[0], a, sizeof a), describe(ts[1], b, sizeof b));
        }
        return ty_of(SINGLE, BOOLEAN);
    case KT_RP_EQUAL:
        if (e->tolerance_mode != KT_RP_TOL_EXACT) {
            number_attr(k, e, &e->tolerance[0], "tolerance");
            number_attr(k, e, &e->tolerance[1], "tolerance");
        }
        /* fall through */
    case KT_RP_EQUAL_ROUNDED:
    case KT_RP_GT:
    case KT_RP_GTE:
    case KT_RP_LT:
    case KT_RP_LTE:
    case KT_RP_DURATION_LT:
    case KT_RP_DURATION_GTE:
        for (size_t i = 0; i < n; i++)
            operand(k, e, i, ts[i], SINGLE, NUMBERS_D, num1);
        if (e->op == KT_RP_EQUAL_ROUNDED && e->figures.var < 0 &&
            (e->figures.number < 0 ||
             (e->rounding_mode == KT_RP_ROUND_SIGNIFICANT && e->figures.number < 1)))
            problem(k, e->line, e->element, "<equalRounded>: figures %g không hợp lệ.",
                    e->figures.number);
        return ty_of(SINGLE, BOOLEAN);
    case KT_RP_STRING_MATCH:
    case KT_RP_SUBSTRING:
    case KT_RP_PATTERN_MATCH:
        for (size_t i = 0; i < n; i++)
            operand(k, e, i, ts[i], SINGLE, STRINGS,
                    "một chuỗi đơn (single string hoặc identifier)");
        return ty_of(SINGLE, BOOLEAN);
    case KT_RP_INSIDE:
        operand(k, e, 0, ts[0], VALUES, POINT, "point");
        return ty_of(SINGLE, BOOLEAN);
    case KT_RP_SUM:
    case KT_RP_PRODUCT:
    case KT_RP_MIN:
    case KT_RP_MAX:
        for (size_t i = 0; i < n; i++)
            ok &= operand(k, e, i, ts[i], VALUES, NUMBERS, num);
        return ty_of(SINGLE, ok ? arithmetic_base(ts, n) : NUMBERS);
    case KT_RP_SUBTRACT:
    case KT_RP_DIVIDE:
    case KT_RP_POWER:
        for (size_t i = 0; i < n; i++)
            ok &= operand(k, e, i, ts[i], SINGLE, NUMBERS, num1);
        if (e->op != KT_RP_SUBTRACT)
            return ty_of(SINGLE, BASE(KT_QV_FLOAT));
        return ty_of(SINGLE, ok ? arithmetic_base(ts, n) : NUMBERS);
    case KT_RP_INTEGER_DIVIDE:
    case KT_RP_INTEGER_MODULUS:
        for (size_t i = 0; i < n; i++)
            operand(k, e, i, ts[i], SINGLE, INTEGER, "single integer");
        return ty_of(SINGLE, INTEGER);
    case KT_RP_INTEGER_TO_FLOAT:
        operand(k, e, 0, ts[0], SINGLE, INTEGER, "single integer");
        return ty_of(SINGLE, BASE(KT_QV_FLOAT));
    case KT_RP_ROUND:
    case KT_RP_TRUNCATE:
    case KT_RP_ROUND_TO:
        operand(k, e, 0, ts[0], SINGLE, NUMBERS, num1);
        return ty_of(SINGLE, e->op == KT_RP_ROUND_TO ? BASE(KT_QV_FLOAT) : INTEGER);
    case KT_RP_GCD:
    case KT_RP_LCM:
        for (size_t i = 0; i < n; i++)
            operand(k, e, i, ts[i], VALUES, INTEGER, "integer");
        return ty_of(SINGLE, INTEGER);
    case KT_RP_STATS_OPERATOR:
        operand(k, e, 0, ts[0], CONTAINERS, NUMBERS,
                "một tập số (multiple hoặc ordered integer/float)");
        return ty_of(SINGLE, BASE(KT_QV_FLOAT));
    case KT_RP_MATH_OPERATOR: {
        for (size_t i = 0; i < n; i++)
            ok &= operand(k, e, i, ts[i], SINGLE, NUMBERS_D, num1);
        const char *name = e->name ? e->name : "";
        if (strcmp(name, "abs") == 0)
            return ty_of(SINGLE,
                         ok && !ts[0].null
                             ? (ts[0].bases & INTEGER ? INTEGER : 0) |
                                   (ts[0].bases & ~INTEGER & NUMBERS_D ? BASE(KT_QV_FLOAT) : 0)
                             : NUMBERS);
        if (strcmp(name, "signum") == 0 || strcmp(name, "floor") == 0 || strcmp(name, "ceil") == 0)
            return ty_of(SINGLE, INTEGER);
        return ty_of(SINGLE, BASE(KT_QV_FLOAT));
    }
    case KT_RP_NUMBER_CORRECT:
    case KT_RP_NUMBER_INCORRECT:
    case KT_RP_NUMBER_RESPONDED:
    case KT_RP_NUMBER_PRESENTED:
    case KT_RP_NUMBER_SELECTED:
    case KT_RP_TEST_VARIABLES:
    case KT_RP_OUTCOME_MINIMUM:
    case KT_RP_OUTCOME_MAXIMUM:
        return test_level(k, e);
    case KT_RP_UNSUPPORTED:
        break;
    }
    return ANY;
}

static ty
expr(struct ck *k, const kt_rp_expr *e)
{
    ty stack[8], *ts = e->nargs <= 8 ? stack : malloc(e->nargs * sizeof *ts);
    if (!ts)
        abort();
    for (size_t i = 0; i < e->nargs; i++)
        ts[i] = expr(k, &e->args[i]);
    ty t = apply(k, e, ts);
    if (ts != stack)
        free(ts);
    return t;
}

/* Whether some value of t can be set to d, as kt_rp_coerce converts it. */
static bool
assignable(ty t, const kt_rp_decl *d)
{
    if (t.null)
        return true;
    for (int c = KT_QV_SINGLE; c <= KT_QV_RECORD; c++) {
        if (!(t.cards & CARD(c)))
            continue;
        kt_qv_card vc = (kt_qv_card)c;
        if (CARD(vc) & CONTAINERS && d->card == KT_QV_SINGLE) {
            if (t.maxn > 1)
                continue; /* only a container of one becomes a single value */
            vc = KT_QV_SINGLE;
        } else if (vc == KT_QV_SINGLE && CARD(d->card) & CONTAINERS) {
            /* wrapped into a container: the base must then be the same */
            if (t.bases & BASE(d->base))
                return true;
            continue;
        }
        if (vc != d->card)
            continue;
        if (vc == KT_QV_RECORD || t.bases & BASE(d->base))
            return true;
        if (vc == KT_QV_SINGLE && ((d->base == KT_QV_INTEGER && t.bases & BASE(KT_QV_FLOAT)) ||
                                   (d->base == KT_QV_FLOAT && t.bases & INTEGER) ||
                                   (BASE(d->base) & TEXT && t.bases & TEXT)))
            return true;
    }
    return false;
}

/* A value of type t was set to declaration v (into sizes). */
static void
grow(struct ck *k, size_t *sizes, int v, ty t)
{
    size_t n = t.null ? 0 : t.cards & CONTAINERS ? t.maxn : 1;
    if (n > sizes[v]) {
        sizes[v] = k->pass > 8 ? MANY : n; /* growing without end: unbounded */
        k->grew = true;
    }
}

static void rules(struct ck *k, const kt_rp_rule *rs, size_t n);

static void
rule(struct ck *k, const kt_rp_rule *r)
{
    const kt_rp_rule *outer = k->rule;
    const kt_rp_decl *d = r->var >= 0 ? &k->item->decls[r->var] : NULL;
    char a[64], b[64];
    ty t;
    k->rule = r;
    switch (r->kind) {
    case KT_RP_CONDITION:
        for (size_t i = 0; i < r->nbranches; i++) {
            const kt_rp_branch *br = &r->branches[i];
            if (br->condition) {
                t = expr(k, br->condition);
                if (!fits(t, SINGLE, BOOLEAN))
                    problem(k, br->condition->line, br->condition->element,
                            "điều kiện <%s> là %s, cần single boolean.", br->condition->element,
                            describe(t, a, sizeof a));
            }
            rules(k, br->rules, br->nrules);
        }
        break;
    case KT_RP_SET_OUTCOME:
    case KT_RP_SET_TEMPLATE:
    case KT_RP_SET_CORRECT:
    case KT_RP_SET_DEFAULT:
    case KT_RP_LOOKUP_OUTCOME:
        t = r->expr ? expr(k, r->expr) : NUL;
        if (d && r->kind != KT_RP_LOOKUP_OUTCOME)
            grow(k, r->kind == KT_RP_SET_CORRECT ? k->corrects : k->values, r->var, t);
        if (!d) {
            problem(k, r->line, r->element, "biến %s chưa được khai báo.",
                    r->identifier ? r->identifier : "");
        } else if (r->kind == KT_RP_LOOKUP_OUTCOME) {
            bool match = d->table.kind == KT_RP_TABLE_MATCH;
            if (d->table.kind == KT_RP_TABLE_NONE)
                problem(k, r->line, r->element,
                        "biến %s không có bảng tra (matchTable hoặc interpolationTable).",
                        d->identifier);
            else if (!fits(t, SINGLE, match ? INTEGER : NUMBERS))
                problem(k, r->line, r->element, "giá trị tra là %s, cần %s.",
                        describe(t, a, sizeof a),
                        match ? "single integer" : "một số đơn (single integer hoặc float)");
        } else if (!assignable(t, d)) {
            problem(k, r->line, r->element, "giá trị %s%s không gán được cho biến %s kiểu %s.",
                    describe(t, a, sizeof a),
                    t.cards & CONTAINERS && d->card == KT_QV_SINGLE ? " (có thể nhiều phần tử)"
                                                                    : "",
                    d->identifier, describe(of_decl(d), b, sizeof b));
        }
        break;
    case KT_RP_TEMPLATE_CONSTRAINT:
        if (r->expr)
            expr(k, r->expr);
        break;
    case KT_RP_EXIT:
    case KT_RP_RULE_UNSUPPORTED:
        break;
    }
    k->rule = outer;
}

static void
rules(struct ck *k, const kt_rp_rule *rs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        rule(k, &rs[i]);
}

static size_t
elements(const kt_qv *v)
{
    return kt_qv_is_null(v) ? 0 : v->card == KT_QV_SINGLE ? 1 : v->n;
}

size_t
kt_rp_check(const kt_rp_item *item, kt_rp_check_report report, void *ctx)
{
    struct ck k = {.item = item, .report = report, .ctx = ctx, .quiet = true};
    k.values = calloc(item->ndecls + 1, sizeof *k.values);
    k.corrects = calloc(item->ndecls + 1, sizeof *k.corrects);
    if (!k.values || !k.corrects)
        abort();
    for (size_t i = 0; i < item->ndecls; i++) {
        const kt_rp_decl *d = &item->decls[i];
        /* a response holds what its interaction lets a candidate give */
        k.values[i] = d->kind != KT_RP_RESPONSE ? elements(&d->default_value)
                      : d->max_values > 0       ? (size_t)d->max_values
                                                : MANY;
        k.corrects[i] = elements(&d->correct);
    }
    do {
        k.grew = false;
        k.pass++;
        rules(&k, item->template_rules, item->ntemplate_rules);
        rules(&k, item->response_rules, item->nresponse_rules);
    } while (k.grew);
    k.quiet = false;
    rules(&k, item->template_rules, item->ntemplate_rules);
    rules(&k, item->response_rules, item->nresponse_rules);
    free(k.values);
    free(k.corrects);
    return k.problems;
}

/*
 * Rules and item sessions (rp.h): response, template and outcome rules run
 * over the expression evaluator of rp_expr.c; a session keeps the values of
 * one candidate's item, runs template processing from a stored seed and
 * each attempt's response processing. Values of an attempt live in one of
 * two arenas, so an attempt costs no malloc once the arenas have grown.
 */
#include <stdio.h>
#include <string.h>

#include "rp_eval.h"

#define CONSTRAINT_TRIES 100 /* templateConstraint: QTI's limit */

enum flow { FLOW_NEXT, FLOW_EXIT, FLOW_RETRY, FLOW_ERROR };

int
kt_rp_find(const kt_rp_item *item, const char *identifier)
{
    for (size_t i = 0; identifier && i < item->ndecls; i++)
        if (strcmp(item->decls[i].identifier, identifier) == 0)
            return (int)i;
    return -1;
}

void
kt_rp_item_free(kt_rp_item *item)
{
    if (!item)
        return;
    for (kt_rp_regex *r = item->regexes; r; r = r->next)
        regfree(&r->re);
    kt_arena_free(item->arena);
}

/* ---- rules ------------------------------------------------------------------- */

static enum flow run_rules(kt_rp_ctx *c, const kt_rp_rule *rules, size_t n);

static enum flow
run_rule(kt_rp_ctx *c, const kt_rp_rule *r)
{
    kt_qv v;
    const kt_rp_decl *d = r->var >= 0 ? &c->decls[r->var] : NULL;

    switch (r->kind) {
    case KT_RP_CONDITION:
        for (size_t i = 0; i < r->nbranches; i++) {
            const kt_rp_branch *b = &r->branches[i];
            if (b->condition) {
                if (kt_rp_eval(c, b->condition, &v) < 0)
                    return FLOW_ERROR;
                /* NULL counts as false */
                if (kt_qv_is_null(&v) || v.card != KT_QV_SINGLE || v.base != KT_QV_BOOLEAN ||
                    !v.one.u.b) {
                    if (!kt_qv_is_null(&v) && (v.card != KT_QV_SINGLE || v.base != KT_QV_BOOLEAN)) {
                        kt_rp_fail(c, "%s: the condition is not a boolean", r->element);
                        return FLOW_ERROR;
                    }
                    continue;
                }
            }
            return run_rules(c, b->rules, b->nrules);
        }
        return FLOW_NEXT;
    case KT_RP_SET_OUTCOME:
    case KT_RP_SET_TEMPLATE:
    case KT_RP_SET_CORRECT:
    case KT_RP_SET_DEFAULT:
        if (!d) {
            kt_rp_fail(c, "%s: the variable is not declared", r->element);
            return FLOW_ERROR;
        }
        if (kt_rp_eval(c, r->expr, &v) < 0 || kt_rp_coerce(c, d, &v) < 0)
            return FLOW_ERROR;
        if (r->kind == KT_RP_SET_CORRECT)
            c->correct[r->var] = v;
        else if (r->kind == KT_RP_SET_DEFAULT)
            c->defaults[r->var] = v;
        else
            c->values[r->var] = v;
        return FLOW_NEXT;
    case KT_RP_LOOKUP_OUTCOME: {
        if (!d || d->table.kind == KT_RP_TABLE_NONE) {
            kt_rp_fail(c, "%s: the outcome has no lookup table", r->element);
            return FLOW_ERROR;
        }
        if (kt_rp_eval(c, r->expr, &v) < 0)
            return FLOW_ERROR;
        const kt_rp_lookup_table *t = &d->table;
        kt_qv target = t->default_value;
        if (!kt_qv_is_null(&v)) {
            if (v.card != KT_QV_SINGLE || !kt_qv_base_numeric(v.base) ||
                (t->kind == KT_RP_TABLE_MATCH && v.base != KT_QV_INTEGER)) {
                kt_rp_fail(c, "%s: the looked-up value must be %s", r->element,
                           t->kind == KT_RP_TABLE_MATCH ? "an integer" : "a number");
                return FLOW_ERROR;
            }
            double x = kt_qv_number(&v.one);
            for (size_t i = 0; i < t->nentries; i++) {
                const kt_rp_table_entry *en = &t->entries[i];
                bool hit = t->kind == KT_RP_TABLE_MATCH ? en->source == x
                           : en->include_boundary       ? en->source <= x
                                                        : en->source < x;
                if (hit) {
                    target = en->target;
                    break;
                }
            }
        }
        if (kt_rp_coerce(c, d, &target) < 0)
            return FLOW_ERROR;
        c->values[r->var] = target;
        return FLOW_NEXT;
    }
    case KT_RP_TEMPLATE_CONSTRAINT:
        if (kt_rp_eval(c, r->expr, &v) < 0)
            return FLOW_ERROR;
        return !kt_qv_is_null(&v) && v.card == KT_QV_SINGLE && v.base == KT_QV_BOOLEAN && v.one.u.b
                   ? FLOW_NEXT
                   : FLOW_RETRY;
    case KT_RP_EXIT:
        return FLOW_EXIT;
    case KT_RP_RULE_UNSUPPORTED:
        break;
    }
    kt_rp_fail(c, "unsupported: %s", r->element);
    return FLOW_ERROR;
}

static enum flow
run_rules(kt_rp_ctx *c, const kt_rp_rule *rules, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        enum flow f = run_rule(c, &rules[i]);
        if (f != FLOW_NEXT)
            return f;
    }
    return FLOW_NEXT;
}

/* ---- sessions ------------------------------------------------------------------ */

static kt_rp_ctx
session_ctx(kt_rp_session *s)
{
    return (kt_rp_ctx){
        .decls = s->item->decls,
        .ndecls = s->item->ndecls,
        .values = s->values,
        .correct = s->correct,
        .defaults = s->defaults,
        .arena = s->arena[s->cur],
        .prng = &s->prng,
        .err = s->error,
        .errsize = sizeof s->error,
    };
}

/* The value an outcome starts an attempt with. */
static kt_qv
outcome_default(const kt_rp_decl *d, const kt_qv *declared)
{
    if (!kt_qv_is_null(declared))
        return *declared;
    if (d->card == KT_QV_SINGLE && d->base == KT_QV_INTEGER)
        return kt_qv_int(0);
    if (d->card == KT_QV_SINGLE && d->base == KT_QV_FLOAT)
        return kt_qv_float(0);
    return kt_qv_null(d->card, d->base);
}

static void
reset_outcomes(kt_rp_session *s)
{
    const kt_rp_item *it = s->item;
    for (size_t i = 0; i < it->ndecls; i++)
        if (it->decls[i].kind == KT_RP_OUTCOME)
            s->values[i] = outcome_default(&it->decls[i], &s->defaults[i]);
    if (it->completion_status >= 0 && kt_qv_is_null(&s->defaults[it->completion_status]))
        s->values[it->completion_status] = kt_qv_identifier("not_attempted");
}

static int
run_template_processing(kt_rp_session *s)
{
    const kt_rp_item *it = s->item;
    for (int tries = 0; tries < CONSTRAINT_TRIES; tries++) {
        for (size_t i = 0; i < it->ndecls; i++) {
            s->correct[i] = it->decls[i].correct;
            s->defaults[i] = it->decls[i].default_value;
            if (it->decls[i].kind == KT_RP_TEMPLATE)
                s->values[i] = it->decls[i].default_value;
        }
        kt_rp_ctx c = session_ctx(s);
        enum flow f = run_rules(&c, it->template_rules, it->ntemplate_rules);
        if (f == FLOW_ERROR)
            return -1;
        if (f != FLOW_RETRY)
            return 0;
    }
    return 0; /* the constraint never held: the last values stand, as QTI says */
}

int
kt_rp_session_init(kt_rp_session *s, const kt_rp_item *item, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->item = item;
    s->arena[0] = kt_arena_new();
    s->arena[1] = kt_arena_new();
    kt_prng_seed(&s->prng, seed);
    kt_arena *a = s->arena[0];
    s->values = kt_arena_alloc(a, (item->ndecls + 1) * sizeof *s->values);
    s->correct = kt_arena_alloc(a, (item->ndecls + 1) * sizeof *s->correct);
    s->defaults = kt_arena_alloc(a, (item->ndecls + 1) * sizeof *s->defaults);
    for (size_t i = 0; i < item->ndecls; i++) {
        s->correct[i] = item->decls[i].correct;
        s->defaults[i] = item->decls[i].default_value;
        s->values[i] = item->decls[i].kind == KT_RP_TEMPLATE
                           ? item->decls[i].default_value
                           : kt_qv_null(item->decls[i].card, item->decls[i].base);
    }
    int rc = item->ntemplate_rules ? run_template_processing(s) : 0;
    for (size_t i = 0; i < item->ndecls; i++)
        if (item->decls[i].kind == KT_RP_RESPONSE)
            s->values[i] = s->defaults[i];
    reset_outcomes(s);
    if (item->num_attempts >= 0)
        s->values[item->num_attempts] = kt_qv_int(0);
    if (item->duration >= 0)
        s->values[item->duration] = kt_qv_of((kt_qv_scalar){.base = KT_QV_DURATION});
    return rc;
}

void
kt_rp_session_free(kt_rp_session *s)
{
    kt_arena_free(s->arena[0]);
    kt_arena_free(s->arena[1]);
    memset(s, 0, sizeof *s);
}

static int
response_slot(kt_rp_session *s, const char *identifier)
{
    int k = kt_rp_find(s->item, identifier);
    if (k < 0 || s->item->decls[k].kind != KT_RP_RESPONSE || k == s->item->num_attempts ||
        k == s->item->duration) {
        snprintf(s->error, sizeof s->error, "%s: no such response variable",
                 identifier ? identifier : "(null)");
        return -1;
    }
    return k;
}

int
kt_rp_session_set_response(kt_rp_session *s, const char *identifier, const char *const *strs,
                           size_t n)
{
    int k = response_slot(s, identifier);
    if (k < 0)
        return -1;
    const kt_rp_decl *d = &s->item->decls[k];
    kt_qv v;
    if (kt_qv_parse(d->card, d->base, strs, n, s->arena[s->cur], &v) < 0) {
        snprintf(s->error, sizeof s->error, "%s: not a valid %s %s value", identifier,
                 kt_qv_card_name(d->card), kt_qv_base_name(d->base));
        return -1;
    }
    s->values[k] = v;
    return 0;
}

int
kt_rp_session_set_value(kt_rp_session *s, const char *identifier, const kt_qv *v)
{
    int k = response_slot(s, identifier);
    if (k < 0)
        return -1;
    const kt_rp_decl *d = &s->item->decls[k];
    if (!kt_qv_is_null(v) && (v->card != d->card || (v->card != KT_QV_RECORD && v->base != d->base))) {
        snprintf(s->error, sizeof s->error, "%s: expects a %s %s value", identifier,
                 kt_qv_card_name(d->card), kt_qv_base_name(d->base));
        return -1;
    }
    kt_qv_copy(s->arena[s->cur], &s->values[k], v);
    if (kt_qv_is_null(v))
        s->values[k] = kt_qv_null(d->card, d->base);
    return 0;
}

void
kt_rp_session_set_duration(kt_rp_session *s, double seconds)
{
    if (s->item->duration >= 0)
        s->values[s->item->duration] =
            kt_qv_of((kt_qv_scalar){.base = KT_QV_DURATION, .u.f = seconds});
}

/* Moves the session's values into the spare arena, which becomes current. */
static void
flip_arenas(kt_rp_session *s)
{
    const kt_rp_item *it = s->item;
    int next = 1 - s->cur;
    kt_arena *a = s->arena[next];
    kt_arena_reset(a);
    kt_qv *values = kt_arena_alloc(a, (it->ndecls + 1) * sizeof *values);
    kt_qv *correct = kt_arena_alloc(a, (it->ndecls + 1) * sizeof *correct);
    kt_qv *defaults = kt_arena_alloc(a, (it->ndecls + 1) * sizeof *defaults);
    for (size_t i = 0; i < it->ndecls; i++) {
        kt_qv_copy(a, &values[i], &s->values[i]);
        kt_qv_copy(a, &correct[i], &s->correct[i]);
        kt_qv_copy(a, &defaults[i], &s->defaults[i]);
    }
    s->values = values;
    s->correct = correct;
    s->defaults = defaults;
    s->cur = next;
}

int
kt_rp_session_attempt(kt_rp_session *s)
{
    const kt_rp_item *it = s->item;
    flip_arenas(s);
    s->error[0] = '\0';
    if (!it->adaptive)
        reset_outcomes(s);
    if (it->num_attempts >= 0) {
        kt_qv *n = &s->values[it->num_attempts];
        *n = kt_qv_int(kt_qv_is_null(n) ? 1 : n->one.u.i + 1);
    }
    kt_rp_ctx c = session_ctx(s);
    enum flow f = run_rules(&c, it->response_rules, it->nresponse_rules);
    if (!it->adaptive && it->completion_status >= 0)
        s->values[it->completion_status] = kt_qv_identifier("completed");
    return f == FLOW_ERROR ? -1 : 0;
}

const kt_qv *
kt_rp_session_get(const kt_rp_session *s, const char *identifier)
{
    int k = kt_rp_find(s->item, identifier);
    return k < 0 ? NULL : &s->values[k];
}

/* ---- test level ------------------------------------------------------------------ */

int
kt_rp_eval_test(const kt_rp_expr *e, const kt_rp_decl *decls, size_t ndecls, const kt_qv *values,
                const kt_rp_test_item *items, size_t nitems, kt_arena *arena, kt_qv *out,
                char *err, size_t errsize)
{
    kt_qv *defaults = kt_arena_alloc(arena, (ndecls + 1) * sizeof *defaults);
    for (size_t i = 0; i < ndecls; i++)
        defaults[i] = decls[i].default_value;
    kt_rp_ctx c = {
        .decls = decls,
        .ndecls = ndecls,
        .values = (kt_qv *)values, /* expressions only read values */
        .defaults = defaults,
        .arena = arena,
        .items = items,
        .nitems = nitems,
        .err = err,
        .errsize = errsize,
    };
    if (errsize)
        err[0] = '\0';
    return kt_rp_eval(&c, e, out);
}

/*
 * Internal to engine/rp*.c: the evaluation context shared by the
 * expression evaluator (rp_expr.c) and the rule runner and sessions (rp.c).
 */
#ifndef KT_RP_EVAL_H
#define KT_RP_EVAL_H

#include "rp.h"

typedef struct {
    const kt_rp_decl *decls;
    size_t ndecls;
    kt_qv *values;         /* current values, parallel to decls */
    kt_qv *correct;        /* correct responses, parallel to decls (NULL at test level) */
    kt_qv *defaults;       /* default values, parallel to decls */
    kt_arena *arena;       /* where produced values live */
    kt_prng *prng;         /* NULL when random operators are not allowed */
    const kt_rp_test_item *items; /* test level only */
    size_t nitems;
    char *err;
    size_t errsize;
} kt_rp_ctx;

/* Evaluates e into *out; -1 with c->err set on an error. */
int kt_rp_eval(kt_rp_ctx *c, const kt_rp_expr *e, kt_qv *out);
__attribute__((format(printf, 2, 3))) int kt_rp_fail(kt_rp_ctx *c, const char *fmt, ...);
/* Converts v for assignment to declaration d: float to integer truncates,
 * integer to float widens, a single value into a container is wrapped.
 * -1 with c->err set when the types cannot agree. */
int kt_rp_coerce(kt_rp_ctx *c, const kt_rp_decl *d, kt_qv *v);

#endif

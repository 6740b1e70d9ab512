/*
 * The maximum SCORE of a compiled QTI item, read from the item without
 * running it: its MAXSCORE or SCORE's normalMaximum when it states one,
 * otherwise derived from its response processing (mappings with their
 * bounds, area mappings, constants along every branch). When the rules do
 * not give a maximum that some answer reaches, the answer is "unknown" with
 * the reason, never a guess.
 */
#ifndef KT_RP_MAXSCORE_H
#define KT_RP_MAXSCORE_H

#include "rp.h"

typedef enum {
    KT_RP_MAX_UNKNOWN,
    KT_RP_MAX_MAXSCORE,       /* the MAXSCORE outcome, a positive constant */
    KT_RP_MAX_NORMAL_MAXIMUM, /* normalMaximum of SCORE */
    KT_RP_MAX_DERIVED         /* from the response processing */
} kt_rp_max_source;

typedef struct {
    kt_rp_max_source source;
    double value;     /* > 0 unless unknown; derived values in millionths */
    char reason[300]; /* unknown: why, in Vietnamese, naming the element */
} kt_rp_max;

void kt_rp_max_score(const kt_rp_item *item, kt_rp_max *out);

/* "MAXSCORE", "normalMaximum", "derived" or NULL for unknown. */
const char *kt_rp_max_source_name(kt_rp_max_source source);

#endif

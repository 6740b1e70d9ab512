/*
 * Scoring one item version for a teacher's preview and for round-trip
 * checks: a Vietnamese-format item through engine/vnscore.c, an imported QTI
 * item through its own response processing (engine/rp.c). Pure: memory in,
 * JSON out.
 */
#ifndef KT_SCORE_H
#define KT_SCORE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* kind: "MCQ4", "MR", "TF4", "SHORT", "ESSAY" (scoring is the version's
 * scoring object) or "QTI" (qti_xml is the item document). responses:
 * {RESPONSE_ID: value} in QTI string forms (JSON strings, numbers,
 * booleans, arrays for multiple/ordered, null or absent for NULL); a
 * Vietnamese item takes its answer under "RESPONSE". seed drives template
 * processing. Returns {"outcomes": {ID: value...}} where values are QTI
 * string forms (arrays for containers, null for NULL), or NULL with a
 * Vietnamese reason in err. For a Vietnamese item SCORE is the share of the
 * item earned (0..1, exact) and MAXSCORE is 1, as in its QTI export; an
 * essay gives SCORE null and "manual": true. A QTI item's result also has
 * "max_score", its maximum as kt_item_max_json (itembank/maxscore.h) reads
 * it from the item. */
json_t *kt_item_score(const char *kind, const json_t *scoring, const char *qti_xml,
                      const json_t *responses, uint64_t seed, char *err, size_t errsize);

#endif

/*
 * The maximum score of imported QTI items as the gateway needs it: as JSON
 * for the teacher's preview and the grader, and the check that refuses to
 * publish a test holding an item whose maximum is neither read from the
 * item (engine/rp_maxscore.c) nor stated by a teacher.
 */
#ifndef KT_MAXSCORE_H
#define KT_MAXSCORE_H

#include <jansson.h>

#include "rp.h"

/* {"value": "3", "source": "MAXSCORE" | "normalMaximum" | "derived"}, or
 * {"value": null, "reason": "..."} when it cannot be read from the item. */
json_t *kt_item_max_json(const kt_rp_item *item);

/* The same from an item document; a document that does not compile gives
 * value null with the compiler's first problem as the reason. */
json_t *kt_item_max_score(const char *qti_xml);

/* rows: the items of a test being published ([{item: id, ...}], as
 * kt_qti_publish_build lists them); items: {NAME: {id, version, xml, max_score}}
 * with max_score the maximum a teacher stated (a decimal string) or absent.
 * Returns [{item_id, identifier, version, message}], one per item whose maximum is
 * neither read from the item nor stated, empty when there is none. */
json_t *kt_item_max_missing(const json_t *rows, const json_t *items);

#endif

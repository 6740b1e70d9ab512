/*
 * Publishing an imported QTI assessmentTest: the delivered subset of test
 * features (linear or nonlinear navigation, selection without replacement,
 * ordering, a test-level time limit) checked with every other feature
 * refused by name, item references resolved to the school's imported items,
 * and the rows a published test stores (test_items; per form its seed and
 * the student payload of kt_qti_render views). Pure: JSON in, JSON out.
 */
#ifndef KT_QTI_DELIVER_H
#define KT_QTI_DELIVER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The item identifiers a test may refer to: for each assessmentItemRef in
 * document order the names tried, best first (its identifier, the href's
 * file name without extension, the href's folder). Returns
 * [{"ref", "href", "names": [...]}], or NULL when the document is not an
 * assessmentTest that parses (problems appended as {element, message}). */
json_t *kt_qti_test_refs(const char *xml, size_t len, json_t *problems);

typedef struct {
    int rc;             /* 0 published rows ready; 1 problems (see problems) */
    json_t *problems;   /* [{element, message}], every one found */
    json_t *items;      /* [{ref, item, version, cell, part, points}] */
    json_t *forms;      /* [{idx, code, seed, payload}] */
    int64_t total_points; /* hundredths, of form 1 */
    int duration_seconds;
    const char *navigation_mode; /* "linear" or "nonlinear" (static) */
} kt_qti_publish;

/* test: {title, subject, grade, kind, forms, duration_seconds (or null)};
 * items: {NAME: {id, version, status, xml, assets: [path...]}} for the
 * names kt_qti_test_refs listed that the school has as QTI items (current
 * versions). seed: the test seed (forms derive theirs). Free the result
 * with kt_qti_publish_free. */
void kt_qti_publish_build(const char *xml, size_t len, const json_t *test, const json_t *items,
                          uint64_t seed, kt_qti_publish *out);
void kt_qti_publish_free(kt_qti_publish *p);

#endif

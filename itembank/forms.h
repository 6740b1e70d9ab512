/*
 * A test's forms (mã đề) from its blueprint and the bank's candidate items:
 * blueprint rows read from JSON and checked, assembly through
 * engine/assembly.c, and the rows a published test stores (test_items, and
 * per form its seed, code and the student payload, which carries content
 * only, never keys). Pure: JSON in, JSON out; the HTTP API and the demo
 * loader both publish through here.
 */
#ifndef KT_FORMS_H
#define KT_FORMS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "assembly.h"

/* Points per item in hundredths from "0,25", "0.25" or a JSON number; -1
 * when not a positive amount with at most two decimals. */
int64_t kt_forms_points(const json_t *v);
/* "0.25" from 25. */
json_t *kt_forms_points_json(int64_t hundredths);

/* The blueprint rows as cells (strings point into bp), or NULL when bp is not
 * a non-empty array; every problem of shape, codes and ranges is appended to
 * problems as {field, message}. Free the cells with free(). */
kt_bp_cell *kt_forms_cells(const json_t *bp, int forms, json_t *problems, size_t *ncells);

typedef struct {
    int rc;              /* 0 assembled, 1 some row cannot be filled, -1 invalid */
    json_t *shortages;   /* rc 1: [{row, node, level, format, needed, available, assignable}] */
    json_t *items;       /* rc 0: [{ref, item, version, cell, part, points}] */
    json_t *forms;       /* rc 0: [{idx, code, seed, payload}] */
    int64_t total_points; /* hundredths */
} kt_forms_result;

/* test: {title, subject, grade, kind, duration_seconds, forms, blueprint};
 * candidates: [{id, version, tags, kind, content, uses}] (approved items of
 * the subject and grade, one version each); formats: {code: name} for the
 * part titles. Free the result with kt_forms_result_free. */
void kt_forms_build(const json_t *test, const json_t *candidates, const json_t *formats,
                    uint64_t seed, kt_forms_result *out);
void kt_forms_result_free(kt_forms_result *r);

/* What the bank offers a blueprint before it is saved, by the matching
 * publishing uses: {rows: [{row, problems, available, assignable,
 * shortage}], total_points, problems, ok}. available counts the candidates
 * fitting the row alone; assignable is what the row gets when the valid rows
 * are assigned together (an item fills one slot), shortage the count minus
 * it: the same numbers as publishing's shortage report. A row with problems
 * has null counts. bp: the blueprint array; candidates as for kt_forms_build.
 * New reference. */
json_t *kt_forms_availability(const json_t *bp, const json_t *candidates);

#endif

/*
 * A class's learner records computed from its marks: per student and
 * subject the semester results (ĐTBmhk, comment results, primary levels)
 * and the year result (ĐTBmcn), and per student the academic level of each
 * semester and of the year, by the rules of engine/grades.c. JSON in, JSON
 * out, so the gateway can feed it rows from the database.
 */
#ifndef KT_RECORD_CALC_H
#define KT_RECORD_CALC_H

#include <jansson.h>

/* input:
 *   {"grade": 10,
 *    "subjects": [{"code": "TOAN", "mode": "score"|"comment"|"primary_test"|"primary_level",
 *                  "periods": 105 | null, "tx_slots": 4 | null}, ...],
 *    "students": [{"id": 12, "subjects": ["NV", "TOAN", ...] | null,
 *                  "marks": {"TOAN": {"1": {"tx1": "75", "gk": "80", "ck": "90"},
 *                                     "2": {...}}}}, ...]}
 * Marks are tenths for score subjects ("75" is 7,5), D / CD for comment
 * subjects, T / H / C (level_gk, level_ck) and whole test scores in tenths
 * ("70") for primary ones; other slots (the comment "nx") are ignored.
 * A student's "subjects" (upper secondary: the class's study plan with the
 * student's own choices) limits the results and the academic level to the
 * subjects listed; without it every subject counts, except that in grades
 * 10-12 the level is then not computed (reason no_study_plan).
 * Returns {"ruleset": {"id", "version"},
 *          "results": [{"student", "subject", "semester" (1, 2; 0 = year),
 *                       "status": "ok"|"incomplete", "value" (tenths, D/CD, T/H/C or
 *                       null), "notes": [...], "reason": null | {"code", "message"}}],
 *          "levels": [{"student", "semester", "status", "value" (TOT/KHA/DAT/CD or null),
 *                      "by_thresholds", "notes": [...], "reason"}]}
 * A blank value always has a reason: code missing_marks, missing_assessments
 * (comment subject), missing_semester (year), missing_level (primary),
 * invalid_marks; for levels no_study_plan, missing_subject_results,
 * not_computable; the message is Vietnamese.
 * NULL with a Vietnamese reason in err when the input is malformed. */
json_t *kt_records_compute(const json_t *input, char *err, size_t errsize);

#endif

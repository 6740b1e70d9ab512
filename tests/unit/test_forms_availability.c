/*
 * Unit tests for kt_forms_availability (itembank/forms.c): per-row counts by
 * the assembly's own fit rule, overlapping rows competing for the same
 * items exactly as publishing assigns them (the same numbers as
 * kt_forms_build's shortage report), rows with problems left uncounted.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "forms.h"

/* n candidates with tags (outcome, level, format), ids from first. */
static void
add(json_t *cands, int first, int n, const char *outcome, const char *level, const char *fmt)
{
    for (int i = 0; i < n; i++)
        json_array_append_new(cands, json_pack("{s:i,s:i,s:[sss],s:s,s:{s:s},s:i}", "id",
                                               first + i, "version", 1, "tags", outcome, level,
                                               fmt, "kind", "MCQ4", "content", "stem", "x",
                                               "uses", 0));
}

static json_t *
row(const char *node, const char *level, const char *fmt, int count, const char *points)
{
    return json_pack("{s:s,s:s,s:s,s:i,s:s}", "node", node, "level", level, "format", fmt,
                     "count", count, "points", points);
}

Test(forms_availability, overlapping_rows_match_publish_shortages)
{
    json_t *cands = json_array();
    add(cands, 1, 5, "A.01.01", "MD.B", "DT.NLC"); /* fit both rows below */
    add(cands, 10, 3, "A.02.01", "MD.B", "DT.NLC"); /* fit only the wide row */
    add(cands, 20, 2, "A.011", "MD.B", "DT.NLC");   /* not A.01: dot boundary */
    json_t *bp = json_pack("[o,o,o]", row("A", "MD.B", "DT.NLC", 7, "0.5"),
                           row("A.01", "MD.B", "DT.NLC", 4, "0.25"),
                           row("A", "MD.H", "DT.NLC", 1, "1"));
    json_t *a = kt_forms_availability(bp, cands);
    json_t *rows = json_object_get(a, "rows");
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(rows, 0), "available")), 10);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(rows, 1), "available")), 5);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(rows, 2), "available")), 0);
    cr_assert_not(json_is_true(json_object_get(a, "ok")));
    cr_assert_str_eq(json_string_value(json_object_get(a, "total_points")), "5.5");

    json_t *test = json_pack("{s:s,s:s,s:i,s:s,s:i,s:i,s:O}", "title", "t", "subject", "TOAN",
                             "grade", 10, "kind", "tx", "duration_seconds", 600, "forms", 1,
                             "blueprint", bp);
    kt_forms_result res;
    json_t *formats = json_object();
    kt_forms_build(test, cands, formats, 7, &res);
    json_decref(formats);
    cr_assert_eq(res.rc, 1);
    size_t k;
    json_t *sh;
    size_t short_rows = 0;
    json_array_foreach(res.shortages, k, sh)
    {
        size_t r = (size_t)json_integer_value(json_object_get(sh, "row")) - 1;
        json_t *mine = json_array_get(rows, r);
        cr_assert_eq(json_integer_value(json_object_get(mine, "available")),
                     json_integer_value(json_object_get(sh, "available")));
        cr_assert_eq(json_integer_value(json_object_get(mine, "assignable")),
                     json_integer_value(json_object_get(sh, "assignable")));
        cr_assert_eq(json_integer_value(json_object_get(mine, "shortage")),
                     json_integer_value(json_object_get(sh, "needed")) -
                         json_integer_value(json_object_get(sh, "assignable")));
    }
    json_array_foreach(rows, k, sh)
    {
        short_rows += json_integer_value(json_object_get(sh, "shortage")) > 0;
    }
    cr_assert_eq(short_rows, json_array_size(res.shortages));
    cr_assert_eq(short_rows, 3); /* 10 items for 11 slots of the two NLC rows; no MD.H */
    kt_forms_result_free(&res);
    json_decref(test);
    json_decref(a);
    json_decref(bp);
    json_decref(cands);
}

Test(forms_availability, rows_with_problems_are_not_counted)
{
    json_t *cands = json_array();
    add(cands, 1, 3, "A.01", "MD.B", "DT.NLC");
    json_t *bp = json_pack("[o,o]", row("A", "B", "DT.NLC", 1, "1"),
                           row("A", "MD.B", "DT.NLC", 2, "0,25"));
    json_t *a = kt_forms_availability(bp, cands);
    json_t *r0 = json_array_get(json_object_get(a, "rows"), 0);
    json_t *r1 = json_array_get(json_object_get(a, "rows"), 1);
    cr_assert(json_is_null(json_object_get(r0, "available")));
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(r0,
                     "problems"), 0), "field")), "blueprint[0].level");
    cr_assert_eq(json_integer_value(json_object_get(r1, "available")), 3);
    cr_assert_eq(json_integer_value(json_object_get(r1, "shortage")), 0);
    cr_assert_eq(json_array_size(json_object_get(a, "problems")), 1);
    cr_assert_not(json_is_true(json_object_get(a, "ok")));
    json_decref(a);
    json_decref(bp);
    json_decref(cands);
}

Test(forms_availability, satisfiable_blueprint_is_ok)
{
    json_t *cands = json_array();
    add(cands, 1, 4, "A.01", "MD.B", "DT.NLC");
    json_t *bp = json_pack("[o]", row("A", "MD.B", "DT.NLC", 4, "2.5"));
    json_t *a = kt_forms_availability(bp, cands);
    cr_assert(json_is_true(json_object_get(a, "ok")));
    cr_assert_str_eq(json_string_value(json_object_get(a, "total_points")), "10");
    json_decref(a);
    json_decref(bp);
    json_decref(cands);
}

/*
 * Scoring behaviour survives the QTI export: every demo item is scored by
 * its Vietnamese rules and, exported to QTI 2.2 and to QTI 3.0, by the QTI
 * interpreter, over a set of answers per kind (every option, subsets, all
 * sixteen Đúng/Sai patterns, numbers on and off tolerance); the SCOREs must
 * be equal. Also the error paths of kt_item_score.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "item.h"
#include "qti_export.h"
#include "score.h"

static json_t *
demo_items(void)
{
    json_error_t e;
    json_t *items = json_load_file(KIEMTRA_SOURCE_DIR "/demo/items-toan10.json", 0, &e);
    cr_assert(json_is_array(items), "demo items: %s", e.text);
    return items;
}

static double
score_of(const json_t *result)
{
    const json_t *s = json_object_get(json_object_get(result, "outcomes"), "SCORE");
    cr_assert(json_is_string(s), "SCORE missing or NULL");
    return strtod(json_string_value(s), NULL);
}

/* The answer sets for one item: pairs of (Vietnamese response, QTI response). */
static json_t *
answers_for(const json_t *it)
{
    const char *kind = json_string_value(json_object_get(it, "kind"));
    json_t *out = json_array();
    if (strcmp(kind, "MCQ4") == 0) {
        const char *ids[] = {"A", "B", "C", "D"};
        for (int i = 0; i < 4; i++)
            json_array_append_new(out, json_pack("[s,s]", ids[i], ids[i]));
        json_array_append_new(out, json_pack("[n,n]"));
    } else if (strcmp(kind, "MR") == 0) {
        const json_t *keys = json_object_get(it, "keys");
        json_array_append_new(out, json_pack("[O,O]", keys, keys));
        json_t *fewer = json_deep_copy(keys);
        json_array_remove(fewer, json_array_size(fewer) - 1);
        json_array_append_new(out, json_pack("[O,o]", fewer, fewer));
        size_t i;
        json_t *o;
        json_array_foreach(json_object_get(it, "options"), i, o)
        {
            json_t *one = json_pack("[O]", json_object_get(o, "id"));
            json_array_append_new(out, json_pack("[O,o]", one, one));
        }
    } else if (strcmp(kind, "TF4") == 0) {
        const char *ids[] = {"a", "b", "c", "d"};
        for (int mask = 0; mask < 16; mask++) {
            json_t *vn = json_object(), *qti = json_array();
            for (int k = 0; k < 4; k++) {
                int yes = (mask >> k) & 1;
                json_object_set_new(vn, ids[k], json_boolean(yes));
                char pair[16];
                snprintf(pair, sizeof(pair), "%s %s", ids[k], yes ? "DUNG" : "SAI");
                json_array_append_new(qti, json_string(pair));
            }
            json_array_append_new(out, json_pack("[o,o]", vn, qti));
        }
    } else if (strcmp(kind, "SHORT") == 0) {
        const char *key = json_string_value(json_object_get(it, "key"));
        char *end;
        double k = strtod(key, &end);
        if (*end == '\0') { /* numeric: the key, off by a lot, and the decimal comma form */
            char a[64], b[64];
            snprintf(a, sizeof(a), "%.10g", k + 1000);
            json_array_append_new(out, json_pack("[s,s]", key, key));
            json_array_append_new(out, json_pack("[s,s]", a, a));
            snprintf(b, sizeof(b), "%.10g", k + 0.5);
            json_t *comma = json_string(b);
            char *dot = strchr(b, '.');
            if (dot)
                *dot = ',';
            json_array_append_new(out, json_pack("[s,o]", b, comma));
        } else {
            json_array_append_new(out, json_pack("[s,s]", key, key));
            json_array_append_new(out, json_pack("[s,s]", "zzqx sai", "zzqx sai"));
        }
    }
    return out;
}

static void
check_version(const char *version)
{
    json_t *items = demo_items();
    size_t i, compared = 0;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        const char *kind = json_string_value(json_object_get(it, "kind"));
        if (strcmp(kind, "ESSAY") == 0)
            continue;
        kt_qti_errors errs;
        kt_qti_errors_init(&errs);
        char *xml = kt_qti_from_item(it, version, &errs);
        cr_assert(xml, "%s: export %s", json_string_value(json_object_get(it, "identifier")),
                  errs.n ? errs.v[0].message : "?");
        kt_qti_errors_free(&errs);
        json_t *content, *scoring;
        kt_item_split(it, &content, &scoring);
        json_t *answers = answers_for(it);
        size_t k;
        json_t *pair;
        json_array_foreach(answers, k, pair)
        {
            char err[300] = "";
            json_t *vr = json_pack("{s:O}", "RESPONSE", json_array_get(pair, 0));
            json_t *qr = json_pack("{s:O}", "RESPONSE", json_array_get(pair, 1));
            json_t *a = kt_item_score(kind, scoring, NULL, vr, 0, err, sizeof(err));
            cr_assert(a, "%s vn: %s", json_string_value(json_object_get(it, "identifier")), err);
            json_t *b = kt_item_score("QTI", NULL, xml, qr, 0, err, sizeof(err));
            cr_assert(b, "%s qti %s: %s", json_string_value(json_object_get(it, "identifier")),
                      version, err);
            char *ans = json_dumps(pair, JSON_COMPACT);
            cr_assert(fabs(score_of(a) - score_of(b)) < 1e-6, "%s %s answer %s: vn %g, qti %g",
                      json_string_value(json_object_get(it, "identifier")), version, ans,
                      score_of(a), score_of(b));
            free(ans);
            compared++;
            json_decref(a);
            json_decref(b);
            json_decref(vr);
            json_decref(qr);
        }
        json_decref(answers);
        json_decref(content);
        json_decref(scoring);
        free(xml);
    }
    /* 28 MCQ4 x 5, 4 MR items with their options, 12 TF4 x 16, 12 SHORT x 2 or 3. */
    cr_assert_geq(compared, 28 * 5 + 12 * 16 + 12 * 2, "only %zu answers compared", compared);
    json_decref(items);
}

Test(item_score, vietnamese_rules_equal_qti22_export)
{
    check_version("2.2");
}

Test(item_score, vietnamese_rules_equal_qti30_export)
{
    check_version("3.0");
}

Test(item_score, essay_is_manual_and_errors_are_explained)
{
    char err[300] = "";
    json_t *scoring = json_pack("{s:[{s:s,s:s}]}", "rubric", "criterion", "Lập luận", "points",
                                "2");
    json_t *essay = json_pack("{s:s}", "RESPONSE", "bài làm");
    json_t *r = kt_item_score("ESSAY", scoring, NULL, essay, 0, err, sizeof(err));
    json_decref(essay);
    cr_assert(r, "%s", err);
    cr_assert(json_is_true(json_object_get(r, "manual")));
    cr_assert(json_is_null(json_object_get(json_object_get(r, "outcomes"), "SCORE")));
    json_decref(r);
    json_decref(scoring);
    json_t *resp = json_pack("{s:s}", "RESPONSE", "A");
    cr_assert_null(kt_item_score("QTI", NULL, "<not-xml", resp, 0, err, sizeof(err)));
    cr_assert(strstr(err, "Không chấm được"), "%s", err);
    json_t *arr = json_pack("[s]", "A");
    cr_assert_null(kt_item_score("QTI", NULL, "<x/>", arr, 0, err, sizeof(err)));
    cr_assert(strstr(err, "responses"), "%s", err);
    json_decref(arr);
    json_decref(resp);
}

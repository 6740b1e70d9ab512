/*
 * One item scored from a set of responses: the Vietnamese formats by their
 * exact rules, QTI items by their compiled response processing in a fresh
 * item session. Every outcome the item declares is returned.
 */
#include "score.h"

#include <stdio.h>
#include <string.h>

#include "maxscore.h"
#include "rp_compile.h"
#include "vnscore.h"

#define MAX_VALUES 64

static json_t *
scalar_json(const kt_qv_scalar *s)
{
    char buf[256];
    kt_qv_format_scalar(s, buf, sizeof(buf));
    return json_string(buf);
}

static json_t *
value_json(const kt_qv *v)
{
    if (kt_qv_is_null(v))
        return json_null();
    if (v->card == KT_QV_SINGLE)
        return scalar_json(&v->one);
    if (v->card == KT_QV_RECORD) {
        json_t *o = json_object();
        for (size_t i = 0; i < v->n; i++)
            json_object_set_new(o, v->fields[i], scalar_json(&v->items[i]));
        return o;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < v->n; i++)
        json_array_append_new(a, scalar_json(&v->items[i]));
    return a;
}

/* The QTI string forms of one JSON response value; 0, or -1 when it has a
 * shape no QTI value has. */
static int
strings_of(const json_t *v, const char **strs, char (*nums)[32], size_t *n)
{
    *n = 0;
    if (!v || json_is_null(v))
        return 0;
    size_t count = json_is_array(v) ? json_array_size(v) : 1;
    if (count > MAX_VALUES)
        return -1;
    for (size_t i = 0; i < count; i++) {
        const json_t *x = json_is_array(v) ? json_array_get(v, i) : v;
        if (json_is_string(x)) {
            strs[(*n)++] = json_string_value(x);
        } else if (json_is_boolean(x)) {
            strs[(*n)++] = json_is_true(x) ? "true" : "false";
        } else if (json_is_integer(x)) {
            snprintf(nums[i], 32, "%lld", (long long)json_integer_value(x));
            strs[(*n)++] = nums[i];
        } else if (json_is_real(x)) {
            kt_qv_format_double(json_real_value(x), nums[i], 32);
            strs[(*n)++] = nums[i];
        } else {
            return -1;
        }
    }
    return 0;
}

static json_t *
score_qti(const char *xml, const json_t *responses, uint64_t seed, char *err, size_t errsize)
{
    kt_qti_errors errs;
    kt_qti_errors_init(&errs);
    kt_rp_item *it = xml ? kt_rp_compile(xml, strlen(xml), "item.xml", &errs, NULL) : NULL;
    if (!it) {
        snprintf(err, errsize, "Không chấm được câu hỏi này: %s",
                 errs.n ? errs.v[0].message : "thiếu tài liệu QTI");
        kt_qti_errors_free(&errs);
        return NULL;
    }
    kt_qti_errors_free(&errs);
    kt_rp_session s;
    json_t *out = NULL;
    if (kt_rp_session_init(&s, it, seed) < 0) {
        snprintf(err, errsize, "Xử lý mẫu câu hỏi thất bại: %s", s.error);
        goto done;
    }
    const char *id;
    json_t *v;
    json_object_foreach((json_t *)responses, id, v)
    {
        const char *strs[MAX_VALUES];
        char nums[MAX_VALUES][32];
        size_t n;
        if (strings_of(v, strs, nums, &n) < 0) {
            snprintf(err, errsize, "Câu trả lời %s không đúng dạng.", id);
            goto done;
        }
        if (kt_rp_session_set_response(&s, id, strs, n) < 0) {
            snprintf(err, errsize, "Câu trả lời %s: %s", id, s.error);
            goto done;
        }
    }
    if (kt_rp_session_attempt(&s) < 0) {
        snprintf(err, errsize, "Chấm điểm dừng lại: %s", s.error);
        goto done;
    }
    json_t *outcomes = json_object();
    for (size_t i = 0; i < it->ndecls; i++) {
        const kt_rp_decl *d = &it->decls[i];
        if (d->kind == KT_RP_OUTCOME)
            json_object_set_new(outcomes, d->identifier,
                                value_json(kt_rp_session_get(&s, d->identifier)));
    }
    out = json_pack("{s:o,s:o}", "outcomes", outcomes, "max_score", kt_item_max_json(it));
done:
    kt_rp_session_free(&s);
    kt_rp_item_free(it);
    return out;
}

static json_t *
score_vn(const char *kind, const json_t *scoring, const json_t *responses, char *err,
         size_t errsize)
{
    kt_vn_scoring sc;
    kt_vn_result res;
    if (kt_vn_scoring_from_json(kind, scoring, &sc, err, errsize) < 0 ||
        kt_vn_score(&sc, json_object_get(responses, "RESPONSE"), kt_decimal_from_int(1), &res, err,
                    errsize) < 0)
        return NULL;
    if (res.status == KT_VN_MANUAL)
        return json_pack("{s:{s:n,s:s},s:b}", "outcomes", "SCORE", "MAXSCORE", "1", "manual", 1);
    char frac[32];
    kt_decimal_format(res.fraction, '.', frac, sizeof(frac));
    return json_pack("{s:{s:s,s:s}}", "outcomes", "SCORE", frac, "MAXSCORE", "1");
}

json_t *
kt_item_score(const char *kind, const json_t *scoring, const char *qti_xml,
              const json_t *responses, uint64_t seed, char *err, size_t errsize)
{
    if (!json_is_object(responses)) {
        snprintf(err, errsize, "responses phải là một đối tượng {MÃ_CÂU_TRẢ_LỜI: giá trị}.");
        return NULL;
    }
    if (kind && strcmp(kind, "QTI") == 0)
        return score_qti(qti_xml, responses, seed, err, errsize);
    return score_vn(kind, scoring, responses, err, errsize);
}

/*
 * The Vietnamese formats scored with exact decimals (vnscore.h): reading
 * the scoring JSON that itembank/item.c validates and normalises, and the
 * rule of each format. SHORT text answers compare after NFC, trimming,
 * collapsing white space and Unicode case folding; diacritics count.
 */
#include "vnscore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "text.h"

static int
fail(char *err, size_t errsize, const char *msg)
{
    if (errsize)
        snprintf(err, errsize, "%s", msg);
    return -1;
}

/* A decimal from a JSON string ("0.25", "0,25") or number. */
static int
json_decimal(const json_t *v, kt_decimal *out)
{
    if (json_is_string(v))
        return kt_decimal_parse(json_string_value(v), out);
    if (json_is_integer(v)) {
        *out = kt_decimal_from_int((int64_t)json_integer_value(v));
        return 0;
    }
    if (json_is_real(v))
        return kt_decimal_from_double(json_real_value(v), out);
    return -1;
}

static bool
is_letter(const char *s)
{
    return s && strlen(s) == 1 && s[0] >= 'A' && s[0] <= 'H';
}

static int
read_tf4(const json_t *scoring, kt_vn_scoring *out, char *err, size_t errsize)
{
    const json_t *keys = json_object_get(scoring, "statement_keys");
    const json_t *st = json_object_get(scoring, "statements");
    for (int i = 0; i < 4; i++) {
        char id[2] = {(char)('a' + i), 0};
        const json_t *k = json_object_get(keys, id);
        if (!k)
            k = json_object_get(json_array_get(st, (size_t)i), "key");
        if (!json_is_boolean(k))
            return fail(err, errsize, "Thiếu đáp án Đúng/Sai của một ý (a, b, c, d).");
        out->statement_keys[i] = json_is_true(k);
    }
    static const char *const DEFAULT_TABLE[] = {"0", "0.1", "0.25", "0.5", "1"};
    const json_t *t = json_object_get(scoring, "score_table");
    if (t && (!json_is_array(t) || json_array_size(t) != 5))
        return fail(err, errsize, "Bảng điểm phải có đúng 5 giá trị (0 đến 4 ý đúng).");
    for (size_t i = 0; i < 5; i++) {
        int rc = t ? json_decimal(json_array_get(t, i), &out->score_table[i])
                   : kt_decimal_parse(DEFAULT_TABLE[i], &out->score_table[i]);
        if (rc < 0)
            return fail(err, errsize, "Giá trị trong bảng điểm không phải số thập phân.");
    }
    return 0;
}

static int
read_short(const json_t *scoring, kt_vn_scoring *out, char *err, size_t errsize)
{
    const json_t *key = json_object_get(scoring, "key");
    const char *type = json_string_value(json_object_get(scoring, "answer_type"));
    kt_decimal k;
    bool parses = json_decimal(key, &k) == 0;
    out->numeric = type ? strcmp(type, "numeric") == 0 : parses;
    if (out->numeric) {
        if (!parses)
            return fail(err, errsize, "Đáp án số không phải số thập phân.");
        out->key_number = k;
        const json_t *tol = json_object_get(scoring, "tolerance");
        if (tol && (json_decimal(tol, &out->tolerance) < 0 || out->tolerance.units < 0))
            return fail(err, errsize, "Sai số phải là số thập phân không âm.");
        return 0;
    }
    if (!json_is_string(key))
        return fail(err, errsize, "Thiếu đáp án dạng chữ.");
    out->key_text = json_string_value(key);
    return 0;
}

int
kt_vn_scoring_from_json(const char *kind, const json_t *scoring, kt_vn_scoring *out, char *err,
                        size_t errsize)
{
    memset(out, 0, sizeof *out);
    if (!kind || !json_is_object(scoring))
        return fail(err, errsize, "Thiếu loại câu hỏi hoặc phần chấm điểm.");
    if (strcmp(kind, "MCQ4") == 0) {
        const char *k = json_string_value(json_object_get(scoring, "key"));
        if (!k || strlen(k) != 1 || k[0] < 'A' || k[0] > 'D')
            return fail(err, errsize, "Đáp án phải là một trong A, B, C, D.");
        out->kind = KT_VN_MCQ4;
        out->key = k[0];
        return 0;
    }
    if (strcmp(kind, "MR") == 0) {
        const json_t *keys = json_object_get(scoring, "keys");
        size_t i, n = 0;
        const json_t *k;
        out->kind = KT_VN_MR;
        if (!json_is_array(keys) || json_array_size(keys) == 0 || json_array_size(keys) > 8)
            return fail(err, errsize, "Phải có từ 1 đến 8 phương án đúng.");
        json_array_foreach(keys, i, k)
        {
            const char *s = json_string_value(k);
            if (!is_letter(s) || strchr(out->keys, s[0]))
                return fail(err, errsize, "Mã phương án đúng không hợp lệ hoặc bị trùng.");
            out->keys[n++] = s[0];
        }
        const char *mode = json_string_value(json_object_get(scoring, "scoring_mode"));
        out->per_option = mode && strcmp(mode, "per_option") == 0;
        return 0;
    }
    if (strcmp(kind, "TF4") == 0) {
        out->kind = KT_VN_TF4;
        return read_tf4(scoring, out, err, errsize);
    }
    if (strcmp(kind, "SHORT") == 0) {
        out->kind = KT_VN_SHORT;
        return read_short(scoring, out, err, errsize);
    }
    if (strcmp(kind, "ESSAY") == 0) {
        out->kind = KT_VN_ESSAY;
        return 0;
    }
    return fail(err, errsize, "Loại câu hỏi không được hỗ trợ.");
}

/* ---- scoring ------------------------------------------------------------------- */

/* NFC, trimmed, collapsed and case-folded; malloc'd, NULL when not UTF-8. */
static char *
normalise_text(const char *s)
{
    char *clean = kt_text_clean(s, strlen(s));
    utf8proc_uint8_t *folded = NULL;
    if (!clean)
        return NULL;
    if (utf8proc_map((const utf8proc_uint8_t *)clean, 0, &folded,
                     UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD) <
        0) {
        free(folded);
        folded = NULL;
    }
    free(clean);
    return (char *)folded;
}

static int
score_short(const kt_vn_scoring *s, const json_t *response, bool *right, char *err,
            size_t errsize)
{
    if (s->numeric) {
        kt_decimal a;
        if (!json_is_string(response) && !json_is_number(response))
            return fail(err, errsize, "Câu trả lời ngắn phải là chuỗi hoặc số.");
        if (json_decimal(response, &a) < 0) {
            *right = false; /* not a number: wrong, not an error */
            return 0;
        }
        kt_decimal diff = kt_decimal_sub(a, s->key_number);
        if (diff.units < 0)
            diff.units = -diff.units;
        *right = kt_decimal_cmp(diff, s->tolerance) <= 0;
        return 0;
    }
    if (!json_is_string(response))
        return fail(err, errsize, "Câu trả lời ngắn phải là chuỗi.");
    char *a = normalise_text(json_string_value(response)), *k = normalise_text(s->key_text);
    *right = a && k && strcmp(a, k) == 0;
    free(a);
    free(k);
    return 0;
}

static int
score_mr(const kt_vn_scoring *s, const json_t *response, kt_decimal *fraction, int *right,
         char *err, size_t errsize)
{
    char chosen[9] = "";
    size_t i, n = 0, nkeys = strlen(s->keys);
    const json_t *v;
    int wrong = 0;
    if (!json_is_array(response))
        return fail(err, errsize, "Câu nhiều đáp án phải là danh sách phương án.");
    json_array_foreach(response, i, v)
    {
        const char *c = json_string_value(v);
        if (!is_letter(c))
            return fail(err, errsize, "Phương án chọn không hợp lệ.");
        if (strchr(chosen, c[0]))
            continue; /* a repeated choice counts once */
        chosen[n++] = c[0];
        if (strchr(s->keys, c[0]))
            (*right)++;
        else
            wrong++;
    }
    if (!s->per_option) {
        *fraction = kt_decimal_from_int((size_t)*right == nkeys && wrong == 0);
        return 0;
    }
    /* Each right option earns 1/k of the item, each wrong one takes 1/k back, never below 0. */
    int net = *right - wrong;
    *fraction = kt_decimal_mul_ratio(kt_decimal_from_int(1), net > 0 ? net : 0, (int64_t)nkeys);
    return 0;
}

static int
score_tf4(const kt_vn_scoring *s, const json_t *response, int *right, char *err, size_t errsize)
{
    for (int i = 0; i < 4; i++) {
        char id[2] = {(char)('a' + i), 0};
        const json_t *v = json_is_object(response)  ? json_object_get(response, id)
                          : json_is_array(response) ? json_array_get(response, (size_t)i)
                                                    : NULL;
        if (!json_is_object(response) && !json_is_array(response))
            return fail(err, errsize, "Câu Đúng/Sai phải là {\"a\":true,...} hoặc danh sách 4 ý.");
        if (v && !json_is_boolean(v) && !json_is_null(v))
            return fail(err, errsize, "Mỗi ý Đúng/Sai phải là true, false hoặc null.");
        if (json_is_boolean(v) && json_is_true(v) == s->statement_keys[i])
            (*right)++;
    }
    return 0;
}

int
kt_vn_score(const kt_vn_scoring *s, const json_t *response, kt_decimal item_points,
            kt_vn_result *out, char *err, size_t errsize)
{
    bool ok = false;
    memset(out, 0, sizeof *out);
    if (errsize)
        err[0] = '\0';
    if (s->kind == KT_VN_ESSAY) {
        out->status = KT_VN_MANUAL;
        return 0;
    }
    if (!response || json_is_null(response))
        return 0; /* no answer */
    switch (s->kind) {
    case KT_VN_MCQ4: {
        const char *a = json_string_value(response);
        if (!a)
            return fail(err, errsize, "Câu trắc nghiệm phải là một mã phương án.");
        ok = strlen(a) == 1 && a[0] == s->key;
        out->right = ok;
        out->fraction = kt_decimal_from_int(ok);
        break;
    }
    case KT_VN_MR:
        if (score_mr(s, response, &out->fraction, &out->right, err, errsize) < 0)
            return -1;
        break;
    case KT_VN_TF4:
        if (score_tf4(s, response, &out->right, err, errsize) < 0)
            return -1;
        out->fraction = s->score_table[out->right];
        break;
    case KT_VN_SHORT:
        if (score_short(s, response, &ok, err, errsize) < 0)
            return -1;
        out->right = ok;
        out->fraction = kt_decimal_from_int(ok);
        break;
    case KT_VN_ESSAY:
        break;
    }
    out->points = kt_decimal_round(kt_decimal_mul(out->fraction, item_points), 2);
    return 0;
}

/*
 * Items of the Vietnamese formats: validation (every problem, with its field
 * path and a Vietnamese message), normalisation, the content/scoring split
 * used by the demo loader and the items API, tags and the folded search text
 * (HTML and MathML tags stripped, diacritics removed). No I/O.
 */
#include "item.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "html.h"
#include "text.h"

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */

static void
problem(json_t *problems, const char *field, const char *message)
{
    json_array_append_new(problems, json_pack("{s:s,s:s}", "field", field, "message", message));
}

static void
path_idx(char *out, size_t n, const char *arr, size_t i, const char *field)
{
    if (field)
        snprintf(out, n, "%s[%zu].%s", arr, i, field);
    else
        snprintf(out, n, "%s[%zu]", arr, i);
}

/* A string field: type, presence, size, UTF-8 and NFC. Returns the string
 * when it is usable, NULL otherwise (a problem was reported when required or
 * malformed). */
static const char *
check_text(json_t *problems, const char *path, const json_t *v, int required, size_t max)
{
    if (!v || json_is_null(v)) {
        if (required)
            problem(problems, path, "Bắt buộc phải có.");
        return NULL;
    }
    if (!json_is_string(v)) {
        problem(problems, path, "Phải là chuỗi ký tự.");
        return NULL;
    }
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (required && len == 0) {
        problem(problems, path, "Không được để trống.");
        return NULL;
    }
    if (len > max) {
        char msg[160];
        snprintf(msg, sizeof(msg), "Quá dài (%zu byte, tối đa %zu byte).", len, max);
        problem(problems, path, msg);
        return NULL;
    }
    if (!kt_utf8_valid(s, len)) {
        problem(problems, path, "Không phải văn bản UTF-8 hợp lệ.");
        return NULL;
    }
    char *nfc = kt_nfc(s, len);
    int same = nfc && strcmp(nfc, s) == 0;
    free(nfc);
    if (!same) {
        problem(problems, path, "Văn bản chưa ở dạng chuẩn Unicode NFC (dấu tiếng Việt tổ hợp).");
        return NULL;
    }
    return s;
}

/* A teacher-written HTML field: check_text, then the allow-list of html.c. */
static void
check_html(json_t *problems, const char *path, const json_t *v, int required)
{
    const char *s = check_text(problems, path, v, required, KT_ITEM_HTML_MAX);
    if (s)
        free(kt_html_clean(s, path, problems));
}

static int
matches_identifier(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 100 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-' || s[i] == '.'))
            return 0;
    return 1;
}

int
kt_item_code_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64 || !(s[0] >= 'A' && s[0] <= 'Z'))
        return 0;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (s[i - 1] == '.' || i + 1 == n)
                return 0;
        } else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
            return 0;
        }
    }
    return 1;
}

/* Decimal syntax: optional '-', digits, optional '.' or ',' and digits. */
static int
is_decimal(const char *s, int allow_sign, int allow_comma)
{
    if (!s || strlen(s) > 30)
        return 0;
    if (allow_sign && *s == '-')
        s++;
    size_t d = strspn(s, "0123456789");
    if (d == 0)
        return 0;
    s += d;
    if (*s == '.' || (allow_comma && *s == ',')) {
        s++;
        d = strspn(s, "0123456789");
        if (d == 0)
            return 0;
        s += d;
    }
    return *s == '\0';
}

/* A non-negative decimal string as a number (for ordering checks only). */
static double
decimal_value(const char *s)
{
    return strtod(s, NULL);
}

static int
is_zero_decimal(const char *s)
{
    for (; *s; s++)
        if (*s != '0' && *s != '.')
            return 0;
    return 1;
}

/* Reports fields of obj that are not in allowed (NULL-terminated). */
static void
unknown_fields(json_t *problems, const char *prefix, const json_t *obj, const char *const *allowed)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, k) == 0)
                ok = 1;
        if (!ok) {
            char path[300];
            if (prefix)
                snprintf(path, sizeof(path), "%s.%.200s", prefix, k);
            else
                snprintf(path, sizeof(path), "%.200s", k);
            problem(problems, path, "Trường không được hỗ trợ cho loại câu hỏi này.");
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Normalisation                                                            */

static void
nfc_all(json_t *v)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        if (!kt_utf8_valid(s, len))
            return;
        char *n = kt_nfc(s, len);
        if (n && strcmp(n, s) != 0)
            json_string_set(v, n);
        free(n);
    } else if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) nfc_all(x);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) nfc_all(x);
    }
}

/* "2,5" -> "2.5" when s is a decimal with a comma; integers to strings. */
static void
decimal_dot(json_t *obj, const char *key, int allow_sign)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_integer(v)) {
        char buf[32];
        snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
        json_object_set_new(obj, key, json_string(buf));
        return;
    }
    if (!json_is_string(v))
        return;
    char buf[40];
    snprintf(buf, sizeof(buf), "%s", json_string_value(v));
    char *t = buf;
    while (*t == ' ')
        t++;
    size_t n = strlen(t);
    while (n && t[n - 1] == ' ')
        t[--n] = '\0';
    if (!is_decimal(t, allow_sign, 1))
        return;
    char *c = strchr(t, ',');
    if (c)
        *c = '.';
    json_object_set_new(obj, key, json_string(t));
}

/* obj[key] in the canonical form of kt_html_clean; what the allow-list
 * refuses is left as it is, for kt_item_validate to report. */
static void
clean_html(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (!s || len > KT_ITEM_HTML_MAX || strlen(s) != len || !kt_utf8_valid(s, len))
        return;
    char *c = kt_html_clean(s, NULL, NULL);
    if (c && strcmp(c, s) != 0)
        json_string_set(v, c);
    free(c);
}

/* The teacher-written HTML: these fields, and "html" in each element of these lists. */
static const char *const html_fields[] = {"stem", "explanation", "model_answer"};
static const char *const html_lists[] = {"options", "statements"};

json_t *
kt_item_html_problems(const json_t *item)
{
    json_t *problems = json_array();
    for (size_t i = 0; i < sizeof html_fields / sizeof html_fields[0]; i++) {
        const char *s = json_string_value(json_object_get(item, html_fields[i]));
        if (s)
            free(kt_html_clean(s, html_fields[i], problems));
    }
    for (size_t i = 0; i < sizeof html_lists / sizeof html_lists[0]; i++) {
        size_t k;
        json_t *o;
        json_array_foreach(json_object_get(item, html_lists[i]), k, o)
        {
            const char *s = json_string_value(json_object_get(o, "html"));
            char path[64];
            path_idx(path, sizeof(path), html_lists[i], k, "html");
            if (s)
                free(kt_html_clean(s, path, problems));
        }
    }
    return problems;
}

void
kt_item_normalize(json_t *item)
{
    if (!json_is_object(item))
        return;
    nfc_all(item);
    for (size_t i = 0; i < sizeof html_fields / sizeof html_fields[0]; i++)
        clean_html(item, html_fields[i]);
    for (size_t i = 0; i < sizeof html_lists / sizeof html_lists[0]; i++) {
        size_t k;
        json_t *o;
        json_array_foreach(json_object_get(item, html_lists[i]), k, o) clean_html(o, "html");
    }
    const char *kind = json_string_value(json_object_get(item, "kind"));
    if (!kind)
        return;
    if (strcmp(kind, "SHORT") == 0) {
        const char *type = json_string_value(json_object_get(item, "answer_type"));
        if (!type || strcmp(type, "numeric") == 0)
            decimal_dot(item, "key", 1);
        decimal_dot(item, "tolerance", 0);
        if (type && strcmp(type, "text") == 0) {
            json_t *k = json_object_get(item, "key");
            if (json_is_string(k) && kt_utf8_valid(json_string_value(k), json_string_length(k))) {
                char *clean = kt_text_clean(json_string_value(k), json_string_length(k));
                if (clean)
                    json_string_set(k, clean);
                free(clean);
            }
        }
    } else if (strcmp(kind, "ESSAY") == 0) {
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(item, "rubric"), i, r)
            if (json_is_object(r))
                decimal_dot(r, "points", 0);
    } else if (strcmp(kind, "TF4") == 0) {
        json_t *t = json_object_get(item, "score_table");
        size_t i;
        json_t *e;
        json_array_foreach(t, i, e)
        {
            if (!json_is_string(e))
                continue;
            char buf[40];
            snprintf(buf, sizeof(buf), "%s", json_string_value(e));
            char *c = strchr(buf, ',');
            if (c && is_decimal(buf, 0, 1)) {
                *c = '.';
                json_string_set(e, buf);
            }
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Validation                                                               */

static const char *const common_fields[] = {"identifier", "kind",        "subject", "grade",
                                            "title",      "level",       "outcome", "competencies",
                                            "tags",       "explanation", "stem"};
#define NCOMMON (sizeof(common_fields) / sizeof(common_fields[0]))

static void
check_allowed(json_t *problems, const json_t *item, const char *const *extra)
{
    const char *allowed[NCOMMON + 8];
    size_t n = 0;
    for (size_t i = 0; i < NCOMMON; i++)
        allowed[n++] = common_fields[i];
    for (; *extra && n < NCOMMON + 7; extra++)
        allowed[n++] = *extra;
    allowed[n] = NULL;
    unknown_fields(problems, NULL, item, allowed);
}

/* Options of MCQ4 (exact ids A-D) or MR (2-8 distinct ids A-H). Fills ids
 * (NUL-terminated letters) with the valid ids seen. */
static void
check_options(json_t *problems, const json_t *opts, int mcq, char ids[9])
{
    static const char *const opt_fields[] = {"id", "html", "fixed", NULL};
    ids[0] = '\0';
    if (!json_is_array(opts)) {
        problem(problems, "options",
                opts ? "Phải là một danh sách phương án." : "Bắt buộc phải có danh sách phương án.");
        return;
    }
    size_t n = json_array_size(opts);
    if (mcq && n != 4)
        problem(problems, "options", "Câu trắc nghiệm 4 lựa chọn phải có đúng 4 phương án A, B, C, D.");
    if (!mcq && (n < 2 || n > 8))
        problem(problems, "options", "Câu nhiều lựa chọn phải có từ 2 đến 8 phương án.");
    size_t i;
    json_t *o;
    size_t nid = 0;
    json_array_foreach(opts, i, o)
    {
        char path[64];
        if (i >= 8)
            break;
        if (!json_is_object(o)) {
            path_idx(path, sizeof(path), "options", i, NULL);
            problem(problems, path, "Mỗi phương án phải là một đối tượng {id, html}.");
            continue;
        }
        path_idx(path, sizeof(path), "options", i, NULL);
        unknown_fields(problems, path, o, opt_fields);
        path_idx(path, sizeof(path), "options", i, "id");
        const char *id = check_text(problems, path, json_object_get(o, "id"), 1, 8);
        if (id) {
            if (mcq && (i >= 4 || strlen(id) != 1 || id[0] != (char)('A' + i))) {
                char msg[96];
                snprintf(msg, sizeof(msg), "Mã phương án thứ %zu phải là \"%c\".", i + 1,
                         (char)('A' + (i < 4 ? i : 3)));
                problem(problems, path, i < 4 ? msg : "Chỉ có 4 phương án A, B, C, D.");
            } else if (!mcq && (strlen(id) != 1 || id[0] < 'A' || id[0] > 'H')) {
                problem(problems, path, "Mã phương án phải là một chữ cái in hoa từ A đến H.");
            } else if (strchr(ids, id[0])) {
                problem(problems, path, "Mã phương án bị trùng.");
            } else {
                ids[nid++] = id[0];
                ids[nid] = '\0';
            }
        }
        path_idx(path, sizeof(path), "options", i, "html");
        check_html(problems, path, json_object_get(o, "html"), 1);
        json_t *fixed = json_object_get(o, "fixed");
        if (fixed && !json_is_boolean(fixed)) {
            path_idx(path, sizeof(path), "options", i, "fixed");
            problem(problems, path, "Phải là true hoặc false.");
        }
    }
}

static void
check_mcq4(json_t *problems, const json_t *item)
{
    static const char *const extra[] = {"options", "key", NULL};
    check_allowed(problems, item, extra);
    char ids[9];
    check_options(problems, json_object_get(item, "options"), 1, ids);
    const char *key = check_text(problems, "key", json_object_get(item, "key"), 1, 8);
    if (key && (strlen(key) != 1 || key[0] < 'A' || key[0] > 'D'))
        problem(problems, "key", "Đáp án phải là một trong A, B, C, D.");
}

static void
check_mr(json_t *problems, const json_t *item)
{
    static const char *const extra[] = {"options", "keys", "scoring_mode", NULL};
    check_allowed(problems, item, extra);
    char ids[9];
    check_options(problems, json_object_get(item, "options"), 0, ids);
    const json_t *keys = json_object_get(item, "keys");
    if (!json_is_array(keys) || json_array_size(keys) == 0) {
        problem(problems, "keys", "Phải là danh sách không rỗng các mã phương án đúng.");
    } else {
        char seen[9] = "";
        size_t i, ns = 0;
        json_t *k;
        json_array_foreach(keys, i, k)
        {
            char path[32];
            path_idx(path, sizeof(path), "keys", i, NULL);
            const char *s = json_string_value(k);
            if (!s || strlen(s) != 1 || !strchr(ids, s[0]) || s[0] == '\0')
                problem(problems, path, "Không phải mã của một phương án.");
            else if (strchr(seen, s[0]))
                problem(problems, path, "Đáp án bị trùng.");
            else if (ns < 8) {
                seen[ns++] = s[0];
                seen[ns] = '\0';
            }
        }
    }
    const json_t *mode = json_object_get(item, "scoring_mode");
    if (mode) {
        const char *m = json_string_value(mode);
        if (!m || (strcmp(m, "all_or_nothing") != 0 && strcmp(m, "per_option") != 0))
            problem(problems, "scoring_mode",
                    "Cách chấm phải là \"all_or_nothing\" (đúng hết mới có điểm) hoặc"
                    " \"per_option\" (điểm theo từng phương án).");
    }
}

static void
check_tf4(json_t *problems, const json_t *item)
{
    static const char *const extra[] = {"statements", "score_table", NULL};
    static const char *const st_fields[] = {"id", "html", "key", NULL};
    check_allowed(problems, item, extra);
    const json_t *st = json_object_get(item, "statements");
    if (!json_is_array(st) || json_array_size(st) != 4) {
        problem(problems, "statements",
                "Câu đúng/sai phải có đúng 4 ý a, b, c, d, mỗi ý có đáp án true/false.");
    }
    if (json_is_array(st)) {
        size_t i;
        json_t *s;
        json_array_foreach(st, i, s)
        {
            char path[64];
            if (i >= 4)
                break;
            path_idx(path, sizeof(path), "statements", i, NULL);
            if (!json_is_object(s)) {
                problem(problems, path, "Mỗi ý phải là một đối tượng {id, html, key}.");
                continue;
            }
            unknown_fields(problems, path, s, st_fields);
            path_idx(path, sizeof(path), "statements", i, "id");
            const char *id = check_text(problems, path, json_object_get(s, "id"), 1, 8);
            if (id && (strlen(id) != 1 || id[0] != (char)('a' + i))) {
                char msg[64];
                snprintf(msg, sizeof(msg), "Mã ý thứ %zu phải là \"%c\".", i + 1, (char)('a' + i));
                problem(problems, path, msg);
            }
            path_idx(path, sizeof(path), "statements", i, "html");
            check_html(problems, path, json_object_get(s, "html"), 1);
            path_idx(path, sizeof(path), "statements", i, "key");
            if (!json_is_boolean(json_object_get(s, "key")))
                problem(problems, path, "Đáp án của ý phải là true (Đúng) hoặc false (Sai).");
        }
    }
    const json_t *t = json_object_get(item, "score_table");
    if (t) {
        if (!json_is_array(t) || json_array_size(t) != 5) {
            problem(problems, "score_table",
                    "Bảng điểm phải có đúng 5 giá trị (0, 1, 2, 3, 4 ý đúng), ví dụ"
                    " [\"0\",\"0.1\",\"0.25\",\"0.5\",\"1\"].");
        } else {
            double prev = -1;
            for (size_t i = 0; i < 5; i++) {
                char path[32];
                path_idx(path, sizeof(path), "score_table", i, NULL);
                const char *s = json_string_value(json_array_get(t, i));
                if (!s || !is_decimal(s, 0, 0)) {
                    problem(problems, path, "Phải là số thập phân không âm dạng chuỗi, ví dụ \"0.25\".");
                    prev = 1e300;
                    continue;
                }
                double v = decimal_value(s);
                if (prev > v && prev < 1e300)
                    problem(problems, path, "Điểm không được giảm khi số ý đúng tăng.");
                prev = v;
            }
        }
    }
}

static void
check_short(json_t *problems, const json_t *item)
{
    static const char *const extra[] = {"key", "tolerance", "answer_type", NULL};
    check_allowed(problems, item, extra);
    const json_t *type = json_object_get(item, "answer_type");
    const char *ts = json_string_value(type);
    if (type && (!ts || (strcmp(ts, "numeric") != 0 && strcmp(ts, "text") != 0))) {
        problem(problems, "answer_type", "Phải là \"numeric\" (số) hoặc \"text\" (chữ).");
        ts = NULL;
    }
    const char *key = check_text(problems, "key", json_object_get(item, "key"), 1, 200);
    int numeric = ts ? strcmp(ts, "numeric") == 0 : (key ? is_decimal(key, 1, 0) : 1);
    if (key && numeric && !is_decimal(key, 1, 0))
        problem(problems, "key",
                "Đáp án số phải là số thập phân, ví dụ \"2.5\" hoặc \"-1,75\" (dấu phẩy được"
                " chấp nhận).");
    const json_t *tol = json_object_get(item, "tolerance");
    if (tol) {
        const char *t = json_string_value(tol);
        if (!numeric)
            problem(problems, "tolerance", "Sai số chỉ dùng cho đáp án số.");
        else if (!t || !is_decimal(t, 0, 0))
            problem(problems, "tolerance", "Sai số phải là số thập phân không âm dạng chuỗi, ví dụ \"0.01\".");
    }
}

static void
check_essay(json_t *problems, const json_t *item)
{
    static const char *const extra[] = {"rubric", "model_answer", NULL};
    static const char *const r_fields[] = {"criterion", "points", NULL};
    check_allowed(problems, item, extra);
    const json_t *rub = json_object_get(item, "rubric");
    if (!json_is_array(rub) || json_array_size(rub) == 0 || json_array_size(rub) > 50) {
        problem(problems, "rubric",
                "Câu tự luận phải có hướng dẫn chấm: danh sách từ 1 đến 50 tiêu chí"
                " {criterion, points}.");
    } else {
        size_t i;
        json_t *r;
        json_array_foreach(rub, i, r)
        {
            char path[64];
            path_idx(path, sizeof(path), "rubric", i, NULL);
            if (!json_is_object(r)) {
                problem(problems, path, "Mỗi tiêu chí phải là một đối tượng {criterion, points}.");
                continue;
            }
            unknown_fields(problems, path, r, r_fields);
            path_idx(path, sizeof(path), "rubric", i, "criterion");
            check_text(problems, path, json_object_get(r, "criterion"), 1, 4000);
            path_idx(path, sizeof(path), "rubric", i, "points");
            const char *p = json_string_value(json_object_get(r, "points"));
            if (!p || !is_decimal(p, 0, 0) || is_zero_decimal(p))
                problem(problems, path, "Điểm phải là số thập phân lớn hơn 0 dạng chuỗi, ví dụ \"0.5\".");
        }
    }
    check_html(problems, "model_answer", json_object_get(item, "model_answer"), 0);
}

void
kt_item_validate_tags(const json_t *tags, const char *field, json_t *problems)
{
    if (!tags)
        return;
    if (!json_is_array(tags)) {
        problem(problems, field, "Phải là danh sách mã phân loại.");
        return;
    }
    if (json_array_size(tags) > KT_ITEM_TAGS_MAX)
        problem(problems, field, "Quá nhiều nhãn (tối đa 50).");
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t)
    {
        char path[80];
        snprintf(path, sizeof(path), "%.40s[%zu]", field, i);
        if (!kt_item_code_valid(json_string_value(t)))
            problem(problems, path, "Không phải mã phân loại hợp lệ (ví dụ MD.B, NL.TOAN.GQVD).");
    }
}

json_t *
kt_item_validate(const json_t *item)
{
    json_t *problems = json_array();
    if (!json_is_object(item)) {
        problem(problems, "", "Câu hỏi phải là một đối tượng JSON.");
        return problems;
    }
    const char *id = check_text(problems, "identifier", json_object_get(item, "identifier"), 1, 100);
    if (id && !matches_identifier(id))
        problem(problems, "identifier",
                "Mã câu hỏi chỉ gồm chữ cái không dấu, chữ số, '_', '-', '.', bắt đầu bằng chữ"
                " cái, tối đa 100 ký tự.");
    const char *subj = check_text(problems, "subject", json_object_get(item, "subject"), 1, 16);
    if (subj && !kt_item_code_valid(subj))
        problem(problems, "subject", "Mã môn học phải viết in hoa không dấu, ví dụ TOAN, NV.");
    const json_t *g = json_object_get(item, "grade");
    if (!json_is_integer(g) || json_integer_value(g) < 1 || json_integer_value(g) > 12)
        problem(problems, "grade", "Khối lớp phải là số nguyên từ 1 đến 12.");
    check_text(problems, "title", json_object_get(item, "title"), 1, KT_ITEM_TITLE_MAX);
    check_html(problems, "stem", json_object_get(item, "stem"), 1);
    check_html(problems, "explanation", json_object_get(item, "explanation"), 0);
    static const char *const codes[] = {"level", "outcome"};
    for (size_t i = 0; i < 2; i++) {
        const json_t *v = json_object_get(item, codes[i]);
        if (v && !json_is_null(v) && !kt_item_code_valid(json_string_value(v)))
            problem(problems, codes[i], "Không phải mã phân loại hợp lệ (ví dụ MD.B).");
    }
    kt_item_validate_tags(json_object_get(item, "competencies"), "competencies", problems);
    kt_item_validate_tags(json_object_get(item, "tags"), "tags", problems);

    const char *kind = json_string_value(json_object_get(item, "kind"));
    if (!kind)
        problem(problems, "kind", "Bắt buộc phải có loại câu hỏi (MCQ4, MR, TF4, SHORT, ESSAY).");
    else if (strcmp(kind, "MCQ4") == 0)
        check_mcq4(problems, item);
    else if (strcmp(kind, "MR") == 0)
        check_mr(problems, item);
    else if (strcmp(kind, "TF4") == 0)
        check_tf4(problems, item);
    else if (strcmp(kind, "SHORT") == 0)
        check_short(problems, item);
    else if (strcmp(kind, "ESSAY") == 0)
        check_essay(problems, item);
    else
        problem(problems, "kind", "Loại câu hỏi phải là một trong MCQ4, MR, TF4, SHORT, ESSAY.");
    return problems;
}

/* ------------------------------------------------------------------------ */
/* Content and scoring                                                      */

static const char *const server_only[] = {"key",         "keys",        "tolerance",
                                          "rubric",      "model_answer", "explanation",
                                          "score_table", "scoring_mode", "answer_type"};
static const char *const meta_fields[] = {"identifier", "kind",    "subject",      "grade", "title",
                                          "level",      "outcome", "competencies", "tags"};

void
kt_item_split(const json_t *item, json_t **content, json_t **scoring)
{
    *content = json_deep_copy(item);
    *scoring = json_object();
    for (size_t i = 0; i < sizeof(meta_fields) / sizeof(meta_fields[0]); i++)
        json_object_del(*content, meta_fields[i]);
    for (size_t i = 0; i < sizeof(server_only) / sizeof(server_only[0]); i++) {
        json_t *v = json_object_get(*content, server_only[i]);
        if (v) {
            json_object_set(*scoring, server_only[i], v);
            json_object_del(*content, server_only[i]);
        }
    }
    json_t *st = json_object_get(*content, "statements");
    if (json_is_array(st)) {
        json_t *keys = json_object();
        size_t i;
        json_t *s;
        json_array_foreach(st, i, s)
        {
            const char *id = json_string_value(json_object_get(s, "id"));
            json_t *k = json_object_get(s, "key");
            if (id && k)
                json_object_set(keys, id, k);
            json_object_del(s, "key");
        }
        json_object_set_new(*scoring, "statement_keys", keys);
        /* The 2025 exam table: 1, 2, 3, 4 statements right -> 0.1, 0.25, 0.5, 1 of the item. */
        if (!json_object_get(*scoring, "score_table"))
            json_object_set_new(*scoring, "score_table",
                                json_pack("[s,s,s,s,s]", "0", "0.1", "0.25", "0.5", "1"));
    }
}

json_t *
kt_item_join(const json_t *meta, const json_t *content, const json_t *scoring)
{
    json_t *it = json_is_object(content) ? json_deep_copy(content) : json_object();
    static const char *const keep[] = {"identifier", "kind", "subject", "grade", "title"};
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        json_t *v = json_object_get(meta, keep[i]);
        if (v)
            json_object_set(it, keep[i], v);
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)scoring, k, v)
    {
        if (strcmp(k, "statement_keys") == 0 || json_object_get(it, k))
            continue;
        json_object_set(it, k, v);
    }
    json_t *sk = json_object_get(scoring, "statement_keys");
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(it, "statements"), i, s)
    {
        const char *id = json_string_value(json_object_get(s, "id"));
        json_t *key = id ? json_object_get(sk, id) : NULL;
        if (json_is_object(s) && key && !json_object_get(s, "key"))
            json_object_set(s, "key", key);
    }
    return it;
}

const char *
kt_item_format_code(const char *kind)
{
    if (kind && strcmp(kind, "TF4") == 0)
        return "DT.DS";
    if (kind && strcmp(kind, "SHORT") == 0)
        return "DT.TLN";
    if (kind && strcmp(kind, "ESSAY") == 0)
        return "DT.TL";
    return "DT.NLC";
}

static void
add_tag(json_t *tags, const json_t *v)
{
    const char *s = json_string_value(v);
    if (!s)
        return;
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t) if (strcmp(json_string_value(t), s) == 0) return;
    json_array_append_new(tags, json_string(s));
}

json_t *
kt_item_tags(const json_t *item)
{
    json_t *tags = json_array();
    add_tag(tags, json_object_get(item, "outcome"));
    add_tag(tags, json_object_get(item, "level"));
    json_t *fmt = json_string(kt_item_format_code(json_string_value(json_object_get(item, "kind"))));
    add_tag(tags, fmt);
    json_decref(fmt);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(item, "competencies"), i, v) add_tag(tags, v);
    json_array_foreach(json_object_get(item, "tags"), i, v) add_tag(tags, v);
    return tags;
}

/* ------------------------------------------------------------------------ */
/* Search text                                                              */

struct buf {
    char *p;
    size_t n, cap;
};

static void
buf_put(struct buf *b, const char *s, size_t n)
{
    b->p = kt_grow(b->p, &b->cap, b->n + n + 1, 1);
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void
buf_codepoint(struct buf *b, unsigned long c)
{
    char u[4];
    size_t n;
    if (c == 0 || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        buf_put(b, " ", 1);
        return;
    }
    if (c < 0x80) {
        u[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        u[0] = (char)(0xC0 | (c >> 6));
        u[1] = (char)(0x80 | (c & 0x3F));
        n = 2;
    } else if (c < 0x10000) {
        u[0] = (char)(0xE0 | (c >> 12));
        u[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        u[2] = (char)(0x80 | (c & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (c >> 18));
        u[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((c >> 6) & 0x3F));
        u[3] = (char)(0x80 | (c & 0x3F));
        n = 4;
    }
    buf_put(b, u, n);
}

/* Appends the text of an HTML/MathML fragment: tags become spaces, the
 * common entities are decoded. A formula's <annotation> (its LaTeX source,
 * kept for the editor) is left out: the formula's own MathML text (mi, mn,
 * mo, mtext) is searched, not the LaTeX commands. */
static void
strip_html(struct buf *b, const char *s)
{
    static const struct {
        const char *name;
        const char *text;
    } ents[] = {{"lt", "<"}, {"gt", ">"}, {"amp", "&"}, {"quot", "\""}, {"apos", "'"}, {"nbsp", " "}};
    if (!s)
        return;
    buf_put(b, " ", 1);
    while (*s) {
        if (*s == '<') {
            const char *e = strchr(s, '>');
            if (!e)
                break;
            buf_put(b, " ", 1);
            if (strncmp(s, "<annotation", 11) == 0 && (s[11] == '>' || s[11] == ' ')) {
                const char *close = strstr(e, "</annotation>");
                if (close)
                    e = close + 12;
            }
            s = e + 1;
        } else if (*s == '&') {
            const char *e = strchr(s, ';');
            size_t n = e ? (size_t)(e - s - 1) : 0;
            int done = 0;
            if (e && n > 1 && n < 10 && s[1] == '#') {
                char *end;
                unsigned long c = s[2] == 'x' || s[2] == 'X' ? strtoul(s + 3, &end, 16)
                                                             : strtoul(s + 2, &end, 10);
                if (end == e) {
                    buf_codepoint(b, c);
                    done = 1;
                }
            } else if (e && n > 0 && n < 10) {
                for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++)
                    if (strlen(ents[i].name) == n && strncmp(s + 1, ents[i].name, n) == 0) {
                        buf_put(b, ents[i].text, strlen(ents[i].text));
                        done = 1;
                    }
            }
            if (done) {
                s = e + 1;
            } else {
                buf_put(b, s, 1);
                s++;
            }
        } else {
            size_t n = strcspn(s, "<&");
            buf_put(b, s, n);
            s += n;
        }
    }
}

char *
kt_item_search_text(const char *title, const json_t *content)
{
    struct buf b = {0};
    buf_put(&b, "", 0);
    strip_html(&b, title);
    strip_html(&b, json_string_value(json_object_get(content, "stem")));
    static const char *const lists[] = {"options", "statements"};
    for (size_t k = 0; k < 2; k++) {
        size_t i;
        json_t *o;
        json_array_foreach(json_object_get(content, lists[k]), i, o)
            strip_html(&b, json_string_value(json_object_get(o, "html")));
    }
    char *f = kt_fold(b.p, b.n);
    if (!f)
        f = strdup("");
    free(b.p);
    return f;
}

char *
kt_item_fold_query(const char *s)
{
    return s ? kt_fold(s, strlen(s)) : NULL;
}

/* ------------------------------------------------------------------------ */
/* Images uploaded by the editor                                            */

int
kt_media_type_ok(const char *type)
{
    static const char *const types[] = {"image/png", "image/jpeg", "image/gif", "image/webp",
                                        NULL};
    return type && kt_str_in_set(type, types);
}

const char *
kt_media_sniff(const void *buf, size_t len)
{
    const unsigned char *b = buf;
    if (len >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "image/png";
    if (len >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF)
        return "image/jpeg";
    if (len >= 6 && (memcmp(b, "GIF87a", 6) == 0 || memcmp(b, "GIF89a", 6) == 0))
        return "image/gif";
    if (len >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0)
        return "image/webp";
    return NULL;
}

int
kt_media_path_valid(const char *path)
{
    static const char *const exts[] = {"png", "jpg", "gif", "webp", NULL};
    if (!path || strncmp(path, "media/", 6) != 0)
        return 0;
    const char *h = path + 6;
    if (strspn(h, "0123456789abcdef") != 64 || h[64] != '.')
        return 0;
    return kt_str_in_set(h + 65, exts);
}

/* Adds the media/ sources of the <img> tags of html to refs. */
static void
media_refs_of(json_t *refs, const char *html, const char *field)
{
    /* Canonical HTML: a tag ends at its first '>' (attribute values escape
     * it) and text never holds a raw '<'. */
    for (const char *s = html ? strstr(html, "<img ") : NULL; s; s = strstr(s, "<img ")) {
        const char *end = strchr(s, '>');
        if (!end)
            return;
        const char *src = strstr(s, " src=\"");
        if (src && src < end) {
            src += 6;
            size_t n = strcspn(src, "\"");
            if (n >= 6 && strncmp(src, "media/", 6) == 0 && src + n < end) {
                char *path = strndup(src, n);
                if (!path)
                    abort();
                size_t i;
                json_t *r;
                int seen = 0;
                json_array_foreach(refs, i, r) seen |=
                    strcmp(json_string_value(json_object_get(r, "path")), path) == 0;
                if (!seen)
                    json_array_append_new(refs,
                                          json_pack("{s:s,s:s}", "path", path, "field", field));
                free(path);
            }
        }
        s = end;
    }
}

json_t *
kt_item_media_refs(const json_t *item)
{
    json_t *refs = json_array();
    for (size_t i = 0; i < sizeof html_fields / sizeof html_fields[0]; i++)
        media_refs_of(refs, json_string_value(json_object_get(item, html_fields[i])),
                      html_fields[i]);
    for (size_t i = 0; i < sizeof html_lists / sizeof html_lists[0]; i++) {
        size_t k;
        json_t *o;
        json_array_foreach(json_object_get(item, html_lists[i]), k, o)
        {
            char path[64];
            path_idx(path, sizeof(path), html_lists[i], k, "html");
            media_refs_of(refs, json_string_value(json_object_get(o, "html")), path);
        }
    }
    return refs;
}

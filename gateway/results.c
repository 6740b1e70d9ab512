/*
 * Results and item statistics of a session or of all sessions of a test:
 * one statement reads students, items, per-answer scores and choices; the
 * statistics (engine/itemstats.c) and the .xlsx workbook are made on the
 * CPU pool, never on the event loop. Attempts with an answer still waiting
 * for a teacher (essay, scoring failure) are left out of the statistics
 * and counted in the reply.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xlsxwriter.h>

#include "api.h"
#include "cpupool.h"
#include "forms.h"
#include "itemstats.h"
#include "server.h"

#define HIST_BINS 10

static const struct pg_stmt_def results_stmts[] = {
    /* $1 a session, or NULL and $2 a test (all its sessions). Students of
     * the sessions' classes with their attempt, and per answer [score
     * (hundredths, null while waiting), state, response]; items in test
     * order with their option ids and keys (from the scoring version). */
    {"results_data",
     "WITH se AS (SELECT s.id, s.test_id, s.opens_at FROM sessions s"
     "   WHERE CASE WHEN $1::bigint IS NOT NULL THEN s.id = $1::bigint"
     "   ELSE s.test_id = $2::bigint END),"
     " t AS (SELECT t.id, t.title, t.subject, t.grade FROM tests t"
     "   WHERE t.id = CASE WHEN $1::bigint IS NOT NULL THEN (SELECT test_id FROM se)"
     "   ELSE $2::bigint END),"
     " st AS (SELECT u.id, u.student_code, u.full_name, c.name AS class, se.id AS session_id,"
     "   a.id AS attempt_id, a.status, a.scored_at, a.score, a.max_score, f.code"
     "  FROM se JOIN session_classes sc ON sc.session_id = se.id"
     "  JOIN classes c ON c.id = sc.class_id JOIN class_members cm ON cm.class_id = c.id"
     "  JOIN users u ON u.id = cm.user_id AND u.role = 'student'"
     "  LEFT JOIN attempts a ON a.session_id = se.id AND a.student_id = u.id"
     "  LEFT JOIN test_forms f ON f.id = a.form_id),"
     " it AS (SELECT ti.item_ref, ti.item_id, ti.points, ti.part, ti.cell, v.kind, v.title,"
     "   CASE WHEN v.kind IN ('MCQ4', 'MR') THEN (SELECT json_agg(e.o->>'id' ORDER BY e.n)"
     "     FROM jsonb_array_elements(v.content->'options') WITH ORDINALITY e(o, n)) END AS options,"
     "   CASE sv.kind WHEN 'MCQ4' THEN jsonb_build_array(sv.scoring->'key')"
     "     WHEN 'MR' THEN sv.scoring->'keys' END AS keys"
     "  FROM t JOIN test_items ti ON ti.test_id = t.id"
     "  JOIN item_versions v ON v.item_id = ti.item_id AND v.version = ti.version"
     "  JOIN item_versions sv ON sv.item_id = ti.item_id"
     "   AND sv.version = coalesce(ti.scoring_version, ti.version))"
     " SELECT json_build_object("
     "  'test', json_build_object('id', t.id, 'title', t.title, 'subject', t.subject,"
     "    'grade', t.grade),"
     "  'sessions', coalesce((SELECT json_agg(json_build_object('id', se.id,"
     "    'opens_at', se.opens_at, 'classes', (SELECT string_agg(c.name, ', ' ORDER BY c.name)"
     "      FROM session_classes sc JOIN classes c ON c.id = sc.class_id"
     "      WHERE sc.session_id = se.id)) ORDER BY se.id) FROM se), '[]'),"
     "  'items', coalesce((SELECT json_agg(json_build_object('item_ref', item_ref,"
     "    'item_id', item_id, 'kind', kind, 'part', part, 'title', title, 'points', points,"
     "    'options', options, 'keys', keys) ORDER BY part, cell, item_id) FROM it), '[]'),"
     "  'students', coalesce((SELECT json_agg(json_build_object('student_id', st.id,"
     "    'student_code', st.student_code, 'full_name', st.full_name, 'class', st.class,"
     "    'session_id', st.session_id, 'attempt_id', st.attempt_id,"
     "    'state', coalesce(st.status, 'not_started'), 'scored', st.scored_at IS NOT NULL,"
     "    'form_code', st.code, 'score', st.score, 'max_score', st.max_score,"
     "    'cells', (SELECT json_object_agg(x.item_ref, json_build_array(x.score, x.state,"
     "       r.response)) FROM attempt_scores x LEFT JOIN responses r"
     "       ON r.attempt_id = x.attempt_id AND r.item_ref = x.item_ref"
     "      WHERE x.attempt_id = st.attempt_id))"
     "    ORDER BY st.class, st.student_code, st.id, st.session_id) FROM st), '[]'))::text"
     " FROM t"},
};

void
kt_results_register(void)
{
    pg_register_statements(results_stmts, (int)(sizeof(results_stmts) / sizeof(results_stmts[0])));
}

/* ------------------------------------------------------------------------ */
/* The statistics as JSON                                                   */

struct results_job {
    http_request *req;
    int by_test; /* tests/{id}/results, else sessions/{id}/results */
    int xlsx;
    int64_t id; /* the session or test */
    char *base; /* session route: the session_results JSON text */
    char *data; /* the results_data JSON text */
    char *out;  /* reply body */
    size_t out_len;
    char disposition[700];
    int status;
};

static void
job_free(void *p)
{
    struct results_job *j = p;
    free(j->base);
    free(j->data);
    free(j->out);
    free(j);
}

static json_t *
num(double v, int decimals)
{
    double f = pow(10.0, decimals);
    return json_real(round(v * f) / f);
}

static json_t *
opt_num(kt_istat_value v, int decimals)
{
    return v.ok ? num(v.v, decimals) : json_null();
}

static const char *
text_of(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* Bit of option id among the item's options, 0 when unknown. */
static uint32_t
option_bit(const json_t *options, const char *id)
{
    size_t i;
    json_t *o;
    json_array_foreach(options, i, o)
    {
        if (i < KT_ISTAT_MAX_OPTIONS && id &&
            strcmp(json_string_value(o) ? json_string_value(o) : "", id) == 0)
            return 1u << i;
    }
    return 0;
}

static uint32_t
chosen_of(const json_t *options, const json_t *response)
{
    if (json_is_string(response))
        return option_bit(options, json_string_value(response));
    uint32_t c = 0;
    size_t i;
    json_t *v;
    if (json_is_array(response))
        json_array_foreach(response, i, v) c |= option_bit(options, json_string_value(v));
    return c;
}

static int
is_key(const json_t *keys, const char *id)
{
    size_t i;
    json_t *k;
    json_array_foreach(keys, i,
                       k) if (json_is_string(k) && strcmp(json_string_value(k), id) == 0) return 1;
    return 0;
}

/* Builds the "statistics" object from the results_data document; fills
 * data's students with "included" (true / false) on the way. */
static json_t *
statistics(json_t *data)
{
    json_t *items = json_object_get(data, "items"), *students = json_object_get(data, "students");
    size_t k = json_array_size(items), ns = json_array_size(students);
    long excluded = 0, answers = 0, needs = 0, failed = 0, not_scored = 0, incomplete = 0;
    json_t *stats = json_object();
    json_object_set_new(stats, "sd", json_string("population"));
    json_object_set_new(stats, "correlation_flagged", json_string("item_rest"));
    json_object_set_new(stats, "group_fraction", json_real(0.27));
    if (k == 0) {
        json_object_set_new(stats, "included", json_integer(0));
        json_object_set_new(stats, "test", json_null());
        json_object_set_new(stats, "items", json_array());
        return stats;
    }
    int64_t *max = calloc(k, sizeof(*max));
    int *nopt = calloc(k, sizeof(*nopt));
    int64_t *score = calloc(ns * k + 1, sizeof(*score));
    uint32_t *chosen = calloc(ns * k + 1, sizeof(*chosen));
    if (!max || !nopt || !score || !chosen)
        abort();
    size_t j;
    json_t *it;
    json_array_foreach(items, j, it)
    {
        max[j] = json_integer_value(json_object_get(it, "points"));
        size_t no = json_array_size(json_object_get(it, "options"));
        nopt[j] = (int)(no > KT_ISTAT_MAX_OPTIONS ? KT_ISTAT_MAX_OPTIONS : no);
    }
    size_t n = 0, i;
    json_t *s;
    json_array_foreach(students, i, s)
    {
        int submitted = strcmp(text_of(s, "state"), "submitted") == 0;
        json_t *cells = json_object_get(s, "cells");
        int ok = submitted && json_is_true(json_object_get(s, "scored")) && json_is_object(cells);
        if (submitted && !ok)
            not_scored++;
        if (ok) {
            int pending = 0, missing = 0;
            json_array_foreach(items, j, it)
            {
                json_t *c = json_object_get(cells, text_of(it, "item_ref"));
                if (!c) {
                    missing = 1;
                    continue;
                }
                const char *state = json_string_value(json_array_get(c, 1));
                if (json_is_null(json_array_get(c, 0))) {
                    pending++;
                    if (state && strcmp(state, "scoring_failed") == 0)
                        failed++;
                    else
                        needs++;
                    continue;
                }
                score[n * k + j] = json_integer_value(json_array_get(c, 0));
                if (nopt[j])
                    chosen[n * k + j] =
                        chosen_of(json_object_get(it, "options"), json_array_get(c, 2));
            }
            answers += pending;
            if (pending)
                excluded++;
            else if (missing)
                incomplete++;
            ok = !pending && !missing;
        }
        json_object_set_new(s, "included", json_boolean(ok));
        if (ok)
            n++;
    }
    kt_istat_input in = {.n = n,
                         .k = k,
                         .score = score,
                         .max = max,
                         .chosen = chosen,
                         .n_options = nopt,
                         .bins = HIST_BINS};
    kt_istat_result r;
    if (kt_istat_compute(&in, &r) < 0)
        abort(); /* inputs checked above; only out of memory */
    json_object_set_new(stats, "included", json_integer((json_int_t)n));
    json_object_set_new(stats, "excluded",
                        json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "attempts", (json_int_t)excluded,
                                  "answers", (json_int_t)answers, "needs_marking",
                                  (json_int_t)needs, "scoring_failed", (json_int_t)failed,
                                  "not_scored", (json_int_t)not_scored, "incomplete",
                                  (json_int_t)incomplete));
    if (excluded) {
        char note[300];
        snprintf(note, sizeof(note),
                 "%ld bài còn %ld câu trả lời chờ chấm (tự luận hoặc lỗi chấm tự động) chưa được "
                 "tính vào thống kê; thống kê sẽ đầy đủ khi chấm xong.",
                 excluded, answers);
        json_object_set_new(stats, "note", json_string(note));
    }
    json_t *hist = json_array();
    for (size_t b = 0; b < r.bins; b++)
        json_array_append_new(hist, json_pack("{s:o,s:o,s:I}", "from", num(r.hist[b].from, 2), "to",
                                              num(r.hist[b].to, 2), "count",
                                              (json_int_t)r.hist[b].count));
    json_t *test =
        json_pack("{s:I,s:I,s:o,s:I,s:o}", "n", (json_int_t)r.n, "k", (json_int_t)r.k, "max_score",
                  num(r.max_total, 2), "group_size", (json_int_t)r.group, "histogram", hist);
    json_object_set_new(test, "mean", n ? num(r.mean, 4) : json_null());
    json_object_set_new(test, "sd", n ? num(r.sd, 4) : json_null());
    json_object_set_new(test, "median", n ? num(r.median, 4) : json_null());
    json_object_set_new(test, "min", n ? num(r.min, 2) : json_null());
    json_object_set_new(test, "max", n ? num(r.max, 2) : json_null());
    json_object_set_new(test, "kr20", opt_num(r.kr20, 4));
    json_object_set_new(test, "alpha", opt_num(r.alpha, 4));
    json_object_set_new(stats, "test", test);
    json_t *out = json_array();
    json_array_foreach(items, j, it)
    {
        const kt_istat_item *x = &r.items[j];
        json_t *flags = json_array();
        if (x->flags & KT_ISTAT_NEGATIVE)
            json_array_append_new(flags, json_string("negative_discrimination"));
        if (x->flags & KT_ISTAT_HARD)
            json_array_append_new(flags, json_string("too_hard"));
        if (x->flags & KT_ISTAT_EASY)
            json_array_append_new(flags, json_string("too_easy"));
        json_t *o = json_pack("{s:s,s:O,s:s,s:O,s:o,s:o}", "item_ref", text_of(it, "item_ref"),
                              "item_id", json_object_get(it, "item_id"), "kind",
                              text_of(it, "kind"), "part", json_object_get(it, "part"), "points",
                              kt_forms_points_json(max[j]), "flags", flags);
        json_object_set_new(o, "n", json_integer((json_int_t)n));
        json_object_set_new(o, "mean", n ? num(x->mean, 4) : json_null());
        json_object_set_new(o, "p", n ? num(x->p, 4) : json_null());
        json_object_set_new(o, "r_pb", opt_num(x->r_pb, 4));
        json_object_set_new(o, "r_rest", opt_num(x->r_rest, 4));
        json_object_set_new(o, "d", opt_num(x->d, 4));
        json_object_set_new(o, "p_upper", x->d.ok ? num(x->p_upper, 4) : json_null());
        json_object_set_new(o, "p_lower", x->d.ok ? num(x->p_lower, 4) : json_null());
        if (nopt[j]) {
            json_t *opts = json_array(), *keys = json_object_get(it, "keys");
            for (int q = 0; q < x->n_options; q++) {
                const kt_istat_option *op = &x->options[q];
                const char *id =
                    json_string_value(json_array_get(json_object_get(it, "options"), (size_t)q));
                json_array_append_new(
                    opts, json_pack("{s:s,s:b,s:I,s:o,s:o,s:o,s:o}", "option", id ? id : "", "key",
                                    id && is_key(keys, id), "count", (json_int_t)op->count, "p",
                                    num(op->p, 4), "p_upper", num(op->p_upper, 4), "p_lower",
                                    num(op->p_lower, 4), "mean_total", opt_num(op->mean_total, 4)));
            }
            json_object_set_new(o, "options", opts);
            json_object_set_new(o, "omitted", json_integer((json_int_t)x->omitted));
        } else {
            json_object_set_new(o, "options", json_null());
        }
        json_array_append_new(out, o);
    }
    json_object_set_new(stats, "items", out);
    kt_istat_free(&r);
    free(max);
    free(nopt);
    free(score);
    free(chosen);
    return stats;
}

/* "8.5" style points text of hundredths, or null. */
static json_t *
points_or_null(const json_t *v)
{
    return json_is_integer(v) ? kt_forms_points_json(json_integer_value(v)) : json_null();
}

/* The test route's students: without raw cells, scores as decimal text,
 * per item points (null while waiting). */
static json_t *
students_view(const json_t *data)
{
    json_t *out = json_array(), *items = json_object_get(data, "items");
    size_t i, j;
    json_t *s, *it;
    json_array_foreach(json_object_get(data, "students"), i, s)
    {
        json_t *o = json_deep_copy(s);
        json_object_del(o, "cells");
        json_object_set_new(o, "score", points_or_null(json_object_get(s, "score")));
        json_object_set_new(o, "max_score", points_or_null(json_object_get(s, "max_score")));
        json_t *pts = json_object(), *cells = json_object_get(s, "cells");
        json_array_foreach(items, j, it)
        {
            json_t *c = json_object_get(cells, text_of(it, "item_ref"));
            if (c)
                json_object_set_new(pts, text_of(it, "item_ref"),
                                    points_or_null(json_array_get(c, 0)));
        }
        json_object_set_new(o, "points", pts);
        json_array_append_new(out, o);
    }
    return out;
}

/* ------------------------------------------------------------------------ */
/* The workbook                                                             */

static const char *
flag_text(const char *code)
{
    if (strcmp(code, "negative_discrimination") == 0)
        return "độ phân biệt âm";
    if (strcmp(code, "too_hard") == 0)
        return "quá khó (p < 0,2)";
    if (strcmp(code, "too_easy") == 0)
        return "quá dễ (p > 0,9)";
    return code;
}

/* A number cell, or a blank one for null. */
static void
put_num(lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, const json_t *v, lxw_format *f)
{
    if (json_is_number(v))
        worksheet_write_number(ws, r, c, json_number_value(v), f);
    else
        worksheet_write_blank(ws, r, c, f);
}

/* Text is always a string cell in the Text format: never a formula, so a
 * name such as "=HYPERLINK(...)" stays text. */
static void
put_text(lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, const char *s, lxw_format *f)
{
    if (s && *s)
        worksheet_write_string(ws, r, c, s, f);
    else
        worksheet_write_blank(ws, r, c, f);
}

static double
hundredths_points(const json_t *v)
{
    return (double)json_integer_value(v) / 100.0;
}

static int
write_xlsx(const json_t *data, const json_t *stats, const char *path)
{
    lxw_workbook *wb = workbook_new(path);
    if (!wb)
        return -1;
    lxw_format *head = workbook_add_format(wb);
    format_set_bold(head);
    format_set_text_wrap(head);
    format_set_border(head, LXW_BORDER_THIN);
    lxw_format *text = workbook_add_format(wb);
    format_set_num_format(text, "@");
    format_set_border(text, LXW_BORDER_THIN);
    lxw_format *integer = workbook_add_format(wb);
    format_set_num_format(integer, "0");
    format_set_border(integer, LXW_BORDER_THIN);
    lxw_format *pts = workbook_add_format(wb); /* shown with the reader's decimal mark */
    format_set_num_format(pts, "0.00");
    format_set_border(pts, LXW_BORDER_THIN);
    lxw_format *ratio = workbook_add_format(wb);
    format_set_num_format(ratio, "0.000");
    format_set_border(ratio, LXW_BORDER_THIN);
    lxw_format *title = workbook_add_format(wb);
    format_set_bold(title);
    format_set_font_size(title, 13);

    json_t *items = json_object_get(data, "items"), *sitems = json_object_get(stats, "items");
    const char *test_title = text_of(json_object_get(data, "test"), "title");
    size_t i, j;
    json_t *s, *it;

    /* Kết quả */
    lxw_worksheet *ws = workbook_add_worksheet(wb, "Kết quả");
    put_text(ws, 0, 0, test_title, title);
    static const char *const cols[] = {"STT",   "Mã học sinh", "Họ và tên", "Lớp",
                                       "Mã đề", "Trạng thái",  "Điểm"};
    lxw_col_t nc = (lxw_col_t)(sizeof(cols) / sizeof(cols[0]));
    for (lxw_col_t c = 0; c < nc; c++)
        worksheet_write_string(ws, 2, c, cols[c], head);
    json_array_foreach(items, j, it)
    {
        char h[64];
        snprintf(h, sizeof(h), "Câu %zu (%s)", j + 1, text_of(it, "item_ref"));
        worksheet_write_string(ws, 2, (lxw_col_t)(nc + j), h, head);
    }
    lxw_row_t row = 3;
    json_array_foreach(json_object_get(data, "students"), i, s)
    {
        static const struct {
            const char *code, *vi;
        } states[] = {
            {"not_started", "Chưa làm"}, {"in_progress", "Đang làm"}, {"submitted", "Đã nộp"}};
        const char *st = text_of(s, "state"), *vi = st;
        for (size_t q = 0; q < sizeof(states) / sizeof(states[0]); q++)
            if (strcmp(states[q].code, st) == 0)
                vi = states[q].vi;
        worksheet_write_number(ws, row, 0, (double)(i + 1), integer);
        put_text(ws, row, 1, text_of(s, "student_code"), text);
        put_text(ws, row, 2, text_of(s, "full_name"), text);
        put_text(ws, row, 3, text_of(s, "class"), text);
        put_text(ws, row, 4, text_of(s, "form_code"), text);
        put_text(ws, row, 5, vi, text);
        json_t *sc = json_object_get(s, "score");
        if (json_is_integer(sc) && json_is_true(json_object_get(s, "scored")))
            worksheet_write_number(ws, row, 6, hundredths_points(sc), pts);
        else
            worksheet_write_blank(ws, row, 6, pts);
        json_t *cells = json_object_get(s, "cells");
        json_array_foreach(items, j, it)
        {
            json_t *c = json_array_get(json_object_get(cells, text_of(it, "item_ref")), 0);
            if (json_is_integer(c))
                worksheet_write_number(ws, row, (lxw_col_t)(nc + j), hundredths_points(c), pts);
            else
                worksheet_write_blank(ws, row, (lxw_col_t)(nc + j), pts);
        }
        row++;
    }
    worksheet_set_column(ws, 0, 0, 5, NULL);
    worksheet_set_column(ws, 1, 1, 14, NULL);
    worksheet_set_column(ws, 2, 2, 26, NULL);
    worksheet_set_column(ws, 3, 6, 10, NULL);

    /* Thống kê câu hỏi */
    ws = workbook_add_worksheet(wb, "Thống kê câu hỏi");
    static const char *const icols[] = {"Câu",
                                        "Mã câu",
                                        "Loại",
                                        "Điểm tối đa",
                                        "Số bài",
                                        "Độ khó p",
                                        "r_pb (câu–tổng)",
                                        "r (câu–phần còn lại)",
                                        "D (27 %)",
                                        "Cảnh báo"};
    for (lxw_col_t c = 0; c < 10; c++)
        worksheet_write_string(ws, 0, c, icols[c], head);
    row = 1;
    json_array_foreach(sitems, j, it)
    {
        worksheet_write_number(ws, row, 0, (double)(j + 1), integer);
        put_text(ws, row, 1, text_of(it, "item_ref"), text);
        put_text(ws, row, 2, text_of(it, "kind"), text);
        const char *p = json_string_value(json_object_get(it, "points"));
        worksheet_write_number(ws, row, 3, p ? strtod(p, NULL) : 0, pts);
        put_num(ws, row, 4, json_object_get(it, "n"), integer);
        put_num(ws, row, 5, json_object_get(it, "p"), ratio);
        put_num(ws, row, 6, json_object_get(it, "r_pb"), ratio);
        put_num(ws, row, 7, json_object_get(it, "r_rest"), ratio);
        put_num(ws, row, 8, json_object_get(it, "d"), ratio);
        char flags[200] = "";
        size_t q;
        json_t *f;
        json_array_foreach(json_object_get(it, "flags"), q, f)
        {
            size_t len = strlen(flags);
            snprintf(flags + len, sizeof(flags) - len, "%s%s", len ? "; " : "",
                     flag_text(json_string_value(f)));
        }
        put_text(ws, row, 9, flags, text);
        row++;
    }
    worksheet_set_column(ws, 1, 1, 12, NULL);
    worksheet_set_column(ws, 3, 8, 12, NULL);
    worksheet_set_column(ws, 9, 9, 40, NULL);

    /* Phương án nhiễu */
    ws = workbook_add_worksheet(wb, "Phương án nhiễu");
    static const char *const dcols[] = {"Câu",
                                        "Mã câu",
                                        "Phương án",
                                        "Đáp án",
                                        "Số HS chọn",
                                        "Tỉ lệ",
                                        "Tỉ lệ nhóm cao",
                                        "Tỉ lệ nhóm thấp",
                                        "Điểm TB của người chọn"};
    for (lxw_col_t c = 0; c < 9; c++)
        worksheet_write_string(ws, 0, c, dcols[c], head);
    row = 1;
    json_array_foreach(sitems, j, it)
    {
        json_t *opts = json_object_get(it, "options");
        size_t q;
        json_t *o;
        json_array_foreach(opts, q, o)
        {
            worksheet_write_number(ws, row, 0, (double)(j + 1), integer);
            put_text(ws, row, 1, text_of(it, "item_ref"), text);
            put_text(ws, row, 2, text_of(o, "option"), text);
            put_text(ws, row, 3, json_is_true(json_object_get(o, "key")) ? "Đúng" : "", text);
            put_num(ws, row, 4, json_object_get(o, "count"), integer);
            put_num(ws, row, 5, json_object_get(o, "p"), ratio);
            put_num(ws, row, 6, json_object_get(o, "p_upper"), ratio);
            put_num(ws, row, 7, json_object_get(o, "p_lower"), ratio);
            put_num(ws, row, 8, json_object_get(o, "mean_total"), pts);
            row++;
        }
        if (json_is_array(opts)) {
            worksheet_write_number(ws, row, 0, (double)(j + 1), integer);
            put_text(ws, row, 1, text_of(it, "item_ref"), text);
            put_text(ws, row, 2, "Bỏ trống", text);
            put_num(ws, row, 4, json_object_get(it, "omitted"), integer);
            row++;
        }
    }
    worksheet_set_column(ws, 1, 1, 12, NULL);
    worksheet_set_column(ws, 4, 8, 14, NULL);

    /* Tổng quan */
    ws = workbook_add_worksheet(wb, "Tổng quan");
    json_t *t = json_object_get(stats, "test"), *ex = json_object_get(stats, "excluded");
    put_text(ws, 0, 0, test_title, title);
    static const struct {
        const char *label, *key;
        int kind; /* 0 integer, 1 points, 2 ratio */
        int from_excluded;
    } rows[] = {
        {"Số bài tính thống kê (n)", "n", 0, 0},
        {"Số câu", "k", 0, 0},
        {"Điểm tối đa", "max_score", 1, 0},
        {"Điểm trung bình", "mean", 1, 0},
        {"Độ lệch chuẩn (tổng thể, chia n)", "sd", 1, 0},
        {"Trung vị", "median", 1, 0},
        {"Thấp nhất", "min", 1, 0},
        {"Cao nhất", "max", 1, 0},
        {"Độ tin cậy KR-20", "kr20", 2, 0},
        {"Hệ số Cronbach α", "alpha", 2, 0},
        {"Số HS mỗi nhóm cao/thấp (27 %)", "group_size", 0, 0},
        {"Bài chưa tính (còn câu chờ chấm)", "attempts", 0, 1},
        {"Câu trả lời chờ chấm", "answers", 0, 1},
    };
    row = 2;
    for (size_t q = 0; q < sizeof(rows) / sizeof(rows[0]); q++, row++) {
        worksheet_write_string(ws, row, 0, rows[q].label, head);
        json_t *v = json_object_get(rows[q].from_excluded ? ex : t, rows[q].key);
        put_num(ws, row, 1, v, rows[q].kind == 0 ? integer : rows[q].kind == 1 ? pts : ratio);
    }
    row++;
    worksheet_write_string(ws, row, 0, "Phân bố điểm: từ", head);
    worksheet_write_string(ws, row, 1, "đến", head);
    worksheet_write_string(ws, row, 2, "Số bài", head);
    row++;
    json_array_foreach(json_object_get(t, "histogram"), i, s)
    {
        put_num(ws, row, 0, json_object_get(s, "from"), pts);
        put_num(ws, row, 1, json_object_get(s, "to"), pts);
        put_num(ws, row, 2, json_object_get(s, "count"), integer);
        row++;
    }
    worksheet_set_column(ws, 0, 0, 36, NULL);
    worksheet_set_column(ws, 1, 2, 12, NULL);
    return workbook_close(wb) == LXW_NO_ERROR ? 0 : -1;
}

static char *
xlsx_bytes(const json_t *data, const json_t *stats, size_t *len)
{
    char path[] = "/tmp/kiemtra-results-XXXXXX";
    int fd = mkstemp(path);
    char *out = NULL;
    if (fd < 0)
        return NULL;
    close(fd);
    if (write_xlsx(data, stats, path) == 0) {
        FILE *f = fopen(path, "rb");
        long n = 0;
        if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
            (out = malloc((size_t)n)) && fread(out, 1, (size_t)n, f) != (size_t)n) {
            free(out);
            out = NULL;
        }
        if (f)
            fclose(f);
        *len = out ? (size_t)n : 0;
    }
    unlink(path);
    return out;
}

/* Content-Disposition: an ASCII name, and the Vietnamese one percent-encoded
 * (RFC 6266 / 5987), so no byte of the title reaches the header raw. */
static void
disposition(char *out, size_t n, const char *ascii, const char *title)
{
    char enc[480];
    size_t e = 0;
    char full[200];
    snprintf(full, sizeof(full), "Kết quả - %s.xlsx", title);
    for (const unsigned char *p = (const unsigned char *)full; *p && e + 4 < sizeof(enc); p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_')
            enc[e++] = (char)*p;
        else
            e += (size_t)snprintf(enc + e, sizeof(enc) - e, "%%%02X", *p);
    }
    enc[e] = '\0';
    snprintf(out, n,
             "Content-Disposition: attachment; filename=\"%s.xlsx\"; filename*=UTF-8''%s\r\n",
             ascii, enc);
}

static void
results_work(void *arg)
{
    struct results_job *j = arg;
    json_t *data = json_loads(j->data, 0, NULL);
    json_t *base = j->base ? json_loads(j->base, 0, NULL) : NULL;
    if (!data || (j->base && !base)) {
        json_decref(data);
        json_decref(base);
        return;
    }
    json_t *stats = statistics(data);
    if (j->xlsx) {
        j->out = xlsx_bytes(data, stats, &j->out_len);
        char ascii[64];
        snprintf(ascii, sizeof(ascii), "ket-qua-%s-%lld", j->by_test ? "de" : "buoi",
                 (long long)j->id);
        disposition(j->disposition, sizeof(j->disposition), ascii,
                    text_of(json_object_get(data, "test"), "title"));
    } else {
        json_t *reply = base ? base : json_object();
        json_object_set(reply, "test", json_object_get(data, "test"));
        json_object_set(reply, "sessions", json_object_get(data, "sessions"));
        if (j->by_test) {
            json_object_set_new(reply, "test_id",
                                json_copy(json_object_get(json_object_get(data, "test"), "id")));
            json_object_set_new(reply, "students", students_view(data));
        }
        json_object_set_new(reply, "statistics", stats);
        stats = NULL;
        j->out = json_dumps(reply, JSON_COMPACT);
        j->out_len = j->out ? strlen(j->out) : 0;
        json_decref(reply);
        base = NULL;
    }
    json_decref(stats);
    json_decref(base);
    json_decref(data);
}

static void
results_sent(void *arg)
{
    struct results_job *j = arg;
    if (!j->out) {
        api_error(j->req, 500, "results_failed", "Không tính được thống kê kết quả.");
        return;
    }
    if (j->xlsx)
        http_reply_full(j->req, 200,
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        j->disposition, j->out, j->out_len);
    else
        api_raw_json(j->req, 200, j->out, j->out_len);
}

static void
results_loaded(http_request *req, pg_query *q)
{
    struct results_job *j = req->ctx;
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    int with_base = !j->by_test && !j->xlsx, last = with_base;
    const char *data = pg_ntuples(q, last) == 1 ? pg_value(q, last, 0, 0) : NULL;
    const char *base = with_base && pg_ntuples(q, 0) == 1 ? pg_value(q, 0, 0, 0) : NULL;
    if (!data || (with_base && !base)) {
        api_error(req, 404, "not_found",
                  j->by_test ? "Không tìm thấy đề kiểm tra." : "Không tìm thấy buổi kiểm tra.");
        return;
    }
    if (!(j->data = strdup(data)) || (base && !(j->base = strdup(base))))
        abort();
    kt_cpu_submit(req->worker->base, results_work, results_sent, j);
}

static void
results_start(http_request *req, int by_test, int xlsx)
{
    struct results_job *j = calloc(1, sizeof(*j));
    if (!j)
        abort();
    j->req = req;
    j->by_test = by_test;
    j->xlsx = xlsx;
    req->ctx = j;
    req->ctx_free = job_free;
    char id[24];
    j->id = api_param_id(req, 0);
    api_id_text(id, j->id);
    pg_query *q = api_query(req);
    if (by_test) {
        const char *p[] = {NULL, id};
        pg_query_add(q, "results_data", 2, p);
    } else {
        const char *p1[] = {id};
        const char *p[] = {id, NULL};
        if (!xlsx) /* the per-student list and marking queue of marking.c */
            pg_query_add(q, "session_results", 1, p1);
        pg_query_add(q, "results_data", 2, p);
    }
    api_run(req, q, results_loaded);
}

/* GET /api/v1/sessions/{id}/results */
void
h_session_results(http_request *req)
{
    results_start(req, 0, 0);
}

/* GET /api/v1/tests/{id}/results */
void
h_test_results(http_request *req)
{
    results_start(req, 1, 0);
}

/* GET /api/v1/sessions/{id}/results.xlsx */
void
h_session_results_xlsx(http_request *req)
{
    results_start(req, 0, 1);
}

/* GET /api/v1/tests/{id}/results.xlsx */
void
h_test_results_xlsx(http_request *req)
{
    results_start(req, 1, 1);
}

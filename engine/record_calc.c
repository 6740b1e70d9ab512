/*
 * Learner records of a class from its marks (see record_calc.h): each
 * student's subject results per semester and for the year, then the
 * academic level per semester and for the year, all through grades.c so
 * that the rounding, the thresholds and khoản 3 live in one place.
 */
#include "record_calc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grades.h"

#define MAX_TX 9
#define MAX_SUBJECTS 64

struct subject {
    const char *code;
    kt_subject_cfg cfg;
    int primary; /* TT27 subject: levels as given */
};

/* One student's results, per subject, for semesters 1, 2 and the year (0). */
struct computed {
    int score[3];         /* tenths or KT_SCORE_MISSING */
    kt_comment comment[3];
};

static int
tenths_of(const json_t *v)
{
    const char *s = json_string_value(v);
    if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 3)
        return KT_SCORE_MISSING;
    int t = atoi(s);
    return t <= KT_SCORE_MAX ? t : KT_SCORE_MISSING;
}

static kt_comment
comment_of(const json_t *v)
{
    const char *s = json_string_value(v);
    if (s && strcmp(s, "D") == 0)
        return KT_COMMENT_DAT;
    if (s && strcmp(s, "CD") == 0)
        return KT_COMMENT_CHUA_DAT;
    return KT_COMMENT_MISSING;
}

static json_t *
notes_json(const kt_grade_report *r)
{
    json_t *a = json_array();
    for (size_t i = 0; i < r->notes.n; i++)
        json_array_append_new(a, json_string(r->notes.text[i]));
    return a;
}

static const char *
level_code(kt_level l)
{
    switch (l) {
    case KT_LEVEL_TOT:
        return "TOT";
    case KT_LEVEL_KHA:
        return "KHA";
    case KT_LEVEL_DAT:
        return "DAT";
    case KT_LEVEL_CHUA_DAT:
        return "CD";
    default:
        return NULL;
    }
}

/* Why a result is blank: a stable code for programs and a Vietnamese
 * sentence for the sheet (the notes, joined, say exactly what is missing). */
static json_t *
reason_json(const char *code, const char *lead, const json_t *notes)
{
    char text[1200];
    size_t n = (size_t)snprintf(text, sizeof(text), "%s", lead);
    size_t i;
    const json_t *v;
    json_array_foreach(notes, i, v)
    {
        if (n >= sizeof(text) - 1)
            break;
        n += (size_t)snprintf(text + n, sizeof(text) - n, " %s", json_string_value(v));
    }
    return json_pack("{s:s,s:s}", "code", code, "message", text);
}

/* The reason of a blank subject result from the engine's status. */
static json_t *
result_reason(kt_grade_status st, int semester, const json_t *notes)
{
    if (st == KT_GRADE_OK)
        return json_null();
    if (st == KT_GRADE_INVALID)
        return reason_json("invalid_marks", "Có điểm hoặc cấu hình không hợp lệ.", notes);
    if (semester == 0)
        return reason_json("missing_semester", "Chưa có kết quả cả hai học kì.", notes);
    return reason_json("missing_marks", "Chưa đủ các lần đánh giá của học kì.", notes);
}

static void
add_result(json_t *out, json_int_t student, const char *subject, int semester, int ok,
           json_t *value, json_t *notes, json_t *reason)
{
    json_array_append_new(out, json_pack("{s:I,s:s,s:i,s:s,s:o,s:o,s:o}", "student", student,
                                         "subject", subject, "semester", semester, "status",
                                         ok ? "ok" : "incomplete", "value", value, "notes", notes,
                                         "reason", reason));
}

static json_t *
tenths_json(int t)
{
    char buf[8];
    snprintf(buf, sizeof(buf), "%d", t);
    return json_string(buf);
}

/* Score subject: ĐTBmhk of each semester, then ĐTBmcn. */
static void
score_subject(const struct subject *sub, const json_t *marks, json_int_t student,
              struct computed *c, json_t *results)
{
    char why[200];
    int slots = kt_tt22_tx_required(&sub->cfg, why, sizeof(why));
    for (int sem = 1; sem <= 2; sem++) {
        char key[4], name[8];
        snprintf(key, sizeof(key), "%d", sem);
        const json_t *m = json_object_get(marks, key);
        int tx[MAX_TX];
        for (int i = 0; i < MAX_TX; i++) {
            snprintf(name, sizeof(name), "tx%d", i + 1);
            tx[i] = tenths_of(json_object_get(m, name));
        }
        kt_score_semester rec = {tx, slots > 0 && slots <= MAX_TX ? (size_t)slots : 0,
                                 tenths_of(json_object_get(m, "gk")),
                                 tenths_of(json_object_get(m, "ck"))};
        kt_tt22_average avg;
        kt_tt22_dtb_mhk(&kt_rules_tt22_2021, &sub->cfg, &rec, &avg);
        int ok = avg.report.status == KT_GRADE_OK;
        c->score[sem] = ok ? avg.tenths : KT_SCORE_MISSING;
        json_t *notes = notes_json(&avg.report);
        add_result(results, student, sub->code, sem, ok, ok ? tenths_json(avg.tenths) : json_null(),
                   notes, result_reason(avg.report.status, sem, notes));
    }
    kt_tt22_average year;
    kt_tt22_dtb_mcn(&kt_rules_tt22_2021, &sub->cfg, c->score[1], c->score[2], &year);
    int ok = year.report.status == KT_GRADE_OK;
    c->score[0] = ok ? year.tenths : KT_SCORE_MISSING;
    json_t *notes = notes_json(&year.report);
    add_result(results, student, sub->code, 0, ok, ok ? tenths_json(year.tenths) : json_null(),
               notes, result_reason(year.report.status, 0, notes));
}

/* Comment subject: Đạt / Chưa đạt per semester; the year is semester II. */
static void
comment_subject(const struct subject *sub, const json_t *marks, json_int_t student,
                struct computed *c, json_t *results)
{
    char why[200];
    int slots = kt_tt22_tx_required(&sub->cfg, why, sizeof(why));
    for (int sem = 1; sem <= 2; sem++) {
        char key[4], name[8];
        snprintf(key, sizeof(key), "%d", sem);
        const json_t *m = json_object_get(marks, key);
        kt_comment tx[MAX_TX];
        for (int i = 0; i < MAX_TX; i++) {
            snprintf(name, sizeof(name), "tx%d", i + 1);
            tx[i] = comment_of(json_object_get(m, name));
        }
        kt_comment_semester rec = {tx, slots > 0 && slots <= MAX_TX ? (size_t)slots : 0,
                                   comment_of(json_object_get(m, "gk")),
                                   comment_of(json_object_get(m, "ck"))};
        kt_tt22_comment_result r;
        kt_tt22_comment_semester(&kt_rules_tt22_2021, &sub->cfg, &rec, &r);
        /* TT22 Điều 9 khoản 1 điểm b: no result until every assessment exists
         * (the engine answers INCOMPLETE and names the missing ones). */
        int ok = r.report.status == KT_GRADE_OK;
        c->comment[sem] = ok ? r.result : KT_COMMENT_MISSING;
        json_t *notes = notes_json(&r.report);
        add_result(results, student, sub->code, sem, ok,
                   ok ? json_string(r.result == KT_COMMENT_DAT ? "D" : "CD") : json_null(), notes,
                   r.report.status == KT_GRADE_INCOMPLETE
                       ? reason_json("missing_assessments",
                                     "Môn đánh giá bằng nhận xét chỉ có kết quả học kì khi đã "
                                     "đủ mọi lần đánh giá.",
                                     notes)
                       : result_reason(r.report.status, sem, notes));
    }
    kt_tt22_comment_result y;
    kt_tt22_comment_year(&kt_rules_tt22_2021, &sub->cfg, c->comment[2], &y);
    int ok = y.report.status == KT_GRADE_OK;
    c->comment[0] = ok ? y.result : KT_COMMENT_MISSING;
    json_t *ynotes = notes_json(&y.report);
    add_result(results, student, sub->code, 0, ok,
               ok ? json_string(y.result == KT_COMMENT_DAT ? "D" : "CD") : json_null(), ynotes,
               result_reason(y.report.status, 0, ynotes));
}

/* Primary subject: the teacher's end-of-semester level as given; the year
 * is the end-of-year level (semester II). */
static void
primary_subject(const struct subject *sub, const json_t *marks, json_int_t student,
                json_t *results)
{
    const char *lv[3] = {NULL, NULL, NULL};
    for (int sem = 1; sem <= 2; sem++) {
        char key[4];
        snprintf(key, sizeof(key), "%d", sem);
        const char *l = json_string_value(json_object_get(json_object_get(marks, key), "level_ck"));
        lv[sem] = l && (strcmp(l, "T") == 0 || strcmp(l, "H") == 0 || strcmp(l, "C") == 0) ? l
                                                                                           : NULL;
        add_result(results, student, sub->code, sem, lv[sem] != NULL,
                   lv[sem] ? json_string(lv[sem]) : json_null(), json_array(),
                   lv[sem] ? json_null()
                           : json_pack("{s:s,s:s}", "code", "missing_level", "message",
                                       "Chưa có mức đạt được cuối kì."));
    }
    add_result(results, student, sub->code, 0, lv[2] != NULL,
               lv[2] ? json_string(lv[2]) : json_null(), json_array(),
               lv[2] ? json_null()
                     : json_pack("{s:s,s:s}", "code", "missing_level", "message",
                                 "Chưa có mức đạt được cuối năm học."));
}

static int
parse_subjects(const json_t *in, struct subject *subs, size_t *n, char *err, size_t errsize)
{
    const json_t *arr = json_object_get(in, "subjects");
    *n = json_array_size(arr);
    if (!json_is_array(arr) || *n > MAX_SUBJECTS) {
        snprintf(err, errsize, "Danh sách môn học không hợp lệ.");
        return -1;
    }
    for (size_t i = 0; i < *n; i++) {
        const json_t *s = json_array_get(arr, i);
        const char *mode = json_string_value(json_object_get(s, "mode"));
        subs[i].code = json_string_value(json_object_get(s, "code"));
        if (!subs[i].code || !mode) {
            snprintf(err, errsize, "Môn học thứ %zu thiếu mã hoặc cách đánh giá.", i + 1);
            return -1;
        }
        subs[i].primary = strncmp(mode, "primary", 7) == 0;
        subs[i].cfg = (kt_subject_cfg){
            subs[i].code, strcmp(mode, "comment") == 0 ? KT_MODE_COMMENT : KT_MODE_SCORE,
            (int)json_integer_value(json_object_get(s, "periods")),
            (int)json_integer_value(json_object_get(s, "tx_slots"))};
    }
    return 0;
}

/* Academic level of one semester (1, 2) or the year (0) from the results
 * of the subjects the student studies (studies[i]); plan is 0 for an upper
 * secondary class without a study plan, whose level is not computed. */
static void
academic_level(const struct subject *subs, size_t n, const int *studies, int plan,
               const struct computed *c, int sem, json_int_t student, json_t *levels)
{
    kt_subject_mark marks[MAX_SUBJECTS];
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (studies[i])
            marks[k++] = (kt_subject_mark){subs[i].code, subs[i].cfg.mode, c[i].score[sem],
                                           c[i].comment[sem]};
    kt_tt22_academic_result r;
    kt_tt22_academic_level(&kt_rules_tt22_2021, marks, k, &r);
    int ok = plan && r.report.status == KT_GRADE_OK;
    const char *code = ok ? level_code(r.level) : NULL;
    const char *thr = ok ? level_code(r.by_thresholds) : NULL;
    json_t *notes = notes_json(&r.report), *reason = json_null();
    if (!plan) {
        json_decref(notes);
        notes = json_pack("[s]", "Lớp chưa có kế hoạch môn học (môn lựa chọn, chuyên đề): chưa "
                                 "biết học sinh học những môn nào.");
        reason = reason_json("no_study_plan", "Chưa xếp loại học tập được.", notes);
    } else if (r.report.status == KT_GRADE_INCOMPLETE) {
        reason = reason_json("missing_subject_results",
                             "Chưa đủ kết quả các môn học sinh học.", notes);
    } else if (!ok) {
        reason = reason_json("not_computable", "Không xếp loại học tập tự động được.", notes);
    }
    json_array_append_new(levels, json_pack("{s:I,s:i,s:s,s:s?,s:s?,s:o,s:o}", "student", student,
                                            "semester", sem, "status", ok ? "ok" : "incomplete",
                                            "value", code, "by_thresholds", thr, "notes", notes,
                                            "reason", reason));
}

/* Which configured subjects a student studies: every one when the input
 * gives no list, otherwise those on it. Returns 1 when a list was given. */
static int
studied_subjects(const json_t *st, const struct subject *subs, size_t n, int *studies)
{
    const json_t *list = json_object_get(st, "subjects");
    for (size_t k = 0; k < n; k++) {
        studies[k] = !json_is_array(list);
        size_t i;
        const json_t *v;
        json_array_foreach(list, i, v)
        {
            const char *code = json_string_value(v);
            if (code && strcmp(code, subs[k].code) == 0)
                studies[k] = 1;
        }
    }
    return json_is_array(list);
}

json_t *
kt_records_compute(const json_t *input, char *err, size_t errsize)
{
    struct subject subs[MAX_SUBJECTS];
    size_t nsubs = 0;
    int grade = (int)json_integer_value(json_object_get(input, "grade"));
    if (grade < 1 || grade > 12) {
        snprintf(err, errsize, "Khối lớp phải từ 1 đến 12.");
        return NULL;
    }
    if (parse_subjects(input, subs, &nsubs, err, errsize) < 0)
        return NULL;
    const kt_ruleset *rs = grade <= 5 ? &kt_rules_tt27_2020 : &kt_rules_tt22_2021;
    json_t *results = json_array(), *levels = json_array();
    size_t i;
    const json_t *st;
    json_array_foreach(json_object_get(input, "students"), i, st)
    {
        json_int_t id = json_integer_value(json_object_get(st, "id"));
        const json_t *marks = json_object_get(st, "marks");
        struct computed c[MAX_SUBJECTS];
        int studies[MAX_SUBJECTS];
        int listed = studied_subjects(st, subs, nsubs, studies);
        /* Upper secondary: the level needs the student's subjects (the plan). */
        int plan = grade < 10 || listed;
        for (size_t k = 0; k < nsubs; k++) {
            c[k] = (struct computed){{KT_SCORE_MISSING, KT_SCORE_MISSING, KT_SCORE_MISSING},
                                     {KT_COMMENT_MISSING, KT_COMMENT_MISSING, KT_COMMENT_MISSING}};
            if (!studies[k])
                continue; /* not studied: no result at all */
            const json_t *m = json_object_get(marks, subs[k].code);
            if (subs[k].primary)
                primary_subject(&subs[k], m, id, results);
            else if (subs[k].cfg.mode == KT_MODE_COMMENT)
                comment_subject(&subs[k], m, id, &c[k], results);
            else
                score_subject(&subs[k], m, id, &c[k], results);
        }
        if (grade >= 6 && nsubs > 0)
            for (int sem = 0; sem <= 2; sem++)
                academic_level(subs, nsubs, studies, plan, c, sem, id, levels);
    }
    return json_pack("{s:{s:s,s:s},s:o,s:o}", "ruleset", "id", rs->id, "version", rs->version,
                     "results", results, "levels", levels);
}

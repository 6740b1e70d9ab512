/*
 * Year results beyond the subject results (see yearresult.h). Sources and
 * confidence (DOMAIN-VN):
 *   TT22 Điều 8 (year conduct)        grades.c conduct_year table   [V]/[V2] §1.6
 *   TT22 Điều 12 (lên lớp)            conduct, academic >= Đạt      [V2]     §1.7
 *                                     absence at most 45            [V2/U]   §1.7 -> data
 *   TT22 Điều 13 (rèn luyện hè)       conduct Chưa đạt              [V]      §1.7
 *   TT22 Điều 14 (kiểm tra lại)       conduct >= Đạt, academic CĐ;  [V]      §1.7
 *                                     subjects CĐ or ĐTBmcn < 5,0
 *   TT22 Điều 15 (danh hiệu)          grades.c kt_tt22_award        [V2]     §1.7
 *   TT27 Điều 7 (periodic tests)      grades.c per-grade test table [V]/[V2] §2
 *   TT27 Điều 9 (year result)         grades.c kt_tt27_year         [V2]     §2
 *   TT27 completion of the programme  result at least Hoàn thành    [U]      -> data
 *   TT27 ratings (5 PC, 3 NLC, 5 NLĐT) the C1 import template       [V2]     §5.3 -> data
 */
#include "yearresult.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_SUBJECTS 64

/* Phẩm chất: yêu nước, nhân ái, chăm chỉ, trung thực, trách nhiệm; năng lực
 * chung: tự chủ và tự học, giao tiếp và hợp tác, giải quyết vấn đề và sáng
 * tạo; năng lực đặc thù: ngôn ngữ, tính toán, khoa học, thẩm mĩ, thể chất
 * (codes of DOMAIN-VN §4.6; the list of §5.3). */
static const char *const tt27_aspects[] = {
    "PC.YN",      "PC.NA",   "PC.CC",   "PC.TT",   "PC.TN",   "NLC.TCTH", "NLC.GTHT",
    "NLC.GQVDST", "NLDT.NN", "NLDT.TT", "NLDT.KH", "NLDT.TM", "NLDT.TC",
};

const kt_year_rules kt_year_rules_2021 = {
    .id = "NAMHOC-2021",
    .version = "1",
    .conduct_min = KT_LEVEL_DAT,
    .academic_min = KT_LEVEL_DAT,
    .absence_max = 45,
    .retest_below = 50,
    .complete_min = KT_TT27_HOAN_THANH,
    .aspects = tt27_aspects,
    .naspects = COUNT(tt27_aspects),
};

const char *
kt_promotion_code(kt_promotion p)
{
    switch (p) {
    case KT_PROMOTION_LEN_LOP:
        return "LEN_LOP";
    case KT_PROMOTION_REN_LUYEN_HE:
        return "REN_LUYEN_HE";
    case KT_PROMOTION_KIEM_TRA_LAI:
        return "KIEM_TRA_LAI";
    case KT_PROMOTION_O_LAI_LOP:
        return "O_LAI_LOP";
    default:
        return NULL;
    }
}

const char *
kt_promotion_name(kt_promotion p)
{
    switch (p) {
    case KT_PROMOTION_LEN_LOP:
        return "Lên lớp";
    case KT_PROMOTION_REN_LUYEN_HE:
        return "Rèn luyện trong kì nghỉ hè";
    case KT_PROMOTION_KIEM_TRA_LAI:
        return "Kiểm tra lại";
    case KT_PROMOTION_O_LAI_LOP:
        return "Ở lại lớp";
    default:
        return "";
    }
}

static void
yr_note(kt_grade_report *rep, kt_grade_status st, const char *fmt, ...)
{
    if (st > rep->status)
        rep->status = st;
    if (rep->notes.n >= KT_NOTES_MAX) {
        rep->notes.omitted++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rep->notes.text[rep->notes.n++], KT_NOTE_LEN, fmt, ap);
    va_end(ap);
}

static void
yr_begin(const kt_year_rules *yr, kt_grade_report *rep)
{
    memset(rep, 0, sizeof(*rep));
    snprintf(rep->ruleset_id, sizeof(rep->ruleset_id), "%s", yr ? yr->id : "");
    snprintf(rep->ruleset_version, sizeof(rep->ruleset_version), "%s", yr ? yr->version : "");
}

kt_grade_status
kt_promotion_decide(const kt_year_rules *yr, kt_level conduct_year, kt_level academic_year,
                    int absent_days, kt_promotion_result *out)
{
    kt_grade_report *rep = &out->report;
    yr_begin(yr, rep);
    out->decision = KT_PROMOTION_MISSING;
    out->retest_after = 0;
    if (!yr) {
        yr_note(rep, KT_GRADE_INVALID, "Thiếu bộ quy tắc xét lên lớp.");
        return rep->status;
    }
    if (absent_days >= 0 && absent_days > yr->absence_max) {
        /* Điều 12: more days of absence than allowed: not promoted, whatever
         * the levels (no summer training or re-assessment makes up for it). */
        out->decision = KT_PROMOTION_O_LAI_LOP;
        yr_note(rep, KT_GRADE_OK, "Nghỉ %d buổi, quá %d buổi trong năm học (TT22 Điều 12).",
                absent_days, yr->absence_max);
        return rep->status;
    }
    if (conduct_year == KT_LEVEL_MISSING)
        yr_note(rep, KT_GRADE_INCOMPLETE, "Chưa có kết quả rèn luyện cả năm.");
    if (academic_year == KT_LEVEL_MISSING)
        yr_note(rep, KT_GRADE_INCOMPLETE, "Chưa có kết quả học tập cả năm.");
    if (absent_days < 0)
        yr_note(rep, KT_GRADE_INCOMPLETE, "Chưa có số buổi nghỉ học cả năm.");
    if (rep->status != KT_GRADE_OK)
        return rep->status;
    if (conduct_year >= yr->conduct_min && academic_year >= yr->academic_min) {
        out->decision = KT_PROMOTION_LEN_LOP;
    } else if (conduct_year < yr->conduct_min) {
        out->decision = KT_PROMOTION_REN_LUYEN_HE;
        out->retest_after = academic_year < yr->academic_min;
        yr_note(rep, KT_GRADE_OK,
                out->retest_after
                    ? "Rèn luyện chưa đạt: rèn luyện trong kì nghỉ hè (TT22 Điều 13), sau đó "
                      "kiểm tra lại các môn (Điều 14)."
                    : "Rèn luyện chưa đạt: rèn luyện trong kì nghỉ hè (TT22 Điều 13).");
    } else {
        out->decision = KT_PROMOTION_KIEM_TRA_LAI;
        yr_note(rep, KT_GRADE_OK, "Học tập chưa đạt: kiểm tra lại các môn (TT22 Điều 14).");
    }
    return rep->status;
}

int
kt_tt27_completes(const kt_year_rules *yr, kt_tt27_result r)
{
    if (r == KT_TT27_RESULT_MISSING || !yr)
        return -1;
    return r >= yr->complete_min;
}

int
kt_tt27_test_allowed(const kt_ruleset *rs, int grade, const char *subject, const char *mode,
                     const char *slot, char *why, size_t why_size)
{
    if (!slot)
        return 0;
    int mid = strcmp(slot, "gk") == 0, end = strcmp(slot, "ck") == 0;
    if (!mid && !end && strncmp(slot, "tx", 2) != 0)
        return 0; /* a level (level_gk, level_ck) or the teacher's comment: no test */
    if (!mid && !end) {
        snprintf(why, why_size,
                 "Tiểu học không ghi điểm thường xuyên (TT27 Điều 6: chỉ nhận xét).");
        return -1;
    }
    if (!mode || strcmp(mode, "primary_test") != 0) {
        snprintf(why, why_size,
                 "Môn %s lớp %d không có bài kiểm tra định kì (TT27 Điều 7 khoản 2): chỉ ghi "
                 "mức đạt được (T/H/C), không ghi điểm.",
                 subject ? subject : "?", grade);
        return -1;
    }
    char w[200] = "";
    int has = kt_tt27_has_test(rs, grade, subject, mid ? KT_TT27_GIUA_HK1 : KT_TT27_CUOI_HK1, w,
                               sizeof(w));
    if (has < 0) {
        snprintf(why, why_size, "%s", w);
        return -1;
    }
    if (!has) {
        if (mid)
            snprintf(why, why_size,
                     "Môn %s lớp %d không có bài kiểm tra giữa học kì (TT27 Điều 7 khoản 2: "
                     "chỉ lớp 4, lớp 5 kiểm tra giữa học kì, môn Tiếng Việt và Toán).",
                     subject, grade);
        else
            snprintf(why, why_size,
                     "Môn %s lớp %d không có bài kiểm tra định kì (TT27 Điều 7 khoản 2).", subject,
                     grade);
        return -1;
    }
    return 0;
}

kt_tt27_quality
kt_quality_of(const char *code)
{
    if (!code)
        return KT_QUALITY_MISSING;
    if (strcmp(code, "T") == 0)
        return KT_QUALITY_TOT;
    if (strcmp(code, "D") == 0)
        return KT_QUALITY_DAT;
    if (strcmp(code, "C") == 0)
        return KT_QUALITY_CAN_CO_GANG;
    return KT_QUALITY_MISSING;
}

int
kt_aspect_known(const kt_year_rules *yr, const char *code)
{
    for (size_t i = 0; code && yr && i < yr->naspects; i++)
        if (strcmp(yr->aspects[i], code) == 0)
            return 1;
    return 0;
}

/* ---- a class ----------------------------------------------------------------- */

static kt_level
level_of(const char *s)
{
    if (!s)
        return KT_LEVEL_MISSING;
    if (strcmp(s, "TOT") == 0)
        return KT_LEVEL_TOT;
    if (strcmp(s, "KHA") == 0)
        return KT_LEVEL_KHA;
    if (strcmp(s, "DAT") == 0)
        return KT_LEVEL_DAT;
    if (strcmp(s, "CD") == 0)
        return KT_LEVEL_CHUA_DAT;
    return KT_LEVEL_MISSING;
}

static const char *
level_code(kt_level l)
{
    static const char *const codes[] = {NULL, "CD", "DAT", "KHA", "TOT"};
    return l >= KT_LEVEL_CHUA_DAT && l <= KT_LEVEL_TOT ? codes[l] : NULL;
}

static const char *
tt27_result_code(kt_tt27_result r)
{
    static const char *const codes[] = {NULL, "CHT", "HT", "HTT", "HTXS"};
    return r >= KT_TT27_CHUA_HOAN_THANH && r <= KT_TT27_HOAN_THANH_XUAT_SAC ? codes[r] : NULL;
}

static void
notes_into(json_t *arr, const kt_grade_report *rep)
{
    for (size_t i = 0; i < rep->notes.n; i++)
        json_array_append_new(arr, json_string(rep->notes.text[i]));
}

static int
tenths_of(const json_t *v)
{
    const char *s = json_string_value(v);
    if (!s || !*s || strlen(s) > 3 || strspn(s, "0123456789") != strlen(s))
        return KT_SCORE_MISSING;
    return atoi(s) <= KT_SCORE_MAX ? atoi(s) : KT_SCORE_MISSING;
}

/* Secondary (TT22): conduct, award, promotion. */
static void
secondary_year(const json_t *st, json_t *row, json_t *notes, int *complete)
{
    const kt_ruleset *rs = &kt_rules_tt22_2021;
    const json_t *cond = json_object_get(st, "conduct");
    kt_level hk[2];
    int absent = 0, absent_known = 0;
    for (int s = 0; s < 2; s++) {
        const json_t *c = json_object_get(cond, s == 0 ? "1" : "2");
        hk[s] = level_of(json_string_value(json_object_get(c, "level")));
        if (c && json_is_integer(json_object_get(c, "absent"))) {
            absent += (int)json_integer_value(json_object_get(c, "absent"));
            absent_known++;
        }
    }
    json_object_set_new(row, "absent_days", absent_known ? json_integer(absent) : json_null());
    kt_tt22_conduct_result cy;
    kt_tt22_conduct_year(rs, hk[0], hk[1], &cy);
    notes_into(notes, &cy.report);
    kt_level conduct = cy.report.status == KT_GRADE_OK ? cy.level : KT_LEVEL_MISSING;
    json_object_set_new(row, "conduct",
                        level_code(conduct) ? json_string(level_code(conduct)) : json_null());
    const json_t *lv = json_object_get(st, "level");
    const char *lvs = json_string_value(json_object_get(lv, "status"));
    kt_level academic = lvs && strcmp(lvs, "ok") == 0
                            ? level_of(json_string_value(json_object_get(lv, "value")))
                            : KT_LEVEL_MISSING;
    /* The year's subject results: the award's ĐTBmcn and the subjects to re-assess. */
    kt_subject_mark marks[MAX_SUBJECTS];
    size_t n = 0;
    int missing = 0;
    json_t *retest = json_array();
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(st, "results"), i, r)
    {
        const char *mode = json_string_value(json_object_get(r, "mode"));
        const char *status = json_string_value(json_object_get(r, "status"));
        const char *code = json_string_value(json_object_get(r, "subject"));
        if (!mode || !code || n >= MAX_SUBJECTS || strncmp(mode, "primary", 7) == 0)
            continue;
        kt_subject_mark *m = &marks[n++];
        m->code = code;
        m->mode = strcmp(mode, "comment") == 0 ? KT_MODE_COMMENT : KT_MODE_SCORE;
        m->score = KT_SCORE_MISSING;
        m->comment = KT_COMMENT_MISSING;
        if (!status || strcmp(status, "ok") != 0) {
            missing++;
            continue;
        }
        const char *v = json_string_value(json_object_get(r, "value"));
        if (m->mode == KT_MODE_SCORE) {
            m->score = tenths_of(json_object_get(r, "value"));
            if (m->score != KT_SCORE_MISSING && m->score < kt_year_rules_2021.retest_below)
                json_array_append_new(retest, json_string(code));
        } else {
            m->comment = v && strcmp(v, "D") == 0    ? KT_COMMENT_DAT
                         : v && strcmp(v, "CD") == 0 ? KT_COMMENT_CHUA_DAT
                                                     : KT_COMMENT_MISSING;
            if (m->comment == KT_COMMENT_CHUA_DAT)
                json_array_append_new(retest, json_string(code));
        }
    }
    json_t *award = json_null();
    if (conduct != KT_LEVEL_MISSING && academic != KT_LEVEL_MISSING && !missing) {
        kt_tt22_award_result aw;
        kt_tt22_award(rs, conduct, academic, marks, n, &aw);
        if (aw.report.status == KT_GRADE_OK)
            award = aw.award == KT_AWARD_XUAT_SAC ? json_string("HSXS")
                    : aw.award == KT_AWARD_GIOI   ? json_string("HSG")
                                                  : json_null();
        else
            *complete = 0;
        notes_into(notes, &aw.report);
    }
    json_object_set_new(row, "award", award);
    kt_promotion_result pr;
    kt_promotion_decide(&kt_year_rules_2021, conduct, academic, absent_known == 2 ? absent : -1,
                        &pr);
    if (pr.report.status != KT_GRADE_OK)
        *complete = 0;
    notes_into(notes, &pr.report);
    json_object_set_new(row, "promotion",
                        kt_promotion_code(pr.decision) ? json_string(kt_promotion_code(pr.decision))
                                                       : json_null());
    json_object_set_new(row, "retest_after", json_boolean(pr.retest_after));
    int retests = pr.decision == KT_PROMOTION_KIEM_TRA_LAI || pr.retest_after;
    json_object_set_new(row, "retest_subjects", retests ? retest : json_array());
    if (retests)
        retest = NULL;
    json_decref(retest);
    if (conduct == KT_LEVEL_MISSING || academic == KT_LEVEL_MISSING)
        *complete = 0;
}

/* Primary (TT27): the year result and the completion of the programme. */
static void
primary_year(int grade, const json_t *st, json_t *row, json_t *notes, int *complete)
{
    const kt_ruleset *rs = &kt_rules_tt27_2020;
    kt_tt27_subject_year subs[MAX_SUBJECTS];
    size_t n = 0;
    size_t i;
    const json_t *r;
    const json_t *tests = json_object_get(st, "tests");
    json_array_foreach(json_object_get(st, "results"), i, r)
    {
        const char *code = json_string_value(json_object_get(r, "subject"));
        const char *status = json_string_value(json_object_get(r, "status"));
        const char *v = json_string_value(json_object_get(r, "value"));
        if (!code || n >= MAX_SUBJECTS)
            continue;
        kt_tt27_subject_year *s = &subs[n++];
        s->code = code;
        s->level = !status || strcmp(status, "ok") != 0 || !v ? KT_TT27_MISSING
                   : strcmp(v, "T") == 0                      ? KT_TT27_T
                   : strcmp(v, "H") == 0                      ? KT_TT27_H
                   : strcmp(v, "C") == 0                      ? KT_TT27_C
                                                              : KT_TT27_MISSING;
        int t = tenths_of(json_object_get(tests, code));
        s->test_score = t == KT_SCORE_MISSING ? KT_SCORE_MISSING : t / 10;
        if (t != KT_SCORE_MISSING &&
            kt_tt27_has_test(rs, grade, code, KT_TT27_CUOI_NAM, NULL, 0) != 1)
            s->test_score = KT_SCORE_MISSING; /* a score stored before the rule refused it */
    }
    kt_tt27_quality q[32];
    size_t nq = 0;
    const json_t *qs = json_object_get(st, "qualities");
    for (size_t k = 0; k < kt_year_rules_2021.naspects && nq < COUNT(q); k++) {
        const char *a = kt_year_rules_2021.aspects[k];
        kt_tt27_quality v = kt_quality_of(json_string_value(json_object_get(qs, a)));
        if (v == KT_QUALITY_MISSING) {
            json_array_append_new(notes, json_sprintf("Chưa đánh giá %s cuối năm.", a));
            *complete = 0;
        }
        q[nq++] = v;
    }
    kt_tt27_year_result yr;
    kt_tt27_year(rs, grade, subs, n, q, nq, &yr);
    notes_into(notes, &yr.report);
    kt_tt27_result res = yr.report.status == KT_GRADE_OK ? yr.result : KT_TT27_RESULT_MISSING;
    if (res == KT_TT27_RESULT_MISSING)
        *complete = 0;
    json_object_set_new(row, "primary_result",
                        tt27_result_code(res) ? json_string(tt27_result_code(res)) : json_null());
    int done = kt_tt27_completes(&kt_year_rules_2021, res);
    json_object_set_new(row, "completed", done < 0 ? json_null() : json_boolean(done));
    json_object_set_new(row, "conduct", json_null());
    json_object_set_new(row, "award", json_null());
    json_object_set_new(row, "promotion", json_null());
    json_object_set_new(row, "absent_days", json_null());
    json_object_set_new(row, "retest_after", json_false());
    json_object_set_new(row, "retest_subjects", json_array());
}

json_t *
kt_year_compute(const json_t *input, char *err, size_t errsize)
{
    const json_t *g = json_object_get(input, "grade");
    const json_t *students = json_object_get(input, "students");
    if (!json_is_integer(g) || json_integer_value(g) < 1 || json_integer_value(g) > 12 ||
        !json_is_array(students)) {
        snprintf(err, errsize, "Dữ liệu tính kết quả cả năm không hợp lệ (grade, students).");
        return NULL;
    }
    int grade = (int)json_integer_value(g);
    const kt_ruleset *rs = grade <= 5 ? &kt_rules_tt27_2020 : &kt_rules_tt22_2021;
    json_t *rows = json_array();
    size_t i;
    const json_t *st;
    json_array_foreach(students, i, st)
    {
        const json_t *id = json_object_get(st, "id");
        if (!json_is_integer(id)) {
            json_decref(rows);
            snprintf(err, errsize, "Học sinh thứ %zu không có mã (id).", i + 1);
            return NULL;
        }
        json_t *row = json_pack("{s:O}", "student", id);
        json_t *notes = json_array();
        int complete = 1;
        if (grade <= 5)
            primary_year(grade, st, row, notes, &complete);
        else
            secondary_year(st, row, notes, &complete);
        json_object_set_new(row, "status", json_string(complete ? "ok" : "incomplete"));
        json_object_set_new(row, "notes", notes);
        json_array_append_new(rows, row);
    }
    char yr[48];
    snprintf(yr, sizeof(yr), "%s/%s", kt_year_rules_2021.id, kt_year_rules_2021.version);
    return json_pack("{s:{s:s,s:s},s:s,s:o}", "ruleset", "id", rs->id, "version", rs->version,
                     "year_rules", yr, "rows", rows);
}

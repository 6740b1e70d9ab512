/*
 * Unit tests for engine/grades.c: TT22 subject averages (ĐTBmhk, ĐTBmcn)
 * with half-up rounding where binary floating point goes wrong, incomplete
 * records, ĐĐGtx slots, comment subjects, every result-level row at its
 * boundaries and the khoản 3 adjustment, conduct year, awards; TT27 test
 * scores, the per-grade test table and the end-of-year result; the score
 * parser and formatting; rule sets as data.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "grades.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MISSING KT_SCORE_MISSING

static const kt_subject_cfg toan = {"TOAN", KT_MODE_SCORE, 140, 0}; /* 4 ĐĐGtx */
static const kt_subject_cfg vat_li = {"VL", KT_MODE_SCORE, 70, 0};  /* 3 ĐĐGtx */
static const kt_subject_cfg gdtc = {"GDTC", KT_MODE_COMMENT, 70, 2};

/* ---- helpers ------------------------------------------------------------------ */

static bool
notes_have(const kt_grade_report *rep, const char *needle)
{
    for (size_t i = 0; i < rep->notes.n; i++)
        if (strstr(rep->notes.text[i], needle))
            return true;
    return false;
}

static void
assert_note(const kt_grade_report *rep, const char *needle)
{
    cr_assert(notes_have(rep, needle), "no note contains '%s' (%zu notes%s%s)", needle,
              rep->notes.n, rep->notes.n ? ", first: " : "",
              rep->notes.n ? rep->notes.text[0] : "");
}

static kt_tt22_average
dtb_mhk(const kt_subject_cfg *cfg, const int *tx, size_t n, int gk, int ck)
{
    kt_score_semester rec = {.ddg_tx = tx, .n_tx = n, .ddg_gk = gk, .ddg_ck = ck};
    kt_tt22_average out;
    kt_tt22_dtb_mhk(&kt_rules_tt22_2021, cfg, &rec, &out);
    return out;
}

static kt_subject_mark
score(const char *code, int tenths)
{
    return (kt_subject_mark){.code = code, .mode = KT_MODE_SCORE, .score = tenths};
}

static kt_subject_mark
comment(const char *code, kt_comment c)
{
    return (kt_subject_mark){.code = code, .mode = KT_MODE_COMMENT, .comment = c};
}

static const char *const score_codes[] = {"TOAN", "NV", "NN1", "KHTN", "LSDL", "GDCD", "TIN", "CN"};

/* Eight score subjects with the given ĐTB (in score_codes order), then
 * Giáo dục thể chất and Nghệ thuật with the given comment results. */
static size_t
marks8(kt_subject_mark *m, const int scores[8], kt_comment gdtc_c, kt_comment nt_c)
{
    for (size_t i = 0; i < 8; i++)
        m[i] = score(score_codes[i], scores[i]);
    m[8] = comment("GDTC", gdtc_c);
    m[9] = comment("NT", nt_c);
    return 10;
}

static kt_tt22_academic_result
level_with(const kt_ruleset *rs, const int scores[8], kt_comment gdtc_c, kt_comment nt_c)
{
    kt_subject_mark m[10];
    size_t n = marks8(m, scores, gdtc_c, nt_c);
    kt_tt22_academic_result r;
    cr_assert_eq(kt_tt22_academic_level(rs, m, n, &r), KT_GRADE_OK, "%s",
                 r.report.notes.n ? r.report.notes.text[0] : "");
    return r;
}

static kt_tt22_academic_result
level8(const int scores[8])
{
    return level_with(&kt_rules_tt22_2021, scores, KT_COMMENT_DAT, KT_COMMENT_DAT);
}

static void
assert_level(const int scores[8], kt_level by_thresholds, kt_level level)
{
    kt_tt22_academic_result r = level8(scores);
    cr_assert_eq(r.by_thresholds, by_thresholds, "by thresholds %s, expected %s",
                 kt_level_name(r.by_thresholds), kt_level_name(by_thresholds));
    cr_assert_eq(r.level, level, "level %s, expected %s", kt_level_name(r.level),
                 kt_level_name(level));
}

/* ---- ĐTBmhk, ĐTBmcn -------------------------------------------------------------- */

Test(dtb_mhk, worked_example_6_8_7_5_gk5_ck10_is_7_6875_shown_7_7)
{
    int tx[] = {60, 80, 75};
    kt_tt22_average a = dtb_mhk(&vat_li, tx, N(tx), 50, 100);
    cr_assert_eq(a.report.status, KT_GRADE_OK);
    cr_assert_eq(a.tenths, 77);
    cr_assert_str_eq(a.report.ruleset_id, "TT22-2021");
    cr_assert_str_eq(a.report.ruleset_version, "2");
    char buf[16];
    kt_tenths_format(a.tenths, ',', buf, sizeof buf);
    cr_assert_str_eq(buf, "7,7");
}

Test(dtb_mhk, exact_8_25_rounds_half_up_to_8_3_where_printf_gives_8_2)
{
    /* (8 + 8 + 8 + 2*9 + 3*8) / 8 = 66 / 8 = 8,25 */
    int tx[] = {80, 80, 80};
    kt_tt22_average a = dtb_mhk(&vat_li, tx, N(tx), 90, 80);
    cr_assert_eq(a.tenths, 83);
    char buf[16];
    snprintf(buf, sizeof buf, "%.1f", 66.0 / 8); /* the binary tie goes to even */
    cr_assert_str_eq(buf, "8.2");
}

Test(dtb_mhk, exact_7_55_is_7_6_where_double_arithmetic_gives_7_5)
{
    /* (5 + 5 + 6,2 + 2*9,2 + 3*8,6) / 8 = 60,4 / 8 = 7,55 exactly */
    int tx[] = {50, 50, 62};
    kt_tt22_average a = dtb_mhk(&vat_li, tx, N(tx), 92, 86);
    cr_assert_eq(a.report.status, KT_GRADE_OK);
    cr_assert_eq(a.tenths, 76);
    /* The same sum in doubles is 7,549999..., and "half up" on it gives 7,5. */
    double d = (5.0 + 5.0 + 6.2 + 2 * 9.2 + 3 * 8.6) / 8;
    cr_assert_eq((int)floor(d * 10 + 0.5), 75);
}

Test(dtb_mhk, denominator_is_number_of_tx_plus_5)
{
    /* 4 ĐĐGtx: (7+8+9+10 + 2*6 + 3*5) / 9 = 61 / 9 = 6,777... -> 6,8 */
    int tx[] = {70, 80, 90, 100};
    kt_tt22_average a = dtb_mhk(&toan, tx, N(tx), 60, 50);
    cr_assert_eq(a.tenths, 68);
}

Test(dtb_mhk, configured_tx_count_overrides_the_period_table)
{
    kt_subject_cfg cfg = toan;
    cfg.tx_per_semester = 2;
    /* (6 + 8 + 2*7 + 3*8) / 7 = 52 / 7 = 7,43 -> 7,4 */
    int tx[] = {60, 80};
    kt_tt22_average a = dtb_mhk(&cfg, tx, N(tx), 70, 80);
    cr_assert_eq(a.report.status, KT_GRADE_OK);
    cr_assert_eq(a.tenths, 74);
}

Test(dtb_mhk, incomplete_record_lists_everything_missing)
{
    int tx[] = {60, MISSING, 70};
    kt_tt22_average a = dtb_mhk(&vat_li, tx, N(tx), MISSING, MISSING);
    cr_assert_eq(a.report.status, KT_GRADE_INCOMPLETE);
    cr_assert_eq(a.report.notes.n, 3);
    assert_note(&a.report, "ĐĐGgk");
    assert_note(&a.report, "ĐĐGck");
    assert_note(&a.report, "2 trong 3");
    cr_assert_eq(a.tenths, 0);
}

Test(dtb_mhk, fewer_tx_than_slots_is_incomplete_not_a_number)
{
    int tx[] = {60, 80};
    kt_tt22_average a = dtb_mhk(&vat_li, tx, N(tx), 50, 100);
    cr_assert_eq(a.report.status, KT_GRADE_INCOMPLETE);
    assert_note(&a.report, "ĐĐGtx");
}

Test(dtb_mhk, out_of_scale_marks_and_extra_tx_are_all_reported)
{
    int tx[] = {105, 80, 70, 60};
    kt_tt22_average a = dtb_mhk(&vat_li, tx, N(tx), -5, MISSING);
    cr_assert_eq(a.report.status, KT_GRADE_INVALID);
    assert_note(&a.report, "ĐĐGtx thứ 1 là 10,5");
    assert_note(&a.report, "ĐĐGgk là -0,5");
    assert_note(&a.report, "ĐĐGck");
    cr_assert_eq(a.report.notes.n, 3);

    int five[] = {80, 80, 80, 80};
    a = dtb_mhk(&vat_li, five, N(five), 80, 80);
    cr_assert_eq(a.report.status, KT_GRADE_INVALID);
    assert_note(&a.report, "nhiều hơn 3");
}

Test(dtb_mhk, comment_subject_has_no_average)
{
    int tx[] = {80, 80};
    kt_tt22_average a = dtb_mhk(&gdtc, tx, N(tx), 80, 80);
    cr_assert_eq(a.report.status, KT_GRADE_INVALID);
    assert_note(&a.report, "GDTC");
}

Test(dtb_mcn, uses_the_rounded_semester_averages)
{
    int tx1[] = {50, 50, 62}, tx2[] = {80, 80, 80};
    kt_tt22_average hk1 = dtb_mhk(&vat_li, tx1, N(tx1), 92, 86); /* 7,55 -> 7,6 */
    kt_tt22_average hk2 = dtb_mhk(&vat_li, tx2, N(tx2), 90, 80); /* 8,25 -> 8,3 */
    kt_tt22_average y;
    cr_assert_eq(kt_tt22_dtb_mcn(&kt_rules_tt22_2021, &vat_li, hk1.tenths, hk2.tenths, &y),
                 KT_GRADE_OK);
    /* (7,6 + 2*8,3) / 3 = 8,0667 -> 8,1; the unrounded (7,55 + 2*8,25) / 3 = 8,0167 -> 8,0 */
    cr_assert_eq(y.tenths, 81);
    cr_assert_str_eq(y.report.ruleset_id, "TT22-2021");
}

Test(dtb_mcn, semester_two_counts_twice_and_rounds_half_up)
{
    kt_tt22_average y;
    kt_tt22_dtb_mcn(&kt_rules_tt22_2021, &toan, 79, 85, &y);
    cr_assert_eq(y.tenths, 83); /* 24,9 / 3 = 8,3 */
    kt_tt22_dtb_mcn(&kt_rules_tt22_2021, &toan, 66, 67, &y);
    cr_assert_eq(y.tenths, 67); /* 20,0 / 3 = 6,667 -> 6,7 */
    kt_tt22_dtb_mcn(&kt_rules_tt22_2021, &toan, 65, 64, &y);
    cr_assert_eq(y.tenths, 64); /* 19,3 / 3 = 6,433 -> 6,4 */
}

Test(dtb_mcn, missing_or_bad_semester_values)
{
    kt_tt22_average y;
    cr_assert_eq(kt_tt22_dtb_mcn(&kt_rules_tt22_2021, &toan, 80, MISSING, &y), KT_GRADE_INCOMPLETE);
    assert_note(&y.report, "học kì II");
    cr_assert_eq(kt_tt22_dtb_mcn(&kt_rules_tt22_2021, &toan, 101, MISSING, &y), KT_GRADE_INVALID);
    cr_assert_eq(y.report.notes.n, 2);
}

/* ---- ĐĐGtx slots ------------------------------------------------------------------ */

Test(tx_slots, table_edges_35_36_70_71)
{
    cr_assert_eq(kt_tt22_tx_slots(1), 2);
    cr_assert_eq(kt_tt22_tx_slots(35), 2);
    cr_assert_eq(kt_tt22_tx_slots(36), 3);
    cr_assert_eq(kt_tt22_tx_slots(52), 3);
    cr_assert_eq(kt_tt22_tx_slots(70), 3);
    cr_assert_eq(kt_tt22_tx_slots(71), 4);
    cr_assert_eq(kt_tt22_tx_slots(140), 4);
    cr_assert_eq(kt_tt22_tx_slots(0), -1);
}

Test(tx_slots, comment_subjects_take_the_count_from_configuration_only)
{
    char why[KT_NOTE_LEN];
    cr_assert_eq(kt_tt22_tx_required(&gdtc, why, sizeof why), 2);
    kt_subject_cfg bare = {"GDTC", KT_MODE_COMMENT, 70, 0};
    cr_assert_eq(kt_tt22_tx_required(&bare, why, sizeof why), -1);
    cr_assert(strstr(why, "nhận xét"), "%s", why);
    kt_subject_cfg bad = {"TOAN", KT_MODE_SCORE, 0, 0};
    cr_assert_eq(kt_tt22_tx_required(&bad, why, sizeof why), -1);
    cr_assert(strstr(why, "số tiết"), "%s", why);
    cr_assert_eq(kt_tt22_tx_required(&toan, NULL, 0), 4);
}

/* ---- comment subjects ------------------------------------------------------------ */

static kt_tt22_comment_result
comment_semester(const kt_subject_cfg *cfg, const kt_comment *tx, size_t n, kt_comment gk,
                 kt_comment ck)
{
    kt_comment_semester rec = {.ddg_tx = tx, .n_tx = n, .ddg_gk = gk, .ddg_ck = ck};
    kt_tt22_comment_result out;
    kt_tt22_comment_semester(&kt_rules_tt22_2021, cfg, &rec, &out);
    return out;
}

Test(comment_subject, all_taken_and_all_dat_is_dat)
{
    kt_comment tx[] = {KT_COMMENT_DAT, KT_COMMENT_DAT};
    kt_tt22_comment_result r = comment_semester(&gdtc, tx, 2, KT_COMMENT_DAT, KT_COMMENT_DAT);
    cr_assert_eq(r.report.status, KT_GRADE_OK);
    cr_assert_eq(r.result, KT_COMMENT_DAT);
    cr_assert_eq(r.report.notes.n, 0);
}

Test(comment_subject, one_chua_dat_makes_the_semester_chua_dat)
{
    kt_comment tx[] = {KT_COMMENT_DAT, KT_COMMENT_CHUA_DAT};
    kt_tt22_comment_result r = comment_semester(&gdtc, tx, 2, KT_COMMENT_DAT, KT_COMMENT_DAT);
    cr_assert_eq(r.result, KT_COMMENT_CHUA_DAT);
    assert_note(&r.report, "thứ 2");
    kt_comment dat[] = {KT_COMMENT_DAT, KT_COMMENT_DAT};
    r = comment_semester(&gdtc, dat, 2, KT_COMMENT_DAT, KT_COMMENT_CHUA_DAT);
    cr_assert_eq(r.result, KT_COMMENT_CHUA_DAT);
}

/* TT22 Điều 9 khoản 1 điểm b: a comment subject is Đạt or Chưa đạt over
 * all the semester's assessments, so there is no result until they all exist
 * (issue: tx1, tx2, gk = Đ with ck not entered used to give Chưa đạt). */
Test(comment_subject, tt22_dieu9_khoan1_no_result_until_every_assessment_exists)
{
    kt_comment tx[] = {KT_COMMENT_DAT};
    kt_tt22_comment_result r = comment_semester(&gdtc, tx, 1, KT_COMMENT_MISSING, KT_COMMENT_DAT);
    cr_assert_eq(r.report.status, KT_GRADE_INCOMPLETE);
    cr_assert_eq(r.result, KT_COMMENT_MISSING);
    cr_assert_eq(r.missing, 2);
    assert_note(&r.report, "giữa kì");
    assert_note(&r.report, "1 trong 2");

    kt_comment both[] = {KT_COMMENT_DAT, KT_COMMENT_DAT};
    r = comment_semester(&gdtc, both, 2, KT_COMMENT_DAT, KT_COMMENT_MISSING);
    cr_assert_eq(r.report.status, KT_GRADE_INCOMPLETE, "only the end-of-term assessment is missing");
    cr_assert_eq(r.result, KT_COMMENT_MISSING, "no result, not Chưa đạt");
    cr_assert_eq(r.missing, 1);
    assert_note(&r.report, "cuối kì");

    /* A Chưa đạt already recorded does not make a result either while one is missing. */
    kt_comment one_cd[] = {KT_COMMENT_CHUA_DAT, KT_COMMENT_DAT};
    r = comment_semester(&gdtc, one_cd, 2, KT_COMMENT_DAT, KT_COMMENT_MISSING);
    cr_assert_eq(r.report.status, KT_GRADE_INCOMPLETE);
    cr_assert_eq(r.result, KT_COMMENT_MISSING);
}

Test(comment_subject, bad_values_and_missing_configuration)
{
    kt_comment tx[] = {(kt_comment)7, KT_COMMENT_DAT, KT_COMMENT_DAT};
    kt_tt22_comment_result r = comment_semester(&gdtc, tx, 3, KT_COMMENT_DAT, KT_COMMENT_DAT);
    cr_assert_eq(r.report.status, KT_GRADE_INVALID);
    assert_note(&r.report, "không hợp lệ (7)");
    kt_subject_cfg bare = {"MT", KT_MODE_COMMENT, 35, 0};
    r = comment_semester(&bare, tx + 1, 2, KT_COMMENT_DAT, KT_COMMENT_DAT);
    cr_assert_eq(r.report.status, KT_GRADE_INVALID);
    assert_note(&r.report, "MT (đánh giá bằng nhận xét)");
}

Test(comment_subject, year_is_the_semester_two_result)
{
    kt_tt22_comment_result r;
    cr_assert_eq(kt_tt22_comment_year(&kt_rules_tt22_2021, &gdtc, KT_COMMENT_CHUA_DAT, &r),
                 KT_GRADE_OK);
    cr_assert_eq(r.result, KT_COMMENT_CHUA_DAT);
    kt_tt22_comment_year(&kt_rules_tt22_2021, &gdtc, KT_COMMENT_DAT, &r);
    cr_assert_eq(r.result, KT_COMMENT_DAT);
    cr_assert_eq(kt_tt22_comment_year(&kt_rules_tt22_2021, &gdtc, KT_COMMENT_MISSING, &r),
                 KT_GRADE_INCOMPLETE);
}

/* ---- result levels (Điều 9 khoản 2) ------------------------------------------------ */

Test(level, tot_at_exactly_8_0_six_times_and_6_5_floor)
{
    int s[8] = {80, 80, 80, 80, 80, 80, 65, 65};
    assert_level(s, KT_LEVEL_TOT, KT_LEVEL_TOT);
}

Test(level, tot_needs_six_subjects_at_8_0_five_is_kha)
{
    int s[8] = {80, 80, 80, 80, 80, 79, 79, 79};
    assert_level(s, KT_LEVEL_KHA, KT_LEVEL_KHA);
}

Test(level, tot_floor_6_4_gives_kha_one_level_down_not_raised)
{
    int s[8] = {80, 80, 80, 80, 80, 80, 80, 64};
    assert_level(s, KT_LEVEL_KHA, KT_LEVEL_KHA);
}

Test(level, tot_needs_every_comment_subject_dat)
{
    int s[8] = {90, 90, 90, 90, 90, 90, 90, 90};
    kt_tt22_academic_result r =
        level_with(&kt_rules_tt22_2021, s, KT_COMMENT_CHUA_DAT, KT_COMMENT_DAT);
    cr_assert_eq(r.by_thresholds, KT_LEVEL_DAT);
}

Test(level, kha_at_exactly_6_5_six_times_and_5_0_floor)
{
    int s[8] = {65, 65, 65, 65, 65, 65, 50, 50};
    assert_level(s, KT_LEVEL_KHA, KT_LEVEL_KHA);
}

Test(level, kha_needs_six_subjects_at_6_5_five_is_dat)
{
    int s[8] = {65, 65, 65, 65, 65, 64, 64, 64};
    assert_level(s, KT_LEVEL_DAT, KT_LEVEL_DAT);
}

Test(level, kha_floor_4_9_gives_dat)
{
    int s[8] = {65, 65, 65, 65, 65, 65, 65, 49};
    assert_level(s, KT_LEVEL_DAT, KT_LEVEL_DAT);
}

Test(level, dat_at_exactly_5_0_six_times_and_3_5_floor_with_one_comment_chua_dat)
{
    int s[8] = {50, 50, 50, 50, 50, 50, 35, 35};
    kt_tt22_academic_result r =
        level_with(&kt_rules_tt22_2021, s, KT_COMMENT_DAT, KT_COMMENT_CHUA_DAT);
    cr_assert_eq(r.by_thresholds, KT_LEVEL_DAT);
    cr_assert_eq(r.level, KT_LEVEL_DAT);
}

Test(level, dat_needs_six_subjects_at_5_0_five_is_chua_dat)
{
    int s[8] = {50, 50, 50, 50, 50, 49, 49, 49};
    assert_level(s, KT_LEVEL_CHUA_DAT, KT_LEVEL_CHUA_DAT);
}

Test(level, dat_floor_3_4_gives_chua_dat)
{
    int s[8] = {50, 50, 50, 50, 50, 50, 50, 34};
    assert_level(s, KT_LEVEL_CHUA_DAT, KT_LEVEL_CHUA_DAT);
}

Test(level, two_comment_subjects_chua_dat_is_chua_dat)
{
    int s[8] = {90, 90, 90, 90, 90, 90, 90, 90};
    kt_tt22_academic_result r =
        level_with(&kt_rules_tt22_2021, s, KT_COMMENT_CHUA_DAT, KT_COMMENT_CHUA_DAT);
    cr_assert_eq(r.by_thresholds, KT_LEVEL_CHUA_DAT);
    cr_assert_eq(r.level, KT_LEVEL_CHUA_DAT, "two subjects: khoản 3 does not apply");
}

Test(level, missing_duplicate_and_too_few_subjects_are_reported)
{
    kt_subject_mark m[] = {score("TOAN", 80), score("NV", MISSING), score("TOAN", 70),
                           comment("GDTC", KT_COMMENT_MISSING), score("", 70)};
    kt_tt22_academic_result r;
    cr_assert_eq(kt_tt22_academic_level(&kt_rules_tt22_2021, m, N(m), &r), KT_GRADE_INVALID);
    assert_note(&r.report, "Môn NV: chưa có điểm");
    assert_note(&r.report, "Môn TOAN có hai kết quả");
    assert_note(&r.report, "GDTC: chưa có kết quả");
    assert_note(&r.report, "Môn thứ 5");
    assert_note(&r.report, "Chỉ có 4 môn");
    cr_assert_eq(r.level, KT_LEVEL_MISSING);

    kt_subject_mark ok6[] = {score("A", 80), score("B", 80), score("C", 80),
                             score("D", 80), score("E", 80), score("F", MISSING)};
    cr_assert_eq(kt_tt22_academic_level(&kt_rules_tt22_2021, ok6, N(ok6), &r), KT_GRADE_INCOMPLETE);
}

Test(level, thresholds_come_from_the_rule_set)
{
    kt_ruleset rs = kt_rules_tt22_2021;
    rs.id = "TT22-2021-thu";
    rs.version = "2";
    rs.tt22.tot.many_count = 5;
    int s[8] = {80, 80, 80, 80, 80, 79, 79, 79};
    kt_tt22_academic_result r = level_with(&rs, s, KT_COMMENT_DAT, KT_COMMENT_DAT);
    cr_assert_eq(r.level, KT_LEVEL_TOT);
    cr_assert_str_eq(r.report.ruleset_id, "TT22-2021-thu");
    cr_assert_str_eq(r.report.ruleset_version, "2");
}

/* ---- khoản 3: raised when one single subject pulls the level two or more down ---- */

Test(khoan3, one_subject_at_4_0_pulls_tot_down_to_dat_raised_to_kha)
{
    int s[8] = {85, 85, 85, 85, 85, 85, 85, 40};
    kt_tt22_academic_result r = level8(s);
    cr_assert_eq(r.by_thresholds, KT_LEVEL_DAT);
    cr_assert_eq(r.level, KT_LEVEL_KHA);
    cr_assert_eq(r.khoan3_subject, 7);
    assert_note(&r.report, "khoản 3");
    assert_note(&r.report, "môn CN");
}

Test(khoan3, one_subject_at_3_0_pulls_kha_down_to_chua_dat_raised_to_dat)
{
    int s[8] = {70, 70, 70, 70, 70, 70, 70, 30};
    kt_tt22_academic_result r = level8(s);
    cr_assert_eq(r.by_thresholds, KT_LEVEL_CHUA_DAT);
    cr_assert_eq(r.level, KT_LEVEL_DAT);
}

Test(khoan3, one_comment_subject_chua_dat_pulls_tot_down_to_dat_raised_to_kha)
{
    int s[8] = {90, 90, 90, 90, 90, 90, 90, 90};
    kt_tt22_academic_result r =
        level_with(&kt_rules_tt22_2021, s, KT_COMMENT_DAT, KT_COMMENT_CHUA_DAT);
    cr_assert_eq(r.by_thresholds, KT_LEVEL_DAT);
    cr_assert_eq(r.level, KT_LEVEL_KHA);
    assert_note(&r.report, "môn NT");
}

Test(khoan3, two_subjects_pulling_tot_down_to_dat_are_not_raised)
{
    int s[8] = {85, 85, 85, 85, 85, 85, 40, 40};
    kt_tt22_academic_result r = level8(s);
    cr_assert_eq(r.by_thresholds, KT_LEVEL_DAT);
    cr_assert_eq(r.level, KT_LEVEL_DAT);
    cr_assert_eq(r.khoan3_subject, SIZE_MAX);
    cr_assert_eq(r.report.notes.n, 0);
}

Test(khoan3, one_subject_pulling_tot_one_level_down_to_kha_is_not_raised)
{
    int s[8] = {85, 85, 85, 85, 85, 85, 85, 60};
    kt_tt22_academic_result r = level8(s);
    cr_assert_eq(r.level, KT_LEVEL_KHA);
    cr_assert_eq(r.khoan3_subject, SIZE_MAX);
}

Test(khoan3, subject_that_is_also_the_missing_sixth_8_0_still_counts_as_the_single_cause)
{
    /* With 4,0 -> 10 the pupil has six subjects at 8,0 or more and Tốt. */
    int s[8] = {85, 85, 85, 85, 85, 70, 70, 40};
    kt_tt22_academic_result r = level8(s);
    cr_assert_eq(r.by_thresholds, KT_LEVEL_DAT);
    cr_assert_eq(r.level, KT_LEVEL_KHA);
}

/* TT22 Điều 9 khoản 3, built-in reading (TT22-2021 v2): "lên mức liền kề" is
 * one level up from the computed level, so Tốt pulled to Chưa đạt by one
 * subject comes out Đạt. */
Test(khoan3, tt22_dieu9_khoan3_tot_pulled_down_to_chua_dat_gives_dat_by_default)
{
    int s[8] = {85, 85, 85, 85, 85, 85, 85, 30};
    kt_tt22_academic_result r = level8(s);
    cr_assert_eq(kt_rules_tt22_2021.tt22.khoan3, KT_KHOAN3_ONE_UP);
    cr_assert_str_eq(r.report.ruleset_version, "2");
    cr_assert_eq(r.by_thresholds, KT_LEVEL_CHUA_DAT);
    cr_assert_eq(r.level, KT_LEVEL_DAT);
    assert_note(&r.report, "lên mức Đạt");
    /* Where the readings agree: Tốt -> Đạt is raised to Khá, Tốt -> Khá (one
     * level) is not raised. */
    int t[8] = {85, 85, 85, 85, 85, 85, 85, 40};
    cr_assert_eq(level8(t).level, KT_LEVEL_KHA);
    int u[8] = {85, 85, 85, 85, 85, 85, 85, 60};
    cr_assert_eq(level8(u).level, KT_LEVEL_KHA);
}

/* TT22 Điều 9 khoản 3, the other reading kept as a rule-set option: the level
 * next below the one the subject pulled it from (Tốt -> Khá). */
Test(khoan3, tt22_dieu9_khoan3_below_target_option_gives_kha)
{
    kt_ruleset rs = kt_rules_tt22_2021;
    rs.tt22.khoan3 = KT_KHOAN3_BELOW_TARGET;
    int s[8] = {85, 85, 85, 85, 85, 85, 85, 30};
    kt_tt22_academic_result r = level_with(&rs, s, KT_COMMENT_DAT, KT_COMMENT_DAT);
    cr_assert_eq(r.by_thresholds, KT_LEVEL_CHUA_DAT);
    cr_assert_eq(r.level, KT_LEVEL_KHA);
}

/* ---- conduct (Điều 8) ------------------------------------------------------------- */

Test(conduct, year_from_the_two_semesters_all_16_combinations)
{
#define CD KT_LEVEL_CHUA_DAT
#define D KT_LEVEL_DAT
#define K KT_LEVEL_KHA
#define T KT_LEVEL_TOT
    static const struct {
        kt_level hk1, hk2, year;
    } rows[] = {
        /* HK II Tốt: Tốt when HK I is at least Khá, else Khá */
        {T, T, T},
        {K, T, T},
        {D, T, K},
        {CD, T, K},
        /* HK II Khá: Khá when HK I is at least Đạt, else Đạt */
        {T, K, K},
        {K, K, K},
        {D, K, K},
        {CD, K, D},
        /* HK II Đạt: Khá when HK I is Tốt, else Đạt */
        {T, D, K},
        {K, D, D},
        {D, D, D},
        {CD, D, D},
        /* HK II Chưa đạt: Chưa đạt */
        {T, CD, CD},
        {K, CD, CD},
        {D, CD, CD},
        {CD, CD, CD},
    };
#undef CD
#undef D
#undef K
#undef T
    for (size_t i = 0; i < N(rows); i++) {
        kt_tt22_conduct_result r;
        cr_assert_eq(kt_tt22_conduct_year(&kt_rules_tt22_2021, rows[i].hk1, rows[i].hk2, &r),
                     KT_GRADE_OK);
        cr_assert_eq(r.level, rows[i].year, "HK I %s, HK II %s: %s, expected %s",
                     kt_level_name(rows[i].hk1), kt_level_name(rows[i].hk2), kt_level_name(r.level),
                     kt_level_name(rows[i].year));
    }
}

Test(conduct, missing_and_bad_semester_levels)
{
    kt_tt22_conduct_result r;
    cr_assert_eq(kt_tt22_conduct_year(&kt_rules_tt22_2021, KT_LEVEL_TOT, KT_LEVEL_MISSING, &r),
                 KT_GRADE_INCOMPLETE);
    assert_note(&r.report, "học kì II");
    cr_assert_eq(kt_tt22_conduct_year(&kt_rules_tt22_2021, (kt_level)9, KT_LEVEL_MISSING, &r),
                 KT_GRADE_INVALID);
    cr_assert_eq(r.report.notes.n, 2);
}

/* ---- awards (Điều 15) -------------------------------------------------------------- */

static kt_award
award(const kt_ruleset *rs, kt_level conduct, kt_level academic, const int scores[8])
{
    kt_subject_mark m[10];
    size_t n = marks8(m, scores, KT_COMMENT_DAT, KT_COMMENT_DAT);
    kt_tt22_award_result r;
    cr_assert_eq(kt_tt22_award(rs, conduct, academic, m, n, &r), KT_GRADE_OK);
    return r.award;
}

Test(award, xuat_sac_needs_six_score_subjects_at_9_0)
{
    int six[8] = {90, 90, 90, 90, 90, 90, 85, 85};
    int five[8] = {90, 90, 90, 90, 90, 89, 89, 89};
    cr_assert_eq(award(&kt_rules_tt22_2021, KT_LEVEL_TOT, KT_LEVEL_TOT, six), KT_AWARD_XUAT_SAC);
    cr_assert_eq(award(&kt_rules_tt22_2021, KT_LEVEL_TOT, KT_LEVEL_TOT, five), KT_AWARD_GIOI);
}

Test(award, both_awards_need_conduct_tot_and_academic_tot)
{
    int s[8] = {95, 95, 95, 95, 95, 95, 95, 95};
    cr_assert_eq(award(&kt_rules_tt22_2021, KT_LEVEL_KHA, KT_LEVEL_TOT, s), KT_AWARD_NONE);
    cr_assert_eq(award(&kt_rules_tt22_2021, KT_LEVEL_TOT, KT_LEVEL_KHA, s), KT_AWARD_NONE);
}

Test(award, thresholds_are_configurable)
{
    kt_ruleset rs = kt_rules_tt22_2021;
    rs.tt22.xuat_sac_count = 5;
    int five[8] = {90, 90, 90, 90, 90, 89, 89, 89};
    cr_assert_eq(award(&rs, KT_LEVEL_TOT, KT_LEVEL_TOT, five), KT_AWARD_XUAT_SAC);
    cr_assert_str_eq(kt_award_name(KT_AWARD_XUAT_SAC), "Học sinh Xuất sắc");
    cr_assert_str_eq(kt_award_name(KT_AWARD_GIOI), "Học sinh Giỏi");
}

Test(award, missing_levels_are_incomplete)
{
    kt_tt22_award_result r;
    cr_assert_eq(kt_tt22_award(&kt_rules_tt22_2021, KT_LEVEL_MISSING, KT_LEVEL_TOT, NULL, 0, &r),
                 KT_GRADE_INCOMPLETE);
    assert_note(&r.report, "rèn luyện cả năm");
}

/* ---- TT27 -------------------------------------------------------------------------- */

Test(tt27, periodic_test_scores_are_whole_numbers_0_to_10)
{
    char why[KT_NOTE_LEN];
    const kt_ruleset *rs = &kt_rules_tt27_2020;
    cr_assert_eq(kt_tt27_score_parse(rs, "7", why, sizeof why), 7);
    cr_assert_eq(kt_tt27_score_parse(rs, " 10 ", why, sizeof why), 10);
    cr_assert_eq(kt_tt27_score_parse(rs, "0", why, sizeof why), 0);
    cr_assert_eq(kt_tt27_score_parse(rs, "7,5", why, sizeof why), -1);
    cr_assert(strstr(why, "thập phân"), "%s", why);
    cr_assert_eq(kt_tt27_score_parse(rs, "8.0", why, sizeof why), -1);
    cr_assert_eq(kt_tt27_score_parse(rs, "11", why, sizeof why), -1);
    cr_assert_eq(kt_tt27_score_parse(rs, "-1", why, sizeof why), -1);
    cr_assert_eq(kt_tt27_score_parse(rs, "", why, sizeof why), -1);
    cr_assert(strstr(why, "Chưa nhập điểm bài kiểm tra"), "%s", why);
    cr_assert_eq(kt_tt27_score_parse(rs, NULL, why, sizeof why), -1);
    cr_assert(strstr(why, "Chưa nhập điểm bài kiểm tra"), "%s", why);
    cr_assert_eq(kt_tt27_score_parse(rs, "mười", NULL, 0), -1);
}

Test(tt27, lowest_score_is_configuration)
{
    kt_ruleset rs = kt_rules_tt27_2020;
    rs.tt27.test_min = 1;
    char why[KT_NOTE_LEN];
    cr_assert_eq(kt_tt27_score_parse(&rs, "0", why, sizeof why), -1);
    cr_assert(strstr(why, "từ 1 đến 10"), "%s", why);
}

Test(tt27, rule_set_of_the_wrong_level_is_refused)
{
    char why[KT_NOTE_LEN];
    cr_assert_eq(kt_tt27_score_parse(&kt_rules_tt22_2021, "7", why, sizeof why), -1);
    cr_assert(strstr(why, "THCS"), "%s", why);
    kt_tt22_average a;
    kt_tt22_dtb_mcn(&kt_rules_tt27_2020, &toan, 70, 70, &a);
    cr_assert_eq(a.report.status, KT_GRADE_INVALID);
    assert_note(&a.report, "tiểu học");
}

Test(tt27, tested_subjects_differ_in_grades_1_3_and_4)
{
    const kt_ruleset *rs = &kt_rules_tt27_2020;
    char why[KT_NOTE_LEN];
    cr_assert_eq(kt_tt27_has_test(rs, 1, "TOAN", KT_TT27_CUOI_NAM, why, sizeof why), 1);
    cr_assert_eq(kt_tt27_has_test(rs, 1, "TV", KT_TT27_CUOI_HK1, why, sizeof why), 1);
    cr_assert_eq(kt_tt27_has_test(rs, 1, "NN1", KT_TT27_CUOI_NAM, why, sizeof why), 0);
    cr_assert_eq(kt_tt27_has_test(rs, 1, "TOAN", KT_TT27_GIUA_HK1, why, sizeof why), 0);

    cr_assert_eq(kt_tt27_has_test(rs, 3, "NN1.EN", KT_TT27_CUOI_NAM, why, sizeof why), 1);
    cr_assert_eq(kt_tt27_has_test(rs, 3, "TINCN", KT_TT27_CUOI_HK1, why, sizeof why), 1);
    cr_assert_eq(kt_tt27_has_test(rs, 3, "LSDL", KT_TT27_CUOI_NAM, why, sizeof why), 0);
    cr_assert_eq(kt_tt27_has_test(rs, 3, "KH", KT_TT27_CUOI_NAM, why, sizeof why), 0);
    cr_assert_eq(kt_tt27_has_test(rs, 3, "TOAN", KT_TT27_GIUA_HK2, why, sizeof why), 0);
    cr_assert_eq(kt_tt27_has_test(rs, 3, "NN1X", KT_TT27_CUOI_NAM, why, sizeof why), 0);

    cr_assert_eq(kt_tt27_has_test(rs, 4, "LSDL", KT_TT27_CUOI_NAM, why, sizeof why), 1);
    cr_assert_eq(kt_tt27_has_test(rs, 4, "KH", KT_TT27_CUOI_HK1, why, sizeof why), 1);
    cr_assert_eq(kt_tt27_has_test(rs, 4, "TOAN", KT_TT27_GIUA_HK1, why, sizeof why), 1);
    cr_assert_eq(kt_tt27_has_test(rs, 4, "TV", KT_TT27_GIUA_HK2, why, sizeof why), 1);
    cr_assert_eq(kt_tt27_has_test(rs, 4, "KH", KT_TT27_GIUA_HK1, why, sizeof why), 0);

    cr_assert_eq(kt_tt27_has_test(rs, 6, "TOAN", KT_TT27_CUOI_NAM, why, sizeof why), -1);
    cr_assert(strstr(why, "Lớp 6"), "%s", why);
}

Test(tt27, the_caller_can_replace_the_grade_table)
{
    static const char *const g1[] = {"TV", "TOAN", "TNXH"};
    static const kt_tt27_grade_tests table[] = {{1, g1, 3, NULL, 0}};
    kt_ruleset rs = kt_rules_tt27_2020;
    rs.version = "1-so";
    rs.tt27.grades = table;
    rs.tt27.ngrades = 1;
    cr_assert_eq(kt_tt27_has_test(&rs, 1, "TNXH", KT_TT27_CUOI_NAM, NULL, 0), 1);
    cr_assert_eq(kt_tt27_has_test(&rs, 2, "TOAN", KT_TT27_CUOI_NAM, NULL, 0), -1);
    const kt_tt27_grade_tests *g = kt_tt27_grade(&rs, 1, NULL, 0);
    cr_assert_eq(g, &table[0]);
}

/* A grade-3 pupil: the four tested subjects with the given scores and
 * levels, then Đạo đức and Hoạt động trải nghiệm without tests. */
static kt_tt27_year_result
primary_year(const int scores[4], const kt_tt27_level levels[6], kt_tt27_quality q)
{
    static const char *const codes[6] = {"TV", "TOAN", "NN1", "TINCN", "DD", "HDTN"};
    kt_tt27_subject_year s[6];
    for (int i = 0; i < 6; i++)
        s[i] = (kt_tt27_subject_year){codes[i], levels[i], i < 4 ? scores[i] : MISSING};
    kt_tt27_quality qualities[10];
    for (int i = 0; i < 10; i++)
        qualities[i] = KT_QUALITY_TOT;
    qualities[9] = q;
    kt_tt27_year_result r;
    kt_tt27_year(&kt_rules_tt27_2020, 3, s, 6, qualities, 10, &r);
    return r;
}

static const kt_tt27_level all_t[6] = {KT_TT27_T, KT_TT27_T, KT_TT27_T,
                                       KT_TT27_T, KT_TT27_T, KT_TT27_T};

static kt_tt27_result
primary_result(const int scores[4], const kt_tt27_level levels[6], kt_tt27_quality q)
{
    kt_tt27_year_result r = primary_year(scores, levels, q);
    cr_assert_eq(r.report.status, KT_GRADE_OK, "%s",
                 r.report.notes.n ? r.report.notes.text[0] : "");
    cr_assert_str_eq(r.report.ruleset_id, "TT27-2020");
    return r.result;
}

Test(tt27_year, xuat_sac_all_t_qualities_tot_tests_at_least_9)
{
    int s[4] = {10, 9, 9, 10};
    cr_assert_eq(primary_result(s, all_t, KT_QUALITY_TOT), KT_TT27_HOAN_THANH_XUAT_SAC);
    cr_assert_str_eq(kt_tt27_result_name(KT_TT27_HOAN_THANH_XUAT_SAC), "Hoàn thành xuất sắc");
}

Test(tt27_year, hoan_thanh_tot_with_a_test_at_8_or_exactly_7)
{
    int s8[4] = {10, 8, 9, 10}, s7[4] = {7, 7, 7, 7};
    cr_assert_eq(primary_result(s8, all_t, KT_QUALITY_TOT), KT_TT27_HOAN_THANH_TOT);
    cr_assert_eq(primary_result(s7, all_t, KT_QUALITY_TOT), KT_TT27_HOAN_THANH_TOT);
}

Test(tt27_year, hoan_thanh_with_a_subject_h_a_quality_dat_or_a_test_at_5)
{
    int s10[4] = {10, 10, 10, 10}, s5[4] = {10, 5, 10, 10};
    kt_tt27_level one_h[6] = {KT_TT27_T, KT_TT27_T, KT_TT27_T, KT_TT27_T, KT_TT27_T, KT_TT27_H};
    cr_assert_eq(primary_result(s10, one_h, KT_QUALITY_TOT), KT_TT27_HOAN_THANH);
    cr_assert_eq(primary_result(s10, all_t, KT_QUALITY_DAT), KT_TT27_HOAN_THANH);
    cr_assert_eq(primary_result(s5, all_t, KT_QUALITY_TOT), KT_TT27_HOAN_THANH);
}

Test(tt27_year, chua_hoan_thanh_with_a_subject_c_a_quality_can_co_gang_or_a_test_at_4)
{
    int s10[4] = {10, 10, 10, 10}, s4[4] = {10, 10, 4, 10};
    kt_tt27_level one_c[6] = {KT_TT27_T, KT_TT27_C, KT_TT27_T, KT_TT27_T, KT_TT27_T, KT_TT27_T};
    cr_assert_eq(primary_result(s10, one_c, KT_QUALITY_TOT), KT_TT27_CHUA_HOAN_THANH);
    cr_assert_eq(primary_result(s10, all_t, KT_QUALITY_CAN_CO_GANG), KT_TT27_CHUA_HOAN_THANH);
    cr_assert_eq(primary_result(s4, all_t, KT_QUALITY_TOT), KT_TT27_CHUA_HOAN_THANH);
}

Test(tt27_year, missing_tests_absent_subjects_and_impossible_scores_are_reported)
{
    int s[4] = {10, MISSING, 11, 10};
    kt_tt27_level levels[6] = {KT_TT27_T,       KT_TT27_T, KT_TT27_T,
                               KT_TT27_MISSING, KT_TT27_T, KT_TT27_T};
    kt_tt27_year_result r = primary_year(s, levels, KT_QUALITY_MISSING);
    cr_assert_eq(r.report.status, KT_GRADE_INVALID);
    assert_note(&r.report, "Môn TOAN: chưa có điểm");
    assert_note(&r.report, "Môn NN1: điểm bài kiểm tra 11");
    assert_note(&r.report, "Môn TINCN: chưa có mức");
    assert_note(&r.report, "thứ 10 chưa được đánh giá");
    cr_assert_eq(r.result, KT_TT27_RESULT_MISSING);

    kt_tt27_subject_year only[] = {
        {"TV", KT_TT27_T, 9}, {"TOAN", KT_TT27_T, 9}, {"DD", KT_TT27_T, 9}};
    kt_tt27_quality q[] = {KT_QUALITY_TOT};
    cr_assert_eq(kt_tt27_year(&kt_rules_tt27_2020, 3, only, N(only), q, 1, &r), KT_GRADE_INVALID);
    assert_note(&r.report, "Môn DD: lớp 3 không có bài kiểm tra");
    assert_note(&r.report, "Thiếu kết quả môn NN1");
    assert_note(&r.report, "Thiếu kết quả môn TINCN");
}

/* ---- score parser and formatting -------------------------------------------------- */

Test(score_parse, accepts_comma_or_point_and_one_decimal)
{
    cr_assert_eq(kt_score_parse("7,5", NULL, 0), 75);
    cr_assert_eq(kt_score_parse("7.5", NULL, 0), 75);
    cr_assert_eq(kt_score_parse(" 8 ", NULL, 0), 80);
    cr_assert_eq(kt_score_parse("10", NULL, 0), 100);
    cr_assert_eq(kt_score_parse("10,0", NULL, 0), 100);
    cr_assert_eq(kt_score_parse("0", NULL, 0), 0);
    cr_assert_eq(kt_score_parse("0,0", NULL, 0), 0);
}

Test(score_parse, refuses_two_decimals_out_of_scale_signs_and_text)
{
    char why[KT_NOTE_LEN];
    cr_assert_eq(kt_score_parse("7,55", why, sizeof why), -1);
    cr_assert(strstr(why, "một chữ số thập phân"), "%s", why);
    cr_assert_eq(kt_score_parse("7,50", why, sizeof why), -1);
    cr_assert_eq(kt_score_parse("11", why, sizeof why), -1);
    cr_assert(strstr(why, "từ 0 đến 10"), "%s", why);
    cr_assert_eq(kt_score_parse("10,1", why, sizeof why), -1);
    cr_assert_eq(kt_score_parse("-1", why, sizeof why), -1);
    cr_assert(strstr(why, "âm"), "%s", why);
    const char *bad[] = {"abc", "", "   ", ",5", "7,", "7,5x", "+7", "1e1", "7 5", "7,,5"};
    for (size_t i = 0; i < N(bad); i++)
        cr_assert_eq(kt_score_parse(bad[i], why, sizeof why), -1, "'%s' accepted", bad[i]);
    cr_assert_eq(kt_score_parse(NULL, why, sizeof why), -1);
    cr_assert(strstr(why, "Chưa nhập điểm"), "%s", why);
    cr_assert_eq(kt_score_parse(" \t ", why, sizeof why), -1);
    cr_assert(strstr(why, "Chưa nhập điểm"), "%s", why);
    cr_assert_eq(kt_score_parse("99999999999999999999", why, sizeof why), -1);
}

Test(score_parse, finer_scores_round_half_up_into_the_record)
{
    kt_decimal d;
    char why[KT_NOTE_LEN];
    kt_decimal_parse("7,25", &d);
    cr_assert_eq(kt_score_from_decimal(d, why, sizeof why), 73);
    kt_decimal_parse("7,249", &d);
    cr_assert_eq(kt_score_from_decimal(d, why, sizeof why), 72);
    kt_decimal_parse("9,95", &d);
    cr_assert_eq(kt_score_from_decimal(d, why, sizeof why), 100);
    kt_decimal_parse("10,05", &d);
    cr_assert_eq(kt_score_from_decimal(d, why, sizeof why), -1);
    kt_decimal_parse("-0,04", &d);
    cr_assert_eq(kt_score_from_decimal(d, why, sizeof why), -1);
    cr_assert(strstr(why, "âm"), "%s", why);
}

Test(format, tenths_with_decimal_comma_or_point)
{
    char buf[16];
    cr_assert_eq(kt_tenths_format(77, ',', buf, sizeof buf), 3);
    cr_assert_str_eq(buf, "7,7");
    kt_tenths_format(77, '.', buf, sizeof buf);
    cr_assert_str_eq(buf, "7.7");
    kt_tenths_format(80, ',', buf, sizeof buf);
    cr_assert_str_eq(buf, "8,0");
    kt_tenths_format(100, ',', buf, sizeof buf);
    cr_assert_str_eq(buf, "10,0");
    kt_tenths_format(0, '.', buf, sizeof buf);
    cr_assert_str_eq(buf, "0.0");
}

Test(format, vietnamese_names)
{
    cr_assert_str_eq(kt_level_name(KT_LEVEL_CHUA_DAT), "Chưa đạt");
    cr_assert_str_eq(kt_level_name(KT_LEVEL_TOT), "Tốt");
    cr_assert_str_eq(kt_level_name(KT_LEVEL_MISSING), "");
    cr_assert_str_eq(kt_comment_name(KT_COMMENT_DAT), "Đạt");
    cr_assert_str_eq(kt_tt27_level_name(KT_TT27_T), "Hoàn thành tốt");
    cr_assert_str_eq(kt_tt27_level_name(KT_TT27_C), "Chưa hoàn thành");
    cr_assert_str_eq(kt_tt27_quality_name(KT_QUALITY_CAN_CO_GANG), "Cần cố gắng");
}

/* ---- rule sets and notes ------------------------------------------------------------ */

Test(ruleset, built_in_rule_sets_are_valid)
{
    kt_grade_report rep;
    cr_assert_eq(kt_ruleset_check(&kt_rules_tt22_2021, &rep), KT_GRADE_OK);
    cr_assert_eq(kt_ruleset_check(&kt_rules_tt27_2020, &rep), KT_GRADE_OK);
    cr_assert_str_eq(rep.ruleset_id, "TT27-2020");
}

Test(ruleset, every_problem_of_a_bad_rule_set_is_listed)
{
    kt_ruleset rs = kt_rules_tt22_2021;
    rs.version = "";
    rs.tt22.kha.floor = 70; /* Khá stricter than Tốt, and floor above many_min */
    rs.tt22.conduct_year[1][2] = KT_LEVEL_MISSING;
    rs.tt22.xuat_sac_count = 0;
    kt_grade_report rep;
    cr_assert_eq(kt_ruleset_check(&rs, &rep), KT_GRADE_INVALID);
    assert_note(&rep, "phiên bản");
    assert_note(&rep, "mức Khá không hợp lệ");
    assert_note(&rep, "mức Tốt phải chặt hơn mức Khá");
    assert_note(&rep, "học kì I Đạt, học kì II Khá");
    assert_note(&rep, "khen thưởng");
    kt_tt22_average a;
    cr_assert_eq(kt_tt22_dtb_mcn(&rs, &toan, 70, 70, &a), KT_GRADE_INVALID);
    cr_assert_eq(kt_ruleset_check(NULL, &rep), KT_GRADE_INVALID);
}

Test(ruleset, notes_beyond_the_limit_are_counted_and_cut_at_a_character)
{
    char codes[20][8];
    kt_subject_mark m[20];
    for (int i = 0; i < 20; i++) {
        snprintf(codes[i], sizeof codes[i], "M%02d", i);
        m[i] = score(codes[i], MISSING);
    }
    kt_tt22_academic_result r;
    cr_assert_eq(kt_tt22_academic_level(&kt_rules_tt22_2021, m, 20, &r), KT_GRADE_INCOMPLETE);
    cr_assert_eq(r.report.notes.n, KT_NOTES_MAX);
    cr_assert_eq(r.report.notes.omitted, 20 - KT_NOTES_MAX);

    /* "Môn x" is 6 bytes, then two-byte letters: byte 239 is the second
     * byte of a letter, so the note stops before that letter. */
    char code[512] = "x";
    for (int i = 0; i < 200; i++)
        strcat(code, "Đ");
    kt_subject_cfg cfg = {code, KT_MODE_SCORE, 70, 0};
    kt_tt22_average a;
    kt_tt22_dtb_mcn(&kt_rules_tt22_2021, &cfg, MISSING, 70, &a);
    cr_assert_eq(strlen(a.report.notes.text[0]), 238);
}

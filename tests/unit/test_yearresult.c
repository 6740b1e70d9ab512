/*
 * Unit tests for engine/yearresult.c: the promotion decision (TT22 Điều
 * 12-14), the completion of the primary class programme (TT27), which
 * periodic tests TT27 Điều 7 gives, and a class's year results (year
 * conduct by Điều 8, danh hiệu by Điều 15, primary year result by TT27
 * Điều 9) computed from stored results. Each test names its article.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "yearresult.h"

static const kt_year_rules *R = &kt_year_rules_2021;

/* ---- TT22 Điều 12-14: promotion ------------------------------------------------ */

Test(promotion, dieu12_khoan1_len_lop_when_conduct_and_academic_reach_dat)
{
    kt_promotion_result r;
    cr_assert_eq(kt_promotion_decide(R, KT_LEVEL_DAT, KT_LEVEL_DAT, 45, &r), KT_GRADE_OK);
    cr_assert_eq(r.decision, KT_PROMOTION_LEN_LOP);
    cr_assert_str_eq(kt_promotion_code(r.decision), "LEN_LOP");
    kt_promotion_decide(R, KT_LEVEL_TOT, KT_LEVEL_KHA, 0, &r);
    cr_assert_eq(r.decision, KT_PROMOTION_LEN_LOP);
}

Test(promotion, dieu12_absence_over_45_days_o_lai_lop_whatever_the_levels)
{
    kt_promotion_result r;
    cr_assert_eq(kt_promotion_decide(R, KT_LEVEL_TOT, KT_LEVEL_TOT, 46, &r), KT_GRADE_OK);
    cr_assert_eq(r.decision, KT_PROMOTION_O_LAI_LOP);
    cr_assert(strstr(r.report.notes.text[0], "Điều 12"));
    /* The limit is data ([V2/U]): a rule set with another limit decides by it. */
    kt_year_rules other = *R;
    other.absence_max = 50;
    kt_promotion_decide(&other, KT_LEVEL_TOT, KT_LEVEL_TOT, 46, &r);
    cr_assert_eq(r.decision, KT_PROMOTION_LEN_LOP);
}

Test(promotion, dieu13_conduct_chua_dat_ren_luyen_he)
{
    kt_promotion_result r;
    kt_promotion_decide(R, KT_LEVEL_CHUA_DAT, KT_LEVEL_KHA, 3, &r);
    cr_assert_eq(r.decision, KT_PROMOTION_REN_LUYEN_HE);
    cr_assert_eq(r.retest_after, 0);
    /* Both Chưa đạt: summer training first, then the re-assessment (Điều 13, 14). */
    kt_promotion_decide(R, KT_LEVEL_CHUA_DAT, KT_LEVEL_CHUA_DAT, 3, &r);
    cr_assert_eq(r.decision, KT_PROMOTION_REN_LUYEN_HE);
    cr_assert_eq(r.retest_after, 1);
}

Test(promotion, dieu14_conduct_dat_academic_chua_dat_kiem_tra_lai)
{
    kt_promotion_result r;
    kt_promotion_decide(R, KT_LEVEL_DAT, KT_LEVEL_CHUA_DAT, 0, &r);
    cr_assert_eq(r.decision, KT_PROMOTION_KIEM_TRA_LAI);
    cr_assert_str_eq(kt_promotion_name(r.decision), "Kiểm tra lại");
}

Test(promotion, dieu12_missing_input_is_incomplete)
{
    kt_promotion_result r;
    cr_assert_eq(kt_promotion_decide(R, KT_LEVEL_MISSING, KT_LEVEL_TOT, 0, &r),
                 KT_GRADE_INCOMPLETE);
    cr_assert_eq(r.decision, KT_PROMOTION_MISSING);
    cr_assert_eq(kt_promotion_decide(R, KT_LEVEL_TOT, KT_LEVEL_TOT, -1, &r), KT_GRADE_INCOMPLETE);
}

/* ---- TT27 ---------------------------------------------------------------------- */

Test(tt27, completion_from_hoan_thanh_up)
{
    cr_assert_eq(kt_tt27_completes(R, KT_TT27_HOAN_THANH_XUAT_SAC), 1);
    cr_assert_eq(kt_tt27_completes(R, KT_TT27_HOAN_THANH), 1);
    cr_assert_eq(kt_tt27_completes(R, KT_TT27_CHUA_HOAN_THANH), 0);
    cr_assert_eq(kt_tt27_completes(R, KT_TT27_RESULT_MISSING), -1);
}

Test(tt27, dieu7_khoan2_no_mid_term_ngoai_ngu_in_grade_4)
{
    char why[300];
    cr_assert_eq(
        kt_tt27_test_allowed(&kt_rules_tt27_2020, 4, "NN1", "primary_test", "gk", why, sizeof(why)),
        -1);
    cr_assert(strstr(why, "Điều 7"), "%s", why);
    cr_assert(strstr(why, "giữa học kì"), "%s", why);
    /* Tiếng Việt and Toán have one in grades 4 and 5; end-of-semester Ngoại ngữ too. */
    cr_assert_eq(kt_tt27_test_allowed(&kt_rules_tt27_2020, 4, "TOAN", "primary_test", "gk", why,
                                      sizeof(why)),
                 0);
    cr_assert_eq(
        kt_tt27_test_allowed(&kt_rules_tt27_2020, 4, "NN1", "primary_test", "ck", why, sizeof(why)),
        0);
    /* Not in grade 3. */
    cr_assert_eq(kt_tt27_test_allowed(&kt_rules_tt27_2020, 3, "TOAN", "primary_test", "gk", why,
                                      sizeof(why)),
                 -1);
}

Test(tt27, dieu7_khoan2_no_test_score_for_dao_duc)
{
    char why[300];
    cr_assert_eq(
        kt_tt27_test_allowed(&kt_rules_tt27_2020, 2, "DD", "primary_level", "ck", why, sizeof(why)),
        -1);
    cr_assert(strstr(why, "Điều 7") && strstr(why, "DD"), "%s", why);
    /* Its level (T/H/C) is not a test and passes. */
    cr_assert_eq(kt_tt27_test_allowed(&kt_rules_tt27_2020, 2, "DD", "primary_level", "level_ck",
                                      why, sizeof(why)),
                 0);
    /* The teacher's comment is not a test. */
    cr_assert_eq(kt_tt27_test_allowed(&kt_rules_tt27_2020, 2, "DD", "primary_level", "nx", why,
                                      sizeof(why)),
                 0);
    /* No regular-assessment score at primary (TT27 Điều 6). */
    cr_assert_eq(kt_tt27_test_allowed(&kt_rules_tt27_2020, 2, "TOAN", "primary_test", "tx1", why,
                                      sizeof(why)),
                 -1);
}

/* ---- a class ------------------------------------------------------------------ */

static json_t *
row_of(json_t *out, json_int_t id)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(out, "rows"), i,
                       r) if (json_integer_value(json_object_get(r, "student")) == id) return r;
    return NULL;
}

static const char *
str(json_t *row, const char *k)
{
    return json_string_value(json_object_get(row, k));
}

/* Six score subjects at ĐTBmcn `hi` and the rest as given, comment subjects Đạt. */
static json_t *
secondary_student(int id, const char *hk1, const char *hk2, int absent, const char *level,
                  const char *hi, const char *low)
{
    json_t *results = json_array();
    const char *codes[] = {"TOAN", "NV", "NN1", "LS", "LY", "HOA", "SINH", "GDQPAN"};
    for (int i = 0; i < 8; i++)
        json_array_append_new(results,
                              json_pack("{s:s,s:s,s:s,s:s}", "subject", codes[i], "mode", "score",
                                        "status", "ok", "value", i < 6 ? hi : low));
    json_array_append_new(results, json_pack("{s:s,s:s,s:s,s:s}", "subject", "GDTC", "mode",
                                             "comment", "status", "ok", "value", "D"));
    return json_pack("{s:i,s:{s:{s:s,s:i},s:{s:s,s:i}},s:o,s:{s:s,s:s}}", "id", id, "conduct", "1",
                     "level", hk1, "absent", absent, "2", "level", hk2, "absent", 0, "results",
                     results, "level", "status", "ok", "value", level);
}

Test(year, dieu8_dieu15_xuat_sac_gioi_and_promotion)
{
    json_t *in = json_pack("{s:i,s:[o,o,o,o]}", "grade", 10, "students",
                           /* Điều 15: Tốt/Tốt and 6 subjects >= 9,0: Xuất sắc */
                           secondary_student(1, "KHA", "TOT", 2, "TOT", "90", "80"),
                           /* 5 subjects >= 9,0 only: Giỏi */
                           secondary_student(2, "TOT", "TOT", 0, "TOT", "89", "95"),
                           /* Điều 8: HK I Tốt, HK II Đạt -> Khá; no award; lên lớp */
                           secondary_student(3, "TOT", "DAT", 0, "KHA", "70", "70"),
                           /* academic Chưa đạt, conduct Đạt: kiểm tra lại (Điều 14) in the
                            * subjects below 5,0 */
                           secondary_student(4, "DAT", "DAT", 0, "CD", "60", "30"));
    char err[200];
    json_t *out = kt_year_compute(in, err, sizeof(err));
    cr_assert(out, "%s", err);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(out, "ruleset"), "id")),
                     "TT22-2021");
    json_t *a = row_of(out, 1), *b = row_of(out, 2), *c = row_of(out, 3), *d = row_of(out, 4);
    cr_assert_str_eq(str(a, "conduct"), "TOT"); /* HK II Tốt, HK I Khá: Tốt (Điều 8) */
    cr_assert_str_eq(str(a, "award"), "HSXS");
    cr_assert_str_eq(str(a, "promotion"), "LEN_LOP");
    cr_assert_str_eq(str(a, "status"), "ok");
    cr_assert_eq(json_integer_value(json_object_get(a, "absent_days")), 2);
    cr_assert_str_eq(str(b, "award"), "HSG");
    cr_assert_str_eq(str(c, "conduct"), "KHA");
    cr_assert(json_is_null(json_object_get(c, "award")));
    cr_assert_str_eq(str(c, "promotion"), "LEN_LOP");
    cr_assert_str_eq(str(d, "promotion"), "KIEM_TRA_LAI");
    json_t *re = json_object_get(d, "retest_subjects");
    cr_assert_eq(json_array_size(re), 2);
    cr_assert_str_eq(json_string_value(json_array_get(re, 0)), "SINH");
    cr_assert_str_eq(json_string_value(json_array_get(re, 1)), "GDQPAN");
    json_decref(out);
    json_decref(in);
}

Test(year, dieu8_missing_semester_conduct_is_incomplete)
{
    json_t *st = secondary_student(1, "TOT", "TOT", 0, "TOT", "90", "90");
    json_object_del(json_object_get(st, "conduct"), "2");
    json_t *in = json_pack("{s:i,s:[o]}", "grade", 11, "students", st);
    char err[200];
    json_t *out = kt_year_compute(in, err, sizeof(err));
    json_t *a = row_of(out, 1);
    cr_assert_str_eq(str(a, "status"), "incomplete");
    cr_assert(json_is_null(json_object_get(a, "conduct")));
    cr_assert(json_is_null(json_object_get(a, "promotion")));
    cr_assert(json_array_size(json_object_get(a, "notes")) > 0);
    json_decref(out);
    json_decref(in);
}

static json_t *
primary_student(int id, const char *level, const char *test, const char *rating)
{
    const char *tested[] = {"TV", "TOAN", "NN1", "TINCN", "LSDL", "KH"};
    const char *other[] = {"DD", "GDTC", "NT", "HDTN"};
    json_t *results = json_array(), *tests = json_object(), *q = json_object();
    for (int i = 0; i < 6; i++) {
        json_array_append_new(results, json_pack("{s:s,s:s,s:s,s:s}", "subject", tested[i], "mode",
                                                 "primary_test", "status", "ok", "value", level));
        json_object_set_new(tests, tested[i], json_string(test));
    }
    for (int i = 0; i < 4; i++)
        json_array_append_new(results, json_pack("{s:s,s:s,s:s,s:s}", "subject", other[i], "mode",
                                                 "primary_level", "status", "ok", "value", level));
    for (size_t i = 0; i < R->naspects; i++)
        json_object_set_new(q, R->aspects[i], json_string(rating));
    return json_pack("{s:i,s:o,s:o,s:o}", "id", id, "results", results, "tests", tests, "qualities",
                     q);
}

Test(year, tt27_dieu9_year_result_and_completion)
{
    json_t *in = json_pack("{s:i,s:[o,o,o,o]}", "grade", 4, "students",
                           primary_student(1, "T", "90", "T"),  /* HTXS: tests >= 9 */
                           primary_student(2, "T", "80", "T"),  /* HTT: tests >= 7 */
                           primary_student(3, "H", "60", "D"),  /* HT */
                           primary_student(4, "C", "40", "C")); /* CHT: not completed */
    char err[200];
    json_t *out = kt_year_compute(in, err, sizeof(err));
    cr_assert(out, "%s", err);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(out, "ruleset"), "id")),
                     "TT27-2020");
    cr_assert_str_eq(str(row_of(out, 1), "primary_result"), "HTXS");
    cr_assert_str_eq(str(row_of(out, 2), "primary_result"), "HTT");
    cr_assert_str_eq(str(row_of(out, 3), "primary_result"), "HT");
    cr_assert_str_eq(str(row_of(out, 4), "primary_result"), "CHT");
    cr_assert(json_is_true(json_object_get(row_of(out, 3), "completed")));
    cr_assert(json_is_false(json_object_get(row_of(out, 4), "completed")));
    cr_assert_str_eq(str(row_of(out, 1), "status"), "ok");
    json_decref(out);
    json_decref(in);
}

Test(year, tt27_missing_rating_is_incomplete)
{
    json_t *st = primary_student(1, "T", "90", "T");
    json_object_del(json_object_get(st, "qualities"), "PC.TN");
    json_t *in = json_pack("{s:i,s:[o]}", "grade", 5, "students", st);
    char err[200];
    json_t *out = kt_year_compute(in, err, sizeof(err));
    json_t *a = row_of(out, 1);
    cr_assert_str_eq(str(a, "status"), "incomplete");
    cr_assert(json_is_null(json_object_get(a, "completed")));
    json_decref(out);
    json_decref(in);
}

Test(year, malformed_input_refused)
{
    char err[200] = "";
    json_t *in = json_pack("{s:i}", "grade", 13);
    cr_assert_null(kt_year_compute(in, err, sizeof(err)));
    cr_assert(err[0]);
    json_decref(in);
}

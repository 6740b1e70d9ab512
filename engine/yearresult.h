/*
 * Year results of a pupil beyond the subject results: for THCS and THPT
 * (TT22) the year conduct (Điều 8), danh hiệu (Điều 15) and the promotion
 * decision (Điều 12-14); for primary (TT27) the end-of-year result (Điều 9)
 * from the subjects, the tests and the ratings of qualities and
 * competencies, and the completion of the class programme. Also which
 * periodic tests TT27 gives (Điều 7), so that a score for a test TT27 does
 * not give is refused. Pure: no I/O. The rules of grades.c are used as they
 * are; what is new here is data in kt_year_rules.
 */
#ifndef KT_YEARRESULT_H
#define KT_YEARRESULT_H

#include <jansson.h>
#include <stddef.h>

#include "grades.h"

/* The promotion decision at the end of the year (TT22 Điều 12-14). */
typedef enum {
    KT_PROMOTION_MISSING = 0,
    KT_PROMOTION_LEN_LOP,      /* lên lớp (Điều 12 khoản 1) */
    KT_PROMOTION_REN_LUYEN_HE, /* rèn luyện trong kì nghỉ hè (Điều 13) */
    KT_PROMOTION_KIEM_TRA_LAI, /* kiểm tra lại các môn học (Điều 14) */
    KT_PROMOTION_O_LAI_LOP,    /* ở lại lớp (Điều 12 khoản 2) */
} kt_promotion;

/* Codes stored and sent: "LEN_LOP", "REN_LUYEN_HE", "KIEM_TRA_LAI",
 * "O_LAI_LOP"; NULL for a missing decision. */
const char *kt_promotion_code(kt_promotion p);
/* Vietnamese names ("Lên lớp", "Rèn luyện trong kì nghỉ hè", ...); "". */
const char *kt_promotion_name(kt_promotion p);

/* What this file decides, as data. Copy the built-in set and change a
 * field to follow an amended text; give the copy its own id or version. */
typedef struct kt_year_rules {
    const char *id;        /* "NAMHOC-2021" */
    const char *version;   /* "1" */
    kt_level conduct_min;  /* TT22 Điều 12 khoản 1: year conduct at least (Đạt) */
    kt_level academic_min; /* TT22 Điều 12 khoản 1: year academic level at least (Đạt) */
    int absence_max;       /* TT22 Điều 12 khoản 1: days of absence at most (45) [V2/U] */
    int retest_below; /* TT22 Điều 14: score subjects re-assessed below this ĐTBmcn (5,0) */
    kt_tt27_result complete_min; /* TT27: the year results that complete the class
                                  * programme start at this one (Hoàn thành) [U] */
    const char *const *aspects;  /* TT27 qualities and competencies rated (DOMAIN-VN §5.3) */
    size_t naspects;
} kt_year_rules;

extern const kt_year_rules kt_year_rules_2021;

typedef struct kt_promotion_result {
    kt_grade_report report;
    kt_promotion decision; /* when report.status is KT_GRADE_OK */
    int retest_after;      /* conduct and academic both Chưa đạt: after the summer
                            * training the subjects are re-assessed too (Điều 13, 14) */
} kt_promotion_result;

/* The decision from the year conduct, the year academic level and the days
 * of absence (negative: not recorded): ở lại lớp past absence_max; lên lớp
 * when conduct and academic reach their minimum; otherwise rèn luyện hè when
 * the conduct is below its minimum (with retest_after when the academic
 * level is below too), else kiểm tra lại. INCOMPLETE when an input is
 * missing. */
kt_grade_status kt_promotion_decide(const kt_year_rules *yr, kt_level conduct_year,
                                    kt_level academic_year, int absent_days,
                                    kt_promotion_result *out);

/* 1 when the TT27 year result completes the class programme, 0 when not,
 * -1 when the result is missing. */
int kt_tt27_completes(const kt_year_rules *yr, kt_tt27_result r);

/* Whether a periodic-test score may be recorded in slot ("gk": mid-semester,
 * "ck": end of semester I / end of year) of semester (1, 2) for a primary
 * subject of grade whose configured mode is mode ("primary_test",
 * "primary_level"). 0 when it may; -1 with a Vietnamese reason naming the
 * rule (TT27 Điều 7) in why when TT27 gives no such test, or for a
 * regular-assessment slot tx1.. (TT27 Điều 6: comments only). Other slots
 * (level_gk, level_ck, the comment nx) are not tests and always pass. */
int kt_tt27_test_allowed(const kt_ruleset *rs, int grade, const char *subject, const char *mode,
                         const char *slot, char *why, size_t why_size);

/* A TT27 rating code T / D / C as a quality level; KT_QUALITY_MISSING otherwise. */
kt_tt27_quality kt_quality_of(const char *code);
/* Whether code is one of yr's aspects ("PC.YN", "NLC.TCTH", ...). */
int kt_aspect_known(const kt_year_rules *yr, const char *code);

/* A class's year results from its stored results and the staff's input:
 * input:
 *   {"grade": 10,
 *    "students": [{"id": 12,
 *                  "conduct": {"1": {"level": "TOT", "absent": 2}, "2": {...}},
 *                  "qualities": {"PC.YN": "T", ...},          (semester II, primary)
 *                  "results": [{"subject": "TOAN", "mode": "score", "status": "ok",
 *                               "value": "85"}, ...],        (the year: semester 0)
 *                  "level": {"status": "ok", "value": "TOT"} | null, (academic, year)
 *                  "tests": {"TOAN": "90", ...}}, ...]}        (primary, end of year)
 * Returns {"ruleset": {"id", "version"}, "year_rules": "NAMHOC-2021/1",
 *          "rows": [{"student", "status": "ok"|"incomplete", "conduct", "award",
 *                    "promotion", "primary_result", "completed", "absent_days",
 *                    "retest_after", "retest_subjects", "notes"}]}
 * with null for what could not be decided yet (the notes say why), or NULL
 * with a Vietnamese reason in err for malformed input. */
json_t *kt_year_compute(const json_t *input, char *err, size_t errsize);

#endif

/*
 * Learner-record rules (sổ điểm, học bạ): Thông tư 22/2021 for THCS and
 * THPT (subject averages, comment subjects, result levels with the khoản 3
 * adjustment, conduct year, awards) and Thông tư 27/2020 for primary
 * (integer periodic tests, T/H/C levels, end-of-year result). Pure
 * functions over plain structs; every mark is an integer number of tenths
 * (7,5 is 75) and every legally rounded step rounds half up. The numbers
 * the circulars fix live in a kt_ruleset, and every result carries the id
 * and version of the rule set that produced it.
 */
#ifndef KT_GRADES_H
#define KT_GRADES_H

#include <stddef.h>

#include "decimal.h"

#define KT_SCORE_MISSING (-1) /* a score not (yet) recorded */
#define KT_SCORE_MAX 100      /* 10,0 in tenths */

/* ---- levels and values ------------------------------------------------------ */

/* The four levels of TT22 for kết quả học tập and kết quả rèn luyện, in
 * increasing order; 0 is "not given yet". */
typedef enum {
    KT_LEVEL_MISSING = 0,
    KT_LEVEL_CHUA_DAT, /* Chưa đạt */
    KT_LEVEL_DAT,      /* Đạt */
    KT_LEVEL_KHA,      /* Khá */
    KT_LEVEL_TOT,      /* Tốt */
} kt_level;

/* One assessment of a comment-only subject (đánh giá bằng nhận xét). */
typedef enum {
    KT_COMMENT_MISSING = 0,
    KT_COMMENT_CHUA_DAT, /* Chưa đạt */
    KT_COMMENT_DAT,      /* Đạt */
} kt_comment;

typedef enum {
    KT_AWARD_NONE = 0,
    KT_AWARD_GIOI,     /* Học sinh Giỏi */
    KT_AWARD_XUAT_SAC, /* Học sinh Xuất sắc */
} kt_award;

/* TT27 level of a primary subject or educational activity, given by the teacher. */
typedef enum {
    KT_TT27_MISSING = 0,
    KT_TT27_C, /* Chưa hoàn thành */
    KT_TT27_H, /* Hoàn thành */
    KT_TT27_T, /* Hoàn thành tốt */
} kt_tt27_level;

/* TT27 rating of one quality (phẩm chất) or competency (năng lực). */
typedef enum {
    KT_QUALITY_MISSING = 0,
    KT_QUALITY_CAN_CO_GANG, /* Cần cố gắng */
    KT_QUALITY_DAT,         /* Đạt */
    KT_QUALITY_TOT,         /* Tốt */
} kt_tt27_quality;

/* TT27 Điều 9: end-of-year result of a primary pupil. */
typedef enum {
    KT_TT27_RESULT_MISSING = 0,
    KT_TT27_CHUA_HOAN_THANH,    /* Chưa hoàn thành */
    KT_TT27_HOAN_THANH,         /* Hoàn thành */
    KT_TT27_HOAN_THANH_TOT,     /* Hoàn thành tốt */
    KT_TT27_HOAN_THANH_XUAT_SAC /* Hoàn thành xuất sắc */
} kt_tt27_result;

/* The four moments of TT27 periodic assessment. */
typedef enum {
    KT_TT27_GIUA_HK1, /* giữa học kì I */
    KT_TT27_CUOI_HK1, /* cuối học kì I */
    KT_TT27_GIUA_HK2, /* giữa học kì II */
    KT_TT27_CUOI_NAM, /* cuối năm học */
} kt_tt27_moment;

/* Vietnamese names for display ("Chưa đạt", "Học sinh Giỏi", "Hoàn thành
 * tốt", "Cần cố gắng", "Hoàn thành xuất sắc"); "" for a missing value. */
const char *kt_level_name(kt_level l);
const char *kt_comment_name(kt_comment c);
const char *kt_award_name(kt_award a);
const char *kt_tt27_level_name(kt_tt27_level l);
const char *kt_tt27_quality_name(kt_tt27_quality q);
const char *kt_tt27_result_name(kt_tt27_result r);

/* ---- rule sets ------------------------------------------------------------ */

/* One level of TT22 Điều 9 khoản 2: every score subject has at least floor,
 * at least many_count score subjects have at least many_min, and at most
 * comment_fail_max comment subjects are Chưa đạt. Marks in tenths. */
typedef struct kt_tt22_level_rule {
    int floor;            /* Tốt 6,5; Khá 5,0; Đạt 3,5 ("no subject below 3,5") */
    int many_min;         /* Tốt 8,0; Khá 6,5; Đạt 5,0 */
    int many_count;       /* 6 for every level */
    int comment_fail_max; /* Tốt 0, Khá 0, Đạt 1 */
} kt_tt22_level_rule;

/* Where khoản 3 raises a level that one single subject pulled two or more
 * levels below Tốt or Khá ("được điều chỉnh lên mức liền kề", TT22 Điều 9
 * khoản 3, [V2]). The only case where the two readings differ is Tốt
 * pulled down to Chưa đạt: ONE_UP, the built-in reading since TT22-2021
 * v2, takes "mức liền kề" as the level adjacent above the computed one
 * (Chưa đạt -> Đạt; the old TT58/2011 Điều 13 khoản 3 spelled its cases
 * out this way); BELOW_TARGET, kept as a rule-set option (v1 used it),
 * takes the level next below Tốt (resp. Khá) (Chưa đạt -> Khá). */
typedef enum {
    KT_KHOAN3_BELOW_TARGET = 1, /* to the level next below Tốt (resp. Khá) */
    KT_KHOAN3_ONE_UP,           /* one level above the level by the thresholds */
} kt_khoan3_mode;

typedef struct kt_tt22_rules {
    kt_tt22_level_rule tot, kha, dat; /* Điều 9 khoản 2 a, b, c; floors, many_min and
                                       * comment_fail_max no looser than the next level */
    kt_khoan3_mode khoan3;            /* Điều 9 khoản 3 */
    kt_level conduct_year[4][4];      /* Điều 8: [HK I - 1][HK II - 1] -> year */
    kt_level award_conduct_min;       /* Điều 15: year conduct for both awards (Tốt) */
    kt_level award_academic_min;      /* Điều 15: year academic level for both awards (Tốt) */
    int xuat_sac_min;                 /* Xuất sắc: ĐTBmcn at least this (9,0) ... */
    int xuat_sac_count;               /* ... in at least this many score subjects (6) */
} kt_tt22_rules;

/* Which primary subjects have a periodic test (bài kiểm tra định kì) in one
 * grade. Codes follow DOMAIN-VN §4.6 (TV, TOAN, NN1, LSDL, KH, TINCN); a
 * subject code matches an entry equal to it or extending it at a dot
 * ("NN1.EN" matches "NN1"). */
typedef struct kt_tt27_grade_tests {
    int grade;                    /* lớp 1..5 */
    const char *const *end_tests; /* tested at the end of HK I and at the end of the year */
    size_t n_end;
    const char *const *mid_tests; /* also tested at mid-HK I and mid-HK II */
    size_t n_mid;
} kt_tt27_grade_tests;

/* One level of TT27 Điều 9: every subject and activity at least subject_min,
 * every quality and competency at least quality_min, every end-of-year
 * periodic test at least test_min. */
typedef struct kt_tt27_result_rule {
    kt_tt27_level subject_min;
    kt_tt27_quality quality_min;
    int test_min; /* whole points */
} kt_tt27_result_rule;

typedef struct kt_tt27_rules {
    int test_min, test_max;                        /* periodic test scale, whole points (0..10) */
    kt_tt27_result_rule xuat_sac, tot, hoan_thanh; /* stricter first */
    const kt_tt27_grade_tests *grades; /* the per-grade test table; replace to change it */
    size_t ngrades;
} kt_tt27_rules;

typedef enum {
    KT_RULES_TT22 = 1, /* THCS and THPT */
    KT_RULES_TT27,     /* primary */
} kt_rules_kind;

/* A rule set. Copy a built-in one and change fields to describe an amended
 * circular; give the copy its own id or version. */
typedef struct kt_ruleset {
    const char *id;      /* "TT22-2021", at most 31 bytes */
    const char *version; /* "1", at most 15 bytes */
    kt_rules_kind kind;
    kt_tt22_rules tt22; /* used when kind is KT_RULES_TT22 */
    kt_tt27_rules tt27; /* used when kind is KT_RULES_TT27 */
} kt_ruleset;

extern const kt_ruleset kt_rules_tt22_2021; /* "TT22-2021" v1, DOMAIN-VN §1 */
extern const kt_ruleset kt_rules_tt27_2020; /* "TT27-2020" v1, DOMAIN-VN §2 */

/* ---- results ------------------------------------------------------------------ */

typedef enum {
    KT_GRADE_OK = 0,
    KT_GRADE_INCOMPLETE, /* something required is not recorded yet; notes say what */
    KT_GRADE_INVALID,    /* an input or the rule set is wrong; notes say why */
} kt_grade_status;

#define KT_NOTES_MAX 16
#define KT_NOTE_LEN 240

/* Vietnamese sentences for a teacher: every problem found (never only the
 * first), and explanations such as a khoản 3 adjustment. */
typedef struct kt_grade_notes {
    size_t n;       /* entries in text */
    size_t omitted; /* further notes that did not fit */
    char text[KT_NOTES_MAX][KT_NOTE_LEN];
} kt_grade_notes;

/* What every computed result carries. */
typedef struct kt_grade_report {
    kt_grade_status status;
    char ruleset_id[32]; /* the rule set that produced the result: store both */
    char ruleset_version[16];
    kt_grade_notes notes;
} kt_grade_report;

/* Checks a rule set (ids, ranges, stricter levels first, tables); every
 * problem becomes a note. Each function below does this first, and a bad
 * rule set (a configuration problem) is then reported alone. */
kt_grade_status kt_ruleset_check(const kt_ruleset *rs, kt_grade_report *out);

/* ---- marks ------------------------------------------------------------------- */

/* "7,5" or "7.5" -> 75; "10" -> 100; surrounding spaces ignored. Refuses
 * more than one decimal ("7,55"), values above 10 and signs. Returns the
 * tenths, or -1 with the reason in why (why may be NULL). */
int kt_score_parse(const char *s, char *why, size_t why_size);

/* A finer score (a test's points, e.g. 7,25) as the one-decimal mark the
 * record keeps, rounded half up (7,3). Returns tenths, or -1 with why when
 * the rounded score is outside 0..10. */
int kt_score_from_decimal(kt_decimal points, char *why, size_t why_size);

/* Tenths with one decimal and the given mark: 77 -> "7,7" (',') or "7.7"
 * ('.'), 80 -> "8,0". snprintf-style return. */
int kt_tenths_format(int tenths, char decimal_mark, char *buf, size_t size);

/* ---- TT22: subjects ------------------------------------------------------------ */

typedef enum {
    KT_MODE_SCORE = 1, /* nhận xét kết hợp điểm số: ĐTB from scores */
    KT_MODE_COMMENT,   /* đánh giá bằng nhận xét: Đạt / Chưa đạt */
} kt_subject_mode;

/* A subject as the school's plan configures it for one grade and year. */
typedef struct kt_subject_cfg {
    const char *code; /* subject code (TOAN, NV, GDTC...), shown in notes */
    kt_subject_mode mode;
    int periods_per_year; /* số tiết/năm học */
    int tx_per_semester;  /* ĐĐGtx recorded per semester; 0: from periods_per_year
                           * (score subjects only; comment subjects must set it) */
} kt_subject_cfg;

/* TT22 Điều 6 khoản 2: ĐĐGtx recorded per semester for a score subject:
 * up to 35 periods a year 2, more than 35 up to 70 3, more than 70 4.
 * -1 when periods_per_year < 1. */
int kt_tt22_tx_slots(int periods_per_year);

/* The ĐĐGtx a subject records per semester: tx_per_semester, or for a
 * score subject without it kt_tt22_tx_slots. -1 with why when the
 * configuration does not say. */
int kt_tt22_tx_required(const kt_subject_cfg *cfg, char *why, size_t why_size);

/* One semester of a score subject. */
typedef struct kt_score_semester {
    const int *ddg_tx; /* ĐĐGtx, điểm đánh giá thường xuyên: regular-assessment
                        * marks, tenths or KT_SCORE_MISSING, one per slot */
    size_t n_tx;
    int ddg_gk; /* ĐĐGgk, điểm đánh giá giữa kì: mid-term mark, weight 2 */
    int ddg_ck; /* ĐĐGck, điểm đánh giá cuối kì: end-of-term mark, weight 3 */
} kt_score_semester;

/* A subject average. */
typedef struct kt_tt22_average {
    kt_grade_report report;
    int tenths; /* when report.status is KT_GRADE_OK */
} kt_tt22_average;

/* ĐTBmhk, điểm trung bình môn học kì (TT22 Điều 9 khoản 1):
 * (ΣĐĐGtx + 2·ĐĐGgk + 3·ĐĐGck) / (số ĐĐGtx + 5), rounded half up to one
 * decimal. INCOMPLETE, listing what is missing, when ĐĐGgk, ĐĐGck or some
 * of the configured ĐĐGtx are not recorded; INVALID for a mark outside
 * 0..10 or more ĐĐGtx than the configuration records. */
kt_grade_status kt_tt22_dtb_mhk(const kt_ruleset *rs, const kt_subject_cfg *cfg,
                                const kt_score_semester *rec, kt_tt22_average *out);

/* ĐTBmcn, điểm trung bình môn cả năm: (ĐTBmhkI + 2·ĐTBmhkII) / 3 from the
 * rounded semester averages (tenths, KT_SCORE_MISSING when not computed),
 * rounded half up. */
kt_grade_status kt_tt22_dtb_mcn(const kt_ruleset *rs, const kt_subject_cfg *cfg, int dtb_mhk1,
                                int dtb_mhk2, kt_tt22_average *out);

/* One semester of a comment subject. */
typedef struct kt_comment_semester {
    const kt_comment *ddg_tx; /* regular assessments, one per configured slot */
    size_t n_tx;
    kt_comment ddg_gk; /* mid-term assessment */
    kt_comment ddg_ck; /* end-of-term assessment */
} kt_comment_semester;

typedef struct kt_tt22_comment_result {
    kt_grade_report report;
    kt_comment result; /* when report.status is KT_GRADE_OK */
    int missing;       /* required assessments not recorded yet (no result until 0) */
} kt_tt22_comment_result;

/* Semester result of a comment subject (TT22 Điều 9 khoản 1 điểm b): no
 * result (INCOMPLETE, missing counts them, a note names each) until the
 * configured ĐĐGtx, the mid-term and the end-of-term assessments all exist;
 * then Đạt when all are Đạt, otherwise Chưa đạt (a note for each Chưa đạt).
 * An assessment the pupil did not take is recorded as Chưa đạt by the
 * teacher, not left empty. INVALID for values outside the enum or too many
 * ĐĐGtx. */
kt_grade_status kt_tt22_comment_semester(const kt_ruleset *rs, const kt_subject_cfg *cfg,
                                         const kt_comment_semester *rec,
                                         kt_tt22_comment_result *out);

/* Year result of a comment subject: the semester II result. INCOMPLETE when
 * it is KT_COMMENT_MISSING. */
kt_grade_status kt_tt22_comment_year(const kt_ruleset *rs, const kt_subject_cfg *cfg,
                                     kt_comment hk2, kt_tt22_comment_result *out);

/* ---- TT22: result levels, conduct, awards -------------------------------------- */

/* One subject's semester (ĐTBmhk) or year (ĐTBmcn) result. */
typedef struct kt_subject_mark {
    const char *code; /* subject code, unique within the list */
    kt_subject_mode mode;
    int score;          /* score subjects: tenths or KT_SCORE_MISSING */
    kt_comment comment; /* comment subjects */
} kt_subject_mark;

typedef struct kt_tt22_academic_result {
    kt_grade_report report;
    kt_level level;         /* the result, after khoản 3 (when status is OK) */
    kt_level by_thresholds; /* the level of khoản 2 alone */
    size_t khoan3_subject;  /* index of the subject khoản 3 was applied for, or SIZE_MAX */
} kt_tt22_academic_result;

/* Kết quả học tập (TT22 Điều 9 khoản 2, 3) of a semester (pass ĐTBmhk) or
 * of the year (pass ĐTBmcn): the highest level of khoản 2 whose rule
 * holds, then khoản 3. Reading of khoản 3 [V2]: for each subject s, H(s) is
 * the level when s alone has its best result (10,0 or Đạt; this is "s met
 * the threshold of Tốt"). When H(s) is Tốt or Khá and the level is at least
 * two below H(s), s alone is the reason, and the level is raised as
 * rs->tt22.khoan3 says; the highest such raise is kept and explained in a
 * note. INVALID when fewer score subjects are given than the smallest
 * many_count, since no level above Chưa đạt could then be reached. */
kt_grade_status kt_tt22_academic_level(const kt_ruleset *rs, const kt_subject_mark *marks, size_t n,
                                       kt_tt22_academic_result *out);

typedef struct kt_tt22_conduct_result {
    kt_grade_report report;
    kt_level level; /* when report.status is KT_GRADE_OK */
} kt_tt22_conduct_result;

/* Kết quả rèn luyện of the year from the two semesters (TT22 Điều 8), by
 * rs->tt22.conduct_year. */
kt_grade_status kt_tt22_conduct_year(const kt_ruleset *rs, kt_level hk1, kt_level hk2,
                                     kt_tt22_conduct_result *out);

typedef struct kt_tt22_award_result {
    kt_grade_report report;
    kt_award award; /* when report.status is KT_GRADE_OK */
} kt_tt22_award_result;

/* Year award (TT22 Điều 15) from the year conduct, the year academic level
 * (after khoản 3) and the ĐTBmcn marks: Học sinh Giỏi when both levels
 * reach award_conduct_min and award_academic_min, Học sinh Xuất sắc when
 * moreover at least xuat_sac_count score subjects have xuat_sac_min. */
kt_grade_status kt_tt22_award(const kt_ruleset *rs, kt_level conduct_year, kt_level academic_year,
                              const kt_subject_mark *marks, size_t n, kt_tt22_award_result *out);

/* ---- TT27: primary ------------------------------------------------------------- */

/* A periodic test score: a whole number from tt27.test_min to tt27.test_max
 * ("7" -> 7). Refuses decimals ("7,5", also "7,0"). -1 with why. */
int kt_tt27_score_parse(const kt_ruleset *rs, const char *s, char *why, size_t why_size);

/* The row of the per-grade test table for grade, or NULL with why. */
const kt_tt27_grade_tests *kt_tt27_grade(const kt_ruleset *rs, int grade, char *why,
                                         size_t why_size);

/* 1 when subject has a periodic test at that moment in grade, 0 when not,
 * -1 with why when grade is not in the table. */
int kt_tt27_has_test(const kt_ruleset *rs, int grade, const char *subject, kt_tt27_moment when,
                     char *why, size_t why_size);

/* One subject or educational activity at the end of the year. */
typedef struct kt_tt27_subject_year {
    const char *code;    /* unique within the list */
    kt_tt27_level level; /* end-of-year level given by the teacher */
    int test_score;      /* end-of-year periodic test, whole points; KT_SCORE_MISSING
                          * for a subject without one */
} kt_tt27_subject_year;

typedef struct kt_tt27_year_result {
    kt_grade_report report;
    kt_tt27_result result; /* when report.status is KT_GRADE_OK */
} kt_tt27_year_result;

/* End-of-year result of a primary pupil (TT27 Điều 9): the first of
 * xuat_sac, tot, hoan_thanh whose rule holds, otherwise Chưa hoàn thành.
 * INCOMPLETE when a level, a quality or a test the grade table requires is
 * missing, or when a tested subject is absent; INVALID for a test score a
 * subject of that grade cannot have or outside the scale. */
kt_grade_status kt_tt27_year(const kt_ruleset *rs, int grade, const kt_tt27_subject_year *subjects,
                             size_t n, const kt_tt27_quality *qualities, size_t nqualities,
                             kt_tt27_year_result *out);

#endif

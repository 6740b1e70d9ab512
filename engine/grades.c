/*
 * Learner-record rules (grades.h): TT22/2021 subject averages, comment
 * subjects, result levels with the khoản 3 adjustment, conduct year and
 * awards; TT27/2020 periodic tests and the primary end-of-year result.
 * Integer tenths and half-up rounding throughout; every number the
 * circulars fix is read from a kt_ruleset. Pure: no I/O, no clock.
 */
#include "grades.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "text.h"

#define NONE SIZE_MAX
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- built-in rule sets ----------------------------------------------------- */

/* DOMAIN-VN §2: grades 1-2 test Tiếng Việt and Toán; grade 3 adds Ngoại ngữ 1
 * and Tin học và Công nghệ; grades 4-5 add Lịch sử và Địa lí and Khoa học,
 * and test Tiếng Việt and Toán at mid-semester too. */
static const char *const tt27_end_g12[] = {"TV", "TOAN"};
static const char *const tt27_end_g3[] = {"TV", "TOAN", "NN1", "TINCN"};
static const char *const tt27_end_g45[] = {"TV", "TOAN", "NN1", "LSDL", "KH", "TINCN"};
static const char *const tt27_mid_g45[] = {"TV", "TOAN"};

static const kt_tt27_grade_tests tt27_grades[] = {
    {1, tt27_end_g12, COUNT(tt27_end_g12), NULL, 0},
    {2, tt27_end_g12, COUNT(tt27_end_g12), NULL, 0},
    {3, tt27_end_g3, COUNT(tt27_end_g3), NULL, 0},
    {4, tt27_end_g45, COUNT(tt27_end_g45), tt27_mid_g45, COUNT(tt27_mid_g45)},
    {5, tt27_end_g45, COUNT(tt27_end_g45), tt27_mid_g45, COUNT(tt27_mid_g45)},
};

const kt_ruleset kt_rules_tt22_2021 = {
    .id = "TT22-2021",
    .version = "2", /* v2: khoản 3 ONE_UP; comment subjects wait for every assessment */
    .kind = KT_RULES_TT22,
    .tt22 =
        {
            .tot = {.floor = 65, .many_min = 80, .many_count = 6, .comment_fail_max = 0},
            .kha = {.floor = 50, .many_min = 65, .many_count = 6, .comment_fail_max = 0},
            .dat = {.floor = 35, .many_min = 50, .many_count = 6, .comment_fail_max = 1},
            .khoan3 = KT_KHOAN3_ONE_UP, /* Điều 9 khoản 3: one level up (grades.h) */
            /* rows HK I, columns HK II: Chưa đạt, Đạt, Khá, Tốt (DOMAIN-VN §1.6) */
            .conduct_year =
                {
                    {KT_LEVEL_CHUA_DAT, KT_LEVEL_DAT, KT_LEVEL_DAT, KT_LEVEL_KHA},
                    {KT_LEVEL_CHUA_DAT, KT_LEVEL_DAT, KT_LEVEL_KHA, KT_LEVEL_KHA},
                    {KT_LEVEL_CHUA_DAT, KT_LEVEL_DAT, KT_LEVEL_KHA, KT_LEVEL_TOT},
                    {KT_LEVEL_CHUA_DAT, KT_LEVEL_KHA, KT_LEVEL_KHA, KT_LEVEL_TOT},
                },
            .award_conduct_min = KT_LEVEL_TOT,
            .award_academic_min = KT_LEVEL_TOT,
            .xuat_sac_min = 90,
            .xuat_sac_count = 6,
        },
};

const kt_ruleset kt_rules_tt27_2020 = {
    .id = "TT27-2020",
    .version = "1",
    .kind = KT_RULES_TT27,
    .tt27 =
        {
            .test_min = 0,
            .test_max = 10,
            .xuat_sac = {KT_TT27_T, KT_QUALITY_TOT, 9},
            .tot = {KT_TT27_T, KT_QUALITY_TOT, 7},
            .hoan_thanh = {KT_TT27_H, KT_QUALITY_DAT, 5},
            .grades = tt27_grades,
            .ngrades = COUNT(tt27_grades),
        },
};

/* ---- names ------------------------------------------------------------------ */

const char *
kt_level_name(kt_level l)
{
    switch (l) {
    case KT_LEVEL_CHUA_DAT:
        return "Chưa đạt";
    case KT_LEVEL_DAT:
        return "Đạt";
    case KT_LEVEL_KHA:
        return "Khá";
    case KT_LEVEL_TOT:
        return "Tốt";
    default:
        return "";
    }
}

const char *
kt_comment_name(kt_comment c)
{
    switch (c) {
    case KT_COMMENT_CHUA_DAT:
        return "Chưa đạt";
    case KT_COMMENT_DAT:
        return "Đạt";
    default:
        return "";
    }
}

const char *
kt_award_name(kt_award a)
{
    switch (a) {
    case KT_AWARD_GIOI:
        return "Học sinh Giỏi";
    case KT_AWARD_XUAT_SAC:
        return "Học sinh Xuất sắc";
    default:
        return "";
    }
}

const char *
kt_tt27_level_name(kt_tt27_level l)
{
    switch (l) {
    case KT_TT27_C:
        return "Chưa hoàn thành";
    case KT_TT27_H:
        return "Hoàn thành";
    case KT_TT27_T:
        return "Hoàn thành tốt";
    default:
        return "";
    }
}

const char *
kt_tt27_quality_name(kt_tt27_quality q)
{
    switch (q) {
    case KT_QUALITY_CAN_CO_GANG:
        return "Cần cố gắng";
    case KT_QUALITY_DAT:
        return "Đạt";
    case KT_QUALITY_TOT:
        return "Tốt";
    default:
        return "";
    }
}

const char *
kt_tt27_result_name(kt_tt27_result r)
{
    switch (r) {
    case KT_TT27_CHUA_HOAN_THANH:
        return "Chưa hoàn thành";
    case KT_TT27_HOAN_THANH:
        return "Hoàn thành";
    case KT_TT27_HOAN_THANH_TOT:
        return "Hoàn thành tốt";
    case KT_TT27_HOAN_THANH_XUAT_SAC:
        return "Hoàn thành xuất sắc";
    default:
        return "";
    }
}

/* ---- notes and messages ------------------------------------------------------- */

static void vformat(char *dst, size_t n, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void
vformat(char *dst, size_t n, const char *fmt, va_list ap)
{
    char tmp[2 * KT_NOTE_LEN];
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    kt_copy_utf8(dst, n, tmp);
}

/* A reason for a failed parse or lookup, when the caller wants one. */
static void say(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
say(char *why, size_t n, const char *fmt, ...)
{
    if (!why || n == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vformat(why, n, fmt, ap);
    va_end(ap);
}

/* Adds a note and raises the report's status to at least status
 * (KT_GRADE_OK for an explanation). */
static void note(kt_grade_report *rep, kt_grade_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
note(kt_grade_report *rep, kt_grade_status status, const char *fmt, ...)
{
    if (status > rep->status)
        rep->status = status;
    kt_grade_notes *ns = &rep->notes;
    if (ns->n == KT_NOTES_MAX) {
        ns->omitted++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vformat(ns->text[ns->n++], KT_NOTE_LEN, fmt, ap);
    va_end(ap);
}

static const char *
code_of(const char *code)
{
    return code && *code ? code : "(chưa có mã)";
}

/* Tenths as "7,5" into a small buffer, for messages. */
static const char *
vn(char buf[24], int tenths)
{
    kt_tenths_format(tenths, ',', buf, 24);
    return buf;
}

/* ---- rule-set checks ---------------------------------------------------------- */

static const char *const tt22_level_label[] = {"Tốt", "Khá", "Đạt"};
static const char *const tt27_result_label[] = {"Hoàn thành xuất sắc", "Hoàn thành tốt",
                                                "Hoàn thành"};

static bool
level_in_range(int l)
{
    return l >= KT_LEVEL_CHUA_DAT && l <= KT_LEVEL_TOT;
}

static void
check_tt22(const kt_tt22_rules *t, kt_grade_report *rep)
{
    const char *id = rep->ruleset_id;
    const kt_tt22_level_rule *lv[3] = {&t->tot, &t->kha, &t->dat};
    char a[24], b[24];
    for (int i = 0; i < 3; i++) {
        const kt_tt22_level_rule *r = lv[i];
        if (r->floor < 0 || r->floor > r->many_min || r->many_min > KT_SCORE_MAX ||
            r->many_count < 1 || r->comment_fail_max < 0)
            note(rep, KT_GRADE_INVALID,
                 "Bộ quy tắc %s: điều kiện mức %s không hợp lệ (mọi môn từ %s, ít nhất %d môn "
                 "từ %s, tối đa %d môn nhận xét Chưa đạt).",
                 id, tt22_level_label[i], vn(a, r->floor), r->many_count, vn(b, r->many_min),
                 r->comment_fail_max);
    }
    for (int i = 0; i < 2; i++) {
        const kt_tt22_level_rule *hi = lv[i], *lo = lv[i + 1];
        if (hi->floor < lo->floor || hi->many_min < lo->many_min ||
            hi->comment_fail_max > lo->comment_fail_max)
            note(rep, KT_GRADE_INVALID, "Bộ quy tắc %s: điều kiện mức %s phải chặt hơn mức %s.", id,
                 tt22_level_label[i], tt22_level_label[i + 1]);
    }
    if (t->khoan3 != KT_KHOAN3_BELOW_TARGET && t->khoan3 != KT_KHOAN3_ONE_UP)
        note(rep, KT_GRADE_INVALID,
             "Bộ quy tắc %s: cách điều chỉnh theo khoản 3 Điều 9 không hợp lệ.", id);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            if (!level_in_range(t->conduct_year[i][j]))
                note(rep, KT_GRADE_INVALID,
                     "Bộ quy tắc %s: bảng rèn luyện cả năm thiếu kết quả cho học kì I %s, "
                     "học kì II %s.",
                     id, kt_level_name((kt_level)(i + 1)), kt_level_name((kt_level)(j + 1)));
    if (!level_in_range(t->award_conduct_min) || !level_in_range(t->award_academic_min) ||
        t->xuat_sac_min < 0 || t->xuat_sac_min > KT_SCORE_MAX || t->xuat_sac_count < 1)
        note(rep, KT_GRADE_INVALID, "Bộ quy tắc %s: điều kiện khen thưởng không hợp lệ.", id);
}

static void
check_tt27(const kt_tt27_rules *t, kt_grade_report *rep)
{
    const char *id = rep->ruleset_id;
    const kt_tt27_result_rule *lv[3] = {&t->xuat_sac, &t->tot, &t->hoan_thanh};
    if (t->test_min < 0 || t->test_min >= t->test_max || t->test_max > 100)
        note(rep, KT_GRADE_INVALID, "Bộ quy tắc %s: thang điểm kiểm tra %d–%d không hợp lệ.", id,
             t->test_min, t->test_max);
    for (int i = 0; i < 3; i++) {
        const kt_tt27_result_rule *r = lv[i];
        if (r->subject_min < KT_TT27_C || r->subject_min > KT_TT27_T ||
            r->quality_min < KT_QUALITY_CAN_CO_GANG || r->quality_min > KT_QUALITY_TOT ||
            r->test_min < t->test_min || r->test_min > t->test_max)
            note(rep, KT_GRADE_INVALID, "Bộ quy tắc %s: điều kiện mức %s không hợp lệ.", id,
                 tt27_result_label[i]);
    }
    for (int i = 0; i < 2; i++)
        if (lv[i]->subject_min < lv[i + 1]->subject_min ||
            lv[i]->quality_min < lv[i + 1]->quality_min || lv[i]->test_min < lv[i + 1]->test_min)
            note(rep, KT_GRADE_INVALID, "Bộ quy tắc %s: điều kiện mức %s phải chặt hơn mức %s.", id,
                 tt27_result_label[i], tt27_result_label[i + 1]);
    if (!t->grades || t->ngrades == 0) {
        note(rep, KT_GRADE_INVALID, "Bộ quy tắc %s: chưa có bảng bài kiểm tra định kì theo lớp.",
             id);
        return;
    }
    for (size_t i = 0; i < t->ngrades; i++) {
        const kt_tt27_grade_tests *g = &t->grades[i];
        bool bad = g->grade < 1 || g->grade > 5 || (g->n_end && !g->end_tests) ||
                   (g->n_mid && !g->mid_tests);
        for (size_t j = 0; j < i; j++)
            bad |= t->grades[j].grade == g->grade;
        for (size_t j = 0; !bad && j < g->n_end; j++)
            bad = !g->end_tests[j] || !*g->end_tests[j];
        for (size_t j = 0; !bad && j < g->n_mid; j++)
            bad = !g->mid_tests[j] || !*g->mid_tests[j];
        if (bad)
            note(rep, KT_GRADE_INVALID,
                 "Bộ quy tắc %s: dòng %zu của bảng bài kiểm tra định kì (lớp %d) không hợp lệ.", id,
                 i + 1, g->grade);
    }
}

static void
copy_tag(kt_grade_report *rep, char *dst, size_t n, const char *src, const char *what)
{
    if (!src || !*src || strlen(src) >= n)
        note(rep, KT_GRADE_INVALID, "Bộ quy tắc: %s phải có từ 1 đến %zu kí tự.", what, n - 1);
    else
        memcpy(dst, src, strlen(src) + 1);
}

kt_grade_status
kt_ruleset_check(const kt_ruleset *rs, kt_grade_report *out)
{
    memset(out, 0, sizeof *out);
    if (!rs) {
        note(out, KT_GRADE_INVALID, "Chưa chọn bộ quy tắc đánh giá.");
        return out->status;
    }
    copy_tag(out, out->ruleset_id, sizeof out->ruleset_id, rs->id, "mã");
    copy_tag(out, out->ruleset_version, sizeof out->ruleset_version, rs->version, "phiên bản");
    if (rs->kind == KT_RULES_TT22)
        check_tt22(&rs->tt22, out);
    else if (rs->kind == KT_RULES_TT27)
        check_tt27(&rs->tt27, out);
    else
        note(out, KT_GRADE_INVALID, "Bộ quy tắc %s: không rõ áp dụng cho cấp học nào.",
             out->ruleset_id);
    return out->status;
}

/* Checks the rule set and that it is of the kind the caller needs. A bad
 * rule set is a configuration problem, reported alone. */
static bool
begin(const kt_ruleset *rs, kt_rules_kind kind, kt_grade_report *rep)
{
    if (kt_ruleset_check(rs, rep) != KT_GRADE_OK)
        return false;
    if (rs->kind != kind) {
        note(rep, KT_GRADE_INVALID,
             kind == KT_RULES_TT22
                 ? "Bộ quy tắc %s dành cho tiểu học (Thông tư 27), không dùng cho THCS, THPT."
                 : "Bộ quy tắc %s dành cho THCS, THPT (Thông tư 22), không dùng cho tiểu học.",
             rep->ruleset_id);
        return false;
    }
    return true;
}

/* ---- marks -------------------------------------------------------------------- */

static bool
is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Skips the blanks around *s (NULL counts as empty); the length left. */
static size_t
trimmed(const char **s)
{
    if (!*s)
        return 0;
    while (is_space(**s))
        (*s)++;
    size_t len = strlen(*s);
    while (len > 0 && is_space((*s)[len - 1]))
        len--;
    return len;
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int
kt_score_parse(const char *s, char *why, size_t why_size)
{
    static const char *const usage =
        "Điểm phải là một số từ 0 đến 10, có nhiều nhất một chữ số thập phân, viết "
        "với dấu phẩy hoặc dấu chấm (ví dụ 7,5).";
    size_t len = trimmed(&s);
    if (len == 0) {
        say(why, why_size, "Chưa nhập điểm.");
        return -1;
    }
    const char *p = s, *e = s + len;
    bool negative = *p == '-';
    p += negative;
    int value = 0, nint = 0, nfrac = 0;
    for (; p < e && is_digit(*p); p++, nint++)
        if (value <= KT_SCORE_MAX)
            value = value * 10 + (*p - '0');
    if (nint == 0) {
        say(why, why_size, "%s", usage);
        return -1;
    }
    value *= 10;
    if (p < e && (*p == ',' || *p == '.')) {
        for (p++; p < e && is_digit(*p); p++, nfrac++)
            if (nfrac == 0)
                value += *p - '0';
        if (nfrac == 0) {
            say(why, why_size, "%s", usage);
            return -1;
        }
    }
    if (p != e) {
        say(why, why_size, "%s", usage);
        return -1;
    }
    if (negative) {
        say(why, why_size, "Điểm không được âm.");
        return -1;
    }
    if (nfrac > 1) {
        say(why, why_size,
            "Điểm chỉ lấy đến một chữ số thập phân (ví dụ 7,5), không nhập %d chữ số.", nfrac);
        return -1;
    }
    if (value > KT_SCORE_MAX) {
        say(why, why_size, "Điểm phải từ 0 đến 10.");
        return -1;
    }
    return value;
}

int
kt_score_from_decimal(kt_decimal points, char *why, size_t why_size)
{
    kt_decimal r = kt_decimal_round(points, 1);
    if (points.units < 0) {
        say(why, why_size, "Điểm không được âm.");
        return -1;
    }
    if (r.units > (int64_t)KT_SCORE_MAX * (KT_DECIMAL_SCALE / 10)) {
        say(why, why_size, "Điểm sau khi làm tròn lớn hơn 10.");
        return -1;
    }
    return (int)(r.units / (KT_DECIMAL_SCALE / 10));
}

int
kt_tenths_format(int tenths, char decimal_mark, char *buf, size_t size)
{
    long long t = tenths;
    unsigned long long mag = t < 0 ? (unsigned long long)-t : (unsigned long long)t;
    return snprintf(buf, size, "%s%llu%c%llu", t < 0 ? "-" : "", mag / 10, decimal_mark, mag % 10);
}

/* num / den rounded half up, for num >= 0 and den > 0. */
static int
div_half_up(int64_t num, int64_t den)
{
    return (int)((2 * num + den) / (2 * den));
}

/* 1 for a recorded mark in 0..10, 0 for a missing one, -1 (with a note)
 * for anything else. */
static int
check_score(kt_grade_report *rep, const char *code, const char *what, int v)
{
    char b[24];
    if (v == KT_SCORE_MISSING)
        return 0;
    if (v >= 0 && v <= KT_SCORE_MAX)
        return 1;
    note(rep, KT_GRADE_INVALID, "Môn %s: %s là %s, ngoài thang điểm 0–10.", code, what, vn(b, v));
    return -1;
}

/* ---- TT22: subjects -------------------------------------------------------------- */

int
kt_tt22_tx_slots(int periods_per_year)
{
    if (periods_per_year < 1)
        return -1;
    if (periods_per_year <= 35)
        return 2;
    return periods_per_year <= 70 ? 3 : 4;
}

int
kt_tt22_tx_required(const kt_subject_cfg *cfg, char *why, size_t why_size)
{
    if (!cfg) {
        say(why, why_size, "Chưa có cấu hình môn học.");
        return -1;
    }
    const char *code = code_of(cfg->code);
    if (cfg->tx_per_semester < 0) {
        say(why, why_size, "Môn %s: số ĐĐGtx mỗi học kì trong cấu hình (%d) không hợp lệ.", code,
            cfg->tx_per_semester);
        return -1;
    }
    if (cfg->tx_per_semester > 0)
        return cfg->tx_per_semester;
    if (cfg->mode == KT_MODE_COMMENT) {
        say(why, why_size,
            "Môn %s (đánh giá bằng nhận xét): cấu hình chưa có số lần đánh giá thường xuyên "
            "mỗi học kì.",
            code);
        return -1;
    }
    if (cfg->mode != KT_MODE_SCORE) {
        say(why, why_size, "Môn %s: cách đánh giá trong cấu hình không hợp lệ.", code);
        return -1;
    }
    int slots = kt_tt22_tx_slots(cfg->periods_per_year);
    if (slots < 0)
        say(why, why_size, "Môn %s: số tiết/năm học trong cấu hình (%d) không hợp lệ.", code,
            cfg->periods_per_year);
    return slots;
}

/* Checks that cfg names a subject assessed in mode; false (with a note) if not. */
static bool
check_subject(kt_grade_report *rep, const kt_subject_cfg *cfg, kt_subject_mode mode)
{
    if (!cfg) {
        note(rep, KT_GRADE_INVALID, "Chưa có cấu hình môn học.");
        return false;
    }
    if (!cfg->code || !*cfg->code)
        note(rep, KT_GRADE_INVALID, "Cấu hình môn học chưa có mã môn.");
    if (cfg->mode != mode) {
        note(rep, KT_GRADE_INVALID,
             mode == KT_MODE_SCORE
                 ? "Môn %s không đánh giá bằng điểm số nên không tính điểm trung bình môn."
                 : "Môn %s không phải môn đánh giá bằng nhận xét nên không xếp Đạt/Chưa đạt.",
             code_of(cfg->code));
        return false;
    }
    return true;
}

/* The configured ĐĐGtx count of a subject checked by check_subject, or -1
 * with a note. */
static int
tx_slots(kt_grade_report *rep, const kt_subject_cfg *cfg)
{
    char why[KT_NOTE_LEN];
    int slots = kt_tt22_tx_required(cfg, why, sizeof why);
    if (slots < 0)
        note(rep, KT_GRADE_INVALID, "%s", why);
    return slots;
}

kt_grade_status
kt_tt22_dtb_mhk(const kt_ruleset *rs, const kt_subject_cfg *cfg, const kt_score_semester *rec,
                kt_tt22_average *out)
{
    kt_grade_report *rep = &out->report;
    out->tenths = 0;
    if (!begin(rs, KT_RULES_TT22, rep))
        return rep->status;
    int slots = check_subject(rep, cfg, KT_MODE_SCORE) ? tx_slots(rep, cfg) : -1;
    const char *code = code_of(cfg ? cfg->code : NULL);
    if (!rec || (rec->n_tx && !rec->ddg_tx)) {
        note(rep, KT_GRADE_INVALID, "Môn %s: chưa có bản ghi điểm của học kì.", code);
        return rep->status;
    }
    int64_t sum_tx = 0; /* TĐĐGtx, the sum of the recorded ĐĐGtx */
    size_t recorded = 0;
    for (size_t i = 0; i < rec->n_tx; i++) {
        char what[40];
        snprintf(what, sizeof what, "ĐĐGtx thứ %zu", i + 1);
        if (check_score(rep, code, what, rec->ddg_tx[i]) == 1) {
            sum_tx += rec->ddg_tx[i];
            recorded++;
        }
    }
    if (check_score(rep, code, "ĐĐGgk", rec->ddg_gk) == 0)
        note(rep, KT_GRADE_INCOMPLETE, "Môn %s: chưa có điểm đánh giá giữa kì (ĐĐGgk).", code);
    if (check_score(rep, code, "ĐĐGck", rec->ddg_ck) == 0)
        note(rep, KT_GRADE_INCOMPLETE, "Môn %s: chưa có điểm đánh giá cuối kì (ĐĐGck).", code);
    if (slots > 0 && recorded < (size_t)slots)
        note(rep, KT_GRADE_INCOMPLETE,
             "Môn %s: mới có %zu trong %d điểm đánh giá thường xuyên (ĐĐGtx) của học kì.", code,
             recorded, slots);
    if (slots > 0 && recorded > (size_t)slots)
        note(rep, KT_GRADE_INVALID, "Môn %s: có %zu ĐĐGtx, nhiều hơn %d ĐĐGtx được ghi mỗi học kì.",
             code, recorded, slots);
    if (rep->status == KT_GRADE_OK)
        out->tenths =
            div_half_up(sum_tx + 2 * (int64_t)rec->ddg_gk + 3 * (int64_t)rec->ddg_ck, slots + 5);
    return rep->status;
}

kt_grade_status
kt_tt22_dtb_mcn(const kt_ruleset *rs, const kt_subject_cfg *cfg, int dtb_mhk1, int dtb_mhk2,
                kt_tt22_average *out)
{
    kt_grade_report *rep = &out->report;
    out->tenths = 0;
    if (!begin(rs, KT_RULES_TT22, rep))
        return rep->status;
    check_subject(rep, cfg, KT_MODE_SCORE);
    const char *code = code_of(cfg ? cfg->code : NULL);
    if (check_score(rep, code, "ĐTBmhk học kì I", dtb_mhk1) == 0)
        note(rep, KT_GRADE_INCOMPLETE, "Môn %s: chưa có điểm trung bình môn học kì I.", code);
    if (check_score(rep, code, "ĐTBmhk học kì II", dtb_mhk2) == 0)
        note(rep, KT_GRADE_INCOMPLETE, "Môn %s: chưa có điểm trung bình môn học kì II.", code);
    if (rep->status == KT_GRADE_OK)
        out->tenths = div_half_up((int64_t)dtb_mhk1 + 2 * (int64_t)dtb_mhk2, 3);
    return rep->status;
}

/* 1 Đạt, 0 Chưa đạt, -1 missing, -2 not a kt_comment (with a note). */
static int
check_comment(kt_grade_report *rep, const char *code, const char *what, kt_comment c)
{
    switch (c) {
    case KT_COMMENT_DAT:
        return 1;
    case KT_COMMENT_CHUA_DAT:
        return 0;
    case KT_COMMENT_MISSING:
        return -1;
    default:
        note(rep, KT_GRADE_INVALID, "Môn %s: %s có giá trị không hợp lệ (%d).", code, what, (int)c);
        return -2;
    }
}

kt_grade_status
kt_tt22_comment_semester(const kt_ruleset *rs, const kt_subject_cfg *cfg,
                         const kt_comment_semester *rec, kt_tt22_comment_result *out)
{
    kt_grade_report *rep = &out->report;
    out->result = KT_COMMENT_MISSING;
    out->missing = 0;
    if (!begin(rs, KT_RULES_TT22, rep))
        return rep->status;
    int slots = check_subject(rep, cfg, KT_MODE_COMMENT) ? tx_slots(rep, cfg) : -1;
    const char *code = code_of(cfg ? cfg->code : NULL);
    if (!rec || (rec->n_tx && !rec->ddg_tx)) {
        note(rep, KT_GRADE_INVALID, "Môn %s: chưa có bản ghi đánh giá của học kì.", code);
        return rep->status;
    }
    bool all_dat = true;
    size_t taken = 0;
    for (size_t i = 0; i < rec->n_tx; i++) {
        char what[64];
        snprintf(what, sizeof what, "lần đánh giá thường xuyên thứ %zu", i + 1);
        int v = check_comment(rep, code, what, rec->ddg_tx[i]);
        taken += v >= 0;
        if (v == 0) {
            all_dat = false;
            note(rep, KT_GRADE_OK, "Môn %s: %s được đánh giá Chưa đạt.", code, what);
        }
    }
    const struct {
        const char *what;
        kt_comment value;
    } periodic[2] = {{"đánh giá giữa kì", rec->ddg_gk}, {"đánh giá cuối kì", rec->ddg_ck}};
    for (int i = 0; i < 2; i++) {
        int v = check_comment(rep, code, periodic[i].what, periodic[i].value);
        if (v == 0)
            note(rep, KT_GRADE_OK, "Môn %s: %s được đánh giá Chưa đạt.", code, periodic[i].what);
        if (v == -1) {
            out->missing++;
            note(rep, KT_GRADE_INCOMPLETE, "Môn %s: chưa có %s.", code, periodic[i].what);
        }
        all_dat &= v == 1;
    }
    if (slots > 0 && taken < (size_t)slots) {
        out->missing += slots - (int)taken;
        note(rep, KT_GRADE_INCOMPLETE,
             "Môn %s: mới có %zu trong %d lần đánh giá thường xuyên của học kì.", code, taken,
             slots);
    }
    if (slots > 0 && taken > (size_t)slots)
        note(rep, KT_GRADE_INVALID,
             "Môn %s: có %zu lần đánh giá thường xuyên, nhiều hơn %d lần được ghi mỗi học kì.",
             code, taken, slots);
    if (rep->status == KT_GRADE_OK)
        out->result = all_dat ? KT_COMMENT_DAT : KT_COMMENT_CHUA_DAT;
    else if (rep->status == KT_GRADE_INVALID)
        out->missing = 0;
    return rep->status;
}

kt_grade_status
kt_tt22_comment_year(const kt_ruleset *rs, const kt_subject_cfg *cfg, kt_comment hk2,
                     kt_tt22_comment_result *out)
{
    kt_grade_report *rep = &out->report;
    out->result = KT_COMMENT_MISSING;
    out->missing = 0;
    if (!begin(rs, KT_RULES_TT22, rep))
        return rep->status;
    check_subject(rep, cfg, KT_MODE_COMMENT);
    const char *code = code_of(cfg ? cfg->code : NULL);
    if (check_comment(rep, code, "kết quả học kì II", hk2) == -1)
        note(rep, KT_GRADE_INCOMPLETE, "Môn %s: chưa có kết quả học kì II.", code);
    if (rep->status == KT_GRADE_OK)
        out->result = hk2;
    return rep->status;
}

/* ---- TT22: result levels ----------------------------------------------------------- */

/* Checks every mark; returns the number of score subjects. */
static int
check_marks(kt_grade_report *rep, const kt_subject_mark *marks, size_t n)
{
    int nscore = 0;
    if (n && !marks) {
        note(rep, KT_GRADE_INVALID, "Danh sách kết quả môn học không hợp lệ.");
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        const kt_subject_mark *m = &marks[i];
        if (!m->code || !*m->code) {
            note(rep, KT_GRADE_INVALID, "Môn thứ %zu trong danh sách chưa có mã môn.", i + 1);
        } else {
            for (size_t j = 0; j < i; j++)
                if (marks[j].code && strcmp(marks[j].code, m->code) == 0) {
                    note(rep, KT_GRADE_INVALID, "Môn %s có hai kết quả trong danh sách.", m->code);
                    break;
                }
        }
        const char *code = code_of(m->code);
        if (m->mode == KT_MODE_SCORE) {
            nscore++;
            if (check_score(rep, code, "điểm trung bình môn", m->score) == 0)
                note(rep, KT_GRADE_INCOMPLETE, "Môn %s: chưa có điểm trung bình môn.", code);
        } else if (m->mode == KT_MODE_COMMENT) {
            if (check_comment(rep, code, "kết quả đánh giá", m->comment) == -1)
                note(rep, KT_GRADE_INCOMPLETE, "Môn %s: chưa có kết quả đánh giá.", code);
        } else {
            note(rep, KT_GRADE_INVALID, "Môn %s: cách đánh giá không hợp lệ.", code);
        }
    }
    return nscore;
}

/* Whether one level of khoản 2 holds; the subject at index best (NONE for
 * none) counts as having its best result, 10,0 or Đạt. */
static bool
rule_holds(const kt_tt22_level_rule *r, const kt_subject_mark *m, size_t n, size_t best)
{
    int many = 0, fails = 0;
    for (size_t i = 0; i < n; i++) {
        if (m[i].mode == KT_MODE_SCORE) {
            int v = i == best ? KT_SCORE_MAX : m[i].score;
            if (v < r->floor)
                return false;
            many += v >= r->many_min;
        } else {
            fails += i != best && m[i].comment == KT_COMMENT_CHUA_DAT;
        }
    }
    return many >= r->many_count && fails <= r->comment_fail_max;
}

static kt_level
level_of(const kt_tt22_rules *t, const kt_subject_mark *m, size_t n, size_t best)
{
    if (rule_holds(&t->tot, m, n, best))
        return KT_LEVEL_TOT;
    if (rule_holds(&t->kha, m, n, best))
        return KT_LEVEL_KHA;
    if (rule_holds(&t->dat, m, n, best))
        return KT_LEVEL_DAT;
    return KT_LEVEL_CHUA_DAT;
}

/*
 * Khoản 3 ("bị thấp xuống từ 02 mức trở lên so với mức Tốt, Khá chỉ do kết
 * quả đánh giá của duy nhất 01 môn học thì được điều chỉnh lên mức liền
 * kề", [V2]), read as: the level "would be" H = level_of(best = s) if
 * subject s alone had its best result; s alone is the cause when H is Tốt
 * or Khá and the level by the thresholds is at least two below H (if two
 * subjects pull it down, fixing either one still leaves H low, so nothing
 * is raised). The raise goes to H - 1 (KT_KHOAN3_BELOW_TARGET) or to the
 * level + 1 (KT_KHOAN3_ONE_UP); the highest raise over all s is kept.
 */
static void
apply_khoan3(const kt_tt22_rules *t, const kt_subject_mark *m, size_t n,
             kt_tt22_academic_result *out)
{
    kt_level base = out->by_thresholds, target = KT_LEVEL_MISSING;
    for (size_t s = 0; s < n; s++) {
        kt_level h = level_of(t, m, n, s);
        if (h < KT_LEVEL_KHA || (int)h - (int)base < 2)
            continue;
        kt_level raised = (kt_level)(t->khoan3 == KT_KHOAN3_BELOW_TARGET ? h - 1 : base + 1);
        if (raised > out->level) {
            out->level = raised;
            out->khoan3_subject = s;
            target = h;
        }
    }
    if (out->khoan3_subject != NONE)
        note(&out->report, KT_GRADE_OK,
             "Điều chỉnh theo khoản 3 Điều 9: theo các ngưỡng là mức %s, thấp hơn mức %s từ hai "
             "mức trở lên chỉ do môn %s, nên được điều chỉnh lên mức %s.",
             kt_level_name(base), kt_level_name(target), m[out->khoan3_subject].code,
             kt_level_name(out->level));
}

kt_grade_status
kt_tt22_academic_level(const kt_ruleset *rs, const kt_subject_mark *marks, size_t n,
                       kt_tt22_academic_result *out)
{
    kt_grade_report *rep = &out->report;
    out->level = out->by_thresholds = KT_LEVEL_MISSING;
    out->khoan3_subject = NONE;
    if (!begin(rs, KT_RULES_TT22, rep))
        return rep->status;
    const kt_tt22_rules *t = &rs->tt22;
    int nscore = check_marks(rep, marks, n), need = t->dat.many_count;
    if (t->kha.many_count < need)
        need = t->kha.many_count;
    if (t->tot.many_count < need)
        need = t->tot.many_count;
    if (nscore < need)
        note(rep, KT_GRADE_INVALID,
             "Chỉ có %d môn đánh giá bằng điểm số; các mức Tốt, Khá, Đạt đều cần ít nhất %d môn, "
             "nên không xếp loại học tập tự động được.",
             nscore, need);
    if (rep->status != KT_GRADE_OK)
        return rep->status;
    out->level = out->by_thresholds = level_of(t, marks, n, NONE);
    apply_khoan3(t, marks, n, out);
    return rep->status;
}

/* ---- TT22: conduct and awards ------------------------------------------------------- */

/* Checks a level given by a teacher or computed earlier; false if unusable. */
static bool
check_level(kt_grade_report *rep, kt_level l, const char *what)
{
    if (l == KT_LEVEL_MISSING) {
        note(rep, KT_GRADE_INCOMPLETE, "Chưa có %s.", what);
        return false;
    }
    if (!level_in_range(l)) {
        note(rep, KT_GRADE_INVALID, "%s có giá trị không hợp lệ (%d).", what, (int)l);
        return false;
    }
    return true;
}

kt_grade_status
kt_tt22_conduct_year(const kt_ruleset *rs, kt_level hk1, kt_level hk2, kt_tt22_conduct_result *out)
{
    kt_grade_report *rep = &out->report;
    out->level = KT_LEVEL_MISSING;
    if (!begin(rs, KT_RULES_TT22, rep))
        return rep->status;
    bool ok1 = check_level(rep, hk1, "kết quả rèn luyện học kì I");
    bool ok2 = check_level(rep, hk2, "kết quả rèn luyện học kì II");
    if (ok1 && ok2)
        out->level = rs->tt22.conduct_year[hk1 - 1][hk2 - 1];
    return rep->status;
}

kt_grade_status
kt_tt22_award(const kt_ruleset *rs, kt_level conduct_year, kt_level academic_year,
              const kt_subject_mark *marks, size_t n, kt_tt22_award_result *out)
{
    kt_grade_report *rep = &out->report;
    out->award = KT_AWARD_NONE;
    if (!begin(rs, KT_RULES_TT22, rep))
        return rep->status;
    const kt_tt22_rules *t = &rs->tt22;
    check_level(rep, conduct_year, "kết quả rèn luyện cả năm");
    check_level(rep, academic_year, "kết quả học tập cả năm");
    check_marks(rep, marks, n);
    if (rep->status != KT_GRADE_OK)
        return rep->status;
    if (conduct_year < t->award_conduct_min || academic_year < t->award_academic_min)
        return rep->status;
    int high = 0;
    for (size_t i = 0; i < n; i++)
        high += marks[i].mode == KT_MODE_SCORE && marks[i].score >= t->xuat_sac_min;
    out->award = high >= t->xuat_sac_count ? KT_AWARD_XUAT_SAC : KT_AWARD_GIOI;
    return rep->status;
}

/* ---- TT27 ---------------------------------------------------------------------------- */

/* Whether a subject code is entry or extends it at a dot ("NN1.EN", "NN1"). */
static bool
code_matches(const char *code, const char *entry)
{
    size_t len = strlen(entry);
    return strncmp(code, entry, len) == 0 && (code[len] == '\0' || code[len] == '.');
}

static bool
listed(const char *code, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (code_matches(code, list[i]))
            return true;
    return false;
}

/* A TT27 rule set, or NULL with the first problem in why. */
static const kt_tt27_rules *
tt27_rules(const kt_ruleset *rs, char *why, size_t why_size)
{
    kt_grade_report rep;
    if (begin(rs, KT_RULES_TT27, &rep))
        return &rs->tt27;
    say(why, why_size, "%s", rep.notes.text[0]);
    return NULL;
}

static const kt_tt27_grade_tests *
find_grade(const kt_tt27_rules *t, int grade)
{
    for (size_t i = 0; i < t->ngrades; i++)
        if (t->grades[i].grade == grade)
            return &t->grades[i];
    return NULL;
}

int
kt_tt27_score_parse(const kt_ruleset *rs, const char *s, char *why, size_t why_size)
{
    const kt_tt27_rules *t = tt27_rules(rs, why, why_size);
    if (!t)
        return -1;
    size_t len = trimmed(&s);
    if (len == 0) {
        say(why, why_size, "Chưa nhập điểm bài kiểm tra.");
        return -1;
    }
    int value = 0;
    size_t i = 0;
    for (; i < len && is_digit(s[i]); i++)
        if (value <= t->test_max)
            value = value * 10 + (s[i] - '0');
    if (i > 0 && i < len && (s[i] == ',' || s[i] == '.')) {
        say(why, why_size,
            "Điểm bài kiểm tra định kì ở tiểu học là số nguyên từ %d đến %d, không cho điểm "
            "thập phân.",
            t->test_min, t->test_max);
        return -1;
    }
    if (i == 0 || i != len) {
        say(why, why_size, "Điểm bài kiểm tra phải là một số nguyên từ %d đến %d.", t->test_min,
            t->test_max);
        return -1;
    }
    if (value < t->test_min || value > t->test_max) {
        say(why, why_size, "Điểm bài kiểm tra phải từ %d đến %d.", t->test_min, t->test_max);
        return -1;
    }
    return value;
}

const kt_tt27_grade_tests *
kt_tt27_grade(const kt_ruleset *rs, int grade, char *why, size_t why_size)
{
    const kt_tt27_rules *t = tt27_rules(rs, why, why_size);
    if (!t)
        return NULL;
    const kt_tt27_grade_tests *g = find_grade(t, grade);
    if (!g)
        say(why, why_size, "Lớp %d không có trong bảng bài kiểm tra định kì của bộ quy tắc %s.",
            grade, rs->id);
    return g;
}

int
kt_tt27_has_test(const kt_ruleset *rs, int grade, const char *subject, kt_tt27_moment when,
                 char *why, size_t why_size)
{
    const kt_tt27_grade_tests *g = kt_tt27_grade(rs, grade, why, why_size);
    if (!g)
        return -1;
    if (!subject || !*subject) {
        say(why, why_size, "Chưa có mã môn.");
        return -1;
    }
    switch (when) {
    case KT_TT27_CUOI_HK1:
    case KT_TT27_CUOI_NAM:
        return listed(subject, g->end_tests, g->n_end);
    case KT_TT27_GIUA_HK1:
    case KT_TT27_GIUA_HK2:
        return listed(subject, g->mid_tests, g->n_mid);
    default:
        say(why, why_size, "Thời điểm kiểm tra định kì không hợp lệ.");
        return -1;
    }
}

static bool
result_rule_holds(const kt_tt27_result_rule *r, const kt_tt27_grade_tests *g,
                  const kt_tt27_subject_year *subjects, size_t n, const kt_tt27_quality *qualities,
                  size_t nq)
{
    for (size_t i = 0; i < n; i++) {
        if (subjects[i].level < r->subject_min)
            return false;
        if (listed(subjects[i].code, g->end_tests, g->n_end) &&
            subjects[i].test_score < r->test_min)
            return false;
    }
    for (size_t i = 0; i < nq; i++)
        if (qualities[i] < r->quality_min)
            return false;
    return true;
}

/* Checks one subject's end-of-year level and test score against grade g. */
static void
check_tt27_subject(kt_grade_report *rep, const kt_tt27_rules *t, const kt_tt27_grade_tests *g,
                   const kt_tt27_subject_year *s)
{
    const char *code = code_of(s->code);
    if (s->level == KT_TT27_MISSING)
        note(rep, KT_GRADE_INCOMPLETE, "Môn %s: chưa có mức đánh giá cuối năm.", code);
    else if (s->level < KT_TT27_C || s->level > KT_TT27_T)
        note(rep, KT_GRADE_INVALID, "Môn %s: mức đánh giá có giá trị không hợp lệ (%d).", code,
             (int)s->level);
    bool tested = s->code && listed(s->code, g->end_tests, g->n_end);
    if (!tested && s->test_score != KT_SCORE_MISSING)
        note(rep, KT_GRADE_INVALID,
             "Môn %s: lớp %d không có bài kiểm tra định kì môn này, nhưng bản ghi lại có điểm.",
             code, g->grade);
    else if (tested && s->test_score == KT_SCORE_MISSING)
        note(rep, KT_GRADE_INCOMPLETE, "Môn %s: chưa có điểm bài kiểm tra định kì cuối năm.", code);
    else if (tested && (s->test_score < t->test_min || s->test_score > t->test_max))
        note(rep, KT_GRADE_INVALID, "Môn %s: điểm bài kiểm tra %d ngoài thang điểm %d–%d.", code,
             s->test_score, t->test_min, t->test_max);
}

kt_grade_status
kt_tt27_year(const kt_ruleset *rs, int grade, const kt_tt27_subject_year *subjects, size_t n,
             const kt_tt27_quality *qualities, size_t nqualities, kt_tt27_year_result *out)
{
    kt_grade_report *rep = &out->report;
    out->result = KT_TT27_RESULT_MISSING;
    if (!begin(rs, KT_RULES_TT27, rep))
        return rep->status;
    const kt_tt27_rules *t = &rs->tt27;
    const kt_tt27_grade_tests *g = find_grade(t, grade);
    if (!g) {
        note(rep, KT_GRADE_INVALID,
             "Lớp %d không có trong bảng bài kiểm tra định kì của bộ quy tắc %s.", grade,
             rep->ruleset_id);
        return rep->status;
    }
    if ((n && !subjects) || (nqualities && !qualities)) {
        note(rep, KT_GRADE_INVALID, "Danh sách kết quả cuối năm không hợp lệ.");
        return rep->status;
    }
    if (n == 0)
        note(rep, KT_GRADE_INCOMPLETE, "Chưa có kết quả môn học, hoạt động giáo dục nào.");
    for (size_t i = 0; i < n; i++) {
        const kt_tt27_subject_year *s = &subjects[i];
        if (!s->code || !*s->code)
            note(rep, KT_GRADE_INVALID, "Môn thứ %zu trong danh sách chưa có mã môn.", i + 1);
        for (size_t j = 0; s->code && j < i; j++)
            if (subjects[j].code && strcmp(subjects[j].code, s->code) == 0) {
                note(rep, KT_GRADE_INVALID, "Môn %s có hai kết quả trong danh sách.", s->code);
                break;
            }
        check_tt27_subject(rep, t, g, s);
    }
    for (size_t k = 0; k < g->n_end; k++) {
        bool present = false;
        for (size_t i = 0; i < n && !present; i++)
            present = subjects[i].code && code_matches(subjects[i].code, g->end_tests[k]);
        if (!present)
            note(rep, KT_GRADE_INCOMPLETE,
                 "Thiếu kết quả môn %s, môn có bài kiểm tra định kì ở lớp %d.", g->end_tests[k],
                 grade);
    }
    if (nqualities == 0)
        note(rep, KT_GRADE_INCOMPLETE, "Chưa có đánh giá phẩm chất, năng lực.");
    for (size_t i = 0; i < nqualities; i++) {
        if (qualities[i] == KT_QUALITY_MISSING)
            note(rep, KT_GRADE_INCOMPLETE, "Phẩm chất, năng lực thứ %zu chưa được đánh giá.",
                 i + 1);
        else if (qualities[i] < KT_QUALITY_CAN_CO_GANG || qualities[i] > KT_QUALITY_TOT)
            note(rep, KT_GRADE_INVALID, "Phẩm chất, năng lực thứ %zu có giá trị không hợp lệ (%d).",
                 i + 1, (int)qualities[i]);
    }
    if (rep->status != KT_GRADE_OK)
        return rep->status;
    if (result_rule_holds(&t->xuat_sac, g, subjects, n, qualities, nqualities))
        out->result = KT_TT27_HOAN_THANH_XUAT_SAC;
    else if (result_rule_holds(&t->tot, g, subjects, n, qualities, nqualities))
        out->result = KT_TT27_HOAN_THANH_TOT;
    else if (result_rule_holds(&t->hoan_thanh, g, subjects, n, qualities, nqualities))
        out->result = KT_TT27_HOAN_THANH;
    else
        out->result = KT_TT27_CHUA_HOAN_THANH;
    return rep->status;
}

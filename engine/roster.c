/*
 * Class roster validation (danh sách học sinh): finds the five columns by
 * folded header text, checks every row and collects one Vietnamese message
 * per bad cell, so that a teacher can fix the whole file in one pass.
 * Pure: no I/O.
 */
#include "roster.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "arena.h"
#include "text.h"

#define HEADER_SEARCH_ROWS 10 /* school exports put title lines above the header */
#define MAX_CODE_CHARS 20
#define MAX_NAME_CHARS 100
#define MAX_CLASS_CHARS 20
#define MIN_BIRTH_YEAR 1990
#define EXCEL_UNIX_EPOCH 25569 /* serial of 1970-01-01 in Excel's 1900 system */
#define NONE SIZE_MAX

enum { COL_CODE, COL_NAME, COL_DOB, COL_GENDER, COL_CLASS, NCOLS };

static const struct {
    const char *label;
    const char *keys[2]; /* folded header texts that name the column */
} columns[NCOLS] = {
    [COL_CODE] = {"Mã học sinh", {"ma hoc sinh", "ma hs"}},
    [COL_NAME] = {"Họ và tên", {"ho va ten", "ho ten"}},
    [COL_DOB] = {"Ngày sinh", {"ngay sinh"}},
    [COL_GENDER] = {"Giới tính", {"gioi tinh"}},
    [COL_CLASS] = {"Lớp", {"lop"}},
};

struct seen {
    char *code; /* NULL: free slot */
    size_t row;
};

struct ctx {
    kt_roster *r;
    size_t students_cap, errors_cap;
    char names[NCOLS][48]; /* headers as written, for kt_row_error.column */
    struct seen *seen;     /* open addressing, codes met so far */
    size_t seen_mask;
    int this_year;
};

/* A cell value short enough to quote inside a message. */
static const char *
show(const char *v, char buf[48])
{
    if (kt_copy_utf8(buf, 41, v))
        strcat(buf, "…");
    return buf;
}

static size_t
nchars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

__attribute__((format(printf, 4, 5))) static void
add_error(struct ctx *c, size_t row, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kt_row_error_vadd(&c->r->errors, &c->r->nerrors, &c->errors_cap, row,
                      col < 0 ? "" : c->names[col], fmt, ap);
    va_end(ap);
}

static int
match_column(const char *cell)
{
    char *key = kt_fold(cell, strlen(cell));
    int found = -1;
    for (int i = 0; key && found < 0 && i < NCOLS; i++)
        for (int j = 0; j < 2 && columns[i].keys[j]; j++)
            if (strcmp(key, columns[i].keys[j]) == 0)
                found = i;
    free(key);
    return found;
}

/* The header is the row, among the first few, that names the most roster
 * columns (the first one wins ties); idx receives each column's position. */
static size_t
find_header(const kt_table *t, size_t idx[NCOLS])
{
    size_t best = 0;
    int best_n = -1;
    for (size_t h = 0; h < t->nrows && h < HEADER_SEARCH_ROWS && best_n < NCOLS; h++) {
        size_t cur[NCOLS];
        int n = 0;
        for (int i = 0; i < NCOLS; i++)
            cur[i] = NONE;
        for (size_t j = 0; j < t->rows[h].ncells; j++) {
            int col = match_column(t->rows[h].cells[j]);
            if (col >= 0 && cur[col] == NONE) {
                cur[col] = j;
                n++;
            }
        }
        if (n > best_n) {
            best_n = n;
            best = h;
            memcpy(idx, cur, sizeof(cur));
        }
    }
    return best;
}

/* FNV-1a over the code with ASCII letters lower-cased. */
static size_t
hash_code(const char *s)
{
    uint64_t h = 14695981039346656037u;
    for (; *s; s++)
        h = (h ^ (unsigned char)(*s | 0x20)) * 1099511628211u;
    return (size_t)h;
}

static bool
check_code(struct ctx *c, size_t row, const char *v)
{
    char b[48];
    if (!*v) {
        add_error(c, row, COL_CODE, "Thiếu mã học sinh");
        return false;
    }
    if (nchars(v) > MAX_CODE_CHARS) {
        add_error(c, row, COL_CODE, "Mã học sinh '%s' dài quá %d ký tự", show(v, b),
                  MAX_CODE_CHARS);
        return false;
    }
    if (v[strspn(v, "0123456789-_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")]) {
        add_error(c, row, COL_CODE,
                  "Mã học sinh '%s' chỉ được gồm chữ cái không dấu, chữ số, '-' và '_'", v);
        return false;
    }
    /* Codes differing only in case would be the same login: treat as equal. */
    struct seen *s = &c->seen[hash_code(v) & c->seen_mask];
    while (s->code && strcasecmp(s->code, v) != 0)
        s = &c->seen[(size_t)(s - c->seen + 1) & c->seen_mask];
    if (s->code) {
        add_error(c, row, COL_CODE, "Mã học sinh '%s' trùng với mã ở dòng %zu", v, s->row);
        return false;
    }
    if (!(s->code = strdup(v)))
        abort();
    s->row = row;
    return true;
}

static bool
check_name(struct ctx *c, size_t row, const char *v)
{
    size_t n = nchars(v);
    if (!*v)
        add_error(c, row, COL_NAME, "Thiếu họ và tên");
    else if (n > MAX_NAME_CHARS)
        add_error(c, row, COL_NAME, "Họ và tên dài %zu ký tự, tối đa %d ký tự", n, MAX_NAME_CHARS);
    return *v && n <= MAX_NAME_CHARS;
}

static int
days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* d/m/yyyy with '/', '-' or '.', or a five-digit Excel serial (a date cell
 * that reached us as a plain number). */
static bool
check_dob(struct ctx *c, size_t row, const char *v, kt_roster_student *s)
{
    char b[48];
    int d = 0, m = 0, y = 0, nd = 0, nm = 0, ny = 0;
    const char *p = v;

    if (!*v) {
        add_error(c, row, COL_DOB, "Thiếu ngày sinh (định dạng dd/mm/yyyy, ví dụ 05/09/2010)");
        return false;
    }
    if (strlen(v) == 5 && strspn(v, "0123456789") == 5) {
        time_t secs = (time_t)(atol(v) - EXCEL_UNIX_EPOCH) * 86400;
        struct tm tm;
        gmtime_r(&secs, &tm);
        y = tm.tm_year + 1900;
        m = tm.tm_mon + 1;
        d = tm.tm_mday;
    } else {
        for (; *p >= '0' && *p <= '9' && nd < 3; nd++)
            d = d * 10 + (*p++ - '0');
        char sep = *p ? *p++ : 0;
        for (; *p >= '0' && *p <= '9' && nm < 3; nm++)
            m = m * 10 + (*p++ - '0');
        bool same = *p && *p++ == sep;
        for (; *p >= '0' && *p <= '9' && ny < 5; ny++)
            y = y * 10 + (*p++ - '0');
        if (!sep || !strchr("/-.", sep) || !same || nd < 1 || nd > 2 || nm < 1 || nm > 2 ||
            ny != 4 || *p) {
            add_error(c, row, COL_DOB,
                      "Ngày sinh '%s' không đúng định dạng dd/mm/yyyy (ví dụ 05/09/2010)",
                      show(v, b));
            return false;
        }
        if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) {
            add_error(c, row, COL_DOB,
                      "Ngày sinh '%s' không phải ngày có thật (định dạng dd/mm/yyyy)", v);
            return false;
        }
    }
    if (y < MIN_BIRTH_YEAR || y > c->this_year) {
        add_error(c, row, COL_DOB,
                  "Ngày sinh %02d/%02d/%04d không hợp lệ: năm sinh phải từ %d đến %d", d, m, y,
                  MIN_BIRTH_YEAR, c->this_year);
        return false;
    }
    s->birth_year = y;
    s->birth_month = m;
    s->birth_day = d;
    return true;
}

static bool
check_gender(struct ctx *c, size_t row, const char *v, int *gender)
{
    char b[48];
    char *key = kt_fold(v, strlen(v));
    bool ok = true;
    if (!key)
        abort();
    if (strcmp(key, "nam") == 0)
        *gender = 1;
    else if (strcmp(key, "nu") == 0)
        *gender = 2;
    else if (*key && strcmp(key, "khac") != 0)
        ok = false;
    free(key);
    if (!ok)
        add_error(c, row, COL_GENDER,
                  "Giới tính '%s' không hợp lệ: ghi Nam, Nữ hoặc Khác (hoặc để trống)", show(v, b));
    return ok;
}

static bool
check_class(struct ctx *c, size_t row, const char *v, int *grade)
{
    char b[48];
    int g = 0;
    if (!*v) {
        add_error(c, row, COL_CLASS, "Thiếu lớp (ví dụ 10A1)");
        return false;
    }
    if (nchars(v) > MAX_CLASS_CHARS) {
        add_error(c, row, COL_CLASS, "Tên lớp '%s' dài quá %d ký tự", show(v, b), MAX_CLASS_CHARS);
        return false;
    }
    for (const char *p = v; *p >= '0' && *p <= '9' && g <= 12; p++)
        g = g * 10 + (*p - '0');
    if (g < 1 || g > 12) {
        add_error(c, row, COL_CLASS,
                  "Lớp '%s' phải bắt đầu bằng khối lớp từ 1 đến 12 (ví dụ 10A1, 6A)", v);
        return false;
    }
    *grade = g;
    return true;
}

static void
check_row(struct ctx *c, const kt_row *row, const size_t idx[NCOLS])
{
    kt_roster *r = c->r;
    kt_roster_student s = {.source_row = row->source_row};
    char *v[NCOLS];
    bool blank = true, ok = true;

    for (int i = 0; i < NCOLS; i++) {
        const char *cell = idx[i] < row->ncells ? row->cells[idx[i]] : "";
        v[i] = kt_text_clean(cell, strlen(cell));
        blank = blank && v[i] && !*v[i];
    }
    for (int i = 0; i < NCOLS && !blank; i++) {
        if (!v[i]) {
            add_error(c, s.source_row, i, "Ô chứa ký tự không đọc được (không phải UTF-8)");
            ok = false;
            continue;
        }
        switch (i) {
        case COL_CODE:
            ok &= check_code(c, s.source_row, v[i]);
            break;
        case COL_NAME:
            ok &= check_name(c, s.source_row, v[i]);
            break;
        case COL_DOB:
            ok &= check_dob(c, s.source_row, v[i], &s);
            break;
        case COL_GENDER:
            ok &= check_gender(c, s.source_row, v[i], &s.gender);
            break;
        case COL_CLASS:
            ok &= check_class(c, s.source_row, v[i], &s.grade);
            break;
        }
    }
    if (!blank && ok) {
        s.student_code = v[COL_CODE];
        s.full_name = v[COL_NAME];
        s.class_name = v[COL_CLASS];
        v[COL_CODE] = v[COL_NAME] = v[COL_CLASS] = NULL;
        r->students = kt_grow(r->students, &c->students_cap, r->nstudents + 1, sizeof(s));
        r->students[r->nstudents++] = s;
    }
    for (int i = 0; i < NCOLS; i++)
        free(v[i]);
}

int
kt_roster_from_table(const kt_table *t, kt_roster *out)
{
    struct ctx c = {.r = out};
    size_t idx[NCOLS];
    time_t now = time(NULL);
    struct tm tm;

    *out = (kt_roster){0};
    if (t->nrows == 0) {
        add_error(&c, 0, -1, "Tệp trống: cần một dòng tiêu đề và các dòng học sinh");
        return -1;
    }
    size_t h = find_header(t, idx);
    for (int i = 0; i < NCOLS; i++) {
        if (idx[i] == NONE) {
            kt_copy_utf8(c.names[i], sizeof(c.names[i]), columns[i].label);
            add_error(&c, 0, i, "Thiếu cột '%s' ở dòng tiêu đề (dòng %zu)", columns[i].label,
                      t->rows[h].source_row);
        } else {
            const char *cell = t->rows[h].cells[idx[i]];
            char *name = kt_text_clean(cell, strlen(cell));
            kt_copy_utf8(c.names[i], sizeof(c.names[i]), name);
            free(name);
        }
    }
    if (out->nerrors)
        return -1;

    localtime_r(&now, &tm);
    c.this_year = tm.tm_year + 1900;
    for (c.seen_mask = 15; c.seen_mask < 2 * t->nrows; c.seen_mask = 2 * c.seen_mask + 1)
        ;
    if (!(c.seen = calloc(c.seen_mask + 1, sizeof(struct seen))))
        abort();
    for (size_t i = h + 1; i < t->nrows; i++)
        check_row(&c, &t->rows[i], idx);
    for (size_t i = 0; i <= c.seen_mask; i++)
        free(c.seen[i].code);
    free(c.seen);

    if (out->nstudents == 0 && out->nerrors == 0)
        add_error(&c, 0, -1, "Không có học sinh nào dưới dòng tiêu đề (dòng %zu)",
                  t->rows[h].source_row);
    return out->nerrors ? -1 : 0;
}

void
kt_roster_free(kt_roster *r)
{
    for (size_t i = 0; i < r->nstudents; i++) {
        free(r->students[i].student_code);
        free(r->students[i].full_name);
        free(r->students[i].class_name);
    }
    free(r->students);
    free(r->errors);
    *r = (kt_roster){0};
}

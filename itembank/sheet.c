/*
 * Writers for score sheets: RFC 4180 CSV with a UTF-8 BOM, and .xlsx with
 * libxlsxwriter. Marks are kept in tenths until the last moment, so the
 * text "7,7" and the number 7.7 come from the same integer. Text reaches
 * CSV through kt_csv_field (a name such as "=HYPERLINK(...)" gets a leading
 * apostrophe) and .xlsx as string cells in the Text format, never formulas.
 */
#include "sheet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xlsxwriter.h>

#include "csv.h"

struct out {
    char *p;
    size_t n, cap;
    int oom;
};

static void
put(struct out *o, const char *s, size_t n)
{
    if (o->oom)
        return;
    if (o->n + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 4096;
        while (cap < o->n + n + 1)
            cap *= 2;
        char *p = realloc(o->p, cap);
        if (!p) {
            o->oom = 1;
            return;
        }
        o->p = p;
        o->cap = cap;
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
    o->p[o->n] = '\0';
}

static int
tenths_of(const json_t *cell, int *t)
{
    const json_t *v = json_object_get(cell, "tenths");
    if (!json_is_integer(v))
        return 0;
    *t = (int)json_integer_value(v);
    return 1;
}

/* A whole number cell ({"int": 3}: STT). */
static int
int_of(const json_t *cell, long long *n)
{
    const json_t *v = json_object_get(cell, "int");
    if (!json_is_integer(v))
        return 0;
    *n = (long long)json_integer_value(v);
    return 1;
}

static void
csv_cell(struct out *o, const json_t *cell, char mark)
{
    char buf[32];
    int t;
    long long n;
    if (tenths_of(cell, &t)) { /* the separator is never the decimal mark: no quotes */
        int len = snprintf(buf, sizeof(buf), "%d%c%d", t / 10, mark, t % 10);
        put(o, buf, (size_t)len);
        return;
    }
    if (int_of(cell, &n)) {
        int len = snprintf(buf, sizeof(buf), "%lld", n);
        put(o, buf, (size_t)len);
        return;
    }
    const char *s = json_string_value(cell);
    if (!s)
        return;
    char *f = kt_csv_field(s); /* quoted, and never a formula */
    put(o, f, strlen(f));
    free(f);
}

static void
csv_row(struct out *o, const json_t *row, char mark)
{
    /* Decimal comma: fields between ';' (Vietnamese-locale Excel); decimal
     * point: ','. */
    const char *sep = mark == ',' ? ";" : ",";
    size_t i;
    const json_t *cell;
    json_array_foreach(row, i, cell)
    {
        if (i)
            put(o, sep, 1);
        csv_cell(o, cell, mark);
    }
    put(o, "\r\n", 2);
}

char *
kt_sheet_csv(const json_t *sheet, char decimal_mark, size_t *len)
{
    struct out o = {0};
    put(&o, "\xEF\xBB\xBF", 3);
    csv_row(&o, json_object_get(sheet, "headers"), decimal_mark);
    size_t i;
    const json_t *row;
    json_array_foreach(json_object_get(sheet, "rows"), i, row) csv_row(&o, row, decimal_mark);
    if (o.oom) {
        free(o.p);
        return NULL;
    }
    *len = o.n;
    return o.p;
}

/* ------------------------------------------------------------------------ */
/* The layout                                                               */

static json_t *
mark_cell(const json_t *v)
{
    const char *s = json_string_value(v);
    if (!s)
        return json_null();
    if (strspn(s, "0123456789") == strlen(s) && *s)
        return json_pack("{s:i}", "tenths", atoi(s));
    if (strcmp(s, "D") == 0)
        return json_string("Đ");
    if (strcmp(s, "CD") == 0)
        return json_string("CĐ");
    return json_string(s);
}

/* The reason of a blank result ({"code", "message"} as the records API
 * gives it), or a generic one when nothing was computed yet. */
static const char *
blank_reason(const json_t *result)
{
    const char *m = json_string_value(json_object_get(json_object_get(result, "reason"), "message"));
    if (m && *m)
        return m;
    if (!result || json_is_null(result))
        return "Chưa tính: chưa có điểm nào của môn trong học kì.";
    return "Chưa đủ điểm để tính.";
}

/* Appends v, or null when absent (json_array_append refuses NULL). */
static void
append_value(json_t *row, const json_t *v)
{
    json_array_append_new(row, v ? json_incref((json_t *)v) : json_null());
}

static int
blank(const json_t *result)
{
    return !json_is_string(json_object_get(result, "value"));
}

json_t *
kt_sheet_from_records(const json_t *d, int national_id)
{
    const json_t *sub = json_object_get(d, "subject"),
                 *cls = json_object_get(d, "class");
    const char *mode = json_string_value(json_object_get(sub, "mode"));
    int primary = mode && strncmp(mode, "primary", 7) == 0;
    int comment = mode && strcmp(mode, "comment") == 0;
    int slots = (int)json_integer_value(json_object_get(sub, "tx_slots"));
    int sem = (int)json_integer_value(json_object_get(d, "semester"));
    json_t *headers = json_array();
    /* The result columns carry the result's name: ĐTBmhk / ĐTBmcn for a
     * score subject (TT22 Điều 9 khoản 1 điểm a), "Kết quả" Đạt / Chưa đạt
     * for a comment subject (điểm b), the level for primary (TT27). */
    const char *sem_head = comment ? (sem == 1 ? "Kết quả học kì I" : "Kết quả học kì II")
                                   : "ĐTBmhk";
    const char *year_head = comment ? "Kết quả cả năm" : "ĐTBmcn";
    if (primary) {
        const char *h[] = {"STT", "Mã lớp", "Mã học sinh", "Họ tên", "Ngày sinh",
                           "Mức đạt được", "Điểm KTĐK"};
        for (size_t k = 0; k < 7; k++)
            json_array_append_new(headers, json_string(h[k]));
    } else {
        const char *h[] = {"STT", "Mã học sinh", "Họ và tên", "Ngày sinh"};
        for (size_t k = 0; k < 4; k++)
            json_array_append_new(headers, json_string(h[k]));
        for (int k = 1; k <= slots; k++) {
            char name[32];
            snprintf(name, sizeof(name), "ĐĐGtx%d", k);
            json_array_append_new(headers, json_string(name));
        }
        json_array_append_new(headers, json_string("ĐĐGgk"));
        json_array_append_new(headers, json_string("ĐĐGck"));
        json_array_append_new(headers, json_string(sem_head));
        if (sem == 2)
            json_array_append_new(headers, json_string(year_head));
    }
    json_array_append_new(headers, json_string("Nhận xét"));
    json_array_append_new(headers, json_string("Lí do để trống"));
    if (national_id)
        json_array_append_new(headers, json_string("Số định danh cá nhân"));
    json_t *rows = json_array();
    size_t i;
    const json_t *st;
    json_array_foreach(json_object_get(d, "students"), i, st)
    {
        const json_t *m = json_object_get(st, "marks");
        const json_t *res = json_object_get(st, "result"), *year = json_object_get(st, "year");
        int studies = !json_is_false(json_object_get(st, "studies"));
        json_t *row = json_pack("[{s:I}]", "int", (json_int_t)i + 1);
        if (primary)
            append_value(row, json_object_get(cls, "name"));
        append_value(row, json_object_get(st, "student_code"));
        append_value(row, json_object_get(st, "full_name"));
        append_value(row, json_object_get(st, "birth_date"));
        if (primary) {
            json_array_append_new(row, mark_cell(json_object_get(m, "level_ck")));
            const json_t *ck = json_object_get(m, "ck");
            json_array_append_new(row, json_is_string(ck)
                                           ? json_sprintf("%d", atoi(json_string_value(ck)) / 10)
                                           : json_null());
        } else {
            for (int k = 1; k <= slots; k++) {
                char name[16];
                snprintf(name, sizeof(name), "tx%d", k);
                json_array_append_new(row, mark_cell(json_object_get(m, name)));
            }
            json_array_append_new(row, mark_cell(json_object_get(m, "gk")));
            json_array_append_new(row, mark_cell(json_object_get(m, "ck")));
            json_array_append_new(row, mark_cell(json_object_get(res, "value")));
            if (sem == 2)
                json_array_append_new(row, mark_cell(json_object_get(year, "value")));
        }
        append_value(row, json_object_get(m, "nx"));
        /* Every blank result says why. */
        char why[1600] = "";
        if (!studies) {
            snprintf(why, sizeof(why), "Học sinh không học môn này (kế hoạch môn học của lớp).");
        } else {
            int bs = blank(res), by = !primary && sem == 2 && blank(year);
            if (bs && by)
                snprintf(why, sizeof(why), "%s: %s %s: %s", sem_head, blank_reason(res), year_head,
                         blank_reason(year));
            else if (bs)
                snprintf(why, sizeof(why), "%s", blank_reason(res));
            else if (by)
                snprintf(why, sizeof(why), "%s: %s", year_head, blank_reason(year));
        }
        json_array_append_new(row, why[0] ? json_string(why) : json_null());
        if (national_id)
            append_value(row, json_object_get(st, "national_id"));
        json_array_append_new(rows, row);
    }
    char title[300];
    snprintf(title, sizeof(title), "Sổ điểm lớp %s — môn %s — học kì %s — năm học %s",
             json_string_value(json_object_get(cls, "name")),
             json_string_value(json_object_get(sub, "name")), sem == 1 ? "I" : "II",
             json_string_value(json_object_get(d, "school_year")));
    return json_pack("{s:[s?,s],s:s,s:o,s:o}", "titles",
                     json_string_value(json_object_get(json_object_get(d, "school"), "name")),
                     title, "sheet_name", "So diem", "headers", headers, "rows", rows);
}

/* ------------------------------------------------------------------------ */
/* .xlsx                                                                    */

int
kt_sheet_xlsx(const json_t *sheet, const char *path)
{
    lxw_workbook *wb = workbook_new(path);
    if (!wb)
        return -1;
    const char *name = json_string_value(json_object_get(sheet, "sheet_name"));
    lxw_worksheet *ws = workbook_add_worksheet(wb, name && *name ? name : "So diem");
    lxw_format *bold = workbook_add_format(wb);
    format_set_bold(bold);
    format_set_border(bold, LXW_BORDER_THIN);
    format_set_text_wrap(bold);
    lxw_format *mark = workbook_add_format(wb);
    format_set_num_format(mark, "0.0");
    format_set_border(mark, LXW_BORDER_THIN);
    lxw_format *whole = workbook_add_format(wb);
    format_set_num_format(whole, "0");
    format_set_border(whole, LXW_BORDER_THIN);
    lxw_format *text = workbook_add_format(wb);
    format_set_border(text, LXW_BORDER_THIN);
    format_set_num_format(text, "@");
    lxw_row_t r = 0;
    size_t i, k;
    const json_t *v, *row, *cell;
    json_array_foreach(json_object_get(sheet, "titles"), i, v)
        worksheet_write_string(ws, r++, 0, json_string_value(v), NULL);
    if (r)
        r++;
    json_array_foreach(json_object_get(sheet, "headers"), k, cell)
        worksheet_write_string(ws, r, (lxw_col_t)k, json_string_value(cell), bold);
    r++;
    json_array_foreach(json_object_get(sheet, "rows"), i, row)
    {
        json_array_foreach(row, k, cell)
        {
            int t;
            long long n;
            if (tenths_of(cell, &t))
                worksheet_write_number(ws, r, (lxw_col_t)k, t / 10.0, mark);
            else if (int_of(cell, &n))
                worksheet_write_number(ws, r, (lxw_col_t)k, (double)n, whole);
            else if (json_is_string(cell))
                worksheet_write_string(ws, r, (lxw_col_t)k, json_string_value(cell), text);
            else
                worksheet_write_blank(ws, r, (lxw_col_t)k, text);
        }
        r++;
    }
    worksheet_set_column(ws, 0, 0, 5, NULL);
    worksheet_set_column(ws, 1, 1, 14, NULL);
    worksheet_set_column(ws, 2, 2, 26, NULL);
    worksheet_set_column(ws, 3, 3, 12, NULL);
    return workbook_close(wb) == LXW_NO_ERROR ? 0 : -1;
}

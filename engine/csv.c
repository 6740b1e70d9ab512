/*
 * CSV reader (RFC 4180) for rosters and taxonomy files saved by Excel,
 * LibreOffice or Google Sheets: optional UTF-8 BOM, ',' or ';' separator
 * chosen from the first line, quoted fields spanning lines, CRLF or LF.
 * Each record keeps the physical line it starts on, for error messages.
 * kt_csv_field writes one field, safe to open in a spreadsheet.
 */
#include "csv.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "text.h"

#define CSV_MAX_BYTES ((size_t)20 << 20)
#define CSV_MAX_ROWS 200000
#define CSV_MAX_COLS 256

struct parser {
    kt_table *t;
    size_t rows_cap;
    char **cells; /* record being read */
    size_t ncells, cells_cap;
    char *field; /* field being read */
    size_t flen, fcap;
    size_t line;             /* line where the record being read starts */
    bool blank;              /* every field of that record is empty so far */
    size_t nblank, blank_at; /* all-empty records held back: dropped if trailing */
    char *err;
    size_t errlen;
};

static char
detect_separator(const char *p, const char *end)
{
    size_t commas = 0, semis = 0;
    bool quoted = false;
    for (; p < end && (quoted || (*p != '\n' && *p != '\r')); p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (!quoted && *p == ',')
            commas++;
        else if (!quoted && *p == ';')
            semis++;
    }
    return semis > commas ? ';' : ',';
}

static void
put(struct parser *ps, char c)
{
    ps->field = kt_grow(ps->field, &ps->fcap, ps->flen + 1, 1);
    ps->field[ps->flen++] = c;
}

static int
end_field(struct parser *ps)
{
    if (!kt_utf8_valid(ps->field ? ps->field : "", ps->flen)) {
        snprintf(ps->err, ps->errlen,
                 "Dòng %zu: dữ liệu không phải UTF-8. Hãy lưu tệp dạng \"CSV UTF-8\".", ps->line);
        return -1;
    }
    if (ps->ncells == CSV_MAX_COLS) {
        snprintf(ps->err, ps->errlen, "Dòng %zu có hơn %d cột.", ps->line, CSV_MAX_COLS);
        return -1;
    }
    ps->cells = kt_grow(ps->cells, &ps->cells_cap, ps->ncells + 1, sizeof(char *));
    if (!(ps->cells[ps->ncells] = strndup(ps->field ? ps->field : "", ps->flen)))
        abort();
    ps->ncells++;
    ps->blank = ps->blank && ps->flen == 0;
    ps->flen = 0;
    return 0;
}

static int
add_row(struct parser *ps, size_t line, char **cells, size_t ncells)
{
    kt_table *t = ps->t;
    if (t->nrows == CSV_MAX_ROWS) {
        snprintf(ps->err, ps->errlen, "Tệp có hơn %d dòng; hãy chia thành nhiều tệp nhỏ hơn.",
                 CSV_MAX_ROWS);
        return -1;
    }
    t->rows = kt_grow(t->rows, &ps->rows_cap, t->nrows + 1, sizeof(kt_row));
    t->rows[t->nrows++] = (kt_row){.source_row = line, .ncells = ncells, .cells = cells};
    return 0;
}

/* Ends the record at ps->line. All-empty records are held back and only
 * materialised (as one empty cell) when a non-empty record follows them. */
static int
end_record(struct parser *ps)
{
    if (ps->blank) {
        for (size_t i = 0; i < ps->ncells; i++)
            free(ps->cells[i]);
        ps->ncells = 0;
        if (ps->nblank++ == 0)
            ps->blank_at = ps->line;
        return 0;
    }
    for (; ps->nblank > 0; ps->nblank--, ps->blank_at++) {
        char **one = malloc(sizeof(char *));
        if (!one || !(one[0] = strdup("")))
            abort();
        if (add_row(ps, ps->blank_at, one, 1) < 0) {
            free(one[0]);
            free(one);
            return -1;
        }
    }
    if (add_row(ps, ps->line, ps->cells, ps->ncells) < 0)
        return -1;
    ps->cells = NULL;
    ps->ncells = ps->cells_cap = 0;
    return 0;
}

int
kt_csv_parse(const char *buf, size_t len, kt_table *out, char *err, size_t errlen)
{
    struct parser ps = {.t = out, .line = 1, .blank = true, .err = err, .errlen = errlen};
    const char *p = buf, *end = buf + len;
    size_t line = 1;
    bool quoted = false, open = false;
    int rc = -1;

    *out = (kt_table){0};
    if (len > CSV_MAX_BYTES) {
        snprintf(err, errlen, "Tệp CSV lớn hơn %u MB; hãy chia thành nhiều tệp nhỏ hơn.",
                 (unsigned)(CSV_MAX_BYTES >> 20));
        return -1;
    }
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    const char *begin = p;
    char sep = detect_separator(p, end);

    for (; p < end; p++) {
        char c = *p;
        if (quoted) {
            if (c == '"' && p + 1 < end && p[1] == '"')
                put(&ps, *p++);
            else if (c == '"')
                quoted = false;
            else if (!(c == '\r' && p + 1 < end && p[1] == '\n'))
                put(&ps, c);
            line += c == '\n';
            continue;
        }
        open = true;
        if (c == '"' && (p == begin || p[-1] == sep || p[-1] == '\n')) {
            quoted = true;
            ps.blank = false; /* so a blank record is always exactly one line */
        } else if (c == sep) {
            if (end_field(&ps) < 0)
                goto fail;
        } else if (c == '\n' || (c == '\r' && p + 1 < end && p[1] == '\n')) {
            p += c == '\r';
            if (end_field(&ps) < 0 || end_record(&ps) < 0)
                goto fail;
            ps.line = ++line;
            ps.blank = true;
            open = false;
        } else {
            put(&ps, c);
        }
    }
    if (quoted) {
        snprintf(err, errlen, "Dòng %zu: dấu ngoặc kép (\") mở nhưng không được đóng.", ps.line);
        goto fail;
    }
    if (open && (end_field(&ps) < 0 || end_record(&ps) < 0))
        goto fail;
    rc = 0;
fail:
    for (size_t i = 0; i < ps.ncells; i++)
        free(ps.cells[i]);
    free(ps.cells);
    free(ps.field);
    if (rc < 0)
        kt_table_free(out);
    return rc;
}

/* An optional sign, digits, and at most one '.' or ',' between digits. */
static bool
plain_number(const char *s)
{
    s += *s == '-' || *s == '+';
    size_t int_digits = strspn(s, "0123456789");
    if (!int_digits)
        return false;
    s += int_digits;
    if (*s == '.' || *s == ',')
        s++;
    else
        return *s == '\0';
    size_t frac_digits = strspn(s, "0123456789");
    return frac_digits && s[frac_digits] == '\0';
}

char *
kt_csv_field(const char *s)
{
    bool formula = strchr("=+-@\t\r", *s) && *s && !plain_number(s);
    bool quote = strpbrk(s, ",;\"\r\n") != NULL;
    size_t n = strlen(s), quotes = 0;
    for (const char *p = s; (p = strchr(p, '"')); p++)
        quotes++;
    char *out = malloc(n + quotes + 4), *o = out;
    if (!out)
        abort();
    if (quote)
        *o++ = '"';
    if (formula)
        *o++ = '\'';
    for (; *s; s++) {
        if (*s == '"')
            *o++ = '"';
        *o++ = *s;
    }
    if (quote)
        *o++ = '"';
    *o = '\0';
    return out;
}

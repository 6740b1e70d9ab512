/*
 * Reader for the first worksheet of an .xlsx file held in memory: libzip
 * opens the package from the buffer and libxml2's streaming reader walks the
 * parts (workbook, relationships, styles, shared strings, sheet). Hostile
 * files are bounded: archive and part sizes, compression ratio, rows and
 * columns are capped, DOCTYPEs (hence entities) are refused, no network.
 */
#include "xlsx.h"

#include <math.h> /* isfinite, a macro: no libm */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/xmlreader.h>
#include <zip.h>

#include "arena.h"
#include "text.h"

#define MAX_FILE (20u << 20)
#define MAX_PART (50u << 20)
#define MAX_TOTAL (100u << 20)
#define RATIO_FLOOR (1u << 20) /* parts below this size are not ratio-checked */
#define MAX_RATIO 200          /* deflate tops out near 1000:1; real sheets stay far below */
#define MAX_ROWS 200000
#define MAX_COLS 256
#define MAX_SHEET_ROW 1048576 /* Excel's own limit */
#define XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

enum cell_type { T_NUMBER, T_SHARED, T_BOOL, T_TEXT };

struct book {
    zip_t *zip;
    size_t total; /* uncompressed bytes read so far */
    char *err;
    size_t errlen;

    char *text; /* character data collected while `collect` is set */
    size_t text_len, text_cap;
    bool collect, in_rph, in_is;

    bool date1904;
    char *sheet_rid, *sheet_path;

    long *date_fmts; /* custom numFmtIds whose code is a date */
    size_t ndate_fmts, date_fmts_cap;
    bool in_xfs;
    bool *xf_date; /* cellXfs index -> date format */
    size_t nxf, xf_cap;

    char *sst; /* shared strings, NUL-separated */
    size_t sst_len, sst_cap;
    size_t *sst_off, nsst, sst_off_cap;

    kt_table *t;
    size_t rows_cap;
    long row, col, next_col, style;
    enum cell_type type;
    bool has_value;
    char *cells[MAX_COLS]; /* row being read */
    size_t ncols;
};

typedef int (*start_fn)(struct book *b, xmlTextReaderPtr r, const char *name);
typedef int (*end_fn)(struct book *b, const char *name);

__attribute__((format(printf, 2, 3))) static int
fail(struct book *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->err, b->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static void
append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    *buf = kt_grow(*buf, cap, *len + n + 1, 1);
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
}

static bool
attr_is(xmlTextReaderPtr r, const char *name, const char *value)
{
    xmlChar *v = xmlTextReaderGetAttribute(r, (const xmlChar *)name);
    bool eq = v && strcmp((const char *)v, value) == 0;
    xmlFree(v);
    return eq;
}

/* Attribute as a number, or def when absent or not a whole number. */
static long
attr_long(xmlTextReaderPtr r, const char *name, long def)
{
    xmlChar *v = xmlTextReaderGetAttribute(r, (const xmlChar *)name);
    char *end;
    long n = v ? strtol((const char *)v, &end, 10) : def;
    if (v && (end == (char *)v || *end))
        n = def;
    xmlFree(v);
    return n;
}

/* Reads a part into a NUL-terminated buffer: 1 found, 0 absent, -1 error. */
static int
read_part(struct book *b, const char *name, char **data, size_t *len)
{
    zip_int64_t idx = zip_name_locate(b->zip, name, ZIP_FL_NOCASE);
    zip_stat_t st;
    zip_file_t *f;
    char extra;

    if (idx < 0)
        return 0;
    if (zip_stat_index(b->zip, (zip_uint64_t)idx, 0, &st) < 0 ||
        (st.valid & (ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE)) != (ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE))
        return fail(b, "Tệp Excel bị hỏng: không đọc được phần %s.", name);
    if (st.size > MAX_PART || st.size > MAX_TOTAL - b->total)
        return fail(b,
                    "Tệp Excel bị từ chối: phần %s giải nén ra quá lớn (tối đa %u MB mỗi phần, "
                    "%u MB tổng cộng).",
                    name, MAX_PART >> 20, MAX_TOTAL >> 20);
    if (st.size > RATIO_FLOOR && st.size / MAX_RATIO > st.comp_size)
        return fail(b, "Tệp Excel bị từ chối: phần %s có tỉ lệ nén bất thường (nghi là zip bomb).",
                    name);
    b->total += st.size;
    if (!(f = zip_fopen_index(b->zip, (zip_uint64_t)idx, 0)))
        return fail(b, "Không giải nén được phần %s (tệp hỏng hoặc có mật khẩu).", name);
    if (!(*data = malloc(st.size + 1)))
        abort();
    bool ok = zip_fread(f, *data, st.size) == (zip_int64_t)st.size && zip_fread(f, &extra, 1) == 0;
    zip_fclose(f);
    if (!ok) {
        free(*data);
        return fail(b, "Tệp Excel bị hỏng: giải nén phần %s thất bại.", name);
    }
    (*data)[st.size] = '\0';
    *len = st.size;
    return 1;
}

/* Streams a part through start/end element callbacks (an empty element gets
 * both). Callbacks return 0 to go on, 1 to stop early, -1 on error.
 * Returns 1 when the part was walked, 0 when it is absent, -1 on error. */
static int
walk_part(struct book *b, const char *part, start_fn start, end_fn end)
{
    char *data = NULL;
    size_t len = 0;
    int found = read_part(b, part, &data, &len), rc = 0, ret = 0;

    if (found <= 0 || !data)
        return found > 0 ? -1 : found;
    if (memmem(data, len, "<!DOCTYPE", 9)) {
        free(data);
        return fail(b, "Tệp Excel bị từ chối: phần %s chứa khai báo DOCTYPE (không an toàn).",
                    part);
    }
    /* Forcing UTF-8 makes the DOCTYPE check above complete: no UTF-16 disguise. */
    xmlTextReaderPtr r = xmlReaderForMemory(data, (int)len, part, "UTF-8", XML_OPTIONS);
    if (!r)
        abort();
    b->collect = b->in_rph = b->in_is = false;
    while (rc == 0 && (ret = xmlTextReaderRead(r)) == 1) {
        const char *name = (const char *)xmlTextReaderConstLocalName(r);
        switch (xmlTextReaderNodeType(r)) {
        case XML_READER_TYPE_ELEMENT: {
            bool empty = xmlTextReaderIsEmptyElement(r) == 1;
            rc = start(b, r, name);
            if (rc == 0 && empty && end)
                rc = end(b, name);
            break;
        }
        case XML_READER_TYPE_END_ELEMENT:
            rc = end ? end(b, name) : 0;
            break;
        case XML_READER_TYPE_TEXT:
        case XML_READER_TYPE_CDATA:
        case XML_READER_TYPE_WHITESPACE:
        case XML_READER_TYPE_SIGNIFICANT_WHITESPACE:
            if (b->collect) {
                const char *v = (const char *)xmlTextReaderConstValue(r);
                append(&b->text, &b->text_len, &b->text_cap, v, strlen(v));
            }
            break;
        default:
            break;
        }
    }
    xmlFreeTextReader(r);
    free(data);
    if (rc == 0 && ret < 0)
        return fail(b, "Tệp Excel bị hỏng: phần %s không phải XML hợp lệ.", part);
    return rc < 0 ? -1 : 1;
}

/* xl/workbook.xml: the date system and the relationship id of the first sheet. */
static int
workbook_start(struct book *b, xmlTextReaderPtr r, const char *name)
{
    if (strcmp(name, "workbookPr") == 0) {
        b->date1904 = attr_is(r, "date1904", "1") || attr_is(r, "date1904", "true");
    } else if (strcmp(name, "sheet") == 0) {
        /* r:id, whatever prefix the relationships namespace was given */
        while (!b->sheet_rid && xmlTextReaderMoveToNextAttribute(r) == 1) {
            if (xmlTextReaderConstNamespaceUri(r) &&
                strcmp((const char *)xmlTextReaderConstLocalName(r), "id") == 0)
                b->sheet_rid = kt_xstrdup((const char *)xmlTextReaderConstValue(r));
        }
        xmlTextReaderMoveToElement(r);
        return 1;
    }
    return 0;
}

/* xl/_rels/workbook.xml.rels: where that sheet lives in the package. */
static int
rels_start(struct book *b, xmlTextReaderPtr r, const char *name)
{
    if (strcmp(name, "Relationship") != 0 || !attr_is(r, "Id", b->sheet_rid))
        return 0;
    xmlChar *target = xmlTextReaderGetAttribute(r, (const xmlChar *)"Target");
    if (target) {
        const char *t = (const char *)target; /* relative to xl/ unless absolute */
        if (asprintf(&b->sheet_path, "%s%s", t[0] == '/' ? "" : "xl/", t + (t[0] == '/')) < 0)
            abort();
    }
    xmlFree(target);
    return 1;
}

/* Date if it has day and year fields outside quoted text, [..] sections and
 * the one-character escapes \x, _x (padding) and *x (fill). */
static bool
is_date_code(const char *code)
{
    bool d = false, y = false;
    for (const char *p = code; *p; p++) {
        if (*p == '"' || *p == '[') {
            const char *close = strchr(p + 1, *p == '"' ? '"' : ']');
            if (!close)
                break;
            p = close;
        } else if (*p == '\\' || *p == '_' || *p == '*') {
            if (!*++p)
                break;
        } else {
            d = d || *p == 'd' || *p == 'D';
            y = y || *p == 'y' || *p == 'Y';
        }
    }
    return d && y;
}

static bool
is_date_fmt(const struct book *b, long id)
{
    for (size_t i = 0; i < b->ndate_fmts; i++)
        if (b->date_fmts[i] == id)
            return true;
    return (id >= 14 && id <= 22) || (id >= 45 && id <= 47);
}

/* xl/styles.xml: which cell formats (the s attribute of a cell) are dates. */
static int
styles_start(struct book *b, xmlTextReaderPtr r, const char *name)
{
    if (strcmp(name, "numFmt") == 0) {
        xmlChar *code = xmlTextReaderGetAttribute(r, (const xmlChar *)"formatCode");
        if (code && is_date_code((const char *)code)) {
            b->date_fmts = kt_grow(b->date_fmts, &b->date_fmts_cap, b->ndate_fmts + 1, sizeof(long));
            b->date_fmts[b->ndate_fmts++] = attr_long(r, "numFmtId", -1);
        }
        xmlFree(code);
    } else if (strcmp(name, "cellXfs") == 0) {
        b->in_xfs = true;
    } else if (strcmp(name, "xf") == 0 && b->in_xfs) {
        b->xf_date = kt_grow(b->xf_date, &b->xf_cap, b->nxf + 1, sizeof(bool));
        b->xf_date[b->nxf++] = is_date_fmt(b, attr_long(r, "numFmtId", 0));
    }
    return 0;
}

static int
styles_end(struct book *b, const char *name)
{
    return strcmp(name, "cellXfs") == 0 && b->in_xfs; /* nothing else needed */
}

/* xl/sharedStrings.xml: <si> holds <t> or rich-text runs <r><t>; the
 * phonetic hints in <rPh> are not part of the text. */
static int
sst_start(struct book *b, xmlTextReaderPtr r, const char *name)
{
    if (strcmp(name, "si") == 0)
        b->text_len = 0;
    else if (strcmp(name, "rPh") == 0)
        b->in_rph = true;
    else if (strcmp(name, "t") == 0)
        b->collect = !b->in_rph;
    return 0;
}

static int
sst_end(struct book *b, const char *name)
{
    if (strcmp(name, "t") == 0) {
        b->collect = false;
    } else if (strcmp(name, "rPh") == 0) {
        b->in_rph = false;
    } else if (strcmp(name, "si") == 0) {
        b->sst_off = kt_grow(b->sst_off, &b->sst_off_cap, b->nsst + 1, sizeof(size_t));
        b->sst_off[b->nsst++] = b->sst_len;
        append(&b->sst, &b->sst_len, &b->sst_cap, b->text ? b->text : "", b->text_len);
        b->sst_len++; /* keep the NUL */
    }
    return 0;
}

/* Serial day number (x >= 0; the fraction is the time of day) to dd/mm/yyyy.
 * In the 1900 system Excel counts a 29/02/1900 that never was (serial 60),
 * so later serials are one day off. */
static char *
serial_date(double x, bool date1904)
{
    long n = (long)x;
    long days = date1904 ? n - 24107 : n < 60 ? n - 25568 : n - 25569; /* to 1970-01-01 */
    time_t t = (time_t)days * 86400;
    struct tm tm;
    char buf[32];

    if (!date1904 && n == 60)
        return kt_xstrdup("29/02/1900");
    gmtime_r(&t, &tm);
    snprintf(buf, sizeof(buf), "%02d/%02d/%04d", tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900);
    return kt_xstrdup(buf);
}

static char *
number_text(const struct book *b, const char *v)
{
    char *end, buf[32];
    double x = strtod(v, &end);

    if (end == v || *end || !isfinite(x))
        return kt_xstrdup(v);
    if (b->style >= 0 && (size_t)b->style < b->nxf && b->xf_date[b->style] && x >= 0 &&
        x < 2958466) /* 31/12/9999 */
        return serial_date(x, b->date1904);
    const char *digits = v + (*v == '-');
    if (digits[strspn(digits, "0123456789")] == '\0')
        return kt_xstrdup(v);                  /* whole numbers (codes, phone numbers) verbatim */
    snprintf(buf, sizeof(buf), "%.15g", x); /* Excel shows 15 significant digits */
    return kt_xstrdup(buf);
}

/* The text of the cell just closed: malloc'd, or NULL with the error set. */
static char *
cell_text(struct book *b)
{
    const char *v = b->text ? b->text : "";
    char *end;
    unsigned long i;

    switch (b->type) {
    case T_SHARED:
        i = strtoul(v, &end, 10);
        if (end == v || *end || i >= b->nsst) {
            fail(b, "Tệp Excel bị hỏng: ô ở dòng %ld trỏ tới chuỗi dùng chung không tồn tại.",
                 b->row);
            return NULL;
        }
        return kt_xstrdup(b->sst + b->sst_off[i]);
    case T_BOOL:
        return kt_xstrdup(strcmp(v, "1") == 0 ? "TRUE" : "FALSE");
    case T_NUMBER:
        return number_text(b, v);
    default:
        return kt_xstrdup(v);
    }
}

/* Column of a reference such as "B7" (0-based), or -1. */
static long
ref_col(const char *ref)
{
    long col = 0;
    int n = 0;
    for (; (*ref | 0x20) >= 'a' && (*ref | 0x20) <= 'z' && n < 4; ref++, n++)
        col = col * 26 + ((*ref | 0x20) - 'a' + 1);
    return n >= 1 && n <= 3 && *ref >= '1' && *ref <= '9' ? col - 1 : -1;
}

static int
sheet_start(struct book *b, xmlTextReaderPtr r, const char *name)
{
    if (strcmp(name, "row") == 0) {
        b->row = attr_long(r, "r", b->row + 1);
        b->next_col = 0;
        if (b->row < 1 || b->row > MAX_SHEET_ROW)
            return fail(b, "Tệp Excel bị hỏng: số dòng %ld không hợp lệ.", b->row);
    } else if (strcmp(name, "c") == 0) {
        xmlChar *ref = xmlTextReaderGetAttribute(r, (const xmlChar *)"r");
        xmlChar *type = xmlTextReaderGetAttribute(r, (const xmlChar *)"t");
        const char *t = type ? (const char *)type : "n";
        b->col = ref ? ref_col((const char *)ref) : b->next_col;
        b->next_col = b->col + 1;
        b->type = strcmp(t, "s") == 0   ? T_SHARED
                  : strcmp(t, "b") == 0 ? T_BOOL
                  : strcmp(t, "n") == 0 ? T_NUMBER
                                        : T_TEXT;
        b->style = attr_long(r, "s", 0);
        b->has_value = false;
        b->text_len = 0;
        xmlFree(ref);
        xmlFree(type);
        if (b->col < 0)
            return fail(b, "Tệp Excel bị hỏng: địa chỉ ô không hợp lệ ở dòng %ld.", b->row);
    } else if (strcmp(name, "v") == 0) {
        b->collect = b->has_value = true;
    } else if (strcmp(name, "is") == 0) {
        b->in_is = b->has_value = true;
    } else if (strcmp(name, "rPh") == 0) {
        b->in_rph = true;
    } else if (strcmp(name, "t") == 0) {
        b->collect = b->in_is && !b->in_rph;
    }
    return 0;
}

static int
end_cell(struct book *b)
{
    char *text;
    if (!b->has_value)
        return 0;
    if (!(text = cell_text(b)))
        return -1;
    if (!*text) {
        free(text);
        return 0;
    }
    if (b->col >= MAX_COLS) {
        free(text);
        return fail(b, "Bảng tính có dữ liệu ở dòng %ld, cột thứ %ld; chỉ đọc được tối đa %d cột.",
                    b->row, b->col + 1, MAX_COLS);
    }
    free(b->cells[b->col]);
    b->cells[b->col] = text;
    if ((size_t)b->col >= b->ncols)
        b->ncols = (size_t)b->col + 1;
    return 0;
}

/* Rows without any value (Excel writes formatted empty rows) are left out. */
static int
end_row(struct book *b)
{
    kt_table *t = b->t;
    char **cells;

    if (b->ncols == 0)
        return 0;
    if (t->nrows == MAX_ROWS)
        return fail(b, "Bảng tính có hơn %d dòng; hãy chia thành nhiều tệp nhỏ hơn.", MAX_ROWS);
    if (!(cells = malloc(b->ncols * sizeof(char *))))
        abort();
    for (size_t i = 0; i < b->ncols; i++) {
        cells[i] = b->cells[i] ? b->cells[i] : kt_xstrdup("");
        b->cells[i] = NULL;
    }
    t->rows = kt_grow(t->rows, &b->rows_cap, t->nrows + 1, sizeof(kt_row));
    t->rows[t->nrows++] =
        (kt_row){.source_row = (size_t)b->row, .ncells = b->ncols, .cells = cells};
    b->ncols = 0;
    return 0;
}

static int
sheet_end(struct book *b, const char *name)
{
    if (strcmp(name, "v") == 0 || strcmp(name, "t") == 0)
        b->collect = false;
    else if (strcmp(name, "rPh") == 0)
        b->in_rph = false;
    else if (strcmp(name, "is") == 0)
        b->in_is = false;
    else if (strcmp(name, "c") == 0)
        return end_cell(b);
    else if (strcmp(name, "row") == 0)
        return end_row(b);
    else if (strcmp(name, "sheetData") == 0)
        return 1;
    return 0;
}

int
kt_xlsx_read_first_sheet(const void *buf, size_t len, kt_table *out, char *err, size_t errlen)
{
    struct book b = {.t = out, .err = err, .errlen = errlen};
    zip_error_t ze;
    zip_source_t *src;
    int rc = -1, found = 0;

    *out = (kt_table){0};
    if (len > MAX_FILE)
        return fail(&b, "Tệp Excel lớn hơn %u MB; hãy chia thành nhiều tệp nhỏ hơn.",
                    MAX_FILE >> 20);
    zip_error_init(&ze);
    if ((src = zip_source_buffer_create(buf, len, 0, &ze)) &&
        !(b.zip = zip_open_from_source(src, ZIP_RDONLY, &ze)))
        zip_source_free(src);
    zip_error_fini(&ze);
    if (!b.zip)
        return fail(&b, "Không đọc được tệp: đây không phải tệp Excel .xlsx. Tệp .xls cũ hoặc tệp "
                        "có mật khẩu cần được lưu lại dưới dạng .xlsx không mật khẩu.");

    if (walk_part(&b, "xl/workbook.xml", workbook_start, NULL) < 0 ||
        (b.sheet_rid && walk_part(&b, "xl/_rels/workbook.xml.rels", rels_start, NULL) < 0) ||
        walk_part(&b, "xl/styles.xml", styles_start, styles_end) < 0 ||
        walk_part(&b, "xl/sharedStrings.xml", sst_start, sst_end) < 0)
        goto done;
    if (b.sheet_path)
        found = walk_part(&b, b.sheet_path, sheet_start, sheet_end);
    if (found == 0)
        found = walk_part(&b, "xl/worksheets/sheet1.xml", sheet_start, sheet_end);
    if (found == 0)
        fail(&b, "Tệp Excel không có trang tính nào.");
    rc = found > 0 ? 0 : -1;
done:
    zip_discard(b.zip);
    for (size_t i = 0; i < MAX_COLS; i++)
        free(b.cells[i]);
    free(b.text);
    free(b.sheet_rid);
    free(b.sheet_path);
    free(b.date_fmts);
    free(b.xf_date);
    free(b.sst);
    free(b.sst_off);
    if (rc < 0)
        kt_table_free(out);
    return rc;
}

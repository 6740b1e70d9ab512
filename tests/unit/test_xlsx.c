/*
 * Unit tests for itembank/xlsx.c. Each test builds its .xlsx in memory with
 * libzip, then checks cell text (shared, inline, rich, numbers, booleans,
 * dates in builtin and custom formats), row numbers, and the refusals:
 * DOCTYPE/entities, non-zip input, zip bombs, too many columns or rows.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "xlsx.h"

#define NS "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\""
#define NS_R "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\""
#define SHEET(rows)                                                                                \
    "<?xml version=\"1.0\"?><worksheet " NS "><sheetData>" rows "</sheetData></worksheet>"
#define INLINE(ref, text) "<c r=\"" ref "\" t=\"inlineStr\"><is><t>" text "</t></is></c>"

struct part {
    const char *name, *data;
};

static char err[256];
static kt_table t;

/* An .xlsx holding the given parts, as a malloc'd buffer. */
static void *
make_xlsx(const struct part *parts, size_t n, size_t *len)
{
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
    cr_assert_not_null(src);
    zip_source_keep(src);
    zip_t *za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
    cr_assert_not_null(za);
    for (size_t i = 0; i < n; i++) {
        zip_source_t *s = zip_source_buffer(za, parts[i].data, strlen(parts[i].data), 0);
        cr_assert(s && zip_file_add(za, parts[i].name, s, 0) >= 0);
    }
    cr_assert_eq(zip_close(za), 0);
    cr_assert_eq(zip_source_open(src), 0);
    zip_source_seek(src, 0, SEEK_END);
    *len = (size_t)zip_source_tell(src);
    zip_source_seek(src, 0, SEEK_SET);
    void *buf = malloc(*len);
    cr_assert_eq(zip_source_read(src, buf, *len), (zip_int64_t)*len);
    zip_source_close(src);
    zip_source_free(src);
    zip_error_fini(&ze);
    return buf;
}

static int
read_parts(const struct part *parts, size_t n)
{
    size_t len;
    void *buf = make_xlsx(parts, n, &len);
    int rc = kt_xlsx_read_first_sheet(buf, len, &t, err, sizeof(err));
    free(buf);
    return rc;
}

static int
read_sheet(const char *sheet)
{
    struct part p = {"xl/worksheets/sheet1.xml", sheet};
    return read_parts(&p, 1);
}

static void
teardown(void)
{
    kt_table_free(&t);
}

TestSuite(xlsx, .fini = teardown);

static const char workbook[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<workbook " NS " " NS_R "><workbookPr defaultThemeVersion=\"166925\"/><sheets>"
    "<sheet name=\"Danh sách\" sheetId=\"1\" r:id=\"rId3\"/>"
    "<sheet name=\"Khác\" sheetId=\"2\" r:id=\"rId1\"/></sheets></workbook>";

static const char rels[] =
    "<?xml version=\"1.0\"?><Relationships "
    "xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
    "relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
    "<Relationship Id=\"rId3\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
    "relationships/worksheet\" Target=\"/xl/worksheets/sheet2.xml\"/></Relationships>";

static const char shared[] =
    "<?xml version=\"1.0\"?><sst " NS " count=\"4\" uniqueCount=\"4\">"
    "<si><t>Mã học sinh</t></si>"
    "<si><t>Họ và tên</t></si>"
    "<si><r><rPr><b/></rPr><t xml:space=\"preserve\">Nguyễn </t></r><r><t>Văn &amp; An</t></r>"
    "<rPh sb=\"0\" eb=\"1\"><t>PHONETIC</t></rPh></si>"
    "<si><t xml:space=\"preserve\"> có  khoảng </t></si></sst>";

/* xf 0 general, 1 custom dd/mm/yyyy, 2 builtin 14, 3 custom with d and y
 * only inside quotes and brackets, 4 "0.00". The cellStyleXfs entry must
 * not shift the cellXfs indexes. */
static const char styles[] =
    "<?xml version=\"1.0\"?><styleSheet " NS "><numFmts count=\"3\">"
    "<numFmt numFmtId=\"164\" formatCode=\"[$-42A]dd/mm/yyyy;@\"/>"
    "<numFmt numFmtId=\"165\" formatCode=\"0.00\"/>"
    "<numFmt numFmtId=\"166\" formatCode=\"&quot;day&quot;\\y0[Red]\"/></numFmts>"
    "<cellStyleXfs count=\"1\"><xf numFmtId=\"14\"/></cellStyleXfs>"
    "<cellXfs count=\"5\"><xf numFmtId=\"0\"/><xf numFmtId=\"164\" applyNumberFormat=\"1\"/>"
    "<xf numFmtId=\"14\"/><xf numFmtId=\"166\"/><xf numFmtId=\"165\"/></cellXfs></styleSheet>";

/* clang-format off */
static const char sheet2[] = SHEET(
    "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"s\"><v>1</v></c>"
        INLINE("C1", "Ngày sinh") "</row>"
    "<row r=\"3\" spans=\"1:5\">" INLINE("A3", "HS001")
        "<c r=\"B3\" t=\"s\"><v>2</v></c><c r=\"C3\" s=\"1\"><v>40179</v></c>"
        "<c r=\"D3\" s=\"1\"/><c r=\"E3\" t=\"b\"><v>1</v></c></row>"
    "<row r=\"4\"><c r=\"A4\"><v>12345</v></c><c r=\"B4\" t=\"s\"><v>3</v></c>"
        "<c r=\"C4\" s=\"2\"><v>40968</v></c><c r=\"D4\" s=\"3\"><v>7</v></c>"
        "<c r=\"E4\" s=\"4\"><v>0.30000000000000004</v></c></row>"
    "<row r=\"5\" s=\"1\" customFormat=\"1\"><c r=\"A5\" s=\"1\"/></row>"
    "<row r=\"6\"><c r=\"F6\" t=\"str\"><f>A1</f><v>ok</v></c>"
        "<c r=\"G6\" s=\"2\"><v>60</v></c><c r=\"H6\" s=\"2\"><v>61</v></c>"
        "<c r=\"I6\" s=\"2\"><v>59.75</v></c></row>");
/* clang-format on */

static void
assert_cells(size_t row, size_t source_row, size_t n, const char *const *want)
{
    cr_assert_lt(row, t.nrows);
    cr_assert_eq(t.rows[row].source_row, source_row);
    cr_assert_eq(t.rows[row].ncells, n, "row %zu has %zu cells", row, t.rows[row].ncells);
    for (size_t i = 0; i < n; i++)
        cr_assert_str_eq(t.rows[row].cells[i], want[i], "row %zu cell %zu", row, i);
}

Test(xlsx, full_workbook)
{
    struct part parts[] = {
        {"[Content_Types].xml", "<Types/>"},
        {"xl/workbook.xml", workbook},
        {"xl/_rels/workbook.xml.rels", rels},
        {"xl/sharedStrings.xml", shared},
        {"xl/styles.xml", styles},
        {"xl/worksheets/sheet1.xml", SHEET("<row r=\"1\">" INLINE("A1", "sai trang") "</row>")},
        {"xl/worksheets/sheet2.xml", sheet2},
    };
    cr_assert_eq(read_parts(parts, sizeof(parts) / sizeof(parts[0])), 0, "%s", err);
    cr_assert_eq(t.nrows, 4, "styled empty row 5 is left out; got %zu rows", t.nrows);
    assert_cells(0, 1, 3, (const char *[]){"Mã học sinh", "Họ và tên", "Ngày sinh"});
    assert_cells(1, 3, 5, (const char *[]){"HS001", "Nguyễn Văn & An", "01/01/2010", "", "TRUE"});
    assert_cells(2, 4, 5, (const char *[]){"12345", " có  khoảng ", "29/02/2012", "7", "0.3"});
    assert_cells(
        3, 6, 9,
        (const char *[]){"", "", "", "", "", "ok", "29/02/1900", "01/03/1900", "28/02/1900"});
}

Test(xlsx, date1904_and_fallback_without_rels)
{
    struct part parts[] = {
        {"xl/workbook.xml", "<workbook " NS "><workbookPr date1904=\"1\"/></workbook>"},
        {"xl/styles.xml", styles},
        {"xl/worksheets/sheet1.xml", SHEET("<row><c s=\"2\"><v>0</v></c><c s=\"1\"><v>1461</v></c>"
                                           "<c><v>-2.5</v></c><c><v>1E-3</v></c></row>")},
    };
    cr_assert_eq(read_parts(parts, 3), 0, "%s", err);
    assert_cells(0, 1, 4, (const char *[]){"01/01/1904", "01/01/1908", "-2.5", "0.001"});
}

Test(xlsx, doctype_is_refused)
{
    static const char evil[] =
        "<?xml version=\"1.0\"?><!DOCTYPE worksheet [<!ENTITY x \"boom\">]>"
        "<worksheet " NS "><sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>&x;</t>"
        "</is></c></row></sheetData></worksheet>";
    cr_assert_eq(read_sheet(evil), -1);
    cr_assert(strstr(err, "DOCTYPE"), "%s", err);
    cr_assert_eq(t.nrows, 0);

    struct part parts[] = {
        {"xl/sharedStrings.xml", "<!DOCTYPE sst SYSTEM \"http://example.com/x.dtd\"><sst/>"},
        {"xl/worksheets/sheet1.xml", sheet2},
    };
    cr_assert_eq(read_parts(parts, 2), -1);
    cr_assert(strstr(err, "xl/sharedStrings.xml"), "%s", err);
}

Test(xlsx, not_a_zip)
{
    const char junk[] = "Mã học sinh,Họ và tên\nHS1,An\n";
    cr_assert_eq(kt_xlsx_read_first_sheet(junk, sizeof(junk) - 1, &t, err, sizeof(err)), -1);
    cr_assert(strstr(err, ".xlsx"), "%s", err);
    cr_assert_eq(kt_xlsx_read_first_sheet("", 0, &t, err, sizeof(err)), -1);
}

Test(xlsx, broken_contents)
{
    struct part other = {"docProps/app.xml", "<Properties/>"};
    cr_assert_eq(read_parts(&other, 1), -1);
    cr_assert(strstr(err, "không có trang tính"), "%s", err);

    cr_assert_eq(read_sheet(SHEET("<row><c><v>1</v></row>")), -1);
    cr_assert(strstr(err, "không phải XML hợp lệ"), "%s", err);

    cr_assert_eq(read_sheet(SHEET("<row r=\"2\"><c t=\"s\"><v>0</v></c></row>")), -1);
    cr_assert(strstr(err, "dòng 2"), "%s", err);
}

Test(xlsx, column_limit)
{
    cr_assert_eq(
        read_sheet(SHEET("<row r=\"1\">" INLINE("IV1", "x") "<c r=\"IW1\" s=\"1\"/></row>")), 0,
        "%s", err);
    cr_assert_eq(t.rows[0].ncells, 256);
    cr_assert_str_eq(t.rows[0].cells[255], "x");
    kt_table_free(&t);

    cr_assert_eq(read_sheet(SHEET("<row r=\"9\">" INLINE("IW9", "x") "</row>")), -1);
    cr_assert(strstr(err, "257"), "%s", err);
}

Test(xlsx, zip_bomb)
{
    size_t n = 4u << 20;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    memcpy(big, "<worksheet>", 11);
    strcpy(big + n - 12, "</worksheet>");
    struct part p = {"xl/worksheets/sheet1.xml", big};
    int rc = read_parts(&p, 1);
    free(big);
    cr_assert_eq(rc, -1);
    cr_assert(strstr(err, "zip bomb"), "%s", err);
}

Test(xlsx, row_limit)
{
    size_t n = 200001, cap = n * 64 + 64;
    char *xml = malloc(cap), *p = xml;
    p += sprintf(p, "<worksheet><sheetData>");
    for (size_t i = 1; i <= n; i++)
        p += sprintf(p, "<row r=\"%zu\"><c r=\"A%zu\"><v>%zu</v></c></row>", i, i,
                     i * 7919 % 100003);
    strcpy(p, "</sheetData></worksheet>");
    int rc = read_sheet(xml);
    free(xml);
    cr_assert_eq(rc, -1);
    cr_assert(strstr(err, "200000 dòng"), "%s", err);
}

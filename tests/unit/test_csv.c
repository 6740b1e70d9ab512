/*
 * Unit tests for engine/csv.c: separators, BOM, quoting, line endings,
 * physical row numbers of records, trailing blank lines, and the errors for
 * bad encoding, unterminated quotes and oversized input.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

static char err[256];

static kt_table
parse_ok(const char *s)
{
    kt_table t;
    int rc = kt_csv_parse(s, strlen(s), &t, err, sizeof(err));
    cr_assert_eq(rc, 0, "parse failed: %s", err);
    return t;
}

static void
assert_row(const kt_table *t, size_t i, size_t source_row, size_t ncells)
{
    cr_assert_lt(i, t->nrows);
    cr_assert_eq(t->rows[i].source_row, source_row, "row %zu starts on line %zu, not %zu", i,
                 t->rows[i].source_row, source_row);
    cr_assert_eq(t->rows[i].ncells, ncells, "row %zu has %zu cells", i, t->rows[i].ncells);
}

Test(csv, plain_commas)
{
    kt_table t = parse_ok("a,b,c\n1,,3\n");
    cr_assert_eq(t.nrows, 2);
    assert_row(&t, 0, 1, 3);
    assert_row(&t, 1, 2, 3);
    cr_assert_str_eq(kt_table_cell(&t, 1, 0), "1");
    cr_assert_str_eq(kt_table_cell(&t, 1, 1), "");
    cr_assert_str_eq(kt_table_cell(&t, 1, 2), "3");
    cr_assert_str_eq(kt_table_cell(&t, 1, 9), "", "short rows read as empty");
    cr_assert_str_eq(kt_table_cell(&t, 7, 0), "");
    kt_table_free(&t);
}

Test(csv, bom_semicolons_crlf)
{
    kt_table t = parse_ok("\xEF\xBB\xBFMã HS;Họ và tên;Ghi chú\r\n"
                          "HS01;\"Nguyễn; Văn A\";1,5 điểm\r\n"
                          "HS02;Trần Thị B;\r\n");
    cr_assert_eq(t.nrows, 3);
    cr_assert_str_eq(kt_table_cell(&t, 0, 0), "Mã HS", "BOM is stripped");
    cr_assert_str_eq(kt_table_cell(&t, 1, 1), "Nguyễn; Văn A");
    cr_assert_str_eq(kt_table_cell(&t, 1, 2), "1,5 điểm", "comma is data when ';' separates");
    assert_row(&t, 2, 3, 3);
    cr_assert_str_eq(kt_table_cell(&t, 2, 2), "");
    kt_table_free(&t);
}

Test(csv, separator_inside_quotes_does_not_count)
{
    kt_table t = parse_ok("\"a,b,c\";d\n1;2\n");
    cr_assert_str_eq(kt_table_cell(&t, 0, 0), "a,b,c");
    cr_assert_str_eq(kt_table_cell(&t, 1, 1), "2");
    kt_table_free(&t);
}

Test(csv, quoted_newlines_and_doubled_quotes)
{
    kt_table t = parse_ok("code,text\n"
                          "A1,\"dòng một\r\ndòng hai\ndòng ba\"\n"
                          "A2,\"nói \"\"xin chào\"\"\"\n"
                          "A3,\"\"\n");
    cr_assert_eq(t.nrows, 4);
    assert_row(&t, 1, 2, 2);
    cr_assert_str_eq(kt_table_cell(&t, 1, 1), "dòng một\ndòng hai\ndòng ba");
    assert_row(&t, 2, 5, 2);
    cr_assert_str_eq(kt_table_cell(&t, 2, 1), "nói \"xin chào\"");
    assert_row(&t, 3, 6, 2);
    cr_assert_str_eq(kt_table_cell(&t, 3, 1), "");
    kt_table_free(&t);
}

Test(csv, quotes_inside_unquoted_fields_are_data)
{
    kt_table t = parse_ok("a,b\"c,\"d\"e,f\rg\n");
    cr_assert_eq(t.nrows, 1);
    assert_row(&t, 0, 1, 4);
    cr_assert_str_eq(kt_table_cell(&t, 0, 1), "b\"c");
    cr_assert_str_eq(kt_table_cell(&t, 0, 2), "de");
    cr_assert_str_eq(kt_table_cell(&t, 0, 3), "f\rg", "a lone CR is not a line break");
    kt_table_free(&t);
}

Test(csv, blank_lines)
{
    kt_table t = parse_ok("h1,h2\n\nx,y\n,\n\r\n\n");
    cr_assert_eq(t.nrows, 3, "trailing blank lines are dropped, got %zu rows", t.nrows);
    assert_row(&t, 1, 2, 1); /* a blank line in the middle keeps its place */
    cr_assert_str_eq(kt_table_cell(&t, 1, 0), "");
    assert_row(&t, 2, 3, 2);
    kt_table_free(&t);

    t = parse_ok("a\n,,\n\n  \n");
    cr_assert_eq(t.nrows, 4, "white space is data, so the blank lines before it stay");
    assert_row(&t, 1, 2, 1);
    assert_row(&t, 2, 3, 1);
    assert_row(&t, 3, 4, 1);
    cr_assert_str_eq(kt_table_cell(&t, 3, 0), "  ");
    kt_table_free(&t);

    t = parse_ok("last,line,no,newline");
    cr_assert_eq(t.nrows, 1);
    assert_row(&t, 0, 1, 4);
    kt_table_free(&t);

    t = parse_ok("");
    cr_assert_eq(t.nrows, 0);
    kt_table_free(&t);
}

Test(csv, invalid_utf8_names_the_row)
{
    kt_table t;
    const char *s = "a,b\n1,2\n3,\"x\ny\"\n4,Nguy\xEAn\n";
    cr_assert_eq(kt_csv_parse(s, strlen(s), &t, err, sizeof(err)), -1);
    cr_assert(strstr(err, "Dòng 5"), "%s", err);
    cr_assert(strstr(err, "UTF-8"), "%s", err);
    cr_assert_eq(t.nrows, 0);
    cr_assert_null(t.rows);
}

Test(csv, unterminated_quote_names_the_row)
{
    kt_table t;
    const char *s = "a,b\n1,2\n3,\"never closed\n4,5\n";
    cr_assert_eq(kt_csv_parse(s, strlen(s), &t, err, sizeof(err)), -1);
    cr_assert(strstr(err, "Dòng 3"), "%s", err);
    cr_assert(strstr(err, "ngoặc kép"), "%s", err);
}

Test(csv, row_limit)
{
    size_t n = 200001;
    char *s = malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(s + 2 * i, "x\n", 2);
    kt_table t;
    cr_assert_eq(kt_csv_parse(s, 2 * (n - 1), &t, err, sizeof(err)), 0, "200000 rows are fine");
    cr_assert_eq(t.nrows, 200000);
    kt_table_free(&t);
    cr_assert_eq(kt_csv_parse(s, 2 * n, &t, err, sizeof(err)), -1);
    cr_assert(strstr(err, "200000 dòng"), "%s", err);
    free(s);
}

Test(csv, size_limit)
{
    size_t n = 20u * 1024 * 1024 + 1;
    char *s = malloc(n);
    memset(s, 'a', n);
    kt_table t;
    cr_assert_eq(kt_csv_parse(s, n, &t, err, sizeof(err)), -1);
    cr_assert(strstr(err, "20 MB"), "%s", err);
    free(s);
}

static void
assert_field(const char *in, const char *want)
{
    char *f = kt_csv_field(in);
    cr_assert_str_eq(f, want, "%s", in);
    free(f);
}

Test(csv, fields_never_start_a_formula)
{
    assert_field("=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\"");
    assert_field("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0");
    assert_field("-2+3", "'-2+3");
    assert_field("@SUM(1+1)", "'@SUM(1+1)");
    assert_field("\t=1", "'\t=1");
    assert_field("\r=1", "\"'\r=1\"");
    assert_field("-", "'-");
    /* Plain numbers stay numbers, with a decimal comma or point. */
    assert_field("-1,5", "\"-1,5\"");
    assert_field("+3", "+3");
    assert_field("8.5", "8.5");
    assert_field("-1.", "'-1.");
    assert_field("-1,5,2", "\"'-1,5,2\"");
    /* Everything else as RFC 4180 wants it. */
    assert_field("Nguyễn Văn An", "Nguyễn Văn An");
    assert_field("Lê Thị, Bình", "\"Lê Thị, Bình\"");
    assert_field("a;b", "\"a;b\"");
    assert_field("say \"hi\"", "\"say \"\"hi\"\"\"");
    assert_field("", "");
    assert_field("a=b", "a=b");
}

Test(csv, a_neutralised_field_reads_back_as_its_text)
{
    char *f = kt_csv_field("=1+2;\"x\"");
    char line[128];
    snprintf(line, sizeof line, "name\r\n%s\r\n", f);
    free(f);
    kt_table t = parse_ok(line);
    cr_assert_str_eq(t.rows[1].cells[0], "'=1+2;\"x\"");
    kt_table_free(&t);
}

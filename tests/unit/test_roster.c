/*
 * Unit tests for engine/roster.c: header matching, per-cell checks with
 * their Vietnamese messages and row numbers, duplicate codes, calendar and
 * leap-year rules, Excel date serials, and rows that must be skipped.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csv.h"
#include "row_errors.h"
#include "roster.h"

#define HEADER "Mã học sinh,Họ và tên,Ngày sinh,Giới tính,Lớp\n"

static kt_roster r;

static int
roster(const char *csv)
{
    char err[256];
    kt_table t;
    cr_assert_eq(kt_csv_parse(csv, strlen(csv), &t, err, sizeof(err)), 0, "%s", err);
    int rc = kt_roster_from_table(&t, &r);
    kt_table_free(&t);
    return rc;
}

static void
assert_error(size_t i, size_t row, const char *column, const char *needle)
{
    assert_row_error(r.errors, r.nerrors, i, row, column, needle);
}

/* One data row with the given birth date; returns the roster result. */
static int
with_dob(const char *dob)
{
    char csv[256];
    kt_roster_free(&r);
    snprintf(csv, sizeof(csv), HEADER "HS01,Lê Văn Cường,%s,Nam,7A\n", dob);
    return roster(csv);
}

static void
teardown(void)
{
    kt_roster_free(&r);
}

TestSuite(roster, .fini = teardown);

Test(roster, clean_file)
{
    cr_assert_eq(roster(HEADER "HS001,Nguyễn Văn An,05/09/2010,Nam,10A1\n"
                               "HS002,  Trần  Thị   Bình ,1-2-2011,nữ,6A\n"
                               "hs-003_b,Le Van C,40179,,12 Toán 1\n"
                               "HS004,Đỗ Khác,7.3.2012,Khác,1\n"),
                 0);
    cr_assert_eq(r.nerrors, 0);
    cr_assert_eq(r.nstudents, 4);

    kt_roster_student *s = &r.students[0];
    cr_assert_eq(s->source_row, 2);
    cr_assert_str_eq(s->student_code, "HS001");
    cr_assert_str_eq(s->full_name, "Nguyễn Văn An");
    cr_assert_eq(s->birth_day, 5);
    cr_assert_eq(s->birth_month, 9);
    cr_assert_eq(s->birth_year, 2010);
    cr_assert_eq(s->gender, 1);
    cr_assert_str_eq(s->class_name, "10A1");
    cr_assert_eq(s->grade, 10);

    s = &r.students[1];
    cr_assert_str_eq(s->full_name, "Trần Thị Bình");
    cr_assert_eq(s->birth_day, 1);
    cr_assert_eq(s->birth_month, 2);
    cr_assert_eq(s->gender, 2);
    cr_assert_eq(s->grade, 6);

    s = &r.students[2]; /* Excel serial 40179 is 1 January 2010 */
    cr_assert_eq(s->birth_year, 2010);
    cr_assert_eq(s->birth_month, 1);
    cr_assert_eq(s->birth_day, 1);
    cr_assert_eq(s->gender, 0);
    cr_assert_eq(s->grade, 12);
    cr_assert_str_eq(s->class_name, "12 Toán 1");

    s = &r.students[3];
    cr_assert_eq(s->gender, 0);
    cr_assert_eq(s->grade, 1);
}

Test(roster, headers_any_order_case_and_accents)
{
    cr_assert_eq(roster("LOP;ho ten;MÃ HS;gioi tinh;  Ngày   sinh\n"
                        "9A2;Phạm Thu Hà;HS9;Nu;30/12/2009\n"),
                 0);
    cr_assert_eq(r.nstudents, 1);
    cr_assert_str_eq(r.students[0].student_code, "HS9");
    cr_assert_str_eq(r.students[0].full_name, "Phạm Thu Hà");
    cr_assert_eq(r.students[0].grade, 9);
    cr_assert_eq(r.students[0].gender, 2);
}

Test(roster, missing_columns)
{
    cr_assert_eq(roster("Mã HS,Họ tên,Ghi chú\nHS1,An,x\n"), -1);
    cr_assert_eq(r.nerrors, 3);
    assert_error(0, 0, "Ngày sinh", "Thiếu cột 'Ngày sinh'");
    assert_error(1, 0, "Giới tính", "Thiếu cột 'Giới tính'");
    assert_error(2, 0, "Lớp", "Thiếu cột 'Lớp'");
    cr_assert_eq(r.nstudents, 0);
}

Test(roster, every_bad_row_is_reported)
{
    cr_assert_eq(roster("Mã HS,Họ và tên,Ngay sinh,Giới tính,Lớp\n"
                        "HS01,Nguyễn An,01/01/2010,Nam,5A\n"
                        "HS02,Trần Bình,31/02/2010,Nam,5A\n"
                        "HS03,Lê Chi,02/02/2010,Trai,5A\n"
                        "HS04,Phạm Dũng,03/03/2010,Nam,5A\n"
                        "HS05,Hoàng Em,04/04/2010,Nữ,A5\n"
                        "HS 06,Vũ Giang,05/05/2010,Nữ,5A\n"),
                 -1);
    cr_assert_eq(r.nerrors, 4);
    assert_error(0, 3, "Ngay sinh",
                 "Ngày sinh '31/02/2010' không phải ngày có thật (định dạng dd/mm/yyyy)");
    assert_error(1, 4, "Giới tính", "Giới tính 'Trai' không hợp lệ");
    assert_error(2, 6, "Lớp", "Lớp 'A5' phải bắt đầu bằng khối lớp từ 1 đến 12");
    assert_error(3, 7, "Mã HS", "chỉ được gồm chữ cái không dấu, chữ số");
    cr_assert_eq(r.nstudents, 2, "good rows are still read");
    cr_assert_eq(r.students[1].source_row, 5);
}

Test(roster, every_bad_cell_of_a_row)
{
    cr_assert_eq(roster(HEADER ",,hôm qua,?,\n"), -1);
    cr_assert_eq(r.nerrors, 5);
    assert_error(0, 2, "Mã học sinh", "Thiếu mã học sinh");
    assert_error(1, 2, "Họ và tên", "Thiếu họ và tên");
    assert_error(2, 2, "Ngày sinh", "không đúng định dạng dd/mm/yyyy");
    assert_error(3, 2, "Giới tính", "'?'");
    assert_error(4, 2, "Lớp", "Thiếu lớp");
}

Test(roster, duplicate_code_names_the_first_row)
{
    cr_assert_eq(roster(HEADER "HS01,An,01/01/2010,Nam,5A\n"
                               "HS02,Bình,01/01/2010,Nam,5A\n"
                               "HS03,Chi,01/01/2010,Nam,5A\n"
                               "hs01,Dũng,01/01/2010,Nam,5A\n"
                               "HS02,Em,01/01/2010,Nam,5A\n"),
                 -1);
    cr_assert_eq(r.nerrors, 2);
    assert_error(0, 5, "Mã học sinh", "'hs01' trùng với mã ở dòng 2");
    assert_error(1, 6, "Mã học sinh", "'HS02' trùng với mã ở dòng 3");
    cr_assert_eq(r.nstudents, 3);
}

Test(roster, dates)
{
    char next_year[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    snprintf(next_year, sizeof(next_year), "01/01/%d", tm.tm_year + 1900 + 1);

    cr_assert_eq(with_dob("29/02/2012"), 0, "2012 is a leap year");
    cr_assert_eq(r.students[0].birth_day, 29);
    cr_assert_eq(with_dob("29/02/2000"), 0, "2000 is a leap year (divisible by 400)");
    cr_assert_eq(with_dob("29/02/2011"), -1, "2011 is not");
    assert_error(0, 2, "Ngày sinh", "'29/02/2011' không phải ngày có thật");
    cr_assert_eq(with_dob("31/04/2010"), -1);
    cr_assert_eq(with_dob("12/31/2010"), -1, "month first is rejected");
    cr_assert_eq(with_dob("00/01/2010"), -1);

    cr_assert_eq(with_dob("5.9.2010"), 0);
    cr_assert_eq(with_dob("05-09-2010"), 0);
    cr_assert_eq(r.students[0].birth_month, 9);
    cr_assert_eq(with_dob("05/09-2010"), -1, "mixed separators");
    assert_error(0, 2, "Ngày sinh", "không đúng định dạng dd/mm/yyyy");
    cr_assert_eq(with_dob("05/09/10"), -1, "two-digit year");
    cr_assert_eq(with_dob("2010-09-05"), -1);
    cr_assert_eq(with_dob("2010"), -1, "a bare year is not a serial");

    cr_assert_eq(with_dob("31/12/1989"), -1);
    assert_error(0, 2, "Ngày sinh", "năm sinh phải từ 1990");
    cr_assert_eq(with_dob("01/01/1990"), 0);
    cr_assert_eq(with_dob(next_year), -1, "born next year");

    cr_assert_eq(with_dob("40179"), 0);
    cr_assert_eq(r.students[0].birth_year, 2010);
    cr_assert_eq(r.students[0].birth_month, 1);
    cr_assert_eq(r.students[0].birth_day, 1);
    cr_assert_eq(with_dob("40968"), 0);
    cr_assert_eq(r.students[0].birth_month, 2);
    cr_assert_eq(r.students[0].birth_day, 29);
    cr_assert_eq(with_dob("25569"), -1, "serial for 01/01/1970");
    assert_error(0, 2, "Ngày sinh", "01/01/1970");
}

Test(roster, codes_names_and_classes)
{
    cr_assert_eq(roster(HEADER "ABCDEFGHIJKLMNOPQRSTU,An,01/01/2010,Nam,5A\n"
                               "ABCDEFGHIJKLMNOPQRST,Bình,01/01/2010,Nam,13A\n"
                               "Mã1,Chi,01/01/2010,Nam,0A\n"
                               "X4,Dũng,01/01/2010,Nam,123\n"
                               "X5,Em,01/01/2010,Nam,10A1 chuyên Toán Tin K\n"),
                 -1);
    cr_assert_eq(r.nerrors, 6);
    assert_error(0, 2, "Mã học sinh", "dài quá 20 ký tự");
    assert_error(1, 3, "Lớp", "'13A'");
    assert_error(2, 4, "Mã học sinh", "'Mã1'");
    assert_error(3, 4, "Lớp", "'0A'");
    assert_error(4, 5, "Lớp", "'123'");
    assert_error(5, 6, "Lớp", "dài quá 20 ký tự");

    char csv[512], name[128];
    memset(name, 'a', 101);
    name[101] = '\0';
    kt_roster_free(&r);
    snprintf(csv, sizeof(csv), HEADER "X1,%s,01/01/2010,Nam,5A\nX2,%.100s,01/01/2010,Nam,5A\n",
             name, name);
    cr_assert_eq(roster(csv), -1);
    cr_assert_eq(r.nerrors, 1);
    assert_error(0, 2, "Họ và tên", "tối đa 100 ký tự");
}

Test(roster, blank_rows_and_title_lines)
{
    cr_assert_eq(roster("DANH SÁCH HỌC SINH LỚP 10A1,,,,\n"
                        "Năm học 2024-2025,,,,\n"
                        "STT,Mã học sinh,Họ và tên,Ngày sinh,Giới tính,Lớp\n"
                        "1,HS1,An,01/01/2010,Nam,10A1\n"
                        "2,,,,,\n"
                        ",,,,,\n"
                        "3,HS3,Chi,01/01/2010,Nữ,10A1\n"),
                 0);
    cr_assert_eq(r.nstudents, 2);
    cr_assert_eq(r.students[0].source_row, 4);
    cr_assert_eq(r.students[1].source_row, 7);
    cr_assert_str_eq(r.students[1].full_name, "Chi");
}

Test(roster, empty_inputs)
{
    kt_table empty = {0};
    cr_assert_eq(kt_roster_from_table(&empty, &r), -1);
    cr_assert_eq(r.nerrors, 1);
    cr_assert_eq(r.errors[0].source_row, 0);
    kt_roster_free(&r);

    cr_assert_eq(roster(HEADER), -1);
    assert_error(0, 0, "", "Không có học sinh nào");
}

Test(roster, invalid_utf8_cell)
{
    char *cells[] = {"HS1", "Nguy\xEAn", "01/01/2010", "Nam", "5A"};
    char *head[] = {"Mã học sinh", "Họ và tên", "Ngày sinh", "Giới tính", "Lớp"};
    kt_row rows[] = {{1, 5, head}, {2, 5, cells}};
    kt_table t = {2, rows};
    cr_assert_eq(kt_roster_from_table(&t, &r), -1);
    cr_assert_eq(r.nerrors, 1);
    assert_error(0, 2, "Họ và tên", "UTF-8");
}

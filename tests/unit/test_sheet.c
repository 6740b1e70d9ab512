/*
 * Score sheets (itembank/sheet.c): the column layout of a score subject and
 * of a comment subject, STT as a number, the Nhận xét column, the reason of
 * every blank result, and the CSV dialects (';' with decimal comma by
 * default, ',' with decimal point).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "sheet.h"

static json_t *
records(const char *mode, int semester)
{
    json_error_t e;
    char buf[4096];
    snprintf(
        buf, sizeof(buf),
        "{\"class\": {\"id\": 1, \"name\": \"10A1\", \"grade\": 10},"
        " \"school\": {\"code\": \"T\", \"name\": \"THPT Thử\"},"
        " \"subject\": {\"code\": \"S\", \"name\": \"Môn\", \"mode\": \"%s\", \"tx_slots\": 2},"
        " \"school_year\": \"2026-2027\", \"semester\": %d,"
        " \"students\": ["
        "  {\"id\": 7, \"student_code\": \"HS1\", \"full_name\": \"An\", \"birth_date\": "
        "\"01/02/2010\","
        "   \"studies\": true,"
        "   \"marks\": {\"tx1\": \"85\", \"tx2\": \"70\", \"gk\": \"80\", \"ck\": \"90\", \"nx\": "
        "\"Chăm; tiến bộ\"},"
        "   \"result\": {\"status\": \"ok\", \"value\": \"83\"},"
        "   \"year\": {\"status\": \"incomplete\", \"value\": null, \"reason\": {\"code\":"
        "     \"missing_semester\", \"message\": \"Chưa có kết quả cả hai học kì.\"}}},"
        "  {\"id\": 8, \"student_code\": \"HS2\", \"full_name\": \"Bình\", \"birth_date\": null,"
        "   \"studies\": true, \"marks\": {\"tx1\": \"D\"},"
        "   \"result\": {\"status\": \"incomplete\", \"value\": null, \"reason\": {\"code\":"
        "     \"missing_marks\", \"message\": \"Chưa đủ các lần đánh giá của học kì.\"}}},"
        "  {\"id\": 9, \"student_code\": \"HS3\", \"full_name\": \"Chi\", \"birth_date\": null,"
        "   \"studies\": false, \"marks\": {}, \"result\": null}]}",
        mode, semester);
    json_t *d = json_loads(buf, 0, &e);
    cr_assert(d, "%s", e.text);
    return d;
}

static char *
csv_of(const json_t *sheet, char mark)
{
    size_t len = 0;
    char *csv = kt_sheet_csv(sheet, mark, &len);
    cr_assert(csv);
    cr_assert_eq(strlen(csv), len);
    return csv;
}

Test(sheet, score_subject_semester_2_layout_reasons_and_default_csv)
{
    json_t *d = records("score", 2);
    json_t *sheet = kt_sheet_from_records(d, 0);
    char *csv = csv_of(sheet, ',');
    const char *want =
        "\xEF\xBB\xBF"
        "STT;Mã học sinh;Họ và tên;Ngày sinh;ĐĐGtx1;ĐĐGtx2;ĐĐGgk;ĐĐGck;ĐTBmhk;ĐTBmcn;Nhận xét;"
        "Lí do để trống\r\n"
        "1;HS1;An;01/02/2010;8,5;7,0;8,0;9,0;8,3;;\"Chăm; tiến bộ\";"
        "ĐTBmcn: Chưa có kết quả cả hai học kì.\r\n";
    cr_assert(strncmp(csv, want, strlen(want)) == 0, "%s", csv);
    /* A blank ĐTBmhk of a student with marks says why, and so does one of a
     * student who does not study the subject. */
    cr_assert(strstr(csv, "\r\n2;HS2;Bình;;"), "%s", csv);
    cr_assert(strstr(csv, "Chưa đủ các lần đánh giá của học kì."), "%s", csv);
    cr_assert(strstr(csv, "\r\n3;HS3;Chi;;;;;;;;;Học sinh không học môn này"), "%s", csv);
    free(csv);
    /* --decimal dot: ',' between fields and a decimal point. */
    csv = csv_of(sheet, '.');
    cr_assert(strstr(csv, "\r\n1,HS1,An,01/02/2010,8.5,7.0,8.0,9.0,8.3,,\"Chăm; tiến bộ\","), "%s",
              csv);
    free(csv);
    /* STT is a number cell, not text. */
    const json_t *stt = json_array_get(json_array_get(json_object_get(sheet, "rows"), 0), 0);
    cr_assert_eq(json_integer_value(json_object_get(stt, "int")), 1);
    json_decref(sheet);
    json_decref(d);
}

Test(sheet, comment_subject_result_column_is_not_headed_dtbmhk)
{
    json_t *d = records("comment", 1);
    json_t *sheet = kt_sheet_from_records(d, 0);
    char *csv = csv_of(sheet, ',');
    cr_assert(strstr(csv, "ĐĐGck;Kết quả học kì I;Nhận xét;Lí do để trống\r\n"), "%s", csv);
    cr_assert_null(strstr(csv, "ĐTBm"), "%s", csv);
    free(csv);
    json_decref(sheet);
    json_decref(d);
    d = records("comment", 2);
    sheet = kt_sheet_from_records(d, 0);
    csv = csv_of(sheet, ',');
    cr_assert(strstr(csv, "Kết quả học kì II;Kết quả cả năm;Nhận xét"), "%s", csv);
    free(csv);
    json_decref(sheet);
    json_decref(d);
}

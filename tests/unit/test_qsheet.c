/*
 * Unit tests for itembank/qsheet.c: small sheets written as CSV text in
 * each test (header recognition, every kind and key form, levels, codes,
 * HTML, LaTeX, the problems naming row and column, refusals), then the
 * LibreOffice corpus of tests/corpus/xlsx against its expected.json.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docx.h"
#include "docx_build.h"
#include "qsheet.h"

#define CORPUS KIEMTRA_SOURCE_DIR "/tests/corpus/xlsx"
#define HEADER "STT,Loại,Câu hỏi,A,B,C,D,Đáp án,Mức độ,Mã,Lời giải\n"

static kt_docx_result res;
static char *all_problems;
static char *dumped;

static void
fini(void)
{
    kt_docx_result_free(&res);
    free(all_problems);
    all_problems = NULL;
    free(dumped);
    dumped = NULL;
}

/* j as compact JSON, valid until the next call. */
static const char *
js(const json_t *j)
{
    free(dumped);
    dumped = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    return dumped;
}

TestSuite(qsheet, .fini = fini);

static int
read_as(const void *buf, size_t len, kt_qsheet_format fmt)
{
    kt_docx_result_free(&res);
    int rc = kt_qsheet_read(buf, len, fmt, &res);
    free(all_problems);
    all_problems = json_dumps(res.problems, JSON_INDENT(1));
    return rc;
}

static int
read_csv(const char *text)
{
    return read_as(text, strlen(text), KT_QSHEET_CSV);
}

#define READ_OK(text) cr_assert_eq(read_csv(text), 0, "%s", all_problems)

static size_t
nq(void)
{
    return json_array_size(res.questions);
}

static json_t *
question(size_t i)
{
    cr_assert_lt(i, nq(), "question %zu of %zu; problems: %s", i, nq(), all_problems);
    return json_array_get(res.questions, i);
}

static json_t *
item(size_t i)
{
    return json_object_get(question(i), "item");
}

static const char *
field(size_t i, const char *name)
{
    return json_string_value(json_object_get(item(i), name));
}

static int
has_problem(const char *severity, const char *message)
{
    size_t i;
    json_t *p;
    json_array_foreach(res.problems, i, p)
    {
        if (strcmp(json_string_value(json_object_get(p, "severity")), severity) == 0 &&
            strstr(json_string_value(json_object_get(p, "message")), message))
            return 1;
    }
    return 0;
}

#define EXPECT_PROBLEM(sev, msg)                                                                   \
    cr_assert(has_problem(sev, msg), "no %s '%s' in %s", sev, msg, all_problems)

/* ---- header ---------------------------------------------------------------- */

Test(qsheet, documented_header_single_choice)
{
    READ_OK(HEADER "1,,Câu nào là mệnh đề?,Trời đẹp quá!,15 chia hết cho 4.,Bạn đi không?,Hãy "
                   "học.,B,NB,VN18.TOAN.10.SDS.01.01.01,Là câu khẳng định sai.\n");
    cr_assert_eq(nq(), 1);
    cr_assert_str_eq(field(0, "kind"), "MCQ4");
    cr_assert_str_eq(field(0, "key"), "B");
    cr_assert_str_eq(field(0, "level"), "MD.B");
    cr_assert_str_eq(field(0, "outcome"), "VN18.TOAN.10.SDS.01.01.01");
    cr_assert_str_eq(field(0, "stem"), "<p>Câu nào là mệnh đề?</p>");
    cr_assert_str_eq(field(0, "explanation"), "<p>Là câu khẳng định sai.</p>");
    cr_assert_str_eq(field(0, "title"), "Câu nào là mệnh đề?");
    json_t *o = json_object_get(item(0), "options");
    cr_assert_eq(json_array_size(o), 4);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(o, 1), "html")),
                     "15 chia hết cho 4.");
    json_t *q = question(0);
    cr_assert_eq(json_integer_value(json_object_get(q, "number")), 1);
    cr_assert_eq(json_integer_value(json_object_get(q, "row")), 2);
    cr_assert_eq(json_integer_value(json_object_get(q, "paragraph")), 2);
    cr_assert_eq(json_integer_value(json_object_get(q, "part")), 0);
    cr_assert_eq(json_array_size(res.problems), 0, "%s", all_problems);
}

Test(qsheet, header_without_diacritics_in_any_order_below_a_title)
{
    READ_OK("DE KIEM TRA 15 PHUT,,,,,,\n"
            ",,,,,,\n"
            "Dap an,d,C,b,A,CAU HOI,muc do\n"
            "C,4,3,2,1,Chọn số 3.,th\n");
    cr_assert_eq(nq(), 1);
    cr_assert_str_eq(field(0, "key"), "C");
    cr_assert_str_eq(field(0, "level"), "MD.H");
    json_t *o = json_object_get(item(0), "options");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(o, 0), "html")), "1");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(o, 3), "html")), "4");
    cr_assert_eq(json_integer_value(json_object_get(question(0), "row")), 4);
}

Test(qsheet, no_header_is_refused)
{
    cr_assert_eq(read_csv("1,Câu một,A,B,C,D,A\n2,Câu hai,A,B,C,D,B\n"), -1);
    cr_assert_eq(nq(), 0);
    EXPECT_PROBLEM("error", "Không tìm thấy dòng tiêu đề");
    /* A header below the first ten rows is not looked for. */
    char buf[512] = "";
    for (int i = 0; i < 10; i++)
        strcat(buf, "ghi chú\n");
    strcat(buf, HEADER "1,,Câu?,a,b,c,d,A,,,\n");
    cr_assert_eq(read_csv(buf), -1);
}

Test(qsheet, unknown_columns_and_points_on_choice_are_warnings)
{
    READ_OK("Câu hỏi,A,B,C,D,Đáp án,Ghi chú,Điểm\nChọn A.,x,y,z,t,A,của tổ 1,0,5\n");
    cr_assert_eq(nq(), 1);
    EXPECT_PROBLEM("warning", "Dòng 1: cột \"Ghi chú\" không thuộc mẫu bảng câu hỏi");
    EXPECT_PROBLEM("warning", "Cột \"Điểm\" chỉ dùng cho câu tự luận");
}

/* ---- kinds and keys ------------------------------------------------------------ */

Test(qsheet, several_letters_make_multiple_response)
{
    READ_OK(HEADER "1,,Số nguyên tố?,2,4,7,9,\"A, C\",,,\n"
                   "2,nhiều đáp án,Số chẵn?,2,4,7,9,A;B,,,\n"
                   "3,MR,Số lẻ?,2,4,7,9,c,,,\n");
    cr_assert_eq(nq(), 3);
    for (size_t i = 0; i < 3; i++)
        cr_assert_str_eq(field(i, "kind"), "MR");
    cr_assert_str_eq(js(json_object_get(item(0), "keys")), "[\"A\",\"C\"]");
    cr_assert_str_eq(js(json_object_get(item(1), "keys")), "[\"A\",\"B\"]");
    cr_assert_str_eq(js(json_object_get(item(2), "keys")), "[\"C\"]");
}

Test(qsheet, options_e_f_for_multiple_response)
{
    READ_OK("Câu hỏi,A,B,C,D,E,F,Đáp án\nChọn số chia hết cho 3.,3,4,6,7,9,10,\"A, C, E\"\n");
    cr_assert_str_eq(field(0, "kind"), "MR");
    cr_assert_eq(json_array_size(json_object_get(item(0), "options")), 6);
}

Test(qsheet, single_choice_named_with_two_keys_is_an_error)
{
    cr_assert_eq(read_csv(HEADER "1,MCQ,Số chẵn?,2,4,7,9,\"A, B\",,,\n"), 0);
    cr_assert_eq(nq(), 0);
    EXPECT_PROBLEM("error", "Dòng 2, cột Đáp án: câu một lựa chọn chỉ có một đáp án (có 2");
}

Test(qsheet, true_false_marks_in_every_form)
{
    READ_OK(HEADER "1,đúng-sai,Xét.,ý 1,ý 2,ý 3,ý 4,Đ S Đ S,,,\n"
                   "2,Đúng/Sai,Xét.,ý 1,ý 2,ý 3,ý 4,ĐSSĐ,,,\n"
                   "3,dung sai,Xét.,ý 1,ý 2,ý 3,ý 4,\"a) Đ, b) S, c) S, d) S\",,,\n"
                   "4,TF,Xét.,ý 1,ý 2,ý 3,ý 4,\"Sai, Sai, Đúng, Đúng\",,,\n"
                   "5,TF,Xét.,ý 1,ý 2,ý 3,ý 4,D S D S,,,\n"
                   "6,TF,Xét.,ý 1,ý 2,ý 3,ý 4,a) D b) S c) D d) D,,,\n"
                   "7,TF,Xét.,ý 1,ý 2,ý 3,ý 4,T F F T,,,\n"
                   "8,TF,Xét.,ý 1,ý 2,ý 3,ý 4,dssd,,,\n");
    static const char *const want[] = {"TFTF", "TFFT", "TFFF", "FFTT",
                                       "TFTF", "TFTT", "TFFT", "TFFT"};
    cr_assert_eq(nq(), 8);
    for (size_t i = 0; i < 8; i++) {
        cr_assert_str_eq(field(i, "kind"), "TF4");
        json_t *st = json_object_get(item(i), "statements");
        cr_assert_eq(json_array_size(st), 4);
        for (size_t k = 0; k < 4; k++) {
            json_t *s = json_array_get(st, k);
            char id[2] = {(char)('a' + k), 0};
            cr_assert_str_eq(json_string_value(json_object_get(s, "id")), id);
            cr_assert_eq(json_is_true(json_object_get(s, "key")), want[i][k] == 'T',
                         "question %zu statement %zu", i + 1, k);
        }
    }
}

Test(qsheet, true_false_errors)
{
    cr_assert_eq(read_csv(HEADER "1,đúng-sai,Xét.,ý 1,ý 2,ý 3,ý 4,Đ S Đ,,,\n"
                                 "2,đúng-sai,Xét.,ý 1,ý 2,ý 3,,Đ S Đ S,,,\n"
                                 "3,đúng-sai,Xét.,ý 1,ý 2,ý 3,ý 4,,,,\n"),
                 0);
    cr_assert_eq(nq(), 0);
    EXPECT_PROBLEM("error", "Dòng 2, cột Đáp án: 'Đ S Đ' không phải đáp án Đúng/Sai của 4 ý");
    EXPECT_PROBLEM("error", "Dòng 3 (Câu 2): câu Đúng/Sai phải có đúng 4 ý a), b), c), d)");
    EXPECT_PROBLEM("error", "Dòng 4 (Câu 3): không tìm thấy đáp án Đúng/Sai của các ý.");
}

Test(qsheet, short_answers_decimal_comma_and_text)
{
    READ_OK("Loại;Câu hỏi;Đáp án\n"
            "trả lời ngắn;Tính 5 : 2.;2,5\n"
            "trả lời ngắn;Tính −3 : 4.;-0,75\n"
            "trả lời ngắn;Thủ đô của Việt Nam?;Hà Nội\n"
            ";Tính 1 + 1.;2\n");
    cr_assert_eq(nq(), 4);
    cr_assert_str_eq(field(0, "kind"), "SHORT");
    cr_assert_str_eq(field(0, "key"), "2.5");
    cr_assert_str_eq(field(1, "key"), "-0.75");
    cr_assert_str_eq(field(2, "key"), "Hà Nội");
    /* No options and a number for key: a short answer without Loại. */
    cr_assert_str_eq(field(3, "kind"), "SHORT");
    cr_assert_str_eq(field(3, "key"), "2");
}

Test(qsheet, short_answer_errors)
{
    cr_assert_eq(read_csv("Loại,Câu hỏi,A,Đáp án\ntrả lời ngắn,Tính.,,\ntrả lời ngắn,Tính.,x,3\n"),
                 0);
    cr_assert_eq(nq(), 0);
    EXPECT_PROBLEM("error", "Dòng 2 (Câu 1): không tìm thấy đáp án (cột Đáp án trống).");
    EXPECT_PROBLEM("error", "Dòng 3, cột A: câu trả lời ngắn không có phương án");
}

Test(qsheet, essay_with_points)
{
    READ_OK("Loại,Câu hỏi,Đáp án,Lời giải,Điểm\n"
            "tự luận,Giải x² − 1 = 0.,x = ±1.,Đưa về tích.,\"1,5\"\n");
    cr_assert_eq(nq(), 1);
    cr_assert_str_eq(field(0, "kind"), "ESSAY");
    cr_assert_str_eq(field(0, "model_answer"), "<p>x = ±1.</p>");
    cr_assert_str_eq(field(0, "explanation"), "<p>Đưa về tích.</p>");
    json_t *r = json_object_get(item(0), "rubric");
    cr_assert_eq(json_array_size(r), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(r, 0), "points")), "1.5");
    cr_assert(!has_problem("warning", "Điểm"), "%s", all_problems);
}

Test(qsheet, essay_needs_points)
{
    cr_assert_eq(read_csv("Loại,Câu hỏi,Điểm\ntự luận,Giải.,\ntự luận,Giải.,nhiều\n"), 0);
    cr_assert_eq(nq(), 0);
    EXPECT_PROBLEM("error", "Dòng 2 (Câu 1): câu tự luận cần số điểm ở cột Điểm");
    EXPECT_PROBLEM("error", "Dòng 3, cột Điểm: 'nhiều' không phải số điểm");
}

/* ---- problems ------------------------------------------------------------------- */

Test(qsheet, missing_key_names_row_and_question)
{
    cr_assert_eq(read_csv(HEADER "1,,Một?,a,b,c,d,A,,,\n"
                                 "11,,Hai?,a,b,c,d,,,,\n"
                                 "12,,Ba?,a,b,c,d,C,,,\n"),
                 0);
    cr_assert_eq(nq(), 2);
    EXPECT_PROBLEM("error", "Dòng 3 (Câu 11): không tìm thấy đáp án.");
    json_t *p = json_array_get(res.problems, 0);
    cr_assert_eq(json_integer_value(json_object_get(p, "question")), 11);
    cr_assert_eq(json_integer_value(json_object_get(p, "row")), 3);
    cr_assert_eq(json_integer_value(json_object_get(question(1), "number")), 12);
}

Test(qsheet, key_letter_without_option)
{
    cr_assert_eq(read_csv(HEADER "1,,Một?,a,b,c,d,E,,,\n2,,Hai?,a,b,c,d,X1,,,\n"), 0);
    cr_assert_eq(nq(), 0);
    EXPECT_PROBLEM("error", "Dòng 2, cột Đáp án: 'E' không có phương án E.");
    EXPECT_PROBLEM("error", "Dòng 3, cột Đáp án: 'X1' không phải chữ cái của phương án");
    json_t *p = json_array_get(res.problems, 0);
    cr_assert_str_eq(json_string_value(json_object_get(p, "column")), "Đáp án");
}

Test(qsheet, column_named_as_written)
{
    cr_assert_eq(read_csv("Cau hoi,A,B,C,D,Dap an\nMột?,a,b,c,d,E\n"), 0);
    EXPECT_PROBLEM("error", "Dòng 2, cột Dap an: 'E' không có phương án E.");
}

Test(qsheet, option_gaps_counts_and_empty_stems)
{
    cr_assert_eq(read_csv("Câu hỏi,A,B,C,D,E,Đáp án\n"
                          "Một?,a,b,,d,,A\n"
                          "Hai?,a,b,c,d,e,A\n"
                          ",a,b,c,d,,A\n"
                          "Bốn?,,,,,,A\n"),
                 0);
    cr_assert_eq(nq(), 0);
    EXPECT_PROBLEM("error", "Dòng 2 (Câu 1): thiếu phương án C (cột C trống).");
    EXPECT_PROBLEM("error", "Dòng 3 (Câu 2): câu trắc nghiệm một lựa chọn phải có đúng 4 phương "
                            "án A, B, C, D (có 5).");
    EXPECT_PROBLEM("error", "Dòng 4 (Câu 3): phần đề trống (cột Câu hỏi).");
    EXPECT_PROBLEM("error", "Dòng 5 (Câu 4): không tìm thấy các phương án A, B, C, D.");
}

Test(qsheet, unknown_kind_and_level)
{
    cr_assert_eq(read_csv(HEADER "1,ghép đôi,Một?,a,b,c,d,A,,,\n2,,Hai?,a,b,c,d,A,khó,,\n"), 0);
    cr_assert_eq(nq(), 0);
    EXPECT_PROBLEM("error", "Dòng 2, cột Loại: 'ghép đôi' không phải loại câu hỏi");
    EXPECT_PROBLEM("error", "Dòng 3, cột Mức độ: 'khó' không phải mức độ");
}

/* ---- levels, codes, text ---------------------------------------------------------- */

Test(qsheet, levels_in_the_word_readers_words)
{
    READ_OK("Câu hỏi,A,B,C,D,Đáp án,Mức độ\n"
            "Một?,a,b,c,d,A,Nhận biết\n"
            "Hai?,a,b,c,d,A,Hiểu\n"
            "Ba?,a,b,c,d,A,[VD]\n"
            "Bốn?,a,b,c,d,A,vdc\n"
            "Năm?,a,b,c,d,A,MD.H\n");
    static const char *const want[] = {"MD.B", "MD.H", "MD.V", "MD.VC", "MD.H"};
    cr_assert_eq(nq(), 5);
    for (size_t i = 0; i < 5; i++)
        cr_assert_str_eq(field(i, "level"), want[i]);
}

Test(qsheet, codes_as_in_a_tag_line)
{
    READ_OK("Câu hỏi,A,B,C,D,Đáp án,Mã\n"
            "Một?,a,b,c,d,A,\"VN18.TOAN.10.SDS.01.01.01, NL.TOAN.TDLL; MD.V PC.TN, abc\"\n");
    cr_assert_str_eq(field(0, "outcome"), "VN18.TOAN.10.SDS.01.01.01");
    cr_assert_str_eq(field(0, "level"), "MD.V");
    cr_assert_str_eq(js(json_object_get(item(0), "competencies")), "[\"NL.TOAN.TDLL\"]");
    cr_assert_str_eq(js(json_object_get(item(0), "tags")), "[\"PC.TN\"]");
    EXPECT_PROBLEM("warning", "Dòng 2, cột Mã:");
}

Test(qsheet, text_is_escaped_with_line_breaks)
{
    READ_OK("Câu hỏi,A,B,C,D,Đáp án\n\"Cho a < b & b > c.\nChọn đúng.\",<b>,x,y,z,A\n");
    cr_assert_str_eq(field(0, "stem"), "<p>Cho a &lt; b &amp; b &gt; c.<br/>Chọn đúng.</p>");
    json_t *o = json_object_get(item(0), "options");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(o, 0), "html")), "&lt;b&gt;");
}

Test(qsheet, stt_forms_and_blank_rows)
{
    READ_OK("STT,Câu hỏi,A,B,C,D,Đáp án\n"
            "Câu 5,Một?,a,b,c,d,A\n"
            ",,,,,,\n"
            "\n"
            "7.,Hai?,a,b,c,d,B\n"
            ",Ba?,a,b,c,d,C\n");
    cr_assert_eq(nq(), 3);
    cr_assert_eq(json_integer_value(json_object_get(question(0), "number")), 5);
    cr_assert_eq(json_integer_value(json_object_get(question(1), "number")), 7);
    cr_assert_eq(json_integer_value(json_object_get(question(1), "row")), 5);
    cr_assert_eq(json_integer_value(json_object_get(question(2), "number")), 3);
}

Test(qsheet, latex_kept_with_the_word_readers_warning)
{
    READ_OK("Câu hỏi,A,B,C,D,Đáp án\n\"Tính $\\frac{1}{2}$.\",1,2,3,4,A\n");
    cr_assert_eq(nq(), 1);
    cr_assert_str_eq(field(0, "stem"), "<p>Tính $\\frac{1}{2}$.</p>");
    EXPECT_PROBLEM("warning", "Dòng 2 (Câu 1): công thức LaTeX $…$ được giữ nguyên");
    /* The same words as the Word reader's warning for a formula it keeps as
     * text (it converts $\frac{1}{2}$; it names the formula and why). */
    char *sheet_msg = strdup(
        strchr(json_string_value(json_object_get(json_array_get(res.problems, 0), "message")),
               ':') +
        2);
    size_t len;
    void *buf = dx_docx(
        DX_DOCUMENT(P("Câu 1. Tính $\\int x$.") P("*A. 1") P("B. 2") P("C. 3") P("D. 4")), &len);
    kt_docx_result_free(&res);
    cr_assert_eq(kt_docx_read(buf, len, &res), 0);
    free(buf);
    const char *word =
        json_string_value(json_object_get(json_array_get(res.problems, 0), "message"));
    cr_assert(word && strstr(word, "công thức LaTeX $\\int x$ (lệnh \\int chưa được hỗ trợ)") &&
                  strstr(word, strstr(sheet_msg, " được giữ nguyên")),
              "Word: %s; sheet: %s", word, sheet_msg);
    free(sheet_msg);
}

/* ---- files ------------------------------------------------------------------------- */

Test(qsheet, csv_with_bom_semicolons_crlf)
{
    const char csv[] = "\xEF\xBB\xBF"
                       "Câu hỏi;A;B;C;D;Đáp án\r\nTính 0,5 + 0,25.;0,75;0,3;7,5;1;A\r\n";
    cr_assert_eq(read_as(csv, sizeof csv - 1, KT_QSHEET_CSV), 0, "%s", all_problems);
    cr_assert_eq(nq(), 1);
    json_t *o = json_object_get(item(0), "options");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(o, 0), "html")), "0,75");
}

Test(qsheet, unreadable_files_are_refused)
{
    cr_assert_eq(read_as("Câu hỏi,A\n", 10, KT_QSHEET_XLSX), -1);
    EXPECT_PROBLEM("error", "không phải tệp Excel");
    const char bad[] = "Câu hỏi,A\n\xff\xfe,1\n";
    cr_assert_eq(read_as(bad, sizeof bad - 1, KT_QSHEET_CSV), -1);
    EXPECT_PROBLEM("error", "Không đọc được tệp CSV: Dòng 2");
}

Test(qsheet, too_many_questions_are_refused)
{
    size_t cap = 64 + (size_t)(KT_DOCX_MAX_QUESTIONS + 1) * 48;
    char *buf = malloc(cap);
    size_t n = (size_t)snprintf(buf, cap, "Câu hỏi,Loại,Đáp án\n");
    for (int i = 0; i <= KT_DOCX_MAX_QUESTIONS; i++)
        n += (size_t)snprintf(buf + n, cap - n, "Tính %d.,trả lời ngắn,%d\n", i, i);
    cr_assert_eq(read_as(buf, n, KT_QSHEET_CSV), -1);
    free(buf);
    cr_assert_eq(nq(), 0);
    EXPECT_PROBLEM("error", "Tệp có hơn 2000 câu hỏi");
}

/* ---- the LibreOffice corpus ----------------------------------------------------------- */

static void *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    void *buf = malloc(*len + 1);
    cr_assert_eq(fread(buf, 1, *len, f), *len);
    fclose(f);
    return buf;
}

/* The key as the import preview shows it (gateway/item_docx.c key_of). */
static json_t *
key_of(const json_t *it)
{
    const char *kind = json_string_value(json_object_get(it, "kind"));
    if (strcmp(kind, "TF4") == 0) {
        json_t *k = json_object();
        size_t i;
        json_t *s;
        json_array_foreach(json_object_get(it, "statements"), i, s) json_object_set(
            k, json_string_value(json_object_get(s, "id")), json_object_get(s, "key"));
        return k;
    }
    json_t *k = json_object_get(it, "key");
    if (!k)
        k = json_object_get(it, "keys");
    return k ? json_incref(k) : json_null();
}

Test(qsheet, corpus_matches_expected_json)
{
    json_error_t je;
    json_t *exp = json_load_file(CORPUS "/expected.json", 0, &je);
    cr_assert_not_null(exp, "%s", je.text);
    const char *name;
    json_t *want;
    size_t files = 0;
    json_object_foreach(json_object_get(exp, "files"), name, want)
    {
        char path[512];
        snprintf(path, sizeof path, CORPUS "/%s", name);
        size_t len;
        void *buf = slurp(path, &len);
        int csv = strstr(name, ".csv") != NULL;
        int rc = read_as(buf, len, csv ? KT_QSHEET_CSV : KT_QSHEET_XLSX);
        free(buf);
        files++;
        cr_assert_eq(rc, json_is_true(json_object_get(want, "refused")) ? -1 : 0, "%s: %s", name,
                     all_problems);
        json_t *items = json_object_get(want, "items");
        cr_assert_eq(nq(), json_array_size(items), "%s: %zu questions; %s", name, nq(),
                     all_problems);
        size_t keys = 0, levels = 0, expls = 0, latex = 0, i;
        json_t *w;
        json_array_foreach(items, i, w)
        {
            json_t *q = question(i), *it = json_object_get(q, "item");
            cr_assert_eq(json_integer_value(json_object_get(q, "row")),
                         json_integer_value(json_object_get(w, "row")), "%s #%zu", name, i);
            cr_assert_eq(json_integer_value(json_object_get(q, "number")),
                         json_integer_value(json_object_get(w, "number")), "%s #%zu", name, i);
            cr_assert_str_eq(json_string_value(json_object_get(it, "kind")),
                             json_string_value(json_object_get(w, "kind")), "%s #%zu", name, i);
            json_t *k = key_of(it);
            cr_assert(json_equal(k, json_object_get(w, "key")), "%s #%zu: key %s", name, i, js(k));
            keys += !json_is_null(k);
            json_decref(k);
            json_t *lv = json_object_get(w, "level");
            cr_assert(json_is_null(lv) ? !json_object_get(it, "level")
                                       : json_equal(lv, json_object_get(it, "level")),
                      "%s #%zu: level", name, i);
            levels += json_object_get(it, "level") != NULL;
            cr_assert_eq(json_object_get(it, "explanation") != NULL,
                         json_is_true(json_object_get(w, "explanation")), "%s #%zu", name, i);
            expls += json_object_get(it, "explanation") != NULL;
            json_t *oc = json_object_get(w, "outcome");
            cr_assert(json_is_null(oc) ? !json_object_get(it, "outcome")
                                       : json_equal(oc, json_object_get(it, "outcome")),
                      "%s #%zu: outcome", name, i);
        }
        json_t *p;
        json_array_foreach(res.problems, i, p) latex +=
            strstr(json_string_value(json_object_get(p, "message")), "LaTeX") != NULL;
        cr_assert_eq(keys, json_integer_value(json_object_get(want, "keys")), "%s", name);
        cr_assert_eq(levels, json_integer_value(json_object_get(want, "levels")), "%s", name);
        cr_assert_eq(expls, json_integer_value(json_object_get(want, "explanations")), "%s", name);
        cr_assert_eq(latex, json_integer_value(json_object_get(want, "latex_warnings")), "%s",
                     name);
        /* Errors: exactly the expected ones, each naming its row. */
        size_t nerr = 0;
        json_array_foreach(res.problems, i, p) nerr +=
            strcmp(json_string_value(json_object_get(p, "severity")), "error") == 0;
        cr_assert_eq(nerr, json_array_size(json_object_get(want, "problems")), "%s: %s", name,
                     all_problems);
        json_array_foreach(json_object_get(want, "problems"), i, w)
        {
            const char *msg = json_string_value(json_object_get(w, "message"));
            json_t *row = json_object_get(w, "row");
            int found = 0;
            size_t j;
            json_t *g;
            json_array_foreach(res.problems, j, g)
            {
                const char *m = json_string_value(json_object_get(g, "message"));
                char prefix[32] = "";
                if (json_is_integer(row))
                    snprintf(prefix, sizeof prefix, "Dòng %lld",
                             (long long)json_integer_value(row));
                found |= strstr(m, msg) && strncmp(m, prefix, strlen(prefix)) == 0;
            }
            cr_assert(found, "%s: no '%s' in %s", name, msg, all_problems);
        }
    }
    cr_assert_geq(files, 10);
    json_decref(exp);
}

/* The example of docs/IMPORT-WORD.md, "Excel / CSV", as written there. */
Test(qsheet, the_documented_example)
{
    READ_OK("STT;Loại;Câu hỏi;A;B;C;D;Đáp án;Mức độ;Mã;Lời giải;Điểm\n"
            "1;;\"Số tập con của {a; b; c} là\";3;6;7;8;D;NB;VN18.TOAN.10.SDS.01.02.01;Có 2³ = 8 "
            "tập con.;\n"
            "2;nhiều đáp án;Số nào là số nguyên tố?;2;4;7;9;A, C;TH;;;\n"
            "3;đúng-sai;Cho y = x² − 2x.;Đồ thị qua O.;Đồng biến trên ℝ.;\"Đỉnh I(1; −1).\";GTLN "
            "là −1.;Đ S Đ S;TH;;;\n"
            "4;trả lời ngắn;Tính 5 : 2.;;;;;2,5;NB;;;\n"
            "5;tự luận;Giải x² − 1 = 0.;;;;;x = ±1.;VD;;Đưa về tích.;1,5\n");
    static const char *const kinds[] = {"MCQ4", "MR", "TF4", "SHORT", "ESSAY"};
    cr_assert_eq(nq(), 5);
    for (size_t i = 0; i < 5; i++)
        cr_assert_str_eq(field(i, "kind"), kinds[i]);
    cr_assert_eq(json_array_size(res.problems), 0, "%s", all_problems);
}

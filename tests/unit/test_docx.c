/*
 * Unit tests for itembank/docx.c. Each test builds a small .docx in memory
 * (tests/unit/docx_build.h) in one convention of docs/IMPORT-WORD.md and
 * checks the questions read: kinds, keys, stems, options, statements,
 * explanations, levels, codes, rubrics, images, equations, tables; then
 * the problems (per question, in Vietnamese, naming the paragraph) and the
 * refusals (broken zip, macro-enabled document, DOCTYPE).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "docx.h"
#include "docx_build.h"
#include "item.h"

static kt_docx_result res;
static char *all_problems;

static void
fini(void)
{
    kt_docx_result_free(&res);
    free(all_problems);
    all_problems = NULL;
}

TestSuite(docx, .fini = fini);

static int
read_buf(const void *buf, size_t len)
{
    int rc = kt_docx_read(buf, len, &res);
    free(all_problems);
    all_problems = json_dumps(res.problems, JSON_INDENT(1));
    return rc;
}

static int
read_doc(const char *document)
{
    size_t len;
    void *buf = dx_docx(document, &len);
    int rc = read_buf(buf, len);
    free(buf);
    return rc;
}

#define READ_OK(body)                                                                              \
    do {                                                                                           \
        cr_assert_eq(read_doc(DX_DOCUMENT(body)), 0, "%s", all_problems);                          \
    } while (0)

static size_t
nq(void)
{
    return json_array_size(res.questions);
}

static json_t *
item(size_t i)
{
    cr_assert_lt(i, nq(), "question %zu of %zu; problems: %s", i, nq(), all_problems);
    return json_object_get(json_array_get(res.questions, i), "item");
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
    json_array_foreach(
        res.problems, i,
        p) if (strcmp(json_string_value(json_object_get(p, "severity")), severity) == 0 &&
               strcmp(json_string_value(json_object_get(p, "message")), message) == 0) return 1;
    return 0;
}

#define EXPECT_PROBLEM(sev, msg)                                                                   \
    cr_expect(has_problem(sev, msg), "no \"%s\" in %s", msg, all_problems)

/* ---- numbering, options, keys ------------------------------------------------- */

Test(docx, numbering_options_on_one_line_and_several_lines_underline_key)
{
    READ_OK(P("Câu 1. Tập hợp nào sau đây là tập rỗng?") PR(R("A. {0}") TAB RU("B.") R(
        " {x ∈ ℝ | x² + 1 = 0}") TAB R("C. {∅}") TAB R("D. ℕ")) P("Câu 2: Giá trị của 2 + 2 là")
                P("A. 3") P("B. 5") PR(R("C. ") RU("4")) P("D. 22"));
    cr_assert_eq(nq(), 2, "%s", all_problems);
    cr_expect_eq(kt_docx_count(&res, "error"), 0, "%s", all_problems);
    cr_expect_str_eq(field(0, "kind"), "MCQ4");
    cr_expect_str_eq(field(0, "stem"), "<p>Tập hợp nào sau đây là tập rỗng?</p>");
    cr_expect_str_eq(field(0, "key"), "B");
    json_t *opts = json_object_get(item(0), "options");
    cr_assert_eq(json_array_size(opts), 4);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(opts, 1), "html")),
                     "{x ∈ ℝ | x² + 1 = 0}");
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(opts, 3), "id")), "D");
    cr_expect_str_eq(field(1, "key"), "C");
    cr_expect_str_eq(field(1, "title"), "Giá trị của 2 + 2 là");
    json_t *q1 = json_array_get(res.questions, 1);
    cr_expect_eq(json_integer_value(json_object_get(q1, "number")), 2);
    cr_expect_eq(json_integer_value(json_object_get(q1, "paragraph")), 3);
    cr_expect_eq(json_integer_value(json_object_get(q1, "part")), 0);
    /* the item is valid as the items API would check it, given its metadata */
    json_t *it = json_deep_copy(item(1));
    json_object_set_new(it, "identifier", json_string("Q1"));
    json_object_set_new(it, "subject", json_string("TOAN"));
    json_object_set_new(it, "grade", json_integer(10));
    json_t *probs = kt_item_validate(it);
    cr_expect_eq(json_array_size(probs), 0, "%s", json_dumps(probs, 0));
    json_decref(probs);
    json_decref(it);
}

Test(docx, key_by_red_colour)
{
    READ_OK(P("Câu 1. Chọn số chẵn.") P("A. 1") P("B. 3") PR(RRED("C. 4")) P("D. 5"));
    cr_expect_str_eq(field(0, "key"), "C");
    cr_expect_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(item(0), "options"), 2), "html")),
                     "4");
}

Test(docx, key_by_bold_letter_or_text_but_not_when_every_letter_is_bold)
{
    READ_OK(P("Câu 1. Chọn số chẵn.") P("A. 1") P("B. 3") P("C. 5") PR(RB("D.") R(" 8"))
                P("Câu 2. Chọn số lẻ.") PR(R("A. 2") TAB RB("B. 7") TAB R("C. 4") TAB R("D. 6"))
                    P("Câu 3. Chọn số 0.") PR(RB("A.") R(" 1")) PR(RB("B.") RU(" 0"))
                        PR(RB("C.") R(" 2")) PR(RB("D.") R(" 3")));
    cr_expect_str_eq(field(0, "key"), "D");
    cr_expect_str_eq(field(1, "key"), "B");
    /* bold on every letter is layout; the underline is the key */
    cr_expect_str_eq(field(2, "key"), "B");
    /* the marks are not shown to students */
    cr_expect_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(item(1), "options"), 1), "html")),
                     "7");
}

/* A highlighter (w:highlight) or a character shading (w:shd, as LibreOffice
 * writes a highlight) on the letter or the text; not when on every option. */
Test(docx, key_by_highlight)
{
#define RHL(t)                                                                                     \
    "<w:r><w:rPr><w:highlight w:val=\"yellow\"/></w:rPr><w:t xml:space=\"preserve\">" t            \
    "</w:t></w:r>"
#define RSHD(t)                                                                                    \
    "<w:r><w:rPr><w:shd w:val=\"clear\" w:color=\"auto\" w:fill=\"FFFF00\"/></w:rPr><w:t "         \
    "xml:space=\"preserve\">" t "</w:t></w:r>"
    READ_OK(P("Câu 1. Một?") PR(R("A. a") TAB R("B. b") TAB RHL("C.") R(" c") TAB R("D. d"))
                P("Câu 2. Hai?") PR(R("A. ") RSHD("a") TAB R("B. b") TAB R("C. c") TAB R("D. d"))
                    P("Câu 3. Ba?") PR(RHL("A. a") TAB RHL("B. b") TAB RHL("C. c") TAB RHL("D. d"))
                        P("Đáp án: B"));
#undef RHL
#undef RSHD
    cr_assert_eq(nq(), 3, "%s", all_problems);
    cr_expect_str_eq(field(0, "key"), "C");
    cr_expect_str_eq(field(1, "key"), "A");
    cr_expect_str_eq(field(2, "key"), "B");
}

Test(docx, key_by_leading_star)
{
    READ_OK(P("Câu 1. Thủ đô của Việt Nam là") P("A. Huế") P("*B. Hà Nội") P("C. Đà Nẵng")
                P("D. Vinh") P("Câu 2. Số nguyên tố nhỏ nhất là") P("A. 0\t*B. 2\tC. 1\tD. 3"));
    cr_expect_str_eq(field(0, "key"), "B");
    cr_expect_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(item(0), "options"), 1), "html")),
                     "Hà Nội");
    cr_expect_str_eq(field(1, "key"), "B");
    cr_expect_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(item(1), "options"), 0), "html")),
                     "0");
}

Test(docx, options_with_parenthesis_labels)
{
    READ_OK(P("Câu 1. Chọn đáp án đúng.") P("A) sai") PR(RU("B) đúng")) P("C) sai") P("D) sai"));
    cr_expect_str_eq(field(0, "key"), "B");
}

Test(docx, multiple_response)
{
    READ_OK(P("Câu 1. Chọn các số chẵn.") PR(RU("A. 2")) P("B. 3") PR(RU("C. 4")) P("D. 5")
                PR(RU("E. 6")));
    cr_expect_str_eq(field(0, "kind"), "MR");
    json_t *keys = json_object_get(item(0), "keys");
    cr_assert_eq(json_array_size(keys), 3);
    cr_expect_str_eq(json_string_value(json_array_get(keys, 2)), "E");
}

/* ---- answer key at the end ------------------------------------------------- */

#define FOUR_QUESTIONS                                                                             \
    P("Câu 1. Một?")                                                                               \
    P("A. a\tB. b\tC. c\tD. d")                                                                    \
    P("Câu 2. Hai?")                                                                               \
    P("A. a\tB. b\tC. c\tD. d")                                                                    \
    P("Câu 3. Ba?") P("A. a\tB. b\tC. c\tD. d") P("Câu 4. Bốn?") P("A. a\tB. b\tC. c\tD. d")

static void
expect_keys(const char *k1, const char *k2, const char *k3, const char *k4)
{
    cr_assert_eq(nq(), 4, "%s", all_problems);
    cr_expect_str_eq(field(0, "key"), k1);
    cr_expect_str_eq(field(1, "key"), k2);
    cr_expect_str_eq(field(2, "key"), k3);
    cr_expect_str_eq(field(3, "key"), k4);
}

Test(docx, answer_list_dots)
{
    READ_OK(FOUR_QUESTIONS P("ĐÁP ÁN") P("1.A 2.C 3.D 4.B"));
    expect_keys("A", "C", "D", "B");
}

Test(docx, answer_list_dashes_on_the_heading_line)
{
    READ_OK(FOUR_QUESTIONS P("Đáp án: 1-B; 2-A; 3-C; 4-D"));
    expect_keys("B", "A", "C", "D");
}

Test(docx, answer_lines_per_question)
{
    READ_OK(FOUR_QUESTIONS P("BẢNG ĐÁP ÁN") P("Câu 1: D") P("Câu 2: D") P("Câu 3: A")
                P("Câu 4: C"));
    expect_keys("D", "D", "A", "C");
}

Test(docx, answer_table_in_rows)
{
    READ_OK(FOUR_QUESTIONS P("ĐÁP ÁN") TBL(TR(TC("Câu") TC("1") TC("2") TC("3") TC("4"))
                                               TR(TC("Đáp án") TC("C") TC("B") TC("A") TC("A"))));
    expect_keys("C", "B", "A", "A");
}

Test(docx, answer_table_in_columns_side_by_side)
{
    READ_OK(FOUR_QUESTIONS TBL(TR(TC("Câu") TC("Đáp án") TC("Câu") TC("Đáp án")) TR(
        TC("1") TC("B") TC("3") TC("D")) TR(TC("2") TC("C") TC("4") TC("A"))));
    expect_keys("B", "C", "D", "A");
}

/* A multiple-response key in the answer table or list: "A, C", "A; C", "AC". */
Test(docx, multiple_response_keys_from_the_answer_section)
{
    READ_OK(P("Câu 1. Chọn các số chẵn.") P("A. 2\tB. 3\tC. 4\tD. 5\tE. 6")
                P("Câu 2. Chọn các số lẻ.") P("A. 2\tB. 3\tC. 4\tD. 5") P("Câu 3. Chọn số 7.")
                    P("A. 6\tB. 7\tC. 8\tD. 9") P("Câu 4. Chọn các số nguyên tố.")
                        P("A. 2\tB. 3\tC. 4\tD. 9") P("ĐÁP ÁN")
                            TBL(TR(TC("Câu") TC("1") TC("2") TC("3"))
                                    TR(TC("Đáp án") TC("A, C, E") TC("B; D") TC("B"))) P("4. AB"));
    cr_assert_eq(nq(), 4, "%s", all_problems);
    const char *want[][4] = {{"A", "C", "E", NULL}, {"B", "D", NULL}, {NULL}, {"A", "B", NULL}};
    for (size_t q = 0; q < 4; q++) {
        if (q == 2) {
            cr_expect_str_eq(field(2, "kind"), "MCQ4");
            cr_expect_str_eq(field(2, "key"), "B");
            continue;
        }
        cr_expect_str_eq(field(q, "kind"), "MR", "question %zu", q + 1);
        json_t *keys = json_object_get(item(q), "keys");
        size_t n = 0;
        while (want[q][n])
            n++;
        cr_assert_eq(json_array_size(keys), n, "question %zu", q + 1);
        for (size_t k = 0; k < n; k++)
            cr_expect_str_eq(json_string_value(json_array_get(keys, k)), want[q][k]);
    }
    /* a letter the options lack is an error naming it */
    kt_docx_result_free(&res);
    cr_assert_eq(read_doc(DX_DOCUMENT(P("Câu 1. Chọn.") P("A. 2\tB. 3\tC. 4\tD. 5") P("ĐÁP ÁN")
                                          P("1. A, F"))),
                 0);
    EXPECT_PROBLEM("error", "Câu 1 (đoạn 1): đáp án A,F trong bảng đáp án không có trong các "
                            "phương án.");
}

/* After the key, "Câu N." entries: "Hướng dẫn chấm:" lines are question N's
 * rubric, "Lời giải:" its explanation (the layout of the export). */
Test(docx, rubric_and_explanation_after_the_key)
{
    READ_OK(P("PHẦN I. Trắc nghiệm") P("Câu 1. Một?") P("A. a\tB. b\tC. c\tD. d")
                P("PHẦN IV. Tự luận") P("Câu 1 (2 điểm). Giải phương trình x² − 1 = 0.")
                    P("Câu 2 (1 điểm). Nêu 2 điểm của đồ thị.") P("ĐÁP ÁN") P("PHẦN I")
                        TBL(TR(TC("Câu") TC("1")) TR(TC("Đáp án") TC("C"))) P("Câu 1.")
                            P("Lời giải: Vì c đúng.") P("Kết luận C.") P("PHẦN IV")
                                P("Câu 1 (2 điểm).") P("Hướng dẫn chấm:")
                                    P("Đưa về (x − 1)(x + 1) = 0 (1,5 điểm)")
                                        P("Kết luận x = ±1 (0,5 điểm)") P("Câu 2 (1 điểm).")
                                            P("Hướng dẫn chấm: Tìm 2 điểm A, B (1 điểm)"));
    cr_assert_eq(nq(), 3, "%s", all_problems);
    cr_expect_eq(kt_docx_count(&res, "error"), 0, "%s", all_problems);
    cr_expect_str_eq(field(0, "key"), "C");
    cr_expect_str_eq(field(0, "explanation"), "<p>Vì c đúng.</p><p>Kết luận C.</p>");
    cr_expect_str_eq(field(1, "kind"), "ESSAY");
    cr_expect_null(json_object_get(item(1), "explanation"));
    char *r = json_dumps(json_object_get(item(1), "rubric"), JSON_COMPACT);
    cr_expect_str_eq(r, "[{\"criterion\":\"Đưa về (x − 1)(x + 1) = 0\",\"points\":\"1.5\"},"
                        "{\"criterion\":\"Kết luận x = ±1\",\"points\":\"0.5\"}]");
    free(r);
    r = json_dumps(json_object_get(item(2), "rubric"), JSON_COMPACT);
    cr_expect_str_eq(r, "[{\"criterion\":\"Tìm 2 điểm A, B\",\"points\":\"1\"}]");
    free(r);
    /* a rubric written under the question wins over one after the key */
    kt_docx_result_free(&res);
    READ_OK(P("Tự luận") P("Câu 1. Chứng minh.") P("Hướng dẫn chấm:") P("Ý một (1 điểm)")
                P("ĐÁP ÁN") P("Câu 1.") P("Hướng dẫn chấm:") P("Ý khác (2 điểm)"));
    r = json_dumps(json_object_get(item(0), "rubric"), JSON_COMPACT);
    cr_expect_str_eq(r, "[{\"criterion\":\"Ý một\",\"points\":\"1\"}]");
    free(r);
    /* an entry without a part goes to the question of that number it fits:
     * a rubric to the essay, not to the single choice of PHẦN I */
    kt_docx_result_free(&res);
    READ_OK(P("PHẦN I") P("Câu 1. Một?") P("*A. a\tB. b\tC. c\tD. d") P("PHẦN IV") P(
        "Câu 1. Chứng minh.") P("ĐÁP ÁN") P("Câu 1.") P("Hướng dẫn chấm:") P("Ý một (1 điểm)"));
    cr_assert_eq(nq(), 2, "%s", all_problems);
    r = json_dumps(json_object_get(item(1), "rubric"), JSON_COMPACT);
    cr_expect_str_eq(r, "[{\"criterion\":\"Ý một\",\"points\":\"1\"}]");
    free(r);
}

/* Outside the 2025 parts, lines a) ... d) ending a stem are a Đúng/Sai
 * question's statements when the answer section gives it Đ/S marks; an
 * essay's sub-questions a) ... d) stay its text. */
Test(docx, true_false_outside_the_parts_by_its_key)
{
    READ_OK(P("Câu 1. Xét các ý.") P("a) Một") P("b) Hai") P("c) Ba") P("d) Bốn")
                P("Câu 2. Tự luận nhỏ.") P("a) Tính A.") P("b) Tính B.") P("c) Tính C.")
                    P("d) Tính D.") P("Hướng dẫn chấm:") P("Đúng mỗi ý (0,25 điểm)") P("ĐÁP ÁN")
                        P("1. S Đ S S"));
    cr_assert_eq(nq(), 2, "%s", all_problems);
    cr_expect_str_eq(field(0, "kind"), "TF4");
    cr_expect_str_eq(field(0, "stem"), "<p>Xét các ý.</p>");
    json_t *st = json_object_get(item(0), "statements");
    cr_assert_eq(json_array_size(st), 4);
    cr_expect(json_is_true(json_object_get(json_array_get(st, 1), "key")));
    cr_expect(json_is_false(json_object_get(json_array_get(st, 0), "key")));
    cr_expect_str_eq(field(1, "kind"), "ESSAY");
    cr_expect_str_eq(field(1, "stem"), "<p>Tự luận nhỏ.</p><p>a) Tính A.</p><p>b) Tính B.</p>"
                                       "<p>c) Tính C.</p><p>d) Tính D.</p>");
}

/* "HƯỚNG DẪN GIẢI" at the end: "Câu N. text" lines are explanations. A line
 * "HƯỚNG DẪN GIẢI" within a question is still its explanation marker. */
Test(docx, worked_solutions_section_at_the_end)
{
    READ_OK(P("Câu 1. Một?") P("A. a\t*B. b\tC. c\tD. d") P("Câu 2. Hai?")
                P("A. a\tB. b\tC. c\tD. d") P("Câu 3. Ba?") P("HƯỚNG DẪN GIẢI") P("Ba là số lẻ.")
                    P("Đáp án: 3") P("HƯỚNG DẪN GIẢI CHI TIẾT") P("Câu 1. Chọn B vì b đúng.")
                        P("Xét thêm a.") P("Câu 2: D") P("Câu 3.") P("Lời giải: Không cần."));
    cr_assert_eq(nq(), 3, "%s", all_problems);
    cr_expect_eq(kt_docx_count(&res, "error"), 0, "%s", all_problems);
    cr_expect_str_eq(field(0, "explanation"), "<p>Chọn B vì b đúng.</p><p>Xét thêm a.</p>");
    cr_expect_str_eq(field(1, "key"), "D");
    cr_expect_null(json_object_get(item(1), "explanation"));
    cr_expect_str_eq(field(2, "kind"), "SHORT");
    cr_expect_str_eq(field(2, "key"), "3");
    /* the question's own explanation wins */
    cr_expect_str_eq(field(2, "explanation"), "<p>Ba là số lẻ.</p>");
}

/* ---- Word's automatic numbering ---------------------------------------------- */

#define NUM_LVL(fmt, text, rpr)                                                                    \
    "<w:lvl w:ilvl=\"0\"><w:start w:val=\"1\"/><w:numFmt w:val=\"" fmt                             \
    "\"/><w:lvlText w:val=\"" text "\"/>" rpr "</w:lvl>"
#define ABSTRACT(id, lvl) "<w:abstractNum w:abstractNumId=\"" id "\">" lvl "</w:abstractNum>"
#define NUM(id, abstract)                                                                          \
    "<w:num w:numId=\"" id "\"><w:abstractNumId w:val=\"" abstract "\"/></w:num>"
#define NUM_RESTART(id, abstract)                                                                  \
    "<w:num w:numId=\"" id "\"><w:abstractNumId w:val=\"" abstract "\"/><w:lvlOverride "           \
    "w:ilvl=\"0\"><w:startOverride w:val=\"1\"/></w:lvlOverride></w:num>"

static const char NUMBERING[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:numbering " DX_NS
    ">" ABSTRACT("1", NUM_LVL("decimal", "Câu %1.", "<w:rPr><w:b/></w:rPr>"))
        ABSTRACT("2", NUM_LVL("upperLetter", "%1.", ""))
            ABSTRACT("3", NUM_LVL("lowerLetter", "%1)", ""))
                ABSTRACT("4", NUM_LVL("bullet", "•", ""))
                    ABSTRACT("5", NUM_LVL("decimal", "%1.", "")) NUM("1", "1") NUM("2", "2")
                        NUM_RESTART("3", "2") NUM("4", "3") NUM_RESTART("5", "3") NUM("6", "4")
                            NUM("7", "5") NUM_RESTART("8", "1") NUM_RESTART("9", "2")
                                NUM_RESTART("10", "1") "</w:numbering>";

/* A paragraph numbered by list id. */
#define PN(id, runs)                                                                               \
    "<w:p><w:pPr><w:numPr><w:ilvl w:val=\"0\"/><w:numId w:val=\"" id "\"/></w:numPr></w:pPr>" runs \
    "</w:p>"

/* A .docx of document with extra parts named by the main part's
 * relationships rels (Relationship elements). */
static int
read_custom(const char *document, const char *rels, const struct dx_part *extra, size_t nextra)
{
    char ct[1024], rel[2048];
    size_t len;
    snprintf(ct, sizeof ct,
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types "
             "xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default "
             "Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships"
             "+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override "
             "PartName=\"/word/document.xml\" ContentType=\"%s\"/></Types>",
             DX_CT_MAIN);
    snprintf(rel, sizeof rel,
             "<?xml version=\"1.0\"?><Relationships "
             "xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">%s"
             "</Relationships>",
             rels);
    struct dx_part parts[8] = {
        {"[Content_Types].xml", ct, 0},
        {"_rels/.rels",
         "<?xml version=\"1.0\"?><Relationships "
         "xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship "
         "Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
         "officeDocument\" Target=\"word/document.xml\"/></Relationships>",
         0},
        {"word/_rels/document.xml.rels", rel, 0},
        {"word/document.xml", document, 0},
    };
    for (size_t i = 0; i < nextra && i < 4; i++)
        parts[4 + i] = extra[i];
    void *buf = dx_zip(parts, 4 + (nextra < 4 ? nextra : 4), &len);
    int rc = read_buf(buf, len);
    free(buf);
    return rc;
}

#define REL(id, type, target)                                                                      \
    "<Relationship Id=\"" id "\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"    \
    "relationships/" type "\" Target=\"" target "\"/>"

static int
read_numbered(const char *document)
{
    const struct dx_part numbering = {"word/numbering.xml", NUMBERING, 0};
    return read_custom(document, REL("rId3", "numbering", "numbering.xml"), &numbering, 1);
}

/* "Câu %1." questions, "%1." capital-letter options restarting per question
 * (a list with a start override, first used), "%1)" statements: read as if
 * typed; the lists of one definition count on. A bullet adds nothing; a
 * plain "%1." list is "1." as typed, not a question. */
Test(docx, word_automatic_numbering)
{
    cr_assert_eq(
        read_numbered(DX_DOCUMENT(
            PN("8", R("Chọn số chẵn.")) PN("6", R("Gợi ý: số chia hết cho 2.")) PN("3", R("1"))
                PN("2", R("3")) PN("2", RU("4")) PN("2", R("5")) PN("1", R("Cho các số:")) PN(
                    "7", R("một")) PN("7", R("hai")) PN("9", R("2")) PN("2", R("3")) PN("2", R("4"))
                    PN("2", R("6")) P("Đáp án: D") P("PHẦN II") PN("10", R("Xét các ý."))
                        PN("5", RU("Một")) PN("4", R("Hai")) PN("4", RU("Ba")) PN("4", R("Bốn")))),
        0);
    cr_assert_eq(nq(), 3, "%s", all_problems);
    cr_expect_eq(kt_docx_count(&res, "error"), 0, "%s", all_problems);
    json_t *q = json_array_get(res.questions, 1);
    cr_expect_eq(json_integer_value(json_object_get(q, "number")), 2);
    cr_expect_str_eq(field(0, "stem"), "<p>Chọn số chẵn.</p><p>Gợi ý: số chia hết cho 2.</p>");
    cr_expect_str_eq(field(0, "key"), "C");
    json_t *opts = json_object_get(item(0), "options");
    cr_assert_eq(json_array_size(opts), 4);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(opts, 3), "id")), "D");
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(opts, 3), "html")), "5");
    cr_expect_str_eq(field(1, "stem"), "<p>Cho các số:</p><p>1. một</p><p>2. hai</p>");
    cr_expect_str_eq(field(1, "key"), "D");
    cr_expect_str_eq(field(2, "kind"), "TF4");
    q = json_array_get(res.questions, 2);
    cr_expect_eq(json_integer_value(json_object_get(q, "number")), 1);
    cr_expect_eq(json_integer_value(json_object_get(q, "part")), 2);
    json_t *st = json_object_get(item(2), "statements");
    cr_assert_eq(json_array_size(st), 4, "%s", all_problems);
    const int keys[] = {1, 0, 1, 0};
    for (size_t i = 0; i < 4; i++)
        cr_expect_eq(json_is_true(json_object_get(json_array_get(st, i), "key")), keys[i]);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(st, 2), "id")), "c");
}

Test(docx, inline_answer_line)
{
    READ_OK(P("Câu 1. Một?") P("A. a\tB. b\tC. c\tD. d") P("Đáp án: C"));
    cr_expect_str_eq(field(0, "key"), "C");
}

Test(docx, answer_words_in_a_stem_are_text)
{
    READ_OK(P("Câu 1. Cho hai số.") P("Đáp án nào sau đây đúng?") P("A. a\tB. b\tC. c\tD. d")
                P("ĐÁP ÁN THAM KHẢO") P("1.D"));
    cr_expect_str_eq(field(0, "stem"), "<p>Cho hai số.</p><p>Đáp án nào sau đây đúng?</p>");
    cr_expect_str_eq(field(0, "key"), "D");
}

Test(docx, short_answers_numeric_and_text)
{
    READ_OK(P("PHẦN III") P("Câu 1. Tính.") P("Đáp án: −1,5.") P("Câu 2. Đơn vị?")
                P("Đáp án: mét"));
    cr_expect_str_eq(field(0, "key"), "-1.5");
    cr_expect_str_eq(field(1, "key"), "mét");
}

/* ---- explanations, levels, codes ------------------------------------------------ */

Test(docx, explanations_up_to_the_next_question)
{
    READ_OK(P("Câu 1. Một?") P("A. a\tB. b\tC. c\t*D. d") P("Lời giải:") P("Vì d đúng.")
                P("Kết luận D.") P("Câu 2. Hai?") P("*A. a\tB. b\tC. c\tD. d")
                    P("Hướng dẫn giải: Xét từng phương án.") P("Câu 3. Ba?")
                        P("A. a\tB. b\t*C. c\tD. d") P("Giải. Chọn C.") P("Câu 4. Bốn?")
                            P("A. a\t*B. b\tC. c\tD. d"));
    cr_assert_eq(nq(), 4, "%s", all_problems);
    cr_expect_str_eq(field(0, "explanation"), "<p>Vì d đúng.</p><p>Kết luận D.</p>");
    cr_expect_str_eq(field(1, "explanation"), "<p>Xét từng phương án.</p>");
    cr_expect_str_eq(field(2, "explanation"), "<p>Chọn C.</p>");
    cr_expect_null(json_object_get(item(3), "explanation"));
}

Test(docx, level_tags_and_taxonomy_codes)
{
    READ_OK(P("Câu 1 [NB]. Một?") P("*A. a\tB. b\tC. c\tD. d") P("Câu 2. Hai? [VDC]")
                P("*A. a\tB. b\tC. c\tD. d") P("Mã: VN18.TOAN.10.SDS.01.01.01, NL.TOAN.TDLL, MD.H")
                    P("Câu 3: (Vận dụng) Ba? (VN18.TOAN.10.SDS.01.02.01)")
                        P("*A. a\tB. b\tC. c\tD. d") P("Câu 4. [Hiểu] Bốn?")
                            P("*A. a\tB. b\tC. c\tD. d"));
    cr_assert_eq(nq(), 4, "%s", all_problems);
    cr_expect_str_eq(field(0, "level"), "MD.B");
    cr_expect_str_eq(field(0, "stem"), "<p>Một?</p>");
    /* the tag line comes after [VDC]: its MD.H wins */
    cr_expect_str_eq(field(1, "level"), "MD.H");
    cr_expect_str_eq(field(1, "stem"), "<p>Hai?</p>");
    cr_expect_str_eq(field(1, "outcome"), "VN18.TOAN.10.SDS.01.01.01");
    cr_expect_str_eq(json_string_value(json_array_get(json_object_get(item(1), "competencies"), 0)),
                     "NL.TOAN.TDLL");
    cr_expect_str_eq(field(2, "level"), "MD.V");
    cr_expect_str_eq(field(2, "outcome"), "VN18.TOAN.10.SDS.01.02.01");
    cr_expect_str_eq(field(2, "stem"), "<p>Ba?</p>");
    cr_expect_str_eq(field(3, "level"), "MD.H");
}

/* ---- the 2025 format ----------------------------------------------------------- */

Test(docx, format_2025_parts)
{
    READ_OK(P("PHẦN I. Câu trắc nghiệm nhiều phương án lựa chọn.") P("Câu 1. Một?")
                P("A. a\tB. b\tC. c\tD. d") P("PHẦN II. Câu trắc nghiệm đúng sai.")
                    P("Câu 1. Cho hàm số y = x².") PR(RU("a) Hàm số đồng biến trên (0; +∞).")) P(
                        "b) Đồ thị đi qua (1; 2).") PR(RU("c) Giá trị nhỏ nhất là 0."))
                        P("d) Hàm số lẻ.") P("Câu 2. Cho tam giác ABC vuông tại A.") P("a) Ý một.")
                            P("b) Ý hai.") P("c) Ý ba.") P("d) Ý bốn.") P(
                                "PHẦN III. Câu trắc nghiệm trả lời ngắn.") P("Câu 1. Tính 1 : 4.")
                                P("Đáp án: 0,25") P("Câu 2. Tính 3 − 5.") P("PHẦN IV. Tự luận")
                                    P("Câu 1 (1,0 điểm). Giải phương trình x² − 1 = 0.") P(
                                        "Hướng dẫn chấm:") P("Đưa về (x − 1)(x + 1) = 0 (0,5 điểm)")
                                        P("Kết luận x = ±1. (0,5đ)") P("ĐÁP ÁN") P("PHẦN I")
                                            P("1.B") P("PHẦN II")
                                                TBL(TR(TC("Câu") TC("a") TC("b") TC("c") TC("d"))
                                                        TR(TC("2") TC("Đ") TC("S") TC("S") TC("Đ")))
                                                    P("PHẦN III") P("Câu 2: -2"));
    cr_assert_eq(nq(), 6, "%s", all_problems);
    cr_expect_eq(kt_docx_count(&res, "error"), 0, "%s", all_problems);
    cr_expect_str_eq(field(0, "kind"), "MCQ4");
    cr_expect_str_eq(field(0, "key"), "B");
    cr_expect_eq(json_integer_value(json_object_get(json_array_get(res.questions, 0), "part")), 1);
    cr_expect_str_eq(field(1, "kind"), "TF4");
    json_t *st = json_object_get(item(1), "statements");
    cr_assert_eq(json_array_size(st), 4);
    cr_expect(json_is_true(json_object_get(json_array_get(st, 0), "key")));
    cr_expect(json_is_false(json_object_get(json_array_get(st, 1), "key")));
    cr_expect(json_is_true(json_object_get(json_array_get(st, 2), "key")));
    cr_expect(json_is_false(json_object_get(json_array_get(st, 3), "key")));
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(st, 0), "html")),
                     "Hàm số đồng biến trên (0; +∞).");
    st = json_object_get(item(2), "statements");
    cr_expect(json_is_true(json_object_get(json_array_get(st, 0), "key")));
    cr_expect(json_is_false(json_object_get(json_array_get(st, 1), "key")));
    cr_expect(json_is_false(json_object_get(json_array_get(st, 2), "key")));
    cr_expect(json_is_true(json_object_get(json_array_get(st, 3), "key")));
    cr_expect_str_eq(field(3, "kind"), "SHORT");
    cr_expect_str_eq(field(3, "key"), "0.25");
    cr_expect_str_eq(field(4, "kind"), "SHORT");
    cr_expect_str_eq(field(4, "key"), "-2");
    cr_expect_str_eq(field(5, "kind"), "ESSAY");
    cr_expect_str_eq(field(5, "stem"), "<p>Giải phương trình x² − 1 = 0.</p>");
    json_t *rub = json_object_get(item(5), "rubric");
    cr_assert_eq(json_array_size(rub), 2, "%s", json_dumps(item(5), 0));
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(rub, 0), "criterion")),
                     "Đưa về (x − 1)(x + 1) = 0");
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(rub, 0), "points")), "0.5");
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(rub, 1), "criterion")),
                     "Kết luận x = ±1");
    cr_expect_str_eq(field(5, "model_answer"),
                     "<p>Đưa về (x − 1)(x + 1) = 0 (0,5 điểm)</p><p>Kết luận x = ±1. (0,5đ)</p>");
}

Test(docx, true_false_key_line_and_essay_heading)
{
    READ_OK(P("PHẦN II") P("Câu 1. Cho số 6.") P("a) Chẵn.") P("b) Lẻ.") P("c) Chia hết cho 3.")
                P("d) Nguyên tố.") P("Đáp án: Đ S Đ S") P("II. TỰ LUẬN") P("Câu 1. Trình bày.")
                    P("Lời giải: Một đoạn.") P("Hướng dẫn chấm: Nêu đúng ý chính (1 điểm)")
                        P("Câu 2. Viết đoạn văn."));
    cr_assert_eq(nq(), 2, "%s", all_problems);
    EXPECT_PROBLEM("error", "Câu 2 (đoạn 12): (phần IV) câu tự luận chưa có hướng dẫn chấm (sau "
                            "dòng \"Hướng dẫn chấm:\", mỗi ý một dòng kèm điểm, ví dụ \"(0,5 "
                            "điểm)\").");
    json_t *st = json_object_get(item(0), "statements");
    cr_expect(json_is_true(json_object_get(json_array_get(st, 2), "key")));
    cr_expect(json_is_false(json_object_get(json_array_get(st, 3), "key")));
    cr_expect_str_eq(field(1, "kind"), "ESSAY");
    cr_expect_eq(json_integer_value(json_object_get(json_array_get(res.questions, 1), "part")), 4);
    cr_expect_str_eq(field(1, "explanation"), "<p>Một đoạn.</p>");
}

/* ---- pictures, equations, tables ------------------------------------------------ */

Test(docx, inline_picture_kept_as_item_image)
{
    READ_OK(PR(R("Câu 1. Hình vẽ bên là") PICTURE) P("*A. a\tB. b\tC. c\tD. d"));
    cr_assert_eq(res.nimages, 1, "%s", all_problems);
    cr_expect_str_eq(res.images[0].content_type, "image/png");
    cr_expect_eq(res.images[0].len, sizeof dx_png);
    cr_expect(kt_media_path_valid(res.images[0].path), "%s", res.images[0].path);
    char want[256];
    snprintf(want, sizeof want, "<p>Hình vẽ bên là<img src=\"%s\" alt=\"\"/></p>",
             res.images[0].path);
    cr_expect_str_eq(field(0, "stem"), want);
    json_t *refs = kt_item_media_refs(item(0));
    cr_expect_eq(json_array_size(refs), 1);
    json_decref(refs);
}

Test(docx, mathtype_object_gives_its_fallback_picture_and_a_note)
{
    READ_OK(PR(R("Câu 1. Tính ") MATHTYPE) P("A. a\tB. b\t*C. c\tD. d"));
    cr_assert_eq(nq(), 1, "%s", all_problems);
    cr_expect_eq(res.nimages, 1);
    cr_expect(strstr(field(0, "stem"), "<img src=\"media/") != NULL);
    EXPECT_PROBLEM("warning", "Câu 1 (đoạn 1): công thức MathType được giữ dưới dạng ảnh.");
}

/* A MathType object whose preview is a WMF (as Word keeps it): no browser
 * shows it, so the place says "[công thức MathType]" and one warning names
 * the question. */
Test(docx, mathtype_with_a_wmf_preview_is_marked_and_named)
{
    static const unsigned char wmf[] = {0xD7, 0xCD, 0xC6, 0x9A, 0,    0, 0, 0, 0, 0,    0x10,
                                        0x02, 0x40, 0x01, 0xE8, 0x03, 0, 0, 0, 0, 0x1B, 0x66};
    const struct dx_part parts[] = {{"word/media/image1.wmf", wmf, sizeof wmf}};
    cr_assert_eq(read_custom(DX_DOCUMENT(P("Câu 1. Một?") P("*A. a\tB. b\tC. c\tD. d") PR(R(
                                 "Câu 2. Tính ") MATHTYPE R(" bằng")) P("*A. 1\tB. 2\tC. 3\tD. 4")),
                             REL("rId5", "image", "media/image1.wmf"), parts, 1),
                 0);
    cr_assert_eq(nq(), 2, "%s", all_problems);
    cr_expect_str_eq(field(1, "stem"), "<p>Tính [công thức MathType] bằng</p>");
    cr_expect_eq(json_array_size(res.problems), 1, "%s", all_problems);
    EXPECT_PROBLEM("warning", "Câu 2 (đoạn 3): công thức MathType chỉ có ảnh xem trước dạng "
                              "WMF/EMF, không hiển thị được trên web: đã thay bằng \"[công thức "
                              "MathType]\", hãy nhập lại công thức trong trình soạn thảo.");
    cr_expect_eq(res.nimages, 0);
}

Test(docx, word_equation_as_mathml)
{
    READ_OK(PR(R("Câu 1. Tính ") "<m:oMath><m:f><m:num><m:r><m:t>1</m:t></m:r></"
                                 "m:num><m:den><m:r><m:t>2</m:t>"
                                 "</m:r></m:den></m:f></m:oMath>" R("."))
                P("*A. a\tB. b\tC. c\tD. d"));
    cr_expect_str_eq(field(0, "stem"),
                     "<p>Tính <math><mfrac><mn>1</mn><mn>2</mn></mfrac></math>.</p>");
}

Test(docx, table_in_stem_kept_as_html_table)
{
    READ_OK(P("Câu 1. Cho bảng số liệu:") TBL(TR(TC("x") TC("1")) TR(TC("y") TC("2")))
                P("Giá trị của y khi x = 1 là") P("A. 1\t*B. 2\tC. 3\tD. 4"));
    cr_expect_str_eq(field(0, "stem"),
                     "<p>Cho bảng số liệu:</p><table><tbody><tr><td>x</td><td>1</td></tr><tr>"
                     "<td>y</td><td>2</td></tr></tbody></table><p>Giá trị của y khi x = 1 là</p>");
}

Test(docx, options_laid_out_in_a_table)
{
    READ_OK(P("Câu 1. Chọn.") TBL(TR(TC("A. một") TC("B. hai")) TR(TC("*C. ba") TC("D. bốn"))));
    cr_expect_str_eq(field(0, "key"), "C");
    cr_expect_eq(json_array_size(json_object_get(item(0), "options")), 4);
}

Test(docx, formatting_kept_in_the_stem)
{
    READ_OK(PR(R("Câu 1. Cho ") RB("x") R(" và 10") RSUP("3") R(" &lt; 2 &amp; 3."))
                P("*A. a\tB. b\tC. c\tD. d"));
    cr_expect_str_eq(field(0, "stem"), "<p>Cho <b>x</b> và 10<sup>3</sup> &lt; 2 &amp; 3.</p>");
}

#define MATH_OPEN "<math" /* as stored: the allow-list drops xmlns */
#define TEX(t) "<annotation encoding=\"application/x-tex\">" t "</annotation></semantics></math>"

Test(docx, latex_becomes_mathml_in_stem_options_and_explanation)
{
    READ_OK(P("Câu 1. Tính $\\frac{1}{2}$ và \\(x^2\\) [NB]") P("*A. $1$\tB. $2$\tC. c\tD. d")
                P("Lời giải: $$\\sqrt{4}=2$$"));
    cr_expect_str_eq(field(0, "stem"),
                     "<p>Tính " MATH_OPEN "><semantics><mrow><mfrac><mn>1</mn><mn>2</mn></mfrac>"
                     "</mrow>" TEX("\\frac{1}{2}") " và " MATH_OPEN
                                                   "><semantics><mrow><msup><mi>x</mi>"
                                                   "<mn>2</mn></msup></mrow>" TEX("x^2") "</p>");
    const json_t *opts = json_object_get(item(0), "options");
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(opts, 1), "html")),
                     MATH_OPEN "><semantics><mrow><mn>2</mn></mrow>" TEX("2"));
    cr_expect_str_eq(field(0, "key"), "A");
    cr_expect_str_eq(field(0, "explanation"),
                     "<p>" MATH_OPEN " display=\"block\"><semantics><mrow><msqrt><mn>4</mn></msqrt>"
                     "<mo>=</mo><mn>2</mn></mrow>" TEX("\\sqrt{4}=2") "</p>");
    cr_expect_eq(kt_docx_count(&res, "warning"), 0, "%s", all_problems);
}

Test(docx, dollar_signs_that_are_not_formulas_stay_text)
{
    READ_OK(P("Câu 1. Giá 5$ và 7 $ hay $ 3 $, còn \\$x\\$ thì sao?") P("*A. a\tB. b\tC. c\tD. d"));
    cr_expect_str_eq(field(0, "stem"), "<p>Giá 5$ và 7 $ hay $ 3 $, còn \\$x\\$ thì sao?</p>");
    cr_expect_eq(kt_docx_count(&res, "warning"), 0, "%s", all_problems);
}

Test(docx, latex_outside_the_subset_kept_as_text_with_the_reason)
{
    READ_OK(P("Câu 1. Tính $\\int_0^1 x\\,dx$ và $\\frac{1}{2}$.") P("*A. a\tB. b\tC. c\tD. d")
                P("Câu 2. Tính $\\frac{1}{2$.") P("*A. a\tB. b\tC. c\tD. d"));
    cr_expect_str_eq(field(0, "stem"), "<p>Tính $\\int_0^1 x\\,dx$ và " MATH_OPEN
                                       "><semantics><mrow><mfrac><mn>1</mn>"
                                       "<mn>2</mn></mfrac></mrow>" TEX("\\frac{1}{2}") ".</p>");
    EXPECT_PROBLEM("warning", "Câu 1 (đoạn 1): công thức LaTeX $\\int_0^1 x\\,dx$ (lệnh \\int chưa "
                              "được hỗ trợ) được giữ nguyên dạng văn bản; hãy kiểm tra trong trình "
                              "soạn thảo.");
    EXPECT_PROBLEM("warning",
                   "Câu 2 (đoạn 3): công thức LaTeX $\\frac{1}{2$ (thiếu dấu } đóng nhóm) "
                   "được giữ nguyên dạng văn bản; hãy kiểm tra trong trình soạn thảo.");
}

/* ---- problems --------------------------------------------------------------------- */

Test(docx, missing_key_names_question_and_paragraph)
{
    READ_OK(P("Tiêu đề") P("Câu 1. Một?") P("*A. a\tB. b\tC. c\tD. d") P("Câu 2. Hai?")
                P("A. a\tB. b\tC. c\tD. d"));
    cr_expect_eq(nq(), 1);
    EXPECT_PROBLEM("error", "Câu 2 (đoạn 4): không tìm thấy đáp án.");
    cr_expect_eq(kt_docx_count(&res, "error"), 1, "%s", all_problems);
}

Test(docx, option_e_without_a_question)
{
    READ_OK(P("E. một phương án lạc") P("Câu 1. Một?") P("*A. a\tB. b\tC. c\tD. d"));
    cr_expect_eq(nq(), 1);
    EXPECT_PROBLEM("error", "Đoạn 1: phương án E. không thuộc câu hỏi nào (thiếu dòng \"Câu N.\" "
                            "phía trên).");
}

Test(docx, five_options_with_one_key)
{
    READ_OK(P("Câu 1. Một?") P("*A. a\tB. b\tC. c\tD. d\tE. e"));
    cr_expect_eq(nq(), 0);
    EXPECT_PROBLEM("error", "Câu 1 (đoạn 1): câu trắc nghiệm một lựa chọn phải có đúng 4 phương án "
                            "A, B, C, D (có 5).");
}

Test(docx, an_option_missing_and_an_empty_option)
{
    READ_OK(P("Câu 7. Một?") P("*A. a") P("B. b") P("D. d") P("Câu 8. Hai?")
                P("A. a\t*B. b\tC.\tD. d"));
    cr_expect_eq(nq(), 0);
    EXPECT_PROBLEM("error", "Câu 7 (đoạn 1): thiếu phương án C.");
    EXPECT_PROBLEM("error", "Câu 8 (đoạn 5): phương án C để trống.");
}

Test(docx, true_false_problems_name_the_part)
{
    READ_OK(P("PHẦN II") P("Câu 3. Cho.") P("a) x") P("b) y") P("c) z") P("PHẦN III")
                P("Câu 1. Tính."));
    cr_expect_eq(nq(), 0);
    EXPECT_PROBLEM("error", "Câu 3 (đoạn 2): (phần II) câu Đúng/Sai phải có đúng 4 ý a), b), c), "
                            "d) (có 3).");
    EXPECT_PROBLEM("error", "Câu 3 (đoạn 2): (phần II) không tìm thấy đáp án Đúng/Sai của các ý.");
    EXPECT_PROBLEM("error", "Câu 1 (đoạn 7): (phần III) không tìm thấy đáp án (dòng \"Đáp án: "
                            "...\").");
}

Test(docx, no_question_at_all)
{
    READ_OK(P("Chỉ có một dòng."));
    EXPECT_PROBLEM("error", "Không tìm thấy câu hỏi nào (mỗi câu bắt đầu bằng \"Câu 1.\" hoặc "
                            "\"Câu 1:\").");
}

/* ---- refusals ---------------------------------------------------------------------- */

Test(docx, broken_zip_refused)
{
    size_t len;
    char *buf = dx_docx(DX_DOCUMENT(P("Câu 1. x") P("*A. a\tB. b\tC. c\tD. d")), &len);
    cr_assert_eq(read_buf(buf, len / 2), -1);
    EXPECT_PROBLEM("error", "Tệp không đọc được: không phải tài liệu Word (.docx) hợp lệ (tệp nén "
                            "bị hỏng hoặc không phải .docx).");
    cr_expect_eq(nq(), 0);
    free(buf);
    kt_docx_result_free(&res);
    cr_assert_eq(read_buf("PK\x03\x04 not a zip", 15), -1);
}

Test(docx, macro_enabled_document_refused)
{
    size_t len;
    void *buf =
        dx_docx_typed(DX_DOCUMENT(P("Câu 1. x") P("*A. a\tB. b\tC. c\tD. d")), DX_CT_MACRO, &len);
    cr_assert_eq(read_buf(buf, len), -1);
    free(buf);
    EXPECT_PROBLEM("error", "Tệp Word có macro (.docm) không được nhận. Hãy mở tệp và lưu lại dưới "
                            "dạng Tài liệu Word (.docx).");
    cr_expect_eq(nq(), 0);
    kt_docx_result_free(&res);

    /* a vbaProject part alone is enough */
    const struct dx_part parts[] = {{"[Content_Types].xml", "<Types/>", 0},
                                    {"word/document.xml", DX_DOCUMENT(P("Câu 1. x")), 0},
                                    {"word/vbaProject.bin", "\x01\x02", 2}};
    buf = dx_zip(parts, 3, &len);
    cr_assert_eq(read_buf(buf, len), -1);
    free(buf);
    cr_expect(strstr(all_problems, ".docm") != NULL, "%s", all_problems);
}

Test(docx, doctype_refused)
{
    cr_assert_eq(
        read_doc("<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"Câu 1.\">]><w:document " DX_NS
                 "><w:body><w:p><w:r><w:t>&e;</w:t></w:r></w:p></w:body></w:document>"),
        -1);
    cr_expect(strstr(all_problems, "DOCTYPE") != NULL, "%s", all_problems);
}

Test(docx, unsafe_entry_name_refused)
{
    const struct dx_part parts[] = {{"[Content_Types].xml", "<Types/>", 0},
                                    {"../evil.xml", "x", 0}};
    size_t len;
    void *buf = dx_zip(parts, 2, &len);
    cr_assert_eq(read_buf(buf, len), -1);
    free(buf);
    cr_expect(strstr(all_problems, "không an toàn") != NULL, "%s", all_problems);
}

/* ---- the corpus written with LibreOffice (tests/corpus/docx) ------------------------ */

#define DOCX_CORPUS KIEMTRA_SOURCE_DIR "/tests/corpus/docx"

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    char *buf = malloc(*len + 1);
    cr_assert_eq(fread(buf, 1, *len, f), *len);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static size_t
count_in(const char *s, const char *what)
{
    size_t n = 0;
    for (const char *p = s ? strstr(s, what) : NULL; p; p = strstr(p + 1, what))
        n++;
    return n;
}

/* Occurrences of what in the stem, options, statements and explanation. */
static size_t
count_item(const json_t *it, const char *what, int stem_only)
{
    size_t n = count_in(json_string_value(json_object_get(it, "stem")), what);
    if (stem_only)
        return n;
    n += count_in(json_string_value(json_object_get(it, "explanation")), what);
    n += count_in(json_string_value(json_object_get(it, "model_answer")), what);
    static const char *const lists[] = {"options", "statements"};
    for (size_t l = 0; l < 2; l++) {
        size_t i;
        json_t *o;
        json_array_foreach(json_object_get(it, lists[l]), i, o) n +=
            count_in(json_string_value(json_object_get(o, "html")), what);
    }
    return n;
}

static void
check_corpus_item(const char *file, const json_t *want, const json_t *got_q)
{
    const json_t *it = json_object_get(got_q, "item");
    int number = (int)json_integer_value(json_object_get(want, "number"));
    const char *part = json_string_value(json_object_get(want, "part"));
    int want_part = !part                 ? 0
                    : strstr(part, "IV")  ? 4
                    : strstr(part, "III") ? 3
                    : strstr(part, "II")  ? 2
                                          : 1;
    const char *kind = json_string_value(json_object_get(want, "kind"));
    char *dump = json_dumps(it, JSON_COMPACT);
    cr_expect_eq(json_integer_value(json_object_get(got_q, "number")), number, "%s: %s", file,
                 dump);
    cr_expect_eq(json_integer_value(json_object_get(got_q, "part")), want_part, "%s câu %d", file,
                 number);
    cr_expect_str_eq(json_string_value(json_object_get(it, "kind")), kind, "%s câu %d: %s", file,
                     number, dump);
    const json_t *key = json_object_get(want, "key");
    if (json_is_string(key) && strcmp(kind, "MR") != 0) {
        cr_expect_str_eq(json_string_value(json_object_get(it, "key")), json_string_value(key),
                         "%s câu %d: %s", file, number, dump);
    } else if (json_is_array(key)) {
        cr_expect(json_equal(json_object_get(it, "keys"), key), "%s câu %d: %s", file, number,
                  dump);
    } else if (json_is_object(key)) {
        size_t i;
        json_t *st;
        json_array_foreach(json_object_get(it, "statements"), i, st)
        {
            const json_t *w = json_object_get(key, json_string_value(json_object_get(st, "id")));
            cr_expect(w && json_equal(w, json_object_get(st, "key")), "%s câu %d ý %zu: %s", file,
                      number, i, dump);
        }
        cr_expect_eq(json_array_size(json_object_get(it, "statements")), json_object_size(key));
    }
    const json_t *level = json_object_get(want, "level");
    if (json_is_string(level))
        cr_expect_str_eq(json_string_value(json_object_get(it, "level")), json_string_value(level),
                         "%s câu %d", file, number);
    else
        cr_expect_null(json_object_get(it, "level"), "%s câu %d", file, number);
    cr_expect_eq(json_is_true(json_object_get(want, "explanation")),
                 json_object_get(it, "explanation") != NULL, "%s câu %d: %s", file, number, dump);
    size_t i;
    json_t *code;
    json_t *tags = kt_item_tags(it);
    json_array_foreach(json_object_get(want, "codes"), i, code)
    {
        int found = 0;
        size_t k;
        json_t *t;
        json_array_foreach(tags, k, t) found |= json_equal(t, code);
        cr_expect(found, "%s câu %d: no code %s in %s", file, number, json_string_value(code),
                  dump);
    }
    json_decref(tags);
    cr_expect_eq(count_item(it, "<img ", 0),
                 (size_t)json_integer_value(json_object_get(want, "images")), "%s câu %d: %s", file,
                 number, dump);
    cr_expect_eq(count_item(it, "<table>", 1),
                 (size_t)json_integer_value(json_object_get(want, "tables")), "%s câu %d: %s", file,
                 number, dump);
    /* Word equations and formulas typed as LaTeX alike become MathML */
    cr_expect_eq(count_item(it, "<math", 0),
                 (size_t)(json_integer_value(json_object_get(want, "omml")) +
                          json_integer_value(json_object_get(want, "latex"))),
                 "%s câu %d: %s", file, number, dump);
    if (json_integer_value(json_object_get(want, "latex")))
        cr_expect(count_item(it, "$", 0) == 0, "%s câu %d: LaTeX left raw: %s", file, number, dump);
    if (json_object_get(want, "options"))
        cr_expect_eq(json_array_size(json_object_get(it, "options")),
                     (size_t)json_integer_value(json_object_get(want, "options")), "%s câu %d",
                     file, number);
    json_t *rp = json_object_get(want, "rubric_points"), *p;
    if (rp) {
        json_t *rubric = json_object_get(it, "rubric");
        cr_expect_eq(json_array_size(rubric), json_array_size(rp), "%s câu %d: %s", file, number,
                     dump);
        json_array_foreach(rp, i, p) cr_expect_eq(
            atof(json_string_value(json_object_get(json_array_get(rubric, i), "points")) ?: "-1"),
            json_real_value(p), "%s câu %d tiêu chí %zu", file, number, i);
    }
    free(dump);
}

Test(docx, libreoffice_corpus)
{
    size_t len;
    if (access(DOCX_CORPUS "/expected.json", R_OK) != 0)
        cr_skip_test("tests/corpus/docx/expected.json is missing: the corpus is not checked");
    char *text = slurp(DOCX_CORPUS "/expected.json", &len);
    json_error_t je;
    json_t *expected = json_loads(text, 0, &je);
    free(text);
    cr_assert_not_null(expected, "expected.json: %s", je.text);
    const char *file;
    json_t *want;
    size_t nfiles = 0;
    json_object_foreach(json_object_get(expected, "files"), file, want)
    {
        char path[1024];
        snprintf(path, sizeof path, DOCX_CORPUS "/%s", file);
        char *buf = slurp(path, &len);
        int rc = read_buf(buf, len);
        free(buf);
        nfiles++;
        size_t valid = (size_t)json_integer_value(json_object_get(want, "valid"));
        size_t questions = (size_t)json_integer_value(json_object_get(want, "questions"));
        cr_expect_eq(rc, questions ? 0 : -1, "%s: %s", file, all_problems);
        cr_expect_eq(nq(), valid, "%s: %zu questions read, %zu expected: %s", file, nq(), valid,
                     all_problems);
        /* every question not imported has an error, and only those */
        size_t errors = 0, i;
        json_t *p;
        json_array_foreach(res.problems, i, p) errors +=
            strcmp(json_string_value(json_object_get(p, "severity")), "error") == 0 &&
            json_integer_value(json_object_get(p, "question")) > 0;
        cr_expect_eq(errors > 0, questions > valid, "%s: %s", file, all_problems);
        json_array_foreach(json_object_get(want, "problems"), i, p)
        {
            const char *frag = json_string_value(json_object_get(p, "message"));
            json_int_t qn = json_integer_value(json_object_get(p, "question"));
            int found = 0;
            size_t k;
            json_t *g;
            json_array_foreach(res.problems, k, g) found |=
                strstr(json_string_value(json_object_get(g, "message")), frag) != NULL &&
                json_integer_value(json_object_get(g, "question")) == qn;
            cr_expect(found, "%s: no problem \"%s\" for question %lld in %s", file, frag,
                      (long long)qn, all_problems);
        }
        json_t *items = json_object_get(want, "items"), *w;
        json_array_foreach(items, i, w) if (i < nq())
            check_corpus_item(file, w, json_array_get(res.questions, i));
        kt_docx_result_free(&res);
    }
    cr_expect_geq(nfiles, 20);
    json_decref(expected);
}

/*
 * Unit tests for itembank/item.c: validation of the Vietnamese formats
 * (every problem reported with its path), normalisation (NFC, decimal
 * comma), the content/scoring split and its inverse on the demo bank, tags
 * and the folded search text.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "item.h"

static json_t *
parse(const char *s)
{
    json_error_t err;
    json_t *j = json_loads(s, 0, &err);
    cr_assert(j, "bad test JSON: %s", err.text);
    return j;
}

/* True when problems has an entry for field. */
static int
has_problem(const json_t *problems, const char *field)
{
    size_t i;
    json_t *p;
    json_array_foreach(problems, i, p)
    {
        const char *f = json_string_value(json_object_get(p, "field"));
        const char *m = json_string_value(json_object_get(p, "message"));
        cr_assert(m && *m, "problem without a message");
        if (f && strcmp(f, field) == 0)
            return 1;
    }
    return 0;
}

#define COMMON "\"identifier\":\"T-1\",\"subject\":\"TOAN\",\"grade\":10,\"title\":\"Hàm số\","

static const char *mcq4 =
    "{" COMMON "\"kind\":\"MCQ4\",\"level\":\"MD.B\",\"outcome\":\"VN18.TOAN.10.DSGT.01.01.01\","
    "\"competencies\":[\"NL.TOAN.TDLL\"],\"stem\":\"<p>Hàm số bậc hai nào?</p>\","
    "\"options\":[{\"id\":\"A\",\"html\":\"a\"},{\"id\":\"B\",\"html\":\"b\"},"
    "{\"id\":\"C\",\"html\":\"c\"},{\"id\":\"D\",\"html\":\"d\",\"fixed\":true}],"
    "\"key\":\"C\",\"explanation\":\"vì\"}";

Test(item, valid_items_of_every_kind)
{
    const char *items[] = {
        mcq4,
        "{" COMMON "\"kind\":\"MR\",\"stem\":\"s\",\"options\":[{\"id\":\"A\",\"html\":\"a\"},"
        "{\"id\":\"B\",\"html\":\"b\"},{\"id\":\"C\",\"html\":\"c\"}],\"keys\":[\"A\",\"C\"],"
        "\"scoring_mode\":\"per_option\"}",
        "{" COMMON "\"kind\":\"TF4\",\"stem\":\"s\",\"statements\":[{\"id\":\"a\",\"html\":\"x\","
        "\"key\":true},{\"id\":\"b\",\"html\":\"x\",\"key\":false},{\"id\":\"c\",\"html\":\"x\","
        "\"key\":true},{\"id\":\"d\",\"html\":\"x\",\"key\":false}],"
        "\"score_table\":[\"0\",\"0.1\",\"0.25\",\"0.5\",\"1\"]}",
        "{" COMMON "\"kind\":\"SHORT\",\"stem\":\"s\",\"key\":\"2.5\",\"tolerance\":\"0.01\"}",
        "{" COMMON "\"kind\":\"SHORT\",\"stem\":\"s\",\"key\":\"Hà Nội\",\"answer_type\":\"text\"}",
        "{" COMMON "\"kind\":\"ESSAY\",\"stem\":\"s\",\"rubric\":[{\"criterion\":\"a\","
        "\"points\":\"0.5\"},{\"criterion\":\"b\",\"points\":\"1\"}],\"model_answer\":\"m\"}",
    };
    for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
        json_t *it = parse(items[i]);
        kt_item_normalize(it);
        json_t *p = kt_item_validate(it);
        char *s = json_dumps(p, 0);
        cr_assert_eq(json_array_size(p), 0, "item %zu: %s", i, s);
        free(s);
        json_decref(p);
        json_decref(it);
    }
}

Test(item, every_problem_is_reported)
{
    json_t *it = parse("{\"identifier\":\"1 bad\",\"kind\":\"MCQ4\",\"subject\":\"toán\","
                       "\"grade\":13,\"title\":\"\",\"stem\":\"s\","
                       "\"options\":[{\"id\":\"A\",\"html\":\"a\"},{\"id\":\"X\",\"html\":\"\"},"
                       "{\"id\":\"C\",\"html\":\"c\",\"fixed\":1}],\"key\":\"E\",\"extra\":1,"
                       "\"tags\":[\"md.b\"]}");
    json_t *p = kt_item_validate(it);
    const char *fields[] = {"identifier", "subject",    "grade",          "title",
                            "options",    "options[1].id", "options[1].html", "options[2].fixed",
                            "key",        "extra",      "tags[0]"};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        cr_assert(has_problem(p, fields[i]), "no problem for %s", fields[i]);
    json_decref(p);
    json_decref(it);
}

Test(item, kind_specific_rules)
{
    json_t *it = parse("{" COMMON "\"kind\":\"MR\",\"stem\":\"s\",\"options\":[{\"id\":\"A\","
                       "\"html\":\"a\"}],\"keys\":[\"B\"],\"scoring_mode\":\"half\"}");
    json_t *p = kt_item_validate(it);
    cr_assert(has_problem(p, "options"));
    cr_assert(has_problem(p, "keys[0]"));
    cr_assert(has_problem(p, "scoring_mode"));
    json_decref(p);
    json_decref(it);

    it = parse("{" COMMON "\"kind\":\"MR\",\"stem\":\"s\",\"options\":[{\"id\":\"A\","
               "\"html\":\"a\"},{\"id\":\"B\",\"html\":\"b\"}],\"keys\":[]}");
    p = kt_item_validate(it);
    cr_assert(has_problem(p, "keys"));
    json_decref(p);
    json_decref(it);

    it = parse("{" COMMON "\"kind\":\"TF4\",\"stem\":\"s\",\"statements\":[{\"id\":\"a\","
               "\"html\":\"x\",\"key\":\"đúng\"},{\"id\":\"c\",\"html\":\"x\",\"key\":true}],"
               "\"score_table\":[\"0\",\"0.5\",\"0.25\",\"x\",\"1\"]}");
    p = kt_item_validate(it);
    cr_assert(has_problem(p, "statements"));
    cr_assert(has_problem(p, "statements[0].key"));
    cr_assert(has_problem(p, "statements[1].id"));
    cr_assert(has_problem(p, "score_table[2]"));
    cr_assert(has_problem(p, "score_table[3]"));
    json_decref(p);
    json_decref(it);

    it = parse("{" COMMON "\"kind\":\"SHORT\",\"stem\":\"s\",\"key\":\"abc\","
               "\"answer_type\":\"numeric\",\"tolerance\":\"-1\"}");
    p = kt_item_validate(it);
    cr_assert(has_problem(p, "key"));
    cr_assert(has_problem(p, "tolerance"));
    json_decref(p);
    json_decref(it);

    it = parse("{" COMMON "\"kind\":\"ESSAY\",\"stem\":\"s\",\"rubric\":[{\"criterion\":\"a\","
               "\"points\":\"0\"},{\"criterion\":\"\",\"points\":1}]}");
    p = kt_item_validate(it);
    cr_assert(has_problem(p, "rubric[0].points"));
    cr_assert(has_problem(p, "rubric[1].criterion"));
    cr_assert(has_problem(p, "rubric[1].points"));
    json_decref(p);
    json_decref(it);

    it = parse("{" COMMON "\"kind\":\"ESSAY\",\"stem\":\"s\"}");
    p = kt_item_validate(it);
    cr_assert(has_problem(p, "rubric"));
    json_decref(p);
    json_decref(it);

    it = parse("{" COMMON "\"kind\":\"MATCH\",\"stem\":\"s\"}");
    p = kt_item_validate(it);
    cr_assert(has_problem(p, "kind"));
    json_decref(p);
    json_decref(it);
}

Test(item, size_limits_and_nfc)
{
    json_t *it = parse(mcq4);
    char *big = malloc(KT_ITEM_HTML_MAX + 2);
    memset(big, 'x', KT_ITEM_HTML_MAX + 1);
    big[KT_ITEM_HTML_MAX + 1] = '\0';
    json_object_set_new(it, "stem", json_string(big));
    free(big);
    /* "Hàm" with a combining grave accent: NFD. */
    json_object_set_new(it, "title", json_string("Ha\xCC\x80m so\xCC\x82\xCC\x81"));
    json_t *p = kt_item_validate(it);
    cr_assert(has_problem(p, "stem"));
    cr_assert(has_problem(p, "title"));
    json_decref(p);
    kt_item_normalize(it);
    cr_assert_str_eq(json_string_value(json_object_get(it, "title")), "Hàm số");
    p = kt_item_validate(it);
    cr_assert_not(has_problem(p, "title"));
    json_decref(p);
    json_decref(it);
}

Test(item, decimal_comma_is_normalised)
{
    json_t *it = parse("{" COMMON "\"kind\":\"SHORT\",\"stem\":\"s\",\"key\":\" -2,5 \","
                       "\"tolerance\":\"0,01\"}");
    kt_item_normalize(it);
    cr_assert_str_eq(json_string_value(json_object_get(it, "key")), "-2.5");
    cr_assert_str_eq(json_string_value(json_object_get(it, "tolerance")), "0.01");
    json_t *p = kt_item_validate(it);
    cr_assert_eq(json_array_size(p), 0);
    json_decref(p);
    json_decref(it);

    it = parse("{" COMMON "\"kind\":\"SHORT\",\"stem\":\"s\",\"key\":24}");
    kt_item_normalize(it);
    cr_assert_str_eq(json_string_value(json_object_get(it, "key")), "24");
    json_decref(it);

    it = parse("{" COMMON "\"kind\":\"ESSAY\",\"stem\":\"s\",\"rubric\":[{\"criterion\":\"a\","
               "\"points\":\"0,25\"}]}");
    kt_item_normalize(it);
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(it, "rubric"), 0), "points")),
                     "0.25");
    json_decref(it);
}

Test(item, split_keeps_keys_on_the_server_and_join_restores)
{
    json_error_t err;
    json_t *bank = json_load_file(KIEMTRA_SOURCE_DIR "/demo/items-toan10.json", 0, &err);
    cr_assert(json_is_array(bank), "%s", err.text);
    size_t i;
    json_t *it;
    json_array_foreach(bank, i, it)
    {
        json_t *p = kt_item_validate(it);
        char *ps = json_dumps(p, 0);
        cr_assert_eq(json_array_size(p), 0, "demo item %zu: %s", i, ps);
        free(ps);
        json_decref(p);
        json_t *c, *s;
        kt_item_split(it, &c, &s);
        static const char *const secret[] = {"key", "keys", "rubric", "tolerance",
                                             "model_answer", "explanation", "identifier"};
        for (size_t k = 0; k < sizeof(secret) / sizeof(secret[0]); k++)
            cr_assert_null(json_object_get(c, secret[k]), "%s in content", secret[k]);
        size_t j;
        json_t *st;
        json_array_foreach(json_object_get(c, "statements"), j, st)
            cr_assert_null(json_object_get(st, "key"));
        /* The inverse gives back a valid item with the same split. */
        json_t *back = kt_item_join(it, c, s);
        p = kt_item_validate(back);
        cr_assert_eq(json_array_size(p), 0);
        json_decref(p);
        json_t *c2, *s2;
        kt_item_split(back, &c2, &s2);
        cr_assert(json_equal(c, c2) && json_equal(s, s2));
        json_decref(c2);
        json_decref(s2);
        json_decref(back);
        json_decref(c);
        json_decref(s);
    }
    json_decref(bank);
}

Test(item, tf4_default_score_table)
{
    json_t *it = parse("{" COMMON "\"kind\":\"TF4\",\"stem\":\"s\",\"statements\":[{\"id\":\"a\","
                       "\"html\":\"x\",\"key\":true},{\"id\":\"b\",\"html\":\"x\",\"key\":false},"
                       "{\"id\":\"c\",\"html\":\"x\",\"key\":true},{\"id\":\"d\",\"html\":\"x\","
                       "\"key\":false}]}");
    json_t *c, *s;
    kt_item_split(it, &c, &s);
    json_t *want = parse("{\"statement_keys\":{\"a\":true,\"b\":false,\"c\":true,\"d\":false},"
                         "\"score_table\":[\"0\",\"0.1\",\"0.25\",\"0.5\",\"1\"]}");
    cr_assert(json_equal(s, want));
    json_decref(want);
    json_decref(c);
    json_decref(s);
    json_decref(it);
}

Test(item, tags)
{
    json_t *it = parse(mcq4);
    json_object_set_new(it, "tags", parse("[\"MD.B\",\"PC.CHAMCHI\"]"));
    json_t *tags = kt_item_tags(it);
    json_t *want = parse("[\"VN18.TOAN.10.DSGT.01.01.01\",\"MD.B\",\"DT.NLC\",\"NL.TOAN.TDLL\","
                         "\"PC.CHAMCHI\"]");
    cr_assert(json_equal(tags, want));
    json_decref(want);
    json_decref(tags);
    json_decref(it);
    cr_assert_str_eq(kt_item_format_code("TF4"), "DT.DS");
    cr_assert_str_eq(kt_item_format_code("SHORT"), "DT.TLN");
    cr_assert_str_eq(kt_item_format_code("ESSAY"), "DT.TL");
    cr_assert(kt_item_code_valid("VN18.TOAN.10.SDS.01.01.01"));
    cr_assert_not(kt_item_code_valid("MD..B"));
    cr_assert_not(kt_item_code_valid("md.b"));
    cr_assert_not(kt_item_code_valid("MD.B."));
}

Test(item, folded_search_text)
{
    json_t *c = parse("{\"stem\":\"<p>Cho <b>hàm số</b> bậc hai <math><mi>y</mi><mo>=</mo>"
                      "<msup><mi>x</mi><mn>2</mn></msup></math> &amp; Đồ&nbsp;thị&#7855;</p>\","
                      "\"options\":[{\"id\":\"A\",\"html\":\"Đúng <i>vậy</i>\"}],"
                      "\"statements\":[{\"id\":\"a\",\"html\":\"Tập xác định\"}]}");
    char *s = kt_item_search_text("Đồ thị HÀM SỐ", c);
    cr_assert(strstr(s, "do thi ham so"), "%s", s);
    cr_assert(strstr(s, "cho ham so bac hai"), "%s", s);
    cr_assert(strstr(s, "y = x 2"), "%s", s);
    cr_assert(strstr(s, "& do thia"), "%s", s);
    cr_assert(strstr(s, "dung vay"), "%s", s);
    cr_assert(strstr(s, "tap xac dinh"), "%s", s);
    cr_assert_null(strstr(s, "<"), "%s", s);
    free(s);
    json_decref(c);
    char *q = kt_item_fold_query("Hàm Số  bậc hai");
    cr_assert_str_eq(q, "ham so bac hai");
    free(q);
}

Test(item, html_outside_the_allow_list_is_a_problem_of_its_field)
{
    json_t *it = parse(mcq4);
    json_object_set_new(it, "stem", json_string("<p>Câu hỏi</p><script>alert(1)</script>"));
    json_object_set_new(json_array_get(json_object_get(it, "options"), 1), "html",
                        json_string("<img src=\"a.png\" onerror=\"alert(1)\">"));
    json_object_set_new(it, "explanation", json_string("<p style=\"position:fixed\">vì</p>"));
    kt_item_normalize(it);
    /* Refused HTML is left as written, for the teacher to see and fix. */
    cr_assert(strstr(json_string_value(json_object_get(it, "stem")), "<script>"));
    json_t *problems = kt_item_validate(it);
    cr_assert_eq(json_array_size(problems), 3);
    cr_assert(has_problem(problems, "stem"));
    cr_assert(has_problem(problems, "options[1].html"));
    cr_assert(has_problem(problems, "explanation"));
    const char *m = json_string_value(json_object_get(json_array_get(problems, 0), "message"));
    cr_assert(strstr(m, "<script>"), "%s", m);
    json_decref(problems);
    json_decref(it);

    it = parse("{" COMMON "\"kind\":\"ESSAY\",\"stem\":\"<p>Chứng minh</p>\","
               "\"rubric\":[{\"criterion\":\"Đúng\",\"points\":\"1\"}],"
               "\"model_answer\":\"<iframe src=x></iframe>\"}");
    problems = kt_item_validate(it);
    cr_assert(has_problem(problems, "model_answer"));
    json_decref(problems);
    json_decref(it);

    it = parse("{" COMMON "\"kind\":\"TF4\",\"stem\":\"<p>Cho</p>\",\"statements\":["
               "{\"id\":\"a\",\"html\":\"a\",\"key\":true},{\"id\":\"b\",\"html\":\"b\",\"key\":true},"
               "{\"id\":\"c\",\"html\":\"<a href='javascript:1'>c</a>\",\"key\":true},"
               "{\"id\":\"d\",\"html\":\"d\",\"key\":true}]}");
    problems = kt_item_validate(it);
    cr_assert(has_problem(problems, "statements[2].html"));
    json_decref(problems);
    json_decref(it);
}

Test(item, normalize_writes_html_in_its_canonical_form)
{
    json_t *it = parse(mcq4);
    json_object_set_new(it, "stem", json_string("<P>AB > BC<br><!-- ghi chú --></P>"));
    json_object_set_new(json_array_get(json_object_get(it, "options"), 0), "html",
                        json_string("a&#768; &nbsp;"));
    kt_item_normalize(it);
    cr_assert_str_eq(json_string_value(json_object_get(it, "stem")), "<p>AB &gt; BC<br/></p>");
    cr_assert_str_eq(
        json_string_value(json_object_get(json_array_get(json_object_get(it, "options"), 0), "html")),
        "à \u00a0");
    json_t *problems = kt_item_validate(it);
    cr_assert_eq(json_array_size(problems), 0);
    json_decref(problems);
    json_decref(it);
}

Test(item, html_problems_of_a_stored_version)
{
    /* A version stored before the allow-list: only its HTML is judged. */
    json_t *it = parse("{\"stem\":\"<p>2 + 2</p><script>alert(1)</script>\","
                       "\"options\":[{\"id\":\"A\",\"html\":\"3\"},"
                       "{\"id\":\"B\",\"html\":\"<img src=x.png onerror=alert(1)>\"}],"
                       "\"explanation\":\"<iframe></iframe>\",\"key\":\"Z\"}");
    json_t *problems = kt_item_html_problems(it);
    cr_assert_eq(json_array_size(problems), 3);
    cr_assert(has_problem(problems, "stem"));
    cr_assert(has_problem(problems, "options[1].html"));
    cr_assert(has_problem(problems, "explanation"));
    const char *m = json_string_value(json_object_get(json_array_get(problems, 0), "message"));
    cr_assert(strstr(m, "<script>"), "%s", m);
    json_decref(problems);
    json_decref(it);

    /* Allowed markup in any spelling passes, and so does what is no HTML. */
    it = parse("{\"stem\":\"<P>AB<BR></P>\",\"statements\":[{\"id\":\"a\",\"html\":\"x<sup>2</sup>\"}],"
               "\"model_answer\":7,\"qti_version\":\"2.2\"}");
    problems = kt_item_html_problems(it);
    cr_assert_eq(json_array_size(problems), 0);
    json_decref(problems);
    json_decref(it);
}

/* The LaTeX source KaTeX keeps in <annotation> is not searched: "frac"
 * finds nothing, the formula's own text does. */
Test(item, search_text_leaves_out_the_tex_annotation)
{
    json_t *c = parse("{\"stem\":\"<p>Tính <math><semantics><mrow><mfrac><mi>a</mi><mi>b</mi>"
                      "</mfrac></mrow><annotation encoding=\\\"application/x-tex\\\">\\\\frac{a}"
                      "{b}</annotation></semantics></math> rồi rút gọn</p>\"}");
    char *s = kt_item_search_text("Phân số", c);
    cr_assert(strstr(s, "tinh a b roi rut gon"), "%s", s);
    cr_assert_null(strstr(s, "frac"), "%s", s);
    cr_assert_null(strstr(s, "annotation"), "%s", s);
    free(s);
    json_decref(c);
}

Test(item, media_types_by_their_first_bytes)
{
    cr_assert_str_eq(kt_media_sniff("\x89PNG\r\n\x1a\n\0\0", 10), "image/png");
    cr_assert_str_eq(kt_media_sniff("\xff\xd8\xff\xe0", 4), "image/jpeg");
    cr_assert_str_eq(kt_media_sniff("GIF89a..", 8), "image/gif");
    cr_assert_str_eq(kt_media_sniff("RIFF\x10\0\0\0WEBPVP8 ", 16), "image/webp");
    cr_assert_null(kt_media_sniff("<svg xmlns=", 11));
    cr_assert_null(kt_media_sniff("\x89PN", 3));
    cr_assert_null(kt_media_sniff("RIFF\x10\0\0\0WAVE", 12));
    cr_assert(kt_media_type_ok("image/webp") && !kt_media_type_ok("image/svg+xml") &&
              !kt_media_type_ok(NULL));
    const char *h = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    char p[100];
    snprintf(p, sizeof p, "media/%s.png", h);
    cr_assert(kt_media_path_valid(p));
    snprintf(p, sizeof p, "media/%s.svg", h);
    cr_assert_not(kt_media_path_valid(p));
    snprintf(p, sizeof p, "media/%.63s.png", h);
    cr_assert_not(kt_media_path_valid(p));
    cr_assert_not(kt_media_path_valid("media/../x.png"));
}

Test(item, media_refs_name_their_fields)
{
    json_t *it = parse(
        "{\"stem\":\"<p>src=\\\"media/x\\\" <img src=\\\"media/aa.png\\\" alt=\\\"h\\\"/>"
        "<img alt=\\\"\\\" src=\\\"hinh1.png\\\"/></p>\","
        "\"options\":[{\"id\":\"A\",\"html\":\"<img src=\\\"media/bb.jpg\\\"/>\"},"
        "{\"id\":\"B\",\"html\":\"<img src=\\\"media/aa.png\\\"/>\"}],"
        "\"explanation\":\"<img src=\\\"media/cc.gif\\\"/>\"}");
    json_t *r = kt_item_media_refs(it);
    char *d = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
    cr_assert_str_eq(d, "[{\"field\":\"stem\",\"path\":\"media/aa.png\"},"
                        "{\"field\":\"explanation\",\"path\":\"media/cc.gif\"},"
                        "{\"field\":\"options[0].html\",\"path\":\"media/bb.jpg\"}]");
    free(d);
    json_decref(r);
    json_decref(it);
}

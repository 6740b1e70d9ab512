/*
 * Unit tests for itembank/docx_write.c: MathML to OMML, the package (a zip
 * with its parts, each well-formed XML read back with libxml2), the layout
 * (header, "Câu N.", options, the 2025 parts, the answer key table on its
 * own page, pictures) and the round trip through the reader of
 * itembank/docx.c: the same questions and the same keys.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <zip.h>

#include "docx.h"
#include "docx_write.h"

/* ---- MathML to OMML ---------------------------------------------------- */

static char *omml;

static void
omml_fini(void)
{
    free(omml);
    omml = NULL;
}

TestSuite(omml_write, .fini = omml_fini);

static const char *
conv(const char *mathml)
{
    free(omml);
    omml = kt_mathml_to_omml(mathml);
    cr_assert(omml, "not converted: %s", mathml);
    return omml;
}

#define HAS(s, sub) cr_expect(strstr((s), (sub)), "%s\nlacks\n%s", (s), (sub))
#define HASNT(s, sub) cr_expect(!strstr((s), (sub)), "%s\nhas\n%s", (s), (sub))

Test(omml_write, tokens)
{
    const char *o = conv("<math><mi>x</mi><mo>+</mo><mn>3</mn><mi>sin</mi><mtext>khi</mtext></math>");
    HAS(o, "<m:oMath><m:r><m:t xml:space=\"preserve\">x</m:t></m:r>");
    HAS(o, "<m:r><m:rPr><m:sty m:val=\"p\"/></m:rPr><m:t xml:space=\"preserve\">+</m:t></m:r>");
    HAS(o, "<m:sty m:val=\"p\"/></m:rPr><m:t xml:space=\"preserve\">3</m:t>");
    HAS(o, "<m:sty m:val=\"p\"/></m:rPr><m:t xml:space=\"preserve\">sin</m:t>");
    HAS(o, "<m:rPr><m:nor/></m:rPr><m:t xml:space=\"preserve\">khi</m:t>");
    cr_expect(strcmp(o + strlen(o) - 10, "</m:oMath>") == 0, "%s", o);
    o = conv("<math><mo>&lt;</mo></math>");
    HAS(o, "&lt;</m:t>");
}

Test(omml_write, fractions_roots_scripts)
{
    const char *o = conv("<math><mfrac><mn>1</mn><mrow><mi>x</mi><mo>+</mo><mn>1</mn></mrow>"
                         "</mfrac></math>");
    HAS(o, "<m:f><m:num><m:r><m:rPr><m:sty m:val=\"p\"/></m:rPr><m:t xml:space=\"preserve\">1"
           "</m:t></m:r></m:num><m:den><m:r><m:t xml:space=\"preserve\">x</m:t></m:r>");
    o = conv("<math><mfrac linethickness=\"0\"><mi>n</mi><mi>k</mi></mfrac></math>");
    HAS(o, "<m:f><m:fPr><m:type m:val=\"noBar\"/></m:fPr>");
    o = conv("<math><msqrt><mn>2</mn></msqrt></math>");
    HAS(o, "<m:rad><m:radPr><m:degHide m:val=\"1\"/></m:radPr><m:deg/><m:e><m:r>");
    o = conv("<math><mroot><mi>x</mi><mn>3</mn></mroot></math>");
    HAS(o, "<m:rad><m:deg><m:r><m:rPr><m:sty m:val=\"p\"/></m:rPr><m:t xml:space=\"preserve\">3"
           "</m:t></m:r></m:deg><m:e><m:r><m:t xml:space=\"preserve\">x</m:t></m:r></m:e></m:rad>");
    o = conv("<math><msup><mi>x</mi><mn>2</mn></msup></math>");
    HAS(o, "<m:sSup><m:e><m:r><m:t xml:space=\"preserve\">x</m:t></m:r></m:e><m:sup>");
    o = conv("<math><msub><mi>a</mi><mi>n</mi></msub></math>");
    HAS(o, "<m:sSub><m:e><m:r><m:t xml:space=\"preserve\">a</m:t></m:r></m:e><m:sub>");
    o = conv("<math><msubsup><mi>x</mi><mn>1</mn><mn>2</mn></msubsup></math>");
    HAS(o, "<m:sSubSup><m:e>");
    HAS(o, "</m:sub><m:sup>");
}

Test(omml_write, under_over_nary)
{
    const char *o = conv("<math><munder><mi>lim</mi><mrow><mi>x</mi><mo>→</mo><mn>0</mn></mrow>"
                         "</munder></math>");
    HAS(o, "<m:limLow><m:e>");
    HAS(o, "</m:e><m:lim>");
    o = conv("<math><mover><mi>AB</mi><mo>→</mo></mover></math>");
    HAS(o, "<m:acc><m:accPr><m:chr m:val=\"→\"/></m:accPr><m:e>");
    o = conv("<math><mover><mi>x</mi><mi>k</mi></mover></math>");
    HAS(o, "<m:limUpp><m:e>");
    o = conv("<math><munderover><mi>A</mi><mi>b</mi><mi>c</mi></munderover></math>");
    HAS(o, "<m:limUpp><m:e><m:limLow><m:e>");
    /* a large operator takes the next element as its operand */
    o = conv("<math><munderover><mo>∑</mo><mrow><mi>k</mi><mo>=</mo><mn>1</mn></mrow><mi>n</mi>"
             "</munderover><msup><mi>k</mi><mn>2</mn></msup><mo>+</mo><mn>1</mn></math>");
    HAS(o, "<m:nary><m:naryPr><m:chr m:val=\"∑\"/><m:limLoc m:val=\"undOvr\"/></m:naryPr><m:sub>");
    HAS(o, "</m:sup><m:e><m:sSup>");
    HAS(o, "</m:sSup></m:e></m:nary><m:r>");
    o = conv("<math><msubsup><mo>∫</mo><mn>0</mn><mn>1</mn></msubsup><mi>x</mi></math>");
    HAS(o, "<m:chr m:val=\"∫\"/><m:limLoc m:val=\"subSup\"/>");
    o = conv("<math><msub><mo>∑</mo><mi>i</mi></msub></math>");
    HAS(o, "<m:supHide m:val=\"1\"/></m:naryPr>");
    HAS(o, "<m:e></m:e></m:nary>");
}

Test(omml_write, fences_tables_semantics)
{
    const char *o = conv("<math><mi>f</mi><mo fence=\"true\">(</mo><mi>x</mi><mo separator=\"true\">;"
                         "</mo><mi>y</mi><mo fence=\"true\">)</mo></math>");
    HAS(o, "<m:d><m:dPr><m:begChr m:val=\"(\"/><m:sepChr m:val=\";\"/><m:endChr m:val=\")\"/>"
           "</m:dPr><m:e><m:r><m:t xml:space=\"preserve\">x</m:t></m:r></m:e><m:e>");
    /* nested fences and an interval closing with another bracket */
    o = conv("<math><mo fence=\"true\">[</mo><mn>0</mn><mo>;</mo><mo fence=\"true\">(</mo><mn>1</mn>"
             "<mo fence=\"true\">)</mo><mo fence=\"true\">)</mo></math>");
    HAS(o, "<m:begChr m:val=\"[\"/><m:endChr m:val=\")\"/></m:dPr><m:e>");
    HAS(o, "<m:begChr m:val=\"(\"/><m:endChr m:val=\")\"/>");
    o = conv("<math><mo fence=\"true\">|</mo><mi>x</mi><mo fence=\"true\">|</mo></math>");
    HAS(o, "<m:begChr m:val=\"|\"/><m:endChr m:val=\"|\"/>");
    /* a bracket without its pair stays a character; brackets pair when
     * not marked too; a bar that is no fence is U+2223 */
    o = conv("<math><mo fence=\"true\">{</mo><mi>x</mi><mo>(</mo></math>");
    HASNT(o, "<m:d>");
    o = conv("<math><mo>{</mo><mi>x</mi><mo>|</mo><mi>x</mi><mo>&lt;</mo><mn>4</mn><mo>}</mo>"
             "</math>");
    HAS(o, "<m:d><m:dPr><m:begChr m:val=\"{\"/><m:endChr m:val=\"}\"/></m:dPr><m:e>");
    HAS(o, ">∣</m:t>");
    o = conv("<math><mtable><mtr><mtd><mn>1</mn></mtd><mtd><mn>2</mn></mtd></mtr>"
             "<mtr><mtd><mn>3</mn></mtd></mtr></mtable></math>");
    HAS(o, "<m:m><m:mPr><m:mcs><m:mc><m:mcPr><m:count m:val=\"2\"/>");
    HAS(o, "<m:mr><m:e><m:r>");
    HAS(o, "</m:e><m:e/></m:mr></m:m>");
    o = conv("<math><semantics><mrow><mi>y</mi></mrow><annotation encoding=\"application/x-tex\">"
             "y_TEX</annotation></semantics></math>");
    HAS(o, ">y</m:t>");
    HASNT(o, "TEX");
    cr_expect_null(kt_mathml_to_omml("<math><mi>x</mi>"));
}

/* ---- the document -------------------------------------------------------- */

/* A 2x1 PNG. */
static const unsigned char PNG[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x7b, 0x40, 0xe8,
    0xdd, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0x00,
    0x44, 0x00, 0x08, 0xfe, 0x01, 0xff, 0xc6, 0x9e, 0x79, 0xf7, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
#define IMG_PATH "media/0000000000000000000000000000000000000000000000000000000000000000.png"

/* A form preview as GET /api/v1/tests/{id}/forms/{code} gives it: parts
 * I (two single choice), II (one Đúng/Sai), III (two short answers). */
static const char FORM_2025[] =
    "{\"test_id\": 7, \"title\": \"Kiểm tra giữa kì I\", \"subject\": \"TOAN\", \"grade\": 10,"
    " \"kind\": \"giua_ky\", \"duration_seconds\": 2700, \"form_code\": \"123\","
    " \"form_codes\": [\"123\", \"456\"], \"total_points\": \"3\","
    " \"parts\": [{\"part\": 1, \"format\": \"DT.NLC\", \"title\": \"Phần I. Trắc nghiệm nhiều"
    " lựa chọn\", \"points\": \"0.5\"}, {\"part\": 2, \"format\": \"DT.DS\", \"title\": \"Phần"
    " II. Trắc nghiệm đúng sai\", \"points\": \"1\"}, {\"part\": 3, \"format\": \"DT.TLN\","
    " \"title\": \"Phần III. Trắc nghiệm trả lời ngắn\", \"points\": \"1.5\"}],"
    " \"items\": ["
    "  {\"ref\": \"c1\", \"number\": 1, \"part\": 1, \"kind\": \"MCQ4\", \"points\": \"0.25\","
    "   \"stem\": \"<p>Giá trị của <math><mfrac><mn>1</mn><mn>2</mn></mfrac><mo>+</mo>"
    "<msqrt><mn>4</mn></msqrt></math> là</p>\","
    "   \"options\": [{\"id\": \"B\", \"html\": \"<math><mn>2</mn></math>\"}, {\"id\": \"D\","
    " \"html\": \"<math><mn>2,5</mn></math>\"}, {\"id\": \"A\", \"html\": \"<math><mn>3</mn>"
    "</math>\"}, {\"id\": \"C\", \"html\": \"<math><mn>1</mn></math>\"}],"
    "   \"key\": \"D\", \"key_shown\": \"B\"},"
    "  {\"ref\": \"c2\", \"number\": 2, \"part\": 1, \"kind\": \"MCQ4\", \"points\": \"0.25\","
    "   \"stem\": \"<p>Hình vẽ bên là đồ thị hàm số nào?</p><p><img src=\\\"" IMG_PATH
    "\\\" alt=\\\"\\\"/></p><table><tbody><tr><td>x</td><td>0</td></tr><tr><td>y</td>"
    "<td><b>1</b></td></tr></tbody></table>\","
    "   \"options\": [{\"id\": \"A\", \"html\": \"Hàm số <i>bậc nhất</i> có hệ số góc dương và đi"
    " qua gốc tọa độ\"}, {\"id\": \"B\", \"html\": \"Hàm số bậc hai có đồ thị là parabol quay"
    " bề lõm lên trên\"}, {\"id\": \"C\", \"html\": \"<p>Hàm số y = x<sup>3</sup></p>\"},"
    " {\"id\": \"D\", \"html\": \"Hàm hằng\"}], \"key\": \"A\", \"key_shown\": \"A\"},"
    "  {\"ref\": \"c3\", \"number\": 3, \"part\": 2, \"kind\": \"TF4\", \"points\": \"1\","
    "   \"stem\": \"<p>Cho tập hợp <math><mi>A</mi><mo>=</mo><mo fence=\\\"true\\\">{</mo><mn>1</mn>"
    "<mo separator=\\\"true\\\">;</mo><mn>2</mn><mo fence=\\\"true\\\">}</mo></math>.</p>\","
    "   \"statements\": [{\"id\": \"c\", \"html\": \"<math><mn>1</mn><mo>∈</mo><mi>A</mi></math>\"},"
    " {\"id\": \"a\", \"html\": \"A có 3 phần tử.\"}, {\"id\": \"d\", \"html\": \"A khác rỗng.\"},"
    " {\"id\": \"b\", \"html\": \"<math><mn>3</mn><mo>∈</mo><mi>A</mi></math>\"}],"
    "   \"statement_keys\": {\"a\": false, \"b\": false, \"c\": true, \"d\": true},"
    "   \"key_shown\": {\"a\": true, \"b\": false, \"c\": true, \"d\": false}},"
    "  {\"ref\": \"c4\", \"number\": 4, \"part\": 3, \"kind\": \"SHORT\", \"points\": \"0.75\","
    "   \"stem\": \"<p>Tính <math><mn>5</mn><mo>:</mo><mn>2</mn></math>.</p>\","
    "   \"key\": \"2.5\", \"key_shown\": \"2.5\"},"
    "  {\"ref\": \"c5\", \"number\": 5, \"part\": 3, \"kind\": \"SHORT\", \"points\": \"0.75\","
    "   \"stem\": \"<p>Tập hợp <math><mo fence=\\\"true\\\">{</mo><mn>0</mn><mo separator=\\\"true\\\">"
    ";</mo><mn>1</mn><mo fence=\\\"true\\\">}</mo></math> có bao nhiêu tập con?</p>\","
    "   \"key\": \"4\", \"key_shown\": \"4\"}"
    " ]}";

struct pkg {
    void *buf;
    size_t len;
    zip_t *zip;
    zip_source_t *src;
};

static struct pkg pk;
static json_t *form;

static void
doc_fini(void)
{
    if (pk.zip)
        zip_discard(pk.zip);
    free(pk.buf);
    memset(&pk, 0, sizeof(pk));
    json_decref(form);
    form = NULL;
}

TestSuite(docx_write, .fini = doc_fini);

static const kt_docx_asset ASSETS[] = {{IMG_PATH, "image/png", PNG, sizeof(PNG)}};

static void
write(const char *json, const kt_docx_asset *assets, size_t n)
{
    json_error_t e;
    json_decref(form);
    form = json_loads(json, 0, &e);
    cr_assert(form, "fixture: %s line %d", e.text, e.line);
    kt_docx_header h = {"Trường THPT Chu Văn An", "Toán"};
    free(pk.buf);
    pk.buf = kt_docx_write_form(form, &h, assets, n, &pk.len);
    cr_assert(pk.buf && pk.len > 100);
    zip_error_t ze;
    zip_error_init(&ze);
    pk.src = zip_source_buffer_create(pk.buf, pk.len, 0, &ze);
    cr_assert(pk.src);
    pk.zip = zip_open_from_source(pk.src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
    cr_assert(pk.zip, "not a zip: %s", zip_error_strerror(&ze));
    zip_error_fini(&ze);
}

/* A part's bytes (NUL-terminated), malloc'd; NULL when absent. */
static char *
part(const char *name, size_t *len)
{
    zip_stat_t st;
    if (zip_stat(pk.zip, name, 0, &st) != 0)
        return NULL;
    zip_file_t *f = zip_fopen(pk.zip, name, 0);
    cr_assert(f);
    char *b = malloc(st.size + 1);
    cr_assert(zip_fread(f, b, st.size) == (zip_int64_t)st.size);
    zip_fclose(f);
    b[st.size] = '\0';
    if (len)
        *len = st.size;
    return b;
}

/* The part parsed with libxml2 (well-formed, namespaces declared). */
static xmlDoc *
xml_part(const char *name)
{
    size_t len;
    char *b = part(name, &len);
    cr_assert(b, "missing part %s", name);
    xmlDoc *d = xmlReadMemory(b, (int)len, name, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
                                                         XML_PARSE_NOWARNING);
    free(b);
    cr_assert(d, "%s is not well-formed XML", name);
    return d;
}

/* The text of every w:p of the body in order, one line each. */
static void
para_texts(xmlNode *n, kt_docx_header *unused, char **out, size_t *len, size_t *cap)
{
    for (xmlNode *c = n; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp((const char *)c->name, "p") == 0) {
            xmlChar *t = xmlNodeGetContent(c);
            size_t l = strlen((char *)t);
            if (*len + l + 2 > *cap) {
                *cap = (*len + l + 2) * 2;
                *out = realloc(*out, *cap);
            }
            memcpy(*out + *len, t, l);
            *len += l;
            (*out)[(*len)++] = '\n';
            (*out)[*len] = '\0';
            xmlFree(t);
            continue;
        }
        para_texts(c->children, unused, out, len, cap);
    }
}

static char *
document_text(void)
{
    xmlDoc *d = xml_part("word/document.xml");
    char *out = NULL;
    size_t len = 0, cap = 0;
    para_texts(xmlDocGetRootElement(d), NULL, &out, &len, &cap);
    xmlFreeDoc(d);
    return out;
}

Test(docx_write, package_parts_are_well_formed)
{
    write(FORM_2025, ASSETS, 1);
    const char *names[] = {"[Content_Types].xml", "_rels/.rels", "word/document.xml",
                           "word/styles.xml", "word/_rels/document.xml.rels"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        xmlFreeDoc(xml_part(names[i]));
    /* the picture is a part, named by the document's relationships */
    size_t len = 0;
    char *img = part("word/media/image2.png", &len);
    cr_assert(img, "the picture is missing");
    cr_expect_eq(len, sizeof(PNG));
    cr_expect(memcmp(img, PNG, len) == 0);
    free(img);
    char *rels = part("word/_rels/document.xml.rels", NULL);
    HAS(rels, "Id=\"rId2\"");
    HAS(rels, "Target=\"media/image2.png\"");
    free(rels);
    char *doc = part("word/document.xml", NULL);
    HAS(doc, "<a:blip r:embed=\"rId2\"/>");
    HAS(doc, "<m:oMath><m:f><m:num>");
    HAS(doc, "<w:br w:type=\"page\"/>");
    HAS(doc, "<w:tbl>");
    free(doc);
    cr_expect_eq(zip_get_num_entries(pk.zip, 0), 6);
}

Test(docx_write, layout_and_key_table)
{
    write(FORM_2025, ASSETS, 1);
    char *t = document_text();
    HAS(t, "Trường THPT Chu Văn An\n");
    HAS(t, "Mã đề: 123\n");
    HAS(t, "Kiểm tra giữa kì I\n");
    HAS(t, "Môn: Toán – Lớp 10\n");
    HAS(t, "Thời gian làm bài: 45 phút");
    HAS(t, "PHẦN I. Câu trắc nghiệm nhiều phương án lựa chọn (0,5 điểm)\n");
    HAS(t, "Câu 1. Giá trị của 12+4 là\n");
    /* short options on one line, separated by tabs (w:tab has no text) */
    HAS(t, "A. 2B. 2,5C. 3D. 1\n");
    HAS(t, "Câu 2. Hình vẽ bên là đồ thị hàm số nào?\n");
    HAS(t, "A. Hàm số bậc nhất có hệ số góc dương và đi qua gốc tọa độ\n");
    HAS(t, "C. Hàm số y = x3\n");
    HAS(t, "PHẦN II. Câu trắc nghiệm đúng sai (1 điểm)\nCâu 1. Cho tập hợp A=12.\n");
    HAS(t, "a) 1∈A\nb) A có 3 phần tử.\n");
    HAS(t, "PHẦN III. Câu trắc nghiệm trả lời ngắn (1,5 điểm)\nCâu 1. Tính 5:2.\n");
    HAS(t, "Câu 2. Tập hợp 01 có bao nhiêu tập con?\n");
    HAS(t, "HẾT");
    /* the key, after the page break */
    const char *key = strstr(t, "MÃ ĐỀ 123\nĐÁP ÁN\n");
    cr_assert(key, "%s", t);
    HAS(key, "PHẦN I\nCâu\n1\n2\n");
    HAS(key, "Đáp án\nB\nA\n");
    HAS(key, "PHẦN II\nCâu\na\nb\nc\nd\n1\nĐ\nS\nĐ\nS\n");
    HAS(key, "PHẦN III\nCâu\n1\n2\n");
    HAS(key, "Đáp án\n2,5\n4\n");
    free(t);
}

Test(docx_write, round_trip_through_the_reader)
{
    write(FORM_2025, ASSETS, 1);
    kt_docx_result r;
    cr_assert_eq(kt_docx_read(pk.buf, pk.len, &r), 0);
    char *problems = json_dumps(r.problems, 0);
    cr_expect_eq(kt_docx_count(&r, "error"), 0, "%s", problems);
    free(problems);
    cr_assert_eq(json_array_size(r.questions), 5);
    const char *kinds[] = {"MCQ4", "MCQ4", "TF4", "SHORT", "SHORT"};
    const int parts[] = {1, 1, 2, 3, 3}, numbers[] = {1, 2, 1, 1, 2};
    for (size_t i = 0; i < 5; i++) {
        json_t *q = json_array_get(r.questions, i), *it = json_object_get(q, "item");
        cr_expect_str_eq(json_string_value(json_object_get(it, "kind")), kinds[i]);
        cr_expect_eq(json_integer_value(json_object_get(q, "part")), parts[i]);
        cr_expect_eq(json_integer_value(json_object_get(q, "number")), numbers[i]);
    }
    json_t *q = json_object_get(json_array_get(r.questions, 0), "item");
    cr_expect_str_eq(json_string_value(json_object_get(q, "key")), "B");
    cr_expect(strstr(json_string_value(json_object_get(q, "stem")), "<mfrac>"));
    q = json_object_get(json_array_get(r.questions, 1), "item");
    cr_expect_str_eq(json_string_value(json_object_get(q, "key")), "A");
    cr_expect(strstr(json_string_value(json_object_get(q, "stem")), "<table>"));
    cr_expect_eq(r.nimages, 1);
    q = json_object_get(json_array_get(r.questions, 2), "item");
    const int tf[] = {1, 0, 1, 0};
    for (size_t s = 0; s < 4; s++)
        cr_expect_eq(json_is_true(json_object_get(
                         json_array_get(json_object_get(q, "statements"), s), "key")),
                     tf[s], "statement %zu", s);
    q = json_object_get(json_array_get(r.questions, 3), "item");
    cr_expect_str_eq(json_string_value(json_object_get(q, "key")), "2.5");
    q = json_object_get(json_array_get(r.questions, 4), "item");
    cr_expect_str_eq(json_string_value(json_object_get(q, "key")), "4");
    kt_docx_result_free(&r);
}

/* Every kind in the 2025 layout, with a multiple-response key, an essay's
 * rubric and explanations: all of it comes back through the reader. */
static const char FORM_EVERY_KIND[] =
    "{\"title\": \"Khứ hồi\", \"subject\": \"TOAN\", \"grade\": 10, \"duration_seconds\": 2700,"
    " \"form_code\": \"101\","
    " \"parts\": [{\"part\": 1}, {\"part\": 2}, {\"part\": 3}, {\"part\": 4}],"
    " \"items\": ["
    "  {\"part\": 1, \"kind\": \"MR\", \"stem\": \"<p>Chọn các số nguyên tố.</p>\","
    "   \"options\": [{\"id\": \"A\", \"html\": \"2\"}, {\"id\": \"B\", \"html\": \"4\"},"
    " {\"id\": \"C\", \"html\": \"5\"}, {\"id\": \"D\", \"html\": \"9\"},"
    " {\"id\": \"E\", \"html\": \"11\"}],"
    "   \"key_shown\": [\"E\", \"A\", \"C\"],"
    "   \"explanation\": \"<p>Số nguyên tố có đúng hai ước.</p><p>Loại 4 và 9.</p>\"},"
    "  {\"part\": 1, \"kind\": \"MCQ4\", \"stem\": \"<p>Một?</p>\", \"options\": [{\"id\": \"A\","
    " \"html\": \"a\"}, {\"id\": \"B\", \"html\": \"b\"}, {\"id\": \"C\", \"html\": \"c\"},"
    " {\"id\": \"D\", \"html\": \"d\"}], \"key_shown\": \"D\"},"
    "  {\"part\": 2, \"kind\": \"TF4\", \"stem\": \"<p>Cho tam giác ABC vuông tại A.</p>\","
    "   \"statements\": [{\"id\": \"a\", \"html\": \"BC là cạnh huyền\"}, {\"id\": \"b\", \"html\":"
    " \"AB là cạnh huyền\"}, {\"id\": \"c\", \"html\": \"Góc A vuông\"}, {\"id\": \"d\", \"html\":"
    " \"Góc B vuông\"}], \"key_shown\": {\"a\": true, \"b\": false, \"c\": true, \"d\": false}},"
    "  {\"part\": 3, \"kind\": \"SHORT\", \"stem\": \"<p>Tính 5 : 2.</p>\","
    "   \"key_shown\": \"2.5\"},"
    "  {\"part\": 4, \"kind\": \"ESSAY\", \"points\": \"2\","
    "   \"stem\": \"<p>Giải phương trình.</p>\","
    "   \"rubric\": [{\"criterion\": \"Đưa về (x − 1)(x + 1) = 0\", \"points\": \"1.5\"},"
    " {\"criterion\": \"Tìm 2 nghiệm\", \"points\": \"0.5\"}]}"
    " ]}";

Test(docx_write, every_kind_with_rubric_and_explanations_round_trips)
{
    write(FORM_EVERY_KIND, NULL, 0);
    char *t = document_text();
    const char *key = strstr(t, "ĐÁP ÁN\n");
    cr_assert(key, "%s", t);
    HAS(key, "Đáp án\nA, C, E\nD\n");
    HAS(key, "Câu 1. \nLời giải: Số nguyên tố có đúng hai ước.\nLoại 4 và 9.\nPHẦN II\n");
    HAS(key, "PHẦN IV\n");
    HAS(key, "Câu 1 (2 điểm). \nHướng dẫn chấm:\nĐưa về (x − 1)(x + 1) = 0 (1,5 điểm)\n"
             "Tìm 2 nghiệm (0,5 điểm)\n");
    free(t);
    kt_docx_result r;
    cr_assert_eq(kt_docx_read(pk.buf, pk.len, &r), 0);
    char *problems = json_dumps(r.problems, 0);
    cr_expect_eq(json_array_size(r.problems), 0, "%s", problems);
    free(problems);
    cr_assert_eq(json_array_size(r.questions), 5);
    const char *kinds[] = {"MR", "MCQ4", "TF4", "SHORT", "ESSAY"};
    for (size_t i = 0; i < 5; i++)
        cr_expect_str_eq(json_string_value(json_object_get(
                             json_object_get(json_array_get(r.questions, i), "item"), "kind")),
                         kinds[i]);
    json_t *q = json_object_get(json_array_get(r.questions, 0), "item");
    char *k = json_dumps(json_object_get(q, "keys"), JSON_COMPACT);
    cr_expect_str_eq(k, "[\"A\",\"C\",\"E\"]");
    free(k);
    cr_expect_str_eq(json_string_value(json_object_get(q, "explanation")),
                     "<p>Số nguyên tố có đúng hai ước.</p><p>Loại 4 và 9.</p>");
    q = json_object_get(json_array_get(r.questions, 1), "item");
    cr_expect_str_eq(json_string_value(json_object_get(q, "key")), "D");
    cr_expect_null(json_object_get(q, "explanation"));
    q = json_object_get(json_array_get(r.questions, 4), "item");
    k = json_dumps(json_object_get(q, "rubric"), JSON_COMPACT);
    cr_expect_str_eq(k, "[{\"criterion\":\"Đưa về (x − 1)(x + 1) = 0\",\"points\":\"1.5\"},"
                        "{\"criterion\":\"Tìm 2 nghiệm\",\"points\":\"0.5\"}]");
    free(k);
    kt_docx_result_free(&r);
}

/* Items outside the 2025 parts (a multiple-response question before a
 * single choice in one part): numbered through, the part's name without
 * its numeral, the key as letters. An essay says "tự luận". */
static const char FORM_MIXED[] =
    "{\"title\": \"Kiểm tra 15 phút\", \"subject\": \"TOAN\", \"grade\": 10,"
    " \"duration_seconds\": 900, \"form_code\": \"900\","
    " \"parts\": [{\"part\": 1, \"format\": \"X\", \"title\": \"Phần I. Hỗn hợp\"}],"
    " \"items\": ["
    "  {\"ref\": \"c1\", \"part\": 1, \"kind\": \"TF4\", \"stem\": \"<p>Xét các ý.</p>\","
    "   \"statements\": [{\"id\": \"a\", \"html\": \"Một\"}, {\"id\": \"b\", \"html\": \"Hai\"},"
    " {\"id\": \"c\", \"html\": \"Ba\"}, {\"id\": \"d\", \"html\": \"Bốn\"}],"
    "   \"key_shown\": {\"a\": false, \"b\": true, \"c\": false, \"d\": false}},"
    "  {\"ref\": \"c2\", \"part\": 1, \"kind\": \"MR\", \"stem\": \"<p>Chọn các số chẵn.</p>\","
    "   \"options\": [{\"id\": \"A\", \"html\": \"1\"}, {\"id\": \"B\", \"html\": \"2\"},"
    " {\"id\": \"C\", \"html\": \"4\"}], \"key_shown\": [\"B\", \"C\"]},"
    "  {\"ref\": \"c3\", \"part\": 1, \"kind\": \"ESSAY\", \"points\": \"2\","
    "   \"stem\": \"<p>Chứng minh.</p>\"}"
    " ]}";

Test(docx_write, mixed_kinds_and_essay)
{
    write(FORM_MIXED, NULL, 0);
    char *t = document_text();
    HAS(t, "Hỗn hợp\nCâu 1. Xét các ý.\na) Một\n");
    HASNT(t, "PHẦN");
    HAS(t, "Câu 2. Chọn các số chẵn.\nA. 1B. 2C. 4\n");
    HAS(t, "Câu 3 (2 điểm). Chứng minh.\n");
    HAS(t, "Đáp án\nSĐSS\nB, C\ntự luận\n");
    free(t);
}

Test(docx_write, missing_picture_and_empty_form)
{
    write(FORM_2025, NULL, 0); /* the picture is not given: left out */
    cr_expect_eq(zip_get_num_entries(pk.zip, 0), 5);
    char *doc = part("word/document.xml", NULL);
    HASNT(doc, "<w:drawing>");
    free(doc);
    size_t len = 1;
    json_t *empty = json_pack("{s:s,s:[]}", "form_code", "101", "items");
    cr_expect_null(kt_docx_write_form(empty, NULL, NULL, 0, &len));
    cr_expect_eq(len, 0);
    json_decref(empty);
}

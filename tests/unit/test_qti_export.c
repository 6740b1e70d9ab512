/*
 * Unit tests for itembank/qti_export.c: every demo item exported to QTI 2.2
 * and 3.0 and read back with kt_qti_parse (keys, interactions, TF4 score
 * tables, MathML namespace), the kinds' variants and refusals, conversion of
 * the shared corpus to 3.0 and back with the parsed models compared field by
 * field, and packages read back with kt_qti_package_read (assets, tags).
 */
#include <criterion/criterion.h>

#include "corpus_walk.h"
#include <dirent.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zip.h>

#include "item.h"
#include "package.h"
#include "qti.h"
#include "qti_export.h"

#define NS_MATHML "http://www.w3.org/1998/Math/MathML"
#define NS30 "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"

static kt_qti_errors errs;
static kt_qti_doc doc;
static json_t *demo;

static void
setup(void)
{
    kt_qti_errors_init(&errs);
    json_error_t e;
    demo = json_load_file(KIEMTRA_SOURCE_DIR "/demo/items-toan10.json", 0, &e);
    cr_assert(json_is_array(demo), "demo bank: %s", e.text);
}

static void
teardown(void)
{
    kt_qti_doc_free(&doc);
    json_decref(demo);
    kt_qti_errors_free(&errs);
}

TestSuite(qti_export, .init = setup, .fini = teardown);

/* The first errors, for assertion messages. */
static const char *
errors_text(void)
{
    static char buf[2048];
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < errs.n && i < 5 && o < sizeof buf - 1; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "[%s:%ld %s] ", errs.v[i].file,
                              errs.v[i].line, errs.v[i].message);
    return buf;
}

static bool
has_error(const char *needle)
{
    for (size_t i = 0; i < errs.n; i++)
        if (strstr(errs.v[i].message, needle) || strstr(errs.v[i].file, needle))
            return true;
    return false;
}

static json_t *
parse_json(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    cr_assert(j, "bad test JSON: %s", e.text);
    return j;
}

static json_t *
demo_item(const char *id)
{
    size_t i;
    json_t *it;
    json_array_foreach(demo, i, it)
    {
        if (strcmp(json_string_value(json_object_get(it, "identifier")), id) == 0)
            return it;
    }
    cr_assert_fail("demo item %s missing", id);
    return NULL;
}

static char *
export_ok(const json_t *item, const char *version)
{
    char *xml = kt_qti_from_item(item, version, &errs);
    cr_assert_not_null(xml, "%s %s: %s", json_string_value(json_object_get(item, "identifier")),
                       version, errors_text());
    return xml;
}

static kt_qti_item *
parse_ok(const char *xml)
{
    kt_qti_doc_free(&doc);
    cr_assert_eq(kt_qti_parse(xml, strlen(xml), "out.xml", &doc, &errs), 0, "%s\n%s", errors_text(),
                 xml);
    cr_assert_not_null(doc.item);
    return doc.item;
}

static const kt_qti_decl *
outcome(const kt_qti_item *it, const char *id)
{
    for (size_t i = 0; i < it->noutcomes; i++)
        if (strcmp(it->outcomes[i].identifier, id) == 0)
            return &it->outcomes[i];
    return NULL;
}

/* ---- XML helpers ----------------------------------------------------------- */

static xmlDoc *
read_xml(const char *xml)
{
    xmlDoc *d = kt_qti_xml_read(xml, strlen(xml), "out.xml", &errs);
    cr_assert_not_null(d, "%s", errors_text());
    return d;
}

/* Elements named name (2.x) or qti_name (3.0), in document order. */
static void
collect(xmlNode *n, const char *name, const char *qti_name, xmlNode **out, size_t *count,
        size_t max)
{
    for (xmlNode *x = n; x; x = x->next) {
        if (x->type != XML_ELEMENT_NODE)
            continue;
        if ((xmlStrEqual(x->name, BAD_CAST name) || xmlStrEqual(x->name, BAD_CAST qti_name)) &&
            *count < max)
            out[(*count)++] = x;
        collect(x->children, name, qti_name, out, count, max);
    }
}

static char *
prop(xmlNode *n, const char *a, const char *b)
{
    xmlChar *v = xmlGetProp(n, BAD_CAST a);
    if (!v)
        v = xmlGetProp(n, BAD_CAST b);
    return (char *)v;
}

/* TF4: the matchTable targets in sourceValue order 0..n-1. */
static size_t
match_table(const char *xml, char values[8][16])
{
    xmlDoc *d = read_xml(xml);
    xmlNode *e[8];
    size_t n = 0;
    collect(xmlDocGetRootElement(d), "matchTableEntry", "qti-match-table-entry", e, &n, 8);
    for (size_t i = 0; i < n; i++) {
        char *src = prop(e[i], "sourceValue", "source-value");
        char *dst = prop(e[i], "targetValue", "target-value");
        cr_assert_eq(atoi(src), (int)i);
        snprintf(values[i], sizeof values[i], "%s", dst);
        xmlFree(src);
        xmlFree(dst);
    }
    xmlFreeDoc(d);
    return n;
}

static size_t
count_substr(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *p = s ? strstr(s, needle) : NULL; p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Every <math> and everything inside it is MathML; returns the <math> count. */
static size_t
check_mathml(xmlNode *n, bool in_math)
{
    size_t count = 0;
    for (xmlNode *x = n; x; x = x->next) {
        if (x->type != XML_ELEMENT_NODE)
            continue;
        bool math = xmlStrEqual(x->name, BAD_CAST "math");
        if (math || in_math)
            cr_assert(x->ns && xmlStrEqual(x->ns->href, BAD_CAST NS_MATHML), "%s not MathML",
                      (const char *)x->name);
        count += math;
        count += check_mathml(x->children, in_math || math);
    }
    return count;
}

static size_t
math_in_item(const json_t *item)
{
    static const char *const fields[] = {"stem", "explanation", "model_answer"};
    size_t n = 0, i;
    json_t *o;
    for (size_t f = 0; f < 3; f++)
        n += count_substr(json_string_value(json_object_get(item, fields[f])), "<math>");
    static const char *const lists[] = {"options", "statements"};
    for (size_t l = 0; l < 2; l++) {
        json_array_foreach(json_object_get(item, lists[l]), i, o)
        {
            n += count_substr(json_string_value(json_object_get(o, "html")), "<math>");
        }
    }
    return n;
}

/* ---- demo items ---------------------------------------------------------- */

static const char *
interaction_type(const char *kind)
{
    if (strcmp(kind, "TF4") == 0)
        return "match";
    if (strcmp(kind, "SHORT") == 0)
        return "textEntry";
    if (strcmp(kind, "ESSAY") == 0)
        return "extendedText";
    return "choice";
}

/* correctResponse values the item's key gives. */
static size_t
expected_correct(const json_t *item, char values[8][16])
{
    const char *kind = json_string_value(json_object_get(item, "kind"));
    size_t n = 0, i;
    json_t *v;
    if (strcmp(kind, "MCQ4") == 0 || strcmp(kind, "SHORT") == 0)
        snprintf(values[n++], 16, "%s", json_string_value(json_object_get(item, "key")));
    json_array_foreach(json_object_get(item, "keys"), i, v)
        snprintf(values[n++], 16, "%s", json_string_value(v));
    json_array_foreach(json_object_get(item, "statements"), i, v)
        snprintf(values[n++], 16, "%s %s", json_string_value(json_object_get(v, "id")),
                 json_is_true(json_object_get(v, "key")) ? "DUNG" : "SAI");
    return n;
}

static void
check_declarations(const json_t *item, const kt_qti_item *it)
{
    static const char *const shapes[][3] = {{"MCQ4", "single", "identifier"},
                                            {"MR", "multiple", "identifier"},
                                            {"TF4", "multiple", "directedPair"},
                                            {"SHORT", "single", "float"},
                                            {"ESSAY", "single", "string"}};
    const char *kind = json_string_value(json_object_get(item, "kind"));
    char want[8][16];
    size_t n = expected_correct(item, want);
    cr_assert_eq(it->nresponses, 1);
    const kt_qti_decl *r = &it->responses[0];
    cr_assert_str_eq(r->identifier, "RESPONSE");
    for (size_t i = 0; i < 5; i++)
        if (strcmp(shapes[i][0], kind) == 0) {
            cr_assert_str_eq(r->cardinality, shapes[i][1], "%s", it->identifier);
            cr_assert_str_eq(r->base_type, shapes[i][2], "%s", it->identifier);
        }
    cr_assert_eq(r->ncorrect, n, "%s", it->identifier);
    for (size_t i = 0; i < n; i++)
        cr_assert_str_eq(r->correct[i], want[i], "%s", it->identifier);
    cr_assert_not_null(outcome(it, "SCORE"));
    cr_assert_not_null(outcome(it, "MAXSCORE"));
}

static void
check_interaction(const json_t *item, const kt_qti_item *it)
{
    const char *kind = json_string_value(json_object_get(item, "kind"));
    cr_assert_eq(it->ninteractions, 1, "%s", it->identifier);
    const kt_qti_interaction *in = &it->interactions[0];
    cr_assert_str_eq(in->type, interaction_type(kind), "%s", it->identifier);
    cr_assert_str_eq(in->response_identifier, "RESPONSE");
    const json_t *opts = json_object_get(item, "options");
    if (opts) {
        cr_assert_str_eq(kt_qti_attr_get(in, "maxChoices"), strcmp(kind, "MR") ? "1" : "0");
        cr_assert_str_eq(kt_qti_attr_get(in, "shuffle"), "true");
        cr_assert_eq(in->nchoices, json_array_size(opts));
        for (size_t i = 0; i < in->nchoices; i++)
            cr_assert_str_eq(in->choices[i].identifier,
                             json_string_value(json_object_get(json_array_get(opts, i), "id")));
    }
    if (strcmp(kind, "TF4") == 0) {
        static const char *const ids[] = {"a", "b", "c", "d", "DUNG", "SAI"};
        cr_assert_eq(in->nchoices, 6);
        for (size_t i = 0; i < 6; i++)
            cr_assert_str_eq(in->choices[i].identifier, ids[i]);
    }
}

static void
check_processing(const json_t *item, const kt_qti_item *it, const char *xml)
{
    const char *kind = json_string_value(json_object_get(item, "kind"));
    if (strcmp(kind, "MCQ4") == 0 || strcmp(kind, "MR") == 0) {
        cr_assert_eq(it->rp_kind, KT_QTI_RP_TEMPLATE);
        cr_assert_str_eq(it->rp_template, "match_correct");
    } else if (strcmp(kind, "ESSAY") == 0) {
        cr_assert_eq(it->rp_kind, KT_QTI_RP_NONE);
        double sum = 0;
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(item, "rubric"), i, r)
        {
            sum += strtod(json_string_value(json_object_get(r, "points")), NULL);
        }
        const kt_qti_decl *max = outcome(it, "MAXSCORE");
        cr_assert_float_eq(strtod(max->defaults[0], NULL), sum, 1e-9, "%s", it->identifier);
    } else {
        cr_assert_eq(it->rp_kind, KT_QTI_RP_CUSTOM, "%s", it->identifier);
    }
    if (strcmp(kind, "TF4") == 0) {
        static const char *const table[] = {"0", "0.1", "0.25", "0.5", "1"};
        char got[8][16];
        cr_assert_eq(match_table(xml, got), 5);
        for (size_t i = 0; i < 5; i++)
            cr_assert_str_eq(got[i], table[i], "%s", it->identifier);
        cr_assert_not_null(outcome(it, "NUM_CORRECT"));
    }
    if (strcmp(kind, "SHORT") == 0) {
        const char *tol = json_string_value(json_object_get(item, "tolerance"));
        cr_assert(strtod(tol, NULL) == 0 ? strstr(it->rp_xml, "exact") != NULL
                                         : strstr(it->rp_xml, "absolute") != NULL,
                  "%s", it->rp_xml);
    }
}

static void
check_demo(const char *version, kt_qti_version want)
{
    size_t i, done = 0;
    json_t *item;
    json_array_foreach(demo, i, item)
    {
        char *xml = export_ok(item, version);
        kt_qti_item *it = parse_ok(xml);
        cr_assert_eq(it->version, want);
        cr_assert_str_eq(it->identifier, json_string_value(json_object_get(item, "identifier")));
        cr_assert_str_eq(it->title, json_string_value(json_object_get(item, "title")));
        cr_assert_str_eq(it->lang, "vi");
        check_declarations(item, it);
        check_interaction(item, it);
        check_processing(item, it, xml);
        xmlDoc *d = read_xml(xml);
        cr_assert_eq(check_mathml(xmlDocGetRootElement(d), false), math_in_item(item), "%s",
                     it->identifier);
        xmlFreeDoc(d);
        if (want == KT_QTI_V30 && it->rp_template)
            cr_assert(
                strncmp(it->rp_template_uri, "https://purl.imsglobal.org/spec/qti/v3p0/", 41) == 0);
        free(xml);
        done++;
    }
    cr_assert_eq(done, 64);
}

Test(qti_export, demo_items_qti22)
{
    check_demo("2.2", KT_QTI_V22);
}

Test(qti_export, demo_items_qti30)
{
    check_demo("3.0", KT_QTI_V30);
}

/* ---- variants and refusals ---------------------------------------------- */

#define COMMON "\"identifier\":\"T-1\",\"subject\":\"TOAN\",\"grade\":10,\"title\":\"Thử\","
#define OPTIONS4                                                                                   \
    "\"options\":[{\"id\":\"A\",\"html\":\"a\"},{\"id\":\"B\",\"html\":\"b\"},"                    \
    "{\"id\":\"C\",\"html\":\"c\"},{\"id\":\"D\",\"html\":\"d\",\"fixed\":true}]"

Test(qti_export, mr_per_option_mapping)
{
    json_t *item = parse_json("{" COMMON "\"kind\":\"MR\",\"stem\":\"s\"," OPTIONS4
                              ",\"keys\":[\"A\",\"B\",\"C\"],\"scoring_mode\":\"per_option\"}");
    char *xml = export_ok(item, "2.2");
    kt_qti_item *it = parse_ok(xml);
    const kt_qti_mapping *m = &it->responses[0].mapping;
    cr_assert(m->present);
    cr_assert_str_eq(m->lower_bound, "0");
    cr_assert_str_eq(m->upper_bound, "1");
    cr_assert_eq(m->nentries, 4);
    static const char *const want[][2] = {
        {"A", "0.333333"}, {"B", "0.333333"}, {"C", "0.333333"}, {"D", "-0.333333"}};
    for (size_t i = 0; i < 4; i++) {
        cr_assert_str_eq(m->entries[i].key, want[i][0]);
        cr_assert_str_eq(m->entries[i].value, want[i][1]);
    }
    cr_assert_str_eq(it->rp_template, "map_response");
    cr_assert(it->interactions[0].choices[3].fixed);
    free(xml);
    json_decref(item);
}

Test(qti_export, short_text_key_is_a_case_insensitive_mapping)
{
    json_t *item = parse_json("{" COMMON "\"kind\":\"SHORT\",\"stem\":\"<p>Thủ đô?</p>\","
                              "\"key\":\"Hà Nội\",\"answer_type\":\"text\"}");
    char *xml = export_ok(item, "3.0");
    kt_qti_item *it = parse_ok(xml);
    cr_assert_str_eq(it->responses[0].base_type, "string");
    cr_assert_str_eq(it->responses[0].correct[0], "Hà Nội");
    const kt_qti_mapping *m = &it->responses[0].mapping;
    cr_assert_eq(m->nentries, 1);
    cr_assert_str_eq(m->entries[0].key, "Hà Nội");
    cr_assert_str_eq(m->entries[0].value, "1");
    cr_assert_not(m->entries[0].case_sensitive);
    cr_assert_str_eq(it->rp_template, "map_response");
    cr_assert(strstr(xml, "case-sensitive=\"false\""));
    free(xml);
    json_decref(item);
}

Test(qti_export, short_numeric_tolerance)
{
    json_t *item = parse_json("{" COMMON "\"kind\":\"SHORT\",\"stem\":\"s\",\"key\":\"-2.5\","
                              "\"tolerance\":\"0.01\"}");
    char *xml = export_ok(item, "2.2");
    kt_qti_item *it = parse_ok(xml);
    cr_assert_str_eq(it->responses[0].base_type, "float");
    cr_assert_str_eq(it->responses[0].correct[0], "-2.5");
    cr_assert(strstr(it->rp_xml, "toleranceMode=\"absolute\""), "%s", it->rp_xml);
    cr_assert(strstr(it->rp_xml, "tolerance=\"0.01 0.01\""), "%s", it->rp_xml);
    free(xml);
    xml = export_ok(item, "3.0");
    parse_ok(xml);
    cr_assert(strstr(xml, "tolerance-mode=\"absolute\""));
    cr_assert(strstr(xml, "<qti-correct identifier=\"RESPONSE\"/>"));
    free(xml);
    json_decref(item);
}

Test(qti_export, tf4_score_table_from_the_item)
{
    json_t *item = parse_json(
        "{" COMMON "\"kind\":\"TF4\",\"stem\":\"s\",\"statements\":[{\"id\":\"a\",\"html\":\"x\","
        "\"key\":true},{\"id\":\"b\",\"html\":\"y\",\"key\":false},{\"id\":\"c\",\"html\":\"z\","
        "\"key\":false},{\"id\":\"d\",\"html\":\"t\",\"key\":true}],"
        "\"score_table\":[\"0\",\"0\",\"0.25\",\"0.5\",\"1\"]}");
    static const char *const table[] = {"0", "0", "0.25", "0.5", "1"};
    for (int v = 0; v < 2; v++) {
        char *xml = export_ok(item, v ? "3.0" : "2.2");
        kt_qti_item *it = parse_ok(xml);
        char got[8][16];
        cr_assert_eq(match_table(xml, got), 5);
        for (size_t i = 0; i < 5; i++)
            cr_assert_str_eq(got[i], table[i]);
        cr_assert_str_eq(it->responses[0].correct[3], "d DUNG");
        cr_assert(strstr(it->rp_xml, v ? "qti-lookup-outcome-value" : "lookupOutcomeValue"));
        free(xml);
    }
    json_decref(item);
}

Test(qti_export, essay_rubric_for_scorers)
{
    json_t *item = parse_json(
        "{" COMMON "\"kind\":\"ESSAY\",\"stem\":\"<p>Giải</p>\",\"rubric\":[{\"criterion\":"
        "\"Đặt ẩn & điều kiện\",\"points\":\"0.25\"},{\"criterion\":\"Kết luận\",\"points\":"
        "\"0.5\"}],\"model_answer\":\"<p><math><mi>x</mi></math></p>\"}");
    char *xml = export_ok(item, "3.0");
    kt_qti_item *it = parse_ok(xml);
    cr_assert_str_eq(outcome(it, "MAXSCORE")->defaults[0], "0.75");
    cr_assert_eq(it->rp_kind, KT_QTI_RP_NONE);
    cr_assert(strstr(xml, "external-scored=\"human\""));
    cr_assert(strstr(xml, "Đặt ẩn &amp; điều kiện"));
    xmlDoc *d = read_xml(xml);
    xmlNode *rb[2];
    size_t n = 0;
    collect(xmlDocGetRootElement(d), "rubricBlock", "qti-rubric-block", rb, &n, 2);
    cr_assert_eq(n, 1);
    char *view = prop(rb[0], "view", "view");
    cr_assert_str_eq(view, "scorer");
    xmlFree(view);
    cr_assert(xmlStrEqual(xmlFirstElementChild(rb[0])->name, BAD_CAST "qti-content-body"));
    cr_assert_eq(check_mathml(xmlDocGetRootElement(d), false), 1);
    xmlFreeDoc(d);
    free(xml);
    json_decref(item);
}

Test(qti_export, explanation_is_a_scorer_rubric_and_text_is_escaped)
{
    json_t *item =
        parse_json("{" COMMON "\"kind\":\"MCQ4\",\"stem\":\"<p>x &lt; 5 &amp; y</p>\"," OPTIONS4
                   ",\"key\":\"B\",\"explanation\":\"Vì <b>B</b>.\"}");
    json_object_set_new(item, "title", json_string("A & B < C \"D\""));
    char *xml = export_ok(item, "2.2");
    kt_qti_item *it = parse_ok(xml);
    cr_assert_str_eq(it->title, "A & B < C \"D\"");
    cr_assert(strstr(xml, "<rubricBlock view=\"scorer\" class=\"kt-explanation\">Vì <b>B</b>."));
    cr_assert(strstr(xml, "x &lt; 5 &amp; y"));
    free(xml);
    json_decref(item);
}

/* The editor's math (KaTeX MathML with its LaTeX in <annotation>, stored in
 * the allow-list's canonical form) goes out as MathML in the MathML
 * namespace, annotation included; its images keep their media/ source. */
Test(qti_export, katex_mathml_and_media_images)
{
    json_error_t e;
    json_t *samples =
        json_load_file(KIEMTRA_SOURCE_DIR "/tests/unit/fixtures/katex-mathml.json", 0, &e);
    cr_assert(json_array_size(samples) > 0, "%s", e.text);
    size_t i;
    json_t *sm;
    json_array_foreach(samples, i, sm)
    {
        const char *html = json_string_value(json_object_get(sm, "html"));
        const char *b = strstr(html, "<math"), *end = strstr(html, "</math>");
        char *stem = NULL;
        cr_assert(asprintf(&stem,
                           "<p>Tính %.*s</p><img src=\"media/0123456789abcdef0123456789abcdef"
                           "0123456789abcdef0123456789abcdef.png\" alt=\"hình\"/>",
                           (int)(end + 7 - b), b) > 0);
        json_t *item = parse_json("{" COMMON "\"kind\":\"MCQ4\"," OPTIONS4 ",\"key\":\"A\"}");
        json_object_set_new(item, "stem", json_string(stem));
        kt_item_normalize(item);
        cr_assert(strstr(json_string_value(json_object_get(item, "stem")), "<annotation"));
        for (int v = 0; v < 2; v++) {
            char *xml = export_ok(item, v ? "3.0" : "2.2");
            parse_ok(xml);
            xmlDoc *d = read_xml(xml);
            cr_assert_eq(check_mathml(xmlDocGetRootElement(d), false), 1, "%s", xml);
            xmlNode *ann[2];
            size_t n = 0;
            collect(xmlDocGetRootElement(d), "annotation", "annotation", ann, &n, 2);
            cr_assert_eq(n, 1, "%s", xml);
            cr_assert(ann[0]->ns && xmlStrEqual(ann[0]->ns->href, BAD_CAST NS_MATHML));
            char *enc = prop(ann[0], "encoding", "encoding");
            cr_assert_str_eq(enc, "application/x-tex");
            xmlChar *tex = xmlNodeGetContent(ann[0]);
            cr_assert_str_eq((const char *)tex, json_string_value(json_object_get(sm, "tex")));
            xmlFree(tex);
            xmlFree(enc);
            cr_assert(strstr(xml, "src=\"media/0123456789abcdef"), "%s", xml);
            xmlFreeDoc(d);
            free(xml);
        }
        json_decref(item);
        free(stem);
    }
    json_decref(samples);
}

Test(qti_export, refusals)
{
    json_t *ok =
        parse_json("{" COMMON "\"kind\":\"MCQ4\",\"stem\":\"s\"," OPTIONS4 ",\"key\":\"B\"}");
    static const struct {
        const char *field, *value, *needle;
    } cases[] = {
        {"key", "E", "key"},
        {"stem", "<p>x < 5</p>", "stem"},
        {"stem", "<p><textEntryInteraction responseIdentifier=\"X\"/></p>", "textentryinteraction"},
        {"stem", "<script>alert(1)</script>", "script"},
        {"stem", "<!DOCTYPE x [<!ENTITY e \"e\">]><p>&e;</p>", "DOCTYPE"},
        {"stem", "<p>&nbsp;</p>", "nbsp"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *item = json_deep_copy(ok);
        json_object_set_new(item, cases[i].field, json_string(cases[i].value));
        size_t before = errs.n;
        cr_assert_null(kt_qti_from_item(item, "2.2", &errs), "%s", cases[i].value);
        cr_assert_gt(errs.n, before);
        cr_assert(has_error(cases[i].needle), "%s: %s", cases[i].value, errors_text());
        json_decref(item);
    }
    cr_assert_null(kt_qti_from_item(ok, "2.1", &errs));
    cr_assert(has_error("2.1"));
    json_decref(ok);
}

/* ---- conversion ---------------------------------------------------------- */

#define ITEM21                                                                                     \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                                 \
    "<assessmentItem xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\" "                          \
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\""                \
    "http://www.imsglobal.org/xsd/imsqti_v2p1 http://www.imsglobal.org/xsd/qti/qtiv2p1/"           \
    "imsqti_v2p1.xsd\" identifier=\"C1\" title=\"Chuyển\" adaptive=\"false\" "                   \
    "timeDependent=\"false\" xml:lang=\"vi\">"                                                     \
    "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"single\" baseType=\"identifier\">" \
    "<correctResponse><value>A</value></correctResponse></responseDeclaration>"                    \
    "<outcomeDeclaration identifier=\"SCORE\" cardinality=\"single\" baseType=\"float\"/>"         \
    "<outcomeDeclaration identifier=\"FEEDBACK\" cardinality=\"single\" baseType=\"identifier\"/>" \
    "<itemBody><rubricBlock view=\"scorer\"><p>R</p></rubricBlock>"                                \
    "<p class=\"x\">Hỏi <img src=\"a.png\" alt=\"a\"/> "                                         \
    "<math xmlns=\"http://www.w3.org/1998/Math/MathML\"><mi>x</mi></math></p>"                     \
    "<choiceInteraction responseIdentifier=\"RESPONSE\" maxChoices=\"1\" data-kt=\"1\">"           \
    "<simpleChoice identifier=\"A\">a</simpleChoice><simpleChoice identifier=\"B\">b"              \
    "</simpleChoice></choiceInteraction>"                                                          \
    "<feedbackBlock outcomeIdentifier=\"FEEDBACK\" identifier=\"A\" showHide=\"show\"><p>ok</p>"   \
    "</feedbackBlock></itemBody>"                                                                  \
    "<responseProcessing template=\"http://www.imsglobal.org/question/qti_v2p1/rptemplates/"       \
    "match_correct\"/></assessmentItem>"

Test(qti_export, convert_item_to_qti3_and_back)
{
    char *v3 = kt_qti_convert(ITEM21, strlen(ITEM21), "3.0", &errs);
    cr_assert_not_null(v3, "%s", errors_text());
    static const char *const present[] = {
        "<qti-assessment-item xmlns=\"" NS30 "\"",
        "time-dependent=\"false\"",
        "xml:lang=\"vi\"",
        "<qti-response-declaration identifier=\"RESPONSE\" cardinality=\"single\" "
        "base-type=\"identifier\">",
        "<qti-rubric-block view=\"scorer\"><qti-content-body><p>R</p></qti-content-body>",
        "<p class=\"x\">Hỏi <img src=\"a.png\" alt=\"a\"/>",
        "<mi>x</mi>",
        "<qti-choice-interaction response-identifier=\"RESPONSE\" max-choices=\"1\" data-kt=\"1\">",
        "<qti-feedback-block outcome-identifier=\"FEEDBACK\" identifier=\"A\" show-hide=\"show\">"
        "<qti-content-body><p>ok</p></qti-content-body>",
        "template=\"https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct.xml\""};
    for (size_t i = 0; i < sizeof present / sizeof *present; i++)
        cr_assert(strstr(v3, present[i]), "missing %s in\n%s", present[i], v3);
    cr_assert_null(strstr(v3, "schemaLocation"), "%s", v3);
    cr_assert_null(strstr(v3, "imsqti_v2p1"));

    char *v2 = kt_qti_convert(v3, strlen(v3), "2.2", &errs);
    cr_assert_not_null(v2, "%s", errors_text());
    static const char *const back[] = {
        "<assessmentItem xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p2\"",
        "<rubricBlock view=\"scorer\"><p>R</p></rubricBlock>",
        "<choiceInteraction responseIdentifier=\"RESPONSE\" maxChoices=\"1\" data-kt=\"1\">",
        "<feedbackBlock outcomeIdentifier=\"FEEDBACK\" identifier=\"A\" showHide=\"show\"><p>ok"
        "</p></feedbackBlock>",
        "template=\"http://www.imsglobal.org/question/qti_v2p2/rptemplates/match_correct\""};
    for (size_t i = 0; i < sizeof back / sizeof *back; i++)
        cr_assert(strstr(v2, back[i]), "missing %s in\n%s", back[i], v2);
    cr_assert_null(strstr(v2, "qti-"));
    cr_assert_eq(parse_ok(v2)->version, KT_QTI_V22);
    free(v3);
    free(v2);
}

Test(qti_export, convert_acronym_names_and_same_version_copies)
{
    const char *rp =
        "<assessmentItem xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p2\" identifier=\"D\" "
        "adaptive=\"false\" timeDependent=\"false\"><responseDeclaration identifier=\"R\" "
        "cardinality=\"single\" baseType=\"duration\"/><responseProcessing><responseCondition>"
        "<responseIf><durationGTE><variable identifier=\"R\"/><baseValue baseType=\"duration\">5"
        "</baseValue></durationGTE></responseIf></responseCondition></responseProcessing>"
        "</assessmentItem>";
    char *v3 = kt_qti_convert(rp, strlen(rp), "3.0", &errs);
    cr_assert(strstr(v3, "<qti-duration-gte>"), "%s", v3);
    char *v2 = kt_qti_convert(v3, strlen(v3), "2.2", &errs);
    cr_assert(strstr(v2, "<durationGTE>"), "%s", v2);
    char *same = kt_qti_convert(rp, strlen(rp), "2.2", &errs);
    cr_assert_str_eq(same, rp);
    char *same3 = kt_qti_convert(v3, strlen(v3), "3.0", &errs);
    cr_assert_str_eq(same3, v3);
    free(v3);
    free(v2);
    free(same);
    free(same3);

    const char *v21 = "<assessmentTest xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\" "
                      "identifier=\"T\"><testPart identifier=\"P\" navigationMode=\"linear\" "
                      "submissionMode=\"individual\"/></assessmentTest>";
    char *t22 = kt_qti_convert(v21, strlen(v21), "2.2", &errs);
    cr_assert(strstr(t22, "<assessmentTest xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p2\""));
    cr_assert(strstr(t22, "navigationMode=\"linear\""));
    free(t22);
}

Test(qti_export, convert_refusals)
{
    cr_assert_null(kt_qti_convert("<manifest/>", 11, "3.0", &errs));
    cr_assert(has_error("Chỉ chuyển đổi"));
    cr_assert_null(kt_qti_convert("<assessmentItem", 15, "3.0", &errs));
    cr_assert(has_error("XML không hợp lệ"));
    cr_assert_null(kt_qti_convert(ITEM21, strlen(ITEM21), "2.1", &errs));
}

/* ---- corpus round trip ------------------------------------------------------ */

static int mismatches;

#define SAME_STR(a, b, what)                                                                       \
    do {                                                                                           \
        const char *x_ = (a), *y_ = (b);                                                           \
        if ((x_ == NULL) != (y_ == NULL) || (x_ && strcmp(x_, y_) != 0)) {                         \
            printf("%s: %s differs: \"%s\" vs \"%s\"\n", label, what, x_ ? x_ : "(null)",          \
                   y_ ? y_ : "(null)");                                                            \
            mismatches++;                                                                          \
        }                                                                                          \
    } while (0)

#define SAME_INT(a, b, what)                                                                       \
    do {                                                                                           \
        long x_ = (long)(a), y_ = (long)(b);                                                       \
        if (x_ != y_) {                                                                            \
            printf("%s: %s differs: %ld vs %ld\n", label, what, x_, y_);                           \
            mismatches++;                                                                          \
        }                                                                                          \
    } while (0)

static void
same_strings(const char *label, const char *what, const char **a, size_t na, const char **b,
             size_t nb)
{
    SAME_INT(na, nb, what);
    for (size_t i = 0; i < na && i < nb; i++)
        SAME_STR(a[i], b[i], what);
}

static void
same_mapping(const char *label, const kt_qti_mapping *a, const kt_qti_mapping *b)
{
    SAME_INT(a->present, b->present, "mapping");
    SAME_STR(a->lower_bound, b->lower_bound, "lowerBound");
    SAME_STR(a->upper_bound, b->upper_bound, "upperBound");
    SAME_STR(a->default_value, b->default_value, "mapping defaultValue");
    SAME_INT(a->nentries, b->nentries, "mapping entries");
    for (size_t i = 0; i < a->nentries && i < b->nentries; i++) {
        SAME_STR(a->entries[i].key, b->entries[i].key, "mapKey");
        SAME_STR(a->entries[i].shape, b->entries[i].shape, "shape");
        SAME_STR(a->entries[i].coords, b->entries[i].coords, "coords");
        SAME_STR(a->entries[i].value, b->entries[i].value, "mappedValue");
        SAME_INT(a->entries[i].case_sensitive, b->entries[i].case_sensitive, "caseSensitive");
    }
}

static void
same_decls(const char *label, const kt_qti_decl *a, size_t na, const kt_qti_decl *b, size_t nb)
{
    SAME_INT(na, nb, "declarations");
    for (size_t i = 0; i < na && i < nb; i++) {
        SAME_STR(a[i].identifier, b[i].identifier, "declaration identifier");
        SAME_STR(a[i].cardinality, b[i].cardinality, "cardinality");
        SAME_STR(a[i].base_type, b[i].base_type, "baseType");
        same_strings(label, "correctResponse", a[i].correct, a[i].ncorrect, b[i].correct,
                     b[i].ncorrect);
        same_strings(label, "defaultValue", a[i].defaults, a[i].ndefaults, b[i].defaults,
                     b[i].ndefaults);
        same_mapping(label, &a[i].mapping, &b[i].mapping);
        same_mapping(label, &a[i].area_mapping, &b[i].area_mapping);
    }
}

static void
same_interactions(const char *label, const kt_qti_item *a, const kt_qti_item *b)
{
    SAME_INT(a->ninteractions, b->ninteractions, "interactions");
    for (size_t i = 0; i < a->ninteractions && i < b->ninteractions; i++) {
        const kt_qti_interaction *x = &a->interactions[i], *y = &b->interactions[i];
        SAME_STR(x->type, y->type, "interaction type");
        SAME_STR(x->response_identifier, y->response_identifier, "responseIdentifier");
        SAME_INT(x->nattrs, y->nattrs, "interaction attributes");
        for (size_t k = 0; k < x->nattrs && k < y->nattrs; k++) {
            SAME_STR(x->attrs[k].name, y->attrs[k].name, "attribute name");
            SAME_STR(x->attrs[k].value, y->attrs[k].value, "attribute value");
        }
        SAME_INT(x->nchoices, y->nchoices, "choices");
        for (size_t k = 0; k < x->nchoices && k < y->nchoices; k++) {
            SAME_STR(x->choices[k].element, y->choices[k].element, "choice element");
            SAME_STR(x->choices[k].identifier, y->choices[k].identifier, "choice identifier");
            SAME_INT(x->choices[k].fixed, y->choices[k].fixed, "choice fixed");
        }
    }
}

static void
same_item(const char *label, const kt_qti_item *a, const kt_qti_item *b)
{
    SAME_STR(a->identifier, b->identifier, "identifier");
    SAME_STR(a->title, b->title, "title");
    SAME_STR(a->lang, b->lang, "lang");
    SAME_INT(a->adaptive, b->adaptive, "adaptive");
    SAME_INT(a->time_dependent, b->time_dependent, "timeDependent");
    same_decls(label, a->responses, a->nresponses, b->responses, b->nresponses);
    same_decls(label, a->outcomes, a->noutcomes, b->outcomes, b->noutcomes);
    same_decls(label, a->templates, a->ntemplates, b->templates, b->ntemplates);
    same_interactions(label, a, b);
    SAME_INT(a->rp_kind, b->rp_kind, "responseProcessing kind");
    SAME_STR(a->rp_template, b->rp_template, "rp template");
    SAME_INT(a->has_template_processing, b->has_template_processing, "templateProcessing");
    SAME_INT(a->has_modal_feedback, b->has_modal_feedback, "modalFeedback");
    SAME_INT(a->has_inline_feedback, b->has_inline_feedback, "inline feedback");
    same_strings(label, "stylesheets", a->stylesheets, a->nstylesheets, b->stylesheets,
                 b->nstylesheets);
    same_strings(label, "assets", a->assets, a->nassets, b->assets, b->nassets);
}

static void
same_limits(const char *label, bool ha, const kt_qti_time_limits *a, bool hb,
            const kt_qti_time_limits *b)
{
    SAME_INT(ha, hb, "timeLimits");
    SAME_STR(a->min_time, b->min_time, "minTime");
    SAME_STR(a->max_time, b->max_time, "maxTime");
    SAME_INT(a->allow_late_submission, b->allow_late_submission, "allowLateSubmission");
}

static void
same_nodes(const char *label, const kt_qti_node *a, size_t na, const kt_qti_node *b, size_t nb)
{
    SAME_INT(na, nb, "section children");
    for (size_t i = 0; i < na && i < nb; i++) {
        const kt_qti_node *x = &a[i], *y = &b[i];
        SAME_INT(x->kind, y->kind, "node kind");
        SAME_STR(x->identifier, y->identifier, "node identifier");
        SAME_STR(x->title, y->title, "node title");
        SAME_STR(x->href, y->href, "href");
        SAME_STR(x->category, y->category, "category");
        SAME_INT(x->visible, y->visible, "visible");
        SAME_INT(x->required, y->required, "required");
        SAME_INT(x->fixed, y->fixed, "fixed");
        SAME_INT(x->select, y->select, "select");
        SAME_INT(x->with_replacement, y->with_replacement, "withReplacement");
        SAME_INT(x->shuffle, y->shuffle, "shuffle");
        same_limits(label, x->has_time_limits, &x->time_limits, y->has_time_limits,
                    &y->time_limits);
        SAME_INT(x->nweights, y->nweights, "weights");
        for (size_t k = 0; k < x->nweights && k < y->nweights; k++) {
            SAME_STR(x->weights[k].identifier, y->weights[k].identifier, "weight identifier");
            SAME_STR(x->weights[k].value, y->weights[k].value, "weight value");
        }
        same_nodes(label, x->children, x->nchildren, y->children, y->nchildren);
    }
}

static void
same_test(const char *label, const kt_qti_test *a, const kt_qti_test *b)
{
    SAME_STR(a->identifier, b->identifier, "identifier");
    SAME_STR(a->title, b->title, "title");
    same_limits(label, a->has_time_limits, &a->time_limits, b->has_time_limits, &b->time_limits);
    same_decls(label, a->outcomes, a->noutcomes, b->outcomes, b->noutcomes);
    SAME_INT(a->nparts, b->nparts, "test parts");
    for (size_t i = 0; i < a->nparts && i < b->nparts; i++) {
        const kt_qti_test_part *x = &a->parts[i], *y = &b->parts[i];
        SAME_STR(x->identifier, y->identifier, "testPart identifier");
        SAME_STR(x->navigation_mode, y->navigation_mode, "navigationMode");
        SAME_STR(x->submission_mode, y->submission_mode, "submissionMode");
        same_limits(label, x->has_time_limits, &x->time_limits, y->has_time_limits,
                    &y->time_limits);
        same_nodes(label, x->sections, x->nsections, y->sections, y->nsections);
    }
    SAME_INT(a->section != NULL, b->section != NULL, "section document");
    if (a->section && b->section)
        same_nodes(label, a->section, 1, b->section, 1);
    SAME_INT(a->outcome_processing_xml != NULL, b->outcome_processing_xml != NULL,
             "outcomeProcessing");
}

/* XHTML element names QTI content may use (qti.c's body table). */
static bool
is_html(const char *name)
{
    static const char *const HTML[] = {
        "a",     "abbr",       "acronym", "address",    "article", "aside",   "audio",   "b",
        "bdi",   "bdo",        "big",     "blockquote", "br",      "caption", "cite",    "code",
        "col",   "colgroup",   "dd",      "details",    "dfn",     "div",     "dl",      "dt",
        "em",    "figcaption", "figure",  "footer",     "h1",      "h2",      "h3",      "h4",
        "h5",    "h6",         "header",  "hr",         "i",       "img",     "kbd",     "label",
        "li",    "nav",        "object",  "ol",         "p",       "param",   "picture", "pre",
        "q",     "rb",         "rp",      "rt",         "rtc",     "ruby",    "samp",    "section",
        "small", "source",     "span",    "strong",     "sub",     "summary", "sup",     "table",
        "tbody", "td",         "tfoot",   "th",         "thead",   "tr",      "track",   "tt",
        "u",     "ul",         "var",     "video",      "wbr",     "math"};
    for (size_t i = 0; i < sizeof HTML / sizeof *HTML; i++)
        if (strcmp(HTML[i], name) == 0)
            return true;
    return false;
}

/* In a QTI 3 document every element of the QTI namespace is qti-* or XHTML. */
static void
check_qti3_names(const char *label, xmlNode *n)
{
    for (xmlNode *x = n; x; x = x->next) {
        if (x->type != XML_ELEMENT_NODE)
            continue;
        const char *name = (const char *)x->name;
        if (x->ns && xmlStrEqual(x->ns->href, BAD_CAST NS30) && strncmp(name, "qti-", 4) != 0 &&
            !is_html(name)) {
            printf("%s: <%s> left unconverted\n", label, name);
            mismatches++;
        }
        check_qti3_names(label, x->children);
    }
}

static bool
parse_quiet(const char *xml, size_t len, const char *label, kt_qti_doc *d)
{
    size_t before = errs.n;
    if (kt_qti_parse(xml, len, label, d, &errs) == 0)
        return true;
    printf("%s: %s\n", label, errs.n > before ? errs.v[before].message : "?");
    return false;
}

static int aqti_docs;

/* aQTI drafts (a camelCase root and declarations in the QTI 3 namespace:
 * qti-sdk's items/3_0) lose their camelCase attributes when kt_qti_parse
 * reads them with QTI 3 names, while the converter reads them as the 2.x
 * names they are. */
static bool
is_aqti(const kt_qti_doc *d, const char *xml, size_t len)
{
    kt_qti_version v = d->item ? d->item->version : d->test->version;
    xmlDoc *x = kt_qti_xml_read(xml, len, "aqti", &errs);
    bool aqti = v == KT_QTI_V30 && strncmp((const char *)xmlDocGetRootElement(x)->name, "qti-", 4);
    xmlFreeDoc(x);
    return aqti;
}

/* One document to 3.0 and back to 2.2, each compared with the original (for
 * an aQTI draft, with the 2.2 result). */
static void
round_trip(const char *label, const char *xml, size_t len, const kt_qti_doc *orig)
{
    kt_qti_doc d3 = {0}, d2 = {0};
    int before = mismatches;
    char *v3 = kt_qti_convert(xml, len, "3.0", &errs);
    char *v2 = v3 ? kt_qti_convert(v3, strlen(v3), "2.2", &errs) : NULL;
    if (!v2 || !parse_quiet(v3, strlen(v3), label, &d3) ||
        !parse_quiet(v2, strlen(v2), label, &d2)) {
        printf("%s: conversion failed %s\n", label, errors_text());
        mismatches++;
    } else {
        xmlDoc *x = kt_qti_xml_read(v3, strlen(v3), label, &errs);
        check_qti3_names(label, xmlDocGetRootElement(x));
        xmlFreeDoc(x);
        SAME_INT(d3.item ? d3.item->version : d3.test->version, KT_QTI_V30, "3.0 version");
        SAME_INT(d2.item ? d2.item->version : d2.test->version, KT_QTI_V22, "2.2 version");
        const kt_qti_doc *ref = orig;
        if (is_aqti(orig, xml, len)) {
            ref = &d2;
            aqti_docs++;
        }
        if (ref->item) {
            same_item(label, ref->item, d3.item);
            same_item(label, ref->item, d2.item);
        } else {
            same_test(label, ref->test, d3.test);
            same_test(label, ref->test, d2.test);
        }
    }
    if (mismatches > before)
        printf("%s: %d mismatches\n", label, mismatches - before);
    kt_qti_doc_free(&d3);
    kt_qti_doc_free(&d2);
    free(v3);
    free(v2);
}

struct walk {
    int files, packaged;
};



/* A document kt_qti_parse accepts as an item, test or section goes round
 * trip; the others (negative fixtures, manifests, results) are not QTI
 * content to convert. */
static void
walk_document(struct walk *w, const char *path, const char *buf, size_t len)
{
    kt_qti_doc d;
    size_t before = errs.n;
    if (kt_qti_parse(buf, len, path, &d, &errs) != 0) {
        errs.n = before;
        return;
    }
    round_trip(path, buf, len, &d);
    w->files++;
    kt_qti_doc_free(&d);
}

static void
walk_package(struct walk *w, const char *path, const char *buf, size_t len)
{
    kt_qti_package pkg;
    size_t before = errs.n;
    if (kt_qti_package_read(buf, len, path, &pkg, &errs) != 0) {
        errs.n = before;
        return;
    }
    for (size_t i = 0; i < pkg.nitems; i++) {
        kt_qti_doc d = {.kind = KT_QTI_DOC_ITEM, .item = pkg.items[i]};
        round_trip(pkg.items[i]->file, pkg.items[i]->xml, pkg.items[i]->xml_len, &d);
        w->packaged++;
    }
    for (size_t i = 0; i < pkg.ntests; i++) {
        kt_qti_doc d = {.kind = KT_QTI_DOC_TEST, .test = pkg.tests[i]};
        round_trip(pkg.tests[i]->file, pkg.tests[i]->xml, pkg.tests[i]->xml_len, &d);
        w->packaged++;
    }
    kt_qti_package_free(&pkg);
}

static void
walk_file(void *ctx, const char *path, const char *buf, size_t len, bool zip)
{
    if (!buf)
        return;
    if (zip)
        walk_package(ctx, path, buf, len);
    else
        walk_document(ctx, path, buf, len);
}

Test(qti_export, corpus_round_trip)
{
    const char *dir = KIEMTRA_SOURCE_DIR "/../shared/corpus/qti";
    struct stat st;
    struct walk w = {0};
    if (stat(dir, &st) != 0) {
        printf("corpus %s absent: conversion round trip skipped\n", dir);
        cr_skip_test("QTI corpus not found at %s", dir);
    }
    mismatches = aqti_docs = 0;
    corpus_walk(dir, walk_file, &w);
    printf("converted %d files (%d aQTI drafts) and %d documents inside packages, %d mismatches\n",
           w.files, aqti_docs, w.packaged, mismatches);
    /* 260 loose files plus 190 documents of the 36 accepted packages: the
     * 379 items, 69 tests and 2 sections test_qti.c's corpus walk imports
     * (the refused files are the negative fixtures). 4 of the files are aQTI
     * drafts. A change in any count means coverage changed. */
    cr_assert_eq(w.files, 260);
    cr_assert_eq(w.packaged, 190);
    cr_assert_eq(aqti_docs, 4);
    cr_assert_eq(mismatches, 0);
}

/* ---- packages ---------------------------------------------------------------- */

static const unsigned char PNG[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
                                    'I',  'H', 'D', 'R', 0,    0,    0,    1,    0, 0, 0, 1};
#define ASSET_PATH "hinh/đồ thị 1.png"

static json_t *
tags_of(const json_t *item)
{
    return json_pack("{s:O,s:O,s:O,s:O,s:O}", "subject", json_object_get(item, "subject"), "grade",
                     json_object_get(item, "grade"), "level", json_object_get(item, "level"),
                     "outcome", json_object_get(item, "outcome"), "competencies",
                     json_object_get(item, "competencies"));
}

struct three {
    json_t *items[3], *tags[3];
    char *xml[3];
    struct kt_qti_export_asset asset;
    struct kt_qti_export_entry entries[3];
};

/* Three demo items (MCQ4 with an image, TF4, ESSAY) ready for packaging. */
static void
three_items(struct three *t, const char *version)
{
    static const char *const ids[] = {"TOAN10-001", "TOAN10-005", "TOAN10-007"};
    t->asset = (struct kt_qti_export_asset){ASSET_PATH, PNG, sizeof PNG};
    for (size_t i = 0; i < 3; i++) {
        t->items[i] = json_deep_copy(demo_item(ids[i]));
        if (i == 0)
            json_object_set_new(
                t->items[i], "stem",
                json_string("<p>Đồ thị: <img src=\"" ASSET_PATH "\" alt=\"đồ thị\"/></p>"));
        t->tags[i] = tags_of(t->items[i]);
        t->xml[i] = export_ok(t->items[i], version);
        t->entries[i] = (struct kt_qti_export_entry){ids[i],  t->xml[i],  strlen(t->xml[i]),
                                                     version, t->tags[i], i == 0 ? &t->asset : NULL,
                                                     i == 0};
    }
}

static void
three_free(struct three *t)
{
    for (size_t i = 0; i < 3; i++) {
        json_decref(t->items[i]);
        json_decref(t->tags[i]);
        free(t->xml[i]);
    }
}

static char *
zip_entry(const void *zip, size_t len, const char *name, size_t *out_len)
{
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(zip, len, 0, &ze);
    zip_t *za = zip_open_from_source(src, ZIP_RDONLY, &ze);
    cr_assert_not_null(za);
    zip_stat_t st;
    cr_assert_eq(zip_stat(za, name, 0, &st), 0, "%s not in the package", name);
    char *buf = malloc(st.size + 1);
    zip_file_t *f = zip_fopen(za, name, 0);
    cr_assert_eq(zip_fread(f, buf, st.size), (zip_int64_t)st.size);
    buf[st.size] = '\0';
    zip_fclose(f);
    zip_discard(za);
    zip_error_fini(&ze);
    *out_len = st.size;
    return buf;
}

static void
package_round_trip(const char *version, const char *type, const char *manifest_ns)
{
    struct three t;
    three_items(&t, version);
    void *zip = NULL;
    size_t len = 0;
    cr_assert_eq(kt_qti_package_write(t.entries, 3, &zip, &len, &errs), 0, "%s", errors_text());

    kt_qti_package pkg;
    cr_assert_eq(kt_qti_package_read(zip, len, "export.zip", &pkg, &errs), 0, "%s", errors_text());
    cr_assert_eq(pkg.nitems, 3);
    cr_assert_eq(pkg.nresources, 3);
    for (size_t i = 0; i < 3; i++) {
        char href[64];
        snprintf(href, sizeof href, "items/%s.xml", t.entries[i].identifier);
        cr_assert_str_eq(pkg.items[i]->identifier, t.entries[i].identifier);
        cr_assert_str_eq(pkg.resources[i].type, type);
        cr_assert_str_eq(pkg.resources[i].href, href);
        cr_assert_eq(pkg.resources[i].nfiles, i == 0 ? 2 : 1);
        json_t *tags = kt_qti_package_tags(&pkg, href);
        cr_assert(json_equal(tags, t.tags[i]), "%s", json_dumps(tags, JSON_COMPACT));
        json_decref(tags);
    }
    cr_assert_str_eq(pkg.resources[0].files[1], "items/TOAN10-001/" ASSET_PATH);
    cr_assert_eq(pkg.items[0]->nassets, 1);
    cr_assert_str_eq(pkg.items[0]->assets[0],
                     "TOAN10-001/hinh/%C4%91%E1%BB%93%20th%E1%BB%8B%201.png");
    cr_assert_null(kt_qti_package_tags(&pkg, "items/nope.xml"));
    kt_qti_package_free(&pkg);

    size_t n;
    char *png = zip_entry(zip, len, "items/TOAN10-001/" ASSET_PATH, &n);
    cr_assert_eq(n, sizeof PNG);
    cr_assert_eq(memcmp(png, PNG, n), 0);
    free(png);
    char *manifest = zip_entry(zip, len, "imsmanifest.xml", &n);
    cr_assert(strstr(manifest, manifest_ns), "%s", manifest);
    cr_assert(strstr(manifest, "<kt:tag kind=\"outcome\">VN18.TOAN.10.SDS.01.01.01</kt:tag>"), "%s",
              manifest);
    free(manifest);
    free(zip);
    three_free(&t);
}

Test(qti_export, package_qti22_round_trip)
{
    package_round_trip("2.2", "imsqti_item_xmlv2p2",
                       "xmlns=\"http://www.imsglobal.org/xsd/imscp_v1p1\"");
}

Test(qti_export, package_qti30_round_trip)
{
    package_round_trip("3.0", "imsqti_item_xmlv3p0",
                       "xmlns=\"http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1\"");
}

Test(qti_export, package_is_deterministic)
{
    struct three t;
    three_items(&t, "2.2");
    void *a, *b;
    size_t la, lb;
    cr_assert_eq(kt_qti_package_write(t.entries, 3, &a, &la, &errs), 0);
    cr_assert_eq(kt_qti_package_write(t.entries, 3, &b, &lb, &errs), 0);
    cr_assert_eq(la, lb);
    cr_assert_eq(memcmp(a, b, la), 0);
    free(a);
    free(b);
    three_free(&t);
}

Test(qti_export, package_refuses_unsafe_paths_and_mixed_entries)
{
    static const char *const bad_paths[] = {"../evil.png", "a/../../evil.png", "/etc/passwd",
                                            "C:/x.png",    "a//b.png",         "a/./b.png",
                                            "a\\b.png"};
    struct three t;
    three_items(&t, "2.2");
    for (size_t i = 0; i < sizeof bad_paths / sizeof *bad_paths; i++) {
        struct kt_qti_export_asset bad = {bad_paths[i], PNG, sizeof PNG};
        struct kt_qti_export_entry e = t.entries[1];
        e.assets = &bad;
        e.nassets = 1;
        void *zip = (void *)1;
        size_t len = 1;
        size_t before = errs.n;
        cr_assert_eq(kt_qti_package_write(&e, 1, &zip, &len, &errs), -1, "%s", bad_paths[i]);
        cr_assert_null(zip);
        cr_assert_eq(len, 0);
        cr_assert_gt(errs.n, before);
        cr_assert(has_error("không hợp lệ"), "%s", errors_text());
    }

    struct kt_qti_export_entry mixed[2] = {t.entries[0], t.entries[1]};
    mixed[1].version = "3.0";
    void *zip;
    size_t len;
    cr_assert_eq(kt_qti_package_write(mixed, 2, &zip, &len, &errs), -1);
    cr_assert(has_error("cùng một phiên bản"));

    struct kt_qti_export_entry twice[2] = {t.entries[1], t.entries[1]};
    cr_assert_eq(kt_qti_package_write(twice, 2, &zip, &len, &errs), -1);
    cr_assert(has_error("hai lần"));

    struct kt_qti_export_entry wrong = t.entries[1];
    wrong.version = "3.0"; /* a 2.2 document in a 3.0 package */
    cr_assert_eq(kt_qti_package_write(&wrong, 1, &zip, &len, &errs), -1);
    cr_assert(has_error("không phải câu hỏi QTI 3.0"));

    json_t *tags = json_pack("{s:s}", "colour", "red");
    struct kt_qti_export_entry tagged = t.entries[1];
    tagged.tags = tags;
    cr_assert_eq(kt_qti_package_write(&tagged, 1, &zip, &len, &errs), -1);
    cr_assert(has_error("colour"));
    json_decref(tags);
    tags = json_pack("{s:[s,i]}", "competencies", "NL.TOAN.GT", 3);
    tagged.tags = tags;
    cr_assert_eq(kt_qti_package_write(&tagged, 1, &zip, &len, &errs), -1);
    cr_assert(has_error("competencies"));
    json_decref(tags);
    three_free(&t);
}

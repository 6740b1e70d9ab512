/*
 * Unit tests for itembank/qti_render.c (the student view of a QTI item) and
 * itembank/qti_deliver.c (publishing an assessmentTest): sanitising, no
 * scoring data in any view, refusals by name, and a walk over every corpus
 * item (../shared/corpus/qti) with exact counts of delivered and refused
 * items per reason.
 */
#include <criterion/criterion.h>

#include "corpus_walk.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "package.h"
#include "qti.h"
#include "qti_deliver.h"
#include "qti_render.h"

#define NS21 "xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\""
#define NS30 "xmlns=\"http://www.imsglobal.org/xsd/imsqtiasi_v3p0\""
#define ITEM21(body)                                                                               \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><assessmentItem " NS21                              \
    " identifier=\"I1\" title=\"T\" adaptive=\"false\" timeDependent=\"false\">" body              \
    "</assessmentItem>"
#define CHOICE_DECL                                                                                \
    "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"single\" baseType=\"identifier\">" \
    "<correctResponse><value>SECRET_B</value></correctResponse>"                                   \
    "<mapping defaultValue=\"0\"><mapEntry mapKey=\"SECRET_B\" mappedValue=\"7.5\"/></mapping>"    \
    "</responseDeclaration>"                                                                       \
    "<outcomeDeclaration identifier=\"SCORE\" cardinality=\"single\" baseType=\"float\"/>"         \
    "<outcomeDeclaration identifier=\"MAXSCORE\" cardinality=\"single\" baseType=\"float\">"       \
    "<defaultValue><value>2</value></defaultValue></outcomeDeclaration>"

static kt_qti_errors errs;

static void
setup(void)
{
    kt_qti_errors_init(&errs);
}

static void
teardown(void)
{
    kt_qti_errors_free(&errs);
}

TestSuite(render, .init = setup, .fini = teardown);

static json_t *
render(const char *xml, const char *const *assets, size_t nassets)
{
    return kt_qti_render(xml, strlen(xml), "t.xml", assets, nassets, &errs);
}

static char *
dump(const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT);
    cr_assert_not_null(s);
    return s;
}

Test(render, choice_item_is_sanitised_and_keyless)
{
    static const char *const assets[] = {"items/I1/img/a.png", "items/other/b.png"};
    json_t *v = render(
        ITEM21(CHOICE_DECL
               "<itemBody><p style=\"background:url(x)\" onclick=\"evil()\" id=\"question\">Chọn "
               "<b>đúng</b> <img src=\"img/a.png\" alt=\"hình\" width=\"20\" onerror=\"x()\"/></p>"
               "<rubricBlock view=\"scorer\"><p>SECRET_RUBRIC</p></rubricBlock>"
               "<rubricBlock view=\"candidate\"><p>Đọc kĩ đề</p></rubricBlock>"
               "<a href=\"javascript:alert(1)\">liên kết</a>"
               "<math xmlns=\"http://www.w3.org/1998/Math/MathML\"><mi href=\"javascript:x\">x</mi>"
               "<annotation encoding=\"TeX\">SECRET_TEX</annotation></math>"
               "<choiceInteraction responseIdentifier=\"RESPONSE\" shuffle=\"true\" "
               "maxChoices=\"1\"><prompt>Câu <i>hỏi</i></prompt>"
               "<simpleChoice identifier=\"A\" fixed=\"true\">a<feedbackInline "
               "outcomeIdentifier=\"FEEDBACK\" identifier=\"A\" showHide=\"show\">SECRET_FB"
               "</feedbackInline></simpleChoice>"
               "<simpleChoice identifier=\"SECRET_B\">b</simpleChoice></choiceInteraction>"
               "<feedbackBlock outcomeIdentifier=\"FEEDBACK\" identifier=\"x\" showHide=\"show\">"
               "SECRET_BLOCK</feedbackBlock></itemBody>"
               "<responseProcessing template=\"http://www.imsglobal.org/question/qti_v2p1/"
               "rptemplates/map_response\"/>"
               "<modalFeedback outcomeIdentifier=\"FEEDBACK\" identifier=\"A\" showHide=\"show\">"
               "SECRET_MODAL</modalFeedback>"),
        assets, 2);
    cr_assert_not_null(v, "%s", errs.n ? errs.v[0].message : "");
    char *s = dump(v);
    static const char *const never[] = {"SECRET_RUBRIC", "SECRET_FB",  "SECRET_BLOCK",
                                        "SECRET_MODAL",  "SECRET_TEX", "correctResponse",
                                        "mapEntry",      "7.5",        "onclick",
                                        "onerror",       "style",      "javascript",
                                        "id=",           "href",       "responseProcessing"};
    for (size_t i = 0; i < sizeof never / sizeof *never; i++)
        cr_assert_null(strstr(s, never[i]), "%s in %s", never[i], s);
    const char *html = json_string_value(json_object_get(v, "html"));
    cr_assert_str_eq(html,
                     "<p>Chọn <b>đúng</b> <img data-kt-asset=\"items/I1/img/a.png\" alt=\"hình\" "
                     "width=\"20\"/></p><div class=\"kt-rubric\"><p>Đọc kĩ đề</p></div>liên kết"
                     "<math xmlns=\"http://www.w3.org/1998/Math/MathML\"><mi>x</mi></math>"
                     "<span data-kt-interaction=\"0\"></span>");
    json_t *it = json_array_get(json_object_get(v, "interactions"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(it, "type")), "choice");
    cr_assert_str_eq(json_string_value(json_object_get(it, "cardinality")), "single");
    cr_assert_str_eq(json_string_value(json_object_get(it, "prompt_html")), "Câu <i>hỏi</i>");
    cr_assert_eq(json_integer_value(json_object_get(it, "max_choices")), 1);
    cr_assert(json_is_true(json_object_get(it, "shuffle")));
    json_t *choices = json_object_get(it, "choices");
    cr_assert_eq(json_array_size(choices), 2);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(choices, 0), "html")), "a");
    cr_assert(json_is_true(json_object_get(json_array_get(choices, 0), "fixed")));
    cr_assert_str_eq(json_string_value(json_object_get(v, "max_score")), "2");
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(v, "assets"), 0)),
                     "items/I1/img/a.png");
    free(s);
    json_decref(v);
}

Test(render, qti3_text_entry_inline_choice_order_match_gap)
{
    json_t *v = render(
        "<qti-assessment-item " NS30 " identifier=\"I3\" title=\"T\" adaptive=\"false\" "
        "time-dependent=\"false\">"
        "<qti-response-declaration identifier=\"T\" cardinality=\"single\" base-type=\"float\">"
        "<qti-correct-response><qti-value>1.5</qti-value></qti-correct-response>"
        "</qti-response-declaration>"
        "<qti-response-declaration identifier=\"C\" cardinality=\"single\" base-type=\"identifier\"/>"
        "<qti-response-declaration identifier=\"O\" cardinality=\"ordered\" base-type=\"identifier\"/>"
        "<qti-response-declaration identifier=\"M\" cardinality=\"multiple\" "
        "base-type=\"directedPair\"/>"
        "<qti-response-declaration identifier=\"G\" cardinality=\"multiple\" "
        "base-type=\"directedPair\"/>"
        "<qti-response-declaration identifier=\"E\" cardinality=\"single\" base-type=\"string\"/>"
        "<qti-item-body><p>x = <qti-text-entry-interaction response-identifier=\"T\" "
        "expected-length=\"6\"/> and <qti-inline-choice-interaction response-identifier=\"C\" "
        "shuffle=\"false\"><qti-inline-choice identifier=\"c1\">một</qti-inline-choice>"
        "<qti-inline-choice identifier=\"c2\">hai</qti-inline-choice>"
        "</qti-inline-choice-interaction></p>"
        "<qti-order-interaction response-identifier=\"O\" shuffle=\"true\">"
        "<qti-simple-choice identifier=\"o1\">1</qti-simple-choice>"
        "<qti-simple-choice identifier=\"o2\">2</qti-simple-choice></qti-order-interaction>"
        "<qti-match-interaction response-identifier=\"M\" max-associations=\"4\">"
        "<qti-simple-match-set><qti-simple-associable-choice identifier=\"a\" match-max=\"1\">a"
        "</qti-simple-associable-choice></qti-simple-match-set><qti-simple-match-set>"
        "<qti-simple-associable-choice identifier=\"DUNG\" match-max=\"4\">Đúng"
        "</qti-simple-associable-choice></qti-simple-match-set></qti-match-interaction>"
        "<qti-gap-match-interaction response-identifier=\"G\"><qti-gap-text identifier=\"W\" "
        "match-max=\"1\">từ</qti-gap-text><p>Điền <qti-gap identifier=\"G1\"/>.</p>"
        "</qti-gap-match-interaction>"
        "<qti-extended-text-interaction response-identifier=\"E\" expected-lines=\"5\"/>"
        "</qti-item-body></qti-assessment-item>",
        NULL, 0);
    cr_assert_not_null(v, "%s", errs.n ? errs.v[0].message : "");
    json_t *its = json_object_get(v, "interactions");
    cr_assert_eq(json_array_size(its), 6);
    static const char *const types[] = {"textEntry", "inlineChoice", "order", "match",
                                        "gapMatch",  "extendedText"};
    for (size_t i = 0; i < 6; i++)
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(its, i), "type")),
                         types[i]);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(its, 0), "expected_length")), 6);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(its, 0), "base_type")),
                     "float");
    json_t *gm = json_array_get(its, 4);
    cr_assert_str_eq(json_string_value(json_object_get(gm, "html")),
                     "<p>Điền <span data-kt-gap=\"G1\"></span>.</p>");
    cr_assert_eq(json_array_size(json_object_get(json_array_get(its, 3), "sets")), 2);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(its, 5), "expected_lines")), 5);
    char *s = dump(v);
    cr_assert_null(strstr(s, "1.5"), "%s", s);
    free(s);
    json_decref(v);
}

static const char *
first_refusal(const char *xml, const char *const *assets, size_t n)
{
    json_t *v = render(xml, assets, n);
    cr_assert_null(v);
    cr_assert_gt(errs.n, 0);
    return errs.v[0].element ? errs.v[0].element : "";
}

Test(render, refusals_name_the_element)
{
    cr_assert_str_eq(first_refusal(ITEM21(CHOICE_DECL "<itemBody><hottextInteraction "
                                                      "responseIdentifier=\"RESPONSE\" "
                                                      "maxChoices=\"1\"><p>x</p>"
                                                      "</hottextInteraction></itemBody>"),
                                   NULL, 0),
                     "hottextInteraction");
    cr_assert(strstr(errs.v[0].message, "choice, inlineChoice"));
    kt_qti_errors_free(&errs);
    kt_qti_errors_init(&errs);
    cr_assert_str_eq(first_refusal(ITEM21(CHOICE_DECL "<itemBody><p><img src=\"http://x/a.png\" "
                                                      "alt=\"\"/></p></itemBody>"),
                                   NULL, 0),
                     "img");
    kt_qti_errors_free(&errs);
    kt_qti_errors_init(&errs);
    cr_assert_str_eq(first_refusal(ITEM21(CHOICE_DECL "<itemBody><p>v = <printedVariable "
                                                      "identifier=\"SCORE\"/></p></itemBody>"),
                                   NULL, 0),
                     "printedVariable");
    kt_qti_errors_free(&errs);
    kt_qti_errors_init(&errs);
    cr_assert_str_eq(first_refusal(ITEM21("<templateDeclaration identifier=\"A\" "
                                          "cardinality=\"single\" baseType=\"integer\"/>" CHOICE_DECL
                                          "<itemBody><p>x</p></itemBody>"),
                                   NULL, 0),
                     "templateDeclaration");
    kt_qti_errors_free(&errs);
    kt_qti_errors_init(&errs);
    cr_assert_str_eq(first_refusal(ITEM21(CHOICE_DECL "<itemBody><object data=\"m.mp4\" "
                                                      "type=\"video/mp4\"/></itemBody>"),
                                   NULL, 0),
                     "object");
}

/* ---- a test published --------------------------------------------------------- */

#define TEST_DOC(parts)                                                                            \
    "<assessmentTest xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\" identifier=\"T\" "         \
    "title=\"Đề\"><timeLimits maxTime=\"1200\"/>" parts "</assessmentTest>"

static json_t *
bank(void)
{
    static const char *const ids[] = {"Q1", "Q2", "Q3"};
    json_t *items = json_object();
    for (int i = 0; i < 3; i++) {
        char xml[4096];
        snprintf(xml, sizeof xml,
                 "<assessmentItem " NS21 " identifier=\"%s\" title=\"T\" adaptive=\"false\" "
                 "timeDependent=\"false\">" CHOICE_DECL
                 "<itemBody><choiceInteraction responseIdentifier=\"RESPONSE\" shuffle=\"true\" "
                 "maxChoices=\"1\"><simpleChoice identifier=\"A\">a</simpleChoice><simpleChoice "
                 "identifier=\"SECRET_B\">b</simpleChoice><simpleChoice identifier=\"C\">c"
                 "</simpleChoice></choiceInteraction></itemBody><responseProcessing "
                 "template=\"http://www.imsglobal.org/question/qti_v2p1/rptemplates/"
                 "match_correct\"/></assessmentItem>",
                 ids[i]);
        json_object_set_new(items, ids[i],
                            json_pack("{s:i,s:i,s:s,s:s,s:[]}", "id", 10 + i, "version", 1,
                                      "status", "draft", "xml", xml, "assets"));
    }
    return items;
}

static json_t *
meta(int forms)
{
    return json_pack("{s:s,s:s,s:i,s:s,s:i,s:n}", "title", "Đề", "subject", "TOAN", "grade", 10,
                     "kind", "tx", "forms", forms, "duration_seconds");
}

Test(deliver, selection_ordering_per_form_reproducible)
{
    static const char xml[] = TEST_DOC(
        "<testPart identifier=\"P\" navigationMode=\"linear\" submissionMode=\"individual\">"
        "<assessmentSection identifier=\"S1\" title=\"Phần một\" visible=\"true\">"
        "<selection select=\"2\"/><ordering shuffle=\"true\"/>"
        "<assessmentItemRef identifier=\"Q1\" href=\"items/Q1.xml\"/>"
        "<assessmentItemRef identifier=\"r2\" href=\"items/Q2.xml\"/>"
        "<assessmentItemRef identifier=\"r3\" href=\"Q3/qti.xml\"/></assessmentSection>"
        "</testPart>");
    json_t *problems = json_array();
    json_t *refs = kt_qti_test_refs(xml, strlen(xml), problems);
    cr_assert_eq(json_array_size(problems), 0);
    cr_assert_eq(json_array_size(refs), 3);
    json_t *n3 = json_object_get(json_array_get(refs, 2), "names");
    cr_assert_str_eq(json_string_value(json_array_get(n3, 0)), "r3");
    cr_assert_str_eq(json_string_value(json_array_get(n3, 1)), "qti");
    cr_assert_str_eq(json_string_value(json_array_get(n3, 2)), "Q3");
    json_decref(refs);
    json_decref(problems);
    json_t *items = bank(), *m = meta(4);
    kt_qti_publish a, b;
    kt_qti_publish_build(xml, strlen(xml), m, items, 42, &a);
    kt_qti_publish_build(xml, strlen(xml), m, items, 42, &b);
    cr_assert_eq(a.rc, 0, "%s", json_dumps(a.problems, 0));
    cr_assert_eq(a.duration_seconds, 1200);
    cr_assert_str_eq(a.navigation_mode, "linear");
    cr_assert_eq(json_array_size(a.items), 3);
    cr_assert_eq(json_array_size(a.forms), 4);
    cr_assert(json_equal(a.forms, b.forms), "same seed, same forms");
    cr_assert_eq(a.total_points, 400); /* MAXSCORE 2 per item, 2 selected */
    int differ = 0;
    for (size_t f = 0; f < 4; f++) {
        json_t *p = json_object_get(json_array_get(a.forms, f), "payload");
        json_t *its = json_object_get(p, "items");
        cr_assert_eq(json_array_size(its), 2);
        char *s = dump(p);
        cr_assert_null(strstr(s, "correctResponse"));
        cr_assert_null(strstr(s, "7.5"));
        cr_assert_null(strstr(s, "match_correct"));
        differ += !json_equal(p, json_object_get(json_array_get(a.forms, 0), "payload"));
        free(s);
    }
    cr_assert_gt(differ, 0, "forms differ by selection, order or choices");
    kt_qti_publish_free(&a);
    kt_qti_publish_free(&b);
    json_decref(items);
    json_decref(m);
}

static const char *
refused(const char *xml, const char *element)
{
    json_t *items = bank(), *m = meta(1);
    kt_qti_publish p;
    kt_qti_publish_build(xml, strlen(xml), m, items, 1, &p);
    cr_assert_eq(p.rc, 1);
    static char msg[800];
    msg[0] = '\0';
    size_t i;
    json_t *e;
    json_array_foreach(p.problems, i, e) if (strcmp(json_string_value(json_object_get(e, "element"))
                                                        ? json_string_value(json_object_get(e, "element"))
                                                        : "",
                                                    element) == 0)
        snprintf(msg, sizeof msg, "%s", json_string_value(json_object_get(e, "message")));
    cr_assert(msg[0], "no problem for %s in %s", element, json_dumps(p.problems, 0));
    kt_qti_publish_free(&p);
    json_decref(items);
    json_decref(m);
    return msg;
}

Test(deliver, unsupported_features_refused_by_name)
{
#define PART(mode, inner)                                                                          \
    "<testPart identifier=\"P\" navigationMode=\"" mode "\" submissionMode=\"individual\">"        \
    "<assessmentSection identifier=\"S\" title=\"S\" visible=\"true\">" inner                      \
    "</assessmentSection></testPart>"
#define REF1 "<assessmentItemRef identifier=\"Q1\" href=\"Q1.xml\"/>"
    refused(TEST_DOC(PART("linear", REF1 "<assessmentItemRef identifier=\"Q2\" href=\"Q2.xml\">"
                                         "<branchRule target=\"EXIT_TEST\"><baseValue "
                                         "baseType=\"boolean\">true</baseValue></branchRule>"
                                         "</assessmentItemRef>")),
            "branchRule");
    refused(TEST_DOC(PART("linear", "<selection select=\"1\" withReplacement=\"true\"/>" REF1)),
            "selection");
    refused(TEST_DOC(PART("linear", "<assessmentItemRef identifier=\"Q1\" href=\"Q1.xml\">"
                                    "<timeLimits maxTime=\"30\"/></assessmentItemRef>")),
            "timeLimits");
    refused(TEST_DOC(PART("linear", "<assessmentItemRef identifier=\"Q1\" href=\"Q1.xml\">"
                                    "<itemSessionControl maxAttempts=\"3\"/></assessmentItemRef>")),
            "itemSessionControl");
    refused(TEST_DOC(PART("linear", REF1) PART("nonlinear", "<assessmentItemRef identifier=\"Q2\" "
                                                            "href=\"Q2.xml\"/>")),
            "testPart");
    const char *m = refused(TEST_DOC(PART("linear", "<assessmentItemRef identifier=\"Q9\" "
                                                    "href=\"items/Q9.xml\"/>")),
                            "assessmentItemRef");
    cr_assert(strstr(m, "Q9"), "%s", m);
    refused(TEST_DOC(PART("linear", REF1) "<outcomeProcessing><setOutcomeValue identifier=\"X\">"
                                          "<numberCorrect/></setOutcomeValue></outcomeProcessing>"),
            "outcomeProcessing");
    refused(TEST_DOC(PART("linear", REF1) "<testFeedback access=\"atEnd\" showHide=\"show\" "
                                          "outcomeIdentifier=\"X\" identifier=\"Y\">x"
                                          "</testFeedback>"),
            "testFeedback");
}

Test(deliver, score_total_outcome_processing_is_accepted)
{
    static const char xml[] = TEST_DOC(
        PART("nonlinear", REF1) "<outcomeProcessing><setOutcomeValue identifier=\"SCORE\"><sum>"
                                "<testVariables variableIdentifier=\"SCORE\"/></sum>"
                                "</setOutcomeValue></outcomeProcessing>");
    json_t *items = bank(), *m = meta(1);
    kt_qti_publish p;
    kt_qti_publish_build(xml, strlen(xml), m, items, 1, &p);
    cr_assert_eq(p.rc, 0, "%s", json_dumps(p.problems, 0));
    cr_assert_str_eq(p.navigation_mode, "nonlinear");
    kt_qti_publish_free(&p);
    json_decref(items);
    json_decref(m);
}

/* ---- the corpus ----------------------------------------------------------------- */

struct tally {
    int delivered, refused;
    json_t *reasons; /* element -> count */
};



/* Renders one parsed item with its own references as stored assets. */
static void
check_item(struct tally *t, const kt_qti_item *it)
{
    kt_qti_errors e;
    kt_qti_errors_init(&e);
    json_t *v = kt_qti_render(it->xml, it->xml_len, it->file, it->assets, it->nassets, &e);
    if (!v) {
        cr_assert_gt(e.n, 0, "%s refused without a reason", it->file);
        const char *el = e.v[0].element ? e.v[0].element : "(item)";
        char key[128];
        kt_qti_fold_name(el, key, sizeof key);
        const char *k = strncmp(el, "qti-", 4) == 0 || strchr(el, '-') ? key : el;
        json_object_set_new(t->reasons, k,
                            json_integer(json_integer_value(json_object_get(t->reasons, k)) + 1));
        t->refused++;
        kt_qti_errors_free(&e);
        return;
    }
    kt_qti_errors_free(&e);
    t->delivered++;
    char *s = dump(v);
    static const char *const never[] = {
        "correctResponse", "correct-response", "mapEntry",       "map-entry",
        "responseProcessing", "response-processing", "outcomeDeclaration", "modalFeedback",
        "modal-feedback",  "feedbackInline",   "feedback-inline", "feedbackBlock",
        "feedback-block",  "templateBlock",    "printedVariable", "<script",
        " onclick",        " onload",          " onerror",        " style=",
        "<iframe",         "<object",          "<embed",          "javascript:"};
    for (size_t i = 0; i < sizeof never / sizeof *never; i++)
        cr_assert_null(strstr(s, never[i]), "%s: %s in the view", it->file, never[i]);
    /* No scorer rubric text: the view of an item with a scorer rubricBlock
     * holds none of its words that the item body does not repeat elsewhere. */
    cr_assert_null(strstr(s, "kt-model-answer"), "%s", it->file);
    free(s);
    json_decref(v);
}

static void
walk_file(void *ctx, const char *path, const char *buf, size_t len, bool zip)
{
    struct tally *t = ctx;
    if (!buf)
        return;
    kt_qti_errors pe;
    kt_qti_errors_init(&pe);
    if (zip) {
        kt_qti_package pkg;
        if (kt_qti_package_read(buf, len, path, &pkg, &pe) == 0) {
            for (size_t i = 0; i < pkg.nitems; i++)
                check_item(t, pkg.items[i]);
            kt_qti_package_free(&pkg);
        }
    } else {
        kt_qti_doc doc;
        if (kt_qti_parse(buf, len, path, &doc, &pe) == 0 && doc.item)
            check_item(t, doc.item);
        kt_qti_doc_free(&doc);
    }
    kt_qti_errors_free(&pe);
}

Test(render, corpus)
{
    const char *dir = KIEMTRA_SOURCE_DIR "/../shared/corpus/qti";
    struct stat st;
    if (stat(dir, &st) != 0)
        cr_skip("QTI corpus not found at %s", dir);
    struct tally t = {0, 0, json_object()};
    corpus_walk(dir, walk_file, &t);
    char *reasons = json_dumps(t.reasons, JSON_SORT_KEYS | JSON_COMPACT);
    printf("delivered %d refused %d: %s\n", t.delivered, t.refused, reasons);
    free(reasons);
    /* Of the 379 items kt_qti_parse accepts (test_qti.c), 258 are delivered;
     * the 121 others are refused, counted by the element of their first
     * problem: interactions not delivered yet; assessmentItem: adaptive
     * items (9) and items without an itemBody (14, scoring fixtures);
     * itemBody: no interaction to answer (21); object, audio, include,
     * positionObjectStage: media and other content not shown; sub, ruby,
     * math: elements of a foreign namespace (SSML, HTML5, MathML 2010);
     * choice/match: a cardinality or baseType the control cannot give;
     * order: minChoices/maxChoices; img: a picture outside the package. */
    json_t *want = json_pack(
        "{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,"
        "s:i,s:i,s:i,s:i,s:i,s:i}",
        "assessmentItem", 23, "assessmentStimulusRef", 3, "associateInteraction", 8, "audio", 1,
        "choiceInteraction", 3, "drawingInteraction", 1, "endAttemptInteraction", 2,
        "graphicAssociateInteraction", 1, "graphicGapMatchInteraction", 2,
        "graphicOrderInteraction", 3, "hotspotInteraction", 6, "hottextInteraction", 5, "img", 1,
        "include", 3, "itemBody", 21, "matchInteraction", 4, "math", 1, "mediaInteraction", 2,
        "object", 10, "orderInteraction", 1, "positionObjectStage", 1, "ruby", 1,
        "selectPointInteraction", 2, "sliderInteraction", 6, "sub", 2, "templateDeclaration", 6,
        "uploadInteraction", 2);
    cr_assert_eq(t.delivered, 258);
    cr_assert_eq(t.refused, 121);
    cr_assert(json_equal(t.reasons, want), "refusals by element differ");
    json_decref(want);
    json_decref(t.reasons);
}

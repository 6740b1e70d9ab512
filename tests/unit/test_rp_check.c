/*
 * Unit tests for the static type check of response and template processing
 * (engine/rp_check.c, through kt_rp_compile_checked): ill-typed items are
 * refused with the rule, element and line; well-typed ones, including the
 * evaluator's leniencies, pass; and over the shared corpus every item that
 * compiles passes except the ill-typed ones listed here.
 */
#include <criterion/criterion.h>

#include "corpus_walk.h"

#include <jansson.h>

#include "package.h"
#include "qti.h"
#include "rp_compile.h"

#define NS21 "xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\""
#define ITEM(decls, tp, rp)                                                                        \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<assessmentItem " NS21                            \
    " identifier=\"I1\" title=\"T\" adaptive=\"false\" timeDependent=\"false\">\n" decls tp        \
    "<itemBody><p>x</p></itemBody>\n" rp "</assessmentItem>"
#define RESP(card, base)                                                                           \
    "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"" card "\" baseType=\"" base       \
    "\"/>\n"
#define SCORE_FLOAT                                                                                \
    "<outcomeDeclaration identifier=\"SCORE\" cardinality=\"single\" baseType=\"float\"/>\n"
#define RP(rules) "<responseProcessing>\n" rules "</responseProcessing>\n"
#define SET_SCORE(x) "<setOutcomeValue identifier=\"SCORE\">" x "</setOutcomeValue>\n"
#define ID(v) "<baseValue baseType=\"identifier\">" v "</baseValue>"
#define INT(v) "<baseValue baseType=\"integer\">" v "</baseValue>"
#define FLT(v) "<baseValue baseType=\"float\">" v "</baseValue>"

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

TestSuite(check, .init = setup, .fini = teardown);

/* Compiles and checks xml; true when it passes. */
static bool
passes(const char *xml)
{
    kt_rp_item *it = kt_rp_compile_checked(xml, strlen(xml), "t.xml", &errs, NULL);
    kt_rp_item_free(it);
    return it != NULL;
}

/* Refused with exactly one problem whose message holds each of the words. */
static void
refused(const char *xml, long line, const char *element, const char *const *words)
{
    cr_assert_not(passes(xml), "accepted: %s", xml);
    cr_assert_eq(errs.n, 1, "%zu problems, first: %s", errs.n, errs.n ? errs.v[0].message : "");
    const kt_qti_error *e = &errs.v[0];
    cr_assert_str_eq(e->file, "t.xml");
    cr_assert_eq(e->line, line, "line %ld, expected %ld: %s", e->line, line, e->message);
    cr_assert_str_eq(e->element, element);
    for (; *words; words++)
        cr_assert(strstr(e->message, *words), "\"%s\" not in \"%s\"", *words, e->message);
}

Test(check, multiple_into_single_outcome)
{
    const char *xml = ITEM(RESP("single", "identifier") SCORE_FLOAT
                           "<outcomeDeclaration identifier=\"CHOSEN\" cardinality=\"single\""
                           " baseType=\"identifier\"/>\n",
                           "",
                           RP(SET_SCORE(FLT("1")) "<setOutcomeValue identifier=\"CHOSEN\">"
                                                  "<multiple>" ID("A")
                                                      ID("B") "</multiple></setOutcomeValue>\n"));
    refused(xml, 9, "setOutcomeValue",
            (const char *[]){"setOutcomeValue", "CHOSEN", "multiple identifier",
                             "single identifier", NULL});
}

Test(check, multiple_response_into_single_outcome)
{
    const char *xml =
        ITEM(RESP("multiple",
                  "identifier") "<outcomeDeclaration identifier=\"CHOSEN\" cardinality=\"single\""
                                " baseType=\"identifier\"/>\n",
             "",
             RP("<setOutcomeValue identifier=\"CHOSEN\">"
                "<variable identifier=\"RESPONSE\"/></setOutcomeValue>\n"));
    refused(xml, 7, "setOutcomeValue", (const char *[]){"CHOSEN", "nhiều phần tử", NULL});
}

Test(check, response_of_one_choice_into_single_outcome)
{
    /* A multiple response whose interaction takes one choice holds one value
     * at most: setting it to a single outcome is fine; with two, refused. */
    const char *one =
        "<?xml version=\"1.0\"?>\n<assessmentItem " NS21 " identifier=\"I1\" title=\"T\""
        " adaptive=\"false\" timeDependent=\"false\">\n" RESP(
            "multiple",
            "identifier") "<outcomeDeclaration identifier=\"CHOSEN\" cardinality=\"single\""
                          " baseType=\"identifier\"/>\n<itemBody><choiceInteraction "
                          "responseIdentifier=\"RESPONSE\""
                          " maxChoices=\"1\"><simpleChoice "
                          "identifier=\"A\">a</simpleChoice></choiceInteraction>"
                          "</itemBody>\n" RP(
                              "<setOutcomeValue identifier=\"CHOSEN\"><variable "
                              "identifier=\"RESPONSE\"/></setOutcomeValue>\n") "</assessmentItem>";
    cr_assert(passes(one), "%s", errs.n ? errs.v[0].message : "");
    char *two = strdup(one);
    memcpy(strstr(two, "maxChoices=\"1\"") + 12, "2", 1);
    cr_assert_not(passes(two));
    free(two);
}

Test(check, sum_of_identifiers)
{
    const char *xml = ITEM(RESP("single", "identifier") SCORE_FLOAT, "",
                           RP(SET_SCORE("<sum>" INT("1") "\n<variable identifier=\"RESPONSE\"/>"
                                                         "</sum>")));
    refused(xml, 8, "sum",
            (const char *[]){"setOutcomeValue (biến SCORE)", "<sum>", "toán hạng thứ 2",
                             "single identifier", "integer hoặc float", NULL});
}

Test(check, condition_that_is_not_a_boolean)
{
    const char *xml =
        ITEM(RESP("single", "integer") SCORE_FLOAT, "",
             RP("<responseCondition><responseIf>\n<variable identifier=\"RESPONSE\"/>" SET_SCORE(
                 FLT("1")) "</responseIf></responseCondition>\n"));
    refused(xml, 8, "variable",
            (const char *[]){"responseCondition", "single integer", "single boolean", NULL});
}

Test(check, set_correct_response_of_another_type)
{
    const char *xml = ITEM(RESP("single", "integer") SCORE_FLOAT,
                           "<templateProcessing>\n<setCorrectResponse identifier=\"RESPONSE\">"
                           "<baseValue baseType=\"string\">sáu</baseValue></setCorrectResponse>\n"
                           "</templateProcessing>\n",
                           RP(""));
    refused(xml, 6, "setCorrectResponse",
            (const char *[]){"setCorrectResponse", "RESPONSE", "single string", "single integer",
                             NULL});
}

Test(check, template_processing_operands)
{
    const char *xml =
        ITEM("<templateDeclaration identifier=\"A\" cardinality=\"single\" baseType=\"integer\"/>\n"
             "<templateDeclaration identifier=\"B\" cardinality=\"single\" baseType=\"float\"/>\n",
             "<templateProcessing>\n<setTemplateValue identifier=\"A\">"
             "<randomInteger min=\"1\" max=\"9\"/></setTemplateValue>\n"
             "<setTemplateValue identifier=\"B\"><integerDivide><variable identifier=\"A\"/>\n"
             "<variable identifier=\"B\"/></integerDivide></setTemplateValue>\n"
             "</templateProcessing>\n",
             "");
    refused(xml, 8, "integerDivide",
            (const char *[]){"setTemplateValue (biến B)", "toán hạng thứ 2", "single float",
                             "single integer", NULL});
}

Test(check, undeclared_target_and_attribute_variable)
{
    const char *xml =
        ITEM(SCORE_FLOAT, "",
             RP("<setOutcomeValue identifier=\"SCOREX\">" FLT("1") "</setOutcomeValue>\n"));
    refused(xml, 6, "setOutcomeValue", (const char *[]){"SCOREX", "chưa được khai báo", NULL});
    kt_qti_errors_free(&errs);
    kt_qti_errors_init(&errs);
    xml = ITEM(
        "<templateDeclaration identifier=\"N\" cardinality=\"single\" baseType=\"string\"/>\n"
        "<templateDeclaration identifier=\"A\" cardinality=\"single\" baseType=\"integer\"/>\n",
        "<templateProcessing>\n<setTemplateValue identifier=\"A\">"
        "<randomInteger min=\"1\" max=\"{N}\"/></setTemplateValue>\n</templateProcessing>\n",
        "");
    refused(xml, 6, "randomInteger", (const char *[]){"max", "biến N", "single string", NULL});
}

Test(check, every_problem_is_reported)
{
    const char *xml = ITEM(
        RESP("single", "identifier") SCORE_FLOAT, "",
        RP(SET_SCORE("<sum>" ID("A") "</sum>")
               SET_SCORE("<multiple>" FLT("1") FLT("2") "</multiple>") SET_SCORE(
                   "<product>" INT("1") "<containerSize>" INT("2") "</containerSize></product>")));
    cr_assert_not(passes(xml));
    cr_assert_eq(errs.n, 3, "%zu", errs.n);
}

Test(check, standard_template_against_declarations)
{
    /* map_response into an identifier outcome: the rule comes from the
     * template, the line is the responseProcessing element's. */
    const char *xml =
        ITEM(RESP("single",
                  "identifier") "<outcomeDeclaration identifier=\"SCORE\" cardinality=\"single\""
                                " baseType=\"identifier\"/>\n",
             "",
             "<responseProcessing template=\"http://www.imsglobal.org/question/qti_v2p1/"
             "rptemplates/map_response\"/>\n");
    cr_assert_not(passes(xml));
    cr_assert_eq(errs.v[0].line, 6, "%ld %s", errs.v[0].line, errs.v[0].message);
    cr_assert(strstr(errs.v[0].message, "single float"), "%s", errs.v[0].message);
}

Test(check, what_the_evaluator_accepts_passes)
{
    /* A container of one into a single outcome, a single value into a
     * container, integer and float widening, identifier to string, sum
     * over a container of integers, member with a single second operand,
     * NULL and undeclared variables anywhere, numbers compared with durations. */
    const char *xml = ITEM(
        RESP("multiple", "integer") SCORE_FLOAT
        "<outcomeDeclaration identifier=\"N\" cardinality=\"single\" baseType=\"integer\"/>\n"
        "<outcomeDeclaration identifier=\"S\" cardinality=\"single\" baseType=\"string\"/>\n"
        "<outcomeDeclaration identifier=\"L\" cardinality=\"multiple\" baseType=\"identifier\"/>\n",
        "",
        RP(SET_SCORE("<multiple>" FLT(
            "1") "</multiple>") "<setOutcomeValue "
                                "identifier=\"N\"><sum><variable "
                                "identifier=\"RESPONSE\"/>" FLT(
                                    "0.5") "</sum></setOutcomeValue>\n"
                                           "<setOutcomeValue "
                                           "identifier=\"S\">" ID(
                                               "A") "</setOutcomeValue>\n"
                                                    "<setOutcomeValue "
                                                    "identifier="
                                                    "\"L\">" ID(
                                                        "A") "</"
                                                             "setOutcomeV"
                                                             "alue>\n"
                                                             "<setOutcome"
                                                             "Value "
                                                             "identifier="
                                                             "\"L\"><"
                                                             "null/></"
                                                             "setOutcomeV"
                                                             "alue>\n"
                                                             "<responseCo"
                                                             "ndition><"
                                                             "responseIf>"
                                                             "<and><"
                                                             "member"
                                                             ">" INT("1") INT(
                                                                 "1") "</"
                                                                      "me"
                                                                      "mb"
                                                                      "er"
                                                                      ">"
                                                                      "<i"
                                                                      "sN"
                                                                      "ul"
                                                                      "l>"
                                                                      "<v"
                                                                      "ar"
                                                                      "ia"
                                                                      "bl"
                                                                      "e "
                                                                      "id"
                                                                      "en"
                                                                      "ti"
                                                                      "fi"
                                                                      "er"
                                                                      "="
                                                                      "\""
                                                                      "NO"
                                                                      "PE"
                                                                      "\""
                                                                      "/>"
                                                                      "</"
                                                                      "is"
                                                                      "Nu"
                                                                      "ll"
                                                                      ">"
                                                                      "<g"
                                                                      "t>"
                                                                      "<v"
                                                                      "ar"
                                                                      "ia"
                                                                      "bl"
                                                                      "e "
                                                                      "id"
                                                                      "en"
                                                                      "ti"
                                                                      "fi"
                                                                      "er"
                                                                      "="
                                                                      "\""
                                                                      "du"
                                                                      "ra"
                                                                      "ti"
                                                                      "on"
                                                                      "\""
                                                                      "/"
                                                                      ">" INT(
                                                                          "5") "</gt>"
                                                                               "<match><variable "
                                                                               "identifier="
                                                                               "\"NOPE\"/>" ID("A") "</match></and>" SET_SCORE(
                                                                                   "<variable "
                                                                                   "identifier="
                                                                                   "\"N\"/>") "</"
                                                                                              "resp"
                                                                                              "onse"
                                                                                              "If><"
                                                                                              "/res"
                                                                                              "pons"
                                                                                              "eCon"
                                                                                              "diti"
                                                                                              "on>"
                                                                                              "\n"));
    cr_assert(passes(xml), "%s", errs.n ? errs.v[0].message : "");
}

/* ---- the shared corpus ------------------------------------------------------------------- */

/* Items of the corpus that compile but are ill-typed (the evaluator stops on
 * them); keep in step with docs/QTI-SUPPORT.md, "Static type check". */
static const char *const ILL_TYPED[] = {
    /* match of a multiple response with a single identifier: stops on any answer */
    "qti-sdk/test/samples/ims/items/2_1/choice_multiple_chocolade.xml",
    /* a string set to an integer outcome when RESPONSE is empty */
    "tao-itemqti/test/integration/samples/xml/qtiv2p1/composite.xml",
    "tao-itemqti/test/integration/samples/xml/qtiv2p1/responseProcessing/custom.xml",
    /* the same, plus operands of mixed types and an undeclared outcome */
    "tao-itemqti/test/integration/samples/xml/qtiv2p1/composite_complex_rp.xml",
    /* equal of a string response with a float: stops on any answer */
    "citolab-scoring-engine/Scoring.Tests/Resources/2x/ResponseProcessing/210091.xml",
    "citolab-scoring-engine/Scoring.Tests/Resources/30/ResponseProcessing/"
    "e726a093-a5dd-456e-8cc4-fd987cd05438.xml",
    NULL,
};

struct survey {
    int compiled, refused, ill_typed;
};

static bool
listed(const char *label)
{
    for (const char *const *p = ILL_TYPED; *p; p++)
        if (strstr(label, *p))
            return true;
    return false;
}

static void
survey_item(struct survey *s, const kt_qti_item *it)
{
    kt_qti_errors e;
    kt_qti_errors_init(&e);
    kt_rp_item *plain = kt_rp_compile(it->xml, it->xml_len, it->file, &e, NULL);
    if (!plain) {
        s->refused++;
        printf("no compile %s: %s\n", it->file, e.v[0].message);
        kt_qti_errors_free(&e);
        return;
    }
    kt_rp_item_free(plain);
    s->compiled++;
    kt_rp_item *checked = kt_rp_compile_checked(it->xml, it->xml_len, it->file, &e, NULL);
    if (!checked) {
        s->ill_typed++;
        for (size_t i = 0; i < e.n; i++)
            printf("ill-typed %s:%ld <%s> %s\n", e.v[i].file, e.v[i].line, e.v[i].element,
                   e.v[i].message);
        cr_expect(listed(it->file), "%s is refused: %s", it->file, e.v[0].message);
    } else {
        cr_expect_not(listed(it->file), "%s passes: remove it from ILL_TYPED", it->file);
    }
    kt_rp_item_free(checked);
    kt_qti_errors_free(&e);
}

static void
survey_file(void *ctx, const char *path, const char *buf, size_t len, bool zip)
{
    kt_qti_errors e;
    kt_qti_errors_init(&e);
    if (buf && zip) {
        kt_qti_package pkg;
        if (kt_qti_package_read(buf, len, path, &pkg, &e) == 0) {
            for (size_t i = 0; i < pkg.nitems; i++)
                survey_item(ctx, pkg.items[i]);
            kt_qti_package_free(&pkg);
        }
    } else if (buf) {
        kt_qti_doc d;
        if (kt_qti_parse(buf, len, path, &d, &e) == 0) {
            if (d.item)
                survey_item(ctx, d.item);
            kt_qti_doc_free(&d);
        }
    }
    kt_qti_errors_free(&e);
}

Test(check, corpus)
{
    struct stat st;
    if (stat(KT_CORPUS_DIR, &st) != 0)
        cr_skip("QTI corpus not found at %s", KT_CORPUS_DIR);
    struct survey s = {0};
    corpus_walk(KT_CORPUS_DIR, survey_file, &s);
    printf("corpus: %d items compile, %d do not, %d ill-typed\n", s.compiled, s.refused,
           s.ill_typed);
    cr_assert_eq(s.compiled, 376);
    cr_assert_eq(s.ill_typed, 6);
}

/*
 * The maximum SCORE read from an item's rules (engine/rp_maxscore.c): hand-
 * written items for each rule (mappings with bounds and cardinality, areas,
 * branches, sums, templates, the refusals), and over the shared corpus: no
 * expected SCORE of cases.jsonl is above the maximum derived for its item.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zip.h>

#include "rp_compile.h"
#include "rp_maxscore.h"

#define NS "http://www.imsglobal.org/xsd/imsqti_v2p1"
#define TPL "http://www.imsglobal.org/question/qti_v2p1/rptemplates/"

static kt_rp_max
max_of(const char *xml)
{
    kt_qti_errors errs;
    kt_qti_errors_init(&errs);
    kt_rp_item *it = kt_rp_compile(xml, strlen(xml), "t.xml", &errs, NULL);
    cr_assert_not_null(it, "%s", errs.n ? errs.v[0].message : "?");
    kt_qti_errors_free(&errs);
    kt_rp_max m;
    kt_rp_max_score(it, &m);
    kt_rp_item_free(it);
    return m;
}

/* An item: response declarations, outcome declarations, body, processing. */
static char *
item(const char *responses, const char *outcomes, const char *body, const char *rp)
{
    static char buf[8192];
    snprintf(buf, sizeof buf,
             "<assessmentItem xmlns=\"" NS "\" identifier=\"t\" title=\"t\" adaptive=\"false\""
             " timeDependent=\"false\">%s%s<itemBody>%s</itemBody>%s</assessmentItem>",
             responses, outcomes, body, rp);
    return buf;
}

#define SCORE_FLOAT                                                                                \
    "<outcomeDeclaration identifier=\"SCORE\" cardinality=\"single\" baseType=\"float\"/>"
#define SCORE_INT                                                                                  \
    "<outcomeDeclaration identifier=\"SCORE\" cardinality=\"single\" baseType=\"integer\"/>"
#define MAP_RESPONSE "<responseProcessing template=\"" TPL "map_response\"/>"

static void
expect(const char *xml, kt_rp_max_source source, double value)
{
    kt_rp_max m = max_of(xml);
    cr_assert_eq(m.source, source, "source %d, wanted %d (%s)", m.source, source, m.reason);
    cr_assert(fabs(m.value - value) < 1e-9, "max %g, wanted %g", m.value, value);
}

static void
expect_unknown(const char *xml, const char *reason_part)
{
    kt_rp_max m = max_of(xml);
    cr_assert_eq(m.source, KT_RP_MAX_UNKNOWN, "derived %g", m.value);
    cr_assert(strstr(m.reason, reason_part), "reason: %s", m.reason);
}

static char *
choices(const char *card, const char *mapping, const char *max_choices)
{
    static char decl[2048], body[1024];
    snprintf(
        decl, sizeof decl,
        "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"%s\" baseType=\"identifier\">"
        "%s</responseDeclaration>",
        card, mapping);
    snprintf(body, sizeof body,
             "<choiceInteraction responseIdentifier=\"RESPONSE\" %s>"
             "<simpleChoice identifier=\"A\">a</simpleChoice><simpleChoice identifier=\"B\">b"
             "</simpleChoice><simpleChoice identifier=\"C\">c</simpleChoice>"
             "<simpleChoice identifier=\"D\">d</simpleChoice></choiceInteraction>",
             max_choices);
    return item(decl, SCORE_FLOAT, body, MAP_RESPONSE);
}

#define ABC                                                                                        \
    "<mapEntry mapKey=\"A\" mappedValue=\"1\"/><mapEntry mapKey=\"B\" mappedValue=\"1\"/>"         \
    "<mapEntry mapKey=\"C\" mappedValue=\"1\"/><mapEntry mapKey=\"D\" mappedValue=\"-1\"/>"

Test(maxscore, mapping_multiple_sums_positive_entries)
{
    expect(choices("multiple", "<mapping defaultValue=\"0\">" ABC "</mapping>", "maxChoices=\"0\""),
           KT_RP_MAX_DERIVED, 3);
}

Test(maxscore, mapping_capped_by_upper_bound)
{
    expect(choices("multiple", "<mapping defaultValue=\"0\" upperBound=\"2.5\">" ABC "</mapping>",
                   "maxChoices=\"0\""),
           KT_RP_MAX_DERIVED, 2.5);
}

Test(maxscore, mapping_limited_by_max_choices)
{
    expect(choices("multiple", "<mapping>" ABC "</mapping>", "maxChoices=\"2\""), KT_RP_MAX_DERIVED,
           2);
    /* maxChoices defaults to 1 */
    expect(choices("multiple", "<mapping>" ABC "</mapping>", ""), KT_RP_MAX_DERIVED, 1);
}

Test(maxscore, mapping_single_takes_the_best_entry)
{
    expect(
        choices(
            "single",
            "<mapping defaultValue=\"0\"><mapEntry mapKey=\"A\" mappedValue=\"2\"/>"
            "<mapEntry mapKey=\"B\" mappedValue=\"0.5\"/><mapEntry mapKey=\"A\" mappedValue=\"7\"/>"
            "</mapping>",
            ""),
        KT_RP_MAX_DERIVED, 2); /* the second A is never reached */
}

Test(maxscore, positive_default_without_bound_is_unknown)
{
    expect_unknown(
        choices("multiple", "<mapping defaultValue=\"0.5\">" ABC "</mapping>", "maxChoices=\"0\""),
        "giới hạn trên");
    expect(choices("multiple", "<mapping defaultValue=\"0.5\" upperBound=\"4\">" ABC "</mapping>",
                   "maxChoices=\"0\""),
           KT_RP_MAX_DERIVED, 4);
    /* two choices at most: A and B, 1 each, beat two unmapped values */
    expect(
        choices("multiple", "<mapping defaultValue=\"0.5\">" ABC "</mapping>", "maxChoices=\"2\""),
        KT_RP_MAX_DERIVED, 2);
}

Test(maxscore, case_insensitive_strings)
{
    const char *decl =
        "<responseDeclaration identifier=\"R\" cardinality=\"single\" baseType=\"string\">"
        "<mapping><mapEntry mapKey=\"Hà Nội\" mappedValue=\"1\" caseSensitive=\"false\"/>"
        "<mapEntry mapKey=\"HÀ NỘI\" mappedValue=\"5\"/></mapping></responseDeclaration>";
    const char *rp = "<responseProcessing><setOutcomeValue identifier=\"SCORE\"><mapResponse "
                     "identifier=\"R\"/></setOutcomeValue></responseProcessing>";
    expect(item(decl, SCORE_FLOAT, "<textEntryInteraction responseIdentifier=\"R\"/>", rp),
           KT_RP_MAX_DERIVED, 1);
    const char *many =
        "<responseDeclaration identifier=\"R\" cardinality=\"multiple\" baseType=\"string\">"
        "<mapping><mapEntry mapKey=\"x\" mappedValue=\"1\" caseSensitive=\"false\"/>"
        "</mapping></responseDeclaration>";
    expect_unknown(item(many, SCORE_FLOAT, "", rp), "giới hạn trên"); /* x, X, ... each count */
}

Test(maxscore, declared_maximum_wins)
{
    const char *decl = "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"single\" "
                       "baseType=\"identifier\">"
                       "<correctResponse><value>A</value></correctResponse></responseDeclaration>";
    expect(item(decl,
                SCORE_FLOAT "<outcomeDeclaration identifier=\"MAXSCORE\" cardinality=\"single\""
                            " baseType=\"float\"><defaultValue><value>5</value></defaultValue>"
                            "</outcomeDeclaration>",
                "", "<responseProcessing template=\"" TPL "match_correct\"/>"),
           KT_RP_MAX_MAXSCORE, 5);
    expect(item(decl,
                "<outcomeDeclaration identifier=\"SCORE\" cardinality=\"single\" baseType=\"float\""
                " normalMaximum=\"4\"/>",
                "", "<responseProcessing template=\"" TPL "match_correct\"/>"),
           KT_RP_MAX_NORMAL_MAXIMUM, 4);
    /* match_correct alone: 1 */
    expect(item(decl, SCORE_FLOAT, "", "<responseProcessing template=\"" TPL "match_correct\"/>"),
           KT_RP_MAX_DERIVED, 1);
    /* a MAXSCORE declared without a value says nothing */
    expect(item(decl,
                SCORE_FLOAT "<outcomeDeclaration identifier=\"MAXSCORE\" cardinality=\"single\""
                            " baseType=\"float\"/>",
                "", "<responseProcessing template=\"" TPL "match_correct\"/>"),
           KT_RP_MAX_DERIVED, 1);
}

#define TWO_RESPONSES                                                                              \
    "<responseDeclaration identifier=\"R1\" cardinality=\"single\" baseType=\"identifier\">"       \
    "<correctResponse><value>A</value></correctResponse></responseDeclaration>"                    \
    "<responseDeclaration identifier=\"R2\" cardinality=\"multiple\" baseType=\"identifier\">"     \
    "<correctResponse><value>A</value></correctResponse></responseDeclaration>"
#define IF(cond, rules)                                                                            \
    "<responseCondition><responseIf>" cond rules "</responseIf></responseCondition>"
#define MATCH(r) "<match><variable identifier=\"" r "\"/><correct identifier=\"" r "\"/></match>"
#define SET(v) "<setOutcomeValue identifier=\"SCORE\">" v "</setOutcomeValue>"
#define NUM(x) "<baseValue baseType=\"float\">" x "</baseValue>"
#define PLUS(x) SET("<sum><variable identifier=\"SCORE\"/>" NUM(x) "</sum>")
#define RP(x) "<responseProcessing>" x "</responseProcessing>"

Test(maxscore, branches_take_the_best)
{
    const char *rp = RP("<responseCondition><responseIf>" MATCH("R1") SET(
        NUM("3")) "</responseIf>"
                  "<responseElseIf>" MATCH("R2") SET(NUM(
                      "2")) "</responseElseIf>"
                            "<responseElse>" SET(NUM("0")) "</responseElse></responseCondition>");
    expect(item(TWO_RESPONSES, SCORE_FLOAT, "", rp), KT_RP_MAX_DERIVED, 3);
}

Test(maxscore, sums_over_different_responses)
{
    expect(item(TWO_RESPONSES, SCORE_FLOAT, "",
                RP(IF(MATCH("R1"), PLUS("1")) IF(MATCH("R2"), PLUS("2")))),
           KT_RP_MAX_DERIVED, 3);
    /* the same response twice: which answers go together is not known */
    expect_unknown(item(TWO_RESPONSES, SCORE_FLOAT, "",
                        RP(IF(MATCH("R2"), PLUS("1"))
                               IF("<member><baseValue baseType=\"identifier\">B</baseValue>"
                                  "<variable identifier=\"R2\"/></member>",
                                  PLUS("1")))),
                   "SCORE");
}

Test(maxscore, refusals_name_the_reason)
{
    const char *num =
        "<responseDeclaration identifier=\"N\" cardinality=\"single\" baseType=\"integer\"/>";
    expect_unknown(item(num, SCORE_FLOAT, "", RP(SET("<variable identifier=\"N\"/>"))), "N");
    /* a cap written as a condition on SCORE itself */
    expect_unknown(
        item(TWO_RESPONSES, SCORE_FLOAT, "",
             RP(IF(MATCH("R1"), PLUS("3"))
                    IF("<gt><variable identifier=\"SCORE\"/>" NUM("2") "</gt>", SET(NUM("2"))))),
        "SCORE");
    expect_unknown(item(TWO_RESPONSES, SCORE_FLOAT, "",
                        RP(IF(MATCH("R1"), SET("<power>" NUM("2") NUM("3") "</power>")))),
                   "power");
    expect_unknown(item(TWO_RESPONSES, SCORE_FLOAT, "", ""), "lớn hơn 0");
    expect_unknown(item(TWO_RESPONSES, "", "", RP(IF(MATCH("R1"), "<exitResponse/>"))), "SCORE");
}

Test(maxscore, exit_and_arithmetic)
{
    const char *map =
        "<responseDeclaration identifier=\"R\" cardinality=\"multiple\" baseType=\"identifier\">"
        "<mapping><mapEntry mapKey=\"A\" mappedValue=\"1.5\"/>"
        "<mapEntry mapKey=\"B\" mappedValue=\"1\"/></mapping></responseDeclaration>";
    const char *body = "<choiceInteraction responseIdentifier=\"R\" maxChoices=\"0\"/>";
    expect(item(map, SCORE_FLOAT, body,
                RP("<responseCondition><responseIf><isNull><variable "
                   "identifier=\"R\"/></isNull>" SET(NUM("0")) "<exitResponse/></responseIf></"
                                                               "responseCondition>" SET(
                                                                   "<product><mapResponse "
                                                                   "identifier=\"R\"/>" NUM(
                                                                       "2") "</product>"))),
           KT_RP_MAX_DERIVED, 5);
    /* an integer SCORE truncates 2.5 */
    expect(item(map, SCORE_INT, body, RP(SET("<mapResponse identifier=\"R\"/>"))),
           KT_RP_MAX_DERIVED, 2);
    /* a value computed under a condition on its own response may not reach its best */
    expect_unknown(item(map, SCORE_FLOAT, body,
                        RP(IF("<member><baseValue baseType=\"identifier\">B</baseValue>"
                              "<variable identifier=\"R\"/></member>",
                              SET("<mapResponse identifier=\"R\"/>")))),
                   "SCORE");
    expect_unknown(
        item(map,
             "<outcomeDeclaration identifier=\"SCORE\" cardinality=\"single\" "
             "baseType=\"float\"><matchTable><matchTableEntry sourceValue=\"1\" "
             "targetValue=\"3\"/></matchTable></outcomeDeclaration>",
             body,
             RP("<lookupOutcomeValue identifier=\"SCORE\"><baseValue baseType=\"integer\">1"
                "</baseValue></lookupOutcomeValue>")),
        "lookupOutcomeValue");
}

Test(maxscore, area_mappings)
{
    char decl[1024];
    const char *areas =
        "<areaMapEntry shape=\"circle\" coords=\"10,10,5\" mappedValue=\"1\"/>"
        "<areaMapEntry shape=\"rect\" coords=\"40,40,60,60\" mappedValue=\"2\"/>"
        "<areaMapEntry shape=\"poly\" coords=\"100,0,120,0,110,20\" mappedValue=\"-1\"/>";
    const char *rp = "<responseProcessing template=\"" TPL "map_response_point\"/>";
    snprintf(
        decl, sizeof decl,
        "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"single\" baseType=\"point\">"
        "<areaMapping defaultValue=\"0\">%s</areaMapping></responseDeclaration>",
        areas);
    expect(item(decl, SCORE_FLOAT, "", rp), KT_RP_MAX_DERIVED, 2);
    snprintf(
        decl, sizeof decl,
        "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"multiple\" baseType=\"point\">"
        "<areaMapping defaultValue=\"0\" upperBound=\"2.5\">%s</areaMapping></responseDeclaration>",
        areas);
    expect(item(decl, SCORE_FLOAT, "", rp), KT_RP_MAX_DERIVED, 2.5);
    snprintf(
        decl, sizeof decl,
        "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"multiple\" baseType=\"point\">"
        "<areaMapping>%s<areaMapEntry shape=\"circle\" coords=\"12,12,5\" mappedValue=\"1\"/>"
        "</areaMapping></responseDeclaration>",
        areas);
    expect_unknown(item(decl, SCORE_FLOAT, "", rp), "chồng");
}

Test(maxscore, standard_templates)
{
    const char *decl = "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"multiple\" "
                       "baseType=\"identifier\">"
                       "<correctResponse><value>A</value></correctResponse>"
                       "<mapping lowerBound=\"0\">" ABC "</mapping></responseDeclaration>";
    const char *body = "<choiceInteraction responseIdentifier=\"RESPONSE\" maxChoices=\"4\"/>";
    const char *names[] = {"CC2_map_response", "map_response"};
    for (size_t i = 0; i < 2; i++) {
        char rp[256];
        snprintf(rp, sizeof rp, "<responseProcessing template=\"%s%s\"/>", TPL, names[i]);
        expect(item(decl, SCORE_FLOAT, body, rp), KT_RP_MAX_DERIVED, 3);
    }
    expect(item(decl, SCORE_FLOAT, body, "<responseProcessing template=\"" TPL "CC2_match\"/>"),
           KT_RP_MAX_DERIVED, 1);
    /* CC2_match_basic gives SCORE = MAXSCORE, which this item does not declare */
    expect_unknown(
        item(decl, SCORE_FLOAT, body, "<responseProcessing template=\"" TPL "CC2_match_basic\"/>"),
        "không được khai báo");
}

/* ---- the shared corpus ---------------------------------------------------------------------- */

#define CORPUS KIEMTRA_SOURCE_DIR "/../shared/corpus/qti"

static char *
load_item(const char *rel)
{
    char path[4096];
    const char *bang = strchr(rel, '!');
    snprintf(path, sizeof path, "%s/%.*s", CORPUS, bang ? (int)(bang - rel) : (int)strlen(rel),
             rel);
    char *buf = NULL;
    if (!bang) {
        FILE *f = fopen(path, "rb");
        if (!f)
            return NULL;
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        rewind(f);
        buf = malloc((size_t)n + 1);
        buf[fread(buf, 1, (size_t)n, f)] = '\0';
        fclose(f);
        return buf;
    }
    int ze;
    zip_t *z = zip_open(path, ZIP_RDONLY, &ze);
    zip_stat_t st;
    if (z && zip_stat(z, bang + 1, 0, &st) == 0) {
        zip_file_t *f = zip_fopen(z, bang + 1, 0);
        buf = malloc(st.size + 1);
        zip_int64_t got = f ? zip_fread(f, buf, st.size) : 0;
        buf[got > 0 ? got : 0] = '\0';
        if (f)
            zip_fclose(f);
    }
    if (z)
        zip_close(z);
    return buf;
}

Test(maxscore, corpus_never_below_an_expected_score)
{
    FILE *f = fopen(CORPUS "/expected/cases.jsonl", "r");
    if (!f)
        cr_skip_test("../shared/corpus/qti/expected/cases.jsonl not found: corpus test skipped");
    char line[65536], last[4096] = "";
    kt_rp_max m = {0};
    long items = 0, derived = 0, declared = 0, cases = 0, reached = 0, violations = 0;
    bool have = false, reached_item = false;
    while (fgets(line, sizeof line, f)) {
        json_t *c = json_loads(line, 0, NULL);
        cr_assert_not_null(c);
        const char *rel = json_string_value(json_object_get(c, "item"));
        if (strcmp(rel, last) != 0) {
            snprintf(last, sizeof last, "%s", rel);
            items++;
            reached += reached_item;
            reached_item = false;
            char *xml = load_item(rel);
            kt_qti_errors errs;
            kt_qti_errors_init(&errs);
            kt_rp_item *it = xml ? kt_rp_compile(xml, strlen(xml), rel, &errs, NULL) : NULL;
            have = it != NULL;
            if (it) {
                kt_rp_max_score(it, &m);
                derived += m.source == KT_RP_MAX_DERIVED;
                declared += m.source == KT_RP_MAX_MAXSCORE || m.source == KT_RP_MAX_NORMAL_MAXIMUM;
                have = m.source != KT_RP_MAX_UNKNOWN;
            }
            kt_rp_item_free(it);
            kt_qti_errors_free(&errs);
            free(xml);
        }
        const char *score =
            json_string_value(json_object_get(json_object_get(c, "expect"), "SCORE"));
        if (have && score && m.source == KT_RP_MAX_DERIVED) {
            double s = strtod(score, NULL);
            cases++;
            if (s > m.value + 1e-9) {
                violations++;
                fprintf(stderr, "above the derived maximum %g: %s %s SCORE %s\n", m.value, rel,
                        json_string_value(json_object_get(c, "kind")), score);
            }
            reached_item |= fabs(s - m.value) < 1e-9;
        }
        json_decref(c);
    }
    reached += reached_item;
    fclose(f);
    fprintf(stderr,
            "corpus: %ld items, maximum declared by %ld, derived for %ld (reached by an expected "
            "case in %ld), %ld cases checked\n",
            items, declared, derived, reached, cases);
    cr_assert_eq(violations, 0);
    cr_assert_gt(derived, 100);
}

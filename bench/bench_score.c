/*
 * Scoring throughput: one MCQ item (choice interaction, match_correct
 * template) is compiled once, then N responses (alternately right and
 * wrong) are scored on one thread, each a full attempt of an item session:
 * set the response, run response processing, read SCORE. Prints responses/s.
 *   bench_score [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rp_compile.h"

static const char ITEM[] =
    "<assessmentItem xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\" identifier=\"mcq\""
    " title=\"MCQ\" adaptive=\"false\" timeDependent=\"false\">"
    "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"single\" baseType=\"identifier\">"
    "<correctResponse><value>C</value></correctResponse></responseDeclaration>"
    "<outcomeDeclaration identifier=\"SCORE\" cardinality=\"single\" baseType=\"float\"/>"
    "<itemBody><choiceInteraction responseIdentifier=\"RESPONSE\" maxChoices=\"1\">"
    "<simpleChoice identifier=\"A\">1</simpleChoice><simpleChoice identifier=\"B\">2</simpleChoice>"
    "<simpleChoice identifier=\"C\">3</simpleChoice><simpleChoice identifier=\"D\">4</simpleChoice>"
    "</choiceInteraction></itemBody>"
    "<responseProcessing template=\"http://www.imsglobal.org/question/qti_v2p1/rptemplates/"
    "match_correct\"/></assessmentItem>";

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 5000000;
    kt_qti_errors errs;
    kt_qti_errors_init(&errs);
    kt_rp_item *item = kt_rp_compile(ITEM, sizeof ITEM - 1, "mcq.xml", &errs, NULL);
    if (!item) {
        fprintf(stderr, "compile failed: %s\n", errs.n ? errs.v[0].message : "?");
        return 1;
    }
    kt_rp_session s;
    kt_rp_session_init(&s, item, 1);
    static const char *const ANSWERS[] = {"C", "A", "C", "D"};
    double total = 0, t0 = now();
    for (long i = 0; i < n; i++) {
        const char *answer = ANSWERS[i & 3];
        if (kt_rp_session_set_response(&s, "RESPONSE", &answer, 1) < 0 ||
            kt_rp_session_attempt(&s) < 0) {
            fprintf(stderr, "scoring failed: %s\n", s.error);
            return 1;
        }
        total += kt_rp_session_get(&s, "SCORE")->one.u.f;
    }
    double secs = now() - t0;
    if (total != (double)(n / 2 + (n % 4 > 0) + (n % 4 > 2))) {
        fprintf(stderr, "wrong total score %.0f\n", total);
        return 1;
    }
    printf("%ld responses in %.3f s: %.0f responses/s\n", n, secs, (double)n / secs);
    kt_rp_session_free(&s);
    kt_rp_item_free(item);
    kt_qti_errors_free(&errs);
    return 0;
}

/*
 * Unit tests for engine/itemstats.c against a published worked example and
 * the invariants of classical item analysis.
 *
 * Worked example: Karl L. Wuensch, "The Kuder-Richardson 20" (KR20.txt,
 * East Carolina University, Dept. of Psychology, StatHelp,
 * https://core.ecu.edu/wuenschk/StatHelp/KR20.txt): ten students A-J, a
 * ten-item quiz scored 0/1. The handout prints the data table, the totals
 * (8 7 7 2 2 9 8 9 7 7), p per item (.7 .7 .6 .7 .6 .8 .7 .7 .5 .6),
 * p*q per item (.21 .21 .24 .21 .24 .16 .21 .21 .25 .24, sum 2.18) and the
 * variance of the totals 5.84 (divided by N: the population variance, so
 * SD = sqrt(5.84) = 2.417), and notes that KR-20 is Cronbach's alpha on
 * 0/1 scores. With its formula KR20 = k/(k-1) (1 - sum pq / variance):
 * 10/9 * (1 - 2.18/5.84) = 0.696.
 * Point-biserials from the same table by the textbook formula
 * r_pb = (M_p - M_q) / S_x * sqrt(p q) (M_p, M_q: mean total of those who
 * got the item right / wrong, S_x = 2.417): item 1: M_p = 55/7 = 7.857,
 * M_q = 11/3 = 3.667, r_pb = 0.795; item 3: M_p = 7, M_q = 6, r_pb = 0.203;
 * item 9: M_p = 6.8, M_q = 6.4, r_pb = 0.083.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "itemstats.h"

#define N 10
#define K 10

static const int wuensch[N][K] = {
    {1, 1, 1, 1, 1, 1, 0, 1, 1, 0}, /* A  8 */
    {1, 0, 1, 1, 0, 1, 1, 1, 0, 1}, /* B  7 */
    {1, 1, 1, 1, 0, 1, 1, 0, 0, 1}, /* C  7 */
    {0, 0, 1, 0, 0, 0, 1, 0, 0, 0}, /* D  2 */
    {0, 0, 0, 0, 0, 1, 0, 0, 1, 0}, /* E  2 */
    {1, 1, 1, 0, 1, 1, 1, 1, 1, 1}, /* F  9 */
    {1, 1, 0, 1, 1, 1, 0, 1, 1, 1}, /* G  8 */
    {1, 1, 1, 1, 1, 1, 1, 1, 0, 1}, /* H  9 */
    {0, 1, 0, 1, 1, 1, 1, 1, 0, 1}, /* I  7 */
    {1, 1, 0, 1, 1, 0, 1, 1, 1, 0}, /* J  7 */
};

static int64_t scores[N * K], maxes[K];

static void
load(int64_t unit)
{
    for (int i = 0; i < N; i++)
        for (int j = 0; j < K; j++)
            scores[i * K + j] = wuensch[i][j] * unit;
    for (int j = 0; j < K; j++)
        maxes[j] = unit;
}

#define near3(a, b) cr_expect(fabs((a) - (b)) < 0.0005, "%s = %.6f, expected %.3f", #a, (a), (b))

Test(itemstats, wuensch_kr20_worked_example)
{
    load(100); /* one point per item, in hundredths */
    kt_istat_input in = {.n = N, .k = K, .score = scores, .max = maxes, .bins = 10};
    kt_istat_result r;
    cr_assert_eq(kt_istat_compute(&in, &r), 0);
    static const double p[K] = {.7, .7, .6, .7, .6, .8, .7, .7, .5, .6};
    for (int j = 0; j < K; j++)
        near3(r.items[j].p, p[j]);
    near3(r.mean, 6.6);
    near3(r.sd * r.sd, 5.84);
    near3(r.sd, 2.417);
    near3(r.median, 7.0);
    near3(r.min, 2.0);
    near3(r.max, 9.0);
    cr_assert(r.kr20.ok);
    near3(r.kr20.v, 0.696);
    cr_assert(r.alpha.ok);
    near3(r.alpha.v, r.kr20.v); /* the handout's point: KR-20 is alpha on 0/1 scores */
    near3(r.items[0].r_pb.v, 0.795);
    near3(r.items[2].r_pb.v, 0.203);
    near3(r.items[8].r_pb.v, 0.083);
    /* The corrected item-rest correlation is lower; items 7 and 9 turn negative. */
    cr_expect(r.items[0].r_rest.v < r.items[0].r_pb.v);
    near3(r.items[6].r_rest.v, -0.027);
    near3(r.items[8].r_rest.v, -0.124);
    cr_expect(r.items[6].flags & KT_ISTAT_NEGATIVE);
    cr_expect(r.items[8].flags & KT_ISTAT_NEGATIVE);
    cr_expect(!(r.items[0].flags & KT_ISTAT_NEGATIVE));
    /* 27 % of 10 is 3: upper F, H, A (9, 9, 8); lower J, D, E (7, 2, 2) with
     * ties kept in input order. Item 4: upper 0+1+1, lower 1+0+0. */
    cr_expect_eq(r.group, 3);
    near3(r.items[3].d.v, 1.0 / 3.0);
    near3(r.items[0].d.v, 2.0 / 3.0);
    near3(r.items[6].d.v, 0.0);
    /* Histogram over 0..10 in 10 bins: 2 in [2,3), 4 in [7,8), 2 in [8,9), 2 at 9. */
    size_t expect[10] = {0, 0, 2, 0, 0, 0, 0, 4, 2, 2}, sum = 0;
    for (int b = 0; b < 10; b++) {
        cr_expect_eq(r.hist[b].count, expect[b], "bin %d", b);
        sum += r.hist[b].count;
    }
    cr_expect_eq(sum, N);
    near3(r.hist[9].from, 9.0);
    near3(r.hist[9].to, 10.0);
    kt_istat_free(&r);
}

Test(itemstats, scale_invariance_of_correlations_not_of_points)
{
    /* The same pattern with items worth 0.25 points: correlations, p, D and
     * KR-20 unchanged; mean and SD scale by 0.25. */
    load(25);
    kt_istat_input in = {.n = N, .k = K, .score = scores, .max = maxes, .bins = 4};
    kt_istat_result r;
    cr_assert_eq(kt_istat_compute(&in, &r), 0);
    near3(r.kr20.v, 0.696);
    near3(r.alpha.v, 0.696);
    near3(r.mean, 6.6 * 0.25);
    near3(r.sd, 2.417 * 0.25);
    near3(r.items[0].r_pb.v, 0.795);
    kt_istat_free(&r);
}

Test(itemstats, pearson_matches_engine_correlations)
{
    load(100);
    kt_istat_input in = {.n = N, .k = K, .score = scores, .max = maxes, .bins = 10};
    kt_istat_result r;
    cr_assert_eq(kt_istat_compute(&in, &r), 0);
    for (int j = 0; j < K; j++) {
        double x[N], t[N], rest[N];
        for (int i = 0; i < N; i++) {
            x[i] = wuensch[i][j];
            t[i] = 0;
            for (int m = 0; m < K; m++)
                t[i] += wuensch[i][m];
            rest[i] = t[i] - x[i];
        }
        kt_istat_value a = kt_istat_pearson(x, t, N), b = kt_istat_pearson(x, rest, N);
        cr_assert(a.ok && r.items[j].r_pb.ok);
        cr_expect(fabs(a.v - r.items[j].r_pb.v) < 1e-9, "item %d", j + 1);
        if (b.ok)
            cr_expect(fabs(b.v - r.items[j].r_rest.v) < 1e-9, "item %d", j + 1);
        cr_expect(r.items[j].d.v >= -1.0 && r.items[j].d.v <= 1.0);
    }
    kt_istat_free(&r);
}

Test(itemstats, constant_item_has_no_correlation)
{
    /* Item 0 answered right by everyone: its correlations are undefined
     * (ok = 0, never NaN) and it is flagged too easy. */
    int64_t s[4 * 3] = {100, 100, 0, 100, 0, 100, 100, 100, 100, 100, 0, 0};
    int64_t m[3] = {100, 100, 100};
    kt_istat_input in = {.n = 4, .k = 3, .score = s, .max = m, .bins = 3};
    kt_istat_result r;
    cr_assert_eq(kt_istat_compute(&in, &r), 0);
    cr_expect(!r.items[0].r_pb.ok);
    cr_expect(!r.items[0].r_rest.ok);
    cr_expect(!isnan(r.items[0].r_pb.v));
    cr_expect(r.items[0].flags & KT_ISTAT_EASY);
    cr_expect(r.items[1].r_pb.ok && r.items[2].r_pb.ok);
    kt_istat_free(&r);
}

Test(itemstats, constant_totals_and_tiny_groups)
{
    /* Everyone the same total: no reliability, no correlation. One student:
     * no groups, no D. */
    int64_t s[2 * 2] = {100, 0, 0, 100};
    int64_t m[2] = {100, 100};
    kt_istat_input in = {.n = 2, .k = 2, .score = s, .max = m, .bins = 2};
    kt_istat_result r;
    cr_assert_eq(kt_istat_compute(&in, &r), 0);
    cr_expect(!r.kr20.ok && !r.alpha.ok);
    cr_expect(!r.items[0].r_pb.ok);
    cr_expect(r.items[0].r_rest.ok); /* rest = the other item: r = -1 */
    near3(r.items[0].r_rest.v, -1.0);
    cr_expect(r.items[0].flags & KT_ISTAT_NEGATIVE);
    kt_istat_free(&r);
    in.n = 1;
    cr_assert_eq(kt_istat_compute(&in, &r), 0);
    cr_expect_eq(r.group, 0);
    cr_expect(!r.items[0].d.ok);
    near3(r.median, 1.0);
    kt_istat_free(&r);
    in.n = 0;
    cr_assert_eq(kt_istat_compute(&in, &r), 0);
    cr_expect_eq(r.n, 0);
    cr_expect(!r.alpha.ok);
    kt_istat_free(&r);
}

Test(itemstats, polytomous_alpha_and_flags)
{
    /* Two items of 2 points with partial credit, four students:
     * item 1: 2 1 1 0, item 2: 2 2 0 0; totals 4 3 1 0 (mean 2, var 2.5).
     * Item variances 0.5 and 1.0: alpha = 2 (1 - 1.5 / 2.5) = 0.8; no KR-20. */
    int64_t s[8] = {200, 200, 100, 200, 100, 0, 0, 0};
    int64_t m[2] = {200, 200};
    kt_istat_input in = {.n = 4, .k = 2, .score = s, .max = m, .bins = 4};
    kt_istat_result r;
    cr_assert_eq(kt_istat_compute(&in, &r), 0);
    cr_expect(!r.kr20.ok);
    cr_assert(r.alpha.ok);
    near3(r.alpha.v, 0.8);
    near3(r.items[0].p, 0.5);
    near3(r.median, 2.0);
    cr_expect(!r.items[0].dichotomous && r.items[1].dichotomous);
    cr_expect_eq(r.items[0].flags, 0u);
    kt_istat_free(&r);
}

Test(itemstats, distractors)
{
    /* One MCQ item (key B = option 1) and one other item, five students.
     * Choices: B, B, A, C, none; totals 2, 2, 1, 0, 0 (group of 1). */
    int64_t s[5 * 2] = {100, 100, 100, 100, 0, 100, 0, 0, 0, 0};
    int64_t m[2] = {100, 100};
    uint32_t c[5 * 2] = {2, 0, 2, 0, 1, 0, 4, 0, 0, 0};
    int nopt[2] = {4, 0};
    kt_istat_input in = {
        .n = 5, .k = 2, .score = s, .max = m, .chosen = c, .n_options = nopt, .bins = 2};
    kt_istat_result r;
    cr_assert_eq(kt_istat_compute(&in, &r), 0);
    const kt_istat_item *it = &r.items[0];
    cr_expect_eq(it->n_options, 4);
    cr_expect_eq(it->options[0].count, 1);
    cr_expect_eq(it->options[1].count, 2);
    cr_expect_eq(it->options[2].count, 1);
    cr_expect_eq(it->options[3].count, 0);
    cr_expect_eq(it->omitted, 1);
    near3(it->options[1].p, 0.4);
    near3(it->options[1].mean_total.v, 2.0);
    near3(it->options[0].mean_total.v, 1.0);
    cr_expect(!it->options[3].mean_total.ok);
    cr_expect_eq(r.group, 1); /* round(0.27 * 5) */
    near3(it->options[1].p_upper, 1.0);
    near3(it->options[1].p_lower, 0.0);
    cr_expect_eq(r.items[1].n_options, 0);
    kt_istat_free(&r);
}

Test(itemstats, refuses_bad_input)
{
    int64_t s[1] = {0}, m[1] = {0};
    kt_istat_input in = {.n = 1, .k = 1, .score = s, .max = m, .bins = 1};
    kt_istat_result r;
    cr_expect_eq(kt_istat_compute(&in, &r), -1);
    m[0] = 100;
    in.bins = 0;
    cr_expect_eq(kt_istat_compute(&in, &r), -1);
}

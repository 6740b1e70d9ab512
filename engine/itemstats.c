/*
 * Classical test and item statistics. Scores arrive as integers in
 * hundredths, so sums, sums of squares and cross products are kept exact
 * (128-bit) and only the last division or square root is a double: the
 * same data give the same numbers on every machine. Variances are
 * population variances (divided by n), as in the KR-20 formula.
 */
#include "itemstats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef __int128 wide;

static const kt_istat_value undefined = {0, 0.0};

static kt_istat_value
defined(double v)
{
    kt_istat_value r = {1, v};
    return r;
}

/* n * sum(x^2) - (sum x)^2: n^2 times the population variance, exact. */
static wide
spread(wide n, wide sum, wide sumsq)
{
    return n * sumsq - sum * sum;
}

/* Pearson correlation from exact moments; undefined for a constant side. */
static kt_istat_value
correlation(wide n, wide sx, wide sxx, wide sy, wide syy, wide sxy)
{
    wide vx = spread(n, sx, sxx), vy = spread(n, sy, syy);
    if (n < 2 || vx <= 0 || vy <= 0)
        return undefined;
    double r = (double)(n * sxy - sx * sy) / sqrt((double)vx * (double)vy);
    if (r > 1.0)
        r = 1.0;
    if (r < -1.0)
        r = -1.0;
    return defined(r);
}

kt_istat_value
kt_istat_pearson(const double *x, const double *y, size_t n)
{
    if (n < 2)
        return undefined;
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= (double)n;
    my /= (double)n;
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    if (sxx <= 0 || syy <= 0)
        return undefined;
    return defined(sxy / sqrt(sxx * syy));
}

/* Order of students for the upper/lower groups: total descending, ties in
 * input order. */
struct rank {
    int64_t total;
    size_t index;
};

static int
by_total_desc(const void *a, const void *b)
{
    const struct rank *x = a, *y = b;
    if (x->total != y->total)
        return x->total > y->total ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static int
by_value(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* k / (k - 1) * (1 - sum_item_var / total_var), both as n^2 multiples. */
static kt_istat_value
reliability(size_t k, wide sum_item_spread, wide total_spread)
{
    if (k < 2 || total_spread <= 0)
        return undefined;
    return defined((double)k / (double)(k - 1) *
                   (1.0 - (double)sum_item_spread / (double)total_spread));
}

void
kt_istat_free(kt_istat_result *r)
{
    if (!r)
        return;
    free(r->hist);
    free(r->items);
    memset(r, 0, sizeof(*r));
}

int
kt_istat_compute(const kt_istat_input *in, kt_istat_result *out)
{
    memset(out, 0, sizeof(*out));
    if (!in || in->bins < 1 || in->k < 1 || (in->n > 0 && !in->score) || !in->max)
        return -1;
    size_t n = in->n, k = in->k;
    int64_t max_total = 0;
    for (size_t j = 0; j < k; j++) {
        if (in->max[j] <= 0)
            return -1;
        if (in->n_options && (in->n_options[j] < 0 || in->n_options[j] > KT_ISTAT_MAX_OPTIONS))
            return -1;
        max_total += in->max[j];
    }
    out->n = n;
    out->k = k;
    out->bins = in->bins;
    out->max_total = (double)max_total / 100.0;
    out->kr20 = out->alpha = undefined;
    out->hist = calloc(in->bins, sizeof(*out->hist));
    out->items = calloc(k, sizeof(*out->items));
    int64_t *total = calloc(n ? n : 1, sizeof(*total));
    int64_t *sorted = calloc(n ? n : 1, sizeof(*sorted));
    int64_t *right = calloc(n ? n : 1, sizeof(*right)); /* 0/1 totals for KR-20 */
    struct rank *order = calloc(n ? n : 1, sizeof(*order));
    char *in_upper = calloc(n ? n : 1, 1), *in_lower = calloc(n ? n : 1, 1);
    if (!out->hist || !out->items || !total || !sorted || !right || !order || !in_upper ||
        !in_lower) {
        free(total);
        free(sorted);
        free(right);
        free(order);
        free(in_upper);
        free(in_lower);
        kt_istat_free(out);
        return -1;
    }
    for (size_t b = 0; b < in->bins; b++) {
        /* exact edges: total is in bin b iff b max / bins <= total < (b + 1) max / bins */
        out->hist[b].from = (double)max_total * (double)b / (double)in->bins / 100.0;
        out->hist[b].to = (double)max_total * (double)(b + 1) / (double)in->bins / 100.0;
    }

    /* Totals, their moments, median, extremes, histogram. */
    wide st = 0, stt = 0;
    int dichotomous = 1;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < k; j++) {
            int64_t x = in->score[i * k + j];
            total[i] += x;
            if (x != 0 && x != in->max[j])
                dichotomous = 0;
            right[i] += x == in->max[j];
        }
        st += total[i];
        stt += (wide)total[i] * total[i];
        sorted[i] = total[i];
        order[i].total = total[i];
        order[i].index = i;
        int64_t b = max_total > 0 && total[i] > 0 ? total[i] * (int64_t)in->bins / max_total : 0;
        if (b >= (int64_t)in->bins)
            b = (int64_t)in->bins - 1;
        out->hist[b].count++;
    }
    wide total_spread = spread((wide)n, st, stt);
    if (n > 0) {
        qsort(sorted, n, sizeof(*sorted), by_value);
        out->mean = (double)st / (double)n / 100.0;
        out->sd = sqrt((double)total_spread) / (double)n / 100.0;
        size_t hi = n / 2, lo = n % 2 ? hi : hi - 1; /* the middle one or two */
        out->median = ((double)sorted[lo] + (double)sorted[hi]) / 2.0 / 100.0;
        out->min = (double)sorted[0] / 100.0;
        out->max = (double)sorted[n - 1] / 100.0;
    }

    /* Upper and lower 27 %. */
    size_t g = (27 * n + 50) / 100;
    if (n >= 2 && g == 0)
        g = 1;
    out->group = g;
    qsort(order, n, sizeof(*order), by_total_desc);
    for (size_t r = 0; r < g; r++) {
        in_upper[order[r].index] = 1;
        in_lower[order[n - 1 - r].index] = 1;
    }

    /* Per item. */
    wide sum_item_spread = 0, sum_pq_spread = 0, sr = 0, srr = 0;
    for (size_t i = 0; i < n; i++) {
        sr += right[i];
        srr += (wide)right[i] * right[i];
    }
    for (size_t j = 0; j < k; j++) {
        kt_istat_item *it = &out->items[j];
        int64_t m = in->max[j];
        wide sx = 0, sxx = 0, sxt = 0, up = 0, low = 0, nright = 0;
        int item_dich = 1;
        for (size_t i = 0; i < n; i++) {
            int64_t x = in->score[i * k + j];
            sx += x;
            sxx += (wide)x * x;
            sxt += (wide)x * total[i];
            nright += x == m;
            if (x != 0 && x != m)
                item_dich = 0;
            if (in_upper[i])
                up += x;
            if (in_lower[i])
                low += x;
        }
        it->dichotomous = item_dich;
        wide item_spread = spread((wide)n, sx, sxx);
        sum_item_spread += item_spread;
        /* 0/1 coding: n^2 p q = n * right - right^2 */
        sum_pq_spread += (wide)n * nright - nright * nright;
        if (n > 0) {
            it->mean = (double)sx / (double)n / 100.0;
            it->sd = sqrt((double)item_spread) / (double)n / 100.0;
            it->p = (double)sx / ((double)n * (double)m);
        }
        it->r_pb = correlation((wide)n, sx, sxx, st, stt, sxt);
        /* rest = total - x: sums follow from the ones above */
        wide srest = st - sx;
        wide srr2 = stt - 2 * sxt + sxx;
        wide sxrest = sxt - sxx;
        it->r_rest = correlation((wide)n, sx, sxx, srest, srr2, sxrest);
        if (g > 0) {
            it->p_upper = (double)up / ((double)g * (double)m);
            it->p_lower = (double)low / ((double)g * (double)m);
            it->d = defined(it->p_upper - it->p_lower);
        } else {
            it->d = undefined;
        }
        it->n_options = in->n_options ? in->n_options[j] : 0;
        if (it->n_options > 0 && in->chosen) {
            wide tsum[KT_ISTAT_MAX_OPTIONS] = {0};
            size_t cu[KT_ISTAT_MAX_OPTIONS] = {0}, cl[KT_ISTAT_MAX_OPTIONS] = {0};
            for (size_t i = 0; i < n; i++) {
                uint32_t c = in->chosen[i * k + j];
                if (!(c & ((1u << it->n_options) - 1u)))
                    it->omitted++;
                for (int o = 0; o < it->n_options; o++)
                    if (c & (1u << o)) {
                        it->options[o].count++;
                        tsum[o] += total[i];
                        cu[o] += in_upper[i];
                        cl[o] += in_lower[i];
                    }
            }
            for (int o = 0; o < it->n_options; o++) {
                kt_istat_option *op = &it->options[o];
                op->p = n ? (double)op->count / (double)n : 0.0;
                op->p_upper = g ? (double)cu[o] / (double)g : 0.0;
                op->p_lower = g ? (double)cl[o] / (double)g : 0.0;
                op->mean_total =
                    op->count ? defined((double)tsum[o] / (double)op->count / 100.0) : undefined;
            }
        }
        /* Flags, decided on exact sums: p < 0.2 <=> 5 sx < n m. */
        if (n > 0) {
            if (5 * sx < (wide)n * m)
                it->flags |= KT_ISTAT_HARD;
            if (10 * sx > 9 * (wide)n * m)
                it->flags |= KT_ISTAT_EASY;
        }
        if ((it->r_rest.ok && it->r_rest.v < 0) || (g > 0 && up < low))
            it->flags |= KT_ISTAT_NEGATIVE;
    }
    out->alpha = reliability(k, sum_item_spread, total_spread);
    if (dichotomous)
        out->kr20 = reliability(k, sum_pq_spread, spread((wide)n, sr, srr));

    free(total);
    free(sorted);
    free(right);
    free(order);
    free(in_upper);
    free(in_lower);
    return 0;
}

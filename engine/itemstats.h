/*
 * Classical item statistics of one test: score distribution (mean,
 * population SD, median, min, max, histogram), reliability (KR-20 and
 * Cronbach's alpha), and per item facility, point-biserial correlations,
 * the upper/lower 27 % discrimination index and the distractor table.
 * Pure: scores in, numbers out; no I/O, no globals.
 */
#ifndef KT_ITEMSTATS_H
#define KT_ITEMSTATS_H

#include <stddef.h>
#include <stdint.h>

#define KT_ISTAT_MAX_OPTIONS 8 /* options A..H of a choice item */

/* Item flags. */
enum {
    KT_ISTAT_NEGATIVE = 1, /* item-rest correlation < 0, or D < 0 */
    KT_ISTAT_HARD = 2,     /* p < 0.2 */
    KT_ISTAT_EASY = 4,     /* p > 0.9 */
};

/* A statistic that may be undefined (a correlation with a constant
 * variable, a reliability of one item): ok = 0 means "no value", never NaN. */
typedef struct {
    int ok;
    double v;
} kt_istat_value;

typedef struct {
    size_t n;             /* students (complete attempts) */
    size_t k;             /* items */
    const int64_t *score; /* n * k, row per student: points in hundredths */
    const int64_t *max;   /* k: each item's maximum in hundredths (> 0) */
    /* n * k, or NULL: the options a student chose, bit i = option i
     * (0 = none); only read for items with n_options[j] > 0. */
    const uint32_t *chosen;
    const int *n_options; /* k, or NULL: options of a choice item, 0 otherwise */
    size_t bins;          /* histogram bins over [0, sum of max] (>= 1) */
} kt_istat_input;

typedef struct {
    size_t count;              /* students who chose the option */
    double p;                  /* count / n */
    double p_upper, p_lower;   /* share of the upper / lower group who chose it */
    kt_istat_value mean_total; /* mean total (points) of those who chose it */
} kt_istat_option;

typedef struct {
    double mean;           /* mean score, points */
    double sd;             /* population SD of the item score, points */
    double p;              /* facility: mean / max */
    int dichotomous;       /* every score is 0 or the maximum */
    kt_istat_value r_pb;   /* Pearson of item score with the total (item included) */
    kt_istat_value r_rest; /* corrected: with the total minus this item */
    kt_istat_value d;      /* p(upper 27 %) - p(lower 27 %), facility scale */
    double p_upper, p_lower;
    int n_options;
    kt_istat_option options[KT_ISTAT_MAX_OPTIONS];
    size_t omitted; /* choice item: students who chose nothing */
    unsigned flags; /* KT_ISTAT_* */
} kt_istat_item;

typedef struct {
    double from, to; /* points; a bin holds from <= total < to, the last one also total = to */
    size_t count;
} kt_istat_bin;

typedef struct {
    size_t n, k;
    double max_total;        /* sum of the items' maxima, points */
    double mean, sd, median; /* sd: population (divides by n) */
    double min, max;
    kt_istat_value kr20;  /* only when every item is dichotomous (0/1 coding) */
    kt_istat_value alpha; /* Cronbach's alpha on the points */
    size_t group;         /* size of the upper and of the lower group */
    size_t bins;
    kt_istat_bin *hist;   /* bins entries */
    kt_istat_item *items; /* k entries */
} kt_istat_result;

/* Computes everything; 0, or -1 (bad input or out of memory) with *out
 * cleared. Upper and lower groups: students sorted by total, descending,
 * ties kept in input order; each group holds round(0.27 n) students
 * (at least 1 when n >= 2). Free with kt_istat_free. */
int kt_istat_compute(const kt_istat_input *in, kt_istat_result *out);
void kt_istat_free(kt_istat_result *r);

/* Pearson correlation of x and y (n values); undefined when either is
 * constant or n < 2. */
kt_istat_value kt_istat_pearson(const double *x, const double *y, size_t n);

#endif

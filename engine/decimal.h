/*
 * Exact decimals for scores: an int64 count of millionths. Parsing accepts
 * a decimal point or a decimal comma; rounding is half up (half away from
 * zero), as the Vietnamese rules require (8.25 -> 8.3). A QTI float SCORE
 * becomes a decimal through its shortest decimal form, never its binary one.
 */
#ifndef KT_DECIMAL_H
#define KT_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

#define KT_DECIMAL_PLACES 6
#define KT_DECIMAL_SCALE INT64_C(1000000)

typedef struct {
    int64_t units; /* the value times KT_DECIMAL_SCALE */
} kt_decimal;

/* "2", "-1.75", "1,5", " 0.25 " (surrounding spaces ignored, at most one
 * sign, no exponent, no thousands separators). Digits past the sixth
 * decimal place are rounded half up. Returns 0, or -1 when s is not such a
 * number or its magnitude is 10^12 or more. */
int kt_decimal_parse(const char *s, kt_decimal *out);
/* The decimal nearest the shortest round-trip decimal form of x (so 0.1 +
 * 0.2 gives 0.3 and 2.675 gives 2.675). -1 for NaN, infinities and
 * magnitudes of 10^12 or more. */
int kt_decimal_from_double(double x, kt_decimal *out);
kt_decimal kt_decimal_from_int(int64_t i);

/* Shortest form without trailing zeros ("8.3", "0.25", "1", "-0.5"), with
 * decimal_mark ('.' or ','). snprintf-style return. */
int kt_decimal_format(kt_decimal d, char decimal_mark, char *buf, size_t size);
/* Exactly places decimals (0..6): kt_decimal_format_fixed(8.3, 2) = "8.30". */
int kt_decimal_format_fixed(kt_decimal d, int places, char decimal_mark, char *buf, size_t size);

kt_decimal kt_decimal_add(kt_decimal a, kt_decimal b);
kt_decimal kt_decimal_sub(kt_decimal a, kt_decimal b);
/* a * b, rounded half up to six places. */
kt_decimal kt_decimal_mul(kt_decimal a, kt_decimal b);
/* a * num / den (den > 0), rounded half up to six places. */
kt_decimal kt_decimal_mul_ratio(kt_decimal a, int64_t num, int64_t den);
/* Rounded half up to places decimals (0..6): 8.25 -> 8.3, 7.6875 -> 7.7 at 1. */
kt_decimal kt_decimal_round(kt_decimal d, int places);
/* -1, 0 or 1. */
int kt_decimal_cmp(kt_decimal a, kt_decimal b);

#endif

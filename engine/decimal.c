/*
 * Exact decimal scores (decimal.h): parsing with a decimal point or comma,
 * formatting, sums, products and half-up rounding over int64 millionths,
 * with 128-bit intermediates so products cannot overflow silently. The
 * bridge from a QTI double goes through its shortest decimal form.
 */
#include "decimal.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INT_DIGITS 12 /* magnitudes below 10^12 */

static const int64_t POW10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};

/* Digits of [p, e) as "[-]int[.frac]" with optional exponent exp10 applied. */
static int
parse_digits(const char *p, const char *e, int exp10, kt_decimal *out)
{
    bool neg = false, seen = false, mark = false;
    char digits[64];
    size_t nd = 0, nint = 0;

    if (p < e && (*p == '+' || *p == '-'))
        neg = *p++ == '-';
    for (; p < e; p++) {
        if (isdigit((unsigned char)*p)) {
            if (nd + 1 >= sizeof digits)
                return -1;
            digits[nd++] = *p;
            nint += !mark;
            seen = true;
        } else if ((*p == '.' || *p == ',') && !mark) {
            mark = true;
        } else {
            return -1;
        }
    }
    if (!seen)
        return -1;
    /* The decimal point sits after nint digits, moved by the exponent. */
    long point = (long)nint + exp10;
    __int128 units = 0;
    for (long i = 0; i < point + KT_DECIMAL_PLACES; i++) {
        int d = i >= 0 && (size_t)i < nd ? digits[i] - '0' : 0;
        units = units * 10 + d;
        if (units > (__int128)1000000000000 * KT_DECIMAL_SCALE)
            return -1;
    }
    long next = point + KT_DECIMAL_PLACES;
    if (next >= 0 && (size_t)next < nd && digits[next] >= '5')
        units++;
    if (units >= (__int128)1000000000000 * KT_DECIMAL_SCALE)
        return -1;
    out->units = (int64_t)(neg ? -units : units);
    return 0;
}

int
kt_decimal_parse(const char *s, kt_decimal *out)
{
    if (!s)
        return -1;
    while (*s == ' ' || *s == '\t')
        s++;
    const char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    if ((size_t)(e - s) > MAX_INT_DIGITS + KT_DECIMAL_PLACES + 24)
        return -1;
    return parse_digits(s, e, 0, out);
}

int
kt_decimal_from_double(double x, kt_decimal *out)
{
    char buf[40];
    if (!isfinite(x) || fabs(x) >= 1e12)
        return -1;
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    char *exp = strchr(buf, 'e');
    int exp10 = atoi(exp + 1);
    return parse_digits(buf, exp, exp10, out);
}

kt_decimal
kt_decimal_from_int(int64_t i)
{
    return (kt_decimal){i * KT_DECIMAL_SCALE};
}

int
kt_decimal_format_fixed(kt_decimal d, int places, char decimal_mark, char *buf, size_t size)
{
    if (places < 0)
        places = 0;
    if (places > KT_DECIMAL_PLACES)
        places = KT_DECIMAL_PLACES;
    d = kt_decimal_round(d, places);
    uint64_t mag = d.units < 0 ? (uint64_t)0 - (uint64_t)d.units : (uint64_t)d.units;
    uint64_t ip = mag / KT_DECIMAL_SCALE, fp = mag % KT_DECIMAL_SCALE;
    const char *sign = d.units < 0 ? "-" : "";
    if (places == 0)
        return snprintf(buf, size, "%s%llu", sign, (unsigned long long)ip);
    return snprintf(buf, size, "%s%llu%c%0*llu", sign, (unsigned long long)ip, decimal_mark,
                    places, (unsigned long long)(fp / (uint64_t)POW10[KT_DECIMAL_PLACES - places]));
}

int
kt_decimal_format(kt_decimal d, char decimal_mark, char *buf, size_t size)
{
    int places = KT_DECIMAL_PLACES;
    while (places > 0 && d.units % POW10[KT_DECIMAL_PLACES - places + 1] == 0)
        places--;
    return kt_decimal_format_fixed(d, places, decimal_mark, buf, size);
}

kt_decimal
kt_decimal_add(kt_decimal a, kt_decimal b)
{
    return (kt_decimal){a.units + b.units};
}

kt_decimal
kt_decimal_sub(kt_decimal a, kt_decimal b)
{
    return (kt_decimal){a.units - b.units};
}

/* n / den rounded half away from zero. */
static int64_t
div_half_up(__int128 n, __int128 den)
{
    __int128 q = n / den, r = n % den;
    if (r < 0)
        r = -r;
    if (2 * r >= den)
        q += n < 0 ? -1 : 1;
    if (q > INT64_MAX || q < INT64_MIN)
        abort(); /* a score this large is a programming error */
    return (int64_t)q;
}

kt_decimal
kt_decimal_mul(kt_decimal a, kt_decimal b)
{
    return (kt_decimal){div_half_up((__int128)a.units * b.units, KT_DECIMAL_SCALE)};
}

kt_decimal
kt_decimal_mul_ratio(kt_decimal a, int64_t num, int64_t den)
{
    return (kt_decimal){div_half_up((__int128)a.units * num, den)};
}

kt_decimal
kt_decimal_round(kt_decimal d, int places)
{
    if (places >= KT_DECIMAL_PLACES)
        return d;
    if (places < 0)
        places = 0;
    int64_t step = POW10[KT_DECIMAL_PLACES - places];
    return (kt_decimal){div_half_up(d.units, step) * step};
}

int
kt_decimal_cmp(kt_decimal a, kt_decimal b)
{
    return a.units < b.units ? -1 : a.units > b.units;
}

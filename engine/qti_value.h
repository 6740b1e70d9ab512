/*
 * QTI values: the twelve base types in the four cardinalities, NULL (an
 * empty container or an empty string is NULL), parsing from and formatting
 * to the QTI string forms ("A", "A B" for pairs, "102 113" for points,
 * "true", floats in shortest round-trip form), and the equality that
 * match, member and mappings use.
 */
#ifndef KT_QTI_VALUE_H
#define KT_QTI_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

typedef enum {
    KT_QV_IDENTIFIER,
    KT_QV_BOOLEAN,
    KT_QV_INTEGER,
    KT_QV_FLOAT,
    KT_QV_STRING,
    KT_QV_POINT,
    KT_QV_PAIR,
    KT_QV_DIRECTED_PAIR,
    KT_QV_DURATION, /* seconds, as a double */
    KT_QV_FILE,     /* a file name or reference, kept as a string */
    KT_QV_URI,
    KT_QV_INT_OR_IDENTIFIER, /* kept as written */
} kt_qv_base;

typedef enum { KT_QV_SINGLE, KT_QV_MULTIPLE, KT_QV_ORDERED, KT_QV_RECORD } kt_qv_card;

typedef struct {
    kt_qv_base base;
    union {
        bool b;
        int64_t i;
        double f; /* float, duration */
        struct {
            int64_t x, y;
        } pt;
        const char *s; /* identifier, string, file, uri, intOrIdentifier */
        struct {
            const char *a, *b; /* directedPair: a is the source */
        } pair;
    } u;
} kt_qv_scalar;

typedef struct {
    kt_qv_card card;
    kt_qv_base base;     /* of the single value or of every element; unused for records */
    bool null;           /* explicitly NULL; see kt_qv_is_null for the full rule */
    kt_qv_scalar one;    /* single cardinality */
    size_t n;            /* containers and records: number of elements */
    kt_qv_scalar *items; /* containers and records */
    const char **fields; /* records: field identifiers, parallel to items */
} kt_qv;

/* Names as in QTI ("directedPair", "ordered"); -1 when unknown. */
int kt_qv_base_from_name(const char *name);
int kt_qv_card_from_name(const char *name);
const char *kt_qv_base_name(kt_qv_base base);
const char *kt_qv_card_name(kt_qv_card card);
bool kt_qv_base_numeric(kt_qv_base base); /* integer or float */

kt_qv kt_qv_null(kt_qv_card card, kt_qv_base base);
kt_qv kt_qv_of(kt_qv_scalar s);
kt_qv kt_qv_int(int64_t i);
kt_qv kt_qv_float(double f);
kt_qv kt_qv_bool(bool b);
kt_qv kt_qv_identifier(const char *s);

/* NULL, an empty container or record, or an empty string. */
bool kt_qv_is_null(const kt_qv *v);

/* One value from its string form (surrounding white space is ignored except
 * for strings). Strings are copied into a (or point into s when a is NULL).
 * Returns 0, or -1 when s is not a valid value of that base type. */
int kt_qv_parse_scalar(kt_qv_base base, const char *s, kt_arena *a, kt_qv_scalar *out);
/* A single value from one string, or a container from n strings (n == 0
 * gives NULL). Records are not parsed from strings. */
int kt_qv_parse(kt_qv_card card, kt_qv_base base, const char *const *strs, size_t n,
                kt_arena *a, kt_qv *out);

/* A double in shortest round-trip form, always with a decimal point or an
 * exponent ("1.0", "0.5", "3.3333333333333335", "1e+21", "INF", "NaN").
 * buf holds at least 32 bytes. */
void kt_qv_format_double(double f, char *buf, size_t size);
/* The QTI string form of one value, snprintf-style (returns the length). */
int kt_qv_format_scalar(const kt_qv_scalar *s, char *buf, size_t size);

/* Value equality as match uses it: same base type; pairs unordered,
 * directedPairs ordered; floats and durations compared exactly. */
bool kt_qv_scalar_equal(const kt_qv_scalar *a, const kt_qv_scalar *b);
/* match: single by value, multiple as multisets, ordered in order, records
 * field by field. Both operands must not be NULL. */
bool kt_qv_equal(const kt_qv *a, const kt_qv *b);
/* Numeric value of an integer, float or duration scalar. */
double kt_qv_number(const kt_qv_scalar *s);

/* Deep copy of src (arrays and strings) into a. */
void kt_qv_copy(kt_arena *a, kt_qv *dst, const kt_qv *src);

#endif

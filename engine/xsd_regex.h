/*
 * XML Schema regular expressions (QTI patternMatch, patternMask) run as
 * POSIX extended expressions: the pattern is translated (\d \s \w \i \c
 * and their negations, character-class subtraction, UTF-8 characters as
 * units, XSD's literal ^ and $) and compiled anchored at both ends.
 */
#ifndef KT_XSD_REGEX_H
#define KT_XSD_REGEX_H

#include <regex.h>
#include <stddef.h>

/* Translates pattern into an anchored POSIX ERE in out (NUL-terminated).
 * Returns 0, or -1 when the pattern is malformed, uses a construct that
 * has no translation (\p{...} categories other than L, Lu, Ll, N, Nd, P,
 * Z, back references), or does not fit in size bytes. */
int kt_xsd_regex_translate(const char *pattern, char *out, size_t size);

/* Translates and compiles (REG_EXTENDED | REG_NOSUB); free with regfree.
 * Returns 0 or -1. Matching is by bytes, so the process must stay in the
 * C locale (kiemtra never calls setlocale). */
int kt_xsd_regex_compile(const char *pattern, regex_t *re);

#endif

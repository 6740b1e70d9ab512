/*
 * Vietnamese text rules: strict UTF-8 validation, NFC normalisation through
 * utf8proc, white-space clean-up, and the folded form (lower case, no
 * diacritics, đ -> d) used to match headers and answers typed any which way.
 */
#include "text.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* Rejects overlong forms, surrogates, code points above U+10FFFF and NUL
 * (cells are C strings, so a NUL would silently cut them). */
bool
kt_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p;
        size_t n;
        unsigned long cp, min;
        if (c == 0)
            return false;
        if (c < 0x80) {
            p++;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            n = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if ((size_t)(end - p) <= n)
            return false;
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (p[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        p += n + 1;
    }
    return true;
}

static char *
map(const char *s, size_t len, utf8proc_option_t opts)
{
    utf8proc_uint8_t *out = NULL;
    if (!kt_utf8_valid(s, len))
        return NULL;
    if (utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &out,
                     UTF8PROC_STABLE | UTF8PROC_COMPOSE | opts) < 0)
        return NULL;
    return (char *)out;
}

static bool
is_space(utf8proc_int32_t c)
{
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_ZS: /* includes the no-break space Excel and Word love */
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
        return true;
    default:
        return c == ' ' || (c >= '\t' && c <= '\r');
    }
}

/* Trims and collapses white space in place (the result is never longer);
 * with fold_d, also turns the (already lower-cased) đ into d. */
static char *
collapse(char *s, bool fold_d)
{
    const utf8proc_uint8_t *r = (const utf8proc_uint8_t *)s;
    char *w = s;
    bool gap = false;
    utf8proc_int32_t c;
    utf8proc_ssize_t n;

    if (!s)
        return NULL;
    while ((n = utf8proc_iterate(r, -1, &c)) > 0 && c != 0) {
        r += n;
        if (is_space(c)) {
            gap = w != s;
            continue;
        }
        if (gap)
            *w++ = ' ';
        gap = false;
        if (fold_d && c == 0x111) {
            *w++ = 'd';
        } else {
            memmove(w, r - n, (size_t)n);
            w += n;
        }
    }
    *w = '\0';
    return s;
}

char *
kt_nfc(const char *s, size_t len)
{
    return map(s, len, 0);
}

char *
kt_text_clean(const char *s, size_t len)
{
    return collapse(map(s, len, 0), false);
}

char *
kt_fold(const char *s, size_t len)
{
    return collapse(map(s, len, UTF8PROC_STRIPMARK | UTF8PROC_CASEFOLD), true);
}

bool
kt_copy_utf8(char *dst, size_t n, const char *src)
{
    if (n == 0)
        return *src != '\0';
    size_t len = strlen(src);
    bool cut = len >= n;
    if (cut) {
        len = n - 1;
        while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
    return cut;
}

char *
kt_xstrdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d)
        abort();
    return d;
}

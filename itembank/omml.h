/*
 * Word equations (Office Math Markup, m:oMath and m:oMathPara) to
 * presentation MathML, written in the subset of itembank/html.c's
 * allow-list. Pure: a libxml2 node in, a string out.
 */
#ifndef KT_OMML_H
#define KT_OMML_H

#include <stddef.h>

#include <libxml/tree.h>

#define KT_OMML_NS "http://schemas.openxmlformats.org/officeDocument/2006/math"

/* A growable NUL-terminated string (also used by docx.c). */
typedef struct {
    char *s;    /* malloc'd, NUL-terminated once anything was added */
    size_t n;   /* length without the NUL */
    size_t cap; /* allocated bytes */
} kt_strbuf;

void kt_strbuf_add(kt_strbuf *b, const char *s, size_t n);
void kt_strbuf_puts(kt_strbuf *b, const char *s);
/* Text with &, <, > and " escaped. */
void kt_strbuf_escape(kt_strbuf *b, const char *s, size_t n);
/* The string (never NULL: "" when empty); the buffer is left empty. */
char *kt_strbuf_take(kt_strbuf *b);

/* m:oMath or m:oMathPara (any other node is read as the content of an
 * m:oMath) as "<math>...</math>" (display="block" for m:oMathPara),
 * malloc'd. Unknown OMML elements give their content; properties (m:*Pr)
 * and Word run properties are dropped. */
char *kt_omml_to_mathml(const xmlNode *node);

/* Whether n is an element of the OMML namespace named local. */
int kt_omml_is(const xmlNode *n, const char *local);

#endif

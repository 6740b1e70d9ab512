/*
 * LaTeX formulas typed as text (the "$…$" of Word documents) to
 * presentation MathML, for the subset Vietnamese mathematics and physics
 * tests use. The result has the shape of the staff editor's KaTeX output:
 * <math><semantics><mrow>…</mrow><annotation encoding="application/x-tex">
 * with the LaTeX kept in the annotation, within itembank/html.c's
 * allow-list. Pure: a string in, a string out.
 */
#ifndef KT_LATEX_H
#define KT_LATEX_H

#include <stddef.h>

/* tex (without its $ delimiters) as "<math xmlns=…>…</math>", malloc'd,
 * with display="block" when display. NULL when tex is empty, malformed
 * (unbalanced braces, a missing argument, \left without \right) or uses
 * anything outside the subset (an unknown command, an unsupported
 * character): err (errlen bytes, may be NULL) then says why, in
 * Vietnamese. */
char *kt_latex_to_mathml(const char *tex, int display, char *err, size_t errlen);

#endif

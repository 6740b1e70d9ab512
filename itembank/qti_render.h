/*
 * The student's view of an imported QTI item (2.x or 3.0): the item body as
 * allow-listed XHTML with each interaction replaced by a placeholder, and
 * the delivered interactions as plain JSON. The view never carries scoring
 * data (correct responses, mappings, response processing, declarations,
 * feedback, template content, scorer rubrics, printed variables). Whatever
 * cannot be delivered is an error naming the element. Pure: memory in, JSON
 * out; used at publish time.
 */
#ifndef KT_QTI_RENDER_H
#define KT_QTI_RENDER_H

#include <stddef.h>

#include <jansson.h>

#include "qti.h"

/* The interactions a student can answer in the view. */
#define KT_QTI_DELIVERED "choice, inlineChoice, textEntry, extendedText, order, match, gapMatch"

/* Renders one item document. assets are the paths stored with the item
 * (package paths); an <img src> must name one of them (relative to the
 * item: the longest stored path ending with it) and becomes
 * <img data-kt-asset="PATH">, which the student page loads through the
 * attempt's asset route. Returns
 *   {"html": "...<span data-kt-interaction=\"N\"></span>...",
 *    "interactions": [{"type", "response_identifier", "cardinality",
 *      "base_type", "prompt_html", ...per type}],
 *    "assets": [PATH...], "max_score": "1" (the MAXSCORE default, or null)}
 * or NULL with every problem appended to errs (element = the QTI or XHTML
 * element that cannot be delivered). */
json_t *kt_qti_render(const char *xml, size_t len, const char *file, const char *const *assets,
                      size_t nassets, kt_qti_errors *errs);

#endif

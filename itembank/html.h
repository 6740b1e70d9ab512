/*
 * The one allow-list of what a student may be shown: XHTML elements and
 * attributes, MathML elements and attributes. QTI item views (qti_render.c)
 * and teacher-written item HTML (item.c) both go through it. kt_html_clean
 * checks an HTML fragment against it and writes the fragment back in one
 * canonical form. Pure: memory in, memory out.
 */
#ifndef KT_HTML_H
#define KT_HTML_H

#include <stdbool.h>

#include <jansson.h>

/* XHTML elements copied with their allowed attributes (img included: its
 * src is checked by the caller). */
/* Whether s is one of the strings of the NULL-terminated set. */
bool kt_str_in_set(const char *s, const char *const *set);
bool kt_html_element_ok(const char *name);
/* Elements written as <name/>, with no content. */
bool kt_html_void(const char *name);
/* Attribute a of XHTML element el (never an event handler, style or URL). */
bool kt_html_attr_ok(const char *el, const char *a);
bool kt_mathml_element_ok(const char *name);
bool kt_mathml_attr_ok(const char *a);

/* Teacher-written HTML (a stem, an option, a statement, an explanation)
 * parsed as HTML, as a browser would, and checked against the allow-list.
 * Everything outside it is refused: every problem appended to problems as
 * {"field": field, "message": "Thẻ <script> không được phép ..."} (at most a
 * few per field). An <img src> must be a relative path or a data:image URL
 * of PNG, JPEG, GIF or WebP. Comments and processing instructions are
 * dropped. Returns the fragment written back from the checked tree (text
 * escaped, attributes quoted, <br/> and <img .../> closed, entities as
 * characters), malloc'd; NULL when something was refused (problems may be
 * NULL to only get the answer). The result is a fixed point: cleaning it
 * again gives it back. */
char *kt_html_clean(const char *html, const char *field, json_t *problems);

#endif

/*
 * QTI item documents (2.0-2.2 and 3.0) compiled for scoring: declarations
 * with correct responses, defaults, mappings, area mappings and lookup
 * tables, templateProcessing and responseProcessing (a template URI is
 * resolved to the standard rules embedded from itembank/rptemplates/) into
 * the plain structs of engine/rp.h, ready for kt_rp_session_*.
 */
#ifndef KT_RP_COMPILE_H
#define KT_RP_COMPILE_H

#include <stddef.h>

#include "qti.h"
#include "rp.h"

/* Compiles one item document from memory (read with kt_qti_xml_read: no
 * DOCTYPE, no network). Returns the item (free with kt_rp_item_free), or
 * NULL with every problem appended to errs: malformed declarations or
 * values, operators with the wrong number of operands, unknown template
 * URIs without rules, patterns that cannot be translated. Elements the
 * evaluator does not implement (customOperator...) are not errors here:
 * they are listed in *unsupported (when not NULL; names joined by ", ",
 * allocated in the item) and fail with "unsupported: <element>" if an
 * attempt reaches them. */
kt_rp_item *kt_rp_compile(const void *xml, size_t len, const char *file, kt_qti_errors *errs,
                          const char **unsupported);

/* kt_rp_compile followed by the static type check of engine/rp_check.h:
 * an item whose template or response processing is ill-typed gives NULL
 * as well, each problem appended to errs with the file, the line and the
 * element, its message naming the rule. */
kt_rp_item *kt_rp_compile_checked(const void *xml, size_t len, const char *file,
                                  kt_qti_errors *errs, const char **unsupported);

/* The static type check alone, as an import runs it: the problems of an
 * item document that compiles are appended to errs (file, line, element)
 * and counted. A document that does not compile counts 0 here: its errors
 * are reported when a test using it is published. */
size_t kt_rp_typecheck(const void *xml, size_t len, const char *file, kt_qti_errors *errs);

/* The XML of a standard response-processing template by its canonical
 * name (kt_qti_rp_template_name), or NULL. */
const char *kt_rp_template_xml(const char *name);

#endif

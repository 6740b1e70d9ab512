/*
 * The static type check of a compiled item (rp.h): the cardinality and base
 * type of every expression of template and response processing inferred
 * from the declarations, and every place where the evaluator would stop with
 * a type error whatever the candidate answers (an operand of the wrong type,
 * a value that cannot be set to its variable, a condition that is not a
 * boolean) reported with the rule and the element.
 */
#ifndef KT_RP_CHECK_H
#define KT_RP_CHECK_H

#include <stddef.h>

#include "rp.h"

/* One problem: the line in the item document (0 when unknown), the QTI
 * element at fault and a Vietnamese message naming the rule. */
typedef void (*kt_rp_check_report)(void *ctx, long line, const char *element, const char *message);

/* Checks every rule of item; returns the number of problems, each passed
 * to report. A container set to a single variable is a problem unless it
 * can hold at most one value (a response: as many as its interaction takes,
 * kt_rp_decl.max_values); NULL (null, an undeclared variable) fits
 * everywhere, as at run time. Elements the evaluator does not implement
 * are not checked (they fail by name when reached). */
size_t kt_rp_check(const kt_rp_item *item, kt_rp_check_report report, void *ctx);

#endif

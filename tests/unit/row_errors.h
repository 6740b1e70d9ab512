/*
 * Checking the errors a table import reports: error i is on source row
 * `row`, names `column` ("" for the whole row) and says `needle`.
 */
#ifndef KT_TEST_ROW_ERRORS_H
#define KT_TEST_ROW_ERRORS_H

#include <criterion/criterion.h>
#include <string.h>

#include "table.h"

static inline void
assert_row_error(const kt_row_error *errors, size_t n, size_t i, size_t row, const char *column,
                 const char *needle)
{
    cr_assert_lt(i, n, "expected error #%zu, got %zu errors", i, n);
    const kt_row_error *e = &errors[i];
    cr_assert_eq(e->source_row, row, "error #%zu on row %zu, expected %zu: %s", i, e->source_row,
                 row, e->message);
    cr_assert_str_eq(e->column, column, "error #%zu: %s", i, e->message);
    cr_assert(strstr(e->message, needle), "error #%zu: '%s' lacks '%s'", i, e->message, needle);
}

#endif

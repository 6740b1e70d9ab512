/*
 * Tables of text cells shared by the CSV and spreadsheet readers. Every row's
 * cell array and every cell string is a separate malloc'd block, so whoever
 * builds a table can free it here.
 */
#include "table.h"

#include <stdio.h>
#include <stdlib.h>

#include "arena.h"
#include "text.h"

void
kt_table_free(kt_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nrows; i++) {
        for (size_t j = 0; j < t->rows[i].ncells; j++)
            free(t->rows[i].cells[j]);
        free(t->rows[i].cells);
    }
    free(t->rows);
    t->rows = NULL;
    t->nrows = 0;
}

const char *
kt_table_cell(const kt_table *t, size_t row, size_t col)
{
    if (row >= t->nrows || col >= t->rows[row].ncells)
        return "";
    return t->rows[row].cells[col];
}

void
kt_row_error_vadd(kt_row_error **errors, size_t *n, size_t *cap, size_t row, const char *column,
                  const char *fmt, va_list ap)
{
    *errors = kt_grow(*errors, cap, *n + 1, sizeof(kt_row_error));
    kt_row_error *e = &(*errors)[(*n)++];
    e->source_row = row;
    kt_copy_utf8(e->column, sizeof(e->column), column);
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    kt_copy_utf8(e->message, sizeof(e->message), msg);
}

/*
 * Tables of text cells shared by the CSV and spreadsheet readers. Every row's
 * cell array and every cell string is a separate malloc'd block, so whoever
 * builds a table can free it here.
 */
#include "table.h"

#include <stdlib.h>

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

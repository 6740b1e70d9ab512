/*
 * Minimal Office Open XML spreadsheet reader: the first worksheet of an
 * .xlsx file held in memory, as a table of text cells. Shared strings,
 * inline strings, numbers and booleans are read; numeric cells in date
 * formats are rendered dd/mm/yyyy. Safe against hostile files: no network,
 * no DTD, no entity expansion, bounded sizes.
 */
#ifndef KT_XLSX_H
#define KT_XLSX_H

#include <stddef.h>
#include "table.h"

int kt_xlsx_read_first_sheet(const void *buf, size_t len, kt_table *out, char *err, size_t errlen);

#endif

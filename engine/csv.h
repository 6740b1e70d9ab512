/*
 * CSV reader (RFC 4180) for rosters and taxonomy files: UTF-8 with or without
 * BOM, comma or semicolon separator (detected from the header line), quoted
 * fields with embedded separators, quotes and line breaks, CRLF or LF.
 */
#ifndef KT_CSV_H
#define KT_CSV_H

#include "table.h"

/* Parses buf into *out. Returns 0, or -1 with a Vietnamese message in err
 * (invalid UTF-8 with its row, unterminated quote with its row). */
int kt_csv_parse(const char *buf, size_t len, kt_table *out, char *err, size_t errlen);

#endif

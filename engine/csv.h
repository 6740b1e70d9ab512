/*
 * CSV reader (RFC 4180) for rosters and taxonomy files: UTF-8 with or without
 * BOM, comma or semicolon separator (detected from the header line), quoted
 * fields with embedded separators, quotes and line breaks, CRLF or LF; and
 * the one field writer of every CSV the project produces.
 */
#ifndef KT_CSV_H
#define KT_CSV_H

#include "table.h"

/* Parses buf into *out. Returns 0, or -1 with a Vietnamese message in err
 * (invalid UTF-8 with its row, unterminated quote with its row). */
int kt_csv_parse(const char *buf, size_t len, kt_table *out, char *err, size_t errlen);

/* s as one field of a CSV file a spreadsheet will open: quoted when it holds
 * ',', ';', '"' or a line break (quotes doubled), and, when it starts with
 * '=', '+', '-', '@', a tab or a carriage return, behind an apostrophe so
 * that Excel, LibreOffice and Google Sheets show it as text instead of
 * running it as a formula ("CSV injection"). A plain number ("-1,5", "+3",
 * "8.5": an optional sign, digits, at most one '.' or ',' between digits)
 * is left as it is. malloc'd; aborts when memory runs out. */
char *kt_csv_field(const char *s);

#endif

/*
 * A rectangular table of text cells read from a spreadsheet or CSV file,
 * with the row number each row had in its source (1-based, header included),
 * so that errors can point the user at the exact row.
 */
#ifndef KT_TABLE_H
#define KT_TABLE_H

#include <stdarg.h>
#include <stddef.h>

typedef struct kt_row {
    size_t source_row; /* 1-based row number in the source file */
    size_t ncells;
    char **cells; /* NUL-terminated UTF-8, never NULL (empty string for blank) */
} kt_row;

typedef struct kt_table {
    size_t nrows;
    kt_row *rows; /* rows[0] is the header row when the source has one */
} kt_table;

/* A problem found in a table, for the user who sent it. */
typedef struct kt_row_error {
    size_t source_row; /* 0 when it is about the file or its header */
    char column[48];   /* the header as written, "" for whole-row errors */
    char message[240]; /* Vietnamese: what is wrong and what is expected */
} kt_row_error;

/* Appends one error (message from fmt) to errors[0..*n), capacity *cap. */
void kt_row_error_vadd(kt_row_error **errors, size_t *n, size_t *cap, size_t row,
                       const char *column, const char *fmt, va_list ap)
    __attribute__((format(printf, 6, 0)));

void kt_table_free(kt_table *t);

/* Cell text or "" when the row is shorter than col. */
const char *kt_table_cell(const kt_table *t, size_t row, size_t col);

#endif

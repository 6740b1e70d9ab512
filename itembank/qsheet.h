/*
 * Question sheets: questions kept in a spreadsheet (.xlsx) or a CSV file,
 * one row per question under a header row of Vietnamese column names
 * (docs/IMPORT-WORD.md, "Excel / CSV"). Pure: the file's bytes in, the same
 * result as the Word reader (docx.h) out, so that a sheet is planned,
 * previewed and stored exactly as a Word document is.
 */
#ifndef KT_QSHEET_H
#define KT_QSHEET_H

#include <stddef.h>

#include "docx.h"
#include "table.h"

typedef enum { KT_QSHEET_XLSX, KT_QSHEET_CSV } kt_qsheet_format;

/* Reads a sheet held in memory as fmt says (an .xlsx that is not one is
 * refused, never read as CSV). Returns 0 when the sheet was read, -1 when
 * it is refused as a whole (unreadable file, no header row, too many
 * questions): out->problems then says why. As kt_docx_read, with a row for
 * a paragraph: questions are {"number", "part": 0, "paragraph": R, "row": R,
 * "item"}, where R is the question's row in the file and "number" its STT
 * (else its position among the questions); problems are {"severity",
 * "question", "paragraph": R, "row": R, "column" (the header as written,
 * when one cell is at fault), "message": "Dòng R (Câu N): ..." or
 * "Dòng R, cột Đáp án: ..."}. No images. Free with kt_docx_result_free. */
int kt_qsheet_read(const void *buf, size_t len, kt_qsheet_format fmt, kt_docx_result *out);

/* The same on a table already read (rows with their source row numbers). */
int kt_qsheet_read_table(const kt_table *t, kt_docx_result *out);

#endif

/*
 * Questions from a Word document (.docx) made ready to store: the reader
 * (itembank/docx.h) run, each question given its identifier, subject and
 * grade, checked again by the item model and split into the stored formats,
 * with the pictures they show. Question sheets (.xlsx, .csv:
 * itembank/qsheet.h) give the same result and take the same way. Shared by
 * POST /api/v1/items/import and `kiemtra import`; stored by kt_import_docx()
 * (migrations/0030).
 */
#ifndef KT_ITEM_DOCX_H
#define KT_ITEM_DOCX_H

#include <stddef.h>

#include <jansson.h>

#include "http.h"
#include "qsheet.h"

#define KT_DOCX_CONTENT_TYPE                                                                       \
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
#define KT_XLSX_CONTENT_TYPE "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

typedef struct {
    /* {"origin": "docx-sha256:<hex>", "images": [...], "items": [{"identifier",
     * "number", "part", "paragraph", "kind", "title", "excerpt", "key",
     * "level", "media", "content", "scoring", "tags", "search_text"}]}:
     * the questions without errors, in document order. */
    json_t *plan;
    json_t *problems;  /* as the reader's, item-model problems added */
    int refused;       /* the file is refused as a whole (problems say why) */
    size_t nbad;       /* questions with an error (not in plan) */
    const char *format; /* "docx", "xlsx" or "csv" */
} kt_docx_import;

/* Reads the file for subject (a valid code) and grade (1-12). Never fails
 * otherwise: *out is always to be freed with kt_docx_import_free. */
void kt_docx_import_read(const void *buf, size_t len, const char *subject, int grade,
                         kt_docx_import *out);
void kt_docx_import_free(kt_docx_import *d);

/* The same for a question sheet (.xlsx or .csv as fmt says): the origin is
 * "docx-sha256:<hex>" of the file as for Word (kt_import_docx stores that
 * form; the hash names the file whatever its format), identifiers
 * <SUBJECT>-<grade>-xlsx-<first 10 hex>-r<row> ("-csv-" for CSV), each
 * item's "paragraph" is its row in the file. */
void kt_qsheet_import_read(const void *buf, size_t len, kt_qsheet_format fmt,
                           const char *subject, int grade, kt_docx_import *out);

/* The plan's items without the stored formats (what a dry run shows). */
json_t *kt_docx_preview(const kt_docx_import *d);

/* True when the upload is for kt_items_import_docx: a Word document (the
 * declared Content-Type of .docx or .docm, a file name ending in .docx or
 * .docm, or a zip that has a word/document.xml part) or a question sheet
 * (the Content-Type of .xlsx, text/csv or application/csv, a file name
 * ending in .xlsx or .csv, or a zip that has an xl/workbook.xml part). */
int kt_docx_looks_like(const char *content_type, const char *filename, const void *buf,
                       size_t len);

/* POST /api/v1/items/import for a Word document or a question sheet
 * (called by h_items_import with its checked query parameters, which it
 * takes over). */
void kt_items_import_docx(http_request *req, char *subject, char *grade, int dry_run,
                          int partial);
void kt_docx_import_register(void);

#endif

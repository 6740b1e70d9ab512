/*
 * Questions from a Word document (.docx) made ready to store: the reader
 * (itembank/docx.h) run, each question given its identifier, subject and
 * grade, checked again by the item model and split into the stored formats,
 * with the pictures they show. Shared by POST /api/v1/items/import and
 * `kiemtra import`; stored by kt_import_docx() (migrations/0030).
 */
#ifndef KT_ITEM_DOCX_H
#define KT_ITEM_DOCX_H

#include <stddef.h>

#include <jansson.h>

#include "http.h"

#define KT_DOCX_CONTENT_TYPE                                                                       \
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

typedef struct {
    /* {"origin": "docx-sha256:<hex>", "images": [...], "items": [{"identifier",
     * "number", "part", "paragraph", "kind", "title", "excerpt", "key",
     * "level", "media", "content", "scoring", "tags", "search_text"}]}:
     * the questions without errors, in document order. */
    json_t *plan;
    json_t *problems;  /* as the reader's, item-model problems added */
    int refused;       /* the file is refused as a whole (problems say why) */
    size_t nbad;       /* questions with an error (not in plan) */
} kt_docx_import;

/* Reads the file for subject (a valid code) and grade (1-12). Never fails
 * otherwise: *out is always to be freed with kt_docx_import_free. */
void kt_docx_import_read(const void *buf, size_t len, const char *subject, int grade,
                         kt_docx_import *out);
void kt_docx_import_free(kt_docx_import *d);

/* The plan's items without the stored formats (what a dry run shows). */
json_t *kt_docx_preview(const kt_docx_import *d);

/* True when the upload is a Word document: the declared Content-Type (.docx
 * or .docm), a file name ending in .docx or .docm, or a zip that has a
 * word/document.xml part. */
int kt_docx_looks_like(const char *content_type, const char *filename, const void *buf,
                       size_t len);

/* POST /api/v1/items/import for a Word document (called by h_items_import
 * with its checked query parameters, which it takes over). */
void kt_items_import_docx(http_request *req, char *subject, char *grade, int dry_run,
                          int partial);
void kt_docx_import_register(void);

#endif

/*
 * One form (mã đề) of a published test as a Word document (.docx), the
 * layout a school prints: a header (school, test, subject, time, mã đề),
 * the questions numbered "Câu N." with options "A." ... and statements
 * "a)" ..., the 2025 parts PHẦN I-IV when the test is built of those
 * formats, math as Word equations (MathML to OMML), pictures, tables, and
 * on its own page the answer key table ("ĐÁP ÁN") followed by each
 * question's rubric ("Hướng dẫn chấm:") and explanation ("Lời giải:"), in
 * the conventions itembank/docx.c reads back (docs/IMPORT-WORD.md,
 * "Export"). Pure: JSON and bytes in, the .docx bytes out.
 */
#ifndef KT_DOCX_WRITE_H
#define KT_DOCX_WRITE_H

#include <stddef.h>

#include <jansson.h>

/* A file an item's HTML refers to (<img src="media/<sha256>.png"/>). */
typedef struct {
    const char *path;         /* as the HTML names it */
    const char *content_type; /* image/png, image/jpeg, image/gif, image/webp */
    const unsigned char *data;
    size_t len;
} kt_docx_asset;

typedef struct {
    const char *school;       /* the school's name; NULL or "" when unknown */
    const char *subject_name; /* "Toán"; NULL: the form's subject code */
} kt_docx_header;

/* form: the form preview of GET /api/v1/tests/{id}/forms/{code} (title,
 * subject, grade, duration_seconds, form_code, parts, items in the form's
 * order with their student content, key_shown, rubric and explanation). Returns the document,
 * malloc'd, its size in *len; NULL when the form has no items or the
 * archive cannot be written. An image the assets do not hold is left out
 * (its alt text, if any, is written instead). */
void *kt_docx_write_form(const json_t *form, const kt_docx_header *h, const kt_docx_asset *assets,
                         size_t nassets, size_t *len);

/* One MathML fragment ("<math>...</math>", annotations ignored) as an
 * m:oMath element (namespace prefix m:, declared by the caller's
 * document), malloc'd; NULL when the fragment is not well-formed XML. */
char *kt_mathml_to_omml(const char *mathml);

#endif

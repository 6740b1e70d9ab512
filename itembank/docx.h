/*
 * Questions written in Word (.docx) in the conventions Vietnamese teachers
 * use (docs/IMPORT-WORD.md): "Câu N." numbering, options A.–D., the key by
 * underline, red, bold, a leading '*' or an answer table at the end,
 * explanations, the 2025 exam parts (single choice, Đúng/Sai clusters,
 * short answers, essays with a rubric), level tags, taxonomy codes,
 * pictures, tables and Word equations. Pure: the file's bytes in, items in
 * the authoring shape (item.h), problems and images out.
 */
#ifndef KT_DOCX_H
#define KT_DOCX_H

#include <stddef.h>

#include <jansson.h>

#define KT_DOCX_MAX_QUESTIONS 2000

typedef struct {
    char *path;               /* "media/<sha256>.<ext>", as the item HTML refers to it */
    const char *content_type; /* image/png, image/jpeg, image/gif or image/webp */
    unsigned char *data;
    size_t len;
} kt_docx_image;

typedef struct {
    /* One {"number": N, "part": P, "paragraph": K, "item": {...}} per
     * question without errors, in document order. "part" is 0 outside the
     * 2025 parts, else 1-4 (PHẦN I-IV); "paragraph" is the 1-based index of
     * the question's first paragraph (every w:p of the body, in tables too).
     * The item has kind, title, stem, options/statements, keys, explanation,
     * level, outcome, competencies, tags, rubric and model_answer (essays):
     * identifier, subject and grade are the caller's. */
    json_t *questions;
    /* {"severity": "error"|"warning", "question": N (0 when none),
     *  "paragraph": K (0 when none), "message": "Câu N (đoạn K): ..."}.
     * A question with an error is not in questions. */
    json_t *problems;
    kt_docx_image *images; /* distinct images referenced by the questions */
    size_t nimages;
} kt_docx_result;

/* Reads a .docx held in memory. Returns 0 when the document was read (its
 * questions and problems in *out), -1 when the file is refused as a whole
 * (not a zip, unsafe archive, a macro-enabled document, no document part):
 * then out->problems holds the reason and nothing else is filled. *out is
 * always to be freed with kt_docx_result_free. */
int kt_docx_read(const void *buf, size_t len, kt_docx_result *out);
void kt_docx_result_free(kt_docx_result *r);

/* Number of problems of the given severity. */
size_t kt_docx_count(const kt_docx_result *r, const char *severity);

/* Pieces of the Word conventions shared with the question-sheet reader
 * (qsheet.c), so that a cell is read as the same text in a document is. */
/* The level code (MD.B, MD.H, MD.V, MD.VC) of exactly s[0, n) when it is a
 * level word (NB, TH, VD, VDC, Nhận biết, Biết, Thông hiểu, Hiểu, Vận dụng,
 * Vận dụng cao, also in capitals), else NULL. */
const char *kt_docx_level_of(const char *s, size_t n);
/* Appends each taxonomy code of s[from, to) (separated by spaces, commas,
 * semicolons) to codes, an MD.* code setting *level instead; returns how
 * many codes it found. */
int kt_docx_add_codes(json_t *codes, const char **level, const char *s, size_t from, size_t to);
/* The key value at s[*k] (spaces skipped): a letter A-H ("A"), a Đúng/Sai
 * sequence ("Đ S Đ S", "ĐSĐS", "a) Đ, b) S ...", as "DSDS"), or a number
 * (decimal comma to dot: "2,5" -> "2.5"); malloc'd, *k past it, or NULL
 * with *k unchanged when there is none. */
char *kt_docx_read_value(const char *s, size_t *k, size_t end);
/* Places the taxonomy codes of a question on its item: the first VN18.*
 * code as "outcome", NL.* codes as "competencies", the others as "tags". */
void kt_docx_place_codes(json_t *item, json_t *codes);

#endif

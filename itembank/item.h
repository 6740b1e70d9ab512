/*
 * The item model of the Vietnamese formats (MCQ4, MR, TF4, SHORT, ESSAY):
 * validation that reports every problem with its field path, normalisation
 * (NFC, decimal comma), the split into content (what a student may see) and
 * scoring (server only) and its inverse, tags, and the accent-free search
 * text. Pure: no I/O.
 */
#ifndef KT_ITEM_H
#define KT_ITEM_H

#include <jansson.h>

#define KT_ITEM_HTML_MAX ((size_t)64 * 1024) /* stem, option, statement, explanation */
#define KT_ITEM_TITLE_MAX 500
#define KT_ITEM_TAGS_MAX 50

/* In place: every string to NFC; SHORT numeric key and tolerance, TF4
 * score_table and ESSAY points with a decimal comma get a dot; an integer
 * SHORT key or tolerance becomes a string; the HTML of stem, explanation,
 * model_answer, options and statements that passes the allow-list is
 * written in its canonical form (kt_html_clean). Invalid UTF-8 and refused
 * HTML are left for kt_item_validate to report. */
void kt_item_normalize(json_t *item);

/* Every problem of item as a JSON array of {"field","message"} (messages in
 * Vietnamese); an empty array when the item is valid. Never NULL. HTML
 * fields outside the allow-list of html.h are problems naming the element
 * or attribute ("options[1].html": "Thẻ <script> không được phép ..."). */
json_t *kt_item_validate(const json_t *item);

/* Only the allow-list part of kt_item_validate: the problems of the HTML
 * fields (stem, explanation, model_answer, options[i].html,
 * statements[i].html) that are strings, for a version stored before the
 * check. Never NULL. */
json_t *kt_item_html_problems(const json_t *item);

/* Problems of a tag list (array of taxonomy codes), appended to problems
 * with paths "<field>[i]". */
void kt_item_validate_tags(const json_t *tags, const char *field, json_t *problems);

/* content = what a student may see; scoring = keys and marking rules. The
 * metadata (identifier, kind, subject, grade, title, level, outcome,
 * competencies, tags) is in neither. New references in *content, *scoring. */
void kt_item_split(const json_t *item, json_t **content, json_t **scoring);

/* The inverse of kt_item_split: an item in the authoring shape from its
 * metadata (identifier, kind, subject, grade, title), content and scoring. A
 * key already present in content wins over scoring. New reference. */
json_t *kt_item_join(const json_t *meta, const json_t *content, const json_t *scoring);

/* Taxonomy code of the item format (DOMAIN-VN §4.6): DT.NLC, DT.DS, DT.TLN, DT.TL. */
const char *kt_item_format_code(const char *kind);

/* Tags of an item: outcome, level, format code, competencies, then the
 * explicit "tags", without duplicates. New reference. */
json_t *kt_item_tags(const json_t *item);

/* True when s is a taxonomy code (A-Z start, upper-case letters and digits,
 * dot-separated parts). */
int kt_item_code_valid(const char *s);

/* Folded search text (lower case, no diacritics, tags stripped, entities
 * decoded) of title + stem + options + statements. malloc'd, never NULL. */
char *kt_item_search_text(const char *title, const json_t *content);

/* Folds free text (a search query) the same way; malloc'd; NULL when s is
 * not valid UTF-8. */
char *kt_item_fold_query(const char *s);

/* ---- Images uploaded by the editor (migration 0024) ---------------------- */

/* Whether type is one of image/png, image/jpeg, image/gif, image/webp. */
int kt_media_type_ok(const char *type);
/* The image type of buf by its first bytes (PNG, JPEG, GIF, WebP
 * signatures), or NULL when it is none of them. Static string. */
const char *kt_media_sniff(const void *buf, size_t len);
/* Whether path is "media/<64 lower-case hex>.<png|jpg|gif|webp>". */
int kt_media_path_valid(const char *path);
/* The images an item's HTML fields (stem, explanation, model_answer,
 * options[i].html, statements[i].html, in the canonical form of
 * kt_html_clean) load from "media/...": one {"path", "field"} per distinct
 * path, in the order met. A "media/..." path that is not the name of an
 * upload (kt_media_path_valid) is listed too: it can never be found. */
json_t *kt_item_media_refs(const json_t *item);

#endif

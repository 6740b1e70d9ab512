/*
 * QTI documents as one internal model, whatever their version (2.0, 2.1,
 * 2.2 or 3.0): items (declarations, interactions, response processing,
 * feedback, assets) and tests or sections (parts, nested sections, item
 * references). Parsing is from memory, safe against hostile XML, and reports
 * every problem found with its file and position.
 */
#ifndef KT_QTI_H
#define KT_QTI_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"

#define KT_QTI_MAX_DOC (10u << 20)
#define KT_QTI_MAX_DEPTH 256

typedef struct {
    const char *file, *element, *message; /* element may be NULL */
    long line, column;                    /* 0 when unknown */
} kt_qti_error;

typedef struct {
    kt_arena *arena;
    kt_qti_error *v;
    size_t n, cap;
} kt_qti_errors;

void kt_qti_errors_init(kt_qti_errors *e);
void kt_qti_errors_free(kt_qti_errors *e);
__attribute__((format(printf, 6, 7))) void kt_qti_error_add(kt_qti_errors *e, const char *file,
                                                            long line, long column,
                                                            const char *element, const char *fmt,
                                                            ...);

typedef enum { KT_QTI_V20 = 1, KT_QTI_V21, KT_QTI_V22, KT_QTI_V30 } kt_qti_version;

/* What a document's root says it is. */
typedef enum {
    KT_QTI_DOC_MALFORMED, /* not well-formed, refused (DOCTYPE) or too big */
    KT_QTI_DOC_ITEM,
    KT_QTI_DOC_TEST,
    KT_QTI_DOC_SECTION,
    KT_QTI_DOC_QTI12,    /* questestinterop: refused */
    KT_QTI_DOC_STIMULUS, /* qti-assessment-stimulus: not imported yet */
    KT_QTI_DOC_MANIFEST,
    KT_QTI_DOC_RESULT,     /* assessmentResult (results reporting) */
    KT_QTI_DOC_RPTEMPLATE, /* a response-processing template */
    KT_QTI_DOC_OTHER       /* any other XML */
} kt_qti_doc_kind;

typedef struct {
    const char *name, *value; /* QTI 3 kebab-case names are given in 2.x camelCase */
} kt_qti_attr;

typedef struct {
    const char *key;            /* mapKey, or NULL for an areaMapEntry */
    const char *shape, *coords; /* areaMapEntry */
    const char *value;          /* mappedValue, as written */
    bool case_sensitive;
} kt_qti_map_entry;

typedef struct {
    bool present;
    const char *lower_bound, *upper_bound, *default_value; /* NULL when absent */
    kt_qti_map_entry *entries;
    size_t nentries, cap;
} kt_qti_mapping;

typedef struct {
    const char *identifier, *cardinality, *base_type;
    const char **correct; /* correctResponse values, as written; "x y" for pairs */
    size_t ncorrect, correct_cap;
    const char **defaults; /* defaultValue values */
    size_t ndefaults, defaults_cap;
    kt_qti_mapping mapping, area_mapping;
} kt_qti_decl;

typedef struct {
    const char *element; /* simpleChoice, gapText, hottext, hotspotChoice... */
    const char *identifier;
    bool fixed;
} kt_qti_choice;

typedef struct {
    const char *type; /* "choice", "textEntry", "gapMatch"... (element name less "Interaction") */
    const char *response_identifier;
    long line;
    kt_qti_attr *attrs; /* every attribute: shuffle, maxChoices, expectedLength, patternMask... */
    size_t nattrs, attrs_cap;
    kt_qti_choice *choices;
    size_t nchoices, choices_cap;
} kt_qti_interaction;

typedef enum { KT_QTI_RP_NONE, KT_QTI_RP_TEMPLATE, KT_QTI_RP_CUSTOM } kt_qti_rp_kind;

typedef struct {
    kt_arena *arena; /* owns everything below */
    const char *file;
    const char *xml; /* the original bytes, NUL-terminated */
    size_t xml_len;
    kt_qti_version version;
    const char *identifier, *title, *lang;
    bool adaptive, time_dependent;
    kt_qti_decl *responses, *outcomes, *templates;
    size_t nresponses, responses_cap, noutcomes, outcomes_cap, ntemplates, templates_cap;
    kt_qti_interaction *interactions;
    size_t ninteractions, interactions_cap;
    kt_qti_rp_kind rp_kind;
    const char *rp_template;     /* canonical: match_correct, map_response, CC2_match... */
    const char *rp_template_uri; /* as written */
    const char *rp_xml;          /* custom responseProcessing, serialised */
    bool has_template_processing, has_modal_feedback, has_inline_feedback;
    const char **stylesheets; /* href as written */
    size_t nstylesheets, stylesheets_cap;
    const char **assets; /* img src, object data, source src, include href... */
    size_t nassets, assets_cap;
} kt_qti_item;

typedef struct {
    const char *min_time, *max_time; /* seconds as written, NULL when absent */
    bool allow_late_submission;
} kt_qti_time_limits;

typedef struct {
    const char *identifier, *value;
} kt_qti_weight;

typedef enum {
    KT_QTI_NODE_SECTION,
    KT_QTI_NODE_ITEM_REF,
    KT_QTI_NODE_SECTION_REF
} kt_qti_node_kind;

/* A section, an assessmentItemRef or an assessmentSectionRef, in test order. */
typedef struct kt_qti_node {
    kt_qti_node_kind kind;
    const char *identifier, *title, *href, *category;
    long line;
    bool visible, required, fixed;
    long select;                    /* selection: 0 when none */
    bool with_replacement, shuffle; /* selection, ordering */
    bool has_time_limits;
    kt_qti_time_limits time_limits;
    kt_qti_weight *weights;
    size_t nweights, weights_cap;
    struct kt_qti_node *children;
    size_t nchildren, children_cap;
} kt_qti_node;

typedef struct {
    const char *identifier, *navigation_mode, *submission_mode;
    bool has_time_limits;
    kt_qti_time_limits time_limits;
    kt_qti_node *sections;
    size_t nsections, sections_cap;
} kt_qti_test_part;

typedef struct {
    kt_arena *arena;
    const char *file;
    const char *xml;
    size_t xml_len;
    kt_qti_version version;
    const char *identifier, *title;
    bool has_time_limits;
    kt_qti_time_limits time_limits;
    kt_qti_decl *outcomes;
    size_t noutcomes, outcomes_cap;
    kt_qti_test_part *parts;
    size_t nparts, parts_cap;
    kt_qti_node *section; /* for an assessmentSection document: the section; parts is empty */
    const char *outcome_processing_xml; /* NULL when absent */
} kt_qti_test;

typedef struct {
    kt_qti_doc_kind kind;
    kt_qti_item *item; /* KT_QTI_DOC_ITEM without errors */
    kt_qti_test *test; /* KT_QTI_DOC_TEST or KT_QTI_DOC_SECTION without errors */
} kt_qti_doc;

/* A 2.x camelCase name in QTI 3 kebab-case (maxChoices -> max-choices), for
 * attribute lookups; cut to fit size. */
void kt_qti_kebab(const char *camel, char *buf, size_t size);

/* Parses one document. Returns 0 when an item, test or section was read
 * without errors (doc->item or doc->test set), -1 otherwise, every problem
 * appended to errs. doc->kind tells what the root was even on failure;
 * other XML (manifests, results...) gives -1 with one error. */
int kt_qti_parse(const void *buf, size_t len, const char *file, kt_qti_doc *doc,
                 kt_qti_errors *errs);
void kt_qti_doc_free(kt_qti_doc *doc);
void kt_qti_item_free(kt_qti_item *item);
void kt_qti_test_free(kt_qti_test *test);

/* Well-formed XML from memory (UTF-8, at most KT_QTI_MAX_DOC bytes, no
 * DOCTYPE, no network), or NULL with the reason appended to errs. Free the
 * result with xmlFreeDoc. */
struct _xmlDoc *kt_qti_xml_read(const void *buf, size_t len, const char *file, kt_qti_errors *errs);

/* Canonical name of a response-processing template URI (any QTI version,
 * absolute or relative, with or without .xml), or NULL when unknown. */
const char *kt_qti_rp_template_name(const char *uri);
/* A QTI 3 kebab-case name in its 2.x camelCase spelling (qti-choice-interaction
 * -> choiceInteraction, max-choices -> maxChoices), written to buf when it
 * changes; a name without '-' is returned as is. */
const char *kt_qti_fold_name(const char *name, char *buf, size_t size);
/* An interaction's attribute by its 2.x name, or NULL. */
const char *kt_qti_attr_get(const kt_qti_interaction *it, const char *name);

#endif

/*
 * GDPT 2018 taxonomy files: validates the rows of a taxonomy CSV (columns
 * code, subject, grade, strand, topic, unit, text; optionally kind, parent)
 * against the stable code scheme of DOMAIN-VN §4.6 and turns them into nodes,
 * deriving the strand, topic and unit nodes from the outcome code prefixes.
 * Every bad row is reported at once. Pure: no I/O.
 */
#ifndef KT_TAXONOMY_H
#define KT_TAXONOMY_H

#include <stdbool.h>
#include <stddef.h>

#include "table.h"

typedef struct kt_tx_node {
    size_t source_row;  /* the row that gave the node, or first implied it */
    const char *kind;   /* static: "subject", "grade", "strand", ..., "format" */
    char *code;
    char *parent;       /* NULL for a root node */
    char *subject;      /* NULL when the node belongs to no subject */
    int grade;          /* 0 when none */
    char *name;         /* NFC, white space collapsed */
    char *text;         /* verbatim YCCĐ (NFC) for outcomes, "" otherwise */
    bool implied;       /* derived from a code prefix; no row gave the node itself */
    bool create_only;   /* implied without a name (subject, grade): never rename */
} kt_tx_node;

typedef struct kt_taxonomy {
    size_t nnodes;
    kt_tx_node *nodes;  /* parents before their children */
    size_t noutcomes;
    size_t nerrors;
    kt_row_error *errors;
} kt_taxonomy;

/* Validates every row; never stops at the first problem. Returns 0 when the
 * file is clean, -1 otherwise. *out must be freed either way. */
int kt_taxonomy_from_table(const kt_table *t, kt_taxonomy *out);
void kt_taxonomy_free(kt_taxonomy *t);

/* The kind a code's syntax implies ("outcome" for VN18.TOAN.10.SDS.01.01.01),
 * or NULL with the reason (Vietnamese) in why. */
const char *kt_taxonomy_code_kind(const char *code, char *why, size_t whylen);

/* The parent implied by a code (VN18.TOAN.10.SDS.01.00.03 -> its topic), as a
 * malloc'd string, or NULL for codes with no implied parent. */
char *kt_taxonomy_implied_parent(const char *code);

#endif

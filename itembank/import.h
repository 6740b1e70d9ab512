/*
 * One QTI file (an item, a test or section, or an IMS content package) turned
 * into an import plan: the JSON document that the SQL function kt_import_qti
 * (migrations/0006) writes in one transaction. Pure: memory in, JSON out; the
 * command line and the HTTP API both go through here.
 */
#ifndef KT_IMPORT_H
#define KT_IMPORT_H

#include <jansson.h>
#include <stddef.h>

#include "qti.h"

typedef enum {
    KT_IMPORT_OK,      /* plan is set */
    KT_IMPORT_SKIPPED, /* not QTI content (manifest, results, template...): skip_reason says */
    KT_IMPORT_FAILED   /* every problem is in errs; nothing may be written */
} kt_import_status;

typedef struct {
    kt_import_status status;
    const char *skip_reason; /* static Vietnamese text, KT_IMPORT_SKIPPED only */
    json_t *plan;            /* {"origin", "items": [...], "tests": [...]} */
    size_t nitems, ntests, nassets;
} kt_import;

/* Reads buf (a .zip package when name ends in .zip or buf starts with a zip
 * signature, else one XML document). Returns 0 when status is OK or SKIPPED,
 * -1 when FAILED. The plan's "origin" is where its items come from: the
 * package's manifest identifier (else its manifest's SHA-256), or for one
 * document the last segment of name (else, when name is NULL, the
 * document's SHA-256; errors are then labelled with a default name). */
int kt_import_read(const void *buf, size_t len, const char *name, kt_import *out,
                   kt_qti_errors *errs);
void kt_import_free(kt_import *imp);

/* Content type of a package file, from its extension. */
const char *kt_import_content_type(const char *path);

#endif

/*
 * IMS content packages (.zip) holding QTI items and tests: the manifest's
 * resources, their files and dependencies, and every item and test parsed
 * through qti.h. Reading is all-or-nothing and bounded against hostile
 * archives (path traversal, symlinks, zip bombs).
 */
#ifndef KT_PACKAGE_H
#define KT_PACKAGE_H

#include <stddef.h>

#include "qti.h"

#define KT_PKG_MAX_ENTRIES 5000
#define KT_PKG_MAX_ENTRY (50u << 20)
#define KT_PKG_MAX_TOTAL (200u << 20)
#define KT_PKG_RATIO_FLOOR (1u << 20) /* entries up to this size are not ratio-checked */
#define KT_PKG_MAX_RATIO 200
/* Namespace of the kiemtra tags a resource's <metadata> may carry:
 * <kt:tags xmlns:kt="urn:kiemtra:tags:1"><kt:tag kind="outcome">VN18...</kt:tag></kt:tags> */
#define KT_PKG_TAGS_NS "urn:kiemtra:tags:1"

typedef struct {
    const char *kind, *value; /* kind="subject|grade|level|outcome|competency|tag", text */
} kt_qti_tag;

typedef struct {
    const char *identifier, *type;
    const char *href; /* path inside the archive, decoded and normalised; NULL when absent */
    const char **files;
    size_t nfiles, files_cap;
    const char **dependencies; /* identifierref values */
    size_t ndependencies, dependencies_cap;
    kt_qti_tag *tags; /* kiemtra tags from the resource's <metadata>, in document order */
    size_t ntags, tags_cap;
} kt_qti_resource;

typedef struct {
    kt_arena *arena; /* the package's own strings; items and tests have their own */
    const char *identifier;
    kt_qti_resource *resources;
    size_t nresources, resources_cap;
    kt_qti_item **items;
    size_t nitems, items_cap;
    kt_qti_test **tests;
    size_t ntests, tests_cap;
} kt_qti_package;

/* Reads a package from memory. Returns 0 with *pkg filled, or -1 with every
 * problem found appended to errs (then *pkg is empty). name labels errors. */
int kt_qti_package_read(const void *buf, size_t len, const char *name, kt_qti_package *pkg,
                        kt_qti_errors *errs);
void kt_qti_package_free(kt_qti_package *pkg);

#endif

/*
 * QTI export: an item of the Vietnamese kinds (MCQ4, MR, TF4, SHORT, ESSAY)
 * as a QTI 2.2 or 3.0 document, conversion of item and test documents
 * between QTI 2.x and 3.0, and IMS content packages (.zip) written in
 * memory with the kiemtra tags in each resource's metadata. Pure: memory in,
 * memory out; every problem is appended to a kt_qti_errors list.
 */
#ifndef KT_QTI_EXPORT_H
#define KT_QTI_EXPORT_H

#include <jansson.h>
#include <stddef.h>

#include "package.h"
#include "qti.h"

/* An item in the authoring shape (demo/items-toan10.json, kt_item_join) as
 * a QTI assessmentItem ("2.2") or qti-assessment-item ("3.0"): malloc'd
 * UTF-8 XML that kt_qti_parse accepts, or NULL with every problem in errs
 * (kt_item_validate's problems, HTML fragments that are not well-formed,
 * an unknown version). */
char *kt_qti_from_item(const json_t *item, const char *version, kt_qti_errors *errs);

/* An item, test or section document of any QTI version converted to "2.2"
 * or "3.0" (element and attribute names, namespace, template URIs, content
 * bodies, schemaLocation). The same version gives a copy. malloc'd, or NULL
 * with the reason in errs. */
char *kt_qti_convert(const char *xml, size_t len, const char *version, kt_qti_errors *errs);

struct kt_qti_export_asset {
    const char *path; /* relative, as stored: "img/hinh1.png"; no "..", no leading '/' */
    const void *data;
    size_t len;
};

struct kt_qti_export_entry {
    const char *identifier; /* the item's; its document is items/<identifier>.xml */
    const char *xml;
    size_t xml_len;
    const char *version; /* "2.2" or "3.0", the same for every entry */
    const json_t *tags;  /* {subject, grade, level, outcome, competencies, tags} or NULL */
    const struct kt_qti_export_asset *assets; /* stored under items/<identifier>/<path> */
    size_t nassets;
};

/* An IMS content package of the items: imsmanifest.xml with one resource
 * per entry (its document, its assets, its tags as metadata), the documents
 * with their asset references pointed at the assets' place in the package.
 * Returns 0 with a malloc'd *zip_out of *zip_len bytes, or -1 with every
 * problem in errs. */
int kt_qti_package_write(const struct kt_qti_export_entry *entries, size_t n, void **zip_out,
                         size_t *zip_len, kt_qti_errors *errs);

/* The tags written for the resource whose href is item_file (an archive
 * path such as "items/TOAN10-001.xml"), in the shape kt_qti_package_write
 * takes; NULL when that resource has none. New reference. */
json_t *kt_qti_package_tags(const kt_qti_package *pkg, const char *item_file);

#endif

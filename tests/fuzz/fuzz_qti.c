/*
 * libFuzzer target for the QTI importer: the same bytes go to the item/test
 * parser and to the content-package reader, and an item to the static type
 * check of its processing, as an import does. Each must accept or report
 * errors, never crash, leak or read out of bounds.
 */
#include <stddef.h>
#include <stdint.h>

#include "package.h"
#include "qti.h"
#include "rp_compile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kt_qti_errors errs;
    kt_qti_doc doc;
    kt_qti_package pkg;

    kt_qti_errors_init(&errs);
    if (kt_qti_parse(data, size, "fuzz.xml", &doc, &errs) == 0) {
        if (doc.item)
            kt_rp_typecheck(doc.item->xml, doc.item->xml_len, "fuzz.xml", &errs);
        kt_qti_doc_free(&doc);
    }
    if (kt_qti_package_read(data, size, "fuzz.zip", &pkg, &errs) == 0)
        kt_qti_package_free(&pkg);
    kt_qti_errors_free(&errs);
    return 0;
}

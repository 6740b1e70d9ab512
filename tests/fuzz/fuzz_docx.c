/*
 * libFuzzer target for the Word question reader. The bytes go to
 * kt_docx_read twice: as a whole .docx (archive vetting, relationships,
 * parts), and as the word/document.xml of a well-formed package built
 * around them, so that mutations reach the document walk, the conventions,
 * equations, tables and the item checks instead of stopping at the zip's
 * checksums. It must read or refuse, never crash, leak or read out of
 * bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zip.h>

#include "docx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char CONTENT_TYPES[] =
    "<?xml version=\"1.0\"?><Types "
    "xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Override "
    "PartName=\"/word/document.xml\" "
    "ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+"
    "xml\"/></Types>";
static const char RELS[] =
    "<?xml version=\"1.0\"?><Relationships "
    "xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship "
    "Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
    "officeDocument\" Target=\"word/document.xml\"/></Relationships>";
static const char DOC_RELS[] =
    "<?xml version=\"1.0\"?><Relationships "
    "xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship "
    "Id=\"rId5\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
    "image\" Target=\"media/image1.png\"/></Relationships>";
static const unsigned char PNG[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0};

/* A stored (uncompressed) package with data as word/document.xml. */
static void *
wrap(const uint8_t *data, size_t size, size_t *len)
{
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
    void *buf = NULL;
    if (!src)
        return NULL;
    zip_source_keep(src);
    zip_t *za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
    if (za) {
        const struct {
            const char *name;
            const void *data;
            size_t len;
        } parts[] = {{"[Content_Types].xml", CONTENT_TYPES, sizeof CONTENT_TYPES - 1},
                     {"_rels/.rels", RELS, sizeof RELS - 1},
                     {"word/_rels/document.xml.rels", DOC_RELS, sizeof DOC_RELS - 1},
                     {"word/document.xml", data, size},
                     {"word/media/image1.png", PNG, sizeof PNG}};
        for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
            zip_source_t *s = zip_source_buffer(za, parts[i].data, parts[i].len, 0);
            zip_int64_t idx = s ? zip_file_add(za, parts[i].name, s, 0) : -1;
            if (idx >= 0)
                zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
            else
                zip_source_free(s);
        }
        if (zip_close(za) != 0)
            zip_discard(za);
    }
    if (zip_source_open(src) == 0) {
        zip_source_seek(src, 0, SEEK_END);
        zip_int64_t n = zip_source_tell(src);
        zip_source_seek(src, 0, SEEK_SET);
        buf = malloc(n > 0 ? (size_t)n : 1);
        if (buf && n > 0 && zip_source_read(src, buf, (zip_uint64_t)n) == n) {
            *len = (size_t)n;
        } else {
            free(buf);
            buf = NULL;
        }
        zip_source_close(src);
    }
    zip_source_free(src);
    zip_error_fini(&ze);
    return buf;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kt_docx_result r;
    size_t len = 0;

    kt_docx_read(data, size, &r);
    kt_docx_result_free(&r);
    if (size == 0 || data[0] == 'P')
        return 0; /* a zip already */
    void *buf = wrap(data, size, &len);
    if (buf) {
        kt_docx_read(buf, len, &r);
        kt_docx_result_free(&r);
        free(buf);
    }
    return 0;
}

/*
 * libFuzzer target for the Word question reader. The bytes go to
 * kt_docx_read twice: as a whole .docx (archive vetting, relationships,
 * parts), and as the word/document.xml of a well-formed package built
 * around them, so that mutations reach the document walk, the conventions,
 * equations, tables and the item checks instead of stopping at the zip's
 * checksums; then as the word/numbering.xml of a package whose paragraphs
 * are numbered (Word's automatic numbering). It must read or refuse, never
 * crash, leak or read out of bounds.
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
    "image\" Target=\"media/image1.png\"/><Relationship Id=\"rId6\" "
    "Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/numbering\" "
    "Target=\"numbering.xml\"/></Relationships>";
static const unsigned char PNG[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0};

#define W_NS "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\""
#define NUMPR(id, lvl)                                                                             \
    "<w:pPr><w:numPr><w:ilvl w:val=\"" lvl "\"/><w:numId w:val=\"" id "\"/></w:numPr></w:pPr>"
/* Numbering for the fuzzed documents: "Câu %1.", "%1." (A), "%2)" (a). */
static const char NUMBERING[] =
    "<?xml version=\"1.0\"?><w:numbering " W_NS "><w:abstractNum w:abstractNumId=\"1\"><w:lvl "
    "w:ilvl=\"0\"><w:start w:val=\"1\"/><w:numFmt w:val=\"decimal\"/><w:lvlText w:val=\"Câu %1.\"/>"
    "</w:lvl><w:lvl w:ilvl=\"1\"><w:numFmt w:val=\"lowerLetter\"/><w:lvlText w:val=\"%2)\"/>"
    "</w:lvl></w:abstractNum><w:abstractNum w:abstractNumId=\"2\"><w:lvl w:ilvl=\"0\"><w:numFmt "
    "w:val=\"upperLetter\"/><w:lvlText w:val=\"%1.\"/></w:lvl></w:abstractNum><w:num "
    "w:numId=\"1\"><w:abstractNumId w:val=\"1\"/></w:num><w:num w:numId=\"2\"><w:abstractNumId "
    "w:val=\"2\"/><w:lvlOverride w:ilvl=\"0\"><w:startOverride w:val=\"1\"/></w:lvlOverride>"
    "</w:num><w:num w:numId=\"3\"><w:abstractNumId w:val=\"2\"/></w:num></w:numbering>";
/* A document whose paragraphs the fuzzed numbering part numbers. */
static const char NUMBERED_DOC[] =
    "<?xml version=\"1.0\"?><w:document " W_NS "><w:body>"
    "<w:p>" NUMPR(
        "1",
        "0") "<w:r><w:t>Một?</w:t></w:r></w:p>"
             "<w:p>" NUMPR(
                 "2",
                 "0") "<w:r><w:t>a</w:t></w:r></w:p>"
                      "<w:p>" NUMPR(
                          "3",
                          "0") "<w:r><w:rPr><w:u/></w:rPr><w:t>b</w:t></w:r></w:p>"
                               "<w:p>" NUMPR(
                                   "3",
                                   "0") "<w:r><w:t>c</w:t></w:r></w:p>"
                                        "<w:p>" NUMPR(
                                            "3",
                                            "0") "<w:r><w:t>d</w:t></w:r></w:p>"
                                                 "<w:p>" NUMPR(
                                                     "1",
                                                     "1") "<w:r><w:t>ý</w:t></w:r></w:p>"
                                                          "<w:p>" NUMPR(
                                                              "4",
                                                              "8") "<w:r><w:t>x</w:t></w:r></w:p>"
                                                                   "<w:p>" NUMPR(
                                                                       "1",
                                                                       "0") "<w:r><w:t>Hai</w:t></"
                                                                            "w:r></w:p></w:body></"
                                                                            "w:document>";

/* A stored (uncompressed) package with doc as word/document.xml and num
 * as word/numbering.xml. */
static void *
wrap(const void *data, size_t size, const void *num, size_t num_size, size_t *len)
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
                     {"word/numbering.xml", num, num_size},
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
    void *buf = wrap(data, size, NUMBERING, sizeof NUMBERING - 1, &len);
    if (buf) {
        kt_docx_read(buf, len, &r);
        kt_docx_result_free(&r);
        free(buf);
    }
    buf = wrap(NUMBERED_DOC, sizeof NUMBERED_DOC - 1, data, size, &len);
    if (buf) {
        kt_docx_read(buf, len, &r);
        kt_docx_result_free(&r);
        free(buf);
    }
    return 0;
}

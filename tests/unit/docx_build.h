/*
 * Building small .docx files in unit tests: a body of WordprocessingML
 * (paragraph and run macros below) put into a package with
 * [Content_Types].xml, the relationships and a 1x1 PNG at
 * word/media/image1.png (relationship rId5).
 */
#ifndef KT_TEST_DOCX_BUILD_H
#define KT_TEST_DOCX_BUILD_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#define DX_NS                                                                                      \
    "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\" "                    \
    "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\" "             \
    "xmlns:m=\"http://schemas.openxmlformats.org/officeDocument/2006/math\" "                      \
    "xmlns:wp=\"http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing\" "         \
    "xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\" "                           \
    "xmlns:pic=\"http://schemas.openxmlformats.org/drawingml/2006/picture\" "                      \
    "xmlns:v=\"urn:schemas-microsoft-com:vml\" "                                                   \
    "xmlns:o=\"urn:schemas-microsoft-com:office:office\""

/* Runs: plain, underlined, red, bold, superscript. */
#define R(t) "<w:r><w:t xml:space=\"preserve\">" t "</w:t></w:r>"
#define RU(t)                                                                                      \
    "<w:r><w:rPr><w:u w:val=\"single\"/></w:rPr><w:t xml:space=\"preserve\">" t "</w:t></w:r>"
#define RRED(t)                                                                                    \
    "<w:r><w:rPr><w:color w:val=\"FF0000\"/></w:rPr><w:t xml:space=\"preserve\">" t "</w:t></w:r>"
#define RB(t) "<w:r><w:rPr><w:b/></w:rPr><w:t xml:space=\"preserve\">" t "</w:t></w:r>"
#define RSUP(t) "<w:r><w:rPr><w:vertAlign w:val=\"superscript\"/></w:rPr><w:t>" t "</w:t></w:r>"
#define TAB "<w:r><w:tab/></w:r>"
/* A paragraph of runs; a paragraph of one plain run. */
#define PR(runs) "<w:p>" runs "</w:p>"
#define P(t) PR(R(t))
/* A table of rows of cells. */
#define TBL(rows) "<w:tbl>" rows "</w:tbl>"
#define TR(cells) "<w:tr>" cells "</w:tr>"
#define TC(t) "<w:tc><w:p>" R(t) "</w:p></w:tc>"
/* An inline picture of word/media/image1.png, and a MathType object with its fallback. */
#define PICTURE                                                                                    \
    "<w:r><w:drawing><wp:inline><a:graphic><a:graphicData><pic:pic><pic:blipFill>"                 \
    "<a:blip r:embed=\"rId5\"/></pic:blipFill></pic:pic></a:graphicData></a:graphic>"              \
    "</wp:inline></w:drawing></w:r>"
#define MATHTYPE                                                                                   \
    "<w:r><w:object><v:shape><v:imagedata r:id=\"rId5\" o:title=\"\"/></v:shape>"                  \
    "<o:OLEObject Type=\"Embed\" ProgID=\"Equation.DSMT4\" r:id=\"rId6\"/></w:object></w:r>"

#define DX_DOCUMENT(body)                                                                          \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document " DX_NS "><w:body>" body                \
    "<w:sectPr/></w:body></w:document>"

#define DX_CT_MAIN                                                                                 \
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
#define DX_CT_MACRO "application/vnd.ms-word.document.macroEnabled.main+xml"

static const unsigned char dx_png[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
    0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00,
    0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78,
    0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99,
    0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

struct dx_part {
    const char *name;
    const void *data;
    size_t len; /* 0: strlen(data) */
};

/* A zip of the parts, malloc'd. */
static void *
dx_zip(const struct dx_part *parts, size_t n, size_t *len)
{
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
    cr_assert_not_null(src);
    zip_source_keep(src);
    zip_t *za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
    cr_assert_not_null(za);
    for (size_t i = 0; i < n; i++) {
        size_t l = parts[i].len ? parts[i].len : strlen(parts[i].data);
        zip_source_t *s = zip_source_buffer(za, parts[i].data, l, 0);
        cr_assert(s && zip_file_add(za, parts[i].name, s, 0) >= 0);
    }
    cr_assert_eq(zip_close(za), 0);
    cr_assert_eq(zip_source_open(src), 0);
    zip_source_seek(src, 0, SEEK_END);
    *len = (size_t)zip_source_tell(src);
    zip_source_seek(src, 0, SEEK_SET);
    void *buf = malloc(*len ? *len : 1);
    cr_assert_eq(zip_source_read(src, buf, *len), (zip_int64_t)*len);
    zip_source_close(src);
    zip_source_free(src);
    zip_error_fini(&ze);
    return buf;
}

/* A .docx whose word/document.xml is document (DX_DOCUMENT(...)), with the
 * main part's content type main_type. */
static void *
dx_docx_typed(const char *document, const char *main_type, size_t *len)
{
    char ct[1024];
    snprintf(ct, sizeof ct,
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types "
             "xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
             "<Default Extension=\"rels\" "
             "ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
             "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
             "<Default Extension=\"png\" ContentType=\"image/png\"/>"
             "<Override PartName=\"/word/document.xml\" ContentType=\"%s\"/></Types>",
             main_type);
    const struct dx_part parts[] = {
        {"[Content_Types].xml", ct, 0},
        {"_rels/.rels",
         "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships "
         "xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship "
         "Id=\"rId1\" "
         "Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
         "officeDocument\" Target=\"word/document.xml\"/></Relationships>",
         0},
        {"word/_rels/document.xml.rels",
         "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships "
         "xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship "
         "Id=\"rId5\" "
         "Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/image\" "
         "Target=\"media/image1.png\"/><Relationship Id=\"rId6\" "
         "Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/oleObject\" "
         "Target=\"embeddings/oleObject1.bin\"/></Relationships>",
         0},
        {"word/document.xml", document, 0},
        {"word/media/image1.png", dx_png, sizeof dx_png},
    };
    return dx_zip(parts, sizeof parts / sizeof parts[0], len);
}

static void *
dx_docx(const char *document, size_t *len)
{
    return dx_docx_typed(document, DX_CT_MAIN, len);
}

#endif

/*
 * Import plans: a parsed QTI document or content package becomes the JSON
 * that kt_import_qti() stores (items with their original XML, searchable
 * text and package files; tests and sections). Everything is decided here,
 * off any event loop, so that the database sees one statement per file.
 */
#include "import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>
#include <sodium.h>
#include <zip.h>

#include "item.h"
#include "package.h"
#include "qti_export.h"
#include "rp_compile.h"

static const char *
version_name(kt_qti_version v)
{
    switch (v) {
    case KT_QTI_V20:
        return "2.0";
    case KT_QTI_V21:
        return "2.1";
    case KT_QTI_V22:
        return "2.2";
    case KT_QTI_V30:
        return "3.0";
    }
    return "?";
}

static int
has_ext(const char *path, const char *ext)
{
    size_t n = strlen(path), e = strlen(ext);
    return n > e && strcasecmp(path + n - e, ext) == 0;
}

const char *
kt_import_content_type(const char *path)
{
    static const char *const types[][2] = {
        {".png", "image/png"},       {".jpg", "image/jpeg"},     {".jpeg", "image/jpeg"},
        {".gif", "image/gif"},       {".svg", "image/svg+xml"},  {".webp", "image/webp"},
        {".bmp", "image/bmp"},       {".mp3", "audio/mpeg"},     {".ogg", "audio/ogg"},
        {".oga", "audio/ogg"},       {".wav", "audio/wav"},      {".m4a", "audio/mp4"},
        {".mp4", "video/mp4"},       {".webm", "video/webm"},    {".ogv", "video/ogg"},
        {".css", "text/css"},        {".js", "text/javascript"}, {".html", "text/html"},
        {".htm", "text/html"},       {".txt", "text/plain"},     {".xml", "application/xml"},
        {".pdf", "application/pdf"}, {".json", "application/json"},
        {".woff", "font/woff"},      {".woff2", "font/woff2"},   {".ttf", "font/ttf"},
        {".otf", "font/otf"},
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (has_ext(path, types[i][0]))
            return types[i][1];
    return "application/octet-stream";
}

/* Why a document that is not an item, test or section is skipped, or NULL
 * when it is an error. */
static const char *
skip_reason(kt_qti_doc_kind kind)
{
    switch (kind) {
    case KT_QTI_DOC_MANIFEST:
        return "tệp kê khai gói (imsmanifest), không phải câu hỏi";
    case KT_QTI_DOC_RESULT:
        return "kết quả làm bài (assessmentResult), không phải câu hỏi";
    case KT_QTI_DOC_RPTEMPLATE:
        return "mẫu xử lý đáp án, không phải câu hỏi";
    case KT_QTI_DOC_STIMULUS:
        return "ngữ liệu dùng chung (assessmentStimulus) chưa được hỗ trợ nhập";
    case KT_QTI_DOC_OTHER:
        return "không phải tài liệu QTI";
    default:
        return NULL;
    }
}

/* ------------------------------------------------------------------------ */
/* Items and tests                                                           */

static const xmlNode *
find_body(const xmlNode *n)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        const char *name = (const char *)n->name;
        if (strcmp(name, "itemBody") == 0 || strcmp(name, "qti-item-body") == 0)
            return n;
        const xmlNode *b = find_body(n->children);
        if (b)
            return b;
    }
    return NULL;
}

/* Folded title + item body text, for the bank's diacritic-insensitive search. */
static char *
search_text(const kt_qti_item *it, const char *title)
{
    kt_qti_errors errs;
    kt_qti_errors_init(&errs);
    xmlDoc *doc = kt_qti_xml_read(it->xml, it->xml_len, it->file, &errs);
    kt_qti_errors_free(&errs);
    xmlChar *text = NULL;
    if (doc) {
        const xmlNode *body = find_body(xmlDocGetRootElement(doc));
        if (body)
            text = xmlNodeGetContent(body);
    }
    json_t *content = json_pack("{s:s}", "stem", text ? (const char *)text : "");
    char *folded = content ? kt_item_search_text(title, content) : NULL;
    json_decref(content);
    xmlFree(text);
    xmlFreeDoc(doc);
    return folded;
}

static json_t *
item_plan(const kt_qti_item *it)
{
    const char *title = it->title && it->title[0] ? it->title : it->identifier;
    json_t *inter = json_array();
    for (size_t i = 0; i < it->ninteractions; i++)
        json_array_append_new(inter, json_pack("{s:s,s:s?}", "type", it->interactions[i].type,
                                               "response_identifier",
                                               it->interactions[i].response_identifier));
    const char *rp = it->rp_kind == KT_QTI_RP_TEMPLATE
                         ? (it->rp_template ? it->rp_template : "custom")
                         : it->rp_kind == KT_QTI_RP_CUSTOM ? "custom" : "none";
    char *folded = search_text(it, title);
    json_t *plan = json_pack("{s:s,s:s,s:{s:s,s:o},s:{s:s},s:s%,s:s?,s:[],s:[]}", "identifier",
                             it->identifier, "title", title, "content", "qti_version",
                             version_name(it->version), "interactions", inter, "scoring",
                             "response_processing", rp, "xml", it->xml, it->xml_len,
                             "search_text", folded, "tags", "assets");
    free(folded);
    return plan;
}

static json_t *
test_plan(const kt_qti_test *t)
{
    const char *title = t->title && t->title[0] ? t->title : t->identifier;
    return json_pack("{s:s,s:s,s:s%}", "identifier", t->identifier, "title", title, "xml", t->xml,
                     t->xml_len);
}

/* ------------------------------------------------------------------------ */
/* Package files                                                             */

/* One archive entry (the package was vetted, so sizes are bounded). */
static unsigned char *
zip_entry(zip_t *z, const char *name, size_t *len)
{
    zip_int64_t idx = zip_name_locate(z, name, 0);
    zip_stat_t st;
    if (idx < 0 || zip_stat_index(z, (zip_uint64_t)idx, 0, &st) < 0 ||
        !(st.valid & ZIP_STAT_SIZE) || st.size > KT_PKG_MAX_ENTRY)
        return NULL;
    zip_file_t *f = zip_fopen_index(z, (zip_uint64_t)idx, 0);
    if (!f)
        return NULL;
    unsigned char *data = malloc(st.size + 1);
    zip_int64_t n = data ? zip_fread(f, data, st.size) : -1;
    zip_fclose(f);
    if (n < 0 || (zip_uint64_t)n != st.size) {
        free(data);
        return NULL;
    }
    *len = (size_t)st.size;
    return data;
}

static const kt_qti_resource *
find_resource(const kt_qti_package *p, const char *id)
{
    for (size_t i = 0; id && i < p->nresources; i++)
        if (p->resources[i].identifier && strcmp(p->resources[i].identifier, id) == 0)
            return &p->resources[i];
    return NULL;
}

/* The resource whose document is item (its file label is "name!href"). */
static const kt_qti_resource *
item_resource(const kt_qti_package *pkg, const kt_qti_item *it, const char **doc)
{
    const char *bang = it->file ? strrchr(it->file, '!') : NULL;
    if (!bang)
        return NULL;
    *doc = bang + 1;
    for (size_t i = 0; i < pkg->nresources; i++) {
        const kt_qti_resource *r = &pkg->resources[i];
        const char *href = r->href ? r->href : (r->nfiles ? r->files[0] : NULL);
        if (href && strcmp(href, *doc) == 0)
            return r;
    }
    return NULL;
}

static int
add_asset(json_t *assets, zip_t *z, const char *file, const char *pkgname, kt_qti_errors *errs)
{
    for (size_t i = 0; i < json_array_size(assets); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(assets, i), "path")),
                   file) == 0)
            return 0;
    size_t len = 0;
    unsigned char *data = zip_entry(z, file, &len);
    if (!data) {
        kt_qti_error_add(errs, pkgname, 0, 0, NULL,
                         "Không đọc được tệp đính kèm '%s' trong gói.", file);
        return -1;
    }
    size_t b64len = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64len);
    if (!b64) {
        free(data);
        return -1;
    }
    sodium_bin2base64(b64, b64len, data, len, sodium_base64_VARIANT_ORIGINAL);
    free(data);
    json_array_append_new(assets, json_pack("{s:s,s:s,s:s}", "path", file, "content_type",
                                            kt_import_content_type(file), "data", b64));
    free(b64);
    return 0;
}

/* The files of res (but not the item document itself) and of the non-QTI
 * resources it depends on, a few levels deep. */
static int
add_resource_files(json_t *assets, zip_t *z, const kt_qti_package *pkg,
                   const kt_qti_resource *res, const char *item_doc, const char *pkgname,
                   kt_qti_errors *errs, int depth)
{
    if (depth > 8)
        return 0;
    for (size_t i = 0; i < res->nfiles; i++)
        if (strcmp(res->files[i], item_doc) != 0 &&
            add_asset(assets, z, res->files[i], pkgname, errs) < 0)
            return -1;
    for (size_t i = 0; i < res->ndependencies; i++) {
        const kt_qti_resource *d = find_resource(pkg, res->dependencies[i]);
        if (d && d != res && (!d->type || strncmp(d->type, "imsqti_", 7) != 0) &&
            add_resource_files(assets, z, pkg, d, item_doc, pkgname, errs, depth + 1) < 0)
            return -1;
    }
    return 0;
}

/* The taxonomy codes a kiemtra package recorded for the item at href, as
 * one flat list (outcome, level, competencies, other tags). */
static void
add_package_tags(json_t *plan, const kt_qti_package *pkg, const char *href)
{
    json_t *t = href ? kt_qti_package_tags(pkg, href) : NULL;
    if (!t)
        return;
    json_t *tags = json_object_get(plan, "tags");
    static const char *const single[] = {"outcome", "level"};
    for (size_t i = 0; i < 2; i++)
        if (json_is_string(json_object_get(t, single[i])))
            json_array_append(tags, json_object_get(t, single[i]));
    static const char *const lists[] = {"competencies", "tags"};
    for (size_t i = 0; i < 2; i++) {
        size_t k;
        json_t *v;
        json_array_foreach(json_object_get(t, lists[i]), k, v)
        {
            size_t m;
            json_t *have;
            int dup = 0;
            json_array_foreach(tags, m, have) dup |= json_equal(have, v);
            if (json_is_string(v) && !dup)
                json_array_append(tags, v);
        }
    }
    json_decref(t);
}

/* The plan's "origin", under which its identifiers are unique in a school:
 * prefix:text when text is short UTF-8, else prefix-sha256:<hex> of text
 * (or of data when there is no text). */
static void
set_origin(json_t *plan, const char *prefix, const char *text, const void *data, size_t len)
{
    char o[320];
    json_t *s = NULL;
    if (text && *text && strlen(text) <= 200) {
        snprintf(o, sizeof(o), "%s:%s", prefix, text);
        s = json_string(o); /* NULL when not UTF-8 */
    }
    if (!s) {
        unsigned char h[crypto_hash_sha256_BYTES];
        char hex[2 * crypto_hash_sha256_BYTES + 1];
        if (text && *text)
            crypto_hash_sha256(h, (const unsigned char *)text, strlen(text));
        else
            crypto_hash_sha256(h, data, len);
        sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
        snprintf(o, sizeof(o), "%s-sha256:%s", prefix, hex);
        s = json_string(o);
    }
    json_object_set_new(plan, "origin", s);
}

/* A package is known by its manifest's identifier, else by its manifest. */
static void
package_origin(json_t *plan, const kt_qti_package *pkg, zip_t *z)
{
    size_t mlen = 0;
    unsigned char *m =
        pkg->identifier && *pkg->identifier ? NULL : zip_entry(z, "imsmanifest.xml", &mlen);
    set_origin(plan, "package", pkg->identifier, m ? m : (const unsigned char *)"", mlen);
    free(m);
}

static int
package_plan(const void *buf, size_t len, const char *name, kt_import *out, kt_qti_errors *errs)
{
    kt_qti_package pkg = {0};
    if (kt_qti_package_read(buf, len, name, &pkg, errs) < 0)
        return -1;
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(buf, len, 0, &ze);
    zip_t *z = src ? zip_open_from_source(src, ZIP_RDONLY, &ze) : NULL;
    if (src && !z)
        zip_source_free(src);
    zip_error_fini(&ze);
    int rc = z ? 0 : -1;
    for (size_t i = 0; i < pkg.nitems; i++) /* an ill-typed item refuses the package */
        if (kt_rp_typecheck(pkg.items[i]->xml, pkg.items[i]->xml_len, pkg.items[i]->file, errs))
            rc = -1;
    json_t *items = json_object_get(out->plan, "items"), *tests = json_object_get(out->plan, "tests");
    for (size_t i = 0; rc == 0 && i < pkg.nitems; i++) {
        const kt_qti_item *it = pkg.items[i];
        json_t *p = item_plan(it);
        const char *doc = NULL;
        const kt_qti_resource *res = item_resource(&pkg, it, &doc);
        add_package_tags(p, &pkg, doc);
        if (res)
            rc = add_resource_files(json_object_get(p, "assets"), z, &pkg, res, doc, name, errs,
                                    0);
        out->nassets += json_array_size(json_object_get(p, "assets"));
        json_array_append_new(items, p);
    }
    for (size_t i = 0; rc == 0 && i < pkg.ntests; i++)
        json_array_append_new(tests, test_plan(pkg.tests[i]));
    if (rc == 0)
        package_origin(out->plan, &pkg, z);
    out->nitems = pkg.nitems;
    out->ntests = pkg.ntests;
    if (z)
        zip_discard(z);
    else
        kt_qti_error_add(errs, name, 0, 0, NULL, "Không mở lại được gói.");
    kt_qti_package_free(&pkg);
    return rc;
}

int
kt_import_read(const void *buf, size_t len, const char *name, kt_import *out,
               kt_qti_errors *errs)
{
    memset(out, 0, sizeof(*out));
    out->status = KT_IMPORT_FAILED;
    out->plan = json_pack("{s:[],s:[]}", "items", "tests");
    if (!out->plan)
        return -1;
    int is_zip = (name && has_ext(name, ".zip")) || (len >= 4 && memcmp(buf, "PK\003\004", 4) == 0);
    const char *label = name ? name : is_zip ? "tep-tai-len.zip" : "tep-tai-len.xml";
    if (is_zip) {
        if (package_plan(buf, len, label, out, errs) < 0)
            return -1;
        out->status = KT_IMPORT_OK;
        return 0;
    }
    kt_qti_doc doc = {0};
    size_t nerrs = errs->n;
    /* One document is known by its file name, else by its content. */
    const char *base = name ? strrchr(name, '/') : NULL;
    set_origin(out->plan, "file", base ? base + 1 : name, buf, len);
    int rc = kt_qti_parse(buf, len, label, &doc, errs);
    if (rc < 0) {
        out->skip_reason = skip_reason(doc.kind);
        if (out->skip_reason) {
            errs->n = nerrs; /* the "not QTI" note is the reason, not an error */
            out->status = KT_IMPORT_SKIPPED;
            rc = 0;
        }
    } else if (doc.item &&
               kt_rp_typecheck(doc.item->xml, doc.item->xml_len, doc.item->file, errs)) {
        rc = -1;
    } else if (doc.item) {
        json_array_append_new(json_object_get(out->plan, "items"), item_plan(doc.item));
        out->nitems = 1;
        out->status = KT_IMPORT_OK;
    } else {
        json_array_append_new(json_object_get(out->plan, "tests"), test_plan(doc.test));
        out->ntests = 1;
        out->status = KT_IMPORT_OK;
    }
    kt_qti_doc_free(&doc);
    return rc;
}

void
kt_import_free(kt_import *imp)
{
    json_decref(imp->plan);
    imp->plan = NULL;
}

/*
 * Unit tests for the origin of an import plan (itembank/import.c): a package
 * is known by its manifest identifier, else by its manifest's SHA-256; one
 * document by its file name (last path segment), else by its own SHA-256.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "import.h"

#define NS "http://www.imsglobal.org/xsd/imsqti_v2p2"

static const char ITEM[] =
    "<assessmentItem xmlns=\"" NS "\" identifier=\"choice\" title=\"Câu\" adaptive=\"false\""
    " timeDependent=\"false\"><itemBody><p>1 + 1 = 2</p></itemBody></assessmentItem>";

/* A package of one item; manifest_id NULL leaves the attribute out. */
static void *
package(const char *manifest_id, const char *extra, size_t *len)
{
    char manifest[1024];
    snprintf(manifest, sizeof(manifest),
             "<manifest xmlns=\"http://www.imsglobal.org/xsd/imscp_v1p1\"%s%s%s><organizations/>"
             "<resources><resource identifier=\"r1\" type=\"imsqti_item_xmlv2p2\" href=\"c.xml\">"
             "<file href=\"c.xml\"/></resource>%s</resources></manifest>",
             manifest_id ? " identifier=\"" : "", manifest_id ? manifest_id : "",
             manifest_id ? "\"" : "", extra);
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
    zip_source_keep(src);
    zip_t *z = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
    cr_assert(z);
    char *m = strdup(manifest), *it = strdup(ITEM);
    zip_file_add(z, "imsmanifest.xml", zip_source_buffer(z, m, strlen(m), 1), 0);
    zip_file_add(z, "c.xml", zip_source_buffer(z, it, strlen(it), 1), 0);
    cr_assert_eq(zip_close(z), 0);
    cr_assert_eq(zip_source_open(src), 0);
    zip_source_seek(src, 0, SEEK_END);
    *len = (size_t)zip_source_tell(src);
    zip_source_seek(src, 0, SEEK_SET);
    void *buf = malloc(*len);
    cr_assert_eq(zip_source_read(src, buf, *len), (zip_int64_t)*len);
    zip_source_close(src);
    zip_source_free(src);
    zip_error_fini(&ze);
    return buf;
}

/* The origin the plan of buf gets, malloc'd. */
static char *
origin_of(const void *buf, size_t len, const char *name)
{
    kt_qti_errors errs;
    kt_qti_errors_init(&errs);
    kt_import imp;
    int rc = kt_import_read(buf, len, name, &imp, &errs);
    cr_assert_eq(rc, 0, "%s", errs.n ? errs.v[0].message : "?");
    cr_assert_eq(imp.status, KT_IMPORT_OK);
    const char *o = json_string_value(json_object_get(imp.plan, "origin"));
    cr_assert(o, "the plan has an origin");
    char *out = strdup(o);
    kt_import_free(&imp);
    kt_qti_errors_free(&errs);
    return out;
}

Test(import_origin, package_by_manifest_identifier)
{
    size_t n;
    void *a = package("goi-a", "", &n);
    char *o = origin_of(a, n, "tai-ve/bat-ky.zip");
    cr_assert_str_eq(o, "package:goi-a");
    free(o);
    o = origin_of(a, n, NULL); /* the file name plays no part */
    cr_assert_str_eq(o, "package:goi-a");
    free(o);
    free(a);
}

Test(import_origin, package_without_identifier_by_its_manifest)
{
    size_t n1, n2;
    void *a = package(NULL, "", &n1), *b = package(NULL, "<!-- khác -->", &n2);
    char *oa = origin_of(a, n1, "a.zip"), *oa2 = origin_of(a, n1, "b.zip"),
         *ob = origin_of(b, n2, "a.zip");
    cr_assert(strncmp(oa, "package-sha256:", 15) == 0 && strlen(oa) == 15 + 64, "%s", oa);
    cr_assert_str_eq(oa, oa2);
    cr_assert_str_neq(oa, ob);
    free(oa);
    free(oa2);
    free(ob);
    free(a);
    free(b);
}

Test(import_origin, document_by_file_name_else_content)
{
    char *o = origin_of(ITEM, strlen(ITEM), "/tmp/ngan-hang/cau-1.xml");
    cr_assert_str_eq(o, "file:cau-1.xml");
    free(o);
    o = origin_of(ITEM, strlen(ITEM), "cau-1.xml");
    cr_assert_str_eq(o, "file:cau-1.xml");
    free(o);
    char *x = origin_of(ITEM, strlen(ITEM), NULL);
    cr_assert(strncmp(x, "file-sha256:", 12) == 0 && strlen(x) == 12 + 64, "%s", x);
    char other[sizeof(ITEM) + 8];
    snprintf(other, sizeof(other), "%s\n", ITEM);
    char *y = origin_of(other, strlen(other), NULL);
    cr_assert_str_neq(x, y);
    free(x);
    free(y);
    /* A name too long (or not UTF-8) for a key is replaced by its SHA-256. */
    char lname[300];
    memset(lname, 'a', sizeof(lname) - 5);
    strcpy(lname + sizeof(lname) - 5, ".xml");
    o = origin_of(ITEM, strlen(ITEM), lname);
    cr_assert(strncmp(o, "file-sha256:", 12) == 0, "%s", o);
    free(o);
    o = origin_of(ITEM, strlen(ITEM), "c\xff.xml");
    cr_assert(strncmp(o, "file-sha256:", 12) == 0, "%s", o);
    free(o);
}

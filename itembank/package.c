/*
 * IMS content package reader: libzip opens the archive from memory, every
 * entry is vetted (names, symlinks, sizes, compression ratio) before any is
 * read, then imsmanifest.xml gives the resources whose QTI items and tests
 * are parsed with qti.c. Every file a resource, item or test refers to must
 * be in the archive. A package without a manifest is refused. Resource
 * metadata is read only for the kiemtra tags that qti_export.c writes.
 */
#include "package.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libxml/tree.h>
#include <zip.h>

#define MANIFEST "imsmanifest.xml"

struct pkg {
    kt_qti_package *p;
    kt_arena *a;
    kt_qti_errors *errs;
    const char *name;
    size_t errs_before;
    zip_t *zip;
};

__attribute__((format(printf, 4, 5))) static void
fail(struct pkg *k, const char *entry, long line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *file = entry ? kt_arena_printf(k->a, "%s!%s", k->name, entry) : k->name;
    kt_qti_error_add(k->errs, file, line, 0, NULL, "%s", msg);
}

static bool
eq(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

/* ---- archive entries --------------------------------------------------- */

static bool
unsafe_name(const char *name)
{
    const char *s = name;

    if (*name == '/' || *name == '\\' || (isalpha((unsigned char)name[0]) && name[1] == ':'))
        return true;
    while (*s) {
        size_t n = strcspn(s, "/\\");
        if (n == 2 && s[0] == '.' && s[1] == '.')
            return true;
        s += n;
        s += *s != '\0';
    }
    return false;
}

static bool
is_symlink(zip_t *z, zip_uint64_t i)
{
    zip_uint8_t os;
    zip_uint32_t attr;
    if (zip_file_get_external_attributes(z, i, 0, &os, &attr) < 0 || os != ZIP_OPSYS_UNIX)
        return false;
    return ((attr >> 16) & S_IFMT) == S_IFLNK;
}

static void
vet_entry(struct pkg *k, zip_uint64_t i, zip_uint64_t *total)
{
    zip_stat_t st;

    if (zip_stat_index(k->zip, i, 0, &st) < 0 || !(st.valid & ZIP_STAT_NAME)) {
        fail(k, NULL, 0, "Mục thứ %llu của tệp nén bị hỏng.", (unsigned long long)i + 1);
        return;
    }
    if (unsafe_name(st.name))
        fail(k, st.name, 0,
             "Tên tệp trong gói không an toàn (đường dẫn tuyệt đối hoặc có \"..\").");
    if (is_symlink(k->zip, i))
        fail(k, st.name, 0, "Gói chứa liên kết tượng trưng (symlink), không được phép.");
    if ((st.valid & (ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE)) != (ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE))
        fail(k, st.name, 0, "Không đọc được kích thước của tệp trong gói.");
    else if (st.size > KT_PKG_MAX_ENTRY)
        fail(k, st.name, 0, "Tệp giải nén ra quá lớn (tối đa %u MB mỗi tệp).",
             KT_PKG_MAX_ENTRY >> 20);
    else if (st.size > KT_PKG_RATIO_FLOOR && st.size / KT_PKG_MAX_RATIO > st.comp_size)
        fail(k, st.name, 0, "Tỉ lệ nén bất thường (trên %d lần), nghi là zip bomb.",
             KT_PKG_MAX_RATIO);
    else
        *total += st.size;
}

/* Checks every entry before anything is decompressed. */
static bool
vet_archive(struct pkg *k)
{
    zip_int64_t n = zip_get_num_entries(k->zip, 0);
    zip_uint64_t total = 0;

    if (n > KT_PKG_MAX_ENTRIES) {
        fail(k, NULL, 0, "Gói có quá nhiều tệp (%lld, tối đa %d).", (long long)n,
             KT_PKG_MAX_ENTRIES);
        return false;
    }
    for (zip_int64_t i = 0; i < n; i++)
        vet_entry(k, (zip_uint64_t)i, &total);
    if (total > KT_PKG_MAX_TOTAL)
        fail(k, NULL, 0, "Gói giải nén ra quá lớn (tối đa %u MB tổng cộng).",
             KT_PKG_MAX_TOTAL >> 20);
    return k->errs->n == k->errs_before;
}

/* An entry's bytes (NUL-terminated, caller frees), or NULL when unreadable. */
static char *
read_entry(struct pkg *k, const char *path, size_t *len)
{
    zip_int64_t idx = zip_name_locate(k->zip, path, 0);
    zip_stat_t st;
    zip_file_t *f;
    char extra, *data;

    if (idx < 0 || zip_stat_index(k->zip, (zip_uint64_t)idx, 0, &st) < 0)
        return NULL;
    if (!(f = zip_fopen_index(k->zip, (zip_uint64_t)idx, 0))) {
        fail(k, path, 0, "Không giải nén được tệp (hỏng hoặc có mật khẩu).");
        return NULL;
    }
    if (!(data = malloc(st.size + 1)))
        abort();
    bool ok = zip_fread(f, data, st.size) == (zip_int64_t)st.size && zip_fread(f, &extra, 1) == 0;
    zip_fclose(f);
    if (!ok) {
        free(data);
        fail(k, path, 0, "Giải nén tệp thất bại (tệp nén bị hỏng).");
        return NULL;
    }
    data[st.size] = '\0';
    *len = st.size;
    return data;
}

static bool
exists(struct pkg *k, const char *path)
{
    return zip_name_locate(k->zip, path, 0) >= 0;
}

/* ---- paths ------------------------------------------------------------- */

static bool
has_scheme(const char *href)
{
    const char *s = href;
    while (isalnum((unsigned char)*s) || *s == '+' || *s == '-' || *s == '.')
        s++;
    return s > href && *s == ':' && isalpha((unsigned char)*href);
}

static int
hexval(char c)
{
    return isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10;
}

/* Appends segment seg (n bytes) to out[*o], handling "." and "..". */
static bool
push_segment(char *out, size_t *o, const char *seg, size_t n)
{
    if (n == 0 || (n == 1 && seg[0] == '.'))
        return true;
    if (n == 2 && seg[0] == '.' && seg[1] == '.') {
        if (*o == 0)
            return false;
        while (*o > 0 && out[*o - 1] != '/')
            (*o)--;
        if (*o > 0)
            (*o)--;
        return true;
    }
    if (*o)
        out[(*o)++] = '/';
    memcpy(out + *o, seg, n);
    *o += n;
    return true;
}

/* Percent-decodes href (less any #fragment or ?query) and resolves it
 * against the directory dir. Returns the archive path, NULL when it leaves
 * the archive. */
static const char *
resolve(struct pkg *k, const char *dir, const char *href)
{
    size_t hn = strcspn(href, "#?"), dn = strlen(dir), o = 0;
    char *joined = kt_arena_alloc(k->a, dn + hn + 2), *out = kt_arena_alloc(k->a, dn + hn + 2);
    size_t j = 0;

    if (*href == '/')
        return NULL;
    memcpy(joined, dir, dn + 1);
    j = dn;
    if (dn)
        joined[j++] = '/';
    for (size_t i = 0; i < hn; i++) {
        if (href[i] == '%' && isxdigit((unsigned char)href[i + 1]) &&
            isxdigit((unsigned char)href[i + 2]) && (href[i + 1] != '0' || href[i + 2] != '0')) {
            joined[j++] = (char)(hexval(href[i + 1]) * 16 + hexval(href[i + 2]));
            i += 2;
        } else {
            joined[j++] = href[i];
        }
    }
    for (const char *s = joined, *end = joined + j; s < end;) {
        size_t n = strcspn(s, "/");
        if (s + n > end)
            n = (size_t)(end - s);
        if (!push_segment(out, &o, s, n))
            return NULL;
        s += n + 1;
    }
    out[o] = '\0';
    return out;
}

static const char *
dir_of(struct pkg *k, const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? kt_arena_strndup(k->a, path, (size_t)(slash - path)) : "";
}

/* Checks that href, relative to the document at path, is in the archive. */
static void
check_ref(struct pkg *k, const char *path, long line, const char *href)
{
    const char *target;

    if (!href || !*href || has_scheme(href) || *href == '#')
        return;
    if (!(target = resolve(k, dir_of(k, path), href)))
        fail(k, path, line, "Đường dẫn %s ra ngoài gói, không được phép.", href);
    else if (!exists(k, target) && !exists(k, href))
        fail(k, path, line, "Thiếu tệp được tham chiếu: %s (không có trong gói).", href);
}

/* ---- manifest ---------------------------------------------------------- */

static const char *
prop(struct pkg *k, const xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
    const char *s = v ? kt_arena_strdup(k->a, (const char *)v) : NULL;
    xmlFree(v);
    return s;
}

static bool
named(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, (const xmlChar *)name);
}

/* A manifest href as an archive path; reports hrefs that leave the archive. */
static const char *
manifest_path(struct pkg *k, const xmlNode *n, const char *base)
{
    const char *href = prop(k, n, "href"), *path;

    if (!href)
        return NULL;
    if (!(path = resolve(k, base, href)))
        fail(k, MANIFEST, xmlGetLineNo(n), "Đường dẫn %s ra ngoài gói, không được phép.", href);
    else if (!exists(k, path) && !exists(k, href))
        fail(k, MANIFEST, xmlGetLineNo(n), "Thiếu tệp khai báo trong manifest: %s.", href);
    return path;
}

static bool
is_tags_element(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && n->ns &&
           xmlStrEqual(n->ns->href, (const xmlChar *)KT_PKG_TAGS_NS) &&
           xmlStrEqual(n->name, (const xmlChar *)name);
}

/* The kiemtra tags of a resource's <metadata> (other metadata is ignored). */
static void
parse_tags(struct pkg *k, const xmlNode *metadata, kt_qti_resource *r)
{
    for (const xmlNode *t = metadata->children; t; t = t->next) {
        if (!is_tags_element(t, "tags"))
            continue;
        for (const xmlNode *x = t->children; x; x = x->next) {
            if (!is_tags_element(x, "tag"))
                continue;
            const char *kind = prop(k, x, "kind");
            if (!kind || !*kind) {
                fail(k, MANIFEST, xmlGetLineNo(x), "Nhãn kiemtra thiếu thuộc tính kind.");
                continue;
            }
            xmlChar *v = xmlNodeGetContent(x);
            kt_qti_tag *tag = KT_ARENA_PUSH(k->a, r->tags, r->ntags, r->tags_cap);
            tag->kind = kind;
            tag->value = kt_arena_strdup(k->a, v ? (const char *)v : "");
            xmlFree(v);
        }
    }
}

static void
parse_resource(struct pkg *k, const xmlNode *n, const char *base)
{
    kt_qti_package *p = k->p;
    kt_qti_resource *r = KT_ARENA_PUSH(k->a, p->resources, p->nresources, p->resources_cap);
    xmlChar *xb = xmlGetNsProp(n, (const xmlChar *)"base", XML_XML_NAMESPACE);

    const char *local = xb ? resolve(k, base, (const char *)xb) : NULL;
    xmlFree(xb);
    if (local)
        base = local;
    r->identifier = prop(k, n, "identifier");
    r->type = prop(k, n, "type");
    r->href = manifest_path(k, n, base);
    if (!r->identifier || !r->type)
        fail(k, MANIFEST, xmlGetLineNo(n), "Tài nguyên thiếu identifier hoặc type.");
    for (const xmlNode *x = n->children; x; x = x->next) {
        if (named(x, "file")) {
            const char *f = manifest_path(k, x, base);
            if (f)
                *KT_ARENA_PUSH(k->a, r->files, r->nfiles, r->files_cap) = f;
        } else if (named(x, "dependency")) {
            *KT_ARENA_PUSH(k->a, r->dependencies, r->ndependencies, r->dependencies_cap) =
                prop(k, x, "identifierref");
        } else if (named(x, "metadata")) {
            parse_tags(k, x, r);
        }
    }
}

static void
parse_manifest(struct pkg *k, xmlNode *root)
{
    k->p->identifier = prop(k, root, "identifier");
    for (xmlNode *res = root->children; res; res = res->next) {
        if (!named(res, "resources"))
            continue;
        xmlChar *xb = xmlGetNsProp(res, (const xmlChar *)"base", XML_XML_NAMESPACE);
        const char *base = xb ? resolve(k, "", (const char *)xb) : "";
        xmlFree(xb);
        for (xmlNode *x = res->children; x; x = x->next)
            if (named(x, "resource"))
                parse_resource(k, x, base ? base : "");
    }
}

static const kt_qti_resource *
find_resource(const kt_qti_package *p, const char *id)
{
    for (size_t i = 0; id && i < p->nresources; i++)
        if (p->resources[i].identifier && eq(p->resources[i].identifier, id))
            return &p->resources[i];
    return NULL;
}

static void
check_dependencies(struct pkg *k)
{
    for (size_t i = 0; i < k->p->nresources; i++) {
        const kt_qti_resource *r = &k->p->resources[i];
        for (size_t d = 0; d < r->ndependencies; d++)
            if (!find_resource(k->p, r->dependencies[d]))
                fail(k, MANIFEST, 0, "Tài nguyên %s phụ thuộc vào %s, không có trong manifest.",
                     r->identifier ? r->identifier : "?",
                     r->dependencies[d] ? r->dependencies[d] : "(trống)");
    }
}

/* ---- items and tests ----------------------------------------------------- */

static void
check_nodes(struct pkg *k, const char *path, const kt_qti_node *nodes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (nodes[i].kind != KT_QTI_NODE_SECTION)
            check_ref(k, path, nodes[i].line, nodes[i].href);
        check_nodes(k, path, nodes[i].children, nodes[i].nchildren);
    }
}

static void
check_test(struct pkg *k, const char *path, const kt_qti_test *t)
{
    for (size_t i = 0; i < t->nparts; i++)
        check_nodes(k, path, t->parts[i].sections, t->parts[i].nsections);
    if (t->section)
        check_nodes(k, path, t->section, 1);
}

static void
check_item(struct pkg *k, const char *path, const kt_qti_item *it)
{
    for (size_t i = 0; i < it->nassets; i++)
        check_ref(k, path, 0, it->assets[i]);
    for (size_t i = 0; i < it->nstylesheets; i++)
        check_ref(k, path, 0, it->stylesheets[i]);
}

static void
keep_doc(struct pkg *k, const char *path, kt_qti_doc *doc)
{
    kt_qti_package *p = k->p;

    if (doc->item) {
        check_item(k, path, doc->item);
        p->items = kt_arena_push(k->a, p->items, &p->nitems, &p->items_cap, sizeof(kt_qti_item *));
        p->items[p->nitems - 1] = doc->item;
    } else {
        check_test(k, path, doc->test);
        p->tests = kt_arena_push(k->a, p->tests, &p->ntests, &p->tests_cap, sizeof(kt_qti_test *));
        p->tests[p->ntests - 1] = doc->test;
    }
}

static void
import_resource(struct pkg *k, const kt_qti_resource *r)
{
    const char *path = r->href ? r->href : (r->nfiles ? r->files[0] : NULL);
    size_t len = 0;
    char *data;
    kt_qti_doc doc;

    if (r->type && strncmp(r->type, "imsqti_xmlv1p2", 14) == 0) {
        fail(k, MANIFEST, 0,
             "Tài nguyên %s là QTI 1.2, không được hỗ trợ; hãy xuất lại ở định "
             "dạng QTI 2.1, 2.2 hoặc 3.0.",
             r->identifier ? r->identifier : "?");
        return;
    }
    if (!r->type ||
        (strncmp(r->type, "imsqti_item_", 12) != 0 && strncmp(r->type, "imsqti_test_", 12) != 0))
        return;
    if (!path || !(data = read_entry(k, path, &len)))
        return; /* the manifest check has reported it */
    char *label = kt_arena_printf(k->a, "%s!%s", k->name, path);
    if (kt_qti_parse(data, len, label, &doc, k->errs) == 0)
        keep_doc(k, path, &doc);
    free(data);
}

static void
read_contents(struct pkg *k)
{
    size_t len = 0;
    char *data = read_entry(k, MANIFEST, &len);
    xmlDoc *xml;

    if (!data) {
        fail(k, NULL, 0, "Gói không có %s ở thư mục gốc: không phải gói nội dung IMS.", MANIFEST);
        return;
    }
    xml = kt_qti_xml_read(data, len, kt_arena_printf(k->a, "%s!%s", k->name, MANIFEST), k->errs);
    free(data);
    if (!xml)
        return;
    parse_manifest(k, xmlDocGetRootElement(xml));
    xmlFreeDoc(xml);
    check_dependencies(k);
    for (size_t i = 0; i < k->p->nresources; i++)
        import_resource(k, &k->p->resources[i]);
}

int
kt_qti_package_read(const void *buf, size_t len, const char *name, kt_qti_package *pkg,
                    kt_qti_errors *errs)
{
    struct pkg k = {.p = pkg, .errs = errs, .errs_before = errs->n};
    zip_error_t ze;
    zip_source_t *src;

    memset(pkg, 0, sizeof *pkg);
    pkg->arena = k.a = kt_arena_new();
    k.name = kt_arena_strdup(k.a, name ? name : "");
    zip_error_init(&ze);
    if ((src = zip_source_buffer_create(buf, len, 0, &ze)) &&
        !(k.zip = zip_open_from_source(src, ZIP_RDONLY, &ze)))
        zip_source_free(src);
    zip_error_fini(&ze);
    if (!k.zip)
        fail(&k, NULL, 0, "Tệp không phải gói nén .zip hợp lệ hoặc đã bị hỏng.");
    else if (vet_archive(&k))
        read_contents(&k);
    if (k.zip)
        zip_discard(k.zip);
    if (errs->n > k.errs_before) {
        kt_qti_package_free(pkg);
        return -1;
    }
    return 0;
}

void
kt_qti_package_free(kt_qti_package *pkg)
{
    for (size_t i = 0; i < pkg->nitems; i++)
        kt_qti_item_free(pkg->items[i]);
    for (size_t i = 0; i < pkg->ntests; i++)
        kt_qti_test_free(pkg->tests[i]);
    kt_arena_free(pkg->arena);
    memset(pkg, 0, sizeof *pkg);
}

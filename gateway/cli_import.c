/*
 * `kiemtra import [--school MA] [--subject MON] [--grade N] FILE|DIR...`:
 * QTI items and tests (.xml) and IMS content packages (.zip) into the
 * question bank (items, item_versions with the original XML, item_assets,
 * qti_tests). One transaction per file: a file with any error writes nothing.
 */
#include "cli.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <zip.h>

#include "config.h"
#include "package.h"
#include "qti.h"

struct opts {
    const char *subject, *grade;
    char school_id[24], province_id[24];
};

struct totals {
    size_t ok, failed, skipped, items, tests, assets, existing;
};

/* What one file added (or would have). */
struct counts {
    size_t items, tests, assets, existing;
};

/* A growable string, for the small JSON documents written here. */
struct buf {
    char *s;
    size_t n, cap;
    int oom;
};

static void
buf_add(struct buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void
buf_str(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

static void
buf_json(struct buf *b, const char *s)
{
    if (!s) {
        buf_str(b, "null");
        return;
    }
    buf_str(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            buf_add(b, esc, 2);
        } else if (*p < 0x20) {
            snprintf(esc, sizeof(esc), "\\u%04x", *p);
            buf_str(b, esc);
        } else {
            buf_add(b, (const char *)p, 1);
        }
    }
    buf_str(b, "\"");
}

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

static const char *
content_type(const char *path)
{
    static const char *const types[][2] = {
        {".png", "image/png"},        {".jpg", "image/jpeg"},     {".jpeg", "image/jpeg"},
        {".gif", "image/gif"},        {".svg", "image/svg+xml"},  {".webp", "image/webp"},
        {".bmp", "image/bmp"},        {".mp3", "audio/mpeg"},     {".ogg", "audio/ogg"},
        {".oga", "audio/ogg"},        {".wav", "audio/wav"},      {".m4a", "audio/mp4"},
        {".mp4", "video/mp4"},        {".webm", "video/webm"},    {".ogv", "video/ogg"},
        {".css", "text/css"},         {".js", "text/javascript"}, {".html", "text/html"},
        {".htm", "text/html"},        {".txt", "text/plain"},     {".xml", "application/xml"},
        {".pdf", "application/pdf"},  {".json", "application/json"},
        {".woff", "font/woff"},       {".woff2", "font/woff2"},   {".ttf", "font/ttf"},
        {".otf", "font/otf"},
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (has_ext(path, types[i][0]))
            return types[i][1];
    return "application/octet-stream";
}

static void
print_errors(const kt_qti_errors *errs)
{
    for (size_t i = 0; i < errs->n; i++) {
        const kt_qti_error *e = &errs->v[i];
        if (e->element)
            fprintf(stderr, "%s:%ld:%ld: %s: %s\n", e->file ? e->file : "?", e->line, e->column,
                    e->element, e->message);
        else
            fprintf(stderr, "%s:%ld:%ld: %s\n", e->file ? e->file : "?", e->line, e->column,
                    e->message);
    }
}

/* A statement with text parameters and optionally binary ones (lengths > 0
 * or formats set); NULL after printing the error. */
static PGresult *
query_bin(PGconn *c, const char *sql, int n, const char *const *params, const int *lens,
          const int *formats)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, params, lens, formats, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "Lỗi cơ sở dữ liệu: %s", PQerrorMessage(c));
        PQclear(r);
        return NULL;
    }
    return r;
}

/* Stores one item as items + item_versions v1; *item_id gets its id, or ""
 * when an item with this identifier is already in the school. 0 or -1. */
static int
store_item(PGconn *c, const struct opts *o, const kt_qti_item *it, const char *path,
           char item_id[24], struct counts *cnt)
{
    item_id[0] = '\0';
    const char *ep[] = {o->school_id, o->province_id, it->identifier};
    PGresult *r = kt_db_query(c,
                              "SELECT id FROM items WHERE school_id = $1 AND province_id = $2"
                              " AND identifier = $3",
                              3, ep);
    if (!r)
        return -1;
    if (PQntuples(r) > 0) {
        printf("  %s: câu hỏi %s đã có (mã %s), bỏ qua.\n", path, it->identifier,
               PQgetvalue(r, 0, 0));
        cnt->existing++;
        PQclear(r);
        return 0;
    }
    PQclear(r);

    struct buf content = {0}, scoring = {0};
    buf_str(&content, "{\"qti_version\": ");
    buf_json(&content, version_name(it->version));
    buf_str(&content, ", \"interactions\": [");
    for (size_t i = 0; i < it->ninteractions; i++) {
        buf_str(&content, i ? ", {\"type\": " : "{\"type\": ");
        buf_json(&content, it->interactions[i].type);
        buf_str(&content, ", \"response_identifier\": ");
        buf_json(&content, it->interactions[i].response_identifier);
        buf_str(&content, "}");
    }
    buf_str(&content, "]}");
    buf_str(&scoring, "{\"response_processing\": ");
    buf_json(&scoring, it->rp_kind == KT_QTI_RP_TEMPLATE
                           ? (it->rp_template ? it->rp_template : "custom")
                           : it->rp_kind == KT_QTI_RP_CUSTOM ? "custom" : "none");
    buf_str(&scoring, "}");
    if (content.oom || scoring.oom) {
        fprintf(stderr, "Hết bộ nhớ.\n");
        free(content.s);
        free(scoring.s);
        return -1;
    }

    const char *title = it->title && it->title[0] ? it->title : it->identifier;
    const char *ip[] = {o->province_id, o->school_id, it->identifier, o->subject, o->grade};
    r = kt_db_query(c,
                    "INSERT INTO items (province_id, school_id, identifier, subject, grade,"
                    " status, current_version) VALUES ($1, $2, $3, $4, $5, 'draft', 1)"
                    " RETURNING id",
                    5, ip);
    if (!r) {
        free(content.s);
        free(scoring.s);
        return -1;
    }
    snprintf(item_id, 24, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    const char *vp[] = {item_id, o->province_id, o->school_id, title,
                        content.s, scoring.s,       it->xml};
    r = kt_db_query(c,
                    "INSERT INTO item_versions (item_id, version, province_id, school_id, kind,"
                    " title, content, scoring, qti_xml)"
                    " VALUES ($1, 1, $2, $3, 'QTI', $4, $5::jsonb, $6::jsonb, $7)",
                    7, vp);
    free(content.s);
    free(scoring.s);
    if (!r)
        return -1;
    PQclear(r);
    cnt->items++;
    return 0;
}

static int
store_test(PGconn *c, const struct opts *o, const kt_qti_test *t, const char *path,
           struct counts *cnt)
{
    const char *ep[] = {o->school_id, o->province_id, t->identifier};
    PGresult *r = kt_db_query(c,
                              "SELECT id FROM qti_tests WHERE school_id = $1 AND province_id = $2"
                              " AND identifier = $3",
                              3, ep);
    if (!r)
        return -1;
    if (PQntuples(r) > 0) {
        printf("  %s: đề %s đã có (mã %s), bỏ qua.\n", path, t->identifier, PQgetvalue(r, 0, 0));
        cnt->existing++;
        PQclear(r);
        return 0;
    }
    PQclear(r);
    const char *title = t->title && t->title[0] ? t->title : t->identifier;
    const char *p[] = {o->school_id, o->province_id, t->identifier, title, t->xml};
    r = kt_db_query(c,
                    "INSERT INTO qti_tests (school_id, province_id, identifier, title, xml)"
                    " VALUES ($1, $2, $3, $4, $5)",
                    5, p);
    if (!r)
        return -1;
    PQclear(r);
    cnt->tests++;
    return 0;
}

/* Reads one archive entry (the package was vetted: sizes are bounded). */
static char *
zip_entry(zip_t *z, const char *name, size_t *len)
{
    zip_int64_t idx = zip_name_locate(z, name, 0);
    zip_stat_t st;
    if (idx < 0 || zip_stat_index(z, (zip_uint64_t)idx, 0, &st) < 0 || !(st.valid & ZIP_STAT_SIZE) ||
        st.size > KT_PKG_MAX_ENTRY)
        return NULL;
    zip_file_t *f = zip_fopen_index(z, (zip_uint64_t)idx, 0);
    if (!f)
        return NULL;
    char *data = malloc(st.size + 1);
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

static int
store_asset(PGconn *c, zip_t *z, const struct opts *o, const char *item_id, const char *file,
            const char *path, struct counts *cnt)
{
    size_t len = 0;
    char *data = zip_entry(z, file, &len);
    if (!data) {
        fprintf(stderr, "%s!%s: không đọc được tệp đính kèm trong gói.\n", path, file);
        return -1;
    }
    if (len > 0x7fffffff) {
        free(data);
        return -1;
    }
    const char *p[] = {item_id, o->school_id, o->province_id, file, content_type(file), data};
    const int lens[] = {0, 0, 0, 0, 0, (int)len};
    const int formats[] = {0, 0, 0, 0, 0, 1};
    PGresult *r = query_bin(c,
                            "INSERT INTO item_assets (item_id, version, school_id, province_id,"
                            " path, content_type, data) VALUES ($1, 1, $2, $3, $4, $5, $6)"
                            " ON CONFLICT (item_id, version, path) DO NOTHING RETURNING id",
                            6, p, lens, formats);
    free(data);
    if (!r)
        return -1;
    cnt->assets += (size_t)PQntuples(r);
    PQclear(r);
    return 0;
}

/* The files of resource res (but not the item document itself) and of the
 * resources it depends on, up to a few levels. */
static int
store_resource_files(PGconn *c, zip_t *z, const struct opts *o, const kt_qti_package *pkg,
                     const kt_qti_resource *res, const char *item_doc, const char *item_id,
                     const char *path, struct counts *cnt, int depth)
{
    if (depth > 8)
        return 0;
    for (size_t i = 0; i < res->nfiles; i++) {
        const char *f = res->files[i];
        if (strcmp(f, item_doc) != 0 && store_asset(c, z, o, item_id, f, path, cnt) < 0)
            return -1;
    }
    for (size_t i = 0; i < res->ndependencies; i++) {
        const kt_qti_resource *d = find_resource(pkg, res->dependencies[i]);
        if (d && d != res && (!d->type || strncmp(d->type, "imsqti_", 7) != 0) &&
            store_resource_files(c, z, o, pkg, d, item_doc, item_id, path, cnt, depth + 1) < 0)
            return -1;
    }
    return 0;
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
store_package(PGconn *c, const struct opts *o, const kt_qti_package *pkg, const void *buf,
              size_t len, const char *path, struct counts *cnt)
{
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(buf, len, 0, &ze);
    zip_t *z = src ? zip_open_from_source(src, ZIP_RDONLY, &ze) : NULL;
    if (src && !z)
        zip_source_free(src);
    zip_error_fini(&ze);
    if (!z) {
        fprintf(stderr, "%s: không mở lại được gói.\n", path);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < pkg->nitems; i++) {
        char item_id[24];
        const kt_qti_item *it = pkg->items[i];
        rc = store_item(c, o, it, path, item_id, cnt);
        const char *doc = NULL;
        const kt_qti_resource *res = rc == 0 && item_id[0] ? item_resource(pkg, it, &doc) : NULL;
        if (res)
            rc = store_resource_files(c, z, o, pkg, res, doc, item_id, path, cnt, 0);
    }
    for (size_t i = 0; rc == 0 && i < pkg->ntests; i++)
        rc = store_test(c, o, pkg->tests[i], path, cnt);
    zip_discard(z);
    return rc;
}

static int
needs_subject(const struct opts *o, const char *path)
{
    if (o->subject && o->grade)
        return 0;
    fprintf(stderr,
            "%s: có câu hỏi cần nhập: hãy chỉ rõ môn và khối lớp bằng --subject MON"
            " và --grade N.\n",
            path);
    return -1;
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

static void
import_file(PGconn *c, const struct opts *o, const char *path, struct totals *tot)
{
    int is_zip = has_ext(path, ".zip");
    size_t len = 0;
    char *buf = kt_read_file(path, is_zip ? KT_PKG_MAX_TOTAL : KT_QTI_MAX_DOC, &len);
    if (!buf) {
        printf("LỖI %s: 1 lỗi\n", path);
        tot->failed++;
        return;
    }
    kt_qti_errors errs;
    kt_qti_errors_init(&errs);
    kt_qti_doc doc = {0};
    kt_qti_package pkg = {0};
    struct counts cnt = {0};
    int prc, has_items;
    if (is_zip) {
        prc = kt_qti_package_read(buf, len, path, &pkg, &errs);
        has_items = prc == 0 && pkg.nitems > 0;
    } else {
        prc = kt_qti_parse(buf, len, path, &doc, &errs);
        has_items = prc == 0 && doc.item;
        const char *why = prc < 0 ? skip_reason(doc.kind) : NULL;
        if (why) {
            printf("BỎ QUA %s: %s\n", path, why);
            tot->skipped++;
            goto out;
        }
    }
    if (prc < 0) {
        print_errors(&errs);
        printf("LỖI %s: %zu lỗi\n", path, errs.n ? errs.n : 1);
        tot->failed++;
        goto out;
    }
    if (has_items && needs_subject(o, path) < 0) {
        printf("LỖI %s: 1 lỗi\n", path);
        tot->failed++;
        goto out;
    }
    if (kt_db_exec(c, "BEGIN") < 0)
        goto db_failed;
    int rc;
    if (is_zip)
        rc = store_package(c, o, &pkg, buf, len, path, &cnt);
    else if (doc.item)
        rc = store_item(c, o, doc.item, path, (char[24]){0}, &cnt);
    else
        rc = store_test(c, o, doc.test, path, &cnt);
    if (rc < 0) {
        kt_db_exec(c, "ROLLBACK");
        goto db_failed;
    }
    if (kt_db_exec(c, "COMMIT") < 0)
        goto db_failed;
    printf("OK   %s: %zu câu hỏi, %zu đề, %zu tệp đính kèm", path, cnt.items, cnt.tests,
           cnt.assets);
    if (cnt.existing)
        printf(" (%zu đã có, bỏ qua)", cnt.existing);
    printf("\n");
    tot->ok++;
    tot->items += cnt.items;
    tot->tests += cnt.tests;
    tot->assets += cnt.assets;
    tot->existing += cnt.existing;
    goto out;
db_failed:
    printf("LỖI %s: 1 lỗi (cơ sở dữ liệu), chưa ghi dữ liệu nào\n", path);
    tot->failed++;
out:
    if (is_zip)
        kt_qti_package_free(&pkg);
    else
        kt_qti_doc_free(&doc);
    kt_qti_errors_free(&errs);
    free(buf);
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static void
import_path(PGconn *c, const struct opts *o, const char *path, int named, int depth,
            struct totals *tot)
{
    struct stat st;
    if ((named ? stat(path, &st) : lstat(path, &st)) < 0) {
        printf("LỖI %s: không tìm thấy tệp hay thư mục\n", path);
        tot->failed++;
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        if (depth > 64)
            return;
        struct dirent **ents = NULL;
        int n = scandir(path, &ents, NULL, by_name);
        if (n < 0) {
            printf("LỖI %s: không đọc được thư mục\n", path);
            tot->failed++;
            return;
        }
        for (int i = 0; i < n; i++) {
            const char *name = ents[i]->d_name;
            if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
                size_t plen = strlen(path) + strlen(name) + 2;
                char *child = malloc(plen);
                if (child) {
                    snprintf(child, plen, "%s%s%s", path,
                             path[strlen(path) - 1] == '/' ? "" : "/", name);
                    import_path(c, o, child, 0, depth + 1, tot);
                    free(child);
                }
            }
            free(ents[i]);
        }
        free(ents);
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        if (named) {
            printf("BỎ QUA %s: không phải tệp thông thường\n", path);
            tot->skipped++;
        }
        return;
    }
    if (!has_ext(path, ".xml") && !has_ext(path, ".zip")) {
        if (named) {
            printf("BỎ QUA %s: chỉ nhập tệp .xml hoặc .zip\n", path);
            tot->skipped++;
        }
        return;
    }
    import_file(c, o, path, tot);
}

static int
usage(void)
{
    fprintf(stderr,
            "usage: kiemtra import [--school MA_TRUONG] [--subject MON] [--grade N] FILE|DIR...\n"
            "  QTI 2.x/3.0 items and tests (.xml) and IMS content packages (.zip);\n"
            "  directories are walked for .xml and .zip files. Each file is imported\n"
            "  all-or-nothing; items already in the school (same identifier) are skipped.\n"
            "  --subject and --grade are required when importing items.\n");
    return 2;
}

int
kt_cmd_import(int argc, char **argv)
{
    struct opts o = {0};
    const char *school = NULL;
    int first = 0;
    char **paths = calloc((size_t)argc + 1, sizeof(char *));
    if (!paths)
        return 1;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--school") == 0)
            school = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--subject") == 0)
            o.subject = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--grade") == 0)
            o.grade = argv[++i];
        else if (strncmp(argv[i], "--", 2) == 0) {
            free(paths);
            return usage();
        } else
            paths[first++] = argv[i];
    }
    if (first == 0) {
        free(paths);
        return usage();
    }
    if (o.grade) {
        char *end;
        long g = strtol(o.grade, &end, 10);
        if (*end || end == o.grade || g < 1 || g > 12) {
            fprintf(stderr, "Khối lớp '%s' không hợp lệ: phải là số từ 1 đến 12.\n", o.grade);
            free(paths);
            return 2;
        }
    }
    if (o.subject && !o.subject[0]) {
        fprintf(stderr, "Mã môn học không được để trống.\n");
        free(paths);
        return 2;
    }

    int rc = 1;
    PGconn *c = kt_db_connect(kt_cfg.admin_database_url);
    if (!c)
        goto out;
    const char *sp[] = {school};
    PGresult *r = kt_db_query(c,
                              school ? "SELECT id, province_id FROM schools WHERE code = $1"
                                     : "SELECT id, province_id FROM schools",
                              school ? 1 : 0, school ? sp : NULL);
    if (!r)
        goto out;
    if (PQntuples(r) != 1) {
        if (school)
            fprintf(stderr, "Không có trường nào có mã '%s'.\n", school);
        else
            fprintf(stderr, "Có %d trường trong hệ thống: hãy chỉ rõ --school MA_TRUONG.\n",
                    PQntuples(r));
        PQclear(r);
        goto out;
    }
    snprintf(o.school_id, sizeof(o.school_id), "%s", PQgetvalue(r, 0, 0));
    snprintf(o.province_id, sizeof(o.province_id), "%s", PQgetvalue(r, 0, 1));
    PQclear(r);

    struct totals tot = {0};
    for (int i = 0; i < first; i++)
        import_path(c, &o, paths[i], 1, 0, &tot);
    printf("Tổng cộng: %zu tệp nhập được, %zu tệp lỗi, %zu tệp bỏ qua; %zu câu hỏi, %zu đề,"
           " %zu tệp đính kèm mới; %zu đã có.\n",
           tot.ok, tot.failed, tot.skipped, tot.items, tot.tests, tot.assets, tot.existing);
    rc = tot.failed ? 1 : 0;
out:
    if (c)
        PQfinish(c);
    free(paths);
    return rc;
}

/*
 * `kiemtra import [--school MA] [--subject MON] [--grade N] [--partial] FILE|DIR...`:
 * QTI items and tests (.xml) and IMS content packages (.zip) into the
 * question bank through kt_import_qti() (migrations/0006): items with their
 * original XML, package files, tests; Word documents (.docx) through
 * kt_import_docx() (migrations/0030, gateway/item_docx.c), and question
 * sheets (.xlsx, .csv, itembank/qsheet.h) the same way. One transaction
 * per file: a file with any error writes nothing (for .docx, .xlsx and
 * .csv, --partial stores the questions without errors). The exit status is 1 when a file
 * failed, was refused or was skipped.
 */
#include "cli.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>

#include "config.h"
#include "import.h"
#include "item.h"
#include "item_docx.h"
#include "package.h"

struct opts {
    const char *subject, *grade;
    int partial;
    char school_id[24], province_id[24];
};

struct totals {
    size_t ok, failed, skipped, items, updated, tests, assets, existing;
};

static int
has_ext(const char *path, const char *ext)
{
    size_t n = strlen(path), e = strlen(ext);
    return n > e && strcasecmp(path + n - e, ext) == 0;
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

/* Stores a plan through kt_import_qti() in one transaction; the function's
 * JSON answer, or NULL after printing why. */
static json_t *
store_plan(PGconn *c, const struct opts *o, json_t *plan)
{
    json_object_set_new(plan, "school_id", json_string(o->school_id));
    json_object_set_new(plan, "province_id", json_string(o->province_id));
    json_object_set_new(plan, "subject", o->subject ? json_string(o->subject) : json_null());
    json_object_set_new(plan, "grade", o->grade ? json_string(o->grade) : json_null());
    char *doc = json_dumps(plan, JSON_COMPACT);
    if (!doc)
        return NULL;
    const char *p[] = {doc};
    PGresult *r = kt_db_query(c, "SELECT kt_import_qti($1::jsonb)::text", 1, p);
    free(doc);
    if (!r)
        return NULL;
    json_t *res = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
    PQclear(r);
    return res;
}

static void
report(const char *path, const json_t *res, struct totals *tot)
{
    size_t items = json_array_size(json_object_get(res, "imported"));
    size_t updated = json_array_size(json_object_get(res, "updated"));
    size_t tests = json_array_size(json_object_get(res, "tests"));
    size_t assets = (size_t)json_integer_value(json_object_get(res, "assets"));
    const json_t *old = json_object_get(res, "existing"), *v;
    size_t i, existing =
                  json_array_size(old) + json_array_size(json_object_get(res, "tests_existing"));
    json_array_foreach(json_object_get(res, "imported"), i, v)
    {
        printf("  %s: câu hỏi mới %s (mã %lld), trạng thái nháp.\n", path,
               json_string_value(json_object_get(v, "identifier")),
               (long long)json_integer_value(json_object_get(v, "id")));
    }
    json_array_foreach(json_object_get(res, "updated"), i, v)
    {
        const json_t *approved = json_object_get(v, "approved_version");
        printf("  %s: phiên bản mới %lld của câu hỏi %s (mã %lld), trạng thái nháp", path,
               (long long)json_integer_value(json_object_get(v, "version")),
               json_string_value(json_object_get(v, "identifier")),
               (long long)json_integer_value(json_object_get(v, "id")));
        if (json_is_integer(approved))
            printf("; phiên bản %lld đã duyệt vẫn được dùng đến khi phiên bản mới được duyệt",
                   (long long)json_integer_value(approved));
        printf(".\n");
    }
    json_array_foreach(old, i, v)
    {
        printf("  %s: câu hỏi %s đã có (mã %lld), bỏ qua.\n", path,
               json_string_value(json_object_get(v, "identifier")),
               (long long)json_integer_value(json_object_get(v, "id")));
    }
    printf("OK   %s: %zu câu hỏi, %zu đề, %zu tệp đính kèm", path, items, tests, assets);
    if (updated)
        printf(", %zu câu hỏi có phiên bản mới", updated);
    if (existing)
        printf(" (%zu đã có, bỏ qua)", existing);
    printf("\n");
    tot->ok++;
    tot->items += items;
    tot->updated += updated;
    tot->tests += tests;
    tot->assets += assets;
    tot->existing += existing;
}

static void
import_file(PGconn *c, const struct opts *o, const char *path, struct totals *tot)
{
    size_t len = 0;
    char *buf =
        kt_read_file(path, has_ext(path, ".zip") ? KT_PKG_MAX_TOTAL : KT_QTI_MAX_DOC, &len);
    if (!buf) {
        printf("LỖI %s: 1 lỗi\n", path);
        tot->failed++;
        return;
    }
    kt_qti_errors errs;
    kt_qti_errors_init(&errs);
    kt_import imp;
    json_t *res = NULL;
    if (kt_import_read(buf, len, path, &imp, &errs) < 0) {
        print_errors(&errs);
        printf("LỖI %s: %zu lỗi\n", path, errs.n ? errs.n : 1);
        tot->failed++;
    } else if (imp.status == KT_IMPORT_SKIPPED) {
        printf("BỎ QUA %s: %s\n", path, imp.skip_reason);
        tot->skipped++;
    } else if (imp.nitems && needs_subject(o, path) < 0) {
        printf("LỖI %s: 1 lỗi\n", path);
        tot->failed++;
    } else if (!(res = store_plan(c, o, imp.plan))) {
        printf("LỖI %s: 1 lỗi (cơ sở dữ liệu), chưa ghi dữ liệu nào\n", path);
        tot->failed++;
    } else {
        report(path, res, tot);
    }
    json_decref(res);
    kt_import_free(&imp);
    kt_qti_errors_free(&errs);
    free(buf);
}

/* A Word document (sheet < 0) or a question sheet (a kt_qsheet_format). */
static void
import_docx(PGconn *c, const struct opts *o, const char *path, int sheet, struct totals *tot)
{
    if (needs_subject(o, path) < 0) {
        printf("LỖI %s: 1 lỗi\n", path);
        tot->failed++;
        return;
    }
    if (!kt_item_code_valid(o->subject)) {
        fprintf(stderr, "%s: mã môn học '%s' không hợp lệ (viết in hoa, ví dụ TOAN).\n", path,
                o->subject);
        printf("LỖI %s: 1 lỗi\n", path);
        tot->failed++;
        return;
    }
    size_t len = 0;
    char *buf = kt_read_file(path, KT_PKG_MAX_TOTAL, &len);
    if (!buf) {
        printf("LỖI %s: 1 lỗi\n", path);
        tot->failed++;
        return;
    }
    kt_docx_import d;
    if (sheet >= 0)
        kt_qsheet_import_read(buf, len, (kt_qsheet_format)sheet, o->subject, atoi(o->grade), &d);
    else
        kt_docx_import_read(buf, len, o->subject, atoi(o->grade), &d);
    free(buf);
    size_t i, nerr = 0;
    json_t *p;
    json_array_foreach(d.problems, i, p)
    {
        int error = strcmp(json_string_value(json_object_get(p, "severity")), "error") == 0;
        nerr += error;
        fprintf(stderr, "%s: %s%s\n", path, error ? "" : "cảnh báo: ",
                json_string_value(json_object_get(p, "message")));
    }
    json_t *items = json_object_get(d.plan, "items"), *res = NULL;
    if (d.refused || (d.nbad && !o->partial) || !json_array_size(items)) {
        printf("LỖI %s: %zu lỗi%s, chưa ghi dữ liệu nào\n", path, nerr ? nerr : 1,
               d.nbad && !d.refused && json_array_size(items)
                   ? " (--partial để chỉ nhập các câu hợp lệ)"
                   : "");
        tot->failed++;
        kt_docx_import_free(&d);
        return;
    }
    json_t *plan = d.plan;
    json_object_set_new(plan, "school_id", json_string(o->school_id));
    json_object_set_new(plan, "province_id", json_string(o->province_id));
    json_object_set_new(plan, "subject", json_string(o->subject));
    json_object_set_new(plan, "grade", json_string(o->grade));
    char *doc = json_dumps(plan, JSON_COMPACT);
    PGresult *r = NULL;
    if (doc) {
        const char *params[] = {doc};
        r = kt_db_query(c, "SELECT kt_import_docx($1::jsonb)::text", 1, params);
        free(doc);
    }
    if (r) {
        res = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
        PQclear(r);
    }
    if (!res) {
        printf("LỖI %s: 1 lỗi (cơ sở dữ liệu), chưa ghi dữ liệu nào\n", path);
        tot->failed++;
        kt_docx_import_free(&d);
        return;
    }
    json_t *v;
    json_array_foreach(json_object_get(res, "imported"), i, v)
        printf("  %s: câu hỏi mới %s (mã %lld), trạng thái nháp.\n", path,
               json_string_value(json_object_get(v, "identifier")),
               (long long)json_integer_value(json_object_get(v, "id")));
    json_array_foreach(json_object_get(res, "existing"), i, v)
        printf("  %s: câu hỏi %s đã có (mã %lld), bỏ qua.\n", path,
               json_string_value(json_object_get(v, "identifier")),
               (long long)json_integer_value(json_object_get(v, "id")));
    size_t n = json_array_size(json_object_get(res, "imported"));
    size_t old = json_array_size(json_object_get(res, "existing"));
    size_t assets = (size_t)json_integer_value(json_object_get(res, "assets"));
    printf("OK   %s: %zu câu hỏi, 0 đề, %zu tệp đính kèm", path, n, assets);
    if (old)
        printf(" (%zu đã có, bỏ qua)", old);
    if (d.nbad)
        printf("; %zu câu có lỗi không được nhập", d.nbad);
    printf("\n");
    tot->ok++;
    tot->items += n;
    tot->assets += assets;
    tot->existing += old;
    json_decref(res);
    kt_docx_import_free(&d);
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
    if (has_ext(path, ".docx") || has_ext(path, ".docm")) {
        import_docx(c, o, path, -1, tot); /* a .docm is refused by the reader, with its reason */
        return;
    }
    if (has_ext(path, ".xlsx") || has_ext(path, ".csv")) {
        import_docx(c, o, path, has_ext(path, ".xlsx") ? KT_QSHEET_XLSX : KT_QSHEET_CSV, tot);
        return;
    }
    if (!has_ext(path, ".xml") && !has_ext(path, ".zip")) {
        if (named) {
            printf("BỎ QUA %s: chỉ nhập tệp .xml, .zip, .docx, .xlsx hoặc .csv\n", path);
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
            "usage: kiemtra import [--school MA_TRUONG] [--subject MON] [--grade N] [--partial]"
            " FILE|DIR...\n"
            "  QTI 2.x/3.0 items and tests (.xml), IMS content packages (.zip), Word\n"
            "  documents (.docx) and question sheets (.xlsx, .csv; docs/IMPORT-WORD.md);\n"
            "  directories are walked for all of them. Each file is imported\n"
            "  all-or-nothing (--partial: the questions without errors of a .docx, .xlsx\n"
            "  or .csv). An item is known by its package (manifest identifier), file\n"
            "  name or .docx/.xlsx/.csv content and its identifier: a\n"
            "  document already stored is skipped, a changed QTI one becomes a new draft\n"
            "  version (an approved version stays in use). --subject and --grade are\n"
            "  required when importing items. Exit status 1 when a file failed, was\n"
            "  refused or was skipped.\n");
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
        else if (strcmp(argv[i], "--partial") == 0)
            o.partial = 1;
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
    PGresult *r = kt_db_school(c, school);
    if (!r)
        goto out;
    snprintf(o.school_id, sizeof(o.school_id), "%s", PQgetvalue(r, 0, 0));
    snprintf(o.province_id, sizeof(o.province_id), "%s", PQgetvalue(r, 0, 1));
    PQclear(r);

    struct totals tot = {0};
    for (int i = 0; i < first; i++)
        import_path(c, &o, paths[i], 1, 0, &tot);
    printf("Tổng cộng: %zu tệp nhập được, %zu tệp lỗi, %zu tệp bỏ qua; %zu câu hỏi, %zu đề,"
           " %zu tệp đính kèm mới; %zu câu hỏi có phiên bản mới; %zu đã có.\n",
           tot.ok, tot.failed, tot.skipped, tot.items, tot.tests, tot.assets, tot.updated,
           tot.existing);
    rc = tot.failed || tot.skipped ? 1 : 0;
out:
    if (c)
        PQfinish(c);
    free(paths);
    return rc;
}

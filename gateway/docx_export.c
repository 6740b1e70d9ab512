/*
 * GET /api/v1/tests/{id}/forms/{code}.docx: one form of a published test as
 * the Word document a school prints (itembank/docx_write.c). One pipeline
 * reads the test's status, the school's and subject's names, the form
 * preview (the statement of tests_api.c, shared) and the pictures of the
 * form's items; the document is built on the CPU pool.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api.h"
#include "cpupool.h"
#include "docx_write.h"
#include "server.h"

static const struct pg_stmt_def docx_stmts[] = {
    /* -> (status, school name, subject name) */
    {"docx_form_meta",
     "SELECT t.status, s.name, (SELECT n.name FROM taxonomy_nodes n"
     "  WHERE n.code = 'VN18.' || t.subject)"
     " FROM tests t JOIN schools s ON s.id = t.school_id WHERE t.id = $1::bigint"},
    /* The files of the form's items at the versions delivered. */
    {"docx_form_assets",
     "SELECT DISTINCT ON (a.path) a.path, a.content_type, a.data FROM test_forms f"
     " CROSS JOIN LATERAL jsonb_array_elements(f.payload->'items') e(it)"
     " JOIN test_items ti ON ti.test_id = f.test_id AND ti.item_ref = e.it->>'ref'"
     " JOIN item_assets a ON a.item_id = ti.item_id AND a.version = ti.version"
     " WHERE f.test_id = $1::bigint AND f.code = $2::text"
     "  AND a.content_type IN ('image/png', 'image/jpeg', 'image/gif', 'image/webp')"
     " ORDER BY a.path"},
};

void
kt_docx_export_register(void)
{
    pg_register_statements(docx_stmts, (int)(sizeof(docx_stmts) / sizeof(docx_stmts[0])));
}

struct docx_job {
    http_request *req;
    char code[4];
    char *form;             /* the preview's JSON text */
    char *school, *subject; /* names, NULL when unknown */
    char **paths, **types, **hex;
    size_t nassets;
    void *out;
    size_t out_len;
};

static void
docx_job_free(void *p)
{
    struct docx_job *j = p;
    free(j->form);
    free(j->school);
    free(j->subject);
    for (size_t i = 0; i < j->nassets; i++) {
        free(j->paths[i]);
        free(j->types[i]);
        free(j->hex[i]);
    }
    free(j->paths);
    free(j->types);
    free(j->hex);
    free(j->out);
    free(j);
}

static char *
dup_or_null(const char *s)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        abort();
    return d;
}

static void
docx_work(void *arg)
{
    struct docx_job *j = arg;
    json_t *form = json_loads(j->form, 0, NULL);
    kt_docx_asset *assets = calloc(j->nassets + 1, sizeof(*assets));
    unsigned char **bins = calloc(j->nassets + 1, sizeof(*bins));
    if (!assets || !bins)
        abort();
    size_t n = 0;
    for (size_t i = 0; i < j->nassets; i++) {
        const char *hex = j->hex[i];
        size_t hlen = strlen(hex), len = 0, cap = hlen / 2 + 1;
        if (hlen < 2 || hex[0] != '\\' || hex[1] != 'x')
            continue;
        unsigned char *bin = malloc(cap);
        if (!bin)
            abort();
        if (sodium_hex2bin(bin, cap, hex + 2, hlen - 2, NULL, &len, NULL) != 0) {
            free(bin);
            continue;
        }
        bins[n] = bin;
        assets[n++] = (kt_docx_asset){j->paths[i], j->types[i], bin, len};
    }
    kt_docx_header h = {j->school, j->subject};
    if (form)
        j->out = kt_docx_write_form(form, &h, assets, n, &j->out_len);
    for (size_t i = 0; i < n; i++)
        free(bins[i]);
    free(bins);
    free(assets);
    json_decref(form);
}

static void
docx_done(void *arg)
{
    struct docx_job *j = arg;
    if (!j->out) {
        api_error(j->req, 500, "docx_failed", "Không tạo được tệp Word của mã đề này.");
        return;
    }
    char headers[256];
    snprintf(headers, sizeof(headers),
             "Content-Disposition: attachment; filename=\"de-%s.docx\";"
             " filename*=UTF-8''%%C4%%90%%E1%%BB%%81-%s.docx\r\n",
             j->code, j->code);
    http_reply_full(j->req, 200,
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    headers, j->out, j->out_len);
}

static void
docx_loaded(http_request *req, pg_query *q)
{
    struct docx_job *j = req->ctx;
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    if (pg_ntuples(q, 0) != 1) {
        api_error(req, 404, "not_found", "Không tìm thấy đề kiểm tra.");
        return;
    }
    if (strcmp(pg_value(q, 0, 0, 0), "published") != 0) {
        api_error(req, 404, "not_found",
                  "Đề kiểm tra chưa phát hành: chỉ tải được Word của đề đã phát hành.");
        return;
    }
    const char *form = pg_ntuples(q, 1) == 1 ? pg_value(q, 1, 0, 0) : NULL;
    if (!form) {
        api_error(req, 404, "not_found", "Không tìm thấy mã đề này của đề kiểm tra.");
        return;
    }
    j->school = dup_or_null(pg_value(q, 0, 0, 1));
    j->subject = dup_or_null(pg_value(q, 0, 0, 2));
    j->form = dup_or_null(form);
    int na = pg_ntuples(q, 2);
    j->paths = calloc((size_t)na + 1, sizeof(char *));
    j->types = calloc((size_t)na + 1, sizeof(char *));
    j->hex = calloc((size_t)na + 1, sizeof(char *));
    if (!j->paths || !j->types || !j->hex)
        abort();
    for (int r = 0; r < na; r++) {
        j->paths[r] = dup_or_null(pg_value(q, 2, r, 0));
        j->types[r] = dup_or_null(pg_value(q, 2, r, 1));
        j->hex[r] = dup_or_null(pg_value(q, 2, r, 2));
        j->nassets++;
    }
    kt_cpu_submit(req->worker->base, docx_work, docx_done, j);
}

void
h_test_form_docx(http_request *req)
{
    int64_t id = api_param_id(req, 0);
    const char *code = req->params[1];
    if (id <= 0 || !code || strlen(code) != 3 || code[strspn(code, "0123456789")]) {
        api_error(req, 404, "not_found", "Không tìm thấy mã đề này của đề kiểm tra.");
        return;
    }
    struct docx_job *j = calloc(1, sizeof(*j));
    if (!j)
        abort();
    j->req = req;
    memcpy(j->code, code, 4);
    req->ctx = j;
    req->ctx_free = docx_job_free;
    char t[24];
    api_id_text(t, id);
    const char *p1[] = {t}, *p2[] = {t, code};
    pg_query *q = api_query(req);
    pg_query_add(q, "docx_form_meta", 1, p1);
    pg_query_add(q, "test_form_preview", 2, p2);
    pg_query_add(q, "docx_form_assets", 2, p2);
    api_run(req, q, docx_loaded);
}

/*
 * QTI over HTTP: POST /api/v1/items/import (an item, test or content package
 * as the request body) and GET /api/v1/items/{id}/assets/{path} (a package
 * file stored with an item). Parsing runs on the CPU pool, never on the event
 * loop; the plan is stored by kt_import_qti() in one transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api.h"
#include "cpupool.h"
#include "import.h"
#include "item.h"
#include "server.h"

static const struct pg_stmt_def import_stmts[] = {
    {"item_import", "SELECT kt_import_qti($1::jsonb)::text"},
    {"item_asset",
     "SELECT a.content_type, a.data FROM items i"
     " JOIN item_assets a ON a.item_id = i.id"
     "  AND a.version = coalesce($3::integer, i.current_version)"
     " WHERE i.id = $1::bigint AND a.path = $2::text"},
};

void
kt_item_import_register(void)
{
    pg_register_statements(import_stmts, (int)(sizeof(import_stmts) / sizeof(import_stmts[0])));
}

/* One import in flight: what the CPU pool reads and writes. */
struct import_job {
    http_request *req;
    char name[128];      /* labels errors: ?filename= or a default */
    char *subject, *grade; /* query parameters, NULL when absent */
    kt_import imp;
    kt_qti_errors errs;
    int rc;
};

static void
import_job_free(void *p)
{
    struct import_job *j = p;
    kt_import_free(&j->imp);
    kt_qti_errors_free(&j->errs);
    free(j->subject);
    free(j->grade);
    free(j);
}

static void
import_work(void *arg)
{
    struct import_job *j = arg;
    j->rc = kt_import_read(j->req->body, j->req->body_len, j->name, &j->imp, &j->errs);
}

static json_t *
errors_json(const kt_qti_errors *errs)
{
    json_t *a = json_array();
    for (size_t i = 0; i < errs->n; i++) {
        const kt_qti_error *e = &errs->v[i];
        json_array_append_new(a, json_pack("{s:s?,s:I,s:I,s:s?,s:s}", "file", e->file, "line",
                                           (json_int_t)e->line, "column", (json_int_t)e->column,
                                           "element", e->element, "message", e->message));
    }
    return a;
}

static void
import_stored(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    json_t *res = json_loads(pg_value(q, 0, 0, 0), 0, NULL);
    if (!res) {
        api_error(req, 500, "internal", "Lỗi nội bộ khi đọc kết quả nhập.");
        return;
    }
    json_object_set_new(res, "errors", json_array());
    api_json(req, json_array_size(json_object_get(res, "imported")) ||
                          json_array_size(json_object_get(res, "updated")) ||
                          json_array_size(json_object_get(res, "tests"))
                      ? 201
                      : 200,
             res);
}

static void
import_done(void *arg)
{
    struct import_job *j = arg;
    http_request *req = j->req;
    if (j->rc < 0 || j->imp.status != KT_IMPORT_OK) {
        json_t *errs = errors_json(&j->errs);
        if (j->imp.status == KT_IMPORT_SKIPPED)
            json_array_append_new(errs, json_pack("{s:s,s:i,s:i,s:n,s:s}", "file", j->name,
                                                  "line", 0, "column", 0, "element", "message",
                                                  j->imp.skip_reason));
        api_json(req, 422,
                 json_pack("{s:[],s:o,s:{s:s,s:s,s:O}}", "imported", "errors", errs, "error",
                           "code", "import_failed", "message",
                           "Tệp không nhập được; chưa có gì được ghi. Xem danh sách lỗi.",
                           "details", errs));
        return;
    }
    if (j->imp.nitems && (!j->subject || !j->grade)) {
        api_error(req, 400, "invalid_parameter",
                  "Tệp có câu hỏi: hãy chỉ rõ môn học (subject) và khối lớp (grade).");
        return;
    }
    json_t *plan = j->imp.plan;
    json_object_set_new(plan, "school_id", json_integer(req->user->school_id));
    json_object_set_new(plan, "province_id", json_integer(req->user->province_id));
    json_object_set_new(plan, "actor_id", json_integer(req->user->id));
    json_object_set_new(plan, "subject", j->subject ? json_string(j->subject) : json_null());
    json_object_set_new(plan, "grade", j->grade ? json_string(j->grade) : json_null());
    char *doc = json_dumps(plan, JSON_COMPACT);
    kt_import_free(&j->imp); /* the text is all the database needs */
    if (!doc) {
        api_error(req, 500, "internal", "Hết bộ nhớ khi chuẩn bị nhập.");
        return;
    }
    pg_query *q = api_query(req);
    const char *p[] = {doc};
    pg_query_add(q, "item_import", 1, p);
    free(doc);
    api_run(req, q, import_stored);
}

void
h_items_import(http_request *req)
{
    if (!req->user->school_id) {
        api_error(req, 403, "forbidden", "Chỉ tài khoản của một trường mới nhập được câu hỏi.");
        return;
    }
    if (!req->body || req->body_len == 0) {
        api_error(req, 400, "empty_body",
                  "Hãy gửi nội dung tệp QTI (.xml) hoặc gói nội dung (.zip) trong thân yêu cầu.");
        return;
    }
    struct import_job *j = calloc(1, sizeof(*j));
    if (!j)
        abort();
    j->req = req;
    kt_qti_errors_init(&j->errs);
    j->subject = http_query_param(req, "subject");
    j->grade = http_query_param(req, "grade");
    req->ctx = j;
    req->ctx_free = import_job_free;
    if (j->subject && !kt_item_code_valid(j->subject)) {
        api_error(req, 400, "invalid_parameter", "Mã môn học (subject) không hợp lệ.");
        return;
    }
    if (j->grade) {
        char *end;
        long g = strtol(j->grade, &end, 10);
        if (*end || end == j->grade || g < 1 || g > 12) {
            api_error(req, 400, "invalid_parameter", "Khối lớp (grade) phải là số từ 1 đến 12.");
            return;
        }
    }
    char *fname = http_query_param(req, "filename");
    int zip = req->body_len >= 4 && memcmp(req->body, "PK\003\004", 4) == 0;
    snprintf(j->name, sizeof(j->name), "%s",
             fname && *fname ? fname : zip ? "tep-tai-len.zip" : "tep-tai-len.xml");
    free(fname);
    kt_cpu_submit(req->worker->base, import_work, import_done, j);
}

/* ------------------------------------------------------------------------ */
/* Assets                                                                   */

static void
asset_loaded(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    if (pg_ntuples(q, 0) != 1) {
        api_error(req, 404, "not_found", "Không tìm thấy tệp đính kèm của câu hỏi.");
        return;
    }
    const char *type = pg_value(q, 0, 0, 0), *hex = pg_value(q, 0, 0, 1);
    size_t hlen = strlen(hex);
    if (hlen < 2 || hex[0] != '\\' || hex[1] != 'x') {
        api_error(req, 500, "internal", "Tệp đính kèm lưu sai định dạng.");
        return;
    }
    size_t cap = (hlen - 2) / 2 + 1, len = 0;
    unsigned char *bin = malloc(cap);
    if (!bin || sodium_hex2bin(bin, cap, hex + 2, hlen - 2, NULL, &len, NULL) != 0) {
        free(bin);
        api_error(req, 500, "internal", "Tệp đính kèm lưu sai định dạng.");
        return;
    }
    /* A package file is content, never code that runs on this origin. */
    http_reply_full(req, 200, type,
                    "Content-Security-Policy: default-src 'none'; img-src 'self';"
                    " style-src 'unsafe-inline'; sandbox\r\n",
                    (const char *)bin, len);
    free(bin);
}

void
h_item_asset(http_request *req)
{
    int64_t id = api_param_id(req, 0);
    const char *path = req->params[1];
    char *version = http_query_param(req, "version");
    if (id <= 0 || !path || !*path || strlen(path) > 1000 ||
        (version && (!*version || strspn(version, "0123456789") != strlen(version) ||
                     strlen(version) > 9))) {
        free(version);
        api_error(req, 404, "not_found", "Không tìm thấy tệp đính kèm của câu hỏi.");
        return;
    }
    char ids[24];
    snprintf(ids, sizeof(ids), "%lld", (long long)id);
    pg_query *q = api_query(req);
    const char *p[] = {ids, path, version};
    pg_query_add(q, "item_asset", 3, p);
    free(version);
    api_run(req, q, asset_loaded);
}

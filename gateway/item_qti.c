/*
 * QTI over HTTP: POST /api/v1/items/import (an item, test or content package
 * as the request body), GET /api/v1/items/{id}/assets/{path} (a package file
 * stored with an item; for a student, GET /api/v1/attempts/{id}/assets/{item_ref}/{path}
 * of the items of their own attempt's test), GET /api/v1/items/{id}/qti (the item as QTI 2.2 or
 * 3.0) and POST /api/v1/items/{id}/score (the teacher's "try this item").
 * Parsing, conversion and scoring run on the CPU pool, never on the event
 * loop; an import plan is stored by kt_import_qti() in one transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api.h"
#include "cpupool.h"
#include "import.h"
#include "item.h"
#include "item_docx.h"
#include "qti_export.h"
#include "score.h"
#include "server.h"

/* The version of an item that export and scoring work from. */
#define ITEM_SOURCE                                                                                \
    "SELECT v.kind, v.qti_xml, i.identifier, v.title, v.content::text, v.scoring::text,"         \
    " i.subject, i.grade, v.version, (SELECT trim_scale(m.max_score)::text"                        \
    "  FROM item_max_scores m WHERE m.item_id = i.id AND m.version = v.version)"                  \
    " FROM items i JOIN item_versions v ON v.item_id = i.id"                                       \
    " AND v.version = coalesce($2::integer, i.current_version) WHERE i.id = $1::bigint"

static const struct pg_stmt_def import_stmts[] = {
    /* A teacher imports items only of a subject they teach (KT403, 0021). */
    {"item_import",
     "SELECT kt_import_qti($1::jsonb)::text FROM kt_require_subject($1::jsonb->>'subject')"},
    /* What kt_import_qti would do with the plan $1 (items and tests without
     * their files), for the school $2 of the province $3; writes nothing. */
    {"item_import_dry",
     "SELECT json_build_object('dry_run', true, 'origin', coalesce($1::jsonb->>'origin', ''),"
     " 'items', coalesce((SELECT json_agg(json_build_object('identifier', e.it->>'identifier',"
     "   'title', e.it->>'title', 'kind', 'QTI', 'assets', (e.it->>'assets')::integer,"
     "   'action', CASE WHEN x.id IS NULL THEN 'new' WHEN x.same THEN 'unchanged'"
     "                  ELSE 'new_version' END,"
     "   'item_id', x.id, 'status', x.status, 'current_version', x.current_version,"
     "   'error', CASE WHEN x.status = 'retired' AND NOT x.same THEN"
     "     'Câu hỏi đã ngừng sử dụng nên không nhập được phiên bản mới.' END) ORDER BY e.n)"
     "  FROM jsonb_array_elements($1::jsonb->'items') WITH ORDINALITY AS e(it, n)"
     "  LEFT JOIN LATERAL (SELECT i.id, i.status, i.current_version,"
     "    EXISTS (SELECT 1 FROM item_versions v WHERE v.item_id = i.id"
     "            AND v.qti_xml = e.it->>'xml') AS same"
     "   FROM items i WHERE i.province_id = $3::bigint AND i.school_id = $2::bigint"
     "    AND i.origin = coalesce($1::jsonb->>'origin', '') AND i.identifier = e.it->>'identifier'"
     "   ) x ON true), '[]'),"
     " 'tests', coalesce((SELECT json_agg(json_build_object('identifier', e.t->>'identifier',"
     "   'title', e.t->>'title', 'action', CASE WHEN x.id IS NULL THEN 'new' ELSE 'unchanged' END,"
     "   'test_id', x.id) ORDER BY e.n)"
     "  FROM jsonb_array_elements($1::jsonb->'tests') WITH ORDINALITY AS e(t, n)"
     "  LEFT JOIN LATERAL (SELECT q.id FROM qti_tests q WHERE q.province_id = $3::bigint"
     "    AND q.school_id = $2::bigint AND q.origin = coalesce($1::jsonb->>'origin', '')"
     "    AND q.identifier = e.t->>'identifier' LIMIT 1) x ON true), '[]'),"
     " 'errors', '[]'::json)::text"},
    {"item_asset",
     "SELECT a.content_type, a.data FROM items i"
     " JOIN item_assets a ON a.item_id = i.id"
     "  AND a.version = coalesce($3::integer, i.current_version)"
     " WHERE i.id = $1::bigint AND a.path = $2::text"},
    {"item_source", ITEM_SOURCE},
    /* A file of an item of the attempt's test, for the student who owns it;
     * in a linear test only of an item of the form already reached. */
    {"attempt_asset",
     "SELECT a.content_type, a.data FROM attempts t"
     " JOIN sessions se ON se.id = t.session_id"
     " JOIN test_items ti ON ti.test_id = se.test_id AND ti.item_ref = $3"
     " JOIN item_assets a ON a.item_id = ti.item_id AND a.version = ti.version"
     " WHERE t.id = $1::bigint AND t.student_id = $2::bigint AND a.path = $4::text"
     " AND (NOT t.linear OR (SELECT e.ord FROM test_forms f,"
     "   jsonb_array_elements(f.payload->'items') WITH ORDINALITY AS e(it, ord)"
     "   WHERE f.id = t.form_id AND e.it->>'ref' = $3) <= kt_linear_reach(t.id))"},
};

void
kt_item_import_register(void)
{
    pg_register_statements(import_stmts, (int)(sizeof(import_stmts) / sizeof(import_stmts[0])));
    kt_docx_import_register();
}

/* One import in flight: what the CPU pool reads and writes. */
struct import_job {
    http_request *req;
    char name[128];      /* labels errors: ?filename= or a default */
    int named;           /* ?filename= was given: a single file's origin */
    int dry_run;         /* ?dry_run=1: report what would be stored, store nothing */
    char *dry_doc;       /* dry run: the plan without files, as JSON text */
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
    free(j->dry_doc);
    free(j);
}

static void
import_work(void *arg)
{
    struct import_job *j = arg;
    j->rc = kt_import_read(j->req->body, j->req->body_len, j->named ? j->name : NULL, &j->imp,
                           &j->errs);
    if (j->dry_run && j->rc == 0 && j->imp.status == KT_IMPORT_OK) {
        /* What the lookup needs: identifiers, titles, documents; files only counted. */
        json_t *slim = json_pack("{s:O,s:[],s:[]}", "origin",
                                 json_object_get(j->imp.plan, "origin"), "items", "tests");
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(j->imp.plan, "items"), i, it)
            json_array_append_new(json_object_get(slim, "items"),
                                  json_pack("{s:O,s:O,s:O,s:I}", "identifier",
                                            json_object_get(it, "identifier"), "title",
                                            json_object_get(it, "title"), "xml",
                                            json_object_get(it, "xml"), "assets",
                                            (json_int_t)json_array_size(
                                                json_object_get(it, "assets"))));
        json_array_foreach(json_object_get(j->imp.plan, "tests"), i, it)
            json_array_append_new(json_object_get(slim, "tests"),
                                  json_pack("{s:O,s:O}", "identifier",
                                            json_object_get(it, "identifier"), "title",
                                            json_object_get(it, "title")));
        j->dry_doc = json_dumps(slim, JSON_COMPACT);
        json_decref(slim);
        kt_import_free(&j->imp);
    }
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
        api_db_error_doing(req, q, "nhập câu hỏi của môn này");
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
dry_run_done(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    json_t *res = json_loads(pg_value(q, 0, 0, 0), 0, NULL);
    if (!res) {
        api_error(req, 500, "internal", "Lỗi nội bộ khi đọc kết quả nhập thử.");
        return;
    }
    int ok = 1;
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(res, "items"), i, it) ok &=
        json_is_null(json_object_get(it, "error"));
    json_object_set_new(res, "would_import", json_boolean(ok));
    api_json(req, 200, res);
}

static void
import_done(void *arg)
{
    struct import_job *j = arg;
    http_request *req = j->req;
    if (j->dry_run && j->dry_doc) {
        char school[24], prov[24];
        snprintf(school, sizeof(school), "%lld", (long long)req->user->school_id);
        snprintf(prov, sizeof(prov), "%lld", (long long)req->user->province_id);
        const char *p[] = {j->dry_doc, school, prov};
        pg_query *q = api_query(req);
        pg_query_add(q, "item_import_dry", 3, p);
        api_run(req, q, dry_run_done);
        return;
    }
    if (j->dry_run) {
        /* Nothing would be stored: the same errors, as a report. */
        json_t *errs = errors_json(&j->errs);
        if (j->imp.status == KT_IMPORT_SKIPPED)
            json_array_append_new(errs, json_pack("{s:s,s:i,s:i,s:n,s:s}", "file", j->name,
                                                  "line", 0, "column", 0, "element", "message",
                                                  j->imp.skip_reason));
        api_json(req, 200,
                 json_pack("{s:b,s:b,s:[],s:[],s:o}", "dry_run", 1, "would_import", 0, "items",
                           "tests", "errors", errs));
        return;
    }
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
                  "Hãy gửi nội dung tệp QTI (.xml), gói nội dung (.zip), tệp Word (.docx)"
                  " hoặc bảng câu hỏi Excel (.xlsx, .csv) trong thân yêu cầu.");
        return;
    }
    char *fname = http_query_param(req, "filename");
    if (kt_docx_looks_like(http_header(req, "Content-Type"), fname, req->body, req->body_len)) {
        /* A Word document or a question sheet (docs/IMPORT-WORD.md): item_docx.c. */
        char *subject = http_query_param(req, "subject"), *grade = http_query_param(req, "grade");
        char *dry = http_query_param(req, "dry_run"), *part = http_query_param(req, "partial");
        int dry_run = dry && (strcmp(dry, "1") == 0 || strcmp(dry, "true") == 0);
        int partial = part && (strcmp(part, "1") == 0 || strcmp(part, "true") == 0);
        free(dry);
        free(part);
        free(fname);
        const char *bad = NULL;
        if (subject && !kt_item_code_valid(subject))
            bad = "Mã môn học (subject) không hợp lệ.";
        else if (grade && api_bounded(grade, 1, 12) < 0)
            bad = "Khối lớp (grade) phải là số từ 1 đến 12.";
        if (bad) {
            free(subject);
            free(grade);
            api_error(req, 400, "invalid_parameter", bad);
            return;
        }
        kt_items_import_docx(req, subject, grade, dry_run, partial);
        return;
    }
    struct import_job *j = calloc(1, sizeof(*j));
    if (!j)
        abort();
    j->req = req;
    kt_qti_errors_init(&j->errs);
    j->subject = http_query_param(req, "subject");
    j->grade = http_query_param(req, "grade");
    char *dry = http_query_param(req, "dry_run");
    j->dry_run = dry && (strcmp(dry, "1") == 0 || strcmp(dry, "true") == 0);
    free(dry);
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
    int zip = req->body_len >= 4 && memcmp(req->body, "PK\003\004", 4) == 0;
    snprintf(j->name, sizeof(j->name), "%s",
             fname && *fname ? fname : zip ? "tep-tai-len.zip" : "tep-tai-len.xml");
    j->named = fname && *fname;
    free(fname);
    kt_cpu_submit(req->worker->base, import_work, import_done, j);
}

/* ------------------------------------------------------------------------ */
/* Assets                                                                   */

/* Replies with a stored file: row 0 of the query is (content type, bytea as
 * hex). A stored file is content, never code that runs on this origin, so it
 * goes out sandboxed. `missing` is the 404's message when there is no row. */
void
api_reply_stored_file(http_request *req, pg_query *q, const char *missing)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    if (pg_ntuples(q, 0) != 1) {
        api_error(req, 404, "not_found", missing);
        return;
    }
    const char *type = pg_value(q, 0, 0, 0), *hex = pg_value(q, 0, 0, 1);
    size_t hlen = strlen(hex);
    if (hlen < 2 || hex[0] != '\\' || hex[1] != 'x') {
        api_error(req, 500, "internal", "Tệp lưu sai định dạng.");
        return;
    }
    size_t cap = (hlen - 2) / 2 + 1, len = 0;
    unsigned char *bin = malloc(cap);
    if (!bin || sodium_hex2bin(bin, cap, hex + 2, hlen - 2, NULL, &len, NULL) != 0) {
        free(bin);
        api_error(req, 500, "internal", "Tệp lưu sai định dạng.");
        return;
    }
    http_reply_full(req, 200, type,
                    "Content-Security-Policy: default-src 'none'; img-src 'self';"
                    " style-src 'unsafe-inline'; sandbox\r\n",
                    (const char *)bin, len);
    free(bin);
}

static void
asset_loaded(http_request *req, pg_query *q)
{
    api_reply_stored_file(req, q, "Không tìm thấy tệp đính kèm của câu hỏi.");
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

void
h_attempt_asset(http_request *req)
{
    int64_t id = api_param_id(req, 0);
    const char *ref = req->params[1], *path = req->params[2];
    if (id <= 0 || !ref || strlen(ref) > 32 || !path || !*path || strlen(path) > 1000) {
        api_error(req, 404, "not_found", "Không tìm thấy tệp đính kèm của câu hỏi.");
        return;
    }
    char ids[24], uid[24];
    snprintf(ids, sizeof(ids), "%lld", (long long)id);
    snprintf(uid, sizeof(uid), "%lld", (long long)req->user->id);
    pg_query *q = api_query(req);
    const char *p[] = {ids, uid, ref, path};
    pg_query_add(q, "attempt_asset", 4, p);
    api_run(req, q, asset_loaded);
}

/* ------------------------------------------------------------------------ */
/* Export and scoring of one version (work on the CPU pool)                 */

struct item_job {
    http_request *req;
    char *kind, *qti_xml, *identifier, *title, *content, *scoring, *subject;
    char *stated_max; /* the maximum a teacher stated, or NULL */
    int grade, version;
    char qti_version[4]; /* "2.2" or "3.0" */
    json_t *responses;   /* scoring */
    uint64_t seed;
    /* Results. */
    char *xml;      /* export */
    json_t *result; /* scoring */
    char err[300];
};

static void
item_job_free(void *p)
{
    struct item_job *j = p;
    free(j->kind);
    free(j->qti_xml);
    free(j->identifier);
    free(j->title);
    free(j->content);
    free(j->scoring);
    free(j->subject);
    free(j->stated_max);
    json_decref(j->responses);
    free(j->xml);
    json_decref(j->result);
    free(j);
}

static char *
dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Loads the version into a job attached to req; NULL after replying 404. */
static struct item_job *
job_from_source(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return NULL;
    }
    if (pg_ntuples(q, 0) != 1) {
        api_error(req, 404, "not_found", "Không tìm thấy câu hỏi hoặc phiên bản yêu cầu.");
        return NULL;
    }
    struct item_job *j = req->ctx;
    j->kind = dup_or_null(pg_value(q, 0, 0, 0));
    j->qti_xml = dup_or_null(pg_value(q, 0, 0, 1));
    j->identifier = dup_or_null(pg_value(q, 0, 0, 2));
    j->title = dup_or_null(pg_value(q, 0, 0, 3));
    j->content = dup_or_null(pg_value(q, 0, 0, 4));
    j->scoring = dup_or_null(pg_value(q, 0, 0, 5));
    j->subject = dup_or_null(pg_value(q, 0, 0, 6));
    j->grade = atoi(pg_value(q, 0, 0, 7));
    j->version = atoi(pg_value(q, 0, 0, 8));
    j->stated_max = dup_or_null(pg_value(q, 0, 0, 9));
    return j;
}

static void
export_work(void *arg)
{
    struct item_job *j = arg;
    kt_qti_errors errs;
    kt_qti_errors_init(&errs);
    if (strcmp(j->kind, "QTI") == 0) {
        j->xml = j->qti_xml ? kt_qti_convert(j->qti_xml, strlen(j->qti_xml), j->qti_version, &errs)
                            : NULL;
    } else {
        json_t *meta = json_pack("{s:s,s:s,s:s,s:i,s:s}", "identifier", j->identifier, "kind",
                                 j->kind, "subject", j->subject, "grade", j->grade, "title",
                                 j->title);
        json_t *content = json_loads(j->content, 0, NULL), *scoring = json_loads(j->scoring, 0, NULL);
        json_t *item = kt_item_join(meta, content, scoring);
        j->xml = kt_qti_from_item(item, j->qti_version, &errs);
        json_decref(item);
        json_decref(meta);
        json_decref(content);
        json_decref(scoring);
    }
    if (!j->xml)
        snprintf(j->err, sizeof(j->err), "Không xuất được câu hỏi sang QTI %s: %s", j->qti_version,
                 errs.n ? errs.v[0].message : "không có tài liệu gốc");
    kt_qti_errors_free(&errs);
}

static void
export_done(void *arg)
{
    struct item_job *j = arg;
    if (!j->xml) {
        api_error(j->req, 422, "export_failed", j->err);
        return;
    }
    char disp[200];
    snprintf(disp, sizeof(disp), "Content-Disposition: inline; filename=\"item-%s.xml\"\r\n",
             strspn(j->identifier, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789-_.") == strlen(j->identifier)
                 ? j->identifier
                 : "qti");
    http_reply_full(j->req, 200, "application/xml; charset=utf-8", disp, j->xml, strlen(j->xml));
}

static void
export_loaded(http_request *req, pg_query *q)
{
    struct item_job *j = job_from_source(req, q);
    if (j)
        kt_cpu_submit(req->worker->base, export_work, export_done, j);
}

static struct item_job *
job_new(http_request *req)
{
    struct item_job *j = calloc(1, sizeof(*j));
    if (!j)
        abort();
    j->req = req;
    req->ctx = j;
    req->ctx_free = item_job_free;
    return j;
}

static void
run_source(http_request *req, const char *version, void (*cb)(http_request *, pg_query *))
{
    char ids[24];
    snprintf(ids, sizeof(ids), "%lld", (long long)api_param_id(req, 0));
    pg_query *q = api_query(req);
    const char *p[] = {ids, version};
    pg_query_add(q, "item_source", 2, p);
    api_run(req, q, cb);
}

void
h_item_qti(http_request *req)
{
    char *v = http_query_param(req, "version");
    const char *qv = !v || !*v || strcmp(v, "2.2") == 0 ? "2.2"
                     : strcmp(v, "3.0") == 0            ? "3.0"
                                                        : NULL;
    free(v);
    if (!qv) {
        api_error(req, 400, "invalid_parameter", "Tham số version phải là 2.2 hoặc 3.0.");
        return;
    }
    if (api_param_id(req, 0) <= 0) {
        api_error(req, 404, "not_found", "Không tìm thấy câu hỏi hoặc phiên bản yêu cầu.");
        return;
    }
    struct item_job *j = job_new(req);
    snprintf(j->qti_version, sizeof(j->qti_version), "%s", qv);
    run_source(req, NULL, export_loaded);
}

static void
score_work(void *arg)
{
    struct item_job *j = arg;
    json_t *scoring = j->scoring ? json_loads(j->scoring, 0, NULL) : NULL;
    j->result = kt_item_score(j->kind, scoring, j->qti_xml, j->responses, j->seed, j->err,
                              sizeof(j->err));
    json_decref(scoring);
}

static void
score_done(void *arg)
{
    struct item_job *j = arg;
    if (!j->result) {
        api_error(j->req, 422, "cannot_score", j->err);
        return;
    }
    /* A teacher's statement stands unless the item states its own maximum. */
    json_t *mx = json_object_get(j->result, "max_score");
    const char *src = json_string_value(json_object_get(mx, "source"));
    if (j->stated_max && mx && (!src || strcmp(src, "derived") == 0))
        json_object_set_new(j->result, "max_score",
                            json_pack("{s:s,s:s}", "value", j->stated_max, "source", "stated"));
    json_object_set_new(j->result, "item_id", json_integer(api_param_id(j->req, 0)));
    json_object_set_new(j->result, "version", json_integer(j->version));
    api_json(j->req, 200, json_incref(j->result));
}

static void
score_loaded(http_request *req, pg_query *q)
{
    struct item_job *j = job_from_source(req, q);
    if (j)
        kt_cpu_submit(req->worker->base, score_work, score_done, j);
}

void
h_item_score(http_request *req)
{
    if (api_param_id(req, 0) <= 0) {
        api_error(req, 404, "not_found", "Không tìm thấy câu hỏi hoặc phiên bản yêu cầu.");
        return;
    }
    json_t *b = api_body_object(req);
    if (!b)
        return;
    json_t *responses = json_object_get(b, "responses"), *seed = json_object_get(b, "seed");
    json_t *version = json_object_get(b, "version");
    if (!json_is_object(responses) || (seed && !json_is_integer(seed)) ||
        (version && (!json_is_integer(version) || json_integer_value(version) < 1))) {
        json_decref(b);
        api_error(req, 400, "invalid_body",
                  "Cần {\"responses\": {MÃ: giá trị}}; seed và version (nếu có) là số nguyên.");
        return;
    }
    struct item_job *j = job_new(req);
    j->responses = json_incref(responses);
    j->seed = seed ? (uint64_t)json_integer_value(seed) : 0;
    char vs[24];
    if (version)
        snprintf(vs, sizeof(vs), "%lld", (long long)json_integer_value(version));
    json_decref(b);
    run_source(req, version ? vs : NULL, score_loaded);
}

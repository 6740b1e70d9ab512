/*
 * POST /api/v1/qti-tests/{id}/publish: an imported assessmentTest becomes a
 * published test. The test's item references are read on the CPU pool, the
 * school's QTI items they name are loaded, forms are built on the CPU pool
 * (itembank/qti_deliver.c), and one statement stores the test, its items
 * and forms; every feature or item that cannot be delivered is a 422, and
 * so is an item whose maximum score is neither known nor stated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api.h"
#include "assembly.h"
#include "cpupool.h"
#include "item.h"
#include "maxscore.h"
#include "qti_deliver.h"
#include "server.h"

#define TITLE_MAX 300

static const struct pg_stmt_def qti_publish_stmts[] = {
    {"qti_test_read", "SELECT identifier, title, xml, origin FROM qti_tests WHERE id = $1::bigint"},
    /* The school's QTI items under the names the references may have, at
     * their approved versions (else current: items need not be approved),
     * with the paths of their files. Where several items share a name, the
     * one imported with the test (same origin), else the newest, comes last
     * and so wins in items_loaded. */
    {"qti_test_items",
     "SELECT i.identifier, i.id, v.version, i.status, v.qti_xml,"
     " coalesce((SELECT json_agg(a.path ORDER BY a.path) FROM item_assets a"
     "   WHERE a.item_id = i.id AND a.version = v.version), '[]')::text,"
     " (SELECT trim_scale(m.max_score)::text FROM item_max_scores m"
     "   WHERE m.item_id = i.id AND m.version = v.version)"
     " FROM items i JOIN item_versions v ON v.item_id = i.id"
     "  AND v.version = coalesce(i.approved_version, i.current_version)"
     " WHERE i.school_id = $2::bigint AND v.kind = 'QTI'"
     "   AND i.identifier IN (SELECT jsonb_array_elements_text($1::jsonb))"
     " ORDER BY i.origin = $3::text, i.id"},
    /* $1 school, $2 province, $3 title, $4 subject, $5 grade, $6 kind,
     * $7 duration, $8 forms, $9 author, $10 seed, $11 total, $12 source,
     * $13 navigation, $14 test_items rows, $15 test_forms rows. */
    {"qti_test_store",
     "WITH t AS (INSERT INTO tests (school_id, province_id, title, subject, grade, kind,"
     "   duration_seconds, forms, blueprint, created_by, status, seed, total_points,"
     "   published_by, published_at, source_qti_test_id, navigation_mode)"
     "  VALUES ($1::bigint, $2::bigint, $3, $4, $5::smallint, $6, $7::integer, $8::smallint,"
     "   '[]', $9::bigint, 'published', $10::bigint, $11::integer, $9::bigint, now(),"
     "   $12::bigint, $13) RETURNING id, school_id),"
     " ti AS (INSERT INTO test_items (test_id, item_ref, school_id, item_id, version, cell, part,"
     "   points) SELECT t.id, x.ref, t.school_id, x.item, x.version, x.cell, x.part, x.points"
     "  FROM t, jsonb_to_recordset($14::jsonb) AS x(ref text, item bigint, version integer,"
     "   cell smallint, part smallint, points integer) RETURNING 1),"
     " tf AS (INSERT INTO test_forms (test_id, school_id, form_index, code, seed, payload)"
     "  SELECT t.id, t.school_id, x.idx, x.code, x.seed, x.payload"
     "  FROM t, jsonb_to_recordset($15::jsonb) AS x(idx smallint, code text, seed bigint,"
     "   payload jsonb) RETURNING 1),"
     " a AS (INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, new_value)"
     "  SELECT t.school_id, $9::bigint, 'test.publish', 'test', t.id::text,"
     "   jsonb_build_object('seed', $10::text, 'total_points', $11::integer,"
     "    'source_qti_test_id', $12::bigint) FROM t RETURNING 1)"
     " SELECT (SELECT count(*) FROM ti), (SELECT count(*) FROM tf), (SELECT count(*) FROM a)"},
};

void
kt_qti_publish_register(void)
{
    pg_register_statements(qti_publish_stmts,
                           (int)(sizeof(qti_publish_stmts) / sizeof(qti_publish_stmts[0])));
}

/* One publish in flight. */
struct qpub {
    http_request *req;
    json_t *test; /* title, subject, grade, kind, forms, duration_seconds */
    char *xml, *origin;   /* the test document and where it was imported from */
    json_t *refs, *names; /* CPU pool: item refs, the identifiers to load */
    json_t *items;        /* identifier -> {id, version, status, xml, assets, max_score} */
    json_t *nomax;        /* CPU pool: items with no known or stated maximum score */
    uint64_t seed;
    kt_qti_publish res;
};

static void
qpub_free(void *p)
{
    struct qpub *j = p;
    json_decref(j->test);
    free(j->xml);
    free(j->origin);
    json_decref(j->refs);
    json_decref(j->names);
    json_decref(j->items);
    json_decref(j->nomax);
    kt_qti_publish_free(&j->res);
    free(j);
}

static void
not_deliverable(http_request *req, json_t *problems)
{
    char msg[200];
    snprintf(msg, sizeof(msg),
             "Đề QTI này chưa phát hành được: %zu điểm chưa được hỗ trợ khi giao đề (xem chi "
             "tiết).",
             json_array_size(problems));
    api_error_details(req, 422, "qti_not_deliverable", msg, problems);
}

static void
stored(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    const char *s = pg_ntuples(q, 1) == 1 ? pg_value(q, 1, 0, 0) : NULL;
    if (!s) {
        api_error(req, 500, "internal", "Không đọc lại được đề vừa phát hành.");
        return;
    }
    api_raw_json(req, 201, s, strlen(s));
}

static void
build_work(void *arg)
{
    struct qpub *j = arg;
    kt_qti_publish_build(j->xml, strlen(j->xml), j->test, j->items, j->seed, &j->res);
    if (j->res.rc == 0)
        j->nomax = kt_item_max_missing(j->res.items, j->items);
}

static void
build_done(void *arg)
{
    struct qpub *j = arg;
    http_request *req = j->req;
    if (j->res.rc != 0) {
        not_deliverable(req, json_incref(j->res.problems));
        return;
    }
    if (json_array_size(j->nomax)) {
        char msg[300];
        snprintf(msg, sizeof(msg),
                 "Đề chưa phát hành được: %zu câu hỏi chưa xác định được điểm tối đa. Hãy ghi "
                 "điểm tối đa cho từng câu (PATCH /api/v1/items/{id} với max_score và version) "
                 "rồi phát hành lại.",
                 json_array_size(j->nomax));
        api_error_details(req, 422, "max_score_unknown", msg, json_incref(j->nomax));
        return;
    }
    char sch[24], prov[24], g[8], d[16], f[8], u[24], seed[24], total[24], src[24];
    snprintf(sch, sizeof(sch), "%lld", (long long)req->user->school_id);
    snprintf(prov, sizeof(prov), "%lld", (long long)req->user->province_id);
    snprintf(g, sizeof(g), "%d", (int)json_integer_value(json_object_get(j->test, "grade")));
    snprintf(d, sizeof(d), "%d", j->res.duration_seconds);
    snprintf(f, sizeof(f), "%d", (int)json_integer_value(json_object_get(j->test, "forms")));
    snprintf(u, sizeof(u), "%lld", (long long)req->user->id);
    snprintf(seed, sizeof(seed), "%lld", (long long)j->seed); /* bigint: same 64 bits */
    snprintf(total, sizeof(total), "%lld", (long long)j->res.total_points);
    snprintf(src, sizeof(src), "%lld", (long long)api_param_id(req, 0));
    char *items = json_dumps(j->res.items, JSON_COMPACT), *forms = json_dumps(j->res.forms, JSON_COMPACT);
    const char *p[] = {sch,
                       prov,
                       json_string_value(json_object_get(j->test, "title")),
                       json_string_value(json_object_get(j->test, "subject")),
                       g,
                       json_string_value(json_object_get(j->test, "kind")),
                       d,
                       f,
                       u,
                       seed,
                       total,
                       src,
                       j->res.navigation_mode,
                       items,
                       forms};
    pg_query *q = api_query(req);
    pg_query_add(q, "qti_test_store", 15, p);
    pg_query_add(q, "test_view_new", 0, NULL);
    free(items);
    free(forms);
    api_run(req, q, stored);
}

static void
items_loaded(http_request *req, pg_query *q)
{
    struct qpub *j = req->ctx;
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    j->items = json_object();
    for (int r = 0; r < pg_ntuples(q, 0); r++) /* a later row of a name replaces an earlier */
        json_object_set_new(
            j->items, pg_value(q, 0, r, 0),
            json_pack("{s:I,s:i,s:s,s:s?,s:o?,s:s?}", "id",
                      (json_int_t)strtoll(pg_value(q, 0, r, 1), NULL, 10), "version",
                      atoi(pg_value(q, 0, r, 2)), "status", pg_value(q, 0, r, 3), "xml",
                      pg_value(q, 0, r, 4), "assets", json_loads(pg_value(q, 0, r, 5), 0, NULL),
                      "max_score", pg_value(q, 0, r, 6)));
    randombytes_buf(&j->seed, sizeof(j->seed));
    kt_cpu_submit(req->worker->base, build_work, build_done, j);
}

static void
refs_work(void *arg)
{
    struct qpub *j = arg;
    json_t *problems = json_array();
    j->refs = kt_qti_test_refs(j->xml, strlen(j->xml), problems);
    if (!j->refs) {
        j->names = problems; /* the reasons the document cannot be read */
        return;
    }
    json_decref(problems);
    j->names = json_array();
    size_t i, k;
    json_t *r, *n;
    json_array_foreach(j->refs, i, r) json_array_foreach(json_object_get(r, "names"), k, n)
        json_array_append(j->names, n);
}

static void
refs_done(void *arg)
{
    struct qpub *j = arg;
    http_request *req = j->req;
    if (!j->refs) {
        not_deliverable(req, json_incref(j->names));
        return;
    }
    char *names = json_dumps(j->names, JSON_COMPACT), sch[24];
    snprintf(sch, sizeof(sch), "%lld", (long long)req->user->school_id);
    const char *p[] = {names, sch, j->origin};
    pg_query *q = api_query(req);
    pg_query_add(q, "qti_test_items", 3, p);
    free(names);
    api_run(req, q, items_loaded);
}

static void
test_read(http_request *req, pg_query *q)
{
    struct qpub *j = req->ctx;
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    if (pg_ntuples(q, 0) != 1) {
        api_error(req, 404, "not_found", "Không tìm thấy đề QTI đã nhập.");
        return;
    }
    if (!json_is_string(json_object_get(j->test, "title")))
        json_object_set_new(j->test, "title", json_string(pg_value(q, 0, 0, 1)));
    j->xml = strdup(pg_value(q, 0, 0, 2));
    j->origin = strdup(pg_value(q, 0, 0, 3));
    if (!j->xml || !j->origin)
        abort();
    kt_cpu_submit(req->worker->base, refs_work, refs_done, j);
}

static void
field(json_t *problems, const char *name, const char *message)
{
    json_array_append_new(problems, json_pack("{s:s,s:s}", "field", name, "message", message));
}

void
h_qti_test_publish(http_request *req)
{
    int64_t id = api_param_id(req, 0);
    if (id <= 0) {
        api_error(req, 404, "not_found", "Không tìm thấy đề QTI đã nhập.");
        return;
    }
    if (!req->user->school_id) {
        api_error(req, 403, "forbidden", "Chỉ tài khoản của một trường mới phát hành được đề.");
        return;
    }
    json_t *b = api_body_object(req);
    if (!b)
        return;
    json_t *problems = json_array();
    json_t *title = json_object_get(b, "title"), *grade = json_object_get(b, "grade");
    json_t *forms = json_object_get(b, "forms"), *dur = json_object_get(b, "duration_seconds");
    const char *subject = json_string_value(json_object_get(b, "subject"));
    const char *kind = json_string_value(json_object_get(b, "kind"));
    if (title && (!json_is_string(title) || !json_string_length(title) ||
                  json_string_length(title) > TITLE_MAX))
        field(problems, "title", "Tên đề (title) nếu có phải từ 1 đến 300 ký tự.");
    if (!subject || !kt_item_code_valid(subject))
        field(problems, "subject", "Môn học (subject) phải là mã môn, ví dụ TOAN.");
    if (!json_is_integer(grade) || json_integer_value(grade) < 1 || json_integer_value(grade) > 12)
        field(problems, "grade", "Khối lớp (grade) phải từ 1 đến 12.");
    if (!kind || (strcmp(kind, "tx") != 0 && strcmp(kind, "gk") != 0 && strcmp(kind, "ck") != 0))
        field(problems, "kind", "Loại bài (kind) phải là tx, gk hoặc ck.");
    if (!json_is_integer(forms) || json_integer_value(forms) < 1 ||
        json_integer_value(forms) > KT_ASM_MAX_FORMS)
        field(problems, "forms", "Số mã đề (forms) phải từ 1 đến 99.");
    if (dur && !json_is_null(dur) && !json_is_integer(dur))
        field(problems, "duration_seconds", "duration_seconds phải là số giây.");
    if (json_array_size(problems)) {
        api_error_details(req, 422, "invalid_test", "Yêu cầu phát hành đề chưa hợp lệ (xem chi tiết).",
                          problems);
        json_decref(b);
        return;
    }
    json_decref(problems);
    struct qpub *j = calloc(1, sizeof(*j));
    if (!j)
        abort();
    j->req = req;
    req->ctx = j;
    req->ctx_free = qpub_free;
    j->test = json_pack("{s:O?,s:s,s:O,s:s,s:O,s:O?}", "title", title, "subject", subject,
                        "grade", grade, "kind", kind, "forms", forms, "duration_seconds", dur);
    json_decref(b);
    char t[24];
    snprintf(t, sizeof(t), "%lld", (long long)id);
    const char *p[] = {t};
    pg_query *q = api_query(req);
    pg_query_add(q, "qti_test_read", 1, p);
    api_run(req, q, test_read);
}

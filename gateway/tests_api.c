/*
 * Tests (đề kiểm tra) and sessions: POST /tests with a blueprint (ma trận),
 * publish (assembly of the forms from approved items on the CPU pool, 409
 * with the shortage of every row the bank cannot fill), sessions that open a
 * published test to classes for a window, and a student's open sessions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api.h"
#include "cpupool.h"
#include "forms.h"
#include "item.h"
#include "server.h"
#include "tests_sql.h"

#define TITLE_MAX 300
#define MAX_CLASSES 100

#define TEST_VIEW                                                                                  \
    "SELECT json_build_object('id', t.id, 'title', t.title, 'subject', t.subject,"                \
    " 'grade', t.grade, 'kind', t.kind, 'duration_seconds', t.duration_seconds,"                  \
    " 'forms', t.forms, 'blueprint', t.blueprint, 'status', t.status,"                            \
    " 'navigation_mode', t.navigation_mode, 'source_qti_test_id', t.source_qti_test_id,"          \
    " 'total_points', round(t.total_points::numeric / 100, 2)::text,"                             \
    " 'created_by', t.created_by, 'created_at', t.created_at,"                                    \
    " 'published_by', t.published_by, 'published_at', t.published_at,"                           \
    " 'form_codes', (SELECT json_agg(f.code ORDER BY f.form_index) FROM test_forms f"             \
    "   WHERE f.test_id = t.id),"                                                                 \
    " 'items', (SELECT json_agg(json_build_object('item_ref', ti.item_ref, 'item_id', ti.item_id,"\
    "   'version', ti.version, 'row', ti.cell + 1, 'part', ti.part,"                              \
    "   'points', round(ti.points::numeric / 100, 2)::text) ORDER BY ti.part, ti.cell, ti.item_id)"\
    "   FROM test_items ti WHERE ti.test_id = t.id))::text FROM tests t"

static const struct pg_stmt_def test_stmts[] = {
    {"test_create", KT_SQL_TEST_CREATE},
    {"test_view", TEST_VIEW " WHERE t.id = $1::bigint"},
    {"test_view_new", TEST_VIEW " WHERE t.id = currval('tests_id_seq')"},
    {"publish_test",
     "SELECT t.status, t.subject, t.grade, t.forms, t.blueprint::text, t.title, t.kind,"
     " t.duration_seconds FROM tests t WHERE t.id = $1::bigint"},
    /* Approved, deliverable items of the subject and grade (the school's and
     * the province's shared ones) at their approved versions (a newer one may
     * await review), with how often each was used before. */
    {"publish_candidates",
     "SELECT i.id, v.version, to_json(v.tags)::text, v.kind, v.content::text,"
     " (SELECT count(*) FROM test_items ti WHERE ti.item_id = i.id)"
     " FROM items i JOIN item_versions v ON v.item_id = i.id AND v.version = i.approved_version"
     " WHERE i.status = 'approved' AND i.subject = $1 AND i.grade = $2::smallint"
     "   AND v.kind <> 'QTI'"
     " ORDER BY i.id"},
    {"publish_formats",
     "SELECT code, name FROM taxonomy_nodes WHERE kind = 'format' ORDER BY code"},
    {"publish_store", KT_SQL_PUBLISH_STORE},
    {"session_create",
     "WITH t AS (SELECT id, school_id FROM tests WHERE id = $1::bigint AND status = 'published'),"
     " c AS (SELECT id FROM classes WHERE id = ANY ($2::bigint[])),"
     " s AS (INSERT INTO sessions (school_id, test_id, opens_at, closes_at, created_by)"
     "  SELECT t.school_id, t.id, $3::timestamptz, $4::timestamptz, $5::bigint FROM t"
     "  WHERE (SELECT count(*) FROM c) = cardinality($2::bigint[]) RETURNING id, school_id),"
     " sc AS (INSERT INTO session_classes (session_id, class_id, school_id)"
     "  SELECT s.id, c.id, s.school_id FROM s, c RETURNING class_id)"
     " SELECT json_build_object('id', s.id, 'test_id', $1::bigint, 'opens_at', $3::timestamptz,"
     "  'closes_at', $4::timestamptz, 'results_released', false,"
     "  'class_ids', (SELECT json_agg(class_id ORDER BY class_id) FROM sc))::text FROM s"},
    {"session_create_why",
     "SELECT (SELECT status FROM tests WHERE id = $1::bigint),"
     " (SELECT count(*) FROM classes WHERE id = ANY ($2::bigint[]))"},
    {"session_view",
     "SELECT json_build_object('id', s.id, 'test_id', s.test_id, 'opens_at', s.opens_at,"
     " 'closes_at', s.closes_at, 'results_released', s.results_released,"
     " 'class_ids', (SELECT json_agg(class_id ORDER BY class_id) FROM session_classes"
     "   WHERE session_id = s.id))::text FROM sessions s WHERE s.id = $1::bigint"},
    {"me_sessions",
     "SELECT coalesce(json_agg(json_build_object('id', s.id, 'test_id', t.id,"
     " 'title', t.title, 'subject', t.subject, 'grade', t.grade, 'kind', t.kind,"
     " 'duration_seconds', t.duration_seconds, 'opens_at', s.opens_at, 'closes_at', s.closes_at,"
     " 'open', now() >= s.opens_at AND now() < s.closes_at,"
     " 'attempt', (SELECT json_build_object('id', a.id, 'status', a.status)"
     "   FROM attempts a WHERE a.session_id = s.id AND a.student_id = $1::bigint),"
     " 'results_released', s.results_released) ORDER BY s.opens_at, s.id), '[]')::text"
     " FROM sessions s JOIN tests t ON t.id = s.test_id"
     " WHERE s.closes_at > now() - interval '30 days'"
     "   AND EXISTS (SELECT 1 FROM session_classes sc JOIN class_members cm"
     "     ON cm.class_id = sc.class_id AND cm.user_id = $1::bigint WHERE sc.session_id = s.id)"},
    {"session_release",
     "WITH u AS (UPDATE sessions SET results_released = true, released_at = now()"
     "  WHERE id = $1::bigint AND NOT results_released RETURNING id, school_id)"
     " INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id)"
     " SELECT school_id, $2::bigint, 'session.release', 'session', id::text FROM u RETURNING 1"},
};

void
kt_tests_register(void)
{
    pg_register_statements(test_stmts, (int)(sizeof(test_stmts) / sizeof(test_stmts[0])));
}



/* ------------------------------------------------------------------------ */
/* POST /api/v1/tests                                                       */

static void
problem(json_t *problems, const char *field, const char *message)
{
    json_array_append_new(problems, json_pack("{s:s,s:s}", "field", field, "message", message));
}

static void
test_created(http_request *req, pg_query *q)
{
    api_reply_row(req, q, 1, 201, "Không tìm thấy đề vừa tạo.");
}

void
h_test_create(http_request *req)
{
    json_t *b = api_body_object(req);
    if (!b)
        return;
    json_t *problems = json_array();
    const char *title = json_string_value(json_object_get(b, "title"));
    const char *subject = json_string_value(json_object_get(b, "subject"));
    const char *kind = json_string_value(json_object_get(b, "kind"));
    json_t *grade = json_object_get(b, "grade"), *dur = json_object_get(b, "duration_seconds");
    json_t *forms = json_object_get(b, "forms");
    if (!title || !*title || strlen(title) > TITLE_MAX)
        problem(problems, "title", "Tên đề (title) bắt buộc, tối đa 300 ký tự.");
    if (!subject || !kt_item_code_valid(subject))
        problem(problems, "subject", "Môn học (subject) phải là mã môn, ví dụ TOAN.");
    if (!json_is_integer(grade) || json_integer_value(grade) < 1 || json_integer_value(grade) > 12)
        problem(problems, "grade", "Khối lớp (grade) phải từ 1 đến 12.");
    if (!kind || (strcmp(kind, "tx") != 0 && strcmp(kind, "gk") != 0 && strcmp(kind, "ck") != 0))
        problem(problems, "kind", "Loại bài (kind) phải là tx, gk hoặc ck.");
    if (!json_is_integer(dur) || json_integer_value(dur) < 60 || json_integer_value(dur) > 14400)
        problem(problems, "duration_seconds", "Thời gian làm bài phải từ 60 đến 14400 giây.");
    int nforms = json_is_integer(forms) ? (int)json_integer_value(forms) : 0;
    if (!json_is_integer(forms) || nforms < 1 || nforms > KT_ASM_MAX_FORMS)
        problem(problems, "forms", "Số mã đề (forms) phải từ 1 đến 99.");
    size_t ncells = 0;
    kt_bp_cell *cells =
        kt_forms_cells(json_object_get(b, "blueprint"), nforms ? nforms : 1, problems, &ncells);
    free(cells);
    if (json_array_size(problems)) {
        char msg[160];
        snprintf(msg, sizeof(msg), "Đề kiểm tra chưa hợp lệ: có %zu lỗi cần sửa (xem chi tiết).",
                 json_array_size(problems));
        api_error_details(req, 422, "invalid_test", msg, problems);
        json_decref(b);
        return;
    }
    json_decref(problems);
    /* The blueprint is stored with points as decimal strings. */
    json_t *bp = json_deep_copy(json_object_get(b, "blueprint"));
    size_t i;
    json_t *row;
    json_array_foreach(bp, i, row)
    {
        json_object_set_new(row, "points",
                            kt_forms_points_json(kt_forms_points(json_object_get(row, "points"))));
    }
    char *bps = json_dumps(bp, JSON_COMPACT);
    json_decref(bp);
    char sch[24], prov[24], g[8], d[16], f[8], u[24];
    api_id_text(sch, req->user->school_id);
    api_id_text(prov, req->user->province_id);
    snprintf(g, sizeof(g), "%d", (int)json_integer_value(grade));
    snprintf(d, sizeof(d), "%d", (int)json_integer_value(dur));
    snprintf(f, sizeof(f), "%d", nforms);
    api_id_text(u, req->user->id);
    const char *p[] = {sch, prov, title, subject, g, kind, d, f, bps, u};
    pg_query *q = api_query(req);
    pg_query_add(q, "test_create", 10, p);
    pg_query_add(q, "test_view_new", 0, NULL);
    free(bps);
    json_decref(b);
    api_run(req, q, test_created);
}

static void
test_shown(http_request *req, pg_query *q)
{
    api_reply_row(req, q, 0, 200, "Không tìm thấy đề kiểm tra.");
}

void
h_test_get(http_request *req)
{
    char t[24];
    api_id_text(t, api_param_id(req, 0));
    pg_query *q = api_query(req);
    const char *p[] = {t};
    pg_query_add(q, "test_view", 1, p);
    api_run(req, q, test_shown);
}

/* ------------------------------------------------------------------------ */
/* POST /api/v1/tests/{id}/publish                                          */

/* What the CPU pool needs and produces for one publish. */
struct publish {
    http_request *req;
    json_t *test;       /* title, kind, duration, subject, grade, forms, blueprint */
    json_t *candidates; /* [{id, version, tags, kind, content, uses}] */
    json_t *formats;    /* code -> name */
    uint64_t seed;
    kt_forms_result res;
};

static void
publish_free(void *p)
{
    struct publish *pb = p;
    json_decref(pb->test);
    json_decref(pb->candidates);
    json_decref(pb->formats);
    kt_forms_result_free(&pb->res);
    free(pb);
}

static void
publish_work(void *arg)
{
    struct publish *pb = arg;
    kt_forms_build(pb->test, pb->candidates, pb->formats, pb->seed, &pb->res);
}

static void
published(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    const char *n = pg_value(q, 0, 0, 0);
    if (!n || strcmp(n, "1") != 0) {
        api_error(req, 409, "already_published", "Đề này đã được phát hành.");
        return;
    }
    api_reply_row(req, q, 1, 200, "Không tìm thấy đề kiểm tra.");
}

static void
publish_done(void *arg)
{
    struct publish *pb = arg;
    http_request *req = pb->req;
    if (pb->res.rc == 1) {
        char msg[200];
        snprintf(msg, sizeof(msg),
                 "Ngân hàng chưa đủ câu hỏi đã duyệt cho %zu dòng của ma trận (xem chi tiết).",
                 json_array_size(pb->res.shortages));
        api_error_details(req, 409, "blueprint_shortage", msg, json_incref(pb->res.shortages));
        return;
    }
    if (pb->res.rc < 0) {
        api_error(req, 422, "invalid_test", "Ma trận đề không hợp lệ; hãy sửa đề rồi phát hành.");
        return;
    }
    char t[24], seed[24], total[24], u[24];
    api_id_text(t, api_param_id(req, 0));
    snprintf(seed, sizeof(seed), "%lld", (long long)pb->seed); /* bigint: same 64 bits */
    api_id_text(total, pb->res.total_points);
    api_id_text(u, req->user->id);
    char *items = json_dumps(pb->res.items, JSON_COMPACT), *forms = json_dumps(pb->res.forms, JSON_COMPACT);
    const char *p[] = {t, seed, total, u, items, forms}, *pv[] = {t};
    pg_query *q = api_query(req);
    pg_query_add(q, "publish_store", 6, p);
    pg_query_add(q, "test_view", 1, pv);
    free(items);
    free(forms);
    api_run(req, q, published);
}

static void
publish_loaded(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    if (pg_ntuples(q, 0) != 1) {
        api_error(req, 404, "not_found", "Không tìm thấy đề kiểm tra.");
        return;
    }
    if (strcmp(pg_value(q, 0, 0, 0), "draft") != 0) {
        api_error(req, 409, "already_published", "Đề này đã được phát hành.");
        return;
    }
    struct publish *pb = calloc(1, sizeof(*pb));
    if (!pb)
        abort();
    pb->req = req;
    req->ctx = pb;
    req->ctx_free = publish_free;
    pb->test = json_pack("{s:s,s:i,s:i,s:o?,s:s,s:s,s:i}", "subject", pg_value(q, 0, 0, 1),
                         "grade", atoi(pg_value(q, 0, 0, 2)), "forms", atoi(pg_value(q, 0, 0, 3)),
                         "blueprint", json_loads(pg_value(q, 0, 0, 4), 0, NULL), "title",
                         pg_value(q, 0, 0, 5), "kind", pg_value(q, 0, 0, 6), "duration_seconds",
                         atoi(pg_value(q, 0, 0, 7)));
    pb->candidates = json_array();
    for (int r = 0; r < pg_ntuples(q, 1); r++)
        json_array_append_new(
            pb->candidates,
            json_pack("{s:I,s:i,s:o?,s:s,s:o?,s:I}", "id",
                      (json_int_t)strtoll(pg_value(q, 1, r, 0), NULL, 10), "version",
                      atoi(pg_value(q, 1, r, 1)), "tags", json_loads(pg_value(q, 1, r, 2), 0, NULL),
                      "kind", pg_value(q, 1, r, 3), "content",
                      json_loads(pg_value(q, 1, r, 4), 0, NULL), "uses",
                      (json_int_t)strtoll(pg_value(q, 1, r, 5), NULL, 10)));
    pb->formats = json_object();
    for (int r = 0; r < pg_ntuples(q, 2); r++)
        json_object_set_new(pb->formats, pg_value(q, 2, r, 0), json_string(pg_value(q, 2, r, 1)));
    randombytes_buf(&pb->seed, sizeof(pb->seed));
    kt_cpu_submit(req->worker->base, publish_work, publish_done, pb);
}

/* The candidates query needs the test's subject and grade, so the test is
 * read first, then everything else in one pipeline. */
static void
publish_test_read(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    if (pg_ntuples(q, 0) != 1) {
        api_error(req, 404, "not_found", "Không tìm thấy đề kiểm tra.");
        return;
    }
    char t[24];
    api_id_text(t, api_param_id(req, 0));
    const char *pt[] = {t}, *pc[] = {pg_value(q, 0, 0, 1), pg_value(q, 0, 0, 2)};
    pg_query *q2 = api_query(req);
    pg_query_add(q2, "publish_test", 1, pt);
    pg_query_add(q2, "publish_candidates", 2, pc);
    pg_query_add(q2, "publish_formats", 0, NULL);
    api_run(req, q2, publish_loaded);
}

void
h_test_publish(http_request *req)
{
    int64_t id = api_param_id(req, 0);
    if (id <= 0) {
        api_error(req, 404, "not_found", "Không tìm thấy đề kiểm tra.");
        return;
    }
    char t[24];
    api_id_text(t, id);
    const char *p[] = {t};
    pg_query *q = api_query(req);
    pg_query_add(q, "publish_test", 1, p);
    api_run(req, q, publish_test_read);
}

/* ------------------------------------------------------------------------ */
/* Sessions                                                                 */

static void
session_created(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    if (pg_ntuples(q, 0) == 1) {
        api_reply_row(req, q, 0, 201, "Không tìm thấy buổi kiểm tra vừa tạo.");
        return;
    }
    const char *status = pg_value(q, 1, 0, 0);
    if (!status)
        api_error(req, 404, "not_found", "Không tìm thấy đề kiểm tra.");
    else if (strcmp(status, "published") != 0)
        api_error(req, 409, "not_published", "Hãy phát hành đề trước khi mở buổi kiểm tra.");
    else
        api_error(req, 422, "invalid_classes", "Có lớp không thuộc trường hoặc không tồn tại.");
}

void
h_session_create(http_request *req)
{
    json_t *b = api_body_object(req);
    if (!b)
        return;
    json_t *cls = json_object_get(b, "class_ids");
    const char *opens = json_string_value(json_object_get(b, "opens_at"));
    const char *closes = json_string_value(json_object_get(b, "closes_at"));
    const char *bad = NULL;
    if (!json_is_array(cls) || json_array_size(cls) == 0 || json_array_size(cls) > MAX_CLASSES)
        bad = "class_ids phải là danh sách 1 đến 100 mã lớp.";
    else if (!opens || !closes || strlen(opens) > 40 || strlen(closes) > 40)
        bad = "opens_at và closes_at phải là thời điểm ISO 8601, ví dụ 2026-12-01T07:30:00+07:00.";
    char arr[MAX_CLASSES * 21 + 3] = "{";
    size_t i;
    json_t *v;
    json_array_foreach(cls, i, v)
    {
        if (bad)
            break;
        if (!json_is_integer(v) || json_integer_value(v) <= 0) {
            bad = "class_ids phải là các số nguyên dương.";
            break;
        }
        char one[24];
        snprintf(one, sizeof(one), "%s%lld", i ? "," : "", (long long)json_integer_value(v));
        strcat(arr, one);
    }
    strcat(arr, "}");
    if (bad) {
        json_decref(b);
        api_error(req, 400, "invalid_session", bad);
        return;
    }
    char t[24], u[24];
    api_id_text(t, api_param_id(req, 0));
    api_id_text(u, req->user->id);
    const char *p[] = {t, arr, opens, closes, u}, *pw[] = {t, arr};
    pg_query *q = api_query(req);
    pg_query_add(q, "session_create", 5, p);
    pg_query_add(q, "session_create_why", 2, pw);
    json_decref(b);
    api_run(req, q, session_created);
}

static void
me_sessions_done(http_request *req, pg_query *q)
{
    api_reply_row(req, q, 0, 200, "Không có buổi kiểm tra nào.");
}

void
h_me_sessions(http_request *req)
{
    char u[24];
    api_id_text(u, req->user->id);
    const char *p[] = {u};
    pg_query *q = api_query(req);
    pg_query_add(q, "me_sessions", 1, p);
    api_run(req, q, me_sessions_done);
}

static void
released(http_request *req, pg_query *q)
{
    api_reply_row(req, q, 1, 200, "Không tìm thấy buổi kiểm tra.");
}

void
h_session_release(http_request *req)
{
    char s[24], u[24];
    api_id_text(s, api_param_id(req, 0));
    api_id_text(u, req->user->id);
    const char *p[] = {s, u}, *pv[] = {s};
    pg_query *q = api_query(req);
    pg_query_add(q, "session_release", 2, p);
    pg_query_add(q, "session_view", 1, pv);
    api_run(req, q, released);
}

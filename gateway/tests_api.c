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
#include "sessions.h"
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
    " 'archived_at', t.archived_at,"                                                              \
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
     "WITH t AS (SELECT id, school_id, subject FROM tests WHERE id = $1::bigint"
     "  AND status = 'published' AND archived_at IS NULL" /* 0023: window fits the test */
     "  AND $4::timestamptz - $3::timestamptz >= make_interval(secs => duration_seconds)),"
     /* A teacher teaches the test's subject to every class, or KT403 (0021). */
     " c AS (SELECT c.id FROM classes c LEFT JOIN t ON true WHERE c.id = ANY ($2::bigint[])"
     "  AND (t.id IS NULL OR kt_require_class(c.id, t.subject))),"
     " s AS (INSERT INTO sessions (school_id, test_id, opens_at, closes_at, created_by,"
     "  access_code, allowed_cidrs)" /* exam-room controls (0025) */
     "  SELECT t.school_id, t.id, $3::timestamptz, $4::timestamptz, $5::bigint, $6::text,"
     "  (SELECT array_agg(DISTINCT network(x::inet)) FROM unnest($7::text[]) x) FROM t"
     "  WHERE (SELECT count(*) FROM c) = cardinality($2::bigint[])"
     "  RETURNING id, school_id, access_code, allowed_cidrs),"
     " sc AS (INSERT INTO session_classes (session_id, class_id, school_id)"
     "  SELECT s.id, c.id, s.school_id FROM s, c RETURNING class_id)"
     " SELECT json_build_object('id', s.id, 'test_id', $1::bigint, 'opens_at', $3::timestamptz,"
     "  'closes_at', $4::timestamptz, 'results_released', false,"
     "  'access_code', s.access_code, 'allowed_cidrs', s.allowed_cidrs,"
     "  'class_ids', (SELECT json_agg(class_id ORDER BY class_id) FROM sc))::text FROM s"},
    /* Whether the window ($2, $3) holds the test's duration, and whether the
     * test is archived (0023). */
    {"session_create_window",
     "SELECT duration_seconds, $3::timestamptz - $2::timestamptz"
     " >= make_interval(secs => duration_seconds), archived_at IS NOT NULL"
     " FROM tests WHERE id = $1::bigint"},
    {"session_create_why",
     "SELECT (SELECT status FROM tests WHERE id = $1::bigint),"
     " (SELECT count(*) FROM classes WHERE id = ANY ($2::bigint[]))"},
    {"session_view",
     "SELECT json_build_object('id', s.id, 'test_id', s.test_id, 'opens_at', s.opens_at,"
     " 'closes_at', s.closes_at, 'results_released', s.results_released,"
     " 'release_show', s.release_show,"
     " 'class_ids', (SELECT json_agg(class_id ORDER BY class_id) FROM session_classes"
     "   WHERE session_id = s.id))::text FROM sessions s WHERE s.id = $1::bigint"},
    {"me_sessions",
     "SELECT coalesce(json_agg(json_build_object('id', s.id, 'test_id', t.id,"
     " 'title', t.title, 'subject', t.subject, 'grade', t.grade, 'kind', t.kind,"
     " 'duration_seconds', t.duration_seconds, 'opens_at', s.opens_at, 'closes_at', s.closes_at,"
     " 'open', now() >= s.opens_at AND now() < s.closes_at,"
     " 'attempt', (SELECT json_build_object('id', a.id, 'status', a.status)"
     "   FROM attempts a WHERE a.session_id = s.id AND a.student_id = $1::bigint),"
     " 'results_released', s.results_released, 'cancelled', s.cancelled_at IS NOT NULL,"
     " 'needs_access_code', s.access_code IS NOT NULL," /* never the code itself (0025) */
     " 'items_total', (SELECT count(*) FROM test_items ti WHERE ti.test_id = t.id))"
     " ORDER BY s.opens_at, s.id), '[]')::text"
     " FROM sessions s JOIN tests t ON t.id = s.test_id"
     " WHERE s.closes_at > now() - interval '30 days'"
     /* A cancelled session (0023) is offered no more; an attempt begun in it stays. */
     "   AND (s.cancelled_at IS NULL OR EXISTS (SELECT 1 FROM attempts a"
     "     WHERE a.session_id = s.id AND a.student_id = $1::bigint))"
     "   AND EXISTS (SELECT 1 FROM session_classes sc JOIN class_members cm"
     "     ON cm.class_id = sc.class_id AND cm.user_id = $1::bigint WHERE sc.session_id = s.id)"},
    /* $3: what the students see besides their scores (0027); releasing
     * again with another level changes it. */
    {"session_release",
     "WITH o AS (SELECT id, release_show FROM sessions WHERE id = $1::bigint),"
     " u AS (UPDATE sessions s SET results_released = true, released_at = now(),"
     "   release_show = $3::text FROM o"
     "  WHERE s.id = o.id AND (NOT s.results_released OR s.release_show <> $3::text)"
     "   AND kt_require_session(s.id)"
     "  RETURNING s.id, s.school_id, o.release_show AS old_show)"
     " INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, old_value,"
     "  new_value)"
     " SELECT school_id, $2::bigint, 'session.release', 'session', id::text,"
     "  jsonb_build_object('show', old_show), jsonb_build_object('show', $3::text)"
     " FROM u RETURNING 1"},
};

static void tests_manage_register(void);

void
kt_tests_register(void)
{
    pg_register_statements(test_stmts, (int)(sizeof(test_stmts) / sizeof(test_stmts[0])));
    tests_manage_register();
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

/* Every problem of a test body as [{field, message}]. partial (PATCH): a
 * field that is absent is not a problem; the blueprint is then checked
 * against the number of forms given, else 1. */
static json_t *
test_problems(const json_t *b, int partial)
{
    json_t *problems = json_array();
    const char *title = json_string_value(json_object_get(b, "title"));
    const char *subject = json_string_value(json_object_get(b, "subject"));
    const char *kind = json_string_value(json_object_get(b, "kind"));
    json_t *grade = json_object_get(b, "grade"), *dur = json_object_get(b, "duration_seconds");
    json_t *forms = json_object_get(b, "forms");
#define CHECKED(name) (!partial || json_object_get(b, name))
    if (CHECKED("title") && (!title || !*title || strlen(title) > TITLE_MAX))
        problem(problems, "title", "Tên đề (title) bắt buộc, tối đa 300 ký tự.");
    if (CHECKED("subject") && (!subject || !kt_item_code_valid(subject)))
        problem(problems, "subject", "Môn học (subject) phải là mã môn, ví dụ TOAN.");
    if (CHECKED("grade") &&
        (!json_is_integer(grade) || json_integer_value(grade) < 1 || json_integer_value(grade) > 12))
        problem(problems, "grade", "Khối lớp (grade) phải từ 1 đến 12.");
    if (CHECKED("kind") &&
        (!kind || (strcmp(kind, "tx") != 0 && strcmp(kind, "gk") != 0 && strcmp(kind, "ck") != 0)))
        problem(problems, "kind", "Loại bài (kind) phải là tx, gk hoặc ck.");
    if (CHECKED("duration_seconds") &&
        (!json_is_integer(dur) || json_integer_value(dur) < 60 || json_integer_value(dur) > 14400))
        problem(problems, "duration_seconds", "Thời gian làm bài phải từ 60 đến 14400 giây.");
    int nforms = json_is_integer(forms) ? (int)json_integer_value(forms) : 0;
    if (CHECKED("forms") && (!json_is_integer(forms) || nforms < 1 || nforms > KT_ASM_MAX_FORMS))
        problem(problems, "forms", "Số mã đề (forms) phải từ 1 đến 99.");
    if (CHECKED("blueprint")) {
        size_t ncells = 0;
        kt_bp_cell *cells =
            kt_forms_cells(json_object_get(b, "blueprint"), nforms ? nforms : 1, problems, &ncells);
        free(cells);
    }
#undef CHECKED
    return problems;
}

/* The blueprint as stored: points as decimal strings. malloc'd. */
static char *
blueprint_text(const json_t *blueprint)
{
    json_t *bp = json_deep_copy(blueprint);
    size_t i;
    json_t *row;
    json_array_foreach(bp, i, row)
    {
        json_object_set_new(row, "points",
                            kt_forms_points_json(kt_forms_points(json_object_get(row, "points"))));
    }
    char *bps = json_dumps(bp, JSON_COMPACT);
    json_decref(bp);
    return bps;
}

void
h_test_create(http_request *req)
{
    json_t *b = api_body_object(req);
    if (!b)
        return;
    json_t *problems = test_problems(b, 0);
    json_t *grade = json_object_get(b, "grade"), *dur = json_object_get(b, "duration_seconds");
    int nforms = (int)json_integer_value(json_object_get(b, "forms"));
    const char *title = json_string_value(json_object_get(b, "title"));
    const char *subject = json_string_value(json_object_get(b, "subject"));
    const char *kind = json_string_value(json_object_get(b, "kind"));
    if (json_array_size(problems)) {
        char msg[160];
        snprintf(msg, sizeof(msg), "Đề kiểm tra chưa hợp lệ: có %zu lỗi cần sửa (xem chi tiết).",
                 json_array_size(problems));
        api_error_details(req, 422, "invalid_test", msg, problems);
        json_decref(b);
        return;
    }
    json_decref(problems);
    char *bps = blueprint_text(json_object_get(b, "blueprint"));
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
        api_db_error_doing(req, q, "mở phiên kiểm tra cho lớp này");
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
    else if (pg_ntuples(q, 2) == 1 && pg_value(q, 2, 0, 2)[0] == 't')
        api_error(req, 409, "test_archived",
                  "Đề này đã được lưu trữ; hãy bỏ lưu trữ đề trước khi mở buổi kiểm tra.");
    else if (pg_ntuples(q, 2) == 1 && pg_value(q, 2, 0, 1)[0] != 't') {
        json_t *problems = json_array();
        kt_session_short_window_problem(problems, atol(pg_value(q, 2, 0, 0)));
        api_error_details(req, 422, "invalid_session",
                          "Buổi kiểm tra chưa hợp lệ (xem chi tiết từng trường).", problems);
    } else
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
    /* Every problem of the body, each naming its field (0023). */
    json_t *problems = json_array();
    int64_t opens_s, closes_s;
    kt_session_window_problems(b, 1, problems, &opens_s, &closes_s);
    if (!json_is_array(cls) || json_array_size(cls) == 0 || json_array_size(cls) > MAX_CLASSES)
        bad = "class_ids phải là danh sách 1 đến 100 mã lớp.";
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
    if (bad)
        json_array_insert_new(problems, 0,
                              json_pack("{s:s,s:s}", "field", "class_ids", "message", bad));
    struct kt_session_room room;
    kt_session_room_fields(b, problems, &room);
    if (json_array_size(problems)) {
        json_decref(b);
        api_error_details(req, 422, "invalid_session",
                          "Buổi kiểm tra chưa hợp lệ (xem chi tiết từng trường).", problems);
        return;
    }
    json_decref(problems);
    char t[24], u[24];
    api_id_text(t, api_param_id(req, 0));
    api_id_text(u, req->user->id);
    const char *p[] = {t,
                       arr,
                       opens,
                       closes,
                       u,
                       room.code[0] ? room.code : NULL,
                       room.cidrs_set ? room.cidrs : NULL},
               *pw[] = {t, arr}, *pn[] = {t, opens, closes};
    pg_query *q = api_query(req);
    pg_query_add(q, "session_create", 7, p);
    pg_query_add(q, "session_create_why", 2, pw);
    pg_query_add(q, "session_create_window", 3, pn);
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
    if (q->status != PG_OK) {
        api_db_error_doing(req, q, "công bố kết quả của buổi kiểm tra này");
        return;
    }
    api_reply_row(req, q, 1, 200, "Không tìm thấy buổi kiểm tra.");
}

/* The body is optional: {show: "score" | "answers" | "explanations"}, by
 * default "score" (the scores and each question's points only). */
void
h_session_release(http_request *req)
{
    const char *show = "score";
    if (req->body && req->body_len > 0 && req->body[strspn(req->body, " \t\r\n")]) {
        json_t *b = api_body_object(req);
        if (!b)
            return;
        const json_t *v = json_object_get(b, "show");
        const char *t = json_string_value(v);
        if (v && !(t && (strcmp(t, "score") == 0 || strcmp(t, "answers") == 0 ||
                         strcmp(t, "explanations") == 0))) {
            json_decref(b);
            api_error_details(req, 422, "invalid_show",
                              "Mục công bố (show) phải là \"score\" (chỉ điểm), \"answers\""
                              " (điểm và đáp án) hoặc \"explanations\" (điểm, đáp án và lời giải).",
                              json_pack("[{s:s,s:s}]", "field", "show", "message",
                                        "Chọn chỉ điểm, điểm và đáp án, hoặc điểm, đáp án và"
                                        " lời giải."));
            return;
        }
        if (t)
            show = strcmp(t, "answers") == 0 ? "answers"
                   : strcmp(t, "explanations") == 0 ? "explanations" : "score";
        json_decref(b);
    }
    char s[24], u[24];
    api_id_text(s, api_param_id(req, 0));
    api_id_text(u, req->user->id);
    const char *p[] = {s, u, show}, *pv[] = {s};
    pg_query *q = api_query(req);
    pg_query_add(q, "session_release", 3, p);
    pg_query_add(q, "session_view", 1, pv);
    api_run(req, q, released);
}

/* ======================================================================== */
/* Managing tests: the list, editing a draft, archiving, deleting a test    */
/* never taken, a blueprint's availability, a form's preview with its key. */

static const struct pg_stmt_def manage_stmts[] = {
    /* $1 after id (0: first page), $2 status, $3 subject, $4 grade,
     * $5 archived, $6 limit; newest first -> (rows, last id when more). */
    {"tests_list",
     "WITH page AS (SELECT t.id FROM tests t"
     " WHERE ($1::bigint = 0 OR t.id < $1::bigint)"
     "  AND ($2::text IS NULL OR t.status = $2::text)"
     "  AND ($3::text IS NULL OR t.subject = $3::text)"
     "  AND ($4::smallint IS NULL OR t.grade = $4::smallint)"
     "  AND (t.archived_at IS NOT NULL) = $5::boolean"
     " ORDER BY t.id DESC LIMIT $6::integer + 1),"
     " shown AS (SELECT id FROM page ORDER BY id DESC LIMIT $6::integer)"
     " SELECT coalesce((SELECT json_agg(json_build_object('id', t.id, 'title', t.title,"
     "  'subject', t.subject, 'grade', t.grade, 'kind', t.kind,"
     "  'duration_seconds', t.duration_seconds, 'forms', t.forms, 'status', t.status,"
     "  'navigation_mode', t.navigation_mode, 'source_qti_test_id', t.source_qti_test_id,"
     "  'total_points', round(t.total_points::numeric / 100, 2)::text,"
     "  'created_by', t.created_by, 'created_by_name', u.full_name, 'created_at', t.created_at,"
     "  'published_at', t.published_at, 'archived_at', t.archived_at,"
     "  'session_count', (SELECT count(*) FROM sessions s WHERE s.test_id = t.id),"
     "  'attempt_count', (SELECT count(*) FROM attempts a JOIN sessions s ON s.id = a.session_id"
     "    WHERE s.test_id = t.id)) ORDER BY t.id DESC)"
     "  FROM tests t LEFT JOIN users u ON u.id = t.created_by"
     "  WHERE t.id IN (SELECT id FROM shown)), '[]')::text,"
     "  CASE WHEN (SELECT count(*) FROM page) > $6::integer THEN (SELECT min(id) FROM shown) END"},
    /* $1 test, $2..$8 new values (NULL: unchanged), $9 actor; drafts only. */
    {"test_patch",
     "WITH u AS (UPDATE tests SET title = coalesce($2::text, title),"
     "  subject = coalesce($3::text, subject), grade = coalesce($4::smallint, grade),"
     "  kind = coalesce($5::text, kind), duration_seconds = coalesce($6::integer, duration_seconds),"
     "  forms = coalesce($7::smallint, forms), blueprint = coalesce($8::jsonb, blueprint)"
     "  WHERE id = $1::bigint AND status = 'draft' RETURNING id, school_id)"
     " INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, new_value)"
     " SELECT school_id, $9::bigint, 'test.edit', 'test', id::text,"
     "  jsonb_strip_nulls(jsonb_build_object('title', $2::text, 'subject', $3::text,"
     "   'grade', $4::smallint, 'kind', $5::text, 'duration_seconds', $6::integer,"
     "   'forms', $7::smallint, 'blueprint', $8::jsonb)) FROM u RETURNING 1"},
    /* A session not cancelled that has not closed keeps its test out of the
     * archive. -> (busy) */
    {"test_archive",
     "WITH t AS (SELECT x.id, x.school_id, x.archived_at, EXISTS (SELECT 1 FROM sessions s"
     "   WHERE s.test_id = x.id AND s.cancelled_at IS NULL AND s.closes_at > now()) AS busy"
     "  FROM tests x WHERE x.id = $1::bigint FOR UPDATE),"
     " u AS (UPDATE tests x SET archived_at = now(), archived_by = $2::bigint FROM t"
     "  WHERE x.id = t.id AND t.archived_at IS NULL AND NOT t.busy RETURNING x.id, x.school_id),"
     " a AS (INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id)"
     "  SELECT school_id, $2::bigint, 'test.archive', 'test', id::text FROM u RETURNING 1)"
     " SELECT t.busy AND t.archived_at IS NULL FROM t"},
    {"test_unarchive",
     "WITH u AS (UPDATE tests SET archived_at = NULL, archived_by = NULL"
     "  WHERE id = $1::bigint AND archived_at IS NOT NULL RETURNING id, school_id)"
     " INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id)"
     " SELECT school_id, $2::bigint, 'test.unarchive', 'test', id::text FROM u RETURNING 1"},
    /* Holds the test (and so its sessions' forms against new starts, whose
     * foreign keys wait) for the check and the deletion. */
    {"test_delete_lock", "SELECT kt_test_taken(id) FROM tests WHERE id = $1::bigint FOR UPDATE"},
    /* The test with its forms, items and sessions (ON DELETE CASCADE,
     * allowed by the triggers of 0023 only when no attempt exists). */
    {"test_delete",
     "WITH t AS (SELECT x.id, x.school_id, x.title, x.status,"
     "   (SELECT count(*) FROM test_forms f WHERE f.test_id = x.id) AS forms,"
     "   (SELECT count(*) FROM test_items i WHERE i.test_id = x.id) AS items,"
     "   (SELECT count(*) FROM sessions s WHERE s.test_id = x.id) AS sessions"
     "  FROM tests x WHERE x.id = $1::bigint AND NOT kt_test_taken(x.id)),"
     " d AS (DELETE FROM tests x USING t WHERE x.id = t.id RETURNING x.id),"
     " a AS (INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, old_value)"
     "  SELECT t.school_id, $2::bigint, 'test.delete', 'test', t.id::text,"
     "  jsonb_build_object('title', t.title, 'status', t.status, 'forms', t.forms,"
     "   'items', t.items, 'sessions', t.sessions) FROM t JOIN d ON d.id = t.id RETURNING 1)"
     " SELECT json_build_object('id', t.id, 'deleted', true, 'forms', t.forms, 'items', t.items,"
     "  'sessions', t.sessions)::text FROM t JOIN d ON d.id = t.id"},
    /* One form as the students of it get it (its payload: items in the
     * form's order, options in its shuffled order), each item with the key
     * of the version that scores it, the key as the letters shown
     * (options A, B, ... and statements a, b, ... by position), points
     * and explanation. */
    {"test_form_preview",
     "SELECT json_build_object('test_id', t.id, 'title', t.title, 'subject', t.subject,"
     " 'grade', t.grade, 'kind', t.kind, 'duration_seconds', t.duration_seconds,"
     " 'form_code', f.code, 'form_index', f.form_index,"
     " 'form_codes', (SELECT json_agg(g.code ORDER BY g.form_index) FROM test_forms g"
     "   WHERE g.test_id = t.id),"
     " 'total_points', f.payload->'test'->'total_points', 'parts', f.payload->'parts',"
     " 'items', (SELECT coalesce(json_agg(e.it || jsonb_strip_nulls(jsonb_build_object("
     "   'item_id', ti.item_id, 'version', ti.version, 'scoring_version', ti.scoring_version,"
     "   'row', ti.cell + 1,"
     "   'key', v.scoring->'key', 'keys', v.scoring->'keys',"
     "   'statement_keys', v.scoring->'statement_keys', 'tolerance', v.scoring->'tolerance',"
     "   'answer_type', v.scoring->'answer_type', 'scoring_mode', v.scoring->'scoring_mode',"
     "   'score_table', v.scoring->'score_table', 'explanation', v.scoring->'explanation',"
     "   'model_answer', v.scoring->'model_answer', 'rubric', v.scoring->'rubric',"
     "   'key_shown', kt_key_shown(v.kind, e.it, v.scoring))) ORDER BY e.ord), '[]')"
     "   FROM jsonb_array_elements(f.payload->'items') WITH ORDINALITY e(it, ord)"
     "   LEFT JOIN test_items ti ON ti.test_id = t.id AND ti.item_ref = e.it->>'ref'"
     "   LEFT JOIN item_versions v ON v.item_id = ti.item_id AND v.version = ti.scoring_version)"
     ")::text FROM tests t JOIN test_forms f ON f.test_id = t.id AND f.code = $2::text"
     " WHERE t.id = $1::bigint"},
};

static void
tests_manage_register(void)
{
    pg_register_statements(manage_stmts, (int)(sizeof(manage_stmts) / sizeof(manage_stmts[0])));
}

/* ------------------------------------------------------------------------ */
/* GET /api/v1/tests                                                        */

static void
tests_listed(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    const char *j = pg_value(q, 0, 0, 0), *last = pg_value(q, 0, 0, 1);
    json_t *rows = json_loads(j ? j : "[]", 0, NULL);
    json_t *next = json_null();
    if (last) {
        char c[80];
        kt_cursor_encode('t', last, c, sizeof(c));
        json_decref(next);
        next = json_string(c);
    }
    api_json(req, 200,
             json_pack("{s:o,s:o}", "tests", rows ? rows : json_array(), "next_cursor", next));
}

void
h_tests_list(http_request *req)
{
    char *status = api_query_text(req, "status"), *subject = api_query_text(req, "subject"),
         *grade = api_query_text(req, "grade"), *archived = api_query_text(req, "archived"),
         *limit = api_query_text(req, "limit"), *cursor = api_query_text(req, "cursor");
    const char *bad = NULL;
    long long after = 0;
    if (status && strcmp(status, "draft") != 0 && strcmp(status, "published") != 0)
        bad = "Tham số status phải là draft hoặc published.";
    if (subject && !kt_item_code_valid(subject))
        bad = "Tham số subject phải là mã môn viết in hoa (ví dụ TOAN).";
    if (grade && api_bounded(grade, 1, 12) < 0)
        bad = "Tham số grade phải là số từ 1 đến 12.";
    if (archived && strcmp(archived, "0") != 0 && strcmp(archived, "1") != 0)
        bad = "Tham số archived phải là 0 (đề đang dùng) hoặc 1 (đề đã lưu trữ).";
    long n = limit ? api_bounded(limit, 1, 100) : 20;
    if (n < 0)
        bad = "Tham số limit phải là số từ 1 đến 100.";
    if (cursor && (after = kt_cursor_decode('t', cursor)) < 0)
        bad = "Tham số cursor không hợp lệ; hãy dùng đúng giá trị next_cursor đã nhận.";
    if (bad) {
        api_error(req, 400, "invalid_parameter", bad);
    } else {
        char a[24], lim[24];
        snprintf(a, sizeof(a), "%lld", after);
        snprintf(lim, sizeof(lim), "%ld", n);
        const char *p[] = {a, status, subject, grade,
                           archived && archived[0] == '1' ? "true" : "false", lim};
        pg_query *pq = api_query(req);
        pg_query_add(pq, "tests_list", 6, p);
        api_run(req, pq, tests_listed);
    }
    free(status);
    free(subject);
    free(grade);
    free(archived);
    free(limit);
    free(cursor);
}

/* ------------------------------------------------------------------------ */
/* PATCH /api/v1/tests/{id}                                                 */

static void
test_patched(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    if (pg_ntuples(q, 0) == 1)
        api_reply_row(req, q, 1, 200, "Không tìm thấy đề kiểm tra.");
    else if (pg_ntuples(q, 1) != 1 || !pg_value(q, 1, 0, 0))
        api_error(req, 404, "not_found", "Không tìm thấy đề kiểm tra.");
    else
        api_error(req, 409, "already_published",
                  "Đề đã phát hành nên không sửa được; hãy tạo đề mới (đề chưa ai làm thì xoá "
                  "được).");
}

void
h_test_patch(http_request *req)
{
    int64_t id = api_param_id(req, 0);
    if (id <= 0) {
        api_error(req, 404, "not_found", "Không tìm thấy đề kiểm tra.");
        return;
    }
    json_t *b = api_body_object(req);
    if (!b)
        return;
    static const char *const editable[] = {"title", "subject", "grade", "kind",
                                           "duration_seconds", "forms", "blueprint"};
    int any = 0;
    for (size_t k = 0; k < sizeof(editable) / sizeof(editable[0]); k++)
        any |= json_object_get(b, editable[k]) != NULL;
    json_t *problems = any ? test_problems(b, 1) : json_array();
    if (!any)
        problem(problems, "title",
                "Không có gì để sửa: hãy gửi title, subject, grade, kind, duration_seconds, forms "
                "hoặc blueprint.");
    if (json_array_size(problems)) {
        char msg[160];
        snprintf(msg, sizeof(msg), "Đề kiểm tra chưa hợp lệ: có %zu lỗi cần sửa (xem chi tiết).",
                 json_array_size(problems));
        api_error_details(req, 422, "invalid_test", msg, problems);
        json_decref(b);
        return;
    }
    json_decref(problems);
    char t[24], u[24], g[8], d[16], f[8];
    api_id_text(t, id);
    api_id_text(u, req->user->id);
    json_t *gv = json_object_get(b, "grade"), *dv = json_object_get(b, "duration_seconds"),
           *fv = json_object_get(b, "forms"), *bpv = json_object_get(b, "blueprint");
    snprintf(g, sizeof(g), "%d", (int)json_integer_value(gv));
    snprintf(d, sizeof(d), "%d", (int)json_integer_value(dv));
    snprintf(f, sizeof(f), "%d", (int)json_integer_value(fv));
    char *bps = bpv ? blueprint_text(bpv) : NULL;
    const char *p[] = {t,
                       json_string_value(json_object_get(b, "title")),
                       json_string_value(json_object_get(b, "subject")),
                       gv ? g : NULL,
                       json_string_value(json_object_get(b, "kind")),
                       dv ? d : NULL,
                       fv ? f : NULL,
                       bps,
                       u};
    const char *pv[] = {t};
    pg_query *q = api_query(req);
    pg_query_add(q, "test_patch", 9, p);
    pg_query_add(q, "test_view", 1, pv);
    free(bps);
    json_decref(b);
    api_run(req, q, test_patched);
}

/* ------------------------------------------------------------------------ */
/* POST /api/v1/tests/{id}/archive, /unarchive                              */

static void
test_archived(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    const char *busy = pg_ntuples(q, 0) == 1 ? pg_value(q, 0, 0, 0) : NULL;
    if (busy && busy[0] == 't')
        api_error(req, 409, "session_open",
                  "Đề đang có buổi kiểm tra chưa kết thúc; hãy chờ buổi đó kết thúc hoặc huỷ buổi "
                  "đó trước khi lưu trữ đề.");
    else
        api_reply_row(req, q, 1, 200, "Không tìm thấy đề kiểm tra.");
}

static void
archive_run(http_request *req, const char *stmt)
{
    int64_t id = api_param_id(req, 0);
    if (id <= 0) {
        api_error(req, 404, "not_found", "Không tìm thấy đề kiểm tra.");
        return;
    }
    char t[24], u[24];
    api_id_text(t, id);
    api_id_text(u, req->user->id);
    const char *p[] = {t, u}, *pv[] = {t};
    pg_query *q = api_query(req);
    pg_query_add(q, stmt, 2, p);
    pg_query_add(q, "test_view", 1, pv);
    api_run(req, q, test_archived);
}

void
h_test_archive(http_request *req)
{
    archive_run(req, "test_archive");
}

void
h_test_unarchive(http_request *req)
{
    archive_run(req, "test_unarchive");
}

/* ------------------------------------------------------------------------ */
/* DELETE /api/v1/tests/{id}                                                */

static void
test_taken(http_request *req)
{
    api_error(req, 409, "test_taken",
              "Đề này đã có học sinh làm bài nên không xoá được; thầy cô có thể lưu trữ đề để ẩn "
              "khỏi danh sách.");
}

static void
test_deleted(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        /* An attempt that began meanwhile: its foreign key (23503) or the
         * trigger (KT412) refused the deletion. */
        if (q->status == PG_ERROR &&
            (strncmp(q->sqlstate, "23503", 5) == 0 || strncmp(q->sqlstate, "KT412", 5) == 0))
            test_taken(req);
        else
            api_db_error(req, q);
        return;
    }
    if (pg_ntuples(q, 0) != 1) {
        api_error(req, 404, "not_found", "Không tìm thấy đề kiểm tra.");
        return;
    }
    if (pg_value(q, 0, 0, 0)[0] == 't' || pg_ntuples(q, 1) != 1) {
        test_taken(req);
        return;
    }
    api_reply_row(req, q, 1, 200, "Không tìm thấy đề kiểm tra.");
}

void
h_test_delete(http_request *req)
{
    int64_t id = api_param_id(req, 0);
    if (id <= 0) {
        api_error(req, 404, "not_found", "Không tìm thấy đề kiểm tra.");
        return;
    }
    char t[24], u[24];
    api_id_text(t, id);
    api_id_text(u, req->user->id);
    const char *pl[] = {t}, *p[] = {t, u};
    pg_query *q = api_query(req);
    pg_query_add(q, "test_delete_lock", 1, pl);
    pg_query_add(q, "test_delete", 2, p);
    api_run(req, q, test_deleted);
}

/* ------------------------------------------------------------------------ */
/* GET /api/v1/tests/{id}/forms/{code}                                      */

static void
form_previewed(http_request *req, pg_query *q)
{
    api_reply_row(req, q, 0, 200, "Không tìm thấy mã đề này của đề kiểm tra.");
}

void
h_test_form(http_request *req)
{
    int64_t id = api_param_id(req, 0);
    const char *code = req->params[1];
    if (id <= 0 || !code || strlen(code) != 3 || code[strspn(code, "0123456789")]) {
        api_error(req, 404, "not_found", "Không tìm thấy mã đề này của đề kiểm tra.");
        return;
    }
    char t[24];
    api_id_text(t, id);
    const char *p[] = {t, code};
    pg_query *q = api_query(req);
    pg_query_add(q, "test_form_preview", 2, p);
    api_run(req, q, form_previewed);
}

/* ------------------------------------------------------------------------ */
/* POST /api/v1/blueprints/availability                                     */

/* The builder's grid before saving: the bank's approved, deliverable items
 * (publish_candidates, the same set publishing draws from) matched to the
 * rows by the assembly code itself, on the CPU pool. */
struct availability {
    http_request *req;
    json_t *blueprint;  /* the body's rows */
    json_t *candidates; /* as for publishing */
    json_t *result;
};

static void
availability_free(void *p)
{
    struct availability *av = p;
    json_decref(av->blueprint);
    json_decref(av->candidates);
    json_decref(av->result);
    free(av);
}

static void
availability_work(void *arg)
{
    struct availability *av = arg;
    av->result = kt_forms_availability(av->blueprint, av->candidates);
}

static void
availability_done(void *arg)
{
    struct availability *av = arg;
    json_t *r = av->result;
    av->result = NULL;
    if (!r)
        api_error(av->req, 500, "internal", "Lỗi nội bộ máy chủ.");
    else
        api_json(av->req, 200, r);
}

static void
availability_loaded(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    struct availability *av = req->ctx;
    av->candidates = json_array();
    for (int r = 0; r < pg_ntuples(q, 0); r++)
        json_array_append_new(
            av->candidates,
            json_pack("{s:I,s:i,s:o?,s:s,s:o?,s:I}", "id",
                      (json_int_t)strtoll(pg_value(q, 0, r, 0), NULL, 10), "version",
                      atoi(pg_value(q, 0, r, 1)), "tags", json_loads(pg_value(q, 0, r, 2), 0, NULL),
                      "kind", pg_value(q, 0, r, 3), "content",
                      json_loads(pg_value(q, 0, r, 4), 0, NULL), "uses",
                      (json_int_t)strtoll(pg_value(q, 0, r, 5), NULL, 10)));
    kt_cpu_submit(req->worker->base, availability_work, availability_done, av);
}

void
h_blueprint_availability(http_request *req)
{
    json_t *b = api_body_object(req);
    if (!b)
        return;
    const char *subject = json_string_value(json_object_get(b, "subject"));
    json_t *grade = json_object_get(b, "grade");
    json_t *problems = json_array();
    if (!subject || !kt_item_code_valid(subject))
        problem(problems, "subject", "Môn học (subject) phải là mã môn, ví dụ TOAN.");
    if (!json_is_integer(grade) || json_integer_value(grade) < 1 || json_integer_value(grade) > 12)
        problem(problems, "grade", "Khối lớp (grade) phải từ 1 đến 12.");
    if (!json_is_array(json_object_get(b, "blueprint")))
        problem(problems, "blueprint", "Ma trận đề (blueprint) phải là một danh sách các dòng.");
    else if (json_array_size(json_object_get(b, "blueprint")) > KT_ASM_MAX_COUNT)
        problem(problems, "blueprint", "Ma trận đề có quá nhiều dòng (tối đa 200).");
    if (json_array_size(problems)) {
        api_error_details(req, 422, "invalid_blueprint",
                          "Chưa xem được số câu có sẵn: hãy sửa các trường trong chi tiết.",
                          problems);
        json_decref(b);
        return;
    }
    json_decref(problems);
    struct availability *av = calloc(1, sizeof(*av));
    if (!av)
        abort();
    av->req = req;
    av->blueprint = json_incref(json_object_get(b, "blueprint"));
    req->ctx = av;
    req->ctx_free = availability_free;
    char g[8];
    snprintf(g, sizeof(g), "%d", (int)json_integer_value(grade));
    const char *p[] = {subject, g};
    pg_query *q = api_query(req);
    pg_query_add(q, "publish_candidates", 2, p);
    json_decref(b);
    api_run(req, q, availability_loaded);
}

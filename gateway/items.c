/*
 * The items API: list and search (tags, diacritic-insensitive text, keyset
 * pagination), the teacher view of one version, creation in the Vietnamese
 * formats and PATCH (a new immutable version and/or a review transition,
 * with optimistic concurrency and an audit row). Validation and the
 * content/scoring split live in itembank/item.c and run on the CPU pool;
 * RLS bounds every query.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api.h"
#include "cpupool.h"
#include "html.h"
#include "item.h"
#include "server.h"

#define LIST_DEFAULT 20
#define LIST_MAX 100
#define MAX_Q_BYTES 200
#define COMMENT_MAX 2000

/* The teacher view of one version; the WHERE clause is appended below. */
#define ITEM_VIEW                                                                                  \
    "SELECT json_build_object('id', i.id, 'identifier', i.identifier, 'subject', i.subject,"      \
    " 'grade', i.grade, 'kind', v.kind, 'status', i.status, 'version', v.version,"                \
    " 'current_version', i.current_version, 'title', v.title, 'tags', v.tags,"                    \
    " 'content', v.content, 'scoring', v.scoring, 'school_id', i.school_id,"                      \
    " 'shared', i.school_id IS NULL,"                                                             \
    " 'author', (SELECT json_build_object('id', u.id, 'username', u.username,"                    \
    "            'full_name', u.full_name) FROM users u WHERE u.id = i.created_by),"              \
    " 'created_by', i.created_by, 'created_at', i.created_at,"                                    \
    " 'version_created_by', v.created_by, 'version_created_at', v.created_at,"                    \
    " 'submitted_by', i.submitted_by, 'submitted_at', i.submitted_at,"                            \
    " 'approved_by', i.approved_by, 'approved_at', i.approved_at,"                                \
    " 'reviewed_by', i.reviewed_by, 'reviewed_at', i.reviewed_at,"                                \
    " 'review_comment', i.review_comment, 'origin', i.origin,"                                    \
    " 'max_score', (SELECT trim_scale(m.max_score)::text FROM item_max_scores m"                  \
    "               WHERE m.item_id = i.id AND m.version = v.version),"                           \
    " 'approved_version', i.approved_version,"                                                    \
    " 'pending', CASE WHEN i.pending_status IS NOT NULL THEN json_build_object("                  \
    "   'version', i.current_version, 'status', i.pending_status) END,"                           \
    " 'versions', (SELECT json_agg(x.version ORDER BY x.version) FROM item_versions x"            \
    "              WHERE x.item_id = i.id))"                                                      \
    " FROM items i JOIN item_versions v ON v.item_id = i.id"

static const struct pg_stmt_def items_stmts[] = {
    /* Keyset page, total and (with $13) counts per status, kind and level in
     * one statement. "base" is every visible item matching the filters other
     * than status, format and level, with those three as flags, so that each
     * count is over the items matching the other filters. */
    {"items_list",
     "WITH base AS MATERIALIZED ("
     " SELECT i.id, i.identifier, i.subject, i.grade, i.status, i.current_version, v.kind,"
     "  v.title, v.tags, i.created_by, i.approved_version, i.review_comment,"
     "  v.created_at AS updated_at,"
     "  ($7::text IS NULL OR i.status::text = $7::text) AS s_ok,"
     "  ($11::text IS NULL OR v.kind = $11::text) AS k_ok,"
     "  ($4::text IS NULL OR v.tags @> ARRAY[$4::text]) AS l_ok"
     " FROM items i JOIN item_versions v ON v.item_id = i.id AND v.version = i.current_version"
     " WHERE ($2::text IS NULL OR i.subject = $2::text)"
     "  AND ($3::smallint IS NULL OR i.grade = $3::smallint)"
     "  AND ($5::text IS NULL OR v.tags @> ARRAY[$5::text])"
     "  AND ($6::text IS NULL OR v.tags @> ARRAY[$6::text])"
     "  AND ($8::text IS NULL OR v.search_folded @@ plainto_tsquery('simple', $8::text))"
     "  AND ($10::text IS NULL OR EXISTS (SELECT 1 FROM unnest(v.tags) t"
     "       WHERE t = $10::text OR left(t, length($10::text) + 1) = $10::text || '.'))"
     "  AND ($12::bigint IS NULL OR i.created_by = $12::bigint)),"
     " page AS (SELECT * FROM base WHERE s_ok AND k_ok AND l_ok AND id > $1::bigint"
     "  ORDER BY id LIMIT $9::integer + 1),"
     " shown AS (SELECT * FROM page ORDER BY id LIMIT $9::integer)"
     " SELECT coalesce((SELECT json_agg(json_build_object('id', p.id, 'identifier', p.identifier,"
     "   'subject', p.subject, 'grade', p.grade, 'kind', p.kind, 'status', p.status,"
     "   'version', p.current_version, 'title', p.title, 'tags', p.tags,"
     "   'author', json_build_object('id', p.created_by, 'full_name', u.full_name),"
     "   'approved_version', p.approved_version, 'review_comment', p.review_comment,"
     "   'updated_at', p.updated_at)"
     "   ORDER BY p.id) FROM shown p LEFT JOIN users u ON u.id = p.created_by), '[]'),"
     "  CASE WHEN (SELECT count(*) FROM page) > $9::integer THEN (SELECT max(id) FROM shown) END,"
     "  (SELECT count(*) FROM base WHERE s_ok AND k_ok AND l_ok),"
     "  CASE WHEN $13::boolean THEN json_build_object("
     "   'status', (SELECT coalesce(json_object_agg(st, n), '{}') FROM (SELECT status::text AS st,"
     "     count(*) AS n FROM base WHERE k_ok AND l_ok GROUP BY 1) x),"
     "   'kind', (SELECT coalesce(json_object_agg(kind, n), '{}') FROM (SELECT kind, count(*) AS n"
     "     FROM base WHERE s_ok AND l_ok GROUP BY 1) x),"
     "   'level', (SELECT coalesce(json_object_agg(lv, n), '{}') FROM (SELECT t AS lv,"
     "     count(DISTINCT id) AS n FROM base, unnest(tags) t"
     "     WHERE s_ok AND k_ok AND t LIKE 'MD.%' GROUP BY 1) x)) END"},
    /* The item's audit rows, newest first; no row when the item is not visible. */
    {"item_history",
     "SELECT coalesce(json_agg(json_build_object('action', a.action,"
     "   'actor', CASE WHEN a.actor_id IS NOT NULL THEN json_build_object('id', a.actor_id,"
     "     'full_name', u.full_name) END, 'at', a.at,"
     "   'version', coalesce(a.new_value->>'version', a.old_value->>'version')::integer,"
     "   'status_from', a.old_value->>'status', 'status_to', a.new_value->>'status',"
     "   'comment', a.new_value->>'comment', 'old_value', a.old_value, 'new_value', a.new_value)"
     "   ORDER BY a.at DESC, a.id DESC) FILTER (WHERE a.id IS NOT NULL), '[]')"
     " FROM items i LEFT JOIN audit_log a ON a.entity = 'item' AND a.entity_id = i.id::text"
     " LEFT JOIN users u ON u.id = a.actor_id"
     " WHERE i.id = $1::bigint GROUP BY i.id"},
    {"item_get",
     ITEM_VIEW " AND v.version = coalesce($2::integer, i.current_version) WHERE i.id = $1::bigint"},
    {"item_get_new", ITEM_VIEW " AND v.version = i.current_version"
                               " WHERE i.id = currval('items_id_seq')"},
    /* $13: the media/ images of the HTML (kt_item_media_refs), each checked to
     * be an upload of the school (KT422 otherwise) and copied with the version. */
    {"item_create",
     "WITH i AS (INSERT INTO items (province_id, school_id, identifier, subject, grade, status,"
     "   current_version, created_by)"
     "  SELECT $1::bigint, $2::bigint, $3::text, $4::text, $5::smallint, 'draft', 1, $6::bigint"
     "  WHERE kt_require_subject($4::text) AND kt_media_require($13::jsonb)"
     "  RETURNING id, province_id, school_id),"
     " v AS (INSERT INTO item_versions (item_id, version, province_id, school_id, kind, title,"
     "   content, scoring, tags, search_text, created_by)"
     "  SELECT id, 1, province_id, school_id, $7::text, $8::text, $9::jsonb, $10::jsonb,"
     "   ARRAY(SELECT jsonb_array_elements_text($11::jsonb)), $12::text, $6::bigint FROM i"
     "  RETURNING item_id),"
     " ma AS (INSERT INTO item_assets (item_id, version, school_id, province_id, path,"
     "   content_type, data)"
     "  SELECT i.id, 1, i.school_id, i.province_id, m.path, m.content_type, m.data"
     "  FROM i JOIN v ON v.item_id = i.id JOIN media m ON m.school_id = i.school_id"
     "  WHERE m.path IN (SELECT jsonb_array_elements_text($13::jsonb)))"
     " INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, new_value)"
     " SELECT i.school_id, $6::bigint, 'item.create', 'item', i.id::text,"
     "  jsonb_build_object('identifier', $3::text, 'version', 1, 'status', 'draft')"
     " FROM i JOIN v ON v.item_id = i.id"},
    {"item_for_update",
     "SELECT i.school_id, i.subject, i.status, i.current_version, i.created_by, v.kind, v.title,"
     " v.content::text, v.scoring::text, to_json(v.tags)::text, i.identifier, i.grade,"
     " (SELECT u.subject FROM users u WHERE u.id = $2::bigint), i.pending_status"
     " FROM items i JOIN item_versions v ON v.item_id = i.id AND v.version = i.current_version"
     " WHERE i.id = $1::bigint"},
    /* Guarded by the version and status that were read: 0 rows = someone was first.
     * On an approved item whose newer version awaits review (pending_status),
     * a draft or submitted status is that version's and the item stays
     * approved; approving it clears pending_status (the trigger of 0016 then
     * moves approved_version to it). */
    {"item_update",
     "WITH u AS (UPDATE items SET current_version = $4::integer,"
     "  status = CASE WHEN pending_status IS NOT NULL AND $5::text IN ('draft', 'submitted')"
     "                THEN status ELSE $5::text::item_status END,"
     "  pending_status = CASE WHEN $5::text IN ('draft', 'submitted')"
     "                        THEN CASE WHEN pending_status IS NOT NULL"
     "                                  THEN $5::text::item_status END END,"
     "  submitted_by = CASE WHEN $15::text = 'submit' THEN $6::bigint ELSE submitted_by END,"
     "  submitted_at = CASE WHEN $15::text = 'submit' THEN now() ELSE submitted_at END,"
     "  approved_by = CASE WHEN $15::text = 'approve' THEN $6::bigint"
     "                     WHEN $5::text IN ('draft', 'submitted') AND pending_status IS NULL"
     "                     THEN NULL ELSE approved_by END,"
     "  approved_at = CASE WHEN $15::text = 'approve' THEN now()"
     "                     WHEN $5::text IN ('draft', 'submitted') AND pending_status IS NULL"
     "                     THEN NULL ELSE approved_at END,"
     "  reviewed_by = CASE WHEN $15::text IN ('approve', 'reject') THEN $6::bigint"
     "                     ELSE reviewed_by END,"
     "  reviewed_at = CASE WHEN $15::text IN ('approve', 'reject') THEN now() ELSE reviewed_at END,"
     "  review_comment = CASE WHEN $15::text IN ('approve', 'reject') THEN $16::text"
     "                        ELSE review_comment END"
     "  WHERE id = $1::bigint AND current_version = $2::integer"
     "   AND coalesce(pending_status, status)::text = $3::text AND kt_media_require($17::jsonb)"
     "   AND kt_require_subject(subject)" /* a subject the teacher teaches (0021) */
     "  RETURNING id, province_id, school_id),"
     " v AS (INSERT INTO item_versions (item_id, version, province_id, school_id, kind, title,"
     "   content, scoring, tags, search_text, created_by)"
     "  SELECT id, $4::integer, province_id, school_id, $8::text, $9::text, $10::jsonb,"
     "   $11::jsonb, ARRAY(SELECT jsonb_array_elements_text($12::jsonb)), $13::text, $6::bigint"
     "  FROM u WHERE $7::boolean RETURNING item_id),"
     " ma AS (INSERT INTO item_assets (item_id, version, school_id, province_id, path,"
     "   content_type, data)"
     "  SELECT u.id, $4::integer, u.school_id, u.province_id, m.path, m.content_type, m.data"
     "  FROM u JOIN v ON v.item_id = u.id JOIN media m ON m.school_id = u.school_id"
     "  WHERE m.path IN (SELECT jsonb_array_elements_text($17::jsonb)) RETURNING 1),"
     " a AS (INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, old_value,"
     "   new_value)"
     "  SELECT u.school_id, $6::bigint, e->>'action', 'item', u.id::text, e->'old', e->'new'"
     "  FROM u, jsonb_array_elements($14::jsonb) e RETURNING 1)"
     " SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM v), (SELECT count(*) FROM a)"},
};

void
kt_items_register(void)
{
    pg_register_statements(items_stmts, (int)(sizeof(items_stmts) / sizeof(items_stmts[0])));
    kt_item_max_register();
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

static int
valid_status(const char *s)
{
    return s && (strcmp(s, "draft") == 0 || strcmp(s, "submitted") == 0 ||
                 strcmp(s, "approved") == 0 || strcmp(s, "retired") == 0);
}

static const char *
status_vi(const char *s)
{
    if (strcmp(s, "draft") == 0)
        return "nháp";
    if (strcmp(s, "submitted") == 0)
        return "chờ duyệt";
    if (strcmp(s, "approved") == 0)
        return "đã duyệt";
    return "ngừng sử dụng";
}

static void
reply_view(http_request *req, const pg_query *q, int stmt, int status)
{
    const char *j = pg_ntuples(q, stmt) ? pg_value(q, stmt, 0, 0) : NULL;
    if (!j) {
        api_error(req, 404, "not_found", "Không tìm thấy câu hỏi hoặc phiên bản yêu cầu.");
        return;
    }
    api_raw_json(req, status, j, strlen(j));
}

/* ------------------------------------------------------------------------ */
/* GET /api/v1/items                                                        */

static void
list_done(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    json_error_t err;
    const char *j = pg_value(q, 0, 0, 0);
    json_t *items = json_loads(j ? j : "[]", 0, &err);
    const char *last = pg_value(q, 0, 0, 1);
    json_t *next = json_null();
    if (last) {
        char c[80];
        kt_cursor_encode('i', last, c, sizeof(c));
        json_decref(next);
        next = json_string(c);
    }
    const char *total = pg_value(q, 0, 0, 2), *counts = pg_value(q, 0, 0, 3);
    json_t *reply = json_pack("{s:o,s:o,s:I}", "items", items ? items : json_array(),
                              "next_cursor", next, "total",
                              (json_int_t)(total ? strtoll(total, NULL, 10) : 0));
    json_t *c = counts ? json_loads(counts, 0, &err) : NULL;
    if (c)
        json_object_set_new(reply, "counts", c);
    api_json(req, 200, reply);
}

static int
valid_kind(const char *s)
{
    static const char *const kinds[] = {"MCQ4", "MR", "TF4", "SHORT", "ESSAY", "QTI", NULL};
    return s && kt_str_in_set(s, kinds);
}

void
h_items_list(http_request *req)
{
    char *subject = api_query_text(req, "subject"), *grade = api_query_text(req, "grade"),
         *level = api_query_text(req, "level"), *outcome = api_query_text(req, "outcome"),
         *competency = api_query_text(req, "competency"), *status = api_query_text(req, "status"),
         *q = api_query_text(req, "q"), *limit = api_query_text(req, "limit"), *cursor = api_query_text(req, "cursor");
    char *node = api_query_text(req, "node"), *format = api_query_text(req, "format"),
         *author = api_query_text(req, "author"), *counts = api_query_text(req, "counts");
    char author_id[24] = "";
    char *folded = NULL;
    const char *bad = NULL;
    long long after = 0;
    if (subject && !kt_item_code_valid(subject))
        bad = "Tham số subject phải là mã môn viết in hoa (ví dụ TOAN).";
    if (grade && api_bounded(grade, 1, 12) < 0)
        bad = "Tham số grade phải là số từ 1 đến 12.";
    if ((level && !kt_item_code_valid(level)) || (outcome && !kt_item_code_valid(outcome)) ||
        (competency && !kt_item_code_valid(competency)))
        bad = "Tham số level, outcome, competency phải là mã phân loại (ví dụ MD.B).";
    if (status && !valid_status(status))
        bad = "Tham số status phải là draft, submitted, approved hoặc retired.";
    long n = limit ? api_bounded(limit, 1, LIST_MAX) : LIST_DEFAULT;
    if (n < 0)
        bad = "Tham số limit phải là số từ 1 đến 100.";
    if (cursor && (after = kt_cursor_decode('i', cursor)) < 0)
        bad = "Tham số cursor không hợp lệ; hãy dùng đúng giá trị next_cursor đã nhận.";
    if (q) {
        if (strlen(q) > MAX_Q_BYTES)
            bad = "Từ khoá tìm kiếm (q) quá dài.";
        else if (!(folded = kt_item_fold_query(q)))
            bad = "Từ khoá tìm kiếm (q) không phải văn bản UTF-8 hợp lệ.";
        else if (!*folded) {
            free(folded);
            folded = NULL;
        }
    }
    if (node && !kt_item_code_valid(node))
        bad = "Tham số node phải là mã phân loại của mạch, chủ đề, đơn vị hoặc yêu cầu cần đạt"
              " (ví dụ VN18.TOAN.10.SDS).";
    if (format && !valid_kind(format))
        bad = "Tham số format phải là MCQ4, MR, TF4, SHORT, ESSAY hoặc QTI.";
    if (author && strcmp(author, "me") == 0)
        snprintf(author_id, sizeof(author_id), "%lld", (long long)req->user->id);
    else if (author && api_bounded(author, 1, 999999999L) < 0)
        bad = "Tham số author phải là mã người dùng (số) hoặc me.";
    else if (author)
        snprintf(author_id, sizeof(author_id), "%s", author);
    if (counts && strcmp(counts, "0") != 0 && strcmp(counts, "1") != 0)
        bad = "Tham số counts phải là 0 hoặc 1.";
    if (bad) {
        api_error(req, 400, "invalid_parameter", bad);
        goto out;
    }
    char after_s[24], lim[24];
    snprintf(after_s, sizeof(after_s), "%lld", after);
    snprintf(lim, sizeof(lim), "%ld", n);
    const char *params[] = {after_s, subject, grade,  level,
                            outcome, competency, status, folded,
                            lim,     node,       format, author ? author_id : NULL,
                            counts && strcmp(counts, "1") == 0 ? "t" : "f"};
    pg_query *pq = api_query(req);
    pg_query_add(pq, "items_list", 13, params);
    api_run(req, pq, list_done);
out:
    free(node);
    free(format);
    free(author);
    free(counts);
    free(subject);
    free(grade);
    free(level);
    free(outcome);
    free(competency);
    free(status);
    free(q);
    free(limit);
    free(cursor);
    free(folded);
}

/* ------------------------------------------------------------------------ */
/* GET /api/v1/items/{id}                                                   */

static void
get_done(http_request *req, pg_query *q)
{
    if (q->status != PG_OK)
        api_db_error(req, q);
    else
        reply_view(req, q, 0, 200);
}

void
h_item_get(http_request *req)
{
    int64_t id = api_param_id(req, 0);
    if (!id) {
        api_error(req, 404, "not_found", "Không tìm thấy câu hỏi hoặc phiên bản yêu cầu.");
        return;
    }
    char *version = api_query_text(req, "version");
    if (version && api_bounded(version, 1, 1000000) < 0) {
        free(version);
        api_error(req, 400, "invalid_parameter", "Tham số version phải là số nguyên dương.");
        return;
    }
    char ids[24];
    snprintf(ids, sizeof(ids), "%lld", (long long)id);
    const char *params[] = {ids, version};
    pg_query *q = api_query(req);
    pg_query_add(q, "item_get", 2, params);
    free(version);
    api_run(req, q, get_done);
}

/* ------------------------------------------------------------------------ */
/* GET /api/v1/items/{id}/history                                           */

static void
history_done(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    const char *j = pg_ntuples(q, 0) ? pg_value(q, 0, 0, 0) : NULL;
    json_error_t err;
    json_t *rows = j ? json_loads(j, 0, &err) : NULL;
    if (!rows) {
        api_error(req, 404, "not_found", "Không tìm thấy câu hỏi.");
        return;
    }
    api_json(req, 200,
             json_pack("{s:I,s:o}", "item_id", (json_int_t)api_param_id(req, 0), "history", rows));
}

void
h_item_history(http_request *req)
{
    int64_t id = api_param_id(req, 0);
    if (!id) {
        api_error(req, 404, "not_found", "Không tìm thấy câu hỏi.");
        return;
    }
    char ids[24];
    snprintf(ids, sizeof(ids), "%lld", (long long)id);
    const char *params[] = {ids};
    pg_query *q = api_query(req);
    pg_query_add(q, "item_history", 1, params);
    api_run(req, q, history_done);
}

/* ------------------------------------------------------------------------ */
/* The item checked on the CPU pool                                         */

/* What POST and PATCH hand to the CPU pool and get back: normalising and
 * checking an item (the HTML allow-list above all) costs up to ~150 ms for
 * ten 64 KiB fields of markup, which an event loop must never spend. The
 * request waits for it (and outlives a client that leaves); the job goes
 * with the request and is freed on the pool. */

/* The columns of item_for_update. */
enum {
    R_SCHOOL,
    R_SUBJECT,
    R_STATUS,
    R_CUR,
    R_AUTHOR,
    R_KIND,
    R_TITLE,
    R_CONTENT,
    R_SCORING,
    R_TAGS,
    R_IDENTIFIER,
    R_GRADE,
    R_MY_SUBJECT,
    R_PENDING,
    R_N
};

struct item_job {
    http_request *req;
    json_t *body;                /* POST: the item; PATCH: the changes */
    char *row[R_N];              /* PATCH: the version read, copied */
    json_t *problems;            /* refused (422) when set */
    json_t *item;                /* PATCH: the edited item, in the authoring shape */
    json_t *stored_html;         /* PATCH: allow-list problems of the stored version */
    int cs_changed, new_version; /* PATCH: content or scoring changed; a version to store */
    char *cs, *ss, *ts, *search; /* content, scoring and tags as JSON text; search text */
    json_t *media;               /* the version's media/ images: [{path, field}] */
    char *ms;                    /* their paths as a JSON array (SQL $13 / $17) */
};

static void
item_job_free_work(void *p)
{
    struct item_job *j = p;
    for (int c = 0; c < R_N; c++)
        free(j->row[c]);
    json_decref(j->body);
    json_decref(j->problems);
    json_decref(j->item);
    json_decref(j->stored_html);
    free(j->cs);
    free(j->ss);
    free(j->ts);
    free(j->search);
    json_decref(j->media);
    free(j->ms);
    free(j);
}

static void
item_job_release(void *p)
{
    kt_cpu_detach(item_job_free_work, p);
}

/* The job of req, which owns body from now on. */
static struct item_job *
item_job_new(http_request *req, json_t *body)
{
    struct item_job *j = calloc(1, sizeof(*j));
    if (!j)
        abort();
    j->req = req;
    j->body = body;
    req->ctx = j;
    req->ctx_free = item_job_release;
    return j;
}

/* Sets j->problems when there are any; true when there are. */
static int
keep_problems(struct item_job *j, json_t *problems)
{
    if (json_array_size(problems)) {
        j->problems = problems;
        return 1;
    }
    json_decref(problems);
    return 0;
}

static void
invalid_item(http_request *req, json_t *problems)
{
    char msg[160];
    snprintf(msg, sizeof(msg), "Câu hỏi chưa hợp lệ: có %zu lỗi cần sửa (xem chi tiết).",
             json_array_size(problems));
    api_error_details(req, 422, "invalid_item", msg, problems);
}

/* The media/ images of the checked item: kept on the job, their paths as
 * JSON for SQL; a path that names no possible upload is a problem. True
 * when there are problems. */
static int
keep_media(struct item_job *j, const json_t *item)
{
    j->media = kt_item_media_refs(item);
    json_t *paths = json_array(), *problems = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(j->media, i, r)
    {
        const char *path = json_string_value(json_object_get(r, "path"));
        json_array_append_new(paths, json_string(path));
        if (!kt_media_path_valid(path)) {
            char msg[400];
            snprintf(msg, sizeof(msg),
                     "Ảnh %.200s chưa được tải lên (ảnh tải lên có tên media/<mã SHA-256>.png,"
                     " .jpg, .gif hoặc .webp).",
                     path);
            json_array_append_new(problems, json_pack("{s:O,s:s}", "field",
                                                      json_object_get(r, "field"), "message", msg));
        }
    }
    j->ms = json_dumps(paths, JSON_COMPACT);
    json_decref(paths);
    return keep_problems(j, problems);
}

/* A version refers to an image the school never uploaded (KT422 from
 * kt_media_require, the path as message): 422 naming the field. True when
 * that was the error and it was answered. */
static int
media_missing(http_request *req, const pg_query *q)
{
    const struct item_job *j = req->ctx;
    if (strncmp(q->sqlstate, "KT422", 5) != 0 || !j || !q->error)
        return 0;
    const char *field = "";
    size_t i;
    json_t *r;
    json_array_foreach(j->media, i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "path")), q->error) == 0)
            field = json_string_value(json_object_get(r, "field"));
    }
    char msg[300];
    snprintf(msg, sizeof(msg), "Ảnh %.200s chưa được tải lên.", q->error);
    api_error_details(req, 422, "invalid_item", msg,
                      json_pack("[{s:s,s:s}]", "field", field, "message", msg));
    return 1;
}

/* Replies 422 with the job's problems; the job is gone afterwards. */
static void
reply_problems(struct item_job *j)
{
    json_t *p = j->problems;
    j->problems = NULL;
    invalid_item(j->req, p);
}

/* ------------------------------------------------------------------------ */
/* POST /api/v1/items                                                       */

static void
create_done(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        if (media_missing(req, q))
            return;
        if (strncmp(q->sqlstate, "23505", 5) == 0)
            api_error(req, 409, "duplicate_identifier",
                      "Mã câu hỏi (identifier) đã có trong ngân hàng câu hỏi của trường;"
                      " hãy chọn mã khác.");
        else
            api_db_error_doing(req, q, "tạo câu hỏi của môn này");
        return;
    }
    reply_view(req, q, 1, 201);
}

static void
create_work(void *arg)
{
    struct item_job *j = arg;
    kt_item_normalize(j->body);
    if (keep_problems(j, kt_item_validate(j->body)) || keep_media(j, j->body))
        return;
    json_t *content, *scoring, *tags = kt_item_tags(j->body);
    kt_item_split(j->body, &content, &scoring);
    j->search = kt_item_search_text(json_string_value(json_object_get(j->body, "title")), content);
    j->cs = json_dumps(content, JSON_COMPACT);
    j->ss = json_dumps(scoring, JSON_COMPACT);
    j->ts = json_dumps(tags, JSON_COMPACT);
    json_decref(content);
    json_decref(scoring);
    json_decref(tags);
}

static void
create_checked(void *arg)
{
    struct item_job *j = arg;
    http_request *req = j->req;
    if (j->problems) {
        reply_problems(j);
        return;
    }
    const json_t *it = j->body;
    char prov[24], school[24], grade[8], actor[24];
    snprintf(prov, sizeof(prov), "%lld", (long long)req->user->province_id);
    snprintf(school, sizeof(school), "%lld", (long long)req->user->school_id);
    snprintf(grade, sizeof(grade), "%d", (int)json_integer_value(json_object_get(it, "grade")));
    snprintf(actor, sizeof(actor), "%lld", (long long)req->user->id);
    const char *params[] = {prov,
                            school,
                            json_string_value(json_object_get(it, "identifier")),
                            json_string_value(json_object_get(it, "subject")),
                            grade,
                            actor,
                            json_string_value(json_object_get(it, "kind")),
                            json_string_value(json_object_get(it, "title")),
                            j->cs,
                            j->ss,
                            j->ts,
                            j->search,
                            j->ms};
    pg_query *q = api_query(req);
    pg_query_add(q, "item_create", 13, params);
    pg_query_add(q, "item_get_new", 0, NULL);
    api_run(req, q, create_done);
}

void
h_item_create(http_request *req)
{
    json_t *it = api_body_object(req);
    if (!it)
        return;
    if (!req->user->school_id) {
        json_decref(it);
        api_error(req, 403, "forbidden", "Chỉ giáo viên của một trường mới tạo được câu hỏi.");
        return;
    }
    kt_cpu_submit(req->worker->base, create_work, create_checked, item_job_new(req, it));
}

/* ------------------------------------------------------------------------ */
/* PATCH /api/v1/items/{id}                                                 */

static void
patch_done(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        if (!media_missing(req, q))
            api_db_error_doing(req, q, "sửa câu hỏi của môn này");
        return;
    }
    const char *n = pg_value(q, 0, 0, 0);
    if (!n || strcmp(n, "1") != 0) {
        api_error(req, 409, "version_conflict",
                  "Câu hỏi vừa được người khác thay đổi; hãy tải lại rồi thực hiện lại.");
        return;
    }
    reply_view(req, q, 1, 200);
}

static json_t *
load_json(const char *s)
{
    json_error_t err;
    json_t *j = s ? json_loads(s, 0, &err) : NULL;
    return j ? j : json_object();
}

/* The caller may approve, send back or retire items of this subject. */
static int
is_subject_head_of(const http_request *req, const char *my_subject, const char *subject)
{
    return req->user->role == ROLE_SUBJECT_HEAD && my_subject && strcmp(my_subject, subject) == 0;
}

static int
has_edit(const json_t *body)
{
    return json_object_get(body, "content") || json_object_get(body, "scoring") ||
           json_object_get(body, "tags") || json_object_get(body, "title");
}

/* The status the PATCH works on: an approved item's version awaiting review
 * has its own (the item stays approved). */
static const char *
version_status(const struct item_job *j)
{
    return j->row[R_PENDING] ? j->row[R_PENDING] : j->row[R_STATUS];
}

/* The edited item normalised, checked and compared with the stored version;
 * without an edit, a version going to review has its stored HTML checked. */
static void
patch_work(void *arg)
{
    struct item_job *j = arg;
    const json_t *body = j->body;
    json_t *content = load_json(j->row[R_CONTENT]), *scoring = load_json(j->row[R_SCORING]),
           *tags = load_json(j->row[R_TAGS]);
    if (has_edit(body)) {
        json_t *meta =
            json_pack("{s:s,s:s,s:s,s:i}", "identifier", j->row[R_IDENTIFIER], "kind",
                      j->row[R_KIND], "subject", j->row[R_SUBJECT], "grade", atoi(j->row[R_GRADE]));
        json_t *t = json_object_get(body, "title");
        json_object_set_new(meta, "title", t ? json_incref(t) : json_string(j->row[R_TITLE]));
        json_t *c = json_object_get(body, "content"), *s = json_object_get(body, "scoring");
        j->item = kt_item_join(meta, c ? c : content, s ? s : scoring);
        json_decref(meta);
        json_t *bt = json_object_get(body, "tags");
        json_t *new_tags = json_deep_copy(bt ? bt : tags);
        kt_item_normalize(j->item);
        json_t *problems = kt_item_validate(j->item);
        kt_item_validate_tags(new_tags, "tags", problems);
        if (!keep_problems(j, problems)) {
            json_t *new_content, *new_scoring, *old_content, *old_scoring;
            kt_item_split(j->item, &new_content, &new_scoring);
            const char *new_title = json_string_value(json_object_get(j->item, "title"));
            /* The stored version as normalised today (its HTML in the canonical
             * form), so that a title edit is not a content change. */
            json_t *old = kt_item_join(j->item, content, scoring);
            kt_item_normalize(old);
            kt_item_split(old, &old_content, &old_scoring);
            j->cs_changed =
                !json_equal(new_content, old_content) || !json_equal(new_scoring, old_scoring);
            j->new_version = j->cs_changed || strcmp(new_title, j->row[R_TITLE]) != 0 ||
                             !json_equal(new_tags, tags);
            j->cs = json_dumps(new_content, JSON_COMPACT);
            j->ss = json_dumps(new_scoring, JSON_COMPACT);
            if (j->new_version) {
                j->ts = json_dumps(new_tags, JSON_COMPACT);
                j->search = kt_item_search_text(new_title, new_content);
                keep_media(j, j->item);
            }
            json_decref(old);
            json_decref(old_content);
            json_decref(old_scoring);
            json_decref(new_content);
            json_decref(new_scoring);
        }
        json_decref(new_tags);
    } else {
        /* Stored before the allow-list existed: it may not go to review as it is. */
        const char *target = json_string_value(json_object_get(body, "status"));
        if (target && (strcmp(target, "submitted") == 0 || strcmp(target, "approved") == 0)) {
            json_t *stored = kt_item_join(NULL, content, scoring);
            j->stored_html = kt_item_html_problems(stored);
            json_decref(stored);
        }
    }
    json_decref(content);
    json_decref(scoring);
    json_decref(tags);
}

static void
patch_checked(void *arg)
{
    struct item_job *j = arg;
    http_request *req = j->req;
    const json_t *body = j->body;
    if (j->problems) {
        reply_problems(j);
        return;
    }
    const char *subject = j->row[R_SUBJECT], *status = version_status(j), *kind = j->row[R_KIND],
               *my_subject = j->row[R_MY_SUBJECT];
    const char *new_title =
        j->item ? json_string_value(json_object_get(j->item, "title")) : j->row[R_TITLE];
    long cur_version = strtol(j->row[R_CUR], NULL, 10);
    json_t *audit = json_array();
    const char *after = status; /* status after the edit */
    if (j->new_version) {
        /* Changed content or key needs a new review; metadata does not. */
        if (j->cs_changed && (strcmp(status, "approved") == 0 || strcmp(status, "submitted") == 0))
            after = "draft";
        json_array_append_new(audit,
                              json_pack("{s:s,s:{s:i,s:s},s:{s:i,s:s}}", "action", "item.edit",
                                        "old", "version", (int)cur_version, "status", status, "new",
                                        "version", (int)cur_version + 1, "status", after));
    }

    const char *target = json_string_value(json_object_get(body, "status"));
    const char *transition = NULL;
    const char *comment = json_string_value(json_object_get(body, "comment"));
    if (target && strcmp(target, after) != 0) {
        int head = is_subject_head_of(req, my_subject, subject);
        if (strcmp(after, "draft") == 0 && strcmp(target, "submitted") == 0) {
            transition = "submit";
        } else if (strcmp(after, "submitted") == 0 && strcmp(target, "approved") == 0) {
            transition = "approve";
        } else if (strcmp(after, "submitted") == 0 && strcmp(target, "draft") == 0) {
            transition = "reject";
        } else if ((strcmp(after, "approved") == 0 || j->row[R_PENDING]) &&
                   strcmp(target, "retired") == 0) {
            transition = "retire";
        } else {
            char msg[200];
            snprintf(msg, sizeof(msg), "Không thể chuyển câu hỏi từ trạng thái \"%s\" sang \"%s\".",
                     status_vi(after), status_vi(target));
            api_error(req, 409, "invalid_transition", msg);
            goto out;
        }
        if (strcmp(transition, "submit") != 0 && !head) {
            api_error(req, 403, "forbidden",
                      "Chỉ tổ trưởng chuyên môn của môn này mới được duyệt, trả lại hoặc ngừng"
                      " sử dụng câu hỏi.");
            goto out;
        }
        if (strcmp(transition, "reject") == 0 && (!comment || !*comment)) {
            api_error_details(req, 422, "invalid_item",
                              "Khi trả lại câu hỏi cần ghi nhận xét cho tác giả.",
                              json_pack("[{s:s,s:s}]", "field", "comment", "message",
                                        "Bắt buộc phải có khi trả lại câu hỏi."));
            goto out;
        }
        if ((strcmp(transition, "submit") == 0 || strcmp(transition, "approve") == 0) &&
            json_array_size(j->stored_html)) {
            json_t *p = j->stored_html;
            j->stored_html = NULL;
            api_error_details(req, 422, "invalid_item",
                              "Nội dung câu hỏi có HTML không được phép nên chưa gửi duyệt hay"
                              " duyệt được; hãy sửa các trường nêu trong chi tiết.",
                              p);
            goto out;
        }
        json_t *nv = json_pack("{s:s}", "status", target);
        if (comment && *comment)
            json_object_set_new(nv, "comment", json_string(comment));
        char action[32];
        snprintf(action, sizeof(action), "item.%s", transition);
        json_array_append_new(audit, json_pack("{s:s,s:{s:s},s:o}", "action", action, "old",
                                               "status", after, "new", nv));
        after = target;
    }

    char idbuf[24], vbuf[24], nvbuf[24], actor[24];
    snprintf(idbuf, sizeof(idbuf), "%lld", (long long)api_param_id(req, 0));
    snprintf(vbuf, sizeof(vbuf), "%ld", cur_version);
    snprintf(nvbuf, sizeof(nvbuf), "%ld", cur_version + j->new_version);
    snprintf(actor, sizeof(actor), "%lld", (long long)req->user->id);
    pg_query *pq = api_query(req);
    const char *gp[] = {idbuf, NULL};
    if (j->new_version || transition) {
        char *as = json_dumps(audit, JSON_COMPACT);
        const char *params[] = {idbuf,
                                vbuf,
                                status,
                                nvbuf,
                                after,
                                actor,
                                j->new_version ? "t" : "f",
                                kind,
                                new_title,
                                j->cs,
                                j->ss,
                                j->ts,
                                j->search,
                                as,
                                transition,
                                comment && *comment ? comment : NULL,
                                j->ms};
        pg_query_add(pq, "item_update", 17, params);
        free(as);
        pg_query_add(pq, "item_get", 2, gp);
        json_decref(audit);
        api_run(req, pq, patch_done);
        return;
    }
    pg_query_add(pq, "item_get", 2, gp);
    json_decref(audit);
    api_run(req, pq, get_done);
    return;
out:
    json_decref(audit);
}

static void
patch_loaded(http_request *req, pg_query *q)
{
    struct item_job *j = req->ctx;
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    if (pg_ntuples(q, 0) != 1) {
        api_error(req, 404, "not_found", "Không tìm thấy câu hỏi.");
        return;
    }
    const char *school = pg_value(q, 0, 0, R_SCHOOL);
    if (!school || strtoll(school, NULL, 10) != req->user->school_id) {
        api_error(req, 403, "forbidden",
                  "Câu hỏi dùng chung của Sở chỉ được xem, trường không được sửa.");
        return;
    }
    for (int c = 0; c < R_N; c++) {
        const char *v = pg_value(q, 0, 0, c);
        if (v && !(j->row[c] = strdup(v)))
            abort();
    }
    long cur_version = strtol(j->row[R_CUR], NULL, 10);
    json_t *ver = json_object_get(j->body, "version");
    if (ver && json_integer_value(ver) != cur_version) {
        char msg[200];
        snprintf(msg, sizeof(msg),
                 "Câu hỏi đã được sửa bởi người khác (phiên bản hiện tại là %ld);"
                 " hãy tải lại rồi sửa tiếp.",
                 cur_version);
        api_error_details(req, 409, "version_conflict", msg,
                          json_pack("{s:i}", "current_version", (int)cur_version));
        return;
    }
    if (has_edit(j->body) && strcmp(version_status(j), "retired") == 0) {
        api_error(req, 409, "invalid_transition", "Câu hỏi đã ngừng sử dụng nên không sửa được.");
        return;
    }
    kt_cpu_submit(req->worker->base, patch_work, patch_checked, j);
}

/* Checks the shape of a PATCH body; NULL when fine, else the problems. */
static json_t *
patch_shape(const json_t *body)
{
    static const char *const allowed[] = {"version", "status", "comment", "content",
                                          "scoring", "tags",   "title"};
    json_t *p = json_array();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)body, k, v)
    {
        size_t i = 0;
        while (i < sizeof(allowed) / sizeof(allowed[0]) && strcmp(allowed[i], k) != 0)
            i++;
        if (i == sizeof(allowed) / sizeof(allowed[0]))
            json_array_append_new(p, json_pack("{s:s,s:s}", "field", k, "message",
                                               "Trường không sửa được qua PATCH (chỉ version,"
                                               " status, comment, content, scoring, tags, title)."));
    }
#define BAD(f, m) json_array_append_new(p, json_pack("{s:s,s:s}", "field", f, "message", m))
    v = json_object_get(body, "version");
    if (v && (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 1000000))
        BAD("version", "Phải là số phiên bản (số nguyên dương) đã đọc được.");
    v = json_object_get(body, "status");
    if (v && !valid_status(json_string_value(v)))
        BAD("status", "Phải là draft, submitted, approved hoặc retired.");
    v = json_object_get(body, "comment");
    if (v && (!json_is_string(v) || json_string_length(v) > COMMENT_MAX))
        BAD("comment", "Phải là chuỗi ký tự, tối đa 2000 byte.");
    v = json_object_get(body, "content");
    if (v && !json_is_object(v))
        BAD("content", "Phải là một đối tượng JSON.");
    v = json_object_get(body, "scoring");
    if (v && !json_is_object(v))
        BAD("scoring", "Phải là một đối tượng JSON.");
    v = json_object_get(body, "title");
    if (v && !json_is_string(v))
        BAD("title", "Phải là chuỗi ký tự.");
#undef BAD
    if (json_array_size(p) == 0) {
        json_decref(p);
        return NULL;
    }
    return p;
}

void
h_item_patch(http_request *req)
{
    int64_t id = api_param_id(req, 0);
    if (!id) {
        api_error(req, 404, "not_found", "Không tìm thấy câu hỏi.");
        return;
    }
    json_t *body = api_body_object(req);
    if (!body)
        return;
    if (json_object_get(body, "max_score")) {
        kt_item_max_patch(req, body);
        return;
    }
    json_t *problems = patch_shape(body);
    if (problems) {
        json_decref(body);
        invalid_item(req, problems);
        return;
    }
    item_job_new(req, body);
    char ids[24], actor[24];
    snprintf(ids, sizeof(ids), "%lld", (long long)id);
    snprintf(actor, sizeof(actor), "%lld", (long long)req->user->id);
    const char *params[] = {ids, actor};
    pg_query *q = api_query(req);
    pg_query_add(q, "item_for_update", 2, params);
    api_run(req, q, patch_loaded);
}

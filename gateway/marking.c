/*
 * After the test: results with item analysis, manual marking of essays and
 * short answers per rubric criterion (every mark audited with its old and
 * new value), and regrade after a key or score-table correction, which
 * rescores every affected answer deterministically and reports what changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cpupool.h"
#include "decimal.h"
#include "forms.h"
#include "grading.h"
#include "server.h"

#define COMMENT_MAX 2000
#define REGRADE_ROUNDS 5 /* passes until no answer is left on an older scoring */

static const struct pg_stmt_def marking_stmts[] = {
    /* Per student score and state, then per item: answers, mean share of the
     * points (difficulty), and for choice items how often each option was
     * chosen; counts of the score distribution in tenths of the maximum. */
    {"session_results",
     "WITH se AS (SELECT s.id, s.test_id FROM sessions s WHERE s.id = $1::bigint),"
     " st AS (SELECT u.id, u.student_code, u.full_name, c.name AS class, a.id AS attempt_id,"
     "   a.status, a.score, a.max_score, a.needs_marking, a.submitted_at, f.code,"
     "   (SELECT count(*) FROM attempt_scores x WHERE x.attempt_id = a.id"
     "     AND x.state = 'scoring_failed') AS scoring_failed"
     "  FROM se JOIN session_classes sc ON sc.session_id = se.id"
     "  JOIN classes c ON c.id = sc.class_id JOIN class_members cm ON cm.class_id = c.id"
     "  JOIN users u ON u.id = cm.user_id AND u.role = 'student'"
     "  LEFT JOIN attempts a ON a.session_id = se.id AND a.student_id = u.id"
     "  LEFT JOIN test_forms f ON f.id = a.form_id),"
     " it AS (SELECT ti.item_ref, ti.item_id, ti.points, ti.part, v.kind,"
     "   (SELECT count(*) FROM attempt_scores x JOIN attempts a ON a.id = x.attempt_id"
     "     WHERE a.session_id = (SELECT id FROM se) AND x.item_ref = ti.item_ref"
     "       AND x.score IS NOT NULL) AS scored,"
     "   (SELECT count(*) FROM attempt_scores x JOIN attempts a ON a.id = x.attempt_id"
     "     WHERE a.session_id = (SELECT id FROM se) AND x.item_ref = ti.item_ref"
     "       AND x.state = 'scoring_failed') AS scoring_failed,"
     "   (SELECT round(avg(x.score::numeric / x.max_score), 3) FROM attempt_scores x"
     "     JOIN attempts a ON a.id = x.attempt_id"
     "     WHERE a.session_id = (SELECT id FROM se) AND x.item_ref = ti.item_ref"
     "       AND x.score IS NOT NULL) AS difficulty,"
     "   (SELECT count(*) FROM responses r JOIN attempts a ON a.id = r.attempt_id"
     "     WHERE a.session_id = (SELECT id FROM se) AND r.item_ref = ti.item_ref"
     "       AND r.response <> 'null'::jsonb) AS answered,"
     "   (SELECT json_object_agg(o.opt, o.n) FROM (SELECT e.opt, count(*) AS n"
     "     FROM responses r JOIN attempts a ON a.id = r.attempt_id,"
     "     LATERAL (SELECT jsonb_array_elements_text(CASE jsonb_typeof(r.response)"
     "       WHEN 'array' THEN r.response WHEN 'string' THEN jsonb_build_array(r.response)"
     "       ELSE '[]'::jsonb END) AS opt) e"
     "     WHERE a.session_id = (SELECT id FROM se) AND r.item_ref = ti.item_ref"
     "       AND v.kind IN ('MCQ4', 'MR') GROUP BY e.opt) o) AS options"
     "  FROM se JOIN test_items ti ON ti.test_id = se.test_id"
     "  JOIN item_versions v ON v.item_id = ti.item_id AND v.version = ti.version)"
     " SELECT json_build_object('session_id', (SELECT id FROM se),"
     "  'students', coalesce((SELECT json_agg(json_build_object('student_id', id,"
     "    'student_code', student_code, 'full_name', full_name, 'class', class,"
     "    'attempt_id', attempt_id, 'state', coalesce(status, 'not_started'),"
     "    'form_code', code, 'submitted_at', submitted_at,"
     "    'score', round(score::numeric / 100, 2)::text,"
     "    'max_score', round(max_score::numeric / 100, 2)::text,"
     "    'needs_marking', needs_marking, 'scoring_failed', scoring_failed)"
     "    ORDER BY class, student_code, id) FROM st), '[]'),"
     "  'items', coalesce((SELECT json_agg(json_build_object('item_ref', item_ref,"
     "    'item_id', item_id, 'kind', kind, 'part', part,"
     "    'points', round(points::numeric / 100, 2)::text, 'answered', answered,"
     "    'scored', scored, 'scoring_failed', scoring_failed, 'difficulty', difficulty,"
     "    'options', options)"
     "    ORDER BY part, item_ref) FROM it), '[]'),"
     /* Answers waiting for a teacher: essays, and those the engine could not score. */
     "  'marking', (SELECT json_build_object("
     "    'needs_marking', count(*) FILTER (WHERE x.state = 'needs_marking'),"
     "    'scoring_failed', count(*) FILTER (WHERE x.state = 'scoring_failed'))"
     "   FROM attempt_scores x JOIN attempts a ON a.id = x.attempt_id"
     "   WHERE a.session_id = (SELECT id FROM se)),"
     "  'to_mark', coalesce((SELECT json_agg(json_build_object('attempt_id', x.attempt_id,"
     "    'item_ref', x.item_ref, 'student_code', u.student_code, 'full_name', u.full_name,"
     "    'state', x.state, 'error', x.detail->>'error')"
     "    ORDER BY u.student_code, x.attempt_id, x.item_ref)"
     "   FROM attempt_scores x JOIN attempts a ON a.id = x.attempt_id"
     "   JOIN users u ON u.id = a.student_id WHERE a.session_id = (SELECT id FROM se)"
     "     AND x.state IN ('needs_marking', 'scoring_failed')), '[]'),"
     "  'distribution', (SELECT json_agg(n ORDER BY b) FROM (SELECT b, (SELECT count(*) FROM st"
     "    WHERE st.max_score > 0 AND st.status = 'submitted' AND least(9, floor(st.score * 10.0"
     "      / st.max_score))::int = b) AS n FROM generate_series(0, 9) b) d))::text"
     " FROM se"},
    /* The marking queue of a session (0027): per item that a teacher marks
     * (an essay, or any item with an answer the engine could not score)
     * how many answers wait and how many are marked. Only a teacher of the
     * test's subject in every class of the session (KT403 otherwise). */
    {"marking_queue",
     "WITH se AS (SELECT s.id, s.test_id, s.results_released, s.release_show FROM sessions s"
     "  WHERE s.id = $1::bigint AND kt_require_session(s.id)),"
     " q AS (SELECT x.item_ref, x.state FROM se JOIN attempts a ON a.session_id = se.id"
     "  JOIN attempt_scores x ON x.attempt_id = a.id"
     "  WHERE a.scored_at IS NOT NULL AND x.detail ? 'needs_marking'),"
     " it AS (SELECT ti.item_ref, ti.points, v.kind, v.title, v.scoring,"
     "   row_number() OVER (ORDER BY ti.part, ti.cell, ti.item_ref) AS number,"
     "   (SELECT count(*) FROM q WHERE q.item_ref = ti.item_ref"
     "     AND q.state IN ('needs_marking', 'scoring_failed')) AS to_mark,"
     "   (SELECT count(*) FROM q WHERE q.item_ref = ti.item_ref AND q.state = 'marked') AS marked,"
     "   (SELECT count(*) FROM q WHERE q.item_ref = ti.item_ref"
     "     AND q.state = 'scoring_failed') AS failed"
     "  FROM se JOIN test_items ti ON ti.test_id = se.test_id"
     "  JOIN item_versions v ON v.item_id = ti.item_id AND v.version = ti.scoring_version)"
     " SELECT json_build_object('session_id', se.id,"
     "  'test', (SELECT json_build_object('id', t.id, 'title', t.title, 'subject', t.subject,"
     "    'grade', t.grade) FROM tests t WHERE t.id = se.test_id),"
     "  'results_released', se.results_released, 'release_show', se.release_show,"
     "  'in_progress', (SELECT count(*) FROM attempts a WHERE a.session_id = se.id"
     "    AND a.scored_at IS NULL),"
     "  'to_mark', (SELECT count(*) FROM q WHERE q.state IN ('needs_marking', 'scoring_failed')),"
     "  'marked', (SELECT count(*) FROM q WHERE q.state = 'marked'),"
     "  'items', coalesce((SELECT json_agg(json_build_object('item_ref', item_ref,"
     "    'number', number, 'kind', kind, 'title', title,"
     "    'points', round(points::numeric / 100, 2)::text, 'rubric', scoring->'rubric',"
     "    'to_mark', to_mark, 'marked', marked, 'scoring_failed', failed,"
     "    'total', to_mark + marked) ORDER BY number)"
     "   FROM it WHERE kind = 'ESSAY' OR to_mark + marked > 0), '[]'))::text FROM se"},
    /* Every answer of the session to one item that a teacher marks, in a
     * stable order (class, student code, attempt), with the item as the
     * students saw it, its rubric and model answer, and per answer the
     * text as given and escaped for display, the marks and comment so far,
     * the state and, for an answer the engine could not score, why. */
    {"marking_item",
     "WITH se AS (SELECT s.id, s.test_id FROM sessions s"
     "  WHERE s.id = $1::bigint AND kt_require_session(s.id)),"
     " ti AS (SELECT ti.item_ref, ti.points, ti.item_id, v.kind, v.title, v.scoring,"
     "   (SELECT count(*) FROM test_items t2 WHERE t2.test_id = ti.test_id"
     "     AND (t2.part, t2.cell, t2.item_ref) <= (ti.part, ti.cell, ti.item_ref)) AS number,"
     "   (SELECT e.it FROM test_forms f, jsonb_array_elements(f.payload->'items') e(it)"
     "     WHERE f.test_id = ti.test_id AND e.it->>'ref' = ti.item_ref"
     "     ORDER BY f.form_index LIMIT 1) AS view"
     "  FROM se JOIN test_items ti ON ti.test_id = se.test_id AND ti.item_ref = $2"
     "  JOIN item_versions v ON v.item_id = ti.item_id AND v.version = ti.scoring_version),"
     " ans AS (SELECT a.id AS attempt_id, u.id AS student_id, u.student_code, u.full_name,"
     "   c.name AS class, f.code AS form_code, x.state, x.score, x.detail, x.marked_at,"
     "   r.response, CASE jsonb_typeof(r.response) WHEN 'string' THEN r.response #>> '{}'"
     "     WHEN 'null' THEN NULL ELSE r.response::text END AS answer"
     "  FROM se JOIN attempts a ON a.session_id = se.id AND a.scored_at IS NOT NULL"
     "  JOIN attempt_scores x ON x.attempt_id = a.id AND x.item_ref = $2"
     "  JOIN users u ON u.id = a.student_id JOIN test_forms f ON f.id = a.form_id"
     "  LEFT JOIN responses r ON r.attempt_id = a.id AND r.item_ref = $2"
     "  LEFT JOIN LATERAL (SELECT cl.name FROM session_classes sc JOIN class_members cm"
     "    ON cm.class_id = sc.class_id AND cm.user_id = a.student_id"
     "    JOIN classes cl ON cl.id = sc.class_id WHERE sc.session_id = se.id"
     "    ORDER BY cl.name, cl.id LIMIT 1) c ON true"
     "  WHERE x.detail ? 'needs_marking')"
     " SELECT json_build_object('session_id', se.id,"
     "  'item', (SELECT json_build_object('item_ref', item_ref, 'item_id', item_id,"
     "    'number', number, 'kind', kind, 'title', title,"
     "    'points', round(points::numeric / 100, 2)::text, 'rubric', scoring->'rubric',"
     "    'model_answer', scoring->'model_answer', 'explanation', scoring->'explanation',"
     "    'view', view) FROM ti),"
     "  'to_mark', (SELECT count(*) FROM ans WHERE state IN ('needs_marking', 'scoring_failed')),"
     "  'marked', (SELECT count(*) FROM ans WHERE state = 'marked'),"
     "  'answers', coalesce((SELECT json_agg(json_build_object('attempt_id', attempt_id,"
     "    'student_id', student_id, 'student_code', student_code, 'full_name', full_name,"
     "    'class', class, 'form_code', form_code, 'state', state,"
     "    'score', round(score::numeric / 100, 2)::text, 'response', response,"
     "    'answer_text', answer, 'answer_html', replace(replace(replace(replace(replace("
     "      answer, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '\"', '&quot;'), E'\\n', '<br>'),"
     "    'criteria', detail->'criteria', 'comment', detail->>'comment',"
     "    'error', detail->>'error', 'marked_at', marked_at)"
     "    ORDER BY class, student_code, attempt_id) FROM ans), '[]'))::text"
     " FROM se WHERE EXISTS (SELECT 1 FROM ti)"},
    /* What a marker needs for one answer: the item's kind, scoring, points,
     * the answer and its current mark; the attempt must be scored. */
    {"mark_load",
     "SELECT v.kind, v.scoring::text, ti.points, r.response::text, x.score, a.school_id,"
     " ti.scoring_version"
     " FROM attempts a JOIN sessions se ON se.id = a.session_id"
     " JOIN test_items ti ON ti.test_id = se.test_id AND ti.item_ref = $2"
     " JOIN item_versions v ON v.item_id = ti.item_id AND v.version = ti.scoring_version"
     " JOIN attempt_scores x ON x.attempt_id = a.id AND x.item_ref = ti.item_ref"
     " LEFT JOIN responses r ON r.attempt_id = a.id AND r.item_ref = ti.item_ref"
     " WHERE a.id = $1::bigint AND a.scored_at IS NOT NULL"},
    {"mark_store",
     "WITH old AS (SELECT score, detail FROM attempt_scores"  /* the statement's snapshot */
     "   WHERE attempt_id = $1::bigint AND item_ref = $2),"
     " u AS (UPDATE attempt_scores SET score = $3::integer, detail = detail || $4::jsonb,"
     "   marked_by = $5::bigint, marked_at = now()"
     "  WHERE attempt_id = $1::bigint AND item_ref = $2"
     "   AND kt_require_attempt($1::bigint)" /* a teacher of the student's class (0021) */
     "  RETURNING school_id)"
     " INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, old_value,"
     "  new_value)"
     " SELECT u.school_id, $5::bigint, 'attempt.mark', 'attempt', $1::text,"
     "  jsonb_build_object('item_ref', $2, 'score', old.score, 'detail', old.detail),"
     "  jsonb_build_object('item_ref', $2, 'score', $3::integer, 'detail', $4::jsonb)"
     " FROM u, old RETURNING 1"},
    /* Totals from the per-item scores (a second statement: it sees the first's rows). */
    {"attempt_totals",
     "UPDATE attempts a SET score = t.total, needs_marking = t.open"
     " FROM (SELECT coalesce(sum(score), 0) AS total, bool_or(score IS NULL) AS open"
     "   FROM attempt_scores WHERE attempt_id = $1::bigint) t"
     " WHERE a.id = $1::bigint RETURNING a.score, a.needs_marking"},
    {"regrade_load",
     "SELECT ti.item_id, ti.version, ti.points, nv.kind, nv.scoring::text, ov.kind, nv.qti_xml,"
     " (SELECT m.max_score::text FROM item_max_scores m WHERE m.item_id = ti.item_id"
     "   AND m.version = $3::integer)"
     " FROM test_items ti JOIN item_versions ov ON ov.item_id = ti.item_id"
     "  AND ov.version = ti.version"
     " LEFT JOIN item_versions nv ON nv.item_id = ti.item_id AND nv.version = $3::integer"
     " WHERE ti.test_id = $1::bigint AND ti.item_ref = $2"},
    /* Every scored answer of the test for the item, with the version that scored it. */
    {"regrade_answers",
     "SELECT a.id, r.response::text, x.score, x.marked_by IS NOT NULL,"
     " coalesce((x.detail->>'scoring_version')::integer, 0)"
     " FROM sessions se JOIN attempts a ON a.session_id = se.id"
     " JOIN attempt_scores x ON x.attempt_id = a.id AND x.item_ref = $2"
     " LEFT JOIN responses r ON r.attempt_id = a.id AND r.item_ref = $2"
     " WHERE se.test_id = $1::bigint AND a.scored_at IS NOT NULL ORDER BY a.id"},
    {"regrade_version",
     "UPDATE test_items SET scoring_version = $3::integer"
     " WHERE test_id = $1::bigint AND item_ref = $2"},
    /* Applies the new scores of one item and refreshes the totals of every
     * attempt touched, with one audit row per changed answer. */
    {"regrade_apply",
     "WITH c AS (SELECT * FROM jsonb_to_recordset($3::jsonb)"
     "   AS c(attempt bigint, old integer, new integer, detail jsonb)),"
     " u AS (UPDATE attempt_scores x SET score = c.new, detail = CASE WHEN c.new IS NULL"
     "    OR x.marked_by IS NOT NULL THEN x.detail ELSE x.detail - 'error' - 'needs_marking'"
     "    END || c.detail"
     "  FROM c WHERE x.attempt_id = c.attempt AND x.item_ref = $2 RETURNING x.attempt_id,"
     "   x.school_id)"
     " INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, old_value,"
     "  new_value)"
     " SELECT u.school_id, $4::bigint, 'attempt.regrade', 'attempt', u.attempt_id::text,"
     "  jsonb_build_object('test_id', $1::bigint, 'item_ref', $2, 'score', c.old),"
     "  jsonb_build_object('test_id', $1::bigint, 'item_ref', $2, 'score', c.new,"
     "   'scoring_version', c.detail->'scoring_version')"
     " FROM u JOIN c ON c.attempt = u.attempt_id WHERE c.old IS DISTINCT FROM c.new"
     " RETURNING 1"},
    {"regrade_totals",
     "UPDATE attempts a SET score = t.total, needs_marking = t.open"
     " FROM (SELECT x.attempt_id, coalesce(sum(x.score), 0) AS total,"
     "   bool_or(x.score IS NULL) AS open FROM attempt_scores x"
     "   WHERE x.attempt_id IN (SELECT (e->>'attempt')::bigint"
     "     FROM jsonb_array_elements($1::jsonb) e) GROUP BY x.attempt_id) t"
     " WHERE a.id = t.attempt_id"},
};

void
kt_marking_register(void)
{
    pg_register_statements(marking_stmts, (int)(sizeof(marking_stmts) / sizeof(marking_stmts[0])));
}


/* GET /api/v1/sessions/{id}/results runs session_results in results.c, with
 * the statistics. */

/* ------------------------------------------------------------------------ */
/* PUT /api/v1/attempts/{id}/marks/{item_ref}                               */

struct mark {
    json_t *body; /* {criteria: ["0.5", ...]} or {points: "1.25"}, comment */
};

static void
mark_free(void *p)
{
    struct mark *m = p;
    json_decref(m->body);
    free(m);
}

static void
marked(http_request *req, pg_query *q)
{
    struct mark *m = req->ctx;
    if (q->status != PG_OK) {
        api_db_error_doing(req, q, "chấm điểm bài làm này");
        return;
    }
    const char *total = pg_value(q, 1, 0, 0), *open = pg_value(q, 1, 0, 1);
    api_json(req, 200,
             json_pack("{s:s,s:o,s:o,s:b}", "item_ref", req->params[1], "score",
                       kt_forms_points_json(json_integer_value(json_object_get(m->body, "score"))),
                       "attempt_score", kt_forms_points_json(total ? strtoll(total, NULL, 10) : 0),
                       "attempt_needs_marking", open && open[0] == 't'));
}

/* A mark in hundredths: like kt_forms_points, but 0 is a valid mark. */
static int64_t
mark_amount(const json_t *v)
{
    kt_decimal d;
    if ((json_is_integer(v) && json_integer_value(v) == 0) ||
        (json_is_string(v) && kt_decimal_parse(json_string_value(v), &d) == 0 && d.units == 0))
        return 0;
    return kt_forms_points(v);
}

/* The mark in hundredths of the item's points from the body, or -1 with
 * *why set. An essay is marked per rubric criterion, in the rubric's own
 * points, and scaled to the item's points in the test. */
static int64_t
mark_of(const char *kind, const json_t *scoring, int64_t points, const json_t *body,
        json_t *detail, const char **why)
{
    const json_t *criteria = json_object_get(body, "criteria");
    if (criteria) {
        const json_t *rubric = json_object_get(scoring, "rubric");
        if (strcmp(kind, "ESSAY") != 0 || !json_is_array(rubric)) {
            *why = "Chỉ câu tự luận có tiêu chí chấm (rubric) mới chấm theo tiêu chí.";
            return -1;
        }
        if (!json_is_array(criteria) || json_array_size(criteria) != json_array_size(rubric)) {
            *why = "Cần đúng một điểm cho mỗi tiêu chí của hướng dẫn chấm.";
            return -1;
        }
        int64_t got = 0, max = 0;
        size_t i;
        const json_t *c;
        json_array_foreach(rubric, i, c)
        {
            int64_t cmax = kt_forms_points(json_object_get(c, "points"));
            const json_t *given = json_array_get(criteria, i);
            int64_t g = mark_amount(given);
            if (cmax <= 0 || g < 0 || g > cmax) {
                *why = "Điểm mỗi tiêu chí phải từ 0 đến điểm tối đa của tiêu chí đó,"
                       " tối đa hai chữ số thập phân.";
                return -1;
            }
            got += g;
            max += cmax;
        }
        if (max == 0) {
            *why = "Hướng dẫn chấm của câu này chưa có tiêu chí nào.";
            return -1;
        }
        json_object_set(detail, "criteria", (json_t *)criteria);
        /* Scaled to the item's points in the test, half up to hundredths. */
        return (got * points * 2 + max) / (2 * max);
    }
    const json_t *pts = json_object_get(body, "points");
    int64_t p = mark_amount(pts);
    if (!pts || p < 0 || p > points) {
        *why = "Cần điểm (points) từ 0 đến điểm tối đa của câu, hoặc điểm từng tiêu chí (criteria).";
        return -1;
    }
    return p;
}

static void
mark_loaded(http_request *req, pg_query *q)
{
    struct mark *m = req->ctx;
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    if (pg_ntuples(q, 0) != 1) {
        api_error(req, 404, "not_found",
                  "Không tìm thấy câu trả lời này trong một bài đã nộp và đã chấm tự động.");
        return;
    }
    const char *kind = pg_value(q, 0, 0, 0);
    json_t *scoring = json_loads(pg_value(q, 0, 0, 1), 0, NULL);
    int64_t points = strtoll(pg_value(q, 0, 0, 2), NULL, 10);
    json_t *detail = json_object();
    const char *why = NULL;
    int64_t score = mark_of(kind, scoring, points, m->body, detail, &why);
    json_decref(scoring);
    if (score < 0) {
        json_decref(detail);
        api_error(req, 422, "invalid_mark", why);
        return;
    }
    const char *comment = json_string_value(json_object_get(m->body, "comment"));
    if (comment)
        json_object_set_new(detail, "comment", json_string(comment));
    json_object_set_new(detail, "needs_marking", json_false());
    char a[24], sc[24], u[24];
    api_id_text(a, api_param_id(req, 0));
    api_id_text(sc, score);
    api_id_text(u, req->user->id);
    char *ds = json_dumps(detail, JSON_COMPACT);
    json_decref(detail);
    const char *p[] = {a, req->params[1], sc, ds, u}, *pt[] = {a};
    pg_query *q2 = api_query(req);
    pg_query_add(q2, "mark_store", 5, p);
    pg_query_add(q2, "attempt_totals", 1, pt);
    free(ds);
    json_object_set_new(m->body, "score", json_integer(score));
    api_run(req, q2, marked);
}

void
h_attempt_mark(http_request *req)
{
    int64_t id = api_param_id(req, 0);
    const char *ref = req->params[1];
    if (id <= 0 || !ref || strlen(ref) > 32) {
        api_error(req, 404, "not_found", "Không tìm thấy câu trả lời này.");
        return;
    }
    json_t *b = api_body_object(req);
    if (!b)
        return;
    const json_t *comment = json_object_get(b, "comment");
    if (comment && (!json_is_string(comment) || json_string_length(comment) > COMMENT_MAX)) {
        json_decref(b);
        api_error(req, 400, "invalid_body", "Nhận xét (comment) là chuỗi tối đa 2000 ký tự.");
        return;
    }
    struct mark *m = calloc(1, sizeof(*m));
    if (!m)
        abort();
    m->body = b;
    req->ctx = m;
    req->ctx_free = mark_free;
    char a[24];
    api_id_text(a, id);
    pg_query *q = api_query(req);
    const char *p[] = {a, ref};
    pg_query_add(q, "mark_load", 2, p);
    api_run(req, q, mark_loaded);
}

/* ------------------------------------------------------------------------ */
/* POST /api/v1/tests/{id}/regrade {item_ref, version}                      */

/* One stored answer to rescore, copied out of the query's result. */
struct regrade_answer {
    int64_t attempt;
    char *response; /* stored JSON, NULL when unanswered */
    char *old;      /* stored score (hundredths), NULL while it needs marking */
    int manual;     /* marked by a teacher */
};

struct regrade {
    http_request *req;
    char test[24], ref[40], version[16];
    char *kind, *scoring, *qti_xml, *stated_max; /* stated_max: the teacher's, or NULL */
    int64_t points;
    int rounds;
    json_t *changed; /* [{attempt, old, new}] over every round */
    int unchanged, manual;
    struct regrade_answer *answers; /* this round's, scored on the CPU pool */
    size_t nanswers;
    json_t *rows; /* what this round stores */
};

static void
regrade_answers_free(struct regrade *g)
{
    for (size_t i = 0; i < g->nanswers; i++) {
        free(g->answers[i].response);
        free(g->answers[i].old);
    }
    free(g->answers);
    g->answers = NULL;
    g->nanswers = 0;
}

static void
regrade_free(void *p)
{
    struct regrade *g = p;
    regrade_answers_free(g);
    json_decref(g->rows);
    free(g->kind);
    free(g->scoring);
    free(g->qti_xml);
    free(g->stated_max);
    json_decref(g->changed);
    free(g);
}

static void regrade_pass(http_request *req);

static void
regrade_applied(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    regrade_pass(req); /* answers scored meanwhile on the old version get their turn */
}

/* On the CPU pool: the answers of this round scored with the corrected
 * version (QTI items compile their processing: no work for a loop). */
static void
regrade_work(void *arg)
{
    struct regrade *g = arg;
    int sv = atoi(g->version);
    g->rows = json_array();
    for (size_t i = 0; i < g->nanswers; i++) {
        const struct regrade_answer *an = &g->answers[i];
        json_t *old = an->old ? json_integer(strtoll(an->old, NULL, 10)) : json_null();
        int64_t score;
        json_t *detail = kt_grade_item(g->kind, g->scoring, g->qti_xml, an->response, g->points,
                                       g->stated_max, &score);
        json_t *now = score >= 0 ? json_integer(score) : json_null();
        if (an->manual || score < 0) {
            /* A teacher's mark (or an essay waiting for one) stands; only the
             * scoring version moves. */
            json_decref(detail);
            json_decref(now);
            detail = json_object();
            now = json_incref(old);
            g->manual += an->manual;
        }
        json_object_set_new(detail, "scoring_version", json_integer(sv));
        json_t *row = json_pack("{s:I,s:O,s:O,s:o}", "attempt", (json_int_t)an->attempt, "old",
                                old, "new", now, "detail", detail);
        if (json_equal(old, now))
            g->unchanged += !an->manual;
        else
            json_array_append_new(g->changed, json_pack("{s:O,s:O,s:O}", "attempt_id",
                                                        json_object_get(row, "attempt"), "old",
                                                        old, "new", now));
        json_decref(old);
        json_decref(now);
        json_array_append_new(g->rows, row);
    }
}

/* Back on the loop: store this round, or report when nothing is left. */
static void
regrade_scored(void *arg)
{
    struct regrade *g = arg;
    http_request *req = g->req;
    regrade_answers_free(g);
    json_t *rows = g->rows;
    g->rows = NULL;
    if (json_array_size(rows) == 0 || ++g->rounds > REGRADE_ROUNDS) {
        json_decref(rows);
        json_t *changed = json_array();
        size_t i;
        json_t *c;
        json_array_foreach(g->changed, i, c)
        {
            const json_t *o = json_object_get(c, "old"), *n = json_object_get(c, "new");
            json_array_append_new(
                changed, json_pack("{s:O,s:o,s:o}", "attempt_id", json_object_get(c, "attempt_id"),
                                   "old", json_is_integer(o) ? kt_forms_points_json(json_integer_value(o)) : json_null(),
                                   "new", json_is_integer(n) ? kt_forms_points_json(json_integer_value(n)) : json_null()));
        }
        api_json(req, 200,
                 json_pack("{s:s,s:i,s:o,s:i,s:i}", "item_ref", g->ref, "scoring_version",
                           atoi(g->version), "changed", changed, "unchanged", g->unchanged,
                           "manual_kept", g->manual));
        return;
    }
    char *doc = json_dumps(rows, JSON_COMPACT);
    json_decref(rows);
    char u[24];
    api_id_text(u, req->user->id);
    const char *pa[] = {g->test, g->ref, doc, u}, *pt[] = {doc};
    pg_query *q2 = api_query(req);
    pg_query_add(q2, "regrade_apply", 4, pa);
    pg_query_add(q2, "regrade_totals", 1, pt);
    free(doc);
    api_run(req, q2, regrade_applied);
}

static char *
dup_value(const pg_query *q, int row, int col)
{
    const char *v = pg_value(q, 0, row, col);
    return v ? strdup(v) : NULL;
}

static void
regrade_answers(http_request *req, pg_query *q)
{
    struct regrade *g = req->ctx;
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    int sv = atoi(g->version), n = pg_ntuples(q, 0);
    g->answers = calloc((size_t)n + 1, sizeof(*g->answers));
    if (!g->answers)
        abort();
    for (int r = 0; r < n; r++) {
        if (atoi(pg_value(q, 0, r, 4)) == sv)
            continue; /* already on the corrected scoring */
        g->answers[g->nanswers++] = (struct regrade_answer){
            strtoll(pg_value(q, 0, r, 0), NULL, 10), dup_value(q, r, 1), dup_value(q, r, 2),
            pg_value(q, 0, r, 3)[0] == 't'};
    }
    kt_cpu_submit(req->worker->base, regrade_work, regrade_scored, g);
}

static void
regrade_pass(http_request *req)
{
    struct regrade *g = req->ctx;
    const char *p[] = {g->test, g->ref};
    pg_query *q = api_query(req);
    pg_query_add(q, "regrade_answers", 2, p);
    api_run(req, q, regrade_answers);
}

static void
regrade_loaded(http_request *req, pg_query *q)
{
    struct regrade *g = req->ctx;
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    if (pg_ntuples(q, 0) != 1) {
        api_error(req, 404, "not_found", "Đề không có câu hỏi này.");
        return;
    }
    const char *new_kind = pg_value(q, 0, 0, 3);
    if (!new_kind || atoi(g->version) < atoi(pg_value(q, 0, 0, 1))) {
        api_error(req, 422, "invalid_version",
                  "Phiên bản chấm phải là phiên bản đã dùng trong đề hoặc một phiên bản sau của"
                  " chính câu hỏi đó.");
        return;
    }
    if (strcmp(new_kind, pg_value(q, 0, 0, 5)) != 0) {
        api_error(req, 422, "invalid_version",
                  "Phiên bản mới phải cùng dạng câu hỏi với phiên bản học sinh đã làm.");
        return;
    }
    g->kind = strdup(new_kind);
    g->scoring = strdup(pg_value(q, 0, 0, 4));
    g->qti_xml = pg_value(q, 0, 0, 6) ? strdup(pg_value(q, 0, 0, 6)) : NULL;
    g->stated_max = pg_value(q, 0, 0, 7) ? strdup(pg_value(q, 0, 0, 7)) : NULL;
    g->points = strtoll(pg_value(q, 0, 0, 2), NULL, 10);
    const char *p[] = {g->test, g->ref, g->version};
    pg_query *q2 = api_query(req);
    pg_query_add(q2, "regrade_version", 3, p);
    api_run(req, q2, regrade_applied);
}

void
h_test_regrade(http_request *req)
{
    json_t *b = api_body_object(req);
    if (!b)
        return;
    const char *ref = json_string_value(json_object_get(b, "item_ref"));
    const json_t *v = json_object_get(b, "version");
    if (!ref || strlen(ref) > 32 || !json_is_integer(v) || json_integer_value(v) < 1) {
        json_decref(b);
        api_error(req, 400, "invalid_body",
                  "Cần item_ref (mã câu trong đề) và version (phiên bản có đáp án đã sửa).");
        return;
    }
    struct regrade *g = calloc(1, sizeof(*g));
    if (!g)
        abort();
    api_id_text(g->test, api_param_id(req, 0));
    snprintf(g->ref, sizeof(g->ref), "%s", ref);
    snprintf(g->version, sizeof(g->version), "%lld", (long long)json_integer_value(v));
    g->changed = json_array();
    g->req = req;
    json_decref(b);
    req->ctx = g;
    req->ctx_free = regrade_free;
    const char *p[] = {g->test, g->ref, g->version};
    pg_query *q = api_query(req);
    pg_query_add(q, "regrade_load", 3, p);
    api_run(req, q, regrade_loaded);
}

/* ------------------------------------------------------------------------ */
/* GET /api/v1/sessions/{id}/marking, GET /api/v1/sessions/{id}/marking/{ref} */

static void
queue_done(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error_doing(req, q, "chấm bài của buổi kiểm tra này");
        return;
    }
    api_reply_row(req, q, 0, 200, "Không tìm thấy buổi kiểm tra.");
}

void
h_session_marking(http_request *req)
{
    char s[24];
    api_id_text(s, api_param_id(req, 0));
    pg_query *q = api_query(req);
    const char *p[] = {s};
    pg_query_add(q, "marking_queue", 1, p);
    api_run(req, q, queue_done);
}

static void
queue_item_done(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error_doing(req, q, "chấm bài của buổi kiểm tra này");
        return;
    }
    api_reply_row(req, q, 0, 200, "Không tìm thấy câu hỏi này trong đề của buổi kiểm tra.");
}

void
h_session_marking_item(http_request *req)
{
    const char *ref = req->params[1];
    if (api_param_id(req, 0) <= 0 || !ref || strlen(ref) > 32) {
        api_error(req, 404, "not_found", "Không tìm thấy câu hỏi này trong đề của buổi kiểm tra.");
        return;
    }
    char s[24];
    api_id_text(s, api_param_id(req, 0));
    pg_query *q = api_query(req);
    const char *p[] = {s, ref};
    pg_query_add(q, "marking_item", 2, p);
    api_run(req, q, queue_item_done);
}

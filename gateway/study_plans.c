/*
 * A class's study plan (kế hoạch môn học) and homeroom teacher (giáo viên
 * chủ nhiệm), migrations 0031 and 0032.
 *
 * Upper secondary (grades 10-12): every pupil studies the compulsory
 * subjects (subject_configs.compulsory) plus the class's electives; a
 * pupil's own choice may add or drop subjects; chuyên đề học tập (topics)
 * are recorded with the plan. The academic level is computed over each
 * pupil's subjects, so a plan change recomputes the class.
 *
 * GET /api/v1/classes/{id}/study-plan   staff: the plan and each pupil's subjects
 * PUT /api/v1/classes/{id}/study-plan   school_admin: replace it (audited),
 *     {electives: [code], topics: [code], exceptions: [{student_id, add, drop}]}
 * PUT /api/v1/classes/{id}/homeroom     school_admin: {teacher_id | null} (audited)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

static const struct pg_stmt_def plan_stmts[] = {
    {"study_plan_get",
     "SELECT json_build_object('class', json_build_object('id', c.id, 'name', c.name,"
     "  'grade', c.grade, 'school_year', c.school_year,"
     "  'homeroom_teacher_id', c.homeroom_teacher_id),"
     " 'has_plan', EXISTS (SELECT 1 FROM class_study_plans p WHERE p.class_id = c.id),"
     " 'compulsory', coalesce((SELECT json_agg(sc.subject ORDER BY sc.subject)"
     "   FROM kt_class_subject_configs(c.id) sc WHERE sc.compulsory), '[]'),"
     " 'electives', coalesce((SELECT json_agg(p.subject ORDER BY p.subject)"
     "   FROM class_study_plans p WHERE p.class_id = c.id AND p.kind = 'elective'), '[]'),"
     " 'topics', coalesce((SELECT json_agg(p.subject ORDER BY p.subject)"
     "   FROM class_study_plans p WHERE p.class_id = c.id AND p.kind = 'topic'), '[]'),"
     " 'exceptions', coalesce((SELECT json_agg(json_build_object('student_id', x.student_id,"
     "   'add', x.adds, 'drop', x.drops) ORDER BY x.student_id) FROM (SELECT ch.student_id,"
     "   coalesce(json_agg(ch.subject ORDER BY ch.subject) FILTER (WHERE ch.studies), '[]')"
     "    AS adds,"
     "   coalesce(json_agg(ch.subject ORDER BY ch.subject) FILTER (WHERE NOT ch.studies), '[]')"
     "    AS drops"
     "   FROM student_study_choices ch WHERE ch.class_id = c.id GROUP BY ch.student_id) x), '[]'),"
     " 'students', coalesce((SELECT json_agg(json_build_object('id', u.id,"
     "   'full_name', u.full_name, 'subjects', kt_student_subjects(c.id, u.id))"
     "   ORDER BY u.full_name, u.id)"
     "   FROM class_members cm JOIN users u ON u.id = cm.user_id AND u.role = 'student'"
     "   WHERE cm.class_id = c.id), '[]'))::text"
     " FROM classes c WHERE c.id = $1::bigint"},
    /* $1 class, $2 plan, $3 actor; the class's school year for the recompute. */
    {"study_plan_set", "SELECT kt_study_plan_set($1::bigint, $2::jsonb, $3::bigint)::text,"
                       " (SELECT school_year FROM classes WHERE id = $1::bigint)"},
    /* $1 class, $2 teacher or NULL, $3 school, $4 actor. Counts the class,
     * the teacher (a teacher or subject_head of the school) and the update. */
    {"homeroom_set",
     "WITH c AS (SELECT id, homeroom_teacher_id AS old FROM classes WHERE id = $1::bigint"
     "   AND school_id = $3::bigint),"
     " t AS (SELECT id FROM users WHERE id = $2::bigint AND school_id = $3::bigint"
     "   AND role IN ('teacher', 'subject_head')),"
     " up AS (UPDATE classes SET homeroom_teacher_id = $2::bigint WHERE id = $1::bigint"
     "   AND school_id = $3::bigint AND ($2::bigint IS NULL OR EXISTS (SELECT 1 FROM t))"
     "   RETURNING id),"
     " a AS (INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, old_value,"
     "   new_value)"
     "  SELECT $3::bigint, $4::bigint, 'class.homeroom', 'class', up.id::text,"
     "   jsonb_build_object('homeroom_teacher_id', (SELECT old FROM c)),"
     "   jsonb_build_object('homeroom_teacher_id', $2::bigint) FROM up RETURNING 1)"
     " SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM t), (SELECT count(*) FROM up),"
     "  (SELECT count(*) FROM a)"},
};

void
kt_study_plans_register(void)
{
    pg_register_statements(plan_stmts, (int)(sizeof(plan_stmts) / sizeof(plan_stmts[0])));
}

/* ---- GET ------------------------------------------------------------------ */

static void
plan_shown(http_request *req, pg_query *q)
{
    api_reply_row(req, q, 0, 200, "Không tìm thấy lớp học.");
}

void
h_class_study_plan_get(http_request *req)
{
    char cid[24];
    api_id_text(cid, api_param_id(req, 0));
    const char *p[] = {cid};
    pg_query *q = api_query(req);
    pg_query_add(q, "study_plan_get", 1, p);
    api_run(req, q, plan_shown);
}

/* ---- PUT study-plan --------------------------------------------------------- */

/* A list of subject codes, or a field error. */
static int
codes_ok(const json_t *v)
{
    if (!v)
        return 1;
    if (!json_is_array(v) || json_array_size(v) > 40)
        return 0;
    size_t i;
    const json_t *c;
    json_array_foreach(v, i, c)
    {
        const char *s = json_string_value(c);
        if (!s || !*s || strlen(s) > 31)
            return 0;
    }
    return 1;
}

static void
plan_stored(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    json_t *r = pg_ntuples(q, 0) == 1 && pg_value(q, 0, 0, 0)
                    ? json_loads(pg_value(q, 0, 0, 0), 0, NULL)
                    : NULL;
    if (!r || json_is_true(json_object_get(r, "not_found"))) {
        json_decref(r);
        api_error(req, 404, "not_found", "Không tìm thấy lớp học.");
        return;
    }
    if (!json_is_true(json_object_get(r, "ok"))) {
        json_t *errors = json_incref(json_object_get(r, "errors"));
        const char *first =
            json_string_value(json_object_get(json_array_get(errors, 0), "message"));
        char msg[600];
        snprintf(msg, sizeof(msg), "Kế hoạch môn học chưa lưu được: %s",
                 first ? first : "dữ liệu không hợp lệ.");
        json_decref(r);
        api_error_details(req, 422, "invalid_study_plan", msg, errors);
        return;
    }
    json_decref(r);
    char year[16];
    snprintf(year, sizeof(year), "%s", pg_value(q, 0, 0, 1));
    int64_t cls = api_param_id(req, 0);
    kt_records_recompute_class(req, year, cls,
                               json_pack("{s:I,s:b}", "class_id", (json_int_t)cls, "saved", 1));
}

void
h_class_study_plan_set(http_request *req)
{
    json_t *b = api_body_object(req);
    if (!b)
        return;
    const json_t *ex = json_object_get(b, "exceptions");
    int ok = codes_ok(json_object_get(b, "electives")) && codes_ok(json_object_get(b, "topics")) &&
             (!ex || (json_is_array(ex) && json_array_size(ex) <= 200));
    size_t i;
    const json_t *e;
    json_array_foreach(ex, i, e)
    {
        ok = ok && json_is_object(e) && json_is_integer(json_object_get(e, "student_id")) &&
             codes_ok(json_object_get(e, "add")) && codes_ok(json_object_get(e, "drop"));
    }
    if (!ok || api_param_id(req, 0) <= 0) {
        json_decref(b);
        api_error(
            req, 400, "invalid_body",
            "Cần electives (danh sách mã môn lựa chọn), topics (mã chuyên đề, ví dụ "
            "TOAN.CD1) và exceptions ([{student_id, add, drop}] cho học sinh chọn khác lớp).");
        return;
    }
    json_t *plan = json_object();
    static const char *const keys[] = {"electives", "topics", "exceptions"};
    for (size_t k = 0; k < 3; k++) {
        json_t *v = json_object_get(b, keys[k]);
        json_object_set_new(plan, keys[k], v ? json_incref(v) : json_array());
    }
    json_decref(b);
    char *doc = json_dumps(plan, JSON_COMPACT);
    json_decref(plan);
    char cid[24], actor[24];
    api_id_text(cid, api_param_id(req, 0));
    api_id_text(actor, req->user->id);
    const char *p[] = {cid, doc, actor};
    pg_query *q = api_query(req);
    pg_query_add(q, "study_plan_set", 3, p);
    free(doc);
    api_run(req, q, plan_stored);
}

/* ---- PUT homeroom ------------------------------------------------------------ */

static void
homeroom_stored(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    if (atoi(pg_value(q, 0, 0, 0)) == 0) {
        api_error(req, 404, "not_found", "Không tìm thấy lớp học.");
        return;
    }
    if (atoi(pg_value(q, 0, 0, 2)) == 0) {
        api_error_details(req, 422, "invalid_teacher",
                          "Giáo viên chủ nhiệm phải là một giáo viên của trường.",
                          json_pack("[{s:s,s:s}]", "field", "teacher_id", "message",
                                    "Chọn một tài khoản giáo viên hoặc tổ trưởng của trường."));
        return;
    }
    api_json(req, 200,
             json_pack("{s:I,s:o}", "class_id", (json_int_t)api_param_id(req, 0),
                       "homeroom_teacher_id", json_deep_copy(req->ctx)));
}

static void
homeroom_free(void *p)
{
    json_decref(p);
}

void
h_class_homeroom_set(http_request *req)
{
    json_t *b = api_body_object(req);
    if (!b)
        return;
    const json_t *t = json_object_get(b, "teacher_id");
    if (!t || !(json_is_null(t) || (json_is_integer(t) && json_integer_value(t) > 0)) ||
        api_param_id(req, 0) <= 0) {
        json_decref(b);
        api_error_details(req, 400, "invalid_body",
                          "Cần teacher_id: mã tài khoản giáo viên chủ nhiệm, hoặc null để bỏ.",
                          json_pack("[{s:s,s:s}]", "field", "teacher_id", "message",
                                    "Mã giáo viên (số) hoặc null."));
        return;
    }
    char cid[24], tid[24], sch[24], actor[24];
    api_id_text(cid, api_param_id(req, 0));
    if (json_is_integer(t))
        api_id_text(tid, json_integer_value(t));
    api_id_text(sch, req->user->school_id);
    api_id_text(actor, req->user->id);
    req->ctx = json_incref((json_t *)t);
    req->ctx_free = homeroom_free;
    const char *p[] = {cid, json_is_integer(t) ? tid : NULL, sch, actor};
    json_decref(b);
    pg_query *q = api_query(req);
    pg_query_add(q, "homeroom_set", 4, p);
    api_run(req, q, homeroom_stored);
}

/*
 * Teaching assignments (phân công giảng dạy): which teacher teaches which
 * subject to which class (migration 0020). A school_admin lists, creates and
 * removes them (audited); a teacher or subject_head lists their own. What a
 * teacher may write is bounded by them: the handlers' statements check with
 * kt_require_* and triggers refuse the rest (migration 0021, KT403).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "item.h"

#define SUBJECT_MAX 32

static const struct pg_stmt_def assignment_stmts[] = {
    /* $1 teacher filter, $2 class filter, $3 the caller when only their own. */
    {"assignment_list",
     "SELECT coalesce(json_agg(json_build_object('id', a.id,"
     "   'teacher', json_build_object('id', u.id, 'username', u.username,"
     "    'full_name', u.full_name),"
     "   'subject', a.subject,"
     "   'class', json_build_object('id', c.id, 'name', c.name, 'grade', c.grade,"
     "    'school_year', c.school_year))"
     "  ORDER BY c.school_year DESC, c.grade, c.name, a.subject, u.full_name, a.id), '[]')::text"
     " FROM teaching_assignments a JOIN users u ON u.id = a.teacher_id"
     " JOIN classes c ON c.id = a.class_id"
     " WHERE ($1::bigint IS NULL OR a.teacher_id = $1::bigint)"
     "  AND ($2::bigint IS NULL OR a.class_id = $2::bigint)"
     "  AND ($3::bigint IS NULL OR a.teacher_id = $3::bigint)"},
    /* $1 teacher, $2 subject, $3 class, $4 school, $5 actor. Returns whether
     * the teacher and the class are of the school, and the new id (NULL when
     * the assignment exists already). */
    {"assignment_create",
     "WITH t AS (SELECT id FROM users WHERE id = $1::bigint AND school_id = $4::bigint"
     "   AND role IN ('teacher', 'subject_head')),"
     " c AS (SELECT id FROM classes WHERE id = $3::bigint AND school_id = $4::bigint),"
     " ins AS (INSERT INTO teaching_assignments (school_id, teacher_id, subject, class_id,"
     "   created_by)"
     "  SELECT $4::bigint, t.id, $2::text, c.id, $5::bigint FROM t, c"
     "  ON CONFLICT (teacher_id, subject, class_id) DO NOTHING RETURNING id),"
     " a AS (INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, new_value)"
     "  SELECT $4::bigint, $5::bigint, 'assignment.create', 'teaching_assignment', id::text,"
     "   jsonb_build_object('teacher_id', $1::bigint, 'subject', $2::text,"
     "    'class_id', $3::bigint) FROM ins RETURNING 1)"
     " SELECT (SELECT count(*) FROM t), (SELECT count(*) FROM c), (SELECT id FROM ins),"
     "  (SELECT count(*) FROM a)"},
    {"assignment_view",
     "SELECT json_build_object('id', a.id,"
     "  'teacher', json_build_object('id', u.id, 'username', u.username,"
     "   'full_name', u.full_name),"
     "  'subject', a.subject,"
     "  'class', json_build_object('id', c.id, 'name', c.name, 'grade', c.grade,"
     "   'school_year', c.school_year))::text"
     " FROM teaching_assignments a JOIN users u ON u.id = a.teacher_id"
     " JOIN classes c ON c.id = a.class_id"
     " WHERE a.id = (SELECT max(id) FROM teaching_assignments WHERE teacher_id = $1::bigint"
     "  AND subject = $2::text AND class_id = $3::bigint)"},
    {"assignment_delete",
     "WITH d AS (DELETE FROM teaching_assignments WHERE id = $1::bigint"
     "   AND school_id = $2::bigint RETURNING id, school_id, teacher_id, subject, class_id),"
     " a AS (INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, old_value)"
     "  SELECT school_id, $3::bigint, 'assignment.delete', 'teaching_assignment', id::text,"
     "   jsonb_build_object('teacher_id', teacher_id, 'subject', subject, 'class_id', class_id)"
     "  FROM d RETURNING 1)"
     " SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM a)"},
};

void
kt_assignments_register(void)
{
    pg_register_statements(assignment_stmts,
                           (int)(sizeof(assignment_stmts) / sizeof(assignment_stmts[0])));
}

static void
bad_field(http_request *req, const char *field, const char *message)
{
    api_error_details(req, 422, "invalid_assignment", message,
                      json_pack("[{s:s,s:s}]", "field", field, "message", message));
}

/* ------------------------------------------------------------------------ */
/* GET /api/v1/assignments?teacher_id=&class_id=                            */

static void
listed(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    const char *j = pg_value(q, 0, 0, 0);
    json_t *list = json_loads(j ? j : "[]", 0, NULL);
    api_json(req, 200, json_pack("{s:o}", "assignments", list ? list : json_array()));
}

/* A query parameter as an id: 1 and *out set, 0 when absent, -1 when not an id. */
static int
query_id(const http_request *req, const char *name, char out[24])
{
    char *v = api_query_text(req, name);
    if (!v)
        return 0;
    int ok = strlen(v) <= 18 && v[strspn(v, "0123456789")] == '\0' && strtoll(v, NULL, 10) > 0;
    if (ok)
        api_id_text(out, strtoll(v, NULL, 10));
    free(v);
    return ok ? 1 : -1;
}

void
h_assignments_list(http_request *req)
{
    char teacher[24], cls[24], self[24];
    int ht = query_id(req, "teacher_id", teacher), hc = query_id(req, "class_id", cls);
    if (ht < 0 || hc < 0) {
        api_error(req, 400, "invalid_parameter",
                  ht < 0 ? "Mã giáo viên (teacher_id) phải là số nguyên dương."
                         : "Mã lớp (class_id) phải là số nguyên dương.");
        return;
    }
    int own = req->user->role == ROLE_TEACHER || req->user->role == ROLE_SUBJECT_HEAD;
    api_id_text(self, req->user->id);
    const char *p[] = {ht ? teacher : NULL, hc ? cls : NULL, own ? self : NULL};
    pg_query *q = api_query(req);
    pg_query_add(q, "assignment_list", 3, p);
    api_run(req, q, listed);
}

/* ------------------------------------------------------------------------ */
/* POST /api/v1/assignments {teacher_id, subject, class_id}                 */

static void
created(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    if (atoi(pg_value(q, 0, 0, 0)) == 0) {
        bad_field(req, "teacher_id",
                  "Không có giáo viên hay tổ trưởng chuyên môn này trong trường (teacher_id).");
    } else if (atoi(pg_value(q, 0, 0, 1)) == 0) {
        bad_field(req, "class_id", "Không có lớp này trong trường (class_id).");
    } else if (!pg_value(q, 0, 0, 2)) {
        api_error(req, 409, "duplicate_assignment",
                  "Giáo viên này đã được phân công dạy môn này ở lớp này rồi.");
    } else {
        api_reply_row(req, q, 1, 201, "Không tìm thấy phân công vừa tạo.");
    }
}

void
h_assignment_create(http_request *req)
{
    json_t *b = api_body_object(req);
    if (!b)
        return;
    const json_t *t = json_object_get(b, "teacher_id"), *c = json_object_get(b, "class_id");
    const char *subject = json_string_value(json_object_get(b, "subject"));
    if (!json_is_integer(t) || json_integer_value(t) <= 0) {
        json_decref(b);
        bad_field(req, "teacher_id", "Hãy chọn giáo viên (teacher_id là mã số nguyên dương).");
        return;
    }
    if (!subject || strlen(subject) > SUBJECT_MAX || !kt_item_code_valid(subject)) {
        json_decref(b);
        bad_field(req, "subject",
                  "Mã môn học (subject) không hợp lệ: chữ in hoa và số, ví dụ TOAN, NV, LY.");
        return;
    }
    if (!json_is_integer(c) || json_integer_value(c) <= 0) {
        json_decref(b);
        bad_field(req, "class_id", "Hãy chọn lớp (class_id là mã số nguyên dương).");
        return;
    }
    char teacher[24], cls[24], school[24], actor[24], subj[SUBJECT_MAX + 1];
    api_id_text(teacher, json_integer_value(t));
    api_id_text(cls, json_integer_value(c));
    api_id_text(school, req->user->school_id);
    api_id_text(actor, req->user->id);
    snprintf(subj, sizeof(subj), "%s", subject);
    json_decref(b);
    const char *p[] = {teacher, subj, cls, school, actor}, *pv[] = {teacher, subj, cls};
    pg_query *q = api_query(req);
    pg_query_add(q, "assignment_create", 5, p);
    pg_query_add(q, "assignment_view", 3, pv);
    api_run(req, q, created);
}

/* ------------------------------------------------------------------------ */
/* DELETE /api/v1/assignments/{id}                                          */

static void
deleted(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    if (atoi(pg_value(q, 0, 0, 0)) == 0) {
        api_error(req, 404, "not_found", "Không tìm thấy phân công giảng dạy này.");
        return;
    }
    http_reply(req, 204, "application/json; charset=utf-8", "", 0);
}

void
h_assignment_delete(http_request *req)
{
    int64_t id = api_param_id(req, 0);
    if (!id) {
        api_error(req, 404, "not_found", "Không tìm thấy phân công giảng dạy này.");
        return;
    }
    char a[24], school[24], actor[24];
    api_id_text(a, id);
    api_id_text(school, req->user->school_id);
    api_id_text(actor, req->user->id);
    const char *p[] = {a, school, actor};
    pg_query *q = api_query(req);
    pg_query_add(q, "assignment_delete", 3, p);
    api_run(req, q, deleted);
}

/*
 * Read-only views of a school's organisation: schools, classes and class
 * rosters. Queries build their JSON in PostgreSQL and run under the caller's
 * tenant, so row-level security bounds what any of them can return.
 */
#include <stdio.h>
#include <string.h>

#include "api.h"

static const struct pg_stmt_def school_stmts[] = {
    {"school_list",
     "SELECT coalesce(json_agg(json_build_object('id', id, 'code', code, 'name', name)"
     " ORDER BY name), '[]') FROM schools"},
    /* Students see only their own classes; staff see the whole school.
     * Only students are class members (a student reads no other user row). */
    {"class_list",
     "SELECT coalesce(json_agg(json_build_object('id', c.id, 'school_id', c.school_id,"
     " 'name', c.name, 'grade', c.grade, 'school_year', c.school_year,"
     " 'students', (SELECT count(*) FROM class_members m WHERE m.class_id = c.id))"
     " ORDER BY c.school_year DESC, c.grade, c.name), '[]')"
     " FROM classes c WHERE $2::text <> 'student'"
     "    OR c.id IN (SELECT class_id FROM class_members WHERE user_id = $1::bigint)"},
    {"class_get",
     "SELECT json_build_object('id', id, 'school_id', school_id, 'name', name, 'grade', grade,"
     " 'school_year', school_year) FROM classes WHERE id = $1::bigint"},
    /* Vietnamese order: by given name (last word), then the full name. */
    {"class_students",
     "SELECT coalesce(json_agg(json_build_object('id', u.id, 'username', u.username,"
     " 'student_code', u.student_code, 'full_name', u.full_name,"
     " 'birth_date', to_char(u.birth_date, 'DD/MM/YYYY'), 'gender', u.gender)"
     " ORDER BY regexp_replace(u.full_name, '^.* ', '') COLLATE \"vi-x-icu\","
     "          u.full_name COLLATE \"vi-x-icu\"), '[]')"
     " FROM class_members m JOIN users u ON u.id = m.user_id"
     " WHERE m.class_id = $1::bigint AND u.role = 'student'"},
};

void
kt_school_register(void)
{
    pg_register_statements(school_stmts, (int)(sizeof(school_stmts) / sizeof(school_stmts[0])));
}

/* Replies {"<key>": <json of statement stmt>} . */
static void
reply_wrapped(http_request *req, const pg_query *q, int stmt, const char *key)
{
    const char *j = pg_value(q, stmt, 0, 0);
    json_error_t err;
    json_t *v = json_loads(j ? j : "[]", 0, &err);
    api_json(req, 200, json_pack("{s:o}", key, v ? v : json_array()));
}

static void
schools_done(http_request *req, pg_query *q)
{
    if (q->status != PG_OK)
        api_db_error(req, q);
    else
        reply_wrapped(req, q, 0, "schools");
}

void
h_schools(http_request *req)
{
    pg_query *q = api_query(req);
    pg_query_add(q, "school_list", 0, NULL);
    api_run(req, q, schools_done);
}

static void
classes_done(http_request *req, pg_query *q)
{
    if (q->status != PG_OK)
        api_db_error(req, q);
    else
        reply_wrapped(req, q, 0, "classes");
}

void
h_classes(http_request *req)
{
    char id[24];
    snprintf(id, sizeof(id), "%lld", (long long)req->user->id);
    const char *params[] = {id, req->user->role_name};
    pg_query *q = api_query(req);
    pg_query_add(q, "class_list", 2, params);
    api_run(req, q, classes_done);
}

static void
class_students_done(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    const char *cls = pg_value(q, 0, 0, 0);
    if (!cls) { /* absent, or another school's: RLS makes both look the same */
        api_error(req, 404, "not_found", "Không tìm thấy lớp học.");
        return;
    }
    json_error_t err;
    json_t *c = json_loads(cls, 0, &err);
    json_t *students = json_loads(pg_value(q, 1, 0, 0), 0, &err);
    json_object_set_new(c, "students", students ? students : json_array());
    api_json(req, 200, c);
}

void
h_class_students(http_request *req)
{
    int64_t cid = api_param_id(req, 0);
    if (!cid) {
        api_error(req, 404, "not_found", "Không tìm thấy lớp học.");
        return;
    }
    char id[24];
    snprintf(id, sizeof(id), "%lld", (long long)cid);
    const char *params[] = {id};
    pg_query *q = api_query(req);
    pg_query_add(q, "class_get", 1, params);
    pg_query_add(q, "class_students", 1, params);
    api_run(req, q, class_students_done);
}

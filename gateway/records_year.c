/*
 * Learner records, the year and the exchange: conduct (rèn luyện) per
 * semester and the TT27 ratings of qualities and competencies, entered by
 * the homeroom teacher or the school_admin; the year results the rules of
 * engine/yearresult.c compute from them and from the stored subject results
 * (year conduct, danh hiệu, promotion; primary year result and completion);
 * a class's submission to the sector database; the exchange records of a
 * class for a whole year.
 *
 * The year step (kt_records_year_refresh) runs after every recompute of a
 * class (records.c) and after every conduct or rating change: it reads the
 * class's inputs with its generation (migration 0029), computes in C, and
 * stores the year results and refreshes the class's outbox records
 * (kt_outbox_refresh, migration 0033) only while the generation is the one
 * read. The outbox holds a semester's records only once the semester is
 * released (locked, or submitted for the class); from then on each change is
 * a new version, and a record whose content is gone is cancelled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "records_year.h"
#include "server.h"
#include "yearresult.h"

#define YEAR_TRIES 5

static const struct pg_stmt_def year_stmts[] = {
    /* What the year rules need for one class and school year, and the
     * class's generation as of the same snapshot. */
    {"year_input",
     "SELECT json_build_object('grade', c.grade, 'students', coalesce((SELECT json_agg("
     "  json_build_object('id', u.id,"
     "  'conduct', (SELECT json_object_agg(k.semester::text, json_build_object('level', k.level,"
     "     'absent', k.absent_days)) FROM record_conduct k"
     "     WHERE k.student_id = u.id AND k.school_year = $2),"
     "  'qualities', (SELECT json_object_agg(q.aspect, q.level) FROM record_qualities q"
     "     WHERE q.student_id = u.id AND q.school_year = $2 AND q.semester = 2),"
     "  'results', coalesce((SELECT json_agg(json_build_object('subject', r.subject,"
     "     'status', r.status, 'value', r.value, 'mode', (SELECT sc.mode FROM subject_configs sc"
     "       WHERE sc.subject = r.subject AND sc.grade = c.grade"
     "         AND (sc.school_id = c.school_id OR sc.school_id IS NULL)"
     "       ORDER BY sc.school_id NULLS LAST LIMIT 1)) ORDER BY r.subject)"
     "     FROM record_results r WHERE r.student_id = u.id AND r.school_year = $2"
     "       AND r.semester = 0 AND r.subject <> ''), '[]'),"
     "  'level', (SELECT json_build_object('status', r.status, 'value', r.value)"
     "     FROM record_results r WHERE r.student_id = u.id AND r.school_year = $2"
     "       AND r.semester = 0 AND r.subject = ''),"
     "  'tests', (SELECT json_object_agg(m.subject, m.value) FROM record_marks m"
     "     WHERE m.student_id = u.id AND m.school_year = $2 AND m.semester = 2"
     "       AND m.slot = 'ck'))"
     "  ORDER BY u.id) FROM class_members cm JOIN users u ON u.id = cm.user_id"
     "  AND u.role = 'student' WHERE cm.class_id = c.id), '[]'))::text,"
     " coalesce((SELECT g.gen FROM record_generations g WHERE g.class_id = c.id"
     "   AND g.school_year = $2), 0)"
     " FROM classes c WHERE c.id = $1::bigint"},
    /* Stores the year results while the generation is the one read; the
     * first column says whether it applied. */
    {"year_store",
     "WITH g AS (SELECT kt_record_gen_hold($1::bigint, $2, $3::bigint) AS ok),"
     " s AS (INSERT INTO record_year_results AS y (school_id, student_id, class_id, school_year,"
     "   status, conduct, award, promotion, primary_result, completed, absent_days, detail,"
     "   ruleset, ruleset_version)"
     "  SELECT $4::bigint, x.student, $1::bigint, $2, x.status, x.conduct, x.award, x.promotion,"
     "   x.primary_result, x.completed, x.absent_days, jsonb_build_object('notes', x.notes,"
     "   'kiem_tra_lai', x.retest_after, 'retest_subjects', x.retest_subjects,"
     "   'year_rules', $7::text), $5, $6"
     "  FROM jsonb_to_recordset($8::jsonb) AS x(student bigint, status text, conduct text,"
     "   award text, promotion text, primary_result text, completed boolean, absent_days integer,"
     "   notes jsonb, retest_after boolean, retest_subjects jsonb) WHERE (SELECT ok FROM g)"
     "  ON CONFLICT (student_id, school_year) DO UPDATE SET class_id = EXCLUDED.class_id,"
     "   status = EXCLUDED.status, conduct = EXCLUDED.conduct, award = EXCLUDED.award,"
     "   promotion = EXCLUDED.promotion, primary_result = EXCLUDED.primary_result,"
     "   completed = EXCLUDED.completed, absent_days = EXCLUDED.absent_days,"
     "   detail = EXCLUDED.detail, ruleset = EXCLUDED.ruleset,"
     "   ruleset_version = EXCLUDED.ruleset_version, computed_at = now()"
     "  WHERE (y.class_id, y.status, y.conduct, y.award, y.promotion, y.primary_result,"
     "   y.completed, y.absent_days, y.detail, y.ruleset, y.ruleset_version) IS DISTINCT FROM"
     "   (EXCLUDED.class_id, EXCLUDED.status, EXCLUDED.conduct, EXCLUDED.award,"
     "   EXCLUDED.promotion, EXCLUDED.primary_result, EXCLUDED.completed, EXCLUDED.absent_days,"
     "   EXCLUDED.detail, EXCLUDED.ruleset, EXCLUDED.ruleset_version) RETURNING 1)"
     " SELECT (SELECT ok FROM g), (SELECT count(*) FROM s)"},
    /* Then, in the same transaction, the class's exchange records. */
    {"year_outbox", "SELECT CASE WHEN kt_record_gen_hold($1::bigint, $2, $3::bigint)"
                    " THEN kt_outbox_refresh($1::bigint, $2) END"},
    {"year_class",
     "SELECT c.grade, EXISTS (SELECT 1 FROM record_terms t WHERE t.school_id = c.school_id"
     "  AND t.school_year = $2 AND t.semester = $3::smallint)"
     " FROM classes c WHERE c.id = $1::bigint"},
    /* A semester's conduct and days of absence; the homeroom check and the
     * write are one statement; audited with the old value. */
    {"conduct_set",
     "WITH ok AS (SELECT c.school_id FROM class_members cm JOIN classes c ON c.id = cm.class_id"
     "   WHERE cm.class_id = $1::bigint AND cm.user_id = $2::bigint AND c.grade >= 6"
     "    AND kt_require_homeroom($1::bigint)),"
     " old AS (SELECT level, absent_days FROM record_conduct WHERE student_id = $2::bigint"
     "   AND school_year = $3 AND semester = $4::smallint),"
     " up AS (INSERT INTO record_conduct AS k (school_id, student_id, class_id, school_year,"
     "   semester, level, absent_days, updated_by)"
     "  SELECT ok.school_id, $2::bigint, $1::bigint, $3, $4::smallint, $5, $6::integer, $7::bigint"
     "  FROM ok ON CONFLICT (student_id, school_year, semester) DO UPDATE"
     "  SET level = EXCLUDED.level, absent_days = EXCLUDED.absent_days,"
     "   class_id = EXCLUDED.class_id, updated_by = EXCLUDED.updated_by, updated_at = now()"
     "  RETURNING 1),"
     " a AS (INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, old_value,"
     "   new_value)"
     "  SELECT ok.school_id, $7::bigint, 'record.conduct', 'record_conduct', $2::text,"
     "   (SELECT jsonb_build_object('level', level, 'absent_days', absent_days) FROM old),"
     "   jsonb_build_object('school_year', $3, 'semester', $4::smallint, 'level', $5,"
     "    'absent_days', $6::integer, 'class_id', $1::bigint) FROM ok RETURNING 1)"
     " SELECT (SELECT count(*) FROM ok), (SELECT count(*) FROM up)"},
    /* A semester's ratings: a null rating removes it. */
    {"qualities_set",
     "WITH ok AS (SELECT c.school_id FROM class_members cm JOIN classes c ON c.id = cm.class_id"
     "   WHERE cm.class_id = $1::bigint AND cm.user_id = $2::bigint AND c.grade <= 5"
     "    AND kt_require_homeroom($1::bigint)),"
     " x AS (SELECT key AS aspect, value #>> '{}' AS level FROM jsonb_each($5::jsonb)),"
     " old AS (SELECT jsonb_object_agg(aspect, level) AS v FROM record_qualities"
     "   WHERE student_id = $2::bigint AND school_year = $3 AND semester = $4::smallint),"
     " del AS (DELETE FROM record_qualities q USING x WHERE q.student_id = $2::bigint"
     "   AND q.school_year = $3 AND q.semester = $4::smallint AND q.aspect = x.aspect"
     "   AND x.level IS NULL AND EXISTS (SELECT 1 FROM ok) RETURNING 1),"
     " up AS (INSERT INTO record_qualities AS q (school_id, student_id, class_id, school_year,"
     "   semester, aspect, level, updated_by)"
     "  SELECT ok.school_id, $2::bigint, $1::bigint, $3, $4::smallint, x.aspect, x.level,"
     "   $6::bigint FROM ok, x WHERE x.level IS NOT NULL"
     "  ON CONFLICT (student_id, school_year, semester, aspect) DO UPDATE"
     "  SET level = EXCLUDED.level, class_id = EXCLUDED.class_id,"
     "   updated_by = EXCLUDED.updated_by, updated_at = now() RETURNING 1),"
     " a AS (INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, old_value,"
     "   new_value)"
     "  SELECT ok.school_id, $6::bigint, 'record.qualities', 'record_qualities', $2::text,"
     "   (SELECT v FROM old), jsonb_build_object('school_year', $3, 'semester', $4::smallint,"
     "    'ratings', $5::jsonb, 'class_id', $1::bigint) FROM ok RETURNING 1)"
     " SELECT (SELECT count(*) FROM ok), (SELECT count(*) FROM up) + (SELECT count(*) FROM del)"},
    /* The school_admin's submission of a class's semester: recorded and
     * audited (first statement), then the class's records go to the outbox
     * (second statement, which sees the first). */
    {"records_submit",
     "WITH s AS (INSERT INTO record_submissions (school_id, class_id, school_year, semester,"
     "   submitted_by)"
     "  SELECT c.school_id, c.id, $2, $3::smallint, $4::bigint FROM classes c"
     "  WHERE c.id = $1::bigint ON CONFLICT DO NOTHING RETURNING school_id),"
     " a AS (INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, new_value)"
     "  SELECT s.school_id, $4::bigint, 'record.submit', 'class', $1::text,"
     "   jsonb_build_object('school_year', $2, 'semester', $3::smallint) FROM s RETURNING 1)"
     " SELECT (SELECT count(*) FROM classes WHERE id = $1::bigint), (SELECT count(*) FROM s)"},
    {"records_submit_send", "SELECT kt_outbox_refresh($1::bigint, $2)"},
    /* Conduct, ratings and the year result of every student of a class. */
    {"year_results",
     "SELECT json_build_object('class', json_build_object('id', c.id, 'name', c.name,"
     "  'grade', c.grade), 'school_year', $2::text,"
     " 'released', json_build_object('1', kt_records_released(c.id, $2, 1),"
     "   '2', kt_records_released(c.id, $2, 2)),"
     " 'students', coalesce((SELECT json_agg(json_build_object('id', u.id,"
     "  'student_code', u.student_code, 'full_name', u.full_name,"
     "  'conduct', (SELECT json_object_agg(k.semester::text, json_build_object('level', k.level,"
     "     'absent_days', k.absent_days)) FROM record_conduct k"
     "     WHERE k.student_id = u.id AND k.school_year = $2),"
     "  'qualities', (SELECT json_object_agg(z.semester::text, z.v) FROM (SELECT q.semester,"
     "     json_object_agg(q.aspect, q.level) AS v FROM record_qualities q"
     "     WHERE q.student_id = u.id AND q.school_year = $2 GROUP BY q.semester) z),"
     "  'year', (SELECT json_build_object('status', y.status, 'conduct', y.conduct,"
     "     'award', y.award, 'promotion', y.promotion, 'primary_result', y.primary_result,"
     "     'completed', y.completed, 'absent_days', y.absent_days,"
     "     'retest_subjects', y.detail->'retest_subjects', 'notes', y.detail->'notes',"
     "     'ruleset', y.ruleset, 'ruleset_version', y.ruleset_version)"
     "     FROM record_year_results y WHERE y.student_id = u.id AND y.school_year = $2))"
     "  ORDER BY regexp_replace(u.full_name, '^.* ', '') COLLATE \"vi-x-icu\","
     "   u.full_name COLLATE \"vi-x-icu\", u.id)"
     "  FROM class_members cm JOIN users u ON u.id = cm.user_id AND u.role = 'student'"
     "  WHERE cm.class_id = c.id), '[]'))::text FROM classes c WHERE c.id = $1::bigint"},
    /* The class's exchange records of a year (every semester and the year,
     * or one), as the outbox holds them; $4: the school's current content
     * instead, released or not (preview). */
    {"class_exchange_year",
     "SELECT CASE WHEN $4::boolean THEN (SELECT coalesce(json_agg(json_build_object("
     "   'idbanghi', s.code || '-' || u.student_code || '-' || $2 || '-' || h.sem,"
     "   'du_lieu', kt_exchange_payload(c.id, u.id, $2, h.sem))"
     "   ORDER BY s.code || '-' || u.student_code || '-' || $2 || '-' || h.sem), '[]')"
     "  FROM class_members cm JOIN users u ON u.id = cm.user_id AND u.role = 'student'"
     "  JOIN schools s ON s.id = c.school_id, (VALUES (0), (1), (2)) h(sem)"
     "  WHERE cm.class_id = c.id AND ($3::int IS NULL OR h.sem = $3::int)"
     "   AND kt_exchange_payload(c.id, u.id, $2, h.sem) IS NOT NULL)"
     " ELSE (SELECT coalesce(json_agg(json_build_object('idbanghi', o.record_id,"
     "  'sukien', o.event, 'phienban', o.version, 'thoigiancapnhat', to_char(o.updated_at"
     "  AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD\"T\"HH24:MI:SS'), 'du_lieu', o.payload,"
     "  'da_nhan', o.accepted_version >= o.version) ORDER BY o.record_id), '[]')"
     "  FROM csdl_outbox o WHERE o.class_id = c.id AND o.payload->>'nam_hoc' = $2"
     "   AND ($3::int IS NULL OR (o.payload->>'hoc_ky')::int = $3::int)) END::text"
     " FROM classes c WHERE c.id = $1::bigint"},
};

void
kt_records_year_register(void)
{
    pg_register_statements(year_stmts, (int)(sizeof(year_stmts) / sizeof(year_stmts[0])));
}

static int
year_ok(const char *y)
{
    return y && strlen(y) == 9 && y[4] == '-' && strspn(y, "0123456789-") == 9 &&
           atoi(y + 5) == atoi(y) + 1;
}

/* ------------------------------------------------------------------------ */
/* The year step                                                            */

struct year_step {
    http_request *req;
    char cls[24], year[16], gen[24];
    kt_year_done done;
};

static void
step_stored(pg_query *q, void *arg)
{
    struct year_step *st = arg;
    http_request *req = st->req;
    kt_year_done done = st->done;
    free(st);
    if (q->status != PG_OK) {
        api_db_error(req, q);
        pg_query_free(q);
        return;
    }
    const char *applied = pg_ntuples(q, 0) == 1 ? pg_value(q, 0, 0, 0) : NULL;
    int ok = applied && applied[0] == 't';
    pg_query_free(q);
    done(req, ok);
}

static void
step_loaded(pg_query *q, void *arg)
{
    struct year_step *st = arg;
    http_request *req = st->req;
    if (q->status != PG_OK) {
        free(st);
        api_db_error(req, q);
        pg_query_free(q);
        return;
    }
    if (pg_ntuples(q, 0) != 1) {
        free(st);
        pg_query_free(q);
        api_error(req, 404, "not_found", "Không tìm thấy lớp học.");
        return;
    }
    json_t *in = json_loads(pg_value(q, 0, 0, 0), 0, NULL);
    snprintf(st->gen, sizeof(st->gen), "%s", pg_value(q, 0, 0, 1));
    pg_query_free(q);
    char err[200] = "";
    json_t *out = in ? kt_year_compute(in, err, sizeof(err)) : NULL;
    json_decref(in);
    if (!out) {
        free(st);
        api_error(req, 500, "internal", err[0] ? err : "Không tính được kết quả cả năm của lớp.");
        return;
    }
    char sch[24];
    api_id_text(sch, req->user->school_id);
    char *rows = json_dumps(json_object_get(out, "rows"), JSON_COMPACT);
    const json_t *rs = json_object_get(out, "ruleset");
    const char *p[] = {st->cls,
                       st->year,
                       st->gen,
                       sch,
                       json_string_value(json_object_get(rs, "id")),
                       json_string_value(json_object_get(rs, "version")),
                       json_string_value(json_object_get(out, "year_rules")),
                       rows};
    const char *po[] = {st->cls, st->year, st->gen};
    pg_query *q2 = api_query(req);
    pg_query_add(q2, "year_store", 8, p);
    pg_query_add(q2, "year_outbox", 3, po);
    free(rows);
    json_decref(out);
    pg_query_run(req->worker->db, q2, step_stored, st);
}

void
kt_records_year_refresh(http_request *req, int64_t class_id, const char *year, kt_year_done done)
{
    struct year_step *st = calloc(1, sizeof(*st));
    if (!st)
        abort();
    st->req = req;
    st->done = done;
    api_id_text(st->cls, class_id);
    snprintf(st->year, sizeof(st->year), "%s", year);
    const char *p[] = {st->cls, st->year};
    pg_query *q = api_query(req);
    pg_query_add(q, "year_input", 2, p);
    pg_query_run(req->worker->db, q, step_loaded, st);
}

/* ------------------------------------------------------------------------ */
/* Conduct and ratings: PUT, then the year step (again while a concurrent    */
/* change moves the generation), then the reply.                            */

struct entry {
    char cls[24], student[24], year[16], semester[4];
    char level[8], absent[12];
    json_t *ratings; /* qualities: {aspect: "T"|"D"|"C"|null} */
    int tries;
    int qualities;
};

static void
entry_free(void *p)
{
    struct entry *e = p;
    json_decref(e->ratings);
    free(e);
}

static void
entry_refreshed(http_request *req, int applied)
{
    struct entry *e = req->ctx;
    if (!applied) {
        if (++e->tries >= YEAR_TRIES) {
            api_error(req, 503, "records_busy",
                      "Đã lưu nhưng chưa tính lại được kết quả cả năm vì lớp đang được sửa cùng "
                      "lúc; thầy cô vui lòng gửi lại thao tác này.");
            return;
        }
        kt_records_year_refresh(req, strtoll(e->cls, NULL, 10), e->year, entry_refreshed);
        return;
    }
    json_t *reply =
        json_pack("{s:I,s:s,s:i}", "student_id", (json_int_t)strtoll(e->student, NULL, 10),
                  "school_year", e->year, "semester", atoi(e->semester));
    if (e->qualities)
        json_object_set(reply, "ratings", e->ratings);
    else {
        json_object_set_new(reply, "level", json_string(e->level));
        json_object_set_new(reply, "absent_days", json_integer(atoi(e->absent)));
    }
    api_json(req, 200, reply);
}

static void
entry_stored(http_request *req, pg_query *q)
{
    struct entry *e = req->ctx;
    if (q->status != PG_OK) {
        api_db_error_doing(req, q,
                           e->qualities ? "đánh giá phẩm chất, năng lực của học sinh này"
                                        : "nhập kết quả rèn luyện của học sinh này");
        return;
    }
    if (pg_ntuples(q, 1) != 1) {
        api_error(req, 404, "not_found", "Không tìm thấy lớp học.");
        return;
    }
    int grade = atoi(pg_value(q, 0, 0, 0));
    if (pg_value(q, 0, 0, 1)[0] == 't') {
        api_error(req, 409, "term_locked", "Học kì này đã khoá sổ; không thay đổi được nữa.");
        return;
    }
    if (atoi(pg_value(q, 1, 0, 0)) == 0) {
        if (e->qualities && grade > 5)
            api_error(req, 422, "not_primary",
                      "Phẩm chất, năng lực theo mức Tốt/Đạt/Cần cố gắng chỉ đánh giá ở tiểu học "
                      "(TT27); lớp này theo TT22.");
        else if (!e->qualities && grade <= 5)
            api_error(req, 422, "not_secondary",
                      "Kết quả rèn luyện (TT22 Điều 8) chỉ đánh giá ở THCS, THPT; tiểu học đánh "
                      "giá phẩm chất, năng lực (qualities).");
        else
            api_error(req, 404, "not_found", "Học sinh không thuộc lớp này.");
        return;
    }
    kt_records_year_refresh(req, strtoll(e->cls, NULL, 10), e->year, entry_refreshed);
}

/* Reads the common fields; replies 400 and returns NULL when one is wrong. */
static struct entry *
entry_new(http_request *req, json_t *b)
{
    const json_t *st = json_object_get(b, "student_id"), *sem = json_object_get(b, "semester");
    const char *year = json_string_value(json_object_get(b, "school_year"));
    if (api_param_id(req, 0) <= 0 || !json_is_integer(st) || json_integer_value(st) <= 0 ||
        !year_ok(year) || !json_is_integer(sem) || json_integer_value(sem) < 1 ||
        json_integer_value(sem) > 2) {
        api_error_details(req, 400, "invalid_body",
                          "Cần student_id, school_year (ví dụ 2026-2027) và semester (1 hoặc 2).",
                          json_pack("[{s:s},{s:s},{s:s}]", "field", "student_id", "field",
                                    "school_year", "field", "semester"));
        return NULL;
    }
    struct entry *e = calloc(1, sizeof(*e));
    if (!e)
        abort();
    api_id_text(e->cls, api_param_id(req, 0));
    api_id_text(e->student, json_integer_value(st));
    snprintf(e->year, sizeof(e->year), "%s", year);
    snprintf(e->semester, sizeof(e->semester), "%d", (int)json_integer_value(sem));
    req->ctx = e;
    req->ctx_free = entry_free;
    return e;
}

/* "TOT" / "Tốt" / "T" ... as the stored code; NULL when not a level. */
static const char *
conduct_code(const char *s)
{
    static const char *const map[][2] = {
        {"TOT", "TOT"}, {"Tốt", "TOT"}, {"T", "TOT"},       {"KHA", "KHA"}, {"Khá", "KHA"},
        {"K", "KHA"},   {"DAT", "DAT"}, {"Đạt", "DAT"},     {"Đ", "DAT"},   {"D", "DAT"},
        {"CD", "CD"},   {"CĐ", "CD"},   {"Chưa đạt", "CD"},
    };
    for (size_t i = 0; s && i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(s, map[i][0]) == 0)
            return map[i][1];
    return NULL;
}

void
h_class_conduct_set(http_request *req)
{
    json_t *b = api_body_object(req);
    if (!b)
        return;
    struct entry *e = entry_new(req, b);
    if (!e) {
        json_decref(b);
        return;
    }
    const char *level = conduct_code(json_string_value(json_object_get(b, "level")));
    const json_t *ab = json_object_get(b, "absent_days");
    if (!level ||
        (ab && !json_is_null(ab) &&
         (!json_is_integer(ab) || json_integer_value(ab) < 0 || json_integer_value(ab) > 200))) {
        json_decref(b);
        api_error_details(req, 422, "invalid_conduct",
                          !level ? "Kết quả rèn luyện (level) là Tốt, Khá, Đạt hoặc Chưa đạt "
                                   "(TOT, KHA, DAT, CD) theo TT22 Điều 8."
                                 : "Số buổi nghỉ học (absent_days) là số nguyên từ 0 đến 200.",
                          json_pack("[{s:s}]", "field", !level ? "level" : "absent_days"));
        return;
    }
    snprintf(e->level, sizeof(e->level), "%s", level);
    snprintf(e->absent, sizeof(e->absent), "%d",
             json_is_integer(ab) ? (int)json_integer_value(ab) : 0);
    json_decref(b);
    char u[24];
    api_id_text(u, req->user->id);
    const char *pc[] = {e->cls, e->year, e->semester};
    const char *p[] = {e->cls, e->student, e->year, e->semester, e->level, e->absent, u};
    pg_query *q = api_query(req);
    pg_query_add(q, "year_class", 3, pc);
    pg_query_add(q, "conduct_set", 7, p);
    api_run(req, q, entry_stored);
}

void
h_class_qualities_set(http_request *req)
{
    json_t *b = api_body_object(req);
    if (!b)
        return;
    struct entry *e = entry_new(req, b);
    if (!e) {
        json_decref(b);
        return;
    }
    json_t *given = json_object_get(b, "ratings");
    json_t *ratings = json_object();
    json_t *bad = json_array();
    const char *k;
    json_t *v;
    if (json_is_object(given))
        json_object_foreach(given, k, v)
        {
            const char *s = json_string_value(v);
            const char *code = !s                                             ? NULL
                               : strcmp(s, "T") == 0 || strcmp(s, "Tốt") == 0 ? "T"
                               : strcmp(s, "D") == 0 || strcmp(s, "Đ") == 0 || strcmp(s, "Đạt") == 0
                                   ? "D"
                               : strcmp(s, "C") == 0 || strcmp(s, "Cần cố gắng") == 0 ? "C"
                                                                                      : NULL;
            if (!kt_aspect_known(&kt_year_rules_2021, k) || (!code && !json_is_null(v)))
                json_array_append_new(bad, json_pack("{s:s}", "field", k));
            else
                json_object_set_new(ratings, k, code ? json_string(code) : json_null());
        }
    int given_ok = json_is_object(given);
    json_decref(b);
    if (!given_ok || json_object_size(ratings) == 0 || json_array_size(bad) > 0) {
        json_decref(ratings);
        api_error_details(req, 422, "invalid_ratings",
                          "ratings là đối tượng {mã phẩm chất/năng lực: T (Tốt), Đ (Đạt), C (Cần "
                          "cố gắng) hoặc null để xoá}; mã là PC.YN, PC.NA, PC.CC, PC.TT, PC.TN, "
                          "NLC.TCTH, NLC.GTHT, NLC.GQVDST, NLDT.NN, NLDT.TT, NLDT.KH, NLDT.TM, "
                          "NLDT.TC (TT27).",
                          bad);
        return;
    }
    json_decref(bad);
    e->ratings = ratings;
    e->qualities = 1;
    char u[24];
    api_id_text(u, req->user->id);
    char *doc = json_dumps(ratings, JSON_COMPACT);
    const char *pc[] = {e->cls, e->year, e->semester};
    const char *p[] = {e->cls, e->student, e->year, e->semester, doc, u};
    pg_query *q = api_query(req);
    pg_query_add(q, "year_class", 3, pc);
    pg_query_add(q, "qualities_set", 6, p);
    free(doc);
    api_run(req, q, entry_stored);
}

/* ------------------------------------------------------------------------ */
/* POST /api/v1/classes/{id}/records/submit {school_year, semester}        */

static void
submitted(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    if (atoi(pg_value(q, 0, 0, 0)) == 0) {
        api_error(req, 404, "not_found", "Không tìm thấy lớp học.");
        return;
    }
    const char *n = pg_value(q, 1, 0, 0);
    api_json(req, 200,
             json_pack("{s:b,s:b,s:i}", "submitted", 1, "newly_submitted",
                       atoi(pg_value(q, 0, 0, 1)) > 0, "records", n ? atoi(n) : 0));
}

void
h_class_records_submit(http_request *req)
{
    json_t *b = api_body_object(req);
    if (!b)
        return;
    const char *year = json_string_value(json_object_get(b, "school_year"));
    const json_t *sem = json_object_get(b, "semester");
    if (api_param_id(req, 0) <= 0 || !year_ok(year) || !json_is_integer(sem) ||
        json_integer_value(sem) < 1 || json_integer_value(sem) > 2) {
        json_decref(b);
        api_error(req, 400, "invalid_body",
                  "Cần school_year (ví dụ 2026-2027) và semester (1 hoặc 2).");
        return;
    }
    char cls[24], y[16], s[4], u[24];
    api_id_text(cls, api_param_id(req, 0));
    snprintf(y, sizeof(y), "%s", year);
    snprintf(s, sizeof(s), "%d", (int)json_integer_value(sem));
    api_id_text(u, req->user->id);
    json_decref(b);
    const char *p[] = {cls, y, s, u};
    const char *ps[] = {cls, y};
    pg_query *q = api_query(req);
    pg_query_add(q, "records_submit", 4, p);
    pg_query_add(q, "records_submit_send", 2, ps);
    api_run(req, q, submitted);
}

/* ------------------------------------------------------------------------ */
/* GET /api/v1/classes/{id}/year-results?year=                              */
/* GET /api/v1/classes/{id}/exchange?year=[&semester=0|1|2][&preview=1]     */

static void
row_shown(http_request *req, pg_query *q)
{
    api_reply_row(req, q, 0, 200, "Không tìm thấy lớp học.");
}

void
h_class_year_results(http_request *req)
{
    char *y = api_query_text(req, "year");
    int ok = api_param_id(req, 0) > 0 && year_ok(y);
    char cls[24], year[16];
    if (ok) {
        api_id_text(cls, api_param_id(req, 0));
        snprintf(year, sizeof(year), "%s", y);
    }
    free(y);
    if (!ok) {
        api_error(req, 400, "invalid_parameter", "Cần year (năm học, ví dụ 2026-2027).");
        return;
    }
    const char *p[] = {cls, year};
    pg_query *q = api_query(req);
    pg_query_add(q, "year_results", 2, p);
    api_run(req, q, row_shown);
}

void
h_class_exchange(http_request *req)
{
    char *y = api_query_text(req, "year"), *s = api_query_text(req, "semester");
    char *pv = api_query_text(req, "preview");
    int ok = api_param_id(req, 0) > 0 && year_ok(y) &&
             (!s || (strlen(s) == 1 && s[0] >= '0' && s[0] <= '2'));
    char cls[24], year[16], sem[4];
    if (ok) {
        api_id_text(cls, api_param_id(req, 0));
        snprintf(year, sizeof(year), "%s", y);
        snprintf(sem, sizeof(sem), "%s", s ? s : "");
    }
    int preview = pv && strcmp(pv, "1") == 0;
    free(y);
    free(s);
    free(pv);
    if (!ok) {
        api_error(req, 400, "invalid_parameter",
                  "Cần year (năm học, ví dụ 2026-2027); semester nếu có là 0 (cả năm), 1 hoặc 2.");
        return;
    }
    const char *p[] = {cls, year, sem[0] ? sem : NULL, preview ? "true" : "false"};
    pg_query *q = api_query(req);
    pg_query_add(q, "class_exchange_year", 4, p);
    api_run(req, q, row_shown);
}

/*
 * Learner records (sổ điểm): publishing a session's results into a slot,
 * the class sheet, a teacher's edits, the school_admin's semester lock,
 * exports (.xlsx, .csv, JSON exchange records) and the outbox status. After
 * every change the class is recomputed by engine/record_calc.c, results are
 * stored with their rule set, and changed exchange records get a new
 * version in the outbox. Every change is audited; a locked semester refuses
 * changes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "api.h"
#include "config.h"
#include "cpupool.h"
#include "decimal.h"
#include "grades.h"
#include "item.h"
#include "national_id.h"
#include "record_calc.h"
#include "records_year.h"
#include "yearresult.h"
#include "secret.h"
#include "server.h"
#include "sheet.h"

#define SLOT_OK(s) (strspn((s), "abcdefghijklmnopqrstuvwxyz_0123456789") == strlen(s))

#include "records_sql.h"

/* The subject configuration of a grade: the school's rows win over the defaults. */
#define SUBJECTS_OF_GRADE                                                                          \
    "(SELECT json_agg(json_build_object('code', sc.subject, 'name', sc.name, 'mode', sc.mode,"   \
    "   'periods', sc.periods_per_year, 'tx_slots', sc.tx_slots) ORDER BY sc.subject)"           \
    "  FROM subject_configs sc WHERE sc.grade = c.grade"                                          \
    "   AND (sc.school_id = c.school_id OR (sc.school_id IS NULL AND NOT EXISTS ("               \
    "     SELECT 1 FROM subject_configs o WHERE o.school_id = c.school_id"                        \
    "       AND o.subject = sc.subject AND o.grade = sc.grade))))"

static const struct pg_stmt_def record_stmts[] = {
    /* Everything the rules need for one class and school year, and the
     * class's generation (migration 0029) as of the same snapshot. */
    {"records_input",
     "SELECT json_build_object('grade', c.grade, 'subjects', coalesce(" SUBJECTS_OF_GRADE ", '[]'),"
     " 'students', coalesce((SELECT json_agg(json_build_object('id', u.id,"
     "   'subjects', kt_student_subjects(c.id, u.id), 'marks',"
     "   coalesce((SELECT json_object_agg(x.subject, x.sems) FROM (SELECT m.subject,"
     "     json_object_agg(m.semester::text, m.slots) AS sems FROM (SELECT subject, semester,"
     "       json_object_agg(slot, value) AS slots FROM record_marks"
     "       WHERE student_id = u.id AND school_year = $2 GROUP BY subject, semester) m"
     "     GROUP BY m.subject) x), '{}')))" KT_SQL_CLASS_STUDENTS "), '[]'))::text,"
     " coalesce((SELECT g.gen FROM record_generations g WHERE g.class_id = c.id"
     "   AND g.school_year = $2), 0)"
     " FROM classes c WHERE c.id = $1::bigint"},
    /* Stores computed results and refreshes the exchange records of the
     * class's students for the year: a record whose content changed gets
     * the next version (UPDATE), a new one version 1 (NEW). Both only while
     * the class's generation ($6, $7 / $1, $4) is still the one read with
     * the input: kt_record_gen_hold locks it for the transaction, so no
     * edit commits in between; the first column says whether it applied. */
    {"records_store",
     "WITH g AS (SELECT kt_record_gen_hold($6::bigint, $1, $7::bigint) AS ok),"
     " x AS MATERIALIZED (SELECT * FROM jsonb_to_recordset($3::jsonb) AS x(student bigint,"
     "   subject text, semester smallint, status text, value text, notes jsonb,"
     "   by_thresholds text, reason jsonb)),"
     " r AS (INSERT INTO record_results (school_id, student_id, subject, school_year,"
     "   semester, status, value, detail, ruleset, ruleset_version)"
     "  SELECT $2::bigint, x.student, x.subject, $1, x.semester, x.status, x.value,"
     "   jsonb_build_object('notes', x.notes, 'by_thresholds', x.by_thresholds,"
     "    'reason', x.reason), $4, $5"
     "  FROM x WHERE (SELECT ok FROM g)"
     "  ON CONFLICT (student_id, subject, school_year, semester) DO UPDATE"
     "  SET status = EXCLUDED.status, value = EXCLUDED.value, detail = EXCLUDED.detail,"
     "   ruleset = EXCLUDED.ruleset, ruleset_version = EXCLUDED.ruleset_version,"
     "   computed_at = now() RETURNING 1),"
     /* A result no longer computed (a subject the student's study plan
      * dropped) goes away. */
     " d AS (DELETE FROM record_results rr WHERE (SELECT ok FROM g) AND rr.school_year = $1"
     "  AND rr.student_id IN (SELECT x.student FROM x)"
     "  AND (rr.student_id, rr.subject, rr.semester) NOT IN"
     "   (SELECT x.student, x.subject, x.semester FROM x) RETURNING 1)"
     " SELECT (SELECT ok FROM g), (SELECT count(*) FROM r)"},
    /* The exchange records are refreshed by the year step that follows
     * every store (records_year.c, kt_outbox_refresh of migration 0033). */
    {"record_publish_load",
     "SELECT t.subject, t.grade, se.test_id,"
     " (SELECT sc.mode FROM subject_configs sc WHERE sc.subject = t.subject AND sc.grade = t.grade"
     "   AND (sc.school_id = se.school_id OR sc.school_id IS NULL)"
     "   ORDER BY sc.school_id NULLS LAST LIMIT 1),"
     " (SELECT coalesce(sc.tx_slots, CASE WHEN sc.periods_per_year <= 35 THEN 2"
     "    WHEN sc.periods_per_year <= 70 THEN 3 ELSE 4 END) FROM subject_configs sc"
     "   WHERE sc.subject = t.subject AND sc.grade = t.grade"
     "   AND (sc.school_id = se.school_id OR sc.school_id IS NULL)"
     "   ORDER BY sc.school_id NULLS LAST LIMIT 1),"
     " EXISTS (SELECT 1 FROM record_terms rt WHERE rt.school_id = se.school_id"
     "   AND rt.school_year = $2 AND rt.semester = $3::smallint),"
     " (SELECT count(*) FROM attempts a WHERE a.session_id = se.id"
     "   AND a.status = 'submitted' AND (a.scored_at IS NULL OR a.needs_marking)),"
     /* of which with an answer the engine could not score (not a 0: a teacher marks it) */
     " (SELECT count(DISTINCT x.attempt_id) FROM attempt_scores x JOIN attempts a"
     "   ON a.id = x.attempt_id WHERE a.session_id = se.id AND x.state = 'scoring_failed')"
     " FROM sessions se JOIN tests t ON t.id = se.test_id WHERE se.id = $1::bigint"},
    /* Scored attempts with the class each student sits the session in. */
    {"record_publish_attempts",
     "SELECT a.student_id, (SELECT sc.class_id FROM session_classes sc JOIN class_members cm"
     "   ON cm.class_id = sc.class_id AND cm.user_id = a.student_id"
     "   WHERE sc.session_id = a.session_id ORDER BY sc.class_id LIMIT 1),"
     " a.score, a.max_score FROM attempts a"
     " WHERE a.session_id = $1::bigint AND a.status = 'submitted' AND a.scored_at IS NOT NULL"
     "   AND NOT a.needs_marking AND a.max_score > 0 ORDER BY a.student_id"},
    /* Marks from a session; a teacher's manual mark in the slot is kept. */
    {"record_publish_store",
     "WITH x AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(student bigint, class bigint,"
     "   value text) WHERE kt_require_record(x.class, $3)),"  /* assigned or homeroom (0032) */
     " old AS (SELECT m.student_id, m.value, m.source FROM record_marks m JOIN x"
     "   ON m.student_id = x.student WHERE m.subject = $3 AND m.school_year = $4"
     "   AND m.semester = $5::smallint AND m.slot = $6),"
     " up AS (INSERT INTO record_marks AS m (school_id, student_id, class_id, subject,"
     "   school_year, semester, slot, value, source, session_id, updated_by)"
     "  SELECT $7::bigint, x.student, x.class, $3, $4, $5::smallint, $6, x.value, 'session',"
     "   $2::bigint, $8::bigint FROM x"
     "  ON CONFLICT (student_id, subject, school_year, semester, slot) DO UPDATE"
     "  SET value = EXCLUDED.value, session_id = EXCLUDED.session_id,"
     "   updated_by = EXCLUDED.updated_by, updated_at = now(), class_id = EXCLUDED.class_id"
     "  WHERE m.source = 'session' AND m.value IS DISTINCT FROM EXCLUDED.value"
     "  RETURNING m.student_id, m.value),"
     " a AS (INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, old_value,"
     "   new_value)"
     "  SELECT $7::bigint, $8::bigint, 'record.publish', 'record_mark', up.student_id::text,"
     "   CASE WHEN old.value IS NULL THEN NULL ELSE jsonb_build_object('value', old.value) END,"
     "   jsonb_build_object('subject', $3, 'school_year', $4, 'semester', $5::smallint,"
     "    'slot', $6, 'value', up.value, 'session_id', $2::bigint)"
     "  FROM up LEFT JOIN old ON old.student_id = up.student_id RETURNING 1)"
     " SELECT (SELECT count(*) FROM up), (SELECT count(*) FROM old WHERE source = 'manual'),"
     "  (SELECT json_agg(DISTINCT class) FROM x)::text"},
    {"term_locked",
     "SELECT EXISTS (SELECT 1 FROM record_terms WHERE school_id = $1::bigint"
     " AND school_year = $2 AND semester = $3::smallint)"},
    {"record_edit",
     "WITH old AS (SELECT value FROM record_marks WHERE student_id = $2::bigint"
     "   AND subject = $3 AND school_year = $4 AND semester = $5::smallint AND slot = $6),"
     " ok AS (SELECT 1 FROM class_members cm JOIN classes c ON c.id = cm.class_id"
     "   WHERE cm.class_id = $1::bigint AND cm.user_id = $2::bigint"
     "    AND kt_require_record($1::bigint, $3)),"  /* assigned or homeroom (0032) */
     " del AS (DELETE FROM record_marks WHERE $7::text IS NULL AND student_id = $2::bigint"
     "   AND subject = $3 AND school_year = $4 AND semester = $5::smallint AND slot = $6"
     "   AND EXISTS (SELECT 1 FROM ok) RETURNING 1),"
     " up AS (INSERT INTO record_marks AS m (school_id, student_id, class_id, subject,"
     "   school_year, semester, slot, value, source, updated_by)"
     "  SELECT $8::bigint, $2::bigint, $1::bigint, $3, $4, $5::smallint, $6, $7, 'manual',"
     "   $9::bigint FROM ok WHERE $7::text IS NOT NULL"
     "  ON CONFLICT (student_id, subject, school_year, semester, slot) DO UPDATE"
     "  SET value = EXCLUDED.value, source = 'manual', session_id = NULL,"
     "   updated_by = EXCLUDED.updated_by, updated_at = now() RETURNING 1),"
     " a AS (INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, old_value,"
     "   new_value)"
     "  SELECT $8::bigint, $9::bigint, 'record.edit', 'record_mark', $2::text,"
     "   (SELECT jsonb_build_object('value', value) FROM old),"
     "   jsonb_build_object('subject', $3, 'school_year', $4, 'semester', $5::smallint,"
     "    'slot', $6, 'value', $7::text)"
     "  FROM ok WHERE (SELECT value FROM old) IS DISTINCT FROM $7::text RETURNING 1)"
     " SELECT (SELECT count(*) FROM ok), (SELECT count(*) FROM up) + (SELECT count(*) FROM del)"},
    {"record_subject_mode",
     "SELECT sc.mode, coalesce(sc.tx_slots, CASE WHEN sc.periods_per_year <= 35 THEN 2"
     "  WHEN sc.periods_per_year <= 70 THEN 3 ELSE 4 END), c.grade"
     " FROM classes c JOIN subject_configs sc ON sc.grade = c.grade AND sc.subject = $2"
     "  AND (sc.school_id = c.school_id OR sc.school_id IS NULL)"
     " WHERE c.id = $1::bigint ORDER BY sc.school_id NULLS LAST LIMIT 1"},
    {"term_lock",
     "WITH l AS (INSERT INTO record_terms (school_id, school_year, semester, locked_by)"
     "  VALUES ($1::bigint, $2, $3::smallint, $4::bigint) ON CONFLICT DO NOTHING RETURNING 1)"
     " INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, new_value)"
     " SELECT $1::bigint, $4::bigint, 'record.lock', 'record_term', $2 || '/' || $3,"
     "  jsonb_build_object('school_year', $2, 'semester', $3::smallint) FROM l RETURNING 1"},
    /* After a lock, in the same transaction: the exchange records of the
     * school's classes with results that year (migration 0033), class by
     * class in id order; their number. */
    {"records_release",
     "SELECT coalesce(sum(kt_outbox_refresh(x.id, $2)), 0) FROM (SELECT c.id FROM classes c"
     " WHERE c.school_id = $1::bigint AND EXISTS (SELECT 1 FROM class_members cm"
     "  JOIN record_results rr ON rr.student_id = cm.user_id"
     "  WHERE cm.class_id = c.id AND rr.school_year = $2) ORDER BY c.id) x"},
    /* Lifting a lock: only through the function of 0028, which checks the
     * caller and writes the audit row with the reason. */
    {"term_unlock", "SELECT kt_term_unlock($1, $2::smallint, $3)"},
    /* The class sheet: students in list order, their marks and results. */
    {"class_records", KT_SQL_CLASS_RECORDS},
    {"class_exchange", KT_SQL_CLASS_EXCHANGE},
    {"outbox_status",
     "SELECT coalesce(json_agg(json_build_object('record_id', record_id, 'version', version,"
     "  'accepted_version', accepted_version, 'event', event,"
     "  'state', CASE WHEN accepted_version >= version THEN 'delivered'"
     "    WHEN attempts = 0 THEN 'pending' ELSE 'retrying' END,"
     "  'attempts', attempts, 'next_attempt_at', next_attempt_at, 'last_error', last_error,"
     "  'updated_at', updated_at) ORDER BY record_id), '[]')::text FROM csdl_outbox"},
};

void
kt_records_register(void)
{
    pg_register_statements(record_stmts, (int)(sizeof(record_stmts) / sizeof(record_stmts[0])));
}


/* A school year "2026-2027" whose second year follows the first, and a semester 1 or 2. */
static int
year_ok(const char *y)
{
    return y && strlen(y) == 9 && y[4] == '-' && strspn(y, "0123456789-") == 9 &&
           atoi(y + 5) == atoi(y) + 1;
}

/* ------------------------------------------------------------------------ */
/* Recomputing a class                                                      */

/* A chain of recomputations for the classes a change touched, then a reply.
 * Each class is read (with its generation), computed, then stored only if
 * its generation has not moved meanwhile (migration 0029); when it has, an
 * edit committed after the read, and the class is read and computed again. */
#define RECOMPUTE_TRIES 5

struct recompute {
    int64_t class_ids[8];
    int nclasses, next;
    int tries;    /* reads of the current class so far */
    char gen[24]; /* the current class's generation as read with its input */
    char year[16];
    json_t *reply; /* what the request answers once every class is done */
};

static void recompute_next(http_request *req);

/* After the class's results: its year results and exchange records
 * (records_year.c), under the same generation guard. */
static void
recompute_year_done(http_request *req, int applied)
{
    struct recompute *rc = req->ctx;
    if (!applied) {
        if (rc->tries >= RECOMPUTE_TRIES) {
            api_error(req, 503, "records_busy",
                      "Điểm đã được lưu nhưng chưa tính lại được điểm trung bình vì lớp đang được "
                      "sửa cùng lúc; thầy cô vui lòng gửi lại thao tác này.");
            return;
        }
        rc->next--; /* the class changed again: read and compute it again */
    } else {
        rc->tries = 0;
    }
    recompute_next(req);
}

static void
recompute_stored(http_request *req, pg_query *q)
{
    struct recompute *rc = req->ctx;
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    const char *applied = pg_ntuples(q, 0) == 1 ? pg_value(q, 0, 0, 0) : NULL;
    if (applied && applied[0] == 't') {
        kt_records_year_refresh(req, rc->class_ids[rc->next - 1], rc->year, recompute_year_done);
        return;
    }
    if (!applied || applied[0] != 't') {
        /* Another change of the class committed after our read: nothing was
         * written; read the class again (its own recompute may be stale too). */
        if (rc->tries >= RECOMPUTE_TRIES) {
            api_error(req, 503, "records_busy",
                      "Điểm đã được lưu nhưng chưa tính lại được điểm trung bình vì lớp đang được "
                      "sửa cùng lúc; thầy cô vui lòng gửi lại thao tác này.");
            return;
        }
        rc->next--;
    } else {
        rc->tries = 0;
    }
    recompute_next(req);
}

static void
recompute_loaded(http_request *req, pg_query *q)
{
    struct recompute *rc = req->ctx;
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    json_t *in = pg_ntuples(q, 0) == 1 ? json_loads(pg_value(q, 0, 0, 0), 0, NULL) : NULL;
    if (in)
        snprintf(rc->gen, sizeof(rc->gen), "%s", pg_value(q, 0, 0, 1));
    char err[200] = "";
    json_t *out = in ? kt_records_compute(in, err, sizeof(err)) : NULL;
    json_decref(in);
    if (!out) {
        api_error(req, 500, "internal", err[0] ? err : "Không tính được sổ điểm của lớp.");
        return;
    }
    /* Subject results and levels go to one table; a level has subject "". */
    json_t *rows = json_deep_copy(json_object_get(out, "results"));
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(out, "levels"), i, l)
    {
        json_t *row = json_deep_copy(l);
        json_object_set_new(row, "subject", json_string(""));
        json_array_append_new(rows, row);
    }
    json_t *rs = json_object_get(out, "ruleset");
    char cid[24], sch[24];
    api_id_text(cid, rc->class_ids[rc->next - 1]);
    api_id_text(sch, req->user->school_id);
    char *doc = json_dumps(rows, JSON_COMPACT);
    const char *p[] = {rc->year, sch, doc, json_string_value(json_object_get(rs, "id")),
                       json_string_value(json_object_get(rs, "version")), cid, rc->gen};
    pg_query *q2 = api_query(req);
    pg_query_add(q2, "records_store", 7, p);
    free(doc);
    json_decref(rows);
    json_decref(out);
    api_run(req, q2, recompute_stored);
}

static void
recompute_next(http_request *req)
{
    struct recompute *rc = req->ctx;
    if (rc->next == rc->nclasses) {
        api_json(req, 200, json_incref(rc->reply));
        return;
    }
    char cid[24];
    api_id_text(cid, rc->class_ids[rc->next++]);
    rc->tries++;
    const char *p[] = {cid, rc->year};
    pg_query *q = api_query(req);
    pg_query_add(q, "records_input", 2, p);
    api_run(req, q, recompute_loaded);
}

static void
recompute_free(void *p)
{
    struct recompute *rc = p;
    json_decref(rc->reply);
    free(rc);
}

/* Replaces the request's state (freeing it: read what you need first). */
static struct recompute *
recompute_new(http_request *req, const char *year, json_t *reply)
{
    struct recompute *rc = calloc(1, sizeof(*rc));
    if (!rc)
        abort();
    snprintf(rc->year, sizeof(rc->year), "%s", year);
    rc->reply = reply;
    if (req->ctx && req->ctx_free)
        req->ctx_free(req->ctx);
    req->ctx = rc;
    req->ctx_free = recompute_free;
    return rc;
}

void
kt_records_recompute_class(http_request *req, const char *year, int64_t class_id, json_t *reply)
{
    struct recompute *rc = recompute_new(req, year, reply);
    rc->class_ids[rc->nclasses++] = class_id;
    recompute_next(req);
}

/* ------------------------------------------------------------------------ */
/* POST /api/v1/sessions/{id}/publish {slot, school_year, semester}         */

struct publish_req {
    char slot[16], year[16], semester[4];
    char subject[32];
    int grade;
    int primary;
};

static void
publish_req_free(void *p)
{
    free(p);
}

static void
publish_stored(http_request *req, pg_query *q)
{
    struct publish_req *pr = req->ctx;
    if (q->status != PG_OK) {
        api_db_error_doing(req, q, "đưa điểm của buổi kiểm tra này vào sổ điểm");
        return;
    }
    json_t *classes = json_loads(pg_value(q, 0, 0, 2) ? pg_value(q, 0, 0, 2) : "[]", 0, NULL);
    json_t *reply = json_pack("{s:s,s:s,s:s,s:i,s:i,s:i}", "subject", pr->subject, "slot",
                              pr->slot, "school_year", pr->year, "semester", atoi(pr->semester),
                              "updated", atoi(pg_value(q, 0, 0, 0)), "manual_kept",
                              atoi(pg_value(q, 0, 0, 1)));
    struct recompute *rc = recompute_new(req, pr->year, reply);
    size_t i;
    json_t *c;
    json_array_foreach(classes, i, c) if (rc->nclasses < 8) rc->class_ids[rc->nclasses++] =
        json_integer_value(c);
    json_decref(classes);
    recompute_next(req);
}

static void
publish_attempts(http_request *req, pg_query *q)
{
    struct publish_req *pr = req->ctx;
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    json_t *rows = json_array();
    for (int r = 0; r < pg_ntuples(q, 0); r++) {
        if (!pg_value(q, 0, r, 1))
            continue; /* no longer in an assigned class */
        int64_t score = strtoll(pg_value(q, 0, r, 2), NULL, 10);
        int64_t max = strtoll(pg_value(q, 0, r, 3), NULL, 10);
        /* On the 10-point scale: one decimal rounded half up (TT22); a whole
         * number for primary (TT27). */
        kt_decimal ten = kt_decimal_mul_ratio(kt_decimal_from_int(10), score, max);
        int tenths = kt_score_from_decimal(pr->primary ? kt_decimal_round(ten, 0) : ten, NULL, 0);
        if (tenths < 0)
            continue;
        char v[16];
        snprintf(v, sizeof(v), "%d", tenths);
        json_array_append_new(rows, json_pack("{s:I,s:I,s:s}", "student",
                                              (json_int_t)strtoll(pg_value(q, 0, r, 0), NULL, 10),
                                              "class",
                                              (json_int_t)strtoll(pg_value(q, 0, r, 1), NULL, 10),
                                              "value", v));
    }
    if (json_array_size(rows) == 0) {
        json_decref(rows);
        api_error(req, 409, "nothing_to_publish", "Chưa có bài nào đã nộp và đã chấm xong để đưa vào sổ điểm.");
        return;
    }
    char s[24], sch[24], u[24];
    api_id_text(s, api_param_id(req, 0));
    api_id_text(sch, req->user->school_id);
    api_id_text(u, req->user->id);
    char *doc = json_dumps(rows, JSON_COMPACT);
    json_decref(rows);
    const char *p[] = {doc, s, pr->subject, pr->year, pr->semester, pr->slot, sch, u};
    pg_query *q2 = api_query(req);
    pg_query_add(q2, "record_publish_store", 8, p);
    free(doc);
    api_run(req, q2, publish_stored);
}

static void
publish_loaded(http_request *req, pg_query *q)
{
    struct publish_req *pr = req->ctx;
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    if (pg_ntuples(q, 0) != 1) {
        api_error(req, 404, "not_found", "Không tìm thấy buổi kiểm tra.");
        return;
    }
    snprintf(pr->subject, sizeof(pr->subject), "%s", pg_value(q, 0, 0, 0));
    pr->grade = atoi(pg_value(q, 0, 0, 1));
    const char *mode = pg_value(q, 0, 0, 3);
    int slots = pg_value(q, 0, 0, 4) ? atoi(pg_value(q, 0, 0, 4)) : 0;
    if (!mode) {
        api_error(req, 422, "no_subject_config",
                  "Môn học của đề chưa có cấu hình đánh giá cho khối lớp này.");
        return;
    }
    pr->primary = strcmp(mode, "primary_test") == 0;
    char why27[300];
    if (strncmp(mode, "primary", 7) == 0 &&
        kt_tt27_test_allowed(&kt_rules_tt27_2020, pr->grade, pr->subject, mode, pr->slot, why27,
                             sizeof(why27)) < 0) { /* TT27 Điều 7: no such periodic test */
        api_error_details(req, 422, "tt27_no_test", why27,
                          json_pack("[{s:s,s:s}]", "field", "slot", "rule", "TT27 Điều 7"));
        return;
    }
    int tx = strncmp(pr->slot, "tx", 2) == 0 ? atoi(pr->slot + 2) : 0;
    if (strcmp(mode, "score") != 0 && !pr->primary) {
        api_error(req, 422, "invalid_slot",
                  "Môn này đánh giá bằng nhận xét: điểm bài kiểm tra không ghi vào sổ được.");
        return;
    }
    if ((pr->primary && strcmp(pr->slot, "gk") != 0 && strcmp(pr->slot, "ck") != 0) ||
        (!pr->primary && strcmp(pr->slot, "gk") != 0 && strcmp(pr->slot, "ck") != 0 &&
         (tx < 1 || tx > slots))) {
        char msg[200];
        snprintf(msg, sizeof(msg),
                 "Cột điểm không hợp lệ: chọn gk, ck%s (môn này ghi %d điểm thường xuyên mỗi học kì).",
                 pr->primary ? "" : " hoặc tx1..txN", slots);
        api_error(req, 422, "invalid_slot", msg);
        return;
    }
    if (pg_value(q, 0, 0, 5)[0] == 't') {
        api_error(req, 409, "term_locked", "Học kì này đã khoá sổ; không thay đổi điểm được nữa.");
        return;
    }
    if (atoi(pg_value(q, 0, 0, 6)) > 0) {
        char msg[300];
        if (atoi(pg_value(q, 0, 0, 7)) > 0)
            snprintf(msg, sizeof(msg),
                     "Còn %s bài chưa chấm xong, trong đó %s bài có câu hệ thống không chấm tự "
                     "động được (cần giáo viên chấm tay, không tính 0 điểm); hãy chấm xong rồi "
                     "đưa vào sổ.",
                     pg_value(q, 0, 0, 6), pg_value(q, 0, 0, 7));
        else
            snprintf(msg, sizeof(msg),
                     "Còn %s bài chưa chấm xong (tự luận cần chấm tay); hãy chấm xong rồi đưa "
                     "vào sổ.",
                     pg_value(q, 0, 0, 6));
        api_error(req, 409, "marking_pending", msg);
        return;
    }
    char s[24];
    api_id_text(s, api_param_id(req, 0));
    const char *p[] = {s};
    pg_query *q2 = api_query(req);
    pg_query_add(q2, "record_publish_attempts", 1, p);
    api_run(req, q2, publish_attempts);
}

void
h_session_publish(http_request *req)
{
    json_t *b = api_body_object(req);
    if (!b)
        return;
    const char *slot = json_string_value(json_object_get(b, "slot"));
    const char *year = json_string_value(json_object_get(b, "school_year"));
    const json_t *sem = json_object_get(b, "semester");
    if (!slot || strlen(slot) > 8 || !SLOT_OK(slot) || !year_ok(year) || !json_is_integer(sem) ||
        json_integer_value(sem) < 1 || json_integer_value(sem) > 2) {
        json_decref(b);
        api_error(req, 400, "invalid_body",
                  "Cần slot (gk, ck hoặc tx1..), school_year (ví dụ 2026-2027) và semester (1 hoặc 2).");
        return;
    }
    struct publish_req *pr = calloc(1, sizeof(*pr));
    if (!pr)
        abort();
    snprintf(pr->slot, sizeof(pr->slot), "%s", slot);
    snprintf(pr->year, sizeof(pr->year), "%s", year);
    snprintf(pr->semester, sizeof(pr->semester), "%d", (int)json_integer_value(sem));
    json_decref(b);
    req->ctx = pr;
    req->ctx_free = publish_req_free;
    char s[24];
    api_id_text(s, api_param_id(req, 0));
    const char *p[] = {s, pr->year, pr->semester};
    pg_query *q = api_query(req);
    pg_query_add(q, "record_publish_load", 3, p);
    api_run(req, q, publish_loaded);
}

/* ------------------------------------------------------------------------ */
/* GET /api/v1/classes/{id}/records?year=&semester=&subject=                */

struct sheet_query {
    char cls[24], year[16], semester[4], subject[32];
};

static int
sheet_params(http_request *req, struct sheet_query *sq, const char *class_param)
{
    char *cls = class_param ? http_query_param(req, class_param) : NULL;
    char *y = http_query_param(req, "year"), *s = http_query_param(req, "semester");
    char *sub = http_query_param(req, "subject");
    int64_t cid = class_param ? (cls && strspn(cls, "0123456789") == strlen(cls) && *cls
                                     ? strtoll(cls, NULL, 10)
                                     : 0)
                              : api_param_id(req, 0);
    int ok = cid > 0 && year_ok(y) && s && (strcmp(s, "1") == 0 || strcmp(s, "2") == 0) && sub &&
             strlen(sub) < 32 && kt_item_code_valid(sub);
    if (ok) {
        api_id_text(sq->cls, cid);
        snprintf(sq->year, sizeof(sq->year), "%s", y);
        snprintf(sq->semester, sizeof(sq->semester), "%s", s);
        snprintf(sq->subject, sizeof(sq->subject), "%s", sub);
    }
    free(cls);
    free(y);
    free(s);
    free(sub);
    if (!ok)
        api_error(req, 400, "invalid_parameter",
                  "Cần class_id, year (ví dụ 2026-2027), semester (1 hoặc 2) và subject (mã môn,"
                  " viết in hoa).");
    return ok ? 0 : -1;
}

static void
records_shown(http_request *req, pg_query *q)
{
    api_reply_row(req, q, 0, 200, "Không tìm thấy lớp học.");
}

void
h_class_records(http_request *req)
{
    struct sheet_query sq;
    if (sheet_params(req, &sq, NULL) < 0)
        return;
    const char *p[] = {sq.cls, sq.year, sq.semester, sq.subject, "false"};
    pg_query *q = api_query(req);
    pg_query_add(q, "class_records", 5, p);
    api_run(req, q, records_shown);
}

/* ------------------------------------------------------------------------ */
/* PUT /api/v1/classes/{id}/records {student_id, subject, school_year,      */
/*     semester, slot, value}: a teacher's edit                             */

struct edit {
    char cls[24], student[24], subject[32], year[16], semester[4], slot[16];
    json_t *given; /* the value as sent */
    char value[2048]; /* as stored (a comment "nx" up to 500 characters) */
    int clear;
};

static void
edit_free(void *p)
{
    struct edit *e = p;
    json_decref(e->given);
    free(e);
}

static void
edit_stored(http_request *req, pg_query *q)
{
    struct edit *e = req->ctx;
    if (q->status != PG_OK) {
        api_db_error_doing(req, q, "sửa sổ điểm của lớp này");
        return;
    }
    if (atoi(pg_value(q, 0, 0, 0)) == 0) {
        api_error(req, 404, "not_found", "Học sinh không thuộc lớp này.");
        return;
    }
    json_t *reply = json_pack("{s:s,s:s,s:s,s:i,s:s,s:s?}", "student_id", e->student, "subject",
                              e->subject, "school_year", e->year, "semester", atoi(e->semester),
                              "slot", e->slot, "value", e->clear ? NULL : e->value);
    int64_t cls = strtoll(e->cls, NULL, 10);
    struct recompute *rc = recompute_new(req, e->year, reply); /* frees e */
    rc->class_ids[rc->nclasses++] = cls;
    recompute_next(req);
}

/* Checks the value against the subject's mode and the slot; stores it in
 * e->value in the database form (tenths, D/CD, T/H/C). NULL when valid. */
static const char *
edit_value_problem(struct edit *e, const char *mode, int slots, const json_t *v)
{
    int tx = strncmp(e->slot, "tx", 2) == 0 ? atoi(e->slot + 2) : 0;
    int level = strncmp(e->slot, "level_", 6) == 0;
    int primary = strncmp(mode, "primary", 7) == 0;
    if (strcmp(e->slot, "nx") == 0) { /* the teacher's comment (nhận xét), any subject */
        const char *text = json_string_value(v);
        size_t chars = 0;
        for (const char *c = text; c && *c; c++)
            chars += ((unsigned char)*c & 0xC0) != 0x80;
        if (json_is_null(v)) {
            e->clear = 1;
            return NULL;
        }
        if (!text || chars == 0 || chars > 500 || strlen(text) >= sizeof(e->value))
            return "Nhận xét là một đoạn văn bản từ 1 đến 500 kí tự (null để xoá).";
        snprintf(e->value, sizeof(e->value), "%s", text);
        return NULL;
    }
    if (!primary && (level || (!tx && strcmp(e->slot, "gk") != 0 && strcmp(e->slot, "ck") != 0) ||
                     (tx && tx > slots)))
        return "Cột điểm không có trong sổ của môn này.";
    if (primary && tx)
        return "Tiểu học không ghi điểm thường xuyên (chỉ nhận xét).";
    if (json_is_null(v)) {
        e->clear = 1;
        return NULL;
    }
    const char *s = json_string_value(v);
    char num[16];
    if (json_is_integer(v) || json_is_real(v)) {
        snprintf(num, sizeof(num), "%g", json_number_value(v));
        s = num;
    }
    if (!s)
        return "Giá trị phải là chuỗi, số hoặc null (xoá).";
    char why[200];
    if (strcmp(mode, "comment") == 0) {
        if (strcmp(s, "Đ") == 0 || strcmp(s, "D") == 0 || strcmp(s, "Đạt") == 0)
            snprintf(e->value, sizeof(e->value), "D");
        else if (strcmp(s, "CĐ") == 0 || strcmp(s, "CD") == 0 || strcmp(s, "Chưa đạt") == 0)
            snprintf(e->value, sizeof(e->value), "CD");
        else
            return "Môn đánh giá bằng nhận xét nhận Đ (Đạt) hoặc CĐ (Chưa đạt).";
        return NULL;
    }
    if (level) {
        if (strcmp(s, "T") != 0 && strcmp(s, "H") != 0 && strcmp(s, "C") != 0)
            return "Mức đạt được là T (Hoàn thành tốt), H (Hoàn thành) hoặc C (Chưa hoàn thành).";
        snprintf(e->value, sizeof(e->value), "%s", s);
        return NULL;
    }
    int t = primary ? kt_tt27_score_parse(&kt_rules_tt27_2020, s, why, sizeof(why)) * 10
                    : kt_score_parse(s, why, sizeof(why));
    if (t < 0)
        return primary ? "Điểm kiểm tra định kì tiểu học là số nguyên từ 0 đến 10."
                       : "Điểm từ 0 đến 10, nhiều nhất một chữ số thập phân (ví dụ 7,5).";
    snprintf(e->value, sizeof(e->value), "%d", t);
    return NULL;
}

static void
edit_checked(http_request *req, pg_query *q)
{
    struct edit *e = req->ctx;
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    if (pg_ntuples(q, 0) != 1) {
        api_error(req, 422, "no_subject_config", "Lớp này không có môn học đó.");
        return;
    }
    if (pg_value(q, 1, 0, 0)[0] == 't') {
        api_error(req, 409, "term_locked", "Học kì này đã khoá sổ; không thay đổi điểm được nữa.");
        return;
    }
    const char *problem =
        edit_value_problem(e, pg_value(q, 0, 0, 0), atoi(pg_value(q, 0, 0, 1)), e->given);
    if (problem) {
        api_error(req, 422, "invalid_mark", problem);
        return;
    }
    char why27[300];
    const char *mode = pg_value(q, 0, 0, 0);
    if (!e->clear && strncmp(mode, "primary", 7) == 0 && strcmp(e->slot, "nx") != 0 &&
        kt_tt27_test_allowed(&kt_rules_tt27_2020, atoi(pg_value(q, 0, 0, 2)), e->subject, mode,
                             e->slot, why27, sizeof(why27)) < 0) { /* TT27 Điều 7 */
        api_error_details(req, 422, "tt27_no_test", why27,
                          json_pack("[{s:s,s:s}]", "field", "slot", "rule", "TT27 Điều 7"));
        return;
    }
    char sch[24], u[24];
    api_id_text(sch, req->user->school_id);
    api_id_text(u, req->user->id);
    const char *p[] = {e->cls, e->student, e->subject, e->year, e->semester, e->slot,
                       e->clear ? NULL : e->value, sch, u};
    pg_query *q2 = api_query(req);
    pg_query_add(q2, "record_edit", 9, p);
    api_run(req, q2, edit_stored);
}

void
h_class_record_edit(http_request *req)
{
    json_t *b = api_body_object(req);
    if (!b)
        return;
    const json_t *st = json_object_get(b, "student_id"), *sem = json_object_get(b, "semester");
    const char *subject = json_string_value(json_object_get(b, "subject"));
    const char *year = json_string_value(json_object_get(b, "school_year"));
    const char *slot = json_string_value(json_object_get(b, "slot"));
    int ok = json_is_integer(st) && json_integer_value(st) > 0 && subject && *subject &&
             strlen(subject) < 32 && year_ok(year) && json_is_integer(sem) &&
             json_integer_value(sem) >= 1 && json_integer_value(sem) <= 2 && slot &&
             strlen(slot) < 12 && SLOT_OK(slot) && json_object_get(b, "value");
    if (!ok || api_param_id(req, 0) <= 0) {
        json_decref(b);
        api_error(req, 400, "invalid_body",
                  "Cần student_id, subject, school_year, semester, slot và value (null để xoá).");
        return;
    }
    struct edit *e = calloc(1, sizeof(*e));
    if (!e)
        abort();
    api_id_text(e->cls, api_param_id(req, 0));
    api_id_text(e->student, json_integer_value(st));
    snprintf(e->subject, sizeof(e->subject), "%s", subject);
    snprintf(e->year, sizeof(e->year), "%s", year);
    snprintf(e->semester, sizeof(e->semester), "%d", (int)json_integer_value(sem));
    snprintf(e->slot, sizeof(e->slot), "%s", slot);
    e->given = json_incref(json_object_get(b, "value"));
    json_decref(b);
    req->ctx = e;
    req->ctx_free = edit_free;
    char sch[24];
    api_id_text(sch, req->user->school_id);
    const char *pm[] = {e->cls, e->subject}, *pl[] = {sch, e->year, e->semester};
    pg_query *q = api_query(req);
    pg_query_add(q, "record_subject_mode", 2, pm);
    pg_query_add(q, "term_locked", 3, pl);
    api_run(req, q, edit_checked);
}

/* ------------------------------------------------------------------------ */
/* POST /api/v1/records/lock {school_year, semester}: school_admin          */

static void
locked(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    const char *sent = pg_ntuples(q, 1) == 1 ? pg_value(q, 1, 0, 0) : NULL;
    api_json(req, 200, json_pack("{s:b,s:b,s:i}", "locked", 1, "newly_locked",
                                 pg_ntuples(q, 0) == 1, "records", sent ? atoi(sent) : 0));
}

void
h_records_lock(http_request *req)
{
    json_t *b = api_body_object(req);
    if (!b)
        return;
    const char *year = json_string_value(json_object_get(b, "school_year"));
    const json_t *sem = json_object_get(b, "semester");
    if (!year_ok(year) || !json_is_integer(sem) || json_integer_value(sem) < 1 ||
        json_integer_value(sem) > 2) {
        json_decref(b);
        api_error(req, 400, "invalid_body", "Cần school_year (ví dụ 2026-2027) và semester (1 hoặc 2).");
        return;
    }
    char sch[24], u[24], s[4], y[16];
    api_id_text(sch, req->user->school_id);
    api_id_text(u, req->user->id);
    snprintf(s, sizeof(s), "%d", (int)json_integer_value(sem));
    snprintf(y, sizeof(y), "%s", year);
    json_decref(b);
    const char *p[] = {sch, y, s, u};
    pg_query *q = api_query(req);
    pg_query_add(q, "term_lock", 4, p);
    pg_query_add(q, "records_release", 2, p); /* the released records go to the outbox */
    api_run(req, q, locked);
}

/* ------------------------------------------------------------------------ */
/* POST /api/v1/records/unlock {school_year, semester, reason}: school_admin */

static void
unlocked(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    const char *v = pg_ntuples(q, 0) == 1 ? pg_value(q, 0, 0, 0) : NULL;
    api_json(req, 200,
             json_pack("{s:b,s:b}", "locked", 0, "newly_unlocked", v && v[0] == 't'));
}

void
h_records_unlock(http_request *req)
{
    json_t *b = api_body_object(req);
    if (!b)
        return;
    const char *year = json_string_value(json_object_get(b, "school_year"));
    const json_t *sem = json_object_get(b, "semester");
    const char *reason = json_string_value(json_object_get(b, "reason"));
    if (!year_ok(year) || !json_is_integer(sem) || json_integer_value(sem) < 1 ||
        json_integer_value(sem) > 2) {
        json_decref(b);
        api_error(req, 400, "invalid_body", "Cần school_year (ví dụ 2026-2027) và semester (1 hoặc 2).");
        return;
    }
    size_t skip = reason ? strspn(reason, " \t\r\n") : 0;
    if (!reason || reason[skip] == '\0' || strlen(reason) > 500) {
        json_decref(b);
        api_error_details(req, 400, "invalid_body",
                          "Cần lí do mở khoá sổ (reason, 1 đến 500 kí tự).",
                          json_pack("[{s:s,s:s}]", "field", "reason", "message",
                                    "Thầy cô ghi lí do mở khoá sổ (1 đến 500 kí tự)."));
        return;
    }
    char s[4], y[16];
    snprintf(s, sizeof(s), "%d", (int)json_integer_value(sem));
    snprintf(y, sizeof(y), "%s", year);
    char *r = strdup(reason + skip);
    json_decref(b);
    if (!r)
        abort();
    const char *p[] = {y, s, r};
    pg_query *q = api_query(req);
    pg_query_add(q, "term_unlock", 3, p);
    free(r); /* pg_query_add copies its parameters */
    api_run(req, q, unlocked);
}

/* ------------------------------------------------------------------------ */
/* GET /api/v1/exports/records?class_id=&year=&semester=&subject=&format=   */

struct export_job {
    http_request *req;
    char format[8];
    char decimal_mark;
    int national_id;
    json_t *data; /* class_records, or the exchange records for json */
    char *out;
    size_t out_len;
    char filename[160];
    char err[200];
};

static void
export_job_free(void *p)
{
    struct export_job *j = p;
    json_decref(j->data);
    free(j->out);
    free(j);
}

/* The 12-digit số định danh from its stored form (hex of nonce || box). */
static int
national_id_open(const char *hex, char out[13])
{
    unsigned char key[crypto_secretbox_KEYBYTES];
    if (!hex || kt_secret_key(key) < 0)
        return -1;
    unsigned char raw[crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 12];
    size_t n = 0;
    int rc = -1;
    if (sodium_hex2bin(raw, sizeof(raw), hex, strlen(hex), NULL, &n, NULL) == 0 && n == sizeof(raw) &&
        crypto_secretbox_open_easy((unsigned char *)out, raw + crypto_secretbox_NONCEBYTES,
                                   n - crypto_secretbox_NONCEBYTES, raw, key) == 0) {
        out[12] = '\0';
        rc = 0;
    }
    sodium_memzero(key, sizeof(key));
    return rc;
}

/* Replaces each student's stored (encrypted, hex) số định danh by its
 * plain text, or null when it cannot be opened. */
static void
open_national_ids(json_t *data)
{
    size_t i;
    json_t *st;
    json_array_foreach(json_object_get(data, "students"), i, st)
    {
        char nid[13];
        const char *hex = json_string_value(json_object_get(st, "national_id"));
        json_object_set_new(st, "national_id",
                            hex && national_id_open(hex, nid) == 0 ? json_string(nid) : json_null());
        sodium_memzero(nid, sizeof(nid));
    }
}

static void
export_work(void *arg)
{
    struct export_job *j = arg;
    if (strcmp(j->format, "json") == 0) {
        j->out = json_dumps(j->data, JSON_INDENT(2));
        j->out_len = j->out ? strlen(j->out) : 0;
        return;
    }
    if (j->national_id)
        open_national_ids(j->data);
    json_t *sheet = kt_sheet_from_records(j->data, j->national_id);
    if (strcmp(j->format, "csv") == 0) {
        j->out = kt_sheet_csv(sheet, j->decimal_mark, &j->out_len);
    } else {
        char path[] = "/tmp/kiemtra-export-XXXXXX";
        int fd = mkstemp(path);
        if (fd >= 0) {
            close(fd);
            if (kt_sheet_xlsx(sheet, path) == 0) {
                size_t len = 0;
                FILE *f = fopen(path, "rb");
                if (f && fseek(f, 0, SEEK_END) == 0 && (len = (size_t)ftell(f)) > 0 &&
                    fseek(f, 0, SEEK_SET) == 0 && (j->out = malloc(len)) &&
                    fread(j->out, 1, len, f) == len)
                    j->out_len = len;
                if (f)
                    fclose(f);
            }
            unlink(path);
        }
    }
    if (!j->out)
        snprintf(j->err, sizeof(j->err), "Không tạo được tệp xuất.");
    json_decref(sheet);
}

static void
export_done(void *arg)
{
    struct export_job *j = arg;
    if (!j->out) {
        api_error(j->req, 500, "export_failed", j->err);
        return;
    }
    const char *type = strcmp(j->format, "csv") == 0    ? "text/csv; charset=utf-8"
                       : strcmp(j->format, "json") == 0 ? "application/json; charset=utf-8"
                                                        : "application/vnd.openxmlformats-"
                                                          "officedocument.spreadsheetml.sheet";
    char disp[240];
    snprintf(disp, sizeof(disp), "Content-Disposition: attachment; filename=\"%s.%s\"\r\n",
             j->filename, j->format);
    http_reply_full(j->req, 200, type, disp, j->out, j->out_len);
}

static void
export_loaded(http_request *req, pg_query *q)
{
    struct export_job *j = req->ctx;
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    if (pg_ntuples(q, 0) != 1) {
        api_error(req, 404, "not_found", "Không tìm thấy lớp học.");
        return;
    }
    j->data = json_loads(pg_value(q, 0, 0, 0), 0, NULL);
    if (strcmp(j->format, "json") == 0) {
        json_decref(j->data);
        j->data = json_loads(pg_value(q, 1, 0, 0), 0, NULL);
    } else if (!json_object_get(j->data, "subject") ||
               json_is_null(json_object_get(j->data, "subject"))) {
        api_error(req, 422, "no_subject_config", "Lớp này không có môn học đó.");
        return;
    }
    kt_cpu_submit(req->worker->base, export_work, export_done, j);
}

void
h_export_records(http_request *req)
{
    struct sheet_query sq;
    if (sheet_params(req, &sq, "class_id") < 0)
        return;
    char *fmt = http_query_param(req, "format"), *dec = http_query_param(req, "decimal");
    char *nid = http_query_param(req, "national_id");
    struct export_job *j = calloc(1, sizeof(*j));
    if (!j)
        abort();
    j->req = req;
    req->ctx = j;
    req->ctx_free = export_job_free;
    snprintf(j->format, sizeof(j->format), "%s", fmt && *fmt ? fmt : "xlsx");
    j->decimal_mark = dec && strcmp(dec, "dot") == 0 ? '.' : ',';
    j->national_id = nid && strcmp(nid, "1") == 0;
    free(fmt);
    free(dec);
    free(nid);
    if (strcmp(j->format, "xlsx") != 0 && strcmp(j->format, "csv") != 0 && strcmp(j->format, "json") != 0) {
        api_error(req, 400, "invalid_parameter", "format phải là xlsx, csv hoặc json.");
        return;
    }
    if (j->national_id && req->user->role != ROLE_SCHOOL_ADMIN) {
        api_error(req, 403, "forbidden",
                  "Chỉ quản trị của trường mới xuất được số định danh cá nhân của học sinh.");
        return;
    }
    snprintf(j->filename, sizeof(j->filename), "so-diem-%s-%s-hk%s-%s", sq.subject, sq.year,
             sq.semester, sq.cls);
    const char *p[] = {sq.cls, sq.year, sq.semester, sq.subject, j->national_id ? "true" : "false"};
    const char *px[] = {sq.cls, sq.year, sq.semester};
    pg_query *q = api_query(req);
    pg_query_add(q, "class_records", 5, p);
    pg_query_add(q, "class_exchange", 3, px);
    if (j->national_id && strcmp(j->format, "json") != 0) { /* the sheet shows them: audited */
        char actor[24];
        api_id_text(actor, req->user->id);
        const char *pa[] = {sq.cls, actor, sq.year, sq.semester, sq.subject, j->format};
        pg_query_add(q, "student_national_id_export", 6, pa);
    }
    api_run(req, q, export_loaded);
}

/* ------------------------------------------------------------------------ */
/* GET /api/v1/outbox: school_admin                                         */

static void
outbox_shown(http_request *req, pg_query *q)
{
    api_reply_row(req, q, 0, 200, "Không có bản ghi nào.");
}

void
h_outbox_status(http_request *req)
{
    pg_query *q = api_query(req);
    pg_query_add(q, "outbox_status", 0, NULL);
    api_run(req, q, outbox_shown);
}

/* ------------------------------------------------------------------------ */
/* PUT/GET /api/v1/students/{id}/national-id: school_admin only             */

static const struct pg_stmt_def national_id_stmts[] = {
    {"student_identity",
     "SELECT gender, extract(year FROM birth_date)::int, encode(national_id_enc, 'hex')"
     " FROM users WHERE id = $1::bigint AND role = 'student'"},
    {"student_national_id_set",
     "WITH u AS (UPDATE users SET national_id_enc = decode($2, 'hex')"
     "  WHERE id = $1::bigint AND role = 'student' RETURNING id, school_id)"
     " INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, new_value)"
     " SELECT school_id, $3::bigint, 'student.national_id', 'user', id::text,"
     "  jsonb_build_object('set', $2 IS NOT NULL) FROM u RETURNING 1"},
    /* Every read and export of số định danh leaves an audit row, written in
     * the transaction that reads them. */
    {"student_national_id_read",
     "INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, new_value)"
     " SELECT school_id, $2::bigint, 'student.national_id.read', 'user', id::text,"
     "  jsonb_build_object('stored', national_id_enc IS NOT NULL)"
     " FROM users WHERE id = $1::bigint AND role = 'student'"},
    {"student_national_id_export",
     "INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, new_value)"
     " SELECT c.school_id, $2::bigint, 'student.national_id.export', 'class', c.id::text,"
     "  jsonb_build_object('school_year', $3::text, 'semester', $4::int, 'subject', $5::text,"
     "  'format', $6::text, 'students', coalesce((SELECT jsonb_agg(u.id ORDER BY u.id)"
     "   FROM class_members cm JOIN users u ON u.id = cm.user_id AND u.role = 'student'"
     "   WHERE cm.class_id = c.id AND u.national_id_enc IS NOT NULL), '[]'))"
     " FROM classes c WHERE c.id = $1::bigint"},
};

void
kt_national_id_register(void)
{
    pg_register_statements(national_id_stmts,
                           (int)(sizeof(national_id_stmts) / sizeof(national_id_stmts[0])));
}

struct nid {
    json_t *value;
};

static void
nid_free(void *p)
{
    struct nid *n = p;
    json_decref(n->value);
    free(n);
}

static void
nid_stored(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    api_json(req, 200, json_pack("{s:b}", "stored", pg_ntuples(q, 0) == 1));
}

static void
nid_checked(http_request *req, pg_query *q)
{
    struct nid *n = req->ctx;
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    if (pg_ntuples(q, 0) != 1) {
        api_error(req, 404, "not_found", "Không tìm thấy học sinh.");
        return;
    }
    const char *id = json_string_value(n->value);
    char hex[2 * (crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 12) + 1];
    if (id) {
        char why[400];
        const char *by = pg_value(q, 0, 0, 1);
        if (kt_national_id_check(id, atoi(pg_value(q, 0, 0, 0)), by ? atoi(by) : 0, why,
                                 sizeof(why)) < 0) {
            api_error(req, 422, "invalid_national_id", why);
            return;
        }
        unsigned char key[crypto_secretbox_KEYBYTES];
        if (kt_secret_key(key) < 0) {
            api_error(req, 503, "no_secret_key",
                      "Máy chủ chưa có khoá mã hoá (KIEMTRA_SECRET_KEY_FILE): chưa lưu được số định"
                      " danh.");
            return;
        }
        unsigned char box[crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 12];
        randombytes_buf(box, crypto_secretbox_NONCEBYTES);
        crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, (const unsigned char *)id, 12,
                              box, key);
        sodium_memzero(key, sizeof(key));
        sodium_bin2hex(hex, sizeof(hex), box, sizeof(box));
    }
    char sid[24], u[24];
    api_id_text(sid, api_param_id(req, 0));
    api_id_text(u, req->user->id);
    const char *p[] = {sid, id ? hex : NULL, u};
    pg_query *q2 = api_query(req);
    pg_query_add(q2, "student_national_id_set", 3, p);
    api_run(req, q2, nid_stored);
}

void
h_national_id_set(http_request *req)
{
    json_t *b = api_body_object(req);
    if (!b)
        return;
    json_t *v = json_object_get(b, "national_id");
    if (!v || !(json_is_string(v) || json_is_null(v))) {
        json_decref(b);
        api_error(req, 400, "invalid_body", "Cần national_id: chuỗi 12 chữ số, hoặc null để xoá.");
        return;
    }
    struct nid *n = calloc(1, sizeof(*n));
    if (!n)
        abort();
    n->value = json_incref(v);
    json_decref(b);
    req->ctx = n;
    req->ctx_free = nid_free;
    char sid[24];
    api_id_text(sid, api_param_id(req, 0));
    const char *p[] = {sid};
    pg_query *q = api_query(req);
    pg_query_add(q, "student_identity", 1, p);
    api_run(req, q, nid_checked);
}

static void
nid_shown(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    if (pg_ntuples(q, 0) != 1) {
        api_error(req, 404, "not_found", "Không tìm thấy học sinh.");
        return;
    }
    const char *hex = pg_value(q, 0, 0, 2);
    char id[13];
    if (hex && national_id_open(hex, id) < 0) {
        api_error(req, 503, "no_secret_key", "Không giải mã được số định danh (khoá không đúng).");
        return;
    }
    api_json(req, 200, json_pack("{s:s?}", "national_id", hex ? id : NULL));
    sodium_memzero(id, sizeof(id));
}

void
h_national_id_get(http_request *req)
{
    char sid[24], actor[24];
    api_id_text(sid, api_param_id(req, 0));
    api_id_text(actor, req->user->id);
    const char *p[] = {sid};
    const char *pa[] = {sid, actor};
    pg_query *q = api_query(req);
    pg_query_add(q, "student_identity", 1, p);
    pg_query_add(q, "student_national_id_read", 2, pa);
    api_run(req, q, nid_shown);
}

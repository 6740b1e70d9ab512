/*
 * Attempts on the event loop: start or resume (idempotent), the student's
 * view with remaining time from the server clock, answer saves with group
 * commit, submit, extra time, the teacher's live monitor (conditional on an
 * ETag) with reopen and force submit, and the exam-room checks of a start
 * (access code, allowed addresses). A save is
 * acknowledged only after the transaction holding it has committed; a stale
 * or repeated seq never replaces a newer answer.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include "api.h"
#include "config.h"
#include "grading.h"
#include "group.h"
#include "linear_form.h"
#include "log.h"
#include "server.h"

#define ITEM_REF_MAX 32
#define RESPONSE_MAX_BYTES 20000 /* an essay of a few pages */
#define RESPONSE_MAX_VALUES 100
#define RESPONSE_MAX_IDS 32 /* response identifiers of one QTI item */
#define SAVE_BATCH_MAX 500 /* saves per transaction */
#define SAVE_INFLIGHT_MAX 2 /* transactions in flight per school and worker */
#define START_BATCH_MAX 200
/* One start transaction at a time per school and worker: starts arriving
 * meanwhile wait and go together. A start costs the database several times
 * a save; two small start batches at once in the start window cost more
 * CPU than one twice the size, and on a machine with less CPU to spare the
 * window queued (docs/BENCHMARKS.md, "A slower machine"). Saves keep two:
 * with one the submit storm got worse. */
#define START_INFLIGHT_MAX 1
#define SUBMIT_BATCH_MAX 200
/* Gathering (group.h): a queue sends at most one batch per so many ms
 * unless that many requests wait. Saves wait less (KIEMTRA_SAVE_GATHER_MS,
 * 6 ms): they are the most frequent request and the one a student feels;
 * starts and submits come in storms, and each costs the database several
 * saves. With these, a 10,000-student exam sends 40 saves per batch
 * instead of 17 and 5.6 starts instead of 1.7 (docs/BENCHMARKS.md,
 * "Gathering"). */
#define SAVE_GATHER_MIN 64
#define STORM_GATHER_MS 10
#define STORM_GATHER_MIN 16

/* The student's view of an attempt without its form's payload, which the
 * gateway adds from its cache (form_id says which; linear_reach, for a
 * student in a linear test, how many of its items); results only once
 * released (or for staff). STUDENT: SQL that is true when the reader is
 * the attempt's student (a batch of starts, read under a staff role on
 * behalf of each student, says so itself). */
#define ATTEMPT_VIEW ATTEMPT_VIEW_AS("kt_is_student()")
#define ATTEMPT_VIEW_AS(STUDENT)                                                                   \
    "SELECT json_build_object('id', a.id, 'session_id', a.session_id, 'status', a.status,"        \
    " 'linear_reach', CASE WHEN a.linear AND " STUDENT " THEN kt_linear_reach(a.id) END,"         \
    " 'form_code', f.code, 'started_at', a.started_at, 'deadline', a.deadline,"                   \
    " 'extra_seconds', a.extra_seconds, 'server_time', now(),"                                    \
    " 'remaining_seconds', CASE WHEN a.status = 'in_progress' THEN"                               \
    "   greatest(0, floor(extract(epoch FROM a.deadline - now())))::integer ELSE 0 END,"          \
    " 'submitted_at', a.submitted_at, 'submitted_by', a.submitted_by,"                            \
    " 'form_id', a.form_id,"                                                                      \
    /* Submitted and scored (the score itself only where shown, below). */                        \
    " 'scored', a.scored_at IS NOT NULL,"                                                         \
    " 'responses', coalesce((SELECT json_object_agg(r.item_ref, json_build_object("               \
    "   'response', r.response, 'seq', r.seq)) FROM responses r WHERE r.attempt_id = a.id),"      \
    "   '{}'),"                                                                                   \
    " 'results_released', se.results_released,"                                                   \
    " 'result', CASE WHEN (se.results_released OR NOT " STUDENT ")"                                \
    "   AND a.scored_at IS NOT NULL THEN json_build_object("                                      \
    "   'score', round(a.score::numeric / 100, 2)::text,"                                         \
    "   'max_score', round(a.max_score::numeric / 100, 2)::text,"                                 \
    "   'needs_marking', a.needs_marking) END,"                                                   \
    /* Per question after release, keys only at the level released (0027). */                     \
    " 'release_show', CASE WHEN se.results_released THEN se.release_show END,"                     \
    " 'review', CASE WHEN se.results_released AND a.scored_at IS NOT NULL"                         \
    "   THEN kt_attempt_review(a.id) END)::text"                                                  \
    " FROM attempts a JOIN test_forms f ON f.id = a.form_id JOIN sessions se ON se.id = a.session_id"

static const struct pg_stmt_def attempt_stmts[] = {
    /* Group commit of starts: creates the attempts of many students of one
     * school (input rows o, session se, student u) when the student is
     * assigned and the window is open; returns the o of those created. The
     * form is the student's rank in the class roster modulo the number of
     * forms, so neighbours get different forms. */
    {"attempt_start_batch",
     "WITH input AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS t(o integer, se bigint,"
     "   u bigint, ck boolean)),"
     " s AS (SELECT DISTINCT ON (i.se, i.u) i.se, i.u, se.test_id, se.closes_at,"
     "   t.duration_seconds, t.forms FROM input i JOIN sessions se ON se.id = i.se"
     "   JOIN tests t ON t.id = se.test_id"
     "  WHERE t.status = 'published' AND now() >= se.opens_at AND now() < se.closes_at"
     "   AND se.cancelled_at IS NULL" /* a cancelled session starts nothing (0023) */
     /* A start not checked at the room (ck false) goes in only when the
      * session has no room rules (attempt_start_unchecked says which). */
     "   AND (i.ck OR (se.access_code IS NULL AND se.allowed_cidrs IS NULL))),"
     " c AS (SELECT s.*, cls.class_id, me.code FROM s"
     /* The student's class in the session, found from the student's own
      * classes (one or two rows): an ORDER BY ... LIMIT 1 here let the
      * generic plan walk the session's classes in order instead (hundreds
      * in a whole-grade exam, 125 probes per start on average). */
     "   CROSS JOIN LATERAL (SELECT min(cm.class_id) AS class_id FROM class_members cm"
     "     WHERE cm.user_id = s.u AND EXISTS (SELECT 1 FROM session_classes sc"
     "       WHERE sc.session_id = s.se AND sc.class_id = cm.class_id)) cls"
     "   CROSS JOIN LATERAL (SELECT coalesce(student_code, '') AS code FROM users"
     "     WHERE id = s.u) me WHERE cls.class_id IS NOT NULL),"
     " ins AS (INSERT INTO attempts (school_id, session_id, student_id, form_id, deadline)"
     "   SELECT $2::bigint, c.se, c.u, f.id,"
     "     least(now() + make_interval(secs => c.duration_seconds), c.closes_at)"
     "   FROM c CROSS JOIN LATERAL (SELECT count(*) AS n FROM class_members cm"
     "     JOIN users u ON u.id = cm.user_id WHERE cm.class_id = c.class_id"
     "     AND (coalesce(u.student_code, ''), u.id) < (c.code, c.u)) pos"
     "   JOIN test_forms f ON f.test_id = c.test_id AND f.form_index = pos.n % c.forms"
     "   ON CONFLICT (session_id, student_id) DO NOTHING RETURNING session_id, student_id)"
     /* A student twice in the batch: only the first start made it. */
     " SELECT min(i.o) FROM input i JOIN ins ON ins.session_id = i.se AND ins.student_id = i.u"
     " GROUP BY i.se, i.u"},
    /* Then, in the same transaction: the starts that need the room check
     * first (the session has an access code or allowed addresses, and the
     * student has no attempt yet: a resume is never checked again) ... */
    {"attempt_start_unchecked",
     "SELECT i.o FROM jsonb_to_recordset($1::jsonb) AS i(o integer, se bigint, u bigint,"
     "   ck boolean) JOIN sessions s ON s.id = i.se AND s.school_id = $2::bigint"
     " WHERE NOT i.ck AND (s.access_code IS NOT NULL OR s.allowed_cidrs IS NOT NULL)"
     "  AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.session_id = i.se"
     "   AND a.student_id = i.u)"},
    /* ... and each student's attempt as the student sees it (NULL: none). */
    {"attempt_start_views",
     "SELECT i.o, (" ATTEMPT_VIEW_AS("true") " WHERE a.session_id = i.se AND a.student_id = i.u"
     "   AND a.school_id = $2::bigint)"
     " FROM jsonb_to_recordset($1::jsonb) AS i(o integer, se bigint, u bigint, ck boolean)"},
    /* The attempt of (session, student), or why there is none. */
    {"attempt_of_session",
     "SELECT (" ATTEMPT_VIEW " WHERE a.session_id = $1::bigint AND a.student_id = $2::bigint),"
     " se.id IS NOT NULL,"
     " EXISTS (SELECT 1 FROM session_classes sc JOIN class_members cm"
     "   ON cm.class_id = sc.class_id AND cm.user_id = $2::bigint WHERE sc.session_id = se.id),"
     " se.opens_at > now(), se.closes_at <= now(), se.cancelled_at IS NOT NULL"
     " FROM (SELECT 1) one LEFT JOIN sessions se ON se.id = $1::bigint"},
    /* Seen by the live monitor to the nearest 10 s: a GET soon after the
     * start or the last touch changes no row, so its transaction writes
     * nothing and does not wait for a WAL flush. */
    {"attempt_touch",
     "UPDATE attempts SET last_seen_at = now() WHERE id = $1::bigint AND student_id = $2::bigint"
     " AND last_seen_at < now() - interval '10 seconds'"},
    {"attempt_view", ATTEMPT_VIEW " WHERE a.id = $1::bigint"},
    {"form_payload", "SELECT payload::text FROM test_forms WHERE id = $1::bigint"},
    /* Group commit: the saves of many students of one school in one
     * statement. Rows are locked FOR SHARE so that a submit waits for saves
     * in flight (and a save after a submit sees it). Per (attempt, item) the
     * highest seq of the batch is written, and only over a lower stored seq. */
    {"save_batch",
     "WITH input AS (SELECT * FROM jsonb_to_recordset($1::jsonb)"
     "   AS t(o integer, a bigint, s bigint, r text, v jsonb, q bigint)),"
     " valid AS (SELECT i.*, at.status, at.deadline,"
     /* The item's place in the form, for a linear test only: the row
      * trigger (migration 0013) checks the order when it is not NULL. */
     "   CASE WHEN at.linear THEN (SELECT e.ord FROM test_forms f,"
     "     jsonb_array_elements(f.payload->'items') WITH ORDINALITY AS e(it, ord)"
     "    WHERE f.id = at.form_id AND e.it->>'ref' = i.r) END AS pos FROM input i"
     /* Each attempt by its key, row by row (a locking subquery is never
      * merged into the join): as a join, a plan made before `attempts`
      * was analysed read all of the session's attempts into a hash for
      * every batch (10,000 rows, 22 ms), and one made after hashed the
      * whole table. */
     "   CROSS JOIN LATERAL (SELECT at.status, at.deadline, at.linear, at.form_id,"
     "     at.session_id FROM attempts at WHERE at.id = i.a AND at.student_id = i.s"
     "     FOR SHARE) at"
     "   JOIN sessions se ON se.id = at.session_id"
     "   JOIN test_items ti ON ti.test_id = se.test_id AND ti.item_ref = i.r),"
     " ok AS (SELECT DISTINCT ON (a, r) * FROM valid"
     "   WHERE status = 'in_progress' AND now() <= deadline ORDER BY a, r, q DESC),"
     " up AS (INSERT INTO responses AS x (attempt_id, item_ref, school_id, student_id, response,"
     "   seq, position) SELECT a, r, $2::bigint, s, coalesce(v, 'null'::jsonb), q, pos FROM ok"
     "   ON CONFLICT (attempt_id, item_ref) DO UPDATE"
     "   SET response = EXCLUDED.response, seq = EXCLUDED.seq, saved_at = now()"
     "   WHERE x.seq < EXCLUDED.seq RETURNING attempt_id, item_ref, seq),"
     /* What was written, as one map: joining the CTE row by row would be a
      * nested loop (the planner expects one row), quadratic in the batch. */
     " written AS (SELECT jsonb_object_agg(attempt_id || ' ' || item_ref, seq) AS m FROM up)"
     " SELECT i.o, CASE WHEN v.o IS NULL THEN 'not_found'"
     "   WHEN v.status <> 'in_progress' OR now() > v.deadline THEN 'closed' ELSE 'ok' END,"
     /* The stored seq is read only for a save not written (an older seq,
      * a closed attempt): coalesce runs the subquery only when reached. */
     "   coalesce((w.m ->> (i.a || ' ' || i.r))::bigint, (SELECT x.seq FROM responses x"
     "     WHERE x.attempt_id = i.a AND x.item_ref = i.r), i.q),"
     "   greatest(0, floor(extract(epoch FROM v.deadline - now())))::integer"
     " FROM input i CROSS JOIN written w LEFT JOIN valid v ON v.o = i.o"
     " ORDER BY i.o"},
    /* Waits for saves in flight (row lock), then closes the attempt. A
     * submit after the deadline counts as the automatic one at the deadline. */
    /* Group commit of submits (input rows o, attempt a, student s). The
     * row lock waits for saves in flight. A submit after the deadline
     * counts as the automatic one at the deadline. */
    {"attempt_submit_batch",
     "WITH input AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS t(o integer, a bigint,"
     "   s bigint))"
     " UPDATE attempts at SET status = 'submitted', submitted_at = least(now(), at.deadline),"
     " submitted_by = CASE WHEN now() > at.deadline THEN 'auto' ELSE 'student' END"
     " FROM (SELECT DISTINCT ON (a) * FROM input ORDER BY a, o) i"
     " WHERE at.id = i.a AND at.student_id = i.s AND at.school_id = $2::bigint"
     /* The batch's attempts by key. A plan made while the table was small
      * walked every open attempt instead (the partial index on deadlines,
      * which `status = 'in_progress'` would select): 3,000 rows for one
      * submit, 127 ms for 60. The CASE keeps that index out of reach. */
     " AND at.id = ANY ((SELECT array_agg(a) FROM input)::bigint[])"
     " AND CASE WHEN at.status = 'in_progress' THEN true END RETURNING i.o"},
    /* Then, in the same transaction, the state of each student's attempt
     * and the attempt as the student sees it (the reply). */
    {"attempt_owner_batch",
     "SELECT i.o, t.status, t.scored_at IS NULL, (" ATTEMPT_VIEW_AS("true") " WHERE a.id = t.id)"
     " FROM jsonb_to_recordset($1::jsonb) AS i(o integer, a bigint, s bigint)"
     " JOIN attempts t ON t.id = i.a AND t.student_id = i.s AND t.school_id = $2::bigint"
     " AND t.id = ANY ((SELECT array_agg(a) FROM jsonb_to_recordset($1::jsonb) AS x(a bigint))"
     "   ::bigint[])"},
    /* A reopened attempt (0025) moves its deadline by the change of extra
     * time; otherwise the deadline is recomputed from the start. */
    {"attempt_extra_time",
     "WITH u AS (UPDATE attempts a SET extra_seconds = $2::integer,"
     "   deadline = CASE WHEN a.reopened_at IS NOT NULL"
     "     THEN a.deadline + make_interval(secs => $2::integer - a.extra_seconds)"
     "     ELSE least(a.started_at + make_interval(secs => t.duration_seconds + $2::integer),"
     "                se.closes_at) END"
     "  FROM sessions se JOIN tests t ON t.id = se.test_id"
     "  WHERE a.id = $1::bigint AND se.id = a.session_id AND a.status = 'in_progress'"
     "   AND kt_require_attempt(a.id)" /* a teacher of the student's class (0021) */
     "  RETURNING a.id, a.school_id, a.extra_seconds, a.deadline)"
     " INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, new_value)"
     " SELECT school_id, $3::bigint, 'attempt.extra_time', 'attempt', id::text,"
     "  jsonb_build_object('extra_seconds', extra_seconds, 'deadline', deadline) FROM u"
     " RETURNING 1"},
    /* Holds the attempt (waits for saves and a score store in flight), so
     * the next statement's snapshot holds every score row there is. */
    {"attempt_lock", "SELECT 1 FROM attempts WHERE id = $1::bigint FOR UPDATE"},
    /* $1 attempt, $2 actor, $3 reason, $4 minutes (NULL: the time that was
     * left when it was submitted). A submitted, scored attempt of a session
     * not released, whose mark from this session is in no locked semester,
     * becomes in progress again; its scores are removed (scored again on the
     * next submit). -> (status, released, locked, remaining seconds, scored,
     * written) */
    {"attempt_reopen",
     "WITH a AS (SELECT a.id, a.school_id, a.status, a.submitted_at, a.submitted_by,"
     "   a.deadline, a.score, a.max_score, a.scored_at IS NOT NULL AS scored,"
     "   se.results_released AS released,"
     "   greatest(0, floor(extract(epoch FROM a.deadline - a.submitted_at)))::integer AS remaining,"
     "   EXISTS (SELECT 1 FROM record_marks m JOIN record_terms rt ON rt.school_id = m.school_id"
     "     AND rt.school_year = m.school_year AND rt.semester = m.semester"
     "    WHERE m.session_id = se.id AND m.student_id = a.student_id) AS locked"
     "  FROM attempts a JOIN sessions se ON se.id = a.session_id WHERE a.id = $1::bigint),"
     " ok AS (SELECT a.*, coalesce($4::integer * 60, a.remaining) AS secs FROM a"
     "  WHERE a.status = 'submitted' AND a.scored AND NOT a.released AND NOT a.locked"
     "   AND coalesce($4::integer * 60, a.remaining) >= 60 AND kt_require_attempt(a.id)),"
     " del AS (DELETE FROM attempt_scores x USING ok WHERE x.attempt_id = ok.id RETURNING 1),"
     " u AS (UPDATE attempts x SET status = 'in_progress', submitted_at = NULL,"
     "   submitted_by = NULL, scored_at = NULL, score = NULL, max_score = NULL,"
     "   needs_marking = false, reopened_at = now(), last_seen_at = now(),"
     "   deadline = now() + make_interval(secs => ok.secs)"
     "  FROM ok WHERE x.id = ok.id RETURNING x.id, x.deadline),"
     " aud AS (INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, old_value,"
     "   new_value) SELECT ok.school_id, $2::bigint, 'attempt.reopen', 'attempt', ok.id::text,"
     "   jsonb_build_object('status', ok.status, 'submitted_at', ok.submitted_at,"
     "     'submitted_by', ok.submitted_by, 'deadline', ok.deadline,"
     "     'score', round(ok.score::numeric / 100, 2)::text,"
     "     'max_score', round(ok.max_score::numeric / 100, 2)::text,"
     "     'item_scores_removed', (SELECT count(*) FROM del)),"
     "   jsonb_build_object('status', 'in_progress', 'deadline', u.deadline,"
     "     'seconds', ok.secs, 'reason', $3::text)"
     "  FROM ok JOIN u ON u.id = ok.id RETURNING 1)"
     " SELECT a.status, a.released, a.locked, a.remaining, a.scored, (SELECT count(*) FROM aud)"
     " FROM a"},
    /* A proctor submits an attempt in progress now, as the student's submit
     * would (after the deadline it counts as the automatic one). */
    {"attempt_force_submit",
     "WITH u AS (UPDATE attempts a SET status = 'submitted', submitted_at = least(now(), a.deadline),"
     "   submitted_by = CASE WHEN now() > a.deadline THEN 'auto' ELSE 'teacher' END"
     "  WHERE a.id = $1::bigint AND a.status = 'in_progress' AND kt_require_attempt(a.id)"
     "  RETURNING a.id, a.school_id, a.submitted_at, a.submitted_by, a.deadline),"
     " aud AS (INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, old_value,"
     "   new_value) SELECT u.school_id, $2::bigint, 'attempt.force_submit', 'attempt', u.id::text,"
     "   jsonb_build_object('status', 'in_progress', 'deadline', u.deadline),"
     "   jsonb_build_object('status', 'submitted', 'submitted_at', u.submitted_at,"
     "     'submitted_by', u.submitted_by) FROM u RETURNING 1)"
     " SELECT (SELECT count(*) FROM aud), (SELECT status FROM attempts WHERE id = $1::bigint)"},
    /* Exam-room checks of a start (0025), under the student's tenant: $1
     * session, $2 student, $3 the code typed (or NULL), $4 the client
     * address (NULL when not an IP address). A wrong code is counted before
     * anything else is decided (the row lock orders concurrent tries); past
     * 10 wrong codes each try waits 5 minutes after the last wrong one, and
     * a locked try is not checked at all. A right code with no failures
     * writes nothing. -> (started, address ok, code needed, verdict ok |
     * wrong | locked | NULL, failures, seconds to wait, code right) */
    {"attempt_room_check",
     "WITH st AS (SELECT s.id, s.school_id, s.access_code,"
     "   EXISTS (SELECT 1 FROM attempts a WHERE a.session_id = s.id"
     "     AND a.student_id = $2::bigint) AS started,"
     "   s.allowed_cidrs IS NULL OR coalesce($4::inet <<= ANY (s.allowed_cidrs), false) AS addr_ok"
     "  FROM sessions s WHERE s.id = $1::bigint),"
     " chk AS (SELECT st.*, NOT st.started AND st.addr_ok AND st.access_code IS NOT NULL"
     "   AND $3::text IS NOT NULL AND ($3::text <> st.access_code OR EXISTS (SELECT 1"
     "     FROM session_code_tries t WHERE t.session_id = st.id AND t.student_id = $2::bigint))"
     "   AS counted FROM st),"
     " t AS (INSERT INTO session_code_tries AS x (session_id, student_id, school_id, failures,"
     "   last_failure) SELECT chk.id, $2::bigint, chk.school_id,"
     "   CASE WHEN $3::text = chk.access_code THEN 0 ELSE 1 END,"
     "   CASE WHEN $3::text = chk.access_code THEN NULL ELSE now() END FROM chk WHERE chk.counted"
     "  ON CONFLICT (session_id, student_id) DO UPDATE SET"
     "   failures = CASE WHEN x.failures >= 10 AND x.last_failure > now() - interval '5 minutes'"
     "     THEN x.failures WHEN EXCLUDED.failures = 0 THEN 0 ELSE x.failures + 1 END,"
     "   last_failure = CASE WHEN x.failures >= 10"
     "     AND x.last_failure > now() - interval '5 minutes' THEN x.last_failure"
     "     WHEN EXCLUDED.failures = 0 THEN x.last_failure ELSE now() END"
     "  RETURNING failures, last_failure)"
     " SELECT st.started, st.addr_ok, st.access_code IS NOT NULL,"
     "  (SELECT CASE WHEN t.failures = 0 THEN 'ok' WHEN t.last_failure = now() THEN 'wrong'"
     "    ELSE 'locked' END FROM t),"
     "  (SELECT t.failures FROM t),"
     "  (SELECT greatest(1, ceil(300 - extract(epoch FROM now() - t.last_failure)))::integer"
     "    FROM t),"
     "  $3::text = st.access_code"
     " FROM st"},
    /* The live monitor (0025): $1 session, $2 the tag the client holds.
     * The tag hashes what the view shows: the session row's version, each
     * attempt's row version, the number and newest time of the answers, and
     * the students (membership, class names, names and codes). The view itself is built only
     * when the tag differs (an init plan not needed is never run). */
    {"session_monitor",
     "WITH se AS (SELECT s.*, s.xmin::text AS v FROM sessions s WHERE s.id = $1::bigint),"
     " tag AS (SELECT md5(se.v || '|' || (SELECT count(*) || ':' || coalesce(string_agg("
     "   a.id || '.' || a.xmin::text, ',' ORDER BY a.id), '') FROM attempts a"
     "   WHERE a.session_id = se.id) || '|' || (SELECT count(*) || ':'"
     "   || coalesce(max(r.saved_at)::text, '') FROM attempts a JOIN responses r"
     "   ON r.attempt_id = a.id WHERE a.session_id = se.id) || '|' || (SELECT count(*) || ':'"
     "   || coalesce(string_agg(u.id || '.' || c.name || '.' || u.full_name || '.'"
     "   || coalesce(u.student_code, ''), ',' ORDER BY u.id, c.id), '')"
     "   FROM session_classes sc JOIN classes c ON c.id = sc.class_id"
     "   JOIN class_members cm ON cm.class_id = c.id JOIN users u ON u.id = cm.user_id"
     "   WHERE sc.session_id = se.id)) AS t FROM se)"
     " SELECT tag.t, CASE WHEN $2::text IS DISTINCT FROM tag.t THEN (SELECT json_build_object("
     " 'session_id', se.id, 'server_time', now(), 'opens_at', se.opens_at,"
     " 'closes_at', se.closes_at, 'access_code', se.access_code,"
     " 'allowed_cidrs', se.allowed_cidrs, 'results_released', se.results_released,"
     " 'cancelled', se.cancelled_at IS NOT NULL,"
     " 'state', CASE WHEN se.cancelled_at IS NOT NULL THEN 'cancelled'"
     "   WHEN now() < se.opens_at THEN 'scheduled' WHEN now() < se.closes_at THEN 'open'"
     "   ELSE 'closed' END,"
     " 'test', json_build_object('id', t.id, 'title', t.title, 'subject', t.subject,"
     "   'grade', t.grade, 'duration_seconds', t.duration_seconds),"
     " 'items_total', n.items,"
     " 'counts', json_build_object('total', count(m.uid),"
     "   'not_started', count(m.uid) FILTER (WHERE a.id IS NULL),"
     "   'in_progress', count(*) FILTER (WHERE a.status = 'in_progress'),"
     "   'submitted', count(*) FILTER (WHERE a.status = 'submitted'"
     "     AND a.submitted_by IS DISTINCT FROM 'auto'),"
     "   'auto_submitted', count(*) FILTER (WHERE a.status = 'submitted'"
     "     AND a.submitted_by = 'auto'),"
     /* Scored attempts waiting for a teacher, and those with an answer the
      * engine could not score (never counted as 0). */
     "   'needs_marking', count(*) FILTER (WHERE a.needs_marking AND a.scored_at IS NOT NULL),"
     "   'scoring_failed', count(*) FILTER (WHERE sf.n > 0)),"
     " 'students', coalesce(json_agg(json_build_object('student_id', m.uid,"
     "   'student_code', m.code, 'full_name', m.full_name, 'class', m.class,"
     "   'state', CASE WHEN a.id IS NULL THEN 'not_started' WHEN a.status = 'in_progress'"
     "     THEN 'in_progress' WHEN a.submitted_by = 'auto' THEN 'auto_submitted'"
     "     ELSE 'submitted' END,"
     "   'attempt_id', a.id, 'form_code', f.code, 'started_at', a.started_at,"
     "   'deadline', a.deadline, 'extra_seconds', coalesce(a.extra_seconds, 0),"
     "   'time_left_seconds', CASE WHEN a.status = 'in_progress' THEN"
     "     greatest(0, floor(extract(epoch FROM a.deadline - now())))::integer END,"
     "   'submitted_at', a.submitted_at, 'submitted_by', a.submitted_by,"
     "   'reopened_at', a.reopened_at,"
     "   'last_seen_at', greatest(a.last_seen_at, rs.saved, a.started_at),"
     "   'answered', coalesce(rs.answered, 0), 'items_total', n.items,"
     "   'needs_marking', coalesce(a.needs_marking AND a.scored_at IS NOT NULL, false),"
     "   'scoring_failed', coalesce(sf.n, 0))"
     "   ORDER BY m.class, m.code, m.uid) FILTER (WHERE m.uid IS NOT NULL), '[]'))"
     " FROM tests t CROSS JOIN LATERAL (SELECT count(*) AS items FROM test_items ti"
     "   WHERE ti.test_id = t.id) n"
     " LEFT JOIN ((SELECT DISTINCT ON (u.id) u.id AS uid, u.student_code AS code, u.full_name,"
     "   c.name AS class FROM session_classes sc JOIN classes c ON c.id = sc.class_id"
     "   JOIN class_members cm ON cm.class_id = c.id"
     "   JOIN users u ON u.id = cm.user_id AND u.role = 'student'"
     "   WHERE sc.session_id = se.id ORDER BY u.id, c.name) m"
     "  LEFT JOIN attempts a ON a.session_id = se.id AND a.student_id = m.uid"
     "  LEFT JOIN test_forms f ON f.id = a.form_id"
     "  LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE r.response <> 'null'::jsonb)"
     "    AS answered, max(r.saved_at) AS saved FROM responses r WHERE r.attempt_id = a.id) rs"
     "   ON true"
     "  LEFT JOIN LATERAL (SELECT count(*) AS n FROM attempt_scores x WHERE x.attempt_id = a.id"
     "    AND x.state = 'scoring_failed') sf ON true) ON true"
     " WHERE t.id = se.test_id GROUP BY t.id, n.items)::text END"
     " FROM tag, se"},
};

static struct kt_group_kind save_kind;

/* Counters of the three group-committed kinds (/metrics). */
static struct kt_group_stats start_stats = {.name = "start"};
static struct kt_group_stats save_stats = {.name = "save"};
static struct kt_group_stats submit_stats = {.name = "submit"};

void
kt_attempts_register(void)
{
    pg_register_statements(attempt_stmts,
                           (int)(sizeof(attempt_stmts) / sizeof(attempt_stmts[0])));
    kt_group_register(&start_stats);
    kt_group_register(&save_stats);
    save_kind.gather_ms = kt_cfg.save_gather_ms;
    kt_group_register(&submit_stats);
}


/* ------------------------------------------------------------------------ */
/* Form payloads, cached per worker                                         */

/* A published form never changes, so its payload (tens of kilobytes of
 * JSON the database would otherwise build for every start and every view)
 * is kept once fetched. Direct-mapped; each worker thread has its own. */
#define FORM_CACHE 256

struct cached_form {
    int64_t id;
    char *payload;
    size_t len;
    kt_linear_form linear; /* split on the first view of a linear attempt */
};
static __thread struct cached_form form_cache[FORM_CACHE];

static struct cached_form *
form_cached(int64_t id)
{
    struct cached_form *c = &form_cache[(uint64_t)id % FORM_CACHE];
    return c->payload && c->id == id ? c : NULL;
}

static void
form_cache_put(int64_t id, const char *payload)
{
    struct cached_form *c = &form_cache[(uint64_t)id % FORM_CACHE];
    char *copy = strdup(payload);
    if (!copy)
        return;
    free(c->payload);
    kt_linear_form_free(&c->linear);
    c->payload = copy; /* owned by the cache until the worker ends */
    c->id = id;
    c->len = strlen(copy);
}

/* A view waiting for its form's payload. */
struct pending_view {
    char *head; /* the view without payload, as compact JSON */
    int64_t form_id;
    int status;
    long reach; /* linear_reach, 0 for the whole form */
};

static void
pending_view_free(void *p)
{
    struct pending_view *v = p;
    free(v->head);
    free(v);
}

/* In a linear test a student gets the items up to the reach and none after
 * (the form is split once per worker); otherwise the payload as stored. */
static void
reply_with_payload(http_request *req, int status, const char *head, struct cached_form *f,
                   long reach)
{
    const char *payload = f->payload;
    char *cut = NULL;
    size_t plen = f->len;
    if (reach > 0 && (f->linear.head || kt_linear_form_split(f->payload, &f->linear) == 0))
        payload = cut = kt_linear_form_payload(&f->linear, reach, &plen);
    else if (reach > 0)
        payload = NULL; /* never the whole form */
    size_t hlen = strlen(head), size = hlen + plen + 16;
    char *out = payload ? malloc(size) : NULL;
    if (!out) {
        free(cut);
        api_error(req, 503, "overloaded", "Máy chủ quá tải.");
        return;
    }
    /* head is "{...}": the payload goes in before its closing brace. */
    int n = snprintf(out, size, "%.*s,\"payload\":%s}", (int)(hlen - 1), head, payload);
    api_raw_json(req, status, out, n > 0 ? (size_t)n : 0);
    free(out);
    free(cut);
}

static void
payload_loaded(http_request *req, pg_query *q)
{
    struct pending_view *v = req->ctx;
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    if (pg_ntuples(q, 0) != 1) {
        api_error(req, 500, "internal", "Không đọc được đề của bài làm.");
        return;
    }
    form_cache_put(v->form_id, pg_value(q, 0, 0, 0));
    struct cached_form *f = form_cached(v->form_id);
    if (f)
        reply_with_payload(req, v->status, v->head, f, v->reach);
    else
        api_error(req, 503, "overloaded", "Máy chủ quá tải.");
}

/* Replies with an attempt view (ATTEMPT_VIEW's text) and its form's payload. */
static void
reply_view(http_request *req, int status, const char *view)
{
    json_t *v = json_loads(view, 0, NULL);
    int64_t form_id = json_integer_value(json_object_get(v, "form_id"));
    long reach = (long)json_integer_value(json_object_get(v, "linear_reach"));
    json_object_del(v, "form_id");
    json_object_del(v, "linear_reach");
    char *head = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (!head || form_id <= 0) {
        free(head);
        api_error(req, 500, "internal", "Không đọc được bài làm.");
        return;
    }
    struct cached_form *f = form_cached(form_id);
    if (f) {
        reply_with_payload(req, status, head, f, reach);
        free(head);
        return;
    }
    struct pending_view *p = calloc(1, sizeof(*p));
    if (!p)
        abort();
    *p = (struct pending_view){head, form_id, status, reach};
    if (req->ctx && req->ctx_free)
        req->ctx_free(req->ctx);
    req->ctx = p;
    req->ctx_free = pending_view_free;
    char id[24];
    api_id_text(id, form_id);
    pg_query *q = api_query(req);
    const char *params[] = {id};
    pg_query_add(q, "form_payload", 1, params);
    api_run(req, q, payload_loaded);
}

/* ------------------------------------------------------------------------ */
/* POST /api/v1/sessions/{id}/attempts                                      */

static void
start_reply(http_request *req, pg_query *q, int status)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    const char *view = pg_value(q, 0, 0, 0);
    if (view) {
        reply_view(req, status, view);
        return;
    }
    const char *exists = pg_value(q, 0, 0, 1), *assigned = pg_value(q, 0, 0, 2),
               *early = pg_value(q, 0, 0, 3), *late = pg_value(q, 0, 0, 4),
               *cancelled = pg_value(q, 0, 0, 5);
    if (!exists || exists[0] != 't' || !assigned || assigned[0] != 't')
        api_error(req, 404, "not_found", "Không tìm thấy buổi kiểm tra dành cho em.");
    else if (cancelled && cancelled[0] == 't')
        api_error(req, 409, "session_cancelled",
                  "Buổi kiểm tra này đã bị huỷ nên không làm bài được. Em hãy hỏi thầy cô.");
    else if (early && early[0] == 't')
        api_error(req, 409, "not_open_yet", "Buổi kiểm tra chưa đến giờ mở. Em vui lòng chờ.");
    else if (late && late[0] == 't')
        api_error(req, 409, "session_closed", "Buổi kiểm tra đã kết thúc.");
    else
        api_error(req, 409, "not_published", "Đề kiểm tra chưa được phát hành.");
}

static void
started_new(http_request *req, pg_query *q)
{
    start_reply(req, q, 201);
}

static void
started_before(http_request *req, pg_query *q)
{
    start_reply(req, q, 200);
}

struct start {
    struct kt_group_item g; /* first */
    http_request *req;
    int64_t session_id;
    int checked;  /* the room check passed (or was not needed) */
    char code[8]; /* the access code the student typed, or "" */
};

static void room_check(http_request *req, int64_t sid, const char *code);

static pg_query *
starts_build(int64_t school_id, struct kt_group_item **items, int n)
{
    json_t *rows = json_array();
    for (int i = 0; i < n; i++) {
        const struct start *st = (const struct start *)items[i];
        json_array_append_new(rows, json_pack("{s:i,s:I,s:I,s:b}", "o", i, "se",
                                              (json_int_t)st->session_id, "u",
                                              (json_int_t)st->req->user->id, "ck", st->checked));
    }
    /* Each row's student is the one who asked (from the token). */
    static const char *const stmts[] = {"attempt_start_batch", "attempt_start_unchecked",
                                        "attempt_start_views"};
    return kt_group_query(school_id, "student_starts", rows, stmts, 3);
}

/* One transaction answers most starts: the attempts created, then each
 * student's view. A start the room must check first goes through the
 * check and joins a later batch; one with no attempt after the batch
 * (not assigned, not open, ...) reads why under its own tenant. */
static void
starts_done(pg_query *q, struct kt_group_item **items, int n)
{
    char created[START_BATCH_MAX] = {0}, unchecked[START_BATCH_MAX] = {0};
    const char *view[START_BATCH_MAX] = {0};
    for (int r = 0; q->status == PG_OK && r < pg_ntuples(q, 0); r++) {
        int o = atoi(pg_value(q, 0, r, 0));
        if (o >= 0 && o < n) /* n <= START_BATCH_MAX */
            created[o] = 1;
    }
    for (int r = 0; q->status == PG_OK && r < pg_ntuples(q, 1); r++) {
        int o = atoi(pg_value(q, 1, r, 0));
        if (o >= 0 && o < n)
            unchecked[o] = 1;
    }
    for (int r = 0; q->status == PG_OK && r < pg_ntuples(q, 2); r++) {
        int o = atoi(pg_value(q, 2, r, 0));
        if (o >= 0 && o < n)
            view[o] = pg_value(q, 2, r, 1);
    }
    for (int i = 0; i < n; i++) {
        struct start *st = (struct start *)items[i];
        http_request *req = st->req;
        if (q->status != PG_OK) {
            api_db_error(req, q);
        } else if (unchecked[i]) {
            room_check(req, st->session_id, st->code);
        } else if (view[i]) {
            reply_view(req, created[i] ? 201 : 200, view[i]);
        } else {
            char s[24], u[24];
            api_id_text(s, st->session_id);
            api_id_text(u, req->user->id);
            pg_query *v = api_query(req);
            const char *p[] = {s, u};
            pg_query_add(v, "attempt_of_session", 2, p);
            api_run(req, v, created[i] ? started_new : started_before);
        }
        free(st);
    }
}

static const struct kt_group_kind start_kind = {
    .stats = &start_stats,
    .batch_max = START_BATCH_MAX,
    .inflight_max = START_INFLIGHT_MAX,
    .gather_ms = STORM_GATHER_MS,
    .gather_min = STORM_GATHER_MIN,
    .build = starts_build,
    .done = starts_done,
};

static void
start_join(http_request *req, int64_t sid, int checked, const char *code)
{
    struct start *st = calloc(1, sizeof(*st));
    if (!st)
        abort();
    st->req = req;
    st->session_id = sid;
    st->checked = checked;
    snprintf(st->code, sizeof(st->code), "%s", code ? code : "");
    kt_group_add(&start_kind, req->worker, req->user->school_id, &st->g);
}

/* The exam-room checks passed (or the attempt exists: a resume is never
 * checked again, a student's network may change): the start joins the
 * group commit. */
static void
room_checked(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    int64_t sid = api_param_id(req, 0);
    if (pg_ntuples(q, 0) != 1) { /* no such session: the start says why */
        start_join(req, sid, 1, NULL);
        return;
    }
    const char *started = pg_value(q, 0, 0, 0), *addr_ok = pg_value(q, 0, 0, 1),
               *needs = pg_value(q, 0, 0, 2), *verdict = pg_value(q, 0, 0, 3),
               *failures = pg_value(q, 0, 0, 4), *wait = pg_value(q, 0, 0, 5),
               *right = pg_value(q, 0, 0, 6);
    if (started[0] == 't') {
        start_join(req, sid, 1, NULL);
        return;
    }
    if (addr_ok[0] != 't') {
        char msg[300];
        snprintf(msg, sizeof(msg),
                 "Máy của em (địa chỉ %s) không nằm trong phòng thi của buổi kiểm tra này. Em "
                 "hãy làm bài trên máy của phòng thi hoặc hỏi thầy cô coi thi.",
                 req->peer);
        api_error_details(req, 403, "address_not_allowed", msg,
                          json_pack("[{s:s,s:s}]", "field", "address", "address", req->peer));
        return;
    }
    if (needs[0] != 't') {
        start_join(req, sid, 1, NULL);
        return;
    }
    if (verdict && strcmp(verdict, "locked") == 0) {
        int secs = wait ? atoi(wait) : 300;
        char msg[300], hdr[48];
        snprintf(msg, sizeof(msg),
                 "Em đã nhập sai mã vào phòng quá nhiều lần. Em hãy chờ %d phút rồi thử lại, "
                 "hoặc hỏi thầy cô coi thi.",
                 (secs + 59) / 60);
        snprintf(hdr, sizeof(hdr), "Retry-After: %d\r\n", secs);
        json_t *body = json_pack("{s:{s:s,s:s,s:[{s:s,s:i}]}}", "error", "code",
                                 "access_code_locked", "message", msg, "details", "field",
                                 "access_code", "retry_after", secs);
        char *out = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        http_reply_full(req, 429, "application/json; charset=utf-8", hdr, out, strlen(out));
        free(out);
        return;
    }
    if (verdict && strcmp(verdict, "wrong") == 0) {
        int left = 10 - (failures ? atoi(failures) : 10);
        char msg[300];
        if (left > 0)
            snprintf(msg, sizeof(msg),
                     "Mã vào phòng không đúng. Em hãy nhập lại mã thầy cô đọc (còn %d lần thử).",
                     left);
        else
            snprintf(msg, sizeof(msg),
                     "Mã vào phòng không đúng. Em đã hết lượt thử; hãy chờ 5 phút rồi thử lại.");
        api_error_details(req, 403, "access_code_wrong", msg,
                          json_pack("[{s:s,s:s,s:i}]", "field", "access_code", "message",
                                    "Mã vào phòng không đúng.", "tries_left", left));
        return;
    }
    if ((verdict && strcmp(verdict, "ok") == 0) || (right && right[0] == 't')) {
        start_join(req, sid, 1, NULL);
        return;
    }
    api_error_details(req, 403, "access_code_required",
                      "Buổi kiểm tra này cần mã vào phòng: em hãy nhập mã 6 chữ số thầy cô "
                      "coi thi đọc.",
                      json_pack("[{s:s,s:s}]", "field", "access_code", "message",
                                "Hãy nhập mã vào phòng (6 chữ số)."));
}

/* The client's address as PostgreSQL's inet reads it (an IPv4 client of
 * a dual-stack socket without its ::ffff: prefix), or NULL. */
static const char *
client_inet(const http_request *req, char out[48])
{
    const char *p = req->peer;
    unsigned char buf[sizeof(struct in6_addr)];
    if (strncasecmp(p, "::ffff:", 7) == 0 && inet_pton(AF_INET, p + 7, buf) == 1)
        p += 7;
    if (inet_pton(AF_INET, p, buf) != 1 && inet_pton(AF_INET6, p, buf) != 1)
        return NULL;
    snprintf(out, 48, "%s", p);
    return out;
}

void
h_attempt_start(http_request *req)
{
    int64_t sid = api_param_id(req, 0);
    if (sid <= 0) {
        api_error(req, 404, "not_found", "Không tìm thấy buổi kiểm tra dành cho em.");
        return;
    }
    /* The body is optional: {"access_code": "123456"} when the session
     * needs one. */
    char code[8] = "";
    if (req->body && req->body_len > 0) {
        json_t *body = api_body_object(req);
        if (!body)
            return;
        json_t *c = json_object_get(body, "access_code");
        const char *cs = json_string_value(c);
        if (c && !json_is_null(c) &&
            (!cs || strlen(cs) != 6 || strspn(cs, "0123456789") != 6)) {
            json_decref(body);
            api_error_details(req, 403, "access_code_wrong",
                              "Mã vào phòng gồm đúng 6 chữ số; em hãy nhập lại.",
                              json_pack("[{s:s,s:s}]", "field", "access_code", "message",
                                        "Mã vào phòng gồm 6 chữ số."));
            return;
        }
        if (cs)
            snprintf(code, sizeof(code), "%s", cs);
        json_decref(body);
    }
    /* Straight to the group commit: most sessions have no room rules, and
     * the batch sends the others through room_check first. */
    start_join(req, sid, 0, code);
}

/* The exam-room checks (access code, allowed addresses) of a start. */
static void
room_check(http_request *req, int64_t sid, const char *code)
{
    char s[24], u[24], addr[48];
    api_id_text(s, sid);
    api_id_text(u, req->user->id);
    const char *p[] = {s, u, code[0] ? code : NULL, client_inet(req, addr)};
    pg_query *q = api_query(req);
    pg_query_add(q, "attempt_room_check", 4, p);
    api_run(req, q, room_checked);
}

/* ------------------------------------------------------------------------ */
/* GET /api/v1/attempts/{id}                                                */

static void
view_done(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    int last = q->nresults - 1;
    const char *view = pg_ntuples(q, last) == 1 ? pg_value(q, last, 0, 0) : NULL;
    if (!view) {
        api_error(req, 404, "not_found", "Không tìm thấy bài làm.");
        return;
    }
    reply_view(req, 200, view);
}

void
h_attempt_get(http_request *req)
{
    int64_t id = api_param_id(req, 0);
    if (id <= 0) {
        api_error(req, 404, "not_found", "Không tìm thấy bài làm.");
        return;
    }
    char a[24], u[24];
    api_id_text(a, id);
    api_id_text(u, req->user->id);
    pg_query *q = api_query(req);
    const char *p1[] = {a, u}, *p2[] = {a};
    if (req->user->role == ROLE_STUDENT)
        pg_query_add(q, "attempt_touch", 2, p1);
    pg_query_add(q, "attempt_view", 1, p2);
    api_run(req, q, view_done);
}

/* ------------------------------------------------------------------------ */
/* PUT /api/v1/attempts/{id}/responses/{item_ref}: group commit             */

struct save {
    struct kt_group_item g; /* first */
    http_request *req;
    int64_t attempt_id, student_id, seq;
    char item_ref[ITEM_REF_MAX + 1];
    json_t *response;
};

void
kt_attempts_thread_end(void)
{
    kt_group_thread_end();
    kt_grading_thread_end();
    for (int i = 0; i < FORM_CACHE; i++) {
        free(form_cache[i].payload);
        kt_linear_form_free(&form_cache[i].linear);
        form_cache[i] = (struct cached_form){0};
    }
}

/* Saves of many students share this transaction, so it runs under the
 * school's tenant with a non-student role; the statement itself checks that
 * every attempt belongs to the student who sent the save. */
static pg_query *
saves_build(int64_t school_id, struct kt_group_item **items, int n)
{
    json_t *rows = json_array();
    for (int i = 0; i < n; i++) {
        const struct save *sv = (const struct save *)items[i];
        json_array_append_new(rows, json_pack("{s:i,s:I,s:I,s:s,s:O,s:I}", "o", i, "a",
                                              (json_int_t)sv->attempt_id, "s",
                                              (json_int_t)sv->student_id, "r", sv->item_ref,
                                              "v", sv->response, "q", (json_int_t)sv->seq));
    }
    static const char *const stmts[] = {"save_batch"};
    return kt_group_query(school_id, "student_saves", rows, stmts, 1);
}

static void
saves_done(pg_query *q, struct kt_group_item **items, int n)
{
    int rows = q->status == PG_OK ? pg_ntuples(q, 0) : 0;
    for (int i = 0; i < n; i++) {
        struct save *sv = (struct save *)items[i];
        http_request *req = sv->req;
        if (q->status != PG_OK) {
            api_db_error(req, q);
        } else if (i >= rows) {
            api_error(req, 500, "internal", "Lỗi nội bộ khi lưu câu trả lời.");
        } else {
            const char *state = pg_value(q, 0, i, 1);
            if (strcmp(state, "not_found") == 0)
                api_error(req, 404, "not_found", "Không tìm thấy bài làm hoặc câu hỏi này.");
            else if (strcmp(state, "closed") == 0)
                api_error(req, 409, "attempt_closed",
                          "Bài làm đã nộp hoặc đã hết giờ; câu trả lời này không được lưu.");
            else
                api_json(req, 200,
                         json_pack("{s:s,s:I,s:i}", "item_ref", sv->item_ref, "saved_seq",
                                   (json_int_t)strtoll(pg_value(q, 0, i, 2), NULL, 10),
                                   "remaining_seconds", atoi(pg_value(q, 0, i, 3))));
        }
        json_decref(sv->response);
        free(sv);
    }
}

static struct kt_group_kind save_kind = { /* gather_ms: from the configuration */
    .stats = &save_stats,
    .batch_max = SAVE_BATCH_MAX,
    .inflight_max = SAVE_INFLIGHT_MAX,
    .gather_min = SAVE_GATHER_MIN,
    .build = saves_build,
    .done = saves_done,
};

/* The values of one response: total string bytes in *total, or -1 when a
 * value is not null, a boolean, a number, a string or a list of those. */
static int
values_size(const json_t *v, size_t *total)
{
    if (json_is_string(v))
        *total += json_string_length(v);
    else if (json_is_array(v)) {
        size_t i;
        const json_t *e;
        if (json_array_size(v) > RESPONSE_MAX_VALUES)
            return -1;
        json_array_foreach(v, i, e)
        {
            if (json_is_string(e))
                *total += json_string_length(e);
            else if (!json_is_number(e) && !json_is_boolean(e) && !json_is_null(e))
                return -1;
        }
    } else if (!json_is_null(v) && !json_is_boolean(v) && !json_is_number(v))
        return -1;
    return 0;
}

/* A response value: null, a string, a number, a boolean, an array of
 * those (multiple, ordered; a Đúng/Sai cluster as [true, false, null,
 * true]), a Đúng/Sai cluster as {"a": true, "b": false, ...}, or the
 * responses of a QTI item as {RESPONSE_ID: value} (identifiers of at most
 * 64 characters; each value null, a string or a list, numbers written in
 * their QTI string form). */
static const char *
response_problem(const json_t *v)
{
    size_t total = 0;
    if (json_is_object(v)) {
        const char *k;
        const json_t *e;
        if (json_object_size(v) > RESPONSE_MAX_IDS)
            return "Câu hỏi có quá nhiều phần trả lời.";
        json_object_foreach((json_t *)v, k, e)
        {
            size_t n = strlen(k);
            if (n == 0 || n > 64 ||
                strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != n)
                return "Mỗi phần trả lời phải có mã (tối đa 64 ký tự chữ, số, _ - .).";
            /* QTI values in their string forms, or Đúng/Sai as booleans. */
            if (json_is_number(e) || values_size(e, &total) < 0)
                return "Mỗi phần trả lời là chuỗi, true/false, null hoặc danh sách chuỗi.";
        }
    } else if (values_size(v, &total) < 0) {
        return json_is_array(v) ? "Mỗi lựa chọn phải là chuỗi, số, true, false hoặc null; tối đa "
                                  "100 lựa chọn."
                                : "Câu trả lời phải là chuỗi, số, danh sách hoặc các ý đúng/sai.";
    }
    return total > RESPONSE_MAX_BYTES ? "Câu trả lời quá dài." : NULL;
}

static int
item_ref_valid(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= ITEM_REF_MAX &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") == n;
}

void
h_attempt_save(http_request *req)
{
    int64_t id = api_param_id(req, 0);
    const char *ref = req->params[1];
    if (id <= 0 || !ref || !item_ref_valid(ref)) {
        api_error(req, 404, "not_found", "Không tìm thấy bài làm hoặc câu hỏi này.");
        return;
    }
    json_t *body = api_body_object(req);
    if (!body)
        return;
    json_t *seq = json_object_get(body, "seq"), *resp = json_object_get(body, "response");
    const char *bad = NULL;
    if (!json_is_integer(seq) || json_integer_value(seq) < 0 ||
        json_integer_value(seq) > (json_int_t)1 << 53)
        bad = "Thiếu số thứ tự lưu (seq) hợp lệ: số nguyên không âm.";
    else if (!resp)
        bad = "Thiếu câu trả lời (response); gửi null để xoá câu trả lời.";
    else
        bad = response_problem(resp);
    if (bad) {
        json_decref(body);
        api_error(req, 400, "invalid_response", bad);
        return;
    }
    struct save *sv = calloc(1, sizeof(*sv));
    if (!sv)
        abort();
    sv->req = req;
    sv->attempt_id = id;
    sv->student_id = req->user->id;
    sv->seq = json_integer_value(seq);
    snprintf(sv->item_ref, sizeof(sv->item_ref), "%s", ref);
    sv->response = json_incref(resp);
    json_decref(body);
    kt_group_add(&save_kind, req->worker, req->user->school_id, &sv->g);
}

/* ------------------------------------------------------------------------ */
/* POST /api/v1/attempts/{id}/submit                                        */

static void
show_attempt(http_request *req)
{
    char a[24];
    api_id_text(a, api_param_id(req, 0));
    pg_query *q = api_query(req);
    const char *p[] = {a};
    pg_query_add(q, "attempt_view", 1, p);
    api_run(req, q, view_done);
}

struct submit {
    struct kt_group_item g; /* first */
    http_request *req;
    int64_t attempt_id;
};

static pg_query *
submits_build(int64_t school_id, struct kt_group_item **items, int n)
{
    json_t *rows = json_array();
    for (int i = 0; i < n; i++) {
        const struct submit *sb = (const struct submit *)items[i];
        json_array_append_new(rows, json_pack("{s:i,s:I,s:I}", "o", i, "a",
                                              (json_int_t)sb->attempt_id, "s",
                                              (json_int_t)sb->req->user->id));
    }
    /* The statements check that each attempt is the asking student's. */
    static const char *const stmts[] = {"attempt_submit_batch", "attempt_owner_batch"};
    return kt_group_query(school_id, "student_submits", rows, stmts, 2);
}

/* Acknowledged at the commit that closed the attempt: the reply is the
 * attempt submitted, its score still to come ("scored": false); the
 * scoring is queued behind the replies (grading.c). A repeated submit shows
 * the attempt as it is (idempotent); one closed but left unscored by a
 * gateway that stopped is scored by the expiry job. */
static void
submits_done(pg_query *q, struct kt_group_item **items, int n)
{
    enum { UNKNOWN, CLOSED_NOW, UNSCORED, DONE } state[SUBMIT_BATCH_MAX] = {0};
    const char *view[SUBMIT_BATCH_MAX] = {0};
    for (int r = 0; q->status == PG_OK && r < pg_ntuples(q, 1); r++) {
        int o = atoi(pg_value(q, 1, r, 0));
        const char *unscored = pg_value(q, 1, r, 2);
        if (o >= 0 && o < n) {
            state[o] = strcmp(pg_value(q, 1, r, 1), "submitted") == 0 && unscored[0] == 't'
                           ? UNSCORED
                           : DONE;
            view[o] = pg_value(q, 1, r, 3);
        }
    }
    for (int r = 0; q->status == PG_OK && r < pg_ntuples(q, 0); r++) {
        int o = atoi(pg_value(q, 0, r, 0));
        if (o >= 0 && o < n)
            state[o] = CLOSED_NOW;
    }
    for (int i = 0; i < n; i++) {
        struct submit *sb = (struct submit *)items[i];
        http_request *req = sb->req;
        if (q->status != PG_OK)
            api_db_error(req, q);
        else if (state[i] == UNKNOWN)
            api_error(req, 404, "not_found", "Không tìm thấy bài làm.");
        else {
            if (state[i] == CLOSED_NOW)
                kt_grade_attempt(req->worker, sb->attempt_id, req->user->school_id, NULL, NULL);
            if (view[i])
                reply_view(req, 200, view[i]);
            else
                show_attempt(req);
        }
        free(sb);
    }
}

static const struct kt_group_kind submit_kind = {
    .stats = &submit_stats,
    .batch_max = SUBMIT_BATCH_MAX,
    .inflight_max = 2,
    .gather_ms = STORM_GATHER_MS,
    .gather_min = STORM_GATHER_MIN,
    .build = submits_build,
    .done = submits_done,
};

void
h_attempt_submit(http_request *req)
{
    int64_t id = api_param_id(req, 0);
    if (id <= 0) {
        api_error(req, 404, "not_found", "Không tìm thấy bài làm.");
        return;
    }
    struct submit *sb = calloc(1, sizeof(*sb));
    if (!sb)
        abort();
    sb->req = req;
    sb->attempt_id = id;
    kt_group_add(&submit_kind, req->worker, req->user->school_id, &sb->g);
}

/* ------------------------------------------------------------------------ */
/* PATCH /api/v1/attempts/{id} {extra_seconds}: teachers                    */

static void
extra_done(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error_doing(req, q, "cộng thêm giờ cho bài làm này");
        return;
    }
    if (pg_ntuples(q, 0) != 1) {
        api_error(req, 409, "attempt_closed",
                  "Chỉ cộng thêm giờ được cho bài đang làm (bài đã nộp hoặc không tồn tại).");
        return;
    }
    view_done(req, q);
}

void
h_attempt_patch(http_request *req)
{
    int64_t id = api_param_id(req, 0);
    json_t *body = id > 0 ? api_body_object(req) : NULL;
    if (id <= 0) {
        api_error(req, 404, "not_found", "Không tìm thấy bài làm.");
        return;
    }
    if (!body)
        return;
    json_t *extra = json_object_get(body, "extra_seconds");
    if (!json_is_integer(extra) || json_integer_value(extra) < 0 ||
        json_integer_value(extra) > 14400) {
        json_decref(body);
        api_error(req, 400, "invalid_parameter",
                  "extra_seconds phải là số giây cộng thêm, từ 0 đến 14400.");
        return;
    }
    char a[24], e[24], u[24];
    api_id_text(a, id);
    api_id_text(e, json_integer_value(extra));
    api_id_text(u, req->user->id);
    json_decref(body);
    pg_query *q = api_query(req);
    const char *p1[] = {a, e, u}, *p2[] = {a};
    pg_query_add(q, "attempt_extra_time", 3, p1);
    pg_query_add(q, "attempt_view", 1, p2);
    api_run(req, q, extra_done);
}

/* ------------------------------------------------------------------------ */
/* POST /api/v1/attempts/{id}/reopen {reason, minutes?}: teachers           */

static void
reopened(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error_doing(req, q, "mở lại bài làm này");
        return;
    }
    if (pg_ntuples(q, 1) != 1) {
        api_error(req, 404, "not_found", "Không tìm thấy bài làm.");
        return;
    }
    const char *status = pg_value(q, 1, 0, 0), *released = pg_value(q, 1, 0, 1),
               *locked = pg_value(q, 1, 0, 2), *scored = pg_value(q, 1, 0, 4),
               *written = pg_value(q, 1, 0, 5);
    if (written && strcmp(written, "1") == 0)
        view_done(req, q);
    else if (strcmp(status, "submitted") != 0)
        api_error(req, 409, "attempt_open",
                  "Bài làm này đang làm dở (chưa nộp) nên không cần mở lại.");
    else if (released[0] == 't')
        api_error(req, 409, "results_released",
                  "Buổi kiểm tra đã công bố kết quả nên không mở lại bài làm được.");
    else if (locked[0] == 't')
        api_error(req, 409, "term_locked",
                  "Điểm của bài này đã vào sổ điểm của học kỳ đã khoá nên không mở lại được.");
    else if (scored[0] != 't')
        api_error(req, 409, "scoring_in_progress",
                  "Bài làm đang được chấm; thầy cô thử lại sau vài giây.");
    else
        api_error_details(req, 422, "invalid_parameter",
                          "Bài nộp lúc đã hết giờ: hãy ghi số phút cho học sinh làm tiếp (minutes).",
                          json_pack("[{s:s,s:s}]", "field", "minutes", "message",
                                    "Số phút làm tiếp, từ 1 đến 240."));
}

void
h_attempt_reopen(http_request *req)
{
    int64_t id = api_param_id(req, 0);
    if (id <= 0) {
        api_error(req, 404, "not_found", "Không tìm thấy bài làm.");
        return;
    }
    json_t *body = api_body_object(req);
    if (!body)
        return;
    const char *reason = json_string_value(json_object_get(body, "reason"));
    json_t *minutes = json_object_get(body, "minutes");
    size_t chars = 0;
    for (const char *r = reason; r && *r; r++)
        chars += ((unsigned char)*r & 0xC0) != 0x80;
    if (!reason || !reason[strspn(reason, " \t\r\n")] || chars > 500) {
        json_decref(body);
        api_error_details(req, 422, "invalid_parameter",
                          "Hãy ghi lý do mở lại bài làm (reason), tối đa 500 ký tự.",
                          json_pack("[{s:s,s:s}]", "field", "reason", "message",
                                    "Lý do mở lại (reason) bắt buộc, tối đa 500 ký tự."));
        return;
    }
    if (minutes && !json_is_null(minutes) &&
        (!json_is_integer(minutes) || json_integer_value(minutes) < 1 ||
         json_integer_value(minutes) > 240)) {
        json_decref(body);
        api_error_details(req, 422, "invalid_parameter",
                          "Số phút làm tiếp (minutes) phải là số nguyên từ 1 đến 240.",
                          json_pack("[{s:s,s:s}]", "field", "minutes", "message",
                                    "Số phút làm tiếp, từ 1 đến 240."));
        return;
    }
    char a[24], u[24], m[24];
    api_id_text(a, id);
    api_id_text(u, req->user->id);
    int has_minutes = json_is_integer(minutes);
    if (has_minutes)
        api_id_text(m, json_integer_value(minutes));
    pg_query *q = api_query(req);
    const char *pl[] = {a}, *pr[] = {a, u, reason, has_minutes ? m : NULL};
    pg_query_add(q, "attempt_lock", 1, pl);
    pg_query_add(q, "attempt_reopen", 4, pr);
    pg_query_add(q, "attempt_view", 1, pl);
    json_decref(body); /* reason was copied into the query */
    api_run(req, q, reopened);
}

/* ------------------------------------------------------------------------ */
/* POST /api/v1/attempts/{id}/force-submit: teachers                        */

static void
force_submitted(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error_doing(req, q, "nộp bài hộ học sinh này");
        return;
    }
    const char *written = pg_value(q, 0, 0, 0), *status = pg_value(q, 0, 0, 1);
    if (!status)
        api_error(req, 404, "not_found", "Không tìm thấy bài làm.");
    else if (!written || strcmp(written, "1") != 0)
        api_error(req, 409, "attempt_closed", "Bài làm này đã được nộp trước đó.");
    else { /* scored behind the reply, as the student's own submit */
        kt_grade_attempt(req->worker, api_param_id(req, 0), req->user->school_id, NULL, NULL);
        show_attempt(req);
    }
}

void
h_attempt_force_submit(http_request *req)
{
    int64_t id = api_param_id(req, 0);
    if (id <= 0) {
        api_error(req, 404, "not_found", "Không tìm thấy bài làm.");
        return;
    }
    char a[24], u[24];
    api_id_text(a, id);
    api_id_text(u, req->user->id);
    pg_query *q = api_query(req);
    const char *p[] = {a, u};
    pg_query_add(q, "attempt_force_submit", 2, p);
    api_run(req, q, force_submitted);
}

/* ------------------------------------------------------------------------ */
/* GET /api/v1/sessions/{id}/monitor: conditional with ETag                 */

static void
monitor_done(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    if (pg_ntuples(q, 0) != 1) {
        api_error(req, 404, "not_found", "Không tìm thấy buổi kiểm tra.");
        return;
    }
    const char *tag = pg_value(q, 0, 0, 0), *view = pg_value(q, 0, 0, 1);
    char hdr[80];
    snprintf(hdr, sizeof(hdr), "ETag: \"%s\"\r\n", tag ? tag : "");
    if (!view) { /* the client's tag is current */
        http_reply_full(req, 304, "application/json; charset=utf-8", hdr, NULL, 0);
        return;
    }
    http_reply_full(req, 200, "application/json; charset=utf-8", hdr, view, strlen(view));
}

void
h_session_monitor(http_request *req)
{
    int64_t id = api_param_id(req, 0);
    if (id <= 0) {
        api_error(req, 404, "not_found", "Không tìm thấy buổi kiểm tra.");
        return;
    }
    /* If-None-Match: "tag" or W/"tag" (one tag; an md5 in hex). */
    char tag[40] = "";
    const char *inm = http_header(req, "If-None-Match");
    if (inm) {
        inm += strspn(inm, " \t");
        if (strncmp(inm, "W/", 2) == 0)
            inm += 2;
        if (*inm == '"')
            inm++;
        size_t n = strspn(inm, "0123456789abcdef");
        if (n == 32)
            snprintf(tag, sizeof(tag), "%.32s", inm);
    }
    char s[24];
    api_id_text(s, id);
    pg_query *q = api_query(req);
    const char *p[] = {s, tag[0] ? tag : NULL};
    pg_query_add(q, "session_monitor", 2, p);
    api_run(req, q, monitor_done);
}

/*
 * Sessions as staff see and manage them: the list with filters, one
 * session, editing the window and the classes (refused once an attempt
 * started where it would change what a student already has), cancelling.
 * Times are RFC 3339 with their zone; views also show them in the school's
 * zone (schools.timezone) as dd/mm/yyyy HH:mm. A teacher edits or cancels
 * only a session whose classes they all teach the test's subject
 * (kt_teaches_class, migration 0020).
 */
#include "sessions.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api.h"

#define LIST_DEFAULT 20
#define LIST_MAX 100
#define MAX_CLASSES 100
#define REASON_MAX 500
#define TIME_MAX 40

/* One session as JSON; s is the session, t its test. state: cancelled,
 * scheduled (before opens_at), open, closed (from closes_at). */
#define SESSION_JSON                                                                               \
    "json_build_object('id', s.id, 'test_id', t.id, 'test', json_build_object('id', t.id,"        \
    "  'title', t.title, 'subject', t.subject, 'grade', t.grade, 'kind', t.kind,"                 \
    "  'duration_seconds', t.duration_seconds),"                                                  \
    " 'classes', (SELECT coalesce(json_agg(json_build_object('id', c.id, 'name', c.name)"         \
    "   ORDER BY c.name, c.id), '[]') FROM session_classes sc JOIN classes c ON c.id = sc.class_id" \
    "   WHERE sc.session_id = s.id),"                                                             \
    " 'class_ids', (SELECT coalesce(json_agg(sc.class_id ORDER BY sc.class_id), '[]')"            \
    "   FROM session_classes sc WHERE sc.session_id = s.id),"                                     \
    " 'opens_at', s.opens_at, 'closes_at', s.closes_at,"                                          \
    " 'opens_at_local', to_char(s.opens_at AT TIME ZONE z.tz, 'DD/MM/YYYY HH24:MI'),"             \
    " 'closes_at_local', to_char(s.closes_at AT TIME ZONE z.tz, 'DD/MM/YYYY HH24:MI'),"           \
    " 'timezone', z.tz,"                                                                          \
    " 'state', CASE WHEN s.cancelled_at IS NOT NULL THEN 'cancelled'"                             \
    "   WHEN now() < s.opens_at THEN 'scheduled' WHEN now() < s.closes_at THEN 'open'"            \
    "   ELSE 'closed' END,"                                                                       \
    " 'cancelled_at', s.cancelled_at, 'cancel_reason', s.cancel_reason,"                          \
    " 'attempts', (SELECT json_build_object('started', count(*),"                                 \
    "   'in_progress', count(*) FILTER (WHERE a.status = 'in_progress'),"                         \
    "   'submitted', count(*) FILTER (WHERE a.status = 'submitted'))"                             \
    "   FROM attempts a WHERE a.session_id = s.id),"                                              \
    " 'results_released', s.results_released, 'created_by', s.created_by,"                       \
    " 'release_show', s.release_show,"                                                            \
    " 'access_code', s.access_code, 'allowed_cidrs', s.allowed_cidrs,"                            \
    " 'created_at', s.created_at, 'updated_at', s.updated_at)"

#define SESSION_FROM                                                                               \
    " FROM sessions s JOIN tests t ON t.id = s.test_id"                                           \
    " CROSS JOIN LATERAL (SELECT coalesce((SELECT sch.timezone FROM schools sch"                  \
    "   WHERE sch.id = s.school_id), 'Asia/Ho_Chi_Minh') AS tz) z"

#define SESSION_STATE_IS(p)                                                                        \
    "(" p "::text IS NULL OR " p "::text = CASE WHEN s.cancelled_at IS NOT NULL THEN 'cancelled'" \
    " WHEN now() < s.opens_at THEN 'scheduled' WHEN now() < s.closes_at THEN 'open'"              \
    " ELSE 'closed' END)"

static const struct pg_stmt_def session_stmts[] = {
    /* $1 after id (0: first page), $2 test, $3 class, $4 state, $5 limit;
     * newest first. -> (rows, last id shown when there is a next page) */
    {"sessions_list",
     "WITH page AS (SELECT s.id FROM sessions s"
     " WHERE ($1::bigint = 0 OR s.id < $1::bigint)"
     "  AND ($2::bigint IS NULL OR s.test_id = $2::bigint)"
     "  AND ($3::bigint IS NULL OR EXISTS (SELECT 1 FROM session_classes sc"
     "    WHERE sc.session_id = s.id AND sc.class_id = $3::bigint))"
     "  AND " SESSION_STATE_IS("$4") " ORDER BY s.id DESC LIMIT $5::integer + 1),"
     " shown AS (SELECT id FROM page ORDER BY id DESC LIMIT $5::integer)"
     " SELECT coalesce((SELECT json_agg(" SESSION_JSON " ORDER BY s.id DESC)" SESSION_FROM
     "   WHERE s.id IN (SELECT id FROM shown)), '[]')::text,"
     "  CASE WHEN (SELECT count(*) FROM page) > $5::integer THEN (SELECT min(id) FROM shown) END"},
    {"session_get", "SELECT " SESSION_JSON "::text" SESSION_FROM " WHERE s.id = $1::bigint"},
    /* Holds the session against starts (an attempt's foreign key takes a
     * KEY SHARE lock) until the edit is committed, so the attempts the next
     * statement counts are all there are. */
    {"session_lock", "SELECT 1 FROM sessions WHERE id = $1::bigint FOR UPDATE"},
    /* $1 session, $2 opens_at, $3 closes_at, $4 class ids (each NULL when
     * not changed), $5 actor. Writes only when every check passes; returns
     * the checks: live (not cancelled), assigned, classes_ok, order_ok,
     * long_enough, opens_free, classes_free, closes_free, duration, written. */
    {"session_patch",
     "WITH s AS (SELECT s.id, s.school_id, s.opens_at, s.closes_at, s.cancelled_at, t.subject,"
     "   t.duration_seconds, coalesce($2::timestamptz, s.opens_at) AS n_opens,"
     "   coalesce($3::timestamptz, s.closes_at) AS n_closes,"
     "   (SELECT count(*) FROM attempts a WHERE a.session_id = s.id) AS started,"
     "   ARRAY(SELECT sc.class_id FROM session_classes sc WHERE sc.session_id = s.id"
     "     ORDER BY sc.class_id) AS old_classes"
     "  FROM sessions s JOIN tests t ON t.id = s.test_id WHERE s.id = $1::bigint),"
     " c AS (SELECT s.*, s.cancelled_at IS NULL AS live,"
     "   NOT EXISTS (SELECT 1 FROM unnest(s.old_classes || coalesce($4::bigint[], '{}')) x(id)"
     "     WHERE EXISTS (SELECT 1 FROM classes cl WHERE cl.id = x.id)"
     "       AND NOT kt_teaches_class(x.id, s.subject)) AS assigned,"
     "   ($4::bigint[] IS NULL OR (SELECT count(*) FROM classes cl WHERE cl.id = ANY ($4::bigint[]))"
     "     = (SELECT count(DISTINCT x) FROM unnest($4::bigint[]) x)) AS classes_ok,"
     "   s.n_closes > s.n_opens AS order_ok,"
     "   s.n_closes - s.n_opens >= make_interval(secs => s.duration_seconds) AS long_enough,"
     "   NOT (s.started > 0 AND s.n_opens <> s.opens_at) AS opens_free,"
     "   NOT (s.started > 0 AND $4::bigint[] IS NOT NULL AND EXISTS (SELECT 1"
     "     FROM unnest(s.old_classes) o(id) WHERE o.id <> ALL ($4::bigint[]))) AS classes_free,"
     "   NOT (s.started > 0 AND s.n_closes < s.closes_at) AS closes_free FROM s),"
     " ok AS (SELECT * FROM c WHERE live AND assigned AND classes_ok AND order_ok AND long_enough"
     "   AND opens_free AND classes_free AND closes_free),"
     " u AS (UPDATE sessions x SET opens_at = ok.n_opens, closes_at = ok.n_closes,"
     "   updated_at = now() FROM ok WHERE x.id = ok.id RETURNING x.id, x.school_id),"
     " del AS (DELETE FROM session_classes sc USING u WHERE sc.session_id = u.id"
     "   AND $4::bigint[] IS NOT NULL AND sc.class_id <> ALL ($4::bigint[]) RETURNING 1),"
     " ins AS (INSERT INTO session_classes (session_id, class_id, school_id)"
     "   SELECT DISTINCT u.id, x.id, u.school_id FROM u, unnest($4::bigint[]) x(id)"
     "   ON CONFLICT DO NOTHING RETURNING 1),"
     /* Attempts in progress whose deadline the old closing time capped. */
     " dl AS (UPDATE attempts a SET deadline = least(a.started_at"
     "   + make_interval(secs => ok.duration_seconds + a.extra_seconds), ok.n_closes)"
     "   FROM ok WHERE a.session_id = ok.id AND a.status = 'in_progress'"
     "   AND ok.n_closes <> ok.closes_at RETURNING 1),"
     " aud AS (INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, old_value,"
     "   new_value) SELECT ok.school_id, $5::bigint, 'session.edit', 'session', ok.id::text,"
     "   jsonb_build_object('opens_at', ok.opens_at, 'closes_at', ok.closes_at,"
     "     'class_ids', to_jsonb(ok.old_classes)),"
     "   jsonb_build_object('opens_at', ok.n_opens, 'closes_at', ok.n_closes,"
     "     'class_ids', coalesce(to_jsonb($4::bigint[]), to_jsonb(ok.old_classes)),"
     "     'deadlines_moved', (SELECT count(*) FROM dl)) FROM ok RETURNING 1)"
     " SELECT live, assigned, classes_ok, order_ok, long_enough, opens_free, classes_free,"
     "  closes_free, duration_seconds, (SELECT count(*) FROM u) FROM c"},
    /* Exam-room controls (0025), after session_patch in its transaction:
     * written only when that statement wrote (updated_at = now(), the
     * session being locked). $2/$4: whether access_code / allowed_cidrs
     * change; $3 the code (NULL: none), $5 the ranges ('{}': none). */
    {"session_room",
     "WITH u AS (UPDATE sessions s SET"
     "   access_code = CASE WHEN $2::boolean THEN $3::text ELSE s.access_code END,"
     "   allowed_cidrs = CASE WHEN $4::boolean THEN (SELECT array_agg(DISTINCT network(x::inet))"
     "     FROM unnest($5::text[]) x) ELSE s.allowed_cidrs END"
     "  FROM sessions o WHERE s.id = $1::bigint AND o.id = s.id AND s.updated_at = now()"
     "   AND ($2::boolean OR $4::boolean)"
     "  RETURNING s.id, s.school_id, o.access_code AS old_code, o.allowed_cidrs AS old_cidrs,"
     "   s.access_code, s.allowed_cidrs)"
     " INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, old_value,"
     "  new_value) SELECT school_id, $6::bigint, 'session.room', 'session', id::text,"
     "  jsonb_build_object('access_code', old_code, 'allowed_cidrs', old_cidrs),"
     "  jsonb_build_object('access_code', access_code, 'allowed_cidrs', allowed_cidrs) FROM u"
     " RETURNING 1"},
    /* $1 session, $2 reason, $3 actor -> (assigned, already cancelled,
     * closed, written). Attempts already started are left as they are. */
    {"session_cancel",
     "WITH s AS (SELECT s.id, s.school_id, s.cancelled_at, s.closes_at, t.subject,"
     "   ARRAY(SELECT sc.class_id FROM session_classes sc WHERE sc.session_id = s.id) AS classes,"
     "   (SELECT count(*) FROM attempts a WHERE a.session_id = s.id) AS started"
     "  FROM sessions s JOIN tests t ON t.id = s.test_id WHERE s.id = $1::bigint),"
     " c AS (SELECT s.*, NOT EXISTS (SELECT 1 FROM unnest(s.classes) x(id)"
     "   WHERE NOT kt_teaches_class(x.id, s.subject)) AS assigned FROM s),"
     " u AS (UPDATE sessions x SET cancelled_at = now(), cancelled_by = $3::bigint,"
     "   cancel_reason = $2::text, updated_at = now() FROM c"
     "   WHERE x.id = c.id AND c.assigned AND c.cancelled_at IS NULL AND c.closes_at > now()"
     "   RETURNING x.id, x.school_id),"
     " aud AS (INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, new_value)"
     "   SELECT u.school_id, $3::bigint, 'session.cancel', 'session', u.id::text,"
     "   jsonb_build_object('reason', $2::text, 'attempts_started', c.started)"
     "   FROM u JOIN c ON c.id = u.id RETURNING 1)"
     " SELECT c.assigned, c.cancelled_at IS NOT NULL, c.closes_at <= now(),"
     "  (SELECT count(*) FROM u) FROM c"},
};

void
kt_sessions_register(void)
{
    pg_register_statements(session_stmts, (int)(sizeof(session_stmts) / sizeof(session_stmts[0])));
}

/* ------------------------------------------------------------------------ */
/* Times and cursors                                                        */

static int
digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t
days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int
kt_rfc3339_parse(const char *s, int64_t *epoch)
{
    *epoch = 0;
    if (!s || strlen(s) < 16 || strlen(s) > TIME_MAX)
        return -1;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    if (y < 1900 || s[4] != '-' || mo < 1 || mo > 12 || s[7] != '-' || d < 1 ||
        !(s[10] == 'T' || s[10] == 't' || s[10] == ' '))
        return -1;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] + (mo == 2 && leap))
        return -1;
    int h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = 0;
    if (h < 0 || h > 23 || s[13] != ':' || mi < 0 || mi > 59)
        return -1;
    const char *p = s + 16;
    if (*p == ':') {
        sec = digits(p + 1, 2);
        if (sec < 0 || sec > 59)
            return -1;
        p += 3;
        if (*p == '.') {
            size_t n = strspn(p + 1, "0123456789");
            if (n == 0)
                return -1;
            p += 1 + n;
        }
    }
    int64_t off = 0;
    if (*p == '\0')
        return -2;
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        off = 0;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        int oh = digits(p + 1, 2), om = digits(p + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return -1;
        off = (*p == '-' ? -1 : 1) * (int64_t)(oh * 3600 + om * 60);
    } else {
        return -1;
    }
    *epoch = days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + sec - off;
    return 0;
}

static void
problem(json_t *problems, const char *field, const char *message)
{
    json_array_append_new(problems, json_pack("{s:s,s:s}", "field", field, "message", message));
}

/* One instant of a body: 1 when present and valid (*at set), 0 when absent
 * (a problem if required), -1 after a problem was added. */
static int
instant(const json_t *body, const char *field, int required, json_t *problems, int64_t *at)
{
    const json_t *v = json_object_get(body, field);
    *at = 0;
    if (!v || json_is_null(v)) {
        if (required)
            problem(problems, field,
                    "Thời điểm này bắt buộc, ví dụ 2026-12-10T07:30:00+07:00.");
        return required ? -1 : 0;
    }
    int rc = json_is_string(v) ? kt_rfc3339_parse(json_string_value(v), at) : -1;
    if (rc == -2)
        problem(problems, field, "Thời điểm phải ghi rõ múi giờ, ví dụ 2026-12-10T07:30:00+07:00.");
    else if (rc < 0)
        problem(problems, field,
                "Thời điểm không hợp lệ; hãy ghi ngày giờ có thật theo dạng "
                "2026-12-10T07:30:00+07:00.");
    return rc == 0 ? 1 : -1;
}

void
kt_session_window_problems(const json_t *body, int required, json_t *problems, int64_t *opens,
                           int64_t *closes)
{
    int o = instant(body, "opens_at", required, problems, opens);
    int c = instant(body, "closes_at", required, problems, closes);
    if (o == 1 && c == 1 && *closes <= *opens)
        problem(problems, "closes_at", "Giờ đóng (closes_at) phải sau giờ mở (opens_at).");
}

void
kt_session_short_window_problem(json_t *problems, long duration_seconds)
{
    char msg[300], dur[48];
    if (duration_seconds % 60)
        snprintf(dur, sizeof(dur), "%ld phút %ld giây", duration_seconds / 60,
                 duration_seconds % 60);
    else
        snprintf(dur, sizeof(dur), "%ld phút", duration_seconds / 60);
    snprintf(msg, sizeof(msg),
             "Khoảng từ giờ mở đến giờ đóng ngắn hơn thời gian làm bài (%s); hãy đặt giờ đóng "
             "(closes_at) muộn hơn.",
             dur);
    problem(problems, "closes_at", msg);
}

/* ------------------------------------------------------------------------ */
/* Exam-room controls (0025)                                                */

/* One address range: "a.b.c.d/n", an IPv6 range, or a single address. */
static int
cidr_valid(const char *s)
{
    char addr[64];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (n == 0 || n >= sizeof(addr))
        return 0;
    memcpy(addr, s, n);
    addr[n] = '\0';
    unsigned char buf[16];
    int bits = inet_pton(AF_INET, addr, buf) == 1 ? 32 : inet_pton(AF_INET6, addr, buf) == 1 ? 128 : 0;
    if (!bits)
        return 0;
    if (!slash)
        return 1;
    const char *len = slash + 1;
    size_t d = strspn(len, "0123456789");
    return d >= 1 && d <= 3 && len[d] == '\0' && atoi(len) <= bits;
}

void
kt_session_room_fields(const json_t *body, json_t *problems, struct kt_session_room *room)
{
    memset(room, 0, sizeof(*room));
    const json_t *code = json_object_get(body, "access_code");
    if (code) {
        room->code_set = 1;
        const char *cs = json_string_value(code);
        if (json_is_true(code)) { /* a new code, 6 digits */
            snprintf(room->code, sizeof(room->code), "%06u", randombytes_uniform(1000000));
        } else if (cs && strlen(cs) == 6 && strspn(cs, "0123456789") == 6) {
            snprintf(room->code, sizeof(room->code), "%s", cs);
        } else if (!json_is_null(code) && !json_is_false(code)) {
            problem(problems, "access_code",
                    "Mã vào phòng (access_code): true để tạo mã mới, 6 chữ số, hoặc null để bỏ.");
        }
    }
    const json_t *cidrs = json_object_get(body, "allowed_cidrs");
    if (cidrs) {
        room->cidrs_set = 1;
        snprintf(room->cidrs, sizeof(room->cidrs), "{");
        size_t i;
        const json_t *v;
        if (!json_is_null(cidrs) && (!json_is_array(cidrs) || json_array_size(cidrs) > 32)) {
            problem(problems, "allowed_cidrs",
                    "Dải địa chỉ được phép (allowed_cidrs) là danh sách tối đa 32 dải, ví dụ "
                    "[\"10.0.5.0/24\"].");
            return;
        }
        json_array_foreach(cidrs, i, v)
        {
            const char *c = json_string_value(v);
            if (!c || !cidr_valid(c)) {
                char msg[200];
                snprintf(msg, sizeof(msg),
                         "Dải địa chỉ \"%.60s\" không hợp lệ; hãy ghi theo dạng 10.0.5.0/24.",
                         c ? c : "?");
                problem(problems, "allowed_cidrs", msg);
                return;
            }
            size_t used = strlen(room->cidrs);
            snprintf(room->cidrs + used, sizeof(room->cidrs) - used, "%s%s", i ? "," : "", c);
        }
        size_t used = strlen(room->cidrs);
        snprintf(room->cidrs + used, sizeof(room->cidrs) - used, "}");
    }
}

/* ------------------------------------------------------------------------ */
/* GET /api/v1/sessions, GET /api/v1/sessions/{id}                          */

static void
list_done(http_request *req, pg_query *q)
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
        kt_cursor_encode('s', last, c, sizeof(c));
        json_decref(next);
        next = json_string(c);
    }
    api_json(req, 200,
             json_pack("{s:o,s:o}", "sessions", rows ? rows : json_array(), "next_cursor", next));
}

void
h_sessions_list(http_request *req)
{
    char *test = api_query_text(req, "test_id"), *cls = api_query_text(req, "class_id"),
         *state = api_query_text(req, "state"), *limit = api_query_text(req, "limit"),
         *cursor = api_query_text(req, "cursor");
    const char *bad = NULL;
    long long after = 0;
    if (test && api_bounded(test, 1, 999999999) < 0)
        bad = "Tham số test_id phải là mã đề (số nguyên dương).";
    if (cls && api_bounded(cls, 1, 999999999) < 0)
        bad = "Tham số class_id phải là mã lớp (số nguyên dương).";
    if (state && strcmp(state, "scheduled") != 0 && strcmp(state, "open") != 0 &&
        strcmp(state, "closed") != 0 && strcmp(state, "cancelled") != 0)
        bad = "Tham số state phải là scheduled, open, closed hoặc cancelled.";
    long n = limit ? api_bounded(limit, 1, LIST_MAX) : LIST_DEFAULT;
    if (n < 0)
        bad = "Tham số limit phải là số từ 1 đến 100.";
    if (cursor && (after = kt_cursor_decode('s', cursor)) < 0)
        bad = "Tham số cursor không hợp lệ; hãy dùng đúng giá trị next_cursor đã nhận.";
    if (bad) {
        api_error(req, 400, "invalid_parameter", bad);
    } else {
        char a[24], lim[24];
        snprintf(a, sizeof(a), "%lld", after);
        snprintf(lim, sizeof(lim), "%ld", n);
        const char *p[] = {a, test, cls, state, lim};
        pg_query *pq = api_query(req);
        pg_query_add(pq, "sessions_list", 5, p);
        api_run(req, pq, list_done);
    }
    free(test);
    free(cls);
    free(state);
    free(limit);
    free(cursor);
}

static void
session_shown(http_request *req, pg_query *q)
{
    api_reply_row(req, q, q->nresults - 1, 200, "Không tìm thấy buổi kiểm tra.");
}

void
h_session_get(http_request *req)
{
    int64_t id = api_param_id(req, 0);
    if (id <= 0) {
        api_error(req, 404, "not_found", "Không tìm thấy buổi kiểm tra.");
        return;
    }
    char s[24];
    api_id_text(s, id);
    const char *p[] = {s};
    pg_query *q = api_query(req);
    pg_query_add(q, "session_get", 1, p);
    api_run(req, q, session_shown);
}

/* ------------------------------------------------------------------------ */
/* PATCH /api/v1/sessions/{id}                                              */

static int
is_true(const pg_query *q, int stmt, int col)
{
    const char *v = pg_value(q, stmt, 0, col);
    return v && v[0] == 't';
}

static void
not_assigned(http_request *req)
{
    api_error(req, 403, "not_assigned",
              "Thầy cô chỉ sửa hoặc huỷ được buổi kiểm tra của các lớp mình được phân công dạy "
              "môn này.");
}

static void
patched(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    if (pg_ntuples(q, 1) != 1) {
        api_error(req, 404, "not_found", "Không tìm thấy buổi kiểm tra.");
        return;
    }
    const char *written = pg_value(q, 1, 0, 9);
    if (written && strcmp(written, "1") == 0) {
        api_reply_row(req, q, 3, 200, "Không tìm thấy buổi kiểm tra.");
        return;
    }
    if (!is_true(q, 1, 1)) {
        not_assigned(req);
        return;
    }
    if (!is_true(q, 1, 0)) {
        api_error(req, 409, "session_cancelled",
                  "Buổi kiểm tra này đã bị huỷ nên không sửa được nữa.");
        return;
    }
    json_t *problems = json_array();
    if (!is_true(q, 1, 2))
        problem(problems, "class_ids", "Có lớp không thuộc trường hoặc không tồn tại.");
    if (!is_true(q, 1, 3))
        problem(problems, "closes_at", "Giờ đóng (closes_at) phải sau giờ mở (opens_at).");
    else if (!is_true(q, 1, 4))
        kt_session_short_window_problem(problems, atol(pg_value(q, 1, 0, 8)));
    if (json_array_size(problems)) {
        api_error_details(req, 422, "invalid_session",
                          "Buổi kiểm tra chưa hợp lệ (xem chi tiết từng trường).", problems);
        return;
    }
    json_decref(problems);
    if (!is_true(q, 1, 5))
        api_error_details(req, 409, "attempts_started",
                          "Đã có học sinh bắt đầu làm bài nên không đổi được giờ mở (opens_at).",
                          json_pack("[{s:s}]", "field", "opens_at"));
    else if (!is_true(q, 1, 6))
        api_error_details(req, 409, "attempts_started",
                          "Đã có học sinh bắt đầu làm bài nên không bỏ bớt lớp được; chỉ thêm "
                          "lớp được.",
                          json_pack("[{s:s}]", "field", "class_ids"));
    else if (!is_true(q, 1, 7))
        api_error_details(req, 409, "attempts_started",
                          "Đã có học sinh bắt đầu làm bài nên không rút ngắn giờ đóng (closes_at) "
                          "được; chỉ kéo dài được.",
                          json_pack("[{s:s}]", "field", "closes_at"));
    else
        api_error(req, 409, "conflict", "Buổi kiểm tra vừa được thay đổi; hãy tải lại rồi thử lại.");
}

void
h_session_patch(http_request *req)
{
    int64_t id = api_param_id(req, 0);
    if (id <= 0) {
        api_error(req, 404, "not_found", "Không tìm thấy buổi kiểm tra.");
        return;
    }
    json_t *b = api_body_object(req);
    if (!b)
        return;
    json_t *problems = json_array();
    int64_t opens, closes;
    kt_session_window_problems(b, 0, problems, &opens, &closes);
    json_t *cls = json_object_get(b, "class_ids");
    char arr[MAX_CLASSES * 21 + 3] = "{";
    if (cls && !json_is_null(cls)) {
        size_t i;
        json_t *v;
        int ok = json_is_array(cls) && json_array_size(cls) >= 1 &&
                 json_array_size(cls) <= MAX_CLASSES;
        json_array_foreach(cls, i, v)
        {
            if (!ok)
                break;
            if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
                json_integer_value(v) > INT64_MAX / 2) {
                ok = 0;
                break;
            }
            char one[24];
            snprintf(one, sizeof(one), "%s%lld", i ? "," : "", (long long)json_integer_value(v));
            strcat(arr, one);
        }
        strcat(arr, "}");
        if (!ok)
            problem(problems, "class_ids", "class_ids phải là danh sách 1 đến 100 mã lớp.");
    }
    const char *o = json_string_value(json_object_get(b, "opens_at"));
    const char *c = json_string_value(json_object_get(b, "closes_at"));
    int has_classes = cls && !json_is_null(cls);
    struct kt_session_room room;
    kt_session_room_fields(b, problems, &room);
    if (json_array_size(problems) == 0 && !o && !c && !has_classes && !room.code_set &&
        !room.cidrs_set)
        problem(problems, "opens_at",
                "Không có gì để sửa: hãy gửi opens_at, closes_at, class_ids, access_code hoặc "
                "allowed_cidrs.");
    if (json_array_size(problems)) {
        api_error_details(req, 422, "invalid_session",
                          "Buổi kiểm tra chưa hợp lệ (xem chi tiết từng trường).", problems);
        json_decref(b);
        return;
    }
    json_decref(problems);
    char s[24], u[24];
    api_id_text(s, id);
    api_id_text(u, req->user->id);
    const char *pl[] = {s}, *pp[] = {s, o, c, has_classes ? arr : NULL, u};
    pg_query *q = api_query(req);
    pg_query_add(q, "session_lock", 1, pl);
    pg_query_add(q, "session_patch", 5, pp);
    const char *pr[] = {s, room.code_set ? "t" : "f", room.code[0] ? room.code : NULL,
                        room.cidrs_set ? "t" : "f", room.cidrs_set ? room.cidrs : NULL, u};
    pg_query_add(q, "session_room", 6, pr);
    pg_query_add(q, "session_get", 1, pl);
    json_decref(b);
    api_run(req, q, patched);
}

/* ------------------------------------------------------------------------ */
/* POST /api/v1/sessions/{id}/cancel                                        */

static void
cancelled(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    if (pg_ntuples(q, 1) != 1) {
        api_error(req, 404, "not_found", "Không tìm thấy buổi kiểm tra.");
        return;
    }
    const char *written = pg_value(q, 1, 0, 3);
    if (written && strcmp(written, "1") == 0)
        api_reply_row(req, q, 2, 200, "Không tìm thấy buổi kiểm tra.");
    else if (!is_true(q, 1, 0))
        not_assigned(req);
    else if (is_true(q, 1, 1))
        api_error(req, 409, "already_cancelled", "Buổi kiểm tra này đã được huỷ trước đó.");
    else if (is_true(q, 1, 2))
        api_error(req, 409, "session_closed", "Buổi kiểm tra đã kết thúc nên không huỷ được.");
    else
        api_error(req, 409, "conflict", "Buổi kiểm tra vừa được thay đổi; hãy tải lại rồi thử lại.");
}

void
h_session_cancel(http_request *req)
{
    int64_t id = api_param_id(req, 0);
    if (id <= 0) {
        api_error(req, 404, "not_found", "Không tìm thấy buổi kiểm tra.");
        return;
    }
    json_t *b = api_body_object(req);
    if (!b)
        return;
    const char *reason = json_string_value(json_object_get(b, "reason"));
    size_t chars = 0;
    for (const char *r = reason; r && *r; r++)
        chars += ((unsigned char)*r & 0xC0) != 0x80; /* jansson holds valid UTF-8 */
    if (!reason || !reason[strspn(reason, " \t\r\n")] || chars > REASON_MAX) {
        api_error_details(req, 422, "invalid_session",
                          "Hãy ghi lý do huỷ buổi kiểm tra (reason), tối đa 500 ký tự.",
                          json_pack("[{s:s,s:s}]", "field", "reason", "message",
                                    "Lý do huỷ (reason) bắt buộc, tối đa 500 ký tự."));
        json_decref(b);
        return;
    }
    char s[24], u[24];
    api_id_text(s, id);
    api_id_text(u, req->user->id);
    const char *pl[] = {s}, *pc[] = {s, reason, u};
    pg_query *q = api_query(req);
    pg_query_add(q, "session_lock", 1, pl);
    pg_query_add(q, "session_cancel", 3, pc);
    pg_query_add(q, "session_get", 1, pl);
    json_decref(b);
    api_run(req, q, cancelled);
}

/*
 * Login, logout and the unlock of an account's login delay. A login is: the
 * try counted and the user looked up (one query, kt_login_begin: per account
 * and address, a growing delay after the free tries), argon2id verification
 * on a CPU thread (never on the event loop), then the outcome recorded and,
 * on success, a session created (one query). Tokens are 256 random bits;
 * only their SHA-256 is stored. Unknown usernames are verified against a
 * dummy hash so that timing does not reveal them. Password checks wait in a
 * bounded FIFO (KIEMTRA_LOGIN_QUEUE); when it is full the login gets 503
 * with Retry-After, the time the queue takes to drain.
 *
 * Exam login codes (migration 0035, docs/BENCHMARKS.md, login storm): a
 * teacher issues each student of a session an 80-bit code for the exam
 * slip; the code logs its student in during the session's window with one
 * keyed BLAKE2b hash and one statement, so a login storm costs no argon2id.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "api.h"
#include "config.h"
#include "cpupool.h"
#include "log.h"
#include "secret.h"
#include "server.h"

static const struct pg_stmt_def auth_stmts[] = {
    {"auth_login_begin",
     "SELECT retry_after, scope, user_id, password_hash, disabled FROM kt_login_begin($1, $2,"
     " $3::int, $4::int, $5::int, $6::int, $7::int)"},
    {"auth_login_finish",
     "SELECT kt_login_finish($1, $2, $3::bigint, $4::boolean, $5::bytea, $6::int, $7::int)"},
    {"auth_logout", "SELECT kt_session_end($1::bytea)"},
    {"auth_unlock",
     "WITH c AS (SELECT $1::bigint AS id, kt_login_unlock($1::bigint) AS n),"
     " a AS (INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, new_value)"
     "  SELECT kt_school(), $2::bigint, 'login.unlock', 'user', id::text,"
     "  jsonb_build_object('cleared', n) FROM c WHERE n IS NOT NULL)"
     " SELECT json_build_object('user_id', id, 'cleared', n) FROM c WHERE n IS NOT NULL"},
    {"auth_me",
     "SELECT json_build_object('id', u.id, 'username', u.username, 'full_name', u.full_name,"
     " 'role', u.role, 'school', CASE WHEN s.id IS NULL THEN NULL ELSE"
     " json_build_object('id', s.id, 'code', s.code, 'name', s.name) END,"
     " 'province_id', u.province_id, 'subject', u.subject, 'student_code', u.student_code,"
     " 'school_timezone', coalesce(s.timezone, 'Asia/Ho_Chi_Minh')," /* 0023 */
     " 'classes', (SELECT coalesce(json_agg(json_build_object('id', c.id, 'name', c.name,"
     " 'grade', c.grade, 'school_year', c.school_year) ORDER BY c.school_year DESC, c.name), '[]')"
     " FROM class_members m JOIN classes c ON c.id = m.class_id WHERE m.user_id = u.id),"
     /* What the caller teaches (0020): the web UI offers only those. */
     " 'assignments', (SELECT coalesce(json_agg(json_build_object('subject', a.subject,"
     "   'class_id', c.id, 'class_name', c.name) ORDER BY a.subject, c.name, c.id), '[]')"
     "  FROM teaching_assignments a JOIN classes c ON c.id = a.class_id"
     "  WHERE a.teacher_id = u.id),"
     " 'subjects', (SELECT coalesce(json_agg(x.subject ORDER BY x.subject), '[]')"
     "  FROM (SELECT a.subject FROM teaching_assignments a WHERE a.teacher_id = u.id"
     "   UNION SELECT u.subject WHERE u.subject IS NOT NULL) x))"
     " FROM users u LEFT JOIN schools s ON s.id = u.school_id WHERE u.id = $1::bigint"},
    /* Exam login codes (migration 0035). */
    {"auth_exam_login",
     "SELECT retry_after, scope, reason, login FROM kt_exam_login($1, $2, $3::bytea, $4::bytea,"
     " $5::int, $6::int, $7::int, $8::int, $9::int, $10::int)"},
    /* The students a session's codes go to: those of its classes, or of one
     * class, or the listed ones; the caller must teach every class of it. */
    {"auth_codes_targets",
     "SELECT json_build_object('session', json_build_object('id', s.id, 'test_title', t.title,"
     "  'opens_at', s.opens_at, 'closes_at', s.closes_at,"
     "  'valid_from', s.opens_at - interval '1 hour'),"
     " 'students', coalesce((SELECT json_agg(x ORDER BY x.class_name, x.full_name, x.id)"
     "  FROM (SELECT DISTINCT ON (u.id) u.id, u.username, u.full_name, u.student_code,"
     "         c.name AS class_name"
     "        FROM session_classes sc JOIN classes c ON c.id = sc.class_id"
     "        JOIN class_members m ON m.class_id = c.id"
     "        JOIN users u ON u.id = m.user_id AND u.role = 'student' AND NOT u.disabled"
     "        WHERE sc.session_id = s.id AND ($2::bigint IS NULL OR c.id = $2::bigint)"
     "          AND ($3::bigint[] IS NULL OR u.id = ANY ($3::bigint[]))"
     "        ORDER BY u.id, c.name) x), '[]'))"
     " FROM sessions s JOIN tests t ON t.id = s.test_id"
     " WHERE s.id = $1::bigint AND s.cancelled_at IS NULL AND s.closes_at > now()"
     /* Per row, after the row-level security of sessions: a session of
      * another school is not found rather than named in an error. */
     "   AND kt_require_session(s.id)"},
    /* Issuing: earlier live codes of these students revoked, then the new
     * ones stored, each audited; only students of the session's classes. */
    {"auth_codes_revoke_old",
     "WITH ss AS MATERIALIZED (SELECT s.id FROM sessions s"
     "  WHERE s.id = $1::bigint AND kt_require_session(s.id))"
     " UPDATE exam_login_codes e SET revoked_at = now() FROM ss"
     " WHERE e.session_id = ss.id AND e.user_id = ANY ($2::bigint[]) AND e.revoked_at IS NULL"},
    {"auth_codes_store",
     "WITH ss AS MATERIALIZED (SELECT s.id, s.school_id FROM sessions s"
     "  WHERE s.id = $1::bigint AND s.school_id = kt_school() AND kt_require_session(s.id)),"
     " ok AS (SELECT DISTINCT s.school_id, m.user_id"
     "  FROM ss s"
     "  JOIN session_classes sc ON sc.session_id = s.id"
     "  JOIN class_members m ON m.class_id = sc.class_id"
     "  JOIN users u ON u.id = m.user_id AND u.role = 'student'),"
     " i AS (INSERT INTO exam_login_codes (school_id, session_id, user_id, code_hash, issued_by)"
     "  SELECT ok.school_id, $1::bigint, x.user_id, decode(x.h, 'hex'), $4::bigint"
     "  FROM unnest($2::bigint[], $3::text[]) AS x (user_id, h)"
     "  JOIN ok ON ok.user_id = x.user_id"
     "  RETURNING id, school_id, user_id),"
     " a AS (INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, new_value)"
     "  SELECT i.school_id, $4::bigint, 'exam_code.issue', 'user', i.user_id::text,"
     "  jsonb_build_object('session_id', $1::bigint, 'code_id', i.id) FROM i)"
     " SELECT coalesce(json_agg(user_id), '[]') FROM i"},
    {"auth_code_revoke",
     "WITH ss AS MATERIALIZED (SELECT s.id FROM sessions s"
     "  WHERE s.id = $1::bigint AND kt_require_session(s.id)),"
     " r AS (UPDATE exam_login_codes e SET revoked_at = now() FROM ss"
     "  WHERE e.session_id = ss.id AND e.user_id = $2::bigint"
     "    AND e.revoked_at IS NULL RETURNING e.id, e.school_id, e.user_id),"
     /* The student's sessions end too: a slip read by someone else may
      * already have logged them in (kt_account_sessions_end, 0022). */
     " d AS MATERIALIZED (SELECT coalesce(sum(kt_account_sessions_end(u.user_id)), 0) AS n"
     "  FROM (SELECT DISTINCT user_id FROM r) u),"
     " a AS (INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, new_value)"
     "  SELECT r.school_id, $3::bigint, 'exam_code.revoke', 'user', r.user_id::text,"
     "  jsonb_build_object('session_id', $1::bigint, 'code_id', r.id,"
     "   'sessions_ended', (SELECT n FROM d)) FROM r)"
     " SELECT json_build_object('session_id', $1::bigint, 'student_id', $2::bigint,"
     "  'revoked', count(*), 'sessions_ended', (SELECT n FROM d)) FROM r HAVING count(*) > 0"},
};

static char *dummy_hash; /* verified against for unknown users */

/* The password-check queue, shared by every worker: logins admitted (from
 * their first query to their reply) and its bound. */
static atomic_int pw_inflight;
static int pw_queue_max;
static atomic_llong pw_verify_us = 100000; /* moving average of one argon2id check */

int
kt_auth_init(void)
{
    pg_register_statements(auth_stmts, (int)(sizeof(auth_stmts) / sizeof(auth_stmts[0])));
    /* Default: about 2 s of work per hashing thread at 25 checks/s. */
    const char *qmax = getenv("KIEMTRA_LOGIN_QUEUE");
    pw_queue_max =
        qmax && *qmax ? atoi(qmax) : 48 * (kt_cfg.cpu_threads > 0 ? kt_cfg.cpu_threads : 1);
    if (pw_queue_max < 1)
        pw_queue_max = 1;
    char pw[33];
    unsigned char rnd[16];
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(pw, sizeof(pw), rnd, sizeof(rnd));
    dummy_hash = malloc(crypto_pwhash_STRBYTES);
    if (!dummy_hash || crypto_pwhash_str(dummy_hash, pw, strlen(pw), 2, (size_t)19 << 20) != 0) {
        log_error("cannot compute the dummy password hash (out of memory?)");
        return -1;
    }
    return 0;
}

struct login {
    http_request *req;
    char *username, *password;
    char *hash;            /* stored argon2id string, or NULL for an unknown user */
    char user_id[24];
    int ok;                /* result of the verification */
    char token[64];        /* base64url of 32 random bytes */
    char token_hash[67];   /* \x + hex of its SHA-256 */
    int queued;            /* holds a place in the password-check queue */
};

static void
login_free(void *p)
{
    struct login *l = p;
    if (!l)
        return;
    if (l->queued)
        atomic_fetch_sub(&pw_inflight, 1);
    if (l->password) {
        sodium_memzero(l->password, strlen(l->password));
        free(l->password);
    }
    free(l->username);
    free(l->hash);
    sodium_memzero(l->token, sizeof(l->token));
    free(l);
}

static void
login_finished(http_request *req, pg_query *q)
{
    struct login *l = req->ctx;
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    const char *user = pg_value(q, 0, 0, 0);
    if (!l->ok || !user) {
        api_error(req, 401, "invalid_credentials", "Sai tên đăng nhập hoặc mật khẩu.");
        return;
    }
    json_error_t err;
    json_t *u = json_loads(user, 0, &err);
    json_t *expires = json_incref(json_object_get(u, "expires_at"));
    api_token_remember_login(req, l->token, u, json_string_value(expires));
    json_object_del(u, "expires_at");
    api_json(req, 200,
             json_pack("{s:s,s:s,s:o,s:o}", "token", l->token, "token_type", "Bearer",
                       "expires_at", expires ? expires : json_null(), "user", u));
}

static void
login_verify_work(void *arg)
{
    struct login *l = arg;
    const char *h = l->hash ? l->hash : dummy_hash;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int ok = crypto_pwhash_str_verify(h, l->password, strlen(l->password)) == 0;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long long us = (long long)(t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
    long long avg = atomic_load(&pw_verify_us);
    atomic_store(&pw_verify_us, avg + (us - avg) / 16);
    l->ok = ok && l->hash != NULL;
    unsigned char rnd[32];
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2base64(l->token, sizeof(l->token), rnd, sizeof(rnd),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    api_token_hash_hex(l->token, l->token_hash);
}

static void
login_verify_done(void *arg)
{
    struct login *l = arg;
    http_request *req = l->req;
    char ttl[16], window[16];
    snprintf(ttl, sizeof(ttl), "%d", kt_cfg.token_ttl);
    snprintf(window, sizeof(window), "%d", kt_cfg.login_window);
    const char *params[] = {l->username, req->peer,    l->hash ? l->user_id : NULL,
                            l->ok ? "true" : "false", l->token_hash, ttl, window};
    pg_query *q = pg_query_new(NULL);
    pg_query_add(q, "auth_login_finish", 7, params);
    api_run(req, q, login_finished);
}

/* 429 + Retry-After: the try must wait (kt_login_begin's delays). */
static void
login_wait_reply(http_request *req, int retry, const char *scope)
{
    if (!scope)
        scope = "account";
    char hdr[48], wait[32], msg[300];
    snprintf(hdr, sizeof(hdr), "Retry-After: %d\r\n", retry);
    if (retry < 120)
        snprintf(wait, sizeof(wait), "%d giây", retry);
    else
        snprintf(wait, sizeof(wait), "%d phút", (retry + 59) / 60);
    if (strcmp(scope, "address") == 0)
        snprintf(msg, sizeof(msg),
                 "Máy này đã đăng nhập sai quá nhiều lần. Vui lòng thử lại sau %s.", wait);
    else
        snprintf(msg, sizeof(msg),
                 "Đăng nhập sai nhiều lần. Vui lòng thử lại sau %s, hoặc nhờ giáo viên mở"
                 " khoá tài khoản.",
                 wait);
    json_t *body = json_pack("{s:{s:s,s:s,s:{s:i,s:s}}}", "error", "code", "too_many_attempts",
                             "message", msg, "details", "retry_after", retry, "scope", scope);
    char *s = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    req->status = 429;
    http_reply_full(req, 429, "application/json; charset=utf-8", hdr, s, strlen(s));
    free(s);
}

static void
login_looked_up(http_request *req, pg_query *q)
{
    struct login *l = req->ctx;
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    int retry = atoi(pg_value(q, 0, 0, 0) ? pg_value(q, 0, 0, 0) : "0");
    if (retry > 0) {
        login_wait_reply(req, retry, pg_value(q, 0, 0, 1));
        return;
    }
    const char *id = pg_value(q, 0, 0, 2), *hash = pg_value(q, 0, 0, 3);
    const char *disabled = pg_value(q, 0, 0, 4);
    if (id && hash && !(disabled && disabled[0] == 't')) {
        snprintf(l->user_id, sizeof(l->user_id), "%s", id);
        l->hash = strdup(hash);
    }
    kt_cpu_submit(req->worker->base, login_verify_work, login_verify_done, l);
}

/* 503 + Retry-After: the password-check queue is full. The wait is the
 * time the queue takes to drain on the hashing threads, spread by up to
 * half again so that refused clients do not all come back at once. */
static void
login_busy_reply(http_request *req)
{
    int threads = kt_cfg.cpu_threads > 0 ? kt_cfg.cpu_threads : 1;
    double drain =
        (double)atomic_load(&pw_inflight) * (double)atomic_load(&pw_verify_us) / 1e6 / threads;
    int retry = (int)(drain * (1.0 + randombytes_uniform(500) / 1000.0)) + 1;
    if (retry > 60)
        retry = 60;
    char hdr[48], msg[400];
    snprintf(hdr, sizeof(hdr), "Retry-After: %d\r\n", retry);
    snprintf(msg, sizeof(msg),
             "Máy chủ đang kiểm tra mật khẩu của nhiều người cùng lúc. Vui lòng thử lại sau %d"
             " giây; nếu có phiếu dự thi, hãy đăng nhập bằng mã đăng nhập trên phiếu.",
             retry);
    json_t *j = json_pack("{s:{s:s,s:s,s:{s:i}}}", "error", "code", "login_busy", "message", msg,
                          "details", "retry_after", retry);
    char *txt = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    req->status = 503;
    http_reply_full(req, 503, "application/json; charset=utf-8", hdr, txt, strlen(txt));
    free(txt);
}

void
h_login(http_request *req)
{
    json_t *body = api_body_object(req);
    if (!body)
        return;
    const char *username = json_string_value(json_object_get(body, "username"));
    const char *password = json_string_value(json_object_get(body, "password"));
    if (!username || !password || !*username || !*password) {
        json_decref(body);
        api_error(req, 400, "missing_fields", "Cần nhập tên đăng nhập và mật khẩu.");
        return;
    }
    if (strlen(username) > 64 || strlen(password) > 256) {
        json_decref(body);
        api_error(req, 400, "too_long", "Tên đăng nhập hoặc mật khẩu quá dài.");
        return;
    }
    /* A place in the password-check queue, held until the reply. */
    if (atomic_fetch_add(&pw_inflight, 1) >= pw_queue_max) {
        atomic_fetch_sub(&pw_inflight, 1);
        json_decref(body);
        login_busy_reply(req);
        return;
    }
    struct login *l = calloc(1, sizeof(*l));
    if (!l)
        abort();
    l->queued = 1;
    l->req = req;
    l->username = strdup(username);
    l->password = strdup(password);
    json_decref(body);
    req->ctx = l;
    req->ctx_free = login_free;

    char free_tries[16], delay[16], max_delay[16], max_addr[16], window[16];
    snprintf(free_tries, sizeof(free_tries), "%d", kt_cfg.login_free_tries);
    snprintf(delay, sizeof(delay), "%d", kt_cfg.login_delay);
    snprintf(max_delay, sizeof(max_delay), "%d", kt_cfg.login_max_delay);
    snprintf(max_addr, sizeof(max_addr), "%d", kt_cfg.login_max_addr);
    snprintf(window, sizeof(window), "%d", kt_cfg.login_window);
    const char *params[] = {l->username, req->peer, free_tries, delay, max_delay, max_addr, window};
    pg_query *q = pg_query_new(NULL);
    pg_query_add(q, "auth_login_begin", 7, params);
    api_run(req, q, login_looked_up);
}

/* ------------------------------------------------------------------------ */
/* Exam login codes                                                         */

/* Crockford's base32: no I, L, O or U, so a code read aloud or typed from
 * paper has no look-alikes; I and L are read as 1, O as 0. */
static const char CODE_ALPHABET[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
#define CODE_CHARS 16 /* 80 bits */

/* The code as stored and hashed: 16 symbols, upper case; spaces and dashes
 * dropped. -1 when it is not one. */
static int
exam_code_normalise(const char *in, char out[CODE_CHARS + 1])
{
    int n = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        if (*p == ' ' || *p == '-')
            continue;
        char c = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        if (c == 'I' || c == 'L')
            c = '1';
        else if (c == 'O')
            c = '0';
        if (!strchr(CODE_ALPHABET, c) || c == '\0' || n == CODE_CHARS)
            return -1;
        out[n++] = c;
    }
    out[n] = '\0';
    return n == CODE_CHARS ? 0 : -1;
}

/* The stored form: keyed BLAKE2b-256 of the normalised code, as hex. The
 * key is derived from the server's secret key (KIEMTRA_SECRET_KEY_FILE);
 * -1 when none is configured. */
static int
exam_code_hash(const char code[CODE_CHARS + 1], char hex[65])
{
    unsigned char master[crypto_secretbox_KEYBYTES], key[crypto_generichash_KEYBYTES], h[32];
    if (kt_secret_key(master) < 0)
        return -1;
    crypto_kdf_derive_from_key(key, sizeof(key), 1, "examcode", master);
    crypto_generichash(h, sizeof(h), (const unsigned char *)code, CODE_CHARS, key, sizeof(key));
    sodium_memzero(master, sizeof(master));
    sodium_memzero(key, sizeof(key));
    sodium_bin2hex(hex, 65, h, sizeof(h));
    return 0;
}

static const char *const NO_CODE_KEY =
    "Máy chủ chưa có khoá bí mật (KIEMTRA_SECRET_KEY_FILE) nên chưa dùng được mã đăng nhập kỳ"
    " thi; hãy đăng nhập bằng mật khẩu và báo quản trị hệ thống.";

struct exam_login {
    char *username;
    char token[64];
    char token_hash[67];
};

static void
exam_login_free(void *p)
{
    struct exam_login *e = p;
    if (!e)
        return;
    free(e->username);
    sodium_memzero(e->token, sizeof(e->token));
    free(e);
}

static void
exam_login_done(http_request *req, pg_query *q)
{
    struct exam_login *e = req->ctx;
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    int retry = atoi(pg_value(q, 0, 0, 0) ? pg_value(q, 0, 0, 0) : "0");
    if (retry > 0) {
        login_wait_reply(req, retry, pg_value(q, 0, 0, 1));
        return;
    }
    const char *reason = pg_value(q, 0, 0, 2), *user = pg_value(q, 0, 0, 3);
    if (reason || !user) {
        if (reason && strcmp(reason, "revoked") == 0)
            api_error(req, 401, "code_revoked",
                      "Mã đăng nhập này đã bị thu hồi. Em hãy xin giáo viên coi thi phiếu có mã"
                      " mới.");
        else if (reason && strcmp(reason, "not_yet") == 0)
            api_error(req, 403, "code_not_yet",
                      "Chưa đến giờ dùng mã đăng nhập này: mã dùng được từ một giờ trước giờ mở"
                      " buổi thi.");
        else if (reason && strcmp(reason, "closed") == 0)
            api_error(req, 403, "code_expired",
                      "Buổi thi của mã đăng nhập này đã kết thúc hoặc đã bị huỷ.");
        else
            api_error(req, 401, "invalid_credentials", "Sai tên đăng nhập hoặc mã đăng nhập.");
        return;
    }
    json_t *u = json_loads(user, 0, NULL);
    json_t *expires = json_incref(json_object_get(u, "expires_at"));
    api_token_remember_login(req, e->token, u, json_string_value(expires));
    json_t *session = json_incref(json_object_get(u, "exam_session_id"));
    json_object_del(u, "expires_at");
    json_object_del(u, "exam_session_id");
    api_json(req, 200,
             json_pack("{s:s,s:s,s:o,s:o,s:o}", "token", e->token, "token_type", "Bearer",
                       "expires_at", expires ? expires : json_null(), "session_id",
                       session ? session : json_null(), "user", u ? u : json_object()));
}

/* POST /api/v1/auth/exam-login {"username", "code"}: no argon2id; one hash
 * and one statement (kt_exam_login: throttled, checked, audited). */
void
h_exam_login(http_request *req)
{
    json_t *body = api_body_object(req);
    if (!body)
        return;
    const char *username = json_string_value(json_object_get(body, "username"));
    const char *code = json_string_value(json_object_get(body, "code"));
    if (!username || !code || !*username || !*code) {
        json_decref(body);
        api_error(req, 400, "missing_fields", "Cần nhập tên đăng nhập và mã đăng nhập trên phiếu.");
        return;
    }
    char norm[CODE_CHARS + 1], hex[65];
    if (strlen(username) > 64 || strlen(code) > 64 || exam_code_normalise(code, norm) < 0) {
        json_decref(body);
        api_error(req, 400, "invalid_code",
                  "Mã đăng nhập gồm 16 chữ và số, in thành 4 nhóm 4 ký tự (ví dụ"
                  " K7QM-2XPD-9HFA-T3RW); em hãy nhập lại đúng như trên phiếu.");
        return;
    }
    if (exam_code_hash(norm, hex) < 0) {
        json_decref(body);
        sodium_memzero(norm, sizeof(norm));
        api_error(req, 503, "no_secret_key", NO_CODE_KEY);
        return;
    }
    sodium_memzero(norm, sizeof(norm));
    struct exam_login *e = calloc(1, sizeof(*e));
    if (!e)
        abort();
    e->username = strdup(username);
    json_decref(body);
    req->ctx = e;
    req->ctx_free = exam_login_free;
    unsigned char rnd[32];
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2base64(e->token, sizeof(e->token), rnd, sizeof(rnd),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    api_token_hash_hex(e->token, e->token_hash);

    char code_hash[67], ttl[16], free_tries[16], delay[16], max_delay[16], max_addr[16], window[16];
    snprintf(code_hash, sizeof(code_hash), "\\x%s", hex);
    snprintf(ttl, sizeof(ttl), "%d", kt_cfg.token_ttl);
    snprintf(free_tries, sizeof(free_tries), "%d", kt_cfg.login_free_tries);
    snprintf(delay, sizeof(delay), "%d", kt_cfg.login_delay);
    snprintf(max_delay, sizeof(max_delay), "%d", kt_cfg.login_max_delay);
    snprintf(max_addr, sizeof(max_addr), "%d", kt_cfg.login_max_addr);
    snprintf(window, sizeof(window), "%d", kt_cfg.login_window);
    const char *params[] = {e->username, req->peer, code_hash, e->token_hash, ttl,
                            free_tries,  delay,     max_delay, max_addr,      window};
    pg_query *q = pg_query_new(NULL);
    pg_query_add(q, "auth_exam_login", 10, params);
    api_run(req, q, exam_login_done);
}

/* Issuing a session's codes: the students read, their codes made and
 * hashed on the CPU pool, then stored (earlier ones revoked) in one
 * transaction. The codes are in the reply only: nothing can show them
 * again, a lost slip means a new code. */
struct codes_issue {
    http_request *req;
    json_t *targets; /* {"session": {...}, "students": [...]} */
    size_t n;
    char (*codes)[CODE_CHARS + 4]; /* shown form: four groups of four */
    char *ids, *hashes;            /* the statement's arrays, as text */
    int failed;                    /* no secret key */
    char session[24], class_id[24];
    char *student_ids; /* the body's list as an array literal, or NULL */
};

static void
codes_issue_free(void *p)
{
    struct codes_issue *c = p;
    if (!c)
        return;
    json_decref(c->targets);
    if (c->codes)
        sodium_memzero(c->codes, c->n * sizeof(*c->codes));
    free(c->codes);
    free(c->ids);
    free(c->hashes);
    free(c->student_ids);
    free(c);
}

static void
codes_stored(http_request *req, pg_query *q)
{
    struct codes_issue *c = req->ctx;
    if (q->status != PG_OK) {
        api_db_error_doing(req, q, "cấp mã đăng nhập cho buổi thi này");
        return;
    }
    json_t *stored = json_loads(pg_value(q, 1, 0, 0) ? pg_value(q, 1, 0, 0) : "[]", 0, NULL);
    json_t *out = json_array(), *s;
    size_t i;
    json_array_foreach(json_object_get(c->targets, "students"), i, s)
    {
        json_int_t id = json_integer_value(json_object_get(s, "id"));
        size_t k;
        json_t *v;
        int ok = 0;
        json_array_foreach(stored, k, v) ok |= json_integer_value(v) == id;
        if (!ok)
            continue;
        json_t *slip = json_deep_copy(s);
        json_object_set_new(slip, "code", json_string(c->codes[i]));
        json_array_append_new(out, slip);
    }
    json_decref(stored);
    json_t *sess = json_object_get(c->targets, "session");
    api_json(req, 201,
             json_pack("{s:O,s:I,s:o}", "session", sess, "issued", (json_int_t)json_array_size(out),
                       "codes", out));
}

static void
codes_work(void *arg)
{
    struct codes_issue *c = arg;
    json_t *students = json_object_get(c->targets, "students");
    c->n = json_array_size(students);
    c->codes = calloc(c->n ? c->n : 1, sizeof(*c->codes));
    c->ids = malloc(c->n * 21 + 3);
    c->hashes = malloc(c->n * 67 + 3);
    if (!c->codes || !c->ids || !c->hashes)
        abort();
    char *pi = c->ids, *ph = c->hashes;
    *pi++ = '{';
    *ph++ = '{';
    for (size_t i = 0; i < c->n && !c->failed; i++) {
        unsigned char rnd[10];
        randombytes_buf(rnd, sizeof(rnd));
        char norm[CODE_CHARS + 1], hex[65];
        for (int k = 0; k < CODE_CHARS; k++) { /* 5 bits each, 80 in all */
            int bit = k * 5, v = 0;
            for (int b = 0; b < 5; b++, bit++)
                v = (v << 1) | ((rnd[bit / 8] >> (7 - bit % 8)) & 1);
            norm[k] = CODE_ALPHABET[v];
        }
        norm[CODE_CHARS] = '\0';
        sodium_memzero(rnd, sizeof(rnd));
        if (exam_code_hash(norm, hex) < 0) {
            c->failed = 1;
            break;
        }
        snprintf(c->codes[i], sizeof(c->codes[i]), "%.4s-%.4s-%.4s-%.4s", norm, norm + 4, norm + 8,
                 norm + 12);
        sodium_memzero(norm, sizeof(norm));
        pi += sprintf(
            pi, "%s%lld", i ? "," : "",
            (long long)json_integer_value(json_object_get(json_array_get(students, i), "id")));
        ph += sprintf(ph, "%s%s", i ? "," : "", hex);
    }
    strcpy(pi, "}");
    strcpy(ph, "}");
}

static void
codes_made(void *arg)
{
    struct codes_issue *c = arg;
    http_request *req = c->req;
    if (c->failed) {
        api_error(req, 503, "no_secret_key", NO_CODE_KEY);
        return;
    }
    char actor[24];
    api_id_text(actor, req->user->id);
    const char *rp[] = {c->session, c->ids};
    const char *sp[] = {c->session, c->ids, c->hashes, actor};
    pg_query *q = api_query(req);
    pg_query_add(q, "auth_codes_revoke_old", 2, rp);
    pg_query_add(q, "auth_codes_store", 4, sp);
    api_run(req, q, codes_stored);
}

static void
codes_targets(http_request *req, pg_query *q)
{
    struct codes_issue *c = req->ctx;
    if (q->status != PG_OK) {
        api_db_error_doing(req, q, "cấp mã đăng nhập cho buổi thi này");
        return;
    }
    const char *j = pg_ntuples(q, 0) == 1 ? pg_value(q, 0, 0, 0) : NULL;
    if (!j) {
        api_error(req, 404, "not_found",
                  "Không tìm thấy buổi thi này trong trường, hoặc buổi thi đã kết thúc hay đã bị"
                  " huỷ.");
        return;
    }
    c->targets = json_loads(j, 0, NULL);
    if (!json_array_size(json_object_get(c->targets, "students"))) {
        api_error(req, 422, "no_students",
                  "Không có học sinh nào (trong các lớp đã chọn) của buổi thi này để cấp mã.");
        return;
    }
    kt_cpu_submit(req->worker->base, codes_work, codes_made, c);
}

/* POST /api/v1/sessions/{id}/login-codes {"class_id"?, "student_ids"?} */
void
h_session_login_codes(http_request *req)
{
    struct codes_issue *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    c->req = req;
    req->ctx = c;
    req->ctx_free = codes_issue_free;
    api_id_text(c->session, api_param_id(req, 0));
    json_t *body = req->body && req->body_len ? api_body_object(req) : json_object();
    if (!body)
        return;
    json_t *cls = json_object_get(body, "class_id"), *ids = json_object_get(body, "student_ids");
    if ((cls && !json_is_null(cls) && (!json_is_integer(cls) || json_integer_value(cls) < 1)) ||
        (ids && !json_is_null(ids) && (!json_is_array(ids) || json_array_size(ids) > 5000))) {
        json_decref(body);
        api_error(req, 400, "invalid_field",
                  "class_id phải là mã lớp (số nguyên dương) và student_ids là danh sách mã học"
                  " sinh (tối đa 5.000).");
        return;
    }
    if (json_is_integer(cls))
        api_id_text(c->class_id, json_integer_value(cls));
    if (json_is_array(ids)) {
        c->student_ids = malloc(json_array_size(ids) * 21 + 3);
        if (!c->student_ids)
            abort();
        char *p = c->student_ids;
        *p++ = '{';
        size_t i;
        json_t *v;
        json_array_foreach(ids, i, v)
        {
            if (!json_is_integer(v) || json_integer_value(v) < 1) {
                json_decref(body);
                api_error(req, 400, "invalid_field",
                          "student_ids phải là danh sách mã học sinh (số nguyên dương).");
                return;
            }
            p += sprintf(p, "%s%lld", i ? "," : "", (long long)json_integer_value(v));
        }
        strcpy(p, "}");
    }
    json_decref(body);
    const char *params[] = {c->session, *c->class_id ? c->class_id : NULL, c->student_ids};
    pg_query *q = api_query(req);
    pg_query_add(q, "auth_codes_targets", 3, params);
    api_run(req, q, codes_targets);
}

/* DELETE /api/v1/sessions/{id}/login-codes/{student_id}: the student's live
 * code stops working at once and the sessions the student holds end (both
 * audited); a new code is issued by POST. */
static void
code_revoked(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error_doing(req, q, "thu hồi mã đăng nhập của buổi thi này");
        return;
    }
    if (pg_ntuples(q, 0) == 1) {
        int64_t student = api_param_id(req, 1);
        api_users_forget(&student, 1); /* after the commit: no token outlives it */
    }
    api_reply_row(req, q, 0, 200,
                  "Học sinh này không có mã đăng nhập còn hiệu lực cho buổi thi này.");
}

void
h_session_login_code_revoke(http_request *req)
{
    char session[24], student[24], actor[24];
    api_id_text(session, api_param_id(req, 0));
    api_id_text(student, api_param_id(req, 1));
    api_id_text(actor, req->user->id);
    const char *params[] = {session, student, actor};
    pg_query *q = api_query(req);
    pg_query_add(q, "auth_code_revoke", 3, params);
    api_run(req, q, code_revoked);
}

/* The session's row is deleted first, then every worker forgets the token,
 * then the 204: a lookup that raced the delete cannot bring it back (see
 * api_token_forget), so no request sent after the reply succeeds. */
static void
logout_done(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    api_token_forget(req->ctx);
    http_reply(req, 204, "application/json; charset=utf-8", "", 0);
}

void
h_logout(http_request *req)
{
    const char *h = http_header(req, "Authorization");
    char *hex = malloc(67);
    if (!hex)
        abort();
    api_token_hash_hex(h + 7 + strspn(h + 7, " "), hex);
    req->ctx = hex;
    req->ctx_free = free;
    const char *params[] = {hex};
    pg_query *q = pg_query_new(NULL);
    pg_query_add(q, "auth_logout", 1, params);
    api_run(req, q, logout_done);
}

/* POST /api/v1/users/{id}/unlock: a teacher of the school clears a student's
 * login delays (a school admin anyone's of the school), audited. */
static void
unlock_done(http_request *req, pg_query *q)
{
    api_reply_row(req, q, 0, 200,
                  "Không tìm thấy tài khoản này trong trường, hoặc bạn không có"
                  " quyền mở khoá tài khoản này.");
}

void
h_user_unlock(http_request *req)
{
    char id[24], actor[24];
    api_id_text(id, api_param_id(req, 0));
    api_id_text(actor, req->user->id);
    const char *params[] = {id, actor};
    pg_query *q = api_query(req);
    pg_query_add(q, "auth_unlock", 2, params);
    api_run(req, q, unlock_done);
}

static void
me_done(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    const char *j = pg_value(q, 0, 0, 0);
    if (!j) {
        api_error(req, 404, "not_found", "Không tìm thấy người dùng.");
        return;
    }
    api_raw_json(req, 200, j, strlen(j));
}

void
h_me(http_request *req)
{
    char id[24];
    snprintf(id, sizeof(id), "%lld", (long long)req->user->id);
    const char *params[] = {id};
    pg_query *q = api_query(req);
    pg_query_add(q, "auth_me", 1, params);
    api_run(req, q, me_done);
}

/*
 * Login, logout and the unlock of an account's login delay. A login is: the
 * try counted and the user looked up (one query, kt_login_begin: per account
 * and address, a growing delay after the free tries), argon2id verification
 * on a CPU thread (never on the event loop), then the outcome recorded and,
 * on success, a session created (one query). Tokens are 256 random bits;
 * only their SHA-256 is stored. Unknown usernames are verified against a
 * dummy hash so that timing does not reveal them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api.h"
#include "config.h"
#include "cpupool.h"
#include "log.h"
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
};

static char *dummy_hash; /* verified against for unknown users */

int
kt_auth_init(void)
{
    pg_register_statements(auth_stmts, (int)(sizeof(auth_stmts) / sizeof(auth_stmts[0])));
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
};

static void
login_free(void *p)
{
    struct login *l = p;
    if (!l)
        return;
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
    int ok = crypto_pwhash_str_verify(h, l->password, strlen(l->password)) == 0;
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
        const char *scope = pg_value(q, 0, 0, 1) ? pg_value(q, 0, 0, 1) : "account";
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
    struct login *l = calloc(1, sizeof(*l));
    if (!l)
        abort();
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

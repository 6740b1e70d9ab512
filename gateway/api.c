/*
 * Request dispatch for the JSON API: the route table, path matching,
 * authentication by bearer token (looked up by its SHA-256 only), role
 * checks, error replies in the contract's shape, /healthz, /metrics and the
 * access log.
 */
#include "api.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "body.h"
#include "config.h"
#include "grading.h"
#include "log.h"
#include "outbox.h"
#include "records_year.h"
#include "secret.h"
#include "static.h"
#include "authfeed.h"
#include "metrics.h"
#include "server.h"

static void h_healthz(http_request *req);
static void h_livez(http_request *req);
static void h_metrics(http_request *req);

static const struct kt_route routes[] = {
    {HTTP_GET, "/healthz", h_healthz, ROLES_PUBLIC},
    {HTTP_GET, "/livez", h_livez, ROLES_PUBLIC},
    {HTTP_GET, "/metrics", h_metrics, ROLES_PUBLIC},
    {HTTP_POST, "/api/v1/auth/login", h_login, ROLES_PUBLIC},
    {HTTP_POST, "/api/v1/auth/logout", h_logout, ROLES_ANY},
    {HTTP_POST, "/api/v1/auth/exam-login", h_exam_login, ROLES_PUBLIC},
    {HTTP_GET, "/api/v1/me", h_me, ROLES_ANY},
    {HTTP_GET, "/api/v1/assignments", h_assignments_list, ROLES_AUTHORS},
    {HTTP_POST, "/api/v1/assignments", h_assignment_create, ROLE_SCHOOL_ADMIN},
    {HTTP_DELETE, "/api/v1/assignments/{id}", h_assignment_delete, ROLE_SCHOOL_ADMIN},
    {HTTP_GET, "/api/v1/users", h_users_list, ROLE_TEACHER | ROLE_SUBJECT_HEAD | ROLE_SCHOOL_ADMIN},
    {HTTP_POST, "/api/v1/users", h_user_create, ROLE_SCHOOL_ADMIN},
    {HTTP_PATCH, "/api/v1/users/{id}", h_user_patch, ROLE_SCHOOL_ADMIN},
    {HTTP_POST, "/api/v1/users/{id}/unlock", h_user_unlock,
     ROLE_TEACHER | ROLE_SUBJECT_HEAD | ROLE_SCHOOL_ADMIN},
    {HTTP_POST, "/api/v1/users/{id}/password", h_user_password_reset,
     ROLE_TEACHER | ROLE_SUBJECT_HEAD | ROLE_SCHOOL_ADMIN},
    {HTTP_POST, "/api/v1/rosters/import", h_roster_import, ROLE_SCHOOL_ADMIN},
    {HTTP_GET, "/api/v1/schools", h_schools, ROLES_STAFF},
    {HTTP_GET, "/api/v1/classes", h_classes, ROLES_ANY},
    {HTTP_GET, "/api/v1/classes/{id}/students", h_class_students, ROLES_STAFF},
    {HTTP_POST, "/api/v1/classes/{id}/slips", h_class_slips, ROLES_AUTHORS},
    {HTTP_GET, "/api/v1/taxonomy", h_taxonomy, ROLES_ANY},
    {HTTP_GET, "/api/v1/items", h_items_list, ROLES_STAFF},
    {HTTP_POST, "/api/v1/items", h_item_create, ROLE_TEACHER | ROLE_SUBJECT_HEAD | ROLE_SCHOOL_ADMIN},
    {HTTP_POST, "/api/v1/items/import", h_items_import,
     ROLE_TEACHER | ROLE_SUBJECT_HEAD | ROLE_SCHOOL_ADMIN},
    {HTTP_GET, "/api/v1/items/{id}", h_item_get, ROLES_STAFF},
    {HTTP_GET, "/api/v1/items/{id}/assets/{*}", h_item_asset, ROLES_STAFF},
    {HTTP_GET, "/api/v1/items/{id}/qti", h_item_qti, ROLES_STAFF},
    {HTTP_GET, "/api/v1/items/{id}/history", h_item_history, ROLES_STAFF},
    {HTTP_POST, "/api/v1/media", h_media_upload, ROLE_TEACHER | ROLE_SUBJECT_HEAD | ROLE_SCHOOL_ADMIN},
    {HTTP_GET, "/api/v1/media/{*}", h_media_get, ROLES_STAFF},
    {HTTP_POST, "/api/v1/items/{id}/score", h_item_score, ROLES_STAFF},
    {HTTP_POST, "/api/v1/tests", h_test_create, ROLES_AUTHORS},
    {HTTP_GET, "/api/v1/tests/{id}", h_test_get, ROLES_STAFF},
    {HTTP_POST, "/api/v1/tests/{id}/publish", h_test_publish, ROLES_AUTHORS},
    {HTTP_POST, "/api/v1/tests/{id}/sessions", h_session_create, ROLES_AUTHORS},
    {HTTP_GET, "/api/v1/tests", h_tests_list, ROLES_STAFF},
    {HTTP_PATCH, "/api/v1/tests/{id}", h_test_patch, ROLES_AUTHORS},
    {HTTP_DELETE, "/api/v1/tests/{id}", h_test_delete, ROLES_AUTHORS},
    {HTTP_POST, "/api/v1/tests/{id}/archive", h_test_archive, ROLES_AUTHORS},
    {HTTP_POST, "/api/v1/tests/{id}/unarchive", h_test_unarchive, ROLES_AUTHORS},
    {HTTP_GET, "/api/v1/tests/{id}/forms/{code}.docx", h_test_form_docx, ROLES_STAFF},
    {HTTP_GET, "/api/v1/tests/{id}/forms/{code}", h_test_form, ROLES_STAFF},
    {HTTP_POST, "/api/v1/blueprints/availability", h_blueprint_availability, ROLES_AUTHORS},
    {HTTP_GET, "/api/v1/sessions", h_sessions_list, ROLES_STAFF},
    {HTTP_GET, "/api/v1/sessions/{id}", h_session_get, ROLES_STAFF},
    {HTTP_PATCH, "/api/v1/sessions/{id}", h_session_patch, ROLES_AUTHORS},
    {HTTP_POST, "/api/v1/sessions/{id}/cancel", h_session_cancel, ROLES_AUTHORS},
    {HTTP_POST, "/api/v1/qti-tests/{id}/publish", h_qti_test_publish, ROLES_AUTHORS},
    {HTTP_GET, "/api/v1/me/sessions", h_me_sessions, ROLE_STUDENT},
    {HTTP_POST, "/api/v1/sessions/{id}/attempts", h_attempt_start, ROLE_STUDENT},
    {HTTP_GET, "/api/v1/sessions/{id}/monitor", h_session_monitor, ROLES_STAFF},
    {HTTP_POST, "/api/v1/sessions/{id}/release", h_session_release, ROLES_AUTHORS},
    {HTTP_POST, "/api/v1/sessions/{id}/login-codes", h_session_login_codes, ROLES_AUTHORS},
    {HTTP_DELETE, "/api/v1/sessions/{id}/login-codes/{id}", h_session_login_code_revoke,
     ROLES_AUTHORS},
    {HTTP_GET, "/api/v1/attempts/{id}", h_attempt_get, ROLES_ANY},
    {HTTP_PATCH, "/api/v1/attempts/{id}", h_attempt_patch, ROLES_AUTHORS},
    {HTTP_POST, "/api/v1/attempts/{id}/reopen", h_attempt_reopen, ROLES_AUTHORS},
    {HTTP_POST, "/api/v1/attempts/{id}/force-submit", h_attempt_force_submit, ROLES_AUTHORS},
    {HTTP_PUT, "/api/v1/attempts/{id}/responses/{item_ref}", h_attempt_save, ROLE_STUDENT},
    {HTTP_GET, "/api/v1/attempts/{id}/assets/{item_ref}/{*}", h_attempt_asset, ROLE_STUDENT},
    {HTTP_POST, "/api/v1/attempts/{id}/submit", h_attempt_submit, ROLE_STUDENT},
    {HTTP_PUT, "/api/v1/attempts/{id}/marks/{item_ref}", h_attempt_mark, ROLES_AUTHORS},
    {HTTP_GET, "/api/v1/sessions/{id}/results", h_session_results, ROLES_STAFF},
    {HTTP_GET, "/api/v1/sessions/{id}/results.xlsx", h_session_results_xlsx, ROLES_STAFF},
    {HTTP_GET, "/api/v1/tests/{id}/results", h_test_results, ROLES_STAFF},
    {HTTP_GET, "/api/v1/tests/{id}/results.xlsx", h_test_results_xlsx, ROLES_STAFF},
    {HTTP_GET, "/api/v1/sessions/{id}/marking", h_session_marking, ROLES_AUTHORS},
    {HTTP_GET, "/api/v1/sessions/{id}/marking/{item_ref}", h_session_marking_item, ROLES_AUTHORS},
    {HTTP_POST, "/api/v1/tests/{id}/regrade", h_test_regrade, ROLES_AUTHORS},
    {HTTP_POST, "/api/v1/sessions/{id}/publish", h_session_publish, ROLES_AUTHORS},
    {HTTP_GET, "/api/v1/classes/{id}/records", h_class_records, ROLES_STAFF},
    {HTTP_PUT, "/api/v1/classes/{id}/records", h_class_record_edit, ROLES_AUTHORS},
    {HTTP_GET, "/api/v1/classes/{id}/study-plan", h_class_study_plan_get, ROLES_STAFF},
    {HTTP_PUT, "/api/v1/classes/{id}/study-plan", h_class_study_plan_set, ROLE_SCHOOL_ADMIN},
    {HTTP_PUT, "/api/v1/classes/{id}/homeroom", h_class_homeroom_set, ROLE_SCHOOL_ADMIN},
    {HTTP_POST, "/api/v1/records/lock", h_records_lock, ROLE_SCHOOL_ADMIN},
    {HTTP_POST, "/api/v1/records/unlock", h_records_unlock, ROLE_SCHOOL_ADMIN},
    {HTTP_GET, "/api/v1/exports/records", h_export_records, ROLES_STAFF},
    {HTTP_GET, "/api/v1/outbox", h_outbox_status, ROLE_SCHOOL_ADMIN},
    {HTTP_PUT, "/api/v1/classes/{id}/conduct", h_class_conduct_set, ROLES_AUTHORS},
    {HTTP_PUT, "/api/v1/classes/{id}/qualities", h_class_qualities_set, ROLES_AUTHORS},
    {HTTP_POST, "/api/v1/classes/{id}/records/submit", h_class_records_submit, ROLE_SCHOOL_ADMIN},
    {HTTP_GET, "/api/v1/classes/{id}/year-results", h_class_year_results, ROLES_STAFF},
    {HTTP_GET, "/api/v1/classes/{id}/exchange", h_class_exchange, ROLES_STAFF},
    {HTTP_PUT, "/api/v1/students/{id}/national-id", h_national_id_set, ROLE_SCHOOL_ADMIN},
    {HTTP_GET, "/api/v1/students/{id}/national-id", h_national_id_get, ROLE_SCHOOL_ADMIN},
    {HTTP_PATCH, "/api/v1/items/{id}", h_item_patch, ROLE_TEACHER | ROLE_SUBJECT_HEAD | ROLE_SCHOOL_ADMIN},
};
#define NROUTES ((int)(sizeof(routes) / sizeof(routes[0])))
static char *route_names[NROUTES];

static const struct pg_stmt_def core_stmts[] = {
    {"core_ping", "SELECT 1"},
    {"core_session_user",
     "SELECT user_id, school_id, province_id, role, username, seconds_left"
     " FROM kt_session_lookup($1::bytea)"},
};

int
kt_api_init(void)
{
    static const char *mnames[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "?"};
    for (int i = 0; i < NROUTES; i++) {
        size_t n = strlen(routes[i].pattern) + 10;
        route_names[i] = malloc(n);
        snprintf(route_names[i], n, "%s %s", mnames[routes[i].method], routes[i].pattern);
    }
    pg_register_statements(core_stmts, (int)(sizeof(core_stmts) / sizeof(core_stmts[0])));
    if (kt_auth_init() < 0)
        return -1;
    kt_school_register();
    kt_assignments_register();
    kt_taxonomy_register();
    kt_items_register();
    kt_item_import_register();
    kt_media_register();
    kt_tests_register();
    kt_docx_export_register();
    kt_sessions_register();
    kt_qti_publish_register();
    kt_attempts_register();
    kt_grading_register();
    kt_marking_register();
    kt_results_register();
    kt_records_register();
    kt_records_year_register();
    kt_study_plans_register();
    kt_national_id_register();
    kt_users_register();
    kt_outbox_register();
    if (kt_static_load() < 0 || kt_secret_load() < 0 || kt_outbox_configure() < 0)
        return -1;
    return kt_metrics_init(kt_cfg.workers, NROUTES, (const char *const *)route_names);
}

/* ------------------------------------------------------------------------ */
/* Replies                                                                  */

void
api_raw_json(http_request *req, int status, const char *json, size_t len)
{
    http_reply(req, status, "application/json; charset=utf-8", json, len);
}

void
api_json(http_request *req, int status, json_t *body)
{
    char *s = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!s) {
        api_error(req, 500, "internal", "Lỗi nội bộ máy chủ.");
        return;
    }
    api_raw_json(req, status, s, strlen(s));
    free(s);
}

void
api_error_details(http_request *req, int status, const char *code, const char *message,
                  json_t *details)
{
    json_t *err = json_pack("{s:s,s:s}", "code", code, "message", message);
    if (details)
        json_object_set_new(err, "details", details);
    json_t *body = json_pack("{s:o}", "error", err);
    char *s = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!s)
        abort();
    const char *extra = status == 503 ? "Retry-After: 2\r\n" : NULL;
    http_reply_full(req, status, "application/json; charset=utf-8", extra, s, strlen(s));
    free(s);
}

void
api_error(http_request *req, int status, const char *code, const char *message)
{
    api_error_details(req, status, code, message, NULL);
}

void
api_db_error(http_request *req, const pg_query *q)
{
    switch (q->status) {
    case PG_UNAVAILABLE:
    case PG_OVERLOADED:
        api_error(req, 503, "database_unavailable",
                  "Cơ sở dữ liệu tạm thời không sẵn sàng, vui lòng thử lại sau giây lát.");
        return;
    case PG_TIMEOUT:
        api_error(req, 503, "database_timeout",
                  "Cơ sở dữ liệu phản hồi quá chậm, vui lòng thử lại sau giây lát.");
        return;
    default:
        break;
    }
    if (strncmp(q->sqlstate, "KT409", 5) == 0) {
        api_error(req, 409, "linear_navigation",
                  "Đề này làm lần lượt từng câu: không quay lại sửa câu trước, không trả lời "
                  "trước câu chưa được giao.");
    } else if (strncmp(q->sqlstate, "KT403", 5) == 0) { /* outside the assignments (0021) */
        api_not_assigned(req, q, NULL);
    } else if (strncmp(q->sqlstate, "KT423", 5) == 0) { /* a lock landed first (0018) */
        api_error(req, 409, "term_locked", "Học kì này đã khoá sổ; không thay đổi điểm được nữa.");
    } else if (strncmp(q->sqlstate, "23505", 5) == 0) {
        api_error(req, 409, "conflict", "Dữ liệu đã tồn tại.");
    } else if (strncmp(q->sqlstate, "22", 2) == 0 || strncmp(q->sqlstate, "23", 2) == 0) {
        api_error(req, 400, "invalid_value", "Giá trị không hợp lệ.");
    } else if (strncmp(q->sqlstate, "57014", 5) == 0) {
        api_error(req, 503, "database_timeout",
                  "Cơ sở dữ liệu phản hồi quá chậm, vui lòng thử lại sau giây lát.");
    } else if (strncmp(q->sqlstate, "08", 2) == 0 || strncmp(q->sqlstate, "57P", 3) == 0) {
        api_error(req, 503, "database_unavailable",
                  "Cơ sở dữ liệu tạm thời không sẵn sàng, vui lòng thử lại sau giây lát.");
    } else {
        log_error("query failed route=%d sqlstate=%s: %s", req->route, q->sqlstate,
                  q->error ? q->error : "");
        api_error(req, 500, "internal", "Lỗi nội bộ máy chủ.");
    }
}

void
api_not_assigned(http_request *req, const pg_query *q, const char *doing)
{
    /* The database names subject and class ("Thầy/cô không được phân công
     * dạy môn TOAN ở lớp 10A2", migration 0021); the handler says what was
     * refused. */
    const char *why = q->error && *q->error ? q->error
                                            : "Thầy/cô không được phân công dạy môn học hoặc lớp này";
    char msg[600];
    if (doing)
        snprintf(msg, sizeof(msg), "%s, nên không thể %s.", why, doing);
    else
        snprintf(msg, sizeof(msg), "%s, nên không thể thực hiện thao tác này.", why);
    api_error(req, 403, "not_assigned", msg);
}

void
api_db_error_doing(http_request *req, const pg_query *q, const char *doing)
{
    if (q->status == PG_ERROR && strncmp(q->sqlstate, "KT403", 5) == 0)
        api_not_assigned(req, q, doing);
    else
        api_db_error(req, q);
}

json_t *
api_body_object(http_request *req)
{
    if (!req->body) {
        api_error(req, 400, "invalid_json", "Thiếu dữ liệu JSON trong yêu cầu.");
        return NULL;
    }
    json_error_t err;
    json_t *j = kt_body_json(req, &err);
    if (!j || !json_is_object(j)) {
        char msg[300];
        if (j)
            snprintf(msg, sizeof(msg), "Dữ liệu JSON phải là một đối tượng.");
        else
            snprintf(msg, sizeof(msg), "JSON không hợp lệ (dòng %d, cột %d): %s", err.line,
                     err.column, err.text);
        json_decref(j);
        api_error(req, 400, "invalid_json", msg);
        return NULL;
    }
    return j;
}

/* ------------------------------------------------------------------------ */
/* Database helpers                                                         */

void
api_tenant(const http_request *req, struct kt_tenant *t)
{
    memset(t, 0, sizeof(*t));
    const struct kt_user *u = req->user;
    if (!u)
        return;
    t->school_id = u->school_id;
    t->province_id = u->province_id;
    t->admin_province = u->role == ROLE_ADMIN ? u->province_id : 0;
    t->user_id = u->id;
    t->role = u->role_name;
}

pg_query *
api_query(const http_request *req)
{
    struct kt_tenant t;
    api_tenant(req, &t);
    return pg_query_new(&t);
}

struct run_ctx {
    http_request *req;
    void (*cb)(http_request *req, pg_query *q);
};

static void
run_done(pg_query *q, void *arg)
{
    struct run_ctx *rc = arg;
    rc->cb(rc->req, q);
    pg_query_free(q);
    free(rc);
}

void
api_run(http_request *req, pg_query *q, void (*cb)(http_request *req, pg_query *q))
{
    struct run_ctx *rc = malloc(sizeof(*rc));
    if (!rc)
        abort();
    rc->req = req;
    rc->cb = cb;
    pg_query_run(req->worker->db, q, run_done, rc);
}

void
api_reply_row(http_request *req, const pg_query *q, int stmt, int status, const char *not_found)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    const char *s = pg_ntuples(q, stmt) == 1 ? pg_value(q, stmt, 0, 0) : NULL;
    if (!s) {
        api_error(req, 404, "not_found", not_found);
        return;
    }
    api_raw_json(req, status, s, strlen(s));
}

void
api_id_text(char out[24], int64_t v)
{
    snprintf(out, 24, "%lld", (long long)v);
}

char *
api_query_text(const http_request *req, const char *name)
{
    char *v = http_query_param(req, name);
    if (v && !*v) {
        free(v);
        return NULL;
    }
    return v;
}

long
api_bounded(const char *s, long lo, long hi)
{
    if (!s || !*s || strlen(s) > 9 || s[strspn(s, "0123456789")])
        return -1;
    long v = strtol(s, NULL, 10);
    return v >= lo && v <= hi ? v : -1;
}

int64_t
api_param_id(const http_request *req, int i)
{
    const char *s = req->params[i];
    if (!s || !*s || strlen(s) > 18)
        return 0;
    int64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return 0;
        v = v * 10 + (*s - '0');
    }
    return v;
}

void
api_token_hash_hex(const char *token, char out[2 + 64 + 1])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    out[0] = '\\';
    out[1] = 'x';
    sodium_bin2hex(out + 2, 65, h, sizeof(h));
}

/* ------------------------------------------------------------------------ */
/* Routing and authentication                                               */

/* Matches path against pattern; on success stores parameters in req. A
 * parameter "{*}" at the end of a pattern takes the rest of the path,
 * slashes included. */
static int
route_match(http_request *req, const char *pattern)
{
    const char *p = pattern, *s = req->path;
    char params[512];
    size_t plen = 0;
    int np = 0;
    size_t offs[HTTP_MAX_PARAMS];
    while (*p && *s) {
        if (*p == '{') {
            const char *pe = strchr(p, '}');
            size_t n = strcmp(p, "{*}") == 0 ? strlen(s) : strcspn(s, "/");
            if (pe && pe[1] && pe[1] != '/' && pe[1] != '{') {
                /* "{code}.docx": the segment ends with the literal after the parameter */
                size_t lit = strcspn(pe + 1, "/{");
                if (n <= lit || strncmp(s + n - lit, pe + 1, lit) != 0)
                    return 0;
                n -= lit;
            }
            if (!pe || n == 0 || np == HTTP_MAX_PARAMS || plen + n + 1 > sizeof(params))
                return 0;
            offs[np++] = plen;
            memcpy(params + plen, s, n);
            plen += n;
            params[plen++] = '\0';
            p = pe + 1;
            s += n;
            continue;
        }
        if (*p != *s)
            return 0;
        p++;
        s++;
    }
    if (*p || *s)
        return 0;
    if (np) {
        req->path_params = malloc(plen);
        memcpy(req->path_params, params, plen);
        for (int i = 0; i < np; i++)
            req->params[i] = req->path_params + offs[i];
    }
    return 1;
}

static enum kt_role
role_of(const char *s)
{
    static const struct {
        const char *name;
        enum kt_role r;
    } tab[] = {{"admin", ROLE_ADMIN},
               {"school_admin", ROLE_SCHOOL_ADMIN},
               {"subject_head", ROLE_SUBJECT_HEAD},
               {"teacher", ROLE_TEACHER},
               {"student", ROLE_STUDENT}};
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
        if (strcmp(s, tab[i].name) == 0)
            return tab[i].r;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Recently seen tokens                                                     */

/* Every request would otherwise look its token up in PostgreSQL. A token is
 * remembered never past its session's expiry, and for at most
 * KIEMTRA_AUTH_FEED_CACHE_MS while the revocation feed listens (authfeed.c:
 * a session ended or an account changed through any gateway process is
 * forgotten here when its notification arrives), KIEMTRA_AUTH_CACHE_MS
 * while it does not. A logout forgets it at once on every worker (the table
 * is shared, under a mutex). A lookup that began before the last logout is
 * not remembered: it may have read the session row just before the logout
 * deleted it. Disabling an account, changing its role or resetting its
 * password forgets all of its tokens (api_users_forget) after the change
 * committed, here and, through the feed, in every other process.
 * The table is set-associative (TOKEN_WAYS slots per set) and holds a whole
 * exam's students: a direct-mapped table of fewer slots than students made
 * them evict each other, so most requests went to the database anyway. */
#define TOKEN_SETS 16384
#define TOKEN_WAYS 4

struct cached_token {
    char hash[67];     /* "\\x" + SHA-256 hex, as stored */
    struct kt_user user;
    uint64_t until_ms; /* monotonic */
};
static struct cached_token token_cache[TOKEN_SETS][TOKEN_WAYS];
static uint64_t token_forgot_ns; /* monotonic time of the last logout */
static uint64_t token_hits, token_misses; /* atomic */
static pthread_mutex_t token_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static struct cached_token *
token_set(const char *hash)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const char *p = hash; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return token_cache[h % TOKEN_SETS];
}

/* The slot of the set holding hash, or NULL. Under token_lock. */
static struct cached_token *
token_find(struct cached_token *set, const char *hash)
{
    for (int i = 0; i < TOKEN_WAYS; i++)
        if (strcmp(set[i].hash, hash) == 0)
            return &set[i];
    return NULL;
}

static int
token_cached(const char *hash, struct kt_user *out)
{
    int hit = 0;
    pthread_mutex_lock(&token_lock);
    const struct cached_token *c = token_find(token_set(hash), hash);
    if (c && c->until_ms > now_ms()) {
        *out = c->user;
        hit = 1;
    }
    pthread_mutex_unlock(&token_lock);
    __atomic_add_fetch(hit ? &token_hits : &token_misses, 1, __ATOMIC_RELAXED);
    return hit;
}

/* asked_ns: when the request that looked the token up arrived (monotonic). */
static void
token_remember(const char *hash, const struct kt_user *u, double seconds_left, uint64_t asked_ns)
{
    if (kt_cfg.auth_cache_ms <= 0 || seconds_left <= 0)
        return;
    pthread_mutex_lock(&token_lock);
    if (asked_ns <= token_forgot_ns) {
        pthread_mutex_unlock(&token_lock);
        return;
    }
    /* Read under the lock: the feed going down forgets everything under it
     * after it says so, so no long-lived entry is made after that. */
    int limit = kt_authfeed_up() ? kt_cfg.auth_feed_cache_ms : kt_cfg.auth_cache_ms;
    double ms = seconds_left * 1000.0 < limit ? seconds_left * 1000.0 : limit;
    struct cached_token *set = token_set(hash), *c = token_find(set, hash);
    if (!c) { /* the slot that expires first: an empty or expired one before a live one */
        c = &set[0];
        for (int i = 1; i < TOKEN_WAYS; i++)
            if (set[i].until_ms < c->until_ms)
                c = &set[i];
    }
    snprintf(c->hash, sizeof(c->hash), "%s", hash);
    c->user = *u;
    c->until_ms = now_ms() + (uint64_t)ms;
    pthread_mutex_unlock(&token_lock);
}

void
api_token_forget(const char *hash)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    pthread_mutex_lock(&token_lock);
    token_forgot_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    struct cached_token *c = token_find(token_set(hash), hash);
    if (c)
        c->until_ms = 0;
    pthread_mutex_unlock(&token_lock);
}

void
api_token_remember_login(const http_request *req, const char *token, json_t *user,
                         const char *expires_at)
{
    struct kt_user u = {0};
    struct tm tm = {0};
    const char *role = json_string_value(json_object_get(user, "role"));
    const char *name = json_string_value(json_object_get(user, "username"));
    if (!token || !role || !name || !expires_at ||
        !strptime(expires_at, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return;
    u.id = json_integer_value(json_object_get(user, "id"));
    u.school_id = json_integer_value(json_object_get(user, "school_id")); /* 0 when null */
    u.province_id = json_integer_value(json_object_get(user, "province_id"));
    snprintf(u.role_name, sizeof(u.role_name), "%s", role);
    u.role = role_of(u.role_name);
    snprintf(u.username, sizeof(u.username), "%s", name);
    if (u.id <= 0 || !u.role)
        return;
    char hex[67];
    api_token_hash_hex(token, hex);
    token_remember(hex, &u, difftime(timegm(&tm), time(NULL)), req->started_ns);
}

void
api_tokens_forget_all(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    pthread_mutex_lock(&token_lock);
    token_forgot_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    for (size_t s = 0; s < TOKEN_SETS; s++)
        for (int w = 0; w < TOKEN_WAYS; w++)
            token_cache[s][w].until_ms = 0;
    pthread_mutex_unlock(&token_lock);
}

void
api_token_cache_counts(uint64_t *hits, uint64_t *misses)
{
    *hits = __atomic_load_n(&token_hits, __ATOMIC_RELAXED);
    *misses = __atomic_load_n(&token_misses, __ATOMIC_RELAXED);
}

static int
cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

void
api_users_forget(const int64_t *ids, size_t n)
{
    int64_t *sorted = malloc((n ? n : 1) * sizeof(*sorted));
    if (!sorted)
        abort();
    memcpy(sorted, ids, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), cmp_id);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    pthread_mutex_lock(&token_lock);
    token_forgot_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    for (size_t s = 0; n && s < TOKEN_SETS; s++)
        for (int w = 0; w < TOKEN_WAYS; w++) {
            struct cached_token *c = &token_cache[s][w];
            if (c->until_ms && bsearch(&c->user.id, sorted, n, sizeof(*sorted), cmp_id))
                c->until_ms = 0;
        }
    pthread_mutex_unlock(&token_lock);
    free(sorted);
}

static const char *bearer_token(const http_request *req);

/* Routes whose body is not a JSON document of up to KIEMTRA_MAX_JSON_BODY. */
enum route_body { BODY_JSON, BODY_SMALL, BODY_ANSWER, BODY_UPLOAD, BODY_MEDIA };
static const struct {
    void (*fn)(http_request *req);
    enum route_body body;
} route_bodies[] = {
    {h_login, BODY_SMALL},         {h_logout, BODY_SMALL},         {h_attempt_start, BODY_SMALL},
    {h_attempt_submit, BODY_SMALL}, {h_attempt_save, BODY_ANSWER}, {h_items_import, BODY_UPLOAD},
    {h_media_upload, BODY_MEDIA},
    {h_exam_login, BODY_SMALL},
    {h_roster_import, BODY_UPLOAD},
};

static enum route_body
body_kind(const struct kt_route *rt)
{
    for (size_t i = 0; i < sizeof(route_bodies) / sizeof(route_bodies[0]); i++)
        if (route_bodies[i].fn == rt->fn)
            return route_bodies[i].body;
    return BODY_JSON;
}

/* The largest body a route takes: credentials 4 KiB, an answer 64 KiB,
 * an upload KIEMTRA_MAX_BODY, other JSON KIEMTRA_MAX_JSON_BODY. Public
 * routes never take more than is read before authentication. */
static size_t
body_limit(const struct kt_route *rt)
{
    enum route_body k = body_kind(rt);
    size_t n = k == BODY_SMALL    ? 4096
               : k == BODY_ANSWER ? 65536
               : k == BODY_UPLOAD ? kt_cfg.max_body
               : k == BODY_MEDIA  ? (size_t)2 << 20 /* an image of the editor: 2 MiB */
                                  : kt_cfg.max_json_body;
    return rt->roles == ROLES_PUBLIC && n > BODY_INLINE_MAX ? BODY_INLINE_MAX : n;
}

/* Runs the route's handler; a large JSON body is parsed off the loop first. */
static void
run_handler(http_request *req, const struct kt_route *rt)
{
    if (req->body_len > BODY_INLINE_MAX && body_kind(rt) != BODY_UPLOAD &&
        body_kind(rt) != BODY_MEDIA)
        kt_body_parse(req, rt->fn);
    else
        rt->fn(req);
}

/* The caller is known: check the route's roles and run its handler, or
 * read the body first when it was left unread (kt_api_head). */
static void
dispatch(http_request *req, const struct kt_user *known)
{
    const struct kt_route *rt = &routes[req->route];
    struct kt_user *u = malloc(sizeof(*u));
    if (!u)
        abort();
    *u = *known;
    req->user = u;
    if (!(rt->roles & u->role)) {
        api_error(req, 403, "forbidden", "Bạn không có quyền thực hiện thao tác này.");
        return;
    }
    if (req->body_len < req->content_length)
        http_read_body(req, body_limit(rt));
    else
        run_handler(req, rt);
}

static void
authenticated(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    if (pg_ntuples(q, 0) != 1) {
        api_error(req, 401, "unauthenticated",
                  "Phiên đăng nhập không hợp lệ hoặc đã hết hạn, vui lòng đăng nhập lại.");
        return;
    }
    struct kt_user u = {0};
    u.id = strtoll(pg_value(q, 0, 0, 0), NULL, 10);
    const char *school = pg_value(q, 0, 0, 1);
    u.school_id = school ? strtoll(school, NULL, 10) : 0;
    u.province_id = strtoll(pg_value(q, 0, 0, 2), NULL, 10);
    snprintf(u.role_name, sizeof(u.role_name), "%s", pg_value(q, 0, 0, 3));
    u.role = role_of(u.role_name);
    snprintf(u.username, sizeof(u.username), "%s", pg_value(q, 0, 0, 4));
    const char *tok = bearer_token(req);
    if (tok) {
        char hex[67];
        api_token_hash_hex(tok, hex);
        token_remember(hex, &u, strtod(pg_value(q, 0, 0, 5), NULL), req->started_ns);
    }
    dispatch(req, &u);
}

/* Extracts the bearer token; NULL when absent or malformed. */
static const char *
bearer_token(const http_request *req)
{
    const char *h = http_header(req, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    size_t n = strlen(h);
    if (n < 16 || n > 128)
        return NULL;
    return h;
}

/* A body is read only if its route takes that much (else 413 before it is
 * read), and a body over BODY_INLINE_MAX only once the caller's token and
 * role are checked: an anonymous client cannot make the server buffer or
 * parse megabytes. */
void
kt_api_head(http_request *req)
{
    const struct kt_route *rt = NULL;
    for (int i = 0; i < NROUTES && !rt; i++)
        if (routes[i].method == req->method && route_match(req, routes[i].pattern))
            rt = &routes[i];
    free(req->path_params); /* matched again with the whole request */
    req->path_params = NULL;
    memset(req->params, 0, sizeof(req->params));
    size_t limit = rt ? body_limit(rt) : 4096;
    if (req->content_length <= BODY_INLINE_MAX || req->content_length > limit)
        http_read_body(req, limit);
    else
        kt_api_handle(req); /* authenticates, then dispatch() reads the body */
}

void
kt_api_handle(http_request *req)
{
    if (req->user) { /* signed in before its body was read */
        run_handler(req, &routes[req->route]);
        return;
    }
    int path_matched = 0;
    for (int i = 0; i < NROUTES; i++) {
        if (!route_match(req, routes[i].pattern))
            continue;
        path_matched = 1;
        if (routes[i].method != req->method &&
            !(routes[i].method == HTTP_GET && req->method == HTTP_HEAD)) {
            free(req->path_params);
            req->path_params = NULL;
            continue;
        }
        req->route = i;
        if (routes[i].roles == ROLES_PUBLIC) {
            routes[i].fn(req);
            return;
        }
        const char *tok = bearer_token(req);
        if (!tok) {
            api_error(req, 401, "unauthenticated", "Cần đăng nhập (thiếu Authorization: Bearer).");
            return;
        }
        char hex[67];
        api_token_hash_hex(tok, hex);
        struct kt_user known;
        if (token_cached(hex, &known)) {
            dispatch(req, &known);
            return;
        }
        pg_query *q = pg_query_new(NULL);
        const char *params[] = {hex};
        pg_query_add(q, "core_session_user", 1, params);
        api_run(req, q, authenticated);
        return;
    }
    if (path_matched)
        api_error(req, 405, "method_not_allowed", "Phương thức không được hỗ trợ cho địa chỉ này.");
    else if (strncmp(req->path, "/api/", 5) == 0 || !kt_static_serve(req))
        api_error(req, 404, "not_found", "Không tìm thấy địa chỉ yêu cầu.");
}

void
kt_api_observe(http_request *req, size_t body_bytes)
{
    uint64_t dur = 0;
    if (req->started_ns) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        dur = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec - req->started_ns;
    }
    kt_metrics_observe(req->worker ? req->worker->index : 0, req->route, req->status, dur);
    if (!kt_cfg.access_log)
        return;
    /* One JSON object per line; the path is escaped by jansson. */
    json_t *line = json_pack("{s:s,s:s,s:s,s:i,s:I,s:f,s:s,s:I}", "type", "access", "method",
                             req->method_name ? req->method_name : "", "path",
                             req->path ? req->path : "", "status", req->status, "bytes",
                             (json_int_t)body_bytes, "ms", (double)dur / 1e6, "peer", req->peer,
                             "user", (json_int_t)(req->user ? req->user->id : 0));
    if (!line)
        return;
    char *s = json_dumps(line, JSON_COMPACT | JSON_REAL_PRECISION(4));
    json_decref(line);
    if (s) {
        kt_log_raw(s, (int)strlen(s));
        free(s);
    }
}

/* ------------------------------------------------------------------------ */
/* Health and metrics                                                       */

static void
healthz_done(http_request *req, pg_query *q)
{
    if (q->status == PG_OK) {
        static const char ok[] = "{\"status\":\"ok\",\"database\":\"up\"}";
        api_raw_json(req, 200, ok, sizeof(ok) - 1);
    } else {
        api_error(req, 503, "database_unavailable",
                  "Cơ sở dữ liệu không phản hồi; máy chủ đang tự kết nối lại.");
    }
}

/* Readiness, what HAProxy checks: 200 while the database answers. The ping
 * goes ahead of the queued work: during a login or start storm the queue is
 * long but the gateway is working, and waiting behind it made HAProxy's
 * check time out and take every gateway out of rotation at once. */
static void
h_healthz(http_request *req)
{
    pg_query *q = pg_query_new(NULL);
    pg_query_add(q, "core_ping", 0, NULL);
    pg_query_first(q);
    api_run(req, q, healthz_done);
}

/* Liveness: the process answers; says nothing about the database. */
static void
h_livez(http_request *req)
{
    static const char ok[] = "{\"status\":\"ok\"}";
    api_raw_json(req, 200, ok, sizeof(ok) - 1);
}

static void
h_metrics(http_request *req)
{
    size_t len = 0;
    char *text = kt_metrics_render(&len);
    if (!text) {
        api_error(req, 500, "internal", "Lỗi nội bộ máy chủ.");
        return;
    }
    http_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}

/* Opaque keyset cursors of the list routes: base64url("<tag>1:<last id>"),
 * one tag per list so a cursor of one list is refused by another. */
void
kt_cursor_encode(char tag, const char *id, char *out, size_t n)
{
    char raw[40];
    snprintf(raw, sizeof(raw), "%c1:%s", tag, id);
    sodium_bin2base64(out, n, (const unsigned char *)raw, strlen(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

long long
kt_cursor_decode(char tag, const char *c)
{
    unsigned char raw[40];
    size_t len = 0;
    if (strlen(c) > 40 ||
        sodium_base642bin(raw, sizeof(raw) - 1, c, strlen(c), NULL, &len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return -1;
    raw[len] = '\0';
    const char *s = (const char *)raw;
    if (len < 4 || s[0] != tag || strncmp(s + 1, "1:", 2) != 0 || strlen(s) != len ||
        strlen(s + 3) > 18 || s[3 + strspn(s + 3, "0123456789")])
        return -1;
    long long v = strtoll(s + 3, NULL, 10);
    return v > 0 ? v : -1;
}

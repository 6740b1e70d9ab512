/*
 * Accounts from the web: the school's users (list and search, keyset
 * pages), creating and editing accounts, password resets (one account, or a
 * whole class with login slips to print) and the class roster import (.xlsx
 * or .csv, with a dry run). Passwords are generated here, shown once in the
 * reply and stored only as argon2id, hashed on the CPU pool a few at a time
 * so that logins keep their turn. Who may manage whom is checked here (403)
 * and again by the database (kt_may_manage_user, migration 0022); every
 * change writes audit rows in its own transaction, and ending an account's
 * sessions also forgets its remembered tokens in every worker.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "api.h"
#include "cli.h"
#include "cpupool.h"
#include "csv.h"
#include "item.h"
#include "roster.h"
#include "roster_db.h"
#include "server.h"
#include "text.h"
#include "xlsx.h"

#define LIST_DEFAULT 50
#define LIST_MAX 200
#define MAX_Q_BYTES 200
#define NAME_MAX_CHARS 100
#define CODE_MAX_CHARS 20
#define USERNAME_MIN 3
#define USERNAME_MAX 64
#define PASSWORD_MIN 8   /* the policy of `kiemtra users add` */
#define PASSWORD_MAX 256 /* the longest password a login takes */
#define PASSWORD_LEN 10  /* generated: 10 characters without look-alikes */
#define SLIPS_MAX 2000
#define HASH_CHUNK 4     /* hashes per CPU job (about 0.1 s) */
#define HASH_IN_FLIGHT 2 /* CPU jobs of one request at a time */

/* One account's row as the API shows it; the WHERE clause follows. */
#define USER_JSON(u)                                                                               \
    "json_build_object('id', " u ".id, 'username', " u ".username, 'full_name', " u ".full_name," \
    " 'role', " u ".role, 'student_code', " u ".student_code, 'subject', " u ".subject,"          \
    " 'disabled', " u ".disabled,"                                                                 \
    " 'classes', (SELECT coalesce(json_agg(json_build_object('id', c.id, 'name', c.name,"         \
    "   'school_year', c.school_year) ORDER BY c.school_year DESC, c.name), '[]')"                 \
    "   FROM class_members m JOIN classes c ON c.id = m.class_id WHERE m.user_id = " u ".id),"   \
    " 'created_at', " u ".created_at)"

static const struct pg_stmt_def users_stmts[] = {
    /* A teacher or subject head sees the students of the classes they
     * teach; a school admin everyone of the school. */
    {"users_list",
     "WITH page AS ("
     " SELECT u.id, u.username, u.full_name, u.role, u.student_code, u.subject, u.disabled,"
     "  u.created_at FROM users u"
     " WHERE u.school_id = kt_school() AND u.id > $1::bigint"
     "  AND (kt_role() = 'school_admin' OR (u.role = 'student' AND EXISTS (SELECT 1"
     "   FROM class_members m WHERE m.user_id = u.id AND kt_teaches_any(m.class_id))))"
     "  AND ($2::text IS NULL OR u.role::text = $2::text)"
     "  AND ($3::bigint IS NULL OR EXISTS (SELECT 1 FROM class_members m"
     "   WHERE m.user_id = u.id AND m.class_id = $3::bigint))"
     "  AND ($4::text IS NULL OR kt_search_fold(u.username || ' ' || u.full_name || ' '"
     "   || coalesce(u.student_code, '')) LIKE $4::text)"
     "  AND ($5::boolean IS NULL OR u.disabled = $5::boolean)"
     " ORDER BY u.id LIMIT $6::integer + 1),"
     " shown AS (SELECT * FROM page ORDER BY id LIMIT $6::integer)"
     " SELECT coalesce((SELECT json_agg(" USER_JSON("shown") " ORDER BY shown.id) FROM shown),"
     "  '[]'),"
     " CASE WHEN (SELECT count(*) FROM page) > $6::integer THEN (SELECT max(id) FROM shown) END"},
    /* $1 username, $2 student code, $3 class -> (username taken, code
     * taken, class found) */
    {"users_create_check",
     "SELECT kt_username_elsewhere($1::text) OR EXISTS (SELECT 1 FROM users"
     "  WHERE username = $1::text),"
     " $2::text IS NOT NULL AND EXISTS (SELECT 1 FROM users WHERE school_id = kt_school()"
     "  AND student_code = $2::text),"
     " $3::bigint IS NULL OR EXISTS (SELECT 1 FROM classes WHERE id = $3::bigint)"},
    /* Inserts only when the checks above pass (the same pipeline). */
    {"users_create",
     "WITH ok AS (SELECT NOT kt_username_elsewhere($1::text)"
     "  AND NOT EXISTS (SELECT 1 FROM users WHERE username = $1::text)"
     "  AND ($6::text IS NULL OR NOT EXISTS (SELECT 1 FROM users WHERE school_id = kt_school()"
     "   AND student_code = $6::text))"
     "  AND ($7::bigint IS NULL OR EXISTS (SELECT 1 FROM classes WHERE id = $7::bigint)) AS ok),"
     " u AS (INSERT INTO users (province_id, school_id, username, full_name, role, password_hash,"
     "   subject, student_code, birth_date, gender)"
     "  SELECT s.province_id, s.id, $1::text, $2::text, $3::text::user_role, $4::text, $5::text,"
     "   $6::text, $8::date, $9::smallint FROM schools s, ok WHERE s.id = kt_school() AND ok.ok"
     "  RETURNING id, school_id, username, full_name, role, student_code, subject, disabled,"
     "   created_at),"
     " m AS (INSERT INTO class_members (class_id, user_id, school_id)"
     "  SELECT $7::bigint, u.id, u.school_id FROM u WHERE $7::bigint IS NOT NULL RETURNING 1),"
     " a AS (INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, new_value)"
     "  SELECT u.school_id, $10::bigint, 'user.create', 'user', u.id::text,"
     "   jsonb_build_object('username', u.username, 'full_name', u.full_name, 'role', u.role,"
     "   'subject', u.subject, 'student_code', u.student_code, 'class_id', $7::bigint,"
     "   'password', CASE WHEN $11::boolean THEN 'generated' ELSE 'given' END) FROM u"
     "  RETURNING 1)"
     " SELECT json_build_object('id', u.id, 'username', u.username, 'full_name', u.full_name,"
     "  'role', u.role, 'student_code', u.student_code, 'subject', u.subject,"
     "  'disabled', u.disabled, 'classes', (SELECT coalesce(json_agg(json_build_object("
     "   'id', c.id, 'name', c.name, 'school_year', c.school_year)), '[]') FROM classes c"
     "   WHERE c.id = $7::bigint), 'created_at', u.created_at),"
     "  (SELECT count(*) FROM m), (SELECT count(*) FROM a) FROM u"},
    {"users_role_of",
     "SELECT role::text FROM users WHERE id = $1::bigint AND school_id = kt_school()"},
    /* $1 id, $2 full_name, $3 subject given, $4 subject, $5 role,
     * $6 disabled, $7 actor -> (user, sessions ended, forget tokens) */
    {"users_patch",
     "WITH o AS (SELECT id, school_id, full_name, subject, role, disabled FROM users"
     "  WHERE id = $1::bigint AND school_id = kt_school() AND role <> 'admin' FOR UPDATE),"
     " u AS (UPDATE users x SET full_name = coalesce($2::text, x.full_name),"
     "   subject = CASE WHEN $3::boolean THEN $4::text ELSE x.subject END,"
     "   role = coalesce($5::text::user_role, x.role),"
     "   disabled = coalesce($6::boolean, x.disabled)"
     "  FROM o WHERE x.id = o.id"
     "   AND ($5::text IS NULL OR ($5::text = 'student') = (o.role = 'student'))"
     "   AND (NOT $3::boolean OR $4::text IS NULL OR o.role <> 'student')"
     "  RETURNING x.id, x.school_id, x.username, x.full_name, x.role, x.student_code, x.subject,"
     "   x.disabled, x.created_at),"
     " e AS (SELECT kt_account_sessions_end(u.id) AS n FROM u, o"
     "  WHERE u.disabled AND NOT o.disabled),"
     " a AS (INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, old_value,"
     "   new_value)"
     "  SELECT u.school_id, $7::bigint, 'user.update', 'user', u.id::text,"
     "   jsonb_build_object('full_name', o.full_name, 'subject', o.subject, 'role', o.role,"
     "    'disabled', o.disabled),"
     "   jsonb_build_object('full_name', u.full_name, 'subject', u.subject, 'role', u.role,"
     "    'disabled', u.disabled, 'sessions_ended', (SELECT n FROM e))"
     "  FROM u, o RETURNING 1)"
     " SELECT " USER_JSON("u") ", (SELECT n FROM e),"
     "  o.role <> u.role OR (u.disabled AND NOT o.disabled), (SELECT count(*) FROM a)"
     " FROM u, o"},
    /* Whether the caller may reset the account's password. */
    {"users_manage_check",
     "SELECT u.role::text, kt_may_manage_user(u.id), u.username FROM users u"
     " WHERE u.id = $1::bigint AND u.school_id = kt_school()"},
    /* $1 [{id, hash}], $2 class (only its students) or NULL, $3 actor:
     * sets the passwords the caller may set, ends those accounts' sessions
     * and login delays, one audit row per account -> [ids] */
    {"users_password_set",
     "WITH x AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id bigint, hash text)),"
     " u AS (UPDATE users u SET password_hash = x.hash FROM x"
     "  WHERE u.id = x.id AND kt_may_manage_user(u.id)"
     "   AND ($2::bigint IS NULL OR EXISTS (SELECT 1 FROM class_members m"
     "    WHERE m.user_id = u.id AND m.class_id = $2::bigint))"
     "  RETURNING u.id, u.school_id),"
     " e AS (SELECT u.id, u.school_id, kt_account_sessions_end(u.id) AS n FROM u),"
     " a AS (INSERT INTO audit_log (school_id, actor_id, action, entity, entity_id, new_value)"
     "  SELECT e.school_id, $3::bigint, 'user.password_reset', 'user', e.id::text,"
     "   jsonb_build_object('by', $3::bigint, 'sessions_ended', e.n,"
     "    'slips_of_class', $2::bigint) FROM e RETURNING 1)"
     " SELECT coalesce((SELECT json_agg(e.id ORDER BY e.id) FROM e), '[]'),"
     "  (SELECT count(*) FROM a)"},
    /* The class, whether the caller teaches it, and its students (those
     * listed in $2 when given), in Vietnamese order. */
    {"class_slip_targets",
     "SELECT json_build_object('id', c.id, 'name', c.name, 'allowed', kt_teaches_any(c.id),"
     " 'students', (SELECT coalesce(json_agg(json_build_object('id', u.id,"
     "   'username', u.username, 'full_name', u.full_name, 'student_code', u.student_code)"
     "   ORDER BY regexp_replace(u.full_name, '^.* ', '') COLLATE \"vi-x-icu\","
     "   u.full_name COLLATE \"vi-x-icu\", u.id), '[]')"
     "  FROM class_members m JOIN users u ON u.id = m.user_id"
     "  WHERE m.class_id = c.id AND u.role = 'student'"
     "   AND ($2::jsonb IS NULL OR u.id IN (SELECT jsonb_array_elements_text($2::jsonb)::bigint))))"
     " FROM classes c WHERE c.id = $1::bigint"},
    {"roster_plan", KT_SQL_ROSTER_PLAN},
    {"roster_store", KT_SQL_ROSTER_STORE},
};

void
kt_users_register(void)
{
    pg_register_statements(users_stmts, (int)(sizeof(users_stmts) / sizeof(users_stmts[0])));
}

/* ------------------------------------------------------------------------ */
/* Password hashing, a few accounts per CPU job                             */

struct account {
    int64_t id;                        /* 0: not yet created */
    const char *code;                  /* roster: the student code (key of its hash) */
    char password[PASSWORD_MAX + 1];
    char hash[crypto_pwhash_STRBYTES];
};

struct hashing {
    http_request *req;
    struct account *acc;
    size_t n;
    size_t next;      /* first account not yet handed to a job */
    size_t in_flight; /* jobs running */
    int failed;
    void (*done)(http_request *req, struct hashing *h);
};

struct hash_chunk {
    struct hashing *h;
    size_t from, to;
    int failed;
};

static void hash_next(struct hashing *h);

static void
hash_chunk_work(void *arg)
{
    struct hash_chunk *c = arg;
    for (size_t i = c->from; i < c->to; i++) {
        struct account *a = &c->h->acc[i];
        if (!a->password[0])
            kt_password_random(a->password, PASSWORD_LEN + 1);
        if (kt_password_hash(a->password, a->hash) != 0)
            c->failed = 1;
    }
}

static void
hash_chunk_done(void *arg)
{
    struct hash_chunk *c = arg;
    struct hashing *h = c->h;
    h->failed |= c->failed;
    h->in_flight--;
    free(c);
    hash_next(h);
}

/* Hands the next chunks to the CPU pool; calls done once all are hashed. */
static void
hash_next(struct hashing *h)
{
    while (h->in_flight < HASH_IN_FLIGHT && h->next < h->n) {
        struct hash_chunk *c = calloc(1, sizeof(*c));
        if (!c)
            abort();
        c->h = h;
        c->from = h->next;
        c->to = h->next + HASH_CHUNK < h->n ? h->next + HASH_CHUNK : h->n;
        h->next = c->to;
        h->in_flight++;
        kt_cpu_submit(h->req->worker->base, hash_chunk_work, hash_chunk_done, c);
    }
    if (h->in_flight == 0 && h->next >= h->n)
        h->done(h->req, h);
}

static void
hashing_start(struct hashing *h, http_request *req,
              void (*done)(http_request *req, struct hashing *h))
{
    h->req = req;
    h->done = done;
    h->next = h->in_flight = 0;
    h->failed = 0;
    hash_next(h);
}

static void
hashing_clear(struct hashing *h)
{
    if (h->acc)
        sodium_memzero(h->acc, h->n * sizeof(*h->acc));
    free(h->acc);
    h->acc = NULL;
    h->n = 0;
}

/* [{id, hash}] of the accounts (malloc'd JSON text). */
static char *
hashes_json(const struct hashing *h)
{
    json_t *a = json_array();
    for (size_t i = 0; i < h->n; i++)
        json_array_append_new(a, json_pack("{s:I,s:s}", "id", (json_int_t)h->acc[i].id, "hash",
                                           h->acc[i].hash));
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    if (!s)
        abort();
    return s;
}

static void
free_secret_text(char *s)
{
    if (s) {
        sodium_memzero(s, strlen(s));
        free(s);
    }
}

/* ------------------------------------------------------------------------ */
/* Request state                                                            */

struct users_req {
    struct hashing h;
    json_t *body;          /* the request's JSON, or NULL */
    json_t *targets;       /* slips: the students; create: the user's fields */
    int64_t id;            /* the account (or class) of the path */
    int generated;         /* create: the password was generated */
    char *hashes;          /* [{id, hash}] sent to the database */
    /* roster import */
    int dry_run;
    char year[24];
    kt_roster roster;
    int have_roster;
    char *students;        /* the roster as JSON */
    json_t *errors;        /* row errors */
    json_t *plan;
    char *hash_map;        /* {code: hash} */
    char read_error[256];
};

static void
users_req_free(void *p)
{
    struct users_req *r = p;
    hashing_clear(&r->h);
    json_decref(r->body);
    json_decref(r->targets);
    json_decref(r->errors);
    json_decref(r->plan);
    free_secret_text(r->hashes);
    free_secret_text(r->hash_map);
    free(r->students);
    if (r->have_roster)
        kt_roster_free(&r->roster);
    free(r);
}

static struct users_req *
users_req_new(http_request *req)
{
    struct users_req *r = calloc(1, sizeof(*r));
    if (!r)
        abort();
    req->ctx = r;
    req->ctx_free = users_req_free;
    return r;
}

static void
field(json_t *problems, const char *name, const char *message)
{
    json_array_append_new(problems, json_pack("{s:s,s:s}", "field", name, "message", message));
}

static void
invalid_fields(http_request *req, json_t *problems)
{
    char msg[200];
    snprintf(msg, sizeof(msg), "Thông tin tài khoản chưa hợp lệ: có %zu lỗi cần sửa (xem chi tiết).",
             json_array_size(problems));
    api_error_details(req, 422, "invalid_fields", msg, problems);
}

static size_t
utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static int
username_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < USERNAME_MIN || n > USERNAME_MAX || !isalnum((unsigned char)s[0]))
        return 0;
    return s[strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-")] == '\0';
}

static int
student_code_valid(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= CODE_MAX_CHARS &&
           s[strspn(s, "0123456789-_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")] == '\0';
}

static int
role_valid(const char *s)
{
    return s && (strcmp(s, "teacher") == 0 || strcmp(s, "subject_head") == 0 ||
                 strcmp(s, "school_admin") == 0 || strcmp(s, "student") == 0);
}

/* "YYYY-MM-DD" or "DD/MM/YYYY" of a real day since 1900 into out
 * (YYYY-MM-DD); 0 when it is not one. */
static int
parse_date(const char *s, char out[11])
{
    int y, m, d;
    char tail;
    if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 &&
        sscanf(s, "%2d/%2d/%4d%c", &d, &m, &y, &tail) != 3)
        return 0;
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    if (y < 1900 || y > tm.tm_year + 1900 || m < 1 || m > 12 || d < 1 || d > days[m - 1] ||
        (m == 2 && d == 29 && !leap))
        return 0;
    snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u, (unsigned)d % 100u);
    return 1;
}

/* The cleaned full name (malloc'd) or NULL after adding a problem. */
static char *
clean_name(json_t *v, json_t *problems)
{
    const char *s = json_string_value(v);
    char *clean = s ? kt_text_clean(s, strlen(s)) : NULL;
    if (!clean || !*clean || utf8_chars(clean) > NAME_MAX_CHARS) {
        free(clean);
        field(problems, "full_name", "Họ và tên (full_name) phải có từ 1 đến 100 ký tự.");
        return NULL;
    }
    return clean;
}

/* ------------------------------------------------------------------------ */
/* GET /api/v1/users                                                        */

/* "%folded%" with LIKE's wildcards escaped; NULL when q folds to nothing. */
static char *
like_pattern(const char *folded)
{
    size_t n = strlen(folded);
    if (!n)
        return NULL;
    char *p = malloc(2 * n + 3), *o = p;
    if (!p)
        abort();
    *o++ = '%';
    for (const char *s = folded; *s; s++) {
        if (*s == '%' || *s == '_' || *s == '\\')
            *o++ = '\\';
        *o++ = *s;
    }
    *o++ = '%';
    *o = '\0';
    return p;
}

static void
list_done(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    const char *j = pg_value(q, 0, 0, 0);
    json_t *users = json_loads(j ? j : "[]", 0, NULL);
    const char *last = pg_value(q, 0, 0, 1);
    json_t *next = json_null();
    if (last) {
        char c[80];
        kt_cursor_encode('u', last, c, sizeof(c));
        next = json_string(c);
    }
    api_json(req, 200,
             json_pack("{s:o,s:o}", "users", users ? users : json_array(), "next_cursor", next));
}

void
h_users_list(http_request *req)
{
    char *role = api_query_text(req, "role"), *cls = api_query_text(req, "class_id"),
         *q = api_query_text(req, "q"), *disabled = api_query_text(req, "disabled"),
         *limit = api_query_text(req, "limit"), *cursor = api_query_text(req, "cursor");
    char *folded = NULL, *pattern = NULL;
    const char *bad = NULL, *dis = NULL;
    long long after = 0;
    if (role && !role_valid(role))
        bad = "Tham số role phải là teacher, subject_head, school_admin hoặc student.";
    if (cls && api_bounded(cls, 1, 999999999) < 0)
        bad = "Tham số class_id phải là mã số của một lớp.";
    if (disabled) {
        if (strcmp(disabled, "true") == 0 || strcmp(disabled, "1") == 0)
            dis = "true";
        else if (strcmp(disabled, "false") == 0 || strcmp(disabled, "0") == 0)
            dis = "false";
        else
            bad = "Tham số disabled phải là true hoặc false.";
    }
    long n = limit ? api_bounded(limit, 1, LIST_MAX) : LIST_DEFAULT;
    if (n < 0)
        bad = "Tham số limit phải là số từ 1 đến 200.";
    if (cursor && (after = kt_cursor_decode('u', cursor)) < 0)
        bad = "Tham số cursor không hợp lệ; hãy dùng đúng giá trị next_cursor đã nhận.";
    if (q) {
        if (strlen(q) > MAX_Q_BYTES)
            bad = "Từ khoá tìm kiếm (q) quá dài.";
        else if (!(folded = kt_fold(q, strlen(q))))
            bad = "Từ khoá tìm kiếm (q) không phải văn bản UTF-8 hợp lệ.";
        else
            pattern = like_pattern(folded);
    }
    if (bad) {
        api_error(req, 400, "invalid_parameter", bad);
        goto out;
    }
    char after_s[24], lim[24];
    snprintf(after_s, sizeof(after_s), "%lld", after);
    snprintf(lim, sizeof(lim), "%ld", n);
    const char *params[] = {after_s, role, cls, pattern, dis, lim};
    pg_query *pq = api_query(req);
    pg_query_add(pq, "users_list", 6, params);
    api_run(req, pq, list_done);
out:
    free(role);
    free(cls);
    free(q);
    free(disabled);
    free(limit);
    free(cursor);
    free(folded);
    free(pattern);
}

/* ------------------------------------------------------------------------ */
/* POST /api/v1/users                                                       */

static void
create_done(http_request *req, pg_query *q)
{
    struct users_req *r = req->ctx;
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    const char *user = pg_ntuples(q, 1) == 1 ? pg_value(q, 1, 0, 0) : NULL;
    if (!user) {
        int name_taken = pg_value(q, 0, 0, 0) && pg_value(q, 0, 0, 0)[0] == 't';
        int code_taken = pg_value(q, 0, 0, 1) && pg_value(q, 0, 0, 1)[0] == 't';
        int class_found = pg_value(q, 0, 0, 2) && pg_value(q, 0, 0, 2)[0] == 't';
        json_t *problems = json_array();
        if (!class_found) {
            field(problems, "class_id", "Không tìm thấy lớp này (class_id) trong trường.");
            invalid_fields(req, problems);
            return;
        }
        if (name_taken)
            field(problems, "username", "Tên đăng nhập (username) này đã có người dùng.");
        if (code_taken)
            field(problems, "student_code", "Mã học sinh (student_code) này đã có trong trường.");
        if (!name_taken && !code_taken)
            field(problems, "username", "Tài khoản vừa được tạo bởi một yêu cầu khác.");
        api_error_details(req, 409, "conflict", "Tài khoản trùng với một tài khoản đã có.",
                          problems);
        return;
    }
    json_t *u = json_loads(user, 0, NULL);
    json_t *body = json_pack("{s:o}", "user", u ? u : json_object());
    if (r->generated)
        json_object_set_new(body, "password", json_string(r->h.acc[0].password));
    api_json(req, 201, body);
}

static void
create_hashed(http_request *req, struct hashing *h)
{
    struct users_req *r = req->ctx;
    if (h->failed) {
        api_error(req, 500, "internal", "Không tạo được mật khẩu, vui lòng thử lại.");
        return;
    }
    json_t *t = r->targets;
#define S(k) json_string_value(json_object_get(t, k))
    char actor[24];
    api_id_text(actor, req->user->id);
    const char *check[] = {S("username"), S("student_code"), S("class_id")};
    const char *params[] = {S("username"),   S("full_name"), S("role"),       h->acc[0].hash,
                            S("subject"),    S("student_code"), S("class_id"), S("birth_date"),
                            S("gender"),     actor,          r->generated ? "true" : "false"};
#undef S
    pg_query *q = api_query(req);
    pg_query_add(q, "users_create_check", 3, check);
    pg_query_add(q, "users_create", 11, params);
    api_run(req, q, create_done);
}

void
h_user_create(http_request *req)
{
    if (!req->user->school_id) {
        api_error(req, 403, "forbidden", "Chỉ quản trị của một trường mới tạo được tài khoản.");
        return;
    }
    json_t *b = api_body_object(req);
    if (!b)
        return;
    struct users_req *r = users_req_new(req);
    r->body = b;
    json_t *problems = json_array(), *t = json_object();
    r->targets = t;
    const char *role = json_string_value(json_object_get(b, "role"));
    int student = role && strcmp(role, "student") == 0;
    if (!role_valid(role))
        field(problems, "role",
              "Vai trò (role) phải là teacher, subject_head, school_admin hoặc student.");
    else
        json_object_set_new(t, "role", json_string(role));

    char *name = clean_name(json_object_get(b, "full_name"), problems);
    if (name)
        json_object_set_new(t, "full_name", json_string(name));
    free(name);

    json_t *code = json_object_get(b, "student_code"), *cls = json_object_get(b, "class_id");
    if (student) {
        if (!json_is_string(code) || !student_code_valid(json_string_value(code)))
            field(problems, "student_code",
                  "Mã học sinh (student_code) bắt buộc với học sinh: tối đa 20 chữ cái không dấu,"
                  " chữ số, '-' hoặc '_'.");
        else
            json_object_set(t, "student_code", code);
        if (!json_is_integer(cls) || json_integer_value(cls) <= 0) {
            field(problems, "class_id", "Lớp (class_id) bắt buộc với học sinh.");
        } else {
            char id[24];
            api_id_text(id, json_integer_value(cls));
            json_object_set_new(t, "class_id", json_string(id));
        }
    } else if (role) {
        if (code && !json_is_null(code))
            field(problems, "student_code", "Chỉ học sinh mới có mã học sinh (student_code).");
        if (cls && !json_is_null(cls))
            field(problems, "class_id", "Chỉ học sinh mới được xếp vào lớp (class_id).");
    }

    json_t *subject = json_object_get(b, "subject");
    if (subject && !json_is_null(subject)) {
        if (student)
            field(problems, "subject", "Học sinh không có môn phụ trách (subject).");
        else if (!kt_item_code_valid(json_string_value(subject)))
            field(problems, "subject", "Môn (subject) phải là mã môn viết in hoa, ví dụ TOAN.");
        else
            json_object_set(t, "subject", subject);
    }

    json_t *username = json_object_get(b, "username");
    if (username && !json_is_null(username)) {
        if (!json_is_string(username) || !username_valid(json_string_value(username)))
            field(problems, "username",
                  "Tên đăng nhập (username) phải có 3 đến 64 ký tự: chữ thường không dấu, chữ số,"
                  " '.', '_' hoặc '-', bắt đầu bằng chữ hoặc số.");
        else
            json_object_set(t, "username", username);
    } else if (student && json_object_get(t, "student_code")) {
        char u[CODE_MAX_CHARS + 1];
        snprintf(u, sizeof(u), "%s", json_string_value(json_object_get(t, "student_code")));
        for (char *p = u; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        if (username_valid(u))
            json_object_set_new(t, "username", json_string(u));
        else
            field(problems, "username",
                  "Mã học sinh quá ngắn để làm tên đăng nhập; hãy nhập tên đăng nhập (username).");
    } else if (!student) {
        field(problems, "username", "Cần tên đăng nhập (username).");
    }

    json_t *birth = json_object_get(b, "birth_date");
    if (birth && !json_is_null(birth)) {
        char d[11];
        if (!json_is_string(birth) || !parse_date(json_string_value(birth), d))
            field(problems, "birth_date",
                  "Ngày sinh (birth_date) phải là một ngày có thật, dạng YYYY-MM-DD hoặc"
                  " DD/MM/YYYY.");
        else
            json_object_set_new(t, "birth_date", json_string(d));
    }
    json_t *gender = json_object_get(b, "gender");
    if (gender && !json_is_null(gender)) {
        if (!json_is_integer(gender) || json_integer_value(gender) < 0 ||
            json_integer_value(gender) > 2)
            field(problems, "gender", "Giới tính (gender) phải là 0 (không rõ), 1 (nam) hoặc 2 (nữ).");
        else
            json_object_set_new(t, "gender",
                                json_string(json_integer_value(gender) == 1   ? "1"
                                            : json_integer_value(gender) == 2 ? "2"
                                                                              : "0"));
    } else {
        json_object_set_new(t, "gender", json_string("0"));
    }

    json_t *pw = json_object_get(b, "password");
    const char *pws = json_string_value(pw);
    if (pw && !json_is_null(pw) &&
        (!pws || strlen(pws) < PASSWORD_MIN || strlen(pws) > PASSWORD_MAX ||
         !kt_utf8_valid(pws, strlen(pws))))
        field(problems, "password",
              "Mật khẩu (password) phải có từ 8 đến 256 ký tự; bỏ trống để hệ thống tạo mật khẩu.");

    if (json_array_size(problems)) {
        invalid_fields(req, problems);
        return;
    }
    json_decref(problems);
    r->h.acc = calloc(1, sizeof(*r->h.acc));
    if (!r->h.acc)
        abort();
    r->h.n = 1;
    r->generated = !pws;
    if (pws)
        snprintf(r->h.acc[0].password, sizeof(r->h.acc[0].password), "%s", pws);
    hashing_start(&r->h, req, create_hashed);
}

/* ------------------------------------------------------------------------ */
/* PATCH /api/v1/users/{id}                                                 */

static void
patch_done(http_request *req, pg_query *q)
{
    struct users_req *r = req->ctx;
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    const char *old_role = pg_ntuples(q, 0) == 1 ? pg_value(q, 0, 0, 0) : NULL;
    if (!old_role) {
        api_error(req, 404, "not_found", "Không tìm thấy tài khoản này trong trường.");
        return;
    }
    const char *user = pg_ntuples(q, 1) == 1 ? pg_value(q, 1, 0, 0) : NULL;
    if (!user) {
        json_t *problems = json_array();
        const char *role = json_string_value(json_object_get(r->body, "role"));
        int was_student = strcmp(old_role, "student") == 0;
        if (role && (strcmp(role, "student") == 0) != was_student)
            field(problems, "role",
                  "Không đổi được học sinh thành cán bộ, giáo viên hay ngược lại; hãy tạo tài"
                  " khoản mới.");
        if (was_student && json_string_value(json_object_get(r->body, "subject")))
            field(problems, "subject", "Học sinh không có môn phụ trách (subject).");
        if (json_array_size(problems)) {
            invalid_fields(req, problems);
        } else {
            json_decref(problems);
            api_error(req, 409, "conflict", "Tài khoản vừa được thay đổi, vui lòng thử lại.");
        }
        return;
    }
    const char *forget = pg_value(q, 1, 0, 2);
    if (forget && forget[0] == 't')
        api_users_forget(&r->id, 1);
    api_raw_json(req, 200, user, strlen(user));
}

void
h_user_patch(http_request *req)
{
    int64_t id = api_param_id(req, 0);
    if (!id) {
        api_error(req, 404, "not_found", "Không tìm thấy tài khoản này trong trường.");
        return;
    }
    json_t *b = api_body_object(req);
    if (!b)
        return;
    struct users_req *r = users_req_new(req);
    r->body = b;
    r->id = id;
    json_t *problems = json_array();
    int self = id == req->user->id, any = 0;
    char *name = NULL;
    json_t *fn = json_object_get(b, "full_name");
    if (fn) {
        any = 1;
        name = clean_name(fn, problems);
    }
    json_t *subject = json_object_get(b, "subject");
    if (subject) {
        any = 1;
        if (!json_is_null(subject) && !kt_item_code_valid(json_string_value(subject)))
            field(problems, "subject",
                  "Môn (subject) phải là mã môn viết in hoa, ví dụ TOAN, hoặc null để bỏ.");
    }
    json_t *rolev = json_object_get(b, "role");
    const char *role = json_string_value(rolev);
    if (rolev) {
        any = 1;
        if (!role_valid(role))
            field(problems, "role",
                  "Vai trò (role) phải là teacher, subject_head hoặc school_admin (học sinh giữ"
                  " vai trò student).");
        else if (self && strcmp(role, req->user->role_name) != 0)
            field(problems, "role", "Không tự đổi được vai trò của chính mình.");
    }
    json_t *dis = json_object_get(b, "disabled");
    if (dis) {
        any = 1;
        if (!json_is_boolean(dis))
            field(problems, "disabled", "disabled phải là true (khoá) hoặc false (mở khoá).");
        else if (self && json_is_true(dis))
            field(problems, "disabled", "Không tự khoá được tài khoản của chính mình.");
    }
    if (!any)
        field(problems, "full_name",
              "Không có gì để sửa: hãy gửi full_name, subject, role hoặc disabled.");
    if (json_array_size(problems)) {
        free(name);
        invalid_fields(req, problems);
        return;
    }
    json_decref(problems);
    char sid[24], actor[24];
    api_id_text(sid, id);
    api_id_text(actor, req->user->id);
    const char *old[] = {sid};
    const char *params[] = {sid,
                            name,
                            subject ? "true" : "false",
                            json_string_value(subject),
                            role,
                            dis ? (json_is_true(dis) ? "true" : "false") : NULL,
                            actor};
    pg_query *q = api_query(req);
    pg_query_add(q, "users_role_of", 1, old);
    pg_query_add(q, "users_patch", 7, params);
    free(name);
    api_run(req, q, patch_done);
}

/* ------------------------------------------------------------------------ */
/* Password resets: one account, or a class's login slips                   */

static const char *const NOT_YOUR_STUDENT =
    "Giáo viên chỉ đặt lại được mật khẩu của học sinh các lớp mình dạy; hãy nhờ giáo viên của"
    " lớp hoặc quản trị của trường.";

/* The ids whose passwords were set, as a sorted array; the tokens of those
 * accounts are forgotten. NULL on a malformed reply. */
static int64_t *
reset_ids(const pg_query *q, size_t *n)
{
    json_t *ids = json_loads(pg_value(q, 0, 0, 0) ? pg_value(q, 0, 0, 0) : "[]", 0, NULL);
    *n = json_array_size(ids);
    int64_t *v = calloc(*n ? *n : 1, sizeof(*v));
    if (!v)
        abort();
    for (size_t i = 0; i < *n; i++)
        v[i] = json_integer_value(json_array_get(ids, i));
    json_decref(ids);
    api_users_forget(v, *n);
    return v;
}

static void
reset_done(http_request *req, pg_query *q)
{
    struct users_req *r = req->ctx;
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    size_t n;
    int64_t *ids = reset_ids(q, &n);
    free(ids);
    if (n != 1) { /* changed in between (class or role) */
        api_error(req, 403, "forbidden", NOT_YOUR_STUDENT);
        return;
    }
    api_json(req, 200,
             json_pack("{s:I,s:O,s:s}", "id", (json_int_t)r->id, "username",
                       json_object_get(r->targets, "username"), "password", r->h.acc[0].password));
}

static void
reset_hashed(http_request *req, struct hashing *h)
{
    struct users_req *r = req->ctx;
    if (h->failed) {
        api_error(req, 500, "internal", "Không tạo được mật khẩu, vui lòng thử lại.");
        return;
    }
    char actor[24];
    api_id_text(actor, req->user->id);
    r->hashes = hashes_json(h);
    const char *params[] = {r->hashes, NULL, actor};
    pg_query *q = api_query(req);
    pg_query_add(q, "users_password_set", 3, params);
    api_run(req, q, reset_done);
}

static void
reset_checked(http_request *req, pg_query *q)
{
    struct users_req *r = req->ctx;
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    if (pg_ntuples(q, 0) != 1) {
        api_error(req, 404, "not_found", "Không tìm thấy tài khoản này trong trường.");
        return;
    }
    const char *may = pg_value(q, 0, 0, 1);
    if (!may || may[0] != 't') {
        api_error(req, 403, "forbidden", NOT_YOUR_STUDENT);
        return;
    }
    r->targets = json_pack("{s:s}", "username", pg_value(q, 0, 0, 2));
    r->h.acc = calloc(1, sizeof(*r->h.acc));
    if (!r->h.acc)
        abort();
    r->h.n = 1;
    r->h.acc[0].id = r->id;
    hashing_start(&r->h, req, reset_hashed);
}

void
h_user_password_reset(http_request *req)
{
    int64_t id = api_param_id(req, 0);
    if (!id) {
        api_error(req, 404, "not_found", "Không tìm thấy tài khoản này trong trường.");
        return;
    }
    struct users_req *r = users_req_new(req);
    r->id = id;
    char sid[24];
    api_id_text(sid, id);
    const char *params[] = {sid};
    pg_query *q = api_query(req);
    pg_query_add(q, "users_manage_check", 1, params);
    api_run(req, q, reset_checked);
}

static void
slips_done(http_request *req, pg_query *q)
{
    struct users_req *r = req->ctx;
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    size_t n;
    int64_t *ids = reset_ids(q, &n);
    /* Only the accounts whose password was set (a student moved out of the
     * class in between keeps the old one). */
    json_t *slips = json_array(), *s;
    const char *cname = json_string_value(json_object_get(r->targets, "name"));
    size_t i;
    json_array_foreach(json_object_get(r->targets, "students"), i, s)
    {
        int64_t id = json_integer_value(json_object_get(s, "id"));
        int set = 0;
        for (size_t k = 0; k < n && !set; k++)
            set = ids[k] == id;
        if (!set)
            continue;
        json_t *slip = json_deep_copy(s);
        json_object_set_new(slip, "class_name", json_string(cname));
        json_object_set_new(slip, "password", json_string(r->h.acc[i].password));
        json_array_append_new(slips, slip);
    }
    free(ids);
    api_json(req, 200,
             json_pack("{s:I,s:s,s:o}", "class_id", (json_int_t)r->id, "class_name", cname,
                       "slips", slips));
}

static void
slips_hashed(http_request *req, struct hashing *h)
{
    struct users_req *r = req->ctx;
    if (h->failed) {
        api_error(req, 500, "internal", "Không tạo được mật khẩu, vui lòng thử lại.");
        return;
    }
    char actor[24], cls[24];
    api_id_text(actor, req->user->id);
    api_id_text(cls, r->id);
    r->hashes = hashes_json(h);
    const char *params[] = {r->hashes, cls, actor};
    pg_query *q = api_query(req);
    pg_query_add(q, "users_password_set", 3, params);
    api_run(req, q, slips_done);
}

static void
slips_checked(http_request *req, pg_query *q)
{
    struct users_req *r = req->ctx;
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    const char *j = pg_ntuples(q, 0) == 1 ? pg_value(q, 0, 0, 0) : NULL;
    if (!j) {
        api_error(req, 404, "not_found", "Không tìm thấy lớp học.");
        return;
    }
    r->targets = json_loads(j, 0, NULL);
    if (!json_is_true(json_object_get(r->targets, "allowed"))) {
        api_error(req, 403, "forbidden",
                  "Bạn chỉ in được phiếu đăng nhập cho lớp mình dạy; hãy nhờ giáo viên của lớp"
                  " hoặc quản trị của trường.");
        return;
    }
    json_t *students = json_object_get(r->targets, "students");
    json_t *wanted = json_object_get(r->body, "student_ids");
    if (json_array_size(wanted) && json_array_size(students) != json_array_size(wanted)) {
        json_t *missing = json_array(), *w, *s;
        size_t i, k;
        json_array_foreach(wanted, i, w)
        {
            int found = 0;
            json_array_foreach(students, k, s) found |=
                json_integer_value(json_object_get(s, "id")) == json_integer_value(w);
            if (!found)
                json_array_append(missing, w);
        }
        json_t *problems = json_array();
        json_array_append_new(problems,
                              json_pack("{s:s,s:s,s:o}", "field", "student_ids", "message",
                                        "Có học sinh không thuộc lớp này (xem ids).", "ids",
                                        missing));
        invalid_fields(req, problems);
        return;
    }
    r->h.n = json_array_size(students);
    r->h.acc = calloc(r->h.n ? r->h.n : 1, sizeof(*r->h.acc));
    if (!r->h.acc)
        abort();
    json_t *s;
    size_t i;
    json_array_foreach(students, i, s) r->h.acc[i].id = json_integer_value(json_object_get(s, "id"));
    hashing_start(&r->h, req, slips_hashed);
}

void
h_class_slips(http_request *req)
{
    int64_t id = api_param_id(req, 0);
    if (!id) {
        api_error(req, 404, "not_found", "Không tìm thấy lớp học.");
        return;
    }
    json_t *b = NULL;
    if (req->body && req->body_len) {
        if (!(b = api_body_object(req)))
            return;
    }
    struct users_req *r = users_req_new(req);
    r->body = b;
    r->id = id;
    json_t *ids = json_object_get(b, "student_ids");
    char *ids_text = NULL;
    if (ids && !json_is_null(ids)) {
        int ok = json_is_array(ids) && json_array_size(ids) > 0 &&
                 json_array_size(ids) <= SLIPS_MAX;
        json_t *v;
        size_t i, k;
        json_array_foreach(ids, i, v)
        {
            ok &= json_is_integer(v) && json_integer_value(v) > 0;
            for (k = 0; ok && k < i; k++)
                ok &= json_integer_value(json_array_get(ids, k)) != json_integer_value(v);
        }
        if (!ok) {
            json_t *problems = json_array();
            field(problems, "student_ids",
                  "student_ids phải là danh sách (không trùng, tối đa 2000) mã số học sinh, hoặc"
                  " bỏ trống để in cho cả lớp.");
            invalid_fields(req, problems);
            return;
        }
        ids_text = json_dumps(ids, JSON_COMPACT);
    }
    char sid[24];
    api_id_text(sid, id);
    const char *params[] = {sid, ids_text};
    pg_query *q = api_query(req);
    pg_query_add(q, "class_slip_targets", 2, params);
    free(ids_text);
    api_run(req, q, slips_checked);
}

/* ------------------------------------------------------------------------ */
/* POST /api/v1/rosters/import                                              */

static json_t *
row_errors_json(const kt_row_error *e, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_pack("{s:s,s:s}", "column", e[i].column, "message", e[i].message);
        json_object_set_new(o, "row", e[i].source_row ? json_integer((json_int_t)e[i].source_row)
                                                      : json_null());
        json_array_append_new(a, o);
    }
    return a;
}

/* On a CPU thread: the body as a table, then as a validated roster. */
static void
roster_parse_work(void *arg)
{
    http_request *req = arg;
    struct users_req *r = req->ctx;
    kt_table t = {0};
    int xlsx = req->body_len >= 4 && memcmp(req->body, "PK\x03\x04", 4) == 0;
    int rc = xlsx ? kt_xlsx_read_first_sheet(req->body, req->body_len, &t, r->read_error,
                                             sizeof(r->read_error))
                  : kt_csv_parse(req->body, req->body_len, &t, r->read_error,
                                 sizeof(r->read_error));
    if (rc < 0) {
        if (!r->read_error[0])
            snprintf(r->read_error, sizeof(r->read_error), "tệp hỏng");
        kt_table_free(&t);
        return;
    }
    kt_roster_from_table(&t, &r->roster);
    kt_table_free(&t);
    r->have_roster = 1;
    r->errors = row_errors_json(r->roster.errors, r->roster.nerrors);
    if (r->roster.nstudents)
        r->students = kt_roster_json(&r->roster);
}

static void
roster_error(http_request *req)
{
    struct users_req *r = req->ctx;
    char msg[200];
    snprintf(msg, sizeof(msg), "Danh sách lớp có %zu lỗi; chưa ghi dữ liệu nào (xem chi tiết).",
             json_array_size(r->errors));
    api_error_details(req, 422, "invalid_roster", msg, json_incref(r->errors));
}

/* The plan's students as the reply shows them. */
static json_t *
plan_students(const json_t *plan)
{
    json_t *out = json_array(), *s;
    size_t i;
    json_array_foreach(json_object_get(plan, "students"), i, s)
    {
        json_array_append_new(out, json_pack("{s:O,s:O,s:O,s:O,s:O,s:O}", "row",
                                             json_object_get(s, "row"), "student_code",
                                             json_object_get(s, "code"), "full_name",
                                             json_object_get(s, "name"), "class_name",
                                             json_object_get(s, "class"), "action",
                                             json_object_get(s, "action"), "user_id",
                                             json_object_get(s, "user_id")));
    }
    return out;
}

static size_t
count_action(const json_t *plan, const char *key, const char *action)
{
    size_t n = 0, i;
    json_t *s;
    json_array_foreach(json_object_get(plan, key), i, s) n +=
        strcmp(json_string_value(json_object_get(s, "action")) ?: "", action) == 0;
    return n;
}

/* Adds the plan's refusals to r->errors; true when there were any. */
static int
add_plan_errors(struct users_req *r, const json_t *plan)
{
    kt_row_error *e = NULL;
    size_t n = 0, cap = 0;
    kt_roster_plan_errors(plan, &e, &n, &cap);
    json_t *more = row_errors_json(e, n);
    json_array_extend(r->errors, more);
    json_decref(more);
    free(e);
    return n > 0;
}

static void
store_done(http_request *req, pg_query *q)
{
    struct users_req *r = req->ctx;
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    json_t *res = json_loads(pg_value(q, 0, 0, 0) ? pg_value(q, 0, 0, 0) : "null", 0, NULL);
    if (!json_is_true(json_object_get(res, "ok"))) {
        if (res && add_plan_errors(r, res))
            roster_error(req);
        else
            api_error(req, 409, "conflict", "Danh sách vừa thay đổi; hãy nhập lại.");
        json_decref(res);
        return;
    }
    json_t *logins = json_array(), *c;
    size_t i;
    json_array_foreach(json_object_get(res, "created"), i, c)
    {
        size_t row = (size_t)json_integer_value(json_object_get(c, "row"));
        const kt_roster_student *s = kt_roster_at_row(&r->roster, row);
        const char *pw = NULL;
        for (size_t k = 0; s && k < r->h.n && !pw; k++)
            if (strcmp(r->h.acc[k].code, s->student_code) == 0)
                pw = r->h.acc[k].password;
        if (!s || !pw)
            continue;
        json_array_append_new(logins,
                              json_pack("{s:O,s:O,s:s,s:s,s:s,s:s}", "id", json_object_get(c, "id"),
                                        "username", json_object_get(c, "username"), "full_name",
                                        s->full_name, "student_code", s->student_code,
                                        "class_name", s->class_name, "password", pw));
    }
    json_t *reply = json_pack("{s:b,s:s,s:O,s:o,s:I,s:I,s:o}", "dry_run", 0, "school_year",
                              r->year, "classes", json_object_get(res, "classes"), "students",
                              plan_students(r->plan), "created",
                              (json_int_t)json_array_size(logins), "updated",
                              json_integer_value(json_object_get(res, "updated")), "logins",
                              logins);
    json_decref(res);
    api_json(req, 200, reply);
}

static void
roster_hashed(http_request *req, struct hashing *h)
{
    struct users_req *r = req->ctx;
    if (h->failed) {
        api_error(req, 500, "internal", "Không tạo được mật khẩu, vui lòng thử lại.");
        return;
    }
    json_t *m = json_object();
    for (size_t i = 0; i < h->n; i++)
        json_object_set_new(m, h->acc[i].code, json_string(h->acc[i].hash));
    r->hash_map = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    if (!r->hash_map)
        abort();
    char actor[24];
    api_id_text(actor, req->user->id);
    const char *params[] = {r->year, r->students, r->hash_map, actor};
    pg_query *q = api_query(req);
    pg_query_add(q, "roster_store", 4, params);
    api_run(req, q, store_done);
}

static void
plan_done(http_request *req, pg_query *q)
{
    struct users_req *r = req->ctx;
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    r->plan = json_loads(pg_value(q, 0, 0, 0) ? pg_value(q, 0, 0, 0) : "{}", 0, NULL);
    add_plan_errors(r, r->plan);
    if (r->dry_run) {
        json_t *reply = json_pack(
            "{s:b,s:s,s:b,s:O,s:o,s:O,s:{s:I,s:I,s:I,s:I}}", "dry_run", 1, "school_year", r->year,
            "ok", json_array_size(r->errors) == 0, "errors", r->errors, "students",
            plan_students(r->plan), "classes", json_object_get(r->plan, "classes"), "summary",
            "students_create", (json_int_t)count_action(r->plan, "students", "create"),
            "students_update", (json_int_t)count_action(r->plan, "students", "update"),
            "classes_create", (json_int_t)count_action(r->plan, "classes", "create"),
            "classes_update", (json_int_t)count_action(r->plan, "classes", "update"));
        api_json(req, 200, reply);
        return;
    }
    if (json_array_size(r->errors)) {
        roster_error(req);
        return;
    }
    size_t n = count_action(r->plan, "students", "create");
    r->h.acc = calloc(n ? n : 1, sizeof(*r->h.acc));
    if (!r->h.acc)
        abort();
    json_t *s;
    size_t i;
    json_array_foreach(json_object_get(r->plan, "students"), i, s)
    {
        if (strcmp(json_string_value(json_object_get(s, "action")) ?: "", "create") != 0)
            continue;
        const kt_roster_student *st =
            kt_roster_at_row(&r->roster, (size_t)json_integer_value(json_object_get(s, "row")));
        if (st)
            r->h.acc[r->h.n++].code = st->student_code;
    }
    hashing_start(&r->h, req, roster_hashed);
}

static void
roster_parsed(void *arg)
{
    http_request *req = arg;
    struct users_req *r = req->ctx;
    if (!r->have_roster) {
        char msg[400];
        snprintf(msg, sizeof(msg),
                 "Không đọc được tệp danh sách lớp (cần .xlsx hoặc .csv UTF-8): %s.",
                 r->read_error);
        api_error(req, 422, "unreadable_roster", msg);
        return;
    }
    if (!r->students) {
        if (!json_array_size(r->errors))
            json_array_append_new(r->errors,
                                  json_pack("{s:n,s:s,s:s}", "row", "column", "", "message",
                                            "Tệp không có học sinh nào"));
        if (r->dry_run) {
            api_json(req, 200,
                     json_pack("{s:b,s:s,s:b,s:O,s:[],s:[]}", "dry_run", 1, "school_year",
                               r->year, "ok", 0, "errors", r->errors, "students", "classes"));
            return;
        }
        roster_error(req);
        return;
    }
    if (!r->dry_run && json_array_size(r->errors)) {
        roster_error(req); /* no need to ask the database */
        return;
    }
    const char *params[] = {r->year, r->students};
    pg_query *q = api_query(req);
    pg_query_add(q, "roster_plan", 2, params);
    api_run(req, q, plan_done);
}

void
h_roster_import(http_request *req)
{
    if (!req->user->school_id) {
        api_error(req, 403, "forbidden", "Chỉ quản trị của một trường mới nhập được danh sách lớp.");
        return;
    }
    const char *ct = http_header(req, "Content-Type");
    int xlsx = req->body_len >= 4 && memcmp(req->body, "PK\x03\x04", 4) == 0;
    int csv_type = ct && (strncasecmp(ct, "text/csv", 8) == 0 ||
                          strncasecmp(ct, "application/csv", 15) == 0);
    int xlsx_type =
        ct && strncasecmp(ct, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                          65) == 0;
    if (ct && !csv_type && !xlsx_type && strncasecmp(ct, "application/octet-stream", 24) != 0) {
        api_error(req, 415, "unsupported_media_type",
                  "Hãy gửi danh sách lớp dạng .xlsx (Content-Type application/vnd.openxmlformats-"
                  "officedocument.spreadsheetml.sheet) hoặc .csv (text/csv).");
        return;
    }
    if (!req->body || req->body_len == 0) {
        api_error(req, 400, "empty_body", "Hãy gửi tệp danh sách lớp (.xlsx hoặc .csv).");
        return;
    }
    if (xlsx_type && !xlsx) {
        api_error(req, 422, "unreadable_roster", "Tệp gửi lên không phải tệp .xlsx.");
        return;
    }
    struct users_req *r = users_req_new(req);
    char *dry = api_query_text(req, "dry_run"), *year = api_query_text(req, "year");
    r->dry_run = dry && (strcmp(dry, "1") == 0 || strcmp(dry, "true") == 0);
    int bad_dry = dry && !r->dry_run && strcmp(dry, "0") != 0 && strcmp(dry, "false") != 0;
    int bad_year = 0;
    if (year) {
        int a, b;
        char tail;
        bad_year = strlen(year) != 9 || sscanf(year, "%4d-%4d%c", &a, &b, &tail) != 2 ||
                   b != a + 1 || a < 2000;
        snprintf(r->year, sizeof(r->year), "%s", year);
    } else {
        kt_current_school_year(r->year);
    }
    free(dry);
    free(year);
    if (bad_dry || bad_year) {
        api_error(req, 400, "invalid_parameter",
                  bad_dry ? "Tham số dry_run phải là 1 hoặc 0."
                          : "Tham số year phải là năm học dạng YYYY-YYYY, ví dụ 2025-2026.");
        return;
    }
    kt_cpu_submit(req->worker->base, roster_parse_work, roster_parsed, req);
}

/*
 * `kiemtra bench`: a load generator that simulates an exam against a
 * running server (loopback only). Students log in, start within a window
 * (the start's reply carries the test's items, as the student page takes
 * them), save answers at a think-time rate and submit; then
 * every acknowledged save is read back through the API (lost-answer check).
 * `--idle N` instead holds N idle keep-alive connections.
 */
#include "cli.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <jansson.h>

#include "bench_http.h"

/* OP_SAVE_STEADY: the saves of the sustained phase, once every student has
 * started (issued after the start window, answered before --duration). */
enum op { OP_LOGIN, OP_START, OP_SAVE, OP_SUBMIT, OP_VERIFY, OP_SAVE_STEADY, NOPS };
static const char *const op_names[NOPS] = {"login",  "start",  "save",
                                           "submit", "verify", "save_after_window"};

#define MAX_FORMS 100
#define MAX_ITEMS 64
#define MAX_OPTIONS 8
#define VERIFY_CONCURRENCY 64

struct opts {
    struct sockaddr_in addr;
    const char *session, *school, *password;
    int students, window_s, duration_s, think_ms, connections, timeout_ms, idle, hold_s, json;
    int retry; /* --retry: resend a failed save or submit like the student page's journal */
    double login_rate;
    int password_login; /* --login password: argon2id logins instead of exam codes */
    uint64_t seed;
};

/* What a save can answer, per item of a form (from the attempt's payload). */
struct item {
    char ref[32];
    char kind[8];
    int noptions;
    char options[MAX_OPTIONS][8]; /* option or statement ids */
};

struct form {
    char code[8];
    int nitems;
    struct item items[MAX_ITEMS];
};

struct ack {
    int item;
    int64_t seq;
};

enum sstate { S_LOGIN, S_READY, S_START, S_SAVE, S_SUBMIT, S_DONE, S_FAILED };

struct student {
    int idx;
    enum sstate state;
    char username[48];
    char token[128];
    char code[24];      /* the exam login code the teacher issued (docs/BENCHMARKS.md) */
    double login_first; /* the first try of the login: its latency includes waits */
    int login_tries;
    int64_t attempt_id;
    const struct form *form;
    int64_t seq;
    struct ack *acks;
    size_t nacks, cap;
    int64_t last_seq[MAX_ITEMS]; /* newest acknowledged seq per item, 0 when none */
    char *last_value[MAX_ITEMS];
    int pending_item;
    char *pending_value;
    double issued, end; /* end: the student's own start + --duration */
    enum op op;
    struct event *timer;
    int failures; /* --retry: failed sends in a row (the backoff) */
    int retrying; /* --retry: the timer resends the pending save or the submit */
};

struct op_stats {
    uint32_t *lat_us;
    size_t n, cap;
    double first, last;
    uint64_t status[600];
    uint64_t conn_err[BH_NERR];
    json_t *error_codes; /* "503 database_timeout": count, of the final replies */
};

/* One second of the run, for the save timeline (where the slow saves are). */
#define TIMELINE_MAX 3600
#define SLOW_US 100000
struct second {
    uint32_t n, slow, max_us;
};

static struct {
    struct opts o;
    struct event_base *base;
    struct bh_pool *pool;
    struct student *st;
    struct form forms[MAX_FORMS];
    int nforms;
    struct op_stats ops[NOPS];
    uint64_t rng;
    double t_begin, t_run, t_end, t_run_done; /* t_end: t_run + --duration */
    int login_issued, logins_done, active, verify_next, verify_inflight, verify_done;
    uint64_t requests, request_cap, acked, acked_steady, lost, verified, unverified;
    int cap_hit, timed_out;
    /* --retry: failed sends that were resent; the longest time between two
     * acknowledged saves (the seconds without saves of a failover). */
    uint64_t retried[NOPS];
    uint64_t retried_why[NOPS][600 + BH_NERR]; /* by HTTP status, then connection error */
    json_t *retried_codes[NOPS];               /* the same by the reply's error code */
    double last_ack, max_ack_gap, max_ack_gap_at;
    struct event *pace, *progress, *hard;
    uint64_t last_progress_requests;
    struct second tl[TIMELINE_MAX]; /* saves by the second they were answered in */
} B;

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
rnd(void)
{
    B.rng ^= B.rng << 13;
    B.rng ^= B.rng >> 7;
    B.rng ^= B.rng << 17;
    return B.rng;
}

static double
rnd_unit(void)
{
    return (double)(rnd() >> 11) / 9007199254740992.0;
}

static void
at(struct event *ev, double when)
{
    double d = when - now_s();
    if (d < 0)
        d = 0;
    struct timeval tv = {(time_t)d, (suseconds_t)((d - floor(d)) * 1e6)};
    evtimer_add(ev, &tv);
}

/* ------------------------------------------------------------------------ */
/* Measurements                                                             */

/* Counts a reply that is not 2xx under "STATUS CODE" in *counts: CODE is
 * the gateway's error code ({"error":{"code":...}}), "html" for a page that
 * is not JSON (HAProxy's own 503 "No server is available", 504...), "other"
 * for anything else. Tells who answered a 503 and why. */
static void
count_error_code(json_t **counts, int status, const char *body, size_t len)
{
    if (status >= 200 && status < 300)
        return;
    char key[80];
    json_t *j = body && len ? json_loadb(body, len, 0, NULL) : NULL;
    const char *code = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
    if (code)
        snprintf(key, sizeof(key), "%d %.60s", status, code);
    else
        snprintf(key, sizeof(key), "%d %s", status,
                 body && len && memchr(body, '<', len < 64 ? len : 64) ? "html" : "other");
    json_decref(j);
    if (!*counts)
        *counts = json_object();
    json_t *n = json_object_get(*counts, key);
    json_object_set_new(*counts, key, json_integer(json_integer_value(n) + 1));
}

static void
record(enum op op, double issued, int status, const char *body, size_t len, enum bh_err err)
{
    struct op_stats *s = &B.ops[op];
    double t = now_s();
    if (s->first == 0 || issued < s->first)
        s->first = issued;
    s->last = t;
    if (err != BH_OK) {
        s->conn_err[err]++;
        return;
    }
    s->status[status]++;
    count_error_code(&s->error_codes, status, body, len);
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->lat_us = realloc(s->lat_us, s->cap * sizeof(*s->lat_us));
        if (!s->lat_us)
            abort();
    }
    double us = (t - issued) * 1e6;
    uint32_t lat = us > 4e9 ? 4000000000u : (uint32_t)us;
    s->lat_us[s->n++] = lat;
    if (op == OP_SAVE && B.t_run > 0 && t >= B.t_run && t - B.t_run < TIMELINE_MAX) {
        struct second *sec = &B.tl[(int)(t - B.t_run)];
        sec->n++;
        sec->slow += lat > SLOW_US;
        if (lat > sec->max_us)
            sec->max_us = lat;
    }
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double
pct_ms(const struct op_stats *s, double p)
{
    if (!s->n)
        return 0;
    size_t i = (size_t)ceil(p * (double)s->n) - 1;
    return s->lat_us[i < s->n ? i : s->n - 1] / 1000.0;
}

static uint64_t
op_errors(const struct op_stats *s)
{
    uint64_t e = 0;
    for (int i = 0; i < 600; i++)
        if (i < 200 || i >= 300)
            e += s->status[i];
    for (int i = 1; i < BH_NERR; i++)
        e += s->conn_err[i];
    return e;
}

/* ------------------------------------------------------------------------ */
/* Reading replies                                                          */

/* The integer after "key" in a JSON text (spaces and colon skipped); 0 when
 * absent. The replies read this way have a fixed, flat shape. */
static int64_t
int_after(const char *body, const char *key)
{
    const char *p = strstr(body, key);
    if (!p)
        return 0;
    p += strlen(key);
    while (*p == ' ' || *p == ':')
        p++;
    return strtoll(p, NULL, 10);
}

static void
form_read_items(struct form *f, json_t *items)
{
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        if (f->nitems == MAX_ITEMS)
            break;
        struct item *x = &f->items[f->nitems++];
        snprintf(x->ref, sizeof(x->ref), "%s", json_string_value(json_object_get(it, "ref")));
        snprintf(x->kind, sizeof(x->kind), "%s", json_string_value(json_object_get(it, "kind")));
        json_t *opts = json_object_get(it, "options");
        if (!json_is_array(opts))
            opts = json_object_get(it, "statements");
        size_t k;
        json_t *o;
        json_array_foreach(opts, k, o)
        {
            if (x->noptions == MAX_OPTIONS)
                break;
            snprintf(x->options[x->noptions++], 8, "%s",
                     json_string_value(json_object_get(o, "id")));
        }
    }
}

/* The items of the attempt's form: parsed once per form code. */
static const struct form *
form_of(const char *body)
{
    const char *p = strstr(body, "\"form_code\"");
    char code[8] = "";
    if (p && (p = strchr(p + 11, '"')))
        snprintf(code, sizeof(code), "%.*s", (int)strcspn(p + 1, "\""), p + 1);
    for (int i = 0; i < B.nforms; i++)
        if (strcmp(B.forms[i].code, code) == 0)
            return &B.forms[i];
    if (B.nforms == MAX_FORMS)
        return NULL;
    json_t *a = json_loads(body, 0, NULL);
    json_t *items = json_object_get(json_object_get(a, "payload"), "items");
    struct form *f = NULL;
    if (json_array_size(items)) {
        f = &B.forms[B.nforms++];
        memset(f, 0, sizeof(*f));
        snprintf(f->code, sizeof(f->code), "%s", code);
        form_read_items(f, items);
    }
    json_decref(a);
    return f;
}

/* An answer of the item's kind, as JSON text. */
static char *
answer(const struct item *it, int64_t seq)
{
    char buf[256];
    if (strcmp(it->kind, "TF4") == 0) {
        int n = snprintf(buf, sizeof(buf), "{");
        for (int i = 0; i < it->noptions; i++)
            n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s\"%s\":%s", i ? "," : "",
                          it->options[i], rnd() & 1 ? "true" : "false");
        snprintf(buf + n, sizeof(buf) - (size_t)n, "}");
    } else if (strcmp(it->kind, "MR") == 0 && it->noptions >= 2) {
        int a = (int)(rnd() % (uint64_t)it->noptions), b = (a + 1) % it->noptions;
        snprintf(buf, sizeof(buf), "[\"%s\",\"%s\"]", it->options[a], it->options[b]);
    } else if (it->noptions > 0) {
        snprintf(buf, sizeof(buf), "\"%s\"", it->options[rnd() % (uint64_t)it->noptions]);
    } else if (strcmp(it->kind, "SHORT") == 0) {
        snprintf(buf, sizeof(buf), "\"%d,%d\"", (int)(rnd() % 100), (int)(rnd() % 10));
    } else {
        snprintf(buf, sizeof(buf), "\"Bài làm lần %lld: áp dụng định lí, suy ra kết quả.\"",
                 (long long)seq);
    }
    char *s = strdup(buf);
    if (!s)
        abort();
    return s;
}

/* ------------------------------------------------------------------------ */
/* The exam                                                                 */

static void student_step(evutil_socket_t fd, short what, void *arg);
static void login(struct student *s);
static void verify_pump(void);

static void
issue(struct student *s, enum op op, const char *method, const char *path, const char *body,
      size_t len, bh_cb cb)
{
    s->op = op;
    s->issued = now_s();
    B.requests++;
    bh_request(B.pool, method, path, op == OP_LOGIN ? NULL : s->token, body, len, cb, s);
}

static void
student_finished(struct student *s, enum sstate st)
{
    s->state = st;
    if (--B.active == 0) {
        B.t_run_done = now_s();
        verify_pump();
    }
}

/* --retry: what the student page's journal resends (no answer, a timeout,
 * 5xx, 429, 408): schedules the resend after its backoff (1 s doubling to
 * 15 s, +-25 %) and returns 1; 0 when the reply is final. */
static int
retry_later(struct student *s, int status, const char *body, size_t len, enum bh_err err)
{
    if (!B.o.retry || (err == BH_OK && status < 500 && status != 429 && status != 408))
        return 0;
    B.retried[s->op]++;
    B.retried_why[s->op][err != BH_OK ? 600 + (int)err : status < 600 ? status : 599]++;
    if (err == BH_OK)
        count_error_code(&B.retried_codes[s->op], status, body, len);
    B.request_cap++; /* a resend is not one more save */
    s->failures++;
    double base = 1.0 * (double)(1 << (s->failures - 1 < 4 ? s->failures - 1 : 4));
    base = base > 15.0 ? 15.0 : base;
    s->retrying = 1;
    at(s->timer, now_s() + base * (0.75 + 0.5 * rnd_unit()));
    return 1;
}

static void submit(struct student *s);

static void
submitted(void *arg, int status, const char *body, size_t len, enum bh_err err)
{
    (void)body;
    (void)len;
    struct student *s = arg;
    if (retry_later(s, status, body, len, err))
        return;
    record(OP_SUBMIT, s->issued, status, body, len, err);
    student_finished(s, S_DONE);
}

static void
submit(struct student *s)
{
    char path[96];
    snprintf(path, sizeof(path), "/api/v1/attempts/%lld/submit", (long long)s->attempt_id);
    s->state = S_SUBMIT;
    issue(s, OP_SUBMIT, "POST", path, NULL, 0, submitted);
}

static void
saved(void *arg, int status, const char *body, size_t len, enum bh_err err)
{
    (void)len;
    struct student *s = arg;
    if (retry_later(s, status, body, len, err))
        return;
    s->failures = 0;
    record(OP_SAVE, s->issued, status, body, len, err);
    if (s->issued >= B.t_run + B.o.window_s && now_s() < B.t_end)
        record(OP_SAVE_STEADY, s->issued, status, body, len, err);
    if (err == BH_OK && status == 200 && int_after(body, "\"saved_seq\"") >= s->seq) {
        if (s->nacks == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 64;
            s->acks = realloc(s->acks, s->cap * sizeof(*s->acks));
            if (!s->acks)
                abort();
        }
        s->acks[s->nacks++] = (struct ack){s->pending_item, s->seq};
        B.acked++;
        double t = now_s();
        B.acked_steady += t >= B.t_run + B.o.window_s && t < B.t_end;
        if (B.last_ack > 0 && t - B.last_ack > B.max_ack_gap) {
            B.max_ack_gap = t - B.last_ack;
            B.max_ack_gap_at = B.last_ack - B.t_run;
        }
        B.last_ack = t;
        free(s->last_value[s->pending_item]);
        s->last_value[s->pending_item] = s->pending_value;
        s->last_seq[s->pending_item] = s->seq;
    } else {
        free(s->pending_value);
    }
    s->pending_value = NULL;
    double next = s->issued + B.o.think_ms / 1000.0;
    at(s->timer, next < s->end ? next : s->end);
}

static void
save(struct student *s)
{
    const struct form *f = s->form;
    int k = s->pending_item;
    if (!s->retrying) {
        k = (int)(rnd() % (uint64_t)f->nitems);
        s->seq++;
        s->pending_item = k;
        s->pending_value = answer(&f->items[k], s->seq);
    }
    s->retrying = 0; /* a resend: the same item, value and seq */
    char path[128], body[400];
    snprintf(path, sizeof(path), "/api/v1/attempts/%lld/responses/%s", (long long)s->attempt_id,
             f->items[k].ref);
    int n = snprintf(body, sizeof(body), "{\"response\":%s,\"seq\":%lld}", s->pending_value,
                     (long long)s->seq);
    issue(s, OP_SAVE, "PUT", path, body, (size_t)n, saved);
}

static void
started(void *arg, int status, const char *body, size_t len, enum bh_err err)
{
    (void)len;
    struct student *s = arg;
    record(OP_START, s->issued, status, body, len, err);
    if (err != BH_OK || (status != 200 && status != 201) ||
        !(s->attempt_id = int_after(body, "\"id\"")) || !(s->form = form_of(body))) {
        student_finished(s, S_FAILED);
        return;
    }
    /* The reply carries the test (the form's items), as the student page
     * uses it: no second request before the first answer. */
    s->state = S_SAVE;
    double first = now_s() + rnd_unit() * B.o.think_ms / 1000.0;
    at(s->timer, first < s->end ? first : s->end);
}

static void
start(struct student *s)
{
    char path[96];
    snprintf(path, sizeof(path), "/api/v1/sessions/%s/attempts", B.o.session);
    s->state = S_START;
    issue(s, OP_START, "POST", path, NULL, 0, started);
}

/* The student's timer: start, then one save per think time, then submit
 * --duration after the start (so submits spread like starts). */
static void
student_step(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct student *s = arg;
    if (s->state == S_LOGIN) {
        login(s); /* again, after the server's Retry-After */
    } else if (s->state == S_READY) {
        s->end = now_s() + B.o.duration_s;
        start(s);
    } else if (s->state == S_SUBMIT && s->retrying) {
        s->retrying = 0;
        submit(s);
    } else if (s->state == S_SAVE) {
        /* A resend goes out even past the end: the journal empties first. */
        if (!s->retrying && (now_s() >= s->end || B.requests >= B.request_cap)) {
            B.cap_hit |= B.requests >= B.request_cap;
            submit(s);
        } else {
            save(s);
        }
    }
}

static void
begin_run(void)
{
    B.t_run = now_s();
    B.t_end = B.t_run + B.o.duration_s;
    B.active = 0;
    for (int i = 0; i < B.o.students; i++) {
        struct student *s = &B.st[i];
        if (s->state != S_READY)
            continue;
        B.active++;
        at(s->timer, B.t_run + rnd_unit() * B.o.window_s);
    }
    fprintf(stderr, "bench: %d students logged in in %.1f s; starting within %d s, exam of %d s\n",
            B.active, B.t_run - B.t_begin, B.o.window_s, B.o.duration_s);
    if (!B.active) {
        B.t_run_done = now_s();
        verify_pump();
    }
}

static void
logged_in(void *arg, int status, const char *body, size_t len, enum bh_err err)
{
    struct student *s = arg;
    /* 503 (the password queue is full) or 429: the server says when to come
     * back, as the student page does; only the final reply counts, its
     * latency from the first try. At most 30 tries. */
    if (err == BH_OK && (status == 503 || status == 429) && s->login_tries < 30) {
        json_t *e = json_loadb(body, len, 0, NULL);
        json_int_t wait = json_integer_value(json_object_get(
            json_object_get(json_object_get(e, "error"), "details"), "retry_after"));
        json_decref(e);
        B.retried[OP_LOGIN]++;
        at(s->timer, now_s() + (double)(wait > 0 && wait <= 120 ? wait : 1));
        return;
    }
    record(OP_LOGIN, s->login_first, status, body, len, err);
    json_t *j = err == BH_OK && status == 200 ? json_loadb(body, len, 0, NULL) : NULL;
    const char *tok = json_string_value(json_object_get(j, "token"));
    if (tok && strlen(tok) < sizeof(s->token)) {
        snprintf(s->token, sizeof(s->token), "%s", tok);
        s->state = S_READY;
    } else {
        s->state = S_FAILED;
    }
    json_decref(j);
    if (++B.logins_done == B.o.students)
        begin_run();
}

static void
login(struct student *s)
{
    if (!s->login_tries++)
        s->login_first = now_s();
    json_t *b = B.o.password_login
                    ? json_pack("{s:s,s:s}", "username", s->username, "password", B.o.password)
                    : json_pack("{s:s,s:s}", "username", s->username, "code", s->code);
    char *body = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    issue(s, OP_LOGIN, "POST",
          B.o.password_login ? "/api/v1/auth/login" : "/api/v1/auth/exam-login", body, strlen(body),
          logged_in);
    free(body);
}

/* Issues the logins due by now at --login-rate (all at once when 0). */
static void
pace_logins(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    int due = B.o.login_rate > 0 ? (int)((now_s() - B.t_begin) * B.o.login_rate) + 1 : B.o.students;
    while (B.login_issued < due && B.login_issued < B.o.students)
        login(&B.st[B.login_issued++]);
    if (B.login_issued == B.o.students)
        event_del(B.pace);
}

static void
logins_begin(void)
{
    B.t_begin = now_s();
    struct timeval ten_ms = {0, 10000};
    event_add(B.pace, &ten_ms);
    pace_logins(-1, 0, NULL);
}

/* Exam login codes, as on exam day: the teacher (<school>.gv, the shared
 * password) issues the session's codes through the API, then every
 * student logs in with username and code. */
static struct {
    char prefix[32];
    char token[128];
    double t0;
} C;

static void
codes_failed(const char *what, int status, enum bh_err err, const char *body, size_t len)
{
    fprintf(stderr, "bench: %s failed (HTTP %d, %s): %.*s; no student can log in\n", what, status,
            bh_err_name(err), (int)(len < 400 ? len : 400), body ? body : "");
    B.timed_out = 1;
    event_base_loopbreak(B.base);
}

static void
codes_got(void *arg, int status, const char *body, size_t len, enum bh_err err)
{
    (void)arg;
    if (err != BH_OK || status != 201) {
        codes_failed("issuing the exam login codes", status, err, body, len);
        return;
    }
    json_t *j = json_loadb(body, len, 0, NULL), *c;
    size_t i, plen = strlen(C.prefix), n = 0;
    json_array_foreach(json_object_get(j, "codes"), i, c)
    {
        const char *u = json_string_value(json_object_get(c, "username"));
        const char *code = json_string_value(json_object_get(c, "code"));
        if (!u || !code || strncmp(u, C.prefix, plen) != 0)
            continue;
        int k = atoi(u + plen) - 1;
        if (k >= 0 && k < B.o.students && strcmp(B.st[k].username, u) == 0) {
            snprintf(B.st[k].code, sizeof(B.st[k].code), "%s", code);
            n++;
        }
    }
    json_decref(j);
    fprintf(stderr, "bench: the teacher issued %zu exam login codes in %.2f s\n", n,
            now_s() - C.t0);
    logins_begin();
}

static void
teacher_logged_in(void *arg, int status, const char *body, size_t len, enum bh_err err)
{
    (void)arg;
    json_t *j = err == BH_OK && status == 200 ? json_loadb(body, len, 0, NULL) : NULL;
    const char *tok = json_string_value(json_object_get(j, "token"));
    if (!tok || strlen(tok) >= sizeof(C.token)) {
        json_decref(j);
        codes_failed("the teacher's login", status, err, body, len);
        return;
    }
    snprintf(C.token, sizeof(C.token), "%s", tok);
    json_decref(j);
    char path[96];
    snprintf(path, sizeof(path), "/api/v1/sessions/%s/login-codes", B.o.session);
    bh_request(B.pool, "POST", path, C.token, "{}", 2, codes_got, NULL);
}

static void
codes_issue(const char *prefix)
{
    snprintf(C.prefix, sizeof(C.prefix), "%s", prefix);
    C.t0 = now_s();
    char user[48];
    snprintf(user, sizeof(user), "%.20s.gv", prefix);
    json_t *b = json_pack("{s:s,s:s}", "username", user, "password", B.o.password);
    char *body = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    bh_request(B.pool, "POST", "/api/v1/auth/login", NULL, body, strlen(body), teacher_logged_in,
               NULL);
    free(body);
}

/* ------------------------------------------------------------------------ */
/* Lost-answer check                                                        */

static void
verified(void *arg, int status, const char *body, size_t len, enum bh_err err)
{
    struct student *s = arg;
    record(OP_VERIFY, s->issued, status, body, len, err);
    json_t *a = err == BH_OK && status == 200 ? json_loadb(body, len, 0, NULL) : NULL;
    json_t *resp = json_object_get(a, "responses");
    if (!json_is_object(resp)) {
        B.unverified++;
    } else {
        B.verified++;
        for (size_t i = 0; i < s->nacks; i++) {
            int k = s->acks[i].item;
            json_t *stored = json_object_get(resp, s->form->items[k].ref);
            json_t *sseq = json_object_get(stored, "seq");
            int64_t have = json_is_integer(sseq) ? json_integer_value(sseq) : -1;
            int lost = have < s->acks[i].seq;
            if (!lost && have == s->acks[i].seq && s->acks[i].seq == s->last_seq[k]) {
                json_t *mine = json_loads(s->last_value[k], JSON_DECODE_ANY, NULL);
                lost = !json_equal(mine, json_object_get(stored, "response"));
                json_decref(mine);
            }
            B.lost += (uint64_t)lost;
        }
    }
    json_decref(a);
    B.verify_inflight--;
    B.verify_done++;
    verify_pump();
}

/* Reads back every student's attempt, VERIFY_CONCURRENCY at a time. */
static void
verify_pump(void)
{
    while (B.verify_inflight < VERIFY_CONCURRENCY && B.verify_next < B.o.students) {
        struct student *s = &B.st[B.verify_next++];
        if (!s->attempt_id || !s->form)
            continue;
        char path[64];
        snprintf(path, sizeof(path), "/api/v1/attempts/%lld", (long long)s->attempt_id);
        B.verify_inflight++;
        issue(s, OP_VERIFY, "GET", path, NULL, 0, verified);
    }
    if (B.verify_inflight == 0 && B.verify_next >= B.o.students) {
        event_base_loopbreak(B.base);
    }
}

/* ------------------------------------------------------------------------ */
/* Progress, limits, report                                                 */

static void
progress(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    double t = now_s() - B.t_begin;
    fprintf(stderr, "bench: %6.1f s  logins %d/%d  active %d  saves acked %llu  %.0f req/s\n", t,
            B.logins_done, B.o.students, B.active, (unsigned long long)B.acked,
            (double)(B.requests - B.last_progress_requests) / 5.0);
    B.last_progress_requests = B.requests;
}

static void
hard_stop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    B.timed_out = 1;
    fprintf(stderr, "bench: hard time limit reached, stopping\n");
    event_base_loopbreak(B.base);
}

static json_t *
op_json(enum op op)
{
    struct op_stats *s = &B.ops[op];
    if (s->n) /* no array at all for an operation that never got a reply */
        qsort(s->lat_us, s->n, sizeof(*s->lat_us), cmp_u32);
    json_t *status = json_object(), *conn = json_object();
    uint64_t count = 0;
    for (int i = 0; i < 600; i++) {
        if (!s->status[i])
            continue;
        char k[8];
        snprintf(k, sizeof(k), "%d", i);
        json_object_set_new(status, k, json_integer((json_int_t)s->status[i]));
        count += s->status[i];
    }
    for (int i = 1; i < BH_NERR; i++) {
        if (s->conn_err[i])
            json_object_set_new(conn, bh_err_name((enum bh_err)i),
                                json_integer((json_int_t)s->conn_err[i]));
        count += s->conn_err[i];
    }
    double span = s->last - s->first;
    json_t *codes = s->error_codes ? json_incref(s->error_codes) : json_object();
    return json_pack("{s:I,s:f,s:f,s:f,s:f,s:f,s:I,s:o,s:o,s:o}", "count", (json_int_t)count,
                     "per_second", span > 0 ? round((double)s->n / span * 10) / 10 : 0.0, "p50_ms",
                     pct_ms(s, 0.50), "p95_ms", pct_ms(s, 0.95), "p99_ms", pct_ms(s, 0.99),
                     "max_ms", s->n ? s->lat_us[s->n - 1] / 1000.0 : 0.0, "errors",
                     (json_int_t)op_errors(&B.ops[op]), "status", status, "connection_errors", conn,
                     "error_codes", codes);
}

static int
report(void)
{
    json_t *ops = json_object();
    uint64_t errors = 0;
    for (int i = 0; i < NOPS; i++) {
        if (i != OP_SAVE_STEADY) /* counted in OP_SAVE already */
            errors += op_errors(&B.ops[i]);
        json_object_set_new(ops, op_names[i], op_json((enum op)i));
    }
    const struct op_stats *sv = &B.ops[OP_SAVE];
    double save_span = sv->last - sv->first;
    /* Once every student has started: the sustained rate. */
    double steady_span = B.o.duration_s - B.o.window_s;
    double steady = steady_span > 0 ? round((double)B.acked_steady / steady_span) : 0.0;
    int unfinished = 0;
    for (int i = 0; i < B.o.students; i++)
        unfinished += B.st[i].state != S_DONE;
    json_t *out = json_pack(
        "{s:{s:s,s:i,s:i,s:i,s:i,s:i,s:f},s:f,s:f,s:o,s:I,s:f,s:f,s:I,s:i,s:I,s:I,s:I,s:b,s:b,s:b}",
        "scenario", "session", B.o.session, "students", B.o.students, "window_seconds",
        B.o.window_s, "duration_seconds", B.o.duration_s, "think_ms", B.o.think_ms,
        "connections", B.o.connections, "login_rate", B.o.login_rate, "login_phase_seconds",
        round((B.t_run - B.t_begin) * 100) / 100, "run_seconds",
        round(((B.t_run_done ? B.t_run_done : now_s()) - B.t_run) * 100) / 100, "ops", ops,
        "saves_acknowledged", (json_int_t)B.acked, "saves_acknowledged_per_second",
        save_span > 0 ? round((double)B.acked / save_span) : 0.0,
        "saves_acknowledged_per_second_after_window", steady, "errors", (json_int_t)errors,
        "students_not_finished", unfinished, "verified_attempts", (json_int_t)B.verified,
        "unverified_attempts", (json_int_t)B.unverified, "lost_answers", (json_int_t)B.lost,
        "request_cap_reached", B.cap_hit, "timed_out", B.timed_out, "ok",
        !errors && !B.lost && !B.unverified && !B.timed_out && !unfinished);
    json_object_set_new(json_object_get(out, "scenario"), "login",
                        json_string(B.o.password_login ? "password" : "code"));
    json_t *retried = json_object();
    for (int i = 0; i < NOPS; i++)
        if (B.retried[i])
            json_object_set_new(retried, op_names[i], json_integer((json_int_t)B.retried[i]));
    json_object_set_new(out, "retried", retried);
    json_t *why = json_object();
    for (int i = 0; i < NOPS; i++) {
        json_t *w = json_object();
        for (int k = 0; k < 600 + BH_NERR; k++) {
            if (!B.retried_why[i][k])
                continue;
            char key[16];
            snprintf(key, sizeof(key), "%d", k);
            json_object_set_new(w, k < 600 ? key : bh_err_name((enum bh_err)(k - 600)),
                                json_integer((json_int_t)B.retried_why[i][k]));
        }
        if (json_object_size(w))
            json_object_set_new(why, op_names[i], w);
        else
            json_decref(w);
    }
    json_object_set_new(out, "retried_because", why);
    json_t *why_codes = json_object();
    for (int i = 0; i < NOPS; i++)
        if (B.retried_codes[i])
            json_object_set(why_codes, op_names[i], B.retried_codes[i]);
    json_object_set_new(out, "retried_error_codes", why_codes);
    json_object_set_new(out, "longest_gap_between_acknowledged_saves_seconds",
                        json_real(round(B.max_ack_gap * 1000) / 1000));
    json_object_set_new(out, "longest_gap_started_at_seconds",
                        json_real(round(B.max_ack_gap_at * 100) / 100));
    json_t *tl = json_array();
    for (int i = 0; i < TIMELINE_MAX; i++)
        if (B.tl[i].n)
            json_array_append_new(tl, json_pack("[i,i,i,f]", i, (int)B.tl[i].n,
                                                (int)B.tl[i].slow, B.tl[i].max_us / 1000.0));
    json_object_set_new(out, "save_timeline_columns",
                        json_pack("[s,s,s,s]", "second", "saves", "over_100ms", "max_ms"));
    json_object_set_new(out, "save_timeline", tl);
    int ok = json_is_true(json_object_get(out, "ok"));
    fprintf(stderr, "\n%-17s %8s %10s %9s %9s %9s %9s %7s\n", "op", "count", "per_s", "p50_ms",
            "p95_ms", "p99_ms", "max_ms", "errors");
    for (int i = 0; i < NOPS; i++) {
        json_t *o = json_object_get(ops, op_names[i]);
        fprintf(stderr, "%-17s %8lld %10.1f %9.1f %9.1f %9.1f %9.1f %7lld\n", op_names[i],
                (long long)json_integer_value(json_object_get(o, "count")),
                json_real_value(json_object_get(o, "per_second")),
                json_real_value(json_object_get(o, "p50_ms")),
                json_real_value(json_object_get(o, "p95_ms")),
                json_real_value(json_object_get(o, "p99_ms")),
                json_real_value(json_object_get(o, "max_ms")),
                (long long)json_integer_value(json_object_get(o, "errors")));
    }
    for (int i = 0; i < NOPS; i++) {
        json_t *codes = json_object_get(json_object_get(ops, op_names[i]), "error_codes");
        const char *k;
        json_t *v;
        json_object_foreach(codes, k, v)
        {
            fprintf(stderr, "%s replied %s: %lld\n", op_names[i], k,
                    (long long)json_integer_value(v));
        }
    }
    fprintf(stderr,
            "saves acknowledged %llu (%.0f/s after the start window), lost answers %llu,"
            " verified attempts %llu, errors %llu%s -> %s\n",
            (unsigned long long)B.acked, steady,
            (unsigned long long)B.lost, (unsigned long long)B.verified,
            (unsigned long long)errors, B.timed_out ? ", TIMED OUT" : "", ok ? "ok" : "FAILED");
    if (B.o.retry)
        fprintf(stderr,
                "resent after a failure: saves %llu, submits %llu; longest time without an"
                " acknowledged save %.2f s (from %.1f s into the exam)\n",
                (unsigned long long)B.retried[OP_SAVE], (unsigned long long)B.retried[OP_SUBMIT],
                B.max_ack_gap, B.max_ack_gap_at);
    if (B.o.json) {
        char *s = json_dumps(out, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
        printf("%s\n", s);
        free(s);
    }
    json_decref(out);
    return ok ? 0 : 1;
}

/* ------------------------------------------------------------------------ */
/* Idle connections                                                         */

static struct {
    int ok, failed;
    struct event *hold;
} I;

static void
idle_hold_over(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    event_base_loopbreak(B.base);
}

static void
idle_checked(void *arg, int status, const char *body, size_t len, enum bh_err err)
{
    (void)arg;
    (void)body;
    (void)len;
    if (err == BH_OK && status == 200)
        I.ok++;
    else
        I.failed++;
    if (I.ok + I.failed == B.o.idle) {
        fprintf(stderr, "bench: holding %d idle connections for %d s\n", bh_pool_open(B.pool),
                B.o.hold_s);
        struct timeval tv = {B.o.hold_s, 0};
        evtimer_add(I.hold, &tv);
    }
}

static int
run_idle(void)
{
    I.hold = evtimer_new(B.base, idle_hold_over, NULL);
    bh_pool_warm(B.pool, B.o.idle, idle_checked, NULL);
    event_base_dispatch(B.base);
    int open = bh_pool_open(B.pool);
    json_t *out = json_pack("{s:{s:i,s:i,s:i,s:i,s:i,s:b}}", "idle", "requested", B.o.idle,
                            "checked_ok", I.ok, "failed", I.failed, "held_seconds", B.o.hold_s,
                            "open_at_end", open, "timed_out", B.timed_out);
    char *s = json_dumps(out, JSON_COMPACT);
    if (B.o.json)
        printf("%s\n", s);
    else
        fprintf(stderr, "%s\n", s);
    free(s);
    json_decref(out);
    event_free(I.hold);
    return open == B.o.idle && !B.timed_out ? 0 : 1;
}

/* ------------------------------------------------------------------------ */
/* Command line                                                             */

static void
usage(void)
{
    fprintf(stderr,
            "usage: kiemtra bench [--url http://127.0.0.1:PORT] --session ID --students N\n"
            "         [--window S] [--duration S] [--think-ms MS] [--school MA]\n"
            "         [--password P | --password-file FILE] [--connections C]\n"
            "         [--login-rate PER_S] [--login code|password] [--timeout-ms MS]\n"
            "         [--seed N] [--retry] [--json]\n"
            "       kiemtra bench [--url ...] --idle N [--hold-seconds S] [--json]\n"
            "Defaults: window 10 s, duration 60 s (each student's working time from its\n"
            "start), think 1000 ms, one connection per student, logins unpaced, school\n"
            "BENCH (usernames bench00001...), password KIEMTRA_BENCH_PASSWORD or the file\n"
            "(var/bench-password). Loopback addresses only. Exit status 1 when any request\n"
            "failed, an acknowledged answer is missing, or the run hit its time limit.\n"
            "--login code (default): the teacher <school>.gv issues the session's exam\n"
            "login codes through the API and students log in with them; --login password:\n"
            "argon2id logins (503/429 retried after the server's Retry-After).\n"
            "--retry resends a save or submit that got no answer, 5xx, 429 or 408 after\n"
            "the student page's backoff (1 s doubling to 15 s); only the final reply counts.\n");
}

/* http://HOST:PORT[/] with a loopback HOST. */
static int
parse_url(const char *url, struct sockaddr_in *out)
{
    char host[64];
    int port = 0;
    if (sscanf(url, "http://%63[^:/]:%d", host, &port) != 2 || port < 1 || port > 65535)
        return -1;
    memset(out, 0, sizeof(*out));
    out->sin_family = AF_INET;
    out->sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    if (inet_pton(AF_INET, host, &out->sin_addr) != 1 ||
        (ntohl(out->sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "kiemtra bench: %s is not a loopback address\n", host);
        return -1;
    }
    return 0;
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
    static char pw[64];
    const char *url = NULL, *pwfile = "var/bench-password";
    *o = (struct opts){.school = "BENCH", .window_s = 10, .duration_s = 60, .think_ms = 1000,
                       .timeout_ms = 30000, .hold_s = 30, .seed = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0) {
            o->json = 1;
            continue;
        }
        if (strcmp(a, "--retry") == 0) {
            o->retry = 1;
            continue;
        }
        if (!v)
            return -1;
        i++;
        if (strcmp(a, "--url") == 0)
            url = v;
        else if (strcmp(a, "--session") == 0)
            o->session = v;
        else if (strcmp(a, "--students") == 0)
            o->students = atoi(v);
        else if (strcmp(a, "--window") == 0)
            o->window_s = atoi(v);
        else if (strcmp(a, "--duration") == 0)
            o->duration_s = atoi(v);
        else if (strcmp(a, "--think-ms") == 0)
            o->think_ms = atoi(v);
        else if (strcmp(a, "--school") == 0)
            o->school = v;
        else if (strcmp(a, "--password") == 0)
            o->password = v;
        else if (strcmp(a, "--password-file") == 0)
            pwfile = v;
        else if (strcmp(a, "--connections") == 0)
            o->connections = atoi(v);
        else if (strcmp(a, "--login-rate") == 0)
            o->login_rate = atof(v);
        else if (strcmp(a, "--login") == 0 && (!strcmp(v, "code") || !strcmp(v, "password")))
            o->password_login = strcmp(v, "password") == 0;
        else if (strcmp(a, "--timeout-ms") == 0)
            o->timeout_ms = atoi(v);
        else if (strcmp(a, "--seed") == 0)
            o->seed = strtoull(v, NULL, 10);
        else if (strcmp(a, "--idle") == 0)
            o->idle = atoi(v);
        else if (strcmp(a, "--hold-seconds") == 0)
            o->hold_s = atoi(v);
        else
            return -1;
    }
    char def[64];
    snprintf(def, sizeof(def), "http://127.0.0.1:%s",
             getenv("KIEMTRA_PORT") ? getenv("KIEMTRA_PORT") : "8080");
    if (parse_url(url ? url : def, &o->addr) < 0)
        return -1;
    if (o->idle)
        return o->idle > 0 && o->hold_s >= 0 ? 0 : -1;
    if (!o->password)
        o->password = getenv("KIEMTRA_BENCH_PASSWORD");
    if (!o->password || !*o->password) {
        FILE *f = fopen(pwfile, "r");
        if (f && fgets(pw, sizeof(pw), f)) {
            pw[strcspn(pw, "\r\n")] = '\0';
            o->password = pw;
        }
        if (f)
            fclose(f);
    }
    if (!o->connections)
        o->connections = o->students;
    if (!o->password || !o->session || o->students < 1 || o->students > 1000000 ||
        o->window_s < 0 || o->duration_s < 1 || o->think_ms < 1 || o->connections < 1 ||
        o->timeout_ms < 100 || o->login_rate < 0 || o->seed == 0)
        return -1;
    return 0;
}

int
kt_cmd_bench(int argc, char **argv)
{
    if (parse_args(argc, argv, &B.o) < 0) {
        usage();
        return 2;
    }
    B.rng = B.o.seed * 0x9E3779B97F4A7C15ull | 1;
    B.base = event_base_new();
    int conns = B.o.idle ? B.o.idle : B.o.connections;
    B.pool = bh_pool_new(B.base, &B.o.addr, conns, B.o.timeout_ms);
    B.t_begin = now_s();
    /* Hard limit: the logins (at the given rate, or at least 20/s), the
     * exam, and five minutes for the submit storm and the read-back. */
    double logins = B.o.students / (B.o.login_rate > 0 ? B.o.login_rate : 20.0);
    double limit = B.o.idle ? 120.0 + B.o.hold_s : logins + B.o.window_s + B.o.duration_s + 300;
    B.hard = evtimer_new(B.base, hard_stop, NULL);
    struct timeval lim = {(time_t)limit, 0};
    evtimer_add(B.hard, &lim);
    if (B.o.idle) {
        int rc = run_idle();
        bh_pool_free(B.pool);
        event_free(B.hard);
        event_base_free(B.base);
        return rc;
    }

    /* Every request a student can make: login, start, get, saves, submit,
     * read-back, and a little slack. */
    B.request_cap = (uint64_t)B.o.students *
                    ((uint64_t)B.o.duration_s * 1000 / (uint64_t)B.o.think_ms + 8);
    char prefix[32];
    snprintf(prefix, sizeof(prefix), "%s", B.o.school);
    for (char *p = prefix; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    B.st = calloc((size_t)B.o.students, sizeof(*B.st));
    if (!B.st)
        abort();
    for (int i = 0; i < B.o.students; i++) {
        struct student *s = &B.st[i];
        s->idx = i;
        snprintf(s->username, sizeof(s->username), "%.20s%05d", prefix, i + 1);
        s->timer = evtimer_new(B.base, student_step, s);
    }
    B.pace = event_new(B.base, -1, EV_PERSIST, pace_logins, NULL);
    B.progress = event_new(B.base, -1, EV_PERSIST, progress, NULL);
    struct timeval five = {5, 0};
    event_add(B.progress, &five);
    if (B.o.password_login)
        logins_begin();
    else
        codes_issue(prefix);
    event_base_dispatch(B.base);
    int rc = report();

    bh_pool_free(B.pool);
    for (int i = 0; i < B.o.students; i++) {
        struct student *s = &B.st[i];
        event_free(s->timer);
        free(s->acks);
        free(s->pending_value);
        for (int k = 0; k < MAX_ITEMS; k++)
            free(s->last_value[k]);
    }
    free(B.st);
    for (int i = 0; i < NOPS; i++) {
        free(B.ops[i].lat_us);
        json_decref(B.ops[i].error_codes);
        json_decref(B.retried_codes[i]);
    }
    event_free(B.pace);
    event_free(B.progress);
    event_free(B.hard);
    event_base_free(B.base);
    return rc;
}

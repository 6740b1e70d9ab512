/*
 * The asynchronous PostgreSQL pool. Each connection is a small state machine
 * (down -> connecting -> preparing -> idle <-> busy) driven by libpq's
 * non-blocking calls and one libevent event on its socket. A query is one
 * pipeline segment: tenant settings, statements, Sync. The statements
 * between two Syncs form one implicit transaction, so a failure rolls
 * everything back without another round trip. A query goes to an idle
 * connection; when none is idle, it is pipelined behind the queries of the
 * least loaded connection (up to PIPELINE_DEPTH), so that a busy loop does
 * not pay a round trip and a backend wake-up per query. A health check's query
 * (pg_query_first) goes ahead of the waiting ones, so that a long queue during
 * a storm does not make a working gateway look dead. A broken connection,
 * or one that meets a read-only server (a standby after a failover), fails
 * its queries as unavailable and reconnects with backoff.
 */
#include "pgpool.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "log.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
#define PIPELINE_DEPTH 8 /* queries in flight on one connection */
/* read_only_sql_transaction: the server is a standby, not the primary. */
#define READ_ONLY_SQLSTATE "25006"

struct pg_pending_stmt {
    const char *name;
    int nparams;
    char **values;
};

enum conn_state { C_DOWN, C_CONNECTING, C_PREPARING, C_IDLE, C_BUSY };

struct pg_conn {
    struct pg_pool *pool;
    PGconn *pg;
    enum conn_state state;
    struct event *ev;       /* socket readiness, re-created when the socket changes */
    int ev_fd;
    short watching;         /* events ev is registered for */
    struct event *timer;    /* reconnect backoff, or the deadline of the current work */
    int backoff_ms;
    pg_query *q, *q_tail;   /* queries in flight, in pipeline order (next_waiting links) */
    int nq;
    int nbg;                /* background queries among them (0 or 1) */
    uint64_t bg_sent_ms;    /* when the background one was sent */
    int cmd;                /* command of the first query whose results are being read */
};

struct pg_pool {
    struct event_base *base;
    char *conninfo;
    char options[64];
    int size, timeout_ms, queue_max;
    struct pg_conn *conns;
    pg_query *wait_head, *wait_tail;
    int nwaiting;
    int closing;            /* pg_pool_free in progress: refuse new queries */
    struct event *sweeper;  /* expires queries that waited too long */
    /* Stats, read by the metrics endpoint from other threads. */
    int st_live, st_in_use, st_waiting;
    uint64_t st_errors, st_unavailable, st_timeouts, st_reconnects;
};

static const struct pg_stmt_def *registry[64];
static int registry_n[64];
static int nregistry;

static void conn_start(struct pg_conn *c);
static void conn_fail(struct pg_conn *c, enum pg_status st, const char *msg);
static void conn_on_socket(evutil_socket_t fd, short what, void *arg);
static void conn_on_timer(evutil_socket_t fd, short what, void *arg);
static void pool_pump(struct pg_pool *pool);

static const char tenant_sql[] =
    "SELECT set_config('kiemtra.school_id', $1, true), set_config('kiemtra.province_id', $2, true),"
    " set_config('kiemtra.admin_province', $3, true), set_config('kiemtra.user_id', $4, true),"
    " set_config('kiemtra.role', $5, true),"
    " set_config('plan_cache_mode', coalesce($6, current_setting('plan_cache_mode')), true),"
    " set_config('enable_seqscan', CASE WHEN $6 IS NULL THEN current_setting('enable_seqscan')"
    "   ELSE 'off' END, true)";

static uint64_t
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Background work (pg_query_background) of the whole process: one query at
 * a time, and after each a pause as long as it took, so that scoring behind
 * a storm of submits uses at most half of one database backend and the
 * saves keep the rest. */
static int bg_busy;          /* atomic: a background query is in flight */
static uint64_t bg_next_ms;  /* atomic: none starts before this */

static int
bg_take(void)
{
    int idle = 0;
    if (mono_ms() < __atomic_load_n(&bg_next_ms, __ATOMIC_RELAXED))
        return 0;
    return __atomic_compare_exchange_n(&bg_busy, &idle, 1, 0, __ATOMIC_ACQ_REL,
                                       __ATOMIC_RELAXED);
}

static void
bg_release(uint64_t sent_ms)
{
    uint64_t now = mono_ms();
    __atomic_store_n(&bg_next_ms, now + (now - sent_ms), __ATOMIC_RELAXED);
    __atomic_store_n(&bg_busy, 0, __ATOMIC_RELEASE);
}

#define STAT_SET(p, f, v) __atomic_store_n(&(p)->f, (v), __ATOMIC_RELAXED)
#define STAT_ADD(p, f) __atomic_add_fetch(&(p)->f, 1, __ATOMIC_RELAXED)
#define STAT_GET(p, f) __atomic_load_n(&(p)->f, __ATOMIC_RELAXED)

/* The name of the k-th statement prepared on a connection (0 is kt_tenant). */
static const char *
prepared_name(int k)
{
    if (k-- == 0)
        return "kt_tenant";
    for (int r = 0; r < nregistry; k -= registry_n[r++])
        if (k < registry_n[r])
            return registry[r][k].name;
    return "?";
}

void
pg_register_statements(const struct pg_stmt_def *defs, int n)
{
    /* Two modules preparing the same name would break every connection. */
    for (int i = 0; i < n; i++)
        for (int r = 0; r < nregistry; r++)
            for (int k = 0; k < registry_n[r]; k++)
                if (strcmp(registry[r][k].name, defs[i].name) == 0) {
                    log_error("statement name %s registered twice", defs[i].name);
                    abort();
                }
    if (nregistry < (int)(sizeof(registry) / sizeof(registry[0]))) {
        registry[nregistry] = defs;
        registry_n[nregistry++] = n;
    }
}

/* ------------------------------------------------------------------------ */
/* Queries                                                                  */

pg_query *
pg_query_new(const struct kt_tenant *tenant)
{
    pg_query *q = calloc(1, sizeof(*q));
    if (!q)
        abort();
    q->failed_stmt = -1;
    q->stmts = calloc(PG_MAX_STMTS, sizeof(*q->stmts));
    if (!q->stmts)
        abort();
    if (tenant) {
        q->tenant = *tenant;
        q->has_tenant = 1;
    }
    return q;
}

void
pg_query_add(pg_query *q, const char *stmt, int nparams, const char *const *values)
{
    if (q->nstmts == PG_MAX_STMTS)
        abort(); /* programming error */
    struct pg_pending_stmt *s = &q->stmts[q->nstmts++];
    s->name = stmt;
    s->nparams = nparams;
    s->values = calloc((size_t)(nparams ? nparams : 1), sizeof(char *));
    if (!s->values)
        abort();
    for (int i = 0; i < nparams; i++)
        if (values[i] && !(s->values[i] = strdup(values[i])))
            abort();
}

void
pg_query_free(pg_query *q)
{
    if (!q)
        return;
    for (int i = 0; i < q->nstmts; i++) {
        for (int j = 0; j < q->stmts[i].nparams; j++)
            free(q->stmts[i].values[j]);
        free(q->stmts[i].values);
    }
    free(q->stmts);
    for (int i = 0; i < q->nresults; i++)
        PQclear(q->results[i]);
    free(q->error);
    free(q);
}

int
pg_ntuples(const pg_query *q, int stmt)
{
    if (stmt < 0 || stmt >= q->nresults || !q->results[stmt])
        return 0;
    return PQntuples(q->results[stmt]);
}

const char *
pg_value(const pg_query *q, int stmt, int row, int col)
{
    if (stmt < 0 || stmt >= q->nresults || !q->results[stmt])
        return NULL;
    const PGresult *r = q->results[stmt];
    if (row >= PQntuples(r) || col >= PQnfields(r) || PQgetisnull(r, row, col))
        return NULL;
    return PQgetvalue(r, row, col);
}

static void
query_finish(pg_query *q, enum pg_status st, const char *msg)
{
    q->status = st;
    if (st != PG_OK && !q->error)
        q->error = strdup(msg ? msg : "database error");
    q->cb(q, q->arg);
}

/* ------------------------------------------------------------------------ */
/* Connections                                                              */

static void
conn_watch(struct pg_conn *c, short what)
{
    int fd = PQsocket(c->pg);
    if (c->ev && c->ev_fd != fd) {
        event_free(c->ev);
        c->ev = NULL;
    }
    if (fd < 0)
        return;
    if (!c->ev) {
        c->ev = event_new(c->pool->base, fd, EV_READ | EV_PERSIST, conn_on_socket, c);
        c->ev_fd = fd;
        c->watching = 0;
    } else if (c->watching == what) {
        return; /* no epoll_ctl when nothing changes */
    }
    c->watching = what;
    event_del(c->ev);
    event_assign(c->ev, c->pool->base, fd, what | EV_PERSIST, conn_on_socket, c);
    event_add(c->ev, NULL);
}

static void
arm(struct event *ev, int ms)
{
    struct timeval tv = {ms / 1000, (long)(ms % 1000) * 1000};
    evtimer_add(ev, &tv);
}

static int
pool_live(const struct pg_pool *pool)
{
    int n = 0;
    for (int i = 0; i < pool->size; i++)
        n += pool->conns[i].state >= C_IDLE;
    return n;
}

static int
pool_connecting(const struct pg_pool *pool)
{
    for (int i = 0; i < pool->size; i++)
        if (pool->conns[i].state == C_CONNECTING || pool->conns[i].state == C_PREPARING)
            return 1;
    return 0;
}

static void
update_stats(struct pg_pool *pool)
{
    int busy = 0;
    for (int i = 0; i < pool->size; i++)
        busy += pool->conns[i].state == C_BUSY;
    STAT_SET(pool, st_live, pool_live(pool));
    STAT_SET(pool, st_in_use, busy);
    STAT_SET(pool, st_waiting, pool->nwaiting);
}

/* Fails every waiting query when no connection can serve them soon. */
static void
fail_waiters_if_down(struct pg_pool *pool)
{
    if (pool_live(pool) || pool_connecting(pool))
        return;
    while (pool->wait_head) {
        pg_query *q = pool->wait_head;
        pool->wait_head = q->next_waiting;
        pool->nwaiting--;
        STAT_ADD(pool, st_unavailable);
        query_finish(q, PG_UNAVAILABLE, "database unavailable");
    }
    pool->wait_tail = NULL;
    update_stats(pool);
}

static void
conn_schedule_reconnect(struct pg_conn *c)
{
    if (c->ev) {
        event_free(c->ev);
        c->ev = NULL;
    }
    if (c->pg) {
        PQfinish(c->pg);
        c->pg = NULL;
    }
    c->state = C_DOWN;
    evtimer_del(c->timer);
    arm(c->timer, c->backoff_ms);
    c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
}

/* The connection broke (or timed out): fail its queries and reconnect later. */
static void
conn_fail(struct pg_conn *c, enum pg_status st, const char *why)
{
    /* why may be libpq's own message, freed with the connection below. */
    char msg[512];
    snprintf(msg, sizeof(msg), "%s", why ? why : "");
    pg_query *q = c->q;
    int was_live = c->state >= C_IDLE;
    c->q = c->q_tail = NULL;
    c->nq = 0;
    if (c->nbg)
        bg_release(c->bg_sent_ms);
    c->nbg = 0;
    if (was_live || c->state == C_PREPARING)
        log_warn("db connection lost: %s", msg);
    conn_schedule_reconnect(c);
    struct pg_pool *pool = c->pool;
    update_stats(pool);
    while (q) {
        pg_query *next = q->next_waiting;
        STAT_ADD(pool, st_errors);
        if (st == PG_TIMEOUT)
            STAT_ADD(pool, st_timeouts);
        else
            STAT_ADD(pool, st_unavailable);
        query_finish(q, st, msg);
        q = next;
    }
    fail_waiters_if_down(pool);
}

static void
conn_start(struct pg_conn *c)
{
    struct pg_pool *pool = c->pool;
    const char *keys[] = {"dbname", "options", "application_name", NULL};
    const char *vals[] = {pool->conninfo, pool->options, "kiemtra", NULL};
    c->cmd = 0;
    c->pg = PQconnectStartParams(keys, vals, 1);
    if (!c->pg || PQstatus(c->pg) == CONNECTION_BAD) {
        conn_schedule_reconnect(c);
        fail_waiters_if_down(pool);
        return;
    }
    PQsetnonblocking(c->pg, 1);
    c->state = C_CONNECTING;
    conn_watch(c, EV_WRITE);
    arm(c->timer, pool->timeout_ms);
}

/* Sends the statement registry as one pipeline of Parse messages. */
static int
conn_send_prepares(struct pg_conn *c)
{
    if (!PQenterPipelineMode(c->pg))
        return -1;
    if (!PQsendPrepare(c->pg, "kt_tenant", tenant_sql, 6, NULL))
        return -1;
    for (int r = 0; r < nregistry; r++)
        for (int i = 0; i < registry_n[r]; i++)
            if (!PQsendPrepare(c->pg, registry[r][i].name, registry[r][i].sql, 0, NULL))
                return -1;
    if (!PQpipelineSync(c->pg))
        return -1;
    return 0;
}

static int
conn_send_query(struct pg_conn *c, pg_query *q)
{
    if (q->has_tenant) {
        char v[4][24];
        snprintf(v[0], sizeof(v[0]), "%lld", (long long)q->tenant.school_id);
        snprintf(v[1], sizeof(v[1]), "%lld", (long long)q->tenant.province_id);
        snprintf(v[2], sizeof(v[2]), "%lld", (long long)q->tenant.admin_province);
        snprintf(v[3], sizeof(v[3]), "%lld", (long long)q->tenant.user_id);
        const char *params[6] = {q->tenant.school_id ? v[0] : "", q->tenant.province_id ? v[1] : "",
                                 q->tenant.admin_province ? v[2] : "",
                                 q->tenant.user_id ? v[3] : "", q->tenant.role ? q->tenant.role : "",
                                 q->tenant.generic_plans ? "force_generic_plan" : NULL};
        if (!PQsendQueryPrepared(c->pg, "kt_tenant", 6, params, NULL, NULL, 0))
            return -1;
    }
    for (int i = 0; i < q->nstmts; i++) {
        struct pg_pending_stmt *s = &q->stmts[i];
        if (!PQsendQueryPrepared(c->pg, s->name, s->nparams, (const char *const *)s->values, NULL,
                                 NULL, 0))
            return -1;
    }
    if (!PQpipelineSync(c->pg))
        return -1;
    return 0;
}

/* Pushes queued output; waits for writability while libpq still holds some. */
static int
conn_flush(struct pg_conn *c)
{
    int r = PQflush(c->pg);
    if (r < 0)
        return -1;
    conn_watch(c, r ? EV_READ | EV_WRITE : EV_READ);
    return 0;
}

static void
conn_became_idle(struct pg_conn *c)
{
    c->state = C_IDLE;
    evtimer_del(c->timer);
    update_stats(c->pool);
    pool_pump(c->pool);
}

/* Reads every result available. preparing: returns 1 when the statements
 * are prepared. Otherwise moves each query whose Sync arrived from the
 * connection to *done (in order) and returns 0. -1 when the connection broke. */
static int
conn_read_results(struct pg_conn *c, int preparing, pg_query **done)
{
    if (!PQconsumeInput(c->pg))
        return -1;
    pg_query **done_tail = done;
    while ((preparing || c->q) && !PQisBusy(c->pg)) {
        PGresult *r = PQgetResult(c->pg);
        if (!r) {
            c->cmd++; /* end of one command's results */
            continue;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            c->cmd = 0;
            if (preparing)
                return 1;
            pg_query *q = c->q; /* its transaction is over */
            c->q = q->next_waiting;
            if (!c->q)
                c->q_tail = NULL;
            c->nq--;
            if (q->background) {
                c->nbg--;
                bg_release(c->bg_sent_ms);
            }
            q->next_waiting = NULL;
            *done_tail = q;
            done_tail = &q->next_waiting;
            continue;
        }
        if (preparing) {
            if (st == PGRES_FATAL_ERROR)
                log_error("cannot prepare statement %s: %s", prepared_name(c->cmd),
                          PQresultErrorMessage(r));
            PQclear(r);
            continue;
        }
        pg_query *q = c->q;
        int idx = c->cmd - q->has_tenant;
        if (st == PGRES_FATAL_ERROR && q->failed_stmt < 0) {
            q->failed_stmt = idx;
            const char *ss = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            snprintf(q->sqlstate, sizeof(q->sqlstate), "%s", ss ? ss : "XX000");
            const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
            free(q->error);
            q->error = strdup(m ? m : "error");
        }
        if (idx >= 0 && idx < PG_MAX_STMTS && idx == q->nresults)
            q->results[q->nresults++] = r;
        else
            PQclear(r);
    }
    return 0;
}

static void
conn_on_socket(evutil_socket_t fd, short what, void *arg)
{
    struct pg_conn *c = arg;
    (void)fd;
    if (c->state == C_CONNECTING) {
        switch (PQconnectPoll(c->pg)) {
        case PGRES_POLLING_READING:
            conn_watch(c, EV_READ);
            return;
        case PGRES_POLLING_WRITING:
            conn_watch(c, EV_WRITE);
            return;
        case PGRES_POLLING_OK:
            c->state = C_PREPARING;
            if (conn_send_prepares(c) < 0 || conn_flush(c) < 0)
                conn_fail(c, PG_UNAVAILABLE, PQerrorMessage(c->pg));
            return;
        default:
            conn_fail(c, PG_UNAVAILABLE, PQerrorMessage(c->pg));
            return;
        }
    }
    if ((what & EV_WRITE) && conn_flush(c) < 0) {
        conn_fail(c, PG_UNAVAILABLE, PQerrorMessage(c->pg));
        return;
    }
    if (!(what & EV_READ))
        return;
    if (c->state == C_PREPARING) {
        int done = conn_read_results(c, 1, NULL);
        if (done < 0) {
            conn_fail(c, PG_UNAVAILABLE, PQerrorMessage(c->pg));
        } else if (done) {
            if (c->backoff_ms > BACKOFF_MIN_MS || STAT_GET(c->pool, st_reconnects) == 0)
                log_info("db connection ready");
            c->backoff_ms = BACKOFF_MIN_MS;
            STAT_ADD(c->pool, st_reconnects);
            conn_became_idle(c);
        }
        return;
    }
    if (c->state == C_BUSY) {
        pg_query *done = NULL;
        if (conn_read_results(c, 0, &done) < 0) {
            conn_fail(c, PG_UNAVAILABLE, PQerrorMessage(c->pg));
            return;
        }
        if (!done)
            return;
        struct pg_pool *pool = c->pool;
        int read_only = 0;
        for (pg_query *q = done; q; q = q->next_waiting)
            read_only |= q->failed_stmt >= 0 && strcmp(q->sqlstate, READ_ONLY_SQLSTATE) == 0;
        if (read_only) {
            /* A standby (a demoted primary, or one reached without
             * target_session_attrs=read-write): drop the connection and
             * find the primary again; the queries in flight fail as
             * unavailable, so that their clients retry (503). */
            conn_fail(c, PG_UNAVAILABLE, "the server is read-only (a standby)");
        } else {
            evtimer_del(c->timer);
            if (c->q)
                arm(c->timer, pool->timeout_ms); /* the next query's deadline */
            else
                c->state = C_IDLE;
            update_stats(pool);
        }
        /* Callbacks last: they may queue queries on this very connection. */
        while (done) {
            pg_query *q = done, *next = q->next_waiting;
            enum pg_status st = q->failed_stmt >= 0 ? PG_ERROR : PG_OK;
            if (st == PG_ERROR && strcmp(q->sqlstate, READ_ONLY_SQLSTATE) == 0) {
                st = PG_UNAVAILABLE;
                STAT_ADD(pool, st_unavailable);
            }
            if (q->failed_stmt >= 0)
                STAT_ADD(pool, st_errors);
            query_finish(q, st, NULL);
            done = next;
        }
        pool_pump(pool);
        return;
    }
    /* Idle connection readable: the server closed it (restart, terminate). */
    if (c->state == C_IDLE && (!PQconsumeInput(c->pg) || PQstatus(c->pg) == CONNECTION_BAD))
        conn_fail(c, PG_UNAVAILABLE, "server closed the connection");
}

static void
conn_on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct pg_conn *c = arg;
    (void)fd;
    (void)what;
    switch (c->state) {
    case C_DOWN:
        conn_start(c);
        break;
    case C_CONNECTING:
    case C_PREPARING:
        conn_fail(c, PG_UNAVAILABLE, "connection attempt timed out");
        break;
    case C_BUSY:
        conn_fail(c, PG_TIMEOUT, "query timed out");
        break;
    case C_IDLE:
        break;
    }
}

/* ------------------------------------------------------------------------ */
/* Pool                                                                     */

/* The connection a waiting query should go to: an idle one, else the live
 * one with the fewest queries in flight below PIPELINE_DEPTH (any depth for a
 * pg_query_first query) and no background query; NULL if none. A background
 * query takes only an idle connection, and only with the process's
 * background slot (bg_take). */
static struct pg_conn *
pool_pick(struct pg_pool *pool, const pg_query *q)
{
    struct pg_conn *best = NULL;
    for (int i = 0; i < pool->size; i++) {
        struct pg_conn *c = &pool->conns[i];
        if (c->state == C_IDLE)
            return !q->background || bg_take() ? c : NULL;
        if (q->background || c->state != C_BUSY)
            continue;
        if ((c->nq < PIPELINE_DEPTH && !c->nbg) || q->first) {
            if (!best || c->nq < best->nq)
                best = c;
        }
    }
    return best;
}

static void
pool_pump(struct pg_pool *pool)
{
    /* In queue order; a background query that cannot go yet lets the
     * queries behind it pass, any other stops the walk (nothing behind it
     * would find a connection either). */
    pg_query **link = &pool->wait_head, *prev = NULL;
    while (*link) {
        pg_query *q = *link;
        struct pg_conn *c = pool_pick(pool, q);
        if (!c) {
            if (!q->background)
                break;
            prev = q;
            link = &q->next_waiting;
            continue;
        }
        *link = q->next_waiting;
        if (pool->wait_tail == q)
            pool->wait_tail = prev;
        pool->nwaiting--;
        q->next_waiting = NULL;
        if (q->background) {
            c->nbg++;
            c->bg_sent_ms = mono_ms();
        }
        if (c->q_tail)
            c->q_tail->next_waiting = q;
        else
            c->q = q;
        c->q_tail = q;
        c->nq++;
        if (c->state == C_IDLE)
            arm(c->timer, pool->timeout_ms);
        c->state = C_BUSY;
        if (conn_send_query(c, q) < 0 || conn_flush(c) < 0) {
            conn_fail(c, PG_UNAVAILABLE, PQerrorMessage(c->pg));
            /* Its callbacks may have changed the queue: walk it again. */
            link = &pool->wait_head;
            prev = NULL;
        }
    }
    update_stats(pool);
}

void
pg_query_run(struct pg_pool *pool, pg_query *q, pg_cb cb, void *arg)
{
    q->cb = cb;
    q->arg = arg;
    if (pool->closing || (!pool_live(pool) && !pool_connecting(pool))) {
        STAT_ADD(pool, st_unavailable);
        query_finish(q, PG_UNAVAILABLE, "database unavailable");
        return;
    }
    if (pool->nwaiting >= pool->queue_max && !q->first) {
        query_finish(q, PG_OVERLOADED, "too many queries waiting");
        return;
    }
    q->queued_ms = mono_ms();
    if (q->first) {
        /* Ahead of the queue: its wait says nothing about the database.
         * Never younger than the query behind it: the sweeper expires from
         * the head while the head is too old. */
        if (pool->wait_head && pool->wait_head->queued_ms < q->queued_ms)
            q->queued_ms = pool->wait_head->queued_ms;
        q->next_waiting = pool->wait_head;
        pool->wait_head = q;
        if (!pool->wait_tail)
            pool->wait_tail = q;
    } else {
        q->next_waiting = NULL;
        if (pool->wait_tail)
            pool->wait_tail->next_waiting = q;
        else
            pool->wait_head = q;
        pool->wait_tail = q;
    }
    pool->nwaiting++;
    pool_pump(pool);
}

void
pg_query_first(pg_query *q)
{
    q->first = 1;
}

void
pg_query_background(pg_query *q)
{
    q->background = 1;
}

static void
pool_sweep(evutil_socket_t fd, short what, void *arg)
{
    struct pg_pool *pool = arg;
    (void)fd;
    (void)what;
    uint64_t now = mono_ms();
    while (pool->wait_head && now - pool->wait_head->queued_ms > (uint64_t)pool->timeout_ms) {
        pg_query *q = pool->wait_head;
        pool->wait_head = q->next_waiting;
        if (!pool->wait_head)
            pool->wait_tail = NULL;
        pool->nwaiting--;
        STAT_ADD(pool, st_timeouts);
        query_finish(q, PG_TIMEOUT, "waited too long for a database connection");
    }
    pool_pump(pool); /* background work whose pause is over, on a quiet pool */
}

struct pg_pool *
pg_pool_new(struct event_base *base, const char *conninfo, int size, int timeout_ms, int queue_max)
{
    struct pg_pool *pool = calloc(1, sizeof(*pool));
    if (!pool)
        return NULL;
    pool->base = base;
    pool->conninfo = strdup(conninfo);
    snprintf(pool->options, sizeof(pool->options), "-c statement_timeout=%d", timeout_ms);
    pool->size = size;
    pool->timeout_ms = timeout_ms;
    pool->queue_max = queue_max;
    pool->conns = calloc((size_t)size, sizeof(*pool->conns));
    for (int i = 0; i < size; i++) {
        struct pg_conn *c = &pool->conns[i];
        c->pool = pool;
        c->backoff_ms = BACKOFF_MIN_MS;
        c->ev_fd = -1;
        c->timer = evtimer_new(base, conn_on_timer, c);
        conn_start(c);
    }
    pool->sweeper = event_new(base, -1, EV_PERSIST, pool_sweep, pool);
    struct timeval tv = {0, 250000};
    event_add(pool->sweeper, &tv);
    return pool;
}

void
pg_pool_free(struct pg_pool *pool)
{
    if (!pool)
        return;
    pool->closing = 1;
    while (pool->wait_head) {
        pg_query *q = pool->wait_head;
        pool->wait_head = q->next_waiting;
        query_finish(q, PG_UNAVAILABLE, "shutting down");
    }
    for (int i = 0; i < pool->size; i++) {
        struct pg_conn *c = &pool->conns[i];
        while (c->q) {
            pg_query *q = c->q;
            c->q = q->next_waiting;
            query_finish(q, PG_UNAVAILABLE, "shutting down");
        }
        if (c->ev)
            event_free(c->ev);
        event_free(c->timer);
        if (c->pg)
            PQfinish(c->pg);
    }
    event_free(pool->sweeper);
    free(pool->conns);
    free(pool->conninfo);
    free(pool);
}

void
pg_pool_stats(const struct pg_pool *pool, struct pg_pool_stats *out)
{
    out->size = pool->size;
    out->live = STAT_GET(pool, st_live);
    out->in_use = STAT_GET(pool, st_in_use);
    out->waiting = STAT_GET(pool, st_waiting);
    out->errors = STAT_GET(pool, st_errors);
    out->unavailable = STAT_GET(pool, st_unavailable);
    out->timeouts = STAT_GET(pool, st_timeouts);
    out->reconnects = STAT_GET(pool, st_reconnects);
}

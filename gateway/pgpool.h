/*
 * Asynchronous PostgreSQL pool, one per worker event loop. A query is a short
 * list of prepared statements sent as one pipeline and run as one implicit
 * transaction, preceded by the caller's tenant settings; the callback runs on
 * the loop when every result is in. Nothing here ever blocks the loop.
 */
#ifndef KT_PGPOOL_H
#define KT_PGPOOL_H

#include <libpq-fe.h>
#include <stdint.h>

struct event_base;
struct pg_pool;

#define PG_MAX_STMTS 16

enum pg_status {
    PG_OK,          /* every statement succeeded and the transaction committed */
    PG_ERROR,       /* a statement failed (sqlstate, error set); nothing was committed */
    PG_UNAVAILABLE, /* no database connection (down or restarting) */
    PG_TIMEOUT,     /* no answer within the deadline */
    PG_OVERLOADED   /* too many queries waiting for a connection */
};

/* Who is asking: sets kiemtra.* for row-level security. Zero means unset. */
struct kt_tenant {
    int64_t school_id;
    int64_t province_id;
    int64_t admin_province; /* province of an admin caller */
    int64_t user_id;
    const char *role;
    /* The transaction's statements run with their generic plans: a batch
     * whose custom plan is estimated cheaper for a known school id was
     * planned anew at every run (1.4 ms for each save batch). And without
     * sequential scans: a batch looks its rows up by key, but the planner
     * takes any jsonb_to_recordset for 100 rows, and once `attempts` was
     * analysed at 10,000 rows it hashed the whole table for every save
     * batch (4.4 ms for 30 saves instead of 1.4 ms, 12 ms for 200). */
    int generic_plans;
};

typedef struct pg_query pg_query;
typedef void (*pg_cb)(pg_query *q, void *arg);

struct pg_stmt_def {
    const char *name;
    const char *sql;
};

struct pg_query {
    enum pg_status status;
    int nresults;                    /* results of the caller's statements */
    PGresult *results[PG_MAX_STMTS];
    int failed_stmt;                 /* index of the failing statement, or -1 */
    char sqlstate[6];
    char *error;                     /* server or client message when status != PG_OK */

    /* Internal. */
    struct kt_tenant tenant;
    int has_tenant;
    int nstmts;
    struct pg_pending_stmt *stmts;
    pg_cb cb;
    void *arg;
    uint64_t queued_ms;
    int first; /* pg_query_first: ahead of every waiting query */
    int background; /* pg_query_background */
    struct pg_query *next_waiting;
};

/* Statements are prepared on every new connection; register them all before
 * the first pool is created. */
void pg_register_statements(const struct pg_stmt_def *defs, int n);

struct pg_pool *pg_pool_new(struct event_base *base, const char *conninfo, int size,
                            int timeout_ms, int queue_max);
void pg_pool_free(struct pg_pool *pool);

pg_query *pg_query_new(const struct kt_tenant *tenant);
/* Adds a prepared statement; values are copied (NULL entries are SQL NULL). */
void pg_query_add(pg_query *q, const char *stmt, int nparams, const char *const *values);
/* Runs the query; cb is called exactly once, on the pool's loop, later. */
void pg_query_run(struct pg_pool *pool, pg_query *q, pg_cb cb, void *arg);
/* Marks a query to run ahead of every waiting one, on the least loaded live
 * connection even when its pipeline is full: for a health check, which
 * measures whether the database answers, not how long the queue is. */
void pg_query_first(pg_query *q);
/* Marks work nobody waits for at a screen (scoring behind an acknowledged
 * submit, the expiry job): it runs only on an idle connection, one such
 * query at a time in the whole process with a pause after each as long as
 * it took, and no other query is pipelined behind it, so that saves and
 * submits never queue behind a long score store and keep most of the
 * database's CPU during a storm. Waiting queries behind it may go first. */
void pg_query_background(pg_query *q);
void pg_query_free(pg_query *q);

/* Convenience accessors on results[i]. */
int pg_ntuples(const pg_query *q, int stmt);
const char *pg_value(const pg_query *q, int stmt, int row, int col); /* NULL when SQL NULL */

struct pg_pool_stats {
    int size, live, in_use, waiting;
    uint64_t errors, unavailable, timeouts, reconnects;
};
void pg_pool_stats(const struct pg_pool *pool, struct pg_pool_stats *out);

#endif

/*
 * Group commit: writes of many requests of one school in one transaction.
 *
 * A request that needs a durable write joins its school's queue on its
 * worker; at most inflight_max transactions per school and worker are in
 * flight, so while they run the queue fills and the next transaction
 * carries up to batch_max requests. A queue also sends at most one
 * transaction per gather_ms unless gather_min requests are waiting: each
 * transaction costs the database a good part of what its rows cost
 * (executor start, commit, WAL flush, the round trip), so a few
 * milliseconds of gathering under load take a quarter to nearly half of
 * the database's work away (docs/BENCHMARKS.md), while a request that
 * comes alone after a quiet spell goes at once. Each request is answered
 * only after its transaction has committed. When the database refuses a
 * transaction of several requests, each is sent again on its own, so that
 * one bad request never fails the others.
 *
 * Everything here runs on the worker's own loop: no locks.
 */
#ifndef KT_GROUP_H
#define KT_GROUP_H

#include <stdint.h>
#include <stdio.h>
#include <sys/queue.h>

#include <jansson.h>

#include "pgpool.h"

struct kt_worker;

/* The first member of a kind's own request record. */
struct kt_group_item {
    TAILQ_ENTRY(kt_group_item) link;
};

/* Counters of one kind, for /metrics: transactions sent and the requests
 * they carried (rows / batches is the mean batch). Process-wide, atomic. */
struct kt_group_stats {
    const char *name; /* "save", "start"...: the metrics label */
    uint64_t batches, rows;
};

struct kt_group_kind {
    struct kt_group_stats *stats; /* the kind's own counters */
    int batch_max;    /* requests per transaction */
    int inflight_max; /* transactions in flight per school and worker */
    /* At most one transaction per gather_ms (0: no wait) unless gather_min
     * requests are waiting: a request waits at most gather_ms. */
    int gather_ms, gather_min;
    /* The transaction for items[0..n), all of school_id. */
    pg_query *(*build)(int64_t school_id, struct kt_group_item **items, int n);
    /* Answers every item from the committed (or, for a single item, failed)
     * transaction, and frees them. */
    void (*done)(pg_query *q, struct kt_group_item **items, int n);
};

/* The usual transaction of a batch: each of stmts[0..nstmts) runs with the
 * batch's rows as one JSON array ($1) and the school's id ($2), under the
 * school's tenant with the given non-student role (the statements check
 * each row's student themselves). Takes the reference to rows. */
pg_query *kt_group_query(int64_t school_id, const char *role, json_t *rows,
                         const char *const *stmts, int nstmts);

void kt_group_add(const struct kt_group_kind *kind, struct kt_worker *w, int64_t school_id,
                  struct kt_group_item *item);

/* At startup, before the workers run: a kind's counters in /metrics. */
void kt_group_register(struct kt_group_stats *stats);

/* Writes the registered kinds' counters in the Prometheus text format. */
void kt_group_metrics(FILE *f);

/* Once this thread's loop has stopped: answers the requests still queued
 * (database unavailable) and frees the queues; a queue with a transaction
 * still in flight is freed when the pool fails it. */
void kt_group_thread_end(void);

#endif

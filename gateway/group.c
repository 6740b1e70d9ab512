/* Group commit per school and worker: see group.h. */
#include "group.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "server.h"

#define GROUP_MAX_BATCH 1000
#define BUCKETS 256

TAILQ_HEAD(group_list, kt_group_item);

/* The requests of one kind and school waiting on this worker. */
struct queue {
    const struct kt_group_kind *kind;
    int64_t school_id;
    struct kt_worker *w;
    struct group_list pending;
    int npending;
    int inflight;
    uint64_t last_flush_us;
    struct event *gather; /* pending: the next batch is gathering */
    int closed;           /* the loop has stopped: freed by its last batch */
    struct queue *next;
};

struct batch {
    struct queue *owner;
    int n;
    struct kt_group_item *items[];
};

/* The kinds shown in /metrics: set at startup, read-only afterwards. */
#define MAX_KINDS 8
static struct kt_group_stats *kinds[MAX_KINDS];
static int nkinds;

void
kt_group_register(struct kt_group_stats *stats)
{
    if (nkinds == MAX_KINDS)
        abort(); /* a programming error: raise MAX_KINDS */
    kinds[nkinds++] = stats;
}

/* Each worker thread touches only its own table. */
static __thread struct queue *table[BUCKETS];

static struct queue *
queue_of(const struct kt_group_kind *kind, struct kt_worker *w, int64_t school_id)
{
    uint64_t k = (uint64_t)school_id ^ (uint64_t)(uintptr_t)kind;
    unsigned h = (unsigned)(k * 0x9E3779B97F4A7C15ull >> 56) % BUCKETS;
    for (struct queue *q = table[h]; q; q = q->next)
        if (q->kind == kind && q->school_id == school_id)
            return q;
    struct queue *q = calloc(1, sizeof(*q));
    if (!q)
        abort();
    q->kind = kind;
    q->school_id = school_id;
    q->w = w;
    TAILQ_INIT(&q->pending);
    q->next = table[h];
    table[h] = q;
    return q;
}

static uint64_t
now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void send_batch(struct queue *qu, struct kt_group_item **items, int n);
static void gather_end(evutil_socket_t fd, short what, void *arg);

/* Takes up to max of the queue's oldest requests into items. */
static int
take(struct queue *qu, struct kt_group_item **items, int max)
{
    int n = 0;
    while (n < max && qu->npending) {
        items[n] = TAILQ_FIRST(&qu->pending);
        TAILQ_REMOVE(&qu->pending, items[n], link);
        qu->npending--;
        n++;
    }
    return n;
}

/* Sends the next batch now, or arms the timer for when the queue's
 * gathering time is up; called as requests come, when the timer fires and
 * when one of the queue's transactions ends. */
static void
maybe_flush(struct queue *qu)
{
    if (!qu->npending || qu->inflight >= qu->kind->inflight_max)
        return;
    uint64_t now = now_us();
    uint64_t ready = qu->last_flush_us + (uint64_t)qu->kind->gather_ms * 1000;
    if (!qu->kind->gather_ms || qu->npending >= qu->kind->gather_min || now >= ready) {
        if (qu->gather)
            evtimer_del(qu->gather);
        qu->last_flush_us = now;
        struct kt_group_item *items[GROUP_MAX_BATCH];
        int n = take(qu, items,
                     qu->kind->batch_max < GROUP_MAX_BATCH ? qu->kind->batch_max : GROUP_MAX_BATCH);
        send_batch(qu, items, n);
        return;
    }
    if (!qu->gather) {
        qu->gather = evtimer_new(qu->w->base, gather_end, qu);
        if (!qu->gather)
            abort();
    }
    if (!evtimer_pending(qu->gather, NULL)) {
        uint64_t wait = ready - now;
        struct timeval tv = {(time_t)(wait / 1000000), (suseconds_t)(wait % 1000000)};
        evtimer_add(qu->gather, &tv);
    }
}

static void
gather_end(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    maybe_flush(arg);
}

static void
batch_done(pg_query *q, void *arg)
{
    struct batch *b = arg;
    struct queue *qu = b->owner;
    qu->inflight--;
    if (q->status == PG_ERROR && b->n > 1 && !qu->closed) {
        for (int i = 0; i < b->n; i++)
            send_batch(qu, &b->items[i], 1);
    } else {
        qu->kind->done(q, b->items, b->n);
    }
    free(b);
    pg_query_free(q);
    if (qu->closed) {
        if (!qu->inflight)
            free(qu);
        return;
    }
    maybe_flush(qu);
}

static void
send_batch(struct queue *qu, struct kt_group_item **items, int n)
{
    struct batch *b = malloc(sizeof(*b) + (size_t)n * sizeof(struct kt_group_item *));
    if (!b)
        abort();
    b->owner = qu;
    b->n = n;
    for (int i = 0; i < n; i++)
        b->items[i] = items[i];
    pg_query *q = qu->kind->build(qu->school_id, b->items, n);
    __atomic_add_fetch(&qu->kind->stats->batches, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&qu->kind->stats->rows, (uint64_t)n, __ATOMIC_RELAXED);
    qu->inflight++;
    pg_query_run(qu->w->db, q, batch_done, b);
}

pg_query *
kt_group_query(int64_t school_id, const char *role, json_t *rows, const char *const *stmts,
               int nstmts)
{
    char *doc = json_dumps(rows, JSON_COMPACT);
    json_decref(rows);
    char sch[24];
    snprintf(sch, sizeof(sch), "%lld", (long long)school_id);
    struct kt_tenant t = {.school_id = school_id, .role = role, .generic_plans = 1};
    pg_query *q = pg_query_new(&t);
    const char *p[] = {doc, sch};
    for (int i = 0; i < nstmts; i++)
        pg_query_add(q, stmts[i], 2, p);
    free(doc);
    return q;
}

void
kt_group_add(const struct kt_group_kind *kind, struct kt_worker *w, int64_t school_id,
             struct kt_group_item *item)
{
    struct queue *qu = queue_of(kind, w, school_id);
    TAILQ_INSERT_TAIL(&qu->pending, item, link);
    qu->npending++;
    maybe_flush(qu);
}

void
kt_group_metrics(FILE *f)
{
    fprintf(f, "# HELP kiemtra_group_batches_total Group-commit transactions sent, by kind.\n"
               "# TYPE kiemtra_group_batches_total counter\n");
    for (int i = 0; i < nkinds; i++)
        fprintf(f, "kiemtra_group_batches_total{kind=\"%s\"} %llu\n", kinds[i]->name,
                (unsigned long long)__atomic_load_n(&kinds[i]->batches, __ATOMIC_RELAXED));
    fprintf(f, "# HELP kiemtra_group_rows_total Requests carried by group-commit transactions,"
               " by kind.\n"
               "# TYPE kiemtra_group_rows_total counter\n");
    for (int i = 0; i < nkinds; i++)
        fprintf(f, "kiemtra_group_rows_total{kind=\"%s\"} %llu\n", kinds[i]->name,
                (unsigned long long)__atomic_load_n(&kinds[i]->rows, __ATOMIC_RELAXED));
}

void
kt_group_thread_end(void)
{
    for (int h = 0; h < BUCKETS; h++) {
        while (table[h]) {
            struct queue *q = table[h];
            table[h] = q->next;
            if (q->gather)
                event_free(q->gather);
            /* Requests still waiting (the stop's grace ran out) are told
             * the database is unavailable: the client sends them again. */
            while (q->npending) {
                struct kt_group_item *items[GROUP_MAX_BATCH];
                int n = take(q, items, GROUP_MAX_BATCH);
                pg_query *none = pg_query_new(NULL);
                none->status = PG_UNAVAILABLE;
                none->error = strdup("shutting down");
                q->kind->done(none, items, n);
                pg_query_free(none);
            }
            /* A transaction still in flight (a database slower than the
             * stop's grace) is failed when the pool is freed, after this:
             * its batch frees the queue. */
            if (q->inflight)
                q->closed = 1;
            else
                free(q);
        }
    }
}

/*
 * Per-worker, lock-free counters for /metrics. Route index nroutes is the
 * "unmatched" bucket (404s, parse errors). Status codes outside the table
 * below are counted as "other".
 */
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "authfeed.h"
#include "group.h"
#include "pgpool.h"
#include "server.h"

static const int statuses[] = {200, 201, 204, 400, 401, 403, 404, 405, 408, 409,
                               411, 413, 415, 422, 429, 431, 500, 503, 504};
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]) + 1)
static const double bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                0.25,  0.5,    1.0,   2.5,  5.0,   10.0};
#define NBUCKET (sizeof(bounds) / sizeof(bounds[0]))

struct route_slot {
    uint64_t by_status[NSTATUS];
    uint64_t buckets[NBUCKET]; /* non-cumulative; summed when rendered */
    uint64_t sum_us;
    uint64_t count;
};

static int nw, nr;
static const char *const *names;
static struct route_slot *slots; /* [worker][route] */

int
kt_metrics_init(int nworkers, int nroutes, const char *const *route_names)
{
    nw = nworkers;
    nr = nroutes + 1;
    names = route_names;
    slots = calloc((size_t)nw * (size_t)nr, sizeof(*slots));
    return slots ? 0 : -1;
}

void
kt_metrics_observe(int worker, int route, int status, uint64_t duration_ns)
{
    if (!slots || worker < 0 || worker >= nw)
        return;
    if (route < 0 || route >= nr - 1)
        route = nr - 1;
    struct route_slot *s = &slots[(size_t)worker * (size_t)nr + (size_t)route];
    size_t si = NSTATUS - 1;
    for (size_t i = 0; i < NSTATUS - 1; i++)
        if (statuses[i] == status)
            si = i;
    double secs = (double)duration_ns / 1e9;
    size_t b = 0;
    while (b < NBUCKET && secs > bounds[b])
        b++;
    __atomic_add_fetch(&s->by_status[si], 1, __ATOMIC_RELAXED);
    if (b < NBUCKET)
        __atomic_add_fetch(&s->buckets[b], 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&s->sum_us, duration_ns / 1000, __ATOMIC_RELAXED);
    __atomic_add_fetch(&s->count, 1, __ATOMIC_RELAXED);
}

static uint64_t
sum_field(int route, size_t offset)
{
    uint64_t t = 0;
    for (int w = 0; w < nw; w++) {
        const char *base = (const char *)&slots[(size_t)w * (size_t)nr + (size_t)route];
        t += __atomic_load_n((const uint64_t *)(base + offset), __ATOMIC_RELAXED);
    }
    return t;
}

char *
kt_metrics_render(size_t *len)
{
    char *buf = NULL;
    size_t cap = 0;
    FILE *f = open_memstream(&buf, &cap);
    if (!f)
        return NULL;
    fputs("# HELP kiemtra_http_requests_total HTTP requests by route and status.\n"
          "# TYPE kiemtra_http_requests_total counter\n",
          f);
    for (int r = 0; r < nr; r++) {
        const char *name = r < nr - 1 ? names[r] : "unmatched";
        for (size_t si = 0; si < NSTATUS; si++) {
            uint64_t v = sum_field(r, offsetof(struct route_slot, by_status) + si * sizeof(uint64_t));
            if (!v)
                continue;
            if (si < NSTATUS - 1)
                fprintf(f, "kiemtra_http_requests_total{route=\"%s\",code=\"%d\"} %llu\n", name,
                        statuses[si], (unsigned long long)v);
            else
                fprintf(f, "kiemtra_http_requests_total{route=\"%s\",code=\"other\"} %llu\n", name,
                        (unsigned long long)v);
        }
    }
    fputs("# HELP kiemtra_http_request_duration_seconds Time from complete request head to reply.\n"
          "# TYPE kiemtra_http_request_duration_seconds histogram\n",
          f);
    for (int r = 0; r < nr; r++) {
        uint64_t count = sum_field(r, offsetof(struct route_slot, count));
        if (!count)
            continue;
        const char *name = r < nr - 1 ? names[r] : "unmatched";
        uint64_t cum = 0;
        for (size_t b = 0; b < NBUCKET; b++) {
            cum += sum_field(r, offsetof(struct route_slot, buckets) + b * sizeof(uint64_t));
            fprintf(f, "kiemtra_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                    name, bounds[b], (unsigned long long)cum);
        }
        fprintf(f, "kiemtra_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
                name, (unsigned long long)count);
        fprintf(f, "kiemtra_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", name,
                (double)sum_field(r, offsetof(struct route_slot, sum_us)) / 1e6);
        fprintf(f, "kiemtra_http_request_duration_seconds_count{route=\"%s\"} %llu\n", name,
                (unsigned long long)count);
    }

    struct pg_pool_stats t = {0};
    int conns = 0;
    for (int w = 0; w < kt_nworkers; w++) {
        struct pg_pool_stats s;
        pg_pool_stats(kt_workers[w].db, &s);
        t.size += s.size;
        t.live += s.live;
        t.in_use += s.in_use;
        t.waiting += s.waiting;
        t.errors += s.errors;
        t.unavailable += s.unavailable;
        t.timeouts += s.timeouts;
        t.reconnects += s.reconnects;
        conns += __atomic_load_n(&kt_workers[w].nconns, __ATOMIC_RELAXED);
    }
    fprintf(f,
            "# HELP kiemtra_db_pool_connections Database connections by state.\n"
            "# TYPE kiemtra_db_pool_connections gauge\n"
            "kiemtra_db_pool_connections{state=\"configured\"} %d\n"
            "kiemtra_db_pool_connections{state=\"live\"} %d\n"
            "kiemtra_db_pool_connections{state=\"in_use\"} %d\n"
            "# HELP kiemtra_db_pool_waiting Queries waiting for a connection.\n"
            "# TYPE kiemtra_db_pool_waiting gauge\n"
            "kiemtra_db_pool_waiting %d\n"
            "# HELP kiemtra_db_errors_total Queries that failed (SQL error, lost connection, timeout).\n"
            "# TYPE kiemtra_db_errors_total counter\n"
            "kiemtra_db_errors_total %llu\n"
            "# HELP kiemtra_db_unavailable_total Queries refused because no connection was up.\n"
            "# TYPE kiemtra_db_unavailable_total counter\n"
            "kiemtra_db_unavailable_total %llu\n"
            "# HELP kiemtra_db_timeouts_total Queries that hit the deadline.\n"
            "# TYPE kiemtra_db_timeouts_total counter\n"
            "kiemtra_db_timeouts_total %llu\n"
            "# HELP kiemtra_db_connects_total Successful (re)connections.\n"
            "# TYPE kiemtra_db_connects_total counter\n"
            "kiemtra_db_connects_total %llu\n"
            "# HELP kiemtra_http_connections Open client connections.\n"
            "# TYPE kiemtra_http_connections gauge\n"
            "kiemtra_http_connections %d\n",
            t.size, t.live, t.in_use, t.waiting, (unsigned long long)t.errors,
            (unsigned long long)t.unavailable, (unsigned long long)t.timeouts,
            (unsigned long long)t.reconnects, conns);
    struct kt_authfeed_stats feed;
    kt_authfeed_stats(&feed);
    uint64_t hits, misses;
    api_token_cache_counts(&hits, &misses);
    fprintf(f,
            "# HELP kiemtra_auth_feed_up 1 while the revocation feed listens (tokens remembered"
            " longer).\n"
            "# TYPE kiemtra_auth_feed_up gauge\n"
            "kiemtra_auth_feed_up %d\n"
            "# HELP kiemtra_auth_feed_connects_total Times the revocation feed started listening.\n"
            "# TYPE kiemtra_auth_feed_connects_total counter\n"
            "kiemtra_auth_feed_connects_total %llu\n"
            "# HELP kiemtra_auth_feed_events_total Session and account changes applied from the"
            " feed.\n"
            "# TYPE kiemtra_auth_feed_events_total counter\n"
            "kiemtra_auth_feed_events_total %llu\n"
            "# HELP kiemtra_auth_token_checks_total Bearer tokens checked, from memory or from"
            " PostgreSQL.\n"
            "# TYPE kiemtra_auth_token_checks_total counter\n"
            "kiemtra_auth_token_checks_total{source=\"memory\"} %llu\n"
            "kiemtra_auth_token_checks_total{source=\"database\"} %llu\n",
            feed.up, (unsigned long long)feed.connects, (unsigned long long)feed.events,
            (unsigned long long)hits, (unsigned long long)misses);
    kt_group_metrics(f);
    fclose(f);
    *len = cap;
    return buf;
}

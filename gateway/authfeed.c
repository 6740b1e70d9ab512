/* The revocation feed: see authfeed.h.
 *
 * Its own thread with a blocking libpq connection: it never touches an
 * event loop, only the token table (under its mutex, in api.c). The thread
 * waits in poll() on the connection and on a pipe written to stop it. A
 * ping every PING_MS finds a server that stopped answering (a machine gone
 * without closing the socket); a connection lost is retried with a growing
 * delay. */
#include "authfeed.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "api.h"
#include "config.h"
#include "log.h"

#define PING_MS 5000
#define RETRY_MIN_MS 100
#define RETRY_MAX_MS 5000

static pthread_t feed_thread;
static int feed_started;
static int wake[2] = {-1, -1};
static int stopping; /* atomic */
static int feed_up;  /* atomic */
static uint64_t feed_connects, feed_events; /* atomic */

int
kt_authfeed_up(void)
{
    return __atomic_load_n(&feed_up, __ATOMIC_SEQ_CST);
}

void
kt_authfeed_stats(struct kt_authfeed_stats *out)
{
    out->up = kt_authfeed_up();
    out->connects = __atomic_load_n(&feed_connects, __ATOMIC_RELAXED);
    out->events = __atomic_load_n(&feed_events, __ATOMIC_RELAXED);
}

static uint64_t
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Sleeps ms, or less when asked to stop. */
static void
pause_ms(int ms)
{
    struct pollfd p = {.fd = wake[0], .events = POLLIN};
    (void)poll(&p, 1, ms);
}

static void
apply(const char *payload)
{
    if (strncmp(payload, "t:", 2) == 0) {
        api_token_forget(payload + 2);
    } else if (strncmp(payload, "u:", 2) == 0) {
        char *end;
        int64_t id = strtoll(payload + 2, &end, 10);
        if (*end == '\0' && id > 0)
            api_users_forget(&id, 1);
    } else {
        log_warn("auth feed: unknown notification ignored");
        return;
    }
    __atomic_add_fetch(&feed_events, 1, __ATOMIC_RELAXED);
}

/* Connects and listens; *ok is set when both succeeded. */
static PGconn *
feed_connect(int *ok)
{
    const char *keys[] = {"dbname", "application_name", "connect_timeout", NULL};
    const char *vals[] = {kt_cfg.database_url, "kiemtra-authfeed", "5", NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    *ok = 0;
    if (PQstatus(c) != CONNECTION_OK)
        return c;
    PGresult *r = PQexec(c, "LISTEN kt_auth");
    *ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return c;
}

/* Applies notifications until the connection fails or the thread is asked
 * to stop. Returns a reason for the log, or NULL when stopping. */
static const char *
listen_loop(PGconn *c)
{
    uint64_t ping_at = mono_ms() + PING_MS, ping_sent = 0;
    for (;;) {
        struct pollfd p[2] = {{.fd = PQsocket(c), .events = POLLIN},
                              {.fd = wake[0], .events = POLLIN}};
        if (poll(p, 2, 1000) < 0 && errno != EINTR)
            return "poll failed";
        if (__atomic_load_n(&stopping, __ATOMIC_SEQ_CST))
            return NULL;
        if (p[0].revents) {
            if (!PQconsumeInput(c))
                return "connection lost";
            PGnotify *n;
            while ((n = PQnotifies(c))) {
                apply(n->extra);
                PQfreemem(n);
            }
            while (ping_sent && !PQisBusy(c)) {
                PGresult *r = PQgetResult(c);
                if (!r) {
                    ping_sent = 0; /* answered */
                    break;
                }
                int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
                PQclear(r);
                if (!ok)
                    return "ping failed";
            }
        }
        uint64_t now = mono_ms();
        if (ping_sent && now - ping_sent > PING_MS)
            return "server not answering";
        if (!ping_sent && now >= ping_at) {
            if (!PQsendQuery(c, "SELECT 1"))
                return "connection lost";
            ping_sent = now;
            ping_at = now + PING_MS;
        }
        if (PQstatus(c) != CONNECTION_OK)
            return "connection lost";
    }
}

static void *
feed_main(void *arg)
{
    (void)arg;
    int retry_ms = RETRY_MIN_MS, warned = 0;
    while (!__atomic_load_n(&stopping, __ATOMIC_SEQ_CST)) {
        int ok;
        PGconn *c = feed_connect(&ok);
        if (ok) {
            /* Whatever changed while nobody listened is unknown here. */
            api_tokens_forget_all();
            __atomic_store_n(&feed_up, 1, __ATOMIC_SEQ_CST);
            __atomic_add_fetch(&feed_connects, 1, __ATOMIC_RELAXED);
            log_info("auth feed: listening; tokens remembered up to %d ms",
                     kt_cfg.auth_feed_cache_ms);
            retry_ms = RETRY_MIN_MS;
            warned = 0;
            const char *why = listen_loop(c);
            __atomic_store_n(&feed_up, 0, __ATOMIC_SEQ_CST);
            api_tokens_forget_all();
            if (why)
                log_warn("auth feed: %s (%s); tokens remembered up to %d ms until it is back", why,
                         PQerrorMessage(c), kt_cfg.auth_cache_ms);
        } else if (!warned) {
            log_warn("auth feed: cannot listen (%s); retrying", PQerrorMessage(c));
            warned = 1;
        }
        PQfinish(c);
        if (!__atomic_load_n(&stopping, __ATOMIC_SEQ_CST))
            pause_ms(retry_ms);
        retry_ms = retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : retry_ms * 2;
    }
    return NULL;
}

int
kt_authfeed_start(void)
{
    if (kt_cfg.auth_feed_cache_ms <= 0 || kt_cfg.auth_cache_ms <= 0)
        return 0;
    if (pipe(wake) < 0) {
        log_error("auth feed: pipe: %s", strerror(errno));
        return -1;
    }
    if (pthread_create(&feed_thread, NULL, feed_main, NULL) != 0) {
        log_error("auth feed: cannot start its thread");
        return -1;
    }
    feed_started = 1;
    return 0;
}

void
kt_authfeed_stop(void)
{
    if (!feed_started)
        return;
    __atomic_store_n(&stopping, 1, __ATOMIC_SEQ_CST);
    ssize_t w = write(wake[1], "x", 1);
    (void)w;
    pthread_join(feed_thread, NULL);
    close(wake[0]);
    close(wake[1]);
    feed_started = 0;
}

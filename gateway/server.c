/*
 * Process life cycle for `kiemtra serve`: set up libevent threading, start
 * the CPU pool and the workers, wait for a signal, stop gracefully (stop
 * accepting, let in-flight requests finish for up to two seconds).
 */
#include "server.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <sodium.h>

#include "api.h"
#include "authfeed.h"
#include "config.h"
#include "conncap.h"
#include "cpupool.h"
#include "grading.h"
#include "outbox.h"
#include "static.h"
#include "http.h"
#include "log.h"
#include "pgpool.h"

struct kt_worker *kt_workers;
int kt_nworkers;

static void
on_stop(evutil_socket_t fd, short what, void *arg)
{
    struct kt_worker *w = arg;
    (void)fd;
    (void)what;
    http_server_shutdown(w->http);
    /* Requests still waiting on the database get up to two seconds. */
    struct timeval grace = {2, 0};
    event_base_loopexit(w->base, http_server_connections(w->http) ? &grace : NULL);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct kt_worker *w = arg;
    (void)fd;
    (void)what;
    __atomic_store_n(&w->nconns, http_server_connections(w->http), __ATOMIC_RELAXED);
}

static void *
worker_main(void *arg)
{
    struct kt_worker *w = arg;
    struct event *tick = event_new(w->base, -1, EV_PERSIST, on_tick, w);
    struct timeval one = {1, 0};
    event_add(tick, &one);
    event_base_dispatch(w->base);
    kt_attempts_thread_end();
    event_free(tick);
    return NULL;
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    log_info("received signal %d, stopping", (int)sig);
    event_base_loopbreak(arg);
}

int
kt_serve(void)
{
    if (sodium_init() < 0 || evthread_use_pthreads() < 0) {
        log_error("cannot initialise libsodium or libevent threads");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    if (kt_api_init() < 0 || kt_cpu_start(kt_cfg.cpu_threads) < 0)
        return 1;

    /* Client connections stay below the descriptor limit: a reserve is
     * kept for the database pools, listeners, event loops and files. */
    int fit = kt_conncap_from_rlimit(32 + kt_cfg.workers * (kt_cfg.db_pool + 4));
    int max_conns = kt_cfg.max_connections;
    if (fit && max_conns > fit)
        log_warn("KIEMTRA_MAX_CONNECTIONS=%d does not fit the descriptor limit; using %d",
                 max_conns, fit);
    if (!max_conns || (fit && max_conns > fit))
        max_conns = fit ? fit : 50000;
    kt_conncap_configure(max_conns, kt_cfg.max_per_address);
    struct http_limits lim = {
        .max_header = kt_cfg.max_header,
        .max_body = kt_cfg.max_body,
        .header_timeout = kt_cfg.header_timeout,
        .body_timeout = kt_cfg.body_timeout,
        .idle_timeout = kt_cfg.idle_timeout,
        .idle_busy_timeout = kt_cfg.idle_busy_timeout,
        .max_connections = max_conns,
    };
    kt_nworkers = kt_cfg.workers;
    kt_workers = calloc((size_t)kt_nworkers, sizeof(*kt_workers));
    if (!kt_workers)
        return 1;
    for (int i = 0; i < kt_nworkers; i++) {
        struct kt_worker *w = &kt_workers[i];
        w->index = i;
        w->base = event_base_new();
        w->db = pg_pool_new(w->base, kt_cfg.database_url, kt_cfg.db_pool, kt_cfg.db_timeout_ms,
                            kt_cfg.db_queue_max);
        w->http = http_server_new(w->base, w, &lim, kt_api_handle, kt_api_observe);
        w->stop_ev = event_new(w->base, -1, 0, on_stop, w);
        if (!w->base || !w->db || !w->http || !w->stop_ev ||
            http_server_listen(w->http, kt_cfg.listen_addr, kt_cfg.port) < 0)
            return 1;
        http_server_on_head(w->http, kt_api_head);
    }
    if (kt_authfeed_start() < 0)
        return 1;
    kt_expiry_start(&kt_workers[0]);
    kt_outbox_start(&kt_workers[0]);
    for (int i = 0; i < kt_nworkers; i++)
        pthread_create(&kt_workers[i].thread, NULL, worker_main, &kt_workers[i]);
    log_info("listening on http://%s:%d workers=%d db_pool=%d max_connections=%d per_address=%d",
             kt_cfg.listen_addr, kt_cfg.port, kt_nworkers, kt_cfg.db_pool, max_conns,
             kt_cfg.max_per_address);

    struct event_base *main_base = event_base_new();
    struct event *sigint = evsignal_new(main_base, SIGINT, on_signal, main_base);
    struct event *sigterm = evsignal_new(main_base, SIGTERM, on_signal, main_base);
    event_add(sigint, NULL);
    event_add(sigterm, NULL);
    event_base_dispatch(main_base);

    for (int i = 0; i < kt_nworkers; i++)
        event_active(kt_workers[i].stop_ev, EV_TIMEOUT, 0);
    for (int i = 0; i < kt_nworkers; i++)
        pthread_join(kt_workers[i].thread, NULL);
    kt_cpu_stop();
    kt_authfeed_stop();
    kt_expiry_stop();
    kt_outbox_stop();
    kt_static_free();
    for (int i = 0; i < kt_nworkers; i++) {
        struct kt_worker *w = &kt_workers[i];
        http_server_free(w->http);
        pg_pool_free(w->db);
        event_free(w->stop_ev);
        event_base_free(w->base);
    }
    free(kt_workers);
    event_free(sigint);
    event_free(sigterm);
    event_base_free(main_base);
    log_info("stopped");
    return 0;
}

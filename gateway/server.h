/*
 * The serving process: KIEMTRA_WORKERS threads, each with its own event
 * base, HTTP listener (SO_REUSEPORT) and PostgreSQL pool. The main thread
 * only waits for SIGINT/SIGTERM and then stops the workers.
 */
#ifndef KT_SERVER_H
#define KT_SERVER_H

#include <pthread.h>

struct event_base;
struct event;
struct http_server;
struct pg_pool;

struct kt_worker {
    int index;
    pthread_t thread;
    struct event_base *base;
    struct http_server *http;
    struct pg_pool *db;
    struct event *stop_ev;  /* activated from the main thread to stop this loop */
    int nconns;             /* open client connections, for /metrics */
};

extern struct kt_worker *kt_workers;
extern int kt_nworkers;

/* Runs the server until a stop signal; returns the process exit code. */
int kt_serve(void);

#endif

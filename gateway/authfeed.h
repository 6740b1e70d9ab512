/*
 * The revocation feed: one connection per process LISTENing on kt_auth
 * (migration 0036), on its own thread, so that a session ended or an
 * account changed through any gateway is forgotten here within the
 * notification's delay. While it listens, a checked token may be remembered
 * for KIEMTRA_AUTH_FEED_CACHE_MS; while it does not (not yet connected,
 * connection lost, server not answering its ping), for KIEMTRA_AUTH_CACHE_MS
 * only, and every remembered token is forgotten whenever it goes down or
 * comes back (what changed meanwhile was not heard).
 */
#ifndef KT_AUTHFEED_H
#define KT_AUTHFEED_H

#include <stdint.h>

struct kt_authfeed_stats {
    int up;             /* listening now */
    uint64_t connects;  /* times it started listening */
    uint64_t events;    /* notifications applied */
};

/* Starts the thread (nothing when KIEMTRA_AUTH_FEED_CACHE_MS or
 * KIEMTRA_AUTH_CACHE_MS is 0). */
int kt_authfeed_start(void);
void kt_authfeed_stop(void);
/* True while listening: tokens may be remembered for the longer time. */
int kt_authfeed_up(void);
void kt_authfeed_stats(struct kt_authfeed_stats *out);

#endif

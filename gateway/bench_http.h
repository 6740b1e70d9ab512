/*
 * The HTTP/1.1 client of `kiemtra bench`: a pool of keep-alive connections
 * to one server on one event base. A request goes out on an idle connection
 * (one request per connection at a time), on a new one while the pool is
 * below its size, or waits in order for the next free connection.
 */
#ifndef KT_BENCH_HTTP_H
#define KT_BENCH_HTTP_H

#include <stddef.h>

#include <netinet/in.h>

struct event_base;
struct bh_pool;

enum bh_err {
    BH_OK,
    BH_ERR_CONNECT, /* could not connect */
    BH_ERR_CLOSED,  /* the server closed or reset the connection mid-request */
    BH_ERR_TIMEOUT, /* no complete reply in time */
    BH_ERR_PARSE,   /* not an HTTP/1.1 reply we understand */
    BH_NERR
};
const char *bh_err_name(enum bh_err e);

/* status is the HTTP status when err is BH_OK; body is valid during the call. */
typedef void (*bh_cb)(void *arg, int status, const char *body, size_t len, enum bh_err err);

struct bh_pool *bh_pool_new(struct event_base *base, const struct sockaddr_in *addr, int max_conns,
                            int timeout_ms);
void bh_pool_free(struct bh_pool *p);
/* token and body may be NULL; everything is copied. cb runs later, once. */
void bh_request(struct bh_pool *p, const char *method, const char *path, const char *token,
                const char *body, size_t len, bh_cb cb, void *arg);
/* Opens connections until n are open, each checked with one GET /livez;
 * cb runs once per connection with the outcome of its check. */
void bh_pool_warm(struct bh_pool *p, int n, bh_cb cb, void *arg);
int bh_pool_open(const struct bh_pool *p); /* connections open now */

#endif

/*
 * Drives the HTTP layer over a socketpair with no network: write raw request
 * bytes, run the event loop until the server has answered (or a bounded
 * number of turns), return everything the server wrote. Shared by the HTTP
 * unit tests and the HTTP fuzz target.
 */
#ifndef KT_HTTP_HARNESS_H
#define KT_HTTP_HARNESS_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "http.h"

/* Answers "METHOD PATH q=<decoded q> body=<length>" in text/plain. */
static void
echo_handler(http_request *req)
{
    char out[512];
    char *q = http_query_param(req, "q");
    int n = snprintf(out, sizeof(out), "%s %s q=%s body=%zu", req->method_name, req->path,
                     q ? q : "-", req->body_len);
    free(q);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof(out)) /* truncated: send what the buffer holds */
        n = (int)sizeof(out) - 1;
    http_reply(req, 200, "text/plain", out, (size_t)n);
}

static const struct http_limits test_limits = {
    .max_header = 1024, .max_body = 4096, .header_timeout = 5, .body_timeout = 5,
    .idle_timeout = 5, .max_connections = 10};

/* The loop of the exchange in progress, for handlers that answer later. */
static struct event_base *harness_base;

/* Returns a malloc'd, NUL-terminated copy of the server's output. With
 * patient, the loop waits up to a second of silence (for timers) instead
 * of a few turns. */
static char *
http_exchange_with(http_handler_fn handler, http_head_fn head, const void *req, size_t len,
                   int close_write, int patient)
{
    struct event_base *base = harness_base = event_base_new();
    struct http_server *srv = http_server_new(base, NULL, &test_limits, handler, NULL);
    if (head)
        http_server_on_head(srv, head);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        abort();
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    http_server_adopt(srv, sv[0], "test");
    size_t off = 0;
    while (off < len) { /* the socket buffer may be smaller than the request */
        ssize_t w = write(sv[1], (const char *)req + off, len - off);
        if (w > 0)
            off += (size_t)w;
        else
            event_base_loop(base, EVLOOP_NONBLOCK);
    }
    if (close_write)
        shutdown(sv[1], SHUT_WR);
    size_t cap = 65536, got = 0;
    char *out = malloc(cap + 1);
    for (int turn = 0; turn < 200; turn++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        ssize_t r = read(sv[1], out + got, cap - got);
        if (r > 0) {
            got += (size_t)r;
            turn = 0;
            if (got == cap)
                break;
        } else if (r == 0) {
            break;
        } else if (patient) {
            struct timespec ms5 = {0, 5000000};
            nanosleep(&ms5, NULL);
        }
    }
    out[got] = '\0';
    close(sv[1]);
    http_server_free(srv);
    event_base_free(base);
    harness_base = NULL;
    return out;
}

static char *
http_exchange(const void *req, size_t len, int close_write)
{
    return http_exchange_with(echo_handler, NULL, req, len, close_write, 0);
}

#endif

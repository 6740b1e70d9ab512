/*
 * A lean HTTP/1.1 server layer on libevent bufferevents: keep-alive,
 * pipelined requests answered in order, Content-Length bodies, strict limits
 * (431 head too large, 413 body too large, 408 too slow) and one reply per
 * request. A request outlives its connection: when the client goes away
 * while a handler waits on the database, the reply is simply dropped; a
 * client that only shut its write side still gets it.
 */
#ifndef KT_HTTP_H
#define KT_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct kt_worker;
struct kt_user;
struct http_conn;

enum http_method { HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_PUT, HTTP_PATCH, HTTP_DELETE, HTTP_OPTIONS, HTTP_OTHER };

#define HTTP_MAX_HEADERS 64
#define HTTP_MAX_PARAMS 4

struct http_header {
    const char *name; /* points into the request head */
    const char *value;
};

typedef struct http_request {
    struct http_conn *conn;      /* NULL once the client has gone away */
    struct kt_worker *worker;    /* the event loop this request runs on */
    enum http_method method;
    const char *method_name;
    char *head;                  /* request head, NUL-separated in place */
    char *path;                  /* percent-decoded path, no query */
    const char *query;           /* raw query string after '?', or NULL */
    struct http_header headers[HTTP_MAX_HEADERS];
    int nheaders;
    char *body;                  /* NUL-terminated copy of the body, or NULL */
    size_t body_len;
    size_t content_length;       /* the body length the head announced */
    void *body_doc;              /* the body as parsed by the API layer, or NULL */
    void (*body_doc_free)(void *); /* releases body_doc with the request */
    int keep_alive;
    uint64_t started_ns;         /* monotonic, when the head was complete */
    char peer[48];               /* client address, text */

    /* Filled in by the router and handlers. */
    int route;                   /* route index for metrics, -1 when none matched */
    const char *params[HTTP_MAX_PARAMS]; /* path parameters, point into path_params */
    char *path_params;
    struct kt_user *user;        /* authenticated caller, owned by the request */
    void *ctx;                   /* handler state, freed by ctx_free when set */
    void (*ctx_free)(void *);
    int status;                  /* status of the reply, for logs and metrics */
} http_request;

struct http_limits {
    size_t max_header, max_body;
    int header_timeout, body_timeout, idle_timeout; /* seconds */
    int idle_busy_timeout;       /* seconds, while kt_conncap_busy(); 0: idle_timeout */
    int max_connections;         /* of this server (the process-wide caps are conncap.h's) */
};

/* Called for each complete request; must lead to exactly one http_reply*. */
typedef void (*http_handler_fn)(http_request *req);
/* Called when a head announces a body, before any of it is read; must lead
 * to http_read_body() or a reply, now or later (a reply closes the
 * connection: the body is never read). */
typedef void (*http_head_fn)(http_request *req);
/* Called after each reply (metrics, access log); the request is still valid. */
typedef void (*http_observer_fn)(http_request *req, size_t body_bytes);

struct http_server;
struct http_server *http_server_new(struct event_base *base, struct kt_worker *worker,
                                    const struct http_limits *limits, http_handler_fn handler,
                                    http_observer_fn observer);
/* Without a head hook every body up to limits->max_body is read. */
void http_server_on_head(struct http_server *srv, http_head_fn head);
/* Reads the body of a request held by the head hook, when it is at most
 * limit bytes (else 413); the handler runs once it is complete. */
void http_read_body(http_request *req, size_t limit);
/* Binds addr:port with SO_REUSEPORT so that each worker can own a listener. */
int http_server_listen(struct http_server *srv, const char *addr, int port);
/* Serves an already connected socket (used by the listener, and by tests
 * and fuzzers over a socketpair). Takes ownership of fd. */
int http_server_adopt(struct http_server *srv, int fd, const char *peer);
/* Stops accepting and closes idle connections; busy ones close after replying. */
void http_server_shutdown(struct http_server *srv);
void http_server_free(struct http_server *srv);
int http_server_connections(const struct http_server *srv);

const char *http_header(const http_request *req, const char *name);
/* Decoded value of a query parameter into a malloc'd string; NULL if absent. */
char *http_query_param(const http_request *req, const char *name);

/* Sends the reply and releases the request. extra_headers: "Name: v\r\n"... or NULL. */
void http_reply_full(http_request *req, int status, const char *content_type,
                     const char *extra_headers, const char *body, size_t len);
void http_reply(http_request *req, int status, const char *content_type, const char *body,
                size_t len);

const char *http_status_text(int status);

#endif

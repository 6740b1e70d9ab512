/*
 * The load generator's HTTP/1.1 client on bufferevents: keep-alive
 * connections to one address, requests written by hand, replies parsed by
 * status line, Content-Length and Connection: close (kiemtra always sends a
 * length). One timer per connection bounds every request.
 */
#include "bench_http.h"

#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#define MAX_CONNECTING 256 /* connects in flight: a storm of SYNs overflows the backlog */
#define MAX_HEAD 16384

struct bh_req {
    char *msg; /* the whole request, head and body */
    size_t len;
    bh_cb cb;
    void *arg;
    TAILQ_ENTRY(bh_req) link;
};

struct bh_conn {
    struct bh_pool *pool;
    struct bufferevent *bev;
    struct event *timer;
    int connected;
    struct bh_req *req; /* in flight */
    int have_head, status, close_after;
    size_t body_len;
    int in_idle;
    TAILQ_ENTRY(bh_conn) link;     /* in the idle list */
    TAILQ_ENTRY(bh_conn) all_link; /* in the list of every connection */
};

struct bh_pool {
    struct event_base *base;
    struct sockaddr_in addr;
    int max_conns, timeout_ms;
    int nconns, nconnecting, nqueued;
    TAILQ_HEAD(, bh_req) queue;
    TAILQ_HEAD(, bh_conn) idle;
    TAILQ_HEAD(, bh_conn) all;
    int want;          /* bh_pool_warm: connections to open */
    bh_cb warm_cb;
    void *warm_arg;
};

static void dispatch(struct bh_pool *p);

const char *
bh_err_name(enum bh_err e)
{
    static const char *names[] = {"ok", "connect", "closed", "timeout", "parse"};
    return e < BH_NERR ? names[e] : "?";
}

static struct bh_req *
req_new(const char *method, const char *path, const char *token, const char *body, size_t len,
        bh_cb cb, void *arg)
{
    struct bh_req *r = calloc(1, sizeof(*r));
    size_t cap = strlen(method) + strlen(path) + (token ? strlen(token) : 0) + len + 160;
    if (!r || !(r->msg = malloc(cap)))
        abort();
    int n = snprintf(r->msg, cap, "%s %s HTTP/1.1\r\nHost: bench\r\n%s%s%s", method, path,
                     token ? "Authorization: Bearer " : "", token ? token : "", token ? "\r\n" : "");
    if (body)
        n += snprintf(r->msg + n, cap - (size_t)n,
                      "Content-Type: application/json\r\nContent-Length: %zu\r\n", len);
    n += snprintf(r->msg + n, cap - (size_t)n, "\r\n");
    if (body)
        memcpy(r->msg + n, body, len);
    r->len = (size_t)n + (body ? len : 0);
    r->cb = cb;
    r->arg = arg;
    return r;
}

static void
req_finish(struct bh_req *r, int status, const char *body, size_t len, enum bh_err err)
{
    r->cb(r->arg, status, body, len, err);
    free(r->msg);
    free(r);
}

static void
set_idle(struct bh_conn *c, int idle)
{
    if (idle && !c->in_idle)
        TAILQ_INSERT_HEAD(&c->pool->idle, c, link);
    else if (!idle && c->in_idle)
        TAILQ_REMOVE(&c->pool->idle, c, link);
    c->in_idle = idle;
}

static void
conn_free(struct bh_conn *c)
{
    struct bh_pool *p = c->pool;
    if (!c->connected)
        p->nconnecting--;
    set_idle(c, 0);
    TAILQ_REMOVE(&p->all, c, all_link);
    p->nconns--;
    event_free(c->timer);
    bufferevent_free(c->bev);
    free(c);
}

/* The connection failed: its request (if any) fails with err. */
static void
conn_fail(struct bh_conn *c, enum bh_err err)
{
    struct bh_pool *p = c->pool;
    struct bh_req *r = c->req;
    int connected = c->connected;
    c->req = NULL;
    conn_free(c);
    if (p->warm_cb) { /* warming: a lost connection is not replaced */
        p->want--;
        if (!connected)
            p->warm_cb(p->warm_arg, 0, NULL, 0, err);
    } else if (!connected && !r && p->nqueued) { /* a connect failed: fail one waiting request */
        r = TAILQ_FIRST(&p->queue);
        TAILQ_REMOVE(&p->queue, r, link);
        p->nqueued--;
    }
    if (r)
        req_finish(r, 0, NULL, 0, err);
    dispatch(p);
}

static void
conn_send(struct bh_conn *c, struct bh_req *r)
{
    c->req = r;
    c->have_head = 0;
    struct timeval tv = {c->pool->timeout_ms / 1000, (long)(c->pool->timeout_ms % 1000) * 1000};
    evtimer_add(c->timer, &tv);
    /* Straight to the socket: no write event to add and remove per request. */
    ssize_t n = 0;
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        n = send(bufferevent_getfd(c->bev), r->msg, r->len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0)
        n = 0; /* would block, or an error the buffered write reports */
    if ((size_t)n < r->len)
        bufferevent_write(c->bev, r->msg + n, r->len - (size_t)n);
}

/* Parses the status line and the two headers we need. 0 or -1. */
static int
parse_head(struct bh_conn *c, char *head)
{
    if (strncmp(head, "HTTP/1.", 7) != 0 || head[8] != ' ')
        return -1;
    c->status = atoi(head + 9);
    c->body_len = 0;
    c->close_after = head[7] == '0';
    for (char *line = strstr(head, "\r\n"); line && line[2]; line = strstr(line + 2, "\r\n")) {
        char *h = line + 2;
        if (strncasecmp(h, "Content-Length:", 15) == 0)
            c->body_len = strtoul(h + 15, NULL, 10);
        else if (strncasecmp(h, "Connection:", 11) == 0 && strcasestr(h, "close") &&
                 strcasestr(h, "close") < strstr(h, "\r\n"))
            c->close_after = 1;
    }
    return c->status >= 100 && c->status < 600 ? 0 : -1;
}

static void
on_read(struct bufferevent *bev, void *arg)
{
    struct bh_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    if (!c->req) { /* bytes nobody asked for */
        conn_fail(c, BH_ERR_PARSE);
        return;
    }
    if (!c->have_head) {
        struct evbuffer_ptr pos = evbuffer_search(in, "\r\n\r\n", 4, NULL);
        if (pos.pos < 0) {
            if (evbuffer_get_length(in) > MAX_HEAD)
                conn_fail(c, BH_ERR_PARSE);
            return;
        }
        size_t hlen = (size_t)pos.pos + 4;
        char head[MAX_HEAD + 5];
        if (hlen > MAX_HEAD) {
            conn_fail(c, BH_ERR_PARSE);
            return;
        }
        evbuffer_remove(in, head, hlen);
        head[hlen] = '\0';
        if (parse_head(c, head) < 0) {
            conn_fail(c, BH_ERR_PARSE);
            return;
        }
        c->have_head = 1;
    }
    if (evbuffer_get_length(in) < c->body_len)
        return;
    char *body = malloc(c->body_len + 1);
    if (!body)
        abort();
    evbuffer_remove(in, body, c->body_len);
    body[c->body_len] = '\0';
    struct bh_req *r = c->req;
    int status = c->status;
    size_t len = c->body_len;
    struct bh_pool *p = c->pool;
    c->req = NULL;
    evtimer_del(c->timer);
    /* The connection is free before the callback, so that the caller's next
     * request reuses it. */
    if (c->close_after || evbuffer_get_length(in))
        conn_free(c);
    else
        set_idle(c, 1);
    req_finish(r, status, body, len, BH_OK);
    free(body);
    dispatch(p);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
    struct bh_conn *c = arg;
    struct bh_pool *p = c->pool;
    if (what & BEV_EVENT_CONNECTED) {
        int one = 1;
        setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        c->connected = 1;
        p->nconnecting--;
        if (!p->nqueued && p->warm_cb) { /* warming: check it with one request */
            conn_send(c, req_new("GET", "/livez", NULL, NULL, 0, p->warm_cb, p->warm_arg));
            return;
        }
        set_idle(c, 1);
        dispatch(p);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        conn_fail(c, c->connected ? BH_ERR_CLOSED : BH_ERR_CONNECT);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct bh_conn *c = arg;
    conn_fail(c, c->connected ? BH_ERR_TIMEOUT : BH_ERR_CONNECT);
}

static void
conn_open(struct bh_pool *p)
{
    struct bh_conn *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    c->pool = p;
    c->bev = bufferevent_socket_new(p->base, -1, BEV_OPT_CLOSE_ON_FREE);
    c->timer = evtimer_new(p->base, on_timer, c);
    if (!c->bev || !c->timer)
        abort();
    bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    TAILQ_INSERT_TAIL(&p->all, c, all_link);
    p->nconns++;
    p->nconnecting++;
    struct timeval tv = {p->timeout_ms / 1000, (long)(p->timeout_ms % 1000) * 1000};
    evtimer_add(c->timer, &tv);
    if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&p->addr, sizeof(p->addr)) < 0) {
        struct timeval now = {0, 0}; /* fail from the loop, not inside dispatch */
        evtimer_add(c->timer, &now);
    }
}

static void
dispatch(struct bh_pool *p)
{
    while (p->nqueued) {
        struct bh_conn *c = TAILQ_FIRST(&p->idle);
        if (c) {
            struct bh_req *r = TAILQ_FIRST(&p->queue);
            TAILQ_REMOVE(&p->queue, r, link);
            p->nqueued--;
            set_idle(c, 0);
            conn_send(c, r);
            continue;
        }
        if (p->nconns < p->max_conns && p->nconnecting < MAX_CONNECTING &&
            p->nconnecting < p->nqueued) {
            conn_open(p);
            continue;
        }
        return;
    }
    while (p->nconns < p->want && p->nconnecting < MAX_CONNECTING)
        conn_open(p);
}

struct bh_pool *
bh_pool_new(struct event_base *base, const struct sockaddr_in *addr, int max_conns, int timeout_ms)
{
    struct bh_pool *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->base = base;
    p->addr = *addr;
    p->max_conns = max_conns;
    p->timeout_ms = timeout_ms;
    TAILQ_INIT(&p->queue);
    TAILQ_INIT(&p->idle);
    TAILQ_INIT(&p->all);
    return p;
}

void
bh_request(struct bh_pool *p, const char *method, const char *path, const char *token,
           const char *body, size_t len, bh_cb cb, void *arg)
{
    struct bh_req *r = req_new(method, path, token, body, len, cb, arg);
    TAILQ_INSERT_TAIL(&p->queue, r, link);
    p->nqueued++;
    dispatch(p);
}

void
bh_pool_warm(struct bh_pool *p, int n, bh_cb cb, void *arg)
{
    p->want = n < p->max_conns ? n : p->max_conns;
    p->warm_cb = cb;
    p->warm_arg = arg;
    dispatch(p);
}

int
bh_pool_open(const struct bh_pool *p)
{
    return p->nconns - p->nconnecting;
}

/* Closes every connection; requests still queued or in flight are dropped
 * without their callbacks (the caller has stopped listening). */
void
bh_pool_free(struct bh_pool *p)
{
    if (!p)
        return;
    p->want = 0;
    p->warm_cb = NULL;
    while (!TAILQ_EMPTY(&p->queue)) {
        struct bh_req *r = TAILQ_FIRST(&p->queue);
        TAILQ_REMOVE(&p->queue, r, link);
        free(r->msg);
        free(r);
    }
    p->nqueued = 0;
    while (!TAILQ_EMPTY(&p->all)) {
        struct bh_conn *c = TAILQ_FIRST(&p->all);
        if (c->req) {
            free(c->req->msg);
            free(c->req);
        }
        conn_free(c);
    }
    free(p);
}

/*
 * HTTP/1.1 on bufferevents. A connection reads one request head, then its
 * body, hands the request to the handler and parses nothing more until the
 * reply is written (pipelined requests wait in the input buffer). One timer
 * per connection enforces the idle, head and body deadlines. A head hook
 * may choose the body limit per request, or wait (authentication) before
 * the body is read. Connections are counted against the process-wide caps
 * of conncap.c; accept failing for lack of descriptors pauses the listener.
 */
#include "http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "conncap.h"
#include "log.h"

enum conn_state {
    CONN_READ_HEAD, /* waiting for (more of) a request head */
    CONN_HEAD,      /* head parsed, the head hook decides about the body */
    CONN_READ_BODY, /* head parsed, waiting for body bytes */
    CONN_HANDLING,  /* a handler owns conn->req */
    CONN_CLOSING,   /* last reply queued; linger once the output drains */
    CONN_LINGER     /* reply sent, write side shut: unread input is discarded
                       for a moment so the client reads the reply, not a reset */
};

struct http_conn {
    struct http_server *srv;
    struct bufferevent *bev;
    struct event *timer;
    enum conn_state state;
    http_request *req;      /* request being read or handled */
    size_t body_need;       /* bytes of body still expected */
    int in_read;            /* inside on_read: replies must not re-enter parsing */
    int read_eof;           /* the client shut its write side: answer, then close */
    char peer[48];
    TAILQ_ENTRY(http_conn) link;
};

struct http_server {
    struct event_base *base;
    struct kt_worker *worker;
    struct http_limits lim;
    http_handler_fn handler;
    http_observer_fn observer;
    http_head_fn head;
    struct evconnlistener *listener;
    struct event *backoff;  /* re-enables the listener after running out of descriptors */
    int backoff_ms;         /* current pause; 0 when accepting normally */
    int accept_failures;    /* in the current episode */
    int busy_swept;         /* idle timers already shortened for this busy period */
    uint64_t refused_log_ns; /* last log line about refused connections */
    int refused;            /* refused since that line */
    TAILQ_HEAD(, http_conn) conns;
    int nconns;
    int shutting_down;
};

static void on_read(struct bufferevent *bev, void *arg);
static void on_write(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);
static void on_timer(evutil_socket_t fd, short what, void *arg);
static void process_input(struct http_conn *c);
static void conn_free(struct http_conn *c);
static void request_free(http_request *req);

/* ------------------------------------------------------------------------ */
/* Utilities                                                                */

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *
http_status_text(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

static int
hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = tolower(ch);
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* Percent-decodes src[0..len) into a new string; plus_space for queries.
 * Returns NULL on a malformed escape or an encoded NUL. */
static char *
pct_decode(const char *src, size_t len, int plus_space)
{
    char *out = malloc(len + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (src[i] == '%') {
            if (i + 2 >= len) {
                free(out);
                return NULL;
            }
            int a = hexval((unsigned char)src[i + 1]), b = hexval((unsigned char)src[i + 2]);
            if (a < 0 || b < 0 || (a == 0 && b == 0)) {
                free(out);
                return NULL;
            }
            *o++ = (char)(a * 16 + b);
            i += 2;
        } else if (plus_space && src[i] == '+') {
            *o++ = ' ';
        } else {
            *o++ = src[i];
        }
    }
    *o = '\0';
    return out;
}

const char *
http_header(const http_request *req, const char *name)
{
    for (int i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

char *
http_query_param(const http_request *req, const char *name)
{
    size_t nlen = strlen(name);
    const char *p = req->query;
    while (p && *p) {
        const char *amp = strchr(p, '&');
        size_t seglen = amp ? (size_t)(amp - p) : strlen(p);
        if (seglen >= nlen && strncmp(p, name, nlen) == 0 && (seglen == nlen || p[nlen] == '=')) {
            if (seglen == nlen)
                return strdup("");
            return pct_decode(p + nlen + 1, seglen - nlen - 1, 1);
        }
        p = amp ? amp + 1 : NULL;
    }
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Replies                                                                  */

static void
arm_timer(struct http_conn *c, int seconds)
{
    struct timeval tv = {seconds, 0};
    evtimer_add(c->timer, &tv);
}

/* Idle keep-alive deadline: shorter while the process holds most of the
 * connections it may. */
static int
idle_seconds(const struct http_server *srv)
{
    int busy = srv->lim.idle_busy_timeout;
    if (busy > 0 && busy < srv->lim.idle_timeout && kt_conncap_busy())
        return busy;
    return srv->lim.idle_timeout;
}

/* Writes a minimal error reply from the parser (no request object yet) and
 * closes the connection once it is flushed. */
static void
reply_and_close(struct http_conn *c, int status, const char *code, const char *message)
{
    char body[512];
    int blen = snprintf(body, sizeof(body), "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", code,
                        message);
    struct evbuffer *out = bufferevent_get_output(c->bev);
    evbuffer_add_printf(out,
                        "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\n"
                        "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
                        status, http_status_text(status), blen, body);
    log_info("http status=%d peer=%s reason=%s", status, c->peer, code);
    if (c->req) {
        request_free(c->req);
        c->req = NULL;
    }
    c->state = CONN_CLOSING;
    evtimer_del(c->timer);
    arm_timer(c, 5); /* do not wait forever for a client that never reads */
    bufferevent_disable(c->bev, EV_READ);
    bufferevent_enable(c->bev, EV_WRITE);
}

#define REPLY_HEAD                                                                          \
    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n" \
    "X-Content-Type-Options: nosniff\r\n%s%s\r\n"

/* Writes a reply straight to the socket when nothing is queued before it:
 * no write event to register and remove (two epoll_ctl calls and a loop
 * turn per reply). What the socket does not take goes to the output buffer.
 * A closing connection always goes through the buffer, whose write callback
 * starts the lingering close. */
static void
send_now(struct http_conn *c, const char *head, size_t hlen, const char *body, size_t blen,
         int keep)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    ssize_t n = 0;
    if (keep && evbuffer_get_length(out) == 0) {
        struct iovec iov[2] = {{(void *)head, hlen}, {(void *)body, blen}};
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = blen ? 2 : 1};
        n = sendmsg(bufferevent_getfd(c->bev), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0)
            n = 0; /* would block, or an error the buffered write will report */
    }
    if ((size_t)n < hlen)
        evbuffer_add(out, head + n, hlen - (size_t)n);
    size_t skip = (size_t)n > hlen ? (size_t)n - hlen : 0;
    if (skip < blen)
        evbuffer_add(out, body + skip, blen - skip);
}

void
http_reply_full(http_request *req, int status, const char *content_type, const char *extra_headers,
                const char *body, size_t len)
{
    struct http_conn *c = req->conn;
    req->status = status;
    if (c && c->srv->observer)
        c->srv->observer(req, len);
    if (!c) { /* client went away while we worked */
        request_free(req);
        return;
    }
    /* A reply before the body was read closes (the body is never read); so
     * does the last reply to a client that half-closed. */
    int keep = req->keep_alive && !c->srv->shutting_down && c->state != CONN_HEAD &&
               !(c->read_eof && evbuffer_get_length(bufferevent_get_input(c->bev)) == 0);
    const char *conn_hdr = keep ? "" : "Connection: close\r\n";
    const char *extra = extra_headers ? extra_headers : "";
    char stack[2048], *head = stack;
    int hlen = snprintf(stack, sizeof(stack), REPLY_HEAD, status, http_status_text(status),
                        content_type, len, conn_hdr, extra);
    if (hlen >= (int)sizeof(stack)) { /* unusually long extra headers */
        if (!(head = malloc((size_t)hlen + 1)))
            abort();
        snprintf(head, (size_t)hlen + 1, REPLY_HEAD, status, http_status_text(status),
                 content_type, len, conn_hdr, extra);
    }
    send_now(c, head, (size_t)hlen, body, len && req->method != HTTP_HEAD ? len : 0, keep);
    if (head != stack)
        free(head);
    c->req = NULL;
    request_free(req);
    if (!keep) {
        c->state = CONN_CLOSING;
        arm_timer(c, 5);
        bufferevent_disable(c->bev, EV_READ);
        return;
    }
    c->state = CONN_READ_HEAD;
    arm_timer(c, idle_seconds(c->srv));
    if (!c->in_read)
        process_input(c); /* a pipelined request may already be buffered */
}

void
http_reply(http_request *req, int status, const char *content_type, const char *body, size_t len)
{
    http_reply_full(req, status, content_type, NULL, body, len);
}

/* ------------------------------------------------------------------------ */
/* Parsing                                                                  */

static enum http_method
method_of(const char *m)
{
    static const struct {
        const char *name;
        enum http_method m;
    } tab[] = {{"GET", HTTP_GET},     {"HEAD", HTTP_HEAD},     {"POST", HTTP_POST},
               {"PUT", HTTP_PUT},     {"PATCH", HTTP_PATCH},   {"DELETE", HTTP_DELETE},
               {"OPTIONS", HTTP_OPTIONS}};
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
        if (strcmp(m, tab[i].name) == 0)
            return tab[i].m;
    return HTTP_OTHER;
}

static int
is_tchar(int ch)
{
    return isalnum(ch) || strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

/* Parses the head held in req->head (len bytes, ending in CRLF CRLF).
 * Returns 0, or an HTTP status to refuse the request with. */
static int
parse_head(http_request *req, size_t len, const char **why)
{
    char *p = req->head, *end = req->head + len;
    char *eol = strstr(p, "\r\n");
    if (!eol) {
        *why = "bad_request_line";
        return 400;
    }
    *eol = '\0';
    char *sp1 = strchr(p, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp1 || !sp2 || strchr(sp2 + 1, ' ')) {
        *why = "bad_request_line";
        return 400;
    }
    *sp1 = *sp2 = '\0';
    req->method_name = p;
    req->method = method_of(p);
    char *target = sp1 + 1, *version = sp2 + 1;
    if (strncmp(version, "HTTP/1.", 7) != 0 || (version[7] != '0' && version[7] != '1') || version[8]) {
        *why = "unsupported_version";
        return 505;
    }
    int http11 = version[7] == '1';
    if (target[0] != '/') {
        *why = "bad_target";
        return 400;
    }
    char *q = strchr(target, '?');
    size_t plen = q ? (size_t)(q - target) : strlen(target);
    if (q)
        req->query = q + 1;
    req->path = pct_decode(target, plen, 0);
    if (!req->path) {
        *why = "bad_target";
        return 400;
    }

    int conn_close = 0, conn_keep = 0;
    p = eol + 2;
    while (p < end && !(p[0] == '\r' && p[1] == '\n')) {
        eol = strstr(p, "\r\n");
        if (!eol) {
            *why = "bad_header";
            return 400;
        }
        *eol = '\0';
        char *colon = strchr(p, ':');
        if (!colon || colon == p) {
            *why = "bad_header";
            return 400;
        }
        for (char *n = p; n < colon; n++)
            if (!is_tchar((unsigned char)*n)) {
                *why = "bad_header";
                return 400;
            }
        *colon = '\0';
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        char *ve = v + strlen(v);
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            *--ve = '\0';
        for (char *ch = v; *ch; ch++)
            if ((unsigned char)*ch < 0x20 && *ch != '\t') {
                *why = "bad_header";
                return 400;
            }
        if (req->nheaders == HTTP_MAX_HEADERS) {
            *why = "too_many_headers";
            return 431;
        }
        req->headers[req->nheaders].name = p;
        req->headers[req->nheaders].value = v;
        req->nheaders++;
        if (strcasecmp(p, "Connection") == 0) {
            if (strcasestr(v, "close"))
                conn_close = 1;
            if (strcasestr(v, "keep-alive"))
                conn_keep = 1;
        }
        p = eol + 2;
    }
    req->keep_alive = http11 ? !conn_close : (conn_keep && !conn_close);
    return 0;
}

/* Content-Length of the request: 0 when absent, -1 when malformed. */
static long long
content_length(const http_request *req)
{
    const char *cl = NULL;
    for (int i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, "Content-Length") == 0) {
            const char *v = req->headers[i].value;
            if (!v || (cl && strcmp(cl, v) != 0))
                return -1; /* conflicting lengths: request smuggling attempt */
            cl = v;
        }
    if (!cl)
        return 0;
    if (!*cl || strlen(cl) > 15)
        return -1;
    long long n = 0;
    for (const char *d = cl; *d; d++) {
        if (!isdigit((unsigned char)*d))
            return -1;
        n = n * 10 + (*d - '0');
    }
    return n;
}

static void
dispatch(struct http_conn *c)
{
    evtimer_del(c->timer);
    c->state = CONN_HANDLING;
    c->srv->handler(c->req);
}

/* Starts reading the announced body when it fits in limit, else 413. */
static void
begin_body(struct http_conn *c, size_t limit)
{
    http_request *req = c->req;
    if (req->content_length > limit) {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "Dữ liệu gửi lên vượt quá giới hạn cho phép (tối đa %zu KiB) cho thao tác này.",
                 (limit + 1023) / 1024);
        reply_and_close(c, 413, "body_too_large", msg);
        return;
    }
    const char *expect = http_header(req, "Expect");
    if (expect && strcasecmp(expect, "100-continue") == 0)
        evbuffer_add_printf(bufferevent_get_output(c->bev), "HTTP/1.1 100 Continue\r\n\r\n");
    c->body_need = req->content_length;
    c->state = CONN_READ_BODY;
    arm_timer(c, c->srv->lim.body_timeout);
}

void
http_read_body(http_request *req, size_t limit)
{
    struct http_conn *c = req->conn;
    if (!c) { /* the server dropped the connection while the hook waited */
        request_free(req);
        return;
    }
    begin_body(c, limit);
    if (!c->in_read)
        process_input(c);
}

static void conn_close_soon(struct http_conn *c);

static void
process_input(struct http_conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    c->in_read = 1;
    for (;;) {
        if (c->state == CONN_READ_HEAD) {
            size_t avail = evbuffer_get_length(in);
            if (avail == 0)
                break;
            if (!c->req) { /* first bytes of a new request: the head deadline starts */
                c->req = calloc(1, sizeof(*c->req));
                if (!c->req) {
                    reply_and_close(c, 503, "overloaded", "Máy chủ quá tải.");
                    break;
                }
                c->req->route = -1;
                c->req->worker = c->srv->worker;
                c->req->conn = c;
                snprintf(c->req->peer, sizeof(c->req->peer), "%s", c->peer);
                arm_timer(c, c->srv->lim.header_timeout);
            }
            struct evbuffer_ptr pos = evbuffer_search(in, "\r\n\r\n", 4, NULL);
            if (pos.pos < 0) {
                if (avail > c->srv->lim.max_header)
                    reply_and_close(c, 431, "header_too_large",
                                    "Phần đầu yêu cầu quá lớn.");
                break;
            }
            size_t hlen = (size_t)pos.pos + 4;
            if (hlen > c->srv->lim.max_header) {
                reply_and_close(c, 431, "header_too_large", "Phần đầu yêu cầu quá lớn.");
                break;
            }
            http_request *req = c->req;
            req->head = malloc(hlen + 1);
            if (!req->head) {
                reply_and_close(c, 503, "overloaded", "Máy chủ quá tải.");
                break;
            }
            evbuffer_remove(in, req->head, hlen);
            req->head[hlen] = '\0';
            if (memchr(req->head, '\0', hlen)) {
                reply_and_close(c, 400, "bad_request", "Yêu cầu không hợp lệ.");
                break;
            }
            const char *why = NULL;
            int st = parse_head(req, hlen, &why);
            if (st) {
                reply_and_close(c, st, why,
                                st == 431 ? "Quá nhiều trường đầu." : "Yêu cầu HTTP không hợp lệ.");
                break;
            }
            req->started_ns = now_ns();
            if (http_header(req, "Transfer-Encoding")) {
                reply_and_close(c, 411, "length_required",
                                "Cần gửi Content-Length; không hỗ trợ chunked.");
                break;
            }
            long long cl = content_length(req);
            if (cl < 0) {
                reply_and_close(c, 400, "bad_content_length", "Content-Length không hợp lệ.");
                break;
            }
            if (cl == 0) {
                dispatch(c);
                continue;
            }
            req->content_length = (size_t)cl;
            if (c->srv->head && req->content_length <= c->srv->lim.max_body) {
                /* Nothing of the body is read until the hook has decided.
                 * Most hooks decide at once (a small body is read straight
                 * away): reads stop only while one waits, sparing two
                 * epoll_ctl calls per request. */
                c->state = CONN_HEAD;
                evtimer_del(c->timer);
                c->srv->head(req);
                if (c->state == CONN_HEAD)
                    bufferevent_disable(c->bev, EV_READ);
                continue;
            }
            begin_body(c, c->srv->lim.max_body);
            continue;
        }
        if (c->state == CONN_READ_BODY) {
            if (evbuffer_get_length(in) < c->body_need)
                break;
            http_request *req = c->req;
            req->body = malloc(c->body_need + 1);
            if (!req->body) {
                reply_and_close(c, 503, "overloaded", "Máy chủ quá tải.");
                break;
            }
            evbuffer_remove(in, req->body, c->body_need);
            req->body[c->body_need] = '\0';
            req->body_len = c->body_need;
            dispatch(c);
            continue;
        }
        break; /* handling or closing: leave pipelined bytes for later */
    }
    c->in_read = 0;
    /* Never buffer unboundedly behind a slow handler. */
    if (c->state == CONN_HANDLING &&
        evbuffer_get_length(in) > c->srv->lim.max_header + c->srv->lim.max_body)
        bufferevent_disable(c->bev, EV_READ);
    else if ((c->state == CONN_READ_HEAD || c->state == CONN_READ_BODY) && c->read_eof)
        conn_close_soon(c); /* half-closed: no more requests will come */
    else if (c->state == CONN_READ_HEAD || c->state == CONN_READ_BODY)
        bufferevent_enable(c->bev, EV_READ);
}

/* ------------------------------------------------------------------------ */
/* Connection life cycle                                                    */

static void
request_free(http_request *req)
{
    if (!req)
        return;
    if (req->ctx && req->ctx_free)
        req->ctx_free(req->ctx);
    if (req->body_doc && req->body_doc_free)
        req->body_doc_free(req->body_doc);
    free(req->user);
    free(req->path_params);
    free(req->head);
    free(req->path);
    free(req->body);
    free(req);
}

static void
conn_free(struct http_conn *c)
{
    if (c->req) {
        if (c->state == CONN_HANDLING || c->state == CONN_HEAD)
            c->req->conn = NULL; /* the handler or head hook still owns it */
        else
            request_free(c->req);
    }
    TAILQ_REMOVE(&c->srv->conns, c, link);
    c->srv->nconns--;
    kt_conncap_give(c->peer);
    event_free(c->timer);
    bufferevent_free(c->bev);
    free(c);
}

static void
on_read(struct bufferevent *bev, void *arg)
{
    struct http_conn *c = arg;
    if (c->state == CONN_READ_HEAD || c->state == CONN_READ_BODY)
        process_input(c);
    else if (c->state == CONN_LINGER)
        evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
    else if ((c->state == CONN_HANDLING || c->state == CONN_HEAD) &&
             evbuffer_get_length(bufferevent_get_input(c->bev)) >
                 c->srv->lim.max_header + c->srv->lim.max_body)
        bufferevent_disable(c->bev, EV_READ);
}

#define LINGER_SECONDS 2

static void
on_write(struct bufferevent *bev, void *arg)
{
    struct http_conn *c = arg;
    if (c->state != CONN_CLOSING || evbuffer_get_length(bufferevent_get_output(bev)) != 0)
        return;
    /* Closing with unread input makes the kernel send a reset, which can
     * destroy the reply before the client reads it (a 413 for an upload
     * still in flight). Shut the write side and discard input for a while. */
    if (shutdown(bufferevent_getfd(bev), SHUT_WR) < 0) {
        conn_free(c);
        return;
    }
    c->state = CONN_LINGER;
    evtimer_del(c->timer);
    arm_timer(c, LINGER_SECONDS);
    struct evbuffer *in = bufferevent_get_input(bev);
    evbuffer_drain(in, evbuffer_get_length(in));
    bufferevent_enable(bev, EV_READ);
}

/* Closes once the queued output is written, lingering as after an error. */
static void
conn_close_soon(struct http_conn *c)
{
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
        conn_free(c);
        return;
    }
    c->state = CONN_CLOSING;
    evtimer_del(c->timer);
    arm_timer(c, 5);
    bufferevent_disable(c->bev, EV_READ);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
    struct http_conn *c = arg;
    (void)bev;
    /* A client may shut its write side once its request is sent (EOF while
     * the request is handled): it still reads the reply. */
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
        (c->state == CONN_HANDLING || c->state == CONN_HEAD)) {
        c->read_eof = 1;
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        conn_free(c);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct http_conn *c = arg;
    (void)fd;
    (void)what;
    switch (c->state) {
    case CONN_READ_HEAD:
        if (c->req) /* a request had started: tell the slow client */
            reply_and_close(c, 408, "request_timeout", "Hết thời gian chờ gửi yêu cầu.");
        else
            conn_free(c); /* idle keep-alive connection */
        break;
    case CONN_READ_BODY:
        reply_and_close(c, 408, "request_timeout", "Hết thời gian chờ gửi dữ liệu.");
        break;
    case CONN_CLOSING:
    case CONN_LINGER:
        conn_free(c);
        break;
    case CONN_HEAD:
    case CONN_HANDLING:
        break;
    }
}

/* Idle connections get the short deadline once the process is busy. */
static void
shorten_idle_timers(struct http_server *srv)
{
    int busy = srv->lim.idle_busy_timeout;
    if (busy <= 0 || busy >= srv->lim.idle_timeout)
        return;
    struct http_conn *c;
    TAILQ_FOREACH(c, &srv->conns, link)
        if (c->state == CONN_READ_HEAD && !c->req)
            arm_timer(c, busy);
}

/* Refuses a connection over a cap with a canned 503 (best effort, no
 * buffering) and logs refusals at most every ten seconds. */
static void
refuse(struct http_server *srv, int fd, enum conncap_verdict why)
{
    const char *msg = why == CONNCAP_ADDRESS_FULL
                          ? "Quá nhiều kết nối từ cùng một địa chỉ mạng, vui lòng thử lại sau"
                            " giây lát."
                          : "Máy chủ đang quá tải, vui lòng thử lại sau giây lát.";
    char body[256], out[512];
    int blen = snprintf(body, sizeof(body),
                        "{\"error\":{\"code\":\"too_many_connections\",\"message\":\"%s\"}}", msg);
    int n = snprintf(out, sizeof(out),
                     "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; "
                     "charset=utf-8\r\nRetry-After: 5\r\nConnection: close\r\n"
                     "Content-Length: %d\r\n\r\n%s",
                     blen, body);
    if (send(fd, out, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
        /* nothing to do: the socket is closed below */
    }
    evutil_closesocket(fd);
    srv->refused++;
    uint64_t now = now_ns();
    if (now - srv->refused_log_ns >= 10000000000ull) {
        log_warn("refused %d connections (%s); %d open on this worker", srv->refused,
                 why == CONNCAP_ADDRESS_FULL ? "too many from one address" : "connection cap",
                 srv->nconns);
        srv->refused_log_ns = now;
        srv->refused = 0;
    }
}

int
http_server_adopt(struct http_server *srv, int fd, const char *peer)
{
    if (srv->nconns >= srv->lim.max_connections || srv->shutting_down) {
        refuse(srv, fd, CONNCAP_FULL);
        return -1;
    }
    enum conncap_verdict v = kt_conncap_take(peer);
    if (v != CONNCAP_OK) {
        refuse(srv, fd, v);
        return -1;
    }
    if (!kt_conncap_busy())
        srv->busy_swept = 0;
    else if (!srv->busy_swept) {
        shorten_idle_timers(srv);
        srv->busy_swept = 1;
    }
    struct http_conn *c = calloc(1, sizeof(*c));
    if (!c) {
        kt_conncap_give(peer);
        evutil_closesocket(fd);
        return -1;
    }
    c->srv = srv;
    c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
    c->timer = evtimer_new(srv->base, on_timer, c);
    if (!c->bev || !c->timer) {
        if (c->bev)
            bufferevent_free(c->bev);
        else
            evutil_closesocket(fd);
        if (c->timer)
            event_free(c->timer);
        free(c);
        kt_conncap_give(peer);
        return -1;
    }
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    TAILQ_INSERT_TAIL(&srv->conns, c, link);
    srv->nconns++;
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    arm_timer(c, idle_seconds(srv));
    return 0;
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
    char peer[48] = "local";
    (void)l;
    (void)salen;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, peer, sizeof(peer));
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, peer, sizeof(peer));
    struct http_server *srv = arg;
    if (srv->backoff_ms) {
        log_info("accepting connections again after %d failures for lack of descriptors",
                 srv->accept_failures);
        srv->backoff_ms = 0;
        srv->accept_failures = 0;
    }
    http_server_adopt(srv, fd, peer);
}

/* accept() failed. Out of descriptors (or kernel memory) the listening
 * socket stays readable, so the listener would spin: pause it, growing the
 * pause while the shortage lasts, with one log line per episode. */
static void
on_accept_error(struct evconnlistener *l, void *arg)
{
    struct http_server *srv = arg;
    int err = EVUTIL_SOCKET_ERROR();
    if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM) {
        log_warn("accept failed: %s", strerror(err));
        return;
    }
    evconnlistener_disable(l);
    if (!srv->backoff_ms) {
        log_warn("accept failed: %s; out of file descriptors with %d connections open on this"
                 " worker: pausing the listener",
                 strerror(err), srv->nconns);
        srv->backoff_ms = 25;
    } else if (srv->backoff_ms < 1000) {
        srv->backoff_ms *= 2;
    }
    srv->accept_failures++;
    shorten_idle_timers(srv);
    struct timeval tv = {srv->backoff_ms / 1000, (suseconds_t)(srv->backoff_ms % 1000) * 1000};
    evtimer_add(srv->backoff, &tv);
}

static void
on_backoff_end(evutil_socket_t fd, short what, void *arg)
{
    struct http_server *srv = arg;
    (void)fd;
    (void)what;
    if (srv->listener)
        evconnlistener_enable(srv->listener);
}

/* ------------------------------------------------------------------------ */
/* Server                                                                   */

struct http_server *
http_server_new(struct event_base *base, struct kt_worker *worker, const struct http_limits *limits,
                http_handler_fn handler, http_observer_fn observer)
{
    struct http_server *srv = calloc(1, sizeof(*srv));
    if (!srv)
        return NULL;
    srv->base = base;
    srv->worker = worker;
    srv->lim = *limits;
    srv->handler = handler;
    srv->observer = observer;
    TAILQ_INIT(&srv->conns);
    return srv;
}

void
http_server_on_head(struct http_server *srv, http_head_fn head)
{
    srv->head = head;
}

int
http_server_listen(struct http_server *srv, const char *addr, int port)
{
    struct sockaddr_storage ss;
    int sslen = sizeof(ss);
    char spec[128];
    snprintf(spec, sizeof(spec), strchr(addr, ':') ? "[%s]:%d" : "%s:%d", addr, port);
    if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &sslen) < 0) {
        log_error("cannot parse listen address %s", spec);
        return -1;
    }
    srv->listener = evconnlistener_new_bind(
        srv->base, on_accept, srv,
        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT | LEV_OPT_CLOSE_ON_EXEC,
        4096, (struct sockaddr *)&ss, sslen);
    if (!srv->listener) {
        log_error("cannot listen on %s: %s", spec, strerror(errno));
        return -1;
    }
    srv->backoff = evtimer_new(srv->base, on_backoff_end, srv);
    if (!srv->backoff)
        return -1;
    evconnlistener_set_error_cb(srv->listener, on_accept_error);
    return 0;
}

int
http_server_connections(const struct http_server *srv)
{
    return srv->nconns;
}

void
http_server_shutdown(struct http_server *srv)
{
    srv->shutting_down = 1;
    if (srv->listener) {
        evconnlistener_free(srv->listener);
        srv->listener = NULL;
    }
    if (srv->backoff) {
        event_free(srv->backoff);
        srv->backoff = NULL;
    }
    for (struct http_conn *c = TAILQ_FIRST(&srv->conns), *next; c; c = next) {
        next = TAILQ_NEXT(c, link);
        if (c->state != CONN_HANDLING && c->state != CONN_HEAD)
            conn_free(c);
    }
}

void
http_server_free(struct http_server *srv)
{
    if (!srv)
        return;
    http_server_shutdown(srv);
    while (!TAILQ_EMPTY(&srv->conns))
        conn_free(TAILQ_FIRST(&srv->conns));
    free(srv);
}

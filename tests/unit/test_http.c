/*
 * The HTTP/1.1 layer, driven over a socketpair: parsing, keep-alive and
 * pipelining, limits (413, 431), malformed requests, decoding, body limits
 * chosen by a head hook, half-closed clients, connection caps.
 */
#include <criterion/criterion.h>
#include <errno.h>

#include "conncap.h"
#include "http_harness.h"

static char *
ask(const char *req)
{
    return http_exchange(req, strlen(req), 1);
}

static int
count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

Test(http, simple_get_keeps_alive)
{
    char *out = ask("GET /a/b HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", out);
    cr_assert(strstr(out, "GET /a/b q=- body=0"));
    cr_assert_null(strstr(out, "Connection: close"));
    free(out);
}

Test(http, pipelined_requests_answered_in_order)
{
    char *out = ask("GET /one HTTP/1.1\r\n\r\nPOST /two HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
                    "GET /three HTTP/1.1\r\nConnection: close\r\n\r\n");
    char *a = strstr(out, "GET /one"), *b = strstr(out, "POST /two q=- body=3"),
         *c = strstr(out, "GET /three");
    cr_assert(a && b && c && a < b && b < c, "%s", out);
    cr_assert_eq(count(out, "HTTP/1.1 200"), 3);
    free(out);
}

Test(http, oversized_head_is_431)
{
    char req[3000];
    snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nX-Pad: %02000d\r\n\r\n", 0);
    char *out = ask(req);
    cr_assert(strncmp(out, "HTTP/1.1 431 ", 13) == 0, "%s", out);
    free(out);
}

Test(http, oversized_body_is_413_before_reading_it)
{
    char *out = ask("POST / HTTP/1.1\r\nContent-Length: 999999\r\n\r\n");
    cr_assert(strncmp(out, "HTTP/1.1 413 ", 13) == 0, "%s", out);
    cr_assert(strstr(out, "Connection: close"));
    free(out);
}

Test(http, malformed_requests)
{
    static const char *bad[] = {
        "GARBAGE\r\n\r\n",
        "GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
        "GET nopath HTTP/1.1\r\n\r\n",
        "GET /%zz HTTP/1.1\r\n\r\n",
        "GET /a%00b HTTP/1.1\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef",
        "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *out = ask(bad[i]);
        cr_assert(strncmp(out, "HTTP/1.1 400 ", 13) == 0, "case %zu: %s", i, out);
        free(out);
    }
}

Test(http, version_and_chunked)
{
    char *out = ask("GET / HTTP/2.0\r\n\r\n");
    cr_assert(strncmp(out, "HTTP/1.1 505 ", 13) == 0, "%s", out);
    free(out);
    out = ask("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    cr_assert(strncmp(out, "HTTP/1.1 411 ", 13) == 0, "%s", out);
    free(out);
}

Test(http, http10_closes_unless_asked)
{
    char *out = ask("GET / HTTP/1.0\r\n\r\n");
    cr_assert(strstr(out, "Connection: close"), "%s", out);
    free(out);
}

Test(http, query_and_path_decoding)
{
    char *out = ask("GET /t%C3%A0i?x=1&q=h%C3%A0m+s%E1%BB%91&y HTTP/1.1\r\n\r\n");
    cr_assert(strstr(out, "GET /tài q=hàm số body=0"), "%s", out);
    free(out);
}

Test(http, expect_continue)
{
    char *out = ask("POST /u HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok");
    cr_assert(strncmp(out, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK", 39) == 0, "%s", out);
    free(out);
}

/* ------------------------------------------------------------------------ */
/* Answers that come later, body limits per request, half-closed clients   */

static void
echo_later_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    echo_handler(arg);
}

/* Answers 20 ms later, as a handler waiting on the database does. */
static void
echo_later(http_request *req)
{
    struct timeval ms20 = {0, 20000};
    event_base_once(harness_base, -1, EV_TIMEOUT, echo_later_cb, req, &ms20);
}

static char *
ask_later(const char *req, http_head_fn head, int close_write)
{
    return http_exchange_with(echo_later, head, req, strlen(req), close_write, 1);
}

Test(http, half_closed_client_gets_its_reply)
{
    char *out = ask_later("GET /cham HTTP/1.1\r\nHost: x\r\n\r\n", NULL, 1);
    cr_assert(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0, "no reply: '%s'", out);
    cr_assert(strstr(out, "GET /cham q=- body=0"), "%s", out);
    cr_assert(strstr(out, "Connection: close"), "%s", out);
    free(out);
    /* Pipelined requests before the EOF are all answered, in order. */
    out = ask_later("GET /mot HTTP/1.1\r\n\r\nPOST /hai HTTP/1.1\r\nContent-Length: 2\r\n\r\nok",
                    NULL, 1);
    char *a = strstr(out, "GET /mot"), *b = strstr(out, "POST /hai q=- body=2");
    cr_assert(a && b && a < b && count(out, "HTTP/1.1 200") == 2, "%s", out);
    free(out);
    /* A request cut short by the EOF gets nothing. */
    out = ask_later("POST /ba HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc", NULL, 1);
    cr_assert_str_eq(out, "");
    free(out);
}

static void
small_or_large(http_request *req)
{
    http_read_body(req, strcmp(req->path, "/nho") == 0 ? 10 : 4096);
}

Test(http, head_hook_sets_the_body_limit)
{
    /* 100 bytes announced where 10 are allowed: 413 without waiting for them. */
    char *out = http_exchange_with(echo_handler, small_or_large,
                                   "POST /nho HTTP/1.1\r\nContent-Length: 100\r\n\r\n", 43, 0, 0);
    cr_assert(strncmp(out, "HTTP/1.1 413 ", 13) == 0, "%s", out);
    cr_assert(strstr(out, "body_too_large") && strstr(out, "Connection: close"), "%s", out);
    free(out);
    out = ask_later("POST /lon HTTP/1.1\r\nContent-Length: 100\r\n\r\n"
                    "0123456789012345678901234567890123456789012345678901234567890123456789"
                    "012345678901234567890123456789",
                    small_or_large, 1);
    cr_assert(strstr(out, "POST /lon q=- body=100"), "%s", out);
    free(out);
}

static void
decide_cb(evutil_socket_t fd, short what, void *arg)
{
    http_request *req = arg;
    (void)fd;
    (void)what;
    if (strcmp(req->path, "/cam") == 0)
        http_reply(req, 401, "text/plain", "no", 2);
    else
        http_read_body(req, 4096);
}

/* Decides about the body 20 ms later, as a token check does. */
static void
decide_later(http_request *req)
{
    struct timeval ms20 = {0, 20000};
    event_base_once(harness_base, -1, EV_TIMEOUT, decide_cb, req, &ms20);
}

Test(http, head_hook_may_wait_then_refuse_or_read)
{
    /* Refused before the body: the connection closes, the body is never
     * taken for a request. */
    char *out = ask_later("POST /cam HTTP/1.1\r\nContent-Length: 20\r\n\r\n"
                          "GET /x HTTP/1.1\r\n\r\n\r\n",
                          decide_later, 0);
    cr_assert(strncmp(out, "HTTP/1.1 401 ", 13) == 0, "%s", out);
    cr_assert(strstr(out, "Connection: close"), "%s", out);
    cr_assert_eq(count(out, "HTTP/1.1 "), 1, "%s", out);
    free(out);
    /* Accepted: 100 Continue only now, then the handler sees the body. */
    out = ask_later("POST /duoc HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok",
                    decide_later, 1);
    cr_assert(strncmp(out, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK", 39) == 0, "%s", out);
    cr_assert(strstr(out, "POST /duoc q=- body=2"), "%s", out);
    free(out);
}

/* ------------------------------------------------------------------------ */
/* Connection caps                                                          */

static int
adopt_pair(struct http_server *srv, const char *peer, int *client)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        abort();
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    *client = sv[1];
    return http_server_adopt(srv, sv[0], peer);
}

static void
run_for(struct event_base *base, int ms)
{
    struct timeval tv = {ms / 1000, (suseconds_t)(ms % 1000) * 1000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

/* 1 when the server closed this client's connection. */
static int
closed(int client)
{
    char buf[512];
    ssize_t r;
    while ((r = read(client, buf, sizeof(buf))) > 0)
        ;
    return r == 0;
}

Test(http, per_address_cap)
{
    kt_conncap_configure(0, 2);
    struct event_base *base = event_base_new();
    struct http_server *srv = http_server_new(base, NULL, &test_limits, echo_handler, NULL);
    int c[5];
    cr_assert_eq(adopt_pair(srv, "10.0.0.1", &c[0]), 0);
    cr_assert_eq(adopt_pair(srv, "10.0.0.1", &c[1]), 0);
    cr_assert_eq(adopt_pair(srv, "10.0.0.1", &c[2]), -1);
    cr_assert_eq(adopt_pair(srv, "10.0.0.2", &c[3]), 0);
    char buf[1024] = {0};
    cr_assert(read(c[2], buf, sizeof(buf) - 1) > 0);
    cr_assert(strncmp(buf, "HTTP/1.1 503 ", 13) == 0 && strstr(buf, "too_many_connections"), "%s",
              buf);
    close(c[0]); /* a slot of 10.0.0.1 comes free once the server sees the close */
    run_for(base, 50);
    cr_assert_eq(adopt_pair(srv, "10.0.0.1", &c[4]), 0);
    for (int i = 1; i < 5; i++)
        close(c[i]);
    http_server_free(srv);
    event_base_free(base);
}

Test(http, idle_connections_dropped_sooner_when_busy)
{
    kt_conncap_configure(5, 0);
    struct http_limits lim = test_limits;
    lim.idle_timeout = 30;
    lim.idle_busy_timeout = 1;
    struct event_base *base = event_base_new();
    struct http_server *srv = http_server_new(base, NULL, &lim, echo_handler, NULL);
    int c[6];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(adopt_pair(srv, "10.0.0.1", &c[i]), 0);
    run_for(base, 1300);
    for (int i = 0; i < 3; i++)
        cr_assert_not(closed(c[i]), "connection %d closed below the high-water mark", i);
    for (int i = 3; i < 5; i++) /* 5 of 5: busy */
        cr_assert_eq(adopt_pair(srv, "10.0.0.1", &c[i]), 0);
    cr_assert_eq(adopt_pair(srv, "10.0.0.1", &c[5]), -1, "a connection over the cap was taken");
    run_for(base, 1300);
    for (int i = 0; i < 5; i++)
        cr_assert(closed(c[i]), "idle connection %d kept while busy", i);
    for (int i = 0; i < 6; i++)
        close(c[i]);
    cr_assert_eq(http_server_connections(srv), 0);
    http_server_free(srv);
    event_base_free(base);
}

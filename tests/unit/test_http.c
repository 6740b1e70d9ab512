/*
 * The HTTP/1.1 layer, driven over a socketpair: parsing, keep-alive and
 * pipelining, limits (413, 431), malformed requests, decoding.
 */
#include <criterion/criterion.h>

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

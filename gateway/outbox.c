/*
 * The CSDL sync sender: on one worker's loop, every KIEMTRA_CSDL_INTERVAL
 * seconds, the exchange records whose newest version the receiver has not
 * accepted are posted one at a time to KIEMTRA_CSDL_URL in their envelope
 * (idbanghi, sukien, phienban, thoigiancapnhat). Each record is claimed for
 * a lease before it is sent and acknowledged under that claim, so any number
 * of gateways send each version once. Failures back off exponentially.
 */
#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <sodium.h>

#include "config.h"
#include "log.h"
#include "pgpool.h"
#include "server.h"

static const struct pg_stmt_def outbox_stmts[] = {
    /* One committed statement: the next due record, claimed for $2 s. */
    {"outbox_claim",
     "SELECT record_id, version, event, payload::text, updated_at"
     " FROM kt_outbox_claim($1, $2::integer)"},
    {"outbox_ack", "SELECT kt_outbox_ack($1, $2, $3::integer, $4::boolean, $5)"},
};

void
kt_outbox_register(void)
{
    pg_register_statements(outbox_stmts, (int)(sizeof(outbox_stmts) / sizeof(outbox_stmts[0])));
}

/* One run: records claimed and sent one after the other until none is due
 * or one fails. Only its worker touches it. */
struct run {
    struct kt_worker *w;
    pg_query *claim; /* holds the record being sent, if any */
    int stmt;        /* the claim's statement in it */
    int more;        /* whether the query in flight claims another record */
    struct evhttp_connection *conn;
};

static struct event *tick_ev;
static struct run *running;
static char host[64], path[512];
static int port;
/* This process among the gateways, and how long its claims last: longer
 * than a send may take (connect, then write and read, each bounded by the
 * timeout), so that a claim runs out only when its holder is gone. */
static char sender[128];
static char lease[16];

static void claim_next(struct run *r, int ok, const char *error);
static void on_response(struct evhttp_request *req, void *arg);

static void
run_end(struct run *r)
{
    if (r->conn)
        evhttp_connection_free(r->conn);
    pg_query_free(r->claim);
    free(r);
    running = NULL;
}

static const char *
claimed(const struct run *r, int col)
{
    return pg_value(r->claim, r->stmt, 0, col);
}

static void
send_claimed(struct run *r)
{
    if (!r->conn) {
        r->conn = evhttp_connection_base_new(r->w->base, NULL, host, (unsigned short)port);
        if (!r->conn) {
            claim_next(r, 0, "không tạo được kết nối");
            return;
        }
        evhttp_connection_set_timeout(r->conn, kt_cfg.csdl_timeout);
        evhttp_connection_set_retries(r->conn, 0);
    }
    json_t *env = json_pack("{s:s,s:s,s:i,s:s,s:o?}", "idbanghi", claimed(r, 0), "sukien",
                            claimed(r, 2), "phienban", atoi(claimed(r, 1)), "thoigiancapnhat",
                            claimed(r, 4), "du_lieu", json_loads(claimed(r, 3), 0, NULL));
    char *body = json_dumps(env, JSON_COMPACT);
    json_decref(env);
    struct evhttp_request *req = evhttp_request_new(on_response, r);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Host", host);
    evhttp_add_header(h, "Content-Type", "application/json; charset=utf-8");
    evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
    free(body);
    if (evhttp_make_request(r->conn, req, EVHTTP_REQ_POST, path) != 0)
        claim_next(r, 0, "không gửi được yêu cầu");
}

static void
on_claimed(pg_query *q, void *arg)
{
    struct run *r = arg;
    if (q->status != PG_OK) {
        /* A lost acknowledgement leaves the claim to run out: the record
         * is sent again and the receiver answers 409 for that version. */
        log_error("outbox: acknowledging or claiming failed: %s", q->error ? q->error : "?");
        pg_query_free(q);
        run_end(r);
        return;
    }
    pg_query_free(r->claim);
    r->claim = q;
    r->stmt = q->nresults - 1;
    if (!r->more || pg_ntuples(q, r->stmt) == 0) {
        run_end(r);
        return;
    }
    send_claimed(r);
}

/* Acknowledges the record just sent, if any, and after a success claims
 * the next one in the same transaction; after a failure the run ends and
 * the next tick starts over. */
static void
claim_next(struct run *r, int ok, const char *error)
{
    pg_query *q = pg_query_new(NULL);
    if (r->claim) {
        const char *p[] = {sender, claimed(r, 0), claimed(r, 1), ok ? "true" : "false", error};
        pg_query_add(q, "outbox_ack", 5, p);
        if (!ok) /* the run ends: its connection is freed outside libevent's callback */
            log_info("outbox: %s v%s not delivered: %s", p[1], p[2], error);
    }
    r->more = ok;
    if (ok) {
        const char *p[] = {sender, lease};
        pg_query_add(q, "outbox_claim", 2, p);
    }
    pg_query_run(r->w->db, q, on_claimed, r);
}

static void
on_response(struct evhttp_request *req, void *arg)
{
    struct run *r = arg;
    int code = req ? evhttp_request_get_response_code(req) : 0;
    char err[160];
    /* 409: the receiver holds this version or a newer one; nothing older is
     * ever sent again, and this one need not be. */
    if (code == 200 || code == 201 || code == 409) {
        claim_next(r, 1, NULL);
        return;
    }
    if (code)
        snprintf(err, sizeof(err), "HTTP %d", code);
    else
        snprintf(err, sizeof(err), "không kết nối được hoặc hết thời gian chờ");
    claim_next(r, 0, err);
}

static void
outbox_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    if (running)
        return;
    struct run *r = calloc(1, sizeof(*r));
    if (!r)
        return;
    r->w = arg;
    running = r;
    claim_next(r, 1, NULL);
}

int
kt_outbox_configure(void)
{
    const char *u = kt_cfg.csdl_url;
    if (!u || !*u)
        return 0;
    /* http://IP:PORT/path: an address, never a name, so that nothing blocks
     * on a DNS lookup. */
    int n = 0;
    if (sscanf(u, "http://%63[0-9.]:%d%n", host, &port, &n) != 2 || port < 1 || port > 65535 ||
        (u[n] != '/' && u[n] != '\0') || strlen(u + n) >= sizeof(path)) {
        log_error("KIEMTRA_CSDL_URL=%s: expected http://IP:PORT/path", u);
        return -1;
    }
    snprintf(path, sizeof(path), "%s", u[n] ? u + n : "/");
    return 0;
}

void
kt_outbox_start(struct kt_worker *w)
{
    if (!kt_cfg.csdl_url || !*kt_cfg.csdl_url)
        return;
    char name[64] = "";
    if (gethostname(name, sizeof(name)) != 0)
        snprintf(name, sizeof(name), "?");
    name[sizeof(name) - 1] = '\0';
    snprintf(sender, sizeof(sender), "%s/%ld/%08x", name, (long)getpid(), randombytes_random());
    snprintf(lease, sizeof(lease), "%d", 3 * kt_cfg.csdl_timeout + 2);
    tick_ev = event_new(w->base, -1, EV_PERSIST, outbox_tick, w);
    struct timeval tv = {kt_cfg.csdl_interval, 0};
    event_add(tick_ev, &tv);
    log_info("outbox: sending exchange records to %s every %d s as %s", kt_cfg.csdl_url,
             kt_cfg.csdl_interval, sender);
}

void
kt_outbox_stop(void)
{
    if (running)
        run_end(running);
    if (tick_ev)
        event_free(tick_ev);
    tick_ev = NULL;
}

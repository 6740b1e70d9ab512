/*
 * The CSDL sync sender: on one worker's loop, every KIEMTRA_CSDL_INTERVAL
 * seconds, the exchange records whose newest version the receiver has not
 * accepted are posted one at a time to KIEMTRA_CSDL_URL in their envelope
 * (idbanghi, sukien, phienban, thoigiancapnhat). Accepted versions only
 * grow; failures back off exponentially. One gateway leads (advisory lock).
 */
#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "config.h"
#include "log.h"
#include "pgpool.h"
#include "server.h"

#define OUTBOX_BATCH 50
#define OUTBOX_LOCK_KEY "7316004822"

static const struct pg_stmt_def outbox_stmts[] = {
    {"outbox_due",
     "SELECT d.record_id, d.version, d.event, d.payload::text, d.updated_at FROM"
     " (SELECT pg_try_advisory_xact_lock(" OUTBOX_LOCK_KEY ") AS leader) l,"
     " LATERAL kt_outbox_due(CASE WHEN l.leader THEN $1::integer ELSE 0 END) d"},
    {"outbox_result", "SELECT kt_outbox_result($1, $2::integer, $3::boolean, $4)"},
};

void
kt_outbox_register(void)
{
    pg_register_statements(outbox_stmts, (int)(sizeof(outbox_stmts) / sizeof(outbox_stmts[0])));
}

/* One run: the due rows, sent in order. Only its worker touches it. */
struct run {
    struct kt_worker *w;
    pg_query *due; /* the rows being sent */
    int next, n;
    struct evhttp_connection *conn;
    int conn_broken; /* freed before the next send, outside libevent's callback */
};

static struct event *tick_ev;
static struct run *running;
static char host[64], path[512];
static int port;

static void send_next(struct run *r);

static void
run_end(struct run *r)
{
    if (r->conn)
        evhttp_connection_free(r->conn);
    pg_query_free(r->due);
    free(r);
    running = NULL;
}

static void
result_stored(pg_query *q, void *arg)
{
    struct run *r = arg;
    if (q->status != PG_OK)
        log_error("outbox: storing a result failed: %s", q->error ? q->error : "?");
    pg_query_free(q);
    send_next(r);
}

/* Records what the receiver said about the row just sent. */
static void
record_result(struct run *r, int ok, const char *error)
{
    const char *p[] = {pg_value(r->due, 0, r->next, 0), pg_value(r->due, 0, r->next, 1),
                       ok ? "true" : "false", error};
    pg_query *q = pg_query_new(NULL);
    pg_query_add(q, "outbox_result", 4, p);
    if (!ok)
        log_info("outbox: %s v%s not delivered: %s", p[0], p[1], error);
    r->next++;
    pg_query_run(r->w->db, q, result_stored, r);
}

static void
on_response(struct evhttp_request *req, void *arg)
{
    struct run *r = arg;
    int code = req ? evhttp_request_get_response_code(req) : 0;
    char err[160];
    if (code == 200 || code == 201) {
        record_result(r, 1, NULL);
        return;
    }
    if (code == 409) {
        /* The receiver has this version or a newer one: nothing older is ever
         * sent again, and this one need not be. */
        record_result(r, 1, NULL);
        return;
    }
    if (code)
        snprintf(err, sizeof(err), "HTTP %d", code);
    else
        snprintf(err, sizeof(err), "không kết nối được hoặc hết thời gian chờ");
    r->conn_broken = 1; /* unusable after an error: a new one for the next send */
    record_result(r, 0, err);
}

static void
send_next(struct run *r)
{
    if (r->next >= r->n) {
        run_end(r);
        return;
    }
    if (r->conn && r->conn_broken) {
        evhttp_connection_free(r->conn);
        r->conn = NULL;
        r->conn_broken = 0;
    }
    if (!r->conn) {
        r->conn = evhttp_connection_base_new(r->w->base, NULL, host, (unsigned short)port);
        if (!r->conn) {
            run_end(r);
            return;
        }
        evhttp_connection_set_timeout(r->conn, kt_cfg.csdl_timeout);
        evhttp_connection_set_retries(r->conn, 0);
    }
    json_t *env = json_pack("{s:s,s:s,s:i,s:s,s:o?}", "idbanghi", pg_value(r->due, 0, r->next, 0),
                            "sukien", pg_value(r->due, 0, r->next, 2), "phienban",
                            atoi(pg_value(r->due, 0, r->next, 1)), "thoigiancapnhat",
                            pg_value(r->due, 0, r->next, 4), "du_lieu",
                            json_loads(pg_value(r->due, 0, r->next, 3), 0, NULL));
    char *body = json_dumps(env, JSON_COMPACT);
    json_decref(env);
    struct evhttp_request *req = evhttp_request_new(on_response, r);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Host", host);
    evhttp_add_header(h, "Content-Type", "application/json; charset=utf-8");
    evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
    free(body);
    if (evhttp_make_request(r->conn, req, EVHTTP_REQ_POST, path) != 0)
        record_result(r, 0, "không gửi được yêu cầu");
}

static void
due_loaded(pg_query *q, void *arg)
{
    struct run *r = arg;
    if (q->status != PG_OK || pg_ntuples(q, 0) == 0) {
        pg_query_free(q);
        free(r);
        running = NULL;
        return;
    }
    r->due = q;
    r->n = pg_ntuples(q, 0);
    send_next(r);
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
    char lim[16];
    snprintf(lim, sizeof(lim), "%d", OUTBOX_BATCH);
    const char *p[] = {lim};
    pg_query *q = pg_query_new(NULL);
    pg_query_add(q, "outbox_due", 1, p);
    pg_query_run(r->w->db, q, due_loaded, r);
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
    tick_ev = event_new(w->base, -1, EV_PERSIST, outbox_tick, w);
    struct timeval tv = {kt_cfg.csdl_interval, 0};
    event_add(tick_ev, &tv);
    log_info("outbox: sending exchange records to %s every %d s", kt_cfg.csdl_url,
             kt_cfg.csdl_interval);
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

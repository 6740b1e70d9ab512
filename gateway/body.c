/*
 * JSON bodies above BODY_INLINE_MAX: parsed on a CPU-pool thread (the
 * request waits, its connection untouched), handed to the handler through
 * api_body_object, and freed on the pool when the request ends. A document
 * of millions of values costs the event loop nothing but two queue hops.
 */
#include "body.h"

#include <stdlib.h>

#include "cpupool.h"
#include "server.h"

struct body_doc {
    json_t *json;
    json_error_t err;
};

struct parse_job {
    http_request *req;
    void (*then)(http_request *req);
    struct body_doc *doc;
};

static void
doc_free_work(void *arg)
{
    struct body_doc *d = arg;
    json_decref(d->json);
    free(d);
}

static void
doc_release(void *arg)
{
    kt_cpu_detach(doc_free_work, arg);
}

static void
parse_work(void *arg)
{
    struct parse_job *j = arg;
    j->doc->json = json_loadb(j->req->body, j->req->body_len, JSON_REJECT_DUPLICATES, &j->doc->err);
}

static void
parse_done(void *arg)
{
    struct parse_job *j = arg;
    http_request *req = j->req;
    req->body_doc = j->doc;
    req->body_doc_free = doc_release;
    void (*then)(http_request *) = j->then;
    free(j);
    then(req);
}

void
kt_body_parse(http_request *req, void (*then)(http_request *req))
{
    struct parse_job *j = malloc(sizeof(*j));
    struct body_doc *d = calloc(1, sizeof(*d));
    if (!j || !d)
        abort();
    j->req = req;
    j->then = then;
    j->doc = d;
    kt_cpu_submit(req->worker->base, parse_work, parse_done, j);
}

json_t *
kt_body_json(http_request *req, json_error_t *err)
{
    const struct body_doc *d = req->body_doc;
    if (!d)
        return json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, err);
    *err = d->err;
    return json_incref(d->json); /* the request keeps its own reference */
}

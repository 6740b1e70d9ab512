/*
 * Large JSON request bodies are parsed on the CPU pool, before the route's
 * handler runs, and released there afterwards, so that neither the parse
 * nor the free of a big document stalls the event loop.
 */
#ifndef KT_BODY_H
#define KT_BODY_H

#include <jansson.h>

#include "http.h"

/* Bodies up to this size are read before authentication and parsed inline. */
#define BODY_INLINE_MAX 65536

/* Parses req's body on the CPU pool, then runs then(req) on its loop. */
void kt_body_parse(http_request *req, void (*then)(http_request *req));
/* The body as a new JSON reference (NULL with err filled on a syntax
 * error): the document kt_body_parse made, or parsed now. */
json_t *kt_body_json(http_request *req, json_error_t *err);

#endif

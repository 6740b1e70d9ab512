/*
 * The web UI's static files, loaded into memory at start (see static.c).
 */
#ifndef KT_STATIC_H
#define KT_STATIC_H

#include "http.h"

/* Loads every file under KIEMTRA_WEB_ROOT; 0, or -1 when a file cannot be
 * read or the limits (512 files, 16 MiB) are passed. A missing root is fine. */
int kt_static_load(void);
void kt_static_free(void);
/* Replies with the file at req->path ("/x/" means "/x/index.html") and
 * returns 1, or returns 0 when there is none. */
int kt_static_serve(http_request *req);

#endif

/*
 * Images of the item editor: POST /api/v1/media stores an uploaded PNG,
 * JPEG, GIF or WebP (its type checked by its first bytes, not only by the
 * Content-Type the browser sent) once per school and content, and
 * GET /api/v1/media/<sha256>.<ext> serves it back to the school's staff for
 * the editor's preview. Items refer to an image as "media/<sha256>.<ext>";
 * items.c copies it into each version's item_assets (migration 0024).
 * Hashing and hex-encoding an upload run on the CPU pool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "api.h"
#include "cpupool.h"
#include "item.h"
#include "server.h"

static const struct pg_stmt_def media_stmts[] = {
    /* Stored once per (school, sha256): a second upload returns the first. */
    {"media_store",
     "WITH n AS (INSERT INTO media (school_id, sha256, content_type, data, created_by)"
     "  VALUES ($1::bigint, $2::text, $3::text, $4::bytea, $5::bigint)"
     "  ON CONFLICT (school_id, sha256) DO NOTHING RETURNING path, content_type, length(data))"
     " SELECT path, content_type, length, true FROM n"
     " UNION ALL SELECT path, content_type, length(data), false FROM media"
     "  WHERE school_id = $1::bigint AND sha256 = $2::text AND NOT EXISTS (SELECT 1 FROM n)"},
    {"media_get",
     "SELECT content_type, data FROM media WHERE school_id = $1::bigint AND path = $2::text"},
};

void
kt_media_register(void)
{
    pg_register_statements(media_stmts, (int)(sizeof(media_stmts) / sizeof(media_stmts[0])));
}

/* ------------------------------------------------------------------------ */
/* POST /api/v1/media                                                       */

struct media_job {
    http_request *req;
    const char *type;          /* the type the bytes are, from the magic */
    char sha[2 * crypto_hash_sha256_BYTES + 1];
    char *hex;                 /* "\\x..." bytea text of the body */
};

static void
media_job_free_work(void *p)
{
    struct media_job *j = p;
    free(j->hex);
    free(j);
}

static void
media_job_release(void *p)
{
    kt_cpu_detach(media_job_free_work, p);
}

static void
media_work(void *arg)
{
    struct media_job *j = arg;
    const http_request *req = j->req;
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)req->body, req->body_len);
    sodium_bin2hex(j->sha, sizeof(j->sha), h, sizeof(h));
    size_t n = 2 + 2 * req->body_len + 1;
    j->hex = malloc(n);
    if (!j->hex)
        abort();
    j->hex[0] = '\\';
    j->hex[1] = 'x';
    sodium_bin2hex(j->hex + 2, n - 2, (const unsigned char *)req->body, req->body_len);
}

static void
media_stored(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    if (pg_ntuples(q, 0) != 1) {
        api_error(req, 500, "internal", "Không lưu được ảnh; hãy thử lại.");
        return;
    }
    const char *created = pg_value(q, 0, 0, 3);
    api_json(req, created && strcmp(created, "t") == 0 ? 201 : 200,
             json_pack("{s:s,s:s,s:I,s:b}", "path", pg_value(q, 0, 0, 0), "content_type",
                       pg_value(q, 0, 0, 1), "bytes",
                       (json_int_t)strtoll(pg_value(q, 0, 0, 2), NULL, 10), "created",
                       created && strcmp(created, "t") == 0));
}

static void
media_hashed(void *arg)
{
    struct media_job *j = arg;
    http_request *req = j->req;
    char school[24], actor[24];
    snprintf(school, sizeof(school), "%lld", (long long)req->user->school_id);
    snprintf(actor, sizeof(actor), "%lld", (long long)req->user->id);
    const char *p[] = {school, j->sha, j->type, j->hex, actor};
    pg_query *q = api_query(req);
    pg_query_add(q, "media_store", 5, p);
    api_run(req, q, media_stored);
}

/* The declared Content-Type without parameters, lower case, in out. */
static void
declared_type(const http_request *req, char *out, size_t n)
{
    const char *ct = http_header(req, "Content-Type");
    size_t len = ct ? strcspn(ct, "; \t") : 0;
    if (len >= n)
        len = 0;
    for (size_t i = 0; i < len; i++)
        out[i] = (char)(ct[i] >= 'A' && ct[i] <= 'Z' ? ct[i] + 32 : ct[i]);
    out[len] = '\0';
}

void
h_media_upload(http_request *req)
{
    if (!req->user->school_id) {
        api_error(req, 403, "forbidden", "Chỉ tài khoản của một trường mới tải ảnh lên được.");
        return;
    }
    if (!req->body || req->body_len == 0) {
        api_error(req, 400, "empty_body", "Hãy gửi nội dung tệp ảnh trong thân yêu cầu.");
        return;
    }
    char declared[64];
    declared_type(req, declared, sizeof(declared));
    if (!kt_media_type_ok(declared)) {
        api_error_details(req, 415, "unsupported_media_type",
                          "Chỉ nhận ảnh PNG, JPEG, GIF hoặc WebP: hãy gửi Content-Type"
                          " image/png, image/jpeg, image/gif hoặc image/webp.",
                          json_pack("[{s:s,s:s}]", "field", "Content-Type", "message",
                                    "Phải là image/png, image/jpeg, image/gif hoặc image/webp."));
        return;
    }
    const char *actual = kt_media_sniff(req->body, req->body_len);
    if (!actual || strcmp(actual, declared) != 0) {
        char msg[300];
        if (actual)
            snprintf(msg, sizeof(msg),
                     "Nội dung tệp là ảnh %s nhưng Content-Type ghi %s; hãy gửi đúng loại ảnh.",
                     actual, declared);
        else
            snprintf(msg, sizeof(msg),
                     "Nội dung tệp không phải ảnh %s (sai chữ ký đầu tệp); tệp có thể bị hỏng"
                     " hoặc không phải ảnh.",
                     declared);
        api_error_details(req, 422, "invalid_media", msg,
                          json_pack("[{s:s,s:s}]", "field", "body", "message", msg));
        return;
    }
    struct media_job *j = calloc(1, sizeof(*j));
    if (!j)
        abort();
    j->req = req;
    j->type = actual;
    req->ctx = j;
    req->ctx_free = media_job_release;
    kt_cpu_submit(req->worker->base, media_work, media_hashed, j);
}

/* ------------------------------------------------------------------------ */
/* GET /api/v1/media/<sha256>.<ext>                                         */

static void
media_loaded(http_request *req, pg_query *q)
{
    api_reply_stored_file(req, q, "Không tìm thấy ảnh đã tải lên.");
}

void
h_media_get(http_request *req)
{
    const char *file = req->params[0];
    char path[128];
    if (!file || strlen(file) > 80 || !req->user->school_id) {
        api_error(req, 404, "not_found", "Không tìm thấy ảnh đã tải lên.");
        return;
    }
    snprintf(path, sizeof(path), "media/%s", file);
    if (!kt_media_path_valid(path)) {
        api_error(req, 404, "not_found", "Không tìm thấy ảnh đã tải lên.");
        return;
    }
    char school[24];
    snprintf(school, sizeof(school), "%lld", (long long)req->user->school_id);
    const char *p[] = {school, path};
    pg_query *q = api_query(req);
    pg_query_add(q, "media_get", 2, p);
    api_run(req, q, media_loaded);
}

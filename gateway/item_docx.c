/*
 * Word (.docx) question import: the plan of item_docx.h built on the CPU
 * pool, and POST /api/v1/items/import for a Word document or a question
 * sheet (.xlsx, .csv; the same plan, see qsheet.h): ?dry_run=1
 * shows per question what would be created and every problem, storing
 * nothing; otherwise a file with any question in error is refused (422,
 * nothing stored) unless ?partial=1, and the good questions are stored with
 * their pictures by kt_import_docx() (migrations/0030) in one statement.
 */
#include "item_docx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "api.h"
#include "cpupool.h"
#include "docx.h"
#include "item.h"
#include "server.h"

#define EXCERPT_CHARS 160

/* ------------------------------------------------------------------------ */
/* The plan                                                                 */

/* The stem as plain text, at most EXCERPT_CHARS characters. */
static json_t *
excerpt_of(const char *html)
{
    size_t n = html ? strlen(html) : 0, o = 0, chars = 0;
    char *out = malloc(n + 4);
    if (!out)
        abort();
    int space = 0;
    for (size_t i = 0; i < n && chars < EXCERPT_CHARS;) {
        if (html[i] == '<') {
            const char *e = strchr(html + i, '>');
            i = e ? (size_t)(e - html) + 1 : n;
            space = 1;
            continue;
        }
        char c = html[i];
        size_t adv = 1;
        if (c == '&') {
            static const struct { const char *ent, *s; } ents[] = {
                {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""},
                {"&#39;", "'"}, {"&apos;", "'"}, {"&nbsp;", " "}, {"&#160;", " "}};
            for (size_t k = 0; k < sizeof(ents) / sizeof(ents[0]); k++)
                if (strncmp(html + i, ents[k].ent, strlen(ents[k].ent)) == 0) {
                    c = ents[k].s[0];
                    adv = strlen(ents[k].ent);
                    break;
                }
        }
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            space = 1;
            i += adv;
            continue;
        }
        if (space && o > 0) {
            out[o++] = ' ';
            chars++;
        }
        space = 0;
        if (adv > 1) {
            out[o++] = c;
        } else {
            /* one UTF-8 character */
            size_t len = 1;
            while (i + len < n && ((unsigned char)html[i + len] & 0xC0) == 0x80)
                len++;
            memcpy(out + o, html + i, len);
            o += len;
            adv = len;
        }
        chars++;
        i += adv;
    }
    out[o] = '\0';
    json_t *s = chars >= EXCERPT_CHARS ? json_sprintf("%s…", out) : json_string(out);
    free(out);
    return s ? s : json_string("");
}

/* The key as a preview shows it: a letter (MCQ4, SHORT's value), the
 * letters (MR), {"a": true, ...} (TF4), null (ESSAY). */
static json_t *
key_of(const json_t *item)
{
    const char *kind = json_string_value(json_object_get(item, "kind"));
    if (kind && strcmp(kind, "TF4") == 0) {
        json_t *k = json_object();
        size_t i;
        json_t *s;
        json_array_foreach(json_object_get(item, "statements"), i, s)
            json_object_set(k, json_string_value(json_object_get(s, "id")),
                            json_is_true(json_object_get(s, "key")) ? json_true() : json_false());
        return k;
    }
    json_t *k = json_object_get(item, "key");
    if (!k)
        k = json_object_get(item, "keys");
    return k ? json_deep_copy(k) : json_null();
}

static int
error_seen(const json_t *problems, size_t upto, json_int_t q, json_int_t para)
{
    for (size_t i = 0; i < upto; i++) {
        const json_t *p = json_array_get(problems, i);
        if (json_integer_value(json_object_get(p, "question")) == q &&
            json_integer_value(json_object_get(p, "paragraph")) == para &&
            strcmp(json_string_value(json_object_get(p, "severity")), "error") == 0)
            return 1;
    }
    return 0;
}

static void
file_sha256(const void *buf, size_t len, char sha[2 * crypto_hash_sha256_BYTES + 1])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, buf, len);
    sodium_bin2hex(sha, 2 * crypto_hash_sha256_BYTES + 1, h, sizeof(h));
}

/* The plan of what a reader gave (rc, r: kt_docx_read's or kt_qsheet_read's
 * for out->format); r is freed. */
static void
plan_of(int rc, kt_docx_result *r, const char *sha, const char *subject, int grade,
        kt_docx_import *out)
{
    int sheet = strcmp(out->format, "docx") != 0;
    out->problems = r->problems ? json_incref(r->problems) : json_array();
    out->plan = json_pack("{s:o,s:[],s:[]}", "origin", json_sprintf("docx-sha256:%s", sha),
                          "items", "images");
    if (rc < 0) {
        out->refused = 1;
        kt_docx_result_free(r);
        return;
    }
    json_t *items = json_object_get(out->plan, "items"), *used = json_object();
    size_t i;
    json_t *q;
    json_array_foreach(r->questions, i, q)
    {
        json_t *item = json_object_get(q, "item");
        json_int_t number = json_integer_value(json_object_get(q, "number"));
        json_int_t part = json_integer_value(json_object_get(q, "part"));
        json_int_t para = json_integer_value(json_object_get(q, "paragraph"));
        char ident[101];
        if (sheet) /* the row: a question's place in the file */
            snprintf(ident, sizeof(ident), "%s-%d-%s-%.10s-r%lld", subject, grade, out->format,
                     sha, (long long)para);
        else if (part > 0)
            snprintf(ident, sizeof(ident), "%s-%d-docx-%.10s-p%lld-%lld", subject, grade, sha,
                     (long long)part, (long long)number);
        else
            snprintf(ident, sizeof(ident), "%s-%d-docx-%.10s-%lld", subject, grade, sha,
                     (long long)number);
        json_object_set_new(item, "identifier", json_string(ident));
        json_object_set_new(item, "subject", json_string(subject));
        json_object_set_new(item, "grade", json_integer(grade));
        kt_item_normalize(item);
        json_t *probs = kt_item_validate(item);
        if (json_array_size(probs)) {
            /* What the reader's check could not see (the caller's fields). */
            size_t k;
            json_t *p;
            char where[64];
            if (sheet)
                snprintf(where, sizeof(where), "Dòng %lld (Câu %lld)", (long long)para,
                         (long long)number);
            else
                snprintf(where, sizeof(where), "Câu %lld (đoạn %lld)", (long long)number,
                         (long long)para);
            json_array_foreach(probs, k, p)
                json_array_append_new(
                    out->problems,
                    json_pack("{s:s,s:I,s:I,s:o}", "severity", "error", "question", number,
                              "paragraph", para, "message",
                              json_sprintf("%s: %s: %s", where,
                                           json_string_value(json_object_get(p, "field")),
                                           json_string_value(json_object_get(p, "message")))));
            json_decref(probs);
            continue;
        }
        json_decref(probs);
        json_t *refs = kt_item_media_refs(item), *paths = json_array(), *ref;
        size_t k;
        json_array_foreach(refs, k, ref)
        {
            const char *path = json_string_value(json_object_get(ref, "path"));
            json_array_append_new(paths, json_string(path));
            json_object_set_new(used, path, json_true());
        }
        json_decref(refs);
        json_t *content, *scoring, *tags = kt_item_tags(item);
        kt_item_split(item, &content, &scoring);
        const char *title = json_string_value(json_object_get(item, "title"));
        char *search = kt_item_search_text(title, content);
        json_t *e = json_pack("{s:s,s:I,s:I,s:I,s:O,s:O,s:o,s:o,s:O,s:o,s:o,s:o,s:o,s:s}",
                              "identifier", ident, "number", number, "part", part, "paragraph",
                              para, "kind", json_object_get(item, "kind"), "title",
                              json_object_get(item, "title"), "excerpt",
                              excerpt_of(json_string_value(json_object_get(item, "stem"))),
                              "key", key_of(item), "level",
                              json_object_get(item, "level") ? json_object_get(item, "level")
                                                              : json_null(),
                              "media", paths, "content", content, "scoring", scoring, "tags",
                              tags, "search_text", search ? search : "");
        free(search);
        json_array_append_new(items, e);
    }
    /* The pictures of the questions kept, as media rows. */
    json_t *images = json_object_get(out->plan, "images");
    for (size_t n = 0; n < r->nimages; n++) {
        const kt_docx_image *im = &r->images[n];
        if (!json_object_get(used, im->path) || strncmp(im->path, "media/", 6) != 0)
            continue;
        size_t cap = sodium_base64_encoded_len(im->len, sodium_base64_VARIANT_ORIGINAL);
        char *b64 = malloc(cap);
        if (!b64)
            abort();
        sodium_bin2base64(b64, cap, im->data, im->len, sodium_base64_VARIANT_ORIGINAL);
        json_array_append_new(images, json_pack("{s:s,s:s%,s:s}", "content_type",
                                                im->content_type, "sha256", im->path + 6,
                                                strcspn(im->path + 6, "."), "data", b64));
        free(b64);
    }
    json_decref(used);
    size_t np = json_array_size(out->problems);
    for (size_t n = 0; n < np; n++) {
        const json_t *p = json_array_get(out->problems, n);
        json_int_t qn = json_integer_value(json_object_get(p, "question"));
        json_int_t para = json_integer_value(json_object_get(p, "paragraph"));
        if (qn > 0 && strcmp(json_string_value(json_object_get(p, "severity")), "error") == 0 &&
            !error_seen(out->problems, n, qn, para))
            out->nbad++;
    }
    kt_docx_result_free(r);
}

void
kt_docx_import_read(const void *buf, size_t len, const char *subject, int grade,
                    kt_docx_import *out)
{
    memset(out, 0, sizeof(*out));
    out->format = "docx";
    char sha[2 * crypto_hash_sha256_BYTES + 1];
    file_sha256(buf, len, sha);
    kt_docx_result r;
    int rc = kt_docx_read(buf, len, &r);
    plan_of(rc, &r, sha, subject, grade, out);
}

void
kt_qsheet_import_read(const void *buf, size_t len, kt_qsheet_format fmt, const char *subject,
                      int grade, kt_docx_import *out)
{
    memset(out, 0, sizeof(*out));
    out->format = fmt == KT_QSHEET_XLSX ? "xlsx" : "csv";
    char sha[2 * crypto_hash_sha256_BYTES + 1];
    file_sha256(buf, len, sha);
    kt_docx_result r;
    int rc = kt_qsheet_read(buf, len, fmt, &r);
    plan_of(rc, &r, sha, subject, grade, out);
}

void
kt_docx_import_free(kt_docx_import *d)
{
    json_decref(d->plan);
    json_decref(d->problems);
    memset(d, 0, sizeof(*d));
}

json_t *
kt_docx_preview(const kt_docx_import *d)
{
    json_t *a = json_array();
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(d->plan, "items"), i, it)
    {
        json_t *p = json_deep_copy(it);
        json_object_del(p, "content");
        json_object_del(p, "scoring");
        json_object_del(p, "tags");
        json_object_del(p, "search_text");
        json_object_set_new(p, "images", json_integer((json_int_t)json_array_size(
                                             json_object_get(it, "media"))));
        json_object_set_new(p, "action", json_string("new"));
        json_array_append_new(a, p);
    }
    return a;
}

static int
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static int
type_is(const char *content_type, const char *type)
{
    size_t n = strcspn(content_type, "; \t");
    return n == strlen(type) && strncasecmp(content_type, type, n) == 0;
}

/* The sheet format of an upload (declared type, then file name, then a zip
 * holding a workbook), or -1 when it is not a sheet. */
static int
sheet_format(const char *content_type, const char *filename, const void *buf, size_t len)
{
    if (content_type) {
        if (type_is(content_type, KT_XLSX_CONTENT_TYPE))
            return KT_QSHEET_XLSX;
        if (type_is(content_type, "text/csv") || type_is(content_type, "application/csv"))
            return KT_QSHEET_CSV;
        if (type_is(content_type, KT_DOCX_CONTENT_TYPE) ||
            type_is(content_type, "application/vnd.ms-word.document.macroenabled.12"))
            return -1;
    }
    if (filename && ends_with(filename, ".xlsx"))
        return KT_QSHEET_XLSX;
    if (filename && ends_with(filename, ".csv"))
        return KT_QSHEET_CSV;
    if (filename && (ends_with(filename, ".docx") || ends_with(filename, ".docm")))
        return -1;
    if (len >= 4 && memcmp(buf, "PK\003\004", 4) == 0 &&
        memmem(buf, len, "xl/workbook.xml", 15) != NULL &&
        memmem(buf, len, "word/document.xml", 17) == NULL)
        return KT_QSHEET_XLSX;
    return -1;
}

int
kt_docx_looks_like(const char *content_type, const char *filename, const void *buf, size_t len)
{
    if (sheet_format(content_type, filename, buf, len) >= 0)
        return 1;
    if (content_type) {
        size_t n = strcspn(content_type, "; \t");
        if ((n == strlen(KT_DOCX_CONTENT_TYPE) &&
             strncasecmp(content_type, KT_DOCX_CONTENT_TYPE, n) == 0) ||
            (n == strlen("application/vnd.ms-word.document.macroenabled.12") &&
             strncasecmp(content_type, "application/vnd.ms-word.document.macroenabled.12", n) ==
                 0))
            return 1;
    }
    if (filename && (ends_with(filename, ".docx") || ends_with(filename, ".docm")))
        return 1;
    return len >= 4 && memcmp(buf, "PK\003\004", 4) == 0 &&
           memmem(buf, len, "word/document.xml", 17) != NULL;
}

/* ------------------------------------------------------------------------ */
/* POST /api/v1/items/import (a Word document)                              */

static const struct pg_stmt_def docx_stmts[] = {
    /* A teacher imports items only of a subject they teach (KT403, 0021). */
    {"item_import_docx",
     "SELECT kt_import_docx($1::jsonb)::text FROM kt_require_subject($1::jsonb->>'subject')"},
    /* Dry run: which identifiers of the origin $1 the school $2 already has. */
    {"item_import_docx_known",
     "SELECT coalesce(json_object_agg(identifier, id), '{}')::text FROM items"
     " WHERE school_id = $2::bigint AND origin = $1::text"},
};

void
kt_docx_import_register(void)
{
    pg_register_statements(docx_stmts, (int)(sizeof(docx_stmts) / sizeof(docx_stmts[0])));
}

struct docx_job {
    http_request *req;
    char *subject, *grade;
    int dry_run, partial;
    int sheet; /* kt_qsheet_format, or -1 for a Word document */
    kt_docx_import d;
    char *doc; /* the plan as JSON text, to store */
};

static void
docx_job_free_work(void *p)
{
    struct docx_job *j = p;
    free(j->subject);
    free(j->grade);
    kt_docx_import_free(&j->d);
    free(j->doc);
    free(j);
}

static void
docx_job_release(void *p)
{
    kt_cpu_detach(docx_job_free_work, p);
}

static void
docx_work(void *arg)
{
    struct docx_job *j = arg;
    if (j->sheet >= 0)
        kt_qsheet_import_read(j->req->body, j->req->body_len, (kt_qsheet_format)j->sheet,
                              j->subject, atoi(j->grade), &j->d);
    else
        kt_docx_import_read(j->req->body, j->req->body_len, j->subject, atoi(j->grade), &j->d);
    if (!j->dry_run && !j->d.refused && (!j->d.nbad || j->partial) &&
        json_array_size(json_object_get(j->d.plan, "items"))) {
        json_t *plan = j->d.plan;
        const http_request *req = j->req;
        json_object_set_new(plan, "school_id", json_integer(req->user->school_id));
        json_object_set_new(plan, "province_id", json_integer(req->user->province_id));
        json_object_set_new(plan, "actor_id", json_integer(req->user->id));
        json_object_set_new(plan, "subject", json_string(j->subject));
        json_object_set_new(plan, "grade", json_string(j->grade));
        j->doc = json_dumps(plan, JSON_COMPACT);
        if (!j->doc)
            abort();
    }
}

static json_t *
summary(const struct docx_job *j)
{
    return json_pack("{s:s,s:O,s:I,s:I,s:O}", "format", j->d.format, "origin",
                     json_object_get(j->d.plan, "origin"), "valid",
                     (json_int_t)json_array_size(json_object_get(j->d.plan, "items")), "invalid",
                     (json_int_t)j->d.nbad, "problems", j->d.problems);
}

static void
known_done(http_request *req, pg_query *q)
{
    struct docx_job *j = req->ctx;
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    json_t *known = json_loads(pg_value(q, 0, 0, 0), 0, NULL);
    json_t *res = summary(j), *items = kt_docx_preview(&j->d);
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        json_t *id = json_object_get(known, json_string_value(json_object_get(it, "identifier")));
        json_object_set_new(it, "action", json_string(id ? "existing" : "new"));
        json_object_set_new(it, "item_id", id ? json_incref(id) : json_null());
    }
    json_decref(known);
    json_object_set_new(res, "dry_run", json_true());
    json_object_set_new(res, "items", items);
    json_object_set_new(res, "would_import", json_boolean(!j->d.refused && !j->d.nbad &&
                                                          json_array_size(items)));
    json_object_set_new(res, "errors", json_array());
    api_json(req, 200, res);
}

static void
docx_stored(http_request *req, pg_query *q)
{
    struct docx_job *j = req->ctx;
    if (q->status != PG_OK) {
        api_db_error_doing(req, q, "nhập câu hỏi của môn này");
        return;
    }
    json_t *res = json_loads(pg_value(q, 0, 0, 0), 0, NULL);
    if (!res) {
        api_error(req, 500, "internal", "Lỗi nội bộ khi đọc kết quả nhập.");
        return;
    }
    json_t *sum = summary(j);
    json_object_update(res, sum);
    json_decref(sum);
    json_object_set_new(res, "errors", json_array());
    api_json(req, json_array_size(json_object_get(res, "imported")) ? 201 : 200, res);
}

static void
docx_done(void *arg)
{
    struct docx_job *j = arg;
    http_request *req = j->req;
    if (j->dry_run) {
        char school[24];
        snprintf(school, sizeof(school), "%lld", (long long)req->user->school_id);
        const char *p[] = {json_string_value(json_object_get(j->d.plan, "origin")), school};
        pg_query *q = api_query(req);
        pg_query_add(q, "item_import_docx_known", 2, p);
        api_run(req, q, known_done);
        return;
    }
    if (j->d.refused || (j->d.nbad && !j->partial) ||
        !json_array_size(json_object_get(j->d.plan, "items"))) {
        const char *file = j->sheet == KT_QSHEET_XLSX ? "Tệp Excel"
                           : j->sheet == KT_QSHEET_CSV ? "Tệp CSV"
                                                       : "Tệp Word";
        char refused[160], none[160];
        snprintf(refused, sizeof(refused),
                 "%s không nhập được; chưa có gì được ghi. Xem danh sách lỗi.", file);
        snprintf(none, sizeof(none), "%s không có câu hỏi nào hợp lệ; chưa có gì được ghi.",
                 file);
        const char *msg = j->d.refused ? refused
                          : j->d.nbad  ? "Có câu hỏi bị lỗi nên chưa có gì được ghi. Sửa tệp rồi"
                                         " nhập lại, hoặc chọn chỉ nhập các câu hợp lệ (partial=1)."
                                       : none;
        json_t *res = summary(j);
        json_object_set_new(res, "imported", json_array());
        json_object_set_new(res, "errors", json_array());
        json_object_set_new(res, "error",
                            json_pack("{s:s,s:s,s:O}", "code", "import_failed", "message", msg,
                                      "details", j->d.problems));
        api_json(req, 422, res);
        return;
    }
    pg_query *q = api_query(req);
    const char *p[] = {j->doc};
    pg_query_add(q, "item_import_docx", 1, p);
    free(j->doc); /* pg_query_add copied it */
    j->doc = NULL;
    api_run(req, q, docx_stored);
}

void
kt_items_import_docx(http_request *req, char *subject, char *grade, int dry_run, int partial)
{
    char *fname = http_query_param(req, "filename");
    int sheet = sheet_format(http_header(req, "Content-Type"), fname, req->body, req->body_len);
    free(fname);
    if (!subject || !grade) {
        free(subject);
        free(grade);
        api_error(req, 400, "invalid_parameter",
                  sheet >= 0
                      ? "Tệp câu hỏi Excel/CSV: hãy chỉ rõ môn học (subject) và khối lớp (grade)."
                      : "Tệp Word có câu hỏi: hãy chỉ rõ môn học (subject) và khối lớp (grade).");
        return;
    }
    struct docx_job *j = calloc(1, sizeof(*j));
    if (!j)
        abort();
    j->sheet = sheet;
    j->req = req;
    j->subject = subject;
    j->grade = grade;
    j->dry_run = dry_run;
    j->partial = partial;
    req->ctx = j;
    req->ctx_free = docx_job_release;
    kt_cpu_submit(req->worker->base, docx_work, docx_done, j);
}

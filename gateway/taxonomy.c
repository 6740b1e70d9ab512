/*
 * GET /api/v1/taxonomy: the GDPT 2018 taxonomy (subjects, grades, strands,
 * topics, units, outcomes, competencies, qualities, levels, formats) for
 * tagging and browsing items. National data, the same for every school;
 * filters by subject, grade, kind, parent and a text search, bounded by limit.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

#define DEFAULT_LIMIT 500
#define MAX_LIMIT 5000
#define MAX_Q_BYTES 200

static const struct pg_stmt_def taxonomy_stmts[] = {
    {"taxonomy_list",
     "SELECT coalesce(json_agg(json_build_object('code', code, 'kind', kind,"
     " 'parent', parent_code, 'subject', subject, 'grade', grade, 'name', name, 'text', text,"
     " 'deprecated', deprecated) ORDER BY sort_order, code), '[]')"
     " FROM (SELECT * FROM taxonomy_nodes"
     "       WHERE ($1::text IS NULL OR subject = $1)"
     "         AND ($2::smallint IS NULL OR grade = $2::smallint)"
     "         AND ($3::text IS NULL OR kind = $3)"
     "         AND ($4::text IS NULL OR parent_code = $4)"
     "         AND ($5::text IS NULL OR code ILIKE $5 OR name ILIKE $5 OR text ILIKE $5)"
     "       ORDER BY sort_order, code LIMIT $6::integer) n"},
};

void
kt_taxonomy_register(void)
{
    pg_register_statements(taxonomy_stmts,
                           (int)(sizeof(taxonomy_stmts) / sizeof(taxonomy_stmts[0])));
}

static void
taxonomy_done(http_request *req, pg_query *q)
{
    if (q->status != PG_OK) {
        api_db_error(req, q);
        return;
    }
    const char *j = pg_value(q, 0, 0, 0);
    json_error_t err;
    json_t *v = json_loads(j ? j : "[]", 0, &err);
    api_json(req, 200, json_pack("{s:o}", "nodes", v ? v : json_array()));
}

/* ILIKE pattern matching s anywhere, with \, % and _ escaped. */
static char *
like_pattern(const char *s)
{
    size_t n = strlen(s);
    char *p = malloc(2 * n + 3), *o = p;
    if (!p)
        abort();
    *o++ = '%';
    for (; *s; s++) {
        if (*s == '\\' || *s == '%' || *s == '_')
            *o++ = '\\';
        *o++ = *s;
    }
    *o++ = '%';
    *o = '\0';
    return p;
}

void
h_taxonomy(http_request *req)
{
    static const char *const kinds[] = {"subject", "grade",      "strand",  "topic", "unit",
                                        "outcome", "competency", "quality", "level", "format"};
    char *subject = api_query_text(req, "subject"), *grade = api_query_text(req, "grade"),
         *kind = api_query_text(req, "kind"), *parent = api_query_text(req, "parent"), *q = api_query_text(req, "q"),
         *limit = api_query_text(req, "limit"), *pattern = NULL;
    const char *bad = NULL;
    char lim[24];

    if (subject) {
        if (strlen(subject) > 16 || subject[strspn(subject, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                            "abcdefghijklmnopqrstuvwxyz0123456789")])
            bad = "Tham số subject phải là mã môn (ví dụ TOAN, NV, KHTN).";
        for (char *p = subject; *p; p++)
            *p = (char)toupper((unsigned char)*p);
    }
    if (grade && api_bounded(grade, 1, 12) < 0)
        bad = "Tham số grade phải là số từ 1 đến 12.";
    if (kind) {
        size_t k = 0;
        while (k < sizeof(kinds) / sizeof(kinds[0]) && strcmp(kinds[k], kind) != 0)
            k++;
        if (k == sizeof(kinds) / sizeof(kinds[0]))
            bad = "Tham số kind phải là một trong: subject, grade, strand, topic, unit, outcome,"
                  " competency, quality, level, format.";
    }
    if (parent && strlen(parent) > 64)
        bad = "Tham số parent quá dài.";
    if (q && strlen(q) > MAX_Q_BYTES)
        bad = "Từ khoá tìm kiếm (q) quá dài.";
    long n = limit ? api_bounded(limit, 1, MAX_LIMIT) : DEFAULT_LIMIT;
    if (n < 0)
        bad = "Tham số limit phải là số từ 1 đến 5000.";
    if (bad) {
        api_error(req, 400, "invalid_parameter", bad);
        goto out;
    }
    if (q)
        pattern = like_pattern(q);
    snprintf(lim, sizeof(lim), "%ld", n);
    const char *params[] = {subject, grade, kind, parent, pattern, lim};
    pg_query *pq = api_query(req);
    pg_query_add(pq, "taxonomy_list", 6, params);
    api_run(req, pq, taxonomy_done);
out:
    free(subject);
    free(grade);
    free(kind);
    free(parent);
    free(q);
    free(limit);
    free(pattern);
}

/*
 * `kiemtra migrate`: applies migrations/NNNN_name.sql in order, each in its
 * own transaction together with its row in schema_migrations (version, name,
 * SHA-256 of the file). Re-running is a no-op; a file whose checksum differs
 * from the one recorded when it was applied stops everything before any new
 * migration runs. A session advisory lock serialises concurrent runs.
 * Command-line only: blocking libpq is fine here.
 */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "config.h"

struct migration {
    int version;
    char name[256];
    char checksum[65];
    char *sql;
};

static int
cmp_migration(const void *a, const void *b)
{
    return ((const struct migration *)a)->version - ((const struct migration *)b)->version;
}

static void
free_migrations(struct migration *m, int n)
{
    for (int i = 0; i < n; i++)
        free(m[i].sql);
    free(m);
}

/* Loads and checksums every NNNN_*.sql file of dir, sorted by number. */
static int
load_migrations(const char *dir, struct migration **out, int *nout)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "kiemtra migrate: cannot open %s: %s\n", dir, strerror(errno));
        return -1;
    }
    regex_t re;
    regcomp(&re, "^[0-9]{4}_[A-Za-z0-9_]+\\.sql$", REG_EXTENDED | REG_NOSUB);
    struct migration *m = NULL;
    int n = 0, rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (regexec(&re, e->d_name, 0, NULL, 0) != 0)
            continue;
        struct migration *grown = realloc(m, sizeof(*m) * (size_t)(n + 1));
        if (!grown) {
            rc = -1;
            break;
        }
        m = grown;
        struct migration *cur = &m[n++];
        memset(cur, 0, sizeof(*cur));
        cur->version = atoi(e->d_name);
        snprintf(cur->name, sizeof(cur->name), "%s", e->d_name);
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        size_t len;
        cur->sql = kt_read_file(path, 16u << 20, &len);
        if (!cur->sql) {
            rc = -1;
            break;
        }
        unsigned char h[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(h, (const unsigned char *)cur->sql, len);
        sodium_bin2hex(cur->checksum, sizeof(cur->checksum), h, sizeof(h));
    }
    closedir(d);
    regfree(&re);
    if (rc == 0) {
        if (n)
            qsort(m, (size_t)n, sizeof(*m), cmp_migration);
        for (int i = 1; i < n; i++)
            if (m[i].version == m[i - 1].version) {
                fprintf(stderr, "kiemtra migrate: %s and %s have the same number\n", m[i - 1].name,
                        m[i].name);
                rc = -1;
            }
    }
    if (rc < 0) {
        free_migrations(m, n);
        return -1;
    }
    *out = m;
    *nout = n;
    return 0;
}

static int
exec_ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "kiemtra migrate: %s", PQerrorMessage(c));
    PQclear(r);
    return ok ? 0 : -1;
}

/* Line number of a character offset (1-based) reported by the server. */
static int
line_of(const char *sql, long pos)
{
    int line = 1;
    for (long i = 0; i < pos - 1 && sql[i]; i++)
        line += sql[i] == '\n';
    return line;
}

static int
apply_one(PGconn *c, const struct migration *m)
{
    if (exec_ok(c, "BEGIN") < 0)
        return -1;
    PGresult *r = PQexec(c, m->sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        const char *pos = PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION);
        fprintf(stderr, "kiemtra migrate: %s failed", m->name);
        if (pos)
            fprintf(stderr, " at line %d", line_of(m->sql, atol(pos)));
        fprintf(stderr, ": %s", PQresultErrorMessage(r));
        PQclear(r);
        exec_ok(c, "ROLLBACK");
        return -1;
    }
    PQclear(r);
    char version[16];
    snprintf(version, sizeof(version), "%d", m->version);
    const char *params[] = {version, m->name, m->checksum};
    r = PQexecParams(c, "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                     3, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "kiemtra migrate: %s", PQerrorMessage(c));
    PQclear(r);
    if (!ok || exec_ok(c, "COMMIT") < 0) {
        exec_ok(c, "ROLLBACK");
        return -1;
    }
    printf("applied %s\n", m->name);
    return 0;
}

int
kt_cmd_migrate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (sodium_init() < 0)
        return 1;
    struct migration *m;
    int n;
    if (load_migrations(kt_cfg.migrations_dir, &m, &n) < 0)
        return 1;
    PGconn *c = kt_db_connect(kt_cfg.admin_database_url);
    if (!c) {
        free_migrations(m, n);
        return 1;
    }
    int rc = 1;
    if (exec_ok(c, "SET client_min_messages = warning") < 0 ||
        exec_ok(c, "SELECT pg_advisory_lock(7290315)") < 0 ||
        exec_ok(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                   " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
                   " applied_at timestamptz NOT NULL DEFAULT now())") < 0)
        goto out;

    PGresult *r = PQexec(c, "SELECT version, name, checksum FROM schema_migrations ORDER BY version");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "kiemtra migrate: %s", PQerrorMessage(c));
        PQclear(r);
        goto out;
    }
    int bad = 0;
    for (int row = 0; row < PQntuples(r); row++) {
        int v = atoi(PQgetvalue(r, row, 0));
        const struct migration *found = NULL;
        for (int i = 0; i < n; i++)
            if (m[i].version == v)
                found = &m[i];
        if (!found) {
            fprintf(stderr, "kiemtra migrate: warning: applied migration %s is no longer in %s\n",
                    PQgetvalue(r, row, 1), kt_cfg.migrations_dir);
        } else if (strcmp(found->checksum, PQgetvalue(r, row, 2)) != 0) {
            fprintf(stderr,
                    "kiemtra migrate: refusing to continue: %s was changed after it was applied\n"
                    "  checksum when applied: %s\n  checksum of the file:  %s\n"
                    "  Restore the file and put the change in a new, higher-numbered migration.\n",
                    found->name, PQgetvalue(r, row, 2), found->checksum);
            bad = 1;
        }
    }
    if (bad) {
        PQclear(r);
        goto out;
    }
    int applied = 0;
    for (int i = 0; i < n; i++) {
        int done = 0;
        for (int row = 0; row < PQntuples(r); row++)
            done |= atoi(PQgetvalue(r, row, 0)) == m[i].version;
        if (done)
            continue;
        if (apply_one(c, &m[i]) < 0) {
            PQclear(r);
            goto out;
        }
        applied++;
    }
    PQclear(r);
    if (!applied)
        printf("database is up to date (%d migrations)\n", n);
    rc = 0;
out:
    PQfinish(c);
    free_migrations(m, n);
    return rc;
}

/*
 * Small helpers shared by the subcommands: whole-file reads, blocking
 * connections, the current school year and password generation/hashing.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "table.h"

char *
kt_read_file(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "Không mở được tệp %s: %s\n", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "%s không phải là một tệp thông thường\n", path);
        fclose(f);
        return NULL;
    }
    if ((size_t)st.st_size > max) {
        fprintf(stderr, "Tệp %s quá lớn (%lld byte, tối đa %zu)\n", path, (long long)st.st_size,
                max);
        fclose(f);
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t n = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    if (!buf || n != (size_t)st.st_size) {
        fprintf(stderr, "Không đọc được tệp %s\n", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

PGconn *
kt_db_connect(const char *conninfo)
{
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "kiemtra: cannot connect to the database: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    PGresult *r = PQexec(c, "SET client_min_messages = warning");
    PQclear(r);
    return c;
}

int
kt_db_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "Lỗi cơ sở dữ liệu: %s", PQerrorMessage(c));
    PQclear(r);
    return ok ? 0 : -1;
}

PGresult *
kt_db_query(PGconn *c, const char *sql, int n, const char *const *params)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "Lỗi cơ sở dữ liệu: %s", PQerrorMessage(c));
        PQclear(r);
        return NULL;
    }
    return r;
}

PGresult *
kt_db_school(PGconn *c, const char *code)
{
    const char *p[] = {code};
    PGresult *r = kt_db_query(c,
                              code ? "SELECT id, province_id, name FROM schools WHERE code = $1"
                                   : "SELECT id, province_id, name FROM schools",
                              code ? 1 : 0, code ? p : NULL);
    if (r && PQntuples(r) != 1) {
        if (code)
            fprintf(stderr, "Không có trường nào có mã '%s'.\n", code);
        else
            fprintf(stderr, "Có %d trường trong hệ thống: hãy chỉ rõ --school MA_TRUONG.\n",
                    PQntuples(r));
        PQclear(r);
        r = NULL;
    }
    return r;
}

void
kt_print_row_errors(const char *path, const kt_row_error *errors, size_t n)
{
    fprintf(stderr, "Không nhập tệp %s: có %zu lỗi, chưa ghi dữ liệu nào.\n", path, n);
    for (size_t i = 0; i < n; i++) {
        const kt_row_error *e = &errors[i];
        if (e->source_row)
            fprintf(stderr, "  Dòng %zu", e->source_row);
        else
            fprintf(stderr, "  Tệp");
        if (e->column[0])
            fprintf(stderr, ", cột '%s'", e->column);
        fprintf(stderr, ": %s\n", e->message);
    }
}

void
kt_current_school_year(char out[24])
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    int y = tm.tm_year + 1900;
    if (tm.tm_mon < 7) /* January..July belong to the year that began last August */
        y--;
    snprintf(out, 24, "%04d-%04d", y, y + 1);
}

int
kt_password_hash(const char *password, char out[128])
{
    /* argon2id, t=2, m=19 MiB: OWASP's minimum, ~25 ms here. */
    return crypto_pwhash_str(out, password, strlen(password), 2, (size_t)19 << 20);
}

void
kt_password_random(char *out, size_t len)
{
    /* No 0/O, 1/l/I: passwords are read aloud and copied from paper. */
    static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
    for (size_t i = 0; i + 1 < len; i++)
        out[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
    out[len - 1] = '\0';
}

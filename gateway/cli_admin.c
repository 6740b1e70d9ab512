/*
 * Account administration from the command line, for a school's IT officer:
 *   kiemtra schools add MA_TRUONG "Tên trường" --province MA_SO ["Tên Sở"]
 *   kiemtra users add --username U --full-name "Họ tên" --role ROLE
 *                     [--school MA_TRUONG] [--subject TOAN] [--province MA_SO]
 * The password is taken from KIEMTRA_NEW_PASSWORD, or generated and printed.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "config.h"

static int
run(PGconn *c, const char *sql, int n, const char *const *p, char *out, size_t outlen)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, p, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    if (!ok)
        fprintf(stderr, "kiemtra: %s", PQresultStatus(r) == PGRES_TUPLES_OK
                                           ? "not found\n"
                                           : PQerrorMessage(c));
    else if (out)
        snprintf(out, outlen, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return ok ? 0 : -1;
}

int
kt_cmd_schools(int argc, char **argv)
{
    if (argc < 6 || strcmp(argv[1], "add") != 0 || strcmp(argv[4], "--province") != 0) {
        fprintf(stderr, "usage: kiemtra schools add MA_TRUONG \"Tên trường\" --province MA_SO"
                        " [\"Tên Sở\"]\n");
        return 2;
    }
    const char *prov_name = argc > 6 ? argv[6] : argv[5];
    PGconn *c = kt_db_connect(kt_cfg.admin_database_url);
    if (!c)
        return 1;
    const char *p[] = {argv[5], prov_name, argv[2], argv[3]};
    char id[24];
    int rc = run(c,
                 "WITH p AS (INSERT INTO provinces (code, name) VALUES ($1, $2)"
                 "  ON CONFLICT (code) DO UPDATE SET code = EXCLUDED.code RETURNING id)"
                 " INSERT INTO schools (province_id, code, name) SELECT id, $3, $4 FROM p"
                 " RETURNING id",
                 4, p, id, sizeof(id));
    if (rc == 0)
        printf("school %s created (id %s)\n", argv[2], id);
    PQfinish(c);
    return rc ? 1 : 0;
}

int
kt_cmd_users_add(int argc, char **argv)
{
    const char *username = NULL, *full_name = NULL, *role = NULL, *school = NULL, *subject = NULL,
               *province = NULL;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--username") == 0)
            username = argv[i + 1];
        else if (strcmp(argv[i], "--full-name") == 0)
            full_name = argv[i + 1];
        else if (strcmp(argv[i], "--role") == 0)
            role = argv[i + 1];
        else if (strcmp(argv[i], "--school") == 0)
            school = argv[i + 1];
        else if (strcmp(argv[i], "--subject") == 0)
            subject = argv[i + 1];
        else if (strcmp(argv[i], "--province") == 0)
            province = argv[i + 1];
    }
    int admin = role && strcmp(role, "admin") == 0;
    if (!username || !full_name || !role || (admin ? !province : !school)) {
        fprintf(stderr, "usage: kiemtra users add --username U --full-name \"Họ tên\" --role ROLE\n"
                        "         (--school MA_TRUONG | --province MA_SO for role admin)"
                        " [--subject MON]\n"
                        "  ROLE: admin, school_admin, subject_head, teacher, student\n"
                        "  password: $KIEMTRA_NEW_PASSWORD, or a generated one is printed\n");
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    char generated[13], hash[128];
    const char *pw = getenv("KIEMTRA_NEW_PASSWORD");
    if (!pw || !*pw) {
        kt_password_random(generated, sizeof(generated));
        pw = generated;
    }
    if (strlen(pw) < 8) {
        fprintf(stderr, "kiemtra: the password must have at least 8 characters\n");
        return 2;
    }
    if (kt_password_hash(pw, hash) != 0)
        return 1;
    PGconn *c = kt_db_connect(kt_cfg.admin_database_url);
    if (!c)
        return 1;
    const char *p[] = {username, full_name, role, hash, subject, admin ? province : school};
    char id[24];
    int rc = run(c,
                 admin ? "INSERT INTO users (province_id, username, full_name, role, password_hash,"
                         " subject) SELECT id, $1, $2, $3::user_role, $4, $5 FROM provinces"
                         " WHERE code = $6 RETURNING id"
                       : "INSERT INTO users (province_id, school_id, username, full_name, role,"
                         " password_hash, subject, student_code)"
                         " SELECT province_id, id, $1, $2, $3::user_role, $4, $5,"
                         " CASE WHEN $3 = 'student' THEN $1 END FROM schools WHERE code = $6"
                         " RETURNING id",
                 6, p, id, sizeof(id));
    if (rc == 0) {
        printf("user %s created (id %s)\n", username, id);
        if (pw == generated)
            printf("password: %s\n", generated);
    }
    PQfinish(c);
    return rc ? 1 : 0;
}

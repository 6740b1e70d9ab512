/*
 * Subcommands other than serve. They run outside any event loop, so they use
 * libpq's blocking calls and plain file I/O.
 */
#ifndef KT_CLI_H
#define KT_CLI_H

#include <stddef.h>
#include <libpq-fe.h>

struct kt_roster;
struct kt_row_error;

/* Reads a whole file (at most max bytes) into a NUL-terminated buffer. */
char *kt_read_file(const char *path, size_t max, size_t *len);
/* Connects or prints why not; NULL on failure. */
PGconn *kt_db_connect(const char *conninfo);
/* A command without results (0) or with an error printed (-1). */
int kt_db_exec(PGconn *c, const char *sql);
/* A parameterised statement; NULL after printing the error. */
PGresult *kt_db_query(PGconn *c, const char *sql, int n, const char *const *params);
/* The school of code, or the only school when code is NULL: one row (id,
 * province_id, name), or NULL after printing why. */
PGresult *kt_db_school(PGconn *c, const char *code);
/* Why a table file was refused: every row error, and that nothing was written. */
void kt_print_row_errors(const char *path, const struct kt_row_error *errors, size_t n);
/* The school year that contains today: "2026-2027" from August on. */
void kt_current_school_year(char out[24]);

/* Result of importing a roster: one line per student that received a login. */
struct kt_login_out {
    char username[64];
    char password[32];
    char full_name[128];
    char class_name[32];
};

/* Creates or updates the classes and students of roster in school_id, all in
 * the caller's open transaction. New students get a random password, returned
 * in *logins (malloc'd, *nlogins entries). Returns 0 or -1 after printing every
 * problem (e.g. a student code already used by another school). */
int kt_roster_store(PGconn *c, long long school_id, const char *school_year,
                    const struct kt_roster *roster, struct kt_login_out **logins, size_t *nlogins,
                    size_t *nupdated);

/* Hashes a password with argon2id (the parameters every account uses). */
int kt_password_hash(const char *password, char out[128]);
void kt_password_random(char *out, size_t len);

/* The demo Toán 10 bank (demo/items-toan10.json) as approved items of the
 * school, authored and approved by author; the number of items or -1. */
int kt_demo_load_items(PGconn *c, const char *school_id, const char *author);
/* The demo blueprint (22 items, 4 forms) assembled from the school's approved
 * Toán 10 items and published; duration_seconds 0 keeps the demo's 40 minutes.
 * 0 with the new test's id, or -1 after printing why. */
int kt_demo_publish_test(PGconn *c, const char *school_id, const char *author, int duration_seconds,
                         char test_id[24]);

int kt_cmd_migrate(int argc, char **argv);
int kt_cmd_users(int argc, char **argv);
int kt_cmd_demo(int argc, char **argv);
int kt_cmd_schools(int argc, char **argv);
int kt_cmd_users_add(int argc, char **argv);
int kt_cmd_taxonomy(int argc, char **argv);
int kt_cmd_import(int argc, char **argv);
int kt_cmd_export_qti(int argc, char **argv);
int kt_cmd_export_records(int argc, char **argv);
int kt_cmd_bench_fixture(int argc, char **argv);
int kt_cmd_bench(int argc, char **argv);

#endif

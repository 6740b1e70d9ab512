/*
 * `kiemtra bench-fixture`: the school a load test runs against. N students
 * in K classes (usernames <school>00001...), a teacher, the demo Toán 10 bank
 * and one published test, all created once and reused; every run adds a new
 * session open to the school's classes for one day and prints its id.
 */
#include "cli.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"

#define BENCH_PROVINCE "BENCH"
#define DEFAULT_DURATION 2400

static void
usage(void)
{
    fprintf(stderr, "usage: kiemtra bench-fixture --students N [--school MA] [--classes K]\n"
                    "       [--duration-seconds S] [--password-file FILE]\n"
                    "The shared password is KIEMTRA_BENCH_PASSWORD, else the one in FILE\n"
                    "(default var/bench-password), else a new one written there (0600).\n");
}

/* The shared password: from the environment, the file, or new (and saved). */
static int
shared_password(const char *path, char out[64])
{
    const char *env = getenv("KIEMTRA_BENCH_PASSWORD");
    if (env && *env) {
        snprintf(out, 64, "%s", env);
        return 0;
    }
    FILE *f = fopen(path, "r");
    if (f) {
        int ok = fgets(out, 64, f) != NULL;
        fclose(f);
        out[strcspn(out, "\r\n")] = '\0';
        if (ok && *out)
            return 0;
    }
    kt_password_random(out, 13);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int ok = fd >= 0 && write(fd, out, strlen(out)) == (ssize_t)strlen(out) && write(fd, "\n", 1) == 1;
    if (fd >= 0)
        close(fd);
    if (!ok)
        fprintf(stderr, "kiemtra bench-fixture: cannot write %s\n", path);
    return ok ? 0 : -1;
}

static PGresult *
one_row(PGconn *c, const char *sql, int n, const char *const *params)
{
    PGresult *r = kt_db_query(c, sql, n, params);
    if (r && PQntuples(r) != 1) {
        fprintf(stderr, "kiemtra bench-fixture: expected one row from: %.60s...\n", sql);
        PQclear(r);
        return NULL;
    }
    return r;
}

int
kt_cmd_bench_fixture(int argc, char **argv)
{
    const char *school = "BENCH", *pwfile = "var/bench-password";
    long students = 0, classes = 0, duration = DEFAULT_DURATION;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--students") == 0)
            students = atol(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--school") == 0)
            school = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--classes") == 0)
            classes = atol(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--duration-seconds") == 0)
            duration = atol(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--password-file") == 0)
            pwfile = argv[++i];
        else {
            usage();
            return 2;
        }
    }
    if (classes == 0)
        classes = (students + 39) / 40; /* classes of 40, as in Vietnamese schools */
    if (students < 1 || students > 1000000 || classes < 1 || classes > students ||
        duration < 60 || duration > 14400 || strlen(school) > 20) {
        usage();
        return 2;
    }
    char prefix[32];
    size_t n = strlen(school);
    for (size_t i = 0; i <= n; i++)
        prefix[i] = (char)tolower((unsigned char)school[i]);

    char password[64], hash[128];
    if (sodium_init() < 0 || shared_password(pwfile, password) < 0)
        return 1;
    /* Fixture shortcut: every account gets the same argon2id hash, computed
     * once; hashing 10,000 passwords one by one would take minutes. */
    if (kt_password_hash(password, hash) != 0)
        return 1;
    PGconn *c = kt_db_connect(kt_cfg.admin_database_url);
    if (!c)
        return 1;
    int rc = 1;
    PGresult *r = NULL;
    char year[24], nstud[24], ncls[24], dur[24], school_id[24], province_id[24], teacher[24],
        test_id[24];
    kt_current_school_year(year);
    snprintf(nstud, sizeof(nstud), "%ld", students);
    snprintf(ncls, sizeof(ncls), "%ld", classes);
    snprintf(dur, sizeof(dur), "%ld", duration);
    if (kt_db_exec(c, "BEGIN") < 0 || kt_db_exec(c, "SELECT pg_advisory_xact_lock(7290317)") < 0)
        goto out;

    const char *sp[] = {BENCH_PROVINCE, "Sở GDĐT (đo tải)", school, "Trường đo tải"};
    if (!(r = one_row(c,
                      "WITH p AS (INSERT INTO provinces (code, name) VALUES ($1, $2)"
                      "  ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name RETURNING id)"
                      " INSERT INTO schools (province_id, code, name) SELECT id, $3, $4 FROM p"
                      " ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name"
                      " RETURNING id, province_id",
                      4, sp)))
        goto out;
    snprintf(school_id, sizeof(school_id), "%s", PQgetvalue(r, 0, 0));
    snprintf(province_id, sizeof(province_id), "%s", PQgetvalue(r, 0, 1));
    PQclear(r);

    char tname[40];
    snprintf(tname, sizeof(tname), "%s.gv", prefix);
    const char *tp[] = {province_id, school_id, tname, hash};
    if (!(r = one_row(c,
                      "INSERT INTO users (province_id, school_id, username, full_name, role,"
                      " password_hash, subject) VALUES ($1, $2, $3, 'Giáo viên đo tải', 'teacher',"
                      " $4, 'TOAN') ON CONFLICT (username) DO UPDATE"
                      " SET password_hash = EXCLUDED.password_hash, disabled = false"
                      " WHERE users.school_id = EXCLUDED.school_id RETURNING id",
                      4, tp)))
        goto out;
    snprintf(teacher, sizeof(teacher), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);

    /* Classes 10A1..10A<K>; students in blocks of ceil(N/K), one statement
     * each, memberships rebuilt so that a re-run with another K is exact. */
    const char *cp[] = {school_id, year, ncls};
    const char *up[] = {province_id, school_id, prefix, nstud, hash};
    const char *mp[] = {school_id, year, prefix, nstud, ncls};
    if (!(r = kt_db_query(c,
                          "INSERT INTO classes (school_id, school_year, name, grade)"
                          " SELECT $1::bigint, $2, '10A' || k, 10"
                          " FROM generate_series(1, $3::integer) k ON CONFLICT DO NOTHING",
                          3, cp)))
        goto out;
    PQclear(r);
    if (!(r = kt_db_query(c,
                          "INSERT INTO users (province_id, school_id, username, full_name, role,"
                          " password_hash, student_code)"
                          " SELECT $1::bigint, $2::bigint, $3 || lpad(g::text, 5, '0'),"
                          "  'Học sinh ' || g, 'student', $5, upper($3) || lpad(g::text, 5, '0')"
                          " FROM generate_series(1, $4::integer) g"
                          " ON CONFLICT (username) DO UPDATE"
                          " SET password_hash = EXCLUDED.password_hash, disabled = false"
                          " WHERE users.school_id = EXCLUDED.school_id",
                          5, up)))
        goto out;
    PQclear(r);
    const char *dp[] = {school_id};
    if (!(r = kt_db_query(c, "DELETE FROM class_members WHERE school_id = $1::bigint", 1, dp)))
        goto out;
    PQclear(r);
    if (!(r = kt_db_query(c,
                          "INSERT INTO class_members (class_id, user_id, school_id)"
                          " SELECT c.id, u.id, $1::bigint FROM generate_series(1, $4::integer) g"
                          " JOIN users u ON u.username = $3 || lpad(g::text, 5, '0')"
                          "  AND u.school_id = $1::bigint"
                          " JOIN classes c ON c.school_id = $1::bigint AND c.school_year = $2"
                          "  AND c.name = '10A' || ((g - 1) / (($4::integer + $5::integer - 1)"
                          "   / $5::integer) + 1)",
                          5, mp)))
        goto out;
    PQclear(r);

    /* The teacher teaches TOAN (the demo bank's subject) to every class of
     * the year (teaching assignments, 0020). */
    const char *ap[] = {school_id, year, teacher};
    if (!(r = kt_db_query(c,
                          "INSERT INTO teaching_assignments (school_id, teacher_id, subject,"
                          " class_id) SELECT $1::bigint, $3::bigint, 'TOAN', c.id FROM classes c"
                          " WHERE c.school_id = $1::bigint AND c.school_year = $2"
                          " ON CONFLICT (teacher_id, subject, class_id) DO NOTHING",
                          3, ap)))
        goto out;
    PQclear(r);

    if (!(r = one_row(c, "SELECT count(*) FROM items WHERE school_id = $1::bigint", 1, dp)))
        goto out;
    int have_items = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (!have_items && kt_demo_load_items(c, school_id, teacher) < 0)
        goto out;
    const char *tq[] = {school_id, dur};
    if (!(r = kt_db_query(c,
                          "SELECT max(id) FROM tests WHERE school_id = $1::bigint"
                          " AND status = 'published' AND duration_seconds = $2::integer",
                          2, tq)))
        goto out;
    snprintf(test_id, sizeof(test_id), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    if (!*test_id && kt_demo_publish_test(c, school_id, teacher, (int)duration, test_id) < 0)
        goto out;

    const char *sesp[] = {school_id, test_id, teacher, year};
    if (!(r = one_row(c,
                      "WITH s AS (INSERT INTO sessions (school_id, test_id, opens_at, closes_at,"
                      "   created_by) VALUES ($1::bigint, $2::bigint, now() - interval '1 minute',"
                      "   now() + interval '1 day', $3::bigint) RETURNING id),"
                      " sc AS (INSERT INTO session_classes (session_id, class_id, school_id)"
                      "  SELECT s.id, c.id, $1::bigint FROM s, classes c"
                      "  WHERE c.school_id = $1::bigint AND c.school_year = $4)"
                      " SELECT id FROM s",
                      4, sesp)))
        goto out;
    char session_id[24];
    snprintf(session_id, sizeof(session_id), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    if (kt_db_exec(c, "COMMIT") < 0)
        goto out;
    /* A school's roster and tests exist long before its exam, and
     * autovacuum has analysed them by then. Made a minute before the
     * exam, they would not be yet: the group-committed batches' generic
     * plans, built at the first start, would be made for tables never
     * analysed and kept until the analysis came. The attempts and answers
     * are left as a first exam finds them (an empty table analysed as
     * empty would be planned as such: scans of attempts). */
    if (kt_db_exec(c, "ANALYZE users, classes, class_members, sessions, session_classes, tests,"
                      " test_forms, test_items, items, item_versions") < 0)
        goto out;
    fprintf(stderr,
            "bench school %s: %ld students (%s00001..) in %ld classes, teacher %s, test %s"
            " (%ld s); new session open for 1 day:\n",
            school, students, prefix, classes, tname, test_id, duration);
    printf("%s\n", session_id);
    rc = 0;
out:
    if (rc)
        PQclear(PQexec(c, "ROLLBACK"));
    PQfinish(c);
    sodium_memzero(password, sizeof(password));
    return rc;
}

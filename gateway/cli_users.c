/*
 * `kiemtra users import FILE.csv|FILE.xlsx`: class rosters into classes and
 * student accounts. The whole file is validated first and every bad row is
 * reported at once; then everything is written in one transaction, so a
 * failed import leaves the database exactly as it was. New students get a
 * random initial password, written to a logins file readable only by its owner.
 */
#include "cli.h"

#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"
#include "csv.h"
#include "roster.h"
#include "roster_db.h"
#include "xlsx.h"

/* Password hashing for many new accounts, spread over the cores. */
struct hash_job {
    struct kt_login_out *logins;
    char (*hashes)[128];
    size_t n, next;
    pthread_mutex_t mu;
    int failed;
};

static void *
hash_worker(void *arg)
{
    struct hash_job *j = arg;
    for (;;) {
        pthread_mutex_lock(&j->mu);
        size_t i = j->next++;
        pthread_mutex_unlock(&j->mu);
        if (i >= j->n)
            return NULL;
        if (kt_password_hash(j->logins[i].password, j->hashes[i]) != 0)
            j->failed = 1;
    }
}

static int
hash_all(struct kt_login_out *logins, char (*hashes)[128], size_t n)
{
    struct hash_job j = {.logins = logins, .hashes = hashes, .n = n};
    pthread_mutex_init(&j.mu, NULL);
    long ncores = sysconf(_SC_NPROCESSORS_ONLN);
    int nt = ncores > 1 ? (int)(ncores > 8 ? 8 : ncores) : 1;
    pthread_t t[8];
    for (int i = 0; i < nt; i++)
        pthread_create(&t[i], NULL, hash_worker, &j);
    for (int i = 0; i < nt; i++)
        pthread_join(t[i], NULL);
    pthread_mutex_destroy(&j.mu);
    return j.failed ? -1 : 0;
}

/* {code: hash} for the n new students. */
static json_t *
hashes_object(char (*hashes)[128], const char *const *codes, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < n; i++)
        json_object_set_new(o, codes[i], json_string(hashes[i]));
    return o;
}

/* The plan and the store are the SQL functions of migration 0022, the same
 * the web import uses (roster_db.h); passwords are hashed here, for the
 * students the plan says are new. */
int
kt_roster_store(PGconn *c, long long school_id, const char *school_year, const kt_roster *roster,
                struct kt_login_out **logins_out, size_t *nlogins, size_t *nupdated)
{
    char sid[24];
    snprintf(sid, sizeof(sid), "%lld", school_id);
    size_t n = roster->nstudents;
    struct kt_login_out *logins = calloc(n ? n : 1, sizeof(*logins));
    char (*hashes)[128] = calloc(n ? n : 1, sizeof(*hashes));
    const char **codes = calloc(n ? n : 1, sizeof(*codes));
    char *students = kt_roster_json(roster), *hashes_text = NULL;
    json_t *plan = NULL, *result = NULL, *created;
    kt_row_error *errors = NULL;
    size_t nerr = 0, cap = 0, nnew = 0, i;
    int rc = -1;
    if (!logins || !hashes || !codes || !students)
        goto out;

    const char *tp[] = {sid};
    PGresult *r = kt_db_query(c, KT_SQL_ROSTER_TENANT, 1, tp);
    if (!r)
        goto out;
    PQclear(r);
    const char *pp[] = {school_year, students};
    if (!(r = kt_db_query(c, KT_SQL_ROSTER_PLAN, 2, pp)))
        goto out;
    plan = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
    PQclear(r);
    if (!plan)
        goto out;
    if (kt_roster_plan_errors(plan, &errors, &nerr, &cap)) {
        for (size_t k = 0; k < nerr; k++)
            fprintf(stderr, "Dòng %zu, cột '%s': %s.\n", errors[k].source_row, errors[k].column,
                    errors[k].message);
        goto out;
    }

    json_t *p;
    json_array_foreach(json_object_get(plan, "students"), i, p)
    {
        const char *action = json_string_value(json_object_get(p, "action"));
        const kt_roster_student *s =
            kt_roster_at_row(roster, (size_t)json_integer_value(json_object_get(p, "row")));
        if (!s || !action || strcmp(action, "create") != 0)
            continue;
        struct kt_login_out *l = &logins[nnew];
        codes[nnew++] = s->student_code;
        snprintf(l->username, sizeof(l->username), "%s", s->student_code);
        for (char *q = l->username; *q; q++)
            *q = (char)tolower((unsigned char)*q);
        kt_password_random(l->password, 11);
        snprintf(l->full_name, sizeof(l->full_name), "%s", s->full_name);
        snprintf(l->class_name, sizeof(l->class_name), "%s", s->class_name);
    }
    if (hash_all(logins, hashes, nnew) < 0) {
        fprintf(stderr, "Không tạo được mật khẩu (thiếu bộ nhớ?)\n");
        goto out;
    }
    json_t *ho = hashes_object(hashes, codes, nnew);
    hashes_text = ho ? json_dumps(ho, JSON_COMPACT) : NULL;
    json_decref(ho);
    if (!hashes_text)
        goto out;
    const char *sp[] = {school_year, students, hashes_text, NULL};
    if (!(r = kt_db_query(c, KT_SQL_ROSTER_STORE, 4, sp)))
        goto out;
    result = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
    PQclear(r);
    if (!result || !json_is_true(json_object_get(result, "ok"))) {
        /* Changed since the plan was read, in this very transaction: never. */
        if (result && kt_roster_plan_errors(result, &errors, &nerr, &cap))
            for (size_t k = 0; k < nerr; k++)
                fprintf(stderr, "Dòng %zu, cột '%s': %s.\n", errors[k].source_row,
                        errors[k].column, errors[k].message);
        goto out;
    }
    created = json_object_get(result, "created");
    if (json_array_size(created) != nnew) {
        fprintf(stderr, "Lỗi nội bộ: số tài khoản mới không khớp.\n");
        goto out;
    }
    *logins_out = logins;
    *nlogins = nnew;
    *nupdated = (size_t)json_integer_value(json_object_get(result, "updated"));
    logins = NULL;
    rc = 0;
out:
    if (hashes)
        sodium_memzero(hashes, (n ? n : 1) * sizeof(*hashes));
    if (hashes_text)
        sodium_memzero(hashes_text, strlen(hashes_text));
    if (logins)
        sodium_memzero(logins, (n ? n : 1) * sizeof(*logins));
    free(hashes_text);
    free(hashes);
    free(codes);
    free(logins);
    free(students);
    free(errors);
    json_decref(plan);
    json_decref(result);
    return rc;
}

static int
write_logins(const char *path, const struct kt_login_out *l, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        fprintf(stderr, "Không ghi được tệp %s\n", path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    fputs("\xEF\xBB\xBFTên đăng nhập,Mật khẩu,Họ và tên,Lớp\r\n", f);
    for (size_t i = 0; i < n; i++) {
        const char *cells[] = {l[i].username, l[i].password, l[i].full_name, l[i].class_name};
        for (size_t k = 0; k < 4; k++) {
            /* Names are never formulas; the password (letters and digits)
             * is written as is, so that no heap copy of it is left behind. */
            char *field = k == 1 ? NULL : kt_csv_field(cells[k]);
            fprintf(f, "%s%s", field ? field : cells[k], k < 3 ? "," : "\r\n");
            free(field);
        }
    }
    return fclose(f) == 0 ? 0 : -1;
}

static int
usage(void)
{
    fprintf(stderr,
            "usage: kiemtra users import FILE.csv|FILE.xlsx [--school MA_TRUONG] [--year YYYY-YYYY]\n"
            "                                  [--logins OUT.csv]\n"
            "  Columns (any order, matched by header): Mã học sinh, Họ và tên,\n"
            "  Ngày sinh (dd/mm/yyyy), Giới tính, Lớp. Nothing is written if any row is bad.\n");
    return 2;
}

int
kt_cmd_users(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[1], "import") != 0)
        return usage();
    const char *path = argv[2], *school = NULL, *year = NULL, *logins_path = NULL;
    for (int i = 3; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--school") == 0)
            school = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--year") == 0)
            year = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--logins") == 0)
            logins_path = argv[++i];
        else
            return usage();
    }
    if (sodium_init() < 0)
        return 1;
    char yearbuf[24];
    if (!year) {
        kt_current_school_year(yearbuf);
        year = yearbuf;
    }
    size_t len;
    char *buf = kt_read_file(path, 20u << 20, &len);
    if (!buf)
        return 1;
    kt_table t = {0};
    char err[256];
    size_t plen = strlen(path);
    int is_xlsx = (plen > 5 && strcasecmp(path + plen - 5, ".xlsx") == 0) ||
                  (len > 4 && memcmp(buf, "PK\x03\x04", 4) == 0);
    int prc = is_xlsx ? kt_xlsx_read_first_sheet(buf, len, &t, err, sizeof(err))
                      : kt_csv_parse(buf, len, &t, err, sizeof(err));
    free(buf);
    if (prc < 0) {
        fprintf(stderr, "Không đọc được tệp %s: %s\n", path, err);
        kt_table_free(&t);
        return 1;
    }
    kt_roster roster;
    int vrc = kt_roster_from_table(&t, &roster);
    kt_table_free(&t);
    if (vrc < 0 || roster.nstudents == 0) {
        if (vrc == 0)
            fprintf(stderr, "Tệp %s không có học sinh nào.\n", path);
        else
            kt_print_row_errors(path, roster.errors, roster.nerrors);
        kt_roster_free(&roster);
        return 1;
    }

    int rc = 1;
    PGconn *c = kt_db_connect(kt_cfg.admin_database_url);
    if (!c) {
        kt_roster_free(&roster);
        return 1;
    }
    struct kt_login_out *logins = NULL;
    size_t nlogins = 0, nupdated = 0;
    if (kt_db_exec(c, "BEGIN") < 0)
        goto out;
    PGresult *r = kt_db_school(c, school);
    if (!r)
        goto rollback;
    long long school_id = atoll(PQgetvalue(r, 0, 0));
    char school_name[256];
    snprintf(school_name, sizeof(school_name), "%s", PQgetvalue(r, 0, 2));
    PQclear(r);
    if (kt_roster_store(c, school_id, year, &roster, &logins, &nlogins, &nupdated) < 0) {
        fprintf(stderr, "Không nhập tệp %s: chưa ghi dữ liệu nào.\n", path);
        goto rollback;
    }
    char defpath[4096];
    if (!logins_path) {
        snprintf(defpath, sizeof(defpath), "%s.logins.csv", path);
        logins_path = defpath;
    }
    if (nlogins && write_logins(logins_path, logins, nlogins) < 0)
        goto rollback;
    if (kt_db_exec(c, "COMMIT") < 0)
        goto out;
    printf("Đã nhập %zu học sinh vào %s, năm học %s: %zu tài khoản mới, %zu cập nhật.\n",
           roster.nstudents, school_name, year, nlogins, nupdated);
    if (nlogins)
        printf("Mật khẩu ban đầu của tài khoản mới: %s\n", logins_path);
    rc = 0;
    goto out;
rollback:
    kt_db_exec(c, "ROLLBACK");
out:
    if (logins)
        sodium_memzero(logins, nlogins * sizeof(*logins));
    free(logins);
    PQfinish(c);
    kt_roster_free(&roster);
    return rc;
}

/*
 * `kiemtra demo`: a demo province and school with an administrator, a school
 * administrator, a subject head and a teacher of Toán, class 10A1 with 40
 * students, and the demo Toán 10 question bank. Passwords are random on the
 * first run and written to the credentials file (mode 0600); later runs keep
 * the data and print the same logins.
 */
#include "cli.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "config.h"
#include "forms.h"
#include "item.h"
#include "roster.h"
#include "tests_sql.h"

#define DEMO_PROVINCE "DEMO"
#define DEMO_SCHOOL "DEMO-THPT"
#define DEMO_STUDENTS 40
#define DEMO_SESSION_DAYS 30

/* The demo periodic test: the 2025 format of Toán, 40 minutes, 10 points
 * (Phần I 12 x 0,25; Phần II 4 x 1; Phần III 6 x 0,5), four forms. */
static const char demo_test[] =
    "{\"title\": \"Kiểm tra giữa kì I — Toán 10 (đề mẫu)\", \"subject\": \"TOAN\","
    " \"grade\": 10, \"kind\": \"gk\", \"duration_seconds\": 2400, \"forms\": 4,"
    " \"blueprint\": ["
    "  {\"node\": \"VN18.TOAN.10\", \"level\": \"MD.B\", \"format\": \"DT.NLC\","
    "   \"count\": 8, \"points\": \"0.25\"},"
    "  {\"node\": \"VN18.TOAN.10\", \"level\": \"MD.H\", \"format\": \"DT.NLC\","
    "   \"count\": 4, \"points\": \"0.25\"},"
    "  {\"node\": \"VN18.TOAN.10\", \"level\": \"MD.H\", \"format\": \"DT.DS\","
    "   \"count\": 2, \"points\": \"1\"},"
    "  {\"node\": \"VN18.TOAN.10\", \"level\": \"MD.V\", \"format\": \"DT.DS\","
    "   \"count\": 2, \"points\": \"1\"},"
    "  {\"node\": \"VN18.TOAN.10\", \"level\": \"MD.H\", \"format\": \"DT.TLN\","
    "   \"count\": 2, \"points\": \"0.5\"},"
    "  {\"node\": \"VN18.TOAN.10\", \"level\": \"MD.V\", \"format\": \"DT.TLN\","
    "   \"count\": 4, \"points\": \"0.5\"}]}";

struct staff {
    const char *key, *username, *full_name, *role, *subject;
    char password[16];
};

static struct staff staff[] = {
    {"admin", "admin", "Quản trị Sở (dữ liệu mẫu)", "admin", NULL, ""},
    {"school_admin", "bgh.demo", "Phạm Quốc Bảo", "school_admin", NULL, ""},
    {"subject_head", "tt.toan", "Trần Thị Thu Hà", "subject_head", "TOAN", ""},
    {"teacher", "gv.toan", "Lê Minh Tuấn", "teacher", "TOAN", ""},
};
#define NSTAFF (sizeof(staff) / sizeof(staff[0]))

static PGresult *
q(PGconn *c, const char *sql, int n, const char *const *params)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "kiemtra demo: %s", PQerrorMessage(c));
        PQclear(r);
        return NULL;
    }
    return r;
}

static int
q_ok(PGconn *c, const char *sql, int n, const char *const *params)
{
    PGresult *r = q(c, sql, n, params);
    PQclear(r);
    return r ? 0 : -1;
}

/* Forty plausible, made-up students (họ, tên đệm, tên; giới tính). */
static void
make_roster(kt_roster *r, const char *class_name)
{
    static const char *ho[] = {"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ",
                               "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"};
    static const char *dem_nam[] = {"Văn", "Minh", "Quốc", "Đức", "Gia", "Hoàng", "Thành", "Anh"};
    static const char *dem_nu[] = {"Thị", "Ngọc", "Thu", "Khánh", "Bảo", "Phương", "Mai", "Thanh"};
    static const char *ten_nam[] = {"An", "Bình", "Cường", "Dũng", "Đạt", "Huy", "Khang", "Khoa",
                                    "Long", "Nam", "Phúc", "Quân", "Sơn", "Tài", "Thịnh", "Tuấn",
                                    "Việt", "Vinh", "Hải", "Hiếu"};
    static const char *ten_nu[] = {"Anh", "Châu", "Chi", "Diệp", "Giang", "Hà", "Hân", "Hương",
                                   "Lan", "Linh", "My", "Ngân", "Nhi", "Oanh", "Quyên", "Thảo",
                                   "Trang", "Uyên", "Vy", "Yến"};
    r->nstudents = DEMO_STUDENTS;
    r->students = calloc(DEMO_STUDENTS, sizeof(*r->students));
    for (int i = 0; i < DEMO_STUDENTS; i++) {
        kt_roster_student *s = &r->students[i];
        int female = i % 2;
        char name[128], code[16];
        snprintf(name, sizeof(name), "%s %s %s", ho[(i * 7) % 16],
                 female ? dem_nu[(i * 3) % 8] : dem_nam[(i * 5) % 8],
                 female ? ten_nu[i / 2] : ten_nam[i / 2]);
        snprintf(code, sizeof(code), "79%08d", 1001 + i);
        s->source_row = (size_t)i + 2;
        s->student_code = strdup(code);
        s->full_name = strdup(name);
        s->birth_year = 2011;
        s->birth_month = 1 + (i % 12);
        s->birth_day = 1 + (i * 7) % 28;
        s->gender = female ? 2 : 1;
        s->class_name = strdup(class_name);
        s->grade = 10;
    }
}

int
kt_demo_load_items(PGconn *c, const char *school_id, const char *author)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/items-toan10.json", kt_cfg.demo_dir);
    json_error_t err;
    json_t *items = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!json_is_array(items)) {
        fprintf(stderr, "kiemtra demo: %s: %s (line %d)\n", path, err.text, err.line);
        json_decref(items);
        return -1;
    }
    size_t i;
    json_t *it;
    int rc = 0;
    json_array_foreach(items, i, it)
    {
        /* The checks of the items API: the bank is authored HTML as well. */
        kt_item_normalize(it);
        json_t *problems = kt_item_validate(it);
        size_t k;
        json_t *pb;
        json_array_foreach(problems, k, pb)
            fprintf(stderr, "kiemtra demo: %s: câu %s, %s: %s\n", path,
                    json_string_value(json_object_get(it, "identifier")),
                    json_string_value(json_object_get(pb, "field")),
                    json_string_value(json_object_get(pb, "message")));
        rc = json_array_size(problems) ? -1 : 0;
        json_decref(problems);
        if (rc < 0)
            break;
        json_t *content, *scoring;
        kt_item_split(it, &content, &scoring);
        json_t *tags = kt_item_tags(it);
        const char *kind = json_string_value(json_object_get(it, "kind"));
        char *search = kt_item_search_text(json_string_value(json_object_get(it, "title")), content);
        char *cs = json_dumps(content, JSON_COMPACT), *ss = json_dumps(scoring, JSON_COMPACT);
        char *ts = json_dumps(tags, JSON_COMPACT);
        char grade[8];
        snprintf(grade, sizeof(grade), "%d", (int)json_integer_value(json_object_get(it, "grade")));
        const char *p[] = {school_id,
                           json_string_value(json_object_get(it, "identifier")),
                           json_string_value(json_object_get(it, "subject")),
                           grade,
                           kind,
                           json_string_value(json_object_get(it, "title")),
                           cs,
                           ss,
                           ts,
                           author,
                           search};
        rc = q_ok(c,
                  "WITH s AS (SELECT id, province_id FROM schools WHERE id = $1::bigint),"
                  " i AS (INSERT INTO items (province_id, school_id, identifier, subject, grade,"
                  "   status, created_by, approved_by, approved_at)"
                  "  SELECT province_id, id, $2, $3, $4::smallint, 'approved', $10::bigint,"
                  "   $10::bigint, now() FROM s RETURNING id, province_id, school_id)"
                  " INSERT INTO item_versions (item_id, version, province_id, school_id, kind,"
                  "  title, content, scoring, tags, created_by, search_text)"
                  " SELECT id, 1, province_id, school_id, $5, $6, $7::jsonb, $8::jsonb,"
                  "  ARRAY(SELECT jsonb_array_elements_text($9::jsonb)), $10::bigint, $11 FROM i",
                  11, p);
        free(search);
        free(cs);
        free(ss);
        free(ts);
        json_decref(content);
        json_decref(scoring);
        json_decref(tags);
        if (rc < 0)
            break;
    }
    json_decref(items);
    return rc < 0 ? -1 : (int)i;
}

static json_t *
json_query(PGconn *c, const char *sql, int n, const char *const *params)
{
    PGresult *r = q(c, sql, n, params);
    json_t *j = r && PQntuples(r) == 1 ? json_loads(PQgetvalue(r, 0, 0), 0, NULL) : NULL;
    PQclear(r);
    return j;
}

int
kt_demo_publish_test(PGconn *c, const char *school_id, const char *author, int duration_seconds,
                     char test_id[24])
{
    const char *sp[] = {school_id};
    PGresult *r = q(c, "SELECT province_id FROM schools WHERE id = $1::bigint", 1, sp);
    if (!r)
        return -1;
    char province[24];
    snprintf(province, sizeof(province), "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    json_t *test = json_loads(demo_test, 0, NULL);
    if (test && duration_seconds)
        json_object_set_new(test, "duration_seconds", json_integer(duration_seconds));
    json_t *cands = json_query(
        c,
        "SELECT coalesce(json_agg(json_build_object('id', i.id, 'version', v.version,"
        " 'tags', v.tags, 'kind', v.kind, 'content', v.content, 'uses', 0) ORDER BY i.id), '[]')"
        " FROM items i JOIN item_versions v ON v.item_id = i.id AND v.version = i.approved_version"
        " WHERE i.school_id = $1::bigint AND i.status = 'approved' AND i.subject = 'TOAN'"
        "   AND i.grade = 10 AND v.kind <> 'QTI'",
        1, sp);
    json_t *formats = json_query(c,
                                 "SELECT json_object_agg(code, name) FROM taxonomy_nodes"
                                 " WHERE kind = 'format'",
                                 0, NULL);
    uint64_t seed;
    randombytes_buf(&seed, sizeof(seed));
    kt_forms_result res = {.rc = -1};
    if (test && cands && formats)
        kt_forms_build(test, cands, formats, seed, &res);
    int rc = -1;
    if (res.rc != 0) {
        fprintf(stderr, "kiemtra demo: the demo bank cannot fill the demo blueprint\n");
        goto out;
    }
    char grade[8], dur[16], forms[8], seed_s[24], total[24];
    snprintf(grade, sizeof(grade), "%d", (int)json_integer_value(json_object_get(test, "grade")));
    snprintf(dur, sizeof(dur), "%d",
             (int)json_integer_value(json_object_get(test, "duration_seconds")));
    snprintf(forms, sizeof(forms), "%d", (int)json_integer_value(json_object_get(test, "forms")));
    snprintf(seed_s, sizeof(seed_s), "%lld", (long long)seed);
    snprintf(total, sizeof(total), "%lld", (long long)res.total_points);
    char *bp = json_dumps(json_object_get(test, "blueprint"), JSON_COMPACT);
    const char *tp[] = {school_id, province, json_string_value(json_object_get(test, "title")),
                        "TOAN", grade, json_string_value(json_object_get(test, "kind")), dur,
                        forms, bp, author};
    r = q(c, KT_SQL_TEST_CREATE, 10, tp);
    free(bp);
    if (!r)
        goto out;
    snprintf(test_id, 24, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    char *items = json_dumps(res.items, JSON_COMPACT), *fs = json_dumps(res.forms, JSON_COMPACT);
    const char *pp[] = {test_id, seed_s, total, author, items, fs};
    rc = q_ok(c, KT_SQL_PUBLISH_STORE, 6, pp);
    free(items);
    free(fs);
out:
    kt_forms_result_free(&res);
    json_decref(test);
    json_decref(cands);
    json_decref(formats);
    return rc;
}

/* The demo test, published, with a session open to 10A1 for the next 30
 * days; nothing when the school has a test already. 0 or -1. */
static int
ensure_demo_test(PGconn *c, const char *school_id, const char *author)
{
    const char *sp[] = {school_id};
    PGresult *r = q(c, "SELECT count(*) FROM tests WHERE school_id = $1::bigint", 1, sp);
    if (!r)
        return -1;
    int have = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (have)
        return 0;
    char test_id[24], days[8];
    if (kt_demo_publish_test(c, school_id, author, 0, test_id) < 0)
        return -1;
    snprintf(days, sizeof(days), "%d", DEMO_SESSION_DAYS);
    const char *sesp[] = {school_id, test_id, author, days};
    int rc = q_ok(c,
                  "WITH s AS (INSERT INTO sessions (school_id, test_id, opens_at, closes_at,"
                  "   created_by) VALUES ($1::bigint, $2::bigint, now(),"
                  "   now() + make_interval(days => $4::integer), $3::bigint) RETURNING id)"
                  " INSERT INTO session_classes (session_id, class_id, school_id)"
                  " SELECT s.id, c.id, $1::bigint FROM s, classes c"
                  " WHERE c.school_id = $1::bigint AND c.name = '10A1'",
                  4, sesp);
    if (rc == 0)
        printf("Demo test published with a session open to 10A1 for %d days.\n",
               DEMO_SESSION_DAYS);
    return rc;
}

/* The Toán teacher and subject head teach TOAN to every class of the demo
 * school (teaching assignments, 0020), so that they may open sessions, mark
 * and keep records there. 0 or -1. */
static int
ensure_demo_assignments(PGconn *c, const char *school_id)
{
    const char *p[] = {school_id};
    return q_ok(c,
                "INSERT INTO teaching_assignments (school_id, teacher_id, subject, class_id)"
                " SELECT $1::bigint, u.id, 'TOAN', c.id FROM users u, classes c"
                " WHERE u.username IN ('gv.toan', 'tt.toan') AND u.school_id = $1::bigint"
                "  AND c.school_id = $1::bigint"
                " ON CONFLICT (teacher_id, subject, class_id) DO NOTHING",
                1, p);
}

static int
write_credentials(const char *path, json_t *creds)
{
    char *s = json_dumps(creds, JSON_INDENT(2));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int ok = fd >= 0 && s && write(fd, s, strlen(s)) == (ssize_t)strlen(s) && write(fd, "\n", 1) == 1;
    if (fd >= 0)
        close(fd);
    free(s);
    if (!ok)
        fprintf(stderr, "kiemtra demo: cannot write %s\n", path);
    return ok ? 0 : -1;
}

static void
print_credentials(json_t *creds)
{
    printf("Demo logins:\n");
    for (size_t i = 0; i < NSTAFF; i++) {
        json_t *a = json_object_get(creds, staff[i].key);
        printf("  %-13s %-10s / %s\n", staff[i].key,
               json_string_value(json_object_get(a, "username")),
               json_string_value(json_object_get(a, "password")));
    }
    json_t *students = json_object_get(creds, "students");
    printf("  students      %zu accounts, e.g. %s / %s\n", json_array_size(students),
           json_string_value(json_object_get(json_array_get(students, 0), "username")),
           json_string_value(json_object_get(json_array_get(students, 0), "password")));
}

int
kt_cmd_demo(int argc, char **argv)
{
    const char *cred_path = "var/demo-credentials.json";
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--credentials") == 0) {
            cred_path = argv[++i];
        } else {
            fprintf(stderr, "usage: kiemtra demo [--credentials FILE]\n");
            return 2;
        }
    }
    if (sodium_init() < 0)
        return 1;
    PGconn *c = kt_db_connect(kt_cfg.admin_database_url);
    if (!c)
        return 1;
    int rc = 1;
    json_t *creds = NULL;
    struct kt_login_out *logins = NULL;
    size_t nlogins = 0, nupdated = 0;
    kt_roster roster = {0};
    if (q_ok(c, "BEGIN", 0, NULL) < 0 || q_ok(c, "SELECT pg_advisory_xact_lock(7290316)", 0, NULL) < 0)
        goto out;
    const char *sp[] = {DEMO_SCHOOL};
    PGresult *r = q(c, "SELECT id FROM schools WHERE code = $1", 1, sp);
    if (!r)
        goto out;
    int exists = PQntuples(r) == 1;
    PQclear(r);
    json_error_t jerr;
    if (exists && (creds = json_load_file(cred_path, 0, &jerr))) {
        r = q(c,
              "SELECT s.id, (SELECT u.id FROM users u WHERE u.username = $2) FROM schools s"
              " WHERE s.code = $1",
              2, (const char *[]){DEMO_SCHOOL, "tt.toan"});
        if (!r)
            goto out;
        char sid[24], head[24];
        snprintf(sid, sizeof(sid), "%s", PQgetvalue(r, 0, 0));
        snprintf(head, sizeof(head), "%s", PQgetvalue(r, 0, 1));
        PQclear(r);
        if (ensure_demo_assignments(c, sid) < 0 || ensure_demo_test(c, sid, head) < 0 ||
            q_ok(c, "COMMIT", 0, NULL) < 0)
            goto out;
        print_credentials(creds);
        printf("(existing demo data kept; logins in %s)\n", cred_path);
        rc = 0;
        goto out;
    }
    if (exists)
        fprintf(stderr, "kiemtra demo: %s is missing; the demo accounts get new passwords\n",
                cred_path);
    const char *pp[] = {DEMO_PROVINCE, "Sở GDĐT (dữ liệu mẫu)", DEMO_SCHOOL,
                        "Trường THPT Kiểm Tra (dữ liệu mẫu)"};
    r = q(c,
          "WITH p AS (INSERT INTO provinces (code, name) VALUES ($1, $2)"
          "  ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name RETURNING id)"
          " INSERT INTO schools (province_id, code, name) SELECT id, $3, $4 FROM p"
          " ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name RETURNING id, province_id",
          4, pp);
    if (!r)
        goto out;
    char school_id[24], province_id[24], author[24] = "";
    snprintf(school_id, sizeof(school_id), "%s", PQgetvalue(r, 0, 0));
    snprintf(province_id, sizeof(province_id), "%s", PQgetvalue(r, 0, 1));
    PQclear(r);

    creds = json_object();
    for (size_t i = 0; i < NSTAFF; i++) {
        struct staff *s = &staff[i];
        char hash[128];
        kt_password_random(s->password, 13);
        if (kt_password_hash(s->password, hash) != 0)
            goto out;
        int admin = strcmp(s->role, "admin") == 0;
        const char *up[] = {province_id, admin ? NULL : school_id, s->username, s->full_name,
                            s->role, hash, s->subject};
        r = q(c,
              "INSERT INTO users (province_id, school_id, username, full_name, role, password_hash,"
              " subject) VALUES ($1, $2, $3, $4, $5, $6, $7)"
              " ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash,"
              " disabled = false RETURNING id",
              7, up);
        if (!r)
            goto out;
        if (strcmp(s->role, "subject_head") == 0)
            snprintf(author, sizeof(author), "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
        json_object_set_new(creds, s->key,
                            json_pack("{s:s,s:s,s:s}", "username", s->username, "password",
                                      s->password, "full_name", s->full_name));
    }

    char year[24];
    kt_current_school_year(year);
    make_roster(&roster, "10A1");
    if (kt_roster_store(c, atoll(school_id), year, &roster, &logins, &nlogins, &nupdated) < 0)
        goto out;
    json_t *students = json_array();
    for (size_t i = 0; i < nlogins; i++)
        json_array_append_new(students, json_pack("{s:s,s:s,s:s,s:s}", "username",
                                                  logins[i].username, "password", logins[i].password,
                                                  "full_name", logins[i].full_name, "class",
                                                  logins[i].class_name));
    /* Students kept from an earlier run whose passwords were lost. */
    for (size_t i = 0; nupdated && i < roster.nstudents; i++) {
        const kt_roster_student *st = &roster.students[i];
        char pw[11], hash[128];
        kt_password_random(pw, sizeof(pw));
        if (kt_password_hash(pw, hash) != 0)
            goto out;
        const char *rp[] = {school_id, st->student_code, hash};
        r = q(c,
              "UPDATE users SET password_hash = $3 WHERE school_id = $1::bigint"
              " AND student_code = $2 RETURNING username",
              3, rp);
        if (!r)
            goto out;
        if (PQntuples(r) == 1)
            json_array_append_new(students,
                                  json_pack("{s:s,s:s,s:s,s:s}", "username", PQgetvalue(r, 0, 0),
                                            "password", pw, "full_name", st->full_name, "class",
                                            st->class_name));
        PQclear(r);
    }
    json_object_set_new(creds, "students", students);

    const char *ip[] = {school_id};
    r = q(c, "SELECT count(*) FROM items WHERE school_id = $1::bigint", 1, ip);
    if (!r)
        goto out;
    int have_items = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    int nitems = have_items ? have_items : kt_demo_load_items(c, school_id, author);
    if (nitems < 0 || ensure_demo_assignments(c, school_id) < 0 ||
        ensure_demo_test(c, school_id, author) < 0)
        goto out;
    if (write_credentials(cred_path, creds) < 0 || q_ok(c, "COMMIT", 0, NULL) < 0)
        goto out;
    printf("Demo school %s: %zu staff, %zu students in 10A1 (%s), %d items.\n", DEMO_SCHOOL, NSTAFF,
           json_array_size(students), year, nitems);
    print_credentials(creds);
    printf("(logins written to %s)\n", cred_path);
    rc = 0;
out:
    if (rc)
        PQclear(PQexec(c, "ROLLBACK"));
    PQfinish(c);
    json_decref(creds);
    if (logins)
        sodium_memzero(logins, nlogins * sizeof(*logins));
    free(logins);
    kt_roster_free(&roster);
    return rc;
}

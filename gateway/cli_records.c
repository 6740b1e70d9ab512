/*
 * `kiemtra export-records --school MA --class LOP --year YYYY-YYYY
 * --semester 1|2 --subject MON [--format xlsx|csv|json] [--decimal
 * comma|dot] --out FILE`: the same sheet or exchange records as
 * GET /api/v1/exports/records, for a school's IT officer at the console.
 * CSV: ';' between fields with a decimal comma by default, ',' with a
 * decimal point for --decimal dot (itembank/sheet.h).
 * The số định danh is never written here: only the school_admin's API
 * export carries it.
 */
#include "cli.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "records_sql.h"
#include "sheet.h"

struct opts {
    const char *school, *cls, *year, *semester, *subject, *format, *decimal, *out;
};

static int
usage(void)
{
    fprintf(stderr,
            "usage: kiemtra export-records --school MA --class LOP --year YYYY-YYYY --semester 1|2\n"
            "           --subject MON [--format xlsx|csv|json] [--decimal comma|dot] --out FILE\n");
    return 2;
}

static int
write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
    int ok = fd >= 0 && write(fd, data, len) == (ssize_t)len;
    if (fd >= 0)
        close(fd);
    if (!ok)
        fprintf(stderr, "Không ghi được tệp %s.\n", path);
    return ok ? 0 : -1;
}

static int
export(PGconn *c, const struct opts *o)
{
    const char *cp[] = {o->school, o->cls, o->year};
    PGresult *r = kt_db_query(c,
                              "SELECT c.id FROM classes c JOIN schools s ON s.id = c.school_id"
                              " WHERE s.code = $1 AND c.name = $2 AND c.school_year = $3",
                              3, cp);
    if (!r)
        return 1;
    if (PQntuples(r) != 1) {
        fprintf(stderr, "Không có lớp %s năm học %s ở trường %s.\n", o->cls, o->year, o->school);
        PQclear(r);
        return 1;
    }
    char cid[24];
    snprintf(cid, sizeof(cid), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    int json = strcmp(o->format, "json") == 0;
    const char *p[] = {cid, o->year, o->semester, o->subject, "false"};
    r = json ? kt_db_query(c, KT_SQL_CLASS_EXCHANGE, 3, p) : kt_db_query(c, KT_SQL_CLASS_RECORDS, 5, p);
    if (!r)
        return 1;
    json_t *data = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
    PQclear(r);
    int rc = 1;
    if (!json && (!data || json_is_null(json_object_get(data, "subject")))) {
        fprintf(stderr, "Lớp %s không có môn %s.\n", o->cls, o->subject);
    } else if (json) {
        char *s = json_dumps(data, JSON_INDENT(2));
        rc = s && write_file(o->out, s, strlen(s)) == 0 ? 0 : 1;
        free(s);
    } else {
        json_t *sheet = kt_sheet_from_records(data, 0);
        if (strcmp(o->format, "csv") == 0) {
            size_t len = 0;
            char *csv = kt_sheet_csv(sheet, strcmp(o->decimal, "dot") == 0 ? '.' : ',', &len);
            rc = csv && write_file(o->out, csv, len) == 0 ? 0 : 1;
            free(csv);
        } else {
            rc = kt_sheet_xlsx(sheet, o->out) == 0 ? 0 : 1;
            if (rc)
                fprintf(stderr, "Không ghi được tệp %s.\n", o->out);
        }
        json_decref(sheet);
    }
    if (rc == 0)
        printf("Đã xuất %s lớp %s, môn %s, học kì %s, năm học %s vào %s.\n",
               json ? "bản ghi trao đổi" : "sổ điểm", o->cls, o->subject, o->semester, o->year,
               o->out);
    json_decref(data);
    return rc;
}

int
kt_cmd_export_records(int argc, char **argv)
{
    struct opts o = {.format = "xlsx", .decimal = "comma"};
    static const char *const names[] = {"--school", "--class", "--year", "--semester",
                                        "--subject", "--format", "--decimal", "--out"};
    const char **dst[] = {&o.school, &o.cls, &o.year, &o.semester,
                          &o.subject, &o.format, &o.decimal, &o.out};
    for (int i = 1; i < argc; i++) {
        size_t k = 0;
        while (k < 8 && strcmp(argv[i], names[k]) != 0)
            k++;
        if (k == 8 || i + 1 >= argc)
            return usage();
        *dst[k] = argv[++i];
    }
    if (!o.school || !o.cls || !o.year || !o.semester || !o.subject || !o.out)
        return usage();
    if ((strcmp(o.semester, "1") != 0 && strcmp(o.semester, "2") != 0) ||
        (strcmp(o.format, "xlsx") != 0 && strcmp(o.format, "csv") != 0 && strcmp(o.format, "json") != 0) ||
        (strcmp(o.decimal, "comma") != 0 && strcmp(o.decimal, "dot") != 0)) {
        fprintf(stderr, "semester là 1 hoặc 2; format là xlsx, csv hoặc json; decimal là comma"
                        " hoặc dot.\n");
        return 2;
    }
    PGconn *c = kt_db_connect(kt_cfg.admin_database_url);
    if (!c)
        return 1;
    int rc = export(c, &o);
    PQfinish(c);
    return rc;
}

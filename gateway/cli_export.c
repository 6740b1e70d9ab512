/*
 * `kiemtra export-qti --school MA [--subject MON] [--grade N] [--status S]
 * [--version 2.2|3.0] --out FILE.zip`: the school's items (current
 * versions; with --status approved the approved ones) as one IMS content
 * package; an identifier that several items share (imported from different
 * packages) is placed as <identifier>-<item id> after the first.
 * Vietnamese-format items are written in their QTI mapping, imported items
 * from their original XML (converted to the asked version) with their files;
 * taxonomy tags go into the manifest.
 */
#include "cli.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "item.h"
#include "qti_export.h"

struct opts {
    const char *school, *subject, *grade, *status, *version, *out;
};

static int
usage(void)
{
    fprintf(stderr,
            "usage: kiemtra export-qti --school MA_TRUONG [--subject MON] [--grade N]\n"
            "           [--status draft|submitted|approved|retired] [--version 2.2|3.0]\n"
            "           --out FILE.zip\n");
    return 2;
}

/* One item's document in the asked QTI version; NULL after printing why. */
static char *
item_xml(PGresult *r, int row, const char *version)
{
    kt_qti_errors errs;
    kt_qti_errors_init(&errs);
    const char *kind = PQgetvalue(r, row, 1);
    char *xml = NULL;
    if (strcmp(kind, "QTI") == 0) {
        const char *src = PQgetvalue(r, row, 2);
        xml = kt_qti_convert(src, strlen(src), version, &errs);
    } else {
        json_t *meta = json_pack("{s:s,s:s,s:s,s:i,s:s}", "identifier", PQgetvalue(r, row, 0),
                                 "kind", kind, "subject", PQgetvalue(r, row, 6), "grade",
                                 atoi(PQgetvalue(r, row, 7)), "title", PQgetvalue(r, row, 3));
        json_t *content = json_loads(PQgetvalue(r, row, 4), 0, NULL);
        json_t *scoring = json_loads(PQgetvalue(r, row, 5), 0, NULL);
        json_t *item = kt_item_join(meta, content, scoring);
        xml = kt_qti_from_item(item, version, &errs);
        json_decref(item);
        json_decref(meta);
        json_decref(content);
        json_decref(scoring);
    }
    for (size_t i = 0; !xml && i < errs.n; i++)
        fprintf(stderr, "%s: %s\n", PQgetvalue(r, row, 0), errs.v[i].message);
    kt_qti_errors_free(&errs);
    return xml;
}

/* The files of an item's version (a package's files, the editor's images), decoded; 0 or -1. */
static int
load_assets(PGconn *c, const char *item_id, const char *version,
            struct kt_qti_export_asset **out, size_t *n, unsigned char ***blobs)
{
    const char *p[] = {item_id, version};
    PGresult *r = kt_db_query(c,
                              "SELECT path, data FROM item_assets WHERE item_id = $1::bigint"
                              " AND version = $2::integer ORDER BY path",
                              2, p);
    if (!r)
        return -1;
    *n = (size_t)PQntuples(r);
    *out = calloc(*n + 1, sizeof(**out));
    *blobs = calloc(*n + 1, sizeof(**blobs));
    for (size_t i = 0; i < *n; i++) {
        size_t len = 0;
        (*blobs)[i] = PQunescapeBytea((const unsigned char *)PQgetvalue(r, (int)i, 1), &len);
        (*out)[i] = (struct kt_qti_export_asset){strdup(PQgetvalue(r, (int)i, 0)), (*blobs)[i],
                                                 len};
    }
    PQclear(r);
    return 0;
}

static int
write_all(const char *path, const void *data, size_t len)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int ok = fd >= 0 && write(fd, data, len) == (ssize_t)len && fsync(fd) == 0;
    if (fd >= 0)
        close(fd);
    if (ok && rename(tmp, path) == 0)
        return 0;
    unlink(tmp);
    fprintf(stderr, "Không ghi được tệp %s.\n", path);
    return -1;
}

static int
export_items(PGconn *c, const struct opts *o)
{
    const char *p[] = {o->school, o->subject, o->grade, o->status};
    PGresult *r = kt_db_query(
        c,
        "SELECT i.identifier, v.kind, v.qti_xml, v.title, v.content::text, v.scoring::text,"
        " i.subject, i.grade, to_json(v.tags)::text, i.id, v.version,"
        " CASE WHEN row_number() OVER (PARTITION BY i.identifier ORDER BY i.id) > 1"
        "  THEN i.identifier || '-' || i.id ELSE i.identifier END"
        " FROM items i JOIN item_versions v ON v.item_id = i.id"
        "  AND v.version = CASE WHEN $4::text = 'approved' THEN i.approved_version"
        "                       ELSE i.current_version END"
        " JOIN schools s ON s.id = i.school_id"
        " WHERE s.code = $1 AND ($2::text IS NULL OR i.subject = $2)"
        "   AND ($3::smallint IS NULL OR i.grade = $3::smallint)"
        "   AND ($4::text IS NULL OR i.status::text = $4)"
        " ORDER BY i.identifier",
        4, p);
    if (!r)
        return 1;
    int n = PQntuples(r), failed = 0;
    struct kt_qti_export_entry *entries = calloc((size_t)n + 1, sizeof(*entries));
    unsigned char ***blobs = calloc((size_t)n + 1, sizeof(*blobs));
    json_t **tags = calloc((size_t)n + 1, sizeof(json_t *));
    for (int i = 0; i < n; i++) {
        char *xml = item_xml(r, i, o->version);
        if (!xml) {
            failed++;
            continue;
        }
        tags[i] = json_pack("{s:s,s:i,s:o?}", "subject", PQgetvalue(r, i, 6), "grade",
                            atoi(PQgetvalue(r, i, 7)), "tags",
                            json_loads(PQgetvalue(r, i, 8), 0, NULL));
        struct kt_qti_export_entry *e = &entries[i];
        *e = (struct kt_qti_export_entry){.identifier = PQgetvalue(r, i, 11), .xml = xml,
                                          .xml_len = strlen(xml), .version = o->version,
                                          .tags = tags[i]};
        { /* a QTI item's package files; a written item's uploaded images (media/...) */
            struct kt_qti_export_asset *assets = NULL;
            if (load_assets(c, PQgetvalue(r, i, 9), PQgetvalue(r, i, 10), &assets, &e->nassets,
                            &blobs[i]) < 0)
                failed++;
            e->assets = assets;
        }
    }
    int rc = 1;
    void *zip = NULL;
    size_t zlen = 0;
    kt_qti_errors errs;
    kt_qti_errors_init(&errs);
    if (failed) {
        fprintf(stderr, "%d câu hỏi không xuất được; chưa ghi tệp nào.\n", failed);
    } else if (kt_qti_package_write(entries, (size_t)n, &zip, &zlen, &errs) < 0) {
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "%s: %s\n", errs.v[i].file ? errs.v[i].file : o->out,
                    errs.v[i].message);
    } else if (write_all(o->out, zip, zlen) == 0) {
        printf("Đã xuất %d câu hỏi (QTI %s) vào %s (%zu byte).\n", n, o->version, o->out, zlen);
        rc = 0;
    }
    kt_qti_errors_free(&errs);
    free(zip);
    for (int i = 0; i < n; i++) {
        free((char *)entries[i].xml);
        for (size_t k = 0; k < entries[i].nassets; k++) {
            free((char *)entries[i].assets[k].path);
            PQfreemem(blobs[i][k]);
        }
        free((void *)entries[i].assets);
        free(blobs[i]);
        json_decref(tags[i]);
    }
    free(entries);
    free(blobs);
    free(tags);
    PQclear(r);
    return rc;
}

int
kt_cmd_export_qti(int argc, char **argv)
{
    struct opts o = {.version = "2.2"};
    for (int i = 1; i < argc; i++) {
        const char **dst = NULL;
        if (strcmp(argv[i], "--school") == 0)
            dst = &o.school;
        else if (strcmp(argv[i], "--subject") == 0)
            dst = &o.subject;
        else if (strcmp(argv[i], "--grade") == 0)
            dst = &o.grade;
        else if (strcmp(argv[i], "--status") == 0)
            dst = &o.status;
        else if (strcmp(argv[i], "--version") == 0)
            dst = &o.version;
        else if (strcmp(argv[i], "--out") == 0)
            dst = &o.out;
        if (!dst || i + 1 >= argc)
            return usage();
        *dst = argv[++i];
    }
    if (!o.school || !o.out)
        return usage();
    if (strcmp(o.version, "2.2") != 0 && strcmp(o.version, "3.0") != 0) {
        fprintf(stderr, "Phiên bản QTI phải là 2.2 hoặc 3.0.\n");
        return 2;
    }
    if (o.grade && (atoi(o.grade) < 1 || atoi(o.grade) > 12 ||
                    strspn(o.grade, "0123456789") != strlen(o.grade))) {
        fprintf(stderr, "Khối lớp '%s' không hợp lệ: phải là số từ 1 đến 12.\n", o.grade);
        return 2;
    }
    PGconn *c = kt_db_connect(kt_cfg.admin_database_url);
    if (!c)
        return 1;
    int rc = export_items(c, &o);
    PQfinish(c);
    return rc;
}

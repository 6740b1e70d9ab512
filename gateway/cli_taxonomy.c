/*
 * `kiemtra taxonomy import FILE.csv`: GDPT 2018 taxonomy nodes (outcomes and
 * the strands, topics and units their codes imply) into taxonomy_nodes. The
 * file is validated first and every bad row reported; then everything is
 * upserted in one transaction. Codes are stable: a code whose kind or verbatim
 * text would change is refused (text only with --allow-text-change).
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "csv.h"
#include "taxonomy.h"

/* Checks every node against what is stored; returns the number of refusals. */
static int
check_stable(PGconn *c, const kt_taxonomy *tx, int allow_text_change, char *text_changed)
{
    int refused = 0;
    for (size_t i = 0; i < tx->nnodes; i++) {
        const kt_tx_node *n = &tx->nodes[i];
        const char *p[] = {n->code, n->text};
        PGresult *r = kt_db_query(c,
                            "SELECT kind, content_hash, encode(sha256(convert_to($2, 'UTF8')), 'hex')"
                            " FROM taxonomy_nodes WHERE code = $1 FOR UPDATE",
                            2, p);
        if (!r)
            return -1;
        if (PQntuples(r) == 1) {
            const char *kind = PQgetvalue(r, 0, 0), *old = PQgetvalue(r, 0, 1),
                       *new = PQgetvalue(r, 0, 2);
            if (strcmp(kind, n->kind) != 0) {
                fprintf(stderr, "  Dòng %zu: mã %s đã có với loại %s, không thể đổi thành %s.\n",
                        n->source_row, n->code, kind, n->kind);
                refused++;
            } else if (!n->create_only && strcmp(old, new) != 0) {
                text_changed[i] = 1;
                if (allow_text_change) {
                    printf("Dòng %zu: đổi nội dung của mã %s (băm cũ %.16s…, mới %.16s…).\n",
                           n->source_row, n->code, old, new);
                } else {
                    fprintf(stderr,
                            "  Dòng %zu: nội dung của mã %s khác với nội dung đã lưu"
                            " (băm cũ %s, mới %s). Mã không được đổi nghĩa: hãy dùng mã mới,"
                            " hoặc --allow-text-change nếu chỉ sửa lỗi chính tả.\n",
                            n->source_row, n->code, old, new);
                    refused++;
                }
            }
        }
        PQclear(r);
    }
    return refused;
}

static int
usage(void)
{
    fprintf(stderr,
            "usage: kiemtra taxonomy import FILE.csv [--allow-text-change]\n"
            "  Columns: code,subject,grade,strand,topic,unit,text (optional: kind,parent).\n"
            "  Codes follow VN18.<MON>.<LOP>.<MACH>.<CD>.<ND>.<YC>; strand, topic and unit\n"
            "  nodes are created from the outcome codes. Nothing is written if any row is bad;\n"
            "  a stored code whose text differs is refused unless --allow-text-change.\n");
    return 2;
}

int
kt_cmd_taxonomy(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[1], "import") != 0)
        return usage();
    const char *path = argv[2];
    int allow = 0;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--allow-text-change") == 0)
            allow = 1;
        else
            return usage();
    }
    size_t len;
    char *buf = kt_read_file(path, 50u << 20, &len);
    if (!buf)
        return 1;
    kt_table t = {0};
    char err[256];
    int prc = kt_csv_parse(buf, len, &t, err, sizeof(err));
    free(buf);
    if (prc < 0) {
        fprintf(stderr, "Không đọc được tệp %s: %s\n", path, err);
        kt_table_free(&t);
        return 1;
    }
    kt_taxonomy tx;
    int vrc = kt_taxonomy_from_table(&t, &tx);
    kt_table_free(&t);
    if (vrc < 0) {
        kt_print_row_errors(path, tx.errors, tx.nerrors);
        kt_taxonomy_free(&tx);
        return 1;
    }

    int rc = 1;
    char *changed = calloc(tx.nnodes, 1);
    PGconn *c = kt_db_connect(kt_cfg.admin_database_url);
    if (!c || !changed)
        goto out;
    if (kt_db_exec(c, "BEGIN") < 0)
        goto out;
    int refused = check_stable(c, &tx, allow, changed);
    if (refused < 0)
        goto rollback;
    if (refused > 0) {
        fprintf(stderr, "Không nhập tệp %s: %d mã bị từ chối, chưa ghi dữ liệu nào.\n", path,
                refused);
        goto rollback;
    }
    size_t inserted = 0, updated = 0, unchanged = 0, text_changed = 0;
    for (size_t i = 0; i < tx.nnodes; i++) {
        const kt_tx_node *n = &tx.nodes[i];
        char grade[8], edition[16] = "VN18";
        snprintf(grade, sizeof(grade), "%d", n->grade);
        if (strncmp(n->code, "VN", 2) == 0)
            snprintf(edition, sizeof(edition), "%.*s", (int)strcspn(n->code, "."), n->code);
        const char *p[] = {n->code,        n->kind, n->parent, n->subject,
                           n->grade ? grade : NULL, n->name, n->text, edition};
        PGresult *r = kt_db_query(
            c,
            n->create_only
                ? "INSERT INTO taxonomy_nodes (code, kind, parent_code, subject, grade, name, text,"
                  " edition) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                  " ON CONFLICT (code) DO NOTHING RETURNING true"
                : "INSERT INTO taxonomy_nodes AS t (code, kind, parent_code, subject, grade, name,"
                  " text, edition) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                  " ON CONFLICT (code) DO UPDATE SET parent_code = EXCLUDED.parent_code,"
                  " subject = EXCLUDED.subject, grade = EXCLUDED.grade, name = EXCLUDED.name,"
                  " text = EXCLUDED.text"
                  " WHERE (t.parent_code, t.subject, t.grade, t.name, t.text) IS DISTINCT FROM"
                  " (EXCLUDED.parent_code, EXCLUDED.subject, EXCLUDED.grade, EXCLUDED.name,"
                  "  EXCLUDED.text)"
                  " RETURNING xmax = 0",
            8, p);
        if (!r) {
            fprintf(stderr, "  (dòng %zu, mã %s)\n", n->source_row, n->code);
            goto rollback;
        }
        if (PQntuples(r) == 0)
            unchanged++;
        else if (PQgetvalue(r, 0, 0)[0] == 't')
            inserted++;
        else
            updated++;
        text_changed += changed[i] != 0;
        PQclear(r);
    }
    /* Parents named in the file must exist now, not only at COMMIT. */
    PGresult *r = PQexec(c, "SET CONSTRAINTS ALL IMMEDIATE");
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
        fprintf(stderr, "Không nhập tệp %s: có mã cha không tồn tại (%s). Chưa ghi dữ liệu nào.\n",
                path, detail ? detail : PQerrorMessage(c));
        PQclear(r);
        goto rollback;
    }
    PQclear(r);
    if (kt_db_exec(c, "COMMIT") < 0)
        goto out;
    printf("Đã nhập tệp %s: %zu mã (%zu yêu cầu cần đạt): %zu mới, %zu cập nhật"
           " (%zu đổi nội dung), %zu không đổi.\n",
           path, tx.nnodes, tx.noutcomes, inserted, updated, text_changed, unchanged);
    rc = 0;
    goto out;
rollback:
    kt_db_exec(c, "ROLLBACK");
out:
    if (c)
        PQfinish(c);
    free(changed);
    kt_taxonomy_free(&tx);
    return rc;
}

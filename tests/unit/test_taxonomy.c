/*
 * Unit tests for itembank/taxonomy.c: the code scheme of DOMAIN-VN §4.6,
 * implied parents, ancestors derived from outcome codes with the names the
 * file gives, and the complete list of bad rows with Vietnamese messages.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "row_errors.h"
#include "taxonomy.h"

#define HEADER "code,subject,grade,strand,topic,unit,text\n"
#define S10 "TOAN,10,\"Số, Đại số và Một số yếu tố giải tích\",Mệnh đề và tập hợp"

static kt_taxonomy tx;

static int
load(const char *csv)
{
    char err[256];
    kt_table t;
    kt_taxonomy_free(&tx);
    cr_assert_eq(kt_csv_parse(csv, strlen(csv), &t, err, sizeof(err)), 0, "%s", err);
    int rc = kt_taxonomy_from_table(&t, &tx);
    kt_table_free(&t);
    return rc;
}

static void
teardown(void)
{
    kt_taxonomy_free(&tx);
}

static const kt_tx_node *
node(const char *code)
{
    for (size_t i = 0; i < tx.nnodes; i++)
        if (strcmp(tx.nodes[i].code, code) == 0)
            return &tx.nodes[i];
    return NULL;
}

static size_t
node_index(const char *code)
{
    for (size_t i = 0; i < tx.nnodes; i++)
        if (strcmp(tx.nodes[i].code, code) == 0)
            return i;
    cr_assert_fail("no node %s", code);
    return 0;
}

static void
assert_error(size_t i, size_t row, const char *column, const char *needle)
{
    assert_row_error(tx.errors, tx.nerrors, i, row, column, needle);
}

TestSuite(taxonomy, .fini = teardown);

Test(taxonomy, code_kinds)
{
    char why[256];
    static const struct {
        const char *code, *kind;
    } ok[] = {
        {"VN18.TOAN", "subject"},
        {"VN18.TOAN.06", "grade"},
        {"VN18.TOAN.10.SDS", "strand"},
        {"VN18.TOAN.10.SDS.01", "topic"},
        {"VN18.TOAN.10.SDS.01.02", "unit"},
        {"VN18.TOAN.10.SDS.01.02.03", "outcome"},
        {"VN18.TOAN.06.SDS.01.00.03", "outcome"},
        {"VN18A.NV.12.DOC.01.01.01", "outcome"},
        {"NL.TOAN", "competency"},
        {"NL.TOAN.MHH", "competency"},
        {"NLC.TCTH", "competency"},
        {"NLDT.TT", "competency"},
        {"PC.YN", "quality"},
        {"MD.B", "level"},
        {"MD.VC", "level"},
        {"DT.NLC", "format"},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        const char *k = kt_taxonomy_code_kind(ok[i].code, why, sizeof(why));
        cr_assert(k, "%s: %s", ok[i].code, why);
        cr_assert_str_eq(k, ok[i].kind, "%s", ok[i].code);
    }
    static const struct {
        const char *code, *needle;
    } bad[] = {
        {"", "Thiếu mã"},
        {"vn18.toan.10.sds.01.01.01", "chữ in hoa"},
        {"VN18.TOÁN", "chữ in hoa"},
        {"VN18.TOAN.13", "từ 01 đến 12"},
        {"VN18.TOAN.6", "2 chữ số"},
        {"VN18.TOAN.10.S1", "Mạch"},
        {"VN18.TOAN.10.SDS.00", "chủ đề"},
        {"VN18.TOAN.10.SDS.01.00", "nội dung"},
        {"VN18.TOAN.10.SDS.01.01.00", "yêu cầu cần đạt"},
        {"VN18.TOAN.10.SDS.01.01.01.01", "quá nhiều phần"},
        {"VN18..TOAN", "phần rỗng"},
        {"PC.YN.X", "PC.<MÃ>"},
        {"NL.TOAN.MHH.X", "NL.<MÔN>"},
        {"XX.YN", "không theo quy ước"},
        {"VN18", "thiếu mã môn"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_null(kt_taxonomy_code_kind(bad[i].code, why, sizeof(why)), "%s", bad[i].code);
        cr_assert(strstr(why, bad[i].needle), "%s: '%s' lacks '%s'", bad[i].code, why,
                  bad[i].needle);
    }
}

Test(taxonomy, implied_parents)
{
    static const char *const cases[][2] = {
        {"VN18.TOAN.10.SDS.01.02.03", "VN18.TOAN.10.SDS.01.02"},
        {"VN18.TOAN.10.SDS.01.00.03", "VN18.TOAN.10.SDS.01"},
        {"VN18.TOAN.10.SDS.01", "VN18.TOAN.10.SDS"},
        {"VN18.TOAN.10", "VN18.TOAN"},
        {"VN18.TOAN", NULL},
        {"NL.TOAN.MHH", "NL.TOAN"},
        {"NL.TOAN", NULL},
        {"PC.YN", NULL},
        {"bad code", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *p = kt_taxonomy_implied_parent(cases[i][0]);
        if (cases[i][1])
            cr_assert(p && strcmp(p, cases[i][1]) == 0, "%s -> %s", cases[i][0], p ? p : "NULL");
        else
            cr_assert_null(p, "%s -> %s", cases[i][0], p);
        free(p);
    }
}

Test(taxonomy, outcomes_derive_their_ancestors)
{
    cr_assert_eq(load("\xEF\xBB\xBF" HEADER
                      "VN18.TOAN.10.SDS.01.01.01," S10 ",Mệnh đề toán học,Phát biểu được   mệnh đề.\n"
                      "VN18.TOAN.10.SDS.01.02.01," S10 ",Tập hợp,Nhận biết được tập hợp.\n"
                      "\n"
                      "VN18.TOAN.10.SDS.01.02.02," S10 ",Tập hợp,Giải quyết được vấn đề.\n"),
                 0, "%s", tx.nerrors ? tx.errors[0].message : "");
    cr_assert_eq(tx.noutcomes, 3);
    /* subject, grade, strand, topic, 2 units, 3 outcomes */
    cr_assert_eq(tx.nnodes, 9);
    const kt_tx_node *s = node("VN18.TOAN"), *g = node("VN18.TOAN.10");
    cr_assert(s && s->create_only && s->implied && !s->parent && strcmp(s->kind, "subject") == 0);
    cr_assert(g && g->create_only && strcmp(g->name, "Lớp 10") == 0 && g->grade == 10);
    cr_assert_str_eq(g->parent, "VN18.TOAN");
    const kt_tx_node *st = node("VN18.TOAN.10.SDS");
    cr_assert(st && !st->create_only && st->implied);
    cr_assert_str_eq(st->name, "Số, Đại số và Một số yếu tố giải tích");
    cr_assert_str_eq(st->kind, "strand");
    const kt_tx_node *u = node("VN18.TOAN.10.SDS.01.02");
    cr_assert_str_eq(u->name, "Tập hợp");
    cr_assert_str_eq(u->parent, "VN18.TOAN.10.SDS.01");
    cr_assert_str_eq(u->kind, "unit");
    const kt_tx_node *o = node("VN18.TOAN.10.SDS.01.01.01");
    cr_assert_str_eq(o->kind, "outcome");
    cr_assert_str_eq(o->text, "Phát biểu được mệnh đề.");
    cr_assert_str_eq(o->subject, "TOAN");
    cr_assert_eq(o->grade, 10);
    cr_assert_eq(o->source_row, 2);
    cr_assert_eq(node("VN18.TOAN.10.SDS.01.02.02")->source_row, 5);
    /* Parents come before their children. */
    for (size_t i = 0; i < tx.nnodes; i++)
        if (tx.nodes[i].parent)
            cr_assert_lt(node_index(tx.nodes[i].parent), i, "%s", tx.nodes[i].code);
}

Test(taxonomy, text_is_nfc)
{
    /* "Nhận" with a decomposed dot below and circumflex (NFD). */
    cr_assert_eq(load(HEADER "VN18.TOAN.10.SDS.01.01.01," S10 ",U,Nha\xCC\xA3\xCC\x82n biết\n"), 0);
    cr_assert_str_eq(node("VN18.TOAN.10.SDS.01.01.01")->text, "Nhận biết");
}

Test(taxonomy, unit_00_hangs_under_topic)
{
    cr_assert_eq(load(HEADER "VN18.TOAN.06.SDS.01.00.01,TOAN,6,Số và Đại số,Số tự nhiên,,"
                             "Nhận biết được tập hợp các số tự nhiên.\n"),
                 0, "%s", tx.nerrors ? tx.errors[0].message : "");
    cr_assert_str_eq(node("VN18.TOAN.06.SDS.01.00.01")->parent, "VN18.TOAN.06.SDS.01");
    cr_assert_null(node("VN18.TOAN.06.SDS.01.00"));
    cr_assert_eq(tx.nnodes, 5);
}

Test(taxonomy, every_bad_row_is_reported)
{
    cr_assert_eq(load(HEADER
                      "VN18.TOAN.10.SDS.01.01.01," S10 ",U,Văn bản một.\n"       /* 2 ok */
                      "VN18.TOAN.10.SDS.01.01.01," S10 ",U,Văn bản hai.\n"       /* 3 dup */
                      "vn18.toan.10.sds.01.01.02," S10 ",U,x\n"                  /* 4 case */
                      "VN18.TOAN.10.SDS.01.01.03,NV,10,M,Mệnh đề và tập hợp,U,x\n" /* 5 subject */
                      "VN18.TOAN.10.SDS.01.01.04,TOAN,13,M,T,U,x\n"              /* 6 grade */
                      "VN18.TOAN.10.SDS.01.01.05," S10 ",U,\n"                   /* 7 text */
                      "VN18.TOAN.10.SDS.01.01.06,TOAN,11," S10 ",U,x\n"          /* 8 grade != */
                      "VN18.TOAN.10.SDS.01.01.07," S10 ",,x\n"                   /* 9 unit */
                      "VN18.TOAN.10.SDS.01.01.08,TOAN,10,\"Số, Đại số và Một số yếu tố giải tích\","
                      "Tập hợp khác,U,x\n"                                      /* 10 topic name */
                      "X.Y," S10 ",U,x\n"),                                     /* 11 scheme */
                 -1);
    cr_assert_eq(tx.nerrors, 9, "got %zu errors", tx.nerrors);
    assert_error(0, 3, "code", "trùng với mã ở dòng 2");
    assert_error(1, 4, "code", "chữ in hoa");
    assert_error(2, 5, "subject", "không khớp với mã môn TOAN");
    assert_error(3, 6, "grade", "từ 1 đến 12");
    assert_error(4, 7, "text", "Thiếu nội dung");
    assert_error(5, 8, "grade", "Lớp 11 không khớp");
    assert_error(6, 9, "unit", "Thiếu tên nội dung");
    assert_error(7, 10, "topic", "khác với tên 'Mệnh đề và tập hợp' ở dòng 2");
    assert_error(8, 11, "code", "không theo quy ước");
}

Test(taxonomy, missing_columns_and_empty_files)
{
    cr_assert_eq(load("code,subject,grade,text\nVN18.TOAN,TOAN,,Toán\n"), -1);
    cr_assert_eq(tx.nerrors, 3);
    assert_error(0, 1, "strand", "Thiếu cột 'strand'");
    assert_error(2, 1, "unit", "Thiếu cột 'unit'");
    cr_assert_eq(load(HEADER), -1);
    assert_error(0, 0, "", "Không có dòng dữ liệu");
    cr_assert_eq(load(""), -1);
    assert_error(0, 0, "", "Tệp trống");
}

Test(taxonomy, kind_and_parent_columns)
{
    cr_assert_eq(load("code,subject,grade,strand,topic,unit,text,kind,parent\n"
                      "NL.TOAN,,,,,,Năng lực toán học,competency,NLDT.TT\n"
                      "NL.TOAN.MHH,TOAN,,,,,Mô hình hoá toán học,competency,\n"
                      "VN18.TOAN.10.SDS.01,TOAN,10,Số và Đại số,Mệnh đề,,,topic,\n"
                      "PC.YN,,,,,,Yêu nước,quality,\n"),
                 0, "%s", tx.nerrors ? tx.errors[0].message : "");
    const kt_tx_node *nl = node("NL.TOAN");
    cr_assert_str_eq(nl->parent, "NLDT.TT");
    cr_assert_str_eq(nl->subject, "TOAN");
    cr_assert_str_eq(nl->name, "Năng lực toán học");
    cr_assert_str_eq(nl->text, "");
    cr_assert_str_eq(node("NL.TOAN.MHH")->parent, "NL.TOAN");
    const kt_tx_node *t = node("VN18.TOAN.10.SDS.01");
    cr_assert_str_eq(t->name, "Mệnh đề");
    cr_assert(!t->implied);
    cr_assert_str_eq(node("VN18.TOAN.10.SDS")->name, "Số và Đại số");
    cr_assert_null(node("PC.YN")->subject);
    cr_assert_eq(tx.noutcomes, 0);

    cr_assert_eq(load("code,subject,grade,strand,topic,unit,text,kind,parent\n"
                      "NL.TOAN.MHH,TOAN,,,,,Mô hình hoá,quality,\n"
                      "NL.TOAN.GT,TOAN,,,,,Giao tiếp,competency,NL.NV\n"
                      "PC.YN,,,,,,Yêu nước,loại lạ,\n"
                      "PC.NA,,,,,,,,\n"),
                 -1);
    cr_assert_eq(tx.nerrors, 4);
    assert_error(0, 2, "kind", "không khớp với mã NL.TOAN.MHH");
    assert_error(1, 3, "parent", "khác với mã cha suy ra");
    assert_error(2, 4, "kind", "không hợp lệ");
    assert_error(3, 5, "text", "Thiếu tên");
}

Test(taxonomy, demo_file_is_valid)
{
    FILE *f = fopen(KIEMTRA_SOURCE_DIR "/demo/outcomes-toan10.csv", "rb");
    cr_assert(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    cr_assert_eq(load(buf), 0, "%s", tx.nerrors ? tx.errors[0].message : "");
    cr_assert_eq(tx.noutcomes, 30);
    cr_assert_str_eq(node("VN18.TOAN.10.TKXS.02")->name, "Xác suất");
}

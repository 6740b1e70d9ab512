/*
 * kiemtra: online assessment and question-bank engine. One binary, one
 * subcommand per job; configuration comes from KIEMTRA_* variables.
 */
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>

#include "cli.h"
#include "config.h"
#include "log.h"
#include "server.h"

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: kiemtra COMMAND [ARGS]\n\n"
            "Commands:\n"
            "  serve                       run the HTTP server\n"
            "  migrate                     apply database migrations (idempotent)\n"
            "  users import FILE           import a class roster (.csv or .xlsx)\n"
            "  users add ...               create one account (users add for details)\n"
            "  schools add CODE NAME --province CODE   register a school\n"
            "  taxonomy import FILE.csv [--allow-text-change]   import GDPT 2018 outcomes\n"
            "  import [--school MA] [--subject MON] [--grade N] FILE|DIR...   import QTI items, tests, packages,\n"
            "                              Word (.docx) and question sheets (.xlsx, .csv)\n"
            "  export-qti --school MA [--subject MON] [--grade N] [--status S] [--version 2.2|3.0]\n"
            "             --out FILE.zip   the school's items as a QTI content package\n"
            "  export-records --school MA --class LOP --year YYYY-YYYY --semester 1|2 --subject MON\n"
            "             [--format xlsx|csv|json] [--decimal comma|dot] --out FILE   a score sheet\n"
            "  demo [--credentials FILE]   create or reuse the demo school and print its logins\n"
            "  bench-fixture --students N [--school MA] [--classes K] [--duration-seconds S]\n"
            "             a load-test school (shared password) and a new session; prints its id\n"
            "  bench --session ID --students N [--url http://127.0.0.1:PORT] [--window S]\n"
            "        [--duration S] [--think-ms MS] [--login-rate R] [--connections C] [--json]\n"
            "             simulate an exam: logins, start storm, saves, submit, lost-answer check\n"
            "  bench --idle N [--hold-seconds S]   hold N idle keep-alive connections\n"
            "  version                     print the version\n\n");
    kt_config_help(out);
}

int
main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "version") == 0) {
        printf("kiemtra %s\n", KIEMTRA_VERSION);
        return 0;
    }
    if (kt_config_load() < 0)
        return 2;
    xmlInitParser(); /* once, before any thread parses XML */
    static const char *levels[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcmp(kt_cfg.log_level, levels[i]) == 0)
            kt_log_set_level((enum kt_log_level)i);
    if (strcmp(cmd, "serve") == 0)
        return kt_serve();
    if (strcmp(cmd, "migrate") == 0)
        return kt_cmd_migrate(argc - 1, argv + 1);
    if (strcmp(cmd, "users") == 0 && argc > 2 && strcmp(argv[2], "add") == 0)
        return kt_cmd_users_add(argc - 1, argv + 1);
    if (strcmp(cmd, "users") == 0)
        return kt_cmd_users(argc - 1, argv + 1);
    if (strcmp(cmd, "schools") == 0)
        return kt_cmd_schools(argc - 1, argv + 1);
    if (strcmp(cmd, "taxonomy") == 0)
        return kt_cmd_taxonomy(argc - 1, argv + 1);
    if (strcmp(cmd, "import") == 0)
        return kt_cmd_import(argc - 1, argv + 1);
    if (strcmp(cmd, "export-qti") == 0)
        return kt_cmd_export_qti(argc - 1, argv + 1);
    if (strcmp(cmd, "export-records") == 0)
        return kt_cmd_export_records(argc - 1, argv + 1);
    if (strcmp(cmd, "demo") == 0)
        return kt_cmd_demo(argc - 1, argv + 1);
    if (strcmp(cmd, "bench-fixture") == 0)
        return kt_cmd_bench_fixture(argc - 1, argv + 1);
    if (strcmp(cmd, "bench") == 0)
        return kt_cmd_bench(argc - 1, argv + 1);
    fprintf(stderr, "kiemtra: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}

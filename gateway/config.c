/*
 * Environment configuration. The table below is the single list of settings:
 * it drives parsing, validation and the --help text.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct kt_config kt_cfg;

enum kind { K_STR, K_INT, K_SIZE };

struct setting {
    const char *env;
    enum kind kind;
    void *dst;
    const char *def; /* NULL: computed default */
    long min, max;
    const char *help;
};

#define S(env, field, def, help) {env, K_STR, &kt_cfg.field, def, 0, 0, help}
#define I(env, field, def, lo, hi, help) {env, K_INT, &kt_cfg.field, def, lo, hi, help}
#define Z(env, field, def, lo, hi, help) {env, K_SIZE, &kt_cfg.field, def, lo, hi, help}

static const struct setting settings[] = {
    S("KIEMTRA_DATABASE_URL", database_url, "dbname=kiemtra user=kiemtra_app",
      "libpq connection string of the application role (used by serve); with Patroni, the"
      " address of HAProxy's frontend to the primary (docs/SCALE.md)"),
    S("KIEMTRA_ADMIN_DATABASE_URL", admin_database_url, "dbname=kiemtra",
      "connection string of the schema owner (migrate, import, users import, demo)"),
    S("KIEMTRA_LISTEN", listen_addr, "127.0.0.1", "address to listen on"),
    I("KIEMTRA_PORT", port, "8080", 1, 65535, "TCP port to listen on"),
    I("KIEMTRA_WORKERS", workers, NULL, 1, 256, "event-loop threads (default: number of cores)"),
    I("KIEMTRA_CPU_THREADS", cpu_threads, NULL, 1, 256,
      "threads for password hashing, imports (default: number of cores)"),
    I("KIEMTRA_DB_POOL", db_pool, "4", 1, 256, "PostgreSQL connections per worker"),
    I("KIEMTRA_DB_TIMEOUT_MS", db_timeout_ms, "5000", 100, 600000,
      "statement timeout and client-side query deadline (ms)"),
    I("KIEMTRA_SAVE_GATHER_MS", save_gather_ms, "6", 0, 1000,
      "at most one save transaction per school and worker per this many ms, unless 64 saves"
      " wait (0: no wait; more: larger batches, less database CPU, slower replies)"),
    I("KIEMTRA_DB_QUEUE", db_queue_max, "20000", 1, 10000000,
      "queries allowed to wait for a connection, per worker"),
    I("KIEMTRA_TOKEN_TTL", token_ttl, "43200", 1, 31536000, "bearer token lifetime (seconds)"),
    I("KIEMTRA_AUTH_CACHE_MS", auth_cache_ms, "2000", 0, 60000,
      "how long a checked bearer token is remembered (ms; never past its expiry; 0: always ask"
      " the database; this long only while the revocation feed is down)"),
    I("KIEMTRA_AUTH_FEED_CACHE_MS", auth_feed_cache_ms, "60000", 0, 3600000,
      "how long a checked bearer token is remembered while the revocation feed listens (ms;"
      " sessions ended through any gateway are forgotten on notice; 0: no feed)"),
    Z("KIEMTRA_MAX_BODY", max_body, "33554432", 1024, 1L << 34, "largest request body (bytes)"),
    Z("KIEMTRA_MAX_HEADER", max_header, "16384", 1024, 1 << 20,
      "largest request line plus headers (bytes)"),
    I("KIEMTRA_HEADER_TIMEOUT", header_timeout, "10", 1, 3600,
      "seconds allowed to send a complete request head (then 408)"),
    I("KIEMTRA_BODY_TIMEOUT", body_timeout, "60", 1, 3600,
      "seconds allowed to send a declared body (then 408)"),
    Z("KIEMTRA_MAX_JSON_BODY", max_json_body, "1048576", 1024, 1L << 34,
      "largest JSON body of a signed-in request (bytes; login 4 KiB, saves 64 KiB; over 64 KiB"
      " read only after the token is checked, and parsed off the event loop)"),
    I("KIEMTRA_IDLE_TIMEOUT", idle_timeout, "300", 1, 86400,
      "seconds an idle keep-alive connection is kept"),
    I("KIEMTRA_IDLE_TIMEOUT_BUSY", idle_busy_timeout, "10", 1, 86400,
      "seconds an idle keep-alive connection is kept while connections are above 80 % of the cap"),
    I("KIEMTRA_MAX_CONNECTIONS", max_connections, "0", 0, 10000000,
      "client connections in all (0: the descriptor limit minus a reserve for the database,"
      " files and listeners)"),
    I("KIEMTRA_MAX_CONNECTIONS_PER_ADDR", max_per_address, "4096", 0, 10000000,
      "client connections from one address (0: no cap; a school behind one NAT shares it)"),
    I("KIEMTRA_LOGIN_FREE_TRIES", login_free_tries, "5", 1, 1000000,
      "login tries of one account from one address before each further try waits"),
    I("KIEMTRA_LOGIN_DELAY", login_delay, "15", 1, 86400,
      "first wait after the free tries (seconds); doubles with each further try"),
    I("KIEMTRA_LOGIN_MAX_DELAY", login_max_delay, "300", 1, 86400,
      "longest wait between two login tries of one account from one address (seconds)"),
    I("KIEMTRA_LOGIN_MAX_FAILS_ADDR", login_max_addr, "500", 1, 100000000,
      "failed logins from one address (any account) within the window before it waits"),
    I("KIEMTRA_LOGIN_WINDOW", login_window, "900", 1, 86400,
      "seconds without a try after which an account's or address's count starts afresh"),
    I("KIEMTRA_ACCESS_LOG", access_log, "1", 0, 1, "1 to write one JSON access-log line per request"),
    I("KIEMTRA_EXPIRY_INTERVAL", expiry_interval, "2", 0, 3600,
      "seconds between submissions of attempts past their deadline (0: off)"),
    S("KIEMTRA_LOG_LEVEL", log_level, "info", "debug, info, warn or error"),
    S("KIEMTRA_MIGRATIONS_DIR", migrations_dir, KIEMTRA_DEFAULT_MIGRATIONS,
      "directory of numbered .sql migrations"),
    S("KIEMTRA_WEB_ROOT", web_root, KIEMTRA_DEFAULT_WEBROOT, "directory of the web UI files"),
    S("KIEMTRA_KATEX_DIR", katex_dir, "/usr/share/javascript/katex",
      "KaTeX as installed by Debian libjs-katex, served at /vendor/katex/"),
    S("KIEMTRA_DEMO_DIR", demo_dir, KIEMTRA_DEFAULT_DEMO, "directory of the demo data"),
    S("KIEMTRA_SECRET_KEY_FILE", secret_key_file, "var/secret.key",
      "64 hex digits: the key that encrypts số định danh at rest"),
    S("KIEMTRA_CSDL_URL", csdl_url, "",
      "http://IP:PORT/path of the sector database endpoint (empty: no sync)"),
    I("KIEMTRA_CSDL_INTERVAL", csdl_interval, "5", 1, 3600,
      "seconds between runs of the CSDL outbox sender"),
    I("KIEMTRA_CSDL_TIMEOUT", csdl_timeout, "10", 1, 600,
      "seconds to wait for the CSDL endpoint before retrying"),
};

static int
parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *out = v;
    return 0;
}

int
kt_config_load(void)
{
    long ncores = sysconf(_SC_NPROCESSORS_ONLN);
    if (ncores < 1)
        ncores = 1;
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
        const struct setting *s = &settings[i];
        const char *v = getenv(s->env);
        if (!v || !*v)
            v = s->def;
        if (s->kind == K_STR) {
            *(const char **)s->dst = v;
            continue;
        }
        long n = ncores;
        if (v && parse_long(v, &n) < 0) {
            fprintf(stderr, "kiemtra: %s=%s is not a whole number\n", s->env, v);
            return -1;
        }
        if (n < s->min || n > s->max) {
            fprintf(stderr, "kiemtra: %s=%ld is outside %ld..%ld\n", s->env, n, s->min, s->max);
            return -1;
        }
        if (s->kind == K_INT)
            *(int *)s->dst = (int)n;
        else
            *(size_t *)s->dst = (size_t)n;
    }
    return 0;
}

void
kt_config_help(FILE *out)
{
    fprintf(out, "Environment:\n");
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
        const struct setting *s = &settings[i];
        fprintf(out, "  %-30s %s", s->env, s->help);
        if (s->def)
            fprintf(out, " [%s]", s->def);
        fputc('\n', out);
    }
}

/*
 * Configuration from the environment. Every setting has a default, a
 * KIEMTRA_* variable and a line of help; `kiemtra --help` prints the table.
 */
#ifndef KT_CONFIG_H
#define KT_CONFIG_H

#include <stddef.h>
#include <stdio.h>

struct kt_config {
    const char *database_url;       /* application role: the server */
    const char *admin_database_url; /* owner role: migrate, imports, demo seed */
    const char *listen_addr;
    int port;
    int workers;            /* event-loop threads */
    int cpu_threads;        /* threads for password hashing and other CPU work */
    int db_pool;            /* PostgreSQL connections per worker */
    int db_timeout_ms;      /* statement_timeout and client-side deadline */
    int db_queue_max;       /* queries waiting for a connection, per worker */
    int token_ttl;          /* seconds */
    int auth_cache_ms;      /* how long a checked token is remembered; 0 = never */
    int auth_feed_cache_ms; /* the same while the revocation feed listens */
    int save_gather_ms;     /* group commit: one save transaction per this many ms at most */
    size_t max_body;        /* bytes */
    size_t max_header;      /* bytes, request line + headers */
    int header_timeout;     /* seconds to receive a complete request head */
    int body_timeout;       /* seconds to receive a declared body */
    int idle_timeout;       /* seconds a keep-alive connection may stay idle */
    int idle_busy_timeout;  /* the same while connections are above 80 % of the cap */
    int max_connections;    /* client connections in all; 0 = from the descriptor limit */
    int max_per_address;    /* client connections per address; 0 = no cap */
    size_t max_json_body;   /* bytes, JSON bodies of authenticated routes */
    int login_free_tries;   /* tries per (account, address) before each try waits */
    int login_delay;        /* seconds: first wait, doubling per further try */
    int login_max_delay;    /* seconds: longest wait */
    int login_max_addr;     /* failed logins per client address within the window */
    int login_window;       /* seconds */
    int access_log;         /* 0 or 1 */
    int expiry_interval;    /* seconds between runs of the attempt-expiry job; 0 = off */
    const char *log_level;
    const char *migrations_dir;
    const char *web_root;
    const char *katex_dir;
    const char *demo_dir;
    const char *secret_key_file; /* at-rest key for personal identifiers */
    const char *csdl_url;        /* the sector database's endpoint; "" = no sync */
    int csdl_interval;           /* seconds between outbox runs */
    int csdl_timeout;            /* seconds to wait for the endpoint */
};

extern struct kt_config kt_cfg;

/* Reads the environment. Returns 0, or -1 after printing which value is bad. */
int kt_config_load(void);
void kt_config_help(FILE *out);

#endif

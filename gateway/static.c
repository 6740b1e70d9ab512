/*
 * The web UI's files (KIEMTRA_WEB_ROOT), read once at start into memory and
 * served from there, so that no request ever reads the disk on an event
 * loop. Paths are looked up exactly; nothing outside the table is served.
 */
#include "static.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "import.h"
#include "log.h"

#define STATIC_MAX_FILES 512
#define STATIC_MAX_BYTES (16u << 20)
#define STATIC_MAX_DEPTH 8

struct static_file {
    char *path; /* "/student/index.html" */
    const char *type;
    char *data;
    size_t len;
};

static struct static_file files[STATIC_MAX_FILES];
static size_t nfiles, total_bytes;

static const char *
type_of(const char *path)
{
    size_t n = strlen(path);
    if (n > 3 && strcmp(path + n - 3, ".js") == 0)
        return "text/javascript; charset=utf-8";
    if (n > 4 && strcmp(path + n - 4, ".css") == 0)
        return "text/css; charset=utf-8";
    if (n > 5 && strcmp(path + n - 5, ".html") == 0)
        return "text/html; charset=utf-8";
    return kt_import_content_type(path);
}

static int
load_file(const char *fs_path, const char *url_path)
{
    FILE *f = fopen(fs_path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) < 0 || nfiles == STATIC_MAX_FILES ||
        total_bytes + (size_t)st.st_size > STATIC_MAX_BYTES) {
        if (f)
            fclose(f);
        log_error("web: cannot load %s (missing, or over %u files / %u bytes)", fs_path,
                  STATIC_MAX_FILES, STATIC_MAX_BYTES);
        return -1;
    }
    struct static_file *sf = &files[nfiles];
    sf->len = (size_t)st.st_size;
    sf->data = malloc(sf->len + 1);
    sf->path = strdup(url_path);
    if (!sf->data || !sf->path || fread(sf->data, 1, sf->len, f) != sf->len) {
        fclose(f);
        free(sf->data);
        free(sf->path);
        return -1;
    }
    fclose(f);
    sf->type = type_of(url_path);
    total_bytes += sf->len;
    nfiles++;
    return 0;
}

static int
load_dir(const char *fs_dir, const char *url_dir, int depth)
{
    if (depth > STATIC_MAX_DEPTH)
        return 0;
    DIR *d = opendir(fs_dir);
    if (!d)
        return depth == 0 ? 0 : -1; /* no web root: an API-only server */
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char fs[1024], url[1024];
        snprintf(fs, sizeof(fs), "%s/%s", fs_dir, e->d_name);
        snprintf(url, sizeof(url), "%s/%s", url_dir, e->d_name);
        struct stat st;
        if (lstat(fs, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode))
            rc = load_dir(fs, url, depth + 1);
        else if (S_ISREG(st.st_mode))
            rc = load_file(fs, url);
    }
    closedir(d);
    return rc;
}

/* KaTeX as Debian installs it (libjs-katex): the script, its stylesheet and
 * the woff2 fonts the stylesheet names, served at /vendor/katex/. Its fonts
 * folder is a symbolic link into /usr/share/fonts, hence stat, not lstat.
 * Missing files are logged and the pages work without typeset math input. */
static void
load_katex(void)
{
    const char *dir = kt_cfg.katex_dir;
    if (!dir || !*dir)
        return;
    static const char *const top[] = {"katex.min.js", "katex.min.css"};
    char fs[1024], url[1024];
    size_t before = nfiles;
    for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
        snprintf(fs, sizeof(fs), "%s/%s", dir, top[i]);
        snprintf(url, sizeof(url), "/vendor/katex/%s", top[i]);
        if (load_file(fs, url) < 0)
            return;
    }
    snprintf(fs, sizeof(fs), "%s/fonts", dir);
    DIR *d = opendir(fs);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (e->d_name[0] == '.' || n < 7 || strcmp(e->d_name + n - 6, ".woff2") != 0)
            continue;
        char f[1400];
        struct stat st;
        snprintf(f, sizeof(f), "%s/%s", fs, e->d_name);
        snprintf(url, sizeof(url), "/vendor/katex/fonts/%s", e->d_name);
        if (stat(f, &st) == 0 && S_ISREG(st.st_mode) && load_file(f, url) < 0)
            break;
    }
    if (d)
        closedir(d);
    log_info("web: %zu KaTeX files from %s", nfiles - before, dir);
}

int
kt_static_load(void)
{
    if (load_dir(kt_cfg.web_root, "", 0) < 0)
        return -1;
    log_info("web: %zu files, %zu bytes from %s", nfiles, total_bytes, kt_cfg.web_root);
    load_katex();
    return 0;
}

void
kt_static_free(void)
{
    for (size_t i = 0; i < nfiles; i++) {
        free(files[i].path);
        free(files[i].data);
    }
    nfiles = total_bytes = 0;
}

int
kt_static_serve(http_request *req)
{
    if (req->method != HTTP_GET && req->method != HTTP_HEAD)
        return 0;
    const char *path = req->path;
    char with_index[1024];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(with_index) - 16)
        return 0;
    if (path[n - 1] == '/') { /* a folder: its index.html */
        if (snprintf(with_index, sizeof(with_index), "%sindex.html", path) >=
            (int)sizeof(with_index))
            return 0;
        path = with_index;
    }
    if (path[n - 1] != '/') { /* "/student" for the folder "/student/" */
        if (snprintf(with_index, sizeof(with_index), "%s/index.html", path) >=
            (int)sizeof(with_index))
            return 0;
        for (size_t i = 0; i < nfiles; i++)
            if (strcmp(files[i].path, with_index) == 0) {
                char loc[1100];
                snprintf(loc, sizeof(loc), "Location: %s/\r\n", path);
                http_reply_full(req, 301, "text/plain; charset=utf-8", loc, "", 0);
                return 1;
            }
    }
    for (size_t i = 0; i < nfiles; i++) {
        if (strcmp(files[i].path, path) != 0)
            continue;
        http_reply_full(req, 200, files[i].type,
                        "Content-Security-Policy: default-src 'self'; img-src 'self' data:;"
                        " style-src 'self' 'unsafe-inline'; frame-ancestors 'none'\r\n"
                        "Referrer-Policy: no-referrer\r\n",
                        files[i].data, files[i].len);
        return 1;
    }
    return 0;
}

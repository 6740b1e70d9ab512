/*
 * Walking the shared QTI corpus (../shared/corpus/qti) in unit tests: each
 * .xml, .qti and .zip file, read into memory (NUL-terminated), goes to a
 * callback; any other file is reported with buf NULL. The expected/ folder
 * of scoring cases is not walked.
 */
#ifndef KT_TEST_CORPUS_WALK_H
#define KT_TEST_CORPUS_WALK_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define KT_CORPUS_DIR KIEMTRA_SOURCE_DIR "/../shared/corpus/qti"

typedef void (*corpus_file_fn)(void *ctx, const char *path, const char *buf, size_t len,
                               bool zip);

static char *
corpus_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    char *buf = malloc(*len + 1);
    cr_assert_eq(fread(buf, 1, *len, f), *len);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static bool
corpus_ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void
corpus_walk(const char *dir, corpus_file_fn fn, void *ctx)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    cr_assert_not_null(d, "%s", dir);
    while ((e = readdir(d))) {
        char path[4096];
        struct stat st;
        if (e->d_name[0] == '.' || strcmp(e->d_name, "expected") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        cr_assert_eq(stat(path, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            corpus_walk(path, fn, ctx);
            continue;
        }
        bool zip = corpus_ends_with(path, ".zip");
        if (!zip && !corpus_ends_with(path, ".xml") && !corpus_ends_with(path, ".qti")) {
            fn(ctx, path, NULL, 0, false);
            continue;
        }
        size_t len;
        char *buf = corpus_slurp(path, &len);
        fn(ctx, path, buf, len, zip);
        free(buf);
    }
    closedir(d);
}

#endif

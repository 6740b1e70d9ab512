/*
 * QTI import throughput: every file of a corpus directory is read into memory
 * once, then parsed (items, tests, content packages with all their checks)
 * for a number of rounds on one thread. Prints items/s; file I/O and the
 * database are outside the measurement.
 *   bench_qti DIR [ROUNDS]
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <libxml/parser.h>

#include "package.h"
#include "qti.h"

struct blob {
    char *path, *data;
    size_t len;
    int zip;
};

static struct blob *blobs;
static size_t nblobs, cap;

static void
load(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d)
        return;
    while ((e = readdir(d))) {
        char path[4096];
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (stat(path, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            load(path);
            continue;
        }
        size_t n = strlen(path);
        int zip = n > 4 && strcmp(path + n - 4, ".zip") == 0;
        if (!zip && !(n > 4 && strcmp(path + n - 4, ".xml") == 0))
            continue;
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        char *buf = malloc((size_t)st.st_size + 1);
        size_t got = fread(buf, 1, (size_t)st.st_size, f);
        fclose(f);
        if (nblobs == cap) {
            cap = cap ? cap * 2 : 256;
            blobs = realloc(blobs, cap * sizeof(*blobs));
        }
        blobs[nblobs++] = (struct blob){strdup(path), buf, got, zip};
    }
    closedir(d);
}

/* Parses every blob once; returns the number of items imported. */
static long
round_once(void)
{
    long items = 0;
    for (size_t i = 0; i < nblobs; i++) {
        kt_qti_errors errs;
        kt_qti_errors_init(&errs);
        if (blobs[i].zip) {
            kt_qti_package pkg;
            if (kt_qti_package_read(blobs[i].data, blobs[i].len, blobs[i].path, &pkg, &errs) == 0) {
                items += (long)pkg.nitems;
                kt_qti_package_free(&pkg);
            }
        } else {
            kt_qti_doc doc;
            if (kt_qti_parse(blobs[i].data, blobs[i].len, blobs[i].path, &doc, &errs) == 0) {
                items += doc.kind == KT_QTI_DOC_ITEM;
                kt_qti_doc_free(&doc);
            }
        }
        kt_qti_errors_free(&errs);
    }
    return items;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_qti DIR [ROUNDS]\n");
        return 2;
    }
    int rounds = argc > 2 ? atoi(argv[2]) : 20;
    xmlInitParser();
    load(argv[1]);
    size_t bytes = 0;
    for (size_t i = 0; i < nblobs; i++)
        bytes += blobs[i].len;
    round_once(); /* warm-up */
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    long items = 0;
    for (int r = 0; r < rounds; r++)
        items += round_once();
    clock_gettime(CLOCK_MONOTONIC, &b);
    double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("{\"files\":%zu,\"bytes\":%zu,\"rounds\":%d,\"items\":%ld,\"seconds\":%.3f,"
           "\"items_per_second\":%.0f,\"mb_per_second\":%.1f}\n",
           nblobs, bytes, rounds, items, secs, (double)items / secs,
           (double)bytes * rounds / secs / 1e6);
    return 0;
}

/*
 * Connection caps shared by the workers. The total is one atomic counter;
 * connections per address live in a small chained hash table under a mutex
 * (taken once per accept and once per close, never per request). An address
 * leaves the table when its last connection closes.
 */
#include "conncap.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define ADDRESS_BUCKETS 4096

struct address {
    struct address *next;
    int n;
    char text[48];
};

static int max_total, max_per_address;
static int total; /* atomic */
static struct address *buckets[ADDRESS_BUCKETS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void
kt_conncap_configure(int total_cap, int per_address_cap)
{
    max_total = total_cap;
    max_per_address = per_address_cap;
}

static struct address **
bucket(const char *text)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (const char *p = text; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return &buckets[h % ADDRESS_BUCKETS];
}

enum conncap_verdict
kt_conncap_take(const char *text)
{
    if (max_total > 0 && __atomic_add_fetch(&total, 1, __ATOMIC_RELAXED) > max_total) {
        __atomic_sub_fetch(&total, 1, __ATOMIC_RELAXED);
        return CONNCAP_FULL;
    }
    if (max_per_address <= 0)
        return CONNCAP_OK;
    enum conncap_verdict v = CONNCAP_OK;
    pthread_mutex_lock(&lock);
    struct address **b = bucket(text), *a = *b;
    while (a && strcmp(a->text, text) != 0)
        a = a->next;
    if (!a && (a = calloc(1, sizeof(*a)))) {
        snprintf(a->text, sizeof(a->text), "%s", text);
        a->next = *b;
        *b = a;
    }
    if (!a || a->n >= max_per_address)
        v = a ? CONNCAP_ADDRESS_FULL : CONNCAP_FULL;
    else
        a->n++;
    pthread_mutex_unlock(&lock);
    if (v != CONNCAP_OK && max_total > 0)
        __atomic_sub_fetch(&total, 1, __ATOMIC_RELAXED);
    return v;
}

void
kt_conncap_give(const char *text)
{
    if (max_total > 0)
        __atomic_sub_fetch(&total, 1, __ATOMIC_RELAXED);
    if (max_per_address <= 0)
        return;
    pthread_mutex_lock(&lock);
    struct address **p = bucket(text);
    while (*p && strcmp((*p)->text, text) != 0)
        p = &(*p)->next;
    if (*p && --(*p)->n <= 0) {
        struct address *gone = *p;
        *p = gone->next;
        free(gone);
    }
    pthread_mutex_unlock(&lock);
}

int
kt_conncap_busy(void)
{
    return max_total > 0 &&
           (long)__atomic_load_n(&total, __ATOMIC_RELAXED) * 5 > (long)max_total * 4;
}

int
kt_conncap_from_rlimit(int reserve)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 0;
    if (rl.rlim_cur < rl.rlim_max) { /* the soft limit is only a default: take what we may */
        rlim_t soft = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            rl.rlim_cur = soft;
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 10000000)
        rl.rlim_cur = 10000000;
    long n = (long)rl.rlim_cur - reserve;
    return n > 16 ? (int)n : 16;
}

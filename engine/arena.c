/*
 * Region allocator: a chain of malloc'd blocks, each holding zeroed,
 * max-aligned allocations. Parsed QTI items, tests and packages keep all
 * their strings and arrays here so that one call frees a whole model; a
 * scoring session reuses one between attempts (kt_arena_reset).
 */
#include "arena.h"

#include <stdarg.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_SIZE 8192

struct block {
    struct block *next;
    size_t used, size;
    alignas(max_align_t) unsigned char data[];
};

struct kt_arena {
    struct block *head;
};

kt_arena *
kt_arena_new(void)
{
    kt_arena *a = calloc(1, sizeof *a);
    if (!a)
        abort();
    return a;
}

void
kt_arena_free(kt_arena *a)
{
    if (!a)
        return;
    for (struct block *b = a->head, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(a);
}

void
kt_arena_reset(kt_arena *a)
{
    struct block *keep = a->head;
    if (!keep)
        return;
    for (struct block *b = keep->next, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    keep->next = NULL;
    keep->used = 0;
}

void *
kt_arena_alloc(kt_arena *a, size_t size)
{
    size_t align = alignof(max_align_t);
    size = (size + align - 1) / align * align;
    struct block *b = a->head;
    if (!b || b->size - b->used < size) {
        size_t cap = size > BLOCK_SIZE ? size : BLOCK_SIZE;
        if (!(b = malloc(sizeof *b + cap)))
            abort();
        b->size = cap;
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += size;
    memset(p, 0, size);
    return p;
}

char *
kt_arena_strndup(kt_arena *a, const char *s, size_t n)
{
    char *d = kt_arena_alloc(a, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *
kt_arena_strdup(kt_arena *a, const char *s)
{
    return s ? kt_arena_strndup(a, s, strlen(s)) : NULL;
}

char *
kt_arena_printf(kt_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    char *s = kt_arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

void *
kt_arena_push(kt_arena *a, void *array, size_t *n, size_t *cap, size_t elem)
{
    if (*n == *cap) {
        size_t ncap = *cap ? 2 * *cap : 4;
        void *grown = kt_arena_alloc(a, ncap * elem);
        if (*n)
            memcpy(grown, array, *n * elem);
        array = grown;
        *cap = ncap;
    }
    (*n)++;
    return array;
}

void *
kt_grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    *cap = need > 2 * *cap ? need : 2 * *cap;
    if (!(p = realloc(p, *cap * elem)))
        abort();
    return p;
}

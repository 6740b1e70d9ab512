/*
 * Region allocator for parsed models: every string and array of one parsed
 * document lives in one arena and is released with it. Allocation failure
 * aborts, as everywhere else in kiemtra.
 */
#ifndef KT_ARENA_H
#define KT_ARENA_H

#include <stddef.h>

typedef struct kt_arena kt_arena;

kt_arena *kt_arena_new(void);
void kt_arena_free(kt_arena *a);
/* Releases every allocation but keeps the newest block for reuse. */
void kt_arena_reset(kt_arena *a);
void *kt_arena_alloc(kt_arena *a, size_t size);
char *kt_arena_strdup(kt_arena *a, const char *s);
char *kt_arena_strndup(kt_arena *a, const char *s, size_t n);
__attribute__((format(printf, 2, 3))) char *kt_arena_printf(kt_arena *a, const char *fmt, ...);
/* Room for one more element in an arena array of *n elements (capacity *cap). */
void *kt_arena_push(kt_arena *a, void *array, size_t *n, size_t *cap, size_t elem);
/* The same for a malloc'd array: at least need elements of capacity in p,
 * growing *cap by doubling; aborts when memory runs out. */
void *kt_grow(void *p, size_t *cap, size_t need, size_t elem);
/* Appends a zeroed element to arr (count n, capacity cap); yields its address. */
#define KT_ARENA_PUSH(a, arr, n, cap)                                                              \
    ((arr) = kt_arena_push((a), (arr), &(n), &(cap), sizeof *(arr)), &(arr)[(n)-1])

#endif

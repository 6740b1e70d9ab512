/*
 * A deterministic pseudo-random generator (xoshiro256**, seeded through
 * splitmix64) for template processing and the random operators: the same
 * stored seed always gives the same item variant. Not for secrets.
 */
#ifndef KT_PRNG_H
#define KT_PRNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} kt_prng;

void kt_prng_seed(kt_prng *p, uint64_t seed);
uint64_t kt_prng_next(kt_prng *p);
/* Uniform in [0, n) for n > 0, without modulo bias. */
uint64_t kt_prng_below(kt_prng *p, uint64_t n);
/* Uniform in [0, 1). */
double kt_prng_unit(kt_prng *p);

#endif

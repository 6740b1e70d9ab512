/*
 * xoshiro256** (Blackman and Vigna) with splitmix64 seeding: small, fast and
 * reproducible across platforms, which is what a stored template seed needs.
 */
#include "prng.h"

static uint64_t
splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t
rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void
kt_prng_seed(kt_prng *p, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        p->s[i] = splitmix64(&seed);
}

uint64_t
kt_prng_next(kt_prng *p)
{
    uint64_t *s = p->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t
kt_prng_below(kt_prng *p, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n, x;
    do
        x = kt_prng_next(p);
    while (x >= limit);
    return x % n;
}

double
kt_prng_unit(kt_prng *p)
{
    return (double)(kt_prng_next(p) >> 11) * 0x1.0p-53;
}

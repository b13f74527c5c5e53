/* rng.c -- xoshiro256** seeded through splitmix64 (Blackman & Vigna). See LICENSE. */
#include "stratagem/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void sg_rng_init(sg_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

uint64_t sg_rng_u64(sg_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double sg_rng_uniform(sg_rng *r) { return (double)(sg_rng_u64(r) >> 11) * 0x1.0p-53; }

uint64_t sg_rng_below(sg_rng *r, uint64_t n)
{
    /* rejection sampling removes the modulo bias */
    uint64_t lim = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = sg_rng_u64(r); while (x >= lim);
    return x % n;
}

double sg_rng_normal(sg_rng *r)
{
    double u1 = sg_rng_uniform(r), u2 = sg_rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void sg_rng_shuffle_i64(sg_rng *r, int64_t *a, int64_t n)
{
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)sg_rng_below(r, (uint64_t)i + 1);
        int64_t t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

void sg_rng_split(const sg_rng *parent, uint64_t k, sg_rng *child)
{
    uint64_t x = parent->s[0] ^ rotl(parent->s[1], 13) ^ (k * 0xD1342543DE82EF95ull);
    for (int i = 0; i < 4; i++) child->s[i] = splitmix64(&x);
}

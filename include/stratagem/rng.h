/* rng.h -- explicit random number generator state (xoshiro256**).
 *
 * No global generator: every function that needs randomness takes an sg_rng*.
 * The same seed gives the same stream on every platform. */
#ifndef SG_RNG_H
#define SG_RNG_H

#include <stdint.h>

typedef struct sg_rng { uint64_t s[4]; } sg_rng;

#define SG_DEFAULT_SEED 20000u

void sg_rng_init(sg_rng *r, uint64_t seed);   /* seeds through splitmix64 */
uint64_t sg_rng_u64(sg_rng *r);
double sg_rng_uniform(sg_rng *r);              /* [0, 1) with 53 bits */
uint64_t sg_rng_below(sg_rng *r, uint64_t n);  /* uniform in [0, n), n > 0, unbiased */
double sg_rng_normal(sg_rng *r);               /* standard normal (Box-Muller, no caching) */
/* Fisher-Yates shuffle of n int64 indices. */
void sg_rng_shuffle_i64(sg_rng *r, int64_t *a, int64_t n);
/* Derive an independent stream for sub-task 'k' (a fold, a tree, a thread). */
void sg_rng_split(const sg_rng *parent, uint64_t k, sg_rng *child);

#endif

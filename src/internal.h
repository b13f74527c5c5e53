/* internal.h -- macros shared by the library's sources (never installed).
 *
 * SG_INTERNAL marks functions that other library files use but that are not
 * part of the public API: they get ELF "hidden" visibility, as Lua's LUAI_FUNC. */
#ifndef SG_INTERNAL_H
#define SG_INTERNAL_H

#if defined(__GNUC__)
#define SG_INTERNAL __attribute__((visibility("hidden"))) extern
#else
#define SG_INTERNAL extern
#endif

#define SG_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SG_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Ask for the cache line at p ahead of a read (random gathers). */
#if defined(__GNUC__)
#define PREFETCH_READ(p) __builtin_prefetch((p), 0, 3)
#else
#define PREFETCH_READ(p) ((void)(p))
#endif

/* The q-quantile of v[0..n-1] (n > 0), interpolated linearly; sorts v. */
SG_INTERNAL double sg_quantile(double *v, int n, double q);

#endif

/* ope_private.h -- the pieces of ope.c that uplift_plan.c shares (never installed):
 * validating a log, the bootstrap of per-row terms and its percentile summary.
 *
 * N = rows, K = per-row terms, B = bootstrap resamples. */
#ifndef SG_OPE_PRIVATE_H
#define SG_OPE_PRIVATE_H

#include "internal.h"
#include "stratagem/error.h"
#include "stratagem/ope.h"
#include "stratagem/rng.h"

/* Check a log and options as sg_ope_evaluate does (ope.h); SG_EINVAL with a message. */
SG_INTERNAL int sg_ope_validate(const sg_ope_log *g, const sg_ope_options *o, const sg_rng *rng,
                                sg_error *err);

/* The bootstrap of row sums: resample b (0 <= b < B) draws N rows with replacement from
 * the stream sg_rng_split(rng, b) and writes the sums of their K terms to sums[b K ..]
 * (t: (N, K) row-major; sums: (B, K) caller's buffer).  Resamples run in parallel under
 * OpenMP on big jobs, in fixed slots, so the sums do not depend on the thread count.
 * Advances rng by one draw when B > 0. */
SG_INTERNAL void sg_ope_boot_sums(const double *t, int64_t N, int K, int B, sg_rng *rng,
                                  double *sums);

/* Percentile interval (type 7) at 'level' and standard deviation of v[0..n) into e->lo,
 * e->hi, e->se_boot (NaN when n = 0); sorts v. */
SG_INTERNAL void sg_ope_summarise(double *v, int n, double level, sg_ope_estimate *e);

#endif

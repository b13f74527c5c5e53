/* ope.h -- off-policy evaluation: what a new policy would have earned on a logged campaign.
 *
 * A log has, for each row i (customer), the arm a_i the logging policy chose,
 * the outcome y_i observed, and the probability p_i with which the logging policy
 * chose a_i (its propensity).  The target policy is given as probabilities
 * pi[i*A+a] of choosing arm a for row i (a deterministic plan has one 1 per row).
 * With the importance weight w_i = pi[i, a_i] / p_i the estimators of the policy
 * value V = E[y under the target policy] (mean outcome per row) are
 *
 *   IPS    (1/N) sum_i w_i y_i                          (Horvitz-Thompson)
 *   SNIPS  sum_i w_i y_i / sum_i w_i                    (self-normalised; = IPS when
 *                                                        the weights average 1)
 *   DR     (1/N) sum_i [ sum_a pi_ia mu_ia + w_i (y_i - mu_{i,a_i}) ]
 *                                                       (doubly robust, with model
 *                                                        predictions mu)
 *
 * IPS and DR are unbiased when the propensities are right (DR also when the
 * model is right); SNIPS is consistent with a small bias and lower variance.
 * With costs, the policy's expected cost per row, (1/N) sum_i sum_a pi_ia cost_ia,
 * is known exactly and subtracted from each estimate ("net value").
 *
 * Uncertainty: an analytic standard error (the sample standard deviation of the
 * per-row terms over sqrt(N); for SNIPS the delta method), and a bootstrap
 * percentile interval: 'n_boot' resamples of the N rows with replacement, each
 * recomputing all three estimators, quantiles interpolated linearly (Hyndman &
 * Fan type 7).  Resample b draws from sg_rng_split(rng, b), so the result does
 * not depend on the thread count; the caller's rng is advanced by one draw.
 * The effective sample size (sum w)^2 / sum w^2 says how many rows the estimate
 * is really worth: far below N means the policies differ a lot and the
 * interval is wide.
 *
 * Cost: O(N A + n_boot N) time, 4 N doubles of memory plus 3 n_boot.
 * See LICENSE for copyright. */
#ifndef SG_OPE_H
#define SG_OPE_H

#include <stdint.h>

#include "error.h"
#include "rng.h"

typedef struct sg_ope_log {
    int64_t N;                /* rows, >= 1 */
    int A;                    /* arms, >= 1 */
    const int32_t *action;    /* (N) logged arm, in [0, A) */
    const double *outcome;    /* (N) observed outcome (0/1 conversion, revenue, ...) */
    const double *propensity; /* (N) P(logging policy chose action[i] | row i), in (0, 1] */
    const double *pi;         /* (N, A) target policy probabilities, each row sums to 1 */
    const double *mu;         /* (N, A) predicted outcome under each arm, or NULL: no DR */
    const double *cost;       /* (N, A) cost of each arm per row, or NULL */
    const double *arm_cost;   /* (A) cost per arm when 'cost' is NULL, or NULL: no costs */
} sg_ope_log;

typedef struct sg_ope_options {
    int n_boot;      /* bootstrap resamples; 0 = no interval (lo, hi, se_boot NaN); default 1000 */
    double level;    /* interval coverage, in (0, 1); default 0.9 */
} sg_ope_options;

void sg_ope_options_default(sg_ope_options *o);

typedef struct sg_ope_estimate {
    double value;    /* estimated mean outcome per row (net of cost when costs are given) */
    double se;       /* analytic standard error */
    double lo, hi;   /* bootstrap percentile interval at 'level' */
    double se_boot;  /* standard deviation of the bootstrap replicates */
} sg_ope_estimate;

typedef struct sg_ope_result {
    sg_ope_estimate ips, snips, dr;  /* dr: every field NaN when 'mu' is NULL */
    double ess;                      /* effective sample size (sum w)^2 / sum w^2; 0 if all w = 0 */
    double mean_weight;              /* mean w_i (1 in expectation) */
    double max_weight;
    int64_t n_match;                 /* rows where the target policy can take the logged arm */
    double policy_cost;              /* the target policy's mean cost per row (0 without costs) */
    int n_boot;
    double level;
} sg_ope_result;

/* Estimate the target policy's value from the log.  'opt' NULL = defaults;
 * 'rng' is required when opt->n_boot > 0.  When every weight is 0 (the target
 * never takes a logged arm) SNIPS is defined as IPS.  Returns SG_OK, or
 * SG_EINVAL naming the row: N < 1, A < 1, NULL arrays, an action outside
 * [0, A), a propensity outside (0, 1] or NaN, an outcome, prediction or cost
 * that is not finite, a policy probability outside [0, 1] or a policy row not
 * summing to 1 (within 1e-6), bad options; SG_ENOMEM.  'out' is unchanged on
 * failure. */
int sg_ope_evaluate(const sg_ope_log *log, const sg_ope_options *opt, sg_rng *rng,
                    sg_ope_result *out, sg_error *err);

#endif

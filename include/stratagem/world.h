/* world.h -- a semi-synthetic campaign "world" with known truth, on CoIL 2000 covariates.
 *
 * The same truth, arms, logging policy and id scheme as bench/uplift_gen.py
 * (whose docstring is the reference; the random streams differ, the formulas
 * do not).  Arms: 0 control, 1 email, 2 coupon10, 3 coupon20.  With the CoIL
 * columns pp = MKOOPKLA, inc = MINKGEM, car = PPERSAUT, fire = PBRAND,
 * age = MGEMLEEF, single = MFALLEEN, npol = the sum of the 21 counts
 * AWAPART..ABYSTAND and [c] = 1 if c else 0:
 *
 *   z0           = -2.60 + 0.15 (pp - 4) + 0.30 [car >= 6] + 0.08 (fire - 2) + 0.06 (inc - 4)
 *   tau_email    = 0.10 + 0.80 [age <= 1] + 0.40 [single >= 4] + 0.05 (fire - 2) - 1.20 [npol >= 4]
 *   tau_coupon10 = 0.35 + 0.70 [inc <= 3] + 0.35 [car == 0] - 0.80 [npol >= 5]
 *   tau_coupon20 = 0.60 + 1.20 [inc <= 3] + 0.60 [pp <= 3] - 0.60 [inc >= 6] - 0.80 [npol >= 5]
 *   p_arm        = sigmoid(z0 + tau_arm)                               (tau_control = 0)
 *   m            = log(8) + 0.10 (pp - 4) + 0.06 (inc - 4) + 0.15 [car >= 6]
 *   converted ~ Bernoulli(p_arm),  margin = converted * r_arm * exp(m + 0.5 eps), eps ~ N(0,1)
 *   r_arm        = 0.40 control, 0.40 email, 0.30 coupon10, 0.20 coupon20
 *   mu_arm       = E[margin | x, arm] = p_arm r_arm exp(m + 0.125)
 *
 * Logging policy: scores s = (0.5, 0.3 + 0.3 [age <= 1], 0.1 (inc - 4) - 0.2,
 * 0.35 (inc - 4) - 0.4 + 0.3 [pp >= 6]) and pi = 0.05 + 0.80 softmax(s), so
 * every arm has a propensity >= 0.05 and they sum to 1.
 *
 * Customer ids: the k-th copy (k = 0, 1, ...) of a source row with id 'src'
 * gets base + k * SG_WORLD_ID_STRIDE + src; base 0 for a log, 1,000,000 for a
 * planning set.  Source ids must lie in [0, SG_WORLD_ID_STRIDE) (CoIL's are
 * 1..9822) so that the ids of a sample are unique.
 *
 * Random streams: a log with seed S uses sg_rng_split(init(S), 1) and its
 * sub-streams 0 (rows), 1 (arms), 2 (conversions), 3 (basket values); a
 * planning set uses sg_rng_split(init(S), 2).  Outcomes of a plan draw, for
 * customer id c, from sg_rng_split(split(init(S), 3), c): one uniform for the
 * conversion and one normal for the basket, whatever the arm, so two plans
 * scored with the same seed see common random numbers (a customer who converts
 * under control also converts under any arm with a higher p).
 *
 * The library does no file I/O here: covariates come from a loaded sg_table.
 * See LICENSE for copyright. */
#ifndef SG_WORLD_H
#define SG_WORLD_H

#include <stdint.h>

#include "error.h"
#include "rng.h"
#include "table.h"

#define SG_WORLD_N_ARMS 4
#define SG_WORLD_ID_STRIDE 10000          /* id step between copies of one source row */
#define SG_WORLD_CUSTOMER_BASE 1000000    /* id base of planning sets */

enum { SG_WORLD_CONTROL = 0, SG_WORLD_EMAIL = 1, SG_WORLD_COUPON10 = 2, SG_WORLD_COUPON20 = 3 };

/* The covariates the truth uses, as the integer codes of the CoIL file. */
typedef struct sg_world_x {
    double pp, inc, car, fire, age, single, npol;
} sg_world_x;

/* "control", "email", "coupon10", "coupon20" (static); NULL when a is out of range. */
const char *sg_world_arm_label(int a);
/* Index of an arm label, or -1 when unknown. */
int sg_world_arm_index(const char *label);
/* Margin rate r_arm; NaN when a is out of range. */
double sg_world_margin_rate(int a);

/* Covariates of every row of 't' into x (n_rows, [out], caller-allocated).
 * Returns SG_OK; SG_ENOTFOUND when a needed column is missing ("FILE: no column
 * 'MKOOPKLA' (the world needs the CoIL 2000 columns ...)"); SG_EPARSE when one
 * is not a number column or has a missing value (naming file, line and
 * column).  On failure x is unspecified. */
int sg_world_covariates(const sg_table *t, sg_world_x *x, sg_error *err);

/* The truth at x: p[a] = P(convert | x, arm a) and mu[a] = E[margin | x, arm a]
 * (each SG_WORLD_N_ARMS, [out]; either may be NULL). */
void sg_world_truth(const sg_world_x *x, double *p, double *mu);

/* The logging policy's propensities pi[a] at x (SG_WORLD_N_ARMS, [out]). */
void sg_world_logging(const sg_world_x *x, double *pi);

/* One outcome of customer x under arm a from 'rng' (exactly one uniform and one
 * normal are drawn, whatever the arm): *converted in {0, 1}, *margin >= 0. */
void sg_world_draw(const sg_world_x *x, int a, sg_rng *rng, int *converted, double *margin);

/* A sample of n customers from a pool of n_src source rows with ids src_id
 * (n_src): n <= n_src: n distinct rows; n > n_src: every row once (in a random
 * order), then n - n_src rows drawn with replacement.  src[k] (n, [out]) is the
 * pool row of sample row k, id[k] (n, [out]) its customer id (id scheme above,
 * with 'base').  Returns SG_OK; SG_EINVAL when n < 0, n_src < 1, or a source id
 * is outside [0, SG_WORLD_ID_STRIDE); SG_ENOMEM. */
int sg_world_sample(const int64_t *src_id, int64_t n_src, int64_t n, int64_t base, sg_rng *rng,
                    int64_t *src, int64_t *id, sg_error *err);

/* One row of a campaign log. */
typedef struct sg_world_row {
    int64_t src;        /* pool row of the customer */
    int64_t id;         /* customer id (base 0) */
    int arm;            /* arm drawn by the logging policy */
    double propensity;  /* pi of that arm */
    int converted;      /* 0/1 */
    double margin;      /* converted * r_arm * basket value */
} sg_world_row;

/* A campaign log of n rows on the pool x / src_id (n_src), seed 'seed' (see
 * the streams above) into rows (n, [out], caller-allocated).  Errors as
 * sg_world_sample. */
int sg_world_log(const sg_world_x *x, const int64_t *src_id, int64_t n_src, int64_t n,
                 uint64_t seed, sg_world_row *rows, sg_error *err);

/* A planning set of n customers (ids base SG_WORLD_CUSTOMER_BASE) from the pool,
 * seed 'seed': src (n) pool rows and id (n) customer ids, [out].  Errors as
 * sg_world_sample. */
int sg_world_customers(const int64_t *src_id, int64_t n_src, int64_t n, uint64_t seed,
                       int64_t *src, int64_t *id, sg_error *err);

/* What really happened to the n customers of a plan: customer k (covariates
 * x[k], id[k]) got arm[k]; converted[k] and margin[k] ([out], n each) are drawn
 * from the customer's own stream (see above).  Returns SG_OK, or SG_EINVAL for
 * an arm out of range (naming the row). */
int sg_world_outcomes(const sg_world_x *x, const int64_t *id, const int32_t *arm, int64_t n,
                      uint64_t seed, int *converted, double *margin, sg_error *err);

/* The true value of a plan and the best achievable under the same budget. */
typedef struct sg_world_score {
    int64_t n;                          /* customers */
    int64_t count[SG_WORLD_N_ARMS];     /* customers per arm in the plan */
    double effect;        /* sum over the plan of mu_arm - mu_control (true, expected) */
    double conversions;   /* sum over the plan of p_arm - p_control */
    double cost;          /* sum of arm costs */
    double net;           /* effect - cost */
    int feasible;         /* cost <= budget (relative 1e-9) */
    int64_t best_count[SG_WORLD_N_ARMS];
    double best_effect, best_cost, best_net;  /* the best plan (sg_assign_solve on the truth) */
    double best_bound;    /* the solver's upper bound on the best net */
    double share;         /* net / best_net; NaN when best_net <= 0 */
} sg_world_score;

/* Score the plan arm (n; 0 = control) of customers x (n) against the truth, with
 * one cost per arm arm_cost (SG_WORLD_N_ARMS; [0] ignored, others >= 0) and
 * 'budget' (>= 0, INFINITY allowed): the plan's true effect, cost and net, and
 * the best net any plan can reach under the same budget and costs (a
 * multiple-choice knapsack on the true mu, solved by sg_assign_solve).
 * An over-budget plan is scored with feasible = 0.  Returns SG_OK; SG_EINVAL
 * (arm out of range, naming the row; bad cost or budget); SG_ENOMEM. */
int sg_world_score_plan(const sg_world_x *x, int64_t n, const int32_t *arm,
                        const double *arm_cost, double budget, sg_world_score *out,
                        sg_error *err);

#endif

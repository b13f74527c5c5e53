/* assign.h -- budgeted multi-treatment assignment: who gets which action.
 *
 * N customers, A arms.  Arm 0 is the control ("do nothing": gain 0, cost 0);
 * arms 1..A-1 are actions.  gain[i*A+a] is the expected incremental value of
 * giving arm a to customer i and cost[i*A+a] what it costs (or one cost per arm,
 * 'arm_cost').  Column 0 of 'gain' and 'cost' is ignored.  The plan maximises
 *
 *     sum over treated customers of (gain - cost)
 *     subject to   sum of cost <= budget,
 *                  count(arm a) <= cap[a]            (optional, per arm),
 *                  at most one arm per customer,
 *                  an arm only where gain - cost > min_gain,
 *
 * a multiple-choice knapsack problem (MCKP; NP-hard, but with a tight LP).
 *
 * Method (sg_assign_solve).  For each customer the eligible (cost, net value)
 * points and (0, 0) form an upper convex hull; its segments are the
 * "increments" of the LP relaxation (Sinha & Zoltners 1979).  All increments are
 * sorted by efficiency (extra value per extra cost), and taken greedily while
 * they fit: the first that does not fit is the break item, whose efficiency is
 * the budget's Lagrange multiplier lambda.  The greedy keeps scanning and takes
 * later increments that still fit.  Per-arm caps have multipliers mu[a]
 * (prices), set by coordinate descent on the dual at fixed lambda, alternating
 * with the greedy (a few rounds); the greedy never exceeds a cap, so every
 * intermediate plan is feasible.  Then the 'core' customers nearest the break
 * (smallest difference between their best and second-best price-adjusted
 * option) are re-solved exactly by depth-first branch and bound with the rest
 * fixed (Pisinger's core idea), and a last pass spends any money left on the
 * best single upgrades that fit.
 *
 * Optimality bound.  For any lambda >= 0 and mu >= 0 the Lagrangian dual
 *
 *     D(lambda, mu) = sum_i max(0, max_a (gain - cost - lambda cost - mu_a))
 *                     + lambda budget + sum_a mu_a cap_a
 *
 * is an upper bound on the optimum (the max runs over eligible arms).  Without
 * caps, at the break multiplier it equals the LP optimum.  The solver reports the
 * smallest D it evaluated as 'bound', so value <= optimum <= bound and the
 * plan is within 'bound - value' of the best possible plan.  Without caps the
 * greedy alone is within one increment's value of the LP optimum.
 *
 * Cost: O(N A log(N A)) time per round (one in-place sort of the increments;
 * one round without caps, usually 3-10 with binding caps), and at most
 * 20 N A + 20 N bytes besides the inputs.  Ties are broken by index (lower
 * customer, then lower arm first), so results are deterministic.  The solver
 * keeps its running cost <= budget up to a relative 1e-12, so that decimal
 * costs that spend the budget exactly (0.1 + 0.1 + 0.1 for 0.3) fit despite
 * binary rounding; the final feasibility check (and sg_assign_evaluate) allows
 * a relative 1e-9 for the order of summation.
 *
 * See LICENSE for copyright. */
#ifndef SG_ASSIGN_H
#define SG_ASSIGN_H

#include <stdint.h>

#include "error.h"
#include "rng.h"

typedef struct sg_assign_problem {
    int64_t N;              /* customers, >= 0 */
    int A;                  /* arms including control (arm 0), >= 1 */
    const double *gain;     /* (N, A) expected incremental value per arm; column 0 ignored */
    const double *cost;     /* (N, A) cost per customer and arm, >= 0; column 0 ignored; or NULL */
    const double *arm_cost; /* (A) cost per arm (same for every customer) when 'cost' is NULL */
    double budget;          /* >= 0; INFINITY = no budget constraint */
    const int64_t *cap;     /* (A) max customers per arm, -1 = no cap; NULL = no caps;
                             * cap[0] ignored */
    double min_gain;        /* take an arm only where gain - cost > min_gain; >= 0; default 0 */
} sg_assign_problem;

/* Zero the problem and set min_gain 0, budget INFINITY. */
void sg_assign_problem_init(sg_assign_problem *p);

typedef struct sg_assign_options {
    int core;             /* customers re-solved exactly around the break; default 32, 0 = off */
    int64_t max_nodes;    /* branch-and-bound node limit (best plan so far kept); default 200000 */
    int cap_rounds;       /* most greedy rounds with price (mu) updates when caps bind;
                           * default 12 */
    double rtol;          /* caps: stop the rounds once bound - value <= rtol * |bound|, or
                           * after two rounds that improve the plan by less; default 1e-6 */
} sg_assign_options;

void sg_assign_options_default(sg_assign_options *o);

typedef struct sg_assign_stats {
    double value;         /* sum of gain - cost over treated customers */
    double gain;          /* sum of gain over treated customers */
    double cost;          /* sum of cost (<= budget) */
    int64_t n_treated;    /* customers with an arm other than 0 */
    double bound;         /* upper bound on the optimal value (see above); NaN for baselines */
    double lambda;        /* budget multiplier at the bound (0 when the budget does not bind) */
    int rounds;           /* greedy rounds run (1 without binding caps) */
    int64_t nodes;        /* branch-and-bound nodes visited */
} sg_assign_stats;

/* Solve the problem.  arm[i] (N, [out], caller-allocated) receives the chosen
 * arm of customer i, 0 = none.  'opt' NULL means the defaults; 'st' may be NULL.
 * Returns SG_OK; SG_EINVAL for bad input (N < 0, A < 1, both or neither of
 * 'cost' and 'arm_cost', NULL 'gain' or 'arm' with N > 0, a gain that is not
 * finite, a cost that is negative or not finite, a negative or NaN budget,
 * cap < -1, min_gain < 0 or not finite), naming the customer and arm; SG_ENOMEM;
 * SG_EINTERNAL if the plan failed its own feasibility check (a bug).  On
 * failure 'arm' and 'st' are unchanged. */
int sg_assign_solve(const sg_assign_problem *p, const sg_assign_options *opt, int32_t *arm,
                    sg_assign_stats *st, sg_error *err);

/* Baseline "one arm for everyone, within budget": arm 'which' (1..A-1), or the
 * arm whose plan has the largest value when which = -1, given to customers in
 * row order (or in a random order drawn from 'rng' when it is not NULL),
 * skipping those whose cost no longer fits or whose arm is at its cap.  Uses no
 * per-customer targeting: min_gain is not applied.  st->bound is NaN.  Errors
 * as sg_assign_solve, plus SG_EINVAL for 'which' out of range. */
int sg_assign_single_arm(const sg_assign_problem *p, int which, sg_rng *rng, int32_t *arm,
                         sg_assign_stats *st, sg_error *err);

/* Baseline "random within budget": customers in a random order each get an arm
 * drawn uniformly from 1..A-1; a customer whose draw does not fit the budget or
 * hits its cap gets 0.  min_gain is not applied.  'rng' is required.  Errors as
 * sg_assign_solve. */
int sg_assign_random(const sg_assign_problem *p, sg_rng *rng, int32_t *arm, sg_assign_stats *st,
                     sg_error *err);

/* Totals of any assignment 'arm' (N): value, gain, cost, n_treated into 'st'
 * (bound NaN), and customers per arm into 'count' (A, NULL allowed).  Returns
 * SG_OK if the assignment is feasible (budget within rounding, caps, one valid
 * arm each, an arm only where gain - cost > min_gain unless 'ignore_min_gain'),
 * SG_EINVAL (problem invalid, or the assignment infeasible, saying why). */
int sg_assign_evaluate(const sg_assign_problem *p, const int32_t *arm, int ignore_min_gain,
                       sg_assign_stats *st, int64_t *count, sg_error *err);

#endif

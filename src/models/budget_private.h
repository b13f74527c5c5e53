/* budget_private.h -- the media-mix model's layout, shared by budget.c (fit,
 * files, prediction), budget_plan.c (plans) and budget_world.c (known truth). */
#ifndef SG_BUDGET_PRIVATE_H
#define SG_BUDGET_PRIVATE_H

#include "../internal.h"
#include "stratagem/budget.h"

#define SG_BUDGET_HARMONICS 2   /* sin/cos pairs of the seasonal cycle */

/* Draw index 0 is the point fit; 1..D the bootstrap replicates. */
struct sg_budget {
    char *period, *outcome;     /* role column names */
    int C, J, season, trend;    /* channels, controls, seasonal cycle, trend 0/1 */
    int P;                      /* coefficients: intercept, trend, seasonal, controls, channels */
    int T, D;                   /* training periods, bootstrap draws */
    char **chan, **ctrl;        /* (C), (J) names */
    double *ctrl_mean, *ctrl_sd;    /* (J) standardisation of the controls */
    double *xbar, *xmin, *xmax, *xsum;  /* (C) mean, least, most and total spend per period */
    double first_period, last_period, step;  /* period values; the step between them */
    double *lam, *alpha, *k;    /* (D+1) x C curves */
    double *beta;               /* (D+1) x P coefficients */
    double *state;              /* (D+1) x C adstock after the last training period */
    double *resid;              /* (T) residuals of the point fit */
    double sigma;               /* their sd (degrees of freedom counted) */
    sg_budget_channel *sum;     /* (C) per-channel summary on the training periods */
    sg_budget_report rep;
    uint64_t seed;
};

/* hill(a) = a^alpha / (a^alpha + k^alpha); 0 for a <= 0. */
SG_INTERNAL double sg_budget_hill(double a, double alpha, double k);

/* Channel spends x[0..n) scaled by 'scale' through the carry-over (from the
 * steady state at scale x xbar) and the hill curve: col (n, or NULL) receives
 * each period's curve value, *sum (or NULL) their sum; returns the adstock
 * after the last period. */
SG_INTERNAL double sg_budget_adstock(const double *x, int n, double xbar, double scale,
                                     double lam, double alpha, double k, double *col,
                                     double *sum);

/* The effect of spending x per period for 'weeks' periods from adstock 'state',
 * against spending nothing, the carry-over after the horizon included (until
 * lambda^n < 1e-3, at most 104 periods). */
SG_INTERNAL double sg_budget_curve_effect(double lam, double alpha, double k, double beta,
                                          double state, int weeks, double x);

/* The multiple-choice knapsack of a budget split: channel c takes g units of
 * the grid (glo[c] <= g <= ghi[c]) worth val[c * (steps + 1) + g]; the units
 * sum to at most 'steps'.  g_out (C) receives the best choice (ties: less
 * spend); returns its value, or -INFINITY when the minimums do not fit.
 * Exact dynamic programming, O(C steps^2). */
SG_INTERNAL double sg_budget_knapsack(int C, int steps, const double *val, const int *glo,
                                      const int *ghi, int *g_out);

/* The per-period bounds in grid units: glo/ghi (C) from min/max per period,
 * horizon 'weeks' and a grid unit of budget / steps. */
SG_INTERNAL void sg_budget_grid_bounds(int C, const double *min_week, const double *max_week,
                                       int weeks, double budget, int steps, int *glo, int *ghi);

#endif

/* budget.h -- task 'budget': a media-mix model of a weekly (or daily) series of
 * channel spends and an outcome, and budget splits across the channels with an
 * honest forecast.
 *
 * The model, one row per period t (rows in period order):
 *
 *   y[t] = b0 [+ b_trend * t] + sum_k seasonal terms + sum_j g[j] * z[j,t]
 *        + sum over channels c of beta[c] * hill_c(adstock_c[t]) + noise
 *
 *   adstock_c[t] = x[c,t] + lambda[c] * adstock_c[t-1]     (carry-over; before
 *                  the first period the series is taken as steady at the mean spend)
 *   hill_c(a)    = a^alpha / (a^alpha + k^alpha)            (saturation, in [0, 1))
 *
 * x: spend in the period; z: control columns (price, distribution, holidays);
 * the seasonal terms are sin and cos of 2 pi h t / season for h = 1, 2.
 * beta[c] >= 0 is the channel's largest weekly effect (at saturation); k the
 * adstock at half of it.  For each channel lambda (0 to 0.8), alpha (1 or 2:
 * concave or S-shaped) and k (0.25 to 4 times the channel's mean adstock) are
 * chosen from a grid by blocked cross-validation (contiguous folds of periods),
 * channel by channel until nothing changes; the linear terms are least squares
 * with the media coefficients held non-negative and a normal prior (mean 0,
 * sd 2) on each channel's return on spend, so that a channel the data cannot
 * tell apart from the baseline does not take the intercept's credit.
 *
 * Uncertainty: a moving-block bootstrap of the residuals (blocks keep the
 * series' autocorrelation); each replicate chooses the channels' curves again
 * and refits, so the draws carry the uncertainty of the curves' shapes, not only
 * of the coefficients.  Predictions add a residual drawn from the fit's own.
 *
 * This is observational data: spends were not randomised.  The controls and the
 * seasonal terms remove what they can see; a channel whose spend follows demand
 * (search) is credited with some of that demand.  See docs/budget.md. */
#ifndef SG_BUDGET_H
#define SG_BUDGET_H

#include <stdint.h>

#include "error.h"
#include "table.h"

typedef struct sg_budget sg_budget;

typedef struct sg_budget_opts {
    const char *period;              /* period column, a number or date (required) */
    const char *outcome;             /* outcome column (required) */
    const char *const *channels;     /* spend columns (>= 0), n_channels of them */
    int n_channels;
    const char *const *controls;     /* numeric control columns, or NULL */
    int n_controls;
    int season;                      /* periods in a seasonal cycle (52 weekly); 0: none */
    int trend;                       /* 1: a linear trend (extrapolated: use with care) */
    int folds;                       /* blocked cross-validation folds (default 5) */
    int n_draws;                     /* bootstrap replicates kept (default 100) */
    uint64_t seed;
    void (*on_progress)(void *ud, const char *stage, int done, int total);
    void *ud;
} sg_budget_opts;

void sg_budget_opts_default(sg_budget_opts *o);

typedef struct sg_budget_report {
    int n_periods;
    double cv_rmse;                  /* blocked cross-validation RMSE, chosen curves */
    double cv_rmse_base;             /* the same without the channels */
    double rmse;                     /* in-sample, final fit */
    double r2;                       /* in-sample */
} sg_budget_report;

/* Train.  Errors: SG_ENOTFOUND (a column), SG_EPARSE (a missing or negative
 * spend, a missing outcome, control or period, periods not strictly
 * increasing: naming file, line, column and value), SG_EINVAL (fewer than
 * 4 x (terms + 2) periods, no channel, a channel that never spends, bad
 * options), SG_ENUMERIC, SG_ENOMEM. */
int sg_budget_train(sg_budget **out, const sg_table *t, const sg_budget_opts *o,
                    sg_budget_report *rep, sg_error *err);

int sg_budget_save(const sg_budget *m, const char *path, sg_error *err);
int sg_budget_load(sg_budget **out, const char *path, sg_error *err);
void sg_budget_free(sg_budget *m);

int sg_budget_n_channels(const sg_budget *m);
int sg_budget_n_draws(const sg_budget *m);
const char *sg_budget_channel_name(const sg_budget *m, int c);  /* borrowed */
int sg_budget_channel_index(const sg_budget *m, const char *name); /* -1 if unknown */
/* The role columns ("period", "outcome"); borrowed. */
const char *sg_budget_role(const sg_budget *m, const char *role);
int sg_budget_n_controls(const sg_budget *m);
const char *sg_budget_control_name(const sg_budget *m, int j);

/* A channel as fitted on the training periods: the point fit's curve; the
 * contribution and returns are the bootstrap draws' mean (what plans use),
 * _lo/_hi their 90% interval. */
typedef struct sg_budget_channel {
    double lambda, alpha, k, beta;   /* the point fit's curve */
    double spend, spend_week;        /* total, mean per period */
    double spend_week_min, spend_week_max;   /* least and most in a period */
    double contribution, contribution_lo, contribution_hi;  /* sum of beta * hill */
    double roi, roi_lo, roi_hi;      /* contribution / spend */
    double mroi, mroi_lo, mroi_hi;   /* marginal: the next 1% of spend, per unit spent */
} sg_budget_channel;
void sg_budget_channel_get(const sg_budget *m, int c, sg_budget_channel *out);

/* Expected outcome for each row of 't', which continues the training series:
 * its periods come after the last training period, in order, with the
 * model's channel and control columns.  mean, lo, hi (n_rows each; lo/hi may
 * be NULL): the point prediction and a 90% prediction interval (draws plus a
 * residual).  Errors as in training for bad values; SG_EINVAL for a period not
 * after the training ones. */
int sg_budget_predict(const sg_budget *m, const sg_table *t, uint64_t seed, double *mean,
                      double *lo, double *hi, sg_error *err);

typedef struct sg_budget_eval {
    int n;                           /* periods */
    double *period, *actual, *pred, *lo, *hi;   /* (n) each, owned */
    double rmse, mape;               /* mape over periods with actual != 0 */
    int covered;                     /* periods inside the 90% interval */
    double total, total_pred, total_lo, total_hi;  /* sum over the periods */
} sg_budget_eval;
int sg_budget_evaluate(const sg_budget *m, const sg_table *t, uint64_t seed,
                       sg_budget_eval *ev, sg_error *err);
void sg_budget_eval_deinit(sg_budget_eval *ev);

/* ---- plans ---- */

/* A budget split for the 'weeks' periods after the training data: each
 * channel spends a constant amount per period (within [min, max]), the total
 * is at most 'budget'.  Value: the outcome the spend adds over spending
 * nothing in those periods, its carry-over after them included, averaged over
 * the bootstrap draws.  With margin > 0 the plan maximises margin * effect -
 * spend (and may leave budget unspent); with margin 0, the effect (the budget
 * is spent up to the caps). */
typedef struct sg_budget_plan_opts {
    double budget;                   /* total over the horizon (> 0) */
    int weeks;                       /* horizon in periods (default 13) */
    double margin;                   /* money per unit of outcome; 0: maximise the outcome */
    const double *min_week, *max_week;  /* (n_channels) per-period bounds, NaN = default;
                                           NULL = defaults: the least and the most the
                                           channel spent in a training period (the curves
                                           are not known outside) */
    int steps;                       /* budget grid (default 400) */
} sg_budget_plan_opts;

void sg_budget_plan_opts_default(sg_budget_plan_opts *o);

typedef struct sg_budget_value {
    double spend;                    /* total over the horizon */
    double effect, effect_lo, effect_hi;   /* incremental outcome, 90% interval */
    double net, net_lo, net_hi;      /* margin * effect - spend (NaN with margin 0) */
} sg_budget_value;

typedef struct sg_budget_plan {
    int n_channels, weeks;
    double *week_spend;              /* (n_channels) per period, owned */
    double *effect, *effect_lo, *effect_hi;   /* (n_channels) each channel's effect */
    double *mroi;                    /* (n_channels) marginal return at the plan */
    double *min_week, *max_week;     /* (n_channels) the bounds used */
    double *mix_week;                /* (n_channels) the current mix's split */
    sg_budget_value forecast;        /* corrected for the optimiser's curse */
    double optimism;                 /* what the correction took off the effect */
    sg_budget_value nothing, current_mix, equal_split;   /* baselines */
} sg_budget_plan;

/* Errors: SG_EINVAL (bad options, min above max, a budget below the sum of
 * the minimums), SG_ENOMEM. */
int sg_budget_plan_make(const sg_budget *m, const sg_budget_plan_opts *o, sg_budget_plan *p,
                        sg_error *err);
void sg_budget_plan_deinit(sg_budget_plan *p);

/* The effect of spending week_spend[c] per period for 'weeks' periods after
 * the training data (carry-over included), under the point fit (d = -1) or
 * bootstrap draw d. */
double sg_budget_effect(const sg_budget *m, int d, int weeks, const double *week_spend);

/* ---- a world with known truth (bench, demo, tests) ---- */

/* Channels tv (flighted bursts, S-shaped, long carry-over), search (follows
 * demand: confounded), social and display (weak), with curves drawn around
 * fixed centres from 'seed'; the outcome is the baseline series (real weekly
 * sales, scaled to a mean of 'level') plus the channels' true effects plus
 * noise.  spend (4 x n, channel-major), y (n) and queries (n: an index of
 * demand, the baseline with 5% noise, as a search-volume series would be; the
 * control that keeps search's effect apart from the demand it follows) are
 * filled; truth receives the curves and the adstock states after the last
 * period. */
typedef struct sg_budget_truth {
    int n_channels;                  /* 4 */
    const char *name[4];
    double lambda[4], alpha[4], k[4], beta[4];
    double state[4];                 /* adstock after the last period */
} sg_budget_truth;

int sg_budget_world(const double *baseline, int n, double level, uint64_t seed, double *spend,
                    double *y, double *queries, sg_budget_truth *truth, sg_error *err);

/* The true effect of a plan under 'truth' (the model's definition of effect,
 * tail included). */
double sg_budget_truth_effect(const sg_budget_truth *truth, int weeks, const double *week_spend);

/* The best plan under 'truth' for the options' budget, horizon, margin and grid
 * and the bounds min_week/max_week (n_channels each, no NaN): week_spend
 * (n_channels) receives it; returns its objective (effect, or margin * effect
 * - spend). */
double sg_budget_truth_best(const sg_budget_truth *truth, const sg_budget_plan_opts *o,
                            const double *min_week, const double *max_week, double *week_spend);

#endif

/* promo.h -- task 'promo': price and promotion response of a store x product x
 * week panel, and promotion plans with an honest forecast.
 *
 * The model (one regression per product p, on log units):
 *
 *   log units[s,p,t] = a[s,p] + w[p,t]
 *                    + (e[p] + d[s,p]) * log price[s,p,t]        own price
 *                    + sum over q != p of c[p,q] * log price[s,q,t] other prices
 *                    + g[p] * deal[s,p,t] + f[p] * feature[s,p,t] + noise
 *
 * a: store effects; w: week effects (a ridge penalty keeps them near zero, the
 * store effects carry the level); e: the product's own-price elasticity, d the
 * store's deviation from it, shrunk towards zero by a ridge penalty chosen on
 * the last weeks of the panel (time-ordered validation); c: cross-price
 * elasticities (substitution between products in a store), where a product has
 * no row in a store-week its store's mean log price stands in.  Week effects
 * absorb the chain's common shocks, so prices are compared within a week.
 *
 * Uncertainty: the coefficients' covariance is clustered by week (a week's
 * rows share shocks), A^-1 (sum_t g_t g_t^T) A^-1 with A the penalised normal
 * matrix and g_t a week's score; 'n_draws' coefficient vectors are drawn from
 * that normal and kept in the model.  A week beyond the panel gets the mean
 * week effect of the last 'recent_weeks' weeks (chosen on the validation
 * weeks), and in the draws a shock from the panel's own history of week
 * effects against their trailing mean, centred so that it spreads a week's
 * sales without moving their expectation.
 *
 * Units are the exponential of the prediction times the smearing factor
 * (Duan 1983: the mean of exp(residual)), so they are means, not medians.
 *
 * This is observational data: prices and promotions were not randomised.
 * Week and store effects remove the common confounders, not all of them. */
#ifndef SG_PROMO_H
#define SG_PROMO_H

#include <stdint.h>

#include "error.h"
#include "table.h"

typedef struct sg_promo sg_promo;

typedef struct sg_promo_opts {
    const char *store, *product, *week;  /* required columns; week: a number or date */
    const char *units;          /* units sold (> 0), or NULL when 'log_units' is given */
    const char *log_units;      /* log of units sold, the alternative */
    const char *price;          /* the row's own price (> 0), required */
    const char *deal;           /* in-store deal 0/1, or NULL */
    const char *feature;        /* feature advertising in [0, 1], or NULL */
    const char *cost;           /* unit cost, or NULL: kept by name for evaluation */
    int cross;                  /* 1 (default): cross-price terms */
    double week_l2;             /* ridge on week effects (default 1) */
    const double *slope_grid;   /* ridge values tried for the store price slopes */
    int n_slope_grid;           /* 0: the default grid 0.1, 1, 10, 100, 1000 */
    int valid_weeks;            /* weeks held out at the end to choose it (default 12) */
    int recent_weeks;           /* a future week's level: the mean effect of the last N
                                   weeks; 0 (default): chosen among 4, 8, 13 and 26 on
                                   the validation weeks, with the penalty */
    int n_draws;                /* coefficient draws kept (default 200) */
    uint64_t seed;
    void (*on_progress)(void *ud, const char *stage, int done, int total);
    void *ud;
} sg_promo_opts;

void sg_promo_opts_default(sg_promo_opts *o);

/* What training saw and chose. */
typedef struct sg_promo_report {
    int64_t n_rows;             /* rows used */
    int n_stores, n_products, n_weeks;
    double slope_l2;            /* chosen ridge for the store price slopes */
    int recent_weeks;           /* chosen window of a future week's level */
    double valid_rmse;          /* log units on the validation weeks, at that ridge */
    double valid_rmse_flat;     /* same, predicted by each store's mean log units alone */
    double rmse;                /* in-sample log units, final fit */
} sg_promo_report;

/* Train.  Errors: SG_ENOTFOUND (a role column), SG_EPARSE (a missing or
 * non-positive price or units, a deal not 0/1, a feature outside [0,1], a text
 * week: naming file, line, column and value; the same store, product and week
 * twice), SG_EINVAL (fewer than 2 stores or 'valid_weeks' + 2 weeks, a
 * product with under 20 rows, more than 100 million stores x weeks x
 * products, bad options), SG_ENUMERIC, SG_ENOMEM. */
int sg_promo_train(sg_promo **out, const sg_table *t, const sg_promo_opts *o,
                   sg_promo_report *rep, sg_error *err);

int sg_promo_save(const sg_promo *m, const char *path, sg_error *err);
int sg_promo_load(sg_promo **out, const char *path, sg_error *err);
void sg_promo_free(sg_promo *m);

/* Names and sizes. */
int sg_promo_n_stores(const sg_promo *m);
int sg_promo_n_products(const sg_promo *m);
const char *sg_promo_store_label(const sg_promo *m, int s);    /* borrowed */
const char *sg_promo_product_label(const sg_promo *m, int p);  /* borrowed */
int sg_promo_store_index(const sg_promo *m, const char *label);   /* -1 if unknown */
int sg_promo_product_index(const sg_promo *m, const char *label); /* -1 if unknown */
/* The role column names the model was trained with (borrowed; NULL if none). */
const char *sg_promo_role(const sg_promo *m, const char *role);  /* "store", "price", ... */

/* A product's coefficients: own-price elasticity, deal and feature effects (log
 * points), their standard errors, and the cross elasticity to product q
 * (NaN without cross terms).  The store's own elasticity is e + d[s]. */
typedef struct sg_promo_coef {
    double elasticity, elasticity_se;
    double deal, deal_se;
    double feature, feature_se;
    double store_sd;            /* sd of the store deviations d[s] */
    double sigma;               /* residual sd of log units */
} sg_promo_coef;
void sg_promo_coef_get(const sg_promo *m, int p, sg_promo_coef *c);
double sg_promo_cross(const sg_promo *m, int p, int q);
double sg_promo_store_elasticity(const sg_promo *m, int s, int p);

/* ---- predicting a panel ---- */

/* Expected units for each row of 't' (a panel with the model's role columns;
 * rows of weeks the model saw use their week effect, later weeks the recent
 * level).  out (n_rows).  *n_unseen (NULL allowed): rows whose store sold the
 * product in no training week (the product's mean store effect is used).
 * Errors as in training for bad values; SG_ENOTFOUND for a product the model
 * does not know, naming the row. */
int sg_promo_predict(const sg_promo *m, const sg_table *t, double *out, int64_t *n_unseen,
                     sg_error *err);

/* Held-out check: the panel's weeks, each week's total units, revenue and
 * (when the model has a cost column and 't' has it) gross profit, forecast
 * with a 90% interval from the draws (coefficients, the week shock, row noise)
 * against what happened. */
typedef struct sg_promo_week_check {
    double week;
    int64_t n_rows;
    double units, units_hat, units_lo, units_hi;
    double revenue, revenue_hat, revenue_lo, revenue_hi;
    double profit, profit_hat, profit_lo, profit_hi;  /* NaN without costs */
} sg_promo_week_check;

typedef struct sg_promo_eval {
    int64_t n_rows;
    double rmse_log;            /* log units, row level */
    double mae_log;
    int n_weeks;
    sg_promo_week_check *weeks; /* (n_weeks), owned: sg_promo_eval_deinit */
    int covered_units, covered_revenue, covered_profit;  /* weeks inside the interval */
    double ratio_units, ratio_revenue, ratio_profit;     /* sum forecast / sum actual */
} sg_promo_eval;

int sg_promo_evaluate(const sg_promo *m, const sg_table *t, uint64_t seed, sg_promo_eval *ev,
                      sg_error *err);
void sg_promo_eval_deinit(sg_promo_eval *ev);

/* ---- plans ---- */

/* One store x product to plan for a coming week: its regular price and unit cost. */
typedef struct sg_promo_item {
    int store, product;         /* model indices (sg_promo_*_index) */
    double price, cost;
} sg_promo_item;

typedef struct sg_promo_plan_opts {
    const double *changes;      /* price changes offered, as fractions (-0.1 = 10% off);
                                   0 (the regular price) is always offered */
    int n_changes;
    double deal_cost;           /* fee of a deal for one store x product; < 0: not offered */
    double feature_cost;        /* fee of a feature ad; < 0: not offered */
    double budget;              /* promotion spend cap (fees + discount money); < 0: none */
    int max_promos;             /* per store, products with any promotion; 0: no limit */
    int extrapolate;            /* 1: allow prices outside the store's training range */
    int n_draws;                /* draws used for the forecast (<= the model's; 0: all) */
    uint64_t seed;
} sg_promo_plan_opts;

void sg_promo_plan_opts_default(sg_promo_plan_opts *o);

/* The choice for one item, and its point prediction. */
typedef struct sg_promo_choice {
    double price;               /* the planned price */
    double change;              /* its change from the regular price (fraction) */
    int deal, feature;
    double units, profit;       /* expected, with the fees taken off the profit */
    double spend;               /* fees + discount money (units x regular price x discount) */
    double base_units, base_profit;  /* at the regular price, no promotion */
} sg_promo_choice;

/* Totals of a plan: point forecast (corrected for the optimiser's curse) and
 * the 90% interval over the draws. */
typedef struct sg_promo_total {
    double profit, profit_lo, profit_hi;
    double units, revenue, spend;
} sg_promo_total;

typedef struct sg_promo_forecast {
    sg_promo_total plan;        /* the plan */
    sg_promo_total base;        /* regular prices, no promotion */
    double lift, lift_lo, lift_hi;   /* plan profit - base profit, 90% interval */
    double lift_naive;          /* the same from the point estimate, uncorrected */
    double optimism;            /* the optimiser's curse taken off (mean over draws) */
    double lambda;              /* the budget's multiplier */
    int64_t n_promoted, n_changed;   /* items with a promotion / a price change */
    int64_t n_out_of_range;     /* options not offered: price outside the training range */
    int n_draws;
} sg_promo_forecast;

/* Choose, for each item, a price change and whether to run a deal and a
 * feature, maximising the expected gross profit of all items (cross-price
 * effects included: a store's products are chosen together by coordinate
 * ascent) subject to the budget (a Lagrange multiplier on spend, found by
 * bisection, then the stores' next-best plans added while they fit) and the
 * per-store promotion limit.  Items of a store and product given twice, an
 * unknown index or a non-positive price are SG_EINVAL.  out (n). */
int sg_promo_plan(const sg_promo *m, const sg_promo_item *items, int64_t n,
                  const sg_promo_plan_opts *o, sg_promo_choice *out, sg_promo_forecast *fc,
                  sg_error *err);

#endif

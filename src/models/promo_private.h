/* promo_private.h -- the promo model's insides, shared by promo.c (fitting,
 * files) and strategy/promo_plan.c (plans, held-out checks).  Never installed. */
#ifndef SG_PROMO_PRIVATE_H
#define SG_PROMO_PRIVATE_H

#include <stdint.h>

#include "../internal.h"
#include "stratagem/promo.h"

enum {
    SG_PROMO_STORE, SG_PROMO_PRODUCT, SG_PROMO_WEEK, SG_PROMO_UNITS, SG_PROMO_LOG_UNITS,
    SG_PROMO_PRICE, SG_PROMO_DEAL, SG_PROMO_FEATURE, SG_PROMO_COST, SG_PROMO_N_ROLES
};

struct sg_promo {
    char *role[SG_PROMO_N_ROLES];   /* column names (NULL when not used) */
    int S, P, W;                    /* stores, products, training weeks */
    char **store_lab, **prod_lab;   /* sorted labels (S), (P) */
    double *weeks;                  /* (W) the training weeks' values, ascending */
    int cross, has_deal, has_feat;
    int K;                          /* coefficients per product; layout in promo.c */
    int off_deal, off_feat, off_slope, off_week;
    double week_l2, slope_l2;
    int recent_weeks;
    uint64_t seed;
    double *beta;                   /* (P, K) */
    double *se;                     /* (P, K) week-clustered standard errors */
    int n_draws;
    double *draws;                  /* (P, n_draws, K) */
    double *sigma, *smear;          /* (P) residual sd; mean exp(residual) */
    double *center;                 /* (P) mean log price */
    double *mean_lp;                /* (S, P) store's mean log price; NaN when unseen */
    double *lp_min, *lp_max;        /* (S, P) range of log prices seen */
    unsigned char *seen;            /* (S, P) the store sold the product */
    double *shock;                  /* (P, W) week effect - mean of the weeks before; NaN early */
};

/* A panel read against roles: indices, log prices, log units. */
typedef struct sg_promo_panel {
    int64_t n;
    int S, P, W;                    /* W: the table's own distinct weeks */
    int32_t *store, *prod, *wk;     /* (n); store -1 = unknown to the model */
    double *lp, *y, *cost;          /* (n) log price, log units (NaN when not read), cost */
    float *deal, *feat;             /* (n) */
    double *weeks;                  /* (W) ascending */
    double *price_sw;               /* (S, W, P) log prices of a store-week, NaN = no row */
    int has_cost;
} sg_promo_panel;

SG_INTERNAL int sg_promo_panel_read(sg_promo_panel *pn, const sg_table *t, char *const *roles,
                                    int need_y, const sg_promo *m, char ***store_lab,
                                    int *n_store, char ***prod_lab, int *n_prod, sg_error *err);
SG_INTERNAL void sg_promo_panel_deinit(sg_promo_panel *pn);

/* Linear prediction (log units, before smearing) of product p in store s from
 * coefficients th: log price lp, the store-week's log prices lpq (P, NaN where
 * none; NULL: the store's means), week index wi of the model (-1: 'level'). */
SG_INTERNAL double sg_promo_linpred(const sg_promo *m, const double *th, int p, int s,
                                    double lp, const double *lpq, double deal, double feat,
                                    int wi, double level);
/* qsort order of doubles. */
SG_INTERNAL int sg_promo_cmp_double(const void *a, const void *b);

/* The mean of the last recent_weeks week effects of th (a future week's level). */
SG_INTERNAL double sg_promo_recent(const sg_promo *m, const double *th);

#endif

/* response.h -- task 'response': predict conversion (0/1) or a value per row.
 *
 * A response model is a feature schema (encode.h) fitted on the training rows
 * plus one learner: gradient-boosted trees (gbdt.h) or a linear model
 * (linear.h: logistic for binary targets, ridge for numbers).  Training can
 * cross-validate a grid of settings, pick the best by the cross-validated
 * metric (AUC for binary targets, RMSE for numbers) and refit on all labelled
 * rows.  Rows whose target is missing are not used (and counted). */
#ifndef SG_RESPONSE_H
#define SG_RESPONSE_H

#include <stdint.h>

#include "error.h"
#include "gbdt.h"
#include "linear.h"
#include "table.h"

typedef struct sg_response sg_response;

enum { SG_LEARNER_GBDT = 0, SG_LEARNER_LINEAR = 1 };
enum { SG_OBJECTIVE_AUTO = 0, SG_OBJECTIVE_BINARY = 1, SG_OBJECTIVE_REGRESSION = 2 };

typedef struct sg_response_opts {
    const char *target;             /* target column (required) */
    const char *id;                 /* id column or NULL (never a feature) */
    const char *const *ignore;      /* NULL-terminated columns that are not features, or NULL */
    const char *sums;               /* derived features, sums of columns (sg_schema_add_sums) */
    int learner;                    /* SG_LEARNER_GBDT (default) or SG_LEARNER_LINEAR */
    int objective;                  /* AUTO: binary when every target value is 0 or 1 */
    int cv_folds;                   /* k-fold cross-validation; 0 = none (default 0) */
    const char *grid;               /* "depth=3,5;lr=0.05,0.1" or NULL; needs cv_folds >= 2 */
    double top_frac;                /* the "hits in the top" metric uses this share; default 0.2 */
    double valid_frac;              /* early-stopping split when cv_folds = 0; default 0.2 */
    sg_gbdt_params gbdt;            /* base settings (grid values override) */
    sg_linear_params linear;
    uint64_t seed;
    /* called after each fold and setting: stage text, done, total (may be NULL) */
    void (*on_progress)(void *ud, const char *stage, int done, int total);
    void *ud;
} sg_response_opts;

void sg_response_opts_default(sg_response_opts *o);

/* One cross-validated setting. */
typedef struct sg_cv_result {
    char setting[160];      /* "depth=3 lr=0.05" ("default" when no grid) */
    double auc, auc_sd;     /* binary: mean and sd over folds of the held-out AUC */
    double logloss;         /* binary: mean held-out log-loss */
    double top_precision;   /* binary: mean share of positives among the top 'top_frac' rows */
    double top_precision_sd; /* binary: its sd over folds */
    double rmse, r2;        /* regression */
    double n_trees;         /* gbdt with early stopping: mean best round over folds */
} sg_cv_result;

typedef struct sg_response_report {
    int64_t n_rows;             /* rows in the table */
    int64_t n_used;             /* rows with a target */
    int64_t n_missing_target;   /* rows skipped */
    double base_rate;           /* mean target over used rows */
    int objective;              /* resolved objective */
    int n_results;              /* settings tried */
    sg_cv_result *results;      /* (n_results), owned: sg_response_report_deinit */
    int chosen;                 /* index into results of the chosen setting, -1 without CV */
    int n_features;             /* encoded width */
    int n_trees;                /* final model's trees (gbdt) */
} sg_response_report;

void sg_response_report_deinit(sg_response_report *r);

/* Train on 't'.  'rep' (NULL allowed) receives what happened; deinit it even on
 * failure.  Errors: SG_ENOTFOUND (target column), SG_EPARSE (target not 0/1 for
 * a binary objective, naming file:line and value; a text target), SG_EINVAL
 * (bad grid, too few rows or one class only), SG_ENUMERIC, SG_ENOMEM. */
int sg_response_train(sg_response **out, const sg_table *t, const sg_response_opts *o,
                      sg_response_report *rep, sg_error *err);

/* Scores for rows[0..n) of t (rows NULL = all): probabilities or values. */
int sg_response_predict(const sg_response *m, const sg_table *t, const int64_t *rows, int64_t n,
                        double *out, sg_error *err);

int sg_response_save(const sg_response *m, const char *path, sg_error *err);
int sg_response_load(sg_response **out, const char *path, sg_error *err);
void sg_response_free(sg_response *m);

int sg_response_objective(const sg_response *m);
int sg_response_learner(const sg_response *m);
const char *sg_response_target(const sg_response *m);     /* borrowed */
const char *sg_response_id(const sg_response *m);         /* borrowed, NULL if none */
const char *sg_response_setting(const sg_response *m);    /* the chosen setting text; borrowed */
uint64_t sg_response_seed(const sg_response *m);

/* Parse a grid spec into settings; exposed for tests.  Returns the number of
 * settings (>= 1) or a negative code; 'settings' (n) owned by caller (sg_free)
 * as an array of 'sg_grid_point'. */
typedef struct sg_grid_point {
    sg_gbdt_params gbdt;
    sg_linear_params linear;
    char text[160];
} sg_grid_point;
int sg_grid_parse(const char *spec, const sg_gbdt_params *gbdt, const sg_linear_params *linear,
                  int learner, sg_grid_point **settings, sg_error *err);

#endif

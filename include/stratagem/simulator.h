/* simulator.h -- a customer simulator: a conditional generator of campaign outcomes.
 *
 * Trained on a campaign log (one row per customer: features, the action taken,
 * the outcomes), it draws the outcomes of any customer under any action, so a
 * plan (who gets which action) can be tried before it is run: the distribution
 * of the plan's total outcome, and of its difference to treating nobody, come
 * from sampling.  This is a second forecast, independent of the uplift model's.
 *
 * Model.  Outcome columns are represented as in synth.h (mode-specific
 * normalisation for continuous ones, levels for discrete ones).  Outcomes are
 * generated in turn (chain rule), so "margin" follows "converted": for outcome j
 * a network maps the customer's features (encode.h SG_ENC_LINEAR: standardised
 * numbers, one-hot categories), the one-hot of the action and the levels of the
 * earlier outcomes through two ReLU layers to the probabilities of its levels and,
 * for a continuous outcome, a Gaussian on the offset within each mode; a learned
 * table adds an offset per (action, earlier levels), the interaction small data
 * teach the layers slowly (the money per conversion of each action).  Trained by
 * maximum likelihood (Adam) for a fixed number of epochs, keeping the last
 * weights (early stopping on the validation loss, 'patience' > 0, shrinks the
 * differences between customers and under-forecasts targeted plans).  An ensemble
 * of 'n_models' networks per outcome, member k trained on bootstrap resample k of
 * the training rows, carries the uncertainty of the fit into the sampled
 * distribution: draw r uses member r mod n_models.
 *
 * Common random numbers: for a given draw and customer the plan and the
 * all-control world use the same random stream, so their difference (the
 * incremental effect of the plan) is not drowned in outcome noise.
 * See LICENSE for copyright. */
#ifndef SG_SIMULATOR_H
#define SG_SIMULATOR_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "table.h"

#define SG_SIM_MAX_ARMS 16
#define SG_SIM_MAX_OUTCOMES 8

typedef struct sg_simulator sg_simulator;

typedef struct sg_sim_opts {
    const char *treatment;           /* the action column (required) */
    const char *control;             /* its control label (required) */
    const char *const *outcomes;     /* outcome columns, 1..SG_SIM_MAX_OUTCOMES (required) */
    const char *id;                  /* customer key, not a feature; NULL none */
    const char *propensity;          /* not a feature; NULL none */
    const char *const *ignore;       /* not features (NULL-terminated, NULL = none) */
    int max_discrete;                /* default 50 (as synth.h) */
    int max_modes;                   /* default 10 */
    int n_models;                    /* ensemble size, default 10 */
    int hidden;                      /* default 16 (small: campaign signals are weak) */
    int epochs;                      /* default 25 (at most, with patience > 0) */
    int batch;                       /* default 256 */
    double lr;                       /* default 1e-3 */
    double weight_decay;             /* decoupled, default 1e-4 */
    double valid;                    /* validation share, default 0.2 */
    int patience;                    /* 0 (default): train 'epochs' epochs, keep the last;
                                      * N > 0: stop after N epochs without a better
                                      * validation loss and keep the best */
    uint64_t seed;                   /* default SG_DEFAULT_SEED */
    void (*on_progress)(void *ud, const char *stage, int done, int total);
    void *ud;
} sg_sim_opts;

void sg_sim_opts_default(sg_sim_opts *o);

typedef struct sg_sim_train_report {
    int64_t n_used, n_skipped;       /* rows used; rows without treatment or an outcome */
    int64_t n_train, n_valid;
    int n_features, n_arms, n_outcomes;
    double valid_nll;                /* mean validation negative log-likelihood per row,
                                      * of the weights kept */
    int epochs[16];                  /* epoch kept per network (first 16) */
    /* validation rows, per arm and outcome: rows, observed mean, simulated mean */
    int64_t arm_rows[SG_SIM_MAX_ARMS];
    double obs_mean[SG_SIM_MAX_ARMS][SG_SIM_MAX_OUTCOMES];
    double sim_mean[SG_SIM_MAX_ARMS][SG_SIM_MAX_OUTCOMES];
} sg_sim_train_report;

/* Train on the campaign log 't' (borrowed).  Rows whose treatment or an outcome is
 * missing are skipped.  *out owned by the caller (sg_simulator_free), unchanged on
 * failure; 'rep' (NULL allowed) filled on success.  Errors: SG_EINVAL (missing or
 * unknown columns, a control label that never occurs, more than SG_SIM_MAX_ARMS
 * arms, an arm with fewer than 10 rows, fewer than 50 usable rows), SG_ENUMERIC,
 * SG_ENOMEM. */
int sg_simulator_train(sg_simulator **out, const sg_table *t, const sg_sim_opts *o,
                       sg_sim_train_report *rep, sg_error *err);
void sg_simulator_free(sg_simulator *m);   /* NULL is a no-op */

int sg_simulator_n_arms(const sg_simulator *m);
const char *sg_simulator_arm(const sg_simulator *m, int a);     /* a = 0: control; borrowed */
/* Index of the arm labelled 'label', or -1. */
int sg_simulator_find_arm(const sg_simulator *m, const char *label);
int sg_simulator_n_outcomes(const sg_simulator *m);
const char *sg_simulator_outcome(const sg_simulator *m, int k); /* borrowed */
const char *sg_simulator_id_name(const sg_simulator *m);        /* NULL when none */
const char *sg_simulator_treatment(const sg_simulator *m);

typedef struct sg_sim_result {
    int n_draws, n_outcomes;
    int64_t n_rows;
    double *plan;       /* (n_draws, n_outcomes) total outcome under the plan */
    double *control;    /* (n_draws, n_outcomes) total outcome with every row in control */
    double *row_plan;   /* (n_rows, n_outcomes) mean outcome per row under the plan, and */
    double *row_control;/* with control: only when asked for, else NULL */
} sg_sim_result;

/* Simulate rows[0..n) of table 'c' (rows NULL = all rows; features found by name)
 * under the actions arm (n; an arm index, 0 = control), 'n_draws' times, from the
 * stream 'seed'.  'per_row' also fills the per-row means.  Rows run in parallel;
 * the result does not depend on the thread count.  'res' arrays owned by the
 * caller (sg_sim_result_deinit).  Errors: SG_ENOTFOUND (a feature column is
 * absent), SG_EPARSE (a column of the wrong type), SG_EINVAL (an arm out of
 * range, n_draws < 1), SG_ENOMEM. */
int sg_simulator_run(const sg_simulator *m, const sg_table *c, const int64_t *rows, int64_t n,
                     const int32_t *arm, int n_draws, uint64_t seed, int per_row,
                     sg_sim_result *res, sg_error *err);
void sg_sim_result_deinit(sg_sim_result *r);

/* Files: model.h container, task SG_TASK_SIMULATE.  As synth.h. */
int sg_simulator_save(const sg_simulator *m, const char *path, sg_error *err);
int sg_simulator_load(sg_simulator **out, const char *path, sg_error *err);
int sg_simulator_save_mem(const sg_simulator *m, unsigned char **buf, size_t *len,
                          sg_error *err);
int sg_simulator_load_mem(sg_simulator **out, const unsigned char *buf, size_t len,
                          sg_error *err);

#endif

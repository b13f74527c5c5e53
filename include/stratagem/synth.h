/* synth.h -- synthetic customer tables: a conditional tabular GAN (CTGAN) and a
 * tabular VAE (TVAE) behind one interface, with the fidelity/privacy report.
 *
 * Columns.  Every column of the training table except the id column and the
 * ignored ones is generated.  Each becomes one of three kinds (fidelity.h):
 *   continuous  a number or date column; mode-specific normalisation: a 1-D
 *               Gaussian mixture (MAP-EM with a sparse Dirichlet prior on the
 *               weights, at most 'max_modes' modes) is fitted per column and a
 *               value is encoded as the one-hot of a mode plus its offset
 *               (x - mu_k) / (4 sd_k), as in Xu et al. (2019)
 *   discrete    a number column whose values are all integers with at most
 *               'max_discrete' distinct values (codes, counts, 0/1): one-hot
 *   category    a text column: one-hot over its 'max_categories' most frequent
 *               labels; rarer labels share one level generated as "other"
 *               (so memory is bounded and rare, identifying labels are never
 *               reproduced)
 * A column with missing values gets one more level (or mode), "missing", that
 * is generated like any other, so missing values come out in proportion.
 *
 * Split.  Rows are shuffled (seed) and split into a hold-out part (20%, for
 * the report), a validation part (10%, for early stopping) and the training
 * rows.  The model file keeps, for the report, up to 'max_reference' training
 * rows and up to 'max_holdout' hold-out rows (in the model's frame coding), so
 * 'stratagem synth --report' needs no data file.
 *
 * Early stopping.  Every 'eval_every' epochs the model generates as many rows
 * as the validation part has (at most 2000; with a target, as many as the real
 * training rows the efficacy ratio uses, at most 5000) and scores them against
 * it: the mean of KS, TV, correlation and contingency similarity
 * (sg_fidelity_marginals) and, with a target, the efficacy ratio min(1, AUC of a
 * GBDT trained on the generated rows / AUC of one trained on as many real
 * training rows), both tested on the validation rows, weighted 1/5.  (Marginals
 * alone peak early, before a GAN has learned the associations that make its rows
 * useful.)  A check counts only when the median distance from its first rows
 * (as many as the validation part has) to the closest training row (DCR,
 * fidelity.h; at most 5000 training rows) is not below that of the real
 * validation rows: a model that starts to reproduce its training rows is not
 * kept however good its score (when no check passes, the best score is kept with
 * a warning).  The best parameters
 * are kept, and training stops after 'patience' checks without a better one.
 *
 * Determinism: the same data, options, seed and thread count give the same
 * model file, byte for byte.  See LICENSE for copyright. */
#ifndef SG_SYNTH_H
#define SG_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "fidelity.h"
#include "table.h"

typedef struct sg_synth sg_synth;

enum { SG_SYNTH_GAN = 0, SG_SYNTH_TVAE = 1 };

typedef struct sg_synth_opts {
    int model;                        /* SG_SYNTH_GAN (default) or SG_SYNTH_TVAE */
    const char *id;                   /* id column, not generated (new ids are); NULL none */
    const char *target;               /* column for the report's TSTR/TRTR; NULL none;
                                         the models are conditioned on a discrete or
                                         category target (GAN: target_share) */
    const char *const *ignore;        /* columns left out (NULL-terminated, NULL = none) */
    const char *const *continuous;    /* number columns never treated as discrete */
    int max_discrete;                 /* default 50 */
    int max_categories;               /* labels kept per category column; default 100 */
    int max_modes;                    /* mixture modes per continuous column; default 10 */
    int epochs;                       /* default 300 */
    int batch;                        /* default 500; a multiple of 'pac' for the GAN */
    int embedding;                    /* noise (GAN) / latent (TVAE) size; default 128 */
    int hidden;                       /* layer width: default 256 (GAN), 128 (TVAE) */
    int pac;                          /* GAN critic packing; default 10 */
    int critic_steps;                 /* GAN critic updates per generator update; default 1 */
    double target_share;              /* GAN with a discrete or category target: share of
                                         the conditional vectors that name the target, in
                                         training and generation (the rest choose a column
                                         uniformly, as CTGAN does); those rows carry exactly
                                         the conditioned level, and an auxiliary classifier
                                         of the target adds its loss on them to the
                                         generator's; default 0.5; 0 = CTGAN's rule alone,
                                         no classifier */
    double lr;                        /* Adam learning rate; 0 = 2e-4 (GAN), 1e-3 (TVAE) */
    double weight_decay;              /* 0 = 1e-6 (GAN), 1e-5 (TVAE); decoupled (AdamW) */
    double gp_lambda;                 /* gradient penalty weight; default 10 */
    double holdout;                   /* hold-out share; default 0.2 */
    double valid;                     /* validation share; default 0.1 (0 = no early stop) */
    int eval_every;                   /* epochs between checks; 0 = about 30 checks in all */
    int patience;                     /* checks without improvement; default 10; 0 = off */
    int64_t max_reference;            /* training rows kept for the report; default 20000 */
    int64_t max_holdout;              /* hold-out rows kept; default 10000 */
    uint64_t seed;                    /* default SG_DEFAULT_SEED */
    /* progress: stage "epoch", done/total epochs; NULL = none */
    void (*on_progress)(void *ud, const char *stage, int done, int total);
    void *ud;
} sg_synth_opts;

void sg_synth_opts_default(sg_synth_opts *o);

typedef struct sg_synth_train_report {
    int64_t n_train, n_valid, n_holdout;
    int n_cols, n_continuous, n_discrete, n_category;
    int data_dim, cond_dim;           /* encoded row width, conditional vector width */
    int64_t n_params;                 /* parameters kept in the model (generator / decoder) */
    int epochs_run, best_epoch;
    double best_score;                /* validation fidelity of the kept epoch (NaN: none) */
    double loss_a, loss_b;            /* last epoch: GAN critic and generator losses;
                                         TVAE reconstruction and KL */
    double seconds_transform;         /* fitting the column transformer and encoding */
    double seconds_train;             /* the epochs (checks included) */
    double seconds_per_epoch;         /* the epochs alone */
} sg_synth_train_report;

/* Train on table 't' (borrowed).  *out owned by the caller (sg_synth_free) and
 * unchanged on failure; 'rep' (NULL allowed) filled on success.  Logs the
 * configuration and seed, then one line per check (module "synth").  Errors:
 * SG_EINVAL (bad options, unknown column names, fewer than 10 usable rows, no
 * column to generate, a target with a single value), SG_ENUMERIC (a loss became
 * non-finite: the message names the epoch), SG_ENOMEM. */
int sg_synth_train(sg_synth **out, const sg_table *t, const sg_synth_opts *o,
                   sg_synth_train_report *rep, sg_error *err);
void sg_synth_free(sg_synth *m);   /* NULL is a no-op */

/* ---- the columns (generated in this order) ---- */
int sg_synth_kind(const sg_synth *m);                     /* SG_SYNTH_GAN or _TVAE */
int sg_synth_n_cols(const sg_synth *m);
const char *sg_synth_col_name(const sg_synth *m, int j);  /* borrowed */
int sg_synth_col_kind(const sg_synth *m, int j);          /* SG_FCOL_* */
/* The id column's name (the synthetic rows get new ids), or NULL. Borrowed. */
const char *sg_synth_id_name(const sg_synth *m);
/* The target column index, or -1. */
int sg_synth_target(const sg_synth *m);
/* Kinds of all columns (n_cols), borrowed: for building frames. */
const uint8_t *sg_synth_kinds(const sg_synth *m);

/* The text of a frame value of column j: a label (category), the number (with %.15g;
 * dates as YYYY-MM-DD) or "" for missing.  Returns buf. */
const char *sg_synth_format(const sg_synth *m, int j, float v, char *buf, size_t cap);

/* ---- sampling ---- */

/* Generate n rows into X (n, n_cols), the model's frame coding: numbers as they
 * are, category columns as level codes (sg_synth_format gives the label), NaN =
 * missing.  'seed' selects the stream.  With 'cond_col' >= 0 every row has value
 * 'cond_value' (a frame value, see sg_synth_parse_value) in that discrete or
 * category column: the GAN is conditioned on it and rows that still miss it are
 * rejected (so is every row of the TVAE that misses it; a TVAE trained with a
 * discrete or category target is conditioned on the target, and every row meets a
 * condition on it); SG_EINVAL when fewer than n matching rows come out of
 * 200 n + 10000 tries.  The model is not changed.
 * Errors: SG_EINVAL, SG_ENOMEM. */
int sg_synth_sample(const sg_synth *m, int64_t n, uint64_t seed, int cond_col, float cond_value,
                    float *X, double *accept_rate, sg_error *err);

/* The frame value of text 's' in column j (a label, a number, "" for missing)
 * into *v.  SG_EINVAL when column j is continuous or 's' is not one of its levels. */
int sg_synth_parse_value(const sg_synth *m, int j, const char *s, float *v, sg_error *err);

/* Encode the rows of table 't' (another file of the same columns, matched by name;
 * e.g. a synthetic table made elsewhere) into the model's frame coding: X (n_rows
 * of t, n_cols), caller-allocated.  Labels not among the model's levels become
 * "other" (or missing when the column has no "other" level).  Errors: SG_ENOTFOUND
 * (a column is absent), SG_EPARSE (a column is text where numbers are expected). */
int sg_synth_encode_table(const sg_synth *m, const sg_table *t, float *X, sg_error *err);

/* ---- the report ---- */

/* Real rows kept in the model: which = 0 training rows, 1 hold-out rows.  Borrowed
 * (n_rows, n_cols) frame data, count in *n. */
const float *sg_synth_reference(const sg_synth *m, int which, int64_t *n);

/* Fidelity and privacy report of synthetic rows X (n, n_cols) against the rows kept
 * in the model, with the model's target rule.  'rep' owned by the caller
 * (sg_fidelity_report_deinit).  Errors as sg_fidelity_compare. */
int sg_synth_report(const sg_synth *m, const float *X, int64_t n, sg_fidelity_report *rep,
                    sg_error *err);
/* The target rule as text ("INCOME > 4", "CARAVAN > 0.5", "segment == gold"), into buf;
 * "" without a target.  Returns buf. */
const char *sg_synth_target_rule(const sg_synth *m, char *buf, size_t cap);

/* ---- files ---- */

/* Save / load a model file (model.h container, task SG_TASK_SYNTH).  Loading checks
 * the magic, version and sizes and names what is wrong (SG_EPARSE), SG_EIO, SG_ENOMEM. */
int sg_synth_save(const sg_synth *m, const char *path, sg_error *err);
int sg_synth_load(sg_synth **out, const char *path, sg_error *err);
/* The payload alone, in memory: *buf owned by the caller (sg_free). */
int sg_synth_save_mem(const sg_synth *m, unsigned char **buf, size_t *len, sg_error *err);
int sg_synth_load_mem(sg_synth **out, const unsigned char *buf, size_t len, sg_error *err);

#endif

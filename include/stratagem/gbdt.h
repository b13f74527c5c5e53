/* gbdt.h -- histogram gradient-boosted decision trees.
 *
 * Features are binned once (quantile bins, at most 'max_bins' per feature,
 * from a deterministic sample of up to 200,000 rows, plus one bin for missing
 * values); trees grow leaf-wise (best gain first) up to 'max_leaves' leaves and
 * 'max_depth' levels, with second-order gains and L2 on leaf values (as xgboost
 * / LightGBM).  Missing values learn their own direction at every split.
 * Categorical features (codes 0..K-1, K <= max_bins) split by sorting
 * categories on gradient/hessian ratio (LightGBM's many-vs-many rule);
 * negative, unseen or too-large codes, and categories too rare in a node,
 * follow the missing values.  A given seed gives a bit-identical model for any
 * thread count (OpenMP; n_threads = 0 uses all cores).
 *
 * Layout: X is (N, D) row-major float, NaN = missing; categorical columns hold
 * the code as a float (the integer part is used).  At most 2^32 - 2 rows. */
#ifndef SG_GBDT_H
#define SG_GBDT_H

#include <stdint.h>

#include "error.h"

typedef struct sg_gbdt sg_gbdt;

enum { SG_GBDT_LOGLOSS = 0, SG_GBDT_SQUARED = 1 };

typedef struct sg_gbdt_params {
    int objective;          /* SG_GBDT_LOGLOSS (y in {0,1}) or SG_GBDT_SQUARED; default LOGLOSS */
    int n_trees;            /* boosting rounds (maximum when early stopping); default 300 */
    int max_depth;          /* 0 = no limit; default 6 */
    int max_leaves;         /* default 31 */
    float learning_rate;    /* default 0.1 */
    float min_child_weight; /* minimum hessian sum in a leaf; default 1 */
    float min_split_gain;   /* default 0 */
    float lambda_l2;        /* L2 on leaf values; default 1 */
    float subsample;        /* row fraction per tree, (0,1]; default 1 */
    float colsample;        /* feature fraction per tree, (0,1]; default 1 */
    int max_bins;           /* 2..255; default 255 */
    int early_stopping;     /* stop after this many rounds without improvement on the
                               validation set; 0 = off; default 0 */
    uint64_t seed;          /* default SG_DEFAULT_SEED */
    int n_threads;          /* 0 = all cores; training uses fewer on small data */
    int verbose;            /* log a line every this many trees (0 = only a summary) */
    int free_feature;       /* >= 0: every root-to-leaf path splits on this feature and at
                               most one other, so the model is a sum of functions of one
                               feature and this one (for uplift: of one feature and the
                               arm); -1 = no constraint (default).  Training only: not
                               saved with the model */
} sg_gbdt_params;

void sg_gbdt_params_default(sg_gbdt_params *p);

/* Train on X (N,D), y (N), optional weights w (N, NULL = 1; finite, >= 0; a
 * row of weight 0 is as if absent).  'is_cat' (D, NULL = all numeric) marks
 * categorical features.  Optional validation set (Xv (Nv,D), yv, NULL when
 * Nv = 0) is scored every round and drives early stopping: the model keeps the
 * best round.  The base score is the log-odds of the weighted mean label for
 * LOGLOSS (labels 0 or 1), the weighted mean for SQUARED.  All inputs are
 * borrowed; *out is owned by the caller (sg_gbdt_free) and left unchanged on
 * failure.  Logs through SG_LOG (module "gbdt"): the configuration and seed, a
 * line every 'verbose' rounds, and a summary.  Errors: SG_EINVAL for bad
 * parameters, shapes, labels or weights (the message names the row),
 * SG_ENUMERIC if a loss or margin becomes non-finite (naming the round),
 * SG_ENOMEM. */
int sg_gbdt_train(sg_gbdt **out, const float *X, const float *y, const float *w, int64_t N,
                  int D, const uint8_t *is_cat, const float *Xv, const float *yv, int64_t Nv,
                  const sg_gbdt_params *p, sg_error *err);

/* The same, boosting from a given margin: row i's trees start at off[i] (N; and
 * offv (Nv) for the validation rows, required when Nv > 0) instead of the base
 * score, which is then 0, so the model's margin is what it adds to the offset
 * (the caller adds the offset back at prediction).  Offsets must be finite. */
int sg_gbdt_train_offset(sg_gbdt **out, const float *X, const float *y, const float *w,
                         const double *off, int64_t N, int D, const uint8_t *is_cat,
                         const float *Xv, const float *yv, const double *offv, int64_t Nv,
                         const sg_gbdt_params *p, sg_error *err);

/* Predictions for X (N,D) into out (N, caller-allocated): probabilities for
 * LOGLOSS, values for SQUARED.  'margin' != 0 gives the raw additive score
 * instead.  Uses the model's n_threads.  Errors: SG_EINVAL (NULL model, or
 * NULL X/out with N > 0). */
int sg_gbdt_predict(const sg_gbdt *m, const float *X, int64_t N, int margin, double *out,
                    sg_error *err);

/* The same under every value v = 0..K-1 (K <= 64) of feature f in turn, the
 * rows' own column f not read: out (N, K), out[i K + v] equal to what
 * sg_gbdt_predict gives row i with x[f] = v, to the last bit.  Each tree is
 * walked once per row (a split on f parts the values), not K times: scoring a
 * customer under each action when the action is a column of the model. */
int sg_gbdt_predict_sweep(const sg_gbdt *m, const float *X, int64_t N, int f, int K, int margin,
                          double *out, sg_error *err);

int sg_gbdt_n_trees(const sg_gbdt *m);       /* trees kept (the best round with early stopping) */
int sg_gbdt_n_features(const sg_gbdt *m);    /* D; 0 for NULL */
/* Training parameters (borrowed, valid while m lives).  A loaded model has
 * n_threads = 0 and verbose = 0: those are run-time settings, not saved. */
const sg_gbdt_params *sg_gbdt_get_params(const sg_gbdt *m);
/* Total split gain per feature into gain (D, caller-allocated). */
void sg_gbdt_importance(const sg_gbdt *m, double *gain);

/* Serialise into a buffer allocated with sg_malloc (*buf owned by the caller:
 * sg_free; *len its size): a versioned little-endian format with a CRC-32, the
 * same bytes for the same model.  Errors: SG_EINVAL, SG_ENOMEM.
 * Parse one (buf borrowed): *out owned by the caller (sg_gbdt_free).  A
 * truncated, corrupt or foreign buffer is SG_EPARSE with a message saying what
 * was wrong, never a crash; SG_ENOMEM. */
int sg_gbdt_save(const sg_gbdt *m, unsigned char **buf, size_t *len, sg_error *err);
int sg_gbdt_load(sg_gbdt **out, const unsigned char *buf, size_t len, sg_error *err);

void sg_gbdt_free(sg_gbdt *m);   /* NULL is a no-op */

#endif

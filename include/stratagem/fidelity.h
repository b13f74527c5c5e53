/* fidelity.h -- how close a synthetic table is to the real one, and how private it is.
 *
 * Tables are compared as 'frames': a row-major float matrix (n_rows, n_cols),
 * NaN = missing, with a kind per column:
 *   SG_FCOL_CONTINUOUS  a number
 *   SG_FCOL_DISCRETE    a number with few distinct values (codes, counts, 0/1 flags)
 *   SG_FCOL_CATEGORY    a category code 0..K-1 stored as a float (unordered)
 * The frames compared must have the same columns, in the same order and coding.
 *
 * Fidelity (synthetic against the real TRAINING rows, the data it was fitted to):
 *   ks_complement           mean over number columns (continuous and discrete) of
 *                           1 - KS statistic of the non-missing values
 *   tv_complement           mean over all columns of 1 - total variation distance;
 *                           missing is a level of its own, continuous columns are cut
 *                           at the real deciles
 *   correlation_similarity  mean over pairs of number columns of 1 - |r_real - r_syn| / 2
 *                           (Pearson r on rows where both are present; pairs where the
 *                           real column is constant are skipped)
 *   contingency_similarity  mean over pairs of discrete and category columns of
 *                           1 - total variation distance of the joint table
 *   missing_similarity      mean over columns of 1 - |missing share real - synthetic|
 * Pair metrics use the first 200 columns of their kind (a bound on time).
 *
 * Machine-learning efficacy: a GBDT (gbdt.h: 200 trees, learning rate 0.05, 15
 * leaves, depth 4) predicts the binarised target column from the other columns.
 * TSTR trains it on the synthetic rows and TRTR on the real training rows; both
 * report the AUC on the real hold-out rows.  Rows whose target is missing are
 * skipped.
 *
 * Privacy, distance to closest record (DCR): the Gower distance between rows
 * (mean over columns of |a - b| / range for numbers, range from the training rows,
 * capped at 1; 0/1 for categories; 1 when exactly one of the two is missing, 0 when
 * both are) from each synthetic row, and from each real hold-out row, to its
 * closest real training row.  Real hold-out rows show how close an unseen real
 * customer naturally is; synthetic rows that are closer than that are copies or
 * near-copies.  'too_close' is set when the synthetic median DCR is below the
 * hold-out median, or when the share of exact copies (DCR 0) exceeds the hold-out
 * share by more than three standard errors.  See LICENSE for copyright. */
#ifndef SG_FIDELITY_H
#define SG_FIDELITY_H

#include <stdint.h>

#include "error.h"

enum { SG_FCOL_CONTINUOUS = 0, SG_FCOL_DISCRETE = 1, SG_FCOL_CATEGORY = 2 };

typedef struct sg_frame {
    int64_t n_rows;
    int n_cols;
    const float *x;        /* (n_rows, n_cols) row-major, NaN = missing; borrowed */
    const uint8_t *kind;   /* (n_cols) SG_FCOL_*; borrowed */
} sg_frame;

/* How the target column becomes 0/1 for the efficacy models. */
enum { SG_TARGET_ABOVE = 0, SG_TARGET_EQUAL = 1 };

typedef struct sg_fidelity_opts {
    int target;             /* column index of the target, -1 = no efficacy metrics */
    int target_rule;        /* SG_TARGET_ABOVE: y = (x > target_value);
                               SG_TARGET_EQUAL: y = (x == target_value) */
    float target_value;
    int64_t max_dcr_rows;   /* synthetic and hold-out rows measured for DCR (the first
                               ones); default 2000 */
    int64_t max_efficacy_rows; /* synthetic rows used to train TSTR; default 50000 */
    int n_trees;            /* efficacy GBDT rounds; default 200 */
    uint64_t seed;          /* GBDT seed; default SG_DEFAULT_SEED */
} sg_fidelity_opts;

void sg_fidelity_opts_default(sg_fidelity_opts *o);

typedef struct sg_fidelity_report {
    double ks_complement, tv_complement, correlation_similarity, contingency_similarity;
    double missing_similarity;
    double tstr_auc, trtr_auc;           /* NaN without a target (or one class only) */
    double dcr_synthetic_median, dcr_holdout_median;
    double dcr_synthetic_p05, dcr_holdout_p05;
    double exact_copy_synthetic, exact_copy_holdout;   /* share of rows at DCR 0 */
    int too_close;                       /* see the file comment */
    int64_t n_train, n_holdout, n_synthetic;
    int64_t n_dcr_synthetic, n_dcr_holdout;
    int n_cols;
    double *ks_col;                      /* (n_cols) 1 - KS, NaN for category columns */
    double *tv_col;                      /* (n_cols) 1 - TV */
} sg_fidelity_report;

/* Compare 'synth' with the real 'train' rows, and 'holdout' (may have 0 rows: the
 * efficacy and hold-out DCR figures are then NaN) for efficacy and DCR.  All frames
 * borrowed and of the same width and kinds.  Fills 'rep' (its arrays owned by the
 * caller: sg_fidelity_report_deinit, also after a failure).  Errors: SG_EINVAL (shapes
 * or kinds differ, an empty train or synthetic frame, a bad target), SG_ENOMEM, and
 * the GBDT's errors. */
int sg_fidelity_compare(const sg_frame *train, const sg_frame *holdout, const sg_frame *synth,
                        const sg_fidelity_opts *o, sg_fidelity_report *rep, sg_error *err);
void sg_fidelity_report_deinit(sg_fidelity_report *rep);

/* The fast part only (no efficacy, no DCR): ks, tv, correlation and contingency
 * similarity of 'synth' against 'real', and their mean in *score (any output may be
 * NULL).  Used for early stopping.  Errors: SG_EINVAL, SG_ENOMEM. */
int sg_fidelity_marginals(const sg_frame *real, const sg_frame *synth, double *ks, double *tv,
                          double *corr, double *cont, double *score, sg_error *err);

/* Machine-learning efficacy alone: the AUC on 'test' rows of the GBDT of the file
 * comment (o->n_trees rounds) trained on at most o->max_efficacy_rows rows of
 * 'train', for the target rule of 'o' (o->target >= 0).  NaN when either side has
 * a single class.  Errors: SG_EINVAL, SG_ENOMEM, the GBDT's. */
int sg_fidelity_efficacy(const sg_frame *train, const sg_frame *test, const sg_fidelity_opts *o,
                         double *auc, sg_error *err);

/* Two-sample Kolmogorov-Smirnov statistic of a (na) and b (nb), missing (NaN)
 * values skipped; each array is read with a stride (in floats).  0 when either has
 * no value. */
double sg_ks_statistic(const float *a, int64_t na, int64_t stride_a, const float *b, int64_t nb,
                       int64_t stride_b);

/* Distance from each row of 'query' to its closest row of 'ref' (Gower, see the file
 * comment, ranges taken from 'ref') into dist (query->n_rows, caller-allocated).
 * Rows run in parallel.  Errors: SG_EINVAL (shapes), SG_ENOMEM. */
int sg_fidelity_dcr(const sg_frame *ref, const sg_frame *query, double *dist, sg_error *err);

#endif

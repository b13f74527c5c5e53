/* metrics.h -- scores of predictions against outcomes.
 *
 * All metrics accumulate in double and order rows deterministically: by score
 * descending, ties by row index ascending.  Weights are optional (NULL = 1). */
#ifndef SG_METRICS_H
#define SG_METRICS_H

#include <stdint.h>

#include "error.h"

/* Area under the ROC curve of 'score' for binary y (0/1), ties counted as half
 * (the Mann-Whitney statistic).  Returns NaN when one class is absent. */
double sg_auc(const double *score, const float *y, const float *w, int64_t N);
/* Mean log-loss of probabilities p (clipped to [1e-15, 1-1e-15]). */
double sg_logloss(const double *p, const float *y, const float *w, int64_t N);
/* Root mean squared error and mean absolute error. */
double sg_rmse(const double *pred, const float *y, const float *w, int64_t N);
double sg_mae(const double *pred, const float *y, const float *w, int64_t N);
/* R^2 = 1 - SSE/SST. */
double sg_r2(const double *pred, const float *y, const float *w, int64_t N);

/* Indices of the k rows with the highest score into idx (k), best first;
 * ties by index.  k is clipped to N; returns the number written, or SG_ENOMEM. */
int64_t sg_topk(const double *score, int64_t N, int64_t k, int64_t *idx);
/* Sum of y over the k best-scored rows (hits in the top k for binary y). */
double sg_hits_at_k(const double *score, const float *y, int64_t N, int64_t k);

/* Calibration by quantile bins of the prediction: for each of n_bins groups
 * (equal counts, by predicted value) the mean prediction, mean outcome and row
 * count.  Out arrays have n_bins entries.  SG_ENOMEM or SG_EINVAL (n_bins < 1). */
int sg_calibration(const double *pred, const float *y, int64_t N, int n_bins, double *mean_pred,
                   double *mean_obs, int64_t *count, sg_error *err);
/* Expected calibration error from those bins (count-weighted mean |pred - obs|). */
double sg_ece(const double *mean_pred, const double *mean_obs, const int64_t *count, int n_bins);

#endif

/* uplift_metrics.h -- how well a score ranks customers by treatment effect.
 *
 * Input: held-out rows with a predicted uplift score s_i, a treatment flag t_i
 * (1 = got the arm in question, 0 = control), an outcome y_i (0/1 or a number)
 * and optional weights w_i (NULL = 1).  Rows are ranked by score, highest
 * first.  Rows with equal scores form one group: the curves have points only at
 * group ends and are straight between them, so the order inside a group never
 * matters (scikit-uplift does the same with its thresholds).
 *
 * Definitions follow scikit-uplift (sklift.metrics, 0.5): after the first n rows
 * (a fraction x of the total weight), with weighted counts N_t, N_c and outcome
 * sums Y_t, Y_c of treated and control rows among them,
 *
 *   Qini curve     Q(x) = Y_t - Y_c N_t / N_c               (Radcliffe 2007)
 *   uplift curve   U(x) = (Y_t / N_t - Y_c / N_c) (N_t + N_c)    ("gain" curve)
 *
 * where a ratio with a zero denominator counts as 0.  Both start at (0, 0) and
 * are in outcome units (e.g. incremental conversions).  Areas are trapezoids on
 * x in [0, 1].  The random-targeting baseline is the straight line from (0, 0)
 * to the curve's end point.  The normalised scores are sklift's
 * qini_auc_score (negative_effect=True) and uplift_auc_score:
 *
 *   score = (area(model) - area(random)) / (area(perfect) - area(random))
 *
 * so random targeting scores 0 (in expectation) and the perfect ordering 1.
 * The perfect ordering for the Qini curve sorts by (2 t - 1) y: treated
 * responders first, control responders last.  For the uplift curve with 0/1
 * outcomes it is sklift's: score 2 [y = t] + (y if #control responders >
 * #treated non-responders, else t); with other outcomes it sorts by
 * (2 t - 1)(y - mean y).  On odd samples another ordering can beat the
 * "perfect" one slightly, so a score can exceed 1 a little.
 *
 * uplift@k is the treated minus the control mean outcome among the top k share
 * of the weight (sklift's uplift_at_k, strategy 'overall'); a tied group that
 * straddles the cut counts with the fraction of it that fits.
 *
 * Cost: O(N log N) time (two sorts), about 40 N bytes of memory.
 * See LICENSE for copyright. */
#ifndef SG_UPLIFT_METRICS_H
#define SG_UPLIFT_METRICS_H

#include <stdint.h>

#include "error.h"

typedef struct sg_uplift_summary {
    double qini_coef;          /* normalised Qini coefficient (sklift qini_auc_score) */
    double auuc;               /* normalised area under the uplift curve (sklift
                                * uplift_auc_score) */
    double qini_area;          /* area between the model's Qini curve and the random line */
    double qini_area_perfect;  /* the same for the perfect ordering */
    double uplift_area;        /* area between the model's uplift curve and the random line */
    double uplift_area_perfect;
    double qini_end;           /* Q(1) = Y_t - Y_c N_t / N_c over all rows */
    double uplift_end;         /* U(1) = overall uplift times total weight */
    double ate;                /* treated mean minus control mean over all rows */
    double w_treated, w_control;  /* total weight of treated and control rows */
    int64_t n_groups;          /* distinct score values */
} sg_uplift_summary;

/* Optional curves sampled at x_k = k / K, k = 0..K, by linear interpolation
 * between group ends; every array (K + 1) caller-allocated, each may be NULL. */
typedef struct sg_uplift_curves {
    int K;                     /* >= 1 */
    double *qini;              /* model Qini curve */
    double *uplift;            /* model uplift curve */
    double *qini_perfect;      /* perfect-ordering Qini curve */
    double *uplift_perfect;    /* perfect-ordering uplift curve */
} sg_uplift_curves;

/* Qini/uplift curves and their normalised areas.  score, treat (0/1), y: (N);
 * w: (N) weights >= 0 or NULL; curves: NULL or sampled curves [out]; out:
 * [out] summary.  A normalised score whose perfect area equals the random
 * area (e.g. all outcomes 0) is NaN.  Returns SG_OK; SG_EINVAL naming the
 * row for a score, outcome or weight that is not finite, a negative weight or a
 * treatment not 0/1, or when the treated or the control weight is 0, or K < 1;
 * SG_ENOMEM.  Outputs unchanged on failure. */
int sg_uplift_evaluate(const double *score, const int32_t *treat, const double *y,
                       const double *w, int64_t N, const sg_uplift_curves *curves,
                       sg_uplift_summary *out, sg_error *err);

/* uplift@k into *out: the treated minus the control mean outcome among the
 * top k share (0 < k <= 1) of the weight, ties as described above; NaN when
 * that share holds no treated or no control weight.  Errors as
 * sg_uplift_evaluate, plus SG_EINVAL for k outside (0, 1]. */
int sg_uplift_at_k(const double *score, const int32_t *treat, const double *y, const double *w,
                   int64_t N, double k, double *out, sg_error *err);

#endif

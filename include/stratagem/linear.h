/* linear.h -- L2-regularised logistic regression and ridge linear regression.
 *
 * Logistic regression is fitted by Newton's method (IRLS): each step forms the
 * weighted Gram matrix X^T W X through BLAS (dsyrk) and solves with a Cholesky
 * factorisation (LAPACK), so it converges in a handful of steps for the few
 * hundred features of a customer table.  Linear regression is solved in closed
 * form the same way.  The intercept is not penalised.
 *
 * Layout: X is (N, D) row-major float with no missing values (the encoder has
 * already standardised and imputed). */
#ifndef SG_LINEAR_H
#define SG_LINEAR_H

#include <stdint.h>

#include "error.h"

typedef struct sg_linear sg_linear;

enum { SG_LINEAR_LOGISTIC = 0, SG_LINEAR_RIDGE = 1 };

enum { SG_LINEAR_AUTO = 0, SG_LINEAR_NEWTON = 1, SG_LINEAR_LBFGS = 2 };

/* Objective: sum_i w_i l_i + l2/2 |beta|^2 with l_i = log(1 + e^f_i) - y_i f_i
 * (logistic) or (y_i - f_i)^2 / 2 (ridge), f_i = intercept + x_i . beta.  This is
 * scikit-learn's LogisticRegression(C = 1/l2) and Ridge(alpha = l2) objective. */
typedef struct sg_linear_params {
    int kind;        /* SG_LINEAR_LOGISTIC (y in {0,1}) or SG_LINEAR_RIDGE; default LOGISTIC */
    double l2;       /* penalty: loss = sum_i w_i l_i + l2/2 |beta|^2; default 1.0 */
    int max_iter;    /* Newton steps; default 50 (ridge needs one) */
    double tol;      /* stop when the max |step| < tol; default 1e-8 */
    int solver;      /* 0 auto (Newton up to D = 2000 features, L-BFGS above), 1 Newton,
                      * 2 L-BFGS; default 0 */
    int lbfgs_max_iter; /* L-BFGS iterations; default 1000 */
} sg_linear_params;

void sg_linear_params_default(sg_linear_params *p);

/* Fit on X (N,D), y (N), optional weights w (N, NULL = 1; finite, >= 0, not all
 * zero); p NULL = defaults.  *out owned by the caller (sg_linear_free), left
 * unchanged on failure.  SG_EINVAL on bad labels, weights, sizes or params and
 * on a non-finite X (the message names the 0-based row and column),
 * SG_ENOMEM, SG_ENUMERIC if the Hessian stays singular after a small ridge
 * jitter (logged as a warning) or a value becomes non-finite.  Not reaching
 * 'tol' within the iteration limit is logged as a warning, not an error. */
int sg_linear_train(sg_linear **out, const float *X, const float *y, const float *w, int64_t N,
                    int D, const sg_linear_params *p, sg_error *err);

/* Predictions into out (N): probabilities (LOGISTIC) or values (RIDGE);
 * 'margin' != 0 gives the linear predictor.  X (N,D) with D the training
 * width.  SG_EINVAL on a non-finite X (row and column named) or N < 0. */
int sg_linear_predict(const sg_linear *m, const float *X, int64_t N, int margin, double *out,
                      sg_error *err);

/* Coefficients: intercept, then beta (D). Borrowed. */
double sg_linear_intercept(const sg_linear *m);
const double *sg_linear_coef(const sg_linear *m);
int sg_linear_n_features(const sg_linear *m);
/* Final objective value (mean penalised loss per unit weight, i.e. the objective
 * above divided by sum_i w_i) and Newton (or L-BFGS) steps taken. */
double sg_linear_loss(const sg_linear *m);
int sg_linear_iterations(const sg_linear *m);

/* The parameters the model was trained with. Borrowed. */
const sg_linear_params *sg_linear_get_params(const sg_linear *m);

/* Serialise into *buf (owned by the caller, sg_free) of *len bytes: kind, D,
 * params, loss, steps and coefficients.  SG_ENOMEM. */
int sg_linear_save(const sg_linear *m, unsigned char **buf, size_t *len, sg_error *err);
/* Parse what sg_linear_save wrote; *out owned by the caller.  SG_EPARSE on a
 * truncated, corrupt or foreign buffer (the message says what was bad), SG_ENOMEM. */
int sg_linear_load(sg_linear **out, const unsigned char *buf, size_t len, sg_error *err);

void sg_linear_free(sg_linear *m);

#endif

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

typedef struct sg_linear_params {
    int kind;        /* SG_LINEAR_LOGISTIC (y in {0,1}) or SG_LINEAR_RIDGE; default LOGISTIC */
    double l2;       /* penalty: loss = sum_i w_i l_i + l2/2 |beta|^2; default 1.0 */
    int max_iter;    /* Newton steps; default 50 */
    double tol;      /* stop when the max |step| < tol; default 1e-8 */
} sg_linear_params;

void sg_linear_params_default(sg_linear_params *p);

/* Fit on X (N,D), y (N), optional weights w (N, NULL = 1).  *out owned by the
 * caller (sg_linear_free).  SG_EINVAL on bad labels or params, SG_ENUMERIC if
 * the Hessian is singular or a value becomes non-finite. */
int sg_linear_train(sg_linear **out, const float *X, const float *y, const float *w, int64_t N,
                    int D, const sg_linear_params *p, sg_error *err);

/* Predictions into out (N): probabilities (LOGISTIC) or values (RIDGE);
 * 'margin' != 0 gives the linear predictor. */
int sg_linear_predict(const sg_linear *m, const float *X, int64_t N, int margin, double *out,
                      sg_error *err);

/* Coefficients: intercept, then beta (D). Borrowed. */
double sg_linear_intercept(const sg_linear *m);
const double *sg_linear_coef(const sg_linear *m);
int sg_linear_n_features(const sg_linear *m);
/* Final objective value (mean penalised loss per unit weight) and Newton steps taken. */
double sg_linear_loss(const sg_linear *m);
int sg_linear_iterations(const sg_linear *m);

int sg_linear_save(const sg_linear *m, unsigned char **buf, size_t *len, sg_error *err);
int sg_linear_load(sg_linear **out, const unsigned char *buf, size_t len, sg_error *err);

void sg_linear_free(sg_linear *m);

#endif

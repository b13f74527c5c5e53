/* losses.c -- log-softmax, multinomial likelihood, reparameterisation, KL, BCE, MSE.
 *
 * B = batch size, I = items (softmax width), Z = latent size; n = B*Z or any flat count.
 *
 * Every loss returns scale * (sum over its terms) as a double; its backward adds
 * scale * gradient.  Row-wise work (softmax, gradients) runs rows in parallel,
 * each row in one thread; the loss sums run serially in double in a fixed
 * order, so the value never depends on the thread count.  The sparse
 * multinomial loss reads x only at its nonzeros: the gradient softmax * sum(x)
 * - x is written as one dense pass plus a scatter.  See LICENSE for copyright. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "stratagem/nn.h"
#include "nn_private.h"

#define PAR_WORK SG_NN_PAR_WORK

/* ---------------------------------------------------------------------------
 * log-softmax */

/* out (I) = x - logsumexp(x); out may be x. */
static void log_softmax_row(float *out, const float *x, int I)
{
    float mx = -INFINITY;
    for (int i = 0; i < I; i++) {
        if (x[i] > mx) mx = x[i];
    }
    double s = 0.0;
    for (int i = 0; i < I; i++) s += (double)expf(x[i] - mx);
    /* (x - max) - log(s), not x - (max + log(s)): at |x| ~ 1000 the sum would round
     * away the small log term. */
    float ls = (float)log(s);
    for (int i = 0; i < I; i++) out[i] = (x[i] - mx) - ls;
}

void sg_log_softmax_forward(float *out, const float *inp, int B, int I)
{
    if (B <= 0 || I <= 0) return;
    int64_t work = (int64_t)B * I;
    (void)work;
    SG_PAR_FOR(work > PAR_WORK)
    for (int b = 0; b < B; b++) {
        log_softmax_row(out + (size_t)b * I, inp + (size_t)b * I, I);
    }
}

void sg_log_softmax_backward(float *dinp, const float *dout, const float *out, int B, int I)
{
    if (B <= 0 || I <= 0) return;
    int64_t work = (int64_t)B * I;
    (void)work;
    SG_PAR_FOR(work > PAR_WORK)
    for (int b = 0; b < B; b++) {
        const float *g = dout + (size_t)b * I, *o = out + (size_t)b * I;
        float *d = dinp + (size_t)b * I;
        double s = 0.0;
        for (int i = 0; i < I; i++) s += (double)g[i];
        float sf = (float)s;
        for (int i = 0; i < I; i++) d[i] += g[i] - expf(o[i]) * sf;
    }
}

/* ---------------------------------------------------------------------------
 * multinomial log-likelihood (Mult-VAE reconstruction term) */

double sg_multinomial_nll_forward(float *logp, const float *logits, const float *x, int B,
                                  int I, float scale)
{
    sg_log_softmax_forward(logp, logits, B, I);
    double s = 0.0;
    for (size_t k = 0; k < (size_t)B * (size_t)I; k++) {
        if (x[k] != 0.0f) s += (double)x[k] * (double)logp[k];
    }
    return -(double)scale * s;
}

void sg_multinomial_nll_backward(float *dlogits, const float *logp, const float *x, int B,
                                 int I, float scale)
{
    if (B <= 0 || I <= 0) return;
    int64_t work = (int64_t)B * I;
    (void)work;
    SG_PAR_FOR(work > PAR_WORK)
    for (int b = 0; b < B; b++) {
        const float *xr = x + (size_t)b * I, *lp = logp + (size_t)b * I;
        float *d = dlogits + (size_t)b * I;
        double sx = 0.0;
        for (int i = 0; i < I; i++) sx += (double)xr[i];
        float g = scale * (float)sx;
        for (int i = 0; i < I; i++) d[i] += g * expf(lp[i]) - scale * xr[i];
    }
}

double sg_multinomial_nll_sparse_forward(float *logp, const float *logits,
                                         const int64_t *row_ptr, const int32_t *col_idx,
                                         const float *values, int B, int I, float scale)
{
    sg_log_softmax_forward(logp, logits, B, I);
    double s = 0.0;
    for (int b = 0; b < B; b++) {
        const float *lp = logp + (size_t)b * I;
        for (int64_t k = row_ptr[b]; k < row_ptr[b + 1]; k++) {
            double v = values ? (double)values[k] : 1.0;
            s += v * (double)lp[col_idx[k]];
        }
    }
    return -(double)scale * s;
}

void sg_multinomial_nll_sparse_backward(float *dlogits, const float *logp,
                                        const int64_t *row_ptr, const int32_t *col_idx,
                                        const float *values, int B, int I, float scale)
{
    if (B <= 0 || I <= 0) return;
    int64_t work = (int64_t)B * I;
    (void)work;
    SG_PAR_FOR(work > PAR_WORK)
    for (int b = 0; b < B; b++) {
        const float *lp = logp + (size_t)b * I;
        float *d = dlogits + (size_t)b * I;
        double sx = 0.0;
        for (int64_t k = row_ptr[b]; k < row_ptr[b + 1]; k++) {
            sx += values ? (double)values[k] : 1.0;
        }
        float g = scale * (float)sx;
        if (g != 0.0f) {
            for (int i = 0; i < I; i++) d[i] += g * expf(lp[i]);
        }
        for (int64_t k = row_ptr[b]; k < row_ptr[b + 1]; k++) {
            d[col_idx[k]] -= scale * (values ? values[k] : 1.0f);
        }
    }
}

/* ---------------------------------------------------------------------------
 * Gaussian reparameterisation and KL term */

void sg_reparam_forward(float *z, float *eps, const float *mu, const float *logvar, size_t n,
                        sg_rng *rng)
{
    for (size_t i = 0; i < n; i++) {
        eps[i] = (float)sg_rng_normal(rng);
        z[i] = mu[i] + expf(0.5f * logvar[i]) * eps[i];
    }
}

void sg_reparam_backward(float *dmu, float *dlogvar, const float *dz, const float *eps,
                         const float *logvar, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dmu[i] += dz[i];
        dlogvar[i] += dz[i] * eps[i] * 0.5f * expf(0.5f * logvar[i]);
    }
}

double sg_kl_normal_forward(const float *mu, const float *logvar, size_t n, float beta)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        double lv = (double)logvar[i], m = (double)mu[i];
        s += 0.5 * (exp(lv) + m * m - 1.0 - lv);
    }
    return (double)beta * s;
}

void sg_kl_normal_backward(float *dmu, float *dlogvar, const float *mu, const float *logvar,
                           size_t n, float beta)
{
    for (size_t i = 0; i < n; i++) {
        dmu[i] += beta * mu[i];
        dlogvar[i] += beta * 0.5f * (expf(logvar[i]) - 1.0f);
    }
}

/* ---------------------------------------------------------------------------
 * binary cross-entropy on logits, squared error */

double sg_bce_logits_forward(const float *logits, const float *y, size_t n, float scale)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        double l = (double)logits[i];
        /* max(l,0) - l y + log(1 + exp(-|l|)): never exponentiates a positive number. */
        s += (l > 0.0 ? l : 0.0) - l * (double)y[i] + log1p(exp(-fabs(l)));
    }
    return (double)scale * s;
}

void sg_bce_logits_backward(float *dlogits, const float *logits, const float *y, size_t n,
                            float scale)
{
    for (size_t i = 0; i < n; i++) {
        float l = logits[i], p;
        if (l >= 0.0f) {
            p = 1.0f / (1.0f + expf(-l));
        } else {
            float e = expf(l);
            p = e / (1.0f + e);
        }
        dlogits[i] += scale * (p - y[i]);
    }
}

double sg_mse_forward(const float *pred, const float *y, size_t n, float scale)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = (double)pred[i] - (double)y[i];
        s += e * e;
    }
    return (double)scale * s;
}

void sg_mse_backward(float *dpred, const float *pred, const float *y, size_t n, float scale)
{
    for (size_t i = 0; i < n; i++) dpred[i] += 2.0f * scale * (pred[i] - y[i]);
}

/* optim.c -- AdamW step, gradient norm and clipping, finiteness scan.
 *
 * n = number of values in a flat slice (a whole parameter block or one tensor).
 *
 * The AdamW update is one flat loop over n (llm.c gpt2_update), elementwise and
 * so trivially parallel.  The gradient norm sums a FIXED number of chunks (not
 * one per thread) and then adds the chunk sums in order, so its value is the
 * same for any thread count.  See LICENSE for copyright. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "stratagem/nn.h"
#include "nn_private.h"

#define PAR_WORK SG_NN_PAR_WORK
#define NORM_CHUNKS 64

void sg_adam_step(float *params, const float *grads, float *m, float *v, size_t n, float lr,
                  float beta1, float beta2, float eps, float weight_decay, int64_t t)
{
    /* Bias corrections once per step, in double so beta^t stays accurate for large t. */
    float c1 = (float)(1.0 - pow((double)beta1, (double)t));
    float c2 = (float)(1.0 - pow((double)beta2, (double)t));
    SG_PAR_SIMD(n > PAR_WORK)
    for (size_t i = 0; i < n; i++) {
        float g = grads[i];
        float mi = beta1 * m[i] + (1.0f - beta1) * g;
        float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        float mhat = mi / c1, vhat = vi / c2;
        /* Decoupled decay (AdamW): applied to the parameter, never mixed into m or v. */
        params[i] -= lr * (mhat / (sqrtf(vhat) + eps) + weight_decay * params[i]);
    }
}

double sg_grad_norm(const float *g, size_t n)
{
    double part[NORM_CHUNKS];
    size_t len = (n + NORM_CHUNKS - 1) / NORM_CHUNKS;
    SG_PAR_FOR(n > PAR_WORK)
    for (int c = 0; c < NORM_CHUNKS; c++) {
        size_t lo = (size_t)c * len, hi = lo + len;
        if (lo > n) lo = n;
        if (hi > n) hi = n;
        double s = 0.0;
        for (size_t i = lo; i < hi; i++) s += (double)g[i] * (double)g[i];
        part[c] = s;
    }
    double s = 0.0;
    for (int c = 0; c < NORM_CHUNKS; c++) s += part[c];
    return sqrt(s);
}

double sg_grad_clip(float *g, size_t n, double max_norm)
{
    double norm = sg_grad_norm(g, n);
    if (norm > max_norm && max_norm > 0.0) {
        float f = (float)(max_norm / norm);
        SG_PAR_SIMD(n > PAR_WORK)
        for (size_t i = 0; i < n; i++) g[i] *= f;
    }
    return norm;
}

int64_t sg_first_nonfinite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) return (int64_t)i;
    }
    return -1;
}

/* layernorm.c -- layer normalisation and the swish activation (added for RecVAE's
 * encoder, recommend.h).
 *
 * B = rows, C = features per row.  Layer norm normalises each row over its C
 * features (Ba et al. 2016): out = gamma (inp - mean) rstd + beta, rstd =
 * 1/sqrt(var + eps), biased variance, per-row statistics kept for the backward.
 * Rows are independent, so forward and the input gradient split rows over
 * threads; dgamma and dbeta sum rows in order on one thread, so results do not
 * depend on the thread count.  Row statistics are summed in double.  See LICENSE
 * for copyright. */
#include <math.h>
#include <stddef.h>

#include "stratagem/nn.h"
#include "nn_private.h"

#define PAR_WORK SG_NN_PAR_WORK

void sg_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                          const float *gamma, const float *beta, int B, int C, float eps)
{
    int64_t work = (int64_t)B * C;
    (void)work;
    SG_PAR_FOR(work > PAR_WORK)
    for (int b = 0; b < B; b++) {
        const float *x = inp + (size_t)b * C;
        float *y = out + (size_t)b * C;
        double s = 0.0;
        for (int c = 0; c < C; c++) s += (double)x[c];
        double mu = s / C;
        double v = 0.0;
        for (int c = 0; c < C; c++) {
            double d = (double)x[c] - mu;
            v += d * d;
        }
        float m = (float)mu, r = (float)(1.0 / sqrt(v / C + (double)eps));
        mean[b] = m;
        rstd[b] = r;
        SG_SIMD
        for (int c = 0; c < C; c++) y[c] = gamma[c] * ((x[c] - m) * r) + beta[c];
    }
}

void sg_layernorm_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
                           const float *inp, const float *mean, const float *rstd,
                           const float *gamma, int B, int C)
{
    int64_t work = (int64_t)B * C;
    (void)work;
    if (dinp) {
        /* dxhat = dout gamma; dinp += rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) */
        SG_PAR_FOR(work > PAR_WORK)
        for (int b = 0; b < B; b++) {
            const float *x = inp + (size_t)b * C, *dy = dout + (size_t)b * C;
            float *dx = dinp + (size_t)b * C;
            float m = mean[b], r = rstd[b];
            double s1 = 0.0, s2 = 0.0;
            for (int c = 0; c < C; c++) {
                double dh = (double)dy[c] * (double)gamma[c];
                s1 += dh;
                s2 += dh * (double)((x[c] - m) * r);
            }
            float m1 = (float)(s1 / C), m2 = (float)(s2 / C);
            SG_SIMD
            for (int c = 0; c < C; c++) {
                float xh = (x[c] - m) * r;
                dx[c] += r * (dy[c] * gamma[c] - m1 - xh * m2);
            }
        }
    }
    /* serial over rows, in order: each dgamma/dbeta element sums its rows in a fixed
     * order whatever the thread count (B*C multiply-adds, small next to the GEMMs) */
    for (int b = 0; b < B; b++) {
        const float *x = inp + (size_t)b * C, *dy = dout + (size_t)b * C;
        float m = mean[b], r = rstd[b];
        if (dgamma) {
            SG_SIMD
            for (int c = 0; c < C; c++) dgamma[c] += dy[c] * ((x[c] - m) * r);
        }
        if (dbeta) {
            SG_SIMD
            for (int c = 0; c < C; c++) dbeta[c] += dy[c];
        }
    }
}

/* sigmoid without overflow: exp of a non-positive number only */
static inline float sigm(float x)
{
    if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

void sg_swish_forward(float *out, const float *inp, size_t n)
{
    SG_PAR_FOR(n > PAR_WORK)
    for (size_t i = 0; i < n; i++) out[i] = inp[i] * sigm(inp[i]);
}

void sg_swish_backward(float *dinp, const float *dout, const float *inp, size_t n)
{
    SG_PAR_FOR(n > PAR_WORK)
    for (size_t i = 0; i < n; i++) {
        float x = inp[i], s = sigm(x);
        dinp[i] += dout[i] * (s * (1.0f + x * (1.0f - s)));
    }
}

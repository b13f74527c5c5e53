/* layers.c -- dense and sparse-input dense layers, activations, dropout, CSR helpers.
 *
 * B = batch size, D = input features, H = hidden units (output width).
 *
 * Forward and backward by hand, llm.c style; see nn.h for the conventions
 * (weights (D,H), gradients accumulate, CSR rows).  Dense math goes through
 * sg_sgemm (linalg.h), never BLAS directly.  The sparse layer never densifies
 * its input: forward is one axpy of a weight row per nonzero, backward scatters
 * one row of dW per nonzero.  OpenMP splits independent rows (forward) or
 * independent columns of dW (backward), and elementwise loops over large n;
 * no float is ever summed by two threads, so results do not depend on the
 * thread count.  See LICENSE for copyright. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "stratagem/linalg.h"
#include "stratagem/nn.h"
#include "nn_private.h"

#define PAR_WORK SG_NN_PAR_WORK

/* ---------------------------------------------------------------------------
 * dense layer */

void sg_dense_forward(float *out, const float *inp, const float *w, const float *b, int B, int D,
                      int H)
{
    if (B <= 0 || H <= 0) return;
    float beta = 0.0f;
    if (b) {
        /* Start from the bias and let the GEMM accumulate onto it: one pass fewer. */
        for (int i = 0; i < B; i++) memcpy(out + (size_t)i * H, b, (size_t)H * sizeof *out);
        beta = 1.0f;
    }
    sg_sgemm(0, 0, B, H, D, 1.0f, inp, w, beta, out);
}

/* db (H) += sum over the B rows of dout (B,H), rows in order. */
static void bias_backward(float *db, const float *dout, int B, int H)
{
    for (int i = 0; i < B; i++) {
        const float *g = dout + (size_t)i * H;
        SG_SIMD
        for (int h = 0; h < H; h++) db[h] += g[h];
    }
}

void sg_dense_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                       const float *w, int B, int D, int H)
{
    if (B <= 0) return;
    /* dinp (B,D) += dout (B,H) w^T (H,D) */
    if (dinp) sg_sgemm(0, 1, B, D, H, 1.0f, dout, w, 1.0f, dinp);
    /* dw (D,H) += inp^T (D,B) dout (B,H) */
    sg_sgemm(1, 0, D, H, B, 1.0f, inp, dout, 1.0f, dw);
    if (db) bias_backward(db, dout, B, H);
}

/* ---------------------------------------------------------------------------
 * sparse-input dense layer */

void sg_sparse_dense_forward(float *out, const int64_t *row_ptr, const int32_t *col_idx,
                             const float *values, const float *w, const float *b, int B, int D,
                             int H)
{
    (void)D;
    if (B <= 0 || H <= 0) return;
    int64_t work = (row_ptr[B] - row_ptr[0] + B) * (int64_t)H;
    (void)work;
    /* Each row is written by one thread only, in nonzero order. */
    SG_PAR_FOR(work > PAR_WORK)
    for (int i = 0; i < B; i++) {
        float *o = out + (size_t)i * H;
        if (b) {
            memcpy(o, b, (size_t)H * sizeof *o);
        } else {
            memset(o, 0, (size_t)H * sizeof *o);
        }
        for (int64_t k = row_ptr[i]; k < row_ptr[i + 1]; k++) {
            const float *wr = w + (size_t)col_idx[k] * H;
            float v = values ? values[k] : 1.0f;
            SG_SIMD
            for (int h = 0; h < H; h++) o[h] += v * wr[h];
        }
    }
}

/* dw[:, h0:h1] += X^T dout[:, h0:h1], nonzeros in row order. */
static void sparse_dw_slice(float *dw, const float *dout, const int64_t *row_ptr,
                            const int32_t *col_idx, const float *values, int B, int H, int h0,
                            int h1)
{
    for (int i = 0; i < B; i++) {
        const float *g = dout + (size_t)i * H;
        for (int64_t k = row_ptr[i]; k < row_ptr[i + 1]; k++) {
            float *d = dw + (size_t)col_idx[k] * H;
            float v = values ? values[k] : 1.0f;
            SG_SIMD
            for (int h = h0; h < h1; h++) d[h] += v * g[h];
        }
    }
}

void sg_sparse_dense_backward(float *dw, float *db, const float *dout, const int64_t *row_ptr,
                              const int32_t *col_idx, const float *values, int B, int D, int H)
{
    (void)D;
    if (B <= 0 || H <= 0) return;
    int64_t work = (row_ptr[B] - row_ptr[0]) * (int64_t)H;
    (void)work;
#ifdef _OPENMP
    if (work > PAR_WORK && H >= 32) {
        /* Rows of dW collide across the batch (two users share an item), so threads
         * split the H columns instead: a thread owns dw[:, h0:h1] and walks every
         * nonzero in order.  Slices are whole 16-float (64-byte) groups to keep
         * threads off each other's cache lines. */
#pragma omp parallel
        {
            int nt = omp_get_num_threads(), t = omp_get_thread_num();
            int groups = (H + 15) / 16;
            int h0 = 16 * (int)((int64_t)groups * t / nt);
            int h1 = 16 * (int)((int64_t)groups * (t + 1) / nt);
            if (h1 > H) h1 = H;
            if (h0 < h1) sparse_dw_slice(dw, dout, row_ptr, col_idx, values, B, H, h0, h1);
        }
    } else
#endif
    {
        sparse_dw_slice(dw, dout, row_ptr, col_idx, values, B, H, 0, H);
    }
    if (db) bias_backward(db, dout, B, H);
}

/* ---------------------------------------------------------------------------
 * activations */

void sg_tanh_forward(float *out, const float *inp, size_t n)
{
    SG_PAR_FOR(n > PAR_WORK)
    for (size_t i = 0; i < n; i++) out[i] = tanhf(inp[i]);
}

void sg_tanh_backward(float *dinp, const float *dout, const float *out, size_t n)
{
    SG_PAR_SIMD(n > PAR_WORK)
    for (size_t i = 0; i < n; i++) dinp[i] += dout[i] * (1.0f - out[i] * out[i]);
}

void sg_relu_forward(float *out, const float *inp, size_t n)
{
    SG_PAR_SIMD(n > PAR_WORK)
    for (size_t i = 0; i < n; i++) out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}

void sg_relu_backward(float *dinp, const float *dout, const float *out, size_t n)
{
    SG_PAR_SIMD(n > PAR_WORK)
    for (size_t i = 0; i < n; i++) {
        if (out[i] > 0.0f) dinp[i] += dout[i];
    }
}

void sg_leaky_relu_forward(float *out, const float *inp, size_t n, float slope)
{
    SG_PAR_SIMD(n > PAR_WORK)
    for (size_t i = 0; i < n; i++) out[i] = inp[i] > 0.0f ? inp[i] : slope * inp[i];
}

/* With slope >= 0, out > 0 exactly when inp > 0, so the output decides the branch. */
void sg_leaky_relu_backward(float *dinp, const float *dout, const float *out, size_t n,
                            float slope)
{
    SG_PAR_SIMD(n > PAR_WORK)
    for (size_t i = 0; i < n; i++) dinp[i] += out[i] > 0.0f ? dout[i] : slope * dout[i];
}

void sg_sigmoid_forward(float *out, const float *inp, size_t n)
{
    SG_PAR_FOR(n > PAR_WORK)
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        /* exp of a non-positive number only: no overflow for large |x|. */
        if (x >= 0.0f) {
            out[i] = 1.0f / (1.0f + expf(-x));
        } else {
            float e = expf(x);
            out[i] = e / (1.0f + e);
        }
    }
}

void sg_sigmoid_backward(float *dinp, const float *dout, const float *out, size_t n)
{
    SG_PAR_SIMD(n > PAR_WORK)
    for (size_t i = 0; i < n; i++) dinp[i] += dout[i] * out[i] * (1.0f - out[i]);
}

/* ---------------------------------------------------------------------------
 * dropout */

void sg_dropout_forward(float *out, float *mask, const float *inp, size_t n, float p,
                        sg_rng *rng)
{
    if (p <= 0.0f) {
        for (size_t i = 0; i < n; i++) {
            mask[i] = 1.0f;
            out[i] = inp[i];
        }
        return;
    }
    /* Serial: one uniform per element, in order, keeps the stream reproducible. */
    float keep = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++) {
        mask[i] = sg_rng_uniform(rng) < (double)p ? 0.0f : keep;
        out[i] = inp[i] * mask[i];
    }
}

void sg_dropout_backward(float *dinp, const float *dout, const float *mask, size_t n)
{
    SG_PAR_SIMD(n > PAR_WORK)
    for (size_t i = 0; i < n; i++) dinp[i] += dout[i] * mask[i];
}

int64_t sg_csr_dropout(int64_t *out_row_ptr, int32_t *out_col, float *out_val,
                       const int64_t *row_ptr, const int32_t *col_idx, const float *values, int B,
                       float p, sg_rng *rng)
{
    float scale = p > 0.0f ? 1.0f / (1.0f - p) : 1.0f;
    /* In place the write index never passes the read index (row_ptr[0] == 0), and
     * row_ptr[b+1] is read before out_row_ptr[b+1] overwrites it. */
    int64_t k0 = row_ptr[0], nw = 0;
    out_row_ptr[0] = 0;
    for (int i = 0; i < B; i++) {
        int64_t k1 = row_ptr[i + 1];
        for (int64_t k = k0; k < k1; k++) {
            if (p > 0.0f && sg_rng_uniform(rng) < (double)p) continue;
            out_col[nw] = col_idx[k];
            out_val[nw] = (values ? values[k] : 1.0f) * scale;
            nw++;
        }
        out_row_ptr[i + 1] = nw;
        k0 = k1;
    }
    return nw;
}

/* ---------------------------------------------------------------------------
 * CSR batch helpers */

int64_t sg_csr_gather(int64_t *out_row_ptr, int32_t *out_col, float *out_val,
                      const int64_t *row_ptr, const int32_t *col_idx, const float *values,
                      const int64_t *rows, int B, int64_t cap)
{
    int64_t nnz = 0;
    for (int i = 0; i < B; i++) nnz += row_ptr[rows[i] + 1] - row_ptr[rows[i]];
    if (nnz > cap) return -1;
    int64_t nw = 0;
    out_row_ptr[0] = 0;
    for (int i = 0; i < B; i++) {
        int64_t k0 = row_ptr[rows[i]], len = row_ptr[rows[i] + 1] - k0;
        memcpy(out_col + nw, col_idx + k0, (size_t)len * sizeof *out_col);
        if (values) {
            memcpy(out_val + nw, values + k0, (size_t)len * sizeof *out_val);
        } else {
            for (int64_t k = 0; k < len; k++) out_val[nw + k] = 1.0f;
        }
        nw += len;
        out_row_ptr[i + 1] = nw;
    }
    return nw;
}

int64_t sg_csr_keep(int64_t *out_row_ptr, int32_t *out_col, const int64_t *row_ptr,
                    const int32_t *col_idx, int B, const uint8_t *keep)
{
    /* in place, as sg_csr_dropout: the write index never passes the read index */
    int64_t k0 = row_ptr[0], nw = 0;
    out_row_ptr[0] = 0;
    for (int i = 0; i < B; i++) {
        int64_t k1 = row_ptr[i + 1];
        for (int64_t k = k0; k < k1; k++) {
            if (keep[col_idx[k]]) out_col[nw++] = col_idx[k];
        }
        out_row_ptr[i + 1] = nw;
        k0 = k1;
    }
    return nw;
}

void sg_csr_l2_normalize(float *values, const int64_t *row_ptr, int B)
{
    for (int i = 0; i < B; i++) {
        double s = 0.0;
        for (int64_t k = row_ptr[i]; k < row_ptr[i + 1]; k++) {
            s += (double)values[k] * (double)values[k];
        }
        if (s <= 0.0) continue;
        float inv = (float)(1.0 / sqrt(s));
        for (int64_t k = row_ptr[i]; k < row_ptr[i + 1]; k++) values[k] *= inv;
    }
}

int sg_csr_check(const int64_t *row_ptr, const int32_t *col_idx, int B, int D, sg_error *err)
{
    if (B < 0 || D < 0) {
        return sg_error_set(err, SG_EINVAL, "csr: bad sizes B=%d D=%d", B, D);
    }
    if (row_ptr[0] < 0) {
        return sg_error_set(err, SG_EINVAL, "csr: row_ptr[0] = %lld is negative",
                            (long long)row_ptr[0]);
    }
    for (int i = 0; i < B; i++) {
        if (row_ptr[i + 1] < row_ptr[i]) {
            return sg_error_set(err, SG_EINVAL, "csr: row %d: row_ptr decreases (%lld -> %lld)",
                                i, (long long)row_ptr[i], (long long)row_ptr[i + 1]);
        }
        for (int64_t k = row_ptr[i]; k < row_ptr[i + 1]; k++) {
            if (col_idx[k] < 0 || col_idx[k] >= D) {
                return sg_error_set(err, SG_EINVAL,
                                    "csr: row %d, entry %lld: column %d outside [0, %d)", i,
                                    (long long)k, (int)col_idx[k], D);
            }
        }
    }
    return SG_OK;
}

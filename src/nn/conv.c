/* conv.c -- 2-D convolution, transposed convolution and batch normalisation.
 *
 * B = batch size, H, W = input height and width, C = input channels,
 * OH, OW, OC = output height, width and channels, K = kernel size (square),
 * S = stride, P = zero padding, N = rows of a batch-norm input (B*H*W).
 *
 * Images are NHWC: (B,H,W,C) row-major, the channel innermost.  With that
 * layout a convolution is one GEMM and needs no transposes: im2col writes one
 * row of K*K*C values per output position (kh, kw, c order), so
 *   out (B*OH*OW, OC) = col (B*OH*OW, K*K*C) w (K*K*C, OC),
 * exactly a dense layer whose weight is the (K,K,C,OC) kernel seen as (D,H).
 * A transposed convolution is the adjoint of a convolution: its forward is the
 * convolution's input gradient (a GEMM then col2im) and its backward is the
 * convolution's forward (im2col then a GEMM).  Batch norm on NHWC data is batch
 * norm on an (N,C) matrix, so one kernel serves both the 2-D and 1-D cases.
 *
 * Determinism: im2col splits output rows over threads, col2im splits images
 * (each image's region is written by one thread, in a fixed order), and every
 * per-channel sum runs over rows in order inside one thread, accumulated in
 * double.  Results are therefore identical for any OpenMP thread count; the
 * GEMMs are deterministic for a fixed BLAS thread count.  See LICENSE for
 * copyright. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "stratagem/linalg.h"
#include "stratagem/nn.h"
#include "nn_private.h"

#define PAR_WORK SG_NN_PAR_WORK
#define CB 16   /* channels per reduction block: one cache line of floats */

/* ---------------------------------------------------------------------------
 * im2col / col2im */

int sg_conv2d_out_size(int n, int K, int S, int P)
{
    if (n < 1 || K < 1 || S < 1 || P < 0 || n + 2 * P < K) return 0;
    return (n + 2 * P - K) / S + 1;
}

int sg_conv_transpose2d_out_size(int n, int K, int S, int P)
{
    if (n < 1 || K < 1 || S < 1 || P < 0) return 0;
    int o = (n - 1) * S - 2 * P + K;
    return o > 0 ? o : 0;
}

void sg_im2col(float *col, const float *inp, int B, int H, int W, int C, int K, int S, int P)
{
    int OH = sg_conv2d_out_size(H, K, S, P), OW = sg_conv2d_out_size(W, K, S, P);
    size_t KKC = (size_t)K * K * C;
    int rows = B * OH * OW;
    SG_PAR_FOR((size_t)rows * KKC > PAR_WORK)
    for (int r = 0; r < rows; r++) {
        int ow = r % OW, oh = (r / OW) % OH, b = r / (OW * OH);
        float *dst = col + (size_t)r * KKC;
        const float *img = inp + (size_t)b * H * W * C;
        for (int kh = 0; kh < K; kh++) {
            int ih = oh * S - P + kh;
            for (int kw = 0; kw < K; kw++) {
                int iw = ow * S - P + kw;
                float *d = dst + ((size_t)kh * K + kw) * C;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) {
                    memset(d, 0, (size_t)C * sizeof *d);
                } else {
                    memcpy(d, img + ((size_t)ih * W + iw) * C, (size_t)C * sizeof *d);
                }
            }
        }
    }
}

void sg_col2im(float *dinp, const float *col, int B, int H, int W, int C, int K, int S, int P)
{
    int OH = sg_conv2d_out_size(H, K, S, P), OW = sg_conv2d_out_size(W, K, S, P);
    size_t KKC = (size_t)K * K * C;
    /* One image per iteration: windows of one image overlap, so the scatter-adds of
     * an image stay in one thread, in row order. */
    SG_PAR_FOR((size_t)B * OH * OW * KKC > PAR_WORK)
    for (int b = 0; b < B; b++) {
        float *img = dinp + (size_t)b * H * W * C;
        for (int oh = 0; oh < OH; oh++) {
            for (int ow = 0; ow < OW; ow++) {
                const float *src = col + (((size_t)b * OH + oh) * OW + ow) * KKC;
                for (int kh = 0; kh < K; kh++) {
                    int ih = oh * S - P + kh;
                    if (ih < 0 || ih >= H) continue;
                    for (int kw = 0; kw < K; kw++) {
                        int iw = ow * S - P + kw;
                        if (iw < 0 || iw >= W) continue;
                        const float *s = src + ((size_t)kh * K + kw) * C;
                        float *d = img + ((size_t)ih * W + iw) * C;
                        SG_SIMD
                        for (int c = 0; c < C; c++) d[c] += s[c];
                    }
                }
            }
        }
    }
}

/* ---------------------------------------------------------------------------
 * per-channel helpers */

/* out (N,C) += b (C) on every row. */
static void add_bias(float *out, const float *b, int N, int C)
{
    SG_PAR_FOR((size_t)N * C > PAR_WORK)
    for (int n = 0; n < N; n++) {
        float *o = out + (size_t)n * C;
        SG_SIMD
        for (int c = 0; c < C; c++) o[c] += b[c];
    }
}

/* db (C) += column sums of dout (N,C); each channel summed in row order in double. */
static void bias_backward(float *db, const float *dout, int N, int C)
{
    SG_PAR_FOR((size_t)N * C > PAR_WORK)
    for (int cb = 0; cb < C; cb += CB) {
        int ce = SG_MIN(cb + CB, C);
        double s[CB] = {0};
        for (int n = 0; n < N; n++) {
            const float *row = dout + (size_t)n * C;
            for (int c = cb; c < ce; c++) s[c - cb] += (double)row[c];
        }
        for (int c = cb; c < ce; c++) db[c] += (float)s[c - cb];
    }
}

/* ---------------------------------------------------------------------------
 * convolution */

void sg_conv2d_forward(float *out, float *col, const float *inp, const float *w, const float *b,
                       int B, int H, int W, int C, int OC, int K, int S, int P)
{
    int OH = sg_conv2d_out_size(H, K, S, P), OW = sg_conv2d_out_size(W, K, S, P);
    int rows = B * OH * OW, KKC = K * K * C;
    sg_im2col(col, inp, B, H, W, C, K, S, P);
    sg_sgemm(0, 0, rows, OC, KKC, 1.0f, col, w, 0.0f, out);
    if (b) add_bias(out, b, rows, OC);
}

void sg_conv2d_backward(float *dinp, float *dw, float *db, float *col, const float *dout,
                        const float *inp, const float *w, int B, int H, int W, int C, int OC,
                        int K, int S, int P)
{
    int OH = sg_conv2d_out_size(H, K, S, P), OW = sg_conv2d_out_size(W, K, S, P);
    int rows = B * OH * OW, KKC = K * K * C;
    /* dw (KKC,OC) += col^T dout, with col rebuilt from the input */
    if (dw) {
        sg_im2col(col, inp, B, H, W, C, K, S, P);
        sg_sgemm(1, 0, KKC, OC, rows, 1.0f, col, dout, 1.0f, dw);
    }
    if (db) bias_backward(db, dout, rows, OC);
    if (dinp) {
        /* dcol = dout w^T (reusing col), scattered back onto the input */
        sg_sgemm(0, 1, rows, KKC, OC, 1.0f, dout, w, 0.0f, col);
        sg_col2im(dinp, col, B, H, W, C, K, S, P);
    }
}

void sg_conv2d_forward_ref(float *out, const float *inp, const float *w, const float *b, int B,
                           int H, int W, int C, int OC, int K, int S, int P)
{
    int OH = sg_conv2d_out_size(H, K, S, P), OW = sg_conv2d_out_size(W, K, S, P);
    for (int n = 0; n < B; n++)
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++)
                for (int o = 0; o < OC; o++) {
                    double acc = b ? (double)b[o] : 0.0;
                    for (int kh = 0; kh < K; kh++)
                        for (int kw = 0; kw < K; kw++)
                            for (int c = 0; c < C; c++) {
                                int ih = oh * S - P + kh, iw = ow * S - P + kw;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                acc += (double)inp[(((size_t)n * H + ih) * W + iw) * C + c] *
                                       (double)w[(((size_t)kh * K + kw) * C + c) * OC + o];
                            }
                    out[(((size_t)n * OH + oh) * OW + ow) * OC + o] = (float)acc;
                }
}

/* ---------------------------------------------------------------------------
 * transposed convolution */

void sg_conv_transpose2d_forward(float *out, float *col, const float *inp, const float *w,
                                 const float *b, int B, int H, int W, int C, int OC, int K, int S,
                                 int P)
{
    int OH = sg_conv_transpose2d_out_size(H, K, S, P);
    int OW = sg_conv_transpose2d_out_size(W, K, S, P);
    int rows = B * H * W, KKOC = K * K * OC;
    /* col (B*H*W, K*K*OC) = inp w: each input pixel's contribution to its window */
    sg_sgemm(0, 0, rows, KKOC, C, 1.0f, inp, w, 0.0f, col);
    memset(out, 0, (size_t)B * OH * OW * OC * sizeof *out);
    sg_col2im(out, col, B, OH, OW, OC, K, S, P);
    if (b) add_bias(out, b, B * OH * OW, OC);
}

void sg_conv_transpose2d_backward(float *dinp, float *dw, float *db, float *col,
                                  const float *dout, const float *inp, const float *w, int B,
                                  int H, int W, int C, int OC, int K, int S, int P)
{
    int OH = sg_conv_transpose2d_out_size(H, K, S, P);
    int OW = sg_conv_transpose2d_out_size(W, K, S, P);
    int rows = B * H * W, KKOC = K * K * OC;
    /* dcol = im2col(dout): the windows each input pixel wrote to */
    sg_im2col(col, dout, B, OH, OW, OC, K, S, P);
    if (dw) sg_sgemm(1, 0, C, KKOC, rows, 1.0f, inp, col, 1.0f, dw); /* dw += inp^T dcol */
    if (dinp) sg_sgemm(0, 1, rows, C, KKOC, 1.0f, col, w, 1.0f, dinp); /* dinp += dcol w^T */
    if (db) bias_backward(db, dout, B * OH * OW, OC);
}

void sg_conv_transpose2d_forward_ref(float *out, const float *inp, const float *w,
                                     const float *b, int B, int H, int W, int C, int OC, int K,
                                     int S, int P)
{
    int OH = sg_conv_transpose2d_out_size(H, K, S, P);
    int OW = sg_conv_transpose2d_out_size(W, K, S, P);
    /* Gather form: out(oh,ow) sums the input pixels (ih,iw) with ih*S - P + kh == oh. */
    for (int n = 0; n < B; n++)
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++)
                for (int o = 0; o < OC; o++) {
                    double acc = b ? (double)b[o] : 0.0;
                    for (int ih = 0; ih < H; ih++)
                        for (int iw = 0; iw < W; iw++) {
                            int kh = oh - (ih * S - P), kw = ow - (iw * S - P);
                            if (kh < 0 || kh >= K || kw < 0 || kw >= K) continue;
                            for (int c = 0; c < C; c++)
                                acc += (double)inp[(((size_t)n * H + ih) * W + iw) * C + c] *
                                       (double)w[(((size_t)c * K + kh) * K + kw) * OC + o];
                        }
                    out[(((size_t)n * OH + oh) * OW + ow) * OC + o] = (float)acc;
                }
}

/* ---------------------------------------------------------------------------
 * batch normalisation over the rows of an (N,C) matrix */

void sg_batchnorm_forward(float *out, float *mean, float *rstd, float *running_mean,
                          float *running_var, const float *inp, const float *gamma,
                          const float *beta, int N, int C, float momentum, float eps)
{
    /* Two passes per channel (mean, then squared deviations) in double: stable
     * for inputs far from zero, where E[x^2] - E[x]^2 cancels. */
    SG_PAR_FOR((size_t)N * C > PAR_WORK)
    for (int cb = 0; cb < C; cb += CB) {
        int ce = SG_MIN(cb + CB, C);
        double s[CB] = {0}, q[CB] = {0};
        for (int n = 0; n < N; n++) {
            const float *row = inp + (size_t)n * C;
            for (int c = cb; c < ce; c++) s[c - cb] += (double)row[c];
        }
        for (int c = cb; c < ce; c++) s[c - cb] /= (double)N;
        for (int n = 0; n < N; n++) {
            const float *row = inp + (size_t)n * C;
            for (int c = cb; c < ce; c++) {
                double d = (double)row[c] - s[c - cb];
                q[c - cb] += d * d;
            }
        }
        for (int c = cb; c < ce; c++) {
            double var = q[c - cb] / (double)N;   /* biased: what normalises the batch */
            mean[c] = (float)s[c - cb];
            rstd[c] = (float)(1.0 / sqrt(var + (double)eps));
            if (running_mean) {
                /* the running variance is unbiased, as in PyTorch */
                double unb = N > 1 ? q[c - cb] / (double)(N - 1) : var;
                running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * mean[c];
                running_var[c] = (1.0f - momentum) * running_var[c] + momentum * (float)unb;
            }
        }
    }
    SG_PAR_FOR((size_t)N * C > PAR_WORK)
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        float *y = out + (size_t)n * C;
        SG_SIMD
        for (int c = 0; c < C; c++) y[c] = gamma[c] * ((x[c] - mean[c]) * rstd[c]) + beta[c];
    }
}

void sg_batchnorm_forward_eval(float *out, const float *inp, const float *gamma,
                               const float *beta, const float *running_mean,
                               const float *running_var, int N, int C, float eps)
{
    SG_PAR_FOR((size_t)N * C > PAR_WORK)
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        float *y = out + (size_t)n * C;
        for (int c = 0; c < C; c++) {
            float r = 1.0f / sqrtf(running_var[c] + eps);
            y[c] = gamma[c] * ((x[c] - running_mean[c]) * r) + beta[c];
        }
    }
}

void sg_batchnorm_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
                           const float *inp, const float *mean, const float *rstd,
                           const float *gamma, int N, int C)
{
    /* With xhat = (x - mean) rstd and y = gamma xhat + beta:
     *   dbeta = sum dy,  dgamma = sum dy xhat,
     *   dx = gamma rstd / N (N dy - sum dy - xhat sum dy xhat). */
    SG_PAR_FOR((size_t)N * C > PAR_WORK)
    for (int cb = 0; cb < C; cb += CB) {
        int ce = SG_MIN(cb + CB, C);
        double sdy[CB] = {0}, sdyx[CB] = {0};
        for (int n = 0; n < N; n++) {
            const float *dy = dout + (size_t)n * C, *x = inp + (size_t)n * C;
            for (int c = cb; c < ce; c++) {
                double xh = ((double)x[c] - (double)mean[c]) * (double)rstd[c];
                sdy[c - cb] += (double)dy[c];
                sdyx[c - cb] += (double)dy[c] * xh;
            }
        }
        for (int c = cb; c < ce; c++) {
            dbeta[c] += (float)sdy[c - cb];
            dgamma[c] += (float)sdyx[c - cb];
        }
        for (int n = 0; n < N; n++) {
            const float *dy = dout + (size_t)n * C, *x = inp + (size_t)n * C;
            float *dx = dinp + (size_t)n * C;
            for (int c = cb; c < ce; c++) {
                double xh = ((double)x[c] - (double)mean[c]) * (double)rstd[c];
                double g = (double)gamma[c] * (double)rstd[c] / (double)N;
                dx[c] += (float)(g * ((double)N * (double)dy[c] - sdy[c - cb] -
                                      xh * sdyx[c - cb]));
            }
        }
    }
}

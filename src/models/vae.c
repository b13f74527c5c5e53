/* vae.c -- Mult-VAE and Mult-DAE for collaborative filtering (Liang et al. 2018).
 *
 * B = batch size (users), I = items, H = hidden units (600), Z = latent size (200).
 *
 * Networks (weights (in,out) as in nn.h, tanh between layers, none at the ends):
 *   vae  x (B,I) -> L2-normalise -> dropout -> h1 (B,H) -> mu, logvar (B,Z)
 *        -> z = mu + exp(logvar/2) eps -> h2 (B,H) -> logits (B,I)
 *   dae  x (B,I) -> L2-normalise -> dropout -> code (B,Z) -> h2 (B,H) -> logits (B,I)
 * Loss per batch: -(1/B) sum_b sum_{i in x_b} log softmax(logits_b)_i, plus for
 * the vae beta * (1/B) KL(q(z|x) || N(0,I)), beta = min(beta_cap, step /
 * anneal_steps) taken before the step; plus for the dae l2 * sum w^2 (coupled
 * with Adam, as the paper's code).  At evaluation there is no dropout and z = mu.
 *
 * Cost: the input layer reads only the nonzeros of x (sparse CSR layer, never a
 * dense (B,I) input); the output layer is three (B,H)x(H,I)-sized GEMMs through
 * sg_sgemm, and the softmax over I items is one fused pass per row (max, one
 * exp per item, the loss read at the nonzeros, the gradient written in place of
 * the logits).  The exp is a polynomial the compiler vectorises (libm's expf
 * is scalar without -ffast-math), accurate to about 2 ulp on the softmax's
 * range x <= 0.
 *
 * Determinism: the RNG is split into fixed streams (init, shuffle, dropout,
 * noise), loss sums are per row in double and then added in row order, and the
 * nn kernels are thread-count invariant; BLAS is deterministic for a fixed
 * thread count.  See LICENSE for copyright. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "recommend_private.h"
#include "nn/nn_private.h"
#include "stratagem/linalg.h"
#include "stratagem/log.h"
#include "stratagem/mem.h"
#include "stratagem/rng.h"

/* RNG streams split from the seed. */
enum { STREAM_INIT = 1, STREAM_SHUFFLE = 2, STREAM_DROPOUT = 3, STREAM_NOISE = 4 };

#define EVAL_CHUNK 256   /* users per forward pass at evaluation */

/* ---------------------------------------------------------------------------
 * network definition */

/* Tensor indices in the parameter block (vae order; the dae has no mu/logvar
 * heads, its encoder maps straight to the code). */
enum { T_ENC_W0, T_ENC_B0, T_ENC_WMU, T_ENC_BMU, T_ENC_WLV, T_ENC_BLV,
       T_DEC_W0, T_DEC_B0, T_DEC_W1, T_DEC_B1, T_COUNT };
enum { D_ENC_W0, D_ENC_B0, D_DEC_W0, D_DEC_B0, D_DEC_W1, D_DEC_B1, D_COUNT };

typedef struct net {
    int vae;                  /* 1 vae, 0 dae */
    int I, H, Z, E;           /* E = encoder width: H (vae) or Z (dae) */
    float *enc_w0, *enc_b0;   /* (I,E), (E) */
    float *enc_wmu, *enc_bmu; /* (H,Z), (Z)  vae only */
    float *enc_wlv, *enc_blv; /* (H,Z), (Z)  vae only */
    float *dec_w0, *dec_b0;   /* (Z,H), (H) */
    float *dec_w1, *dec_b1;   /* (H,I), (I) */
} net;

/* Pointers into params (p = 0) or grads (p = 1). */
static net net_view(const sg_recommender *m, int grads)
{
    net n;
    sg_params *P = m->params;
    n.vae = m->kind == SG_REC_VAE;
    n.I = m->n_items;
    n.H = m->opts.hidden;
    n.Z = m->opts.latent;
    n.E = n.vae ? n.H : n.Z;
#define T(i) (grads ? sg_params_grad(P, (i)) : sg_params_tensor(P, (i)))
    if (n.vae) {
        n.enc_w0 = T(T_ENC_W0);
        n.enc_b0 = T(T_ENC_B0);
        n.enc_wmu = T(T_ENC_WMU);
        n.enc_bmu = T(T_ENC_BMU);
        n.enc_wlv = T(T_ENC_WLV);
        n.enc_blv = T(T_ENC_BLV);
        n.dec_w0 = T(T_DEC_W0);
        n.dec_b0 = T(T_DEC_B0);
        n.dec_w1 = T(T_DEC_W1);
        n.dec_b1 = T(T_DEC_B1);
    } else {
        n.enc_w0 = T(D_ENC_W0);
        n.enc_b0 = T(D_ENC_B0);
        n.enc_wmu = n.enc_bmu = n.enc_wlv = n.enc_blv = NULL;
        n.dec_w0 = T(D_DEC_W0);
        n.dec_b0 = T(D_DEC_B0);
        n.dec_w1 = T(D_DEC_W1);
        n.dec_b1 = T(D_DEC_B1);
    }
#undef T
    return n;
}

int sg_vae_build(sg_recommender *m, int train, int init, sg_error *err)
{
    int I = m->n_items, H = m->opts.hidden, Z = m->opts.latent;
    int vae = m->kind == SG_REC_VAE;
    sg_tensor_spec vs[T_COUNT] = {
        {"enc.w0", 2, {I, H}}, {"enc.b0", 1, {H}},  {"enc.wmu", 2, {H, Z}},
        {"enc.bmu", 1, {Z}},   {"enc.wlv", 2, {H, Z}}, {"enc.blv", 1, {Z}},
        {"dec.w0", 2, {Z, H}}, {"dec.b0", 1, {H}},  {"dec.w1", 2, {H, I}},
        {"dec.b1", 1, {I}},
    };
    sg_tensor_spec ds[D_COUNT] = {
        {"enc.w0", 2, {I, Z}}, {"enc.b0", 1, {Z}}, {"dec.w0", 2, {Z, H}},
        {"dec.b0", 1, {H}},    {"dec.w1", 2, {H, I}}, {"dec.b1", 1, {I}},
    };
    sg_params_free(m->params);
    m->params = NULL;
    int rc = sg_params_new(&m->params, vae ? vs : ds, vae ? T_COUNT : D_COUNT, train, err);
    if (rc) return rc;
    if (!init) return SG_OK;
    /* Glorot-uniform weights, N(0, 0.001) biases, as the paper's code; drawn in
     * tensor order from one stream. */
    sg_rng root, r;
    sg_rng_init(&root, m->opts.seed);
    sg_rng_split(&root, STREAM_INIT, &r);
    int n_t = sg_params_n_tensors(m->params);
    for (int t = 0; t < n_t; t++) {
        int shape[SG_MAX_DIMS];
        int nd = sg_params_shape(m->params, t, shape);
        float *w = sg_params_tensor(m->params, t);
        if (nd == 2) {
            sg_init_xavier_uniform(w, shape[0], shape[1], &r);
        } else {
            sg_init_normal(w, (size_t)shape[0], 0.0f, 0.001f, &r);
        }
    }
    return SG_OK;
}

int64_t sg_vae_steps_per_epoch(const sg_recommender *m, int n_users)
{
    int B = m->opts.batch;
    return ((int64_t)n_users + B - 1) / B;
}

/* ---------------------------------------------------------------------------
 * fused softmax + multinomial loss */

/* exp(x) for x <= 0: Cody-Waite reduction x = n ln2 + r, Cephes' degree-6
 * polynomial for exp(r), 2^n through the exponent bits.  Branch-free and
 * without library calls, so loops over it vectorise.  x below -87 gives about
 * 1.6e-38 rather than 0: harmless after a max shift. */
static inline float exp_nonpos(float x)
{
    /* written so that NaN becomes -87 (the caller detects NaN in the loss): the
     * float-to-int conversion below must never see NaN or an infinity */
    x = x > -87.0f ? x : -87.0f;
    x = x < 0.0f ? x : 0.0f;
    float t = x * 1.44269504088896341f;
    float n = (t + 12582912.0f) - 12582912.0f;   /* round to nearest, |t| < 2^22 */
    float r = x - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    uint32_t e = (uint32_t)((int32_t)n + 127) << 23;
    float s;
    memcpy(&s, &e, sizeof s);
    return p * s;
}

/* For each row b: loss_b = sum_{i in x_b} (lse_b - logits_bi), and, when
 * 'grad', logits_b is overwritten by the gradient of scale * sum_b loss_b:
 * scale * (n_b softmax_b - x_b).  x is CSR (values all one).  [out] loss (B). */
static void softmax_nll(float *logits, double *loss, const int64_t *row_ptr,
                        const int32_t *col_idx, int B, int I, float scale, int grad)
{
    int64_t work = (int64_t)B * I;
    (void)work;
    SG_PAR_FOR(work > SG_NN_PAR_WORK)
    for (int b = 0; b < B; b++) {
        float *l = logits + (size_t)b * I;
        float mx = -INFINITY;
        for (int i = 0; i < I; i++) mx = l[i] > mx ? l[i] : mx;
        int64_t k0 = row_ptr[b], k1 = row_ptr[b + 1];
        /* the loss needs the logits at the nonzeros before they are overwritten */
        double picked = 0.0;
        for (int64_t k = k0; k < k1; k++) picked += (double)(l[col_idx[k]] - mx);
        float s = 0.0f;
        if (grad) {
            SG_SIMD
            for (int i = 0; i < I; i++) l[i] = exp_nonpos(l[i] - mx);
            /* fixed-order sum of the exps in 8 lanes, then the lanes in order */
            float lane[8] = {0};
            int i = 0;
            for (; i + 8 <= I; i += 8) {
                for (int q = 0; q < 8; q++) lane[q] += l[i + q];
            }
            for (; i < I; i++) lane[i & 7] += l[i];
            for (int q = 0; q < 8; q++) s += lane[q];
        } else {
            float lane[8] = {0};
            int i = 0;
            for (; i + 8 <= I; i += 8) {
                for (int q = 0; q < 8; q++) lane[q] += exp_nonpos(l[i + q] - mx);
            }
            for (; i < I; i++) lane[i & 7] += exp_nonpos(l[i] - mx);
            for (int q = 0; q < 8; q++) s += lane[q];
        }
        /* relative to mx; a NaN or infinite logit makes the row's loss NaN, which
         * the training loop reports */
        double lse = isfinite(mx) ? log((double)s) : (double)NAN;
        double n_b = (double)(k1 - k0);
        loss[b] = n_b * lse - picked;
        if (grad) {
            float g = (float)((double)scale * n_b / (double)s);
            SG_SIMD
            for (int i = 0; i < I; i++) l[i] *= g;
            for (int64_t k = k0; k < k1; k++) l[col_idx[k]] -= scale;
        }
    }
}

/* ---------------------------------------------------------------------------
 * activations (one block, sized for the largest batch) */

typedef struct acts {
    int B_max;
    int64_t nnz_max;
    int64_t *rp_x, *rp_in;    /* (B+1) raw batch rows, input rows after dropout */
    int32_t *col_x, *col_in;  /* (nnz_max) */
    float *val_in;            /* (nnz_max) normalised, dropped-out values */
    int64_t *rows;            /* (B) user indices of the batch */
    double *loss;             /* (B) per-row loss */
    float *block;             /* all float activations below */
    float *h1;                /* (B,E) encoder hidden (vae) or code (dae) */
    float *mu, *lv, *eps, *z; /* (B,Z) vae */
    float *h2;                /* (B,H) decoder hidden */
    float *logits;            /* (B,I) logits, then their gradient */
    float *dh2, *dpre2;       /* (B,H) */
    float *dz, *dmu, *dlv;    /* (B,Z) */
    float *dh1, *dpre1;       /* (B,E) */
} acts;

static void acts_free(acts *a)
{
    sg_free(a->rp_x);
    sg_free(a->rp_in);
    sg_free(a->col_x);
    sg_free(a->col_in);
    sg_free(a->val_in);
    sg_free(a->rows);
    sg_free(a->loss);
    sg_free(a->block);
    memset(a, 0, sizeof *a);
}

static int acts_alloc(acts *a, const net *n, int B, int64_t nnz_max, int train)
{
    memset(a, 0, sizeof *a);
    a->B_max = B;
    a->nnz_max = nnz_max;
    size_t Bz = (size_t)B;
    size_t nf = Bz * (size_t)n->E + Bz * (size_t)n->H + Bz * (size_t)n->I;
    if (n->vae) nf += 4 * Bz * (size_t)n->Z;
    if (train) nf += 2 * Bz * (size_t)n->H + 3 * Bz * (size_t)n->Z + 2 * Bz * (size_t)n->E;
    a->rp_x = sg_malloc_array(Bz + 1, sizeof *a->rp_x);
    a->rp_in = sg_malloc_array(Bz + 1, sizeof *a->rp_in);
    a->col_x = sg_malloc_array(nnz_max > 0 ? (size_t)nnz_max : 1, sizeof *a->col_x);
    a->col_in = sg_malloc_array(nnz_max > 0 ? (size_t)nnz_max : 1, sizeof *a->col_in);
    a->val_in = sg_malloc_array(nnz_max > 0 ? (size_t)nnz_max : 1, sizeof *a->val_in);
    a->rows = sg_malloc_array(Bz, sizeof *a->rows);
    a->loss = sg_malloc_array(Bz, sizeof *a->loss);
    a->block = sg_malloc_array(nf, sizeof *a->block);
    if (!a->rp_x || !a->rp_in || !a->col_x || !a->col_in || !a->val_in || !a->rows ||
        !a->loss || !a->block) {
        acts_free(a);
        return SG_ENOMEM;
    }
    float *p = a->block;
#define TAKE(ptr, count) do { (ptr) = p; p += (count); } while (0)
    TAKE(a->h1, Bz * (size_t)n->E);
    TAKE(a->h2, Bz * (size_t)n->H);
    TAKE(a->logits, Bz * (size_t)n->I);
    if (n->vae) {
        TAKE(a->mu, Bz * (size_t)n->Z);
        TAKE(a->lv, Bz * (size_t)n->Z);
        TAKE(a->eps, Bz * (size_t)n->Z);
        TAKE(a->z, Bz * (size_t)n->Z);
    } else {
        a->z = a->h1;   /* the dae decodes its code directly */
    }
    if (train) {
        TAKE(a->dh2, Bz * (size_t)n->H);
        TAKE(a->dpre2, Bz * (size_t)n->H);
        TAKE(a->dz, Bz * (size_t)n->Z);
        TAKE(a->dmu, Bz * (size_t)n->Z);
        TAKE(a->dlv, Bz * (size_t)n->Z);
        TAKE(a->dh1, Bz * (size_t)n->E);
        TAKE(a->dpre1, Bz * (size_t)n->E);
    }
#undef TAKE
    return SG_OK;
}

/* ---------------------------------------------------------------------------
 * forward and backward passes */

/* Encoder and decoder on the input CSR in a->rp_in/col_in/val_in (B rows):
 * fills h1, (mu, lv, z), h2, logits.  'noise' != NULL samples z (training);
 * NULL uses z = mu. */
static void forward(const net *n, acts *a, int B, sg_rng *noise)
{
    int E = n->E, H = n->H, Z = n->Z, I = n->I;
    /* h1 = tanh(x_in W0 + b0): sparse input layer, O(nnz * E) */
    sg_sparse_dense_forward(a->h1, a->rp_in, a->col_in, a->val_in, n->enc_w0, n->enc_b0, B, I,
                            E);
    sg_tanh_forward(a->h1, a->h1, (size_t)B * E);
    if (n->vae) {
        /* Gaussian heads; z sampled while training, the mean otherwise */
        sg_dense_forward(a->mu, a->h1, n->enc_wmu, n->enc_bmu, B, H, Z);
        sg_dense_forward(a->lv, a->h1, n->enc_wlv, n->enc_blv, B, H, Z);
        if (noise) {
            sg_reparam_forward(a->z, a->eps, a->mu, a->lv, (size_t)B * Z, noise);
        } else {
            memcpy(a->z, a->mu, (size_t)B * Z * sizeof *a->z);
        }
    }
    /* h2 = tanh(z Wd0 + bd0); logits = h2 Wd1 + bd1 */
    sg_dense_forward(a->h2, a->z, n->dec_w0, n->dec_b0, B, Z, H);
    sg_tanh_forward(a->h2, a->h2, (size_t)B * H);
    sg_dense_forward(a->logits, a->h2, n->dec_w1, n->dec_b1, B, H, I);
}

/* Clear the gradients that backward accumulates into: all but the output
 * layer's (dec.w1 and dec.b1, the last two tensors of both networks), which
 * backward overwrites.  Saves a pass over H*I floats per step. */
static void zero_grad(sg_params *P)
{
    int t = sg_params_n_tensors(P) - 2;
    memset(sg_params_grads(P), 0, sg_params_offset(P, t) * sizeof(float));
}

/* Backward from the logit gradient in a->logits (already scaled by 1/B) and
 * the KL weight 'kl' (beta/B; vae only).  The output layer's gradients are
 * written, every other one is accumulated into the grads 'g' (zero_grad). */
static void backward(const net *n, const net *g, acts *a, int B, float kl)
{
    int E = n->E, H = n->H, Z = n->Z, I = n->I;
    size_t BH = (size_t)B * H, BZ = (size_t)B * Z, BE = (size_t)B * E;
    /* output layer, as sg_dense_backward but overwriting: dh2 = dlogits Wd1^T,
     * dWd1 = h2^T dlogits, dbd1 = column sums of dlogits (rows in order) */
    sg_sgemm(0, 1, B, H, I, 1.0f, a->logits, n->dec_w1, 0.0f, a->dh2);
    sg_sgemm(1, 0, H, I, B, 1.0f, a->h2, a->logits, 0.0f, g->dec_w1);
    memcpy(g->dec_b1, a->logits, (size_t)I * sizeof *g->dec_b1);
    for (int b = 1; b < B; b++) {
        const float *r = a->logits + (size_t)b * I;
        SG_SIMD
        for (int i = 0; i < I; i++) g->dec_b1[i] += r[i];
    }
    /* decoder tanh */
    memset(a->dpre2, 0, BH * sizeof *a->dpre2);
    sg_tanh_backward(a->dpre2, a->dh2, a->h2, BH);
    /* decoder input layer: dWd0, dbd0, dz */
    memset(a->dz, 0, BZ * sizeof *a->dz);
    sg_dense_backward(a->dz, g->dec_w0, g->dec_b0, a->dpre2, a->z, n->dec_w0, B, Z, H);
    memset(a->dh1, 0, BE * sizeof *a->dh1);
    if (n->vae) {
        /* reparameterisation, then the KL term on mu and logvar */
        memset(a->dmu, 0, BZ * sizeof *a->dmu);
        memset(a->dlv, 0, BZ * sizeof *a->dlv);
        sg_reparam_backward(a->dmu, a->dlv, a->dz, a->eps, a->lv, BZ);
        if (kl > 0.0f) sg_kl_normal_backward(a->dmu, a->dlv, a->mu, a->lv, BZ, kl);
        /* Gaussian heads: dWmu, dWlv and dh1 from both */
        sg_dense_backward(a->dh1, g->enc_wmu, g->enc_bmu, a->dmu, a->h1, n->enc_wmu, B, H, Z);
        sg_dense_backward(a->dh1, g->enc_wlv, g->enc_blv, a->dlv, a->h1, n->enc_wlv, B, H, Z);
    } else {
        /* the dae's code is z itself */
        memcpy(a->dh1, a->dz, BZ * sizeof *a->dh1);
    }
    /* encoder tanh, then the sparse input layer (no input gradient) */
    memset(a->dpre1, 0, BE * sizeof *a->dpre1);
    sg_tanh_backward(a->dpre1, a->dh1, a->h1, BE);
    sg_sparse_dense_backward(g->enc_w0, g->enc_b0, a->dpre1, a->rp_in, a->col_in, a->val_in, B,
                             I, E);
}

/* Input rows from raw rows (rp_x/col_x, B rows from 0): L2-normalised values,
 * then dropout with probability p (rng NULL or p == 0: none). */
static void make_input(acts *a, int B, float p, sg_rng *rng)
{
    int64_t nnz = a->rp_x[B];
    memcpy(a->rp_in, a->rp_x, ((size_t)B + 1) * sizeof *a->rp_in);
    memcpy(a->col_in, a->col_x, (size_t)nnz * sizeof *a->col_in);
    for (int64_t k = 0; k < nnz; k++) a->val_in[k] = 1.0f;
    sg_csr_l2_normalize(a->val_in, a->rp_in, B);
    if (rng && p > 0.0f) {
        sg_csr_dropout(a->rp_in, a->col_in, a->val_in, a->rp_in, a->col_in, a->val_in, B, p,
                       rng);
    }
}

/* ---------------------------------------------------------------------------
 * evaluation */

static int cmp_i64_desc(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x < y) - (x > y);
}

/* Largest number of nonzeros in any B of the n_rows CSR rows: the sum of the B
 * longest rows (row_ptr may start past 0).  *fail is set when out of memory. */
static int64_t max_batch_nnz(const int64_t *row_ptr, int n_rows, int B, int *fail)
{
    *fail = 0;
    if (n_rows <= 0) return 0;
    if (B >= n_rows) return row_ptr[n_rows] - row_ptr[0];
    int64_t *len = sg_malloc_array((size_t)n_rows, sizeof *len);
    if (!len) {
        *fail = 1;
        return 0;
    }
    for (int u = 0; u < n_rows; u++) len[u] = row_ptr[u + 1] - row_ptr[u];
    qsort(len, (size_t)n_rows, sizeof *len, cmp_i64_desc);
    int64_t total = 0;
    for (int u = 0; u < B; u++) total += len[u];
    sg_free(len);
    return total;
}

int sg_vae_forward_eval(const sg_recommender *m, const int64_t *row_ptr,
                        const int32_t *col_idx, int B, float *logits, float *z, sg_error *err)
{
    net n = net_view(m, 0);
    int chunk = B < EVAL_CHUNK ? B : EVAL_CHUNK;
    if (chunk <= 0) return SG_OK;
    int fail;
    int64_t nnz_max = max_batch_nnz(row_ptr, B, chunk, &fail);
    acts a;
    if (fail || acts_alloc(&a, &n, chunk, nnz_max, 0)) {
        return sg_error_set(err, SG_ENOMEM, "recommender: out of memory scoring %d users", B);
    }
    for (int b0 = 0; b0 < B; b0 += chunk) {
        int nb = B - b0 < chunk ? B - b0 : chunk;
        int64_t base = row_ptr[b0];
        a.rp_x[0] = 0;
        for (int b = 0; b < nb; b++) a.rp_x[b + 1] = row_ptr[b0 + b + 1] - base;
        memcpy(a.col_x, col_idx + base, (size_t)a.rp_x[nb] * sizeof *a.col_x);
        make_input(&a, nb, 0.0f, NULL);
        forward(&n, &a, nb, NULL);
        if (logits) {
            memcpy(logits + (size_t)b0 * n.I, a.logits, (size_t)nb * n.I * sizeof *logits);
        }
        if (z) {
            /* vae: the mean; dae: the code layer */
            const float *src = n.vae ? a.mu : a.h1;
            memcpy(z + (size_t)b0 * n.Z, src, (size_t)nb * n.Z * sizeof *z);
        }
    }
    acts_free(&a);
    return SG_OK;
}

/* ---------------------------------------------------------------------------
 * training loop */

/* Add the coupled L2 gradient 2 l2 w of every weight matrix (not biases). */
static void l2_grad(sg_params *P, float l2)
{
    int n_t = sg_params_n_tensors(P);
    for (int t = 0; t < n_t; t++) {
        int shape[SG_MAX_DIMS];
        if (sg_params_shape(P, t, shape) != 2) continue;
        const float *w = sg_params_tensor(P, t);
        float *g = sg_params_grad(P, t);
        size_t n = sg_params_size(P, t);
        float c = 2.0f * l2;
        SG_PAR_SIMD(n > SG_NN_PAR_WORK)
        for (size_t i = 0; i < n; i++) g[i] += c * w[i];
    }
}

/* Sum of l2 * w^2 over weight matrices, for the reported loss. */
static double l2_value(sg_params *P, float l2)
{
    double s = 0.0;
    int n_t = sg_params_n_tensors(P);
    for (int t = 0; t < n_t; t++) {
        int shape[SG_MAX_DIMS];
        if (sg_params_shape(P, t, shape) != 2) continue;
        const float *w = sg_params_tensor(P, t);
        size_t n = sg_params_size(P, t);
        for (size_t i = 0; i < n; i++) s += (double)w[i] * (double)w[i];
    }
    return (double)l2 * s;
}

int sg_vae_fit(sg_recommender *m, const sg_interactions *x, const sg_interactions *vf,
               const sg_interactions *vh, int epochs, int64_t anneal_steps, const char *stage,
               sg_rec_report *rep, sg_error *err)
{
    const sg_rec_opts *o = &m->opts;
    int n_users = sg_interactions_n_users(x);
    const int64_t *rp = sg_interactions_row_ptr(x);
    const int32_t *ci = sg_interactions_col_idx(x);
    int B = o->batch < n_users ? o->batch : n_users;
    int rc = SG_OK;
    acts a = {0};
    int64_t *order = NULL;
    float *best = NULL;
    if (B <= 0) return sg_error_set(err, SG_EINVAL, "recommender: no training users");

    net n = net_view(m, 0), g = net_view(m, 1);
    int fail;
    int64_t nnz_max = max_batch_nnz(rp, n_users, B, &fail);
    size_t n_params = sg_params_count(m->params);
    order = sg_malloc_array((size_t)n_users, sizeof *order);
    int have_val = vf && vh && sg_interactions_n_users(vh) > 0;
    if (have_val) best = sg_malloc_array(n_params, sizeof *best);
    if (fail || !order || (have_val && !best) || acts_alloc(&a, &n, B, nnz_max, 1)) {
        rc = sg_error_set(err, SG_ENOMEM, "recommender: out of memory for training buffers "
                          "(batch %d, %d items)", B, n.I);
        goto done;
    }
    for (int u = 0; u < n_users; u++) order[u] = u;
    sg_rng root, shuffle, drop, noise;
    sg_rng_init(&root, o->seed);
    sg_rng_split(&root, STREAM_SHUFFLE, &shuffle);
    sg_rng_split(&root, STREAM_DROPOUT, &drop);
    sg_rng_split(&root, STREAM_NOISE, &noise);

    double best_ndcg = -1.0;
    int best_epoch = 0;
    int64_t step = 0;
    double loss_epoch = NAN;
    for (int ep = 1; ep <= epochs; ep++) {
        double t0 = sg_rec_now(), loss_sum = 0.0, beta = 0.0;
        sg_rng_shuffle_i64(&shuffle, order, n_users);
        for (int b0 = 0; b0 < n_users; b0 += B) {
            int nb = n_users - b0 < B ? n_users - b0 : B;
            /* batch rows (ones), input = normalised + dropped out */
            int64_t got = sg_csr_gather(a.rp_x, a.col_x, a.val_in, rp, ci, NULL, order + b0, nb,
                                        a.nnz_max);
            if (got < 0) {
                rc = sg_error_set(err, SG_EINTERNAL, "recommender: batch larger than its "
                                  "buffer");
                goto done;
            }
            make_input(&a, nb, o->dropout, &drop);
            beta = 0.0;
            if (n.vae) {
                beta = anneal_steps > 0 ? (double)step / (double)anneal_steps : (double)o->beta_cap;
                if (beta > (double)o->beta_cap) beta = (double)o->beta_cap;
            }
            forward(&n, &a, nb, n.vae ? &noise : NULL);
            float scale = 1.0f / (float)nb;
            softmax_nll(a.logits, a.loss, a.rp_x, a.col_x, nb, n.I, scale, 1);
            double nll = 0.0;
            for (int b = 0; b < nb; b++) nll += a.loss[b];
            double kl = 0.0;
            if (n.vae) kl = sg_kl_normal_forward(a.mu, a.lv, (size_t)nb * n.Z, 1.0f);
            double batch_loss = (nll + beta * kl) / nb;
            if (!isfinite(batch_loss)) {
                rc = sg_error_set(err, SG_ENUMERIC, "recommender: %s epoch %d, step %lld: loss "
                                  "is not finite (try a lower --lr)", stage, ep,
                                  (long long)step + 1);
                goto done;
            }
            loss_sum += batch_loss * nb;
            zero_grad(m->params);
            backward(&n, &g, &a, nb, (float)(beta / nb));
            if (o->l2 > 0.0f) l2_grad(m->params, o->l2);
            sg_params_adam(m->params, o->lr, 0.9f, 0.999f, 1e-8f, 0.0f);
            step++;
        }
        loss_epoch = loss_sum / n_users;
        if (o->l2 > 0.0f) loss_epoch += l2_value(m->params, o->l2);
        double ndcg = NAN;
        int eval_now = have_val && (ep % (o->eval_every > 0 ? o->eval_every : 1) == 0 ||
                                    ep == epochs);
        if (eval_now) {
            sg_rec_metrics met;
            rc = sg_rec_eval_csr(m, sg_interactions_row_ptr(vf), sg_interactions_col_idx(vf),
                                 sg_interactions_n_users(vf), sg_interactions_row_ptr(vh),
                                 sg_interactions_col_idx(vh), sg_interactions_n_users(vh), &met,
                                 err);
            if (rc) goto done;
            ndcg = met.ndcg100;
            if (ndcg > best_ndcg) {
                best_ndcg = ndcg;
                best_epoch = ep;
                memcpy(best, sg_params_data(m->params), n_params * sizeof *best);
            }
        }
        SG_LOG(SG_LOG_DEBUG, "recommend", "%s epoch %d/%d: loss %.4f, beta %.3f, val ndcg@100 "
               "%.4f, %.2f s", stage, ep, epochs, loss_epoch, beta, ndcg, sg_rec_now() - t0);
        if (o->on_progress) {
            sg_rec_progress p = {stage, ep, epochs, loss_epoch, beta, ndcg, 0.0,
                                 sg_rec_now() - t0};
            o->on_progress(o->ud, &p);
        }
    }
    if (have_val && best_epoch > 0) {
        memcpy(sg_params_data(m->params), best, n_params * sizeof *best);
    }
    if (rep) {
        rep->best_epoch = have_val ? best_epoch : epochs;
        rep->best_val_ndcg = have_val ? best_ndcg : (double)NAN;
        rep->final_loss = loss_epoch;
    }
done:
    acts_free(&a);
    sg_free(order);
    sg_free(best);
    return rc;
}

/* ---------------------------------------------------------------------------
 * one batch, for the whole-network gradient check in tests */

int sg_vae_batch_loss(sg_recommender *m, const int64_t *row_ptr, const int32_t *col_idx, int B,
                      float beta, uint64_t noise_seed, int grad, double *loss, sg_error *err)
{
    net n = net_view(m, 0), g;
    acts a;
    if (B < 1) return sg_error_set(err, SG_EINVAL, "batch loss: empty batch");
    if (grad && !sg_params_grads(m->params)) {
        return sg_error_set(err, SG_EINVAL, "batch loss: model built without gradients");
    }
    if (acts_alloc(&a, &n, B, row_ptr[B] - row_ptr[0], 1)) {
        return sg_error_set(err, SG_ENOMEM, "batch loss: out of memory");
    }
    a.rp_x[0] = 0;
    for (int b = 0; b < B; b++) a.rp_x[b + 1] = row_ptr[b + 1] - row_ptr[0];
    memcpy(a.col_x, col_idx + row_ptr[0], (size_t)a.rp_x[B] * sizeof *a.col_x);
    make_input(&a, B, 0.0f, NULL);
    sg_rng noise;
    sg_rng_init(&noise, noise_seed);
    forward(&n, &a, B, n.vae ? &noise : NULL);
    float scale = 1.0f / (float)B;
    softmax_nll(a.logits, a.loss, a.rp_x, a.col_x, B, n.I, scale, grad);
    double nll = 0.0, kl = 0.0;
    for (int b = 0; b < B; b++) nll += a.loss[b];
    if (n.vae) kl = sg_kl_normal_forward(a.mu, a.lv, (size_t)B * n.Z, 1.0f);
    *loss = (nll + (double)beta * kl) / B;
    if (m->opts.l2 > 0.0f) *loss += l2_value(m->params, m->opts.l2);
    if (grad) {
        g = net_view(m, 1);
        zero_grad(m->params);
        backward(&n, &g, &a, B, beta / (float)B);
        if (m->opts.l2 > 0.0f) l2_grad(m->params, m->opts.l2);
    }
    acts_free(&a);
    return SG_OK;
}

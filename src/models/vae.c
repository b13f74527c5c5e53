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
 * RecVAE's training (Shenbin et al. 2020), options of the vae, same network:
 *   gamma > 0    user b's KL weight is gamma * n_b (n_b her items) instead of beta;
 *   composite    prior per latent value 3/20 N(0,1) + 15/20 q_old(z|x) + 2/20
 *                N(0,e^10), q_old the encoder copied after the previous epoch's
 *                encoder updates (fed x without dropout); KL_b is the one-sample
 *                estimate sum_j log q(z_j|x) - log p(z_j) at the sampled z.  Its
 *                gradient: d/dz_j = sum_k r_k (z_j - m_k) / v_k (r_k the mixture
 *                responsibilities), flowing through z = mu + exp(lv/2) eps, plus
 *                d log q / d lv_j = -1/2 (d log q / d mu = 0 through z);
 *   enc_passes   per epoch that many passes updating the encoder only (dropout),
 *                then one pass updating the decoder only (no dropout, z sampled,
 *                loss = NLL since the KL does not depend on the decoder); each
 *                part has its own Adam step count over its slice of the block.
 * Without these options the training loop is the plain Mult-VAE's, unchanged.
 *
 * RecVAE's encoder (encoder dense, vae only), L = enc_layers layers of H units
 * replacing the one tanh layer (RecVAE's code: sums of the earlier layers, not
 * concatenations):
 *   pre_1 = x_in W_1 + b_1 (sparse),  pre_k = h_{k-1} W_k + b_k + h_1 + ... + h_{k-1},
 *   h_k = LayerNorm(swish(pre_k)) (eps 0.1), heads mu, lv on h_L.
 * Backward, k = L..1, with R = sum_{j>k} dpre_j: dh_k = dpre_{k+1} W_{k+1}^T + R
 * (h_L's from the heads), then through the layer norm and the swish to dpre_k.
 * Tensors per layer: enc.w<k-1>, enc.b<k-1>, enc.ln<k-1>.g (init 1), .b (init 0).
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recommend_private.h"
#include "nn/nn_private.h"
#include "stratagem/linalg.h"
#include "stratagem/log.h"
#include "stratagem/dist.h"
#include "stratagem/mem.h"
#include "stratagem/rng.h"

/* RNG streams split from the seed. */
enum { STREAM_INIT = 1, STREAM_SHUFFLE = 2, STREAM_DROPOUT = 3, STREAM_NOISE = 4 };

#define EVAL_CHUNK 256   /* users per forward pass at evaluation */
#define MAX_LAYERS 100   /* dense encoder layers (check_opts) */
#define LN_EPS 0.1f      /* RecVAE's layer norm epsilon */

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
    int L;                    /* dense encoder: layers (0: the one tanh layer) */
    float *enc_w0, *enc_b0;   /* (I,E), (E) */
    /* dense encoder: layer k (0-based) weights (H,H) for k >= 1, biases (H), layer
     * norm gain and shift (H); layer 0's weights are enc_w0, enc_b0 */
    float *enc_w[MAX_LAYERS], *enc_b[MAX_LAYERS], *ln_g[MAX_LAYERS], *ln_b[MAX_LAYERS];
    float *enc_wmu, *enc_bmu; /* (H,Z), (Z)  vae only */
    float *enc_wlv, *enc_blv; /* (H,Z), (Z)  vae only */
    float *dec_w0, *dec_b0;   /* (Z,H), (H) */
    float *dec_w1, *dec_b1;   /* (H,I), (I) */
} net;

/* Layers of the dense encoder, 0 for the tanh one. */
static int dense_layers(const sg_recommender *m)
{
    if (m->kind != SG_REC_VAE || m->opts.encoder != SG_REC_ENCODER_DENSE) return 0;
    int L = m->opts.enc_layers;
    return L < 1 ? 1 : L > MAX_LAYERS ? MAX_LAYERS : L;
}

/* Index of the decoder's first tensor: the encoder's tensors come before it. */
static int dec_tensor(const sg_recommender *m)
{
    int L = dense_layers(m);
    if (m->kind != SG_REC_VAE) return D_DEC_W0;
    return L > 0 ? 4 * L + 4 : T_DEC_W0;
}

/* Pointers into params (p = 0) or grads (p = 1). */
static net net_view(const sg_recommender *m, int grads)
{
    net n;
    memset(&n, 0, sizeof n);
    sg_params *P = m->params;
    n.vae = m->kind == SG_REC_VAE;
    n.I = m->n_items;
    n.H = m->opts.hidden;
    n.Z = m->opts.latent;
    n.E = n.vae ? n.H : n.Z;
    n.L = dense_layers(m);
#define T(i) (grads ? sg_params_grad(P, (i)) : sg_params_tensor(P, (i)))
    if (n.vae) {
        /* the heads follow the encoder's layers: tensor 2 (tanh) or 4 L (dense) */
        int h = n.L > 0 ? 4 * n.L : T_ENC_WMU;
        for (int k = 0; k < n.L; k++) {
            n.enc_w[k] = T(4 * k);
            n.enc_b[k] = T(4 * k + 1);
            n.ln_g[k] = T(4 * k + 2);
            n.ln_b[k] = T(4 * k + 3);
        }
        n.enc_w0 = T(0);
        n.enc_b0 = T(1);
        n.enc_wmu = T(h);
        n.enc_bmu = T(h + 1);
        n.enc_wlv = T(h + 2);
        n.enc_blv = T(h + 3);
        n.dec_w0 = T(h + 4);
        n.dec_b0 = T(h + 5);
        n.dec_w1 = T(h + 6);
        n.dec_b1 = T(h + 7);
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
    int L = dense_layers(m);
    sg_params_free(m->params);
    m->params = NULL;
    int rc;
    if (L > 0) {
        /* dense encoder: per layer w, b, ln.g, ln.b, then the heads and the decoder */
        int n_t = 4 * L + 8;
        sg_tensor_spec *sp = sg_calloc((size_t)n_t, sizeof *sp);
        char(*names)[24] = sg_calloc((size_t)4 * L, sizeof *names);
        if (!sp || !names) {
            sg_free(sp);
            sg_free(names);
            return sg_error_set(err, SG_ENOMEM, "recommender: out of memory building the "
                                "network");
        }
        for (int k = 0; k < L; k++) {
            snprintf(names[4 * k], sizeof names[0], "enc.w%d", k);
            snprintf(names[4 * k + 1], sizeof names[0], "enc.b%d", k);
            snprintf(names[4 * k + 2], sizeof names[0], "enc.ln%d.g", k);
            snprintf(names[4 * k + 3], sizeof names[0], "enc.ln%d.b", k);
            sp[4 * k] = (sg_tensor_spec){names[4 * k], 2, {k == 0 ? I : H, H}};
            sp[4 * k + 1] = (sg_tensor_spec){names[4 * k + 1], 1, {H}};
            sp[4 * k + 2] = (sg_tensor_spec){names[4 * k + 2], 1, {H}};
            sp[4 * k + 3] = (sg_tensor_spec){names[4 * k + 3], 1, {H}};
        }
        memcpy(sp + 4 * L, vs + T_ENC_WMU, 8 * sizeof *sp);
        rc = sg_params_new(&m->params, sp, n_t, train, err);
        sg_free(sp);
        sg_free(names);
    } else {
        rc = sg_params_new(&m->params, vae ? vs : ds, vae ? T_COUNT : D_COUNT, train, err);
    }
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
        if (t < 4 * L && t % 4 >= 2) {
            /* layer norm: gain 1, shift 0, nothing drawn */
            float v = t % 4 == 2 ? 1.0f : 0.0f;
            for (int i = 0; i < shape[0]; i++) w[i] = v;
        } else if (nd == 2) {
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
    int64_t passes = m->kind == SG_REC_VAE && m->opts.enc_passes > 0 ? m->opts.enc_passes : 1;
    return passes * (((int64_t)n_users + B - 1) / B);
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
    int per_row;              /* per-row KL weights (gamma or composite prior) */
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
    /* rows only (training): */
    float *wrow;              /* (B) KL weight of each row, including the 1/B */
    double *kl;               /* (B) KL of each row */
    float *kdz;               /* (B,Z) composite prior: d KL_b / d z (unweighted) */
    float *oh1, *omu, *olv;   /* (B,H), (B,Z), (B,Z) composite prior: the old encoder */
    /* dense encoder (L layers): per layer k (B,H) each; h1 above is h of layer L-1 */
    float *pre, *act, *hl;    /* (L,B,H) swish input, layer norm input, layer output */
    float *mean, *rstd;       /* (L,B) layer norm statistics */
    float *hsum;              /* (B,H) forward: h_0 + ... + h_k */
    float *dres, *dact, *dpre; /* (B,H) training: residual gradient sum, layer grads */
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
    sg_free(a->wrow);
    sg_free(a->kl);
    memset(a, 0, sizeof *a);
}

static int acts_alloc(acts *a, const net *n, int B, int64_t nnz_max, int train, int rows)
{
    memset(a, 0, sizeof *a);
    a->B_max = B;
    a->per_row = rows = rows && train && n->vae;
    a->nnz_max = nnz_max;
    size_t Bz = (size_t)B;
    size_t nf = Bz * (size_t)n->E + Bz * (size_t)n->H + Bz * (size_t)n->I;
    if (n->vae) nf += 4 * Bz * (size_t)n->Z;
    if (train) nf += 2 * Bz * (size_t)n->H + 3 * Bz * (size_t)n->Z + 2 * Bz * (size_t)n->E;
    if (rows) nf += Bz * (size_t)n->H + 3 * Bz * (size_t)n->Z;
    size_t BH = Bz * (size_t)n->H, L = (size_t)n->L;
    if (L > 0) nf += 3 * L * BH + 2 * L * Bz + BH + (train ? 3 * BH : 0);
    a->rp_x = sg_malloc_array(Bz + 1, sizeof *a->rp_x);
    a->rp_in = sg_malloc_array(Bz + 1, sizeof *a->rp_in);
    a->col_x = sg_malloc_array(nnz_max > 0 ? (size_t)nnz_max : 1, sizeof *a->col_x);
    a->col_in = sg_malloc_array(nnz_max > 0 ? (size_t)nnz_max : 1, sizeof *a->col_in);
    a->val_in = sg_malloc_array(nnz_max > 0 ? (size_t)nnz_max : 1, sizeof *a->val_in);
    a->rows = sg_malloc_array(Bz, sizeof *a->rows);
    a->loss = sg_malloc_array(Bz, sizeof *a->loss);
    a->block = sg_malloc_array(nf, sizeof *a->block);
    if (rows) {
        a->wrow = sg_malloc_array(Bz, sizeof *a->wrow);
        a->kl = sg_malloc_array(Bz, sizeof *a->kl);
    }
    if (!a->rp_x || !a->rp_in || !a->col_x || !a->col_in || !a->val_in || !a->rows ||
        !a->loss || !a->block || (rows && (!a->wrow || !a->kl))) {
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
    if (rows) {
        TAKE(a->kdz, Bz * (size_t)n->Z);
        TAKE(a->oh1, Bz * (size_t)n->H);
        TAKE(a->omu, Bz * (size_t)n->Z);
        TAKE(a->olv, Bz * (size_t)n->Z);
    }
    if (L > 0) {
        TAKE(a->pre, L * BH);
        TAKE(a->act, L * BH);
        TAKE(a->hl, L * BH);
        TAKE(a->mean, L * Bz);
        TAKE(a->rstd, L * Bz);
        TAKE(a->hsum, BH);
        if (train) {
            TAKE(a->dres, BH);
            TAKE(a->dact, BH);
            TAKE(a->dpre, BH);
        }
    }
#undef TAKE
    return SG_OK;
}

/* ---------------------------------------------------------------------------
 * forward and backward passes */

/* Encoder of 'n' on the input CSR in a->rp_in/col_in/val_in: h1 (B,E), and
 * for the vae mu and lv (B,Z). */
static void encode(const net *n, const acts *a, int B, float *h1, float *mu, float *lv)
{
    int E = n->E, H = n->H, Z = n->Z, I = n->I;
    if (n->L > 0) {
        /* dense encoder: the layers' inputs and outputs stay in a (for the backward);
         * the last layer's output goes to h1 */
        size_t BH = (size_t)B * H, stride = (size_t)a->B_max * H;
        for (int k = 0; k < n->L; k++) {
            float *pre = a->pre + k * stride, *act = a->act + k * stride;
            float *out = k == n->L - 1 ? h1 : a->hl + k * stride;
            float *mean = a->mean + (size_t)k * a->B_max, *rstd = a->rstd + (size_t)k * a->B_max;
            if (k == 0) {
                sg_sparse_dense_forward(pre, a->rp_in, a->col_in, a->val_in, n->enc_w[0],
                                        n->enc_b[0], B, I, H);
            } else {
                sg_dense_forward(pre, a->hl + (k - 1) * stride, n->enc_w[k], n->enc_b[k], B, H,
                                 H);
                const float *hs = a->hsum;
                SG_PAR_SIMD(BH > SG_NN_PAR_WORK)
                for (size_t q = 0; q < BH; q++) pre[q] += hs[q];
            }
            sg_swish_forward(act, pre, BH);
            sg_layernorm_forward(out, mean, rstd, act, n->ln_g[k], n->ln_b[k], B, H, LN_EPS);
            if (k == 0) {
                memcpy(a->hsum, out, BH * sizeof *out);
            } else if (k < n->L - 1) {
                float *hs = a->hsum;
                SG_PAR_SIMD(BH > SG_NN_PAR_WORK)
                for (size_t q = 0; q < BH; q++) hs[q] += out[q];
            }
        }
        sg_dense_forward(mu, h1, n->enc_wmu, n->enc_bmu, B, H, Z);
        sg_dense_forward(lv, h1, n->enc_wlv, n->enc_blv, B, H, Z);
        return;
    }
    /* h1 = tanh(x_in W0 + b0): sparse input layer, O(nnz * E) */
    sg_sparse_dense_forward(h1, a->rp_in, a->col_in, a->val_in, n->enc_w0, n->enc_b0, B, I, E);
    sg_tanh_forward(h1, h1, (size_t)B * E);
    if (n->vae) {
        sg_dense_forward(mu, h1, n->enc_wmu, n->enc_bmu, B, H, Z);
        sg_dense_forward(lv, h1, n->enc_wlv, n->enc_blv, B, H, Z);
    }
}

/* Encoder and decoder on the input CSR in a->rp_in/col_in/val_in (B rows):
 * fills h1, (mu, lv, z), h2, logits.  'noise' != NULL samples z (training);
 * NULL uses z = mu. */
static void forward(const net *n, acts *a, int B, sg_rng *noise)
{
    int H = n->H, Z = n->Z, I = n->I;
    encode(n, a, B, a->h1, a->mu, a->lv);
    if (n->vae) {
        /* Gaussian heads; z sampled while training, the mean otherwise */
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

/* ---------------------------------------------------------------------------
 * KL terms with a weight per row (gamma or the composite prior) */

#define LOG_2PI 1.83787706640934548
#define UNIF_LOGVAR 10.0          /* the composite prior's wide component */

/* Composite prior: a->kl[b] = sum_j log q(z_bj|x) - log p(z_bj) at the sampled z
 * (log q from eps: (z - mu)^2 / v = eps^2), and a->kdz = d KL_b / d z_bj.  The
 * old encoder's mu and lv are in a->omu, a->olv.  Double precision, fixed order. */
static void composite_kl(acts *a, int B, int Z)
{
    const double lw0 = log(3.0 / 20.0), lw1 = log(15.0 / 20.0), lw2 = log(2.0 / 20.0);
    const double iv2 = exp(-UNIF_LOGVAR);
    for (int b = 0; b < B; b++) {
        double s = 0.0;
        for (int j = 0; j < Z; j++) {
            size_t q = (size_t)b * Z + j;
            double z = a->z[q], e = a->eps[q], olv = a->olv[q];
            double d1 = z - (double)a->omu[q], iv1 = exp(-olv);
            double a0 = lw0 - 0.5 * (LOG_2PI + z * z);
            double a1 = lw1 - 0.5 * (LOG_2PI + olv + d1 * d1 * iv1);
            double a2 = lw2 - 0.5 * (LOG_2PI + UNIF_LOGVAR + z * z * iv2);
            double mx = a0 > a1 ? a0 : a1;
            mx = mx > a2 ? mx : a2;
            double e0 = exp(a0 - mx), e1 = exp(a1 - mx), e2 = exp(a2 - mx);
            double sum = e0 + e1 + e2;
            double logq = -0.5 * (LOG_2PI + (double)a->lv[q] + e * e);
            s += logq - (mx + log(sum));
            a->kdz[q] = (float)((e0 * z + e1 * d1 * iv1 + e2 * z * iv2) / sum);
        }
        a->kl[b] = s;
    }
}

/* Per-row KL into a->kl (B): the composite prior's estimate, or N(0,I)'s closed
 * form.  Returns sum_b wrow[b] * kl[b]. */
static double rows_kl(acts *a, int B, int Z, int composite)
{
    if (composite) {
        composite_kl(a, B, Z);
    } else {
        for (int b = 0; b < B; b++) {
            size_t q = (size_t)b * Z;
            a->kl[b] = sg_kl_normal_forward(a->mu + q, a->lv + q, (size_t)Z, 1.0f);
        }
    }
    double s = 0.0;
    for (int b = 0; b < B; b++) s += (double)a->wrow[b] * a->kl[b];
    return s;
}

/* Clear the gradients that backward accumulates into: all but the output
 * layer's (dec.w1 and dec.b1, the last two tensors of both networks), which
 * backward overwrites.  Saves a pass over H*I floats per step. */
static void zero_grad(sg_params *P)
{
    int t = sg_params_n_tensors(P) - 2;
    memset(sg_params_grads(P), 0, sg_params_offset(P, t) * sizeof(float));
}

/* Which parameters a step updates: all (joint), the encoder's or the decoder's. */
enum { PART_ALL = 0, PART_ENC = 1, PART_DEC = 2 };

/* Dense encoder backward from the gradient of its output in a->dh1 (consumed).
 * Layers k = L-1..0: dh -> layer norm -> swish -> dpre_k; dres accumulates the
 * dpre of the layers above, which every earlier output fed through the sums. */
static void dense_encoder_backward(const net *n, const net *g, acts *a, int B)
{
    int H = n->H, I = n->I;
    size_t BH = (size_t)B * H, stride = (size_t)a->B_max * H;
    float *dh = a->dh1;
    memset(a->dres, 0, BH * sizeof *a->dres);
    for (int k = n->L - 1; k >= 0; k--) {
        const float *pre = a->pre + k * stride, *act = a->act + k * stride;
        const float *mean = a->mean + (size_t)k * a->B_max;
        const float *rstd = a->rstd + (size_t)k * a->B_max;
        memset(a->dact, 0, BH * sizeof *a->dact);
        sg_layernorm_backward(a->dact, g->ln_g[k], g->ln_b[k], dh, act, mean, rstd, n->ln_g[k],
                              B, H);
        memset(a->dpre, 0, BH * sizeof *a->dpre);
        sg_swish_backward(a->dpre, a->dact, pre, BH);
        if (k == 0) {
            sg_sparse_dense_backward(g->enc_w[0], g->enc_b[0], a->dpre, a->rp_in, a->col_in,
                                     a->val_in, B, I, H);
            break;
        }
        /* dh_{k-1} = dpre_k W_k^T + sum_{j >= k} dpre_j */
        float *dr = a->dres;
        const float *dp = a->dpre;
        SG_PAR_SIMD(BH > SG_NN_PAR_WORK)
        for (size_t q = 0; q < BH; q++) dr[q] += dp[q];
        memcpy(dh, a->dres, BH * sizeof *dh);
        sg_dense_backward(dh, g->enc_w[k], g->enc_b[k], a->dpre, a->hl + (k - 1) * stride,
                          n->enc_w[k], B, H, H);
    }
}

/* Backward from the logit gradient in a->logits (already scaled by 1/B) and
 * the KL weight 'kl' (beta/B; vae only), or with a->per_row the row weights
 * a->wrow times 'kl' (1/B) (and for the composite prior a->kdz).  The output layer's gradients
 * are written, every other one is accumulated into the grads 'g' (zero_grad).
 * PART_ENC skips the output layer's weight gradients, PART_DEC stops at the
 * decoder's input layer. */
static void backward(const net *n, const net *g, acts *a, int B, float kl, int composite,
                     int part)
{
    int E = n->E, H = n->H, Z = n->Z, I = n->I;
    size_t BH = (size_t)B * H, BZ = (size_t)B * Z, BE = (size_t)B * E;
    /* output layer, as sg_dense_backward but overwriting: dh2 = dlogits Wd1^T,
     * dWd1 = h2^T dlogits, dbd1 = column sums of dlogits (rows in order) */
    sg_sgemm(0, 1, B, H, I, 1.0f, a->logits, n->dec_w1, 0.0f, a->dh2);
    if (part != PART_ENC) {
        sg_sgemm(1, 0, H, I, B, 1.0f, a->h2, a->logits, 0.0f, g->dec_w1);
        memcpy(g->dec_b1, a->logits, (size_t)I * sizeof *g->dec_b1);
        for (int b = 1; b < B; b++) {
            const float *r = a->logits + (size_t)b * I;
            SG_SIMD
            for (int i = 0; i < I; i++) g->dec_b1[i] += r[i];
        }
    }
    /* decoder tanh */
    memset(a->dpre2, 0, BH * sizeof *a->dpre2);
    sg_tanh_backward(a->dpre2, a->dh2, a->h2, BH);
    /* decoder input layer: dWd0, dbd0, dz */
    if (part == PART_DEC) {
        sg_dense_backward(NULL, g->dec_w0, g->dec_b0, a->dpre2, a->z, n->dec_w0, B, Z, H);
        return;
    }
    memset(a->dz, 0, BZ * sizeof *a->dz);
    sg_dense_backward(a->dz, g->dec_w0, g->dec_b0, a->dpre2, a->z, n->dec_w0, B, Z, H);
    memset(a->dh1, 0, BE * sizeof *a->dh1);
    if (n->vae) {
        /* reparameterisation, then the KL term on mu and logvar */
        memset(a->dmu, 0, BZ * sizeof *a->dmu);
        memset(a->dlv, 0, BZ * sizeof *a->dlv);
        if (a->per_row && composite) {
            /* the prior's gradient at z goes through the reparameterisation */
            for (int b = 0; b < B; b++) {
                float w = a->wrow[b] * kl;
                float *dz = a->dz + (size_t)b * Z;
                const float *k = a->kdz + (size_t)b * Z;
                for (int j = 0; j < Z; j++) dz[j] += w * k[j];
            }
        }
        sg_reparam_backward(a->dmu, a->dlv, a->dz, a->eps, a->lv, BZ);
        if (a->per_row) {
            for (int b = 0; b < B; b++) {
                size_t q = (size_t)b * Z;
                float w = a->wrow[b] * kl;
                if (composite) {
                    /* d log q / d lv = -1/2 */
                    for (int j = 0; j < Z; j++) a->dlv[q + j] -= 0.5f * w;
                } else {
                    sg_kl_normal_backward(a->dmu + q, a->dlv + q, a->mu + q, a->lv + q,
                                          (size_t)Z, w);
                }
            }
        } else if (kl > 0.0f) {
            sg_kl_normal_backward(a->dmu, a->dlv, a->mu, a->lv, BZ, kl);
        }
        /* Gaussian heads: dWmu, dWlv and dh1 from both */
        sg_dense_backward(a->dh1, g->enc_wmu, g->enc_bmu, a->dmu, a->h1, n->enc_wmu, B, H, Z);
        sg_dense_backward(a->dh1, g->enc_wlv, g->enc_blv, a->dlv, a->h1, n->enc_wlv, B, H, Z);
    } else {
        /* the dae's code is z itself */
        memcpy(a->dh1, a->dz, BZ * sizeof *a->dh1);
    }
    if (n->L > 0) {
        dense_encoder_backward(n, g, a, B);
        return;
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
    if (fail || acts_alloc(&a, &n, chunk, nnz_max, 0, 0)) {
        return sg_error_set(err, SG_ENOMEM, "recommender: out of memory scoring %d users", B);
    }
    for (int b0 = 0; b0 < B; b0 += chunk) {
        int nb = B - b0 < chunk ? B - b0 : chunk;
        int64_t base = row_ptr[b0];
        a.rp_x[0] = 0;
        for (int b = 0; b < nb; b++) a.rp_x[b + 1] = row_ptr[b0 + b + 1] - base;
        /* col_idx may be NULL when the rows are empty */
        if (a.rp_x[nb] > 0) {
            memcpy(a.col_x, col_idx + base, (size_t)a.rp_x[nb] * sizeof *a.col_x);
        }
        /* the items outside the network are dropped from the batch rows */
        if (m->in_net) sg_csr_keep(a.rp_x, a.col_x, a.rp_x, a.col_x, nb, m->in_net);
        make_input(&a, nb, 0.0f, NULL);
        forward(&n, &a, nb, NULL);
        if (logits) {
            float *l = logits + (size_t)b0 * n.I;
            memcpy(l, a.logits, (size_t)nb * n.I * sizeof *logits);
            if (m->in_net) {
                for (int b = 0; b < nb; b++) {
                    for (int i = 0; i < n.I; i++) {
                        if (!m->in_net[i]) l[(size_t)b * n.I + i] = -INFINITY;
                    }
                }
            }
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

/* State shared by the passes of sg_vae_fit. */
typedef struct trainer {
    sg_recommender *m;
    net n, g;
    net old;                  /* composite prior: encoder tensors in old_enc */
    float *old_enc;           /* copy of the encoder block (composite prior) */
    size_t n_enc;             /* floats in the encoder block (its tensors come first) */
    int composite;
    acts a;
    int64_t step;             /* KL annealing steps (joint or encoder) */
    int64_t t_enc, t_dec;     /* Adam steps of the alternating parts */
    double beta;              /* KL weight of the last step (mean over rows with gamma) */
    sg_rng drop, noise;
    float *ema;               /* moving average of the whole block (opts.ema > 0) */
} trainer;

/* The network whose encoder tensors sit in 'enc' (a copy of the block's first
 * n_enc floats) and whose decoder is n's. */
static net net_old(const sg_recommender *m, const net *n, float *enc)
{
    net o = *n;
    const float *base = sg_params_data(m->params);
#define REBASE(p) ((p) = enc + ((p) - base))
    REBASE(o.enc_w0);
    REBASE(o.enc_b0);
    REBASE(o.enc_wmu);
    REBASE(o.enc_bmu);
    REBASE(o.enc_wlv);
    REBASE(o.enc_blv);
    for (int k = 0; k < o.L; k++) {
        REBASE(o.enc_w[k]);
        REBASE(o.enc_b[k]);
        REBASE(o.ln_g[k]);
        REBASE(o.ln_b[k]);
    }
#undef REBASE
    return o;
}

/* Forward and loss of the nb rows in a->rp_x/col_x, part of a batch of nb_all
 * users (nb_all > nb when several processes share the batch, dist.h): input
 * dropout 'p', KL weight 'beta' (or gamma n_b per row), KL skipped when !kl_on.
 * On return the logits hold their gradient (scaled 1/nb_all); *loss is these
 * rows' share of the batch's mean loss. */
static void batch_forward(sg_recommender *m, const net *n, const net *old, acts *a, int nb,
                          int nb_all, float p, sg_rng *drop, sg_rng *noise, double beta,
                          int kl_on, int composite, int grad, double *loss)
{
    const sg_rec_opts *o = &m->opts;
    if (kl_on && composite) {
        /* the old encoder sees the user's items without dropout */
        make_input(a, nb, 0.0f, NULL);
        encode(old, a, nb, a->oh1, a->omu, a->olv);
    }
    make_input(a, nb, p, drop);
    forward(n, a, nb, n->vae ? noise : NULL);
    float scale = 1.0f / (float)nb_all;
    softmax_nll(a->logits, a->loss, a->rp_x, a->col_x, nb, n->I, scale, grad);
    double nll = 0.0;
    for (int b = 0; b < nb; b++) nll += a->loss[b];
    double kl = 0.0;
    if (kl_on && a->per_row) {
        for (int b = 0; b < nb; b++) {
            double items = (double)(a->rp_x[b + 1] - a->rp_x[b]);
            a->wrow[b] = o->gamma > 0.0f ? (float)((double)o->gamma * items) : (float)beta;
        }
        *loss = (nll + rows_kl(a, nb, n->Z, composite)) / nb_all;
        return;
    }
    if (kl_on) kl = sg_kl_normal_forward(a->mu, a->lv, (size_t)nb * n->Z, 1.0f);
    *loss = (nll + beta * kl) / nb_all;
}

/* One pass over the users (shuffled first) updating 'part'.  The mean loss
 * per user is added to *loss_sum (not for PART_DEC). */
static int train_pass(trainer *t, const sg_interactions *x, int64_t *order, sg_rng *shuffle,
                      int part, int64_t anneal_steps, const char *stage, int ep,
                      double *loss_sum, sg_error *err)
{
    sg_recommender *m = t->m;
    const sg_rec_opts *o = &m->opts;
    acts *a = &t->a;
    int n_users = sg_interactions_n_users(x);
    const int64_t *rp = sg_interactions_row_ptr(x);
    const int32_t *ci = sg_interactions_col_idx(x);
    int B = a->B_max;
    int kl_on = t->n.vae && part != PART_DEC;
    /* several processes (dist.h): each takes its share of every batch's users, the
     * gradients and losses are summed, every process makes the same step */
    const int R = sg_dist_size(), me = sg_dist_rank();
    sg_rng_shuffle_i64(shuffle, order, n_users);
    for (int b0 = 0; b0 < n_users; b0 += B) {
        int nb = n_users - b0 < B ? n_users - b0 : B;
        int lo = (int)((int64_t)nb * me / R), nl = (int)((int64_t)nb * (me + 1) / R) - lo;
        double beta = 0.0;
        if (kl_on) {
            beta = anneal_steps > 0 ? (double)t->step / (double)anneal_steps : (double)o->beta_cap;
            if (beta > (double)o->beta_cap) beta = (double)o->beta_cap;
        }
        double red[2] = {0.0, 0.0};   /* the batch loss; gamma: the rows' KL weights */
        zero_grad(m->params);
        if (nl > 0) {
            /* batch rows (ones), input = normalised + dropped out */
            int64_t got = sg_csr_gather(a->rp_x, a->col_x, a->val_in, rp, ci, NULL,
                                        order + b0 + lo, nl, a->nnz_max);
            if (got < 0)
                return sg_error_set(err, SG_EINTERNAL,
                                    "recommender: batch larger than its buffer");
            batch_forward(m, &t->n, &t->old, a, nl, nb, part == PART_DEC ? 0.0f : o->dropout,
                          &t->drop, &t->noise, beta, kl_on, t->composite, 1, &red[0]);
            if (kl_on && a->per_row && o->gamma > 0.0f)
                for (int b = 0; b < nl; b++) red[1] += (double)a->wrow[b];
            float kw = a->per_row ? 1.0f / (float)nb : (float)(beta / nb);
            backward(&t->n, &t->g, a, nl, kl_on ? kw : 0.0f, t->composite, part);
        }
        if (R > 1) {
            int rc = sg_dist_sum_f64(red, 2, err);
            if (!rc) rc = sg_dist_sum_f32(sg_params_grads(m->params), sg_params_count(m->params),
                                          err);
            if (rc) return rc;
        }
        double batch_loss = red[0];
        if (!isfinite(batch_loss)) {
            return sg_error_set(err, SG_ENUMERIC, "recommender: %s epoch %d, step %lld: loss "
                                "is not finite (try a lower --lr)", stage, ep,
                                (long long)t->step + 1);
        }
        if (kl_on && a->per_row && o->gamma > 0.0f) beta = red[1] / nb;
        if (part != PART_DEC) {
            *loss_sum += batch_loss * nb;
            t->beta = beta;
        }
        if (o->l2 > 0.0f) l2_grad(m->params, o->l2);
        if (part == PART_ALL) {
            sg_params_adam(m->params, o->lr, 0.9f, 0.999f, 1e-8f, 0.0f);
        } else {
            /* each part its own Adam (step count) over its slice of the block */
            size_t off = part == PART_ENC ? 0 : t->n_enc;
            size_t len = part == PART_ENC ? t->n_enc : sg_params_count(m->params) - t->n_enc;
            int64_t step = part == PART_ENC ? ++t->t_enc : ++t->t_dec;
            sg_adam_step(sg_params_data(m->params) + off, sg_params_grads(m->params) + off,
                         sg_params_adam_m(m->params) + off, sg_params_adam_v(m->params) + off,
                         len, o->lr, 0.9f, 0.999f, 1e-8f, 0.0f, step);
        }
        if (part != PART_DEC) t->step++;
        if (t->ema) {
            float d = o->ema, *w = sg_params_data(m->params);
            size_t n = sg_params_count(m->params);
            for (size_t k = 0; k < n; k++) t->ema[k] = d * t->ema[k] + (1.0f - d) * w[k];
        }
    }
    return SG_OK;
}

/* Swap the weights with their moving average (twice restores them). */
static void ema_swap(trainer *t)
{
    float *w = sg_params_data(t->m->params);
    size_t n = sg_params_count(t->m->params);
    for (size_t k = 0; k < n; k++) {
        float v = w[k];
        w[k] = t->ema[k];
        t->ema[k] = v;
    }
}

int sg_vae_fit(sg_recommender *m, const sg_interactions *x, const sg_interactions *vf,
               const sg_interactions *vh, int epochs, int64_t anneal_steps, const char *stage,
               sg_rec_report *rep, sg_error *err)
{
    const sg_rec_opts *o = &m->opts;
    int n_users = sg_interactions_n_users(x);
    const int64_t *rp = sg_interactions_row_ptr(x);
    int B = o->batch < n_users ? o->batch : n_users;
    int rc = SG_OK;
    trainer t;
    memset(&t, 0, sizeof t);
    int64_t *order = NULL;
    float *best = NULL;
    if (B <= 0) return sg_error_set(err, SG_EINVAL, "recommender: no training users");

    t.m = m;
    t.n = net_view(m, 0);
    t.g = net_view(m, 1);
    int vae = t.n.vae;
    int enc_passes = vae && o->enc_passes > 0 ? o->enc_passes : 0;
    t.composite = vae && o->prior == SG_REC_PRIOR_COMPOSITE;
    int per_row = vae && (t.composite || o->gamma > 0.0f);
    t.n_enc = sg_params_offset(m->params, dec_tensor(m));
    int fail;
    int64_t nnz_max = max_batch_nnz(rp, n_users, B, &fail);
    size_t n_params = sg_params_count(m->params);
    order = sg_malloc_array((size_t)n_users, sizeof *order);
    int have_val = vf && vh && sg_interactions_n_users(vh) > 0;
    if (have_val) best = sg_malloc_array(n_params, sizeof *best);
    if (t.composite) t.old_enc = sg_malloc_array(t.n_enc, sizeof *t.old_enc);
    if (o->ema > 0.0f && (t.ema = sg_malloc_array(n_params, sizeof *t.ema)))
        memcpy(t.ema, sg_params_data(m->params), n_params * sizeof *t.ema);
    if (fail || !order || (have_val && !best) || (t.composite && !t.old_enc) ||
        (o->ema > 0.0f && !t.ema) ||
        acts_alloc(&t.a, &t.n, B, nnz_max, 1, per_row)) {
        rc = sg_error_set(err, SG_ENOMEM, "recommender: out of memory for training buffers "
                          "(batch %d, %d items)", B, t.n.I);
        goto done;
    }
    if (t.composite) {
        t.old = net_old(m, &t.n, t.old_enc);
        memcpy(t.old_enc, sg_params_data(m->params), t.n_enc * sizeof *t.old_enc);
    }
    for (int u = 0; u < n_users; u++) order[u] = u;
    sg_rng root, shuffle;
    sg_rng_init(&root, o->seed);
    sg_rng_split(&root, STREAM_SHUFFLE, &shuffle);
    sg_rng_split(&root, STREAM_DROPOUT, &t.drop);
    sg_rng_split(&root, STREAM_NOISE, &t.noise);
    if (sg_dist_size() > 1) {   /* each process draws for its own rows */
        sg_rng d = t.drop, z = t.noise;
        sg_rng_split(&d, (uint64_t)sg_dist_rank(), &t.drop);
        sg_rng_split(&z, (uint64_t)sg_dist_rank(), &t.noise);
    }

    double best_ndcg = -1.0;
    int best_epoch = 0;
    double loss_epoch = NAN;
    for (int ep = 1; ep <= epochs; ep++) {
        double t0 = sg_rec_now(), loss_sum = 0.0;
        int n_pass = enc_passes > 0 ? enc_passes : 1;
        for (int p = 0; p < n_pass; p++) {
            rc = train_pass(&t, x, order, &shuffle, enc_passes > 0 ? PART_ENC : PART_ALL,
                            anneal_steps, stage, ep, &loss_sum, err);
            if (rc) goto done;
        }
        /* the composite prior's old encoder: the one after this epoch's encoder updates */
        if (t.composite) {
            memcpy(t.old_enc, sg_params_data(m->params), t.n_enc * sizeof *t.old_enc);
        }
        if (enc_passes > 0) {
            rc = train_pass(&t, x, order, &shuffle, PART_DEC, anneal_steps, stage, ep, &loss_sum,
                            err);
            if (rc) goto done;
        }
        loss_epoch = loss_sum / ((double)n_users * n_pass);
        if (o->l2 > 0.0f) loss_epoch += l2_value(m->params, o->l2);
        double ndcg = NAN;
        int eval_now = have_val && (ep % (o->eval_every > 0 ? o->eval_every : 1) == 0 ||
                                    ep == epochs);
        if (eval_now) {
            sg_rec_metrics met;
            if (t.ema) ema_swap(&t);   /* evaluate (and keep) the averaged weights */
            rc = sg_rec_eval_csr(m, sg_interactions_row_ptr(vf), sg_interactions_col_idx(vf),
                                 sg_interactions_n_users(vf), sg_interactions_row_ptr(vh),
                                 sg_interactions_col_idx(vh), sg_interactions_n_users(vh), &met,
                                 err);
            if (!rc && met.ndcg100 > best_ndcg) {
                best_ndcg = met.ndcg100;
                best_epoch = ep;
                memcpy(best, sg_params_data(m->params), n_params * sizeof *best);
            }
            if (t.ema) ema_swap(&t);
            if (rc) goto done;
            ndcg = met.ndcg100;
        }
        SG_LOG(SG_LOG_DEBUG, "recommend", "%s epoch %d/%d: loss %.4f, beta %.3f, val ndcg@100 "
               "%.4f, %.2f s", stage, ep, epochs, loss_epoch, t.beta, ndcg, sg_rec_now() - t0);
        if (o->on_progress) {
            sg_rec_progress p = {stage, ep, epochs, loss_epoch, t.beta, ndcg, 0.0,
                                 sg_rec_now() - t0};
            o->on_progress(o->ud, &p);
        }
    }
    if (have_val && best_epoch > 0) {
        memcpy(sg_params_data(m->params), best, n_params * sizeof *best);
    } else if (t.ema) {
        memcpy(sg_params_data(m->params), t.ema, n_params * sizeof *t.ema);
    }
    if (rep) {
        rep->best_epoch = have_val ? best_epoch : epochs;
        rep->best_val_ndcg = have_val ? best_ndcg : (double)NAN;
        rep->final_loss = loss_epoch;
    }
done:
    acts_free(&t.a);
    sg_free(order);
    sg_free(best);
    sg_free(t.old_enc);
    sg_free(t.ema);
    return rc;
}

/* ---------------------------------------------------------------------------
 * one batch, for the whole-network gradient check in tests */

int sg_vae_batch_loss(sg_recommender *m, const int64_t *row_ptr, const int32_t *col_idx, int B,
                      float beta, uint64_t noise_seed, const float *old_enc, int grad,
                      double *loss, sg_error *err)
{
    net n = net_view(m, 0), g, old;
    acts a;
    int composite = n.vae && m->opts.prior == SG_REC_PRIOR_COMPOSITE;
    int per_row = n.vae && (composite || m->opts.gamma > 0.0f);
    if (B < 1) return sg_error_set(err, SG_EINVAL, "batch loss: empty batch");
    if (grad && !sg_params_grads(m->params)) {
        return sg_error_set(err, SG_EINVAL, "batch loss: model built without gradients");
    }
    if (composite && !old_enc) {
        return sg_error_set(err, SG_EINVAL, "batch loss: the composite prior needs the old "
                            "encoder");
    }
    if (acts_alloc(&a, &n, B, row_ptr[B] - row_ptr[0], 1, per_row)) {
        return sg_error_set(err, SG_ENOMEM, "batch loss: out of memory");
    }
    /* the old encoder is only read */
    if (composite) old = net_old(m, &n, (float *)(uintptr_t)old_enc);
    else old = n;
    a.rp_x[0] = 0;
    for (int b = 0; b < B; b++) a.rp_x[b + 1] = row_ptr[b + 1] - row_ptr[0];
    memcpy(a.col_x, col_idx + row_ptr[0], (size_t)a.rp_x[B] * sizeof *a.col_x);
    sg_rng noise;
    sg_rng_init(&noise, noise_seed);
    batch_forward(m, &n, &old, &a, B, B, 0.0f, NULL, &noise, (double)beta, n.vae, composite, grad,
                  loss);
    if (m->opts.l2 > 0.0f) *loss += l2_value(m->params, m->opts.l2);
    if (grad) {
        g = net_view(m, 1);
        zero_grad(m->params);
        backward(&n, &g, &a, B, per_row ? 1.0f / (float)B : beta / (float)B, composite,
                 PART_ALL);
        if (m->opts.l2 > 0.0f) l2_grad(m->params, m->opts.l2);
    }
    acts_free(&a);
    return SG_OK;
}

/* ctgan.c -- a conditional tabular GAN (CTGAN, Xu et al. 2019) by hand.
 *
 * B = batch rows, Bp = B / pac packed critic rows, Z = noise size, H = hidden
 * width, Dd = encoded data width, Cc = conditional vector width, I0 = Z + Cc,
 * W1 = H + I0, W2 = 2H + I0, P = pac * (Dd + Cc).
 *
 * Generator: x0 = [z | cond]; two residual blocks h = relu(bn(x W)), x' = [h | x]
 * (CTGAN's Residual concatenates its input); a dense layer to Dd; tanh on the
 * continuous offsets and gumbel-softmax (tau 0.2) on every one-hot span.  The
 * residual layers carry no bias: batch norm's beta replaces it (a bias before
 * batch norm has a zero gradient).  Batch norm always uses batch statistics, in
 * training and when sampling, as the CTGAN package's generator does.
 *
 * Critic (WGAN-GP with packing): pac rows [data | cond] are concatenated into
 * one input of P floats; P -> H leaky-ReLU(0.2) dropout(0.5) -> H leaky-ReLU
 * dropout -> 1.  The gradient penalty lambda * mean (||grad_x critic(xhat)|| - 1)^2
 * at xhat = a real + (1 - a) fake (one 'a' per packed row) is differentiated
 * EXACTLY wrt the critic weights by a second backward pass through the network
 * (double backprop).  With the leaky-ReLU slopes and dropout masks fixed (they are
 * piecewise constant), grad_x critic = e1 W1^T with e1 = ((e2 W2^T) * k1 * s1) and
 * e2 = w3 * k2 * s2, a product that is linear in each weight matrix; the biases
 * only move the slopes, so their gradient is zero almost everywhere.  Tests check
 * every piece against central differences.
 *
 * One step = 'critic_steps' critic updates (fresh noise, conditions and real rows
 * drawn among those with the conditioned level) and one generator update with the
 * loss -mean critic(fake) + the cross-entropy of the conditioned spans.  With a
 * target (cfg.focus), a share of the conditions name the target's block, in
 * training and when generating, and those rows carry exactly the conditioned
 * level of the target (hard_condition; synth_private.h); and an auxiliary linear
 * classifier of the target, trained on the real rows of each critic step, adds its
 * cross-entropy on the conditioned fake rows to the generator's loss, so that the
 * other columns of a row predict its target as they do in real rows (the
 * auxiliary classifier of CTAB-GAN, Zhao et al. 2021).  Adam with
 * betas (0.5, 0.9) for both networks, as in the paper.  See LICENSE for copyright. */
#include <math.h>
#include <string.h>

#include "stratagem/fidelity.h"
#include "stratagem/linalg.h"
#include "stratagem/mem.h"
#include "stratagem/nn.h"
#include "synth_private.h"

#define BN_EPS 1e-5
#define AUX_LR 5e-3f        /* the auxiliary classifier: linear, convex, trained fast */
#define AUX_WEIGHT 1.0f     /* its cross-entropy in the generator's loss */

/* ---------------------------------------------------------------------------
 * batch norm */

void synth_bn_forward(float *out, float *xhat, float *mean, float *rstd, const float *inp,
                      const float *gamma, const float *beta, int B, int H)
{
    for (int h = 0; h < H; h++) {
        double s = 0;
        for (int b = 0; b < B; b++) s += (double)inp[(size_t)b * H + h];
        double mu = s / B, v = 0;
        for (int b = 0; b < B; b++) {
            double d = (double)inp[(size_t)b * H + h] - mu;
            v += d * d;
        }
        mean[h] = (float)mu;
        rstd[h] = (float)(1.0 / sqrt(v / B + BN_EPS));
    }
    for (int b = 0; b < B; b++) {
        const float *x = inp + (size_t)b * H;
        float *xh = xhat + (size_t)b * H, *o = out + (size_t)b * H;
        for (int h = 0; h < H; h++) {
            xh[h] = (x[h] - mean[h]) * rstd[h];
            o[h] = gamma[h] * xh[h] + beta[h];
        }
    }
}

void synth_bn_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
                       const float *xhat, const float *rstd, const float *gamma, int B, int H)
{
    for (int h = 0; h < H; h++) {
        double sdy = 0, sdyx = 0;
        for (int b = 0; b < B; b++) {
            double dy = (double)dout[(size_t)b * H + h];
            sdy += dy;
            sdyx += dy * (double)xhat[(size_t)b * H + h];
        }
        dgamma[h] += (float)sdyx;
        dbeta[h] += (float)sdy;
        /* dxhat = dy * gamma; dinp = rstd / B (B dxhat - sum dxhat - xhat sum dxhat xhat) */
        float g = gamma[h], k = rstd[h] / (float)B;
        float a = g * (float)sdy, c = g * (float)sdyx;
        for (int b = 0; b < B; b++) {
            size_t i = (size_t)b * H + h;
            dinp[i] += k * ((float)B * g * dout[i] - a - xhat[i] * c);
        }
    }
}

/* ---------------------------------------------------------------------------
 * output activations and the conditional loss */

void synth_activate_forward(const synth_xf *xf, float *act, float *noise, const float *o, int B,
                            float tau, sg_rng *rng)
{
    int Dd = xf->data_dim;
    float inv = tau > 0 ? 1.0f / tau : 1.0f;
    for (int b = 0; b < B; b++) {
        const float *ob = o + (size_t)b * Dd;
        float *ab = act + (size_t)b * Dd, *gb = noise + (size_t)b * Dd;
        for (int j = 0; j < xf->n_cols; j++) {
            const synth_col *col = &xf->cols[j];
            int s = col->off, L = col->n_levels;
            if (col->kind == SG_FCOL_CONTINUOUS) {
                ab[s] = tanhf(ob[s]);
                s++;
            }
            float mx = -INFINITY;
            for (int l = 0; l < L; l++) {
                if (tau > 0 && rng) gb[s + l] = synth_gumbel(rng);
                float v = tau > 0 ? (ob[s + l] + gb[s + l]) * inv : ob[s + l];
                ab[s + l] = v;
                if (v > mx) mx = v;
            }
            double t = 0;
            for (int l = 0; l < L; l++) {
                ab[s + l] = expf(ab[s + l] - mx);
                t += (double)ab[s + l];
            }
            float it = (float)(1.0 / t);
            for (int l = 0; l < L; l++) ab[s + l] *= it;
        }
    }
}

void synth_activate_backward(const synth_xf *xf, float *d_o, const float *dact, const float *act,
                             int B, float tau)
{
    int Dd = xf->data_dim;
    float inv = tau > 0 ? 1.0f / tau : 1.0f;
    for (int b = 0; b < B; b++) {
        const float *y = act + (size_t)b * Dd, *dy = dact + (size_t)b * Dd;
        float *d = d_o + (size_t)b * Dd;
        for (int j = 0; j < xf->n_cols; j++) {
            const synth_col *col = &xf->cols[j];
            int s = col->off, L = col->n_levels;
            if (col->kind == SG_FCOL_CONTINUOUS) {
                d[s] += dy[s] * (1.0f - y[s] * y[s]);
                s++;
            }
            double dot = 0;
            for (int l = 0; l < L; l++) dot += (double)y[s + l] * (double)dy[s + l];
            for (int l = 0; l < L; l++) d[s + l] += inv * y[s + l] * (dy[s + l] - (float)dot);
        }
    }
}

double synth_cond_loss_forward(const synth_xf *xf, const float *o, const int32_t *dcol,
                               const int32_t *lvl, int B)
{
    if (xf->cond_dim == 0 || B == 0) return 0.0;
    int Dd = xf->data_dim;
    double loss = 0;
    for (int b = 0; b < B; b++) {
        const synth_col *col = &xf->cols[xf->disc[dcol[b]]];
        const float *x = o + (size_t)b * Dd + col->off;
        double mx = -INFINITY, t = 0;
        for (int l = 0; l < col->n_levels; l++) mx = fmax(mx, (double)x[l]);
        for (int l = 0; l < col->n_levels; l++) t += exp((double)x[l] - mx);
        loss += mx + log(t) - (double)x[lvl[b]];
    }
    return loss / B;
}

void synth_cond_loss_backward(const synth_xf *xf, float *d_o, const float *o, const int32_t *dcol,
                              const int32_t *lvl, int B, float scale)
{
    if (xf->cond_dim == 0) return;
    int Dd = xf->data_dim;
    for (int b = 0; b < B; b++) {
        const synth_col *col = &xf->cols[xf->disc[dcol[b]]];
        const float *x = o + (size_t)b * Dd + col->off;
        float *d = d_o + (size_t)b * Dd + col->off;
        double mx = -INFINITY, t = 0;
        for (int l = 0; l < col->n_levels; l++) mx = fmax(mx, (double)x[l]);
        for (int l = 0; l < col->n_levels; l++) t += exp((double)x[l] - mx);
        for (int l = 0; l < col->n_levels; l++) {
            float p = (float)(exp((double)x[l] - mx) / t);
            d[l] += scale * (p - (l == lvl[b] ? 1.0f : 0.0f));
        }
    }
}

/* ---------------------------------------------------------------------------
 * generator */

/* Activation buffers (and gradient buffers when 'train') for B rows, in one block. */
static int gen_ws_alloc(synth_gen *g, int train, sg_error *err)
{
    size_t B = (size_t)g->B, H = (size_t)g->H;
    size_t sz[] = {B * g->I0, B * H, B * H, B * H, H, H, B * g->W1, B * H, B * H, B * H, H, H,
                   B * g->W2, B * g->Dd, B * g->Dd, B * g->Dd,
                   B * g->Dd, B * g->Dd, B * g->W2, B * g->W1, B * H, B * H};
    float **ptr[] = {&g->x0, &g->a1, &g->n1, &g->xh1, &g->m1, &g->rs1, &g->x1, &g->a2, &g->n2,
                     &g->xh2, &g->m2, &g->rs2, &g->x2, &g->o, &g->act, &g->noise,
                     &g->d_o, &g->dact, &g->dx2, &g->dx1, &g->dn, &g->da};
    int n = train ? 22 : 16;
    size_t total = 0;
    for (int k = 0; k < n; k++) total += sz[k];
    g->mem = sg_calloc(total, sizeof *g->mem);
    if (!g->mem)
        return sg_error_set(err, SG_ENOMEM, "ctgan: out of memory for a batch of %d rows", g->B);
    float *p = g->mem;
    for (int k = 0; k < 22; k++) {
        *ptr[k] = k < n ? p : NULL;
        if (k < n) p += sz[k];
    }
    return SG_OK;
}

int synth_gen_init(synth_gen *g, int B, int Z, int Cc, int H, int Dd, int train, sg_error *err)
{
    memset(g, 0, sizeof *g);
    g->B = B;
    g->Z = Z;
    g->Cc = Cc;
    g->H = H;
    g->Dd = Dd;
    g->I0 = Z + Cc;
    g->W1 = H + g->I0;
    g->W2 = 2 * H + g->I0;
    sg_tensor_spec specs[8] = {
        {"gen.w1", 2, {g->I0, H, 0, 0}}, {"gen.g1", 1, {H, 0, 0, 0}}, {"gen.be1", 1, {H, 0, 0, 0}},
        {"gen.w2", 2, {g->W1, H, 0, 0}}, {"gen.g2", 1, {H, 0, 0, 0}}, {"gen.be2", 1, {H, 0, 0, 0}},
        {"gen.w3", 2, {g->W2, Dd, 0, 0}}, {"gen.b3", 1, {Dd, 0, 0, 0}},
    };
    int rc = sg_params_new(&g->p, specs, 8, train, err);
    if (rc) return rc;
    float **w[8] = {&g->w1, &g->g1, &g->be1, &g->w2, &g->g2, &g->be2, &g->w3, &g->b3};
    float **d[8] = {&g->dw1, &g->dg1, &g->dbe1, &g->dw2, &g->dg2, &g->dbe2, &g->dw3, &g->db3};
    for (int k = 0; k < 8; k++) {
        *w[k] = sg_params_tensor(g->p, k);
        *d[k] = sg_params_grad(g->p, k);
    }
    if (train && (rc = gen_ws_alloc(g, 1, err))) {
        synth_gen_deinit(g);
        return rc;
    }
    return SG_OK;
}

void synth_gen_deinit(synth_gen *g)
{
    if (!g) return;
    sg_params_free(g->p);
    sg_free(g->mem);
    memset(g, 0, sizeof *g);
}

/* Rows of x (B, w) = [relu(n) (B,H) | prev (B, w - H)]. */
static void concat_relu(float *x, const float *n, const float *prev, int B, int H, int w)
{
    for (int b = 0; b < B; b++) {
        float *xb = x + (size_t)b * w;
        const float *nb = n + (size_t)b * H;
        for (int h = 0; h < H; h++) xb[h] = nb[h] > 0.0f ? nb[h] : 0.0f;
        memcpy(xb + H, prev + (size_t)b * (w - H), (size_t)(w - H) * sizeof *xb);
    }
}

void synth_gen_forward(synth_gen *g, const synth_xf *xf, float tau, sg_rng *rng)
{
    int B = g->B, H = g->H;
    /* block 1: x1 = [relu(bn(x0 w1)) | x0] */
    sg_dense_forward(g->a1, g->x0, g->w1, NULL, B, g->I0, H);
    synth_bn_forward(g->n1, g->xh1, g->m1, g->rs1, g->a1, g->g1, g->be1, B, H);
    concat_relu(g->x1, g->n1, g->x0, B, H, g->W1);
    /* block 2: x2 = [relu(bn(x1 w2)) | x1] */
    sg_dense_forward(g->a2, g->x1, g->w2, NULL, B, g->W1, H);
    synth_bn_forward(g->n2, g->xh2, g->m2, g->rs2, g->a2, g->g2, g->be2, B, H);
    concat_relu(g->x2, g->n2, g->x1, B, H, g->W2);
    /* output layer and activations */
    sg_dense_forward(g->o, g->x2, g->w3, g->b3, B, g->W2, g->Dd);
    synth_activate_forward(xf, g->act, g->noise, g->o, B, tau, rng);
}

/* dn (B,H) = the first H columns of dx (B,w), where the relu output x > 0. */
static void relu_slice_backward(float *dn, const float *dx, const float *x, int B, int H, int w)
{
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            size_t i = (size_t)b * w + h;
            dn[(size_t)b * H + h] = x[i] > 0.0f ? dx[i] : 0.0f;
        }
}

void synth_gen_backward(synth_gen *g)
{
    int B = g->B, H = g->H;
    /* output layer: dx2 = d_o w3^T, dw3, db3 */
    memset(g->dx2, 0, (size_t)B * g->W2 * sizeof *g->dx2);
    sg_dense_backward(g->dx2, g->dw3, g->db3, g->d_o, g->x2, g->w3, B, g->W2, g->Dd);
    /* block 2: relu, batch norm, dense; dx1 = the pass-through part + da2 w2^T */
    relu_slice_backward(g->dn, g->dx2, g->x2, B, H, g->W2);
    memset(g->da, 0, (size_t)B * H * sizeof *g->da);
    synth_bn_backward(g->da, g->dg2, g->dbe2, g->dn, g->xh2, g->rs2, g->g2, B, H);
    for (int b = 0; b < B; b++)
        memcpy(g->dx1 + (size_t)b * g->W1, g->dx2 + (size_t)b * g->W2 + H,
               (size_t)g->W1 * sizeof *g->dx1);
    sg_dense_backward(g->dx1, g->dw2, NULL, g->da, g->x1, g->w2, B, g->W1, H);
    /* block 1: relu, batch norm, dense (the input needs no gradient) */
    relu_slice_backward(g->dn, g->dx1, g->x1, B, H, g->W1);
    memset(g->da, 0, (size_t)B * H * sizeof *g->da);
    synth_bn_backward(g->da, g->dg1, g->dbe1, g->dn, g->xh1, g->rs1, g->g1, B, H);
    sg_dense_backward(NULL, g->dw1, NULL, g->da, g->x0, g->w1, B, g->I0, H);
}

/* ---------------------------------------------------------------------------
 * critic */

int synth_critic_init(synth_critic *c, int Bp, int P, int H, float drop, sg_error *err)
{
    memset(c, 0, sizeof *c);
    c->Bp = Bp;
    c->P = P;
    c->H = H;
    c->slope = 0.2f;
    c->drop = drop;
    sg_tensor_spec specs[6] = {
        {"crit.w1", 2, {P, H, 0, 0}}, {"crit.b1", 1, {H, 0, 0, 0}},
        {"crit.w2", 2, {H, H, 0, 0}}, {"crit.b2", 1, {H, 0, 0, 0}},
        {"crit.w3", 2, {H, 1, 0, 0}}, {"crit.b3", 1, {1, 0, 0, 0}},
    };
    int rc = sg_params_new(&c->p, specs, 6, 1, err);
    if (rc) return rc;
    float **w[6] = {&c->w1, &c->b1, &c->w2, &c->b2, &c->w3, &c->b3};
    float **d[6] = {&c->dw1, &c->db1, &c->dw2, &c->db2, &c->dw3, &c->db3};
    for (int k = 0; k < 6; k++) {
        *w[k] = sg_params_tensor(c->p, k);
        *d[k] = sg_params_grad(c->p, k);
    }
    size_t BH = (size_t)Bp * H, BP = (size_t)Bp * P;
    c->mem = sg_calloc(9 * BH + 2 * BP + 2 * (size_t)Bp, sizeof *c->mem);
    c->gnorm = sg_calloc((size_t)Bp, sizeof *c->gnorm);
    if (!c->mem || !c->gnorm) {
        synth_critic_deinit(c);
        return sg_error_set(err, SG_ENOMEM, "ctgan: out of memory for the critic");
    }
    float *p = c->mem;
    float **bh[9] = {&c->a1, &c->h1, &c->k1, &c->a2, &c->h2, &c->k2, &c->e1, &c->e2, &c->t};
    for (int k = 0; k < 9; k++, p += BH) *bh[k] = p;
    c->g = p;
    p += BP;
    c->u = p;
    p += BP;
    c->out = p;
    p += Bp;
    c->dout = p;
    return SG_OK;
}

void synth_critic_deinit(synth_critic *c)
{
    if (!c) return;
    sg_params_free(c->p);
    sg_free(c->mem);
    sg_free(c->gnorm);
    memset(c, 0, sizeof *c);
}

/* h = lrelu(a) * mask, the mask drawn (inverted dropout) or reused. */
static void lrelu_dropout(float *h, float *k, const float *a, size_t n, float slope, float drop,
                          sg_rng *rng)
{
    for (size_t i = 0; i < n; i++) h[i] = a[i] > 0.0f ? a[i] : slope * a[i];
    if (rng) {
        sg_dropout_forward(h, k, h, n, drop, rng);
    } else {
        for (size_t i = 0; i < n; i++) h[i] *= k[i];
    }
}

void synth_critic_forward(synth_critic *c, const float *inp, sg_rng *rng)
{
    int Bp = c->Bp, H = c->H;
    size_t n = (size_t)Bp * H;
    sg_dense_forward(c->a1, inp, c->w1, c->b1, Bp, c->P, H);
    lrelu_dropout(c->h1, c->k1, c->a1, n, c->slope, c->drop, rng);
    sg_dense_forward(c->a2, c->h1, c->w2, c->b2, Bp, H, H);
    lrelu_dropout(c->h2, c->k2, c->a2, n, c->slope, c->drop, rng);
    sg_dense_forward(c->out, c->h2, c->w3, c->b3, Bp, H, 1);
}

/* x *= mask * lrelu'(a), elementwise. */
static void mask_slope(float *x, const float *k, const float *a, size_t n, float slope)
{
    for (size_t i = 0; i < n; i++) x[i] *= k[i] * (a[i] > 0.0f ? 1.0f : slope);
}

void synth_critic_backward(synth_critic *c, const float *inp, const float *dout, float *dinp,
                           int wgrads)
{
    int Bp = c->Bp, H = c->H;
    size_t n = (size_t)Bp * H;
    /* output layer: e2 = dout w3^T */
    for (int b = 0; b < Bp; b++)
        for (int h = 0; h < H; h++) c->e2[(size_t)b * H + h] = dout[b] * c->w3[h];
    if (wgrads) sg_dense_backward(NULL, c->dw3, c->db3, dout, c->h2, c->w3, Bp, H, 1);
    /* dropout and leaky relu 2, then layer 2: t = da2 w2^T */
    mask_slope(c->e2, c->k2, c->a2, n, c->slope);
    memset(c->t, 0, n * sizeof *c->t);
    if (wgrads) sg_dense_backward(c->t, c->dw2, c->db2, c->e2, c->h1, c->w2, Bp, H, H);
    else sg_sgemm(0, 1, Bp, H, H, 1.0f, c->e2, c->w2, 0.0f, c->t);
    /* dropout and leaky relu 1, then layer 1 */
    mask_slope(c->t, c->k1, c->a1, n, c->slope);
    if (wgrads) sg_dense_backward(dinp, c->dw1, c->db1, c->t, inp, c->w1, Bp, c->P, H);
    else if (dinp) sg_sgemm(0, 1, Bp, c->P, H, 1.0f, c->t, c->w1, 1.0f, dinp);
}

void synth_critic_input_grad(synth_critic *c)
{
    for (int b = 0; b < c->Bp; b++) c->dout[b] = 1.0f;
    memset(c->g, 0, (size_t)c->Bp * c->P * sizeof *c->g);
    synth_critic_backward(c, NULL, c->dout, c->g, 0);
}

double synth_critic_gp(synth_critic *c, const float *xhat, float lambda, sg_rng *rng, int wgrads)
{
    int Bp = c->Bp, H = c->H, P = c->P;
    size_t n = (size_t)Bp * H;
    synth_critic_forward(c, xhat, rng);
    /* first backward, kept: e2 = w3 k2 s2, t = e2 w2^T, e1 = t k1 s1, g = e1 w1^T */
    for (int b = 0; b < Bp; b++)
        for (int h = 0; h < H; h++) c->e2[(size_t)b * H + h] = c->w3[h];
    mask_slope(c->e2, c->k2, c->a2, n, c->slope);
    sg_sgemm(0, 1, Bp, H, H, 1.0f, c->e2, c->w2, 0.0f, c->t);
    memcpy(c->e1, c->t, n * sizeof *c->e1);
    mask_slope(c->e1, c->k1, c->a1, n, c->slope);
    sg_sgemm(0, 1, Bp, P, H, 1.0f, c->e1, c->w1, 0.0f, c->g);
    double gp = 0;
    for (int b = 0; b < Bp; b++) {
        double s = 0;
        const float *gb = c->g + (size_t)b * P;
        for (int j = 0; j < P; j++) s += (double)gb[j] * (double)gb[j];
        c->gnorm[b] = sqrt(s);
        gp += (c->gnorm[b] - 1.0) * (c->gnorm[b] - 1.0);
    }
    gp *= (double)lambda / Bp;
    if (!wgrads) return gp;
    /* second backward: u = d gp / d g = (2 lambda / Bp) (|g| - 1) / |g| g */
    for (int b = 0; b < Bp; b++) {
        double nb = c->gnorm[b];
        float f = nb > 1e-12 ? (float)(2.0 * (double)lambda / Bp * (nb - 1.0) / nb) : 0.0f;
        const float *gb = c->g + (size_t)b * P;
        float *ub = c->u + (size_t)b * P;
        for (int j = 0; j < P; j++) ub[j] = f * gb[j];
    }
    /* g = e1 w1^T: dw1 += u^T e1; d gp / d e1 = u w1, then through k1 s1 to d gp / d t */
    sg_sgemm(1, 0, P, H, Bp, 1.0f, c->u, c->e1, 1.0f, c->dw1);
    sg_sgemm(0, 0, Bp, H, P, 1.0f, c->u, c->w1, 0.0f, c->t);
    mask_slope(c->t, c->k1, c->a1, n, c->slope);
    /* t = e2 w2^T: dw2 += (d gp / d t)^T e2; d gp / d e2 = (d gp / d t) w2 (into e1) */
    sg_sgemm(1, 0, H, H, Bp, 1.0f, c->t, c->e2, 1.0f, c->dw2);
    sg_sgemm(0, 0, Bp, H, H, 1.0f, c->t, c->w2, 0.0f, c->e1);
    /* e2 = w3 k2 s2: dw3 += sum over rows of (d gp / d e2) k2 s2 */
    mask_slope(c->e1, c->k2, c->a2, n, c->slope);
    for (int h = 0; h < H; h++) {
        double s = 0;
        for (int b = 0; b < Bp; b++) s += (double)c->e1[(size_t)b * H + h];
        c->dw3[h] += (float)s;
    }
    return gp;
}

/* ---------------------------------------------------------------------------
 * the trainer */

struct synth_ctgan {
    const synth_xf *xf;       /* borrowed: the model's transformer */
    synth_ctgan_cfg cfg;
    int train;
    synth_gen gen;
    synth_critic crit;
    int Bp, Wc;               /* packed rows; width of one [data | cond] row */
    float *cond;              /* (B, Cc) */
    float *real;              /* (B, Dd) */
    float *fake_cat, *real_cat, *xhat, *dcat;   /* (B, Wc) each */
    float *dout;              /* (Bp) */
    int32_t *dcol, *lvl, *pcol, *plvl;          /* (B) */
    int64_t *rows, *perm;     /* (B) */
    /* auxiliary classifier of the target (with a focus): softmax(x W + b) over the
     * target's levels from a row's other columns (the target's span zeroed) */
    sg_params *aux;
    float *aw, *ab, *daw, *dab;                 /* (Dd, La), (La) */
    float *aux_in, *aux_din;                    /* (B, Dd) */
    float *aux_out, *aux_d;                     /* (B, La) */
    int32_t *aux_y;                             /* (B): level, or -1 = no label */
    int aux_col, aux_off, aux_L, aux_miss;      /* target column, span, levels, missing */
};

int synth_ctgan_new(synth_ctgan **out, const synth_xf *xf, const synth_ctgan_cfg *cfg, int train,
                    sg_error *err)
{
    synth_ctgan *t = sg_calloc(1, sizeof *t);
    if (!t) return sg_error_set(err, SG_ENOMEM, "ctgan: out of memory");
    t->xf = xf;
    t->cfg = *cfg;
    t->train = train;
    int B = cfg->B, Dd = xf->data_dim, Cc = xf->cond_dim;
    int rc = synth_gen_init(&t->gen, B, cfg->Z, Cc, cfg->H, Dd, train, err);
    if (rc) goto fail;
    if (train) {
        t->Bp = B / cfg->pac;
        t->Wc = Dd + Cc;
        if ((rc = synth_critic_init(&t->crit, t->Bp, cfg->pac * t->Wc, cfg->H, 0.5f, err)))
            goto fail;
        size_t BW = (size_t)B * t->Wc;
        t->cond = sg_calloc((size_t)B * (Cc > 0 ? Cc : 1), sizeof *t->cond);
        t->real = sg_calloc((size_t)B * Dd, sizeof *t->real);
        t->fake_cat = sg_calloc(BW, sizeof *t->fake_cat);
        t->real_cat = sg_calloc(BW, sizeof *t->real_cat);
        t->xhat = sg_calloc(BW, sizeof *t->xhat);
        t->dcat = sg_calloc(BW, sizeof *t->dcat);
        t->dout = sg_calloc((size_t)t->Bp, sizeof *t->dout);
        t->dcol = sg_calloc((size_t)B, sizeof *t->dcol);
        t->lvl = sg_calloc((size_t)B, sizeof *t->lvl);
        t->pcol = sg_calloc((size_t)B, sizeof *t->pcol);
        t->plvl = sg_calloc((size_t)B, sizeof *t->plvl);
        t->rows = sg_calloc((size_t)B, sizeof *t->rows);
        t->perm = sg_calloc((size_t)B, sizeof *t->perm);
        if (!t->cond || !t->real || !t->fake_cat || !t->real_cat || !t->xhat || !t->dcat ||
            !t->dout || !t->dcol || !t->lvl || !t->pcol || !t->plvl || !t->rows || !t->perm) {
            rc = sg_error_set(err, SG_ENOMEM, "ctgan: out of memory for the batch buffers");
            goto fail;
        }
        if (cfg->focus >= 0 && cfg->focus < xf->n_disc) {
            const synth_col *col = &xf->cols[xf->disc[cfg->focus]];
            int La = col->n_levels;
            t->aux_col = xf->disc[cfg->focus];
            t->aux_off = col->off;
            t->aux_L = La;
            t->aux_miss = col->has_missing ? La - 1 : -1;
            sg_tensor_spec as[2] = {{"aux.w", 2, {Dd, La, 0, 0}}, {"aux.b", 1, {La, 0, 0, 0}}};
            if ((rc = sg_params_new(&t->aux, as, 2, 1, err))) goto fail;
            t->aw = sg_params_tensor(t->aux, 0);
            t->ab = sg_params_tensor(t->aux, 1);
            t->daw = sg_params_grad(t->aux, 0);
            t->dab = sg_params_grad(t->aux, 1);
            t->aux_in = sg_calloc((size_t)B * Dd, sizeof *t->aux_in);
            t->aux_din = sg_calloc((size_t)B * Dd, sizeof *t->aux_din);
            t->aux_out = sg_calloc((size_t)B * La, sizeof *t->aux_out);
            t->aux_d = sg_calloc((size_t)B * La, sizeof *t->aux_d);
            t->aux_y = sg_calloc((size_t)B, sizeof *t->aux_y);
            if (!t->aux_in || !t->aux_din || !t->aux_out || !t->aux_d || !t->aux_y) {
                rc = sg_error_set(err, SG_ENOMEM, "ctgan: out of memory for the classifier");
                goto fail;
            }
        }
    }
    *out = t;
    return SG_OK;
fail:
    synth_ctgan_free(t);
    return rc;
}

void synth_ctgan_free(synth_ctgan *t)
{
    if (!t) return;
    synth_gen_deinit(&t->gen);
    synth_critic_deinit(&t->crit);
    sg_free(t->cond);
    sg_free(t->real);
    sg_free(t->fake_cat);
    sg_free(t->real_cat);
    sg_free(t->xhat);
    sg_free(t->dcat);
    sg_free(t->dout);
    sg_free(t->dcol);
    sg_free(t->lvl);
    sg_free(t->pcol);
    sg_free(t->plvl);
    sg_free(t->rows);
    sg_free(t->perm);
    sg_params_free(t->aux);
    sg_free(t->aux_in);
    sg_free(t->aux_din);
    sg_free(t->aux_out);
    sg_free(t->aux_d);
    sg_free(t->aux_y);
    sg_free(t);
}

sg_params *synth_ctgan_gen_params(synth_ctgan *t) { return t->gen.p; }

/* PyTorch's default for dense layers: weights and biases uniform in +-1/sqrt(fan_in). */
static void init_dense(float *w, float *b, int fan_in, int fan_out, sg_rng *rng)
{
    float k = 1.0f / sqrtf((float)fan_in);
    sg_init_uniform(w, (size_t)fan_in * fan_out, -k, k, rng);
    if (b) sg_init_uniform(b, (size_t)fan_out, -k, k, rng);
}

void synth_ctgan_init(synth_ctgan *t, sg_rng *rng)
{
    synth_gen *g = &t->gen;
    init_dense(g->w1, NULL, g->I0, g->H, rng);
    init_dense(g->w2, NULL, g->W1, g->H, rng);
    init_dense(g->w3, g->b3, g->W2, g->Dd, rng);
    for (int h = 0; h < g->H; h++) {
        g->g1[h] = g->g2[h] = 1.0f;
        g->be1[h] = g->be2[h] = 0.0f;
    }
    if (t->train) {
        synth_critic *c = &t->crit;
        init_dense(c->w1, c->b1, c->P, c->H, rng);
        init_dense(c->w2, c->b2, c->H, c->H, rng);
        init_dense(c->w3, c->b3, c->H, 1, rng);
    }
}

/* Generator input x0 = [z | cond] for B rows, z ~ N(0, 1). */
static void fill_input(synth_gen *g, const float *cond, sg_rng *rng)
{
    for (int b = 0; b < g->B; b++) {
        float *x = g->x0 + (size_t)b * g->I0;
        for (int k = 0; k < g->Z; k++) x[k] = (float)sg_rng_normal(rng);
        if (g->Cc) memcpy(x + g->Z, cond + (size_t)b * g->Cc, (size_t)g->Cc * sizeof *x);
    }
}

/* dst (B, Dd + Cc) rows = [data_b | cond_{perm[b]}] (perm NULL = identity). */
static void concat_cond(float *dst, const float *data, const float *cond, const int64_t *perm,
                        int B, int Dd, int Cc)
{
    for (int b = 0; b < B; b++) {
        float *r = dst + (size_t)b * (Dd + Cc);
        memcpy(r, data + (size_t)b * Dd, (size_t)Dd * sizeof *r);
        if (Cc) memcpy(r + Dd, cond + (size_t)(perm ? perm[b] : b) * Cc, (size_t)Cc * sizeof *r);
    }
}

/* Rows conditioned on the focus block (the target) get exactly the conditioned level
 * in their output span: act's span becomes the one-hot (and, with dact, its gradient
 * is zeroed: a constant has none; the conditional loss still trains the logits).  The
 * critic then judges the other columns of a row against real rows with that level,
 * which is what makes the target's relation to them learnable. */
static void hard_condition(const synth_xf *xf, int focus, float *act, float *dact,
                           const int32_t *dcol, const int32_t *lvl, int B)
{
    if (focus < 0) return;
    const synth_col *col = &xf->cols[xf->disc[focus]];
    int Dd = xf->data_dim, L = col->n_levels;
    for (int b = 0; b < B; b++) {
        if (dcol[b] != focus) continue;
        float *a = act + (size_t)b * Dd + col->off;
        for (int l = 0; l < L; l++) a[l] = l == lvl[b] ? 1.0f : 0.0f;
        if (dact) memset(dact + (size_t)b * Dd + col->off, 0, (size_t)L * sizeof *dact);
    }
}

static double mean_out(const synth_critic *c)
{
    double s = 0;
    for (int b = 0; b < c->Bp; b++) s += (double)c->out[b];
    return s / c->Bp;
}

/* The auxiliary classifier on rows x (B, Dd) with labels t->aux_y: logits into
 * aux_out, d loss / d logits (scaled by 'scale' / labelled rows) into aux_d; returns
 * the mean cross-entropy over the labelled rows (0 when none). */
static double aux_forward(synth_ctgan *t, const float *x, int B, float scale)
{
    int Dd = t->xf->data_dim, L = t->aux_L, n = 0;
    memcpy(t->aux_in, x, (size_t)B * Dd * sizeof *t->aux_in);
    for (int b = 0; b < B; b++)
        memset(t->aux_in + (size_t)b * Dd + t->aux_off, 0, (size_t)L * sizeof *t->aux_in);
    sg_dense_forward(t->aux_out, t->aux_in, t->aw, t->ab, B, Dd, L);
    for (int b = 0; b < B; b++) n += t->aux_y[b] >= 0;
    memset(t->aux_d, 0, (size_t)B * L * sizeof *t->aux_d);
    if (n == 0) return 0.0;
    double loss = 0;
    float k = scale / (float)n;
    for (int b = 0; b < B; b++) {
        if (t->aux_y[b] < 0) continue;
        const float *z = t->aux_out + (size_t)b * L;
        double mx = -INFINITY, s = 0;
        for (int l = 0; l < L; l++) mx = fmax(mx, (double)z[l]);
        for (int l = 0; l < L; l++) s += exp((double)z[l] - mx);
        loss += mx + log(s) - (double)z[t->aux_y[b]];
        for (int l = 0; l < L; l++)
            t->aux_d[(size_t)b * L + l] = k * ((float)(exp((double)z[l] - mx) / s) -
                                               (l == t->aux_y[b] ? 1.0f : 0.0f));
    }
    return loss / n;
}

/* One update of the auxiliary classifier on the real rows of the batch (t->real,
 * drawn for t->rows). */
static void aux_step(synth_ctgan *t, const synth_data *d)
{
    int B = t->cfg.B, C = t->xf->n_cols;
    for (int b = 0; b < B; b++) {
        int32_t l = d->level[t->rows[b] * C + t->aux_col];
        t->aux_y[b] = l == t->aux_miss ? -1 : l;
    }
    aux_forward(t, t->real, B, 1.0f);
    sg_params_zero_grad(t->aux);
    sg_dense_backward(NULL, t->daw, t->dab, t->aux_d, t->aux_in, t->aw, B, t->xf->data_dim,
                      t->aux_L);
    sg_params_adam(t->aux, AUX_LR, 0.9f, 0.999f, 1e-8f, 0.0f);
}

/* One critic update; *loss = -(mean critic(real) - mean critic(fake)), *pen the penalty. */
static void critic_step(synth_ctgan *t, const synth_data *d, sg_rng *rng, double *loss,
                        double *pen)
{
    const synth_xf *xf = t->xf;
    synth_gen *g = &t->gen;
    synth_critic *c = &t->crit;
    int B = t->cfg.B, Dd = xf->data_dim, Cc = xf->cond_dim, Bp = t->Bp;
    /* fake rows under conditions c1 */
    synth_cond_sample_focus(xf, xf->logf_cum, B, t->cfg.focus, t->cfg.focus_share, rng, t->cond,
                            t->dcol, t->lvl);
    fill_input(g, t->cond, rng);
    synth_gen_forward(g, xf, t->cfg.tau, rng);
    hard_condition(xf, t->cfg.focus, g->act, NULL, t->dcol, t->lvl, B);
    /* real rows drawn for the permuted conditions c2 = c1[perm] */
    for (int b = 0; b < B; b++) t->perm[b] = b;
    sg_rng_shuffle_i64(rng, t->perm, B);
    for (int b = 0; b < B; b++) {
        t->pcol[b] = t->dcol[t->perm[b]];
        t->plvl[b] = t->lvl[t->perm[b]];
    }
    synth_rows_for_cond(xf, d, t->pcol, t->plvl, B, rng, t->rows);
    synth_data_dense(xf, d, t->rows, B, t->real);
    concat_cond(t->fake_cat, g->act, t->cond, NULL, B, Dd, Cc);
    concat_cond(t->real_cat, t->real, t->cond, t->perm, B, Dd, Cc);
    /* Wasserstein loss: d loss / d out = -1/Bp for real rows, +1/Bp for fake rows */
    sg_params_zero_grad(c->p);
    synth_critic_forward(c, t->real_cat, rng);
    double mr = mean_out(c);
    for (int b = 0; b < Bp; b++) t->dout[b] = -1.0f / (float)Bp;
    synth_critic_backward(c, t->real_cat, t->dout, NULL, 1);
    synth_critic_forward(c, t->fake_cat, rng);
    double mf = mean_out(c);
    for (int b = 0; b < Bp; b++) t->dout[b] = 1.0f / (float)Bp;
    synth_critic_backward(c, t->fake_cat, t->dout, NULL, 1);
    /* gradient penalty at one random mix per packed row */
    int P = c->P;
    for (int p = 0; p < Bp; p++) {
        float a = (float)sg_rng_uniform(rng);
        size_t o = (size_t)p * P;
        for (int j = 0; j < P; j++)
            t->xhat[o + j] = a * t->real_cat[o + j] + (1.0f - a) * t->fake_cat[o + j];
    }
    *pen = synth_critic_gp(c, t->xhat, t->cfg.gp_lambda, rng, 1);
    *loss = -(mr - mf);
    sg_params_adam(c->p, t->cfg.lr, 0.5f, 0.9f, 1e-8f, t->cfg.wd);
    if (t->aux) aux_step(t, d);
}

/* One generator update; returns -mean critic(fake) + the conditional loss (+ the auxiliary
 * classifier's loss, with a focus). */
static double generator_step(synth_ctgan *t, sg_rng *rng)
{
    const synth_xf *xf = t->xf;
    synth_gen *g = &t->gen;
    synth_critic *c = &t->crit;
    int B = t->cfg.B, Dd = xf->data_dim, Cc = xf->cond_dim, Bp = t->Bp;
    synth_cond_sample_focus(xf, xf->logf_cum, B, t->cfg.focus, t->cfg.focus_share, rng, t->cond,
                            t->dcol, t->lvl);
    fill_input(g, t->cond, rng);
    synth_gen_forward(g, xf, t->cfg.tau, rng);
    hard_condition(xf, t->cfg.focus, g->act, NULL, t->dcol, t->lvl, B);
    concat_cond(t->fake_cat, g->act, t->cond, NULL, B, Dd, Cc);
    synth_critic_forward(c, t->fake_cat, rng);
    double mf = mean_out(c);
    double ce = synth_cond_loss_forward(xf, g->o, t->dcol, t->lvl, B);
    /* d loss / d out = -1/Bp; back through the critic to its input only */
    for (int b = 0; b < Bp; b++) t->dout[b] = -1.0f / (float)Bp;
    memset(t->dcat, 0, (size_t)B * t->Wc * sizeof *t->dcat);
    synth_critic_backward(c, t->fake_cat, t->dout, t->dcat, 0);
    for (int b = 0; b < B; b++)
        memcpy(g->dact + (size_t)b * Dd, t->dcat + (size_t)b * t->Wc, (size_t)Dd * sizeof *g->dact);
    hard_condition(xf, t->cfg.focus, g->act, g->dact, t->dcol, t->lvl, B);
    /* the auxiliary classifier, on the rows conditioned on a target level, wants the
     * other columns to predict that level (as in CTAB-GAN) */
    double la = 0;
    if (t->aux) {
        for (int b = 0; b < B; b++)
            t->aux_y[b] = t->dcol[b] == t->cfg.focus && t->lvl[b] != t->aux_miss ? t->lvl[b] : -1;
        la = aux_forward(t, g->act, B, AUX_WEIGHT);
        sg_sgemm(0, 1, B, Dd, t->aux_L, 1.0f, t->aux_d, t->aw, 0.0f, t->aux_din);
        for (int b = 0; b < B; b++) {
            float *gd = g->dact + (size_t)b * Dd;
            const float *ad = t->aux_din + (size_t)b * Dd;
            for (int j = 0; j < Dd; j++)
                if (j < t->aux_off || j >= t->aux_off + t->aux_L) gd[j] += ad[j];
        }
    }
    memset(g->d_o, 0, (size_t)B * Dd * sizeof *g->d_o);
    synth_activate_backward(xf, g->d_o, g->dact, g->act, B, t->cfg.tau);
    synth_cond_loss_backward(xf, g->d_o, g->o, t->dcol, t->lvl, B, 1.0f / (float)B);
    sg_params_zero_grad(g->p);
    synth_gen_backward(g);
    sg_params_adam(g->p, t->cfg.lr, 0.5f, 0.9f, 1e-8f, t->cfg.wd);
    return -mf + ce + (double)AUX_WEIGHT * la;
}

int synth_ctgan_epoch(synth_ctgan *t, const synth_data *d, sg_rng *rng, int epoch,
                      double *loss_d, double *loss_g, sg_error *err)
{
    int64_t steps = d->n / t->cfg.B;
    if (steps < 1) steps = 1;
    double sd = 0, sg = 0;
    for (int64_t s = 0; s < steps; s++) {
        double ld = 0, pen = 0;
        for (int k = 0; k < t->cfg.critic_steps; k++) critic_step(t, d, rng, &ld, &pen);
        double lg = generator_step(t, rng);
        if (!isfinite(ld) || !isfinite(pen) || !isfinite(lg))
            return sg_error_set(err, SG_ENUMERIC, "ctgan: epoch %d, step %lld: a loss is not "
                                "finite (critic %g, penalty %g, generator %g); try a lower "
                                "learning rate", epoch, (long long)s + 1, ld, pen, lg);
        sd += ld;
        sg += lg;
    }
    *loss_d = sd / (double)steps;
    *loss_g = sg / (double)steps;
    return SG_OK;
}

int synth_ctgan_generate(const synth_ctgan *t, int cond_col, int32_t cond_level, sg_rng *rng,
                         float *X, sg_error *err)
{
    const synth_xf *xf = t->xf;
    synth_gen g = t->gen;   /* the same weights, buffers of its own */
    g.mem = NULL;
    int rc = gen_ws_alloc(&g, 0, err);
    if (rc) return rc;
    int B = g.B, Cc = xf->cond_dim;
    float *cond = NULL;
    int32_t *dcol = NULL, *lvl = NULL;
    if (Cc > 0) {
        cond = sg_calloc((size_t)B * Cc, sizeof *cond);
        dcol = sg_calloc((size_t)B, sizeof *dcol);
        lvl = sg_calloc((size_t)B, sizeof *lvl);
        if (!cond || !dcol || !lvl) {
            rc = sg_error_set(err, SG_ENOMEM, "ctgan: out of memory");
            goto done;
        }
        if (cond_col >= 0) {
            int s = xf->cols[cond_col].cond_off + cond_level;
            int k = t->cfg.focus >= 0 && xf->disc[t->cfg.focus] == cond_col ? t->cfg.focus : -1;
            for (int b = 0; b < B; b++) {
                cond[(size_t)b * Cc + s] = 1.0f;
                dcol[b] = k;
                lvl[b] = cond_level;
            }
        } else {
            /* the same share of rows names the focus (the target) as in training:
             * batch norm uses batch statistics, so a batch must mix blocks as the
             * training batches did */
            synth_cond_sample_focus(xf, xf->freq_cum, B, t->cfg.focus, t->cfg.focus_share,
                                    rng, cond, dcol, lvl);
        }
    }
    fill_input(&g, cond, rng);
    synth_gen_forward(&g, xf, t->cfg.tau, rng);
    if (Cc > 0) hard_condition(xf, t->cfg.focus, g.act, NULL, dcol, lvl, B);
    synth_decode(xf, g.act, B, X);
done:
    sg_free(g.mem);
    sg_free(cond);
    sg_free(dcol);
    sg_free(lvl);
    return rc;
}

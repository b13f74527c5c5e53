/* tvae.c -- the tabular VAE of Xu et al. (2019) (TVAE), by hand, conditioned on the
 * target when there is one.
 *
 * B = batch rows, Dd = encoded data width, H = hidden width, Z = latent size,
 * Lt = levels of the target (0 without a conditioned target), Zi = Z + Lt.
 *
 * Encoder Dd -> H relu -> H relu -> (mu, logvar) (Z each); z = mu + exp(logvar/2)
 * eps; decoder Zi -> H relu -> H relu -> Dd, plus one learned sigma per encoded
 * float (only the continuous offsets use theirs).  Loss per batch, as the CTGAN
 * package computes it: factor (2) times the reconstruction loss (Gaussian on the
 * tanh of each continuous offset with its sigma, cross-entropy on every one-hot
 * span) summed over rows and divided by B, plus KL(q(z|x) || prior) / B.  Adam
 * (lr 1e-3, weight decay 1e-5 decoupled), sigma clamped to [0.01, 1] after each
 * step.  Sampling: z from the prior, the decoder, each continuous offset drawn from
 * N(tanh(rec), sigma) and clipped to [-1, 1], each level drawn from the softmax of
 * its span.  (The CTGAN package takes the argmax there, which never generates a
 * level that is rarely the most likely one, such as a 6% positive class: its
 * synthetic target then has a single class.  Drawing is what the loss, a
 * categorical likelihood, describes.)
 *
 * With a discrete or category target (cfg.cond; synth.c), a conditional VAE:
 * - the decoder's input is [z | one-hot of the row's target level] (the missing
 *   level, when the target has one, is a level like the others);
 * - the prior is learned per level, N(prior_mu[c], exp(prior_logvar[c])) (decoder
 *   tensors 7 and 8, saved with it), and the KL is taken against the row's level's;
 * - sampling draws the level c from the training frequencies (or takes the one asked
 *   for), z from c's prior, and writes c as the row's target;
 * - an auxiliary linear classifier of the target from the other columns (as the
 *   GAN has, ctgan.c), trained on the real rows of each batch (Adam 5e-3), judges
 *   rows decoded from the prior for the batch's levels (softmax / tanh outputs):
 *   cfg.aux_weight (synth.c: 0.035 per column, 3 on CoIL) times its cross-entropy is
 *   added to the loss, through the decoder and the prior;
 * - the target's reconstruction cross-entropy weighs cfg.target_weight (synth.c: 30).
 * Measured on CoIL (6% CARAVAN, bench/synth_results.md): with N(0, I) and no
 * condition, the target was drawn nearly independently of the other columns (TSTR /
 * TRTR 0.88; weighting the target term 30x: 0.896).  The condition alone did worse
 * (0.864: the other columns come from z, which at sampling knows nothing of the
 * level); with the learned prior 0.908; with the classifier 0.928 (0.963 and 0.986
 * trained with two other seeds).  The classifier's weight is per column because on
 * income (14 columns) weight 3 cost correlation and contingency similarity.
 * Every batch of an epoch covers the shuffled training rows once (the last one
 * may be short).  See LICENSE for copyright. */
#include <math.h>
#include <string.h>

#include "stratagem/fidelity.h"
#include "stratagem/mem.h"
#include "stratagem/nn.h"
#include "synth_private.h"

#define TVAE_AUX_LR 5e-3f   /* the auxiliary classifier: linear, convex, trained fast */

/* ---------------------------------------------------------------------------
 * loss */

double synth_tvae_loss_forward(const synth_xf *xf, const float *rec, const float *x,
                               const float *sigma, int B, float factor)
{
    return synth_tvae_loss_wforward(xf, rec, x, sigma, B, factor, -1, 1.0f);
}

double synth_tvae_loss_wforward(const synth_xf *xf, const float *rec, const float *x,
                                const float *sigma, int B, float factor, int wcol, float w)
{
    int Dd = xf->data_dim;
    double loss = 0;
    for (int b = 0; b < B; b++) {
        const float *r = rec + (size_t)b * Dd, *xb = x + (size_t)b * Dd;
        for (int j = 0; j < xf->n_cols; j++) {
            const synth_col *col = &xf->cols[j];
            int s = col->off, L = col->n_levels;
            if (col->kind == SG_FCOL_CONTINUOUS) {
                double sg = (double)sigma[s], eq = (double)xb[s] - tanh((double)r[s]);
                loss += eq * eq / (2.0 * sg * sg) + log(sg);
                s++;
            }
            double mx = -INFINITY, t = 0;
            int target = 0;
            for (int l = 0; l < L; l++) {
                mx = fmax(mx, (double)r[s + l]);
                if (xb[s + l] > xb[s + target]) target = l;
            }
            for (int l = 0; l < L; l++) t += exp((double)r[s + l] - mx);
            loss += (j == wcol ? (double)w : 1.0) * (mx + log(t) - (double)r[s + target]);
        }
    }
    return loss * (double)factor / B;
}

void synth_tvae_loss_backward(const synth_xf *xf, float *drec, float *dsigma, const float *rec,
                              const float *x, const float *sigma, int B, float factor)
{
    synth_tvae_loss_wbackward(xf, drec, dsigma, rec, x, sigma, B, factor, -1, 1.0f);
}

void synth_tvae_loss_wbackward(const synth_xf *xf, float *drec, float *dsigma, const float *rec,
                               const float *x, const float *sigma, int B, float factor, int wcol,
                               float w)
{
    int Dd = xf->data_dim;
    float k = factor / (float)B;
    for (int b = 0; b < B; b++) {
        const float *r = rec + (size_t)b * Dd, *xb = x + (size_t)b * Dd;
        float *d = drec + (size_t)b * Dd;
        for (int j = 0; j < xf->n_cols; j++) {
            const synth_col *col = &xf->cols[j];
            int s = col->off, L = col->n_levels;
            if (col->kind == SG_FCOL_CONTINUOUS) {
                float sg = sigma[s], th = tanhf(r[s]), eq = xb[s] - th;
                d[s] += k * (-eq / (sg * sg)) * (1.0f - th * th);
                dsigma[s] += k * (-eq * eq / (sg * sg * sg) + 1.0f / sg);
                s++;
            }
            double mx = -INFINITY, t = 0;
            int target = 0;
            for (int l = 0; l < L; l++) {
                mx = fmax(mx, (double)r[s + l]);
                if (xb[s + l] > xb[s + target]) target = l;
            }
            for (int l = 0; l < L; l++) t += exp((double)r[s + l] - mx);
            float kj = j == wcol ? k * w : k;
            for (int l = 0; l < L; l++) {
                float p = (float)(exp((double)r[s + l] - mx) / t);
                d[s + l] += kj * (p - (l == target ? 1.0f : 0.0f));
            }
        }
    }
}

/* ---------------------------------------------------------------------------
 * the model */

struct synth_tvae {
    const synth_xf *xf;       /* borrowed */
    synth_tvae_cfg cfg;
    int train;
    int Lt, toff;             /* conditioned: the target's levels and span offset; else 0, -1 */
    int Zi;                   /* decoder input width Z + Lt */
    sg_params *enc;           /* ew1 (Dd,H) eb1 ew2 (H,H) eb2 ewm (H,Z) ebm ewv (H,Z) ebv */
    sg_params *dec;           /* dw1 (Zi,H) db1 dw2 (H,H) db2 dw3 (H,Dd) db3 sigma (Dd), and
                               * conditioned the prior pm (Lt,Z) mean, pv (Lt,Z) log-variance */
    /* activations (B rows) */
    float *x, *e1, *e2, *mu, *lv, *eps, *z, *zc, *d1, *d2, *rec;
    /* gradients */
    float *grec, *gd2, *gd1, *gzc, *gz, *gmu, *glv, *ge2, *ge1;
    float *mem;
    int32_t *lvl;             /* (B) the rows' target levels (conditioned) */
    /* conditioned with cfg.aux_weight > 0: the auxiliary classifier softmax(x W + b) of
     * the target from the other columns (training only), and the prior pass */
    sg_params *aux;           /* w (Dd,Lt) b (Lt) */
    int32_t *aux_y;           /* (B) label, or -1 (the missing level) */
    float *aux_in, *aux_out, *aux_d;   /* (B,Dd) (B,Lt) (B,Lt) */
    float *p_eps, *p_z, *p_zc, *p_d1, *p_d2, *p_o, *p_act, *p_dact, *p_do, *p_gd2, *p_gd1,
          *p_gzc;
    float *aux_mem;
    int64_t *rows;            /* (n) shuffled row order of an epoch */
    int64_t n_rows;
};

int synth_tvae_new(synth_tvae **out, const synth_xf *xf, const synth_tvae_cfg *cfg, int train,
                   sg_error *err)
{
    synth_tvae *t = sg_calloc(1, sizeof *t);
    if (!t) return sg_error_set(err, SG_ENOMEM, "tvae: out of memory");
    t->xf = xf;
    t->cfg = *cfg;
    t->train = train;
    t->toff = -1;
    if (cfg->cond && cfg->target >= 0 && xf->cols[cfg->target].kind != SG_FCOL_CONTINUOUS) {
        t->Lt = xf->cols[cfg->target].n_levels;
        t->toff = xf->cols[cfg->target].off;
    }
    t->Zi = cfg->Z + t->Lt;
    int Dd = xf->data_dim, H = cfg->H, Z = cfg->Z, Zi = t->Zi;
    sg_tensor_spec es[8] = {
        {"enc.w1", 2, {Dd, H, 0, 0}}, {"enc.b1", 1, {H, 0, 0, 0}},
        {"enc.w2", 2, {H, H, 0, 0}},  {"enc.b2", 1, {H, 0, 0, 0}},
        {"enc.wm", 2, {H, Z, 0, 0}},  {"enc.bm", 1, {Z, 0, 0, 0}},
        {"enc.wv", 2, {H, Z, 0, 0}},  {"enc.bv", 1, {Z, 0, 0, 0}},
    };
    sg_tensor_spec ds[9] = {
        {"dec.w1", 2, {Zi, H, 0, 0}}, {"dec.b1", 1, {H, 0, 0, 0}},
        {"dec.w2", 2, {H, H, 0, 0}},  {"dec.b2", 1, {H, 0, 0, 0}},
        {"dec.w3", 2, {H, Dd, 0, 0}}, {"dec.b3", 1, {Dd, 0, 0, 0}},
        {"dec.sigma", 1, {Dd, 0, 0, 0}},
        {"dec.prior_mu", 2, {t->Lt, Z, 0, 0}}, {"dec.prior_logvar", 2, {t->Lt, Z, 0, 0}},
    };
    int rc;
    if ((rc = sg_params_new(&t->dec, ds, t->Lt ? 9 : 7, train, err))) goto fail;
    if (train) {
        if ((rc = sg_params_new(&t->enc, es, 8, 1, err))) goto fail;
        size_t B = (size_t)cfg->B;
        size_t total = B * (3 * (size_t)Dd + 8 * (size_t)H + 7 * (size_t)Z + 2 * (size_t)Zi);
        if (!(t->mem = sg_calloc(total, sizeof *t->mem)) ||
            !(t->lvl = sg_calloc(B, sizeof *t->lvl)))
            goto oom;
        float *p = t->mem;
        float **bufs[] = {&t->x, &t->e1, &t->e2, &t->mu, &t->lv, &t->eps, &t->z, &t->zc, &t->d1,
                          &t->d2, &t->rec, &t->grec, &t->gd2, &t->gd1, &t->gzc, &t->gz, &t->gmu,
                          &t->glv, &t->ge2, &t->ge1};
        size_t w[] = {Dd, H, H, Z, Z, Z, Z, Zi, H, H, Dd, Dd, H, H, Zi, Z, Z, Z, H, H};
        for (int k = 0; k < 20; k++) {
            *bufs[k] = p;
            p += B * w[k];
        }
        if (t->Lt && cfg->aux_weight > 0) {
            int Lt = t->Lt;
            sg_tensor_spec as[2] = {{"aux.w", 2, {Dd, Lt, 0, 0}}, {"aux.b", 1, {Lt, 0, 0, 0}}};
            if ((rc = sg_params_new(&t->aux, as, 2, 1, err))) goto fail;
            float **ab[] = {&t->aux_in, &t->aux_out, &t->aux_d, &t->p_eps, &t->p_z, &t->p_zc,
                            &t->p_d1, &t->p_d2, &t->p_o, &t->p_act, &t->p_dact, &t->p_do,
                            &t->p_gd2, &t->p_gd1, &t->p_gzc};
            size_t aw[] = {Dd, Lt, Lt, Z, Z, Zi, H, H, Dd, Dd, Dd, Dd, H, H, Zi};
            size_t at = 0;
            for (int k = 0; k < 15; k++) at += B * aw[k];
            if (!(t->aux_mem = sg_calloc(at, sizeof *t->aux_mem)) ||
                !(t->aux_y = sg_calloc(B, sizeof *t->aux_y)))
                goto oom;
            p = t->aux_mem;
            for (int k = 0; k < 15; k++) {
                *ab[k] = p;
                p += B * aw[k];
            }
        }
    }
    *out = t;
    return SG_OK;
oom:
    rc = sg_error_set(err, SG_ENOMEM, "tvae: out of memory for the batch buffers");
fail:
    synth_tvae_free(t);
    return rc;
}

void synth_tvae_free(synth_tvae *t)
{
    if (!t) return;
    sg_params_free(t->enc);
    sg_params_free(t->dec);
    sg_free(t->mem);
    sg_free(t->lvl);
    sg_params_free(t->aux);
    sg_free(t->aux_y);
    sg_free(t->aux_mem);
    sg_free(t->rows);
    sg_free(t);
}

sg_params *synth_tvae_dec_params(synth_tvae *t) { return t->dec; }
sg_params *synth_tvae_enc_params(synth_tvae *t) { return t->enc; }
sg_params *synth_tvae_aux_params(synth_tvae *t) { return t->aux; }
int synth_tvae_cond_width(const synth_tvae *t) { return t->Lt; }

static void init_dense(sg_params *p, int iw, int ib, int fan_in, int fan_out, sg_rng *rng)
{
    float k = 1.0f / sqrtf((float)fan_in);
    sg_init_uniform(sg_params_tensor(p, iw), (size_t)fan_in * fan_out, -k, k, rng);
    sg_init_uniform(sg_params_tensor(p, ib), (size_t)fan_out, -k, k, rng);
}

void synth_tvae_init(synth_tvae *t, sg_rng *rng)
{
    int Dd = t->xf->data_dim, H = t->cfg.H, Z = t->cfg.Z;
    if (t->enc) {
        init_dense(t->enc, 0, 1, Dd, H, rng);
        init_dense(t->enc, 2, 3, H, H, rng);
        init_dense(t->enc, 4, 5, H, Z, rng);
        init_dense(t->enc, 6, 7, H, Z, rng);
    }
    init_dense(t->dec, 0, 1, t->Zi, H, rng);
    init_dense(t->dec, 2, 3, H, H, rng);
    init_dense(t->dec, 4, 5, H, Dd, rng);
    float *sigma = sg_params_tensor(t->dec, 6);
    for (int k = 0; k < Dd; k++) sigma[k] = 0.1f;
    if (t->aux) {
        sg_params_zero_grad(t->aux);
        memset(sg_params_data(t->aux), 0, sg_params_count(t->aux) * sizeof(float));
    }
    /* the conditional prior starts as N(0, I) for every level */
    if (t->Lt) {
        memset(sg_params_tensor(t->dec, 7), 0, (size_t)t->Lt * Z * sizeof(float));
        memset(sg_params_tensor(t->dec, 8), 0, (size_t)t->Lt * Z * sizeof(float));
    }
}

/* KL(N(mu, exp(lv)) || N(pm[c], exp(pv[c]))) of B rows (Z each, row b with level
 * lvl[b]), times 'scale': sum 0.5 (pv - lv + (exp(lv) + (mu - pm)^2) exp(-pv) - 1);
 * pm = pv = 0 is the standard normal. */
static double kl_prior_forward(const float *mu, const float *lv, const float *pm, const float *pv,
                               const int32_t *lvl, int B, int Z, float scale)
{
    double s = 0;
    for (int b = 0; b < B; b++) {
        const float *m = mu + (size_t)b * Z, *v = lv + (size_t)b * Z;
        const float *qm = pm + (size_t)lvl[b] * Z, *qv = pv + (size_t)lvl[b] * Z;
        for (int k = 0; k < Z; k++) {
            double dm = (double)m[k] - (double)qm[k];
            s += 0.5 * ((double)qv[k] - (double)v[k] +
                        (exp((double)v[k]) + dm * dm) * exp(-(double)qv[k]) - 1.0);
        }
    }
    return s * (double)scale;
}

/* Its gradient: dmu, dlv (B, Z) and dpm, dpv (Lt, Z) +=. */
static void kl_prior_backward(float *dmu, float *dlv, float *dpm, float *dpv, const float *mu,
                              const float *lv, const float *pm, const float *pv,
                              const int32_t *lvl, int B, int Z, float scale)
{
    for (int b = 0; b < B; b++) {
        size_t o = (size_t)b * Z, q = (size_t)lvl[b] * Z;
        for (int k = 0; k < Z; k++) {
            float ip = expf(-pv[q + k]), dm = mu[o + k] - pm[q + k], el = expf(lv[o + k]);
            dmu[o + k] += scale * dm * ip;
            dlv[o + k] += scale * 0.5f * (el * ip - 1.0f);
            dpm[q + k] -= scale * dm * ip;
            dpv[q + k] += scale * 0.5f * (1.0f - (el + dm * dm) * ip);
        }
    }
}

/* In place: x = relu(x). */
static void relu_inplace(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

/* In place: g = g where the relu output y > 0, else 0. */
static void relu_mask(float *g, const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(y[i] > 0.0f)) g[i] = 0.0f;
}

/* Decoder input zc (B, Z + Lt) = [z | one-hot of level lvl[b]] (Lt = 0: a copy of z). */
static void decoder_input(float *zc, const float *z, const int32_t *lvl, int B, int Z, int Lt)
{
    int Zi = Z + Lt;
    for (int b = 0; b < B; b++) {
        float *o = zc + (size_t)b * Zi;
        memcpy(o, z + (size_t)b * Z, (size_t)Z * sizeof *o);
        for (int l = 0; l < Lt; l++) o[Z + l] = l == lvl[b] ? 1.0f : 0.0f;
    }
}

/* Decoder forward: d1, d2, rec from zc (B rows, width Zi), with the weights of 'dec'. */
static void decoder_forward(sg_params *dec, const float *zc, float *d1, float *d2, float *rec,
                            int B, int Zi, int H, int Dd)
{
    sg_dense_forward(d1, zc, sg_params_tensor(dec, 0), sg_params_tensor(dec, 1), B, Zi, H);
    relu_inplace(d1, (size_t)B * H);
    sg_dense_forward(d2, d1, sg_params_tensor(dec, 2), sg_params_tensor(dec, 3), B, H, H);
    relu_inplace(d2, (size_t)B * H);
    sg_dense_forward(rec, d2, sg_params_tensor(dec, 4), sg_params_tensor(dec, 5), B, H, Dd);
}

/* Decoder backward from grec (B, Dd) after a forward on zc: the weight gradients are
 * accumulated, gzc (B, Zi) gets the input gradient (gd2, gd1 (B, H) scratch). */
static void decoder_backward(sg_params *dec, const float *grec, float *gd2, float *gd1,
                             float *gzc, const float *zc, const float *d1, const float *d2, int B,
                             int Zi, int H, int Dd)
{
    size_t BH = (size_t)B * H;
    memset(gd2, 0, BH * sizeof *gd2);
    sg_dense_backward(gd2, sg_params_grad(dec, 4), sg_params_grad(dec, 5), grec, d2,
                      sg_params_tensor(dec, 4), B, H, Dd);
    relu_mask(gd2, d2, BH);
    memset(gd1, 0, BH * sizeof *gd1);
    sg_dense_backward(gd1, sg_params_grad(dec, 2), sg_params_grad(dec, 3), gd2, d1,
                      sg_params_tensor(dec, 2), B, H, H);
    relu_mask(gd1, d1, BH);
    memset(gzc, 0, (size_t)B * Zi * sizeof *gzc);
    sg_dense_backward(gzc, sg_params_grad(dec, 0), sg_params_grad(dec, 1), gd1, zc,
                      sg_params_tensor(dec, 0), B, Zi, H);
}

/* The auxiliary classifier on rows x (B, Dd), the target's span masked, labels
 * t->aux_y: logits into aux_out, d loss / d logits (times scale / labelled rows) into
 * aux_d; returns the mean cross-entropy over the labelled rows (0 when none). */
static double aux_forward(synth_tvae *t, const float *x, int B, float scale)
{
    int Dd = t->xf->data_dim, L = t->Lt, n = 0;
    memcpy(t->aux_in, x, (size_t)B * Dd * sizeof *t->aux_in);
    for (int b = 0; b < B; b++)
        memset(t->aux_in + (size_t)b * Dd + t->toff, 0, (size_t)L * sizeof *t->aux_in);
    sg_dense_forward(t->aux_out, t->aux_in, sg_params_tensor(t->aux, 0),
                     sg_params_tensor(t->aux, 1), B, Dd, L);
    memset(t->aux_d, 0, (size_t)B * L * sizeof *t->aux_d);
    for (int b = 0; b < B; b++) n += t->aux_y[b] >= 0;
    if (n == 0) return 0.0;
    double loss = 0;
    float k = scale / (float)n;
    for (int b = 0; b < B; b++) {
        if (t->aux_y[b] < 0) continue;
        const float *o = t->aux_out + (size_t)b * L;
        double mx = -INFINITY, s = 0;
        for (int l = 0; l < L; l++) mx = fmax(mx, (double)o[l]);
        for (int l = 0; l < L; l++) s += exp((double)o[l] - mx);
        loss += mx + log(s) - (double)o[t->aux_y[b]];
        for (int l = 0; l < L; l++)
            t->aux_d[(size_t)b * L + l] = k * ((float)(exp((double)o[l] - mx) / s) -
                                               (l == t->aux_y[b] ? 1.0f : 0.0f));
    }
    return loss / n;
}

/* Labels of the batch: the rows' target levels, -1 for the missing level. */
static void aux_labels(synth_tvae *t, int B)
{
    const synth_col *col = &t->xf->cols[t->cfg.target];
    for (int b = 0; b < B; b++)
        t->aux_y[b] = col->has_missing && t->lvl[b] == t->Lt - 1 ? -1 : t->lvl[b];
}

/* The prior pass: rows generated from the batch's target levels (z from the level's
 * prior, the decoder, softmax / tanh activations) should let the classifier tell
 * their level: aux_weight times its cross-entropy, whose gradient is accumulated into
 * the decoder (the prior included).  Returns the cross-entropy. */
static double prior_pass(synth_tvae *t, int B, sg_rng *rng)
{
    const synth_xf *xf = t->xf;
    int Dd = xf->data_dim, H = t->cfg.H, Z = t->cfg.Z, Zi = t->Zi, Lt = t->Lt;
    sg_params *dec = t->dec;
    const float *pm = sg_params_tensor(dec, 7), *pv = sg_params_tensor(dec, 8);
    for (int b = 0; b < B; b++)
        for (int k = 0; k < Z; k++) {
            size_t i = (size_t)b * Z + k, q = (size_t)t->lvl[b] * Z + k;
            t->p_eps[i] = (float)sg_rng_normal(rng);
            t->p_z[i] = pm[q] + expf(0.5f * pv[q]) * t->p_eps[i];
        }
    decoder_input(t->p_zc, t->p_z, t->lvl, B, Z, Lt);
    decoder_forward(dec, t->p_zc, t->p_d1, t->p_d2, t->p_o, B, Zi, H, Dd);
    synth_activate_forward(xf, t->p_act, t->p_dact, t->p_o, B, 0.0f, NULL);
    aux_labels(t, B);
    double ce = aux_forward(t, t->p_act, B, t->cfg.aux_weight);
    /* d loss / d act = aux_d W^T off the target's span */
    const float *w = sg_params_tensor(t->aux, 0);
    for (int b = 0; b < B; b++) {
        float *g = t->p_dact + (size_t)b * Dd;
        const float *ad = t->aux_d + (size_t)b * Lt;
        for (int j = 0; j < Dd; j++) {
            float s = 0;
            if (j < t->toff || j >= t->toff + Lt)
                for (int l = 0; l < Lt; l++) s += ad[l] * w[(size_t)j * Lt + l];
            g[j] = s;
        }
    }
    memset(t->p_do, 0, (size_t)B * Dd * sizeof *t->p_do);
    synth_activate_backward(xf, t->p_do, t->p_dact, t->p_act, B, 0.0f);
    decoder_backward(dec, t->p_do, t->p_gd2, t->p_gd1, t->p_gzc, t->p_zc, t->p_d1, t->p_d2, B, Zi,
                     H, Dd);
    float *dpm = sg_params_grad(dec, 7), *dpv = sg_params_grad(dec, 8);
    for (int b = 0; b < B; b++)
        for (int k = 0; k < Z; k++) {
            size_t i = (size_t)b * Z + k, q = (size_t)t->lvl[b] * Z + k;
            float g = t->p_gzc[(size_t)b * Zi + k];
            dpm[q] += g;
            dpv[q] += g * t->p_eps[i] * 0.5f * expf(0.5f * pv[q]);
        }
    return ce;
}

/* One update of the classifier on the real rows of the batch (t->x, labels set). */
static void aux_step(synth_tvae *t, int B)
{
    aux_labels(t, B);
    aux_forward(t, t->x, B, 1.0f);
    sg_params_zero_grad(t->aux);
    sg_dense_backward(NULL, sg_params_grad(t->aux, 0), sg_params_grad(t->aux, 1), t->aux_d,
                      t->aux_in, sg_params_tensor(t->aux, 0), B, t->xf->data_dim, t->Lt);
    sg_params_adam(t->aux, TVAE_AUX_LR, 0.9f, 0.999f, 1e-8f, 0.0f);
}

void synth_tvae_grad(synth_tvae *t, const synth_data *d, const int64_t *rows, int B, sg_rng *rng,
                     double *lrec, double *lkl, double *laux)
{
    const synth_xf *xf = t->xf;
    int Dd = xf->data_dim, H = t->cfg.H, Z = t->cfg.Z, Zi = t->Zi, Lt = t->Lt;
    size_t BH = (size_t)B * H, BZ = (size_t)B * Z, BD = (size_t)B * Dd;
    sg_params *enc = t->enc, *dec = t->dec;
    float *sigma = sg_params_tensor(dec, 6);
    /* encoder */
    synth_data_dense(xf, d, rows, B, t->x);
    sg_dense_forward(t->e1, t->x, sg_params_tensor(enc, 0), sg_params_tensor(enc, 1), B, Dd, H);
    relu_inplace(t->e1, BH);
    sg_dense_forward(t->e2, t->e1, sg_params_tensor(enc, 2), sg_params_tensor(enc, 3), B, H, H);
    relu_inplace(t->e2, BH);
    sg_dense_forward(t->mu, t->e2, sg_params_tensor(enc, 4), sg_params_tensor(enc, 5), B, H, Z);
    sg_dense_forward(t->lv, t->e2, sg_params_tensor(enc, 6), sg_params_tensor(enc, 7), B, H, Z);
    sg_reparam_forward(t->z, t->eps, t->mu, t->lv, BZ, rng);
    /* decoder input: z and, conditioned, the one-hot of the row's target level (its span of
     * x), then the decoder and the losses */
    for (int b = 0; b < B; b++) {
        float *o = t->zc + (size_t)b * Zi;
        const float *xt = t->x + (size_t)b * Dd + t->toff;
        memcpy(o, t->z + (size_t)b * Z, (size_t)Z * sizeof *o);
        if (!Lt) continue;
        memcpy(o + Z, xt, (size_t)Lt * sizeof *o);
        t->lvl[b] = 0;
        for (int l = 1; l < Lt; l++)
            if (xt[l] > xt[t->lvl[b]]) t->lvl[b] = l;
    }
    decoder_forward(dec, t->zc, t->d1, t->d2, t->rec, B, Zi, H, Dd);
    *lrec = synth_tvae_loss_wforward(xf, t->rec, t->x, sigma, B, t->cfg.factor,
                                     t->cfg.target, t->cfg.target_weight);
    *lkl = Lt ? kl_prior_forward(t->mu, t->lv, sg_params_tensor(dec, 7), sg_params_tensor(dec, 8),
                                 t->lvl, B, Z, 1.0f / (float)B)
              : sg_kl_normal_forward(t->mu, t->lv, BZ, 1.0f / (float)B);
    /* backward, in reverse order */
    sg_params_zero_grad(enc);
    sg_params_zero_grad(dec);
    memset(t->grec, 0, BD * sizeof *t->grec);
    synth_tvae_loss_wbackward(xf, t->grec, sg_params_grad(dec, 6), t->rec, t->x, sigma, B,
                              t->cfg.factor, t->cfg.target, t->cfg.target_weight);
    decoder_backward(dec, t->grec, t->gd2, t->gd1, t->gzc, t->zc, t->d1, t->d2, B, Zi, H, Dd);
    for (int b = 0; b < B; b++)   /* the z part (the condition is data) */
        memcpy(t->gz + (size_t)b * Z, t->gzc + (size_t)b * Zi, (size_t)Z * sizeof *t->gz);
    /* reparameterisation and KL */
    memset(t->gmu, 0, BZ * sizeof *t->gmu);
    memset(t->glv, 0, BZ * sizeof *t->glv);
    sg_reparam_backward(t->gmu, t->glv, t->gz, t->eps, t->lv, BZ);
    if (Lt)
        kl_prior_backward(t->gmu, t->glv, sg_params_grad(dec, 7), sg_params_grad(dec, 8), t->mu,
                          t->lv, sg_params_tensor(dec, 7), sg_params_tensor(dec, 8), t->lvl, B, Z,
                          1.0f / (float)B);
    else
        sg_kl_normal_backward(t->gmu, t->glv, t->mu, t->lv, BZ, 1.0f / (float)B);
    /* encoder heads, relu, layer 2, relu, layer 1 */
    memset(t->ge2, 0, BH * sizeof *t->ge2);
    sg_dense_backward(t->ge2, sg_params_grad(enc, 4), sg_params_grad(enc, 5), t->gmu, t->e2,
                      sg_params_tensor(enc, 4), B, H, Z);
    sg_dense_backward(t->ge2, sg_params_grad(enc, 6), sg_params_grad(enc, 7), t->glv, t->e2,
                      sg_params_tensor(enc, 6), B, H, Z);
    relu_mask(t->ge2, t->e2, BH);
    memset(t->ge1, 0, BH * sizeof *t->ge1);
    sg_dense_backward(t->ge1, sg_params_grad(enc, 2), sg_params_grad(enc, 3), t->ge2, t->e1,
                      sg_params_tensor(enc, 2), B, H, H);
    relu_mask(t->ge1, t->e1, BH);
    sg_dense_backward(NULL, sg_params_grad(enc, 0), sg_params_grad(enc, 1), t->ge1, t->x,
                      sg_params_tensor(enc, 0), B, Dd, H);
    /* the auxiliary classifier on rows from the prior */
    *laux = t->aux ? prior_pass(t, B, rng) : 0.0;
}

/* One step on rows[0..B): returns the reconstruction and KL parts of the loss. */
static void tvae_step(synth_tvae *t, const synth_data *d, const int64_t *rows, int B, sg_rng *rng,
                      double *lrec, double *lkl)
{
    int Dd = t->xf->data_dim;
    sg_params *enc = t->enc, *dec = t->dec;
    float *sigma = sg_params_tensor(dec, 6);
    double la;
    synth_tvae_grad(t, d, rows, B, rng, lrec, lkl, &la);
    if (t->aux) aux_step(t, B);
    sg_params_adam(enc, t->cfg.lr, 0.9f, 0.999f, 1e-8f, t->cfg.wd);
    sg_params_adam(dec, t->cfg.lr, 0.9f, 0.999f, 1e-8f, t->cfg.wd);
    for (int k = 0; k < Dd; k++) sigma[k] = fminf(fmaxf(sigma[k], 0.01f), 1.0f);
}

int synth_tvae_epoch(synth_tvae *t, const synth_data *d, sg_rng *rng, int epoch, double *loss_rec,
                     double *loss_kl, sg_error *err)
{
    if (t->n_rows != d->n) {
        sg_free(t->rows);
        t->rows = sg_malloc_array((size_t)d->n, sizeof *t->rows);
        if (!t->rows) {
            t->n_rows = 0;
            return sg_error_set(err, SG_ENOMEM, "tvae: out of memory for %lld rows",
                                (long long)d->n);
        }
        t->n_rows = d->n;
    }
    for (int64_t i = 0; i < d->n; i++) t->rows[i] = i;
    sg_rng_shuffle_i64(rng, t->rows, d->n);
    double sr = 0, sk = 0;
    int64_t steps = 0;
    for (int64_t s = 0; s < d->n; s += t->cfg.B) {
        int B = (int)(d->n - s < t->cfg.B ? d->n - s : t->cfg.B);
        double lr, lk;
        tvae_step(t, d, t->rows + s, B, rng, &lr, &lk);
        if (!isfinite(lr) || !isfinite(lk))
            return sg_error_set(err, SG_ENUMERIC, "tvae: epoch %d, step %lld: a loss is not "
                                "finite (reconstruction %g, KL %g); try a lower learning rate",
                                epoch, (long long)steps + 1, lr, lk);
        sr += lr;
        sk += lk;
        steps++;
    }
    *loss_rec = sr / (double)steps;
    *loss_kl = sk / (double)steps;
    return SG_OK;
}

int synth_tvae_generate(const synth_tvae *t, int32_t cond_level, sg_rng *rng, float *X,
                        sg_error *err)
{
    const synth_xf *xf = t->xf;
    int B = t->cfg.B, Dd = xf->data_dim, H = t->cfg.H, Z = t->cfg.Z, Lt = t->Lt, Zi = t->Zi;
    if (Lt && cond_level >= Lt)
        return sg_error_set(err, SG_EINVAL, "tvae: target level %d of %d", (int)cond_level, Lt);
    size_t total = (size_t)B * ((size_t)Z + (size_t)Zi + 2 * (size_t)H + (size_t)Dd + 1);
    float *mem = sg_malloc_array(total, sizeof *mem);
    if (!mem) return sg_error_set(err, SG_ENOMEM, "tvae: out of memory");
    float *z = mem, *zc = z + (size_t)B * Z, *d1 = zc + (size_t)B * Zi, *d2 = d1 + (size_t)B * H;
    float *rec = d2 + (size_t)B * H;
    int32_t *lvl = (int32_t *)(rec + (size_t)B * Dd);   /* (B) the target levels */
    /* conditioned: each row's target level, drawn from the training frequencies (the
     * missing level, when the target has one, among them) or the one asked for */
    const synth_col *tcol = Lt ? &xf->cols[t->cfg.target] : NULL;
    for (int b = 0; b < B; b++) {
        lvl[b] = 0;
        if (!Lt) continue;
        if (cond_level >= 0) {
            lvl[b] = cond_level;
            continue;
        }
        const double *cum = xf->freq_cum + tcol->cond_off;
        double u = sg_rng_uniform(rng);
        int l = 0;
        while (l < Lt - 1 && u >= cum[l]) l++;
        lvl[b] = l;
    }
    for (size_t i = 0; i < (size_t)B * Z; i++) z[i] = (float)sg_rng_normal(rng);
    if (Lt) {   /* z from the level's prior */
        const float *pm = sg_params_tensor(t->dec, 7), *pv = sg_params_tensor(t->dec, 8);
        for (int b = 0; b < B; b++)
            for (int k = 0; k < Z; k++) {
                size_t q = (size_t)lvl[b] * Z + k;
                z[(size_t)b * Z + k] = pm[q] + expf(0.5f * pv[q]) * z[(size_t)b * Z + k];
            }
    }
    decoder_input(zc, z, lvl, B, Z, Lt);
    decoder_forward(t->dec, zc, d1, d2, rec, B, Zi, H, Dd);
    const float *sigma = sg_params_tensor(t->dec, 6);
    for (int b = 0; b < B; b++) {
        float *r = rec + (size_t)b * Dd;
        for (int j = 0; j < xf->n_cols; j++) {
            const synth_col *col = &xf->cols[j];
            int s = col->off, L = col->n_levels;
            if (col == tcol) {   /* the level the decoder was given */
                for (int l = 0; l < L; l++) r[s + l] = l == lvl[b] ? 1.0f : 0.0f;
                continue;
            }
            if (col->kind == SG_FCOL_CONTINUOUS) {
                float a = tanhf(r[s]) + sigma[s] * (float)sg_rng_normal(rng);
                r[s] = fminf(fmaxf(a, -1.0f), 1.0f);
                s++;
            }
            /* the level drawn from softmax(rec) (the decoder's categorical distribution),
             * written as a one-hot for synth_decode's argmax */
            double mx = -INFINITY, tot = 0;
            for (int l = 0; l < L; l++) mx = fmax(mx, (double)r[s + l]);
            for (int l = 0; l < L; l++) tot += exp((double)r[s + l] - mx);
            double u = sg_rng_uniform(rng) * tot, acc = 0;
            int pick = L - 1;
            for (int l = 0; l < L; l++) {
                acc += exp((double)r[s + l] - mx);
                if (u < acc) {
                    pick = l;
                    break;
                }
            }
            for (int l = 0; l < L; l++) r[s + l] = l == pick ? 1.0f : 0.0f;
        }
    }
    synth_decode(xf, rec, B, X);
    sg_free(mem);
    return SG_OK;
}

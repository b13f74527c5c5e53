/* tvae.c -- the tabular VAE of Xu et al. (2019) (TVAE), by hand.
 *
 * B = batch rows, Dd = encoded data width, H = hidden width, Z = latent size.
 *
 * Encoder Dd -> H relu -> H relu -> (mu, logvar) (Z each); z = mu + exp(logvar/2)
 * eps; decoder Z -> H relu -> H relu -> Dd, plus one learned sigma per encoded
 * float (only the continuous offsets use theirs).  Loss per batch, as the CTGAN
 * package computes it: factor (2) times the reconstruction loss (Gaussian on the
 * tanh of each continuous offset with its sigma, cross-entropy on every one-hot
 * span) summed over rows and divided by B, plus KL(q(z|x) || N(0, I)) / B; with a
 * discrete or category target, its span's cross-entropy weighs cfg.target_weight
 * (synth.c: 30; CoIL's 6% target was otherwise drawn nearly independently).  Adam
 * (lr 1e-3, weight decay 1e-5 decoupled), sigma clamped to [0.01, 1] after each
 * step.  Sampling: z ~ N(0, I), the decoder, each continuous offset drawn from
 * N(tanh(rec), sigma) and clipped to [-1, 1], each level drawn from the softmax of
 * its span.  (The CTGAN package takes the argmax there, which never generates a
 * level that is rarely the most likely one, such as a 6% positive class: its
 * synthetic target then has a single class.  Drawing is what the loss, a
 * categorical likelihood, describes.)
 * Every batch of an epoch covers the shuffled training rows once (the last one
 * may be short).  See LICENSE for copyright. */
#include <math.h>
#include <string.h>

#include "stratagem/fidelity.h"
#include "stratagem/mem.h"
#include "stratagem/nn.h"
#include "synth_private.h"

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
    sg_params *enc;           /* ew1 (Dd,H) eb1 ew2 (H,H) eb2 ewm (H,Z) ebm ewv (H,Z) ebv */
    sg_params *dec;           /* dw1 (Z,H) db1 dw2 (H,H) db2 dw3 (H,Dd) db3 sigma (Dd) */
    /* activations (B rows) */
    float *x, *e1, *e2, *mu, *lv, *eps, *z, *d1, *d2, *rec;
    /* gradients */
    float *grec, *gd2, *gd1, *gz, *gmu, *glv, *ge2, *ge1;
    float *mem;
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
    int Dd = xf->data_dim, H = cfg->H, Z = cfg->Z;
    sg_tensor_spec es[8] = {
        {"enc.w1", 2, {Dd, H, 0, 0}}, {"enc.b1", 1, {H, 0, 0, 0}},
        {"enc.w2", 2, {H, H, 0, 0}},  {"enc.b2", 1, {H, 0, 0, 0}},
        {"enc.wm", 2, {H, Z, 0, 0}},  {"enc.bm", 1, {Z, 0, 0, 0}},
        {"enc.wv", 2, {H, Z, 0, 0}},  {"enc.bv", 1, {Z, 0, 0, 0}},
    };
    sg_tensor_spec ds[7] = {
        {"dec.w1", 2, {Z, H, 0, 0}},  {"dec.b1", 1, {H, 0, 0, 0}},
        {"dec.w2", 2, {H, H, 0, 0}},  {"dec.b2", 1, {H, 0, 0, 0}},
        {"dec.w3", 2, {H, Dd, 0, 0}}, {"dec.b3", 1, {Dd, 0, 0, 0}},
        {"dec.sigma", 1, {Dd, 0, 0, 0}},
    };
    int rc;
    if ((rc = sg_params_new(&t->dec, ds, 7, train, err))) goto fail;
    if (train) {
        if ((rc = sg_params_new(&t->enc, es, 8, 1, err))) goto fail;
        size_t B = (size_t)cfg->B;
        size_t total = B * (3 * (size_t)Dd + 8 * (size_t)H + 7 * (size_t)Z);
        if (!(t->mem = sg_calloc(total, sizeof *t->mem))) goto oom;
        float *p = t->mem;
        float **bufs[] = {&t->x, &t->e1, &t->e2, &t->mu, &t->lv, &t->eps, &t->z, &t->d1, &t->d2,
                          &t->rec, &t->grec, &t->gd2, &t->gd1, &t->gz, &t->gmu, &t->glv, &t->ge2,
                          &t->ge1};
        size_t w[] = {Dd, H, H, Z, Z, Z, Z, H, H, Dd, Dd, H, H, Z, Z, Z, H, H};
        for (int k = 0; k < 18; k++) {
            *bufs[k] = p;
            p += B * w[k];
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
    sg_free(t->rows);
    sg_free(t);
}

sg_params *synth_tvae_dec_params(synth_tvae *t) { return t->dec; }

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
    init_dense(t->dec, 0, 1, Z, H, rng);
    init_dense(t->dec, 2, 3, H, H, rng);
    init_dense(t->dec, 4, 5, H, Dd, rng);
    float *sigma = sg_params_tensor(t->dec, 6);
    for (int k = 0; k < Dd; k++) sigma[k] = 0.1f;
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

/* Decoder forward: d1, d2, rec from z (B rows), with the weights of 'dec'. */
static void decoder_forward(sg_params *dec, const float *z, float *d1, float *d2, float *rec,
                            int B, int Z, int H, int Dd)
{
    sg_dense_forward(d1, z, sg_params_tensor(dec, 0), sg_params_tensor(dec, 1), B, Z, H);
    relu_inplace(d1, (size_t)B * H);
    sg_dense_forward(d2, d1, sg_params_tensor(dec, 2), sg_params_tensor(dec, 3), B, H, H);
    relu_inplace(d2, (size_t)B * H);
    sg_dense_forward(rec, d2, sg_params_tensor(dec, 4), sg_params_tensor(dec, 5), B, H, Dd);
}

/* One step on rows[0..B): returns the reconstruction and KL parts of the loss. */
static void tvae_step(synth_tvae *t, const synth_data *d, const int64_t *rows, int B, sg_rng *rng,
                      double *lrec, double *lkl)
{
    const synth_xf *xf = t->xf;
    int Dd = xf->data_dim, H = t->cfg.H, Z = t->cfg.Z;
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
    /* decoder and losses */
    decoder_forward(dec, t->z, t->d1, t->d2, t->rec, B, Z, H, Dd);
    *lrec = synth_tvae_loss_wforward(xf, t->rec, t->x, sigma, B, t->cfg.factor,
                                     t->cfg.target, t->cfg.target_weight);
    *lkl = sg_kl_normal_forward(t->mu, t->lv, BZ, 1.0f / (float)B);
    /* backward, in reverse order */
    sg_params_zero_grad(enc);
    sg_params_zero_grad(dec);
    memset(t->grec, 0, BD * sizeof *t->grec);
    synth_tvae_loss_wbackward(xf, t->grec, sg_params_grad(dec, 6), t->rec, t->x, sigma, B,
                              t->cfg.factor, t->cfg.target, t->cfg.target_weight);
    /* decoder layer 3, relu, layer 2, relu, layer 1 */
    memset(t->gd2, 0, BH * sizeof *t->gd2);
    sg_dense_backward(t->gd2, sg_params_grad(dec, 4), sg_params_grad(dec, 5), t->grec, t->d2,
                      sg_params_tensor(dec, 4), B, H, Dd);
    relu_mask(t->gd2, t->d2, BH);
    memset(t->gd1, 0, BH * sizeof *t->gd1);
    sg_dense_backward(t->gd1, sg_params_grad(dec, 2), sg_params_grad(dec, 3), t->gd2, t->d1,
                      sg_params_tensor(dec, 2), B, H, H);
    relu_mask(t->gd1, t->d1, BH);
    memset(t->gz, 0, BZ * sizeof *t->gz);
    sg_dense_backward(t->gz, sg_params_grad(dec, 0), sg_params_grad(dec, 1), t->gd1, t->z,
                      sg_params_tensor(dec, 0), B, Z, H);
    /* reparameterisation and KL */
    memset(t->gmu, 0, BZ * sizeof *t->gmu);
    memset(t->glv, 0, BZ * sizeof *t->glv);
    sg_reparam_backward(t->gmu, t->glv, t->gz, t->eps, t->lv, BZ);
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

int synth_tvae_generate(const synth_tvae *t, sg_rng *rng, float *X, sg_error *err)
{
    const synth_xf *xf = t->xf;
    int B = t->cfg.B, Dd = xf->data_dim, H = t->cfg.H, Z = t->cfg.Z;
    size_t total = (size_t)B * ((size_t)Z + 2 * (size_t)H + (size_t)Dd);
    float *mem = sg_malloc_array(total, sizeof *mem);
    if (!mem) return sg_error_set(err, SG_ENOMEM, "tvae: out of memory");
    float *z = mem, *d1 = z + (size_t)B * Z, *d2 = d1 + (size_t)B * H, *rec = d2 + (size_t)B * H;
    for (size_t i = 0; i < (size_t)B * Z; i++) z[i] = (float)sg_rng_normal(rng);
    decoder_forward(t->dec, z, d1, d2, rec, B, Z, H, Dd);
    const float *sigma = sg_params_tensor(t->dec, 6);
    for (int b = 0; b < B; b++) {
        float *r = rec + (size_t)b * Dd;
        for (int j = 0; j < xf->n_cols; j++) {
            const synth_col *col = &xf->cols[j];
            int s = col->off, L = col->n_levels;
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

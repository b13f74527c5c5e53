/* dcgan.c -- class-conditional DCGAN for grayscale product images (creative.h).
 *
 * B = batch size, Z = latent size, NC = classes, H, W = image size,
 * h0 = H/4, w0 = W/4, S0 = h0*w0, S1 = 4*S0 = (H/2)(W/2), HW = H*W,
 * C0 = 2G and G = generator channels at H/4 and H/2, D1 = Dc and D2 = 2Dc
 * discriminator channels at H/2 and H/4, F = S0*D2 the discriminator features.
 *
 * Activations are NHWC (conv.c).  Each network has one parameter block
 * (nn.h); all activations and gradients of both networks live in ONE workspace
 * allocated on first use for the batch size, so a training step allocates
 * nothing.  Generation runs in chunks of the batch size through the same
 * workspace.
 *
 * A training step is the PyTorch DCGAN example's: draw labels and latents, run
 * G once; D step on the real batch, then on the (detached) fake batch; then the
 * G step through the UPDATED D on the same fake batch.  D's batch norm always
 * uses batch statistics (D is never run in inference mode).  G's batch norm
 * keeps running statistics; at the end of each epoch they are re-estimated as
 * the exact average over 16 fresh batches (the "precise BN" idea), so that
 * generation, which uses them, matches the final weights rather than a lagging
 * average.  That re-estimation draws from its own stream (split from the seed
 * and the epoch number), so it does not perturb training.  See LICENSE for
 * copyright. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "io/serial.h"
#include "nn/nn_private.h"
#include "stratagem/creative.h"
#include "stratagem/linalg.h"
#include "stratagem/log.h"
#include "stratagem/mem.h"
#include "stratagem/model.h"
#include "stratagem/nn.h"
#include "creative_private.h"

#define GAN_MAGIC 0x47444753u   /* "SGDG" */
#define GAN_VERSION 1u
#define KS 4                    /* kernel size, stride 2, padding 1: halves or doubles */
#define BN_EPS 1e-5f
#define BN_MOMENTUM 0.1f
#define LRELU 0.2f
#define ADAM_EPS 1e-8f
#define RECAL_BATCHES 16
#define NAME_MAX_LEN 63

/* Tensor indices in the two parameter blocks (table order). */
enum { G_FC_W, G_BN0_G, G_BN0_B, G_TC1_W, G_BN1_G, G_BN1_B, G_TC2_W, G_TC2_B, G_N };
enum { D_C1_W, D_C1_B, D_C2_W, D_BN2_G, D_BN2_B, D_FC_W, D_FC_B, D_EMB, D_N };

struct sg_dcgan {
    sg_dcgan_opts o;
    int H, W, NC;
    int h0, w0, S0, S1, C0, G, D1, D2, F, IN;   /* IN = Z + NC */
    char **names;           /* (NC) */
    sg_params *g, *d;
    float *g_run;           /* running mean0 (C0), var0 (C0), mean1 (G), var1 (G) */
    sg_rng rng;             /* training stream */
    int64_t epochs, steps;

    /* workspace for 'cap' rows (NULL until first use) */
    int cap;
    float *ws;
    float *gin;             /* (B, IN) latent and one-hot */
    float *g_h0, *g_a0;     /* (B, S0*C0) dense output, BN+ReLU output */
    float *g_h1, *g_a1;     /* (B, S1*G) */
    float *g_x;             /* (B, HW) generated images (tanh output) */
    float *g_m0, *g_r0, *g_m1, *g_r1;   /* batch mean / rstd (C0), (G) */
    float *xr;              /* (B, HW) real batch */
    float *d_a1;            /* (B, S1*D1) conv1 + leaky ReLU */
    float *d_h2, *d_a2;     /* (B, F) conv2 output, BN + leaky ReLU output */
    float *d_m2, *d_r2;     /* (D2) */
    float *logit, *dlogit, *tgt;        /* (B) */
    float *buf1, *buf2;     /* (B, A) ping-pong gradient buffers, A = largest activation */
    float *dx;              /* (B, HW) gradient wrt D's input */
    float *col;             /* conv scratch */
    int *yr, *yf;           /* (B) real and fake labels */
};

/* ---------------------------------------------------------------------------
 * construction */

void sg_dcgan_opts_default(sg_dcgan_opts *o)
{
    memset(o, 0, sizeof *o);
    o->z_dim = 64;
    o->g_channels = 64;
    o->d_channels = 64;
    o->batch_size = 64;
    o->lr_g = 2e-4f;
    o->lr_d = 2e-4f;
    o->beta1 = 0.5f;
    o->beta2 = 0.999f;
    o->real_label = 1.0f;
    o->seed = SG_DEFAULT_SEED;
}

static int check_opts(const sg_dcgan_opts *o, int rows, int cols, int n_classes, sg_error *err)
{
    if (rows < 4 || cols < 4 || rows % 4 || cols % 4 || rows > 1024 || cols > 1024)
        return sg_error_set(err, SG_EINVAL, "dcgan: image size %dx%d: both sides must be "
                            "multiples of 4 in 4..1024", rows, cols);
    if (n_classes < 1 || n_classes > SG_CREATIVE_MAX_CLASSES)
        return sg_error_set(err, SG_EINVAL, "dcgan: %d classes (1..%d allowed)", n_classes,
                            SG_CREATIVE_MAX_CLASSES);
    if (o->z_dim < 1 || o->z_dim > 4096)
        return sg_error_set(err, SG_EINVAL, "dcgan: z_dim %d not in 1..4096", o->z_dim);
    if (o->g_channels < 1 || o->g_channels > 1024 || o->d_channels < 1 || o->d_channels > 1024)
        return sg_error_set(err, SG_EINVAL, "dcgan: channels %d/%d not in 1..1024",
                            o->g_channels, o->d_channels);
    if (o->batch_size < 2 || o->batch_size > 4096)
        return sg_error_set(err, SG_EINVAL, "dcgan: batch size %d not in 2..4096",
                            o->batch_size);
    if (!(o->lr_g > 0 && o->lr_g < 1) || !(o->lr_d > 0 && o->lr_d < 1))
        return sg_error_set(err, SG_EINVAL, "dcgan: learning rates must be in (0, 1)");
    if (!(o->beta1 >= 0 && o->beta1 < 1) || !(o->beta2 >= 0 && o->beta2 < 1))
        return sg_error_set(err, SG_EINVAL, "dcgan: Adam betas must be in [0, 1)");
    if (!(o->real_label > 0.5f && o->real_label <= 1.0f))
        return sg_error_set(err, SG_EINVAL, "dcgan: real label %g not in (0.5, 1]",
                            (double)o->real_label);
    size_t big = (size_t)o->g_channels * 2 * (size_t)(rows / 4) * (size_t)(cols / 4) *
                 (size_t)(o->z_dim + n_classes);
    if (big > ((size_t)1 << 28))
        return sg_error_set(err, SG_EINVAL, "dcgan: network too large (first layer %zu "
                            "weights)", big);
    return SG_OK;
}

/* Build the structure (blocks zeroed, names copied); no initialisation. */
static int build(sg_dcgan **out, const sg_dcgan_opts *o, int rows, int cols, int n_classes,
                 const char *const *class_names, sg_error *err)
{
    int rc = check_opts(o, rows, cols, n_classes, err);
    if (rc) return rc;
    sg_dcgan *g = sg_calloc(1, sizeof *g);
    if (!g) return sg_error_set(err, SG_ENOMEM, "dcgan: out of memory");
    g->o = *o;
    g->H = rows;
    g->W = cols;
    g->NC = n_classes;
    g->h0 = rows / 4;
    g->w0 = cols / 4;
    g->S0 = g->h0 * g->w0;
    g->S1 = 4 * g->S0;
    g->G = o->g_channels;
    g->C0 = 2 * g->G;
    g->D1 = o->d_channels;
    g->D2 = 2 * g->D1;
    g->F = g->S0 * g->D2;
    g->IN = o->z_dim + n_classes;
    sg_rng_init(&g->rng, o->seed);

    g->names = sg_calloc((size_t)n_classes, sizeof *g->names);
    if (!g->names) goto nomem;
    for (int i = 0; i < n_classes; i++) {
        char num[16];
        snprintf(num, sizeof num, "%d", i);
        g->names[i] = sg_strdup(class_names && class_names[i] ? class_names[i] : num);
        if (!g->names[i]) goto nomem;
    }
    const sg_tensor_spec gs[G_N] = {
        {"g.fc.w", 2, {g->IN, g->S0 * g->C0}},
        {"g.bn0.gamma", 1, {g->C0}},
        {"g.bn0.beta", 1, {g->C0}},
        {"g.tc1.w", 4, {g->C0, KS, KS, g->G}},
        {"g.bn1.gamma", 1, {g->G}},
        {"g.bn1.beta", 1, {g->G}},
        {"g.tc2.w", 4, {g->G, KS, KS, 1}},
        {"g.tc2.b", 1, {1}},
    };
    const sg_tensor_spec ds[D_N] = {
        {"d.c1.w", 4, {KS, KS, 1, g->D1}},
        {"d.c1.b", 1, {g->D1}},
        {"d.c2.w", 4, {KS, KS, g->D1, g->D2}},
        {"d.bn2.gamma", 1, {g->D2}},
        {"d.bn2.beta", 1, {g->D2}},
        {"d.fc.w", 1, {g->F}},
        {"d.fc.b", 1, {1}},
        {"d.embed", 2, {n_classes, g->F}},
    };
    if ((rc = sg_params_new(&g->g, gs, G_N, 1, err))) goto fail;
    if ((rc = sg_params_new(&g->d, ds, D_N, 1, err))) goto fail;
    g->g_run = sg_calloc(2 * ((size_t)g->C0 + (size_t)g->G), sizeof *g->g_run);
    if (!g->g_run) goto nomem;
    for (int c = 0; c < g->C0; c++) g->g_run[g->C0 + c] = 1.0f;
    for (int c = 0; c < g->G; c++) g->g_run[2 * g->C0 + g->G + c] = 1.0f;
    *out = g;
    return SG_OK;
nomem:
    rc = sg_error_set(err, SG_ENOMEM, "dcgan: out of memory");
fail:
    sg_dcgan_free(g);
    return rc;
}

/* DCGAN initialisation: weights N(0, 0.02), batch-norm scales N(1, 0.02), the rest 0. */
static void init_weights(sg_dcgan *g)
{
    static const int gw[] = {G_FC_W, G_TC1_W, G_TC2_W}, dw[] = {D_C1_W, D_C2_W, D_FC_W, D_EMB};
    static const int gb[] = {G_BN0_G, G_BN1_G}, db[] = {D_BN2_G};
    for (size_t i = 0; i < sizeof gw / sizeof gw[0]; i++)
        sg_init_normal(sg_params_tensor(g->g, gw[i]), sg_params_size(g->g, gw[i]), 0.0f, 0.02f,
                       &g->rng);
    for (size_t i = 0; i < sizeof gb / sizeof gb[0]; i++)
        sg_init_normal(sg_params_tensor(g->g, gb[i]), sg_params_size(g->g, gb[i]), 1.0f, 0.02f,
                       &g->rng);
    for (size_t i = 0; i < sizeof dw / sizeof dw[0]; i++)
        sg_init_normal(sg_params_tensor(g->d, dw[i]), sg_params_size(g->d, dw[i]), 0.0f, 0.02f,
                       &g->rng);
    for (size_t i = 0; i < sizeof db / sizeof db[0]; i++)
        sg_init_normal(sg_params_tensor(g->d, db[i]), sg_params_size(g->d, db[i]), 1.0f, 0.02f,
                       &g->rng);
}

int sg_dcgan_new(sg_dcgan **out, const sg_dcgan_opts *o, int rows, int cols, int n_classes,
                 const char *const *class_names, sg_error *err)
{
    sg_dcgan *g = NULL;
    int rc = build(&g, o, rows, cols, n_classes, class_names, err);
    if (rc) return rc;
    init_weights(g);
    SG_LOG(SG_LOG_DEBUG, "dcgan", "new model: %dx%d images, %d classes, z %d, G %d, D %d, "
           "batch %d, seed %llu; %zu generator and %zu discriminator parameters", rows, cols,
           n_classes, o->z_dim, o->g_channels, o->d_channels, o->batch_size,
           (unsigned long long)o->seed, sg_params_count(g->g), sg_params_count(g->d));
    *out = g;
    return SG_OK;
}

void sg_dcgan_free(sg_dcgan *g)
{
    if (!g) return;
    if (g->names) {
        for (int i = 0; i < g->NC; i++) sg_free(g->names[i]);
    }
    sg_free(g->names);
    sg_params_free(g->g);
    sg_params_free(g->d);
    sg_free(g->g_run);
    sg_free(g->ws);
    sg_free(g->yr);
    sg_free(g->yf);
    sg_free(g);
}

/* Allocate the workspace for B rows (once; the batch size never changes). */
static int ensure_workspace(sg_dcgan *g, sg_error *err)
{
    if (g->ws) return SG_OK;
    size_t B = (size_t)g->o.batch_size, HW = (size_t)g->H * g->W;
    size_t A = HW;
    A = SG_MAX(A, (size_t)g->S0 * g->C0);
    A = SG_MAX(A, (size_t)g->S1 * g->G);
    A = SG_MAX(A, (size_t)g->S1 * g->D1);
    A = SG_MAX(A, (size_t)g->F);
    size_t col = sg_conv_transpose2d_col_size(B, g->h0, g->w0, g->G, KS);
    col = SG_MAX(col, sg_conv_transpose2d_col_size(B, 2 * g->h0, 2 * g->w0, 1, KS));
    col = SG_MAX(col, sg_conv2d_col_size(B, g->H, g->W, 1, KS, 2, 1));
    col = SG_MAX(col, sg_conv2d_col_size(B, 2 * g->h0, 2 * g->w0, g->D1, KS, 2, 1));
    size_t sizes[] = {
        B * g->IN, B * g->S0 * g->C0, B * g->S0 * g->C0, B * g->S1 * g->G, B * g->S1 * g->G,
        B * HW, g->C0, g->C0, g->G, g->G, B * HW, B * g->S1 * g->D1, B * g->F, B * g->F,
        g->D2, g->D2, B, B, B, B * A, B * A, B * HW, col,
    };
    float **ptrs[] = {
        &g->gin, &g->g_h0, &g->g_a0, &g->g_h1, &g->g_a1, &g->g_x, &g->g_m0, &g->g_r0,
        &g->g_m1, &g->g_r1, &g->xr, &g->d_a1, &g->d_h2, &g->d_a2, &g->d_m2, &g->d_r2,
        &g->logit, &g->dlogit, &g->tgt, &g->buf1, &g->buf2, &g->dx, &g->col,
    };
    size_t total = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) total += sizes[i];
    float *ws = sg_malloc(total * sizeof *ws);
    int *yr = sg_malloc(B * sizeof *yr), *yf = sg_malloc(B * sizeof *yf);
    if (!ws || !yr || !yf) {
        sg_free(ws);
        sg_free(yr);
        sg_free(yf);
        return sg_error_set(err, SG_ENOMEM, "dcgan: out of memory for the workspace (%zu MB)",
                            total * sizeof *ws >> 20);
    }
    memset(ws, 0, total * sizeof *ws);
    size_t off = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        *ptrs[i] = ws + off;
        off += sizes[i];
    }
    g->ws = ws;
    g->yr = yr;
    g->yf = yf;
    g->cap = (int)B;
    return SG_OK;
}

/* ---------------------------------------------------------------------------
 * generator */

/* Fill gin (B, IN): latents from 'rng' (B*Z normals, row order), then one-hot labels. */
static void g_input(sg_dcgan *g, const int *labels, int B, sg_rng *rng)
{
    int Z = g->o.z_dim;
    for (int b = 0; b < B; b++) {
        float *row = g->gin + (size_t)b * g->IN;
        for (int k = 0; k < Z; k++) row[k] = (float)sg_rng_normal(rng);
        memset(row + Z, 0, (size_t)g->NC * sizeof *row);
        row[Z + labels[b]] = 1.0f;
    }
}

/* Forward from gin to g_x for B rows.  'train': batch statistics, moving the running
 * ones by 'momentum'; else the running statistics. */
static void g_forward(sg_dcgan *g, int B, int train, float momentum)
{
    sg_params *p = g->g;
    int N0 = B * g->S0, N1 = B * g->S1;
    float *rm0 = g->g_run, *rv0 = rm0 + g->C0, *rm1 = rv0 + g->C0, *rv1 = rm1 + g->G;
    /* dense (IN -> S0*C0), no bias: batch norm follows */
    sg_dense_forward(g->g_h0, g->gin, sg_params_tensor(p, G_FC_W), NULL, B, g->IN,
                     g->S0 * g->C0);
    if (train)
        sg_batchnorm_forward(g->g_a0, g->g_m0, g->g_r0, rm0, rv0, g->g_h0,
                             sg_params_tensor(p, G_BN0_G), sg_params_tensor(p, G_BN0_B), N0,
                             g->C0, momentum, BN_EPS);
    else
        sg_batchnorm_forward_eval(g->g_a0, g->g_h0, sg_params_tensor(p, G_BN0_G),
                                  sg_params_tensor(p, G_BN0_B), rm0, rv0, N0, g->C0, BN_EPS);
    sg_relu_forward(g->g_a0, g->g_a0, (size_t)N0 * g->C0);
    /* transposed conv (h0,w0,C0) -> (2h0,2w0,G), batch norm, ReLU */
    sg_conv_transpose2d_forward(g->g_h1, g->col, g->g_a0, sg_params_tensor(p, G_TC1_W), NULL,
                                B, g->h0, g->w0, g->C0, g->G, KS, 2, 1);
    if (train)
        sg_batchnorm_forward(g->g_a1, g->g_m1, g->g_r1, rm1, rv1, g->g_h1,
                             sg_params_tensor(p, G_BN1_G), sg_params_tensor(p, G_BN1_B), N1,
                             g->G, momentum, BN_EPS);
    else
        sg_batchnorm_forward_eval(g->g_a1, g->g_h1, sg_params_tensor(p, G_BN1_G),
                                  sg_params_tensor(p, G_BN1_B), rm1, rv1, N1, g->G, BN_EPS);
    sg_relu_forward(g->g_a1, g->g_a1, (size_t)N1 * g->G);
    /* transposed conv (2h0,2w0,G) -> (H,W,1), tanh */
    sg_conv_transpose2d_forward(g->g_x, g->col, g->g_a1, sg_params_tensor(p, G_TC2_W),
                                sg_params_tensor(p, G_TC2_B), B, 2 * g->h0, 2 * g->w0, g->G, 1,
                                KS, 2, 1);
    sg_tanh_forward(g->g_x, g->g_x, (size_t)B * g->H * g->W);
}

/* Backward from dx = dL/dg_x (B, HW) into G's gradients (training-mode forward). */
static void g_backward(sg_dcgan *g, const float *dx, int B)
{
    sg_params *p = g->g;
    int N0 = B * g->S0, N1 = B * g->S1;
    size_t n_x = (size_t)B * g->H * g->W, n1 = (size_t)N1 * g->G, n0 = (size_t)N0 * g->C0;
    float *b1 = g->buf1, *b2 = g->buf2;
    /* tanh */
    memset(b1, 0, n_x * sizeof *b1);
    sg_tanh_backward(b1, dx, g->g_x, n_x);
    /* transposed conv 2: b1 (d pre-tanh) -> b2 (d g_a1) */
    memset(b2, 0, n1 * sizeof *b2);
    sg_conv_transpose2d_backward(b2, sg_params_grad(p, G_TC2_W), sg_params_grad(p, G_TC2_B),
                                 g->col, b1, g->g_a1, sg_params_tensor(p, G_TC2_W), B,
                                 2 * g->h0, 2 * g->w0, g->G, 1, KS, 2, 1);
    /* ReLU 1: b2 -> b1 */
    memset(b1, 0, n1 * sizeof *b1);
    sg_relu_backward(b1, b2, g->g_a1, n1);
    /* batch norm 1: b1 -> b2 (d g_h1) */
    memset(b2, 0, n1 * sizeof *b2);
    sg_batchnorm_backward(b2, sg_params_grad(p, G_BN1_G), sg_params_grad(p, G_BN1_B), b1,
                          g->g_h1, g->g_m1, g->g_r1, sg_params_tensor(p, G_BN1_G), N1, g->G);
    /* transposed conv 1: b2 -> b1 (d g_a0) */
    memset(b1, 0, n0 * sizeof *b1);
    sg_conv_transpose2d_backward(b1, sg_params_grad(p, G_TC1_W), NULL, g->col, b2, g->g_a0,
                                 sg_params_tensor(p, G_TC1_W), B, g->h0, g->w0, g->C0, g->G, KS,
                                 2, 1);
    /* ReLU 0: b1 -> b2 */
    memset(b2, 0, n0 * sizeof *b2);
    sg_relu_backward(b2, b1, g->g_a0, n0);
    /* batch norm 0: b2 -> b1 (d g_h0) */
    memset(b1, 0, n0 * sizeof *b1);
    sg_batchnorm_backward(b1, sg_params_grad(p, G_BN0_G), sg_params_grad(p, G_BN0_B), b2,
                          g->g_h0, g->g_m0, g->g_r0, sg_params_tensor(p, G_BN0_G), N0, g->C0);
    /* dense: weights only, the input is data */
    sg_dense_backward(NULL, sg_params_grad(p, G_FC_W), NULL, b1, g->gin,
                      sg_params_tensor(p, G_FC_W), B, g->IN, g->S0 * g->C0);
}

/* ---------------------------------------------------------------------------
 * discriminator */

/* logit (B) of images x (B, HW) with labels y; batch statistics in the batch norm. */
static void d_forward(sg_dcgan *g, const float *x, const int *y, int B)
{
    sg_params *p = g->d;
    int H2 = 2 * g->h0, W2 = 2 * g->w0, N2 = B * g->S0;
    /* conv 1 (H,W,1) -> (H/2,W/2,D1), leaky ReLU in place */
    sg_conv2d_forward(g->d_a1, g->col, x, sg_params_tensor(p, D_C1_W),
                      sg_params_tensor(p, D_C1_B), B, g->H, g->W, 1, g->D1, KS, 2, 1);
    sg_leaky_relu_forward(g->d_a1, g->d_a1, (size_t)B * g->S1 * g->D1, LRELU);
    /* conv 2 -> (h0,w0,D2), batch norm, leaky ReLU */
    sg_conv2d_forward(g->d_h2, g->col, g->d_a1, sg_params_tensor(p, D_C2_W), NULL, B, H2, W2,
                      g->D1, g->D2, KS, 2, 1);
    sg_batchnorm_forward(g->d_a2, g->d_m2, g->d_r2, NULL, NULL, g->d_h2,
                         sg_params_tensor(p, D_BN2_G), sg_params_tensor(p, D_BN2_B), N2, g->D2,
                         0.0f, BN_EPS);
    sg_leaky_relu_forward(g->d_a2, g->d_a2, (size_t)B * g->F, LRELU);
    /* projection head: logit = h.(w + embed[y]) + b, summed in double */
    const float *w = sg_params_tensor(p, D_FC_W), *e = sg_params_tensor(p, D_EMB);
    float bias = sg_params_tensor(p, D_FC_B)[0];
    SG_PAR_FOR((size_t)B * g->F > SG_NN_PAR_WORK)
    for (int b = 0; b < B; b++) {
        const float *h = g->d_a2 + (size_t)b * g->F, *ey = e + (size_t)y[b] * g->F;
        double s = (double)bias;
        for (int j = 0; j < g->F; j++) s += (double)h[j] * ((double)w[j] + (double)ey[j]);
        g->logit[b] = (float)s;
    }
}

/* Backward from dlogit (B) into D's gradients, and into dx (B, HW) (overwritten)
 * when 'dx' is not NULL.  Without 'param_grads' (the generator step, which only
 * needs dx) the weight gradients of the convolutions and the head are skipped:
 * they would be cleared before D's next step anyway. */
static void d_backward(sg_dcgan *g, float *dx, const float *x, const int *y, int B,
                       int param_grads)
{
    sg_params *p = g->d;
    int H2 = 2 * g->h0, W2 = 2 * g->w0, N2 = B * g->S0, F = g->F;
    size_t nF = (size_t)B * F, n1 = (size_t)B * g->S1 * g->D1;
    float *b1 = g->buf1, *b2 = g->buf2;
    const float *w = sg_params_tensor(p, D_FC_W), *e = sg_params_tensor(p, D_EMB);
    float *dw = sg_params_grad(p, D_FC_W), *de = sg_params_grad(p, D_EMB);
    /* projection head: b1 = d h; weight sums over the batch in row order */
    double dbias = 0.0;
    for (int b = 0; b < B; b++) {
        float dl = g->dlogit[b];
        const float *h = g->d_a2 + (size_t)b * F, *ey = e + (size_t)y[b] * F;
        float *dh = b1 + (size_t)b * F, *dey = de + (size_t)y[b] * F;
        for (int j = 0; j < F; j++) dh[j] = dl * (w[j] + ey[j]);
        if (param_grads) {
            for (int j = 0; j < F; j++) {
                dw[j] += dl * h[j];
                dey[j] += dl * h[j];
            }
        }
        dbias += (double)dl;
    }
    sg_params_grad(p, D_FC_B)[0] += (float)dbias;
    /* leaky ReLU 2: b1 -> b2 */
    memset(b2, 0, nF * sizeof *b2);
    sg_leaky_relu_backward(b2, b1, g->d_a2, nF, LRELU);
    /* batch norm 2: b2 -> b1 (d conv2 output) */
    memset(b1, 0, nF * sizeof *b1);
    sg_batchnorm_backward(b1, sg_params_grad(p, D_BN2_G), sg_params_grad(p, D_BN2_B), b2,
                          g->d_h2, g->d_m2, g->d_r2, sg_params_tensor(p, D_BN2_G), N2, g->D2);
    /* conv 2: b1 -> b2 (d d_a1) */
    memset(b2, 0, n1 * sizeof *b2);
    sg_conv2d_backward(b2, param_grads ? sg_params_grad(p, D_C2_W) : NULL, NULL, g->col, b1,
                       g->d_a1, sg_params_tensor(p, D_C2_W), B, H2, W2, g->D1, g->D2, KS, 2,
                       1);
    /* leaky ReLU 1: b2 -> b1 */
    memset(b1, 0, n1 * sizeof *b1);
    sg_leaky_relu_backward(b1, b2, g->d_a1, n1, LRELU);
    /* conv 1: weights, and the image gradient when asked */
    if (dx) memset(dx, 0, (size_t)B * g->H * g->W * sizeof *dx);
    if (!dx && !param_grads) return;
    sg_conv2d_backward(dx, param_grads ? sg_params_grad(p, D_C1_W) : NULL,
                       param_grads ? sg_params_grad(p, D_C1_B) : NULL, g->col, b1, x,
                       sg_params_tensor(p, D_C1_W), B, g->H, g->W, 1, g->D1, KS, 2, 1);
}

/* ---------------------------------------------------------------------------
 * the two GAN losses */

/* Discriminator loss on one half-batch: mean BCE(logit, target) over B logits,
 * the gradient written to dlogit.  Also returns the mean D probability. */
static double gan_d_loss(float *dlogit, float *tgt, const float *logit, float target, int B,
                         double *mean_prob)
{
    for (int b = 0; b < B; b++) tgt[b] = target;
    double loss = sg_bce_logits_forward(logit, tgt, (size_t)B, 1.0f / (float)B);
    memset(dlogit, 0, (size_t)B * sizeof *dlogit);
    sg_bce_logits_backward(dlogit, logit, tgt, (size_t)B, 1.0f / (float)B);
    double s = 0.0;
    for (int b = 0; b < B; b++) s += 1.0 / (1.0 + exp(-(double)logit[b]));
    *mean_prob = s / B;
    return loss;
}

/* Generator loss, non-saturating: mean BCE(D(G(z)), 1) = -mean log D(G(z)). */
static double gan_g_loss(float *dlogit, float *tgt, const float *logit, int B)
{
    for (int b = 0; b < B; b++) tgt[b] = 1.0f;
    double loss = sg_bce_logits_forward(logit, tgt, (size_t)B, 1.0f / (float)B);
    memset(dlogit, 0, (size_t)B * sizeof *dlogit);
    sg_bce_logits_backward(dlogit, logit, tgt, (size_t)B, 1.0f / (float)B);
    return loss;
}

/* ---------------------------------------------------------------------------
 * training */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* One step on the real batch in g->xr / g->yr.  Adds to the sums in st. */
static int train_step(sg_dcgan *g, sg_dcgan_stats *st, sg_error *err)
{
    int B = g->o.batch_size;
    double d_real, d_fake;
    /* G forward on fresh labels and latents */
    for (int b = 0; b < B; b++) g->yf[b] = (int)sg_rng_below(&g->rng, (uint64_t)g->NC);
    g_input(g, g->yf, B, &g->rng);
    g_forward(g, B, 1, BN_MOMENTUM);

    /* discriminator step: real batch, then the fake batch (no gradient into G) */
    sg_params_zero_grad(g->d);
    d_forward(g, g->xr, g->yr, B);
    double l_real = gan_d_loss(g->dlogit, g->tgt, g->logit, g->o.real_label, B, &d_real);
    d_backward(g, NULL, g->xr, g->yr, B, 1);
    d_forward(g, g->g_x, g->yf, B);
    double l_fake = gan_d_loss(g->dlogit, g->tgt, g->logit, 0.0f, B, &d_fake);
    d_backward(g, NULL, g->g_x, g->yf, B, 1);
    double d_loss = l_real + l_fake;
    if (!isfinite(d_loss)) {
        return sg_error_set(err, SG_ENUMERIC, "dcgan: step %lld: discriminator loss is not "
                            "finite (%g); try a lower --lr", (long long)g->steps + 1, d_loss);
    }
    sg_params_adam(g->d, g->o.lr_d, g->o.beta1, g->o.beta2, ADAM_EPS, 0.0f);

    /* generator step through the updated D, same fake batch; only the image
     * gradient is taken from D */
    sg_params_zero_grad(g->g);
    d_forward(g, g->g_x, g->yf, B);
    double g_loss = gan_g_loss(g->dlogit, g->tgt, g->logit, B);
    d_backward(g, g->dx, g->g_x, g->yf, B, 0);
    g_backward(g, g->dx, B);
    if (!isfinite(g_loss)) {
        return sg_error_set(err, SG_ENUMERIC, "dcgan: step %lld: generator loss is not finite "
                            "(%g); try a lower --lr", (long long)g->steps + 1, g_loss);
    }
    sg_params_adam(g->g, g->o.lr_g, g->o.beta1, g->o.beta2, ADAM_EPS, 0.0f);
    g->steps++;
    st->d_loss += d_loss;
    st->g_loss += g_loss;
    st->d_real += d_real;
    st->d_fake += d_fake;
    st->steps++;
    st->images += B;
    return SG_OK;
}

/* Precise batch norm: running statistics = the exact average of the batch
 * statistics of RECAL_BATCHES fresh batches with balanced labels. */
static void recalibrate_bn(sg_dcgan *g)
{
    sg_rng r;
    sg_rng_split(&g->rng, 0x5243414cu + (uint64_t)g->epochs, &r);   /* "RCAL" */
    int B = g->o.batch_size;
    for (int k = 0; k < RECAL_BATCHES; k++) {
        for (int b = 0; b < B; b++) g->yf[b] = (k * B + b) % g->NC;
        g_input(g, g->yf, B, &r);
        g_forward(g, B, 1, 1.0f / (float)(k + 1));
    }
}

int sg_dcgan_train_epoch(sg_dcgan *g, const sg_image_data *data, int64_t max_images,
                         sg_dcgan_stats *stats, sg_error *err)
{
    sg_dcgan_stats st = {0};
    int64_t *perm = NULL;
    int rc;
    if (data->rows != g->H || data->cols != g->W) {
        return sg_error_set(err, SG_EINVAL, "dcgan: the data has %dx%d images, the model %dx%d",
                            data->rows, data->cols, g->H, g->W);
    }
    int B = g->o.batch_size;
    int64_t n = max_images > 0 && max_images < data->n ? max_images : data->n;
    if (n < B) {
        return sg_error_set(err, SG_EINVAL, "dcgan: %lld images, fewer than one batch of %d",
                            (long long)n, B);
    }
    if ((rc = ensure_workspace(g, err))) return rc;
    perm = sg_malloc_array((size_t)data->n, sizeof *perm);
    if (!perm) return sg_error_set(err, SG_ENOMEM, "dcgan: out of memory");
    for (int64_t i = 0; i < data->n; i++) perm[i] = i;
    sg_rng_shuffle_i64(&g->rng, perm, data->n);
    for (int64_t i = 0; i < data->n; i++) {   /* labels were checked by the loader; the */
        if (data->labels[i] >= g->NC) {       /* model may know fewer classes */
            rc = sg_error_set(err, SG_EINVAL, "dcgan: image %lld has label %d; the model has "
                              "%d classes", (long long)i, data->labels[i], g->NC);
            goto done;
        }
    }
    int64_t n_steps = n / B, HW = (int64_t)g->H * g->W;
    double t0 = now_s();
    for (int64_t s = 0; s < n_steps; s++) {
        for (int b = 0; b < B; b++) {
            int64_t k = perm[s * B + b];
            sg_images_to_float(g->xr + (size_t)b * HW, data->pixels + k * HW, (size_t)HW);
            g->yr[b] = data->labels[k];
        }
        if ((rc = train_step(g, &st, err))) goto done;
        if ((s + 1) % 100 == 0 && s + 1 < n_steps) {   /* progress within long epochs */
            double el = now_s() - t0;
            SG_LOG(SG_LOG_INFO, "dcgan", "epoch %lld step %lld/%lld: d_loss %.4f g_loss %.4f "
                   "D(x) %.3f D(G(z)) %.3f, %.0f ms/step", (long long)g->epochs + 1,
                   (long long)s + 1, (long long)n_steps, st.d_loss / (double)st.steps,
                   st.g_loss / (double)st.steps, st.d_real / (double)st.steps,
                   st.d_fake / (double)st.steps, 1000.0 * el / (double)(s + 1));
        }
    }
    g->epochs++;
    recalibrate_bn(g);
    if (st.steps > 0) {
        st.d_loss /= (double)st.steps;
        st.g_loss /= (double)st.steps;
        st.d_real /= (double)st.steps;
        st.d_fake /= (double)st.steps;
    }
    if (stats) *stats = st;
    rc = SG_OK;
done:
    sg_free(perm);
    return rc;
}

/* ---------------------------------------------------------------------------
 * generation and accessors */

int sg_dcgan_generate(sg_dcgan *g, float *out, const int *labels, int64_t n, sg_rng *rng,
                      sg_error *err)
{
    for (int64_t i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] >= g->NC)
            return sg_error_set(err, SG_EINVAL, "dcgan: label %d not in 0..%d", labels[i],
                                g->NC - 1);
    }
    int rc = ensure_workspace(g, err);
    if (rc) return rc;
    size_t HW = (size_t)g->H * g->W;
    for (int64_t i = 0; i < n; i += g->cap) {
        int B = (int)SG_MIN((int64_t)g->cap, n - i);
        g_input(g, labels + i, B, rng);
        g_forward(g, B, 0, 0.0f);
        memcpy(out + (size_t)i * HW, g->g_x, (size_t)B * HW * sizeof *out);
    }
    return SG_OK;
}

int sg_dcgan_rows(const sg_dcgan *g) { return g->H; }
int sg_dcgan_cols(const sg_dcgan *g) { return g->W; }
int sg_dcgan_n_classes(const sg_dcgan *g) { return g->NC; }
const char *sg_dcgan_class_name(const sg_dcgan *g, int i) { return g->names[i]; }
int64_t sg_dcgan_epochs(const sg_dcgan *g) { return g->epochs; }
int64_t sg_dcgan_steps(const sg_dcgan *g) { return g->steps; }
const sg_dcgan_opts *sg_dcgan_get_opts(const sg_dcgan *g) { return &g->o; }

void sg_dcgan_n_params(const sg_dcgan *g, size_t *n_gen, size_t *n_disc)
{
    if (n_gen) *n_gen = sg_params_count(g->g);
    if (n_disc) *n_disc = sg_params_count(g->d);
}

int sg_dcgan_class_index(const sg_dcgan *g, const char *spec)
{
    for (int i = 0; i < g->NC; i++)
        if (strcmp(g->names[i], spec) == 0) return i;
    for (int i = 0; i < g->NC; i++)
        if (strcasecmp(g->names[i], spec) == 0) return i;
    char *end;
    long v = strtol(spec, &end, 10);
    if (end != spec && *end == '\0' && v >= 0 && v < g->NC) return (int)v;
    return -1;
}

/* ---------------------------------------------------------------------------
 * model files
 *
 * Payload: u32 "SGDG", u32 version, i32 rows, cols, n_classes, z_dim, g_channels,
 * d_channels, batch_size; f32 lr_g, lr_d, beta1, beta2, real_label; u64 seed;
 * i64 epochs, steps; u64 x4 RNG state; n_classes names (str); the generator's
 * running batch-norm statistics (f32 x 2(C0+G)); the generator's parameter block
 * and the discriminator's, both with Adam state (nn_private.h). */

int sg_dcgan_save(const sg_dcgan *g, const char *path, sg_error *err)
{
    sg_wbuf w;
    sg_wbuf_init(&w);
    sg_wbuf_u32(&w, GAN_MAGIC);
    sg_wbuf_u32(&w, GAN_VERSION);
    const int cfg[] = {g->H, g->W, g->NC, g->o.z_dim, g->o.g_channels, g->o.d_channels,
                       g->o.batch_size};
    for (size_t i = 0; i < sizeof cfg / sizeof cfg[0]; i++) sg_wbuf_i32(&w, cfg[i]);
    sg_wbuf_f32(&w, g->o.lr_g);
    sg_wbuf_f32(&w, g->o.lr_d);
    sg_wbuf_f32(&w, g->o.beta1);
    sg_wbuf_f32(&w, g->o.beta2);
    sg_wbuf_f32(&w, g->o.real_label);
    sg_wbuf_u64(&w, g->o.seed);
    sg_wbuf_i64(&w, g->epochs);
    sg_wbuf_i64(&w, g->steps);
    for (int i = 0; i < 4; i++) sg_wbuf_u64(&w, g->rng.s[i]);
    for (int i = 0; i < g->NC; i++) sg_wbuf_str(&w, g->names[i]);
    sg_wbuf_f32s(&w, g->g_run, 2 * ((size_t)g->C0 + (size_t)g->G));
    sg_params_write(g->g, &w, 1);
    sg_params_write(g->d, &w, 1);
    int rc = sg_wbuf_status(&w, err);
    if (rc == SG_OK) rc = sg_modelfile_write(path, SG_TASK_CREATIVE, w.data, w.len, err);
    sg_wbuf_deinit(&w);
    return rc;
}

int sg_creative_model_kind(const char *path, int *kind, sg_error *err)
{
    int task;
    unsigned char *payload = NULL;
    size_t len;
    int rc = sg_modelfile_read(path, SG_TASK_CREATIVE, &task, &payload, &len, err);
    if (rc) return rc;
    uint32_t magic = 0;
    if (len >= 4) memcpy(&magic, payload, 4);
    sg_free(payload);
    if (magic == GAN_MAGIC) *kind = SG_CREATIVE_GAN;
    else if (magic == SG_CNN_MAGIC) *kind = SG_CREATIVE_CLASSIFIER;
    else return sg_error_set(err, SG_EPARSE, "%s: unknown creative model (payload magic "
                             "0x%08x)", path, magic);
    return SG_OK;
}

/* Parse a payload into a new model (err messages without the path). */
static int parse(sg_dcgan **out, sg_rbuf *r, sg_error *err)
{
    uint32_t magic, version;
    int rc;
    char **names = NULL;
    int32_t cfg[7];
    sg_dcgan *g = NULL;
    int NC = 0;
    if ((rc = sg_rbuf_u32(r, &magic, "model magic", err))) return rc;
    if (magic == SG_CNN_MAGIC) {
        return sg_error_set(err, SG_EPARSE, "this is an image classifier, not a generator "
                            "(hint: pass the model written by 'train creative')");
    }
    if (magic != GAN_MAGIC)
        return sg_error_set(err, SG_EPARSE, "not a DCGAN payload (magic 0x%08x)", magic);
    if ((rc = sg_rbuf_u32(r, &version, "version", err))) return rc;
    if (version != GAN_VERSION) {
        return sg_error_set(err, SG_EPARSE, "DCGAN format version %u, this stratagem reads %u "
                            "(hint: retrain with 'stratagem train creative')", version,
                            GAN_VERSION);
    }
    for (int i = 0; i < 7; i++)
        if ((rc = sg_rbuf_i32(r, &cfg[i], "configuration", err))) return rc;
    sg_dcgan_opts o;
    sg_dcgan_opts_default(&o);
    o.z_dim = cfg[3];
    o.g_channels = cfg[4];
    o.d_channels = cfg[5];
    o.batch_size = cfg[6];
    if ((rc = sg_rbuf_f32(r, &o.lr_g, "configuration", err)) ||
        (rc = sg_rbuf_f32(r, &o.lr_d, "configuration", err)) ||
        (rc = sg_rbuf_f32(r, &o.beta1, "configuration", err)) ||
        (rc = sg_rbuf_f32(r, &o.beta2, "configuration", err)) ||
        (rc = sg_rbuf_f32(r, &o.real_label, "configuration", err)) ||
        (rc = sg_rbuf_u64(r, &o.seed, "seed", err)))
        return rc;
    if ((rc = check_opts(&o, cfg[0], cfg[1], cfg[2], err))) {
        return sg_error_prefix(err, "corrupt configuration: ");
    }
    NC = cfg[2];
    int64_t epochs, steps;
    uint64_t s[4];
    if ((rc = sg_rbuf_i64(r, &epochs, "epoch count", err)) ||
        (rc = sg_rbuf_i64(r, &steps, "step count", err)))
        return rc;
    for (int i = 0; i < 4; i++)
        if ((rc = sg_rbuf_u64(r, &s[i], "RNG state", err))) return rc;
    names = sg_calloc((size_t)NC, sizeof *names);
    if (!names) return sg_error_set(err, SG_ENOMEM, "out of memory");
    for (int i = 0; i < NC; i++) {
        if ((rc = sg_rbuf_str(r, &names[i], NAME_MAX_LEN, "class name", err))) goto fail;
        if (!names[i]) {
            rc = sg_error_set(err, SG_EPARSE, "class %d has no name", i);
            goto fail;
        }
    }
    if ((rc = build(&g, &o, cfg[0], cfg[1], NC, (const char *const *)names, err))) goto fail;
    if ((rc = sg_rbuf_f32s(r, g->g_run, 2 * ((size_t)g->C0 + (size_t)g->G),
                           "batch-norm statistics", err)))
        goto fail;
    if ((rc = sg_params_read(g->g, r, err)) || (rc = sg_params_read(g->d, r, err))) goto fail;
    if (r->pos != r->len) {
        rc = sg_error_set(err, SG_EPARSE, "%zu unexpected bytes after the model",
                          r->len - r->pos);
        goto fail;
    }
    g->epochs = epochs;
    g->steps = steps;
    memcpy(g->rng.s, s, sizeof s);
    for (int i = 0; i < NC; i++) sg_free(names[i]);
    sg_free(names);
    *out = g;
    return SG_OK;
fail:
    if (names) {
        for (int i = 0; i < NC; i++) sg_free(names[i]);
    }
    sg_free(names);
    sg_dcgan_free(g);
    return rc;
}

int sg_dcgan_load(sg_dcgan **out, const char *path, sg_error *err)
{
    int task;
    unsigned char *payload = NULL;
    size_t len;
    int rc = sg_modelfile_read(path, SG_TASK_CREATIVE, &task, &payload, &len, err);
    if (rc) return rc;
    sg_rbuf r;
    sg_rbuf_init(&r, payload, len);
    rc = parse(out, &r, err);
    if (rc) sg_error_prefix(err, "%s: ", path);
    sg_free(payload);
    return rc;
}

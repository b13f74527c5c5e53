/* cnn_classifier.c -- the CNN that scores generated images, and the scores (creative.h).
 *
 * B = batch size, H, W = image size, S1 = (H/2)(W/2), S0 = (H/4)(W/4),
 * C1, C2 = conv channels, F = S0*C2 flattened conv features, Hd = feature
 * (hidden) layer size, NC = classes, D = feature dimension of the statistics.
 *
 *   x (H,W,1) -> conv 4x4 s2 + ReLU -> (H/2,W/2,C1) -> conv 4x4 s2 + ReLU
 *   -> (H/4,W/4,C2) -> dense + ReLU -> f (Hd) -> dropout -> dense -> softmax (NC)
 *
 * Strided convolutions instead of max pooling keep the layer set to what
 * conv.c has; this net reaches about 90% on Fashion-MNIST in a few epochs.
 * 'f' is the feature vector of the Frechet distance.
 *
 * The Frechet distance needs tr sqrt(S1 S2).  S1 S2 is not symmetric, but it is
 * similar to sqrt(S1) S2 sqrt(S1), which is symmetric positive semi-definite, so
 * two symmetric eigendecompositions (sg_dsyev, LAPACK dsyevd) give the trace
 * without a general matrix square root.  All of it runs in double.
 * See LICENSE for copyright. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "io/serial.h"
#include "nn/nn_private.h"
#include "stratagem/creative.h"
#include "stratagem/linalg.h"
#include "stratagem/log.h"
#include "stratagem/mem.h"
#include "stratagem/model.h"
#include "stratagem/nn.h"
#include "creative_private.h"

#define CNN_VERSION 1u
#define KS 4
#define ADAM_EPS 1e-8f
#define EVAL_CHUNK 256     /* images generated and classified at a time when scoring */
#define STATS_CHUNK 256    /* rows centred at a time for the covariance */

enum { C_C1_W, C_C1_B, C_C2_W, C_C2_B, C_FC1_W, C_FC1_B, C_FC2_W, C_FC2_B, C_N };

struct sg_cnn {
    sg_cnn_opts o;
    int H, W, NC, S0, S1, C1, C2, F, Hd;
    sg_params *p;
    sg_rng rng;
    int64_t epochs, steps;

    int cap;                /* rows of the workspace (the batch size) */
    float *ws;
    float *x;               /* (B, H*W) */
    float *a1;              /* (B, S1*C1) */
    float *a2;              /* (B, F) */
    float *f, *fd, *mask;   /* (B, Hd) features, after dropout, dropout factors */
    float *logp;            /* (B, NC) logits, then log-probabilities */
    float *onehot;          /* (B, NC) */
    float *buf1, *buf2;     /* (B, A) gradient ping-pong, A = largest activation */
    float *col;
};

/* ---------------------------------------------------------------------------
 * pixels */

void sg_images_to_float(float *out, const uint8_t *px, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = (float)px[i] / 127.5f - 1.0f;
}

void sg_images_to_u8(uint8_t *out, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float v = (x[i] + 1.0f) * 127.5f;
        out[i] = !(v > 0.0f) ? 0 : v >= 255.0f ? 255 : (uint8_t)lrintf(v);
    }
}

/* ---------------------------------------------------------------------------
 * construction */

void sg_cnn_opts_default(sg_cnn_opts *o)
{
    memset(o, 0, sizeof *o);
    o->c1 = 32;
    o->c2 = 64;
    o->hidden = 128;
    o->batch_size = 64;
    o->lr = 1e-3f;
    o->dropout = 0.3f;
    o->seed = SG_DEFAULT_SEED;
}

static int check_opts(const sg_cnn_opts *o, int rows, int cols, int n_classes, sg_error *err)
{
    if (rows < 4 || cols < 4 || rows % 4 || cols % 4 || rows > 1024 || cols > 1024)
        return sg_error_set(err, SG_EINVAL, "classifier: image size %dx%d: both sides must be "
                            "multiples of 4 in 4..1024", rows, cols);
    if (n_classes < 2 || n_classes > SG_CREATIVE_MAX_CLASSES)
        return sg_error_set(err, SG_EINVAL, "classifier: %d classes (2..%d allowed)",
                            n_classes, SG_CREATIVE_MAX_CLASSES);
    if (o->c1 < 1 || o->c1 > 1024 || o->c2 < 1 || o->c2 > 1024 || o->hidden < 1 ||
        o->hidden > 4096)
        return sg_error_set(err, SG_EINVAL, "classifier: sizes %d/%d/%d out of range", o->c1,
                            o->c2, o->hidden);
    if (o->batch_size < 1 || o->batch_size > 4096)
        return sg_error_set(err, SG_EINVAL, "classifier: batch size %d not in 1..4096",
                            o->batch_size);
    if (!(o->lr > 0 && o->lr < 1))
        return sg_error_set(err, SG_EINVAL, "classifier: learning rate must be in (0, 1)");
    if (!(o->dropout >= 0 && o->dropout < 1))
        return sg_error_set(err, SG_EINVAL, "classifier: dropout must be in [0, 1)");
    if ((size_t)rows * cols / 16 * o->c2 * o->hidden > ((size_t)1 << 28))
        return sg_error_set(err, SG_EINVAL, "classifier: network too large");
    return SG_OK;
}

static int build(sg_cnn **out, const sg_cnn_opts *o, int rows, int cols, int n_classes,
                 sg_error *err)
{
    int rc = check_opts(o, rows, cols, n_classes, err);
    if (rc) return rc;
    sg_cnn *m = sg_calloc(1, sizeof *m);
    if (!m) return sg_error_set(err, SG_ENOMEM, "classifier: out of memory");
    m->o = *o;
    m->H = rows;
    m->W = cols;
    m->NC = n_classes;
    m->S0 = (rows / 4) * (cols / 4);
    m->S1 = 4 * m->S0;
    m->C1 = o->c1;
    m->C2 = o->c2;
    m->F = m->S0 * m->C2;
    m->Hd = o->hidden;
    sg_rng_init(&m->rng, o->seed);
    const sg_tensor_spec specs[C_N] = {
        {"c.c1.w", 4, {KS, KS, 1, m->C1}}, {"c.c1.b", 1, {m->C1}},
        {"c.c2.w", 4, {KS, KS, m->C1, m->C2}}, {"c.c2.b", 1, {m->C2}},
        {"c.fc1.w", 2, {m->F, m->Hd}}, {"c.fc1.b", 1, {m->Hd}},
        {"c.fc2.w", 2, {m->Hd, n_classes}}, {"c.fc2.b", 1, {n_classes}},
    };
    if ((rc = sg_params_new(&m->p, specs, C_N, 1, err))) {
        sg_cnn_free(m);
        return rc;
    }
    *out = m;
    return SG_OK;
}

int sg_cnn_new(sg_cnn **out, const sg_cnn_opts *o, int rows, int cols, int n_classes,
               sg_error *err)
{
    sg_cnn *m = NULL;
    int rc = build(&m, o, rows, cols, n_classes, err);
    if (rc) return rc;
    /* He initialisation for the ReLU layers, Glorot for the softmax layer */
    sg_init_he_normal(sg_params_tensor(m->p, C_C1_W), KS * KS, m->C1, &m->rng);
    sg_init_he_normal(sg_params_tensor(m->p, C_C2_W), KS * KS * m->C1, m->C2, &m->rng);
    sg_init_he_normal(sg_params_tensor(m->p, C_FC1_W), m->F, m->Hd, &m->rng);
    sg_init_xavier_uniform(sg_params_tensor(m->p, C_FC2_W), m->Hd, m->NC, &m->rng);
    *out = m;
    return SG_OK;
}

void sg_cnn_free(sg_cnn *m)
{
    if (!m) return;
    sg_params_free(m->p);
    sg_free(m->ws);
    sg_free(m);
}

static int ensure_workspace(sg_cnn *m, sg_error *err)
{
    if (m->ws) return SG_OK;
    size_t B = (size_t)m->o.batch_size, HW = (size_t)m->H * m->W;
    size_t A = SG_MAX(SG_MAX(HW, (size_t)m->S1 * m->C1), SG_MAX((size_t)m->F, (size_t)m->Hd));
    A = SG_MAX(A, (size_t)m->NC);
    size_t col = SG_MAX(sg_conv2d_col_size(B, m->H, m->W, 1, KS, 2, 1),
                        sg_conv2d_col_size(B, m->H / 2, m->W / 2, m->C1, KS, 2, 1));
    size_t sizes[] = {B * HW, B * m->S1 * m->C1, B * m->F, B * m->Hd, B * m->Hd, B * m->Hd,
                      B * m->NC, B * m->NC, B * A, B * A, col};
    float **ptrs[] = {&m->x, &m->a1, &m->a2, &m->f, &m->fd, &m->mask, &m->logp, &m->onehot,
                      &m->buf1, &m->buf2, &m->col};
    size_t total = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) total += sizes[i];
    float *ws = sg_calloc(total, sizeof *ws);
    if (!ws) return sg_error_set(err, SG_ENOMEM, "classifier: out of memory for the workspace");
    size_t off = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        *ptrs[i] = ws + off;
        off += sizes[i];
    }
    m->ws = ws;
    m->cap = (int)B;
    return SG_OK;
}

/* ---------------------------------------------------------------------------
 * forward and backward */

/* m->x (B rows) -> m->f features and m->logp logits; dropout when 'train'. */
static void forward(sg_cnn *m, int B, int train)
{
    sg_params *p = m->p;
    sg_conv2d_forward(m->a1, m->col, m->x, sg_params_tensor(p, C_C1_W),
                      sg_params_tensor(p, C_C1_B), B, m->H, m->W, 1, m->C1, KS, 2, 1);
    sg_relu_forward(m->a1, m->a1, (size_t)B * m->S1 * m->C1);
    sg_conv2d_forward(m->a2, m->col, m->a1, sg_params_tensor(p, C_C2_W),
                      sg_params_tensor(p, C_C2_B), B, m->H / 2, m->W / 2, m->C1, m->C2, KS, 2,
                      1);
    sg_relu_forward(m->a2, m->a2, (size_t)B * m->F);
    sg_dense_forward(m->f, m->a2, sg_params_tensor(p, C_FC1_W), sg_params_tensor(p, C_FC1_B),
                     B, m->F, m->Hd);
    sg_relu_forward(m->f, m->f, (size_t)B * m->Hd);
    const float *h = m->f;
    if (train && m->o.dropout > 0.0f) {
        sg_dropout_forward(m->fd, m->mask, m->f, (size_t)B * m->Hd, m->o.dropout, &m->rng);
        h = m->fd;
    }
    sg_dense_forward(m->logp, h, sg_params_tensor(p, C_FC2_W), sg_params_tensor(p, C_FC2_B), B,
                     m->Hd, m->NC);
}

/* Cross-entropy of the B rows against m->onehot; backward into the gradients. */
static double loss_backward(sg_cnn *m, int B)
{
    sg_params *p = m->p;
    float scale = 1.0f / (float)B;
    int drop = m->o.dropout > 0.0f;
    size_t nh = (size_t)B * m->Hd, nf = (size_t)B * m->F, n1 = (size_t)B * m->S1 * m->C1;
    float *b1 = m->buf1, *b2 = m->buf2;
    double loss = sg_multinomial_nll_forward(m->logp, m->logp, m->onehot, B, m->NC, scale);
    /* softmax cross-entropy: b1 = d logits */
    memset(b1, 0, (size_t)B * m->NC * sizeof *b1);
    sg_multinomial_nll_backward(b1, m->logp, m->onehot, B, m->NC, scale);
    /* dense 2: b1 -> b2 (d of its input) */
    memset(b2, 0, nh * sizeof *b2);
    sg_dense_backward(b2, sg_params_grad(p, C_FC2_W), sg_params_grad(p, C_FC2_B), b1,
                      drop ? m->fd : m->f, sg_params_tensor(p, C_FC2_W), B, m->Hd, m->NC);
    /* dropout: b2 -> b1 (or a copy) */
    memset(b1, 0, nh * sizeof *b1);
    if (drop) sg_dropout_backward(b1, b2, m->mask, nh);
    else memcpy(b1, b2, nh * sizeof *b1);
    /* ReLU of the feature layer: b1 -> b2 */
    memset(b2, 0, nh * sizeof *b2);
    sg_relu_backward(b2, b1, m->f, nh);
    /* dense 1: b2 -> b1 (d a2) */
    memset(b1, 0, nf * sizeof *b1);
    sg_dense_backward(b1, sg_params_grad(p, C_FC1_W), sg_params_grad(p, C_FC1_B), b2, m->a2,
                      sg_params_tensor(p, C_FC1_W), B, m->F, m->Hd);
    /* ReLU 2: b1 -> b2 */
    memset(b2, 0, nf * sizeof *b2);
    sg_relu_backward(b2, b1, m->a2, nf);
    /* conv 2: b2 -> b1 (d a1) */
    memset(b1, 0, n1 * sizeof *b1);
    sg_conv2d_backward(b1, sg_params_grad(p, C_C2_W), sg_params_grad(p, C_C2_B), m->col, b2,
                       m->a1, sg_params_tensor(p, C_C2_W), B, m->H / 2, m->W / 2, m->C1, m->C2,
                       KS, 2, 1);
    /* ReLU 1: b1 -> b2 */
    memset(b2, 0, n1 * sizeof *b2);
    sg_relu_backward(b2, b1, m->a1, n1);
    /* conv 1: weights only */
    sg_conv2d_backward(NULL, sg_params_grad(p, C_C1_W), sg_params_grad(p, C_C1_B), m->col, b2,
                       m->x, sg_params_tensor(p, C_C1_W), B, m->H, m->W, 1, m->C1, KS, 2, 1);
    return loss;
}

/* ---------------------------------------------------------------------------
 * training and prediction */

static int check_data(const sg_cnn *m, const sg_image_data *data, sg_error *err)
{
    if (data->rows != m->H || data->cols != m->W) {
        return sg_error_set(err, SG_EINVAL, "classifier: the data has %dx%d images, the model "
                            "%dx%d", data->rows, data->cols, m->H, m->W);
    }
    for (int64_t i = 0; i < data->n; i++) {
        if (data->labels[i] >= m->NC) {
            return sg_error_set(err, SG_EINVAL, "classifier: image %lld has label %d; the "
                                "model has %d classes", (long long)i, data->labels[i], m->NC);
        }
    }
    return SG_OK;
}

int sg_cnn_train_epoch(sg_cnn *m, const sg_image_data *data, int64_t max_images,
                       double *mean_loss, sg_error *err)
{
    int rc = check_data(m, data, err);
    if (rc) return rc;
    if (data->n < 1) return sg_error_set(err, SG_EINVAL, "classifier: no training images");
    if ((rc = ensure_workspace(m, err))) return rc;
    int64_t *perm = sg_malloc_array((size_t)data->n, sizeof *perm);
    if (!perm) return sg_error_set(err, SG_ENOMEM, "classifier: out of memory");
    for (int64_t i = 0; i < data->n; i++) perm[i] = i;
    sg_rng_shuffle_i64(&m->rng, perm, data->n);
    int64_t n = max_images > 0 && max_images < data->n ? max_images : data->n;
    size_t HW = (size_t)m->H * m->W;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i += m->cap) {
        int B = (int)SG_MIN((int64_t)m->cap, n - i);
        memset(m->onehot, 0, (size_t)B * m->NC * sizeof *m->onehot);
        for (int b = 0; b < B; b++) {
            int64_t k = perm[i + b];
            sg_images_to_float(m->x + (size_t)b * HW, data->pixels + (size_t)k * HW, HW);
            m->onehot[(size_t)b * m->NC + data->labels[k]] = 1.0f;
        }
        sg_params_zero_grad(m->p);
        forward(m, B, 1);
        double loss = loss_backward(m, B);
        if (!isfinite(loss)) {
            sg_free(perm);
            return sg_error_set(err, SG_ENUMERIC, "classifier: step %lld: loss is not finite",
                                (long long)m->steps + 1);
        }
        sg_params_adam(m->p, m->o.lr, 0.9f, 0.999f, ADAM_EPS, 0.0f);
        m->steps++;
        sum += loss * B;
    }
    sg_free(perm);
    m->epochs++;
    if (mean_loss) *mean_loss = sum / (double)n;
    return SG_OK;
}

int sg_cnn_classify(sg_cnn *m, const float *x, int64_t n, int *pred, float *feat,
                    sg_error *err)
{
    int rc = ensure_workspace(m, err);
    if (rc) return rc;
    size_t HW = (size_t)m->H * m->W;
    for (int64_t i = 0; i < n; i += m->cap) {
        int B = (int)SG_MIN((int64_t)m->cap, n - i);
        memcpy(m->x, x + (size_t)i * HW, (size_t)B * HW * sizeof *m->x);
        forward(m, B, 0);
        if (feat) memcpy(feat + (size_t)i * m->Hd, m->f, (size_t)B * m->Hd * sizeof *feat);
        if (pred) {
            for (int b = 0; b < B; b++) {
                const float *l = m->logp + (size_t)b * m->NC;
                int best = 0;
                for (int c = 1; c < m->NC; c++)
                    if (l[c] > l[best]) best = c;
                pred[i + b] = best;
            }
        }
    }
    return SG_OK;
}

/* Classify data's images in chunks; pred (n) and/or feat (n, Hd). */
static int classify_data(sg_cnn *m, const sg_image_data *data, int *pred, float *feat,
                         sg_error *err)
{
    size_t HW = (size_t)m->H * m->W;
    float *x = sg_malloc_array((size_t)EVAL_CHUNK * HW, sizeof *x);
    if (!x) return sg_error_set(err, SG_ENOMEM, "classifier: out of memory");
    int rc = SG_OK;
    for (int64_t i = 0; i < data->n && rc == SG_OK; i += EVAL_CHUNK) {
        int64_t k = SG_MIN((int64_t)EVAL_CHUNK, data->n - i);
        sg_images_to_float(x, data->pixels + (size_t)i * HW, (size_t)k * HW);
        rc = sg_cnn_classify(m, x, k, pred ? pred + i : NULL,
                             feat ? feat + (size_t)i * m->Hd : NULL, err);
    }
    sg_free(x);
    return rc;
}

int sg_cnn_accuracy(sg_cnn *m, const sg_image_data *data, double *acc, double *class_acc,
                    sg_error *err)
{
    int rc = check_data(m, data, err);
    if (rc) return rc;
    if (data->n < 1) return sg_error_set(err, SG_EINVAL, "classifier: no images to score");
    int *pred = sg_malloc_array((size_t)data->n, sizeof *pred);
    int64_t *hit = sg_calloc((size_t)m->NC * 2, sizeof *hit);
    if (!pred || !hit) {
        rc = sg_error_set(err, SG_ENOMEM, "classifier: out of memory");
        goto done;
    }
    if ((rc = classify_data(m, data, pred, NULL, err))) goto done;
    int64_t ok = 0;
    for (int64_t i = 0; i < data->n; i++) {
        int y = data->labels[i];
        hit[2 * y + 1]++;
        if (pred[i] == y) {
            ok++;
            hit[2 * y]++;
        }
    }
    *acc = (double)ok / (double)data->n;
    if (class_acc) {
        for (int c = 0; c < m->NC; c++)
            class_acc[c] = hit[2 * c + 1] ? (double)hit[2 * c] / (double)hit[2 * c + 1]
                                          : (double)NAN;
    }
done:
    sg_free(pred);
    sg_free(hit);
    return rc;
}

int sg_cnn_feature_dim(const sg_cnn *m) { return m->Hd; }
int sg_cnn_n_classes(const sg_cnn *m) { return m->NC; }
int64_t sg_cnn_epochs(const sg_cnn *m) { return m->epochs; }
size_t sg_cnn_n_params(const sg_cnn *m) { return sg_params_count(m->p); }

/* ---------------------------------------------------------------------------
 * model files
 *
 * Payload: u32 "SGCC", u32 version, i32 rows, cols, n_classes, c1, c2, hidden,
 * batch_size; f32 lr, dropout; u64 seed; i64 epochs, steps; u64 x4 RNG state;
 * the parameter block without Adam state. */

int sg_cnn_save(const sg_cnn *m, const char *path, sg_error *err)
{
    sg_wbuf w;
    sg_wbuf_init(&w);
    sg_wbuf_u32(&w, SG_CNN_MAGIC);
    sg_wbuf_u32(&w, CNN_VERSION);
    const int cfg[] = {m->H, m->W, m->NC, m->C1, m->C2, m->Hd, m->o.batch_size};
    for (size_t i = 0; i < sizeof cfg / sizeof cfg[0]; i++) sg_wbuf_i32(&w, cfg[i]);
    sg_wbuf_f32(&w, m->o.lr);
    sg_wbuf_f32(&w, m->o.dropout);
    sg_wbuf_u64(&w, m->o.seed);
    sg_wbuf_i64(&w, m->epochs);
    sg_wbuf_i64(&w, m->steps);
    for (int i = 0; i < 4; i++) sg_wbuf_u64(&w, m->rng.s[i]);
    sg_params_write(m->p, &w, 0);
    int rc = sg_wbuf_status(&w, err);
    if (rc == SG_OK) rc = sg_modelfile_write(path, SG_TASK_CREATIVE, w.data, w.len, err);
    sg_wbuf_deinit(&w);
    return rc;
}

static int parse(sg_cnn **out, sg_rbuf *r, sg_error *err)
{
    uint32_t magic, version;
    int32_t cfg[7];
    int rc;
    if ((rc = sg_rbuf_u32(r, &magic, "model magic", err))) return rc;
    if (magic != SG_CNN_MAGIC) {
        return sg_error_set(err, SG_EPARSE, "not an image classifier (hint: train one with "
                            "'stratagem train creative --net classifier')");
    }
    if ((rc = sg_rbuf_u32(r, &version, "version", err))) return rc;
    if (version != CNN_VERSION) {
        return sg_error_set(err, SG_EPARSE, "classifier format version %u, this stratagem "
                            "reads %u (hint: retrain it)", version, CNN_VERSION);
    }
    for (int i = 0; i < 7; i++)
        if ((rc = sg_rbuf_i32(r, &cfg[i], "configuration", err))) return rc;
    sg_cnn_opts o;
    sg_cnn_opts_default(&o);
    o.c1 = cfg[3];
    o.c2 = cfg[4];
    o.hidden = cfg[5];
    o.batch_size = cfg[6];
    int64_t epochs, steps;
    uint64_t s[4];
    if ((rc = sg_rbuf_f32(r, &o.lr, "configuration", err)) ||
        (rc = sg_rbuf_f32(r, &o.dropout, "configuration", err)) ||
        (rc = sg_rbuf_u64(r, &o.seed, "seed", err)) ||
        (rc = sg_rbuf_i64(r, &epochs, "epoch count", err)) ||
        (rc = sg_rbuf_i64(r, &steps, "step count", err)))
        return rc;
    for (int i = 0; i < 4; i++)
        if ((rc = sg_rbuf_u64(r, &s[i], "RNG state", err))) return rc;
    if ((rc = check_opts(&o, cfg[0], cfg[1], cfg[2], err)))
        return sg_error_prefix(err, "corrupt configuration: ");
    sg_cnn *m = NULL;
    if ((rc = build(&m, &o, cfg[0], cfg[1], cfg[2], err))) return rc;
    if ((rc = sg_params_read(m->p, r, err))) goto fail;
    if (r->pos != r->len) {
        rc = sg_error_set(err, SG_EPARSE, "%zu unexpected bytes after the model",
                          r->len - r->pos);
        goto fail;
    }
    m->epochs = epochs;
    m->steps = steps;
    memcpy(m->rng.s, s, sizeof s);
    *out = m;
    return SG_OK;
fail:
    sg_cnn_free(m);
    return rc;
}

int sg_cnn_load(sg_cnn **out, const char *path, sg_error *err)
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

/* ---------------------------------------------------------------------------
 * feature statistics and the Frechet distance */

void sg_feature_stats_deinit(sg_feature_stats *s)
{
    if (!s) return;
    sg_free(s->mean);
    sg_free(s->cov);
    memset(s, 0, sizeof *s);
}

int sg_feature_stats_compute(sg_feature_stats *out, const float *feat, int64_t n, int D,
                             sg_error *err)
{
    memset(out, 0, sizeof *out);
    if (n < 2 || D < 1 || D > 65536)
        return sg_error_set(err, SG_EINVAL, "feature statistics: need n >= 2 vectors of 1..65536 "
                            "values (got %lld of %d)", (long long)n, D);
    double *mean = sg_calloc((size_t)D, sizeof *mean);
    double *cov = sg_malloc_array((size_t)D * D, sizeof *cov);
    double *chunk = sg_malloc_array((size_t)STATS_CHUNK * D, sizeof *chunk);
    if (!mean || !cov || !chunk) {
        sg_free(mean);
        sg_free(cov);
        sg_free(chunk);
        return sg_error_set(err, SG_ENOMEM, "feature statistics: out of memory (D = %d)", D);
    }
    for (int64_t i = 0; i < n; i++) {
        const float *f = feat + (size_t)i * D;
        for (int j = 0; j < D; j++) mean[j] += (double)f[j];
    }
    for (int j = 0; j < D; j++) mean[j] /= (double)n;
    /* cov = sum of outer products of centred rows, a chunk of rows per sg_dsyrk_t */
    for (int64_t i = 0; i < n; i += STATS_CHUNK) {
        int k = (int)SG_MIN((int64_t)STATS_CHUNK, n - i);
        for (int r = 0; r < k; r++) {
            const float *f = feat + (size_t)(i + r) * D;
            for (int j = 0; j < D; j++) chunk[(size_t)r * D + j] = (double)f[j] - mean[j];
        }
        sg_dsyrk_t(D, k, 1.0, chunk, i == 0 ? 0.0 : 1.0, cov);
    }
    for (size_t j = 0; j < (size_t)D * D; j++) cov[j] /= (double)(n - 1);
    sg_free(chunk);
    out->D = D;
    out->n = n;
    out->mean = mean;
    out->cov = cov;
    return SG_OK;
}

int sg_cnn_feature_stats(sg_cnn *m, const sg_image_data *data, sg_feature_stats *out,
                         sg_error *err)
{
    memset(out, 0, sizeof *out);
    if (data->rows != m->H || data->cols != m->W) {
        return sg_error_set(err, SG_EINVAL, "classifier: the data has %dx%d images, the model "
                            "%dx%d", data->rows, data->cols, m->H, m->W);
    }
    float *feat = sg_malloc_array((size_t)data->n * m->Hd, sizeof *feat);
    if (!feat) return sg_error_set(err, SG_ENOMEM, "classifier: out of memory for features");
    int rc = classify_data(m, data, NULL, feat, err);
    if (rc == SG_OK) rc = sg_feature_stats_compute(out, feat, data->n, m->Hd, err);
    sg_free(feat);
    return rc;
}

int sg_frechet_distance(const sg_feature_stats *a, const sg_feature_stats *b, double *out,
                        sg_error *err)
{
    if (a->D != b->D || a->D < 1) {
        return sg_error_set(err, SG_EINVAL, "Frechet distance: feature sizes %d and %d differ",
                            a->D, b->D);
    }
    int D = a->D;
    size_t DD = (size_t)D * D;
    double *V = sg_malloc_array(4 * DD + (size_t)D, sizeof *V);
    if (!V) return sg_error_set(err, SG_ENOMEM, "Frechet distance: out of memory (D = %d)", D);
    double *T = V + DD, *R = T + DD, *M = R + DD, *w = M + DD;
    int rc = SG_OK;
    double diff = 0.0, tr = 0.0;
    for (int j = 0; j < D; j++) {
        double d = a->mean[j] - b->mean[j];
        diff += d * d;
        tr += a->cov[(size_t)j * D + j] + b->cov[(size_t)j * D + j];
    }
    /* R = sqrt(S1) = V^T diag(sqrt w) V, rows of V the eigenvectors */
    memcpy(V, a->cov, DD * sizeof *V);
    int info = sg_dsyev(D, V, w);
    if (info) goto eig_fail;
    for (int i = 0; i < D; i++) {
        double s = sqrt(fmax(w[i], 0.0));
        for (int j = 0; j < D; j++) T[(size_t)i * D + j] = s * V[(size_t)i * D + j];
    }
    sg_dgemm(1, 0, D, D, D, 1.0, V, T, 0.0, R);
    /* M = R S2 R, symmetrised against rounding */
    sg_dgemm(0, 0, D, D, D, 1.0, R, b->cov, 0.0, T);
    sg_dgemm(0, 0, D, D, D, 1.0, T, R, 0.0, M);
    for (int i = 0; i < D; i++)
        for (int j = i + 1; j < D; j++) {
            double s = 0.5 * (M[(size_t)i * D + j] + M[(size_t)j * D + i]);
            M[(size_t)i * D + j] = M[(size_t)j * D + i] = s;
        }
    if ((info = sg_dsyev(D, M, w))) goto eig_fail;
    double tr_sqrt = 0.0;
    for (int i = 0; i < D; i++) tr_sqrt += sqrt(fmax(w[i], 0.0));
    *out = fmax(diff + tr - 2.0 * tr_sqrt, 0.0);
    sg_free(V);
    return SG_OK;
eig_fail:
    rc = info < 0 ? sg_error_set(err, SG_ENOMEM, "Frechet distance: out of memory")
                  : sg_error_set(err, SG_ENUMERIC, "Frechet distance: eigendecomposition did "
                                 "not converge (info %d)", info);
    sg_free(V);
    return rc;
}

/* ---------------------------------------------------------------------------
 * scoring generated images */

int sg_creative_evaluate(sg_dcgan *g, sg_cnn *clf, const sg_feature_stats *real,
                         int64_t n_per_class, uint64_t seed, sg_creative_score *out,
                         sg_error *err)
{
    int NC = sg_dcgan_n_classes(g);
    if (sg_dcgan_rows(g) != clf->H || sg_dcgan_cols(g) != clf->W || NC != clf->NC) {
        return sg_error_set(err, SG_EINVAL, "scoring: the generator makes %dx%d images of %d "
                            "classes, the classifier takes %dx%d images of %d classes",
                            sg_dcgan_rows(g), sg_dcgan_cols(g), NC, clf->H, clf->W, clf->NC);
    }
    if (real->D != clf->Hd) {
        return sg_error_set(err, SG_EINVAL, "scoring: real statistics have %d features, the "
                            "classifier %d", real->D, clf->Hd);
    }
    if (n_per_class < 1 || n_per_class * NC < 2 || n_per_class > ((int64_t)1 << 24)) {
        return sg_error_set(err, SG_EINVAL, "scoring: %lld images per class is not allowed",
                            (long long)n_per_class);
    }
    int64_t total = n_per_class * NC;
    size_t HW = (size_t)clf->H * clf->W;
    float *feat = sg_malloc_array((size_t)total * clf->Hd, sizeof *feat);
    float *img = sg_malloc_array((size_t)EVAL_CHUNK * HW, sizeof *img);
    int *lab = sg_malloc_array(EVAL_CHUNK, sizeof *lab);
    int *pred = sg_malloc_array(EVAL_CHUNK, sizeof *pred);
    int64_t *hits = sg_calloc((size_t)NC * 2, sizeof *hits);   /* correct, predicted-as */
    sg_feature_stats gen = {0};
    int rc = SG_OK;
    if (!feat || !img || !lab || !pred || !hits) {
        rc = sg_error_set(err, SG_ENOMEM, "scoring: out of memory for %lld images",
                          (long long)total);
        goto done;
    }
    sg_rng rng;
    sg_rng_init(&rng, seed);
    int64_t off = 0;
    for (int c = 0; c < NC; c++) {
        for (int64_t i = 0; i < n_per_class; i += EVAL_CHUNK) {
            int k = (int)SG_MIN((int64_t)EVAL_CHUNK, n_per_class - i);
            for (int j = 0; j < k; j++) lab[j] = c;
            if ((rc = sg_dcgan_generate(g, img, lab, k, &rng, err))) goto done;
            if ((rc = sg_cnn_classify(clf, img, k, pred, feat + (size_t)off * clf->Hd, err)))
                goto done;
            for (int j = 0; j < k; j++) {
                if (pred[j] == c) hits[2 * c]++;
                hits[2 * pred[j] + 1]++;
            }
            off += k;
        }
    }
    if ((rc = sg_feature_stats_compute(&gen, feat, total, clf->Hd, err))) goto done;
    double fd;
    if ((rc = sg_frechet_distance(real, &gen, &fd, err))) goto done;
    memset(out, 0, sizeof *out);
    out->n_classes = NC;
    out->n_per_class = n_per_class;
    int64_t ok = 0;
    for (int c = 0; c < NC; c++) {
        ok += hits[2 * c];
        out->class_accuracy[c] = (double)hits[2 * c] / (double)n_per_class;
        out->coverage[c] = (double)hits[2 * c + 1] / (double)total;
        if (out->coverage[c] >= 0.5 / NC) out->n_covered++;
    }
    out->accuracy = (double)ok / (double)total;
    out->frechet = fd;
done:
    sg_feature_stats_deinit(&gen);
    sg_free(feat);
    sg_free(img);
    sg_free(lab);
    sg_free(pred);
    sg_free(hits);
    return rc;
}

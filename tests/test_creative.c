/* test_creative.c -- IDX reader, PNG writer, symmetric eigensolver, Frechet distance,
 * the DCGAN and the CNN classifier (creative.h).
 *
 * dcgan.c is included (llm.c's TESTING approach) so that creative-4.1 can check
 * the whole discriminator and generator backward passes, static functions, against
 * central differences; its object file is then not needed from the library.  The
 * networks here are tiny (8x8 images, 3 classes, a handful of channels) so that
 * everything runs in well under a second.  Files go to a fresh folder under
 * /tmp, removed at the end. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#define TESTING
#include "../src/models/dcgan.c"

#include "stratagem/creative.h"
#include "stratagem/idx.h"
#include "stratagem/linalg.h"
#include "stratagem/log.h"
#include "stratagem/mem.h"
#include "stratagem/png.h"

#define SEED 777u

static char g_dir[64];   /* scratch folder of this run */

/* ---------------------------------------------------------------------------
 * helpers */

static const char *path_in(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", g_dir, name);
    return buf;
}

/* Write bytes to 'name' in the scratch folder, gzipped when 'gz'. */
static void write_file(const char *name, const void *data, size_t n, int gz)
{
    char p[256];
    path_in(p, sizeof p, name);
    if (gz) {
        gzFile f = gzopen(p, "wb");
        assert_non_null(f);
        assert_int_equal(gzwrite(f, data, (unsigned)n), (int)n);
        assert_int_equal(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(p, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, n, f), n);
        fclose(f);
    }
}

/* An IDX u8 file image in buf: magic 0x0000 08 ndim, big-endian dims, then body. */
static size_t idx_bytes(unsigned char *buf, int ndim, const uint32_t *dims, const uint8_t *body,
                        size_t n_body)
{
    size_t k = 0;
    buf[k++] = 0;
    buf[k++] = 0;
    buf[k++] = 0x08;
    buf[k++] = (unsigned char)ndim;
    for (int d = 0; d < ndim; d++) {
        buf[k++] = (unsigned char)(dims[d] >> 24);
        buf[k++] = (unsigned char)(dims[d] >> 16);
        buf[k++] = (unsigned char)(dims[d] >> 8);
        buf[k++] = (unsigned char)dims[d];
    }
    memcpy(buf + k, body, n_body);
    return k + n_body;
}

static void expect_error(int rc, int code, const sg_error *e, const char *needle)
{
    if (rc != code || !strstr(e->msg, needle)) {
        print_error("rc %d (expected %d), message \"%s\" (expected to contain \"%s\")\n", rc,
                    code, e->msg, needle);
        fail();
    }
}

/* Tiny synthetic image set: n images of R x C with 3 classes; class k is bright in
 * band k of the rows (plus noise), so a classifier can learn it. */
static void make_images(sg_image_data *d, int64_t n, int R, int C, sg_rng *r)
{
    d->n = n;
    d->rows = R;
    d->cols = C;
    d->pixels = sg_malloc((size_t)n * R * C);
    d->labels = sg_malloc((size_t)n);
    assert_non_null(d->pixels);
    assert_non_null(d->labels);
    for (int64_t i = 0; i < n; i++) {
        int y = (int)(i % 3);
        d->labels[i] = (uint8_t)y;
        for (int a = 0; a < R; a++)
            for (int b = 0; b < C; b++) {
                int band = a * 3 / R == y;
                double v = (band ? 200.0 : 30.0) + 40.0 * sg_rng_uniform(r);
                d->pixels[((size_t)i * R + a) * C + b] = (uint8_t)v;
            }
    }
}

static void tiny_opts(sg_dcgan_opts *o)
{
    sg_dcgan_opts_default(o);
    o->z_dim = 4;
    o->g_channels = 4;
    o->d_channels = 4;
    o->batch_size = 4;
    o->seed = SEED;
}

/* The whole saved file, read back (owned; sg_free). */
static unsigned char *slurp(const char *p, size_t *n)
{
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    unsigned char *b = sg_malloc((size_t)size + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *n = (size_t)size;
    return b;
}

/* ---------------------------------------------------------------------------
 * creative-1: IDX files and the dataset folder */

/* creative-1.1: gzipped and plain IDX files read back with their sizes */
static void idx_round_trip(void **state)
{
    (void)state;
    uint8_t body[18];
    for (int i = 0; i < 18; i++) body[i] = (uint8_t)(i * 13);
    unsigned char buf[64];
    uint32_t dims[3] = {3, 2, 3};
    size_t n = idx_bytes(buf, 3, dims, body, sizeof body);
    for (int gz = 0; gz < 2; gz++) {
        char p[256];
        write_file(gz ? "a.idx.gz" : "a.idx", buf, n, gz);
        int64_t got[3];
        uint8_t *data = NULL;
        sg_error e = {0};
        assert_int_equal(sg_idx_read_u8(path_in(p, sizeof p, gz ? "a.idx.gz" : "a.idx"), 3, got,
                                        &data, &e), SG_OK);
        assert_true(got[0] == 3 && got[1] == 2 && got[2] == 3);
        assert_memory_equal(data, body, sizeof body);
        sg_free(data);
    }
}

/* creative-1.2: bad magic, other type, wrong dimension count, truncated body, truncated
 * gzip stream, trailing bytes and a missing file give errors saying so */
static void idx_errors(void **state)
{
    (void)state;
    uint8_t body[18] = {0};
    unsigned char buf[64];
    uint32_t dims[3] = {3, 2, 3};
    size_t n = idx_bytes(buf, 3, dims, body, sizeof body);
    char p[256];
    int64_t got[3];
    uint8_t *data = NULL;
    sg_error e = {0};

    unsigned char bad[64];
    memcpy(bad, buf, n);
    bad[0] = 0x1f;   /* not 0x0000... */
    write_file("magic.gz", bad, n, 1);
    expect_error(sg_idx_read_u8(path_in(p, sizeof p, "magic.gz"), 3, got, &data, &e),
                 SG_EPARSE, &e, "not an IDX file");
    memcpy(bad, buf, n);
    bad[2] = 0x0d;   /* float elements */
    write_file("type.gz", bad, n, 1);
    expect_error(sg_idx_read_u8(path_in(p, sizeof p, "type.gz"), 3, got, &data, &e), SG_EPARSE,
                 &e, "element type 0x0d");
    write_file("ndim.gz", buf, n, 1);
    expect_error(sg_idx_read_u8(path_in(p, sizeof p, "ndim.gz"), 1, got, &data, &e), SG_EPARSE,
                 &e, "has 3 dimensions, expected 1");
    write_file("short.gz", buf, n - 5, 1);   /* header says 18 bytes, 13 present */
    expect_error(sg_idx_read_u8(path_in(p, sizeof p, "short.gz"), 3, got, &data, &e),
                 SG_EPARSE, &e, "truncated file: the IDX body needs 18 bytes, only 13");
    write_file("long.gz", buf, n + 1, 1);
    expect_error(sg_idx_read_u8(path_in(p, sizeof p, "long.gz"), 3, got, &data, &e), SG_EPARSE,
                 &e, "trailing bytes");
    /* a gzip stream cut in the middle: zlib reports it, never silently short data */
    uint8_t big[4000];
    for (int i = 0; i < 4000; i++) big[i] = (uint8_t)(i * 7919 >> 3);
    unsigned char bigbuf[4100];
    uint32_t bd[3] = {10, 20, 20};
    size_t bn = idx_bytes(bigbuf, 3, bd, big, sizeof big);
    write_file("cut.gz", bigbuf, bn, 1);
    size_t zn;
    unsigned char *z = slurp(path_in(p, sizeof p, "cut.gz"), &zn);
    write_file("cut.gz", z, zn / 2, 0);
    sg_free(z);
    int rc = sg_idx_read_u8(path_in(p, sizeof p, "cut.gz"), 3, got, &data, &e);
    if (!(rc == SG_EPARSE || rc == SG_EIO) || !strstr(e.msg, "cut.gz")) {
        print_error("cut gzip: rc %d, \"%s\"\n", rc, e.msg);
        fail();
    }
    expect_error(sg_idx_read_u8(path_in(p, sizeof p, "none.gz"), 3, got, &data, &e), SG_EIO,
                 &e, "cannot open");
    assert_null(data);
}

/* creative-1.3: a dataset folder loads; count mismatch, a label beyond the classes
 * and a bad classes.csv are errors naming the file (and line) */
static void dataset_folder(void **state)
{
    (void)state;
    uint8_t px[2 * 4 * 4], lab[3] = {0, 2, 1};
    for (int i = 0; i < 32; i++) px[i] = (uint8_t)i;
    unsigned char buf[128];
    uint32_t idims[3] = {2, 4, 4}, ldims[1] = {2};
    write_file("x-images-idx3-ubyte.gz", buf, idx_bytes(buf, 3, idims, px, 32), 1);
    write_file("x-labels-idx1-ubyte.gz", buf, idx_bytes(buf, 1, ldims, lab, 2), 1);
    sg_image_data d;
    sg_error e = {0};
    assert_int_equal(sg_image_data_load(&d, g_dir, "x", 3, &e), SG_OK);
    assert_true(d.n == 2 && d.rows == 4 && d.cols == 4 && d.labels[1] == 2);
    assert_int_equal(d.pixels[31], 31);
    sg_image_data_deinit(&d);
    expect_error(sg_image_data_load(&d, g_dir, "x", 2, &e), SG_EPARSE, &e, "label 2 of item 1");
    assert_null(d.pixels);
    ldims[0] = 3;
    write_file("x-labels-idx1-ubyte.gz", buf, idx_bytes(buf, 1, ldims, lab, 3), 1);
    expect_error(sg_image_data_load(&d, g_dir, "x", 3, &e), SG_EPARSE, &e, "holds 3 labels");

    const char good[] = "label,name\n0,T-shirt/top\n1,\"Ankle boot\"\r\n2,Bag\n";
    const char skip[] = "label,name\n0,A\n2,B\n";
    char p[256];
    write_file("classes.csv", good, sizeof good - 1, 0);
    char **names = NULL;
    int n = 0;
    assert_int_equal(sg_idx_read_class_names(path_in(p, sizeof p, "classes.csv"), &names, &n,
                                             &e), SG_OK);
    assert_int_equal(n, 3);
    assert_string_equal(names[0], "T-shirt/top");
    assert_string_equal(names[1], "Ankle boot");
    assert_string_equal(names[2], "Bag");
    sg_idx_names_free(names, n);
    write_file("skip.csv", skip, sizeof skip - 1, 0);
    expect_error(sg_idx_read_class_names(path_in(p, sizeof p, "skip.csv"), &names, &n, &e),
                 SG_EPARSE, &e, "skip.csv:3: label \"2\": expected 1");
}

/* ---------------------------------------------------------------------------
 * creative-2: PNG */

/* creative-2.1: a grid written with libpng reads back pixel for pixel; the empty cell
 * and the padding hold the background; a bad folder is an I/O error */
static void png_grid_round_trip(void **state)
{
    (void)state;
    int n = 5, R = 3, C = 4, cols = 3, pad = 1;
    uint8_t img[5 * 3 * 4];
    for (int i = 0; i < n * R * C; i++) img[i] = (uint8_t)(10 + i * 4);
    char p[256];
    sg_error e = {0};
    assert_int_equal(sg_png_write_grid(path_in(p, sizeof p, "g.png"), img, n, R, C, cols, pad,
                                       7, &e), SG_OK);
    uint8_t *back = NULL;
    int h = 0, w = 0;
    assert_int_equal(sg_png_read_gray(p, &back, &h, &w, &e), SG_OK);
    assert_int_equal(h, 2 * (R + pad) + pad);
    assert_int_equal(w, cols * (C + pad) + pad);
    for (int k = 0; k < n; k++) {
        int gr = k / cols, gc = k % cols;
        for (int a = 0; a < R; a++)
            for (int b = 0; b < C; b++) {
                int y = gr * (R + pad) + pad + a, x = gc * (C + pad) + pad + b;
                assert_int_equal(back[y * w + x], img[(k * R + a) * C + b]);
            }
    }
    assert_int_equal(back[0], 7);                                   /* frame */
    assert_int_equal(back[(h - 2) * w + (w - 2)], 7);               /* the empty sixth cell */
    sg_free(back);
    expect_error(sg_png_write_gray("/nonexistent-dir/x.png", img, R, C, &e), SG_EIO, &e,
                 "cannot write");
    expect_error(sg_png_read_gray(path_in(p, sizeof p, "classes.csv"), &back, &h, &w, &e),
                 SG_EIO, &e, "cannot read PNG");
}

/* ---------------------------------------------------------------------------
 * creative-3: eigensolver and Frechet distance */

/* Random orthogonal D x D matrix (rows) by Gram-Schmidt. */
static void random_orthogonal(double *Q, int D, sg_rng *r)
{
    for (int i = 0; i < D; i++) {
        double *q = Q + (size_t)i * D;
        for (int j = 0; j < D; j++) q[j] = sg_rng_normal(r);
        for (int k = 0; k < i; k++) {
            double d = sg_ddot(D, q, Q + (size_t)k * D);
            sg_daxpy(D, -d, Q + (size_t)k * D, q);
        }
        double nrm = sqrt(sg_ddot(D, q, q));
        for (int j = 0; j < D; j++) q[j] /= nrm;
    }
}

/* A = Q^T diag(l) Q */
static void compose(double *A, const double *Q, const double *l, int D)
{
    for (int i = 0; i < D; i++)
        for (int j = 0; j < D; j++) {
            double s = 0;
            for (int k = 0; k < D; k++) s += Q[(size_t)k * D + i] * l[k] * Q[(size_t)k * D + j];
            A[(size_t)i * D + j] = s;
        }
}

/* creative-3.1: sg_dsyev (LAPACK) and its Jacobi reference agree on the eigenvalues of a
 * known spectrum, and both rebuild A from their eigenvectors */
static void eigen_solver(void **state)
{
    (void)state;
    enum { D = 12 };
    sg_rng r;
    sg_rng_init(&r, SEED);
    double Q[D * D], l[D], A[D * D], work[2][D * D], w[2][D];
    random_orthogonal(Q, D, &r);
    for (int i = 0; i < D; i++) l[i] = (double)(i % 5) - 1.5 + 0.1 * i;  /* mixed signs */
    compose(A, Q, l, D);
    double sorted[D];
    memcpy(sorted, l, sizeof l);
    for (int i = 1; i < D; i++)
        for (int j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
            double t = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = t;
        }
    for (int v = 0; v < 2; v++) {
        memcpy(work[v], A, sizeof A);
        assert_int_equal(v ? sg_dsyev_ref(D, work[v], w[v]) : sg_dsyev(D, work[v], w[v]), 0);
        for (int i = 0; i < D; i++) assert_true(fabs(w[v][i] - sorted[i]) < 1e-10);
        double maxd = 0;
        for (int i = 0; i < D; i++)
            for (int j = 0; j < D; j++) {
                double s = 0;
                for (int k = 0; k < D; k++)
                    s += w[v][k] * work[v][(size_t)k * D + i] * work[v][(size_t)k * D + j];
                maxd = fmax(maxd, fabs(s - A[(size_t)i * D + j]));
            }
        assert_true(maxd < 1e-10);
    }
}

/* creative-3.2: Frechet distance of a set with itself is 0, of a shifted copy |shift|^2,
 * of commuting Gaussians |dm|^2 + sum (sqrt a - sqrt b)^2 (rotated, so not diagonal) */
static void frechet_distance(void **state)
{
    (void)state;
    enum { D = 6, N = 400 };
    sg_rng r;
    sg_rng_init(&r, SEED);
    float *f = sg_malloc(sizeof(float) * N * D), *g = sg_malloc(sizeof(float) * N * D);
    assert_non_null(f);
    assert_non_null(g);
    double shift2 = 0.0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++) {
            /* correlated columns: each leans on column 0 */
            double v = sg_rng_normal(&r) * (1.0 + j) + (j > 0 ? 0.5 * (double)f[i * D] : 0.0);
            f[i * D + j] = (float)v;
            g[i * D + j] = f[i * D + j] + (float)(0.25 * j);
        }
    for (int j = 0; j < D; j++) shift2 += 0.0625 * j * j;
    sg_feature_stats a, b;
    sg_error e = {0};
    double fd;
    assert_int_equal(sg_feature_stats_compute(&a, f, N, D, &e), SG_OK);
    assert_int_equal(sg_feature_stats_compute(&b, g, N, D, &e), SG_OK);
    assert_int_equal(sg_frechet_distance(&a, &a, &fd, &e), SG_OK);
    assert_true(fd < 1e-8);
    assert_int_equal(sg_frechet_distance(&a, &b, &fd, &e), SG_OK);
    assert_true(fabs(fd - shift2) < 1e-3 * shift2);
    sg_feature_stats_deinit(&b);
    /* closed form from given statistics */
    double Q[D * D], la[D], lb[D], want = 0.0;
    random_orthogonal(Q, D, &r);
    sg_feature_stats s1 = a, s2 = a;   /* reuse a's arrays for s1; s2 gets its own */
    s2.mean = sg_malloc(sizeof(double) * D);
    s2.cov = sg_malloc(sizeof(double) * D * D);
    assert_non_null(s2.mean);
    assert_non_null(s2.cov);
    for (int j = 0; j < D; j++) {
        la[j] = 0.5 + j;
        lb[j] = j == 2 ? 0.0 : 2.0 + 0.3 * j;   /* one singular direction */
        s1.mean[j] = 0.1 * j;
        s2.mean[j] = -0.2 * j;
        want += 0.09 * j * j + pow(sqrt(la[j]) - sqrt(lb[j]), 2);
    }
    compose(s1.cov, Q, la, D);
    compose(s2.cov, Q, lb, D);
    assert_int_equal(sg_frechet_distance(&s1, &s2, &fd, &e), SG_OK);
    assert_true(fabs(fd - want) < 1e-6 * want);
    s2.D = D + 1;
    expect_error(sg_frechet_distance(&s1, &s2, &fd, &e), SG_EINVAL, &e, "sizes 6 and 7");
    s2.D = D;
    sg_feature_stats_deinit(&s2);
    sg_feature_stats_deinit(&a);
    expect_error(sg_feature_stats_compute(&a, f, 1, D, &e), SG_EINVAL, &e, "n >= 2");
    sg_free(f);
    sg_free(g);
}

/* ---------------------------------------------------------------------------
 * creative-4: the DCGAN */

/* Objective for the gradient check: D's loss (real + fake) when 'which' is 0, G's
 * loss through D when 1, with fixed inputs (gin, xr, labels) and no update. */
typedef struct gan_ctx {
    sg_dcgan *g;
    int which;
} gan_ctx;

static double gan_obj(void *p)
{
    gan_ctx *c = p;
    sg_dcgan *g = c->g;
    int B = g->o.batch_size;
    double pr;
    g_forward(g, B, 1, 0.0f);
    if (c->which == 0) {
        d_forward(g, g->xr, g->yr, B);
        double l = gan_d_loss(g->dlogit, g->tgt, g->logit, 1.0f, B, &pr);
        d_forward(g, g->g_x, g->yf, B);
        return l + gan_d_loss(g->dlogit, g->tgt, g->logit, 0.0f, B, &pr);
    }
    d_forward(g, g->g_x, g->yf, B);
    return gan_g_loss(g->dlogit, g->tgt, g->logit, B);
}

/* Central differences on up to 'k' spread entries of every tensor of block 'p';
 * returns the share of entries within 1e-2 relative error, and the worst error.
 * eps is 1e-3, not the 1e-2 of the layer tests: through a whole network a step of
 * 1e-2 moves enough pre-activations across the (leaky) ReLU kinks to spoil ~15% of
 * the estimates; the loss is summed in double, so float noise stays ~1e-4. */
static double check_block(gan_ctx *c, sg_params *p, int k, double *worst)
{
    int ok = 0, total = 0;
    *worst = 0.0;
    for (int t = 0; t < sg_params_n_tensors(p); t++) {
        float *x = sg_params_tensor(p, t), *gr = sg_params_grad(p, t);
        size_t n = sg_params_size(p, t), step = n > (size_t)k ? n / (size_t)k : 1;
        for (size_t i = 0; i < n; i += step) {
            float x0 = x[i], eps = 1e-3f;
            x[i] = x0 + eps;
            double fp = gan_obj(c);
            x[i] = x0 - eps;
            double fm = gan_obj(c);
            x[i] = x0;
            double num = (fp - fm) / (2.0 * (double)eps), a = (double)gr[i];
            double rel = fabs(a - num) / fmax(fmax(fabs(a), fabs(num)), 1e-2);
            if (rel > *worst) *worst = rel;
            if (rel > 1e-2) {
                print_message("%s[%zu]: analytic %.6g numeric %.6g\n", sg_params_name(p, t), i,
                              a, num);
            }
            ok += rel <= 1e-2;
            total++;
        }
    }
    return (double)ok / total;
}

/* creative-4.1: discriminator and generator backward (every layer, the projection head,
 * both losses) == central differences of the losses, on a tiny network */
static void gan_gradients(void **state)
{
    (void)state;
    sg_dcgan_opts o;
    tiny_opts(&o);
    o.batch_size = 6;
    sg_dcgan *g = NULL;
    sg_error e = {0};
    assert_int_equal(sg_dcgan_new(&g, &o, 8, 8, 3, NULL, &e), SG_OK);
    /* larger weights than the DCGAN init, so the gradients are not all tiny */
    float *pd = sg_params_data(g->d), *pg = sg_params_data(g->g);
    sg_rng r;
    sg_rng_init(&r, SEED);
    for (size_t i = 0; i < sg_params_count(g->d); i++) pd[i] += 0.3f * (float)sg_rng_normal(&r);
    for (size_t i = 0; i < sg_params_count(g->g); i++) pg[i] += 0.3f * (float)sg_rng_normal(&r);
    assert_int_equal(ensure_workspace(g, &e), SG_OK);
    int B = o.batch_size;
    for (int b = 0; b < B; b++) {
        g->yr[b] = b % 3;
        g->yf[b] = (b + 1) % 3;
        for (int i = 0; i < 64; i++) g->xr[b * 64 + i] = (float)(2.0 * sg_rng_uniform(&r) - 1.0);
    }
    g_input(g, g->yf, B, &r);
    gan_ctx c = {g, 0};
    /* analytic D gradients, as train_step computes them */
    sg_params_zero_grad(g->d);
    gan_obj(&c);
    double pr;
    d_forward(g, g->xr, g->yr, B);
    gan_d_loss(g->dlogit, g->tgt, g->logit, 1.0f, B, &pr);
    d_backward(g, NULL, g->xr, g->yr, B, 1);
    d_forward(g, g->g_x, g->yf, B);
    gan_d_loss(g->dlogit, g->tgt, g->logit, 0.0f, B, &pr);
    d_backward(g, NULL, g->g_x, g->yf, B, 1);
    double worst, share = check_block(&c, g->d, 12, &worst);
    print_message("discriminator: %.0f%% of entries within 1e-2, worst %.3g\n", 100 * share,
                  worst);
    assert_true(share >= 0.97 && worst < 0.1);
    /* analytic G gradients */
    c.which = 1;
    sg_params_zero_grad(g->g);
    sg_params_zero_grad(g->d);
    gan_obj(&c);
    d_backward(g, g->dx, g->g_x, g->yf, B, 0);
    g_backward(g, g->dx, B);
    share = check_block(&c, g->g, 12, &worst);
    print_message("generator: %.0f%% of entries within 1e-2, worst %.3g\n", 100 * share, worst);
    assert_true(share >= 0.97 && worst < 0.1);
    sg_dcgan_free(g);
}

/* creative-4.2: same seed -> identical model bytes after training; another seed differs;
 * save, load and train on == train straight through (Adam and RNG state are saved) */
static void gan_determinism(void **state)
{
    (void)state;
    sg_rng r;
    sg_rng_init(&r, SEED);
    sg_image_data d;
    make_images(&d, 16, 8, 8, &r);
    sg_dcgan_opts o;
    tiny_opts(&o);
    const char *names[] = {"Top", "Middle", "Bottom"};
    char p[3][256];
    sg_error e = {0};
    for (int run = 0; run < 3; run++) {
        sg_dcgan *g = NULL;
        o.seed = run == 2 ? SEED + 1 : SEED;
        assert_int_equal(sg_dcgan_new(&g, &o, 8, 8, 3, names, &e), SG_OK);
        sg_dcgan_stats st;
        assert_int_equal(sg_dcgan_train_epoch(g, &d, 0, &st, &e), SG_OK);
        assert_true(st.steps == 4 && isfinite(st.d_loss) && isfinite(st.g_loss));
        assert_true(st.d_real > 0 && st.d_real < 1 && st.d_fake > 0 && st.d_fake < 1);
        assert_int_equal(sg_dcgan_train_epoch(g, &d, 8, &st, &e), SG_OK);   /* a subset */
        assert_true(st.steps == 2 && sg_dcgan_steps(g) == 6 && sg_dcgan_epochs(g) == 2);
        char name[32];
        snprintf(name, sizeof name, "gan%d.sgm", run);
        assert_int_equal(sg_dcgan_save(g, path_in(p[run], sizeof p[run], name), &e), SG_OK);
        sg_dcgan_free(g);
    }
    size_t n0, n1, n2;
    unsigned char *b0 = slurp(p[0], &n0), *b1 = slurp(p[1], &n1), *b2 = slurp(p[2], &n2);
    assert_true(n0 == n1 && n0 == n2);
    assert_memory_equal(b0, b1, n0);
    assert_memory_not_equal(b0, b2, n0);
    /* resume: one epoch, save, load, one more == the straight run */
    sg_dcgan *g = NULL;
    o.seed = SEED;
    assert_int_equal(sg_dcgan_new(&g, &o, 8, 8, 3, names, &e), SG_OK);
    assert_int_equal(sg_dcgan_train_epoch(g, &d, 0, NULL, &e), SG_OK);
    assert_int_equal(sg_dcgan_save(g, p[1], &e), SG_OK);
    sg_dcgan_free(g);
    g = NULL;
    assert_int_equal(sg_dcgan_load(&g, p[1], &e), SG_OK);
    assert_int_equal(sg_dcgan_train_epoch(g, &d, 8, NULL, &e), SG_OK);
    assert_int_equal(sg_dcgan_save(g, p[1], &e), SG_OK);
    sg_dcgan_free(g);
    sg_free(b1);
    b1 = slurp(p[1], &n1);
    assert_true(n1 == n0);
    assert_memory_equal(b0, b1, n0);
    sg_free(b0);
    sg_free(b1);
    sg_free(b2);
    sg_image_data_deinit(&d);
}

/* creative-4.3: a loaded model generates the same images; generation is per image
 * (batch norm from stored statistics); outputs lie in [-1,1]; class lookup by name,
 * case and number; bad labels and a wrong image size are errors */
static void gan_save_load_generate(void **state)
{
    (void)state;
    sg_rng r;
    sg_rng_init(&r, SEED);
    sg_image_data d;
    make_images(&d, 12, 8, 8, &r);
    sg_dcgan_opts o;
    tiny_opts(&o);
    const char *names[] = {"Sneaker", "Bag", "Ankle boot"};
    sg_dcgan *g = NULL, *h = NULL;
    sg_error e = {0};
    assert_int_equal(sg_dcgan_new(&g, &o, 8, 8, 3, names, &e), SG_OK);
    assert_int_equal(sg_dcgan_train_epoch(g, &d, 0, NULL, &e), SG_OK);
    char p[256];
    assert_int_equal(sg_dcgan_save(g, path_in(p, sizeof p, "g.sgm"), &e), SG_OK);
    assert_int_equal(sg_dcgan_load(&h, p, &e), SG_OK);
    assert_int_equal(sg_dcgan_class_index(h, "Bag"), 1);
    assert_int_equal(sg_dcgan_class_index(h, "ankle BOOT"), 2);
    assert_int_equal(sg_dcgan_class_index(h, "0"), 0);
    assert_int_equal(sg_dcgan_class_index(h, "3"), -1);
    assert_int_equal(sg_dcgan_class_index(h, "Shirt"), -1);
    int lab[6] = {0, 1, 2, 2, 1, 0};
    float a[6 * 64], b[6 * 64], one[64];
    sg_rng ra, rb, rc;
    sg_rng_init(&ra, 5);
    sg_rng_init(&rb, 5);
    sg_rng_init(&rc, 5);
    assert_int_equal(sg_dcgan_generate(g, a, lab, 6, &ra, &e), SG_OK);
    assert_int_equal(sg_dcgan_generate(h, b, lab, 6, &rb, &e), SG_OK);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(sg_dcgan_generate(h, one, lab, 1, &rc, &e), SG_OK);
    /* a batch of one goes through other BLAS kernels than a batch of six:
     * equal up to rounding, not bit for bit */
    for (int i = 0; i < 64; i++) assert_true(fabsf(one[i] - a[i]) <= 1e-4f);
    for (int i = 0; i < 6 * 64; i++) assert_true(a[i] >= -1.0f && a[i] <= 1.0f);
    lab[3] = 3;
    expect_error(sg_dcgan_generate(h, b, lab, 6, &rb, &e), SG_EINVAL, &e, "label 3");
    sg_image_data big = d;
    big.rows = 12;
    expect_error(sg_dcgan_train_epoch(h, &big, 0, NULL, &e), SG_EINVAL, &e, "12x8");
    expect_error(sg_dcgan_train_epoch(h, &d, 3, NULL, &e), SG_EINVAL, &e, "fewer than one");
    sg_dcgan_free(g);
    sg_dcgan_free(h);
    sg_image_data_deinit(&d);
}

/* creative-4.4: truncated, corrupt and wrong-kind model files are clear errors */
static void gan_bad_files(void **state)
{
    (void)state;
    sg_dcgan_opts o;
    tiny_opts(&o);
    sg_dcgan *g = NULL;
    sg_error e = {0};
    char p[256], q[256], c[256];
    assert_int_equal(sg_dcgan_new(&g, &o, 8, 8, 3, NULL, &e), SG_OK);
    assert_int_equal(sg_dcgan_save(g, path_in(p, sizeof p, "full.sgm"), &e), SG_OK);
    sg_dcgan_free(g);
    g = NULL;
    size_t n;
    unsigned char *b = slurp(p, &n);
    path_in(q, sizeof q, "trunc.sgm");
    FILE *f = fopen(q, "wb");
    assert_non_null(f);
    fwrite(b, 1, n / 2, f);
    fclose(f);
    expect_error(sg_dcgan_load(&g, q, &e), SG_EPARSE, &e, "truncated");
    assert_null(g);
    b[n / 3] ^= 0x55;   /* one flipped byte */
    f = fopen(q, "wb");
    fwrite(b, 1, n, f);
    fclose(f);
    expect_error(sg_dcgan_load(&g, q, &e), SG_EPARSE, &e, "checksum");
    sg_free(b);
    sg_cnn_opts co;
    sg_cnn_opts_default(&co);
    co.c1 = 2;
    co.c2 = 2;
    co.hidden = 4;
    sg_cnn *m = NULL;
    assert_int_equal(sg_cnn_new(&m, &co, 8, 8, 3, &e), SG_OK);
    assert_int_equal(sg_cnn_save(m, path_in(c, sizeof c, "clf.sgm"), &e), SG_OK);
    sg_cnn_free(m);
    m = NULL;
    expect_error(sg_dcgan_load(&g, c, &e), SG_EPARSE, &e, "image classifier, not a generator");
    expect_error(sg_cnn_load(&m, p, &e), SG_EPARSE, &e, "not an image classifier");
    int kind = 0;
    assert_int_equal(sg_creative_model_kind(p, &kind, &e), SG_OK);
    assert_int_equal(kind, SG_CREATIVE_GAN);
    assert_int_equal(sg_creative_model_kind(c, &kind, &e), SG_OK);
    assert_int_equal(kind, SG_CREATIVE_CLASSIFIER);
    assert_null(g);
    assert_null(m);
}

/* creative-4.5: every allocation failure during new + a training epoch + generation +
 * save gives SG_ENOMEM and leaks nothing, until the whole sequence passes */
static void gan_alloc_failures(void **state)
{
    (void)state;
    sg_rng r;
    sg_rng_init(&r, SEED);
    sg_image_data d;
    make_images(&d, 8, 8, 8, &r);
    sg_dcgan_opts o;
    tiny_opts(&o);
    char p[256];
    path_in(p, sizeof p, "fail.sgm");
    int64_t before = sg_mem_live_bytes();
    int done = 0, failures = 0;
    for (int64_t k = 0; k < 200 && !done; k++) {
        sg_error e = {0};
        sg_dcgan *g = NULL;
        int lab[2] = {0, 2};
        float out[2 * 64];
        sg_rng gr;
        sg_rng_init(&gr, 1);
        sg_mem_fail_after(k);
        int rc = sg_dcgan_new(&g, &o, 8, 8, 3, NULL, &e);
        if (rc == SG_OK) rc = sg_dcgan_train_epoch(g, &d, 0, NULL, &e);
        if (rc == SG_OK) rc = sg_dcgan_generate(g, out, lab, 2, &gr, &e);
        if (rc == SG_OK) rc = sg_dcgan_save(g, p, &e);
        sg_mem_fail_after(-1);
        sg_dcgan_free(g);
        if (rc == SG_OK) {
            done = 1;
        } else {
            failures++;
            if (rc != SG_ENOMEM) print_error("k %lld: rc %d: %s\n", (long long)k, rc, e.msg);
            assert_int_equal(rc, SG_ENOMEM);
        }
        assert_int_equal(sg_mem_live_bytes(), before);
    }
    assert_true(done);
    assert_true(failures >= 10);
    sg_image_data_deinit(&d);
}

/* ---------------------------------------------------------------------------
 * creative-5: classifier and scores */

/* creative-5.1: the CNN learns a 3-class toy task to 100%; save/load keeps its
 * predictions and features; the score of a GAN is well formed and repeatable */
static void cnn_and_score(void **state)
{
    (void)state;
    sg_rng r;
    sg_rng_init(&r, SEED);
    sg_image_data d;
    make_images(&d, 60, 8, 8, &r);
    sg_cnn_opts co;
    sg_cnn_opts_default(&co);
    co.c1 = 4;
    co.c2 = 8;
    co.hidden = 16;
    co.batch_size = 16;
    co.lr = 1e-2f;
    sg_cnn *m = NULL, *m2 = NULL;
    sg_error e = {0};
    assert_int_equal(sg_cnn_new(&m, &co, 8, 8, 3, &e), SG_OK);
    double loss0 = 0, loss = 0, acc = 0, cls[3];
    for (int ep = 0; ep < 8; ep++) {
        assert_int_equal(sg_cnn_train_epoch(m, &d, 0, &loss, &e), SG_OK);
        if (ep == 0) loss0 = loss;
    }
    assert_int_equal(sg_cnn_accuracy(m, &d, &acc, cls, &e), SG_OK);
    print_message("toy classifier: loss %.3f -> %.3f, accuracy %.3f\n", loss0, loss, acc);
    assert_true(loss < 0.5 * loss0);
    assert_true(acc == 1.0 && cls[0] == 1.0 && cls[2] == 1.0);
    char p[256];
    assert_int_equal(sg_cnn_save(m, path_in(p, sizeof p, "cnn.sgm"), &e), SG_OK);
    assert_int_equal(sg_cnn_load(&m2, p, &e), SG_OK);
    float x[4 * 64], f1[4 * 16], f2[4 * 16];
    int p1[4], p2[4];
    sg_images_to_float(x, d.pixels, 4 * 64);
    assert_int_equal(sg_cnn_classify(m, x, 4, p1, f1, &e), SG_OK);
    assert_int_equal(sg_cnn_classify(m2, x, 4, p2, f2, &e), SG_OK);
    assert_memory_equal(p1, p2, sizeof p1);
    assert_memory_equal(f1, f2, sizeof f1);

    sg_feature_stats real;
    assert_int_equal(sg_cnn_feature_stats(m2, &d, &real, &e), SG_OK);
    assert_int_equal(real.D, 16);
    sg_dcgan_opts o;
    tiny_opts(&o);
    sg_dcgan *g = NULL;
    assert_int_equal(sg_dcgan_new(&g, &o, 8, 8, 3, NULL, &e), SG_OK);
    assert_int_equal(sg_dcgan_train_epoch(g, &d, 0, NULL, &e), SG_OK);
    sg_creative_score s1, s2;
    assert_int_equal(sg_creative_evaluate(g, m2, &real, 10, 3, &s1, &e), SG_OK);
    assert_int_equal(sg_creative_evaluate(g, m2, &real, 10, 3, &s2, &e), SG_OK);
    assert_memory_equal(&s1, &s2, sizeof s1);
    double cov = 0, mean_acc = 0;
    for (int c = 0; c < 3; c++) {
        cov += s1.coverage[c];
        mean_acc += s1.class_accuracy[c] / 3;
    }
    assert_true(fabs(cov - 1.0) < 1e-12 && fabs(mean_acc - s1.accuracy) < 1e-12);
    assert_true(isfinite(s1.frechet) && s1.frechet >= 0 && s1.n_covered <= 3);
    real.D = 15;
    expect_error(sg_creative_evaluate(g, m2, &real, 10, 3, &s1, &e), SG_EINVAL, &e,
                 "15 features");
    real.D = 16;
    sg_feature_stats_deinit(&real);
    sg_dcgan_free(g);
    sg_cnn_free(m);
    sg_cnn_free(m2);
    sg_image_data_deinit(&d);
}

/* ---------------------------------------------------------------------------
 * setup */

static int setup(void **state)
{
    (void)state;
    sg_log_set_level(SG_LOG_NONE);
    snprintf(g_dir, sizeof g_dir, "/tmp/sg_creative_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(idx_round_trip),      cmocka_unit_test(idx_errors),
        cmocka_unit_test(dataset_folder),      cmocka_unit_test(png_grid_round_trip),
        cmocka_unit_test(eigen_solver),        cmocka_unit_test(frechet_distance),
        cmocka_unit_test(gan_gradients),       cmocka_unit_test(gan_determinism),
        cmocka_unit_test(gan_save_load_generate), cmocka_unit_test(gan_bad_files),
        cmocka_unit_test(gan_alloc_failures),  cmocka_unit_test(cnn_and_score),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* test_conv.c -- convolution, transposed convolution and batch norm of src/nn/conv.c.
 *
 * The GEMM kernels are compared with direct-loop references on odd shapes, and
 * every backward is checked against central differences of its forward (float
 * kernels, eps 1e-2, objective sum c*y in double, relative tolerance 1e-2), as
 * in test_nn.c.  conv-0.1 shows the checker rejects a gradient 3% off. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "stratagem/linalg.h"
#include "stratagem/mem.h"
#include "stratagem/nn.h"
#include "stratagem/rng.h"

#define SEED 4321u
#define GC_EPS 1e-2f
#define GC_TOL 1e-2

/* ---------------------------------------------------------------------------
 * helpers */

static float *alloc_f(size_t n)
{
    float *p = sg_calloc(n > 0 ? n : 1, sizeof *p);
    assert_non_null(p);
    return p;
}

static void fill_uniform(float *x, size_t n, float lo, float hi, sg_rng *r)
{
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * (float)sg_rng_uniform(r);
}

static double dot_cd(const float *c, const float *y, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)c[i] * (double)y[i];
    return s;
}

static double max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - (double)b[i]));
    return m;
}

static void set_threads(int n)
{
#ifdef _OPENMP
    omp_set_num_threads(n);
#else
    (void)n;
#endif
}

static int get_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

typedef double (*objective_fn)(void *ctx);

/* Max relative error of the analytic gradient g against central differences of f
 * wrt every entry of x (n); prints the worst entry when over tolerance. */
static double grad_check(const char *what, objective_fn f, void *ctx, float *x, const float *g,
                         size_t n)
{
    double worst = 0.0, wa = 0.0, wn = 0.0;
    size_t wi = 0;
    for (size_t i = 0; i < n; i++) {
        float x0 = x[i];
        float xp = x0 + GC_EPS, xm = x0 - GC_EPS;
        x[i] = xp;
        double fp = f(ctx);
        x[i] = xm;
        double fm = f(ctx);
        x[i] = x0;
        double num = (fp - fm) / ((double)xp - (double)xm);
        double a = (double)g[i];
        double rel = fabs(a - num) / fmax(fmax(fabs(a), fabs(num)), 1e-2);
        if (rel > worst) {
            worst = rel;
            wi = i;
            wa = a;
            wn = num;
        }
    }
    if (worst > GC_TOL) {
        print_message("%s: max relative error %.3g at %zu (analytic %.6g, numeric %.6g)\n",
                      what, worst, wi, wa, wn);
    }
    return worst;
}

/* One convolution (or transposed convolution) problem with its buffers. */
typedef struct conv_case {
    int transposed;
    int B, H, W, C, OC, K, S, P, OH, OW;
    float *inp, *w, *b, *out, *c, *col;
    size_t n_in, n_w, n_out;
} conv_case;

static void conv_case_init(conv_case *t, int transposed, int B, int H, int W, int C, int OC,
                           int K, int S, int P, sg_rng *r)
{
    memset(t, 0, sizeof *t);
    t->transposed = transposed;
    t->B = B, t->H = H, t->W = W, t->C = C, t->OC = OC, t->K = K, t->S = S, t->P = P;
    if (transposed) {
        t->OH = sg_conv_transpose2d_out_size(H, K, S, P);
        t->OW = sg_conv_transpose2d_out_size(W, K, S, P);
    } else {
        t->OH = sg_conv2d_out_size(H, K, S, P);
        t->OW = sg_conv2d_out_size(W, K, S, P);
    }
    assert_true(t->OH > 0 && t->OW > 0);
    t->n_in = (size_t)B * H * W * C;
    t->n_w = (size_t)K * K * C * OC;
    t->n_out = (size_t)B * t->OH * t->OW * OC;
    size_t n_col = transposed ? sg_conv_transpose2d_col_size(B, H, W, OC, K)
                              : sg_conv2d_col_size(B, H, W, C, K, S, P);
    t->inp = alloc_f(t->n_in);
    t->w = alloc_f(t->n_w);
    t->b = alloc_f((size_t)OC);
    t->out = alloc_f(t->n_out);
    t->c = alloc_f(t->n_out);
    t->col = alloc_f(n_col);
    fill_uniform(t->inp, t->n_in, -1, 1, r);
    fill_uniform(t->w, t->n_w, -1, 1, r);
    fill_uniform(t->b, (size_t)OC, -1, 1, r);
    fill_uniform(t->c, t->n_out, -1, 1, r);
}

static void conv_case_free(conv_case *t)
{
    sg_free(t->inp);
    sg_free(t->w);
    sg_free(t->b);
    sg_free(t->out);
    sg_free(t->c);
    sg_free(t->col);
}

static void conv_case_forward(conv_case *t)
{
    if (t->transposed)
        sg_conv_transpose2d_forward(t->out, t->col, t->inp, t->w, t->b, t->B, t->H, t->W, t->C,
                                    t->OC, t->K, t->S, t->P);
    else
        sg_conv2d_forward(t->out, t->col, t->inp, t->w, t->b, t->B, t->H, t->W, t->C, t->OC,
                          t->K, t->S, t->P);
}

static void conv_case_backward(conv_case *t, float *dinp, float *dw, float *db)
{
    if (t->transposed)
        sg_conv_transpose2d_backward(dinp, dw, db, t->col, t->c, t->inp, t->w, t->B, t->H, t->W,
                                     t->C, t->OC, t->K, t->S, t->P);
    else
        sg_conv2d_backward(dinp, dw, db, t->col, t->c, t->inp, t->w, t->B, t->H, t->W, t->C,
                           t->OC, t->K, t->S, t->P);
}

static double conv_obj(void *p)
{
    conv_case *t = p;
    conv_case_forward(t);
    return dot_cd(t->c, t->out, t->n_out);
}

/* Geometries: B, H, W, C, OC, K, S, P (non-square, odd, stride > 1, padding). */
static const int GEOMS[][8] = {
    {2, 5, 4, 3, 2, 3, 1, 1}, {1, 7, 6, 2, 3, 4, 2, 1}, {3, 6, 6, 1, 4, 4, 2, 1},
    {2, 9, 5, 2, 2, 5, 3, 2}, {1, 3, 3, 2, 2, 3, 1, 0},
};
#define N_GEOMS (sizeof GEOMS / sizeof GEOMS[0])

/* ---------------------------------------------------------------------------
 * conv-0 / conv-1: the checker, forward against direct loops */

/* conv-0.1: the gradient checker rejects a weight gradient 3% off */
static void checker_can_fail(void **state)
{
    (void)state;
    sg_rng r;
    sg_rng_init(&r, SEED);
    conv_case t;
    conv_case_init(&t, 0, 2, 5, 4, 2, 3, 3, 1, 1, &r);
    float *dw = alloc_f(t.n_w);
    conv_case_backward(&t, NULL, dw, NULL);
    assert_true(grad_check("conv dw", conv_obj, &t, t.w, dw, t.n_w) < GC_TOL);
    for (size_t i = 0; i < t.n_w; i++) dw[i] *= 1.03f;
    print_message("(conv-0.1 expects the next check to report an error)\n");
    assert_true(grad_check("conv dw * 1.03", conv_obj, &t, t.w, dw, t.n_w) > GC_TOL);
    sg_free(dw);
    conv_case_free(&t);
}

/* conv-1.1: im2col + GEMM convolution == direct loops, with and without bias */
static void conv_forward_vs_ref(void **state)
{
    (void)state;
    sg_rng r;
    sg_rng_init(&r, SEED);
    for (size_t g = 0; g < N_GEOMS; g++) {
        const int *q = GEOMS[g];
        conv_case t;
        conv_case_init(&t, 0, q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], &r);
        float *ref = alloc_f(t.n_out);
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            for (size_t i = 0; i < t.n_out; i++) t.out[i] = NAN;   /* must be overwritten */
            const float *b = with_bias ? t.b : NULL;
            sg_conv2d_forward(t.out, t.col, t.inp, t.w, b, t.B, t.H, t.W, t.C, t.OC, t.K, t.S,
                              t.P);
            sg_conv2d_forward_ref(ref, t.inp, t.w, b, t.B, t.H, t.W, t.C, t.OC, t.K, t.S, t.P);
            double d = max_abs_diff(t.out, ref, t.n_out);
            if (d > 1e-5) print_message("geometry %zu bias %d: max diff %g\n", g, with_bias, d);
            assert_true(d <= 1e-5);
        }
        sg_free(ref);
        conv_case_free(&t);
    }
}

/* conv-1.2: transposed convolution == direct gather loops; K4 S2 P1 doubles the size */
static void tconv_forward_vs_ref(void **state)
{
    (void)state;
    sg_rng r;
    sg_rng_init(&r, SEED);
    assert_int_equal(sg_conv_transpose2d_out_size(7, 4, 2, 1), 14);
    assert_int_equal(sg_conv2d_out_size(14, 4, 2, 1), 7);
    assert_int_equal(sg_conv2d_out_size(2, 5, 1, 0), 0);   /* impossible geometry */
    for (size_t g = 0; g < N_GEOMS; g++) {
        const int *q = GEOMS[g];
        conv_case t;
        conv_case_init(&t, 1, q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], &r);
        float *ref = alloc_f(t.n_out);
        for (size_t i = 0; i < t.n_out; i++) t.out[i] = NAN;
        conv_case_forward(&t);
        sg_conv_transpose2d_forward_ref(ref, t.inp, t.w, t.b, t.B, t.H, t.W, t.C, t.OC, t.K,
                                        t.S, t.P);
        double d = max_abs_diff(t.out, ref, t.n_out);
        if (d > 1e-5) print_message("geometry %zu: max diff %g\n", g, d);
        assert_true(d <= 1e-5);
        sg_free(ref);
        conv_case_free(&t);
    }
}

/* conv-1.3: col2im is the adjoint of im2col: <im2col(x), c> == <x, col2im(c)> */
static void im2col_adjoint(void **state)
{
    (void)state;
    sg_rng r;
    sg_rng_init(&r, SEED);
    int B = 2, H = 7, W = 5, C = 3, K = 4, S = 2, P = 1;
    size_t n_in = (size_t)B * H * W * C, n_col = sg_conv2d_col_size(B, H, W, C, K, S, P);
    float *x = alloc_f(n_in), *c = alloc_f(n_col), *col = alloc_f(n_col), *back = alloc_f(n_in);
    fill_uniform(x, n_in, -1, 1, &r);
    fill_uniform(c, n_col, -1, 1, &r);
    sg_im2col(col, x, B, H, W, C, K, S, P);
    sg_col2im(back, c, B, H, W, C, K, S, P);
    double lhs = dot_cd(c, col, n_col), rhs = dot_cd(x, back, n_in);
    assert_true(fabs(lhs - rhs) <= 1e-4 * fmax(1.0, fabs(lhs)));
    /* col2im accumulates: a second call doubles */
    float *twice = alloc_f(n_in);
    sg_col2im(twice, c, B, H, W, C, K, S, P);
    sg_col2im(twice, c, B, H, W, C, K, S, P);
    for (size_t i = 0; i < n_in; i++) assert_true(fabsf(twice[i] - 2.0f * back[i]) < 1e-5f);
    sg_free(x);
    sg_free(c);
    sg_free(col);
    sg_free(back);
    sg_free(twice);
}

/* ---------------------------------------------------------------------------
 * conv-2: backward against central differences */

static void check_backward(int transposed)
{
    sg_rng r;
    sg_rng_init(&r, SEED + (unsigned)transposed);
    for (size_t g = 0; g < N_GEOMS; g++) {
        const int *q = GEOMS[g];
        conv_case t;
        conv_case_init(&t, transposed, q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], &r);
        float *dinp = alloc_f(t.n_in), *dw = alloc_f(t.n_w), *db = alloc_f((size_t)t.OC);
        conv_case_backward(&t, dinp, dw, db);
        assert_true(grad_check("dinp", conv_obj, &t, t.inp, dinp, t.n_in) < GC_TOL);
        assert_true(grad_check("dw", conv_obj, &t, t.w, dw, t.n_w) < GC_TOL);
        assert_true(grad_check("db", conv_obj, &t, t.b, db, (size_t)t.OC) < GC_TOL);
        /* accumulation: a second call adds the same again; NULL dinp/db skip those */
        float *dw2 = alloc_f(t.n_w);
        memcpy(dw2, dw, t.n_w * sizeof *dw2);
        conv_case_backward(&t, NULL, dw2, NULL);
        for (size_t i = 0; i < t.n_w; i++)
            assert_true(fabsf(dw2[i] - 2.0f * dw[i]) <= 1e-4f * fmaxf(1.0f, fabsf(dw[i])));
        sg_free(dw2);
        sg_free(dinp);
        sg_free(dw);
        sg_free(db);
        conv_case_free(&t);
    }
}

/* conv-2.1: conv2d backward (dinp, dw, db) == central differences */
static void conv_backward_grad(void **state)
{
    (void)state;
    check_backward(0);
}

/* conv-2.2: transposed conv2d backward == central differences */
static void tconv_backward_grad(void **state)
{
    (void)state;
    check_backward(1);
}

/* ---------------------------------------------------------------------------
 * conv-3: batch norm */

typedef struct bn_ctx {
    int N, C;
    float *inp, *gamma, *beta, *out, *mean, *rstd, *c;
} bn_ctx;

static double bn_obj(void *p)
{
    bn_ctx *t = p;
    sg_batchnorm_forward(t->out, t->mean, t->rstd, NULL, NULL, t->inp, t->gamma, t->beta, t->N,
                         t->C, 0.1f, 1e-5f);
    return dot_cd(t->c, t->out, (size_t)t->N * t->C);
}

/* conv-3.1: batch norm backward (train mode) == central differences, C over a block of 16 */
static void bn_backward_grad(void **state)
{
    (void)state;
    sg_rng r;
    sg_rng_init(&r, SEED);
    static const int shapes[][2] = {{6, 3}, {9, 18}};
    for (size_t s = 0; s < 2; s++) {
        bn_ctx t = {.N = shapes[s][0], .C = shapes[s][1]};
        size_t n = (size_t)t.N * t.C;
        t.inp = alloc_f(n);
        t.out = alloc_f(n);
        t.c = alloc_f(n);
        t.gamma = alloc_f((size_t)t.C);
        t.beta = alloc_f((size_t)t.C);
        t.mean = alloc_f((size_t)t.C);
        t.rstd = alloc_f((size_t)t.C);
        fill_uniform(t.inp, n, -2, 2, &r);
        fill_uniform(t.c, n, -1, 1, &r);
        fill_uniform(t.gamma, (size_t)t.C, 0.5f, 1.5f, &r);
        fill_uniform(t.beta, (size_t)t.C, -1, 1, &r);
        float *dinp = alloc_f(n), *dg = alloc_f((size_t)t.C), *dbeta = alloc_f((size_t)t.C);
        bn_obj(&t);
        sg_batchnorm_backward(dinp, dg, dbeta, t.c, t.inp, t.mean, t.rstd, t.gamma, t.N, t.C);
        assert_true(grad_check("bn dinp", bn_obj, &t, t.inp, dinp, n) < GC_TOL);
        assert_true(grad_check("bn dgamma", bn_obj, &t, t.gamma, dg, (size_t)t.C) < GC_TOL);
        assert_true(grad_check("bn dbeta", bn_obj, &t, t.beta, dbeta, (size_t)t.C) < GC_TOL);
        sg_free(dinp);
        sg_free(dg);
        sg_free(dbeta);
        sg_free(t.inp);
        sg_free(t.out);
        sg_free(t.c);
        sg_free(t.gamma);
        sg_free(t.beta);
        sg_free(t.mean);
        sg_free(t.rstd);
    }
}

/* conv-3.2: batch norm forward: per-channel mean beta and sd gamma, running statistics
 * (unbiased variance, momentum), and the eval-mode formula */
static void bn_forward_values(void **state)
{
    (void)state;
    sg_rng r;
    sg_rng_init(&r, SEED);
    int N = 50, C = 20;
    size_t n = (size_t)N * C;
    float *x = alloc_f(n), *y = alloc_f(n), *g = alloc_f(C), *b = alloc_f(C), *m = alloc_f(C);
    float *rs = alloc_f(C), *rm = alloc_f(C), *rv = alloc_f(C), *ye = alloc_f(n);
    for (size_t i = 0; i < n; i++) x[i] = 100.0f + 3.0f * (float)sg_rng_normal(&r);
    for (int c = 0; c < C; c++) {
        g[c] = 0.5f + 0.1f * (float)c;
        b[c] = (float)c - 5.0f;
        rm[c] = 1.0f;
        rv[c] = 2.0f;
    }
    sg_batchnorm_forward(y, m, rs, rm, rv, x, g, b, N, C, 0.1f, 1e-5f);
    for (int c = 0; c < C; c++) {
        double s = 0, q = 0, xs = 0, xq = 0;
        for (int i = 0; i < N; i++) {
            s += (double)y[(size_t)i * C + c];
            xs += (double)x[(size_t)i * C + c];
        }
        double mean = s / N, xm = xs / N;
        for (int i = 0; i < N; i++) {
            q += pow((double)y[(size_t)i * C + c] - mean, 2);
            xq += pow((double)x[(size_t)i * C + c] - xm, 2);
        }
        assert_true(fabs(mean - (double)b[c]) < 1e-4);
        assert_true(fabs(sqrt(q / N) - (double)g[c]) < 1e-3);
        assert_true(fabs((double)m[c] - xm) < 1e-3);
        assert_true(fabs((double)rm[c] - (0.9 * 1.0 + 0.1 * xm)) < 1e-3);
        assert_true(fabs((double)rv[c] - (0.9 * 2.0 + 0.1 * xq / (N - 1))) < 1e-3);
    }
    /* eval mode with the running statistics */
    sg_batchnorm_forward_eval(ye, x, g, b, rm, rv, N, C, 1e-5f);
    for (int i = 0; i < N; i++)
        for (int c = 0; c < C; c++) {
            size_t k = (size_t)i * C + c;
            double want = (double)g[c] * (double)(x[k] - rm[c]) / sqrt((double)rv[c] + 1e-5) +
                          (double)b[c];
            assert_true(fabs((double)ye[k] - want) < 1e-3 * fmax(1.0, fabs(want)));
        }
    sg_free(x);
    sg_free(y);
    sg_free(g);
    sg_free(b);
    sg_free(m);
    sg_free(rs);
    sg_free(rm);
    sg_free(rv);
    sg_free(ye);
}

/* ---------------------------------------------------------------------------
 * conv-4: determinism */

/* conv-4.1: conv, transposed conv and batch norm give identical bits on 1 and 2 OpenMP
 * threads (sizes above the parallel threshold) */
static void thread_invariant(void **state)
{
    (void)state;
    int blas = sg_blas_get_threads(), omp = get_threads();
    sg_blas_set_threads(1);
    float *res[2][6] = {{0}};
    size_t sizes[6];
    for (int run = 0; run < 2; run++) {
        set_threads(run + 1);
        sg_rng r;
        sg_rng_init(&r, SEED);
        conv_case a, t;
        conv_case_init(&a, 0, 8, 14, 14, 16, 32, 4, 2, 1, &r);
        conv_case_init(&t, 1, 8, 7, 7, 32, 16, 4, 2, 1, &r);
        float *da = alloc_f(a.n_in), *dwa = alloc_f(a.n_w), *dt = alloc_f(t.n_in);
        float *dwt = alloc_f(t.n_w);
        conv_case_forward(&a);
        conv_case_backward(&a, da, dwa, NULL);
        conv_case_forward(&t);
        conv_case_backward(&t, dt, dwt, NULL);
        int N = 8 * 7 * 7, C = 32;   /* a.out is (8,7,7,32) */
        float *y = alloc_f((size_t)N * C), *g = alloc_f(C), *b = alloc_f(C), *m = alloc_f(C);
        float *s = alloc_f(C), *dx = alloc_f((size_t)N * C), *dg = alloc_f(C);
        float *dbb = alloc_f(C);
        for (int c = 0; c < C; c++) g[c] = 1.0f + 0.01f * c;
        sg_batchnorm_forward(y, m, s, NULL, NULL, a.out, g, b, N, C, 0.1f, 1e-5f);
        sg_batchnorm_backward(dx, dg, dbb, a.out, a.out, m, s, g, N, C);
        float *keep[6] = {a.out, da, t.out, dwt, y, dx};
        size_t n[6] = {a.n_out, a.n_in, t.n_out, t.n_w, (size_t)N * C, (size_t)N * C};
        for (int k = 0; k < 6; k++) {
            res[run][k] = alloc_f(n[k]);
            memcpy(res[run][k], keep[k], n[k] * sizeof(float));
            sizes[k] = n[k];
        }
        sg_free(da);
        sg_free(dwa);
        sg_free(dt);
        sg_free(dwt);
        sg_free(y);
        sg_free(g);
        sg_free(b);
        sg_free(m);
        sg_free(s);
        sg_free(dx);
        sg_free(dg);
        sg_free(dbb);
        conv_case_free(&a);
        conv_case_free(&t);
    }
    set_threads(omp);
    sg_blas_set_threads(blas);
    for (int k = 0; k < 6; k++) {
        assert_memory_equal(res[0][k], res[1][k], sizes[k] * sizeof(float));
        sg_free(res[0][k]);
        sg_free(res[1][k]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(checker_can_fail),   cmocka_unit_test(conv_forward_vs_ref),
        cmocka_unit_test(tconv_forward_vs_ref), cmocka_unit_test(im2col_adjoint),
        cmocka_unit_test(conv_backward_grad), cmocka_unit_test(tconv_backward_grad),
        cmocka_unit_test(bn_backward_grad),   cmocka_unit_test(bn_forward_values),
        cmocka_unit_test(thread_invariant),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

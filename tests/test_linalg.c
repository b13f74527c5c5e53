/* test_linalg.c -- every BLAS wrapper against its naive reference, Cholesky solves. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "stratagem/linalg.h"
#include "stratagem/mem.h"
#include "stratagem/rng.h"

/* ---------------------------------------------------------------------------
 * helpers */

static void fill_f(sg_rng *r, float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)(2.0 * sg_rng_uniform(r) - 1.0);
}

static void fill_d(sg_rng *r, double *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = 2.0 * sg_rng_uniform(r) - 1.0;
}

/* Max |a - b| over n entries; prints it with the case and the first differing
 * values when it exceeds 'tol', and returns whether it is within. */
static int close_d(const char *what, const double *a, const double *b, size_t n, double tol)
{
    double worst = 0.0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(a[i] - b[i]);
        if (!(d <= worst)) { worst = d; at = i; } /* catches NaN too */
    }
    if (!(worst <= tol)) {
        printf("%s: max abs diff %.3g > %.3g at %zu (%.9g vs %.9g)\n", what, worst, tol, at,
               a[at], b[at]);
        return 0;
    }
    return 1;
}

static int close_f(const char *what, const float *a, const float *b, size_t n, double tol)
{
    double worst = 0.0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= worst)) { worst = d; at = i; }
    }
    if (!(worst <= tol)) {
        printf("%s: max abs diff %.3g > %.3g at %zu (%.9g vs %.9g)\n", what, worst, tol, at,
               (double)a[at], (double)b[at]);
        return 0;
    }
    return 1;
}

/* Shapes with odd sizes, ones and zeros, plus a few larger blocks so that
 * OpenBLAS takes its blocked (and threaded) paths. */
static const int shapes[][3] = {
    {1, 1, 1}, {1, 7, 3}, {5, 1, 9}, {3, 4, 1}, {7, 5, 3}, {13, 17, 19}, {33, 31, 65},
    {64, 64, 64}, {129, 67, 200}, {2, 300, 5}, {0, 4, 3}, {4, 0, 3}, {4, 3, 0},
};
#define N_SHAPES ((int)(sizeof shapes / sizeof shapes[0]))

/* ---------------------------------------------------------------------------
 * level 3 */

/* linalg-1.1: sgemm equals sgemm_ref for all transposes, shapes and alpha/beta */
static void sgemm_vs_ref(void **state)
{
    (void)state;
    sg_rng r;
    sg_rng_init(&r, 11);
    const float ab[][2] = {{1.0f, 0.0f}, {0.5f, 1.0f}, {-2.0f, 0.25f}};
    for (int s = 0; s < N_SHAPES; s++) {
        int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        size_t na = (size_t)M * K + 1, nb = (size_t)K * N + 1, nc = (size_t)M * N + 1;
        float *A = sg_malloc(na * sizeof *A), *B = sg_malloc(nb * sizeof *B);
        float *C0 = sg_malloc(nc * sizeof *C0), *C1 = sg_malloc(nc * sizeof *C1);
        float *C2 = sg_malloc(nc * sizeof *C2);
        assert_true(A && B && C0 && C1 && C2);
        fill_f(&r, A, na);
        fill_f(&r, B, nb);
        fill_f(&r, C0, nc);
        for (int t = 0; t < 4; t++) {
            for (int k = 0; k < 3; k++) {
                memcpy(C1, C0, nc * sizeof *C0);
                memcpy(C2, C0, nc * sizeof *C0);
                sg_sgemm(t & 1, t >> 1, M, N, K, ab[k][0], A, B, ab[k][1], C1);
                sg_sgemm_ref(t & 1, t >> 1, M, N, K, ab[k][0], A, B, ab[k][1], C2);
                char what[96];
                snprintf(what, sizeof what, "sgemm M=%d N=%d K=%d ta=%d tb=%d", M, N, K, t & 1,
                         t >> 1);
                assert_true(close_f(what, C1, C2, nc, 1e-5 * (K + 4)));
                /* the sentinel past C is untouched */
                assert_true(C1[nc - 1] == C0[nc - 1]);
            }
        }
        sg_free(A);
        sg_free(B);
        sg_free(C0);
        sg_free(C1);
        sg_free(C2);
    }
}

/* linalg-1.2: dgemm equals dgemm_ref, and the transposes agree with each other */
static void dgemm_vs_ref(void **state)
{
    (void)state;
    sg_rng r;
    sg_rng_init(&r, 12);
    for (int s = 0; s < N_SHAPES; s++) {
        int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        size_t na = (size_t)M * K + 1, nb = (size_t)K * N + 1, nc = (size_t)M * N + 1;
        double *A = sg_malloc(na * sizeof *A), *B = sg_malloc(nb * sizeof *B);
        double *At = sg_malloc(na * sizeof *At), *Bt = sg_malloc(nb * sizeof *Bt);
        double *C0 = sg_malloc(nc * sizeof *C0), *C1 = sg_malloc(nc * sizeof *C1);
        double *C2 = sg_malloc(nc * sizeof *C2);
        assert_true(A && B && At && Bt && C0 && C1 && C2);
        fill_d(&r, A, na);
        fill_d(&r, B, nb);
        fill_d(&r, C0, nc);
        for (int i = 0; i < M; i++)
            for (int k = 0; k < K; k++) At[(size_t)k * M + i] = A[(size_t)i * K + k];
        for (int k = 0; k < K; k++)
            for (int j = 0; j < N; j++) Bt[(size_t)j * K + k] = B[(size_t)k * N + j];
        /* reference answer: no transposes */
        memcpy(C2, C0, nc * sizeof *C0);
        sg_dgemm_ref(0, 0, M, N, K, 0.75, A, B, -0.5, C2);
        for (int t = 0; t < 4; t++) {
            const double *a = (t & 1) ? At : A, *b = (t >> 1) ? Bt : B;
            char what[96];
            snprintf(what, sizeof what, "dgemm M=%d N=%d K=%d ta=%d tb=%d", M, N, K, t & 1,
                     t >> 1);
            memcpy(C1, C0, nc * sizeof *C0);
            sg_dgemm(t & 1, t >> 1, M, N, K, 0.75, a, b, -0.5, C1);
            assert_true(close_d(what, C1, C2, nc, 1e-12 * (K + 4)));
            memcpy(C1, C0, nc * sizeof *C0);
            sg_dgemm_ref(t & 1, t >> 1, M, N, K, 0.75, a, b, -0.5, C1);
            assert_true(close_d(what, C1, C2, nc, 1e-12 * (K + 4)));
        }
        sg_free(A);
        sg_free(B);
        sg_free(At);
        sg_free(Bt);
        sg_free(C0);
        sg_free(C1);
        sg_free(C2);
    }
}

/* linalg-1.3: dsyrk_t equals its reference and A^T A by dgemm; both triangles filled */
static void dsyrk_vs_ref(void **state)
{
    (void)state;
    sg_rng r;
    sg_rng_init(&r, 13);
    const int nk[][2] = {{1, 1}, {1, 5}, {3, 2}, {7, 11}, {20, 1000}, {65, 33}, {4, 0}};
    for (int s = 0; s < (int)(sizeof nk / sizeof nk[0]); s++) {
        int N = nk[s][0], K = nk[s][1];
        size_t na = (size_t)K * N + 1, nc = (size_t)N * N;
        double *A = sg_malloc(na * sizeof *A), *C0 = sg_malloc(nc * sizeof *C0);
        double *C1 = sg_malloc(nc * sizeof *C1), *C2 = sg_malloc(nc * sizeof *C2);
        double *C3 = sg_malloc(nc * sizeof *C3);
        assert_true(A && C0 && C1 && C2 && C3);
        fill_d(&r, A, na);
        fill_d(&r, C0, nc);
        for (int i = 0; i < N; i++) /* a symmetric starting C */
            for (int j = 0; j < i; j++) C0[(size_t)i * N + j] = C0[(size_t)j * N + i];
        memcpy(C1, C0, nc * sizeof *C0);
        memcpy(C2, C0, nc * sizeof *C0);
        memcpy(C3, C0, nc * sizeof *C0);
        sg_dsyrk_t(N, K, 1.5, A, 0.5, C1);
        sg_dsyrk_t_ref(N, K, 1.5, A, 0.5, C2);
        sg_dgemm_ref(1, 0, N, N, K, 1.5, A, A, 0.5, C3);
        char what[64];
        snprintf(what, sizeof what, "dsyrk_t N=%d K=%d", N, K);
        assert_true(close_d(what, C1, C2, nc, 1e-12 * (K + 4)));
        assert_true(close_d(what, C1, C3, nc, 1e-12 * (K + 4)));
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++)
                assert_true(C1[(size_t)i * N + j] == C1[(size_t)j * N + i]);
        sg_free(A);
        sg_free(C0);
        sg_free(C1);
        sg_free(C2);
        sg_free(C3);
    }
}

/* linalg-1.4: beta == 0 overwrites: NaN in the output does not survive */
static void beta_zero_overwrites(void **state)
{
    (void)state;
    float A[6] = {1, 2, 3, 4, 5, 6}, B[6] = {1, 0, 0, 1, 1, 1}, C[4], x[3] = {1, 1, 1}, y[2];
    double Ad[6] = {1, 2, 3, 4, 5, 6}, Cd[9], xd[3] = {1, 1, 1}, yd[2];
    for (int i = 0; i < 4; i++) C[i] = NAN;
    sg_sgemm(0, 0, 2, 2, 3, 1.0f, A, B, 0.0f, C);
    float want[4] = {4, 5, 10, 11};
    assert_true(close_f("sgemm beta=0", C, want, 4, 0.0));
    y[0] = y[1] = NAN;
    sg_sgemv(0, 2, 3, 1.0f, A, x, 0.0f, y);
    assert_true(y[0] == 6.0f && y[1] == 15.0f);
    yd[0] = yd[1] = NAN;
    sg_dgemv(0, 2, 3, 1.0, Ad, xd, 0.0, yd);
    assert_true(yd[0] == 6.0 && yd[1] == 15.0);
    for (int i = 0; i < 9; i++) Cd[i] = NAN;
    sg_dsyrk_t(3, 2, 1.0, Ad, 0.0, Cd); /* A as (2,3) */
    double wantd[9] = {17, 22, 27, 22, 29, 36, 27, 36, 45};
    assert_true(close_d("dsyrk beta=0", Cd, wantd, 9, 0.0));
    for (int i = 0; i < 9; i++) Cd[i] = NAN;
    sg_dsyrk_t_ref(3, 2, 1.0, Ad, 0.0, Cd);
    assert_true(close_d("dsyrk_ref beta=0", Cd, wantd, 9, 0.0));
}

/* ---------------------------------------------------------------------------
 * level 1 and 2 */

/* linalg-2.1: sgemv/dgemv equal their references, both orientations */
static void gemv_vs_ref(void **state)
{
    (void)state;
    sg_rng r;
    sg_rng_init(&r, 21);
    for (int s = 0; s < N_SHAPES; s++) {
        int M = shapes[s][0], N = shapes[s][1];
        size_t na = (size_t)M * N + 1, nv = (size_t)(M > N ? M : N) + 1;
        float *A = sg_malloc(na * sizeof *A), *x = sg_malloc(nv * sizeof *x);
        float *y0 = sg_malloc(nv * sizeof *y0), *y1 = sg_malloc(nv * sizeof *y1);
        float *y2 = sg_malloc(nv * sizeof *y2);
        double *Ad = sg_malloc(na * sizeof *Ad), *xd = sg_malloc(nv * sizeof *xd);
        double *yd0 = sg_malloc(nv * sizeof *yd0), *yd1 = sg_malloc(nv * sizeof *yd1);
        double *yd2 = sg_malloc(nv * sizeof *yd2);
        assert_true(A && x && y0 && y1 && y2 && Ad && xd && yd0 && yd1 && yd2);
        fill_f(&r, A, na);
        fill_f(&r, x, nv);
        fill_f(&r, y0, nv);
        fill_d(&r, Ad, na);
        fill_d(&r, xd, nv);
        fill_d(&r, yd0, nv);
        for (int t = 0; t < 2; t++) {
            char what[64];
            snprintf(what, sizeof what, "gemv M=%d N=%d trans=%d", M, N, t);
            memcpy(y1, y0, nv * sizeof *y0);
            memcpy(y2, y0, nv * sizeof *y0);
            sg_sgemv(t, M, N, -1.25f, A, x, 0.5f, y1);
            sg_sgemv_ref(t, M, N, -1.25f, A, x, 0.5f, y2);
            assert_true(close_f(what, y1, y2, nv, 1e-5 * (M + N + 4)));
            memcpy(yd1, yd0, nv * sizeof *yd0);
            memcpy(yd2, yd0, nv * sizeof *yd0);
            sg_dgemv(t, M, N, -1.25, Ad, xd, 0.5, yd1);
            sg_dgemv_ref(t, M, N, -1.25, Ad, xd, 0.5, yd2);
            assert_true(close_d(what, yd1, yd2, nv, 1e-12 * (M + N + 4)));
        }
        sg_free(A);
        sg_free(x);
        sg_free(y0);
        sg_free(y1);
        sg_free(y2);
        sg_free(Ad);
        sg_free(xd);
        sg_free(yd0);
        sg_free(yd1);
        sg_free(yd2);
    }
}

/* linalg-2.2: dot and axpy equal their references; n = 0 is a no-op */
static void dot_axpy_vs_ref(void **state)
{
    (void)state;
    sg_rng r;
    sg_rng_init(&r, 22);
    const int ns[] = {0, 1, 3, 17, 1000, 4099};
    for (int s = 0; s < (int)(sizeof ns / sizeof ns[0]); s++) {
        int n = ns[s];
        size_t m = (size_t)n + 1;
        double *x = sg_malloc(m * sizeof *x), *y1 = sg_malloc(m * sizeof *y1);
        double *y2 = sg_malloc(m * sizeof *y2);
        float *xf = sg_malloc(m * sizeof *xf), *yf1 = sg_malloc(m * sizeof *yf1);
        float *yf2 = sg_malloc(m * sizeof *yf2);
        assert_true(x && y1 && y2 && xf && yf1 && yf2);
        fill_d(&r, x, m);
        fill_d(&r, y1, m);
        fill_f(&r, xf, m);
        fill_f(&r, yf1, m);
        memcpy(y2, y1, m * sizeof *y1);
        memcpy(yf2, yf1, m * sizeof *yf1);
        double d1 = sg_ddot(n, x, y1), d2 = sg_ddot_ref(n, x, y1);
        assert_true(fabs(d1 - d2) <= 1e-12 * (n + 1));
        double f1 = (double)sg_sdot(n, xf, yf1), f2 = (double)sg_sdot_ref(n, xf, yf1);
        assert_true(fabs(f1 - f2) <= 1e-5 * (n + 1));
        sg_daxpy(n, 0.3, x, y1);
        sg_daxpy_ref(n, 0.3, x, y2);
        assert_true(close_d("daxpy", y1, y2, m, 1e-15));
        sg_saxpy(n, 0.3f, xf, yf1);
        sg_saxpy_ref(n, 0.3f, xf, yf2);
        assert_true(close_f("saxpy", yf1, yf2, m, 1e-6));
        assert_true(y1[n] == y2[n]); /* sentinel untouched by both */
        sg_free(x);
        sg_free(y1);
        sg_free(y2);
        sg_free(xf);
        sg_free(yf1);
        sg_free(yf2);
    }
    assert_true(sg_ddot(0, NULL, NULL) == 0.0);
}

/* ---------------------------------------------------------------------------
 * Cholesky */

/* A = G^T G + N I: well conditioned SPD */
static void make_spd(sg_rng *r, double *A, int N)
{
    double *G = sg_malloc((size_t)N * N * sizeof *G);
    assert_non_null(G);
    fill_d(r, G, (size_t)N * N);
    sg_dgemm_ref(1, 0, N, N, N, 1.0, G, G, 0.0, A);
    for (int i = 0; i < N; i++) A[(size_t)i * N + i] += N;
    sg_free(G);
}

/* linalg-3.1: dposv and dposv_ref solve A x = b with a tiny residual, several sizes */
static void dposv_residual(void **state)
{
    (void)state;
    sg_rng r;
    sg_rng_init(&r, 31);
    const int ns[] = {1, 2, 5, 16, 33, 120};
    for (int s = 0; s < (int)(sizeof ns / sizeof ns[0]); s++) {
        int N = ns[s];
        size_t nn = (size_t)N * N;
        double *A = sg_malloc(nn * sizeof *A), *F = sg_malloc(nn * sizeof *F);
        double *b = sg_malloc((size_t)N * sizeof *b), *x = sg_malloc((size_t)N * sizeof *x);
        double *x2 = sg_malloc((size_t)N * sizeof *x2), *res = sg_malloc((size_t)N * sizeof *res);
        assert_true(A && F && b && x && x2 && res);
        make_spd(&r, A, N);
        fill_d(&r, b, (size_t)N);
        memcpy(F, A, nn * sizeof *A);
        memcpy(x, b, (size_t)N * sizeof *b);
        assert_int_equal(sg_dposv(N, F, x), 0);
        memcpy(res, b, (size_t)N * sizeof *b);
        sg_dgemv_ref(0, N, N, 1.0, A, x, -1.0, res);
        double zero[120] = {0};
        char what[48];
        snprintf(what, sizeof what, "dposv residual N=%d", N);
        assert_true(close_d(what, res, zero, (size_t)N, 1e-10));
        /* the reference solver gives the same x and the same factor */
        double *F2 = sg_malloc(nn * sizeof *F2);
        assert_non_null(F2);
        memcpy(F2, A, nn * sizeof *A);
        memcpy(x2, b, (size_t)N * sizeof *b);
        assert_int_equal(sg_dposv_ref(N, 1, F2, x2), 0);
        assert_true(close_d("dposv vs ref", x, x2, (size_t)N, 1e-10));
        for (int i = 0; i < N; i++) /* lower triangles (L) agree */
            for (int j = 0; j <= i; j++)
                assert_true(fabs(F[(size_t)i * N + j] - F2[(size_t)i * N + j]) < 1e-10);
        sg_free(F2);
        sg_free(A);
        sg_free(F);
        sg_free(b);
        sg_free(x);
        sg_free(x2);
        sg_free(res);
    }
}

/* linalg-3.2: several right-hand sides, row-major B (N,NRHS) */
static void dposv_multi_residual(void **state)
{
    (void)state;
    sg_rng r;
    sg_rng_init(&r, 32);
    const int N = 23, R = 4;
    double A[23 * 23], F[23 * 23], B[23 * 4], X[23 * 4], X2[23 * 4], res[23 * 4];
    make_spd(&r, A, N);
    fill_d(&r, B, (size_t)N * R);
    memcpy(F, A, sizeof A);
    memcpy(X, B, sizeof B);
    assert_int_equal(sg_dposv_multi(N, R, F, X), 0);
    memcpy(res, B, sizeof B);
    sg_dgemm_ref(0, 0, N, R, N, 1.0, A, X, -1.0, res);
    double zero[23 * 4] = {0};
    assert_true(close_d("dposv_multi residual", res, zero, (size_t)N * R, 1e-10));
    memcpy(F, A, sizeof A);
    memcpy(X2, B, sizeof B);
    assert_int_equal(sg_dposv_ref(N, R, F, X2), 0);
    assert_true(close_d("dposv_multi vs ref", X, X2, (size_t)N * R, 1e-10));
}

/* linalg-3.3: a matrix that is not positive definite is reported by pivot index,
 * by both paths, and b is left unchanged */
static void dposv_not_pd(void **state)
{
    (void)state;
    /* leading 2x2 is PD, the 3x3 is singular (row 3 = row 1 + row 2) */
    const double A0[9] = {2, 1, 3, 1, 2, 3, 3, 3, 6};
    double A[9], b[3] = {1, 2, 3};
    memcpy(A, A0, sizeof A);
    int rc = sg_dposv(3, A, b);
    assert_int_equal(rc, 3);
    assert_true(b[0] == 1 && b[1] == 2 && b[2] == 3);
    memcpy(A, A0, sizeof A);
    assert_int_equal(sg_dposv_ref(3, 1, A, b), 3);
    /* negative first pivot, and NaN */
    double Bn[4] = {-1, 0, 0, 1};
    assert_int_equal(sg_dposv(2, Bn, b), 1);
    double Bq[4] = {1, 0, 0, NAN};
    assert_int_equal(sg_dposv(2, Bq, b), 2);
    double Bq2[4] = {1, 0, 0, NAN};
    assert_int_equal(sg_dposv_ref(2, 1, Bq2, b), 2);
    double Bm[4] = {1, 2, 2, 1};
    assert_int_equal(sg_dposv_multi(2, 1, Bm, b), 2);
    assert_int_equal(sg_dposv(0, NULL, NULL), 0);
}

/* linalg-3.4: posinv (both precisions, both paths) gives A^-1 with both
 * triangles filled; a matrix that is not positive definite is reported */
static void posinv(void **state)
{
    (void)state;
    sg_rng r;
    sg_rng_init(&r, 34);
    enum { N = 19 };
    double A[N * N], I1[N * N], I2[N * N], P[N * N], eye[N * N];
    float Af[N * N], If1[N * N], If2[N * N];
    make_spd(&r, A, N);
    for (int k = 0; k < N * N; k++) {
        Af[k] = (float)A[k];
        eye[k] = (k % (N + 1)) == 0;
    }
    memcpy(I1, A, sizeof A);
    memcpy(I2, A, sizeof A);
    assert_int_equal(sg_dposinv(N, I1), 0);
    assert_int_equal(sg_dposinv_ref(N, I2), 0);
    assert_true(close_d("dposinv vs ref", I1, I2, N * N, 1e-12));
    sg_dgemm_ref(0, 0, N, N, N, 1.0, A, I1, 0.0, P);
    assert_true(close_d("A A^-1 = I", P, eye, N * N, 1e-12));
    memcpy(If1, Af, sizeof Af);
    memcpy(If2, Af, sizeof Af);
    assert_int_equal(sg_sposinv(N, If1), 0);
    assert_int_equal(sg_sposinv_ref(N, If2), 0);
    assert_true(close_f("sposinv vs ref", If1, If2, N * N, 1e-5));
    for (int k = 0; k < N * N; k++) I2[k] = (double)If1[k];
    assert_true(close_d("sposinv vs dposinv", I2, I1, N * N, 1e-5));
    double B[4] = {1, 2, 2, 1};
    float Bf[4] = {1, 2, 2, 1};
    assert_int_equal(sg_dposinv(2, B), 2);
    assert_int_equal(sg_sposinv(2, Bf), 2);
    double Bn[4] = {1, 0, 0, NAN};
    assert_int_equal(sg_dposinv_ref(2, Bn), 2);
}

/* linalg-4.1: blas info is a non-empty static string; setting threads is harmless */
static void blas_info(void **state)
{
    (void)state;
    const char *s = sg_blas_info();
    assert_non_null(s);
    assert_true(strlen(s) > 0);
    assert_ptr_equal(s, sg_blas_info());
    sg_blas_set_threads(0);
    sg_blas_set_threads(2);
    float A[1] = {2}, B[1] = {3}, C[1] = {0};
    sg_sgemm(0, 0, 1, 1, 1, 1.0f, A, B, 0.0f, C);
    assert_true(C[0] == 6.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sgemm_vs_ref),         cmocka_unit_test(dgemm_vs_ref),
        cmocka_unit_test(dsyrk_vs_ref),         cmocka_unit_test(beta_zero_overwrites),
        cmocka_unit_test(gemv_vs_ref),          cmocka_unit_test(dot_axpy_vs_ref),
        cmocka_unit_test(dposv_residual),       cmocka_unit_test(dposv_multi_residual),
        cmocka_unit_test(dposv_not_pd),         cmocka_unit_test(posinv),
        cmocka_unit_test(blas_info),
    };
    return cmocka_run_group_tests_name("linalg", tests, NULL, NULL);
}

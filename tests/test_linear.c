/* test_linear.c -- logistic and ridge regression: scikit-learn agreement, optimality,
 * weights, solvers, errors, serialisation and allocation failures. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stratagem/error.h"
#include "stratagem/linalg.h"
#include "stratagem/linear.h"
#include "stratagem/log.h"
#include "stratagem/mem.h"
#include "stratagem/rng.h"

/* ---------------------------------------------------------------------------
 * helpers */

static int n_warnings;

static void count_log(int level, const char *module, const char *msg, void *ud)
{
    (void)module;
    (void)msg;
    (void)ud;
    if (level >= SG_LOG_WARN) n_warnings++;
}

static int silence(void **state)
{
    (void)state;
    sg_log_set(count_log, NULL);
    n_warnings = 0;
    return 0;
}

/* A tiny CSV reader for the fixtures: a header line, then comma-separated
 * fields; numbers go to vals (row-major, n_cols per row), a non-numeric first
 * field is kept as text in names (16 chars per row).  Returns the row count. */
#define MAX_ROWS 400
#define MAX_COLS 12
static int read_fixture(const char *path, double *vals, int *n_cols, char (*names)[16])
{
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("cannot open %s (run the tests from the repository root)\n", path);
        return -1;
    }
    char line[1024];
    int rows = 0;
    *n_cols = 0;
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return -1;
    }
    while (fgets(line, sizeof line, f) && rows < MAX_ROWS) {
        int c = 0;
        char *save = NULL;
        for (char *tok = strtok_r(line, ",\n", &save); tok && c < MAX_COLS;
             tok = strtok_r(NULL, ",\n", &save), c++) {
            char *end;
            double v = strtod(tok, &end);
            if (end == tok && names && c == 0) {
                snprintf(names[rows], 16, "%s", tok);
                v = NAN;
            }
            vals[rows * MAX_COLS + c] = v;
        }
        *n_cols = c;
        rows++;
    }
    fclose(f);
    return rows;
}

/* The fixture data: X (N,5), ybin, yreg, w as float. */
typedef struct fixture {
    int N;
    float X[MAX_ROWS * 5], ybin[MAX_ROWS], yreg[MAX_ROWS], w[MAX_ROWS];
} fixture;

static fixture fx;

static void load_data(void)
{
    static double vals[MAX_ROWS * MAX_COLS];
    int n_cols;
    int n = read_fixture("tests/data/linear_data.csv", vals, &n_cols, NULL);
    assert_true(n > 100);
    assert_int_equal(n_cols, 8);
    fx.N = n;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < 5; j++) fx.X[i * 5 + j] = (float)vals[i * MAX_COLS + j];
        fx.ybin[i] = (float)vals[i * MAX_COLS + 5];
        fx.yreg[i] = (float)vals[i * MAX_COLS + 6];
        fx.w[i] = (float)vals[i * MAX_COLS + 7];
    }
}

/* Max relative difference with a floor of 1e-3 on the scale; prints the worst. */
static double rel_diff(const char *what, const double *a, const double *b, int n)
{
    double worst = 0.0;
    int at = 0;
    for (int j = 0; j < n; j++) {
        double d = fabs(a[j] - b[j]) / fmax(fabs(b[j]), 1e-3);
        if (!(d <= worst)) {
            worst = d;
            at = j;
        }
    }
    if (worst > 1e-6) printf("%s: max rel diff %.3g at %d (%.12g vs %.12g)\n", what, worst, at,
                             a[at], b[at]);
    return worst;
}

/* theta (D + 1) = intercept then coefficients */
static void get_theta(const sg_linear *m, double *theta)
{
    int D = sg_linear_n_features(m);
    theta[0] = sg_linear_intercept(m);
    memcpy(theta + 1, sg_linear_coef(m), (size_t)D * sizeof(double));
}

/* Random data: features with varied means and scales, logistic and linear targets. */
static void make_data(uint64_t seed, int N, int D, float *X, float *ybin, float *yreg)
{
    sg_rng r;
    sg_rng_init(&r, seed);
    for (int i = 0; i < N; i++) {
        double eta = -0.5, lin = 1.0;
        for (int j = 0; j < D; j++) {
            double scale = 1.0 + (j % 4), mean = (double)(j % 3) * 2.0;
            double v = mean + scale * sg_rng_normal(&r);
            X[(size_t)i * D + j] = (float)v;
            double b = ((j % 5) - 2) * 0.3 / scale;
            eta += b * (v - mean);
            lin += b * v;
        }
        ybin[i] = sg_rng_uniform(&r) < 1.0 / (1.0 + exp(-eta)) ? 1.0f : 0.0f;
        yreg[i] = (float)(lin + 0.5 * sg_rng_normal(&r));
    }
}

/* Gradient of sum_i w_i l_i + l2/2 |beta|^2, in double, at the model's theta. */
static double max_grad(const sg_linear *m, int kind, const float *X, const float *y,
                       const float *w, int N, int D, double l2)
{
    double g[64] = {0};
    const double *b = sg_linear_coef(m);
    for (int i = 0; i < N; i++) {
        double e = sg_linear_intercept(m);
        for (int j = 0; j < D; j++) e += (double)X[(size_t)i * D + j] * b[j];
        double r = (kind == SG_LINEAR_LOGISTIC ? 1.0 / (1.0 + exp(-e)) : e) - (double)y[i];
        r *= w ? (double)w[i] : 1.0;
        g[0] += r;
        for (int j = 0; j < D; j++) g[j + 1] += r * (double)X[(size_t)i * D + j];
    }
    double worst = 0.0;
    for (int j = 0; j <= D; j++) {
        if (j > 0) g[j] += l2 * b[j - 1];
        worst = fmax(worst, fabs(g[j]));
    }
    return worst;
}

/* ---------------------------------------------------------------------------
 * agreement with scikit-learn */

/* Runs every case of linear_expected.csv with the given solver. */
static void sklearn_cases(int solver)
{
    load_data();
    static double vals[MAX_ROWS * MAX_COLS];
    char names[MAX_ROWS][16];
    int n_cols;
    int n = read_fixture("tests/data/linear_expected.csv", vals, &n_cols, names);
    assert_int_equal(n, 5);
    assert_int_equal(n_cols, 9);
    for (int c = 0; c < n; c++) {
        const double *row = vals + c * MAX_COLS;
        sg_linear_params p;
        sg_linear_params_default(&p);
        p.kind = strcmp(names[c], "ridge") == 0 ? SG_LINEAR_RIDGE : SG_LINEAR_LOGISTIC;
        p.l2 = row[1];
        p.solver = solver;
        int weighted = row[2] != 0.0;
        sg_linear *m = NULL;
        sg_error err;
        int rc = sg_linear_train(&m, fx.X, p.kind == SG_LINEAR_RIDGE ? fx.yreg : fx.ybin,
                                 weighted ? fx.w : NULL, fx.N, 5, &p, &err);
        if (rc) printf("%s\n", err.msg);
        assert_int_equal(rc, SG_OK);
        double theta[6];
        get_theta(m, theta);
        char what[96];
        snprintf(what, sizeof what, "case %d (%.15s l2=%g weighted=%d solver=%d)", c, names[c],
                 p.l2, weighted, solver);
        assert_true(rel_diff(what, theta, row + 3, 6) < 1e-4);
        sg_linear_free(m);
    }
}

/* linear-1.1: Newton coefficients equal scikit-learn's (logistic and ridge,
 * weighted and not) within 1e-4 relative */
static void sklearn_newton(void **state)
{
    (void)state;
    sklearn_cases(SG_LINEAR_NEWTON);
}

/* linear-1.2: the same with L-BFGS forced */
static void sklearn_lbfgs(void **state)
{
    (void)state;
    sklearn_cases(SG_LINEAR_LBFGS);
}

/* ---------------------------------------------------------------------------
 * optimality, weights and solvers */

enum { RN = 3000, RD = 12 };
static float rX[RN * RD], rybin[RN], ryreg[RN];

/* linear-2.1: the gradient of the penalised objective vanishes at the fit,
 * for both kinds and solvers; the loss reported is the mean penalised loss */
static void gradient_at_optimum(void **state)
{
    (void)state;
    make_data(21, RN, RD, rX, rybin, ryreg);
    for (int kind = 0; kind < 2; kind++) {
        for (int solver = 1; solver <= 2; solver++) {
            sg_linear_params p;
            sg_linear_params_default(&p);
            p.kind = kind;
            p.l2 = 0.5;
            p.solver = solver;
            sg_linear *m = NULL;
            const float *y = kind ? ryreg : rybin;
            assert_int_equal(sg_linear_train(&m, rX, y, NULL, RN, RD, &p, NULL), SG_OK);
            double g = max_grad(m, kind, rX, y, NULL, RN, RD, p.l2);
            if (g / RN > 1e-8) printf("kind %d solver %d: max |grad| / N = %.3g\n", kind, solver,
                                      g / RN);
            assert_true(g / RN < 1e-8);
            /* the reported loss is the objective / N */
            double *pred = sg_malloc(RN * sizeof *pred);
            assert_non_null(pred);
            assert_int_equal(sg_linear_predict(m, rX, RN, 1, pred, NULL), SG_OK);
            double s = 0.0, pen = 0.0;
            for (int i = 0; i < RN; i++) {
                double e = pred[i], yi = (double)y[i];
                s += kind ? 0.5 * (e - yi) * (e - yi) : log1p(exp(e)) - yi * e;
            }
            for (int j = 0; j < RD; j++) pen += sg_linear_coef(m)[j] * sg_linear_coef(m)[j];
            double loss = (s + 0.5 * p.l2 * pen) / RN;
            assert_true(fabs(loss - sg_linear_loss(m)) < 1e-10 * loss);
            assert_true(sg_linear_iterations(m) >= 1);
            sg_free(pred);
            sg_linear_free(m);
        }
    }
}

/* linear-2.2: integer weights give the same fit as duplicated rows */
static void weights_equal_duplicates(void **state)
{
    (void)state;
    enum { N = 400, D = 4 };
    static float X[N * D], yb[N], yr[N], w[N];
    static float Xd[3 * N * D], ybd[3 * N], yrd[3 * N];
    make_data(22, N, D, X, yb, yr);
    sg_rng r;
    sg_rng_init(&r, 23);
    int nd = 0;
    for (int i = 0; i < N; i++) {
        int k = (int)sg_rng_below(&r, 4); /* 0 .. 3 copies */
        w[i] = (float)k;
        for (int c = 0; c < k; c++, nd++) {
            memcpy(Xd + (size_t)nd * D, X + (size_t)i * D, D * sizeof *X);
            ybd[nd] = yb[i];
            yrd[nd] = yr[i];
        }
    }
    for (int kind = 0; kind < 2; kind++) {
        sg_linear_params p;
        sg_linear_params_default(&p);
        p.kind = kind;
        sg_linear *a = NULL, *b = NULL;
        assert_int_equal(sg_linear_train(&a, X, kind ? yr : yb, w, N, D, &p, NULL), SG_OK);
        assert_int_equal(sg_linear_train(&b, Xd, kind ? yrd : ybd, NULL, nd, D, &p, NULL),
                         SG_OK);
        double ta[D + 1], tb[D + 1];
        get_theta(a, ta);
        get_theta(b, tb);
        assert_true(rel_diff("weights vs duplicates", ta, tb, D + 1) < 1e-8);
        assert_true(fabs(sg_linear_loss(a) - sg_linear_loss(b)) < 1e-12);
        sg_linear_free(a);
        sg_linear_free(b);
    }
}

/* linear-2.3: Newton and L-BFGS agree on unscaled data, both kinds, weighted */
static void newton_vs_lbfgs(void **state)
{
    (void)state;
    make_data(24, RN, RD, rX, rybin, ryreg);
    float *w = sg_malloc(RN * sizeof *w);
    assert_non_null(w);
    for (int i = 0; i < RN; i++) w[i] = (float)(0.5 + (i % 5) * 0.25);
    for (int kind = 0; kind < 2; kind++) {
        sg_linear_params p;
        sg_linear_params_default(&p);
        p.kind = kind;
        p.l2 = 2.0;
        sg_linear *a = NULL, *b = NULL;
        p.solver = SG_LINEAR_NEWTON;
        assert_int_equal(sg_linear_train(&a, rX, kind ? ryreg : rybin, w, RN, RD, &p, NULL),
                         SG_OK);
        p.solver = SG_LINEAR_LBFGS;
        assert_int_equal(sg_linear_train(&b, rX, kind ? ryreg : rybin, w, RN, RD, &p, NULL),
                         SG_OK);
        double ta[RD + 1], tb[RD + 1];
        get_theta(a, ta);
        get_theta(b, tb);
        assert_true(rel_diff("newton vs lbfgs", ta, tb, RD + 1) < 1e-6);
        assert_true(fabs(sg_linear_loss(a) - sg_linear_loss(b)) <= 1e-12 * sg_linear_loss(a));
        sg_linear_free(a);
        sg_linear_free(b);
    }
    sg_free(w);
}

/* linear-2.4: predictions: probability = sigmoid(margin) = sigmoid(b0 + x . b) */
static void predict_values(void **state)
{
    (void)state;
    load_data();
    sg_linear *m = NULL;
    assert_int_equal(sg_linear_train(&m, fx.X, fx.ybin, NULL, fx.N, 5, NULL, NULL), SG_OK);
    double prob[MAX_ROWS], marg[MAX_ROWS];
    assert_int_equal(sg_linear_predict(m, fx.X, fx.N, 0, prob, NULL), SG_OK);
    assert_int_equal(sg_linear_predict(m, fx.X, fx.N, 1, marg, NULL), SG_OK);
    for (int i = 0; i < fx.N; i++) {
        double e = sg_linear_intercept(m);
        for (int j = 0; j < 5; j++) e += (double)fx.X[i * 5 + j] * sg_linear_coef(m)[j];
        assert_true(fabs(marg[i] - e) < 1e-12 * (1.0 + fabs(e)));
        assert_true(fabs(prob[i] - 1.0 / (1.0 + exp(-e))) < 1e-14);
        assert_true(prob[i] > 0.0 && prob[i] < 1.0);
    }
    assert_int_equal(sg_linear_predict(m, fx.X, 0, 0, prob, NULL), SG_OK);
    float bad[5] = {1, 2, NAN, 4, 5};
    sg_error err;
    assert_int_equal(sg_linear_predict(m, bad, 1, 0, prob, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "row 0, column 2"));
    sg_linear_free(m);
}

/* linear-2.5: an intercept-only model (D = 0) fits the (weighted) mean */
static void intercept_only(void **state)
{
    (void)state;
    float y[5] = {0, 1, 1, 0, 1}, w[5] = {1, 1, 2, 3, 1}, yr[5] = {1, 2, 3, 4, 5};
    sg_linear *m = NULL;
    assert_int_equal(sg_linear_train(&m, NULL, y, w, 5, 0, NULL, NULL), SG_OK);
    double q = 4.0 / 8.0;
    assert_true(fabs(sg_linear_intercept(m) - log(q / (1 - q))) < 1e-9);
    sg_linear_free(m);
    sg_linear_params p;
    sg_linear_params_default(&p);
    p.kind = SG_LINEAR_RIDGE;
    assert_int_equal(sg_linear_train(&m, NULL, yr, NULL, 5, 0, &p, NULL), SG_OK);
    assert_true(fabs(sg_linear_intercept(m) - 3.0) < 1e-12);
    sg_linear_free(m);
}

/* linear-2.6: l2 = 0 with a duplicated column: a warning and a ridge jitter,
 * and still a fit that predicts like the unpenalised one; separable classes
 * with l2 = 0 end without a crash (a warning, finite coefficients) */
static void singular_hessian(void **state)
{
    (void)state;
    enum { N = 200 };
    static float X[N * 3], y[N], yb[N];
    sg_rng r;
    sg_rng_init(&r, 26);
    for (int i = 0; i < N; i++) {
        float a = (float)sg_rng_normal(&r), b = (float)sg_rng_normal(&r);
        X[i * 3] = a;
        X[i * 3 + 1] = b;
        X[i * 3 + 2] = a; /* collinear */
        y[i] = 1.0f + 2.0f * a - b + (float)(0.1 * sg_rng_normal(&r));
        yb[i] = a > 0 ? 1.0f : 0.0f; /* separable */
    }
    sg_linear_params p;
    sg_linear_params_default(&p);
    p.kind = SG_LINEAR_RIDGE;
    p.l2 = 0.0;
    sg_linear *m = NULL;
    n_warnings = 0;
    assert_int_equal(sg_linear_train(&m, X, y, NULL, N, 3, &p, NULL), SG_OK);
    assert_true(n_warnings >= 1);
    const double *b = sg_linear_coef(m);
    assert_true(fabs(b[0] + b[2] - 2.0) < 0.05 && fabs(b[1] + 1.0) < 0.05);
    sg_linear_free(m);

    p.kind = SG_LINEAR_LOGISTIC;
    p.max_iter = 30;
    n_warnings = 0;
    sg_error err;
    int rc = sg_linear_train(&m, X, yb, NULL, N, 3, &p, &err);
    assert_true(rc == SG_OK || rc == SG_ENUMERIC);
    assert_true(n_warnings >= 1 || rc == SG_ENUMERIC);
    if (rc == SG_OK) {
        double pred[N];
        assert_int_equal(sg_linear_predict(m, X, N, 0, pred, NULL), SG_OK);
        for (int i = 0; i < N; i++) assert_true(fabs(pred[i] - (double)yb[i]) < 0.01);
        sg_linear_free(m);
    }
}

/* linear-2.7: same data, same bytes */
static void deterministic(void **state)
{
    (void)state;
    make_data(27, RN, RD, rX, rybin, ryreg);
    unsigned char *b1 = NULL, *b2 = NULL;
    size_t n1 = 0, n2 = 0;
    for (int k = 0; k < 2; k++) {
        sg_linear *m = NULL;
        assert_int_equal(sg_linear_train(&m, rX, rybin, NULL, RN, RD, NULL, NULL), SG_OK);
        assert_int_equal(sg_linear_save(m, k ? &b2 : &b1, k ? &n2 : &n1, NULL), SG_OK);
        sg_linear_free(m);
    }
    assert_true(n1 == n2 && memcmp(b1, b2, n1) == 0);
    sg_free(b1);
    sg_free(b2);
}

/* linear-2.8: a pass split over worker threads (BLAS single-threaded, enough
 * rows) gives the fit of one sweep in order, and a vanishing gradient */
static void parallel_workers(void **state)
{
    (void)state;
    enum { N = 45000, D = 8 }; /* N (D + 17) > 2^20: enough work for workers */
    float *X = sg_malloc((size_t)N * D * sizeof *X), *yb = sg_malloc(N * sizeof *yb);
    float *yr = sg_malloc(N * sizeof *yr);
    assert_true(X && yb && yr);
    make_data(28, N, D, X, yb, yr);
    int old = sg_blas_get_threads();
    for (int kind = 0; kind < 2; kind++) {
        sg_linear_params p;
        sg_linear_params_default(&p);
        p.kind = kind;
        sg_linear *a = NULL, *b = NULL;
        sg_blas_set_threads(1); /* workers, when OpenMP has threads */
        assert_int_equal(sg_linear_train(&a, X, kind ? yr : yb, NULL, N, D, &p, NULL), SG_OK);
        sg_blas_set_threads(old > 1 ? old : 2); /* one sweep (BLAS builds) */
        assert_int_equal(sg_linear_train(&b, X, kind ? yr : yb, NULL, N, D, &p, NULL), SG_OK);
        sg_blas_set_threads(old);
        double ta[D + 1], tb[D + 1];
        get_theta(a, ta);
        get_theta(b, tb);
        assert_true(rel_diff("workers vs one sweep", ta, tb, D + 1) < 1e-9);
        double g = max_grad(a, kind, X, kind ? yr : yb, NULL, N, D, p.l2);
        if (g / N > 1e-9) printf("kind %d: max |grad| / N = %.3g\n", kind, g / N);
        assert_true(g / N < 1e-9);
        /* L-BFGS over workers reaches the same point */
        sg_linear *c = NULL;
        p.solver = SG_LINEAR_LBFGS;
        sg_blas_set_threads(1);
        assert_int_equal(sg_linear_train(&c, X, kind ? yr : yb, NULL, N, D, &p, NULL), SG_OK);
        sg_blas_set_threads(old);
        get_theta(c, tb);
        assert_true(rel_diff("workers: newton vs lbfgs", ta, tb, D + 1) < 1e-6);
        sg_linear_free(a);
        sg_linear_free(b);
        sg_linear_free(c);
    }
    sg_free(X);
    sg_free(yb);
    sg_free(yr);
}

/* ---------------------------------------------------------------------------
 * errors */

/* linear-3.1: a label other than 0/1 names the row and the value */
static void bad_labels(void **state)
{
    (void)state;
    load_data();
    static float y[MAX_ROWS];
    memcpy(y, fx.ybin, sizeof y);
    y[7] = 2.0f;
    sg_linear *m = NULL;
    sg_error err;
    assert_int_equal(sg_linear_train(&m, fx.X, y, NULL, fx.N, 5, NULL, &err), SG_EINVAL);
    assert_null(m);
    assert_non_null(strstr(err.msg, "row 7"));
    assert_non_null(strstr(err.msg, "got 2"));
    y[7] = NAN;
    assert_int_equal(sg_linear_train(&m, fx.X, y, NULL, fx.N, 5, NULL, &err), SG_EINVAL);
    sg_linear_params p;
    sg_linear_params_default(&p);
    p.kind = SG_LINEAR_RIDGE;
    assert_int_equal(sg_linear_train(&m, fx.X, y, NULL, fx.N, 5, &p, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "row 7"));
}

/* linear-3.2: a non-finite feature names the first bad row and column */
static void non_finite_x(void **state)
{
    (void)state;
    load_data();
    static float X[MAX_ROWS * 5];
    memcpy(X, fx.X, sizeof X);
    X[250 * 5 + 4] = NAN;
    X[101 * 5 + 3] = INFINITY;
    sg_linear *m = NULL;
    sg_error err;
    assert_int_equal(sg_linear_train(&m, X, fx.ybin, NULL, fx.N, 5, NULL, &err), SG_EINVAL);
    assert_null(m);
    assert_non_null(strstr(err.msg, "row 101, column 3"));
}

/* linear-3.3: invalid params, sizes and weights are SG_EINVAL with a message */
static void bad_params(void **state)
{
    (void)state;
    load_data();
    sg_linear *m = NULL;
    sg_error err;
    sg_linear_params p;
    struct { const char *field; const char *expect; } cases[] = {
        {"l2", "l2"}, {"l2nan", "l2"}, {"max_iter", "max_iter"}, {"kind", "kind"},
        {"solver", "solver"}, {"tol", "tol"}, {"lbfgs", "lbfgs_max_iter"},
    };
    for (int c = 0; c < (int)(sizeof cases / sizeof cases[0]); c++) {
        sg_linear_params_default(&p);
        if (c == 0) p.l2 = -1.0;
        if (c == 1) p.l2 = NAN;
        if (c == 2) p.max_iter = 0;
        if (c == 3) p.kind = 5;
        if (c == 4) p.solver = 7;
        if (c == 5) p.tol = -1.0;
        if (c == 6) p.lbfgs_max_iter = 0;
        err.msg[0] = 0;
        assert_int_equal(sg_linear_train(&m, fx.X, fx.ybin, NULL, fx.N, 5, &p, &err), SG_EINVAL);
        assert_non_null(strstr(err.msg, cases[c].expect));
        assert_null(m);
    }
    assert_int_equal(sg_linear_train(&m, fx.X, fx.ybin, NULL, 0, 5, NULL, &err), SG_EINVAL);
    assert_int_equal(sg_linear_train(&m, fx.X, fx.ybin, NULL, fx.N, -1, NULL, &err), SG_EINVAL);
    assert_int_equal(sg_linear_train(NULL, fx.X, fx.ybin, NULL, fx.N, 5, NULL, &err),
                     SG_EINVAL);
    static float w[MAX_ROWS];
    for (int i = 0; i < fx.N; i++) w[i] = 1.0f;
    w[9] = -1.0f;
    assert_int_equal(sg_linear_train(&m, fx.X, fx.ybin, w, fx.N, 5, NULL, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "row 9"));
    memset(w, 0, sizeof w);
    assert_int_equal(sg_linear_train(&m, fx.X, fx.ybin, w, fx.N, 5, NULL, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "zero"));
    assert_null(m);
}

/* ---------------------------------------------------------------------------
 * serialisation */

/* linear-4.1: save/load keeps coefficients, params and predictions exactly */
static void save_load(void **state)
{
    (void)state;
    load_data();
    sg_linear_params p;
    sg_linear_params_default(&p);
    p.kind = SG_LINEAR_RIDGE;
    p.l2 = 3.5;
    sg_linear *m = NULL, *m2 = NULL;
    assert_int_equal(sg_linear_train(&m, fx.X, fx.yreg, fx.w, fx.N, 5, &p, NULL), SG_OK);
    unsigned char *buf = NULL;
    size_t len = 0;
    assert_int_equal(sg_linear_save(m, &buf, &len, NULL), SG_OK);
    assert_int_equal(sg_linear_load(&m2, buf, len, NULL), SG_OK);
    assert_int_equal(sg_linear_n_features(m2), 5);
    assert_true(sg_linear_intercept(m2) == sg_linear_intercept(m));
    assert_memory_equal(sg_linear_coef(m2), sg_linear_coef(m), 5 * sizeof(double));
    assert_true(sg_linear_loss(m2) == sg_linear_loss(m));
    assert_int_equal(sg_linear_iterations(m2), sg_linear_iterations(m));
    assert_int_equal(sg_linear_get_params(m2)->kind, SG_LINEAR_RIDGE);
    assert_true(sg_linear_get_params(m2)->l2 == 3.5);
    double a[MAX_ROWS], b[MAX_ROWS];
    assert_int_equal(sg_linear_predict(m, fx.X, fx.N, 0, a, NULL), SG_OK);
    assert_int_equal(sg_linear_predict(m2, fx.X, fx.N, 0, b, NULL), SG_OK);
    assert_memory_equal(a, b, (size_t)fx.N * sizeof(double));
    sg_free(buf);
    sg_linear_free(m);
    sg_linear_free(m2);
}

/* linear-4.2: every truncation, a foreign magic, trailing bytes and a corrupt
 * width are SG_EPARSE, and nothing is returned */
static void load_corrupt(void **state)
{
    (void)state;
    load_data();
    sg_linear *m = NULL, *m2 = NULL;
    assert_int_equal(sg_linear_train(&m, fx.X, fx.ybin, NULL, fx.N, 5, NULL, NULL), SG_OK);
    unsigned char *buf = NULL;
    size_t len = 0;
    assert_int_equal(sg_linear_save(m, &buf, &len, NULL), SG_OK);
    sg_error err;
    for (size_t k = 0; k < len; k++) {
        assert_int_equal(sg_linear_load(&m2, buf, k, &err), SG_EPARSE);
        assert_null(m2);
    }
    unsigned char *big = sg_malloc(len + 1);
    assert_non_null(big);
    memcpy(big, buf, len);
    big[len] = 0;
    assert_int_equal(sg_linear_load(&m2, big, len + 1, &err), SG_EPARSE);
    big[0] ^= 0xFF;
    assert_int_equal(sg_linear_load(&m2, big, len, &err), SG_EPARSE);
    assert_non_null(strstr(err.msg, "magic"));
    memcpy(big, buf, len);
    big[12] = 0x7F; /* D, little-endian i32 at offset 12: huge */
    big[15] = 0x40;
    assert_int_equal(sg_linear_load(&m2, big, len, &err), SG_EPARSE);
    big[15] = 0x00; /* D plausible but not what the length says */
    assert_int_equal(sg_linear_load(&m2, big, len, &err), SG_EPARSE);
    assert_null(m2);
    sg_free(big);
    sg_free(buf);
    sg_linear_free(m);
}

/* ---------------------------------------------------------------------------
 * allocation failures */

/* linear-5.1: failing the n-th allocation of train (both solvers), save and
 * load gives SG_ENOMEM and leaks nothing, for every n */
static void alloc_failures(void **state)
{
    (void)state;
    load_data();
    int64_t live = sg_mem_live_bytes();
    for (int solver = 1; solver <= 2; solver++) {
        sg_linear_params p;
        sg_linear_params_default(&p);
        p.solver = solver;
        int done = 0;
        for (int64_t n = 0; n < 200 && !done; n++) {
            sg_linear *m = NULL;
            sg_mem_fail_after(n);
            int rc = sg_linear_train(&m, fx.X, fx.ybin, fx.w, fx.N, 5, &p, NULL);
            sg_mem_fail_after(-1);
            if (rc == SG_OK) {
                done = 1;
                unsigned char *buf = NULL;
                size_t len = 0;
                for (int64_t k = 0; k < 50; k++) {
                    sg_mem_fail_after(k);
                    rc = sg_linear_save(m, &buf, &len, NULL);
                    sg_mem_fail_after(-1);
                    if (rc == SG_OK) break;
                    assert_int_equal(rc, SG_ENOMEM);
                }
                assert_int_equal(rc, SG_OK);
                for (int64_t k = 0; k < 50; k++) {
                    sg_linear *m2 = NULL;
                    sg_mem_fail_after(k);
                    sg_error lerr;
                    rc = sg_linear_load(&m2, buf, len, &lerr);
                    if (rc && rc != SG_ENOMEM) printf("load: %s\n", lerr.msg);
                    sg_mem_fail_after(-1);
                    sg_linear_free(m2);
                    if (rc == SG_OK) break;
                    assert_int_equal(rc, SG_ENOMEM);
                    assert_null(m2);
                }
                assert_int_equal(rc, SG_OK);
                sg_free(buf);
                sg_linear_free(m);
            } else {
                assert_int_equal(rc, SG_ENOMEM);
                assert_null(m);
            }
            assert_int_equal(sg_mem_live_bytes(), live);
        }
        assert_true(done);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sklearn_newton),        cmocka_unit_test(sklearn_lbfgs),
        cmocka_unit_test(gradient_at_optimum),   cmocka_unit_test(weights_equal_duplicates),
        cmocka_unit_test(newton_vs_lbfgs),       cmocka_unit_test(predict_values),
        cmocka_unit_test(intercept_only),        cmocka_unit_test(singular_hessian),
        cmocka_unit_test(deterministic),         cmocka_unit_test(parallel_workers),
        cmocka_unit_test(bad_labels),
        cmocka_unit_test(non_finite_x),          cmocka_unit_test(bad_params),
        cmocka_unit_test(save_load),             cmocka_unit_test(load_corrupt),
        cmocka_unit_test(alloc_failures),
    };
    return cmocka_run_group_tests_name("linear", tests, silence, NULL);
}

/* test_gbdt.c -- histogram gradient-boosted trees: learning, missing values,
 * categorical splits, determinism, serialisation, validation, early stopping,
 * weights and allocation failures.
 *
 * The module is included with TESTING defined (STYLE.md section 8) so that
 * tests can shrink its histogram pool and let threads run on small data; the
 * library's gbdt.o is then not linked. */
#define TESTING
#include "models/gbdt.c"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "io/serial.h"
#include "stratagem/error.h"
#include "stratagem/gbdt.h"
#include "stratagem/log.h"
#include "stratagem/mem.h"
#include "stratagem/rng.h"

/* ---------------------------------------------------------------- helpers */

typedef struct data {
    int64_t N;
    int D;
    float *X;   /* (N, D) */
    float *y;   /* (N) */
} data;

static void data_free(data *d)
{
    free(d->X);
    free(d->y);
    memset(d, 0, sizeof *d);
}

static double sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }

/* Binary target: a threshold, an interaction and a curve on 3 of D features
 * (the others are noise); feature 3, when D > 3, is missing 20% of the time. */
static data make_binary(int64_t N, int D, uint64_t seed)
{
    data d = {N, D, malloc((size_t)N * D * sizeof(float)), malloc((size_t)N * sizeof(float))};
    sg_rng r;
    sg_rng_init(&r, seed);
    for (int64_t i = 0; i < N; i++) {
        float *x = d.X + i * D;
        for (int f = 0; f < D; f++) x[f] = (float)sg_rng_normal(&r);
        double z = 2.5 * (x[0] > 0.3f) + 1.5 * (double)x[1] * (double)x[2] -
                   (double)(x[1] * x[1]) + 0.3;
        d.y[i] = sg_rng_uniform(&r) < sigmoid(2.0 * z) ? 1.0f : 0.0f;
        if (D > 3 && sg_rng_uniform(&r) < 0.2) x[3] = NAN;
    }
    return d;
}

static data make_regression(int64_t N, int D, uint64_t seed)
{
    data d = {N, D, malloc((size_t)N * D * sizeof(float)), malloc((size_t)N * sizeof(float))};
    sg_rng r;
    sg_rng_init(&r, seed);
    for (int64_t i = 0; i < N; i++) {
        float *x = d.X + i * D;
        for (int f = 0; f < D; f++) x[f] = (float)(4.0 * sg_rng_uniform(&r) - 2.0);
        d.y[i] = (float)(2.0 * sin(2.0 * (double)x[0]) + (double)x[1] +
                         0.1 * sg_rng_normal(&r));
    }
    return d;
}

static const double *g_s;   /* scores for cmp_idx */

static int cmp_idx(const void *a, const void *b)
{
    double x = g_s[*(const int64_t *)a], y = g_s[*(const int64_t *)b];
    return (x > y) - (x < y);
}

/* AUC with ties sharing their average rank. */
static double auc(const float *y, const double *s, int64_t n)
{
    int64_t *o = malloc((size_t)n * sizeof *o);
    for (int64_t i = 0; i < n; i++) o[i] = i;
    g_s = s;
    qsort(o, (size_t)n, sizeof *o, cmp_idx);
    double rank_pos = 0, npos = 0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        while (j < n && s[o[j]] == s[o[i]]) j++;
        for (int64_t k = i; k < j; k++)
            if (y[o[k]] > 0.5f) {
                rank_pos += 0.5 * (double)(i + 1 + j);
                npos++;
            }
        i = j;
    }
    free(o);
    return (rank_pos - npos * (npos + 1) / 2) / (npos * ((double)n - npos));
}

static double logloss(const float *y, const double *p, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++) {
        double q = fmin(fmax(p[i], 1e-15), 1 - 1e-15);
        s -= y[i] > 0.5f ? log(q) : log(1 - q);
    }
    return s / (double)n;
}

static sg_gbdt_params small_params(void)
{
    sg_gbdt_params p;
    sg_gbdt_params_default(&p);
    p.n_trees = 50;
    p.max_leaves = 16;
    p.max_depth = 5;
    p.learning_rate = 0.2f;
    p.n_threads = 2;
    return p;
}

static sg_gbdt *train_ok(const data *d, const float *w, const uint8_t *is_cat, const data *v,
                         const sg_gbdt_params *p)
{
    sg_gbdt *m = NULL;
    sg_error err;
    int rc = sg_gbdt_train(&m, d->X, d->y, w, d->N, d->D, is_cat, v ? v->X : NULL,
                           v ? v->y : NULL, v ? v->N : 0, p, &err);
    if (rc) fprintf(stderr, "train failed: %s\n", err.msg);
    assert_int_equal(rc, SG_OK);
    assert_non_null(m);
    return m;
}

static double *predict(const sg_gbdt *m, const float *X, int64_t N)
{
    double *out = malloc((size_t)N * sizeof *out);
    assert_int_equal(sg_gbdt_predict(m, X, N, 0, out, NULL), SG_OK);
    return out;
}

static unsigned char *save(const sg_gbdt *m, size_t *len)
{
    unsigned char *buf = NULL;
    assert_int_equal(sg_gbdt_save(m, &buf, len, NULL), SG_OK);
    return buf;
}

static int same_model(const sg_gbdt *a, const sg_gbdt *b)
{
    size_t la, lb;
    unsigned char *ba = save(a, &la), *bb = save(b, &lb);
    int same = la == lb && memcmp(ba, bb, la) == 0;
    sg_free(ba);
    sg_free(bb);
    return same;
}

/* ---------------------------------------------------------------- learning */

/* gbdt-1.1: a nonlinear binary target is learned: held-out AUC > 0.9 and
 * logloss well below the constant model's */
static void learns_binary(void **state)
{
    (void)state;
    data tr = make_binary(6000, 6, 1), te = make_binary(3000, 6, 2);
    sg_gbdt_params p = small_params();
    sg_gbdt *m = train_ok(&tr, NULL, NULL, NULL, &p);
    double *pr = predict(m, te.X, te.N);
    double a = auc(te.y, pr, te.N), ll = logloss(te.y, pr, te.N);
    double rate = 0;
    for (int64_t i = 0; i < te.N; i++) rate += (double)te.y[i];
    rate /= (double)te.N;
    double ll0 = -(rate * log(rate) + (1 - rate) * log(1 - rate));
    assert_true(a > 0.90);
    assert_true(ll < 0.7 * ll0);
    assert_int_equal(sg_gbdt_n_trees(m), 50);
    assert_int_equal(sg_gbdt_n_features(m), 6);
    assert_true(sg_gbdt_get_params(m)->max_leaves == 16);
    /* margins are the log-odds of the probabilities */
    double *mg = malloc((size_t)te.N * sizeof *mg);
    assert_int_equal(sg_gbdt_predict(m, te.X, te.N, 1, mg, NULL), SG_OK);
    for (int64_t i = 0; i < te.N; i++) assert_true(fabs(sigmoid(mg[i]) - pr[i]) < 1e-12);
    /* the informative features carry most of the gain */
    double gain[6];
    sg_gbdt_importance(m, gain);
    assert_true(gain[0] > gain[4] && gain[1] > gain[4] && gain[2] > gain[5]);
    free(mg);
    free(pr);
    sg_gbdt_free(m);
    data_free(&tr);
    data_free(&te);
}

/* gbdt-1.2: squared error fits a smooth function: held-out RMSE < 0.3 (label sd ~ 1.9) */
static void learns_regression(void **state)
{
    (void)state;
    data tr = make_regression(5000, 4, 3), te = make_regression(2000, 4, 4);
    sg_gbdt_params p = small_params();
    p.objective = SG_GBDT_SQUARED;
    p.n_trees = 100;
    sg_gbdt *m = train_ok(&tr, NULL, NULL, NULL, &p);
    double *pr = predict(m, te.X, te.N), se = 0;
    for (int64_t i = 0; i < te.N; i++) se += (pr[i] - (double)te.y[i]) * (pr[i] - (double)te.y[i]);
    double rmse = sqrt(se / (double)te.N);
    assert_true(rmse < 0.3);
    free(pr);
    sg_gbdt_free(m);
    data_free(&tr);
    data_free(&te);
}

/* gbdt-1.3: default parameters are the documented ones */
static void params_default(void **state)
{
    (void)state;
    sg_gbdt_params p;
    sg_gbdt_params_default(&p);
    assert_int_equal(p.objective, SG_GBDT_LOGLOSS);
    assert_int_equal(p.n_trees, 300);
    assert_int_equal(p.max_depth, 6);
    assert_int_equal(p.max_leaves, 31);
    assert_true(p.learning_rate == 0.1f && p.lambda_l2 == 1.0f && p.min_child_weight == 1.0f);
    assert_true(p.subsample == 1.0f && p.colsample == 1.0f && p.min_split_gain == 0.0f);
    assert_int_equal(p.max_bins, 255);
    assert_true(p.seed == SG_DEFAULT_SEED);
    assert_int_equal(p.n_threads, 0);
    assert_null(sg_gbdt_get_params(NULL));
    assert_int_equal(sg_gbdt_n_trees(NULL), 0);
    sg_gbdt_free(NULL);
}

/* ---------------------------------------------------------------- missing, categorical */

/* gbdt-2.1: a feature where NaN means "positive" is learned through the
 * missing direction, and NaN in a feature never missing in training works */
static void missing_direction(void **state)
{
    (void)state;
    const int64_t N = 4000;
    data d = {N, 2, malloc((size_t)N * 2 * sizeof(float)), malloc((size_t)N * sizeof(float))};
    sg_rng r;
    sg_rng_init(&r, 5);
    for (int64_t i = 0; i < N; i++) {
        int pos = sg_rng_uniform(&r) < 0.4;
        d.y[i] = (float)pos;
        /* value carries no signal; being missing does (90% of positives, 5% of negatives) */
        double u = sg_rng_uniform(&r);
        d.X[2 * i] = (pos ? u < 0.9 : u < 0.05) ? NAN : (float)sg_rng_normal(&r);
        d.X[2 * i + 1] = (float)sg_rng_normal(&r);
    }
    sg_gbdt_params p = small_params();
    p.n_trees = 20;
    sg_gbdt *m = train_ok(&d, NULL, NULL, NULL, &p);
    float q[8] = {NAN, 0.0f, 0.5f, 0.0f, -1.0f, 0.0f, 0.5f, NAN};
    double out[4];
    assert_int_equal(sg_gbdt_predict(m, q, 4, 0, out, NULL), SG_OK);
    assert_true(out[0] > 0.85);   /* P(pos | missing) = 0.36 / 0.39 = 0.92 */
    assert_true(out[1] < 0.1);    /* P(pos | present) = 0.04 / 0.61 = 0.07 */
    assert_true(out[2] < 0.1);
    assert_true(out[3] < 0.1 && isfinite(out[3]));
    sg_gbdt_free(m);
    data_free(&d);
}

/* gbdt-2.2: with a shuffled category -> label mapping, a categorical split beats
 * the same codes used as numbers; unseen and negative codes are handled as missing */
static void categorical_split(void **state)
{
    (void)state;
    enum { K = 40 };
    double rate[K];
    sg_rng r;
    sg_rng_init(&r, 7);
    for (int k = 0; k < K; k++) rate[k] = sg_rng_uniform(&r) < 0.5 ? 0.1 : 0.9;
    data tr = {6000, 2, malloc(6000 * 2 * sizeof(float)), malloc(6000 * sizeof(float))};
    data te = {3000, 2, malloc(3000 * 2 * sizeof(float)), malloc(3000 * sizeof(float))};
    data *sets[2] = {&tr, &te};
    for (int s = 0; s < 2; s++)
        for (int64_t i = 0; i < sets[s]->N; i++) {
            int c = (int)sg_rng_below(&r, K);
            sets[s]->X[2 * i] = (float)c;
            sets[s]->X[2 * i + 1] = (float)sg_rng_normal(&r);
            sets[s]->y[i] = sg_rng_uniform(&r) < rate[c] ? 1.0f : 0.0f;
        }
    sg_gbdt_params p = small_params();
    p.n_trees = 5;
    p.max_leaves = 4;
    p.max_depth = 2;
    p.learning_rate = 0.5f;
    uint8_t is_cat[2] = {1, 0};
    sg_gbdt *mc = train_ok(&tr, NULL, is_cat, NULL, &p);
    sg_gbdt *mn = train_ok(&tr, NULL, NULL, NULL, &p);
    double *pc = predict(mc, te.X, te.N), *pn = predict(mn, te.X, te.N);
    double ac = auc(te.y, pc, te.N), an = auc(te.y, pn, te.N);
    /* the best achievable AUC here is about 0.9 */
    assert_true(ac > 0.85);
    assert_true(ac > an + 0.05);
    float q[8] = {100.0f, 0.0f, -3.0f, 0.0f, NAN, 0.0f, 2.5f, 0.0f};
    double out[4];
    assert_int_equal(sg_gbdt_predict(mc, q, 4, 0, out, NULL), SG_OK);
    assert_true(out[0] == out[1] && out[1] == out[2]);   /* unseen, negative, NaN: one path */
    assert_true(out[0] > 0.0 && out[0] < 1.0 && isfinite(out[3]));
    free(pc);
    free(pn);
    sg_gbdt_free(mc);
    sg_gbdt_free(mn);
    data_free(&tr);
    data_free(&te);
}

/* gbdt-2.3: predicting under every value of one feature (the action of an
 * uplift model) gives, to the last bit, what K separate predictions with that
 * column set give: for a categorical column whose effect interacts with the
 * others, for a numeric one, with NaN in the other columns, values past the
 * categories seen, models trained and run on 1, 2 and 3 threads; and a wrong
 * feature or count is SG_EINVAL */
static void sweep_matches_predict(void **state)
{
    (void)state;
    enum { N = 3000, D = 4, T = 2000 };
    sg_rng r;
    sg_rng_init(&r, 11);
    data tr = {N, D, malloc(N * D * sizeof(float)), malloc(N * sizeof(float))};
    for (int64_t i = 0; i < N; i++) {
        float *x = tr.X + i * D;
        int arm = (int)sg_rng_below(&r, 5);
        x[0] = (float)sg_rng_normal(&r);
        x[1] = sg_rng_uniform(&r) < 0.1 ? NAN : (float)sg_rng_normal(&r);
        x[2] = (float)sg_rng_below(&r, 7);
        x[3] = (float)arm;
        double x0 = x[0], x1 = x[1];
        double z = 0.5 * x0 + (arm == 1 ? x0 : 0) - (arm >= 3 ? 1.0 : 0) +
                   (isnan(x1) ? 1.0 : 0.3 * x1) + (x[2] == 4.0f ? 0.8 : 0);
        tr.y[i] = sg_rng_uniform(&r) < 1 / (1 + exp(-z)) ? 1.0f : 0.0f;
    }
    uint8_t is_cat[D] = {0, 0, 1, 1};
    float *Q = malloc((size_t)T * D * sizeof *Q);
    for (int i = 0; i < T; i++) {       /* rows whose column f the sweep must not read */
        memcpy(Q + i * D, tr.X + i * D, D * sizeof *Q);
        Q[i * D + 3] = NAN;
        Q[i * D + 0] = i % 5 == 0 ? NAN : Q[i * D + 0];
    }
    int fs[2] = {3, 0}, ks[2] = {7, 3};   /* arms 0..6 (5 and 6 never seen); x0 = 0, 1, 2 */
    double *sw = malloc((size_t)T * 7 * sizeof *sw), *one = malloc(T * sizeof *one);
    float *Qv = malloc((size_t)T * D * sizeof *Qv);
    int64_t n_diff_arms = 0;
    sg_gbdt_params p = small_params();
    p.n_trees = 60;
    for (int threads = 1; threads <= 3; threads++) {
        p.n_threads = threads;
        sg_gbdt *m = train_ok(&tr, NULL, is_cat, NULL, &p);
        for (int c = 0; c < 2; c++)
            for (int margin = 0; margin < 2; margin++) {
                int f = fs[c], K = ks[c];
                assert_int_equal(sg_gbdt_predict_sweep(m, Q, T, f, K, margin, sw, NULL), SG_OK);
                for (int v = 0; v < K; v++) {
                    memcpy(Qv, Q, (size_t)T * D * sizeof *Qv);
                    for (int i = 0; i < T; i++) Qv[i * D + f] = (float)v;
                    assert_int_equal(sg_gbdt_predict(m, Qv, T, margin, one, NULL), SG_OK);
                    for (int i = 0; i < T; i++) {
                        assert_memory_equal(&sw[i * K + v], &one[i], sizeof one[i]);
                        if (c == 0 && v > 0 && sw[i * K + v] != sw[i * K]) n_diff_arms++;
                    }
                }
            }
        sg_error err;
        assert_int_equal(sg_gbdt_predict_sweep(m, Q, T, D, 2, 0, sw, &err), SG_EINVAL);
        assert_non_null(strstr(err.msg, "swept feature 4"));
        assert_int_equal(sg_gbdt_predict_sweep(m, Q, T, 3, 65, 0, sw, &err), SG_EINVAL);
        assert_int_equal(sg_gbdt_predict_sweep(m, Q, T, 3, 0, 0, sw, &err), SG_EINVAL);
        assert_int_equal(sg_gbdt_predict_sweep(NULL, Q, T, 3, 2, 0, sw, &err), SG_EINVAL);
        assert_int_equal(sg_gbdt_predict_sweep(m, Q, 0, 3, 2, 0, NULL, NULL), SG_OK);
        sg_gbdt_free(m);
    }
    assert_true(n_diff_arms > T);   /* the arm matters: not one value K times */
    free(Q);
    free(Qv);
    free(sw);
    free(one);
    data_free(&tr);
}

/* ---------------------------------------------------------------- determinism, serialisation */

/* gbdt-3.1: the same seed gives the same bytes; 1, 2 and 3 threads agree.  The
 * data is large enough for the blocked (parallel) histogram and partition paths. */
static void determinism(void **state)
{
    (void)state;
    data d = make_binary(70000, 5, 11);
    uint8_t is_cat[5] = {0, 0, 0, 0, 1};
    for (int64_t i = 0; i < d.N; i++) d.X[i * 5 + 4] = (float)(i % 7);
    sg_gbdt_params p = small_params();
    p.n_trees = 3;
    p.max_leaves = 8;
    p.subsample = 0.8f;
    p.colsample = 0.8f;
    p.n_threads = 1;
    values_per_thread = 1;   /* let 2 and 3 threads run on this small set */
    sg_gbdt *a = train_ok(&d, NULL, is_cat, NULL, &p);
    sg_gbdt *b = train_ok(&d, NULL, is_cat, NULL, &p);
    p.n_threads = 2;
    sg_gbdt *c = train_ok(&d, NULL, is_cat, NULL, &p);
    p.n_threads = 3;
    sg_gbdt *e = train_ok(&d, NULL, is_cat, NULL, &p);
    p.seed = 99;
    p.n_threads = 1;
    sg_gbdt *f = train_ok(&d, NULL, is_cat, NULL, &p);
    /* weights spanning many magnitudes: sums in another order would round
     * differently (sums of floats of similar size are exact in double) */
    sg_rng r;
    sg_rng_init(&r, 12);
    float *w = malloc((size_t)d.N * sizeof *w);
    for (int64_t i = 0; i < d.N; i++) {
        d.y[i] = (float)sg_rng_normal(&r);
        w[i] = (float)exp(5.0 * sg_rng_normal(&r));
    }
    p.objective = SG_GBDT_SQUARED;
    p.n_threads = 1;
    sg_gbdt *g = train_ok(&d, w, is_cat, NULL, &p);
    p.n_threads = 2;
    sg_gbdt *h = train_ok(&d, w, is_cat, NULL, &p);
    values_per_thread = VALUES_PER_THREAD;
    assert_true(same_model(a, b));
    assert_true(same_model(a, c));
    assert_true(same_model(a, e));
    assert_false(same_model(a, f));
    assert_true(same_model(g, h));
    sg_gbdt_free(g);
    sg_gbdt_free(h);
    free(w);
    sg_gbdt_free(a);
    sg_gbdt_free(b);
    sg_gbdt_free(c);
    sg_gbdt_free(e);
    sg_gbdt_free(f);
    data_free(&d);
}

/* gbdt-3.3: with a histogram pool too small for every leaf, leaves lose their
 * histograms and rebuild their children from rows: the same trees, up to rounding */
static void hist_eviction(void **state)
{
    (void)state;
    data d = make_binary(3000, 6, 41);
    sg_gbdt_params p = small_params();
    p.n_trees = 5;
    p.max_leaves = 40;
    p.max_depth = 0;
    p.min_child_weight = 0.1f;
    sg_gbdt *a = train_ok(&d, NULL, NULL, NULL, &p);
    size_t saved = hist_pool_bytes;
    assert_int_equal(n_evictions, 0);
    hist_pool_bytes = 1;   /* three buffers, the minimum */
    sg_gbdt *b = train_ok(&d, NULL, NULL, NULL, &p);
    hist_pool_bytes = saved;
    assert_true(n_evictions > 20);
    assert_int_equal(a->n_nodes, b->n_nodes);
    assert_true(a->n_nodes > 5 * 60);
    double *pa = predict(a, d.X, d.N), *pb = predict(b, d.X, d.N);
    for (int64_t i = 0; i < d.N; i++) assert_true(fabs(pa[i] - pb[i]) < 1e-9);
    free(pa);
    free(pb);
    sg_gbdt_free(a);
    sg_gbdt_free(b);
    data_free(&d);
}

/* A small model with numeric, missing and categorical splits, for the file tests. */
static sg_gbdt *small_model(data *d)
{
    *d = make_binary(400, 5, 13);
    for (int64_t i = 0; i < d->N; i++) d->X[i * 5 + 4] = (float)(i % 5);
    for (int64_t i = 0; i < d->N; i += 5) d->y[i] = 1.0f;   /* code 0 is mostly positive */
    uint8_t is_cat[5] = {0, 0, 0, 0, 1};
    sg_gbdt_params p = small_params();
    p.n_trees = 3;
    p.max_leaves = 6;
    return train_ok(d, NULL, is_cat, NULL, &p);
}

/* gbdt-3.2: save/load round trip: identical predictions and identical bytes */
static void save_load(void **state)
{
    (void)state;
    data d;
    sg_gbdt *m = small_model(&d);
    size_t len;
    unsigned char *buf = save(m, &len);
    sg_gbdt *m2 = NULL;
    sg_error err;
    assert_int_equal(sg_gbdt_load(&m2, buf, len, &err), SG_OK);
    double *p1 = predict(m, d.X, d.N), *p2 = predict(m2, d.X, d.N);
    assert_memory_equal(p1, p2, (size_t)d.N * sizeof *p1);
    assert_true(same_model(m, m2));
    assert_int_equal(sg_gbdt_n_trees(m2), 3);
    assert_int_equal(sg_gbdt_n_features(m2), 5);
    double g1[5], g2[5];
    sg_gbdt_importance(m, g1);
    sg_gbdt_importance(m2, g2);
    assert_memory_equal(g1, g2, sizeof g1);
    free(p1);
    free(p2);
    sg_free(buf);
    sg_gbdt_free(m);
    sg_gbdt_free(m2);
    data_free(&d);
}

/* gbdt-4.1: every truncation is SG_EPARSE, with or without a recomputed checksum;
 * a flipped byte is caught by the checksum */
static void load_truncated(void **state)
{
    (void)state;
    data d;
    sg_gbdt *m = small_model(&d);
    size_t len;
    unsigned char *buf = save(m, &len);
    unsigned char *cp = malloc(len);
    for (size_t n = 0; n < len; n++) {
        sg_gbdt *out = NULL;
        sg_error err;
        memcpy(cp, buf, n);
        assert_int_equal(sg_gbdt_load(&out, cp, n, &err), SG_EPARSE);
        assert_null(out);
        assert_true(strlen(err.msg) > 0);
        if (n >= 12) {   /* the first n - 4 bytes with a valid checksum after them */
            uint32_t crc = sg_crc32(0, cp, n - 4);
            memcpy(cp + n - 4, &crc, 4);
            assert_int_equal(sg_gbdt_load(&out, cp, n, &err), SG_EPARSE);
            assert_null(out);
        }
    }
    for (size_t i = 0; i < len; i++) {
        memcpy(cp, buf, len);
        cp[i] ^= 0x5A;
        sg_gbdt *out = NULL;
        assert_int_equal(sg_gbdt_load(&out, cp, len, NULL), SG_EPARSE);
    }
    free(cp);
    sg_free(buf);
    sg_gbdt_free(m);
    data_free(&d);
}

/* gbdt-4.2: corrupted bytes behind a valid checksum never crash the loader or a
 * prediction: the result is SG_OK or SG_EPARSE, and structural damage (child,
 * feature and category-set indices) is SG_EPARSE */
static void load_corrupt(void **state)
{
    (void)state;
    data d;
    sg_gbdt *m = small_model(&d);
    size_t len;
    unsigned char *buf = save(m, &len);
    unsigned char *cp = malloc(len);
    const unsigned char vals[] = {0x00, 0x01, 0x7F, 0x80, 0xFF};
    int n_parse = 0;
    for (size_t i = 8; i + 4 < len; i++)
        for (size_t v = 0; v < sizeof vals; v++) {
            memcpy(cp, buf, len);
            if (cp[i] == vals[v]) continue;
            cp[i] = vals[v];
            uint32_t crc = sg_crc32(0, cp, len - 4);
            memcpy(cp + len - 4, &crc, 4);
            sg_gbdt *out = NULL;
            int rc = sg_gbdt_load(&out, cp, len, NULL);
            assert_true(rc == SG_OK || rc == SG_EPARSE);
            if (rc == SG_OK) {
                double pr[20];
                assert_int_equal(sg_gbdt_predict(out, d.X, 20, 0, pr, NULL), SG_OK);
                sg_gbdt_free(out);
            } else {
                assert_null(out);
                n_parse++;
            }
        }
    assert_true(n_parse > 100);
    /* targeted damage to the root of the first tree (D = 5, 3 trees: the nodes
     * start at byte 68 + 5 + 4 * 5 + 8 + 24 + 4 * 3 = 137) */
    struct {
        size_t off;
        int32_t val;
        const char *msg;
    } cases[] = {
        {137, 5, "feature out of range"},   {137, -7, "feature out of range"},
        {141, 0, "child index"},            {145, 1000, "child index"},
        {149, 3, "category set"},           {137 - 12, 1, "nodes"},
    };
    assert_true(m->nodes[0].feature >= 0 && m->nodes[0].cat < 0);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        memcpy(cp, buf, len);
        memcpy(cp + cases[c].off, &cases[c].val, 4);
        uint32_t crc = sg_crc32(0, cp, len - 4);
        memcpy(cp + len - 4, &crc, 4);
        sg_gbdt *out = NULL;
        sg_error err;
        assert_int_equal(sg_gbdt_load(&out, cp, len, &err), SG_EPARSE);
        if (!strstr(err.msg, cases[c].msg)) fail_msg("'%s' lacks '%s'", err.msg, cases[c].msg);
    }
    free(cp);
    sg_free(buf);
    sg_gbdt_free(m);
    data_free(&d);
}

/* ---------------------------------------------------------------- validation */

static void capture_log(int level, const char *module, const char *msg, void *ud)
{
    (void)level;
    (void)module;
    char *s = ud;
    size_t n = strlen(s);
    snprintf(s + n, 8192 - n, "%s\n", msg);
}

/* gbdt-5.1: bad parameters, labels, weights and shapes are SG_EINVAL with a clear message */
static void bad_inputs(void **state)
{
    (void)state;
    data d = make_binary(200, 3, 17);
    sg_gbdt *m = NULL;
    sg_error err;
    sg_gbdt_params p0 = small_params(), p;
#define BAD(stmt, text)                                                                      \
    do {                                                                                     \
        p = p0;                                                                              \
        stmt;                                                                                \
        assert_int_equal(sg_gbdt_train(&m, d.X, d.y, NULL, d.N, d.D, NULL, NULL, NULL, 0,   \
                                       &p, &err), SG_EINVAL);                                \
        assert_null(m);                                                                      \
        if (!strstr(err.msg, text)) fail_msg("message '%s' lacks '%s'", err.msg, text);      \
    } while (0)
    BAD(p.objective = 7, "objective");
    BAD(p.n_trees = 0, "n_trees");
    BAD(p.max_depth = -1, "max_depth");
    BAD(p.max_leaves = 1, "max_leaves");
    BAD(p.learning_rate = 0.0f, "learning_rate");
    BAD(p.learning_rate = NAN, "learning_rate");
    BAD(p.min_child_weight = -1.0f, "min_child_weight");
    BAD(p.min_split_gain = -0.5f, "min_split_gain");
    BAD(p.lambda_l2 = -1.0f, "lambda_l2");
    BAD(p.subsample = 0.0f, "subsample");
    BAD(p.subsample = 1.5f, "subsample");
    BAD(p.colsample = 0.0f, "colsample");
    BAD(p.max_bins = 1, "max_bins");
    BAD(p.max_bins = 256, "max_bins");
    BAD(p.early_stopping = -1, "early_stopping");
    BAD(p.early_stopping = 5, "validation set");
    BAD(p.n_threads = -2, "n_threads");
    BAD(p.free_feature = 3, "free_feature");
    BAD(p.free_feature = -2, "free_feature");
#undef BAD
    p = p0;
    p.max_bins = 0;   /* without an error struct the code is still returned */
    assert_int_equal(sg_gbdt_train(&m, d.X, d.y, NULL, d.N, d.D, NULL, NULL, NULL, 0, &p, NULL),
                     SG_EINVAL);
    p = p0;
    d.y[17] = 2.0f;
    assert_int_equal(sg_gbdt_train(&m, d.X, d.y, NULL, d.N, d.D, NULL, NULL, NULL, 0, &p, &err),
                     SG_EINVAL);
    assert_non_null(strstr(err.msg, "label at row 17 is 2; logloss needs 0 or 1"));
    d.y[17] = 1.0f;
    float *w = malloc((size_t)d.N * sizeof *w);
    for (int64_t i = 0; i < d.N; i++) w[i] = 1.0f;
    w[5] = -1.0f;
    assert_int_equal(sg_gbdt_train(&m, d.X, d.y, w, d.N, d.D, NULL, NULL, NULL, 0, &p, &err),
                     SG_EINVAL);
    assert_non_null(strstr(err.msg, "weight at row 5"));
    memset(w, 0, (size_t)d.N * sizeof *w);
    assert_int_equal(sg_gbdt_train(&m, d.X, d.y, w, d.N, d.D, NULL, NULL, NULL, 0, &p, &err),
                     SG_EINVAL);
    float yv[2] = {0.0f, 0.5f};
    assert_int_equal(sg_gbdt_train(&m, d.X, d.y, NULL, d.N, d.D, NULL, d.X, yv, 2, &p, &err),
                     SG_EINVAL);
    assert_non_null(strstr(err.msg, "validation label at row 1"));
    p.objective = SG_GBDT_SQUARED;
    d.y[3] = INFINITY;
    assert_int_equal(sg_gbdt_train(&m, d.X, d.y, NULL, d.N, d.D, NULL, NULL, NULL, 0, &p, &err),
                     SG_EINVAL);
    assert_non_null(strstr(err.msg, "row 3"));
    d.y[3] = 0.0f;
    assert_int_equal(sg_gbdt_train(&m, d.X, d.y, NULL, 0, d.D, NULL, NULL, NULL, 0, &p, &err),
                     SG_EINVAL);
    assert_int_equal(sg_gbdt_train(&m, d.X, d.y, NULL, d.N, 0, NULL, NULL, NULL, 0, &p, &err),
                     SG_EINVAL);
    assert_int_equal(sg_gbdt_train(&m, NULL, d.y, NULL, d.N, d.D, NULL, NULL, NULL, 0, &p, &err),
                     SG_EINVAL);
    assert_int_equal(sg_gbdt_train(NULL, d.X, d.y, NULL, d.N, d.D, NULL, NULL, NULL, 0, &p, NULL),
                     SG_EINVAL);
    assert_int_equal(sg_gbdt_predict(NULL, d.X, 1, 0, NULL, &err), SG_EINVAL);
    assert_int_equal(sg_gbdt_load(&m, NULL, 0, &err), SG_EPARSE);
    free(w);
    data_free(&d);
}

/* gbdt-5.2: a diverging fit (squared error, learning_rate 50) is SG_ENUMERIC naming the round */
static void numeric_failure(void **state)
{
    (void)state;
    data d = make_regression(200, 2, 19);
    for (int64_t i = 0; i < d.N; i++) d.y[i] *= 1e30f;
    sg_gbdt_params p = small_params();
    p.objective = SG_GBDT_SQUARED;
    p.learning_rate = 50.0f;
    p.n_trees = 300;
    p.max_leaves = 2;
    sg_gbdt *m = NULL;
    sg_error err;
    assert_int_equal(sg_gbdt_train(&m, d.X, d.y, NULL, d.N, d.D, NULL, NULL, NULL, 0, &p, &err),
                     SG_ENUMERIC);
    assert_null(m);
    assert_non_null(strstr(err.msg, "round "));
    assert_non_null(strstr(err.msg, "not finite"));
    data_free(&d);
}

/* ---------------------------------------------------------------- early stopping, weights */

/* gbdt-6.1: early stopping keeps the best round: the kept model predicts exactly
 * as one trained for that many rounds, and no worse than the one it stopped at */
static void early_stopping(void **state)
{
    (void)state;
    data tr = make_binary(1500, 6, 23), va = make_binary(1500, 6, 24);
    for (int64_t i = 0; i < tr.N; i += 4) tr.y[i] = 1.0f - tr.y[i];   /* label noise: overfit */
    sg_gbdt_params p = small_params();
    p.n_trees = 300;
    p.learning_rate = 0.5f;
    p.max_leaves = 32;
    p.max_depth = 0;
    p.min_child_weight = 0.1f;
    p.early_stopping = 5;
    sg_gbdt *m = train_ok(&tr, NULL, NULL, &va, &p);
    int kept = sg_gbdt_n_trees(m);
    assert_true(kept >= 1 && kept < 100);
    sg_gbdt_params q = p;
    q.early_stopping = 0;
    q.n_trees = kept;
    sg_gbdt *m1 = train_ok(&tr, NULL, NULL, &va, &q);
    q.n_trees = kept + 5;
    sg_gbdt *m2 = train_ok(&tr, NULL, NULL, &va, &q);
    double *p0 = predict(m, va.X, va.N), *p1 = predict(m1, va.X, va.N);
    double *p2 = predict(m2, va.X, va.N);
    assert_memory_equal(p0, p1, (size_t)va.N * sizeof *p0);
    assert_true(logloss(va.y, p0, va.N) <= logloss(va.y, p2, va.N));
    free(p0);
    free(p1);
    free(p2);
    sg_gbdt_free(m);
    sg_gbdt_free(m1);
    sg_gbdt_free(m2);
    data_free(&tr);
    data_free(&va);
}

/* gbdt-7.1: weights matter: weight 0 is the same model as removing the rows, and
 * up-weighting positives raises the predictions */
static void weights(void **state)
{
    (void)state;
    data d = make_binary(3000, 5, 29);
    float *w = malloc((size_t)d.N * sizeof *w);
    data sub = {0, 5, malloc((size_t)d.N * 5 * sizeof(float)), malloc((size_t)d.N * sizeof(float))};
    for (int64_t i = 0; i < d.N; i++) {
        w[i] = (i % 3 == 0) ? 0.0f : 1.0f;
        if (w[i] > 0) {
            memcpy(sub.X + sub.N * 5, d.X + i * 5, 5 * sizeof(float));
            sub.y[sub.N++] = d.y[i];
        }
    }
    sg_gbdt_params p = small_params();
    p.n_trees = 10;
    p.subsample = 0.7f;
    sg_gbdt *mw = train_ok(&d, w, NULL, NULL, &p);
    sg_gbdt *ms = train_ok(&sub, NULL, NULL, NULL, &p);
    assert_true(same_model(mw, ms));
    sg_gbdt *m1 = train_ok(&d, NULL, NULL, NULL, &p);
    for (int64_t i = 0; i < d.N; i++) w[i] = d.y[i] > 0.5f ? 3.0f : 1.0f;
    sg_gbdt *m3 = train_ok(&d, w, NULL, NULL, &p);
    double *a = predict(m1, d.X, d.N), *b = predict(m3, d.X, d.N), sa = 0, sb = 0;
    for (int64_t i = 0; i < d.N; i++) {
        sa += a[i];
        sb += b[i];
    }
    assert_true(sb > sa + 0.1 * (double)d.N);
    free(a);
    free(b);
    free(w);
    sg_gbdt_free(mw);
    sg_gbdt_free(ms);
    sg_gbdt_free(m1);
    sg_gbdt_free(m3);
    data_free(&d);
    data_free(&sub);
}

/* gbdt-7.2: offsets.  Boosting from a constant offset equal to the base score
 * grows the same trees, so offset + margin is the plain model's margin; an
 * offset that already holds the signal leaves the trees little to add; bad
 * offsets are SG_EINVAL naming the row */
static void offsets(void **state)
{
    (void)state;
    data d = make_binary(3000, 5, 31), v = make_binary(500, 5, 32);
    sg_gbdt_params p = small_params();
    p.n_trees = 10;
    sg_gbdt *plain = train_ok(&d, NULL, NULL, NULL, &p);
    double base = plain->base_score;
    double *off = malloc((size_t)d.N * sizeof *off), *offv = malloc((size_t)v.N * sizeof *offv);
    for (int64_t i = 0; i < d.N; i++) off[i] = base;
    sg_gbdt *m = NULL;
    sg_error err;
    assert_int_equal(sg_gbdt_train_offset(&m, d.X, d.y, NULL, off, d.N, d.D, NULL, NULL, NULL,
                                          NULL, 0, &p, &err), SG_OK);
    assert_true(m->base_score == 0.0);
    double *a = malloc((size_t)d.N * sizeof *a), *b = malloc((size_t)d.N * sizeof *b);
    assert_int_equal(sg_gbdt_predict(plain, d.X, d.N, 1, a, NULL), SG_OK);
    assert_int_equal(sg_gbdt_predict(m, d.X, d.N, 1, b, NULL), SG_OK);
    for (int64_t i = 0; i < d.N; i++) assert_true(fabs(a[i] - (base + b[i])) < 1e-5);
    sg_gbdt_free(m);
    m = NULL;

    /* the label's own log-odds as the offset: the trees add little */
    sg_rng r;
    sg_rng_init(&r, 33);
    for (int64_t i = 0; i < d.N; i++) {
        off[i] = 3.0 * (double)d.X[i * d.D];
        d.y[i] = sg_rng_uniform(&r) < sigmoid(off[i]) ? 1.0f : 0.0f;
    }
    for (int64_t i = 0; i < v.N; i++) offv[i] = 3.0 * (double)v.X[i * v.D];
    p.n_trees = 20;
    p.learning_rate = 0.1f;
    sg_gbdt *np = train_ok(&d, NULL, NULL, NULL, &p);
    assert_int_equal(sg_gbdt_train_offset(&m, d.X, d.y, NULL, off, d.N, d.D, NULL, v.X, v.y,
                                          offv, v.N, &p, &err), SG_OK);
    assert_int_equal(sg_gbdt_predict(np, d.X, d.N, 1, a, NULL), SG_OK);
    assert_int_equal(sg_gbdt_predict(m, d.X, d.N, 1, b, NULL), SG_OK);
    double sa = 0, sb = 0;
    for (int64_t i = 0; i < d.N; i++) {
        sa += (a[i] - np->base_score) * (a[i] - np->base_score);
        sb += b[i] * b[i];
    }
    assert_true(sqrt(sb / (double)d.N) < 0.25 * sqrt(sa / (double)d.N));
    sg_gbdt_free(m);
    m = NULL;

    /* validation rows without offsets; a non-finite offset */
    assert_int_equal(sg_gbdt_train_offset(&m, d.X, d.y, NULL, off, d.N, d.D, NULL, v.X, v.y,
                                          NULL, v.N, &p, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "validation offsets"));
    off[7] = NAN;
    assert_int_equal(sg_gbdt_train_offset(&m, d.X, d.y, NULL, off, d.N, d.D, NULL, NULL, NULL,
                                          NULL, 0, &p, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "offset at row 7"));
    assert_null(m);
    free(a);
    free(b);
    free(off);
    free(offv);
    sg_gbdt_free(plain);
    sg_gbdt_free(np);
    data_free(&d);
    data_free(&v);
}

/* ---------------------------------------------------------------- failures, logging */

/* gbdt-8.1: every allocation failure in training, saving and loading is a clean
 * SG_ENOMEM with nothing leaked, until the run succeeds */
static void alloc_failures(void **state)
{
    (void)state;
    data d = make_binary(300, 5, 31), v = make_binary(100, 5, 32);
    for (int64_t i = 0; i < d.N; i++) d.X[i * 5 + 4] = (float)(i % 4);
    for (int64_t i = 0; i < v.N; i++) v.X[i * 5 + 4] = (float)(i % 4);
    uint8_t is_cat[5] = {0, 0, 0, 0, 1};
    sg_gbdt_params p = small_params();
    p.n_trees = 3;
    p.max_leaves = 4;
    p.early_stopping = 2;
    int64_t base = sg_mem_live_bytes();
    sg_gbdt *m = NULL;
    int k, rc = SG_ENOMEM;
    for (k = 0; k < 200 && rc != SG_OK; k++) {
        sg_mem_fail_after(k);
        rc = sg_gbdt_train(&m, d.X, d.y, NULL, d.N, d.D, is_cat, v.X, v.y, v.N, &p, NULL);
        sg_mem_fail_after(-1);
        if (rc != SG_OK) {
            assert_int_equal(rc, SG_ENOMEM);
            assert_null(m);
            assert_int_equal(sg_mem_live_bytes(), base);
        }
    }
    assert_int_equal(rc, SG_OK);
    assert_true(k > 5);
    unsigned char *buf = NULL;
    size_t len = 0;
    for (k = 0, rc = SG_ENOMEM; k < 100 && rc != SG_OK; k++) {
        sg_mem_fail_after(k);
        rc = sg_gbdt_save(m, &buf, &len, NULL);
        sg_mem_fail_after(-1);
        if (rc != SG_OK) assert_int_equal(rc, SG_ENOMEM);
    }
    assert_int_equal(rc, SG_OK);
    int64_t with_buf = sg_mem_live_bytes();
    sg_gbdt *m2 = NULL;
    for (k = 0, rc = SG_ENOMEM; k < 100 && rc != SG_OK; k++) {
        sg_mem_fail_after(k);
        rc = sg_gbdt_load(&m2, buf, len, NULL);
        sg_mem_fail_after(-1);
        if (rc != SG_OK) {
            assert_int_equal(rc, SG_ENOMEM);
            assert_int_equal(sg_mem_live_bytes(), with_buf);
        }
    }
    assert_int_equal(rc, SG_OK);
    assert_true(same_model(m, m2));
    sg_free(buf);
    sg_gbdt_free(m);
    sg_gbdt_free(m2);
    assert_int_equal(sg_mem_live_bytes(), base);
    data_free(&d);
    data_free(&v);
}

/* gbdt-9.1: the training log has the configuration and seed, a line every
 * 'verbose' rounds with train and valid losses, and a summary */
static void training_log(void **state)
{
    (void)state;
    data d = make_binary(500, 4, 37), v = make_binary(200, 4, 38);
    sg_gbdt_params p = small_params();
    p.n_trees = 4;
    p.verbose = 2;
    char *text = calloc(8192, 1);
    sg_log_set(capture_log, text);
    sg_log_set_level(SG_LOG_INFO);
    sg_gbdt *m = train_ok(&d, NULL, NULL, &v, &p);
    sg_log_set_level(SG_LOG_NONE);
    sg_log_set(NULL, NULL);
    assert_non_null(strstr(text, "seed 20000"));
    assert_non_null(strstr(text, "round 2/4: train logloss "));
    assert_non_null(strstr(text, "round 4/4: train logloss "));
    assert_non_null(strstr(text, "valid logloss"));
    assert_non_null(strstr(text, "ms/tree"));
    assert_null(strstr(text, "round 3/4"));
    assert_non_null(strstr(text, "kept 4 trees"));
    free(text);
    sg_gbdt_free(m);
    data_free(&d);
    data_free(&v);
}

/* Distinct features other than 'free' on the path from node k of tree tr to
 * its deepest leaf, at most: returns the worst count below k given 'seen'. */
static int path_features(const gbdt_node *tr, int k, int free, int seen)
{
    const gbdt_node *nd = &tr[k];
    if (nd->feature < 0) return seen < 0 ? 0 : 1;
    int f = nd->feature, s = seen;
    int extra = 0;
    if (f != free) {
        if (seen < 0) s = f;
        else if (seen != f) extra = 1;   /* a second feature on this path */
    }
    int l = path_features(tr, nd->left, free, s), r = path_features(tr, nd->right, free, s);
    return extra ? 2 : (l > r ? l : r);
}

/* free_feature: every path splits on the free feature and at most one other,
 * so for a fixed value of the free feature the model is additive in the others:
 * the interaction contrast f(u,v) - f(u,v') - f(u',v) + f(u',v') is zero.  The
 * data hold a strong x1 x2 interaction, which unconstrained trees do learn, and
 * effects of x0 that depend on the free feature x3, which the constrained trees
 * still learn. */
static void free_feature_additive(void **state)
{
    (void)state;
    const int64_t N = 4000;
    const int D = 4;
    data d = {N, D, malloc((size_t)N * D * sizeof(float)), malloc((size_t)N * sizeof(float))};
    sg_rng r;
    sg_rng_init(&r, 31);
    for (int64_t i = 0; i < N; i++) {
        float *x = d.X + i * D;
        for (int f = 0; f < 3; f++) x[f] = (float)sg_rng_normal(&r);
        x[3] = (float)(sg_rng_uniform(&r) < 0.5);
        double z = 1.5 * (double)x[1] * (double)x[2] + (x[3] > 0.5f ? 2.0 : -2.0) * (x[0] > 0);
        d.y[i] = sg_rng_uniform(&r) < sigmoid(z) ? 1.0f : 0.0f;
    }
    sg_gbdt_params p = small_params();
    p.max_depth = 3;
    p.max_leaves = 8;
    float Q[4][4] = {{0.5f, 1.0f, 1.0f, 0}, {0.5f, 1.0f, -1.0f, 0}, {0.5f, -1.0f, 1.0f, 0},
                     {0.5f, -1.0f, -1.0f, 0}};
    for (int c = 0; c < 2; c++) {
        p.free_feature = c ? 3 : -1;
        sg_gbdt *m = train_ok(&d, NULL, NULL, NULL, &p);
        int worst = 0;
        for (int t = 0; t < m->n_trees; t++) {
            int w = path_features(m->nodes + m->tree_off[t], 0, 3, -1);
            if (w > worst) worst = w;
        }
        double out[4], ia[2], lift[2];
        for (int a = 0; a < 2; a++) {
            for (int q = 0; q < 4; q++) Q[q][3] = (float)a;
            assert_int_equal(sg_gbdt_predict(m, &Q[0][0], 4, 1, out, NULL), SG_OK);
            ia[a] = out[0] - out[1] - out[2] + out[3];
        }
        /* x0's effect given the free feature: +2 at x3 = 1, -2 at x3 = 0 */
        float P[4][4] = {{1, 0, 0, 1}, {-1, 0, 0, 1}, {1, 0, 0, 0}, {-1, 0, 0, 0}};
        assert_int_equal(sg_gbdt_predict(m, &P[0][0], 4, 1, out, NULL), SG_OK);
        lift[1] = out[0] - out[1];
        lift[0] = out[2] - out[3];
        if (c) {
            assert_true(worst <= 1);
            assert_true(fabs(ia[0]) < 1e-9 && fabs(ia[1]) < 1e-9);
            assert_true(lift[1] > 1.0 && lift[0] < -1.0);
        } else {
            assert_true(worst == 2);
            assert_true(ia[0] > 1.0 && ia[1] > 1.0);   /* 4 x 1.5 = 6 on the logit */
        }
        sg_gbdt_free(m);
    }
    data_free(&d);
}

int main(void)
{
    sg_log_set_level(SG_LOG_NONE);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(learns_binary),     cmocka_unit_test(learns_regression),
        cmocka_unit_test(params_default),    cmocka_unit_test(missing_direction),
        cmocka_unit_test(categorical_split), cmocka_unit_test(sweep_matches_predict),
        cmocka_unit_test(determinism),
        cmocka_unit_test(hist_eviction),
        cmocka_unit_test(save_load),         cmocka_unit_test(load_truncated),
        cmocka_unit_test(load_corrupt),      cmocka_unit_test(bad_inputs),
        cmocka_unit_test(numeric_failure),   cmocka_unit_test(early_stopping),
        cmocka_unit_test(weights),           cmocka_unit_test(offsets),
        cmocka_unit_test(alloc_failures),
        cmocka_unit_test(training_log),      cmocka_unit_test(free_feature_additive),
    };
    return cmocka_run_group_tests_name("gbdt", tests, NULL, NULL);
}

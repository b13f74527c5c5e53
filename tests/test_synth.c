/* test_synth.c -- the synthetic-table models: transformer, kernels, CTGAN, TVAE, files.
 *
 * Every new backward is checked against central differences on tiny shapes with a
 * fixed seed (float kernels, objective summed in double).  Networks with (leaky)
 * ReLUs are checked away from kinks: the objective returns NaN when a perturbation
 * changes the activation pattern, and such coordinates are skipped (a handful at
 * most).  synth-2.0 shows the checker rejects a gradient that is 3% off. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "stratagem/error.h"
#include "stratagem/fidelity.h"
#include "stratagem/log.h"
#include "stratagem/mem.h"
#include "stratagem/model.h"
#include "stratagem/nn.h"
#include "stratagem/rng.h"
#include "stratagem/synth.h"
#include "stratagem/table.h"
#include "models/synth_private.h"

#define SEED 4321u

#define assert_close(a, b, tol) \
    assert_close_at((double)(a), (double)(b), (double)(tol), #a, __FILE__, __LINE__)

static void assert_close_at(double a, double b, double tol, const char *expr, const char *file,
                            int line)
{
    if (!(fabs(a - b) <= tol)) {
        print_error("%s = %.9g, expected %.9g (tolerance %.3g)\n", expr, a, b, tol);
        _fail(file, line);
    }
}

/* ---------------------------------------------------------------------------
 * gradient checker */

typedef double (*objective_fn)(void *ctx);

/* Max relative error of g (n) against central differences of f wrt x (n), eps 'eps';
 * coordinates where f is NaN on either side are skipped and counted in *skipped. */
static double grad_check(const char *what, objective_fn f, void *ctx, float *x, const float *g,
                         size_t n, float eps, int *skipped)
{
    double worst = 0, wa = 0, wn = 0;
    size_t wi = 0;
    int skip = 0;
    for (size_t i = 0; i < n; i++) {
        float x0 = x[i];
        x[i] = x0 + eps;
        double fp = f(ctx);
        x[i] = x0 - eps;
        double fm = f(ctx);
        x[i] = x0;
        if (isnan(fp) || isnan(fm)) {
            skip++;
            continue;
        }
        double num = (fp - fm) / (2.0 * (double)eps);
        double a = (double)g[i];
        double rel = fabs(a - num) / fmax(fmax(fabs(a), fabs(num)), 1e-2);
        if (rel > worst) {
            worst = rel;
            wi = i;
            wa = a;
            wn = num;
        }
    }
    if (worst > 1e-2)
        print_message("%s: max relative error %.3g at %zu (analytic %.6g, numeric %.6g)\n", what,
                      worst, wi, wa, wn);
    if (skipped) *skipped += skip;
    return worst;
}

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
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)c[i] * (double)y[i];
    return s;
}

/* A hand-built transformer: kinds and level counts per column. */
static void make_xf(synth_xf *xf, int n, const int *kind, const int *nl)
{
    memset(xf, 0, sizeof *xf);
    xf->n_cols = n;
    xf->cols = sg_calloc((size_t)n, sizeof *xf->cols);
    assert_non_null(xf->cols);
    for (int j = 0; j < n; j++) {
        synth_col *c = &xf->cols[j];
        c->name = sg_strdup("c");
        c->kind = kind[j];
        c->other = -1;
        c->n_levels = nl[j];
        c->count = sg_calloc((size_t)nl[j], sizeof *c->count);
        for (int l = 0; l < nl[j]; l++) c->count[l] = l + 1;
        if (kind[j] == SG_FCOL_CONTINUOUS) {
            c->n_modes = nl[j];
            c->mu = sg_calloc((size_t)nl[j], sizeof *c->mu);
            c->sd = sg_calloc((size_t)nl[j], sizeof *c->sd);
            c->wt = sg_calloc((size_t)nl[j], sizeof *c->wt);
            for (int l = 0; l < nl[j]; l++) {
                c->mu[l] = 10.0 * l;
                c->sd[l] = 1.0;
                c->wt[l] = 1.0 / nl[j];
            }
            c->lo = -100;
            c->hi = 100;
            c->width = 1 + nl[j];
        } else {
            c->width = nl[j];
            if (kind[j] == SG_FCOL_DISCRETE) {
                c->value = sg_calloc((size_t)nl[j], sizeof *c->value);
                for (int l = 0; l < nl[j]; l++) c->value[l] = l;
            } else {
                c->label = sg_calloc((size_t)nl[j], sizeof *c->label);
                for (int l = 0; l < nl[j]; l++) {
                    char b[16];
                    snprintf(b, sizeof b, "L%d", l);
                    c->label[l] = sg_strdup(b);
                }
            }
        }
    }
    assert_int_equal(synth_xf_finish(xf, NULL), SG_OK);
}

static const int XF_KIND[3] = {SG_FCOL_CONTINUOUS, SG_FCOL_CATEGORY, SG_FCOL_DISCRETE};
static const int XF_NL[3] = {2, 3, 4};

/* synth-2.0: the checker rejects a gradient that is 3% off */
static double quad_obj(void *ctx)
{
    const float *x = ctx;
    double a = (double)x[0], b = (double)x[1];
    return 0.5 * a * a + b * b * b;
}

static void checker_can_fail(void **state)
{
    (void)state;
    float x[2] = {0.7f, -0.4f};
    float g[2] = {0.7f, 3.0f * 0.16f};
    assert_true(grad_check("exact", quad_obj, x, x, g, 2, 1e-2f, NULL) < 1e-2);
    g[1] *= 1.03f;
    assert_true(grad_check("3% off (expected)", quad_obj, x, x, g, 2, 1e-2f, NULL) > 2e-2);
}

/* ---------------------------------------------------------------------------
 * transformer */

/* synth-1.1: the mixture finds well-separated modes */
static void gmm_modes(void **state)
{
    (void)state;
    sg_rng r;
    sg_rng_init(&r, SEED);
    int n = 3000;
    double *x = sg_malloc_array((size_t)n, sizeof *x);
    for (int i = 0; i < n; i++) {
        double u = sg_rng_uniform(&r);
        x[i] = u < 0.3 ? -20 + sg_rng_normal(&r) : u < 0.8 ? 5 + 0.5 * sg_rng_normal(&r)
                                                           : 40 + 3 * sg_rng_normal(&r);
    }
    double mu[10], sd[10], wt[10];
    int k = synth_gmm_fit(x, n, 10, mu, sd, wt);
    assert_true(k >= 3 && k <= 10);
    /* every true mode has a fitted mode near it, and the weights add up */
    double want[3] = {-20, 5, 40}, s = 0;
    for (int t = 0; t < 3; t++) {
        double best = 1e9;
        for (int m = 0; m < k; m++) best = fmin(best, fabs(mu[m] - want[t]));
        assert_true(best < 1.5);
    }
    for (int m = 0; m < k; m++) s += wt[m];
    assert_close(s, 1.0, 1e-9);
    for (int m = 1; m < k; m++) assert_true(mu[m] >= mu[m - 1]);
    /* one value only: one mode */
    for (int i = 0; i < n; i++) x[i] = 7.0;
    k = synth_gmm_fit(x, n, 10, mu, sd, wt);
    assert_int_equal(k, 1);
    assert_close(mu[0], 7.0, 1e-9);
    sg_free(x);
}

/* A table: a bimodal number, an integer code, a category (one label rare), a 0/1
 * target, an id; missing values in 'amount' (about 20%) and 'segment'. */
static sg_table *make_table(int n, uint64_t seed)
{
    size_t cap = (size_t)n * 80 + 200;
    char *csv = sg_malloc(cap);
    assert_non_null(csv);
    size_t len = (size_t)snprintf(csv, cap, "id,amount,visits,segment,bought\n");
    sg_rng r;
    sg_rng_init(&r, seed);
    for (int i = 0; i < n; i++) {
        double u = sg_rng_uniform(&r);
        double amount = u < 0.5 ? 20 + 2 * sg_rng_normal(&r) : 200 + 20 * sg_rng_normal(&r);
        int visits = (int)sg_rng_below(&r, 6);
        double v = sg_rng_uniform(&r);
        const char *seg = v < 0.05 ? "gold" : v < 0.55 ? "silver" : v < 0.95 ? "bronze" : "";
        int bought = sg_rng_uniform(&r) < (amount > 100 ? 0.7 : 0.2);
        char am[32];
        if (sg_rng_uniform(&r) < 0.2) am[0] = 0;
        else snprintf(am, sizeof am, "%.3f", amount);
        len += (size_t)snprintf(csv + len, cap - len, "c%d,%s,%d,%s,%d\n", i, am, visits, seg,
                                bought);
    }
    sg_table *t = NULL;
    sg_load_opts o;
    sg_load_opts_default(&o);
    o.id_col = "id";
    assert_int_equal(sg_table_load_mem(&t, "tiny.csv", csv, len, &o, NULL), SG_OK);
    sg_free(csv);
    return t;
}

/* synth-1.2: continuous round trip: encode -> decode recovers the values */
static void mixture_round_trip(void **state)
{
    (void)state;
    sg_table *t = make_table(600, SEED);
    int j = sg_table_find(t, "amount");
    int64_t n = sg_table_n_rows(t);
    float *x = alloc_f((size_t)n);
    for (int64_t i = 0; i < n; i++) x[i] = (float)sg_table_num(t, j)[i];
    synth_fit_opts fo = {50, 100, 10, NULL};
    synth_col col;
    sg_rng r;
    sg_rng_init(&r, 1);
    assert_int_equal(synth_col_fit(&col, "amount", SG_COL_NUMBER, x, n, 1, 0, &fo, NULL, 0, &r,
                                   NULL), SG_OK);
    assert_int_equal(col.kind, SG_FCOL_CONTINUOUS);
    assert_int_equal(col.has_missing, 1);
    assert_int_equal(col.n_levels, col.n_modes + 1);
    assert_true(col.n_modes >= 2);
    int64_t n_miss = 0;
    for (int64_t i = 0; i < n; i++) {
        float a;
        int32_t l = synth_col_encode(&col, x[i], &r, &a);
        assert_true(l >= 0 && l < col.n_levels);
        assert_true(a >= -1.0f && a <= 1.0f);
        float y = synth_col_decode(&col, l, a);
        if (isnan(x[i])) {
            n_miss++;
            assert_int_equal(l, col.n_levels - 1);
            assert_true(isnan(y));
        } else {
            assert_close(y, x[i], 1e-4 * fabs(x[i]) + 1e-4);
        }
    }
    assert_true(n_miss > 60 && n_miss < 200);
    synth_col_deinit(&col);
    sg_free(x);
    sg_table_free(t);
}

/* synth-1.3: discrete and category columns: levels, "other", missing, lookup */
static void discrete_levels(void **state)
{
    (void)state;
    /* a category with labels a (5 rows), b (3), c (1), d (1), missing (2); cap 2 */
    const char *labels[4] = {"a", "b", "c", "d"};
    float codes[12] = {0, 0, 0, 0, 0, 1, 1, 1, 2, 3, NAN, NAN};
    synth_fit_opts fo = {50, 2, 10, NULL};
    synth_xf xf;
    memset(&xf, 0, sizeof xf);
    xf.n_cols = 2;
    xf.cols = sg_calloc(2, sizeof *xf.cols);
    sg_rng r;
    sg_rng_init(&r, 1);
    assert_int_equal(synth_col_fit(&xf.cols[0], "seg", SG_COL_CATEGORY, codes, 12, 1, 0, &fo,
                                   labels, 4, &r, NULL), SG_OK);
    synth_col *c = &xf.cols[0];
    assert_int_equal(c->kind, SG_FCOL_CATEGORY);
    assert_int_equal(c->n_levels, 4);   /* a, b, other, missing */
    assert_string_equal(c->label[0], "a");
    assert_string_equal(c->label[1], "b");
    assert_string_equal(c->label[2], "other");
    assert_null(c->label[3]);
    assert_int_equal(c->other, 2);
    assert_int_equal(c->count[2], 2);
    assert_int_equal(c->count[3], 2);
    /* integer codes with few values are discrete; NaN is the missing level */
    float v[6] = {3, 1, 3, 7, NAN, 1};
    assert_int_equal(synth_col_fit(&xf.cols[1], "visits", SG_COL_NUMBER, v, 6, 1, 0, &fo, NULL, 0,
                                   &r, NULL), SG_OK);
    synth_col *d = &xf.cols[1];
    assert_int_equal(d->kind, SG_FCOL_DISCRETE);
    assert_int_equal(d->n_levels, 4);
    assert_close(d->value[2], 7.0, 0);
    assert_int_equal(synth_xf_finish(&xf, NULL), SG_OK);
    assert_int_equal(xf.data_dim, 8);
    assert_int_equal(xf.cond_dim, 8);
    assert_int_equal(synth_col_find_label(c, "b"), 1);
    assert_int_equal(synth_col_find_label(c, "other"), 2);
    assert_int_equal(synth_col_find_label(c, "zzz"), -1);
    float a;
    assert_int_equal(synth_col_encode(d, 7.0f, &r, &a), 2);
    assert_int_equal(synth_col_encode(d, 6.0f, &r, &a), 2);   /* unseen: nearest */
    assert_int_equal(synth_col_encode(d, NAN, &r, &a), 3);
    assert_true(isnan(synth_col_decode(d, 3, 0)));
    assert_close(synth_col_decode(d, 1, 0), 3.0, 0);
    /* the log-frequency sampler favours rare levels more than the count sampler */
    double p_log = xf.logf_cum[2] - xf.logf_cum[1], p_cnt = xf.freq_cum[2] - xf.freq_cum[1];
    assert_true(p_log > p_cnt);
    assert_close(xf.logf_cum[3], 1.0, 1e-12);
    /* a float above a kept many-valued integer column stays continuous */
    float w[60];
    for (int i = 0; i < 60; i++) w[i] = (float)i;
    synth_col e;
    assert_int_equal(synth_col_fit(&e, "age", SG_COL_NUMBER, w, 60, 1, 0, &fo, NULL, 0, &r, NULL),
                     SG_OK);
    assert_int_equal(e.kind, SG_FCOL_CONTINUOUS);
    assert_int_equal(e.is_integer, 1);
    synth_col_deinit(&e);
    synth_xf_deinit(&xf);
}

/* ---------------------------------------------------------------------------
 * kernels */

typedef struct bn_ctx {
    float *inp, *gamma, *beta, *out, *xhat, *mean, *rstd, *c;
    int B, H;
} bn_ctx;

static double bn_obj(void *p)
{
    bn_ctx *k = p;
    synth_bn_forward(k->out, k->xhat, k->mean, k->rstd, k->inp, k->gamma, k->beta, k->B, k->H);
    return dot_cd(k->c, k->out, (size_t)k->B * k->H);
}

/* synth-2.1: batch norm backward */
static void bn_grad(void **state)
{
    (void)state;
    int B = 6, H = 5;
    size_t n = (size_t)B * H;
    sg_rng r;
    sg_rng_init(&r, SEED);
    bn_ctx k = {alloc_f(n), alloc_f(H), alloc_f(H), alloc_f(n), alloc_f(n), alloc_f(H),
                alloc_f(H), alloc_f(n), B, H};
    fill_uniform(k.inp, n, -2, 2, &r);
    fill_uniform(k.gamma, H, 0.5f, 1.5f, &r);
    fill_uniform(k.beta, H, -1, 1, &r);
    fill_uniform(k.c, n, -1, 1, &r);
    float *dinp = alloc_f(n), *dg = alloc_f(H), *db = alloc_f(H);
    bn_obj(&k);
    synth_bn_backward(dinp, dg, db, k.c, k.xhat, k.rstd, k.gamma, B, H);
    /* the output of each column has mean beta and sd gamma */
    double m = 0;
    for (int b = 0; b < B; b++) m += (double)k.out[b * H];
    assert_close(m / B, k.beta[0], 1e-5);
    assert_true(grad_check("bn dinp", bn_obj, &k, k.inp, dinp, n, 1e-2f, NULL) < 1e-2);
    assert_true(grad_check("bn dgamma", bn_obj, &k, k.gamma, dg, H, 1e-2f, NULL) < 1e-2);
    assert_true(grad_check("bn dbeta", bn_obj, &k, k.beta, db, H, 1e-2f, NULL) < 1e-2);
    float *all[] = {k.inp, k.gamma, k.beta, k.out, k.xhat, k.mean, k.rstd, k.c, dinp, dg, db};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) sg_free(all[i]);
}

typedef struct act_ctx {
    const synth_xf *xf;
    float *o, *act, *noise, *c;
    int B;
    float tau;
} act_ctx;

static double act_obj(void *p)
{
    act_ctx *k = p;
    synth_activate_forward(k->xf, k->act, k->noise, k->o, k->B, k->tau, NULL);
    return dot_cd(k->c, k->act, (size_t)k->B * k->xf->data_dim);
}

/* synth-2.2: tanh + gumbel-softmax heads (fixed noise) and the plain softmax */
static void activation_grad(void **state)
{
    (void)state;
    synth_xf xf;
    make_xf(&xf, 3, XF_KIND, XF_NL);
    int B = 4, Dd = xf.data_dim;
    size_t n = (size_t)B * Dd;
    sg_rng r;
    sg_rng_init(&r, SEED);
    act_ctx k = {&xf, alloc_f(n), alloc_f(n), alloc_f(n), alloc_f(n), B, 0.2f};
    fill_uniform(k.o, n, -0.5f, 0.5f, &r);
    fill_uniform(k.c, n, -1, 1, &r);
    synth_activate_forward(&xf, k.act, k.noise, k.o, B, k.tau, &r);   /* draws the noise */
    /* each span sums to 1 */
    double s = 0;
    for (int l = 0; l < 3; l++) s += (double)k.act[xf.cols[1].off + l];
    assert_close(s, 1.0, 1e-6);
    float *d = alloc_f(n);
    synth_activate_backward(&xf, d, k.c, k.act, B, k.tau);
    assert_true(grad_check("gumbel-softmax", act_obj, &k, k.o, d, n, 1e-3f, NULL) < 1e-2);
    k.tau = 0;   /* plain softmax */
    act_obj(&k);
    memset(d, 0, n * sizeof *d);
    synth_activate_backward(&xf, d, k.c, k.act, B, 0);
    assert_true(grad_check("softmax", act_obj, &k, k.o, d, n, 1e-2f, NULL) < 1e-2);
    sg_free(k.o);
    sg_free(k.act);
    sg_free(k.noise);
    sg_free(k.c);
    sg_free(d);
    synth_xf_deinit(&xf);
}

typedef struct cond_ctx {
    const synth_xf *xf;
    float *o;
    int32_t *dcol, *lvl;
    int B;
} cond_ctx;

static double cond_obj(void *p)
{
    cond_ctx *k = p;
    return synth_cond_loss_forward(k->xf, k->o, k->dcol, k->lvl, k->B);
}

/* synth-2.3: the conditional cross-entropy */
static void cond_loss_grad(void **state)
{
    (void)state;
    synth_xf xf;
    make_xf(&xf, 3, XF_KIND, XF_NL);
    int B = 5, Dd = xf.data_dim;
    size_t n = (size_t)B * Dd;
    sg_rng r;
    sg_rng_init(&r, SEED);
    float *cond = alloc_f((size_t)B * xf.cond_dim);
    int32_t dcol[5], lvl[5];
    synth_cond_sample(&xf, xf.logf_cum, B, &r, cond, dcol, lvl);
    for (int b = 0; b < B; b++) {
        /* exactly one 1, at the chosen block and level */
        const synth_col *col = &xf.cols[xf.disc[dcol[b]]];
        assert_close(cond[(size_t)b * xf.cond_dim + col->cond_off + lvl[b]], 1.0, 0);
        double s = 0;
        for (int i = 0; i < xf.cond_dim; i++) s += (double)cond[(size_t)b * xf.cond_dim + i];
        assert_close(s, 1.0, 0);
    }
    cond_ctx k = {&xf, alloc_f(n), dcol, lvl, B};
    fill_uniform(k.o, n, -2, 2, &r);
    float *d = alloc_f(n);
    synth_cond_loss_backward(&xf, d, k.o, dcol, lvl, B, 1.0f / B);
    assert_true(grad_check("cond loss", cond_obj, &k, k.o, d, n, 1e-2f, NULL) < 1e-2);
    /* logits that put all mass on the conditioned level have a loss near 0 */
    memset(k.o, 0, n * sizeof *k.o);
    for (int b = 0; b < B; b++) k.o[(size_t)b * Dd + xf.cols[xf.disc[dcol[b]]].off + lvl[b]] = 30;
    assert_true(cond_obj(&k) < 1e-9);
    sg_free(k.o);
    sg_free(d);
    sg_free(cond);
    synth_xf_deinit(&xf);
}

/* synth-2.8: conditional vectors with a focus block: share 1 names it in every row,
 * share 0 is CTGAN's rule (the same stream), share 0.5 names it in about half the
 * rows plus its uniform turn */
static void cond_focus(void **state)
{
    (void)state;
    synth_xf xf;
    make_xf(&xf, 3, XF_KIND, XF_NL);
    assert_int_equal(xf.n_disc, 2);
    enum { B = 4000 };
    float *c1 = alloc_f((size_t)B * xf.cond_dim), *c2 = alloc_f((size_t)B * xf.cond_dim);
    int32_t *d1 = sg_malloc_array(B, sizeof *d1), *l1 = sg_malloc_array(B, sizeof *l1);
    int32_t *d2 = sg_malloc_array(B, sizeof *d2), *l2 = sg_malloc_array(B, sizeof *l2);
    assert_true(d1 && l1 && d2 && l2);
    sg_rng r1, r2;
    sg_rng_init(&r1, SEED);
    sg_rng_init(&r2, SEED);
    synth_cond_sample(&xf, xf.logf_cum, B, &r1, c1, d1, l1);
    synth_cond_sample_focus(&xf, xf.logf_cum, B, 1, 0.0, &r2, c2, d2, l2);
    assert_memory_equal(c1, c2, (size_t)B * xf.cond_dim * sizeof *c1);
    assert_memory_equal(d1, d2, B * sizeof *d1);
    synth_cond_sample_focus(&xf, xf.freq_cum, B, 1, 1.0, &r2, c2, d2, l2);
    int on = 0;
    for (int b = 0; b < B; b++) {
        on += d2[b] == 1;
        const synth_col *col = &xf.cols[xf.disc[d2[b]]];
        assert_close(c2[(size_t)b * xf.cond_dim + col->cond_off + l2[b]], 1.0, 0);
    }
    assert_int_equal(on, B);
    synth_cond_sample_focus(&xf, xf.logf_cum, B, 0, 0.5, &r2, c2, d2, l2);
    on = 0;
    for (int b = 0; b < B; b++) on += d2[b] == 0;
    print_message("focus share 0.5 over 2 blocks: %.3f (expected 0.75)\n", (double)on / B);
    assert_close((double)on / B, 0.75, 0.04);
    sg_free(c1);
    sg_free(c2);
    sg_free(d1);
    sg_free(l1);
    sg_free(d2);
    sg_free(l2);
    synth_xf_deinit(&xf);
}

/* Critic fixtures: tiny shapes, the activation pattern of a reference pass. */
typedef struct crit_ctx {
    synth_critic c;
    float *x, *coef;
    uint8_t *pattern;
    int mode;   /* 0: sum coef * out; 1: gradient penalty */
} crit_ctx;

static int pattern_same(crit_ctx *k)
{
    size_t n = (size_t)k->c.Bp * k->c.H;
    for (size_t i = 0; i < n; i++) {
        if ((k->c.a1[i] > 0) != k->pattern[i]) return 0;
        if ((k->c.a2[i] > 0) != k->pattern[n + i]) return 0;
    }
    return 1;
}

static void pattern_save(crit_ctx *k)
{
    size_t n = (size_t)k->c.Bp * k->c.H;
    for (size_t i = 0; i < n; i++) {
        k->pattern[i] = k->c.a1[i] > 0;
        k->pattern[n + i] = k->c.a2[i] > 0;
    }
}

static double crit_obj(void *p)
{
    crit_ctx *k = p;
    double v;
    if (k->mode == 0) {
        synth_critic_forward(&k->c, k->x, NULL);
        v = dot_cd(k->coef, k->c.out, (size_t)k->c.Bp);
    } else {
        v = synth_critic_gp(&k->c, k->x, 1.0f, NULL, 0);
    }
    return pattern_same(k) ? v : (double)NAN;
}

static void crit_setup(crit_ctx *k, sg_rng *r)
{
    int Bp = 3, P = 7, H = 6;
    assert_int_equal(synth_critic_init(&k->c, Bp, P, H, 0.5f, NULL), SG_OK);
    fill_uniform(sg_params_data(k->c.p), sg_params_count(k->c.p), -0.6f, 0.6f, r);
    k->x = alloc_f((size_t)Bp * P);
    k->coef = alloc_f((size_t)Bp);
    k->pattern = sg_calloc(2 * (size_t)Bp * H, 1);
    fill_uniform(k->x, (size_t)Bp * P, -1, 1, r);
    fill_uniform(k->coef, (size_t)Bp, 0.5f, 1.5f, r);
    synth_critic_forward(&k->c, k->x, r);   /* draws the dropout masks */
    pattern_save(k);
}

static void crit_teardown(crit_ctx *k)
{
    synth_critic_deinit(&k->c);
    sg_free(k->x);
    sg_free(k->coef);
    sg_free(k->pattern);
}

/* synth-2.4: critic input gradient and weight gradients (standard backward) */
static void critic_grad(void **state)
{
    (void)state;
    sg_rng r;
    sg_rng_init(&r, SEED);
    crit_ctx k;
    crit_setup(&k, &r);
    k.mode = 0;
    int Bp = k.c.Bp, P = k.c.P;
    /* the per-row input gradient of sum out */
    for (int b = 0; b < Bp; b++) k.coef[b] = 1.0f;
    synth_critic_forward(&k.c, k.x, NULL);
    synth_critic_input_grad(&k.c);
    float *g = alloc_f((size_t)Bp * P);
    memcpy(g, k.c.g, (size_t)Bp * P * sizeof *g);
    int skipped = 0;
    assert_true(grad_check("critic d/dx", crit_obj, &k, k.x, g, (size_t)Bp * P, 1e-3f,
                           &skipped) < 1e-2);
    /* weights, with an input gradient accumulated on top of a known value */
    fill_uniform(k.coef, (size_t)Bp, 0.5f, 1.5f, &r);
    synth_critic_forward(&k.c, k.x, NULL);
    sg_params_zero_grad(k.c.p);
    float *dinp = alloc_f((size_t)Bp * P);
    for (size_t i = 0; i < (size_t)Bp * P; i++) dinp[i] = 1.0f;
    synth_critic_backward(&k.c, k.x, k.coef, dinp, 1);
    for (size_t i = 0; i < (size_t)Bp * P; i++) dinp[i] -= 1.0f;
    assert_true(grad_check("critic dinp", crit_obj, &k, k.x, dinp, (size_t)Bp * P, 1e-3f,
                           &skipped) < 1e-2);
    size_t np = sg_params_count(k.c.p);
    float *gw = alloc_f(np);
    memcpy(gw, sg_params_grads(k.c.p), np * sizeof *gw);
    assert_true(grad_check("critic dW", crit_obj, &k, sg_params_data(k.c.p), gw, np, 1e-3f,
                           &skipped) < 1e-2);
    assert_true(skipped <= 4);
    sg_free(g);
    sg_free(dinp);
    sg_free(gw);
    crit_teardown(&k);
}

/* synth-2.5: gradient penalty: value by hand and its exact gradient wrt the weights */
static void gp_grad(void **state)
{
    (void)state;
    sg_rng r;
    sg_rng_init(&r, SEED + 1);
    crit_ctx k;
    crit_setup(&k, &r);
    k.mode = 1;
    int Bp = k.c.Bp, P = k.c.P;
    /* value: lambda * mean (||g_b|| - 1)^2 with g from synth_critic_input_grad */
    synth_critic_forward(&k.c, k.x, NULL);
    synth_critic_input_grad(&k.c);
    double want = 0;
    for (int b = 0; b < Bp; b++) {
        double s = 0;
        for (int j = 0; j < P; j++) s += (double)k.c.g[b * P + j] * (double)k.c.g[b * P + j];
        want += (sqrt(s) - 1) * (sqrt(s) - 1);
    }
    want /= Bp;
    sg_params_zero_grad(k.c.p);
    double gp = synth_critic_gp(&k.c, k.x, 1.0f, NULL, 1);
    assert_close(gp, want, 1e-5 * want + 1e-9);
    size_t np = sg_params_count(k.c.p);
    float *gw = alloc_f(np);
    memcpy(gw, sg_params_grads(k.c.p), np * sizeof *gw);
    /* the biases move only the slopes: zero gradient */
    for (int h = 0; h < k.c.H; h++) {
        assert_close(k.c.db1[h], 0.0, 0.0);
        assert_close(k.c.db2[h], 0.0, 0.0);
    }
    int skipped = 0;
    assert_true(grad_check("gradient penalty dW", crit_obj, &k, sg_params_data(k.c.p), gw, np,
                           1e-3f, &skipped) < 1e-2);
    assert_true(skipped <= 4);
    /* it is not trivially zero */
    assert_true(sg_grad_norm(gw, np) > 1e-3);
    sg_free(gw);
    crit_teardown(&k);
}

typedef struct gen_ctx {
    synth_gen g;
    const synth_xf *xf;
    float *c;
    uint8_t *pattern;
} gen_ctx;

static int gen_pattern(gen_ctx *k, int save)
{
    size_t n = (size_t)k->g.B * k->g.H;
    for (size_t i = 0; i < n; i++) {
        uint8_t p1 = k->g.n1[i] > 0, p2 = k->g.n2[i] > 0;
        if (save) {
            k->pattern[i] = p1;
            k->pattern[n + i] = p2;
        } else if (p1 != k->pattern[i] || p2 != k->pattern[n + i]) {
            return 0;
        }
    }
    return 1;
}

static double gen_obj(void *p)
{
    gen_ctx *k = p;
    synth_gen_forward(&k->g, k->xf, 0.2f, NULL);
    double v = dot_cd(k->c, k->g.act, (size_t)k->g.B * k->g.Dd);
    return gen_pattern(k, 0) ? v : (double)NAN;
}

/* synth-2.6: the whole generator backward (residual concatenations, batch norm,
 * gumbel-softmax) against central differences over every parameter */
static void generator_grad(void **state)
{
    (void)state;
    synth_xf xf;
    make_xf(&xf, 3, XF_KIND, XF_NL);
    gen_ctx k;
    int B = 6, Z = 3, H = 4;
    assert_int_equal(synth_gen_init(&k.g, B, Z, xf.cond_dim, H, xf.data_dim, 1, NULL), SG_OK);
    k.xf = &xf;
    sg_rng r;
    sg_rng_init(&r, SEED);
    fill_uniform(sg_params_data(k.g.p), sg_params_count(k.g.p), -0.5f, 0.5f, &r);
    fill_uniform(k.g.x0, (size_t)B * k.g.I0, -1, 1, &r);
    size_t n = (size_t)B * xf.data_dim;
    k.c = alloc_f(n);
    k.pattern = sg_calloc(2 * (size_t)B * H, 1);
    fill_uniform(k.c, n, -1, 1, &r);
    synth_gen_forward(&k.g, &xf, 0.2f, &r);   /* draws the gumbel noise */
    gen_pattern(&k, 1);
    memset(k.g.d_o, 0, n * sizeof *k.g.d_o);
    synth_activate_backward(&xf, k.g.d_o, k.c, k.g.act, B, 0.2f);
    sg_params_zero_grad(k.g.p);
    synth_gen_backward(&k.g);
    size_t np = sg_params_count(k.g.p);
    float *gw = alloc_f(np);
    memcpy(gw, sg_params_grads(k.g.p), np * sizeof *gw);
    int skipped = 0;
    assert_true(grad_check("generator dW", gen_obj, &k, sg_params_data(k.g.p), gw, np, 1e-3f,
                           &skipped) < 2e-2);
    assert_true(skipped <= 8);
    sg_free(gw);
    sg_free(k.c);
    sg_free(k.pattern);
    synth_gen_deinit(&k.g);
    synth_xf_deinit(&xf);
}

typedef struct tvae_ctx {
    const synth_xf *xf;
    float *rec, *x, *sigma;
    int B;
} tvae_ctx;

static double tvae_obj(void *p)
{
    tvae_ctx *k = p;
    return synth_tvae_loss_forward(k->xf, k->rec, k->x, k->sigma, k->B, 2.0f);
}

/* synth-2.7: the TVAE reconstruction loss wrt the decoder output and sigma */
static void tvae_loss_grad(void **state)
{
    (void)state;
    synth_xf xf;
    make_xf(&xf, 3, XF_KIND, XF_NL);
    int B = 5, Dd = xf.data_dim;
    size_t n = (size_t)B * Dd;
    sg_rng r;
    sg_rng_init(&r, SEED);
    tvae_ctx k = {&xf, alloc_f(n), alloc_f(n), alloc_f((size_t)Dd), B};
    fill_uniform(k.rec, n, -1, 1, &r);
    fill_uniform(k.sigma, (size_t)Dd, 0.2f, 0.8f, &r);
    /* x: a valid encoded row: offset in (-1,1) and one-hot spans */
    for (int b = 0; b < B; b++)
        for (int j = 0; j < 3; j++) {
            const synth_col *c = &xf.cols[j];
            float *xb = k.x + (size_t)b * Dd;
            int s = c->off;
            if (c->kind == SG_FCOL_CONTINUOUS) xb[s++] = (float)(sg_rng_uniform(&r) - 0.5);
            xb[s + (int)sg_rng_below(&r, (uint64_t)c->n_levels)] = 1.0f;
        }
    float *drec = alloc_f(n), *ds = alloc_f((size_t)Dd);
    synth_tvae_loss_backward(&xf, drec, ds, k.rec, k.x, k.sigma, B, 2.0f);
    assert_true(grad_check("tvae drec", tvae_obj, &k, k.rec, drec, n, 1e-2f, NULL) < 1e-2);
    assert_true(grad_check("tvae dsigma", tvae_obj, &k, k.sigma, ds, (size_t)Dd, 1e-3f, NULL) <
                1e-2);
    sg_free(k.rec);
    sg_free(k.x);
    sg_free(k.sigma);
    sg_free(drec);
    sg_free(ds);
    synth_xf_deinit(&xf);
}

typedef struct tvae_wctx {
    tvae_ctx k;
    int wcol;
    float w;
} tvae_wctx;

static double tvae_wobj(void *p)
{
    tvae_wctx *q = p;
    return synth_tvae_loss_wforward(q->k.xf, q->k.rec, q->k.x, q->k.sigma, q->k.B, 2.0f, q->wcol,
                                    q->w);
}

/* synth-2.9: the TVAE loss with a weighted target column: weight 1 (or no column) is the
 * plain loss, weight w adds (w - 1) times that column's cross-entropy, and its gradient
 * (the other spans' unchanged) passes a finite-difference check */
static void tvae_weighted_loss(void **state)
{
    (void)state;
    synth_xf xf;
    make_xf(&xf, 3, XF_KIND, XF_NL);
    int B = 4, Dd = xf.data_dim, wcol = 2;
    size_t n = (size_t)B * Dd;
    sg_rng r;
    sg_rng_init(&r, SEED + 9);
    tvae_wctx q = {{&xf, alloc_f(n), alloc_f(n), alloc_f((size_t)Dd), B}, wcol, 7.0f};
    fill_uniform(q.k.rec, n, -1, 1, &r);
    fill_uniform(q.k.sigma, (size_t)Dd, 0.2f, 0.8f, &r);
    for (int b = 0; b < B; b++)
        for (int j = 0; j < 3; j++) {
            const synth_col *c = &xf.cols[j];
            float *xb = q.k.x + (size_t)b * Dd;
            int s = c->off;
            if (c->kind == SG_FCOL_CONTINUOUS) xb[s++] = (float)(sg_rng_uniform(&r) - 0.5);
            xb[s + (int)sg_rng_below(&r, (uint64_t)c->n_levels)] = 1.0f;
        }
    const synth_col *c = &xf.cols[wcol];
    assert_int_not_equal(c->kind, SG_FCOL_CONTINUOUS);
    double plain = synth_tvae_loss_forward(&xf, q.k.rec, q.k.x, q.k.sigma, B, 2.0f);
    assert_true(fabs(synth_tvae_loss_wforward(&xf, q.k.rec, q.k.x, q.k.sigma, B, 2.0f, wcol,
                                              1.0f) - plain) < 1e-9 * fabs(plain) + 1e-12);
    assert_true(fabs(synth_tvae_loss_wforward(&xf, q.k.rec, q.k.x, q.k.sigma, B, 2.0f, -1,
                                              7.0f) - plain) < 1e-9 * fabs(plain) + 1e-12);
    /* the column's cross-entropy by hand */
    double ce = 0;
    for (int b = 0; b < B; b++) {
        const float *rb = q.k.rec + (size_t)b * Dd + c->off, *xb = q.k.x + (size_t)b * Dd + c->off;
        double t = 0, lt = 0;
        for (int l = 0; l < c->n_levels; l++) {
            t += exp((double)rb[l]);
            if (xb[l] > 0.5f) lt = rb[l];
        }
        ce += log(t) - lt;
    }
    double want = plain + 6.0 * ce * 2.0 / B;
    assert_true(fabs(tvae_wobj(&q) - want) < 1e-6 * fabs(want));
    float *drec = alloc_f(n), *ds = alloc_f((size_t)Dd);
    float *prec = alloc_f(n), *pds = alloc_f((size_t)Dd);
    synth_tvae_loss_wbackward(&xf, drec, ds, q.k.rec, q.k.x, q.k.sigma, B, 2.0f, wcol, q.w);
    synth_tvae_loss_backward(&xf, prec, pds, q.k.rec, q.k.x, q.k.sigma, B, 2.0f);
    for (int b = 0; b < B; b++)
        for (int i = 0; i < Dd; i++) {
            size_t at = (size_t)b * Dd + (size_t)i;
            int in = i >= c->off && i < c->off + c->width;
            assert_float_equal(drec[at], in ? q.w * prec[at] : prec[at], 1e-5f);
        }
    for (int i = 0; i < Dd; i++) assert_float_equal(ds[i], pds[i], 1e-6f);
    assert_true(grad_check("tvae weighted drec", tvae_wobj, &q, q.k.rec, drec, n, 1e-2f, NULL) <
                1e-2);
    sg_free(q.k.rec);
    sg_free(q.k.x);
    sg_free(q.k.sigma);
    sg_free(drec);
    sg_free(ds);
    sg_free(prec);
    sg_free(pds);
    synth_xf_deinit(&xf);
}

typedef struct tvae_nctx {
    synth_tvae *t;
    const synth_data *d;
    const int64_t *rows;
    int B;
    sg_rng r0;
} tvae_nctx;

/* grad_check for a ReLU network whose activations the test cannot see: a coordinate
 * whose central differences at eps and eps / 4 disagree by more than 5% (a kink inside
 * the step) is skipped and counted in *skipped.  Errors are relative to max(|g|, 0.05):
 * the float network's objective (about 10) is exact to about 1e-6. */
static double grad_check_kinks(const char *what, objective_fn f, void *ctx, float *x,
                               const float *g, size_t n, float eps, int *skipped)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        float x0 = x[i];
        double num[2];
        for (int k = 0; k < 2; k++) {
            float e = k ? eps / 4 : eps;
            x[i] = x0 + e;
            double fp = f(ctx);
            x[i] = x0 - e;
            double fm = f(ctx);
            num[k] = (fp - fm) / (2.0 * (double)e);
        }
        x[i] = x0;
        double scale = fmax(fmax(fabs(num[0]), fabs(num[1])), 5e-2);
        if (fabs(num[0] - num[1]) > 0.05 * scale) {
            (*skipped)++;
            continue;
        }
        double rel = fabs((double)g[i] - num[0]) / fmax(fmax(fabs((double)g[i]), fabs(num[0])),
                                                       5e-2);
        if (rel > worst) worst = rel;
        if (rel > 1e-2)
            print_message("%s: relative error %.3g at %zu (analytic %.6g, numeric %.6g)\n", what,
                          rel, i, (double)g[i], num[0]);
    }
    return worst;
}

/* The TVAE's loss on the batch, eps drawn from the same rng state every time. */
static double tvae_nobj(void *p)
{
    tvae_nctx *k = p;
    sg_rng r = k->r0;
    double lrec, lkl, laux;
    synth_tvae_grad(k->t, k->d, k->rows, k->B, &r, &lrec, &lkl, &laux);
    return lrec + lkl + 0.7 * laux;
}

/* synth-2.10: the conditional TVAE (decoder input [z | one-hot of the target level],
 * KL against the level's learned prior) end to end, encoder and decoder with the
 * weighted target term: every parameter's gradient against central differences, the
 * rows of the decoder's first layer that take the condition and the prior included */
static void tvae_cond_grad(void **state)
{
    (void)state;
    synth_xf xf;
    make_xf(&xf, 3, XF_KIND, XF_NL);
    int B = 6, C = 3, tc = 2, Z = 3, H = 5;
    sg_rng r;
    sg_rng_init(&r, SEED + 11);
    float X[6 * 3];
    for (int b = 0; b < B; b++) {
        X[b * C + 0] = (float)(10.0 * (double)sg_rng_below(&r, 2) + sg_rng_normal(&r));
        X[b * C + 1] = (float)sg_rng_below(&r, 3);
        X[b * C + 2] = (float)(b % 4);   /* the target: every level */
    }
    synth_data d;
    assert_int_equal(synth_data_init(&d, &xf, X, B, &r, NULL), SG_OK);
    int64_t rows[6] = {0, 1, 2, 3, 4, 5};
    synth_tvae_cfg cfg = {B, Z, H, 1e-3f, 0.0f, 2.0f, tc, 3.0f, 1, 0.7f};
    synth_tvae *t = NULL;
    assert_int_equal(synth_tvae_new(&t, &xf, &cfg, 1, NULL), SG_OK);
    assert_int_equal(synth_tvae_cond_width(t), 4);
    synth_tvae_init(t, &r);
    sg_params *enc = synth_tvae_enc_params(t), *dec = synth_tvae_dec_params(t);
    int shape[4];
    assert_int_equal(sg_params_shape(dec, 0, shape), 2);
    assert_int_equal(shape[0], Z + 4);
    /* the learned prior (mean, log-variance per target level) away from N(0, I) */
    assert_int_equal(sg_params_n_tensors(dec), 9);
    sg_rng rp;
    sg_rng_init(&rp, SEED + 12);
    fill_uniform(sg_params_tensor(dec, 7), 4 * (size_t)Z, -0.5f, 0.5f, &rp);
    fill_uniform(sg_params_tensor(dec, 8), 4 * (size_t)Z, -0.5f, 0.5f, &rp);
    /* the auxiliary classifier's weights (fixed here: only its loss's gradient counts) */
    sg_params *aux = synth_tvae_aux_params(t);
    assert_non_null(aux);
    fill_uniform(sg_params_data(aux), sg_params_count(aux), -1.0f, 1.0f, &rp);
    tvae_nctx k = {t, &d, rows, B, r};
    double lrec, lkl, laux;
    sg_rng r1 = r;
    synth_tvae_grad(t, &d, rows, B, &r1, &lrec, &lkl, &laux);
    assert_true(laux > 0.1 && lkl > 0);
    size_t ne = sg_params_count(enc), nd = sg_params_count(dec);
    float *ge = alloc_f(ne), *gd = alloc_f(nd);
    memcpy(ge, sg_params_grads(enc), ne * sizeof *ge);
    memcpy(gd, sg_params_grads(dec), nd * sizeof *gd);
    /* the condition's rows of dec.w1 (rows Z..Z+3 of a (Z+4, H) matrix) get a gradient */
    double gc = 0;
    for (int i = Z * H; i < (Z + 4) * H; i++) gc += fabs((double)gd[i]);
    assert_true(gc > 1e-4);
    int skipped = 0;
    assert_true(grad_check_kinks("cvae encoder", tvae_nobj, &k, sg_params_data(enc), ge, ne,
                                 4e-3f, &skipped) < 2e-2);
    assert_true(grad_check_kinks("cvae decoder", tvae_nobj, &k, sg_params_data(dec), gd, nd,
                                 4e-3f, &skipped) < 2e-2);
    print_message("cvae: %zu parameters, %d skipped at kinks\n", ne + nd, skipped);
    assert_true((size_t)skipped <= (ne + nd) / 10);
    sg_free(ge);
    sg_free(gd);
    synth_tvae_free(t);
    synth_data_deinit(&d);
    synth_xf_deinit(&xf);
}

/* ---------------------------------------------------------------------------
 * models end to end (tiny) */

static void tiny_opts(sg_synth_opts *o, int model)
{
    sg_synth_opts_default(o);
    o->model = model;
    o->id = "id";
    o->target = "bought";
    o->epochs = 4;
    o->batch = 50;
    o->pac = 5;
    o->embedding = 8;
    o->hidden = 16;
    o->eval_every = 2;
}

/* synth-3.1: conditional sampling gives the requested (rare) category, and exactly the
 * requested target level; missing values come out as missing */
static void conditional_sampling(void **state)
{
    (void)state;
    sg_table *t = make_table(400, SEED);
    sg_synth_opts o;
    tiny_opts(&o, SG_SYNTH_GAN);
    o.epochs = 30;
    o.valid = 0;
    sg_synth *m = NULL;
    sg_error err;
    assert_int_equal(sg_synth_train(&m, t, &o, NULL, &err), SG_OK);
    int C = sg_synth_n_cols(m);
    assert_int_equal(C, 4);
    assert_null(sg_synth_col_name(m, 4));
    int seg = 2;
    assert_string_equal(sg_synth_col_name(m, seg), "segment");
    float gold;
    assert_int_equal(sg_synth_parse_value(m, seg, "gold", &gold, &err), SG_OK);
    assert_int_equal(sg_synth_parse_value(m, seg, "platinum", &gold, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "platinum"));
    assert_int_equal(sg_synth_parse_value(m, seg, "gold", &gold, &err), SG_OK);
    float *X = alloc_f(100 * (size_t)C);
    double acc;
    assert_int_equal(sg_synth_sample(m, 100, 7, seg, gold, X, &acc, &err), SG_OK);
    char buf[64];
    for (int i = 0; i < 100; i++)
        assert_string_equal(sg_synth_format(m, seg, X[i * C + seg], buf, sizeof buf), "gold");
    /* the condition steers the generator: far more than the 5% base rate get through */
    print_message("acceptance %.3f\n", acc);
    assert_true(acc > 0.2);
    /* unconditioned rows: missing values appear in both columns that have them */
    assert_int_equal(sg_synth_sample(m, 100, 8, -1, 0, X, NULL, &err), SG_OK);
    int miss_amount = 0, miss_seg = 0;
    for (int i = 0; i < 100; i++) {
        miss_amount += isnan(X[i * C + 0]);
        miss_seg += isnan(X[i * C + seg]);
    }
    assert_true(miss_amount > 0 && miss_amount < 60);
    assert_true(miss_seg < 40);
    /* the target's span is set to its condition (hard conditioning): every row meets it */
    int tgt = sg_synth_target(m);
    assert_int_equal(tgt, 3);
    assert_int_equal(sg_synth_sample(m, 100, 9, tgt, 1.0f, X, &acc, &err), SG_OK);
    assert_close(acc, 1.0, 0);
    for (int i = 0; i < 100; i++) assert_close(X[i * C + tgt], 1.0, 0);
    /* a continuous column cannot be a condition */
    assert_int_equal(sg_synth_sample(m, 10, 7, 0, 1.0f, X, NULL, &err), SG_EINVAL);
    sg_free(X);
    sg_synth_free(m);
    sg_table_free(t);
}

/* Save into memory; *buf owned by the caller. */
static unsigned char *save(const sg_synth *m, size_t *len)
{
    unsigned char *buf = NULL;
    assert_int_equal(sg_synth_save_mem(m, &buf, len, NULL), SG_OK);
    return buf;
}

/* synth-3.2: the same seed gives the same model bytes, another seed other bytes */
static void deterministic(void **state)
{
    (void)state;
    sg_table *t = make_table(300, SEED);
    for (int model = SG_SYNTH_GAN; model <= SG_SYNTH_TVAE; model++) {
        sg_synth_opts o;
        tiny_opts(&o, model);
        sg_synth *a = NULL, *b = NULL, *c = NULL;
        assert_int_equal(sg_synth_train(&a, t, &o, NULL, NULL), SG_OK);
        assert_int_equal(sg_synth_train(&b, t, &o, NULL, NULL), SG_OK);
        o.seed = 99;
        assert_int_equal(sg_synth_train(&c, t, &o, NULL, NULL), SG_OK);
        size_t la, lb, lc;
        unsigned char *ba = save(a, &la), *bb = save(b, &lb), *bc = save(c, &lc);
        assert_int_equal(la, lb);
        assert_memory_equal(ba, bb, la);
        assert_true(la != lc || memcmp(ba, bc, la) != 0);
        sg_free(ba);
        sg_free(bb);
        sg_free(bc);
        sg_synth_free(a);
        sg_synth_free(b);
        sg_synth_free(c);
    }
    sg_table_free(t);
}

/* synth-3.3: save/load round trip (memory and file) generates the same rows */
static void save_load(void **state)
{
    (void)state;
    sg_table *t = make_table(300, SEED);
    for (int model = SG_SYNTH_GAN; model <= SG_SYNTH_TVAE; model++) {
        sg_synth_opts o;
        tiny_opts(&o, model);
        sg_synth *a = NULL, *b = NULL, *c = NULL;
        sg_error err;
        assert_int_equal(sg_synth_train(&a, t, &o, NULL, &err), SG_OK);
        size_t la, lb;
        unsigned char *ba = save(a, &la);
        assert_int_equal(sg_synth_load_mem(&b, ba, la, &err), SG_OK);
        unsigned char *bb = save(b, &lb);
        assert_int_equal(la, lb);
        assert_memory_equal(ba, bb, la);
        int C = sg_synth_n_cols(a);
        float *xa = alloc_f(60 * (size_t)C), *xb = alloc_f(60 * (size_t)C);
        assert_int_equal(sg_synth_sample(a, 60, 3, -1, 0, xa, NULL, &err), SG_OK);
        assert_int_equal(sg_synth_sample(b, 60, 3, -1, 0, xb, NULL, &err), SG_OK);
        assert_memory_equal(xa, xb, 60 * (size_t)C * sizeof *xa);
        assert_int_equal(sg_synth_kind(b), model);
        assert_string_equal(sg_synth_id_name(b), "id");
        assert_int_equal(sg_synth_target(b), 3);
        char rule[64];
        assert_string_equal(sg_synth_target_rule(b, rule, sizeof rule), "bought > 0");
        /* through a file */
        char path[] = "/tmp/test_synth_XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(sg_synth_save(a, path, &err), SG_OK);
        assert_int_equal(sg_synth_load(&c, path, &err), SG_OK);
        assert_int_equal(sg_synth_sample(c, 60, 3, -1, 0, xb, NULL, &err), SG_OK);
        assert_memory_equal(xa, xb, 60 * (size_t)C * sizeof *xa);
        /* a file of another task is refused by name */
        sg_synth_free(c);
        c = NULL;
        assert_int_equal(sg_modelfile_write(path, SG_TASK_RESPONSE, ba, la, &err), SG_OK);
        assert_int_equal(sg_synth_load(&c, path, &err), SG_EINVAL);
        assert_non_null(strstr(err.msg, "response"));
        unlink(path);
        sg_free(xa);
        sg_free(xb);
        sg_free(ba);
        sg_free(bb);
        sg_synth_free(a);
        sg_synth_free(b);
        sg_synth_free(c);
    }
    sg_table_free(t);
}

/* synth-3.4: truncated or corrupt model -> SG_EPARSE saying what was being read */
static void truncated_model(void **state)
{
    (void)state;
    sg_table *t = make_table(200, SEED);
    sg_synth_opts o;
    tiny_opts(&o, SG_SYNTH_GAN);
    o.epochs = 1;
    sg_synth *a = NULL, *b = NULL;
    assert_int_equal(sg_synth_train(&a, t, &o, NULL, NULL), SG_OK);
    size_t len;
    unsigned char *buf = save(a, &len);
    sg_error err;
    size_t cuts[] = {0, 3, 7, 30, 60, len / 3, len / 2, len - 5, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        int rc = sg_synth_load_mem(&b, buf, cuts[i], &err);
        assert_int_equal(rc, SG_EPARSE);
        assert_null(b);
        assert_true(strlen(err.msg) > 10);
    }
    assert_int_equal(sg_synth_load_mem(&b, buf, 2, &err), SG_EPARSE);
    assert_non_null(strstr(err.msg, "magic"));
    buf[0] ^= 0xff;
    assert_int_equal(sg_synth_load_mem(&b, buf, len, &err), SG_EPARSE);
    assert_non_null(strstr(err.msg, "not a synth model"));
    buf[0] ^= 0xff;
    /* a truncated file: the container's check names it */
    char path[] = "/tmp/test_synth_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(sg_synth_save(a, path, &err), SG_OK);
    FILE *f = fopen(path, "r+");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), 100), 0);
    fclose(f);
    assert_int_equal(sg_synth_load(&b, path, &err), SG_EPARSE);
    assert_null(b);
    assert_true(strlen(err.msg) > 10);
    unlink(path);
    assert_int_equal(sg_synth_load(&b, "/nonexistent/model.sgm", &err), SG_EIO);
    sg_free(buf);
    sg_synth_free(a);
    sg_table_free(t);
}

/* synth-3.8: the conditional TVAE draws its target's levels (a category with a missing
 * level here) in their training frequencies, and a condition on the target is met
 * by every row without rejection */
static void tvae_target_freq(void **state)
{
    (void)state;
    sg_table *t = make_table(600, SEED);
    sg_synth_opts o;
    tiny_opts(&o, SG_SYNTH_TVAE);
    o.target = "segment";
    sg_synth *m = NULL;
    sg_error err;
    assert_int_equal(sg_synth_train(&m, t, &o, NULL, &err), SG_OK);
    int C = sg_synth_n_cols(m), tc = sg_synth_target(m);
    assert_int_equal(tc, 2);
    int64_t n_ref;
    const float *ref = sg_synth_reference(m, 0, &n_ref);
    int n = 4000;
    float *X = alloc_f((size_t)n * C);
    assert_int_equal(sg_synth_sample(m, n, 5, -1, 0, X, NULL, &err), SG_OK);
    const char *lab[4] = {"gold", "silver", "bronze", NULL};
    for (int k = 0; k < 4; k++) {
        float v = NAN;
        if (lab[k]) assert_int_equal(sg_synth_parse_value(m, tc, lab[k], &v, &err), SG_OK);
        double fr = 0, fs = 0;
        for (int64_t i = 0; i < n_ref; i++) {
            float x = ref[i * C + tc];
            fr += x == v || (isnan(x) && isnan(v));
        }
        for (int i = 0; i < n; i++) {
            float x = X[(size_t)i * C + tc];
            fs += x == v || (isnan(x) && isnan(v));
        }
        fr /= (double)n_ref;
        fs /= (double)n;
        print_message("%s: training %.3f, sampled %.3f\n", lab[k] ? lab[k] : "missing", fr, fs);
        assert_true(fr > 0.02);
        assert_close(fs, fr, 0.03);   /* about 4 standard errors of 4,000 draws */
    }
    /* conditioned on the target: every row, no rejection */
    float gold;
    double acc;
    assert_int_equal(sg_synth_parse_value(m, tc, "gold", &gold, &err), SG_OK);
    assert_int_equal(sg_synth_sample(m, 200, 6, tc, gold, X, &acc, &err), SG_OK);
    assert_close(acc, 1.0, 0);
    for (int i = 0; i < 200; i++) assert_close(X[(size_t)i * C + tc], gold, 0);
    sg_free(X);
    sg_synth_free(m);
    sg_table_free(t);
}

/* synth-3.9: model files of version 2 (no conditional TVAE) still load and generate
 * the same rows; a conditioned TVAE's file cut back to version 2 is refused, and so
 * are other versions */
static void version_2_files(void **state)
{
    (void)state;
    sg_table *t = make_table(300, SEED);
    for (int cond = 0; cond < 2; cond++) {
        sg_synth_opts o;
        tiny_opts(&o, SG_SYNTH_TVAE);
        o.epochs = 2;
        if (!cond) o.target = NULL;
        sg_synth *a = NULL, *b = NULL;
        sg_error err;
        assert_int_equal(sg_synth_train(&a, t, &o, NULL, &err), SG_OK);
        size_t len;
        unsigned char *buf = save(a, &len);
        /* the flag follows magic, version, kind, seed, 5 ints, 4 floats, the id "id"
         * (length + 2 bytes), target, rule, value and share: at byte 78 */
        int32_t flag;
        memcpy(&flag, buf + 78, 4);
        assert_int_equal(flag, cond);
        uint32_t v = 2;
        memcpy(buf + 4, &v, 4);
        memmove(buf + 78, buf + 82, len - 82);
        int rc = sg_synth_load_mem(&b, buf, len - 4, &err);
        if (cond) {
            assert_int_equal(rc, SG_EPARSE);
            assert_null(b);
        } else {
            assert_int_equal(rc, SG_OK);
            int C = sg_synth_n_cols(a);
            float *xa = alloc_f(60 * (size_t)C), *xb = alloc_f(60 * (size_t)C);
            assert_int_equal(sg_synth_sample(a, 60, 3, -1, 0, xa, NULL, &err), SG_OK);
            assert_int_equal(sg_synth_sample(b, 60, 3, -1, 0, xb, NULL, &err), SG_OK);
            assert_memory_equal(xa, xb, 60 * (size_t)C * sizeof *xa);
            sg_free(xa);
            sg_free(xb);
            sg_synth_free(b);
            b = NULL;
        }
        v = 1;
        memcpy(buf + 4, &v, 4);
        assert_int_equal(sg_synth_load_mem(&b, buf, len - 4, &err), SG_EPARSE);
        assert_non_null(strstr(err.msg, "version 1"));
        assert_null(b);
        sg_free(buf);
        sg_synth_free(a);
    }
    sg_table_free(t);
}

/* synth-3.5: the report on the model's own training rows flags them as copies */
static void report_flags_copies(void **state)
{
    (void)state;
    sg_table *t = make_table(400, SEED);
    sg_synth_opts o;
    tiny_opts(&o, SG_SYNTH_TVAE);
    sg_synth *m = NULL;
    assert_int_equal(sg_synth_train(&m, t, &o, NULL, NULL), SG_OK);
    int64_t n;
    const float *ref = sg_synth_reference(m, 0, &n);
    assert_true(n > 200);
    sg_fidelity_report rep;
    sg_error err;
    assert_int_equal(sg_synth_report(m, ref, n, &rep, &err), SG_OK);
    assert_int_equal(rep.too_close, 1);
    assert_close(rep.exact_copy_synthetic, 1.0, 0);
    assert_close(rep.ks_complement, 1.0, 1e-12);
    sg_fidelity_report_deinit(&rep);
    /* generated rows: a full report with every key */
    int C = sg_synth_n_cols(m);
    float *X = alloc_f(300 * (size_t)C);
    assert_int_equal(sg_synth_sample(m, 300, 1, -1, 0, X, NULL, &err), SG_OK);
    assert_int_equal(sg_synth_report(m, X, 300, &rep, &err), SG_OK);
    assert_true(rep.ks_complement > 0 && rep.ks_complement <= 1);
    assert_true(rep.trtr_auc > 0.6);
    assert_false(isnan(rep.tstr_auc));
    assert_true(rep.dcr_holdout_median >= 0);
    assert_true(rep.exact_copy_synthetic < 0.5);
    sg_fidelity_report_deinit(&rep);
    sg_free(X);
    sg_synth_free(m);
    sg_table_free(t);
}

/* synth-3.6: bad options and column names are refused with a message */
static void bad_options(void **state)
{
    (void)state;
    sg_table *t = make_table(100, SEED);
    sg_synth_opts o;
    sg_synth *m = NULL;
    sg_error err;
    tiny_opts(&o, SG_SYNTH_GAN);
    o.batch = 52;
    assert_int_equal(sg_synth_train(&m, t, &o, NULL, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "pac"));
    tiny_opts(&o, SG_SYNTH_GAN);
    o.target = "nope";
    assert_int_equal(sg_synth_train(&m, t, &o, NULL, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "nope"));
    tiny_opts(&o, SG_SYNTH_GAN);
    const char *ign[] = {"ghost", NULL};
    o.ignore = ign;
    assert_int_equal(sg_synth_train(&m, t, &o, NULL, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "ghost"));
    tiny_opts(&o, SG_SYNTH_GAN);
    o.target_share = 1.5;
    assert_int_equal(sg_synth_train(&m, t, &o, NULL, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "target share"));
    tiny_opts(&o, SG_SYNTH_TVAE);
    o.holdout = 0.5;
    o.valid = 0.5;
    assert_int_equal(sg_synth_train(&m, t, &o, NULL, &err), SG_EINVAL);
    assert_null(m);
    sg_table_free(t);
}

/* synth-3.7: every allocation failure in train, sample, save and load gives
 * SG_ENOMEM and leaks nothing */
static void alloc_failures(void **state)
{
    (void)state;
    sg_table *t = make_table(120, SEED);
    for (int model = SG_SYNTH_GAN; model <= SG_SYNTH_TVAE; model++) {
        sg_synth_opts o;
        tiny_opts(&o, model);
        o.epochs = 2;
        o.eval_every = 1;
        o.batch = 20;
        o.embedding = 4;
        o.hidden = 8;
        int64_t before = sg_mem_live_bytes();
        int64_t total = -1;
        for (int64_t k = 0;; k++) {
            int64_t c0 = sg_mem_count();
            sg_mem_fail_after(total < 0 ? -1 : k);
            sg_synth *m = NULL, *l = NULL;
            unsigned char *buf = NULL;
            size_t len = 0;
            float X[4 * 30];
            sg_error err;
            int rc = sg_synth_train(&m, t, &o, NULL, &err);
            if (!rc) rc = sg_synth_sample(m, 30, 1, -1, 0, X, NULL, &err);
            if (!rc) rc = sg_synth_save_mem(m, &buf, &len, &err);
            if (!rc) rc = sg_synth_load_mem(&l, buf, len, &err);
            sg_mem_fail_after(-1);
            sg_free(buf);
            sg_synth_free(m);
            sg_synth_free(l);
            assert_int_equal(sg_mem_live_bytes(), before);
            if (total < 0) {   /* the first run counts the allocations */
                assert_int_equal(rc, SG_OK);
                total = sg_mem_count() - c0;
                k = -1;
                continue;
            }
            if (k >= total) {
                assert_int_equal(rc, SG_OK);
                break;
            }
            assert_int_equal(rc, SG_ENOMEM);
        }
        assert_true(total > 20);
        print_message("%s: %lld allocations\n", model ? "tvae" : "ctgan", (long long)total);
    }
    sg_table_free(t);
}

int main(void)
{
    sg_log_set_level(SG_LOG_NONE);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(checker_can_fail),     cmocka_unit_test(gmm_modes),
        cmocka_unit_test(mixture_round_trip),   cmocka_unit_test(discrete_levels),
        cmocka_unit_test(bn_grad),              cmocka_unit_test(activation_grad),
        cmocka_unit_test(cond_loss_grad),       cmocka_unit_test(critic_grad),
        cmocka_unit_test(gp_grad),              cmocka_unit_test(generator_grad),
        cmocka_unit_test(tvae_loss_grad),       cmocka_unit_test(tvae_weighted_loss),
        cmocka_unit_test(tvae_cond_grad),
        cmocka_unit_test(cond_focus),
        cmocka_unit_test(conditional_sampling),
        cmocka_unit_test(deterministic),        cmocka_unit_test(save_load),
        cmocka_unit_test(truncated_model),      cmocka_unit_test(report_flags_copies),
        cmocka_unit_test(bad_options),          cmocka_unit_test(alloc_failures),
        cmocka_unit_test(tvae_target_freq),     cmocka_unit_test(version_2_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

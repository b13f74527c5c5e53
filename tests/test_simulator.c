/* test_simulator.c -- the customer simulator (simulator.h).
 *
 * The module's static functions are reached the llm.c way: this file includes
 * src/models/simulator.c, so the library's copy is not linked in.  The network
 * backward is checked against central differences (objective in double, float
 * kernels, eps 1e-3, coordinates whose ReLU pattern changes skipped). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#define TESTING
#include "models/simulator.c"

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

static void set_threads(int n)
{
#ifdef _OPENMP
    omp_set_num_threads(n);
#else
    (void)n;
#endif
}

/* ---------------------------------------------------------------------------
 * network gradient */

typedef struct net_ctx {
    sg_simulator *m;
    int j;
    sg_params *p;
    train_ws w;
    float *X, *ALP;
    int32_t *arm, *LEV;
    int64_t idx[6];
    uint8_t pat[2 * 6 * 8];
} net_ctx;

static int pattern(net_ctx *k, int save)
{
    int n = 6 * k->m->H;
    for (int i = 0; i < n; i++) {
        uint8_t a = k->w.h1[i] > 0, b = k->w.h[i] > 0;
        if (save) {
            k->pat[i] = a;
            k->pat[n + i] = b;
        } else if (a != k->pat[i] || b != k->pat[n + i]) {
            return 0;
        }
    }
    return 1;
}

static double net_obj(void *ctx)
{
    net_ctx *k = ctx;
    double v = batch_loss(k->m, k->j, k->p, &k->w, k->X, k->arm, k->LEV, k->ALP, k->idx, 6, 0) / 6;
    return pattern(k, 0) ? v : (double)NAN;
}

/* simulator-1.1: the network backward (trunk, head, action table) for a discrete and a
 * continuous outcome */
static void network_grad(void **state)
{
    (void)state;
    sg_simulator m;
    memset(&m, 0, sizeof m);
    m.K = 1;
    m.H = 8;
    m.A = 2;
    m.Dx = 3;
    m.n_out = 2;
    m.yx.n_cols = 2;
    m.yx.cols = sg_calloc(2, sizeof *m.yx.cols);
    synth_col *c0 = &m.yx.cols[0], *c1 = &m.yx.cols[1];
    c0->kind = SG_FCOL_DISCRETE;
    c0->n_levels = c0->width = 2;
    c0->other = -1;
    c0->value = sg_calloc(2, sizeof *c0->value);
    c0->count = sg_calloc(2, sizeof *c0->count);
    c0->value[1] = 1;
    c1->kind = SG_FCOL_CONTINUOUS;
    c1->n_modes = c1->n_levels = 2;
    c1->width = 3;
    c1->other = -1;
    c1->mu = sg_calloc(2, sizeof *c1->mu);
    c1->sd = sg_calloc(2, sizeof *c1->sd);
    c1->wt = sg_calloc(2, sizeof *c1->wt);
    c1->count = sg_calloc(2, sizeof *c1->count);
    c1->sd[0] = c1->sd[1] = 1;
    c1->name = sg_strdup("margin");
    c0->name = sg_strdup("converted");
    assert_int_equal(synth_xf_finish(&m.yx, NULL), SG_OK);
    assert_int_equal(derive(&m, NULL), SG_OK);
    assert_int_equal(m.C[1], 2);
    assert_int_equal(m.O[1], 6);
    assert_int_equal(make_nets(&m, 1, NULL), SG_OK);
    sg_rng r;
    sg_rng_init(&r, 77);
    net_ctx k;
    memset(&k, 0, sizeof k);
    k.m = &m;
    float X[18], ALP[12];
    int32_t arm[6], LEV[12];
    for (int i = 0; i < 18; i++) X[i] = (float)(2 * sg_rng_uniform(&r) - 1);
    for (int i = 0; i < 6; i++) {
        arm[i] = (int32_t)sg_rng_below(&r, 2);
        LEV[2 * i] = (int32_t)sg_rng_below(&r, 2);
        LEV[2 * i + 1] = (int32_t)sg_rng_below(&r, 2);
        ALP[2 * i] = 0;
        ALP[2 * i + 1] = (float)(1.6 * sg_rng_uniform(&r) - 0.8);
        k.idx[i] = i;
    }
    k.X = X;
    k.ALP = ALP;
    k.arm = arm;
    k.LEV = LEV;
    float buf[7][6 * 16];
    k.w = (train_ws){buf[0], buf[1], buf[2], buf[3], buf[4], buf[5], buf[6]};
    for (int j = 0; j < 2; j++) {
        k.j = j;
        k.p = m.nets[j];
        size_t np = sg_params_count(k.p);
        float *data = sg_params_data(k.p);
        for (size_t i = 0; i < np; i++) data[i] = (float)(sg_rng_uniform(&r) - 0.5);
        batch_loss(&m, j, k.p, &k.w, X, arm, LEV, ALP, k.idx, 6, 1);
        pattern(&k, 1);
        float *g = sg_calloc(np, sizeof *g);
        memcpy(g, sg_params_grads(k.p), np * sizeof *g);
        double worst = 0;
        int skipped = 0;
        for (size_t i = 0; i < np; i++) {
            float x0 = data[i];
            data[i] = x0 + 1e-3f;
            double fp = net_obj(&k);
            data[i] = x0 - 1e-3f;
            double fm = net_obj(&k);
            data[i] = x0;
            if (isnan(fp) || isnan(fm)) {
                skipped++;
                continue;
            }
            double num = (fp - fm) / 2e-3;
            double rel = fabs(num - (double)g[i]) / fmax(fmax(fabs(num), fabs((double)g[i])), 1e-2);
            if (rel > worst) worst = rel;
        }
        if (worst > 1e-2) print_message("outcome %d: max relative error %.3g\n", j, worst);
        assert_true(worst < 1e-2);
        assert_true(skipped <= 6);
        /* the table gradient is not empty */
        assert_true(sg_grad_norm(sg_params_grad(k.p, 6), sg_params_size(k.p, 6)) > 1e-4);
        sg_free(g);
    }
    for (int i = 0; i < 2; i++) sg_params_free(m.nets[i]);
    sg_free(m.nets);
    synth_xf_deinit(&m.yx);
}

/* ---------------------------------------------------------------------------
 * end to end */

static double sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }

/* A log of n rows: x1 ~ N(0,1), x2 in {a,b,c}; arm control/treat half and half;
 * converted ~ Bernoulli(sigmoid(-1.5 + 1.2 [treat] [x1 > 0])); margin = converted
 * times 10 (control) or 5 (treat) times exp(0.2 N).  'with_outcomes' 0 writes the
 * customers only. */
static sg_table *make_log(int n, uint64_t seed, int with_outcomes)
{
    size_t cap = (size_t)n * 64 + 128;
    char *csv = sg_malloc(cap);
    size_t len = (size_t)snprintf(csv, cap, with_outcomes ? "id,x1,x2,arm,converted,margin\n"
                                                          : "id,x1,x2\n");
    sg_rng r;
    sg_rng_init(&r, seed);
    for (int i = 0; i < n; i++) {
        double x1 = sg_rng_normal(&r);
        const char *x2 = (const char *[]){"a", "b", "c"}[sg_rng_below(&r, 3)];
        int t = (int)sg_rng_below(&r, 2);
        int conv = sg_rng_uniform(&r) < sigmoid(-1.5 + 1.2 * t * (x1 > 0));
        double mg = conv * (t ? 5.0 : 10.0) * exp(0.2 * sg_rng_normal(&r));
        if (with_outcomes)
            len += (size_t)snprintf(csv + len, cap - len, "%d,%.4f,%s,%s,%d,%.4f\n", i, x1, x2,
                                    t ? "treat" : "control", conv, mg);
        else
            len += (size_t)snprintf(csv + len, cap - len, "%d,%.4f,%s\n", i, x1, x2);
    }
    sg_table *t = NULL;
    sg_load_opts o;
    sg_load_opts_default(&o);
    o.id_col = "id";
    assert_int_equal(sg_table_load_mem(&t, "log.csv", csv, len, &o, NULL), SG_OK);
    sg_free(csv);
    return t;
}

static const char *OUTS[] = {"converted", "margin", NULL};

static void sim_opts(sg_sim_opts *o)
{
    sg_sim_opts_default(o);
    o->treatment = "arm";
    o->control = "control";
    o->outcomes = OUTS;
    o->id = "id";
    o->n_models = 2;
    o->epochs = 40;
}

/* simulator-2.1: a known effect is recovered: treating everyone raises conversions
 * but lowers margin (half the money per conversion) */
static void known_effect(void **state)
{
    (void)state;
    sg_table *log = make_log(4000, 1, 1), *cust = make_log(2000, 2, 0);
    sg_sim_opts o;
    sim_opts(&o);
    sg_simulator *m = NULL;
    sg_sim_train_report rep;
    sg_error err;
    assert_int_equal(sg_simulator_train(&m, log, &o, &rep, &err), SG_OK);
    assert_int_equal(sg_simulator_n_arms(m), 2);
    assert_string_equal(sg_simulator_arm(m, 0), "control");
    assert_int_equal(sg_simulator_find_arm(m, "treat"), 1);
    assert_int_equal(rep.n_features, 4);   /* x1 and the three labels of x2 */
    /* validation: simulated means near the observed ones */
    for (int a = 0; a < 2; a++) assert_close(rep.sim_mean[a][0], rep.obs_mean[a][0], 0.06);
    /* truth for the customers */
    double inc_conv = 0, inc_margin = 0;
    const double *x1 = sg_table_num(cust, sg_table_find(cust, "x1"));
    int64_t n = sg_table_n_rows(cust);
    for (int64_t i = 0; i < n; i++) {
        double p0 = sigmoid(-1.5), p1 = sigmoid(-1.5 + 1.2 * (x1[i] > 0));
        inc_conv += p1 - p0;
        inc_margin += exp(0.02) * (5.0 * p1 - 10.0 * p0);
    }
    int32_t *arm = sg_malloc_array((size_t)n, sizeof *arm);
    for (int64_t i = 0; i < n; i++) arm[i] = 1;
    sg_sim_result res;
    assert_int_equal(sg_simulator_run(m, cust, NULL, n, arm, 40, 5, 1, &res, &err), SG_OK);
    double sc = 0, sm = 0;
    for (int d = 0; d < 40; d++) {
        sc += res.plan[d * 2] - res.control[d * 2];
        sm += res.plan[d * 2 + 1] - res.control[d * 2 + 1];
    }
    sc /= 40;
    sm /= 40;
    print_message("incremental conversions %.1f (true %.1f), margin %.1f (true %.1f)\n", sc,
                  inc_conv, sm, inc_margin);
    assert_close(sc, inc_conv, 0.35 * inc_conv);
    /* the money per conversion of each action (chain rule: margin follows converted),
     * so the plan loses money although it converts more; the loss itself is a small
     * difference of large totals, only its sign is asserted */
    double pc = 0, pm = 0, cc = 0, cm = 0;
    for (int64_t i = 0; i < n; i++) {
        pc += res.row_plan[i * 2];
        pm += res.row_plan[i * 2 + 1];
        cc += res.row_control[i * 2];
        cm += res.row_control[i * 2 + 1];
    }
    assert_close(pm / pc, 5.0 * exp(0.02), 0.5);
    assert_close(cm / cc, 10.0 * exp(0.02), 1.0);
    assert_true(sm < 0);
    sg_sim_result_deinit(&res);
    sg_free(arm);
    sg_simulator_free(m);
    sg_table_free(log);
    sg_table_free(cust);
}

/* simulator-2.2: common random numbers, determinism, thread invariance */
static void crn_determinism(void **state)
{
    (void)state;
    sg_table *log = make_log(600, 3, 1);
    sg_sim_opts o;
    sim_opts(&o);
    o.epochs = 5;
    sg_simulator *m = NULL;
    assert_int_equal(sg_simulator_train(&m, log, &o, NULL, NULL), SG_OK);
    int64_t n = sg_table_n_rows(log);
    int32_t *arm = sg_calloc((size_t)n, sizeof *arm);
    sg_sim_result a, b;
    /* everyone in control: the plan IS the control world, draw for draw */
    assert_int_equal(sg_simulator_run(m, log, NULL, n, arm, 30, 9, 0, &a, NULL), SG_OK);
    for (int d = 0; d < 60; d++) assert_close(a.plan[d], a.control[d], 0.0);
    sg_sim_result_deinit(&a);
    /* a plan on every other row; the same seed twice, then with 1 and 2 threads */
    for (int64_t i = 0; i < n; i += 2) arm[i] = 1;
    set_threads(1);
    assert_int_equal(sg_simulator_run(m, log, NULL, n, arm, 30, 9, 1, &a, NULL), SG_OK);
    set_threads(2);
    assert_int_equal(sg_simulator_run(m, log, NULL, n, arm, 30, 9, 1, &b, NULL), SG_OK);
    assert_memory_equal(a.plan, b.plan, 60 * sizeof *a.plan);
    assert_memory_equal(a.row_control, b.row_control, (size_t)n * 2 * sizeof *a.row_control);
    /* rows kept in control give identical outcomes in both worlds */
    for (int64_t i = 1; i < n; i += 2) assert_close(a.row_plan[i * 2], a.row_control[i * 2], 0.0);
    sg_sim_result_deinit(&b);
    assert_int_equal(sg_simulator_run(m, log, NULL, n, arm, 30, 10, 0, &b, NULL), SG_OK);
    assert_true(memcmp(a.plan, b.plan, 60 * sizeof *a.plan) != 0);
    /* an arm out of range */
    arm[0] = 5;
    sg_error err;
    sg_sim_result_deinit(&b);
    assert_int_equal(sg_simulator_run(m, log, NULL, n, arm, 30, 10, 0, &b, &err), SG_EINVAL);
    sg_sim_result_deinit(&a);
    sg_free(arm);
    sg_simulator_free(m);
    sg_table_free(log);
}

/* simulator-2.3: patience 0 (the default) keeps every network's last epoch; patience
 * N > 0 keeps the best one, so over the same epochs its validation loss is lower */
static void last_or_best_epoch(void **state)
{
    (void)state;
    sg_table *log = make_log(300, 6, 1);
    sg_sim_opts o;
    sim_opts(&o);
    assert_int_equal(o.patience, 0);
    o.epochs = 30;   /* on 240 training rows, with a high learning rate: overfits */
    o.hidden = 32;
    o.lr = 1e-2;
    sg_simulator *m = NULL;
    sg_sim_train_report last, best;
    assert_int_equal(sg_simulator_train(&m, log, &o, &last, NULL), SG_OK);
    for (int k = 0; k < o.n_models * 2; k++) assert_int_equal(last.epochs[k], 30);
    sg_simulator_free(m);
    o.patience = 100;   /* never runs out within 30 epochs: the same training, best kept */
    assert_int_equal(sg_simulator_train(&m, log, &o, &best, NULL), SG_OK);
    int earlier = 0;
    for (int k = 0; k < o.n_models * 2; k++) {
        assert_true(best.epochs[k] >= 1 && best.epochs[k] <= 30);
        earlier += best.epochs[k] < 30;
    }
    print_message("networks keeping an earlier epoch: %d of %d; validation loss %.4f (best) "
                  "against %.4f (last)\n", earlier, o.n_models * 2, best.valid_nll,
                  last.valid_nll);
    assert_true(earlier > 0);
    assert_true(best.valid_nll < last.valid_nll);
    sg_simulator_free(m);
    sg_table_free(log);
}

/* simulator-3.1: same seed -> same bytes; save/load round trip; truncation */
static void files(void **state)
{
    (void)state;
    sg_table *log = make_log(400, 4, 1);
    sg_sim_opts o;
    sim_opts(&o);
    o.epochs = 3;
    sg_simulator *m1 = NULL, *m2 = NULL, *l = NULL;
    assert_int_equal(sg_simulator_train(&m1, log, &o, NULL, NULL), SG_OK);
    assert_int_equal(sg_simulator_train(&m2, log, &o, NULL, NULL), SG_OK);
    unsigned char *b1, *b2, *b3;
    size_t l1, l2, l3;
    assert_int_equal(sg_simulator_save_mem(m1, &b1, &l1, NULL), SG_OK);
    assert_int_equal(sg_simulator_save_mem(m2, &b2, &l2, NULL), SG_OK);
    assert_int_equal(l1, l2);
    assert_memory_equal(b1, b2, l1);
    sg_error err;
    assert_int_equal(sg_simulator_load_mem(&l, b1, l1, &err), SG_OK);
    assert_int_equal(sg_simulator_save_mem(l, &b3, &l3, NULL), SG_OK);
    assert_int_equal(l1, l3);
    assert_memory_equal(b1, b3, l1);
    assert_string_equal(sg_simulator_treatment(l), "arm");
    assert_string_equal(sg_simulator_id_name(l), "id");
    assert_string_equal(sg_simulator_outcome(l, 1), "margin");
    size_t cuts[] = {0, 5, 20, l1 / 2, l1 - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        sg_simulator *x = NULL;
        assert_int_equal(sg_simulator_load_mem(&x, b1, cuts[i], &err), SG_EPARSE);
        assert_null(x);
        assert_true(strlen(err.msg) > 10);
    }
    sg_free(b1);
    sg_free(b2);
    sg_free(b3);
    sg_simulator_free(m1);
    sg_simulator_free(m2);
    sg_simulator_free(l);
    sg_table_free(log);
}

/* simulator-3.2: bad logs and options are refused by name */
static void bad_input(void **state)
{
    (void)state;
    sg_table *log = make_log(200, 5, 1);
    sg_sim_opts o;
    sg_simulator *m = NULL;
    sg_error err;
    sim_opts(&o);
    o.control = "nobody";
    assert_int_equal(sg_simulator_train(&m, log, &o, NULL, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "nobody"));
    sim_opts(&o);
    const char *bad[] = {"converted", "revenue", NULL};
    o.outcomes = bad;
    assert_int_equal(sg_simulator_train(&m, log, &o, NULL, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "revenue"));
    sim_opts(&o);
    o.treatment = "x2";   /* a column of three labels without the control label */
    assert_int_equal(sg_simulator_train(&m, log, &o, NULL, &err), SG_EINVAL);
    assert_null(m);
    sg_table_free(log);
}

/* simulator-3.3: every allocation failure gives SG_ENOMEM and leaks nothing */
static void alloc_failures(void **state)
{
    (void)state;
    sg_table *log = make_log(120, 6, 1);
    sg_sim_opts o;
    sim_opts(&o);
    o.n_models = 1;
    o.epochs = 2;
    o.hidden = 4;
    int64_t before = sg_mem_live_bytes(), total = -1;
    for (int64_t k = -1;; k++) {
        int64_t c0 = sg_mem_count();
        sg_mem_fail_after(k);
        sg_simulator *m = NULL, *l = NULL;
        unsigned char *buf = NULL;
        size_t len = 0;
        int32_t arm[120] = {0};
        sg_sim_result res;
        memset(&res, 0, sizeof res);
        sg_error err;
        int rc = sg_simulator_train(&m, log, &o, NULL, &err);
        if (!rc) rc = sg_simulator_run(m, log, NULL, 120, arm, 10, 1, 1, &res, &err);
        if (!rc) rc = sg_simulator_save_mem(m, &buf, &len, &err);
        if (!rc) rc = sg_simulator_load_mem(&l, buf, len, &err);
        sg_mem_fail_after(-1);
        sg_sim_result_deinit(&res);
        sg_free(buf);
        sg_simulator_free(m);
        sg_simulator_free(l);
        assert_int_equal(sg_mem_live_bytes(), before);
        if (k < 0) {
            assert_int_equal(rc, SG_OK);
            total = sg_mem_count() - c0;
            continue;
        }
        if (k >= total) {
            assert_int_equal(rc, SG_OK);
            break;
        }
        assert_int_equal(rc, SG_ENOMEM);
    }
    assert_true(total > 20);
    sg_table_free(log);
}

int main(void)
{
    sg_log_set_level(SG_LOG_NONE);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(network_grad),    cmocka_unit_test(known_effect),
        cmocka_unit_test(crn_determinism), cmocka_unit_test(files),
        cmocka_unit_test(bad_input),       cmocka_unit_test(alloc_failures),
        cmocka_unit_test(last_or_best_epoch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

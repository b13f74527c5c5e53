/* test_promo.c -- the promo task: coefficients recovered from a panel drawn
 * from a known model, predictions, held-out checks, plans against brute force,
 * budgets and limits, errors, model files and allocation failures. */
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
#include "stratagem/mem.h"
#include "stratagem/promo.h"
#include "stratagem/rng.h"
#include "stratagem/table.h"

/* ---------------------------------------------------------------------------
 * a panel from a known model: S stores, P products, W weeks */

#define S 6
#define P 3
#define W 40
static const double ELAST[P] = {-2.0, -1.5, -2.5};
static const double CROSS = 0.3;    /* every other product's log price */
static const double DEAL = 0.2, FEAT = 0.7, NOISE = 0.1;
static const double BASE_PRICE[P] = {3.0, 2.5, 4.0};
static double A[S][P], WEEK[W + 10];

static void truth_init(void)
{
    sg_rng r;
    sg_rng_init(&r, 7);
    for (int s = 0; s < S; s++)
        for (int p = 0; p < P; p++) A[s][p] = 6 + 0.5 * sg_rng_normal(&r);
    for (int w = 0; w < W + 10; w++) WEEK[w] = 0.1 * sg_rng_normal(&r);
}

/* log units of product p in store s, week w, log prices lp[P] */
static double truth(int s, int p, int w, const double *lp, double deal, double feat)
{
    double v = A[s][p] + WEEK[w] + ELAST[p] * lp[p] + DEAL * deal + FEAT * feat;
    for (int q = 0; q < P; q++)
        if (q != p) v += CROSS * lp[q];
    return v;
}

/* CSV text of weeks [w0, w1): store,product,week,units,price,deal,feat,cost */
static char *panel_csv(int w0, int w1, uint64_t seed)
{
    sg_rng r;
    sg_rng_init(&r, seed);
    size_t cap = 64 + (size_t)S * P * (w1 - w0) * 96;
    char *buf = malloc(cap);
    size_t n = (size_t)snprintf(buf, cap, "store,product,week,units,price,deal,feat,cost\n");
    for (int w = w0; w < w1; w++)
        for (int s = 0; s < S; s++) {
            double lp[P], deal[P], feat[P];
            for (int p = 0; p < P; p++) {
                deal[p] = sg_rng_uniform(&r) < 0.3;
                feat[p] = sg_rng_uniform(&r) < 0.2;
                lp[p] = log(BASE_PRICE[p]) + 0.15 * sg_rng_normal(&r) - 0.1 * deal[p];
            }
            for (int p = 0; p < P; p++) {
                double y = truth(s, p, w, lp, deal[p], feat[p]) + NOISE * sg_rng_normal(&r);
                n += (size_t)snprintf(buf + n, cap - n, "s%d,%d,%d,%.6g,%.6g,%g,%g,%.6g\n", s,
                                      p + 1, 100 + w, exp(y), exp(lp[p]), deal[p], feat[p],
                                      0.6 * BASE_PRICE[p]);
            }
        }
    return buf;
}

static sg_table *load_text(const char *csv, const char *name)
{
    sg_load_opts o;
    sg_load_opts_default(&o);
    static const char *const cats[] = {"store", "product", NULL};
    o.categorical = cats;
    sg_table *t = NULL;
    sg_error err;
    int rc = sg_table_load_mem(&t, name, csv, strlen(csv), &o, &err);
    if (rc) printf("load: %s\n", err.msg);
    assert_int_equal(rc, SG_OK);
    return t;
}

static void opts_for(sg_promo_opts *o)
{
    sg_promo_opts_default(o);
    o->store = "store";
    o->product = "product";
    o->week = "week";
    o->units = "units";
    o->price = "price";
    o->deal = "deal";
    o->feature = "feat";
    o->cost = "cost";
    o->n_draws = 100;
}

static sg_promo *train_default(void)
{
    char *csv = panel_csv(0, W, 11);
    sg_table *t = load_text(csv, "panel.csv");
    sg_promo_opts o;
    opts_for(&o);
    sg_promo *m = NULL;
    sg_error err;
    int rc = sg_promo_train(&m, t, &o, NULL, &err);
    if (rc) printf("train: %s\n", err.msg);
    assert_int_equal(rc, SG_OK);
    sg_table_free(t);
    free(csv);
    return m;
}

static int setup(void **state)
{
    (void)state;
    truth_init();
    return 0;
}

/* ---------------------------------------------------------------------------
 * fitting */

static void recovers_coefficients(void **state)
{
    (void)state;
    char *csv = panel_csv(0, W, 11);
    sg_table *t = load_text(csv, "panel.csv");
    sg_promo_opts o;
    opts_for(&o);
    sg_promo *m = NULL;
    sg_promo_report rep;
    sg_error err;
    assert_int_equal(sg_promo_train(&m, t, &o, &rep, &err), SG_OK);
    assert_int_equal(rep.n_rows, S * P * W);
    assert_int_equal(rep.n_stores, S);
    assert_int_equal(rep.n_products, P);
    assert_int_equal(rep.n_weeks, W);
    assert_true(rep.valid_rmse < rep.valid_rmse_flat);
    assert_true(rep.rmse > 0.5 * NOISE && rep.rmse < 2 * NOISE);
    /* products sort as numbers: "1", "2", "3" */
    for (int p = 0; p < P; p++) {
        char lab[16];
        snprintf(lab, sizeof lab, "%d", p + 1);
        assert_string_equal(sg_promo_product_label(m, p), lab);
        assert_int_equal(sg_promo_product_index(m, lab), p);
        sg_promo_coef c;
        sg_promo_coef_get(m, p, &c);
        assert_true(fabs(c.elasticity - ELAST[p]) < 0.1);
        assert_true(fabs(c.deal - DEAL) < 0.05);
        assert_true(fabs(c.feature - FEAT) < 0.05);
        /* week-clustered standard errors: positive, and the truth within 4 of them */
        assert_true(c.elasticity_se > 0 && c.elasticity_se < 0.1);
        assert_true(fabs(c.elasticity - ELAST[p]) < 4 * c.elasticity_se + 1e-3);
        assert_true(fabs(c.sigma - NOISE) < 0.03);
        for (int q = 0; q < P; q++)
            if (q != p) assert_true(fabs(sg_promo_cross(m, p, q) - CROSS) < 0.1);
        assert_true(isnan(sg_promo_cross(m, p, p)));
        for (int s = 0; s < S; s++)
            assert_true(fabs(sg_promo_store_elasticity(m, s, p) - ELAST[p]) < 0.2);
    }
    assert_int_equal(sg_promo_store_index(m, "s3"), 3);
    assert_int_equal(sg_promo_store_index(m, "nope"), -1);
    assert_string_equal(sg_promo_role(m, "price"), "price");
    assert_null(sg_promo_role(m, "log_units"));
    sg_promo_free(m);
    /* without cross terms the cross elasticities are NaN */
    o.cross = 0;
    assert_int_equal(sg_promo_train(&m, t, &o, NULL, &err), SG_OK);
    assert_true(isnan(sg_promo_cross(m, 0, 1)));
    sg_promo_free(m);
    sg_table_free(t);
    free(csv);
}

/* A store that opens during the validation weeks is predicted there as a new
 * store (the mean store effect), not with an empty effect of zero. */
static void store_opening_late(void **state)
{
    (void)state;
    char *csv = panel_csv(0, W, 11);
    /* drop store s5's rows before week 100 + W - 6 */
    char *out = malloc(strlen(csv) + 1), *o = out;
    for (char *line = csv; *line;) {
        char *end = strchr(line, '\n');
        size_t len = (size_t)(end - line) + 1;
        int week = 0;
        if (!strncmp(line, "s5,", 3)) sscanf(strchr(line + 3, ',') + 1, "%d", &week);
        if (strncmp(line, "s5,", 3) || week >= 100 + W - 6) {
            memcpy(o, line, len);
            o += len;
        }
        line = end + 1;
    }
    *o = '\0';
    sg_table *t = load_text(out, "late.csv");
    sg_promo_opts opt;
    opts_for(&opt);
    sg_promo *m = NULL;
    sg_promo_report rep;
    sg_error err;
    assert_int_equal(sg_promo_train(&m, t, &opt, &rep, &err), SG_OK);
    assert_true(rep.valid_rmse < 0.5);
    assert_true(rep.valid_rmse < rep.valid_rmse_flat);
    sg_promo_free(m);
    sg_table_free(t);
    free(out);
    free(csv);
}

static void deterministic(void **state)
{
    (void)state;
    sg_promo *a = train_default(), *b = train_default();
    assert_int_equal(sg_promo_save(a, "/tmp/sg_promo_a.sgm", NULL), SG_OK);
    assert_int_equal(sg_promo_save(b, "/tmp/sg_promo_b.sgm", NULL), SG_OK);
    FILE *fa = fopen("/tmp/sg_promo_a.sgm", "rb"), *fb = fopen("/tmp/sg_promo_b.sgm", "rb");
    int ca, cb, same = 1;
    do {
        ca = fgetc(fa);
        cb = fgetc(fb);
        same &= ca == cb;
    } while (ca != EOF && cb != EOF);
    fclose(fa);
    fclose(fb);
    assert_true(same);
    remove("/tmp/sg_promo_a.sgm");
    remove("/tmp/sg_promo_b.sgm");
    sg_promo_free(a);
    sg_promo_free(b);
}

/* ---------------------------------------------------------------------------
 * predictions and the held-out check */

static void predicts_and_evaluates(void **state)
{
    (void)state;
    sg_promo *m = train_default();
    /* ten later weeks from the same model */
    char *csv = panel_csv(W, W + 10, 12);
    sg_table *t = load_text(csv, "later.csv");
    int64_t n = sg_table_n_rows(t), unseen = -1;
    double *u = malloc((size_t)n * sizeof *u);
    sg_error err;
    assert_int_equal(sg_promo_predict(m, t, u, &unseen, &err), SG_OK);
    assert_int_equal(unseen, 0);
    const double *units = sg_table_num(t, sg_table_find(t, "units"));
    double sl = 0;
    for (int64_t i = 0; i < n; i++) sl += log(units[i] / u[i]);
    /* unbiased up to the weeks' own shocks (sd 0.1 over 10 weeks) */
    assert_true(fabs(sl / n) < 0.12);
    sg_promo_eval ev;
    assert_int_equal(sg_promo_evaluate(m, t, 5, &ev, &err), SG_OK);
    assert_int_equal(ev.n_rows, n);
    assert_int_equal(ev.n_weeks, 10);
    assert_true(ev.rmse_log > 0.05 && ev.rmse_log < 0.3);
    assert_true(fabs(ev.ratio_units - 1) < 0.15);
    assert_true(!isnan(ev.ratio_profit));
    assert_true(ev.covered_units >= 6);
    for (int w = 0; w < ev.n_weeks; w++) {
        const sg_promo_week_check *c = &ev.weeks[w];
        assert_int_equal(c->n_rows, S * P);
        assert_true(c->units_lo < c->units_hat && c->units_hat < c->units_hi);
        assert_true(c->profit_lo < c->profit_hi);
    }
    sg_promo_eval_deinit(&ev);
    /* a training week uses its own effect: its rows are predicted closely */
    char *csv2 = panel_csv(0, 1, 11);
    sg_table *t2 = load_text(csv2, "first.csv");
    assert_int_equal(sg_promo_evaluate(m, t2, 5, &ev, &err), SG_OK);
    assert_true(ev.rmse_log < 0.2);
    sg_promo_eval_deinit(&ev);
    sg_table_free(t2);
    free(csv2);
    /* an unknown product is an error naming the line; an unknown store is predicted */
    const char *bad = "store,product,week,units,price,deal,feat\ns1,9,150,10,3,0,0\n";
    sg_table *t3 = load_text(bad, "bad.csv");
    assert_int_equal(sg_promo_predict(m, t3, u, NULL, &err), SG_EPARSE);
    assert_non_null(strstr(err.msg, "bad.csv:2"));
    assert_non_null(strstr(err.msg, "a product the model was trained on"));
    sg_table_free(t3);
    const char *newstore = "store,product,week,units,price,deal,feat\nzz,1,150,10,3,0,0\n";
    t3 = load_text(newstore, "new.csv");
    assert_int_equal(sg_promo_predict(m, t3, u, &unseen, &err), SG_OK);
    assert_int_equal(unseen, 1);
    assert_true(u[0] > 0 && isfinite(u[0]));
    sg_table_free(t3);
    free(u);
    sg_table_free(t);
    free(csv);
    sg_promo_free(m);
}

/* ---------------------------------------------------------------------------
 * plans */

/* Expected units of one store's items through sg_promo_predict (a future
 * week): the independent path the planner must agree with. */
static void predict_store(const sg_promo *m, int s, const int *prod, const double *price,
                          const int *deal, const int *feat, int n, double *units)
{
    char csv[1024];
    size_t k = (size_t)snprintf(csv, sizeof csv, "store,product,week,price,deal,feat\n");
    for (int i = 0; i < n; i++)
        k += (size_t)snprintf(csv + k, sizeof csv - k, "%s,%s,999,%.17g,%d,%d\n",
                              sg_promo_store_label(m, s), sg_promo_product_label(m, prod[i]),
                              price[i], deal[i], feat[i]);
    sg_table *t = load_text(csv, "store.csv");
    sg_error err;
    assert_int_equal(sg_promo_predict(m, t, units, NULL, &err), SG_OK);
    sg_table_free(t);
}

/* The best profit over every combination of the options of n (<= 3) items of
 * store s: 3 price changes x deal x feature each (12), at most max_promos
 * promoted (0: no limit); through predict_store. */
static double brute_best(const sg_promo *m, int s, const sg_promo_item *items, int n,
                         const double *changes, double deal_cost, double feat_cost,
                         int max_promos)
{
    int prod[3], total = 1;
    for (int i = 0; i < n; i++) {
        prod[i] = items[i].product;
        total *= 12;
    }
    double best = -INFINITY;
    for (int x = 0; x < total; x++) {
        int dl[3], ft[3], n_promo = 0, rest = x;
        double pr[3], u[3], v = 0;
        for (int i = 0; i < n; i++, rest /= 12) {
            int opt = rest % 12;
            pr[i] = items[i].price * (1 + changes[opt % 3]);
            dl[i] = (opt / 3) % 2;
            ft[i] = opt / 6;
            n_promo += dl[i] || ft[i] || changes[opt % 3] < 0;
        }
        if (max_promos > 0 && n_promo > max_promos) continue;
        predict_store(m, s, prod, pr, dl, ft, n, u);
        for (int i = 0; i < n; i++)
            v += u[i] * (pr[i] - items[i].cost) - dl[i] * deal_cost - ft[i] * feat_cost;
        if (v > best) best = v;
    }
    return best;
}

static void plan_matches_brute_force(void **state)
{
    (void)state;
    sg_promo *m = train_default();
    const double changes[] = {-0.1, 0.0, 0.1};
    const double deal_cost = 30, feat_cost = 200;
    sg_promo_plan_opts o;
    sg_promo_plan_opts_default(&o);
    o.changes = changes;
    o.n_changes = 3;
    o.deal_cost = deal_cost;
    o.feature_cost = feat_cost;
    o.n_draws = 40;
    /* store 2, products 1 and 3 (index 0 and 2); product 2 absent: its mean price */
    sg_promo_item items[2] = {{2, 0, 3.0, 1.8}, {2, 2, 4.0, 2.4}};
    sg_promo_choice ch[2];
    sg_promo_forecast fc;
    sg_error err;
    assert_int_equal(sg_promo_plan(m, items, 2, &o, ch, &fc, &err), SG_OK);
    int prod[2] = {0, 2};
    double best = brute_best(m, 2, items, 2, changes, deal_cost, feat_cost, 0);
    /* the plan's own numbers agree with the independent prediction */
    double pr[2] = {ch[0].price, ch[1].price}, u[2];
    int dl[2] = {ch[0].deal, ch[1].deal}, ft[2] = {ch[0].feature, ch[1].feature};
    predict_store(m, 2, prod, pr, dl, ft, 2, u);
    double v = 0;
    for (int i = 0; i < 2; i++) {
        assert_true(fabs(u[i] - ch[i].units) < 1e-6 * u[i]);
        double pi = u[i] * (pr[i] - items[i].cost) - dl[i] * deal_cost - ft[i] * feat_cost;
        assert_true(fabs(pi - ch[i].profit) < 1e-6 * fabs(pi) + 1e-9);
        v += pi;
    }
    assert_true(v >= best - 1e-6 * fabs(best));
    /* the baseline is the regular price without promotion */
    double rp[2] = {3.0, 4.0}, u0[2];
    int z[2] = {0, 0};
    predict_store(m, 2, prod, rp, z, z, 2, u0);
    for (int i = 0; i < 2; i++) {
        assert_true(fabs(u0[i] - ch[i].base_units) < 1e-6 * u0[i]);
        assert_true(fabs(ch[i].base_profit - u0[i] * (rp[i] - items[i].cost)) < 1e-6 * u0[i]);
    }
    /* the forecast */
    assert_int_equal(fc.n_draws, 40);
    assert_true(fc.lift_lo <= fc.lift && fc.lift <= fc.lift_hi);
    assert_true(fabs(fc.lift - (fc.lift_naive - fc.optimism)) < 1e-6 * fabs(fc.lift) + 1e-6);
    assert_true(fc.plan.profit_lo <= fc.plan.profit && fc.plan.profit <= fc.plan.profit_hi);
    sg_promo_free(m);
}

/* With one promotion allowed per store, three items, in every store: the plan
 * must find the best of all 12^3 combinations (the item visited first is not
 * always the one that should get the slot). */
static void plan_limit_brute_force(void **state)
{
    (void)state;
    sg_promo *m = train_default();
    const double changes[] = {-0.1, 0.0, 0.1};
    const double deal_cost = 30, feat_cost = 150;
    sg_promo_plan_opts o;
    sg_promo_plan_opts_default(&o);
    o.changes = changes;
    o.n_changes = 3;
    o.deal_cost = deal_cost;
    o.feature_cost = feat_cost;
    o.max_promos = 1;
    o.n_draws = 10;
    for (int s = 0; s < S; s++) {
        sg_promo_item items[3] = {{s, 0, 3.0, 1.8}, {s, 1, 2.5, 1.5}, {s, 2, 4.0, 2.4}};
        sg_promo_choice ch[3];
        sg_promo_forecast fc;
        sg_error err;
        assert_int_equal(sg_promo_plan(m, items, 3, &o, ch, &fc, &err), SG_OK);
        double plan_v = 0;
        for (int i = 0; i < 3; i++) plan_v += ch[i].profit;
        double best = brute_best(m, s, items, 3, changes, deal_cost, feat_cost, 1);
        int n_promo = 0;
        for (int i = 0; i < 3; i++) n_promo += ch[i].deal || ch[i].feature || ch[i].change < 0;
        assert_true(n_promo <= 1);
        if (plan_v < best - 1e-6 * fabs(best)) printf("store %d: plan %g, best %g\n", s, plan_v, best);
        assert_true(plan_v >= best - 1e-6 * fabs(best));
    }
    sg_promo_free(m);
}

static void plan_budget_and_limits(void **state)
{
    (void)state;
    sg_promo *m = train_default();
    sg_promo_item items[S * P];
    for (int s = 0; s < S; s++)
        for (int p = 0; p < P; p++)
            items[s * P + p] = (sg_promo_item){s, p, BASE_PRICE[p], 0.6 * BASE_PRICE[p]};
    int n = S * P;
    sg_promo_choice ch[S * P];
    sg_promo_forecast fc, fc_free;
    sg_promo_plan_opts o;
    sg_promo_plan_opts_default(&o);
    o.deal_cost = 20;
    o.feature_cost = 50;
    o.n_draws = 20;
    sg_error err;
    assert_int_equal(sg_promo_plan(m, items, n, &o, ch, &fc_free, &err), SG_OK);
    assert_true(fc_free.plan.spend > 0);
    assert_true(fc_free.n_promoted > 0);
    /* half that spend as the budget: kept, and less profit */
    o.budget = 0.5 * fc_free.plan.spend;
    assert_int_equal(sg_promo_plan(m, items, n, &o, ch, &fc, &err), SG_OK);
    double spend = 0;
    for (int i = 0; i < n; i++) spend += ch[i].spend;
    assert_true(spend <= o.budget + 1e-9);
    assert_true(fabs(spend - fc.plan.spend) < 1e-6 * spend + 1e-9);
    assert_true(fc.lambda > 0);
    assert_true(fc.lift_naive <= fc_free.lift_naive + 1e-9);
    assert_true(spend > 0.5 * o.budget);   /* the budget is used, not left idle */
    /* a zero budget: nothing that costs */
    o.budget = 0;
    assert_int_equal(sg_promo_plan(m, items, n, &o, ch, &fc, &err), SG_OK);
    for (int i = 0; i < n; i++) {
        assert_int_equal(ch[i].deal, 0);
        assert_int_equal(ch[i].feature, 0);
        assert_true(ch[i].change >= 0);
        assert_true(ch[i].spend == 0);
    }
    /* at most one promotion per store */
    o.budget = -1;
    o.max_promos = 1;
    assert_int_equal(sg_promo_plan(m, items, n, &o, ch, &fc, &err), SG_OK);
    for (int s = 0; s < S; s++) {
        int k = 0;
        for (int p = 0; p < P; p++) {
            const sg_promo_choice *c = &ch[s * P + p];
            k += c->deal || c->feature || c->change < 0;
        }
        assert_true(k <= 1);
    }
    /* a price far outside what the stores charged is not offered, unless asked */
    const double far[] = {-0.6};
    o.max_promos = 0;
    o.changes = far;
    o.n_changes = 1;
    o.deal_cost = o.feature_cost = -1;
    assert_int_equal(sg_promo_plan(m, items, n, &o, ch, &fc, &err), SG_OK);
    assert_int_equal(fc.n_out_of_range, n);
    for (int i = 0; i < n; i++) assert_true(ch[i].change == 0);
    o.extrapolate = 1;
    assert_int_equal(sg_promo_plan(m, items, n, &o, ch, &fc, &err), SG_OK);
    assert_int_equal(fc.n_out_of_range, 0);
    sg_promo_free(m);
}

static void plan_errors(void **state)
{
    (void)state;
    sg_promo *m = train_default();
    sg_promo_plan_opts o;
    sg_promo_plan_opts_default(&o);
    sg_promo_choice ch[2];
    sg_promo_forecast fc;
    sg_error err;
    sg_promo_item twice[2] = {{1, 1, 2.5, 1}, {1, 1, 2.6, 1}};
    assert_int_equal(sg_promo_plan(m, twice, 2, &o, ch, &fc, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "given twice"));
    sg_promo_item bad_price[1] = {{1, 1, 0, 1}};
    assert_int_equal(sg_promo_plan(m, bad_price, 1, &o, ch, &fc, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "price must be > 0"));
    sg_promo_item unknown[1] = {{S, 0, 2, 1}};
    assert_int_equal(sg_promo_plan(m, unknown, 1, &o, ch, &fc, &err), SG_EINVAL);
    sg_promo_item ok[1] = {{1, 1, 2.5, 1}};
    const double bad_change[] = {-1.0};
    o.changes = bad_change;
    o.n_changes = 1;
    assert_int_equal(sg_promo_plan(m, ok, 1, &o, ch, &fc, &err), SG_EINVAL);
    sg_promo_plan_opts_default(&o);
    o.budget = INFINITY;
    assert_int_equal(sg_promo_plan(m, ok, 1, &o, ch, &fc, &err), SG_EINVAL);
    assert_int_equal(sg_promo_plan(m, ok, 0, &o, ch, &fc, &err), SG_EINVAL);
    sg_promo_free(m);
}

/* ---------------------------------------------------------------------------
 * bad input */

static int train_text(const char *csv, const char *units, sg_error *err)
{
    sg_table *t = load_text(csv, "bad.csv");
    sg_promo_opts o;
    opts_for(&o);
    o.units = units;
    o.valid_weeks = 1;
    sg_promo *m = NULL;
    int rc = sg_promo_train(&m, t, &o, NULL, err);
    if (rc) assert_null(m);
    sg_promo_free(m);
    sg_table_free(t);
    return rc;
}

static void bad_input(void **state)
{
    (void)state;
    sg_error err;
    const char *hdr = "store,product,week,units,price,deal,feat,cost\n";
    char csv[512];
    snprintf(csv, sizeof csv, "%sa,1,1,10,2,0,0,1\nb,1,1,10,-2,0,0,1\n", hdr);
    assert_int_equal(train_text(csv, "units", &err), SG_EPARSE);
    assert_string_equal(err.msg, "bad.csv:3: column 'price': expected a price > 0, got \"-2\"");
    snprintf(csv, sizeof csv, "%sa,1,1,10,2,2,0,1\n", hdr);
    assert_int_equal(train_text(csv, "units", &err), SG_EPARSE);
    assert_non_null(strstr(err.msg, "column 'deal': expected a deal flag 0 or 1, got \"2\""));
    snprintf(csv, sizeof csv, "%sa,1,1,10,2,0,1.5,1\n", hdr);
    assert_int_equal(train_text(csv, "units", &err), SG_EPARSE);
    assert_non_null(strstr(err.msg, "feature share in [0, 1]"));
    snprintf(csv, sizeof csv, "%sa,1,1,0,2,0,0,1\n", hdr);
    assert_int_equal(train_text(csv, "units", &err), SG_EPARSE);
    assert_non_null(strstr(err.msg, "column 'units': expected units sold > 0"));
    snprintf(csv, sizeof csv, "%sa,1,1,10,2,0,0,1\na,1,1,11,2,0,0,1\n", hdr);
    assert_int_equal(train_text(csv, "units", &err), SG_EPARSE);
    assert_string_equal(err.msg, "bad.csv:3: store 'a', product '1', week 1 appears twice");
    snprintf(csv, sizeof csv, "%sa,1,1,10,2,0,0,1\nb,1,1,10,2,0,0,1\n", hdr);
    assert_int_equal(train_text(csv, "units", &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "weeks"));
    snprintf(csv, sizeof csv, "%sa,1,1,10,2,0,0,1\n", hdr);
    assert_int_equal(train_text(csv, "sales", &err), SG_ENOTFOUND);
    assert_string_equal(err.msg, "bad.csv: no column 'sales' (the units)");
    snprintf(csv, sizeof csv, "%sa,1,x,10,2,0,0,1\n", hdr);
    assert_int_equal(train_text(csv, "units", &err), SG_EPARSE);
    assert_non_null(strstr(err.msg, "column 'week' (the week) must be numbers"));
    /* a product with too few rows */
    char *big = panel_csv(0, 10, 3);
    size_t L = strlen(big);
    big = realloc(big, L + 64);
    strcat(big, "s0,7,100,10,2,0,0,1\n");
    assert_int_equal(train_text(big, "units", &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "product '7' has 1 rows"));
    free(big);
    /* options */
    sg_promo_opts o;
    opts_for(&o);
    o.log_units = "units";
    sg_promo *m = NULL;
    sg_table *t = load_text("store,product,week,units,price\na,1,1,1,1\n", "x.csv");
    assert_int_equal(sg_promo_train(&m, t, &o, NULL, &err), SG_EINVAL);
    opts_for(&o);
    o.n_draws = 0;
    assert_int_equal(sg_promo_train(&m, t, &o, NULL, &err), SG_EINVAL);
    sg_table_free(t);
}

/* ---------------------------------------------------------------------------
 * files */

static void save_load(void **state)
{
    (void)state;
    sg_promo *m = train_default();
    const char *path = "/tmp/sg_test_promo.sgm";
    sg_error err;
    assert_int_equal(sg_promo_save(m, path, &err), SG_OK);
    sg_promo *m2 = NULL;
    assert_int_equal(sg_promo_load(&m2, path, &err), SG_OK);
    char *csv = panel_csv(W, W + 2, 12);
    sg_table *t = load_text(csv, "later.csv");
    int64_t n = sg_table_n_rows(t);
    double *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b);
    assert_int_equal(sg_promo_predict(m, t, a, NULL, &err), SG_OK);
    assert_int_equal(sg_promo_predict(m2, t, b, NULL, &err), SG_OK);
    for (int64_t i = 0; i < n; i++) assert_true(a[i] == b[i]);
    sg_promo_item items[2] = {{0, 0, 3, 1.8}, {0, 1, 2.5, 1.5}};
    sg_promo_choice c1[2], c2[2];
    sg_promo_forecast f1, f2;
    sg_promo_plan_opts o;
    sg_promo_plan_opts_default(&o);
    o.n_draws = 10;
    assert_int_equal(sg_promo_plan(m, items, 2, &o, c1, &f1, &err), SG_OK);
    assert_int_equal(sg_promo_plan(m2, items, 2, &o, c2, &f2, &err), SG_OK);
    assert_true(f1.lift == f2.lift && f1.lift_lo == f2.lift_lo && c1[1].price == c2[1].price);
    /* a truncated file is refused, and so is a model of another task */
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)len);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    f = fopen(path, "wb");
    fwrite(buf, 1, (size_t)len / 2, f);
    fclose(f);
    sg_promo *m3 = NULL;
    assert_int_not_equal(sg_promo_load(&m3, path, &err), SG_OK);
    assert_null(m3);
    free(buf);
    remove(path);
    free(a);
    free(b);
    free(csv);
    sg_table_free(t);
    sg_promo_free(m);
    sg_promo_free(m2);
}

static void alloc_failures(void **state)
{
    (void)state;
    char *csv = panel_csv(0, 16, 4);
    sg_table *t = load_text(csv, "panel.csv");
    sg_promo_opts o;
    opts_for(&o);
    o.valid_weeks = 4;
    o.n_draws = 5;
    int64_t live = sg_mem_live_bytes();
    int done = 0;
    for (int64_t k = 0; k < 2000 && !done; k++) {
        sg_promo *m = NULL;
        sg_mem_fail_after(k);
        int rc = sg_promo_train(&m, t, &o, NULL, NULL);
        sg_mem_fail_after(-1);
        if (rc == SG_OK) {
            done = 1;
            sg_promo_item items[3] = {{0, 0, 3, 1.8}, {0, 1, 2.5, 1.5}, {1, 2, 4, 2}};
            sg_promo_choice ch[3];
            sg_promo_forecast fc;
            sg_promo_plan_opts po;
            sg_promo_plan_opts_default(&po);
            po.budget = 10;
            po.deal_cost = 1;
            for (int64_t j = 0; j < 500; j++) {
                sg_mem_fail_after(j);
                rc = sg_promo_plan(m, items, 3, &po, ch, &fc, NULL);
                sg_mem_fail_after(-1);
                if (rc == SG_OK) break;
                assert_int_equal(rc, SG_ENOMEM);
            }
            assert_int_equal(rc, SG_OK);
            for (int64_t j = 0; j < 500; j++) {
                sg_promo_eval ev;
                sg_mem_fail_after(j);
                rc = sg_promo_evaluate(m, t, 1, &ev, NULL);
                sg_mem_fail_after(-1);
                if (rc == SG_OK) {
                    sg_promo_eval_deinit(&ev);
                    break;
                }
                assert_int_equal(rc, SG_ENOMEM);
            }
            assert_int_equal(rc, SG_OK);
            sg_promo_free(m);
        } else {
            assert_int_equal(rc, SG_ENOMEM);
            assert_null(m);
        }
        assert_int_equal(sg_mem_live_bytes(), live);
    }
    assert_true(done);
    sg_table_free(t);
    free(csv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(recovers_coefficients),  cmocka_unit_test(store_opening_late),
        cmocka_unit_test(deterministic),
        cmocka_unit_test(predicts_and_evaluates), cmocka_unit_test(plan_matches_brute_force),
        cmocka_unit_test(plan_limit_brute_force), cmocka_unit_test(plan_budget_and_limits),
        cmocka_unit_test(plan_errors),
        cmocka_unit_test(bad_input),              cmocka_unit_test(save_load),
        cmocka_unit_test(alloc_failures),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}

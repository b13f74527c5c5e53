/* test_budget.c -- the budget task (media mix): curves recovered from a world
 * with known truth, plans against brute force and against the truth's best,
 * the forecast's honesty, held-out checks, errors naming file/line/column/value,
 * model files and allocation failures. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stratagem/budget.h"
#include "stratagem/error.h"
#include "stratagem/mem.h"
#include "stratagem/rng.h"
#include "stratagem/table.h"
#include "../src/models/budget_private.h"

static const char *CHANNELS[] = {"tv", "search", "social", "display"};

/* A seasonal baseline (period 52) with a price control that moves sales. */
static void baseline(int n, uint64_t seed, double *b, double *price)
{
    sg_rng r;
    sg_rng_init(&r, seed);
    for (int t = 0; t < n; t++) {
        price[t] = 2.0 + 0.2 * sg_rng_normal(&r);
        b[t] = 10000.0 * (1.0 + 0.15 * sin(2 * M_PI * t / 52.0)) - 3000.0 * (price[t] - 2.0) +
               150.0 * sg_rng_normal(&r);
    }
}

/* The world's series as CSV rows [t0, t1): week,price,tv,search,social,display,sales */
static char *world_csv(const double *price, const double *x, const double *y, int n, int t0,
                       int t1)
{
    size_t cap = 128 + (size_t)(t1 - t0) * 160;
    char *buf = malloc(cap);
    size_t k = (size_t)snprintf(buf, cap, "week,price,tv,search,social,display,sales\n");
    for (int t = t0; t < t1; t++)
        k += (size_t)snprintf(buf + k, cap - k, "%d,%.6f,%.4f,%.4f,%.4f,%.4f,%.4f\n", t + 1,
                              price[t], x[t], x[n + t], x[2 * n + t], x[3 * n + t], y[t]);
    return buf;
}

static sg_table *load_text(const char *csv, const char *name)
{
    sg_load_opts o;
    sg_load_opts_default(&o);
    sg_table *t = NULL;
    sg_error err;
    int rc = sg_table_load_mem(&t, name, csv, strlen(csv), &o, &err);
    if (rc) printf("load: %s\n", err.msg);
    assert_int_equal(rc, SG_OK);
    return t;
}

static const char *PRICE[] = {"price"};

static void opts_for(sg_budget_opts *o)
{
    sg_budget_opts_default(o);
    o->period = "week";
    o->outcome = "sales";
    o->channels = CHANNELS;
    o->n_channels = 4;
    o->controls = PRICE;
    o->n_controls = 1;
    o->season = 52;
}

#define N 156
static double B[N], PR[N], X[4 * N], Y[N], Q[N];
static sg_budget_truth TRUTH;

static int setup(void **state)
{
    (void)state;
    baseline(N, 3, B, PR);
    sg_error err;
    int rc = sg_budget_world(B, N, 10000.0, 5, X, Y, Q, &TRUTH, &err);
    return rc;
}

static sg_budget *train_world(int t1, int draws)
{
    char *csv = world_csv(PR, X, Y, N, 0, t1);
    sg_table *t = load_text(csv, "world.csv");
    sg_budget_opts o;
    opts_for(&o);
    o.n_draws = draws;
    sg_budget *m = NULL;
    sg_budget_report rep;
    sg_error err;
    int rc = sg_budget_train(&m, t, &o, &rep, &err);
    if (rc) printf("train: %s\n", err.msg);
    assert_int_equal(rc, SG_OK);
    assert_true(rep.cv_rmse < rep.cv_rmse_base);   /* the channels explain something */
    assert_true(rep.r2 > 0.8);
    sg_table_free(t);
    free(csv);
    return m;
}

/* The draws' mean effect of a split: what the plan maximises. */
static double mean_effect(const sg_budget *m, const double *x)
{
    double s = 0;
    for (int d = 1; d <= sg_budget_n_draws(m); d++) s += sg_budget_effect(m, d, 13, x);
    return s / sg_budget_n_draws(m);
}

/* The fit against the truth: tv (in flights, so identified) within 25% of its
 * true contribution; every channel's point inside its interval. */
static void recovers_contributions(void **state)
{
    (void)state;
    sg_budget *m = train_world(N, 40);
    assert_int_equal(sg_budget_n_channels(m), 4);
    assert_int_equal(sg_budget_channel_index(m, "social"), 2);
    assert_int_equal(sg_budget_channel_index(m, "radio"), -1);
    for (int c = 0; c < 4; c++) {
        sg_budget_channel ch;
        sg_budget_channel_get(m, c, &ch);
        double xbar = 0, a, s = 0;
        for (int t = 0; t < N; t++) xbar += X[c * N + t] / N;
        a = xbar / (1 - TRUTH.lambda[c]);
        for (int t = 0; t < N; t++) {
            a = X[c * N + t] + TRUTH.lambda[c] * a;
            s += TRUTH.beta[c] * sg_budget_hill(a, TRUTH.alpha[c], TRUTH.k[c]);
        }
        printf("  %-7s contribution %9.0f [%9.0f, %9.0f] truth %9.0f\n", CHANNELS[c],
               ch.contribution, ch.contribution_lo, ch.contribution_hi, s);
        assert_true(ch.spend_week_min <= ch.spend_week && ch.spend_week <= ch.spend_week_max);
        assert_true(ch.roi >= 0 && ch.mroi >= 0);
        if (c == 0) assert_true(fabs(ch.contribution - s) < 0.25 * s);
    }
    sg_budget_free(m);
}

/* The knapsack against brute force on random S-shaped values with bounds. */
static void knapsack_exact(void **state)
{
    (void)state;
    sg_rng r;
    sg_rng_init(&r, 11);
    enum { C = 3, STEPS = 12 };
    for (int rep = 0; rep < 200; rep++) {
        double val[C * (STEPS + 1)];
        int glo[C], ghi[C], g[C];
        for (int c = 0; c < C; c++) {
            double k = 1 + 8 * sg_rng_uniform(&r), b = sg_rng_uniform(&r);
            for (int u = 0; u <= STEPS; u++) val[c * (STEPS + 1) + u] = b * u * u / (u * u + k * k) - 0.01 * u * (rep % 2);
            glo[c] = (int)sg_rng_below(&r, 3);
            ghi[c] = glo[c] + (int)sg_rng_below(&r, STEPS);
            if (ghi[c] > STEPS) ghi[c] = STEPS;
        }
        double best = -INFINITY;
        for (int a = glo[0]; a <= ghi[0]; a++)
            for (int b = glo[1]; b <= ghi[1]; b++)
                for (int c = glo[2]; c <= ghi[2]; c++)
                    if (a + b + c <= STEPS) {
                        double v = val[a] + val[STEPS + 1 + b] + val[2 * (STEPS + 1) + c];
                        if (v > best) best = v;
                    }
        double got = sg_budget_knapsack(C, STEPS, val, glo, ghi, g);
        assert_true(fabs(got - best) < 1e-12 || (isinf(got) && isinf(best)));
        if (!isinf(got)) {
            assert_true(g[0] + g[1] + g[2] <= STEPS);
            for (int c = 0; c < C; c++) assert_true(g[c] >= glo[c] && g[c] <= ghi[c]);
        }
    }
}

/* Brute force over a coarse grid of the draws' mean equals the plan. */
static void plan_matches_brute_force(void **state)
{
    (void)state;
    sg_budget *m = train_world(N, 20);
    sg_budget_plan_opts po;
    sg_budget_plan_opts_default(&po);
    po.budget = 13 * 2000.0;
    po.steps = 20;
    sg_budget_plan p;
    sg_error err;
    assert_int_equal(sg_budget_plan_make(m, &po, &p, &err), SG_OK);
    double unit = po.budget / po.steps, best = -1, x[4];
    for (int a = 0; a <= 20; a++)
        for (int b = 0; a + b <= 20; b++)
            for (int c = 0; a + b + c <= 20; c++)
                for (int d = 0; a + b + c + d <= 20; d++) {
                    int g[4] = {a, b, c, d}, ok = 1;
                    for (int i = 0; i < 4; i++) {
                        x[i] = g[i] * unit / 13;
                        ok &= x[i] >= p.min_week[i] - 1e-9 && x[i] <= p.max_week[i] + 1e-9;
                    }
                    if (!ok) continue;
                    double v = mean_effect(m, x);
                    if (v > best) best = v;
                }
    double got = mean_effect(m, p.week_spend), spend = 0;
    assert_true(fabs(got - best) < 1e-9 * best);
    for (int i = 0; i < 4; i++) {
        sg_budget_channel ch;
        sg_budget_channel_get(m, i, &ch);
        assert_true(p.min_week[i] == ch.spend_week_min && p.max_week[i] == ch.spend_week_max);
        spend += p.week_spend[i] * 13;
    }
    assert_true(spend <= po.budget * (1 + 1e-12));
    assert_true(fabs(p.forecast.spend - spend) < 1e-6);
    sg_budget_plan_deinit(&p);
    sg_budget_free(m);
}

/* The plan against the truth: most of the best split's true effect, more than
 * the current mix's; the forecast's interval holds the plan's true effect;
 * with a margin the split stops where a unit of spend returns less than it
 * costs. */
static void plan_against_truth(void **state)
{
    (void)state;
    sg_budget *m = train_world(N, 100);
    sg_budget_plan_opts po;
    sg_budget_plan_opts_default(&po);
    po.budget = 13 * 2000.0;
    sg_budget_plan p;
    sg_error err;
    assert_int_equal(sg_budget_plan_make(m, &po, &p, &err), SG_OK);
    double best_x[4];
    sg_budget_truth_best(&TRUTH, &po, p.min_week, p.max_week, best_x);
    double best = sg_budget_truth_effect(&TRUTH, 13, best_x);
    double ours = sg_budget_truth_effect(&TRUTH, 13, p.week_spend);
    double cur = sg_budget_truth_effect(&TRUTH, 13, p.mix_week);
    printf("  plan %.0f of best %.0f (share %.3f), current mix %.0f; forecast %.0f [%.0f, %.0f] "
           "optimism %.0f\n", ours, best, ours / best, cur, p.forecast.effect,
           p.forecast.effect_lo, p.forecast.effect_hi, p.optimism);
    assert_true(ours > 0.85 * best);
    assert_true(ours > cur);
    assert_true(p.forecast.effect_lo <= ours && ours <= p.forecast.effect_hi);
    assert_true(p.nothing.effect == 0 && p.nothing.spend == 0);
    assert_true(isnan(p.forecast.net));
    sg_budget_plan_deinit(&p);
    /* a margin: spend only what pays */
    po.margin = 0.2;
    assert_int_equal(sg_budget_plan_make(m, &po, &p, &err), SG_OK);
    assert_true(p.forecast.spend < po.budget);
    assert_true(fabs(p.forecast.net - (0.2 * p.forecast.effect - p.forecast.spend)) < 1e-6);
    for (int c = 0; c < 4; c++)
        if (p.week_spend[c] > p.min_week[c] + 1e-9) assert_true(0.2 * p.mroi[c] < 1.5);
    sg_budget_plan_deinit(&p);
    sg_budget_free(m);
}

/* Later periods: the forecast from their spends, against what happened. */
static void predicts_and_evaluates(void **state)
{
    (void)state;
    sg_budget *m = train_world(130, 100);
    char *csv = world_csv(PR, X, Y, N, 130, N);
    sg_table *t = load_text(csv, "later.csv");
    sg_budget_eval ev;
    sg_error err;
    assert_int_equal(sg_budget_evaluate(m, t, 1, &ev, &err), SG_OK);
    printf("  26 weeks: RMSE %.0f, MAPE %.3f, covered %d, total %.0f forecast %.0f [%.0f, %.0f]\n",
           ev.rmse, ev.mape, ev.covered, ev.total, ev.total_pred, ev.total_lo, ev.total_hi);
    assert_int_equal(ev.n, 26);
    assert_true(ev.covered >= 20);
    assert_true(fabs(ev.total_pred / ev.total - 1) < 0.05);
    assert_true(ev.total_lo <= ev.total && ev.total <= ev.total_hi);
    double mu[26], lo[26], hi[26];
    assert_int_equal(sg_budget_predict(m, t, 1, mu, lo, hi, &err), SG_OK);
    for (int i = 0; i < 26; i++) {
        assert_true(mu[i] == ev.pred[i] && lo[i] == ev.lo[i] && hi[i] == ev.hi[i]);
        assert_true(lo[i] < mu[i] && mu[i] < hi[i]);
    }
    sg_budget_eval_deinit(&ev);
    sg_table_free(t);
    free(csv);
    /* rows that do not continue the training series */
    csv = world_csv(PR, X, Y, N, 131, N);
    t = load_text(csv, "gap.csv");
    assert_int_equal(sg_budget_evaluate(m, t, 1, &ev, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "gap.csv:2: column 'week': expected period 131"));
    sg_table_free(t);
    free(csv);
    sg_budget_free(m);
}

static void deterministic(void **state)
{
    (void)state;
    sg_budget *a = train_world(N, 20), *b = train_world(N, 20);
    sg_error err;
    assert_int_equal(sg_budget_save(a, "/tmp/sg_budget_a.sgm", &err), SG_OK);
    assert_int_equal(sg_budget_save(b, "/tmp/sg_budget_b.sgm", &err), SG_OK);
    FILE *fa = fopen("/tmp/sg_budget_a.sgm", "rb"), *fb = fopen("/tmp/sg_budget_b.sgm", "rb");
    int ca, cb, same = 1;
    do {
        ca = fgetc(fa);
        cb = fgetc(fb);
        same &= ca == cb;
    } while (ca != EOF && cb != EOF);
    fclose(fa);
    fclose(fb);
    assert_true(same);
    remove("/tmp/sg_budget_a.sgm");
    remove("/tmp/sg_budget_b.sgm");
    sg_budget_free(a);
    sg_budget_free(b);
}

static int train_text(const char *csv, sg_error *err)
{
    sg_table *t = load_text(csv, "bad.csv");
    sg_budget_opts o;
    opts_for(&o);
    o.n_draws = 10;
    sg_budget *m = NULL;
    int rc = sg_budget_train(&m, t, &o, NULL, err);
    sg_budget_free(m);
    sg_table_free(t);
    return rc;
}

/* Bad values name the file, line, column, value and what was expected. */
static void bad_input(void **state)
{
    (void)state;
    sg_error err;
    char *csv = world_csv(PR, X, Y, N, 0, N);
    /* line 5 (week 4): a negative tv spend */
    char *p = csv;
    for (int i = 0; i < 4; i++) p = strchr(p, '\n') + 1;
    char *bad = malloc(strlen(csv) + 8);
    size_t k = (size_t)(strchr(p, ',') - csv) + 1;   /* after the week */
    k = (size_t)(strchr(csv + k, ',') - csv) + 1;     /* after the price */
    memcpy(bad, csv, k);
    strcpy(bad + k, "-1");
    strcat(bad, strchr(csv + k, ','));
    assert_int_equal(train_text(bad, &err), SG_EPARSE);
    assert_string_equal(err.msg, "bad.csv:5: column 'tv': expected a spend >= 0, got \"-1\"");
    /* the same row's sales missing */
    strcpy(bad, csv);
    char *e = strchr(bad + (p - csv), '\n');
    char *c = e;
    while (c[-1] != ',') c--;
    memmove(c, e, strlen(e) + 1);
    assert_int_equal(train_text(bad, &err), SG_EPARSE);
    assert_string_equal(err.msg, "bad.csv:5: column 'sales': expected an outcome (a number), got \"\"");
    free(bad);
    /* periods out of order */
    const char *ooo = "week,price,tv,search,social,display,sales\n2,1,1,1,1,1,5\n1,1,1,1,1,1,5\n";
    assert_int_equal(train_text(ooo, &err), SG_EPARSE);
    assert_non_null(strstr(err.msg, "bad.csv:3: column 'week': expected a period after the previous row's"));
    /* too few periods for the terms */
    char *few = world_csv(PR, X, Y, N, 0, 30);
    assert_int_equal(train_text(few, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "30 periods for 10 terms"));
    free(few);
    /* a channel that never spends */
    static double X0[4 * N];
    memcpy(X0, X, sizeof X0);
    for (int i = 0; i < N; i++) X0[3 * N + i] = 0;
    char *zero = world_csv(PR, X0, Y, N, 0, N);
    assert_int_equal(train_text(zero, &err), SG_EINVAL);
    assert_string_equal(err.msg, "bad.csv: channel 'display' never spends: its effect cannot be learnt");
    free(zero);
    /* unknown and doubled columns */
    sg_table *t = load_text(csv, "ok.csv");
    sg_budget_opts o;
    opts_for(&o);
    const char *two[] = {"tv", "tv"};
    o.channels = two;
    o.n_channels = 2;
    sg_budget *m = NULL;
    assert_int_equal(sg_budget_train(&m, t, &o, NULL, &err), SG_EINVAL);
    assert_string_equal(err.msg, "budget: column 'tv' named twice");
    const char *radio[] = {"radio"};
    o.channels = radio;
    o.n_channels = 1;
    assert_int_equal(sg_budget_train(&m, t, &o, NULL, &err), SG_ENOTFOUND);
    assert_string_equal(err.msg, "ok.csv: no column 'radio' (the channel spend)");
    opts_for(&o);
    o.n_draws = 5;
    assert_int_equal(sg_budget_train(&m, t, &o, NULL, &err), SG_EINVAL);
    assert_null(m);
    sg_table_free(t);
    free(csv);
}

static void save_load(void **state)
{
    (void)state;
    sg_budget *m = train_world(N, 20), *l = NULL;
    sg_error err;
    const char *path = "/tmp/sg_budget_sl.sgm";
    assert_int_equal(sg_budget_save(m, path, &err), SG_OK);
    assert_int_equal(sg_budget_load(&l, path, &err), SG_OK);
    assert_string_equal(sg_budget_role(l, "period"), "week");
    assert_string_equal(sg_budget_control_name(l, 0), "price");
    for (int c = 0; c < 4; c++) {
        sg_budget_channel a, b;
        sg_budget_channel_get(m, c, &a);
        sg_budget_channel_get(l, c, &b);
        assert_memory_equal(&a, &b, sizeof a);
    }
    double x[4] = {500, 600, 300, 200};
    for (int d = -1; d <= 20; d++)
        assert_true(sg_budget_effect(m, d, 13, x) == sg_budget_effect(l, d, 13, x));
    sg_budget_free(l);
    /* truncated: the container says so */
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    unsigned char *buf = malloc((size_t)size);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    f = fopen(path, "wb");
    fwrite(buf, 1, (size_t)size / 2, f);
    fclose(f);
    assert_int_not_equal(sg_budget_load(&l, path, &err), SG_OK);
    assert_null(l);
    free(buf);
    remove(path);
    sg_budget_free(m);
}

static void plan_errors(void **state)
{
    (void)state;
    sg_budget *m = train_world(N, 10);
    sg_budget_plan_opts po;
    sg_budget_plan p;
    sg_error err;
    sg_budget_plan_opts_default(&po);
    po.budget = 0;
    assert_int_equal(sg_budget_plan_make(m, &po, &p, &err), SG_EINVAL);
    po.budget = 1000;   /* below the least spends seen, over 13 weeks */
    assert_int_equal(sg_budget_plan_make(m, &po, &p, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "more than the budget 1000; give lower --min values"));
    double mn[4] = {0, 0, 0, 0}, mx[4] = {NAN, 100, NAN, NAN};
    po.min_week = mn;
    po.max_week = mx;
    assert_int_equal(sg_budget_plan_make(m, &po, &p, &err), SG_OK);
    assert_true(p.week_spend[1] <= 100 + 1e-9);
    sg_budget_plan_deinit(&p);
    mn[1] = 200;
    assert_int_equal(sg_budget_plan_make(m, &po, &p, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "channel 'search': bounds 200..100"));
    po.steps = 5;
    assert_int_equal(sg_budget_plan_make(m, &po, &p, &err), SG_EINVAL);
    sg_budget_free(m);
}

static void alloc_failures(void **state)
{
    (void)state;
    char *csv = world_csv(PR, X, Y, N, 0, N);
    sg_table *t = load_text(csv, "w.csv");
    sg_budget_opts o;
    opts_for(&o);
    o.n_draws = 10;
    int done = 0;
    for (int64_t k = 0; k < 3000 && !done; k++) {
        sg_budget *m = NULL;
        sg_mem_fail_after(k);
        int rc = sg_budget_train(&m, t, &o, NULL, NULL);
        sg_mem_fail_after(-1);
        if (rc != SG_OK) {
            assert_int_equal(rc, SG_ENOMEM);
            assert_null(m);
            continue;
        }
        done = 1;
        sg_budget_plan_opts po;
        sg_budget_plan_opts_default(&po);
        po.budget = 26000;
        for (int64_t j = 0; j < 500; j++) {
            sg_budget_plan p;
            sg_mem_fail_after(j);
            rc = sg_budget_plan_make(m, &po, &p, NULL);
            sg_mem_fail_after(-1);
            if (rc == SG_OK) {
                sg_budget_plan_deinit(&p);
                break;
            }
            assert_int_equal(rc, SG_ENOMEM);
        }
        assert_int_equal(rc, SG_OK);
        for (int64_t j = 0; j < 500; j++) {
            sg_budget_eval ev;
            sg_mem_fail_after(j);
            rc = sg_budget_evaluate(m, t, 1, &ev, NULL);
            sg_mem_fail_after(-1);
            if (rc == SG_OK) {
                sg_budget_eval_deinit(&ev);
                break;
            }
            assert_int_not_equal(rc, SG_OK);
        }
        sg_budget_free(m);
    }
    assert_true(done);
    sg_table_free(t);
    free(csv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(recovers_contributions), cmocka_unit_test(knapsack_exact),
        cmocka_unit_test(plan_matches_brute_force), cmocka_unit_test(plan_against_truth),
        cmocka_unit_test(predicts_and_evaluates), cmocka_unit_test(deterministic),
        cmocka_unit_test(bad_input),              cmocka_unit_test(save_load),
        cmocka_unit_test(plan_errors),            cmocka_unit_test(alloc_failures),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}

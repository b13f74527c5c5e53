/* test_ope.c -- off-policy estimators on hand-computed and simulated logs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "stratagem/error.h"
#include "stratagem/mem.h"
#include "stratagem/ope.h"
#include "stratagem/rng.h"

#define CLOSE(x, y, tol) assert_true(fabs((x) - (y)) <= (tol))

/* ---------------------------------------------------------------------------
 * a simulated campaign: 10 customer types, 3 arms */

enum { NX = 10, NA = 3, MAXN = 2000 };

/* true conversion rate of type x under arm a, in [0.1, 0.7] */
static double m_true(int x, int a) { return 0.1 + 0.6 * ((x * 7 + a * 3) % 10) / 9.0; }

/* logging policy: uniform, or 0.6/0.3/0.1 rotated by type */
static double p_log(int x, int a, int uniform)
{
    static const double base[3] = {0.6, 0.3, 0.1};
    return uniform ? 1.0 / 3 : base[(a + x) % 3];
}

/* target policy: 0.8 on arm (2x mod 3), 0.1 on each other arm */
static double p_target(int x, int a) { return a == (2 * x) % 3 ? 0.8 : 0.1; }

static double true_value(void)
{
    double v = 0;
    for (int x = 0; x < NX; x++)
        for (int a = 0; a < NA; a++) v += p_target(x, a) * m_true(x, a) / NX;
    return v;
}

typedef struct simlog {
    int32_t action[MAXN];
    double outcome[MAXN], prop[MAXN], pi[MAXN * NA], mu[MAXN * NA];
    int x[MAXN];
} simlog;

/* Draw a log of N rows.  fixed_x keeps the types already in s->x; noise 1 draws
 * 0/1 conversions, 2 adds N(0, 0.05^2) to the expectation, 0 none; the DR model
 * is biased unless perfect_model. */
static void simulate(sg_rng *r, simlog *s, int N, int uniform, int fixed_x, int noise,
                     int perfect_model)
{
    for (int i = 0; i < N; i++) {
        if (!fixed_x) s->x[i] = (int)sg_rng_below(r, NX);
        int x = s->x[i];
        double u = sg_rng_uniform(r), acc = 0;
        int a = NA - 1;
        for (int k = 0; k < NA; k++) {
            acc += p_log(x, k, uniform);
            if (u < acc) {
                a = k;
                break;
            }
        }
        s->action[i] = a;
        s->prop[i] = p_log(x, a, uniform);
        if (noise == 1) s->outcome[i] = sg_rng_uniform(r) < m_true(x, a) ? 1.0 : 0.0;
        else s->outcome[i] = m_true(x, a) + (noise == 2 ? 0.05 * sg_rng_normal(r) : 0.0);
        for (int k = 0; k < NA; k++) {
            s->pi[i * NA + k] = p_target(x, k);
            double bias = perfect_model ? 0.0 : 0.15 * (k == 1) - 0.05;
            s->mu[i * NA + k] = m_true(x, k) + bias;
        }
    }
}

static sg_ope_log log_of(const simlog *s, int N, int with_mu)
{
    sg_ope_log g;
    memset(&g, 0, sizeof g);
    g.N = N;
    g.A = NA;
    g.action = s->action;
    g.outcome = s->outcome;
    g.propensity = s->prop;
    g.pi = s->pi;
    g.mu = with_mu ? s->mu : NULL;
    return g;
}

/* ---------------------------------------------------------------------------
 * exact values */

/* ope-1.1: a 4-row log computed by hand:
 *   w = (2, 0, 2, 4/3); IPS = (2 + 4/3)/4 = 5/6; SNIPS = (10/3)/(16/3) = 5/8;
 *   DR terms = (1.4, 0.3, -0.55, 7/6), DR = 0.5791666...; ESS = 256/88;
 *   IPS se = sqrt(3 / 12) = 0.5; with arm costs (0, 0.1) the policy's cost
 *   per row is (0.1 + 0.1 + 0.05 + 0) / 4 = 0.0625, taken off every estimate */
static void hand_example(void **state)
{
    (void)state;
    int32_t action[4] = {1, 0, 1, 0};
    double y[4] = {1, 0, 0, 1}, p[4] = {0.5, 0.5, 0.25, 0.75};
    double pi[8] = {0, 1, 0, 1, 0.5, 0.5, 1, 0};
    double mu[8] = {0.2, 0.6, 0.1, 0.3, 0.4, 0.5, 0.5, 0.2};
    double arm_cost[2] = {0, 0.1};
    sg_ope_log g = {4, 2, action, y, p, pi, mu, NULL, NULL};
    sg_ope_options o;
    sg_ope_options_default(&o);
    o.n_boot = 200;
    sg_rng r;
    sg_rng_init(&r, 1);
    sg_ope_result res;
    sg_error err;
    assert_int_equal(sg_ope_evaluate(&g, &o, &r, &res, &err), SG_OK);
    CLOSE(res.ips.value, 5.0 / 6, 1e-12);
    CLOSE(res.snips.value, 5.0 / 8, 1e-12);
    CLOSE(res.dr.value, (1.4 + 0.3 - 0.55 + 7.0 / 6) / 4, 1e-12);
    CLOSE(res.ess, 256.0 / 88, 1e-12);
    CLOSE(res.ips.se, 0.5, 1e-12);
    CLOSE(res.mean_weight, 4.0 / 3, 1e-12);
    CLOSE(res.max_weight, 2, 0);
    assert_int_equal(res.n_match, 3);
    assert_true(res.ips.lo <= res.ips.value && res.ips.value <= res.ips.hi);
    assert_true(res.ips.lo >= 0 && res.ips.hi <= 10.0 / 4);   /* resample means of w y */
    g.arm_cost = arm_cost;
    sg_ope_result net;
    sg_rng_init(&r, 1);
    assert_int_equal(sg_ope_evaluate(&g, &o, &r, &net, &err), SG_OK);
    CLOSE(net.policy_cost, 0.0625, 1e-12);
    CLOSE(net.ips.value, 5.0 / 6 - 0.0625, 1e-12);
    CLOSE(net.snips.value, 5.0 / 8 - 0.0625, 1e-12);
    CLOSE(net.dr.value, res.dr.value - 0.0625, 1e-12);
    /* without mu: no DR */
    g.mu = NULL;
    assert_int_equal(sg_ope_evaluate(&g, &o, &r, &net, &err), SG_OK);
    assert_true(isnan(net.dr.value) && isnan(net.dr.lo) && isnan(net.dr.se));
}

/* ope-1.2: SNIPS equals IPS when the weights average exactly 1: two arms logged
 * at 0.5, a deterministic target that agrees with exactly half the rows; and
 * when the target is the logging policy itself (every weight 1) */
static void snips_equals_ips(void **state)
{
    (void)state;
    enum { N = 400 };
    static int32_t action[N];
    static double y[N], p[N], pi[2 * N];
    sg_rng r;
    sg_rng_init(&r, 2);
    for (int i = 0; i < N; i++) {
        action[i] = i % 2;
        p[i] = 0.5;
        y[i] = sg_rng_uniform(&r) < 0.3 + 0.2 * (i % 2) ? 1 : 0;
        int t = (i / 2) % 2;   /* agrees with the logged arm on exactly half the rows */
        pi[2 * i] = t == 0;
        pi[2 * i + 1] = t == 1;
    }
    sg_ope_log g = {N, 2, action, y, p, pi, NULL, NULL, NULL};
    sg_ope_options o = {0, 0.9};
    sg_ope_result res;
    sg_error err;
    assert_int_equal(sg_ope_evaluate(&g, &o, NULL, &res, &err), SG_OK);
    CLOSE(res.mean_weight, 1, 1e-15);
    CLOSE(res.snips.value, res.ips.value, 1e-12);
    assert_true(isnan(res.ips.lo));
    for (int i = 0; i < N; i++) {
        pi[2 * i] = pi[2 * i + 1] = 0.5;
    }
    assert_int_equal(sg_ope_evaluate(&g, &o, NULL, &res, &err), SG_OK);
    double mean = 0;
    for (int i = 0; i < N; i++) mean += y[i] / N;
    CLOSE(res.ips.value, mean, 1e-12);
    CLOSE(res.snips.value, mean, 1e-12);
    CLOSE(res.ess, N, 1e-9);
}

/* ---------------------------------------------------------------------------
 * simulation */

static void coverage(int uniform, const char *name)
{
    enum { REPS = 200, N = 500 };
    static simlog s;
    double V = true_value();
    sg_rng r, rb;
    sg_rng_init(&r, uniform ? 31 : 32);
    sg_rng_init(&rb, 33);
    sg_ope_options o = {200, 0.9};
    int cov[3] = {0, 0, 0};
    double sum[3] = {0, 0, 0}, sum2[3] = {0, 0, 0};
    for (int rep = 0; rep < REPS; rep++) {
        simulate(&r, &s, N, uniform, 0, 1, 0);
        sg_ope_log g = log_of(&s, N, 1);
        sg_ope_result res;
        sg_error err;
        assert_int_equal(sg_ope_evaluate(&g, &o, &rb, &res, &err), SG_OK);
        const sg_ope_estimate *e[3] = {&res.ips, &res.snips, &res.dr};
        for (int k = 0; k < 3; k++) {
            cov[k] += e[k]->lo <= V && V <= e[k]->hi;
            sum[k] += e[k]->value;
            sum2[k] += e[k]->value * e[k]->value;
            assert_true(e[k]->lo < e[k]->hi);
            /* the bootstrap and analytic standard errors agree roughly */
            assert_true(e[k]->se_boot > 0.6 * e[k]->se && e[k]->se_boot < 1.6 * e[k]->se);
        }
    }
    for (int k = 0; k < 3; k++) {
        double mean = sum[k] / REPS, sd = sqrt(sum2[k] / REPS - mean * mean);
        print_message("%s %s: coverage %d/%d, mean %.4f (true %.4f), sd %.4f\n", name,
                      k == 0 ? "IPS" : k == 1 ? "SNIPS" : "DR", cov[k], REPS, mean, V, sd);
        assert_true(cov[k] >= 0.75 * REPS && cov[k] <= 0.98 * REPS);
        assert_true(fabs(mean - V) < 4 * sd / sqrt(REPS));   /* unbiased */
    }
}

/* ope-2.1: uniform logging: 90% intervals cover the true value in 75-98% of
 * 200 simulated campaigns, and the estimates average to it */
static void coverage_uniform(void **state)
{
    (void)state;
    coverage(1, "ope-2.1 uniform");
}

/* ope-2.2: the same with non-uniform logging (propensities 0.6/0.3/0.1) */
static void coverage_skewed(void **state)
{
    (void)state;
    coverage(0, "ope-2.2 skewed");
}

/* ope-2.3: DR with a perfect model and noise-free outcomes returns the policy's
 * value on the logged customers exactly, whatever actions were logged (zero
 * variance), while IPS varies; with a little outcome noise DR's se is far the
 * smallest (what is left is the spread of the customers' values) */
static void dr_perfect_model(void **state)
{
    (void)state;
    enum { N = 400 };
    static simlog s;
    sg_rng r;
    sg_rng_init(&r, 23);
    simulate(&r, &s, N, 0, 0, 0, 1);
    double cond = 0;
    for (int i = 0; i < N; i++)
        for (int a = 0; a < NA; a++) cond += p_target(s.x[i], a) * m_true(s.x[i], a) / N;
    sg_ope_options o = {0, 0.9};
    double s1 = 0, s2 = 0;
    for (int rep = 0; rep < 30; rep++) {
        simulate(&r, &s, N, 0, 1, 0, 1);
        sg_ope_log g = log_of(&s, N, 1);
        sg_ope_result res;
        sg_error err;
        assert_int_equal(sg_ope_evaluate(&g, &o, NULL, &res, &err), SG_OK);
        CLOSE(res.dr.value, cond, 1e-12);
        s1 += res.ips.value;
        s2 += res.ips.value * res.ips.value;
    }
    double sd_ips = sqrt(s2 / 30 - (s1 / 30) * (s1 / 30));
    assert_true(sd_ips > 0.01);
    simulate(&r, &s, MAXN, 0, 0, 2, 1);
    sg_ope_log g = log_of(&s, MAXN, 1);
    sg_ope_result res;
    sg_error err;
    assert_int_equal(sg_ope_evaluate(&g, &o, NULL, &res, &err), SG_OK);
    /* the se of the customers' own policy values: what DR cannot go below */
    double m1 = 0, m2 = 0;
    for (int i = 0; i < MAXN; i++) {
        double v = 0;
        for (int a = 0; a < NA; a++) v += p_target(s.x[i], a) * m_true(s.x[i], a);
        m1 += v;
        m2 += v * v;
    }
    double se_oracle = sqrt((m2 / MAXN - (m1 / MAXN) * (m1 / MAXN)) / MAXN);
    print_message("ope-2.3: se IPS %.4f SNIPS %.4f DR %.4f, customers' spread %.4f\n", res.ips.se,
                  res.snips.se, res.dr.se, se_oracle);
    assert_true(res.dr.se < 0.7 * res.ips.se && res.dr.se < 0.8 * res.snips.se);
    assert_true(res.dr.se < 1.2 * se_oracle);
}

/* ope-2.4: the bootstrap is deterministic for a seed and independent of the
 * number of threads */
static void deterministic(void **state)
{
    (void)state;
    static simlog s;
    sg_rng r;
    sg_rng_init(&r, 24);
    simulate(&r, &s, MAXN, 0, 0, 1, 0);
    sg_ope_log g = log_of(&s, MAXN, 1);
    sg_ope_options o = {2100, 0.8};   /* 4.2M resampled rows: the parallel path */
    sg_ope_result a, b;
    sg_error err;
    sg_rng_init(&r, 9);
    assert_int_equal(sg_ope_evaluate(&g, &o, &r, &a, &err), SG_OK);
#ifdef _OPENMP
    int nt = omp_get_max_threads();
    omp_set_num_threads(nt > 1 ? 1 : 2);
#endif
    sg_rng_init(&r, 9);
    assert_int_equal(sg_ope_evaluate(&g, &o, &r, &b, &err), SG_OK);
#ifdef _OPENMP
    omp_set_num_threads(nt);
#endif
    assert_memory_equal(&a, &b, sizeof a);
    assert_true(a.level == 0.8 && a.n_boot == 2100);
    /* a different seed gives a different interval, the same point estimate */
    sg_rng_init(&r, 10);
    assert_int_equal(sg_ope_evaluate(&g, &o, &r, &b, &err), SG_OK);
    assert_true(a.ips.value == b.ips.value && a.ips.lo != b.ips.lo);
}

/* ---------------------------------------------------------------------------
 * errors */

/* ope-3.1: propensities outside (0, 1] and other bad input are SG_EINVAL naming the row */
static void bad_input(void **state)
{
    (void)state;
    int32_t action[4] = {1, 0, 1, 0};
    double y[4] = {1, 0, 0, 1}, p[4] = {0.5, 0.5, 0.25, 0.75};
    double pi[8] = {0, 1, 0, 1, 0.5, 0.5, 1, 0};
    sg_ope_log g = {4, 2, action, y, p, pi, NULL, NULL, NULL};
    sg_ope_options o = {0, 0.9};
    sg_ope_result res;
    memset(&res, 0x5a, sizeof res);
    sg_ope_result before = res;
    sg_error err;
    const double bad[] = {0, -0.2, 1.5, NAN, INFINITY};
    for (int k = 0; k < 5; k++) {
        p[3] = bad[k];
        assert_int_equal(sg_ope_evaluate(&g, &o, NULL, &res, &err), SG_EINVAL);
        assert_non_null(strstr(err.msg, "row 3"));
        assert_non_null(strstr(err.msg, "propensity"));
    }
    p[3] = 1;   /* 1 is allowed */
    assert_int_equal(sg_ope_evaluate(&g, &o, NULL, &res, &err), SG_OK);
    memcpy(&res, &before, sizeof res);
    action[2] = 2;
    assert_int_equal(sg_ope_evaluate(&g, &o, NULL, &res, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "row 2"));
    action[2] = 1;
    pi[2] = 0.3;   /* row 1 sums to 1.3 */
    assert_int_equal(sg_ope_evaluate(&g, &o, NULL, &res, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "row 1"));
    pi[2] = 0;
    y[0] = NAN;
    assert_int_equal(sg_ope_evaluate(&g, &o, NULL, &res, &err), SG_EINVAL);
    y[0] = 1;
    o.n_boot = 10;   /* needs an rng */
    assert_int_equal(sg_ope_evaluate(&g, &o, NULL, &res, &err), SG_EINVAL);
    o.n_boot = 0;
    o.level = 1;
    assert_int_equal(sg_ope_evaluate(&g, &o, NULL, &res, &err), SG_EINVAL);
    o.level = 0.9;
    g.N = 0;
    assert_int_equal(sg_ope_evaluate(&g, &o, NULL, &res, &err), SG_EINVAL);
    assert_memory_equal(&res, &before, sizeof res);   /* untouched on failure */
    /* memory failures are clean */
    g.N = 4;
    int64_t live = sg_mem_live_bytes();
    sg_mem_fail_after(2);
    assert_int_equal(sg_ope_evaluate(&g, &o, NULL, &res, &err), SG_ENOMEM);
    sg_mem_fail_after(-1);
    assert_int_equal(sg_mem_live_bytes(), live);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hand_example),     cmocka_unit_test(snips_equals_ips),
        cmocka_unit_test(coverage_uniform), cmocka_unit_test(coverage_skewed),
        cmocka_unit_test(dr_perfect_model), cmocka_unit_test(deterministic),
        cmocka_unit_test(bad_input),
    };
    return cmocka_run_group_tests_name("ope", tests, NULL, NULL);
}

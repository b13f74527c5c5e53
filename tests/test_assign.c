/* test_assign.c -- budgeted multi-treatment assignment against exact optima. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "stratagem/assign.h"
#include "stratagem/error.h"
#include "stratagem/log.h"
#include "stratagem/mem.h"
#include "stratagem/rng.h"

#define MAXN 64
#define MAXA 5

/* ---------------------------------------------------------------------------
 * exact references */

/* Exhaustive search over all A^N plans (small N), caps and min_gain included. */
static double brute(const sg_assign_problem *p, int64_t i, double used, int64_t *cnt)
{
    if (i == p->N) return 0;
    double best = brute(p, i + 1, used, cnt);
    for (int a = 1; a < p->A; a++) {
        double c = p->cost ? p->cost[i * p->A + a] : p->arm_cost[a];
        double v = p->gain[i * p->A + a] - c;
        if (!(v > p->min_gain) || used + c > p->budget) continue;
        if (p->cap && p->cap[a] >= 0 && cnt[a] >= p->cap[a]) continue;
        cnt[a]++;
        double r = v + brute(p, i + 1, used + c, cnt);
        cnt[a]--;
        if (r > best) best = r;
    }
    return best;
}

/* Knapsack DP over integer budgets (no caps): the exact optimum. */
static double dp_optimum(const sg_assign_problem *p)
{
    int B = (int)p->budget;
    double f[1024], g[1024];
    for (int b = 0; b <= B; b++) f[b] = 0;
    for (int64_t i = 0; i < p->N; i++) {
        for (int b = 0; b <= B; b++) {
            g[b] = f[b];
            for (int a = 1; a < p->A; a++) {
                int c = (int)p->cost[i * p->A + a];
                double v = p->gain[i * p->A + a] - c;
                if (v > p->min_gain && c <= b && f[b - c] + v > g[b]) g[b] = f[b - c] + v;
            }
        }
        memcpy(f, g, sizeof f);
    }
    return f[B];
}

/* A random instance: costs in [0.5, 5.5) with 10% free (or integers 1..9), gains
 * around the cost so that about half the actions pay. */
static void random_instance(sg_rng *r, sg_assign_problem *p, double *gain, double *cost, int N,
                            int A, int integer)
{
    double tot = 0;
    for (int i = 0; i < N * A; i++) {
        cost[i] = integer ? (double)(1 + sg_rng_below(r, 9)) : 0.5 + 5 * sg_rng_uniform(r);
        if (!integer && sg_rng_below(r, 10) == 0) cost[i] = 0;   /* free actions happen */
        gain[i] = cost[i] + 4 * sg_rng_normal(r);
        tot += cost[i];
    }
    sg_assign_problem_init(p);
    p->N = N;
    p->A = A;
    p->gain = gain;
    p->cost = cost;
    p->budget = sg_rng_uniform(r) * tot / A;
    if (integer) p->budget = floor(p->budget);
}

/* Solve, check feasibility with the independent evaluator and the bound. */
static double solve_checked(const sg_assign_problem *p, const sg_assign_options *o, int32_t *arm,
                            sg_assign_stats *st)
{
    sg_error err;
    int rc = sg_assign_solve(p, o, arm, st, &err);
    if (rc != SG_OK) fail_msg("solve: %s", err.msg);
    sg_assign_stats ev;
    int64_t cnt[MAXA];
    rc = sg_assign_evaluate(p, arm, 0, &ev, cnt, &err);
    if (rc != SG_OK) fail_msg("infeasible plan: %s", err.msg);
    /* within the budget, up to the rounding of sums of decimal costs */
    assert_true(ev.cost <= p->budget + 1e-12 * (p->budget > 1 ? p->budget : 1));
    assert_true(fabs(ev.value - st->value) <= 1e-9 * (1 + fabs(ev.value)));
    assert_true(st->value <= st->bound + 1e-9 * (1 + fabs(st->bound)));
    return st->value;
}

/* ---------------------------------------------------------------------------
 * optimality */

/* assign-1.1: small random instances vs exhaustive search, without caps: always
 * feasible, the bound holds, the solver is optimal on average (>= 99.9%); the
 * greedy alone (core = 0) gets >= 97% on average */
static void vs_brute_force(void **state)
{
    (void)state;
    sg_rng r;
    sg_rng_init(&r, 11);
    double gain[MAXN * MAXA], cost[MAXN * MAXA];
    int32_t arm[MAXN];
    double sum_full = 0, sum_greedy = 0, worst_full = 1;
    int n = 0;
    for (int rep = 0; rep < 300; rep++) {
        int N = 3 + (int)sg_rng_below(&r, 5), A = 2 + (int)sg_rng_below(&r, 3);
        sg_assign_problem p;
        random_instance(&r, &p, gain, cost, N, A, 0);
        int64_t cnt[MAXA] = {0};
        double opt = brute(&p, 0, 0, cnt);
        sg_assign_stats st;
        double v = solve_checked(&p, NULL, arm, &st);
        assert_true(v <= opt + 1e-9);
        assert_true(opt <= st.bound + 1e-9);
        sg_assign_options o;
        sg_assign_options_default(&o);
        o.core = 0;
        double vg = solve_checked(&p, &o, arm, &st);
        assert_true(vg <= opt + 1e-9);
        if (opt > 0) {
            sum_full += v / opt;
            sum_greedy += vg / opt;
            if (v / opt < worst_full) worst_full = v / opt;
            n++;
        }
    }
    assert_true(n > 200);
    print_message("assign-1.1: %d instances, mean ratio %.5f (worst %.4f), greedy only %.5f\n", n,
                  sum_full / n, worst_full, sum_greedy / n);
    assert_true(sum_full / n >= 0.999);
    assert_true(sum_greedy / n >= 0.97);
}

/* assign-1.2: the same with per-arm caps (0, 1, 2 or none) */
static void vs_brute_force_caps(void **state)
{
    (void)state;
    sg_rng r;
    sg_rng_init(&r, 12);
    double gain[MAXN * MAXA], cost[MAXN * MAXA];
    int32_t arm[MAXN];
    int64_t cap[MAXA];
    double sum = 0;
    int n = 0;
    for (int rep = 0; rep < 300; rep++) {
        int N = 3 + (int)sg_rng_below(&r, 5), A = 2 + (int)sg_rng_below(&r, 3);
        sg_assign_problem p;
        random_instance(&r, &p, gain, cost, N, A, 0);
        for (int a = 0; a < A; a++)
            cap[a] = sg_rng_below(&r, 3) ? (int64_t)sg_rng_below(&r, 3) : -1;
        p.cap = cap;
        int64_t cnt[MAXA] = {0};
        double opt = brute(&p, 0, 0, cnt);
        sg_assign_stats st;
        double v = solve_checked(&p, NULL, arm, &st);
        for (int a = 1; a < A; a++) {
            int64_t k = 0;
            for (int i = 0; i < N; i++) k += arm[i] == a;
            assert_true(cap[a] < 0 || k <= cap[a]);
        }
        assert_true(v <= opt + 1e-9);
        assert_true(opt <= st.bound + 1e-9);
        if (opt > 0) {
            sum += v / opt;
            n++;
        }
    }
    print_message("assign-1.2: %d capped instances, mean ratio %.5f\n", n, sum / n);
    assert_true(sum / n >= 0.99);
}

/* assign-1.3: 40 customers x 4 arms with integer costs vs a knapsack DP:
 * >= 99% of the optimum on average, never above it, never infeasible */
static void vs_dp(void **state)
{
    (void)state;
    sg_rng r;
    sg_rng_init(&r, 13);
    double gain[MAXN * MAXA], cost[MAXN * MAXA];
    int32_t arm[MAXN];
    double sum = 0, sum_gap = 0;
    int n = 0;
    for (int rep = 0; rep < 60; rep++) {
        sg_assign_problem p;
        random_instance(&r, &p, gain, cost, 40, 4, 1);
        double opt = dp_optimum(&p);
        sg_assign_stats st;
        double v = solve_checked(&p, NULL, arm, &st);
        assert_true(v <= opt + 1e-9);
        assert_true(opt <= st.bound + 1e-9);
        if (opt > 0) {
            sum += v / opt;
            sum_gap += (st.bound - v) / st.bound;
            n++;
        }
    }
    print_message("assign-1.3: %d instances, mean ratio %.5f, mean reported gap %.4f\n", n,
                  sum / n, sum_gap / n);
    assert_true(n >= 50);
    assert_true(sum / n >= 0.99);
}

/* ---------------------------------------------------------------------------
 * properties */

/* assign-2.1: caps hold on a larger instance where they bind */
static void caps_large(void **state)
{
    (void)state;
    enum { N = 3000, A = 4 };
    static double gain[N * A], cost[N * A];
    static int32_t arm[N];
    sg_rng r;
    sg_rng_init(&r, 21);
    for (int i = 0; i < N; i++)
        for (int a = 0; a < A; a++) {
            cost[i * A + a] = 1 + a;
            gain[i * A + a] = (1 + a) * (1.5 + sg_rng_uniform(&r));
        }
    int64_t cap[A] = {-1, 100, 200, 300};
    sg_assign_problem p;
    sg_assign_problem_init(&p);
    p.N = N;
    p.A = A;
    p.gain = gain;
    p.cost = cost;
    p.cap = cap;
    p.budget = 1500;
    sg_assign_stats st;
    solve_checked(&p, NULL, arm, &st);
    int64_t cnt[A] = {0};
    for (int i = 0; i < N; i++) cnt[arm[i]]++;
    print_message("assign-2.1: per arm %lld %lld %lld %lld, value %.4f, bound %.4f, %d rounds\n",
                  (long long)cnt[0], (long long)cnt[1], (long long)cnt[2], (long long)cnt[3],
                  st.value, st.bound, st.rounds);
    for (int a = 1; a < A; a++) assert_true(cnt[a] <= cap[a]);
    assert_true(cnt[1] == cap[1] || cnt[2] == cap[2] || cnt[3] == cap[3]);   /* caps bind */
    assert_true(st.cost <= 1500);
    assert_true((st.bound - st.value) / st.bound < 1e-3);
}

/* assign-2.2: actions with gain - cost <= min_gain are never chosen */
static void never_negative(void **state)
{
    (void)state;
    enum { N = 200, A = 3 };
    double gain[N * A], cost[N * A];
    int32_t arm[N];
    sg_rng r;
    sg_rng_init(&r, 22);
    for (int i = 0; i < N * A; i++) {
        cost[i] = sg_rng_uniform(&r);
        gain[i] = cost[i] + sg_rng_normal(&r);
    }
    sg_assign_problem p;
    sg_assign_problem_init(&p);
    p.N = N;
    p.A = A;
    p.gain = gain;
    p.cost = cost;
    for (int pass = 0; pass < 2; pass++) {
        p.min_gain = pass == 0 ? 0.0 : 0.5;
        sg_assign_stats st;
        solve_checked(&p, NULL, arm, &st);
        int treated = 0;
        for (int i = 0; i < N; i++)
            if (arm[i] != 0) {
                assert_true(gain[i * A + arm[i]] - cost[i * A + arm[i]] > p.min_gain);
                treated++;
            }
        assert_true(treated > 20);
    }
}

/* assign-2.3: zero budget with positive costs => nobody; free actions still go */
static void zero_budget(void **state)
{
    (void)state;
    double gain[] = {0, 5, 9, 0, 3, 8};
    double arm_cost[] = {0, 1, 2};
    int32_t arm[2] = {7, 7};
    sg_assign_problem p;
    sg_assign_problem_init(&p);
    p.N = 2;
    p.A = 3;
    p.gain = gain;
    p.arm_cost = arm_cost;
    p.budget = 0;
    sg_assign_stats st;
    solve_checked(&p, NULL, arm, &st);
    assert_int_equal(arm[0], 0);
    assert_int_equal(arm[1], 0);
    assert_int_equal(st.n_treated, 0);
    assert_true(st.value == 0 && st.cost == 0);
    /* a free action with a positive gain is still taken */
    double cost[6] = {0, 1, 0, 0, 1, 2};
    p.arm_cost = NULL;
    p.cost = cost;
    solve_checked(&p, NULL, arm, &st);
    assert_int_equal(arm[0], 2);
    assert_int_equal(arm[1], 0);
    assert_true(st.value == 9 && st.cost == 0);
}

/* assign-2.4: with an unlimited (or large) budget everyone with a positive net
 * gain gets the arm with the largest net gain, the rest nothing, bound = value */
static void large_budget(void **state)
{
    (void)state;
    enum { N = 500, A = 4 };
    static double gain[N * A], cost[N * A];
    int32_t arm[N];
    sg_rng r;
    sg_rng_init(&r, 24);
    double total_cost = 0;
    for (int i = 0; i < N * A; i++) {
        cost[i] = sg_rng_uniform(&r);
        gain[i] = cost[i] + sg_rng_normal(&r);
        total_cost += cost[i];
    }
    sg_assign_problem p;
    sg_assign_problem_init(&p);
    p.N = N;
    p.A = A;
    p.gain = gain;
    p.cost = cost;
    for (int pass = 0; pass < 2; pass++) {
        p.budget = pass == 0 ? HUGE_VAL : total_cost;
        sg_assign_stats st;
        solve_checked(&p, NULL, arm, &st);
        for (int i = 0; i < N; i++) {
            int best = 0;
            double bv = 0;
            for (int a = 1; a < A; a++)
                if (gain[i * A + a] - cost[i * A + a] > bv) {
                    bv = gain[i * A + a] - cost[i * A + a];
                    best = a;
                }
            assert_int_equal(arm[i], best);
        }
        assert_true(fabs(st.bound - st.value) < 1e-9);
        assert_true(st.lambda == 0);
    }
}

/* assign-2.5: ties are broken by index, the same way every time */
static void ties(void **state)
{
    (void)state;
    enum { N = 10, A = 3 };
    double gain[N * A], arm_cost[A] = {0, 1, 2};
    int32_t arm[N], again[N];
    for (int i = 0; i < N; i++) {
        gain[i * A] = 0;
        gain[i * A + 1] = 3;   /* net 2, efficiency 2 */
        gain[i * A + 2] = 4;   /* net 2 at cost 2: never better than arm 1 */
    }
    sg_assign_problem p;
    sg_assign_problem_init(&p);
    p.N = N;
    p.A = A;
    p.gain = gain;
    p.arm_cost = arm_cost;
    p.budget = 4;
    sg_assign_stats st;
    solve_checked(&p, NULL, arm, &st);
    for (int i = 0; i < N; i++) assert_int_equal(arm[i], i < 4 ? 1 : 0);
    solve_checked(&p, NULL, again, &st);
    assert_memory_equal(arm, again, sizeof arm);
    /* equal net at equal cost: the lower arm */
    gain[0 * A + 2] = 5;
    arm_cost[2] = 1;
    for (int i = 0; i < N; i++) gain[i * A + 2] = 3;
    solve_checked(&p, NULL, arm, &st);
    for (int i = 0; i < N; i++) assert_int_equal(arm[i], i < 4 ? 1 : 0);
}

/* assign-2.6: a per-arm cost vector gives the same plan as the expanded matrix */
static void arm_cost_vector(void **state)
{
    (void)state;
    enum { N = 300, A = 4 };
    static double gain[N * A], cost[N * A];
    double arm_cost[A] = {0, 0.5, 1.5, 3};
    int32_t a1[N], a2[N];
    sg_rng r;
    sg_rng_init(&r, 26);
    for (int i = 0; i < N; i++)
        for (int a = 0; a < A; a++) {
            cost[i * A + a] = arm_cost[a];
            gain[i * A + a] = arm_cost[a] * (0.5 + sg_rng_uniform(&r)) + 0.3 * sg_rng_normal(&r);
        }
    sg_assign_problem p;
    sg_assign_problem_init(&p);
    p.N = N;
    p.A = A;
    p.gain = gain;
    p.cost = cost;
    p.budget = 60;
    sg_assign_stats s1, s2;
    solve_checked(&p, NULL, a1, &s1);
    p.cost = NULL;
    p.arm_cost = arm_cost;
    solve_checked(&p, NULL, a2, &s2);
    assert_memory_equal(a1, a2, sizeof a1);
    assert_true(s1.value == s2.value && s1.bound == s2.bound);
}

/* assign-2.7: decimal costs that spend the budget exactly.  0.1 + 0.1 + 0.1 is
 * 0.30000000000000004 in binary: an exact comparison with the budget 0.3 left
 * the third action unbought, by the greedy, the fill and the baselines alike. */
static void decimal_budget(void **state)
{
    (void)state;
    enum { N = 5, A = 3 };
    double gain[N * A] = {0, 1, 0.5, 0, 0.9, 0.4, 0, 0.8, 0.3, 0, 0.2, 0.1, 0, 0.15, 0.1};
    double arm_cost[A] = {0, 0.1, 0.05};
    sg_assign_problem p;
    sg_assign_problem_init(&p);
    p.N = N;
    p.A = A;
    p.gain = gain;
    p.arm_cost = arm_cost;
    p.budget = 0.3;
    int32_t arm[N];
    sg_assign_stats st;
    solve_checked(&p, NULL, arm, &st);
    /* the best: arm 1 for customers 0, 1 and 2 (nets 0.9 + 0.8 + 0.7) */
    assert_int_equal(arm[0], 1);
    assert_int_equal(arm[1], 1);
    assert_int_equal(arm[2], 1);
    assert_true(fabs(st.value - 2.4) < 1e-12);
    /* single arm for everyone within the budget: three customers, not two */
    int32_t base[N];
    sg_error err;
    sg_assign_stats sb;
    assert_int_equal(sg_assign_single_arm(&p, 1, NULL, base, &sb, &err), SG_OK);
    int n = 0;
    for (int i = 0; i < N; i++) n += base[i] != 0;
    assert_int_equal(n, 3);
}

/* ---------------------------------------------------------------------------
 * errors, baselines, evaluation */

/* assign-3.1: bad input is SG_EINVAL with a message naming the place; outputs untouched */
static void bad_input(void **state)
{
    (void)state;
    double gain[] = {0, 1, 2, 0, 1, 2};
    double cost[] = {0, 1, 1, 0, 1, 1};
    int32_t arm[2] = {-5, -5};
    sg_assign_problem p;
    sg_error err;
    sg_assign_problem_init(&p);
    p.N = 2;
    p.A = 3;
    p.gain = gain;
    p.cost = cost;
    p.budget = 10;
    sg_assign_problem q = p;
    q.N = -1;
    assert_int_equal(sg_assign_solve(&q, NULL, arm, NULL, &err), SG_EINVAL);
    q = p;
    q.A = 0;
    assert_int_equal(sg_assign_solve(&q, NULL, arm, NULL, &err), SG_EINVAL);
    gain[4] = NAN;
    assert_int_equal(sg_assign_solve(&p, NULL, arm, NULL, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "customer 1, arm 1"));
    gain[4] = 1;
    cost[5] = -1;
    assert_int_equal(sg_assign_solve(&p, NULL, arm, NULL, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "customer 1, arm 2"));
    cost[5] = 1;
    q = p;
    q.budget = -1;
    assert_int_equal(sg_assign_solve(&q, NULL, arm, NULL, &err), SG_EINVAL);
    q = p;
    q.budget = NAN;
    assert_int_equal(sg_assign_solve(&q, NULL, arm, NULL, &err), SG_EINVAL);
    q = p;
    q.arm_cost = cost;   /* both cost forms */
    assert_int_equal(sg_assign_solve(&q, NULL, arm, NULL, &err), SG_EINVAL);
    q = p;
    q.min_gain = -1;
    assert_int_equal(sg_assign_solve(&q, NULL, arm, NULL, &err), SG_EINVAL);
    int64_t cap[3] = {0, -2, 0};
    q = p;
    q.cap = cap;
    assert_int_equal(sg_assign_solve(&q, NULL, arm, NULL, &err), SG_EINVAL);
    assert_int_equal(arm[0], -5);
    assert_int_equal(arm[1], -5);
    /* the degenerate but valid cases */
    q = p;
    q.N = 0;
    assert_int_equal(sg_assign_solve(&q, NULL, arm, NULL, &err), SG_OK);
    q = p;
    q.A = 1;
    assert_int_equal(sg_assign_solve(&q, NULL, arm, NULL, &err), SG_OK);
    assert_int_equal(arm[0], 0);
}

/* assign-4.1: baselines are feasible, seed-deterministic and not better than the plan */
static void baselines(void **state)
{
    (void)state;
    enum { N = 1000, A = 4 };
    static double gain[N * A], cost[N * A];
    static int32_t arm[N], again[N];
    sg_rng r;
    sg_rng_init(&r, 41);
    for (int i = 0; i < N * A; i++) {
        cost[i] = 0.5 + sg_rng_uniform(&r);
        gain[i] = cost[i] * (0.8 + 0.6 * sg_rng_uniform(&r));
    }
    int64_t cap[A] = {-1, -1, 50, -1};
    sg_assign_problem p;
    sg_assign_problem_init(&p);
    p.N = N;
    p.A = A;
    p.gain = gain;
    p.cost = cost;
    p.cap = cap;
    p.budget = 200;
    sg_error err;
    sg_assign_stats opt, s1, s2, s3;
    solve_checked(&p, NULL, arm, &opt);
    assert_int_equal(sg_assign_single_arm(&p, -1, NULL, arm, &s1, &err), SG_OK);
    assert_int_equal(sg_assign_evaluate(&p, arm, 1, NULL, NULL, &err), SG_OK);
    int a0 = 0;
    for (int i = 0; i < N; i++)
        if (arm[i]) {
            if (!a0) a0 = arm[i];
            assert_int_equal(arm[i], a0);   /* one arm only */
        }
    sg_rng_init(&r, 5);
    assert_int_equal(sg_assign_random(&p, &r, arm, &s2, &err), SG_OK);
    assert_int_equal(sg_assign_evaluate(&p, arm, 1, NULL, NULL, &err), SG_OK);
    sg_rng_init(&r, 5);
    assert_int_equal(sg_assign_random(&p, &r, again, &s3, &err), SG_OK);
    assert_memory_equal(arm, again, sizeof arm);
    assert_true(s2.cost <= p.budget && s1.cost <= p.budget);
    assert_true(s2.cost > 0.99 * p.budget - 2);   /* spends the budget */
    assert_true(opt.value > s1.value && opt.value > s2.value);
    assert_true(isnan(s1.bound));
    assert_int_equal(sg_assign_single_arm(&p, 2, &r, arm, &s1, &err), SG_OK);
    assert_true(s1.n_treated <= 50);
    assert_int_equal(sg_assign_single_arm(&p, 4, &r, arm, &s1, &err), SG_EINVAL);
    assert_int_equal(sg_assign_random(&p, NULL, arm, &s1, &err), SG_EINVAL);
}

/* assign-4.2: the evaluator rejects infeasible plans and counts per arm */
static void evaluate(void **state)
{
    (void)state;
    double gain[] = {0, 5, 1, 0, 4, 6};
    double cost[] = {0, 2, 3, 0, 2, 3};
    int64_t cap[] = {-1, 1, -1};
    int32_t arm[2] = {1, 1};
    int64_t cnt[3];
    sg_assign_problem p;
    sg_assign_problem_init(&p);
    p.N = 2;
    p.A = 3;
    p.gain = gain;
    p.cost = cost;
    p.budget = 4;
    sg_assign_stats st;
    sg_error err;
    assert_int_equal(sg_assign_evaluate(&p, arm, 0, &st, cnt, &err), SG_OK);
    assert_true(st.value == 5 && st.cost == 4 && st.gain == 9 && st.n_treated == 2);
    assert_true(cnt[0] == 0 && cnt[1] == 2 && cnt[2] == 0);
    p.cap = cap;
    assert_int_equal(sg_assign_evaluate(&p, arm, 0, &st, cnt, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "cap"));
    arm[1] = 2;
    assert_int_equal(sg_assign_evaluate(&p, arm, 0, &st, cnt, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "budget"));
    arm[0] = 2;
    arm[1] = 0;
    assert_int_equal(sg_assign_evaluate(&p, arm, 0, &st, cnt, &err), SG_EINVAL);   /* net -2 */
    assert_int_equal(sg_assign_evaluate(&p, arm, 1, &st, cnt, &err), SG_OK);
    arm[0] = 3;
    assert_int_equal(sg_assign_evaluate(&p, arm, 1, &st, cnt, &err), SG_EINVAL);
}

/* assign-5.1: every allocation failure gives SG_ENOMEM, no leak, arm untouched */
static void alloc_failures(void **state)
{
    (void)state;
    enum { N = 50, A = 3 };
    double gain[N * A], cost[N * A];
    int32_t arm[N];
    int64_t cap[A] = {-1, 5, -1};
    sg_rng r;
    sg_rng_init(&r, 51);
    for (int i = 0; i < N * A; i++) {
        cost[i] = 1 + sg_rng_uniform(&r);
        gain[i] = cost[i] + sg_rng_normal(&r);
    }
    sg_assign_problem p;
    sg_assign_problem_init(&p);
    p.N = N;
    p.A = A;
    p.gain = gain;
    p.cost = cost;
    p.cap = cap;
    p.budget = 20;
    int64_t before = sg_mem_live_bytes();
    int ok = 0;
    for (int64_t k = 0; k < 60 && !ok; k++) {
        for (int i = 0; i < N; i++) arm[i] = -1;
        sg_error err;
        sg_mem_fail_after(k);
        int rc = sg_assign_solve(&p, NULL, arm, NULL, &err);
        sg_mem_fail_after(-1);
        assert_int_equal(sg_mem_live_bytes(), before);
        if (rc == SG_OK) {
            ok = 1;
        } else {
            assert_int_equal(rc, SG_ENOMEM);
            assert_int_equal(arm[0], -1);
        }
    }
    assert_true(ok);
}

int main(void)
{
    sg_log_set_level(SG_LOG_NONE);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vs_brute_force), cmocka_unit_test(vs_brute_force_caps),
        cmocka_unit_test(vs_dp),          cmocka_unit_test(caps_large),
        cmocka_unit_test(never_negative), cmocka_unit_test(zero_budget),
        cmocka_unit_test(large_budget),   cmocka_unit_test(ties),
        cmocka_unit_test(arm_cost_vector), cmocka_unit_test(bad_input),
        cmocka_unit_test(baselines),      cmocka_unit_test(evaluate),
        cmocka_unit_test(alloc_failures), cmocka_unit_test(decimal_budget),
    };
    return cmocka_run_group_tests_name("assign", tests, NULL, NULL);
}

/* test_uplift_metrics.c -- Qini/uplift curves, normalised areas and uplift@k. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "stratagem/error.h"
#include "stratagem/mem.h"
#include "stratagem/rng.h"
#include "stratagem/uplift_metrics.h"

#define CLOSE(x, y, tol) assert_true(fabs((x) - (y)) <= (tol))

/* The 6-row example worked by hand (rows in score order):
 *   score 0.9 0.8 0.7 0.6 0.5 0.4;  t 1 0 1 0 1 0;  y 1 0 0 1 1 0
 *   Qini   at n = 1..6: 1, 1, 1, 0, 1/2, 1  -> area 4/6, minus random 1/2 = 1/6
 *   perfect Qini (order {0,4} {1,2,5} {3}): (2/6, 2) (5/6, 2) (1, 1)
 *                                            -> area 19/12 - 1/2 = 13/12
 *   uplift at n = 1..6: 1, 2, 3/2, 0, 5/6, 2 -> area 19/18 - 1 = 1/18
 *   perfect uplift (sklift, summand t: {0,4} {1,5} {2} {3}): (2/6, 2) (4/6, 4)
 *                  (5/6, 10/3) (1, 2)        -> area 43/18 - 1 = 25/18
 *   so qini_coef = 2/13, auuc = 1/25, as scikit-uplift's qini_auc_score and
 *   uplift_auc_score give on the same data. */
static const double S6[6] = {0.9, 0.8, 0.7, 0.6, 0.5, 0.4};
static const int32_t T6[6] = {1, 0, 1, 0, 1, 0};
static const double Y6[6] = {1, 0, 0, 1, 1, 0};

/* uplift_metrics-1.1: the hand example: areas, scores, end points and sampled curves */
static void hand_example(void **state)
{
    (void)state;
    double q[7], u[7], qp[7], up[7];
    sg_uplift_curves c = {6, q, u, qp, up};
    sg_uplift_summary s;
    sg_error err;
    assert_int_equal(sg_uplift_evaluate(S6, T6, Y6, NULL, 6, &c, &s, &err), SG_OK);
    CLOSE(s.qini_area, 1.0 / 6, 1e-12);
    CLOSE(s.qini_area_perfect, 13.0 / 12, 1e-12);
    CLOSE(s.qini_coef, 2.0 / 13, 1e-12);
    CLOSE(s.uplift_area, 1.0 / 18, 1e-12);
    CLOSE(s.uplift_area_perfect, 25.0 / 18, 1e-12);
    CLOSE(s.auuc, 1.0 / 25, 1e-12);
    CLOSE(s.qini_end, 1, 1e-12);
    CLOSE(s.uplift_end, 2, 1e-12);
    CLOSE(s.ate, 1.0 / 3, 1e-12);
    assert_int_equal(s.n_groups, 6);
    assert_true(s.w_treated == 3 && s.w_control == 3);
    const double eq[7] = {0, 1, 1, 1, 0, 0.5, 1}, eu[7] = {0, 1, 2, 1.5, 0, 5.0 / 6, 2};
    const double eqp[7] = {0, 1, 2, 2, 2, 2, 1}, eup[7] = {0, 1, 2, 3, 4, 10.0 / 3, 2};
    for (int k = 0; k <= 6; k++) {
        CLOSE(q[k], eq[k], 1e-12);
        CLOSE(u[k], eu[k], 1e-12);
        CLOSE(qp[k], eqp[k], 1e-12);
        CLOSE(up[k], eup[k], 1e-12);
    }
    /* K = 4 interpolates: x = 1/4 lies between n = 1 and n = 2 */
    c.K = 4;
    c.qini_perfect = c.uplift_perfect = NULL;
    assert_int_equal(sg_uplift_evaluate(S6, T6, Y6, NULL, 6, &c, &s, &err), SG_OK);
    CLOSE(q[1], 1, 1e-12);
    CLOSE(u[1], 1.5, 1e-12);
    CLOSE(q[2], 1, 1e-12);      /* x = 1/2: n = 3 */
    CLOSE(u[3], 5.0 / 12, 1e-12);   /* x = 3/4: between n = 4 (0) and n = 5 (5/6) */
    CLOSE(q[4], 1, 1e-12);
}

/* uplift_metrics-1.2: 40 rows with tied scores (26 groups) against a NumPy transcription of
 * scikit-uplift's qini_curve / uplift_curve / perfect_*_curve / *_auc_score */
static void reference_with_ties(void **state)
{
    (void)state;
    static const double s[40] = {
        -0.1, 1.0,  1.4,  -0.4, -0.3, -0.6, -0.1, -0.3, 1.4, -1.9, 0.8,  0.6,  0.9, 0.9,
        -0.3, 0.2,  0.1,  0.5,  1.1,  0.3,  -1.2, -1.2, -0.0, -0.8, -2.1, -0.7, 0.1, -1.2,
        -1.0, -0.2, 1.1,  -1.3, -1.5, 0.8,  0.4,  -0.0, 0.8,  1.7,  0.2,  -0.3};
    static const int32_t t[40] = {1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 1,
                                  0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0};
    static const double y[40] = {1, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1,
                                 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0};
    sg_uplift_summary r;
    sg_error err;
    assert_int_equal(sg_uplift_evaluate(s, t, y, NULL, 40, NULL, &r, &err), SG_OK);
    assert_int_equal(r.n_groups, 26);
    CLOSE(r.qini_coef, 0.109943048542689, 1e-12);
    CLOSE(r.auuc, 0.187136204742392, 1e-12);
}

/* uplift_metrics-1.3: uplift@k, including a tied group straddling the cut */
static void uplift_at_k(void **state)
{
    (void)state;
    double v;
    sg_error err;
    assert_int_equal(sg_uplift_at_k(S6, T6, Y6, NULL, 6, 0.5, &v, &err), SG_OK);
    CLOSE(v, 0.5, 1e-12);    /* rows 0-2: treated (1 + 0)/2, control 0 */
    assert_int_equal(sg_uplift_at_k(S6, T6, Y6, NULL, 6, 1.0 / 3, &v, &err), SG_OK);
    CLOSE(v, 1, 1e-12);
    assert_int_equal(sg_uplift_at_k(S6, T6, Y6, NULL, 6, 1, &v, &err), SG_OK);
    CLOSE(v, 1.0 / 3, 1e-12);
    assert_int_equal(sg_uplift_at_k(S6, T6, Y6, NULL, 6, 1.0 / 6, &v, &err), SG_OK);
    assert_true(isnan(v));   /* the top row is treated: no control to compare with */
    /* top 40% of 5 rows = row 0 and a third of the tie {1, 2, 3}:
     * treated 2/3 weight with 1/3 responses, control 4/3 with 1/3 -> 1/2 - 1/4 */
    const double s[5] = {2, 1, 1, 1, 0}, y[5] = {0, 1, 0, 1, 0};
    const int32_t t[5] = {0, 1, 1, 0, 1};
    assert_int_equal(sg_uplift_at_k(s, t, y, NULL, 5, 0.4, &v, &err), SG_OK);
    CLOSE(v, 0.25, 1e-12);
    assert_int_equal(sg_uplift_at_k(s, t, y, NULL, 5, 0, &v, &err), SG_EINVAL);
    assert_int_equal(sg_uplift_at_k(s, t, y, NULL, 5, 1.5, &v, &err), SG_EINVAL);
}

/* ---------------------------------------------------------------------------
 * synthetic truth: tau(x) = 0.1 x, base rate 0.3, half treated */

enum { NS = 50000 };
static double xs[NS], ys[NS], sc[NS], sc2[NS];
static int32_t ts[NS];

static void synth(uint64_t seed)
{
    sg_rng r;
    sg_rng_init(&r, seed);
    for (int i = 0; i < NS; i++) {
        xs[i] = sg_rng_normal(&r);
        ts[i] = (int32_t)sg_rng_below(&r, 2);
        double p = 0.3 + (ts[i] ? 0.1 * xs[i] : 0.0);
        ys[i] = sg_rng_uniform(&r) < p ? 1 : 0;
    }
}

/* uplift_metrics-2.1: random scores give Qini and AUUC near 0 on a large sample */
static void random_scores(void **state)
{
    (void)state;
    synth(21);
    sg_rng r;
    sg_rng_init(&r, 210);
    for (int rep = 0; rep < 3; rep++) {
        for (int i = 0; i < NS; i++) sc[i] = sg_rng_uniform(&r);
        sg_uplift_summary s;
        sg_error err;
        assert_int_equal(sg_uplift_evaluate(sc, ts, ys, NULL, NS, NULL, &s, &err), SG_OK);
        print_message("uplift_metrics-2.1: random qini %.4f auuc %.4f\n", s.qini_coef, s.auuc);
        assert_true(fabs(s.qini_coef) < 0.02 && fabs(s.auuc) < 0.02);
    }
}

/* uplift_metrics-2.2: the perfect (oracle) ordering scores exactly 1; ranking by the true
 * effect beats a noisy estimate of it, which beats random */
static void perfect_ordering(void **state)
{
    (void)state;
    synth(22);
    sg_uplift_summary s_or, s_true, s_noisy;
    sg_error err;
    for (int i = 0; i < NS; i++) sc[i] = ts[i] ? ys[i] : -ys[i];
    assert_int_equal(sg_uplift_evaluate(sc, ts, ys, NULL, NS, NULL, &s_or, &err), SG_OK);
    CLOSE(s_or.qini_coef, 1, 1e-12);
    assert_int_equal(sg_uplift_evaluate(xs, ts, ys, NULL, NS, NULL, &s_true, &err), SG_OK);
    sg_rng r;
    sg_rng_init(&r, 220);
    for (int i = 0; i < NS; i++) sc[i] = xs[i] + 1.5 * sg_rng_normal(&r);
    assert_int_equal(sg_uplift_evaluate(sc, ts, ys, NULL, NS, NULL, &s_noisy, &err), SG_OK);
    print_message("uplift_metrics-2.2: qini oracle %.4f true %.4f noisy %.4f; "
                  "auuc true %.4f noisy %.4f\n", s_or.qini_coef, s_true.qini_coef,
                  s_noisy.qini_coef, s_true.auuc, s_noisy.auuc);
    assert_true(s_true.qini_coef > s_noisy.qini_coef + 0.02 && s_noisy.qini_coef > 0.03);
    assert_true(s_true.auuc > s_noisy.auuc + 0.02 && s_noisy.auuc > 0.03);
    assert_true(s_true.qini_coef < 1 && s_true.auuc < 1);
    /* sklift's perfect uplift ordering scores 1 for the uplift curve */
    double cr = 0, tn = 0;
    for (int i = 0; i < NS; i++) {
        cr += !ts[i] && ys[i] == 1;
        tn += ts[i] && ys[i] == 0;
    }
    for (int i = 0; i < NS; i++)
        sc[i] = 2.0 * ((double)ts[i] == ys[i]) + (cr > tn ? ys[i] : (double)ts[i]);
    assert_int_equal(sg_uplift_evaluate(sc, ts, ys, NULL, NS, NULL, &s_or, &err), SG_OK);
    CLOSE(s_or.auuc, 1, 1e-12);
}

/* uplift_metrics-2.3: monotone transforms of the score change nothing, bit for bit; so
 * does shuffling rows (ties are groups, not orders) */
static void invariance(void **state)
{
    (void)state;
    synth(23);
    for (int i = 0; i < NS; i++) sc[i] = round(xs[i] * 100) / 100;   /* many ties */
    double q1[11], u1[11], q2[11], u2[11], a1, a2;
    sg_uplift_curves c1 = {10, q1, u1, NULL, NULL}, c2 = {10, q2, u2, NULL, NULL};
    sg_uplift_summary s1, s2;
    sg_error err;
    assert_int_equal(sg_uplift_evaluate(sc, ts, ys, NULL, NS, &c1, &s1, &err), SG_OK);
    assert_int_equal(sg_uplift_at_k(sc, ts, ys, NULL, NS, 0.3, &a1, &err), SG_OK);
    assert_true(s1.n_groups < NS / 20);
    for (int f = 0; f < 3; f++) {
        for (int i = 0; i < NS; i++)
            sc2[i] = f == 0 ? exp(sc[i]) : f == 1 ? 3 * sc[i] - 7 : atan(sc[i]);
        assert_int_equal(sg_uplift_evaluate(sc2, ts, ys, NULL, NS, &c2, &s2, &err), SG_OK);
        assert_int_equal(sg_uplift_at_k(sc2, ts, ys, NULL, NS, 0.3, &a2, &err), SG_OK);
        assert_memory_equal(&s1, &s2, sizeof s1);
        assert_memory_equal(q1, q2, sizeof q1);
        assert_memory_equal(u1, u2, sizeof u1);
        assert_true(a1 == a2);
    }
    /* reverse the rows: the same groups, so the same curves (up to summation order) */
    for (int i = 0; i < NS / 2; i++) {
        int j = NS - 1 - i;
        double d = sc[i];
        sc[i] = sc[j];
        sc[j] = d;
        d = ys[i];
        ys[i] = ys[j];
        ys[j] = d;
        int32_t t = ts[i];
        ts[i] = ts[j];
        ts[j] = t;
    }
    assert_int_equal(sg_uplift_evaluate(sc, ts, ys, NULL, NS, &c2, &s2, &err), SG_OK);
    CLOSE(s2.qini_coef, s1.qini_coef, 1e-12);
    CLOSE(s2.auuc, s1.auuc, 1e-12);
    for (int k = 0; k <= 10; k++) CLOSE(q2[k], q1[k], 1e-9);
}

/* uplift_metrics-2.4: integer weights equal duplicated rows */
static void weights(void **state)
{
    (void)state;
    enum { N = 300 };
    double s[3 * N], y[3 * N], w[N];
    int32_t t[3 * N];
    sg_rng r;
    sg_rng_init(&r, 24);
    int n = 0;
    for (int i = 0; i < N; i++) {
        s[i] = round(sg_rng_normal(&r) * 10) / 10;
        t[i] = (int32_t)sg_rng_below(&r, 2);
        y[i] = sg_rng_uniform(&r) < 0.3 + 0.1 * t[i] * s[i] ? 1 : 0;
        w[i] = (double)(1 + sg_rng_below(&r, 3));
    }
    n = N;
    for (int i = 0; i < N; i++)
        for (int k = 1; k < (int)w[i]; k++) {
            s[n] = s[i];
            t[n] = t[i];
            y[n] = y[i];
            n++;
        }
    sg_uplift_summary a, b;
    sg_error err;
    double ka, kb;
    assert_int_equal(sg_uplift_evaluate(s, t, y, w, N, NULL, &a, &err), SG_OK);
    assert_int_equal(sg_uplift_evaluate(s, t, y, NULL, n, NULL, &b, &err), SG_OK);
    CLOSE(a.qini_coef, b.qini_coef, 1e-12);
    CLOSE(a.auuc, b.auuc, 1e-12);
    CLOSE(a.qini_area, b.qini_area, 1e-9);
    CLOSE(a.w_treated + a.w_control, n, 1e-9);
    assert_int_equal(sg_uplift_at_k(s, t, y, w, N, 0.25, &ka, &err), SG_OK);
    assert_int_equal(sg_uplift_at_k(s, t, y, NULL, n, 0.25, &kb, &err), SG_OK);
    CLOSE(ka, kb, 1e-12);
}

/* uplift_metrics-3.1: bad input is SG_EINVAL naming the row; outputs untouched */
static void bad_input(void **state)
{
    (void)state;
    double s[6], y[6], w[6] = {1, 1, 1, 1, 1, 1};
    int32_t t[6];
    memcpy(s, S6, sizeof s);
    memcpy(y, Y6, sizeof y);
    memcpy(t, T6, sizeof t);
    sg_uplift_summary out;
    memset(&out, 0x77, sizeof out);
    sg_uplift_summary before = out;
    sg_error err;
    s[2] = NAN;
    assert_int_equal(sg_uplift_evaluate(s, t, y, NULL, 6, NULL, &out, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "row 2"));
    s[2] = 0.7;
    t[4] = 2;
    assert_int_equal(sg_uplift_evaluate(s, t, y, NULL, 6, NULL, &out, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "row 4"));
    t[4] = 1;
    w[5] = -1;
    assert_int_equal(sg_uplift_evaluate(s, t, y, w, 6, NULL, &out, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "row 5"));
    w[5] = 1;
    y[0] = INFINITY;
    assert_int_equal(sg_uplift_evaluate(s, t, y, w, 6, NULL, &out, &err), SG_EINVAL);
    y[0] = 1;
    for (int i = 0; i < 6; i++) t[i] = 1;   /* no control */
    assert_int_equal(sg_uplift_evaluate(s, t, y, w, 6, NULL, &out, &err), SG_EINVAL);
    assert_int_equal(sg_uplift_evaluate(s, t, y, w, 0, NULL, &out, &err), SG_EINVAL);
    memcpy(t, T6, sizeof t);
    sg_uplift_curves c = {0, NULL, NULL, NULL, NULL};
    assert_int_equal(sg_uplift_evaluate(s, t, y, w, 6, &c, &out, &err), SG_EINVAL);
    assert_memory_equal(&out, &before, sizeof out);
    /* no responses at all: every curve is 0, the normalised scores are NaN */
    for (int i = 0; i < 6; i++) y[i] = 0;
    assert_int_equal(sg_uplift_evaluate(s, t, y, w, 6, NULL, &out, &err), SG_OK);
    assert_true(isnan(out.qini_coef) && isnan(out.auuc));
    /* memory failures are clean */
    int64_t live = sg_mem_live_bytes();
    for (int k = 0; k < 4; k++) {
        sg_mem_fail_after(k);
        assert_int_equal(sg_uplift_evaluate(S6, T6, Y6, NULL, 6, NULL, &out, &err), SG_ENOMEM);
        sg_mem_fail_after(-1);
        assert_int_equal(sg_mem_live_bytes(), live);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hand_example),     cmocka_unit_test(reference_with_ties),
        cmocka_unit_test(uplift_at_k),      cmocka_unit_test(random_scores),
        cmocka_unit_test(perfect_ordering), cmocka_unit_test(invariance),
        cmocka_unit_test(weights),          cmocka_unit_test(bad_input),
    };
    return cmocka_run_group_tests_name("uplift_metrics", tests, NULL, NULL);
}

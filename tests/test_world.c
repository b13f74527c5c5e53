/* test_world.c -- the campaign world: truth, logging policy, draws, scores, errors.
 *
 * Reference values of the truth and the logging policy were computed with
 * bench/uplift_gen.py (truth(), logging_policy()) at three hand-picked
 * customers; the first is also worked by hand in world-truth.1. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "stratagem/error.h"
#include "stratagem/log.h"
#include "stratagem/mem.h"
#include "stratagem/rng.h"
#include "stratagem/table.h"
#include "stratagem/world.h"

enum { A = SG_WORLD_N_ARMS };

/* pp, inc, car, fire, age, single, npol */
static const sg_world_x PT[3] = {
    {4, 4, 0, 2, 2, 0, 0},   /* the average customer: only coupon10's "no car policy" term */
    {2, 2, 7, 5, 1, 5, 6},   /* young, single, low income, many policies */
    {7, 7, 0, 0, 3, 0, 4},   /* rich, 4 policies: email hurts */
};
static const double P_REF[3][A] = {
    {0.0691384203433468, 0.0758581800212435, 0.130108474362998, 0.119202922022118},
    {0.0772722021366598, 0.0970886409864989, 0.0970886409864989, 0.293177778906432},
    {0.106214991675176, 0.0345562302862765, 0.193098684233216, 0.106214991675176},
};
static const double MU_REF[3][A] = {
    {0.250701100990552, 0.275067453899318, 0.353837319492758, 0.216119370704653},
    {0.236390498106704, 0.297012788152611, 0.222759591114458, 0.448443549382353},
    {0.622420601990238, 0.20249975373603, 0.848669740884034, 0.311210300995119},
};
static const double PI_REF[3][A] = {
    {0.343913882981234, 0.290636334753299, 0.195953314868749, 0.169496467396718},
    {0.344807290641397, 0.375812444053547, 0.169859699845121, 0.109520565459936},
    {0.247172400654245, 0.211431108073843, 0.182168612683511, 0.359227878588401},
};

static const char *const COUNTS[21] = {
    "AWAPART", "AWABEDR",  "AWALAND", "APERSAUT", "ABESAUT", "AMOTSCO",  "AVRAAUT",
    "AAANHANG", "ATRACTOR", "AWERKT", "ABROM",    "ALEVEN",  "APERSONG", "AGEZONG",
    "AWAOREG", "ABRAND",   "AZEILPL", "APLEZIER", "AFIETS",  "AINBOED",  "ABYSTAND",
};

/* A CSV with the CoIL columns for customers x (n); npol is split over AWAPART
 * and ABYSTAND so that the sum over all 21 count columns is tested. */
static char *csv_of(const sg_world_x *x, int n, const char *skip)
{
    size_t cap = 4096 + (size_t)n * 256, len = 0;
    char *s = sg_malloc(cap);
    assert_non_null(s);
    const char *named[6] = {"MKOOPKLA", "MINKGEM", "PPERSAUT", "PBRAND", "MGEMLEEF", "MFALLEEN"};
    len += (size_t)snprintf(s + len, cap - len, "customer_id");
    for (int k = 0; k < 6; k++)
        if (!skip || strcmp(skip, named[k])) len += (size_t)snprintf(s + len, cap - len, ",%s",
                                                                     named[k]);
    for (int k = 0; k < 21; k++)
        if (!skip || strcmp(skip, COUNTS[k])) len += (size_t)snprintf(s + len, cap - len, ",%s",
                                                                      COUNTS[k]);
    len += (size_t)snprintf(s + len, cap - len, "\n");
    for (int i = 0; i < n; i++) {
        double v[6] = {x[i].pp, x[i].inc, x[i].car, x[i].fire, x[i].age, x[i].single};
        len += (size_t)snprintf(s + len, cap - len, "%d", i + 1);
        for (int k = 0; k < 6; k++)
            if (!skip || strcmp(skip, named[k])) len += (size_t)snprintf(s + len, cap - len,
                                                                         ",%g", v[k]);
        for (int k = 0; k < 21; k++) {
            double c = k == 0 ? floor(x[i].npol / 2) : k == 20 ? x[i].npol - floor(x[i].npol / 2)
                                                               : 0;
            if (!skip || strcmp(skip, COUNTS[k])) len += (size_t)snprintf(s + len, cap - len,
                                                                          ",%g", c);
        }
        len += (size_t)snprintf(s + len, cap - len, "\n");
    }
    return s;
}

/* n random customers over the ranges of the CoIL codes. */
static void random_pool(sg_rng *r, sg_world_x *x, int64_t *id, int n)
{
    for (int i = 0; i < n; i++) {
        x[i] = (sg_world_x){(double)(1 + sg_rng_below(r, 8)), (double)sg_rng_below(r, 10),
                            (double)sg_rng_below(r, 10), (double)sg_rng_below(r, 9),
                            (double)sg_rng_below(r, 6), (double)sg_rng_below(r, 10),
                            (double)sg_rng_below(r, 8)};
        id[i] = i + 1;
    }
}

/* ---------------------------------------------------------------------------
 * truth and logging policy */

/* world-truth.1: p and mu at three customers equal bench/uplift_gen.py's truth
 * (1e-12).  By hand for the first: z0 = -2.60, p_control = 1 / (1 + e^2.6) =
 * 0.069138; tau_coupon10 = 0.35 + 0.35 [car == 0] = 0.70; E[basket] =
 * 8 exp(0.125) = 9.065188, so mu_control = 0.069138 * 0.40 * 9.065188 = 0.250701 */
static void truth_points(void **state)
{
    (void)state;
    assert_true(fabs(1 / (1 + exp(2.6)) - 0.0691384203433468) < 1e-15);
    assert_true(fabs(0.0691384203433468 * 0.40 * 8 * exp(0.125) - 0.250701100990552) < 1e-12);
    for (int i = 0; i < 3; i++) {
        double p[A], mu[A];
        sg_world_truth(&PT[i], p, mu);
        for (int a = 0; a < A; a++) {
            assert_true(fabs(p[a] - P_REF[i][a]) < 1e-12);
            assert_true(fabs(mu[a] - MU_REF[i][a]) < 1e-12);
        }
    }
    double mu_only[A];
    sg_world_truth(&PT[0], NULL, mu_only);   /* either output may be NULL */
    assert_true(fabs(mu_only[2] - MU_REF[0][2]) < 1e-12);
}

/* world-truth.2: the structure: email hurts customers with >= 4 policies; the
 * margin rates; arm labels round-trip; out-of-range arms */
static void truth_structure(void **state)
{
    (void)state;
    double mu[A];
    sg_world_truth(&PT[2], NULL, mu);
    assert_true(mu[SG_WORLD_EMAIL] < mu[SG_WORLD_CONTROL]);
    sg_world_x x = PT[2];
    x.npol = 3;
    x.fire = 4;   /* tau_email = 0.10 + 0.05 (4 - 2) = 0.20 */
    sg_world_truth(&x, NULL, mu);
    assert_true(mu[SG_WORLD_EMAIL] > mu[SG_WORLD_CONTROL]);
    assert_true(sg_world_margin_rate(0) == 0.40 && sg_world_margin_rate(3) == 0.20);
    assert_true(isnan(sg_world_margin_rate(4)));
    for (int a = 0; a < A; a++) assert_int_equal(sg_world_arm_index(sg_world_arm_label(a)), a);
    assert_int_equal(sg_world_arm_index("coupon30"), -1);
    assert_int_equal(sg_world_arm_index(NULL), -1);
    assert_null(sg_world_arm_label(-1));
    assert_null(sg_world_arm_label(A));
}

/* world-logging.1: propensities at the three customers equal uplift_gen.py's;
 * over every combination of the codes the policy uses they sum to 1 and are
 * all >= 0.05 */
static void logging_policy(void **state)
{
    (void)state;
    double pi[A];
    for (int i = 0; i < 3; i++) {
        sg_world_logging(&PT[i], pi);
        for (int a = 0; a < A; a++) assert_true(fabs(pi[a] - PI_REF[i][a]) < 1e-12);
    }
    double lo = 1;
    for (int pp = 1; pp <= 8; pp++)
        for (int inc = 0; inc <= 9; inc++)
            for (int age = 0; age <= 5; age++) {
                sg_world_x x = {pp, inc, 0, 0, age, 0, 0};
                sg_world_logging(&x, pi);
                double s = 0;
                for (int a = 0; a < A; a++) {
                    s += pi[a];
                    lo = pi[a] < lo ? pi[a] : lo;
                    assert_true(pi[a] >= 0.05);
                }
                assert_true(fabs(s - 1) < 1e-12);
            }
    assert_true(lo > 0.05 && lo < 0.1);   /* the floor is approached, never crossed */
}

/* ---------------------------------------------------------------------------
 * covariates from a table */

/* world-covariates.1: the codes and npol (the sum of all 21 counts) are read */
static void covariates_read(void **state)
{
    (void)state;
    char *csv = csv_of(PT, 3, NULL);
    sg_table *t = NULL;
    sg_error err;
    assert_int_equal(sg_table_load_mem(&t, "pt.csv", csv, strlen(csv), NULL, &err), SG_OK);
    sg_world_x x[3];
    assert_int_equal(sg_world_covariates(t, x, &err), SG_OK);
    for (int i = 0; i < 3; i++) assert_memory_equal(&x[i], &PT[i], sizeof x[i]);
    sg_table_free(t);
    sg_free(csv);
}

/* world-covariates.2: errors name the file and the column (and the line) */
static void covariates_errors(void **state)
{
    (void)state;
    sg_table *t = NULL;
    sg_error err;
    sg_world_x x[3];
    const char *skip[] = {"MKOOPKLA", "MFALLEEN", "AWAPART", "ABYSTAND", "AINBOED"};
    for (int k = 0; k < 5; k++) {
        char *csv = csv_of(PT, 3, skip[k]);
        assert_int_equal(sg_table_load_mem(&t, "cust.csv", csv, strlen(csv), NULL, &err), SG_OK);
        assert_int_equal(sg_world_covariates(t, x, &err), SG_ENOTFOUND);
        char want[64];
        snprintf(want, sizeof want, "cust.csv: no column '%s'", skip[k]);
        assert_non_null(strstr(err.msg, want));
        sg_table_free(t);
        sg_free(csv);
    }
    /* a missing value: file, line and column */
    char *csv = csv_of(PT, 3, NULL);
    char *line3 = strchr(strchr(strchr(csv, '\n') + 1, '\n') + 1, '\n') + 1;   /* row 3 */
    char *c = strchr(line3, ',') + 1;                                         /* MKOOPKLA */
    char *e = strchr(c, ',');
    memmove(c, e, strlen(e) + 1);
    assert_int_equal(sg_table_load_mem(&t, "gap.csv", csv, strlen(csv), NULL, &err), SG_OK);
    assert_int_equal(sg_world_covariates(t, x, &err), SG_EPARSE);
    assert_non_null(strstr(err.msg, "gap.csv:4: column 'MKOOPKLA'"));
    sg_table_free(t);
    sg_free(csv);
    /* text where a code belongs */
    const char *txt = "id,MKOOPKLA\n1,high\n";
    assert_int_equal(sg_table_load_mem(&t, "txt.csv", txt, strlen(txt), NULL, &err), SG_OK);
    assert_int_equal(sg_world_covariates(t, x, &err), SG_EPARSE);
    assert_non_null(strstr(err.msg, "txt.csv: column 'MKOOPKLA'"));
    sg_table_free(t);
}

/* ---------------------------------------------------------------------------
 * samples, logs, outcomes */

/* world-sample.1: n <= pool: distinct rows, ids as given (base added); n > pool:
 * every row at least once, copy k of id s gets base + k * 10000 + s, all unique */
static void sample_ids(void **state)
{
    (void)state;
    enum { NS = 50 };
    int64_t src_id[NS], src[400], id[400];
    for (int i = 0; i < NS; i++) src_id[i] = 100 + i;
    sg_rng r;
    sg_rng_init(&r, 3);
    sg_error err;
    assert_int_equal(sg_world_sample(src_id, NS, 30, 0, &r, src, id, &err), SG_OK);
    int seen[NS] = {0};
    for (int k = 0; k < 30; k++) {
        assert_true(src[k] >= 0 && src[k] < NS);
        assert_int_equal(seen[src[k]]++, 0);
        assert_int_equal(id[k], src_id[src[k]]);
    }
    assert_int_equal(sg_world_sample(src_id, NS, 400, SG_WORLD_CUSTOMER_BASE, &r, src, id, &err),
                     SG_OK);
    int copies[NS] = {0};
    for (int k = 0; k < 400; k++) {
        if (k < NS) assert_int_equal(copies[src[k]], 0);   /* the first NS: a permutation */
        assert_int_equal(id[k], SG_WORLD_CUSTOMER_BASE + copies[src[k]]++ * SG_WORLD_ID_STRIDE +
                                    src_id[src[k]]);
        for (int j = 0; j < k; j++) assert_true(id[j] != id[k]);
    }
    for (int i = 0; i < NS; i++) assert_true(copies[i] >= 1);
    /* errors */
    src_id[7] = SG_WORLD_ID_STRIDE;
    assert_int_equal(sg_world_sample(src_id, NS, 10, 0, &r, src, id, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "pool row 8: id 10000"));
    assert_int_equal(sg_world_sample(src_id, 0, 10, 0, &r, src, id, &err), SG_EINVAL);
    assert_int_equal(sg_world_sample(src_id, NS, -1, 0, &r, src, id, &err), SG_EINVAL);
}

/* world-log.1: deterministic per seed, another seed differs; logged propensity
 * = the policy's pi of the logged arm; arm shares, mean conversion and mean
 * margin within bands of their expectations (20,000 rows: the bands are > 4
 * standard errors) */
static void log_draws(void **state)
{
    (void)state;
    enum { NS = 300, N = 20000 };
    sg_world_x x[NS];
    int64_t src_id[NS];
    sg_rng r;
    sg_rng_init(&r, 5);
    random_pool(&r, x, src_id, NS);
    sg_world_row *a = sg_malloc_array(N, sizeof *a), *b = sg_malloc_array(N, sizeof *b);
    assert_non_null(a);
    assert_non_null(b);
    sg_error err;
    assert_int_equal(sg_world_log(x, src_id, NS, N, 7, a, &err), SG_OK);
    assert_int_equal(sg_world_log(x, src_id, NS, N, 7, b, &err), SG_OK);
    for (int k = 0; k < N; k++)
        assert_true(a[k].src == b[k].src && a[k].id == b[k].id && a[k].arm == b[k].arm &&
                    a[k].propensity == b[k].propensity && a[k].converted == b[k].converted &&
                    a[k].margin == b[k].margin);
    assert_int_equal(sg_world_log(x, src_id, NS, N, 8, b, &err), SG_OK);
    int differ = 0;
    for (int k = 0; k < N; k++) differ += a[k].arm != b[k].arm || a[k].src != b[k].src;
    assert_true(differ > N / 2);

    double conv = 0, p_mean = 0, margin = 0, mu_mean = 0, share[A] = {0}, pi_mean[A] = {0};
    for (int k = 0; k < N; k++) {
        double pi[A], p[A], mu[A];
        sg_world_logging(&x[a[k].src], pi);
        sg_world_truth(&x[a[k].src], p, mu);
        assert_true(a[k].arm >= 0 && a[k].arm < A);
        assert_true(a[k].propensity == pi[a[k].arm]);
        assert_true(a[k].converted == 0 || a[k].converted == 1);
        assert_true(a[k].converted ? a[k].margin > 0 : a[k].margin == 0);
        conv += a[k].converted;
        p_mean += p[a[k].arm];
        margin += a[k].margin;
        mu_mean += mu[a[k].arm];
        share[a[k].arm] += 1.0 / N;
        for (int c = 0; c < A; c++) pi_mean[c] += pi[c] / N;
    }
    conv /= N, p_mean /= N, margin /= N, mu_mean /= N;
    assert_true(fabs(conv - p_mean) < 0.01);          /* se about 0.0025 */
    assert_true(fabs(margin - mu_mean) < 0.06);       /* se about 0.012 */
    for (int c = 0; c < A; c++) assert_true(fabs(share[c] - pi_mean[c]) < 0.015);
    sg_free(a);
    sg_free(b);
}

/* world-outcomes.1: deterministic per seed and customer id, whatever the order
 * of the plan; common random numbers: a customer converting under an arm also
 * converts under any arm with a higher p; mean conversion near the truth */
static void outcomes_draws(void **state)
{
    (void)state;
    enum { N = 20000 };
    sg_world_x *x = sg_malloc_array(N, sizeof *x);
    int64_t *id = sg_malloc_array(N, sizeof *id);
    int32_t *arm = sg_malloc_array(N, sizeof *arm);
    int *c0 = sg_malloc_array(N, sizeof *c0), *c1 = sg_malloc_array(N, sizeof *c1);
    double *m0 = sg_malloc_array(N, sizeof *m0), *m1 = sg_malloc_array(N, sizeof *m1);
    assert_true(x && id && arm && c0 && c1 && m0 && m1);
    sg_rng r;
    sg_rng_init(&r, 9);
    random_pool(&r, x, id, N);
    sg_error err;
    for (int k = 0; k < N; k++) arm[k] = SG_WORLD_CONTROL;
    assert_int_equal(sg_world_outcomes(x, id, arm, N, 4, c0, m0, &err), SG_OK);
    for (int k = 0; k < N; k++) arm[k] = SG_WORLD_COUPON20;
    assert_int_equal(sg_world_outcomes(x, id, arm, N, 4, c1, m1, &err), SG_OK);
    double conv = 0, p_mean = 0;
    for (int k = 0; k < N; k++) {
        double p[A];
        sg_world_truth(&x[k], p, NULL);
        if (p[3] >= p[0]) assert_true(c1[k] >= c0[k]);
        else assert_true(c1[k] <= c0[k]);
        conv += c1[k];
        p_mean += p[3];
    }
    assert_true(fabs(conv / N - p_mean / N) < 0.012);
    /* the last customer alone gets the same draw as within the whole plan */
    int c;
    double m;
    assert_int_equal(sg_world_outcomes(&x[N - 1], &id[N - 1], &arm[N - 1], 1, 4, &c, &m, &err),
                     SG_OK);
    assert_int_equal(c, c1[N - 1]);
    assert_true(m == m1[N - 1]);
    arm[3] = 4;
    assert_int_equal(sg_world_outcomes(x, id, arm, N, 4, c1, m1, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "plan row 4"));
    sg_free(x);
    sg_free(id);
    sg_free(arm);
    sg_free(c0);
    sg_free(c1);
    sg_free(m0);
    sg_free(m1);
}

/* ---------------------------------------------------------------------------
 * scores */

/* world-score.1: a hand-made plan on the three customers; the best plan
 * checked against all 4^3 plans within the budget */
static void score_hand_plan(void **state)
{
    (void)state;
    const double cost[A] = {0, 0.01, 0.02, 0.05};
    int32_t arm[3] = {SG_WORLD_COUPON10, SG_WORLD_COUPON20, SG_WORLD_CONTROL};
    sg_world_score s;
    sg_error err;
    assert_int_equal(sg_world_score_plan(PT, 3, arm, cost, 0.10, &s, &err), SG_OK);
    double eff = (MU_REF[0][2] - MU_REF[0][0]) + (MU_REF[1][3] - MU_REF[1][0]);
    assert_true(fabs(s.effect - eff) < 1e-12);
    assert_true(fabs(s.cost - 0.07) < 1e-12);
    assert_true(fabs(s.net - (eff - 0.07)) < 1e-12);
    double conv = (P_REF[0][2] - P_REF[0][0]) + (P_REF[1][3] - P_REF[1][0]);
    assert_true(fabs(s.conversions - conv) < 1e-12);
    assert_int_equal(s.count[0], 1);
    assert_int_equal(s.count[2], 1);
    assert_int_equal(s.count[3], 1);
    assert_int_equal(s.feasible, 1);
    /* brute force */
    double best = 0;
    for (int code = 0; code < A * A * A; code++) {
        int b[3] = {code % A, code / A % A, code / (A * A)};
        double v = 0, c = 0;
        for (int i = 0; i < 3; i++)
            if (b[i]) {
                v += MU_REF[i][b[i]] - MU_REF[i][0] - cost[b[i]];
                c += cost[b[i]];
            }
        if (c <= 0.10 + 1e-12 && v > best) best = v;
    }
    assert_true(fabs(s.best_net - best) < 1e-9);
    assert_true(fabs(s.share - s.net / best) < 1e-12);
    assert_true(s.best_cost <= 0.10 + 1e-12);
    assert_true(s.best_bound >= s.best_net - 1e-12);
    /* by hand: coupon10 for the first (0.1031 - 0.02), coupon20 for the second
     * (0.2121 - 0.05), coupon10 for the third (0.2262 - 0.02): cost 0.09 */
    assert_int_equal(s.best_count[2], 2);
    assert_int_equal(s.best_count[3], 1);

    /* over the budget: scored, but not feasible; nobody: net 0 */
    assert_int_equal(sg_world_score_plan(PT, 3, arm, cost, 0.05, &s, &err), SG_OK);
    assert_int_equal(s.feasible, 0);
    int32_t none[3] = {0, 0, 0};
    assert_int_equal(sg_world_score_plan(PT, 3, none, cost, 0.10, &s, &err), SG_OK);
    assert_true(s.net == 0 && s.effect == 0 && s.cost == 0 && s.share == 0);
}

/* world-score.2: bad input is SG_EINVAL naming what; allocation failures give
 * SG_ENOMEM and no leak */
static void score_errors(void **state)
{
    (void)state;
    double cost[A] = {0, 0.1, 0.1, 0.1};
    int32_t arm[3] = {0, 5, 0};
    sg_world_score s;
    sg_error err;
    assert_int_equal(sg_world_score_plan(PT, 3, arm, cost, 1, &s, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "plan row 2"));
    arm[1] = 1;
    cost[2] = -1;
    assert_int_equal(sg_world_score_plan(PT, 3, arm, cost, 1, &s, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "coupon10"));
    cost[2] = 0.1;
    assert_int_equal(sg_world_score_plan(PT, 3, arm, cost, NAN, &s, &err), SG_EINVAL);
    assert_int_equal(sg_world_score_plan(PT, 3, arm, cost, -1, &s, &err), SG_EINVAL);
    assert_int_equal(sg_world_score_plan(PT, 3, arm, cost, INFINITY, &s, &err), SG_OK);
    assert_int_equal(s.best_count[0], 0);   /* no budget: every customer gains from an arm */

    int ok = 0;
    for (int64_t k = 0; k < 40; k++) {
        int64_t live = sg_mem_live_bytes();
        sg_mem_fail_after(k);
        int rc = sg_world_score_plan(PT, 3, arm, cost, 0.2, &s, &err);
        sg_mem_fail_after(-1);
        assert_int_equal(sg_mem_live_bytes(), live);
        if (rc == SG_OK) ok = 1;
        else assert_int_equal(rc, SG_ENOMEM);
        sg_world_row rows[20];
        int64_t src_id[3] = {1, 2, 3};
        sg_mem_fail_after(k);
        rc = sg_world_log(PT, src_id, 3, 20, 1, rows, &err);
        sg_mem_fail_after(-1);
        assert_int_equal(sg_mem_live_bytes(), live);
        assert_true(rc == SG_OK || rc == SG_ENOMEM);
    }
    assert_true(ok);
}

int main(void)
{
    sg_log_set_level(SG_LOG_NONE);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(truth_points),     cmocka_unit_test(truth_structure),
        cmocka_unit_test(logging_policy),   cmocka_unit_test(covariates_read),
        cmocka_unit_test(covariates_errors), cmocka_unit_test(sample_ids),
        cmocka_unit_test(log_draws),        cmocka_unit_test(outcomes_draws),
        cmocka_unit_test(score_hand_plan),  cmocka_unit_test(score_errors),
    };
    return cmocka_run_group_tests_name("world", tests, NULL, NULL);
}

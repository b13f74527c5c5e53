/* world.c -- a semi-synthetic campaign with known truth on CoIL 2000 covariates.
 *
 * The formulas are those of bench/uplift_gen.py, restated in world.h; the
 * constants below carry the names of that file.  Everything is deterministic
 * for a seed: logs and planning sets use fixed sub-streams, the outcomes of a
 * plan one stream per customer id (common random numbers across plans).
 * See LICENSE for copyright. */
#include "stratagem/world.h"

#include <math.h>
#include <string.h>

#include "stratagem/assign.h"
#include "stratagem/mem.h"

#define VALUE_SIGMA 0.5
#define VALUE_LEVEL 8.0
#define BUDGET_RTOL 1e-9

static const char *const ARM_LABEL[SG_WORLD_N_ARMS] = {"control", "email", "coupon10",
                                                       "coupon20"};
static const double MARGIN_RATE[SG_WORLD_N_ARMS] = {0.40, 0.40, 0.30, 0.20};

/* The 21 policy counts whose sum is npol (AWAPART..ABYSTAND in the CoIL file). */
static const char *const COUNT_COLS[] = {
    "AWAPART", "AWABEDR",  "AWALAND", "APERSAUT", "ABESAUT", "AMOTSCO",  "AVRAAUT",
    "AAANHANG", "ATRACTOR", "AWERKT", "ABROM",    "ALEVEN",  "APERSONG", "AGEZONG",
    "AWAOREG", "ABRAND",   "AZEILPL", "APLEZIER", "AFIETS",  "AINBOED",  "ABYSTAND",
};
#define N_COUNT_COLS ((int)(sizeof COUNT_COLS / sizeof COUNT_COLS[0]))

const char *sg_world_arm_label(int a)
{
    return a >= 0 && a < SG_WORLD_N_ARMS ? ARM_LABEL[a] : NULL;
}

int sg_world_arm_index(const char *label)
{
    for (int a = 0; label && a < SG_WORLD_N_ARMS; a++)
        if (!strcmp(label, ARM_LABEL[a])) return a;
    return -1;
}

double sg_world_margin_rate(int a)
{
    return a >= 0 && a < SG_WORLD_N_ARMS ? MARGIN_RATE[a] : (double)NAN;
}

/* ---------------------------------------------------------------- covariates */

/* Values of the number column 'name' of t, or an error naming file and column. */
static int column(const sg_table *t, const char *name, const double **out, sg_error *err)
{
    int j = sg_table_find(t, name);
    if (j < 0)
        return sg_error_set(err, SG_ENOTFOUND, "%s: no column '%s' (the world needs the CoIL "
                            "2000 columns MKOOPKLA, MINKGEM, PPERSAUT, PBRAND, MGEMLEEF, "
                            "MFALLEEN and AWAPART..ABYSTAND)", sg_table_name(t), name);
    const double *v = sg_table_num(t, j);
    if (!v || sg_table_col_type(t, j) != SG_COL_NUMBER)
        return sg_error_set(err, SG_EPARSE, "%s: column '%s': expected numbers (a CoIL code), "
                            "got a %s column", sg_table_name(t), name,
                            sg_coltype_name(sg_table_col_type(t, j)));
    int64_t n = sg_table_n_rows(t);
    for (int64_t i = 0; i < n; i++)
        if (isnan(v[i]))
            return sg_error_set(err, SG_EPARSE, "%s:%lld: column '%s': expected a number, got "
                                "a missing value", sg_table_name(t),
                                (long long)sg_table_row_line(t, i), name);
    *out = v;
    return SG_OK;
}

int sg_world_covariates(const sg_table *t, sg_world_x *x, sg_error *err)
{
    static const char *const NAMED[] = {"MKOOPKLA", "MINKGEM", "PPERSAUT", "PBRAND",
                                        "MGEMLEEF", "MFALLEEN"};
    const double *v[6], *cnt[N_COUNT_COLS];
    int rc;
    for (int k = 0; k < 6; k++)
        if ((rc = column(t, NAMED[k], &v[k], err))) return rc;
    for (int k = 0; k < N_COUNT_COLS; k++)
        if ((rc = column(t, COUNT_COLS[k], &cnt[k], err))) return rc;
    int64_t n = sg_table_n_rows(t);
    for (int64_t i = 0; i < n; i++) {
        sg_world_x *xi = &x[i];
        xi->pp = v[0][i];
        xi->inc = v[1][i];
        xi->car = v[2][i];
        xi->fire = v[3][i];
        xi->age = v[4][i];
        xi->single = v[5][i];
        double s = 0;
        for (int k = 0; k < N_COUNT_COLS; k++) s += cnt[k][i];
        xi->npol = s;
    }
    return SG_OK;
}

/* ---------------------------------------------------------------- truth */

static double ind(int c) { return c ? 1.0 : 0.0; }

static double sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }

static double log_value_mean(const sg_world_x *x)
{
    return log(VALUE_LEVEL) + 0.10 * (x->pp - 4) + 0.06 * (x->inc - 4) + 0.15 * ind(x->car >= 6);
}

void sg_world_truth(const sg_world_x *x, double *p, double *mu)
{
    double z0 = -2.60 + 0.15 * (x->pp - 4) + 0.30 * ind(x->car >= 6) + 0.08 * (x->fire - 2) +
                0.06 * (x->inc - 4);
    double tau[SG_WORLD_N_ARMS];
    tau[SG_WORLD_CONTROL] = 0;
    tau[SG_WORLD_EMAIL] = 0.10 + 0.80 * ind(x->age <= 1) + 0.40 * ind(x->single >= 4) +
                          0.05 * (x->fire - 2) - 1.20 * ind(x->npol >= 4);
    tau[SG_WORLD_COUPON10] = 0.35 + 0.70 * ind(x->inc <= 3) + 0.35 * ind(x->car == 0) -
                             0.80 * ind(x->npol >= 5);
    tau[SG_WORLD_COUPON20] = 0.60 + 1.20 * ind(x->inc <= 3) + 0.60 * ind(x->pp <= 3) -
                             0.60 * ind(x->inc >= 6) - 0.80 * ind(x->npol >= 5);
    double ev = exp(log_value_mean(x) + 0.5 * VALUE_SIGMA * VALUE_SIGMA);
    for (int a = 0; a < SG_WORLD_N_ARMS; a++) {
        double pa = sigmoid(z0 + tau[a]);
        if (p) p[a] = pa;
        if (mu) mu[a] = pa * MARGIN_RATE[a] * ev;
    }
}

void sg_world_logging(const sg_world_x *x, double *pi)
{
    double s[SG_WORLD_N_ARMS] = {
        0.5,
        0.3 + 0.3 * ind(x->age <= 1),
        0.1 * (x->inc - 4) - 0.2,
        0.35 * (x->inc - 4) - 0.4 + 0.3 * ind(x->pp >= 6),
    };
    double mx = s[0], sum = 0;
    for (int a = 1; a < SG_WORLD_N_ARMS; a++) mx = s[a] > mx ? s[a] : mx;
    for (int a = 0; a < SG_WORLD_N_ARMS; a++) sum += (s[a] = exp(s[a] - mx));
    for (int a = 0; a < SG_WORLD_N_ARMS; a++) pi[a] = 0.05 + 0.80 * s[a] / sum;
}

void sg_world_draw(const sg_world_x *x, int a, sg_rng *rng, int *converted, double *margin)
{
    double p[SG_WORLD_N_ARMS];
    sg_world_truth(x, p, NULL);
    double u = sg_rng_uniform(rng), eps = sg_rng_normal(rng);
    int c = u < p[a];
    *converted = c;
    *margin = c ? MARGIN_RATE[a] * exp(log_value_mean(x) + VALUE_SIGMA * eps) : 0.0;
}

/* ---------------------------------------------------------------- samples */

int sg_world_sample(const int64_t *src_id, int64_t n_src, int64_t n, int64_t base, sg_rng *rng,
                    int64_t *src, int64_t *id, sg_error *err)
{
    if (n < 0) return sg_error_set(err, SG_EINVAL, "world: %lld rows asked for", (long long)n);
    if (n_src < 1) return sg_error_set(err, SG_EINVAL, "world: the pool of customers is empty");
    for (int64_t i = 0; i < n_src; i++)
        if (src_id[i] < 0 || src_id[i] >= SG_WORLD_ID_STRIDE)
            return sg_error_set(err, SG_EINVAL, "world: pool row %lld: id %lld is outside "
                                "0..%d (the CoIL ids are 1..9822)", (long long)(i + 1),
                                (long long)src_id[i], SG_WORLD_ID_STRIDE - 1);
    int64_t *perm = sg_malloc_array((size_t)n_src, sizeof *perm);
    int64_t *copies = sg_calloc((size_t)n_src, sizeof *copies);
    if (!perm || !copies) {
        sg_free(perm);
        sg_free(copies);
        return sg_error_set(err, SG_ENOMEM, "world: out of memory sampling %lld rows",
                            (long long)n);
    }
    for (int64_t i = 0; i < n_src; i++) perm[i] = i;
    /* n <= n_src: the first n steps of a Fisher-Yates shuffle draw without replacement */
    int64_t m = n < n_src ? n : n_src;
    for (int64_t k = 0; k < m; k++) {
        int64_t j = k + (int64_t)sg_rng_below(rng, (uint64_t)(n_src - k));
        int64_t tmp = perm[k];
        perm[k] = perm[j];
        perm[j] = tmp;
        src[k] = perm[k];
    }
    for (int64_t k = m; k < n; k++) src[k] = (int64_t)sg_rng_below(rng, (uint64_t)n_src);
    for (int64_t k = 0; k < n; k++)
        id[k] = base + copies[src[k]]++ * SG_WORLD_ID_STRIDE + src_id[src[k]];
    sg_free(perm);
    sg_free(copies);
    return SG_OK;
}

int sg_world_log(const sg_world_x *x, const int64_t *src_id, int64_t n_src, int64_t n,
                 uint64_t seed, sg_world_row *rows, sg_error *err)
{
    sg_rng root, s_log, s_rows, s_arm, s_y, s_v;
    sg_rng_init(&root, seed);
    sg_rng_split(&root, 1, &s_log);
    sg_rng_split(&s_log, 0, &s_rows);
    sg_rng_split(&s_log, 1, &s_arm);
    sg_rng_split(&s_log, 2, &s_y);
    sg_rng_split(&s_log, 3, &s_v);
    int64_t *src = sg_malloc_array((size_t)(n > 0 ? n : 1), sizeof *src);
    int64_t *id = sg_malloc_array((size_t)(n > 0 ? n : 1), sizeof *id);
    int rc = SG_OK;
    if (!src || !id) {
        rc = sg_error_set(err, SG_ENOMEM, "world: out of memory for a log of %lld rows",
                          (long long)n);
        goto fail;
    }
    if ((rc = sg_world_sample(src_id, n_src, n, 0, &s_rows, src, id, err))) goto fail;
    for (int64_t k = 0; k < n; k++) {
        const sg_world_x *xk = &x[src[k]];
        double pi[SG_WORLD_N_ARMS], p[SG_WORLD_N_ARMS];
        sg_world_logging(xk, pi);
        sg_world_truth(xk, p, NULL);
        /* the arm: the number of cumulative propensities below u (as uplift_gen.py) */
        double u = sg_rng_uniform(&s_arm), cum = 0;
        int a = 0;
        for (int b = 0; b < SG_WORLD_N_ARMS; b++) a += u > (cum += pi[b]);
        if (a > SG_WORLD_N_ARMS - 1) a = SG_WORLD_N_ARMS - 1;
        int conv = sg_rng_uniform(&s_y) < p[a];
        double basket = exp(log_value_mean(xk) + VALUE_SIGMA * sg_rng_normal(&s_v));
        rows[k] = (sg_world_row){.src = src[k], .id = id[k], .arm = a, .propensity = pi[a],
                                 .converted = conv, .margin = conv * MARGIN_RATE[a] * basket};
    }
fail:
    sg_free(src);
    sg_free(id);
    return rc;
}

int sg_world_customers(const int64_t *src_id, int64_t n_src, int64_t n, uint64_t seed,
                       int64_t *src, int64_t *id, sg_error *err)
{
    sg_rng root, s;
    sg_rng_init(&root, seed);
    sg_rng_split(&root, 2, &s);
    return sg_world_sample(src_id, n_src, n, SG_WORLD_CUSTOMER_BASE, &s, src, id, err);
}

int sg_world_outcomes(const sg_world_x *x, const int64_t *id, const int32_t *arm, int64_t n,
                      uint64_t seed, int *converted, double *margin, sg_error *err)
{
    for (int64_t k = 0; k < n; k++)
        if (arm[k] < 0 || arm[k] >= SG_WORLD_N_ARMS)
            return sg_error_set(err, SG_EINVAL, "world: plan row %lld: arm %d out of range",
                                (long long)(k + 1), (int)arm[k]);
    sg_rng root, s_out;
    sg_rng_init(&root, seed);
    sg_rng_split(&root, 3, &s_out);
    for (int64_t k = 0; k < n; k++) {
        sg_rng r;
        sg_rng_split(&s_out, (uint64_t)id[k], &r);
        sg_world_draw(&x[k], arm[k], &r, &converted[k], &margin[k]);
    }
    return SG_OK;
}

/* ---------------------------------------------------------------- score */

int sg_world_score_plan(const sg_world_x *x, int64_t n, const int32_t *arm,
                        const double *arm_cost, double budget, sg_world_score *out,
                        sg_error *err)
{
    enum { A = SG_WORLD_N_ARMS };
    for (int a = 1; a < A; a++)
        if (!isfinite(arm_cost[a]) || arm_cost[a] < 0)
            return sg_error_set(err, SG_EINVAL, "world: cost of '%s' must be a number >= 0",
                                ARM_LABEL[a]);
    if (isnan(budget) || budget < 0)
        return sg_error_set(err, SG_EINVAL, "world: the budget must be >= 0");
    for (int64_t i = 0; i < n; i++)
        if (arm[i] < 0 || arm[i] >= A)
            return sg_error_set(err, SG_EINVAL, "world: plan row %lld: arm %d out of range",
                                (long long)(i + 1), (int)arm[i]);
    size_t nn = (size_t)(n > 0 ? n : 1);
    double *gain = sg_malloc_array(nn * A, sizeof *gain);
    double *dp = sg_malloc_array(nn * A, sizeof *dp);
    int32_t *best = sg_malloc_array(nn, sizeof *best);
    int rc = SG_OK;
    if (!gain || !dp || !best) {
        rc = sg_error_set(err, SG_ENOMEM, "world: out of memory scoring %lld customers",
                          (long long)n);
        goto fail;
    }
    sg_world_score s;
    memset(&s, 0, sizeof s);
    s.n = n;
    for (int64_t i = 0; i < n; i++) {
        double p[A], mu[A];
        sg_world_truth(&x[i], p, mu);
        for (int a = 0; a < A; a++) {
            gain[i * A + a] = mu[a] - mu[0];
            dp[i * A + a] = p[a] - p[0];
        }
        int a = arm[i];
        s.count[a]++;
        if (a) {
            s.effect += gain[i * A + a];
            s.conversions += dp[i * A + a];
            s.cost += arm_cost[a];
        }
    }
    s.net = s.effect - s.cost;
    s.feasible = isinf(budget) || s.cost <= budget * (1 + BUDGET_RTOL);

    sg_assign_problem pr;
    sg_assign_problem_init(&pr);
    pr.N = n;
    pr.A = A;
    pr.gain = gain;
    pr.arm_cost = arm_cost;
    pr.budget = budget;
    sg_assign_stats st;
    if ((rc = sg_assign_solve(&pr, NULL, best, &st, err))) {
        sg_error_prefix(err, "world: the best plan: ");
        goto fail;
    }
    for (int64_t i = 0; i < n; i++) s.best_count[best[i]]++;
    s.best_effect = st.gain;
    s.best_cost = st.cost;
    s.best_net = st.value;
    s.best_bound = st.bound;
    s.share = s.best_net > 0 ? s.net / s.best_net : (double)NAN;
    *out = s;
fail:
    sg_free(gain);
    sg_free(dp);
    sg_free(best);
    return rc;
}

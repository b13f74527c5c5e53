/* ope.c -- off-policy estimators (IPS, SNIPS, DR) with bootstrap intervals.
 *
 * N = logged rows, A = arms, B = bootstrap resamples.  One pass computes the
 * per-row terms (weight w_i, w_i y_i, the policy's cost c_i and the DR term);
 * the estimates, their analytic standard errors and the B resamples are sums of
 * those terms.  Resamples run in parallel under OpenMP, each from its own
 * split rng stream, and land in fixed slots, so results are bit-identical for
 * any thread count.  See ope.h for the definitions.  See LICENSE for copyright. */
#include "stratagem/ope.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/ope_private.h"
#include "stratagem/mem.h"

#define PI_SUM_TOL 1e-6
#define PAR_MIN_DRAWS 4000000   /* resampled rows below which the bootstrap runs serially */

void sg_ope_options_default(sg_ope_options *o)
{
    o->n_boot = 1000;
    o->level = 0.9;
}

int sg_ope_validate(const sg_ope_log *g, const sg_ope_options *o, const sg_rng *rng,
                    sg_error *err)
{
    if (!g) return sg_error_set(err, SG_EINVAL, "ope: log is NULL");
    if (g->N < 1) return sg_error_set(err, SG_EINVAL, "ope: %lld rows, need >= 1", (long long)g->N);
    if (g->A < 1) return sg_error_set(err, SG_EINVAL, "ope: %d arms, need >= 1", g->A);
    if (!g->action || !g->outcome || !g->propensity || !g->pi)
        return sg_error_set(err, SG_EINVAL, "ope: 'action', 'outcome', 'propensity' and 'pi' are "
                            "required");
    if (g->N > INT64_MAX / g->A) return sg_error_set(err, SG_EINVAL, "ope: N x A too large");
    if (o->n_boot < 0 || !(o->level > 0 && o->level < 1))
        return sg_error_set(err, SG_EINVAL, "ope: n_boot = %d, level = %g: need n_boot >= 0 and "
                            "0 < level < 1", o->n_boot, o->level);
    if (o->n_boot > 0 && !rng)
        return sg_error_set(err, SG_EINVAL, "ope: the bootstrap needs an rng");
    int A = g->A;
    if (!g->cost && g->arm_cost)
        for (int a = 0; a < A; a++)
            if (!isfinite(g->arm_cost[a]))
                return sg_error_set(err, SG_EINVAL, "ope: arm %d: cost %g is not finite", a,
                                    g->arm_cost[a]);
    for (int64_t i = 0; i < g->N; i++) {
        int32_t a = g->action[i];
        double p = g->propensity[i], y = g->outcome[i];
        if (a < 0 || a >= A)
            return sg_error_set(err, SG_EINVAL, "ope: row %lld: action %d outside [0, %d)",
                                (long long)i, a, A);
        if (!(p > 0 && p <= 1))
            return sg_error_set(err, SG_EINVAL, "ope: row %lld: propensity %g outside (0, 1]",
                                (long long)i, p);
        if (!isfinite(y))
            return sg_error_set(err, SG_EINVAL, "ope: row %lld: outcome %g is not finite",
                                (long long)i, y);
        double s = 0;
        for (int b = 0; b < A; b++) {
            double q = g->pi[i * A + b];
            if (!(q >= 0 && q <= 1))
                return sg_error_set(err, SG_EINVAL, "ope: row %lld, arm %d: policy probability %g "
                                    "outside [0, 1]", (long long)i, b, q);
            s += q;
            if (g->mu && !isfinite(g->mu[i * A + b]))
                return sg_error_set(err, SG_EINVAL, "ope: row %lld, arm %d: prediction %g is not "
                                    "finite", (long long)i, b, g->mu[i * A + b]);
            if (g->cost && !isfinite(g->cost[i * A + b]))
                return sg_error_set(err, SG_EINVAL, "ope: row %lld, arm %d: cost %g is not finite",
                                    (long long)i, b, g->cost[i * A + b]);
        }
        if (fabs(s - 1) > PI_SUM_TOL)
            return sg_error_set(err, SG_EINVAL, "ope: row %lld: policy probabilities sum to %.9g, "
                                "not 1", (long long)i, s);
    }
    return SG_OK;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

void sg_ope_summarise(double *v, int n, double level, sg_ope_estimate *e)
{
    if (n == 0) {
        e->lo = e->hi = e->se_boot = NAN;
        return;
    }
    double m = 0, s2 = 0;
    for (int b = 0; b < n; b++) m += v[b];
    m /= n;
    for (int b = 0; b < n; b++) s2 += (v[b] - m) * (v[b] - m);
    e->se_boot = n > 1 ? sqrt(s2 / (n - 1)) : 0.0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    double q[2] = {(1 - level) / 2, (1 + level) / 2}, r[2];
    for (int k = 0; k < 2; k++) {
        double h = (n - 1) * q[k];
        int j = (int)floor(h);
        if (j >= n - 1) {
            r[k] = v[n - 1];
        } else {
            r[k] = v[j] + (h - j) * (v[j + 1] - v[j]);
        }
    }
    e->lo = r[0];
    e->hi = r[1];
}

#define BOOT_BATCH 32   /* bootstrap draws prefetched together */

void sg_ope_boot_sums(const double *t, int64_t N, int K, int B, sg_rng *rng, double *sums)
{
    /* threads only pay for themselves on big jobs */
    int par = (int64_t)B * N >= PAR_MIN_DRAWS;
    (void)par;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (par)
#endif
    for (int b = 0; b < B; b++) {
        sg_rng s;
        sg_rng_split(rng, (uint64_t)b, &s);
        double *q = sums + (int64_t)b * K;
        for (int k = 0; k < K; k++) q[k] = 0;
        /* the draws of a batch first, their rows prefetched, then summed in
         * the order drawn: the same sums, without waiting on each miss */
        int64_t idx[BOOT_BATCH];
        for (int64_t i0 = 0; i0 < N; i0 += BOOT_BATCH) {
            int nb = (int)(N - i0 < BOOT_BATCH ? N - i0 : BOOT_BATCH);
            for (int j = 0; j < nb; j++) {
                idx[j] = (int64_t)sg_rng_below(&s, (uint64_t)N);
                PREFETCH_READ(t + idx[j] * K);
            }
            for (int j = 0; j < nb; j++) {
                const double *ti = t + idx[j] * K;
                for (int k = 0; k < K; k++) q[k] += ti[k];
            }
        }
    }
    if (B > 0) sg_rng_u64(rng);
}

int sg_ope_evaluate(const sg_ope_log *g, const sg_ope_options *opt, sg_rng *rng,
                    sg_ope_result *out, sg_error *err)
{
    sg_ope_options o;
    if (opt) o = *opt;
    else sg_ope_options_default(&o);
    int rc = sg_ope_validate(g, &o, rng, err);
    if (rc != SG_OK) return rc;
    int64_t N = g->N;
    int A = g->A;
    int B = o.n_boot;
    int has_dr = g->mu != NULL;
    /* (N, K) per-row terms: w_i, w_i y_i, the policy's cost c_i, the net DR term */
    enum { W, WY, C, DR, K };
    double *t = sg_malloc_array((size_t)N * K, sizeof *t);
    double *rep = sg_malloc_array((size_t)3 * B + 1, sizeof *rep);  /* (3, B) replicates */
    double *sums = sg_malloc_array((size_t)B * K + 1, sizeof *sums); /* (B, K) */
    rc = SG_ENOMEM;
    if (!t || !rep || !sums) {
        sg_error_set(err, rc, "ope: out of memory for %lld rows", (long long)N);
        goto fail;
    }

    /* per-row terms and their sums */
    sg_ope_result r;
    memset(&r, 0, sizeof r);
    double sw = 0, sw2 = 0, swy = 0, sc = 0, sdr = 0;
    for (int64_t i = 0; i < N; i++) {
        const double *pi = g->pi + i * A;
        double *ti = t + i * K;
        int a = g->action[i];
        double y = g->outcome[i];
        double w = pi[a] / g->propensity[i];
        double ci = 0;
        if (g->cost || g->arm_cost)
            for (int b = 0; b < A; b++)
                ci += pi[b] * (g->cost ? g->cost[i * A + b] : g->arm_cost[b]);
        ti[W] = w;
        ti[WY] = w * y;
        ti[C] = ci;
        ti[DR] = 0;
        if (has_dr) {
            const double *mu = g->mu + i * A;
            double d = 0;
            for (int b = 0; b < A; b++) d += pi[b] * mu[b];
            ti[DR] = d + w * (y - mu[a]) - ci;
            sdr += ti[DR];
        }
        sw += w;
        sw2 += w * w;
        swy += ti[WY];
        sc += ci;
        if (w > r.max_weight) r.max_weight = w;
        if (w > 0) r.n_match++;
    }
    double n = (double)N, cbar = sc / n;
    r.mean_weight = sw / n;
    r.ess = sw2 > 0 ? sw * sw / sw2 : 0.0;
    r.policy_cost = cbar;
    r.n_boot = B;
    r.level = o.level;
    r.ips.value = (swy - sc) / n;
    double v_sn = sw > 0 ? swy / sw : swy / n;   /* gross SNIPS; = IPS (0) when all w = 0 */
    r.snips.value = v_sn - cbar;
    r.dr.value = has_dr ? sdr / n : (double)NAN;

    /* analytic standard errors: sd of the per-row (influence) terms / sqrt(N) */
    double e_ips = 0, e_sn = 0, e_dr = 0;
    for (int64_t i = 0; i < N; i++) {
        const double *ti = t + i * K;
        double u = ti[WY] - ti[C] - r.ips.value;
        e_ips += u * u;
        double phi = sw > 0 ? (ti[WY] - ti[W] * v_sn) / (sw / n) - (ti[C] - cbar) : u;
        e_sn += phi * phi;
        if (has_dr) e_dr += (ti[DR] - r.dr.value) * (ti[DR] - r.dr.value);
    }
    double dof = N > 1 ? n * (n - 1) : (double)NAN;
    r.ips.se = sqrt(e_ips / dof);
    r.snips.se = sqrt(e_sn / dof);
    r.dr.se = has_dr ? sqrt(e_dr / dof) : (double)NAN;

    /* bootstrap: resample b uses its own stream, so slots are thread-independent */
    double *rb_ips = rep, *rb_sn = rep + B, *rb_dr = rep + 2 * (int64_t)B;
    sg_ope_boot_sums(t, N, K, B, rng, sums);
    for (int b = 0; b < B; b++) {
        const double *q = sums + (int64_t)b * K;
        rb_ips[b] = (q[WY] - q[C]) / n;
        rb_sn[b] = (q[W] > 0 ? q[WY] / q[W] : q[WY] / n) - q[C] / n;
        rb_dr[b] = q[DR] / n;
    }
    sg_ope_summarise(rb_ips, B, o.level, &r.ips);
    sg_ope_summarise(rb_sn, B, o.level, &r.snips);
    if (has_dr) {
        sg_ope_summarise(rb_dr, B, o.level, &r.dr);
    } else {
        r.dr.lo = r.dr.hi = r.dr.se_boot = NAN;
    }
    *out = r;
    rc = SG_OK;
fail:
    sg_free(t);
    sg_free(rep);
    sg_free(sums);
    return rc;
}

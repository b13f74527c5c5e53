/* uplift_metrics.c -- Qini and uplift curves, their normalised areas, uplift@k.
 *
 * N = rows, G = distinct scores (groups), K = sampled curve points.  Rows are
 * sorted once by (score descending, row ascending); one pass accumulates the
 * weighted treated/control counts and outcome sums and emits a curve point at
 * the end of every tied group.  The perfect curves are the same pass over the
 * oracle scores of uplift_metrics.h.  Definitions and references there.
 * See LICENSE for copyright. */
#include "stratagem/uplift_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stratagem/mem.h"

typedef struct keyed {
    double s;      /* score */
    int64_t i;     /* row */
} keyed;

static int keyed_cmp(const void *x, const void *y)
{
    const keyed *a = x, *b = y;
    if (a->s > b->s) return -1;
    if (a->s < b->s) return 1;
    return (a->i > b->i) - (a->i < b->i);
}

/* Checks the rows; on success sets the treated and control weight totals. */
static int validate(const double *score, const int32_t *treat, const double *y, const double *w,
                    int64_t N, double *wt, double *wc, sg_error *err)
{
    if (N < 1) return sg_error_set(err, SG_EINVAL, "uplift: %lld rows, need >= 1", (long long)N);
    if (!score || !treat || !y)
        return sg_error_set(err, SG_EINVAL, "uplift: 'score', 'treat' and 'y' are required");
    double t1 = 0, t0 = 0;
    for (int64_t i = 0; i < N; i++) {
        if (!isfinite(score[i]))
            return sg_error_set(err, SG_EINVAL, "uplift: row %lld: score %g is not finite",
                                (long long)i, score[i]);
        if (treat[i] != 0 && treat[i] != 1)
            return sg_error_set(err, SG_EINVAL, "uplift: row %lld: treatment %d is not 0 or 1",
                                (long long)i, treat[i]);
        if (!isfinite(y[i]))
            return sg_error_set(err, SG_EINVAL, "uplift: row %lld: outcome %g is not finite",
                                (long long)i, y[i]);
        double wi = w ? w[i] : 1.0;
        if (!isfinite(wi) || wi < 0)
            return sg_error_set(err, SG_EINVAL, "uplift: row %lld: weight %g must be finite and "
                                ">= 0", (long long)i, wi);
        if (treat[i]) t1 += wi;
        else t0 += wi;
    }
    if (!(t1 > 0) || !(t0 > 0))
        return sg_error_set(err, SG_EINVAL, "uplift: need treated and control rows with weight "
                            "(treated %g, control %g)", t1, t0);
    *wt = t1;
    *wc = t0;
    return SG_OK;
}

/* Curve points at group ends: x (share of weight), q (Qini), u (uplift), each
 * (G + 1) with the origin first.  Returns G. */
static int64_t curve_points(const keyed *k, int64_t N, const int32_t *treat, const double *y,
                            const double *w, double wtot, double *x, double *q, double *u)
{
    double nt = 0, nc = 0, yt = 0, yc = 0;
    int64_t g = 0;
    x[0] = q[0] = u[0] = 0;
    for (int64_t j = 0; j < N; j++) {
        int64_t i = k[j].i;
        double wi = w ? w[i] : 1.0;
        if (treat[i]) {
            nt += wi;
            yt += wi * y[i];
        } else {
            nc += wi;
            yc += wi * y[i];
        }
        if (j + 1 < N && k[j + 1].s == k[j].s) continue;
        g++;
        x[g] = (nt + nc) / wtot;
        q[g] = yt - (nc > 0 ? yc * nt / nc : 0.0);
        u[g] = ((nt > 0 ? yt / nt : 0.0) - (nc > 0 ? yc / nc : 0.0)) * (nt + nc);
    }
    x[g] = 1.0;   /* exactly, whatever the summation order */
    return g;
}

/* Trapezoid area under v over x in [0, 1], minus the random line's area. */
static double area_above_random(const double *x, const double *v, int64_t G)
{
    double a = 0;
    for (int64_t g = 1; g <= G; g++) a += (x[g] - x[g - 1]) * (v[g] + v[g - 1]) / 2;
    return a - v[G] / 2;
}

/* The piecewise-linear curve at x = k / K, k = 0..K, into out (K + 1). */
static void sample(const double *x, const double *v, int64_t G, int K, double *out)
{
    if (!out) return;
    int64_t j = 1;
    out[0] = 0;
    for (int k = 1; k <= K; k++) {
        double xk = (double)k / K;
        while (j < G && x[j] < xk) j++;
        double dx = x[j] - x[j - 1];
        out[k] = dx > 0 ? v[j - 1] + (xk - x[j - 1]) / dx * (v[j] - v[j - 1]) : v[j];
    }
    out[K] = v[G];
}

static int sort_rows(keyed **out, const double *score, int64_t N, sg_error *err)
{
    keyed *k = sg_malloc_array((size_t)N, sizeof *k);
    if (!k)
        return sg_error_set(err, SG_ENOMEM, "uplift: out of memory for %lld rows", (long long)N);
    for (int64_t i = 0; i < N; i++) {
        k[i].s = score[i];
        k[i].i = i;
    }
    qsort(k, (size_t)N, sizeof *k, keyed_cmp);
    *out = k;
    return SG_OK;
}

int sg_uplift_evaluate(const double *score, const int32_t *treat, const double *y,
                       const double *w, int64_t N, const sg_uplift_curves *curves,
                       sg_uplift_summary *out, sg_error *err)
{
    double wt, wc;
    int rc = validate(score, treat, y, w, N, &wt, &wc, err);
    if (rc != SG_OK) return rc;
    if (curves && curves->K < 1)
        return sg_error_set(err, SG_EINVAL, "uplift: curves with K = %d points, need >= 1",
                            curves->K);
    keyed *k = NULL;
    double *x = sg_malloc_array((size_t)N + 1, sizeof *x);
    double *q = sg_malloc_array((size_t)N + 1, sizeof *q);
    double *u = sg_malloc_array((size_t)N + 1, sizeof *u);
    if (!x || !q || !u) {
        rc = sg_error_set(err, SG_ENOMEM, "uplift: out of memory for %lld rows", (long long)N);
        goto fail;
    }
    rc = sort_rows(&k, score, N, err);
    if (rc != SG_OK) goto fail;

    sg_uplift_summary s;
    memset(&s, 0, sizeof s);
    double wtot = wt + wc;
    int64_t G = curve_points(k, N, treat, y, w, wtot, x, q, u);
    s.n_groups = G;
    s.qini_area = area_above_random(x, q, G);
    s.uplift_area = area_above_random(x, u, G);
    s.qini_end = q[G];
    s.uplift_end = u[G];
    s.w_treated = wt;
    s.w_control = wc;
    s.ate = u[G] / wtot;
    if (curves) {
        sample(x, q, G, curves->K, curves->qini);
        sample(x, u, G, curves->K, curves->uplift);
    }

    /* perfect Qini: treated responders first, control responders last */
    for (int64_t j = 0; j < N; j++) {
        int64_t i = j;
        k[j].i = i;
        k[j].s = treat[i] ? y[i] : -y[i];
    }
    qsort(k, (size_t)N, sizeof *k, keyed_cmp);
    G = curve_points(k, N, treat, y, w, wtot, x, q, u);
    s.qini_area_perfect = area_above_random(x, q, G);
    if (curves) sample(x, q, G, curves->K, curves->qini_perfect);

    /* perfect uplift curve: sklift's ordering for 0/1 outcomes, else by (2t-1)(y - mean) */
    int binary = 1;
    double cr = 0, tn = 0, ybar = 0;
    for (int64_t i = 0; i < N; i++) {
        double wi = w ? w[i] : 1.0;
        if (y[i] != 0 && y[i] != 1) binary = 0;
        if (!treat[i] && y[i] == 1) cr += wi;
        if (treat[i] && y[i] == 0) tn += wi;
        ybar += wi * y[i];
    }
    ybar /= wtot;
    for (int64_t i = 0; i < N; i++) {
        k[i].i = i;
        if (binary) {
            double summand = cr > tn ? y[i] : (double)treat[i];
            k[i].s = 2.0 * ((double)treat[i] == y[i]) + summand;
        } else {
            k[i].s = (treat[i] ? 1.0 : -1.0) * (y[i] - ybar);
        }
    }
    qsort(k, (size_t)N, sizeof *k, keyed_cmp);
    G = curve_points(k, N, treat, y, w, wtot, x, q, u);
    s.uplift_area_perfect = area_above_random(x, u, G);
    if (curves) sample(x, u, G, curves->K, curves->uplift_perfect);

    s.qini_coef = s.qini_area_perfect != 0 ? s.qini_area / s.qini_area_perfect : (double)NAN;
    s.auuc = s.uplift_area_perfect != 0 ? s.uplift_area / s.uplift_area_perfect : (double)NAN;
    *out = s;
    rc = SG_OK;
fail:
    sg_free(k);
    sg_free(x);
    sg_free(q);
    sg_free(u);
    return rc;
}

int sg_uplift_at_k(const double *score, const int32_t *treat, const double *y, const double *w,
                   int64_t N, double k, double *out, sg_error *err)
{
    double wt, wc;
    int rc = validate(score, treat, y, w, N, &wt, &wc, err);
    if (rc != SG_OK) return rc;
    if (!(k > 0 && k <= 1))
        return sg_error_set(err, SG_EINVAL, "uplift@k: k = %g outside (0, 1]", k);
    keyed *key = NULL;
    rc = sort_rows(&key, score, N, err);
    if (rc != SG_OK) return rc;
    double wtot = wt + wc, target = k * wtot, eps = 1e-12 * wtot;
    double nt = 0, nc = 0, yt = 0, yc = 0, taken = 0;
    int64_t j = 0;
    while (j < N && target - taken > eps) {
        /* one tied group */
        double gt = 0, gc = 0, gyt = 0, gyc = 0;
        int64_t j0 = j;
        for (; j < N && key[j].s == key[j0].s; j++) {
            int64_t i = key[j].i;
            double wi = w ? w[i] : 1.0;
            if (treat[i]) {
                gt += wi;
                gyt += wi * y[i];
            } else {
                gc += wi;
                gyc += wi * y[i];
            }
        }
        double gw = gt + gc;
        double f = taken + gw <= target + eps ? 1.0 : (target - taken) / gw;
        nt += f * gt;
        nc += f * gc;
        yt += f * gyt;
        yc += f * gyc;
        taken += f * gw;
    }
    *out = nt > 0 && nc > 0 ? yt / nt - yc / nc : (double)NAN;
    sg_free(key);
    return SG_OK;
}

/* metrics.c -- AUC, log-loss, RMSE, top-k hits and calibration bins.
 *
 * Sorting uses an index array ordered by (score desc, index asc), so every
 * metric is deterministic for tied scores. See LICENSE. */
#include "stratagem/metrics.h"

#include <math.h>
#include <stdlib.h>

#include "stratagem/mem.h"

/* qsort has no context argument in C11: sort (score, index) pairs instead. */
typedef struct { double s; int64_t i; } scored;

static int cmp_desc(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->s > y->s) return -1;
    if (x->s < y->s) return 1;
    return (x->i > y->i) - (x->i < y->i);
}

static scored *sorted_desc(const double *score, int64_t N)
{
    scored *v = sg_malloc_array((size_t)N, sizeof *v);
    if (!v) return NULL;
    for (int64_t i = 0; i < N; i++) {
        v[i].s = isnan(score[i]) ? -(double)INFINITY : score[i];
        v[i].i = i;
    }
    qsort(v, (size_t)N, sizeof *v, cmp_desc);
    return v;
}

double sg_auc(const double *score, const float *y, const float *w, int64_t N)
{
    scored *v = sorted_desc(score, N);
    if (!v) return (double)NAN;
    /* Walk groups of tied scores from the top: each negative in a group beats
     * nothing above it; pairs inside a group count one half. */
    double pos = 0, neg = 0, area = 0;
    for (int64_t a = 0; a < N;) {
        int64_t b = a;
        double gp = 0, gn = 0;
        while (b < N && v[b].s == v[a].s) {
            int64_t i = v[b].i;
            double wi = w ? (double)w[i] : 1.0;
            if (y[i] > 0.5f) gp += wi; else gn += wi;
            b++;
        }
        area += gn * pos + 0.5 * gn * gp;
        pos += gp;
        neg += gn;
        a = b;
    }
    sg_free(v);
    if (pos == 0 || neg == 0) return (double)NAN;
    return area / (pos * neg);
}

double sg_logloss(const double *p, const float *y, const float *w, int64_t N)
{
    double s = 0, sw = 0;
    for (int64_t i = 0; i < N; i++) {
        double q = p[i] < 1e-15 ? 1e-15 : p[i] > 1 - 1e-15 ? 1 - 1e-15 : p[i];
        double wi = w ? (double)w[i] : 1.0;
        s -= wi * (y[i] > 0.5f ? log(q) : log(1 - q));
        sw += wi;
    }
    return sw > 0 ? s / sw : (double)NAN;
}

double sg_rmse(const double *pred, const float *y, const float *w, int64_t N)
{
    double s = 0, sw = 0;
    for (int64_t i = 0; i < N; i++) {
        double wi = w ? (double)w[i] : 1.0, d = pred[i] - (double)y[i];
        s += wi * d * d;
        sw += wi;
    }
    return sw > 0 ? sqrt(s / sw) : (double)NAN;
}

double sg_mae(const double *pred, const float *y, const float *w, int64_t N)
{
    double s = 0, sw = 0;
    for (int64_t i = 0; i < N; i++) {
        double wi = w ? (double)w[i] : 1.0;
        s += wi * fabs(pred[i] - (double)y[i]);
        sw += wi;
    }
    return sw > 0 ? s / sw : (double)NAN;
}

double sg_r2(const double *pred, const float *y, const float *w, int64_t N)
{
    double sw = 0, sy = 0;
    for (int64_t i = 0; i < N; i++) {
        double wi = w ? (double)w[i] : 1.0;
        sw += wi;
        sy += wi * (double)y[i];
    }
    if (sw <= 0) return (double)NAN;
    double mean = sy / sw, sse = 0, sst = 0;
    for (int64_t i = 0; i < N; i++) {
        double wi = w ? (double)w[i] : 1.0, d = pred[i] - (double)y[i], e = (double)y[i] - mean;
        sse += wi * d * d;
        sst += wi * e * e;
    }
    return sst > 0 ? 1 - sse / sst : (double)NAN;
}

int64_t sg_topk(const double *score, int64_t N, int64_t k, int64_t *idx)
{
    if (k > N) k = N;
    if (k <= 0) return 0;
    scored *v = sorted_desc(score, N);
    if (!v) return SG_ENOMEM;
    for (int64_t r = 0; r < k; r++) idx[r] = v[r].i;
    sg_free(v);
    return k;
}

double sg_hits_at_k(const double *score, const float *y, int64_t N, int64_t k)
{
    if (k > N) k = N;
    scored *v = sorted_desc(score, N);
    if (!v) return (double)NAN;
    double h = 0;
    for (int64_t r = 0; r < k; r++) h += (double)y[v[r].i];
    sg_free(v);
    return h;
}

int sg_calibration(const double *pred, const float *y, int64_t N, int n_bins, double *mean_pred,
                   double *mean_obs, int64_t *count, sg_error *err)
{
    if (n_bins < 1) return sg_error_set(err, SG_EINVAL, "calibration needs at least one bin");
    scored *v = sorted_desc(pred, N);
    if (!v && N > 0) return sg_error_set(err, SG_ENOMEM, "out of memory in calibration");
    for (int b = 0; b < n_bins; b++) {
        mean_pred[b] = mean_obs[b] = 0;
        count[b] = 0;
    }
    /* bins in increasing order of prediction: bin 0 holds the lowest scores */
    for (int64_t r = 0; r < N; r++) {
        int64_t i = v[N - 1 - r].i;
        int b = (int)(r * n_bins / N);
        mean_pred[b] += pred[i];
        mean_obs[b] += (double)y[i];
        count[b]++;
    }
    for (int b = 0; b < n_bins; b++) {
        if (count[b]) {
            mean_pred[b] /= (double)count[b];
            mean_obs[b] /= (double)count[b];
        }
    }
    sg_free(v);
    return SG_OK;
}

double sg_ece(const double *mean_pred, const double *mean_obs, const int64_t *count, int n_bins)
{
    double s = 0, n = 0;
    for (int b = 0; b < n_bins; b++) {
        s += (double)count[b] * fabs(mean_pred[b] - mean_obs[b]);
        n += (double)count[b];
    }
    return n > 0 ? s / n : (double)NAN;
}

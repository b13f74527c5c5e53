/* synth.c -- synthetic tables: the column transformer, training-by-sampling, and
 * the model behind synth.h (split, early stopping, sampling, report, files).
 *
 * C = columns, n = rows, Dd = encoded row width, Cc = conditional vector width.
 *
 * The transformer follows CTGAN (Xu et al. 2019): a continuous column is
 * represented by the mode of a 1-D Gaussian mixture a value falls in (a one-hot)
 * and its offset from that mode's mean in units of 4 sd (a tanh output); a
 * discrete or category column by the one-hot of its level.  Conditional vectors
 * pick one discrete/category column uniformly and one of its levels with
 * probability proportional to log(1 + count) during training (so rare levels are
 * learned), and to the count itself when generating (so the output keeps the real
 * frequencies).  The real rows shown to the critic are drawn among the rows with
 * the chosen level ("training-by-sampling").
 *
 * The model keeps bounded samples of the real training and hold-out rows (frame
 * coding, fidelity.h) for the report; the networks live in ctgan.c and tvae.c.
 * See LICENSE for copyright. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "io/serial.h"
#include "nn/nn_private.h"
#include "stratagem/fidelity.h"
#include "stratagem/log.h"
#include "stratagem/mem.h"
#include "stratagem/model.h"
#include "stratagem/synth.h"
#include "synth_private.h"

#define SYNTH_MAGIC 0x59534753u   /* "SGSY" little-endian */
#ifndef TVAE_TARGET_WEIGHT
#define TVAE_TARGET_WEIGHT 30.0f  /* the TVAE's weight on its target's reconstruction term */
#endif
#ifndef TVAE_AUX_PER_COL
#define TVAE_AUX_PER_COL 0.035f   /* the conditional TVAE's auxiliary classifier weighs this
                                   * times the columns (its reconstruction loss is a sum
                                   * over columns): 3 on CoIL, 0.49 on income */
#endif
#ifndef TVAE_COND
#define TVAE_COND 1               /* the TVAE's decoder is conditioned on its target */
#endif
#define SYNTH_VERSION 3u   /* 2: the target share; 3: the conditional TVAE (2 still loads) */
#define GMM_SAMPLE 20000          /* values a mixture is fitted on, at most */
#define MAX_NAME 4096
#define MAX_COLS 100000
#define MAX_LEVELS 1000000
#define DCR_REF 5000              /* training rows the early-stopping privacy guard uses */
#define EFF_ROWS 5000             /* rows each side of a check's efficacy ratio, at most */

double synth_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

float synth_gumbel(sg_rng *rng)
{
    double u = sg_rng_uniform(rng);
    if (u < 1e-12) u = 1e-12;
    return (float)-log(-log(u));
}

/* ---------------------------------------------------------------------------
 * 1-D Gaussian mixture */

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

int synth_gmm_fit(const double *x, int64_t n, int max_modes, double *mu, double *sd, double *wt)
{
    enum { MAX_ITER = 150 };
    const double prior = 1e-3, reg = 1e-6, keep = 0.005;
    if (n < 1 || max_modes < 1) return SG_EINVAL;
    double *z = sg_malloc_array((size_t)n, sizeof *z);
    if (!z) return SG_ENOMEM;
    /* standardise, so the variance floor and the start are scale-free */
    double m = 0, v = 0;
    for (int64_t i = 0; i < n; i++) m += x[i];
    m /= (double)n;
    for (int64_t i = 0; i < n; i++) v += (x[i] - m) * (x[i] - m);
    double s = sqrt(v / (double)n);
    if (!(s > 0)) s = 1.0;
    for (int64_t i = 0; i < n; i++) z[i] = (x[i] - m) / s;
    qsort(z, (size_t)n, sizeof *z, cmp_double);
    /* start: means at quantiles of the DISTINCT values (a point mass, such as the zeros
     * of a money column, gets one mode, not several copies), equal weights */
    double *u = sg_malloc_array((size_t)n, sizeof *u);
    if (!u) {
        sg_free(z);
        return SG_ENOMEM;
    }
    int64_t U = 0;
    for (int64_t i = 0; i < n; i++)
        if (U == 0 || z[i] != u[U - 1]) u[U++] = z[i];
    int K = U < max_modes ? (int)U : max_modes;
    double mk[64], vk[64], wk[64], N[64], S[64], Q[64];
    if (K > 64) K = 64;
    for (int k = 0; k < K; k++) {
        mk[k] = u[(int64_t)(((double)k + 0.5) / K * (double)U)];
        vk[k] = 1.0 / K;
        wk[k] = 1.0 / K;
    }
    sg_free(u);
    double prev = -INFINITY;
    for (int it = 0; it < MAX_ITER; it++) {
        double ll = 0, lw[64], iv[64];
        for (int k = 0; k < K; k++) {
            N[k] = S[k] = Q[k] = 0;
            lw[k] = wk[k] > 0 ? log(wk[k]) - 0.5 * log(vk[k]) : -(double)INFINITY;
            iv[k] = 0.5 / vk[k];
        }
        for (int64_t i = 0; i < n; i++) {
            double lp[64], mx = -INFINITY;
            for (int k = 0; k < K; k++) {
                double d = z[i] - mk[k];
                lp[k] = lw[k] - d * d * iv[k];
                if (lp[k] > mx) mx = lp[k];
            }
            double t = 0;
            for (int k = 0; k < K; k++) {
                lp[k] = exp(lp[k] - mx);
                t += lp[k];
            }
            ll += mx + log(t);
            for (int k = 0; k < K; k++) {
                double r = lp[k] / t;
                N[k] += r;
                S[k] += r * z[i];
                Q[k] += r * z[i] * z[i];
            }
        }
        /* MAP weights under Dirichlet(prior < 1): a mode with under 1 - prior rows empties */
        double tot = 0;
        for (int k = 0; k < K; k++) {
            wk[k] = N[k] + prior - 1.0 > 0 ? N[k] + prior - 1.0 : 0.0;
            tot += wk[k];
        }
        for (int k = 0; k < K; k++) {
            wk[k] /= tot;
            if (N[k] > 1e-12) {
                mk[k] = S[k] / N[k];
                double var = Q[k] / N[k] - mk[k] * mk[k];
                vk[k] = (var > 0 ? var : 0) + reg;
            }
        }
        if (fabs(ll - prev) < 1e-6 * (double)n) break;
        prev = ll;
    }
    /* merge modes that converged onto the same mean and spread */
    for (int a = 0; a < K; a++)
        for (int b = a + 1; b < K; b++)
            if (wk[a] > 0 && wk[b] > 0 && fabs(mk[a] - mk[b]) <= 1e-3 * sqrt(vk[a]) &&
                fabs(vk[a] - vk[b]) <= 1e-3 * vk[a]) {
                wk[a] += wk[b];
                wk[b] = 0;
            }
    /* keep modes above the weight threshold, sorted by mean */
    int kept = 0;
    double tot = 0;
    for (int k = 0; k < K; k++)
        if (wk[k] >= keep) {
            mk[kept] = mk[k];
            vk[kept] = vk[k];
            wk[kept] = wk[k];
            tot += wk[k];
            kept++;
        }
    if (kept == 0) {   /* cannot happen with weights summing to 1, but stay safe */
        mk[0] = 0;
        vk[0] = 1;
        wk[0] = tot = 1;
        kept = 1;
    }
    for (int a = 1; a < kept; a++)
        for (int b = a; b > 0 && mk[b] < mk[b - 1]; b--) {
            double t;
            t = mk[b], mk[b] = mk[b - 1], mk[b - 1] = t;
            t = vk[b], vk[b] = vk[b - 1], vk[b - 1] = t;
            t = wk[b], wk[b] = wk[b - 1], wk[b - 1] = t;
        }
    for (int k = 0; k < kept; k++) {
        mu[k] = m + s * mk[k];
        sd[k] = s * sqrt(vk[k]);
        wt[k] = wk[k] / tot;
    }
    sg_free(z);
    return kept;
}

/* ---------------------------------------------------------------------------
 * columns */

void synth_col_deinit(synth_col *col)
{
    if (!col) return;
    sg_free(col->name);
    sg_free(col->mu);
    sg_free(col->sd);
    sg_free(col->wt);
    sg_free(col->value);
    if (col->label)
        for (int l = 0; l < col->n_levels; l++) sg_free(col->label[l]);
    sg_free(col->label);
    sg_free(col->count);
    sg_free(col->by_label);
    memset(col, 0, sizeof *col);
}

static int col_listed(const char *name, const char *const *list)
{
    for (; list && *list; list++)
        if (!strcmp(*list, name)) return 1;
    return 0;
}

/* Sorting codes by count (descending), then label. */
typedef struct code_count {
    int32_t code;
    int64_t count;
    const char *label;
} code_count;

static int cmp_code_count(const void *pa, const void *pb)
{
    const code_count *a = pa, *b = pb;
    if (a->count != b->count) return a->count > b->count ? -1 : 1;
    return strcmp(a->label, b->label);
}

int synth_col_fit(synth_col *col, const char *name, int src_type, const float *X, int64_t n,
                  int ld, int c, const synth_fit_opts *o, const char *const *labels,
                  int32_t n_codes, sg_rng *rng, sg_error *err)
{
    memset(col, 0, sizeof *col);
    col->other = -1;
    col->cond_off = -1;
    col->src_type = src_type;
    double *vals = NULL;
    code_count *cc = NULL;
    int rc = SG_OK;
    if (!(col->name = sg_strdup(name))) goto oom;
    int64_t n_miss = 0;
    for (int64_t i = 0; i < n; i++) n_miss += isnan(X[i * ld + c]);
    col->has_missing = n_miss > 0;

    if (src_type == SG_COL_CATEGORY) {
        /* levels: the most frequent labels, then "other", then "missing" */
        col->kind = SG_FCOL_CATEGORY;
        cc = sg_calloc((size_t)(n_codes > 0 ? n_codes : 1), sizeof *cc);
        if (!cc) goto oom;
        for (int32_t k = 0; k < n_codes; k++) {
            cc[k].code = k;
            cc[k].label = labels[k];
        }
        for (int64_t i = 0; i < n; i++) {
            float v = X[i * ld + c];
            if (!isnan(v) && v >= 0 && v < (float)n_codes) cc[(int32_t)v].count++;
        }
        qsort(cc, (size_t)n_codes, sizeof *cc, cmp_code_count);
        int kept = 0, rare = 0;
        for (int32_t k = 0; k < n_codes; k++) {
            if (cc[k].count == 0) break;
            if (kept < o->max_categories) kept++;
            else rare = 1;
        }
        col->n_levels = kept + rare + col->has_missing;
        col->label = sg_calloc((size_t)(col->n_levels > 0 ? col->n_levels : 1), sizeof *col->label);
        col->count = sg_calloc((size_t)(col->n_levels > 0 ? col->n_levels : 1), sizeof *col->count);
        if (!col->label || !col->count) goto oom;
        for (int k = 0; k < kept; k++) {
            if (!(col->label[k] = sg_strdup(cc[k].label))) goto oom;
            col->count[k] = cc[k].count;
        }
        if (rare) {
            col->other = kept;
            /* "other" unless a kept label already is "other" */
            const char *lab = "other";
            for (int k = 0; k < kept; k++)
                if (!strcmp(col->label[k], "other")) lab = "(other)";
            if (!(col->label[kept] = sg_strdup(lab))) goto oom;
            for (int32_t k = kept; k < n_codes; k++) col->count[kept] += cc[k].count;
        }
        if (col->has_missing) col->count[col->n_levels - 1] = n_miss;
        col->width = col->n_levels;
        goto done;
    }

    /* numbers and dates: discrete when integral with few distinct values */
    vals = sg_malloc_array((size_t)(n > 0 ? n : 1), sizeof *vals);
    if (!vals) goto oom;
    int64_t m = 0;
    int integral = 1;
    for (int64_t i = 0; i < n; i++) {
        float v = X[i * ld + c];
        if (isnan(v)) continue;
        vals[m++] = (double)v;
        if (v != floorf(v) || fabsf(v) > 1e9f) integral = 0;
    }
    qsort(vals, (size_t)m, sizeof *vals, cmp_double);
    int64_t distinct = 0;
    for (int64_t i = 0; i < m; i++) distinct += i == 0 || vals[i] != vals[i - 1];
    int discrete = src_type == SG_COL_NUMBER && integral && distinct <= o->max_discrete &&
                   !col_listed(name, o->continuous);
    if (m == 0) discrete = 1;   /* nothing but missing values */
    if (discrete) {
        col->kind = SG_FCOL_DISCRETE;
        col->n_levels = (int)distinct + col->has_missing;
        col->value = sg_malloc_array((size_t)(col->n_levels > 0 ? col->n_levels : 1),
                                     sizeof *col->value);
        col->count = sg_calloc((size_t)(col->n_levels > 0 ? col->n_levels : 1), sizeof *col->count);
        if (!col->value || !col->count) goto oom;
        int l = -1;
        for (int64_t i = 0; i < m; i++) {
            if (i == 0 || vals[i] != vals[i - 1]) col->value[++l] = vals[i];
            col->count[l]++;
        }
        if (col->has_missing) {
            col->value[col->n_levels - 1] = NAN;
            col->count[col->n_levels - 1] = n_miss;
        }
        col->width = col->n_levels;
        goto done;
    }
    col->kind = SG_FCOL_CONTINUOUS;
    col->lo = vals[0];
    col->hi = vals[m - 1];
    col->is_integer = integral && src_type == SG_COL_NUMBER;
    /* the mixture on at most GMM_SAMPLE values, drawn without replacement */
    int64_t k = m;
    if (m > GMM_SAMPLE) {
        for (int64_t i = 0; i < GMM_SAMPLE; i++) {
            int64_t j = i + (int64_t)sg_rng_below(rng, (uint64_t)(m - i));
            double t = vals[i];
            vals[i] = vals[j];
            vals[j] = t;
        }
        k = GMM_SAMPLE;
    }
    int K = o->max_modes > 0 ? o->max_modes : 10;
    if (K > 64) K = 64;
    col->mu = sg_malloc_array((size_t)K, sizeof *col->mu);
    col->sd = sg_malloc_array((size_t)K, sizeof *col->sd);
    col->wt = sg_malloc_array((size_t)K, sizeof *col->wt);
    if (!col->mu || !col->sd || !col->wt) goto oom;
    int kept = synth_gmm_fit(vals, k, K, col->mu, col->sd, col->wt);
    if (kept < 0) goto oom;
    col->n_modes = kept;
    col->n_levels = kept + col->has_missing;
    col->count = sg_calloc((size_t)col->n_levels, sizeof *col->count);
    if (!col->count) goto oom;
    col->width = 1 + col->n_levels;
    goto done;
oom:
    rc = sg_error_set(err, SG_ENOMEM, "synth: column '%s': out of memory", name);
    synth_col_deinit(col);
done:
    sg_free(vals);
    sg_free(cc);
    return rc;
}

typedef struct label_ref {
    const char *label;
    int32_t level;
} label_ref;

static int cmp_label_ref(const void *pa, const void *pb)
{
    return strcmp(((const label_ref *)pa)->label, ((const label_ref *)pb)->label);
}

int synth_col_find_label(const synth_col *col, const char *label)
{
    if (col->kind != SG_FCOL_CATEGORY || !col->by_label) return -1;
    int n = col->n_levels - col->has_missing;
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(col->label[col->by_label[mid]], label);
        if (c == 0) return col->by_label[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

int32_t synth_col_encode(const synth_col *col, float v, sg_rng *rng, float *alpha)
{
    *alpha = 0.0f;
    int32_t miss = col->has_missing ? col->n_levels - 1 : -1;
    if (isnan(v)) return miss >= 0 ? miss : 0;
    if (col->kind == SG_FCOL_CATEGORY) {
        int32_t l = (int32_t)v;
        return l >= 0 && l < col->n_levels - col->has_missing ? l : (miss >= 0 ? miss : 0);
    }
    if (col->kind == SG_FCOL_DISCRETE) {
        int n = col->n_levels - col->has_missing, lo = 0, hi = n - 1;
        if (n <= 0) return miss >= 0 ? miss : 0;
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (col->value[mid] < (double)v) lo = mid + 1;
            else hi = mid;
        }
        if (lo > 0 && fabs(col->value[lo - 1] - (double)v) <= fabs(col->value[lo] - (double)v))
            lo--;
        return lo;
    }
    /* continuous: a mode drawn from the posterior, among the modes that can represent
     * v without clipping (|v - mu| < 3.9 sd); the closest mode when none can */
    double post[64], tot = 0, best = INFINITY;
    int K = col->n_modes, closest = 0;
    for (int k = 0; k < K; k++) {
        double zz = ((double)v - col->mu[k]) / col->sd[k];
        if (fabs(zz) < best) {
            best = fabs(zz);
            closest = k;
        }
        post[k] = fabs(zz) < 3.9 ? col->wt[k] / col->sd[k] * exp(-0.5 * zz * zz) : 0.0;
        tot += post[k];
    }
    int k = closest;
    if (tot > 0) {
        double u = sg_rng_uniform(rng) * tot, c = 0;
        for (k = 0; k < K - 1; k++) {
            c += post[k];
            if (u < c && post[k] > 0) break;
        }
        while (post[k] == 0 && k > 0) k--;   /* rounding at the top end */
    }
    double a = ((double)v - col->mu[k]) / (4.0 * col->sd[k]);
    if (a > 0.99) a = 0.99;
    if (a < -0.99) a = -0.99;
    *alpha = (float)a;
    return k;
}

float synth_col_decode(const synth_col *col, int32_t level, float alpha)
{
    if (col->has_missing && level == col->n_levels - 1) return NAN;
    if (col->kind == SG_FCOL_CATEGORY) return (float)level;
    if (col->kind == SG_FCOL_DISCRETE) return (float)col->value[level];
    double a = alpha > 1.0f ? 1.0 : alpha < -1.0f ? -1.0 : (double)alpha;
    double x = col->mu[level] + 4.0 * col->sd[level] * a;
    if (x < col->lo) x = col->lo;
    if (x > col->hi) x = col->hi;
    if (col->is_integer) x = nearbyint(x);
    return (float)x;
}

void synth_xf_deinit(synth_xf *xf)
{
    if (!xf) return;
    for (int j = 0; xf->cols && j < xf->n_cols; j++) synth_col_deinit(&xf->cols[j]);
    sg_free(xf->cols);
    sg_free(xf->disc);
    sg_free(xf->logf_cum);
    sg_free(xf->freq_cum);
    memset(xf, 0, sizeof *xf);
}

int synth_xf_finish(synth_xf *xf, sg_error *err)
{
    int off = 0, coff = 0, nd = 0;
    for (int j = 0; j < xf->n_cols; j++) {
        synth_col *col = &xf->cols[j];
        col->off = off;
        off += col->width;
        if (col->kind != SG_FCOL_CONTINUOUS) {
            col->cond_off = coff;
            coff += col->n_levels;
            nd++;
        } else {
            col->cond_off = -1;
        }
        if (col->kind == SG_FCOL_CATEGORY) {
            int n = col->n_levels - col->has_missing;
            col->by_label = sg_malloc_array((size_t)(n > 0 ? n : 1), sizeof *col->by_label);
            label_ref *lr = sg_malloc_array((size_t)(n > 0 ? n : 1), sizeof *lr);
            if (!col->by_label || !lr) {
                sg_free(lr);
                goto oom;
            }
            for (int l = 0; l < n; l++) lr[l] = (label_ref){col->label[l], l};
            qsort(lr, (size_t)n, sizeof *lr, cmp_label_ref);
            for (int l = 0; l < n; l++) col->by_label[l] = lr[l].level;
            sg_free(lr);
        }
    }
    xf->data_dim = off;
    xf->cond_dim = coff;
    xf->n_disc = nd;
    xf->disc = sg_malloc_array((size_t)(nd > 0 ? nd : 1), sizeof *xf->disc);
    xf->logf_cum = sg_malloc_array((size_t)(coff > 0 ? coff : 1), sizeof *xf->logf_cum);
    xf->freq_cum = sg_malloc_array((size_t)(coff > 0 ? coff : 1), sizeof *xf->freq_cum);
    if (!xf->disc || !xf->logf_cum || !xf->freq_cum) goto oom;
    nd = 0;
    for (int j = 0; j < xf->n_cols; j++) {
        const synth_col *col = &xf->cols[j];
        if (col->cond_off < 0) continue;
        xf->disc[nd++] = j;
        double tl = 0, tf = 0;
        for (int l = 0; l < col->n_levels; l++) {
            tl += log1p((double)col->count[l]);
            tf += (double)col->count[l];
        }
        double cl = 0, cf = 0;
        for (int l = 0; l < col->n_levels; l++) {
            cl += tl > 0 ? log1p((double)col->count[l]) / tl : 1.0 / col->n_levels;
            cf += tf > 0 ? (double)col->count[l] / tf : 1.0 / col->n_levels;
            xf->logf_cum[col->cond_off + l] = cl;
            xf->freq_cum[col->cond_off + l] = cf;
        }
    }
    return SG_OK;
oom:
    return sg_error_set(err, SG_ENOMEM, "synth: out of memory building the transformer");
}

void synth_xf_write(const synth_xf *xf, sg_wbuf *w)
{
    sg_wbuf_i64(w, xf->n_cols);
    for (int j = 0; j < xf->n_cols; j++) {
        const synth_col *col = &xf->cols[j];
        sg_wbuf_str(w, col->name);
        sg_wbuf_u32(w, (uint32_t)col->kind);
        sg_wbuf_u32(w, (uint32_t)col->src_type);
        sg_wbuf_u32(w, (uint32_t)col->has_missing);
        sg_wbuf_u32(w, (uint32_t)col->is_integer);
        sg_wbuf_f64(w, col->lo);
        sg_wbuf_f64(w, col->hi);
        sg_wbuf_i64(w, col->n_modes);
        sg_wbuf_f64s(w, col->mu, (size_t)col->n_modes);
        sg_wbuf_f64s(w, col->sd, (size_t)col->n_modes);
        sg_wbuf_f64s(w, col->wt, (size_t)col->n_modes);
        sg_wbuf_i64(w, col->n_levels);
        if (col->kind == SG_FCOL_DISCRETE) sg_wbuf_f64s(w, col->value, (size_t)col->n_levels);
        if (col->kind == SG_FCOL_CATEGORY)
            for (int l = 0; l < col->n_levels; l++) sg_wbuf_str(w, col->label[l]);
        sg_wbuf_i32(w, col->other);
        for (int l = 0; l < col->n_levels; l++) sg_wbuf_i64(w, col->count[l]);
    }
}

int synth_xf_read(synth_xf *xf, sg_rbuf *r, sg_error *err)
{
    memset(xf, 0, sizeof *xf);
    int64_t nc;
    int rc;
    if ((rc = sg_rbuf_count(r, &nc, MAX_COLS, "number of columns", err))) return rc;
    if (nc < 1) return sg_error_set(err, SG_EPARSE, "corrupt synth model: no column");
    xf->cols = sg_calloc((size_t)nc, sizeof *xf->cols);
    if (!xf->cols) return sg_error_set(err, SG_ENOMEM, "synth: out of memory reading columns");
    xf->n_cols = (int)nc;
    for (int j = 0; j < xf->n_cols; j++) {
        synth_col *col = &xf->cols[j];
        uint32_t u[4];
        int64_t k;
        col->other = -1;
        if ((rc = sg_rbuf_str(r, &col->name, MAX_NAME, "column name", err))) goto fail;
        if (!col->name) {
            rc = sg_error_set(err, SG_EPARSE, "corrupt synth model: column %d has no name", j);
            goto fail;
        }
        if ((rc = sg_rbuf_u32(r, &u[0], "column kind", err)) ||
            (rc = sg_rbuf_u32(r, &u[1], "column type", err)) ||
            (rc = sg_rbuf_u32(r, &u[2], "missing flag", err)) ||
            (rc = sg_rbuf_u32(r, &u[3], "integer flag", err)) ||
            (rc = sg_rbuf_f64(r, &col->lo, "column minimum", err)) ||
            (rc = sg_rbuf_f64(r, &col->hi, "column maximum", err)))
            goto fail;
        if (u[0] > SG_FCOL_CATEGORY || u[1] > SG_COL_DATE || u[2] > 1 || u[3] > 1) {
            rc = sg_error_set(err, SG_EPARSE, "corrupt synth model: column '%s' has bad flags",
                              col->name);
            goto fail;
        }
        col->kind = (int)u[0];
        col->src_type = (int)u[1];
        col->has_missing = (int)u[2];
        col->is_integer = (int)u[3];
        if ((rc = sg_rbuf_count(r, &k, 64, "number of modes", err))) goto fail;
        col->n_modes = (int)k;
        if ((col->kind == SG_FCOL_CONTINUOUS) != (k > 0)) {
            rc = sg_error_set(err, SG_EPARSE, "corrupt synth model: column '%s' has %d modes",
                              col->name, col->n_modes);
            goto fail;
        }
        if (k > 0) {
            col->mu = sg_malloc_array((size_t)k, sizeof *col->mu);
            col->sd = sg_malloc_array((size_t)k, sizeof *col->sd);
            col->wt = sg_malloc_array((size_t)k, sizeof *col->wt);
            if (!col->mu || !col->sd || !col->wt) goto oom;
            if ((rc = sg_rbuf_f64s(r, col->mu, (size_t)k, "mode means", err)) ||
                (rc = sg_rbuf_f64s(r, col->sd, (size_t)k, "mode deviations", err)) ||
                (rc = sg_rbuf_f64s(r, col->wt, (size_t)k, "mode weights", err)))
                goto fail;
            for (int m = 0; m < col->n_modes; m++)
                if (!(col->sd[m] > 0) || !isfinite(col->mu[m])) {
                    rc = sg_error_set(err, SG_EPARSE, "corrupt synth model: column '%s': bad "
                                      "mode %d", col->name, m);
                    goto fail;
                }
        }
        if ((rc = sg_rbuf_count(r, &k, MAX_LEVELS, "number of levels", err))) goto fail;
        col->n_levels = (int)k;
        int want = col->kind == SG_FCOL_CONTINUOUS ? col->n_modes + col->has_missing
                                                   : col->n_levels;
        if (k < 1 || k != want || (col->has_missing && k < 1)) {
            rc = sg_error_set(err, SG_EPARSE, "corrupt synth model: column '%s' has %lld levels",
                              col->name, (long long)k);
            goto fail;
        }
        if (col->kind == SG_FCOL_DISCRETE) {
            col->value = sg_malloc_array((size_t)k, sizeof *col->value);
            if (!col->value) goto oom;
            if ((rc = sg_rbuf_f64s(r, col->value, (size_t)k, "level values", err))) goto fail;
        }
        if (col->kind == SG_FCOL_CATEGORY) {
            col->label = sg_calloc((size_t)k, sizeof *col->label);
            if (!col->label) goto oom;
            for (int l = 0; l < col->n_levels; l++) {
                if ((rc = sg_rbuf_str(r, &col->label[l], MAX_NAME, "level label", err))) goto fail;
                int is_missing = col->has_missing && l == col->n_levels - 1;
                if ((col->label[l] == NULL) != is_missing) {
                    rc = sg_error_set(err, SG_EPARSE, "corrupt synth model: column '%s': bad "
                                      "label %d", col->name, l);
                    goto fail;
                }
            }
        }
        int32_t other;
        if ((rc = sg_rbuf_i32(r, &other, "other level", err))) goto fail;
        if (other < -1 || other >= col->n_levels) {
            rc = sg_error_set(err, SG_EPARSE, "corrupt synth model: column '%s': bad other level",
                              col->name);
            goto fail;
        }
        col->other = other;
        col->count = sg_malloc_array((size_t)k, sizeof *col->count);
        if (!col->count) goto oom;
        for (int l = 0; l < col->n_levels; l++)
            if ((rc = sg_rbuf_i64(r, &col->count[l], "level count", err))) goto fail;
        col->width = col->kind == SG_FCOL_CONTINUOUS ? 1 + col->n_levels : col->n_levels;
    }
    if ((rc = synth_xf_finish(xf, err))) goto fail;
    return SG_OK;
oom:
    rc = sg_error_set(err, SG_ENOMEM, "synth: out of memory reading the columns");
fail:
    synth_xf_deinit(xf);
    return rc;
}

/* ---------------------------------------------------------------------------
 * encoded rows, conditional vectors, training-by-sampling */

void synth_data_deinit(synth_data *d)
{
    if (!d) return;
    sg_free(d->level);
    sg_free(d->alpha);
    sg_free(d->grp_ptr);
    sg_free(d->grp_rows);
    memset(d, 0, sizeof *d);
}

int synth_data_init(synth_data *d, const synth_xf *xf, const float *X, int64_t n, sg_rng *rng,
                    sg_error *err)
{
    memset(d, 0, sizeof *d);
    int C = xf->n_cols;
    d->n = n;
    d->C = C;
    d->level = sg_malloc_array((size_t)n * C, sizeof *d->level);
    d->alpha = sg_malloc_array((size_t)n * C, sizeof *d->alpha);
    d->grp_ptr = sg_calloc((size_t)xf->cond_dim + 1, sizeof *d->grp_ptr);
    d->grp_rows = sg_malloc_array((size_t)(xf->n_disc > 0 ? xf->n_disc : 1) * (size_t)n,
                                  sizeof *d->grp_rows);
    if (!d->level || !d->alpha || !d->grp_ptr || !d->grp_rows) {
        synth_data_deinit(d);
        return sg_error_set(err, SG_ENOMEM, "synth: out of memory encoding %lld rows",
                            (long long)n);
    }
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < C; j++) {
            float a;
            d->level[i * C + j] = synth_col_encode(&xf->cols[j], X[i * C + j], rng, &a);
            d->alpha[i * C + j] = a;
        }
    /* rows grouped by (block, level): a counting sort per block */
    for (int b = 0; b < xf->n_disc; b++) {
        const synth_col *col = &xf->cols[xf->disc[b]];
        for (int64_t i = 0; i < n; i++) d->grp_ptr[col->cond_off + d->level[i * C + xf->disc[b]] + 1]++;
    }
    for (int s = 0; s < xf->cond_dim; s++) d->grp_ptr[s + 1] += d->grp_ptr[s];
    int64_t *fill = sg_malloc_array((size_t)(xf->cond_dim > 0 ? xf->cond_dim : 1), sizeof *fill);
    if (!fill) {
        synth_data_deinit(d);
        return sg_error_set(err, SG_ENOMEM, "synth: out of memory encoding rows");
    }
    memcpy(fill, d->grp_ptr, (size_t)xf->cond_dim * sizeof *fill);
    for (int b = 0; b < xf->n_disc; b++) {
        const synth_col *col = &xf->cols[xf->disc[b]];
        for (int64_t i = 0; i < n; i++)
            d->grp_rows[fill[col->cond_off + d->level[i * C + xf->disc[b]]]++] = (int32_t)i;
    }
    sg_free(fill);
    return SG_OK;
}

void synth_data_dense(const synth_xf *xf, const synth_data *d, const int64_t *rows, int B,
                      float *out)
{
    int C = xf->n_cols, Dd = xf->data_dim;
    memset(out, 0, (size_t)B * Dd * sizeof *out);
    for (int b = 0; b < B; b++) {
        const int32_t *lv = d->level + rows[b] * C;
        const float *al = d->alpha + rows[b] * C;
        float *o = out + (size_t)b * Dd;
        for (int j = 0; j < C; j++) {
            const synth_col *col = &xf->cols[j];
            if (col->kind == SG_FCOL_CONTINUOUS) {
                o[col->off] = al[j];
                o[col->off + 1 + lv[j]] = 1.0f;
            } else {
                o[col->off + lv[j]] = 1.0f;
            }
        }
    }
}

void synth_cond_sample(const synth_xf *xf, const double *cum, int B, sg_rng *rng, float *cond,
                       int32_t *dcol, int32_t *lvl)
{
    synth_cond_sample_focus(xf, cum, B, -1, 0.0, rng, cond, dcol, lvl);
}

void synth_cond_sample_focus(const synth_xf *xf, const double *cum, int B, int focus,
                             double share, sg_rng *rng, float *cond, int32_t *dcol, int32_t *lvl)
{
    int Cc = xf->cond_dim;
    if (Cc == 0) return;
    int use = focus >= 0 && focus < xf->n_disc && share > 0;
    memset(cond, 0, (size_t)B * Cc * sizeof *cond);
    for (int b = 0; b < B; b++) {
        int k = use && (share >= 1 || sg_rng_uniform(rng) < share)
                    ? focus : (int)sg_rng_below(rng, (uint64_t)xf->n_disc);
        const synth_col *col = &xf->cols[xf->disc[k]];
        double u = sg_rng_uniform(rng);
        int l = 0;
        while (l < col->n_levels - 1 && u >= cum[col->cond_off + l]) l++;
        dcol[b] = k;
        lvl[b] = l;
        cond[(size_t)b * Cc + col->cond_off + l] = 1.0f;
    }
}

void synth_rows_for_cond(const synth_xf *xf, const synth_data *d, const int32_t *dcol,
                         const int32_t *lvl, int B, sg_rng *rng, int64_t *rows)
{
    for (int b = 0; b < B; b++) {
        if (xf->cond_dim == 0) {
            rows[b] = (int64_t)sg_rng_below(rng, (uint64_t)d->n);
            continue;
        }
        int s = xf->cols[xf->disc[dcol[b]]].cond_off + lvl[b];
        int64_t lo = d->grp_ptr[s], cnt = d->grp_ptr[s + 1] - lo;
        rows[b] = cnt > 0 ? d->grp_rows[lo + (int64_t)sg_rng_below(rng, (uint64_t)cnt)]
                          : (int64_t)sg_rng_below(rng, (uint64_t)d->n);
    }
}

void synth_decode(const synth_xf *xf, const float *act, int B, float *X)
{
    int C = xf->n_cols, Dd = xf->data_dim;
    for (int b = 0; b < B; b++) {
        const float *a = act + (size_t)b * Dd;
        for (int j = 0; j < C; j++) {
            const synth_col *col = &xf->cols[j];
            int s = col->kind == SG_FCOL_CONTINUOUS ? col->off + 1 : col->off;
            int best = 0;
            for (int l = 1; l < col->n_levels; l++)
                if (a[s + l] > a[s + best]) best = l;
            float alpha = col->kind == SG_FCOL_CONTINUOUS ? a[col->off] : 0.0f;
            X[(size_t)b * C + j] = synth_col_decode(col, best, alpha);
        }
    }
}

/* ---------------------------------------------------------------------------
 * the model */

struct sg_synth {
    int kind;                 /* SG_SYNTH_GAN / _TVAE */
    uint64_t seed;
    int B, Z, H, pac, critic_steps;
    float lr, wd, gp_lambda, tau;
    char *id_name;            /* NULL when none */
    int target, target_rule;
    float target_value;
    float target_share;       /* GAN: share of training conditions on the target */
    int tvae_cond;            /* TVAE: the decoder is conditioned on the target (synth_tvae_cfg) */
    int epochs_run, best_epoch;
    double best_score;
    synth_xf xf;
    uint8_t *kinds;           /* (C) */
    synth_ctgan *gan;
    synth_tvae *vae;
    float *ref_train;         /* (n_train_ref, C) */
    int64_t n_train_ref;
    float *ref_hold;          /* (n_hold_ref, C) */
    int64_t n_hold_ref;
};

void sg_synth_opts_default(sg_synth_opts *o)
{
    memset(o, 0, sizeof *o);
    o->model = SG_SYNTH_GAN;
    o->max_discrete = 50;
    o->max_categories = 100;
    o->max_modes = 10;
    o->epochs = 300;
    o->batch = 500;
    o->embedding = 128;
    o->pac = 10;
    o->critic_steps = 1;
    o->gp_lambda = 10.0;
    o->holdout = 0.2;
    o->valid = 0.1;
    o->patience = 10;
    o->target_share = 0.5;
    o->max_reference = 20000;
    o->max_holdout = 10000;
    o->seed = SG_DEFAULT_SEED;
}

void sg_synth_free(sg_synth *m)
{
    if (!m) return;
    sg_free(m->id_name);
    synth_xf_deinit(&m->xf);
    sg_free(m->kinds);
    synth_ctgan_free(m->gan);
    synth_tvae_free(m->vae);
    sg_free(m->ref_train);
    sg_free(m->ref_hold);
    sg_free(m);
}

int sg_synth_kind(const sg_synth *m) { return m->kind; }
int sg_synth_n_cols(const sg_synth *m) { return m->xf.n_cols; }
const char *sg_synth_col_name(const sg_synth *m, int j)
{
    return j >= 0 && j < m->xf.n_cols ? m->xf.cols[j].name : NULL;
}
int sg_synth_col_kind(const sg_synth *m, int j) { return m->xf.cols[j].kind; }
const char *sg_synth_id_name(const sg_synth *m) { return m->id_name; }
int sg_synth_target(const sg_synth *m) { return m->target; }
const uint8_t *sg_synth_kinds(const sg_synth *m) { return m->kinds; }

const float *sg_synth_reference(const sg_synth *m, int which, int64_t *n)
{
    *n = which ? m->n_hold_ref : m->n_train_ref;
    return which ? m->ref_hold : m->ref_train;
}

static int check_opts(const sg_synth_opts *o, sg_error *err)
{
    if (o->model != SG_SYNTH_GAN && o->model != SG_SYNTH_TVAE)
        return sg_error_set(err, SG_EINVAL, "synth: model must be gan or tvae (got %d)", o->model);
    if (o->epochs < 1 || o->epochs > 1000000)
        return sg_error_set(err, SG_EINVAL, "synth: epochs must be 1..1000000 (got %d)", o->epochs);
    if (o->batch < 2 || o->batch > 1000000)
        return sg_error_set(err, SG_EINVAL, "synth: batch must be 2..1000000 (got %d)", o->batch);
    if (o->model == SG_SYNTH_GAN && (o->pac < 1 || o->batch % o->pac))
        return sg_error_set(err, SG_EINVAL, "synth: the batch (%d) must be a multiple of pac (%d)",
                            o->batch, o->pac);
    if (o->embedding < 1 || o->embedding > 65536 || o->hidden < 0 || o->hidden > 65536)
        return sg_error_set(err, SG_EINVAL, "synth: bad embedding (%d) or hidden (%d) size",
                            o->embedding, o->hidden);
    if (o->max_discrete < 0 || o->max_categories < 1 || o->max_categories > 100000 ||
        o->max_modes < 1 || o->max_modes > 64)
        return sg_error_set(err, SG_EINVAL, "synth: max_discrete >= 0, max_categories 1..100000 "
                            "and max_modes 1..64 are required");
    if (!(o->holdout >= 0 && o->valid >= 0 && o->holdout + o->valid < 0.9))
        return sg_error_set(err, SG_EINVAL, "synth: hold-out (%g) and validation (%g) shares must "
                            "be >= 0 and sum to less than 0.9", o->holdout, o->valid);
    if (!(o->lr >= 0 && o->lr < 1) || !(o->weight_decay >= 0) || !(o->gp_lambda >= 0) ||
        o->critic_steps < 1 || o->patience < 0 || o->eval_every < 0 ||
        !(o->target_share >= 0 && o->target_share <= 1))
        return sg_error_set(err, SG_EINVAL, "synth: bad learning rate, weight decay, penalty, "
                            "critic steps, patience, check interval or target share");
    return SG_OK;
}

/* The target rule from the training frame column t: categories: the rarer of two
 * labels, else the most frequent (one against the rest); numbers: above the value
 * that splits the rows closest to half and half. */
static int target_rule(sg_synth *m, const float *X, int64_t n, sg_error *err)
{
    int C = m->xf.n_cols, t = m->target;
    const synth_col *col = &m->xf.cols[t];
    if (col->kind == SG_FCOL_CATEGORY) {
        int nl = col->n_levels - col->has_missing, best = 0;
        if (nl < 2)
            return sg_error_set(err, SG_EINVAL, "synth: target '%s' has a single value in the "
                                "training rows", col->name);
        for (int l = 1; l < nl; l++)
            if (col->count[l] > col->count[best]) best = l;
        if (nl == 2) best = col->count[1] <= col->count[0] ? 1 : 0;
        m->target_rule = SG_TARGET_EQUAL;
        m->target_value = (float)best;
        return SG_OK;
    }
    double *dv = sg_malloc_array((size_t)(n > 0 ? n : 1), sizeof *dv);
    if (!dv) return sg_error_set(err, SG_ENOMEM, "synth: out of memory");
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        if (!isnan(X[i * C + t])) dv[k++] = (double)X[i * C + t];
    qsort(dv, (size_t)k, sizeof *dv, cmp_double);
    double best_t = NAN, best_d = INFINITY;
    for (int64_t i = 0; i < k; i++) {
        if (i + 1 < k && dv[i + 1] == dv[i]) continue;
        if (i + 1 == k) break;   /* the largest value leaves no positive */
        double above = (double)(k - i - 1) / (double)k;
        if (fabs(above - 0.5) < best_d) {
            best_d = fabs(above - 0.5);
            best_t = dv[i];
        }
    }
    sg_free(dv);
    if (isnan(best_t))
        return sg_error_set(err, SG_EINVAL, "synth: target '%s' has a single value in the "
                            "training rows", col->name);
    m->target_rule = SG_TARGET_ABOVE;
    m->target_value = (float)best_t;
    return SG_OK;
}

/* Median of x (n > 0), which gets sorted. */
static double median(double *x, int64_t n)
{
    qsort(x, (size_t)n, sizeof *x, cmp_double);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

/* Frame value of table cell (row i, column tj) for model column col: category
 * codes through 'map' (table code -> level, -1 -> missing). */
static float frame_value(const synth_col *col, const sg_table *t, int tj, int64_t i,
                         const int32_t *map)
{
    if (col->kind == SG_FCOL_CATEGORY) {
        int32_t code = sg_table_codes(t, tj)[i];
        if (code < 0) return NAN;
        int32_t l = map[code];
        return l >= 0 ? (float)l : NAN;
    }
    return (float)sg_table_num(t, tj)[i];
}

/* Map of table codes to levels of a fitted category column (by label). */
static int32_t *label_map(const synth_col *col, const sg_table *t, int tj)
{
    int32_t nl = sg_table_n_labels(t, tj);
    int32_t *map = sg_malloc_array((size_t)(nl > 0 ? nl : 1), sizeof *map);
    if (!map) return NULL;
    for (int32_t k = 0; k < nl; k++) {
        int l = synth_col_find_label(col, sg_table_label(t, tj, k));
        map[k] = l >= 0 ? l : col->other;
    }
    return map;
}

/* Frame rows (n, C) of the table rows 'rows' for the fitted columns tcol (C). */
static int build_frame(const synth_xf *xf, const sg_table *t, const int *tcol, const int64_t *rows,
                       int64_t n, float *X, sg_error *err)
{
    int C = xf->n_cols;
    for (int j = 0; j < C; j++) {
        const synth_col *col = &xf->cols[j];
        int32_t *map = NULL;
        if (col->kind == SG_FCOL_CATEGORY && !(map = label_map(col, t, tcol[j])))
            return sg_error_set(err, SG_ENOMEM, "synth: out of memory");
        for (int64_t i = 0; i < n; i++)
            X[i * C + j] = frame_value(col, t, tcol[j], rows ? rows[i] : i, map);
        sg_free(map);
    }
    return SG_OK;
}

/* The level a conditional TVAE is given for a condition on column cond_col, or -1 (its
 * target drawn from the training frequencies; other conditions go by rejection). */
static int32_t tvae_level(const sg_synth *m, int cond_col, int32_t cond_level)
{
    return m->tvae_cond && cond_col >= 0 && cond_col == m->target ? cond_level : -1;
}

/* Generate n rows into X through the trained networks, a batch at a time. */
static int generate(const sg_synth *m, int64_t n, sg_rng *rng, int cond_col, int32_t cond_level,
                    float *X, sg_error *err)
{
    int C = m->xf.n_cols, B = m->B;
    float *buf = sg_malloc_array((size_t)B * C, sizeof *buf);
    if (!buf) return sg_error_set(err, SG_ENOMEM, "synth: out of memory");
    int rc = SG_OK;
    for (int64_t done = 0; done < n && rc == SG_OK; done += B) {
        if (m->kind == SG_SYNTH_GAN)
            rc = synth_ctgan_generate(m->gan, cond_col, cond_level, rng, buf, err);
        else
            rc = synth_tvae_generate(m->vae, tvae_level(m, cond_col, cond_level), rng, buf, err);
        if (rc) break;
        int64_t k = n - done < B ? n - done : B;
        memcpy(X + done * C, buf, (size_t)k * C * sizeof *X);
    }
    sg_free(buf);
    return rc;
}

static sg_params *net_params(const sg_synth *m)
{
    return m->kind == SG_SYNTH_GAN ? synth_ctgan_gen_params(m->gan)
                                   : synth_tvae_dec_params(m->vae);
}

/* The networks of m's configuration over m's transformer into *gan or *vae. */
static int make_nets(const sg_synth *m, int train, synth_ctgan **gan, synth_tvae **vae,
                     sg_error *err)
{
    if (m->kind == SG_SYNTH_GAN) {
        /* the target's conditional block, when it has one and a share is asked for */
        int focus = -1;
        for (int k = 0; m->target >= 0 && m->target_share > 0 && k < m->xf.n_disc; k++)
            if (m->xf.disc[k] == m->target) focus = k;
        synth_ctgan_cfg c = {m->B, m->Z, m->H, m->pac, m->critic_steps, m->lr, m->wd,
                             m->gp_lambda, m->tau, focus, m->target_share};
        return synth_ctgan_new(gan, &m->xf, &c, train, err);
    }
    /* with a discrete or category target: conditioned on it (when m->tvae_cond: files of
     * version 2 are not), with its auxiliary classifier, and its reconstruction term
     * weighs more (tvae.c) */
    int tc = m->target >= 0 && m->xf.cols[m->target].kind != SG_FCOL_CONTINUOUS ? m->target : -1;
    synth_tvae_cfg c = {m->B, m->Z, m->H, m->lr, m->wd, 2.0f, tc, TVAE_TARGET_WEIGHT,
                        tc >= 0 && m->tvae_cond, TVAE_AUX_PER_COL * (float)m->xf.n_cols};
    return synth_tvae_new(vae, &m->xf, &c, train, err);
}

int sg_synth_train(sg_synth **out, const sg_table *t, const sg_synth_opts *o,
                   sg_synth_train_report *rep, sg_error *err)
{
    sg_synth_opts def;
    if (!o) {
        sg_synth_opts_default(&def);
        o = &def;
    }
    if (!out || !t) return sg_error_set(err, SG_EINVAL, "synth: no table or output");
    int rc = check_opts(o, err);
    if (rc) return rc;
    double t0 = synth_now();
    sg_synth *m = NULL;
    int *tcol = NULL;
    int64_t *idx = NULL;
    float *Xtr = NULL, *Xva = NULL, *Xgen = NULL, *best = NULL;
    double *dcr = NULL;
    synth_data data;
    memset(&data, 0, sizeof data);
    int nt = sg_table_n_cols(t);
    int64_t N = sg_table_n_rows(t);

    /* columns: everything but the id, the ignored ones and id-typed columns */
    if (o->id && sg_table_find(t, o->id) < 0)
        return sg_error_set(err, SG_EINVAL, "synth: no id column '%s' in %s", o->id,
                            sg_table_name(t));
    for (const char *const *p = o->ignore; p && *p; p++)
        if (sg_table_find(t, *p) < 0)
            return sg_error_set(err, SG_EINVAL, "synth: no column '%s' (ignored) in %s", *p,
                                sg_table_name(t));
    for (const char *const *p = o->continuous; p && *p; p++) {
        int j = sg_table_find(t, *p);
        if (j < 0 || (sg_table_col_type(t, j) != SG_COL_NUMBER &&
                      sg_table_col_type(t, j) != SG_COL_DATE))
            return sg_error_set(err, SG_EINVAL, "synth: '%s' (continuous) is not a number column "
                                "of %s", *p, sg_table_name(t));
    }
    if (!(m = sg_calloc(1, sizeof *m)) || !(tcol = sg_malloc_array((size_t)nt, sizeof *tcol)))
        goto oom;
    int C = 0;
    m->target = -1;
    for (int j = 0; j < nt; j++) {
        const char *name = sg_table_col_name(t, j);
        if ((o->id && !strcmp(name, o->id)) || col_listed(name, o->ignore) ||
            sg_table_col_type(t, j) == SG_COL_ID)
            continue;
        if (o->target && !strcmp(name, o->target)) m->target = C;
        tcol[C++] = j;
    }
    if (C == 0) {
        rc = sg_error_set(err, SG_EINVAL, "synth: %s has no column to generate", sg_table_name(t));
        goto fail;
    }
    if (o->target && m->target < 0) {
        rc = sg_error_set(err, SG_EINVAL, "synth: target '%s' is not a generated column of %s",
                          o->target, sg_table_name(t));
        goto fail;
    }
    m->kind = o->model;
    m->seed = o->seed;
    m->B = o->batch;
    m->Z = o->embedding;
    m->H = o->hidden > 0 ? o->hidden : (o->model == SG_SYNTH_GAN ? 256 : 128);
    m->pac = o->model == SG_SYNTH_GAN ? o->pac : 1;
    m->critic_steps = o->critic_steps;
    m->lr = (float)(o->lr > 0 ? o->lr : (o->model == SG_SYNTH_GAN ? 2e-4 : 1e-3));
    m->wd = (float)(o->weight_decay > 0 ? o->weight_decay : (o->model == SG_SYNTH_GAN ? 1e-6 : 1e-5));
    m->gp_lambda = (float)o->gp_lambda;
    m->tau = 0.2f;
    m->target_share = o->model == SG_SYNTH_GAN ? (float)o->target_share : 0.0f;
    if (o->id && !(m->id_name = sg_strdup(o->id))) goto oom;

    /* split: shuffled rows, hold-out first, then validation, then training */
    sg_rng master, r_split, r_fit, r_enc, r_init, r_train, r_eval;
    sg_rng_init(&master, o->seed);
    sg_rng_split(&master, 1, &r_split);
    sg_rng_split(&master, 2, &r_fit);
    sg_rng_split(&master, 3, &r_enc);
    sg_rng_split(&master, 4, &r_init);
    sg_rng_split(&master, 5, &r_train);
    sg_rng_split(&master, 6, &r_eval);
    int64_t n_hold = (int64_t)llround(o->holdout * (double)N);
    int64_t n_val = (int64_t)llround(o->valid * (double)N);
    int64_t n_tr = N - n_hold - n_val;
    if (n_tr < 10) {
        rc = sg_error_set(err, SG_EINVAL, "synth: %s has %lld rows: %lld left for training, at "
                          "least 10 are needed", sg_table_name(t), (long long)N, (long long)n_tr);
        goto fail;
    }
    if (!(idx = sg_malloc_array((size_t)N, sizeof *idx))) goto oom;
    for (int64_t i = 0; i < N; i++) idx[i] = i;
    sg_rng_shuffle_i64(&r_split, idx, N);
    const int64_t *rows_hold = idx, *rows_val = idx + n_hold, *rows_tr = idx + n_hold + n_val;

    /* fit the columns on the training rows: table codes / numbers into a frame first */
    m->xf.n_cols = C;
    if (!(m->xf.cols = sg_calloc((size_t)C, sizeof *m->xf.cols)) ||
        !(Xtr = sg_malloc_array((size_t)n_tr * C, sizeof *Xtr)) ||
        !(m->kinds = sg_malloc_array((size_t)C, 1)))
        goto oom;
    synth_fit_opts fo = {o->max_discrete, o->max_categories, o->max_modes, o->continuous};
    for (int j = 0; j < C; j++) {
        int tj = tcol[j];
        int type = sg_table_col_type(t, tj);
        int32_t nl = type == SG_COL_CATEGORY ? sg_table_n_labels(t, tj) : 0;
        for (int64_t i = 0; i < n_tr; i++) {
            int64_t r = rows_tr[i];
            if (type == SG_COL_CATEGORY) {
                int32_t code = sg_table_codes(t, tj)[r];
                Xtr[i * C + j] = code < 0 ? NAN : (float)code;
            } else {
                Xtr[i * C + j] = (float)sg_table_num(t, tj)[r];
            }
        }
        const char **labels = NULL;
        if (nl > 0) {
            if (!(labels = sg_malloc_array((size_t)nl, sizeof *labels))) goto oom;
            for (int32_t k = 0; k < nl; k++) labels[k] = sg_table_label(t, tj, k);
        }
        rc = synth_col_fit(&m->xf.cols[j], sg_table_col_name(t, tj), type, Xtr, n_tr, C, j, &fo,
                           labels, nl, &r_fit, err);
        sg_free(labels);
        if (rc) goto fail;
    }
    if ((rc = synth_xf_finish(&m->xf, err))) goto fail;
    for (int j = 0; j < C; j++) m->kinds[j] = (uint8_t)m->xf.cols[j].kind;
    /* the frames in model coding (category levels replace table codes) */
    if ((rc = build_frame(&m->xf, t, tcol, rows_tr, n_tr, Xtr, err))) goto fail;
    if (n_val > 0) {
        if (!(Xva = sg_malloc_array((size_t)n_val * C, sizeof *Xva))) goto oom;
        if ((rc = build_frame(&m->xf, t, tcol, rows_val, n_val, Xva, err))) goto fail;
    }
    m->n_hold_ref = n_hold < o->max_holdout ? n_hold : o->max_holdout;
    m->n_train_ref = n_tr < o->max_reference ? n_tr : o->max_reference;
    if (!(m->ref_hold = sg_malloc_array((size_t)(m->n_hold_ref > 0 ? m->n_hold_ref : 1) * C,
                                        sizeof *m->ref_hold)) ||
        !(m->ref_train = sg_malloc_array((size_t)m->n_train_ref * C, sizeof *m->ref_train)))
        goto oom;
    if ((rc = build_frame(&m->xf, t, tcol, rows_hold, m->n_hold_ref, m->ref_hold, err))) goto fail;
    memcpy(m->ref_train, Xtr, (size_t)m->n_train_ref * C * sizeof *Xtr);
    if (m->target >= 0 && (rc = target_rule(m, Xtr, n_tr, err))) goto fail;
    if ((rc = synth_data_init(&data, &m->xf, Xtr, n_tr, &r_enc, err))) goto fail;
    sg_free(Xtr);
    Xtr = NULL;
    /* counts of continuous modes, from the encoding */
    for (int j = 0; j < C; j++) {
        synth_col *col = &m->xf.cols[j];
        if (col->kind != SG_FCOL_CONTINUOUS) continue;
        for (int64_t i = 0; i < n_tr; i++) col->count[data.level[i * C + j]]++;
    }

    /* networks (a TVAE with a discrete or category target is conditioned on it) */
    m->tvae_cond = m->kind == SG_SYNTH_TVAE && m->target >= 0 &&
                   m->xf.cols[m->target].kind != SG_FCOL_CONTINUOUS && TVAE_COND;
    if ((rc = make_nets(m, 1, &m->gan, &m->vae, err))) goto fail;
    if (m->kind == SG_SYNTH_GAN) synth_ctgan_init(m->gan, &r_init);
    else synth_tvae_init(m->vae, &r_init);
    sg_params *np = net_params(m);
    size_t n_par = sg_params_count(np);
    double t1 = synth_now();
    SG_LOG(SG_LOG_INFO, "synth", "%s on %s: %lld training, %lld validation, %lld hold-out rows; "
           "%d columns -> %d encoded + %d conditional; batch %d, %d epochs, lr %g, seed %llu; "
           "%zu parameters", m->kind == SG_SYNTH_GAN ? "CTGAN" : "TVAE", sg_table_name(t),
           (long long)n_tr, (long long)n_val, (long long)n_hold, C, m->xf.data_dim,
           m->xf.cond_dim, m->B, o->epochs, (double)m->lr, (unsigned long long)o->seed, n_par);

    /* epochs with early stopping on the validation rows */
    int every = o->eval_every > 0 ? o->eval_every : (o->epochs + 29) / 30;
    int64_t n_eval = n_val < 2000 ? n_val : 2000;
    /* with a target, a check generates as many rows as the real side of its efficacy
     * ratio trains on (a GBDT trained on a few hundred generated rows, with a rare
     * target a few dozen positives, scores mostly noise); the marginals use them all,
     * the privacy guard the first n_eval */
    int64_t n_gen = n_eval;
    if (n_eval > 0 && m->target >= 0)
        n_gen = SG_MAX(n_eval, SG_MIN(m->n_train_ref, (int64_t)EFF_ROWS));
    if (n_eval > 0) {
        if (!(Xgen = sg_malloc_array((size_t)n_gen * C, sizeof *Xgen)) ||
            !(best = sg_malloc_array(n_par, sizeof *best)))
            goto oom;
    }
    sg_frame fval = {n_val, C, Xva, m->kinds}, fgen = {n_gen, C, Xgen, m->kinds};
    sg_frame fgen_q = {n_eval, C, Xgen, m->kinds};
    /* with a target, the score also holds the efficacy on the validation rows: a GBDT
     * trained on generated rows against one trained on real rows */
    sg_fidelity_opts eo;
    sg_fidelity_opts_default(&eo);
    eo.target = m->target;
    eo.target_rule = m->target_rule;
    eo.target_value = m->target_value;
    eo.n_trees = 50;
    eo.max_efficacy_rows = EFF_ROWS;
    eo.seed = o->seed;
    double trtr_val = NAN;
    if (n_eval > 0 && m->target >= 0) {
        sg_frame ftr = {m->n_train_ref, C, m->ref_train, m->kinds};
        if ((rc = sg_fidelity_efficacy(&ftr, &fval, &eo, &trtr_val, err))) goto fail;
    }
    /* privacy guard: a check counts only when its rows are no closer to the training
     * rows (median DCR to at most DCR_REF of them) than the validation rows are */
    sg_frame fref = {SG_MIN(m->n_train_ref, (int64_t)DCR_REF), C, m->ref_train, m->kinds};
    sg_frame fval_q = {n_eval, C, Xva, m->kinds};
    double dcr_val = NAN;
    if (n_eval > 0) {
        if (!(dcr = sg_malloc_array((size_t)n_eval, sizeof *dcr))) goto oom;
        if ((rc = sg_fidelity_dcr(&fref, &fval_q, dcr, err))) goto fail;
        dcr_val = median(dcr, n_eval);
    }
    double best_score = -INFINITY, any_score = -INFINITY, epoch_secs = 0, la = 0, lb = 0;
    int best_epoch = 0, any_epoch = 0, since = 0, e;
    for (e = 1; e <= o->epochs; e++) {
        double te = synth_now();
        rc = m->kind == SG_SYNTH_GAN ? synth_ctgan_epoch(m->gan, &data, &r_train, e, &la, &lb, err)
                                     : synth_tvae_epoch(m->vae, &data, &r_train, e, &la, &lb, err);
        epoch_secs += synth_now() - te;
        if (rc) goto fail;
        if (o->on_progress) o->on_progress(o->ud, "epoch", e, o->epochs);
        if (n_eval == 0 || (e % every && e != o->epochs)) continue;
        sg_rng re = r_eval;   /* the same noise at every check: scores differ by the model only */
        double score, eff = NAN;
        if ((rc = generate(m, n_gen, &re, -1, 0, Xgen, err)) ||
            (rc = sg_fidelity_marginals(&fval, &fgen, NULL, NULL, NULL, NULL, &score, err)))
            goto fail;
        if (!isnan(trtr_val) && trtr_val > 0.5) {
            double tstr;
            if ((rc = sg_fidelity_efficacy(&fgen, &fval, &eo, &tstr, err))) goto fail;
            eff = isnan(tstr) ? 0.5 : fmin(1.0, tstr / trtr_val);
            score = (4.0 * score + eff) / 5.0;
        }
        if ((rc = sg_fidelity_dcr(&fref, &fgen_q, dcr, err))) goto fail;
        double dcr_gen = median(dcr, n_eval);
        int kept_ok = !(dcr_gen < dcr_val);
        if (score > any_score) {
            any_score = score;
            any_epoch = e;
            if (best_epoch == 0) memcpy(best, sg_params_data(np), n_par * sizeof *best);
        }
        if (kept_ok && score > best_score) {
            best_score = score;
            best_epoch = e;
            since = 0;
            memcpy(best, sg_params_data(np), n_par * sizeof *best);
        } else {
            since++;
        }
        SG_LOG(SG_LOG_INFO, "synth", "epoch %d/%d: %s %.4f, %s %.4f; validation fidelity %.4f "
               "(efficacy ratio %.3f), median DCR %.4f (validation rows %.4f)%s; best %.4f at "
               "epoch %d; %.2f s/epoch", e, o->epochs,
               m->kind == SG_SYNTH_GAN ? "critic loss" : "reconstruction", la,
               m->kind == SG_SYNTH_GAN ? "generator loss" : "KL", lb, score, eff, dcr_gen, dcr_val,
               kept_ok ? "" : " too close: not kept", best_score, best_epoch, epoch_secs / e);
        if (o->patience > 0 && since >= o->patience) {
            SG_LOG(SG_LOG_INFO, "synth", "early stop at epoch %d: no better validation fidelity "
                   "in %d checks", e, since);
            e++;
            break;
        }
    }
    m->epochs_run = e - 1;
    if (best_epoch == 0 && any_epoch > 0) {
        /* no check passed the privacy guard: keep the best score anyway, and say so */
        SG_LOG(SG_LOG_WARN, "synth", "every checked epoch generated rows closer to the training "
               "rows than the validation rows are; keeping epoch %d (the report's DCR figures "
               "will show it)", any_epoch);
        best_epoch = any_epoch;
        best_score = any_score;
    }
    if (best_epoch > 0) memcpy(sg_params_data(np), best, n_par * sizeof *best);
    m->best_epoch = best_epoch > 0 ? best_epoch : m->epochs_run;
    m->best_score = best_epoch > 0 ? best_score : (double)NAN;
    /* the saved model keeps only the generating network: drop the training state */
    {
        synth_ctgan *gan = NULL;
        synth_tvae *vae = NULL;
        if ((rc = make_nets(m, 0, &gan, &vae, err))) goto fail;
        sg_params *keep = gan ? synth_ctgan_gen_params(gan) : synth_tvae_dec_params(vae);
        memcpy(sg_params_data(keep), sg_params_data(np), n_par * sizeof(float));
        synth_ctgan_free(m->gan);
        synth_tvae_free(m->vae);
        m->gan = gan;
        m->vae = vae;
    }
    if (rep) {
        memset(rep, 0, sizeof *rep);
        rep->n_train = n_tr;
        rep->n_valid = n_val;
        rep->n_holdout = n_hold;
        rep->n_cols = C;
        for (int j = 0; j < C; j++) {
            rep->n_continuous += m->kinds[j] == SG_FCOL_CONTINUOUS;
            rep->n_discrete += m->kinds[j] == SG_FCOL_DISCRETE;
            rep->n_category += m->kinds[j] == SG_FCOL_CATEGORY;
        }
        rep->data_dim = m->xf.data_dim;
        rep->cond_dim = m->xf.cond_dim;
        rep->n_params = (int64_t)n_par;
        rep->epochs_run = m->epochs_run;
        rep->best_epoch = m->best_epoch;
        rep->best_score = m->best_score;
        rep->loss_a = la;
        rep->loss_b = lb;
        rep->seconds_transform = t1 - t0;
        rep->seconds_train = synth_now() - t1;
        rep->seconds_per_epoch = m->epochs_run ? epoch_secs / m->epochs_run : 0;
    }
    synth_data_deinit(&data);
    sg_free(tcol);
    sg_free(idx);
    sg_free(Xva);
    sg_free(Xgen);
    sg_free(best);
    sg_free(dcr);
    *out = m;
    return SG_OK;
oom:
    rc = sg_error_set(err, SG_ENOMEM, "synth: out of memory");
fail:
    synth_data_deinit(&data);
    sg_free(tcol);
    sg_free(idx);
    sg_free(Xtr);
    sg_free(Xva);
    sg_free(Xgen);
    sg_free(best);
    sg_free(dcr);
    sg_synth_free(m);
    return rc;
}

/* ---------------------------------------------------------------------------
 * sampling, values and text */

int sg_synth_sample(const sg_synth *m, int64_t n, uint64_t seed, int cond_col, float cond_value,
                    float *X, double *accept_rate, sg_error *err)
{
    if (!m || n < 0 || (n > 0 && !X)) return sg_error_set(err, SG_EINVAL, "synth: bad arguments");
    int C = m->xf.n_cols;
    sg_rng rng;
    sg_rng_init(&rng, seed);
    if (accept_rate) *accept_rate = 1.0;
    if (cond_col < 0) return generate(m, n, &rng, -1, 0, X, err);
    if (cond_col >= C || m->xf.cols[cond_col].kind == SG_FCOL_CONTINUOUS)
        return sg_error_set(err, SG_EINVAL, "synth: rows can be conditioned on a discrete or "
                            "category column only");
    const synth_col *col = &m->xf.cols[cond_col];
    float a;
    sg_rng r0;
    sg_rng_init(&r0, 0);
    int32_t level = synth_col_encode(col, cond_value, &r0, &a);
    /* rejection: keep the rows that have the value */
    int B = m->B;
    float *buf = sg_malloc_array((size_t)B * C, sizeof *buf);
    if (!buf) return sg_error_set(err, SG_ENOMEM, "synth: out of memory");
    int64_t got = 0, tried = 0, matched = 0, limit = 200 * n + 10000;
    int rc = SG_OK;
    while (got < n && tried < limit) {
        rc = m->kind == SG_SYNTH_GAN ? synth_ctgan_generate(m->gan, cond_col, level, &rng, buf, err)
                                     : synth_tvae_generate(m->vae, tvae_level(m, cond_col, level),
                                                           &rng, buf, err);
        if (rc) break;
        tried += B;
        for (int b = 0; b < B; b++) {
            float v = buf[(size_t)b * C + cond_col];
            if (!(v == cond_value || (isnan(v) && isnan(cond_value)))) continue;
            matched++;
            if (got < n) memcpy(X + got++ * C, buf + (size_t)b * C, (size_t)C * sizeof *X);
        }
    }
    sg_free(buf);
    if (rc) return rc;
    if (accept_rate) *accept_rate = tried ? (double)matched / (double)tried : 0;
    if (got < n)
        return sg_error_set(err, SG_EINVAL, "synth: only %lld of %lld rows with the requested "
                            "value of '%s' came out of %lld generated", (long long)got,
                            (long long)n, col->name, (long long)tried);
    return SG_OK;
}

int sg_synth_parse_value(const sg_synth *m, int j, const char *s, float *v, sg_error *err)
{
    if (j < 0 || j >= m->xf.n_cols) return sg_error_set(err, SG_EINVAL, "synth: no column %d", j);
    const synth_col *col = &m->xf.cols[j];
    if (col->kind == SG_FCOL_CONTINUOUS)
        return sg_error_set(err, SG_EINVAL, "synth: column '%s' is continuous: only discrete and "
                            "category columns take a value", col->name);
    if (!*s || !strcmp(s, "NA") || !strcmp(s, "NULL")) {
        if (!col->has_missing)
            return sg_error_set(err, SG_EINVAL, "synth: column '%s' has no missing values",
                                col->name);
        *v = NAN;
        return SG_OK;
    }
    if (col->kind == SG_FCOL_CATEGORY) {
        int l = synth_col_find_label(col, s);
        if (l < 0)
            return sg_error_set(err, SG_EINVAL, "synth: column '%s' has no level '%s'", col->name,
                                s);
        *v = (float)l;
        return SG_OK;
    }
    char *end;
    double x = strtod(s, &end);
    if (end != s && !*end)
        for (int l = 0; l < col->n_levels; l++)
            if (col->value[l] == x) {
                *v = (float)x;
                return SG_OK;
            }
    return sg_error_set(err, SG_EINVAL, "synth: column '%s' has no value '%s'", col->name, s);
}

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm). */
static void civil_date(int64_t z, int *y, int *mo, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *mo = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*mo <= 2));
}

const char *sg_synth_format(const sg_synth *m, int j, float v, char *buf, size_t cap)
{
    if (!cap) return buf;
    buf[0] = 0;
    if (j < 0 || j >= m->xf.n_cols || isnan(v)) return buf;
    const synth_col *col = &m->xf.cols[j];
    if (col->kind == SG_FCOL_CATEGORY) {
        int l = (int)v;
        if (l >= 0 && l < col->n_levels && col->label[l]) snprintf(buf, cap, "%s", col->label[l]);
        return buf;
    }
    if (col->src_type == SG_COL_DATE) {
        int y, mo, d;
        double day = floor((double)v + 0.5);
        civil_date((int64_t)day, &y, &mo, &d);
        snprintf(buf, cap, "%04d-%02d-%02d", y, mo, d);
        return buf;
    }
    if (col->kind == SG_FCOL_DISCRETE || col->is_integer) snprintf(buf, cap, "%.15g", (double)v);
    else snprintf(buf, cap, "%.7g", (double)v);
    return buf;
}

int sg_synth_encode_table(const sg_synth *m, const sg_table *t, float *X, sg_error *err)
{
    int C = m->xf.n_cols;
    int64_t n = sg_table_n_rows(t);
    char cell[1024];
    for (int j = 0; j < C; j++) {
        const synth_col *col = &m->xf.cols[j];
        int tj = sg_table_find(t, col->name);
        if (tj < 0)
            return sg_error_set(err, SG_ENOTFOUND, "%s: no column '%s' (the model generates it)",
                                sg_table_name(t), col->name);
        int type = sg_table_col_type(t, tj);
        if (col->kind == SG_FCOL_CATEGORY) {
            if (type == SG_COL_CATEGORY) {
                int32_t *map = label_map(col, t, tj);
                if (!map) return sg_error_set(err, SG_ENOMEM, "synth: out of memory");
                for (int64_t i = 0; i < n; i++) X[i * C + j] = frame_value(col, t, tj, i, map);
                sg_free(map);
            } else {
                for (int64_t i = 0; i < n; i++) {
                    sg_table_cell(t, i, tj, cell, sizeof cell);
                    int l = *cell ? synth_col_find_label(col, cell) : -1;
                    if (*cell && l < 0) l = col->other;
                    X[i * C + j] = l >= 0 ? (float)l : NAN;
                }
            }
            continue;
        }
        if (type != SG_COL_NUMBER && type != SG_COL_DATE)
            return sg_error_set(err, SG_EPARSE, "%s: column '%s' holds text; the model expects "
                                "numbers", sg_table_name(t), col->name);
        const double *v = sg_table_num(t, tj);
        for (int64_t i = 0; i < n; i++) X[i * C + j] = (float)v[i];
    }
    return SG_OK;
}

/* ---------------------------------------------------------------------------
 * the report */

const char *sg_synth_target_rule(const sg_synth *m, char *buf, size_t cap)
{
    if (!cap) return buf;
    buf[0] = 0;
    if (m->target < 0) return buf;
    const synth_col *col = &m->xf.cols[m->target];
    if (m->target_rule == SG_TARGET_EQUAL) {
        char lab[512];
        sg_synth_format(m, m->target, m->target_value, lab, sizeof lab);
        snprintf(buf, cap, "%s == %s", col->name, lab);
    } else {
        snprintf(buf, cap, "%s > %.15g", col->name, (double)m->target_value);
    }
    return buf;
}

int sg_synth_report(const sg_synth *m, const float *X, int64_t n, sg_fidelity_report *rep,
                    sg_error *err)
{
    int C = m->xf.n_cols;
    sg_frame tr = {m->n_train_ref, C, m->ref_train, m->kinds};
    sg_frame ho = {m->n_hold_ref, C, m->ref_hold, m->kinds};
    sg_frame sy = {n, C, X, m->kinds};
    sg_fidelity_opts o;
    sg_fidelity_opts_default(&o);
    o.target = m->target;
    o.target_rule = m->target_rule;
    o.target_value = m->target_value;
    o.seed = m->seed;
    return sg_fidelity_compare(&tr, &ho, &sy, &o, rep, err);
}

/* ---------------------------------------------------------------------------
 * files */

int sg_synth_save_mem(const sg_synth *m, unsigned char **buf, size_t *len, sg_error *err)
{
    if (!m || !buf || !len) return sg_error_set(err, SG_EINVAL, "synth: nothing to save");
    sg_wbuf w;
    sg_wbuf_init(&w);
    sg_wbuf_u32(&w, SYNTH_MAGIC);
    sg_wbuf_u32(&w, SYNTH_VERSION);
    sg_wbuf_u32(&w, (uint32_t)m->kind);
    sg_wbuf_u64(&w, m->seed);
    sg_wbuf_i32(&w, m->B);
    sg_wbuf_i32(&w, m->Z);
    sg_wbuf_i32(&w, m->H);
    sg_wbuf_i32(&w, m->pac);
    sg_wbuf_i32(&w, m->critic_steps);
    sg_wbuf_f32(&w, m->lr);
    sg_wbuf_f32(&w, m->wd);
    sg_wbuf_f32(&w, m->gp_lambda);
    sg_wbuf_f32(&w, m->tau);
    sg_wbuf_str(&w, m->id_name);
    sg_wbuf_i32(&w, m->target);
    sg_wbuf_i32(&w, m->target_rule);
    sg_wbuf_f32(&w, m->target_value);
    sg_wbuf_f32(&w, m->target_share);
    sg_wbuf_i32(&w, m->tvae_cond);
    sg_wbuf_i32(&w, m->epochs_run);
    sg_wbuf_i32(&w, m->best_epoch);
    sg_wbuf_f64(&w, m->best_score);
    synth_xf_write(&m->xf, &w);
    sg_params_write(net_params(m), &w, 0);
    int C = m->xf.n_cols;
    sg_wbuf_i64(&w, m->n_train_ref);
    sg_wbuf_f32s(&w, m->ref_train, (size_t)m->n_train_ref * C);
    sg_wbuf_i64(&w, m->n_hold_ref);
    sg_wbuf_f32s(&w, m->ref_hold, (size_t)m->n_hold_ref * C);
    int rc = sg_wbuf_status(&w, err);
    if (rc) {
        sg_wbuf_deinit(&w);
        return rc;
    }
    *buf = w.data;
    *len = w.len;
    return SG_OK;
}

int sg_synth_load_mem(sg_synth **out, const unsigned char *buf, size_t len, sg_error *err)
{
    sg_rbuf r;
    sg_rbuf_init(&r, buf, len);
    sg_synth *m = sg_calloc(1, sizeof *m);
    if (!m) return sg_error_set(err, SG_ENOMEM, "synth: out of memory");
    uint32_t magic, version, kind;
    int32_t i32[8];
    float f32[5];
    int rc;
    if ((rc = sg_rbuf_u32(&r, &magic, "synth magic", err))) goto fail;
    if (magic != SYNTH_MAGIC) {
        rc = sg_error_set(err, SG_EPARSE, "not a synth model (bad magic)");
        goto fail;
    }
    if ((rc = sg_rbuf_u32(&r, &version, "synth version", err))) goto fail;
    if (version != SYNTH_VERSION && version != 2) {
        rc = sg_error_set(err, SG_EPARSE, "synth model format version %u; this build reads "
                          "versions 2 to %u (retrain the model with this build)", version,
                          SYNTH_VERSION);
        goto fail;
    }
    if ((rc = sg_rbuf_u32(&r, &kind, "model kind", err)) ||
        (rc = sg_rbuf_u64(&r, &m->seed, "seed", err)))
        goto fail;
    const char *what[5] = {"batch", "embedding", "hidden", "pac", "critic steps"};
    for (int k = 0; k < 5; k++)
        if ((rc = sg_rbuf_i32(&r, &i32[k], what[k], err))) goto fail;
    for (int k = 0; k < 4; k++)
        if ((rc = sg_rbuf_f32(&r, &f32[k], "a float setting", err))) goto fail;
    if (kind > SG_SYNTH_TVAE || i32[0] < 2 || i32[0] > 1000000 || i32[1] < 1 || i32[1] > 65536 ||
        i32[2] < 1 || i32[2] > 65536 || i32[3] < 1 || i32[0] % i32[3] || i32[4] < 1) {
        rc = sg_error_set(err, SG_EPARSE, "corrupt synth model: bad configuration");
        goto fail;
    }
    m->kind = (int)kind;
    m->B = i32[0];
    m->Z = i32[1];
    m->H = i32[2];
    m->pac = i32[3];
    m->critic_steps = i32[4];
    m->lr = f32[0];
    m->wd = f32[1];
    m->gp_lambda = f32[2];
    m->tau = f32[3];
    if ((rc = sg_rbuf_str(&r, &m->id_name, MAX_NAME, "id column", err)) ||
        (rc = sg_rbuf_i32(&r, &i32[5], "target", err)) ||
        (rc = sg_rbuf_i32(&r, &i32[6], "target rule", err)) ||
        (rc = sg_rbuf_f32(&r, &m->target_value, "target value", err)) ||
        (rc = sg_rbuf_f32(&r, &m->target_share, "target share", err)) ||
        (version >= 3 && (rc = sg_rbuf_i32(&r, &m->tvae_cond, "TVAE condition", err))) ||
        (rc = sg_rbuf_i32(&r, &i32[7], "epochs run", err)) ||
        (rc = sg_rbuf_i32(&r, &m->best_epoch, "best epoch", err)) ||
        (rc = sg_rbuf_f64(&r, &m->best_score, "best score", err)))
        goto fail;
    m->target = i32[5];
    m->target_rule = i32[6];
    m->epochs_run = i32[7];
    if ((rc = synth_xf_read(&m->xf, &r, err))) goto fail;
    int C = m->xf.n_cols;
    if (m->target < -1 || m->target >= C || m->target_rule < 0 || m->target_rule > 1 ||
        !(m->target_share >= 0 && m->target_share <= 1) || m->tvae_cond < 0 ||
        m->tvae_cond > 1 || (m->tvae_cond && (m->kind != SG_SYNTH_TVAE || m->target < 0 ||
                                              m->xf.cols[m->target].kind == SG_FCOL_CONTINUOUS))) {
        rc = sg_error_set(err, SG_EPARSE, "corrupt synth model: bad target");
        goto fail;
    }
    if (!(m->kinds = sg_malloc_array((size_t)C, 1))) goto oom;
    for (int j = 0; j < C; j++) m->kinds[j] = (uint8_t)m->xf.cols[j].kind;
    if ((rc = make_nets(m, 0, &m->gan, &m->vae, err)) ||
        (rc = sg_params_read(net_params(m), &r, err)))
        goto fail;
    int64_t n;
    if ((rc = sg_rbuf_count(&r, &n, (int64_t)((len / 4) / (size_t)C), "training rows", err)))
        goto fail;
    if (n < 1) {
        rc = sg_error_set(err, SG_EPARSE, "corrupt synth model: no training rows");
        goto fail;
    }
    m->n_train_ref = n;
    if (!(m->ref_train = sg_malloc_array((size_t)n * C, sizeof *m->ref_train))) goto oom;
    if ((rc = sg_rbuf_f32s(&r, m->ref_train, (size_t)n * C, "training rows", err))) goto fail;
    if ((rc = sg_rbuf_count(&r, &n, (int64_t)((len / 4) / (size_t)C), "hold-out rows", err)))
        goto fail;
    m->n_hold_ref = n;
    if (!(m->ref_hold = sg_malloc_array((size_t)(n > 0 ? n : 1) * C, sizeof *m->ref_hold))) goto oom;
    if ((rc = sg_rbuf_f32s(&r, m->ref_hold, (size_t)n * C, "hold-out rows", err))) goto fail;
    if (r.pos != r.len) {
        rc = sg_error_set(err, SG_EPARSE, "corrupt synth model: %zu bytes after the end",
                          r.len - r.pos);
        goto fail;
    }
    *out = m;
    return SG_OK;
oom:
    rc = sg_error_set(err, SG_ENOMEM, "synth: out of memory loading the model");
fail:
    sg_synth_free(m);
    return rc;
}

int sg_synth_save(const sg_synth *m, const char *path, sg_error *err)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc = sg_synth_save_mem(m, &buf, &len, err);
    if (rc == SG_OK) rc = sg_modelfile_write(path, SG_TASK_SYNTH, buf, len, err);
    sg_free(buf);
    return rc;
}

int sg_synth_load(sg_synth **out, const char *path, sg_error *err)
{
    int task;
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc = sg_modelfile_read(path, SG_TASK_SYNTH, &task, &buf, &len, err);
    if (rc) return rc;
    rc = sg_synth_load_mem(out, buf, len, err);
    if (rc) sg_error_prefix(err, "%s: ", path);
    sg_free(buf);
    return rc;
}

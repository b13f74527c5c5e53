/* fidelity.c -- fidelity, efficacy and privacy metrics of a synthetic table.
 *
 * Every metric works on frames (fidelity.h): row-major float matrices with a
 * kind per column.  Column work is done on gathered copies of one column (or a
 * pair), so the row-major layout costs one pass per column.  Pair metrics and
 * DCR run in parallel over independent pairs / query rows, each writing its own
 * slot, and the slots are summed in order afterwards: results do not depend on
 * the thread count.  Sums run in double.  See LICENSE for copyright. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "internal.h"
#include "stratagem/fidelity.h"
#include "stratagem/gbdt.h"
#include "stratagem/mem.h"
#include "stratagem/metrics.h"
#include "stratagem/rng.h"

#define MAX_PAIR_COLS 200    /* columns entering the pair metrics, per kind */
#define MAX_PAIR_LEVELS 128  /* a column with more levels is left out of contingency */
#define TV_BINS 10           /* continuous columns: cut at the real deciles */
#define GOWER_MISSING 1e30f  /* a missing number: at distance >= 1 from any value */
#define PAR_WORK 2000000     /* below this many operations a parallel region costs more */

void sg_fidelity_opts_default(sg_fidelity_opts *o)
{
    memset(o, 0, sizeof *o);
    o->target = -1;
    o->target_rule = SG_TARGET_ABOVE;
    o->target_value = 0.5f;
    o->max_dcr_rows = 2000;
    o->max_efficacy_rows = 50000;
    o->n_trees = 200;
    o->seed = SG_DEFAULT_SEED;
}

void sg_fidelity_report_deinit(sg_fidelity_report *rep)
{
    if (!rep) return;
    sg_free(rep->ks_col);
    sg_free(rep->tv_col);
    rep->ks_col = rep->tv_col = NULL;
}

static int is_number_kind(int kind)
{
    return kind == SG_FCOL_CONTINUOUS || kind == SG_FCOL_DISCRETE;
}

static int check_frame(const sg_frame *f, const char *what, sg_error *err)
{
    if (!f || f->n_rows < 0 || f->n_cols < 1 || (f->n_rows > 0 && !f->x) || !f->kind)
        return sg_error_set(err, SG_EINVAL, "fidelity: the %s frame is empty or malformed", what);
    for (int j = 0; j < f->n_cols; j++)
        if (f->kind[j] > SG_FCOL_CATEGORY)
            return sg_error_set(err, SG_EINVAL, "fidelity: %s frame: column %d has kind %d", what,
                                j, f->kind[j]);
    return SG_OK;
}

static int same_shape(const sg_frame *a, const sg_frame *b, const char *what, sg_error *err)
{
    if (a->n_cols != b->n_cols)
        return sg_error_set(err, SG_EINVAL, "fidelity: the %s frame has %d columns, the training "
                            "frame %d", what, b->n_cols, a->n_cols);
    for (int j = 0; j < a->n_cols; j++)
        if (a->kind[j] != b->kind[j])
            return sg_error_set(err, SG_EINVAL, "fidelity: column %d is of kind %d in the training "
                                "frame but %d in the %s frame", j, a->kind[j], b->kind[j], what);
    return SG_OK;
}

/* ---------------------------------------------------------------------------
 * one column: KS and total variation */

static int cmp_float(const void *pa, const void *pb)
{
    float a = *(const float *)pa, b = *(const float *)pb;
    return (a > b) - (a < b);
}

/* Non-missing values of a strided column into out (sorted); returns their count. */
static int64_t gather_sorted(float *out, const float *x, int64_t n, int64_t stride)
{
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++) {
        float v = x[i * stride];
        if (!isnan(v)) out[m++] = v;
    }
    qsort(out, (size_t)m, sizeof *out, cmp_float);
    return m;
}

/* KS statistic of two sorted arrays: the largest gap between the empirical CDFs,
 * evaluated after every distinct value (ties advance both sides together). */
static double ks_sorted(const float *a, int64_t na, const float *b, int64_t nb)
{
    if (na == 0 || nb == 0) return 0.0;
    int64_t i = 0, k = 0;
    double d = 0.0;
    while (i < na && k < nb) {
        float v = a[i] < b[k] ? a[i] : b[k];
        while (i < na && a[i] <= v) i++;
        while (k < nb && b[k] <= v) k++;
        double g = fabs((double)i / (double)na - (double)k / (double)nb);
        if (g > d) d = g;
    }
    return d;
}

double sg_ks_statistic(const float *a, int64_t na, int64_t stride_a, const float *b, int64_t nb,
                       int64_t stride_b)
{
    float *sa = sg_malloc_array((size_t)(na > 0 ? na : 1), sizeof *sa);
    float *sb = sg_malloc_array((size_t)(nb > 0 ? nb : 1), sizeof *sb);
    double d = NAN;
    if (sa && sb) {
        int64_t ma = gather_sorted(sa, a, na, stride_a);
        int64_t mb = gather_sorted(sb, b, nb, stride_b);
        d = ks_sorted(sa, ma, sb, mb);
    }
    sg_free(sa);
    sg_free(sb);
    return d;
}

/* Total variation between two discrete distributions given as sorted values
 * (missing counted apart: mis_a of n_a rows).  Walks the merged distinct values. */
static double tv_sorted(const float *a, int64_t ma, int64_t na, const float *b, int64_t mb,
                        int64_t nb)
{
    double s = fabs((double)(na - ma) / (double)na - (double)(nb - mb) / (double)nb);
    int64_t i = 0, k = 0;
    while (i < ma || k < mb) {
        float v;
        if (i < ma && k < mb) v = a[i] < b[k] ? a[i] : b[k];
        else v = i < ma ? a[i] : b[k];
        int64_t ca = 0, cb = 0;
        while (i < ma && a[i] == v) { i++; ca++; }
        while (k < mb && b[k] == v) { k++; cb++; }
        s += fabs((double)ca / (double)na - (double)cb / (double)nb);
    }
    return 0.5 * s;
}

/* Decile bin of v against sorted edges e (TV_BINS - 1 of them). */
static int decile_bin(float v, const float *e)
{
    int b = 0;
    while (b < TV_BINS - 1 && v > e[b]) b++;
    return b;
}

/* TV of a continuous column: real deciles as bin edges, plus the missing level. */
static double tv_binned(const float *a, int64_t ma, int64_t na, const float *b, int64_t mb,
                        int64_t nb)
{
    if (ma == 0) return tv_sorted(a, 0, na, b, 0, nb);
    float e[TV_BINS - 1];
    for (int k = 1; k < TV_BINS; k++) e[k - 1] = a[(int64_t)((double)k * (double)ma / TV_BINS)];
    double ca[TV_BINS] = {0}, cb[TV_BINS] = {0};
    for (int64_t i = 0; i < ma; i++) ca[decile_bin(a[i], e)] += 1.0;
    for (int64_t i = 0; i < mb; i++) cb[decile_bin(b[i], e)] += 1.0;
    double s = fabs((double)(na - ma) / (double)na - (double)(nb - mb) / (double)nb);
    for (int k = 0; k < TV_BINS; k++) s += fabs(ca[k] / (double)na - cb[k] / (double)nb);
    return 0.5 * s;
}

/* Per-column KS and TV complements and missing shares: ks (C) NaN for categories,
 * tv (C), miss (C) 1 - |missing share difference|. */
static int column_metrics(const sg_frame *r, const sg_frame *s, double *ks, double *tv,
                          double *miss, sg_error *err)
{
    int64_t n_r = r->n_rows, n_s = s->n_rows;
    float *a = sg_malloc_array((size_t)(n_r > 0 ? n_r : 1), sizeof *a);
    float *b = sg_malloc_array((size_t)(n_s > 0 ? n_s : 1), sizeof *b);
    if (!a || !b) {
        sg_free(a);
        sg_free(b);
        return sg_error_set(err, SG_ENOMEM, "fidelity: out of memory for %lld rows",
                            (long long)(n_r > n_s ? n_r : n_s));
    }
    for (int j = 0; j < r->n_cols; j++) {
        int64_t ma = gather_sorted(a, r->x + j, n_r, r->n_cols);
        int64_t mb = gather_sorted(b, s->x + j, n_s, s->n_cols);
        int kind = r->kind[j];
        ks[j] = is_number_kind(kind) ? 1.0 - ks_sorted(a, ma, b, mb) : (double)NAN;
        /* a number column where one side has no value at all: as far apart as can be */
        if (is_number_kind(kind) && (ma == 0) != (mb == 0)) ks[j] = 0.0;
        tv[j] = 1.0 - (kind == SG_FCOL_CONTINUOUS ? tv_binned(a, ma, n_r, b, mb, n_s)
                                                   : tv_sorted(a, ma, n_r, b, mb, n_s));
        miss[j] = 1.0 - fabs((double)(n_r - ma) / (double)n_r - (double)(n_s - mb) / (double)n_s);
    }
    sg_free(a);
    sg_free(b);
    return SG_OK;
}

/* ---------------------------------------------------------------------------
 * pairs: correlation and contingency */

/* Pearson r of columns (x, y) over rows where both are present; NaN when either is
 * constant there (or fewer than two rows). */
static double pearson(const double *x, const double *y, int64_t n)
{
    double sx = 0, sy = 0;
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(x[i]) || isnan(y[i])) continue;
        sx += x[i];
        sy += y[i];
        m++;
    }
    if (m < 2) return NAN;
    double mx = sx / (double)m, my = sy / (double)m, cxy = 0, cxx = 0, cyy = 0;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(x[i]) || isnan(y[i])) continue;
        double dx = x[i] - mx, dy = y[i] - my;
        cxy += dx * dy;
        cxx += dx * dx;
        cyy += dy * dy;
    }
    if (!(cxx > 0) || !(cyy > 0)) return NAN;
    return cxy / sqrt(cxx * cyy);
}

/* Columns 'cols' (m) of a frame into a column-major double matrix (m, n). */
static double *gather_columns(const sg_frame *f, const int *cols, int m)
{
    int64_t n = f->n_rows;
    double *out = sg_malloc_array((size_t)m * (size_t)(n > 0 ? n : 1), sizeof *out);
    if (!out) return NULL;
    for (int k = 0; k < m; k++)
        for (int64_t i = 0; i < n; i++)
            out[(size_t)k * (size_t)n + (size_t)i] = (double)f->x[i * f->n_cols + cols[k]];
    return out;
}

/* Mean over pairs of number columns of 1 - |r_real - r_syn| / 2; 1 when there is
 * no pair.  Pairs with a constant real column are skipped; a constant synthetic
 * column counts as r = 0. */
static int correlation_similarity(const sg_frame *r, const sg_frame *s, double *out, sg_error *err)
{
    int cols[MAX_PAIR_COLS], m = 0;
    for (int j = 0; j < r->n_cols && m < MAX_PAIR_COLS; j++)
        if (is_number_kind(r->kind[j])) cols[m++] = j;
    *out = 1.0;
    if (m < 2) return SG_OK;
    int64_t P = (int64_t)m * (m - 1) / 2;
    double *xr = gather_columns(r, cols, m), *xs = gather_columns(s, cols, m);
    double *sim = sg_malloc_array((size_t)P, sizeof *sim);
    int rc = SG_OK;
    if (!xr || !xs || !sim) {
        rc = sg_error_set(err, SG_ENOMEM, "fidelity: out of memory for %d correlation columns", m);
        goto done;
    }
    int64_t nr = r->n_rows, ns = s->n_rows;
    int64_t work = P * (nr + ns);
    (void)work;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 16) if (work > PAR_WORK)
#endif
    for (int64_t p = 0; p < P; p++) {
        /* pair index p -> (j < k) */
        int j = 0;
        int64_t q = p;
        while (q >= m - 1 - j) {
            q -= m - 1 - j;
            j++;
        }
        int k = j + 1 + (int)q;
        double rr = pearson(xr + (size_t)j * nr, xr + (size_t)k * nr, nr);
        double rs = pearson(xs + (size_t)j * ns, xs + (size_t)k * ns, ns);
        if (isnan(rr)) sim[p] = NAN;
        else sim[p] = 1.0 - fabs(rr - (isnan(rs) ? 0.0 : rs)) / 2.0;
    }
    double sum = 0;
    int64_t cnt = 0;
    for (int64_t p = 0; p < P; p++)
        if (!isnan(sim[p])) {
            sum += sim[p];
            cnt++;
        }
    *out = cnt ? sum / (double)cnt : 1.0;
done:
    sg_free(xr);
    sg_free(xs);
    sg_free(sim);
    return rc;
}

/* Level index per row of column j in both frames over the merged distinct values
 * (missing = the last level).  Returns the number of levels, 0 when above
 * MAX_PAIR_LEVELS, or -1 when out of memory. */
static int levels_of(const sg_frame *r, const sg_frame *s, int j, uint8_t *lr, uint8_t *ls,
                     float *buf)
{
    int64_t m = 0;
    for (int64_t i = 0; i < r->n_rows; i++) {
        float v = r->x[i * r->n_cols + j];
        if (!isnan(v)) buf[m++] = v;
    }
    for (int64_t i = 0; i < s->n_rows; i++) {
        float v = s->x[i * s->n_cols + j];
        if (!isnan(v)) buf[m++] = v;
    }
    qsort(buf, (size_t)m, sizeof *buf, cmp_float);
    int64_t u = 0;
    for (int64_t i = 0; i < m; i++)
        if (u == 0 || buf[i] != buf[u - 1]) buf[u++] = buf[i];
    if (u + 1 > MAX_PAIR_LEVELS) return 0;
    for (int side = 0; side < 2; side++) {
        const sg_frame *f = side ? s : r;
        uint8_t *l = side ? ls : lr;
        for (int64_t i = 0; i < f->n_rows; i++) {
            float v = f->x[i * f->n_cols + j];
            if (isnan(v)) {
                l[i] = (uint8_t)u;
                continue;
            }
            int64_t lo = 0, hi = u - 1;
            while (lo < hi) {
                int64_t mid = (lo + hi) / 2;
                if (buf[mid] < v) lo = mid + 1;
                else hi = mid;
            }
            l[i] = (uint8_t)lo;
        }
    }
    return (int)u + 1;
}

/* Mean over pairs of discrete/category columns of 1 - TV of the joint table. */
static int contingency_similarity(const sg_frame *r, const sg_frame *s, double *out, sg_error *err)
{
    int nlev[MAX_PAIR_COLS], m = 0;
    int64_t nr = r->n_rows, ns = s->n_rows;
    *out = 1.0;
    uint8_t *lr = NULL, *ls = NULL;
    float *buf = NULL;
    double *sim = NULL, *cells = NULL;
    int rc = SG_OK;
    int n_disc = 0;
    for (int j = 0; j < r->n_cols; j++) n_disc += r->kind[j] != SG_FCOL_CONTINUOUS;
    if (n_disc < 2) return SG_OK;
    int cap = n_disc < MAX_PAIR_COLS ? n_disc : MAX_PAIR_COLS;
    lr = sg_malloc_array((size_t)cap * (size_t)(nr > 0 ? nr : 1), 1);
    ls = sg_malloc_array((size_t)cap * (size_t)(ns > 0 ? ns : 1), 1);
    buf = sg_malloc_array((size_t)(nr + ns + 1), sizeof *buf);
    if (!lr || !ls || !buf) goto oom;
    for (int j = 0; j < r->n_cols && m < cap; j++) {
        if (r->kind[j] == SG_FCOL_CONTINUOUS) continue;
        int L = levels_of(r, s, j, lr + (size_t)m * nr, ls + (size_t)m * ns, buf);
        if (L <= 0) continue;
        nlev[m++] = L;
    }
    if (m < 2) goto done;
    int64_t P = (int64_t)m * (m - 1) / 2;
    sim = sg_malloc_array((size_t)P, sizeof *sim);
    int n_thr = 1;
#ifdef _OPENMP
    n_thr = omp_get_max_threads();
#endif
    cells = sg_calloc((size_t)n_thr * 2 * MAX_PAIR_LEVELS * MAX_PAIR_LEVELS, sizeof *cells);
    if (!sim || !cells) goto oom;
    int64_t work = P * (nr + ns);
    (void)work;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 8) if (work > PAR_WORK)
#endif
    for (int64_t p = 0; p < P; p++) {
        int j = 0;
        int64_t q = p;
        while (q >= m - 1 - j) {
            q -= m - 1 - j;
            j++;
        }
        int k = j + 1 + (int)q;
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        int Lj = nlev[j], Lk = nlev[k];
        double *cr = cells + (size_t)tid * 2 * MAX_PAIR_LEVELS * MAX_PAIR_LEVELS;
        double *cs = cr + MAX_PAIR_LEVELS * MAX_PAIR_LEVELS;
        memset(cr, 0, (size_t)Lj * Lk * sizeof *cr);
        memset(cs, 0, (size_t)Lj * Lk * sizeof *cs);
        const uint8_t *rj = lr + (size_t)j * nr, *rk = lr + (size_t)k * nr;
        const uint8_t *sj = ls + (size_t)j * ns, *sk = ls + (size_t)k * ns;
        for (int64_t i = 0; i < nr; i++) cr[rj[i] * Lk + rk[i]] += 1.0;
        for (int64_t i = 0; i < ns; i++) cs[sj[i] * Lk + sk[i]] += 1.0;
        double t = 0;
        for (int c = 0; c < Lj * Lk; c++) t += fabs(cr[c] / (double)nr - cs[c] / (double)ns);
        sim[p] = 1.0 - 0.5 * t;
    }
    double sum = 0;
    for (int64_t p = 0; p < P; p++) sum += sim[p];
    *out = sum / (double)P;
    goto done;
oom:
    rc = sg_error_set(err, SG_ENOMEM, "fidelity: out of memory for the contingency tables");
done:
    sg_free(lr);
    sg_free(ls);
    sg_free(buf);
    sg_free(sim);
    sg_free(cells);
    return rc;
}

int sg_fidelity_marginals(const sg_frame *real, const sg_frame *synth, double *ks, double *tv,
                          double *corr, double *cont, double *score, sg_error *err)
{
    int rc;
    if ((rc = check_frame(real, "real", err)) || (rc = check_frame(synth, "synthetic", err)) ||
        (rc = same_shape(real, synth, "synthetic", err)))
        return rc;
    if (real->n_rows < 1 || synth->n_rows < 1)
        return sg_error_set(err, SG_EINVAL, "fidelity: a frame has no rows");
    int C = real->n_cols;
    double *k = sg_malloc_array((size_t)C * 3, sizeof *k);
    if (!k) return sg_error_set(err, SG_ENOMEM, "fidelity: out of memory");
    double c = 1.0, ct = 1.0;
    if ((rc = column_metrics(real, synth, k, k + C, k + 2 * C, err)) ||
        (rc = correlation_similarity(real, synth, &c, err)) ||
        (rc = contingency_similarity(real, synth, &ct, err))) {
        sg_free(k);
        return rc;
    }
    double sk = 0, st = 0;
    int nk = 0;
    for (int j = 0; j < C; j++) {
        if (!isnan(k[j])) {
            sk += k[j];
            nk++;
        }
        st += k[C + j];
    }
    double mk = nk ? sk / nk : st / C, mt = st / C;
    if (ks) *ks = mk;
    if (tv) *tv = mt;
    if (corr) *corr = c;
    if (cont) *cont = ct;
    if (score) *score = (mk + mt + c + ct) / 4.0;
    sg_free(k);
    return SG_OK;
}

/* ---------------------------------------------------------------------------
 * distance to closest record */

/* Rows of f rewritten for Gower: numbers divided by their range (missing ->
 * GOWER_MISSING), categories as codes (missing -> -1); columns reordered with the
 * numbers first.  out (n, C). */
static void gower_prepare(float *out, const sg_frame *f, const int *order, const float *inv_range,
                          int n_num)
{
    int C = f->n_cols;
    for (int64_t i = 0; i < f->n_rows; i++) {
        const float *x = f->x + i * C;
        float *o = out + i * C;
        for (int c = 0; c < C; c++) {
            float v = x[order[c]];
            if (c < n_num) o[c] = isnan(v) ? GOWER_MISSING : v * inv_range[c];
            else o[c] = isnan(v) ? -1.0f : v;
        }
    }
}

int sg_fidelity_dcr(const sg_frame *ref, const sg_frame *query, double *dist, sg_error *err)
{
    int rc;
    if ((rc = check_frame(ref, "reference", err)) || (rc = check_frame(query, "query", err)) ||
        (rc = same_shape(ref, query, "query", err)))
        return rc;
    if (ref->n_rows < 1) return sg_error_set(err, SG_EINVAL, "fidelity: DCR needs reference rows");
    int C = ref->n_cols, n_num = 0;
    int *order = sg_malloc_array((size_t)C, sizeof *order);
    float *inv = sg_malloc_array((size_t)C, sizeof *inv);
    float *pr = sg_malloc_array((size_t)ref->n_rows * C, sizeof *pr);
    float *pq = sg_malloc_array((size_t)(query->n_rows > 0 ? query->n_rows : 1) * C, sizeof *pq);
    if (!order || !inv || !pr || !pq) {
        rc = sg_error_set(err, SG_ENOMEM, "fidelity: out of memory for DCR over %lld rows",
                          (long long)ref->n_rows);
        goto done;
    }
    for (int pass = 0; pass < 2; pass++)
        for (int j = 0; j < C; j++)
            if (is_number_kind(ref->kind[j]) == !pass) order[n_num++] = j;
    n_num = 0;
    for (int j = 0; j < C; j++) {
        if (!is_number_kind(ref->kind[order[j]])) break;
        float lo = INFINITY, hi = -INFINITY;
        for (int64_t i = 0; i < ref->n_rows; i++) {
            float v = ref->x[i * C + order[j]];
            if (isnan(v)) continue;
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        inv[j] = hi > lo ? 1.0f / (hi - lo) : 0.0f;
        n_num++;
    }
    gower_prepare(pr, ref, order, inv, n_num);
    gower_prepare(pq, query, order, inv, n_num);
    int64_t NR = ref->n_rows, work = NR * query->n_rows * C;
    (void)work;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 16) if (work > PAR_WORK)
#endif
    for (int64_t q = 0; q < query->n_rows; q++) {
        const float *a = pq + q * C;
        float best = INFINITY;
        for (int64_t i = 0; i < NR && best > 0.0f; i++) {
            const float *b = pr + i * C;
            float d = 0.0f;
            for (int c = 0; c < n_num; c++) d += fminf(fabsf(a[c] - b[c]), 1.0f);
            for (int c = n_num; c < C; c++) d += a[c] != b[c] ? 1.0f : 0.0f;
            if (d < best) best = d;
        }
        dist[q] = (double)best / (double)C;
    }
    rc = SG_OK;
done:
    sg_free(order);
    sg_free(inv);
    sg_free(pr);
    sg_free(pq);
    return rc;
}

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* Quantile q of sorted x (n > 0), linear interpolation between order statistics. */
static double quantile_sorted(const double *x, int64_t n, double q)
{
    double h = q * (double)(n - 1);
    int64_t lo = (int64_t)floor(h);
    if (lo >= n - 1) return x[n - 1];
    return x[lo] + (h - (double)lo) * (x[lo + 1] - x[lo]);
}

/* DCR of the first min(n_rows, cap) rows of 'query' against 'ref': median, 5th
 * percentile and share at distance 0. */
static int dcr_summary(const sg_frame *ref, const sg_frame *query, int64_t cap, double *median,
                       double *p05, double *exact, int64_t *n_used, sg_error *err)
{
    sg_frame q = *query;
    if (cap > 0 && q.n_rows > cap) q.n_rows = cap;
    *n_used = q.n_rows;
    *median = *p05 = *exact = NAN;
    if (q.n_rows == 0) return SG_OK;
    double *d = sg_malloc_array((size_t)q.n_rows, sizeof *d);
    if (!d) return sg_error_set(err, SG_ENOMEM, "fidelity: out of memory for DCR");
    int rc = sg_fidelity_dcr(ref, &q, d, err);
    if (rc == SG_OK) {
        qsort(d, (size_t)q.n_rows, sizeof *d, cmp_double);
        *median = quantile_sorted(d, q.n_rows, 0.5);
        *p05 = quantile_sorted(d, q.n_rows, 0.05);
        int64_t z = 0;
        while (z < q.n_rows && d[z] == 0.0) z++;
        *exact = (double)z / (double)q.n_rows;
    }
    sg_free(d);
    return rc;
}

/* ---------------------------------------------------------------------------
 * machine-learning efficacy */

/* Binarised target of row x, -1 when missing. */
static int target_of(const float *x, const sg_fidelity_opts *o)
{
    float v = x[o->target];
    if (isnan(v)) return -1;
    if (o->target_rule == SG_TARGET_EQUAL) return v == o->target_value;
    return v > o->target_value;
}

/* Features (all columns but the target) and labels of the rows of f with a target,
 * at most 'cap' of them (0 = all).  *X (n, C-1), *y (n) owned by the caller. */
static int efficacy_matrix(const sg_frame *f, const sg_fidelity_opts *o, int64_t cap, float **X,
                           float **y, int64_t *n, sg_error *err)
{
    int C = f->n_cols;
    int64_t m = 0;
    for (int64_t i = 0; i < f->n_rows; i++) m += target_of(f->x + i * C, o) >= 0;
    if (cap > 0 && m > cap) m = cap;
    *X = sg_malloc_array((size_t)(m > 0 ? m : 1) * (size_t)(C > 1 ? C - 1 : 1), sizeof **X);
    *y = sg_malloc_array((size_t)(m > 0 ? m : 1), sizeof **y);
    if (!*X || !*y) {
        sg_free(*X);
        sg_free(*y);
        *X = *y = NULL;
        return sg_error_set(err, SG_ENOMEM, "fidelity: out of memory for the efficacy rows");
    }
    int64_t k = 0;
    for (int64_t i = 0; i < f->n_rows && k < m; i++) {
        const float *x = f->x + i * C;
        int t = target_of(x, o);
        if (t < 0) continue;
        float *row = *X + k * (C - 1);
        for (int j = 0, c = 0; j < C; j++)
            if (j != o->target) row[c++] = x[j];
        (*y)[k++] = (float)t;
    }
    *n = k;
    return SG_OK;
}

/* AUC on 'test' of a GBDT trained on 'train'; NaN when either side has one class. */
static int efficacy_auc(const sg_frame *train, const sg_frame *test, const sg_fidelity_opts *o,
                        int64_t cap, const uint8_t *is_cat, double *auc, sg_error *err)
{
    float *Xa = NULL, *ya = NULL, *Xt = NULL, *yt = NULL;
    double *pred = NULL;
    sg_gbdt *g = NULL;
    int64_t na = 0, nt = 0;
    int rc;
    *auc = NAN;
    if ((rc = efficacy_matrix(train, o, cap, &Xa, &ya, &na, err)) ||
        (rc = efficacy_matrix(test, o, 0, &Xt, &yt, &nt, err)))
        goto done;
    double pa = 0, pt = 0;
    for (int64_t i = 0; i < na; i++) pa += (double)ya[i];
    for (int64_t i = 0; i < nt; i++) pt += (double)yt[i];
    if (na < 2 || nt < 2 || pa == 0 || pa == (double)na || pt == 0 || pt == (double)nt) goto done;
    sg_gbdt_params p;
    sg_gbdt_params_default(&p);
    p.n_trees = o->n_trees > 0 ? o->n_trees : 200;
    p.learning_rate = 0.05f;
    p.max_leaves = 15;
    p.max_depth = 4;
    p.min_child_weight = 5.0f;
    p.subsample = 0.8f;
    p.colsample = 0.8f;
    p.seed = o->seed;
    int D = train->n_cols - 1;
    if ((rc = sg_gbdt_train(&g, Xa, ya, NULL, na, D, is_cat, NULL, NULL, 0, &p, err))) goto done;
    pred = sg_malloc_array((size_t)nt, sizeof *pred);
    if (!pred) {
        rc = sg_error_set(err, SG_ENOMEM, "fidelity: out of memory");
        goto done;
    }
    if ((rc = sg_gbdt_predict(g, Xt, nt, 0, pred, err))) goto done;
    *auc = sg_auc(pred, yt, NULL, nt);
done:
    sg_gbdt_free(g);
    sg_free(Xa);
    sg_free(ya);
    sg_free(Xt);
    sg_free(yt);
    sg_free(pred);
    return rc;
}

/* is_cat (C - 1 features): category columns whose codes fit the GBDT's bins. */
static void efficacy_is_cat(const sg_frame *const *fs, int nf, int target, uint8_t *is_cat)
{
    int C = fs[0]->n_cols;
    for (int j = 0, c = 0; j < C; j++) {
        if (j == target) continue;
        is_cat[c] = 0;
        if (fs[0]->kind[j] == SG_FCOL_CATEGORY) {
            float mx = 0;
            for (int f = 0; f < nf; f++)
                for (int64_t i = 0; i < fs[f]->n_rows; i++) {
                    float v = fs[f]->x[i * C + j];
                    if (v > mx) mx = v;
                }
            is_cat[c] = mx < 250.0f;
        }
        c++;
    }
}

int sg_fidelity_efficacy(const sg_frame *train, const sg_frame *test, const sg_fidelity_opts *o,
                         double *auc, sg_error *err)
{
    int rc;
    *auc = NAN;
    if ((rc = check_frame(train, "training", err)) || (rc = check_frame(test, "test", err)) ||
        (rc = same_shape(train, test, "test", err)))
        return rc;
    if (!o || o->target < 0 || o->target >= train->n_cols || train->n_cols < 2)
        return sg_error_set(err, SG_EINVAL, "fidelity: efficacy needs a target column");
    uint8_t *is_cat = sg_calloc((size_t)train->n_cols, 1);
    if (!is_cat) return sg_error_set(err, SG_ENOMEM, "fidelity: out of memory");
    const sg_frame *fs[2] = {train, test};
    efficacy_is_cat(fs, 2, o->target, is_cat);
    rc = efficacy_auc(train, test, o, o->max_efficacy_rows, is_cat, auc, err);
    sg_free(is_cat);
    return rc;
}

/* ---------------------------------------------------------------------------
 * the report */

int sg_fidelity_compare(const sg_frame *train, const sg_frame *holdout, const sg_frame *synth,
                        const sg_fidelity_opts *o, sg_fidelity_report *rep, sg_error *err)
{
    sg_fidelity_opts def;
    if (!o) {
        sg_fidelity_opts_default(&def);
        o = &def;
    }
    memset(rep, 0, sizeof *rep);
    int rc;
    if ((rc = check_frame(train, "training", err)) || (rc = check_frame(synth, "synthetic", err)) ||
        (rc = same_shape(train, synth, "synthetic", err)))
        return rc;
    if (holdout && ((rc = check_frame(holdout, "hold-out", err)) ||
                    (rc = same_shape(train, holdout, "hold-out", err))))
        return rc;
    if (train->n_rows < 1 || synth->n_rows < 1)
        return sg_error_set(err, SG_EINVAL, "fidelity: the %s frame has no rows",
                            train->n_rows < 1 ? "training" : "synthetic");
    if (o->target >= train->n_cols || o->target < -1)
        return sg_error_set(err, SG_EINVAL, "fidelity: target column %d out of range (%d columns)",
                            o->target, train->n_cols);
    int C = train->n_cols;
    rep->n_cols = C;
    rep->n_train = train->n_rows;
    rep->n_holdout = holdout ? holdout->n_rows : 0;
    rep->n_synthetic = synth->n_rows;
    rep->ks_col = sg_malloc_array((size_t)C, sizeof *rep->ks_col);
    rep->tv_col = sg_malloc_array((size_t)C, sizeof *rep->tv_col);
    double *miss = sg_malloc_array((size_t)C, sizeof *miss);
    uint8_t *is_cat = sg_calloc((size_t)C, 1);
    if (!rep->ks_col || !rep->tv_col || !miss || !is_cat) {
        rc = sg_error_set(err, SG_ENOMEM, "fidelity: out of memory");
        goto done;
    }
    /* marginals, pairs */
    if ((rc = column_metrics(train, synth, rep->ks_col, rep->tv_col, miss, err))) goto done;
    double sk = 0, st = 0, sm = 0;
    int nk = 0;
    for (int j = 0; j < C; j++) {
        if (!isnan(rep->ks_col[j])) {
            sk += rep->ks_col[j];
            nk++;
        }
        st += rep->tv_col[j];
        sm += miss[j];
    }
    rep->ks_complement = nk ? sk / nk : (double)NAN;
    rep->tv_complement = st / C;
    rep->missing_similarity = sm / C;
    if ((rc = correlation_similarity(train, synth, &rep->correlation_similarity, err)) ||
        (rc = contingency_similarity(train, synth, &rep->contingency_similarity, err)))
        goto done;
    /* efficacy */
    rep->tstr_auc = rep->trtr_auc = NAN;
    if (o->target >= 0 && holdout && holdout->n_rows > 0) {
        /* category codes beyond the GBDT's bins are used as numbers */
        const sg_frame *fs[3] = {train, holdout, synth};
        efficacy_is_cat(fs, 3, o->target, is_cat);
        if ((rc = efficacy_auc(synth, holdout, o, o->max_efficacy_rows, is_cat, &rep->tstr_auc,
                               err)) ||
            (rc = efficacy_auc(train, holdout, o, 0, is_cat, &rep->trtr_auc, err)))
            goto done;
    }
    /* privacy */
    int64_t cap = o->max_dcr_rows > 0 ? o->max_dcr_rows : 2000;
    if ((rc = dcr_summary(train, synth, cap, &rep->dcr_synthetic_median, &rep->dcr_synthetic_p05,
                          &rep->exact_copy_synthetic, &rep->n_dcr_synthetic, err)))
        goto done;
    rep->dcr_holdout_median = rep->dcr_holdout_p05 = rep->exact_copy_holdout = NAN;
    if (holdout && holdout->n_rows > 0) {
        if ((rc = dcr_summary(train, holdout, cap, &rep->dcr_holdout_median,
                              &rep->dcr_holdout_p05, &rep->exact_copy_holdout,
                              &rep->n_dcr_holdout, err)))
            goto done;
        double n1 = (double)rep->n_dcr_synthetic, n2 = (double)rep->n_dcr_holdout;
        double pool = (rep->exact_copy_synthetic * n1 + rep->exact_copy_holdout * n2) / (n1 + n2);
        double se = sqrt(pool * (1.0 - pool) * (1.0 / n1 + 1.0 / n2));
        rep->too_close = rep->dcr_synthetic_median < rep->dcr_holdout_median ||
                         rep->exact_copy_synthetic > rep->exact_copy_holdout + 3.0 * se + 1.0 / n1;
    } else {
        rep->too_close = rep->exact_copy_synthetic > 0.05;
    }
    rc = SG_OK;
done:
    sg_free(miss);
    sg_free(is_cat);
    return rc;
}

/* budget.c -- task 'budget': the media-mix model (described in
 * include/stratagem/budget.h): reading the series, choosing each channel's
 * carry-over and saturation curve, non-negative least squares, the block
 * bootstrap, the model file, prediction and the held-out check.
 *
 * Every candidate curve of every channel is computed once (the spends do not
 * change between bootstrap replicates, only the outcome does), so a candidate
 * costs one pass over the periods to accumulate the fold Gram matrices and a
 * few small solves.  See LICENSE. */
#include "budget_private.h"

#include <math.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "io/serial.h"
#include "stratagem/linalg.h"
#include "stratagem/mem.h"
#include "stratagem/model.h"
#include "stratagem/rng.h"

/* The curve grid: carry-over, shape, and half-saturation as a multiple of the
 * channel's mean adstock. */
static const double LAM_GRID[] = {0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8};
static const double ALPHA_GRID[] = {1.0, 2.0};
static const double KAPPA_GRID[] = {0.25, 0.5, 1.0, 2.0, 4.0};
#define N_LAM ((int)(sizeof LAM_GRID / sizeof *LAM_GRID))
#define N_ALPHA ((int)(sizeof ALPHA_GRID / sizeof *ALPHA_GRID))
#define N_KAPPA ((int)(sizeof KAPPA_GRID / sizeof *KAPPA_GRID))
#define N_CURVES (N_LAM * N_ALPHA * N_KAPPA)
#define CURVE_START ((3 * N_ALPHA + 0) * N_KAPPA + 2)   /* lambda 0.3, alpha 1, kappa 1 */
#define MAX_SWEEPS 4
#define MAX_CURVE_CELLS 50000000   /* channels x curves x periods kept: 400 MB */
#define RIDGE 1e-6        /* per row, on the base terms but the intercept (numerical) */
#define ROI_PRIOR_SD 2.0  /* the channels' return on spend: a normal prior, mean 0, this sd */

void sg_budget_opts_default(sg_budget_opts *o)
{
    memset(o, 0, sizeof *o);
    o->folds = 5;
    o->n_draws = 100;
    o->seed = 1;
}

double sg_budget_hill(double a, double alpha, double k)
{
    if (!(a > 0)) return 0.0;
    double r = a / k, p = alpha == 1.0 ? r : alpha == 2.0 ? r * r : pow(r, alpha);
    return p / (1.0 + p);
}

double sg_budget_curve_effect(double lam, double alpha, double k, double beta, double state,
                              int weeks, double x)
{
    int tail = 0;
    if (lam > 0) {
        tail = (int)ceil(log(1e-3) / log(lam));
        if (tail > 104) tail = 104;
    }
    double a = state, a0 = state, s = 0;
    for (int t = 0; t < weeks + tail; t++) {
        double xt = t < weeks ? x : 0.0;
        a = xt + lam * a;
        a0 = lam * a0;
        s += sg_budget_hill(a, alpha, k) - sg_budget_hill(a0, alpha, k);
    }
    return beta * s;
}

/* ---- reading the series ---- */

static int bad_value(const sg_table *t, int64_t i, int j, const char *expect, sg_error *err)
{
    char buf[48];
    return sg_error_set(err, SG_EPARSE, "%s:%lld: column '%s': expected %s, got \"%s\"",
                        sg_table_name(t), (long long)sg_table_row_line(t, i),
                        sg_table_col_name(t, j), expect, sg_table_cell(t, i, j, buf, sizeof buf));
}

static int num_col(const sg_table *t, const char *name, const char *role, int *col, sg_error *err)
{
    int j = sg_table_find(t, name);
    if (j < 0)
        return sg_error_set(err, SG_ENOTFOUND, "%s: no column '%s' (the %s)", sg_table_name(t),
                            name, role);
    if (!sg_table_num(t, j))
        return sg_error_set(err, SG_EPARSE, "%s: column '%s' (the %s) must be numbers, but it "
                            "holds text (%s)", sg_table_name(t), name, role,
                            sg_coltype_name(sg_table_col_type(t, j)));
    *col = j;
    return SG_OK;
}

/* The series of table t: periods (n), spends x (C x n, channel-major),
 * controls z (J x n, raw), outcome y (n, when 'y' is not NULL).  Periods must
 * increase strictly; values must be present, spends >= 0. */
typedef struct series {
    int n;
    double *period, *x, *z, *y;
} series;

static void series_free(series *s)
{
    sg_free(s->period);
    sg_free(s->x);
    sg_free(s->z);
    sg_free(s->y);
    memset(s, 0, sizeof *s);
}

static int series_read(series *s, const sg_table *t, const char *period, const char *outcome,
                       char *const *chan, int C, char *const *ctrl, int J, sg_error *err)
{
    memset(s, 0, sizeof *s);
    int64_t n64 = sg_table_n_rows(t);
    if (n64 < 1) return sg_error_set(err, SG_EINVAL, "%s: no rows", sg_table_name(t));
    if (n64 > 1000000)
        return sg_error_set(err, SG_EINVAL, "%s: %lld periods; the media-mix model takes at "
                            "most 1,000,000", sg_table_name(t), (long long)n64);
    int n = (int)n64, cp, cy = -1, rc;
    if ((rc = num_col(t, period, "period", &cp, err))) return rc;
    if (outcome && (rc = num_col(t, outcome, "outcome", &cy, err))) return rc;
    s->n = n;
    s->period = sg_malloc_array((size_t)n, sizeof *s->period);
    s->x = sg_malloc_array((size_t)C * n, sizeof *s->x);
    s->z = sg_malloc_array((size_t)(J ? J : 1) * n, sizeof *s->z);
    s->y = outcome ? sg_malloc_array((size_t)n, sizeof *s->y) : NULL;
    if (!s->period || !s->x || !s->z || (outcome && !s->y)) {
        series_free(s);
        return sg_error_set(err, SG_ENOMEM, "budget: out of memory (%d periods)", n);
    }
    const double *pv = sg_table_num(t, cp);
    for (int i = 0; i < n; i++) {
        if (isnan(pv[i])) { rc = bad_value(t, i, cp, "a period (a number or date)", err); goto fail; }
        if (i && !(pv[i] > pv[i - 1])) {
            char buf[48];
            rc = sg_error_set(err, SG_EPARSE, "%s:%lld: column '%s': expected a period after "
                              "the previous row's (rows in period order, each period once), "
                              "got \"%s\"", sg_table_name(t), (long long)sg_table_row_line(t, i),
                              period, sg_table_cell(t, i, cp, buf, sizeof buf));
            goto fail;
        }
        s->period[i] = pv[i];
    }
    for (int c = 0; c < C; c++) {
        int j;
        if ((rc = num_col(t, chan[c], "channel spend", &j, err))) goto fail;
        const double *v = sg_table_num(t, j);
        for (int i = 0; i < n; i++) {
            if (!(v[i] >= 0)) { rc = bad_value(t, i, j, "a spend >= 0", err); goto fail; }
            s->x[(size_t)c * n + i] = v[i];
        }
    }
    for (int q = 0; q < J; q++) {
        int j;
        if ((rc = num_col(t, ctrl[q], "control", &j, err))) goto fail;
        const double *v = sg_table_num(t, j);
        for (int i = 0; i < n; i++) {
            if (isnan(v[i])) { rc = bad_value(t, i, j, "a number (controls may not be missing)", err); goto fail; }
            s->z[(size_t)q * n + i] = v[i];
        }
    }
    if (outcome) {
        const double *v = sg_table_num(t, cy);
        for (int i = 0; i < n; i++) {
            if (isnan(v[i])) { rc = bad_value(t, i, cy, "an outcome (a number)", err); goto fail; }
            s->y[i] = v[i];
        }
    }
    return SG_OK;
fail:
    series_free(s);
    return rc;
}

/* ---- the design ---- */

static int off_ctrl(const sg_budget *m)
{
    return 1 + m->trend + (m->season > 0 ? 2 * SG_BUDGET_HARMONICS : 0);
}

/* The terms other than the channels for period index t (0 = first training
 * period; later periods continue it) with raw controls z (J values, stride
 * zs): row[0 .. P - C). */
static void base_row(const sg_budget *m, double t, const double *z, size_t zs, double *row)
{
    int p = 0;
    row[p++] = 1.0;
    if (m->trend) row[p++] = t / m->T;
    if (m->season > 0)
        for (int h = 1; h <= SG_BUDGET_HARMONICS; h++) {
            double w = 2.0 * M_PI * h * t / m->season;
            row[p++] = sin(w);
            row[p++] = cos(w);
        }
    for (int j = 0; j < m->J; j++) row[p++] = (z[(size_t)j * zs] - m->ctrl_mean[j]) / m->ctrl_sd[j];
}

static void curve_params(double xbar, int g, double *lam, double *alpha, double *k)
{
    int il = g / (N_ALPHA * N_KAPPA), ia = (g / N_KAPPA) % N_ALPHA, ik = g % N_KAPPA;
    *lam = LAM_GRID[il];
    *alpha = ALPHA_GRID[ia];
    *k = KAPPA_GRID[ik] * xbar / (1.0 - *lam);
}

double sg_budget_adstock(const double *x, int n, double xbar, double scale, double lam,
                         double alpha, double k, double *col, double *sum)
{
    double a = scale * xbar / (1.0 - lam), s = 0;
    for (int t = 0; t < n; t++) {
        a = scale * x[t] + lam * a;
        if (col || sum) {
            double h = sg_budget_hill(a, alpha, k);
            if (col) col[t] = h;
            s += h;
        }
    }
    if (sum) *sum = s;
    return a;
}

/* What the fit needs: the base design (T x P0, row-major), every candidate
 * curve of every channel (C x N_CURVES x T), the folds. */
typedef struct fitctx {
    int T, P0, P, C, F;
    const double *base;
    const double *curves;
    const int *fold;            /* (T) fold of each period */
    const double *pen;          /* (C x N_CURVES) prior penalty of each curve's coefficient */
} fitctx;

static const double *curve(const fitctx *fx, int c, int g)
{
    return fx->curves + ((size_t)c * N_CURVES + g) * fx->T;
}

/* Least squares on the active columns of a P x P Gram matrix G and vector b,
 * the channel coefficients held >= 0 (a negative one leaves the active set and
 * the rest is refitted).  beta (P) gets zeros for inactive columns.  Returns
 * 0, or nonzero if the system is singular. */
static int nn_solve(const double *G, const double *b, int P, int P0, const double *ridge,
                    double *beta, double *work)
{
    int act[256], na;
    unsigned char on[256];
    for (int p = 0; p < P; p++) on[p] = 1;
    for (;;) {
        na = 0;
        for (int p = 0; p < P; p++)
            if (on[p]) act[na++] = p;
        double *A = work, *r = work + (size_t)na * na;
        for (int i = 0; i < na; i++) {
            for (int j = 0; j < na; j++) A[i * na + j] = G[act[i] * P + act[j]];
            A[i * na + i] += ridge[act[i]];
            r[i] = b[act[i]];
        }
        if (sg_dposv(na, A, r)) return 1;
        for (int p = 0; p < P; p++) beta[p] = 0;
        int worst = -1;
        for (int i = 0; i < na; i++) {
            beta[act[i]] = r[i];
            if (act[i] >= P0 && r[i] < 0 && (worst < 0 || r[i] < beta[worst])) worst = act[i];
        }
        if (worst < 0) return 0;
        on[worst] = 0;
    }
}

/* Accumulate each fold's Gram matrix and right-hand side for the channels'
 * curves g (C); X row t is base row t then the curves.  Gf (F x P x P), bf
 * (F x P), both zeroed here. */
static void grams(const fitctx *fx, const int *g, const double *y, double *Gf, double *bf,
                  double *row)
{
    int P = fx->P, P0 = fx->P0;
    memset(Gf, 0, sizeof *Gf * (size_t)fx->F * P * P);
    memset(bf, 0, sizeof *bf * (size_t)fx->F * P);
    for (int t = 0; t < fx->T; t++) {
        memcpy(row, fx->base + (size_t)t * P0, sizeof *row * (size_t)P0);
        for (int c = 0; c < fx->C; c++) row[P0 + c] = curve(fx, c, g[c])[t];
        double *G = Gf + (size_t)fx->fold[t] * P * P, *b = bf + (size_t)fx->fold[t] * P;
        for (int i = 0; i < P; i++) {
            double ri = row[i];
            b[i] += ri * y[t];
            for (int j = 0; j <= i; j++) G[i * P + j] += ri * row[j];
        }
    }
    for (int f = 0; f < fx->F; f++) {
        double *G = Gf + (size_t)f * P * P;
        for (int i = 0; i < P; i++)
            for (int j = 0; j < i; j++) G[j * P + i] = G[i * P + j];
    }
}

static double predict_row(const fitctx *fx, const int *g, int t, const double *beta)
{
    double s = 0;
    const double *br = fx->base + (size_t)t * fx->P0;
    for (int p = 0; p < fx->P0; p++) s += br[p] * beta[p];
    for (int c = 0; c < fx->C; c++) s += curve(fx, c, g[c])[t] * beta[fx->P0 + c];
    return s;
}

typedef struct scratch {
    double *Gf, *bf, *G, *b, *beta, *row, *work, *ridge;
} scratch;

static void scratch_free(scratch *s)
{
    sg_free(s->Gf);
    sg_free(s->bf);
    sg_free(s->G);
    sg_free(s->b);
    sg_free(s->beta);
    sg_free(s->row);
    sg_free(s->work);
    sg_free(s->ridge);
    memset(s, 0, sizeof *s);
}

static int scratch_alloc(scratch *s, int F, int P)
{
    memset(s, 0, sizeof *s);
    s->Gf = sg_malloc_array((size_t)F * P * P, sizeof *s->Gf);
    s->bf = sg_malloc_array((size_t)F * P, sizeof *s->bf);
    s->G = sg_malloc_array((size_t)P * P, sizeof *s->G);
    s->b = sg_malloc_array((size_t)P, sizeof *s->b);
    s->beta = sg_malloc_array((size_t)P, sizeof *s->beta);
    s->row = sg_malloc_array((size_t)P, sizeof *s->row);
    s->work = sg_malloc_array((size_t)P * P + P, sizeof *s->work);
    s->ridge = sg_malloc_array((size_t)P, sizeof *s->ridge);
    if (s->Gf && s->bf && s->G && s->b && s->beta && s->row && s->work && s->ridge) return 0;
    scratch_free(s);
    return 1;
}

/* The diagonal penalty: a small ridge on the base terms but the intercept,
 * and each channel's prior on its return for curves g. */
static void set_ridge(const fitctx *fx, const int *g, int n_rows, double *ridge)
{
    ridge[0] = 0;
    for (int p = 1; p < fx->P0; p++) ridge[p] = RIDGE * n_rows;
    for (int c = 0; c < fx->C; c++)
        ridge[fx->P0 + c] = fx->pen ? fx->pen[(size_t)c * N_CURVES + g[c]] : 0.0;
}

/* Blocked cross-validation SSE of curves g on outcome y ('with_media' 0: the
 * base terms alone).  HUGE_VAL if a fold's system is singular. */
static double cv_sse(const fitctx *fx, const int *g, const double *y, int with_media, scratch *s)
{
    int P = fx->P, Pu = with_media ? P : fx->P0;
    grams(fx, g, y, s->Gf, s->bf, s->row);
    double sse = 0;
    for (int f = 0; f < fx->F; f++) {
        int n_train = 0;
        for (int t = 0; t < fx->T; t++) n_train += fx->fold[t] != f;
        /* the training folds' system: the sum of the others, on the first Pu terms */
        for (int i = 0; i < Pu; i++) {
            s->b[i] = 0;
            for (int j = 0; j < Pu; j++) s->G[i * Pu + j] = 0;
        }
        for (int h = 0; h < fx->F; h++) {
            if (h == f) continue;
            const double *Gh = s->Gf + (size_t)h * P * P, *bh = s->bf + (size_t)h * P;
            for (int i = 0; i < Pu; i++) {
                s->b[i] += bh[i];
                for (int j = 0; j < Pu; j++) s->G[i * Pu + j] += Gh[i * P + j];
            }
        }
        set_ridge(fx, g, n_train, s->ridge);
        if (nn_solve(s->G, s->b, Pu, fx->P0, s->ridge, s->beta, s->work)) return HUGE_VAL;
        for (int p = Pu; p < P; p++) s->beta[p] = 0;
        for (int t = 0; t < fx->T; t++) {
            if (fx->fold[t] != f) continue;
            double e = y[t] - predict_row(fx, g, t, s->beta);
            sse += e * e;
        }
    }
    return sse;
}

/* Least squares on all periods with curves g: beta (P). */
static int fit_all(const fitctx *fx, const int *g, const double *y, scratch *s, double *beta)
{
    int P = fx->P;
    grams(fx, g, y, s->Gf, s->bf, s->row);
    memset(s->G, 0, sizeof *s->G * (size_t)P * P);
    memset(s->b, 0, sizeof *s->b * (size_t)P);
    for (int f = 0; f < fx->F; f++)
        for (int i = 0; i < P; i++) {
            s->b[i] += s->bf[(size_t)f * P + i];
            for (int j = 0; j < P; j++) s->G[i * P + j] += s->Gf[((size_t)f * P + i) * P + j];
        }
    set_ridge(fx, g, fx->T, s->ridge);
    return nn_solve(s->G, s->b, P, fx->P0, s->ridge, beta, s->work);
}

/* Coordinate search over the channels' curves from g (updated in place), at
 * most 'sweeps' passes; returns the CV SSE of the result. */
static double choose_curves(const fitctx *fx, int *g, const double *y, int sweeps, scratch *s)
{
    double best = cv_sse(fx, g, y, 1, s);
    for (int sw = 0; sw < sweeps; sw++) {
        int changed = 0;
        for (int c = 0; c < fx->C; c++) {
            int keep = g[c];
            for (int h = 0; h < N_CURVES; h++) {
                if (h == keep) continue;
                g[c] = h;
                double v = cv_sse(fx, g, y, 1, s);
                if (v < best * (1 - 1e-12)) {
                    best = v;
                    keep = h;
                    changed = 1;
                }
            }
            g[c] = keep;
        }
        if (!changed) break;
    }
    return best;
}

/* ---- training ---- */

static int alloc_model(sg_budget *m)
{
    size_t D1 = (size_t)m->D + 1, C = (size_t)m->C;
    m->chan = sg_calloc(C, sizeof *m->chan);
    m->ctrl = sg_calloc((size_t)(m->J ? m->J : 1), sizeof *m->ctrl);
    m->ctrl_mean = sg_calloc((size_t)(m->J ? m->J : 1), sizeof *m->ctrl_mean);
    m->ctrl_sd = sg_calloc((size_t)(m->J ? m->J : 1), sizeof *m->ctrl_sd);
    m->xbar = sg_calloc(C, sizeof *m->xbar);
    m->xmin = sg_calloc(C, sizeof *m->xmin);
    m->xmax = sg_calloc(C, sizeof *m->xmax);
    m->xsum = sg_calloc(C, sizeof *m->xsum);
    m->lam = sg_calloc(D1 * C, sizeof *m->lam);
    m->alpha = sg_calloc(D1 * C, sizeof *m->alpha);
    m->k = sg_calloc(D1 * C, sizeof *m->k);
    m->beta = sg_calloc(D1 * m->P, sizeof *m->beta);
    m->state = sg_calloc(D1 * C, sizeof *m->state);
    m->resid = sg_calloc((size_t)m->T, sizeof *m->resid);
    m->sum = sg_calloc(C, sizeof *m->sum);
    return !(m->chan && m->ctrl && m->ctrl_mean && m->ctrl_sd && m->xbar && m->xmin && m->xmax &&
             m->xsum &&
             m->lam && m->alpha && m->k && m->beta && m->state && m->resid && m->sum);
}

void sg_budget_free(sg_budget *m)
{
    if (!m) return;
    sg_free(m->period);
    sg_free(m->outcome);
    if (m->chan)
        for (int c = 0; c < m->C; c++) sg_free(m->chan[c]);
    if (m->ctrl)
        for (int j = 0; j < m->J; j++) sg_free(m->ctrl[j]);
    sg_free(m->chan);
    sg_free(m->ctrl);
    sg_free(m->ctrl_mean);
    sg_free(m->ctrl_sd);
    sg_free(m->xbar);
    sg_free(m->xmin);
    sg_free(m->xmax);
    sg_free(m->xsum);
    sg_free(m->lam);
    sg_free(m->alpha);
    sg_free(m->k);
    sg_free(m->beta);
    sg_free(m->state);
    sg_free(m->resid);
    sg_free(m->sum);
    sg_free(m);
}

/* Channel c's contribution over the training spends x (T) under draw d, with
 * the spends scaled by 'scale'. */
static double contribution(const sg_budget *m, int d, int c, const double *x, double scale)
{
    double lam = m->lam[(size_t)d * m->C + c], al = m->alpha[(size_t)d * m->C + c];
    double k = m->k[(size_t)d * m->C + c], b = m->beta[(size_t)d * m->P + (m->P - m->C) + c];
    double s;
    sg_budget_adstock(x, m->T, m->xbar[c], scale, lam, al, k, NULL, &s);
    return b * s;
}

/* Each channel's summary: the point fit's curve; contribution, return and
 * marginal return as the draws' mean (what plans use) and 90% interval.
 * Returns nonzero when out of memory. */
static int summarise(sg_budget *m, const double *x)
{
    int D = m->D;
    double *v = sg_malloc_array((size_t)D * 3, sizeof *v);
    if (!v) return 1;
    for (int c = 0; c < m->C; c++) {
        const double *xc = x + (size_t)c * m->T;
        sg_budget_channel *s = &m->sum[c];
        s->lambda = m->lam[c];
        s->alpha = m->alpha[c];
        s->k = m->k[c];
        s->beta = m->beta[(m->P - m->C) + c];
        s->spend = m->xsum[c];
        s->spend_week = m->xbar[c];
        s->spend_week_min = m->xmin[c];
        s->spend_week_max = m->xmax[c];
        s->contribution = s->roi = s->mroi = 0;
        for (int d = 1; d <= D; d++) {
            double ct = contribution(m, d, c, xc, 1.0);
            v[d - 1] = ct;
            v[D + d - 1] = ct / s->spend;
            v[2 * D + d - 1] = (contribution(m, d, c, xc, 1.01) - ct) / (0.01 * s->spend);
            s->contribution += v[d - 1] / D;
            s->roi += v[D + d - 1] / D;
            s->mroi += v[2 * D + d - 1] / D;
        }
        s->contribution_lo = sg_quantile(v, D, 0.05);
        s->contribution_hi = sg_quantile(v, D, 0.95);
        s->roi_lo = sg_quantile(v + D, D, 0.05);
        s->roi_hi = sg_quantile(v + D, D, 0.95);
        s->mroi_lo = sg_quantile(v + 2 * D, D, 0.05);
        s->mroi_hi = sg_quantile(v + 2 * D, D, 0.95);
    }
    sg_free(v);
    return 0;
}

/* One block-bootstrap path of the residuals (n values). */
static void resid_path(const double *r, int T, int n, sg_rng *rng, double *out)
{
    int L = (int)ceil(cbrt((double)T));
    if (L < 2) L = 2;
    if (L > T) L = T;
    for (int i = 0; i < n;) {
        int s = (int)sg_rng_below(rng, (uint64_t)(T - L + 1));
        for (int j = 0; j < L && i < n; j++) out[i++] = r[s + j];
    }
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = sg_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

int sg_budget_train(sg_budget **out, const sg_table *t, const sg_budget_opts *o,
                    sg_budget_report *rep, sg_error *err)
{
    *out = NULL;
    if (!o->period || !o->outcome)
        return sg_error_set(err, SG_EINVAL, "budget: a period and an outcome column are required");
    if (o->n_channels < 1 || !o->channels)
        return sg_error_set(err, SG_EINVAL, "budget: at least one channel spend column is required");
    if (o->n_channels > 64 || o->n_controls > 64 || o->n_controls < 0)
        return sg_error_set(err, SG_EINVAL, "budget: at most 64 channels and 64 controls");
    if (o->folds < 2 || o->folds > 20)
        return sg_error_set(err, SG_EINVAL, "budget: folds must be 2..20 (got %d)", o->folds);
    if (o->n_draws < 10 || o->n_draws > 10000)
        return sg_error_set(err, SG_EINVAL, "budget: draws must be 10..10000 (got %d)", o->n_draws);
    if (o->season < 0 || o->season == 1 || o->season > 100000)
        return sg_error_set(err, SG_EINVAL, "budget: season must be 0 (none) or 2..100000 "
                            "periods (got %d)", o->season);
    for (int a = 0; a < o->n_channels + o->n_controls; a++) {
        const char *na = a < o->n_channels ? o->channels[a] : o->controls[a - o->n_channels];
        for (int b = 0; b < a; b++) {
            const char *nb = b < o->n_channels ? o->channels[b] : o->controls[b - o->n_channels];
            if (!strcmp(na, nb))
                return sg_error_set(err, SG_EINVAL, "budget: column '%s' named twice", na);
        }
        if (!strcmp(na, o->period) || !strcmp(na, o->outcome))
            return sg_error_set(err, SG_EINVAL, "budget: column '%s' is the period or the "
                                "outcome, not a channel or control", na);
    }
    series s;
    int rc = series_read(&s, t, o->period, o->outcome, (char *const *)o->channels, o->n_channels,
                         (char *const *)o->controls, o->n_controls, err);
    if (rc) return rc;
    sg_budget *m = sg_calloc(1, sizeof *m);
    fitctx fx = {0};
    double *base = NULL, *curves = NULL, *yhat = NULL, *pen = NULL;
    int *fold = NULL, *g0 = NULL;
    scratch sc = {0};
    if (!m) { series_free(&s); return sg_error_set(err, SG_ENOMEM, "budget: out of memory"); }
    m->C = o->n_channels;
    m->J = o->n_controls;
    m->season = o->season;
    m->trend = o->trend ? 1 : 0;
    m->T = s.n;
    m->D = o->n_draws;
    m->seed = o->seed;
    m->P = off_ctrl(m) + m->J + m->C;
    int T = m->T, C = m->C, P = m->P, P0 = P - C;
    if (T < 4 * (P + 2)) {
        rc = sg_error_set(err, SG_EINVAL, "%s: %d periods for %d terms; the media-mix model "
                          "needs at least %d (4 x (terms + 2))", sg_table_name(t), T, P,
                          4 * (P + 2));
        goto fail;
    }
    if (alloc_model(m) || !(m->period = dup_str(o->period)) || !(m->outcome = dup_str(o->outcome))) {
        rc = sg_error_set(err, SG_ENOMEM, "budget: out of memory");
        goto fail;
    }
    for (int c = 0; c < C; c++)
        if (!(m->chan[c] = dup_str(o->channels[c]))) { rc = sg_error_set(err, SG_ENOMEM, "budget: out of memory"); goto fail; }
    for (int j = 0; j < m->J; j++)
        if (!(m->ctrl[j] = dup_str(o->controls[j]))) { rc = sg_error_set(err, SG_ENOMEM, "budget: out of memory"); goto fail; }
    m->first_period = s.period[0];
    m->last_period = s.period[T - 1];
    m->step = (s.period[T - 1] - s.period[0]) / (T - 1);
    for (int i = 1; i < T; i++)
        if (fabs(s.period[i] - s.period[i - 1] - m->step) > 0.01 * m->step) {
            char buf[48];
            rc = sg_error_set(err, SG_EPARSE, "%s:%lld: column '%s': expected %.15g (periods "
                              "evenly spaced, %.15g apart: a missing period is a row with zero "
                              "spends), got \"%s\"", sg_table_name(t),
                              (long long)sg_table_row_line(t, i), o->period,
                              s.period[i - 1] + m->step, m->step,
                              sg_table_cell(t, i, sg_table_find(t, o->period), buf, sizeof buf));
            goto fail;
        }
    for (int c = 0; c < C; c++) {
        double sum = 0, mx = 0, mn = s.x[(size_t)c * T];
        for (int i = 0; i < T; i++) {
            double v = s.x[(size_t)c * T + i];
            sum += v;
            if (v > mx) mx = v;
            if (v < mn) mn = v;
        }
        if (!(sum > 0)) {
            rc = sg_error_set(err, SG_EINVAL, "%s: channel '%s' never spends: its effect cannot "
                              "be learnt", sg_table_name(t), m->chan[c]);
            goto fail;
        }
        m->xsum[c] = sum;
        m->xbar[c] = sum / T;
        m->xmin[c] = mn;
        m->xmax[c] = mx;
    }
    for (int j = 0; j < m->J; j++) {
        const double *z = s.z + (size_t)j * T;
        double mu = 0, v = 0;
        for (int i = 0; i < T; i++) mu += z[i];
        mu /= T;
        for (int i = 0; i < T; i++) v += (z[i] - mu) * (z[i] - mu);
        v = sqrt(v / T);
        if (!(v > 0)) {
            rc = sg_error_set(err, SG_EINVAL, "%s: control '%s' is constant", sg_table_name(t),
                              m->ctrl[j]);
            goto fail;
        }
        m->ctrl_mean[j] = mu;
        m->ctrl_sd[j] = v;
    }
    if ((double)C * N_CURVES * T > MAX_CURVE_CELLS) {
        rc = sg_error_set(err, SG_EINVAL, "%s: %d channels x %d periods: the %d candidate curves "
                          "of every channel would take more than %d MB; aggregate the periods "
                          "(days to weeks) or split the channels", sg_table_name(t), C, T,
                          N_CURVES, MAX_CURVE_CELLS / 125000);
        goto fail;
    }
    /* the design: base rows, every curve, folds of contiguous periods */
    base = sg_malloc_array((size_t)T * P0, sizeof *base);
    curves = sg_malloc_array((size_t)C * N_CURVES * T, sizeof *curves);
    fold = sg_malloc_array((size_t)T, sizeof *fold);
    g0 = sg_malloc_array((size_t)C * (m->D + 1), sizeof *g0);
    yhat = sg_malloc_array((size_t)T, sizeof *yhat);
    pen = sg_malloc_array((size_t)C * N_CURVES, sizeof *pen);
    if (!base || !curves || !fold || !g0 || !yhat || !pen || scratch_alloc(&sc, o->folds, P)) {
        rc = sg_error_set(err, SG_ENOMEM, "budget: out of memory (%d periods x %d curves)", T,
                          C * N_CURVES);
        goto fail;
    }
    for (int i = 0; i < T; i++) {
        base_row(m, i, s.z + i, (size_t)T, base + (size_t)i * P0);
        fold[i] = (int)((int64_t)i * o->folds / T);
    }
    for (int c = 0; c < C; c++)
        for (int h = 0; h < N_CURVES; h++) {
            double lam, al, k;
            curve_params(m->xbar[c], h, &lam, &al, &k);
            sg_budget_adstock(s.x + (size_t)c * T, T, m->xbar[c], 1.0, lam, al, k,
                              curves + ((size_t)c * N_CURVES + h) * T, NULL);
        }
    fx = (fitctx){T, P0, P, C, o->folds, base, curves, fold, NULL};

    /* the prior on the channels' returns: the penalty sigma^2 / sd^2 x roi^2
     * with roi = beta x mean(curve) x T / spend, sigma^2 from a first fit at the
     * starting curves */
    int *g = g0;
    for (int c = 0; c < C; c++) g[c] = CURVE_START;
    if (fit_all(&fx, g, s.y, &sc, m->beta)) {
        rc = sg_error_set(err, SG_ENUMERIC, "%s: the media-mix regression is singular (a control "
                          "or channel that repeats another?)", sg_table_name(t));
        goto fail;
    }
    double s2 = 0;
    for (int i = 0; i < T; i++) {
        double e = s.y[i] - predict_row(&fx, g, i, m->beta);
        s2 += e * e;
    }
    s2 /= T - P;
    for (int c = 0; c < C; c++)
        for (int h = 0; h < N_CURVES; h++) {
            const double *col = curves + ((size_t)c * N_CURVES + h) * T;
            double hs = 0;
            for (int i = 0; i < T; i++) hs += col[i];
            double r = hs / m->xsum[c];
            pen[(size_t)c * N_CURVES + h] = s2 / (ROI_PRIOR_SD * ROI_PRIOR_SD) * r * r;
        }
    fx.pen = pen;

    /* the point fit */
    if (o->on_progress) o->on_progress(o->ud, "curves", 0, m->D + 1);
    double sse_base = cv_sse(&fx, g, s.y, 0, &sc);
    double sse = choose_curves(&fx, g, s.y, MAX_SWEEPS, &sc);
    if (!isfinite(sse) || !isfinite(sse_base) || fit_all(&fx, g, s.y, &sc, m->beta)) {
        rc = sg_error_set(err, SG_ENUMERIC, "%s: the media-mix regression is singular (a control "
                          "or channel that repeats another?)", sg_table_name(t));
        goto fail;
    }
    double ss = 0, sy = 0, my = 0;
    for (int i = 0; i < T; i++) my += s.y[i];
    my /= T;
    int n_active = 0;
    for (int p = 0; p < P; p++) n_active += m->beta[p] != 0;
    for (int i = 0; i < T; i++) {
        yhat[i] = predict_row(&fx, g, i, m->beta);
        m->resid[i] = s.y[i] - yhat[i];
        ss += m->resid[i] * m->resid[i];
        sy += (s.y[i] - my) * (s.y[i] - my);
    }
    m->sigma = sqrt(ss / (T > n_active ? T - n_active : 1));
    m->rep.n_periods = T;
    m->rep.cv_rmse = sqrt(sse / T);
    m->rep.cv_rmse_base = sqrt(sse_base / T);
    m->rep.rmse = sqrt(ss / T);
    m->rep.r2 = sy > 0 ? 1 - ss / sy : 0;

    /* the bootstrap replicates: each chooses its curves again (from the point
     * fit's) on the fitted series plus a block-resampled residual path */
    int failed = 0;
    sg_rng root;
    sg_rng_init(&root, o->seed);
    int D = m->D, done = 0;
#ifdef _OPENMP
#pragma omp parallel
#endif
    {
        scratch ts;
        double *ys = sg_malloc_array((size_t)T, sizeof *ys);
        int ok = ys && !scratch_alloc(&ts, o->folds, P);
        if (!ok) {
            sg_free(ys);
#ifdef _OPENMP
#pragma omp atomic write
#endif
            failed = 1;
        }
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
        for (int d = 1; d <= D; d++) {
            if (!ok) continue;
            sg_rng rng;
            sg_rng_split(&root, (uint64_t)d, &rng);
            resid_path(m->resid, T, T, &rng, ys);
            for (int i = 0; i < T; i++) ys[i] += yhat[i];
            int *gd = g0 + (size_t)d * C;
            for (int c = 0; c < C; c++) gd[c] = CURVE_START;
            double v = choose_curves(&fx, gd, ys, MAX_SWEEPS, &ts);
            if (!isfinite(v) || fit_all(&fx, gd, ys, &ts, m->beta + (size_t)d * P)) {
                /* a singular replicate keeps the point fit's coefficients */
                memcpy(gd, g, sizeof *g * (size_t)C);
                memcpy(m->beta + (size_t)d * P, m->beta, sizeof *m->beta * (size_t)P);
            }
            if (o->on_progress) {
#ifdef _OPENMP
#pragma omp critical(sg_budget_progress)
#endif
                o->on_progress(o->ud, "bootstrap", ++done, D);
            }
        }
        if (ok) {
            sg_free(ys);
            scratch_free(&ts);
        }
    }
    if (failed) {
        rc = sg_error_set(err, SG_ENOMEM, "budget: out of memory (bootstrap)");
        goto fail;
    }
    for (int d = 0; d <= D; d++)
        for (int c = 0; c < C; c++) {
            size_t i = (size_t)d * C + c;
            curve_params(m->xbar[c], g0[i], &m->lam[i], &m->alpha[i], &m->k[i]);
            m->state[i] = sg_budget_adstock(s.x + (size_t)c * T, T, m->xbar[c], 1.0, m->lam[i],
                                            m->alpha[i], m->k[i], NULL, NULL);
        }
    if (summarise(m, s.x)) {
        rc = sg_error_set(err, SG_ENOMEM, "budget: out of memory");
        goto fail;
    }
    if (rep) *rep = m->rep;
    sg_free(base);
    sg_free(curves);
    sg_free(fold);
    sg_free(g0);
    sg_free(yhat);
    sg_free(pen);
    scratch_free(&sc);
    series_free(&s);
    *out = m;
    return SG_OK;
fail:
    sg_free(base);
    sg_free(curves);
    sg_free(fold);
    sg_free(g0);
    sg_free(yhat);
    sg_free(pen);
    scratch_free(&sc);
    series_free(&s);
    sg_budget_free(m);
    return rc;
}

/* ---- accessors ---- */

int sg_budget_n_channels(const sg_budget *m) { return m->C; }
int sg_budget_n_draws(const sg_budget *m) { return m->D; }
int sg_budget_n_controls(const sg_budget *m) { return m->J; }
const char *sg_budget_channel_name(const sg_budget *m, int c) { return m->chan[c]; }
const char *sg_budget_control_name(const sg_budget *m, int j) { return m->ctrl[j]; }

int sg_budget_channel_index(const sg_budget *m, const char *name)
{
    for (int c = 0; c < m->C; c++)
        if (!strcmp(m->chan[c], name)) return c;
    return -1;
}

const char *sg_budget_role(const sg_budget *m, const char *role)
{
    if (!strcmp(role, "period")) return m->period;
    if (!strcmp(role, "outcome")) return m->outcome;
    return NULL;
}

void sg_budget_channel_get(const sg_budget *m, int c, sg_budget_channel *out)
{
    *out = m->sum[c];
}

/* ---- prediction ---- */

/* Predictions of draw d for the n periods of series s (continuing the
 * training series): out (n). */
static void predict_draw(const sg_budget *m, int d, const series *s, const double *tidx,
                         double *row, double *out)
{
    int C = m->C, P0 = m->P - m->C;
    const double *b = m->beta + (size_t)d * m->P;
    for (int i = 0; i < s->n; i++) {
        base_row(m, tidx[i], s->z + i, (size_t)s->n, row);
        double v = 0;
        for (int p = 0; p < P0; p++) v += row[p] * b[p];
        out[i] = v;
    }
    for (int c = 0; c < C; c++) {
        size_t ic = (size_t)d * C + c;
        double a = m->state[ic], lam = m->lam[ic], al = m->alpha[ic], k = m->k[ic];
        for (int i = 0; i < s->n; i++) {
            a = s->x[(size_t)c * s->n + i] + lam * a;
            out[i] += b[P0 + c] * sg_budget_hill(a, al, k);
        }
    }
}

/* Read the rows of t that continue the training series; tidx (n, owned):
 * each row's period index. */
static int read_future(const sg_budget *m, const sg_table *t, int need_y, series *s,
                       double **tidx, sg_error *err)
{
    *tidx = NULL;
    int rc = series_read(s, t, m->period, need_y ? m->outcome : NULL, m->chan, m->C, m->ctrl,
                         m->J, err);
    if (rc) return rc;
    double *ti = sg_malloc_array((size_t)s->n, sizeof *ti);
    if (!ti) {
        series_free(s);
        return sg_error_set(err, SG_ENOMEM, "budget: out of memory");
    }
    int cp = sg_table_find(t, m->period);
    for (int i = 0; i < s->n; i++) {
        double want = m->last_period + (i + 1) * m->step;
        if (fabs(s->period[i] - want) > 0.01 * m->step) {
            char buf[48];
            rc = sg_error_set(err, SG_EINVAL, "%s:%lld: column '%s': expected period %.15g (the "
                              "rows continue the training series, which ends at %.15g, every "
                              "%.15g), got \"%s\"", sg_table_name(t),
                              (long long)sg_table_row_line(t, i), m->period, want,
                              m->last_period, m->step, sg_table_cell(t, i, cp, buf, sizeof buf));
            sg_free(ti);
            series_free(s);
            return rc;
        }
        ti[i] = m->T + i;
    }
    *tidx = ti;
    return SG_OK;
}

/* Point predictions and, per draw, prediction paths (D x n) with a
 * block-resampled residual path added. */
static int predict_paths(const sg_budget *m, const series *s, const double *tidx, uint64_t seed,
                         double *mean, double *paths, sg_error *err)
{
    double *row = sg_malloc_array((size_t)m->P, sizeof *row);
    double *noise = sg_malloc_array((size_t)s->n, sizeof *noise);
    if (!row || !noise) {
        sg_free(row);
        sg_free(noise);
        return sg_error_set(err, SG_ENOMEM, "budget: out of memory");
    }
    predict_draw(m, 0, s, tidx, row, mean);
    sg_rng root;
    sg_rng_init(&root, seed);
    for (int d = 1; d <= m->D; d++) {
        double *pd = paths + (size_t)(d - 1) * s->n;
        predict_draw(m, d, s, tidx, row, pd);
        sg_rng rng;
        sg_rng_split(&root, (uint64_t)d, &rng);
        resid_path(m->resid, m->T, s->n, &rng, noise);
        for (int i = 0; i < s->n; i++) pd[i] += noise[i];
    }
    sg_free(row);
    sg_free(noise);
    return SG_OK;
}

int sg_budget_predict(const sg_budget *m, const sg_table *t, uint64_t seed, double *mean,
                      double *lo, double *hi, sg_error *err)
{
    series s;
    double *tidx, *paths = NULL, *v = NULL;
    int rc = read_future(m, t, 0, &s, &tidx, err);
    if (rc) return rc;
    int n = s.n, D = m->D;
    paths = sg_malloc_array((size_t)D * n, sizeof *paths);
    v = sg_malloc_array((size_t)D, sizeof *v);
    if (!paths || !v) {
        rc = sg_error_set(err, SG_ENOMEM, "budget: out of memory");
        goto done;
    }
    if ((rc = predict_paths(m, &s, tidx, seed, mean, paths, err))) goto done;
    for (int i = 0; i < n; i++) {
        for (int d = 0; d < D; d++) v[d] = paths[(size_t)d * n + i];
        if (lo) lo[i] = sg_quantile(v, D, 0.05);
        if (hi) hi[i] = sg_quantile(v, D, 0.95);
    }
done:
    sg_free(paths);
    sg_free(v);
    sg_free(tidx);
    series_free(&s);
    return rc;
}

void sg_budget_eval_deinit(sg_budget_eval *ev)
{
    sg_free(ev->period);
    sg_free(ev->actual);
    sg_free(ev->pred);
    sg_free(ev->lo);
    sg_free(ev->hi);
    memset(ev, 0, sizeof *ev);
}

int sg_budget_evaluate(const sg_budget *m, const sg_table *t, uint64_t seed, sg_budget_eval *ev,
                       sg_error *err)
{
    memset(ev, 0, sizeof *ev);
    series s;
    double *tidx, *paths = NULL, *v = NULL;
    int rc = read_future(m, t, 1, &s, &tidx, err);
    if (rc) return rc;
    int n = s.n, D = m->D;
    ev->n = n;
    ev->period = sg_malloc_array((size_t)n, sizeof *ev->period);
    ev->actual = sg_malloc_array((size_t)n, sizeof *ev->actual);
    ev->pred = sg_malloc_array((size_t)n, sizeof *ev->pred);
    ev->lo = sg_malloc_array((size_t)n, sizeof *ev->lo);
    ev->hi = sg_malloc_array((size_t)n, sizeof *ev->hi);
    paths = sg_malloc_array((size_t)D * n, sizeof *paths);
    v = sg_malloc_array((size_t)D, sizeof *v);
    if (!ev->period || !ev->actual || !ev->pred || !ev->lo || !ev->hi || !paths || !v) {
        rc = sg_error_set(err, SG_ENOMEM, "budget: out of memory");
        goto done;
    }
    if ((rc = predict_paths(m, &s, tidx, seed, ev->pred, paths, err))) goto done;
    double se = 0, ape = 0;
    int n_ape = 0;
    for (int i = 0; i < n; i++) {
        ev->period[i] = s.period[i];
        ev->actual[i] = s.y[i];
        for (int d = 0; d < D; d++) v[d] = paths[(size_t)d * n + i];
        ev->lo[i] = sg_quantile(v, D, 0.05);
        ev->hi[i] = sg_quantile(v, D, 0.95);
        double e = s.y[i] - ev->pred[i];
        se += e * e;
        if (s.y[i] != 0) ape += fabs(e / s.y[i]), n_ape++;
        ev->covered += s.y[i] >= ev->lo[i] && s.y[i] <= ev->hi[i];
        ev->total += s.y[i];
        ev->total_pred += ev->pred[i];
    }
    ev->rmse = sqrt(se / n);
    ev->mape = n_ape ? ape / n_ape : (double)NAN;
    for (int d = 0; d < D; d++) {
        double tot = 0;
        for (int i = 0; i < n; i++) tot += paths[(size_t)d * n + i];
        v[d] = tot;
    }
    ev->total_lo = sg_quantile(v, D, 0.05);
    ev->total_hi = sg_quantile(v, D, 0.95);
done:
    if (rc) sg_budget_eval_deinit(ev);
    sg_free(paths);
    sg_free(v);
    sg_free(tidx);
    series_free(&s);
    return rc;
}

/* ---- the model file ---- */

#define BUDGET_VERSION 1

int sg_budget_save(const sg_budget *m, const char *path, sg_error *err)
{
    sg_wbuf w;
    sg_wbuf_init(&w);
    size_t D1 = (size_t)m->D + 1;
    sg_wbuf_u32(&w, BUDGET_VERSION);
    sg_wbuf_str(&w, m->period);
    sg_wbuf_str(&w, m->outcome);
    sg_wbuf_i32(&w, m->C);
    sg_wbuf_i32(&w, m->J);
    sg_wbuf_i32(&w, m->season);
    sg_wbuf_i32(&w, m->trend);
    sg_wbuf_i32(&w, m->T);
    sg_wbuf_i32(&w, m->D);
    sg_wbuf_u64(&w, m->seed);
    for (int c = 0; c < m->C; c++) sg_wbuf_str(&w, m->chan[c]);
    for (int j = 0; j < m->J; j++) sg_wbuf_str(&w, m->ctrl[j]);
    sg_wbuf_f64s(&w, m->ctrl_mean, (size_t)m->J);
    sg_wbuf_f64s(&w, m->ctrl_sd, (size_t)m->J);
    sg_wbuf_f64s(&w, m->xbar, (size_t)m->C);
    sg_wbuf_f64s(&w, m->xmin, (size_t)m->C);
    sg_wbuf_f64s(&w, m->xmax, (size_t)m->C);
    sg_wbuf_f64s(&w, m->xsum, (size_t)m->C);
    sg_wbuf_f64(&w, m->first_period);
    sg_wbuf_f64(&w, m->last_period);
    sg_wbuf_f64(&w, m->step);
    sg_wbuf_f64s(&w, m->lam, D1 * m->C);
    sg_wbuf_f64s(&w, m->alpha, D1 * m->C);
    sg_wbuf_f64s(&w, m->k, D1 * m->C);
    sg_wbuf_f64s(&w, m->beta, D1 * m->P);
    sg_wbuf_f64s(&w, m->state, D1 * m->C);
    sg_wbuf_f64s(&w, m->resid, (size_t)m->T);
    sg_wbuf_f64(&w, m->sigma);
    sg_wbuf_f64s(&w, (const double *)m->sum, (size_t)m->C * (sizeof *m->sum / sizeof(double)));
    sg_wbuf_i32(&w, m->rep.n_periods);
    sg_wbuf_f64(&w, m->rep.cv_rmse);
    sg_wbuf_f64(&w, m->rep.cv_rmse_base);
    sg_wbuf_f64(&w, m->rep.rmse);
    sg_wbuf_f64(&w, m->rep.r2);
    int rc = sg_wbuf_status(&w, err);
    if (!rc) rc = sg_modelfile_write(path, SG_TASK_BUDGET, w.data, w.len, err);
    sg_wbuf_deinit(&w);
    return rc;
}

int sg_budget_load(sg_budget **out, const char *path, sg_error *err)
{
    *out = NULL;
    unsigned char *buf = NULL;
    size_t len = 0;
    int task, rc = sg_modelfile_read(path, SG_TASK_BUDGET, &task, &buf, &len, err);
    if (rc) return rc;
    sg_rbuf r;
    sg_rbuf_init(&r, buf, len);
    sg_budget *m = sg_calloc(1, sizeof *m);
    if (!m) {
        sg_free(buf);
        return sg_error_set(err, SG_ENOMEM, "budget: out of memory");
    }
    uint32_t ver;
    if ((rc = sg_rbuf_u32(&r, &ver, "budget version", err))) goto fail;
    if (ver != BUDGET_VERSION) {
        rc = sg_error_set(err, SG_EPARSE, "%s: budget model version %u is not supported", path, ver);
        goto fail;
    }
    if ((rc = sg_rbuf_str(&r, &m->period, 4096, "period column", err)) ||
        (rc = sg_rbuf_str(&r, &m->outcome, 4096, "outcome column", err)) ||
        (rc = sg_rbuf_i32(&r, &m->C, "channels", err)) ||
        (rc = sg_rbuf_i32(&r, &m->J, "controls", err)) ||
        (rc = sg_rbuf_i32(&r, &m->season, "season", err)) ||
        (rc = sg_rbuf_i32(&r, &m->trend, "trend", err)) ||
        (rc = sg_rbuf_i32(&r, &m->T, "periods", err)) ||
        (rc = sg_rbuf_i32(&r, &m->D, "draws", err)) ||
        (rc = sg_rbuf_u64(&r, &m->seed, "seed", err)))
        goto fail;
    if (!m->period || !m->outcome || m->C < 1 || m->C > 64 || m->J < 0 || m->J > 64 ||
        m->season < 0 || m->season > 100000 || (m->trend != 0 && m->trend != 1) || m->T < 4 ||
        m->T > 1000000 || m->D < 10 || m->D > 10000) {
        m->C = m->J = 0;   /* nothing allocated yet */
        rc = sg_error_set(err, SG_EPARSE, "%s: corrupt budget model (sizes)", path);
        goto fail;
    }
    m->P = off_ctrl(m) + m->J + m->C;
    size_t D1 = (size_t)m->D + 1;
    double need = 8.0 * ((double)D1 * (4.0 * m->C + m->P) + m->T + 6.0 * m->C + 2.0 * m->J);
    if (need > (double)(len - r.pos)) {
        m->C = m->J = 0;
        rc = sg_error_set(err, SG_EPARSE, "%s: corrupt budget model (truncated)", path);
        goto fail;
    }
    if (alloc_model(m)) {
        rc = sg_error_set(err, SG_ENOMEM, "budget: out of memory");
        goto fail;
    }
    for (int c = 0; c < m->C; c++)
        if ((rc = sg_rbuf_str(&r, &m->chan[c], 4096, "channel name", err))) goto fail;
    for (int j = 0; j < m->J; j++)
        if ((rc = sg_rbuf_str(&r, &m->ctrl[j], 4096, "control name", err))) goto fail;
    for (int c = 0; c < m->C; c++)
        if (!m->chan[c]) { rc = sg_error_set(err, SG_EPARSE, "%s: corrupt budget model (names)", path); goto fail; }
    for (int j = 0; j < m->J; j++)
        if (!m->ctrl[j]) { rc = sg_error_set(err, SG_EPARSE, "%s: corrupt budget model (names)", path); goto fail; }
    if ((rc = sg_rbuf_f64s(&r, m->ctrl_mean, (size_t)m->J, "control means", err)) ||
        (rc = sg_rbuf_f64s(&r, m->ctrl_sd, (size_t)m->J, "control sds", err)) ||
        (rc = sg_rbuf_f64s(&r, m->xbar, (size_t)m->C, "mean spends", err)) ||
        (rc = sg_rbuf_f64s(&r, m->xmin, (size_t)m->C, "least spends", err)) ||
        (rc = sg_rbuf_f64s(&r, m->xmax, (size_t)m->C, "largest spends", err)) ||
        (rc = sg_rbuf_f64s(&r, m->xsum, (size_t)m->C, "total spends", err)) ||
        (rc = sg_rbuf_f64(&r, &m->first_period, "first period", err)) ||
        (rc = sg_rbuf_f64(&r, &m->last_period, "last period", err)) ||
        (rc = sg_rbuf_f64(&r, &m->step, "period step", err)) ||
        (rc = sg_rbuf_f64s(&r, m->lam, D1 * m->C, "carry-over", err)) ||
        (rc = sg_rbuf_f64s(&r, m->alpha, D1 * m->C, "shapes", err)) ||
        (rc = sg_rbuf_f64s(&r, m->k, D1 * m->C, "half-saturation", err)) ||
        (rc = sg_rbuf_f64s(&r, m->beta, D1 * m->P, "coefficients", err)) ||
        (rc = sg_rbuf_f64s(&r, m->state, D1 * m->C, "adstock states", err)) ||
        (rc = sg_rbuf_f64s(&r, m->resid, (size_t)m->T, "residuals", err)) ||
        (rc = sg_rbuf_f64(&r, &m->sigma, "sigma", err)) ||
        (rc = sg_rbuf_f64s(&r, (double *)m->sum, (size_t)m->C * (sizeof *m->sum / sizeof(double)),
                           "channel summaries", err)) ||
        (rc = sg_rbuf_i32(&r, &m->rep.n_periods, "report", err)) ||
        (rc = sg_rbuf_f64(&r, &m->rep.cv_rmse, "report", err)) ||
        (rc = sg_rbuf_f64(&r, &m->rep.cv_rmse_base, "report", err)) ||
        (rc = sg_rbuf_f64(&r, &m->rep.rmse, "report", err)) ||
        (rc = sg_rbuf_f64(&r, &m->rep.r2, "report", err)))
        goto fail;
    if (r.pos != len) {
        rc = sg_error_set(err, SG_EPARSE, "%s: corrupt budget model (%zu bytes left over)", path,
                          len - r.pos);
        goto fail;
    }
    /* values the arithmetic relies on */
    for (int c = 0; c < m->C; c++)
        if (!(m->xbar[c] > 0) || !(m->xsum[c] > 0) || !(m->xmin[c] >= 0) ||
            !(m->xmax[c] >= m->xmin[c])) {
            rc = sg_error_set(err, SG_EPARSE, "%s: corrupt budget model (spends)", path);
            goto fail;
        }
    for (size_t i = 0; i < D1 * m->C; i++)
        if (!(m->lam[i] >= 0 && m->lam[i] < 1) || !(m->alpha[i] > 0) || !(m->k[i] > 0)) {
            rc = sg_error_set(err, SG_EPARSE, "%s: corrupt budget model (curves)", path);
            goto fail;
        }
    for (int j = 0; j < m->J; j++)
        if (!(m->ctrl_sd[j] > 0)) {
            rc = sg_error_set(err, SG_EPARSE, "%s: corrupt budget model (controls)", path);
            goto fail;
        }
    if (!(m->step > 0)) {
        rc = sg_error_set(err, SG_EPARSE, "%s: corrupt budget model (periods)", path);
        goto fail;
    }
    sg_free(buf);
    *out = m;
    return SG_OK;
fail:
    sg_free(buf);
    sg_budget_free(m);
    return rc;
}

/* promo.c -- task 'promo': price and promotion response of a store x product x
 * week panel (the model is described in include/stratagem/promo.h).
 *
 * S stores, P products, W training weeks.  Each product has its own
 * coefficient vector of K entries, laid out as
 *
 *   [0, S)              store effects a[s]
 *   S                   own log price e (centred on the product's mean log price)
 *   [S+1, S+1+P)        cross log prices c[q] (entry p unused), when 'cross'
 *   OFF_DEAL, OFF_FEAT  deal and feature
 *   [OFF_SLOPE, +S)     store deviations d[s] of the own-price slope
 *   [OFF_WEEK, +W)      week effects w[t]
 *
 * Fitting is one penalised least-squares solve per product: the normal matrix
 * is accumulated from sparse design rows (a row touches its store, its week
 * and the P + 4 price and promotion columns, so about (P + 6)^2 operations a
 * row and K^2 memory, not rows x K), and solved by Cholesky.  The ridge of the
 * store slopes and the window of a future week's level are chosen on the last
 * 'valid_weeks' weeks, predicted from the earlier ones exactly as a future
 * week would be.  See LICENSE. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promo_private.h"
#include "io/serial.h"
#include "stratagem/linalg.h"
#include "stratagem/mem.h"
#include "stratagem/model.h"
#include "stratagem/rng.h"

#define TINY_L2 1e-6        /* keeps unpenalised blocks solvable */
#define MIN_PRODUCT_ROWS 20
#define MAX_PRICE_CELLS 100000000   /* stores x weeks x products: 800 MB of prices */

static const double SLOPE_GRID[] = {0.1, 1, 10, 100, 1000};
static const int RECENT_GRID[] = {4, 8, 13, 26};   /* weeks: a month, two, a quarter, half a year */
#define N_RECENT 4
static const char *const ROLE_NAMES[SG_PROMO_N_ROLES] = {
    "store", "product", "week", "units", "log_units", "price", "deal", "feature", "cost"};

void sg_promo_opts_default(sg_promo_opts *o)
{
    memset(o, 0, sizeof *o);
    o->cross = 1;
    o->week_l2 = 1.0;
    o->valid_weeks = 12;
    o->recent_weeks = 0;
    o->n_draws = 200;
    o->seed = 20000;
}

/* ---------------------------------------------------------------------------
 * labels: store and product columns as text */

/* Labels in a natural order: those that read as whole numbers first, by value
 * ("2" before "10"), then the others by their bytes.  A total order, so
 * labels can be sorted and searched with it. */
static int is_int_label(const char *s, long long *v)
{
    char *end;
    if (!*s || strlen(s) > 15 || (*s != '-' && (*s < '0' || *s > '9'))) return 0;
    *v = strtoll(s, &end, 10);
    return *end == '\0';
}

static int cmp_label(const char *x, const char *y)
{
    long long a, b;
    int ia = is_int_label(x, &a), ib = is_int_label(y, &b);
    if (ia && ib && a != b) return a < b ? -1 : 1;
    if (ia != ib) return ia ? -1 : 1;
    return strcmp(x, y);
}

static int cmp_str(const void *a, const void *b)
{
    return cmp_label(*(char *const *)a, *(char *const *)b);
}

int sg_promo_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Distinct texts of column j, sorted, and each row's index into them (-1 for
 * a missing cell).  *labels (n) owned (each string and the array). */
static int column_labels(const sg_table *t, int j, char ***labels, int *n_out, int32_t *code,
                         sg_error *err)
{
    int64_t n = sg_table_n_rows(t);
    char buf[64];
    *labels = NULL;
    *n_out = 0;
    const int32_t *codes = sg_table_codes(t, j);
    int n_lab;
    char **lab;
    int32_t *remap = NULL;
    if (codes) {  /* category or id: the dictionary, sorted */
        n_lab = sg_table_n_labels(t, j);
        lab = sg_calloc((size_t)n_lab + 1, sizeof *lab);
        remap = sg_malloc_array((size_t)n_lab + 1, sizeof *remap);
        if (!lab || !remap) goto oom;
        for (int i = 0; i < n_lab; i++)
            if (!(lab[i] = sg_strdup(sg_table_label(t, j, i)))) goto oom;
        char **sorted = sg_malloc_array((size_t)n_lab + 1, sizeof *sorted);
        if (!sorted) goto oom;
        memcpy(sorted, lab, (size_t)n_lab * sizeof *sorted);
        qsort(sorted, (size_t)n_lab, sizeof *sorted, cmp_str);
        for (int i = 0; i < n_lab; i++) {
            char **hit = bsearch(&lab[i], sorted, (size_t)n_lab, sizeof *sorted, cmp_str);
            remap[i] = (int32_t)(hit - sorted);
        }
        sg_free(lab);
        lab = sorted;
        for (int64_t i = 0; i < n; i++) code[i] = codes[i] < 0 ? -1 : remap[codes[i]];
        sg_free(remap);
    } else {      /* numbers: distinct values, formatted, sorted as text */
        const double *v = sg_table_num(t, j);
        double *u = sg_malloc_array((size_t)n + 1, sizeof *u);
        if (!u) return sg_error_set(err, SG_ENOMEM, "promo: out of memory");
        int64_t m = 0;
        for (int64_t i = 0; i < n; i++)
            if (!isnan(v[i])) u[m++] = v[i];
        qsort(u, (size_t)m, sizeof *u, sg_promo_cmp_double);
        int64_t k = 0;
        for (int64_t i = 0; i < m; i++)
            if (!k || u[i] != u[k - 1]) u[k++] = u[i];
        n_lab = (int)k;
        lab = sg_calloc((size_t)n_lab + 1, sizeof *lab);
        if (!lab) {
            sg_free(u);
            return sg_error_set(err, SG_ENOMEM, "promo: out of memory");
        }
        for (int i = 0; i < n_lab; i++) {
            snprintf(buf, sizeof buf, "%.15g", u[i]);
            if (!(lab[i] = sg_strdup(buf))) {
                for (int q = 0; q < i; q++) sg_free(lab[q]);
                sg_free(lab);
                sg_free(u);
                return sg_error_set(err, SG_ENOMEM, "promo: out of memory");
            }
        }
        /* index of each value in text order */
        char **sorted = sg_malloc_array((size_t)n_lab + 1, sizeof *sorted);
        int32_t *pos = sg_malloc_array((size_t)n_lab + 1, sizeof *pos);
        if (!sorted || !pos) {
            sg_free(sorted);
            sg_free(pos);
            for (int q = 0; q < n_lab; q++) sg_free(lab[q]);
            sg_free(lab);
            sg_free(u);
            return sg_error_set(err, SG_ENOMEM, "promo: out of memory");
        }
        memcpy(sorted, lab, (size_t)n_lab * sizeof *sorted);
        qsort(sorted, (size_t)n_lab, sizeof *sorted, cmp_str);
        for (int i = 0; i < n_lab; i++)
            pos[i] = (int32_t)((char **)bsearch(&lab[i], sorted, (size_t)n_lab, sizeof *sorted,
                                               cmp_str) - sorted);
        for (int64_t i = 0; i < n; i++) {
            if (isnan(v[i])) {
                code[i] = -1;
                continue;
            }
            double *hit = bsearch(&v[i], u, (size_t)n_lab, sizeof *u, sg_promo_cmp_double);
            code[i] = pos[hit - u];
        }
        sg_free(lab);
        sg_free(pos);
        sg_free(u);
        lab = sorted;
    }
    *labels = lab;
    *n_out = n_lab;
    return SG_OK;
oom:
    if (lab)
        for (int i = 0; i < n_lab; i++) sg_free(lab[i]);
    sg_free(lab);
    sg_free(remap);
    return sg_error_set(err, SG_ENOMEM, "promo: out of memory");
}

static int find_label(char *const *lab, int n, const char *s)
{
    char *const *hit = bsearch(&s, lab, (size_t)n, sizeof *lab, cmp_str);
    return hit ? (int)(hit - lab) : -1;
}

int sg_promo_store_index(const sg_promo *m, const char *label)
{
    return find_label(m->store_lab, m->S, label);
}

int sg_promo_product_index(const sg_promo *m, const char *label)
{
    return find_label(m->prod_lab, m->P, label);
}

/* ---------------------------------------------------------------------------
 * a panel read against the model's roles */

void sg_promo_panel_deinit(sg_promo_panel *pn)
{
    sg_free(pn->store);
    sg_free(pn->prod);
    sg_free(pn->wk);
    sg_free(pn->lp);
    sg_free(pn->y);
    sg_free(pn->deal);
    sg_free(pn->feat);
    sg_free(pn->cost);
    sg_free(pn->price_sw);
    sg_free(pn->weeks);
    memset(pn, 0, sizeof *pn);
}

static int bad_value(const sg_table *t, int64_t i, int j, const char *expect, sg_error *err)
{
    char buf[48];
    return sg_error_set(err, SG_EPARSE, "%s:%lld: column '%s': expected %s, got \"%s\"",
                        sg_table_name(t), (long long)sg_table_row_line(t, i),
                        sg_table_col_name(t, j), expect, sg_table_cell(t, i, j, buf, sizeof buf));
}

static int role_col(const sg_table *t, const char *name, const char *role, int need_num,
                    int *col, sg_error *err)
{
    *col = -1;
    if (!name) return SG_OK;
    int j = sg_table_find(t, name);
    if (j < 0)
        return sg_error_set(err, SG_ENOTFOUND, "%s: no column '%s' (the %s)", sg_table_name(t),
                            name, role);
    if (need_num && !sg_table_num(t, j))
        return sg_error_set(err, SG_EPARSE, "%s: column '%s' (the %s) must be numbers, but it "
                            "holds text (%s)", sg_table_name(t), name, role,
                            sg_coltype_name(sg_table_col_type(t, j)));
    *col = j;
    return SG_OK;
}

/* Read table 't' through the roles 'r' (store, product, week, units or log
 * units when 'need_y', price, deal, feature, cost when present).  With 'm'
 * NULL the panel defines stores and products (training: *labels returned);
 * otherwise rows are mapped onto the model's (-1 = unknown store; an unknown
 * product is an error).  Weeks are the table's own sorted distinct values. */
int sg_promo_panel_read(sg_promo_panel *pn, const sg_table *t, char *const *r, int need_y,
                        const sg_promo *m, char ***store_lab, int *n_store, char ***prod_lab,
                        int *n_prod, sg_error *err)
{
    memset(pn, 0, sizeof *pn);
    int64_t n = sg_table_n_rows(t);
    int cs, cp, cw, cu, cl, cpr, cd, cf, cc;
    int rc;
    if ((rc = role_col(t, r[SG_PROMO_STORE], "store", 0, &cs, err)) ||
        (rc = role_col(t, r[SG_PROMO_PRODUCT], "product", 0, &cp, err)) ||
        (rc = role_col(t, r[SG_PROMO_WEEK], "week", 1, &cw, err)) ||
        (rc = role_col(t, r[SG_PROMO_PRICE], "price", 1, &cpr, err)) ||
        (rc = role_col(t, r[SG_PROMO_DEAL], "deal", 1, &cd, err)) ||
        (rc = role_col(t, r[SG_PROMO_FEATURE], "feature", 1, &cf, err)))
        return rc;
    cu = cl = cc = -1;
    if (need_y) {
        if ((rc = role_col(t, r[SG_PROMO_UNITS], "units", 1, &cu, err)) ||
            (rc = role_col(t, r[SG_PROMO_LOG_UNITS], "log units", 1, &cl, err)))
            return rc;
    }
    if (r[SG_PROMO_COST] && sg_table_find(t, r[SG_PROMO_COST]) >= 0 &&
        (rc = role_col(t, r[SG_PROMO_COST], "cost", 1, &cc, err)))
        return rc;
    if (n < 1) return sg_error_set(err, SG_EINVAL, "%s: no rows", sg_table_name(t));
    pn->n = n;
    pn->store = sg_malloc_array((size_t)n, sizeof *pn->store);
    pn->prod = sg_malloc_array((size_t)n, sizeof *pn->prod);
    pn->wk = sg_malloc_array((size_t)n, sizeof *pn->wk);
    pn->lp = sg_malloc_array((size_t)n, sizeof *pn->lp);
    pn->y = sg_malloc_array((size_t)n, sizeof *pn->y);
    pn->deal = sg_calloc((size_t)n, sizeof *pn->deal);
    pn->feat = sg_calloc((size_t)n, sizeof *pn->feat);
    pn->cost = sg_malloc_array((size_t)n, sizeof *pn->cost);
    pn->weeks = sg_malloc_array((size_t)n, sizeof *pn->weeks);
    char **sl = NULL, **pl = NULL;
    int ns = 0, np = 0;
    if (!pn->store || !pn->prod || !pn->wk || !pn->lp || !pn->y || !pn->deal || !pn->feat ||
        !pn->cost || !pn->weeks) {
        rc = sg_error_set(err, SG_ENOMEM, "promo: out of memory");
        goto fail;
    }
    if ((rc = column_labels(t, cs, &sl, &ns, pn->store, err)) ||
        (rc = column_labels(t, cp, &pl, &np, pn->prod, err)))
        goto fail;
    /* values */
    const double *w = sg_table_num(t, cw), *pr = sg_table_num(t, cpr);
    const double *u = cu >= 0 ? sg_table_num(t, cu) : NULL;
    const double *lu = cl >= 0 ? sg_table_num(t, cl) : NULL;
    const double *dl = cd >= 0 ? sg_table_num(t, cd) : NULL;
    const double *ft = cf >= 0 ? sg_table_num(t, cf) : NULL;
    const double *co = cc >= 0 ? sg_table_num(t, cc) : NULL;
    for (int64_t i = 0; i < n; i++) {
        if (pn->store[i] < 0) { rc = bad_value(t, i, cs, "a store", err); goto fail; }
        if (pn->prod[i] < 0) { rc = bad_value(t, i, cp, "a product", err); goto fail; }
        if (isnan(w[i])) { rc = bad_value(t, i, cw, "a week (a number or date)", err); goto fail; }
        if (!(pr[i] > 0)) { rc = bad_value(t, i, cpr, "a price > 0", err); goto fail; }
        pn->lp[i] = log(pr[i]);
        pn->y[i] = NAN;
        if (u) {
            if (!(u[i] > 0)) { rc = bad_value(t, i, cu, "units sold > 0 (the model is on log units)", err); goto fail; }
            pn->y[i] = log(u[i]);
        } else if (lu) {
            if (isnan(lu[i])) { rc = bad_value(t, i, cl, "log units (a number)", err); goto fail; }
            pn->y[i] = lu[i];
        }
        if (dl) {
            if (!(dl[i] == 0 || dl[i] == 1)) { rc = bad_value(t, i, cd, "a deal flag 0 or 1", err); goto fail; }
            pn->deal[i] = (float)dl[i];
        }
        if (ft) {
            if (!(ft[i] >= 0 && ft[i] <= 1)) { rc = bad_value(t, i, cf, "a feature share in [0, 1]", err); goto fail; }
            pn->feat[i] = (float)ft[i];
        }
        pn->cost[i] = NAN;
        if (co) {
            if (!(co[i] >= 0)) { rc = bad_value(t, i, cc, "a unit cost >= 0", err); goto fail; }
            pn->cost[i] = co[i];
        }
        pn->weeks[i] = w[i];
    }
    pn->has_cost = co != NULL;
    /* weeks: sorted distinct values, each row's index */
    qsort(pn->weeks, (size_t)n, sizeof *pn->weeks, sg_promo_cmp_double);
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        if (!k || pn->weeks[i] != pn->weeks[k - 1]) pn->weeks[k++] = pn->weeks[i];
    pn->W = (int)k;
    for (int64_t i = 0; i < n; i++)
        pn->wk[i] = (int32_t)((double *)bsearch(&w[i], pn->weeks, (size_t)k, sizeof *w, sg_promo_cmp_double) -
                              pn->weeks);
    /* onto the model's stores and products */
    if (m) {
        int32_t *smap = sg_malloc_array((size_t)ns + 1, sizeof *smap);
        int32_t *pmap = sg_malloc_array((size_t)np + 1, sizeof *pmap);
        if (!smap || !pmap) {
            sg_free(smap);
            sg_free(pmap);
            rc = sg_error_set(err, SG_ENOMEM, "promo: out of memory");
            goto fail;
        }
        for (int i = 0; i < ns; i++) smap[i] = sg_promo_store_index(m, sl[i]);
        for (int i = 0; i < np; i++) pmap[i] = sg_promo_product_index(m, pl[i]);
        for (int64_t i = 0; i < n; i++) {
            pn->store[i] = smap[pn->store[i]];
            int32_t p = pmap[pn->prod[i]];
            if (p < 0) {
                rc = bad_value(t, i, cp, "a product the model was trained on", err);
                sg_free(smap);
                sg_free(pmap);
                goto fail;
            }
            pn->prod[i] = p;
        }
        sg_free(smap);
        sg_free(pmap);
        pn->S = m->S;
        pn->P = m->P;
        for (int i = 0; i < ns; i++) sg_free(sl[i]);
        for (int i = 0; i < np; i++) sg_free(pl[i]);
        sg_free(sl);
        sg_free(pl);
        sl = pl = NULL;
    } else {
        pn->S = ns;
        pn->P = np;
        *store_lab = sl;
        *n_store = ns;
        *prod_lab = pl;
        *n_prod = np;
    }
    /* each store-week's log prices (NaN where a product has no row), for the
     * cross terms; and no store x product x week twice */
    size_t cells = (size_t)pn->S * (size_t)pn->W * (size_t)pn->P;
    if (cells > MAX_PRICE_CELLS) {
        rc = sg_error_set(err, SG_EINVAL, "%s: %d stores x %d weeks x %d products is more than "
                          "the %d million store-week prices this model keeps (cross prices tie "
                          "every product of a store to the others): model one category at a "
                          "time", sg_table_name(t), pn->S, pn->W, pn->P,
                          MAX_PRICE_CELLS / 1000000);
        goto fail_labels;
    }
    pn->price_sw = sg_malloc_array(cells ? cells : 1, sizeof *pn->price_sw);
    if (!pn->price_sw) {
        rc = sg_error_set(err, SG_ENOMEM, "promo: out of memory (%d stores x %d weeks x %d "
                          "products)", pn->S, pn->W, pn->P);
        goto fail_labels;
    }
    for (size_t c = 0; c < cells; c++) pn->price_sw[c] = NAN;
    for (int64_t i = 0; i < n; i++) {
        if (pn->store[i] < 0) continue;
        double *c = &pn->price_sw[((size_t)pn->store[i] * pn->W + pn->wk[i]) * pn->P + pn->prod[i]];
        if (!isnan(*c)) {
            char b1[48], b2[48], b3[48];
            rc = sg_error_set(err, SG_EPARSE, "%s:%lld: store '%s', product '%s', week %s "
                              "appears twice", sg_table_name(t), (long long)sg_table_row_line(t, i),
                              sg_table_cell(t, i, cs, b1, sizeof b1),
                              sg_table_cell(t, i, cp, b2, sizeof b2),
                              sg_table_cell(t, i, cw, b3, sizeof b3));
            goto fail_labels;
        }
        *c = pn->lp[i];
    }
    return SG_OK;
fail_labels:
    if (!m) {
        *store_lab = NULL;
        *prod_lab = NULL;
        *n_store = *n_prod = 0;
    }
fail:
    for (int i = 0; sl && i < ns; i++) sg_free(sl[i]);
    for (int i = 0; pl && i < np; i++) sg_free(pl[i]);
    sg_free(sl);
    sg_free(pl);
    sg_promo_panel_deinit(pn);
    return rc;
}

/* ---------------------------------------------------------------------------
 * the design row */

/* The cross-price value of product q in store s for a store-week whose log
 * prices are 'lpq' (P entries, NaN = no row): the row's, else the store's
 * mean, else the product's. */
static inline double cross_lp(const sg_promo *m, int s, int q, const double *lpq)
{
    if (lpq && !isnan(lpq[q])) return lpq[q];
    if (s >= 0) {
        double v = m->mean_lp[(size_t)s * m->P + q];
        if (!isnan(v)) return v;
    }
    return m->center[q];
}

/* The nonzero entries of the design row of product p in store s (s >= 0),
 * week index wi (-1: none): indices in ascending order and their values (at
 * most P + 6 of the K).  Returns their number.  A row touches its store, its
 * week and a few prices, so the normal matrix is built from these outer
 * products (about (P + 6)^2 operations a row) instead of dense K^2 ones. */
static int design_row(const sg_promo *m, int p, int s, double lp, const double *lpq,
                      double deal, double feat, int wi, int *idx, double *val)
{
    int S = m->S, P = m->P, n = 0;
    double c = lp - m->center[p];
    idx[n] = s, val[n++] = 1.0;
    idx[n] = S, val[n++] = c;
    if (m->cross)
        for (int q = 0; q < P; q++)
            if (q != p) idx[n] = S + 1 + q, val[n++] = cross_lp(m, s, q, lpq) - m->center[q];
    idx[n] = m->off_deal, val[n++] = deal;
    idx[n] = m->off_feat, val[n++] = feat;
    idx[n] = m->off_slope + s, val[n++] = c;
    if (wi >= 0) idx[n] = m->off_week + wi, val[n++] = 1.0;
    return n;
}

/* The mean of the last 'recent_weeks' week effects of coefficient vector th. */
/* The mean week effect of th over the n weeks before week index 'end' (fewer
 * when the panel starts later; 0 when there are none). */
static double level_before(const sg_promo *m, const double *th, int end, int n)
{
    int a = SG_MAX(0, end - n);
    double s = 0;
    for (int t = a; t < end; t++) s += th[m->off_week + t];
    return end > a ? s / (end - a) : 0.0;
}

/* sg_promo_linpred with the stores that sold p given by seen[r * stride]
 * (r < S): the fit th knows their effects; any other store gets the mean of
 * theirs. */
static double linpred_seen(const sg_promo *m, const unsigned char *seen, size_t stride,
                           const double *th, int p, int s, double lp, const double *lpq,
                           double deal, double feat, int wi, double level)
{
    int S = m->S, P = m->P;
    double c = lp - m->center[p];
    double v = th[S] * c + th[m->off_deal] * deal + th[m->off_feat] * feat;
    if (s >= 0 && seen[(size_t)s * stride]) {
        v += th[s] + th[m->off_slope + s] * c;
    } else {  /* a store that never sold p: the mean store effect */
        double a = 0;
        int k = 0;
        for (int r = 0; r < S; r++)
            if (seen[(size_t)r * stride]) {
                a += th[r];
                k++;
            }
        v += k ? a / k : 0.0;
    }
    if (m->cross)
        for (int q = 0; q < P; q++)
            if (q != p) v += th[S + 1 + q] * (cross_lp(m, s, q, lpq) - m->center[q]);
    v += wi >= 0 ? th[m->off_week + wi] : level;
    return v;
}

double sg_promo_linpred(const sg_promo *m, const double *th, int p, int s, double lp,
                        const double *lpq, double deal, double feat, int wi, double level)
{
    return linpred_seen(m, m->seen + p, (size_t)m->P, th, p, s, lp, lpq, deal, feat, wi, level);
}

double sg_promo_recent(const sg_promo *m, const double *th)
{
    return level_before(m, th, m->W, m->recent_weeks);
}

/* ---------------------------------------------------------------------------
 * fitting one product */

typedef struct fit_ctx {
    const sg_promo *m;
    const sg_promo_panel *pn;
    const int64_t *rows;   /* the product's rows */
    int64_t n;
    const int32_t *wmap;   /* panel week -> model week index */
    int *idx;              /* (P + 6) scratch: a sparse design row */
    double *val;
    unsigned char *mask;   /* (S) scratch: stores with rows before a cut */
} fit_ctx;

/* The sparse design row of panel row i into idx/val; returns its length. */
static int panel_row(const fit_ctx *c, int p, int64_t i, int wi, int *idx, double *val)
{
    const sg_promo_panel *pn = c->pn;
    const double *lpq = pn->price_sw + ((size_t)pn->store[i] * pn->W + pn->wk[i]) * pn->P;
    return design_row(c->m, p, pn->store[i], pn->lp[i], lpq, pn->deal[i], pn->feat[i], wi, idx,
                      val);
}

/* A = X^T X + penalty over the rows with wmap[wk] < w_end, and xty = X^T y
 * when not NULL (both triangles of A). */
static void normal_matrix(const fit_ctx *c, int p, int w_end, double slope_l2, double *A,
                          double *xty)
{
    const sg_promo *m = c->m;
    const sg_promo_panel *pn = c->pn;
    int K = m->K;
    int *idx = c->idx;
    double *val = c->val;
    memset(A, 0, (size_t)K * K * sizeof *A);
    if (xty) memset(xty, 0, (size_t)K * sizeof *xty);
    for (int64_t r = 0; r < c->n; r++) {
        int64_t i = c->rows[r];
        int wi = c->wmap[pn->wk[i]];
        if (wi >= w_end) continue;
        int nz = panel_row(c, p, i, wi, idx, val);
        for (int a = 0; a < nz; a++) {
            double *row = A + (size_t)idx[a] * K, va = val[a];
            for (int b = 0; b < nz; b++) row[idx[b]] += va * val[b];
            if (xty) xty[idx[a]] += va * pn->y[i];
        }
    }
    for (int k = 0; k < K; k++) {
        double l = TINY_L2;
        if (k >= m->off_slope && k < m->off_slope + m->S) l = slope_l2;
        else if (k >= m->off_week) l = m->week_l2;
        if (A[(size_t)k * K + k] == 0) l = SG_MAX(l, 1.0);  /* an empty column stays 0 */
        A[(size_t)k * K + k] += l;
    }
}

/* Fit product p on the weeks before w_end into beta (K).  A: K*K work, left
 * holding the Cholesky factor. */
static int fit_product(const fit_ctx *c, int p, int w_end, double slope_l2, double *beta,
                       double *A, sg_error *err)
{
    const sg_promo *m = c->m;
    int K = m->K;
    normal_matrix(c, p, w_end, slope_l2, A, beta);
    int piv = sg_dposv(K, A, beta);
    if (piv)
        return sg_error_set(err, SG_ENUMERIC, "promo: product '%s': the normal equations are "
                            "singular (pivot %d)", m->prod_lab[p], piv);
    for (int k = 0; k < K; k++)
        if (!isfinite(beta[k]))
            return sg_error_set(err, SG_ENUMERIC, "promo: product '%s': non-finite coefficient",
                                m->prod_lab[p]);
    return SG_OK;
}

/* Squared error of rows in weeks [w_beg, end) predicted as future weeks from
 * beta (fit on the weeks before w_beg; the level is the mean effect of the
 * 'recent' weeks just before w_beg).  'flat' predicts instead the store's mean log
 * units over the weeks before w_beg (the no-price baseline; work: 2*S).
 * Adds to *sse and *cnt. */
static void holdout_sse(const fit_ctx *c, int p, int w_beg, const double *beta, int flat,
                        int recent, double *work, double *sse, int64_t *cnt)
{
    const sg_promo *m = c->m;
    const sg_promo_panel *pn = c->pn;
    double level = level_before(m, beta, w_beg, recent);
    double *sum = work, *num = work + m->S, all = 0;
    int64_t n_all = 0;
    memset(work, 0, 2 * (size_t)m->S * sizeof *work);
    for (int64_t r = 0; r < c->n; r++) {
        int64_t i = c->rows[r];
        if (c->wmap[pn->wk[i]] >= w_beg) continue;
        sum[pn->store[i]] += pn->y[i];
        num[pn->store[i]] += 1;
        all += pn->y[i];
        n_all++;
    }
    /* a store that first sells the product after w_beg is new to this fit: as
     * for a store new to the model, the mean of the other stores' effects */
    for (int s = 0; s < m->S; s++) c->mask[s] = num[s] > 0;
    for (int64_t r = 0; r < c->n; r++) {
        int64_t i = c->rows[r];
        if (c->wmap[pn->wk[i]] < w_beg) continue;
        const double *lpq = pn->price_sw + ((size_t)pn->store[i] * pn->W + pn->wk[i]) * pn->P;
        double f;
        if (flat) {
            int s = pn->store[i];
            f = num[s] > 0 ? sum[s] / num[s] : n_all ? all / (double)n_all : 0.0;
        } else {
            f = linpred_seen(m, c->mask, 1, beta, p, pn->store[i], pn->lp[i], lpq,
                             pn->deal[i], pn->feat[i], -1, level);
        }
        double e = pn->y[i] - f;
        *sse += e * e;
        (*cnt)++;
    }
}

/* Week-clustered covariance of beta and n_draws draws from it (rows of 'draws'),
 * the standard errors (m->se), the residual sd and the smearing factor. */
static int draw_coefs(const fit_ctx *c, int p, const double *beta, double slope_l2,
                      double *A, double *draws, int n_draws, sg_rng *rng,
                      double *sigma, double *smear, sg_error *err)
{
    const sg_promo *m = c->m;
    const sg_promo_panel *pn = c->pn;
    int K = m->K, W = m->W;
    double *g = sg_calloc((size_t)W * K, sizeof *g);
    double *M = sg_malloc_array((size_t)K * K, sizeof *M);
    double *V = sg_malloc_array((size_t)K * K, sizeof *V);
    double *ev = sg_malloc_array((size_t)K, sizeof *ev);
    if (!g || !M || !V || !ev) {
        sg_free(g);
        sg_free(M);
        sg_free(V);
        sg_free(ev);
        return sg_error_set(err, SG_ENOMEM, "promo: out of memory");
    }
    int *idx = c->idx;
    double *val = c->val;
    double ss = 0, se = 0;
    for (int64_t r = 0; r < c->n; r++) {
        int64_t i = c->rows[r];
        int wi = c->wmap[pn->wk[i]];
        int nz = panel_row(c, p, i, wi, idx, val);
        double e = pn->y[i];
        for (int a = 0; a < nz; a++) e -= val[a] * beta[idx[a]];
        ss += e * e;
        se += exp(e);
        double *gw = g + (size_t)wi * K;
        for (int a = 0; a < nz; a++) gw[idx[a]] += e * val[a];
    }
    *sigma = sqrt(ss / (double)SG_MAX(1, c->n - 1));
    *smear = se / (double)c->n;
    normal_matrix(c, p, W, slope_l2, A, NULL);
    if (sg_dposinv(K, A)) {
        sg_free(g);
        sg_free(M);
        sg_free(V);
        sg_free(ev);
        return sg_error_set(err, SG_ENUMERIC, "promo: product '%s': cannot invert the normal "
                            "matrix", m->prod_lab[p]);
    }
    /* M = sum_t g_t g_t^T; V = A^-1 M A^-1 (scaled by W/(W-1)) */
    sg_dsyrk_t(K, W, W > 1 ? (double)W / (W - 1) : 1.0, g, 0.0, M);
    sg_dgemm(0, 0, K, K, K, 1.0, A, M, 0.0, V);
    sg_dgemm(0, 0, K, K, K, 1.0, V, A, 0.0, M);
    for (int a = 0; a < K; a++)      /* symmetrise */
        for (int b = 0; b < a; b++) {
            double v = 0.5 * (M[(size_t)a * K + b] + M[(size_t)b * K + a]);
            M[(size_t)a * K + b] = M[(size_t)b * K + a] = v;
        }
    memcpy(V, M, (size_t)K * K * sizeof *V);
    int rc = sg_dsyev(K, V, ev);  /* rows of V: eigenvectors */
    if (rc) {
        sg_free(g);
        sg_free(M);
        sg_free(V);
        sg_free(ev);
        if (rc < 0) return sg_error_set(err, SG_ENOMEM, "promo: out of memory");
        return sg_error_set(err, SG_ENUMERIC, "promo: product '%s': eigen-decomposition of "
                            "the covariance failed", m->prod_lab[p]);
    }
    for (int k = 0; k < K; k++) ev[k] = ev[k] > 0 ? sqrt(ev[k]) : 0.0;
    for (int d = 0; d < n_draws; d++) {
        double *th = draws + (size_t)d * K;
        memcpy(th, beta, (size_t)K * sizeof *th);
        for (int k = 0; k < K; k++) {
            double z = ev[k] * sg_rng_normal(rng);
            if (z != 0) sg_daxpy(K, z, V + (size_t)k * K, th);
        }
    }
    /* standard errors of the named coefficients (diagonal of M) */
    double *se_out = m->se + (size_t)p * K;
    for (int k = 0; k < K; k++) se_out[k] = sqrt(SG_MAX(0.0, M[(size_t)k * K + k]));
    sg_free(g);
    sg_free(M);
    sg_free(V);
    sg_free(ev);
    return SG_OK;
}

/* ---------------------------------------------------------------------------
 * training */

void sg_promo_free(sg_promo *m)
{
    if (!m) return;
    for (int i = 0; m->store_lab && i < m->S; i++) sg_free(m->store_lab[i]);
    for (int i = 0; m->prod_lab && i < m->P; i++) sg_free(m->prod_lab[i]);
    sg_free(m->store_lab);
    sg_free(m->prod_lab);
    for (int r = 0; r < SG_PROMO_N_ROLES; r++) sg_free(m->role[r]);
    sg_free(m->weeks);
    sg_free(m->beta);
    sg_free(m->se);
    sg_free(m->draws);
    sg_free(m->sigma);
    sg_free(m->smear);
    sg_free(m->center);
    sg_free(m->mean_lp);
    sg_free(m->lp_min);
    sg_free(m->lp_max);
    sg_free(m->seen);
    sg_free(m->shock);
    sg_free(m);
}

/* Layout offsets from S, P, W, cross. */
static void set_layout(sg_promo *m)
{
    m->off_deal = m->S + 1 + (m->cross ? m->P : 0);
    m->off_feat = m->off_deal + 1;
    m->off_slope = m->off_feat + 1;
    m->off_week = m->off_slope + m->S;
    m->K = m->off_week + m->W;
}

/* Allocate the per-model arrays from S, P, W, K, n_draws. */
static int alloc_arrays(sg_promo *m)
{
    size_t SP = (size_t)m->S * m->P, PK = (size_t)m->P * m->K;
    m->weeks = sg_malloc_array((size_t)m->W, sizeof *m->weeks);
    m->beta = sg_calloc(PK, sizeof *m->beta);
    m->se = sg_calloc(PK, sizeof *m->se);
    m->draws = sg_calloc(PK * (size_t)SG_MAX(1, m->n_draws), sizeof *m->draws);
    m->sigma = sg_calloc((size_t)m->P, sizeof *m->sigma);
    m->smear = sg_calloc((size_t)m->P, sizeof *m->smear);
    m->center = sg_calloc((size_t)m->P, sizeof *m->center);
    m->mean_lp = sg_malloc_array(SP, sizeof *m->mean_lp);
    m->lp_min = sg_malloc_array(SP, sizeof *m->lp_min);
    m->lp_max = sg_malloc_array(SP, sizeof *m->lp_max);
    m->seen = sg_calloc(SP, 1);
    m->shock = sg_malloc_array((size_t)m->P * m->W, sizeof *m->shock);
    return m->weeks && m->beta && m->se && m->draws && m->sigma && m->smear && m->center &&
           m->mean_lp && m->lp_min && m->lp_max && m->seen && m->shock ? SG_OK : SG_ENOMEM;
}

int sg_promo_train(sg_promo **out, const sg_table *t, const sg_promo_opts *o,
                   sg_promo_report *rep, sg_error *err)
{
    *out = NULL;
    if (rep) memset(rep, 0, sizeof *rep);
    if (!o->store || !o->product || !o->week || !o->price)
        return sg_error_set(err, SG_EINVAL, "train promo: the store, product, week and price "
                            "columns are required");
    if (!o->units == !o->log_units)
        return sg_error_set(err, SG_EINVAL, "train promo: give the units column or the log "
                            "units column (one of them)");
    if (o->valid_weeks < 1 || o->recent_weeks < 0 || o->n_draws < 1 || o->n_draws > 10000 ||
        !(o->week_l2 > 0))
        return sg_error_set(err, SG_EINVAL, "train promo: valid_weeks and n_draws (<= "
                            "10000) must be >= 1, recent_weeks >= 0 and week_l2 > 0");
    const double *grid = o->n_slope_grid ? o->slope_grid : SLOPE_GRID;
    int n_grid = o->n_slope_grid ? o->n_slope_grid : (int)(sizeof SLOPE_GRID / sizeof *SLOPE_GRID);
    for (int g = 0; g < n_grid; g++)
        if (!(grid[g] > 0))
            return sg_error_set(err, SG_EINVAL, "train promo: slope penalties must be > 0");
    sg_promo *m = sg_calloc(1, sizeof *m);
    if (!m) return sg_error_set(err, SG_ENOMEM, "promo: out of memory");
    const char *names[SG_PROMO_N_ROLES] = {o->store, o->product, o->week, o->units, o->log_units,
                                           o->price, o->deal, o->feature, o->cost};
    for (int r = 0; r < SG_PROMO_N_ROLES; r++)
        if (names[r] && !(m->role[r] = sg_strdup(names[r]))) {
            sg_promo_free(m);
            return sg_error_set(err, SG_ENOMEM, "promo: out of memory");
        }
    sg_promo_panel pn;
    int rc = sg_promo_panel_read(&pn, t, m->role, 1, NULL, &m->store_lab, &m->S, &m->prod_lab,
                                 &m->P, err);
    if (rc) {
        sg_promo_free(m);
        return rc;
    }
    m->W = pn.W;
    m->cross = o->cross && m->P > 1;
    m->has_deal = o->deal != NULL;
    m->has_feat = o->feature != NULL;
    m->week_l2 = o->week_l2;
    m->n_draws = o->n_draws;
    m->seed = o->seed;
    set_layout(m);
    double *blk = NULL, *A = NULL, *beta_v = NULL, *val = NULL;
    int *idx = NULL;
    unsigned char *mask = NULL;
    int64_t *rows = NULL, *start = NULL;
    int32_t *wmap = NULL;
    if (m->S < 2 || m->W < o->valid_weeks + 2) {
        rc = sg_error_set(err, SG_EINVAL, "train promo: %s has %d store%s and %d week%s; at "
                          "least 2 stores and %d weeks (--valid-weeks %d + 2) are needed",
                          sg_table_name(t), m->S, m->S == 1 ? "" : "s", m->W, m->W == 1 ? "" : "s",
                          o->valid_weeks + 2, o->valid_weeks);
        goto done;
    }
    if ((rc = alloc_arrays(m))) {
        rc = sg_error_set(err, SG_ENOMEM, "promo: out of memory");
        goto done;
    }
    memcpy(m->weeks, pn.weeks, (size_t)m->W * sizeof *m->weeks);
    int S = m->S, P = m->P, W = m->W, K = m->K;
    int64_t n = pn.n;
    /* rows by product; centres, store means and ranges of log prices */
    rows = sg_malloc_array((size_t)n, sizeof *rows);
    start = sg_calloc((size_t)P + 1, sizeof *start);
    wmap = sg_malloc_array((size_t)W, sizeof *wmap);
    blk = sg_malloc_array(2 * (size_t)S, sizeof *blk);
    idx = sg_malloc_array((size_t)P + 6, sizeof *idx);
    val = sg_malloc_array((size_t)P + 6, sizeof *val);
    mask = sg_malloc_array((size_t)S, 1);
    A = sg_malloc_array((size_t)K * K, sizeof *A);
    beta_v = sg_malloc_array((size_t)K, sizeof *beta_v);
    if (!rows || !start || !wmap || !blk || !A || !beta_v || !idx || !val || !mask) {
        rc = sg_error_set(err, SG_ENOMEM, "promo: out of memory (K = %d coefficients)", K);
        goto done;
    }
    for (int w = 0; w < W; w++) wmap[w] = w;
    for (int64_t i = 0; i < n; i++) start[pn.prod[i] + 1]++;
    for (int p = 0; p < P; p++) start[p + 1] += start[p];
    {
        int64_t *fill = sg_malloc_array((size_t)P, sizeof *fill);
        double *cnt = sg_calloc((size_t)S * P, sizeof *cnt);
        if (!fill || !cnt) {
            sg_free(fill);
            sg_free(cnt);
            rc = sg_error_set(err, SG_ENOMEM, "promo: out of memory");
            goto done;
        }
        memcpy(fill, start, (size_t)P * sizeof *fill);
        for (int64_t i = 0; i < n; i++) rows[fill[pn.prod[i]]++] = i;
        for (size_t c = 0; c < (size_t)S * P; c++) {
            m->mean_lp[c] = 0;
            m->lp_min[c] = INFINITY;
            m->lp_max[c] = -INFINITY;
        }
        for (int64_t i = 0; i < n; i++) {
            size_t c = (size_t)pn.store[i] * P + pn.prod[i];
            m->mean_lp[c] += pn.lp[i];
            cnt[c] += 1;
            m->lp_min[c] = SG_MIN(m->lp_min[c], pn.lp[i]);
            m->lp_max[c] = SG_MAX(m->lp_max[c], pn.lp[i]);
            m->center[pn.prod[i]] += pn.lp[i];
        }
        for (int p = 0; p < P; p++) {
            int64_t np = start[p + 1] - start[p];
            if (np < MIN_PRODUCT_ROWS) {
                rc = sg_error_set(err, SG_EINVAL, "train promo: product '%s' has %lld rows; "
                                  "at least %d are needed", m->prod_lab[p], (long long)np,
                                  MIN_PRODUCT_ROWS);
                sg_free(fill);
                sg_free(cnt);
                goto done;
            }
            m->center[p] /= (double)np;
        }
        for (size_t c = 0; c < (size_t)S * P; c++) {
            m->seen[c] = cnt[c] > 0;
            m->mean_lp[c] = cnt[c] > 0 ? m->mean_lp[c] / cnt[c] : (double)NAN;
            if (!m->seen[c]) m->lp_min[c] = m->lp_max[c] = NAN;
        }
        sg_free(fill);
        sg_free(cnt);
    }
    /* the store-slope penalty and the recent window: fit on all but the last
     * valid_weeks, score those weeks as future ones */
    int w_cut = W - o->valid_weeks;
    int recent[N_RECENT], n_recent = 0;
    if (o->recent_weeks > 0) recent[n_recent++] = o->recent_weeks;
    else
        for (int k = 0; k < N_RECENT; k++)
            if (RECENT_GRID[k] < w_cut || !k) recent[n_recent++] = SG_MIN(RECENT_GRID[k], w_cut);
    double best = INFINITY, best_l2 = grid[0];
    int best_recent = recent[0];
    double sse_flat = 0;
    int64_t cnt_flat = 0;
    for (int g = 0; g < n_grid; g++) {
        double sse[N_RECENT] = {0};
        int64_t cnt[N_RECENT] = {0};
        for (int p = 0; p < P; p++) {
            fit_ctx c = {m, &pn, rows + start[p], start[p + 1] - start[p], wmap, idx, val, mask};
            if ((rc = fit_product(&c, p, w_cut, grid[g], beta_v, A, err))) goto done;
            for (int k = 0; k < n_recent; k++)
                holdout_sse(&c, p, w_cut, beta_v, 0, recent[k], blk, &sse[k], &cnt[k]);
            if (g == 0) holdout_sse(&c, p, w_cut, beta_v, 1, 1, blk, &sse_flat, &cnt_flat);
        }
        if (o->on_progress) o->on_progress(o->ud, "validation weeks", g + 1, n_grid);
        for (int k = 0; k < n_recent; k++) {
            double rmse = cnt[k] ? sqrt(sse[k] / (double)cnt[k]) : (double)INFINITY;
            if (rmse < best) {
                best = rmse;
                best_l2 = grid[g];
                best_recent = recent[k];
            }
        }
    }
    m->slope_l2 = best_l2;
    m->recent_weeks = best_recent;
    /* the final fit, its covariance and draws */
    sg_rng rng;
    sg_rng_init(&rng, o->seed);
    double sse = 0;
    for (int p = 0; p < P; p++) {
        fit_ctx c = {m, &pn, rows + start[p], start[p + 1] - start[p], wmap, idx, val, mask};
        double *beta = m->beta + (size_t)p * K;
        if ((rc = fit_product(&c, p, W, best_l2, beta, A, err))) goto done;
        sg_rng pr;
        sg_rng_split(&rng, (uint64_t)p, &pr);
        if ((rc = draw_coefs(&c, p, beta, best_l2, A, m->draws + (size_t)p * m->n_draws * K,
                             m->n_draws, &pr, &m->sigma[p], &m->smear[p], err)))
            goto done;
        sse += m->sigma[p] * m->sigma[p] * (double)(c.n - 1);
        /* week shocks: each week's effect against the mean of the weeks before */
        for (int w = 0; w < W; w++) {
            m->shock[(size_t)p * W + w] = NAN;
            if (w < m->recent_weeks) continue;
            m->shock[(size_t)p * W + w] =
                beta[m->off_week + w] - level_before(m, beta, w, m->recent_weeks);
        }
        /* centred so that exp(shock) has mean one: a shock spreads a week's
         * sales around the forecast without moving its expectation */
        double se = 0;
        int ns = 0;
        for (int w = m->recent_weeks; w < W; w++) {
            se += exp(m->shock[(size_t)p * W + w]);
            ns++;
        }
        for (int w = m->recent_weeks; ns && w < W; w++) m->shock[(size_t)p * W + w] -= log(se / ns);
        if (o->on_progress) o->on_progress(o->ud, "products", p + 1, P);
    }
    if (rep) {
        rep->n_rows = n;
        rep->n_stores = S;
        rep->n_products = P;
        rep->n_weeks = W;
        rep->slope_l2 = best_l2;
        rep->recent_weeks = best_recent;
        rep->valid_rmse = best;
        rep->valid_rmse_flat = cnt_flat ? sqrt(sse_flat / (double)cnt_flat) : (double)NAN;
        rep->rmse = sqrt(sse / (double)n);
    }
    rc = SG_OK;
done:
    sg_free(blk);
    sg_free(idx);
    sg_free(val);
    sg_free(mask);
    sg_free(A);
    sg_free(beta_v);
    sg_free(rows);
    sg_free(start);
    sg_free(wmap);
    sg_promo_panel_deinit(&pn);
    if (rc) {
        sg_promo_free(m);
        return rc;
    }
    *out = m;
    return SG_OK;
}

/* ---------------------------------------------------------------------------
 * accessors */

int sg_promo_n_stores(const sg_promo *m) { return m->S; }
int sg_promo_n_products(const sg_promo *m) { return m->P; }

const char *sg_promo_store_label(const sg_promo *m, int s)
{
    return s >= 0 && s < m->S ? m->store_lab[s] : NULL;
}

const char *sg_promo_product_label(const sg_promo *m, int p)
{
    return p >= 0 && p < m->P ? m->prod_lab[p] : NULL;
}

const char *sg_promo_role(const sg_promo *m, const char *role)
{
    for (int r = 0; r < SG_PROMO_N_ROLES; r++)
        if (!strcmp(role, ROLE_NAMES[r])) return m->role[r];
    return NULL;
}

void sg_promo_coef_get(const sg_promo *m, int p, sg_promo_coef *c)
{
    const double *b = m->beta + (size_t)p * m->K, *se = m->se + (size_t)p * m->K;
    c->elasticity = b[m->S];
    c->elasticity_se = se[m->S];
    c->deal = m->has_deal ? b[m->off_deal] : (double)NAN;
    c->deal_se = m->has_deal ? se[m->off_deal] : (double)NAN;
    c->feature = m->has_feat ? b[m->off_feat] : (double)NAN;
    c->feature_se = m->has_feat ? se[m->off_feat] : (double)NAN;
    double s1 = 0, s2 = 0;
    int k = 0;
    for (int s = 0; s < m->S; s++)
        if (m->seen[(size_t)s * m->P + p]) {
            double d = b[m->off_slope + s];
            s1 += d;
            s2 += d * d;
            k++;
        }
    c->store_sd = k > 1 ? sqrt(SG_MAX(0.0, (s2 - s1 * s1 / k) / (k - 1))) : 0.0;
    c->sigma = m->sigma[p];
}

double sg_promo_cross(const sg_promo *m, int p, int q)
{
    if (!m->cross || p == q) return NAN;
    return m->beta[(size_t)p * m->K + m->S + 1 + q];
}

double sg_promo_store_elasticity(const sg_promo *m, int s, int p)
{
    const double *b = m->beta + (size_t)p * m->K;
    return b[m->S] + b[m->off_slope + s];
}

/* ---------------------------------------------------------------------------
 * model file */

int sg_promo_save(const sg_promo *m, const char *path, sg_error *err)
{
    sg_wbuf w;
    sg_wbuf_init(&w);
    sg_wbuf_u32(&w, 1);  /* payload version */
    for (int r = 0; r < SG_PROMO_N_ROLES; r++) sg_wbuf_str(&w, m->role[r]);
    sg_wbuf_i32(&w, m->S);
    sg_wbuf_i32(&w, m->P);
    sg_wbuf_i32(&w, m->W);
    sg_wbuf_i32(&w, m->cross);
    sg_wbuf_i32(&w, m->has_deal);
    sg_wbuf_i32(&w, m->has_feat);
    sg_wbuf_i32(&w, m->recent_weeks);
    sg_wbuf_i32(&w, m->n_draws);
    sg_wbuf_f64(&w, m->week_l2);
    sg_wbuf_f64(&w, m->slope_l2);
    sg_wbuf_u64(&w, m->seed);
    for (int s = 0; s < m->S; s++) sg_wbuf_str(&w, m->store_lab[s]);
    for (int p = 0; p < m->P; p++) sg_wbuf_str(&w, m->prod_lab[p]);
    size_t SP = (size_t)m->S * m->P, PK = (size_t)m->P * m->K;
    sg_wbuf_f64s(&w, m->weeks, (size_t)m->W);
    sg_wbuf_f64s(&w, m->beta, PK);
    sg_wbuf_f64s(&w, m->se, PK);
    sg_wbuf_f64s(&w, m->draws, PK * (size_t)m->n_draws);
    sg_wbuf_f64s(&w, m->sigma, (size_t)m->P);
    sg_wbuf_f64s(&w, m->smear, (size_t)m->P);
    sg_wbuf_f64s(&w, m->center, (size_t)m->P);
    sg_wbuf_f64s(&w, m->mean_lp, SP);
    sg_wbuf_f64s(&w, m->lp_min, SP);
    sg_wbuf_f64s(&w, m->lp_max, SP);
    sg_wbuf_put(&w, m->seen, SP);
    sg_wbuf_f64s(&w, m->shock, (size_t)m->P * m->W);
    int rc = sg_wbuf_status(&w, err);
    if (!rc) rc = sg_modelfile_write(path, SG_TASK_PROMO, w.data, w.len, err);
    sg_wbuf_deinit(&w);
    return rc;
}

int sg_promo_load(sg_promo **out, const char *path, sg_error *err)
{
    *out = NULL;
    unsigned char *buf = NULL;
    size_t len = 0;
    int task, rc = sg_modelfile_read(path, SG_TASK_PROMO, &task, &buf, &len, err);
    if (rc) return rc;
    sg_rbuf r;
    sg_rbuf_init(&r, buf, len);
    sg_promo *m = sg_calloc(1, sizeof *m);
    if (!m) {
        sg_free(buf);
        return sg_error_set(err, SG_ENOMEM, "promo: out of memory");
    }
    uint32_t ver;
    int32_t S, P, W;
    if ((rc = sg_rbuf_u32(&r, &ver, "promo version", err))) goto fail;
    if (ver != 1) {
        rc = sg_error_set(err, SG_EPARSE, "%s: promo model version %u is not supported", path, ver);
        goto fail;
    }
    for (int q = 0; q < SG_PROMO_N_ROLES; q++)
        if ((rc = sg_rbuf_str(&r, &m->role[q], 4096, "promo role", err))) goto fail;
    if ((rc = sg_rbuf_i32(&r, &S, "stores", err)) || (rc = sg_rbuf_i32(&r, &P, "products", err)) ||
        (rc = sg_rbuf_i32(&r, &W, "weeks", err)) ||
        (rc = sg_rbuf_i32(&r, &m->cross, "cross", err)) ||
        (rc = sg_rbuf_i32(&r, &m->has_deal, "deal", err)) ||
        (rc = sg_rbuf_i32(&r, &m->has_feat, "feature", err)) ||
        (rc = sg_rbuf_i32(&r, &m->recent_weeks, "recent weeks", err)) ||
        (rc = sg_rbuf_i32(&r, &m->n_draws, "draws", err)) ||
        (rc = sg_rbuf_f64(&r, &m->week_l2, "week l2", err)) ||
        (rc = sg_rbuf_f64(&r, &m->slope_l2, "slope l2", err)) ||
        (rc = sg_rbuf_u64(&r, &m->seed, "seed", err)))
        goto fail;
    if (S < 1 || P < 1 || W < 1 || S > 1000000 || P > 100000 || W > 100000 || m->n_draws < 1 ||
        m->n_draws > 10000 || m->recent_weeks < 1 || !m->role[SG_PROMO_STORE] ||
        !m->role[SG_PROMO_PRODUCT] || !m->role[SG_PROMO_WEEK] || !m->role[SG_PROMO_PRICE]) {
        rc = sg_error_set(err, SG_EPARSE, "%s: corrupt promo model (sizes)", path);
        goto fail;
    }
    m->S = S;
    m->P = P;
    m->W = W;
    set_layout(m);
    /* everything below must fit in what is left of the file */
    double need = 8.0 * ((double)P * m->K * (2.0 + m->n_draws) + 3.0 * S * P + (double)P * W);
    if (need > (double)(len - r.pos)) {
        rc = sg_error_set(err, SG_EPARSE, "%s: corrupt promo model (truncated)", path);
        goto fail;
    }
    if (!(m->store_lab = sg_calloc((size_t)S, sizeof *m->store_lab)) ||
        !(m->prod_lab = sg_calloc((size_t)P, sizeof *m->prod_lab)) || alloc_arrays(m)) {
        rc = sg_error_set(err, SG_ENOMEM, "promo: out of memory");
        goto fail;
    }
    for (int s = 0; s < S; s++)
        if ((rc = sg_rbuf_str(&r, &m->store_lab[s], 4096, "store label", err))) goto fail;
    for (int p = 0; p < P; p++)
        if ((rc = sg_rbuf_str(&r, &m->prod_lab[p], 4096, "product label", err))) goto fail;
    for (int s = 0; s < S; s++)
        if (!m->store_lab[s] || (s && cmp_label(m->store_lab[s - 1], m->store_lab[s]) >= 0)) {
            rc = sg_error_set(err, SG_EPARSE, "%s: corrupt promo model (store labels)", path);
            goto fail;
        }
    for (int p = 0; p < P; p++)
        if (!m->prod_lab[p] || (p && cmp_label(m->prod_lab[p - 1], m->prod_lab[p]) >= 0)) {
            rc = sg_error_set(err, SG_EPARSE, "%s: corrupt promo model (product labels)", path);
            goto fail;
        }
    size_t SP = (size_t)S * P, PK = (size_t)P * m->K;
    if ((rc = sg_rbuf_f64s(&r, m->weeks, (size_t)W, "weeks", err)) ||
        (rc = sg_rbuf_f64s(&r, m->beta, PK, "coefficients", err)) ||
        (rc = sg_rbuf_f64s(&r, m->se, PK, "standard errors", err)) ||
        (rc = sg_rbuf_f64s(&r, m->draws, PK * (size_t)m->n_draws, "draws", err)) ||
        (rc = sg_rbuf_f64s(&r, m->sigma, (size_t)P, "sigma", err)) ||
        (rc = sg_rbuf_f64s(&r, m->smear, (size_t)P, "smearing", err)) ||
        (rc = sg_rbuf_f64s(&r, m->center, (size_t)P, "centres", err)) ||
        (rc = sg_rbuf_f64s(&r, m->mean_lp, SP, "mean prices", err)) ||
        (rc = sg_rbuf_f64s(&r, m->lp_min, SP, "price minima", err)) ||
        (rc = sg_rbuf_f64s(&r, m->lp_max, SP, "price maxima", err)) ||
        (rc = sg_rbuf_get(&r, m->seen, SP, "seen", err)) ||
        (rc = sg_rbuf_f64s(&r, m->shock, (size_t)P * W, "week shocks", err)))
        goto fail;
    if (r.pos != len) {
        rc = sg_error_set(err, SG_EPARSE, "%s: corrupt promo model (%zu bytes left over)", path,
                          len - r.pos);
        goto fail;
    }
    sg_free(buf);
    *out = m;
    return SG_OK;
fail:
    sg_free(buf);
    sg_promo_free(m);
    return rc;
}

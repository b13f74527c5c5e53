/* promo_eval.c -- predictions of a promo model on a panel, and the held-out
 * check: each week's units, revenue and gross profit forecast with a 90%
 * interval against what happened (include/stratagem/promo.h).
 *
 * A row's week is one the model saw (its week effect is used) or a later one
 * (the recent level; in the draws, plus a week shock drawn from the panel's
 * history, the same for every product of the draw, since shocks move the
 * whole category).  Each draw also multiplies every row by its own noise,
 * exp(sigma z - sigma^2 / 2), whose mean is one.  See LICENSE. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "models/promo_private.h"
#include "stratagem/mem.h"
#include "stratagem/rng.h"

#define SG_PRAGMA(x) _Pragma(#x)
#ifdef _OPENMP
#define OMP_FOR(c) SG_PRAGMA(omp parallel for schedule(static) if(c))
#else
#define OMP_FOR(c) (void)(c);
#endif

/* The model's week index of each of the panel's weeks, -1 for weeks it did
 * not see.  wmap (pn->W). */
static void map_weeks(const sg_promo *m, const sg_promo_panel *pn, int32_t *wmap)
{
    for (int w = 0; w < pn->W; w++) {
        const double *hit = bsearch(&pn->weeks[w], m->weeks, (size_t)m->W, sizeof *m->weeks,
                                    sg_promo_cmp_double);
        wmap[w] = hit ? (int32_t)(hit - m->weeks) : -1;
    }
}

/* The store-week's log prices of row i (NULL for a store the model does not know). */
static const double *row_prices(const sg_promo_panel *pn, int64_t i)
{
    if (pn->store[i] < 0) return NULL;
    return pn->price_sw + ((size_t)pn->store[i] * pn->W + pn->wk[i]) * pn->P;
}

int sg_promo_predict(const sg_promo *m, const sg_table *t, double *out, int64_t *n_unseen,
                     sg_error *err)
{
    sg_promo_panel pn;
    int rc = sg_promo_panel_read(&pn, t, m->role, 0, m, NULL, NULL, NULL, NULL, err);
    if (rc) return rc;
    int32_t *wmap = sg_malloc_array((size_t)pn.W, sizeof *wmap);
    double *level = sg_malloc_array((size_t)m->P, sizeof *level);
    if (!wmap || !level) {
        sg_free(wmap);
        sg_free(level);
        sg_promo_panel_deinit(&pn);
        return sg_error_set(err, SG_ENOMEM, "promo: out of memory");
    }
    map_weeks(m, &pn, wmap);
    for (int p = 0; p < m->P; p++) level[p] = sg_promo_recent(m, m->beta + (size_t)p * m->K);
    int64_t unseen = 0;
    for (int64_t i = 0; i < pn.n; i++) {
        int p = pn.prod[i], s = pn.store[i];
        if (s < 0 || !m->seen[(size_t)s * m->P + p]) unseen++;
        double v = sg_promo_linpred(m, m->beta + (size_t)p * m->K, p, s, pn.lp[i],
                                    row_prices(&pn, i), pn.deal[i], pn.feat[i], wmap[pn.wk[i]],
                                    level[p]);
        out[i] = exp(v) * m->smear[p];
    }
    if (n_unseen) *n_unseen = unseen;
    sg_free(wmap);
    sg_free(level);
    sg_promo_panel_deinit(&pn);
    return SG_OK;
}

void sg_promo_eval_deinit(sg_promo_eval *ev)
{
    sg_free(ev->weeks);
    memset(ev, 0, sizeof *ev);
}

int sg_promo_evaluate(const sg_promo *m, const sg_table *t, uint64_t seed, sg_promo_eval *ev,
                      sg_error *err)
{
    memset(ev, 0, sizeof *ev);
    sg_promo_panel pn;
    int rc = sg_promo_panel_read(&pn, t, m->role, 1, m, NULL, NULL, NULL, NULL, err);
    if (rc) return rc;
    int W = pn.W, P = m->P, K = m->K, D = m->n_draws;
    int has_cost = pn.has_cost;
    int32_t *wmap = sg_malloc_array((size_t)W, sizeof *wmap);
    double *level = sg_malloc_array((size_t)P, sizeof *level);
    double *tot = sg_calloc((size_t)D * W * 3, sizeof *tot);   /* (D, W, 3) */
    double *v = sg_malloc_array((size_t)D, sizeof *v);
    ev->weeks = sg_calloc((size_t)W, sizeof *ev->weeks);
    if (!wmap || !level || !tot || !v || !ev->weeks) {
        rc = sg_error_set(err, SG_ENOMEM, "promo: out of memory");
        goto done;
    }
    ev->n_weeks = W;
    map_weeks(m, &pn, wmap);
    for (int p = 0; p < P; p++) level[p] = sg_promo_recent(m, m->beta + (size_t)p * K);
    /* point forecasts and the row-level errors */
    double se = 0, ae = 0;
    for (int w = 0; w < W; w++) {
        sg_promo_week_check *c = &ev->weeks[w];
        c->week = pn.weeks[w];
        if (!has_cost) c->profit = c->profit_hat = c->profit_lo = c->profit_hi = NAN;
    }
    for (int64_t i = 0; i < pn.n; i++) {
        int p = pn.prod[i];
        double f = sg_promo_linpred(m, m->beta + (size_t)p * K, p, pn.store[i], pn.lp[i],
                                    row_prices(&pn, i), pn.deal[i], pn.feat[i], wmap[pn.wk[i]],
                                    level[p]);
        double e = pn.y[i] - f;
        se += e * e;
        ae += fabs(e);
        double price = exp(pn.lp[i]), u = exp(pn.y[i]), uh = exp(f) * m->smear[p];
        sg_promo_week_check *c = &ev->weeks[pn.wk[i]];
        c->n_rows++;
        c->units += u;
        c->units_hat += uh;
        c->revenue += u * price;
        c->revenue_hat += uh * price;
        if (has_cost) {
            c->profit += u * (price - pn.cost[i]);
            c->profit_hat += uh * (price - pn.cost[i]);
        }
    }
    ev->n_rows = pn.n;
    ev->rmse_log = sqrt(se / (double)pn.n);
    ev->mae_log = ae / (double)pn.n;
    /* the draws */
    OMP_FOR(D >= 4 && pn.n * D >= 100000)
    for (int d = 0; d < D; d++) {
        double *lev = sg_malloc_array((size_t)P, sizeof *lev);
        if (!lev) {   /* out of memory: marked in the draw's totals, seen after the loop */
            tot[(size_t)d * W * 3] = NAN;
            continue;
        }
        sg_rng r0, r;
        sg_rng_init(&r0, seed);
        sg_rng_split(&r0, (uint64_t)d, &r);
        int ts = m->W > m->recent_weeks
                     ? m->recent_weeks + (int)sg_rng_below(&r, (uint64_t)(m->W - m->recent_weeks))
                     : -1;
        for (int p = 0; p < P; p++) {
            const double *th = m->draws + ((size_t)p * D + d) * K;
            double sh = ts >= 0 ? m->shock[(size_t)p * m->W + ts] : 0.0;
            lev[p] = sg_promo_recent(m, th) + (isnan(sh) ? 0.0 : sh);
        }
        double *td = tot + (size_t)d * W * 3;
        for (int64_t i = 0; i < pn.n; i++) {
            int p = pn.prod[i];
            const double *th = m->draws + ((size_t)p * D + d) * K;
            double f = sg_promo_linpred(m, th, p, pn.store[i], pn.lp[i], row_prices(&pn, i),
                                        pn.deal[i], pn.feat[i], wmap[pn.wk[i]], lev[p]);
            double s = m->sigma[p];
            double u = exp(f + s * sg_rng_normal(&r) - 0.5 * s * s) * m->smear[p];
            double price = exp(pn.lp[i]);
            double *c = td + (size_t)pn.wk[i] * 3;
            c[0] += u;
            c[1] += u * price;
            if (has_cost) c[2] += u * (price - pn.cost[i]);
        }
        sg_free(lev);
    }
    for (int d = 0; d < D; d++)
        if (isnan(tot[(size_t)d * W * 3])) {
            rc = sg_error_set(err, SG_ENOMEM, "promo: out of memory");
            goto done;
        }
    double su = 0, suh = 0, sr = 0, srh = 0, sp = 0, sph = 0;
    for (int w = 0; w < W; w++) {
        sg_promo_week_check *c = &ev->weeks[w];
        for (int k = 0; k < 3; k++) {
            if (k == 2 && !has_cost) break;
            for (int d = 0; d < D; d++) v[d] = tot[((size_t)d * W + w) * 3 + k];
            double lo = sg_quantile(v, D, 0.05), hi = sg_quantile(v, D, 0.95);
            if (k == 0) {
                c->units_lo = lo;
                c->units_hi = hi;
                ev->covered_units += c->units >= lo && c->units <= hi;
            } else if (k == 1) {
                c->revenue_lo = lo;
                c->revenue_hi = hi;
                ev->covered_revenue += c->revenue >= lo && c->revenue <= hi;
            } else {
                c->profit_lo = lo;
                c->profit_hi = hi;
                ev->covered_profit += c->profit >= lo && c->profit <= hi;
            }
        }
        su += c->units;
        suh += c->units_hat;
        sr += c->revenue;
        srh += c->revenue_hat;
        if (has_cost) {
            sp += c->profit;
            sph += c->profit_hat;
        }
    }
    ev->ratio_units = suh / su;
    ev->ratio_revenue = srh / sr;
    ev->ratio_profit = has_cost ? sph / sp : (double)NAN;
done:
    sg_free(wmap);
    sg_free(level);
    sg_free(tot);
    sg_free(v);
    sg_promo_panel_deinit(&pn);
    if (rc) sg_promo_eval_deinit(ev);
    return rc;
}

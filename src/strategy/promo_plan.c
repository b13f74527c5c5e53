/* promo_plan.c -- promotion plans and held-out checks of a promo model
 * (include/stratagem/promo.h).
 *
 * A plan chooses, for each store x product, one option: a price change from a
 * list, and whether to run a deal and a feature ad.  Stores are independent;
 * within a store the products interact through the cross-price terms, so a
 * store's options are chosen together by coordinate ascent (each product in
 * turn takes its best option given the others, until a sweep changes
 * nothing; see solve_group), from the regular plan.  The budget on promotion spend enters as a
 * Lagrange multiplier: each store maximises profit - lambda * spend; lambda is
 * found by bisection, and the stores' plans at the lower multiplier are then
 * added while they fit, best gain per unit of spend first.
 *
 * The forecast: the plan was chosen by the point estimate, so its predicted
 * profit is biased upwards (the optimiser's curse: where the estimate is too
 * kind, the plan goes).  Each coefficient draw plays the truth once: the plan
 * the draw would choose, valued by the draw and by the point estimate; the
 * mean difference is the optimism taken off the forecast (a parametric
 * bootstrap of the bias).  The interval comes from the draws with the week
 * shock and row noise.  See LICENSE. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "models/promo_private.h"
#include "stratagem/mem.h"
#include "stratagem/rng.h"

#define SG_PRAGMA(x) _Pragma(#x)
#ifdef _OPENMP
#define OMP_FOR_DYNAMIC(c) SG_PRAGMA(omp parallel for schedule(dynamic) if(c))
#else
#define OMP_FOR_DYNAMIC(c) (void)(c);
#endif

#define MAX_SWEEPS 20
#define BISECT_STEPS 40
#define RANGE_TOL 1e-9

void sg_promo_plan_opts_default(sg_promo_plan_opts *o)
{
    static const double CHANGES[] = {-0.2, -0.1, 0.0};
    memset(o, 0, sizeof *o);
    o->changes = CHANGES;
    o->n_changes = 3;
    o->deal_cost = -1;
    o->feature_cost = -1;
    o->budget = -1;
    o->n_draws = 0;
    o->seed = 20000;
}

/* ---------------------------------------------------------------------------
 * options and a store's value */

typedef struct option {
    double change;
    int deal, feat;
} option;

typedef struct plan_ctx {
    const sg_promo *m;
    const sg_promo_item *items;
    int64_t n;
    const sg_promo_plan_opts *o;
    const option *opt;          /* all options, n_opt */
    int n_opt;
    const int64_t *order;       /* items sorted by store */
    const int64_t *sbeg;        /* store runs: items order[sbeg[g]..sbeg[g+1]) */
    int n_groups;
    unsigned char *offered;     /* (n, n_opt) the option is in the price range */
} plan_ctx;

/* Coefficients of every product under one draw (or the point estimate) and
 * the week level to use. */
typedef struct coefs {
    const double **th;          /* (P) */
    double *level;              /* (P) */
    double *noise;              /* (n items) multiplicative row noise, NULL = none */
} coefs;

static int is_promo(const option *op) { return op->deal || op->feat || op->change < 0; }

/* Expected units (*u), spend (*spend) and profit (returned, after fees) of
 * item i at option a, from its log units v before smearing. */
static double item_terms(const plan_ctx *c, const coefs *cf, int64_t i, int a, double v,
                         double *u, double *spend)
{
    const sg_promo_item *it = &c->items[i];
    const option *op = &c->opt[a];
    *u = exp(v) * c->m->smear[it->product] * (cf->noise ? cf->noise[i] : 1.0);
    double fees = (op->deal ? c->o->deal_cost : 0) + (op->feat ? c->o->feature_cost : 0);
    *spend = fees + (op->change < 0 ? *u * it->price * -op->change : 0);
    return *u * (it->price * (1 + op->change) - it->cost) - fees;
}

/* lpq (P): the log prices of group g's store at options ch (NaN: not planned). */
static void store_prices(const plan_ctx *c, int g, const int *ch, double *lpq)
{
    for (int q = 0; q < c->m->P; q++) lpq[q] = NAN;
    for (int64_t k = c->sbeg[g]; k < c->sbeg[g + 1]; k++) {
        int64_t i = c->order[k];
        const sg_promo_item *it = &c->items[i];
        lpq[it->product] = log(it->price * (1 + c->opt[ch[i]].change));
    }
}

/* Units, profit (after fees) and spend of the items of group g with options
 * ch[] (indexed by item), writing each into the arrays when not NULL.
 * lpq: P scratch.  Returns the total profit; *spend the total spend. */
static double group_value(const plan_ctx *c, const coefs *cf, int g, const int *ch,
                          double *lpq, double *units, double *profit, double *spend_i,
                          double *spend)
{
    store_prices(c, g, ch, lpq);
    double tp = 0, ts = 0;
    for (int64_t k = c->sbeg[g]; k < c->sbeg[g + 1]; k++) {
        int64_t i = c->order[k];
        const sg_promo_item *it = &c->items[i];
        const option *op = &c->opt[ch[i]];
        int p = it->product;
        double v = sg_promo_linpred(c->m, cf->th[p], p, it->store, lpq[p], lpq, op->deal,
                                    op->feat, -1, cf->level[p]);
        double u, sp;
        double pr = item_terms(c, cf, i, ch[i], v, &u, &sp);
        tp += pr;
        ts += sp;
        if (units) units[i] = u;
        if (profit) profit[i] = pr;
        if (spend_i) spend_i[i] = sp;
    }
    *spend = ts;
    return tp;
}

/* Scratch of the search, indexed like c->order (each group uses its own run). */
typedef struct scratch {
    int64_t *visit;             /* items in the order the search visits them */
    double *gain;               /* their standalone gains */
    double *lin;                /* log units before smearing at the current options */
    double *val;                /* profit - lambda * spend of each item at the current options */
    double *lpq;                /* (P) a store's log prices */
} scratch;

static int scratch_init(scratch *w, int64_t n, int P)
{
    w->visit = sg_malloc_array((size_t)n, sizeof *w->visit);
    w->gain = sg_malloc_array((size_t)n, sizeof *w->gain);
    w->lin = sg_malloc_array((size_t)n, sizeof *w->lin);
    w->val = sg_malloc_array((size_t)n, sizeof *w->val);
    w->lpq = sg_malloc_array((size_t)P, sizeof *w->lpq);
    return w->visit && w->gain && w->lin && w->val && w->lpq ? SG_OK : SG_ENOMEM;
}

static void scratch_deinit(scratch *w)
{
    sg_free(w->visit);
    sg_free(w->gain);
    sg_free(w->lin);
    sg_free(w->val);
    sg_free(w->lpq);
}

/* profit - lambda * spend of item i at option a with log units v (before smearing). */
static double item_value(const plan_ctx *c, const coefs *cf, int64_t i, int a, double v,
                         double lambda)
{
    double u, spend;
    double profit = item_terms(c, cf, i, a, v, &u, &spend);
    return profit - lambda * spend;
}

/* The search state of group g at options ch: each item's log units and value
 * from scratch (sg_promo_linpred, as group_value); returns the objective. */
static double state_init(const plan_ctx *c, const coefs *cf, int g, const int *ch, double lambda,
                         scratch *w)
{
    const sg_promo *m = c->m;
    store_prices(c, g, ch, w->lpq);
    double obj = 0;
    for (int64_t k = c->sbeg[g]; k < c->sbeg[g + 1]; k++) {
        int64_t i = c->order[k];
        const sg_promo_item *it = &c->items[i];
        const option *op = &c->opt[ch[i]];
        int p = it->product;
        w->lin[k] = sg_promo_linpred(m, cf->th[p], p, it->store, w->lpq[p], w->lpq, op->deal,
                                     op->feat, -1, cf->level[p]);
        w->val[k] = item_value(c, cf, i, ch[i], w->lin[k], lambda);
        obj += w->val[k];
    }
    return obj;
}

/* The objective of group g (now 'obj' at options ch, state w) with the item at
 * position x of c->order moved to option a, the others unchanged: its own log
 * units move by its price slope, deal and feature effects, the others' by
 * their cross elasticity to its price.  O(items of the store). */
static double state_try(const plan_ctx *c, const coefs *cf, int g, const int *ch, int64_t x,
                        int a, double lambda, const scratch *w, double obj)
{
    const sg_promo *m = c->m;
    int64_t i = c->order[x];
    const sg_promo_item *it = &c->items[i];
    const option *o0 = &c->opt[ch[i]], *o1 = &c->opt[a];
    int p = it->product, s = it->store;
    const double *th = cf->th[p];
    double dlp = log1p(o1->change) - log1p(o0->change);
    double slope = th[m->S] + (m->seen[(size_t)s * m->P + p] ? th[m->off_slope + s] : 0.0);
    double v = w->lin[x] + slope * dlp + th[m->off_deal] * (o1->deal - o0->deal) +
               th[m->off_feat] * (o1->feat - o0->feat);
    obj += item_value(c, cf, i, a, v, lambda) - w->val[x];
    if (dlp != 0 && m->cross)
        for (int64_t y = c->sbeg[g]; y < c->sbeg[g + 1]; y++) {
            if (y == x) continue;
            int64_t j = c->order[y];
            double cj = cf->th[c->items[j].product][m->S + 1 + p];
            if (cj == 0) continue;
            obj += item_value(c, cf, j, ch[j], w->lin[y] + cj * dlp, lambda) - w->val[y];
        }
    return obj;
}

static int n_promoted(const plan_ctx *c, int g, const int *ch)
{
    int n = 0;
    for (int64_t k = c->sbeg[g]; k < c->sbeg[g + 1]; k++) n += is_promo(&c->opt[ch[c->order[k]]]);
    return n;
}

/* Sweeps of coordinate ascent over group g's items in the order of w->visit:
 * each in turn takes its best option given the others (within the promotion
 * limit), until a sweep changes nothing.  A move is rebuilt from scratch
 * (state_init), so rounding does not accumulate.  Returns the objective. */
static double ascend(const plan_ctx *c, const coefs *cf, int g, double lambda, int *ch,
                     scratch *w, double cur)
{
    int max_promos = c->o->max_promos;
    int64_t b0 = c->sbeg[g], n = c->sbeg[g + 1] - b0;
    for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
        int changed = 0;
        for (int64_t k = 0; k < n; k++) {
            int64_t x = w->visit[b0 + k], i = c->order[x];
            int others = 0;
            if (max_promos > 0) others = n_promoted(c, g, ch) - is_promo(&c->opt[ch[i]]);
            int best_a = ch[i];
            double best = cur;
            for (int a = 0; a < c->n_opt; a++) {
                if (a == ch[i] || !c->offered[(size_t)i * c->n_opt + a]) continue;
                if (max_promos > 0 && is_promo(&c->opt[a]) && others >= max_promos) continue;
                double v = state_try(c, cf, g, ch, x, a, lambda, w, cur);
                if (v > best + 1e-12 * fabs(best)) {
                    best = v;
                    best_a = a;
                }
            }
            if (best_a != ch[i]) {
                ch[i] = best_a;
                cur = state_init(c, cf, g, ch, lambda, w);
                changed = 1;
            }
        }
        if (!changed) break;
    }
    return cur;
}

/* The best exchange under a full promotion limit: one promoted item gives up
 * its promotion (for an option without one) and another item takes one.
 * Applies it and returns the new objective when it improves on 'cur'; else
 * returns 'cur' with ch and the state as they were. */
static double best_swap(const plan_ctx *c, const coefs *cf, int g, double lambda, int *ch,
                        scratch *w, double cur)
{
    double best = cur;
    int64_t bj = -1, bk = -1;
    int ba = 0, bb = 0;
    for (int64_t x = c->sbeg[g]; x < c->sbeg[g + 1]; x++) {
        int64_t j = c->order[x];
        if (!is_promo(&c->opt[ch[j]])) continue;
        int keep_j = ch[j];
        for (int b = 0; b < c->n_opt; b++) {
            if (is_promo(&c->opt[b]) || !c->offered[(size_t)j * c->n_opt + b]) continue;
            ch[j] = b;
            double base = state_init(c, cf, g, ch, lambda, w);
            for (int64_t y = c->sbeg[g]; y < c->sbeg[g + 1]; y++) {
                int64_t k = c->order[y];
                if (k == j || is_promo(&c->opt[ch[k]])) continue;
                for (int a = 0; a < c->n_opt; a++) {
                    if (!is_promo(&c->opt[a]) || !c->offered[(size_t)k * c->n_opt + a]) continue;
                    double v = state_try(c, cf, g, ch, y, a, lambda, w, base);
                    if (v > best + 1e-12 * fabs(best)) {
                        best = v;
                        bj = j, bb = b, bk = k, ba = a;
                    }
                }
            }
        }
        ch[j] = keep_j;
    }
    if (bj >= 0) {
        ch[bj] = bb;
        ch[bk] = ba;
    }
    double now = state_init(c, cf, g, ch, lambda, w);
    return bj >= 0 ? now : cur;
}

/* The options of group g at multiplier lambda (ch written for its items).
 * From the regular plan, items are visited best standalone gain first (so the
 * most valuable promotions get the limited slots), by coordinate ascent; under
 * a promotion limit that binds, exchanges of a promotion between two items
 * follow, each with more ascent, until neither improves.  A local optimum: the
 * cross-price terms couple the items, and no search short of trying every
 * combination is exact. */
static void solve_group(const plan_ctx *c, const coefs *cf, int g, double lambda, int *ch,
                        scratch *w)
{
    int64_t b0 = c->sbeg[g], n = c->sbeg[g + 1] - b0;
    for (int64_t k = 0; k < n; k++) ch[c->order[b0 + k]] = 0;
    double cur = state_init(c, cf, g, ch, lambda, w);
    int64_t *visit = w->visit + b0;
    double *gain = w->gain + b0;
    for (int64_t k = 0; k < n; k++) {   /* standalone gains, insertion-sorted */
        int64_t i = c->order[b0 + k];
        double best = 0;
        for (int a = 1; a < c->n_opt; a++)
            if (c->offered[(size_t)i * c->n_opt + a])
                best = SG_MAX(best, state_try(c, cf, g, ch, b0 + k, a, lambda, w, cur) - cur);
        int64_t at = k;
        while (at > 0 && gain[at - 1] < best) {
            gain[at] = gain[at - 1];
            visit[at] = visit[at - 1];
            at--;
        }
        gain[at] = best;
        visit[at] = b0 + k;
    }
    cur = ascend(c, cf, g, lambda, ch, w, cur);
    if (c->o->max_promos <= 0) return;
    for (int round = 0; round < MAX_SWEEPS; round++) {
        if (n_promoted(c, g, ch) < c->o->max_promos) break;
        double v = best_swap(c, cf, g, lambda, ch, w, cur);
        if (v == cur) break;
        cur = ascend(c, cf, g, lambda, ch, w, v);
    }
}

/* Every group at multiplier lambda; totals of profit and spend. */
static void solve_all(const plan_ctx *c, const coefs *cf, double lambda, int *ch, scratch *w,
                      double *profit, double *spend)
{
    double tp = 0, ts = 0;
    for (int g = 0; g < c->n_groups; g++) {
        double sp;
        solve_group(c, cf, g, lambda, ch, w);
        tp += group_value(c, cf, g, ch, w->lpq, NULL, NULL, NULL, &sp);
        ts += sp;
    }
    *profit = tp;
    *spend = ts;
}

/* Total profit of options ch under cf; *spend its spend. */
static double plan_value(const plan_ctx *c, const coefs *cf, const int *ch, double *lpq,
                         double *spend)
{
    double tp = 0, ts = 0;
    for (int g = 0; g < c->n_groups; g++) {
        double sp;
        tp += group_value(c, cf, g, ch, lpq, NULL, NULL, NULL, &sp);
        ts += sp;
    }
    *spend = ts;
    return tp;
}

/* For each of the first D coefficient draws: the plan ch's and the baseline's
 * profit under the draw with a week shock and row noise (res[3d], res[3d+1]),
 * and the optimiser's curse of the draw (res[3d+2]): the value, under the
 * draw, of the plan the draw itself would choose at the multiplier lambda,
 * less that plan's value under the point estimate pt.  SG_ENOMEM or SG_OK. */
static int draw_values(const plan_ctx *c, const coefs *pt, const int *ch, const int *base,
                       double lambda, int D, uint64_t seed, double *res)
{
    const sg_promo *m = c->m;
    int P = m->P, K = m->K;
    OMP_FOR_DYNAMIC(D >= 4)
    for (int d = 0; d < D; d++) {
        const double **thd = sg_malloc_array((size_t)P, sizeof *thd);
        double *lev = sg_malloc_array((size_t)P, sizeof *lev);
        double *lev0 = sg_malloc_array((size_t)P, sizeof *lev0);
        double *noise = sg_malloc_array((size_t)c->n, sizeof *noise);
        int *chd = sg_malloc_array((size_t)c->n, sizeof *chd);
        scratch w;
        int w_ok = scratch_init(&w, c->n, P) == SG_OK;
        double *lq = w.lpq;
        if (!thd || !lev || !lev0 || !noise || !chd || !w_ok) {
            res[(size_t)d * 3 + 2] = NAN;   /* out of memory: seen after the loop */
        } else {
            sg_rng r0, r;
            sg_rng_init(&r0, seed);
            sg_rng_split(&r0, (uint64_t)d, &r);
            int t = m->W > m->recent_weeks
                        ? m->recent_weeks + (int)sg_rng_below(&r, (uint64_t)(m->W - m->recent_weeks))
                        : -1;
            for (int p = 0; p < P; p++) {
                thd[p] = m->draws + ((size_t)p * m->n_draws + d) * K;
                lev0[p] = sg_promo_recent(m, thd[p]);
                double sh = t >= 0 ? m->shock[(size_t)p * m->W + t] : 0.0;
                lev[p] = lev0[p] + (isnan(sh) ? 0.0 : sh);
            }
            for (int64_t i = 0; i < c->n; i++) {
                double s = m->sigma[c->items[i].product];
                noise[i] = exp(s * sg_rng_normal(&r) - 0.5 * s * s);
            }
            coefs cd = {thd, lev, noise};
            double sp;
            double vp = plan_value(c, &cd, ch, lq, &sp);
            double vb = plan_value(c, &cd, base, lq, &sp);
            /* the plan this draw would choose, at the same multiplier */
            coefs cd0 = {thd, lev0, NULL};
            double pd, sd;
            solve_all(c, &cd0, lambda, chd, &w, &pd, &sd);
            double v_self = pd;
            double v_point = plan_value(c, pt, chd, lq, &sp);
            res[(size_t)d * 3 + 0] = vp;
            res[(size_t)d * 3 + 1] = vb;
            res[(size_t)d * 3 + 2] = v_self - v_point;
        }
        sg_free(thd);
        sg_free(lev);
        sg_free(lev0);
        sg_free(noise);
        sg_free(chd);
        scratch_deinit(&w);
    }
    for (int d = 0; d < D; d++)
        if (isnan(res[(size_t)d * 3 + 2])) return SG_ENOMEM;
    return SG_OK;
}

/* ---------------------------------------------------------------------------
 * the plan */

typedef struct sort_ref {
    int64_t i;
    int store, product;
} sort_ref;

static int cmp_ref(const void *a, const void *b)
{
    const sort_ref *x = a, *y = b;
    if (x->store != y->store) return x->store < y->store ? -1 : 1;
    if (x->product != y->product) return x->product < y->product ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

int sg_promo_plan(const sg_promo *m, const sg_promo_item *items, int64_t n,
                  const sg_promo_plan_opts *o, sg_promo_choice *out, sg_promo_forecast *fc,
                  sg_error *err)
{
    memset(fc, 0, sizeof *fc);
    if (n < 1) return sg_error_set(err, SG_EINVAL, "plan promo: no items to plan");
    if (o->n_changes < 0 || o->n_changes > 64)
        return sg_error_set(err, SG_EINVAL, "plan promo: at most 64 price changes");
    for (int a = 0; a < o->n_changes; a++)
        if (!(o->changes[a] > -1 && o->changes[a] <= 1))
            return sg_error_set(err, SG_EINVAL, "plan promo: a price change must be in (-1, 1] "
                                "(a fraction: -0.1 is 10%% off), got %g", o->changes[a]);
    if (o->max_promos < 0) return sg_error_set(err, SG_EINVAL, "plan promo: max_promos < 0");
    if (!isfinite(o->budget) || !isfinite(o->deal_cost) || !isfinite(o->feature_cost))
        return sg_error_set(err, SG_EINVAL, "plan promo: the budget and the fees must be "
                            "finite numbers (negative: none / not offered)");
    if (o->deal_cost >= 0 && !m->has_deal)
        return sg_error_set(err, SG_EINVAL, "plan promo: deals are offered but the model was "
                            "trained without a deal column");
    if (o->feature_cost >= 0 && !m->has_feat)
        return sg_error_set(err, SG_EINVAL, "plan promo: features are offered but the model "
                            "was trained without a feature column");
    for (int64_t i = 0; i < n; i++) {
        const sg_promo_item *it = &items[i];
        if (it->store < 0 || it->store >= m->S || it->product < 0 || it->product >= m->P)
            return sg_error_set(err, SG_EINVAL, "plan promo: item %lld: unknown store or product",
                                (long long)i + 1);
        if (!(it->price > 0) || !isfinite(it->price) || !(it->cost >= 0) || !isfinite(it->cost))
            return sg_error_set(err, SG_EINVAL, "plan promo: item %lld (store '%s', product "
                                "'%s'): the price must be > 0 and the cost >= 0",
                                (long long)i + 1, m->store_lab[it->store],
                                m->prod_lab[it->product]);
    }
    int D = o->n_draws > 0 ? SG_MIN(o->n_draws, m->n_draws) : m->n_draws;
    int P = m->P, K = m->K;
    /* options: index 0 is the regular plan */
    int n_ch = 1;
    double chs[65];
    chs[0] = 0;
    for (int a = 0; a < o->n_changes; a++) {
        int dup = 0;
        for (int b = 0; b < n_ch; b++) dup |= chs[b] == o->changes[a];
        if (!dup) chs[n_ch++] = o->changes[a];
    }
    int nd = o->deal_cost >= 0 ? 2 : 1, nf = o->feature_cost >= 0 ? 2 : 1;
    int n_opt = n_ch * nd * nf;
    option *opt = sg_malloc_array((size_t)n_opt, sizeof *opt);
    sort_ref *ref = sg_malloc_array((size_t)n, sizeof *ref);
    int64_t *order = sg_malloc_array((size_t)n, sizeof *order);
    int64_t *sbeg = sg_malloc_array((size_t)n + 1, sizeof *sbeg);
    unsigned char *offered = sg_malloc_array((size_t)n * n_opt, 1);
    int *ch = sg_malloc_array((size_t)n, sizeof *ch);
    int *ch_lo = sg_malloc_array((size_t)n, sizeof *ch_lo);
    int *base = sg_calloc((size_t)n, sizeof *base);
    double *lpq = sg_malloc_array((size_t)P, sizeof *lpq);
    const double **th = sg_malloc_array((size_t)P, sizeof *th);
    double *level = sg_malloc_array((size_t)P, sizeof *level);
    double *res = sg_malloc_array((size_t)D * 3, sizeof *res);
    scratch ws;
    int ws_ok = scratch_init(&ws, n, P) == SG_OK;
    int rc = SG_OK;
    if (!opt || !ref || !order || !sbeg || !offered || !ch || !ch_lo || !base || !lpq || !th ||
        !level || !res || !ws_ok) {
        rc = sg_error_set(err, SG_ENOMEM, "plan promo: out of memory");
        goto done;
    }
    {
        int k = 0;
        for (int f = 0; f < nf; f++)
            for (int d = 0; d < nd; d++)
                for (int a = 0; a < n_ch; a++) opt[k++] = (option){chs[a], d, f};
    }
    for (int64_t i = 0; i < n; i++) ref[i] = (sort_ref){i, items[i].store, items[i].product};
    qsort(ref, (size_t)n, sizeof *ref, cmp_ref);
    int n_groups = 0;
    for (int64_t k = 0; k < n; k++) {
        order[k] = ref[k].i;
        if (k && ref[k].store == ref[k - 1].store && ref[k].product == ref[k - 1].product) {
            rc = sg_error_set(err, SG_EINVAL, "plan promo: store '%s', product '%s' is given "
                              "twice (items %lld and %lld)", m->store_lab[ref[k].store],
                              m->prod_lab[ref[k].product], (long long)ref[k - 1].i + 1,
                              (long long)ref[k].i + 1);
            goto done;
        }
        if (!k || ref[k].store != ref[k - 1].store) sbeg[n_groups++] = k;
    }
    sbeg[n_groups] = n;
    /* which options stay inside the prices the store has charged */
    int64_t n_out = 0;
    for (int64_t i = 0; i < n; i++) {
        const sg_promo_item *it = &items[i];
        size_t sp = (size_t)it->store * P + it->product;
        for (int a = 0; a < n_opt; a++) {
            int ok = 1;
            if (a && opt[a].change != 0 && !o->extrapolate) {
                double lp = log(it->price * (1 + opt[a].change));
                ok = m->seen[sp] && lp >= m->lp_min[sp] - RANGE_TOL &&
                     lp <= m->lp_max[sp] + RANGE_TOL;
                if (!ok && opt[a].deal == 0 && opt[a].feat == 0) n_out++;
            }
            offered[(size_t)i * n_opt + a] = (unsigned char)ok;
        }
    }
    plan_ctx c = {m, items, n, o, opt, n_opt, order, sbeg, n_groups, offered};
    /* the point estimate */
    for (int p = 0; p < P; p++) {
        th[p] = m->beta + (size_t)p * K;
        level[p] = sg_promo_recent(m, th[p]);
    }
    coefs pt = {th, level, NULL};
    double prof, spend, lambda = 0;
    solve_all(&c, &pt, 0.0, ch, &ws, &prof, &spend);
    if (o->budget >= 0 && spend > o->budget) {
        double lo = 0, hi = 1, p_hi, s_hi;
        for (int it = 0; it < 200; it++) {
            solve_all(&c, &pt, hi, ch, &ws, &p_hi, &s_hi);
            if (s_hi <= o->budget) break;
            lo = hi;
            hi *= 2;
        }
        for (int it = 0; it < BISECT_STEPS; it++) {
            double mid = 0.5 * (lo + hi);
            solve_all(&c, &pt, mid, ch, &ws, &p_hi, &s_hi);
            if (s_hi <= o->budget) hi = mid;
            else lo = mid;
        }
        /* the feasible plan at hi, then stores' plans at lo while they fit */
        solve_all(&c, &pt, lo, ch_lo, &ws, &p_hi, &s_hi);
        solve_all(&c, &pt, hi, ch, &ws, &prof, &spend);
        lambda = hi;
        typedef struct up { double ratio, dp, ds; int g; } up;
        up *ups = sg_malloc_array((size_t)n_groups, sizeof *ups);
        if (!ups) {
            rc = sg_error_set(err, SG_ENOMEM, "plan promo: out of memory");
            goto done;
        }
        int n_up = 0;
        for (int g = 0; g < n_groups; g++) {
            double s0, s1;
            double p0 = group_value(&c, &pt, g, ch, lpq, NULL, NULL, NULL, &s0);
            double p1 = group_value(&c, &pt, g, ch_lo, lpq, NULL, NULL, NULL, &s1);
            if (p1 > p0 && s1 > s0) ups[n_up++] = (up){(p1 - p0) / (s1 - s0), p1 - p0, s1 - s0, g};
        }
        for (int a = 1; a < n_up; a++)   /* insertion sort: best ratio first */
            for (int b = a; b > 0 && ups[b].ratio > ups[b - 1].ratio; b--) {
                up t = ups[b];
                ups[b] = ups[b - 1];
                ups[b - 1] = t;
            }
        for (int a = 0; a < n_up; a++) {
            if (spend + ups[a].ds > o->budget) continue;
            int g = ups[a].g;
            for (int64_t k = sbeg[g]; k < sbeg[g + 1]; k++) ch[order[k]] = ch_lo[order[k]];
            spend += ups[a].ds;
            prof += ups[a].dp;
        }
        sg_free(ups);
    }
    fc->lambda = lambda;
    fc->n_out_of_range = n_out;
    /* the choices and their point predictions */
    double *u1 = sg_malloc_array((size_t)n * 6, sizeof *u1);
    if (!u1) {
        rc = sg_error_set(err, SG_ENOMEM, "plan promo: out of memory");
        goto done;
    }
    double *p1 = u1 + n, *s1 = p1 + n, *u0 = s1 + n, *p0 = u0 + n, *s0 = p0 + n;
    for (int g = 0; g < n_groups; g++) {
        double sp;
        group_value(&c, &pt, g, ch, lpq, u1, p1, s1, &sp);
        group_value(&c, &pt, g, base, lpq, u0, p0, s0, &sp);
    }
    double naive_plan = 0, naive_base = 0;
    for (int64_t i = 0; i < n; i++) {
        const option *op = &opt[ch[i]];
        sg_promo_choice *r = &out[i];
        r->change = op->change;
        r->price = items[i].price * (1 + op->change);
        r->deal = op->deal;
        r->feature = op->feat;
        r->units = u1[i];
        r->profit = p1[i];
        r->spend = s1[i];
        r->base_units = u0[i];
        r->base_profit = p0[i];
        naive_plan += p1[i];
        naive_base += p0[i];
        fc->plan.units += u1[i];
        fc->plan.revenue += u1[i] * r->price;
        fc->plan.spend += s1[i];
        fc->base.units += u0[i];
        fc->base.revenue += u0[i] * items[i].price;
        fc->n_promoted += is_promo(op);
        fc->n_changed += op->change != 0;
    }
    sg_free(u1);
    fc->lift_naive = naive_plan - naive_base;
    /* the draws: value with shock and noise, and the optimiser's curse */
    if (draw_values(&c, &pt, ch, base, lambda, D, o->seed, res)) {
        rc = sg_error_set(err, SG_ENOMEM, "plan promo: out of memory");
        goto done;
    }
    double opt_mean = 0;
    for (int d = 0; d < D; d++) opt_mean += res[(size_t)d * 3 + 2];
    opt_mean /= D;
    fc->optimism = opt_mean;
    fc->n_draws = D;
    double *v = sg_malloc_array((size_t)D, sizeof *v);
    if (!v) {
        rc = sg_error_set(err, SG_ENOMEM, "plan promo: out of memory");
        goto done;
    }
    for (int d = 0; d < D; d++) v[d] = res[(size_t)d * 3 + 0] - opt_mean;
    fc->plan.profit = naive_plan - opt_mean;
    fc->plan.profit_lo = sg_quantile(v, D, 0.05);
    fc->plan.profit_hi = sg_quantile(v, D, 0.95);
    for (int d = 0; d < D; d++) v[d] = res[(size_t)d * 3 + 1];
    fc->base.profit = naive_base;
    fc->base.profit_lo = sg_quantile(v, D, 0.05);
    fc->base.profit_hi = sg_quantile(v, D, 0.95);
    for (int d = 0; d < D; d++) v[d] = res[(size_t)d * 3 + 0] - res[(size_t)d * 3 + 1] - opt_mean;
    fc->lift = fc->plan.profit - fc->base.profit;
    fc->lift_lo = sg_quantile(v, D, 0.05);
    fc->lift_hi = sg_quantile(v, D, 0.95);
    sg_free(v);
done:
    sg_free(opt);
    sg_free(ref);
    sg_free(order);
    sg_free(sbeg);
    sg_free(offered);
    sg_free(ch);
    sg_free(ch_lo);
    sg_free(base);
    sg_free(lpq);
    sg_free(th);
    sg_free(level);
    sg_free(res);
    scratch_deinit(&ws);
    return rc;
}

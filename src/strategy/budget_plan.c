/* budget_plan.c -- splitting a media budget across channels (budget.h).
 *
 * Channels add up in the model, so a split is a multiple-choice knapsack: the
 * budget is cut into 'steps' units, each channel takes a number of units
 * within its bounds, and dynamic programming finds the best choice exactly on
 * that grid, whatever the curves' shapes (an S-shaped curve has increasing
 * returns at first, which a rule of equal marginal returns would miss).
 *
 * The forecast is corrected for the optimiser's curse: the split that looks
 * best under the point fit is partly chosen for its errors.  Each bootstrap
 * draw plays the truth once: the split it would choose, valued by itself and by
 * the point fit; the mean difference is what choosing adds to a forecast and
 * is taken off.  See LICENSE. */
#include "../models/budget_private.h"

#include <math.h>
#include <string.h>

#include "stratagem/mem.h"

void sg_budget_plan_opts_default(sg_budget_plan_opts *o)
{
    memset(o, 0, sizeof *o);
    o->weeks = 13;
    o->steps = 400;
}

void sg_budget_grid_bounds(int C, const double *min_week, const double *max_week, int weeks,
                           double budget, int steps, int *glo, int *ghi)
{
    double unit = budget / steps;
    for (int c = 0; c < C; c++) {
        double lo = ceil(min_week[c] * weeks / unit - 1e-9), hi = floor(max_week[c] * weeks / unit + 1e-9);
        glo[c] = lo < 0 ? 0 : lo > steps ? steps + 1 : (int)lo;
        ghi[c] = hi > steps ? steps : hi < 0 ? -1 : (int)hi;
    }
}

double sg_budget_knapsack(int C, int steps, const double *val, const int *glo, const int *ghi,
                          int *g_out)
{
    int S1 = steps + 1;
    double *V = sg_malloc_array((size_t)(C + 1) * S1, sizeof *V);
    int *ch = sg_malloc_array((size_t)C * S1, sizeof *ch);
    if (!V || !ch) {
        sg_free(V);
        sg_free(ch);
        return (double)NAN;
    }
    for (int b = 0; b < S1; b++) V[b] = b == 0 ? 0.0 : -(double)INFINITY;
    for (int c = 0; c < C; c++) {
        const double *prev = V + (size_t)c * S1, *vc = val + (size_t)c * S1;
        double *cur = V + (size_t)(c + 1) * S1;
        for (int b = 0; b < S1; b++) {
            double best = -(double)INFINITY;
            int arg = -1;
            for (int g = glo[c]; g <= ghi[c] && g <= b; g++) {
                double v = prev[b - g] + vc[g];
                if (v > best) best = v, arg = g;
            }
            cur[b] = best;
            ch[(size_t)c * S1 + b] = arg;
        }
    }
    const double *last = V + (size_t)C * S1;
    int bb = -1;
    for (int b = 0; b < S1; b++)
        if (last[b] > -(double)INFINITY && (bb < 0 || last[b] > last[bb] + 1e-12 * fabs(last[bb]))) bb = b;
    double best = bb >= 0 ? last[bb] : -(double)INFINITY;
    for (int c = C - 1; c >= 0; c--) {
        int g = bb >= 0 ? ch[(size_t)c * S1 + bb] : 0;
        g_out[c] = g;
        if (bb >= 0) bb -= g;
    }
    sg_free(V);
    sg_free(ch);
    return best;
}

double sg_budget_effect(const sg_budget *m, int d, int weeks, const double *week_spend)
{
    size_t i0 = (size_t)(d < 0 ? 0 : d) * m->C, b0 = (size_t)(d < 0 ? 0 : d) * m->P + (m->P - m->C);
    double s = 0;
    for (int c = 0; c < m->C; c++)
        s += sg_budget_curve_effect(m->lam[i0 + c], m->alpha[i0 + c], m->k[i0 + c],
                                    m->beta[b0 + c], m->state[i0 + c], weeks, week_spend[c]);
    return s;
}

/* Draw d's effect of each channel at each point of the budget grid
 * (f: C x (steps + 1)). */
static void effect_table(const sg_budget *m, int d, int weeks, int steps, double unit, double *f)
{
    size_t i0 = (size_t)d * m->C, b0 = (size_t)d * m->P + (m->P - m->C);
    for (int c = 0; c < m->C; c++) {
        double *fc = f + (size_t)c * (steps + 1);
        for (int g = 0; g <= steps; g++)
            fc[g] = sg_budget_curve_effect(m->lam[i0 + c], m->alpha[i0 + c], m->k[i0 + c],
                                           m->beta[b0 + c], m->state[i0 + c], weeks,
                                           g * unit / weeks);
    }
}

/* The knapsack's values: the effect, or margin * effect - spend. */
static void objective(const double *f, int C, int steps, double unit, double margin, double *val)
{
    for (int c = 0; c < C; c++)
        for (int g = 0; g <= steps; g++) {
            double v = f[(size_t)c * (steps + 1) + g];
            val[(size_t)c * (steps + 1) + g] = margin > 0 ? margin * v - g * unit : v;
        }
}

void sg_budget_plan_deinit(sg_budget_plan *p)
{
    sg_free(p->week_spend);
    sg_free(p->effect);
    sg_free(p->effect_lo);
    sg_free(p->effect_hi);
    sg_free(p->mroi);
    sg_free(p->min_week);
    sg_free(p->max_week);
    sg_free(p->mix_week);
    memset(p, 0, sizeof *p);
}

/* A fixed split's value: the draws' mean effect and 90% interval, the net. */
static void value_of(const sg_budget *m, int weeks, const double *x, double margin, double *v,
                     sg_budget_value *out)
{
    double spend = 0;
    for (int c = 0; c < m->C; c++) spend += x[c] * weeks;
    out->spend = spend;
    out->effect = 0;
    for (int d = 1; d <= m->D; d++) {
        v[d - 1] = sg_budget_effect(m, d, weeks, x);
        out->effect += v[d - 1] / m->D;
    }
    out->effect_lo = sg_quantile(v, m->D, 0.05);
    out->effect_hi = sg_quantile(v, m->D, 0.95);
    out->net = margin > 0 ? margin * out->effect - spend : (double)NAN;
    out->net_lo = margin > 0 ? margin * out->effect_lo - spend : (double)NAN;
    out->net_hi = margin > 0 ? margin * out->effect_hi - spend : (double)NAN;
}

/* x clipped into the bounds, then scaled down if it overspends. */
static void fit_bounds(int C, double *x, const double *mn, const double *mx, double cap)
{
    double s = 0, smin = 0;
    for (int c = 0; c < C; c++) {
        x[c] = x[c] < mn[c] ? mn[c] : x[c] > mx[c] ? mx[c] : x[c];
        s += x[c];
        smin += mn[c];
    }
    if (s > cap && s > smin) {
        double f = (cap - smin) / (s - smin);
        for (int c = 0; c < C; c++) x[c] = mn[c] + f * (x[c] - mn[c]);
    }
}

int sg_budget_plan_make(const sg_budget *m, const sg_budget_plan_opts *o, sg_budget_plan *p,
                        sg_error *err)
{
    memset(p, 0, sizeof *p);
    int C = m->C, D = m->D, H = o->weeks, steps = o->steps;
    if (!(o->budget > 0) || !isfinite(o->budget))
        return sg_error_set(err, SG_EINVAL, "plan budget: the budget must be a number > 0");
    if (H < 1 || H > 520)
        return sg_error_set(err, SG_EINVAL, "plan budget: weeks must be 1..520 (got %d)", H);
    if (!(o->margin >= 0) || !isfinite(o->margin))
        return sg_error_set(err, SG_EINVAL, "plan budget: the margin must be a number >= 0");
    if (steps < 10 || steps > 10000)
        return sg_error_set(err, SG_EINVAL, "plan budget: steps must be 10..10000 (got %d)", steps);
    p->n_channels = C;
    p->weeks = H;
    p->week_spend = sg_calloc((size_t)C, sizeof *p->week_spend);
    p->effect = sg_calloc((size_t)C, sizeof *p->effect);
    p->effect_lo = sg_calloc((size_t)C, sizeof *p->effect_lo);
    p->effect_hi = sg_calloc((size_t)C, sizeof *p->effect_hi);
    p->mroi = sg_calloc((size_t)C, sizeof *p->mroi);
    p->min_week = sg_calloc((size_t)C, sizeof *p->min_week);
    p->max_week = sg_calloc((size_t)C, sizeof *p->max_week);
    p->mix_week = sg_calloc((size_t)C, sizeof *p->mix_week);
    size_t S1 = (size_t)steps + 1;
    double *f0 = sg_malloc_array(3 * (size_t)C * S1, sizeof *f0);
    double *fd = sg_malloc_array((size_t)C * S1, sizeof *fd);
    double *val = sg_malloc_array((size_t)C * S1, sizeof *val);
    double *v = sg_malloc_array((size_t)D * (C + 1), sizeof *v);
    double *x = sg_malloc_array((size_t)C, sizeof *x);
    int *glo = sg_malloc_array((size_t)C, sizeof *glo), *ghi = sg_malloc_array((size_t)C, sizeof *ghi);
    int *g = sg_malloc_array((size_t)C, sizeof *g), *gd = sg_malloc_array((size_t)C, sizeof *gd);
    int rc = SG_OK;
    if (!p->week_spend || !p->effect || !p->effect_lo || !p->effect_hi || !p->mroi ||
        !p->min_week || !p->max_week || !p->mix_week || !f0 || !fd || !val || !v || !x || !glo || !ghi || !g || !gd) {
        rc = sg_error_set(err, SG_ENOMEM, "plan budget: out of memory");
        goto done;
    }
    double sum_min = 0;
    for (int c = 0; c < C; c++) {
        double lo = o->min_week && !isnan(o->min_week[c]) ? o->min_week[c] : m->xmin[c];
        double hi = o->max_week && !isnan(o->max_week[c]) ? o->max_week[c] : m->xmax[c];
        if (!(lo >= 0) || !(hi >= lo) || !isfinite(hi)) {
            rc = sg_error_set(err, SG_EINVAL, "plan budget: channel '%s': bounds %g..%g per "
                              "period (need 0 <= min <= max)", m->chan[c], lo, hi);
            goto done;
        }
        p->min_week[c] = lo;
        p->max_week[c] = hi;
        sum_min += lo * H;
    }
    if (sum_min > o->budget * (1 + 1e-9)) {
        rc = sg_error_set(err, SG_EINVAL, "plan budget: the least spends per period (by default "
                          "the least each channel spent in a training period) cost %g over %d "
                          "periods, more than the budget %g; give lower --min values (the "
                          "curves are then extrapolated)", sum_min, H, o->budget);
        goto done;
    }
    double unit = o->budget / steps;
    sg_budget_grid_bounds(C, p->min_week, p->max_week, H, o->budget, steps, glo, ghi);
    for (int c = 0; c < C; c++)
        if (glo[c] > ghi[c]) {
            rc = sg_error_set(err, SG_EINVAL, "plan budget: channel '%s': no spend between %g "
                              "and %g per period on a grid of %g (raise --steps or widen the "
                              "bounds)", m->chan[c], p->min_week[c], p->max_week[c], unit / H);
            goto done;
        }
    /* every draw's effect table: the mean over all draws, over the odd ones (A)
     * and over the even ones (B) */
    double *fa = f0 + (size_t)C * S1, *fb = fa + (size_t)C * S1;
    memset(f0, 0, sizeof *f0 * 3 * (size_t)C * S1);
    int na = 0, nb = 0;
    for (int d = 1; d <= D; d++) {
        effect_table(m, d, H, steps, unit, fd);
        double *half = d % 2 ? fa : fb;
        na += d % 2;
        nb += !(d % 2);
        for (size_t i = 0; i < (size_t)C * S1; i++) {
            f0[i] += fd[i] / D;
            half[i] += fd[i];
        }
    }
    for (size_t i = 0; i < (size_t)C * S1; i++) fa[i] /= na, fb[i] /= nb;
    /* the plan: the best on the draws' mean (the decision that does best on
     * average over what the data allow, not on one estimate) */
    objective(f0, C, steps, unit, o->margin, val);
    double best = sg_budget_knapsack(C, steps, val, glo, ghi, g);
    if (isnan(best)) { rc = sg_error_set(err, SG_ENOMEM, "plan budget: out of memory"); goto done; }
    if (!(best > -(double)INFINITY)) {
        rc = sg_error_set(err, SG_EINVAL, "plan budget: the minimums do not fit the budget on "
                          "its grid (raise --steps)");
        goto done;
    }
    /* the optimiser's curse, cross-fitted: a plan chosen on half of the draws
     * is valued by the other half; what it loses there is what choosing adds */
    double opt = 0;
    for (int h = 0; h < 2; h++) {
        const double *fin = h ? fb : fa, *fout = h ? fa : fb;
        objective(fin, C, steps, unit, o->margin, val);
        if (isnan(sg_budget_knapsack(C, steps, val, glo, ghi, gd))) {
            rc = sg_error_set(err, SG_ENOMEM, "plan budget: out of memory");
            goto done;
        }
        for (int c = 0; c < C; c++)
            opt += 0.5 * (fin[(size_t)c * S1 + gd[c]] - fout[(size_t)c * S1 + gd[c]]);
    }
    p->optimism = opt;
    double eff0 = 0;
    for (int c = 0; c < C; c++) {
        p->week_spend[c] = g[c] * unit / H;
        p->effect[c] = f0[(size_t)c * S1 + g[c]];
        eff0 += p->effect[c];
        int up = g[c] < steps ? g[c] + 1 : g[c], dn = up - 1;
        p->mroi[c] = (f0[(size_t)c * S1 + up] - f0[(size_t)c * S1 + dn]) / unit;
    }
    /* the current mix: the training periods' shares of spend, scaled to the budget */
    double xs = 0;
    for (int c = 0; c < C; c++) xs += m->xbar[c];
    for (int c = 0; c < C; c++) p->mix_week[c] = m->xbar[c] / xs * o->budget / H;
    fit_bounds(C, p->mix_week, p->min_week, p->max_week, o->budget / H);
    /* each draw's value of the plan and of each channel's part */
    double *vt = v, *vc = v + D;
    for (int d = 1; d <= D; d++) {
        size_t i0 = (size_t)d * C, b0 = (size_t)d * m->P + (m->P - C);
        double tot = 0;
        for (int c = 0; c < C; c++) {
            double e = sg_budget_curve_effect(m->lam[i0 + c], m->alpha[i0 + c], m->k[i0 + c],
                                              m->beta[b0 + c], m->state[i0 + c], H,
                                              p->week_spend[c]);
            vc[(size_t)c * D + d - 1] = e;
            tot += e;
        }
        vt[d - 1] = tot;
    }
    for (int c = 0; c < C; c++) {
        p->effect_lo[c] = sg_quantile(vc + (size_t)c * D, D, 0.05);
        p->effect_hi[c] = sg_quantile(vc + (size_t)c * D, D, 0.95);
    }
    sg_budget_value *fc = &p->forecast;
    fc->spend = 0;
    for (int c = 0; c < C; c++) fc->spend += p->week_spend[c] * H;
    fc->effect = eff0 - opt;
    fc->effect_lo = sg_quantile(vt, D, 0.05) - opt;
    fc->effect_hi = sg_quantile(vt, D, 0.95) - opt;
    fc->net = o->margin > 0 ? o->margin * fc->effect - fc->spend : (double)NAN;
    fc->net_lo = o->margin > 0 ? o->margin * fc->effect_lo - fc->spend : (double)NAN;
    fc->net_hi = o->margin > 0 ? o->margin * fc->effect_hi - fc->spend : (double)NAN;
    /* baselines */
    for (int c = 0; c < C; c++) x[c] = 0;
    value_of(m, H, x, o->margin, v, &p->nothing);
    value_of(m, H, p->mix_week, o->margin, v, &p->current_mix);
    for (int c = 0; c < C; c++) x[c] = o->budget / H / C;
    fit_bounds(C, x, p->min_week, p->max_week, o->budget / H);
    value_of(m, H, x, o->margin, v, &p->equal_split);
done:
    if (rc) sg_budget_plan_deinit(p);
    sg_free(f0);
    sg_free(fd);
    sg_free(val);
    sg_free(v);
    sg_free(x);
    sg_free(glo);
    sg_free(ghi);
    sg_free(g);
    sg_free(gd);
    return rc;
}

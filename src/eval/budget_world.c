/* budget_world.c -- a media-mix world with known truth (budget.h): four
 * channels' spends and their true curves over a real baseline series, and the
 * true value of any budget split, for the benchmark, the demo and the tests.
 *
 * The channels are built to be hard in the ways real ones are: tv runs in
 * flights (weeks on, weeks off) with a long carry-over and an S-shaped curve;
 * search spend follows demand (the baseline), so a regression can credit it
 * with demand it did not create; display is weak.  See LICENSE. */
#include "../models/budget_private.h"

#include <math.h>
#include <string.h>

#include "stratagem/mem.h"
#include "stratagem/rng.h"

static const char *NAMES[4] = {"tv", "search", "social", "display"};
static const double LAMBDA[4] = {0.6, 0.1, 0.3, 0.2};
static const double ALPHA[4] = {2.0, 1.0, 1.0, 1.0};
static const double K_REL[4] = {1.0, 0.8, 1.5, 1.0};   /* x the mean adstock */
static const double ROI[4] = {3.0, 2.0, 1.5, 0.5};     /* contribution / spend over the series */

int sg_budget_world(const double *baseline, int n, double level, uint64_t seed, double *spend,
                    double *y, double *queries, sg_budget_truth *tr, sg_error *err)
{
    if (n < 20) return sg_error_set(err, SG_EINVAL, "world budget: %d periods; at least 20", n);
    if (!(level > 0)) return sg_error_set(err, SG_EINVAL, "world budget: the level must be > 0");
    double mu = 0, sd = 0;
    for (int t = 0; t < n; t++) {
        if (!isfinite(baseline[t]))
            return sg_error_set(err, SG_EINVAL, "world budget: baseline period %d is not a number", t + 1);
        mu += baseline[t];
    }
    mu /= n;
    if (!(mu > 0)) return sg_error_set(err, SG_EINVAL, "world budget: the baseline's mean must be > 0");
    for (int t = 0; t < n; t++) sd += (baseline[t] - mu) * (baseline[t] - mu);
    sd = sqrt(sd / n);
    sg_rng rng;
    sg_rng_init(&rng, seed);
    memset(tr, 0, sizeof *tr);
    tr->n_channels = 4;
    /* spends */
    double *tv = spend, *se = spend + n, *so = spend + 2 * (size_t)n, *di = spend + 3 * (size_t)n;
    int on = sg_rng_uniform(&rng) < 0.5;
    for (int t = 0; t < n;) {
        int len = 4 + (int)sg_rng_below(&rng, 5);
        double lvl = on ? 1000.0 * (0.6 + 0.8 * sg_rng_uniform(&rng)) : 0.0;
        for (int j = 0; j < len && t < n; j++) tv[t++] = lvl;
        on = !on;
    }
    double l = 0;
    for (int t = 0; t < n; t++) {
        double z = sd > 0 ? (baseline[t] - mu) / sd : 0.0;
        z = z < -2.5 ? -2.5 : z > 3.0 ? 3.0 : z;
        se[t] = 600.0 * (1.0 + 0.2 * z) * exp(0.3 * sg_rng_normal(&rng) - 0.045);
        l = 0.8 * l + 0.3 * sg_rng_normal(&rng);
        so[t] = 400.0 * exp(l - 0.125);
        di[t] = 300.0 * exp(0.5 * sg_rng_normal(&rng) - 0.125);
    }
    /* curves, scaled to their return on the series' spend */
    for (int t = 0; t < n; t++) y[t] = baseline[t] * level / mu;
    for (int c = 0; c < 4; c++) {
        const double *x = spend + (size_t)c * n;
        double xs = 0;
        for (int t = 0; t < n; t++) xs += x[t];
        double xbar = xs / n;
        double lam = LAMBDA[c] + 0.2 * (sg_rng_uniform(&rng) - 0.5);
        lam = lam < 0 ? 0 : lam > 0.85 ? 0.85 : lam;
        double krel = K_REL[c] * exp(0.6 * (sg_rng_uniform(&rng) - 0.5));
        double roi = ROI[c] * exp(0.4 * (sg_rng_uniform(&rng) - 0.5));
        tr->name[c] = NAMES[c];
        tr->lambda[c] = lam;
        tr->alpha[c] = ALPHA[c];
        tr->k[c] = krel * xbar / (1.0 - lam);
        double hs;
        tr->state[c] = sg_budget_adstock(x, n, xbar, 1.0, lam, tr->alpha[c], tr->k[c], queries, &hs);
        tr->beta[c] = roi * xs / hs;
        /* queries holds the curve for now: it is filled last, below */
        for (int t = 0; t < n; t++) y[t] += tr->beta[c] * queries[t];
    }
    for (int t = 0; t < n; t++) {
        y[t] += 0.02 * level * sg_rng_normal(&rng);
        queries[t] = 100.0 * baseline[t] / mu * exp(0.05 * sg_rng_normal(&rng) - 0.00125);
    }
    return SG_OK;
}

double sg_budget_truth_effect(const sg_budget_truth *tr, int weeks, const double *week_spend)
{
    double s = 0;
    for (int c = 0; c < tr->n_channels; c++)
        s += sg_budget_curve_effect(tr->lambda[c], tr->alpha[c], tr->k[c], tr->beta[c],
                                    tr->state[c], weeks, week_spend[c]);
    return s;
}

double sg_budget_truth_best(const sg_budget_truth *tr, const sg_budget_plan_opts *o,
                            const double *min_week, const double *max_week, double *week_spend)
{
    int C = tr->n_channels, steps = o->steps, H = o->weeks, glo[4], ghi[4], g[4];
    double unit = o->budget / steps;
    double *val = sg_malloc_array((size_t)C * (steps + 1), sizeof *val);
    if (!val) return (double)NAN;
    sg_budget_grid_bounds(C, min_week, max_week, H, o->budget, steps, glo, ghi);
    for (int c = 0; c < C; c++)
        for (int k = 0; k <= steps; k++) {
            double e = sg_budget_curve_effect(tr->lambda[c], tr->alpha[c], tr->k[c], tr->beta[c],
                                              tr->state[c], H, k * unit / H);
            val[(size_t)c * (steps + 1) + k] = o->margin > 0 ? o->margin * e - k * unit : e;
        }
    double best = sg_budget_knapsack(C, steps, val, glo, ghi, g);
    for (int c = 0; c < C; c++) week_spend[c] = g[c] * unit / H;
    sg_free(val);
    return best;
}

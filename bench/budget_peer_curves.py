#!/usr/bin/python3
"""budget_peer_curves.py -- the second media-mix peer of bench/budget.sh: what a data
scientist hand-rolls with scipy.  The same model form as stratagem's (geometric
carry-over from a steady start, hill saturation, controls, two seasonal harmonics),
fitted by plain least squares: each channel's carry-over, shape and half-saturation
by L-BFGS-B from five starts within the ranges of stratagem's grid, the linear terms inside each evaluation by bounded
least squares (channel coefficients >= 0); no prior, no bootstrap.  The split is the
same exact grid search as stratagem's (400 steps, the same bounds, carry-over after
the horizon counted) on the fitted curves, and its forecast their value.  Writes a
summary JSON that 'stratagem world budget-score' reads.

Usage: budget_peer_curves.py SERIES.csv WEEKS OUT_PREFIX BUDGET... [--controls A,B] [--seed S]
  writes OUT_PREFIX<BUDGET>.json for each budget (the total over the weeks), one fit for all
"""
import argparse, json, time
import numpy as np
from scipy.optimize import lsq_linear, minimize

CHANNELS = ["tv", "search", "social", "display"]


def base_design(rows, controls, season=52):
    n = len(rows["week"])
    t = np.arange(n)
    cols = [np.ones(n)]
    for h in (1, 2):
        cols += [np.sin(2 * np.pi * h * t / season), np.cos(2 * np.pi * h * t / season)]
    for c in controls:
        z = rows[c]
        cols.append((z - z.mean()) / z.std())
    return np.column_stack(cols)


def hill_series(x, lam, alpha, k):
    a = x.mean() / (1 - lam)
    out = np.empty(len(x))
    for t, v in enumerate(x):
        a = v + lam * a
        out[t] = a ** alpha / (a ** alpha + k ** alpha) if a > 0 else 0.0
    return out, a


def unpack(theta, xbar):
    """theta per channel: logit carry-over (0..0.9), log shape, log(k / mean adstock)."""
    p = []
    for c in range(len(CHANNELS)):
        lam = 0.9 / (1 + np.exp(-theta[3 * c]))
        alpha = float(np.clip(np.exp(theta[3 * c + 1]), 0.5, 3.0))
        k = np.exp(theta[3 * c + 2]) * xbar[c] / (1 - lam)
        p.append((lam, alpha, k))
    return p


def fit(rows, controls, seed):
    B = base_design(rows, controls)
    y = rows["sales"]
    X = [rows[c] for c in CHANNELS]
    xbar = [x.mean() for x in X]
    P0 = B.shape[1]
    lb = np.r_[np.full(P0, -np.inf), np.zeros(len(CHANNELS))]
    ub = np.full(P0 + len(CHANNELS), np.inf)

    def solve(theta):
        cols = [hill_series(x, *q)[0] for x, q in zip(X, unpack(theta, xbar))]
        A = np.column_stack([B] + cols)
        r = lsq_linear(A, y, bounds=(lb, ub))
        return r.x, float(np.sum((A @ r.x - y) ** 2))

    # the same ranges as stratagem's grid: carry-over 0..0.9, shape 0.5..3, half-saturation
    # 0.25..4 times the mean adstock
    lo_b = np.tile([-6.0, np.log(0.5), np.log(0.25)], len(CHANNELS))
    hi_b = np.tile([6.0, np.log(3.0), np.log(4.0)], len(CHANNELS))
    rng = np.random.default_rng(seed)
    best = None
    for s in range(5):
        th0 = np.zeros(3 * len(CHANNELS)) if s == 0 else rng.normal(0, 1, 3 * len(CHANNELS))
        res = minimize(lambda th: solve(th)[1], np.clip(th0, lo_b, hi_b), method="L-BFGS-B",
                       bounds=list(zip(lo_b, hi_b)), options={"maxiter": 200})
        if best is None or res.fun < best.fun:
            best = res
    coef, _ = solve(best.x)
    curves = []
    for c, (x, q) in enumerate(zip(X, unpack(best.x, xbar))):
        _, state = hill_series(x, *q)
        curves.append((q[0], q[1], q[2], coef[P0 + c], state))
    return curves


def effect(curve, weeks, x):
    lam, alpha, k, beta, state = curve
    tail = min(104, int(np.ceil(np.log(1e-3) / np.log(lam)))) if lam > 0 else 0
    a = a0 = state
    s = 0.0
    for t in range(weeks + tail):
        a = (x if t < weeks else 0.0) + lam * a
        a0 = lam * a0
        h = lambda v: v ** alpha / (v ** alpha + k ** alpha) if v > 0 else 0.0
        s += h(a) - h(a0)
    return beta * s


def best_split(curves, budget, weeks, lo, hi, steps=400):
    unit = budget / steps
    C = len(curves)
    glo = [int(np.ceil(lo[c] * weeks / unit - 1e-9)) for c in range(C)]
    ghi = [min(steps, int(np.floor(hi[c] * weeks / unit + 1e-9))) for c in range(C)]
    val = [[effect(curves[c], weeks, g * unit / weeks) if glo[c] <= g <= ghi[c] else -np.inf
            for g in range(steps + 1)] for c in range(C)]
    V = np.full(steps + 1, -np.inf)
    V[0] = 0.0
    choice = []
    for c in range(C):
        W = np.full(steps + 1, -np.inf)
        ch = np.zeros(steps + 1, dtype=int)
        for b in range(steps + 1):
            for g in range(glo[c], min(ghi[c], b) + 1):
                v = V[b - g] + val[c][g]
                if v > W[b]:
                    W[b], ch[b] = v, g
        V = W
        choice.append(ch)
    b = int(np.argmax(V))
    g = [0] * C
    for c in range(C - 1, -1, -1):
        g[c] = int(choice[c][b])
        b -= g[c]
    return [gi * unit / weeks for gi in g], float(np.max(V))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("series")
    ap.add_argument("weeks", type=int)
    ap.add_argument("out_prefix")
    ap.add_argument("budgets", type=float, nargs="+")
    ap.add_argument("--controls", default="queries,price,deal,feat")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    data = np.genfromtxt(a.series, delimiter=",", names=True)
    rows = {k: data[k] for k in data.dtype.names}
    t0 = time.perf_counter()
    curves = fit(rows, a.controls.split(","), a.seed)
    secs = time.perf_counter() - t0
    lo = np.array([rows[c].min() for c in CHANNELS])
    hi = np.array([rows[c].max() for c in CHANNELS])
    mean = np.array([rows[c].mean() for c in CHANNELS])
    for budget in a.budgets:
        x, eff = best_split(curves, budget, a.weeks, lo, hi)
        mix = mean / mean.sum() * budget / a.weeks
        out = {
            "budget": budget, "weeks": a.weeks, "margin": 0.0, "steps": 400,
            "forecast": {"effect": eff},
            "baselines": {"current_mix": {"effect": sum(effect(curves[c], a.weeks, mix[c])
                                                        for c in range(len(CHANNELS)))}},
            "channels": [{"name": c, "week_spend": float(x[i]), "min_week": float(lo[i]),
                          "max_week": float(hi[i]), "mix_week_spend": float(mix[i]),
                          "carryover": curves[i][0], "shape": curves[i][1],
                          "half_saturation": curves[i][2], "beta": curves[i][3]}
                         for i, c in enumerate(CHANNELS)],
            "seconds": secs,
        }
        with open("%s%g.json" % (a.out_prefix, budget), "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()

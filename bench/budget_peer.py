#!/usr/bin/python3
"""budget_peer.py -- the media-mix peer of bench/budget.sh: what a quick analysis
does with scikit-learn.  Sales on the raw weekly spends, the controls and the
same seasonal terms by least squares (no carry-over, no saturation); each
channel's coefficient is its return per unit spent, so the split fills the
channels with the largest positive coefficients first, within the same bounds
as stratagem's plan (the least and the most each channel spent in a week), and
forecasts the sum of coefficient x spend.  Writes a summary JSON that
'stratagem world budget-score' reads.

Usage: budget_peer.py SERIES.csv BUDGET WEEKS OUT.json [--holdout N] [--controls A,B]
  --holdout N   also fit on all but the last N weeks and print the RMSE on them
  --controls    the control columns (default queries,price,deal,feat)
"""
import argparse, json, time
import numpy as np
from sklearn.linear_model import LinearRegression

CHANNELS = ["tv", "search", "social", "display"]
def design(rows, t0, controls, season=52):
    n = len(rows["week"])
    t = np.arange(t0, t0 + n)
    cols = [rows[c] for c in CHANNELS] + [rows[c] for c in controls]
    for h in (1, 2):
        cols += [np.sin(2 * np.pi * h * t / season), np.cos(2 * np.pi * h * t / season)]
    return np.column_stack(cols)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("series")
    ap.add_argument("budget", type=float)
    ap.add_argument("weeks", type=int)
    ap.add_argument("out")
    ap.add_argument("--holdout", type=int, default=0)
    ap.add_argument("--controls", default="queries,price,deal,feat")
    a = ap.parse_args()
    data = np.genfromtxt(a.series, delimiter=",", names=True)
    rows = {k: data[k] for k in data.dtype.names}
    t0 = time.perf_counter()
    X, y = design(rows, 0, a.controls.split(",")), rows["sales"]
    lr = LinearRegression().fit(X, y)
    secs = time.perf_counter() - t0
    coef = lr.coef_[: len(CHANNELS)]
    lo = np.array([rows[c].min() for c in CHANNELS])
    hi = np.array([rows[c].max() for c in CHANNELS])
    mean = np.array([rows[c].mean() for c in CHANNELS])
    per_week = a.budget / a.weeks
    x = lo.copy()
    left = per_week - x.sum()
    for c in np.argsort(-coef):
        if coef[c] <= 0 or left <= 0:
            continue
        add = min(hi[c] - x[c], left)
        x[c] += add
        left -= add
    mix = mean / mean.sum() * per_week
    effect = float(coef @ x * a.weeks)
    out = {
        "budget": a.budget, "weeks": a.weeks, "margin": 0.0, "steps": 400,
        "forecast": {"effect": effect},
        "baselines": {"current_mix": {"effect": float(coef @ mix * a.weeks)}},
        "channels": [{"name": c, "week_spend": float(x[i]), "min_week": float(lo[i]),
                      "max_week": float(hi[i]), "mix_week_spend": float(mix[i]),
                      "coefficient": float(coef[i])} for i, c in enumerate(CHANNELS)],
        "seconds": secs,
    }
    if a.holdout:
        n = len(y) - a.holdout
        fit = LinearRegression().fit(X[:n], y[:n])
        out["holdout_rmse"] = float(np.sqrt(np.mean((fit.predict(X[n:]) - y[n:]) ** 2)))
    with open(a.out, "w") as f:
        json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()

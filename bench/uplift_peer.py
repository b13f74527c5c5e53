#!/usr/bin/python3
"""Peer for the plan-value benchmark: scikit-learn T-learner + greedy budgeted assignment.

Usage:
    /usr/bin/python3 bench/uplift_peer.py --log DIR/log.csv --customers DIR/customers.csv \
        --budget 200 --cost email=0.10,coupon10=0.10,coupon20=0.10 \
        --out-plan DIR/peer_plan.csv --out-forecast DIR/peer_plan.json [--boot 20] [--seed 1] \
        [--learner gbr|hgb] [--threads 1]

Model: one GradientBoostingRegressor (scikit-learn defaults, random_state=seed) per arm, fitted
on `margin` (--learner hgb: HistGradientBoostingRegressor with its defaults instead), with every
column except customer_id/treatment/propensity/converted/margin as a feature (codes used as
numbers; the logged propensities are ignored: a plain T-learner).
Predicted net gain of arm a for customer i: mu_hat_a(x_i) - mu_hat_control(x_i) - cost_a.
Greedy: each customer's arm with the best predicted net gain; customers sorted by that gain,
highest first, taken while the gain is positive and the contact fits in the budget.
Forecast (naive, no selection correction): net = sum of the predicted net gains of the chosen
customers; net_lo/net_hi = 5%/95% percentiles of the same sum for the same plan, with the
T-learner refitted on --boot bootstrap resamples of the log.
Writes plan CSV (customer_id, action, pred_net) and forecast JSON
{"forecast": {"net", "net_lo", "net_hi"}, ...}, readable by bench/uplift_truth.py.
"""
import argparse
import json
import os
import sys
import time

if __name__ == "__main__":
    # OpenMP threads of scikit-learn: set before it is imported (contended 2-core machines make
    # a 2-thread spin-wait much slower than 1 thread).
    for _i, _a in enumerate(sys.argv):
        if _a == "--threads" and _i + 1 < len(sys.argv):
            os.environ["OMP_NUM_THREADS"] = sys.argv[_i + 1]
    os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import pandas as pd
from sklearn.ensemble import GradientBoostingRegressor, HistGradientBoostingRegressor

NOT_FEATURES = ["customer_id", "treatment", "propensity", "converted", "margin"]


def parse_cost(text, control):
    cost = {}
    for part in text.split(","):
        if part.strip():
            k, v = part.split("=", 1)
            cost[k.strip()] = float(v)
    cost.pop(control, None)
    return cost


LEARNERS = {"gbr": GradientBoostingRegressor, "hgb": HistGradientBoostingRegressor}


def fit_predict(log, feats, arms, xc, seed, learner="gbr"):
    """mu_hat for every arm at the customers xc: (n_customers, n_arms)."""
    out = np.empty((len(xc), len(arms)))
    for k, a in enumerate(arms):
        sub = log[log["treatment"] == a]
        m = LEARNERS[learner](random_state=seed)
        m.fit(sub[feats].to_numpy(dtype=float), sub["margin"].to_numpy(dtype=float))
        out[:, k] = m.predict(xc)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--log", required=True)
    ap.add_argument("--customers", required=True)
    ap.add_argument("--budget", type=float, required=True)
    ap.add_argument("--cost", required=True)
    ap.add_argument("--control", default="control")
    ap.add_argument("--out-plan", required=True)
    ap.add_argument("--out-forecast", required=True)
    ap.add_argument("--boot", type=int, default=20, help="bootstrap refits for the interval")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--learner", choices=sorted(LEARNERS), default="gbr")
    ap.add_argument("--threads", type=int, default=1, help="OpenMP threads (hgb only)")
    args = ap.parse_args(argv)

    t0 = time.time()
    log = pd.read_csv(args.log)
    cust = pd.read_csv(args.customers)
    feats = [c for c in log.columns if c not in NOT_FEATURES]
    missing = [c for c in feats if c not in cust.columns]
    if missing:
        sys.exit("uplift_peer: customers lack feature columns %s" % missing[:5])
    cost = parse_cost(args.cost, args.control)
    treat = [a for a in sorted(log["treatment"].unique()) if a != args.control]
    if args.control not in set(log["treatment"]):
        sys.exit("uplift_peer: no '%s' rows in the log" % args.control)
    nocost = [a for a in treat if a not in cost]
    if nocost:
        sys.exit("uplift_peer: no cost for arms %s" % nocost)
    arms = [args.control] + treat
    xc = cust[feats].to_numpy(dtype=float)
    c = np.array([cost[a] for a in treat])

    mu = fit_predict(log, feats, arms, xc, args.seed, args.learner)
    net = mu[:, 1:] - mu[:, [0]] - c
    best = net.argmax(axis=1)
    best_net = net[np.arange(len(xc)), best]
    order = np.argsort(-best_net, kind="stable")
    chosen = np.zeros(len(xc), dtype=bool)
    spent = 0.0
    for i in order:
        if best_net[i] <= 0:
            break
        if spent + c[best[i]] <= args.budget + 1e-9:
            spent += c[best[i]]
            chosen[i] = True
    forecast = float(best_net[chosen].sum())
    t_fit = time.time() - t0

    boots = []
    rng = np.random.default_rng(args.seed)
    for b in range(args.boot):
        lb = log.iloc[rng.integers(0, len(log), size=len(log))]
        mub = fit_predict(lb, feats, arms, xc, args.seed + 1 + b, args.learner)
        netb = mub[:, 1:] - mub[:, [0]] - c
        boots.append(float(netb[np.arange(len(xc))[chosen], best[chosen]].sum()))
    lo = hi = None                 # no interval without bootstrap refits (--boot 0)
    if boots:
        lo, hi = (float(v) for v in np.percentile(boots, [5, 95]))

    action = np.where(chosen, np.array(treat)[best], args.control)
    pd.DataFrame({"customer_id": cust["customer_id"], "action": action,
                  "pred_net": np.where(chosen, best_net, 0.0)}).to_csv(
        args.out_plan, index=False, float_format="%.6f")
    summary = {
        "forecast": {"net": forecast, "net_lo": lo, "net_hi": hi},
        "peer": "T-learner (%s per arm on margin) + greedy" % LEARNERS[args.learner].__name__,
        "budget": args.budget, "spent": spent, "cost": cost,
        "contacts": {a: int((chosen & (best == k)).sum()) for k, a in enumerate(treat)},
        "boot": args.boot, "seconds_fit_and_plan": t_fit,
    }
    with open(args.out_forecast, "w") as fh:
        json.dump(summary, fh, indent=1)
    print("uplift_peer: %d log rows, %d customers, %d features; fit+plan %.1fs, total %.1fs"
          % (len(log), len(cust), len(feats), t_fit, time.time() - t0))
    print("  contacts %s, spent %.4f of %.4f" % (summary["contacts"], spent, args.budget))
    if boots:
        print("  forecast net %.4f, naive 90%% interval [%.4f, %.4f] (%d bootstrap refits)"
              % (forecast, lo, hi, args.boot))
    else:
        print("  forecast net %.4f (no interval: --boot 0)" % forecast)
    return 0


if __name__ == "__main__":
    sys.exit(main())

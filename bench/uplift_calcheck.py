#!/usr/bin/python3
"""uplift_calcheck.py -- where a plan's model-sum forecast errs, against the known truth.

    /usr/bin/python3 bench/uplift_calcheck.py --sg build/stratagem --budgets 50,200 DIR...

Each DIR holds customers.csv and a trained model (model.sgm, as bench/uplift_budgets.sh
writes, or ours.sgm, as bench/uplift.sh writes); the customers carry the CoIL columns the
truth of bench/uplift_gen.py turns on (the `stratagem world` campaigns draw the same truth).
For each DIR the script runs `stratagem predict` and `stratagem plan --objective value` at
each budget (0.10 per contact, every arm), writing pred.csv and calcheck_plan_B.csv there,
then prints, pooled over the DIRs (means of per-DIR ratios):

  * the plan's summed predicted effect over its true effect (the model's sum, which is the
    point forecast where the log agrees), per arm and in all;
  * the same sum had each arm's effects been mapped through the best line fitted to the
    TRUE effects of all customers (an oracle linear calibration), through the best line
    with a hinge (a change of slope) at the arm's 80th or 90th percentile of predicted
    effect, and through the true mean of its 1/40 quantile bin of predicted effect (an
    oracle calibration of any shape): how much of the error a better calibration of the
    same predictions could remove;
  * the share of the best plan's true net the plan reaches, and what the plan rule would
    reach on the oracle-calibrated effects;
  * per arm, the mean predicted and true effect of the customers in the top 5% of the arm's
    predicted effect.
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import uplift_gen as gen  # noqa: E402

ARMS = ["email", "coupon10", "coupon20"]
COST = 0.10
BINS = 40
HINGES = (0.8, 0.9)


def run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def true_effects(cus):
    """(n, 3): each customer's true effect of each arm against control."""
    _, mu = gen.truth(cus)
    return np.column_stack([mu[arm] - mu["control"] for arm in ARMS])


def plan_arms(path, ids):
    """A plan.csv's treated customers in the order of ids: (mask, arm index of each)."""
    act = pd.read_csv(path).set_index("customer_id").reindex(ids)["action"].to_numpy()
    treated = np.isin(act, ARMS)
    return treated, np.array([ARMS.index(x) for x in act[treated]], dtype=int)


def rule(E, n):
    """The plan rule at equal costs: each customer's best arm, the n largest net gains > 0."""
    best = E.argmax(1)
    gain = E.max(1) - COST
    o = np.argsort(-gain, kind="stable")[:n]
    o = o[gain[o] > 0]
    return o, best[o]


def oracle_maps(E, T):
    """Per arm: effects through the best line fitted to the truth, the best line with a
    hinge at the arm's 80th and at its 90th percentile, and through bin means."""
    lin, binned = np.zeros_like(E), np.zeros_like(E)
    hinge = {q: np.zeros_like(E) for q in HINGES}
    for k in range(E.shape[1]):
        e, t = E[:, k], T[:, k]
        Z = np.column_stack([np.ones_like(e), e])
        lin[:, k] = Z @ np.linalg.lstsq(Z, t, rcond=None)[0]
        for q in HINGES:
            Zh = np.column_stack([Z, np.maximum(e - np.quantile(e, q), 0)])
            hinge[q][:, k] = Zh @ np.linalg.lstsq(Zh, t, rcond=None)[0]
        edges = np.quantile(e, np.linspace(0, 1, BINS + 1))
        b = np.clip(np.searchsorted(edges, e, side="right") - 1, 0, BINS - 1)
        means = np.array([t[b == j].mean() if (b == j).any() else 0.0 for j in range(BINS)])
        binned[:, k] = means[b] + 1e-9 * e      # ties broken by the prediction
    return lin, binned, hinge


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sg", default="build/stratagem")
    ap.add_argument("--budgets", default="50,200", help="comma-separated")
    ap.add_argument("dirs", nargs="+")
    a = ap.parse_args()
    a.budgets = [float(x) for x in a.budgets.split(",")]
    cost = ",".join("%s=%.2f" % (arm, COST) for arm in ARMS)
    acc = {b: {"sum": [], "lin": [], "bin": [], "share": [], "share_lin": [], "share_bin": [],
               "h0.8": [], "h0.9": [], "share_h0.8": [], "share_h0.9": [],
               "arm": {arm: [0.0, 0.0, 0] for arm in ARMS}} for b in a.budgets}
    top = {arm: [] for arm in ARMS}
    for d in a.dirs:
        model = next((os.path.join(d, f) for f in ("model.sgm", "ours.sgm")
                      if os.path.exists(os.path.join(d, f))), None)
        if model is None:
            sys.exit("uplift_calcheck: no model.sgm or ours.sgm in %s" % d)
        cus = pd.read_csv(os.path.join(d, "customers.csv"))
        run([a.sg, "-q", "predict", "--model", model, "--data", os.path.join(d, "customers.csv"),
             "--out", os.path.join(d, "pred.csv")])
        pred = pd.read_csv(os.path.join(d, "pred.csv"))
        if not (pred["customer_id"].to_numpy() == cus["customer_id"].to_numpy()).all():
            sys.exit("uplift_calcheck: %s: pred.csv rows are not customers.csv's" % d)
        E = np.column_stack([pred["effect_" + arm].to_numpy(float) for arm in ARMS])
        T = true_effects(cus)
        lin, binned, hinge = oracle_maps(E, T)
        for k, arm in enumerate(ARMS):
            t5 = E[:, k] >= np.quantile(E[:, k], 0.95)
            top[arm].append((E[t5, k].mean(), T[t5, k].mean()))
        for b in a.budgets:
            out = os.path.join(d, "calcheck_plan_%g.csv" % b)
            run([a.sg, "-q", "plan", "--model", model, "--data",
                 os.path.join(d, "customers.csv"), "--budget", "%g" % b, "--cost", cost,
                 "--objective", "value", "--out", out])
            treated, idx = plan_arms(out, cus["customer_id"])
            r = acc[b]
            sums = np.zeros(6)
            for k, arm in enumerate(ARMS):
                sel = np.zeros(len(cus), dtype=bool)
                sel[np.flatnonzero(treated)[idx == k]] = True
                s = np.array([E[sel, k].sum(), lin[sel, k].sum(), binned[sel, k].sum(),
                              hinge[0.8][sel, k].sum(), hinge[0.9][sel, k].sum(),
                              T[sel, k].sum()])
                sums += s
                r["arm"][arm][0] += s[0]
                r["arm"][arm][1] += s[5]
                r["arm"][arm][2] += int(sel.sum())
            for j, key in enumerate(("sum", "lin", "bin", "h0.8", "h0.9")):
                r[key].append(sums[j] / sums[5])
            n = int(round(b / COST))
            o, arm_idx = rule(T, n)
            best = (T[o, arm_idx] - COST).sum()
            r["share"].append((T[treated, idx] - COST).sum() / best)
            for key, X in (("share_lin", lin), ("share_bin", binned),
                           ("share_h0.8", hinge[0.8]), ("share_h0.9", hinge[0.9])):
                o, arm_idx = rule(X, n)
                r[key].append((T[o, arm_idx] - COST).sum() / best)
    print("%d campaigns: %s" % (len(a.dirs), " ".join(a.dirs)))
    for b in a.budgets:
        r = acc[b]
        m = {k: np.mean(v) for k, v in r.items() if k != "arm"}
        sd = np.std(r["sum"], ddof=1) if len(r["sum"]) > 1 else 0.0
        print("budget %g: effect forecast / true: model's sum %.3f (sd %.3f); oracle linear "
              "calibration %.3f; oracle calibration in %d bins %.3f" % (
                  b, m["sum"], sd, m["lin"], BINS, m["bin"]))
        print("  share of best: plan %.3f; the rule on oracle-linear effects %.3f, on "
              "oracle-binned effects %.3f" % (m["share"], m["share_lin"], m["share_bin"]))
        print("  oracle line with a hinge at the 80th / 90th percentile: plan's effect / true "
              "%.3f / %.3f; the rule's share on those effects %.3f / %.3f" % (
                  m["h0.8"], m["h0.9"], m["share_h0.8"], m["share_h0.9"]))
        print("  per arm (pooled sums): " + "; ".join(
            "%s %d customers a campaign, predicted / true %.3f" % (
                arm, round(v[2] / len(a.dirs)), v[0] / v[1] if v[1] else float("nan"))
            for arm, v in r["arm"].items()))
    print("top 5% of each arm's predicted effect, mean predicted / mean true: " + "; ".join(
        "%s %.3f / %.3f" % (arm, np.mean([x[0] for x in v]), np.mean([x[1] for x in v]))
        for arm, v in top.items()))


if __name__ == "__main__":
    main()

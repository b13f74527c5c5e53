#!/usr/bin/python3
"""uplift_shrink.py -- does ranking by shrunk or bounded effects buy better plans?

    SEEDS="$(seq 1 10)" bench/uplift_se.sh          (writes bench/out/uplift_se/sS/)
    /usr/bin/python3 bench/uplift_shrink.py BUDGET SEED...

For each seed, the effects and standard errors `stratagem predict` gave the 10,000 new
customers (pred.csv) and their TRUE expected outcomes (truth.csv) are turned into the plan
`plan --objective value` makes with equal contact costs of 0.10: every customer's best arm,
the BUDGET / 0.10 customers of largest effect minus cost, none below zero.  The plan's true
value is divided by the best plan's (the same rule on the true effects).  Variants of the
score the plan ranks by: raw (the model's effects: what `plan` does, and it reproduces
bench/uplift.sh's shares), eb (per arm, empirical-Bayes shrinkage of each customer's effect
toward the arm's mean by tau^2 / (tau^2 + se^2), tau^2 = var(effects) - mean(se^2)), eb0.5
(the same with se^2 halved), lcbZ / ucbZ (effect -/+ Z se).  Prints the mean share, and the
paired difference to raw with its standard error over the seeds, and per arm the mean
correlation of the standard error with the true and with the predicted effect.
"""
import sys

import numpy as np
import pandas as pd

COST = 0.10


def plan_value(score, true, k):
    best = score.argmax(1)
    gain = score[np.arange(len(score)), best] - COST
    order = np.argsort(-gain, kind="stable")
    pick = [i for i in order[:k] if gain[i] > 0]
    return sum(true[i, best[i]] - COST for i in pick)


def shrink(e_all, s_all, k=1.0):
    out = e_all.copy()
    for a in range(e_all.shape[1]):
        e, s = e_all[:, a], s_all[:, a]
        tau2 = max(np.var(e) - k * np.mean(s ** 2), 1e-6)
        out[:, a] = e.mean() + (e - e.mean()) * tau2 / (tau2 + k * s ** 2)
    return out


def main():
    budget, seeds = float(sys.argv[1]), sys.argv[2:]
    k = int(round(budget / COST))
    shares, corr = {}, {}
    for s in seeds:
        d = "bench/out/uplift_se/s%s" % s
        tr = pd.read_csv(d + "/truth.csv", dtype={"customer_id": str})
        pr = pd.read_csv(d + "/pred.csv", dtype={"customer_id": str})
        m = tr.merge(pr, on="customer_id")
        arms = [c[len("effect_"):] for c in pr.columns if c.startswith("effect_")]
        arms = [a for a in arms if a != "control"]
        t = np.stack([(m["mu_" + a] - m["mu_control"]).to_numpy() for a in arms], 1)
        e = np.stack([m["effect_" + a].to_numpy() for a in arms], 1)
        se = np.stack([m["se_" + a].to_numpy() for a in arms], 1)
        for j, a in enumerate(arms):
            corr.setdefault(a, []).append((np.corrcoef(se[:, j], t[:, j])[0, 1],
                                           np.corrcoef(se[:, j], e[:, j])[0, 1]))
        best = plan_value(t, t, k)
        variants = {"raw": e, "eb": shrink(e, se), "eb0.5": shrink(e, se, 0.5),
                    "lcb0.5": e - 0.5 * se, "lcb1": e - se, "ucb0.5": e + 0.5 * se}
        for name, score in variants.items():
            shares.setdefault(name, []).append(plan_value(score, t, k) / best)
    raw = np.array(shares["raw"])
    print("budget %g (%d contacts), seeds %s" % (budget, k, " ".join(seeds)))
    for name, v in shares.items():
        v = np.array(v)
        d = v - raw
        se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else 0.0
        print("%-8s share %.3f (min %.3f)  minus raw %+.4f (se %.4f), higher on %d of %d" % (
            name, v.mean(), v.min(), d.mean(), se, int((d > 0).sum()), len(d)))
    for a, c in corr.items():
        c = np.array(c).mean(0)
        print("%s: corr(se, true effect) %.2f, corr(se, predicted effect) %.2f" % (a, c[0], c[1]))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Screen: do per-arm effect trees boosted beside a shared tree (the structure of Bayesian
causal forests, y = mu(x) + tau_arm(x), here as gradient boosting) rank campaign effects better
than one shared model with the arm as a feature?

Usage:
    /usr/bin/python3 bench/uplift_bcf_proto.py shared|bcf|twostage|gam|gam2 [eta_t=0.01] [depth_t=2] [R=300] DIR...

DIR is a bench/uplift.sh seed folder (log.csv, customers.csv, truth.csv). Both variants are
xgboost hurdle models fitted on the whole log (P(margin > 0) by logistic loss, E[margin |
margin > 0] by squared error; depth-3 trees, learning rate 0.05, 300 rounds):
  shared  one model per part, the arm as three dummy columns (what `train uplift` does);
  bcf     per round, one tree on all rows (mu), then per treated arm one tree on that arm's
          rows (tau_arm, learning rate eta_t, depth depth_t), each boosting from the current
          margins;
  twostage  first a model without the arm (the baseline; the log's rows get its 5-fold
          out-of-fold margins, the customers the margin of a fit on all rows), then the
          shared model boosted from that margin, so its rounds are left to the arm's terms;
  gam     the shared model with xgboost's interaction constraints: a tree may split on the arm
          dummies and on one feature only, so each arm's margin is an additive function of the
          features (arm x feature interactions, no feature x feature);
  gam2    the same, plus trees without the arm that may combine any features (the baseline).
Each set of effects buys the plan of equal contact costs (0.10) at budgets 50 and 200 (the
customers with the largest positive best-arm gain), scored as a share of the best plan by
truth.csv; the last column is the correlation of predicted with true effects (mean of arms).
A prototype for deciding whether to write it in C, not part of stratagem.
"""
import os
import sys

import numpy as np
import pandas as pd
import xgboost as xgb

ARMS = ["control", "coupon10", "coupon20", "email"]
P = dict(max_depth=3, eta=0.05, min_child_weight=5, tree_method="hist", nthread=2, max_bin=64)


def share(truth, eff, k):
    treat = [a for a in ARMS if a != "control"]
    tg = np.column_stack([truth["mu_" + a] - truth["mu_control"] - 0.10 for a in treat])
    pg = np.column_stack([eff[a] - 0.10 for a in treat])
    best_arm, pbest = pg.argmax(1), pg.max(1)
    chosen = [i for i in np.argsort(-pbest)[:k] if pbest[i] > 0]
    got = sum(tg[i, best_arm[i]] for i in chosen)
    return got / np.sort(np.maximum(tg.max(1), 0))[::-1][:k].sum()


def dmat(X, y=None, margin=None):
    d = xgb.DMatrix(X, label=y)
    d.set_base_margin(np.zeros(len(X)) if margin is None else margin)
    return d


def fit_part(X, a, y, obj, Xc, mode, R=300, eta_t=0.05, depth_t=3):
    """Margins (customers x arms) of one hurdle part."""
    n, A = len(y), len(ARMS)
    base = np.log(y.mean() / (1 - y.mean())) if obj == "binary:logistic" else y.mean()
    p = dict(P, objective=obj)
    if mode in ("gam", "gam2"):
        # every tree may split on the arm dummies and on one feature only: per arm, an
        # additive function of the features (arm x feature interactions, no feature x feature)
        D = X.shape[1]
        sets = [[j] + list(range(D, D + A - 1)) for j in range(D)]
        if mode == "gam2":  # and trees without the arm free to combine features (the baseline)
            sets.append(list(range(D)))
        p = dict(p, interaction_constraints=str(sets))
        start, start_c = np.full(n, base), np.full(len(Xc), base)
    if mode in ("shared", "twostage", "gam", "gam2"):
        # the shared model boosts from a constant, or (twostage) from a baseline without the arm
        start, start_c = np.full(n, base), np.full(len(Xc), base)
        if mode == "twostage":
            fold = np.random.default_rng(0).integers(0, 5, n)
            for k in range(5):
                bk = xgb.train(p, dmat(X[fold != k], y[fold != k], np.full((fold != k).sum(), base)), R)
                start[fold == k] = bk.predict(dmat(X[fold == k], margin=np.full((fold == k).sum(), base)),
                                              output_margin=True)
            b0 = xgb.train(p, dmat(X, y, np.full(n, base)), R)
            start_c = b0.predict(dmat(Xc, margin=start_c), output_margin=True)
        b = xgb.train(p, dmat(np.hstack([X, np.eye(A)[a][:, 1:]]), y, start), R)
        return np.column_stack([b.predict(dmat(np.hstack([Xc, np.tile(np.eye(A)[k][1:], (len(Xc), 1))]),
                                               margin=start_c), output_margin=True)
                                for k in range(A)])
    m, mc = np.full(n, base), np.full((len(Xc), A), base)
    pt = dict(p, eta=eta_t, max_depth=depth_t)
    dX, dXc = dmat(X), dmat(Xc)
    for _ in range(R):
        b = xgb.train(p, dmat(X, y, m), 1)
        m += b.predict(dX, output_margin=True)
        mc += b.predict(dXc, output_margin=True)[:, None]
        for k in range(1, A):
            s = a == k
            bt = xgb.train(pt, dmat(X[s], y[s], m[s]), 1)
            m[s] += bt.predict(dmat(X[s]), output_margin=True)
            mc[:, k] += bt.predict(dXc, output_margin=True)
    return mc


def effects(log, cust, mode, **kw):
    cols = [c for c in log.columns if c not in ("customer_id", "treatment", "propensity", "converted", "margin")]
    X, Xc = log[cols].to_numpy(float), cust[cols].to_numpy(float)
    a = log["treatment"].map({k: i for i, k in enumerate(ARMS)}).to_numpy()
    y = log["margin"].to_numpy(float)
    pos = y > 0
    lp = fit_part(X, a, pos.astype(float), "binary:logistic", Xc, mode, **kw)
    v = fit_part(X[pos], a[pos], y[pos], "reg:squarederror", Xc, mode, **kw)
    mu = v / (1 + np.exp(-lp))
    return {arm: mu[:, i] - mu[:, 0] for i, arm in enumerate(ARMS) if arm != "control"}


def main():
    mode = sys.argv[1]
    kw = {k: (float(v) if "." in v else int(v)) for k, v in (s.split("=") for s in sys.argv[2:] if "=" in s)}
    rows = []
    for d in (s for s in sys.argv[2:] if "=" not in s):
        log, cust = pd.read_csv(d + "/log.csv"), pd.read_csv(d + "/customers.csv")
        truth = pd.read_csv(d + "/truth.csv", dtype={"customer_id": str}).set_index("customer_id")
        truth = truth.loc[cust["customer_id"].astype(str)]
        e = effects(log, cust, mode, **kw)
        corr = np.mean([np.corrcoef(e[a], truth["mu_" + a] - truth["mu_control"])[0, 1] for a in e])
        rows.append([share(truth, e, 500), share(truth, e, 2000), corr])
        print(os.path.basename(d), " ".join("%.3f" % v for v in rows[-1]), flush=True)
    print("mean", mode, kw, "share@50 %.3f share@200 %.3f corr %.3f" % tuple(np.mean(rows, 0)))


if __name__ == "__main__":
    sys.exit(main())

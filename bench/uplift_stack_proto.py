#!/usr/bin/python3
"""Screen: does a second effect estimate, from a logistic conversion model with arm x feature
terms, add to the trees' effects when both are weighed by the log (a stacked calibration)?

Usage:
    /usr/bin/python3 bench/uplift_stack_proto.py [C=0.01] [gam=1] DIR...

DIR is a bench/uplift.sh seed folder (log.csv, customers.csv, truth.csv). For each log, in 5
folds: an xgboost hurdle model shared by the arms (the arm as three dummy columns; P(margin > 0)
by logistic loss, E[margin | margin > 0] by squared error; depth 3, learning rate 0.05, 300
rounds, what `train uplift` fits), and a logistic model of P(margin > 0) on the standardised
features, the arm dummies and every arm x feature term (L2, scikit-learn's C). Each gives
out-of-fold margin effects per arm (the logistic one times the trees' value model) and, averaged
over the folds, the customers' effects. Per arm the doubly robust pseudo-outcomes (the log's
propensities, the trees' out-of-fold outcome model) are then regressed on
  line   the trees' effect (the calibration line of `train uplift`, without its prior);
  stack  the trees' effect and the logistic one (least squares);
  lin    the logistic one alone.
Each calibrated set of effects buys the plan of equal contact costs (0.10) at budgets 50 and
200 (the customers with the largest positive best-arm gain), scored as a share of the best plan
by truth.csv. A prototype for deciding whether to write it in C, not part of stratagem.
"""
import os
import sys

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.linear_model import LogisticRegression

from uplift_bcf_proto import share   # the plan of equal contact costs, scored by truth.csv

ARMS = ["control", "coupon10", "coupon20", "email"]
P = dict(max_depth=3, eta=0.05, min_child_weight=20, tree_method="hist", nthread=2, max_bin=64)
R = 300


def arm_rows(X, k):
    A = len(ARMS)
    return np.hstack([X, np.tile(np.eye(A)[k][1:], (len(X), 1))])


def tree_mu(X, a, y, Xs, gam=False):
    """Per-arm means (rows of each Xs x arms) of the shared hurdle model fitted on X, a, y;
    with gam, every tree may split on the arm dummies and one feature only."""
    A, D = len(ARMS), X.shape[1]
    pos = y > 0
    p = dict(P, interaction_constraints=str([[j] + list(range(D, D + A - 1)) for j in range(D)])) \
        if gam else P
    d = xgb.DMatrix(np.hstack([X, np.eye(A)[a][:, 1:]]), label=pos.astype(float))
    bp = xgb.train(dict(p, objective="binary:logistic"), d, R)
    dv = xgb.DMatrix(np.hstack([X[pos], np.eye(A)[a[pos]][:, 1:]]), label=y[pos])
    bv = xgb.train(dict(p, objective="reg:squarederror"), dv, R)
    out = []
    for Z in Xs:
        p = np.column_stack([bp.predict(xgb.DMatrix(arm_rows(Z, k))) for k in range(A)])
        v = np.column_stack([bv.predict(xgb.DMatrix(arm_rows(Z, k))) for k in range(A)])
        out.append((p, v))
    return out


def lin_design(Z, k, mu, sd):
    A = len(ARMS)
    s = (Z - mu) / sd
    d = np.eye(A)[k][1:]
    return np.hstack([s, np.tile(d, (len(Z), 1)), np.hstack([s * d[j] for j in range(A - 1)])])


def lin_p(X, a, y, Xs, C):
    A = len(ARMS)
    mu, sd = X.mean(0), X.std(0) + 1e-9
    s = (X - mu) / sd
    D = np.eye(A)[a][:, 1:]
    Z = np.hstack([s, D, np.hstack([s * D[:, [j]] for j in range(A - 1)])])
    lr = LogisticRegression(C=C, max_iter=2000).fit(Z, (y > 0).astype(int))
    return [np.column_stack([lr.predict_proba(lin_design(W, k, mu, sd))[:, 1] for k in range(A)])
            for W in Xs]


def run(d, C, gam):
    log, cust = pd.read_csv(d + "/log.csv"), pd.read_csv(d + "/customers.csv")
    truth = pd.read_csv(d + "/truth.csv", dtype={"customer_id": str}).set_index("customer_id")
    truth = truth.loc[cust["customer_id"].astype(str)]
    cols = [c for c in log.columns if c not in ("customer_id", "treatment", "propensity", "converted", "margin")]
    X, Xc = log[cols].to_numpy(float), cust[cols].to_numpy(float)
    a = log["treatment"].map({k: i for i, k in enumerate(ARMS)}).to_numpy()
    y = log["margin"].to_numpy(float)
    prop = log["propensity"].to_numpy(float)
    n, A, K = len(y), len(ARMS), 5
    fold = np.random.default_rng(0).integers(0, K, n)
    mu_t, mu_l = np.zeros((n, A)), np.zeros((n, A))
    cu_t, cu_l = np.zeros((len(Xc), A)), np.zeros((len(Xc), A))
    for k in range(K):
        tr, te = fold != k, fold == k
        (p, v), (pc, vc) = tree_mu(X[tr], a[tr], y[tr], [X[te], Xc], gam)
        (pl, plc) = lin_p(X[tr], a[tr], y[tr], [X[te], Xc], C)
        mu_t[te], mu_l[te] = p * v, pl * v
        cu_t += pc * vc / K
        cu_l += plc * vc / K
    res = {}
    for name in ("raw", "line", "stack", "lin"):
        eff = np.zeros((len(Xc), A - 1))
        for j in range(1, A):
            t, tl = mu_t[:, j] - mu_t[:, 0], mu_l[:, j] - mu_l[:, 0]
            ph = t + np.where(a == j, (y - mu_t[:, j]) / prop, 0) - np.where(a == 0, (y - mu_t[:, 0]) / prop, 0)
            ct, cl = cu_t[:, j] - cu_t[:, 0], cu_l[:, j] - cu_l[:, 0]
            if name == "raw":
                eff[:, j - 1] = ct
                continue
            F = {"line": [t], "stack": [t, tl], "lin": [tl]}[name]
            G = {"line": [ct], "stack": [ct, cl], "lin": [cl]}[name]
            M = np.column_stack([np.ones(n)] + F)
            w = np.linalg.lstsq(M, ph, rcond=None)[0]
            eff[:, j - 1] = np.column_stack([np.ones(len(Xc))] + G) @ w
            if name == "stack":
                res.setdefault("w", []).append(w[1:])
        e = {a: eff[:, j] for j, a in enumerate(ARMS[1:])}
        res[name] = (share(truth, e, 500), share(truth, e, 2000))
    return res


def main():
    kw = dict(s.split("=") for s in sys.argv[1:] if "=" in s)
    C = float(kw.get("C", 0.01))
    gam = kw.get("gam", "0") == "1"
    acc = []
    for d in (s for s in sys.argv[1:] if "=" not in s):
        r = run(d, C, gam)
        acc.append([r[k][b] for k in ("raw", "line", "stack", "lin") for b in (0, 1)])
        print(os.path.basename(d), " ".join("%s %.3f/%.3f" % (k, *r[k]) for k in ("raw", "line", "stack", "lin")),
              "w", " ".join("%.2f,%.2f" % tuple(w) for w in r["w"]), flush=True)
    m = np.mean(acc, 0)
    print("mean C=%g gam=%d" % (C, gam), " ".join("%s %.3f/%.3f" % (k, m[2 * i], m[2 * i + 1])
                                   for i, k in enumerate(("raw", "line", "stack", "lin"))))
    dd = np.array(acc)
    for b in (0, 1):
        diff = dd[:, 4 + b] - dd[:, 2 + b]
        print("stack minus line, budget %s: %+.4f (se %.4f), %d of %d higher"
              % ((50, 200)[b], diff.mean(), diff.std(ddof=1) / np.sqrt(len(diff)), (diff > 0).sum(), len(diff)))


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""uplift_derive.py -- copy a bench/uplift_gen.py campaign with derived columns added,
to measure how much of the gap to the best plan is the features' (bench/uplift.sh DERIVE=).

    /usr/bin/python3 bench/uplift_derive.py --in-dir D --out-dir D2 --add npol|linidx|pca|nnz

--add npol    NPOL, the number of policies: the sum of the 21 count columns AWAPART..ABYSTAND,
              which the generator's email and coupon effects turn on (bench/uplift_README.md).
              An oracle's feature: it shows what the trees could do if they saw that sum.
--add linidx  LIN_<arm> per treatment arm: the arm x feature part of a logistic model of
              conversion (margin > 0) on the standardised features with, per treatment arm,
              a dummy and arm x feature terms (L2 penalty 20000 on the summed loss, as
              --linear-start 20000); cross-fitted on the log (5 folds, so a row's own outcome
              is not in its value), fitted on all log rows for customers.csv.  A stacking
              screen: can the trees threshold the linear model's effect direction?
--add pca     PC1..PC5: the first five principal components of the standardised features,
              fitted on the log's rows (unsupervised, no outcome): a generic screen of
              whether directions of joint variation carry sums like NPOL to the trees.
--add nnz     NNZ: the number of nonzero features of a row (generic; counts policies among
              other things).
truth.csv and logtruth.csv are copied unchanged; the columns are added to log.csv and customers.csv.
"""
import argparse
import os
import shutil

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

ARMS = ["email", "coupon10", "coupon20"]
L2 = 20000.0


def add_npol(log, cus):
    cols = list(cus.columns)
    span = cols[cols.index("AWAPART"):cols.index("ABYSTAND") + 1]
    for d in (log, cus):
        d["NPOL"] = d[span].sum(axis=1)


def add_linidx(log, cus, seed=0):
    feat = [c for c in cus.columns if c != "customer_id"]
    D = len(feat)
    X = log[feat].to_numpy(float)
    mu, sd = X.mean(0), X.std(0)
    sd[sd == 0] = 1.0
    Xs = (X - mu) / sd
    T = log["treatment"].to_numpy()
    Z = np.hstack([Xs] + [(T == a)[:, None] * np.hstack([np.ones((len(T), 1)), Xs]) for a in ARMS])
    y = (log["margin"].to_numpy() > 0).astype(int)

    def fit(rows, l2):
        return LogisticRegression(C=1.0 / l2, max_iter=3000).fit(Z[rows], y[rows]).coef_[0]

    def index(w, Xd):   # (n, arms): the arm's dummy plus its arm x feature terms
        return np.stack([w[D + k * (D + 1)] + Xd @ w[D + k * (D + 1) + 1:D + (k + 1) * (D + 1)]
                         for k in range(len(ARMS))], axis=1)

    fold = np.random.default_rng(seed).integers(0, 5, len(log))
    oof = np.zeros((len(log), len(ARMS)))
    for f in range(5):
        tr = fold != f
        oof[~tr] = index(fit(tr, L2 * tr.mean()), Xs[~tr])
    full = index(fit(np.ones(len(log), bool), L2), (cus[feat].to_numpy(float) - mu) / sd)
    for k, a in enumerate(ARMS):
        log["LIN_" + a] = oof[:, k]
        cus["LIN_" + a] = full[:, k]


def add_pca(log, cus, k=5):
    feat = [c for c in cus.columns if c != "customer_id"]
    X = log[feat].to_numpy(float)
    mu, sd = X.mean(0), X.std(0)
    sd[sd == 0] = 1.0
    _, _, vt = np.linalg.svd((X - mu) / sd, full_matrices=False)
    for d in (log, cus):
        pcs = ((d[feat].to_numpy(float) - mu) / sd) @ vt[:k].T
        for j in range(k):
            d["PC%d" % (j + 1)] = pcs[:, j]


def add_nnz(log, cus):
    feat = [c for c in cus.columns if c != "customer_id"]
    for d in (log, cus):
        d["NNZ"] = (d[feat].to_numpy(float) != 0).sum(axis=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--in-dir", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--add", required=True, choices=["npol", "linidx", "pca", "nnz"])
    a = ap.parse_args()
    log = pd.read_csv(os.path.join(a.in_dir, "log.csv"))
    cus = pd.read_csv(os.path.join(a.in_dir, "customers.csv"))
    before = set(log.columns)
    {"npol": add_npol, "linidx": add_linidx, "pca": add_pca, "nnz": add_nnz}[a.add](log, cus)
    if a.add != "npol":
        # how well the new columns carry the policy count the truth turns on
        cols = list(cus.columns)
        npol = log[cols[cols.index("AWAPART"):cols.index("ABYSTAND") + 1]].sum(axis=1).to_numpy(float)
        new = [c for c in log.columns if c not in before]
        Z = np.column_stack([np.ones(len(log))] + [log[c].to_numpy(float) for c in new])
        fit = Z @ np.linalg.lstsq(Z, npol, rcond=None)[0]
        r2 = 1.0 - ((npol - fit) ** 2).sum() / ((npol - npol.mean()) ** 2).sum()
        print("%s: corr with the policy count %s; R^2 of the count on them %.2f" % (
            a.out_dir, " ".join("%s %.2f" % (c, np.corrcoef(log[c], npol)[0, 1]) for c in new), r2))
    os.makedirs(a.out_dir, exist_ok=True)
    # the outcome columns stay last, as the generator writes them
    tail = ["treatment", "propensity", "converted", "margin"]
    log = log[[c for c in log.columns if c not in tail] + tail]
    log.to_csv(os.path.join(a.out_dir, "log.csv"), index=False)
    cus.to_csv(os.path.join(a.out_dir, "customers.csv"), index=False)
    for t in ("truth.csv", "logtruth.csv"):
        if os.path.exists(os.path.join(a.in_dir, t)):
            shutil.copy(os.path.join(a.in_dir, t), os.path.join(a.out_dir, t))


if __name__ == "__main__":
    main()

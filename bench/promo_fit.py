#!/usr/bin/python3
"""promo_fit.py TRAIN TEST SLOPE_L2 RECENT -- the estimator of 'train promo' written
again in numpy (per brand: store and week effects, own log price with store
slopes, the other brands' log prices, deal, feature; the same penalties), fit on
TRAIN and scored on TEST as future weeks (the level: the mean effect of the last
RECENT weeks).  Prints JSON: seconds (the fit, the week-clustered covariance and
200 coefficient draws per brand; not the reading), elasticities, held-out RMSE.
An independent check of the C code's numbers and the peer for its speed."""
import json
import sys
import time

import numpy as np


def read(path):
    with open(path) as f:
        names = f.readline().strip().split(",")
    a = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return {n: a[:, i] for i, n in enumerate(names)}


def main():
    tr, te = read(sys.argv[1]), read(sys.argv[2])
    lam_s, recent = float(sys.argv[3]), int(sys.argv[4])
    rng = np.random.default_rng(1)
    t0 = time.time()
    stores = np.unique(tr["store"]); brands = np.unique(tr["brand"]); weeks = np.unique(tr["week"])
    S, B, W = len(stores), len(brands), len(weeks)

    def index(d):
        si = np.searchsorted(stores, d["store"]); bi = np.searchsorted(brands, d["brand"])
        return si, bi

    si, bi = index(tr)
    wi = np.searchsorted(weeks, tr["week"])
    lp = np.log(tr["price"])
    tab = np.full((S, W, B), np.nan)
    tab[si, wi, bi] = lp
    smean = np.nanmean(tab, axis=1)
    center = np.array([lp[bi == b].mean() for b in range(B)])
    smean = np.where(np.isnan(smean), center[None, :], smean)

    def cross(d, si, tab_w):
        return np.where(np.isnan(tab_w), smean[si], tab_w)

    lq = cross(tr, si, tab[si, wi])
    y = np.log(tr["units"])
    K = S + 1 + B + 2 + S + W
    betas, el = [], []
    for b in range(B):
        r = bi == b
        n = r.sum()
        X = np.zeros((n, K))
        c = lp[r] - center[b]
        X[np.arange(n), si[r]] = 1
        X[:, S] = c
        X[:, S + 1:S + 1 + B] = lq[r] - center[None, :]
        X[:, S + 1 + b] = 0
        X[:, S + 1 + B] = tr["deal"][r]
        X[:, S + 2 + B] = tr["feat"][r]
        X[np.arange(n), S + 3 + B + si[r]] = c
        X[np.arange(n), 2 * S + 3 + B + wi[r]] = 1
        A = X.T @ X
        pen = np.full(K, 1e-6)
        pen[S + 3 + B:2 * S + 3 + B] = lam_s
        pen[2 * S + 3 + B:] = 1.0
        pen[np.diag(A) == 0] = np.maximum(pen[np.diag(A) == 0], 1.0)
        A = A + np.diag(pen)
        beta = np.linalg.solve(A, X.T @ y[r])
        betas.append(beta)
        el.append(beta[S])
        # week-clustered covariance and 200 draws, as train promo keeps them
        e = y[r] - X @ beta
        G = np.zeros((W, K))
        np.add.at(G, wi[r], X * e[:, None])
        Ai = np.linalg.inv(A)
        V = Ai @ (G.T @ G * W / (W - 1)) @ Ai
        lam, Q = np.linalg.eigh((V + V.T) / 2)
        draws = beta[None, :] + (rng.standard_normal((200, K)) * np.sqrt(np.maximum(lam, 0))) @ Q.T
    secs = time.time() - t0
    # held-out weeks as future ones
    si2, bi2 = index(te)
    wk2 = np.unique(te["week"]); wi2 = np.searchsorted(wk2, te["week"])
    tab2 = np.full((S, len(wk2), B), np.nan)
    lp2 = np.log(te["price"])
    tab2[si2, wi2, bi2] = lp2
    lq2 = cross(te, si2, tab2[si2, wi2])
    se = 0.0
    for b in range(B):
        r = bi2 == b
        beta = betas[b]
        c = lp2[r] - center[b]
        cq = lq2[r] - center[None, :]
        cq[:, b] = 0
        v = (beta[si2[r]] + (beta[S] + beta[S + 3 + B + si2[r]]) * c + cq @ beta[S + 1:S + 1 + B]
             + beta[S + 1 + B] * te["deal"][r] + beta[S + 2 + B] * te["feat"][r]
             + beta[2 * S + 3 + B + W - recent:].mean())
        se += ((np.log(te["units"][r]) - v) ** 2).sum()
    # the baseline without prices: each store x brand's mean log units
    key = si * B + bi
    sums = np.bincount(key, y, S * B); cnts = np.bincount(key, minlength=S * B)
    means = np.where(cnts > 0, sums / np.maximum(cnts, 1), y.mean())
    base = np.sqrt(np.mean((np.log(te["units"]) - means[si2 * B + bi2]) ** 2))
    print(json.dumps({"seconds": secs, "elasticity": [round(e, 4) for e in el],
                      "rmse": float(np.sqrt(se / len(lp2))), "store_mean_rmse": float(base)}))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""linear_peer.py -- scikit-learn's logistic regression on the bench_linear tables.

Fits LogisticRegression(solver="lbfgs", C=1.0, tol=1e-6, max_iter=100000) on
the same two tables as bench/bench_linear.c (synth: bench/out/linear_1m_*.f32;
coil: the CoIL 2000 training rows, target CARAVAN, every other column but
id/is_test as a number), unstandardised as there, in float64.  Prints one line
per table in bench_linear's format: loss is the mean penalised loss
(sum_i l_i + 1/2 |beta|^2) / N, the quantity sg_linear_loss() reports, and
time the best of 'repeats' fits (fit() alone).  Set OMP_NUM_THREADS and
OPENBLAS_NUM_THREADS before starting Python (bench/linear.sh uses 2).

Usage: /usr/bin/python3 bench/linear_peer.py [repeats (default 3)] [coil csv]
"""
import sys
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression


def loss(X, y, coef, intercept, l2=1.0):
    eta = X @ coef + intercept
    ll = np.logaddexp(0.0, eta) - y * eta
    return (ll.sum() + 0.5 * l2 * coef @ coef) / len(y)


def run(name, X, y, repeats):
    best, m = np.inf, None
    for _ in range(repeats):
        m = LogisticRegression(solver="lbfgs", C=1.0, tol=1e-6, max_iter=100000)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m.fit(X, y)
        best = min(best, time.perf_counter() - t0)
    L = loss(X, y, m.coef_[0], m.intercept_[0])
    print(f"{name} rows={X.shape[0]} features={X.shape[1]} loss={L:.15g} time={best:.4f} "
          f"iters={int(m.n_iter_[0])}", flush=True)


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    coil = sys.argv[2] if len(sys.argv) > 2 else "/work/shared/data/coil2000-ticdata/ticdata.csv"
    with open("bench/out/linear_1m.txt") as f:
        N, D = map(int, f.read().split())
    X = np.fromfile("bench/out/linear_1m_X.f32", dtype=np.float32).reshape(N, D)
    y = np.fromfile("bench/out/linear_1m_y.f32", dtype=np.float32)
    run("synth", X.astype(np.float64), y.astype(np.float64), repeats)
    del X, y

    df = pd.read_csv(coil)
    df = df[df["is_test"] == 0]
    yc = df["CARAVAN"].to_numpy(dtype=np.float64)
    Xc = df.drop(columns=["id", "is_test", "CARAVAN"]).to_numpy(dtype=np.float64)
    run("coil", Xc, yc, repeats * 5)


if __name__ == "__main__":
    main()

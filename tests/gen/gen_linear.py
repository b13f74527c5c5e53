#!/usr/bin/python3
"""gen_linear.py -- reference coefficients for tests/test_linear.c from scikit-learn.

Writes tests/data/linear_data.csv (a small data set: x0..x4, a 0/1 label, a
real target and positive weights, all exactly representable as float32) and
tests/data/linear_expected.csv (one row per case: kind, l2, weighted, the
intercept and the coefficients of sklearn's LogisticRegression(C=1/l2) or
Ridge(alpha=l2), fitted to a very tight tolerance).  Both objectives are
sum_i w_i l_i + l2/2 |beta|^2 with an unpenalised intercept, as in linear.h.

Run from the repository root:  /usr/bin/python3 tests/gen/gen_linear.py
"""
import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge

rng = np.random.default_rng(20240601)
N, D = 300, 5
# features with different means and scales, two of them correlated
X = rng.normal(size=(N, D))
X[:, 1] = 0.6 * X[:, 0] + 0.8 * X[:, 1]
X = X * np.array([1.0, 2.0, 0.5, 3.0, 1.0]) + np.array([0.0, 5.0, -2.0, 10.0, 0.5])
X = X.astype(np.float32)
beta = np.array([1.0, -0.5, 2.0, 0.3, 0.0])
eta = 0.2 + (X.astype(np.float64) - X.mean(axis=0)) @ beta
ybin = (rng.uniform(size=N) < 1 / (1 + np.exp(-eta))).astype(np.float32)
yreg = (eta + rng.normal(scale=0.7, size=N)).astype(np.float32)
w = rng.choice([0.5, 1.0, 2.0, 3.0], size=N).astype(np.float32)

Xd = X.astype(np.float64)
with open("tests/data/linear_data.csv", "w") as f:
    f.write(",".join([f"x{j}" for j in range(D)] + ["ybin", "yreg", "w"]) + "\n")
    for i in range(N):
        vals = [f"{v:.9g}" for v in X[i]] + [f"{ybin[i]:.9g}", f"{yreg[i]:.9g}", f"{w[i]:.9g}"]
        f.write(",".join(vals) + "\n")


def logistic_grad(b0, b, y, sw, l2):
    p = 1 / (1 + np.exp(-(b0 + Xd @ b)))
    r = sw * (p - y)
    return np.concatenate([[r.sum()], Xd.T @ r + l2 * b])


rows = []
for kind, l2, weighted in [("logistic", 1.0, 0), ("logistic", 0.1, 1), ("logistic", 10.0, 0),
                           ("ridge", 1.0, 0), ("ridge", 5.0, 1)]:
    sw = w.astype(np.float64) if weighted else np.ones(N)
    if kind == "logistic":
        m = LogisticRegression(C=1.0 / l2, tol=1e-12, max_iter=100000, solver="newton-cholesky")
        m.fit(Xd, ybin.astype(np.float64), sample_weight=sw)
        b0, b = float(m.intercept_[0]), m.coef_[0]
        g = logistic_grad(b0, b, ybin.astype(np.float64), sw, l2)
    else:
        m = Ridge(alpha=l2, tol=1e-12, solver="cholesky")
        m.fit(Xd, yreg.astype(np.float64), sample_weight=sw)
        b0, b = float(m.intercept_), m.coef_
        r = sw * (b0 + Xd @ b - yreg.astype(np.float64))
        g = np.concatenate([[r.sum()], Xd.T @ r + l2 * b])
    print(f"{kind} l2={l2} weighted={weighted}: max |gradient| {np.abs(g).max():.2e}")
    rows.append([kind, f"{l2:g}", str(weighted), f"{b0:.17g}"] + [f"{v:.17g}" for v in b])

with open("tests/data/linear_expected.csv", "w") as f:
    f.write(",".join(["kind", "l2", "weighted", "intercept"] + [f"b{j}" for j in range(D)]) + "\n")
    for r in rows:
        f.write(",".join(r) + "\n")

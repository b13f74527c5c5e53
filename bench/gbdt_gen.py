#!/usr/bin/python3
"""gbdt_gen.py -- bench data for bench/gbdt.sh (written into bench/out/).

gbdt_1m.X.f32   1,000,000 x 20 float32, row-major, little-endian (NaN = missing)
gbdt_1m.y.f32   1,000,000 float32 labels in {0, 1}
gbdt_1m.meta    "rows N", "cols D", "train_rows T": rows [0, T) train, [T, N) test
coil_split.u8   one byte per CoIL 2000 row with is_test == 0, in file order: 1 = test (20%)

The target is a nonlinear function (interactions, thresholds, a discrete
column, a heavy-tailed column) passed through a logistic link; columns 5, 6 and
18 are missing at random and column 12 is missing when its value is high
(informative missingness).  Fixed seeds: the files are the same on every run.
"""
import os
import sys

import numpy as np

N, D, TRAIN = 1_000_000, 20, 800_000
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")
COIL = "/work/shared/data/coil2000-ticdata/ticdata.csv"


def make_table():
    rng = np.random.default_rng(12345)
    X = np.empty((N, D), dtype=np.float64)
    X[:, 0:10] = rng.standard_normal((N, 10))
    X[:, 10:15] = rng.random((N, 5))
    X[:, 15] = rng.integers(0, 10, N)
    X[:, 16] = rng.integers(0, 3, N)
    X[:, 17:20] = rng.lognormal(0.0, 1.0, (N, 3))
    f = (1.2 * np.sin(2 * X[:, 0]) + 0.8 * X[:, 1] * X[:, 2] + 1.0 * (X[:, 3] > 0.5)
         - 0.7 * X[:, 4] ** 2 + 0.5 * np.tanh(X[:, 5] * X[:, 6])
         + 1.5 * (X[:, 10] - 0.5) * (X[:, 11] > 0.3) + 0.8 * (X[:, 12] > 0.8)
         + 0.3 * X[:, 15] - 1.0 * (X[:, 16] == 1) + 0.4 * np.log1p(X[:, 17])
         - 0.3 * X[:, 7] + 0.2 * X[:, 8] * (X[:, 9] > 0))
    f = f - np.median(f)
    y = (rng.random(N) < 1.0 / (1.0 + np.exp(-f))).astype(np.float32)
    X[rng.random(N) < 0.30, 5] = np.nan
    X[rng.random(N) < 0.10, 6] = np.nan
    X[rng.random(N) < 0.05, 18] = np.nan
    X[(X[:, 12] > 0.8) & (rng.random(N) < 0.9), 12] = np.nan   # missing means "high"
    X.astype("<f4").tofile(os.path.join(OUT, "gbdt_1m.X.f32"))
    y.astype("<f4").tofile(os.path.join(OUT, "gbdt_1m.y.f32"))
    with open(os.path.join(OUT, "gbdt_1m.meta"), "w") as fh:
        fh.write(f"rows {N}\ncols {D}\ntrain_rows {TRAIN}\n")
    print(f"gbdt_gen: wrote {N} x {D} table, positive rate {y.mean():.3f}", file=sys.stderr)


def make_coil_split():
    import pandas as pd
    df = pd.read_csv(COIL)
    n = int((df["is_test"] == 0).sum())
    rng = np.random.default_rng(2000)
    mask = np.zeros(n, dtype=np.uint8)
    mask[rng.permutation(n)[: n // 5]] = 1
    mask.tofile(os.path.join(OUT, "coil_split.u8"))
    print(f"gbdt_gen: wrote CoIL split, {n - int(mask.sum())} train / {int(mask.sum())} test rows",
          file=sys.stderr)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    make_table()
    make_coil_split()

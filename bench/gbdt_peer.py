#!/usr/bin/python3
"""gbdt_peer.py -- xgboost 'hist' on the bench/gbdt.sh data (see bench/gbdt_gen.py).

Prints one line per data set, "peer <name> auc <AUC> seconds <S> cpu <C>": wall and
process CPU seconds of building the DMatrix and training (prediction excluded), as
bench_gbdt times sg_gbdt_train.

Settings matched with bench/bench_gbdt.c: tree_method=hist, grow_policy=depthwise,
max_depth=6 (ours: leaf-wise, max_leaves=64, max_depth=6, which grows the same
full depth-6 trees whenever every split has positive gain), eta=0.1, lambda=1,
min_child_weight=1, gamma=0, max_bin=255, base_score = training positive rate
(ours starts from its log-odds), nthread=2, no row or column subsampling.
"""
import os
import sys
import time

import numpy as np
import pandas as pd
import xgboost as xgb

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")
COIL = "/work/shared/data/coil2000-ticdata/ticdata.csv"
THREADS = int(os.environ.get("GBDT_THREADS", "2"))


def auc(y, s):
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    # tied scores share their average rank
    _, start, counts = np.unique(s[order], return_index=True, return_counts=True)
    avg = start + (counts + 1) / 2.0
    ranks[order] = np.repeat(avg, counts)
    npos = y.sum()
    nneg = len(y) - npos
    return (ranks[y == 1].sum() - npos * (npos + 1) / 2) / (npos * nneg)


def run(name, Xtr, ytr, Xte, yte, rounds):
    params = dict(objective="binary:logistic", tree_method="hist", grow_policy="depthwise",
                  max_depth=6, eta=0.1, reg_lambda=1.0, min_child_weight=1.0, gamma=0.0,
                  max_bin=255, nthread=THREADS, base_score=float(ytr.mean()), verbosity=0)
    t0, c0 = time.perf_counter(), time.process_time()
    dtr = xgb.DMatrix(Xtr, label=ytr, missing=np.nan, nthread=THREADS)
    bst = xgb.train(params, dtr, num_boost_round=rounds)
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    p = bst.predict(xgb.DMatrix(Xte, missing=np.nan, nthread=THREADS))
    print(f"peer {name} auc {auc(yte, p):.6f} seconds {secs:.3f} cpu {cpu:.3f}", flush=True)


def main():
    which = sys.argv[1:] or ["coil", "1m"]
    if "coil" in which:
        df = pd.read_csv(COIL)
        df = df[df["is_test"] == 0]
        y = df["CARAVAN"].to_numpy(np.float32)
        X = df.drop(columns=["id", "is_test", "CARAVAN"]).to_numpy(np.float32)
        test = np.fromfile(os.path.join(OUT, "coil_split.u8"), dtype=np.uint8).astype(bool)
        run("coil2000", X[~test], y[~test], X[test], y[test],
            int(os.environ.get("COIL_ROUNDS", "100")))
    if "1m" in which:
        meta = dict(l.split() for l in open(os.path.join(OUT, "gbdt_1m.meta")))
        N, D, T = int(meta["rows"]), int(meta["cols"]), int(meta["train_rows"])
        X = np.fromfile(os.path.join(OUT, "gbdt_1m.X.f32"), dtype="<f4").reshape(N, D)
        y = np.fromfile(os.path.join(OUT, "gbdt_1m.y.f32"), dtype="<f4")
        run("table1m", X[:T], y[:T], X[T:], y[T:], int(os.environ.get("TABLE_ROUNDS", "200")))


if __name__ == "__main__":
    main()

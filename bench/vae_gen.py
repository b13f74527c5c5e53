#!/usr/bin/env python3
"""vae_gen.py -- interaction matrices for bench/vae.sh, as one binary CSR file.

  vae_gen.py synth OUT [--users N] [--items N] [--mean-items K] [--seed S]
      synthetic implicit feedback with ML-20M-like skew: item popularity
      ~ Zipf(0.9), user activity ~ lognormal with mean K, no repeated pairs.
  vae_gen.py movielens OUT RATINGS_CSV
      MovieLens ratings >= 3.5 as positives (all users).

File layout (little-endian): int64 n_users, int64 n_items, int64 nnz,
int64 row_ptr[n_users+1], int32 col_idx[nnz] (sorted within a row).  Both
bench_vae.c and vae_peer.py read it, so they train on the same data.
"""
import sys
import numpy as np


def write(path, n_items, rows):
    rp = np.zeros(len(rows) + 1, dtype=np.int64)
    rp[1:] = np.cumsum([len(r) for r in rows])
    ci = np.concatenate([np.sort(np.asarray(r, dtype=np.int32)) for r in rows])
    with open(path, "wb") as f:
        np.array([len(rows), n_items, len(ci)], dtype=np.int64).tofile(f)
        rp.tofile(f)
        ci.astype(np.int32).tofile(f)
    print(f"{path}: {len(rows)} users, {n_items} items, {len(ci)} interactions")


def synth(out, users=10000, items=10000, mean_items=60, seed=1):
    rng = np.random.default_rng(seed)
    w = 1.0 / np.arange(1, items + 1) ** 0.9
    w /= w.sum()
    perm = rng.permutation(items)          # popular items are not the low indices
    act = rng.lognormal(np.log(mean_items) - 0.5, 1.0, size=users).astype(int)
    act = np.clip(act, 5, items // 4)
    rows = []
    for n in act:
        r = np.unique(perm[rng.choice(items, size=int(n * 1.3), p=w)])[:n]
        rows.append(r)
    write(out, items, rows)


def movielens(out, ratings):
    import pandas as pd
    r = pd.read_csv(ratings)
    r = r[r.rating >= 3.5]
    u = r.userId.astype("category").cat.codes.values
    i = r.movieId.astype("category").cat.codes.values
    n_users, n_items = u.max() + 1, i.max() + 1
    rows = [[] for _ in range(n_users)]
    for a, b in zip(u, i):
        rows[a].append(b)
    write(out, int(n_items), [np.unique(x) for x in rows])


if __name__ == "__main__":
    kind, out = sys.argv[1], sys.argv[2]
    if kind == "movielens":
        movielens(out, sys.argv[3])
    else:
        args = dict(zip(sys.argv[3::2], sys.argv[4::2]))
        synth(out, int(args.get("--users", 10000)), int(args.get("--items", 10000)),
              int(args.get("--mean-items", 60)), int(args.get("--seed", 1)))

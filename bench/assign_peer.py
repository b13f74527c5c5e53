#!/usr/bin/python3
"""assign_peer.py -- peers for bench_assign: the usual greedy, and an exact MILP.

Usage: assign_peer.py INSTANCE.bin greedy|milp

Reads the instance written by bench_assign (int64 N, int64 A, double budget,
int64 caps (A), gain (N x A), cost (N x A), little-endian) and prints one
"peer:" line.
  greedy  "T-learner + greedy": each customer's best net arm, customers ranked
          by net value per unit cost, taken while the budget lasts (numpy).
  milp    the exact optimum by scipy.optimize.milp (HiGHS), and the LP bound by
          scipy.optimize.linprog; for small N only (seconds to minutes).
"""
import sys
import time

import numpy as np


def load(path):
    with open(path, "rb") as f:
        n, a = np.frombuffer(f.read(16), dtype="<i8")
        budget = np.frombuffer(f.read(8), dtype="<f8")[0]
        caps = np.frombuffer(f.read(8 * a), dtype="<i8")
        gain = np.frombuffer(f.read(8 * n * a), dtype="<f8").reshape(n, a)
        cost = np.frombuffer(f.read(8 * n * a), dtype="<f8").reshape(n, a)
    return int(n), int(a), float(budget), caps, gain, cost


def greedy(n, a, budget, caps, gain, cost):
    t0 = time.perf_counter()
    net = gain[:, 1:] - cost[:, 1:]
    best = np.argmax(net, axis=1)
    bnet = net[np.arange(n), best]
    bcost = cost[np.arange(n), best + 1]
    ok = bnet > 0
    ratio = np.where(bcost > 0, bnet / np.maximum(bcost, 1e-300), np.inf)
    order = np.argsort(-np.where(ok, ratio, -np.inf), kind="stable")
    order = order[ok[order]]
    cum = np.cumsum(bcost[order])
    take = order[cum <= budget]
    arm = np.zeros(n, dtype=np.int32)
    arm[take] = best[take] + 1
    # caps: drop the lowest-ranked customers of an arm over its cap
    for k in range(1, a):
        if caps[k] >= 0:
            idx = take[arm[take] == k]
            arm[idx[caps[k]:]] = 0
    t1 = time.perf_counter()
    chosen = arm > 0
    value = float((gain - cost)[np.arange(n), arm][chosen].sum())
    spent = float(cost[np.arange(n), arm][chosen].sum())
    print(f"peer: greedy time_s={t1 - t0:.3f} value={value:.6f} cost={spent:.6f} "
          f"treated={int(chosen.sum())}")


def milp(n, a, budget, caps, gain, cost):
    from scipy.optimize import Bounds, LinearConstraint, linprog, milp as sp_milp
    from scipy.sparse import coo_matrix, vstack

    k = a - 1
    v = (gain[:, 1:] - cost[:, 1:]).ravel()
    c = cost[:, 1:].ravel()
    m = n * k
    rows = np.repeat(np.arange(n), k)
    one = coo_matrix((np.ones(m), (rows, np.arange(m))), shape=(n, m))
    parts = [one, coo_matrix(c.reshape(1, m))]
    ub = [np.ones(n), np.array([budget])]
    for arm in range(1, a):
        if caps[arm] >= 0:
            cols = np.arange(arm - 1, m, k)
            parts.append(coo_matrix((np.ones(n), (np.zeros(n), cols)), shape=(1, m)))
            ub.append(np.array([float(caps[arm])]))
    A = vstack(parts).tocsr()
    ub = np.concatenate(ub)
    # only actions with a positive net value can be in an optimal plan
    hi = (v > 0).astype(float)
    t0 = time.perf_counter()
    lp = linprog(-v, A_ub=A, b_ub=ub, bounds=np.c_[np.zeros(m), hi], method="highs")
    t1 = time.perf_counter()
    res = sp_milp(-v, constraints=LinearConstraint(A, -np.inf, ub), integrality=np.ones(m),
                  bounds=Bounds(np.zeros(m), hi), options={"mip_rel_gap": 1e-9})
    t2 = time.perf_counter()
    print(f"peer: milp time_s={t2 - t1:.3f} value={-res.fun:.6f} status={res.status} "
          f"lp_bound={-lp.fun:.6f} lp_time_s={t1 - t0:.3f}")


def main():
    inst = load(sys.argv[1])
    {"greedy": greedy, "milp": milp}[sys.argv[2]](*inst)


if __name__ == "__main__":
    main()

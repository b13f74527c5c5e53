#!/usr/bin/python3
"""Screen: does a shared-representation network (TARNet-style: one trunk, a head per arm)
rank campaign effects better than stratagem's trees on bench/uplift_gen.py's logs?

Usage:
    /usr/bin/python3 bench/uplift_nn_proto.py --sg build/stratagem --budgets 50,200 DIR...

DIR is a bench/uplift.sh seed folder (log.csv, customers.csv, truth.csv). For each, the
network is fitted on the log (5 folds: each fold's network stops early on its own held-out
fifth; the five are averaged for new customers), stratagem is trained with the held-out
campaign's command and asked for its effects (`stratagem predict`), and each set of effects
becomes the plan a budget buys when every contact costs 0.10: the customers with the largest
best-arm net gain (effect - 0.10), one arm each. Prints the TRUE value of each plan as a share
of the best achievable (truth.csv), for the network, stratagem, and their average.

Hurdle heads: per arm, P(margin > 0) (logistic) and E[margin | margin > 0] (softplus, squared
error on the converted rows); the effect is p * m of the arm minus that of control.
A prototype for deciding whether to write it in C, not part of stratagem.
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import torch

torch.set_num_threads(2)
ARMS = ["control", "coupon10", "coupon20", "email"]
CAT = ["STYPE", "MOSHOOFD"]


def design(df, cols, stats=None):
    x = df[cols].to_numpy(dtype=np.float64)
    if stats is None:
        stats = (x.mean(0), x.std(0) + 1e-9)
    x = (x - stats[0]) / stats[1]
    parts = [x]
    for c in CAT:
        v = df[c].to_numpy()
        parts.append(np.stack([(v == k).astype(np.float64) for k in range(1, 42 if c == "STYPE" else 11)], 1))
    return np.concatenate(parts, 1).astype(np.float32), stats


class Net(torch.nn.Module):
    def __init__(self, d, h, arms, drop):
        super().__init__()
        self.trunk = torch.nn.Sequential(
            torch.nn.Linear(d, h), torch.nn.ELU(), torch.nn.Dropout(drop),
            torch.nn.Linear(h, h), torch.nn.ELU(), torch.nn.Dropout(drop))
        self.p = torch.nn.Linear(h, arms)
        self.m = torch.nn.Linear(h, arms)

    def forward(self, x):
        z = self.trunk(x)
        return self.p(z), torch.nn.functional.softplus(self.m(z))


def loss_fn(net, x, a, y):
    lp, m = net(x)
    lp = lp.gather(1, a[:, None])[:, 0]
    m = m.gather(1, a[:, None])[:, 0]
    conv = (y > 0).float()
    l1 = torch.nn.functional.binary_cross_entropy_with_logits(lp, conv)
    w = conv.sum().clamp(min=1)
    l2 = ((m - y) ** 2 * conv).sum() / w
    return l1 + 0.05 * l2


def fit(x, a, y, xv, av, yv, seed, h, drop, wd, epochs=200):
    torch.manual_seed(seed)
    net = Net(x.shape[1], h, len(ARMS), drop)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=wd)
    x, a, y = map(torch.tensor, (x, a, y))
    xv, av, yv = map(torch.tensor, (xv, av, yv))
    best, best_state, bad = 1e18, None, 0
    n = len(y)
    g = torch.Generator().manual_seed(seed)
    for ep in range(epochs):
        net.train()
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, 256):
            idx = perm[i:i + 256]
            opt.zero_grad()
            loss_fn(net, x[idx], a[idx], y[idx]).backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            v = loss_fn(net, xv, av, yv).item()
        if v < best - 1e-5:
            best, bad = v, 0
            best_state = {k: t.clone() for k, t in net.state_dict().items()}
        else:
            bad += 1
            if bad >= 10:
                break
    net.load_state_dict(best_state)
    net.eval()
    return net


def nn_effects(log, cust, h, drop, wd, folds=5):
    cols = [c for c in log.columns if c not in ("customer_id", "treatment", "propensity", "converted", "margin")]
    x, stats = design(log, cols)
    xc, _ = design(cust, cols, stats)
    a = log["treatment"].map({k: i for i, k in enumerate(ARMS)}).to_numpy().astype(np.int64)
    y = log["margin"].to_numpy().astype(np.float32)
    rng = np.random.default_rng(1)
    fold = rng.permutation(len(y)) % folds
    mu = np.zeros((len(cust), len(ARMS)))
    for k in range(folds):
        tr, va = fold != k, fold == k
        net = fit(x[tr], a[tr], y[tr], x[va], a[va], y[va], 100 + k, h, drop, wd)
        with torch.no_grad():
            lp, m = net(torch.tensor(xc))
            mu += (torch.sigmoid(lp) * m).numpy() / folds
    return {arm: mu[:, i] - mu[:, 0] for i, arm in enumerate(ARMS) if arm != "control"}


def sg_effects(sg, d):
    model = os.path.join(d, "proto_sg.sgm")
    subprocess.run([sg, "train", "uplift", "--data", os.path.join(d, "log.csv"), "--treatment", "treatment",
                    "--control", "control", "--outcome", "margin", "--propensity", "propensity",
                    "--id", "customer_id", "--ignore", "converted", "--out", model],
                   check=True, stdout=subprocess.DEVNULL)
    out = os.path.join(d, "proto_sg_pred.csv")
    subprocess.run([sg, "predict", "--model", model, "--data", os.path.join(d, "customers.csv"),
                    "--out", out], check=True, stdout=subprocess.DEVNULL)
    p = pd.read_csv(out, dtype={"customer_id": str})
    return p["customer_id"], {arm: p["effect_" + arm].to_numpy() for arm in ARMS if arm != "control"}


def share(truth, eff, k):
    treat = [a for a in ARMS if a != "control"]
    tg = np.column_stack([truth["mu_" + a] - truth["mu_control"] - 0.10 for a in treat])
    pg = np.column_stack([eff[a] - 0.10 for a in treat])
    best_arm = pg.argmax(1)
    pbest = pg.max(1)
    order = np.argsort(-pbest)
    chosen = [i for i in order[:k] if pbest[i] > 0]
    got = sum(tg[i, best_arm[i]] for i in chosen)
    tb = np.sort(np.maximum(tg.max(1), 0))[::-1][:k].sum()
    return got / tb


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sg", required=True)
    ap.add_argument("--budgets", default="50,200")
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--dropout", type=float, default=0.2)
    ap.add_argument("--wd", type=float, default=1e-3)
    ap.add_argument("dirs", nargs="+")
    o = ap.parse_args()
    budgets = [float(b) for b in o.budgets.split(",")]
    rows = []
    for d in o.dirs:
        log = pd.read_csv(os.path.join(d, "log.csv"))
        cust = pd.read_csv(os.path.join(d, "customers.csv"))
        truth = pd.read_csv(os.path.join(d, "truth.csv"), dtype={"customer_id": str}).set_index("customer_id")
        ids, se = sg_effects(o.sg, d)
        assert (ids.to_numpy() == cust["customer_id"].astype(str).to_numpy()).all()
        truth = truth.loc[ids]
        ne = nn_effects(log, cust, o.hidden, o.dropout, o.wd)
        bl = {a: (ne[a] + se[a]) / 2 for a in ne}
        r = [os.path.basename(d)]
        for b in budgets:
            k = int(round(b / 0.10))
            r += [share(truth, se, k), share(truth, ne, k), share(truth, bl, k)]
        corr = [np.corrcoef(ne[a], truth["mu_" + a] - truth["mu_control"])[0, 1] for a in ne]
        corr_s = [np.corrcoef(se[a], truth["mu_" + a] - truth["mu_control"])[0, 1] for a in se]
        r += [np.mean(corr_s), np.mean(corr)]
        rows.append(r)
        print("\t".join(str(v) if isinstance(v, str) else "%.3f" % v for v in r), flush=True)
    m = np.array([r[1:] for r in rows], dtype=float).mean(0)
    hdr = []
    for b in budgets:
        hdr += ["sg@%g" % b, "nn@%g" % b, "avg@%g" % b]
    print("mean\t" + "\t".join("%s %.3f" % (h, v) for h, v in zip(hdr + ["corr_sg", "corr_nn"], m)))


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""gan_peer.py -- the peer side of bench/gan.sh: the same CTGAN networks in PyTorch.

Usage: /usr/bin/python3 bench/gan_peer.py FILE [EPOCHS] [ID_COL] [IGNORE_COL]

The generator and critic of stratagem's CTGAN (src/models/ctgan.c), written the
way the CTGAN package writes them (Xu et al. 2019, sdv-dev/CTGAN):
  generator  x0 = [z (128) | cond]; two Residual blocks Linear -> BatchNorm1d ->
             ReLU with the input concatenated to the output (256 each); Linear to
             the data width; tanh on continuous offsets, gumbel-softmax (tau 0.2)
             on one-hot spans
  critic     pac = 10 rows [data | cond] packed; Linear 256 -> LeakyReLU(0.2) ->
             Dropout(0.5) -> Linear 256 -> LeakyReLU -> Dropout -> Linear 1;
             WGAN loss + gradient penalty (lambda 10) by torch.autograd.grad with
             create_graph=True (double backprop)
  training   batch 500, Adam(2e-4, betas (0.5, 0.9), weight decay 1e-6), one critic
             step per generator step, conditional vector with log-frequency
             training-by-sampling, real rows drawn among those with the chosen level,
             generator loss -mean critic + the conditional cross-entropy
The data: the CSV read with pandas; the id and ignored columns dropped; every
column here is an integer code with at most 50 values (income.csv, ticdata.csv),
one-hot encoded with a level for missing values, as stratagem encodes discrete
columns, so data and conditional widths are the same up to codes that one side's
80% sample lacks (printed; gan.sh reports the difference).  80% of the rows (a seeded shuffle) are the training rows, as in
bench_gan.c.  Threads: torch.set_num_threads(GAN_THREADS, default 2).

Prints: peer rows <n> data_dim <Dd> cond_dim <Cc> epochs <E> epoch_s <s> cpu_s <s>
with the wall and process CPU seconds per epoch over E epochs after one warm-up
epoch (as bench_gan.c).
"""
import os
import sys
import time

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F


def encode(path, id_col, ignore):
    d = pd.read_csv(path)
    drop = [c for c in (id_col, ignore) if c]
    d = d.drop(columns=drop)
    spans, blocks = [], []
    for c in d.columns:
        v = d[c]
        present = v.dropna()
        if not (np.all(present == np.floor(present)) and present.nunique() <= 50):
            raise SystemExit(f"gan_peer.py: column {c} is not a discrete code column; "
                             "this peer only encodes discrete columns")
        levels = np.sort(present.unique())
        codes = np.searchsorted(levels, v.fillna(levels[0]).to_numpy())
        width = len(levels) + int(v.isna().any())
        if v.isna().any():
            codes = np.where(v.isna().to_numpy(), len(levels), codes)
        blocks.append(codes.astype(np.int64))
        spans.append(width)
    return np.stack(blocks, axis=1), spans


class Residual(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.fc = nn.Linear(i, o)
        self.bn = nn.BatchNorm1d(o)

    def forward(self, x):
        return torch.cat([F.relu(self.bn(self.fc(x))), x], dim=1)


class Generator(nn.Module):
    def __init__(self, i, dims, o):
        super().__init__()
        seq, d = [], i
        for h in dims:
            seq.append(Residual(d, h))
            d += h
        seq.append(nn.Linear(d, o))
        self.seq = nn.Sequential(*seq)

    def forward(self, x):
        return self.seq(x)


class Critic(nn.Module):
    def __init__(self, i, dims, pac):
        super().__init__()
        self.pac, self.pacdim = pac, i * pac
        seq, d = [], i * pac
        for h in dims:
            seq += [nn.Linear(d, h), nn.LeakyReLU(0.2), nn.Dropout(0.5)]
            d = h
        seq.append(nn.Linear(d, 1))
        self.seq = nn.Sequential(*seq)

    def forward(self, x):
        return self.seq(x.view(-1, self.pacdim))

    def penalty(self, real, fake, lam=10.0):
        a = torch.rand(real.size(0) // self.pac, 1, 1)
        a = a.repeat(1, self.pac, real.size(1)).view(-1, real.size(1))
        x = (a * real + (1 - a) * fake).requires_grad_(True)
        y = self(x)
        g = torch.autograd.grad(y, x, torch.ones_like(y), create_graph=True, retain_graph=True,
                                only_inputs=True)[0]
        return ((g.view(-1, self.pacdim).norm(2, dim=1) - 1) ** 2).mean() * lam


def main():
    path = sys.argv[1]
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    id_col = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
    ignore = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else None
    torch.set_num_threads(int(os.environ.get("GAN_THREADS", "2")))
    torch.manual_seed(20000)
    rng = np.random.default_rng(20000)
    codes, spans = encode(path, id_col, ignore)
    n = codes.shape[0]
    rows = rng.permutation(n)[: n - int(round(0.2 * n))]
    codes = codes[rows]
    n = codes.shape[0]
    offs = np.concatenate([[0], np.cumsum(spans)])
    Dd = Cc = int(offs[-1])
    onehot = np.zeros((n, Dd), dtype=np.float32)
    for j, w in enumerate(spans):
        onehot[np.arange(n), offs[j] + codes[:, j]] = 1.0
    # training-by-sampling: rows per (column, level); log-frequency level probabilities
    rows_of = [[np.flatnonzero(codes[:, j] == l) for l in range(w)] for j, w in enumerate(spans)]
    logp = []
    for j, w in enumerate(spans):
        f = np.log1p(np.array([len(r) for r in rows_of[j]], dtype=float))
        logp.append(f / f.sum())
    B, Z, pac = 500, 128, 10
    G = Generator(Z + Cc, (256, 256), Dd)
    D = Critic(Dd + Cc, (256, 256), pac)
    og = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.9), weight_decay=1e-6)
    od = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.9), weight_decay=1e-6)
    data = torch.from_numpy(onehot)

    def condvec():
        col = rng.integers(0, len(spans), B)
        lvl = np.array([rng.choice(spans[c], p=logp[c]) for c in col])
        c = np.zeros((B, Cc), dtype=np.float32)
        c[np.arange(B), offs[col] + lvl] = 1.0
        return torch.from_numpy(c), col, lvl

    def activate(x):
        return torch.cat([F.gumbel_softmax(x[:, offs[j]:offs[j + 1]], tau=0.2)
                          for j in range(len(spans))], dim=1)

    def cond_loss(x, col, lvl):
        loss = x.new_zeros(())
        for j in range(len(spans)):
            m = torch.from_numpy(col == j)
            if m.any():
                loss = loss + F.cross_entropy(x[m, offs[j]:offs[j + 1]],
                                              torch.from_numpy(lvl[col == j]).long(),
                                              reduction="sum")
        return loss / B

    steps = max(n // B, 1)

    def epoch():
        for _ in range(steps):
            c1, col, lvl = condvec()
            perm = rng.permutation(B)
            real_rows = [rng.choice(rows_of[col[p]][lvl[p]]) for p in perm]
            real = data[real_rows]
            fake = activate(G(torch.cat([torch.randn(B, Z), c1], dim=1)))
            fake_cat = torch.cat([fake, c1], dim=1)
            real_cat = torch.cat([real, c1[perm]], dim=1)
            pen = D.penalty(real_cat, fake_cat)
            loss_d = -(D(real_cat).mean() - D(fake_cat).mean())
            od.zero_grad(set_to_none=False)
            pen.backward(retain_graph=True)
            loss_d.backward()
            od.step()
            c1, col, lvl = condvec()
            raw = G(torch.cat([torch.randn(B, Z), c1], dim=1))
            y = D(torch.cat([activate(raw), c1], dim=1))
            loss_g = -y.mean() + cond_loss(raw, col, lvl)
            og.zero_grad(set_to_none=False)
            loss_g.backward()
            og.step()

    epoch()   # warm-up
    c0, w0 = time.process_time(), time.perf_counter()
    for _ in range(epochs):
        epoch()
    c1_, w1 = time.process_time(), time.perf_counter()
    print(f"peer rows {n} data_dim {Dd} cond_dim {Cc} epochs {epochs} "
          f"epoch_s {(w1 - w0) / epochs:.4f} cpu_s {(c1_ - c0) / epochs:.4f}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""vae_peer.py -- one Mult-VAE epoch in PyTorch, the peer of bench_vae.c.

  vae_peer.py DATA.csr [--epochs N] [--threads T] [--batch B] [--seed S]

The same network and training step as stratagem's vae (Liang et al. 2018, as in
the authors' code and its common PyTorch ports): rows L2-normalised, input
dropout 0.5, [I-600-200-600-I] with tanh, Gaussian heads mu/logvar (200 each),
multinomial log-likelihood + beta * KL (beta annealed as step/anneal_steps,
capped at 0.2), Adam lr 1e-3, users shuffled each epoch, batches of 500 users.
As in those implementations the batch is made dense (X[idx].toarray()) and fed
to a dense first layer; making it is part of the timed epoch.  Prints one line
per epoch and a summary 'peer: epoch_s=<median> ...'.
"""
import sys
import time
import numpy as np
import torch
import torch.nn.functional as F


def read_csr(path):
    with open(path, "rb") as f:
        n_users, n_items, nnz = np.fromfile(f, dtype=np.int64, count=3)
        rp = np.fromfile(f, dtype=np.int64, count=n_users + 1)
        ci = np.fromfile(f, dtype=np.int32, count=nnz)
    return int(n_users), int(n_items), rp, ci


class MultiVAE(torch.nn.Module):
    def __init__(self, I, H=600, Z=200, dropout=0.5):
        super().__init__()
        self.enc = torch.nn.Linear(I, H)
        self.mu = torch.nn.Linear(H, Z)
        self.lv = torch.nn.Linear(H, Z)
        self.dec0 = torch.nn.Linear(Z, H)
        self.dec1 = torch.nn.Linear(H, I)
        self.dropout = dropout
        for l in (self.enc, self.mu, self.lv, self.dec0, self.dec1):
            torch.nn.init.xavier_uniform_(l.weight)
            torch.nn.init.normal_(l.bias, std=0.001)

    def forward(self, x):
        h = F.normalize(x)
        h = F.dropout(h, self.dropout, training=self.training)
        h = torch.tanh(self.enc(h))
        mu, lv = self.mu(h), self.lv(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * lv) if self.training else mu
        h = torch.tanh(self.dec0(z))
        return self.dec1(h), mu, lv


def main():
    path = sys.argv[1]
    args = dict(zip(sys.argv[2::2], sys.argv[3::2]))
    epochs = int(args.get("--epochs", 3))
    threads = int(args.get("--threads", 2))
    B = int(args.get("--batch", 500))
    torch.manual_seed(int(args.get("--seed", 1)))
    np.random.seed(int(args.get("--seed", 1)))
    torch.set_num_threads(threads)
    n_users, I, rp, ci = read_csr(path)
    model = MultiVAE(I)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    steps_per_epoch = (n_users + B - 1) // B
    anneal_steps = steps_per_epoch * 100 / 0.2
    step, times = 0, []
    order = np.arange(n_users)
    model.train()
    for ep in range(epochs):
        t0 = time.perf_counter()
        np.random.shuffle(order)
        total = 0.0
        for b0 in range(0, n_users, B):
            idx = order[b0:b0 + B]
            x = np.zeros((len(idx), I), dtype=np.float32)
            for r, u in enumerate(idx):
                x[r, ci[rp[u]:rp[u + 1]]] = 1.0
            x = torch.from_numpy(x)
            beta = min(0.2, step / anneal_steps)
            opt.zero_grad()
            logits, mu, lv = model(x)
            nll = -(F.log_softmax(logits, 1) * x).sum(1).mean()
            kl = (-0.5 * torch.sum(1 + lv - mu ** 2 - lv.exp(), dim=1)).mean()
            loss = nll + beta * kl
            loss.backward()
            opt.step()
            step += 1
            total += loss.item() * len(idx)
        times.append(time.perf_counter() - t0)
        print(f"peer epoch {ep + 1}: {times[-1]:.3f} s, loss {total / n_users:.4f}", flush=True)
    print(f"peer: epoch_s={float(np.median(times)):.4f} threads={threads} users={n_users} "
          f"items={I} torch={torch.__version__}")


if __name__ == "__main__":
    main()

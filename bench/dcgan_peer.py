#!/usr/bin/python3
"""dcgan_peer.py -- the same class-conditional DCGAN in PyTorch, timed like bench_dcgan.c.

Generator: [z (64), one-hot (10)] -> Linear(74, 128*7*7, no bias) -> BatchNorm2d(128),
ReLU -> ConvTranspose2d(128, 64, 4, 2, 1, no bias) -> BatchNorm2d(64), ReLU ->
ConvTranspose2d(64, 1, 4, 2, 1) -> tanh.  Discriminator: Conv2d(1, 64, 4, 2, 1),
LeakyReLU(0.2) -> Conv2d(64, 128, 4, 2, 1, no bias) -> BatchNorm2d(128), LeakyReLU(0.2)
-> h (6272); logit = Linear(6272, 1)(h) + <Embedding(10, 6272)(y), h>.  Adam(2e-4,
betas 0.5/0.999), BCE with logits, batch 64; each step: D on the real batch and on
the detached fake batch, then G through the updated D on the same fake batch (the
PyTorch DCGAN example).  Same parameter counts as ours (printed).

Prints: peer steps=N seconds=S ms_per_step=M d_loss=.. g_loss=.. params_g=.. params_d=..
Usage: dcgan_peer.py DATA_DIR [steps (default 200)] [threads (default 2)]
"""
import gzip
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


class Gen(nn.Module):
    def __init__(self, z=64, nc=10, g=64):
        super().__init__()
        self.g = g
        self.fc = nn.Linear(z + nc, 2 * g * 7 * 7, bias=False)
        self.bn0 = nn.BatchNorm2d(2 * g)
        self.tc1 = nn.ConvTranspose2d(2 * g, g, 4, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(g)
        self.tc2 = nn.ConvTranspose2d(g, 1, 4, 2, 1)

    def forward(self, z, onehot):
        h = self.fc(torch.cat([z, onehot], 1)).view(-1, 2 * self.g, 7, 7)
        h = F.relu(self.bn0(h))
        h = F.relu(self.bn1(self.tc1(h)))
        return torch.tanh(self.tc2(h))


class Disc(nn.Module):
    def __init__(self, nc=10, d=64):
        super().__init__()
        self.c1 = nn.Conv2d(1, d, 4, 2, 1)
        self.c2 = nn.Conv2d(d, 2 * d, 4, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(2 * d)
        self.fc = nn.Linear(2 * d * 7 * 7, 1)
        self.emb = nn.Embedding(nc, 2 * d * 7 * 7)

    def forward(self, x, y):
        h = F.leaky_relu(self.c1(x), 0.2)
        h = F.leaky_relu(self.bn2(self.c2(h)), 0.2).flatten(1)
        return self.fc(h).squeeze(1) + (self.emb(y) * h).sum(1)


def init(m):
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if getattr(m, "bias", None) is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def main():
    data_dir = sys.argv[1]
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    torch.set_num_threads(threads)
    torch.manual_seed(20000)
    rng = np.random.default_rng(20000)
    images = read_idx(f"{data_dir}/train-images-idx3-ubyte.gz")
    labels = read_idx(f"{data_dir}/train-labels-idx1-ubyte.gz").astype(np.int64)
    x_all = torch.from_numpy(images.astype(np.float32) / 127.5 - 1.0).unsqueeze(1)
    y_all = torch.from_numpy(labels)
    B, Z, NC = 64, 64, 10
    G, D = Gen(), Disc()
    G.apply(init)
    D.apply(init)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    ones, zeros = torch.ones(B), torch.zeros(B)

    def step(idx):
        x, yr = x_all[idx], y_all[idx]
        yf = torch.randint(0, NC, (B,))
        fake = G(torch.randn(B, Z), F.one_hot(yf, NC).float())
        D.zero_grad()
        err_real = bce(D(x, yr), ones)
        err_real.backward()
        err_fake = bce(D(fake.detach(), yf), zeros)
        err_fake.backward()
        opt_d.step()
        G.zero_grad()
        err_g = bce(D(fake, yf), ones)
        err_g.backward()
        opt_g.step()
        return (err_real + err_fake).item(), err_g.item()

    perm = torch.from_numpy(rng.permutation(len(x_all)))
    for s in range(10):   # warm-up, untimed
        step(perm[s * B:(s + 1) * B])
    perm = torch.from_numpy(rng.permutation(len(x_all)))
    t0 = time.perf_counter()
    dl = gl = 0.0
    for s in range(steps):
        d, g = step(perm[s * B:(s + 1) * B])
        dl += d
        gl += g
    dt = time.perf_counter() - t0
    npg = sum(p.numel() for p in G.parameters())
    npd = sum(p.numel() for p in D.parameters())
    print(f"peer steps={steps} seconds={dt:.3f} ms_per_step={1000 * dt / steps:.2f} "
          f"d_loss={dl / steps:.4f} g_loss={gl / steps:.4f} params_g={npg} params_d={npd} "
          f"torch={torch.__version__}")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""vae_vamp_proto.py -- a PyTorch prototype: does a VampPrior help Mult-VAE on MovieLens-small?

Mult-VAE [I-600-200-600-I] (Liang et al. 2018: tanh, input dropout, L2-normalised input,
multinomial likelihood, KL weight annealed to --beta) with its standard normal prior, or with a
VampPrior (Tomczak and Welling 2018: p(z) = mean over K pseudo-inputs u_k of q(z | u_k); the
pseudo-inputs are learned, initialised from K training users and kept non-negative by a ReLU;
the KL term becomes the one-sample estimate log q(z|x) - log p(z)).  The network and its
initialisation are bench/vae_peer.py's.  Same split, training and seed for both; the epoch is chosen on
the split's validation users (every 5 epochs), and the test users' NDCG@100 at that epoch is
printed.  A screen run before writing the prior in C (bench/recommend_results.md, thirteenth
round); not part of stratagem.

    /usr/bin/python3 bench/vae_vamp_proto.py --dir bench/out/recommend_splits/s81 --prior normal
    /usr/bin/python3 bench/vae_vamp_proto.py --dir bench/out/recommend_splits/s81 --prior vamp

--dir: a split folder written by bench/recommend_splits.sh ('stratagem recommend split').
One thread; 4-6 minutes (normal) and 5-7 minutes (vamp, K = 100) per run.
"""
import argparse, os, sys, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vae_peer import MultiVAE  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument('--dir', required=True)
ap.add_argument('--prior', default='normal')     # normal | vamp
ap.add_argument('--K', type=int, default=100)
ap.add_argument('--epochs', type=int, default=300)
ap.add_argument('--seed', type=int, default=1)
ap.add_argument('--dropout', type=float, default=0.5)
ap.add_argument('--beta', type=float, default=0.2)
ap.add_argument('--anneal', type=int, default=200)  # epochs to reach beta
ap.add_argument('--batch', type=int, default=100)
ap.add_argument('--lr', type=float, default=1e-3)
a = ap.parse_args()
torch.set_num_threads(1)
torch.manual_seed(a.seed); np.random.seed(a.seed)

def read(p):
    d = np.loadtxt(p, delimiter=',', skiprows=1, dtype=np.int64)
    return d
tr = read(a.dir + '/train.csv')
items = np.unique(tr[:, 1]); imap = {v: i for i, v in enumerate(items)}; I = len(items)
def mat(d):
    d = d[np.isin(d[:, 1], items)]
    us = np.unique(d[:, 0]); umap = {v: i for i, v in enumerate(us)}
    X = np.zeros((len(us), I), np.float32)
    for u, i in d: X[umap[u], imap[i]] = 1
    return us, X
_, Xtr = mat(tr)
def pair(f, h):
    fd, hd = read(a.dir + f), read(a.dir + h)
    us, Xf = mat(fd)
    hd = hd[np.isin(hd[:, 1], items)]
    Xh = np.zeros_like(Xf); um = {v: i for i, v in enumerate(us)}
    for u, i in hd:
        if u in um: Xh[um[u], imap[i]] = 1
    keep = Xh.sum(1) > 0
    return torch.tensor(Xf[keep]), torch.tensor(Xh[keep])
Vf, Vh = pair('/validation_foldin.csv', '/validation_heldout.csv')
Tf, Th = pair('/test_foldin.csv', '/test_heldout.csv')
Xtr = torch.tensor(Xtr)

def ndcg(scores, Xf, Xh, k=100):
    s = scores.clone(); s[Xf > 0] = -1e30
    top = torch.topk(s, k, dim=1).indices
    hit = torch.gather(Xh, 1, top)
    disc = 1.0 / torch.log2(torch.arange(2, k + 2, dtype=torch.float32))
    dcg = (hit * disc).sum(1)
    n = Xh.sum(1).clamp(max=k).long()
    idcg = torch.stack([disc[:m].sum() for m in n])
    return (dcg / idcg).mean().item()

net = MultiVAE(I, dropout=a.dropout)   # bench/vae_peer.py's network and initialisation
params = list(net.parameters())
if a.prior == 'vamp':
    idx = np.random.choice(Xtr.shape[0], a.K, replace=False)
    U = nn.Parameter(Xtr[idx].clone() + 0.01 * torch.randn(a.K, I))
    params.append(U)
opt = torch.optim.Adam(params, lr=a.lr)

def encode(x, drop):
    x = F.normalize(x, dim=1)
    if drop: x = F.dropout(x, a.dropout, True)
    h = torch.tanh(net.enc(x))
    return net.mu(h), net.lv(h)
def decode(z):
    return net.dec1(torch.tanh(net.dec0(z)))
LOG2PI = float(np.log(2 * np.pi))
def log_normal(z, mu, logvar):   # z: B x L, mu/logvar: B x L or K x L broadcast
    return -0.5 * (LOG2PI + logvar + (z - mu) ** 2 / logvar.exp()).sum(-1)

n = Xtr.shape[0]; step = 0; best = (-1, 0, 0)
nb = (n + a.batch - 1) // a.batch
t0 = time.time()
for ep in range(1, a.epochs + 1):
    perm = torch.randperm(n)
    for b in range(nb):
        x = Xtr[perm[b * a.batch:(b + 1) * a.batch]]
        beta = min(a.beta, a.beta * step / (a.anneal * nb))
        mu, logvar = encode(x, True)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        logits = decode(z)
        nll = -(F.log_softmax(logits, 1) * x).sum(1).mean()
        if a.prior == 'normal':
            kl = (-0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(1)).mean()
        else:
            umu, ulv = encode(F.relu(U), False)
            lq = log_normal(z, mu, logvar)
            lp = torch.logsumexp(log_normal(z[:, None, :], umu[None], ulv[None]), 1) - np.log(a.K)
            kl = (lq - lp).mean()
        loss = nll + beta * kl
        opt.zero_grad(); loss.backward(); opt.step(); step += 1
    if ep % 5 == 0 or ep == a.epochs:
        with torch.no_grad():
            v = ndcg(decode(encode(Vf, False)[0]), Vf, Vh)
            t = ndcg(decode(encode(Tf, False)[0]), Tf, Th)
        if v > best[0]: best = (v, t, ep)
print(f"{a.dir} prior={a.prior} K={a.K} seed={a.seed} best_epoch={best[2]} val={best[0]:.4f} test={best[1]:.4f} s={time.time()-t0:.0f}")

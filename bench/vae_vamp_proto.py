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
from vae_proto_split import (Batches, add_training_args, load_split, ndcg,  # noqa: E402
                             encode as enc_, decode as dec_)

ap = argparse.ArgumentParser()
add_training_args(ap, epochs=300)
ap.add_argument('--prior', default='normal')     # normal | vamp
ap.add_argument('--K', type=int, default=100)
a = ap.parse_args()
torch.set_num_threads(1)
torch.manual_seed(a.seed); np.random.seed(a.seed)

I, Xtr, Vf, Vh, Tf, Th = load_split(a.dir)

net = MultiVAE(I, dropout=a.dropout)   # bench/vae_peer.py's network and initialisation
params = list(net.parameters())
if a.prior == 'vamp':
    idx = np.random.choice(Xtr.shape[0], a.K, replace=False)
    U = nn.Parameter(Xtr[idx].clone() + 0.01 * torch.randn(a.K, I))
    params.append(U)
opt = torch.optim.Adam(params, lr=a.lr)

def encode(x, drop):
    return enc_(net, x, a.dropout if drop else 0.0)
def decode(z):
    return dec_(net, z)
LOG2PI = float(np.log(2 * np.pi))
def log_normal(z, mu, logvar):   # z: B x L, mu/logvar: B x L or K x L broadcast
    return -0.5 * (LOG2PI + logvar + (z - mu) ** 2 / logvar.exp()).sum(-1)

best = (-1, 0, 0)
batches = Batches(Xtr, a.batch, a.beta, a.anneal)
t0 = time.time()
for ep in range(1, a.epochs + 1):
    for x, beta in batches.epoch():
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
        opt.zero_grad(); loss.backward(); opt.step()
    if ep % 5 == 0 or ep == a.epochs:
        with torch.no_grad():
            v = ndcg(decode(encode(Vf, False)[0]), Vf, Vh)
            t = ndcg(decode(encode(Tf, False)[0]), Tf, Th)
        if v > best[0]: best = (v, t, ep)
print(f"{a.dir} prior={a.prior} K={a.K} seed={a.seed} best_epoch={best[2]} val={best[0]:.4f} test={best[1]:.4f} s={time.time()-t0:.0f}")

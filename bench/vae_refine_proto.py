#!/usr/bin/python3
"""vae_refine_proto.py -- a PyTorch prototype: does refining each user's code at scoring
time (closing the encoder's amortisation gap) help Mult-VAE on MovieLens-small?

Mult-VAE [I-600-200-600-I] as in bench/vae_vamp_proto.py (standard prior), trained once.
At every checkpoint the validation and test users are scored two ways: the encoder's mean
mu(x) decoded (what stratagem does), and a code refined from mu(x) by --steps Adam steps
(learning rate --rlr) on the MAP objective of the fold-in items,
    sum_i x_i log softmax(f(z))_i  -  (--prior-weight) * |z|^2 / 2,
then decoded.  The epoch is chosen on the validation users separately for each way, and
the test users' NDCG@100 at that epoch is printed for both.  A screen, not part of
stratagem.

    /usr/bin/python3 bench/vae_refine_proto.py --dir bench/out/recommend_splits/s81

--dir: a split folder written by bench/recommend_splits.sh ('stratagem recommend split').
"""
import argparse, os, sys, time
import numpy as np, torch, torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vae_peer import MultiVAE  # noqa: E402
from vae_proto_split import (Batches, add_training_args, load_split, ndcg,  # noqa: E402
                             encode as enc_, decode as dec_)

ap = argparse.ArgumentParser()
add_training_args(ap, epochs=200)
ap.add_argument('--every', type=int, default=10)
ap.add_argument('--steps', default='10,30,100')
ap.add_argument('--rlr', type=float, default=0.01)
ap.add_argument('--prior-weight', type=float, default=1.0)
a = ap.parse_args()
torch.set_num_threads(1)
torch.manual_seed(a.seed); np.random.seed(a.seed)

I, Xtr, Vf, Vh, Tf, Th = load_split(a.dir)

net = MultiVAE(I, dropout=a.dropout)
opt = torch.optim.Adam(net.parameters(), lr=a.lr)
steps = [int(s) for s in a.steps.split(',')]

def encode(x, drop):
    return enc_(net, x, a.dropout if drop else 0.0)
def decode(z):
    return dec_(net, z)

def refined(Xf):
    """codes after each count of refinement steps in 'steps' (dict count -> scores)"""
    with torch.no_grad():
        z0 = encode(Xf, False)[0]
    z = z0.clone().requires_grad_(True)
    o = torch.optim.Adam([z], lr=a.rlr)
    out = {}
    for k in range(1, max(steps) + 1):
        lp = (F.log_softmax(decode(z), 1) * Xf).sum(1) - a.prior_weight * 0.5 * (z ** 2).sum(1)
        o.zero_grad(); (-lp.sum()).backward(); o.step()
        if k in steps:
            with torch.no_grad(): out[k] = decode(z).clone()
    return out

best = {w: (-1, 0, 0) for w in ['mu'] + ['r%d' % s for s in steps]}
batches = Batches(Xtr, a.batch, a.beta, a.anneal)
t0 = time.time()
for ep in range(1, a.epochs + 1):
    net.train()
    for x, beta in batches.epoch():
        mu, logvar = encode(x, True)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        nll = -(F.log_softmax(decode(z), 1) * x).sum(1).mean()
        kl = (-0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(1)).mean()
        loss = nll + beta * kl
        opt.zero_grad(); loss.backward(); opt.step()
    if ep % a.every == 0 or ep == a.epochs:
        for p in net.parameters(): p.requires_grad_(False)
        with torch.no_grad():
            sc = {'mu': (decode(encode(Vf, False)[0]), decode(encode(Tf, False)[0]))}
        rv, rt = refined(Vf), refined(Tf)
        for s in steps: sc['r%d' % s] = (rv[s], rt[s])
        for p in net.parameters(): p.requires_grad_(True)
        line = []
        for w, (sv, st) in sc.items():
            v, t = ndcg(sv, Vf, Vh), ndcg(st, Tf, Th)
            if v > best[w][0]: best[w] = (v, t, ep)
            line.append('%s %.4f %.4f' % (w, v, t))
        print('epoch', ep, ' | '.join(line), flush=True)
print(a.dir, ' '.join('%s: epoch %d val %.4f test %.4f' % (w, b[2], b[0], b[1]) for w, b in best.items()),
      's=%.0f' % (time.time() - t0))

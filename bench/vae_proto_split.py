"""vae_proto_split.py -- what the PyTorch prototypes of bench/ share (imported, not
run): a split folder of bench/recommend_splits.sh read into dense 0/1 matrices, NDCG@100,
and Mult-VAE's encoder and decoder over bench/vae_peer.py's network."""
import numpy as np, torch, torch.nn.functional as F


def load_split(d):
    """(I, Xtr, Vf, Vh, Tf, Th): items, training users, validation and test users'
    fold-in and held-out items (users without held-out items in the network dropped)."""
    def read(p):
        return np.loadtxt(p, delimiter=',', skiprows=1, dtype=np.int64)
    tr = read(d + '/train.csv')
    items = np.unique(tr[:, 1]); imap = {v: i for i, v in enumerate(items)}; I = len(items)

    def mat(x):
        x = x[np.isin(x[:, 1], items)]
        us = np.unique(x[:, 0]); umap = {v: i for i, v in enumerate(us)}
        X = np.zeros((len(us), I), np.float32)
        for u, i in x: X[umap[u], imap[i]] = 1
        return us, X

    def pair(f, h):
        fd, hd = read(d + f), read(d + h)
        us, Xf = mat(fd)
        hd = hd[np.isin(hd[:, 1], items)]
        Xh = np.zeros_like(Xf); um = {v: i for i, v in enumerate(us)}
        for u, i in hd:
            if u in um: Xh[um[u], imap[i]] = 1
        keep = Xh.sum(1) > 0
        return torch.tensor(Xf[keep]), torch.tensor(Xh[keep])
    Vf, Vh = pair('/validation_foldin.csv', '/validation_heldout.csv')
    Tf, Th = pair('/test_foldin.csv', '/test_heldout.csv')
    return I, torch.tensor(mat(tr)[1]), Vf, Vh, Tf, Th


def ndcg(scores, Xf, Xh, k=100):
    """mean NDCG@k of the held-out items, the fold-in items excluded from the lists"""
    s = scores.clone(); s[Xf > 0] = -1e30
    top = torch.topk(s, k, dim=1).indices
    hit = torch.gather(Xh, 1, top)
    disc = 1.0 / torch.log2(torch.arange(2, k + 2, dtype=torch.float32))
    dcg = (hit * disc).sum(1)
    n = Xh.sum(1).clamp(max=k).long()
    idcg = torch.stack([disc[:m].sum() for m in n])
    return (dcg / idcg).mean().item()


def encode(net, x, dropout):
    """(mu, logvar) of L2-normalised rows x, input dropout 'dropout' (0: none)"""
    x = F.normalize(x, dim=1)
    if dropout > 0: x = F.dropout(x, dropout, True)
    h = torch.tanh(net.enc(x))
    return net.mu(h), net.lv(h)


def decode(net, z):
    return net.dec1(torch.tanh(net.dec0(z)))


def add_training_args(ap, epochs):
    """the options both prototypes share: the split folder and the Mult-VAE training"""
    ap.add_argument('--dir', required=True)
    ap.add_argument('--epochs', type=int, default=epochs)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--dropout', type=float, default=0.5)
    ap.add_argument('--beta', type=float, default=0.2)
    ap.add_argument('--anneal', type=int, default=200)  # epochs to reach beta
    ap.add_argument('--batch', type=int, default=100)
    ap.add_argument('--lr', type=float, default=1e-3)


class Batches:
    """an epoch's shuffled training batches, each with its KL weight (annealed linearly
    to 'beta' over 'anneal' epochs, counted in steps across epochs)"""

    def __init__(self, X, batch, beta, anneal):
        self.X, self.batch, self.beta = X, batch, beta
        self.nb = (X.shape[0] + batch - 1) // batch
        self.anneal_steps = anneal * self.nb
        self.step = 0

    def epoch(self):
        perm = torch.randperm(self.X.shape[0])
        for b in range(self.nb):
            x = self.X[perm[b * self.batch:(b + 1) * self.batch]]
            yield x, min(self.beta, self.beta * self.step / self.anneal_steps)
            self.step += 1

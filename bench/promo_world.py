#!/usr/bin/python3
"""promo_world.py -- a promotion world with known truth on Dominick's orange juice.

  promo_world.py make  PANEL ITEMS SEED OUTDIR   truth + simulated panel
  promo_world.py score OUTDIR PLAN.csv [PLAN.json] true profit of a plan
  promo_world.py best  OUTDIR OPTS...            the best plan under the truth
  promo_world.py peer  OUTDIR OPTS...            the peer's plan (see below)

make: fits the model form of 'train promo' to the real panel (per brand: store
and week effects, own log price with store slopes, the other brands' log
prices, deal, feature) by ridge least squares, and takes that fit as the truth,
plus what stratagem's model does not have: each store's own feature effect
(sd 0.3 around the brand's).  Units are simulated for the real panel's rows
(its prices, deals and features), log units = truth + normal noise with the
brand's residual sd.  A coming week's expected units use the mean of the last
8 weeks' effects.  Writes OUTDIR/sim_train.csv and OUTDIR/truth.npz.

score: the expected gross profit under the truth of PLAN.csv (store, brand,
price, deal, feature) and of the regular plan (ITEMS' prices, no promotion),
fees included; the lift, and the forecast lift of PLAN.json beside it.

best: the plan that maximises the true expected profit under the same options,
fees, budget and per-store limit (coordinate ascent per store with the budget's
Lagrange multiplier by bisection: the same search as stratagem's, on the truth).

peer: a common analyst's plan: per brand, scikit-learn LinearRegression of log
units on store dummies, log own price, deal and feature (no week effects, no
store slopes, no other brands' prices), each store x brand choosing its option
on its own (no cannibalisation), the budget filled by gain per unit of spend;
its forecast is the model's own sum of predicted gains.

OPTS: --changes -20,-10,0,5,10 --deal-cost C --feature-cost C --budget B
      --max-promos N --out FILE
"""
import json
import sys
import time

import numpy as np

LEVEL_WEEKS = 8
FEAT_SD = 0.3


def read_csv(path):
    with open(path) as f:
        names = f.readline().strip().split(",")
    a = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return {n: a[:, i] for i, n in enumerate(names)}


def parse_opts(argv):
    o = {"changes": [-20, -10, 0], "deal_cost": -1.0, "feature_cost": -1.0, "budget": -1.0,
         "max_promos": 0, "out": None}
    i = 0
    while i < len(argv):
        k, v = argv[i], argv[i + 1]
        if k == "--changes":
            o["changes"] = [float(x) for x in v.split(",")]
        elif k == "--deal-cost":
            o["deal_cost"] = float(v)
        elif k == "--feature-cost":
            o["feature_cost"] = float(v)
        elif k == "--budget":
            o["budget"] = float(v)
        elif k == "--max-promos":
            o["max_promos"] = int(v)
        elif k == "--out":
            o["out"] = v
        else:
            raise SystemExit("unknown option " + k)
        i += 2
    return o


# ---------------------------------------------------------------------------
# the truth

class Truth:
    """Per brand: store effects a (S), week effects w (W), own elasticity e and
    store slopes d (S), cross elasticities c (B), deal g, feature f and store
    feature deviations fs (S), noise sd; centres of log prices; store mean log
    prices for absent cross prices."""

    def __init__(self, z):
        for k in (z.files if hasattr(z, "files") else z.keys()):
            setattr(self, k, z[k])

    def linpred(self, b, s, lp_own, lp_all, deal, feat, wk=None):
        """b: brand index; s: store index array; lp_all: (n, B) log prices."""
        v = self.a[b, s] + (self.e[b] + self.d[b, s]) * (lp_own - self.center[b])
        v = v + (lp_all - self.center[None, :]) @ self.c[b]
        v = v + self.g[b] * deal + (self.f[b] + self.fs[b, s]) * feat
        v = v + (self.w[b, wk] if wk is not None else self.level[b])
        return v


def fit_truth(P, seed):
    rng = np.random.default_rng(seed)
    stores = np.unique(P["store"]).astype(int)
    brands = np.unique(P["brand"]).astype(int)
    weeks = np.unique(P["week"]).astype(int)
    S, B, W = len(stores), len(brands), len(weeks)
    si = np.searchsorted(stores, P["store"].astype(int))
    bi = np.searchsorted(brands, P["brand"].astype(int))
    wi = np.searchsorted(weeks, P["week"].astype(int))
    lp = np.log(P["price"])
    # store-week price table and store means (absent brands)
    tab = np.full((S, W, B), np.nan)
    tab[si, wi, bi] = lp
    smean = np.nanmean(tab, axis=1)                         # (S, B)
    center = np.array([lp[bi == b].mean() for b in range(B)])
    smean = np.where(np.isnan(smean), center[None, :], smean)
    lp_all = np.where(np.isnan(tab[si, wi]), smean[si], tab[si, wi])   # (n, B)
    y = np.log(P["units"])
    a = np.zeros((B, S)); w = np.zeros((B, W)); e = np.zeros(B); d = np.zeros((B, S))
    c = np.zeros((B, B)); g = np.zeros(B); f = np.zeros(B); sig = np.zeros(B)
    for b in range(B):
        r = bi == b
        n = r.sum()
        cl = lp[r] - center[b]
        X = np.zeros((n, S + 1 + B + 2 + S + W))
        X[np.arange(n), si[r]] = 1
        X[:, S] = cl
        X[:, S + 1:S + 1 + B] = lp_all[r] - center[None, :]
        X[:, S + 1 + b] = 0
        X[:, S + 1 + B] = P["deal"][r]
        X[:, S + 2 + B] = P["feat"][r]
        X[np.arange(n), S + 3 + B + si[r]] = cl
        X[np.arange(n), 2 * S + 3 + B + wi[r]] = 1
        pen = np.full(X.shape[1], 1e-6)
        pen[S + 3 + B:2 * S + 3 + B] = 1.0
        pen[2 * S + 3 + B:] = 1.0
        pen[S + 1 + b] = 1.0
        beta = np.linalg.solve(X.T @ X + np.diag(pen), X.T @ y[r])
        a[b] = beta[:S]; e[b] = beta[S]; c[b] = beta[S + 1:S + 1 + B]; c[b, b] = 0
        g[b] = beta[S + 1 + B]; f[b] = beta[S + 2 + B]
        d[b] = beta[S + 3 + B:2 * S + 3 + B]; w[b] = beta[2 * S + 3 + B:]
        sig[b] = np.std(y[r] - X @ beta)
    fs = rng.normal(0, FEAT_SD, (B, S))
    level = w[:, W - LEVEL_WEEKS:].mean(axis=1)
    return dict(stores=stores, brands=brands, weeks=weeks, a=a, w=w, e=e, d=d, c=c, g=g, f=f,
                fs=fs, sigma=sig, center=center, smean=smean, level=level,
                lp_all=lp_all, si=si, bi=bi, wi=wi)


def make(panel, items, seed, out):
    P = read_csv(panel)
    z = fit_truth(P, seed)
    t = Truth(z)
    rng = np.random.default_rng(seed + 1000)
    n = len(P["units"])
    lp = np.log(P["price"])
    ysim = np.zeros(n)
    for b in range(len(z["brands"])):
        r = z["bi"] == b
        v = t.linpred(b, z["si"][r], lp[r], z["lp_all"][r], P["deal"][r], P["feat"][r], z["wi"][r])
        ysim[r] = v + rng.normal(0, z["sigma"][b], r.sum())
    with open(out + "/sim_train.csv", "w") as f:
        f.write("store,brand,week,units,price,deal,feat,cost\n")
        for i in range(n):
            f.write("%d,%d,%d,%.6g,%.6g,%d,%.6g,%.6g\n" % (P["store"][i], P["brand"][i],
                    P["week"][i], np.exp(ysim[i]), P["price"][i], P["deal"][i], P["feat"][i],
                    P["cost"][i]))
    keep = {k: v for k, v in z.items() if k not in ("lp_all", "si", "bi", "wi")}
    np.savez(out + "/truth.npz", **keep)
    with open(items) as fi, open(out + "/items.csv", "w") as fo:
        fo.write(fi.read())


def load_truth(out):
    return Truth(np.load(out + "/truth.npz"))


# ---------------------------------------------------------------------------
# values of plans under a model of the form above (the truth, or the peer's)

class Items:
    def __init__(self, t, path):
        I = read_csv(path)
        self.s = np.searchsorted(t.stores, I["store"].astype(int))
        self.b = np.searchsorted(t.brands, I["brand"].astype(int))
        self.price = I["price"]
        self.cost = I["cost"]
        self.n = len(self.price)
        self.groups = [np.where(self.s == s)[0] for s in np.unique(self.s)]


def group_value(t, it, idx, price, deal, feat, fees):
    """Expected units and profit of items idx (one store) at these choices."""
    s = it.s[idx[0]]
    b = it.b[idx]
    lp_store = t.smean[s].copy()
    lp = np.log(price)
    lp_store[b] = lp
    v = (t.a[b, s] + (t.e[b] + t.d[b, s]) * (lp - t.center[b]) + t.c[b] @ (lp_store - t.center)
         + t.g[b] * deal + (t.f[b] + t.fs[b, s]) * feat + t.level[b])
    units = np.exp(v + 0.5 * t.sigma[b] ** 2)
    return units, units * (price - it.cost[idx]) - fees


def store_values(t, it, idx, opts, ch, k, o, lam):
    """Objective (profit - lam * spend), profit and spend of the store's items
    idx with choices ch, for every option of item k at once: arrays (A,)."""
    s = it.s[idx[0]]
    b = it.b[idx]
    A = len(opts)
    cur = np.array([opts[a] for a in ch])               # (n, 3)
    C = np.repeat(cur[None, :, :], A, axis=0)           # (A, n, 3)
    C[:, k, :] = opts
    price = it.price[idx][None, :] * (1 + C[:, :, 0])   # (A, n)
    lp = np.log(price)
    L = np.repeat(t.smean[s][None, :], A, axis=0)       # (A, B)
    L[:, b] = lp
    v = (t.a[b, s][None, :] + (t.e[b] + t.d[b, s])[None, :] * (lp - t.center[b][None, :])
         + (L - t.center[None, :]) @ t.c[b].T
         + t.g[b][None, :] * C[:, :, 1] + (t.f[b] + t.fs[b, s])[None, :] * C[:, :, 2]
         + t.level[b][None, :])
    units = np.exp(v + 0.5 * (t.sigma[b] ** 2)[None, :])
    fees = C[:, :, 1] * max(o["deal_cost"], 0) + C[:, :, 2] * max(o["feature_cost"], 0)
    profit = (units * (price - it.cost[idx][None, :]) - fees).sum(axis=1)
    disc = np.where(C[:, :, 0] < 0, -C[:, :, 0], 0)
    spend = (fees + units * it.price[idx][None, :] * disc).sum(axis=1)
    return profit - lam * spend, profit, spend


def options(o, has_deal=True, has_feat=True):
    ch = sorted(set([0.0] + [x / 100 for x in o["changes"]]), key=lambda x: (x != 0, x))
    ds = [0, 1] if o["deal_cost"] >= 0 else [0]
    fs = [0, 1] if o["feature_cost"] >= 0 else [0]
    return [(c, d, f) for f in fs for d in ds for c in ch]


def in_range(t, P_range, it, i, c):
    if c == 0:
        return True
    lo, hi = P_range[(it.s[i], it.b[i])]
    lpv = np.log(it.price[i] * (1 + c))
    return lo - 1e-9 <= lpv <= hi + 1e-9


def solve_group(t, it, idx, opts, o, lam, ok):
    """stratagem's search on one store (src/strategy/promo_plan.c, solve_group):
    items by standalone gain, coordinate ascent, then exchanges of a promotion
    between two items while the per-store limit binds."""
    n = len(idx)
    opts_arr = np.array(opts, float)
    promo = np.array([bool(d or f or c < 0) for (c, d, f) in opts])
    okm = np.array([ok[i] for i in idx], bool)                  # (n, A)
    ch = [0] * n
    cur = store_values(t, it, idx, opts_arr, ch, 0, o, lam)[0][0]
    gains = np.array([np.max(np.where(okm[k], store_values(t, it, idx, opts_arr, ch, k, o, lam)[0],
                                      -np.inf)) - cur for k in range(n)])
    visit = list(np.argsort(-gains, kind="stable"))

    def ascend(cur):
        for _ in range(20):
            changed = False
            for k in visit:
                obj = store_values(t, it, idx, opts_arr, ch, k, o, lam)[0]
                allowed = okm[k].copy()
                if o["max_promos"] > 0:
                    others = sum(promo[ch[j]] for j in range(n) if j != k)
                    if others >= o["max_promos"]:
                        allowed &= ~promo
                allowed[ch[k]] = True
                obj = np.where(allowed, obj, -np.inf)
                a = int(np.argmax(obj))
                if a != ch[k] and obj[a] > cur + 1e-12 * abs(cur):
                    cur, ch[k], changed = obj[a], a, True
            if not changed:
                break
        return cur

    cur = ascend(cur)
    for _ in range(20):
        if o["max_promos"] <= 0 or sum(promo[a] for a in ch) < o["max_promos"]:
            break
        best, move = cur, None
        for j in range(n):
            if not promo[ch[j]]:
                continue
            keep_j = ch[j]
            for bj in np.where(~promo & okm[j])[0]:
                ch[j] = int(bj)
                for k in range(n):
                    if k == j or promo[ch[k]]:
                        continue
                    obj = store_values(t, it, idx, opts_arr, ch, k, o, lam)[0]
                    obj = np.where(promo & okm[k], obj, -np.inf)
                    a = int(np.argmax(obj))
                    if obj[a] > best + 1e-12 * abs(best):
                        best, move = obj[a], (j, int(bj), k, a)
            ch[j] = keep_j
        if move is None:
            break
        ch[move[0]], ch[move[2]] = move[1], move[3]
        cur = ascend(best)
    _, p, sp = store_values(t, it, idx, opts_arr, ch, 0, o, lam)
    return ch, p[ch[0]], sp[ch[0]]


def solve(t, it, o, ranges):
    opts = options(o)
    ok = [[in_range(t, ranges, it, i, c) for (c, d, f) in opts] for i in range(it.n)]

    def at(lam):
        res = [solve_group(t, it, g, opts, o, lam, ok) for g in it.groups]
        return res, sum(r[1] for r in res), sum(r[2] for r in res)

    res, prof, spend = at(0.0)
    if o["budget"] >= 0 and spend > o["budget"]:
        lo, hi = 0.0, 1.0
        while at(hi)[2] > o["budget"]:
            lo, hi = hi, hi * 2
        for _ in range(25):
            mid = 0.5 * (lo + hi)
            if at(mid)[2] <= o["budget"]:
                hi = mid
            else:
                lo = mid
        res_hi, prof, spend = at(hi)
        res_lo, _, _ = at(lo)
        ups = []
        for gi in range(len(it.groups)):
            dp = res_lo[gi][1] - res_hi[gi][1]
            ds = res_lo[gi][2] - res_hi[gi][2]
            if dp > 0 and ds > 0:
                ups.append((dp / ds, dp, ds, gi))
        res = list(res_hi)
        for r, dp, ds, gi in sorted(ups, reverse=True):
            if spend + ds <= o["budget"]:
                res[gi] = res_lo[gi]
                spend += ds
                prof += dp
    plan = np.zeros((it.n, 3))
    for g, r in zip(it.groups, res):
        for k, i in enumerate(g):
            plan[i] = opts[r[0][k]]
    return plan, prof, spend


def price_ranges(panel, t):
    P = read_csv(panel)
    s = np.searchsorted(t.stores, P["store"].astype(int))
    b = np.searchsorted(t.brands, P["brand"].astype(int))
    lp = np.log(P["price"])
    r = {}
    key = s * 1000 + b
    order = np.argsort(key)
    ks, lps = key[order], lp[order]
    starts = np.r_[0, np.where(np.diff(ks))[0] + 1, len(ks)]
    for a, z in zip(starts[:-1], starts[1:]):
        r[(ks[a] // 1000, ks[a] % 1000)] = (lps[a:z].min(), lps[a:z].max())
    return r


def true_value(t, it, price, deal, feat, o):
    fees = deal * max(o["deal_cost"], 0) + feat * max(o["feature_cost"], 0)
    tot = 0.0
    for g in it.groups:
        _, p = group_value(t, it, g, price[g], deal[g], feat[g], fees[g])
        tot += p.sum()
    return tot


def read_plan(path, t, it):
    Pl = read_csv(path)
    s = np.searchsorted(t.stores, Pl["store"].astype(int))
    b = np.searchsorted(t.brands, Pl["brand"].astype(int))
    pos = {(si, bi): k for k, (si, bi) in enumerate(zip(it.s, it.b))}
    price = it.price.copy(); deal = np.zeros(it.n); feat = np.zeros(it.n)
    for k in range(len(s)):
        i = pos[(s[k], b[k])]
        price[i], deal[i], feat[i] = Pl["price"][k], Pl["deal"][k], Pl["feature"][k]
    return price, deal, feat


# ---------------------------------------------------------------------------
# the peer

def peer(out, panel_path, items_path, o):
    from sklearn.linear_model import LinearRegression
    t0 = time.time()
    t = load_truth(out)          # only for the store/brand indexing and ranges
    P = read_csv(panel_path)
    si = np.searchsorted(t.stores, P["store"].astype(int))
    bi = np.searchsorted(t.brands, P["brand"].astype(int))
    S, B = len(t.stores), len(t.brands)
    # the peer's model in the truth's form: no week, slope, cross or store-feature terms
    pm = dict(stores=t.stores, brands=t.brands, a=np.zeros((B, S)), w=np.zeros((B, 1)),
              e=np.zeros(B), d=np.zeros((B, S)), c=np.zeros((B, B)), g=np.zeros(B),
              f=np.zeros(B), fs=np.zeros((B, S)), sigma=np.zeros(B), center=t.center,
              smean=t.smean, level=np.zeros(B))
    for b in range(B):
        r = bi == b
        X = np.zeros((r.sum(), S + 3))
        X[np.arange(r.sum()), si[r]] = 1
        X[:, S] = np.log(P["price"][r]) - t.center[b]
        X[:, S + 1] = P["deal"][r]
        X[:, S + 2] = P["feat"][r]
        lr = LinearRegression(fit_intercept=False).fit(X, np.log(P["units"][r]))
        pm["a"][b] = lr.coef_[:S]; pm["e"][b] = lr.coef_[S]
        pm["g"][b] = lr.coef_[S + 1]; pm["f"][b] = lr.coef_[S + 2]
        pm["sigma"][b] = np.std(np.log(P["units"][r]) - lr.predict(X))
    tp = Truth(pm)
    it = Items(tp, items_path)
    ranges = price_ranges(panel_path, t)
    opts = options(o)
    # each item alone: its best option by gain, then the budget by gain per spend
    choice = np.zeros(it.n, int)
    gain = np.zeros(it.n); spend = np.zeros(it.n)
    base = np.zeros(it.n)
    for i in range(it.n):
        g1 = np.array([i])
        u0, p0 = group_value(tp, it, g1, it.price[g1], np.zeros(1), np.zeros(1), np.zeros(1))
        base[i] = p0[0]
        best = (0.0, 0, 0.0)
        for a, (c, d, f) in enumerate(opts):
            if a == 0 or not in_range(t, ranges, it, i, c):
                continue
            fee = d * max(o["deal_cost"], 0) + f * max(o["feature_cost"], 0)
            u, p = group_value(tp, it, g1, it.price[g1] * (1 + c), np.array([d], float),
                               np.array([f], float), np.array([fee]))
            sp = fee + (u[0] * it.price[i] * -c if c < 0 else 0)
            if p[0] - p0[0] > best[0]:
                best = (p[0] - p0[0], a, sp)
        gain[i], choice[i], spend[i] = best
    order = np.argsort(-gain / np.maximum(spend, 1e-9))
    used = 0.0; n_promo = {}
    take = np.zeros(it.n, bool)
    for i in order:
        if gain[i] <= 0:
            continue
        c, d, f = opts[choice[i]]
        is_promo = d or f or c < 0
        if o["max_promos"] > 0 and is_promo and n_promo.get(it.s[i], 0) >= o["max_promos"]:
            continue
        if o["budget"] >= 0 and used + spend[i] > o["budget"]:
            continue
        take[i] = True
        used += spend[i]
        if is_promo:
            n_promo[it.s[i]] = n_promo.get(it.s[i], 0) + 1
    with open(o["out"], "w") as fo:
        fo.write("store,brand,price,deal,feature\n")
        for i in range(it.n):
            c, d, f = opts[choice[i]] if take[i] else (0, 0, 0)
            fo.write("%d,%d,%.6g,%d,%d\n" % (t.stores[it.s[i]], t.brands[it.b[i]],
                                             it.price[i] * (1 + c), d, f))
    print(json.dumps({"forecast_lift": float(gain[take].sum()), "seconds": time.time() - t0}))


def main():
    cmd = sys.argv[1]
    if cmd == "make":
        make(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    elif cmd == "score":
        out, plan = sys.argv[2], sys.argv[3]
        o = parse_opts(sys.argv[5:]) if len(sys.argv) > 5 else parse_opts([])
        t = load_truth(out)
        it = Items(t, out + "/items.csv")
        price, deal, feat = read_plan(plan, t, it)
        v = true_value(t, it, price, deal, feat, o)
        v0 = true_value(t, it, it.price.copy(), np.zeros(it.n), np.zeros(it.n), o)
        r = {"true_profit": v, "true_base": v0, "true_lift": v - v0}
        if len(sys.argv) > 4 and sys.argv[4] not in ("-", ""):
            js = json.load(open(sys.argv[4]))
            r.update(forecast_lift=js["lift"]["profit"], lo=js["lift"]["profit_lo"],
                     hi=js["lift"]["profit_hi"], uncorrected=js["lift"]["uncorrected"])
        print(json.dumps(r))
    elif cmd == "best":
        out = sys.argv[2]
        o = parse_opts(sys.argv[3:])
        t = load_truth(out)
        it = Items(t, out + "/items.csv")
        plan, prof, spend = solve(t, it, o, price_ranges(out + "/sim_train.csv", t))
        v0 = true_value(t, it, it.price.copy(), np.zeros(it.n), np.zeros(it.n), o)
        print(json.dumps({"best_profit": prof, "best_lift": prof - v0, "spend": spend}))
    elif cmd == "peer":
        out = sys.argv[2]
        o = parse_opts(sys.argv[3:])
        peer(out, out + "/sim_train.csv", out + "/items.csv", o)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()

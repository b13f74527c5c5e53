#!/usr/bin/python3
"""Semi-synthetic multi-arm campaign benchmark with known truth, on real CoIL 2000 covariates.

Usage:
    /usr/bin/python3 bench/uplift_gen.py --seed 1 --rows 20000 --customers 10000 \
        --out-dir bench/out/uplift_s1

Covariates: the 9,822 rows of /work/shared/data/coil2000-ticdata/ticdata.csv (CARAVAN and is_test
dropped, the other 86 columns kept as they are). `id` becomes `customer_id`.
  * N <= 9822: N distinct rows drawn without replacement;
    N >  9822: every row once, plus N - 9822 rows drawn with replacement.
  * The k-th copy (k = 0, 1, ...) of source row `id` gets customer_id = base + k * 10000 + id, so
    ids stay unique; base = 0 in log.csv (first copies keep the real id) and base = 1,000,000 in
    customers.csv (the planning set is a different set of customers, drawn with its own stream).

Arms: control, email, coupon10, coupon20. Notation (all columns are the integer codes of the file):
    pp = MKOOPKLA (purchasing power class, 1..8)   inc  = MINKGEM (average income, 0..9)
    car = PPERSAUT (car policy contribution, 0..9)  fire = PBRAND (fire policy contribution, 0..8)
    age = MGEMLEEF (age band, 0 = 20-30 .. 5)       single = MFALLEEN (share of singles, 0..9)
    npol = number of policies, sum of the 21 counts AWAPART..ABYSTAND
    [c] = 1 if c else 0,  sigmoid(z) = 1 / (1 + exp(-z))

Truth:
    baseline logit   z0 = -2.60 + 0.15 (pp - 4) + 0.30 [car >= 6] + 0.08 (fire - 2)
                           + 0.06 (inc - 4)                              (mean p_control ~ 8.4%)
    arm effects on the logit (heterogeneous, different by arm):
      tau_email    = 0.10 + 0.80 [age <= 1] + 0.40 [single >= 4] + 0.05 (fire - 2)
                      - 1.20 [npol >= 4]             (heavy policy holders are annoyed: email HURTS)
      tau_coupon10 = 0.35 + 0.70 [inc <= 3] + 0.35 [car == 0] - 0.80 [npol >= 5]
      tau_coupon20 = 0.60 + 1.20 [inc <= 3] + 0.60 [pp <= 3] - 0.60 [inc >= 6] - 0.80 [npol >= 5]
    p_arm(x) = sigmoid(z0 + tau_arm)          (tau_control = 0)
    basket value | conversion  B = exp(m(x) + 0.5 eps), eps ~ N(0, 1),
      m(x) = log(8) + 0.10 (pp - 4) + 0.06 (inc - 4) + 0.15 [car >= 6]
    margin rate r_arm: control 0.40, email 0.40, coupon10 0.30 (10% off), coupon20 0.20 (20% off)
    converted ~ Bernoulli(p_arm(x)),  margin = converted * r_arm * B
    E[margin | x, arm] = mu_arm(x) = p_arm(x) * r_arm * exp(m(x) + 0.5^2 / 2)
    (mean mu_control ~ 0.375; with a cost of 0.10 per contact about 78% of customers have a
    positive best net gain, and email has a net loss for ~11%: those with npol >= 4.)

    --effects interact replaces the arm effects by ones that turn on pairs of features, which
    no sum of one-feature terms can express (a check of `train uplift --interactions arm`):
      tau_email    = 0.10 + 1.20 [age <= 1 and single >= 3] + 0.60 [age >= 3 and fire >= 3]
                      - 1.20 [npol >= 4]
      tau_coupon10 = 0.35 + 1.00 [inc <= 3 and car == 0] - 0.80 [npol >= 5]
      tau_coupon20 = 0.60 + 1.60 [inc <= 3 and pp <= 3] - 0.60 [inc >= 6] - 0.80 [npol >= 5]

Logging policy (known, NOT uniform): scores
      s_control = 0.5,  s_email = 0.3 + 0.3 [age <= 1],  s_coupon10 = 0.1 (inc - 4) - 0.2,
      s_coupon20 = 0.35 (inc - 4) - 0.4 + 0.3 [pp >= 6]  (an old rule favouring high income)
    pi_arm(x) = 0.05 + 0.80 softmax(s)_arm   (so every arm has propensity >= 0.05)
    the logged `propensity` is pi of the arm actually drawn.

Files written to --out-dir:
    log.csv        customer_id, <86 features>, treatment, propensity, converted, margin
    customers.csv  customer_id, <86 features>            (the customers to plan for)
    truth.csv      customer_id, mu_control, mu_email, mu_coupon10, mu_coupon20,
                   p_control, p_email, p_coupon10, p_coupon20   (for customers.csv)
    logtruth.csv   the same for the log's own rows (to score a plan made for them)
Everything is deterministic for a given --seed (numpy SeedSequence streams).
"""
import argparse
import os
import sys

import numpy as np
import pandas as pd

DATA = "/work/shared/data/coil2000-ticdata/ticdata.csv"
ARMS = ["control", "email", "coupon10", "coupon20"]
MARGIN_RATE = {"control": 0.40, "email": 0.40, "coupon10": 0.30, "coupon20": 0.20}
VALUE_SIGMA = 0.5
VALUE_LEVEL = 8.0
N_SRC_MAX = 10000        # id stride for repeated copies
CUSTOMER_ID_BASE = 1000000


def load_covariates(path=DATA):
    d = pd.read_csv(path)
    d = d.drop(columns=["CARAVAN", "is_test"])
    d = d.rename(columns={"id": "customer_id"})
    return d


def n_policies(x):
    cols = list(x.columns)
    lo, hi = cols.index("AWAPART"), cols.index("ABYSTAND")
    return x[cols[lo:hi + 1]].sum(axis=1).to_numpy(dtype=float)


def features(x):
    """The named raw features the truth uses, as float arrays."""
    f = {k: x[c].to_numpy(dtype=float) for k, c in
         [("pp", "MKOOPKLA"), ("inc", "MINKGEM"), ("car", "PPERSAUT"), ("fire", "PBRAND"),
          ("age", "MGEMLEEF"), ("single", "MFALLEEN")]}
    f["npol"] = n_policies(x)
    return f


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


EFFECTS = "additive"      # or "interact" (--effects): see the module's docstring


def truth_logits(f):
    z0 = (-2.60 + 0.15 * (f["pp"] - 4) + 0.30 * (f["car"] >= 6) + 0.08 * (f["fire"] - 2)
          + 0.06 * (f["inc"] - 4))
    if EFFECTS == "interact":
        tau = {
            "control": np.zeros_like(z0),
            "email": (0.10 + 1.20 * ((f["age"] <= 1) & (f["single"] >= 3))
                      + 0.60 * ((f["age"] >= 3) & (f["fire"] >= 3)) - 1.20 * (f["npol"] >= 4)),
            "coupon10": 0.35 + 1.00 * ((f["inc"] <= 3) & (f["car"] == 0)) - 0.80 * (f["npol"] >= 5),
            "coupon20": (0.60 + 1.60 * ((f["inc"] <= 3) & (f["pp"] <= 3)) - 0.60 * (f["inc"] >= 6)
                         - 0.80 * (f["npol"] >= 5)),
        }
        return {a: z0 + tau[a] for a in ARMS}
    tau = {
        "control": np.zeros_like(z0),
        "email": (0.10 + 0.80 * (f["age"] <= 1) + 0.40 * (f["single"] >= 4)
                  + 0.05 * (f["fire"] - 2) - 1.20 * (f["npol"] >= 4)),
        "coupon10": (0.35 + 0.70 * (f["inc"] <= 3) + 0.35 * (f["car"] == 0)
                     - 0.80 * (f["npol"] >= 5)),
        "coupon20": (0.60 + 1.20 * (f["inc"] <= 3) + 0.60 * (f["pp"] <= 3)
                     - 0.60 * (f["inc"] >= 6) - 0.80 * (f["npol"] >= 5)),
    }
    return {a: z0 + tau[a] for a in ARMS}


def log_value_mean(f):
    return (np.log(VALUE_LEVEL) + 0.10 * (f["pp"] - 4) + 0.06 * (f["inc"] - 4)
            + 0.15 * (f["car"] >= 6))


def truth(x):
    """p_arm(x) and mu_arm(x) = E[margin | x, arm] for every row of x."""
    f = features(x)
    z = truth_logits(f)
    ev = np.exp(log_value_mean(f) + 0.5 * VALUE_SIGMA ** 2)
    p = {a: sigmoid(z[a]) for a in ARMS}
    mu = {a: p[a] * MARGIN_RATE[a] * ev for a in ARMS}
    return p, mu


def truth_table(x, p, mu):
    """truth.csv's columns for the rows of x: customer_id, mu_<arm>, p_<arm> (truth(x))."""
    tr = pd.DataFrame({"customer_id": x["customer_id"]})
    for a in ARMS:
        tr["mu_" + a] = mu[a]
    for a in ARMS:
        tr["p_" + a] = p[a]
    return tr


def logging_policy(x):
    f = features(x)
    s = np.column_stack([
        np.full(len(x), 0.5),
        0.3 + 0.3 * (f["age"] <= 1),
        0.1 * (f["inc"] - 4) - 0.2,
        0.35 * (f["inc"] - 4) - 0.4 + 0.3 * (f["pp"] >= 6),
    ])
    s -= s.max(axis=1, keepdims=True)
    e = np.exp(s)
    return 0.05 + 0.80 * e / e.sum(axis=1, keepdims=True)


def draw_rows(pool, n, rng, base):
    n_src = len(pool)
    if n <= n_src:
        idx = rng.choice(n_src, size=n, replace=False)
    else:
        idx = np.concatenate([rng.permutation(n_src), rng.integers(0, n_src, size=n - n_src)])
    out = pool.iloc[idx].reset_index(drop=True).copy()
    copy_no = pd.Series(idx).groupby(idx).cumcount().to_numpy()
    out["customer_id"] = base + copy_no * N_SRC_MAX + out["customer_id"].to_numpy()
    return out


def simulate_log(pool, n, ss):
    rng_rows, rng_arm, rng_y, rng_v = [np.random.default_rng(s) for s in ss.spawn(4)]
    x = draw_rows(pool, n, rng_rows, 0)
    pi = logging_policy(x)
    u = rng_arm.random(n)
    k = (u[:, None] > np.cumsum(pi, axis=1)).sum(axis=1)
    k = np.minimum(k, len(ARMS) - 1)
    p, _ = truth(x)
    f = features(x)
    parr = np.column_stack([p[a] for a in ARMS])[np.arange(n), k]
    conv = (rng_y.random(n) < parr).astype(int)
    basket = np.exp(log_value_mean(f) + VALUE_SIGMA * rng_v.standard_normal(n))
    rate = np.array([MARGIN_RATE[a] for a in ARMS])[k]
    log = x.copy()
    log["treatment"] = np.array(ARMS)[k]
    log["propensity"] = pi[np.arange(n), k]
    log["converted"] = conv
    log["margin"] = conv * rate * basket
    return log


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rows", type=int, default=20000, help="rows of the campaign log")
    ap.add_argument("--customers", type=int, default=10000, help="customers to plan for")
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--effects", choices=["additive", "interact"], default="additive",
                    help="the arms' effects on the logit: additive in the features (the "
                         "default), or turning on pairs of features (a check of models "
                         "that assume the first)")
    args = ap.parse_args(argv)
    global EFFECTS
    EFFECTS = args.effects
    if args.rows < 1 or args.customers < 1:
        sys.exit("uplift_gen: --rows and --customers must be >= 1")

    pool = load_covariates()
    ss_log, ss_cust = np.random.SeedSequence([args.seed, 20000]).spawn(2)
    log = simulate_log(pool, args.rows, ss_log)
    cust = draw_rows(pool, args.customers, np.random.default_rng(ss_cust), CUSTOMER_ID_BASE)
    p, mu = truth(cust)

    os.makedirs(args.out_dir, exist_ok=True)
    log.to_csv(os.path.join(args.out_dir, "log.csv"), index=False, float_format="%.6f")
    cust.to_csv(os.path.join(args.out_dir, "customers.csv"), index=False)
    truth_table(cust, p, mu).to_csv(os.path.join(args.out_dir, "truth.csv"), index=False,
                                    float_format="%.8f")
    truth_table(log, *truth(log)).to_csv(os.path.join(args.out_dir, "logtruth.csv"),
                                         index=False, float_format="%.8f")

    print("uplift_gen: seed %d: %d log rows, %d customers -> %s"
          % (args.seed, len(log), len(cust), args.out_dir))
    print("  log arms: %s" % log["treatment"].value_counts().reindex(ARMS).to_dict())
    print("  log conversion %.4f, mean margin %.4f, min propensity %.4f"
          % (log["converted"].mean(), log["margin"].mean(), log["propensity"].min()))
    gains = np.column_stack([mu[a] - mu["control"] for a in ARMS[1:]])
    print("  planning set: mean p_control %.4f; mean mu: %s" % (
        p["control"].mean(), {a: round(float(mu[a].mean()), 4) for a in ARMS}))
    print("  share of customers where each arm is best (gross of cost): %s; none positive %.3f"
          % ({a: round(float(np.mean(gains.argmax(axis=1) == i)), 3)
              for i, a in enumerate(ARMS[1:])}, float(np.mean(gains.max(axis=1) <= 0))))


if __name__ == "__main__":
    main()

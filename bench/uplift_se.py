#!/usr/bin/python3
"""Per-customer effects and their standard errors against the known truth of bench/uplift_gen.py.

Usage:
    /usr/bin/python3 bench/uplift_se.py --truth DIR/truth.csv --pred pred.csv [--control control]
        [--json out.json]

pred.csv: the output of `stratagem predict` on an uplift model (customer_id, effect_<arm>,
se_<arm>, ...); truth.csv: customer_id, mu_<arm>... (the TRUE expected outcome per arm).
Per arm, over the customers of both files: the correlation of predicted and true effects, the
slope of the true effect regressed on the predicted one (1 = the right spread, below 1 = the
predictions are spread too wide), the root mean squared error, the mean standard error, the
share of customers whose true effect lies in effect +- 1.645 se (a 90% interval if the standard
error were the whole error), and per fifth of the customers ordered by predicted effect the
mean predicted and mean true effect.
"""
import argparse
import json
import sys

import numpy as np
import pandas as pd


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--truth", required=True)
    ap.add_argument("--pred", required=True)
    ap.add_argument("--control", default="control")
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    tr = pd.read_csv(a.truth, dtype={"customer_id": str})
    pr = pd.read_csv(a.pred, dtype={"customer_id": str})
    m = tr.merge(pr, on="customer_id")
    if len(m) == 0:
        sys.exit("uplift_se: no customer_id in both files")
    arms = [c[len("effect_"):] for c in pr.columns if c.startswith("effect_")]
    out = {"customers": len(m), "arms": {}}
    print("arm\tcorr\tslope\trmse\tmean_se\tcover90\tfifths (predicted/true)")
    for arm in arms:
        t = (m["mu_" + arm] - m["mu_" + a.control]).to_numpy()
        e = m["effect_" + arm].to_numpy()
        s = m["se_" + arm].to_numpy()
        corr = float(np.corrcoef(t, e)[0, 1])
        ve = float(np.var(e))
        slope = float(np.cov(t, e, bias=True)[0, 1] / ve) if ve > 0 else float("nan")
        rmse = float(np.sqrt(np.mean((e - t) ** 2)))
        cover = float(np.mean(np.abs(e - t) <= 1.645 * s))
        order = np.argsort(e, kind="stable")
        fifths = [(float(e[idx].mean()), float(t[idx].mean())) for idx in np.array_split(order, 5)]
        out["arms"][arm] = {"corr": corr, "slope": slope, "rmse": rmse,
                            "mean_se": float(s.mean()), "cover90": cover, "fifths": fifths}
        print("%s\t%.3f\t%.3f\t%.4f\t%.4f\t%.3f\t%s" % (
            arm, corr, slope, rmse, s.mean(), cover,
            " ".join("%.3f/%.3f" % f for f in fifths)))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Which customers a plan misses, against the known truth of bench/uplift_gen.py.

Usage (after bench/uplift.sh has run a seed; SEEDS="1" BUDGET=50 bench/uplift.sh, say):
    /usr/bin/python3 bench/uplift_missed.py bench/out/uplift_s1 [STRATAGEM]

Reads DIR/ours.sgm, DIR/ours_plan.csv, DIR/customers.csv and DIR/truth.csv; runs
'stratagem predict' on the customers for every arm's predicted effect, then prints:
  - the arms of the best plan with as many contacts as ours, and of ours;
  - per arm we chose: mean predicted and true effect of the customers we gave it;
  - the best plan's customers we left out: how many, their true and predicted effects;
  - the email effect by the generator's email terms (age band <= 1, share of singles >= 4,
    4 or more policies): mean true and predicted effect per group;
  - what the log itself shows of the email terms: a logistic model of the log's conversions
    given exactly the generator's terms (its baseline terms, and per treatment arm an
    intercept and each arm's terms), its email coefficients beside the truth's. Where they
    are near the truth and the trees' effects are not, the log holds the effect and the
    learner misses it.
Effects are in margin (E[margin | arm] - E[margin | control]), before any cost.
"""
import os
import subprocess
import sys

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import uplift_gen  # noqa: E402

d = sys.argv[1]
sg = sys.argv[2] if len(sys.argv) > 2 else "build/stratagem"
pred_path = os.path.join(d, "ours_pred.csv")
subprocess.run([sg, "-q", "predict", "--model", os.path.join(d, "ours.sgm"), "--data",
                os.path.join(d, "customers.csv"), "--out", pred_path], check=True,
               stdout=subprocess.DEVNULL)
arms = ["email", "coupon10", "coupon20"]
cust = pd.read_csv(os.path.join(d, "customers.csv"))
feat = pd.DataFrame(uplift_gen.features(cust))
feat["customer_id"] = cust["customer_id"]
x = (pd.read_csv(os.path.join(d, "truth.csv"))
     .merge(pd.read_csv(pred_path), on="customer_id")
     .merge(pd.read_csv(os.path.join(d, "ours_plan.csv"))[["customer_id", "action"]],
            on="customer_id")
     .merge(feat, on="customer_id"))
for a in arms:
    x["true_" + a] = x["mu_" + a] - x["mu_control"]
t = np.stack([x["true_" + a] for a in arms], 1)
x["true_best"] = t.max(1)
x["best_arm"] = np.array(arms)[t.argmax(1)]
treated = x["action"] != "control"
k = int(treated.sum())
best = x.nlargest(k, "true_best")
print("contacts: %d" % k)
print("best plan's arms: %s" % best["best_arm"].value_counts().to_dict())
print("our arms:         %s" % x.loc[treated, "action"].value_counts().to_dict())
for a in arms:
    s = x[x["action"] == a]
    if len(s):
        print("we chose %-8s for %4d: predicted %.3f, true %.3f" %
              (a, len(s), s["effect_" + a].mean(), s["true_" + a].mean()))
miss = best[best["action"] == "control"]
print("best plan's customers we left out: %d, truly worth %.3f each" %
      (len(miss), miss["true_best"].mean()))
for a in arms:
    s = miss[miss["best_arm"] == a]
    if len(s):
        print("  best arm %-8s %4d: predicted %.3f, true %.3f" %
              (a, len(s), s["effect_" + a].mean(), s["true_" + a].mean()))
x["young"] = x["age"] <= 1
x["single4"] = x["single"] >= 4
x["npol4"] = x["npol"] >= 4
g = (x.groupby(["young", "single4", "npol4"])
     .agg(n=("true_email", "size"), true=("true_email", "mean"),
          predicted=("effect_email", "mean")))
print("email effect by the generator's email terms:")
print(g.round(3).to_string())

log = pd.read_csv(os.path.join(d, "log.csv"))
f = uplift_gen.features(log)
treat = log["treatment"].to_numpy()
terms = np.column_stack([np.ones(len(log)), f["age"] <= 1, f["single"] >= 4, f["fire"] - 2,
                         f["npol"] >= 4, f["inc"] <= 3, f["car"] == 0, f["npol"] >= 5,
                         f["pp"] <= 3, f["inc"] >= 6]).astype(float)
design = np.hstack([np.column_stack([f["pp"] - 4, f["car"] >= 6, f["fire"] - 2, f["inc"] - 4])]
                   + [(treat == a)[:, None] * terms for a in arms]).astype(float)
fit = LogisticRegression(C=1e4, max_iter=5000).fit(design, log["converted"].to_numpy())
print("email terms on the log's conversions (logit), given the generator's terms:")
print("  term:        1      age<=1  single>=4  fire-2  npol>=4")
print("  fitted: " + "  ".join("%7.2f" % v for v in fit.coef_[0][4:9]))
print("  truth:     0.10    0.80     0.40     0.05    -1.20")

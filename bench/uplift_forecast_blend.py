#!/usr/bin/python3
"""Would another point forecast do better than the model's sum?  Reads the files
bench/uplift.sh leaves per seed (bench/out/uplift_sSEED/ours_plan.json and
ours_score.json, one budget per run) and prints, over the seeds, the mean and sd of
forecast net / true net and how often it is within 10% of the truth for:
  current      what `plan` forecasts (the model's sum where the log's 99% interval holds it)
  log          the log's doubly robust value of the plan's rule alone
  blend        the two weighted by their precision: the log's se (from its 90% interval)
               and the model's (model_se, the fold models' spread)
  shrink T     the model's sum moved toward the log's value by k = (T M)^2 / ((T M)^2 + se_log^2),
               a normal prior of sd T (relative) on the model's bias
Usage: BUDGET=50 SEEDS="$(seq 1 60)" bench/uplift.sh
       /usr/bin/python3 bench/uplift_forecast_blend.py $(seq 1 60)
"""
import json
import os
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")
rows = []
for seed in sys.argv[1:]:
    d = os.path.join(OUT, "uplift_s%s" % seed, "")
    f = json.load(open(d + "ours_plan.json"))["forecast"]
    s = json.load(open(d + "ours_score.json"))
    se_log = (f["log_effect_hi"] - f["log_effect_lo"]) / (2 * 1.645)
    rows.append((f["effect"], f["naive_effect"], f["log_effect"], se_log, f["model_se"],
                 f["cost"], s["plan_true_net"] + f["cost"]))
F, M, L, sl, sm, cost, T = np.array(rows).T


def show(name, eff):
    r = (eff - cost) / (T - cost)
    print("%-12s forecast / true net %.3f (sd %.3f), within 10%% on %d of %d"
          % (name, r.mean(), r.std(ddof=1), int(np.sum(np.abs(r - 1) <= 0.1)), len(r)))


show("current", F)
show("log", L)
w = sl ** 2 / (sl ** 2 + sm ** 2)
show("blend", w * M + (1 - w) * L)
for tau in (0.05, 0.1, 0.2):
    k = (tau * M) ** 2 / ((tau * M) ** 2 + sl ** 2)
    show("shrink %.2f" % tau, M + k * (L - M))

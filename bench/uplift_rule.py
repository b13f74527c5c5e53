#!/usr/bin/python3
"""Where a plan's forecast error comes from, on bench/uplift.sh's campaigns (known truth).

Usage (after `BUDGET=B SEEDS="..." bench/uplift.sh` with the default ROWS and CUSTOMERS,
whose outputs in bench/out/uplift_sSEED it reads):
    /usr/bin/python3 bench/uplift_rule.py B SEED...

The interval of `stratagem plan`'s forecast (and its point where the model's own sum falls
outside it: forecast.basis "log") is the doubly robust value of the plan's rule replayed on
the training log: the same solver on the log rows' out-of-fold effects, the budget scaled
to the log's size (uplift_plan.c).  It can miss the plan's true value for two reasons, and
this script separates them per seed, scaled to the plan's 10,000 customers:
  * the replayed rule is worth a different amount per row than the plan per customer
    (the out-of-fold effects average fewer fold models than the plan's): "rule true / plan
    true", from the TRUE outcome means of bench/uplift_gen.py on both;
  * the doubly robust estimate of the rule's value carries the log's outcome noise:
    "DR / rule true" (bench/uplift_floor.py gives that noise's size for the best plan).
The rule is rebuilt from the model file by bench/bench_uplift_replay.c (compiled here
against build/, as bench/uplift_replay.sh does); its DR value must equal forecast.log_effect
in ours_plan.json, and the script checks it.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import uplift_gen as ug  # noqa: E402

BUILD = os.environ.get("BUILD", "build")
EXE = "bench/out/uplift_rule/bench_uplift_replay"


def build():
    os.makedirs(os.path.dirname(EXE), exist_ok=True)
    subprocess.run(["cc", "-std=c11", "-O2", "-Iinclude", "bench/bench_uplift_replay.c",
                    f"{BUILD}/libstratagem.a", "-lopenblas", "-lsqlite3", "-lpq", "-ljansson",
                    "-lpng", "-lz", "-lm", "-lpthread", "-fopenmp", "-o", EXE],
                   check=True)


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: bench/uplift_rule.py BUDGET SEED...")
    budget = float(sys.argv[1])
    build()
    arm = {a: k for k, a in enumerate(ug.ARMS)}
    print("seed\tplan_true\trule_true\trule/plan\tforecast_dr\tdr/rule")
    ratios, drs = [], []
    for s in sys.argv[2:]:
        d = f"bench/out/uplift_s{s}"
        log = pd.read_csv(f"{d}/log.csv")
        fc = json.load(open(f"{d}/ours_plan.json"))
        if abs(fc["budget"] - budget) > 1e-9:
            sys.exit(f"uplift_rule: {d} holds a plan for budget {fc['budget']}, not {budget}")
        n_cust = fc["customers"]
        r = subprocess.run([EXE, f"{d}/ours.sgm", str(budget * len(log) / n_cust), "0.10"],
                           capture_output=True, text=True, check=True)
        rule = pd.read_csv(pd.io.common.StringIO(r.stdout))
        pol = np.zeros(len(log), dtype=int)
        pol[rule["row"].to_numpy()] = rule["action"].map(arm).to_numpy()
        _, mu = ug.truth(log.drop(columns=["treatment", "propensity", "converted", "margin"]))
        m = np.column_stack([mu[a] for a in ug.ARMS])
        i = np.arange(len(log))
        rule_true = np.where(pol > 0, m[i, pol] - m[i, 0], 0.0).sum() * n_cust / len(log)
        # the plan's true effect on its customers
        tr = pd.read_csv(f"{d}/truth.csv").set_index("customer_id")
        plan = pd.read_csv(f"{d}/ours_plan.csv")
        on = plan[plan["action"] != fc["control"]]
        plan_true = sum(tr.at[c, "mu_" + a] - tr.at[c, "mu_control"]
                        for c, a in zip(on["customer_id"], on["action"]))
        dr_line = [ln for ln in r.stderr.splitlines() if "doubly robust" in ln][0]
        dr = float(dr_line.split("doubly robust ")[1].split(",")[0]) * n_cust
        # the log's value (the point forecast may be the model's sum: forecast.basis)
        log_eff = fc["forecast"].get("log_effect", fc["forecast"]["effect"])
        if abs(dr - log_eff) > 1e-3 * max(1.0, abs(dr)):
            sys.exit(f"uplift_rule: seed {s}: replayed DR {dr:.3f} is not the forecast's "
                     f"log value {log_eff:.3f}")
        ratios.append(rule_true / plan_true)
        drs.append(dr / rule_true)
        print(f"{s}\t{plan_true:.1f}\t{rule_true:.1f}\t{ratios[-1]:.3f}\t{dr:.1f}\t{drs[-1]:.3f}")
    print(f"mean\t\t\t{np.mean(ratios):.3f}\t\t{np.mean(drs):.3f} (sd {np.std(drs, ddof=1):.3f})"
          if len(drs) > 1 else "")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Sum a plan's predicted net with another model's effects (a helper of uplift_cross_sum.sh).

Usage:
    /usr/bin/python3 bench/uplift_cross_sum.py PLAN.csv PRED_RANK.csv PRED_SUM.csv COST TRUE_NET

PLAN.csv is `plan` output (customer_id, action, ...); the PRED files are `predict` output of
the model that made the plan and of another model (effect_<arm> columns); COST is the cost of
a contact (equal for every arm); TRUE_NET the plan's true net value. Prints one line: the
true net, each model's sum of the plan's predicted net (effect - cost over its contacts), and
each sum over the truth.
"""
import sys

import pandas as pd


def plan_sum(plan, pred, cost):
    p = pred.set_index("customer_id")
    return sum(p.at[c, "effect_" + a] - cost for c, a in zip(plan["customer_id"], plan["action"]))


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    plan = pd.read_csv(sys.argv[1], dtype={"customer_id": str})
    plan = plan[plan["action"] != "control"]
    rank = pd.read_csv(sys.argv[2], dtype={"customer_id": str})
    other = pd.read_csv(sys.argv[3], dtype={"customer_id": str})
    cost, true = float(sys.argv[4]), float(sys.argv[5])
    sr, so = plan_sum(plan, rank, cost), plan_sum(plan, other, cost)
    print("%.2f\t%.2f\t%.2f\t%.4f\t%.4f" % (true, sr, so, sr / true, so / true))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Score a budgeted multi-arm plan against the known truth of bench/uplift_gen.py.

Usage:
    /usr/bin/python3 bench/uplift_truth.py --truth DIR/truth.csv --plan plan.csv --budget 200 \
        --cost email=0.10,coupon10=0.10,coupon20=0.10 [--forecast plan.json] [--json out.json] \
        [--write-best best.csv]

plan.csv: a header with at least `customer_id,action`; one row per customer at most; action is an
arm of truth.csv (`mu_<arm>` columns) or the control label (--control, default `control`).
Customers of truth.csv missing from the plan get control.

Value of a plan (TRUE, in expectation, from truth.csv):
    net = sum over treated customers i of  mu_arm(i) - mu_control(i) - cost_arm
The best achievable under the same budget is a multiple-choice knapsack (one option per customer,
sum of costs <= budget). It is solved by the Lagrangian / greedy method: for each customer the
upper concave hull of its options (cost, net) starting from control (0, 0); all hull increments
are sorted by net gain per unit of cost (sweeping the Lagrange multiplier lambda downwards) and
taken while they fit (an increment is skipped, together with that customer's later increments,
when it does not fit). This is exact when all contacts cost the same (it then takes the
floor(budget / cost) customers with the largest positive best net gain); in general it is within
one item of the LP bound, which is printed too.

Forecast JSON (optional): {"forecast": {"net": F, "net_lo": L, "net_hi": H}}: prints the error
F - truth, the ratio F / truth and whether [L, H] (meant as a 90% interval) covers the truth.
Exit status: 0, or 1 when the plan is infeasible (budget exceeded, duplicate customer, unknown
customer or action), 2 on bad arguments.
"""
import argparse
import json
import sys

import numpy as np
import pandas as pd


def parse_cost(text, arms, control):
    cost = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise ValueError("--cost: expected ARM=C, got '%s'" % part)
        k, v = part.split("=", 1)
        k = k.strip()
        if k not in arms or k == control:
            raise ValueError("--cost: '%s' is not a treatment arm (arms: %s)"
                             % (k, ", ".join(a for a in arms if a != control)))
        cost[k] = float(v)
        if not np.isfinite(cost[k]) or cost[k] < 0:
            raise ValueError("--cost: cost of '%s' must be >= 0" % k)
    missing = [a for a in arms if a != control and a not in cost]
    if missing:
        raise ValueError("--cost: no cost given for %s" % ", ".join(missing))
    return cost


def read_truth(path, control):
    tr = pd.read_csv(path, dtype={"customer_id": str})
    arms = [c[3:] for c in tr.columns if c.startswith("mu_")]
    if control not in arms:
        raise ValueError("%s: no mu_%s column" % (path, control))
    if tr["customer_id"].duplicated().any():
        raise ValueError("%s: duplicate customer_id" % path)
    return tr, arms


def net_matrix(tr, arms, control, cost):
    """(n, A) net gains and (A,) costs of the treatment arms (control excluded)."""
    treat = [a for a in arms if a != control]
    mu_c = tr["mu_" + control].to_numpy(dtype=float)
    gain = np.column_stack([tr["mu_" + a].to_numpy(dtype=float) - mu_c - cost[a]
                            for a in treat])
    return treat, gain, np.array([cost[a] for a in treat])


def hull_increments(gain_row, costs):
    """Upper concave hull of {(0,0)} + {(c_a, g_a)}: list of (arm_index, d_cost, d_gain)."""
    pts = [(0.0, 0.0, -1)]
    for a in np.argsort(costs, kind="stable"):
        if gain_row[a] > 0:
            pts.append((float(costs[a]), float(gain_row[a]), int(a)))
    # best option at each cost level; keep only strictly increasing gain along cost
    best = {}
    for c, g, a in pts:
        if c not in best or g > best[c][1]:
            best[c] = (c, g, a)
    pts = sorted(best.values())
    mono = []
    for p in pts:
        if not mono or p[1] > mono[-1][1]:
            mono.append(p)
    hull = []
    for p in mono:
        while len(hull) >= 2:
            (c1, g1, _), (c2, g2, _) = hull[-2], hull[-1]
            # drop hull[-1] if it lies on or under the segment hull[-2] -> p
            if (g2 - g1) * (p[0] - c1) <= (p[1] - g1) * (c2 - c1):
                hull.pop()
            else:
                break
        hull.append(p)
    incs = []
    if hull[0][2] != -1:           # a free arm with a positive gain: a zero-cost first step
        incs.append((hull[0][2], 0.0, hull[0][1]))
    incs += [(hull[k][2], hull[k][0] - hull[k - 1][0], hull[k][1] - hull[k - 1][1])
             for k in range(1, len(hull))]
    return incs


def best_plan(gain, costs, budget):
    """Greedy over hull increments. Returns (choice per customer (-1 = control), value,
    spent, lp_bound, lambda)."""
    n = gain.shape[0]
    incs = []                      # (slope, customer, step, arm, dc, dg)
    for i in range(n):
        for step, (a, dc, dg) in enumerate(hull_increments(gain[i], costs)):
            slope = np.inf if dc == 0 else dg / dc
            incs.append((slope, i, step, a, dc, dg))
    incs.sort(key=lambda t: (-t[0], t[1], t[2]))
    choice = np.full(n, -1)
    next_step = np.zeros(n, dtype=int)
    blocked = np.zeros(n, dtype=bool)
    spent = value = 0.0
    lam = np.inf
    lp, lp_left, lp_done = 0.0, float(budget), False
    for slope, i, step, a, dc, dg in incs:
        if not lp_done:
            if dc <= lp_left + 1e-12:
                lp += dg
                lp_left -= dc
            else:
                lp += dg * lp_left / dc
                lp_done = True
        if blocked[i] or step != next_step[i]:
            blocked[i] = True
            continue
        if spent + dc <= budget + 1e-9:
            spent += dc
            value += dg
            choice[i] = a
            next_step[i] += 1
            lam = slope
        else:
            blocked[i] = True
    return choice, value, spent, lp, lam


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--truth", required=True)
    ap.add_argument("--plan", required=True)
    ap.add_argument("--budget", type=float, required=True)
    ap.add_argument("--cost", required=True, help="ARM=C,... for every treatment arm")
    ap.add_argument("--control", default="control")
    ap.add_argument("--forecast", help="plan JSON with forecast.net, net_lo, net_hi")
    ap.add_argument("--json", help="write the scores to this JSON file")
    ap.add_argument("--write-best", help="write the best achievable plan to this CSV")
    args = ap.parse_args(argv)

    try:
        tr, arms = read_truth(args.truth, args.control)
        cost = parse_cost(args.cost, arms, args.control)
    except (ValueError, OSError) as e:
        print("uplift_truth: %s" % e, file=sys.stderr)
        return 2
    treat, gain, costs = net_matrix(tr, arms, args.control, cost)
    n = len(tr)

    plan = pd.read_csv(args.plan, dtype=str, keep_default_na=False)
    problems = []
    for col in ("customer_id", "action"):
        if col not in plan.columns:
            print("uplift_truth: %s: no '%s' column" % (args.plan, col), file=sys.stderr)
            return 2
    plan["customer_id"] = plan["customer_id"].str.strip()
    plan["action"] = plan["action"].str.strip()
    dup = plan["customer_id"].duplicated()
    if dup.any():
        problems.append("%d duplicate customer rows (first: %s)"
                        % (dup.sum(), plan.loc[dup, "customer_id"].iloc[0]))
    bad_act = ~plan["action"].isin(arms)
    if bad_act.any():
        problems.append("%d unknown actions (first: '%s')"
                        % (bad_act.sum(), plan.loc[bad_act, "action"].iloc[0]))
    pos = pd.Series(np.arange(n), index=tr["customer_id"])
    known = plan["customer_id"].isin(pos.index)
    if (~known).any():
        problems.append("%d unknown customers (first: %s)"
                        % ((~known).sum(), plan.loc[~known, "customer_id"].iloc[0]))

    ok = plan[known & ~bad_act & ~dup]
    arm_idx = {a: k for k, a in enumerate(treat)}
    choice = np.full(n, -1)
    rows = pos[ok["customer_id"]].to_numpy()
    acts = ok["action"].to_numpy()
    for r, a in zip(rows, acts):
        if a != args.control:
            choice[r] = arm_idx[a]
    treated = choice >= 0
    spent = float(costs[choice[treated]].sum())
    if spent > args.budget + 1e-9:
        problems.append("cost %.4f exceeds the budget %.4f" % (spent, args.budget))
    value = float(gain[np.arange(n)[treated], choice[treated]].sum())
    p_c = tr["p_" + args.control].to_numpy() if ("p_" + args.control) in tr else None
    conv = None
    if p_c is not None:
        pmat = np.column_stack([tr["p_" + a].to_numpy() - p_c for a in treat])
        conv = float(pmat[np.arange(n)[treated], choice[treated]].sum())

    best_choice, best, best_spent, lp, lam = best_plan(gain, costs, args.budget)
    share = value / best if best > 0 else float("nan")
    # simple baselines: best single arm given to a random subset within budget (expected value)
    rand = {}
    for k, a in enumerate(treat):
        m = int(min(n, np.floor(args.budget / costs[k] + 1e-9))) if costs[k] > 0 else n
        rand[a] = float(gain[:, k].mean() * m)

    out = {
        "customers": n, "budget": args.budget, "cost": cost,
        "feasible": not problems, "problems": problems,
        "plan_contacts": {a: int((choice == k).sum()) for k, a in enumerate(treat)},
        "plan_spent": spent, "plan_true_net": value, "plan_true_incr_conversions": conv,
        "best_net": best, "best_spent": best_spent, "best_lp_bound": lp,
        "best_lambda": lam if np.isfinite(lam) else None,
        "best_contacts": {a: int((best_choice == k).sum()) for k, a in enumerate(treat)},
        "share_of_best": share,
        "random_in_budget_net": rand,
    }
    print("uplift_truth: %d customers, budget %.4g, cost %s" % (n, args.budget, cost))
    print("  feasible:            %s%s" % ("yes" if not problems else "NO: ",
                                          "; ".join(problems)))
    print("  plan contacts:       %s (spent %.4f)" % (out["plan_contacts"], spent))
    print("  plan TRUE net value: %.4f%s" % (value, "" if conv is None else
                                             "  (incremental conversions %.2f)" % conv))
    print("  best achievable:     %.4f (spent %.4f, LP bound %.4f, contacts %s)"
          % (best, best_spent, lp, out["best_contacts"]))
    print("  share of best:       %.4f" % share)
    print("  random in budget:    %s" % {a: round(v, 4) for a, v in rand.items()})
    if args.forecast:
        with open(args.forecast) as fh:
            fc = json.load(fh)["forecast"]
        f, lo, hi = float(fc["net"]), fc.get("net_lo"), fc.get("net_hi")
        out["forecast_net"] = f
        out["forecast_error"] = f - value
        out["forecast_ratio"] = f / value if value != 0 else None
        print("  forecast net:        %.4f  error %+.4f  ratio %s"
              % (f, f - value, "n/a" if value == 0 else "%.3f" % (f / value)))
        if lo is not None and hi is not None:
            cov = float(lo) <= value <= float(hi)
            out["forecast_interval"] = [float(lo), float(hi)]
            out["forecast_covers"] = cov
            print("  forecast interval:   [%.4f, %.4f] covers truth: %s"
                  % (float(lo), float(hi), "yes" if cov else "NO"))
    if args.write_best:
        pd.DataFrame({"customer_id": tr["customer_id"],
                      "action": np.where(best_choice >= 0,
                                         np.array(treat)[np.maximum(best_choice, 0)],
                                         args.control)}).to_csv(args.write_best, index=False)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# budget.sh -- media-mix benchmark with known truth on a real weekly series:
# ours (train budget + plan budget) against a common analyst's peer
# (scikit-learn regression of sales on spends + greedy fill), both scored
# against the truth by 'stratagem world budget-score'.
#
# The baseline is Dominick's orange-juice chain: 121 weeks of total units (real
# promotions, prices and seasons; scripts/oj-weekly.sh).  For each seed,
# 'stratagem world budget' adds four channels with known curves (tv in flights,
# S-shaped, long carry-over; search following demand; social; display) and a
# demand index 'queries'.  Both sides see the same series and controls
# (queries, price, deal, feat, a 52-week season) and plan the next 13 weeks at
# three budgets: a cut (1,200 a week, below the ~1,670 the series spends), a
# rise (2,000) and an expansion (3,000), within the spends each channel has
# seen.  Also: a holdout check (fit on the first 108 weeks, forecast the last
# 13 from their spends) for both.
#
# A second peer, bench/budget_peer_curves.py, fits stratagem's own curve form by plain
# least squares (scipy, no prior, no bootstrap) and splits with the same exact search.
#
# Usage: bench/budget.sh                 seeds 1 2 3
#        SEEDS="$(seq 1 10)" bench/budget.sh
# Knobs: SEEDS, BUDGETS (per week, default "1200 2000 3000"), CONTROLS (the
#        model's controls, default queries,price,deal,feat: without queries,
#        search's demand is left to confound it), TRAIN_OPTS, STRATAGEM (default
#        build/stratagem).
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-"1 2 3"}
BUDGETS=${BUDGETS:-"1200 2000 3000"}
TRAIN_OPTS=${TRAIN_OPTS:-}
CONTROLS=${CONTROLS:-queries,price,deal,feat}
S=${STRATAGEM:-build/stratagem}
PY=/usr/bin/python3
WEEKS=13
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
[ -x "$S" ] || { echo "budget.sh: $S not found; run 'make' first" >&2; exit 1; }
OJ="$(scripts/fetch-data.sh bayesm-orangejuice)"
W=bench/out/budget
mkdir -p "$W"
scripts/oj-weekly.sh "$OJ" "$W/oj_weekly.csv"
FIT="--period week --outcome sales --channels tv,search,social,display --controls $CONTROLS --season 52"
res=bench/out/budget_results.tsv
printf "seed\tweek_budget\tour_share\tour_forecast_over_truth\tour_covered\tour_true_gain_over_mix\tmix_forecast_over_truth\tpeer_share\tpeer_forecast_over_truth\tcurves_share\tcurves_forecast_over_truth\n" > "$res"
hold=bench/out/budget_holdout.tsv
printf "seed\tour_rmse\tour_mape\tour_covered\tour_total_ratio\tpeer_rmse\ttrain_s\n" > "$hold"
score() { "$S" world budget-score --truth "$1" --summary "$2" --json |
    $PY -c 'import json,sys; d=json.load(sys.stdin); f=d["forecast_over_truth"]; c=d["covered"]
print("%.4f\t%.4f\t%s\t%.1f\t%.4f" % (d["share"], f, "-" if c is None else int(c),
      d["true_effect"] - d["mix_true_effect"], d["mix_forecast"] / d["mix_true_effect"]))'; }
# shellcheck disable=SC2086
for seed in $SEEDS; do
    d="$W/s$seed"
    mkdir -p "$d"
    "$S" -q world budget --baseline "$W/oj_weekly.csv" --period week --outcome units \
        --keep price,deal,feat --seed "$seed" --out "$d/series.csv" --truth "$d/truth.json"
    head -109 "$d/series.csv" > "$d/first.csv"
    { head -1 "$d/series.csv"; tail -13 "$d/series.csv"; } > "$d/last.csv"
    t0=$(date +%s.%N)
    "$S" -q train budget --data "$d/series.csv" $FIT $TRAIN_OPTS --out "$d/m.sgm" > "$d/train.txt"
    t1=$(date +%s.%N)
    "$S" -q train budget --data "$d/first.csv" $FIT $TRAIN_OPTS --out "$d/m108.sgm" > /dev/null
    "$S" -q evaluate --model "$d/m108.sgm" --data "$d/last.csv" --json > "$d/holdout.json"
    $PY bench/budget_peer.py "$d/series.csv" 1000 $WEEKS "$d/peer_hold.json" --holdout 13 --controls "$CONTROLS"
    $PY - "$seed" "$d/holdout.json" "$d/peer_hold.json" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" >> "$hold" <<'PYEOF'
import json, sys
o, p = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
print("%s\t%.1f\t%.4f\t%d\t%.4f\t%.1f\t%.2f" % (sys.argv[1], o["rmse"], o["mape"], o["covered"],
      o["total_hat"] / o["total"], p["holdout_rmse"], float(sys.argv[4])))
PYEOF
    totals=""
    for b in $BUDGETS; do totals="$totals $((b * WEEKS))"; done
    # shellcheck disable=SC2086
    $PY bench/budget_peer_curves.py "$d/series.csv" $WEEKS "$d/curves" $totals --controls "$CONTROLS" \
        --seed "$seed" 2> /dev/null
    for b in $BUDGETS; do
        B=$((b * WEEKS))
        "$S" -q plan budget --model "$d/m.sgm" --budget "$B" --weeks $WEEKS \
            --out "$d/plan$b.csv" --summary "$d/plan$b.json" > "$d/plan$b.txt"
        $PY bench/budget_peer.py "$d/series.csv" "$B" $WEEKS "$d/peer$b.json" --controls "$CONTROLS"
        ours=$(score "$d/truth.json" "$d/plan$b.json")
        peer=$(score "$d/truth.json" "$d/peer$b.json" | cut -f1,2)
        curves=$(score "$d/truth.json" "$d/curves$B.json" | cut -f1,2)
        printf "%s\t%s\t%s\t%s\t%s\n" "$seed" "$b" "$ours" "$peer" "$curves" >> "$res"
    done
done
$PY - "$res" "$hold" "$W" $SEEDS <<'PYEOF'
import csv, json, sys
import numpy as np
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
print("budget.sh: plans for the next 13 weeks, true effect as a share of the best split (grid of 400)")
print("week budget  seeds  ours: share (min)  forecast/truth (sd)  covered  |  peer: share (min)  forecast/truth   ratio  |  curves peer: share (min)  forecast/truth (sd)")
for b in sorted({r[1] for r in rows}, key=float):
    R = [r for r in rows if r[1] == b]
    os_, of = np.array([float(r[2]) for r in R]), np.array([float(r[3]) for r in R])
    ps, pf = np.array([float(r[7]) for r in R]), np.array([float(r[8]) for r in R])
    cs, cf = np.array([float(r[9]) for r in R]), np.array([float(r[10]) for r in R])
    cov = sum(r[4] == "1" for r in R)
    print("%11s  %5d  %.3f (%.3f)      %.3f (%.3f)        %d/%d    |  %.3f (%.3f)       %.3f          %.2f   |  %.3f (%.3f)               %.3f (%.3f)"
          % (b, len(R), os_.mean(), os_.min(), of.mean(), of.std(), cov, len(R), ps.mean(), ps.min(),
             pf.mean(), os_.mean() / ps.mean(), cs.mean(), cs.min(), cf.mean(), cf.std()))
for b in sorted({r[1] for r in rows}, key=float):
    R = [r for r in rows if r[1] == b]
    g, mf = np.array([float(r[5]) for r in R]), np.array([float(r[6]) for r in R])
    print("%11s  ours against the current mix (true effects): %+.0f on average, higher on %d of %d;"
          " the current mix's forecast / truth %.3f" % (b, g.mean(), (g > 0).sum(), len(R), mf.mean()))
H = [l.rstrip("\n").split("\t") for l in open(sys.argv[2])][1:]
if H:
    a = np.array([[float(x) for x in h[1:]] for h in H])
    print("holdout (fit on weeks 1-108, the last 13 forecast from their spends), mean over %d seeds:" % len(H))
    print("  ours: RMSE %.0f, MAPE %.2f%%, weeks inside the 90%% interval %.1f of 13, total forecast/actual %.3f"
          % (a[:, 0].mean(), 100 * a[:, 1].mean(), a[:, 2].mean(), a[:, 3].mean()))
    print("  peer: RMSE %.0f (ratio peer/ours %.2f); train budget %.2f s per fit (121 weeks, 100 draws)"
          % (a[:, 4].mean(), a[:, 4].mean() / a[:, 0].mean(), a[:, 5].mean()))
# each channel's return over the series: ours (the draws' mean, train budget's
# output) against the truth's
ratios = {}
for seed in sys.argv[4:]:
    d = "%s/s%s" % (sys.argv[3], seed)
    tr = json.load(open(d + "/truth.json"))
    rows = list(csv.DictReader(open(d + "/series.csv")))
    est = {l.split("\t")[0]: float(l.split("\t")[6].split()[0]) for l in open(d + "/train.txt")
           if l.split("\t")[0] in ("tv", "search", "social", "display")}
    for c in tr["channels"]:
        x = [float(r[c["name"]]) for r in rows]
        a = sum(x) / len(x) / (1 - c["lambda"])
        tot = 0.0
        for v in x:
            a = v + c["lambda"] * a
            q = (a / c["k"]) ** c["alpha"]
            tot += c["beta"] * q / (1 + q)
        ratios.setdefault(c["name"], []).append((est[c["name"]], tot / sum(x)))
print("return over the series, ours (draws' mean) / truth, mean over seeds:",
      ", ".join("%s %.2f / %.2f" % (k, np.mean([e for e, _ in v]), np.mean([t for _, t in v]))
                for k, v in ratios.items()))
PYEOF

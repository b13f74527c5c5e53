#!/usr/bin/env bash
# promo.sh -- promotion-plan benchmark with known truth on Dominick's orange
# juice: ours (train promo + plan promo) against a common analyst's peer
# (scikit-learn regression per brand + greedy), both scored against the truth.
#
# For each seed, bench/promo_world.py fits the truth to the real panel (weeks up
# to CUT) and simulates units for its rows (the real prices, deals and
# features); stratagem trains on the simulated panel and plans the next week
# for every store x brand; the peer does the same from the same panel; both
# plans are valued under the truth, beside the best plan the truth allows with
# the same options, fees, budget and per-store limit.
#
# Usage: bench/promo.sh                 seeds 1 2 3
#        SEEDS="$(seq 1 10)" bench/promo.sh
# Knobs: SEEDS, CUT (136), PLAN_OPTS (the plan's options, below), TRAIN_OPTS,
#        STRATAGEM (default build/stratagem).
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-"1 2 3"}
CUT=${CUT:-136}
PLAN_OPTS=${PLAN_OPTS:-"--changes -20,-10,0,5,10 --deal-cost 20 --feature-cost 300 --budget 30000 --max-promos 2"}
TRAIN_OPTS=${TRAIN_OPTS:-}
S=${STRATAGEM:-build/stratagem}
PY=/usr/bin/python3
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX
fi
[ -x "$S" ] || { echo "promo.sh: $S not found; run 'make' first" >&2; exit 1; }
OJ="$(scripts/fetch-data.sh bayesm-orangejuice)"
W=bench/out/promo
mkdir -p "$W"
scripts/oj-panel.sh "$OJ" "$CUT" "$W"
res=bench/out/promo_results.tsv
printf "seed\tbest_lift\tour_true\tour_share\tour_forecast\tour_lo\tour_hi\tour_ratio\tour_covers\tour_uncorrected\tour_s\tpeer_true\tpeer_share\tpeer_forecast\tpeer_ratio\tpeer_s\n" > "$res"
# shellcheck disable=SC2086
for seed in $SEEDS; do
    d="$W/s$seed"
    mkdir -p "$d"
    $PY bench/promo_world.py make "$W/oj_train.csv" "$W/oj_items.csv" "$seed" "$d"
    t0=$(date +%s.%N)
    "$S" -q train promo --data "$d/sim_train.csv" --store store --product brand --week week \
        --units units --price price --deal deal --feature feat --cost cost --seed "$seed" \
        $TRAIN_OPTS --out "$d/m.sgm" > "$d/train.txt"
    "$S" -q plan promo --model "$d/m.sgm" --data "$d/items.csv" $PLAN_OPTS --seed "$seed" \
        --out "$d/plan.csv" --summary "$d/plan.json" > "$d/plan.txt"
    t1=$(date +%s.%N)
    ours=$($PY bench/promo_world.py score "$d" "$d/plan.csv" "$d/plan.json" $PLAN_OPTS)
    best=$($PY bench/promo_world.py best "$d" $PLAN_OPTS)
    peer=$($PY bench/promo_world.py peer "$d" $PLAN_OPTS --out "$d/peer.csv")
    peer_true=$($PY bench/promo_world.py score "$d" "$d/peer.csv" - $PLAN_OPTS)
    $PY - "$seed" "$ours" "$best" "$peer" "$peer_true" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" >> "$res" <<'PYEOF'
import json, sys
seed, o, b, p, pt, secs = sys.argv[1], *map(json.loads, sys.argv[2:6]), float(sys.argv[6])
bl = b["best_lift"]
cov = int(o["lo"] <= o["true_lift"] <= o["hi"])
print("%s\t%.0f\t%.0f\t%.3f\t%.0f\t%.0f\t%.0f\t%.3f\t%d\t%.0f\t%.1f\t%.0f\t%.3f\t%.0f\t%.3f\t%.1f" % (
    seed, bl, o["true_lift"], o["true_lift"] / bl, o["forecast_lift"], o["lo"], o["hi"],
    o["forecast_lift"] / o["true_lift"], cov, o["uncorrected"], secs, pt["true_lift"],
    pt["true_lift"] / bl, p["forecast_lift"], p["forecast_lift"] / pt["true_lift"], p["seconds"]))
PYEOF
    tail -1 "$res"
done
echo
cat "$res"
$PY - "$res" <<'PYEOF'
import sys
import numpy as np
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
h, r = rows[0], np.array(rows[1:], float)
c = {k: r[:, i] for i, k in enumerate(h)}
n = len(r)
print("\n%d seeds: our plan's true lift %.3f of the best (min %.3f); forecast / truth %.3f "
      "(sd %.3f); 90%% interval covers the truth %d of %d" % (n, c["our_share"].mean(),
      c["our_share"].min(), c["our_ratio"].mean(), c["our_ratio"].std(), c["our_covers"].sum(), n))
print("peer: %.3f of the best; its forecast / truth %.3f; ratio ours / peer %.2f" % (
    c["peer_share"].mean(), c["peer_ratio"].mean(), c["our_share"].mean() / c["peer_share"].mean()))
print("time: ours %.1f s (train + plan), peer %.1f s per seed" % (c["our_s"].mean(), c["peer_s"].mean()))
PYEOF

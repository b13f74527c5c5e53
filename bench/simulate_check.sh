#!/bin/bash
# The customer simulator's forecasts against the known truth of `stratagem world`.
#
#   bench/simulate_check.sh [SEED ...]        (default seeds 1 2 3; ~30 s per seed)
#
# Per seed: the world's 20,000-row campaign log and 10,000 new customers; an uplift model
# and its budgeted plan (budget 200, 0.10 per contact, as in the demo); three plans that
# give everyone the same action; each plan's TRUE incremental margin (`world score`); the
# simulator trained on the log (`train simulate`, defaults) and its forecast of each plan
# (`simulate`, 200 draws: mean and 90% interval).  Prints one line per seed and plan, then
# the mean ratio simulated / true and the coverage for targeted and broad plans.
# Outputs in bench/out/simulate_check/sSEED/.  SG=path/to/stratagem overrides the binary.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SG="${SG:-$ROOT/build/stratagem}"
COIL="$ROOT/../shared/data/coil2000-ticdata/ticdata.csv"
[ -f "$COIL" ] || COIL="$ROOT/data/coil2000-ticdata/ticdata.csv"
[ -f "$COIL" ] || { echo "simulate_check: no CoIL data (run scripts/fetch-data.sh)" >&2; exit 1; }
[ -x "$SG" ] || { echo "simulate_check: $SG not built (make)" >&2; exit 1; }
COST=email=0.10,coupon10=0.10,coupon20=0.10
SEEDS=("$@")
[ ${#SEEDS[@]} -gt 0 ] || SEEDS=(1 2 3)

mkdir -p "$ROOT/bench/out/simulate_check"
printf 'seed\tplan\ttrue\tsimulated\tlo90\thi90\tratio\tcovered\n'
for s in "${SEEDS[@]}"; do
    D="$ROOT/bench/out/simulate_check/s$s"
    mkdir -p "$D"
    "$SG" -q world log --customers "$COIL" --seed "$s" --out "$D/log.csv" >/dev/null
    "$SG" -q world customers --customers "$COIL" --seed "$s" --out "$D/customers.csv" >/dev/null
    "$SG" -q train uplift --data "$D/log.csv" --treatment treatment --control control \
        --outcome margin --propensity propensity --id customer_id --ignore converted \
        --out "$D/uplift.sgm" >/dev/null
    "$SG" -q plan --model "$D/uplift.sgm" --data "$D/customers.csv" --budget 200 --cost "$COST" \
        --objective value --out "$D/plan_uplift.csv" --summary "$D/plan_uplift.json" >/dev/null
    for a in email coupon10 coupon20; do
        awk -F, -v a="$a" 'NR == 1 { print "customer_id,action"; next } { print $1 "," a }' \
            "$D/customers.csv" >"$D/plan_everyone_$a.csv"
    done
    "$SG" -q train simulate --data "$D/log.csv" --treatment treatment --control control \
        --outcome converted,margin --id customer_id --propensity propensity \
        --out "$D/simulator.sgm" >/dev/null
    for p in uplift everyone_email everyone_coupon10 everyone_coupon20; do
        t="$("$SG" -q world score --customers "$D/customers.csv" --plan "$D/plan_$p.csv" \
              --budget 100000000 --cost "$COST" | awk '/plan TRUE effect/ { print $4 }')"
        "$SG" -q simulate --model "$D/simulator.sgm" --plan "$D/plan_$p.csv" \
            --data "$D/customers.csv" --compare margin >"$D/simulate_$p.tsv"
        awk -F'\t' -v s="$s" -v p="$p" -v t="$t" '
            $1 == "margin" && $2 == "incremental" {
                printf "%d\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.2f\t%s\n", s, p, t, $3, $4, $5, $3 / t,
                       (t >= $4 && t <= $5) ? "yes" : "no" }' "$D/simulate_$p.tsv"
    done
done | tee "$ROOT/bench/out/simulate_check/last.tsv" | awk -F'\t' '
    { print
      k = ($2 == "uplift") ? "targeted (uplift plan)" : "broad (everyone one action)"
      n[k]++; r[k] += $7; c[k] += ($8 == "yes") }
    END { for (k in n) printf "mean ratio %.2f, covered %d of %d: %s\n", r[k] / n[k], c[k], n[k], k }'

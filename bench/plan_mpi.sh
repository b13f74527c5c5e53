#!/usr/bin/env bash
# plan_mpi.sh -- a budgeted uplift plan in one process against two (mpirun -np 2):
# the world campaign's model (20,000-row log), CUSTOMERS new customers (default
# 100,000) at budget 0.02 per customer, the demo's costs.  Prints both wall times,
# the ratio, and whether the two plans and summaries are the same file (they must
# be: the processes only split the scoring).
#
#   bench/plan_mpi.sh [CUSTOMERS]
set -euo pipefail
cd "$(dirname "$0")/.."
SG="${SG:-build/stratagem}"
N=${1:-100000}
COIL=../shared/data/coil2000-ticdata/ticdata.csv
[ -f "$COIL" ] || COIL=data/coil2000-ticdata/ticdata.csv
SGA="$(cd "$(dirname "$SG")" && pwd)/$(basename "$SG")"   # the plans run in their own folders
OUT=bench/out/plan_mpi
mkdir -p "$OUT/one" "$OUT/two"
COST=email=0.10,coupon10=0.10,coupon20=0.10
"$SG" -q world log --customers "$COIL" --rows 20000 --seed 1 --out "$OUT/log.csv" > /dev/null
"$SG" -q world customers --customers "$COIL" --rows "$N" --seed 1 --out "$OUT/cust.csv" > /dev/null
[ -f "$OUT/m.sgm" ] || "$SG" -q train uplift --data "$OUT/log.csv" --treatment treatment \
    --control control --outcome margin --propensity propensity --id customer_id \
    --ignore converted --out "$OUT/m.sgm" > /dev/null
B=$(awk -v n="$N" 'BEGIN { print n * 0.02 }')
PLAN=(plan --model "$PWD/$OUT/m.sgm" --data "$PWD/$OUT/cust.csv" --budget "$B" --cost "$COST"
      --objective value --out plan.csv --summary plan.json)
t0=$(date +%s.%N)
(cd "$OUT/one" && "$SGA" -q "${PLAN[@]}" > out.txt)
t1=$(date +%s.%N)
(cd "$OUT/two" && mpirun --allow-run-as-root --oversubscribe -np 2 "$SGA" -q "${PLAN[@]}" \
    > out.txt)
t2=$(date +%s.%N)
same=no
cmp -s "$OUT/one/plan.csv" "$OUT/two/plan.csv" && cmp -s "$OUT/one/plan.json" "$OUT/two/plan.json" &&
    same=yes
awk -v a="$t0" -v b="$t1" -v c="$t2" -v n="$N" -v s="$same" 'BEGIN {
    printf "%d customers: one process %.1f s, two processes %.1f s, ratio %.2fx; the same plan: %s\n",
           n, b - a, c - b, (b - a) / (c - b), s }'

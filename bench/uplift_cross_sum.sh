#!/usr/bin/env bash
# uplift_cross_sum.sh -- does a plan's forecast improve when another model sums it?
#
#   KIND=python SEEDS="$(seq 1 60)" BUDGETS="50 200" bench/uplift_cross_sum.sh
#   KIND=world SEEDS="$(seq 1 20)" BUDGETS="50 200 1000" bench/uplift_cross_sum.sh
#   RANK_OPTS="--interactions all" SUM_OPTS="--interactions arm" KIND=world ... bench/uplift_cross_sum.sh
#                                                                               (the reverse)
#
# On each campaign (KIND=python: bench/uplift_gen.py's, in bench/out/uplift_sSEED, drawn
# if missing; KIND=world: `stratagem world` with 20,000 log rows and 10,000 customers, in
# bench/out/uplift_cross/wSEED) two models are trained with the held-out campaign's train
# command: RANK_OPTS (default --interactions arm) makes the plan at each budget, SUM_OPTS
# (default --interactions all, the default of train uplift until section 27) only predicts. Each plan's predicted net (effect - cost over its
# contacts) is summed with either model's calibrated effects (`predict`) and compared with
# the plan's true net (truth.csv, or `world score`). Prints a line per (seed, budget) and a
# summary per budget: mean and sd of each sum over the truth and how often it is within 10%.
# The plan's own forecast (`plan`'s summary) is the rank model's sum whenever the log's 99%
# interval holds it. Section 26 of bench/uplift_results.md. Needs build/ (make); ~35 s a
# campaign.
set -euo pipefail
cd "$(dirname "$0")/.."
SG="${SG:-build/stratagem}"
KIND=${KIND:-python}
SEEDS=${SEEDS:-1 2 3}
BUDGETS=${BUDGETS:-50 200}
RANK_OPTS=${RANK_OPTS---interactions arm}   # set but empty: the defaults
SUM_OPTS=${SUM_OPTS---interactions all}
PY=/usr/bin/python3
COST=email=0.10,coupon10=0.10,coupon20=0.10
COIL=../shared/data/coil2000-ticdata/ticdata.csv
[ -f "$COIL" ] || COIL=data/coil2000-ticdata/ticdata.csv
[ -x "$SG" ] || { echo "uplift_cross_sum: $SG not built (make)" >&2; exit 1; }
case "$KIND" in python|world) ;; *) echo "uplift_cross_sum: KIND must be python or world" >&2; exit 2;; esac
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX   # OpenBLAS 0.3.21 misreads some AVX-512 CPUs; only there
fi
TRAIN="--treatment treatment --control control --outcome margin --propensity propensity"
TRAIN="$TRAIN --id customer_id --ignore converted"
OUT=bench/out/uplift_cross
mkdir -p "$OUT"
printf 'seed\tbudget\ttrue_net\trank_sum\tother_sum\trank_ratio\tother_ratio\n'
for s in $SEEDS; do
    if [ "$KIND" = python ]; then
        D=bench/out/uplift_s$s
        [ -f "$D/truth.csv" ] || $PY bench/uplift_gen.py --seed "$s" --out-dir "$D" > /dev/null
    else
        D=$OUT/w$s
        mkdir -p "$D"
        "$SG" -q world log --customers "$COIL" --rows 20000 --seed "$s" --out "$D/log.csv" > /dev/null
        "$SG" -q world customers --customers "$COIL" --rows 10000 --seed "$s" \
            --out "$D/customers.csv" > /dev/null
    fi
    W=$OUT/${KIND}_s$s
    mkdir -p "$W"
    # shellcheck disable=SC2086
    "$SG" -q train uplift --data "$D/log.csv" $TRAIN $RANK_OPTS --out "$W/rank.sgm" > /dev/null
    # shellcheck disable=SC2086
    "$SG" -q train uplift --data "$D/log.csv" $TRAIN $SUM_OPTS --out "$W/other.sgm" > /dev/null
    for m in rank other; do
        "$SG" -q predict --model "$W/$m.sgm" --data "$D/customers.csv" --out "$W/pred_$m.csv"
    done
    for b in $BUDGETS; do
        "$SG" -q plan --model "$W/rank.sgm" --data "$D/customers.csv" --budget "$b" --cost "$COST" \
            --objective value --out "$W/plan_$b.csv" --summary "$W/plan_$b.json" > /dev/null
        if [ "$KIND" = python ]; then
            true_net=$($PY bench/uplift_truth.py --truth "$D/truth.csv" --plan "$W/plan_$b.csv" \
                --budget "$b" --cost "$COST" --json "$W/score_$b.json" > /dev/null &&
                $PY -c "import json,sys; print(json.load(open(sys.argv[1]))['plan_true_net'])" \
                    "$W/score_$b.json")
        else
            "$SG" -q world score --customers "$D/customers.csv" --plan "$W/plan_$b.csv" \
                --budget "$b" --cost "$COST" --json > "$W/score_$b.json"
            true_net=$($PY -c "import json,sys; print(json.load(open(sys.argv[1]))['plan']['net'])" \
                "$W/score_$b.json")
        fi
        printf '%s\t%s\t' "$s" "$b"
        $PY bench/uplift_cross_sum.py "$W/plan_$b.csv" "$W/pred_rank.csv" "$W/pred_other.csv" \
            0.10 "$true_net"
    done
    rm -f "$W/rank.sgm" "$W/other.sgm"
done | tee "$OUT/${KIND}_last.tsv" | awk -F'\t' '
    { print; b = $2; if (!(b in n)) order[++nb] = b
      n[b]++; r[b] += $6; rr[b] += $6 * $6; o[b] += $7; oo[b] += $7 * $7
      wr[b] += ($6 >= 0.9 && $6 <= 1.1); wo[b] += ($7 >= 0.9 && $7 <= 1.1) }
    END { for (k = 1; k <= nb; k++) { b = order[k]; m = n[b]
        sr = m > 1 ? sqrt((rr[b] - r[b] * r[b] / m) / (m - 1)) : 0
        so = m > 1 ? sqrt((oo[b] - o[b] * o[b] / m) / (m - 1)) : 0
        printf "budget %s, %d campaigns: the plan summed by the model that made it %.3f (sd %.3f), within 10%% %d; by the other %.3f (sd %.3f), within 10%% %d\n",
               b, m, r[b] / m, sr, wr[b], o[b] / m, so, wo[b] } }'

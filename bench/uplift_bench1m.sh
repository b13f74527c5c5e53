#!/usr/bin/env bash
# uplift_bench1m.sh -- speed and memory at scale: 'train uplift' on a campaign log
# of 1M customers x 4 arms, then 'plan' for 1M customers, on 2 cores.
#
# Data: bench/uplift_gen.py (seed 1) with ROWS log rows and CUSTOMERS customers
# (CoIL covariates resampled; about 190 MB of CSV each), into bench/out/.
# Each step runs under /usr/bin/time, pinned to THREADS cores when taskset
# exists; printed: wall seconds, CPU seconds (user + system: the steadier figure
# on a shared machine) and peak resident memory.  SCORE=1 also scores the plan
# against the truth (slow: the truth scorer is a Python loop over customers).
#
# The peer, in the same run and on the same cores: bench/uplift_peer.py with
# scikit-learn's HistGradientBoostingRegressor (--learner hgb, its fast
# histogram GBDT), a plain T-learner: one fit per arm on the whole log, no
# cross-fitting, no conversion/value split, no calibration, a greedy plan and
# a naive forecast.  It does much less than ours; the ratio printed is the
# time of ours (train + plan) over the peer's (fit + plan).
#
# Usage: bench/uplift_bench1m.sh
# Knobs: ROWS (1000000), CUSTOMERS (1000000), THREADS (2), REPEATS (1: one K-fold
#        split; 3 is the default of 'train uplift' and costs 3x the training),
#        FOLDS (5), BUDGET (20000 = 20% of 1M customers at 0.10), STRATAGEM,
#        PEER (1; 0 skips the peer), TRAIN_OPTS (extra train uplift options, e.g.
#        "--interactions all": one kind of trees, the default until 2 Dec).
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
CUSTOMERS=${CUSTOMERS:-1000000}
THREADS=${THREADS:-2}
REPEATS=${REPEATS:-1}
FOLDS=${FOLDS:-5}
BUDGET=${BUDGET:-20000}
COST=email=0.10,coupon10=0.10,coupon20=0.10
S=${STRATAGEM:-build/stratagem}
D=bench/out/uplift_1m_${ROWS}_${CUSTOMERS}
export OMP_NUM_THREADS=$THREADS OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX
fi
[ -x "$S" ] || { echo "uplift_bench1m.sh: $S not found; run 'make' first" >&2; exit 1; }
PIN=()
command -v taskset > /dev/null && PIN=(taskset -c "0-$((THREADS - 1))")
if [ ! -f "$D/truth.csv" ]; then
    echo "generating $ROWS log rows and $CUSTOMERS customers into $D ..."
    /usr/bin/python3 bench/uplift_gen.py --seed 1 --rows "$ROWS" --customers "$CUSTOMERS" --out-dir "$D" > /dev/null
fi
ls -l "$D/log.csv" "$D/customers.csv" | awk '{printf "  %s: %.0f MB\n", $NF, $5 / 1e6}'

step() {   # step NAME CMD...: run under /usr/bin/time, append a result line
    local name=$1; shift
    /usr/bin/time -f "%e %U %S %M" -o "$D/time_$name.txt" "${PIN[@]}" "$@"
    read -r wall usr sys rss < "$D/time_$name.txt"
    printf "%-8s %8.1f s wall %8.1f s cpu %8.0f MB peak\n" "$name" "$wall" \
        "$(echo "$usr + $sys" | bc)" "$(echo "$rss / 1024" | bc)" >> "$D/bench1m.txt"
}
: > "$D/bench1m.txt"
# shellcheck disable=SC2086
step train "$S" -q train uplift --data "$D/log.csv" --treatment treatment --control control \
    --outcome margin --propensity propensity --id customer_id --ignore converted \
    --threads "$THREADS" --repeats "$REPEATS" --cv "$FOLDS" ${TRAIN_OPTS:-} --out "$D/model.sgm" \
    > "$D/train.txt"
step plan "$S" -q plan --model "$D/model.sgm" --data "$D/customers.csv" --budget "$BUDGET" \
    --cost "$COST" --out "$D/plan.csv" --summary "$D/plan.json" > "$D/plan.txt"
if [ "${PEER:-1}" = 1 ]; then
    step peer /usr/bin/python3 bench/uplift_peer.py --log "$D/log.csv" --customers "$D/customers.csv" \
        --budget "$BUDGET" --cost "$COST" --out-plan "$D/peer_plan.csv" \
        --out-forecast "$D/peer_plan.json" --boot 0 --learner hgb --threads "$THREADS" > "$D/peer.txt"
fi
echo
echo "uplift at scale: $ROWS log rows x 4 arms, $CUSTOMERS customers, $THREADS threads," \
     "$FOLDS folds x $REPEATS repeat(s), $(nproc) cores visible"
cat "$D/bench1m.txt"
if [ "${PEER:-1}" = 1 ]; then
    awk '{w[$1] = $2} END {printf "ours (train + plan) %.1f s, peer (scikit-learn HGB T-learner, fit + plan) %.1f s: ratio ours / peer %.2f\n", w["train"] + w["plan"], w["peer"], (w["train"] + w["plan"]) / w["peer"]}' "$D/bench1m.txt"
fi
ls -l "$D/model.sgm" | awk '{printf "model file %.0f MB\n", $5 / 1e6}'
cat "$D/plan.txt"
if [ "${SCORE:-0}" = 1 ]; then
    /usr/bin/python3 bench/uplift_truth.py --truth "$D/truth.csv" --plan "$D/plan.csv" \
        --budget "$BUDGET" --cost "$COST" --forecast "$D/plan.json" | sed -n '4,5p;9,10p'
fi

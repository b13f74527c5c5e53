#!/usr/bin/env bash
# loop.sh -- the closed loop of `make demo` (part 30) over several seeds, to tell
# a forecast bias from the noise of one run.
#
#   SEEDS="1 2 3 4 5 6" bench/loop.sh
#   TRAIN_OPTS="--cv 3 --repeats 1" SEEDS="1 2 3" bench/loop.sh   (the demo's training)
#   ROUNDS=3 EXPLORE=0.1 BUDGET=200 ...                           (the defaults)
#
# For each seed s: a SQLite workspace starts with a 20,000-row world campaign
# log (`world log --seed s`); each round trains `train uplift` on the log as it
# stands, plans for 10,000 new customers with exploration, draws their outcomes
# from the truth, feeds them back into the log and scores the plan against the
# truth (`world score`).  Seed 1 is the demo's loop (customers 101-103, outcomes
# 201-203); seed s uses customers 100 + 10 (s - 1) + r and outcomes 200 + ...
# Prints a line per (seed, round): forecast net and its 90% interval, true net,
# forecast / true, covered, share of best; then per round the mean forecast /
# true, the mean of (forecast - true) over the interval's half width, and the
# coverage.  Needs build/ (make).  Outputs in bench/out/loop/.
set -euo pipefail
cd "$(dirname "$0")/.."
SG="${SG:-build/stratagem}"
COIL=../shared/data/coil2000-ticdata/ticdata.csv
[ -f "$COIL" ] || COIL=data/coil2000-ticdata/ticdata.csv
[ -x "$SG" ] || { echo "loop: $SG not built (make)" >&2; exit 1; }
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX   # OpenBLAS 0.3.21 misreads some AVX-512 CPUs; only there
fi
COST=email=0.10,coupon10=0.10,coupon20=0.10
BUDGET="${BUDGET:-200}"
OUT=bench/out/loop
mkdir -p "$OUT"

# num FILE SECTION KEY: a number from the JSON the program writes; SECTION ""
# for a top-level key
num() {
    tr -d ' \n' <"$1" | awk -v s="$2" -v k="$3" '{
        t = $0
        if (s != "") { i = index(t, "\"" s "\":{"); if (!i) exit; t = substr(t, i) ; sub(/}.*/, "", t) }
        i = index(t, "\"" k "\":"); if (!i) exit
        t = substr(t, i + length(k) + 3); sub(/[,}].*/, "", t); print t }'
}

printf 'seed\tround\tlog_rows\tforecast\tlo\thi\ttrue_net\tratio\tcovered\tshare\n'
for s in ${SEEDS:-1 2 3}; do
    D="$OUT/s$s"
    rm -rf "$D"
    mkdir -p "$D"
    WS="$D/shop.db"
    "$SG" -q init "$WS" >/dev/null
    "$SG" -q world log --customers "$COIL" --rows 20000 --seed "$s" --out "$D/log.csv" >/dev/null
    "$SG" -q import "$WS" "$D/log.csv" --as campaigns --id customer_id --treatment treatment \
        --control control --outcome margin --propensity propensity >/dev/null
    for r in $(seq 1 "${ROUNDS:-3}"); do
        k=$((10 * (s - 1) + r))
        # shellcheck disable=SC2086
        "$SG" -q train uplift --data "$WS:campaigns" --treatment treatment --control control \
            --outcome margin --propensity propensity --id customer_id --ignore converted \
            ${TRAIN_OPTS:-} --out "$D/m$r.sgm" >/dev/null
        rows=$("$SG" status "$WS" | awk '$1 == "campaigns" { print $2 }')
        "$SG" -q world customers --customers "$COIL" --rows 10000 --seed $((100 + k)) \
            --out "$D/customers$r.csv" >/dev/null
        "$SG" -q plan --model "$D/m$r.sgm" --data "$D/customers$r.csv" --budget "$BUDGET" \
            --cost "$COST" --explore "${EXPLORE:-0.1}" --seed "$k" --out "$D/plan$r.csv" \
            --summary "$D/plan$r.json" --workspace "$WS" >/dev/null
        id=$(num "$D/plan$r.json" "" plan_id)
        "$SG" -q world outcomes --customers "$D/customers$r.csv" --plan "$D/plan$r.csv" \
            --seed $((200 + k)) --out "$D/results$r.csv" >/dev/null
        "$SG" -q feedback "$WS" --plan "$id" --results "$D/results$r.csv" \
            --summary "$D/feedback$r.json" >/dev/null
        "$SG" -q world score --customers "$D/customers$r.csv" --plan "$D/plan$r.csv" \
            --budget "$BUDGET" --cost "$COST" --summary "$D/plan$r.json" --json >"$D/score$r.json"
        fn=$(num "$D/plan$r.json" forecast net); lo=$(num "$D/plan$r.json" forecast net_lo)
        hi=$(num "$D/plan$r.json" forecast net_hi)
        tn=$(num "$D/score$r.json" plan net); sh=$(num "$D/score$r.json" "" share_of_best)
        awk -v s="$s" -v r="$r" -v n="$rows" -v f="$fn" -v lo="$lo" -v hi="$hi" -v t="$tn" \
            -v sh="$sh" 'BEGIN { printf "%d\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.2f\t%s\t%.3f\n",
                s, r, n, f, lo, hi, t, f / t, (lo <= t && t <= hi) ? "yes" : "no", sh }'
    done
done | tee "$OUT/last.tsv" | awk -F'\t' '
    { print; r = $2; n[r]++; ra[r] += $8; cv[r] += ($9 == "yes"); sh[r] += $10
      z[r] += ($4 - $7) / (($6 - $5) / 2); if (r > nr) nr = r }
    END { for (r = 1; r <= nr; r++)
            printf "round %d: forecast/true %.2f, (forecast - true) / half-width %+.2f, covered %d of %d, share %.3f\n",
                   r, ra[r] / n[r], z[r] / n[r], cv[r], n[r], sh[r] / n[r] }'

#!/usr/bin/env bash
# uplift.sh -- plan-value benchmark: ours (train uplift + plan) against the peer
# (scikit-learn T-learner + greedy), both scored against the known truth.
#
# For each seed: bench/uplift_gen.py writes a semi-synthetic campaign on CoIL
# covariates (log.csv, customers.csv, truth.csv; see bench/uplift_README.md);
# we run 'stratagem train uplift' and 'stratagem plan' exactly as the held-out
# campaign will be run; the peer runs bench/uplift_peer.py; bench/uplift_truth.py
# scores both plans (true net value, share of the best achievable under the
# same budget, forecast / truth and whether the 90% interval covers the truth).
#
# Usage: bench/uplift.sh                     seeds 1 2 3
#        SEEDS="$(seq 1 10)" bench/uplift.sh
# Knobs: SEEDS, ROWS (20000), CUSTOMERS (10000), BUDGET (200), COST,
#        PEER_BOOT (0: no peer interval, ~10 s per seed; 20: the peer's bootstrap
#        interval, several minutes per seed), TRAIN_OPTS (extra train options),
#        STRATAGEM (default build/stratagem; 'make' builds it),
#        DERIVE (npol, linidx, pca or nnz: both sides get that derived column; see
#        bench/uplift_derive.py; outputs in bench/out/uplift_sSEED_DERIVE),
#        PLAN_ON (customers, the default: new customers; log: the log's own rows,
#        scored by logtruth.csv, as a shop planning for the customers it logged),
#        EFFECTS (additive, the default, or interact: effects that turn on pairs of
#        features, bench/uplift_gen.py --effects; outputs in bench/out/uplift_sSEED_interact).
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-"1 2 3"}
ROWS=${ROWS:-20000}
CUSTOMERS=${CUSTOMERS:-10000}
BUDGET=${BUDGET:-200}
COST=${COST:-email=0.10,coupon10=0.10,coupon20=0.10}
PEER_BOOT=${PEER_BOOT:-0}
TRAIN_OPTS=${TRAIN_OPTS:-}
DERIVE=${DERIVE:-}
PLAN_ON=${PLAN_ON:-customers}
EFFECTS=${EFFECTS:-additive}
case "$EFFECTS" in additive|interact) ;; *) echo "uplift.sh: EFFECTS must be additive or interact" >&2; exit 2;; esac
case "$PLAN_ON" in customers|log) ;; *) echo "uplift.sh: PLAN_ON must be customers or log" >&2; exit 2;; esac
S=${STRATAGEM:-build/stratagem}
PY=/usr/bin/python3
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX
fi
[ -x "$S" ] || { echo "uplift.sh: $S not found; run 'make' first" >&2; exit 1; }

res=bench/out/uplift_results.tsv
mkdir -p bench/out
printf "seed\tour_share\tour_true\tour_forecast\tour_ratio\tour_lo\tour_hi\tour_covers\tour_naive\tour_log_ratio\tour_basis\tour_s\tpeer_share\tpeer_true\tpeer_forecast\tpeer_ratio\tpeer_covers\tpeer_s\n" > "$res"
for seed in $SEEDS; do
    D=bench/out/uplift_s$seed
    [ "$ROWS" = 20000 ] && [ "$CUSTOMERS" = 10000 ] || D=bench/out/uplift_s${seed}_${ROWS}_${CUSTOMERS}
    [ "$EFFECTS" = additive ] || D=${D}_$EFFECTS
    if [ ! -f "$D/truth.csv" ] || [ ! -f "$D/logtruth.csv" ]; then
        $PY bench/uplift_gen.py --seed "$seed" --rows "$ROWS" --customers "$CUSTOMERS" \
            --effects "$EFFECTS" --out-dir "$D" > /dev/null
    fi
    if [ -n "$DERIVE" ]; then
        $PY bench/uplift_derive.py --in-dir "$D" --out-dir "${D}_$DERIVE" --add "$DERIVE"
        D=${D}_$DERIVE
    fi
    CUST=$D/customers.csv TRUTH=$D/truth.csv
    [ "$PLAN_ON" = log ] && CUST=$D/log.csv TRUTH=$D/logtruth.csv
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    "$S" -q train uplift --data "$D/log.csv" --treatment treatment --control control \
        --outcome margin --propensity propensity --id customer_id --ignore converted \
        $TRAIN_OPTS --out "$D/ours.sgm" > "$D/ours_train.txt"
    "$S" -q plan --model "$D/ours.sgm" --data "$CUST" --budget "$BUDGET" --cost "$COST" \
        --objective value --out "$D/ours_plan.csv" --summary "$D/ours_plan.json" > "$D/ours_plan.txt"
    t1=$(date +%s.%N)
    $PY bench/uplift_truth.py --truth "$TRUTH" --plan "$D/ours_plan.csv" --budget "$BUDGET" \
        --cost "$COST" --forecast "$D/ours_plan.json" --json "$D/ours_score.json" > /dev/null
    $PY bench/uplift_peer.py --log "$D/log.csv" --customers "$CUST" --budget "$BUDGET" \
        --cost "$COST" --out-plan "$D/peer_plan.csv" --out-forecast "$D/peer_plan.json" \
        --boot "$PEER_BOOT" --seed "$seed" > /dev/null
    t2=$(date +%s.%N)
    $PY bench/uplift_truth.py --truth "$TRUTH" --plan "$D/peer_plan.csv" --budget "$BUDGET" \
        --cost "$COST" --forecast "$D/peer_plan.json" --json "$D/peer_score.json" > /dev/null
    $PY - "$D" "$seed" "$t0" "$t1" "$t2" >> "$res" <<'PYEOF'
import json, sys
d, seed, t0, t1, t2 = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:])
o = json.load(open(d + "/ours_score.json")); p = json.load(open(d + "/peer_score.json"))
f = json.load(open(d + "/ours_plan.json"))["forecast"]
lo, hi = o["forecast_interval"]
print("\t".join(str(x) for x in [
    seed, "%.4f" % o["share_of_best"], "%.1f" % o["plan_true_net"], "%.1f" % o["forecast_net"],
    "%.3f" % o["forecast_ratio"], "%.1f" % lo, "%.1f" % hi, "yes" if o["forecast_covers"] else "no",
    "%.1f" % (f["naive_effect"] - f["cost"]),
    "%.3f" % ((f["log_effect"] - f["cost"]) / o["plan_true_net"]), f["basis"], "%.1f" % (t1 - t0),
    "%.4f" % p["share_of_best"], "%.1f" % p["plan_true_net"], "%.1f" % p["forecast_net"],
    "%.3f" % p["forecast_ratio"],
    ("yes" if p["forecast_covers"] else "no") if "forecast_covers" in p else "-", "%.1f" % (t2 - t1)]))
PYEOF
    tail -1 "$res" | awk -F'\t' '{printf "seed %s: ours share %s, true %s, forecast %s (ratio %s) [%s, %s] covers %s | peer share %s, forecast/true %s\n", $1, $2, $3, $4, $5, $6, $7, $8, $13, $16}'
done
BUDGET="$BUDGET" COST="$COST" $PY - "$res" <<'PYEOF'
import csv, os, sys, statistics as st
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
f = lambda k: [float(r[k]) for r in rows]
n = len(rows)
within = sum(abs(float(r["our_ratio"]) - 1) <= 0.10 for r in rows)
within_log = sum(abs(float(r["our_log_ratio"]) - 1) <= 0.10 for r in rows)
n_model = sum(r["our_basis"] == "model" for r in rows)
cov = sum(r["our_covers"] == "yes" for r in rows)
print("\nplan-value benchmark, %d seed(s): budget %s, cost %s" % (n, os.environ["BUDGET"], os.environ["COST"]))
print("                     ours        peer (T-learner + greedy)   ratio ours/peer")
print("share of best      %6.3f      %6.3f                      %.2f" % (
    st.mean(f("our_share")), st.mean(f("peer_share")), st.mean(f("our_share")) / st.mean(f("peer_share"))))
print("forecast / true    %6.3f      %6.3f" % (st.mean(f("our_ratio")), st.mean(f("peer_ratio"))))
if n > 1:
    print("  (sd over seeds)  %6.3f      %6.3f" % (st.stdev(f("our_ratio")), st.stdev(f("peer_ratio"))))
print("forecast within 10%% of truth: ours %d/%d; 90%% interval covers truth: ours %d/%d" % (within, n, cov, n))
print("the forecast is the model's sum on %d/%d seeds (else the log's value); the log's value alone:"
      " / true %.3f, within 10%% %d/%d" % (n_model, n, st.mean(f("our_log_ratio")), within_log, n))
print("seconds per seed   %6.1f      %6.1f   (wall, train+plan / fit+plan)" % (st.mean(f("our_s")), st.mean(f("peer_s"))))
print("per-seed rows: %s" % sys.argv[1])
PYEOF

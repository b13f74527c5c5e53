#!/usr/bin/env bash
# uplift_forecaster.sh -- who should sum a plan: the model that ranked it, or its forecaster?
#
#   KIND=python SEEDS="$(seq 1 60)" BUDGETS="50 200" bench/uplift_forecaster.sh
#   KIND=world SEEDS="$(seq 1 20)" BUDGETS="50 200 1000" bench/uplift_forecaster.sh
#   EFFECTS=interact SEEDS="$(seq 1 10)" bench/uplift_forecaster.sh   (pair effects: uplift_gen.py
#                                                       --effects interact, in uplift_sSEED_interact)
#
# On each campaign (KIND=python: bench/uplift_gen.py's, in bench/out/uplift_sSEED, drawn if
# missing; KIND=world: `stratagem world` with ROWS log rows (20000) and 10,000 customers, in
# bench/out/uplift_fc/wSEED) the held-out campaign's train command is run with TRAIN_OPTS
# (default: none, so --interactions auto), then its plan at each budget, scored against the
# truth (bench/uplift_truth.py, or `world score`). Where auto kept the additive trees, the
# forecast sums the effects of the model with trees of any features trained beside them
# (sg_uplift_forecaster); plan.csv's predicted_effect column keeps the ranking model's own
# effects, whose sum over the plan is what the forecast was before. Prints a line per
# (seed, budget): seed, budget, trees kept, share of the best, true net, forecast / true,
# covered, own sum / true, the log's value / true, the model sum / true (the forecaster's
# sum: the forecast unless the log's 99% interval excluded it); then per budget, over all
# campaigns and over those where the additive trees were kept: mean share, mean (sd) of
# forecast / true and of own sum / true, how often each is within 10%, and coverage; for
# the latter also two other sums screened (the mean of both sums, and the log's value
# clamped between them). Section 27 of bench/uplift_results.md.
# Needs build/ (make); about 25 s (python) or 60 s (world) a campaign.
set -euo pipefail
cd "$(dirname "$0")/.."
SG="${SG:-build/stratagem}"
KIND=${KIND:-python}
SEEDS=${SEEDS:-1 2 3}
BUDGETS=${BUDGETS:-50 200}
ROWS=${ROWS:-20000}
EFFECTS=${EFFECTS:-additive}   # KIND=python: additive, or interact (uplift_gen.py --effects)
PY=/usr/bin/python3
COST=email=0.10,coupon10=0.10,coupon20=0.10
COIL=../shared/data/coil2000-ticdata/ticdata.csv
[ -f "$COIL" ] || COIL=data/coil2000-ticdata/ticdata.csv
[ -x "$SG" ] || { echo "uplift_forecaster: $SG not built (make)" >&2; exit 1; }
case "$KIND" in python|world) ;; *) echo "uplift_forecaster: KIND must be python or world" >&2; exit 2;; esac
case "$EFFECTS" in additive|interact) ;; *) echo "uplift_forecaster: EFFECTS must be additive or interact" >&2; exit 2;; esac
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX   # OpenBLAS 0.3.21 misreads some AVX-512 CPUs; only there
fi
TRAIN="--treatment treatment --control control --outcome margin --propensity propensity"
TRAIN="$TRAIN --id customer_id --ignore converted"
OUT=bench/out/uplift_fc
mkdir -p "$OUT"
for s in $SEEDS; do
    if [ "$KIND" = python ]; then
        D=bench/out/uplift_s$s
        [ "$EFFECTS" = additive ] || D=${D}_$EFFECTS
        [ -f "$D/truth.csv" ] || $PY bench/uplift_gen.py --seed "$s" --effects "$EFFECTS" \
            --out-dir "$D" > /dev/null
    else
        D=$OUT/w${s}_r$ROWS
        mkdir -p "$D"
        "$SG" -q world log --customers "$COIL" --rows "$ROWS" --seed "$s" --out "$D/log.csv" > /dev/null
        "$SG" -q world customers --customers "$COIL" --rows 10000 --seed "$s" \
            --out "$D/customers.csv" > /dev/null
    fi
    W=$OUT/${KIND}_s$s
    [ "$EFFECTS" = additive ] || W=${W}_$EFFECTS
    mkdir -p "$W"
    # shellcheck disable=SC2086
    "$SG" train uplift --data "$D/log.csv" $TRAIN ${TRAIN_OPTS:-} --out "$W/model.sgm" \
        > "$W/train.txt" 2>&1
    kept=$(sed -n 's/.*--interactions auto: kept \([a-z-]*\) trees.*/\1/p' "$W/train.txt")
    for b in $BUDGETS; do
        "$SG" -q plan --model "$W/model.sgm" --data "$D/customers.csv" --budget "$b" --cost "$COST" \
            --objective value --out "$W/plan_$b.csv" --summary "$W/plan_$b.json" > /dev/null
        if [ "$KIND" = python ]; then
            $PY bench/uplift_truth.py --truth "$D/truth.csv" --plan "$W/plan_$b.csv" --budget "$b" \
                --cost "$COST" --forecast "$W/plan_$b.json" --json "$W/score_$b.json" > /dev/null
        else
            "$SG" -q world score --customers "$D/customers.csv" --plan "$W/plan_$b.csv" \
                --budget "$b" --cost "$COST" --summary "$W/plan_$b.json" --json > "$W/score_$b.json"
        fi
        $PY - "$KIND" "$W" "$s" "$b" "${kept:--}" <<'PYEOF'
import csv, json, sys
kind, w, seed, b, kept = sys.argv[1:6]
sc = json.load(open(f"{w}/score_{b}.json"))
f = json.load(open(f"{w}/plan_{b}.json"))["forecast"]
if kind == "python":
    share, true = sc["share_of_best"], sc["plan_true_net"]
else:
    share, true = sc["share_of_best"], sc["plan"]["net"]
own = sum(float(r["predicted_effect"]) - float(r["cost"])
          for r in csv.DictReader(open(f"{w}/plan_{b}.csv")) if r["action"] != "control")
cov = f["net_lo"] <= true <= f["net_hi"]
log = f["log_effect"] - f["cost"]   # the log's doubly robust value of the plan's rule
print("\t".join([seed, b, kept, "%.4f" % share, "%.2f" % true, "%.4f" % (f["net"] / true),
                 "yes" if cov else "no", "%.4f" % (own / true), "%.4f" % (log / true),
                 "%.4f" % ((f["naive_effect"] - f["cost"]) / true)]), flush=True)
PYEOF
    done
    rm -f "$W/model.sgm"
done | tee "$OUT/${KIND}_${EFFECTS}_last.tsv" | $PY -c '
import sys, statistics as st
rows = []
for line in sys.stdin:
    print(line, end="", flush=True)
    rows.append(line.rstrip("\n").split("\t"))
def summ(v, label):
    f = [float(r[5]) for r in v]; o = [float(r[7]) for r in v]
    sd = lambda x: st.stdev(x) if len(x) > 1 else 0.0
    print("  %-24s %2d: share %.4f; forecast / true %.3f (sd %.3f), within 10%% %d; own sum %.3f "
          "(sd %.3f), within 10%% %d; covered %d" % (label, len(v), st.mean(float(r[3]) for r in v),
          st.mean(f), sd(f), sum(abs(x - 1) <= 0.1 for x in f), st.mean(o), sd(o),
          sum(abs(x - 1) <= 0.1 for x in o), sum(r[6] == "yes" for r in v)))
for b in dict.fromkeys(r[1] for r in rows):
    v = [r for r in rows if r[1] == b]
    print("budget %s" % b)
    summ(v, "all campaigns")
    a = [r for r in v if r[2] == "additive"]
    if a:
        summ(a, "additive trees kept")
        # two other ways to sum, screened: the mean of both sums, and the log'"'"'s value
        # clamped between them
        m = [(float(r[7]) + float(r[9])) / 2 for r in a]
        c = [min(max(float(r[8]), min(float(r[7]), float(r[9]))), max(float(r[7]), float(r[9])))
             for r in a]
        print("  %-24s    mean of both sums / true %.3f, within 10%% %d; the log'"'"'s value "
              "clamped between them %.3f, within 10%% %d" % ("", st.mean(m),
              sum(abs(x - 1) <= 0.1 for x in m), st.mean(c), sum(abs(x - 1) <= 0.1 for x in c)))
'

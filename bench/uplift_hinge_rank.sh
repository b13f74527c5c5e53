#!/usr/bin/env bash
# uplift_hinge_rank.sh -- does a hinge in the calibration need to reach the forecast?
#
#   git apply bench/patches/uplift_cal_hinge.patch && make BUILD=/tmp/hinge
#   git apply -R bench/patches/uplift_cal_hinge.patch
#   HINGE=/tmp/hinge/stratagem SEEDS="$(seq 1 20)" BUDGET=50 bench/uplift_hinge_rank.sh
#
# On each Python-drawn campaign of bench/uplift.sh (bench/out/uplift_sSEED, made by it),
# trains the default model (build/stratagem) and the hinge model (HINGE with SG_HINGE=Q,
# SG_HINGE_CONV=1, SG_HINGE_SD=SD), predicts every customer's effects with both, plans
# at BUDGET with both (--objective value, 0.10 a contact), and prints over the seeds:
# each plan's summed predicted effect over its true effect, for the hinge plan summed
# both with the default model's effects (a line's calibration) and with its own, how
# often each is within 10%, and the hinge plan's true effect over the default plan's.
# bench/uplift_results.md section 23.  Outputs in bench/out/uplift_hinge/.  Since the rank
# hinge became the default (section 24) the "default" model here is a hinge-ranked one;
# section 23's figures come from both builds at commit 022c2ec (bench/patches/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
SG=${SG:-build/stratagem}
HINGE=${HINGE:-/tmp/hinge/stratagem}
Q=${Q:-0.8}
SD=${SD:-0.25}
BUDGET=${BUDGET:-50}
SEEDS=${SEEDS:-1 2 3 4 5 6 7 8 9 10}
COST=email=0.10,coupon10=0.10,coupon20=0.10
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX   # OpenBLAS 0.3.21 misreads some AVX-512 CPUs; only there
fi
if [ ! -x "$SG" ] || [ ! -x "$HINGE" ]; then
    echo "uplift_hinge_rank: need $SG and $HINGE" >&2
    exit 1
fi
for s in $SEEDS; do
    D=bench/out/uplift_s$s O=bench/out/uplift_hinge/s$s
    [ -f "$D/log.csv" ] || { echo "uplift_hinge_rank: $D/log.csv missing (run bench/uplift.sh)" >&2; exit 1; }
    mkdir -p "$O"
    for v in def hinge; do
        if [ $v = def ]; then run=("$SG"); else run=(env SG_HINGE="$Q" SG_HINGE_CONV=1 SG_HINGE_SD="$SD" "$HINGE"); fi
        "${run[@]}" -q train uplift --data "$D/log.csv" --treatment treatment --control control \
            --outcome margin --propensity propensity --id customer_id --ignore converted \
            --out "$O/$v.sgm" >/dev/null
        "${run[@]}" -q predict --model "$O/$v.sgm" --data "$D/customers.csv" --out "$O/pred_$v.csv"
        "${run[@]}" -q plan --model "$O/$v.sgm" --data "$D/customers.csv" --budget "$BUDGET" \
            --cost "$COST" --objective value --out "$O/plan_$v.csv" >/dev/null
    done
done
# shellcheck disable=SC2086
/usr/bin/python3 - $SEEDS <<'PYEOF'
import sys
import numpy as np
import pandas as pd
sys.path.insert(0, "bench")
from uplift_calcheck import ARMS, plan_arms, true_effects
rows = []
for s in sys.argv[1:]:
    d, o = "bench/out/uplift_s%s" % s, "bench/out/uplift_hinge/s%s" % s
    cus = pd.read_csv(d + "/customers.csv")
    T = true_effects(cus)
    E = {v: np.column_stack([pd.read_csv("%s/pred_%s.csv" % (o, v))["effect_" + a] for a in ARMS])
         for v in ("def", "hinge")}
    r = []
    for v in ("def", "hinge"):
        tr, k = plan_arms("%s/plan_%s.csv" % (o, v), cus["customer_id"])
        true = T[tr, k].sum()
        r += [E["def"][tr, k].sum() / true, E["hinge"][tr, k].sum() / true, true]
    rows.append(r)
r = np.array(rows)
w = lambda x: int(((x >= 0.9) & (x <= 1.1)).sum())
print("%d seeds; summed predicted effect / true effect of the plan (sd; within 10%%):" % len(r))
print("  default plan, default effects:   %.3f (%.3f; %d)" % (r[:, 0].mean(), r[:, 0].std(), w(r[:, 0])))
print("  hinge plan, default effects:     %.3f (%.3f; %d)" % (r[:, 3].mean(), r[:, 3].std(), w(r[:, 3])))
print("  hinge plan, hinge effects:       %.3f (%.3f; %d)" % (r[:, 4].mean(), r[:, 4].std(), w(r[:, 4])))
print("hinge plan's true effect / default plan's: %.4f (higher on %d of %d)" % (
    (r[:, 5] / r[:, 2]).mean(), int((r[:, 5] > r[:, 2]).sum()), len(r)))
PYEOF

#!/usr/bin/env bash
# uplift_replay.sh -- is the forecast's replay honest for a given learner?
#
#   [ROWS=N] bench/uplift_replay.sh SEED [train uplift options...]
#   e.g. bench/uplift_replay.sh 1 --learner dr;  ROWS=5000 bench/uplift_replay.sh 4
#
# The interval of `plan`'s forecast (and its point where the model's own sum
# falls outside it) values the plan's rule replayed on the training log
# (uplift_plan.c).  Here, on the world campaign of SEED (`stratagem world`, the
# demo's truth), the model is trained with the given options, the replayed rule
# is rebuilt from the model file (bench_uplift_replay.c: plan's solver on the
# log's out-of-fold effects; the demo's budget of 200 per 10,000 customers at
# 0.10, scaled to the ROWS log rows (default 20,000: 400)), and its value on the
# log rows is compared: the doubly robust estimate the forecast uses against
# the TRUE value of the same rule on the same rows (`world score`).  A ratio
# well above 1 means the effects the rule selects on carry the rows' own
# outcome noise, and the forecast will be too rosy.  Needs build/ (make).
set -euo pipefail
cd "$(dirname "$0")/.."
SEED=${1:?usage: bench/uplift_replay.sh SEED [train uplift options]}
shift
BUILD=${BUILD:-build}
SG="$BUILD/stratagem"
OUT=bench/out/uplift_replay
COIL=../shared/data/coil2000-ticdata/ticdata.csv
[ -f "$COIL" ] || COIL=data/coil2000-ticdata/ticdata.csv
# OpenBLAS 0.3.21 does not know some AVX-512 CPUs; forcing SkylakeX on a CPU without
# AVX-512 would kill BLAS calls with SIGILL, so only where the CPU has it.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX
fi
mkdir -p "$OUT"
cc -std=c11 -O2 -Iinclude bench/bench_uplift_replay.c "$BUILD/libstratagem.a" \
    -lopenblas -lsqlite3 -lpq -ljansson -lpng -lz -lm -lpthread -fopenmp \
    -o "$OUT/bench_uplift_replay"
ROWS=${ROWS:-20000}
BUDGET=$((ROWS / 50))
"$SG" -q world log --customers "$COIL" --rows "$ROWS" --seed "$SEED" --out "$OUT/log.csv" >/dev/null
"$SG" -q train uplift --data "$OUT/log.csv" --treatment treatment --control control \
    --outcome margin --propensity propensity --id customer_id --ignore converted "$@" \
    --out "$OUT/model.sgm" >/dev/null
"$OUT/bench_uplift_replay" "$OUT/model.sgm" "$BUDGET" 0.10 >"$OUT/replay_rows.csv" 2>"$OUT/replay.txt"
awk -F, 'NR == FNR { if (FNR > 1) id[FNR - 2] = $1; next }
         FNR == 1 { print "customer_id,action"; next } { print id[$1] "," $2 }' \
    "$OUT/log.csv" "$OUT/replay_rows.csv" >"$OUT/replay_plan.csv"
true_eff=$("$SG" -q world score --customers "$OUT/log.csv" --plan "$OUT/replay_plan.csv" \
    --budget "$BUDGET" --cost email=0.10,coupon10=0.10,coupon20=0.10 |
    awk '/plan TRUE effect/ { print $4 }')
dr=$(sed -n 's/.*doubly robust \([0-9.e+-]*\),.*/\1/p' "$OUT/replay.txt")
dm=$(sed -n 's/.*model alone \([0-9.e+-]*\) .*/\1/p' "$OUT/replay.txt")
awk -v t="$true_eff" -v dr="$dr" -v dm="$dm" -v s="$SEED" -v o="$*" -v n="$ROWS" 'BEGIN {
    tv = t / n
    printf "seed %s, options [%s]: replayed rule per log row: true %.5f, doubly robust %.5f " \
           "(ratio %.2f), model alone %.5f (ratio %.2f)\n", s, o, tv, dr, dr / tv, dm, dm / tv }'
if [ -x /usr/bin/python3 ]; then
    /usr/bin/python3 - "$OUT/log.csv" "$OUT/replay_plan.csv" <<'PY'
import sys
import numpy as np
import pandas as pd
sys.path.insert(0, "bench")
import uplift_gen as ug
log, rule = pd.read_csv(sys.argv[1]), pd.read_csv(sys.argv[2])
_, mu = ug.truth(log.drop(columns=["treatment", "propensity", "converted", "margin"]))
arm = {a: k for k, a in enumerate(ug.ARMS)}
M = np.column_stack([mu[a] for a in ug.ARMS])
pol, act = rule["action"].map(arm).to_numpy(), log["treatment"].map(arm).to_numpy()
y, p, i = log["margin"].to_numpy(), log["propensity"].to_numpy(), np.arange(len(log))
true = np.where(pol > 0, M[i, pol] - M[i, 0], 0.0)
d = true + np.where((pol > 0) & (act == pol), (y - M[i, pol]) / p, 0.0) \
         - np.where((pol > 0) & (act == 0), (y - M[i, 0]) / p, 0.0)
se = d.std(ddof=1) / np.sqrt(len(d))
print("  oracle (true outcome means): doubly robust %.5f (ratio %.2f), its standard error %.5f, "
      "z %.2f" % (d.mean(), d.mean() / true.mean(), se, (d.mean() - true.mean()) / se))
PY
fi

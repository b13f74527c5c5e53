#!/usr/bin/env bash
# uplift_se.sh -- are the per-customer effects and standard errors honest?
#
#   SEEDS="1 2 3" bench/uplift_se.sh        (TRAIN_OPTS="..." for other train options)
#
# For each seed: bench/uplift_gen.py's campaign (20,000-row log, 10,000 new customers
# with their TRUE expected outcomes), `train uplift` as the held-out campaign is run,
# `predict` on the new customers, and bench/uplift_se.py against the truth: per arm
# the correlation and regression slope of true on predicted effects, the RMSE, the
# mean standard error and how often effect +- 1.645 se holds the true effect; then
# the means over the seeds.  Outputs in bench/out/uplift_se/.  ~30 s a seed.
set -euo pipefail
cd "$(dirname "$0")/.."
SG="${SG:-build/stratagem}"
PY=/usr/bin/python3
[ -x "$SG" ] || { echo "uplift_se: $SG not built (make)" >&2; exit 1; }
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX
fi
OUT=bench/out/uplift_se
mkdir -p "$OUT"
for s in ${SEEDS:-1 2 3}; do
    D="$OUT/s$s"
    mkdir -p "$D"
    [ -f "$D/truth.csv" ] || $PY bench/uplift_gen.py --seed "$s" --rows 20000 --customers 10000 \
        --out-dir "$D" >/dev/null
    # shellcheck disable=SC2086
    "$SG" -q train uplift --data "$D/log.csv" --treatment treatment --control control \
        --outcome margin --propensity propensity --id customer_id --ignore converted \
        ${TRAIN_OPTS:-} --out "$D/model.sgm" >/dev/null
    "$SG" -q predict --model "$D/model.sgm" --data "$D/customers.csv" --out "$D/pred.csv"
    echo "seed $s"
    $PY bench/uplift_se.py --truth "$D/truth.csv" --pred "$D/pred.csv" --json "$D/se.json"
done
$PY - "$OUT" ${SEEDS:-1 2 3} <<'PYEOF'
import json, sys
import numpy as np
out, seeds = sys.argv[1], sys.argv[2:]
runs = [json.load(open("%s/s%s/se.json" % (out, s)))["arms"] for s in seeds]
print("mean over seeds %s" % " ".join(seeds))
print("arm\tcorr\tslope\trmse\tmean_se\tcover90\tfifths (predicted/true)")
for arm in runs[0]:
    v = {k: np.mean([r[arm][k] for r in runs]) for k in ("corr", "slope", "rmse", "mean_se", "cover90")}
    f = np.mean([r[arm]["fifths"] for r in runs], axis=0)
    print("%s\t%.3f\t%.3f\t%.4f\t%.4f\t%.3f\t%s" % (arm, v["corr"], v["slope"], v["rmse"],
          v["mean_se"], v["cover90"], " ".join("%.3f/%.3f" % (p, t) for p, t in f)))
PYEOF

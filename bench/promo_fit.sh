#!/usr/bin/env bash
# promo_fit.sh -- 'train promo' on Dominick's orange juice (weeks 40-136) against
# the same estimator written in numpy (bench/promo_fit.py), both scored on the
# 24 later weeks: time, elasticities and held-out RMSE of log units.  The C side
# runs one penalty and window (the ones its own validation chose), so both fit
# the same thing; ours also computes the week-clustered covariance and its draws.
set -euo pipefail
cd "$(dirname "$0")/.."
S=${STRATAGEM:-build/stratagem}
PY=/usr/bin/python3
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX
fi
[ -x "$S" ] || { echo "promo_fit.sh: $S not found; run 'make' first" >&2; exit 1; }
W=bench/out/promo_fit
mkdir -p "$W"
scripts/oj-panel.sh "$(scripts/fetch-data.sh bayesm-orangejuice)" 136 "$W"
ARGS=(--data "$W/oj_train.csv" --store store --product brand --week week --units units
      --price price --deal deal --feature feat --cost cost)
"$S" -q train promo "${ARGS[@]}" --out "$W/oj.sgm" > "$W/train_full.txt"
l2=$(sed -n 's/.*store-slope penalty \([^,]*\),.*/\1/p' "$W/train_full.txt")
rw=$(sed -n 's/.*from the last \([0-9]*\) weeks.*/\1/p' "$W/train_full.txt")
best=1000000
for i in 1 2 3; do
    t0=$(date +%s.%N)
    "$S" -q train promo "${ARGS[@]}" --slope-grid "$l2" --recent-weeks "$rw" --out "$W/oj1.sgm" > "$W/train1.txt"
    best=$(awk -v a="$t0" -v b="$(date +%s.%N)" -v m="$best" 'BEGIN { t = b - a; print (t < m ? t : m) }')
done
ours_rmse=$("$S" -q evaluate --model "$W/oj1.sgm" --data "$W/oj_test.csv" --json | sed -n 's/.*"rmse_log_units": \([0-9.e-]*\).*/\1/p')
peer=$($PY bench/promo_fit.py "$W/oj_train.csv" "$W/oj_test.csv" "$l2" "$rw")
$PY - "$best" "$ours_rmse" "$peer" "$W/train1.txt" <<'PYEOF'
import json, sys
ours_t, ours_rmse, peer = float(sys.argv[1]), float(sys.argv[2]), json.loads(sys.argv[3])
el = [float(l.split("\t")[1]) for l in open(sys.argv[4]) if l[:1].isdigit()]
d = max(abs(a - b) for a, b in zip(el, peer["elasticity"]))
print("train promo (whole program: read, fit, covariance, 200 draws, write): %.2f s" % ours_t)
print("numpy, the same estimator (fit, covariance, 200 draws; no read): %.2f s" % peer["seconds"])
print("ratio numpy / ours: %.2f" % (peer["seconds"] / ours_t))
print("held-out RMSE of log units: ours %.4f, numpy %.4f (each store x brand's mean: %.4f); "
      "largest elasticity difference %.4f" % (ours_rmse, peer["rmse"], peer["store_mean_rmse"], d))
PYEOF

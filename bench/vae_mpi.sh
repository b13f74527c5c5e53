#!/usr/bin/env bash
# vae_mpi.sh -- Mult-VAE training in one process against two (mpirun -np 2), on
# the same MovieLens-small split, the same options and seed: training seconds,
# the ratio, and both models' test NDCG@100.  On one 2-core machine two processes
# share the cores (one thread each, against two threads for the single process)
# and pay for summing the gradients every step; the point of several processes
# is several machines (`mpirun --host a,b`), which this bench cannot show.
#
#   bench/vae_mpi.sh [EPOCHS]     (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
SG="${SG:-build/stratagem}"
EPOCHS=${1:-30}
ML=../shared/data/movielens-small
[ -f "$ML/ratings.csv" ] || ML=data/movielens-small
OUT=bench/out/vae_mpi
mkdir -p "$OUT"
"$SG" -q recommend split --data "$ML/ratings.csv" --user userId --item movieId --rating rating \
    --min-rating 3.5 --seed 1 --out-dir "$OUT/split" > /dev/null
A=(--data "$OUT/split/train.csv" --user userId --item movieId --epochs "$EPOCHS" --batch 100
   --ensemble 1 --enc-passes 0 --ema 0 --val-users 0 --seed 1)
one=$("$SG" -q train recommend "${A[@]}" --out "$OUT/one.sgm" | awk '$1 == "seconds" { print $2 }')
two=$(mpirun --allow-run-as-root --oversubscribe -np 2 "$SG" -q train recommend "${A[@]}" \
      --out "$OUT/two.sgm" | awk '$1 == "seconds" { print $2 }')
ndcg() { "$SG" -q evaluate --model "$1" --foldin "$OUT/split/test_foldin.csv" \
             --heldout "$OUT/split/test_heldout.csv" --json | tr -d ' \n' |
         sed 's/.*"ndcg@100":\([0-9.]*\).*/\1/'; }
echo "one process (all cores):      $one s, test NDCG@100 $(ndcg "$OUT/one.sgm")"
echo "two processes (mpirun -np 2): $two s, test NDCG@100 $(ndcg "$OUT/two.sgm")"
awk -v a="$one" -v b="$two" 'BEGIN { printf "ratio, seconds one/two: %.2fx\n", a / b }'

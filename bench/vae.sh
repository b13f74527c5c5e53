#!/usr/bin/env bash
# vae.sh -- Mult-VAE training epoch: stratagem against PyTorch, same network and data.
#
#   bench/vae.sh [EPOCHS]     (default 3; the median epoch time of each is compared)
#
# Data (bench/out/, generated once by bench/vae_gen.py):
#   vae_synth.csr  10,000 users x 10,000 items, ~60 interactions per user, Zipf item
#                  popularity (20 batches of 500 users per epoch)
#   vae_ml.csr     MovieLens-small ratings >= 3.5 (671 users x 6,993 items; 2 batches)
# Both sides: [I-600-200-600-I], tanh, dropout 0.5, batch 500, Adam 1e-3, KL annealing,
# 2 threads (OMP_NUM_THREADS/torch.set_num_threads and the BLAS).  PyTorch (Debian
# python3-torch, OpenBLAS underneath like us) builds each dense batch as the
# reference implementations do; we keep the batch sparse.
# Assumes 'make' has built build/libstratagem.a (or $BUILD/libstratagem.a).
set -eu
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
BUILD=${BUILD:-build}
OUT=bench/out
EPOCHS=${1:-3}
mkdir -p "$OUT"
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX
fi
[ -f "$OUT/vae_synth.csr" ] ||
    $PY bench/vae_gen.py synth "$OUT/vae_synth.csr" --users 10000 --items 10000
[ -f "$OUT/vae_ml.csr" ] || $PY bench/vae_gen.py movielens "$OUT/vae_ml.csr" \
    /work/shared/data/movielens-small/ratings.csv
cc -std=c11 -O2 -Iinclude bench/bench_vae.c "$BUILD/libstratagem.a" -fopenmp \
    $(pkg-config --libs openblas 2>/dev/null || echo -lopenblas) -lm -lpthread -o "$OUT/bench_vae"

field() { sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p"; }

for data in vae_synth vae_ml; do
    echo "== $data"
    theirs=$($PY bench/vae_peer.py "$OUT/$data.csr" --epochs "$EPOCHS" --threads 2)
    ours=$("$OUT/bench_vae" "$OUT/$data.csr" --epochs "$EPOCHS" --threads 2)
    echo "$theirs"
    echo "$ours"
    tt=$(echo "$theirs" | grep '^peer:' | field epoch_s)
    ot=$(echo "$ours" | grep '^ours:' | field epoch_s)
    awk -v o="$ot" -v t="$tt" 'BEGIN {
        printf "ratio: epoch time ours/pytorch = %.3f (%.2fx faster)\n", o / t, t / o }'
done

#!/usr/bin/env bash
# dcgan.sh -- a class-conditional DCGAN on Fashion-MNIST: stratagem (bench/bench_dcgan.c)
# against the same networks in PyTorch (bench/dcgan_peer.py, Debian python3-torch).
#
# Both train the same generator and discriminator (same layers, same parameter
# counts, printed) with batch 64 for STEPS steps (default 200) on the real
# training images, after 10 untimed warm-up steps, with 2 threads each, and print
# their wall-clock time per step; then the ratio peer / ours (> 1: ours faster).
# Both sides run back to back, so they see the same machine load; on a shared
# machine run it twice.  Both run with OMP_WAIT_POLICY=passive: each mixes OpenMP
# threads with OpenBLAS's pthreads on 2 cores, and spinning OpenMP workers starve
# the BLAS threads (on a loaded machine PyTorch went from 0.8 to 5.8 s per step
# without it, and ours similarly).
#
# Usage: bench/dcgan.sh [steps (default 200)]
# Data: /work/shared/data/fashion-mnist (or $FASHION_MNIST).  Assumes 'make' has
# built build/libstratagem.a (else compiles the sources it needs).
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS="${1:-200}"
DATA="${FASHION_MNIST:-/work/shared/data/fashion-mnist}"
PY=/usr/bin/python3
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX  # OpenBLAS 0.3.21 does not know some AVX-512 CPUs
fi
mkdir -p bench/out

CFLAGS="-std=c11 -O2 -fopenmp -Iinclude -Isrc -D_GNU_SOURCE"
LIBS="$(pkg-config --libs openblas 2>/dev/null || echo -lopenblas) -lpng -lz -lm -lpthread"
if [ -f build/libstratagem.a ] &&
   nm build/libstratagem.a 2>/dev/null | grep -q ' T sg_dcgan_train_epoch$'; then
    cc $CFLAGS bench/bench_dcgan.c build/libstratagem.a $LIBS -o bench/out/bench_dcgan
else
    echo "dcgan.sh: build/libstratagem.a missing or without dcgan.o; compiling what it needs" >&2
    cc $CFLAGS -DSG_USE_BLAS $(pkg-config --cflags openblas 2>/dev/null) src/util/*.c \
        src/io/serial.c src/io/idx.c src/nn/*.c src/linalg/linalg.c src/models/modelfile.c \
        src/models/dcgan.c src/models/cnn_classifier.c bench/bench_dcgan.c $LIBS \
        -o bench/out/bench_dcgan
fi

echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
echo "== peer: PyTorch, same networks, 2 threads, $STEPS steps of batch 64"
peer=$(OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 OMP_WAIT_POLICY=passive \
       "$PY" bench/dcgan_peer.py "$DATA" "$STEPS" 2)
echo "$peer"
echo "== ours: sg_dcgan_train_epoch, 2 threads, $STEPS steps of batch 64"
ours=$(OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 OMP_WAIT_POLICY=passive \
       bench/out/bench_dcgan "$DATA" "$STEPS" 2)
echo "$ours"

echo "== comparison (ratio = peer ms per step / ours; > 1 means ours is faster)"
printf '%s\n%s\n' "$peer" "$ours" | awk '
    { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[$1, kv[1]] = kv[2] } }
    END {
      pg = v["peer", "params_g"]; pd = v["peer", "params_d"]
      og = v["ours", "params_g"]; od = v["ours", "params_d"]
      if (pg != og || pd != od)
          printf "WARNING: parameter counts differ (peer %s/%s, ours %s/%s)\n", pg, pd, og, od
      printf "peer %.1f ms/step, ours %.1f ms/step, ratio %.2fx\n", v["peer", "ms_per_step"],
             v["ours", "ms_per_step"], v["peer", "ms_per_step"] / v["ours", "ms_per_step"] }'

#!/usr/bin/env bash
# linear.sh -- L2 logistic regression: stratagem (Newton, bench/bench_linear.c)
# against scikit-learn (lbfgs, bench/linear_peer.py) on a 1M x 20 synthetic
# table and the CoIL 2000 training rows, l2 = 1 (C = 1), unstandardised.
#
# Prints each side's mean penalised loss, best-of-R fit time and iterations,
# then the loss difference (relative) and the time ratio peer / ours.
# Both get 2 threads: the peer as OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = 2;
# ours as 2 OpenMP threads that each sweep half the rows and call BLAS
# single-threaded (OPENBLAS_NUM_THREADS=1; see n_workers() in linear.c).
#
# Usage: bench/linear.sh [repeats (default 3)]
# Assumes 'make' has built build/libstratagem.a (else compiles the few sources
# it needs).  Data: bench/linear_gen.py writes bench/out/linear_1m_*.f32.
set -euo pipefail
cd "$(dirname "$0")/.."
R="${1:-3}"
PY=/usr/bin/python3
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX  # OpenBLAS 0.3.21 does not know some AVX-512 CPUs
fi
mkdir -p bench/out
[ -f bench/out/linear_1m_X.f32 ] || "$PY" bench/linear_gen.py

CFLAGS="-std=c11 -O2 -fopenmp -Iinclude -Isrc -D_GNU_SOURCE"
BLAS_LIBS="$(pkg-config --libs openblas 2>/dev/null || echo -lopenblas)"
if [ -f build/libstratagem.a ] && nm build/libstratagem.a 2>/dev/null | grep -q ' T sg_linear_train$'; then
    cc $CFLAGS bench/bench_linear.c build/libstratagem.a $BLAS_LIBS -lm -lpthread \
        -o bench/out/bench_linear
else
    echo "linear.sh: build/libstratagem.a missing or without linear.o; compiling what it needs" >&2
    cc $CFLAGS -DSG_USE_BLAS $(pkg-config --cflags openblas 2>/dev/null) src/util/*.c \
        src/io/serial.c src/linalg/linalg.c src/models/linear.c bench/bench_linear.c \
        $BLAS_LIBS -lm -lpthread -o bench/out/bench_linear
fi

echo "== peer: scikit-learn LogisticRegression(lbfgs, C=1, tol=1e-6), 2 threads"
peer=$(OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2 "$PY" bench/linear_peer.py "$R")
echo "$peer"
echo "== ours: sg_linear_train (Newton, l2=1), 2 threads"
ours=$(OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 bench/out/bench_linear "$R")
echo "$ours"

echo "== comparison (time ratio = peer / ours; loss diff = (ours - peer) / peer)"
printf '%s\n%s\n' "$peer" "$ours" | awk '
    { name = $1; for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      if (!(name in pl)) { pl[name] = v["loss"]; pt[name] = v["time"]; pi[name] = v["iters"];
                           order[++n] = name }
      else { ol[name] = v["loss"]; ot[name] = v["time"]; oi[name] = v["iters"] } }
    END {
      printf "%-6s %18s %18s %10s %9s %9s %7s %6s %6s\n", "table", "peer loss", "our loss",
             "loss diff", "peer s", "our s", "ratio", "p.it", "o.it"
      for (k = 1; k <= n; k++) { t = order[k]
        printf "%-6s %18.12f %18.12f %10.2e %9.4f %9.4f %6.1fx %6d %6d\n", t, pl[t], ol[t],
               (ol[t] - pl[t]) / pl[t], pt[t], ot[t], pt[t] / ot[t], pi[t], oi[t] } }'

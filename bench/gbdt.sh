#!/usr/bin/env bash
# gbdt.sh -- gradient boosting: xgboost 'hist' (peer) against sg_gbdt (ours).
#
# Data: CoIL 2000 (rows with is_test == 0, fixed 80/20 split) and a generated
# 1M x 20 table with a nonlinear binary target and missing values (800k train,
# 200k test), both from bench/gbdt_gen.py into bench/out/.  Same settings on
# both sides (see bench/gbdt_peer.py): depth-6 trees (xgboost depthwise
# max_depth=6; ours max_leaves=64, max_depth=6), eta 0.1, lambda 1,
# min_child_weight 1, 255 bins, no subsampling, GBDT_THREADS threads (default 2);
# 100 rounds on CoIL (COIL_ROUNDS), 200 on the table (TABLE_ROUNDS).
# Times cover data preparation (DMatrix / binning) plus training; "cpu" is the
# process CPU time, which is the steadier figure on a shared machine.
#
# Usage: bench/gbdt.sh [coil] [1m]      (links build/libstratagem.a when it has
# sg_gbdt, else compiles the few sources it needs)
set -euo pipefail
cd "$(dirname "$0")/.."
export GBDT_THREADS="${GBDT_THREADS:-2}"
# Idle OpenMP threads sleep instead of spinning (both sides use libgomp).  On a
# shared machine spinning makes both libraries' times depend on the neighbours'
# load (xgboost on CoIL: 0.17 s passive, 9.5 s spinning, same run); set
# OMP_WAIT_POLICY=active to measure spinning anyway.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
sets=("$@")
[ ${#sets[@]} -eq 0 ] && sets=(coil 1m)

if [ ! -f bench/out/gbdt_1m.meta ] || [ ! -f bench/out/coil_split.u8 ]; then
    /usr/bin/python3 bench/gbdt_gen.py
fi

mkdir -p bench/out
bin=bench/out/bench_gbdt
cflags="-std=c11 -O2 -g -fopenmp -D_GNU_SOURCE -Iinclude -Isrc"
lib=build/libstratagem.a
if [ -f "$lib" ] && nm "$lib" 2>/dev/null | grep -q 'T sg_gbdt_train'; then
    cc $cflags bench/bench_gbdt.c "$lib" -lm -lpthread -o "$bin"
else
    cc $cflags bench/bench_gbdt.c src/models/gbdt.c src/io/serial.c src/util/*.c \
        -lm -lpthread -o "$bin"
fi

printf '%-9s %-8s %9s %9s %9s\n' data who AUC wall_s cpu_s
for s in "${sets[@]}"; do
    peer=$(/usr/bin/python3 bench/gbdt_peer.py "$s")
    ours=$("$bin" "$s")
    printf '%s\n%s\n' "$peer" "$ours" | awk '
        { name = $2; auc[$1] = $4; wall[$1] = $6; cpu[$1] = $8
          printf "%-9s %-8s %9.4f %9.2f %9.2f\n", name, ($1 == "peer" ? "xgboost" : "ours"),
                 $4, $6, $8 }
        END { printf "%-9s AUC ours - xgboost %+.4f   time ours / xgboost: wall %.2f, cpu %.2f\n",
                     name, auc["ours"] - auc["peer"], wall["ours"] / wall["peer"],
                     cpu["ours"] / cpu["peer"] }'
done

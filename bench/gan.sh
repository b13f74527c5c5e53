#!/usr/bin/env bash
# gan.sh -- a CTGAN epoch: PyTorch (peer, bench/gan_peer.py) against stratagem (ours,
# bench/bench_gan.c), the same networks, data and thread count.
#
# Data: the kernlab income survey (8,993 rows x 14 coded columns) and CoIL 2000
# (9,822 rows x 85 coded columns, id and is_test dropped); 80% of the rows train.
# Networks: CTGAN defaults (batch 500, pac 10, noise 128, generator and critic
# 256-256, gradient penalty by double backprop, Adam 2e-4 (0.5, 0.9)).  Both sides
# run one warm-up epoch and time the next EPOCHS (default 3): wall and process CPU
# seconds per epoch.  Threads: GAN_THREADS (default 2) for both (torch threads;
# OMP_NUM_THREADS and OPENBLAS_NUM_THREADS for ours).
#
# Usage: bench/gan.sh [income] [coil]      (needs build/libstratagem.a: make; LIB=path
# selects another build of the library)
set -euo pipefail
cd "$(dirname "$0")/.."
export GAN_THREADS="${GAN_THREADS:-2}" EPOCHS="${EPOCHS:-3}"
export OMP_NUM_THREADS="$GAN_THREADS" OPENBLAS_NUM_THREADS="$GAN_THREADS"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX
fi
sets=("$@")
[ ${#sets[@]} -eq 0 ] && sets=(income coil)
D=/work/shared/data
mkdir -p bench/out
bin=bench/out/bench_gan
cc -std=c11 -O2 -g -fopenmp -D_GNU_SOURCE -Iinclude -Isrc bench/bench_gan.c "${LIB:-build/libstratagem.a}" \
    -ljansson $(pkg-config --libs openblas 2>/dev/null || echo -lopenblas) -lm -lpthread -o "$bin"

printf '%-7s %-8s %6s %5s %5s %9s %9s\n' data who rows Dd Cc epoch_s cpu_s
for s in "${sets[@]}"; do
    case "$s" in
    income) args=("$D/kernlab-income-survey/income.csv" "$EPOCHS" "" "") ;;
    coil) args=("$D/coil2000-ticdata/ticdata.csv" "$EPOCHS" id is_test) ;;
    *) echo "gan.sh: unknown data set '$s' (income, coil)" >&2; exit 2 ;;
    esac
    peer=$(/usr/bin/python3 bench/gan_peer.py "${args[@]}")
    ours=$("$bin" "${args[@]}")
    printf '%s\n%s\n' "$peer" "$ours" | awk -v name="$s" '
        { who = $1; rows[who] = $3; dd[who] = $5; cc[who] = $7; w[who] = $11; c[who] = $13
          printf "%-7s %-8s %6d %5d %5d %9.3f %9.3f\n", name, (who == "peer" ? "pytorch" : "ours"),
                 $3, $5, $7, $11, $13 }
        END { if (rows["ours"] != rows["peer"])
                  printf "%-7s WARNING: the two sides train on different row counts\n", name
              if (dd["ours"] != dd["peer"])
                  printf "%-7s note: widths differ by %.1f%% (levels are taken from different " \
                         "80%% samples; a code seen only in held-out rows is no level for ours)\n",
                         name, 100 * (dd["peer"] - dd["ours"]) / dd["ours"]
              printf "%-7s epoch time ours / pytorch: wall %.2f, cpu %.2f\n", name,
                     w["ours"] / w["peer"], c["ours"] / c["peer"] }'
done

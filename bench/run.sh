#!/usr/bin/env bash
# run.sh -- every benchmark, peer and ours in the same run, ratios printed.
# Run by 'make bench' (which installs the peers first); never part of 'make test'.
#   bench/run.sh [NAME...]   NAME in: csv json gbdt linear assign uplift vae gan dcgan promo_fit
#                            promo budget serve
#                            (default: all of these; uplift_bench1m, 1M customers x 4 arms,
#                            takes about 8 minutes, and vae_mpi, one process against two
#                            under mpirun, run only when named)
# Each bench writes its data into bench/out/ (git-ignored).
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX
fi
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(csv json gbdt linear assign uplift vae gan dcgan promo_fit promo budget serve)
status=0
for n in "${names[@]}"; do
    echo "===== bench/$n.sh"
    if ! "bench/$n.sh"; then
        echo "bench/$n.sh failed" >&2
        status=1
    fi
done
exit $status

#!/usr/bin/env bash
# demo.sh -- the main job end to end on public data (run by 'make demo').
#
# Each part of the job is one file in scripts/demo/, run in the order of its
# number: NN-name.sh.  A part sees SG (the program), OUT (the output folder),
# ROOT (the repository) and the helpers step() and data(); it may read what an
# earlier part left in OUT.  `scripts/demo.sh 30 40` runs only the parts whose
# number is given.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SG="$ROOT/build/stratagem"
OUT="$ROOT/demo-out"
mkdir -p "$OUT"
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX
fi
step() { printf '\n== %s\n' "$*"; }
data() { scripts/fetch-data.sh "$1"; }   # folder of a public data set
START=$SECONDS
for part in scripts/demo/[0-9][0-9]-*.sh; do
    n="$(basename "$part")"; n="${n%%-*}"
    if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$n"; then continue; fi
    t0=$SECONDS
    # shellcheck source=/dev/null
    . "$part"
    printf '   (%s: %d s)\n' "$(basename "$part" .sh)" $((SECONDS - t0))
done
printf '\nDemo outputs are in %s (%d s in all)\n' "$OUT" $((SECONDS - START))

#!/usr/bin/env bash
# assign.sh -- budgeted assignment: time, memory and plan value against peers.
#
#   1M customers x 4 arms (30% budget), without and with per-arm caps:
#       ours (sg_assign_solve) vs the usual numpy greedy (best net arm per
#       customer, ranked by net value per unit cost, taken while the budget lasts)
#   20k customers x 4 arms: ours vs the exact optimum of scipy's MILP (HiGHS);
#       also checks our Lagrangian bound against HiGHS's LP bound.
# Assumes 'make' has built build/libstratagem.a (or $BUILD/libstratagem.a).
# Instances go to bench/out/ and are deleted after use.
set -eu
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
BUILD=${BUILD:-build}
OUT=bench/out
mkdir -p "$OUT"
cc -std=c11 -O2 -Iinclude bench/bench_assign.c "$BUILD/libstratagem.a" -lm -lpthread -fopenmp \
    -o "$OUT/bench_assign"

field() { sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p"; }

run() {   # run N CAP_FRAC PEER
    local n=$1 capf=$2 peer=$3 inst="$OUT/assign_$1_$2.bin"
    local ours theirs
    ours=$("$OUT/bench_assign" "$n" 4 0.3 "$inst" "$capf")
    theirs=$($PY bench/assign_peer.py "$inst" "$peer")
    echo "$ours"
    echo "$theirs"
    local ov tv ot tt
    ov=$(echo "$ours" | grep '^ours:' | field value)
    ot=$(echo "$ours" | grep '^ours:' | field time_s)
    tv=$(echo "$theirs" | field value); tt=$(echo "$theirs" | field time_s)
    awk -v ov="$ov" -v tv="$tv" -v ot="$ot" -v tt="$tt" -v p="$peer" 'BEGIN {
        printf "ratio: value ours/%s = %.6f, time ours/%s = %.3f\n", p, ov / tv, p, ot / tt }'
    if [ "$peer" = milp ]; then
        local ob lb
        ob=$(echo "$ours" | grep '^ours:' | field bound); lb=$(echo "$theirs" | field lp_bound)
        awk -v ob="$ob" -v lb="$lb" 'BEGIN { printf "bound: ours %.6f, HiGHS LP %.6f\n", ob, lb }'
    fi
    rm -f "$inst"
    echo
}

echo "== 1M x 4, budget only"; run 1000000 0 greedy
echo "== 1M x 4, caps 5% of N per arm"; run 1000000 0.05 greedy
echo "== 20k x 4, budget only, vs exact MILP"; run 20000 0 milp
echo "== 20k x 4, caps 5% of N per arm, vs exact MILP"; run 20000 0.05 milp

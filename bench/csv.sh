#!/usr/bin/env bash
# csv.sh -- CSV import benchmark: stratagem (sg_table_load_csv) against pandas.read_csv
# and sqlite3 '.import --csv' into an in-memory database, on the same ~1 GB file.
#
#   bench/csv.sh [FILE]      (default bench/out/csv_1g.csv, generated if missing)
#
# Assumes 'make' has built build/libstratagem.a.  The file is read once first so
# that every reader finds it in the page cache.  Each reader runs once, one after
# the other; the last two lines give the ratios (higher is better for us): wall-clock
# MB/s, and CPU seconds (user + system), which a busy machine disturbs less.
set -euo pipefail
cd "$(dirname "$0")/.."
FILE=${1:-bench/out/csv_1g.csv}
BUILD=${BUILD:-build}
PY=/usr/bin/python3

if [ ! -f "$FILE" ]; then
    echo "csv.sh: generating $FILE" >&2
    $PY bench/csv_gen.py 10000000 "$FILE" >&2
fi
if [ ! -f "$BUILD/libstratagem.a" ]; then
    echo "csv.sh: run 'make' first ($BUILD/libstratagem.a)" >&2
    exit 1
fi
mkdir -p bench/out
cc -std=c11 -O2 -D_GNU_SOURCE -Iinclude bench/bench_csv.c "$BUILD/libstratagem.a" -lm -lpthread \
    -o bench/out/bench_csv

mb=$(stat -c %s "$FILE" | awk '{printf "%.1f", $1 / 1e6}')
cat "$FILE" > /dev/null
echo "file: $FILE ($mb MB)"

ours=$(bench/out/bench_csv "$FILE" | head -1)
pandas=$($PY bench/csv_peer.py "$FILE")

# sqlite3: wall time from the shell; CPU seconds and peak RSS from GNU time.
t0=$(date +%s.%N)
sq=$( { /usr/bin/time -f "%U %S %M" sqlite3 :memory: ".import --csv $FILE t" \
        "SELECT count(*) FROM t;" >/dev/null; } 2>&1 | tail -1)
t1=$(date +%s.%N)
sqlite=$(awk -v a="$t0" -v b="$t1" -v mb="$mb" -v r="$sq" 'BEGIN {
    split(r, x, " "); s = b - a
    printf "sqlite3: MB/s=%.1f seconds=%.3f cpu_s=%.3f peak_rss_mb=%.1f", mb / s, s, x[1] + x[2],
           x[3] / 1024 }')

echo "$pandas"
echo "$sqlite"
echo "$ours"
field() { sed -n "s#.* $1=\([0-9.]*\).*#\1#p" <<< "$2"; }   # field NAME LINE
awk -v o="$(field MB/s "$ours")" -v p="$(field MB/s "$pandas")" -v s="$(field MB/s "$sqlite")" \
    -v oc="$(field cpu_s "$ours")" -v pc="$(field cpu_s "$pandas")" \
    -v sc="$(field cpu_s "$sqlite")" 'BEGIN {
    printf "ratio, wall MB/s ours/peer:   pandas %.2fx, sqlite3 %.2fx\n", o / p, o / s
    printf "ratio, CPU seconds peer/ours: pandas %.2fx, sqlite3 %.2fx\n", pc / oc, sc / oc }'

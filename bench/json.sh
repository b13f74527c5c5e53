#!/usr/bin/env bash
# json.sh -- JSON lines import benchmark: stratagem (sg_table_load_csv on a .jsonl
# file, src/io/jsonrows.c) against pandas.read_json(lines=True), on the same file.
#
#   bench/json.sh [ROWS]     (default 1000000 rows, about 230 MB of JSON lines)
#
# The file is bench/csv_gen.py's customer table written by pandas as JSON lines
# (empty cells as null).  Assumes 'make' has built build/libstratagem.a.  The file
# is read once first so that both readers find it in the page cache; each reads it
# once; the last two lines give the ratios (higher is better for us).
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
BUILD=${BUILD:-build}
PY=/usr/bin/python3
CSV=bench/out/json_$ROWS.csv
FILE=bench/out/json_$ROWS.jsonl
mkdir -p bench/out
if [ ! -f "$FILE" ]; then
    echo "json.sh: generating $FILE" >&2
    $PY bench/csv_gen.py "$ROWS" "$CSV" >&2
    $PY -c 'import sys, pandas as pd
pd.read_csv(sys.argv[1], keep_default_na=False, na_values=[""]).to_json(
    sys.argv[2], orient="records", lines=True)' "$CSV" "$FILE"
    rm -f "$CSV"
fi
if [ ! -f "$BUILD/libstratagem.a" ]; then
    echo "json.sh: run 'make' first ($BUILD/libstratagem.a)" >&2
    exit 1
fi
cc -std=c11 -O2 -D_GNU_SOURCE -Iinclude bench/bench_csv.c "$BUILD/libstratagem.a" -lm \
    -lpthread -o bench/out/bench_csv

mb=$(stat -c %s "$FILE" | awk '{printf "%.1f", $1 / 1e6}')
cat "$FILE" > /dev/null
echo "file: $FILE ($mb MB, $ROWS rows)"
ours=$(bench/out/bench_csv "$FILE" | head -1)
pandas=$($PY bench/csv_peer.py "$FILE")
echo "$pandas"
echo "$ours"
field() { sed -n "s#.* $1=\([0-9.]*\).*#\1#p" <<< "$2"; }   # field NAME LINE
awk -v o="$(field MB/s "$ours")" -v p="$(field MB/s "$pandas")" \
    -v oc="$(field cpu_s "$ours")" -v pc="$(field cpu_s "$pandas")" \
    -v orss="$(field peak_rss_mb "$ours")" -v prss="$(field peak_rss_mb "$pandas")" 'BEGIN {
    printf "ratio, wall MB/s ours/pandas: %.2fx\n", o / p
    printf "ratio, CPU seconds pandas/ours: %.2fx; peak RSS pandas/ours: %.2fx\n", pc / oc, prss / orss }'

#!/usr/bin/env bash
# test_features.sh BUILD_DIR -- 'stratagem features' end to end: usage errors, the
# same features from a CSV, from JSON lines and from a workspace's imported events,
# dates against Unix seconds, the cut-off and its targets, and bad data named by
# file and line.  Prints one line per case and closes with "N passed, N failed".
set -u
BUILD="${1:-build}"
SG="$BUILD/stratagem"
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
PREFIX=features
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

# 400 customers, each with a few orders over 2023-2024 (deterministic: awk's srand)
awk 'BEGIN { srand(7); print "customer,day,amount,dept"; split("bread fruit milk wine", d, " ")
  for (c = 1; c <= 400; c++) { n = 1 + int(rand() * 8); t = int(rand() * 300)
    for (k = 0; k < n; k++) { t += 1 + int(rand() * 60)
      printf "C%d,%d,%.2f,%s\n", c, 19358 + t, 5 + 50 * rand(), d[1 + int(rand() * 4)] } } }' \
    > "$T/days.csv"
# the same events with dates, and with Unix seconds (noon)
awk -F, 'NR == 1 { print "customer,when,amount,dept"; next }
  { s = $2 * 86400; printf "%s,%s,%s,%s\n", $1, strftime("%Y-%m-%d", s, 1), $3, $4 }' \
    "$T/days.csv" > "$T/dates.csv"
awk -F, 'NR == 1 { print "customer,ts,amount,dept"; next }
  { printf "%s,%d,%s,%s\n", $1, $2 * 86400 + 43200, $3, $4 }' "$T/days.csv" > "$T/secs.csv"
scripts/csv2jsonl.sh "$T/dates.csv" > "$T/dates.jsonl"
COMMON=(--customer customer --amount amount --category dept --windows 30,90 --label-days 60)

# 1. usage
expect 1.1 0 "Usage: stratagem features" -- "$SG" features --help
expect 1.2 0 "customer features from their events" -- "$SG" --help
expect 1.3 2 "missing --customer" -- "$SG" features --data "$T/dates.csv" --time when --out "$T/x.csv"
expect 1.4 2 "--time-unit must be seconds or days" -- "$SG" features --data "$T/secs.csv" \
    --customer customer --time ts --time-unit hours --out "$T/x.csv"
expect 1.5 2 "is a number: give --time-unit" -- "$SG" features --data "$T/secs.csv" \
    --customer customer --time ts --as-of 1700000000 --out "$T/x.csv"
expect 1.6 2 "--windows must be" -- "$SG" features --data "$T/dates.csv" --customer customer \
    --time when --windows 30,x --out "$T/x.csv"
expect 1.7 2 "need a cut-off" -- "$SG" features --data "$T/dates.csv" --customer customer \
    --time when --label-days 30 --out "$T/x.csv"

# 2. the features, three ways
expect 2.1 0 "400 customers x 17 columns (2 targets) as of 2024-01-01" -- "$SG" features \
    --data "$T/dates.csv" --time when --as-of 2024-01-01 "${COMMON[@]}" --out "$T/f_dates.csv"
head -1 "$T/f_dates.csv" | grep -q '^customer,recency_days,tenure_days,frequency,mean_gap_days,events_30d,events_90d,amount_total,amount_mean,amount_30d,amount_90d,share_' &&
    ok 2.2 || bad 2.2 "header: $(head -1 "$T/f_dates.csv")"
expect 2.3 0 "" -- "$SG" -q features --data "$T/days.csv" --time day --time-unit days \
    --as-of 19723 "${COMMON[@]}" --out "$T/f_days.csv"
cmp -s "$T/f_dates.csv" "$T/f_days.csv" && ok 2.4 || bad 2.4 "dates and day numbers differ"
expect 2.5 0 "" -- "$SG" -q features --data "$T/dates.jsonl" --time when --as-of 2024-01-01 \
    "${COMMON[@]}" --out "$T/f_json.csv"
cmp -s "$T/f_dates.csv" "$T/f_json.csv" && ok 2.6 || bad 2.6 "JSON lines and CSV differ"
"$SG" init "$T/ws.db" > /dev/null 2>&1
expect 2.7 0 "imported" -- "$SG" import "$T/ws.db" "$T/dates.csv" --as events
expect 2.8 0 "" -- "$SG" -q features --data "$T/ws.db:events" --time when --as-of 2024-01-01 \
    "${COMMON[@]}" --out "$T/f_ws.csv"
cmp -s "$T/f_dates.csv" "$T/f_ws.csv" && ok 2.9 || bad 2.9 "the workspace's events differ"
# Unix seconds at noon: recency and tenure half a day longer, the rest the same
expect 2.10 0 "" -- "$SG" -q features --data "$T/secs.csv" --time ts --time-unit seconds \
    --as-of 2024-01-02 "${COMMON[@]}" --out "$T/f_secs.csv"
paste -d, "$T/f_dates.csv" "$T/f_secs.csv" | awk -F, -v n=18 'NR > 1 {
    if ($1 != $(n + 1)) bad++; if ($2 != "" && ($2 - ($(n + 2) - 0.5)) ^ 2 > 1e-12) bad++
    if ($4 != $(n + 4)) bad++ } END { exit bad > 0 }' && ok 2.11 ||
    bad 2.11 "seconds and dates disagree"
# the cut-off holds: every event of the target window lies after it, none in the features
awk -F, 'NR > 1 && $2 > 19723 && $2 <= 19783 { came[$1] = 1 }
  END { for (c in came) print c }' "$T/days.csv" | sort > "$T/came.txt"
awk -F, 'NR == 1 { for (k = 1; k <= NF; k++) if ($k == "active_next_60d") j = k; next }
  $j == 1 { print $1 }' "$T/f_dates.csv" | sort > "$T/active.txt"
known="$(awk -F, 'NR > 1 { print $1 }' "$T/f_dates.csv" | sort)"
cmp -s "$T/active.txt" <(comm -12 "$T/came.txt" <(printf '%s\n' "$known")) && ok 2.12 ||
    bad 2.12 "active_next_60d is not the customers with an order in the 60 days after"

# 3. bad data
printf 'customer,when\nC1,2024-01-01\nC2,\n' > "$T/bad.csv"
expect 3.1 3 "bad.csv:3: column 'when': an event without a time" -- "$SG" features \
    --data "$T/bad.csv" --customer customer --time when --out "$T/x.csv"
expect 3.2 3 "required column 'who' not found" -- "$SG" features --data "$T/dates.csv" --customer who \
    --time when --out "$T/x.csv"
[ ! -e "$T/x.csv" ] && ok 3.3 || bad 3.3 "a failed run left an output"

finish

#!/usr/bin/env bash
# test_budget.sh BUILD_DIR -- the media-mix commands end to end: a world with
# known truth on a seasonal baseline (world budget), train budget, evaluate and
# predict on later weeks, plan budget (and plain plan on a budget model) with
# its summary, the truth's score, and errors that name the file, line and value.
# Prints one line per case and closes with "N passed, N failed".
set -u
BUILD="${1:-build}"
SG="$BUILD/stratagem"
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
PREFIX=budget
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

# a seasonal weekly baseline with noise (deterministic: awk's srand(seed))
awk 'BEGIN { srand(3); print "week,units"
  for (w = 1; w <= 117; w++) printf "%d,%.1f\n", w, 10000 * (1 + 0.15 * sin(6.2831853 * w / 52)) + 200 * (rand() - 0.5) }' > "$T/base.csv"
FIT=(--period week --outcome sales --channels tv,search,social,display --controls queries --season 52 --draws 30)

# 1. usage
expect 1.1 0 "Usage: stratagem train budget" -- "$SG" train budget --help
expect 1.2 2 "missing --channels" -- "$SG" train budget --data "$T/base.csv" --period week --outcome units --out "$T/x.sgm"
expect 1.3 0 "Usage: stratagem plan budget" -- "$SG" plan budget --help
expect 1.4 0 "stratagem world budget-score" -- "$SG" help world

# 2. the world and its truth
expect 2.1 0 "" -- "$SG" -q world budget --baseline "$T/base.csv" --period week --outcome units --seed 2 --out "$T/all.csv" --truth "$T/truth.json"
head -1 "$T/all.csv" | grep -q "^week,queries,tv,search,social,display,sales$" && ok 2.2 || bad 2.2 "$(head -1 "$T/all.csv")"
grep -q '"name": "tv"' "$T/truth.json" && ok 2.3 || bad 2.3 "$(head -5 "$T/truth.json")"
head -105 "$T/all.csv" > "$T/train.csv"
{ head -1 "$T/all.csv"; tail -13 "$T/all.csv"; } > "$T/later.csv"

# 3. train: every channel's curve and return
expect 3.1 0 "" -- "$SG" -q train budget --data "$T/all.csv" "${FIT[@]}" --out "$T/m.sgm"
"$SG" -q train budget --data "$T/train.csv" "${FIT[@]}" --out "$T/m104.sgm" > "$T/train.txt" 2>&1
grep -q "series: 104 periods, 4 channels, 1 controls, seasonal" "$T/train.txt" && ok 3.2 || bad 3.2 "$(head -2 "$T/train.txt")"
[ "$(grep -c -E '^(tv|search|social|display)	' "$T/train.txt")" = 4 ] && ok 3.3 || bad 3.3 "$(cat "$T/train.txt")"
# the same series imported into a workspace's spend table gives the same model
"$SG" -q init "$T/ws.db" && "$SG" -q import "$T/ws.db" "$T/all.csv" --as spend > /dev/null 2>&1
expect 3.4 0 "" -- "$SG" -q train budget --data "$T/ws.db:spend" "${FIT[@]}" --out "$T/ws.sgm"
cmp -s "$T/ws.sgm" "$T/m.sgm" && ok 3.5 || bad 3.5 "the model from WS:spend differs from the CSV's"

# 4. evaluate and predict the 13 later weeks
expect 4.1 0 "13 periods: RMSE" -- "$SG" -q evaluate --model "$T/m104.sgm" --data "$T/later.csv"
"$SG" -q evaluate --model "$T/m104.sgm" --data "$T/later.csv" --json > "$T/ev.json"
grep -q '"covered"' "$T/ev.json" && grep -q '"by_period"' "$T/ev.json" && ok 4.2 || bad 4.2 "$(head -5 "$T/ev.json")"
expect 4.3 0 "" -- "$SG" -q predict --model "$T/m104.sgm" --data "$T/later.csv" --out "$T/pred.csv"
[ "$(awk 'END { print NR }' "$T/pred.csv")" = 14 ] && head -1 "$T/pred.csv" | grep -q "^week,outcome_hat,outcome_lo,outcome_hi$" \
    && ok 4.4 || bad 4.4 "$(head -2 "$T/pred.csv")"
expect 4.5 3 "later.csv:2: column 'week': expected period 118" -- "$SG" -q evaluate --model "$T/m.sgm" --data "$T/later.csv"

# 5. plan budget, its summary, plain plan on a budget model, the truth's score
expect 5.1 0 "forecast (the draws' mean" -- "$SG" -q plan budget --model "$T/m.sgm" --budget 26000 --weeks 13 --out "$T/plan.csv" --summary "$T/plan.json"
[ "$(awk 'END { print NR }' "$T/plan.csv")" = 5 ] && head -1 "$T/plan.csv" | grep -q "^channel,week_spend," \
    && ok 5.2 || bad 5.2 "$(cat "$T/plan.csv")"
awk -F, 'NR > 1 { s += $3 } END { exit !(s <= 26000.001 && s > 25000) }' "$T/plan.csv" && ok 5.3 || bad 5.3 "$(cat "$T/plan.csv")"
grep -q '"forecast"' "$T/plan.json" && grep -q '"current_mix"' "$T/plan.json" && ok 5.4 || bad 5.4 "$(head -5 "$T/plan.json")"
expect 5.5 0 "split of 26000.00 over 13 periods" -- "$SG" -q plan --model "$T/m.sgm" --budget 26000 --out "$T/plan2.csv"
expect 5.6 0 "share of the best effect" -- "$SG" world budget-score --truth "$T/truth.json" --summary "$T/plan.json"
"$SG" world budget-score --truth "$T/truth.json" --summary "$T/plan.json" --json > "$T/score.json"
grep -q '"share"' "$T/score.json" && ok 5.7 || bad 5.7 "$(cat "$T/score.json")"
expect 5.8 0 "maximising margin x outcome - spend" -- "$SG" -q plan budget --model "$T/m.sgm" --budget 26000 --margin 0.5 --out "$T/plan3.csv"

# 6. errors name the file, line, column and value
awk -F, 'NR == 7 { $3 = "-5" } { print }' OFS=, "$T/all.csv" > "$T/neg.csv"
expect 6.1 3 "neg.csv:7: column 'tv': expected a spend >= 0, got \"-5\"" -- "$SG" -q train budget --data "$T/neg.csv" "${FIT[@]}" --out "$T/x.sgm"
expect 6.2 2 "'radio' is not a channel of the model" -- "$SG" -q plan budget --model "$T/m.sgm" --budget 26000 --max radio=5 --out "$T/x.csv"
expect 6.3 2 "expected CHANNEL=SPEND" -- "$SG" -q plan budget --model "$T/m.sgm" --budget 26000 --min tv --out "$T/x.csv"
expect 6.4 3 "give lower --min values" -- "$SG" -q plan budget --model "$T/m.sgm" --budget 10 --out "$T/x.csv"
expect 6.5 2 "budget B (> 0) is required" -- "$SG" -q plan budget --model "$T/m.sgm" --out "$T/x.csv"
head -c 100 "$T/m.sgm" > "$T/cut.sgm"
expect 6.6 3 "" -- "$SG" -q plan budget --model "$T/cut.sgm" --budget 26000 --out "$T/x.csv"
[ ! -e "$T/x.csv" ] && ok 6.7 || bad 6.7 "a failed plan left $T/x.csv"

# 7. outputs that are not regular files: a FIFO is written in place (renaming over it, or
# over /dev/null, would replace it with a file); a model is refused there
mkfifo "$T/fifo"
cat "$T/fifo" > "$T/from_fifo.txt" &
reader=$!
expect 7.1 0 "" -- "$SG" -q plan budget --model "$T/m.sgm" --budget 26000 --out "$T/fifo"
# a plan that failed before opening the FIFO leaves the reader waiting: release it
if kill -0 "$reader" 2>/dev/null; then timeout 5 sh -c ': > "$1"' sh "$T/fifo" 2>/dev/null; fi
wait
[ -p "$T/fifo" ] && [ "$(awk 'END { print NR }' "$T/from_fifo.txt")" = 5 ] && ok 7.2 \
    || bad 7.2 "$(ls -l "$T/fifo"; cat "$T/from_fifo.txt")"
expect 7.3 3 "cannot write a model there: not a regular file" -- "$SG" -q train budget --data "$T/all.csv" "${FIT[@]}" --out "$T"
finish

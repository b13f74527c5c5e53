#!/usr/bin/env bash
# test_promo.sh BUILD_DIR -- the promo commands end to end on a small panel drawn
# from a known model (4 stores, 2 products, 30 weeks; own elasticity -2, cross
# 0.3, deal +0.2, feature +0.7): train (the elasticities found), predict,
# evaluate on later weeks, plan promo and plain plan on a promo model, the JSON
# summary, and errors that name the file, line and value.
# Prints one line per case and closes with "N passed, N failed".
set -u
BUILD="${1:-build}"
SG="$BUILD/stratagem"
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
PREFIX=promo
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

panel() {  # $1 first week, $2 last week, $3 seed
    awk -v w0="$1" -v w1="$2" -v seed="$3" 'function n() { return sqrt(-2 * log(1 - rand())) * cos(6.2831853 * rand()) }
    BEGIN { srand(seed); print "store,product,week,units,price,deal,feat,cost"
      base[1] = 3; base[2] = 2.5
      for (w = w0; w <= w1; w++) for (s = 1; s <= 4; s++) {
        for (p = 1; p <= 2; p++) { d[p] = rand() < 0.3; f[p] = rand() < 0.2
                                   lp[p] = log(base[p]) + 0.15 * n() - 0.1 * d[p] }
        for (p = 1; p <= 2; p++) {
          y = 6 + 0.3 * s - 2 * lp[p] + 0.3 * lp[3 - p] + 0.2 * d[p] + 0.7 * f[p] + 0.1 * n()
          printf "st%d,%d,%d,%.6g,%.6g,%d,%d,%.6g\n", s, p, w, exp(y), exp(lp[p]), d[p], f[p], 0.6 * base[p] } } }'
}
panel 1 30 1 > "$T/train.csv"
panel 31 36 2 > "$T/test.csv"
printf 'store,product,price,cost\nst1,1,3,1.8\nst1,2,2.5,1.5\nst2,1,3,1.8\nst3,2,2.5,1.5\n' > "$T/items.csv"
TRAIN=(train promo --data "$T/train.csv" --store store --product product --week week
       --units units --price price --deal deal --feature feat --cost cost --valid-weeks 6
       --draws 50)

# 1. usage
expect 1.1 0 "Usage: stratagem train promo" -- "$SG" train promo --help
expect 1.2 2 "needs --units COL or --log-units COL" -- "$SG" train promo --data "$T/train.csv" \
    --store store --product product --week week --price price --out "$T/x.sgm"
expect 1.3 0 "Usage: stratagem plan promo" -- "$SG" plan promo --help

# 2. train: the elasticities and effects are found
expect 2.1 0 "" -- "$SG" -q "${TRAIN[@]}" --out "$T/m.sgm"
"$SG" -q "${TRAIN[@]}" --out "$T/m.sgm" > "$T/train.txt" 2>&1
awk -F'\t' '$1 == "1" || $1 == "2" { n++; if ($2 < -2.2 || $2 > -1.8 || $5 < 0.1 || $5 > 0.3 || $7 < 0.6 || $7 > 0.8) bad = 1 }
    END { exit !(n == 2 && !bad) }' "$T/train.txt" && ok 2.2 || bad 2.2 "$(cat "$T/train.txt")"
grep -q "4 stores, 2 products, 30 weeks" "$T/train.txt" && ok 2.3 || bad 2.3 "$(head -2 "$T/train.txt")"

# 3. predict and evaluate on later weeks
expect 3.1 0 "" -- "$SG" -q predict --model "$T/m.sgm" --data "$T/test.csv" --out "$T/pred.csv"
n=$(awk 'END { print NR }' "$T/pred.csv")
head -1 "$T/pred.csv" | grep -q "^store,product,week,units_hat$" && [ "$n" = 49 ] && ok 3.2 ||
    bad 3.2 "$(head -2 "$T/pred.csv"), $n lines"
"$SG" -q evaluate --model "$T/m.sgm" --data "$T/test.csv" --json > "$T/ev.json"
/usr/bin/python3 - "$T/ev.json" <<'PY' && ok 3.3 || bad 3.3 "$(cat "$T/ev.json" | head -20)"
import json, sys
e = json.load(open(sys.argv[1]))
assert e["rows"] == 48 and e["weeks"] == 6 and len(e["by_week"]) == 6
assert 0.05 < e["rmse_log_units"] < 0.4, e["rmse_log_units"]
assert 0.8 < e["forecast_over_actual_units"] < 1.25
assert "covered_profit" in e
PY
expect 3.4 0 "weeks inside the 90% interval" -- "$SG" -q evaluate --model "$T/m.sgm" --data "$T/test.csv"

# 4. plans: 'plan promo' and 'plan' on a promo model give the same plan
expect 4.1 0 "lift" -- "$SG" -q plan promo --model "$T/m.sgm" --data "$T/items.csv" \
    --changes -10,0,10 --deal-cost 5 --feature-cost 40 --budget 100 --out "$T/plan.csv" \
    --summary "$T/plan.json"
"$SG" -q plan --model "$T/m.sgm" --data "$T/items.csv" --changes -10,0,10 --deal-cost 5 \
    --feature-cost 40 --budget 100 --out "$T/plan2.csv" > /dev/null 2>&1
cmp -s "$T/plan.csv" "$T/plan2.csv" && ok 4.2 || bad 4.2 "plans differ"
/usr/bin/python3 - "$T/plan.json" "$T/plan.csv" <<'PY' && ok 4.3 || bad 4.3 "$(cat "$T/plan.json")"
import csv, json, sys
j = json.load(open(sys.argv[1]))
rows = list(csv.DictReader(open(sys.argv[2])))
assert len(rows) == 4 and j["items"] == 4
f, l = j["forecast"], j["lift"]
assert f["profit_lo"] <= f["profit"] <= f["profit_hi"]
assert l["profit_lo"] <= l["profit"] <= l["profit_hi"]
assert abs(l["profit"] - (l["uncorrected"] - l["optimism"])) < 1e-6 * abs(l["profit"]) + 1e-6
spend = sum(float(r["spend"]) for r in rows)
assert spend <= 100 + 1e-9 and abs(spend - f["spend"]) < 1e-6 * spend + 1e-9
for r in rows:
    assert float(r["change_pct"]) in (-10, 0, 10) and r["deal"] in "01" and r["feature"] in "01"
PY

# 5. errors name the file, line and value
printf 'store,product,price,cost\nst1,1,3,1.8\nst9,1,3,1.8\n' > "$T/bad_items.csv"
expect 5.1 3 "bad_items.csv:3: column 'store': expected a store the model was trained on, got \"st9\"" -- \
    "$SG" -q plan promo --model "$T/m.sgm" --data "$T/bad_items.csv" --out "$T/p.csv"
printf 'store,product,price\nst1,1,3\n' > "$T/nocost.csv"
expect 5.2 3 "no column 'cost'" -- "$SG" -q plan promo --model "$T/m.sgm" --data "$T/nocost.csv" \
    --out "$T/p.csv"
sed '3s/,[0-9.e+-]*,\([0-9.e+-]*\),\([01]\),\([01]\),/,-1,\1,\2,\3,/' "$T/train.csv" > "$T/bad_units.csv"
expect 5.3 3 "bad_units.csv:3: column 'units': expected units sold > 0" -- "$SG" -q train promo \
    --data "$T/bad_units.csv" --store store --product product --week week --units units \
    --price price --out "$T/x.sgm"
expect 5.4 2 "outside (-100, 100]" -- "$SG" -q plan promo --model "$T/m.sgm" --data "$T/items.csv" \
    --changes -100 --out "$T/p.csv"
[ ! -e "$T/p.csv" ] && ok 5.5 || bad 5.5 "a plan file was left behind by a failed run"
expect 5.6 3 "is not a stratagem model file" -- "$SG" -q plan promo --model "$T/train.csv" \
    --data "$T/items.csv" --out "$T/p.csv"

finish

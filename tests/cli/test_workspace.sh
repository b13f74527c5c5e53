#!/usr/bin/env bash
# test_workspace.sh [BUILD_DIR] -- the workspace commands end to end: init,
# import (exit codes, checksum skip, merge), status, WS:TABLE as --data,
# plan --workspace, plans, feedback (statuses, predicted vs actual, the campaign
# log growing), plan --explore / --thompson with their propensities, and JSON
# imports and feedback files, on a small campaign with known truth.
#
# Runs against a SQLite file always, and again against PostgreSQL when
# SG_TEST_PG holds a postgresql:// URI (scripts/pg-test.sh sets it: 'make
# test'), in a fresh schema of that database dropped at the end.  Prints one
# line per case and closes with "N passed, N failed".
set -u
BUILD="${1:-build}"
SG="$BUILD/stratagem"
T="$(mktemp -d /tmp/sg-ws.XXXXXX)"
PREFIX=ws-sqlite   # cases print as ws-sqlite-N, then ws-pg-N
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
DROP=""
trap 'if [ -n "$DROP" ]; then psql -q "$SG_TEST_PG" -c "DROP SCHEMA $DROP CASCADE" >/dev/null 2>&1; fi; rm -rf "$T"' EXIT

# a campaign log with known truth: email adds 2*max(x1,0) - 0.5 to the margin
awk 'BEGIN { srand(5); print "customer_id,x1,x2,seg,treatment,propensity,margin";
  for (i = 0; i < 3000; i++) { x1 = rand() * 4 - 2; x2 = rand() * 2; t = rand() < 0.5;
    e = (x1 > 0 ? 2 * x1 : 0) - 0.5; y = 5 + x2 + (t ? e : 0) + (rand() - 0.5);
    printf "L%d,%.4f,%.4f,%s,%s,0.5,%.4f\n", i, x1, x2, i % 3 ? "a" : "b", t ? "email" : "control", y } }' > "$T/log.csv"
awk 'BEGIN { srand(6); print "customer_id,x1,x2,seg";
  for (i = 0; i < 2000; i++) printf "C%d,%.4f,%.4f,%s\n", i, rand() * 4 - 2, rand() * 2, i % 3 ? "a" : "b" }' > "$T/customers.csv"
printf 'customer_id,x1,x2\nC1,1,2\nC2,oops\n' > "$T/bad.csv"
printf 'customer_id,seg,vip\nC1,z,1\nC9999,a,0\n' > "$T/upd.csv"
printf 'customer_id,revenue\nC1,3\n' > "$T/wrong.csv"
printf '{"customer_id": "C1", "seg": "z", "vip": 1}\n{"customer_id": "C10000", "seg": "a", "vip": null}\n' \
    > "$T/upd.jsonl"
printf '[\n  {"customer_id": "C5", "x1": 1},\n  {"customer_id": "C6",\n    "x1": [1, 2]}\n]\n' > "$T/bad.json"

# outcomes FILE PLAN SEED: the truth for the plan's executed actions (its 'action'
# column) with the plan's propensities: customer_id,margin,treatment,propensity
outcomes() {
    awk -F, -v seed="$3" 'BEGIN { srand(seed) }
      FNR == 1 { if (NR != FNR) for (k = 1; k <= NF; k++) col[$k] = k; next }
      NR == FNR { x1[$1] = $2; x2[$1] = $3; next }
      { id = $1; a = $2; p = ("propensity" in col) ? $col["propensity"] : 1
        e = (x1[id] > 0 ? 2 * x1[id] : 0) - 0.5
        y = 5 + x2[id] + (a != "control" ? e : 0) + (rand() - 0.5)
        printf "%s,%.4f,%s,%s\n", id, y, a, p }' "$T/customers.csv" "$2" > "$T/body.csv"
    { echo "customer_id,margin,treatment,propensity"; cat "$T/body.csv"; } > "$1"
}

# small models and bootstraps: the sanitizer build runs this too
TRAIN=(--treatment treatment --control control --outcome margin --propensity propensity
       --id customer_id --cv 3 --repeats 1 --trees 100)

suite() {
rm -f "$T"/*.sgm "$T"/plan*.csv "$T"/plan*.json "$T/shop.db"
# 1. help and usage
expect 1.1 0 "Usage: stratagem import" -- "$SG" import --help
expect 1.2 2 "missing --as" -- "$SG" import "$WS" "$T/log.csv"
expect 1.3 2 "--as must be" -- "$SG" import "$WS" "$T/log.csv" --as logs
expect 1.4 1 "no workspace" -- "$SG" status "$WS"
expect 1.5 2 "missing --plan" -- "$SG" feedback "$WS" --results "$T/log.csv"

# 2. init, import, status
expect 2.1 0 "created workspace" -- "$SG" init "$WS"
expect 2.2 0 "nothing to do" -- "$SG" init "$WS"
expect 2.3 0 "3000 rows (3000 new, 0 merged)" -- "$SG" import "$WS" "$T/log.csv" --as campaigns \
--id customer_id --treatment treatment --control control --outcome margin --propensity propensity
expect 2.4 0 "already imported as campaigns" -- "$SG" import "$WS" "$T/log.csv" --as campaigns
expect 2.5 2 "needs --id" -- "$SG" import "$WS" "$T/customers.csv" --as customers
expect 2.6 0 "2000 rows (2000 new" -- "$SG" import "$WS" "$T/customers.csv" --as customers --id customer_id
"$SG" status "$WS" > "$T/status1.txt" 2>&1
expect 2.7 3 "bad.csv:3: expected 3 fields, got 2" -- "$SG" import "$WS" "$T/bad.csv" --as customers
"$SG" status "$WS" > "$T/status2.txt" 2>&1
cmp -s "$T/status1.txt" "$T/status2.txt" && ok 2.8 || bad 2.8 "a failed import changed the status"
grep -q "^campaigns *3000 *7  customer_id$" "$T/status1.txt" && ok 2.9 || bad 2.9 "status: $(grep campaigns "$T/status1.txt" | head -1)"
expect 2.10 0 "2 rows (1 new, 1 merged), 1 new columns" -- "$SG" import "$WS" "$T/upd.csv" --as customers

# 3. the plan loop (needs train uplift and plan --workspace)
expect 3.1 0 "" -- "$SG" -q train uplift --data "$WS:campaigns" "${TRAIN[@]}" --out "$T/m1.sgm"
expect 3.2 0 "stored plan 1" -- "$SG" plan --model "$T/m1.sgm" --data "$WS:customers" --budget 50 \
    --cost email=0.1 --boot 200 --out "$T/plan1.csv" --summary "$T/plan1.json" --workspace "$WS"
grep -q '"plan_id": 1' "$T/plan1.json" && ok 3.3 || bad 3.3 "plan1.json has no plan_id"
expect 3.4 0 "2001 " -- "$SG" plans "$WS"
# outcomes from the truth; a fifth of the targeted customers held out at random
awk -F, -v seed=9 'BEGIN { srand(seed) }
  FNR == 1 { next }
  NR == FNR { x1[$1] = $2; x2[$1] = $3; next }
  { id = $1; a = $2; p = 1; e = (x1[id] > 0 ? 2 * x1[id] : 0) - 0.5
    if (a != "control") { if (rand() < 0.2) { a = "control"; p = 0.2 } else p = 0.8 }
    y = 5 + x2[id] + (a != "control" ? e : 0) + (rand() - 0.5)
    printf "%s,%.4f,%s,%s\n", id, y, a, p }' "$T/customers.csv" "$T/plan1.csv" > "$T/body.csv"
{ echo "customer_id,margin,treatment,propensity"; cat "$T/body.csv"; echo "C5,1,control,1"; echo "L7,1,control,1"; echo "nobody,1,control,1"; } > "$T/results.csv"
expect 3.5 0 "1 duplicate, 1 outside the plan, 1 unknown" -- "$SG" feedback "$WS" --plan 1 \
    --results "$T/results.csv" --summary "$T/fb.json"
grep -q '"identifiable": true' "$T/fb.json" && ok 3.6 || bad 3.6 "the realised effect was not estimated"
expect 3.7 0 "recorded before" -- "$SG" feedback "$WS" --plan 1 --results "$T/results.csv"
expect 3.8 0 "^campaigns *5001 " -- "$SG" status "$WS"
expect 3.9 0 "" -- "$SG" -q train uplift --data "$WS:campaigns" "${TRAIN[@]}" --out "$T/m2.sgm"
expect 3.10 3 "not a column of the campaign log" -- "$SG" feedback "$WS" --plan 1 --results "$T/wrong.csv"
expect 3.11 2 "no plan 7" -- "$SG" feedback "$WS" --plan 7 --results "$T/results.csv"
expect 3.12 0 "\"realised\"" -- "$SG" plans "$WS" --json
expect 3.13 2 "linear-start must be a penalty >= 0" -- "$SG" train uplift --data "$WS:campaigns" \
    "${TRAIN[@]}" --linear-start -1 --out "$T/bad.sgm"

# 4. exploration: plan --explore / --thompson, propensities, feedback of the executed plan
expect 4.1 0 "stored plan 2" -- "$SG" plan --model "$T/m1.sgm" --data "$WS:customers" --budget 50 \
    --cost email=0.1 --explore 0.2 --seed 3 --boot 200 --out "$T/plan2.csv" --summary "$T/plan2.json" \
    --workspace "$WS"
head -1 "$T/plan2.csv" | grep -q ",propensity,planned_action,planned_effect,explored$" && ok 4.2 ||
    bad 4.2 "plan2.csv header: $(head -1 "$T/plan2.csv")"
# (1 - F) [action = planned] + F / A with F = 0.2, A = 2; explored near 400 of 2000
chk="$(awk -F, 'NR > 1 { want = ($2 == $8 ? 0.9 : 0.1); if ($7 + 0 != want) badp++
    nx += $10; if ($2 != $8 && $10 != 1) badx++; cost += $4 }
    END { printf "%d %d %d %.6f", badp, badx, nx, cost }' "$T/plan2.csv")"
set -- $chk
[ "$1" = 0 ] && [ "$2" = 0 ] && [ "$3" -gt 320 ] && [ "$3" -lt 480 ] && ok 4.3 ||
    bad 4.3 "propensities/explored: $chk"
fcost="$(awk '/"forecast": \{/ { f = 1 } f && /"cost":/ { gsub(/,/, "", $2); print $2; exit }' "$T/plan2.json")"
awk -v c="$4" -v f="$fcost" 'BEGIN { exit !(c <= 50 + 1e-9 && c - f < 1e-6 && f - c < 1e-6) }' && ok 4.4 ||
    bad 4.4 "executed cost $4, summary cost $fcost, budget 50"
grep -q '"plan_id": 2' "$T/plan2.json" && grep -q '"exploration"' "$T/plan2.json" && ok 4.5 ||
    bad 4.5 "plan2.json lacks plan_id 2 or exploration"
"$SG" -q plan --model "$T/m1.sgm" --data "$WS:customers" --budget 50 --cost email=0.1 \
    --explore 0.2 --seed 3 --boot 0 --out "$T/plan2b.csv" >/dev/null 2>&1
cmp -s <(cut -d, -f1,2,7,8,10 "$T/plan2.csv") <(cut -d, -f1,2,7,8,10 "$T/plan2b.csv") && ok 4.6 ||
    bad 4.6 "the same seed gave another draw"
outcomes "$T/results2.csv" "$T/plan2.csv" 11
expect 4.7 0 "as executed" -- "$SG" feedback "$WS" --plan 2 --results "$T/results2.csv" \
    --summary "$T/fb2.json"
grep -q '"executed": true' "$T/fb2.json" && grep -q '"identifiable": true' "$T/fb2.json" &&
    ok 4.8 || bad 4.8 "the executed plan was not valued"
# the realised effect against the truth of the executed actions (within 4 standard errors)
truth="$(awk -F, 'NR == FNR { if (FNR > 1) x1[$1] = $2; next }
    FNR > 1 && $2 != "control" { s += (x1[$1] > 0 ? 2 * x1[$1] : 0) - 0.5 } END { print s }' \
    "$T/customers.csv" "$T/plan2.csv")"
rz="$(awk '/"realised": \{/ { f = 1 } f && /"effect":|"se":/ { gsub(/,/, "", $2); printf "%s ", $2 }
    f && /}/ { exit }' "$T/fb2.json")"
set -- $rz
awk -v r="$1" -v s="$2" -v t="$truth" 'BEGIN { exit !(s > 0 && (r - t) < 4 * s && (t - r) < 4 * s) }' &&
    ok 4.9 || bad 4.9 "realised $1 (se $2), truth of the executed plan $truth"
expect 4.10 0 "^campaigns *7002 " -- "$SG" status "$WS"
expect 4.11 2 "--explore must be in" -- "$SG" plan --model "$T/m1.sgm" --data "$T/customers.csv" \
    --budget 50 --cost email=0.1 --explore 1 --out "$T/x.csv"
expect 4.12 3 "lower the exploration share" -- "$SG" plan --model "$T/m1.sgm" \
    --data "$T/customers.csv" --budget 5 --cost email=0.1 --explore 0.5 --out "$T/x.csv"
expect 4.13 0 "Thompson sampling over 40 draws" -- "$SG" plan --model "$T/m1.sgm" \
    --data "$WS:customers" --budget 50 --cost email=0.1 --thompson --draws 40 --explore 0.1 \
    --boot 50 --out "$T/plan3.csv" --workspace "$WS"
chk="$(awk -F, 'NR > 1 { if (!($7 > 0 && $7 <= 1)) badp++; if ($7 < 0.9) lt++; cost += $4 }
    END { printf "%d %d %.6f", badp, lt, cost }' "$T/plan3.csv")"
set -- $chk
[ "$1" = 0 ] && [ "$2" -gt 0 ] && awk -v c="$3" 'BEGIN { exit !(c <= 50 + 1e-9) }' && ok 4.14 ||
    bad 4.14 "Thompson propensities/cost: $chk"

# 6. JSON in: imports and feedback files as JSON lines or arrays, read as their CSV would be
expect 6.1 0 "2 rows (1 new, 1 merged)" -- "$SG" import "$WS" "$T/upd.jsonl" --as customers
expect 6.2 0 "^customers *2002 " -- "$SG" status "$WS"
expect 6.3 3 "bad.json:4:11: key 'x1': expected a number, a string, true, false or null, got an array" \
    -- "$SG" import "$WS" "$T/bad.json" --as customers
expect 6.4 0 "^customers *2002 " -- "$SG" status "$WS"
outcomes "$T/results3.csv" "$T/plan3.csv" 12
scripts/csv2jsonl.sh "$T/results3.csv" > "$T/results3.jsonl"
expect 6.5 0 "as executed" -- "$SG" feedback "$WS" --plan 3 --results "$T/results3.jsonl"
expect 6.6 0 "^campaigns *9003 " -- "$SG" status "$WS"
}

WS="$T/shop.db"
suite

# 6.7: a model trained from the log as JSON lines is the model trained from the CSV, byte for byte
scripts/csv2jsonl.sh "$T/log.csv" > "$T/log.jsonl"
"$SG" -q train uplift --data "$T/log.csv" "${TRAIN[@]}" --out "$T/from_csv.sgm" > /dev/null 2>&1
"$SG" -q train uplift --data "$T/log.jsonl" "${TRAIN[@]}" --out "$T/from_json.sgm" > /dev/null 2>&1
PREFIX=ws-json
cmp -s "$T/from_csv.sgm" "$T/from_json.sgm" && ok 6.7 || bad 6.7 "JSON and CSV gave different models"

# 5. the plan's verdict against doing nothing (files only, run once): the log above
# shows a real email effect; a log where email does nothing must never be called a gain
# (treating nobody, unclear or a loss are all honest answers there)
PREFIX=plan
grep -q '"verdict": "gain"' "$T/plan1.json" && ok 5.1 || bad 5.1 "plan1.json: no gain verdict"
awk -F, 'BEGIN { OFS = "," } NR == 1 { print; next }
  { t = (NR % 2) ? "email" : "control"; $5 = t; print }' "$T/log.csv" > "$T/null_log.csv"
expect 5.2 0 "" -- "$SG" -q train uplift --data "$T/null_log.csv" "${TRAIN[@]}" --out "$T/null.sgm"
expect 5.3 0 "verdict: \(UNCLEAR\|LOSS\|NOTHING\)" -- "$SG" -q plan --model "$T/null.sgm" \
    --data "$T/customers.csv" --budget 50 --cost email=0.01 --boot 200 --out "$T/null_plan.csv" \
    --summary "$T/null_plan.json"
grep -q '"verdict": "\(unclear\|loss\|nothing\)"' "$T/null_plan.json" && ok 5.4 ||
    bad 5.4 "no-effect log: $(grep verdict "$T/null_plan.json")"
# the same log with a small real email effect (+0.03, its standard error about 0.03): every
# customer is worth treating at 0.01, but the log cannot tell the plan's net from zero
awk -F, 'BEGIN { OFS = "," } NR == 1 { print; next }
  { if ($5 == "email") $7 = sprintf("%.4f", $7 + 0.03); print }' "$T/null_log.csv" > "$T/weak_log.csv"
"$SG" -q train uplift --data "$T/weak_log.csv" "${TRAIN[@]}" --out "$T/weak.sgm" > /dev/null 2>&1
expect 5.5 0 "verdict: UNCLEAR: the 90% interval of the plan's net" -- "$SG" -q plan \
    --model "$T/weak.sgm" --data "$T/customers.csv" --budget 50 --cost email=0.01 --boot 200 \
    --out "$T/weak_plan.csv" --summary "$T/weak_plan.json"
grep -q '"verdict": "unclear"' "$T/weak_plan.json" && ok 5.6 ||
    bad 5.6 "weak-effect log: $(grep verdict "$T/weak_plan.json")"
if [ -n "${SG_TEST_PG:-}" ]; then
    PREFIX=ws-pg
    if command -v psql >/dev/null && psql -q "$SG_TEST_PG" -c "CREATE SCHEMA sgcli_$$" >/dev/null 2>&1; then
        DROP="sgcli_$$"
        case "$SG_TEST_PG" in
            *\?*) WS="$SG_TEST_PG&options=-csearch_path%3D$DROP" ;;
            *) WS="$SG_TEST_PG?options=-csearch_path%3D$DROP" ;;
        esac
        suite
    else
        bad 0 "SG_TEST_PG is set but no schema could be created there (psql)"
    fi
fi

finish

#!/usr/bin/env bash
# test_workspace.sh [BUILD_DIR] [PG_URI] -- the workspace commands end to end:
# init, import (exit codes, checksum skip, merge), status, WS:TABLE as --data,
# plan --workspace, plans, feedback (statuses, predicted vs actual, the campaign
# log growing), on a small campaign with known truth.
#
# With PG_URI (a postgresql:// URI, as scripts/pg-test.sh passes) the workspace
# is a fresh schema of that database, dropped at the end; else a SQLite file.
# The plan part runs only when 'train uplift' and 'plan --workspace' exist.
# Prints one line per case and closes with "N passed, N failed".
set -u
BUILD="${1:-build}"
PG="${2:-}"
SG="$BUILD/stratagem"
T="$(mktemp -d /tmp/sg-ws.XXXXXX)"
export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-SkylakeX}"
pass=0; fail=0
ok()  { pass=$((pass + 1)); echo "ok   ws-$1"; }
bad() { fail=$((fail + 1)); echo "FAIL ws-$1: $2"; }
# expect CASE CODE PATTERN -- CMD...: exit code CODE and output matching PATTERN
expect() {
    local name="$1" code="$2" pat="$3"; shift 4
    local out rc
    out="$("$@" 2>&1)"; rc=$?
    if [ "$rc" -ne "$code" ]; then bad "$name" "exit $rc, wanted $code: $(printf '%s' "$out" | head -3)"; return; fi
    if [ -n "$pat" ] && ! printf '%s' "$out" | grep -q -- "$pat"; then
        bad "$name" "output lacks '$pat': $(printf '%s' "$out" | head -3)"; return
    fi
    ok "$name"
}

if [ -n "$PG" ]; then
    SCHEMA="sgcli_$$"
    psql -q "$PG" -c "CREATE SCHEMA $SCHEMA" >/dev/null || { echo "FAIL ws-0: cannot create a schema"; exit 1; }
    case "$PG" in *\?*) WS="$PG&options=-csearch_path%3D$SCHEMA" ;; *) WS="$PG?options=-csearch_path%3D$SCHEMA" ;; esac
    trap 'psql -q "$PG" -c "DROP SCHEMA $SCHEMA CASCADE" >/dev/null 2>&1; rm -rf "$T"' EXIT
else
    WS="$T/shop.db"
    trap 'rm -rf "$T"' EXIT
fi

# a campaign log with known truth: email adds 2*max(x1,0) - 0.5 to the margin
awk 'BEGIN { srand(5); print "customer_id,x1,x2,seg,treatment,propensity,margin";
  for (i = 0; i < 3000; i++) { x1 = rand() * 4 - 2; x2 = rand() * 2; t = rand() < 0.5;
    e = (x1 > 0 ? 2 * x1 : 0) - 0.5; y = 5 + x2 + (t ? e : 0) + (rand() - 0.5);
    printf "L%d,%.4f,%.4f,%s,%s,0.5,%.4f\n", i, x1, x2, i % 3 ? "a" : "b", t ? "email" : "control", y } }' > "$T/log.csv"
awk 'BEGIN { srand(6); print "customer_id,x1,x2,seg";
  for (i = 0; i < 2000; i++) printf "C%d,%.4f,%.4f,%s\n", i, rand() * 4 - 2, rand() * 2, i % 3 ? "a" : "b" }' > "$T/customers.csv"
printf 'customer_id,x1,x2\nC1,1,2\nC2,oops\n' > "$T/bad.csv"

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
printf 'customer_id,seg,vip\nC1,z,1\nC9999,a,0\n' > "$T/upd.csv"
expect 2.10 0 "2 rows (1 new, 1 merged), 1 new columns" -- "$SG" import "$WS" "$T/upd.csv" --as customers

# 3. the plan loop (needs train uplift and plan --workspace)
if ! "$SG" -q train uplift --data "$WS:campaigns" --treatment treatment --control control \
        --outcome margin --propensity propensity --id customer_id --out "$T/m1.sgm" >/dev/null 2>&1 ||
   ! "$SG" plan --model "$T/m1.sgm" --workspace "$WS" --help >/dev/null 2>&1; then
    echo "skip ws-3: 'train uplift' or 'plan --workspace' is not wired into this build"
else
    ok "3.1 (train uplift --data WS:campaigns)"
    expect 3.2 0 "stored plan 1" -- "$SG" plan --model "$T/m1.sgm" --data "$WS:customers" --budget 50 \
        --cost email=0.1 --out "$T/plan1.csv" --summary "$T/plan1.json" --workspace "$WS"
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
    expect 3.9 0 "" -- "$SG" -q train uplift --data "$WS:campaigns" --treatment treatment \
        --control control --outcome margin --propensity propensity --id customer_id --out "$T/m2.sgm"
    printf 'customer_id,revenue\nC1,3\n' > "$T/wrong.csv"
    expect 3.10 3 "not a column of the campaign log" -- "$SG" feedback "$WS" --plan 1 --results "$T/wrong.csv"
    expect 3.11 2 "no plan 7" -- "$SG" feedback "$WS" --plan 7 --results "$T/results.csv"
    expect 3.12 0 "\"realised\"" -- "$SG" plans "$WS" --json
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/usr/bin/env bash
# test_world.sh BUILD_DIR -- 'stratagem world' end to end on a small CoIL-like file:
# help and usage errors, log and customers files (columns, ids, determinism),
# outcomes of a plan, scores of hand-made plans and their forecast check, the
# plan join of 'stratagem simulate', derived --sum features in a model, and
# errors that name the file, line and column.
# Prints one line per case and closes with "N passed, N failed".
set -u
BUILD="${1:-build}"
SG="$BUILD/stratagem"
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
PREFIX=world
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

# 300 CoIL-like customers: id, one extra feature, the columns of the truth, CARAVAN, is_test
COUNTS="AWAPART AWABEDR AWALAND APERSAUT ABESAUT AMOTSCO AVRAAUT AAANHANG ATRACTOR AWERKT ABROM
        ALEVEN APERSONG AGEZONG AWAOREG ABRAND AZEILPL APLEZIER AFIETS AINBOED ABYSTAND"
awk -v counts="$COUNTS" 'BEGIN { srand(11); n = split(counts, c, " ");
  printf "id,STYPE,MGEMLEEF,MFALLEEN,MINKGEM,MKOOPKLA,PPERSAUT,PBRAND";
  for (k = 1; k <= n; k++) printf ",%s", c[k]; print ",CARAVAN,is_test";
  for (i = 1; i <= 300; i++) {
    printf "%d,%d,%d,%d,%d,%d,%d,%d", i, 1 + int(rand() * 40), int(rand() * 6), int(rand() * 10),
      int(rand() * 10), 1 + int(rand() * 8), int(rand() * 10), int(rand() * 9);
    for (k = 1; k <= n; k++) printf ",%d", (rand() < 0.12) ? 1 + int(rand() * 2) : 0;
    printf ",%d,%d\n", (rand() < 0.06), (i > 200) } }' > "$T/coil.csv"
C=email=0.10,coupon10=0.10,coupon20=0.10

# 1. help and usage errors
expect 1.1 0 "Usage: stratagem world log" -- "$SG" world --help
expect 1.2 0 "stratagem world score" -- "$SG" help world
expect 1.3 2 "unknown subcommand 'bogus'" -- "$SG" world bogus
expect 1.4 2 "missing --customers" -- "$SG" world log --out "$T/x.csv"
expect 1.5 2 "missing --budget" -- "$SG" world score --customers "$T/coil.csv" --plan "$T/x.csv" --cost "$C"
expect 1.6 2 "no cost for arm 'coupon20'" -- "$SG" world score --customers "$T/coil.csv" \
    --plan "$T/x.csv" --budget 1 --cost email=0.1,coupon10=0.1
expect 1.7 2 "" -- "$SG" world

# 2. log and customers
expect 2.1 0 "world log: seed 3: 1000 rows" -- "$SG" world log --customers "$T/coil.csv" --rows 1000 --seed 3 --out "$T/log.csv"
"$SG" -q world log --customers "$T/coil.csv" --rows 1000 --seed 3 --out "$T/log2.csv" > /dev/null
"$SG" -q world log --customers "$T/coil.csv" --rows 1000 --seed 4 --out "$T/log3.csv" > /dev/null
cmp -s "$T/log.csv" "$T/log2.csv" && ok 2.2 || bad 2.2 "same seed gave different logs"
cmp -s "$T/log.csv" "$T/log3.csv" && bad 2.3 "another seed gave the same log" || ok 2.3
hdr="$(head -1 "$T/log.csv")"
case "$hdr" in
    customer_id,STYPE,MGEMLEEF,*,ABYSTAND,treatment,propensity,converted,margin) ok 2.4 ;;
    *) bad 2.4 "header: $hdr" ;;
esac
awk -F, 'NR > 1 { n++; if ($(NF-2) < 0.05 || $(NF-2) > 0.85) bad++; arms[$(NF-3)]++;
    if ($(NF-1) == 0 && $NF != 0) bad++; id[$1]++; if (id[$1] > 1) bad++ }
    END { exit !(n == 1000 && bad == 0 && length(arms) == 4) }' "$T/log.csv" && ok 2.5 \
    || bad 2.5 "log rows: propensities, arms or ids wrong"
# 1000 rows from 300 customers: each customer at least once, copies get + 10000
awk -F, 'NR > 1 { s[$1 % 10000]++; if ($1 >= 10000) copies++ } END { exit !(length(s) == 300 && copies == 700) }' \
    "$T/log.csv" && ok 2.6 || bad 2.6 "id scheme"
expect 2.7 0 "world customers: seed 3: 100 customers" -- "$SG" world customers --customers "$T/coil.csv" \
    --rows 100 --seed 3 --out "$T/cust.csv"
awk -F, 'NR == 1 { h = $0 } NR > 1 { n++; if ($1 < 1000000 || $1 > 1009999) bad++ }
    END { exit !(n == 100 && bad == 0 && h !~ /treatment|CARAVAN|is_test/) }' "$T/cust.csv" \
    && ok 2.8 || bad 2.8 "customers: ids or columns"
cut -d, -f1-7,9- "$T/coil.csv" > "$T/nofire.csv"   # drops PBRAND
expect 2.9 3 "nofire.csv: no column 'PBRAND'" -- "$SG" world log --customers "$T/nofire.csv" --out "$T/x.csv"
sed '5s/^\([0-9]*\),\([0-9]*\),[0-9]*,/\1,\2,,/' "$T/coil.csv" > "$T/gap.csv"   # MGEMLEEF missing on line 5
expect 2.10 3 "gap.csv:5: column 'MGEMLEEF'" -- "$SG" world customers --customers "$T/gap.csv" --out "$T/x.csv"
[ -e "$T/x.csv" ] && bad 2.11 "a failed command left its output" || ok 2.11

# 3. outcomes of a plan
{ echo "customer_id,action,expected_effect,cost"; awk -F, 'NR > 1 && NR <= 41 {
    a = (NR % 4 == 0) ? "control" : (NR % 4 == 1) ? "email" : (NR % 4 == 2) ? "coupon10" : "coupon20";
    print $1 "," a ",0.1,0.1" }' "$T/cust.csv"; } > "$T/plan.csv"
expect 3.1 0 "world outcomes: seed 5: 40 customers" -- "$SG" world outcomes --customers "$T/cust.csv" \
    --plan "$T/plan.csv" --seed 5 --out "$T/res.csv"
[ "$(head -1 "$T/res.csv")" = "customer_id,treatment,propensity,converted,margin" ] && \
    [ "$(wc -l < "$T/res.csv")" -eq 41 ] && \
    awk -F, 'NR > 1 && ($3 != 1 || ($4 == 0) != ($5 == 0)) { exit 1 }' "$T/res.csv" && ok 3.2 \
    || bad 3.2 "results: $(head -2 "$T/res.csv" | tr '\n' ' ')"
"$SG" -q world outcomes --customers "$T/cust.csv" --plan "$T/plan.csv" --seed 5 --out "$T/res2.csv" > /dev/null
cmp -s "$T/res.csv" "$T/res2.csv" && ok 3.3 || bad 3.3 "same seed gave different outcomes"
awk -F, 'BEGIN { OFS = "," } NR == 1 { print $0 ",propensity"; next } { print $0 "," 0.25 }' \
    "$T/plan.csv" > "$T/plan_p.csv"
"$SG" -q world outcomes --customers "$T/cust.csv" --plan "$T/plan_p.csv" --seed 5 --out "$T/res3.csv" > /dev/null
awk -F, 'NR > 1 && $3 != 0.25 { exit 1 }' "$T/res3.csv" && ok 3.4 || bad 3.4 "propensity not kept"
sed '3s/^[0-9]*,/42,/' "$T/plan.csv" > "$T/plan_unk.csv"
expect 3.5 3 "plan_unk.csv:3: customer 42 is not in" -- "$SG" world outcomes --customers "$T/cust.csv" \
    --plan "$T/plan_unk.csv" --out "$T/x.csv"
sed '4s/,coupon[0-9]*,\|,email,\|,control,/,sms,/' "$T/plan.csv" > "$T/plan_act.csv"
expect 3.6 3 "plan_act.csv:4: column 'action'.*\"sms\"" -- "$SG" world outcomes --customers "$T/cust.csv" \
    --plan "$T/plan_act.csv" --out "$T/x.csv"
{ cat "$T/plan.csv"; sed -n 2p "$T/plan.csv"; } > "$T/plan_dup.csv"
expect 3.7 3 "plan_dup.csv:42: customer .* appears twice (first at line 2)" -- "$SG" world outcomes \
    --customers "$T/cust.csv" --plan "$T/plan_dup.csv" --out "$T/x.csv"
printf 'customer_id,treatment\n1,email\n' > "$T/noaction.csv"
expect 3.8 3 "'action'" -- "$SG" world outcomes --customers "$T/cust.csv" --plan "$T/noaction.csv" --out "$T/x.csv"

# 4. scores
{ echo "customer_id,action"; awk -F, 'NR > 1 { print $1 ",control" }' "$T/cust.csv"; } > "$T/nobody.csv"
expect 4.1 0 "plan TRUE net       0.0000" -- "$SG" world score --customers "$T/cust.csv" --plan "$T/nobody.csv" \
    --budget 2 --cost "$C"
expect 4.2 0 "share of best       0.0000" -- "$SG" world score --customers "$T/cust.csv" --plan "$T/nobody.csv" \
    --budget 2 --cost "$C"
expect 4.3 0 "OVER THE BUDGET" -- "$SG" world score --customers "$T/cust.csv" --plan "$T/plan.csv" \
    --budget 2 --cost "$C"
# the 30 treated rows of plan.csv cost 3.0; its true net from --json; a forecast equal to it is covered
net="$("$SG" -q world score --customers "$T/cust.csv" --plan "$T/plan.csv" --budget 3 --cost "$C" --json |
    sed -n 's/^    "net": \(.*\),*$/\1/p' | head -1 | tr -d ,)"
[ -n "$net" ] && ok 4.4 || bad 4.4 "no plan net in --json"
awk -v n="$net" 'BEGIN { printf "{\"forecast\": {\"effect\": %.10g, \"net\": %.10g, ", n + 3, n;
    printf "\"net_lo\": %.10g, \"net_hi\": %.10g}}\n", n - 1, n + 1 }' > "$T/fc.json"
expect 4.5 0 "forecast / truth 1.000; the 90% interval covers the truth" -- "$SG" world score \
    --customers "$T/cust.csv" --plan "$T/plan.csv" --budget 3 --cost "$C" --summary "$T/fc.json"
awk -v n="$net" 'BEGIN { printf "{\"forecast\": {\"net\": %.10g, ", 2 * n + 1;
    printf "\"net_lo\": %.10g, \"net_hi\": %.10g}}\n", 2 * n, 2 * n + 2 }' > "$T/fc2.json"
expect 4.6 0 "MISSES the truth" -- "$SG" world score --customers "$T/cust.csv" --plan "$T/plan.csv" \
    --budget 3 --cost "$C" --summary "$T/fc2.json"
expect 4.7 0 '"share_of_best"' -- "$SG" world score --customers "$T/cust.csv" --plan "$T/plan.csv" \
    --budget 3 --cost "$C" --summary "$T/fc.json" --json
# a forecast of the plan's conversions (plan --objective value on a hurdle model) is scored too
conv="$("$SG" -q world score --customers "$T/cust.csv" --plan "$T/plan.csv" --budget 3 --cost "$C" --json |
    sed -n 's/^    "conversions": \(.*\),*$/\1/p' | head -1 | tr -d ,)"
awk -v n="$net" -v c="$conv" 'BEGIN { printf "{\"forecast\": {\"net\": %.10g, \"net_lo\": %.10g, ", n, n - 1;
    printf "\"net_hi\": %.10g, \"conversions\": {\"effect\": %.10g, \"effect_lo\": %.10g, ", n + 1, c, c - 1;
    printf "\"effect_hi\": %.10g}}}\n", c + 1 }' > "$T/fc3.json"
expect 4.9 0 "forecast conversions .*: forecast / truth 1.000; covered" -- "$SG" world score \
    --customers "$T/cust.csv" --plan "$T/plan.csv" --budget 3 --cost "$C" --summary "$T/fc3.json"
printf '{"plan": 1}\n' > "$T/bad.json"
expect 4.8 3 "bad.json: no \"forecast\"" -- "$SG" world score --customers "$T/cust.csv" --plan "$T/plan.csv" \
    --budget 3 --cost "$C" --summary "$T/bad.json"

# 5. simulate: the plan is joined to the customers by id text, once per customer
"$SG" -q train simulate --data "$T/log.csv" --treatment treatment --control control \
    --outcome converted,margin --id customer_id --propensity propensity --models 2 --epochs 2 \
    --out "$T/sim.sgm" > /dev/null 2>&1 || bad 5.0 "train simulate failed"
expect 5.1 0 "simulate: 100 customers, 30 treated by the plan" -- "$SG" simulate --model "$T/sim.sgm" \
    --plan "$T/plan.csv" --data "$T/cust.csv" --draws 20
expect 5.2 0 "1 plan rows name customers not in" -- "$SG" simulate --model "$T/sim.sgm" \
    --plan "$T/plan_unk.csv" --data "$T/cust.csv" --draws 20
# row 41 repeats the customer of row 2 with another action
awk -F, 'NR == 2 { first = $1 } NR == 41 { $1 = first } { print }' OFS=, "$T/plan.csv" > "$T/plan_dup2.csv"
expect 5.3 3 "plan_dup2.csv:41: customer '[0-9]*' appears twice (first at line 2)" -- "$SG" simulate --model "$T/sim.sgm" \
    --plan "$T/plan_dup2.csv" --data "$T/cust.csv" --draws 20
sed '2s/,[a-z0-9]*,/,sms,/' "$T/plan.csv" > "$T/plan_sms.csv"
expect 5.4 3 "plan_sms.csv:2: action 'sms' is not one of the simulator's actions" -- "$SG" simulate \
    --model "$T/sim.sgm" --plan "$T/plan_sms.csv" --data "$T/cust.csv" --draws 20

# 6. --sum: a derived feature (the policy count) kept in the model and computed for new customers
U="--treatment treatment --control control --outcome margin --propensity propensity"
U="$U --id customer_id --ignore converted --cv 2 --repeats 1 --trees 20"
# shellcheck disable=SC2086
expect 6.1 0 "" -- "$SG" -q train uplift --data "$T/log.csv" $U --sum NPOL=AWAPART..ABYSTAND \
    --out "$T/sum.sgm"
expect 6.2 0 "" -- "$SG" -q plan --model "$T/sum.sgm" --data "$T/cust.csv" --budget 3 --cost "$C" \
    --objective value --out "$T/sumplan.csv"
cut -d, -f1-20 "$T/cust.csv" > "$T/cust_short.csv"
expect 6.3 3 "cust_short.csv: column '[A-Z]*', used by the model, is missing" -- "$SG" plan \
    --model "$T/sum.sgm" --data "$T/cust_short.csv" --budget 3 --cost "$C" --out "$T/x.csv"
# shellcheck disable=SC2086
expect 6.4 3 "sum NPOL: no column 'AZZZ'" -- "$SG" train uplift --data "$T/log.csv" $U \
    --sum NPOL=AWAPART..AZZZ --out "$T/x.sgm"
# shellcheck disable=SC2086
expect 6.5 3 "column 'margin' is not a feature" -- "$SG" train uplift --data "$T/log.csv" $U \
    --sum LEAK=margin+AWAPART --out "$T/x.sgm"
expect 6.6 0 "" -- "$SG" -q train response --data "$T/coil.csv" --target CARAVAN --id id \
    --ignore is_test --sum NPOL=AWAPART..ABYSTAND --trees 20 --out "$T/resp.sgm"
expect 6.7 0 "" -- "$SG" -q predict --model "$T/resp.sgm" --data "$T/coil.csv" --out "$T/resp.csv"

# 7. --forecast: which estimate the point forecast is; the log's interval the same either way
expect 7.1 0 "the log's doubly robust value of the same rule" -- "$SG" plan --model "$T/sum.sgm" \
    --data "$T/cust.csv" --budget 3 --cost "$C" --out "$T/fa.csv" --summary "$T/fa.json"
expect 7.2 0 "the forecast is the log's value" -- "$SG" plan --model "$T/sum.sgm" \
    --data "$T/cust.csv" --budget 3 --cost "$C" --forecast log --out "$T/fl.csv" \
    --summary "$T/fl.json"
expect 7.3 0 '"basis": "log"' -- cat "$T/fl.json"
# the same interval and log value, and the same actions for the same customers
lo() { tr -d ' \n' < "$1" | sed 's/.*"forecast":{[^}]*\("log_effect":[^,]*,"log_effect_lo":[^,]*,"log_effect_hi":[^,]*\),.*/\1/'; }
if [ "$(lo "$T/fa.json")" = "$(lo "$T/fl.json")" ] &&
   cmp -s <(cut -d, -f1,2,4 "$T/fa.csv") <(cut -d, -f1,2,4 "$T/fl.csv"); then
    ok 7.4
else
    bad 7.4 "--forecast changed more than the point forecast: $(lo "$T/fa.json") / $(lo "$T/fl.json")"
fi
expect 7.5 2 "--forecast must be auto or log" -- "$SG" plan --model "$T/sum.sgm" \
    --data "$T/cust.csv" --budget 3 --cost "$C" --forecast model --out "$T/x.csv"

# 8. --cal-prior: where each calibration slope's prior is centred (logged with -v)
# shellcheck disable=SC2086
expect 8.1 0 "(value): .*prior centre 1)" -- "$SG" -v train uplift --data "$T/log.csv" $U \
    --cal-prior one --out "$T/one.sgm"
# shellcheck disable=SC2086
expect 8.2 2 "--cal-prior must be conv or one" -- "$SG" train uplift --data "$T/log.csv" $U \
    --cal-prior two --out "$T/x.sgm"

# 9. --rank-hinge: each arm's rank hinge (default 0.8) is logged with -v; 0 fits none, and the
# plan's effects are the same either way (the hinge only ranks)
# shellcheck disable=SC2086
expect 9.1 0 "(value): rank hinge at .*prior centre" -- "$SG" -v train uplift \
    --data "$T/log.csv" $U --out "$T/h.sgm"
# shellcheck disable=SC2086
"$SG" -v train uplift --data "$T/log.csv" $U --rank-hinge 0 --out "$T/h0.sgm" > "$T/h0.txt" 2>&1
if ! grep -q "rank hinge" "$T/h0.txt" && grep -q "effect calibration" "$T/h0.txt"; then
    ok 9.2
else
    bad 9.2 "--rank-hinge 0 still fitted a hinge (or no calibration was logged)"
fi
for v in h h0; do
    "$SG" -q predict --model "$T/$v.sgm" --data "$T/cust.csv" --out "$T/pred_$v.csv"
done
if cmp -s "$T/pred_h.csv" "$T/pred_h0.csv"; then
    ok 9.3
else
    bad 9.3 "the rank hinge changed the predicted effects"
fi
# shellcheck disable=SC2086
expect 9.4 2 "--rank-hinge must be a quantile in (0, 1)" -- "$SG" train uplift \
    --data "$T/log.csv" $U --rank-hinge 1 --out "$T/x.sgm"

# 10. --interactions arm: additive trees (logged with -v), other effects than the default's
# (with leaves small enough for trees deeper than one split, which no constraint changes);
# a bad value, or arm with one model per arm, is a usage error
# shellcheck disable=SC2086
expect 10.1 0 "additive trees: each splits on the arm and at most one feature" -- "$SG" -v \
    train uplift --data "$T/log.csv" $U --mcw 1 --interactions arm --out "$T/ia.sgm"
# shellcheck disable=SC2086
"$SG" -q train uplift --data "$T/log.csv" $U --mcw 1 --out "$T/ia0.sgm" > /dev/null
for v in ia ia0; do
    "$SG" -q predict --model "$T/$v.sgm" --data "$T/cust.csv" --out "$T/pred_$v.csv"
done
if [ -s "$T/pred_ia.csv" ] && ! cmp -s "$T/pred_ia.csv" "$T/pred_ia0.csv"; then
    ok 10.2
else
    bad 10.2 "--interactions arm gave the default model's effects (or none)"
fi
# shellcheck disable=SC2086
expect 10.3 2 "--interactions must be arm, all or auto" -- "$SG" train uplift \
    --data "$T/log.csv" $U --interactions some --out "$T/x.sgm"
# shellcheck disable=SC2086
expect 10.4 2 "not with --per-arm" -- "$SG" train uplift --data "$T/log.csv" $U --per-arm \
    --interactions arm --out "$T/x.sgm"
# auto: both trained, the log's choice said
# shellcheck disable=SC2086
expect 10.5 0 "--interactions auto: kept [a-z-]* trees (the log's doubly robust value" -- \
    "$SG" train uplift --data "$T/log.csv" $U --mcw 1 --interactions auto --out "$T/iauto.sgm"

# 10.6: a plan of the auto model is summed by the model it keeps beside additive trees
# (the default's, as ia0 alone predicts), by its own effects otherwise: its summary's
# model sum is that model's effects summed over the plan
"$SG" -q plan --model "$T/iauto.sgm" --data "$T/cust.csv" --budget 3 --cost "$C" \
    --objective value --out "$T/plan_auto.csv" --summary "$T/plan_auto.json" > /dev/null
"$SG" -q predict --model "$T/iauto.sgm" --data "$T/cust.csv" --out "$T/pred_iauto.csv"
if "$SG" -q train uplift --data "$T/log.csv" $U --mcw 1 --interactions auto \
       --out "$T/iauto2.sgm" 2>&1 | grep -q "kept additive"; then
    P="$T/pred_ia0.csv"
else
    P="$T/pred_iauto.csv"
fi
if python3 - "$T/plan_auto.csv" "$P" "$T/plan_auto.json" <<'PY'
import csv, json, sys
rows = list(csv.reader(open(sys.argv[2])))
col = {c: k for k, c in enumerate(rows[0])}
pred = {r[0]: r for r in rows[1:]}
s = n = 0
for r in list(csv.reader(open(sys.argv[1])))[1:]:
    if r[1] != "control":
        s += float(pred[r[0]][col["effect_" + r[1]]]); n += 1
f = json.load(open(sys.argv[3]))["forecast"]
sys.exit(not (n > 0 and abs(f["naive_effect"] - s) <= 1e-4 * (1 + abs(s))))
PY
then
    ok 10.6
else
    bad 10.6 "the auto model's plan was not summed by its forecaster"
fi

finish

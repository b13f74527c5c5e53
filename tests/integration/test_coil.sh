#!/usr/bin/env bash
# test_coil.sh BUILD -- CoIL 2000 end to end: cross-validated training lands in a
# known band, the plan chooses 800 distinct test customers, and a model trained
# twice with one seed is byte-identical.
set -u
BUILD="${1:-build}"; SG="$BUILD/stratagem"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
D="$(scripts/fetch-data.sh coil2000-ticdata)/ticdata.csv"
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass + 1)); echo "ok   coil-$1"; else fail=$((fail + 1)); echo "FAIL coil-$1: $3"; fi; }

"$SG" -q train response --data "$D" --target CARAVAN --id id --ignore is_test --cv 5 \
    --depth 2 --lr 0.02 --out "$T/a.sgm" > "$T/cv.tsv"
auc=$(awk -F'\t' 'NR == 2 { print $2 }' "$T/cv.tsv")
check 1.1 "awk -v a=$auc 'BEGIN { exit !(a > 0.73 && a < 0.78) }'" "cv auc $auc outside [0.73, 0.78]"
"$SG" -q train response --data "$D" --target CARAVAN --id id --ignore is_test --cv 5 \
    --depth 2 --lr 0.02 --out "$T/b.sgm" > /dev/null
check 1.2 "cmp -s '$T/a.sgm' '$T/b.sgm'" "two runs with one seed differ"
"$SG" -q plan --model "$T/a.sgm" --data "$D" --where is_test=1 --top 800 --out "$T/plan.csv" > /dev/null
n=$(tail -n +2 "$T/plan.csv" | cut -d, -f1 | sort -u | awk '$1 > 5822' | wc -l)
check 1.3 "[ $n -eq 800 ]" "plan has $n distinct test ids"
"$SG" -q train response --data "$D" --target CARAVAN --id id --ignore is_test --model logit \
    --cv 5 --l2 300 --out "$T/l.sgm" > "$T/cvl.tsv"
auc=$(awk -F'\t' 'NR == 2 { print $2 }' "$T/cvl.tsv")
check 1.4 "awk -v a=$auc 'BEGIN { exit !(a > 0.72 && a < 0.77) }'" "logit cv auc $auc outside [0.72, 0.77]"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

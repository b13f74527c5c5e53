#!/usr/bin/env bash
# test_cli.sh BUILD_DIR -- the stratagem program end to end on small fixtures:
# help and version, exit codes, error messages that name file:line and column,
# train/predict/evaluate/plan outputs, byte-identical models for one seed.
# Prints one line per case and closes with "N passed, N failed".
set -u
BUILD="${1:-build}"
SG="$BUILD/stratagem"
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
PREFIX=cli
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

# a small binary-target table: y depends on x and seg
awk 'BEGIN { srand(7); print "cust,x,seg,y";
  for (i = 1; i <= 400; i++) { x = rand() * 4 - 2; s = (i % 3 == 0) ? "a" : "b";
    p = 1 / (1 + exp(-(2 * x + (s == "a" ? 1 : -1)))); y = (rand() < p) ? 1 : 0;
    if (i % 50 == 0) y = "NA";
    printf "c%d,%.3f,%s,%s\n", i, x, s, y } }' > "$T/train.csv"

# 1. help, version, usage errors
expect 1.1 0 "Usage: stratagem" -- "$SG" --help
expect 1.2 0 "Usage: stratagem train response" -- "$SG" help train
expect 1.3 0 "Usage: stratagem plan" -- "$SG" plan --help
expect 1.4 0 "^stratagem [0-9]" -- "$SG" --version
expect 1.5 2 "unknown command 'trian'" -- "$SG" trian
expect 1.6 2 "unrecognized option '--sed'" -- "$SG" train response --data "$T/train.csv" --target y --sed 3 --out "$T/m"
expect 1.7 2 "missing --target" -- "$SG" train response --data "$T/train.csv" --out "$T/m"
expect 1.8 2 "expects an integer" -- "$SG" train response --data "$T/train.csv" --target y --cv x --out "$T/m"
expect 1.9 2 "unknown key 'bogus'" -- "$SG" train response --data "$T/train.csv" --target y --cv 3 --grid "bogus=1" --out "$T/m"
expect 1.10 2 "" -- "$SG"

# 2. bad input data: exit 3 with file:line, column, value, expectation
printf 'id,x,y\n1,2,0\n2,3\n3,4,1\n' > "$T/ragged.csv"
expect 2.1 3 "ragged.csv:3: expected 3 fields, got 2" -- "$SG" train response --data "$T/ragged.csv" --target y --out "$T/m"
printf 'id,x,y\n1,2,0\n2,"oops,1\n' > "$T/quote.csv"
expect 2.2 3 "quote.csv:3" -- "$SG" train response --data "$T/quote.csv" --target y --out "$T/m"
printf 'id,x,y\n1,\xff\xfe,0\n' > "$T/utf8.csv"
expect 2.3 3 "utf8.csv:2" -- "$SG" train response --data "$T/utf8.csv" --target y --out "$T/m"
printf 'id,x,y\n1,2,0\n2,3,2\n3,1,1\n' > "$T/target.csv"
expect 2.4 3 "target.csv:3: column 'y': expected 0 or 1 for a binary target, got 2" -- \
    "$SG" train response --data "$T/target.csv" --target y --objective binary --out "$T/m"
printf 'id,x,y\n1,2,0\n2,inf,1\n' > "$T/inf.csv"
expect 2.5 3 "finite" -- "$SG" train response --data "$T/inf.csv" --target y --numeric x --out "$T/m"
: > "$T/empty.csv"
expect 2.6 3 "empty" -- "$SG" train response --data "$T/empty.csv" --target y --out "$T/m"
printf 'id,x,x,y\n1,2,3,0\n' > "$T/duphdr.csv"
expect 2.7 3 "expected a unique column name, got \"x\"" -- "$SG" train response --data "$T/duphdr.csv" --target y --out "$T/m"
expect 2.8 3 "'nope'" -- "$SG" train response --data "$T/train.csv" --target nope --out "$T/m"
printf 'id,x,y\n1,2,0\n2,3,1\n1,4,1\n' > "$T/dupid.csv"
expect 2.9 3 "\"1\"" -- "$SG" train response --data "$T/dupid.csv" --target y --id id --out "$T/m"
awk 'BEGIN { print "id,x,y"; for (i = 1; i <= 30; i++) printf "%d,%s,%d\n", i, (i % 2 ? "abc" : "1"), i % 2 }' > "$T/many.csv"
out="$("$SG" train response --data "$T/many.csv" --target y --numeric x --out "$T/m" 2>&1)"; rc=$?
n=$(printf '%s\n' "$out" | grep -v "errors; first" | grep -c "many.csv:[0-9]*: column 'x': expected a number")
if [ "$rc" -eq 3 ] && [ "$n" -eq 10 ] && printf '%s' "$out" | grep -q "15 errors"; then ok 2.10
else bad 2.10 "rc=$rc, $n listed: $(printf '%s' "$out" | tail -2)"; fi
expect 2.11 1 "nonexistent.csv: cannot open" -- "$SG" train response --data "$T/nonexistent.csv" --target y --out "$T/m"
[ -e "$T/m" ] && bad 2.12 "a failed train left a model file" || ok 2.12

# 3. train, predict, evaluate, plan
expect 3.1 0 "cv_auc" -- "$SG" -q train response --data "$T/train.csv" --target y --id cust \
    --cv 3 --grid "depth=2,3" --trees 50 --out "$T/m1"
expect 3.2 0 "" -- "$SG" -q train response --data "$T/train.csv" --target y --id cust \
    --cv 3 --grid "depth=2,3" --trees 50 --out "$T/m2"
cmp -s "$T/m1" "$T/m2" && ok 3.3 || bad 3.3 "same seed gave different model files"
expect 3.4 0 "" -- "$SG" -q predict --model "$T/m1" --data "$T/train.csv" --out "$T/p.csv"
rows=$(($(wc -l < "$T/p.csv") - 1))
[ "$rows" -eq 400 ] && head -1 "$T/p.csv" | grep -q "^cust,score$" && ok 3.5 || bad 3.5 "predict wrote $rows rows"
expect 3.6 0 "auc" -- "$SG" -q evaluate --model "$T/m1" --data "$T/train.csv"
expect 3.7 0 "\"auc\"" -- "$SG" -q evaluate --model "$T/m1" --data "$T/train.csv" --json
expect 3.8 0 "chose 25 of" -- "$SG" -q plan --model "$T/m1" --data "$T/train.csv" --top 25 --out "$T/plan.csv" --summary "$T/plan.json"
[ "$(($(wc -l < "$T/plan.csv") - 1))" -eq 25 ] && grep -q '"forecast"' "$T/plan.json" && ok 3.9 || bad 3.9 "plan output"
expect 3.10 0 "chose 5 of" -- "$SG" -q plan --model "$T/m1" --data "$T/train.csv" --where seg=a --top 5 --out "$T/plan2.csv"
expect 3.11 0 "" -- "$SG" -q train response --data "$T/train.csv" --target y --model logit --out "$T/ml"
expect 3.12 0 "auc" -- "$SG" -q evaluate --model "$T/ml" --data "$T/train.csv"
# 4. model files: wrong file, truncated, corrupt
expect 4.1 3 "not a stratagem model" -- "$SG" predict --model "$T/train.csv" --data "$T/train.csv" --out "$T/x.csv"
head -c 100 "$T/m1" > "$T/trunc"
expect 4.2 3 "truncated" -- "$SG" predict --model "$T/trunc" --data "$T/train.csv" --out "$T/x.csv"
cp "$T/m1" "$T/corrupt"; printf '\x55' | dd of="$T/corrupt" bs=1 seek=200 conv=notrunc 2>/dev/null
expect 4.3 3 "checksum" -- "$SG" predict --model "$T/corrupt" --data "$T/train.csv" --out "$T/x.csv"
cut -d, -f1,3,4 "$T/train.csv" > "$T/nox.csv"
expect 4.4 3 "column 'x', used by the model, is missing" -- "$SG" predict --model "$T/m1" --data "$T/nox.csv" --out "$T/x.csv"
[ -e "$T/x.csv" ] && bad 4.5 "failed predict left an output file" || ok 4.5

# a FIFO named as the model is refused at once, not read (blocking) until a writer comes
mkfifo "$T/fifo.sgm"
expect 4.6 1 "not a regular file" -- timeout 20 "$SG" predict --model "$T/fifo.sgm" --data "$T/train.csv" --out "$T/x.csv"
finish

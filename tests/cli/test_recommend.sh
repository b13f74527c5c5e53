#!/usr/bin/env bash
# test_recommend.sh BUILD_DIR -- the recommend commands end to end on a small
# interaction file with planted structure: split, train (pop, ease, vae), evaluate
# (and its JSON keys), recommend for known users, a new user folded in, stock-outs,
# batch output, embeddings, and errors that say what is wrong.
# Prints one line per case and closes with "N passed, N failed".
set -u
BUILD="${1:-build}"
SG="$BUILD/stratagem"
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
PREFIX=rec
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

# 400 users in 4 taste groups; group g likes items g*10+1..g*10+10 (each with
# probability 0.6) plus a few random items of 40; ratings 1..5, liked ones >= 4.
awk 'BEGIN { srand(3); print "user,item,rating";
  for (u = 1; u <= 400; u++) { g = u % 4;
    for (i = 1; i <= 40; i++) {
      mine = (i > g * 10 && i <= g * 10 + 10);
      if (mine && rand() < 0.6) printf "u%d,%d,%d\n", u, i, 4 + (rand() < 0.5);
      else if (!mine && rand() < 0.05) printf "u%d,%d,%d\n", u, i, 1 + int(rand() * 5) } } }' > "$T/ratings.csv"

# 1. usage errors
expect 1.1 0 "Usage: stratagem recommend" -- "$SG" recommend --help
expect 1.2 2 "" -- "$SG" recommend split --data "$T/ratings.csv" --user user --out-dir "$T/s"
expect 1.3 3 "nosuch" -- "$SG" recommend split --data "$T/ratings.csv" --user nosuch --item item \
    --out-dir "$T/s"

# 2. split: every user in exactly one part, held-out users' items split in two
expect 2.1 0 "" -- "$SG" -q recommend split --data "$T/ratings.csv" --user user --item item \
    --rating rating --min-rating 4 --seed 1 --out-dir "$T/s"
for f in train validation_foldin validation_heldout test_foldin test_heldout; do
    [ -s "$T/s/$f.csv" ] || bad 2.2 "no $f.csv"
done
ok 2.2
n_tr=$(awk -F, 'NR > 1 { u[$1] } END { print length(u) }' "$T/s/train.csv")
n_te=$(awk -F, 'NR > 1 { u[$1] } END { print length(u) }' "$T/s/test_foldin.csv")
both=$(awk -F, 'NR == FNR { if (FNR > 1) u[$1]; next } FNR > 1 && ($1 in u) { n++ } END { print n + 0 }' \
    "$T/s/train.csv" "$T/s/test_foldin.csv")
[ "$n_te" -ge 30 ] && [ "$n_tr" -ge 250 ] && [ "$both" = 0 ] && ok 2.3 ||
    bad 2.3 "train $n_tr users, test $n_te, $both test rows of training users"

# 3. train and evaluate: the planted structure must be found (pop cannot find it)
for m in pop ease vae; do
    extra=""; [ "$m" = vae ] && extra="--epochs 30 --batch 50"
    # shellcheck disable=SC2086
    expect "3.1-$m" 0 "" -- "$SG" -q train recommend --data "$T/s/train.csv" --user user \
        --item item --model $m --seed 1 $extra --out "$T/$m.sgm"
    "$SG" -q evaluate --model "$T/$m.sgm" --foldin "$T/s/test_foldin.csv" \
        --heldout "$T/s/test_heldout.csv" --json > "$T/$m.json" 2>&1
done
ndcg() { sed -n 's/.*"ndcg@100": *\([0-9.]*\).*/\1/p' "$T/$1.json"; }
grep -q '"recall@20"' "$T/ease.json" && grep -q '"recall@50"' "$T/ease.json" && ok 3.2 ||
    bad 3.2 "JSON keys: $(cat "$T/ease.json")"
awk -v p="$(ndcg pop)" -v e="$(ndcg ease)" -v v="$(ndcg vae)" \
    'BEGIN { exit !(e > p + 0.15 && v > p + 0.15 && e > 0.6 && v > 0.6) }' && ok 3.3 ||
    bad 3.3 "ndcg@100 pop $(ndcg pop), ease $(ndcg ease), vae $(ndcg vae)"
# RecVAE's training options: the vae with gamma, the composite prior and
# alternating passes finds the structure too; bad values are usage errors
expect 3.4 0 "" -- "$SG" -q train recommend --data "$T/s/train.csv" --user user --item item \
    --model vae --seed 1 --epochs 8 --batch 50 --gamma 0.005 --prior composite --enc-passes 2 \
    --out "$T/rvae.sgm"
"$SG" -q evaluate --model "$T/rvae.sgm" --foldin "$T/s/test_foldin.csv" \
    --heldout "$T/s/test_heldout.csv" --json > "$T/rvae.json" 2>&1
awk -v p="$(ndcg pop)" -v v="$(ndcg rvae)" 'BEGIN { exit !(v > p + 0.15 && v > 0.6) }' &&
    ok 3.5 || bad 3.5 "ndcg@100 pop $(ndcg pop), RecVAE-trained vae $(ndcg rvae)"
expect 3.6 2 "--prior must be normal or composite" -- "$SG" train recommend \
    --data "$T/s/train.csv" --user user --item item --prior wide --out "$T/bad.sgm"
expect 3.7 2 "--gamma must be >= 0" -- "$SG" train recommend \
    --data "$T/s/train.csv" --user user --item item --gamma -1 --out "$T/bad.sgm"
# RecVAE's encoder (--encoder dense) learns the structure too; it needs the vae
expect 3.8 0 "" -- "$SG" -q train recommend --data "$T/s/train.csv" --user user --item item \
    --model vae --seed 1 --epochs 8 --batch 50 --encoder dense --enc-layers 2 --out "$T/dvae.sgm"
"$SG" -q evaluate --model "$T/dvae.sgm" --foldin "$T/s/test_foldin.csv" \
    --heldout "$T/s/test_heldout.csv" --json > "$T/dvae.json" 2>&1
awk -v p="$(ndcg pop)" -v v="$(ndcg dvae)" 'BEGIN { exit !(v > p + 0.15 && v > 0.6) }' &&
    ok 3.9 || bad 3.9 "ndcg@100 pop $(ndcg pop), dense-encoder vae $(ndcg dvae)"
expect 3.10 2 "--encoder dense needs --model vae" -- "$SG" train recommend \
    --data "$T/s/train.csv" --user user --item item --model dae --encoder dense --out "$T/bad.sgm"
expect 3.11 2 "--encoder must be mlp or dense" -- "$SG" train recommend \
    --data "$T/s/train.csv" --user user --item item --encoder wide --out "$T/bad.sgm"
# --ensemble N: N networks averaged (the vae's default is 5: 3.1-vae above)
expect 3.12 0 "^networks.2$" -- "$SG" -q train recommend --data "$T/s/train.csv" --user user \
    --item item --model dae --epochs 3 --batch 50 --ensemble 2 --out "$T/dae2.sgm"
expect 3.13 2 "--ensemble must be in 1..1000" -- "$SG" train recommend \
    --data "$T/s/train.csv" --user user --item item --ensemble 0 --out "$T/bad.sgm"
# --min-item-users N: items fewer training users have are left out of the network
# (an item no other user has, added for one user, is never recommended to anyone)
awk -F, -v OFS=, '{ print } NR == 2 { $2 = "solo"; print }' "$T/s/train.csv" > "$T/solo.csv"
n_items=$(awk -F, 'NR > 1 { i[$2] } END { print length(i) }' "$T/solo.csv")
expect 3.14 0 "^network_items.$((n_items - 1))$" -- "$SG" -q train recommend \
    --data "$T/solo.csv" --user user --item item --epochs 3 --batch 50 --ensemble 1 \
    --min-item-users 2 --out "$T/solo.sgm"
"$SG" -q recommend --model "$T/solo.sgm" --data "$T/s/test_foldin.csv" --k 40 \
    --out "$T/solo_recs.csv" > /dev/null 2>&1
[ -s "$T/solo_recs.csv" ] && ! grep -q ',solo,' "$T/solo_recs.csv" && ok 3.15 ||
    bad 3.15 "the item outside the network was recommended (or no output)"
expect 3.16 2 "--min-item-users must be >= 1" -- "$SG" train recommend \
    --data "$T/s/train.csv" --user user --item item --min-item-users 0 --out "$T/bad.sgm"

# 4. recommend: best first, never an item the user has, from the user's own group
# a training user of group 0 (liked items 1..10)
u=$(awk -F, 'FNR > 1 { n = substr($1, 2) + 0; if (n % 4 == 0) { print $1; exit } }' "$T/s/train.csv")
"$SG" -q recommend --model "$T/ease.sgm" --user $u --k 5 > "$T/r.csv" 2>&1
[ "$(head -1 "$T/r.csv")" = "user,rank,item,score" ] && [ "$(wc -l < "$T/r.csv")" = 6 ] && ok 4.1 ||
    bad 4.1 "$(head -3 "$T/r.csv")"
has=$(awk -F, -v u=$u 'NR == FNR { if ($1 == u) h[$2]; next }
      FNR > 1 && ($3 in h) { n++ } END { print n + 0 }' "$T/s/train.csv" "$T/r.csv")
[ "$has" = 0 ] && ok 4.2 || bad 4.2 "$has recommended items the user already has"
awk -F, 'FNR > 1 && (NR > 2 && $4 > prev + 1e-9) { exit 1 } { prev = $4 }' "$T/r.csv" && ok 4.3 ||
    bad 4.3 "scores not in decreasing order"
own=$(awk -F, 'FNR > 1 && $3 >= 1 && $3 <= 10 { n++ } END { print n + 0 }' "$T/r.csv")
[ "$own" -ge 3 ] && ok 4.4 || bad 4.4 "only $own of 5 from the user's taste group: $(cat "$T/r.csv")"
# a new user folded in from group 2's items gets group 2's other items
"$SG" -q recommend --model "$T/vae.sgm" --items 21,22,23,24 --k 3 > "$T/n.csv" 2>&1
awk -F, 'FNR > 1 && ($2 == "" || $3 < 25 || $3 > 30) { bad = 1 } FNR > 1 { n++ }
         END { exit !(n == 3 && !bad) }' "$T/n.csv" && ok 4.5 || bad 4.5 "$(cat "$T/n.csv")"
# stock-outs are never recommended
printf 'item\n25\n26\n27\n' > "$T/out.csv"
"$SG" -q recommend --model "$T/vae.sgm" --items 21,22,23,24 --k 3 --exclude-items "$T/out.csv" > "$T/x.csv" 2>&1
awk -F, 'FNR > 1 && ($3 == 25 || $3 == 26 || $3 == 27) { exit 1 }' "$T/x.csv" &&
    [ "$(wc -l < "$T/x.csv")" = 4 ] && ok 4.6 || bad 4.6 "$(cat "$T/x.csv")"
# batch: one list per user of the file
printf 'user\nu1\nu2\nu3\n' > "$T/users.csv"
expect 4.7 0 "" -- "$SG" -q recommend --model "$T/ease.sgm" --data "$T/users.csv" --k 4 --out "$T/batch.csv"
[ "$(awk -F, 'FNR > 1 { u[$1]++ } END { for (k in u) if (u[k] != 4) exit 1; print length(u) }' "$T/batch.csv")" = 3 ] &&
    ok 4.8 || bad 4.8 "$(head -5 "$T/batch.csv")"

# 5. embeddings: one row per user of the file (encoder mean)
expect 5.1 0 "" -- "$SG" -q predict --model "$T/vae.sgm" --data "$T/s/test_foldin.csv" --out "$T/emb.csv"
[ "$(awk -F, 'FNR > 1 { n++ } END { print n }' "$T/emb.csv")" = "$n_te" ] && ok 5.2 ||
    bad 5.2 "$(wc -l < "$T/emb.csv") lines for $n_te users"

# 6. errors
expect 6.1 2 "" -- "$SG" recommend --model "$T/ease.sgm" --k 5
expect 6.2 3 "" -- "$SG" recommend --model "$T/ratings.csv" --user u1
printf 'user,item\nu1\n' > "$T/bad.csv"
expect 6.3 3 "bad.csv:2" -- "$SG" train recommend --data "$T/bad.csv" --user user --item item \
    --out "$T/bad.sgm"

finish

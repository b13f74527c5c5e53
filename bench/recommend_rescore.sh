#!/bin/bash
# Screens of scoring-time changes to a recommend model: train the default model once per
# MovieLens user split (bench/recommend_splits.sh's folders and seeds), keep it, and score its
# test and validation users under several environment settings (a patched build reads them;
# see bench/patches/).  Training runs with none of them set.
#
#   SG=/tmp/patched/stratagem SPLITS="101 102 103" \
#       VARIANTS="logit|;prob|SG_ENS_PROB=1" bench/recommend_rescore.sh
#
# Prints one line per split and user set: split, set, EASE's NDCG@100 (from the split
# folder's ease.SET.json, written by recommend_splits.sh with CONFIGS="ease|--model ease"),
# then each variant's NDCG@100.  Models are kept in $OUT/sSPLIT/model.sgm (about 165 MB
# each for the default five networks), so a second call only scores.  TRAIN_OPTS changes the
# model (default: --model vae).  JOBS splits train at a time, one thread each.
set -eu
cd "$(dirname "$0")/.."
SG=${SG:-build/stratagem}
SPLITS=${SPLITS:-101 102 103}
VARIANTS=${VARIANTS:-logit|}
TRAIN_OPTS=${TRAIN_OPTS:---model vae}
DIR=${DIR:-bench/out/recommend_splits}
OUT=${OUT:-bench/out/recommend_rescore}
JOBS=${JOBS:-2}
ML=../shared/data/movielens-small/ratings.csv
[ -f "$ML" ] || ML=data/movielens-small/ratings.csv
[ -x "$SG" ] || { echo "recommend_rescore: $SG not built" >&2; exit 1; }
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX
fi

for s in $SPLITS; do
    [ -f "$DIR/s$s/train.csv" ] || "$SG" -q recommend split --data "$ML" --user userId \
        --item movieId --rating rating --min-rating 3.5 --seed "$s" --out-dir "$DIR/s$s" >/dev/null
    mkdir -p "$OUT/s$s"
done

train() {
    s=$1
    [ -s "$OUT/s$s/model.sgm" ] && return 0
    # shellcheck disable=SC2086
    "$SG" -q train recommend --data "$DIR/s$s/train.csv" --user userId --item movieId \
        --threads 1 $TRAIN_OPTS --out "$OUT/s$s/model.tmp" > "$OUT/s$s/train.txt" &&
        mv "$OUT/s$s/model.tmp" "$OUT/s$s/model.sgm"
}
export -f train
export SG DIR OUT TRAIN_OPTS
# shellcheck disable=SC2086
printf '%s\n' $SPLITS | xargs -P "$JOBS" -I{} bash -c 'train {}'

ndcg() { grep -o '"ndcg@100": [0-9.e-]*' "$1" | cut -d' ' -f2; }
IFS=';' read -r -a VAR <<< "$VARIANTS"
printf 'split\tset\tease'
for v in "${VAR[@]}"; do printf '\t%s' "${v%%|*}"; done
printf '\n'
for s in $SPLITS; do
    for set in test validation; do
        e=-
        [ -s "$DIR/s$s/ease.$set.json" ] && e=$(ndcg "$DIR/s$s/ease.$set.json")
        line="$s	$set	$e"
        for v in "${VAR[@]}"; do
            name=${v%%|*} envs=${v#*|}
            # shellcheck disable=SC2086
            env $envs "$SG" -q evaluate --model "$OUT/s$s/model.sgm" \
                --foldin "$DIR/s$s/${set}_foldin.csv" --heldout "$DIR/s$s/${set}_heldout.csv" \
                --json > "$OUT/s$s/$name.$set.json"
            line="$line	$(ndcg "$OUT/s$s/$name.$set.json")"
        done
        printf '%s\n' "$line"
    done
done

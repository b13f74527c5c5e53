#!/usr/bin/env bash
# recommend_splits.sh -- recommenders compared over several user splits, as a user
# split nobody has seen would score them.
#
#   SPLITS="21 22 23 24 25" bench/recommend_splits.sh      (the README's table)
#   CONFIGS="ease|--model ease;vae|--model vae;vae400|--model vae --epochs 400" ...
#
# MovieLens-small, ratings >= 3.5 (DATA=supermarket: the baskets).  For each split
# seed: 'stratagem recommend split' (10% test and 10% validation users, 20% of their
# items held out), every config
# trained on the training users with its own defaults and no validation files (as
# the acceptance interface runs it: the model chooses its epoch or lambda on
# training users it holds out), then scored on the split's test users and, since
# training never saw them either, on its validation users.  Each (split, user set)
# is one paired comparison: the summary gives per config the mean NDCG@100 and
# recall@20/50 over them, and the mean difference to the first config with its
# standard error over the pairs.  Two runs at a time, one thread each (JOBS,
# THREADS).  Outputs in bench/out/recommend_splits[_DATA]/ (OUT); REUSE=1 keeps the scores
# of a (split, config name) already there (after a change of program, rename).
# SPLIT_OPTS: more 'recommend split' options (other shares of test and validation
# users, so other training-set sizes); the default OUT then names them.
set -eu
cd "$(dirname "$0")/.."
SG=${SG:-build/stratagem}
SPLIT_OPTS=${SPLIT_OPTS:-}
OUT=${OUT:-bench/out/recommend_splits${DATA:+_$DATA}$(printf '%s' "$SPLIT_OPTS" | tr -cs 'a-z0-9.' '_')}
SPLITS=${SPLITS:-11 12 13 14 15}
# name|options; the first is the one the others are compared with.  vae_mult: the
# paper's Mult-VAE training (the vae's defaults until 30 Nov); vae1: the defaults with
# one network; vae: the defaults (an ensemble of five).
CONFIGS=${CONFIGS:-ease|--model ease;vae_mult|--model vae --epochs 200 --enc-passes 0 --ema 0 --dropout 0.5 --ensemble 1;vae1|--model vae --ensemble 1;vae|--model vae}
JOBS=${JOBS:-2}
THREADS=${THREADS:-1}
# DATA=movielens (default) or supermarket (the baskets: basket = user)
case ${DATA:-movielens} in
    movielens) FILE=movielens-small/ratings.csv U=userId I=movieId RATING="--rating rating --min-rating 3.5" ;;
    supermarket) FILE=supermarket-baskets/basket_items.csv U=basket_id I=item_id RATING= ;;
    *) echo "recommend_splits: DATA must be movielens or supermarket" >&2; exit 2 ;;
esac
ML=../shared/data/$FILE
[ -f "$ML" ] || ML=data/$FILE
[ -x "$SG" ] || { echo "recommend_splits: $SG not built (make)" >&2; exit 1; }
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX
fi
mkdir -p "$OUT"

for s in $SPLITS; do
    # shellcheck disable=SC2086
    [ -f "$OUT/s$s/train.csv" ] || "$SG" -q recommend split --data "$ML" --user "$U" \
        --item "$I" $RATING $SPLIT_OPTS --seed "$s" --out-dir "$OUT/s$s" >/dev/null
done

# one job: split seed, config name, options
job() {
    s=$1 name=$2 opts=$3 d="$OUT/s$1"
    if [ "${REUSE:-0}" = 1 ] && [ -s "$d/$name.test.json" ] && [ -s "$d/$name.validation.json" ]; then
        return 0
    fi
    rm -f "$d/$name.test.json" "$d/$name.validation.json"
    # shellcheck disable=SC2086
    "$SG" -q train recommend --data "$d/train.csv" --user "$U" --item "$I" --threads "$THREADS" \
        $opts --out "$d/$name.sgm" > "$d/$name.train.txt" || { echo "split $s $name: training failed" >&2; return 1; }
    for set in test validation; do
        "$SG" -q evaluate --model "$d/$name.sgm" --foldin "$d/${set}_foldin.csv" \
            --heldout "$d/${set}_heldout.csv" --json > "$d/$name.$set.json"
    done
    rm -f "$d/$name.sgm"
    echo "split $s $name done" >&2
}
export -f job
export SG OUT THREADS REUSE U I

IFS=';' read -r -a CFG <<< "$CONFIGS"
for s in $SPLITS; do
    for c in "${CFG[@]}"; do printf '%s\0%s\0%s\0' "$s" "${c%%|*}" "${c#*|}"; done
done | xargs -0 -n 3 -P "$JOBS" bash -c 'job "$@"' _

/usr/bin/python3 - "$OUT" "$CONFIGS" $SPLITS <<'PYEOF'
import json, math, sys
out, configs, splits = sys.argv[1], sys.argv[2].split(";"), sys.argv[3:]
names = [c.split("|", 1)[0] for c in configs]
res = {}
for n in names:
    res[n] = []
    for s in splits:
        for st in ("test", "validation"):
            res[n].append(json.load(open("%s/s%s/%s.%s.json" % (out, s, n, st))))
base = names[0]
print("%d splits x 2 user sets (%s); users per set %s" % (len(splits), " ".join(splits),
      "/".join(str(r["users"]) for r in res[base])))
print("config\tndcg@100\trecall@20\trecall@50\tndcg - %s (se)\tbetter sets" % base)
for n in names:
    m = {k: sum(r[k] for r in res[n]) / len(res[n]) for k in ("ndcg@100", "recall@20", "recall@50")}
    d = [a["ndcg@100"] - b["ndcg@100"] for a, b in zip(res[n], res[base])]
    md = sum(d) / len(d)
    se = math.sqrt(sum((x - md) ** 2 for x in d) / (len(d) - 1) / len(d)) if len(d) > 1 else float("nan")
    print("%s\t%.4f\t%.4f\t%.4f\t%+.4f (%.4f)\t%d of %d" % (n, m["ndcg@100"], m["recall@20"],
          m["recall@50"], md, se, sum(x > 0 for x in d), len(d)))
PYEOF

# MovieLens: a film shop wants a personal list of films for each customer.  Ratings of
# 3.5 or more count as "liked".  stratagem holds out 10% of the customers entirely,
# trains a Mult-VAE (and the EASE baseline beside it) on the others, and checks how
# many of a held-out customer's liked films it finds from the rest of her history.
# Then: top 5 for three customers, a new customer folded in from three films, and
# the same list with stock-outs excluded.  Titles come from movies.csv when present.
ML="$(data movielens-small)"
RD="$OUT/movielens-split"
# Short VAE training for the demo: with batches of 100 customers (6 steps an epoch) it
# reaches a validation NDCG@100 of about 0.32 in 40 epochs, where the default batches of
# 500 need about 120; bench/recommend_eval.sh trains the full-length models.  The demo
# keeps the paper's Mult-VAE training (--enc-passes 0 --ema 0 --dropout 0.5): the default
# RecVAE-style training scores higher (bench/recommend_results.md) but takes about three
# times as long.
REC_EPOCHS=${REC_EPOCHS:-40}

# Append the title to 'user,rank,item,score' CSV rows when movies.csv is there
# (movieId,"title",year,"genres": the title is kept quoted, as it may hold commas).
titles() {
    if [ ! -f "$ML/movies.csv" ]; then cat; return; fi
    awk -F, 'NR == FNR { if (FNR > 1) { t = $0; id = $1; sub(/^[^,]*,/, "", t)
                                         sub(/,[^,]*,"[^"]*"$/, "", t); title[id] = t }
                         next }
             FNR == 1 { print $0 ",title"; next }
             { print $0 "," (($3 in title) ? title[$3] : "") }' "$ML/movies.csv" -
}

step "1. Split MovieLens customers (ratings >= 3.5): 10% test, 10% validation, the rest train"
"$SG" recommend split --data "$ML/ratings.csv" --user userId --item movieId \
    --rating rating --min-rating 3.5 --seed 1 --out-dir "$RD"

# The demo's VAE training with N networks, written to MODEL: train_vae N MODEL
train_vae() {
    "$SG" train recommend --data "$RD/train.csv" --user userId --item movieId --model vae \
        --epochs "$REC_EPOCHS" --batch 100 --eval-every 5 --seed 1 \
        --enc-passes 0 --ema 0 --dropout 0.5 --ensemble "$1" \
        --validation-foldin "$RD/validation_foldin.csv" \
        --validation-heldout "$RD/validation_heldout.csv" --out "$2"
}

step "2. Train a Mult-VAE on the training customers ($REC_EPOCHS epochs; best on validation kept)"
train_vae 1 "$OUT/ml_vae.sgm"

step "2b. The same training as an ensemble of 3 networks, their scores averaged (--ensemble 3)"
# the first network is the one above; two more repeat its final fit from seeds 2 and 3
train_vae 3 "$OUT/ml_vae3.sgm"

step "3. EASE beside it (closed form; lambda 200, chosen on the validation customers)"
# (without --lambda it tries 5..5000 on the validation customers itself: 10 fits)
"$SG" train recommend --data "$RD/train.csv" --user userId --item movieId --model ease \
    --lambda 200 --out "$OUT/ml_ease.sgm"

step "4. Held-out test customers: 80% of their films given, the other 20% to be found"
for m in vae vae3 ease; do
    echo "$m:"
    "$SG" -q evaluate --model "$OUT/ml_$m.sgm" --foldin "$RD/test_foldin.csv" \
        --heldout "$RD/test_heldout.csv"
    echo
done

step "5. Top 5 films for three training customers (films they have are never listed)"
USERS="$(awk -F, 'NR > 1 && !($1 in s) { s[$1]; n++; printf "%s%s", (n > 1 ? "," : ""), $1 }
                  n == 3 { exit }' "$RD/train.csv")"
"$SG" -q recommend --model "$OUT/ml_vae.sgm" --user "$USERS" --k 5 | titles

step "6. A new customer who liked Toy Story, Star Wars and The Empire Strikes Back"
"$SG" -q recommend --model "$OUT/ml_vae.sgm" --items 1,260,1196 --k 5 \
    --out "$OUT/ml_new_user.csv"
titles < "$OUT/ml_new_user.csv"

step "7. The same customer with her first two films out of stock (--exclude-items)"
{ echo movieId; awk -F, 'NR > 1 && NR <= 3 { print $3 }' "$OUT/ml_new_user.csv"; } \
    > "$OUT/ml_stockouts.csv"
"$SG" -q recommend --model "$OUT/ml_vae.sgm" --items 1,260,1196 --k 5 \
    --exclude-items "$OUT/ml_stockouts.csv" | titles

step "8. Two processes training one network (mpirun -np 2: half of every batch each)"
# A Mult-DAE without input dropout trains without randomness after its start, so two
# processes (gradients summed every step) must give what one gives.
if command -v mpirun > /dev/null && "$SG" --version | grep -q '^mpi: yes'; then
    DAE=(--data "$RD/train.csv" --user userId --item movieId --model dae --dropout 0
         --epochs 5 --batch 100 --val-users 0 --seed 1)
    "$SG" -q train recommend "${DAE[@]}" --out "$OUT/ml_dae1.sgm" > /dev/null
    mpirun --allow-run-as-root --oversubscribe -np 2 "$SG" train recommend "${DAE[@]}" \
        --out "$OUT/ml_dae2.sgm" 2>&1 | grep 'processes share'
    for p in 1 2; do
        "$SG" -q recommend --model "$OUT/ml_dae$p.sgm" --user "$USERS" --k 5 \
            --out "$OUT/ml_dae$p.csv"
    done
    paste -d, "$OUT/ml_dae1.csv" "$OUT/ml_dae2.csv" | awk -F, 'NR > 1 { n++
        if ($3 != $7) diff++; d = $4 - $8; if (d < 0) d = -d; if (d > mx) mx = d }
        END { printf "one process vs two: %d of %d listed films differ; largest score difference %g\n",
                     diff, n, mx }'
else
    echo "(no mpirun or a build without MPI: skipped)"
fi

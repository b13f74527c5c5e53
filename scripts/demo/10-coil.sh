# CoIL 2000: an insurer wants to mail 800 of 4,000 customers a caravan-insurance
# offer.  stratagem cross-validates models on the 5,822 customers whose answers
# are known, keeps the best, and chooses the 800 test customers most likely to
# buy, with the expected number of buyers.  The test answers are withheld.
COIL="$(data coil2000-ticdata)/ticdata.csv"

step "1. Conversion model on CoIL 2000 (5-fold cross-validated grid; test answers withheld)"
"$SG" train response --data "$COIL" --target CARAVAN --id id --ignore is_test \
    --cv 5 --grid "$(cat scripts/coil-grid.txt)" --out "$OUT/caravan.sgm" | tee "$OUT/caravan_cv.tsv"

step "2. Choose the 800 best of the 4,000 test customers"
"$SG" plan --model "$OUT/caravan.sgm" --data "$COIL" --where is_test=1 --top 800 \
    --out "$OUT/coil_top800.csv" --summary "$OUT/coil_top800.json"
head -5 "$OUT/coil_top800.csv"

step "3. How the model ranks the training customers (in-sample: optimistic, for illustration)"
"$SG" evaluate --model "$OUT/caravan.sgm" --data "$COIL" --where is_test=0 --top 800 | head -6

# Prices and promotions per store and brand: Dominick's orange juice.
#
# A store x brand x week panel (83 stores, 11 brands, weeks 40-160 of
# 1989-1992; bayesm's orangeJuice): units, price, in-store deal, feature ad and
# the gross margin.  The model learns each brand's price elasticity (and each
# store's deviation from it), the other brands' prices (substitution), and the
# lift of deals and features, with store and week effects; it is checked on the
# 24 weeks it did not see, week by week, forecast against what the stores sold.
# Then it plans the next week for every store and brand: a price change from
# -20% to +10% (never outside what the store has charged), a deal at 20 per
# store and brand, a feature ad at 300, at most two promoted brands per store,
# 30,000 of promotion spend; the forecast lift in gross profit over regular
# prices, corrected for the optimiser's curse, with its 90% interval.
# (bench/promo.sh scores the same kind of plan on worlds with a known truth.)
OJ="$(data bayesm-orangejuice)"
PROMO="$OUT/promo"
mkdir -p "$PROMO"
scripts/oj-panel.sh "$OJ" 136 "$PROMO"

step "1. Learn price and promotion response on weeks 40-136 (85,085 store x brand x week rows)"
"$SG" -q train promo --data "$PROMO/oj_train.csv" --store store --product brand --week week \
    --units units --price price --deal deal --feature feat --cost cost --out "$PROMO/oj.sgm" \
    | tee "$PROMO/train.txt"

step "2. The 24 weeks it did not see (137-160): each week's units and gross profit, forecast vs actual"
"$SG" -q evaluate --model "$PROMO/oj.sgm" --data "$PROMO/oj_test.csv" | tee "$PROMO/evaluate.txt"

step "3. Plan week 137: prices, deals and features for 902 store x brand items within 30,000"
"$SG" -q plan promo --model "$PROMO/oj.sgm" --data "$PROMO/oj_items.csv" \
    --changes -20,-10,0,5,10 --deal-cost 20 --feature-cost 300 --max-promos 2 --budget 30000 \
    --out "$PROMO/plan.csv" --summary "$PROMO/plan.json"
echo "  the plan for store 2 (brand, price, change %, deal, feature, expected units, profit):"
awk -F, '$1 == 2 { printf "    %-4s %6.2f %5s %2d %2d %8.0f %9.0f\n", $2, $3, $4, $5, $6, $7, $8 }' \
    "$PROMO/plan.csv"

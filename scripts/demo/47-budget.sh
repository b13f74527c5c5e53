# Splitting a media budget across channels: a media-mix model.
#
# No public data set in Debian has weekly spend by channel, so the demo builds a
# world with known truth on a real series: the weekly orange-juice sales of
# Dominick's chain (121 weeks; its prices, deals and features are real), plus
# four channels whose true curves stratagem does not see: tv in flights (weeks
# on, weeks off; S-shaped, long carry-over), search (its spend follows demand),
# social and display (weak), and a demand index (queries) as a search-volume
# series would give it.  The model learns each channel's carry-over and
# saturation from the weekly series, is checked on the 13 weeks it did not see,
# then splits the next 13 weeks' budget; the truth scores the split.
# (bench/budget.sh runs ten such worlds against a scikit-learn peer.)
OJ="$(data bayesm-orangejuice)"
MMM="$OUT/budget"
mkdir -p "$MMM"
scripts/oj-weekly.sh "$OJ" "$MMM/oj_weekly.csv"
"$SG" -q world budget --baseline "$MMM/oj_weekly.csv" --period week --outcome units \
    --keep price,deal,feat --seed 1 --out "$MMM/series.csv" --truth "$MMM/truth.json"
head -109 "$MMM/series.csv" > "$MMM/first108.csv"
{ head -1 "$MMM/series.csv"; tail -13 "$MMM/series.csv"; } > "$MMM/last13.csv"
FIT=(--period week --outcome sales --channels tv,search,social,display
     --controls queries,price,deal,feat --season 52)

step "1. Learn each channel's carry-over and saturation from weeks 40-147 (108 weeks)"
"$SG" -q train budget --data "$MMM/first108.csv" "${FIT[@]}" --out "$MMM/mmm108.sgm" \
    | tee "$MMM/train108.txt"

step "2. The 13 weeks it did not see (148-160): sales forecast from their spends vs actual"
"$SG" -q evaluate --model "$MMM/mmm108.sgm" --data "$MMM/last13.csv" | tail -2

step "3. All 121 weeks, then the next 13 weeks' split at 2,000 a week (26,000)"
"$SG" -q train budget --data "$MMM/series.csv" "${FIT[@]}" --out "$MMM/mmm.sgm" > "$MMM/train.txt"
"$SG" -q plan budget --model "$MMM/mmm.sgm" --budget 26000 --weeks 13 \
    --out "$MMM/split.csv" --summary "$MMM/split.json"
echo "  against the truth (which the model never saw):"
"$SG" world budget-score --truth "$MMM/truth.json" --summary "$MMM/split.json" | sed 's/^/    /'

step "4. A cut: 1,200 a week (the series spent about 1,670)"
"$SG" -q plan budget --model "$MMM/mmm.sgm" --budget 15600 --weeks 13 \
    --out "$MMM/cut.csv" --summary "$MMM/cut.json" | head -6
"$SG" world budget-score --truth "$MMM/truth.json" --summary "$MMM/cut.json" | sed 's/^/    /'

# The closed loop, three rounds on a semi-synthetic campaign with known truth
# ('stratagem world': CoIL 2000 customers, arms control / email / coupon10 /
# coupon20, the truth of bench/uplift_gen.py).  A SQLite workspace holds the
# campaign log and the prediction ledger.  Each round: train on the campaign log
# as it stands, plan for 10,000 new customers (budget 200 at 0.10 per contact,
# 10% of them explored at random), draw their outcomes from the truth, feed them
# back as JSON lines (predicted vs actual; the outcomes join the campaign log), and
# score the plan against the truth.  Training uses 3 folds x 1 repeat (not the default
# 5 x 3) to keep the part short.
COIL="$(data coil2000-ticdata)/ticdata.csv"
WS="$OUT/shop.db"
COST=email=0.10,coupon10=0.10,coupon20=0.10
L="$OUT/loop"
rm -rf "$L" "$WS"
mkdir -p "$L"

# jget FILE SECTION KEY: a number from the JSON the program writes (2-space indent);
# SECTION "" for a top-level key
jget() {
    awk -v s="\"$2\": {" -v k="\"$3\":" '
        index($0, s) == 3 { f = 1; next }
        f && /^  }/ { exit }
        (s == "\"\": {" && index($0, k) == 3) || (f && index($0, k) == 5) {
            v = substr($0, index($0, k) + length(k)); gsub(/[ ,]/, "", v); print v; exit }' "$1"
}

step "1. A workspace with last campaign's log (20,000 rows, known propensities)"
"$SG" init "$WS"
"$SG" world log --customers "$COIL" --rows 20000 --seed 1 --out "$L/log.csv"
"$SG" import "$WS" "$L/log.csv" --as campaigns --id customer_id --treatment treatment \
    --control control --outcome margin --propensity propensity

for r in 1 2 3; do
    step "2.$r Round $r: train on the campaign log, plan with 10% exploration, outcomes, feedback"
    "$SG" -q train uplift --data "$WS:campaigns" --treatment treatment --control control \
        --outcome margin --propensity propensity --id customer_id --ignore converted \
        --cv 3 --repeats 1 --out "$L/m$r.sgm"
    echo "trained on $("$SG" status "$WS" | awk '$1 == "campaigns" { print $2 }') campaign rows"
    "$SG" world customers --customers "$COIL" --rows 10000 --seed $((100 + r)) \
        --out "$L/customers$r.csv"
    "$SG" plan --model "$L/m$r.sgm" --data "$L/customers$r.csv" --budget 200 --cost "$COST" \
        --explore 0.1 --seed "$r" --out "$L/plan$r.csv" --summary "$L/plan$r.json" \
        --workspace "$WS"
    id="$(jget "$L/plan$r.json" "" plan_id)"
    "$SG" world outcomes --customers "$L/customers$r.csv" --plan "$L/plan$r.csv" \
        --seed $((200 + r)) --out "$L/results$r.csv"
    # the results come back as the shop's order system exports them: JSON lines
    scripts/csv2jsonl.sh "$L/results$r.csv" > "$L/results$r.jsonl"
    "$SG" feedback "$WS" --plan "$id" --results "$L/results$r.jsonl" --summary "$L/feedback$r.json"
    "$SG" world score --customers "$L/customers$r.csv" --plan "$L/plan$r.csv" --budget 200 \
        --cost "$COST" --summary "$L/plan$r.json" --json > "$L/score$r.json"
done

step "3. The rounds: forecast, realised (feedback), truth"
"$SG" plans "$WS"
{
    printf '| round | log rows | forecast net [90%%] | realised net [90%%] (feedback) | true net | forecast - true | covers | share of best |\n'
    printf '|---|---|---|---|---|---|---|---|\n'
    rows=20000
    for r in 1 2 3; do
        P="$L/plan$r.json"; F="$L/feedback$r.json"; S="$L/score$r.json"
        fn="$(jget "$P" forecast net)"; flo="$(jget "$P" forecast net_lo)"
        fhi="$(jget "$P" forecast net_hi)"
        re="$(jget "$F" realised effect)"; rn="$(jget "$F" realised net)"
        rlo="$(jget "$F" realised effect_lo)"; rhi="$(jget "$F" realised effect_hi)"
        tn="$(jget "$S" plan net)"; sh="$(jget "$S" "" share_of_best)"
        awk -v r="$r" -v n="$rows" -v fn="$fn" -v flo="$flo" -v fhi="$fhi" -v re="$re" \
            -v rn="$rn" -v rlo="$rlo" -v rhi="$rhi" -v tn="$tn" -v sh="$sh" 'BEGIN {
            c = re - rn
            printf "| %d | %d | %.1f [%.1f, %.1f] | %.1f [%.1f, %.1f] | %.1f | %+.1f (%+.0f%%) | %s | %.3f |\n",
                r, n, fn, flo, fhi, rn, rlo - c, rhi - c, tn, fn - tn, 100 * (fn - tn) / tn,
                (flo <= tn && tn <= fhi) ? "yes" : "no", sh }'
        rows=$((rows + 10000))
    done
} | tee "$L/table.md"
echo "(realised: the plan as executed, 10% exploration included, from the fed-back outcomes;"
echo " true: the expected net under the world's truth; covers: the forecast's interval covers the"
echo " truth; share: of the best plan in the same budget)"

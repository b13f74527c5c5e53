# A second opinion on the campaign plan of part 20: a customer simulator.
#
# Part 20 leaves in $OUT/campaign a logged campaign (log.csv: customer_id, the
# CoIL features, treatment control/email/coupon10/coupon20, propensity,
# converted, margin), the new customers (customers.csv), the uplift model's
# budgeted plan (plan.csv) and its forecast (plan.json).  Here a conditional
# generator of the outcomes (converted, then margin) given the customer and the
# action learns the same log, and the plan is tried on it 200 times: the
# distribution of the plan's incremental margin (mean and 90% interval), beside
# the uplift model's forecast.
#
# How to read a disagreement: over ten campaigns with a known truth
# (bench/simulate_check.sh, bench/synth_results.md) the simulator's 90% interval
# covered the true value of the uplift model's targeted plan 10 of 10 times, and of
# plans that treat everyone alike 26 of 30 times, but those intervals are wide.  The
# uplift model's forecast (its interval the log's doubly robust one) is the sharper
# of the two: where they disagree, trust it and look at what the simulator gets wrong.
CAMP="$OUT/campaign"
for f in log.csv customers.csv plan.csv plan.json; do
    if [ ! -s "$CAMP/$f" ]; then
        echo "demo part 25: $CAMP/$f is missing: run part 20 first (scripts/demo.sh 20 25)" >&2
        return 1
    fi
done

step "1. Learn a customer simulator from the campaign log (10 networks per outcome)"
"$SG" -q train simulate --data "$CAMP/log.csv" --treatment treatment --control control \
    --outcome converted,margin --id customer_id --propensity propensity \
    --out "$OUT/simulator.sgm"

step "2. Try the uplift model's plan on the simulator (200 simulated campaigns)"
"$SG" -q simulate --model "$OUT/simulator.sgm" --plan "$CAMP/plan.csv" \
    --data "$CAMP/customers.csv" --compare margin --json "$OUT/simulate.json" \
    | tee "$OUT/simulate.tsv"

step "3. Two forecasts of the plan, side by side (margin; 90% intervals)"
# the uplift model's forecast: the first effect / net figures of plan.json's "forecast"
FC="$(awk '/"forecast"/ { f = 1 } /"arms"/ { f = 0 }
           f && /"(effect|effect_lo|effect_hi|net|net_lo|net_hi)":/ {
               gsub(/[",]/, ""); if (!seen[$1]++) printf "%s %s ", $1, $2 }' "$CAMP/plan.json")"
awk -v fc="$FC" -F'\t' '
    BEGIN { n = split(fc, a, " "); for (i = 1; i < n; i += 2) u[a[i]] = a[i + 1] }
    $1 == "margin" && $2 == "incremental" { m = $3; lo = $4; hi = $5 }
    $1 == "cost" { cost = $2 }
    END {
        printf "  %-22s %30s %30s\n", "", "uplift model (plan.json)", "simulator"
        printf "  %-22s %10.1f [%8.1f, %8.1f] %10.1f [%8.1f, %8.1f]\n", "incremental margin",
               u["effect:"], u["effect_lo:"], u["effect_hi:"], m, lo, hi
        printf "  %-22s %10.1f [%8.1f, %8.1f] %10.1f [%8.1f, %8.1f]\n", "net of the plan cost",
               u["net:"], u["net_lo:"], u["net_hi:"], m - cost, lo - cost, hi - cost
        u_ok = u["effect:"] >= lo && u["effect:"] <= hi
        s_ok = m >= u["effect_lo:"] && m <= u["effect_hi:"]
        over = u["effect_lo:"] <= hi && lo <= u["effect_hi:"]
        if (u_ok && s_ok) {
            print "  AGREE: each forecast lies inside the other one'"'"'s 90% interval."
        } else {
            printf "  DISAGREE: the uplift forecast %.1f is %s the simulator'"'"'s interval,",
                   u["effect:"], u_ok ? "inside" : (u["effect:"] > hi ? "above" : "below")
            printf "\n  the simulated mean %.1f %s the uplift interval;", m,
                   s_ok ? "inside" : (m > u["effect_hi:"] ? "above" : "below")
            printf " the intervals %s.\n", over ? "overlap" : "do not overlap"
            if (m - cost <= 0 && u["net:"] > 0)
                print "  The simulator does not expect the plan to pay for its cost."
            else if (m - cost > 0)
                print "  Both expect the plan to pay for its cost."
        }
    }' "$OUT/simulate.tsv"
# Part 20 scored the plan against the campaign's known truth: show it beside both.
if [ -s "$CAMP/score.txt" ]; then
    echo "  the truth, known for this semi-synthetic campaign (part 20):"
    grep -E 'plan TRUE (effect|net)' "$CAMP/score.txt" | sed 's/^ */    /'
fi

# Uplift targeting on a campaign log, a budgeted plan and its forecast, checked
# against a known truth.
#
# 'stratagem world' makes a semi-synthetic campaign on the real CoIL 2000
# customers: a log of 20,000 contacts (arms control, email, coupon10, coupon20,
# chosen by a known, non-uniform logging policy; outcomes drawn from a known
# truth in which email annoys customers with many policies) and 10,000 new
# customers to plan for (the truth and the policy are those of
# bench/uplift_gen.py; see 'stratagem help world').  stratagem learns the effect
# of each action from the log, spends a budget of 200 (2,000 contacts at 0.10)
# where it brings the most margin, and forecasts what the plan will bring.
# Because the truth is known here, the plan's real value and the best any plan
# could reach are printed beside the forecast.  Last, the plan is checked
# off-policy on a second, independent log, as one would with real data, and a
# derived feature (the number of policies, a sum over 21 columns that shallow
# trees cannot form) is given to the model to show what features are worth.
# Later parts read $OUT/campaign/{log,customers,plan}.csv and plan.json.
CAMP="$OUT/campaign"
mkdir -p "$CAMP"
COIL="$(data coil2000-ticdata)/ticdata.csv"
COST=email=0.10,coupon10=0.10,coupon20=0.10

step "1. A campaign log (20,000 contacts) and 10,000 new customers on CoIL 2000, with known truth"
"$SG" -q world log --customers "$COIL" --rows 20000 --seed 1 --out "$CAMP/log.csv"
"$SG" -q world customers --customers "$COIL" --rows 10000 --seed 1 --out "$CAMP/customers.csv"

# Besides each arm's average effect, train prints the log in fifths by predicted
# effect: the fifths' doubly robust effects show whether the ranking holds.
step "2. Learn the effect of each action on margin from the log (cross-fitted; about a minute)"
"$SG" -q train uplift --data "$CAMP/log.csv" --treatment treatment --control control \
    --outcome margin --propensity propensity --id customer_id --ignore converted \
    --out "$CAMP/uplift.sgm" | tee "$CAMP/train.tsv"

step "3. Plan: a budget of 200 at 0.10 per contact, most margin first, with an honest forecast"
"$SG" -q plan --model "$CAMP/uplift.sgm" --data "$CAMP/customers.csv" --budget 200 --cost "$COST" \
    --objective value --out "$CAMP/plan.csv" --summary "$CAMP/plan.json" \
    --report "$CAMP/report.html"

step "4. The truth: what the plan really brings, the best possible plan, forecast vs truth"
"$SG" -q world score --customers "$CAMP/customers.csv" --plan "$CAMP/plan.csv" --budget 200 \
    --cost "$COST" --summary "$CAMP/plan.json" | tee "$CAMP/score.txt"

step "5. Off-policy check on a second, independent log (10,000 contacts, seed 2)"
# Off-policy evaluation needs the plan's customers in the log, so the same model
# plans the log's own customers under the same budget; IPS / SNIPS / DR then
# estimate from the logged outcomes what that plan brings (incremental_vs_nobody,
# net of cost), which the truth confirms below.
"$SG" -q world log --customers "$COIL" --rows 10000 --seed 2 --out "$CAMP/log2.csv"
"$SG" -q plan --model "$CAMP/uplift.sgm" --data "$CAMP/log2.csv" --budget 200 --cost "$COST" \
    --objective value --out "$CAMP/plan_log2.csv" --summary "$CAMP/plan_log2.json" > /dev/null
"$SG" -q evaluate --plan "$CAMP/plan_log2.csv" --data "$CAMP/log2.csv" --treatment treatment \
    --control control --outcome margin --propensity propensity --id customer_id --cost "$COST" \
    --model "$CAMP/uplift.sgm" | tee "$CAMP/ope.tsv"
"$SG" -q world score --customers "$CAMP/log2.csv" --plan "$CAMP/plan_log2.csv" --budget 200 \
    --cost "$COST" --summary "$CAMP/plan_log2.json" | grep -E "TRUE net|share|forecast net"
echo "   (report: $CAMP/report.html)"

step "6. A derived feature: the number of policies (--sum), same log, budget and truth"
# Email annoys customers with four or more policies, a count spread over 21
# columns (AWAPART..ABYSTAND) that depth-3 trees can only approximate.  Given
# the count as a feature, the model keeps the recipe and computes it for the
# new customers; the truth scores the plan as in part 4.
"$SG" -q train uplift --data "$CAMP/log.csv" --treatment treatment --control control \
    --outcome margin --propensity propensity --id customer_id --ignore converted \
    --sum NPOL=AWAPART..ABYSTAND --out "$CAMP/uplift_npol.sgm" > /dev/null
"$SG" -q plan --model "$CAMP/uplift_npol.sgm" --data "$CAMP/customers.csv" --budget 200 \
    --cost "$COST" --objective value --out "$CAMP/plan_npol.csv" --summary "$CAMP/plan_npol.json" \
    > /dev/null
"$SG" -q world score --customers "$CAMP/customers.csv" --plan "$CAMP/plan_npol.csv" --budget 200 \
    --cost "$COST" --summary "$CAMP/plan_npol.json" | grep -E "TRUE net|share|forecast net"

step "7. The plan of part 3 with its scoring shared by two processes (mpirun -np 2)"
# each process scores half of the customers; rank 0 solves, forecasts and writes
if command -v mpirun > /dev/null && "$SG" --version | grep -q '^mpi: yes'; then
    mkdir -p "$CAMP/mpi"
    mpirun --allow-run-as-root --oversubscribe -np 2 "$SG" -q plan --model "$CAMP/uplift.sgm" \
        --data "$CAMP/customers.csv" --budget 200 --cost "$COST" --objective value \
        --out "$CAMP/mpi/plan.csv" > /dev/null
    cmp -s "$CAMP/plan.csv" "$CAMP/mpi/plan.csv" && echo "two processes: the same plan.csv as one" ||
        echo "two processes: plan.csv DIFFERS from one process's"
else
    echo "(no mpirun or a build without MPI: skipped)"
fi

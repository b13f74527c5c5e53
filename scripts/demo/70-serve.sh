# The shop's backend asks for decisions while a customer is on the site: `stratagem
# serve` puts the demo's models behind a JSON API on 127.0.0.1 (docs/serve.md), and
# the backend calls it.  Here curl plays the backend: the models it serves, a
# conversion score, the action to offer each of three new customers given the
# contact costs, a budgeted plan for a batch of 1,000 with its forecast, films for a
# new customer, next week's prices and promotions for one store, a media budget's
# split across channels, and the error a bad request gets.
# Models come from parts 10 (caravan), 20 (campaign), 40 (films), 45 (oj) and 47
# (media); a part that did not run is left out, and without part 10 a quick
# conversion model is trained.
MODELS="$OUT/serve-models"
mkdir -p "$MODELS"
rm -f "$MODELS"/*.sgm
COIL="$(data coil2000-ticdata)/ticdata.csv"
if [ ! -f "$OUT/caravan.sgm" ]; then
    "$SG" -q train response --data "$COIL" --target CARAVAN --id id --ignore is_test \
        --out "$OUT/caravan.sgm" > /dev/null
fi
ln -sf "$OUT/caravan.sgm" "$MODELS/caravan.sgm"
[ -f "$OUT/campaign/uplift.sgm" ] && ln -sf "$OUT/campaign/uplift.sgm" "$MODELS/campaign.sgm"
[ -f "$OUT/ml_vae.sgm" ] && ln -sf "$OUT/ml_vae.sgm" "$MODELS/films.sgm"
[ -f "$OUT/promo/oj.sgm" ] && ln -sf "$OUT/promo/oj.sgm" "$MODELS/oj.sgm"
[ -f "$OUT/budget/mmm.sgm" ] && ln -sf "$OUT/budget/mmm.sgm" "$MODELS/media.sgm"

step "1. Start the service on a free port of 127.0.0.1 (in the background)"
# empty serve.txt first: the background job's own '>' may come after the first
# look below, which would then read the last run's port
: > "$OUT/serve.txt"
"$SG" serve --models "$MODELS" --port 0 > "$OUT/serve.txt" 2> "$OUT/serve_log.txt" &
SERVE_PID=$!
trap 'kill "$SERVE_PID" 2> /dev/null || true' EXIT
PORT=""
for _ in $(seq 1 100); do
    PORT="$(sed -n 's/^listening on http:\/\/127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$OUT/serve.txt")"
    [ -n "$PORT" ] && break
    sleep 0.1
done
[ -n "$PORT" ] || { cat "$OUT/serve_log.txt"; echo "serve did not start" >&2; exit 1; }
cat "$OUT/serve.txt"
API="http://127.0.0.1:$PORT"
echo "(a dashboard page is at $API/ while it runs)"
# every request has a deadline, so that a stuck service cannot stall the demo
curl() { command curl --max-time 60 "$@"; }
# one JSON object per line for reading
lines() { sed "s/},{/},\\n  {/g"; }

step "2. GET /models: what it serves"
curl -sf "$API/models" | lines

step "3. POST /models/caravan/predict: purchase probability of three CoIL test customers (CSV rows)"
awk -F, 'NR == 1 { print; next } $NF == 1 { print; if (++n == 3) exit }' "$COIL" \
    | curl -sf -H 'Content-Type: text/csv' --data-binary @- "$API/models/caravan/predict" | lines

if [ -f "$MODELS/campaign.sgm" ]; then
    step "4. POST /models/campaign/predict with costs: each arm's effect on margin and the action to take"
    # three new customers as JSON rows: {"column": value, ...}
    ROWS="$(awk -F, 'NR == 1 { for (j = 1; j <= NF; j++) h[j] = $j; next }
        { printf "%s{", (NR > 2 ? "," : ""); for (j = 1; j <= NF; j++)
              printf "%s\"%s\": %s", (j > 1 ? "," : ""), h[j], (j == 1 ? "\"" $j "\"" : $j)
          printf "}"; if (NR == 4) exit }' "$OUT/campaign/customers.csv")"
    curl -sf -d "{\"rows\": [$ROWS], \"cost\": {\"email\": 0.10, \"coupon10\": 0.10, \"coupon20\": 0.10}}" \
        "$API/models/campaign/predict" | lines

    step "4b. POST /models/campaign/plan: a budget of 20 for the first 1,000 new customers, the forecast only"
    # the same plan as 'stratagem plan --budget 20' on those customers ("summary_only":
    # the forecast and baselines without the 1,000 plan rows)
    awk -F, 'NR == 1 { for (j = 1; j <= NF; j++) h[j] = $j; printf "{\"rows\": ["; next }
        { printf "%s{", (NR > 2 ? "," : ""); for (j = 1; j <= NF; j++)
              printf "%s\"%s\": %s", (j > 1 ? "," : ""), h[j], (j == 1 ? "\"" $j "\"" : $j)
          printf "}"; if (NR == 1001) exit }
        END { printf "], \"budget\": 20, \"cost\": {\"email\": 0.10, \"coupon10\": 0.10, "
              printf "\"coupon20\": 0.10}, \"summary_only\": true}" }' "$OUT/campaign/customers.csv" \
        > "$OUT/serve_plan_request.json"
    curl -sf -d @"$OUT/serve_plan_request.json" "$API/models/campaign/plan" \
        | sed 's/,"baselines"/,\n  "baselines"/; s/,"log"/,\n  "log"/'; echo
    echo "The same plan from the command line, on the same 1,000 customers:"
    head -1001 "$OUT/campaign/customers.csv" > "$OUT/serve_plan_customers.csv"
    "$SG" -q plan --model "$MODELS/campaign.sgm" --data "$OUT/serve_plan_customers.csv" --budget 20 \
        --cost email=0.10,coupon10=0.10,coupon20=0.10 --objective value \
        --out "$OUT/serve_plan_cli.csv" | grep -E "^plan:|^  (policy|this plan)"
fi

if [ -f "$MODELS/films.sgm" ]; then
    step "5. POST /models/films/recommend: five films for a new customer (Toy Story, Star Wars, Empire)"
    curl -sf -d '{"items": [1, 260, 1196], "k": 5}' "$API/models/films/recommend" | lines
fi

if [ -f "$MODELS/oj.sgm" ]; then
    step "5b. POST /models/oj/plan: store 2's orange juice next week, at most 2 promotions (the forecast only)"
    # the store's 11 brands with their regular prices and costs, as part 45 planned them
    awk -F, 'NR > 1 && $1 == 2 { printf "%s{\"store\": %s, \"brand\": %s, \"price\": %s, \"cost\": %s}",
                                        (n++ ? "," : ""), $1, $2, $3, $4 }' "$OUT/promo/oj_items.csv" \
        | { printf '{"rows": ['; cat; printf '], "changes": [-20, -10, 0, 5, 10], "deal_cost": 20, '
            printf '"feature_cost": 300, "max_promos": 2, "summary_only": true}'; } \
        | curl -sf -d @- "$API/models/oj/plan" | sed 's/,"baseline"/,\n  "baseline"/; s/,"lift"/,\n  "lift"/'
    echo
fi

if [ -f "$MODELS/media.sgm" ]; then
    step "5c. POST /models/media/plan: 26,000 over 13 weeks across tv, search, social and display"
    curl -sf -d '{"budget": 26000, "weeks": 13}' "$API/models/media/plan" \
        | sed 's/,"baselines"/,\n  "baselines"/; s/,"channels"/,\n  "channels"/'
    echo
fi

step "6. A request the model cannot use: the answer says what is wrong (HTTP 422)"
curl -s -w ' (HTTP %{http_code})\n' -d '{"rows": [{"id": 1, "STYPE": 33}]}' "$API/models/caravan/predict"

step "7. Stop the service (SIGTERM); its access log"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || true
trap - EXIT
sed 's/^/  /' "$OUT/serve_log.txt"

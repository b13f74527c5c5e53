#!/usr/bin/env bash
# uplift_budgets.sh -- plans and forecasts beyond the demo's budget and log size.
#
#   SEEDS="1 2 3" ROWS="5000 20000" BUDGETS="50 200 1000" bench/uplift_budgets.sh
#   TRAIN_OPTS="--colsample 0.5" ... bench/uplift_budgets.sh   (extra train uplift options)
#
# On the world campaign of each seed (`stratagem world`, the demo's truth) with a
# log of each size in ROWS, `train uplift` as the held-out campaign is run, then
# `plan --objective value` for 10,000 new customers at 0.10 per contact under
# each budget in BUDGETS (1000 reaches every customer: the budget no longer
# binds), scored by `world score`.  Prints a line per (seed, rows, budget) and a
# summary per (rows, budget): mean and lowest share of the best plan, mean
# forecast / true net, how often it is within 10% of the truth and the 90%
# interval covers the truth, the plan's verdicts, and the log's doubly robust
# value alone (the point forecast is the model's sum where the log's interval
# holds it); and the same for the plan's incremental conversions, which
# `plan` forecasts beside the margin.  Needs build/ (make).  Outputs in bench/out/uplift_budgets/.
set -euo pipefail
cd "$(dirname "$0")/.."
SG="${SG:-build/stratagem}"
COIL=../shared/data/coil2000-ticdata/ticdata.csv
[ -f "$COIL" ] || COIL=data/coil2000-ticdata/ticdata.csv
[ -x "$SG" ] || { echo "uplift_budgets: $SG not built (make)" >&2; exit 1; }
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX   # OpenBLAS 0.3.21 misreads some AVX-512 CPUs; only there
fi
COST=email=0.10,coupon10=0.10,coupon20=0.10
OUT=bench/out/uplift_budgets
mkdir -p "$OUT"
printf 'seed\trows\tbudget\tshare\ttrue_net\tforecast\tlo\thi\tratio\tcovered\tverdict\tconv_ratio\tconv_covered\tlog_ratio\n'
for rows in ${ROWS:-5000 20000}; do
    for s in ${SEEDS:-1 2 3 4 5}; do
        D="$OUT/s${s}_r$rows"
        mkdir -p "$D"
        "$SG" -q world log --customers "$COIL" --rows "$rows" --seed "$s" --out "$D/log.csv" >/dev/null
        "$SG" -q world customers --customers "$COIL" --rows 10000 --seed "$s" \
            --out "$D/customers.csv" >/dev/null
        # shellcheck disable=SC2086
        "$SG" -q train uplift --data "$D/log.csv" --treatment treatment --control control \
            --outcome margin --propensity propensity --id customer_id --ignore converted \
            ${TRAIN_OPTS:-} --out "$D/model.sgm" >/dev/null
        for b in ${BUDGETS:-50 200 1000}; do
            "$SG" -q plan --model "$D/model.sgm" --data "$D/customers.csv" --budget "$b" \
                --cost "$COST" --objective value --out "$D/plan_$b.csv" \
                --summary "$D/plan_$b.json" >/dev/null
            "$SG" -q world score --customers "$D/customers.csv" --plan "$D/plan_$b.csv" \
                --budget "$b" --cost "$COST" --summary "$D/plan_$b.json" --json >"$D/score_$b.json"
            v=$(sed -n 's/.*"verdict": "\([a-z]*\)".*/\1/p' "$D/plan_$b.json")
            # world score --json: share_of_best, plan.net, forecast.net/net_lo/net_hi
            tr -d ' \n' <"$D/score_$b.json" | awk -v s="$s" -v r="$rows" -v b="$b" -v v="$v" '{
                match($0, /"share_of_best":[-0-9.e+]*/); sh = substr($0, RSTART + 16, RLENGTH - 16)
                match($0, /"plan":\{[^}]*"net":[-0-9.e+]*/); p = substr($0, RSTART, RLENGTH)
                sub(/.*"net":/, "", p)
                match($0, /"forecast":\{[^}]*\}/); f = substr($0, RSTART, RLENGTH)
                n = f; sub(/.*"net":/, "", n); sub(/[,}].*/, "", n)
                lo = f; sub(/.*"net_lo":/, "", lo); sub(/[,}].*/, "", lo)
                hi = f; sub(/.*"net_hi":/, "", hi); sub(/[,}].*/, "", hi)
                # the forecast of the plan'"'"'s conversions (hurdle models): ratio to the truth
                cr = "nan"; cc = "-"
                if (match($0, /"conversions":\{[^}]*"covered":[a-z]*/)) {
                    c = substr($0, RSTART, RLENGTH); cr = c; sub(/.*"ratio":/, "", cr)
                    sub(/[,}].*/, "", cr); cc = c ~ /"covered":true/ ? "yes" : "no" }
                # the log'"'"'s value alone (the point forecast may be the model'"'"'s sum)
                lr = "nan"
                if (match(f, /"log_net_ratio":[-0-9.e+]*/)) lr = substr(f, RSTART + 16, RLENGTH - 16)
                printf "%d\t%d\t%s\t%.3f\t%.1f\t%.1f\t%.1f\t%.1f\t%.2f\t%s\t%s\t%s\t%s\t%s\n", s, r,
                       b, sh, p, n, lo, hi, n / p, (p + 0 >= lo + 0 && p + 0 <= hi + 0) ? "yes" : "no",
                       v, cr, cc, lr }'
        done
    done
done | tee "$OUT/last.tsv" | awk -F'\t' '
    { print; k = $2 " rows, budget " $3; if (!(k in n)) order[++nk] = k
      n[k]++; sh[k] += $4; if (!(k in mn) || $4 < mn[k]) mn[k] = $4; ra[k] += $9
      w10[k] += ($9 >= 0.9 && $9 <= 1.1); if ($14 != "nan") { nl[k]++; lra[k] += $14
      lw10[k] += ($14 >= 0.9 && $14 <= 1.1) }
      cv[k] += ($10 == "yes"); vd[k] = vd[k] " " $11
      if ($13 != "-") { nc[k]++; cr[k] += $12; cc[k] += ($13 == "yes") } }
    END { for (j = 1; j <= nk; j++) { k = order[j]
            printf "%s: share %.3f (min %.3f), forecast/true %.2f, within 10%% %d, covered %d of %d, verdicts%s",
                   k, sh[k] / n[k], mn[k], ra[k] / n[k], w10[k], cv[k], n[k], vd[k]
            if (nl[k]) printf "; the log'"'"'s value alone /true %.2f, within 10%% %d", lra[k] / nl[k], lw10[k]
            if (nc[k]) printf "; conversions forecast/true %.2f, covered %d of %d", cr[k] / nc[k],
                              cc[k], nc[k]
            printf "\n" } }'

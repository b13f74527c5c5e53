#!/usr/bin/env bash
# oj-weekly.sh DIR OUT.csv -- Dominick's orange juice (bayesm's orangeJuice,
# DIR/orangejuice_yx.csv) as one weekly series for the chain, the real baseline
# of a media-mix world ('stratagem world budget'):
#   week,units,price,deal,feat
# units = the week's total over stores and brands of exp(logmove); price = the
# mean over the week's rows of the row's own brand price per ounce x 64 (a
# carton); deal and feat = the share of the week's rows on deal / featured.
set -euo pipefail
DIR="${1:?usage: oj-weekly.sh DIR OUT.csv}"; OUT="${2:?usage: oj-weekly.sh DIR OUT.csv}"
{ echo "week,units,price,deal,feat"; awk -F, '
NR == 1 { for (i = 1; i <= NF; i++) { gsub(/"/, "", $i); col[$i] = i }; next }
{
    w = $col["week"] + 0; b = $col["brand"]
    units[w] += exp($col["logmove"]); price[w] += $col["price" b] * 64
    deal[w] += $col["deal"]; feat[w] += $col["feat"]; n[w]++
}
END {
    for (w in n) printf "%d,%.1f,%.5f,%.5f,%.5f\n", w, units[w], price[w] / n[w],
                        deal[w] / n[w], feat[w] / n[w]
}' "$DIR/orangejuice_yx.csv" | sort -t, -k1,1n; } > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"

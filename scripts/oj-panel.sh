#!/usr/bin/env bash
# oj-panel.sh DIR CUT OUTDIR -- Dominick's orange juice (bayesm's orangeJuice,
# DIR/orangejuice_yx.csv) as a long store x brand x week panel for 'train promo':
#   store,brand,week,units,price,deal,feat,cost
# units = exp(logmove); price = the brand's price per ounce (the row's price<brand>
# column) x its carton size (64 oz; 96 for brands 2 and 6; 128 for brand 11);
# cost = price x (1 - profit / 100), the package's 'profit' being the gross
# margin in percent.  Weeks <= CUT go to OUTDIR/oj_train.csv, later ones to
# OUTDIR/oj_test.csv; OUTDIR/oj_items.csv lists each store x brand of the last
# training week with its regular price (the highest price of its last 8 weeks)
# and the cost of that week: the items of a plan for the next week.
set -euo pipefail
DIR="${1:?usage: oj-panel.sh DIR CUT OUTDIR}"; CUT="${2:?}"; OUT="${3:?}"
mkdir -p "$OUT"
awk -F, -v cut="$CUT" -v out="$OUT" '
NR == 1 { for (i = 1; i <= NF; i++) { gsub(/"/, "", $i); col[$i] = i }
          hdr = "store,brand,week,units,price,deal,feat,cost"
          print hdr > (out "/oj_train.csv.tmp"); print hdr > (out "/oj_test.csv.tmp"); next }
{
    b = $col["brand"]; size = (b == 2 || b == 6) ? 96 : (b == 11 ? 128 : 64)
    price = $col["price" b] * size
    cost = price * (1 - $col["profit"] / 100)
    line = sprintf("%d,%d,%d,%.6g,%.6g,%d,%.6g,%.6g", $col["store"], b, $col["week"],
                   exp($col["logmove"]), price, $col["deal"], $col["feat"], cost)
    w = $col["week"] + 0
    if (w <= cut) {
        print line > (out "/oj_train.csv.tmp")
        k = $col["store"] "," b
        if (w > cut - 8 && price > reg[k]) reg[k] = price
        if (w > last[k]) { last[k] = w; lcost[k] = cost }
    } else print line > (out "/oj_test.csv.tmp")
}
END {
    print "store,brand,price,cost" > (out "/oj_items.csv.tmp"); close(out "/oj_items.csv.tmp")
    for (k in last) if (last[k] == cut && reg[k] > 0)
        printf "%s,%.6g,%.6g\n", k, reg[k], lcost[k] | ("sort -t, -k1,1n -k2,2n >> " out "/oj_items.csv.tmp")
}' "$DIR/orangejuice_yx.csv"
for f in oj_train oj_test oj_items; do mv "$OUT/$f.csv.tmp" "$OUT/$f.csv"; done

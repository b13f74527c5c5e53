#!/usr/bin/env bash
# uplift_experiments.sh -- randomised experiments: is the average effect that
# 'stratagem train uplift' prints inside the published confidence interval?
# And the effects by segment.
#
# Data (read-only, /work/shared/data; see each README):
#   resume-callback-experiment  callback (call) by race of the name (ethnicity: 0 = white,
#                               1 = African-American); Bertrand & Mullainathan (2004): 9.65% vs
#                               6.45%, n = 2435 each: -3.20 points, 95% CI [-4.72, -1.67]
#                               (from the published rates and sizes)
#   lalonde-nsw                 1978 earnings (re78) by the NSW job training (treat);
#                               Dehejia & Wahba (1999): $1,794 (SE 633), 95% CI [553, 3035]
#   alo-star-incentives         college GPA by financial incentives + support (sfsp) vs support
#                               only; men; Angrist, Lang & Oreopoulos (2009) / Lin (2013): about
#                               zero; README: -0.036 (year 1), -0.301 (year 2), difference in
#                               means; 95% CI computed here (Neyman: Welch standard error)
# For every experiment the script also computes the plain difference in means
# with its Neyman 95% interval from the file itself (awk), as a cross-check.
# Ours: the doubly robust (AIPW) average effect on cross-fitted predictions,
# propensities estimated (no propensity column), with its 95% interval.
#
# Usage: bench/uplift_experiments.sh    (STRATAGEM=path overrides build/stratagem)
set -euo pipefail
cd "$(dirname "$0")/.."
S=${STRATAGEM:-build/stratagem}
DATA=${DATA:-/work/shared/data}
OUT=bench/out/uplift_experiments
mkdir -p "$OUT"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX
fi
[ -x "$S" ] || { echo "uplift_experiments.sh: $S not found; run 'make' first" >&2; exit 1; }

# diffmeans FILE TREATCOL OUTCOL: difference in means (treat=1 minus 0), Neyman 95% CI
diffmeans() {
    awk -F, -v tc="$2" -v yc="$3" '
        NR == 1 { for (i = 1; i <= NF; i++) { gsub(/"/, "", $i); if ($i == tc) t = i; if ($i == yc) y = i }; next }
        $y == "NA" || $y == "" { next }
        { g = $t + 0; n[g]++; s[g] += $y; ss[g] += $y * $y }
        END {
            for (g = 0; g <= 1; g++) { m[g] = s[g] / n[g]; v[g] = (ss[g] - n[g] * m[g] * m[g]) / (n[g] - 1) }
            d = m[1] - m[0]; se = sqrt(v[1] / n[1] + v[0] / n[0])
            printf "%.6g\t%.6g\t%.6g\t%.6g\n", d, se, d - 1.96 * se, d + 1.96 * se }' "$1"
}

# run NAME FILE TREAT OUTCOME IGNORE SEGMENTS PUB PUB_LO PUB_HI
run() {
    local name=$1 file=$2 treat=$3 y=$4 ign=$5 segs=$6 pub=$7 plo=$8 phi=$9
    local args=(train uplift --data "$file" --treatment "$treat" --control 0 --outcome "$y"
                --out "$OUT/$name.sgm")
    [ -n "$ign" ] && args+=(--ignore "$ign")
    [ -n "$segs" ] && args+=(--segment "${segs// /,}")
    "$S" -q "${args[@]}" > "$OUT/$name.txt"
    local ours dm
    ours=$(awk -F'\t' '$1 == "1" { print $6 "\t" $7 "\t" $8 "\t" $9; exit }' "$OUT/$name.txt")
    dm=$(diffmeans "$file" "$treat" "$y")
    printf "%s\t%s\t%s\t%s\t%s\n" "$name" "$pub" "$plo" "$phi" "$ours" | awk -F'\t' -v dm="$dm" '{
        split(dm, d, "\t")
        inside = ($5 >= $3 && $5 <= $4) ? "yes" : "NO"
        printf "%-20s published %-9s [%s, %s]   ours %9.4g [%9.4g, %9.4g] (se %.3g)   inside: %s\n", $1, $2, $3, $4, $5, $7, $8, $6, inside
        printf "%-20s difference in means %.4g [%.4g, %.4g] (Neyman, computed from the file)\n", "", d[1], d[3], d[4] }'
    awk -F'\t' -v n="$name" '
        f && $1 != "" { printf "%-20s   segment %s=%s (%s rows): effect %.4g [%.4g, %.4g]\n", n, $1, $2, $3, $5, $7, $8 }
        $1 == "segment" { f = 1 }' "$OUT/$name.txt"
}

echo "randomised experiments: average effect of the treatment (ours: AIPW on cross-fitted"
echo "T-learner predictions, 95% interval) against the published estimate and its 95% CI"
echo
run resume "$DATA/resume-callback-experiment/resumenames.csv" ethnicity call name \
    "gender city" -0.0320 -0.0472 -0.0167
run lalonde "$DATA/lalonde-nsw/lalonde.csv" treat re78 "" "black nodegr" 1794.34 553 3035
STAR="$DATA/alo-star-incentives/alo_star_men.csv"
for y in GPA_year1 GPA_year2; do
    ref=$(diffmeans "$STAR" sfsp "$y")
    lo=$(echo "$ref" | cut -f3); hi=$(echo "$ref" | cut -f4)
    pub=$([ "$y" = GPA_year1 ] && echo -0.036 || echo -0.301)
    run "star_$y" "$STAR" sfsp "$y" "ssp,GPA_year1,GPA_year2" "" "$pub" "$(printf %.3f "$lo")" \
        "$(printf %.3f "$hi")"
done
echo
echo "(STAR: the README gives point estimates only; its interval here is the Neyman 95% CI of"
echo " the difference in means computed from the file.  Model files and outputs: $OUT/)"

#!/usr/bin/env bash
# fetch-data.sh NAME -- print the folder holding public data set NAME, fetching
# it from its Debian package when ../shared/data does not have it.
#
# The data sets are research-only and are not committed: they are rebuilt here
# the way ../shared/data/fetch.sh does (apt-get download the package, unpack it
# with dpkg-deb, write CSV with R).  Results are cached in ./data/ (git-ignored).
#   NAME: coil2000-ticdata | kernlab-income-survey | movielens-small |
#         supermarket-baskets | fashion-mnist | bayesm-orangejuice
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NAME="${1:?usage: fetch-data.sh NAME}"
case "$NAME" in
    coil2000-ticdata)      FILE=ticdata.csv;   PKG=r-cran-kernlab=0.9-32-1 ;;
    kernlab-income-survey) FILE=income.csv;    PKG=r-cran-kernlab=0.9-32-1 ;;
    movielens-small)       FILE=ratings.csv;   PKG=r-cran-dslabs=0.7.4-1 ;;
    bayesm-orangejuice)    FILE=orangejuice_yx.csv; PKG=r-cran-bayesm=3.1-5+dfsg-1 ;;
    supermarket-baskets)   FILE=basket_items.csv; PKG=weka=3.6.14-3 ;;
    fashion-mnist)         FILE=train-images-idx3-ubyte.gz
                           PKG=dataset-fashion-mnist=0.0~git20200523.55506a9-1 ;;
    *) echo "fetch-data.sh: unknown data set '$NAME'" >&2; exit 2 ;;
esac
for d in "${SG_DATA:-}" "$ROOT/../shared/data" "$ROOT/data"; do
    [ -n "$d" ] || continue
    if [ -s "$d/$NAME/$FILE" ]; then echo "$d/$NAME"; exit 0; fi
done

OUT="$ROOT/data/$NAME"
echo "fetch-data.sh: $NAME not found under ../shared/data; building it from Debian packages into $OUT" >&2
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
if [ "$NAME" != fashion-mnist ] && [ "$NAME" != supermarket-baskets ] && \
   ! command -v Rscript >/dev/null 2>&1; then
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends r-base-core >/dev/null
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"
# the pinned version, or the current candidate when the pin is gone
(cd "$WORK" && { apt-get download -qq "$PKG" 2>/dev/null || \
    { $SUDO apt-get update -qq; apt-get download -qq "$PKG" 2>/dev/null; } || \
    apt-get download -qq "${PKG%%=*}"; })
dpkg-deb -x "$WORK"/*.deb "$WORK/root"
mkdir -p "$OUT.tmp"

# Same extraction as ../shared/data/fetch.sh: factors as 0-based codes, NA for
# missing; for CoIL the test rows' answers are withheld (CARAVAN = NA), id and
# is_test added.
rdata() {  # $1 = R package, $2 = R expression writing the CSV(s) from e
    LC_ALL=C.UTF-8 LANG=C.UTF-8 Rscript --vanilla - "$WORK/root" "$OUT.tmp" "$1" <<REOF
args <- commandArgs(TRUE); root <- args[1]; out <- args[2]; pkg <- args[3]
e <- new.env(); d <- file.path(root, "usr/lib/R/site-library", pkg, "data")
if (file.exists(file.path(d, "Rdata.rdb"))) lazyLoad(file.path(d, "Rdata"), envir = e)
for (r in list.files(d, pattern = "\\\\.(rda|RData)\$", full.names = TRUE)) load(r, envir = e)
wcsv <- function(df, name) {
  df <- as.data.frame(df); rownames(df) <- NULL
  for (v in names(df)) {
    if (is.factor(df[[v]])) df[[v]] <- as.integer(df[[v]]) - 1L
    else if (is.logical(df[[v]])) df[[v]] <- as.integer(df[[v]])
  }
  write.csv(df, file.path(out, name), row.names = FALSE, na = "NA", fileEncoding = "UTF-8")
}
$2
REOF
}
case "$NAME" in
coil2000-ticdata)
    rdata kernlab 'tic <- e$ticdata; tic$is_test <- c(rep(0L, 5822), rep(1L, nrow(tic) - 5822))
tic$CARAVAN[tic$is_test == 1L] <- NA
wcsv(data.frame(id = seq_len(nrow(tic)), tic, check.names = FALSE), "ticdata.csv")' ;;
kernlab-income-survey)
    rdata kernlab 'wcsv(e$income, "income.csv")' ;;
bayesm-orangejuice)
    rdata bayesm 'wcsv(e$orangeJuice$yx, "orangejuice_yx.csv")
wcsv(e$orangeJuice$storedemo, "orangejuice_storedemo.csv")' ;;
movielens-small)
    rdata dslabs 'm <- e$movielens; wcsv(m[, c("userId", "movieId", "rating", "timestamp")], "ratings.csv")' ;;
supermarket-baskets)
    # weka's supermarket.arff: one row per basket, 't' where the item was bought
    f="$WORK/root/usr/share/doc/weka/examples/supermarket.arff"
    [ -f "$f" ] || { gzip -dc "$f.gz" > "$WORK/s.arff"; f="$WORK/s.arff"; }
    awk -F, 'BEGIN { print "\"basket_id\",\"item_id\"" }
        /^@data/ { data = 1; next }
        data && NF > 1 && $0 !~ /^%/ { b++; for (i = 1; i < NF; i++) if ($i == "t") print b "," i }' \
        "$f" > "$OUT.tmp/basket_items.csv" ;;
fashion-mnist)
    cp "$WORK"/root/usr/share/datasets/fashion-mnist/*-ubyte.gz "$OUT.tmp/"
    printf 'label,name\n0,T-shirt/top\n1,Trouser\n2,Pullover\n3,Dress\n4,Coat\n5,Sandal\n6,Shirt\n7,Sneaker\n8,Bag\n9,Ankle boot\n' \
        > "$OUT.tmp/classes.csv" ;;
esac
rm -rf "$OUT"
mv "$OUT.tmp" "$OUT"
echo "$OUT"

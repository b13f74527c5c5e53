#!/usr/bin/env bash
# fetch-data.sh NAME -- print the folder holding public data set NAME, fetching
# it from its Debian package when ../shared/data does not have it.
#
# The data sets are research-only and are not committed: they are rebuilt here
# the way ../shared/data/fetch.sh does (apt-get download the R package, unpack
# it with dpkg-deb, write CSV with R).  Results are cached in ./data/ (git-ignored).
#   NAME: coil2000-ticdata
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NAME="${1:?usage: fetch-data.sh NAME}"
for d in "${SG_DATA:-}" "$ROOT/../shared/data" "$ROOT/data"; do
    [ -n "$d" ] || continue
    case "$NAME" in
        coil2000-ticdata) f="$d/$NAME/ticdata.csv" ;;
        *) echo "fetch-data.sh: unknown data set '$NAME'" >&2; exit 2 ;;
    esac
    if [ -s "$f" ]; then echo "$d/$NAME"; exit 0; fi
done

OUT="$ROOT/data/$NAME"
echo "fetch-data.sh: $NAME not found under ../shared/data; building it from Debian packages into $OUT" >&2
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
if ! command -v Rscript >/dev/null 2>&1; then
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends r-base-core >/dev/null
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"
case "$NAME" in
coil2000-ticdata)
    (cd "$WORK" && { apt-get download -qq r-cran-kernlab=0.9-32-1 2>/dev/null || \
        { $SUDO apt-get update -qq; apt-get download -qq r-cran-kernlab; }; })
    dpkg-deb -x "$WORK"/r-cran-kernlab_*.deb "$WORK/root"
    mkdir -p "$OUT"
    # Same extraction as ../shared/data/fetch.sh: factors as 0-based codes, NA for
    # missing, the test rows' answers withheld (CARAVAN = NA), id and is_test added.
    LC_ALL=C.UTF-8 Rscript --vanilla - "$WORK/root" "$OUT" <<'REOF'
args <- commandArgs(TRUE); root <- args[1]; out <- args[2]
e <- new.env(); d <- file.path(root, "usr/lib/R/site-library/kernlab/data")
if (file.exists(file.path(d, "Rdata.rdb"))) lazyLoad(file.path(d, "Rdata"), envir = e)
for (r in list.files(d, pattern = "\\.(rda|RData)$", full.names = TRUE)) load(r, envir = e)
tic <- e$ticdata; tic$is_test <- c(rep(0L, 5822), rep(1L, nrow(tic) - 5822))
tic$CARAVAN[tic$is_test == 1L] <- NA
tic <- data.frame(id = seq_len(nrow(tic)), tic, check.names = FALSE)
for (v in names(tic)) if (is.factor(tic[[v]])) tic[[v]] <- as.integer(tic[[v]]) - 1L
write.csv(tic, file.path(out, "ticdata.csv"), row.names = FALSE, na = "NA", fileEncoding = "UTF-8")
REOF
    ;;
esac
echo "$OUT"

#!/usr/bin/env bash
# deps.sh -- install the Debian packages stratagem needs, only those missing.
#
#   scripts/deps.sh          build + test dependencies
#   scripts/deps.sh --bench  also the peers used by bench/ (xgboost, scikit-learn, pandas, torch)
#                            and wrk (the load generator of bench/serve.sh)
#
# Idempotent: when everything is installed it prints nothing and exits 0.
# Needs root (or sudo) only when something is missing.
set -euo pipefail

PKGS=(gcc make pkg-config libc6-dev libopenblas-dev libcmocka-dev libjansson-dev
      libsqlite3-dev sqlite3 libpq-dev libpng-dev zlib1g-dev libmicrohttpd-dev curl
      libopenmpi-dev openmpi-bin
      python3)   # python3: two checks of tests/cli/test_promo.sh read JSON with it (not stratagem)
if [ "${1:-}" = "--bench" ]; then
    PKGS=(python3 python3-numpy python3-pandas python3-sklearn python3-xgboost python3-torch wrk)
fi

missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps.sh: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "deps.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
# A stale package list makes apt-get install fail with 404s: update first, once.
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps.sh: done" >&2

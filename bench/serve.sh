#!/usr/bin/env bash
# serve.sh -- the HTTP service under load: `stratagem serve` (ours) against the
# same job in Python's standard library and scikit-learn (bench/serve_peer.py:
# ThreadingHTTPServer + HistGradientBoostingClassifier), both trained on the
# CoIL 2000 training rows and scoring the same 10 CoIL test customers per
# request (POST, CSV rows, JSON answer).
#
# Load from wrk (Debian package wrk; scripts/deps.sh --bench): one wrk thread,
# CONN connections (default 16), DUR seconds (default 10) per run, keep-alive,
# on the same 2 cores as the server (ours with --threads THREADS, default 2).
# Each side gets a 2 s warm-up, then two measured runs; the server's resident
# memory is read after each (VmRSS, and the peak VmHWM), so that growth between
# the runs would show a leak.  Printed: requests/s, latency percentiles, errors
# (non-2xx answers and socket errors), memory, and ours / peer.
#
# Usage: bench/serve.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CONN="${CONN:-16}"; DUR="${DUR:-10}"; THREADS="${THREADS:-2}"
command -v wrk > /dev/null || { echo "serve.sh: no wrk (scripts/deps.sh --bench)" >&2; exit 1; }
SG=build/stratagem
COIL="$(scripts/fetch-data.sh coil2000-ticdata)/ticdata.csv"
W=bench/out/serve
mkdir -p "$W/models"
# the request: header and 10 test customers, without the CARAVAN and is_test columns
awk -F, 'NR == 1 || ($NF == 1 && ++n <= 10) { NF -= 2; print }' OFS=, "$COIL" > "$W/body.csv"
export SERVE_BODY="$W/body.csv"
if [ ! -f "$W/models/caravan.sgm" ]; then
    awk -F, 'NR == 1 || $NF == 0' "$COIL" > "$W/train.csv"
    "$SG" -q train response --data "$W/train.csv" --target CARAVAN --id id --ignore is_test \
        --out "$W/models/caravan.sgm" > /dev/null
fi

PID=""
trap '[ -n "$PID" ] && kill "$PID" 2> /dev/null; true' EXIT
# start NAME CMD...: run the server in the background; PORT from its first line
start() {
    local name="$1"; shift
    : > "$W/$name.out"
    "$@" > "$W/$name.out" 2> "$W/$name.log" &
    PID=$!
    PORT=""
    for _ in $(seq 1 600); do
        PORT=$(sed -n 's/^listening on \(http:\/\/127\.0\.0\.1:\)\{0,1\}\([0-9]*\).*/\2/p' "$W/$name.out")
        [ -n "$PORT" ] && return 0
        kill -0 "$PID" 2> /dev/null || break
        sleep 0.1
    done
    echo "serve.sh: $name did not start: $(tail -3 "$W/$name.log")" >&2
    exit 1
}
mem() { awk '/^VmRSS|^VmHWM/ { printf "%s %.0f ", $1, $2 / 1024 }' "/proc/$PID/status"; }
# load NAME URL: warm-up, two measured runs; one line per run
load() {
    local name="$1" url="$2"
    curl -sf --max-time 30 -H 'Content-Type: text/csv' --data-binary @"$SERVE_BODY" "$url" \
        | grep -q '"predictions":\[{"id":"[0-9]*","score":' || { echo "serve.sh: $name: bad answer" >&2; exit 1; }
    wrk -t1 -c"$CONN" -d2s -s bench/serve_post.lua "$url" > /dev/null
    for run in 1 2; do
        wrk -t1 -c"$CONN" -d"${DUR}s" --latency -s bench/serve_post.lua "$url" > "$W/$name.wrk$run"
        echo "$name $run $(mem) $(awk '
            function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
                             if (v ~ /s$/) return v * 1000; return v }
            / 50%/ { p50 = ms($2) } / 99%/ { p99 = ms($2) }
            /requests in/ { n = $1 } /Requests\/sec/ { rps = $2 }
            /Non-2xx/ { bad += $NF } /Socket errors/ { gsub(/,/, ""); bad += $4 + $6 + $8 + $10 }
            END { printf "n %d rps %.1f p50 %.2f p99 %.2f errors %d", n, rps, p50, p99, bad }' "$W/$name.wrk$run")"
    done
}

start ours "$SG" serve --models "$W/models" --port 0 --threads "$THREADS"
load ours "http://127.0.0.1:$PORT/models/caravan/predict" > "$W/ours.txt"
kill "$PID"; wait "$PID" || true; PID=""
start peer /usr/bin/python3 bench/serve_peer.py "$COIL"
load peer "http://127.0.0.1:$PORT/predict" > "$W/peer.txt"
kill "$PID"; wait "$PID" 2> /dev/null || true; PID=""

echo "POST 10 CoIL customers, $CONN connections, ${DUR} s per run (wrk, one thread), 2 cores"
printf '%-6s %4s %10s %10s %9s %9s %7s %8s %8s\n' who run requests req_per_s p50_ms p99_ms errors rss_MiB peak_MiB
cat "$W/ours.txt" "$W/peer.txt" | awk '
    { printf "%-6s %4s %10d %10.1f %9.2f %9.2f %7d %8d %8d\n", $1, $2, $8, $10, $12, $14, $16, $6, $4
      rps[$1] += $10; p99[$1] += $14 }
    END { printf "requests/s ours / peer: %.1f   p99 latency peer / ours: %.1f\n",
                 rps["ours"] / rps["peer"], p99["peer"] / p99["ours"] }'

#!/usr/bin/env bash
# test_serve.sh BUILD_DIR -- 'stratagem serve' as a process: usage errors, a
# models directory served on a free port of 127.0.0.1, answers that match
# 'stratagem predict' and 'stratagem recommend', the token, and a clean stop on
# SIGTERM and SIGINT, also when signals come while a reload runs.  (The routes,
# limits and hostile clients are tested in depth by tests/test_server.c.)
# Prints one line per case and closes with "N passed, N failed".
set -u
BUILD="${1:-build}"
SG="$BUILD/stratagem"
T="$(mktemp -d)"
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$T"' EXIT
PREFIX=serve
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# every request has a deadline: a server that stops answering fails a case, not the run
curl() { command curl --max-time 30 "$@"; }

awk 'BEGIN { srand(5); print "id,x,seg,y";
  for (i = 1; i <= 300; i++) { x = rand(); s = (rand() < 0.5) ? "a" : "b";
    printf "%d,%.4f,%s,%d\n", i, x, s, (rand() < 0.2 + 0.5 * x) } }' > "$T/resp.csv"
awk 'BEGIN { srand(3); print "user,item";
  for (u = 1; u <= 200; u++) { g = u % 2;
    for (i = 1; i <= 20; i++) if (rand() < ((i % 2 == g) ? 0.6 : 0.05)) printf "u%d,%d\n", u, i } }' \
    > "$T/ia.csv"
mkdir -p "$T/models" "$T/empty"
"$SG" -q train response --data "$T/resp.csv" --target y --id id --out "$T/models/resp.sgm" >/dev/null 2>&1
"$SG" -q train recommend --data "$T/ia.csv" --user user --item item --model ease \
    --out "$T/models/shop.sgm" >/dev/null 2>&1

# 1. usage and start-up errors
expect 1.1 0 "Usage: stratagem serve" -- "$SG" serve --help
expect 1.2 0 "POST /models/NAME/predict" -- "$SG" help serve
expect 1.3 2 "missing --models" -- "$SG" serve
expect 1.4 2 "port must be in 0..65535" -- "$SG" serve --models "$T/models" --port 70000
expect 1.5 2 "SG_TEST_NO_SUCH_VAR: the variable is unset" -- "$SG" serve --models "$T/models" \
    --token-env SG_TEST_NO_SUCH_VAR
expect 1.6 1 "cannot open the models directory" -- "$SG" serve --models "$T/nonexistent" --port 0
expect 1.7 3 "no model file" -- "$SG" serve --models "$T/empty" --port 0
expect 1.8 3 "not an IPv4 address" -- "$SG" serve --models "$T/models" --bind example.org --port 0
mkdir -p "$T/fifo" && mkfifo "$T/fifo/m.sgm"
expect 1.9 1 "fifo/m.sgm: cannot read model: not a regular file" -- timeout 20 "$SG" serve --models "$T/fifo" --port 0

# start in the background on a free port; PORT from the "listening on" line
start() {
    # empty the output first: the background job's own '>' may come after the
    # first look below, which would then read the previous server's port (and
    # a signal sent before the server has set its handlers is lost: a script's
    # background jobs start with SIGINT ignored)
    : > "$T/out.txt"
    "$SG" serve --models "$T/models" --port 0 "$@" > "$T/out.txt" 2> "$T/err.txt" &
    PID=$!
    PORT=""
    for _ in $(seq 1 100); do
        PORT=$(sed -n 's/^listening on http:\/\/127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$T/out.txt")
        [ -n "$PORT" ] && return 0
        sleep 0.1
    done
    return 1
}
# stop SIGNAL CASE: the server exits 0 within 60 s and says so; one that does not
# is shown (its threads' kernel wait channels) and killed
stop() {
    kill -"$1" "$PID"
    local _
    for _ in $(seq 1 600); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$PID" 2>/dev/null; then
        bad "$2" "still running 60 s after SIG$1; threads waiting in: $(for w in /proc/"$PID"/task/*/wchan; do printf '%s ' "$(cat "$w" 2>/dev/null)"; done)"
        kill -9 "$PID"
        wait "$PID" 2>/dev/null
        PID=""
        return
    fi
    wait "$PID"; local rc=$?
    PID=""
    if [ "$rc" -eq 0 ] && grep -q "$1, stopping" "$T/err.txt"; then ok "$2"; else bad "$2" "exit $rc"; fi
}

# 2. serving
if start; then ok 2.1; else bad 2.1 "no 'listening on' line: $(head -3 "$T/err.txt")"; fi
B="http://127.0.0.1:$PORT"
expect 2.2 0 '"models":2' -- curl -sf "$B/health"
expect 2.3 0 '"name":"resp","task":"response"' -- curl -sf "$B/models"
# scores equal 'stratagem predict' on the same rows
head -4 "$T/resp.csv" | cut -d, -f1-3 > "$T/q.csv"
"$SG" -q predict --model "$T/models/resp.sgm" --data "$T/q.csv" --out "$T/pred.csv"
curl -sf -H 'Content-Type: text/csv' --data-binary @"$T/q.csv" "$B/models/resp/predict" > "$T/pred.json"
want=$(sed -n 2p "$T/pred.csv" | cut -d, -f2)
got=$(sed -n 's/^{"model":"resp","target":"y","predictions":\[{"id":"1","score":\([^}]*\)}.*/\1/p' "$T/pred.json")
if [ -n "$got" ] && awk -v a="$got" -v b="$want" 'BEGIN { exit !(a - b < 1e-5 && b - a < 1e-5) }'; then
    ok 2.4
else
    bad 2.4 "server $got, predict $want: $(head -c 200 "$T/pred.json")"
fi
# the first recommendation equals 'stratagem recommend' for the same new customer
first=$("$SG" -q recommend --model "$T/models/shop.sgm" --items 2,4 --k 1 | sed -n 2p | cut -d, -f3)
expect 2.5 0 "\"items\":\[{\"item\":\"$first\"," -- curl -sf -d '{"items": [2, 4], "k": 1}' "$B/models/shop/recommend"
expect 2.6 0 '"error":"body:1:' -- curl -s -d '{"rows": [' "$B/models/resp/predict"
expect 2.7 0 "^404$" -- curl -s -o /dev/null -w '%{http_code}' "$B/models/nope"
if grep -q "POST /models/resp/predict 200" "$T/err.txt"; then ok 2.8; else bad 2.8 "no access log line"; fi
# SIGHUP loads the directory again: a model added since start is served
cp "$T/models/resp.sgm" "$T/models/resp2.sgm"
kill -HUP "$PID"
for _ in $(seq 1 50); do grep -q "SIGHUP: reloaded 3 models" "$T/err.txt" && break; sleep 0.1; done
expect 2.10 0 '"name":"resp2"' -- curl -sf "$B/models/resp2"
echo "not a model" > "$T/models/zz.sgm"
kill -HUP "$PID"
for _ in $(seq 1 50); do grep -q "reload failed" "$T/err.txt" && break; sleep 0.1; done
if grep -q "reload failed, the old models stay served: .*zz.sgm" "$T/err.txt"; then ok 2.11; else bad 2.11 "$(tail -2 "$T/err.txt")"; fi
expect 2.12 0 '"models":3' -- curl -sf "$B/health"
rm -f "$T/models/zz.sgm" "$T/models/resp2.sgm"
# signals while a reload runs (threads that libraries start before main do not
# block them) still reload, and leave the server up; 200 more models make the
# reload long enough for the signals to land during it
for k in $(seq 100 299); do cp "$T/models/resp.sgm" "$T/models/r$k.sgm"; done
for _ in $(seq 1 40); do kill -HUP "$PID"; done
for _ in $(seq 1 100); do grep -q "SIGHUP: reloaded 202 models" "$T/err.txt" && break; sleep 0.1; done
sleep 0.5
if kill -0 "$PID" 2>/dev/null; then ok 2.13; else bad 2.13 "a SIGHUP during a reload stopped the server"; fi
expect 2.14 0 '"models":202' -- curl -sf "$B/health"
stop TERM 2.9

# 3. the token, read from the environment; SIGINT stops as cleanly
export SG_TEST_TOKEN=t0ken-$$
start --token-env SG_TEST_TOKEN || bad 3.0 "did not start"
B="http://127.0.0.1:$PORT"
expect 3.1 0 "^401$" -- curl -s -o /dev/null -w '%{http_code}' "$B/models"
expect 3.2 0 "^200$" -- curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $SG_TEST_TOKEN" "$B/models"
expect 3.3 0 "^200$" -- curl -s -o /dev/null -w '%{http_code}' "$B/health"
if grep -q "token required" "$T/out.txt"; then ok 3.4; else bad 3.4 "$(cat "$T/out.txt")"; fi
stop INT 3.5
finish

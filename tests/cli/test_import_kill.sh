#!/usr/bin/env bash
# test_import_kill.sh [BUILD_DIR] [ROWS] -- an import killed with SIGKILL halfway, and one
# that runs out of disk, leave the workspace whole and holding all of the import or none.
#
# 1. init a SQLite workspace and import a small campaign log (the "before" state);
# 2. generate a large CSV (ROWS rows, default 1,000,000, about 55 MB) and start
#    importing it; once the workspace's write-ahead log has grown past 8 MiB (the
#    validation pass is over and rows are being written), kill -9 the import;
# 3. the workspace must pass PRAGMA integrity_check, open with 'stratagem status',
#    and hold exactly the "before" rows and imports, or all of them plus the new
#    file (never part of it);
# 4. the same import then runs to the end and holds every row; a third run is
#    skipped by checksum;
# 5. an import under 'ulimit -f' (the file may not grow: a full disk) fails and
#    leaves the workspace as it was.
# Prints one line per case and closes with "N passed, N failed".
set -u
BUILD="${1:-build}"
ROWS="${2:-1000000}"
SG="$BUILD/stratagem"
T="$(mktemp -d /tmp/sg-kill.XXXXXX)"
trap 'rm -rf "$T"' EXIT
PREFIX=kill
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
q() { sqlite3 "$T/ws.db" "$1"; }

[ -x "$SG" ] || { echo "FAIL kill-0: no $SG (build it first)"; echo "0 passed, 1 failed"; exit 1; }
command -v sqlite3 >/dev/null || { echo "FAIL kill-0: the sqlite3 shell is missing"; echo "0 passed, 1 failed"; exit 1; }

awk 'BEGIN { print "customer_id,x1,seg,treatment,propensity,margin";
  for (i = 0; i < 500; i++) printf "S%d,%.3f,%s,%s,0.5,%.2f\n", i, i / 500, i % 2 ? "a" : "b",
    i % 2 ? "email" : "control", i % 7 }' > "$T/small.csv"
awk -v n="$ROWS" 'BEGIN { srand(11); print "customer_id,x1,x2,x3,seg,channel,treatment,propensity,margin";
  for (i = 0; i < n; i++) printf "K%d,%.4f,%.4f,%.4f,%s,%s,%s,0.5,%.3f\n", i, rand(), rand() * 10,
    rand() - 0.5, i % 3 ? "a" : "b", i % 7 ? "web" : "store", rand() < 0.5 ? "email" : "control",
    rand() * 20 }' > "$T/big.csv"

# 1. the state before
"$SG" -q init "$T/ws.db" >/dev/null
"$SG" -q import "$T/ws.db" "$T/small.csv" --as campaigns --id customer_id --treatment treatment \
    --propensity propensity --outcome margin >/dev/null
before_rows=$(q "SELECT count(*) FROM campaigns")
before_imports=$(q "SELECT count(*) FROM imports")
[ "$before_rows" = 500 ] && ok 1.1 || bad 1.1 "expected 500 rows, got $before_rows"

# 2. kill -9 halfway through writing
"$SG" -q import "$T/ws.db" "$T/big.csv" --as campaigns >/dev/null 2>&1 &
pid=$!
killed=0
for _ in $(seq 1 6000); do
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    wal=$(stat -c %s "$T/ws.db-wal" 2>/dev/null || echo 0)
    if [ "$wal" -gt $((8 << 20)) ]; then
        kill -9 "$pid" && killed=1
        break
    fi
    sleep 0.02
done
wait "$pid" 2>/dev/null
[ "$killed" = 1 ] && ok 2.1 || bad 2.1 "the import ended before it could be killed (use more rows)"

# 3. whole, and all or nothing
ic=$(q "PRAGMA integrity_check")
[ "$ic" = ok ] && ok 3.1 || bad 3.1 "integrity_check: $ic"
if "$SG" status "$T/ws.db" >"$T/status.txt" 2>&1; then ok 3.2; else bad 3.2 "status failed: $(head -3 "$T/status.txt")"; fi
rows=$(q "SELECT count(*) FROM campaigns")
imports=$(q "SELECT count(*) FROM imports")
if [ "$rows" = "$before_rows" ] && [ "$imports" = "$before_imports" ]; then
    ok "3.3 (none of the import)"
elif [ "$rows" = $((before_rows + ROWS)) ] && [ "$imports" = $((before_imports + 1)) ]; then
    ok "3.3 (all of the import)"
else
    bad 3.3 "partial import: $rows rows, $imports imports (before: $before_rows, $before_imports)"
fi
cols=$(q "SELECT count(*) FROM table_columns WHERE kind = 'campaigns'")
[ "$cols" = 6 ] || [ "$cols" = 9 ] && ok 3.4 || bad 3.4 "column registry has $cols columns"

# 4. the import again, to the end; then once more: skipped
if "$SG" -q import "$T/ws.db" "$T/big.csv" --as campaigns >"$T/out.txt" 2>&1 ||
   grep -q "already imported" "$T/out.txt"; then
    rows=$(q "SELECT count(*) FROM campaigns")
    [ "$rows" = $((before_rows + ROWS)) ] && ok 4.1 || bad 4.1 "expected $((before_rows + ROWS)) rows, got $rows"
else
    bad 4.1 "the second import failed: $(head -3 "$T/out.txt")"
fi
"$SG" -q import "$T/ws.db" "$T/big.csv" --as campaigns >"$T/out.txt" 2>&1
grep -q "already imported" "$T/out.txt" && ok 4.2 || bad 4.2 "not skipped: $(head -2 "$T/out.txt")"

# 5. a full disk: the database files may not grow past their size now
"$SG" -q init "$T/full.db" >/dev/null
"$SG" -q import "$T/full.db" "$T/small.csv" --as campaigns --id customer_id >/dev/null
sqlite3 "$T/full.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
size_kb=$(( ($(stat -c %s "$T/full.db") + 1023) / 1024 ))
( trap '' XFSZ; ulimit -f $((size_kb + 64)); "$SG" -q import "$T/full.db" "$T/big.csv" --as campaigns ) >"$T/out.txt" 2>&1
rc=$?
[ "$rc" -ne 0 ] && ok 5.1 || bad 5.1 "the import succeeded under ulimit -f"
grep -q "nothing was imported" "$T/out.txt" && ok 5.2 || bad 5.2 "message: $(head -2 "$T/out.txt")"
ic=$(sqlite3 "$T/full.db" "PRAGMA integrity_check")
rows=$(sqlite3 "$T/full.db" "SELECT count(*) FROM campaigns")
[ "$ic" = ok ] && [ "$rows" = 500 ] && ok 5.3 || bad 5.3 "integrity '$ic', $rows rows (want ok, 500)"

finish

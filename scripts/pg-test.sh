#!/usr/bin/env bash
# pg-test.sh [BUILD_DIR] [-- COMMAND...] -- run the workspace tests against a private
# PostgreSQL server (or, after '--', any command with SG_TEST_PG set).
#
# Starts a throw-away server (initdb in a fresh /tmp/sg-pg.XXXXXX, a private
# port, a socket directory in that folder, no TCP, trust auth, fsync off) as a
# non-root user ('postgres' when run as root, else the caller), points
# SG_TEST_PG at it, runs BUILD_DIR/tests/test_store (and the sanitizer build
# and the CLI workspace test when they exist), then stops the server and
# removes the folder, whatever happened.  Installs the 'postgresql' package
# when the server binaries are missing (needs root or sudo).  Idempotent: each
# run uses its own folder and port.  Exit status: that of the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build}"
shift || true
RUN=()
if [ "${1:-}" = "--" ]; then shift; RUN=("$@"); fi

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
PGBIN="$(pg_bin)"
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
    echo "pg-test.sh: installing postgresql" >&2
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || { echo "pg-test.sh: need root or sudo to install postgresql" >&2; exit 1; }
        SUDO=sudo
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    PGBIN="$(pg_bin)"
fi

# PostgreSQL refuses to run as root: use the 'postgres' account the package creates.
AS=()
OWNER="$(id -un)"
if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home /var/lib/postgresql postgres
    OWNER=postgres
    AS=(runuser -u postgres --)
fi

DIR="$(mktemp -d /tmp/sg-pg.XXXXXX)"
chmod 755 "$DIR"
mkdir -p "$DIR/sock"
chown -R "$OWNER" "$DIR"
LOG="$DIR/server.log"
started=0
cleanup() {
    if [ "$started" = 1 ]; then
        "${AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

"${AS[@]}" "$PGBIN/initdb" -D "$DIR/data" -U sg -A trust -E UTF8 --locale=C -N >/dev/null
# a private port: try a few from a per-process start
for try in 0 1 2 3 4 5 6 7; do
    PORT=$(( 40000 + ($$ * 7 + try * 131) % 20000 ))
    if "${AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -l "$LOG" -w -t 30 \
        -o "-p $PORT -k $DIR/sock -c listen_addresses= -c fsync=off -c full_page_writes=off" \
        start >/dev/null 2>&1; then
        started=1
        break
    fi
done
if [ "$started" != 1 ]; then
    echo "pg-test.sh: the server did not start; its log:" >&2
    cat "$LOG" >&2 || true
    exit 1
fi
"$PGBIN/createdb" -h "$DIR/sock" -p "$PORT" -U sg sgtest
export SG_TEST_PG="postgresql:///sgtest?host=$DIR/sock&port=$PORT&user=sg"
echo "pg-test.sh: PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on $DIR/sock port $PORT"

if [ ${#RUN[@]} -gt 0 ]; then
    rc=0
    "${RUN[@]}" || rc=$?
    exit "$rc"
fi
rc=0
ran=0
for t in "$BUILD/tests/test_store" "$BUILD/asan/tests/test_store"; do
    [ -x "$t" ] || continue
    ran=1
    echo "pg-test.sh: $t"
    "$t" || rc=1
done
if [ -x "$BUILD/stratagem" ] && [ -x tests/cli/test_workspace.sh ]; then
    ran=1
    echo "pg-test.sh: tests/cli/test_workspace.sh (postgresql)"
    tests/cli/test_workspace.sh "$BUILD" || rc=1
fi
if [ "$ran" = 0 ]; then
    echo "pg-test.sh: nothing to run: build $BUILD/tests/test_store first (make tests)" >&2
    exit 1
fi
exit "$rc"

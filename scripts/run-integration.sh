#!/usr/bin/env bash
# run-integration.sh -- 'make test-slow': the slower end-to-end checks in
# tests/integration/*.sh (each gets the build folder and closes with
# "N passed, N failed"), totalled into one closing line.
set -u
cd "$(dirname "$0")/.."
BUILD="${BUILD:-build}"
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX
fi
passed=0; failed=0
for t in tests/integration/*.sh; do
    [ -x "$t" ] || continue
    out=$("$t" "$BUILD" 2>&1); rc=$?
    printf '%s\n' "$out" | grep -v "^ok " | tail -30
    last=$(printf '%s\n' "$out" | tail -1)
    p=$(printf '%s' "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p')
    f=$(printf '%s' "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p')
    p=${p:-0}; f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + p)); failed=$((failed + f))
    echo "$( [ "$f" -eq 0 ] && echo ok || echo FAIL )   $t ($p passed, $f failed)"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# run-tests.sh DIR... -- run every test program in the given folders and total
# the cmocka results into one closing line "N passed, N failed".
#
# A program that crashes or exits non-zero without cmocka counting a failure
# (a sanitizer report, say) counts as one failure.  Tests run from the
# repository root so fixtures are found as tests/data/...
#
# Each program runs under a time limit (SG_TEST_TIMEOUT seconds, 900 unless
# set; the slowest takes under two minutes): a test that hangs is killed with its
# process group and counted as a failure, instead of stalling the whole run.
# Each line gives the program's cases and its seconds.
set -u
limit="${SG_TEST_TIMEOUT:-900}"
# run CMD...: sets out (its output, plus a TIMEOUT line if it ran past the
# limit), rc and secs
run() {
    local t0=$SECONDS
    out=$(timeout -k 10 "$limit" "$@" 2>&1); rc=$?
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then out="$out
TIMEOUT: $1 ran past $limit s and was killed"; fi
    secs=$((SECONDS - t0))
}
export CMOCKA_MESSAGE_OUTPUT=stdout
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
# OpenBLAS 0.3.21 does not recognise some AVX-512 CPUs; pick its SkylakeX kernels there.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX
fi
passed=0; failed=0
for dir in "$@"; do
    for t in "$dir"/test_*; do
        [ -x "$t" ] || continue
        case "$t" in *.d|*.o) continue;; esac
        run "$t"
        p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
        f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
        passed=$((passed + p)); failed=$((failed + f))
        if [ "$f" -ne 0 ]; then
            printf '%s\n' "$out" | tail -60
            echo "FAIL $t (exit $rc, $secs s)"
        else
            echo "ok   $t ($p, $secs s)"
        fi
    done
done
# shell tests of the program: tests/cli/test_*.sh BUILD_DIR, closing with "N passed, N failed"
for dir in "$@"; do
    [ -x "$dir/../stratagem" ] || continue
    for t in tests/cli/test_*.sh; do
        [ -x "$t" ] || continue
        run "$t" "$dir/.."
        last=$(printf '%s\n' "$out" | tail -1)
        p=$(printf '%s' "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p')
        f=$(printf '%s' "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p')
        p=${p:-0}; f=${f:-0}
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
        passed=$((passed + p)); failed=$((failed + f))
        if [ "$f" -ne 0 ]; then
            printf '%s\n' "$out" | grep -v "^ok " | tail -40
            echo "FAIL $t $dir/.. (exit $rc, $secs s)"
        else
            echo "ok   $t $dir/.. ($p, $secs s)"
        fi
    done
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]

# lib.sh -- what every tests/cli/test_*.sh shares (sourced, not run):
# counters, ok/bad/expect, and the closing "N passed, N failed" line.
# Set PREFIX before sourcing: cases print as "ok   PREFIX-CASE".
pass=0; fail=0
ok()  { pass=$((pass + 1)); echo "ok   $PREFIX-$1"; }
bad() { fail=$((fail + 1)); echo "FAIL $PREFIX-$1: $2"; }
# expect CASE CODE PATTERN -- CMD...: exit code CODE and stderr+stdout matching PATTERN
expect() {
    local name="$1" code="$2" pat="$3"; shift 4
    local out rc
    out="$("$@" 2>&1)"; rc=$?
    if [ "$rc" -ne "$code" ]; then bad "$name" "exit $rc, wanted $code: $(printf '%s' "$out" | head -3)"; return; fi
    if [ -n "$pat" ] && ! printf '%s' "$out" | grep -q -- "$pat"; then
        bad "$name" "output lacks '$pat': $(printf '%s' "$out" | head -3)"; return
    fi
    ok "$name"
}
# finish: the closing line; the exit status says whether every case passed
finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}

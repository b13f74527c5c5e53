#!/usr/bin/env bash
# csv2jsonl.sh IN.csv > OUT.jsonl -- a CSV file as JSON lines, one object per row:
# the shape a shop's order system or analytics export gives (the demo and the
# CLI tests use it to show that stratagem reads JSON as it reads CSV).
# Numbers become JSON numbers, empty cells null, other cells strings.  For
# CSV without quoted fields (what stratagem's own commands write).
set -euo pipefail
awk -F, '
    function jstr(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return "\"" s "\"" }
    { sub(/\r$/, "") }
    NR == 1 { for (j = 1; j <= NF; j++) name[j] = jstr($j); n = NF; next }
    {
        line = "{"
        for (j = 1; j <= n; j++) {
            v = $j
            if (v == "") v = "null"
            else if (v !~ /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/) v = jstr(v)
            line = line (j > 1 ? ", " : "") name[j] ": " v
        }
        print line "}"
    }' "$1"

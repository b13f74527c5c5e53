#!/usr/bin/env bash
# test_mpi.sh BUILD_DIR -- several processes training one recommender (dist.h):
# `mpirun -np 2 stratagem train recommend` against one process on the same data.
# A network trained without randomness after its initialisation (Mult-DAE, no
# input dropout) must come out the same from two processes as from one (each
# process takes half of every batch; the gradients are summed), so the two give
# the same recommendations; the VAE trains and writes its model once; a budgeted
# plan scored by two processes is the plan of one; other commands are refused.  Open MPI leaks at exit by design, so the
# sanitizer build runs here without leak detection (memory errors still count).
# Prints one line per case and closes with "N passed, N failed".
set -u
BUILD="${1:-build}"
SG="$(cd "$BUILD" && pwd)/stratagem"   # absolute: the plans run in their own folders
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
PREFIX=mpi
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
MPI=(mpirun --allow-run-as-root --oversubscribe -np 2)

expect 0.1 0 "mpi: yes" -- "$SG" --version
command -v mpirun > /dev/null && ok 0.2 || bad 0.2 "no mpirun (openmpi-bin)"

# 400 users over 60 items in three taste groups (deterministic: awk's srand)
awk 'BEGIN { srand(9); print "user,item"
  for (u = 0; u < 400; u++) for (i = 0; i < 60; i++)
    if (rand() < (i % 3 == u % 3 ? 0.35 : 0.04)) printf "u%d,i%d\n", u, i }' > "$T/ia.csv"
awk -F, 'NR == 1 || $1 ~ /^u(1|2|3)[0-9]$/' "$T/ia.csv" > "$T/some.csv"
DAE=(--data "$T/ia.csv" --user user --item item --model dae --dropout 0 --epochs 8 --batch 50
     --hidden 32 --latent 8 --val-users 0)

# 1. the same network from one and from two processes
expect 1.1 0 "" -- "$SG" -q train recommend "${DAE[@]}" --out "$T/one.sgm"
expect 1.2 0 "2 processes share every batch" -- "${MPI[@]}" "$SG" train recommend "${DAE[@]}" \
    --out "$T/two.sgm"
"$SG" -q recommend --model "$T/one.sgm" --data "$T/some.csv" --k 10 --out "$T/r1.csv"
"$SG" -q recommend --model "$T/two.sgm" --data "$T/some.csv" --k 10 --out "$T/r2.csv"
paste -d, "$T/r1.csv" "$T/r2.csv" | awk -F, 'NR > 1 { n++; if ($3 != $7) diff++
    d = $4 - $8; if (d < 0) d = -d; if (d > mx) mx = d }
    END { printf "%d rows, %d items differ, max score difference %g\n", n, diff, mx
          exit !(n >= 100 && diff == 0 && mx < 1e-3) }' > "$T/cmp.txt" && ok 1.3 ||
    bad 1.3 "one and two processes differ: $(cat "$T/cmp.txt")"
[ -n "${SG_TEST_VERBOSE:-}" ] && cat "$T/cmp.txt"
# a batch that does not split evenly (50 users x 8 steps, then 400 = 7 x 53 + 29) is fine too
expect 1.4 0 "" -- "${MPI[@]}" "$SG" -q train recommend "${DAE[@]}" --batch 53 --out "$T/odd.sgm"

# 2. the VAE (dropout and sampling: each process draws for its own users)
expect 2.1 0 "rank 0 writes the model" -- "${MPI[@]}" "$SG" train recommend --data "$T/ia.csv" \
    --user user --item item --epochs 10 --batch 50 --hidden 32 --latent 8 --ensemble 2 \
    --out "$T/vae.sgm"
ls "$T"/vae.sgm.tmp.* > /dev/null 2>&1 && bad 2.2 "a temporary model file was left" || ok 2.2
expect 2.3 0 "" -- "$SG" -q recommend --model "$T/vae.sgm" --data "$T/some.csv" --k 5 \
    --out "$T/rv.csv"

# 3. other commands run without mpirun
expect 3.1 2 "only 'train recommend' and 'plan' (uplift models) share" -- "${MPI[@]}" "$SG" \
    predict --model "$T/one.sgm" --data "$T/some.csv" --out "$T/p.csv"

# 4. a budgeted plan: the processes score a share of the customers each, rank 0 plans;
# the plan, its summary and its report on stdout are those of one process
awk 'BEGIN { srand(5); print "customer_id,x1,x2,seg,treatment,propensity,margin";
  for (i = 0; i < 3000; i++) { x1 = rand() * 4 - 2; x2 = rand() * 2; t = rand() < 0.5;
    e = (x1 > 0 ? 2 * x1 : 0) - 0.5; y = 5 + x2 + (t ? e : 0) + (rand() - 0.5);
    printf "L%d,%.4f,%.4f,%s,%s,0.5,%.4f\n", i, x1, x2, i % 3 ? "a" : "b", t ? "email" : "control", y } }' > "$T/log.csv"
awk 'BEGIN { srand(6); print "customer_id,x1,x2,seg";
  for (i = 0; i < 2001; i++) printf "C%d,%.4f,%.4f,%s\n", i, rand() * 4 - 2, rand() * 2, i % 3 ? "a" : "b" }' > "$T/cust.csv"
expect 4.1 0 "" -- "$SG" -q train uplift --data "$T/log.csv" --treatment treatment --control control \
    --outcome margin --propensity propensity --id customer_id --cv 3 --repeats 1 --trees 50 \
    --out "$T/up.sgm"
mkdir -p "$T/p1" "$T/p2"
PLAN=(plan --model "$T/up.sgm" --data "$T/cust.csv" --budget 50 --cost email=0.1 --boot 200
      --out plan.csv --summary plan.json)
(cd "$T/p1" && "$SG" -q "${PLAN[@]}" > out.txt) && ok 4.2 || bad 4.2 "plan failed"
(cd "$T/p2" && "${MPI[@]}" "$SG" -q "${PLAN[@]}" > out.txt) && ok 4.3 || bad 4.3 "plan under mpirun failed"
cmp -s "$T/p1/plan.csv" "$T/p2/plan.csv" && cmp -s "$T/p1/plan.json" "$T/p2/plan.json" &&
    cmp -s "$T/p1/out.txt" "$T/p2/out.txt" && ok 4.4 || bad 4.4 "one and two processes planned differently"
expect 4.5 2 "only 'plan' on an uplift model" -- "${MPI[@]}" "$SG" plan --model "$T/one.sgm" \
    --data "$T/some.csv" --top 5 --out "$T/x.csv"

finish

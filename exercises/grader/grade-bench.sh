#!/usr/bin/env bash
# grade-bench.sh - what `make grade-bench` runs: time grading COPIES copies
# (default 30) of one submission with two at a time, as `make grade-all -j2`
# does. A benchmark, not a test: it prints the time and fails only if
# grading did.
#
#   grade-bench.sh [EXERCISE] [SUBMISSION] [COPIES]
#
# Default: exercise 04's solution (servers, many connections: the heaviest
# kind of test).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$here" || exit 2
# shellcheck source=exercises/grader/common.sh
. exercises/grader/common.sh

exercise=${1:-4}
dir=$(resolve_exercise "$exercise") || exit 2
submission=${2:-$dir/solution}
copies=${3:-30}
[[ $copies =~ ^[1-9][0-9]*$ ]] || die "COPIES must be a positive number"
[ -d "$submission" ] || die "no submission '$submission'"

bench=$BUILD/grade-bench
rm -rf "$bench" && mkdir -p "$bench/submissions"
for i in $(seq -w 1 "$copies"); do
    mkdir -p "$bench/submissions/student-$i"
    cp "$submission"/* "$bench/submissions/student-$i/"
done
echo "grade-bench: $copies copies of $submission, exercise $(basename "$dir"), 2 at a time"
start=$(date +%s.%N)
JOBS=2 exercises/grader/grade-all.sh "$dir" "$bench/submissions" "$bench/grades" > "$bench/grade-all.log" 2>&1
status=$?
end=$(date +%s.%N)
seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
tail -n 2 "$bench/grade-all.log"
printf 'grade-bench: %d submissions in %.1f s with 2 jobs on %d cores\n' "$copies" "$seconds" "$(nproc)"
[ $status -eq 0 ] && [ "$(cat "$bench"/grades/*/status | grep -c '^graded$')" -eq "$copies" ]

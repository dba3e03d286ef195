#!/usr/bin/env bash
# grade-bench.sh - what `make grade-bench` runs: time grading COPIES copies
# (default 30) of one submission with two at a time, as `make grade-all -j2`
# does. A benchmark, not a test: it prints the time and fails only if
# grading did.
#
#   grade-bench.sh [EXERCISE] [SUBMISSION] [COPIES]
#
# Default: exercise 04's solution (servers, many connections: the heaviest
# kind of test); a release has no solutions, so there SUBMISSION is needed.
# It prints the load average before the run: the time means little on a
# busy machine.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$here" || exit 2
# shellcheck source=exercises/grader/common.sh
. exercises/grader/common.sh

usage="make grade-bench [EXERCISE=N] [SUBMISSION=DIR] [COPIES=N]"
example="make grade-bench EXERCISE=3 SUBMISSION=submissions-03/alice"
exercise=${1:-4}
dir=$(resolve_exercise "$exercise" "$usage" "$example") || exit 2
submission=${2:-}
if [ -z "$submission" ]; then
    [ -d "$dir/solution" ] ||
        usage_error "$dir has no solution to time here (a release has none): give SUBMISSION" "$usage" "$example"
    submission=$dir/solution
fi
copies=${3:-30}
[[ $copies =~ ^[1-9][0-9]*$ ]] || die "COPIES must be a positive number, not '$copies'"
[ -d "$submission" ] || die "the submission directory '$submission' does not exist"

bench=$BUILD/grade-bench
rm -rf "$bench" && mkdir -p "$bench/submissions"
for i in $(seq -w 1 "$copies"); do
    mkdir -p "$bench/submissions/student-$i"
    cp "$submission"/* "$bench/submissions/student-$i/"
done
echo "grade-bench: exercise $(basename "$dir"), 2 at a time, $copies copies of"
echo "  $(show_path "$(cd "$submission" && pwd)")"
echo "  load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
start=$(date +%s.%N)
JOBS=2 exercises/grader/grade-all.sh "$dir" "$bench/submissions" "$bench/grades" > "$bench/grade-all.log" 2>&1
status=$?
end=$(date +%s.%N)
seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
graded=$(cat "$bench"/grades/*/status 2>/dev/null | grep -c '^graded$')
printf 'grade-bench: %d submissions in %.1f s, 2 at a time on %d cores; %d graded\n' \
    "$copies" "$seconds" "$(nproc)" "$graded"
if [ $status -ne 0 ] || [ "$graded" -ne "$copies" ]; then
    echo "error: grading did not go through: see $(show_path "$bench/grade-all.log")" >&2
    exit 1
fi

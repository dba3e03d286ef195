#!/usr/bin/env bash
# grade-all.sh - grade every submission of one exercise: what `make
# grade-all` runs.
#
#   grade-all.sh EXERCISE SUBMISSIONS [OUT]
#
# SUBMISSIONS holds one directory per student (its name is the student's).
# Each is graded by grade.sh into OUT/STUDENT/ (results.json, the Check
# logs, build.log, grade.log); OUT defaults to $BUILD/grades/NN-slug.
# A submission that cannot be graded (a file missing, ...) gets a
# results.json with score 0 saying why, and grading goes on.
# OUT/gradebook.csv: student, the points of each test, total, status.
#
# Parallel: JOBS submissions at a time, from JOBS or from make's -jN
# (make grade-all -j2); default 1. Progress: one line per submission as it
# finishes.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$here" || exit 2
# shellcheck source=exercises/grader/common.sh
. exercises/grader/common.sh

[ $# -ge 2 ] && [ $# -le 3 ] || die "usage: make grade-all EXERCISE=N SUBMISSIONS=DIR [OUT=DIR]"
dir=$(resolve_exercise "$1") || exit 2
slug=${dir#exercises/}
submissions=$2
[ -n "$submissions" ] || die "no submissions given: make grade-all EXERCISE=$1 SUBMISSIONS=DIR"
[ -d "$submissions" ] || die "the submissions directory '$submissions' does not exist"
submissions=$(cd "$submissions" && pwd)
check_manifest "$dir" || exit 2
out=${3:-}
[ -n "$out" ] || out=$BUILD/grades/$slug
mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd)

jobs=${JOBS:-}
if [ -z "$jobs" ]; then
    # make -j2 puts "-j2" in MAKEFLAGS; a bare -j means "as many as you like".
    for word in ${MAKEFLAGS:-}; do
        case $word in
            -j) jobs=$(nproc) ;;
            -j[0-9]*) jobs=${word#-j} ;;
        esac
    done
fi
[[ ${jobs:-1} =~ ^[1-9][0-9]*$ ]] || die "JOBS must be a positive number, not '$jobs'"
jobs=${jobs:-1}

mapfile -t students < <(find "$submissions" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | LC_ALL=C sort)
total=${#students[@]}
[ "$total" -gt 0 ] || die "$submissions holds no submission directories (one per student)"
echo "Grading $total submissions of $(exercise_title "$dir"), $jobs at a time, into $out"

counter=$(mktemp)
trap 'rm -f "$counter"' EXIT
echo 0 > "$counter"

# Grade one student; print one progress line.
grade_one() {
    local student=$1 dest="$out/$1" status score n
    mkdir -p "$dest"
    exercises/grader/grade.sh "$dir" "$submissions/$student" "$dest" > "$dest/grade.log" 2>&1
    status=$?
    if [ $status -eq 0 ] && [ -r "$dest/results.json" ]; then
        score=$(sed -n 's/^SCORE: //p' "$dest/grade.log" | tail -n 1)
        echo graded > "$dest/status"
    else
        # Not graded: say why, in the same format, so nothing is missing.
        score="not graded"
        grep -h -m 1 '^error:' "$dest/grade.log" | sed 's/^error: //' > "$dest/status"
        [ -s "$dest/status" ] || echo "grade.sh failed with status $status" > "$dest/status"
        jq -n --rawfile why "$dest/status" '{score: 0, output: ("Not graded: " + $why), tests: []}' \
            > "$dest/results.json"
        sed -i 's/^/not graded: /' "$dest/status"
        score=$(head -c 100 "$dest/status")
    fi
    n=$(flock "$counter" sh -c 'n=$(($(cat "$1") + 1)); echo $n > "$1"; echo $n' sh "$counter")
    printf '  [%*d/%d] %-24s %s\n' ${#total} "$n" "$total" "$student" "$score"
}
export -f grade_one
export out dir submissions counter total BUILD CC KIT_CFLAGS
printf '%s\0' "${students[@]}" | xargs -0 -n 1 -P "$jobs" bash -c 'grade_one "$1"' _

# --- The gradebook: one row per student, one column per test ----------------
mapfile -t tests < <(manifest_lines "$dir" | awk '{ print $1 }')
gradebook=$out/gradebook.csv
{
    printf '%s\n' student "${tests[@]}" total status | jq -R . | jq -s -r '@csv'
    for student in "${students[@]}"; do
        jq -r --arg student "$student" --rawfile status "$out/$student/status" \
            --argjson names "$(printf '%s\n' "${tests[@]}" | jq -R . | jq -s .)" '
            (.tests | map({(.name): .score}) | add // {}) as $points
            | [$student] + [$names[] | $points[.] // 0] + [.score, ($status | rtrimstr("\n"))]
            | @csv' "$out/$student/results.json"
    done
} > "$gradebook"
graded=0
for student in "${students[@]}"; do
    [ "$(cat "$out/$student/status")" = graded ] && graded=$((graded + 1))
done
echo "Graded $graded of $total; gradebook: $gradebook"
[ "$graded" -eq "$total" ] || echo "Not graded: $((total - graded)) (their status column says why)"
exit 0

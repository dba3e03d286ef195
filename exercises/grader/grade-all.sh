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
# OUT/grade-all.json: which run OUT holds (exercise, SUBMISSIONS, students,
# date). An OUT holding another run's gradebook is refused unless FORCE=1
# (then that run is removed first); the same SUBMISSIONS again re-grades.
#
# Parallel: JOBS submissions at a time, from JOBS or from make's -jN
# (make grade-all -j2); default 1. Progress: one line per submission as it
# finishes.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$here" || exit 2
# shellcheck source=exercises/grader/common.sh
. exercises/grader/common.sh

usage="make grade-all EXERCISE=N SUBMISSIONS=DIR [OUT=DIR] [FORCE=1] [-j2]"
example="make grade-all EXERCISE=3 SUBMISSIONS=submissions-03 -j2"
[ $# -ge 2 ] && [ $# -le 3 ] || usage_error "grade-all.sh takes 2 or 3 arguments" "$usage" "$example"
dir=$(resolve_exercise "$1" "$usage" "$example") || exit 2
slug=${dir#exercises/}
number=${slug%%-*}
submissions=$2
[ -n "$submissions" ] || usage_error "no submissions given (a directory, one directory per student in it)" \
    "$usage" "make grade-all EXERCISE=$1 SUBMISSIONS=submissions-$number -j2"
[ -d "$submissions" ] || die "the submissions directory '$submissions' does not exist"
submissions=$(cd "$submissions" && pwd)
check_manifest "$dir" || exit 2
out=${3:-}
[ -n "$out" ] || out=$BUILD/grades/$slug
# Not inside SUBMISSIONS: it would be graded as a student the next time.
case $(realpath -m -- "$out")/ in
    "$submissions"/*) die "OUT ($out) is inside SUBMISSIONS ($submissions): give another OUT=DIR" ;;
esac
mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd)

# OUT/grade-all.json says which run OUT holds: the exercise, SUBMISSIONS,
# the students, when. Grading the same SUBMISSIONS again replaces it (that
# is how to re-grade); a gradebook of another run is never overwritten
# without a word: refused, unless FORCE=1, which removes that run (its
# gradebook and its students' directories) first.
record=$out/grade-all.json
if [ -e "$out/gradebook.csv" ] || [ -e "$record" ]; then
    earlier=$(jq -r '"\(.exercise)\t\(.submissions)\t\(.date)"' "$record" 2>/dev/null)
    IFS=$'\t' read -r earlier_slug earlier_submissions earlier_date <<< "${earlier:-}"
    if [ "${earlier_slug:-}" != "$slug" ] || [ "${earlier_submissions:-}" != "$submissions" ]; then
        if [ -n "${earlier:-}" ]; then
            what="exercise $earlier_slug, graded $earlier_date; SUBMISSIONS:"$'\n'"    $earlier_submissions"
        else
            what="a gradebook.csv of an unknown run (no grade-all.json)"
        fi
        if [ "${FORCE:-}" != 1 ]; then
            {
                echo "error: OUT holds the gradebook of another run:"
                echo "  OUT: $(show_path "$out")"
                echo "  $what"
                echo "Grading $submissions there would replace it. Give another OUT, e.g."
                echo "  make grade-all EXERCISE=$((10#$number)) SUBMISSIONS=$(show_path "$submissions") OUT=$BUILD/grades/$slug-$(basename "$submissions")"
                echo "or replace that run (its gradebook, its students' directories): FORCE=1"
            } >&2
            exit 2
        fi
        echo "FORCE=1: removing the run $(show_path "$out") held:"
        echo "  $what"
        if [ -n "${earlier:-}" ]; then
            while IFS= read -r name; do
                case $name in ""|.|..|*/*) continue ;; esac
                rm -rf -- "${out:?}/$name"
            done < <(jq -r '.students[]' "$record" 2>/dev/null)
        fi
        rm -f "$out/gradebook.csv" "$record"
    fi
fi

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

width=$(term_width)
mapfile -t students < <(find "$submissions" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | LC_ALL=C sort)
# Anything else in SUBMISSIONS (a zip, a link, a stray file) is not graded:
# said, not skipped silently.
mapfile -t others < <(find "$submissions" -mindepth 1 -maxdepth 1 ! -type d -printf '%f\n' | LC_ALL=C sort)
total=${#students[@]}
[ "$total" -gt 0 ] || die "$submissions holds no submission directories (one per student)"
if is_release; then
    echo "note: this copy of the course is a release, without the hidden tests: only"
    echo "the visible tests are graded"
fi
echo "Grading $(exercise_title "$dir")"
say_path "  " "$total submissions, $jobs at a time, into" "$(show_path "$out")" "$width"
if [ ${#others[@]} -gt 0 ]; then
    fit "  skipped, not directories: $(printf '%s, ' "${others[@]}" | tr -d '\000-\037\177' | sed 's/, $//')" "$width"
fi
jq -n --arg exercise "$slug" --arg submissions "$submissions" --arg date "$(date '+%Y-%m-%d %H:%M')" \
    '{exercise: $exercise, submissions: $submissions, date: $date, students: $ARGS.positional}' \
    --args "${students[@]}" > "$record" || die "cannot write $record"

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
        # The line names the student: not their directory again.
        score=$(head -n 1 "$dest/status")
        score=${score/"the submission $submissions/$student: "/}
    fi
    n=$(flock "$counter" sh -c 'n=$(($(cat "$1") + 1)); echo $n > "$1"; echo $n' sh "$counter")
    # One line, cut to the width: the gradebook has the whole status.
    fit "$(printf '  [%*d/%d] %-24s %s' ${#total} "$n" "$total" "$student" "$score" | tr -d '\000-\037\177')" "$width"
}
export -f grade_one fit
export out dir submissions counter total width BUILD CC KIT_CFLAGS
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
echo "Graded $graded of $total; the gradebook:"
echo "  $(show_path "$gradebook")"
[ "$graded" -eq "$total" ] || echo "Not graded: $((total - graded)) (their status column says why, whole)"
exit 0

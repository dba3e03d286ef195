#!/usr/bin/env bash
# grade.sh - grade one submission of one exercise: what `make grade` runs,
# and, with --student, what `make exercise-N` runs on a student's work/.
#
#   grade.sh [--student] EXERCISE SUBMISSION [OUT]
#
# EXERCISE   the number (3 or 03) or the directory name (03-fix-tcp-client)
# SUBMISSION a directory holding the student's versions of the starter files
# OUT        where results.json (Gradescope format), results.tap and
#            results.xml (Check's logs) and build.log go; default
#            $BUILD/grades/NN-slug/NAME-OF-SUBMISSION
#
# How: a fresh work directory; the submission's files (only the starter's
# file names, regular files only) are copied into it with the kit and built
# inside the sandbox; then the exercise's runner (the graded Check tests,
# trusted code, not linked with the student's) runs each test, and each
# test runs the student's programs in the sandbox again, in a fresh scratch
# copy each time. The score is the points of the tests Check says passed,
# from the manifest exercises/NN-slug/points. The work directory is removed
# at the end; the sandbox has killed every process of the submission by
# then.
#
# Exit status: 0 when grading ran, whatever the score (with --student: 0
# only if every test passed); 2 when it could not run (unknown exercise,
# missing submission or files), with a message saying why.
#
# Environment (set by the make targets): BUILD, CC, KIT_CFLAGS.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$here" || exit 2
# shellcheck source=exercises/grader/common.sh
. exercises/grader/common.sh

student=0
if [ "${1:-}" = --student ]; then
    student=1
    shift
fi
usage="make grade EXERCISE=N SUBMISSION=DIR [OUT=DIR]"
example="make grade EXERCISE=3 SUBMISSION=submissions-03/alice"
if [ $student -eq 1 ]; then
    usage="make exercise-N" example="make exercise-3"
fi
[ $# -ge 2 ] && [ $# -le 3 ] || usage_error "grade.sh takes 2 or 3 arguments" "$usage" "$example"
exercise_arg=$1 submission=$2 out=${3:-}

dir=$(resolve_exercise "$exercise_arg" "$usage" "$example") || exit 2
slug=${dir#exercises/}
number=${slug%%-*}
[ -n "$submission" ] || usage_error "no submission given" "$usage" \
    "make grade EXERCISE=$exercise_arg SUBMISSION=submissions-$number/alice"
[ -d "$submission" ] || die "the submission directory '$submission' does not exist"
submission=$(cd "$submission" && pwd)

# The files a submission must hold: the starter's, each a regular file of
# at most 512 KiB. Every problem is said, on the one line of the error.
mapfile -t files < <(starter_files "$dir")
problems=() not_regular=0
for f in "${files[@]}"; do
    path=$submission/$f
    if [ -L "$path" ]; then
        target=$(readlink -- "$path" | tr -d '\000-\037\177')
        problems+=("$f is a symbolic link (to $(fit "$target" 80))")
        not_regular=1
    elif [ ! -e "$path" ]; then
        problems+=("$f is missing")
    elif [ ! -f "$path" ]; then
        problems+=("$f is a $(stat -c %F -- "$path"), not a file")
        not_regular=1
    elif [ "$(stat -c %s -- "$path")" -gt $((512 * 1024)) ]; then
        problems+=("$f is larger than 512 KiB ($(( $(stat -c %s -- "$path") / 1024 )) KiB): not a source file")
    fi
done
if [ ${#problems[@]} -gt 0 ]; then
    joined=$(printf '%s; ' "${problems[@]}")
    joined=${joined%; }
    [ $not_regular -eq 0 ] || joined+="; hand in regular files"
    if [ $student -eq 1 ]; then
        die "in $(show_path "$submission"): $joined (the starter's files are in $dir/starter/)"
    fi
    die "the submission $submission: $joined (exercise $number is graded on: ${files[*]})"
fi
check_manifest "$dir" || exit 2

build=$(mkdir -p "$BUILD" && cd "$BUILD" && pwd)
runner=$build/exercises/$slug/runner
sandbox=$build/bin/sandbox
kit=$build/exercises/kit
for f in "$runner" "$sandbox" "$kit/libsupport.a"; do
    [ -e "$f" ] || die "$f is not built: run the grader through make (make grade ...)"
done
if [ -z "$out" ]; then
    out=$build/grades/$slug/$(basename "$submission")
fi
mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd)
rm -f "$out/results.json" "$out/results.tap" "$out/results.xml" "$out/build.log"

# --- A fresh work directory --------------------------------------------------
mkdir -p "$build/grade-work"
work=$(mktemp -d "$build/grade-work/XXXXXX") || die "cannot create a work directory"
chmod 711 "$work"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/scratch" "$work/results"
chmod 700 "$work/scratch"
exercises/grader/prepare.sh "$kit" "$work/build" "${files[@]/#/$submission/}" ||
    die "cannot lay out the submission in $work/build"

# What the student's code must not see: the course (solutions, hidden
# tests), every grade and work directory, the other submissions.
# GRADE_HIDE_ALSO: more, colon-separated (the gradescope suite's: the
# course around the Gradescope layout it grades in).
IFS=: read -r -a hide_also <<< "${GRADE_HIDE_ALSO:-}"
hide=("$here" "$build" "$out" "$(dirname "$submission")" "${hide_also[@]}")
hide_args=() hide_list=""
for h in "${hide[@]}"; do
    case $h in /|/usr|/usr/*|/bin|/sbin|/lib|/lib64|/etc|/dev|/proc|/sys|/var|/tmp|/run) continue;; esac
    hide_args+=(--hide "$h")
    hide_list+="${hide_list:+:}$h"
done

# --- Build, in the sandbox -------------------------------------------------------
started=$SECONDS
"$sandbox" --dir "$work/build" --timeout 60000 --cpu 60 --memory 2048 --processes 32 \
    --file-size 64 --out-cap 65536 --status "$work/build.status" "${hide_args[@]}" \
    --env "CC=${CC:-cc}" --env "KIT_CFLAGS=${KIT_CFLAGS:--O2 -g}" \
    --env "LIBEVENT_CFLAGS=$(pkg-config --cflags libevent libevent_pthreads)" \
    --env "LIBEVENT_LIBS=$(pkg-config --libs libevent libevent_pthreads)" \
    -- bash ./build.sh > "$work/build.log" 2>&1
build_status=$?
build_result=$(sed -n 's/^result //p' "$work/build.status" 2>/dev/null)
cp "$work/build.log" "$out/build.log"
if [ "$(id -u)" -eq 0 ]; then
    # Built by the sandbox user; root's again before anything reads it.
    chown -R 0:0 "$work/build" && chmod -R go-w "$work/build"
fi
built=1
if [ $student -eq 1 ] && [ "$build_status" -eq 0 ]; then
    # The student may run what was built: build/exercises/NN-slug/bin/.
    mkdir -p "$build/exercises/$slug/bin"
    for f in "${files[@]}"; do
        cp "$work/build/${f%.c}" "$build/exercises/$slug/bin/" 2>/dev/null
    done
fi
if [ "$build_status" -ne 0 ]; then
    built=0
    if [ "$build_result" = timeout ]; then
        build_note="the build did not finish within 60 s"
    elif [ -z "$build_result" ]; then
        die "the sandbox could not run the build: $(head -c 300 "$work/build.log")"
    else
        build_note="the submission did not compile"
    fi
fi

# --- The graded tests ----------------------------------------------------------------
if [ $built -eq 1 ]; then
    runner_args=(--results "$work/results" --tap "$out/results.tap" --xml "$out/results.xml")
    [ $student -eq 1 ] && runner_args+=(--visible)
    env -u CK_RUN_CASE -u CK_RUN_SUITE -u CK_EXCLUDE_CASES -u CK_EXCLUDE_SUITES \
        -u CK_INCLUDE_TAGS -u CK_EXCLUDE_TAGS -u CK_FORK -u CK_DEFAULT_TIMEOUT \
        -u CK_TIMEOUT_MULTIPLIER -u CK_VERBOSITY -u CK_TAP_LOG_FILE_NAME -u CK_XML_LOG_FILE_NAME \
        -u CK_LOG_FILE_NAME \
        GRADE_PROGRAMS="$work/build" GRADE_SCRATCH="$work/scratch" GRADE_SANDBOX="$sandbox" \
        GRADE_EXERCISE="$here/$dir" GRADE_COURSE="$here" GRADE_HIDE="$hide_list" \
        "$runner" "${runner_args[@]}" > "$work/runner.log" 2>&1
    runner_status=$?
    if [ $runner_status -ne 0 ]; then
        warn "the test runner failed (status $runner_status): $(head -c 300 "$work/runner.log")"
    fi
fi

# --- Scores ----------------------------------------------------------------------------
# Each test's verdict and message come from the runner's results; the
# points from the manifest. JSON is made by jq from files, never by hand.
# What is printed fits the terminal (80 columns off one): a reason goes
# under its test, wrapped, at most three lines, and a cut one ends in …
# (results.json has every reason whole); paths are never cut.
width=$(term_width)
title=$(exercise_title "$dir")
if [ $student -eq 1 ]; then
    echo "${bold}$title${off}"
    say_path "  " "your files:" "$(show_path "$submission")/" "$width"
else
    echo "Grading ${bold}$title${off}"
    say_path "  " "submission:" "$(show_path "$submission")" "$width"
    if is_release; then
        echo "  note: this copy of the course is a release, without the hidden tests:"
        echo "  only the visible tests are graded"
    fi
fi
if [ $built -eq 1 ]; then
    warnings=$(grep -c 'warning:' "$work/build.log")
    if [ "$warnings" -gt 0 ]; then
        say_path "  " "build: ok, $warnings warning(s); the compiler's output:" "$(show_path "$out/build.log")" "$width"
    else
        echo "  build: ok"
    fi
else
    if grep -q -E 'error|undefined reference|did not' "$work/build.log"; then
        echo "  ${red}build: $build_note${off}; the first errors:"
        grep -m 5 -E 'error|undefined reference|did not' "$work/build.log" | tr -d '\000-\010\013-\037\177' |
            while IFS= read -r line; do fit "    $line" "$width"; done
    else
        echo "  ${red}build: $build_note${off}"
    fi
    say_path "  " "the whole build log:" "$(show_path "$out/build.log")" "$width"
fi

# Print REASON (the first line of a file) under its test: wrapped to the
# width, three lines at most. Sets cut=1 when it had to cut.
reason_lines=3
print_reason() { # file
    local text lines=() more=0 i n
    text=$(head -n 1 "$1" 2>/dev/null | tr -d '\000-\037\177')
    n=$(sed -n '$=' "$1" 2>/dev/null)
    [ "${n:-0}" -le 1 ] || more=1
    [ -n "$text" ] || return 0
    mapfile -t lines < <(printf '%s\n' "$text" | fold -s -w $((width - 6)) | sed 's/ *$//')
    n=${#lines[@]}
    if [ "$n" -gt $reason_lines ]; then
        n=$reason_lines more=1
    fi
    for ((i = 0; i < n; i++)); do
        if [ $more -eq 1 ] && [ $i -eq $((n - 1)) ]; then
            cut=1
            fit "      ${lines[i]}" $((width - 1)) | sed 's/…$//; s/$/…/'
        else
            echo "      ${lines[i]}"
        fi
    done
}

name_width=$(manifest_lines "$dir" | awk '{ if (length($1) > w) w = length($1) } END { print w + 0 }')
: > "$work/tests.jsonl"
score=0 max=0 passed_all=1 cut=0 count=0
while read -r name points visibility; do
    if [ $student -eq 1 ] && [ "$visibility" != visible ]; then
        continue
    fi
    count=$((count + 1))
    message_file="$work/results/$name.message"
    if [ $built -eq 0 ]; then
        result=fail
        printf 'Not run: %s. The build log is at the top of the results.\n' "$build_note" > "$work/note"
        message_file="$work/note"
    elif [ -r "$work/results/$name.result" ]; then
        result=$(cat "$work/results/$name.result")
    else
        result=error
        echo "grader error: the runner reported nothing for this test" > "$work/note"
        message_file="$work/note"
    fi
    got=0
    [ "$result" = pass ] && got=$points
    score=$((score + got))
    max=$((max + points))
    tag=""
    [ "$visibility" != visible ] && tag="  (hidden)"
    if [ $built -eq 0 ]; then
        passed_all=0 # one line for all of them, below
    elif [ "$result" = pass ]; then
        printf '  %s✓%s %-*s %3s/%s%s\n' "$green" "$off" "$name_width" "$name" "$got" "$points" "$tag"
    else
        passed_all=0
        printf '  %s✗%s %-*s %3s/%s%s\n' "$red" "$off" "$name_width" "$name" "$got" "$points" "$tag"
        print_reason "$message_file"
    fi
    # An excerpt's line breaks, ↵ on the terminal (harness_excerpt()), are
    # real ones again here: what Gradescope shows the student.
    jq -n --arg name "$name" --argjson score "$got" --argjson max "$points" \
        --rawfile output "$message_file" --arg visibility "$visibility" \
        '{name: $name, score: $score, max_score: $max, output: ($output | split("↵") | join("\n")),
          visibility: $visibility}' \
        >> "$work/tests.jsonl"
done < <(manifest_lines "$dir")
if [ $built -eq 0 ]; then
    printf '  %s✗%s none of the %d tests ran, because the build failed: 0/%d\n' "$red" "$off" "$count" "$max"
fi

if [ $built -eq 1 ]; then
    printf 'Built; %s warning line(s).\n' "$(grep -c 'warning:' "$work/build.log")" > "$work/summary"
else
    printf 'Not built: %s.\n' "$build_note" > "$work/summary"
fi
cat "$work/build.log" >> "$work/summary"
jq -s --rawfile output "$work/summary" --argjson time $((SECONDS - started)) \
    '{score: (map(.score) | add // 0), execution_time: $time, output: $output, tests: .}' \
    "$work/tests.jsonl" > "$out/results.json" || die "jq could not write $out/results.json"

if [ $cut -eq 1 ]; then
    say_path "" "… marks a cut reason; each is whole in" "$(show_path "$out/results.json")" "$width"
fi
if [ $student -eq 1 ]; then
    record_progress "$slug" "$score" "$max"
    echo "Points so far: $score/$max$([ $passed_all -eq 1 ] && echo "  ${green}all visible tests pass${off}")"
    [ $passed_all -eq 1 ] || echo "Stuck? make hint-$((10#$number)) shows the next hint."
    [ $passed_all -eq 1 ]
    exit $?
fi
say_path "" "results:" "$(show_path "$out/results.json")" "$width"
echo "SCORE: $score/$max"
exit 0

# common.sh - what the exercise scripts share (sourced, from the top of the
# course tree): messages, finding an exercise, reading its manifest, and the
# student's progress kept under $BUILD/exercises-state/ (git-ignored).
# shellcheck shell=bash disable=SC2034 # the colours are for the scripts that source this

BUILD=${BUILD:-build}

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
    bold=$'\e[1m' red=$'\e[31m' green=$'\e[32m' dim=$'\e[2m' off=$'\e[0m'
else
    bold='' red='' green='' dim='' off=''
fi

die() { echo "error: $*" >&2; exit 2; }
warn() { echo "warning: $*" >&2; }

# The course's index: which exercises there are, and their titles.
# shellcheck source=.ci/index.sh
. .ci/index.sh

exercise_dirs() { index_dirs exercises; }

# "# Exercise 03: Fix the broken TCP client" -> that line without "# ".
exercise_title() { index_title "$1"; }

list_exercises() { index_list exercises; }

# Print the directory of exercise $1 ("3", "03", "03-fix-tcp-client",
# "exercises/03-fix-tcp-client"), or fail listing the exercises.
resolve_exercise() {
    index_find exercises "$1" && return 0
    {
        if [ -z "$1" ]; then
            echo "error: no exercise given (a number: make exercise-3, make grade EXERCISE=3). The exercises are:"
        else
            echo "error: there is no exercise '$1'. The exercises are:"
        fi
        list_exercises
    } >&2
    return 2
}

# The files a student edits: the starter's, by name.
starter_files() { (cd "$1/starter" && ls -1 | LC_ALL=C sort); }

# The manifest without comments: "NAME POINTS VISIBILITY" lines.
manifest_lines() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$1/points"; }

# A manifest the grader can trust: known visibilities, whole points, each
# test once.
check_manifest() {
    local dir=$1 name points visibility extra seen=" "
    [ -r "$dir/points" ] || { echo "error: $dir has no points file (its graded tests and their points)" >&2; return 2; }
    while read -r name points visibility extra; do
        if ! [[ $name =~ ^[a-z][a-z0-9_]*$ ]] || ! [[ $points =~ ^[0-9]+$ ]] || [ -n "$extra" ] ||
           ! [[ $visibility =~ ^(visible|hidden|after_due_date|after_published)$ ]]; then
            echo "error: $dir/points: bad line '$name $points $visibility $extra' (want: TEST POINTS visible|hidden|after_due_date|after_published)" >&2
            return 2
        fi
        case $seen in *" $name "*) echo "error: $dir/points lists $name twice" >&2; return 2;; esac
        seen+="$name "
    done < <(manifest_lines "$dir")
}

state_dir() { echo "$BUILD/exercises-state/$1"; }

record_progress() { # slug score max
    local s; s=$(state_dir "$1")
    mkdir -p "$s" && echo "$2 $3" > "$s/points"
}

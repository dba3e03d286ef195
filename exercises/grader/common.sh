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

# The width to fit output to: COLUMNS when set, the terminal's on a
# terminal, else 80 (a log, a pipe). Never less than 40.
term_width() {
    local w=${COLUMNS:-}
    if [ -z "$w" ] && [ -t 1 ]; then
        w=$(tput cols 2>/dev/null)
    fi
    if ! [[ $w =~ ^[0-9]+$ ]]; then
        w=80
    elif [ "$w" -lt 40 ]; then
        w=40
    fi
    echo "$w"
}

# TEXT cut to WIDTH characters, its end marked with … when it was cut.
fit() { # text width
    if [ "${#1}" -le "$2" ]; then
        printf '%s\n' "$1"
    else
        printf '%s…\n' "${1:0:$(($2 - 1))}"
    fi
}

# PATH as the user should read it: relative to the top of the course tree
# (where make runs) when it is inside it.
show_path() { # path
    local top
    top=$(pwd)
    case $1 in
        "$top"/*) echo "${1#"$top"/}" ;;
        *) echo "$1" ;;
    esac
}

# "  LABEL PATH" on one line when it fits WIDTH, else PATH alone on the
# next line, indented two more: a path is never cut.
say_path() { # indent label path width
    local line="$1$2 $3"
    if [ "${#line}" -le "$4" ]; then
        echo "$line"
    else
        echo "$1$2"
        echo "$1  $3"
    fi
}

# A release (make release) has no solutions and no hidden tests; the course
# has all of them, a Gradescope zip (make gradescope) its exercise's hidden
# tests but no solution.
is_release() {
    ! compgen -G 'exercises/[0-9][0-9]-*/solution' >/dev/null &&
        ! compgen -G 'exercises/[0-9][0-9]-*/tests/hidden*.c' >/dev/null
}

# The course's index: which exercises there are, and their titles.
# shellcheck source=.ci/index.sh
. .ci/index.sh

exercise_dirs() { index_dirs exercises; }

# "# Exercise 03: Fix the broken TCP client" -> that line without "# ".
exercise_title() { index_title "$1"; }

list_exercises() { index_list exercises; }

# Fail saying what is wrong, the usage and an example, each on a line of
# its own (lines that fit 80 columns).
usage_error() { # message usage example
    {
        echo "error: $1"
        echo "usage: $2"
        echo "  e.g. $3"
    } >&2
    exit 2
}

# Print the directory of exercise $1 ("3", "03", "03-fix-tcp-client",
# "exercises/03-fix-tcp-client"), or fail saying the USAGE, an EXAMPLE, and
# listing the exercises: as students name them (make exercise-N), or as
# EXERCISE=N when USAGE has one.
resolve_exercise() { # what usage example
    local usage=${2:-make exercise-N} example=${3:-make exercise-3}
    index_find exercises "$1" && return 0
    {
        if [ -z "$1" ]; then
            echo "error: no exercise given"
        else
            echo "error: there is no exercise '$1'"
        fi
        echo "usage: $usage"
        echo "  e.g. $example"
        echo "The exercises are:"
        if [[ $usage == *EXERCISE=* ]]; then
            local n dir title
            while IFS=$'\t' read -r n dir title; do
                printf '  %s  %-44s EXERCISE=%d\n' "$n" "$(fit "$title" 44)" "$((10#$n))"
            done < <(index_table exercises)
        else
            list_exercises
        fi
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

#!/usr/bin/env bash
# student.sh - the student's side of the exercises: what `make exercises`,
# `make exercise-N`, `make hint-N` and `make reset-N` run.
#
#   student.sh list        the exercises, with your points and hints seen
#   student.sh test N      build and test your work on exercise N (its
#                          work/ directory, made from the starter the first
#                          time), visible tests only
#   student.sh hint N      the next hint for exercise N you have not seen
#   student.sh reset N     put the starter files back in work/, after asking
#                          (without a terminal: only with YES=1)
#
# Progress (points of the last test run, hints seen) is kept under
# $BUILD/exercises-state/, which git ignores; `make clean` forgets it.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$here" || exit 2
# shellcheck source=exercises/grader/common.sh
. exercises/grader/common.sh

hint_files() { ls "$1"/hints/[0-9]*.md 2>/dev/null | sort -t/ -k3 -n; }

seen_hints() { # slug
    local f; f=$(state_dir "$1")/hints-seen
    if [ -r "$f" ]; then cat "$f"; else echo 0; fi
}

# Make work/ from the starter if there is none yet.
ensure_work() { # dir
    if [ ! -d "$1/work" ]; then
        mkdir -p "$1/work" && cp "$1"/starter/* "$1/work/" || die "cannot create $1/work"
        echo "Your files for this exercise are in $1/work/,"
        echo "a copy of the starter: edit them there."
    fi
}

list() {
    local d slug n total points max hints seen status
    local colour
    # Padded first, coloured after: the colour's escapes take no column.
    printf '  %-2s  %-44s %-12s %s\n' "" "exercise" "points" "hints seen"
    for d in $(exercise_dirs); do
        slug=${d#exercises/}; n=${slug%%-*}
        total=$(hint_files "$d" | wc -l)
        seen=$(seen_hints "$slug")
        colour=""
        if [ -r "$(state_dir "$slug")/points" ]; then
            read -r points max < "$(state_dir "$slug")/points"
            status="$points/$max"
            [ "$points" = "$max" ] && status="$status done" colour=$green
        elif [ -d "$d/work" ]; then
            status="started"
        else
            status="not started" colour=$dim
        fi
        printf '  %s  %-44s %s%-12s%s %s/%s\n' "$n" "$(fit "$(index_short_title "$d")" 44)" \
            "$colour" "$status" "${colour:+$off}" "$seen" "$total"
    done
    echo
    echo "make exercise-N tests your work on exercise N, make hint-N gives a hint;"
    echo "docs/students.md says more."
}

test_work() {
    local dir
    dir=$(resolve_exercise "$1") || exit 2
    ensure_work "$dir"
    exec exercises/grader/grade.sh --student "$dir" "$dir/work" "$BUILD/exercises-state/${dir#exercises/}/last-run"
}

hint() {
    local dir slug seen total next
    dir=$(resolve_exercise "$1" "make hint-N" "make hint-3") || exit 2
    slug=${dir#exercises/}
    mapfile -t hints < <(hint_files "$dir")
    total=${#hints[@]}
    seen=$(seen_hints "$slug")
    if [ "$seen" -ge "$total" ]; then
        echo "You have seen all $total hints for $(exercise_title "$dir" | sed 's/:.*//');"
        echo "they are in $dir/hints/."
        return 0
    fi
    next=$((seen + 1))
    echo "${bold}Hint $next of $total${off} for $(exercise_title "$dir")"
    echo
    cat "${hints[$seen]}"
    mkdir -p "$(state_dir "$slug")" && echo "$next" > "$(state_dir "$slug")/hints-seen"
    if [ "$next" -lt "$total" ]; then
        echo
        echo "${dim}(make hint-$((10#${slug%%-*})) again for the next one)${off}"
    fi
}

reset() {
    local dir answer n
    dir=$(resolve_exercise "$1" "make reset-N" "make reset-3") || exit 2
    if [ -d "$dir/work" ] && [ "${YES:-}" != 1 ]; then
        if [ ! -t 0 ]; then
            n=$((10#$(basename "$dir" | cut -c1-2)))
            echo "error: make reset-$n replaces your files in $dir/work/" >&2
            echo "with the starter. It asks first, and there is no terminal to ask on:" >&2
            echo "run it from a terminal, or say yes beforehand: make reset-$n YES=1" >&2
            exit 2
        fi
        echo "Replace your files in $dir/work/ with the starter?"
        printf 'Your changes will be lost. [y/N] ' 
        read -r answer || answer=
        case $answer in
            y|Y|yes|YES) ;;
            *) echo "Nothing changed."; return 0 ;;
        esac
    fi
    rm -rf "$dir/work" && mkdir -p "$dir/work" && cp "$dir"/starter/* "$dir/work/" || die "cannot reset $dir/work"
    rm -f "$(state_dir "${dir#exercises/}")/points"
    echo "$dir/work/ holds the starter files again."
}

case "${1:-}" in
    list) list ;;
    test) test_work "${2:-}" ;;
    hint) hint "${2:-}" ;;
    reset) reset "${2:-}" ;;
    *) sed -n '2,16s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 2 ;;
esac

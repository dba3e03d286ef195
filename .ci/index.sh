#!/usr/bin/env bash
# index.sh - the one index of the course: which lessons and exercises there
# are, their titles, and which directory "2", "02" or "02-event-lifecycle"
# names. The Makefile, every script and the C suites ask it; nothing else
# lists the numbered directories. A lesson or an exercise is a directory
# KIND/NN-slug holding a README.md whose first line is its title: adding one
# means adding its directory and nothing else.
#
#   index.sh dirs KIND          the directories, sorted, one per line
#   index.sh find KIND WHAT     the directory WHAT names: its number (3, 03)
#                               or its name (03-slug, KIND/03-slug); status 1
#                               and nothing printed if none does
#   index.sh title DIR          the first line of DIR/README.md without "# "
#   index.sh list KIND          "  NN  title  make TARGET-N", one per line
#   index.sh table KIND         "NN<TAB>dir<TAB>title", one per line
#
# KIND is lessons or exercises. Run from anywhere: paths are relative to the
# top of the course tree. Sourced (from the top of the tree), it defines
# the index_* functions and runs nothing.
# shellcheck shell=bash

# The directories under KIND, sorted.
index_dirs() { # kind
    local d
    for d in "$1"/[0-9][0-9]-*/; do
        [ -d "$d" ] && echo "${d%/}"
    done
}

# "# Lesson 02: The event lifecycle" -> "Lesson 02: The event lifecycle".
index_title() { # dir
    sed -n '1s/^# *//p' "$1/README.md" 2>/dev/null
}

# The title without its "Lesson 02: " or "Exercise 03: ".
index_short_title() { # dir
    index_title "$1" | sed 's/^[A-Z][a-z]* [0-9]*: //'
}

# The make target that runs one: lesson-N, exercise-N.
index_target() { # kind
    case $1 in lessons) echo lesson ;; exercises) echo exercise ;; *) echo "$1" ;; esac
}

index_list() { # kind
    local d n target
    target=$(index_target "$1")
    for d in $(index_dirs "$1"); do
        n=${d#"$1"/}; n=${n%%-*}
        printf '  %s  %-44s make %s-%d\n' "$n" "$(index_short_title "$d")" "$target" "$((10#$n))"
    done
}

index_table() { # kind
    local d n
    for d in $(index_dirs "$1"); do
        n=${d#"$1"/}; n=${n%%-*}
        printf '%s\t%s\t%s\n' "$n" "$d" "$(index_short_title "$d")"
    done
}

index_find() { # kind what
    local kind=$1 want=${2%/} d n
    want=${want#./}
    want=${want#"$kind"/}
    [ -n "$want" ] || return 1
    for d in $(index_dirs "$kind"); do
        n=${d#"$kind"/}; n=${n%%-*}
        if [[ $want =~ ^[0-9]{1,2}$ ]] && [ "$((10#$n))" -eq "$((10#$want))" ]; then
            echo "$d"; return 0
        fi
        if [ "$want" = "${d#"$kind"/}" ]; then
            echo "$d"; return 0
        fi
    done
    return 1
}

# Executed (not sourced): one command.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -u
    cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
    usage() { sed -n '8,14s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 2; }
    kind_ok() { case ${1:-} in lessons|exercises) ;; *) echo "index.sh: KIND is lessons or exercises, not '${1:-}'" >&2; exit 2;; esac; }
    case ${1:-} in
        dirs)  kind_ok "${2:-}"; index_dirs "$2" ;;
        list)  kind_ok "${2:-}"; index_list "$2" ;;
        table) kind_ok "${2:-}"; index_table "$2" ;;
        find)  kind_ok "${2:-}"; index_find "$2" "${3:-}" ;;
        title) [ -n "${2:-}" ] || usage; index_title "$2" ;;
        *) usage ;;
    esac
fi

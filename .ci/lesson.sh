#!/usr/bin/env bash
# lesson.sh - what `make lesson-N`, `make lessons`, `make bless-N` and
# `make diff-N` run.
#
#   lesson.sh N          run lesson N's two variants (already built in
#                        $BUILD/bin), show their traces and say whether each
#                        matches the lesson's expected trace
#   lesson.sh --list     list the lessons with their titles
#   lesson.sh --diff N   show how the lesson's event1 and event2 sources differ
#   lesson.sh --bless N  rewrite the lesson's expected trace from what the
#                        two variants print now, then show the change
#
# A lesson with several programs ("roles": event1-server.c, event1-client.c,
# event2-...) is run as a session per style by `course serve`: the server on
# port 0, each other role against the port it printed, then SIGTERM to the
# server, which must exit 0. Roles without a server (event1-wrong.c,
# event1-right.c, ...) each run alone. Each role's trace is compared with
# expected-ROLE.trace; a server's first line, "listening on
# 127.0.0.1:PORT", is not part of it.
#
# On a terminal the two traces are side by side when both fit its width
# (COLUMNS, or what the terminal says), one above the other when they do
# not; in a pipe, always side by side, whole lines. Colour on a terminal
# unless NO_COLOR is set.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here" || exit 2
bin=${BUILD:-build}/bin
course=$bin/course

# shellcheck source=.ci/index.sh
. .ci/index.sh

# What is standard output? Asked here, once: inside $(...) it never is a
# terminal.
if [ -t 1 ]; then
    terminal_columns=${COLUMNS:-}
    if ! [[ $terminal_columns =~ ^[0-9]+$ ]]; then
        terminal_columns=$(stty size 2>/dev/null < /dev/tty | awk '{ print $2 }')
    fi
    [[ ${terminal_columns:-} =~ ^[0-9]+$ ]] && [ "$terminal_columns" -gt 0 ] || terminal_columns=80
else
    terminal_columns=""
fi
if [ -n "$terminal_columns" ] && [ -z "${NO_COLOR:-}" ]; then
    bold=$'\e[1m' dim=$'\e[2m' red=$'\e[31m' green=$'\e[32m' yellow=$'\e[33m' cyan=$'\e[36m' off=$'\e[0m'
else
    bold='' dim='' red='' green='' yellow='' cyan='' off=''
fi

list_lessons() { index_list lessons; }

# Print the directory of lesson $1 ("2", "02"), or fail listing the lessons.
resolve() {
    index_find lessons "$1" && return 0
    {
        if [ -z "$1" ]; then
            echo "No lesson given: make lesson-N, with N one of these:"
        else
            echo "There is no lesson '$1'. The lessons are:"
        fi
        list_lessons
    } >&2
    return 2
}

need_tool() {
    [ -x "$course" ] || { echo "${red}$course is missing: run make lesson-N, not this script${off}" >&2; exit 2; }
}

# --- Showing two traces ------------------------------------------------------------

# awk's colouring of a trace line, shared by both layouts.
paint_awk='
    function paint(s) {
        if (s ~ /^event[12]( |$)/) return cyan s off
        if (s ~ /^[^ ]+ +active /) return yellow s off
        if (s ~ /^[^ ]+ +callback/) return green s off
        return s
    }'

# Two traces side by side, aligned by diff: equal lines share a row, lines
# only one side has stand alone. Cells wider than width are cut with "~".
side_by_side() { # left right width
    diff --unchanged-line-format='=%L' --old-line-format='<%L' --new-line-format='>%L' "$1" "$2" |
    awk -v w="$3" -v bold="$bold" -v dim="$dim" -v red="$red" -v green="$green" \
        -v yellow="$yellow" -v cyan="$cyan" -v off="$off" "$paint_awk"'
    function cell(s,   shown) {
        shown = length(s) > w ? substr(s, 1, w - 1) "~" : s
        return paint(shown) sprintf("%*s", w - length(shown), "")
    }
    function flush(   i, n, l, r, mark) {
        n = nl > nr ? nl : nr
        for (i = 1; i <= n; i++) {
            l = (i <= nl) ? L[i] : ""; r = (i <= nr) ? R[i] : ""
            mark = (i <= nl && i <= nr) ? red "|" off : " "
            printf "%s %s %s\n", cell(l), mark, paint(r)
        }
        nl = nr = 0
    }
    function rule(n,   s) { s = sprintf("%*s", n, ""); gsub(/ /, "-", s); return s }
    BEGIN { printf "%s%-*s   %s%s\n", bold, w, "event1", "event2", off
            printf "%s%s   %s%s\n", dim, rule(w), rule(w), off }
    /^=/ { flush(); s = substr($0, 2); printf "%s   %s\n", cell(s), paint(s); next }
    /^</ { L[++nl] = substr($0, 2); next }
    /^>/ { R[++nr] = substr($0, 2); next }
    END { flush() }'
}

# One trace above the other, for a terminal too narrow for both side by
# side. A line the other style does not print is marked "*"; a line wider
# than the terminal goes on, indented, on the next.
stacked() { # event1-trace event2-trace columns
    local side file mine
    for side in 1 2; do
        if [ $side -eq 1 ]; then file=$1 mine='^<'; else file=$2 mine='^>'; fi
        [ $side -eq 2 ] && echo
        printf '%s%s%s\n' "$bold" "event${side}" "$off"
        diff --unchanged-line-format='=%L' --old-line-format='<%L' --new-line-format='>%L' "$1" "$2" |
        grep -E "^(=|${mine#^})" |
        awk -v cols="$3" -v red="$red" -v green="$green" -v yellow="$yellow" -v cyan="$cyan" \
            -v off="$off" "$paint_awk"'
        {
            mark = substr($0, 1, 1) == "=" ? "  " : "* "
            s = substr($0, 2); room = cols - 2
            if (room < 20) room = 20
            printf "%s%s\n", mark, paint(substr(s, 1, room))
            for (s = substr(s, room + 1); s != ""; s = substr(s, room - 3))
                printf "      %s\n", paint(substr(s, 1, room - 4))
        }'
    done
    printf '%s(* : only this style prints the line)%s\n' "$dim" "$off"
}

# Show two traces: side by side when that fits (always, in a pipe).
show_pair() { # event1-trace event2-trace
    local f width=0 w
    for f in "$1" "$2"; do
        w=$(awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }' "$f")
        [ "$w" -gt "$width" ] && width=$w
    done
    [ "$width" -lt 6 ] && width=6 # the heading, "event1"
    if [ -n "$terminal_columns" ] && [ $((2 * width + 3)) -gt "$terminal_columns" ]; then
        stacked "$1" "$2" "$terminal_columns"
    else
        side_by_side "$1" "$2" "$width"
    fi
}

# --- Running the programs -------------------------------------------------------------

# The expected trace of one style.
expected_for() { # style file
    "$course" expected "$1" "$2"
}

# The roles of a lesson, server first: "server client" for event1-server.c
# and event1-client.c; nothing for a lesson of single programs.
roles_of() { # dir
    local f role roles=""
    for f in "$1"/event1-*.c; do
        [ -e "$f" ] || continue
        role=${f##*/event1-}; role=${role%.c}
        [ "$role" = server ] && roles="server $roles" || roles="$roles $role"
    done
    echo $roles
}

# One style's roles, each alone (a lesson without a server). Writes
# STYLE-ROLE.out, .err and .rc into $tmp.
run_alone() { # n style roles tmp
    local n=$1 style=$2 roles=$3 tmp=$4 role program
    for role in $roles; do
        program="$bin/$n-$style-$role"
        [ -x "$program" ] || { echo "${red}$program is missing: run make lesson-$((10#$n))${off}" >&2; return 1; }
        "$course" run "$program" > "$tmp/$style-$role.out" 2> "$tmp/$style-$role.err"
        echo $? > "$tmp/$style-$role.rc"
    done
}

# One style's session: the server on port 0, then every other role with
# --port, one after the other. Writes into $tmp: STYLE-ROLE.out (the trace;
# the server's without its first line), STYLE-ROLE.err, STYLE-ROLE.rc.
# Returns non-zero if the server could not be started.
run_session() { # n style roles tmp
    local n=$1 style=$2 roles=$3 tmp=$4 role program clients="" rc
    case " $roles " in *" server "*) ;; *) run_alone "$@"; return ;; esac
    program="$bin/$n-$style-server"
    [ -x "$program" ] || { echo "${red}$program is missing: run make lesson-$((10#$n))${off}" >&2; return 1; }
    for role in $roles; do
        [ "$role" = server ] && continue
        : > "$tmp/$style-$role.out"; : > "$tmp/$style-$role.err"
        echo 124 > "$tmp/$style-$role.rc" # unless it ends
        if [ ! -x "$bin/$n-$style-$role" ]; then
            echo "${red}$bin/$n-$style-$role is missing: run make lesson-$((10#$n))${off}" >&2
            echo 127 > "$tmp/$style-$role.rc"
            continue
        fi
        printf -v clients '%s%q --port "$PORT" > %q 2> %q; echo $? > %q; ' "$clients" \
            "$bin/$n-$style-$role" "$tmp/$style-$role.out" "$tmp/$style-$role.err" "$tmp/$style-$role.rc"
    done
    "$course" serve -o "$tmp/$style-server.raw" -e "$tmp/$style-server.err" \
        -s "$tmp/$style-server.rc" -t 60 -c "${clients:-true}" -- "$program" --port 0 2> "$tmp/$style-serve.err"
    rc=$?
    if [ $rc -eq 3 ]; then
        sed "s/^/  /" "$tmp/$style-serve.err" >&2
        return 1
    fi
    cat "$tmp/$style-serve.err" >> "$tmp/$style-server.err"
    sed -i -n 1p "$tmp/$style-server.rc" # the server's status; the second line is the clients'
    tail -n +2 "$tmp/$style-server.raw" > "$tmp/$style-server.out"
    return 0
}

# One program's verdict, on the current line: LABEL ("event1", "event2
# server"), RUN (the files RUN.out, RUN.err, RUN.rc of its run), EXPECTED
# (its expected trace), PROGRAM (its path, for the diff's label). A
# mismatch or a failure also prints why, on stderr. Status 1 unless it
# matched.
judge() {
    local label=$1 run=$2 expected=$3 program=$4 rc style=${1%% *}
    rc=$(cat "$run.rc")
    if [ "$rc" -ne 0 ]; then
        printf '%s  ' "${red}$label: exited with status $rc${off}"
        sed "s/^/  $label stderr: /" "$run.err" >&2
        return 1
    elif [ ! -r "$expected" ]; then
        printf '%s  ' "${red}$label: no $expected to compare with${off}"
        return 1
    elif expected_for "$style" "$expected" | cmp -s - "$run.out"; then
        printf '%s  ' "${green}$label: matches ${expected##*/} ✓${off}"
    else
        printf '%s  ' "${red}$label: differs from ${expected##*/} ✗${off}"
        expected_for "$style" "$expected" |
            diff -u --label "expected ($label)" --label "$program" - "$run.out" | sed 's/^/    /' >&2
        return 1
    fi
}

# The verdicts of one role, on one line when that fits the terminal.
verdicts() { # label-suffix run-prefix expected program-prefix
    local style status=0 line=""
    for style in event1 event2; do
        line+=$(judge "$style$1" "$2$style${1/ /-}" "$3" "$4$style${1/ /-}") || status=1
        [ -n "$terminal_columns" ] && [ "$style" = event1 ] && [ ${#line} -gt $((terminal_columns / 2 + 10)) ] && line+=$'\n'
    done
    echo "$line"
    return $status
}

run_roles() { # dir n roles
    local dir=$1 n=$2 roles=$3 status=0 style role
    local tmp; tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"; trap - RETURN' RETURN # once: not again on the callers' returns

    echo "${bold}$(index_title "$dir")${off}  ($dir)"
    for style in event1 event2; do
        run_session "$n" "$style" "$roles" "$tmp" || return 1
    done
    local programs
    for role in $roles; do
        echo
        programs="$bin/$n-event1-$role, $bin/$n-event2-$role"
        # Too wide for the terminal: the two paths as the shell's braces.
        [ -n "$terminal_columns" ] && [ $((${#role} + 4 + ${#programs})) -gt "$terminal_columns" ] &&
            programs="$bin/$n-event{1,2}-$role"
        echo "${bold}$role${off}  ($programs)"
        show_pair "$tmp/event1-$role.out" "$tmp/event2-$role.out"
    done
    echo
    for role in $roles; do
        verdicts " $role" "$tmp/" "$dir/expected-$role.trace" "$bin/$n-" || status=1
    done
    return $status
}

run_lesson() {
    local dir n status=0 style roles
    dir=$(resolve "$1") || return 2
    n=${dir#lessons/}; n=${n%%-*}
    roles=$(roles_of "$dir")
    if [ -n "$roles" ]; then run_roles "$dir" "$n" "$roles"; return $?; fi
    local tmp; tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' RETURN

    echo "${bold}$(index_title "$dir")${off}  ($dir)"
    for style in event1 event2; do
        if [ ! -x "$bin/$n-$style" ]; then
            echo "${red}$bin/$n-$style is missing: run make lesson-$((10#$n))${off}" >&2
            return 1
        fi
        "$course" run "$bin/$n-$style" > "$tmp/$style.out" 2> "$tmp/$style.err"
        echo $? > "$tmp/$style.rc"
    done
    echo
    show_pair "$tmp/event1.out" "$tmp/event2.out"
    echo
    verdicts "" "$tmp/" "$dir/expected.trace" "$bin/$n-" || status=1
    return $status
}

# --- Blessing -----------------------------------------------------------------------

# Merge two variants' traces into an expected trace (stdout): lines both
# print once, style-only lines where diff puts them. Fails, saying why, if
# they differ on any other line.
merge_traces() { # event1-trace event2-trace
    local merged
    merged=$(diff --unchanged-line-format='%L' --old-line-format='<%L' --new-line-format='>%L' "$1" "$2")
    if grep -E '^<' <<<"$merged" | grep -q -v -E '^<event1( |$)' ||
       grep -E '^>' <<<"$merged" | grep -q -v -E '^>event2( |$)'; then
        echo "The variants disagree on lines that are not style-only; nothing written:" >&2
        diff -u "$1" "$2" >&2
        return 1
    fi
    [ -z "$merged" ] || sed -e 's/^[<>]//' <<<"$merged"
}

bless() {
    local dir n style role rc roles files=()
    dir=$(resolve "$1") || return 2
    n=${dir#lessons/}; n=${n%%-*}
    roles=$(roles_of "$dir")
    local tmp; tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"; trap - RETURN' RETURN
    for style in event1 event2; do
        if [ -n "$roles" ]; then
            run_session "$n" "$style" "$roles" "$tmp" || { echo "nothing written" >&2; return 1; }
        else
            [ -x "$bin/$n-$style" ] || { echo "$bin/$n-$style is missing: build it first" >&2; return 1; }
            "$course" run "$bin/$n-$style" > "$tmp/$style.out" 2> "$tmp/$style.err"
            echo $? > "$tmp/$style.rc"
        fi
        for role in ${roles:-""}; do
            rc=$(cat "$tmp/$style${role:+-$role}.rc")
            if [ "$rc" -ne 0 ]; then
                echo "$bin/$n-$style${role:+-$role} exited with status $rc; nothing written" >&2
                sed "s/^/  stderr: /" "$tmp/$style${role:+-$role}.err" >&2
                return 1
            fi
        done
    done
    for role in ${roles:-""}; do
        merge_traces "$tmp/event1${role:+-$role}.out" "$tmp/event2${role:+-$role}.out" \
            > "$tmp/expected${role:+-$role}.trace" || return 1
    done
    for role in ${roles:-""}; do
        cp "$tmp/expected${role:+-$role}.trace" "$dir/expected${role:+-$role}.trace"
        files+=("$dir/expected${role:+-$role}.trace")
    done
    echo "wrote ${files[*]}; read the diff before committing:"
    git --no-pager diff --stat -- "${files[@]}" 2>/dev/null
    git --no-pager diff -- "${files[@]}" 2>/dev/null
    return 0
}

case "${1:-}" in
    --list) list_lessons ;;
    --bless) need_tool; bless "${2:-}"; exit $? ;;
    --diff)
        dir=$(resolve "${2:-}") || exit 2
        for f in "$dir"/event1*.c; do
            g="$dir/event2${f##*/event1}"
            if [ -n "$terminal_columns" ] && [ -z "${NO_COLOR:-}" ]; then
                diff -u "$f" "$g" | sed -e "s/^-.*/$red&$off/" -e "s/^+.*/$green&$off/" -e "s/^@@.*/$cyan&$off/"
            else
                diff -u "$f" "$g"
            fi
        done
        exit 0 ;;
    -h|--help) sed -n '2,23s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) need_tool; run_lesson "${1:-}"; exit $? ;;
esac

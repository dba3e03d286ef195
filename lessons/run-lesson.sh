#!/usr/bin/env bash
# run-lesson.sh - what `make lesson-N`, `make lessons` and `make diff-N` run.
#
#   run-lesson.sh N          run lesson N's two variants (already built in
#                            $BUILD/bin), show their traces side by side and
#                            say whether each matches the lesson's expected.trace
#   run-lesson.sh --list     list the lessons with their titles
#   run-lesson.sh --diff N   show how the lesson's event1 and event2 sources differ
#   run-lesson.sh --bless N  rewrite the lesson's expected.trace from what the
#                            two variants print now, then show the change
#
# A lesson with several programs ("roles": event1-server.c, event1-client.c,
# event2-...) is run as a session per style: the server on port 0, each
# other role against the port it printed, then SIGTERM to the server, which
# must exit 0. Each role's trace is compared with expected-ROLE.trace; a
# server's first line, "listening on 127.0.0.1:PORT", is not part of it.
#
# Colour when standard output is a terminal and NO_COLOR is unset.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here" || exit 2
bin=${BUILD:-build}/bin

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
    bold=$'\e[1m' dim=$'\e[2m' red=$'\e[31m' green=$'\e[32m' yellow=$'\e[33m' cyan=$'\e[36m' off=$'\e[0m'
else
    bold='' dim='' red='' green='' yellow='' cyan='' off=''
fi

# shellcheck source=lessons/numbered.sh
. lessons/numbered.sh

list_lessons() { numbered_list lessons lesson; }

# Print the directory of lesson $1 ("2", "02"), or fail listing the lessons.
resolve() {
    numbered_find lessons "$1" && return 0
    {
        echo "There is no lesson '$1'. The lessons are:"
        list_lessons
    } >&2
    return 2
}

# The expected trace of one style: lines that belong to the other style only
# (first word event1 or event2) are dropped.
expected_for() { # style file
    local other=event2
    [ "$1" = event2 ] && other=event1
    grep -v -E "^$other( |\$)" "$2"
}

# Two traces side by side, aligned by diff: equal lines share a row, lines
# only one side has stand alone.
side_by_side() { # left right width
    diff --unchanged-line-format='=%L' --old-line-format='<%L' --new-line-format='>%L' "$1" "$2" |
    awk -v w="$3" -v bold="$bold" -v dim="$dim" -v red="$red" -v green="$green" \
        -v yellow="$yellow" -v cyan="$cyan" -v off="$off" '
    function paint(s) {
        if (s ~ /^event[12] /) return cyan s off
        if (s ~ /^[^ ]+ +active /) return yellow s off
        if (s ~ /^[^ ]+ +callback/) return green s off
        return s
    }
    function cell(s, mark,   shown) {
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

# --- Lessons with several programs (roles) ------------------------------------

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

server_pid=""
stop_server() { # signal: stop the running server (by its pid) and reap it
    [ -n "$server_pid" ] || return 0
    kill "-$1" "$server_pid" 2>/dev/null
    local i
    for ((i = 0; i < 200; i++)); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$server_pid" 2>/dev/null; then
        kill -KILL "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
        server_pid=""
        return 124
    fi
    wait "$server_pid"
    local rc=$?
    server_pid=""
    return $rc
}
trap 'stop_server KILL' EXIT

# One style's session: the server on port 0, then every other role with
# --port. Writes into $tmp: STYLE-ROLE.out (the trace; the server's without
# its first line), STYLE-ROLE.err, STYLE-ROLE.rc. Returns non-zero if the
# server could not be started.
run_session() { # dir n style roles tmp
    local dir=$1 n=$2 style=$3 roles=$4 tmp=$5 role program first port i rc
    local scrub; scrub=$(env | sed -n 's/^\(EVENT_[A-Z_]*\)=.*/-u \1/p')
    program="$bin/$n-$style-server"
    [ -x "$program" ] || { echo "${red}$program is missing: run make lesson-$((10#$n))${off}" >&2; return 1; }
    # libevent reads EVENT_* variables; the expected traces were made without them.
    env $scrub "$program" --port 0 >"$tmp/$style-server.raw" 2>"$tmp/$style-server.err" &
    server_pid=$!
    port=""
    for ((i = 0; i < 400; i++)); do # up to 20 s: valgrind or a busy machine
        first=$(head -n 1 "$tmp/$style-server.raw" 2>/dev/null)
        if [[ $first =~ ^listening\ on\ 127\.0\.0\.1:([0-9]+)$ ]]; then port=${BASH_REMATCH[1]}; break; fi
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.05
    done
    if [ -z "$port" ]; then
        stop_server KILL
        echo "${red}$program did not print \"listening on 127.0.0.1:PORT\"${off}" >&2
        sed "s/^/  $style server stderr: /" "$tmp/$style-server.err" >&2
        return 1
    fi
    for role in $roles; do
        [ "$role" = server ] && continue
        program="$bin/$n-$style-$role"
        if [ ! -x "$program" ]; then
            echo "${red}$program is missing: run make lesson-$((10#$n))${off}" >&2
            echo 127 > "$tmp/$style-$role.rc"; : > "$tmp/$style-$role.out"; : > "$tmp/$style-$role.err"
            continue
        fi
        env $scrub timeout 60 "$program" --port "$port" >"$tmp/$style-$role.out" 2>"$tmp/$style-$role.err"
        echo $? > "$tmp/$style-$role.rc"
    done
    stop_server TERM
    rc=$?
    [ $rc -eq 124 ] && echo "did not exit within 10 s of SIGTERM; killed" >> "$tmp/$style-server.err"
    echo $rc > "$tmp/$style-server.rc"
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

# The width of one column: the longest line of the files given. On a
# terminal, fit its width (cutting long lines with ~); in a pipe, keep
# whole lines.
column_width() {
    local f cols width=0
    for f in "$@"; do
        cols=$(awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }' "$f")
        [ "$cols" -gt "$width" ] && width=$cols
    done
    if [ -t 1 ]; then
        cols=${COLUMNS:-$(tput cols 2>/dev/null || echo 160)}
        [ "$width" -gt $(( (cols - 3) / 2 )) ] && width=$(( (cols - 3) / 2 ))
        [ "$width" -lt 20 ] && width=20
    fi
    echo "$width"
}

run_roles() { # dir n roles
    local dir=$1 n=$2 roles=$3 status=0 style role rc expected width
    local tmp; tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"; trap - RETURN' RETURN # once: not again on the callers' returns

    echo "${bold}$(numbered_title "$dir")${off}  ($dir)"
    for style in event1 event2; do
        run_session "$dir" "$n" "$style" "$roles" "$tmp" || return 1
    done
    for role in $roles; do
        echo
        echo "${bold}$role${off}  ($bin/$n-event1-$role, $bin/$n-event2-$role)"
        width=$(column_width "$tmp/event1-$role.out" "$tmp/event2-$role.out")
        side_by_side "$tmp/event1-$role.out" "$tmp/event2-$role.out" "$width"
    done
    echo
    for role in $roles; do
        for style in event1 event2; do
            judge "$style $role" "$tmp/$style-$role" "$dir/expected-$role.trace" "$bin/$n-$style-$role" || status=1
        done
        echo
    done
    return $status
}

run_lesson() {
    local dir n status=0 style out err rc width roles
    dir=$(resolve "$1") || return 2
    n=${dir#lessons/}; n=${n%%-*}
    roles=$(roles_of "$dir")
    if [ -n "$roles" ]; then run_roles "$dir" "$n" "$roles"; return $?; fi
    local expected="$dir/expected.trace"
    local tmp; tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' RETURN

    echo "${bold}$(numbered_title "$dir")${off}  ($dir)"
    for style in event1 event2; do
        out="$tmp/$style.out" err="$tmp/$style.err"
        if [ ! -x "$bin/$n-$style" ]; then
            echo "${red}$bin/$n-$style is missing: run make lesson-$((10#$n))${off}" >&2
            return 1
        fi
        # libevent reads EVENT_* variables (EVENT_NOEPOLL, ...); the expected
        # traces were made without them.
        env $(env | sed -n 's/^\(EVENT_[A-Z_]*\)=.*/-u \1/p') "$bin/$n-$style" >"$out" 2>"$err"
        rc=$?
        echo "$rc" > "$tmp/$style.rc"
    done

    width=$(column_width "$tmp/event1.out" "$tmp/event2.out")
    echo
    side_by_side "$tmp/event1.out" "$tmp/event2.out" "$width"
    echo

    for style in event1 event2; do
        judge "$style" "$tmp/$style" "$expected" "$bin/$n-$style" || status=1
    done
    echo
    return $status
}

# Write expected.trace from the two variants' output: lines both print once,
# style-only lines (event1 ... / event2 ...) in the place diff puts them. Any
# other difference means the variants disagree, and nothing is written.
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

bless_roles() { # dir n roles
    local dir=$1 n=$2 roles=$3 style role rc files=()
    local tmp; tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"; trap - RETURN' RETURN # once: not again on the callers' returns
    for style in event1 event2; do
        run_session "$dir" "$n" "$style" "$roles" "$tmp" || { echo "nothing written" >&2; return 1; }
        for role in $roles; do
            rc=$(cat "$tmp/$style-$role.rc")
            if [ "$rc" -ne 0 ]; then
                echo "$bin/$n-$style-$role exited with status $rc; nothing written" >&2
                sed "s/^/  stderr: /" "$tmp/$style-$role.err" >&2
                return 1
            fi
        done
    done
    for role in $roles; do
        merge_traces "$tmp/event1-$role.out" "$tmp/event2-$role.out" > "$tmp/expected-$role.trace" || return 1
    done
    for role in $roles; do
        cp "$tmp/expected-$role.trace" "$dir/expected-$role.trace"
        files+=("$dir/expected-$role.trace")
    done
    echo "wrote ${files[*]}; read the diff before committing:"
    git --no-pager diff --stat -- "${files[@]}" 2>/dev/null
    git --no-pager diff -- "${files[@]}" 2>/dev/null
    return 0
}

bless() {
    local dir n tmp style roles
    dir=$(resolve "$1") || return 2
    n=${dir#lessons/}; n=${n%%-*}
    roles=$(roles_of "$dir")
    if [ -n "$roles" ]; then bless_roles "$dir" "$n" "$roles"; return $?; fi
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' RETURN
    for style in event1 event2; do
        [ -x "$bin/$n-$style" ] || { echo "$bin/$n-$style is missing: build it first" >&2; return 1; }
        env $(env | sed -n 's/^\(EVENT_[A-Z_]*\)=.*/-u \1/p') "$bin/$n-$style" > "$tmp/$style" ||
            { echo "$bin/$n-$style failed; nothing written" >&2; return 1; }
    done
    diff --unchanged-line-format='%L' --old-line-format='<%L' --new-line-format='>%L' \
        "$tmp/event1" "$tmp/event2" > "$tmp/merged"
    if grep -E '^<' "$tmp/merged" | grep -q -v -E '^<event1( |$)' ||
       grep -E '^>' "$tmp/merged" | grep -q -v -E '^>event2( |$)'; then
        echo "The variants disagree on lines that are not style-only; nothing written:" >&2
        diff -u "$tmp/event1" "$tmp/event2" >&2
        return 1
    fi
    sed -e 's/^[<>]//' "$tmp/merged" > "$dir/expected.trace"
    echo "wrote $dir/expected.trace; read its diff before committing:"
    git --no-pager diff --stat -- "$dir/expected.trace" 2>/dev/null
    git --no-pager diff -- "$dir/expected.trace" 2>/dev/null
    return 0
}

case "${1:-}" in
    --list) list_lessons ;;
    --bless) bless "${2:-}"; exit $? ;;
    --diff)
        dir=$(resolve "${2:-}") || exit 2
        for f in "$dir"/event1*.c; do
            g="$dir/event2${f##*/event1}"
            if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
                diff -u "$f" "$g" | sed -e "s/^-.*/$red&$off/" -e "s/^+.*/$green&$off/" -e "s/^@@.*/$cyan&$off/"
            else
                diff -u "$f" "$g"
            fi
        done
        exit 0 ;;
    -h|--help) sed -n '2,19s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) run_lesson "$1"; exit $? ;;
esac

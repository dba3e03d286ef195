#!/usr/bin/env bash
# memcheck-solutions.sh PROGRAM... - the exercises' half of `make memcheck`:
# each exercise's solution under valgrind, used the way its README says. A
# program passes with 0 errors and 0 bytes definitely or indirectly lost in
# every process it ran as, its exit status 0 (or what its README asks), and
# what it did right. PROGRAM is BUILD/memcheck/exercises/NN-slug/NAME, the
# solution exercises/NN-slug/solution/NAME.c as the grader builds it (make
# memcheck builds them); its output and valgrind's logs go next to it.
#
#   event1, event2   runs alone; its trace must equal the exercise's
#                    tests/expected.trace where there is one
#   *-client         runs against lesson 10's event2 server (run normally,
#                    from BUILD/bin), which is then stopped by pid: the
#                    client must print its reply and see the server close;
#                    then once more with nobody listening: status 1
#   *-server         started with --port 0 and driven with nc and bash's
#                    /dev/tcp by the function drive_NN below (one per
#                    exercise), then stopped with SIGTERM, with a client
#                    still connected; its status must be 0
#
# With no PROGRAM and no exercises/*/solution/ (a release: make release
# leaves the solutions out), it says so and succeeds.
# shellcheck disable=SC2086 # env $scrub: $scrub is a list of -u options
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here" || exit 2
if [ $# -eq 0 ]; then
    if compgen -G 'exercises/[0-9][0-9]-*/solution' >/dev/null; then
        echo "usage: exercises/memcheck-solutions.sh BUILD/memcheck/exercises/NN-slug/PROGRAM... (make memcheck)" >&2
        exit 2
    fi
    echo "memcheck: no exercise solutions here (a release has none); skipped"
    exit 0
fi
# shellcheck source=tests/memcheck-lib.sh
. tests/memcheck-lib.sh
name_width=31 # 03-fix-tcp-client/event2-client
why=""        # what a run or a drive_NN got wrong, for the verdict

# The verdict on the runs of one program (logs PREFIX.*.log): valgrind's
# findings first, then the first run's status, then what went wrong.
verdict() { # name status prefix how-it-was-used
    local log
    if log=$(dirty_log "$3"); then
        fail_with "$1" "valgrind found errors or lost bytes (status $2); see $log" "$log"
    elif [ "$2" -eq 124 ]; then
        fail_with "$1" "did not end in time under valgrind; see $3.stderr" "$3.stderr"
    elif [ "$2" -ne 0 ]; then
        fail_with "$1" "ended with status $2 under valgrind; see $3.stderr" "$3.stderr"
    elif [ -n "$why" ]; then
        fail_with "$1" "clean, but $why"
    else
        pass_with "$1" "0 errors, 0 bytes lost ($4)"
    fi
}

# A program that runs alone (exercises 01, 02).
memcheck_alone() { # program name exercise-dir
    local program=$1 expected=$3/tests/expected.trace rc
    rm -f "$program".*.log
    env $scrub timeout 120 valgrind "${valgrind_options[@]}" --log-file="$program.%p.log" \
        "$program" > "$program.out" 2> "$program.stderr"
    rc=$?
    why=""
    if [ -r "$expected" ] && ! cmp -s "$expected" "$program.out"; then
        why="its trace under valgrind ($program.out) differs from $expected"
    fi
    verdict "$2" $rc "$program" "$([ -r "$expected" ] && echo "its trace is tests/expected.trace" || echo "run alone")"
}

# Exercise 03's client against a server of the kind its tests use: lesson
# 10's answers each line with "hello...ack." and closes the connection when
# it is stopped (its first line says its port).
memcheck_client() { # program name
    local program=$1 server=${BUILD:-build}/bin/10-event2-server pid port client rc
    [ -x "$server" ] || { fail_with "$2" "needs $server (make memcheck builds it)"; return; }
    rm -f "$program.server.out"
    env $scrub "$server" --port 0 > "$program.server.out" 2>&1 &
    pid=$!; background+=("$pid")
    if ! port=$(port_of "$pid" "$program.server.out"); then
        stop "$pid"; fail_with "$2" "its server $server did not start" "$program.server.out"; return
    fi
    rm -f "$program".*.log "$program.out" # not an earlier run's reply
    env $scrub valgrind "${valgrind_options[@]}" --log-file="$program.%p.log" \
        "$program" --port "$port" > "$program.out" 2> "$program.stderr" &
    client=$!; background+=("$client")
    # The reply printed: the server has said all it will; stopping it
    # closes the connection, which the client must see as the end.
    wait_for_line "$client" "$program.out" 'client   reply      text=hello...ack.'
    stop "$pid"
    await "$client"; rc=$?
    why=""
    if ! printf '%s\n' 'client   connected' 'client   sent       bytes=6' \
            'client   reply      text=hello...ack.' 'client   closed     reason=eof' | cmp -s - "$program.out"; then
        why="its trace against $server ($program.out) is not the four lines of the README"
    else
        refused "$program" "$port"
    fi
    verdict "$2" $rc "$program" "against 10-event2-server, stopped by pid; then with nobody listening"
}

# Wait (up to 60 s) for line $3 in file $2 written by pid $1.
wait_for_line() { # pid file line
    local i
    for ((i = 0; i < 1200; i++)); do
        grep -qxF -- "$3" "$2" 2>/dev/null && return 0
        kill -0 "$1" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# The client again, on the port of the server just stopped: nobody listens
# there now. It must say why on stderr and exit 1.
refused() { # program port
    local rc
    env $scrub timeout 120 valgrind "${valgrind_options[@]}" --log-file="$1.refused.%p.log" \
        "$1" --port "$2" > /dev/null 2> "$1.refused.stderr"
    rc=$?
    if [ $rc -ne 1 ] || [ ! -s "$1.refused.stderr" ]; then
        why="with nobody listening it exited with status $rc (1 wanted) and said: $(head -c 200 "$1.refused.stderr")"
    fi
}

# A server (exercises 04 to 06): drive_NN talks to it; one connection is
# still open (file descriptor 3) when SIGTERM comes.
memcheck_server() { # program name number
    local program=$1 drive=drive_$3 pid port rc options=()
    declare -F "$drive" >/dev/null || { fail_with "$2" "nothing to drive it with: write $drive in $0"; return; }
    command -v nc >/dev/null || { fail_with "$2" "nc not found (make deps)"; return; }
    read -ra options <<< "$(server_options "$3")"
    rm -f "$program".*.log "$program.out"
    env $scrub valgrind "${valgrind_options[@]}" --log-file="$program.%p.log" \
        "$program" --port 0 "${options[@]}" > "$program.out" 2> "$program.stderr" &
    pid=$!; background+=("$pid")
    if ! port=$(port_of "$pid" "$program.out"); then
        stop "$pid"; fail_with "$2" "did not print its listening line; see $program.stderr" "$program.stderr"; return
    fi
    why=""
    "$drive" "$port" "$program"
    stop "$pid"; rc=$?
    exec 3>&-
    verdict "$2" $rc "$program" "$(drive_summary "$3"); SIGTERM with a client connected"
}

# What a server is started with besides --port 0, and what its drive_NN
# does, for the verdict.
server_options() { # number
    case $1 in
        06) echo --idle-ms 800 ;;
    esac
}

drive_summary() { # number
    case $1 in
        04) echo "300 KB of binary echoed" ;;
        05) echo "PING, ECHO, an unknown command, a long line, QUIT" ;;
        06) echo "a silent client dropped, a talking one served" ;;
    esac
}

# Open file descriptor 3 to port $1, send line $2, read one line: it must
# be $3. The connection stays open; memcheck_server closes it after SIGTERM.
talk_and_stay() { # port line reply
    local reply=""
    exec 3<>"/dev/tcp/127.0.0.1/$1" || { why="could not connect to it"; return 1; }
    printf '%s\n' "$2" >&3
    read -r -t 30 reply <&3
    [ "$reply" = "$3" ] || { why="on a connection left open, \"$2\" got \"$reply\", not \"$3\""; return 1; }
}

# Exercise 04: 300 KB of random bytes, NUL and all, echoed whole; the
# client half-closes (nc -N) and the server closes after the echo.
drive_04() { # port program
    head -c 307200 /dev/urandom > "$2.sent"
    if ! timeout 60 nc -N 127.0.0.1 "$1" < "$2.sent" > "$2.echo"; then
        why="nc sending 300 KB to it failed or timed out"; return
    fi
    cmp -s "$2.sent" "$2.echo" || { why="the echo of 300 KB ($2.echo) differs from what was sent ($2.sent)"; return; }
    talk_and_stay "$1" "still here" "still here"
}

# Exercise 05: each command once (CRLF on the first), then a line of 100
# bytes with no end; each connection is closed by the server.
drive_05() { # port
    local got
    got=$(printf 'PING\r\nECHO hello there\nHELLO\n\nQUIT\n' | timeout 60 nc 127.0.0.1 "$1")
    if [ "$got" != $'PONG\nhello there\nERR unknown command\nBYE' ]; then
        why="PING, ECHO hello there, HELLO, an empty line and QUIT got \"${got//$'\n'/\\n}\""; return
    fi
    too_long "$1" || return
    talk_and_stay "$1" PING PONG
}

# 100 bytes and no end of line: "ERR line too long", then the end. Read
# with bash, not nc: the server closes with bytes of ours unread, so the
# end is a reset, and nc, seeing it, would drop the answer before it
# read it.
too_long() { # port
    local reply="" rest="" status
    exec 4<>"/dev/tcp/127.0.0.1/$1" || { why="could not connect to it"; return 1; }
    printf '%0100d' 0 >&4
    read -r -t 30 reply <&4
    read -r -t 30 rest <&4 2>/dev/null; status=$? # a reset: "read error"
    exec 4>&-
    if [ "$reply" != "ERR line too long" ] || [ -n "$rest" ] || [ $status -gt 128 ]; then
        why="100 bytes without an end of line got \"$reply\", then \"$rest\" and $([ $status -gt 128 ] && echo "no close within 30 s" || echo "the close")"
        return 1
    fi
}

# Exercise 06 (--idle-ms 800): a client that says nothing is dropped
# (nc -d ends when the server closes), not before 800 ms, while another,
# talking every 200 ms, is served all along and after.
drive_06() { # port program
    local silent i reply
    timeout 10 nc -d 127.0.0.1 "$1" > "$2.silent" &
    silent=$!; background+=("$silent")
    talk_and_stay "$1" "line 0" "line 0" || return
    for i in 1 2 3 4 5 6; do
        sleep 0.2
        printf 'line %d\n' "$i" >&3
        reply=""; read -r -t 30 reply <&3
        [ "$reply" = "line $i" ] || { why="a talking client was not served: \"line $i\" got \"$reply\""; return; }
        if [ $i -eq 2 ] && ! kill -0 "$silent" 2>/dev/null; then
            why="a silent client was dropped (or could not connect) before 800 ms of silence"; return
        fi
    done
    if ! await "$silent" || [ -s "$2.silent" ]; then
        why="a silent client was not dropped within 10 s, or was sent bytes"; return
    fi
    printf 'still here\n' >&3
    reply=""; read -r -t 30 reply <&3
    [ "$reply" = "still here" ] || why="after the silent client was dropped, \"still here\" got \"$reply\""
}

for program in "$@"; do
    slug=$(basename "$(dirname "$program")") # 04-echo-server
    name=$slug/$(basename "$program")        # 04-echo-server/event2-server
    total=$((total + 1))
    if [ ! -d "exercises/$slug" ]; then
        fail_with "$name" "is not in the directory of an exercise (exercises/$slug/ does not exist)"; continue
    fi
    [ -x "$program" ] || { fail_with "$name" "is not built (make memcheck builds it)"; continue; }
    case ${program##*/} in
        event1 | event2) memcheck_alone "$program" "$name" "exercises/$slug" ;;
        *-client) memcheck_client "$program" "$name" ;;
        *-server) memcheck_server "$program" "$name" "${slug%%-*}" ;;
        *) fail_with "$name" "is neither event1, event2, *-client nor *-server: no way to run it" ;;
    esac
done
echo "memcheck: $((total - failed))/$total exercise solutions clean"
[ $failed -eq 0 ]

#!/usr/bin/env bash
# memcheck.sh PROGRAM... - what `make memcheck` runs: each lesson program under
# valgrind. A program passes with 0 errors, 0 bytes definitely or indirectly
# lost, and, since valgrind slows everything down, the trace still equal to
# its lesson's expected.trace. Reports go to build/memcheck/.
#
# Programs with a role (NN-STYLE-ROLE, from lessons/NN-slug/STYLE-ROLE.c):
#   - a server runs twice under valgrind, each time started with --port 0
#     and stopped with SIGTERM, which it must survive with status 0: once
#     for the lesson's session (its clients, run normally; its trace must
#     equal expected-server.trace), once under a short load: 1 MB through
#     nc, four clients at once, and two connections still open when
#     SIGTERM comes (one idle, one whose reply piles up unread);
#   - any other role runs under valgrind against its style's server (run
#     normally, from the same directory); its trace must equal
#     expected-ROLE.trace.
#
# The exercises' solutions are the other half of `make memcheck`:
# exercises/memcheck-solutions.sh. What both use is tests/memcheck-lib.sh.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here" || exit 2
# shellcheck source=tests/memcheck-lib.sh
. tests/memcheck-lib.sh
logs=${BUILD:-build}/memcheck
mkdir -p "$logs"

expected_of() { # number role: the expected trace file of a role
    ls -d lessons/"$1"-*/expected-"$2".trace 2>/dev/null | head -n1
}

# Compare trace file $2 (style $1) with expected file $3; say so if it differs.
trace_matches() {
    local other; other=$([ "$1" = event1 ] && echo event2 || echo event1)
    [ -z "$3" ] || grep -v -E "^$other( |\$)" "$3" | cmp -s - "$2"
}

# The other roles of a lesson's style, to run against its server.
client_roles() { # dir-of-programs number style
    local p role
    for p in "$1/$2-$3"-*; do
        [ -x "$p" ] || continue
        role=${p##*/$2-$3-}
        [ "$role" = server ] || echo "$role"
    done
}

memcheck_server() { # program name number style
    local program=$1 name=$2 number=$3 style=$4 dir pid port rc role ok=1
    dir=$(dirname "$program")
    # 1. The lesson's session.
    rm -f "$logs/$name.raw" # not an earlier run's port
    env $scrub valgrind "${valgrind_options[@]}" --log-file="$logs/$name.log" \
        "$program" --port 0 > "$logs/$name.raw" 2> "$logs/$name.stderr" &
    pid=$!; background+=("$pid")
    if ! port=$(port_of "$pid" "$logs/$name.raw"); then
        stop "$pid"; fail_with "$name" "did not print its listening line; see $logs/$name.stderr" "$logs/$name.stderr"; return
    fi
    for role in $(client_roles "$dir" "$number" "$style"); do
        env $scrub timeout 120 "$dir/$number-$style-$role" --port "$port" > "$logs/$name.$role.out" 2>&1 ||
            { ok=0; fail_with "$name" "its client $number-$style-$role failed against it" "$logs/$name.$role.out"; }
    done
    stop "$pid"; rc=$?
    tail -n +2 "$logs/$name.raw" > "$logs/$name.trace"
    [ $ok -eq 1 ] || { stop "$pid"; return; }
    if [ $rc -ne 0 ]; then
        fail_with "$name" "valgrind or the server failed after SIGTERM (status $rc); see $logs/$name.log" "$logs/$name.log"; return
    fi
    if ! trace_matches "$style" "$logs/$name.trace" "$(expected_of "$number" server)"; then
        fail_with "$name" "clean, but its trace under valgrind differs from $(expected_of "$number" server)"; return
    fi

    # 2. A short load, and clients still connected at SIGTERM.
    command -v nc >/dev/null || { fail_with "$name" "nc not found (make deps)"; return; }
    rm -f "$logs/$name.load.raw"
    env $scrub valgrind "${valgrind_options[@]}" --log-file="$logs/$name.load.log" \
        "$program" --port 0 > "$logs/$name.load.raw" 2> "$logs/$name.load.stderr" &
    pid=$!; background+=("$pid")
    if ! port=$(port_of "$pid" "$logs/$name.load.raw"); then
        stop "$pid"; fail_with "$name" "did not start for the load; see $logs/$name.load.stderr" "$logs/$name.load.stderr"; return
    fi
    head -c 1048576 /dev/urandom | timeout 120 nc -N 127.0.0.1 "$port" > /dev/null
    local clients=() c
    for c in 1 2 3 4; do
        for role in $(client_roles "$dir" "$number" "$style"); do
            env $scrub timeout 120 "$dir/$number-$style-$role" --port "$port" > /dev/null 2>&1 &
            clients+=($!); background+=($!)
        done
    done
    for c in "${clients[@]}"; do wait "$c" || ok=0; done
    exec 3<>"/dev/tcp/127.0.0.1/$port" 4<>"/dev/tcp/127.0.0.1/$port"
    (yes | head -c 8388608 >&4) 2>/dev/null &
    local writer=$!; background+=("$writer")
    exec 4>&-
    # Answered: so the two connections before it were accepted.
    for role in $(client_roles "$dir" "$number" "$style"); do
        env $scrub timeout 120 "$dir/$number-$style-$role" --port "$port" > /dev/null 2>&1 || ok=0
    done
    stop "$pid"; rc=$?
    exec 3>&-
    for ((c = 0; c < 200; c++)); do kill -0 "$writer" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$writer" 2>/dev/null; wait "$writer" 2>/dev/null
    if [ $ok -ne 1 ]; then
        fail_with "$name" "a client failed during the load"
    elif [ $rc -ne 0 ]; then
        fail_with "$name" "under load: valgrind or the server failed after SIGTERM (status $rc); see $logs/$name.load.log" "$logs/$name.load.log"
    else
        pass_with "$name" "0 errors, 0 bytes lost (its session, then a load; both stopped by SIGTERM)"
    fi
}

memcheck_client() { # program name number style role
    local program=$1 name=$2 number=$3 style=$4 role=$5 server pid port rc
    server="$(dirname "$program")/$number-$style-server"
    [ -x "$server" ] || { fail_with "$name" "needs $server, which is not built"; return; }
    rm -f "$logs/$name.server.raw"
    env $scrub "$server" --port 0 > "$logs/$name.server.raw" 2>&1 &
    pid=$!; background+=("$pid")
    if ! port=$(port_of "$pid" "$logs/$name.server.raw"); then
        stop "$pid"; fail_with "$name" "its server $server did not start" "$logs/$name.server.raw"; return
    fi
    env $scrub valgrind "${valgrind_options[@]}" --log-file="$logs/$name.log" \
        "$program" --port "$port" > "$logs/$name.trace" 2> "$logs/$name.stderr"
    rc=$?
    stop "$pid"
    if [ $rc -ne 0 ]; then
        fail_with "$name" "valgrind or the program failed (status $rc); see $logs/$name.log" "$logs/$name.log"
    elif ! trace_matches "$style" "$logs/$name.trace" "$(expected_of "$number" "$role")"; then
        fail_with "$name" "clean, but its trace under valgrind differs from $(expected_of "$number" "$role")"
    else
        pass_with "$name" "0 errors, 0 bytes lost (against $number-$style-server)"
    fi
}

failed=0 total=0
for program in "$@"; do
    name=$(basename "$program")          # 02-event1
    number=${name%%-*}
    style=${name#*-}; style=${style%%-*} # event1
    other=$([ "$style" = event1 ] && echo event2 || echo event1)
    total=$((total + 1))
    role=${name#"$number-$style"}; role=${role#-} # 09-event1-server: server
    if [ "$role" = server ]; then memcheck_server "$program" "$name" "$number" "$style"; continue; fi
    if [ -n "$role" ]; then memcheck_client "$program" "$name" "$number" "$style" "$role"; continue; fi
    # One log per process (%p): valgrind follows fork(), and lesson 11's
    # children must be as clean as their parents.
    rm -f "$logs/$name".*.log
    env $scrub valgrind "${valgrind_options[@]}" --log-file="$logs/$name.%p.log" \
        "$program" > "$logs/$name.trace" 2>"$logs/$name.stderr"
    rc=$?
    log=$(dirty_log "$logs/$name") || log=$(ls "$logs/$name".*.log | head -n 1)
    [ -s "$log" ] && [ $rc -eq 0 ] && rc=99
    expected=$(ls -d lessons/"$number"-*/expected.trace 2>/dev/null | head -n1)
    if [ $rc -ne 0 ]; then
        fail_with "$name" "valgrind or the program failed (status $rc); see $log" "$log"
    elif [ -n "$expected" ] && ! grep -v -E "^$other( |\$)" "$expected" | cmp -s - "$logs/$name.trace"; then
        fail_with "$name" "clean, but its trace under valgrind differs from $expected"
    else
        pass_with "$name" "0 errors, 0 bytes lost"
    fi
done
echo "memcheck: $((total - failed))/$total programs clean"
[ $failed -eq 0 ]

#!/usr/bin/env bash
# memcheck-solutions.sh PROGRAM... - the exercises' half of `make memcheck`:
# each exercise's solution under valgrind, used the way its README says. A
# program passes with 0 errors and 0 bytes definitely or indirectly lost in
# every process it ran as, its exit status 0 (or what its README asks), and
# what it did right. PROGRAM is BUILD/memcheck/exercises/NN-slug/NAME, the
# solution exercises/NN-slug/solution/NAME.c as the grader builds it (make
# memcheck builds them); its output and valgrind's logs go next to it.
#
# How a solution is used is the exercise's own business: its
# exercises/NN-slug/memcheck.sh, sourced here, defines
#
#   memcheck_use      one line for the verdict: how the program was used
#   memcheck_run P    run program P under valgrind (with the helpers below
#                     and those of tests/memcheck-lib.sh) and return the
#                     status of that run; write what it did wrong, if
#                     anything, to the file $why
#
# Helpers for it: memcheck_alone, memcheck_against_server,
# memcheck_as_server, drive_command and hold_open (below).
#
# With no PROGRAM and no exercises/*/solution/ (a release: make release
# leaves the solutions out), it says so and succeeds.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here" || exit 2
if [ $# -eq 0 ]; then
    if compgen -G 'exercises/[0-9][0-9]-*/solution' >/dev/null; then
        echo "usage: tests/memcheck-solutions.sh BUILD/memcheck/exercises/NN-slug/PROGRAM... (make memcheck)" >&2
        exit 2
    fi
    echo "memcheck: no exercise solutions here (a release has none); skipped"
    exit 0
fi
# shellcheck source=tests/memcheck-lib.sh
. tests/memcheck-lib.sh
name_width=31 # 03-fix-tcp-client/event2-client

# --- Helpers for exercises/NN-slug/memcheck.sh ----------------------------------------

# Run P alone under valgrind; its standard output must equal the file
# EXPECTED (when given).
memcheck_alone() { # program [expected]
    local rc
    rm -f "$1".*.log
    timeout 120 "$course" run valgrind "${valgrind_options[@]}" --log-file="$1.%p.log" "$1" \
        > "$1.out" 2> "$1.stderr"
    rc=$?
    if [ -n "${2:-}" ] && ! cmp -s "$2" "$1.out"; then
        echo "its trace under valgrind ($1.out) differs from $2" > "$why"
    fi
    return $rc
}

# Run COMMAND (a shell command; $PROGRAM is P under valgrind, quoted,
# $PORT the server's) against SERVER ARG... --port 0, run normally and
# stopped by SIGTERM once COMMAND ends. Returns COMMAND's status.
memcheck_against_server() { # program command server [arg...]
    local program=$1 command=$2 rc valgrind
    shift 2
    rm -f "$program".*.log
    valgrind=$(printf '%q ' "$course" run valgrind "${valgrind_options[@]}" "--log-file=$program.%p.log" \
        "$program")
    PROGRAM=$valgrind "$course" serve -o "$program.server.out" -e "$program.server.err" \
        -s "$program.server.status" -t 300 -c "$command" -- "$@" --port 0 2> "$program.serve"
    rc=$?
    if [ $rc -eq 3 ]; then
        echo "its server $1 did not start: $(head -c 300 "$program.serve")" > "$why"
    fi
    return "$(sed -n 2p "$program.server.status" 2>/dev/null || echo $rc)"
}

# Serve P ARG... --port 0 under valgrind, run the shell command DRIVE
# against it ($PORT; it writes what went wrong to $why and fails), then
# SIGTERM it. Returns the server's status after SIGTERM.
memcheck_as_server() { # program drive [arg...]
    local program=$1 drive=$2
    shift 2
    command -v nc >/dev/null || { echo "nc not found (make deps)" >&2; return 2; }
    serve_under_valgrind "$program" "$drive" "$program" "$@"
    if [ "$command_status" -eq 3 ]; then
        echo "did not print its listening line: $(head -c 300 "$program.serve")" > "$why"
    elif [ "$command_status" -ne 0 ] && [ ! -s "$why" ]; then
        echo "its drive failed (status $command_status) and did not say why" > "$why"
    fi
    return "$server_status"
}

# A shell command for memcheck_as_server: the functions named (defined by
# the exercise's memcheck.sh) and hold_open, then a call of the first.
drive_command() { # function...
    echo "$(declare -f "$@" hold_open); $1"
}

# For a drive: open a connection to $PORT, send LINE, read one line: it
# must be REPLY. The connection stays open (a background process holds
# it) until course serve has stopped the server: a client still connected
# at SIGTERM.
hold_open() { # line reply
    local reply=""
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" || { echo "could not connect to it" > "$why"; return 1; }
    printf '%s\n' "$1" >&3
    read -r -t 30 reply <&3
    [ "$reply" = "$2" ] || { echo "on a connection left open, \"$1\" got \"$reply\", not \"$2\"" > "$why"; return 1; }
    sleep 600 &
    exec 3>&-
}

# --- The verdict ---------------------------------------------------------------------------

# valgrind's findings first, then the run's status, then what went wrong.
verdict() { # name status prefix how-it-was-used
    local log
    if log=$(dirty_log "$3"); then
        fail_with "$1" "valgrind found errors or lost bytes (status $2); see $log" "$log"
    elif [ "$2" -eq 124 ]; then
        fail_with "$1" "did not end in time under valgrind; see $3.stderr" "$3.stderr"
    elif [ "$2" -ne 0 ]; then
        fail_with "$1" "ended with status $2 under valgrind; see $3.stderr" "$3.stderr"
    elif [ -s "$why" ]; then
        fail_with "$1" "clean, but $(head -n 1 "$why")"
    else
        pass_with "$1" "0 errors, 0 bytes lost ($4)"
    fi
}

for program in "$@"; do
    slug=$(basename "$(dirname "$program")") # 04-echo-server
    name=$slug/$(basename "$program")        # 04-echo-server/event2-server
    total=$((total + 1))
    if [ ! -r "exercises/$slug/memcheck.sh" ]; then
        fail_with "$name" "exercises/$slug/memcheck.sh does not say how to run it"; continue
    fi
    [ -x "$program" ] || { fail_with "$name" "is not built (make memcheck builds it)"; continue; }
    why=$program.why
    export why
    : > "$why"
    (
        unset -f memcheck_run; memcheck_use="" failed=0
        # shellcheck source=/dev/null
        . "exercises/$slug/memcheck.sh"
        memcheck_run "$program"
        status=$?
        verdict "$name" "$status" "$program" "$memcheck_use"
        [ $failed -eq 0 ]
    ) || failed=$((failed + 1))
done
echo "memcheck: $((total - failed))/$total exercise solutions clean"
[ $failed -eq 0 ]

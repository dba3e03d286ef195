# memcheck-lib.sh - what tests/memcheck.sh (the lessons' programs) and
# exercises/memcheck-solutions.sh (the exercises' solutions) share, sourced
# from the top of the course tree: valgrind and its options, the processes
# started in the background (killed by pid if we stop early), a server's
# port, stopping a process, the per-process logs and the ✓/✗ lines.
# shellcheck shell=bash disable=SC2034 # scrub and valgrind_options are for the scripts that source this

command -v valgrind >/dev/null || { echo "memcheck: valgrind not found (make deps)" >&2; exit 2; }

scrub=$(env | sed -n 's/^\(EVENT_[A-Z_]*\)=.*/-u \1/p')
# valgrind as for every program, plus --log-file=...; a simple command (no
# function), so that "... &" gives valgrind's own pid to signal.
# shellcheck disable=SC2054 # the commas are inside option values
valgrind_options=(--quiet --error-exitcode=99 --leak-check=full
    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect)

# Processes started in the background, killed by pid if we stop early.
background=()
# shellcheck disable=SC2154 # p is the loop's own
trap 'for p in "${background[@]}"; do kill -KILL "$p" 2>/dev/null; done' EXIT

failed=0 total=0
name_width=22 # the column of program names in the ✓/✗ lines

# Wait (up to 60 s: valgrind starts slowly) for "listening on 127.0.0.1:PORT"
# as the first line of file $2 written by pid $1; print PORT. Remove the
# file before starting the program: a slow start would leave the port of
# an earlier run in it to read.
port_of() {
    local pid=$1 file=$2 i first
    for ((i = 0; i < 1200; i++)); do
        first=$(head -n 1 "$file" 2>/dev/null)
        if [[ $first =~ ^listening\ on\ 127\.0\.0\.1:([0-9]+)$ ]]; then echo "${BASH_REMATCH[1]}"; return 0; fi
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# Wait up to 60 s for pid $1 to end; return its status (124: it did not,
# and was killed).
await() {
    local pid=$1 i
    for ((i = 0; i < 1200; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; wait "$pid" 2>/dev/null; return 124; fi
    wait "$pid"
}

# SIGTERM to pid $1; wait up to 60 s; return its status (124: killed).
stop() {
    kill -TERM "$1" 2>/dev/null
    await "$1"
}

# The logs of one program's runs, one per process (PREFIX.*.log, from
# --log-file=PREFIX.%p.log: valgrind follows fork()). With --quiet a clean
# process leaves an empty log: print the first that is not, or fail.
dirty_log() { # prefix
    local log
    for log in "$1".*.log; do
        [ -s "$log" ] && { echo "$log"; return 0; }
    done
    return 1
}

fail_with() { # name message [file to show]
    printf '  ✗ %-*s %s\n' "$name_width" "$1" "$2"
    [ -n "${3:-}" ] && [ -r "$3" ] && sed 's/^/      /' "$3" | head -30
    failed=$((failed + 1))
}

pass_with() { # name message
    printf '  ✓ %-*s %s\n' "$name_width" "$1" "$2"
}

# memcheck-lib.sh - what tests/memcheck.sh (the lessons' programs) and
# tests/memcheck-solutions.sh (the exercises' solutions) share, sourced
# from the top of the course tree: valgrind and its options, the per-process
# logs, and the ✓/✗ lines. Servers are run by `build/bin/course serve` (the
# course's one way of starting a server on port 0 and stopping it), programs
# alone by `course run`: both scrub EVENT_* as the expected traces were made.
# shellcheck shell=bash disable=SC2034 # valgrind_options and course are for the scripts that source this

command -v valgrind >/dev/null || { echo "memcheck: valgrind not found (make deps)" >&2; exit 2; }
course=${BUILD:-build}/bin/course
[ -x "$course" ] || { echo "memcheck: $course is missing: run make memcheck" >&2; exit 2; }

# valgrind as for every program, plus --log-file=PREFIX.%p.log: one log per
# process, since valgrind follows fork() (lesson 12's children must be as
# clean as their parents).
# shellcheck disable=SC2054 # the commas are inside option values
valgrind_options=(--quiet --error-exitcode=99 --leak-check=full
    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect)

# valgrind caps the program it runs at the soft limit on open descriptors
# (1024 on Debian): raise it to the hard limit, as a program that needs
# more would itself.
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true

failed=0 total=0
name_width=22 # the column of program names in the ✓/✗ lines

# The logs of one program's runs (PREFIX.*.log). With --quiet a clean
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

# Run a program under valgrind, logs PREFIX.PID.log (old ones removed
# first), standard output and error where the caller redirects them.
under_valgrind() { # prefix program [arg...]
    local prefix=$1
    shift
    rm -f "$prefix".*.log
    "$course" run valgrind "${valgrind_options[@]}" --log-file="$prefix.%p.log" "$@"
}

# Serve PROGRAM ARG... --port 0 under valgrind (logs PREFIX.PID.log, its
# stdout PREFIX.raw, its stderr PREFIX.stderr; what course serve says,
# PREFIX.serve), run COMMAND against it
# ($PORT), then SIGTERM it. Sets command_status (3: the server never
# printed its listening line) and server_status (its exit status after
# SIGTERM; 124: it did not exit within 60 s).
serve_under_valgrind() { # prefix command program [arg...]
    local prefix=$1 command=$2 rc
    shift 2
    rm -f "$prefix".*.log "$prefix.raw" "$prefix.status"
    "$course" serve -o "$prefix.raw" -e "$prefix.stderr" -s "$prefix.status" -w 60 -t 300 \
        -c "$command" -- valgrind "${valgrind_options[@]}" --log-file="$prefix.%p.log" "$@" --port 0 \
        2> "$prefix.serve"
    rc=$?
    if [ "$rc" -eq 3 ] && [ ! -s "$prefix.status" ]; then
        command_status=3 server_status=3
    else
        { read -r server_status; read -r command_status; } < "$prefix.status"
    fi
}

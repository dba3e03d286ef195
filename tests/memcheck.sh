#!/usr/bin/env bash
# memcheck.sh PROGRAM... - what `make memcheck` runs: each lesson program under
# valgrind. A program passes with 0 errors, 0 bytes definitely or indirectly
# lost, and, since valgrind slows everything down, the trace still equal to
# its lesson's expected trace. Reports go to build/memcheck/.
#
# Programs with a role (NN-STYLE-ROLE, from lessons/NN-slug/STYLE-ROLE.c):
#   - a server runs twice under valgrind, each time started with --port 0
#     and stopped with SIGTERM, which it must survive with status 0: once
#     for the lesson's session (its clients, run normally; its trace must
#     equal expected-server.trace), once under a short load: 1 MB through
#     nc, four clients at once, and two connections still open when
#     SIGTERM comes (one idle, one whose reply piles up unread);
#   - any other role runs under valgrind against its style's server (run
#     normally, from the same directory), or alone in a lesson without a
#     server; its trace must equal expected-ROLE.trace.
#
# The exercises' solutions are the other half of `make memcheck`:
# tests/memcheck-solutions.sh. What both use is tests/memcheck-lib.sh.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here" || exit 2
# shellcheck source=tests/memcheck-lib.sh
. tests/memcheck-lib.sh
# shellcheck source=.ci/index.sh
. .ci/index.sh
logs=${BUILD:-build}/memcheck
mkdir -p "$logs"

# The expected trace of program NN-STYLE[-ROLE], or nothing. A role may
# have a trace of its own under valgrind, valgrind-ROLE.trace, where
# valgrind itself changes what the program meets: lesson 20's mistake 09
# lowers its limit on descriptors, which valgrind only emulates, so an
# accept() over it is not refused by the kernel (the client waiting in the
# backlog) but accepted and closed by valgrind, which then says EMFILE.
expected_of() { # number role
    local dir
    dir=$(index_find lessons "$1") || return 0
    if [ -n "$2" ] && [ -r "$dir/valgrind-$2.trace" ]; then
        echo "$dir/valgrind-$2.trace"
    elif [ -r "$dir/expected${2:+-$2}.trace" ]; then
        echo "$dir/expected${2:+-$2}.trace"
    fi
}

# Does trace file $2 (style $1) equal expected file $3? (No file: yes.)
trace_matches() { # style trace expected
    [ -z "$3" ] || "$course" expected "$1" "$3" | cmp -s - "$2"
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

# A shell command running each client once against $PORT, output into
# PREFIX.ROLE.out; it fails if one does.
clients_command() { # dir number style prefix
    local role command="status=0; "
    for role in $(client_roles "$1" "$2" "$3"); do
        printf -v command '%stimeout 120 %q --port "$PORT" > %q 2>&1 || status=1; ' "$command" \
            "$1/$2-$3-$role" "$4.$role.out"
    done
    echo "${command}exit \$status"
}

# The load: 1 MB through nc; four rounds of every client at once; then one
# idle connection and one whose reply piles up unread, both left open (in
# background processes: course serve kills them after the server is
# stopped); then every client once more, whose answer means the two
# connections before it were accepted.
load_command() { # dir number style
    local role clients=""
    for role in $(client_roles "$1" "$2" "$3"); do
        printf -v clients '%s%q --port "$PORT" > /dev/null 2>&1 || status=1; ' "$clients" "$1/$2-$3-$role"
    done
    cat <<EOF
status=0
head -c 1048576 /dev/urandom | timeout 120 nc -N 127.0.0.1 "\$PORT" > /dev/null || status=1
pids=()
for c in 1 2 3 4; do ( status=0; $clients exit \$status ) & pids+=(\$!); done
for p in "\${pids[@]}"; do wait "\$p" || status=1; done
exec 3<>"/dev/tcp/127.0.0.1/\$PORT" 4<>"/dev/tcp/127.0.0.1/\$PORT" || exit 1
sleep 600 &
(yes | head -c 8388608 >&4) 2>/dev/null &
exec 3>&- 4>&-
$clients
exit \$status
EOF
}

memcheck_server() { # program name number style
    local program=$1 name=$2 number=$3 style=$4 dir prefix=$logs/$2
    dir=$(dirname "$program")
    # 1. The lesson's session.
    serve_under_valgrind "$prefix" "$(clients_command "$dir" "$number" "$style" "$prefix")" "$program"
    tail -n +2 "$prefix.raw" > "$prefix.trace" 2>/dev/null
    if [ "$command_status" -eq 3 ]; then
        fail_with "$name" "did not print its listening line; see $prefix.stderr" "$prefix.serve"; return
    elif [ "$command_status" -ne 0 ]; then
        fail_with "$name" "a client failed against it; see $prefix.*.out"; return
    elif log=$(dirty_log "$prefix") || [ "$server_status" -ne 0 ]; then
        fail_with "$name" "valgrind or the server failed after SIGTERM (status $server_status); see ${log:-$prefix.stderr}" "${log:-$prefix.serve}"; return
    elif ! trace_matches "$style" "$prefix.trace" "$(expected_of "$number" server)"; then
        fail_with "$name" "clean, but its trace under valgrind differs from $(expected_of "$number" server)"; return
    fi

    # 2. A short load, and clients still connected at SIGTERM.
    command -v nc >/dev/null || { fail_with "$name" "nc not found (make deps)"; return; }
    serve_under_valgrind "$prefix.load" "$(load_command "$dir" "$number" "$style")" "$program"
    if [ "$command_status" -eq 3 ]; then
        fail_with "$name" "did not start for the load; see $prefix.load.stderr" "$prefix.load.serve"
    elif [ "$command_status" -ne 0 ]; then
        fail_with "$name" "a client failed during the load"
    elif log=$(dirty_log "$prefix.load") || [ "$server_status" -ne 0 ]; then
        fail_with "$name" "under load: valgrind or the server failed after SIGTERM (status $server_status); see ${log:-$prefix.load.stderr}" "${log:-$prefix.load.serve}"
    else
        pass_with "$name" "0 errors, 0 bytes lost (its session, then a load; both stopped by SIGTERM)"
    fi
}

memcheck_client() { # program name number style role
    local program=$1 name=$2 number=$3 style=$4 role=$5 server command rc log prefix=$logs/$2
    server="$(dirname "$program")/$number-$style-server"
    [ -x "$server" ] || { fail_with "$name" "needs $server, which is not built"; return; }
    rm -f "$prefix".*.log
    command=$(printf '%q ' "$course" run valgrind "${valgrind_options[@]}" "--log-file=$prefix.%p.log" \
        "$program")
    printf -v command '%s --port "$PORT" > %q 2> %q' "$command" "$prefix.trace" "$prefix.stderr"
    "$course" serve -o "$prefix.server.raw" -e "$prefix.server.stderr" -t 300 -c "$command" \
        -- "$server" --port 0 2> "$prefix.serve"
    rc=$?
    if [ $rc -eq 3 ]; then
        fail_with "$name" "its server $server did not start" "$prefix.serve"
    elif log=$(dirty_log "$prefix") || [ $rc -ne 0 ]; then
        fail_with "$name" "valgrind or the program failed (status $rc); see ${log:-$prefix.stderr}" "${log:-$prefix.stderr}"
    elif ! trace_matches "$style" "$prefix.trace" "$(expected_of "$number" "$role")"; then
        fail_with "$name" "clean, but its trace under valgrind differs from $(expected_of "$number" "$role")"
    else
        pass_with "$name" "0 errors, 0 bytes lost (against $number-$style-server)"
    fi
}

memcheck_alone() { # program name number style [role]
    local program=$1 name=$2 number=$3 style=$4 role=${5:-} rc log prefix=$logs/$2
    under_valgrind "$prefix" "$program" > "$prefix.trace" 2> "$prefix.stderr"
    rc=$?
    if log=$(dirty_log "$prefix") || [ $rc -ne 0 ]; then
        fail_with "$name" "valgrind or the program failed (status $rc); see ${log:-$prefix.stderr}" "${log:-$prefix.stderr}"
    elif ! trace_matches "$style" "$prefix.trace" "$(expected_of "$number" "$role")"; then
        fail_with "$name" "clean, but its trace under valgrind differs from $(expected_of "$number" "$role")"
    else
        pass_with "$name" "0 errors, 0 bytes lost"
    fi
}

for program in "$@"; do
    name=$(basename "$program")          # 02-event1
    number=${name%%-*}
    style=${name#*-}; style=${style%%-*} # event1
    role=${name#"$number-$style"}; role=${role#-} # 10-event1-server: server
    total=$((total + 1))
    case $role in
        "") memcheck_alone "$program" "$name" "$number" "$style" ;;
        server) memcheck_server "$program" "$name" "$number" "$style" ;;
        *) if [ -x "$(dirname "$program")/$number-$style-server" ]; then
               memcheck_client "$program" "$name" "$number" "$style" "$role"
           else # a role of a lesson without a server runs alone
               memcheck_alone "$program" "$name" "$number" "$style" "$role"
           fi ;;
    esac
done
echo "memcheck: $((total - failed))/$total programs clean"
[ $failed -eq 0 ]

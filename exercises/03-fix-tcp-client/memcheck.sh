# memcheck.sh - how `make memcheck` runs this exercise's solution
# (sourced by tests/memcheck-solutions.sh): against a server of the kind
# its tests use, lesson 11's event2 server, which answers each line with
# "hello...ack." and closes the connection when it is stopped. The client
# must print the four lines of the README and end when the server is
# stopped; then, run again with nobody listening, say why on stderr and
# exit 1.
# shellcheck shell=bash disable=SC2034,SC2016 # memcheck_use is read by the script that sources this; $PORT is the command's
memcheck_use="against 11-event2-server, stopped by pid; then with nobody listening"

memcheck_run() { # program
    local program=$1 status port rc
    # The reply printed, the server has said all it will: stop it, which
    # closes the connection, and the client must see that as the end.
    memcheck_against_server "$program" '
        rm -f "'"$program"'.out"
        eval "$PROGRAM" --port "$PORT" > "'"$program"'.out" 2> "'"$program"'.stderr" &
        client=$!
        for i in $(seq 1200); do
            grep -qxF "client   reply      text=hello...ack." "'"$program"'.out" && break
            kill -0 $client 2>/dev/null || break
            sleep 0.05
        done
        kill -TERM "$SERVER_PID"
        wait $client' "${BUILD:-build}/bin/11-event2-server"
    status=$?
    [ -s "$why" ] && return "$status"
    if ! printf '%s\n' 'client   connected' 'client   sent       bytes=6' \
            'client   reply      text=hello...ack.' 'client   closed     reason=eof' | cmp -s - "$program.out"; then
        echo "its trace against 11-event2-server ($program.out) is not the four lines of the README" > "$why"
        return "$status"
    fi
    # Nobody listens on that port now.
    port=$(sed -n '1s/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$program.server.out")
    under_valgrind "$program.refused" "$program" --port "$port" > /dev/null 2> "$program.refused.stderr"
    rc=$?
    if [ $rc -ne 1 ] || [ ! -s "$program.refused.stderr" ]; then
        echo "with nobody listening it exited with status $rc (1 wanted) and said: $(head -c 200 "$program.refused.stderr")" > "$why"
    fi
    if log=$(dirty_log "$program.refused"); then
        echo "with nobody listening, valgrind found errors; see $log" > "$why"
    fi
    return "$status"
}

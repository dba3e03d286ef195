# memcheck.sh - how `make memcheck` runs this exercise's solution
# (sourced by tests/memcheck-solutions.sh): as a server, sent 300 KB of
# random bytes, NUL and all, which must come back whole (the client
# half-closes with nc -N and the server closes after the echo), then a
# client left connected when SIGTERM comes.
# shellcheck shell=bash disable=SC2034 # memcheck_use is read by the script that sources this
memcheck_use="300 KB of binary echoed; SIGTERM with a client connected"

drive_04() {
    local sent=$why.sent echo=$why.echo
    head -c 307200 /dev/urandom > "$sent"
    if ! timeout 60 nc -N 127.0.0.1 "$PORT" < "$sent" > "$echo"; then
        echo "nc sending 300 KB to it failed or timed out" > "$why"; return 1
    fi
    cmp -s "$sent" "$echo" || { echo "the echo of 300 KB ($echo) differs from what was sent ($sent)" > "$why"; return 1; }
    hold_open "still here" "still here"
}

memcheck_run() { memcheck_as_server "$1" "$(drive_command drive_04)"; }

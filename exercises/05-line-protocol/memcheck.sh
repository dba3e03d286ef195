# memcheck.sh - how `make memcheck` runs this exercise's solution
# (sourced by tests/memcheck-solutions.sh): as a server, sent each command
# once (CRLF on the first), then a line of 100 bytes with no end, then a
# client left connected when SIGTERM comes.
# shellcheck shell=bash disable=SC2034 # memcheck_use is read by the script that sources this
memcheck_use="PING, ECHO, an unknown command, a long line, QUIT; SIGTERM with a client connected"

drive_05() {
    local got
    got=$(printf 'PING\r\nECHO hello there\nHELLO\n\nQUIT\n' | timeout 60 nc 127.0.0.1 "$PORT")
    if [ "$got" != $'PONG\nhello there\nERR unknown command\nBYE' ]; then
        echo "PING, ECHO hello there, HELLO, an empty line and QUIT got \"${got//$'\n'/\\n}\"" > "$why"; return 1
    fi
    too_long || return 1
    hold_open PING PONG
}

# 100 bytes and no end of line: "ERR line too long", then the end. Read
# with bash, not nc: the server closes with bytes of ours unread, so the
# end is a reset, and nc, seeing it, would drop the answer before it read
# it.
too_long() {
    local reply="" rest="" status
    exec 4<>"/dev/tcp/127.0.0.1/$PORT" || { echo "could not connect to it" > "$why"; return 1; }
    printf '%0100d' 0 >&4
    read -r -t 30 reply <&4
    read -r -t 30 rest <&4 2>/dev/null; status=$? # a reset: "read error"
    exec 4>&-
    if [ "$reply" != "ERR line too long" ] || [ -n "$rest" ] || [ $status -gt 128 ]; then
        echo "100 bytes without an end of line got \"$reply\", then \"$rest\" and $([ $status -gt 128 ] && echo "no close within 30 s" || echo "the close")" > "$why"
        return 1
    fi
}

memcheck_run() { memcheck_as_server "$1" "$(drive_command drive_05 too_long)"; }

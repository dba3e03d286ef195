# memcheck.sh - how `make memcheck` runs this exercise's solution
# (sourced by tests/memcheck-solutions.sh): as a server, sent 300 KB of
# random bytes, NUL and all, and "hello\nworld\n", each by a client that
# then hangs up (nc -N) and must get the counts; then a client left
# connected, with half a message sent, when SIGTERM comes.
# shellcheck shell=bash disable=SC2034 # memcheck_use is read by the script that sources this
memcheck_use="300 KB and two lines counted; SIGTERM with a client mid-message"

drive_07() {
    local sent=$why.sent got want
    # A client that stays: connected first, so accepted before the others
    # are answered (a listener accepts in the order clients connected).
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" || { echo "could not connect to it" > "$why"; return 1; }
    printf 'half a message' >&3
    head -c 307200 /dev/urandom > "$sent"
    want="lines=$(tr -cd '\n' < "$sent" | wc -c) bytes=307200"
    got=$(timeout 60 nc -N 127.0.0.1 "$PORT" < "$sent")
    [ "$got" = "$want" ] || { echo "300 KB of random bytes got \"$got\", not \"$want\"" > "$why"; return 1; }
    got=$(printf 'hello\nworld\n' | timeout 60 nc -N 127.0.0.1 "$PORT")
    [ "$got" = "lines=2 bytes=12" ] || { echo "\"hello\\nworld\\n\" got \"$got\"" > "$why"; return 1; }
    sleep 600 & # holds the first connection open until the server is stopped
    exec 3>&-
}

memcheck_run() { memcheck_as_server "$1" "$(drive_command drive_07)"; }

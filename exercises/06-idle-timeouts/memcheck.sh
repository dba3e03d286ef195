# memcheck.sh - how `make memcheck` runs this exercise's solution
# (sourced by tests/memcheck-solutions.sh): as a server with --idle-ms
# 800. A client that says nothing is dropped (nc -d ends when the server
# closes), not before 800 ms, while another, talking every 200 ms, is
# served all along and after; it is still connected when SIGTERM comes.
# shellcheck shell=bash disable=SC2034 # memcheck_use is read by the script that sources this
memcheck_use="a silent client dropped, a talking one served; SIGTERM with a client connected"

drive_06() {
    local silent i reply
    timeout 10 nc -d 127.0.0.1 "$PORT" > "$why.silent" &
    silent=$!
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" || { echo "could not connect to it" > "$why"; return 1; }
    for i in 0 1 2 3 4 5 6; do
        [ $i -gt 0 ] && sleep 0.2
        printf 'line %d\n' "$i" >&3
        reply=""; read -r -t 30 reply <&3
        [ "$reply" = "line $i" ] || { echo "a talking client was not served: \"line $i\" got \"$reply\"" > "$why"; return 1; }
        if [ $i -eq 2 ] && ! kill -0 "$silent" 2>/dev/null; then
            echo "a silent client was dropped (or could not connect) before 800 ms of silence" > "$why"; return 1
        fi
    done
    if ! wait "$silent" || [ -s "$why.silent" ]; then
        echo "a silent client was not dropped within 10 s, or was sent bytes" > "$why"; return 1
    fi
    printf 'still here\n' >&3
    reply=""; read -r -t 30 reply <&3
    [ "$reply" = "still here" ] || { echo "after the silent client was dropped, \"still here\" got \"$reply\"" > "$why"; return 1; }
    sleep 600 & # holds the connection open until the server is stopped
}

memcheck_run() { memcheck_as_server "$1" "$(drive_command drive_06)" --idle-ms 800; }

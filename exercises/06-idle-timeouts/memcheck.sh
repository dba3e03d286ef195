# memcheck.sh - how `make memcheck` runs this exercise's solution
# (sourced by tests/memcheck-solutions.sh): as a server with --idle-ms
# 800. A client that says nothing is dropped (nc -d ends when the server
# closes), not before 800 ms, while another, talking every 200 ms, is
# served all along and after; it is still connected when SIGTERM comes.
# "Not before 800 ms" is a lower bound on the time from before the silent
# client connects to when its nc ended, so a slow machine (valgrind, load)
# can only make it longer: it cannot fail a correct server.
# shellcheck shell=bash disable=SC2034 # memcheck_use is read by the script that sources this
memcheck_use="a silent client dropped, a talking one served; SIGTERM with a client connected"

drive_06() {
    local silent i reply start end status
    start=$(date +%s.%N)
    { timeout 10 nc -d 127.0.0.1 "$PORT" > "$why.silent"; echo "$? $(date +%s.%N)" > "$why.silent-end"; } &
    silent=$!
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" || { echo "could not connect to it" > "$why"; return 1; }
    for i in 0 1 2 3 4 5 6; do
        [ $i -gt 0 ] && sleep 0.2
        printf 'line %d\n' "$i" >&3
        reply=""; read -r -t 30 reply <&3
        [ "$reply" = "line $i" ] || { echo "a talking client was not served: \"line $i\" got \"$reply\"" > "$why"; return 1; }
    done
    wait "$silent"
    read -r status end < "$why.silent-end"
    if [ "$status" != 0 ] || [ -s "$why.silent" ]; then
        echo "a silent client was not dropped within 10 s, could not connect, or was sent bytes" > "$why"; return 1
    fi
    if awk -v a="$start" -v b="$end" 'BEGIN { exit !(b - a < 0.8) }'; then
        echo "a silent client was dropped after $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%d", (b - a) * 1000 }') ms of silence, before 800 ms" > "$why"; return 1
    fi
    printf 'still here\n' >&3
    reply=""; read -r -t 30 reply <&3
    [ "$reply" = "still here" ] || { echo "after the silent client was dropped, \"still here\" got \"$reply\"" > "$why"; return 1; }
    sleep 600 & # holds the connection open until the server is stopped
}

memcheck_run() { memcheck_as_server "$1" "$(drive_command drive_06)" --idle-ms 800; }

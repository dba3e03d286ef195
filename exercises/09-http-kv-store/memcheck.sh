# memcheck.sh - how `make memcheck` runs this exercise's solution
# (sourced by tests/memcheck-solutions.sh): as a server with --max-value
# 100, driven by curl: a PUT, a GET, a PUT that replaces, a DELETE, a GET
# of the deleted key, a value over the limit; then a connection left open,
# a request answered on it, when SIGTERM comes.
# shellcheck shell=bash disable=SC2034 # memcheck_use is read by the script that sources this
memcheck_use="PUT, GET, DELETE, 404 and 413 with curl; SIGTERM with a connection open"

drive_09() {
    local url="http://127.0.0.1:$PORT/kv/greeting" got status
    command -v curl > /dev/null || { echo "curl not found (make deps)" > "$why"; return 1; }
    expect() { # what want got
        [ "$3" = "$2" ] || { echo "$1: \"$3\", not \"$2\"" > "$why"; return 1; }
    }
    got=$(curl -sS -X PUT --data-binary hello -w '%{http_code}' "$url") || return 1
    expect "PUT /kv/greeting" 201 "$got" || return 1
    got=$(curl -sS "$url") && expect "GET /kv/greeting" hello "$got" || return 1
    got=$(curl -sS -X PUT --data-binary bonjour -w '%{http_code}' "$url") || return 1
    expect "PUT /kv/greeting again" 204 "$got" || return 1
    got=$(curl -sS -X DELETE -w '%{http_code}' "$url") || return 1
    expect "DELETE /kv/greeting" 204 "$got" || return 1
    got=$(curl -sS -o /dev/null -w '%{http_code}' "$url") || return 1
    expect "GET /kv/greeting after DELETE" 404 "$got" || return 1
    got=$(head -c 101 /dev/zero | curl -sS -X PUT --data-binary @- -o /dev/null -w '%{http_code}' "$url") || return 1
    expect "PUT of 101 bytes with --max-value 100" 413 "$got" || return 1
    got=$(curl -sS -X PUT --data-binary kept -o /dev/null -w '%{http_code}' "$url") || return 1
    expect "PUT /kv/greeting after the 413" 201 "$got" || return 1
    # A connection left open, a request answered on it: the server has
    # a connection (and a value) to free when SIGTERM comes.
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" || { echo "could not connect to it" > "$why"; return 1; }
    printf 'GET /kv/greeting HTTP/1.1\r\nHost: x\r\n\r\n' >&3
    status=""; read -r -t 30 status <&3
    expect "GET on a connection left open" "HTTP/1.1 200 OK" "${status%$'\r'}" || return 1
    sleep 600 & # holds the connection open until the server is stopped
    exec 3>&-
}

memcheck_run() { memcheck_as_server "$1" "$(drive_command drive_09)" --max-value 100; }

# memcheck.sh - how `make memcheck` runs this exercise's solution
# (sourced by tests/memcheck-solutions.sh): alone, with three workers of
# 300 results each; every result must be printed once, then "done 900".
# shellcheck shell=bash disable=SC2034 # memcheck_use is read by the script that sources this
memcheck_use="3 workers x 300 results, every one printed once"

memcheck_run() {
    local rc
    rm -f "$1".*.log
    timeout 120 "$course" run valgrind "${valgrind_options[@]}" --log-file="$1.%p.log" "$1" \
        --workers 3 --results 300 > "$1.out" 2> "$1.stderr"
    rc=$?
    if ! sort -n "$1.out" | awk '
            $1 == "done" { done = $2; next }
            NF != 3 || $1 < 1 || $1 > 3 || $2 < 1 || $2 > 300 || $3 != $2 * $2 || seen[$1, $2]++ { bad++ }
            { n++ }
            END { exit !(bad == 0 && n == 900 && done == 900) }'; then
        echo "its output ($1.out) is not every result of 3 x 300 once, then \"done 900\"" > "$why"
    fi
    return $rc
}

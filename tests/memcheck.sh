#!/usr/bin/env bash
# memcheck.sh PROGRAM... - what `make memcheck` runs: each lesson program under
# valgrind. A program passes with 0 errors, 0 bytes definitely or indirectly
# lost, and, since valgrind slows everything down, the trace still equal to
# its lesson's expected.trace. Reports go to build/memcheck/.
set -uo pipefail

command -v valgrind >/dev/null || { echo "memcheck: valgrind not found (make deps)" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here" || exit 2
logs=${BUILD:-build}/memcheck
mkdir -p "$logs"

failed=0 total=0
for program in "$@"; do
    name=$(basename "$program")          # 02-event1
    number=${name%%-*}
    style=${name#*-}; style=${style%%-*} # event1
    other=$([ "$style" = event1 ] && echo event2 || echo event1)
    total=$((total + 1))
    log="$logs/$name.log"
    env $(env | sed -n 's/^\(EVENT_[A-Z_]*\)=.*/-u \1/p') \
        valgrind --quiet --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
        --log-file="$log" "$program" > "$logs/$name.trace" 2>"$logs/$name.stderr"
    rc=$?
    expected=$(ls -d lessons/"$number"-*/expected.trace 2>/dev/null | head -n1)
    if [ $rc -ne 0 ]; then
        printf '  ✗ %-22s valgrind or the program failed (status %d); see %s\n' "$name" $rc "$log"
        sed 's/^/      /' "$log" | head -30
        failed=$((failed + 1))
    elif [ -n "$expected" ] && ! grep -v -E "^$other( |\$)" "$expected" | cmp -s - "$logs/$name.trace"; then
        printf '  ✗ %-22s clean, but its trace under valgrind differs from %s\n' "$name" "$expected"
        failed=$((failed + 1))
    else
        printf '  ✓ %-22s 0 errors, 0 bytes lost\n' "$name"
    fi
done
echo "memcheck: $((total - failed))/$total programs clean"
[ $failed -eq 0 ]

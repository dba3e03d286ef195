#!/usr/bin/env bash
# deps.sh PACKAGE... - what `make deps` runs: install the Debian/Ubuntu
# packages the course needs that are not installed yet (apt-get; sudo when
# not root), one line per package. apt's own output goes to a log, shown
# only if something fails.
set -uo pipefail

[ $# -gt 0 ] || { echo "usage: .ci/deps.sh PACKAGE..." >&2; exit 2; }
log=${BUILD:-build}/deps.log

installed() { dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q 'install ok installed'; }
version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null; }

missing=()
for p in "$@"; do
    installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all $# packages are installed"
    exit 0
fi
command -v apt-get >/dev/null ||
    { echo "deps: no apt-get here; install these by hand: ${missing[*]}" >&2; exit 1; }
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo

mkdir -p "$(dirname "$log")"
: > "$log"
fail() {
    echo "deps: $1 failed; apt-get said (the whole log: $log):" >&2
    tail -n 25 "$log" | sed 's/^/  | /' >&2
    exit 1
}
echo "deps: ${#missing[@]} of $# packages to install: ${missing[*]}"
printf 'deps: apt-get update ...'
$sudo apt-get update -q >> "$log" 2>&1 || { echo; fail "apt-get update"; }
echo " done"
printf 'deps: apt-get install (a minute or more the first time) ...'
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}" >> "$log" 2>&1 || { echo; fail "apt-get install"; }
echo " done"
status=0
for p in "${missing[@]}"; do
    if installed "$p"; then
        printf '  ✓ %-20s %s\n' "$p" "$(version "$p")"
    else
        printf '  ✗ %-20s not installed (see %s)\n' "$p" "$log"
        status=1
    fi
done
exit $status

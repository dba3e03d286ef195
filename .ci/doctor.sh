#!/usr/bin/env bash
# doctor.sh CC - what `make doctor` prints: the compiler, libevent and Check
# this machine has, and the backends libevent offers and picks by default.
set -uo pipefail
cc=${1:-cc}
status=0

show() { printf '  %-12s %s\n' "$1" "$2"; }
missing() { show "$1" "MISSING: $2"; status=1; }

echo "libevent-lessons doctor"
if command -v "$cc" >/dev/null; then
    show compiler "$("$cc" --version | head -n1) ($cc)"
else
    missing compiler "no '$cc' (make deps, or make CC=gcc / CC=clang)"
fi
if ! command -v pkg-config >/dev/null; then
    missing pkg-config "install it: make deps (or sudo apt-get install pkg-config)"
else
    if pkg-config --exists libevent; then
        show libevent "$(pkg-config --modversion libevent) ($(pkg-config --libs libevent))"
    else
        missing libevent "install it: make deps (or sudo apt-get install libevent-dev)"
    fi
    if pkg-config --exists check; then
        show check "$(pkg-config --modversion check)"
    else
        missing check "install it: make deps (or sudo apt-get install check)"
    fi
fi
for tool in valgrind clang nc socat jq; do
    if command -v "$tool" >/dev/null; then show "$tool" "$(command -v "$tool")"; else show "$tool" "not found (make deps)"; fi
done

# Ask the library itself: the backends it was built with, and the one a new
# base picks here (EVENT_NO* variables in the environment change that).
if [ $status = 0 ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    cat > "$tmp/backends.c" <<'C'
#include <event2/event.h>
#include <stdio.h>
int main(void)
{
    const char **m = event_get_supported_methods();
    printf("  %-12s", "backends");
    for (int i = 0; m != NULL && m[i] != NULL; i++)
        printf(" %s", m[i]);
    struct event_base *base = event_base_new();
    if (base == NULL)
        return 1;
    printf("\n  %-12s %s\n", "default", event_base_get_method(base));
    event_base_free(base);
    return 0;
}
C
    if "$cc" -o "$tmp/backends" "$tmp/backends.c" $(pkg-config --cflags --libs libevent) && "$tmp/backends"; then
        env | grep -q '^EVENT_NO' && show note "EVENT_NO* is set in your environment: $(env | grep '^EVENT_NO' | tr '\n' ' ')"
    else
        missing backends "could not build a libevent program with $cc"
    fi
fi
exit $status

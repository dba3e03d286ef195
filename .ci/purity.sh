#!/usr/bin/env bash
# purity.sh STYLE OBJECT... - refuse libevent calls from the other style.
#
# Each style kit lists the libevent functions its code may call
# (event1/symbols.txt, event2/symbols.txt). For every object given, the
# undefined symbols (nm -u) that libevent exports must be on STYLE's list.
# STYLE "neutral" (the support code in lessons/lib/*.c) may call none at all.
# For event2 the object must also not have read a *_compat.h header (its .d
# file, written by the compiler's -MD, lists every header it included).
#
# The compiler cannot do this for us: no libevent 2.1 function carries a
# deprecation attribute, so event1 code builds without a single warning.
set -euo pipefail

die() { echo "purity: $*" >&2; exit 2; }

[ $# -ge 2 ] || die "usage: .ci/purity.sh event1|event2|neutral OBJECT..."
style=$1; shift
case $style in event1|event2|neutral) ;; *) die "unknown style '$style' (event1, event2 or neutral)";; esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ "$style" = neutral ]; then
    list=/dev/null
    other_style=event1
else
    list="$here/$style/symbols.txt"
    other_style=$([ "$style" = event1 ] && echo event2 || echo event1)
fi
other_list="$here/$other_style/symbols.txt"
[ -r "$list" ] || die "cannot read $list"

libdir=$(pkg-config --variable=libdir libevent 2>/dev/null) || die "pkg-config cannot find libevent (make deps)"
libevent=$(readlink -f "$libdir/libevent.so")
[ -r "$libevent" ] || die "cannot find libevent.so in $libdir"

names() { sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$1" | sort -u; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
names "$list" > "$tmp/allowed"
names "$other_list" > "$tmp/other" 2>/dev/null || : > "$tmp/other"
nm -D --defined-only "$libevent" | awk '{ print $NF }' | sort -u > "$tmp/exports"

status=0
for obj in "$@"; do
    [ -r "$obj" ] || die "cannot read $obj"
    src=${obj%.o}.c
    src=${src#*/obj/}
    nm -u -P "$obj" | awk '{ print $1 }' | sort -u > "$tmp/undefined"
    comm -12 "$tmp/undefined" "$tmp/exports" | comm -23 - "$tmp/allowed" > "$tmp/bad"
    while read -r sym; do
        if grep -qx "$sym" "$tmp/other"; then
            why="it is $other_style style"
        else
            why="it is on neither kit's list"
        fi
        if [ "$style" = neutral ]; then
            echo "$src: style-neutral support code may not call libevent ($sym)" >&2
        else
            echo "$src: $style style may not call $sym ($why; allowed: $style/symbols.txt)" >&2
        fi
        status=1
    done < "$tmp/bad"

    dep=${obj%.o}.d
    if [ "$style" = event2 ] && [ -r "$dep" ]; then
        compat=$(tr ' \\' '\n\n' < "$dep" | grep -E '_compat\.h$' | sort -u || true)
        if [ -n "$compat" ]; then
            echo "$src: event2 style may not include a compat header: $(echo $compat)" >&2
            status=1
        fi
    fi
done
exit $status

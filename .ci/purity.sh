#!/usr/bin/env bash
# purity.sh STYLE OBJECT... - refuse libevent calls from the other style.
#
# What a style may call is the style kit's to say: event1/symbols.txt and
# event2/symbols.txt. This script only applies them. For every object:
#
#  1. its undefined symbols (nm -u) that libevent exports must be on
#     STYLE's list; STYLE "neutral" (the support code in lessons/lib/*.c)
#     may call none at all;
#  2. a name listed as "NAME via MACRO" may be in the object only as what
#     MACRO expands to: the source (OBJECT's .c, found beside it or under
#     the top of the tree) may not write NAME itself. On 2.1 the 1.x macro
#     EVBUFFER_INPUT(bev) expands to bufferevent_get_input(bev), a 2.0
#     function; nm sees the same symbol either way, the source does not;
#  3. for event2, the object must not have read a *_compat.h header (its
#     .d file, written by the compiler's -MD, lists every header it read):
#     compat macros expand to allowed 2.x functions.
#
# Each complaint names the file (and, for 2, the line) and exits 1.
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

# libevent.so (core and extra: events, buffers, HTTP, DNS) and
# libevent_pthreads.so (evthread_use_pthreads()).
libdir=$(pkg-config --variable=libdir libevent 2>/dev/null) || die "pkg-config cannot find libevent (make deps)"
libraries=()
for lib in libevent libevent_pthreads; do
    path=$(readlink -f "$libdir/$lib.so")
    [ -r "$path" ] || die "cannot find $lib.so in $libdir"
    libraries+=("$path")
done

# The first word of each line of a symbols.txt ('#' starts a comment).
names() { sed -e 's/#.*//' "$1" | awk 'NF { print $1 }' | sort -u; }

# "NAME MACRO" for each "NAME via MACRO" line.
via_names() { sed -e 's/#.*//' "$1" | awk '$2 == "via" && NF >= 3 { print $1, $3 }'; }

# The source with comments, string and character literals blanked out,
# line for line: a name in a comment or a string is not a call.
code_only() {
    awk '
    BEGIN { in_comment = 0 }
    {
        line = $0; out = ""; i = 1; n = length(line)
        while (i <= n) {
            c = substr(line, i, 1); two = substr(line, i, 2)
            if (in_comment) {
                if (two == "*/") { in_comment = 0; i += 2 } else i++
                out = out " "; continue
            }
            if (two == "/*") { in_comment = 1; i += 2; out = out "  "; continue }
            if (two == "//") break
            if (c == "\"" || c == "\047") {
                q = c; out = out " "; i++
                while (i <= n && substr(line, i, 1) != q) {
                    if (substr(line, i, 1) == "\\") i++
                    i++
                }
                i++; continue
            }
            out = out c; i++
        }
        print out
    }' "$1"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
names "$list" > "$tmp/allowed"
via_names "$list" > "$tmp/via"
names "$other_list" > "$tmp/other" 2>/dev/null || : > "$tmp/other"
for lib in "${libraries[@]}"; do nm -D --defined-only "$lib"; done | awk '{ print $NF }' | sort -u > "$tmp/exports"

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

    source=${obj%.o}.c
    [ -r "$source" ] || source=$here/$src
    if [ -s "$tmp/via" ] && [ -r "$source" ]; then
        code_only "$source" > "$tmp/code"
        while read -r name macro; do
            for line in $(grep -n -w -- "$name" "$tmp/code" | cut -d: -f1 || true); do
                echo "$src:$line: $style style may not name $name (a 2.x function; 1.x wrote $macro(...), which expands to it on 2.1)" >&2
                status=1
            done
        done < "$tmp/via"
    fi

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

#!/usr/bin/env bash
# snippets.sh --update | --check - keep the code shown in docs/ equal to the
# files CI runs.
#
# In a Markdown file, a block like
#
#     <!-- snippet: lessons/02-event-lifecycle/event2.c create -->
#     ```c
#     ...
#     ```
#     <!-- end snippet -->
#
# holds the lines of event2.c between the markers "/* doc: create */" and
# "/* doc: end */" (the marker lines left out, the common indentation
# removed). Without a region name the whole file is shown (used for traces).
# --update rewrites every such block from its source; --check changes
# nothing and fails, naming the stale blocks, if any block differs.
# Files looked at: those given after the mode, or else docs/**/*.md and
# lessons/*/README.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

mode=${1:-}
case $mode in --update|--check) ;; *) echo "usage: docs/snippets.sh --update|--check [FILE.md...]" >&2; exit 2;; esac
shift
markdown_files() {
    if [ $# -gt 0 ]; then printf '%s\n' "$@"; return; fi
    find docs -name '*.md' | sort
    ls lessons/*/README.md 2>/dev/null
}

# The region NAME of FILE (whole file if NAME is empty), dedented.
extract() {
    local file=$1 name=$2
    [ -r "$file" ] || { echo "snippets: $file does not exist" >&2; return 1; }
    awk -v name="$name" -v file="$file" '
        function is_marker(line, what) { return line ~ ("^[ \t]*/\\* doc: " what " \\*/[ \t]*$") }
        name == "" { lines[++n] = $0; next }
        !inside && is_marker($0, name) { inside = 1; found = 1; next }
        inside && is_marker($0, "end") { inside = 0; next }
        inside && is_marker($0, "[a-z0-9_-]+") { next }
        inside { lines[++n] = $0 }
        END {
            if (name != "" && !found) { printf "snippets: no region \"%s\" in %s\n", name, file > "/dev/stderr"; exit 1 }
            if (name != "" && inside) { printf "snippets: region \"%s\" in %s has no /* doc: end */\n", name, file > "/dev/stderr"; exit 1 }
            indent = -1
            for (i = 1; i <= n; i++) {
                if (lines[i] ~ /^[ \t]*$/) continue
                match(lines[i], /^ */)
                if (indent < 0 || RLENGTH < indent) indent = RLENGTH
            }
            if (indent < 0) indent = 0
            for (i = 1; i <= n; i++) print substr(lines[i], indent + 1)
        }' "$file"
}

fence_language() {
    case $1 in *.c|*.h) echo c;; *.sh) echo sh;; *) echo text;; esac
}

# Print FILE (Markdown) with every snippet block regenerated.
render() {
    local md=$1 line src name lang
    local skipping=0
    while IFS= read -r line || [ -n "$line" ]; do
        if [ $skipping = 1 ]; then
            if [[ $line =~ ^\<\!--\ end\ snippet\ --\>$ ]]; then
                skipping=0
                printf '%s\n' "$line"
            fi
            continue
        fi
        printf '%s\n' "$line"
        if [[ $line =~ ^\<\!--\ snippet:\ ([^ ]+)( ([a-z0-9_-]+))?\ --\>$ ]]; then
            src=${BASH_REMATCH[1]} name=${BASH_REMATCH[3]}
            lang=$(fence_language "$src")
            printf '```%s\n' "$lang"
            extract "$src" "$name" || { echo "snippets: in $md" >&2; return 1; }
            printf '```\n'
            skipping=1
        fi
    done < "$md"
    if [ $skipping = 1 ]; then
        echo "snippets: $md: a snippet block has no <!-- end snippet -->" >&2
        return 1
    fi
}

status=0
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
while IFS= read -r md; do
    grep -q '^<!-- snippet: ' "$md" || continue
    render "$md" > "$tmp" || { status=1; continue; }
    if ! cmp -s "$tmp" "$md"; then
        if [ "$mode" = --update ]; then
            cp "$tmp" "$md"
            echo "updated $md"
        else
            echo "stale code in $md (run: make docs):" >&2
            diff -u --label "$md" --label "$md (from the sources)" "$md" "$tmp" | head -20 | sed 's/^/    /' >&2 || true  # diff exits 1; go on to the next file
            status=1
        fi
    fi
done < <(markdown_files "$@")
[ "$mode" = --check ] && [ $status = 0 ] && echo "docs: every code excerpt matches its source"
exit $status

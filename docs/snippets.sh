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
# A block
#
#     <!-- index: lessons -->
#     ...
#     <!-- end index -->
#
# holds a table of the lessons (or exercises) as the course's index
# (.ci/index.sh) lists them, linked from where the Markdown file is; a
# lesson's calls come from the "**Calls:** event1 ... · event2 ..." line of
# its README; an exercise's style from the names of its starter files and
# its summary from the "**In short:** ..." line of its README.
# --update rewrites every such block from its source; --check changes
# nothing and fails, naming the stale blocks, if any block differs.
# Files looked at: those given after the mode, or else README.md,
# exercises/README.md, docs/**/*.md and lessons/*/README.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

mode=${1:-}
case $mode in --update|--check) ;; *) echo "usage: docs/snippets.sh --update|--check [FILE.md...]" >&2; exit 2;; esac
shift
markdown_files() {
    if [ $# -gt 0 ]; then printf '%s\n' "$@"; return; fi
    echo README.md
    echo exercises/README.md
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

# shellcheck source=.ci/index.sh
. .ci/index.sh

# The table of KIND for a Markdown file in directory FROM.
index_block() { # kind from
    local kind=$1 from=$2 n dir title link calls one two style short target
    target=$(index_target "$kind")
    link() { if [ "$from" = . ]; then echo "$1"; else echo "${1#"$from"/}"; fi; }
    if [ "$kind" = lessons ]; then
        printf '| | lesson | event1 | event2 | |\n|---|---|---|---|---|\n'
    else
        printf '| | exercise | style | in short | |\n|---|---|---|---|---|\n'
    fi
    while IFS=$'\t' read -r n dir title; do
        if [ "$kind" = lessons ]; then
            calls=$(sed -n 's/^\*\*Calls:\*\* *//p' "$dir/README.md" | head -n 1)
            one=${calls%% · event2 *}; one=${one#event1 }
            two=; [[ $calls == *" · event2 "* ]] && two=${calls#* · event2 }
            printf '| %s | [%s](%s/) | %s | %s | `make %s-%d` |\n' "$n" "$title" "$(link "$dir")" \
                "$one" "$two" "$target" "$((10#$n))"
        else
            style=$(ls "$dir/starter" 2>/dev/null | sed -n 's/^\(event[12]\).*/\1/p' | sort -u | paste -sd/ -)
            short=$(sed -n 's/^\*\*In short:\*\* *//p' "$dir/README.md" | head -n 1)
            printf '| %s | [%s](%s/) | %s | %s | `make %s-%d` |\n' "$n" "$title" "$(link "$dir")" \
                "$style" "$short" "$target" "$((10#$n))"
        fi
    done < <(index_table "$kind")
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
            if [[ $line =~ ^\<\!--\ end\ (snippet|index)\ --\>$ ]]; then
                skipping=0
                printf '%s\n' "$line"
            fi
            continue
        fi
        printf '%s\n' "$line"
        if [[ $line =~ ^\<\!--\ index:\ (lessons|exercises)\ --\>$ ]]; then
            index_block "${BASH_REMATCH[1]}" "$(dirname "$md")"
            skipping=1
            continue
        fi
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
        echo "snippets: $md: a snippet or index block has no end marker" >&2
        return 1
    fi
}

status=0
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
while IFS= read -r md; do
    grep -q '^<!-- \(snippet\|index\): ' "$md" || continue
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

#!/usr/bin/env bash
# build.sh OUT - `make site`: the course as a static site in OUT (build/site),
# readable from file:// or any static server, loading nothing from the
# network.
#
# What it is made of, all from the course tree as it is:
#   - the pages: the top README, docs/*.md, each lesson's walkthrough
#     (docs/lessons/NN-slug.md) and README, each exercise's README, the
#     READMEs of lessons/ and exercises/, and whatever those link to (a
#     Markdown file becomes a page, any other file a page of its source, a
#     directory its README or a list of its files). pandoc renders them
#     (gfm, highlighting at build time) through template.html and page.lua
#     (the two styles side by side, snippet captions, timelines, links,
#     table of contents); previous/next come from the index (.ci/index.sh).
#   - the pictures: img/lifecycle.svg (lifecycle.py, then graphviz), a
#     timeline per expected trace and style (timeline.py), the API map
#     (apimap.py), and, when `make bench` has left them in BUILD/bench, the
#     performance lesson's plots.
#   - the index page (curriculum.py), from the index: a new lesson directory
#     is a new row, a new page, new pictures, with nothing to register.
# Why pandoc, not cmark-gfm (both are Debian's): the side-by-side pairs,
# the snippet captions, the timelines after a trace and the links between
# pages are made on pandoc's document tree by a Lua filter, not by editing
# HTML text afterwards; pandoc highlights code at build time itself
# (skylighting, and trace.xml teaches it the trace format) and lays each
# page out in a template. cmark-gfm gives HTML only: every one of those
# would be a post-processor of its output, and highlighting another tool.
# A pandoc process starts per core, not per page (page.lua's batches):
# starting one costs more than rendering a page.
# Any warning pandoc or a script prints fails the build.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$here"
[ $# -eq 1 ] || { echo "usage: docs/site/build.sh OUT" >&2; exit 2; }
out=$1
case $out in /*) ;; *) out=$here/$out ;; esac
site=docs/site
bench=${BENCH_DIR:-$(dirname "$out")/bench}
include_dir=$(pkg-config --variable=includedir libevent 2>/dev/null || echo /usr/include)
jobs=${SITE_JOBS:-$(nproc 2>/dev/null || echo 2)}

for tool in pandoc dot python3; do
    command -v $tool >/dev/null || { echo "site: $tool not found; install it: make deps" >&2; exit 1; }
done

work=$out.work
rm -rf "$out" "$work"
mkdir -p "$out/img/timelines" "$work/gen"
: > "$work/links"
: > "$work/warnings"

# --- What there is ------------------------------------------------------------
# Every file of the course tree (committed or not, less what git ignores).
if [ "$(git rev-parse --show-toplevel 2>/dev/null)" = "$here" ]; then
    git ls-files -co --exclude-standard | while IFS= read -r f; do [ -f "$f" ] && echo "$f"; done
else
    find . -path ./build -prune -o -path ./.git -prune -o -type f -print | sed 's|^\./||'
fi | sort > "$work/files"
# The pages made here, not read from the tree, and the pictures.
printf '%s\n' index.md lifecycle.md api-map.md img/lifecycle.svg >> "$work/files"

# The index's lessons and exercises; one still without its README (being
# written) is left out, with a note.
for kind in lessons exercises; do
    .ci/index.sh table $kind | while IFS=$'\t' read -r num dir title; do
        if [ -f "$dir/README.md" ]; then
            printf '%s\t%s\t%s\n' "$num" "$dir" "$title"
        else
            echo "site: note: $dir has no README.md yet: left out" >&2
        fi
    done > "$work/$kind.tsv"
done
mapfile -t lesson_dirs < <(cut -f2 "$work/lessons.tsv")

# --- Pictures -----------------------------------------------------------------
# A timeline per expected trace and style.
for d in "${lesson_dirs[@]}"; do
    slug=${d#lessons/}
    for trace in "$d"/expected*.trace; do
        [ -e "$trace" ] || continue
        base=$(basename "$trace" .trace)
        mkdir -p "$out/img/timelines/$slug"
        for style in event1 event2; do
            echo "$style $trace $out/img/timelines/$slug/$base.$style.svg"
            echo "img/timelines/$slug/$base.$style.svg" >> "$work/files"
        done
    done
done > "$work/timelines"
while read -r style trace svg; do
    printf '%s\t%s\t%s\tTimeline of %s as %s prints it: one lane per event, one row per line\n' \
        "$style" "$trace" "$svg" "$trace" "$style"
done < "$work/timelines" > "$work/timelines.batch"
$site/timeline.py --batch "$work/timelines.batch"

# The lifecycle, and the API map.
$site/lifecycle.py . "$include_dir" "$work/lifecycle.dot" "$work/lifecycle-table.md" "${lesson_dirs[@]}"
dot -Tsvg "$work/lifecycle.dot" > "$out/img/lifecycle.svg"
$site/apimap.py . "$include_dir" "$work/gen/api-map.md" "$work/first-calls.tsv" "${lesson_dirs[@]}"

# The performance lesson's plots: what `make bench` drew on this machine.
plots=()
if [ -d "$bench" ]; then
    for svg in "$bench"/*.svg; do
        [ -e "$svg" ] || continue
        cp "$svg" "$out/img/"
        plots+=("img/$(basename "$svg")")
        echo "img/$(basename "$svg")" >> "$work/files"
    done
fi

# --- Generated pages ----------------------------------------------------------
for f in docs/*.md; do
    printf '%s\t%s\n' "$f" "$(sed -n '1s/^# *//p' "$f")"
done > "$work/docs.tsv"
$site/curriculum.py "$work/lessons.tsv" "$work/exercises.tsv" "$work/first-calls.tsv" \
    "$work/docs.tsv" "$work/gen/index.md"

{
    cat <<'EOF'
# The life of an event

An event is *non-pending* when it waits for nothing, *pending* once added,
*active* when the loop has found what it waited for (or a program said so),
and its callback runs; then it is non-pending again, or still pending if it
was made with `EV_PERSIST`. The drawing is made by the build from the
course itself: the states and transitions are those the lessons' expected
traces show, counted; what causes each transition, in each style, is read
from the lessons' programs (the call just before the line that traces the
step). Click a transition for the first lesson that shows it.

EOF
    # The SVG goes in inline, so that its links work: page.lua puts it
    # there (Markdown would read the SVG's text as a paragraph).
    echo "<!-- svg: $out/img/lifecycle.svg -->"
    cat <<'EOF'

## The transitions

EOF
    cat "$work/lifecycle-table.md"
    cat <<'EOF'

[The trace format](docs/trace-format.md) says what each line of a trace
means; [lesson 02](docs/lessons/02-event-lifecycle.md) follows one event
through every state.

## Reading a timeline

Each walkthrough draws its lesson's expected traces, one picture per style.
Time runs downwards, one row per line of the trace (the row prints the
line). Each event has a lane: a thin grey line while it is non-pending, a
blue bar while pending, orange while active (a diamond where its `active`
line is), blue with an orange core when pending and active at once. A
green bracket spans its callback, from its `callback` line to its `after`
line, and a short black stroke marks where it is freed. The loop's lane is
a yellow band from `dispatch` to `returned` (a nested loop, a narrower band
inside). Other subjects, such as bufferevents or clients, have a dotted
lane with a mark per line, filled green for a callback. Lines that only one
style prints are in that style's colour. Hovering over a mark or a row
shows the whole line.
EOF
} > "$work/gen/lifecycle.md"

# The plots go at the end of the walkthrough of the lesson that teaches
# `make bench`.
plots_for=
if [ ${#plots[@]} -gt 0 ]; then
    for d in "${lesson_dirs[@]}"; do
        walk=docs/lessons/${d#lessons/}.md
        if grep -qs 'make bench' "$d/README.md" "$walk"; then plots_for=$walk; break; fi
    done
fi
if [ -n "$plots_for" ]; then
    {
        cat "$plots_for"
        printf '\n## Plots from this machine\n\nWhat the last `make bench` measured here, drawn by gnuplot.\n\n'
        for p in "${plots[@]}"; do printf '![%s](../../%s)\n\n' "$(basename "$p" .svg)" "$p"; done
    } > "$work/gen/plots.md"
fi

# --- Pages ----------------------------------------------------------------------
# One line per page: SRC KIND INPUT, and its prev/next/crumbs in the side file.
html_escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' <<< "$1"; }
root_of() { # the relative URL of the site's root from the page of SRC
    local dir r=
    dir=$(dirname "$1")
    [ "$dir" = . ] && { echo ""; return; }
    IFS=/ read -ra parts <<< "$dir"
    for _ in "${parts[@]}"; do r+=../; done
    echo "$r"
}

pages=$work/pages
: > "$pages"
page() { # SRC KIND INPUT [VAR=VALUE...]
    local src=$1 kind=$2 input=$3
    shift 3
    printf '%s\t%s\t%s' "$src" "$kind" "$input" >> "$pages"
    local v
    for v in "$@"; do printf '\t%s' "$v" >> "$pages"; done
    printf '\n' >> "$pages"
}

page index.md page "$work/gen/index.md"
page lifecycle.md page "$work/gen/lifecycle.md"
page api-map.md page "$work/gen/api-map.md"
page README.md page README.md
for f in docs/*.md; do page "$f" page "$f"; done
[ -f lessons/README.md ] && page lessons/README.md page lessons/README.md
[ -f exercises/README.md ] && page exercises/README.md page exercises/README.md

# Lessons and exercises in the index's order, with previous and next.
sequence() { # KIND TSV
    local kind=$1 tsv=$2 n=0 i
    local -a nums dirs titles
    while IFS=$'\t' read -r num dir title; do
        nums+=("$num"); dirs+=("$dir"); titles+=("$title")
    done < "$tsv"
    n=${#dirs[@]}
    for ((i = 0; i < n; i++)); do
        local slug=${dirs[i]#*/} prev=() next=() word
        if [ ! -f "${dirs[i]}/README.md" ]; then
            echo "site: note: ${dirs[i]} has no README.md yet: left out" >&2
            continue
        fi
        word=$([ "$kind" = lessons ] && echo Lesson || echo Exercise)
        if [ "$kind" = lessons ]; then
            local walk=docs/lessons/$slug.md root
            if ((i > 0)); then prev=("prev-url=../../docs/lessons/${dirs[i-1]#*/}.html" "prev-title=${nums[i-1]} · $(html_escape "${titles[i-1]}")"); fi
            if ((i + 1 < n)); then next=("next-url=../../docs/lessons/${dirs[i+1]#*/}.html" "next-title=${nums[i+1]} · $(html_escape "${titles[i+1]}")"); fi
            if [ -f "$walk" ]; then
                local input=$walk
                [ "$walk" = "$plots_for" ] && input=$work/gen/plots.md
                page "$walk" walkthrough "$input" "${prev[@]}" "${next[@]}" \
                    "crumbs=$word ${nums[i]} · <a href=\"../../${dirs[i]}/README.html\">the lesson's README</a> · the walkthrough"
            else
                echo "site: note: lesson ${dirs[i]} has no walkthrough $walk yet" >&2
            fi
            prev=() next=()
            if ((i > 0)); then prev=("prev-url=../${dirs[i-1]#*/}/README.html" "prev-title=${nums[i-1]} · $(html_escape "${titles[i-1]}")"); fi
            if ((i + 1 < n)); then next=("next-url=../${dirs[i+1]#*/}/README.html" "next-title=${nums[i+1]} · $(html_escape "${titles[i+1]}")"); fi
            page "${dirs[i]}/README.md" page "${dirs[i]}/README.md" "${prev[@]}" "${next[@]}" \
                "crumbs=$word ${nums[i]} · the README · <a href=\"../../docs/lessons/$slug.html\">the walkthrough</a>"
        else
            if ((i > 0)); then prev=("prev-url=../${dirs[i-1]#*/}/README.html" "prev-title=${nums[i-1]} · $(html_escape "${titles[i-1]}")"); fi
            if ((i + 1 < n)); then next=("next-url=../${dirs[i+1]#*/}/README.html" "next-title=${nums[i+1]} · $(html_escape "${titles[i+1]}")"); fi
            page "${dirs[i]}/README.md" page "${dirs[i]}/README.md" "${prev[@]}" "${next[@]}" \
                "crumbs=$word ${nums[i]} · <a href=\"../README.html\">all exercises</a>"
        fi
    done
}
sequence lessons "$work/lessons.tsv"
sequence exercises "$work/exercises.tsv"

# A page line as pandoc's batch line (page.lua): SRC KIND INPUT OUTPUT, and
# the template's fields: root, and prev/next/crumbs.
batch_line() {
    local src kind input rest root outfile
    IFS=$'\t' read -r src kind input rest <<< "$1"
    case $kind in
        listing) outfile=$out/$src/index.html; root=$(root_of "$src/x") ;;
        source) outfile=$out/$src.html; root=$(root_of "$src") ;;
        *) outfile=$out/${src%.md}.html; root=$(root_of "$src") ;;
    esac
    printf '%s\t%s\t%s\t%s\troot=%s' "$src" "$kind" "$input" "$outfile" "$root"
    [ -n "$rest" ] && printf '\t%s' "$rest"
    printf '\n'
}

# Render the pages of FILE: the lines split among $jobs pandoc processes.
render_all() {
    local line n=0 i
    rm -f "$work"/batch.*
    while IFS= read -r line; do
        batch_line "$line" >> "$work/batch.$((n % jobs))"
        n=$((n + 1))
    done < "$1"
    cut -f4 "$work"/batch.* | while IFS= read -r f; do dirname "$f"; done | sort -u | xargs mkdir -p
    local -a pids=()
    for ((i = 0; i < jobs && i < n; i++)); do
        pandoc -f gfm -t html5 --standalone \
            --template=docs/site/template.html \
            --lua-filter=docs/site/page.lua \
            --highlight-style=tango \
            --syntax-definition=docs/site/trace.xml \
            -M "site-batch=$work/batch.$i" -M "site-files=$work/files" \
            -M "site-links=$work/links.$i" -M "site-languages=$work/languages" \
            -o /dev/null /dev/null 2> "$work/err.$i" &
        pids+=($!)
    done
    for i in "${!pids[@]}"; do
        wait "${pids[i]}" || { echo "site: pandoc failed:" >&2; cat "$work/err.$i" >&2; exit 1; }
    done
    cat "$work"/err.* 2>/dev/null | grep '^site: note: ' >&2 || true
    cat "$work"/err.* 2>/dev/null | grep -v '^site: note: ' >> "$work/warnings" || true
    cat "$work"/links.* 2>/dev/null >> "$work/links" || true
    rm -f "$work"/links.* "$work"/err.*
}

pandoc --list-highlight-languages > "$work/languages"
render_all "$pages"

# --- What the pages link to, until nothing is new ----------------------------------
cut -f1 "$pages" | sort -u > "$work/done"
for round in 1 2 3 4 5 6; do
    sort -u "$work/links" | while read -r what path; do
        case $what in
            md) key=$path ;;
            src) key=$path.src ;;
            dir) key=$path/ ;;
            asset) key=$path.asset ;;
        esac
        grep -qxF "$key" "$work/done" && continue
        echo "$key" >> "$work/done"
        case $what in
            md) [ -f "$path" ] && printf '%s\tlinked\t%s\n' "$path" "$path" ;;
            src) printf '%s\tsource\t/dev/null\n' "$path" ;;
            dir) printf '%s\tlisting\t/dev/null\n' "$path" ;;
            asset) [ -f "$path" ] && { mkdir -p "$out/$(dirname "$path")"; cp "$path" "$out/$path"; } ;;
        esac
    done > "$work/more"
    [ -s "$work/more" ] || break
    : > "$work/links"
    render_all "$work/more"
done

cp $site/site.css "$out/site.css"

if [ -s "$work/warnings" ]; then
    echo "site: warnings (fix them; the build fails on any):" >&2
    sort -u "$work/warnings" | sed 's/^/  /' >&2
    exit 1
fi
echo "site: $(find "$out" -name '*.html' | wc -l) pages, $(find "$out" -name '*.svg' | wc -l) pictures in ${out#"$here"/}"

#!/usr/bin/env bash
# release.sh DEST - what `make release` runs: write a student copy of the
# course to DEST, a new (or empty) directory.
#
# Copied: the course's own top-level entries (Makefile, lessons/, event1/,
# event2/, exercises/, tests/, docs/, .ci/, .gitignore), as they are, so
# the copy builds, runs the lessons and tests exercises the same way;
# grading it gives the visible tests only. Left out: the solutions
# (exercises/*/solution/), the known-wrong submissions (exercises/*/wrong/,
# each a near-solution), the hidden tests (exercises/*/tests/hidden*.c,
# and their lines in each points file), students' work/ directories, and
# anything else at the top of the tree (build/, .git/, a directory of
# submissions).
#
# Written for students, from exercises/grader/release/: README.md (the
# course's own speaks to instructors too), exercises/README.md, and
# docs/instructors.md (a page saying that grading happens elsewhere, so
# links to it still lead somewhere). Their tables of lessons and exercises
# come from the index (.ci/index.sh), in place of a line
# "<!-- release: lessons -->" or "<!-- release: exercises -->".
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$here" || exit 2
# shellcheck source=exercises/grader/common.sh
. exercises/grader/common.sh

dest=${1:-}
[ -n "$dest" ] || usage_error "no destination given (a new directory, outside the course)" \
    "make release DEST=DIR" "make release DEST=../libevent-course-2025"
if [ -e "$dest" ] && { [ ! -d "$dest" ] || [ -n "$(ls -A "$dest")" ]; }; then
    die "$dest exists and is not an empty directory; give a new one"
fi
mkdir -p "$dest" || die "cannot create $dest"
dest=$(cd "$dest" && pwd)
case $dest/ in
    "$here"/build/*) ;;
    "$here"/*) rmdir "$dest" 2>/dev/null; die "$dest is inside the course tree; give a directory outside it (or under build/)" ;;
esac

entries=()
for e in Makefile lessons event1 event2 exercises tests docs .ci .gitignore; do
    [ -e "$e" ] && entries+=("$e")
done
tar -C "$here" --exclude='exercises/*/solution' --exclude='exercises/*/wrong' \
    --exclude='exercises/*/tests/hidden*.c' \
    --exclude='exercises/*/work' -cf - "${entries[@]}" | tar -C "$dest" -xf - || die "copying to $dest failed"

# Each manifest keeps its comments and its visible tests only.
for points in "$dest"/exercises/*/points; do
    awk '/^[[:space:]]*(#|$)/ { print; next } $3 == "visible" { print }' "$points" > "$points.new" &&
        mv "$points.new" "$points" || die "cannot rewrite $points"
done

# The pages a student reads first, written for students.
# A table of KIND (lessons or exercises), linked from a page in FROM (the
# release's top, or exercises/).
table() { # kind from
    local n d title target
    target=$(index_target "$1")
    printf '| | %s | |\n|---|---|---|\n' "${target}"
    while IFS=$'\t' read -r n d title; do
        [ "$2" = exercises ] && d=${d#exercises/}
        printf '| %s | [%s](%s/) | `make %s-%d` |\n' "$n" "$title" "$d" "$target" "$((10#$n))"
    done < <(index_table "$1")
}
student_page() { # template destination from
    table lessons "$3" > "$work/lessons" && table exercises "$3" > "$work/exercises" &&
    awk -v lessons="$work/lessons" -v exercises="$work/exercises" '
        function insert(file,  line) { while ((getline line < file) > 0) print line; close(file) }
        $0 == "<!-- release: lessons -->" { insert(lessons); next }
        $0 == "<!-- release: exercises -->" { insert(exercises); next }
        { print }' "$1" > "$2" || die "cannot write $2"
}
work=$(mktemp -d) || die "cannot create a temporary directory"
trap 'rm -rf "$work"' EXIT
templates=exercises/grader/release
student_page "$templates/README.md" "$dest/README.md" .
student_page "$templates/exercises-README.md" "$dest/exercises/README.md" exercises
cp "$templates/instructors.md" "$dest/docs/instructors.md" || die "cannot write $dest/docs/instructors.md"

left=$(cd "$dest" && find . -path './exercises/*/solution' -o -path './exercises/*/wrong' \
    -o -path './exercises/*/tests/hidden*' | head -n 5)
[ -z "$left" ] || die "the copy still holds: $left"
n=$(ls -d "$dest"/exercises/[0-9][0-9]-*/ | wc -l)
echo "release: wrote $dest:"
echo "  the course and $n exercises (starters, hints, visible tests), with a"
echo "  README for students; no solutions, known-wrong submissions or hidden tests"

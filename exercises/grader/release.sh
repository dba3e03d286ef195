#!/usr/bin/env bash
# release.sh DEST - what `make release` runs: write a student copy of the
# course to DEST, a new (or empty) directory.
#
# Copied: the course's own top-level entries (Makefile, README.md,
# lessons/, event1/, event2/, exercises/, tests/, docs/, .ci/, .gitignore),
# as they are, so the copy builds, runs the lessons and tests exercises the
# same way; grading it gives the visible tests only. Left out: the
# solutions (exercises/*/solution/), the hidden tests
# (exercises/*/tests/hidden*.c, and their lines in each points file),
# students' work/ directories, and anything else at the top of the tree
# (build/, .git/, a directory of submissions).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$here" || exit 2
# shellcheck source=exercises/grader/common.sh
. exercises/grader/common.sh

dest=${1:-}
[ -n "$dest" ] || die "no destination: make release DEST=DIR"
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
for e in Makefile README.md lessons event1 event2 exercises tests docs .ci .gitignore; do
    [ -e "$e" ] && entries+=("$e")
done
tar -C "$here" --exclude='exercises/*/solution' --exclude='exercises/*/tests/hidden*.c' \
    --exclude='exercises/*/work' -cf - "${entries[@]}" | tar -C "$dest" -xf - || die "copying to $dest failed"

# Each manifest keeps its comments and its visible tests only.
for points in "$dest"/exercises/*/points; do
    awk '/^[[:space:]]*(#|$)/ { print; next } $3 == "visible" { print }' "$points" > "$points.new" &&
        mv "$points.new" "$points" || die "cannot rewrite $points"
done

left=$(cd "$dest" && find . -path './exercises/*/solution' -o -path './exercises/*/tests/hidden*' | head -n 5)
[ -z "$left" ] || die "the copy still holds: $left"
n=$(ls -d "$dest"/exercises/[0-9][0-9]-*/ | wc -l)
echo "release: wrote $dest: the course and $n exercises (starters, hints, visible tests); no solutions, no hidden tests"

#!/usr/bin/env bash
# gradescope.sh EXERCISE [DEST] - what `make gradescope` runs: write
# DEST/autograder-NN-slug.zip (DEST default $BUILD/gradescope), the
# autograder Gradescope takes for exercise EXERCISE (3, 03 or 03-slug).
#
# At the root of the zip: setup.sh and run_autograder (from
# exercises/grader/gradescope/), and as much of the course as grading one
# exercise needs, laid out as in the course so that the same Makefile and
# grade.sh run there: Makefile, .ci/ (the index, the purity check, the
# tools' C library), lessons/lib/ and the two style kits (the kit a
# submission is built with), exercises/grader/ (sandbox, harness, scripts)
# and exercises/NN-slug/ with its tests, the hidden ones included. Left
# out: the solution, the known-wrong submissions (wrong/), students' work/,
# and every other exercise and lesson. The zip is listed afterwards and
# refused (removed) if any of those is in it.
#
# setup.sh installs with apt what the grading needs: the course's tools,
# and curl for an exercise whose tests use it (grep of its tests/).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$here" || exit 2
# shellcheck source=exercises/grader/common.sh
. exercises/grader/common.sh

usage="make gradescope EXERCISE=N [DEST=DIR]"
example="make gradescope EXERCISE=3 DEST=../gradescope"
[ $# -ge 1 ] && [ $# -le 2 ] || usage_error "gradescope.sh takes 1 or 2 arguments" "$usage" "$example"
dir=$(resolve_exercise "$1" "$usage" "$example") || exit 2
slug=${dir#exercises/}
check_manifest "$dir" || exit 2
command -v zip >/dev/null && command -v unzip >/dev/null ||
    die "zip and unzip are needed: make deps (or: sudo apt-get install zip unzip)"

dest=${2:-${BUILD:-build}/gradescope}
mkdir -p "$dest" 2>/dev/null && [ -d "$dest" ] && [ -w "$dest" ] || die "cannot write to the directory $dest"
dest=$(cd "$dest" && pwd)
zip_file=$dest/autograder-$slug.zip

stage=$(mktemp -d) || die "cannot create a temporary directory"
trap 'rm -rf "$stage"' EXIT

# The course's files that grading one exercise needs, as they are in this
# tree (a build needs what the Makefile and grader.mk name).
entries=(Makefile .ci/index.sh .ci/purity.sh .ci/lib lessons/lib event1 event2 exercises/grader "$dir")
for e in "${entries[@]}"; do
    [ -e "$e" ] || die "$e is missing from the course: cannot package $slug"
done
tar -C "$here" --exclude="$dir/solution" --exclude="$dir/wrong" --exclude="$dir/work" \
    --exclude='exercises/grader/gradescope' --exclude='*.o' --exclude='*.d' \
    -cf - "${entries[@]}" | tar -C "$stage" -xf - || die "copying the course to $stage failed"

# The packages setup.sh installs: what builds and runs the grader, and
# what this exercise's tests call.
packages="make gcc libc6-dev binutils pkg-config libevent-dev check valgrind jq"
if grep -q -w curl "$dir"/tests/*; then
    packages+=" curl"
fi
for f in setup.sh run_autograder; do
    sed "s/@PACKAGES@/$packages/" "exercises/grader/gradescope/$f" > "$stage/$f" &&
        chmod 755 "$stage/$f" || die "cannot write $stage/$f"
done

rm -f "$zip_file"
(cd "$stage" && zip -q -r -X "$zip_file" .) || die "zip could not write $zip_file"

# What must never ship: checked on the zip itself, not on the copy.
bad=$(unzip -Z1 "$zip_file" | awk -v mine="$dir/" '
    /(^|\/)(solution|wrong|work)(\/|$)/ { print; next }
    /^exercises\/[0-9][0-9]-/ && index($0, mine) != 1 { print }')
if [ -n "$bad" ]; then
    rm -f "$zip_file"
    die "the zip would hold what must not ship; removed it: $(echo "$bad" | head -n 3 | tr '\n' ' ')"
fi
hidden=$(cd "$dir/tests" && ls hidden*.c 2>/dev/null | tr '\n' ' ')
echo "gradescope: wrote $(show_path "$zip_file")"
echo "  $(unzip -Z1 "$zip_file" | grep -vc '/$') files: setup.sh, run_autograder, the grader, the kit,"
echo "  exercise $slug's tests (hidden: ${hidden:-none}); no solution"
echo "Upload it as the autograder of a programming assignment (docs/instructors.md)."

#!/usr/bin/env bash
# wrong.sh - the known-wrong submissions, exercises/NN-slug/wrong/NAME/,
# each kept as its one change rather than as a copy: `expect` (what the
# mistake is, `base: solution` or `base: starter`, the tests that must
# catch it) and `change.patch` (a unified diff of the base's files, paths
# a/FILE and b/FILE, as `diff -u` or `git diff --no-index` writes them).
#
#   wrong.sh lay-out WRONG_DIR DEST      DEST (new or empty) gets the
#                                        base's files with the patch applied
#   wrong.sh grade EXERCISE NAME [OUT]   what `make grade EXERCISE=N
#                                        WRONG=NAME` runs: lays NAME out in
#                                        $BUILD/wrong/NN-slug/NAME, then
#                                        grade.sh grades it (OUT default
#                                        $BUILD/grades/NN-slug/wrong-NAME)
#
# The patch must apply as it is (patch --fuzz=0; a hunk may have moved):
# when the base has changed where the mistake is made, laying it out fails,
# naming the patch, and the mistake has to be made again on the new base
# (docs/instructors.md, "Add a known-wrong submission"). Exit status 2
# when it cannot be laid out, with a message saying why.
set -uo pipefail

# Paths given relative to where we were called from, before cd.
absolute() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
mode=${1:-}
if [ "$mode" = lay-out ] && [ $# -eq 3 ] && [ -n "$2" ] && [ -n "$3" ]; then
    set -- "$1" "$(absolute "$2")" "$(absolute "$3")"
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$here" || exit 2
# shellcheck source=exercises/grader/common.sh
. exercises/grader/common.sh

# Lay out the known-wrong submission in $1 into $2.
lay_out() { # wrong-dir dest
    local known dest=$2 exercise base patch expect files=() f named
    known=$(cd "$1" 2>/dev/null && pwd) || die "there is no known-wrong submission $1"
    exercise=$(show_path "$(dirname "$(dirname "$known")")")
    known=$(show_path "$known")
    patch=$known/change.patch expect=$known/expect
    [ -f "$expect" ] || die "$known has no expect file"
    [ -f "$patch" ] || die "$known has no change.patch (the mistake, as a diff of its base)"
    base=$(sed -n 's/^base:[[:space:]]*//p' "$expect" | tr -d '[:space:]')
    case $base in
        solution | starter) ;;
        *) die "$expect: want a line \"base: solution\" or \"base: starter\" (the files its change.patch changes)" ;;
    esac
    [ -d "$exercise/$base" ] || die "$exercise has no $base/ for $patch to change"
    mapfile -t files < <(starter_files "$exercise")
    # A patch may change the starter's files only: they are what is graded.
    while read -r named; do
        named=${named#+++ }
        named=${named%%$'\t'*}
        named=${named#b/}
        printf '%s\n' "${files[@]}" | grep -q -x -F -- "$named" ||
            die "$patch changes '$named', not one of the files graded (${files[*]})"
    done < <(grep '^+++ ' "$patch")
    grep -q '^@@ ' "$patch" || die "$patch changes nothing: it holds no hunk"
    if [ -e "$dest" ] && { [ ! -d "$dest" ] || [ -n "$(ls -A "$dest")" ]; }; then
        die "$dest exists and is not an empty directory"
    fi
    mkdir -p "$dest" || die "cannot create $dest"
    for f in "${files[@]}"; do
        cp -- "$exercise/$base/$f" "$dest/$f" || die "cannot copy $exercise/$base/$f to $dest"
    done
    local out
    if ! out=$(patch --batch --forward --fuzz=0 --no-backup-if-mismatch --reject-file=- \
        --quiet -p1 -d "$dest" -i "$(absolute "$patch")" 2>&1); then
        (cd "$dest" && rm -f -- "${files[@]}")
        {
            echo "error: $(show_path "$patch") no longer applies to $exercise/$base/:"
            sed 's/^/  /' <<< "$out"
            echo "  the base changed where the mistake is made: make the mistake again on"
            echo "  the new $base and write the patch anew (docs/instructors.md, section 7)"
        } >&2
        exit 2
    fi
}

case $mode in
lay-out)
    [ $# -eq 3 ] && [ -n "$2" ] && [ -n "$3" ] ||
        usage_error "wrong.sh lay-out takes a known-wrong submission and a destination" \
            "wrong.sh lay-out exercises/NN-slug/wrong/NAME DEST" \
            "wrong.sh lay-out exercises/04-echo-server/wrong/no-backpressure build/tmp/w"
    lay_out "$2" "$3"
    ;;
grade)
    usage="make grade EXERCISE=N WRONG=NAME [OUT=DIR]"
    example="make grade EXERCISE=4 WRONG=never-ignores-sigpipe"
    [ $# -ge 3 ] && [ $# -le 4 ] || usage_error "wrong.sh grade takes 2 or 3 arguments" "$usage" "$example"
    [ -z "${SUBMISSION:-}" ] || usage_error "give SUBMISSION or WRONG, not both" "$usage" "$example"
    dir=$(resolve_exercise "$2" "$usage" "$example") || exit 2
    slug=${dir#exercises/}
    name=$3 out=${4:-}
    if [ ! -d "$dir/wrong/$name" ] || [ -z "$name" ] || [[ $name == */* ]]; then
        known=$(cd "$dir" && ls wrong 2>/dev/null | paste -s -d ' ')
        [ -n "$known" ] || die "exercise $slug has no known-wrong submissions here (a release leaves them out)"
        die "exercise $slug has no known-wrong submission '$name'; it has: $known"
    fi
    submission=$BUILD/wrong/$slug/$name
    rm -rf "$submission"
    lay_out "$dir/wrong/$name" "$submission"
    fit "known-wrong $name: $(sed -n 's/^description:[[:space:]]*//p' "$dir/wrong/$name/expect")" "$(term_width)"
    exec exercises/grader/grade.sh "$dir" "$submission" "${out:-$BUILD/grades/$slug/wrong-$name}"
    ;;
*)
    usage_error "wrong.sh: say lay-out or grade" "wrong.sh lay-out WRONG_DIR DEST | wrong.sh grade EXERCISE NAME [OUT]" \
        "wrong.sh grade 4 never-ignores-sigpipe"
    ;;
esac

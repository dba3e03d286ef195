#!/usr/bin/env bash
# setup.sh - Gradescope runs this once, as root, when it builds the
# autograder's image (Ubuntu), the zip unpacked in $AUTOGRADER_ROOT/source
# (AUTOGRADER_ROOT: default /autograder). Written into the zip by `make
# gradescope` (exercises/grader/gradescope.sh, which fills in the packages).
#
#   1. apt: what building and grading need (SKIP_APT=1 skips it, on a
#      machine that has them: the course's tests run the build step alone);
#   2. make, once: the sandbox, the exercise's graded tests (the hidden ones
#      included) and the kit, so that each submission builds only its own
#      files (run_autograder).
set -euo pipefail
root=${AUTOGRADER_ROOT:-/autograder}

if [ "${SKIP_APT:-0}" != 1 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends @PACKAGES@
fi

cd "$root/source"
# The package holds one exercise.
exercise=$(.ci/index.sh dirs exercises)
[ "$(echo "$exercise" | wc -l)" -eq 1 ] || { echo "setup.sh: want one exercise in $root/source/exercises, found: $exercise" >&2; exit 2; }
make BUILD=build grade-deps EXERCISE="$exercise"
echo "setup.sh: built the grader of $exercise"

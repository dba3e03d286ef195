#!/usr/bin/env bash
# prepare.sh KIT DEST FILE... - lay out a submission to build: DEST/ (new
# or empty) gets the FILEs, the kit (KIT, as `make` assembles it under
# build/exercises/kit: the headers a variant includes, the two styles'
# probe objects, the support archive) as DEST/kit/, and build-submission.sh
# as DEST/build.sh. The one way the course copies the kit: grade.sh uses it
# for every submission, `make memcheck` for every solution.
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: prepare.sh KIT DEST FILE..." >&2; exit 2; }
kit=$1 dest=$2
shift 2
for f in lessons event1 event2 event1-probe.o event2-probe.o libsupport.a; do
    [ -e "$kit/$f" ] || { echo "prepare.sh: $kit/$f is missing: build the kit with make" >&2; exit 2; }
done
mkdir -p "$dest/kit"
cp -R "$kit/." "$dest/kit/"
cp -- "$@" "$dest/"
cp "$(dirname "${BASH_SOURCE[0]}")/build-submission.sh" "$dest/build.sh"

#!/usr/bin/env bash
# build-submission.sh - compile and link a submission. grade.sh copies this
# script, the student's files and the kit (headers, probe objects, support
# archive) into a fresh directory and runs it there inside the sandbox, as
# the sandbox user: the compiler never sees more of the course than that.
#
# Each event1*.c / event2*.c file becomes the program of the same name
# (event2-server.c -> event2-server), compiled with the course's flags for
# its style and linked with that style's probe. -Werror is left out: a
# warning is shown, it does not cost every point. Purity is not checked
# here: it is a graded test (the starter of exercise 01 is impure on purpose).
#
# Environment (from grade.sh): CC, KIT_CFLAGS, LIBEVENT_CFLAGS, LIBEVENT_LIBS.
set -u
status=0
shopt -s nullglob
for source in event1*.c event2*.c; do
    name=${source%.c}
    style=${name:0:6}
    # shellcheck disable=SC2086 # the flags are lists
    if ! $CC -std=c11 -Wall -Wextra $KIT_CFLAGS -D_DEFAULT_SOURCE -Ikit/lessons -Ikit/$style \
            $LIBEVENT_CFLAGS -MD -c "$source" -o "$name.o"; then
        echo "build: $source did not compile"
        status=1
        continue
    fi
    # shellcheck disable=SC2086
    if ! $CC $KIT_CFLAGS -o "$name" "$name.o" "kit/$style-probe.o" kit/libsupport.a $LIBEVENT_LIBS; then
        echo "build: $name did not link"
        status=1
    fi
done
exit $status

/*
 * internal.h - what the harness's files share. The graded tests include
 * harness.h only.
 *
 *   register.c  registering graded tests
 *   process.c   running the student's program in the sandbox
 *   trace.c     judging output: excerpts, expected traces
 *   purity.c    judging the code: the purity check, nm
 *   tcp.c       talking to the program over TCP
 *   common.c    the helpers below
 *
 * Out of memory, the harness abort()s: the test then errors, which no
 * submission can be blamed for.
 */
#ifndef EXERCISES_HARNESS_INTERNAL_H
#define EXERCISES_HARNESS_INTERNAL_H

#include "harness.h"

#include <poll.h>
#include <stddef.h>

/* What poll() reports for a descriptor with something to read (or EOF). */
#define HARNESS_READABLE (POLLIN | POLLHUP | POLLERR)

/* The value of the environment variable `name`, one grade.sh sets; fails
   the test (as a grader error) when it is not set. */
const char *harness_env(const char *name);

/* "a/b", allocated. */
char *harness_join(const char *a, const char *b);

/* Append n bytes of data to *buf (*len bytes so far), which stays
   NUL-terminated. */
void harness_append(char **buf, size_t *len, const char *data, size_t n);

/* GRADE_PROGRAMS/name, allocated; fails the test if the build did not
   make it. */
char *harness_program_path(const char *name);

#endif

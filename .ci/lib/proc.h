/*
 * proc.h - running a program and reading what it left: what the course's
 * tools (build/bin/course), the grader's harness and the test suites share.
 */
#ifndef CI_PROC_H
#define CI_PROC_H

#include <stdbool.h>
#include <stddef.h>

/* Remove EVENT_*, MAKEFLAGS, MAKELEVEL and MFLAGS from this process's
   environment, then add the NAME=VALUE settings in env (may be NULL): what
   a lesson program must see. libevent reads EVENT_* variables
   (EVENT_NOEPOLL, EVENT_SHOW_METHOD, ...), and the expected traces were made
   without them; make's variables would leak a parent's -j into a child make. */
void scrub_environment(const char *const env[]);

struct run_result {
    char *out;       /* everything written to stdout (NUL-terminated) */
    char *err;       /* everything written to stderr */
    int status;      /* exit status, or 128 + signal number */
    bool timed_out;  /* killed after the time limit */
};

/* Run argv[0] (looked up in PATH) in its own process group, standard input
   /dev/null, its environment scrubbed (scrub_environment(env)), capturing
   what it prints. The whole group is killed after timeout_ms, and when the
   program ends (anything it left behind). */
void run_program(const char *const argv[], const char *const env[], int timeout_ms,
                 struct run_result *result);
void run_result_free(struct run_result *result);

/* A file's contents, NUL-terminated; NULL if it cannot be read. */
char *read_file(const char *path);

/* Remove a directory tree (not following symbolic links). */
void remove_tree(const char *path);

#endif

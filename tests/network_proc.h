/*
 * network_proc.h - a lesson server run as a process of its own, for the
 * lessons and network suites: .ci/lib/server.h (the course's one way of
 * starting a server on port 0, reading its port and stopping it by pid)
 * with a scratch directory for its output under build/tmp, and a failed
 * test when it does not start.
 *
 * It dies with the test process that started it (PR_SET_PDEATHSIG): a test
 * that fails, or is killed by Check's timeout, leaves nothing behind.
 * netproc_kill() in a teardown kills the whole group.
 */
#ifndef TESTS_NETWORK_PROC_H
#define TESTS_NETWORK_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "server.h"

struct netproc {
    struct server s; /* s.pid (0 once reaped), s.port, s.status */
    char *dir;       /* scratch directory holding the two files */
    char *out_path, *err_path;
};

/* Start program --port 0 (plus extra, NULL-terminated, may be NULL) and wait
   until it has printed its listening line; a failed test if it does not. */
void netproc_start(struct netproc *p, const char *program, const char *const extra[]);

/* Start argv[0] (argv NULL-terminated) as netproc_start() does, without
   adding --port; returns false, with the output left in p, if it exits
   without a listening line or prints none within timeout_ms. True means
   the line was printed, not that the process still runs. */
bool netproc_try_start(struct netproc *p, const char *const argv[], int timeout_ms);

/* Like netproc_try_start(), but the program starts with signal sig
   pending and blocked, as if it had been sent before the program could
   handle it (pending signals survive execve()). */
bool netproc_try_start_with_pending(struct netproc *p, const char *const argv[], int sig,
                                    int timeout_ms);

/* Send sig and wait up to timeout_ms for the process to exit. Returns its
   status (p->s.status), or -1 if it did not exit (it is then killed). */
int netproc_stop(struct netproc *p, int sig, int timeout_ms);

/* Kill the process group and reap; safe on a stopped or never started
   netproc. For teardowns. */
void netproc_kill(struct netproc *p);

/* Remove the scratch directory and free the strings (after a stop/kill). */
void netproc_release(struct netproc *p);

/* Still running? */
bool netproc_alive(struct netproc *p);

/* What it wrote so far: all of stdout; its trace (stdout without the
   listening line); stderr. Caller frees. */
char *netproc_output(const struct netproc *p);
char *netproc_trace(const struct netproc *p);
char *netproc_errors(const struct netproc *p);

/* Open file descriptors of a process (entries of /proc/PID/fd), -1 if it
   cannot be read. */
int netproc_fd_count(pid_t pid);

/* A "Vm..." field of /proc/PID/status in kB ("VmRSS", "VmHWM"), -1 if
   absent. */
long netproc_memory_kb(pid_t pid, const char *field);

#endif

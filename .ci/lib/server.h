/*
 * server.h - a lesson server run as a process of its own: started with
 * --port 0, its port read from its first line ("listening on
 * 127.0.0.1:PORT"), stopped by pid. The one implementation of this in the
 * course: `make lesson-N` and `make memcheck` use it through
 * `build/bin/course serve`, the network and lesson suites directly.
 *
 * The server runs in its own process group, its environment scrubbed as
 * the expected traces were made (scrub_environment()), stdin /dev/null,
 * stdout and stderr into files (so a chatty server never blocks on a full
 * pipe), and it dies with the process that started it (PR_SET_PDEATHSIG):
 * a test that fails, or a tool that is killed, leaves nothing behind.
 */
#ifndef CI_SERVER_H
#define CI_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

struct server {
    pid_t pid;        /* 0 once reaped */
    int port;         /* -1 until its listening line is read */
    int status;       /* once reaped: exit status, or 128 + signal number */
    const char *out_path, *err_path; /* where its stdout and stderr go */
};

/* Start argv[0] (looked up in PATH; argv NULL-terminated, used as given: add
   "--port", "0" yourself) with stdout to out_path and stderr to err_path.
   With pending_signal non-zero it starts with that signal pending and
   blocked, as if sent before the program could handle it (pending signals
   survive execve()). Wait up to timeout_ms for its listening line. True
   once the line is read (whether or not the process still runs); false
   if it ended without one, printed something else first, or printed
   nothing in time (it is then still running: server_kill() it). */
bool server_start(struct server *s, const char *const argv[], const char *out_path,
                  const char *err_path, int pending_signal, int timeout_ms);

/* Still running? (Reaps it if it has ended.) */
bool server_alive(struct server *s);

/* Send sig to the server (its pid, not its group) and wait up to
   timeout_ms for it to exit. Returns its status (s->status), or -1 if it
   did not exit in time (it is then killed, with its group). */
int server_stop(struct server *s, int sig, int timeout_ms);

/* Kill the server's process group and reap it; safe on one already
   reaped or never started. */
void server_kill(struct server *s);

#endif

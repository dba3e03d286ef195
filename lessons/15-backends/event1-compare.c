/*
 * Lesson 15, event1 style: the same program on every backend.
 *
 * What it shows: one small scenario, run on each backend libevent offers
 *   on Linux (epoll, poll, select), one base after the other. A timer writes
 *   a byte into a pipe; the pipe's reader reads it and raises SIGUSR1; the
 *   signal's callback deletes its event, and the loop runs out. Each
 *   callback starts the next, so one thing is ready at a time and the order
 *   cannot depend on how a backend asks the kernel. 1.x chose a backend
 *   only through the environment, read by event_init(): EVENT_NOEPOLL,
 *   EVENT_NOPOLL, EVENT_NOSELECT. And event_init() exits the process when
 *   no backend is left, so each backend is tried in a child process, which
 *   sets the variables for itself.
 * Run it:   make lesson-15                 (every role, both styles)
 *           build/bin/15-event1-compare    (this program alone)
 * Look for: three blocks that differ only in "base created method=...".
 *   A backend this system lacks says "the child exited with status 1" in
 *   its block, and libevent says why on stderr.
 */
#include "event1.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The backends libevent has on Linux, in its order of preference, and the
   variables that rule them out (1.4 also knew evport, kqueue and devpoll,
   of other systems). */
static const char *const backends[] = { "epoll", "poll", "select" };
static const char *const variables[] = { "EVENT_NOEPOLL", "EVENT_NOPOLL", "EVENT_NOSELECT" };
enum { NBACKENDS = sizeof backends / sizeof backends[0] };

static int fds[2]; /* the pipe: the timer writes, the reader reads */

/* doc: base_for */
/* The current base, on method alone: every other backend's EVENT_NO*
   variable is set (to anything: libevent only asks whether it is set).
   event_init() exits the process when no backend is left. */
static struct event_base *base_for(const char *method)
{
    char set[128] = "";
    for (size_t i = 0; i < NBACKENDS; i++) {
        if (strcmp(backends[i], method) == 0)
            continue;
        if (setenv(variables[i], "1", 1) != 0)
            die_errno("setenv");
        snprintf(set + strlen(set), sizeof set - strlen(set), " %s=1", variables[i]);
    }
    trace_style("setenv%s, then event_init()", set);
    return event_init();
}
/* doc: end */

static void on_tick(int fd, short what, void *arg)
{
    struct event *self = arg;
    (void)fd;
    probe_callback(self, what);
    if (write(fds[1], "x", 1) != 1)
        die_errno("write");
    trace_note("wrote a byte into the pipe");
    probe_after(self);
}

static void on_readable(int fd, short what, void *arg)
{
    struct event *self = arg;
    char byte;
    probe_callback(self, what);
    if (read(fd, &byte, 1) != 1)
        die_errno("read");
    if (raise(SIGUSR1) != 0)
        die_errno("raise");
    trace_note("read the byte; raised SIGUSR1");
    probe_after(self);
}

static void on_sigusr1(int signum, short what, void *arg)
{
    struct event *self = arg;
    (void)signum;
    probe_callback(self, what);
    if (signal_del(self) != 0)
        die("signal_del");
    probe_step(self, "deleted");
    probe_after(self);
}

/* doc: scenario */
/* The scenario: the same calls whatever the base's backend. */
static void scenario(void)
{
    if (pipe(fds) != 0)
        die_errno("pipe");
    static struct event tick_ev, reader_ev, usr1_ev;
    struct event *tick = &tick_ev, *reader = &reader_ev, *usr1 = &usr1_ev;
    evtimer_set(tick, on_tick, tick);
    event_set(reader, fds[0], EV_READ, on_readable, reader);
    signal_set(usr1, SIGUSR1, on_sigusr1, usr1);
    probe_watch(tick, "tick");
    probe_watch(reader, "reader");
    probe_watch(usr1, "usr1");

    if (event_add(reader, NULL) != 0)
        die("event_add");
    probe_added(reader, NULL);
    if (signal_add(usr1, NULL) != 0)
        die("signal_add");
    probe_added(usr1, NULL);
    struct timeval ten_ms = { 0, 10 * 1000 };
    if (evtimer_add(tick, &ten_ms) != 0)
        die("evtimer_add");
    probe_added(tick, &ten_ms);

    trace("loop", "dispatch", NULL);
    int result = event_dispatch();
    trace("loop", "returned", "result=%d", result);
    /* doc: end */

    probe_free(tick); /* static storage: nothing to free */
    probe_free(reader);
    probe_free(usr1);
    close(fds[0]);
    close(fds[1]);
}

/* doc: run_on */
static void run_on(const char *method)
{
    trace_note("backend %s", method);
    fflush(NULL); /* nothing buffered may be written twice */
    pid_t pid = fork();
    if (pid < 0)
        die_errno("fork");
    if (pid == 0) { /* the child: its variables are its own */
        struct event_base *base = base_for(method);
        if (base == NULL)
            die("event_init");
        trace("base", "created", "method=%s", event_get_method());
        scenario();
        event_base_free(base);
        trace("base", "freed", NULL);
        exit(EXIT_SUCCESS);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid)
        die_errno("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        trace_style("the child exited with status %d",
                    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}
/* doc: end */

int main(int argc, char **argv)
{
    if (argc > 1) {
        fprintf(stderr, "usage: %s (no arguments)\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < NBACKENDS; i++)
        run_on(backends[i]);
    return 0;
}

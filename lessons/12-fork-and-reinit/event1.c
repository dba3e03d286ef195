/*
 * Lesson 12, event1 style: fork() and event_reinit().
 *
 * What it shows: a read event added before fork() exists in the child too
 *   (fork copies the base), but with the epoll backend parent and child also
 *   share one kernel epoll object. Round 1: the child runs its loop without
 *   event_reinit(); its reader fires and, being non-persistent, is deleted,
 *   and that delete reaches the shared epoll object: the parent's reader is
 *   still pending as far as libevent knows, its socket is readable, and it
 *   never runs. Round 2: the child calls event_reinit() first, which gives
 *   it an epoll object of its own; the parent's reader runs. event_reinit()
 *   is 1.4 API too; it takes the base event_init() returned.
 *   The parent waits for the child (waitpid) before it goes on, so the
 *   child's lines always come between "child forked" and "child exited".
 * Run it:   make lesson-12          (both styles side by side)
 *           build/bin/12-event1     (this program alone)
 * Look for: in round 1, "loop returned result=0" with no reader callback
 *   although "the socket is readable"; in round 2, "parent read message 2".
 */
#include "event1.h"

#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *process = "parent"; /* "child" after fork() */

/* doc: callback */
static void on_readable(int fd, short what, void *arg)
{
    struct event *self = arg;
    char message;

    probe_callback(self, what);
    if (read(fd, &message, 1) != 1)
        die_errno("read");
    trace_note("%s read message %c", process, message);
    probe_after(self);
}
/* doc: end */

static void send_message(int fd, char message)
{
    if (write(fd, &message, 1) != 1)
        die_errno("write");
}

/* Whether a byte is waiting on fd, asked of the kernel, not of libevent. */
static bool readable(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int n = poll(&p, 1, 0);
    if (n < 0)
        die_errno("poll");
    return n == 1 && (p.revents & POLLIN);
}

/* doc: child */
/* The child: it runs its own loop once (its copy of reader takes message 1),
   frees everything it inherited, and exits. */
static _Noreturn void child(struct event_base *base, struct event *reader, int fds[2],
                            bool reinit)
{
    process = "child";
    trace("child", "forked", NULL);
    if (reinit) {
        if (event_reinit(base) != 0)
            die("event_reinit");
        trace_note("child called event_reinit(base)");
    }
    probe_step(reader, "seen"); /* added before fork(): pending here too */

    trace("loop", "dispatch", NULL);
    int result = event_dispatch();
    trace("loop", "returned", "result=%d", result);

    probe_free(reader); /* static storage: nothing to free */
    event_base_free(base); /* the child's copy; valgrind checks the child too */
    trace("base", "freed", NULL);
    close(fds[0]);
    close(fds[1]);
    exit(EXIT_SUCCESS);
}
/* doc: end */

static void round_trip(bool reinit)
{
    trace_note("round %d: the child %s event_reinit()", reinit ? 2 : 1,
               reinit ? "calls" : "does not call");
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        die_errno("socketpair");

    /* A new global base each round; the last one was freed. */
    struct event_base *base = event_init();
    if (base == NULL)
        die("event_init");
    trace("base", "created", "method=%s", event_get_method());

    static struct event reader_ev;
    struct event *reader = &reader_ev;
    event_set(reader, fds[0], EV_READ, on_readable, reader);
    probe_watch(reader, "reader");
    if (event_add(reader, NULL) != 0)
        die("event_add");
    probe_added(reader, NULL);

    /* doc: fork */
    send_message(fds[1], '1'); /* for the child */
    trace_note("message 1 written; fork()");
    fflush(NULL); /* nothing buffered may be written twice */
    pid_t pid = fork();
    if (pid < 0)
        die_errno("fork");
    if (pid == 0)
        child(base, reader, fds, reinit);

    /* The parent prints nothing until the child is gone. */
    int status;
    if (waitpid(pid, &status, 0) != pid)
        die_errno("waitpid");
    trace("child", "exited", "status=%d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    /* doc: end */

    /* doc: parent */
    probe_step(reader, "seen");
    send_message(fds[1], '2'); /* for the parent */
    trace_note("message 2 written; the socket is %s", readable(fds[0]) ? "readable" : "empty");

    trace("loop", "nonblock", NULL);
    int result = event_loop(EVLOOP_NONBLOCK);
    trace("loop", "returned", "result=%d", result);
    probe_step(reader, "seen");
    trace_note("message 2 %s", readable(fds[0]) ? "is still waiting" : "was read");
    /* doc: end */

    if (event_del(reader) != 0)
        die("event_del");
    probe_step(reader, "deleted");
    probe_free(reader); /* static storage: nothing to free */
    event_base_free(base);
    trace("base", "freed", NULL);
    close(fds[0]);
    close(fds[1]);
}

int main(void)
{
    round_trip(false);
    round_trip(true);
    return 0;
}

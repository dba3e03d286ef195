/*
 * Lesson 15, event1 style: how a base gets its backend.
 *
 * What it shows: 1.x had no call that listed the backends, no features to
 *   ask for and no configuration: event_init() takes the first backend in
 *   libevent's order of preference that is not ruled out and starts, and
 *   the only way to rule one out is the environment (EVENT_NOEPOLL,
 *   EVENT_NOPOLL, EVENT_NOSELECT, set to anything). The default base gets
 *   epoll, which cannot watch a regular file: event_add() fails. With
 *   EVENT_NOEPOLL set, event_init() takes poll, which can. With every
 *   backend ruled out event_init() does not return NULL: it exits the
 *   process, so a child process tries that.
 * Run it:   make lesson-15                 (every role, both styles)
 *           build/bin/15-event1-choose     (this program alone)
 * Look for: "base created method=epoll" for the default base and
 *   "event_add() returned -1" for its file; "method=poll" and a callback
 *   for the file with EVENT_NOEPOLL set; "the child exited with status 1"
 *   when nothing is left.
 */
#include "event1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void show_base(void)
{
    trace("base", "created", "method=%s", event_get_method());
}

static void on_file(int fd, short what, void *arg)
{
    struct event *self = arg;
    char buf[64];
    probe_callback(self, what);
    ssize_t n = pread(fd, buf, sizeof buf, 0);
    if (n < 0)
        die_errno("pread");
    trace_note("the file is readable: %zd bytes", n);
    probe_after(self);
}

/* doc: file */
/* A read event on a regular file, added to the current base, and one loop
   pass. */
static void watch_file(int file)
{
    static struct event file_ev;
    struct event *ev = &file_ev;
    event_set(ev, file, EV_READ, on_file, ev);
    probe_watch(ev, "file");
    if (event_add(ev, NULL) != 0) { /* libevent says why on stderr */
        trace_note("event_add() returned -1: %s cannot watch a regular file",
                   event_get_method());
        probe_step(ev, "seen");
    } else {
        probe_added(ev, NULL);
        trace("loop", "nonblock", NULL);
        int result = event_loop(EVLOOP_NONBLOCK);
        trace("loop", "returned", "result=%d", result);
    }
    probe_free(ev); /* static storage: nothing to free */
}
/* doc: end */

static void free_base(struct event_base *base)
{
    event_base_free(base);
    trace("base", "freed", NULL);
}

static void set_variable(const char *name)
{
    if (setenv(name, "1", 1) != 0)
        die_errno("setenv");
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        fprintf(stderr, "usage: %s (no arguments)\n", argv[0]);
        return 2;
    }
    FILE *tmp = tmpfile(); /* a regular file, gone when closed */
    if (tmp == NULL || fputs("hello\n", tmp) == EOF || fflush(tmp) != 0)
        die_errno("tmpfile");
    int file = fileno(tmp);

    /* doc: offered */
    trace_note("what this libevent offers, in its order of preference");
    trace_style("1.x had no call that lists them");
    /* doc: end */

    /* doc: default */
    trace_note("a default base: the first backend not ruled out that starts");
    trace_style("event_init()");
    struct event_base *base = event_init();
    if (base == NULL)
        die("event_init");
    show_base();
    watch_file(file);
    free_base(base);
    /* doc: end */

    /* doc: require */
    trace_note("a base that can watch a regular file");
    set_variable("EVENT_NOEPOLL");
    trace_style("no features to ask for: setenv EVENT_NOEPOLL=1, then event_init()");
    if ((base = event_init()) == NULL)
        die("event_init");
    show_base();
    watch_file(file);
    free_base(base);
    if (unsetenv("EVENT_NOEPOLL") != 0)
        die_errno("unsetenv");
    /* doc: end */

    /* doc: none */
    trace_note("when no backend qualifies");
    trace_style("every EVENT_NO* set, in a child: event_init() exits when nothing is left");
    fflush(NULL); /* nothing buffered may be written twice */
    pid_t pid = fork();
    if (pid < 0)
        die_errno("fork");
    if (pid == 0) {
        set_variable("EVENT_NOEPOLL");
        set_variable("EVENT_NOPOLL");
        set_variable("EVENT_NOSELECT");
        if ((base = event_init()) != NULL) { /* not on Linux: say so if it ever is */
            show_base();
            free_base(base);
        }
        exit(EXIT_SUCCESS);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid)
        die_errno("waitpid");
    trace_style("the child exited with status %d",
                WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        trace_note("no base");
    /* doc: end */

    /* doc: environment */
    trace_note("EVENT_NOEPOLL set in the environment");
    set_variable("EVENT_NOEPOLL");
    trace_style("event_init()");
    if ((base = event_init()) == NULL)
        die("event_init");
    show_base();
    free_base(base);
    trace_style("1.x had no way to ignore the environment");
    if (unsetenv("EVENT_NOEPOLL") != 0)
        die_errno("unsetenv");
    /* doc: end */

    fclose(tmp);
    return 0;
}

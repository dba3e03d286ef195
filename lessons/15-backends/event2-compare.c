/*
 * Lesson 15, event2 style: the same program on every backend.
 *
 * What it shows: one small scenario, run on each backend libevent offers
 *   on Linux (epoll, poll, select), one base after the other. A timer writes
 *   a byte into a pipe; the pipe's reader reads it and raises SIGUSR1; the
 *   signal's callback deletes its event, and the loop runs out. Each
 *   callback starts the next, so one thing is ready at a time and the order
 *   cannot depend on how a backend asks the kernel. Each base gets the
 *   backend it is asked for because event_config_avoid_method() rules out
 *   every other one.
 * Run it:   make lesson-15                 (every role, both styles)
 *           build/bin/15-event2-compare    (this program alone)
 * Look for: three blocks that differ only in "base created method=...".
 *   A backend this system lacks says "event_base_new_with_config()
 *   returned NULL" in its block and runs nothing.
 */
#include "event2.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The backends libevent has on Linux, in its order of preference. */
static const char *const backends[] = { "epoll", "poll", "select" };
enum { NBACKENDS = sizeof backends / sizeof backends[0] };

static int fds[2]; /* the pipe: the timer writes, the reader reads */

/* doc: base_for */
/* A base on method alone: every other backend libevent knows is avoided.
   NULL when method is not available here. */
static struct event_base *base_for(const char *method)
{
    struct event_config *cfg = event_config_new();
    if (cfg == NULL)
        die("event_config_new");
    /* libevent's own array, valid until the next call: not kept, not freed. */
    const char **methods = event_get_supported_methods();
    if (methods == NULL)
        die("event_get_supported_methods");
    char avoided[128] = "";
    for (size_t i = 0; methods[i] != NULL; i++) {
        if (strcmp(methods[i], method) == 0)
            continue;
        if (event_config_avoid_method(cfg, methods[i]) != 0)
            die("event_config_avoid_method");
        snprintf(avoided + strlen(avoided), sizeof avoided - strlen(avoided), " %s", methods[i]);
    }
    trace_style("event_config_avoid_method():%s", avoided);
    struct event_base *base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    return base;
}
/* doc: end */

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct event *self = arg;
    (void)fd;
    probe_callback(self, what);
    if (write(fds[1], "x", 1) != 1)
        die_errno("write");
    trace_note("wrote a byte into the pipe");
    probe_after(self);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
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

static void on_sigusr1(evutil_socket_t signum, short what, void *arg)
{
    struct event *self = arg;
    (void)signum;
    probe_callback(self, what);
    if (event_del(self) != 0)
        die("event_del");
    probe_step(self, "deleted");
    probe_after(self);
}

/* doc: scenario */
/* The scenario: the same calls whatever the base's backend. */
static void scenario(struct event_base *base)
{
    if (pipe(fds) != 0)
        die_errno("pipe");
    struct event *tick = evtimer_new(base, on_tick, event_self_cbarg());
    struct event *reader = event_new(base, fds[0], EV_READ, on_readable, event_self_cbarg());
    struct event *usr1 = evsignal_new(base, SIGUSR1, on_sigusr1, event_self_cbarg());
    if (tick == NULL || reader == NULL || usr1 == NULL)
        die("event_new");
    probe_watch(tick, "tick");
    probe_watch(reader, "reader");
    probe_watch(usr1, "usr1");

    if (event_add(reader, NULL) != 0)
        die("event_add");
    probe_added(reader, NULL);
    if (evsignal_add(usr1, NULL) != 0)
        die("evsignal_add");
    probe_added(usr1, NULL);
    const struct timeval ten_ms = { 0, 10 * 1000 };
    if (evtimer_add(tick, &ten_ms) != 0)
        die("evtimer_add");
    probe_added(tick, &ten_ms);

    trace("loop", "dispatch", NULL);
    int result = event_base_dispatch(base);
    trace("loop", "returned", "result=%d", result);
    /* doc: end */

    probe_free(tick);
    probe_free(reader);
    probe_free(usr1);
    event_free(tick);
    event_free(reader);
    event_free(usr1);
    close(fds[0]);
    close(fds[1]);
}

/* doc: run_on */
static void run_on(const char *method)
{
    trace_note("backend %s", method);
    struct event_base *base = base_for(method);
    if (base == NULL) {
        trace_style("event_base_new_with_config() returned NULL");
        return;
    }
    trace("base", "created", "method=%s", event_base_get_method(base));
    scenario(base);
    event_base_free(base);
    trace("base", "freed", NULL);
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

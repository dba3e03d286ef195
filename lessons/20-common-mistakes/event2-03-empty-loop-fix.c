/*
 * Lesson 20, event2 style, mistake 03, the fix: add the event before the
 * loop.
 *
 * What it shows: the same timer, added with evtimer_add(). The loop now
 *   has something to wait for: it sleeps until the timer's deadline, runs
 *   the callback, and only then, with nothing left, returns 1.
 * Run it:   make lesson-20     (every mistake: the bug, then the fix)
 *           build/bin/20-event2-03-empty-loop-fix
 * Look for: "tick added pending(TIMEOUT)" before "loop dispatch", and the
 *   callback before "loop returned result=1".
 */
#include "event2.h"

#include <stdio.h>

static const struct timeval tick_time = { 0, 10 * 1000 };

static int ticks;

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct event *self = arg;
    (void)fd;
    probe_callback(self, what);
    ticks++;
    probe_after(self);
}

int main(int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: %s (no arguments)\n", argv[0]);
        return 2;
    }
    struct event_base *base = event_base_new();
    if (base == NULL)
        die("event_base_new");

    /* doc: fix */
    struct event *tick = evtimer_new(base, on_tick, event_self_cbarg());
    if (tick == NULL)
        die("evtimer_new");
    probe_watch(tick, "tick");
    if (evtimer_add(tick, &tick_time) != 0) /* what the loop will wait for */
        die("evtimer_add");
    probe_added(tick, &tick_time);
    /* doc: end */

    trace("loop", "dispatch", NULL);
    int result = event_base_dispatch(base);
    trace("loop", "returned", "result=%d", result);
    /* 1: the loop ran out of events, whether or not any callback ran. */
    trace_note("tick callbacks: %d", ticks);

    probe_free(tick);
    event_free(tick);
    event_base_free(base);
    return 0;
}

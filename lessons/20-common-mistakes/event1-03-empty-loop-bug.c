/*
 * Lesson 20, event1 style, mistake 03, the bug: the loop returns at once,
 * with nothing to wait for.
 *
 * What it shows: a timer set up with evtimer_set() and never added. A base
 *   knows only the events that are added (or active); with none,
 *   event_dispatch() has nothing to wait for and returns 1 at once,
 *   without a callback.
 * Run it:   make lesson-20     (every mistake: the bug, then the fix)
 *           build/bin/20-event1-03-empty-loop-bug
 * Look for: "loop returned result=1" right after "loop dispatch", and no
 *   "tick callback".
 */
#include "event1.h"

#include <stdio.h>

static const struct timeval tick_time = { 0, 10 * 1000 };

static int ticks;

static void on_tick(int fd, short what, void *arg)
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
    struct event_base *base = event_init();
    if (base == NULL)
        die("event_init");

    /* doc: bug */
    static struct event tick_ev;
    struct event *tick = &tick_ev;
    evtimer_set(tick, on_tick, tick);
    probe_watch(tick, "tick");
    /* The mistake: no evtimer_add(tick, &tick_time). */
    (void)tick_time;
    /* doc: end */

    trace("loop", "dispatch", NULL);
    int result = event_dispatch();
    trace("loop", "returned", "result=%d", result);
    /* 1: the loop ran out of events, whether or not any callback ran. */
    trace_note("tick callbacks: %d", ticks);

    probe_free(tick); /* static storage: nothing to free */
    event_base_free(base);
    return 0;
}

/*
 * Lesson 03, event1 style: timers and persistence.
 *
 * What it shows: a one-shot timer from evtimer_set(); a timeout is given to
 *   event_add(), not as a flag (EV_TIMEOUT passed to event_set() means
 *   nothing); a persistent timer (EV_PERSIST) that libevent re-arms before
 *   each callback, deleted from inside its own callback; a callback
 *   scheduled with event_once(), which needs no event of our own.
 * Run it:   make lesson-3          (both styles side by side)
 *           build/bin/03-event1    (this program alone)
 * Look for: "tick callback pending(TIMEOUT)": a persistent timer is already
 *   pending again when its callback starts, so the callback can stop it with
 *   event_del(). And "flagged added non-pending": event_add() returned 0,
 *   but the event waits for nothing.
 *   Each timer is started by the callback before it, so the order of the
 *   trace never depends on how fast the machine is.
 *   On a real 1.x library EV_PERSIST did not re-arm a timeout: 1.x code
 *   called event_add() again in the callback. Built against 2.1, this same
 *   source gets 2.x behaviour (lesson README).
 */
#include "event1.h"

#include <stdlib.h>

static struct event first_ev, tick_ev, flagged_ev; /* set up with evtimer_set(), event_set() */
static struct event *first = &first_ev;     /* one-shot timer */
static struct event *tick = &tick_ev;       /* persistent timer */
static struct event *flagged = &flagged_ev; /* EV_TIMEOUT as an input flag */
static int ticks;

static const struct timeval first_after = { 0, 20 * 1000 };
static const struct timeval tick_every = { 0, 10 * 1000 };
static const struct timeval once_after = { 0, 10 * 1000 };

static void on_once(int fd, short what, void *arg)
{
    (void)fd;
    (void)arg;
    probe_unwatched_callback("once", what);
}

/* doc: tick */
static void on_tick(int fd, short what, void *arg)
{
    (void)fd;
    struct event *self = arg;
    probe_callback(self, what);
    trace_note("tick %d", ++ticks);
    if (ticks == 3) {
        /* Deleting an event inside its own callback is allowed: libevent
           has finished with it for this round. */
        if (event_del(self) != 0)
            die("event_del");
        probe_step(self, "deleted");
        if (event_once(-1, EV_TIMEOUT, on_once, NULL, &once_after) != 0)
            die("event_once");
        char after[32];
        trace("once", "scheduled", "timeout=%s",
              trace_duration(&once_after, after, sizeof after));
    }
    probe_after(self);
}
/* doc: end */

static void on_first(int fd, short what, void *arg)
{
    (void)fd;
    struct event *self = arg;
    probe_callback(self, what);
    if (event_add(tick, &tick_every) != 0) /* re-armed every 10ms from now on */
        die("event_add");
    probe_added(tick, &tick_every);
    probe_after(self);
}

static void on_never(int fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    die("the flagged event ran");
}

int main(void)
{
    struct event_base *base = event_init();
    if (base == NULL)
        die("event_init");

    /* doc: setup */
    evtimer_set(first, on_first, first);
    event_set(tick, -1, EV_PERSIST, on_tick, tick);
    event_set(flagged, -1, EV_TIMEOUT, on_never, NULL);
    probe_watch(first, "first");
    probe_watch(tick, "tick");
    probe_watch(flagged, "flagged");

    /* Accepted, and useless: an event waits for a timeout only when
       event_add() is given one. */
    if (event_add(flagged, NULL) != 0)
        die("event_add");
    probe_added(flagged, NULL);

    if (event_add(first, &first_after) != 0)
        die("event_add");
    probe_added(first, &first_after);
    /* doc: end */

    trace("loop", "dispatch", NULL);
    int result = event_dispatch();
    trace("loop", "returned", "result=%d", result);

    probe_free(first);
    probe_free(tick);
    probe_free(flagged);
    event_base_free(base);
    return 0;
}

/*
 * Lesson 05, event1 style: priorities and manual activation.
 *
 * What it shows: event_priority_init() gives the global base 3 priorities
 *   (0 runs first; a new event gets the middle one); event_priority_set();
 *   event_active() makes an event active by hand, with the flags its
 *   callback will see. Four events are activated lowest priority first, and
 *   run highest priority first; two of equal priority run in the order they
 *   were activated. An active event deleted before its turn never runs. An
 *   event of higher priority activated from a callback runs before the rest
 *   of the lower queue.
 * Run it:   make lesson-5          (both styles side by side)
 *           build/bin/05-event1    (this program alone)
 * Look for: the order of the "callback" lines: urgent, normal1, urgent
 *   again, normal2; and no callback for low.
 */
#include "event1.h"

#include <stdlib.h>

/* 1.x events live in storage the program owns; the pointers let the rest of
   the code read like the event2 variant's. */
static struct event urgent_ev, normal1_ev, normal2_ev, low_ev;
static struct event *urgent = &urgent_ev, *normal1 = &normal1_ev, *normal2 = &normal2_ev,
                    *low = &low_ev;
static int urgent_calls;

static void on_urgent(int fd, short what, void *arg)
{
    (void)fd;
    (void)arg;
    probe_callback(urgent, what);
    if (++urgent_calls == 1) {
        /* low is active, waiting behind us: deleting it takes it off the
           active queue, so its callback never runs. */
        if (event_del(low) != 0)
            die("event_del");
        probe_step(low, "deleted");
    }
    probe_after(urgent);
}

/* doc: normal */
static void on_normal(int fd, short what, void *arg)
{
    (void)fd;
    struct event *self = arg;
    probe_callback(self, what);
    if (self == normal1) {
        /* Higher priority than the queue being run: it goes next, ahead of
           normal2, which was active long before. */
        event_active(urgent, 0, 0);
        probe_step(urgent, "activated");
    }
    probe_after(self);
}
/* doc: end */

static void on_low(int fd, short what, void *arg)
{
    (void)fd;
    (void)arg;
    probe_callback(low, what);
    probe_after(low);
}

/* doc: user_event */
static struct event *user_event(struct event *ev, void (*cb)(int, short, void *),
                                const char *name, int priority)
{
    /* fd -1 and no events: it becomes active only through event_active().
       event_set() gives it the middle priority of the current base. */
    event_set(ev, -1, 0, cb, ev);
    probe_watch(ev, name);
    if (priority >= 0 && event_priority_set(ev, priority) != 0)
        die("event_priority_set");
    probe_priority(ev);
    return ev;
}
/* doc: end */

int main(void)
{
    struct event_base *base = event_init();
    if (base == NULL)
        die("event_init");
    /* doc: setup */
    if (event_priority_init(3) != 0)
        die("event_priority_init");
    trace_note("3 priorities: 0 runs first, new events get 1");

    user_event(urgent, on_urgent, "urgent", 0);
    user_event(normal1, on_normal, "normal1", -1); /* keeps the default */
    user_event(normal2, on_normal, "normal2", -1);
    user_event(low, on_low, "low", 2);

    /* Activated lowest priority first. */
    struct event *order[] = { low, normal1, urgent, normal2 };
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        event_active(order[i], 0, 0);
        probe_step(order[i], "activated");
    }
    trace_note("event_priority_set(low, 0) while active: %d", event_priority_set(low, 0));
    /* doc: end */

    trace("loop", "dispatch", NULL);
    int result = event_dispatch();
    trace("loop", "returned", "result=%d", result);

    struct event *all[] = { urgent, normal1, normal2, low };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        probe_free(all[i]); /* static storage: nothing to free */
    }
    event_base_free(base);
    return 0;
}

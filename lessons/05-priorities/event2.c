/*
 * Lesson 05, event2 style: priorities and manual activation.
 *
 * What it shows: event_base_priority_init() gives the base 3 priorities
 *   (0 runs first; a new event gets the middle one); event_priority_set();
 *   event_active() makes an event active by hand, with the flags its
 *   callback will see. Four events are activated lowest priority first, and
 *   run highest priority first; two of equal priority run in the order they
 *   were activated. An active event deleted before its turn never runs. An
 *   event of higher priority activated from a callback runs before the rest
 *   of the lower queue.
 * Run it:   make lesson-5          (both styles side by side)
 *           build/bin/05-event2    (this program alone)
 * Look for: the order of the "callback" lines: urgent, normal1, urgent
 *   again, normal2; and no callback for low.
 */
#include "event2.h"

#include <stdlib.h>

static struct event *urgent, *normal1, *normal2, *low;
static int urgent_calls;

static void on_urgent(evutil_socket_t fd, short what, void *arg)
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
static void on_normal(evutil_socket_t fd, short what, void *arg)
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

static void on_low(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)arg;
    probe_callback(low, what);
    probe_after(low);
}

/* doc: user_event */
static struct event *user_event(struct event_base *base, event_callback_fn cb,
                                const char *name, int priority)
{
    /* fd -1 and no events: it becomes active only through event_active().
       event_new() gives it the middle priority of its base. */
    struct event *ev = event_new(base, -1, 0, cb, event_self_cbarg());
    if (ev == NULL)
        die("event_new");
    probe_watch(ev, name);
    if (priority >= 0 && event_priority_set(ev, priority) != 0)
        die("event_priority_set");
    probe_priority(ev);
    return ev;
}
/* doc: end */

int main(void)
{
    struct event_base *base = event_base_new();
    if (base == NULL)
        die("event_base_new");
    /* doc: setup */
    if (event_base_priority_init(base, 3) != 0)
        die("event_base_priority_init");
    trace_note("3 priorities: 0 runs first, new events get 1");

    urgent = user_event(base, on_urgent, "urgent", 0);
    normal1 = user_event(base, on_normal, "normal1", -1); /* keeps the default */
    normal2 = user_event(base, on_normal, "normal2", -1);
    low = user_event(base, on_low, "low", 2);

    /* Activated lowest priority first. */
    struct event *order[] = { low, normal1, urgent, normal2 };
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        event_active(order[i], 0, 0);
        probe_step(order[i], "activated");
    }
    trace_note("event_priority_set(low, 0) while active: %d", event_priority_set(low, 0));
    /* doc: end */

    trace("loop", "dispatch", NULL);
    int result = event_base_dispatch(base);
    trace("loop", "returned", "result=%d", result);

    struct event *all[] = { urgent, normal1, normal2, low };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        probe_free(all[i]);
        event_free(all[i]);
    }
    event_base_free(base);
    return 0;
}

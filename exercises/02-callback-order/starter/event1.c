/*
 * Exercise 02 (starter): five callbacks that must run in a required order,
 * in event1 style. This file, event1.c, is what you hand in.
 *
 * What it does: five user events (no fd, no flags: they become active only
 *   through event_active()). Four are made active before the loop starts,
 *   in a given order: cleanup, log, reply, alarm. The fifth, retry, is for
 *   reply's callback to activate. Every step is traced.
 * Run it:   make exercise-2        (builds it, runs the graded tests)
 *           build/exercises/02-callback-order/bin/event1   (after that)
 * Look for: the "callback" lines. Now they run in activation order; the
 *   task (../README.md) is to make them run alarm, reply, retry, log,
 *   cleanup, with priorities and event_active(), without changing the
 *   order the four are activated in.
 */
#include "event1.h"

#include <stddef.h>

static struct event alarm_event, reply_event, retry_event, log_event, cleanup_event;

/* The callback of every event but reply: the trace is all it does. */
static void on_event(int fd, short what, void *arg)
{
    struct event *self = arg;
    (void)fd;
    probe_callback(self, what);
    probe_after(self);
}

static void on_reply(int fd, short what, void *arg)
{
    (void)fd;
    (void)arg;
    probe_callback(&reply_event, what);
    probe_after(&reply_event);
}

/* A user event on the global base, with its trace name. */
static void user_event(struct event *ev, void (*callback)(int, short, void *), const char *name)
{
    event_set(ev, -1, 0, callback, ev);
    probe_watch(ev, name);
    probe_priority(ev);
}

int main(void)
{
    struct event_base *base = event_init();
    if (base == NULL)
        die("event_init");

    user_event(&alarm_event, on_event, "alarm");
    user_event(&reply_event, on_reply, "reply");
    user_event(&retry_event, on_event, "retry");
    user_event(&log_event, on_event, "log");
    user_event(&cleanup_event, on_event, "cleanup");

    /* The order the four become active in is given: keep it. */
    struct event *order[] = { &cleanup_event, &log_event, &reply_event, &alarm_event };
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        event_active(order[i], 0, 0);
        probe_step(order[i], "activated");
    }

    trace("loop", "dispatch", NULL);
    int result = event_dispatch();
    trace("loop", "returned", "result=%d", result);

    struct event *all[] = { &alarm_event, &reply_event, &retry_event, &log_event, &cleanup_event };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        probe_free(all[i]);
    event_base_free(base);
    return 0;
}

/*
 * Exercise 02 (solution): five callbacks in a required order, in event1
 * style: alarm, reply, retry, log, cleanup.
 *
 * What it does: four priorities. Four user events are made active before
 *   the loop starts, in the given order cleanup, log, reply, alarm; their
 *   priorities make them run alarm (0), reply (1), log (2), cleanup (3).
 *   reply's callback activates retry, priority 0: more urgent than the
 *   queue being run, so it runs next, before log.
 * Run it:   make grade EXERCISE=2 SUBMISSION=exercises/02-callback-order/solution
 * Look for: the "callback" lines: alarm, reply, retry, log, cleanup; the
 *   "priority" lines: event_set() gives a new event the middle priority,
 *   so each is set after it.
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
    /* retry (priority 0) is more urgent than everything still waiting:
       it runs as soon as this callback returns. */
    event_active(&retry_event, 0, 0);
    probe_step(&retry_event, "activated");
    probe_after(&reply_event);
}

/* A user event on the global base, with its trace name and priority. */
static void user_event(struct event *ev, void (*callback)(int, short, void *), const char *name,
                       int priority)
{
    event_set(ev, -1, 0, callback, ev);
    probe_watch(ev, name);
    if (event_priority_set(ev, priority) != 0)
        die("event_priority_set");
    probe_priority(ev);
}

int main(void)
{
    struct event_base *base = event_init();
    if (base == NULL)
        die("event_init");
    if (event_priority_init(4) != 0) /* before any event is set up */
        die("event_priority_init");

    user_event(&alarm_event, on_event, "alarm", 0);
    user_event(&reply_event, on_reply, "reply", 1);
    user_event(&retry_event, on_event, "retry", 0);
    user_event(&log_event, on_event, "log", 2);
    user_event(&cleanup_event, on_event, "cleanup", 3);

    /* The order the four become active in is given: keep it. */
    struct event *order[] = { &alarm_event, &reply_event, &log_event, &cleanup_event };
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

/*
 * Lesson 20, event1 style, mistake 06, the fix: one event per deadline,
 * and event_del() before setting an event up again.
 *
 * What it shows: an event that must be set up anew (another callback,
 *   another descriptor) is deleted first: event_pending() says whether it
 *   is added, event_del() makes it non-pending, and event_assign() is safe
 *   again. Two reminders need two events, each added once. The program
 *   runs in debug mode, which has nothing to say.
 * Run it:   make lesson-20     (every mistake: the bug, then the fix)
 *           build/bin/20-event1-06-add-twice-fix
 * Look for: "timer deleted non-pending" before it is set up again, and
 *   its new callback; "reminders: 2 of 2".
 */
#include "event1.h"

#include <stdio.h>

static const struct timeval ten_ms = { 0, 10 * 1000 }, twenty_ms = { 0, 20 * 1000 };
static int reminders;

static void on_remind(int fd, short what, void *arg)
{
    struct event *self = arg;
    (void)fd;
    probe_callback(self, what);
    trace_note("reminder %d", ++reminders);
    probe_after(self);
}

static void on_timer(int fd, short what, void *arg)
{
    struct event *self = arg;
    (void)fd;
    probe_callback(self, what);
    trace_note("the callback it was set up with again ran");
    probe_after(self);
}

static void run_loop(void)
{
    trace("loop", "dispatch", NULL);
    int result = event_dispatch();
    trace("loop", "returned", "result=%d", result);
}

int main(int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: %s (no arguments)\n", argv[0]);
        return 2;
    }
    trace_style("1.x had no debug mode: event_pending() is the program's own check");
    struct event_base *base = event_init();
    if (base == NULL)
        die("event_init");

    trace_note("a timer, added, then set up again");
    static struct event timer_ev;
    struct event *timer = &timer_ev;
    evtimer_set(timer, on_remind, timer);
    probe_watch(timer, "timer");
    if (evtimer_add(timer, &ten_ms) != 0)
        die("evtimer_add");
    probe_added(timer, &ten_ms);
    /* doc: fix-again */
    if (event_pending(timer, EV_TIMEOUT, NULL)) { /* added: delete it first */
        if (event_del(timer) != 0)
            die("event_del");
        probe_step(timer, "deleted");
    }
    evtimer_set(timer, on_timer, timer);
    trace_note("set up again, with another callback");
    if (evtimer_add(timer, &ten_ms) != 0)
        die("evtimer_add");
    probe_added(timer, &ten_ms);
    /* doc: end */
    run_loop();
    probe_free(timer); /* static storage: nothing to free */

    /* doc: fix */
    trace_note("two reminders, two events");
    static struct event first_ev, second_ev;
    struct event *first = &first_ev, *second = &second_ev;
    evtimer_set(first, on_remind, first);
    evtimer_set(second, on_remind, second);
    probe_watch(first, "first");
    probe_watch(second, "second");
    if (evtimer_add(first, &ten_ms) != 0 || evtimer_add(second, &twenty_ms) != 0)
        die("evtimer_add");
    probe_added(first, &ten_ms);
    probe_added(second, &twenty_ms);
    /* doc: end */
    run_loop();
    trace_note("reminders: %d of 2", reminders);
    probe_free(first); /* static storage: nothing to free */
    probe_free(second);
    event_base_free(base);
    return 0;
}

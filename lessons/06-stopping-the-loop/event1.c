/*
 * Lesson 06, event1 style: stopping the loop.
 *
 * What it shows: two ways out of event_dispatch(), called from a
 *   callback while other events are active at three priorities:
 *   event_loopexit(NULL) lets more callbacks run first;
 *   event_loopbreak() returns as soon as the current callback does.
 *   Events left active stay active for the next loop. Then the loop's
 *   flags: EVLOOP_NONBLOCK runs what is ready and returns without waiting;
 *   EVLOOP_ONCE waits for something to happen, runs it and returns.
 *   1.x could not ask why a loop ended: event_base_got_exit() and
 *   event_base_got_break() are 2.x. Last, the loop started again from
 *   inside one of its own callbacks: it refuses and returns -1.
 * Run it:   make lesson-6          (both styles side by side)
 *           build/bin/06-event1    (this program alone)
 * Look for: after loopexit, "same" and "middle" still run but "low" does
 *   not; after loopbreak, nothing else runs. The lesson README explains the
 *   rule (it is not the one libevent's book gives).
 */
#include "event1.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* 1.x events live in storage the program owns; the pointers let the rest of
   the code read like the event2 variant's. */
static struct event stopper_ev, same_ev, middle_ev, low_ev, timer_ev, keeper_ev, nested_ev;
static struct event *stopper = &stopper_ev, *same = &same_ev, *middle = &middle_ev,
                    *low = &low_ev, *timer = &timer_ev, *keeper = &keeper_ev,
                    *nested = &nested_ev;
static enum { STOP_WITH_EXIT, STOP_WITH_BREAK } stop_with;

/* doc: stopper */
static void on_stopper(int fd, short what, void *arg)
{
    (void)fd;
    (void)arg;
    probe_callback(stopper, what);
    if (stop_with == STOP_WITH_EXIT) {
        if (event_loopexit(NULL) != 0)
            die("event_loopexit");
        trace_note("stopper asked for loopexit");
    } else {
        if (event_loopbreak() != 0)
            die("event_loopbreak");
        trace_note("stopper asked for loopbreak");
    }
    probe_after(stopper);
}
/* doc: end */

static void on_event(int fd, short what, void *arg)
{
    (void)fd;
    struct event *self = arg;
    probe_callback(self, what);
    probe_after(self);
}

static struct event *make_event(struct event *ev, int fd, short events,
                                void (*cb)(int, short, void *),
                                const char *name, int priority)
{
    event_set(ev, fd, events, cb, ev);
    if (event_priority_set(ev, priority) != 0)
        die("event_priority_set");
    probe_watch(ev, name);
    probe_priority(ev);
    return ev;
}

static void activate(struct event *ev)
{
    event_active(ev, 0, 0);
    probe_step(ev, "activated");
}

/* doc: report */
static void report(int result)
{
    trace("loop", "returned", "result=%d", result);
}
/* doc: end */

/* libevent's log goes to stderr unless a callback takes it. */
static void on_log(int severity, const char *msg)
{
    (void)severity;
    trace_note("libevent logs: %s", msg);
}

/* doc: nested */
static void on_nested(int fd, short what, void *arg)
{
    (void)fd;
    (void)arg;
    probe_callback(nested, what);
    /* The loop that runs this callback is this base's: start it again. */
    trace("loop", "dispatch", NULL);
    report(event_dispatch());
    probe_after(nested);
}
/* doc: end */

int main(void)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        die_errno("socketpair");
    struct event_base *base = event_init();
    if (base == NULL)
        die("event_init");
    if (event_priority_init(3) != 0)
        die("event_priority_init");
    trace_style("no event_base_got_exit()/got_break() in 1.x");

    make_event(stopper, -1, 0, on_stopper, "stopper", 0);
    make_event(same, -1, 0, on_event, "same", 0);
    make_event(middle, -1, 0, on_event, "middle", 1);
    make_event(low, -1, 0, on_event, "low", 2);
    make_event(timer, -1, 0, on_event, "timer", 1);
    make_event(keeper, fds[0], EV_READ, on_event, "keeper", 1); /* nothing is ever written */

    trace_note("round 1: loopexit");
    stop_with = STOP_WITH_EXIT;
    activate(stopper);
    activate(same);
    activate(middle);
    activate(low);
    trace("loop", "dispatch", NULL);
    report(event_dispatch());
    probe_step(low, "seen");

    trace_note("round 2: loopbreak");
    stop_with = STOP_WITH_BREAK;
    activate(stopper);
    activate(same);
    activate(middle);
    trace("loop", "dispatch", NULL);
    report(event_dispatch());
    probe_step(same, "seen");
    probe_step(middle, "seen");
    probe_step(low, "seen");

    /* doc: flags */
    trace_note("round 3: EVLOOP_NONBLOCK runs what is active, then returns");
    trace("loop", "nonblock", NULL);
    report(event_loop(EVLOOP_NONBLOCK));

    trace_note("round 4: EVLOOP_ONCE waits for the timer, runs it, returns");
    if (event_add(keeper, NULL) != 0)
        die("event_add");
    probe_added(keeper, NULL);
    const struct timeval soon = { 0, 10 * 1000 };
    if (event_add(timer, &soon) != 0)
        die("event_add");
    probe_added(timer, &soon);
    trace("loop", "once", NULL);
    report(event_loop(EVLOOP_ONCE));
    probe_step(keeper, "seen");

    trace_note("round 5: EVLOOP_NONBLOCK with nothing ready");
    trace("loop", "nonblock", NULL);
    report(event_loop(EVLOOP_NONBLOCK));
    /* doc: end */

    if (event_del(keeper) != 0)
        die("event_del");
    probe_step(keeper, "deleted");

    /* doc: round6 */
    trace_note("round 6: the loop started again from one of its callbacks");
    make_event(nested, -1, 0, on_nested, "nested", 1);
    event_set_log_callback(on_log);
    activate(nested);
    trace("loop", "dispatch", NULL);
    report(event_dispatch());
    event_set_log_callback(NULL);
    /* doc: end */

    struct event *all[] = { stopper, same, middle, low, timer, keeper, nested };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        probe_free(all[i]); /* static storage: nothing to free */
    }
    event_base_free(base);
    close(fds[0]);
    close(fds[1]);
    return 0;
}

/*
 * Lesson 06, event2 style: stopping the loop.
 *
 * What it shows: two ways out of event_base_dispatch(), called from a
 *   callback while other events are active at three priorities:
 *   event_base_loopexit(base, NULL) lets more callbacks run first;
 *   event_base_loopbreak() returns as soon as the current callback does.
 *   Events left active stay active for the next loop. Then the loop's
 *   flags: EVLOOP_NONBLOCK runs what is ready and returns without waiting;
 *   EVLOOP_ONCE waits for something to happen, runs it and returns.
 *   event_base_got_exit() and event_base_got_break() say why a loop ended.
 *   Last, the loop started again from inside one of its own callbacks: it
 *   refuses and returns -1.
 * Run it:   make lesson-6          (both styles side by side)
 *           build/bin/06-event2    (this program alone)
 * Look for: after loopexit, "same" and "middle" still run but "low" does
 *   not; after loopbreak, nothing else runs. The lesson README explains the
 *   rule (it is not the one libevent's book gives).
 */
#include "event2.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static struct event_base *base;
static struct event *stopper, *same, *middle, *low, *timer, *keeper, *nested;
static enum { STOP_WITH_EXIT, STOP_WITH_BREAK } stop_with;

/* doc: stopper */
static void on_stopper(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)arg;
    probe_callback(stopper, what);
    if (stop_with == STOP_WITH_EXIT) {
        if (event_base_loopexit(base, NULL) != 0)
            die("event_base_loopexit");
        trace_note("stopper asked for loopexit");
    } else {
        if (event_base_loopbreak(base) != 0)
            die("event_base_loopbreak");
        trace_note("stopper asked for loopbreak");
    }
    probe_after(stopper);
}
/* doc: end */

static void on_event(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    struct event *self = arg;
    probe_callback(self, what);
    probe_after(self);
}

static struct event *make_event(evutil_socket_t fd, short events, event_callback_fn cb,
                                const char *name, int priority)
{
    struct event *ev = event_new(base, fd, events, cb, event_self_cbarg());
    if (ev == NULL)
        die("event_new");
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
    trace_style("got_exit=%d got_break=%d", event_base_got_exit(base),
                event_base_got_break(base));
}
/* doc: end */

/* libevent's log goes to stderr unless a callback takes it. */
static void on_log(int severity, const char *msg)
{
    (void)severity;
    trace_note("libevent logs: %s", msg);
}

/* doc: nested */
static void on_nested(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)arg;
    probe_callback(nested, what);
    /* The loop that runs this callback is this base's: start it again. */
    trace("loop", "dispatch", NULL);
    report(event_base_dispatch(base));
    probe_after(nested);
}
/* doc: end */

int main(void)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        die_errno("socketpair");
    base = event_base_new();
    if (base == NULL)
        die("event_base_new");
    if (event_base_priority_init(base, 3) != 0)
        die("event_base_priority_init");

    stopper = make_event(-1, 0, on_stopper, "stopper", 0);
    same = make_event(-1, 0, on_event, "same", 0);
    middle = make_event(-1, 0, on_event, "middle", 1);
    low = make_event(-1, 0, on_event, "low", 2);
    timer = make_event(-1, 0, on_event, "timer", 1);
    keeper = make_event(fds[0], EV_READ, on_event, "keeper", 1); /* nothing is ever written */

    trace_note("round 1: loopexit");
    stop_with = STOP_WITH_EXIT;
    activate(stopper);
    activate(same);
    activate(middle);
    activate(low);
    trace("loop", "dispatch", NULL);
    report(event_base_dispatch(base));
    probe_step(low, "seen");

    trace_note("round 2: loopbreak");
    stop_with = STOP_WITH_BREAK;
    activate(stopper);
    activate(same);
    activate(middle);
    trace("loop", "dispatch", NULL);
    report(event_base_dispatch(base));
    probe_step(same, "seen");
    probe_step(middle, "seen");
    probe_step(low, "seen");

    /* doc: flags */
    trace_note("round 3: EVLOOP_NONBLOCK runs what is active, then returns");
    trace("loop", "nonblock", NULL);
    report(event_base_loop(base, EVLOOP_NONBLOCK));

    trace_note("round 4: EVLOOP_ONCE waits for the timer, runs it, returns");
    if (event_add(keeper, NULL) != 0)
        die("event_add");
    probe_added(keeper, NULL);
    const struct timeval soon = { 0, 10 * 1000 };
    if (event_add(timer, &soon) != 0)
        die("event_add");
    probe_added(timer, &soon);
    trace("loop", "once", NULL);
    report(event_base_loop(base, EVLOOP_ONCE));
    probe_step(keeper, "seen");

    trace_note("round 5: EVLOOP_NONBLOCK with nothing ready");
    trace("loop", "nonblock", NULL);
    report(event_base_loop(base, EVLOOP_NONBLOCK));
    /* doc: end */

    if (event_del(keeper) != 0)
        die("event_del");
    probe_step(keeper, "deleted");

    /* doc: round6 */
    trace_note("round 6: the loop started again from one of its callbacks");
    nested = make_event(-1, 0, on_nested, "nested", 1);
    event_set_log_callback(on_log);
    activate(nested);
    trace("loop", "dispatch", NULL);
    report(event_base_dispatch(base));
    event_set_log_callback(NULL);
    /* doc: end */

    struct event *all[] = { stopper, same, middle, low, timer, keeper, nested };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        probe_free(all[i]);
        event_free(all[i]);
    }
    event_base_free(base);
    close(fds[0]);
    close(fds[1]);
    return 0;
}

/*
 * Lesson 04, event2 style: signals.
 *
 * What it shows: evsignal_new() makes a persistent event for SIGUSR1. The
 *   program signals itself with raise(); libevent's own handler only notes
 *   the signal, and the event becomes active later, in the loop. So the
 *   callback is an ordinary callback: it may call printf(), malloc() or any
 *   libevent function, which a real signal handler must not.
 * Run it:   make lesson-4          (both styles side by side)
 *           build/bin/04-event2    (this program alone)
 * Look for: "usr1 seen pending(SIGNAL)" right after raise() returned: the
 *   signal was delivered, yet the event is not active and no callback has
 *   run. The callback raises the signal a second time; that one too waits
 *   for the loop's next turn.
 */
#include "event2.h"

#include <signal.h>
#include <stdlib.h>

static int calls;

/* doc: callback */
static void on_sigusr1(evutil_socket_t signum, short what, void *arg)
{
    struct event *self = arg;
    probe_callback(self, what);
    trace_note("callback %d for %s, in the loop", ++calls,
               signum == SIGUSR1 ? "SIGUSR1" : "another signal");
    if (calls == 1) {
        if (raise(SIGUSR1) != 0)
            die_errno("raise");
        trace_note("raised SIGUSR1 again from inside the callback");
        probe_step(self, "seen");
    } else {
        if (event_del(self) != 0)
            die("event_del");
        probe_step(self, "deleted");
    }
    probe_after(self);
}
/* doc: end */

int main(void)
{
    struct event_base *base = event_base_new();
    if (base == NULL)
        die("event_base_new");

    /* doc: setup */
    /* evsignal_new() is event_new() with EV_SIGNAL|EV_PERSIST: the event
       stays added until deleted. */
    struct event *usr1 = evsignal_new(base, SIGUSR1, on_sigusr1, event_self_cbarg());
    if (usr1 == NULL)
        die("evsignal_new");
    probe_watch(usr1, "usr1");
    if (evsignal_add(usr1, NULL) != 0)
        die("evsignal_add");
    probe_added(usr1, NULL);

    if (raise(SIGUSR1) != 0)
        die_errno("raise");
    trace_note("raise(SIGUSR1) returned");
    probe_step(usr1, "seen");
    /* doc: end */

    trace("loop", "dispatch", NULL);
    int result = event_base_dispatch(base);
    trace("loop", "returned", "result=%d", result);

    probe_free(usr1);
    event_free(usr1);
    event_base_free(base);
    return 0;
}

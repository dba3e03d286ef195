/*
 * Lesson 04, event1 style: signals.
 *
 * What it shows: signal_set() makes a persistent event for SIGUSR1. The
 *   program signals itself with raise(); libevent's own handler only notes
 *   the signal, and the event becomes active later, in the loop. So the
 *   callback is an ordinary callback: it may call printf(), malloc() or any
 *   libevent function, which a real signal handler must not.
 * Run it:   make lesson-4          (both styles side by side)
 *           build/bin/04-event1    (this program alone)
 * Look for: "usr1 seen pending(SIGNAL)" right after raise() returned: the
 *   signal was delivered, yet the event is not active and no callback has
 *   run. The callback raises the signal a second time; that one too waits
 *   for the loop's next turn.
 */
#include "event1.h"

#include <signal.h>
#include <stdlib.h>

static int calls;

/* doc: callback */
static void on_sigusr1(int signum, short what, void *arg)
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
        if (signal_del(self) != 0)
            die("signal_del");
        probe_step(self, "deleted");
    }
    probe_after(self);
}
/* doc: end */

int main(void)
{
    struct event_base *base = event_init();
    if (base == NULL)
        die("event_init");

    /* doc: setup */
    /* signal_set() is event_set() with EV_SIGNAL|EV_PERSIST: the event
       stays added until deleted. */
    static struct event usr1_ev;
    struct event *usr1 = &usr1_ev;
    signal_set(usr1, SIGUSR1, on_sigusr1, usr1);
    probe_watch(usr1, "usr1");
    if (signal_add(usr1, NULL) != 0)
        die("signal_add");
    probe_added(usr1, NULL);

    if (raise(SIGUSR1) != 0)
        die_errno("raise");
    trace_note("raise(SIGUSR1) returned");
    probe_step(usr1, "seen");
    /* doc: end */

    trace("loop", "dispatch", NULL);
    int result = event_dispatch();
    trace("loop", "returned", "result=%d", result);

    probe_free(usr1);
    event_base_free(base);
    return 0;
}

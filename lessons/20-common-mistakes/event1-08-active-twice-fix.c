/*
 * Lesson 20, event1 style, mistake 08, the fix: an activation means "there
 * is work", and the callback does all of it.
 *
 * What it shows: the same three jobs and three event_active() calls as
 *   the bug; the callback still runs once, and it takes every job queued,
 *   not one. This is how a wake-up works wherever it comes from (another
 *   thread's event_active(), a pipe, a signal): the count of wake-ups is
 *   not the count of things to do.
 * Run it:   make lesson-20     (every mistake: the bug, then the fix)
 *           build/bin/20-event1-08-active-twice-fix
 * Look for: one "work callback", then "job 1 done" to "job 3 done", and
 *   "jobs done: 3 of 3".
 */
#include "event1.h"

#include <stdio.h>

enum { JOBS = 3 };
static int queued, done;

/* doc: fix */
/* Active once however often it was made active: take every job. */
static void on_work(int fd, short what, void *arg)
{
    struct event *self = arg;
    (void)fd;
    probe_callback(self, what);
    for (; queued > 0; queued--)
        trace_note("job %d done", ++done);
    probe_after(self);
}
/* doc: end */

int main(int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: %s (no arguments)\n", argv[0]);
        return 2;
    }
    struct event_base *base = event_init();
    if (base == NULL)
        die("event_init");
    static struct event work_ev; /* 1.x: the program's own storage */
    struct event *work = &work_ev;
    event_set(work, -1, 0, on_work, work);
    probe_watch(work, "work");

    /* Three jobs; each activation with its own flag, to show where they go. */
    const short flags[JOBS] = { EV_READ, EV_WRITE, EV_TIMEOUT };
    for (int i = 0; i < JOBS; i++) {
        queued++;
        event_active(work, flags[i], 1); /* returns nothing to check */
        probe_step(work, "activated");
    }
    trace("loop", "dispatch", NULL);
    int result = event_dispatch();
    trace("loop", "returned", "result=%d", result);
    trace_note("jobs done: %d of %d", done, JOBS);

    probe_free(work); /* static storage: nothing to free */
    event_base_free(base);
    return 0;
}

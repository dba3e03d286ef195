/*
 * Lesson 01, event1 style: the first loop.
 *
 * What it shows: event_init() makes the global base; event_get_method()
 *   says which kernel mechanism (epoll, poll, select) it chose;
 *   event_dispatch() on a base with nothing added returns 1 at once;
 *   event_base_free() frees the base.
 * Run it:   make lesson-1          (both styles side by side)
 *           build/bin/01-event1    (this program alone)
 * Look for: "result=1": the loop runs only while something is added (or
 *   active), so with nothing to wait for it returns straight away. And the
 *   event1-only lines: 1.x could not list its methods; setting
 *   EVENT_SHOW_METHOD made event_init() log the one it chose.
 */
#include "event1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libevent's log goes to stderr unless a callback takes it. */
/* doc: log */
static void on_log(int severity, const char *msg)
{
    (void)severity;
    trace_style("log: %s", msg);
}
/* doc: end */

int main(void)
{
    /* 1.x had no event_get_supported_methods(). The environment was the
       interface: EVENT_SHOW_METHOD logs the choice, EVENT_NOEPOLL,
       EVENT_NOPOLL, ... rule mechanisms out. */
    trace_style("no event_get_supported_methods() in 1.x");
    trace_style("EVENT_SHOW_METHOD=1 makes event_init() log its choice:");
    /* doc: methods */
    event_set_log_callback(on_log);
    if (setenv("EVENT_SHOW_METHOD", "1", 1) != 0)
        die_errno("setenv");

    struct event_base *base = event_init();
    if (base == NULL)
        die("event_init");
    /* doc: end */
    /* doc: loop */
    trace("base", "created", "method=%s", event_get_method());
    event_set_log_callback(NULL);

    trace("loop", "dispatch", NULL);
    int result = event_dispatch();
    trace("loop", "returned", "result=%d", result);
    trace_note("nothing was added, so there was nothing to wait for");

    event_base_free(base);
    trace("base", "freed", NULL);
    /* doc: end */
    return 0;
}

/*
 * Lesson 01, event2 style: the first loop.
 *
 * What it shows: event_base_new() makes a base; event_base_get_method() says
 *   which kernel mechanism (epoll, poll, select) it chose from those
 *   event_get_supported_methods() lists; event_base_dispatch() on a base
 *   with nothing added returns 1 at once; event_base_free() frees the base.
 * Run it:   make lesson-1          (both styles side by side)
 *           build/bin/01-event2    (this program alone)
 * Look for: "result=1": the loop runs only while something is added (or
 *   active), so with nothing to wait for it returns straight away.
 */
#include "event2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    /* 2.x can say what it could use before any base exists. */
    /* doc: methods */
    const char **methods = event_get_supported_methods();
    if (methods == NULL)
        die("event_get_supported_methods");
    char list[128] = "";
    for (int i = 0; methods[i] != NULL; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), " %s", methods[i]);
    trace_style("supported methods:%s", list);

    struct event_base *base = event_base_new();
    if (base == NULL)
        die("event_base_new");
    /* doc: end */
    /* doc: loop */
    trace("base", "created", "method=%s", event_base_get_method(base));

    trace("loop", "dispatch", NULL);
    int result = event_base_dispatch(base);
    trace("loop", "returned", "result=%d", result);
    trace_note("nothing was added, so there was nothing to wait for");

    event_base_free(base);
    trace("base", "freed", NULL);
    /* doc: end */
    return 0;
}

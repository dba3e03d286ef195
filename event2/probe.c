/*
 * event2/probe.c - the event2 kit's trace probe, public 2.x API only.
 *
 * struct event is opaque in 2.x style, so the probe asks libevent:
 *   - event_get_events() and event_get_priority() for how it was set up;
 *   - event_pending() for what it is pending on, while it is not active;
 *   - event_base_dump_events() for whether it is active. No other public
 *     call can tell: event_pending() also reports an active event's result
 *     flags, so "pending on READ" and "active with READ" look the same
 *     through it. The dump, a debugging aid, lists "Inserted events" and
 *     "Active events" by address; the probe finds the event's line in each.
 *     Its layout is not a stable API: a change in it shows as traces that
 *     no longer match their lessons' expected traces.
 */
#include "event2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char probe_style[] = "event2";

/* The line of the dump that describes ev in the given section, or NULL. */
static const char *find_line(const char *dump, const char *section, const struct event *ev,
                             char *line, size_t size)
{
    char key[64];
    const char *start = strstr(dump, section);
    if (start == NULL)
        return NULL;
    start += strlen(section);
    const char *end = strstr(start, "events:\n"); /* the next section */
    snprintf(key, sizeof key, "  %p [", (const void *)ev);
    const char *hit = strstr(start, key);
    if (hit == NULL || (end != NULL && hit > end))
        return NULL;
    size_t len = strcspn(hit, "\n");
    if (len >= size)
        len = size - 1;
    memcpy(line, hit, len);
    line[len] = '\0';
    return line;
}

static short result_flags(const char *active_line)
{
    /* e.g. "  0x55... [fd  6, priority=1] Read active" */
    const char *flags = strchr(active_line, ']');
    short result = 0;
    if (flags == NULL) {
        fprintf(stderr, "probe: event_base_dump_events() printed an unexpected line: %s\n",
                active_line);
        exit(EXIT_FAILURE);
    }
    if (strstr(flags, " Read"))    result |= EV_READ;
    if (strstr(flags, " Write"))   result |= EV_WRITE;
    if (strstr(flags, " EOF"))     result |= EV_CLOSED;
    if (strstr(flags, " Signal"))  result |= EV_SIGNAL;
    if (strstr(flags, " Timeout")) result |= EV_TIMEOUT;
    return result;
}

void probe_observe(const struct event *ev, struct probe_state *out)
{
    struct event_base *base = event_get_base(ev);
    char *dump = NULL, line[256];
    size_t dump_size = 0;

    FILE *f = open_memstream(&dump, &dump_size);
    if (f == NULL)
        die_errno("open_memstream");
    event_base_dump_events(base, f);
    if (fclose(f) != 0)
        die_errno("fclose");

    out->events = event_get_events(ev);
    out->priority = event_get_priority(ev);
    const char *active_line = find_line(dump, "Active events:", ev, line, sizeof line);
    out->active = active_line != NULL;
    out->result = out->active ? result_flags(active_line) : 0;
    if (!out->active) {
        out->pending = (short)event_pending(ev, EV_TIMEOUT | EV_READ | EV_WRITE | EV_SIGNAL, NULL);
    } else {
        /* The inserted line names what the event waits for, and a
           "Timeout=" if its timeout is armed. */
        const char *ins = find_line(dump, "Inserted events:", ev, line, sizeof line);
        out->pending = 0;
        if (ins != NULL) {
            out->pending = out->events & (EV_READ | EV_WRITE | EV_SIGNAL);
            if (strstr(ins, " Timeout="))
                out->pending |= EV_TIMEOUT;
        }
    }
    free(dump);
}

void probe_check_running(const struct event *ev)
{
    /* Only valid inside a callback: in 2.1.12 it crashes outside one. */
    if (event_base_get_running_event(event_get_base(ev)) != ev) {
        fprintf(stderr, "probe: callback of an event that is not the running one\n");
        exit(EXIT_FAILURE);
    }
}

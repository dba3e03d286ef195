/*
 * event1/probe.c - the event1 kit's trace probe, written in 1.x style.
 *
 * libevent 1.x exposed struct event, and 1.x programs read it directly:
 * ev->ev_flags told whether an event was inserted, timed or active, and
 * ev->ev_res held the flags it was made active with. This probe does the
 * same. On libevent 2.1 the flags moved into the embedded struct
 * event_callback (ev->ev_evcallback.evcb_flags, likewise the priority); the
 * 1.x names ev_flags and ev_pri no longer compile, nor do eight other 1.x
 * fields (ev_arg, ev_callback, ev_ncalls, ...); ev_base, ev_fd, ev_events,
 * ev_res and ev_timeout kept their names
 * (semantics/only_five_1x_struct_event_fields_still_compile). The probe
 * calls no libevent function at all.
 */
#include "event1.h"

const char probe_style[] = "event1";

void probe_observe(const struct event *ev, struct probe_state *out)
{
    const int flags = ev->ev_evcallback.evcb_flags; /* 1.x: ev->ev_flags */

    out->events = ev->ev_events;
    out->pending = 0;
    if (flags & EVLIST_INSERTED)
        out->pending |= ev->ev_events & (EV_READ | EV_WRITE | EV_SIGNAL);
    if (flags & EVLIST_TIMEOUT)
        out->pending |= EV_TIMEOUT;
    out->active = (flags & (EVLIST_ACTIVE | EVLIST_ACTIVE_LATER)) != 0;
    out->result = out->active ? ev->ev_res : 0;
    out->priority = ev->ev_evcallback.evcb_pri; /* 1.x: ev->ev_pri */
}

void probe_check_running(const struct event *ev)
{
    /* 1.x had no way to ask which callback is running. */
    (void)ev;
}

/*
 * trace.h - the lifecycle trace every lesson program prints.
 *
 * A lesson program reports what happens to each of its events, one line per
 * step, on standard output. The format is documented in docs/trace-format.md;
 * in short:
 *
 *     NAME     STEP       [STATE] [key=value ...]
 *     reader   created    non-pending events=READ
 *     reader   added      pending(READ)
 *     reader   active     what=READ
 *     reader   callback   non-pending
 *     reader   after      non-pending
 *
 * This file is style-neutral. Each style kit (event1/, event2/) supplies the
 * part that has to look inside libevent, probe_observe(), written in its own
 * style; everything else (names, formatting, the order of lines) lives in
 * trace.c, so both styles print byte-identical traces for identical states.
 */
#ifndef LESSONS_TRACE_H
#define LESSONS_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/time.h>

struct event; /* libevent's; the trace needs only pointers to it */

/* What a style's probe saw of one event at one moment. */
struct probe_state {
    short events;   /* what it was set up for: EV_READ, EV_PERSIST, ... */
    short pending;  /* what it is pending on now (EV_TIMEOUT for an armed
                       timeout); 0 means non-pending */
    bool active;    /* on libevent's active queue, waiting for its callback */
    short result;   /* the flags it was made active with (valid if active) */
    int priority;   /* its priority queue (0 runs first) */
};

/* --- Provided by the style kit (event1/probe.c or event2/probe.c) ------- */

/* The style's name, "event1" or "event2". */
extern const char probe_style[];

/* Look at one event without changing it. */
void probe_observe(const struct event *ev, struct probe_state *out);

/* Called on entry to a callback: a style that can ask libevent which
   callback is running checks that it is this event's. */
void probe_check_running(const struct event *ev);

/* --- Called by lesson programs ------------------------------------------- */

/* Start tracing an event under a short name; prints its "created" line. */
void probe_watch(struct event *ev, const char *name);

/* Print "NAME STEP STATE" with the state observed now. Use it right after
   an API call ("added", "deleted", "activated") or to show the state at a
   moment of the lesson's choosing ("seen"). */
void probe_step(struct event *ev, const char *step);

/* Like probe_step(ev, "added"), also recording the timeout that was passed
   to event_add() (libevent keeps only the absolute expiry time). */
void probe_added(struct event *ev, const struct timeval *timeout);

/* Print the event's priority as observed: "NAME priority N". */
void probe_priority(struct event *ev);

/* First statement of a callback: prints "NAME active what=FLAGS" and
   "NAME callback STATE" (the state inside the callback). */
void probe_callback(struct event *ev, short what);

/* Last statement of a callback: "NAME after STATE". libevent does nothing
   to an event after its callback returns, so this is the state the loop
   goes on with. */
void probe_after(struct event *ev);

/* Just before event_free() (or before the storage of an event_set() event
   goes away): "NAME free STATE"; the name is released. */
void probe_free(struct event *ev);

/* Callbacks of events the probe cannot see, such as event_once(): prints
   "NAME active what=FLAGS" and "NAME callback". */
void probe_unwatched_callback(const char *name, short what);

/* --- Free-form lines ------------------------------------------------------ */

/* One line: "SUBJECT STEP text". fmt may be NULL. */
void trace(const char *subject, const char *step, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "note text": an observation that is not a state, such as what a call
   returned. */
void trace_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A line only this style prints, "event1 text" or "event2 text": used where
   a lesson is about a difference between the styles. */
void trace_style(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Write flags as "READ|PERSIST" ("none" for 0) into buf. */
const char *trace_flags(short flags, char *buf, size_t size);

/* Write a bufferevent event callback's flags (BEV_EVENT_*, the same bits
   as 1.x's EVBUFFER_*) as "READING|EOF" ("none" for 0) into buf. */
const char *trace_bev_flags(short what, char *buf, size_t size);

/* Write a timeval as "10ms", "1500ms" or "250us" into buf. */
const char *trace_duration(const struct timeval *tv, char *buf, size_t size);

/* A call that should not fail did: say which on stderr and exit(1).
   die() is for libevent calls (libevent logs its own reason), die_errno()
   for system calls (it adds strerror(errno)). */
_Noreturn void die(const char *what);
_Noreturn void die_errno(const char *what);

#endif

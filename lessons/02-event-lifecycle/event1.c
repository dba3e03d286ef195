/*
 * Lesson 02, event1 style: the life of one event.
 *
 * What it shows: a read event on a socketpair goes non-pending -> pending ->
 *   active -> callback -> non-pending. It is a struct event the program
 *   owns, set up with event_set() on the global base; a second event,
 *   "observer", is tied to the base explicitly with event_base_set(). At
 *   each step the program also prints what event_pending() answers.
 * Run it:   make lesson-2          (both styles side by side)
 *           build/bin/02-event1    (this program alone)
 * Look for: "reader seen pending(READ)+active(READ)": a ready event is still
 *   pending until libevent is about to run its callback, and while it is
 *   active, event_pending() cannot tell the two apart. Inside the callback
 *   a non-persistent event is already non-pending.
 */
#include "event1.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static struct event reader_ev;   /* set up with event_set() */
static struct event observer_ev; /* set up with event_set() + event_base_set() */
static struct event *reader = &reader_ev;
static struct event *observer = &observer_ev;

/* What event_pending() says about reader, as a trace line. */
static void show_event_pending(const char *when)
{
    char flags[64];
    int pending = event_pending(reader, EV_READ | EV_TIMEOUT, NULL);
    trace_note("%s: event_pending(reader)=%s", when,
               trace_flags((short)pending, flags, sizeof flags));
}

/* doc: callback */
static void on_readable(int fd, short what, void *arg)
{
    struct event *self = arg;
    char byte;

    probe_callback(self, what);
    show_event_pending("inside its callback");
    if (read(fd, &byte, 1) != 1) /* consume it, or the fd stays readable */
        die_errno("read");
    probe_after(self);
}
/* doc: end */

/* Runs first (it was made active by hand, before dispatch), while reader is
   active and waiting its turn. */
static void on_observe(int fd, short what, void *arg)
{
    (void)fd;
    (void)arg;
    probe_callback(observer, what);
    probe_step(reader, "seen");
    show_event_pending("while active");
    probe_after(observer);
}

int main(void)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        die_errno("socketpair");

    struct event_base *base = event_init();
    if (base == NULL)
        die("event_init");

    /* event_set() fills in a struct event we own and attaches it to the
       current base, the one event_init() made. The usual 1.x idiom passes
       the event itself as the callback's argument. */
    /* doc: create */
    event_set(reader, fds[0], EV_READ, on_readable, reader);
    probe_watch(reader, "reader");
    show_event_pending("before event_add");

    if (event_add(reader, NULL) != 0)
        die("event_add");
    probe_added(reader, NULL);
    show_event_pending("after event_add");
    /* doc: end */

    /* doc: observer */
    /* event_base_set() names the base explicitly: needed as soon as a
       program has more than one. It must come before event_add(). */
    event_set(observer, -1, 0, on_observe, NULL);
    if (event_base_set(base, observer) != 0)
        die("event_base_set");
    probe_watch(observer, "observer");
    event_active(observer, 0, 0); /* lesson 05 covers event_active() */
    probe_step(observer, "activated");
    /* doc: end */

    if (write(fds[1], "x", 1) != 1) /* make reader's fd readable */
        die_errno("write");
    probe_step(reader, "seen");

    /* doc: dispatch */
    trace("loop", "dispatch", NULL);
    int result = event_dispatch();
    trace("loop", "returned", "result=%d", result);
    show_event_pending("after its callback");

    /* Added again, then taken back with event_del() before anything happens. */
    if (event_add(reader, NULL) != 0)
        die("event_add");
    probe_added(reader, NULL);
    if (event_del(reader) != 0)
        die("event_del");
    probe_step(reader, "deleted");
    /* doc: end */

    /* Nothing to free for the events: their storage is static. */
    probe_free(reader);
    probe_free(observer);
    event_base_free(base);
    close(fds[0]);
    close(fds[1]);
    return 0;
}

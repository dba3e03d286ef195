/*
 * Exercise 01 (starter): a ping over a socketpair, still in event1 style.
 * Port it to event2 style; this file, event2.c, is what you hand in.
 *
 * What it does: a base with two priorities; a timer ("ticker") fires once,
 *   10 ms after the start, and writes "ping" into one end of a socketpair;
 *   a persistent read event ("reader", priority 0) on the other end reads
 *   it, deletes itself and schedules a one-shot callback ("done") that asks
 *   the loop to exit. Every step is traced.
 * Run it:   make exercise-1        (builds it, runs the graded tests)
 *           build/exercises/01-port-to-event2/bin/event2   (after that)
 * Look for: the trace must stay exactly as it is while the calls change:
 *   the graded tests compare it with tests/expected.trace, and then check
 *   that no 1.x function and no compat header is left.
 */
#include <event.h> /* the 1.x API: event.h and every compat header */

#include "trace.h"

#include <sys/socket.h>
#include <unistd.h>

static struct event ticker; /* fires once, 10 ms after the start */
static struct event reader; /* persistent: reads what the ticker wrote */
static int fds[2];

static void on_done(int fd, short what, void *arg)
{
    (void)fd;
    (void)arg;
    probe_unwatched_callback("done", what);
    if (event_loopexit(NULL) != 0)
        die("event_loopexit");
    trace_note("the loop will exit after this pass");
}

static void on_tick(int fd, short what, void *arg)
{
    (void)fd;
    (void)arg;
    probe_callback(&ticker, what);
    if (write(fds[1], "ping", 4) != 4)
        die_errno("write");
    trace("ticker", "wrote", "bytes=4");
    probe_after(&ticker);
}

static void on_read(int fd, short what, void *arg)
{
    (void)arg;
    char buf[16];
    probe_callback(&reader, what);
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0)
        die_errno("read");
    trace("reader", "read", "bytes=%zd", n);

    struct timeval now = { 0, 0 };
    if (event_once(-1, EV_TIMEOUT, on_done, NULL, &now) != 0)
        die("event_once");
    trace("once", "scheduled", "timeout=0ms");
    if (event_del(&reader) != 0)
        die("event_del");
    probe_step(&reader, "deleted");
    probe_after(&reader);
}

int main(void)
{
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        die_errno("socketpair");
    struct event_base *base = event_init();
    if (base == NULL)
        die("event_init");
    if (event_priority_init(2) != 0)
        die("event_priority_init");

    evtimer_set(&ticker, on_tick, NULL);
    probe_watch(&ticker, "ticker");
    struct timeval ten_ms = { 0, 10000 };
    if (evtimer_add(&ticker, &ten_ms) != 0)
        die("evtimer_add");
    probe_added(&ticker, &ten_ms);

    event_set(&reader, fds[0], EV_READ | EV_PERSIST, on_read, NULL);
    probe_watch(&reader, "reader");
    if (event_priority_set(&reader, 0) != 0)
        die("event_priority_set");
    probe_priority(&reader);
    if (event_add(&reader, NULL) != 0)
        die("event_add");
    probe_added(&reader, NULL);
    trace_note("reader watches the socketpair: %s", EVENT_FD(&reader) == fds[0] ? "yes" : "no");

    trace("loop", "dispatch", NULL);
    int result = event_dispatch();
    trace("loop", "returned", "result=%d", result);

    probe_free(&ticker);
    probe_free(&reader);
    event_base_free(base);
    close(fds[0]);
    close(fds[1]);
    return 0;
}

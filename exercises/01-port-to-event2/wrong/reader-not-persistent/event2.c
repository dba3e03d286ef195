/*
 * Exercise 01 (solution): a ping over a socketpair, ported to event2 style.
 *
 * What it does: a base with two priorities; a timer ("ticker") fires once,
 *   10 ms after the start, and writes "ping" into one end of a socketpair;
 *   a persistent read event ("reader", priority 0) on the other end reads
 *   it, deletes itself and schedules a one-shot callback ("done") that asks
 *   the loop to exit. Every step is traced.
 * Run it:   make grade EXERCISE=1 SUBMISSION=exercises/01-port-to-event2/solution
 * Look for: the trace is byte for byte the starter's; what changed is
 *   every call: a base named everywhere, events allocated by libevent and
 *   freed by us, callbacks taking evutil_socket_t.
 */
#include "event2.h"

#include <sys/socket.h>
#include <unistd.h>

static struct event_base *base;
static struct event *ticker; /* fires once, 10 ms after the start */
static struct event *reader; /* persistent: reads what the ticker wrote */
static evutil_socket_t fds[2];

static void on_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)arg;
    probe_unwatched_callback("done", what);
    if (event_base_loopexit(base, NULL) != 0)
        die("event_base_loopexit");
    trace_note("the loop will exit after this pass");
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)arg;
    probe_callback(ticker, what);
    if (write(fds[1], "ping", 4) != 4)
        die_errno("write");
    trace("ticker", "wrote", "bytes=4");
    probe_after(ticker);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)arg;
    char buf[16];
    probe_callback(reader, what);
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0)
        die_errno("read");
    trace("reader", "read", "bytes=%zd", n);

    struct timeval now = { 0, 0 };
    if (event_base_once(base, -1, EV_TIMEOUT, on_done, NULL, &now) != 0)
        die("event_base_once");
    trace("once", "scheduled", "timeout=0ms");
    if (event_del(reader) != 0)
        die("event_del");
    probe_step(reader, "deleted");
    probe_after(reader);
}

int main(void)
{
    if (evutil_socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        die_errno("evutil_socketpair");
    base = event_base_new();
    if (base == NULL)
        die("event_base_new");
    if (event_base_priority_init(base, 2) != 0)
        die("event_base_priority_init");

    ticker = evtimer_new(base, on_tick, NULL);
    if (ticker == NULL)
        die("evtimer_new");
    probe_watch(ticker, "ticker");
    struct timeval ten_ms = { 0, 10000 };
    if (evtimer_add(ticker, &ten_ms) != 0)
        die("evtimer_add");
    probe_added(ticker, &ten_ms);

    reader = event_new(base, fds[0], EV_READ, on_read, NULL);
    if (reader == NULL)
        die("event_new");
    probe_watch(reader, "reader");
    if (event_priority_set(reader, 0) != 0)
        die("event_priority_set");
    probe_priority(reader);
    if (event_add(reader, NULL) != 0)
        die("event_add");
    probe_added(reader, NULL);
    trace_note("reader watches the socketpair: %s", event_get_fd(reader) == fds[0] ? "yes" : "no");

    trace("loop", "dispatch", NULL);
    int result = event_base_dispatch(base);
    trace("loop", "returned", "result=%d", result);

    probe_free(ticker);
    event_free(ticker);
    probe_free(reader);
    event_free(reader);
    event_base_free(base);
    evutil_closesocket(fds[0]);
    evutil_closesocket(fds[1]);
    return 0;
}

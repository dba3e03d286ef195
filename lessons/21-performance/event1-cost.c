/*
 * Lesson 21, event1 style: what one message costs a server, counted in
 * loop iterations and callbacks (the time each takes is `make bench`'s).
 *
 * What it shows: a 64-byte and a 16 KiB message echoed twice. First by a
 *   raw event (EV_READ|EV_PERSIST) whose callback read()s up to 64 KiB
 *   and write()s it back: one iteration, one callback, whatever the size.
 *   Then by a bufferevent: its write waits for the next iteration, and
 *   libevent 2.1.12 reads at most 4096 bytes at a time, so 16 KiB takes
 *   four reads, four writes and five iterations.
 *   Both ends are in this process, over 127.0.0.1; each message is all
 *   there before the loop looks, so the counts are the same on every run.
 * Run it:   make lesson-21 · build/bin/21-event1-cost
 * Look for: "peer received bytes=16384 iterations=1" for the raw event,
 *   "iterations=5" and four "bev read-cb input=4096" for the bufferevent.
 */
#include "event1.h"
#include "tcp_pair.h"

#include <stdio.h>
#include <unistd.h>

enum { SMALL = 64, LARGE = 16384 };

static int peer, fd;            /* the two ends of the connection in use */
static size_t echoed;           /* bytes the server has written back */
static size_t taken;            /* bytes the bufferevent has read */
static struct bufferevent *bev; /* the second half's */
static char buffer[64 * 1024];

/* doc: raw */
static void on_readable(int s, short what, void *arg)
{
    struct event *self = arg;
    probe_callback(self, what);
    /* One read() takes all that is there, up to the buffer's size. */
    ssize_t n = read(s, buffer, sizeof buffer);
    if (n <= 0)
        die_errno("read");
    if (write(s, buffer, (size_t)n) != n) /* a new socket takes 16 KiB */
        die_errno("write");
    trace_note("read() %zd bytes, write() %zd bytes", n, n);
    echoed += (size_t)n;
    probe_after(self);
}
/* doc: end */

/* doc: bufferevent */
static void on_read(struct bufferevent *b, void *arg)
{
    (void)arg;
    struct evbuffer *input = EVBUFFER_INPUT(b);
    trace("bev", "read-cb", "input=%zu", EVBUFFER_LENGTH(input));
    taken += EVBUFFER_LENGTH(input);
    if (bufferevent_write_buffer(b, input) != 0)
        die("bufferevent_write_buffer");
}

/* After a write that empties the output (the write low watermark: 0). */
static void on_write(struct bufferevent *b, void *arg)
{
    (void)b;
    (void)arg;
    echoed = taken; /* the output is empty: all that was read is written */
    trace("bev", "write-cb", "output=0");
}
/* doc: end */

/* doc: echo */
/* The peer sends `bytes`; the loop runs one iteration at a time until the
   server has written them all back. */
static void echo(int bytes)
{
    loopback_send(peer, bytes);
    trace("peer", "sent", "bytes=%d", bytes);
    loopback_wait_for(fd, bytes); /* all there before the loop looks */
    int iterations = 0;
    echoed = taken = 0;
    do {
        trace("loop", "once", NULL);
        if (event_loop(EVLOOP_ONCE) < 0)
            die("event_loop");
        iterations++;
    } while (echoed < (size_t)bytes);
    loopback_receive(peer, bytes);
    trace("peer", "received", "bytes=%d iterations=%d", bytes, iterations);
}
/* doc: end */

int main(void)
{
    struct event_base *base = event_init(); /* the current base */
    if (base == NULL)
        die("event_init");

    /* doc: setup */
    trace_style("raw: event_set() on the socket; read() and write() by hand");
    loopback_pair(&peer, &fd);
    loopback_set_nodelay(fd, true); /* lesson 21's other program says why */
    static struct event raw_event; /* storage the program owns */
    struct event *raw = &raw_event;
    event_set(raw, fd, EV_READ | EV_PERSIST, on_readable, raw);
    probe_watch(raw, "raw");
    if (event_add(raw, NULL) != 0)
        die("event_add");
    probe_added(raw, NULL);
    /* doc: end */
    echo(SMALL);
    echo(LARGE);
    if (event_del(raw) != 0)
        die("event_del");
    probe_step(raw, "deleted");
    probe_free(raw);
    close(fd);
    close(peer);

    trace_style("bufferevent_new() on a second connection");
    loopback_pair(&peer, &fd);
    loopback_set_nodelay(fd, true);
    bev = bufferevent_new(fd, on_read, on_write, NULL, NULL);
    if (bev == NULL)
        die("bufferevent_new");
    if (bufferevent_enable(bev, EV_READ) != 0)
        die("bufferevent_enable");
    echo(SMALL);
    echo(LARGE);
    bufferevent_free(bev);
    close(fd); /* 1.x bufferevents never close their socket */
    close(peer);
    event_base_free(base);
    return 0;
}

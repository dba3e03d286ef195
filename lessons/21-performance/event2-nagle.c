/*
 * Lesson 21, event2 style: where the 44 ms came from.
 *
 * What it shows: a bufferevent echoes one 16 KiB message, as lesson 10's
 *   server did before it set TCP_NODELAY. libevent 2.1.12 reads at most
 *   4096 bytes at a time, so the echo leaves in four writes. With Nagle's
 *   algorithm on (the default), the first goes out and the other three
 *   wait in the kernel ("unsent") until the peer acknowledges the first;
 *   a peer that has just sent data delays that ACK (40 ms on Linux). Then
 *   the same with TCP_NODELAY: every write leaves at once.
 *   Both ends are in this process, over 127.0.0.1; the kernel's counts
 *   (TCP_INFO, FIONREAD) are read as each write callback runs.
 * Run it:   make lesson-21 · build/bin/21-event2-nagle
 * Look for: "bev write-cb unsent=12288" and "peer has bytes=4096" with
 *   Nagle on; "unsent=0" and "bytes=16384" with TCP_NODELAY.
 */
#include "event2.h"
#include "tcp_pair.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

enum { MESSAGE = 16384, WARM_UP = 64, MAX_STEPS = 32, ATTEMPTS = 20 };

/* What one echo showed, kept until we know the peer did not ACK early. */
struct step {
    const char *subject, *step, *key;
    long value;
};
static struct step steps[MAX_STEPS];
static int nsteps;
static size_t echoed; /* bytes the read callback moved to the output */
static int fd;        /* the server's end of the connection */

static void record(const char *subject, const char *step, const char *key, long value)
{
    if (nsteps < MAX_STEPS)
        steps[nsteps++] = (struct step){ subject, step, key, value };
}

/* doc: callbacks */
static void on_read(struct bufferevent *bev, void *arg)
{
    (void)arg;
    struct evbuffer *input = bufferevent_get_input(bev);
    size_t length = evbuffer_get_length(input);
    record("bev", "read-cb", "input", (long)length);
    echoed += length;
    if (bufferevent_write_buffer(bev, input) != 0)
        die("bufferevent_write_buffer");
}

/* Runs after each write that empties the output: what did the kernel
   send of it, and what does it hold back? */
static void on_write(struct bufferevent *bev, void *arg)
{
    (void)arg;
    (void)bev;
    struct loopback_sender state;
    loopback_sender_state(fd, &state);
    record("bev", "write-cb", "unsent", (long)state.unsent);
}
/* doc: end */

/* One echo of MESSAGE bytes on a fresh connection; false if the peer
   acknowledged the echo before we looked (then nothing is printed). */
static bool echo_once(struct event_base *base, bool nodelay)
{
    int peer;
    loopback_pair(&peer, &fd);
    loopback_set_nodelay(fd, nodelay);
    struct bufferevent *bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL)
        die("bufferevent_socket_new");
    bufferevent_setcb(bev, on_read, on_write, NULL, NULL);
    if (bufferevent_enable(bev, EV_READ) != 0)
        die("bufferevent_enable");

    /* doc: warm-up */
    /* One small exchange first: a peer that has sent data delays its
       ACKs (a fresh connection ACKs at once), as the bench's clients do
       after their first message. */
    loopback_send(peer, WARM_UP);
    echoed = 0;
    while (echoed < WARM_UP || evbuffer_get_length(bufferevent_get_output(bev)) > 0)
        if (event_base_loop(base, EVLOOP_ONCE) < 0)
            die("event_base_loop");
    loopback_receive(peer, WARM_UP);
    /* doc: end */

    /* doc: echo */
    nsteps = 0;
    echoed = 0;
    loopback_send(peer, MESSAGE);
    record("peer", "sent", "bytes", MESSAGE);
    loopback_wait_for(fd, MESSAGE); /* all there before the loop looks */
    struct loopback_sender before, after;
    loopback_sender_state(fd, &before);
    while (echoed < MESSAGE || evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
        record("loop", "once", NULL, 0);
        if (event_base_loop(base, EVLOOP_ONCE) < 0)
            die("event_base_loop");
    }
    /* What has reached the peer: the first write at least. */
    loopback_wait_for(peer, nodelay ? MESSAGE : 4096);
    record("peer", "has", "bytes", loopback_unread(peer));
    loopback_sender_state(fd, &after);
    /* doc: end */
    bool clean = nodelay || after.acked == before.acked;

    loopback_receive(peer, MESSAGE); /* all of it: the rest comes once the peer ACKs */
    record("peer", "received", "bytes", MESSAGE);
    bufferevent_free(bev); /* BEV_OPT_CLOSE_ON_FREE: closes fd */
    close(peer);
    return clean;
}

static void run(struct event_base *base, bool nodelay)
{
    trace_note("%s", nodelay ? "TCP_NODELAY on: every write is sent at once"
                             : "TCP_NODELAY off (the default): Nagle's algorithm is on");
    /* A peer's delayed ACK comes 40 ms or more after the data: only a
       machine that stalls this process that long makes us try again. */
    for (int attempt = 1; !echo_once(base, nodelay); attempt++)
        if (attempt == ATTEMPTS) {
            fprintf(stderr, "the peer acknowledged early %d times running\n", ATTEMPTS);
            exit(1);
        }
    for (int i = 0; i < nsteps; i++)
        if (steps[i].key == NULL)
            trace(steps[i].subject, steps[i].step, NULL);
        else
            trace(steps[i].subject, steps[i].step, "%s=%ld", steps[i].key, steps[i].value);
}

int main(void)
{
    struct event_base *base = event_base_new();
    if (base == NULL)
        die("event_base_new");
    trace_style("bufferevent_socket_new() on the accepted socket; event_base_loop(EVLOOP_ONCE)");
    run(base, false);
    run(base, true);
    event_base_free(base);
    return 0;
}

/*
 * Lesson 20, event2 style, mistake 11, the bug: a reply in two small
 * send() calls, with Nagle's algorithm on (the default).
 *
 * What it shows: a request/response server answers each request with a
 *   header and a body, each its own send(). The first leaves at once.
 *   Nagle's algorithm holds the second, a small segment, in the kernel
 *   while the first is unacknowledged, and the client, which has just
 *   sent its request, delays that ACK (40 ms on Linux): every reply takes
 *   40 ms, the CPU idle. Both ends are in this process, over 127.0.0.1;
 *   the kernel's counts (TCP_INFO, FIONREAD) show it without a clock.
 *   Lesson 21 measures what it costs.
 * Run it:   make lesson-20     (every mistake: the bug, then the fix)
 *           build/bin/20-event2-11-nagle-bug
 * Look for: "server kernel unsent=6" (the body held back) and "peer has
 *   bytes=16" (the header only), then "waited for the client's ACK: yes".
 */
#include "event2.h"

#include "tcp_pair.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { ATTEMPTS = 20, REQUEST = 12 };
static const char header[] = "200 OK, 6 bytes\n", body[] = "ready\n";
#define LEN(s) (sizeof(s) - 1)

/* What the last exchange showed, printed once we know the client did not
   ACK early (only a machine that stalls this process 40 ms makes us try
   again). */
static unsigned held; /* bytes the server's kernel had not sent, right after the two sends */

static void send_all(int fd, const char *data, size_t length)
{
    if (send(fd, data, length, 0) != (ssize_t)length)
        die_errno("send");
}

static void on_request(evutil_socket_t fd, short what, void *arg)
{
    char data[64];
    (void)what, (void)arg;
    if (recv(fd, data, sizeof data, 0) != REQUEST)
        die_errno("recv");
    /* doc: bug */
    /* The mistake: one reply in two small writes, Nagle's algorithm on. */
    send_all(fd, header, LEN(header));
    send_all(fd, body, LEN(body));
    /* doc: end */
    struct loopback_sender state;
    loopback_sender_state(fd, &state);
    held = state.unsent;
}

/* Two requests and their replies on a fresh connection; the first is a
   warm-up (a fresh connection ACKs at once; a client that has sent data
   delays its ACKs). False if the client acknowledged the second header
   before we looked: then nothing is printed, and we try again. */
static bool exchange(struct event_base *base, int *peer_has)
{
    int peer, server;
    loopback_pair(&peer, &server);
    struct event *ev = event_new(base, server, EV_READ | EV_PERSIST, on_request, NULL);
    if (ev == NULL)
        die("event_new");
    if (event_add(ev, NULL) != 0)
        die("event_add");
    bool clean = false;
    for (int round = 0; round < 2; round++) {
        loopback_send(peer, REQUEST);
        loopback_wait_for(server, REQUEST); /* all there before the loop looks */
        struct loopback_sender before, after;
        loopback_sender_state(server, &before);
        if (event_base_loop(base, EVLOOP_ONCE) != 0)
            die("event_base_loop");
        loopback_wait_for(peer, LEN(header)); /* the header at least */
        *peer_has = loopback_unread(peer);
        loopback_sender_state(server, &after);
        clean = after.acked == before.acked; /* the header still unacknowledged */
        loopback_receive(peer, LEN(header) + LEN(body)); /* all: the body once the client ACKs */
    }
    event_free(ev);
    close(server);
    close(peer);
    return clean;
}

int main(int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: %s (no arguments)\n", argv[0]);
        return 2;
    }
    struct event_base *base = event_base_new();
    if (base == NULL)
        die("event_base_new");
    trace_style("event_new() on the accepted socket, EV_READ|EV_PERSIST; send() by hand");
    trace_note("TCP_NODELAY off (the default): Nagle's algorithm is on");
    int peer_has = 0;
    for (int attempt = 1; !exchange(base, &peer_has); attempt++)
        if (attempt == ATTEMPTS) {
            fprintf(stderr, "the client acknowledged early %d times running\n", ATTEMPTS);
            return 1;
        }
    trace("peer", "sent", "bytes=%d", REQUEST);
    trace("server", "sent", "header=%zu body=%zu", LEN(header), LEN(body));
    trace("server", "kernel", "unsent=%u", held);
    trace("peer", "has", "bytes=%d", peer_has);
    trace("peer", "received", "bytes=%zu", LEN(header) + LEN(body));
    trace_note("the body waited for the client's ACK of the header: %s", held > 0 ? "yes" : "no");
    event_base_free(base);
    return 0;
}

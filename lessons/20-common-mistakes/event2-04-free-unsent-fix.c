/*
 * Lesson 20, event2 style, mistake 04, the fix: free the bufferevent from
 * its write callback, once the output is empty.
 *
 * What it shows: the same reply, and a write callback. With the default
 *   write low watermark, 0, libevent calls it when the output buffer has
 *   been written out completely; freeing the bufferevent there loses
 *   nothing. The peer counts what arrives until EOF.
 * Run it:   make lesson-20     (every mistake: the bug, then the fix)
 *           build/bin/20-event2-04-free-unsent-fix
 * Look for: "bev write-cb output=0" before "bev freed", and "peer
 *   received bytes=100000".
 */
#include "event2.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { REPLY_SIZE = 100000 };
static char reply[REPLY_SIZE];
static size_t received;

/* doc: fix */
/* The output is empty: everything is in the kernel's hands. */
static void on_write(struct bufferevent *bev, void *arg)
{
    (void)arg;
    trace("bev", "write-cb", "output=%zu", evbuffer_get_length(bufferevent_get_output(bev)));
    bufferevent_free(bev); /* safe in its own callback */
    trace("bev", "freed", NULL);
}
/* doc: end */

/* The peer: counts what arrives; at EOF it stops. */
static void on_peer(evutil_socket_t fd, short what, void *arg)
{
    struct event *self = arg;
    char buf[16384];
    ssize_t n;
    (void)what;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        received += (size_t)n;
    if (n == 0) {
        trace("peer", "received", "bytes=%zu", received);
        trace("peer", "eof", NULL);
        if (event_del(self) != 0)
            die("event_del");
    }
}

int main(int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: %s (no arguments)\n", argv[0]);
        return 2;
    }
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        die_errno("socketpair");
    if (evutil_make_socket_nonblocking(fds[0]) != 0 || evutil_make_socket_nonblocking(fds[1]) != 0)
        die("evutil_make_socket_nonblocking");
    memset(reply, 'x', sizeof reply);
    struct event_base *base = event_base_new();
    if (base == NULL)
        die("event_base_new");
    struct event *peer = event_new(base, fds[1], EV_READ | EV_PERSIST, on_peer, event_self_cbarg());
    if (peer == NULL || event_add(peer, NULL) != 0)
        die("event_new, event_add");
    struct bufferevent *bev = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL)
        die("bufferevent_socket_new");

    bufferevent_setcb(bev, NULL, on_write, NULL, NULL);
    if (bufferevent_write(bev, reply, sizeof reply) != 0)
        die("bufferevent_write");
    trace("bev", "wrote", "output=%zu", evbuffer_get_length(bufferevent_get_output(bev)));

    trace("loop", "dispatch", NULL);
    int result = event_base_dispatch(base);
    trace("loop", "returned", "result=%d", result);
    trace_note("the peer got %zu of %d bytes", received, REPLY_SIZE);

    event_free(peer);
    event_base_free(base);
    close(fds[1]);
    return 0;
}

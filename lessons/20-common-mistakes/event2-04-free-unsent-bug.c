/*
 * Lesson 20, event2 style, mistake 04, the bug: freeing a bufferevent with
 * its output still unsent.
 *
 * What it shows: bufferevent_write() only puts the bytes in the output
 *   buffer; the loop writes them to the socket later, when the socket is
 *   writable. bufferevent_free() right after it throws them away. The peer
 *   is an event in the same loop that counts what arrives until EOF.
 *   bufferevent_flush() does not help: on a socket it does nothing.
 * Run it:   make lesson-20     (every mistake: the bug, then the fix)
 *           build/bin/20-event2-04-free-unsent-bug
 * Look for: "bev wrote output=100000", "bev freed", then "peer received
 *   bytes=0": nothing of it left.
 */
#include "event2.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { REPLY_SIZE = 100000 };
static char reply[REPLY_SIZE];
static size_t received;

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

    /* doc: bug */
    if (bufferevent_write(bev, reply, sizeof reply) != 0)
        die("bufferevent_write");
    trace("bev", "wrote", "output=%zu", evbuffer_get_length(bufferevent_get_output(bev)));
    /* A flush that is no flush: a socket bufferevent's flush does nothing. */
    int flushed = bufferevent_flush(bev, EV_WRITE, BEV_FLUSH);
    trace_style("bufferevent_flush() returned %d, output=%zu", flushed,
                evbuffer_get_length(bufferevent_get_output(bev)));
    /* The mistake: freed at once, with the output still in the buffer. */
    bufferevent_free(bev);
    trace("bev", "freed", NULL);
    /* doc: end */

    trace("loop", "dispatch", NULL);
    int result = event_base_dispatch(base);
    trace("loop", "returned", "result=%d", result);
    trace_note("the peer got %zu of %d bytes", received, REPLY_SIZE);

    event_free(peer);
    event_base_free(base);
    close(fds[1]);
    return 0;
}

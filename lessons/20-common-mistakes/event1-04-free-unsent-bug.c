/*
 * Lesson 20, event1 style, mistake 04, the bug: freeing a bufferevent with
 * its output still unsent.
 *
 * What it shows: bufferevent_write() only puts the bytes in the output
 *   buffer; the loop writes them to the socket later, when the socket is
 *   writable. bufferevent_free() right after it throws them away. The peer
 *   is an event in the same loop that counts what arrives until EOF.
 *   1.x had no bufferevent_flush(); on 2.1 it does nothing on a socket.
 * Run it:   make lesson-20     (every mistake: the bug, then the fix)
 *           build/bin/20-event1-04-free-unsent-bug
 * Look for: "bev wrote output=100000", "bev freed", then "peer received
 *   bytes=0": nothing of it left.
 */
#include "event1.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { REPLY_SIZE = 100000 };
static char reply[REPLY_SIZE];
static size_t received;
static int conn = -1; /* the bufferevent's socket */

/* 1.x called the error callback without checking it was set: one for
   every bufferevent. Nothing here ends or fails. */
static void on_error(struct bufferevent *bev, short what, void *arg)
{
    (void)bev, (void)what, (void)arg;
    die("unexpected error callback");
}

/* The peer: counts what arrives; at EOF it stops. */
static void on_peer(int fd, short what, void *arg)
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
    struct event_base *base = event_init();
    if (base == NULL)
        die("event_init");
    static struct event peer_ev;
    struct event *peer = &peer_ev;
    event_set(peer, fds[1], EV_READ | EV_PERSIST, on_peer, peer);
    if (event_add(peer, NULL) != 0)
        die("event_add");
    conn = fds[0];
    struct bufferevent *bev = bufferevent_new(conn, NULL, NULL, on_error, NULL);
    if (bev == NULL)
        die("bufferevent_new");

    /* doc: bug */
    if (bufferevent_write(bev, reply, sizeof reply) != 0)
        die("bufferevent_write");
    trace("bev", "wrote", "output=%zu", EVBUFFER_LENGTH(EVBUFFER_OUTPUT(bev)));
    trace_style("1.x had no bufferevent_flush(): nothing to try");
    /* The mistake: freed at once, with the output still in the buffer. */
    bufferevent_free(bev);
    close(conn); /* 1.x had no BEV_OPT_CLOSE_ON_FREE */
    trace("bev", "freed", NULL);
    /* doc: end */

    trace("loop", "dispatch", NULL);
    int result = event_dispatch();
    trace("loop", "returned", "result=%d", result);
    trace_note("the peer got %zu of %d bytes", received, REPLY_SIZE);

    event_base_free(base); /* peer: static storage, deleted at EOF */
    close(fds[1]);
    return 0;
}

/*
 * Lesson 11, event1 style: a TCP client, the original note's, corrected.
 *
 * What it shows: 1.x had no bufferevent_socket_connect(). The client makes
 *   a non-blocking socket and calls connect(), which returns at once
 *   ("in progress"); an EV_WRITE event on the socket fires when the connect
 *   is done, and SO_ERROR says whether it worked. Only then does a
 *   bufferevent_new() take the socket over. Then the client sends two
 *   requests in one write, reads the two replies line by line, hangs up
 *   (half-close) and waits for the server's EOF. The note's bugs are fixed
 *   and marked "Fixed:"; the README lists them all.
 * Run it:   make lesson-11         (starts the server, runs this against it)
 *           build/bin/11-event1-client --port PORT   (PORT: what the server
 *           printed)
 * Look for: the order: connected, sent, write-cb (the request has left:
 *   the note's "already send data."), the replies, EOF. Two "reply" lines:
 *   the read callback runs because reading was enabled, which the note
 *   had commented out.
 */
#include "event1.h"
#include "net.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REQUESTS "hello\nworld\n" /* two requests, one write */
enum { REQUEST_COUNT = 2 };

static int fd = -1; /* bufferevent_new() never closes it: we do */
static int replies;
static bool failed;

/* doc: read */
static void read_cb(struct bufferevent *bev, void *arg)
{
    char *line;
    size_t length;
    (void)arg;

    /* A reply may come in pieces, or two in one read: take whole lines. */
    while ((line = evbuffer_readln(EVBUFFER_INPUT(bev), &length, EVBUFFER_EOL_LF)) != NULL) {
        replies++;
        trace("client", "reply", "line=%s", line);
        free(line);
        if (replies == REQUEST_COUNT) {
            /* Done: "I send no more"; the server answers with EOF. */
            if (shutdown(fd, SHUT_WR) != 0)
                die_errno("shutdown");
            trace("client", "shutdown", "what=WRITE");
        }
    }
}
/* doc: end */

/* doc: write */
static void write_cb(struct bufferevent *bev, void *arg)
{
    (void)arg;
    /* The note's "already send data.": the output has drained. */
    trace("client", "write-cb", "output=%zu", EVBUFFER_LENGTH(EVBUFFER_OUTPUT(bev)));
}
/* doc: end */

/* doc: event */
static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    char flags[64];
    (void)arg;

    if (what & EVBUFFER_ERROR) /* reset, ... */
        fprintf(stderr, "connection failed: %s\n", strerror(errno));
    else
        trace("client", "event-cb", "what=%s", trace_bev_flags(what, flags, sizeof flags));
    if (!(what & EVBUFFER_EOF) || replies != REQUEST_COUNT)
        failed = true;
    bufferevent_free(bev); /* Fixed: the note never freed it */
    close(fd);
    trace("client", "freed", NULL);
}
/* doc: end */

/* doc: connected */
/* EV_WRITE on a connecting socket: the connect is over, one way or the
   other. SO_ERROR tells which. */
static void on_connect_done(int sock, short what, void *arg)
{
    struct event_base *base = arg;
    int error = 0;
    socklen_t length = sizeof error;
    char flags[64];

    trace_style("EV_WRITE on the connecting socket: what=%s",
                trace_flags(what, flags, sizeof flags));
    if (getsockopt(sock, SOL_SOCKET, SO_ERROR, &error, &length) != 0)
        die_errno("getsockopt(SO_ERROR)");
    if (error != 0) {
        fprintf(stderr, "connection failed: %s\n", strerror(error));
        failed = true;
        close(sock);
        return; /* nothing else is pending: the loop returns */
    }
    trace("client", "connected", NULL);

    struct bufferevent *bev = bufferevent_new(sock, read_cb, write_cb, event_cb, NULL);
    if (bev == NULL)
        die("bufferevent_new");
    if (bufferevent_base_set(base, bev) != 0)
        die("bufferevent_base_set");
    /* Fixed: the note had this commented out, so read_cb never ran. */
    if (bufferevent_enable(bev, EV_READ) != 0)
        die("bufferevent_enable");
    /* strlen(), not the note's server's strlen() + 1: no NUL on the wire. */
    if (bufferevent_write(bev, REQUESTS, strlen(REQUESTS)) != 0)
        die("bufferevent_write");
    trace("client", "sent", "bytes=%zu", strlen(REQUESTS));
}
/* doc: end */

int main(int argc, char **argv)
{
    /* Fixed: the note's sockaddr_in was never filled in, nor cast to
       struct sockaddr * for the call. */
    struct net_options options;
    net_parse_options(argc, argv, NET_CLIENT, &options);
    net_ignore_sigpipe();

    struct event_base *base = event_init();
    if (base == NULL) /* Fixed: nothing was checked */
        die("event_init");

    /* doc: connect */
    /* Fixed: the note made a blocking socket(); a connect() on it would
       stop the whole program until the server answered. */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        die_errno("socket");
    if (evutil_make_socket_nonblocking(fd) != 0)
        die("evutil_make_socket_nonblocking");
    if (connect(fd, (struct sockaddr *)&options.address, sizeof options.address) != 0 &&
        errno != EINPROGRESS) {
        net_report_connect_error(&options.address, errno);
        close(fd);
        event_base_free(base);
        return 1;
    }
    static struct event connecting;
    /* Set up before the loop runs, so nothing can be missed. */
    event_set(&connecting, fd, EV_WRITE, on_connect_done, base);
    if (event_add(&connecting, NULL) != 0)
        die("event_add");
    trace_style("connect() on a non-blocking socket: in progress; EV_WRITE will say");
    trace("client", "connecting", NULL);
    /* doc: end */

    trace("loop", "dispatch", NULL);
    int result = event_dispatch();
    trace("loop", "returned", "result=%d", result);
    event_base_free(base);
    return failed || result < 0 ? 1 : 0;
}

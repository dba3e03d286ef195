/*
 * Lesson 11, event2 style: a TCP client, the original note's, corrected.
 *
 * What it shows: bufferevent_socket_connect() makes a non-blocking socket,
 *   starts the connect and returns; the event callback says
 *   BEV_EVENT_CONNECTED when it is done. Then the client sends two
 *   requests in one write, reads the two replies line by line, hangs up
 *   (half-close) and waits for the server's EOF. The note's bugs are fixed
 *   and marked "Fixed:"; the README lists them all.
 * Run it:   make lesson-11         (starts the server, runs this against it)
 *           build/bin/11-event2-client --port PORT   (PORT: what the server
 *           printed)
 * Look for: the order: connected, sent, write-cb (the request has left:
 *   the note's "already send data."), the replies, EOF. Two "reply" lines:
 *   the read callback runs because reading was enabled, which the note
 *   had commented out.
 */
#include "event2.h"
#include "net.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define REQUESTS "hello\nworld\n" /* two requests, one write */
enum { REQUEST_COUNT = 2 };

static int replies;
static bool failed;

/* doc: read */
static void read_cb(struct bufferevent *bev, void *arg)
{
    char *line;
    size_t length;
    (void)arg;

    /* A reply may come in pieces, or two in one read: take whole lines. */
    while ((line = evbuffer_readln(bufferevent_get_input(bev), &length, EVBUFFER_EOL_LF)) != NULL) {
        replies++;
        trace("client", "reply", "line=%s", line);
        free(line);
        if (replies == REQUEST_COUNT) {
            /* Done: "I send no more"; the server answers with EOF. */
            if (shutdown(bufferevent_getfd(bev), SHUT_WR) != 0)
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
    trace("client", "write-cb", "output=%zu", evbuffer_get_length(bufferevent_get_output(bev)));
}
/* doc: end */

/* doc: event */
static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    char flags[64];
    (void)arg;

    if (what & BEV_EVENT_CONNECTED) {
        trace_style("event-cb what=%s", trace_bev_flags(what, flags, sizeof flags));
        trace("client", "connected", NULL);
        /* strlen(), not the note's server's strlen() + 1: no NUL on the wire. */
        if (bufferevent_write(bev, REQUESTS, strlen(REQUESTS)) != 0)
            die("bufferevent_write");
        trace("client", "sent", "bytes=%zu", strlen(REQUESTS));
        return;
    }
    if (what & BEV_EVENT_ERROR) /* refused, reset, ... */
        fprintf(stderr, "connection failed: %s\n",
                evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    else
        trace("client", "event-cb", "what=%s", trace_bev_flags(what, flags, sizeof flags));
    if (!(what & BEV_EVENT_EOF) || replies != REQUEST_COUNT)
        failed = true;
    bufferevent_free(bev); /* Fixed: the note never freed it */
    trace("client", "freed", NULL);
}
/* doc: end */

int main(int argc, char **argv)
{
    /* Fixed: the note's sockaddr_in was never filled in, nor cast to
       struct sockaddr * for the call. */
    struct net_options options;
    net_parse_options(argc, argv, NET_CLIENT, &options);
    net_ignore_sigpipe();

    struct event_base *base = event_base_new();
    if (base == NULL) /* Fixed: nothing was checked */
        die("event_base_new");

    /* doc: connect */
    /* Fixed: the note made a blocking socket() and handed it over; with -1
       libevent makes a non-blocking one when it connects. */
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL)
        die("bufferevent_socket_new");
    /* Fixed: bufferevent_setcb(), not bufferevent_set_cb(), and before the
       connect it is to hear about. */
    bufferevent_setcb(bev, read_cb, write_cb, event_cb, NULL);
    /* Fixed: the note had this commented out, so read_cb never ran. */
    if (bufferevent_enable(bev, EV_READ) != 0)
        die("bufferevent_enable");
    if (bufferevent_socket_connect(bev, (struct sockaddr *)&options.address,
                                   sizeof options.address) != 0) {
        fprintf(stderr, "cannot start connecting: %s\n",
                evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        bufferevent_free(bev);
        event_base_free(base);
        return 1;
    }
    trace_style("bufferevent_socket_connect(): connecting; the event callback will say");
    trace("client", "connecting", NULL);
    /* doc: end */

    trace("loop", "dispatch", NULL);
    int result = event_base_dispatch(base);
    trace("loop", "returned", "result=%d", result);
    event_base_free(base);
    return failed || result < 0 ? 1 : 0;
}

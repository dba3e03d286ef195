/*
 * Lesson 10, event2 style: a client for the echo server.
 *
 * What it shows: two connections open at once, "alice" and "bob", each a
 *   bufferevent on a socket connected by hand (lesson 11 connects the
 *   libevent way). They take turns, from a script: each message waits for
 *   its whole echo before the next goes out, however the bytes come back,
 *   and each connection hangs up by shutting down its writing half and
 *   waiting for the server's EOF. So both programs' traces are the same on
 *   every run.
 * Run it:   make lesson-10          (starts the server, runs this against it)
 *           build/bin/10-event2-client --port PORT   (PORT: what the server
 *           printed)
 * Look for: "alice echoed bytes=256 same=yes": every byte value, NUL
 *   included, came back as sent. "alice event-cb what=READING|EOF" after
 *   "alice shutdown": the server finished the echo, then closed.
 */
#include "event2.h"
#include "net.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct connection {
    const char *name;
    int fd; /* for shutdown() */
    struct bufferevent *bev;
    const unsigned char *expected; /* the echo awaited: what was sent */
    size_t expected_length, received;
    bool same;
};

static struct connection alice = { .name = "alice" }, bob = { .name = "bob" };

/* The session: one step at a time, each when the one before is done. */
enum action { SEND, HANG_UP };
static unsigned char every_byte[256]; /* 0, 1, ..., 255 */
static const struct step {
    struct connection *who;
    enum action action;
    const void *data;
    size_t length;
} script[] = {
    { &alice, SEND, "hello from alice", 16 },
    { &bob, SEND, "hello from bob", 14 },
    { &alice, SEND, every_byte, sizeof every_byte },
    { &alice, HANG_UP, NULL, 0 },
    { &bob, HANG_UP, NULL, 0 },
};
static size_t next_step;
static bool failed;

static void run_next_step(void)
{
    if (next_step == sizeof script / sizeof script[0])
        return; /* nothing left: the loop runs out of events and returns */
    const struct step *step = &script[next_step++];
    struct connection *c = step->who;
    if (step->action == SEND) {
        c->expected = step->data;
        c->expected_length = step->length;
        c->received = 0;
        c->same = true;
        if (bufferevent_write(c->bev, step->data, step->length) != 0)
            die("bufferevent_write");
        trace(c->name, "sent", "bytes=%zu", step->length);
    } else {
        /* A half-close: "I send no more". The server sees EOF, finishes,
           and closes; we see its EOF. */
        if (shutdown(c->fd, SHUT_WR) != 0)
            die_errno("shutdown");
        trace(c->name, "shutdown", "what=WRITE");
    }
}

/* doc: read */
static void on_read(struct bufferevent *bev, void *arg)
{
    struct connection *c = arg;
    unsigned char chunk[4096];
    size_t n;

    /* The echo may come back in any number of pieces: count and compare
       until all of it is here. */
    while ((n = bufferevent_read(bev, chunk, sizeof chunk)) > 0) {
        if (c->received + n > c->expected_length) {
            fprintf(stderr, "%s: %zu bytes more than was sent came back\n", c->name,
                    c->received + n - c->expected_length);
            failed = true;
            if (event_base_loopbreak(bufferevent_get_base(bev)) != 0)
                die("event_base_loopbreak");
            return;
        }
        if (memcmp(chunk, c->expected + c->received, n) != 0)
            c->same = false;
        c->received += n;
    }
    if (c->received == c->expected_length) {
        trace(c->name, "echoed", "bytes=%zu same=%s", c->received, c->same ? "yes" : "no");
        failed = failed || !c->same;
        run_next_step();
    }
}
/* doc: end */

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct connection *c = arg;
    char flags[64];

    trace(c->name, "event-cb", "what=%s", trace_bev_flags(what, flags, sizeof flags));
    if (!(what & BEV_EVENT_EOF) || c->received != c->expected_length) {
        fprintf(stderr, "%s: the connection ended early\n", c->name);
        failed = true;
    }
    bufferevent_free(bev); /* BEV_OPT_CLOSE_ON_FREE: closes the socket */
    c->bev = NULL;
    trace(c->name, "freed", NULL);
    run_next_step();
}

/* doc: connect */
static void open_connection(struct connection *c, struct event_base *base,
                            const struct sockaddr_in *server)
{
    c->fd = net_connect(server); /* a blocking connect(): lesson 11 does better */
    if (evutil_make_socket_nonblocking(c->fd) != 0)
        die("evutil_make_socket_nonblocking");
    c->bev = bufferevent_socket_new(base, c->fd, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL)
        die("bufferevent_socket_new");
    bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
    if (bufferevent_enable(c->bev, EV_READ) != 0) /* off by default */
        die("bufferevent_enable");
    trace(c->name, "connected", NULL);
}
/* doc: end */

int main(int argc, char **argv)
{
    struct net_options options;
    net_parse_options(argc, argv, NET_CLIENT, &options);
    net_ignore_sigpipe();
    for (size_t i = 0; i < sizeof every_byte; i++)
        every_byte[i] = (unsigned char)i;

    struct event_base *base = event_base_new();
    if (base == NULL)
        die("event_base_new");
    trace_style("bufferevent_socket_new() on a socket connected by hand");
    open_connection(&alice, base, &options.address);
    open_connection(&bob, base, &options.address);

    run_next_step();
    trace("loop", "dispatch", NULL);
    int result = event_base_dispatch(base);
    trace("loop", "returned", "result=%d", result);

    struct connection *both[] = { &alice, &bob };
    for (size_t i = 0; i < 2; i++)
        if (both[i]->bev != NULL) { /* only after a failure */
            bufferevent_free(both[i]->bev);
            failed = true;
        }
    event_base_free(base);
    if (failed || result < 0 || next_step != sizeof script / sizeof script[0]) {
        fprintf(stderr, "the session did not run to its end\n");
        return 1;
    }
    return 0;
}

/*
 * echo-bufferevent.c - the bench's plain bufferevent echo server: an
 * evconnlistener and one bufferevent per client whose read callback moves
 * the input to the output. No watermarks, no backpressure, no trace:
 * what libevent's bufferevents cost, and nothing else.
 *
 * Run it:   build/bench/echo-bufferevent [--port PORT] [--nagle]
 *           (SIGINT/SIGTERM: exit 0, everything freed)
 * Look for: with --nagle (TCP_NODELAY left off) a 16 KiB echo waits for
 *   the client's delayed ACK: `make bench` shows it, lesson 21 says why.
 */
#define _GNU_SOURCE
#include "net.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct client {
    struct bufferevent *bev;
    struct client *prev, *next;
};

static struct event_base *base;
static struct client *clients;
static bool nagle; /* --nagle: leave TCP_NODELAY off */

static void fail(const char *what)
{
    fprintf(stderr, "echo-bufferevent: %s failed\n", what);
    exit(1);
}

static void close_client(struct client *c)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        clients = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    bufferevent_free(c->bev);
    free(c);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    if (bufferevent_write_buffer(bev, bufferevent_get_input(bev)) != 0)
        close_client(arg);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        close_client(arg);
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *peer,
                      int peer_length, void *arg)
{
    (void)listener, (void)peer, (void)peer_length, (void)arg;
    int on = 1;
    struct client *c = calloc(1, sizeof *c);
    if (c == NULL || (!nagle && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0) ||
        (c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
        free(c);
        evutil_closesocket(fd);
        return;
    }
    c->next = clients;
    if (clients != NULL)
        clients->prev = c;
    clients = c;
    bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
    if (bufferevent_enable(c->bev, EV_READ) != 0)
        close_client(c);
}

static void on_signal(evutil_socket_t signum, short what, void *arg)
{
    (void)signum, (void)what, (void)arg;
    if (event_base_loopexit(base, NULL) != 0)
        fail("event_base_loopexit");
}

int main(int argc, char **argv)
{
    /* --nagle is ours; the rest is the lessons' command line. */
    int kept = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--nagle") == 0)
            nagle = true;
        else
            argv[kept++] = argv[i];
    }
    argv[kept] = NULL;
    struct net_options options;
    net_parse_options(kept, argv, NET_SERVER, &options);
    net_ignore_sigpipe();
    net_hold_stop_signals();

    base = event_base_new();
    if (base == NULL)
        fail("event_base_new");
    struct evconnlistener *listener = evconnlistener_new_bind(
        base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 1024,
        (struct sockaddr *)&options.address, sizeof options.address);
    if (listener == NULL)
        fail("evconnlistener_new_bind");
    net_announce(evconnlistener_get_fd(listener));
    struct event *sigint = evsignal_new(base, SIGINT, on_signal, NULL);
    struct event *sigterm = evsignal_new(base, SIGTERM, on_signal, NULL);
    if (sigint == NULL || sigterm == NULL || evsignal_add(sigint, NULL) != 0 ||
        evsignal_add(sigterm, NULL) != 0)
        fail("evsignal_new or evsignal_add");
    net_release_stop_signals();

    int result = event_base_dispatch(base);
    while (clients != NULL)
        close_client(clients);
    evconnlistener_free(listener);
    event_free(sigint);
    event_free(sigterm);
    event_base_free(base);
    return result < 0 ? 1 : 0;
}

/*
 * Lesson 10, event2 style: a TCP echo server for many clients at once.
 *
 * What it shows: evconnlistener_new_bind() makes the listening socket
 *   (socket, bind to 127.0.0.1, listen) and accept()s for us, calling back
 *   once per new connection. Each client gets a bufferevent that echoes
 *   every byte it reads.
 *   One thread serves any number of clients. A client whose echo piles up
 *   (it sends but does not read) is not read from until its output has
 *   drained: backpressure. SIGINT or SIGTERM leaves the loop; then every
 *   client, the listener and the base are freed.
 * Run it:   make lesson-10          (server and client, both styles)
 *           build/bin/10-event2-server --port 5555, and in another terminal
 *           nc 127.0.0.1 5555 (type; Ctrl-D hangs up; Ctrl-C stops the server)
 * Look for: "listener accepted client=2 open=2": two clients at once,
 *   accepted in the order they connected. "client closed id=1 reason=eof":
 *   the client hung up, and the server finished the echo before closing.
 */
#include "event2.h"
#include "net.h"

#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* Backpressure: stop reading a client whose output holds more than
   OUTPUT_HIGH bytes, read again once it is down to OUTPUT_LOW. */
enum { BACKLOG = 128, OUTPUT_HIGH = 64 * 1024, OUTPUT_LOW = 16 * 1024 };

struct client {
    struct bufferevent *bev;
    int id;        /* 1, 2, ... in the order the clients were accepted */
    size_t echoed; /* bytes read and queued to go back */
    bool paused;   /* not reading: the output is over OUTPUT_HIGH */
    bool hung_up;  /* EOF seen: close once the output has drained */
    struct client *prev, *next;
};

static struct event_base *base;
static struct client *clients; /* every open connection, freed at the end */
static int accepted, open_clients;

static size_t output_length(struct bufferevent *bev)
{
    return evbuffer_get_length(bufferevent_get_output(bev));
}

/* doc: close */
static void close_client(struct client *c, const char *reason)
{
    open_clients--;
    trace("client", "closed", "id=%d reason=%s echoed=%zu open=%d", c->id, reason, c->echoed,
          open_clients);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        clients = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    bufferevent_free(c->bev); /* BEV_OPT_CLOSE_ON_FREE: it closes the socket */
    free(c);
}
/* doc: end */

/* A libevent call on one connection failed: that connection goes, the
   server stays. */
static void drop_client(struct client *c, const char *call)
{
    fprintf(stderr, "%s failed for client %d; closing it\n", call, c->id);
    close_client(c, "error");
}

/* doc: echo */
static void on_read(struct bufferevent *bev, void *arg)
{
    struct client *c = arg;
    struct evbuffer *input = bufferevent_get_input(bev);

    /* Move every byte read to the output, whatever the bytes are: no
       copy, no string functions, so NULs and binary data go back as is. */
    c->echoed += evbuffer_get_length(input);
    if (bufferevent_write_buffer(bev, input) != 0) {
        drop_client(c, "bufferevent_write_buffer");
        return;
    }
    /* The client sends faster than it reads: stop reading it, or its
       echo would grow in our memory without bound. */
    if (output_length(bev) > OUTPUT_HIGH) {
        if (bufferevent_disable(bev, EV_READ) != 0) {
            drop_client(c, "bufferevent_disable");
            return;
        }
        c->paused = true;
    }
}

/* Runs after a write that leaves at most OUTPUT_LOW bytes in the output
   (the write low watermark, set in add_client). */
static void on_write(struct bufferevent *bev, void *arg)
{
    struct client *c = arg;

    if (c->hung_up && output_length(bev) == 0) {
        close_client(c, "eof");
    } else if (c->paused) {
        if (bufferevent_enable(bev, EV_READ) != 0) {
            drop_client(c, "bufferevent_enable");
            return;
        }
        c->paused = false;
    }
}
/* doc: end */

/* doc: event */
static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct client *c = arg;

    if (what & BEV_EVENT_EOF) {
        /* The client sends no more; libevent has stopped reading. It may
           still read (a half-close), so finish the echo before closing. */
        c->hung_up = true;
        if (output_length(bev) == 0)
            close_client(c, "eof");
    } else if (what & BEV_EVENT_ERROR) {
        /* Reset by the client, or gone while we wrote (EPIPE: SIGPIPE is
           ignored, so this is all it costs). */
        close_client(c, "error");
    }
}
/* doc: end */

/* doc: client */
/* A new connection on fd: a client record and a bufferevent that echoes. */
static void add_client(evutil_socket_t fd)
{
    /* TCP_NODELAY: each echo leaves at once. With Nagle's algorithm (the
       default) a write made while earlier bytes await their ACK waits for
       it: 40 ms, the client's delayed ACK (lesson 21). */
    int on = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0) {
        fprintf(stderr, "setsockopt(TCP_NODELAY) failed: refusing a client\n");
        evutil_closesocket(fd);
        return;
    }
    struct client *c = calloc(1, sizeof *c);
    if (c == NULL) {
        fprintf(stderr, "out of memory: refusing a client\n");
        evutil_closesocket(fd);
        return;
    }
    c->id = ++accepted;
    c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
        fprintf(stderr, "bufferevent_socket_new failed: refusing client %d\n", c->id);
        evutil_closesocket(fd);
        free(c);
        return;
    }
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    c->next = clients;
    if (clients != NULL)
        clients->prev = c;
    clients = c;
    open_clients++;
    trace("listener", "accepted", "client=%d open=%d", c->id, open_clients);

    bufferevent_setwatermark(c->bev, EV_WRITE, OUTPUT_LOW, 0);
    if (bufferevent_enable(c->bev, EV_READ) != 0) /* writing is on already */
        drop_client(c, "bufferevent_enable");
}
/* doc: end */

/* doc: accept */
static void on_accept(struct evconnlistener *listener, evutil_socket_t fd,
                      struct sockaddr *peer, int peer_length, void *arg)
{
    (void)listener;
    (void)peer;
    (void)peer_length;
    (void)arg;
    /* The listener took the connection with accept() and made the socket
       non-blocking, as a bufferevent needs. */
    add_client(fd);
}
/* doc: end */

/* doc: signal */
static void on_signal(evutil_socket_t signum, short what, void *arg)
{
    struct event *self = arg;
    probe_callback(self, what);
    trace_note("%s: leaving the loop", signum == SIGINT ? "SIGINT" : "SIGTERM");
    if (event_base_loopexit(base, NULL) != 0)
        die("event_base_loopexit");
    probe_after(self);
}
/* doc: end */

static struct event *add_signal(int signum, const char *name)
{
    struct event *ev = evsignal_new(base, signum, on_signal, event_self_cbarg());
    if (ev == NULL)
        die("evsignal_new");
    probe_watch(ev, name);
    if (evsignal_add(ev, NULL) != 0)
        die("evsignal_add");
    probe_added(ev, NULL);
    return ev;
}

static void free_signal(struct event *ev)
{
    if (event_del(ev) != 0)
        die("event_del");
    probe_step(ev, "deleted");
    probe_free(ev);
    event_free(ev);
}

int main(int argc, char **argv)
{
    struct net_options options;
    net_parse_options(argc, argv, NET_SERVER, &options);
    net_ignore_sigpipe();
    net_hold_stop_signals();

    base = event_base_new();
    if (base == NULL)
        die("event_base_new");

    /* doc: listen */
    /* socket(), SO_REUSEADDR, bind(), listen(), non-blocking, and an
       EV_READ|EV_PERSIST event that accept()s: all in one call. */
    struct evconnlistener *listener = evconnlistener_new_bind(
        base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, BACKLOG,
        (struct sockaddr *)&options.address, sizeof options.address);
    if (listener == NULL)
        die_errno("evconnlistener_new_bind");
    net_announce(evconnlistener_get_fd(listener));
    trace_style("evconnlistener_new_bind(): socket, bind, listen; it accepts and calls back");
    /* doc: end */

    struct event *sigint = add_signal(SIGINT, "sigint");
    struct event *sigterm = add_signal(SIGTERM, "sigterm");
    net_release_stop_signals();

    trace("loop", "dispatch", NULL);
    int result = event_base_dispatch(base);
    trace("loop", "returned", "result=%d", result);

    /* doc: cleanup */
    while (clients != NULL) /* still connected: closed by us */
        close_client(clients, "shutdown");
    evconnlistener_free(listener); /* LEV_OPT_CLOSE_ON_FREE: closes the socket */
    trace("listener", "freed", NULL);
    free_signal(sigint);
    free_signal(sigterm);
    event_base_free(base);
    /* doc: end */
    return result < 0 ? 1 : 0; /* the loop itself failed */
}

/*
 * Lesson 10, event1 style: a TCP echo server for many clients at once.
 *
 * What it shows: the listening socket is made by hand (socket, bind to
 *   127.0.0.1, listen), and a persistent EV_READ event on it says when
 *   connections wait: its callback accept()s them. Each client gets a
 *   bufferevent_new() that echoes every byte it reads.
 *   One thread serves any number of clients. A client whose echo piles up
 *   (it sends but does not read) is not read from until its output has
 *   drained: backpressure. SIGINT or SIGTERM leaves the loop; then every
 *   client, the listening socket and the base are freed.
 * Run it:   make lesson-10          (server and client, both styles)
 *           build/bin/10-event1-server --port 5555, and in another terminal
 *           nc 127.0.0.1 5555 (type; Ctrl-D hangs up; Ctrl-C stops the server)
 * Look for: "listener accepted client=2 open=2": two clients at once,
 *   accepted in the order they connected. "client closed id=1 reason=eof":
 *   the client hung up, and the server finished the echo before closing.
 */
#include "event1.h"
#include "net.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Backpressure: stop reading a client whose output holds more than
   OUTPUT_HIGH bytes, read again once it is down to OUTPUT_LOW. */
enum { BACKLOG = 128, OUTPUT_HIGH = 64 * 1024, OUTPUT_LOW = 16 * 1024 };

struct client {
    struct bufferevent *bev;
    int fd;        /* bufferevent_new() never closes it: we do */
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
    return EVBUFFER_LENGTH(EVBUFFER_OUTPUT(bev));
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
    bufferevent_free(c->bev);
    close(c->fd); /* 1.x bufferevents had no close-on-free */
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
    struct evbuffer *input = EVBUFFER_INPUT(bev);

    /* Move every byte read to the output, whatever the bytes are: no
       copy, no string functions, so NULs and binary data go back as is. */
    c->echoed += EVBUFFER_LENGTH(input);
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

    if (what & EVBUFFER_EOF) {
        /* The client sends no more; libevent has stopped reading. It may
           still read (a half-close), so finish the echo before closing. */
        c->hung_up = true;
        if (output_length(bev) == 0)
            close_client(c, "eof");
    } else if (what & EVBUFFER_ERROR) {
        /* Reset by the client, or gone while we wrote (EPIPE: SIGPIPE is
           ignored, so this is all it costs). */
        close_client(c, "error");
    }
}
/* doc: end */

/* doc: client */
/* A new connection on fd: a client record and a bufferevent that echoes. */
static void add_client(int fd)
{
    /* TCP_NODELAY: each echo leaves at once. With Nagle's algorithm (the
       default) a write made while earlier bytes await their ACK waits for
       it: 40 ms, the client's delayed ACK (lesson 21). */
    int on = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0) {
        fprintf(stderr, "setsockopt(TCP_NODELAY) failed: refusing a client\n");
        close(fd);
        return;
    }
    struct client *c = calloc(1, sizeof *c);
    if (c == NULL) {
        fprintf(stderr, "out of memory: refusing a client\n");
        close(fd);
        return;
    }
    c->fd = fd;
    c->id = ++accepted;
    c->bev = bufferevent_new(fd, on_read, on_write, on_event, c);
    if (c->bev == NULL || bufferevent_base_set(base, c->bev) != 0) {
        fprintf(stderr, "bufferevent_new failed: refusing client %d\n", c->id);
        if (c->bev != NULL)
            bufferevent_free(c->bev);
        close(fd);
        free(c);
        return;
    }
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
static void on_accept(int listen_fd, short what, void *arg)
{
    (void)what;
    (void)arg;
    /* Several connections may be waiting: take them all, until accept()
       says there are no more (the listening socket is non-blocking). */
    for (;;) {
        int fd = accept(listen_fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                fprintf(stderr, "accept failed: %s\n", strerror(errno));
            return;
        }
        /* A bufferevent needs a non-blocking socket, and on Linux accept()
           returns a blocking one whatever the listening socket is. */
        if (evutil_make_socket_nonblocking(fd) != 0) {
            fprintf(stderr, "evutil_make_socket_nonblocking failed: refusing a client\n");
            close(fd);
            continue;
        }
        add_client(fd);
    }
}
/* doc: end */

/* doc: signal */
static void on_signal(int signum, short what, void *arg)
{
    struct event *self = arg;
    probe_callback(self, what);
    trace_note("%s: leaving the loop", signum == SIGINT ? "SIGINT" : "SIGTERM");
    if (event_loopexit(NULL) != 0)
        die("event_loopexit");
    probe_after(self);
}
/* doc: end */

static struct event *add_signal(struct event *ev, int signum, const char *name)
{
    signal_set(ev, signum, on_signal, ev);
    probe_watch(ev, name);
    if (signal_add(ev, NULL) != 0)
        die("signal_add");
    probe_added(ev, NULL);
    return ev;
}

static void free_signal(struct event *ev)
{
    if (signal_del(ev) != 0)
        die("signal_del");
    probe_step(ev, "deleted");
    probe_free(ev);
}

int main(int argc, char **argv)
{
    struct net_options options;
    net_parse_options(argc, argv, NET_SERVER, &options);
    net_ignore_sigpipe();
    net_hold_stop_signals();

    base = event_init();
    if (base == NULL)
        die("event_init");

    /* doc: listen */
    /* socket(), SO_REUSEADDR, bind(), listen(), non-blocking, and an
       EV_READ|EV_PERSIST event whose callback accept()s. */
    int listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (listen_fd < 0)
        die_errno("socket");
    int on = 1; /* rebind at once after a restart (lesson README) */
    if (setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0)
        die_errno("setsockopt(SO_REUSEADDR)");
    if (bind(listen_fd, (struct sockaddr *)&options.address, sizeof options.address) != 0)
        die_errno("bind");
    if (listen(listen_fd, BACKLOG) != 0)
        die_errno("listen");
    if (evutil_make_socket_nonblocking(listen_fd) != 0)
        die("evutil_make_socket_nonblocking");
    net_announce(listen_fd);
    static struct event listen_event;
    event_set(&listen_event, listen_fd, EV_READ | EV_PERSIST, on_accept, NULL);
    if (event_add(&listen_event, NULL) != 0)
        die("event_add");
    trace_style("socket, bind, listen by hand; an EV_READ|EV_PERSIST event accepts");
    /* doc: end */

    static struct event sigint_ev, sigterm_ev; /* set up with signal_set() */
    struct event *sigint = add_signal(&sigint_ev, SIGINT, "sigint");
    struct event *sigterm = add_signal(&sigterm_ev, SIGTERM, "sigterm");
    net_release_stop_signals();

    trace("loop", "dispatch", NULL);
    int result = event_dispatch();
    trace("loop", "returned", "result=%d", result);

    /* doc: cleanup */
    while (clients != NULL) /* still connected: closed by us */
        close_client(clients, "shutdown");
    if (event_del(&listen_event) != 0)
        die("event_del");
    close(listen_fd);
    trace("listener", "freed", NULL);
    free_signal(sigint);
    free_signal(sigterm);
    event_base_free(base);
    /* doc: end */
    return result < 0 ? 1 : 0; /* the loop itself failed */
}

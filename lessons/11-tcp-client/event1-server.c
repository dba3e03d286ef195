/*
 * Lesson 11, event1 style: the original note's TCP server, corrected.
 *
 * What it shows: the note's server, in 1.x style (a listening socket made
 *   by hand, accept() in its EV_READ|EV_PERSIST callback, bufferevent_new()
 *   per client, "hello...ack." for each request) with its bugs fixed; each
 *   fix is marked "Fixed:" and the README lists them all. A
 *   request is a line: however the bytes arrive, in pieces or several
 *   lines in one read, each complete line gets one "hello...ack.\n" and no
 *   NUL. The note's loop never ended; here SIGINT or SIGTERM ends it and
 *   everything is freed. Like lesson 10's echo server, it survives clients
 *   that vanish and stops reading a client that does not read its replies.
 * Run it:   make lesson-11         (server and client, both styles)
 *           build/bin/11-event1-server --port 5555, and in another terminal
 *           nc 127.0.0.1 5555 (type lines; Ctrl-D hangs up)
 * Look for: "client closed id=1 reason=eof requests=2": the client sent
 *   two lines in one write, and got two replies.
 */
#include "event1.h"
#include "net.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ACK "hello...ack.\n"

/* MAX_LINE: a longer request ends the connection (our memory is not the
   client's to fill). Backpressure as in lesson 10. */
enum { BACKLOG = 128, MAX_LINE = 4096, OUTPUT_HIGH = 64 * 1024, OUTPUT_LOW = 16 * 1024 };

struct client {
    struct bufferevent *bev;
    int fd; /* bufferevent_new() never closes it: we do */
    int id;
    int requests;        /* complete lines answered */
    bool paused;         /* not reading: the output is over OUTPUT_HIGH */
    const char *closing; /* why, once we stop reading: close when drained */
    struct client *prev, *next;
};

static struct event_base *base;
static struct client *clients; /* Fixed: connected clients are freed at the end */
static int accepted, open_clients;

static size_t output_length(struct bufferevent *bev)
{
    return EVBUFFER_LENGTH(EVBUFFER_OUTPUT(bev));
}

static void close_client(struct client *c, const char *reason)
{
    open_clients--;
    trace("client", "closed", "id=%d reason=%s requests=%d open=%d", c->id, reason, c->requests,
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

/* Stop reading; close once the replies already queued have gone out.
   Fixed: the note freed the bufferevent at EOF at once, losing them. */
static void finish_client(struct client *c, const char *reason)
{
    c->closing = reason;
    if (bufferevent_disable(c->bev, EV_READ) != 0 || output_length(c->bev) == 0)
        close_client(c, reason);
}

static void drop_client(struct client *c, const char *call)
{
    fprintf(stderr, "%s failed for client %d; closing it\n", call, c->id);
    close_client(c, "error");
}

/* doc: read */
static void read_cb(struct bufferevent *bev, void *arg)
{
    struct client *c = arg;
    struct evbuffer *input = EVBUFFER_INPUT(bev);
    char *line;
    size_t length;

    /* Fixed: the note read once, 128 bytes at most, into an undeclared
       buffer, and answered once per callback. TCP delivers bytes, not
       messages: one callback may hold half a request or several. Answer
       each complete line; a partial one waits in the input for the rest. */
    while ((line = evbuffer_readln(input, &length, EVBUFFER_EOL_LF)) != NULL) {
        free(line); /* a real server would look at it */
        if (length > MAX_LINE) {
            finish_client(c, "too-long");
            return;
        }
        c->requests++;
        /* Fixed: strlen(sndData) + 1 sent the terminating NUL too. */
        if (bufferevent_write(bev, ACK, strlen(ACK)) != 0) {
            drop_client(c, "bufferevent_write");
            return;
        }
    }
    if (EVBUFFER_LENGTH(input) > MAX_LINE) {
        finish_client(c, "too-long");
        return;
    }
    if (output_length(bev) > OUTPUT_HIGH) { /* backpressure */
        if (bufferevent_disable(bev, EV_READ) != 0) {
            drop_client(c, "bufferevent_disable");
            return;
        }
        c->paused = true;
    }
}
/* doc: end */

/* The note's write callback only printed "already send data."; this one
   runs once the output is down to OUTPUT_LOW and does the flow control. */
static void write_cb(struct bufferevent *bev, void *arg)
{
    struct client *c = arg;

    if (c->closing != NULL) {
        if (output_length(bev) == 0)
            close_client(c, c->closing);
    } else if (c->paused) {
        if (bufferevent_enable(bev, EV_READ) != 0) {
            drop_client(c, "bufferevent_enable");
            return;
        }
        c->paused = false;
    }
}

/* doc: event */
static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct client *c = arg;
    (void)bev;

    if (what & EVBUFFER_EOF)
        finish_client(c, "eof");
    else if (what & EVBUFFER_ERROR)
        close_client(c, "error");
}
/* doc: end */

/* doc: listener */
static void add_client(int fd)
{
    struct client *c = calloc(1, sizeof *c);
    if (c == NULL) {
        fprintf(stderr, "out of memory: refusing a client\n");
        close(fd);
        return;
    }
    c->fd = fd;
    c->id = ++accepted;
    /* Fixed: the callbacks are read_cb, write_cb, event_cb, and the
       results are checked. */
    c->bev = bufferevent_new(fd, read_cb, write_cb, event_cb, c);
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
    if (bufferevent_enable(c->bev, EV_READ) != 0)
        drop_client(c, "bufferevent_enable");
}

static void listener_cb(int listen_fd, short what, void *arg)
{
    (void)what;
    (void)arg;
    for (;;) { /* every connection waiting, until accept() says no more */
        int fd = accept(listen_fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                fprintf(stderr, "accept failed: %s\n", strerror(errno));
            return;
        }
        if (evutil_make_socket_nonblocking(fd) != 0) { /* as a bufferevent needs */
            fprintf(stderr, "evutil_make_socket_nonblocking failed: refusing a client\n");
            close(fd);
            continue;
        }
        add_client(fd);
    }
}
/* doc: end */

static void on_signal(int signum, short what, void *arg)
{
    struct event *self = arg;
    probe_callback(self, what);
    trace_note("%s: leaving the loop", signum == SIGINT ? "SIGINT" : "SIGTERM");
    if (event_loopexit(NULL) != 0)
        die("event_loopexit");
    probe_after(self);
}

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
    /* Fixed: the note's sockaddr_in was never filled in (family, address
       and port were whatever the stack held), and went to the call without
       the cast to struct sockaddr *. */
    struct net_options options;
    net_parse_options(argc, argv, NET_SERVER, &options);
    net_ignore_sigpipe(); /* Fixed: a client that vanished killed it */
    net_hold_stop_signals();

    base = event_init();
    if (base == NULL) /* Fixed: nothing was checked */
        die("event_init");

    /* doc: listen */
    int listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (listen_fd < 0)
        die_errno("socket");
    int on = 1;
    if (setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0)
        die_errno("setsockopt(SO_REUSEADDR)");
    if (bind(listen_fd, (struct sockaddr *)&options.address, sizeof options.address) != 0)
        die_errno("bind"); /* the port is taken, for one */
    if (listen(listen_fd, BACKLOG) != 0)
        die_errno("listen");
    if (evutil_make_socket_nonblocking(listen_fd) != 0)
        die("evutil_make_socket_nonblocking");
    net_announce(listen_fd);
    static struct event listen_event;
    event_set(&listen_event, listen_fd, EV_READ | EV_PERSIST, listener_cb, NULL);
    if (event_add(&listen_event, NULL) != 0)
        die("event_add");
    trace_style("socket, bind, listen by hand; an EV_READ|EV_PERSIST event accepts");
    /* doc: end */

    /* Fixed: nothing ever ended the note's loop, so the frees after it
       never ran. */
    static struct event sigint_ev, sigterm_ev; /* set up with signal_set() */
    struct event *sigint = add_signal(&sigint_ev, SIGINT, "sigint");
    struct event *sigterm = add_signal(&sigterm_ev, SIGTERM, "sigterm");
    net_release_stop_signals();

    trace("loop", "dispatch", NULL);
    int result = event_dispatch();
    trace("loop", "returned", "result=%d", result);

    while (clients != NULL)
        close_client(clients, "shutdown");
    if (event_del(&listen_event) != 0)
        die("event_del");
    close(listen_fd);
    trace("listener", "freed", NULL);
    free_signal(sigint);
    free_signal(sigterm);
    event_base_free(base);
    return result < 0 ? 1 : 0; /* the loop itself failed */
}

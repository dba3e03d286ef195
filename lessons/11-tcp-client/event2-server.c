/*
 * Lesson 11, event2 style: the original note's TCP server, corrected.
 *
 * What it shows: the note's server (evconnlistener_new_bind(), a
 *   bufferevent per client, "hello...ack." for each request) with its bugs
 *   fixed; each fix is marked "Fixed:" and the README lists them all. A
 *   request is a line: however the bytes arrive, in pieces or several
 *   lines in one read, each complete line gets one "hello...ack.\n" and no
 *   NUL. The note's loop never ended; here SIGINT or SIGTERM ends it and
 *   everything is freed. Like lesson 10's echo server, it survives clients
 *   that vanish and stops reading a client that does not read its replies.
 * Run it:   make lesson-11         (server and client, both styles)
 *           build/bin/11-event2-server --port 5555, and in another terminal
 *           nc 127.0.0.1 5555 (type lines; Ctrl-D hangs up)
 * Look for: "client closed id=1 reason=eof requests=2": the client sent
 *   two lines in one write, and got two replies.
 */
#include "event2.h"
#include "net.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACK "hello...ack.\n"

/* MAX_LINE: a longer request ends the connection (our memory is not the
   client's to fill). Backpressure as in lesson 10. */
enum { BACKLOG = 128, MAX_LINE = 4096, OUTPUT_HIGH = 64 * 1024, OUTPUT_LOW = 16 * 1024 };

struct client {
    struct bufferevent *bev;
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
    return evbuffer_get_length(bufferevent_get_output(bev));
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
    bufferevent_free(c->bev); /* BEV_OPT_CLOSE_ON_FREE: it closes the socket */
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
    struct evbuffer *input = bufferevent_get_input(bev);
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
    if (evbuffer_get_length(input) > MAX_LINE) {
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

    if (what & BEV_EVENT_EOF)
        finish_client(c, "eof");
    else if (what & BEV_EVENT_ERROR)
        close_client(c, "error");
}
/* doc: end */

/* doc: listener */
static void add_client(evutil_socket_t fd)
{
    struct client *c = calloc(1, sizeof *c);
    if (c == NULL) {
        fprintf(stderr, "out of memory: refusing a client\n");
        evutil_closesocket(fd);
        return;
    }
    c->id = ++accepted;
    /* Fixed: BEV_OPT_CLOSE_ON_FREE (the note wrote bev_opt_close_free), and
       the result is checked. */
    c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
        fprintf(stderr, "bufferevent_socket_new failed: refusing client %d\n", c->id);
        evutil_closesocket(fd);
        free(c);
        return;
    }
    /* Fixed: bufferevent_setcb(), not bufferevent_set_cb(); EV_READ. */
    bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
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

static void listener_cb(struct evconnlistener *listener, evutil_socket_t fd,
                        struct sockaddr *peer, int peer_length, void *arg)
{
    (void)listener;
    (void)peer;
    (void)peer_length;
    (void)arg;
    add_client(fd); /* accept()ed and made non-blocking by the listener */
}
/* doc: end */

static void on_signal(evutil_socket_t signum, short what, void *arg)
{
    struct event *self = arg;
    probe_callback(self, what);
    trace_note("%s: leaving the loop", signum == SIGINT ? "SIGINT" : "SIGTERM");
    if (event_base_loopexit(base, NULL) != 0)
        die("event_base_loopexit");
    probe_after(self);
}

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
    /* Fixed: the note's sockaddr_in was never filled in (family, address
       and port were whatever the stack held), and went to the call without
       the cast to struct sockaddr *. */
    struct net_options options;
    net_parse_options(argc, argv, NET_SERVER, &options);
    net_ignore_sigpipe(); /* Fixed: a client that vanished killed it */
    net_hold_stop_signals();

    base = event_base_new();
    if (base == NULL) /* Fixed: nothing was checked */
        die("event_base_new");

    /* doc: listen */
    struct evconnlistener *listener = evconnlistener_new_bind(
        base, listener_cb, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, BACKLOG,
        (struct sockaddr *)&options.address, sizeof options.address);
    if (listener == NULL) /* the port is taken, for one */
        die_errno("evconnlistener_new_bind");
    net_announce(evconnlistener_get_fd(listener));
    trace_style("evconnlistener_new_bind(): socket, bind, listen; it accepts and calls back");
    /* doc: end */

    /* Fixed: nothing ever ended the note's loop, so the frees after it
       never ran. */
    struct event *sigint = add_signal(SIGINT, "sigint");
    struct event *sigterm = add_signal(SIGTERM, "sigterm");
    net_release_stop_signals();

    trace("loop", "dispatch", NULL);
    int result = event_base_dispatch(base);
    trace("loop", "returned", "result=%d", result);

    while (clients != NULL)
        close_client(clients, "shutdown");
    evconnlistener_free(listener);
    trace("listener", "freed", NULL);
    free_signal(sigint);
    free_signal(sigterm);
    event_base_free(base);
    return result < 0 ? 1 : 0; /* the loop itself failed */
}

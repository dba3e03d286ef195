/*
 * Exercise 07 (solution): a counting server whose reader is edge-triggered.
 *
 * What it does: listens on 127.0.0.1:PORT (--port; 0, the default, lets
 *   the kernel pick, and the first line says which). Each client sends
 *   bytes and hangs up (shutdown(SHUT_WR)); the server answers
 *   "lines=L bytes=N\n" (L: the newlines among the N bytes) and closes the
 *   connection. Any number of clients at once. SIGTERM or SIGINT:
 *   everything freed, exit 0.
 * Run it:   make grade EXERCISE=7 SUBMISSION=exercises/07-edge-triggered-reader/solution
 *           or event2 --port 5555, then: seq 1000 | nc -N 127.0.0.1 5555
 * Look for: on_read(). Its event is EV_READ|EV_PERSIST|EV_ET: libevent
 *   calls it when bytes (or the hang-up) arrive, not while they wait. So
 *   it reads until read() says EAGAIN (nothing more now) or 0 (the end):
 *   what it left behind would wait for an arrival that may never come.
 */
#include "event2.h"
#include "net.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct client {
    struct event *reader;
    int id;
    size_t lines, bytes;
    struct client *prev, *next;
};

static struct event_base *base;
static struct client *clients; /* every open connection, freed at the end */
static int accepted;

static void close_client(struct client *c, const char *reason)
{
    trace("client", "closed", "id=%d reason=%s", c->id, reason);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        clients = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    evutil_socket_t fd = event_get_fd(c->reader);
    event_free(c->reader);
    evutil_closesocket(fd);
    free(c);
}

/* The client hung up: answer with the counts, then close. */
static void reply(struct client *c)
{
    char text[64];
    int len = snprintf(text, sizeof text, "lines=%zu bytes=%zu\n", c->lines, c->bytes);
    /* A short reply into an empty socket buffer: one write() takes it
       all, unless the client has gone. */
    if (write(event_get_fd(c->reader), text, (size_t)len) != len) {
        close_client(c, "gone");
        return;
    }
    trace("client", "replied", "id=%d lines=%zu bytes=%zu", c->id, c->lines, c->bytes);
    close_client(c, "eof");
}

static void count(struct client *c, const char *data, size_t len)
{
    c->bytes += len;
    for (size_t i = 0; i < len; i++)
        c->lines += data[i] == '\n';
}

/* EV_ET: called once per arrival. Read until the kernel has nothing more
   (EAGAIN) or the client has hung up (0). */
static void on_read(evutil_socket_t fd, short what, void *arg)
{
    struct client *c = arg;
    char buf[1024];
    (void)what;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) {
            count(c, buf, (size_t)n);
        } else if (n == 0) {
            reply(c); /* frees c: return at once */
            return;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return; /* all read; the next arrival calls again */
        } else if (errno != EINTR) {
            close_client(c, "error"); /* reset by the client */
            return;
        }
    }
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *peer,
                      int peer_length, void *arg)
{
    char flags[64];
    (void)listener;
    (void)peer;
    (void)peer_length;
    (void)arg;
    struct client *c = calloc(1, sizeof *c);
    if (c == NULL) {
        fprintf(stderr, "out of memory: refusing a client\n");
        evutil_closesocket(fd);
        return;
    }
    c->id = ++accepted;
    /* The listener made fd non-blocking: reading until EAGAIN needs it. */
    c->reader = event_new(base, fd, EV_READ | EV_PERSIST, on_read, c);
    if (c->reader == NULL || event_add(c->reader, NULL) != 0) {
        fprintf(stderr, "cannot watch client %d; closing it\n", c->id);
        if (c->reader != NULL)
            event_free(c->reader);
        evutil_closesocket(fd);
        free(c);
        return;
    }
    c->next = clients;
    if (clients != NULL)
        clients->prev = c;
    clients = c;
    trace("client", "accepted", "id=%d events=%s", c->id,
          trace_flags(event_get_events(c->reader), flags, sizeof flags));
}

static void on_signal(evutil_socket_t signum, short what, void *arg)
{
    (void)signum;
    (void)what;
    (void)arg;
    if (event_base_loopexit(base, NULL) != 0)
        die("event_base_loopexit");
}

static struct event *add_signal(int signum)
{
    struct event *ev = evsignal_new(base, signum, on_signal, NULL);
    if (ev == NULL)
        die("evsignal_new");
    if (evsignal_add(ev, NULL) != 0)
        die("evsignal_add");
    return ev;
}

int main(int argc, char **argv)
{
    struct net_options options;
    net_parse_options(argc, argv, NET_SERVER, &options);
    net_ignore_sigpipe(); /* a client gone before its reply costs only its connection */
    net_hold_stop_signals();

    base = event_base_new();
    if (base == NULL)
        die("event_base_new");
    struct evconnlistener *listener = evconnlistener_new_bind(
        base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 128,
        (struct sockaddr *)&options.address, sizeof options.address);
    if (listener == NULL)
        die_errno("evconnlistener_new_bind");
    net_announce(evconnlistener_get_fd(listener));
    struct event *sigint = add_signal(SIGINT), *sigterm = add_signal(SIGTERM);
    net_release_stop_signals();

    if (event_base_dispatch(base) < 0)
        die("event_base_dispatch");

    while (clients != NULL)
        close_client(clients, "shutdown");
    evconnlistener_free(listener);
    event_free(sigint);
    event_free(sigterm);
    event_base_free(base);
    return 0;
}

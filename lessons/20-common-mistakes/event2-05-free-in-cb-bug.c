/*
 * Lesson 20, event2 style, mistake 05, the bug: a callback frees its
 * connection, but not the connection's event.
 *
 * What it shows: conn_a's read callback sees EOF and does what looks like
 *   cleaning up: it closes the socket and drops the connection. Its event
 *   is still added. The base still counts it under its descriptor number,
 *   and the next connection, conn_b, gets that number: libevent adds
 *   conn_b's event to what it believes is already watched and never tells
 *   the kernel. conn_b's bytes wait; only the watchdog ends the loop.
 *   (Had the callback freed the memory too, the base would hold a dangling
 *   pointer; here the connections are static so that the program can show
 *   what the base still holds.)
 * Run it:   make lesson-20     (every mistake: the bug, then the fix)
 *           build/bin/20-event2-05-free-in-cb-bug
 * Look for: "conn_b's read callback ran: no" in the watchdog's callback,
 *   and "conn_a seen pending(READ)": still added, its socket gone.
 */
#include "event2.h"

#include <stdbool.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

static const struct timeval watchdog_time = { 2, 0 }; /* generous: a busy machine */

struct conn {
    const char *name;
    int fd, peer; /* a socketpair: the program plays the client on peer */
    struct event *ev; /* EV_READ|EV_PERSIST on fd */
    bool open;
};

static struct event_base *base;
static struct conn conn_a = { .name = "conn_a" }, conn_b = { .name = "conn_b" };
static struct event *watchdog;
static bool b_called;

static void on_read(evutil_socket_t fd, short what, void *arg);

static void open_conn(struct conn *c)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        die_errno("socketpair");
    if (evutil_make_socket_nonblocking(fds[0]) != 0)
        die("evutil_make_socket_nonblocking");
    c->fd = fds[0];
    c->peer = fds[1];
    c->open = true;
    c->ev = event_new(base, c->fd, EV_READ | EV_PERSIST, on_read, c);
    if (c->ev == NULL)
        die("event_new");
    probe_watch(c->ev, c->name);
    if (event_add(c->ev, NULL) != 0)
        die("event_add");
    probe_added(c->ev, NULL);
}

/* doc: bug */
/* The peer has gone: the mistake, the socket closed and the connection
   dropped with its event still added. */
static void close_conn(struct conn *c)
{
    close(c->fd);
    close(c->peer);
    c->open = false; /* free(c) in a real program */
    trace_note("%s: socket closed and connection freed; its event not deleted", c->name);
}
/* doc: end */

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    char data[64];
    probe_callback(c->ev, what);
    ssize_t n = read(fd, data, sizeof data);
    if (n > 0) {
        trace_note("%s read \"%.*s\"", c->name, (int)n, data);
        b_called = true;
        if (event_del(watchdog) != 0) /* done: the loop may end */
            die("event_del");
        probe_step(watchdog, "deleted");
        if (event_del(c->ev) != 0)
            die("event_del");
        probe_step(c->ev, "deleted");
        return;
    }
    if (n < 0)
        die_errno("read");
    trace_note("%s: EOF", c->name);
    int number = c->fd;
    close_conn(c);
    /* The next client. Its socket gets the lowest free descriptor
       number: the one conn_a's socket had. */
    open_conn(&conn_b);
    trace_note("conn_b's socket has conn_a's old descriptor number: %s",
               conn_b.fd == number ? "yes" : "no");
    if (write(conn_b.peer, "hello", 5) != 5)
        die_errno("write");
    trace("peer", "sent", "to=conn_b data=hello");
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
    struct event *self = arg;
    (void)fd;
    probe_callback(self, what);
    trace_note("conn_b's read callback ran: %s", b_called ? "yes" : "no");
    /* Clean up what the mistake left, so that the loop ends. */
    struct conn *conns[] = { &conn_a, &conn_b };
    for (int i = 0; i < 2; i++) {
        if (conns[i]->ev == NULL)
            continue;
        probe_step(conns[i]->ev, "seen");
        if (event_del(conns[i]->ev) != 0)
            die("event_del");
    }
    probe_after(self);
}

int main(int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: %s (no arguments)\n", argv[0]);
        return 2;
    }
    base = event_base_new();
    if (base == NULL)
        die("event_base_new");
    open_conn(&conn_a);
    watchdog = evtimer_new(base, on_watchdog, event_self_cbarg());
    if (watchdog == NULL)
        die("evtimer_new");
    probe_watch(watchdog, "watchdog");
    if (evtimer_add(watchdog, &watchdog_time) != 0)
        die("evtimer_add");
    probe_added(watchdog, &watchdog_time);

    if (shutdown(conn_a.peer, SHUT_WR) != 0) /* conn_a's client leaves */
        die_errno("shutdown");
    trace("peer", "closed", "to=conn_a");
    trace("loop", "dispatch", NULL);
    int result = event_base_dispatch(base);
    trace("loop", "returned", "result=%d", result);

    struct conn *conns[] = { &conn_a, &conn_b };
    for (int i = 0; i < 2; i++) {
        if (conns[i]->ev != NULL) {
            probe_free(conns[i]->ev);
            event_free(conns[i]->ev);
        }
        if (conns[i]->open) {
            close(conns[i]->fd);
            close(conns[i]->peer);
        }
    }
    probe_free(watchdog);
    event_free(watchdog);
    event_base_free(base);
    return 0;
}

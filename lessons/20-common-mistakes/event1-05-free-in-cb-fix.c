/*
 * Lesson 20, event1 style, mistake 05, the fix: in the callback, the
 * event first, then the socket, then the memory.
 *
 * What it shows: conn_a's read callback sees EOF, deletes its own event,
 *   frees it with event_free(), then closes the socket. Freeing an event
 *   inside its own callback is safe in 2.1: once the callback has returned
 *   libevent does not touch the event again. conn_b gets the same
 *   descriptor number, and this time libevent tells the kernel about it.
 * Run it:   make lesson-20     (every mistake: the bug, then the fix)
 *           build/bin/20-event1-05-free-in-cb-fix
 * Look for: "conn_a deleted non-pending" before the socket is closed, and
 *   conn_b's callback: "conn_b read "hello"". No watchdog callback.
 */
#include "event1.h"

#include <stdbool.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

static const struct timeval watchdog_time = { 2, 0 }; /* generous: a busy machine */

struct conn {
    const char *name;
    int fd, peer; /* a socketpair: the program plays the client on peer */
    struct event ev_storage; /* 1.x: the event lives in the connection */
    struct event *ev; /* EV_READ|EV_PERSIST on fd */
    bool open;
};

static struct conn conn_a = { .name = "conn_a" }, conn_b = { .name = "conn_b" };
static struct event *watchdog;
static bool b_called;

static void on_read(int fd, short what, void *arg);

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
    c->ev = &c->ev_storage;
    event_set(c->ev, c->fd, EV_READ | EV_PERSIST, on_read, c);
    probe_watch(c->ev, c->name);
    if (event_add(c->ev, NULL) != 0)
        die("event_add");
    probe_added(c->ev, NULL);
}

/* doc: fix */
/* The peer has gone: the event first, then the socket, then the
   connection, whose memory holds the event. */
static void close_conn(struct conn *c)
{
    if (event_del(c->ev) != 0)
        die("event_del");
    probe_step(c->ev, "deleted");
    probe_free(c->ev);
    c->ev = NULL; /* its storage, inside c, may go with c */
    close(c->fd);
    close(c->peer);
    c->open = false; /* free(c) in a real program */
    trace_note("%s: event gone, then socket closed, connection freed", c->name);
}
/* doc: end */

static void on_read(int fd, short what, void *arg)
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

static void on_watchdog(int fd, short what, void *arg)
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
    struct event_base *base = event_init();
    if (base == NULL)
        die("event_init");
    open_conn(&conn_a);
    static struct event watchdog_ev;
    watchdog = &watchdog_ev;
    evtimer_set(watchdog, on_watchdog, watchdog);
    probe_watch(watchdog, "watchdog");
    if (evtimer_add(watchdog, &watchdog_time) != 0)
        die("evtimer_add");
    probe_added(watchdog, &watchdog_time);

    if (shutdown(conn_a.peer, SHUT_WR) != 0) /* conn_a's client leaves */
        die_errno("shutdown");
    trace("peer", "closed", "to=conn_a");
    trace("loop", "dispatch", NULL);
    int result = event_dispatch();
    trace("loop", "returned", "result=%d", result);

    struct conn *conns[] = { &conn_a, &conn_b };
    for (int i = 0; i < 2; i++) {
        if (conns[i]->ev != NULL)
            probe_free(conns[i]->ev); /* its storage is the connection's */
        if (conns[i]->open) {
            close(conns[i]->fd);
            close(conns[i]->peer);
        }
    }
    probe_free(watchdog); /* static storage: nothing to free */
    event_base_free(base);
    return 0;
}

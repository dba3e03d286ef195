/*
 * Lesson 08, event1 style: when a bufferevent's callbacks run.
 *
 * What it shows: 1. one TCP connection on 127.0.0.1, opened with connect()
 *   by hand: write drained, read, EOF, each caused by the one before; no
 *   "connected" (1.x had none). 2. where a read callback runs among other
 *   active events: at once, inside libevent's read event, in its place in
 *   the queue. 1.x had no deferred callbacks: a read callback that wanted
 *   its work done from the loop activated an event of its own.
 * Run it:   make lesson-8          (both styles side by side)
 *           build/bin/08-event1    (this program alone)
 * Look for: no "client event-cb what=CONNECTED" (event2 prints one); in
 *   part 2, "reader read-cb" between starter and follower, then "work"
 *   after follower and before late.
 */
#include "event1.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct event_base *base;

static size_t output_length(struct bufferevent *bev)
{
    return EVBUFFER_LENGTH(EVBUFFER_OUTPUT(bev));
}

static void enable(struct bufferevent *bev, short what)
{
    if (bufferevent_enable(bev, what) != 0)
        die("bufferevent_enable");
}

static void dispatch(void)
{
    trace("loop", "dispatch", NULL);
    int result = event_dispatch();
    trace("loop", "returned", "result=%d", result);
}

/* Every bufferevent's here: arg names it ("client", "server", "reader"). */
/* doc: event */
static void on_event(struct bufferevent *bev, short what, void *arg)
{
    char flags[64];
    (void)bev;
    /* A connect() made by hand is never reported here: 1.x had no
       "connected" flag. */
    trace(arg, "event-cb", "what=%s", trace_bev_flags(what, flags, sizeof flags));
}
/* doc: end */

/* --- 1. A connection's life ------------------------------------------------- */

static int server_fd; /* closed by hand when the server hangs up */

/* The client's and the server's (arg says which); the server answers. */
static void on_read(struct bufferevent *bev, void *arg)
{
    char data[64];
    size_t n = bufferevent_read(bev, data, sizeof data);
    trace(arg, "read-cb", "data=%.*s", (int)n, data);
    if (strcmp(arg, "server") == 0 && bufferevent_write(bev, "pong", 4) != 0)
        die("bufferevent_write");
}

static void on_client_write(struct bufferevent *bev, void *arg)
{
    trace(arg, "write-cb", "output=%zu", output_length(bev));
}

/* doc: server_write */
static void on_server_write(struct bufferevent *bev, void *arg)
{
    trace(arg, "write-cb", "output=%zu", output_length(bev));
    bufferevent_free(bev); /* the answer is out: hang up */
    if (close(server_fd) != 0)
        die_errno("close");
    trace(arg, "closed", NULL);
}
/* doc: end */

/* A listening socket on 127.0.0.1, port chosen by the kernel (never
   printed: it differs from run to run). */
static int listen_on_loopback(struct sockaddr_in *address)
{
    socklen_t length = sizeof *address;
    *address = (struct sockaddr_in){ .sin_family = AF_INET,
                                     .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)address, sizeof *address) != 0 ||
        listen(listener, 1) != 0 || getsockname(listener, (struct sockaddr *)address, &length) != 0)
        die_errno("socket, bind, listen or getsockname");
    return listener;
}

static void connection_life(void)
{
    struct sockaddr_in address;
    trace_note("--- 1. a connection's life");
    int listener = listen_on_loopback(&address);

    /* doc: connect */
    /* A non-blocking connect() by hand; the bufferevent comes after. It
       queues the data; libevent writes it when the socket becomes writable,
       which is when the connection is up. */
    int client_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (client_fd < 0)
        die_errno("socket");
    if (evutil_make_socket_nonblocking(client_fd) != 0)
        die("evutil_make_socket_nonblocking");
    if (connect(client_fd, (struct sockaddr *)&address, sizeof address) != 0 &&
        errno != EINPROGRESS)
        die_errno("connect");
    trace_style("connect() by hand: no event will say it is connected");
    struct bufferevent *client =
        bufferevent_new(client_fd, on_read, on_client_write, on_event, "client");
    if (client == NULL)
        die("bufferevent_new");
    /* Queued now, sent once the connection is up. */
    if (bufferevent_write(client, "ping", 4) != 0)
        die("bufferevent_write");
    trace("client", "wrote", "output=%zu", output_length(client));
    enable(client, EV_READ);
    /* doc: end */

    /* accept() by hand, blocking: it returns once the connection is
       complete. Lesson 10 accepts from the loop instead. */
    server_fd = accept(listener, NULL, NULL);
    if (server_fd < 0 || close(listener) != 0)
        die_errno("accept or close");
    if (evutil_make_socket_nonblocking(server_fd) != 0)
        die("evutil_make_socket_nonblocking");
    struct bufferevent *server =
        bufferevent_new(server_fd, on_read, on_server_write, on_event, "server");
    if (server == NULL)
        die("bufferevent_new");
    enable(server, EV_READ);

    dispatch();
    bufferevent_free(client); /* bufferevent_new() never closes the socket */
    if (close(client_fd) != 0)
        die_errno("close");
}

/* --- 2. Where a read callback runs -------------------------------------------- */

/* 1.x events live in storage the program owns; the pointers let the rest of
   the code read like the event2 variant's. */
static struct event starter_ev, follower_ev, late_ev, work_ev;
static struct event *starter = &starter_ev, *follower = &follower_ev, *late = &late_ev;
static struct event *work = &work_ev;

/* doc: starter */
static void on_starter(int fd, short what, void *arg)
{
    (void)fd;
    (void)arg;
    probe_callback(starter, what);
    /* Made active now, behind the reader's read event, which the loop's
       poll made active just before this callback ran. */
    event_active(follower, 0, 0);
    probe_step(follower, "activated");
    probe_after(starter);
}

static void on_follower(int fd, short what, void *arg)
{
    (void)fd;
    (void)arg;
    probe_callback(follower, what);
    event_active(late, 0, 0); /* made active after the read event ran */
    probe_step(late, "activated");
    probe_after(follower);
}
/* doc: end */

static void on_late(int fd, short what, void *arg)
{
    (void)fd;
    (void)arg;
    probe_callback(late, what);
    probe_after(late);
}

/* doc: reader */
static void on_reader_read(struct bufferevent *bev, void *arg)
{
    char data[64];
    size_t n = bufferevent_read(bev, data, sizeof data);
    trace(arg, "read-cb", "data=%.*s", (int)n, data);
    if (bufferevent_disable(bev, EV_READ) != 0) /* one byte was all */
        die("bufferevent_disable");
}
/* doc: end */

/* doc: deferred */
/* 1.x had no BEV_OPT_DEFER_CALLBACKS: a read callback always runs at once,
   inside libevent's read event. To have its work done from the loop, it
   activates an event of its own, which joins the queue there and then. */
static void on_deferred_read(struct bufferevent *bev, void *arg)
{
    char data[64];
    size_t n = bufferevent_read(bev, data, sizeof data);
    trace_style("%s read-cb data=%.*s: at once; it activates work", (const char *)arg,
                (int)n, data);
    event_active(work, 0, 0);
    if (bufferevent_disable(bev, EV_READ) != 0)
        die("bufferevent_disable");
}

static void on_work(int fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    trace_style("work runs: the read callback's work, from the loop");
}
/* doc: end */

static void read_among_events(const char *title, evbuffercb readcb)
{
    int fds[2];
    trace_note("%s", title);
    /* doc: round */
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        die_errno("socketpair");
    struct bufferevent *reader = bufferevent_new(fds[0], readcb, NULL, on_event, "reader");
    if (reader == NULL)
        die("bufferevent_new");
    event_set(starter, -1, 0, on_starter, NULL);
    event_set(follower, -1, 0, on_follower, NULL);
    event_set(late, -1, 0, on_late, NULL);
    event_set(work, -1, 0, on_work, NULL);
    probe_watch(starter, "starter");
    probe_watch(follower, "follower");
    probe_watch(late, "late");

    enable(reader, EV_READ);
    if (write(fds[1], "x", 1) != 1) /* the reader's socket is readable from now on */
        die_errno("write");
    trace("peer", "sent", "data=x");
    event_active(starter, 0, 0);
    probe_step(starter, "activated");
    dispatch();
    /* doc: end */

    probe_free(starter); /* static storage: nothing to free */
    probe_free(follower);
    probe_free(late);
    bufferevent_free(reader);
    if (close(fds[0]) != 0 || close(fds[1]) != 0)
        die_errno("close");
}

int main(void)
{
    base = event_init();
    if (base == NULL)
        die("event_init");
    connection_life();
    read_among_events("--- 2a. a read callback runs at once", on_reader_read);
    read_among_events("--- 2b. a read callback's work, deferred", on_deferred_read);
    event_base_free(base);
    return 0;
}

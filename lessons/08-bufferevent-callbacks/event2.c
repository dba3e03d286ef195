/*
 * Lesson 08, event2 style: when a bufferevent's callbacks run.
 *
 * What it shows: 1. one TCP connection on 127.0.0.1, opened with
 *   bufferevent_socket_connect(): connected, write drained, read, EOF, each
 *   caused by the one before. 2. where a read callback runs among other
 *   active events: at once, inside libevent's read event, in its place in
 *   the queue; with BEV_OPT_DEFER_CALLBACKS libevent queues it instead,
 *   behind what is active, ahead of what is made active after.
 * Run it:   make lesson-8          (both styles side by side)
 *           build/bin/08-event2    (this program alone)
 * Look for: "event2 client event-cb what=CONNECTED" before "client
 *   write-cb"; in part 2, "reader read-cb" between starter and follower,
 *   then, deferred, after follower and before late.
 */
#include "event2.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct event_base *base;

static size_t output_length(struct bufferevent *bev)
{
    return evbuffer_get_length(bufferevent_get_output(bev));
}

static void enable(struct bufferevent *bev, short what)
{
    if (bufferevent_enable(bev, what) != 0)
        die("bufferevent_enable");
}

static void dispatch(void)
{
    trace("loop", "dispatch", NULL);
    int result = event_base_dispatch(base);
    trace("loop", "returned", "result=%d", result);
}

/* Every bufferevent's here: arg names it ("client", "server", "reader"). */
/* doc: event */
static void on_event(struct bufferevent *bev, short what, void *arg)
{
    char flags[64];
    (void)bev;
    if (what & BEV_EVENT_CONNECTED) {
        /* 1.x had no such flag: a line only this style prints. */
        trace_style("%s event-cb what=%s", (const char *)arg,
                    trace_bev_flags(what, flags, sizeof flags));
        return;
    }
    trace(arg, "event-cb", "what=%s", trace_bev_flags(what, flags, sizeof flags));
}
/* doc: end */

/* --- 1. A connection's life ------------------------------------------------- */

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
    bufferevent_free(bev); /* the answer is out: hang up (BEV_OPT_CLOSE_ON_FREE) */
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
    /* No socket yet (-1): bufferevent_socket_connect() makes one and starts
       a non-blocking connect. Callbacks first, then connect. */
    struct bufferevent *client = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (client == NULL)
        die("bufferevent_socket_new");
    bufferevent_setcb(client, on_read, on_client_write, on_event, "client");
    if (bufferevent_socket_connect(client, (struct sockaddr *)&address, sizeof address) != 0)
        die("bufferevent_socket_connect");
    trace_style("bufferevent_socket_connect(): libevent connects, and says when");
    /* Queued now, sent once the connection is up. */
    if (bufferevent_write(client, "ping", 4) != 0)
        die("bufferevent_write");
    trace("client", "wrote", "output=%zu", output_length(client));
    enable(client, EV_READ);
    /* doc: end */

    /* accept() by hand, blocking: it returns once the connection is
       complete. Lesson 10 accepts from the loop instead. */
    int server_fd = accept(listener, NULL, NULL);
    if (server_fd < 0 || close(listener) != 0)
        die_errno("accept or close");
    if (evutil_make_socket_nonblocking(server_fd) != 0)
        die("evutil_make_socket_nonblocking");
    struct bufferevent *server = bufferevent_socket_new(base, server_fd, BEV_OPT_CLOSE_ON_FREE);
    if (server == NULL)
        die("bufferevent_socket_new");
    bufferevent_setcb(server, on_read, on_server_write, on_event, "server");
    enable(server, EV_READ);

    dispatch();
    bufferevent_free(client);
}

/* --- 2. Where a read callback runs -------------------------------------------- */

static struct event *starter, *follower, *late;

/* doc: starter */
static void on_starter(evutil_socket_t fd, short what, void *arg)
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

static void on_follower(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)arg;
    probe_callback(follower, what);
    event_active(late, 0, 0); /* made active after the read event ran */
    probe_step(late, "activated");
    probe_after(follower);
}
/* doc: end */

static void on_late(evutil_socket_t fd, short what, void *arg)
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
/* With BEV_OPT_DEFER_CALLBACKS libevent does not call this from its read
   event: it queues it, as if it called event_active() for it there. */
static void on_deferred_read(struct bufferevent *bev, void *arg)
{
    char data[64];
    size_t n = bufferevent_read(bev, data, sizeof data);
    trace_style("%s read-cb data=%.*s: deferred; libevent queued it", (const char *)arg,
                (int)n, data);
    if (bufferevent_disable(bev, EV_READ) != 0)
        die("bufferevent_disable");
}
/* doc: end */

static void read_among_events(const char *title, bufferevent_data_cb readcb, int options)
{
    int fds[2];
    trace_note("%s", title);
    /* doc: round */
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        die_errno("socketpair");
    struct bufferevent *reader =
        bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE | options);
    if (reader == NULL)
        die("bufferevent_socket_new");
    bufferevent_setcb(reader, readcb, NULL, on_event, "reader");
    starter = event_new(base, -1, 0, on_starter, NULL);
    follower = event_new(base, -1, 0, on_follower, NULL);
    late = event_new(base, -1, 0, on_late, NULL);
    if (starter == NULL || follower == NULL || late == NULL)
        die("event_new");
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

    probe_free(starter);
    event_free(starter);
    probe_free(follower);
    event_free(follower);
    probe_free(late);
    event_free(late);
    bufferevent_free(reader); /* BEV_OPT_CLOSE_ON_FREE: it closes fds[0] */
    if (close(fds[1]) != 0)
        die_errno("close");
}

int main(void)
{
    base = event_base_new();
    if (base == NULL)
        die("event_base_new");
    connection_life();
    read_among_events("--- 2a. a read callback runs at once", on_reader_read, 0);
    read_among_events("--- 2b. a read callback's work, deferred", on_deferred_read,
                      BEV_OPT_DEFER_CALLBACKS);
    event_base_free(base);
    return 0;
}

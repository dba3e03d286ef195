/*
 * Lesson 07, event2 style: bufferevent basics.
 *
 * What it shows: a bufferevent on one end of a socketpair; the program
 *   plays the peer by hand on the other end. bufferevent_socket_new() names
 *   its base and takes options; bufferevent_setcb() sets the read, write and
 *   event callbacks.
 *   A new bufferevent writes but does not read: what the peer sent waits
 *   in the socket until bufferevent_enable(EV_READ). Both buffers are
 *   first in, first out, and what bufferevent_read() takes out of the
 *   input buffer is gone. The event callback reports EOF and errors with
 *   BEV_EVENT_* flags. Last, what the options change.
 * Run it:   make lesson-7          (both styles side by side)
 *           build/bin/07-event2    (this program alone)
 * Look for: the first "loop returned result=1" with no read callback
 *   before it: reading was not enabled, so the loop had nothing to wait
 *   for. "enabled=WRITE" on the EOF line: after EOF libevent stops reading
 *   by itself.
 */
#include "event2.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int peer = -1; /* the socketpair's other end, used by hand */

/* What reading and writing are enabled, as a trace field. */
static const char *enabled_of(struct bufferevent *bev, char *buf, size_t size)
{
    return trace_flags(bufferevent_get_enabled(bev), buf, size);
}

static size_t input_length(struct bufferevent *bev)
{
    return evbuffer_get_length(bufferevent_get_input(bev));
}

static size_t output_length(struct bufferevent *bev)
{
    return evbuffer_get_length(bufferevent_get_output(bev));
}

static bool is_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1;
}

static void peer_sends(const char *data)
{
    if (write(peer, data, strlen(data)) != (ssize_t)strlen(data))
        die_errno("write");
    trace("peer", "sent", "data=%s", data);
}

/* doc: read */
static void on_read(struct bufferevent *bev, void *arg)
{
    char data[64], enabled[64];
    size_t n;
    (void)arg;

    trace("bev", "read-cb", "input=%zu", input_length(bev));
    n = bufferevent_read(bev, data, 3); /* the oldest bytes come out first */
    trace_note("bufferevent_read(bev, data, 3) took %zu bytes: %.*s", n, (int)n, data);
    n = bufferevent_read(bev, data, sizeof data);
    trace_note("bufferevent_read(bev, data, 64) took %zu bytes: %.*s", n, (int)n, data);
    trace("bev", "seen", "input=%zu", input_length(bev)); /* read once, gone */

    /* Stop reading while the answer goes out; it is queued in two parts. */
    if (bufferevent_disable(bev, EV_READ) != 0)
        die("bufferevent_disable");
    trace("bev", "disabled", "what=READ enabled=%s", enabled_of(bev, enabled, sizeof enabled));
    if (bufferevent_write(bev, "first,", 6) != 0 || bufferevent_write(bev, "second", 6) != 0)
        die("bufferevent_write");
    trace("bev", "wrote", "output=%zu", output_length(bev));
}
/* doc: end */

/* doc: write */
static void on_write(struct bufferevent *bev, void *arg)
{
    char data[64], enabled[64];
    (void)arg;

    /* Called once the output buffer has drained (to its low watermark, 0
       by default): everything is in the kernel now. */
    trace("bev", "write-cb", "output=%zu", output_length(bev));
    ssize_t n = read(peer, data, sizeof data);
    if (n < 0)
        die_errno("read");
    trace("peer", "received", "data=%.*s", (int)n, data);
    if (close(peer) != 0)
        die_errno("close");
    peer = -1;
    trace("peer", "closed", NULL);

    /* Reading again, to hear about it. */
    if (bufferevent_enable(bev, EV_READ) != 0)
        die("bufferevent_enable");
    trace("bev", "enabled", "what=READ enabled=%s", enabled_of(bev, enabled, sizeof enabled));
}
/* doc: end */

/* doc: event */
static void on_event(struct bufferevent *bev, short what, void *arg)
{
    int error = EVUTIL_SOCKET_ERROR(); /* first, before anything can change it */
    char flags[64], enabled[64];
    (void)arg;

    trace("bev", "event-cb", "what=%s enabled=%s", trace_bev_flags(what, flags, sizeof flags),
          enabled_of(bev, enabled, sizeof enabled));
    if (what & BEV_EVENT_EOF) {
        trace_style("what & BEV_EVENT_EOF: the peer closed its end");
        /* Writing is still enabled, so try it. */
        if (bufferevent_write(bev, "late", 4) != 0)
            die("bufferevent_write");
        trace("bev", "wrote", "output=%zu", output_length(bev));
    } else if (what & BEV_EVENT_ERROR) {
        trace_style("what & BEV_EVENT_ERROR: the reason is in EVUTIL_SOCKET_ERROR()");
        trace_note("socket error: %s", evutil_socket_error_to_string(error));
    }
}
/* doc: end */

/* libevent reports misuse through its log; show it in the trace. */
static void log_to_trace(int severity, const char *message)
{
    (void)severity;
    trace_style("libevent logs: %s", message);
}

/* doc: options */
static void show_options(struct event_base *base)
{
    struct bufferevent *bev;

    /* A lock in every bufferevent call, for programs with threads. It needs
       evthread_use_pthreads() (libevent_pthreads) first; without it the
       bufferevent cannot be made. */
    bev = bufferevent_socket_new(base, -1, BEV_OPT_THREADSAFE);
    trace_style("BEV_OPT_THREADSAFE, no evthread_use_pthreads(): %s", bev ? "made" : "NULL");
    if (bev != NULL)
        bufferevent_free(bev);

    /* Run callbacks without that lock held: only for deferred callbacks. */
    bev = bufferevent_socket_new(base, -1, BEV_OPT_UNLOCK_CALLBACKS);
    trace_style("BEV_OPT_UNLOCK_CALLBACKS alone: %s", bev ? "made" : "NULL");
    if (bev != NULL)
        bufferevent_free(bev);

    /* Queue callbacks in the loop instead of calling them at once: lesson 08. */
    bev = bufferevent_socket_new(base, -1, BEV_OPT_DEFER_CALLBACKS | BEV_OPT_UNLOCK_CALLBACKS);
    trace_style("BEV_OPT_DEFER_CALLBACKS|BEV_OPT_UNLOCK_CALLBACKS: %s", bev ? "made" : "NULL");
    if (bev != NULL)
        bufferevent_free(bev);
}
/* doc: end */

int main(void)
{
    int fds[2];
    char enabled[64];

    /* Writing to a socket whose peer is gone raises SIGPIPE, which would
       end the program before libevent could report the error. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die_errno("signal");
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        die_errno("socketpair");
    peer = fds[1];
    event_set_log_callback(log_to_trace);

    struct event_base *base = event_base_new();
    if (base == NULL)
        die("event_base_new");

    /* doc: create */
    /* The base is an argument; so are options. BEV_OPT_CLOSE_ON_FREE: the
       bufferevent owns the socket and closes it when freed. Callbacks are
       set apart, with bufferevent_setcb(). */
    struct bufferevent *bev = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL)
        die("bufferevent_socket_new");
    bufferevent_setcb(bev, on_read, on_write, on_event, NULL);
    trace("bev", "created", "enabled=%s", enabled_of(bev, enabled, sizeof enabled));
    /* doc: end */

    /* doc: default */
    peer_sends("hello");
    trace("loop", "dispatch", NULL);
    int result = event_base_dispatch(base);
    trace("loop", "returned", "result=%d", result);
    trace("bev", "seen", "input=%zu", input_length(bev)); /* "hello" is still in the socket */

    if (bufferevent_enable(bev, EV_READ) != 0)
        die("bufferevent_enable");
    trace("bev", "enabled", "what=READ enabled=%s", enabled_of(bev, enabled, sizeof enabled));
    trace("loop", "dispatch", NULL);
    result = event_base_dispatch(base);
    trace("loop", "returned", "result=%d", result);
    /* doc: end */

    /* doc: free */
    bufferevent_free(bev);
    trace("bev", "freed", NULL);
    trace_note("right after bufferevent_free() the socket is %s",
               is_open(fds[0]) ? "open" : "closed");
    /* libevent 2.1 finishes freeing a bufferevent in the loop. */
    trace("loop", "nonblock", NULL);
    result = event_base_loop(base, EVLOOP_NONBLOCK);
    trace("loop", "returned", "result=%d", result);
    trace_style("after a loop pass it is %s",
                is_open(fds[0]) ? "still open" : "closed: BEV_OPT_CLOSE_ON_FREE");
    /* doc: end */

    show_options(base);
    event_base_free(base);
    return 0;
}

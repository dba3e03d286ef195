/*
 * Lesson 20, event1 style, mistake 02, the fix: bufferevent_enable(bev,
 * EV_READ).
 *
 * What it shows: the same bufferevent as the bug, and one call more:
 *   bufferevent_enable(), as in 1.x, adds its read event, and the peer's bytes come to
 *   the read callback at the loop's first look. The callback deletes the
 *   watchdog, which never fires.
 * Run it:   make lesson-20     (every mistake: the bug, then the fix)
 *           build/bin/20-event1-02-never-enabled-fix
 * Look for: "bev enabled enabled=READ|WRITE", then "bev read-cb input=5"
 *   and "watchdog deleted": no watchdog callback.
 */
#include "event1.h"

#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static const struct timeval watchdog_time = { 0, 100 * 1000 };
static int conn = -1; /* the bufferevent's socket */
static struct event *watchdog;

static void on_read(struct bufferevent *bev, void *arg)
{
    char data[64];
    (void)arg;
    trace("bev", "read-cb", "input=%zu", EVBUFFER_LENGTH(EVBUFFER_INPUT(bev)));
    size_t n = bufferevent_read(bev, data, sizeof data);
    trace_note("read \"%.*s\"", (int)n, data);
    if (bufferevent_disable(bev, EV_READ) != 0) /* one message is all this program reads */
        die("bufferevent_disable");
    if (event_del(watchdog) != 0)
        die("event_del");
    probe_step(watchdog, "deleted");
}

static void on_watchdog(int fd, short what, void *arg)
{
    struct event *self = arg;
    int waiting;
    (void)fd;
    probe_callback(self, what);
    if (ioctl(conn, FIONREAD, &waiting) != 0)
        die_errno("ioctl FIONREAD");
    trace_note("no read callback; %d bytes wait in the socket", waiting);
    probe_after(self);
}

/* 1.x called the error callback without checking it was set: one for
   every bufferevent. Nothing here ends or fails. */
static void on_error(struct bufferevent *bev, short what, void *arg)
{
    (void)bev, (void)what, (void)arg;
    die("unexpected error callback");
}

/* 1.x had no bufferevent_get_enabled(): programs read the field. */
static void show_enabled(struct bufferevent *bev, const char *step)
{
    char flags[32];
    trace("bev", step, "enabled=%s", trace_flags(bev->enabled, flags, sizeof flags));
}

int main(int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: %s (no arguments)\n", argv[0]);
        return 2;
    }
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        die_errno("socketpair");
    if (evutil_make_socket_nonblocking(fds[0]) != 0)
        die("evutil_make_socket_nonblocking");
    conn = fds[0];
    struct event_base *base = event_init();
    if (base == NULL)
        die("event_init");

    /* doc: fix */
    struct bufferevent *bev = bufferevent_new(conn, on_read, NULL, on_error, NULL);
    if (bev == NULL)
        die("bufferevent_new");
    show_enabled(bev, "created");
    if (bufferevent_enable(bev, EV_READ) != 0) /* a new bufferevent only writes */
        die("bufferevent_enable");
    show_enabled(bev, "enabled");
    /* doc: end */

    static struct event watchdog_ev;
    watchdog = &watchdog_ev;
    evtimer_set(watchdog, on_watchdog, watchdog);
    probe_watch(watchdog, "watchdog");
    if (evtimer_add(watchdog, &watchdog_time) != 0)
        die("evtimer_add");
    probe_added(watchdog, &watchdog_time);

    if (write(fds[1], "hello", 5) != 5)
        die_errno("write");
    trace("peer", "sent", "data=hello");
    trace("loop", "dispatch", NULL);
    int result = event_dispatch();
    trace("loop", "returned", "result=%d", result);

    probe_free(watchdog); /* static storage: nothing to free */
    bufferevent_free(bev);
    close(conn);
    event_base_free(base);
    close(fds[1]);
    return 0;
}

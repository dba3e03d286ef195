/*
 * Lesson 16, event2 style: timers at scale.
 *
 * What it shows: four timers with one duration, added from one callback and
 *   so due at one instant, and the order libevent 2.1.12 runs them in from
 *   its heap; four more on a common timeout (event_base_init_common_timeout():
 *   a queue for one duration instead of the heap) and their order. Then the
 *   cached time: a callback that works for 50 ms sees a clock that stands
 *   still (event_base_gettimeofday_cached()), and a timer it adds after the
 *   work counts from when the loop woke up, unless the callback calls
 *   event_base_update_cache_time() first. Last, event_remove_timer(): a
 *   persistent read event loses its idle timeout and keeps reading.
 * Run it:   make lesson-16         (both styles side by side)
 *           build/bin/16-event2    (this program alone)
 * Look for: t1, t4, t3, t2: the heap's order for one deadline; the "event2
 *   common timeout" line: the order they were added in. "late" runs before
 *   "early" although it was added 50 ms later with a shorter timeout: its
 *   30 ms counted from the cached time. "conn callback pending(READ)": no
 *   TIMEOUT any more, and still reading.
 *   No order here depends on the machine's speed: ties come from one cached
 *   time, and a slow machine only makes the later deadlines later.
 */
#include "event2.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h" /* sleep_ms() */

enum { BATCH = 4, WORK_MS = 50 };

static struct event_base *base;
static struct event *start, *batch[BATCH], *common[BATCH];
static struct event *slow, *early, *late, *fresh, *conn;
static int pair[2]; /* conn reads pair[0]; the program writes to pair[1] */
static const char *const batch_names[BATCH] = { "t1", "t2", "t3", "t4" };
static const char *const common_names[BATCH] = { "c1", "c2", "c3", "c4" };
static char fired[32], common_fired[32];
static int nfired;

static const struct timeval ms10 = { 0, 10 * 1000 }, ms20 = { 0, 20 * 1000 };
static const struct timeval ms30 = { 0, 30 * 1000 }, ms40 = { 0, 40 * 1000 };
static const struct timeval idle = { 10, 0 };

static void append(char *list, size_t size, const char *name)
{
    size_t used = strlen(list);
    snprintf(list + used, size - used, "%s%s", used ? " " : "", name);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    probe_callback(arg, what);
    probe_after(arg);
}

/* Whether t1-t4 have one deadline, as event_pending() reports it. */
static bool one_deadline(void)
{
    struct timeval first, other;
    if (event_pending(batch[0], EV_TIMEOUT, &first) != EV_TIMEOUT)
        die("event_pending");
    for (int i = 1; i < BATCH; i++) {
        if (event_pending(batch[i], EV_TIMEOUT, &other) != EV_TIMEOUT)
            die("event_pending");
        if (!evutil_timercmp(&first, &other, ==))
            return false;
    }
    return true;
}

/* doc: start */
/* Inside a callback the base's time is cached: four adds with one
   duration make four equal deadlines. */
static void on_start(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    probe_callback(arg, what);
    for (int i = 0; i < BATCH; i++) {
        if (event_add(batch[i], &ms10) != 0)
            die("event_add");
        probe_added(batch[i], &ms10);
    }
    trace_note("t1-t4 have one deadline: %s", one_deadline() ? "yes" : "no");
    probe_after(arg);
}
/* doc: end */

/* Only recorded: common timers run when their queue's internal event
   does, which can be after "slow" on a loaded machine, so main() prints
   their order after the loop. */
static void on_common(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    append(common_fired, sizeof common_fired, arg);
}

/* doc: common */
static void add_common_batch(void)
{
    /* One queue per duration: asking twice gives the same timeval back. */
    const struct timeval *queue10 = event_base_init_common_timeout(base, &ms10);
    if (queue10 == NULL || event_base_init_common_timeout(base, &ms10) != queue10)
        die("event_base_init_common_timeout");
    trace_style("event_base_init_common_timeout(10ms) twice: one pointer");
    for (int i = 0; i < BATCH; i++)
        if (event_add(common[i], queue10) != 0)
            die("event_add");
}
/* doc: end */

static void on_batch(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    probe_callback(arg, what);
    for (int i = 0; i < BATCH; i++)
        if (batch[i] == arg)
            append(fired, sizeof fired, batch_names[i]);
    if (++nfired == BATCH) {
        trace_note("heap, t1-t4 added in order: ran %s", fired);
        add_common_batch();
        if (event_add(slow, &ms20) != 0)
            die("event_add");
        probe_added(slow, &ms20);
    }
    probe_after(arg);
}

/* doc: slow */
static void on_slow(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    probe_callback(arg, what);
    if (event_add(early, &ms40) != 0)
        die("event_add");
    probe_added(early, &ms40);

    struct timeval before, after;
    if (event_base_gettimeofday_cached(base, &before) != 0)
        die("event_base_gettimeofday_cached");
    sleep_ms(WORK_MS); /* the work */
    if (event_base_gettimeofday_cached(base, &after) != 0)
        die("event_base_gettimeofday_cached");
    trace_style("event_base_gettimeofday_cached() moved during %d ms of work: %s", WORK_MS,
                evutil_timercmp(&before, &after, !=) ? "yes" : "no");

    /* Counted from the cached time, which is the time the loop woke up. */
    if (event_add(late, &ms30) != 0)
        die("event_add");
    probe_added(late, &ms30);

    /* Counted from now. */
    if (event_base_update_cache_time(base) != 0 ||
        event_base_gettimeofday_cached(base, &after) != 0)
        die("event_base_update_cache_time");
    trace_style("after event_base_update_cache_time(): moved: %s",
                evutil_timercmp(&before, &after, !=) ? "yes" : "no");
    if (event_add(fresh, &ms30) != 0)
        die("event_add");
    probe_step(fresh, "added");
    probe_after(arg);
}
/* doc: end */

static void on_conn(evutil_socket_t fd, short what, void *arg)
{
    probe_callback(arg, what);
    char byte;
    if (read(fd, &byte, 1) != 1)
        die_errno("read");
    trace_note("conn read 1 byte");
    if (event_del(arg) != 0)
        die("event_del");
    probe_step(arg, "deleted");
    probe_after(arg);
}

/* doc: untime */
static void on_fresh(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    probe_callback(arg, what);
    if (event_add(conn, &idle) != 0) /* an idle timeout */
        die("event_add");
    probe_added(conn, &idle);
    /* Drop the timeout only: conn stays pending for READ. */
    if (event_remove_timer(conn) != 0)
        die("event_remove_timer");
    probe_step(conn, "untimed");

    if (write(pair[1], "x", 1) != 1)
        die_errno("write");
    trace_note("wrote 1 byte for conn");
    probe_after(arg);
}
/* doc: end */

int main(void)
{
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0)
        die_errno("socketpair");
    base = event_base_new();
    if (base == NULL)
        die("event_base_new");

    start = evtimer_new(base, on_start, event_self_cbarg());
    for (int i = 0; i < BATCH; i++) {
        batch[i] = evtimer_new(base, on_batch, event_self_cbarg());
        common[i] = evtimer_new(base, on_common, (void *)common_names[i]);
        if (batch[i] == NULL || common[i] == NULL)
            die("evtimer_new");
    }
    slow = evtimer_new(base, on_slow, event_self_cbarg());
    early = evtimer_new(base, on_timer, event_self_cbarg());
    late = evtimer_new(base, on_timer, event_self_cbarg());
    fresh = evtimer_new(base, on_fresh, event_self_cbarg());
    conn = event_new(base, pair[0], EV_READ | EV_PERSIST, on_conn, event_self_cbarg());
    if (start == NULL || slow == NULL || early == NULL || late == NULL || fresh == NULL ||
        conn == NULL)
        die("event_new");

    probe_watch(start, "start");
    for (int i = 0; i < BATCH; i++)
        probe_watch(batch[i], batch_names[i]);
    probe_watch(slow, "slow");
    probe_watch(early, "early");
    probe_watch(late, "late");
    probe_watch(fresh, "fresh");
    probe_watch(conn, "conn");

    if (event_add(start, &ms10) != 0)
        die("event_add");
    probe_added(start, &ms10);

    trace("loop", "dispatch", NULL);
    int result = event_base_dispatch(base);
    trace("loop", "returned", "result=%d", result);
    trace_style("common timeout, c1-c4 added in order: ran %s", common_fired);

    struct event *all[] = { start, batch[0], batch[1], batch[2], batch[3],
                            slow,  early,    late,     fresh,    conn };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        probe_free(all[i]);
        event_free(all[i]);
    }
    for (int i = 0; i < BATCH; i++)
        event_free(common[i]);
    event_base_free(base);
    close(pair[0]);
    close(pair[1]);
    return 0;
}

/*
 * Lesson 16, event1 style: timers at scale.
 *
 * What it shows: four timers with one duration, added from one callback and
 *   so due at one instant, and the order libevent 2.1.12 runs them in from
 *   its heap, the only place 1.x had for timers. Then the time libevent
 *   caches while callbacks run: 1.x could neither read it nor refresh it,
 *   yet a timer added after 50 ms of work counts from it; the program reads
 *   gettimeofday() itself and adds what the work took. Last, what 1.x did
 *   instead of event_remove_timer(): event_del(), then event_add(ev, NULL),
 *   and on 2.1 event_set() in between, or a persistent event's idle timeout
 *   comes back.
 * Run it:   make lesson-16         (both styles side by side)
 *           build/bin/16-event1    (this program alone)
 * Look for: t1, t4, t3, t2: the heap's order for one deadline. "late" runs
 *   before "early" although it was added 50 ms later with a shorter
 *   timeout: its 30 ms counted from the cached time. "conn callback
 *   pending(READ)": no TIMEOUT any more, and still reading.
 *   No order here depends on the machine's speed: ties come from one cached
 *   time, and a slow machine only makes the later deadlines later.
 */
#include "event1.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h" /* sleep_ms() */

enum { BATCH = 4, WORK_MS = 50 };

static struct event start_ev, batch_ev[BATCH], slow_ev, early_ev, late_ev, fresh_ev, conn_ev;
static struct event *start = &start_ev, *batch[BATCH] = { &batch_ev[0], &batch_ev[1],
                                                          &batch_ev[2], &batch_ev[3] };
static struct event *slow = &slow_ev, *early = &early_ev, *late = &late_ev;
static struct event *fresh = &fresh_ev, *conn = &conn_ev;
static int pair[2]; /* conn reads pair[0]; the program writes to pair[1] */
static const char *const batch_names[BATCH] = { "t1", "t2", "t3", "t4" };
static char fired[32];
static int nfired;

static const struct timeval ms10 = { 0, 10 * 1000 }, ms20 = { 0, 20 * 1000 };
static const struct timeval ms30 = { 0, 30 * 1000 }, ms40 = { 0, 40 * 1000 };
static const struct timeval idle = { 10, 0 };

static void append(char *list, size_t size, const char *name)
{
    size_t used = strlen(list);
    snprintf(list + used, size - used, "%s%s", used ? " " : "", name);
}

static void on_timer(int fd, short what, void *arg)
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
static void on_start(int fd, short what, void *arg)
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

static void on_batch(int fd, short what, void *arg)
{
    (void)fd;
    probe_callback(arg, what);
    for (int i = 0; i < BATCH; i++)
        if (batch[i] == arg)
            append(fired, sizeof fired, batch_names[i]);
    if (++nfired == BATCH) {
        trace_note("heap, t1-t4 added in order: ran %s", fired);
        /* doc: common */
        trace_style("no event_base_init_common_timeout() in 1.x: every timer is in the heap");
        /* doc: end */
        if (event_add(slow, &ms20) != 0)
            die("event_add");
        probe_added(slow, &ms20);
    }
    probe_after(arg);
}

/* doc: slow */
static void on_slow(int fd, short what, void *arg)
{
    (void)fd;
    probe_callback(arg, what);
    if (event_add(early, &ms40) != 0)
        die("event_add");
    probe_added(early, &ms40);

    struct timeval before, after;
    if (gettimeofday(&before, NULL) != 0)
        die_errno("gettimeofday");
    sleep_ms(WORK_MS); /* the work */
    if (gettimeofday(&after, NULL) != 0)
        die_errno("gettimeofday");
    trace_style("1.x cannot read libevent's time: gettimeofday() moved during %d ms of work: %s",
                WORK_MS, evutil_timercmp(&before, &after, !=) ? "yes" : "no");

    /* Counted from the cached time, which is the time the loop woke up. */
    if (event_add(late, &ms30) != 0)
        die("event_add");
    probe_added(late, &ms30);

    /* Counted from now, near enough: 1.x could not refresh libevent's
       time, so add what the work took to the timeout. */
    struct timeval work, timeout;
    evutil_timersub(&after, &before, &work);
    if (work.tv_sec < 0) /* the wall clock was set back */
        evutil_timerclear(&work);
    evutil_timeradd(&ms30, &work, &timeout);
    trace_style("no event_base_update_cache_time() in 1.x: fresh gets 30ms + the work");
    if (event_add(fresh, &timeout) != 0)
        die("event_add");
    probe_step(fresh, "added");
    probe_after(arg);
}
/* doc: end */

static void on_conn(int fd, short what, void *arg)
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
static void on_fresh(int fd, short what, void *arg)
{
    (void)fd;
    probe_callback(arg, what);
    if (event_add(conn, &idle) != 0) /* an idle timeout */
        die("event_add");
    probe_added(conn, &idle);
    /* No event_remove_timer() in 1.x: delete, then add with no timeout.
       On 2.1 event_del() leaves a persistent event's interval behind, and
       the next read would arm it again: event_set() forgets it. */
    if (event_del(conn) != 0)
        die("event_del");
    event_set(conn, pair[0], EV_READ | EV_PERSIST, on_conn, conn);
    if (event_add(conn, NULL) != 0)
        die("event_add");
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
    struct event_base *base = event_init();
    if (base == NULL)
        die("event_init");

    evtimer_set(start, on_start, start);
    for (int i = 0; i < BATCH; i++)
        evtimer_set(batch[i], on_batch, batch[i]);
    evtimer_set(slow, on_slow, slow);
    evtimer_set(early, on_timer, early);
    evtimer_set(late, on_timer, late);
    evtimer_set(fresh, on_fresh, fresh);
    event_set(conn, pair[0], EV_READ | EV_PERSIST, on_conn, conn);

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
    int result = event_dispatch();
    trace("loop", "returned", "result=%d", result);

    struct event *all[] = { start, batch[0], batch[1], batch[2], batch[3],
                            slow,  early,    late,     fresh,    conn };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        probe_free(all[i]);
    event_base_free(base);
    close(pair[0]);
    close(pair[1]);
    return 0;
}

/*
 * timers.c - the timers suite: many timers, common timeouts, the cached
 * time and event_remove_timer() (lesson 16), against the real libevent
 * (2.1.12 on Debian 12). Lessons cite these tests as `timers/<test name>`.
 *
 * Orders are recorded as strings ("t1 t4 t3 t2") and compared whole. No
 * order here depends on how fast the machine is: timers that must tie are
 * added from one callback, where the base's time is cached, so their
 * deadlines are equal, not merely close; where a test needs time to pass it
 * sleeps, and load can only make the sleep longer, which every such test
 * allows for. The cost case measures and writes what it measured to
 * build/test-results/timers-cost.txt; it asserts only what fired, never how
 * fast.
 */
#define _GNU_SOURCE /* asprintf */
#include "suites.h"
#include "util.h"

#include <event.h> /* event_set(), for what the event1 variant of lesson 16 does */
#include <event2/event.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* --- Recording the order timers run in -------------------------------------- */

static char order[1024];

static void record(const char *what)
{
    if (order[0] != '\0')
        strncat(order, " ", sizeof order - strlen(order) - 1);
    strncat(order, what, sizeof order - strlen(order) - 1);
}

/* A timer that records its name when it runs, then runs its hook. */
struct timer {
    char name[16];
    struct event *ev;
    void (*hook)(struct timer *self);
    void *data;
};

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct timer *t = arg;
    record(t->name);
    if (t->hook != NULL)
        t->hook(t);
}

static void timer_init(struct timer *t, struct event_base *base, const char *name)
{
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ev = evtimer_new(base, on_timer, t);
    ck_assert_ptr_nonnull(t->ev);
}

static struct event_base *new_base(int flags)
{
    order[0] = '\0';
    struct event_config *cfg = event_config_new();
    ck_assert_ptr_nonnull(cfg);
    ck_assert_int_eq(event_config_set_flag(cfg, flags), 0);
    struct event_base *base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    ck_assert_ptr_nonnull(base);
    return base;
}

static long long usec(const struct timeval *tv)
{
    return (long long)tv->tv_sec * 1000000 + tv->tv_usec;
}

static long long cached_usec(struct event_base *base)
{
    struct timeval tv;
    ck_assert_int_eq(event_base_gettimeofday_cached(base, &tv), 0);
    return usec(&tv);
}

static const struct timeval ms10 = { 0, 10 * 1000 };

/* Run fn(arg) from inside a callback of base: the first thing the loop
   does, 1 ms from now. */
struct inside {
    void (*fn)(void *arg);
    void *arg;
};

static void on_inside(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct inside *in = arg;
    in->fn(in->arg);
}

static void run_inside(struct event_base *base, void (*fn)(void *), void *arg)
{
    struct inside in = { fn, arg };
    struct event *ev = evtimer_new(base, on_inside, &in);
    ck_assert_ptr_nonnull(ev);
    const struct timeval ms1 = { 0, 1000 };
    ck_assert_int_eq(event_add(ev, &ms1), 0);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    event_free(ev);
}

/* --- Timers due at one instant ---------------------------------------------- */

enum { MAX_TIMERS = 16 };

struct batch {
    struct event_base *base;
    struct timer t[MAX_TIMERS];
    int n;
    const struct timeval *timeout[MAX_TIMERS]; /* what each is added with */
};

static void add_batch(void *arg)
{
    struct batch *b = arg;
    for (int i = 0; i < b->n; i++)
        ck_assert_int_eq(event_add(b->t[i].ev, b->timeout[i]), 0);
}

static void batch_init(struct batch *b, struct event_base *base)
{
    b->base = base;
    b->n = 0;
}

/* One more timer for the batch, to be added with the timeout tv. */
static struct timer *batch_add(struct batch *b, const char *name, const struct timeval *tv)
{
    ck_assert_int_lt(b->n, MAX_TIMERS);
    timer_init(&b->t[b->n], b->base, name);
    b->timeout[b->n] = tv;
    return &b->t[b->n++];
}

/* n timers named prefix1, prefix2, ..., all with the timeout tv. */
static void batch_of(struct batch *b, struct event_base *base, int n, const char *prefix,
                     const struct timeval *tv)
{
    batch_init(b, base);
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "%s%d", prefix, i + 1);
        batch_add(b, name, tv);
    }
}

static void batch_free(struct batch *b)
{
    for (int i = 0; i < b->n; i++)
        event_free(b->t[i].ev);
}

static void add_slowly_check_one_deadline(void *arg)
{
    struct batch *b = arg;
    for (int i = 0; i < b->n; i++) {
        ck_assert_int_eq(event_add(b->t[i].ev, b->timeout[i]), 0);
        sleep_ms(12); /* more than a tick of libevent's clock (see below) */
    }
    struct timeval first, other;
    ck_assert_int_eq(event_pending(b->t[0].ev, EV_TIMEOUT, &first), EV_TIMEOUT);
    for (int i = 1; i < b->n; i++) {
        ck_assert_int_eq(event_pending(b->t[i].ev, EV_TIMEOUT, &other), EV_TIMEOUT);
        ck_assert_int_eq(usec(&first), usec(&other));
    }
}

/* Lesson 16: inside a callback the base's time is cached, so timers added
   there with one duration have one deadline, exactly, even with time
   passing between the adds. */
START_TEST(timers_added_in_one_callback_share_a_deadline)
{
    struct event_base *base = new_base(0);
    struct batch b;
    batch_of(&b, base, 4, "t", &ms10);
    run_inside(base, add_slowly_check_one_deadline, &b);
    ck_assert_int_eq(strlen(order), strlen("t1 t2 t3 t4")); /* all ran */
    batch_free(&b);
    event_base_free(base);
}
END_TEST

/* Lesson 16: the heap (a binary min-heap) runs timers with one deadline
   first-added first, then the others from the last added back: popping the
   top moves the last element to the top, and an equal element never sinks
   below its equals. */
START_TEST(heap_ties_run_first_added_then_the_rest_in_reverse)
{
    static const char *const want[] = {
        [2] = "t1 t2",
        [3] = "t1 t3 t2",
        [4] = "t1 t4 t3 t2",
        [8] = "t1 t8 t7 t6 t5 t4 t3 t2",
    };
    for (int n = 2; n <= 8; n++) {
        if (want[n] == NULL)
            continue;
        struct event_base *base = new_base(0);
        struct batch b;
        batch_of(&b, base, n, "t", &ms10);
        run_inside(base, add_batch, &b);
        ck_assert_str_eq(order, want[n]);
        batch_free(&b);
        event_base_free(base);
    }
}
END_TEST

/* Lesson 16: a common timeout keeps its timers in a queue, in deadline
   order, and equal deadlines in the order they were added. */
START_TEST(common_timeout_ties_run_in_the_order_added)
{
    struct event_base *base = new_base(0);
    const struct timeval *q10 = event_base_init_common_timeout(base, &ms10);
    ck_assert_ptr_nonnull(q10);
    struct batch b;
    batch_of(&b, base, 8, "c", q10);
    run_inside(base, add_batch, &b);
    ck_assert_str_eq(order, "c1 c2 c3 c4 c5 c6 c7 c8");
    batch_free(&b);
    event_base_free(base);
}
END_TEST

/* A common timeout is one internal event in the heap; when it runs, it
   activates its queue's due timers, behind every heap timer that was
   already active. So heap timers with the same deadline run first, even
   those added after (and the internal event, added first, takes the heap's
   first place: h2 before h1). */
START_TEST(common_timeout_ties_run_after_heap_ties)
{
    struct event_base *base = new_base(0);
    const struct timeval *q10 = event_base_init_common_timeout(base, &ms10);
    ck_assert_ptr_nonnull(q10);
    struct batch b;
    batch_init(&b, base);
    batch_add(&b, "c1", q10); /* on the queue */
    batch_add(&b, "c2", q10);
    batch_add(&b, "h1", &ms10); /* in the heap */
    batch_add(&b, "h2", &ms10);
    run_inside(base, add_batch, &b);
    ck_assert_str_eq(order, "h2 h1 c1 c2");
    batch_free(&b);
    event_base_free(base);
}
END_TEST

/* Add the batch, then work until its last timer is overdue: by that
   timer's own deadline and the clock, not by a guess at how long the work
   takes. */
static void add_and_work_until_overdue(void *arg)
{
    struct batch *b = arg;
    add_batch(b);
    struct timeval deadline, now;
    ck_assert_int_eq(event_pending(b->t[b->n - 1].ev, EV_TIMEOUT, &deadline), EV_TIMEOUT);
    do {
        sleep_ms(5);
        ck_assert_int_eq(gettimeofday(&now, NULL), 0);
    } while (usec(&now) <= usec(&deadline) + 5000);
}

/* When a common-timeout timer and a heap timer due later are both overdue
   in one pass (a slow callback, a loaded machine), the heap timer runs
   first: deadline order holds within the heap, and within a queue, but
   not across the two. Lesson 16 prints its common timers' order after the
   loop for this reason. */
START_TEST(common_timeout_timers_run_after_later_heap_timers_due_in_the_same_pass)
{
    const struct timeval ms20 = { 0, 20 * 1000 };
    for (int common = 0; common <= 1; common++) {
        struct event_base *base = new_base(0);
        const struct timeval *q10 = event_base_init_common_timeout(base, &ms10);
        ck_assert_ptr_nonnull(q10);
        struct batch b;
        batch_init(&b, base);
        batch_add(&b, common ? "common10ms" : "heap10ms", common ? q10 : &ms10);
        batch_add(&b, "heap20ms", &ms20);
        run_inside(base, add_and_work_until_overdue, &b);
        ck_assert_str_eq(order, common ? "heap20ms common10ms" : "heap10ms heap20ms");
        batch_free(&b);
        event_base_free(base);
    }
}
END_TEST

/* What the API does promise: priorities order events that are active at
   once, ties included. */
START_TEST(priorities_order_timers_with_one_deadline)
{
    struct event_base *base = new_base(0);
    ck_assert_int_eq(event_base_priority_init(base, 4), 0);
    struct batch b;
    batch_of(&b, base, 4, "t", &ms10);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(event_priority_set(b.t[i].ev, i), 0);
    run_inside(base, add_batch, &b);
    ck_assert_str_eq(order, "t1 t2 t3 t4"); /* without priorities: t1 t4 t3 t2 */
    batch_free(&b);
    event_base_free(base);
}
END_TEST

/* --- Common timeouts --------------------------------------------------------- */

/* Lesson 16: one queue per duration and base; asking again, even with the
   returned value itself, gives the same pointer; a duration is normalized
   first (1010000 us is 1 s 10000 us). */
START_TEST(common_timeout_same_duration_same_pointer)
{
    struct event_base *base = new_base(0);
    const struct timeval again = { 0, 10 * 1000 }, ms20 = { 0, 20 * 1000 };
    const struct timeval *q10 = event_base_init_common_timeout(base, &ms10);
    ck_assert_ptr_nonnull(q10);
    ck_assert_ptr_eq(event_base_init_common_timeout(base, &again), q10);
    ck_assert_ptr_eq(event_base_init_common_timeout(base, q10), q10);
    const struct timeval *q20 = event_base_init_common_timeout(base, &ms20);
    ck_assert_ptr_nonnull(q20);
    ck_assert_ptr_ne(q20, q10);

    const struct timeval long_usec = { 0, 1010000 }, normal = { 1, 10000 };
    ck_assert_ptr_eq(event_base_init_common_timeout(base, &long_usec),
                     event_base_init_common_timeout(base, &normal));

    /* Another base has queues of its own. */
    struct event_base *other = event_base_new();
    ck_assert_ptr_nonnull(other);
    ck_assert_ptr_ne(event_base_init_common_timeout(other, &ms10), q10);
    event_base_free(other);
    event_base_free(base);
}
END_TEST

static char logged[256];
static void log_to_string(int severity, const char *msg)
{
    (void)severity;
    snprintf(logged, sizeof logged, "%s", msg);
}

/* 256 durations per base; the 257th gets NULL, with a warning in
   libevent's log, and event_add(ev, NULL) would mean no timeout at all:
   check it. One already made is still found. */
START_TEST(common_timeout_limit_is_256_per_base)
{
    event_set_log_callback(log_to_string);
    struct event_base *base = new_base(0);
    const struct timeval *first = NULL;
    for (int i = 0; i < 256; i++) {
        struct timeval d = { 1 + i, 0 };
        const struct timeval *q = event_base_init_common_timeout(base, &d);
        ck_assert_msg(q != NULL, "duration %d of 256 refused", i + 1);
        if (i == 0)
            first = q;
    }
    struct timeval one_more = { 1000, 0 }, one_second = { 1, 0 };
    ck_assert_ptr_null(event_base_init_common_timeout(base, &one_more));
    ck_assert_msg(strstr(logged, "we only support 256 per event_base") != NULL, "logged: %s",
                  logged);
    ck_assert_ptr_eq(event_base_init_common_timeout(base, &one_second), first);
    event_base_free(base);
    event_set_log_callback(NULL);
}
END_TEST

static void on_break(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    record("plain500ms");
    ck_assert_int_eq(event_base_loopbreak(arg), 0);
}

/* A common timeout belongs to the base that made it. Given to another base
   (one without common timeouts), event_add() accepts it and the result is
   not 10 ms: in 2.1.12 a plain 500 ms timer runs first. */
START_TEST(common_timeout_from_another_base_is_not_that_duration)
{
    struct event_base *maker = new_base(0), *base = new_base(0);
    const struct timeval *q10 = event_base_init_common_timeout(maker, &ms10);
    ck_assert_ptr_nonnull(q10);
    struct timer foreign;
    timer_init(&foreign, base, "foreign10ms");
    ck_assert_int_eq(event_add(foreign.ev, q10), 0);
    struct event *stop = evtimer_new(base, on_break, base);
    ck_assert_ptr_nonnull(stop);
    const struct timeval ms500 = { 0, 500 * 1000 };
    ck_assert_int_eq(event_add(stop, &ms500), 0);
    ck_assert_int_eq(event_base_dispatch(base), 0);
    ck_assert_str_eq(order, "plain500ms");
    ck_assert_int_eq(event_pending(foreign.ev, EV_TIMEOUT, NULL), EV_TIMEOUT);
    event_free(stop);
    event_free(foreign.ev);
    event_base_free(base);
    event_base_free(maker);
}
END_TEST

/* --- The cached time --------------------------------------------------------- */

enum { WORK_MS = 50 }; /* lesson 16's work */

/* The work must outlast a tick of each clock a lesson reads: libevent's
   (CLOCK_MONOTONIC_COARSE unless EVENT_BASE_FLAG_PRECISE_TIMER) and
   gettimeofday()'s. Five ticks or more, so "it moved" cannot miss. */
START_TEST(clocks_tick_finer_than_the_lessons_work)
{
    struct timespec coarse, wall;
    ck_assert_int_eq(clock_getres(CLOCK_MONOTONIC_COARSE, &coarse), 0);
    ck_assert_int_eq(clock_getres(CLOCK_REALTIME, &wall), 0);
    ck_assert_int_eq(coarse.tv_sec, 0);
    ck_assert_int_eq(wall.tv_sec, 0);
    ck_assert_int_le(coarse.tv_nsec * 5, WORK_MS * 1000000L);
    ck_assert_int_le(wall.tv_nsec * 5, WORK_MS * 1000000L);
}
END_TEST

struct cache_check {
    struct event_base *base;
    long long before, after, updated;
};

static void work_and_read(void *arg)
{
    struct cache_check *c = arg;
    c->before = cached_usec(c->base);
    sleep_ms(WORK_MS);
    c->after = cached_usec(c->base);
    ck_assert_int_eq(event_base_update_cache_time(c->base), 0);
    c->updated = cached_usec(c->base);
}

/* Lesson 16: the cached time stands still for the whole of a callback;
   event_base_update_cache_time() sets it to now: at least the work minus
   one tick of libevent's coarse clock later. */
START_TEST(cached_time_stands_still_until_updated)
{
    struct cache_check c = { .base = new_base(0) };
    run_inside(c.base, work_and_read, &c);
    ck_assert_int_eq(c.after, c.before);
    struct timespec tick;
    ck_assert_int_eq(clock_getres(CLOCK_MONOTONIC_COARSE, &tick), 0);
    ck_assert_int_ge(c.updated - c.before, WORK_MS * 1000LL - tick.tv_nsec / 1000);
    event_base_free(c.base);
}
END_TEST

/* EVENT_BASE_FLAG_NO_CACHE_TIME: no cache; every read is the clock. */
START_TEST(no_cache_time_reads_the_clock_in_callbacks)
{
    struct cache_check c = { .base = new_base(EVENT_BASE_FLAG_NO_CACHE_TIME) };
    run_inside(c.base, work_and_read, &c);
    ck_assert_int_ge(c.after - c.before, WORK_MS * 1000LL);
    event_base_free(c.base);
}
END_TEST

/* Outside the loop there is no cached time: event_base_gettimeofday_cached()
   reads the clock, and event_base_update_cache_time() does nothing and
   returns 0. */
START_TEST(cached_time_outside_the_loop_is_the_clock)
{
    struct event_base *base = new_base(0);
    long long before = cached_usec(base);
    sleep_ms(WORK_MS);
    ck_assert_int_ge(cached_usec(base) - before, WORK_MS * 1000LL);
    ck_assert_int_eq(event_base_update_cache_time(base), 0);
    before = cached_usec(base);
    sleep_ms(WORK_MS);
    ck_assert_int_ge(cached_usec(base) - before, WORK_MS * 1000LL); /* still no cache */
    event_base_free(base);
}
END_TEST

static long long seen_by[2];
static void read_cache(struct timer *t)
{
    seen_by[t->name[1] - '1'] = cached_usec(t->data);
    if (t->name[1] == '1')
        sleep_ms(WORK_MS);
}

/* Every callback of one pass sees one cached time, however long the
   callbacks before it took. */
START_TEST(every_callback_of_one_pass_sees_one_cached_time)
{
    struct event_base *base = new_base(0);
    struct batch b;
    batch_of(&b, base, 2, "t", &ms10);
    for (int i = 0; i < 2; i++) {
        b.t[i].hook = read_cache;
        b.t[i].data = base;
    }
    run_inside(base, add_batch, &b);
    ck_assert_str_eq(order, "t1 t2");
    ck_assert_int_eq(seen_by[0], seen_by[1]);
    batch_free(&b);
    event_base_free(base);
}
END_TEST

/* Lesson 16's slow callback: early (40 ms) before the work, late (30 ms)
   after it, with or without event_base_update_cache_time() in between. */
struct slow_work {
    struct timer early, late;
    bool update;
};

static void slow_callback(void *arg)
{
    struct slow_work *w = arg;
    const struct timeval ms40 = { 0, 40 * 1000 }, ms30 = { 0, 30 * 1000 };
    ck_assert_int_eq(event_add(w->early.ev, &ms40), 0);
    sleep_ms(WORK_MS);
    if (w->update)
        ck_assert_int_eq(event_base_update_cache_time(event_get_base(w->late.ev)), 0);
    ck_assert_int_eq(event_add(w->late.ev, &ms30), 0);
}

static const char *run_slow_work(int flags, bool update)
{
    struct event_base *base = new_base(flags);
    struct slow_work w = { .update = update };
    timer_init(&w.early, base, "early");
    timer_init(&w.late, base, "late");
    run_inside(base, slow_callback, &w);
    event_free(w.early.ev);
    event_free(w.late.ev);
    event_base_free(base);
    return order;
}

/* Lesson 16: a timer added after long work counts from the cached time,
   the time the loop woke up: late (30 ms, added 50 ms after early) is due
   before early (40 ms). */
START_TEST(timer_added_after_work_counts_from_the_cached_time)
{
    ck_assert_str_eq(run_slow_work(0, false), "late early");
}
END_TEST

/* Lesson 16: after event_base_update_cache_time() it counts from now. */
START_TEST(update_cache_time_makes_later_adds_count_from_now)
{
    ck_assert_str_eq(run_slow_work(0, true), "early late");
}
END_TEST

START_TEST(no_cache_time_makes_adds_count_from_now)
{
    ck_assert_str_eq(run_slow_work(EVENT_BASE_FLAG_NO_CACHE_TIME, false), "early late");
}
END_TEST

/* first adds second (10 ms), then works until second is overdue, by
   second's own deadline and the clock, not by a guess at how long the work
   takes. */
static void add_second_and_work_until_it_is_overdue(struct timer *first)
{
    struct timer *second = first->data;
    struct timeval deadline, now;
    ck_assert_int_eq(event_add(second->ev, &ms10), 0);
    ck_assert_int_eq(event_pending(second->ev, EV_TIMEOUT, &deadline), EV_TIMEOUT);
    do {
        sleep_ms(10);
        ck_assert_int_eq(gettimeofday(&now, NULL), 0);
    } while (usec(&now) <= usec(&deadline) + 10000);
}

/* libevent's header and book say EVENT_BASE_FLAG_NO_CACHE_TIME makes the
   loop "check the current time ... after every timeout callback". It reads
   the clock each time it needs the time; it does not look for expired
   timers between callbacks: a timer that fell due during a callback runs in
   the next pass of the loop, with or without the flag. (EVLOOP_ONCE ends
   the loop after a pass that left nothing active.) */
START_TEST(no_cache_time_still_collects_expired_timers_once_per_pass)
{
    const int flags[] = { 0, EVENT_BASE_FLAG_NO_CACHE_TIME };
    for (int i = 0; i < 2; i++) {
        struct event_base *base = new_base(flags[i]);
        struct timer first, second;
        timer_init(&first, base, "first");
        timer_init(&second, base, "second");
        first.hook = add_second_and_work_until_it_is_overdue;
        first.data = &second;
        ck_assert_int_eq(event_add(first.ev, &ms10), 0);
        ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 0); /* one pass */
        ck_assert_str_eq(order, "first");
        ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 0);
        ck_assert_str_eq(order, "first second");
        event_free(first.ev);
        event_free(second.ev);
        event_base_free(base);
    }
}
END_TEST

/* --- event_remove_timer() ------------------------------------------------------ */

static const struct timeval hour = { 3600, 0 };
static int reads;
static short pending_in_callback;

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    ck_assert_int_eq(what, EV_READ);
    char byte;
    ck_assert_int_eq(read(fd, &byte, 1), 1);
    reads++;
    pending_in_callback = (short)event_pending(arg, EV_READ | EV_TIMEOUT, NULL);
}

struct conn {
    int fds[2];
    struct event_base *base;
    struct event *ev;
};

static void conn_open(struct conn *c, short events)
{
    reads = 0;
    pending_in_callback = -1;
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, c->fds), 0);
    c->base = new_base(0);
    c->ev = event_new(c->base, c->fds[0], events, on_read, event_self_cbarg());
    ck_assert_ptr_nonnull(c->ev);
}

/* Send a byte and run one pass for it. */
static void conn_read_once(struct conn *c)
{
    ck_assert_int_eq(write(c->fds[1], "x", 1), 1);
    ck_assert_int_eq(event_base_loop(c->base, EVLOOP_ONCE), 0);
    ck_assert_int_eq(reads, 1);
}

static void conn_close(struct conn *c)
{
    event_free(c->ev);
    event_base_free(c->base);
    close(c->fds[0]);
    close(c->fds[1]);
}

/* Lesson 16: event_remove_timer() drops the timeout and leaves the event
   pending for READ; the read still comes. */
START_TEST(remove_timer_keeps_the_event_pending_for_read)
{
    struct conn c;
    conn_open(&c, EV_READ);
    ck_assert_int_eq(event_add(c.ev, &hour), 0);
    ck_assert_int_eq(event_pending(c.ev, EV_READ | EV_TIMEOUT, NULL), EV_READ | EV_TIMEOUT);
    ck_assert_int_eq(event_remove_timer(c.ev), 0);
    ck_assert_int_eq(event_pending(c.ev, EV_READ | EV_TIMEOUT, NULL), EV_READ);
    conn_read_once(&c);
    conn_close(&c);
}
END_TEST

/* Without a timeout it does nothing, and returns 0 all the same. */
START_TEST(remove_timer_without_a_timeout_does_nothing)
{
    struct conn c;
    conn_open(&c, EV_READ);
    ck_assert_int_eq(event_remove_timer(c.ev), 0); /* never added */
    ck_assert_int_eq(event_pending(c.ev, EV_READ | EV_TIMEOUT, NULL), 0);
    ck_assert_int_eq(event_add(c.ev, NULL), 0);
    ck_assert_int_eq(event_remove_timer(c.ev), 0);
    ck_assert_int_eq(event_pending(c.ev, EV_READ | EV_TIMEOUT, NULL), EV_READ);
    conn_close(&c);
}
END_TEST

/* A pure timer has nothing left: non-pending, and the loop has no events. */
START_TEST(remove_timer_leaves_a_pure_timer_non_pending)
{
    struct event_base *base = new_base(0);
    struct timer t;
    timer_init(&t, base, "t");
    ck_assert_int_eq(event_add(t.ev, &ms10), 0);
    ck_assert_int_eq(event_remove_timer(t.ev), 0);
    ck_assert_int_eq(event_pending(t.ev, EV_TIMEOUT, NULL), 0);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "");
    event_free(t.ev);
    event_base_free(base);
}
END_TEST

static void cancel_second(struct timer *first)
{
    struct timer *second = first->data;
    if (first->name[0] == 'r') /* "remover" */
        ck_assert_int_eq(event_remove_timer(second->ev), 0);
    else
        ck_assert_int_eq(event_del(second->ev), 0);
}

static const char *cancel_active_timer(const char *first_name)
{
    struct event_base *base = new_base(0);
    ck_assert_int_eq(event_base_priority_init(base, 2), 0);
    struct batch b;
    batch_init(&b, base);
    struct timer *first = batch_add(&b, first_name, &ms10);
    struct timer *second = batch_add(&b, "second", &ms10);
    ck_assert_int_eq(event_priority_set(first->ev, 0), 0);
    ck_assert_int_eq(event_priority_set(second->ev, 1), 0);
    first->hook = cancel_second;
    first->data = second;
    run_inside(base, add_batch, &b); /* one deadline: both active at once */
    batch_free(&b);
    event_base_free(base);
    return order;
}

/* libevent's book: for an event with only a timeout, event_remove_timer()
   "has the same effect as event_del()". Not once the timeout has expired
   and the event is active: event_del() cancels the callback,
   event_remove_timer() finds no timer and the callback runs. */
START_TEST(remove_timer_does_not_cancel_an_expired_timeout)
{
    ck_assert_str_eq(cancel_active_timer("deleter"), "deleter");
    ck_assert_str_eq(cancel_active_timer("remover"), "remover second");
}
END_TEST

/* Lesson 16: a persistent event remembers its interval to re-arm it after
   each callback; event_remove_timer() forgets it too. */
START_TEST(remove_timer_forgets_a_persistent_events_interval)
{
    struct conn c;
    conn_open(&c, EV_READ | EV_PERSIST);
    ck_assert_int_eq(event_add(c.ev, &hour), 0);
    ck_assert_int_eq(event_remove_timer(c.ev), 0);
    conn_read_once(&c);
    ck_assert_int_eq(pending_in_callback, EV_READ);
    ck_assert_int_eq(event_pending(c.ev, EV_READ | EV_TIMEOUT, NULL), EV_READ);
    conn_close(&c);
}
END_TEST

/* event_add(ev, NULL) on an event whose timeout is armed leaves it armed:
   that is why 1.x code deleted the event first. */
START_TEST(add_null_keeps_an_armed_timeout)
{
    struct conn c;
    conn_open(&c, EV_READ);
    ck_assert_int_eq(event_add(c.ev, &hour), 0);
    ck_assert_int_eq(event_add(c.ev, NULL), 0);
    ck_assert_int_eq(event_pending(c.ev, EV_READ | EV_TIMEOUT, NULL), EV_READ | EV_TIMEOUT);
    conn_close(&c);
}
END_TEST

/* Lesson 16: the 1.x way, event_del() then event_add(ev, NULL), drops the
   timeout of a persistent event only until its next callback: event_del()
   keeps the interval, and libevent re-arms it. (On a real 1.x library
   EV_PERSIST never re-armed a timeout, so the old code was right there.) */
START_TEST(del_then_add_null_brings_a_persistent_interval_back)
{
    struct conn c;
    conn_open(&c, EV_READ | EV_PERSIST);
    ck_assert_int_eq(event_add(c.ev, &hour), 0);
    ck_assert_int_eq(event_del(c.ev), 0);
    ck_assert_int_eq(event_add(c.ev, NULL), 0);
    ck_assert_int_eq(event_pending(c.ev, EV_READ | EV_TIMEOUT, NULL), EV_READ);
    conn_read_once(&c);
    ck_assert_int_eq(pending_in_callback, EV_READ | EV_TIMEOUT);
    conn_close(&c);
}
END_TEST

static void on_read_1x(int fd, short what, void *arg)
{
    on_read(fd, what, arg);
}

/* Lesson 16, event1: event_set() between event_del() and event_add()
   forgets the interval (it sets the event up afresh), as lesson 16's event1
   variant does, on the global base of event_init(). */
START_TEST(event_set_after_del_forgets_the_interval)
{
    int fds[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    struct event_base *base = event_init();
    ck_assert_ptr_nonnull(base);
    static struct event conn_ev;
    struct event *conn = &conn_ev;
    reads = 0;
    event_set(conn, fds[0], EV_READ | EV_PERSIST, on_read_1x, conn);
    ck_assert_int_eq(event_add(conn, &hour), 0);
    ck_assert_int_eq(event_del(conn), 0);
    event_set(conn, fds[0], EV_READ | EV_PERSIST, on_read_1x, conn);
    ck_assert_int_eq(event_add(conn, NULL), 0);
    ck_assert_int_eq(write(fds[1], "x", 1), 1);
    ck_assert_int_eq(event_loop(EVLOOP_ONCE), 0);
    ck_assert_int_eq(reads, 1);
    ck_assert_int_eq(pending_in_callback, EV_READ);
    ck_assert_int_eq(event_del(conn), 0);
    event_base_free(base);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

/* --- What it costs: the heap against a common timeout, side by side --------- */

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

enum { ADD, POSTPONE, DELETE, EXPIRE, NSTEPS };
static const char *const step_names[NSTEPS] = { "add", "postpone", "delete", "expire" };

static int expired_in_order, expired;
static void on_expire(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    expired_in_order += (intptr_t)arg == expired;
    expired++;
}

/* One round: n timers of one duration in a fresh base, in the heap or on a
   common timeout; ns per timer for each step into ns[]. Postponing (adding
   a pending timer again, what an idle timeout does on activity) and
   deleting go through the timers in a shuffled order, as connections would. */
static void cost_round(int n, const int *shuffled, bool common, double ns[NSTEPS])
{
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    const struct timeval ten_s = { 10, 0 }, ms1 = { 0, 1000 };
    const struct timeval *idle = &ten_s, *soon = &ms1;
    if (common) {
        idle = event_base_init_common_timeout(base, &ten_s);
        soon = event_base_init_common_timeout(base, &ms1);
        ck_assert(idle != NULL && soon != NULL);
    }
    struct event **ev = calloc((size_t)n, sizeof *ev);
    ck_assert_ptr_nonnull(ev);
    /* Failures are counted, not asserted, inside the timed loops: in fork
       mode every Check assertion writes to a pipe. */
    int failed = 0;
    for (int i = 0; i < n; i++)
        failed += (ev[i] = evtimer_new(base, on_expire, (void *)(intptr_t)i)) == NULL;
    ck_assert_int_eq(failed, 0);
    long long t0 = now_ns();
    for (int i = 0; i < n; i++)
        failed += event_add(ev[i], idle) != 0;
    long long t1 = now_ns();
    for (int i = 0; i < n; i++)
        failed += event_add(ev[shuffled[i]], idle) != 0;
    long long t2 = now_ns();
    for (int i = 0; i < n; i++)
        failed += event_del(ev[shuffled[i]]) != 0;
    long long t3 = now_ns();
    for (int i = 0; i < n; i++)
        failed += event_add(ev[i], soon) != 0;
    ck_assert_int_eq(failed, 0);
    sleep_ms(5); /* all due */
    expired = expired_in_order = 0;
    long long t4 = now_ns();
    ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 0);
    long long t5 = now_ns();
    ck_assert_int_eq(expired, n);
    if (common) /* the queue keeps the order they were added in */
        ck_assert_int_eq(expired_in_order, n);
    ns[ADD] = (double)(t1 - t0) / n;
    ns[POSTPONE] = (double)(t2 - t1) / n;
    ns[DELETE] = (double)(t3 - t2) / n;
    ns[EXPIRE] = (double)(t5 - t4) / n;
    for (int i = 0; i < n; i++)
        event_free(ev[i]);
    free(ev);
    event_base_free(base);
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Lesson 16's walkthrough quotes this table: ns per timer, the median of
   ROUNDS rounds that alternate heap and common timeout in one process, and
   the ratio heap/common. What is checked is only that every timer ran, and
   on a common timeout in the order added. */
START_TEST(heap_and_common_timeout_costs_side_by_side)
{
    enum { ROUNDS = 5 };
    static const int sizes[] = { 1000, 10000, 100000 };
    char *path;
    ck_assert_int_ge(asprintf(&path, "%s/test-results/timers-cost.txt", build_dir()), 0);
    FILE *out = fopen(path, "w");
    ck_assert_msg(out != NULL, "cannot write %s", path);
    fprintf(out, "timers  step      heap ns  common ns  heap/common   (ns per timer, median of %d)\n",
            ROUNDS);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int n = sizes[s];
        int *shuffled = malloc((size_t)n * sizeof *shuffled);
        ck_assert_ptr_nonnull(shuffled);
        unsigned seed = 16;
        for (int i = 0; i < n; i++)
            shuffled[i] = i;
        for (int i = n - 1; i > 0; i--) { /* Fisher-Yates, a fixed LCG */
            seed = seed * 1103515245u + 12345u;
            int j = (int)((seed >> 8) % (unsigned)(i + 1)), tmp = shuffled[i];
            shuffled[i] = shuffled[j];
            shuffled[j] = tmp;
        }
        double heap[NSTEPS][ROUNDS], common[NSTEPS][ROUNDS], ns[NSTEPS];
        for (int r = 0; r < ROUNDS; r++) {
            cost_round(n, shuffled, false, ns);
            for (int k = 0; k < NSTEPS; k++)
                heap[k][r] = ns[k];
            cost_round(n, shuffled, true, ns);
            for (int k = 0; k < NSTEPS; k++)
                common[k][r] = ns[k];
        }
        for (int k = 0; k < NSTEPS; k++) {
            qsort(heap[k], ROUNDS, sizeof(double), compare_doubles);
            qsort(common[k], ROUNDS, sizeof(double), compare_doubles);
            double h = heap[k][ROUNDS / 2], c = common[k][ROUNDS / 2];
            fprintf(out, "%6d  %-8s %8.1f  %9.1f  %11.2f\n", n, step_names[k], h, c, h / c);
        }
        free(shuffled);
    }
    ck_assert_int_eq(fclose(out), 0);
    free(path);
}
END_TEST

Suite *timers_suite(void)
{
    Suite *s = suite_create("timers");
    TCase *ties = tcase_create("ties");
    tcase_set_timeout(ties, 10);
    tcase_add_test(ties, timers_added_in_one_callback_share_a_deadline);
    tcase_add_test(ties, heap_ties_run_first_added_then_the_rest_in_reverse);
    tcase_add_test(ties, common_timeout_ties_run_in_the_order_added);
    tcase_add_test(ties, common_timeout_ties_run_after_heap_ties);
    tcase_add_test(ties, common_timeout_timers_run_after_later_heap_timers_due_in_the_same_pass);
    tcase_add_test(ties, priorities_order_timers_with_one_deadline);
    suite_add_tcase(s, ties);

    TCase *common = tcase_create("common");
    tcase_set_timeout(common, 10);
    tcase_add_test(common, common_timeout_same_duration_same_pointer);
    tcase_add_test(common, common_timeout_limit_is_256_per_base);
    tcase_add_test(common, common_timeout_from_another_base_is_not_that_duration);
    suite_add_tcase(s, common);

    TCase *cache = tcase_create("cache");
    tcase_set_timeout(cache, 10);
    tcase_add_test(cache, clocks_tick_finer_than_the_lessons_work);
    tcase_add_test(cache, cached_time_stands_still_until_updated);
    tcase_add_test(cache, no_cache_time_reads_the_clock_in_callbacks);
    tcase_add_test(cache, cached_time_outside_the_loop_is_the_clock);
    tcase_add_test(cache, every_callback_of_one_pass_sees_one_cached_time);
    tcase_add_test(cache, timer_added_after_work_counts_from_the_cached_time);
    tcase_add_test(cache, update_cache_time_makes_later_adds_count_from_now);
    tcase_add_test(cache, no_cache_time_makes_adds_count_from_now);
    tcase_add_test(cache, no_cache_time_still_collects_expired_timers_once_per_pass);
    suite_add_tcase(s, cache);

    TCase *remove = tcase_create("remove-timer");
    tcase_set_timeout(remove, 10);
    tcase_add_test(remove, remove_timer_keeps_the_event_pending_for_read);
    tcase_add_test(remove, remove_timer_without_a_timeout_does_nothing);
    tcase_add_test(remove, remove_timer_leaves_a_pure_timer_non_pending);
    tcase_add_test(remove, remove_timer_does_not_cancel_an_expired_timeout);
    tcase_add_test(remove, remove_timer_forgets_a_persistent_events_interval);
    tcase_add_test(remove, add_null_keeps_an_armed_timeout);
    tcase_add_test(remove, del_then_add_null_brings_a_persistent_interval_back);
    tcase_add_test(remove, event_set_after_del_forgets_the_interval);
    suite_add_tcase(s, remove);

    TCase *cost = tcase_create("cost");
    tcase_set_timeout(cost, 300); /* ~5 s here; sanitizers and load multiply it */
    tcase_add_test(cost, heap_and_common_timeout_costs_side_by_side);
    suite_add_tcase(s, cost);
    return s;
}

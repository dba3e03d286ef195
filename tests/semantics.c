/*
 * semantics.c - the semantics suite: each ordering rule the lessons teach,
 * checked against the real libevent (2.1.12 on Debian 12). Lesson READMEs
 * and walkthroughs cite these tests by name, as `semantics/<test name>`;
 * tests/tooling.c checks that every such citation names a test here.
 *
 * Orders are recorded as strings ("urgent normal1 normal2") and compared
 * whole. Nothing here depends on how fast the machine is: timers are only
 * compared with each other through libevent's own clock, and where a test
 * needs a timer to be late it sleeps past the deadline, which load can only
 * make later.
 */
#define _GNU_SOURCE /* open_memstream, asprintf */
#include "suites.h"

#include <event.h> /* the 1.x calls are checked too (event_set, ...) */
#include <event2/event.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* --- Recording the order callbacks run in ---------------------------------- */

static char order[512];

static void record(const char *what)
{
    if (order[0] != '\0')
        strncat(order, " ", sizeof order - strlen(order) - 1);
    strncat(order, what, sizeof order - strlen(order) - 1);
}

/* A user event (fd -1, no events) that records its name when it runs and
   then does its action, if any. */
struct actor {
    const char *name;
    struct event *ev;
    struct event_base *base;
    void (*action)(struct actor *self);
    void *data;
};

static void on_actor(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct actor *a = arg;
    record(a->name);
    if (a->action != NULL)
        a->action(a);
}

static void actor_init(struct actor *a, struct event_base *base, const char *name, int priority)
{
    memset(a, 0, sizeof *a);
    a->name = name;
    a->base = base;
    a->ev = event_new(base, -1, 0, on_actor, a);
    ck_assert_ptr_nonnull(a->ev);
    if (priority >= 0)
        ck_assert_int_eq(event_priority_set(a->ev, priority), 0);
}

static void activate(struct actor *a)
{
    event_active(a->ev, 0, 0);
}

static struct event_base *new_base(int npriorities)
{
    order[0] = '\0';
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    if (npriorities > 1)
        ck_assert_int_eq(event_base_priority_init(base, npriorities), 0);
    return base;
}

/* Whether event_base_dump_events() lists ev under "Inserted events:" or
   "Active events:" (section is one of those two strings). */
static bool dump_lists(struct event_base *base, const struct event *ev, const char *section)
{
    char *dump = NULL, key[64];
    size_t size = 0;
    FILE *f = open_memstream(&dump, &size);
    ck_assert_ptr_nonnull(f);
    event_base_dump_events(base, f);
    fclose(f);
    snprintf(key, sizeof key, "  %p [", (const void *)ev);
    char *inserted = strstr(dump, "Inserted events:\n");
    char *active = strstr(dump, "Active events:\n");
    ck_assert_ptr_nonnull(inserted);
    ck_assert_ptr_nonnull(active);
    *active = '\0'; /* split the two sections */
    bool found = strcmp(section, "Active events:") == 0 ? strstr(active + 1, key) != NULL
                                                        : strstr(inserted, key) != NULL;
    free(dump);
    return found;
}

static void free_actors(struct actor *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        event_free(a[i].ev);
}

/* --- The loop -------------------------------------------------------------- */

START_TEST(empty_base_dispatch_returns_1)
{
    struct event_base *base = new_base(1);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 1);
    ck_assert_int_eq(event_base_loop(base, EVLOOP_NONBLOCK), 1);
    event_base_free(base);
}
END_TEST

static void on_read_ready(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)arg;
    record(what & EV_READ ? "read" : "other");
}

/* Lesson 02: a ready fd makes its event active only when the loop polls. */
START_TEST(readiness_is_noticed_only_when_the_loop_polls)
{
    int fds[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    struct event_base *base = new_base(1);
    struct event *ev = event_new(base, fds[0], EV_READ, on_read_ready, NULL);
    ck_assert_int_eq(event_add(ev, NULL), 0);
    ck_assert_int_eq(write(fds[1], "x", 1), 1);

    /* Pending, not active: nothing has looked at the fd yet. */
    ck_assert(dump_lists(base, ev, "Inserted events:"));
    ck_assert(!dump_lists(base, ev, "Active events:"));

    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "read");
    event_free(ev);
    event_base_free(base);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

static struct event *observed;
static int pending_in_callback = -1;

static void on_observed(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    pending_in_callback = event_pending(observed, EV_READ | EV_WRITE | EV_TIMEOUT, NULL);
}

/* Lesson 02: libevent deletes a non-persistent event before its callback. */
START_TEST(nonpersistent_event_is_nonpending_in_its_callback)
{
    int fds[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    struct event_base *base = new_base(1);
    observed = event_new(base, fds[0], EV_READ, on_observed, NULL);
    const struct timeval hour = { 3600, 0 };
    ck_assert_int_eq(event_add(observed, &hour), 0);
    ck_assert_int_eq(write(fds[1], "x", 1), 1);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_int_eq(pending_in_callback, 0);
    event_free(observed);
    event_base_free(base);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

/* Lesson 02: while an event is active, event_pending() also reports the
   flags it was activated with, so it cannot tell pending from active; the
   dump can (this is why the event2 probe reads it). */
START_TEST(event_pending_mixes_in_active_result_flags)
{
    struct event_base *base = new_base(1);
    struct event *ev = event_new(base, -1, 0, on_read_ready, NULL);
    ck_assert_int_eq(event_pending(ev, EV_READ, NULL), 0);
    event_active(ev, EV_READ, 0);
    ck_assert_int_eq(event_pending(ev, EV_READ, NULL), EV_READ); /* not added, yet "pending" */

    ck_assert(dump_lists(base, ev, "Active events:"));
    ck_assert(!dump_lists(base, ev, "Inserted events:"));

    ck_assert_int_eq(event_base_dispatch(base), 1);
    event_free(ev);
    event_base_free(base);
}
END_TEST

static struct event *running_seen;
static void on_running(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    running_seen = event_base_get_running_event(arg);
}

START_TEST(running_event_is_the_callbacks_own)
{
    struct event_base *base = new_base(1);
    struct event *ev = event_new(base, -1, 0, on_running, base);
    event_active(ev, 0, 0);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_ptr_eq(running_seen, ev);
    event_free(ev);
    event_base_free(base);
}
END_TEST

/* --- Priorities ------------------------------------------------------------ */

START_TEST(default_priority_is_the_middle_one)
{
    for (int n = 1; n <= 6; n++) {
        struct event_base *base = new_base(n);
        struct event *ev = event_new(base, -1, 0, on_actor, NULL);
        ck_assert_int_eq(event_get_priority(ev), n / 2);
        event_free(ev);
        event_base_free(base);
    }
}
END_TEST

START_TEST(lower_priority_number_runs_first)
{
    struct event_base *base = new_base(3);
    struct actor a[3];
    actor_init(&a[0], base, "p2", 2);
    actor_init(&a[1], base, "p1", 1);
    actor_init(&a[2], base, "p0", 0);
    for (int i = 0; i < 3; i++)
        activate(&a[i]);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "p0 p1 p2");
    free_actors(a, 3);
    event_base_free(base);
}
END_TEST

START_TEST(equal_priority_runs_in_activation_order)
{
    struct event_base *base = new_base(3);
    struct actor a[4];
    const char *names[] = { "c", "a", "d", "b" };
    for (int i = 0; i < 4; i++)
        actor_init(&a[i], base, names[i], 1);
    for (int i = 0; i < 4; i++)
        activate(&a[i]);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "c a d b");
    free_actors(a, 4);
    event_base_free(base);
}
END_TEST

static void activate_data(struct actor *self)
{
    if (self->data != NULL) {
        activate(self->data);
        self->data = NULL;
    }
}

/* normal1 and normal2 (priority 1) are active; normal1's callback activates
   a third event of the given priority. Returns the order of the callbacks. */
static const char *activation_from_a_callback(const char *name, int priority)
{
    struct event_base *base = new_base(3);
    struct actor third, normal1, normal2;
    actor_init(&third, base, name, priority);
    actor_init(&normal1, base, "normal1", 1);
    actor_init(&normal2, base, "normal2", 1);
    normal1.action = activate_data;
    normal1.data = &third;
    activate(&normal1);
    activate(&normal2);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    event_free(third.ev);
    event_free(normal1.ev);
    event_free(normal2.ev);
    event_base_free(base);
    return order;
}

/* Lesson 05: activated from a callback, a higher-priority event runs next,
   before the rest of the queue being run. */
START_TEST(higher_priority_activated_in_callback_runs_next)
{
    ck_assert_str_eq(activation_from_a_callback("urgent", 0), "normal1 urgent normal2");
}
END_TEST

/* ... while one of lower priority waits for the next pass. */
START_TEST(lower_priority_activated_in_callback_waits)
{
    ck_assert_str_eq(activation_from_a_callback("low", 2), "normal1 normal2 low");
}
END_TEST

START_TEST(priority_cannot_change_while_active)
{
    struct event_base *base = new_base(3);
    struct actor a;
    actor_init(&a, base, "a", 2);
    activate(&a);
    ck_assert_int_eq(event_priority_set(a.ev, 0), -1);
    ck_assert_int_eq(event_get_priority(a.ev), 2);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_int_eq(event_priority_set(a.ev, 0), 0);
    event_free(a.ev);
    event_base_free(base);
}
END_TEST

static void delete_data(struct actor *self)
{
    struct actor *victim = self->data;
    ck_assert_int_eq(event_del(victim->ev), 0);
}

/* Lesson 05: event_del() takes an active event off the active queue. */
START_TEST(deleted_active_event_never_runs)
{
    struct event_base *base = new_base(3);
    struct actor killer, victim, bystander;
    actor_init(&killer, base, "killer", 0);
    actor_init(&victim, base, "victim", 2);
    actor_init(&bystander, base, "bystander", 2);
    killer.action = delete_data;
    killer.data = &victim;
    activate(&victim);
    activate(&bystander);
    activate(&killer);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "killer bystander");
    event_free(killer.ev);
    event_free(victim.ev);
    event_free(bystander.ev);
    event_base_free(base);
}
END_TEST

/* The notes' event1 pitfall: event_base_set() puts the event back at the
   base's middle priority. */
START_TEST(event_base_set_resets_priority)
{
    struct event_base *base = new_base(5);
    struct event ev;
    event_assign(&ev, base, -1, 0, on_actor, NULL);
    ck_assert_int_eq(event_priority_set(&ev, 0), 0);
    ck_assert_int_eq(event_base_set(base, &ev), 0);
    ck_assert_int_eq(event_get_priority(&ev), 2);
    event_base_free(base);
}
END_TEST

/* --- Stopping the loop ------------------------------------------------------ */

static void loopexit_action(struct actor *self)
{
    ck_assert_int_eq(event_base_loopexit(self->base, NULL), 0);
}

static void loopbreak_action(struct actor *self)
{
    ck_assert_int_eq(event_base_loopbreak(self->base), 0);
}

/* Five events at three priorities, all active; the stopper (priority
   stopper_priority, activated first of its priority) stops the loop.
   Returns the order the callbacks ran in. */
static const char *stop_run(void (*stop)(struct actor *), int stopper_priority,
                            char *after, size_t after_size)
{
    struct event_base *base = new_base(3);
    struct actor a[5];
    actor_init(&a[0], base, "stopper", stopper_priority);
    actor_init(&a[1], base, "p0", 0);
    actor_init(&a[2], base, "p1", 1);
    actor_init(&a[3], base, "p2", 2);
    actor_init(&a[4], base, "p2b", 2);
    a[0].action = stop;
    for (int i = 0; i < 5; i++)
        activate(&a[i]);
    ck_assert_int_eq(event_base_dispatch(base), 0);
    static char during[512];
    snprintf(during, sizeof during, "%s", order);

    /* What was left active runs on the next loop. */
    order[0] = '\0';
    ck_assert_int_eq(event_base_loop(base, EVLOOP_NONBLOCK), 1);
    snprintf(after, after_size, "%s", order);
    free_actors(a, 5);
    event_base_free(base);
    return during;
}

/* Lesson 06: loopbreak returns right after the current callback, at any
   priority; whatever else was active stays active. */
START_TEST(loopbreak_runs_nothing_after_the_current_callback)
{
    char after[512];
    ck_assert_str_eq(stop_run(loopbreak_action, 0, after, sizeof after), "stopper");
    ck_assert_str_eq(after, "p0 p1 p2 p2b");
    ck_assert_str_eq(stop_run(loopbreak_action, 2, after, sizeof after), "p0 p1 stopper");
    ck_assert_str_eq(after, "p2 p2b");
}
END_TEST

/* Lesson 06: loopexit(NULL) schedules an internal callback at the base's
   middle priority; the loop ends after the pass that runs it. From a
   priority-0 callback: the rest of priority 0 and all of priority 1 run,
   priority 2 does not. */
START_TEST(loopexit_from_high_priority_stops_below_the_middle)
{
    char after[512];
    ck_assert_str_eq(stop_run(loopexit_action, 0, after, sizeof after), "stopper p0 p1");
    ck_assert_str_eq(after, "p2 p2b");
}
END_TEST

/* Lesson 06: from a priority-2 callback the internal exit callback
   (priority 1) outranks the rest of priority 2, so events already active
   at the stopper's own priority do not run: libevent's book says they do. */
START_TEST(loopexit_from_low_priority_skips_the_rest_of_its_queue)
{
    char after[512];
    ck_assert_str_eq(stop_run(loopexit_action, 2, after, sizeof after), "p0 p1 stopper");
    ck_assert_str_eq(after, "p2 p2b");
}
END_TEST

/* With one priority, loopexit(NULL) lets every already-active callback run. */
START_TEST(loopexit_with_one_priority_runs_all_active)
{
    struct event_base *base = new_base(1);
    struct actor a[3];
    actor_init(&a[0], base, "a", -1);
    actor_init(&a[1], base, "stopper", -1);
    actor_init(&a[2], base, "c", -1);
    a[1].action = loopexit_action;
    for (int i = 0; i < 3; i++)
        activate(&a[i]);
    ck_assert_int_eq(event_base_dispatch(base), 0);
    ck_assert_str_eq(order, "a stopper c");
    ck_assert_int_eq(event_base_got_exit(base), 1);
    ck_assert_int_eq(event_base_got_break(base), 0);
    free_actors(a, 3);
    event_base_free(base);
}
END_TEST

static void on_never_read(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    record("never");
}

/* Lesson 06: loopexit before the loop runs is remembered (the loop makes one
   pass and returns); loopbreak before the loop runs is forgotten, because
   every loop starts by clearing it. */
START_TEST(loopexit_before_dispatch_is_remembered_loopbreak_is_not)
{
    int fds[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    struct event_base *base = new_base(1);
    struct event *keeper = event_new(base, fds[0], EV_READ, on_never_read, NULL);
    ck_assert_int_eq(event_add(keeper, NULL), 0); /* the loop never runs empty */
    struct actor t;
    actor_init(&t, base, "timer", -1);
    const struct timeval soon = { 0, 1000 };

    ck_assert_int_eq(event_base_loopexit(base, NULL), 0);
    ck_assert_int_eq(event_base_dispatch(base), 0);
    ck_assert_int_eq(event_base_got_exit(base), 1);
    ck_assert_str_eq(order, "");

    ck_assert_int_eq(event_base_loopbreak(base), 0);
    ck_assert_int_eq(event_add(t.ev, &soon), 0);
    /* The break is forgotten: EVLOOP_ONCE waits for the timer and runs it. */
    ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 0);
    ck_assert_int_eq(event_base_got_break(base), 0);
    ck_assert_str_eq(order, "timer");

    event_free(t.ev);
    event_free(keeper);
    event_base_free(base);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

START_TEST(got_exit_and_got_break_last_until_the_next_loop)
{
    struct event_base *base = new_base(1);
    struct actor a;
    actor_init(&a, base, "stopper", -1);
    a.action = loopbreak_action;
    activate(&a);
    ck_assert_int_eq(event_base_dispatch(base), 0);
    ck_assert_int_eq(event_base_got_break(base), 1);
    ck_assert_int_eq(event_base_got_break(base), 1); /* reading does not clear it */
    ck_assert_int_eq(event_base_loop(base, EVLOOP_NONBLOCK), 1);
    ck_assert_int_eq(event_base_got_break(base), 0);
    event_free(a.ev);
    event_base_free(base);
}
END_TEST

/* Lesson 06: EVLOOP_NONBLOCK does not wait, but it runs active events of
   every priority, pass after pass, until none is left; it returns 1 if
   nothing is then added, 0 otherwise. libevent's book sketches the loop as
   stopping after one pass. */
START_TEST(evloop_nonblock_runs_every_priority_without_waiting)
{
    int fds[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    struct event_base *base = new_base(3);
    struct actor a[3];
    actor_init(&a[0], base, "p2", 2);
    actor_init(&a[1], base, "p1", 1);
    actor_init(&a[2], base, "p0", 0);
    for (int i = 0; i < 3; i++)
        activate(&a[i]);
    ck_assert_int_eq(event_base_loop(base, EVLOOP_NONBLOCK), 1);
    ck_assert_str_eq(order, "p0 p1 p2");

    /* Something added but not ready: returns 0 at once, runs nothing. */
    struct event *keeper = event_new(base, fds[0], EV_READ, on_never_read, NULL);
    ck_assert_int_eq(event_add(keeper, NULL), 0);
    order[0] = '\0';
    ck_assert_int_eq(event_base_loop(base, EVLOOP_NONBLOCK), 0);
    ck_assert_str_eq(order, "");

    event_free(keeper);
    free_actors(a, 3);
    event_base_free(base);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

/* Lesson 06: EVLOOP_ONCE waits until something is active, then runs all
   active events of every priority before it returns 0. */
START_TEST(evloop_once_waits_then_runs_every_priority)
{
    int fds[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    struct event_base *base = new_base(3);
    struct event *keeper = event_new(base, fds[0], EV_READ, on_never_read, NULL);
    ck_assert_int_eq(event_add(keeper, NULL), 0);
    struct actor timer, p0, p2;
    actor_init(&timer, base, "timer", 1);
    actor_init(&p0, base, "p0", 0);
    actor_init(&p2, base, "p2", 2);
    const struct timeval soon = { 0, 5000 };
    ck_assert_int_eq(event_add(timer.ev, &soon), 0);
    ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 0);
    ck_assert_str_eq(order, "timer");

    order[0] = '\0';
    activate(&p2);
    activate(&p0);
    ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 0);
    ck_assert_str_eq(order, "p0 p2");

    event_free(keeper);
    event_free(timer.ev);
    event_free(p0.ev);
    event_free(p2.ev);
    event_base_free(base);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

/* --- Timers ----------------------------------------------------------------- */

static void on_noop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    record("ran");
}

/* Lesson 03: EV_TIMEOUT given to event_new() means nothing: event_add()
   without a timeout succeeds and leaves the event non-pending. */
START_TEST(ev_timeout_flag_alone_waits_for_nothing)
{
    struct event_base *base = new_base(1);
    struct event *ev = event_new(base, -1, EV_TIMEOUT, on_noop, NULL);
    ck_assert_int_eq(event_add(ev, NULL), 0);
    ck_assert_int_eq(event_pending(ev, EV_TIMEOUT | EV_READ | EV_WRITE | EV_SIGNAL, NULL), 0);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "");
    event_free(ev);
    event_base_free(base);
}
END_TEST

/* Timers with different timeouts run in deadline order, even when they
   expire in the same loop iteration. */
START_TEST(timers_run_in_deadline_order)
{
    struct event_base *base = new_base(1);
    struct actor a[3];
    actor_init(&a[0], base, "30ms", -1);
    actor_init(&a[1], base, "10ms", -1);
    actor_init(&a[2], base, "20ms", -1);
    const struct timeval t30 = { 0, 30000 }, t10 = { 0, 10000 }, t20 = { 0, 20000 };
    ck_assert_int_eq(event_add(a[0].ev, &t30), 0);
    ck_assert_int_eq(event_add(a[1].ev, &t10), 0);
    ck_assert_int_eq(event_add(a[2].ev, &t20), 0);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "10ms 20ms 30ms");
    free_actors(a, 3);
    event_base_free(base);
}
END_TEST

struct persist_check {
    struct event *ev;
    struct timeval interval;
    struct timeval previous_deadline;
    int calls, on_time, late;
    bool sleep_first;
};

static long long usec(const struct timeval *tv)
{
    return (long long)tv->tv_sec * 1000000 + tv->tv_usec;
}

static void on_persist(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct persist_check *c = arg;
    struct timeval deadline, now;
    /* Already pending again: libevent re-armed it before calling us. */
    ck_assert_int_eq(event_pending(c->ev, EV_TIMEOUT, &deadline), EV_TIMEOUT);
    ck_assert_int_eq(event_base_gettimeofday_cached(event_get_base(c->ev), &now), 0);
    /* The rule (event_persist_closure): the next deadline is the previous
       one plus the interval, unless that is already past; then it is now
       plus the interval. */
    long long expected = usec(&c->previous_deadline) + usec(&c->interval);
    if (expected < usec(&now)) {
        expected = usec(&now) + usec(&c->interval);
        c->late++;
    } else {
        c->on_time++;
    }
    ck_assert_msg(usec(&deadline) == expected, "deadline %lld, expected %lld", usec(&deadline),
                  expected);
    c->previous_deadline = deadline;
    if (++c->calls == 3)
        ck_assert_int_eq(event_del(c->ev), 0);
    else if (c->sleep_first) {
        /* Miss the next deadline on purpose: load can only make it later. */
        struct timespec nap = { 0, 3 * usec(&c->interval) * 1000 };
        nanosleep(&nap, NULL);
    }
}

static void run_persistent_timer(struct persist_check *c)
{
    struct event_base *base = new_base(1);
    c->ev = event_new(base, -1, EV_PERSIST, on_persist, c);
    ck_assert_int_eq(event_add(c->ev, &c->interval), 0);
    ck_assert_int_eq(event_pending(c->ev, EV_TIMEOUT, &c->previous_deadline), EV_TIMEOUT);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_int_eq(c->calls, 3);
    event_free(c->ev);
    event_base_free(base);
}

/* Lesson 03: a persistent timer is pending again inside its callback, and
   its next deadline is the previous deadline plus the interval (no drift)
   when it runs on time. */
START_TEST(persistent_timer_rearms_from_its_previous_deadline)
{
    struct persist_check c = { .interval = { 0, 20000 } };
    run_persistent_timer(&c);
    ck_assert_int_eq(c.on_time + c.late, 3);
}
END_TEST

/* ... and from now when it is late, so a slow callback does not cause a
   burst of catch-up calls. */
START_TEST(persistent_timer_late_rearms_from_now)
{
    struct persist_check c = { .interval = { 0, 5000 }, .sleep_first = true };
    run_persistent_timer(&c);
    ck_assert_int_ge(c.late, 2); /* the calls after each sleep */
}
END_TEST

struct idle_check {
    struct event *ev;
    int fd;
    int reads, timeouts;
    long long deadline_minus_now;
};

static void on_idle_read(evutil_socket_t fd, short what, void *arg)
{
    struct idle_check *c = arg;
    struct timeval deadline, now;
    if (what & EV_READ) {
        char buf[8];
        ck_assert_int_eq(read(fd, buf, sizeof buf), 1);
        c->reads++;
        ck_assert_int_eq(event_pending(c->ev, EV_TIMEOUT, &deadline), EV_TIMEOUT);
        ck_assert_int_eq(event_base_gettimeofday_cached(event_get_base(c->ev), &now), 0);
        c->deadline_minus_now = usec(&deadline) - usec(&now);
    }
    if (what & EV_TIMEOUT)
        c->timeouts++;
    ck_assert_int_eq(event_del(c->ev), 0);
}

/* A persistent I/O event with a timeout: activity restarts the timeout
   from now (an idle timeout). */
START_TEST(persistent_read_timeout_restarts_on_activity)
{
    int fds[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    struct event_base *base = new_base(1);
    struct idle_check c = { 0 };
    c.ev = event_new(base, fds[0], EV_READ | EV_PERSIST, on_idle_read, &c);
    const struct timeval idle = { 7, 0 };
    ck_assert_int_eq(event_add(c.ev, &idle), 0);
    ck_assert_int_eq(write(fds[1], "x", 1), 1);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_int_eq(c.reads, 1);
    ck_assert_int_eq(c.deadline_minus_now, 7 * 1000000LL);
    event_free(c.ev);
    event_base_free(base);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

static int persist_deleting_calls;
static void on_delete_self(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    if (++persist_deleting_calls == 2)
        ck_assert_int_eq(event_del(*(struct event **)arg), 0);
}

/* Lesson 03: event_del() inside its own callback stops a persistent event. */
START_TEST(persistent_event_deleted_in_its_callback_stops)
{
    struct event_base *base = new_base(1);
    struct event *ev;
    ev = event_new(base, -1, EV_PERSIST, on_delete_self, &ev);
    const struct timeval every = { 0, 1000 };
    ck_assert_int_eq(event_add(ev, &every), 0);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_int_eq(persist_deleting_calls, 2);
    event_free(ev);
    event_base_free(base);
}
END_TEST

static void on_once_record(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    record(what == EV_TIMEOUT ? arg : "bad-flags");
}

/* Lesson 03: event_base_once() with a NULL timeout runs in the next loop
   iteration, before timers; with a timeout, like any timer. */
START_TEST(event_once_runs_once)
{
    struct event_base *base = new_base(1);
    const struct timeval soon = { 0, 1000 };
    struct actor timer;
    actor_init(&timer, base, "timer", -1);
    ck_assert_int_eq(event_add(timer.ev, &soon), 0);
    ck_assert_int_eq(event_base_once(base, -1, EV_TIMEOUT, on_once_record, "once-timed", &soon), 0);
    ck_assert_int_eq(event_base_once(base, -1, EV_TIMEOUT, on_once_record, "once-now", NULL), 0);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "once-now timer once-timed");
    event_free(timer.ev);
    event_base_free(base);
}
END_TEST

/* Since 2.1.2 event_base_free() frees event_base_once() events that never
   ran (make sanitize and make memcheck would report the leak). */
START_TEST(event_base_free_frees_pending_once_events)
{
    struct event_base *base = new_base(1);
    const struct timeval hour = { 3600, 0 };
    ck_assert_int_eq(event_base_once(base, -1, EV_TIMEOUT, on_once_record, "never", &hour), 0);
    event_base_free(base);
    ck_assert_str_eq(order, "");
}
END_TEST

/* --- Signals ---------------------------------------------------------------- */

static int signal_calls;
static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    (void)arg;
    signal_calls++;
}

/* Lesson 04: raise() returns with the event still only pending; the
   callback runs from the loop. */
START_TEST(signal_callback_runs_from_the_loop)
{
    struct event_base *base = new_base(1);
    struct event *ev = evsignal_new(base, SIGUSR2, on_signal, NULL);
    ck_assert_int_eq(event_add(ev, NULL), 0);
    ck_assert_int_eq(raise(SIGUSR2), 0);
    ck_assert_int_eq(signal_calls, 0);
    ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 0);
    ck_assert_int_eq(signal_calls, 1);
    event_free(ev);
    event_base_free(base);
}
END_TEST

/* Lesson 04: two deliveries before the loop looks give one activation that
   calls the callback twice (libevent counts them). */
START_TEST(signal_raised_twice_calls_back_twice)
{
    struct event_base *base = new_base(1);
    struct event *ev = evsignal_new(base, SIGUSR2, on_signal, NULL);
    ck_assert_int_eq(event_add(ev, NULL), 0);
    ck_assert_int_eq(raise(SIGUSR2), 0);
    ck_assert_int_eq(raise(SIGUSR2), 0);
    ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 0);
    ck_assert_int_eq(signal_calls, 2);
    event_free(ev);
    event_base_free(base);
}
END_TEST

/* --- event1 calls on libevent 2.1 -------------------------------------------- */

/* Lesson 02: event_set() takes the base event_init() made; without one the
   event cannot be added. (Check runs each test in a fresh process, so no
   event_init() has happened here.) */
static void quiet_log(int severity, const char *msg)
{
    (void)severity;
    (void)msg;
}

START_TEST(event_set_without_event_init_cannot_be_added)
{
    event_set_log_callback(quiet_log); /* libevent warns about the first add */
    struct event ev;
    event_set(&ev, -1, 0, on_noop, NULL);
    const struct timeval soon = { 0, 1000 };
    ck_assert_int_eq(event_add(&ev, &soon), -1);

    struct event_base *base = event_base_new();
    ck_assert_int_eq(event_base_set(base, &ev), 0);
    ck_assert_int_eq(event_add(&ev, &soon), 0);
    ck_assert_int_eq(event_base_set(base, &ev), -1); /* not while pending */
    ck_assert_int_eq(event_del(&ev), 0);
    event_base_free(base);
}
END_TEST

Suite *semantics_suite(void)
{
    Suite *s = suite_create("semantics");
    struct {
        const char *name;
        const TTest *tests[12];
    } cases[] = {
        { "loop", { empty_base_dispatch_returns_1, readiness_is_noticed_only_when_the_loop_polls,
                    nonpersistent_event_is_nonpending_in_its_callback,
                    event_pending_mixes_in_active_result_flags, running_event_is_the_callbacks_own } },
        { "priorities", { default_priority_is_the_middle_one, lower_priority_number_runs_first,
                          equal_priority_runs_in_activation_order,
                          higher_priority_activated_in_callback_runs_next,
                          lower_priority_activated_in_callback_waits,
                          priority_cannot_change_while_active, deleted_active_event_never_runs,
                          event_base_set_resets_priority } },
        { "stopping", { loopbreak_runs_nothing_after_the_current_callback,
                        loopexit_from_high_priority_stops_below_the_middle,
                        loopexit_from_low_priority_skips_the_rest_of_its_queue,
                        loopexit_with_one_priority_runs_all_active,
                        loopexit_before_dispatch_is_remembered_loopbreak_is_not,
                        got_exit_and_got_break_last_until_the_next_loop,
                        evloop_nonblock_runs_every_priority_without_waiting,
                        evloop_once_waits_then_runs_every_priority } },
        { "timers", { ev_timeout_flag_alone_waits_for_nothing, timers_run_in_deadline_order,
                      persistent_timer_rearms_from_its_previous_deadline,
                      persistent_timer_late_rearms_from_now,
                      persistent_read_timeout_restarts_on_activity,
                      persistent_event_deleted_in_its_callback_stops, event_once_runs_once,
                      event_base_free_frees_pending_once_events } },
        { "signals", { signal_callback_runs_from_the_loop, signal_raised_twice_calls_back_twice } },
        { "event1", { event_set_without_event_init_cannot_be_added } },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_set_timeout(tc, 20);
        for (size_t j = 0; j < 12 && cases[i].tests[j] != NULL; j++)
            tcase_add_test(tc, cases[i].tests[j]);
        suite_add_tcase(s, tc);
    }
    return s;
}

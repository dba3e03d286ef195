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
#include "util.h"

#include <event.h> /* the 1.x calls are checked too (event_set, ...) */
#include <event2/event.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
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

/* Lesson 01: with nothing added or active, every loop returns 1 at once,
   in both styles. */
START_TEST(empty_base_dispatch_returns_1)
{
    struct event_base *base = new_base(1);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 1);
    ck_assert_int_eq(event_base_loop(base, EVLOOP_NONBLOCK), 1);
    event_base_free(base);

    base = event_init();
    ck_assert_int_eq(event_dispatch(), 1);
    ck_assert_int_eq(event_loop(EVLOOP_ONCE), 1);
    ck_assert_int_eq(event_loop(EVLOOP_NONBLOCK), 1);
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
static int pending_in_callback = -1, observed_calls;

static void on_observed(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    if (++observed_calls == 1) {
        pending_in_callback = event_pending(observed, EV_READ | EV_WRITE | EV_TIMEOUT, NULL);
        /* Added again, the byte still unread: it fires again. */
        ck_assert_int_eq(event_add(observed, NULL), 0);
    }
}

/* Lesson 02: libevent deletes a non-persistent event before its callback,
   so the callback may add it again; with the fd still readable, it then
   fires again. */
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
    ck_assert_int_eq(observed_calls, 2);
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

/* A new event gets the middle priority, n/2 of n: from event_new() on its
   base, and from event_set() on the current base (event1 style). */
START_TEST(default_priority_is_the_middle_one)
{
    for (int n = 1; n <= 6; n++) {
        struct event_base *base = new_base(n);
        struct event *ev = event_new(base, -1, 0, on_actor, NULL);
        ck_assert_int_eq(event_get_priority(ev), n / 2);
        event_free(ev);
        event_base_free(base);

        base = event_init();
        ck_assert_int_eq(event_priority_init(n), 0);
        struct event old;
        event_set(&old, -1, 0, on_actor, NULL);
        ck_assert_int_eq(event_get_priority(&old), n / 2);
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

/* libevent 2.1.12 keeps one first-in first-out queue per priority: events
   of equal priority run in the order they were made active, not the order
   they were made in (nor their addresses, nor their names). The API does
   not promise this: libevent's book says it defines no order for events
   that trigger at the same time. */
START_TEST(equal_priority_runs_in_activation_order)
{
    struct event_base *base = new_base(3);
    struct actor a[4];
    const char *names[] = { "a", "b", "c", "d" };
    for (int i = 0; i < 4; i++)
        actor_init(&a[i], base, names[i], 1);
    const int activation[] = { 2, 0, 3, 1 };
    for (int i = 0; i < 4; i++)
        activate(&a[activation[i]]);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "c a d b");
    free_actors(a, 4);
    event_base_free(base);
}
END_TEST

/* Activates the actor in data once, then records "returned": had the
   activated callback run inside event_active(), it would come first. */
static void activate_data(struct actor *self)
{
    if (self->data != NULL) {
        activate(self->data);
        self->data = NULL;
        record("returned");
    }
}

/* normal1 and normal2 (priority 1) and p2 (priority 2) are active;
   normal1's callback activates a third event of the given priority.
   Returns the order of the callbacks. */
static const char *activation_from_a_callback(const char *name, int priority)
{
    struct event_base *base = new_base(3);
    struct actor third, normal1, normal2, p2;
    actor_init(&third, base, name, priority);
    actor_init(&normal1, base, "normal1", 1);
    actor_init(&normal2, base, "normal2", 1);
    actor_init(&p2, base, "p2", 2);
    normal1.action = activate_data;
    normal1.data = &third;
    activate(&p2);
    activate(&normal1);
    activate(&normal2);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    event_free(third.ev);
    event_free(normal1.ev);
    event_free(normal2.ev);
    event_free(p2.ev);
    event_base_free(base);
    return order;
}

/* Lesson 05: activated from a callback, a higher-priority event runs next,
   once that callback has returned, before the rest of the queue being run. */
START_TEST(higher_priority_activated_in_callback_runs_next)
{
    ck_assert_str_eq(activation_from_a_callback("urgent", 0), "normal1 returned urgent normal2 p2");
}
END_TEST

/* ... while one of lower priority waits behind everything more urgent, and
   behind what was active at its own priority before it. */
START_TEST(lower_priority_activated_in_callback_waits)
{
    ck_assert_str_eq(activation_from_a_callback("low", 2), "normal1 returned normal2 p2 low");
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
   pass, running what is active, and returns); loopbreak before the loop
   runs is forgotten, because every loop starts by clearing it. */
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
    struct actor waiting;
    actor_init(&waiting, base, "waiting", -1);
    activate(&waiting);

    ck_assert_int_eq(event_base_loopexit(base, NULL), 0);
    ck_assert_int_eq(event_base_dispatch(base), 0);
    ck_assert_int_eq(event_base_got_exit(base), 1);
    ck_assert_str_eq(order, "waiting"); /* one pass, and keeper never fired */
    order[0] = '\0';

    ck_assert_int_eq(event_base_loopbreak(base), 0);
    ck_assert_int_eq(event_add(t.ev, &soon), 0);
    /* The break is forgotten: EVLOOP_ONCE waits for the timer and runs it. */
    ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 0);
    ck_assert_int_eq(event_base_got_break(base), 0);
    ck_assert_str_eq(order, "timer");

    event_free(t.ev);
    event_free(waiting.ev);
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
   active events of every priority before it returns 0, even when nothing
   is left added then (where EVLOOP_NONBLOCK returns 1). */
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

    order[0] = '\0';
    ck_assert_int_eq(event_del(keeper), 0);
    activate(&p0);
    ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 0); /* nothing added now */
    ck_assert_str_eq(order, "p0");

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

/* Each callback notes the loop's cached time: equal for callbacks run in
   the same loop iteration. */
static long long seen_at[3];
static int nseen;
static void note_time(struct actor *self)
{
    struct timeval now;
    ck_assert_int_eq(event_base_gettimeofday_cached(self->base, &now), 0);
    seen_at[nseen++] = (long long)now.tv_sec * 1000000 + now.tv_usec;
}

/* Timers with different timeouts run in deadline order, even when they
   expire in the same loop iteration: here all three have expired before
   the loop starts (it starts 60 ms after the adds), and one iteration runs
   them, in deadline order, not the order they were added in. */
START_TEST(timers_run_in_deadline_order)
{
    struct event_base *base = new_base(1);
    struct actor a[3];
    actor_init(&a[0], base, "30ms", -1);
    actor_init(&a[1], base, "10ms", -1);
    actor_init(&a[2], base, "20ms", -1);
    for (int i = 0; i < 3; i++)
        a[i].action = note_time;
    const struct timeval t30 = { 0, 30000 }, t10 = { 0, 10000 }, t20 = { 0, 20000 };
    ck_assert_int_eq(event_add(a[0].ev, &t30), 0);
    ck_assert_int_eq(event_add(a[1].ev, &t10), 0);
    ck_assert_int_eq(event_add(a[2].ev, &t20), 0);
    const struct timespec nap = { 0, 60 * 1000 * 1000 }; /* load can only make it longer */
    nanosleep(&nap, NULL);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "10ms 20ms 30ms");
    ck_assert_int_eq(nseen, 3);
    ck_assert(seen_at[0] == seen_at[1] && seen_at[1] == seen_at[2]); /* one iteration */
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

/* What a persistent event's callback sees: its deadline and the loop's
   cached time. */
struct rearm_seen {
    struct event *ev;
    long long deadline, now;
};

static void on_rearmed(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct rearm_seen *seen = arg;
    struct timeval deadline, now;
    ck_assert_int_eq(event_pending(seen->ev, EV_TIMEOUT, &deadline), EV_TIMEOUT);
    ck_assert_int_eq(event_base_gettimeofday_cached(event_get_base(seen->ev), &now), 0);
    seen->deadline = usec(&deadline);
    seen->now = usec(&now);
}

/* Lesson 03: a persistent timer is pending again inside its callback, and
   its next deadline is the previous deadline plus the interval (no drift)
   when it runs on time.

   Which rule applied cannot be seen from a timer that ran on time, since
   its deadline and "now" may be equal to the microsecond (libevent's clock
   is the coarse one, ticking every few ms). So first the loop's own step is
   made by hand, an hour early: a persistent timer made active with
   EV_TIMEOUT, as the loop does when its time comes, is re-armed to its
   deadline plus the interval, two hours from now; made active without
   EV_TIMEOUT (for another reason), to now plus the interval. Then three
   real 20 ms ticks each follow the rule, on time or late. */
START_TEST(persistent_timer_rearms_from_its_previous_deadline)
{
    struct event_base *base = new_base(1);
    struct rearm_seen seen = { 0 };
    seen.ev = event_new(base, -1, EV_PERSIST, on_rearmed, &seen);
    const struct timeval hour = { 3600, 0 };
    struct timeval deadline;
    ck_assert_int_eq(event_add(seen.ev, &hour), 0);
    ck_assert_int_eq(event_pending(seen.ev, EV_TIMEOUT, &deadline), EV_TIMEOUT);
    event_active(seen.ev, EV_TIMEOUT, 0);
    ck_assert_int_eq(event_base_loop(base, EVLOOP_NONBLOCK), 0);
    ck_assert_int_eq(seen.deadline, usec(&deadline) + usec(&hour));
    ck_assert_int_ge(seen.deadline - seen.now, 2 * usec(&hour) - 1000000); /* not now + 1 h */

    event_active(seen.ev, 0, 0);
    ck_assert_int_eq(event_base_loop(base, EVLOOP_NONBLOCK), 0);
    ck_assert_int_eq(seen.deadline, seen.now + usec(&hour));
    event_free(seen.ev);
    event_base_free(base);

    struct persist_check c = { .interval = { 0, 20000 } };
    run_persistent_timer(&c);
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
    long long deadline_minus_now, deadline;
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
        c->deadline = usec(&deadline);
    }
    if (what & EV_TIMEOUT)
        c->timeouts++;
    ck_assert_int_eq(event_del(c->ev), 0);
}

/* A persistent I/O event with a timeout: activity restarts the timeout
   from now (an idle timeout). The read comes 50 ms after the add, so the
   restarted deadline (now + 7 s) is later than the first one (add + 7 s)
   by that much, as libevent's clock sees it. */
START_TEST(persistent_read_timeout_restarts_on_activity)
{
    int fds[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    struct event_base *base = new_base(1);
    struct idle_check c = { 0 };
    c.ev = event_new(base, fds[0], EV_READ | EV_PERSIST, on_idle_read, &c);
    const struct timeval idle = { 7, 0 };
    struct timeval first;
    ck_assert_int_eq(event_add(c.ev, &idle), 0);
    ck_assert_int_eq(event_pending(c.ev, EV_TIMEOUT, &first), EV_TIMEOUT);
    const struct timespec nap = { 0, 50 * 1000 * 1000 };
    nanosleep(&nap, NULL);
    ck_assert_int_eq(write(fds[1], "x", 1), 1);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_int_eq(c.reads, 1);
    ck_assert_int_eq(c.deadline_minus_now, 7 * 1000000LL);
    ck_assert_int_ge(c.deadline - usec(&first), 40 * 1000); /* not the first deadline */
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

/* libevent's allocations, counted through event_set_mem_functions(): the
   blocks it holds now. */
static long blocks_held;

static void *counting_malloc(size_t size)
{
    void *p = malloc(size);
    if (p != NULL)
        blocks_held++;
    return p;
}

static void *counting_realloc(void *old, size_t size)
{
    void *p = realloc(old, size);
    if (p != NULL && old == NULL)
        blocks_held++;
    return p;
}

static void counting_free(void *p)
{
    if (p != NULL)
        blocks_held--;
    free(p);
}

/* What the child saw: blocks held before the base, with the base, with the
   once-event too, and after event_base_free() (-1: not freed). */
struct once_blocks {
    long before, with_base, with_once, after;
    char order[64];
};

static int once_blocks_fd;
static int in_child(void (*fn)(void *), void *arg);

static void count_once_blocks(void *arg)
{
    (void)arg;
    struct once_blocks seen = { .after = -1 };
    event_set_mem_functions(counting_malloc, counting_realloc, counting_free);
    seen.before = blocks_held;
    struct event_base *base = new_base(1);
    seen.with_base = blocks_held;
    const struct timeval hour = { 3600, 0 };
    if (event_base_once(base, -1, EV_TIMEOUT, on_once_record, "never", &hour) != 0)
        _exit(2);
    seen.with_once = blocks_held;
    event_base_free(base);
    seen.after = blocks_held;
    snprintf(seen.order, sizeof seen.order, "%s", order);
    if (write(once_blocks_fd, &seen, sizeof seen) != (ssize_t)sizeof seen)
        _exit(3);
}

/* Since 2.1.2 event_base_free() frees event_base_once() events that never
   ran. Counted in a child process (libevent's allocator can be replaced
   only before its first allocation): every block libevent took for the
   base and the once-event is given back, and the callback never ran. */
START_TEST(event_base_free_frees_pending_once_events)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    once_blocks_fd = fds[1];
    ck_assert_int_eq(in_child(count_once_blocks, NULL), 0);
    struct once_blocks seen;
    ck_assert_int_eq(read(fds[0], &seen, sizeof seen), (ssize_t)sizeof seen);
    close(fds[0]);
    close(fds[1]);
    ck_assert_int_gt(seen.with_base, seen.before);
    ck_assert_int_gt(seen.with_once, seen.with_base); /* the count sees the once-event */
    ck_assert_int_eq(seen.after, seen.before);
    ck_assert_str_eq(seen.order, "");
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

/* Lesson 02: event_set() takes the base event_init() made, the current
   base; event_base_new() does not make one, and without one the event
   cannot be added until event_base_set() names a base, which it must do
   before event_add(). (Check runs each test in a fresh process, so no
   event_init() has happened here.) */
static void quiet_log(int severity, const char *msg)
{
    (void)severity;
    (void)msg;
}

START_TEST(event_set_without_event_init_cannot_be_added)
{
    event_set_log_callback(quiet_log); /* libevent warns about the first add */
    struct event_base *base = event_base_new(); /* not a current base */
    struct event ev;
    event_set(&ev, -1, 0, on_noop, NULL);
    const struct timeval soon = { 0, 1000 };
    ck_assert_int_eq(event_add(&ev, &soon), -1);

    ck_assert_int_eq(event_base_set(base, &ev), 0);
    ck_assert_int_eq(event_add(&ev, &soon), 0);
    ck_assert_int_eq(event_base_set(base, &ev), -1); /* not while pending */
    ck_assert_int_eq(event_del(&ev), 0);
    event_base_free(base);
}
END_TEST

/* --- Lessons 01-07, exercises 01-02: more of what they teach ------------------ */

/* Run fn(arg) in a child process with no core dump and libevent's log
   silenced; return how the child ended: its exit status, or 128 + the
   signal that killed it. A call that may crash is made only there. */
static int in_child(void (*fn)(void *), void *arg)
{
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        const struct rlimit no_core = { 0, 0 };
        setrlimit(RLIMIT_CORE, &no_core);
        /* A sanitizer's handlers would turn a crash into an exit status. */
        signal(SIGSEGV, SIG_DFL);
        signal(SIGABRT, SIG_DFL);
        event_set_log_callback(quiet_log);
        fn(arg);
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

/* libevent's log, kept: the last message. */
static char last_log[512];
static void keep_log(int severity, const char *msg)
{
    (void)severity;
    snprintf(last_log, sizeof last_log, "%s", msg);
}

/* A base that ignores EVENT_* in the environment (EVENT_NOEPOLL, ...), so
   it has the backend this machine defaults to: epoll on Linux. */
static struct event_base *new_epoll_base(void)
{
    order[0] = '\0';
    struct event_config *cfg = event_config_new();
    ck_assert_ptr_nonnull(cfg);
    ck_assert_int_eq(event_config_set_flag(cfg, EVENT_BASE_FLAG_IGNORE_ENV), 0);
    struct event_base *base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    ck_assert_ptr_nonnull(base);
    ck_assert_str_eq(event_base_get_method(base), "epoll");
    return base;
}

/* Walkthrough 01, lesson 06: a loop started from a callback of its own
   base returns -1 at once, whatever its flags, and libevent logs why; the
   1.x calls on the current base do the same. The outer loop goes on. */
static int inner_results[4];
static void on_reenter(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct event_base *base = arg;
    inner_results[0] = event_base_dispatch(base);
    inner_results[1] = event_base_loop(base, EVLOOP_NONBLOCK);
    inner_results[2] = event_dispatch(); /* base is the current base */
    inner_results[3] = event_loop(EVLOOP_ONCE);
    record("outer");
}

START_TEST(loop_started_from_its_own_callback_returns_minus_1)
{
    event_set_log_callback(keep_log);
    order[0] = '\0';
    struct event_base *base = event_init();
    struct event ev;
    event_set(&ev, -1, 0, on_reenter, base);
    event_active(&ev, 0, 0);
    ck_assert_int_eq(event_dispatch(), 1);
    ck_assert_str_eq(order, "outer");
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(inner_results[i], -1);
    ck_assert_msg(strstr(last_log, "reentrant invocation") != NULL, "log: %s", last_log);
    event_base_free(base);
}
END_TEST

/* Walkthrough 01: the other -1, an error from the backend. With its epoll
   descriptor closed behind its back, epoll_wait() fails and the loop
   returns -1. */
START_TEST(loop_returns_minus_1_when_the_backend_fails)
{
    event_set_log_callback(keep_log);
    int fds[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    enum { MAX_FD = 1024 };
    static bool open_before[MAX_FD];
    for (int fd = 0; fd < MAX_FD; fd++)
        open_before[fd] = fcntl(fd, F_GETFD) != -1;
    struct event_base *base = new_epoll_base();
    struct event *ev = event_new(base, fds[0], EV_READ, on_never_read, NULL);
    ck_assert_int_eq(event_add(ev, NULL), 0);
    /* The base's epoll descriptor: the eventpoll it opened. */
    int closed = 0;
    for (int fd = 0; fd < MAX_FD; fd++) {
        char path[64], target[64] = "";
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (!open_before[fd] && n > 0 && strstr(target, "eventpoll") != NULL) {
            ck_assert_int_eq(close(fd), 0);
            closed++;
        }
    }
    ck_assert_int_eq(closed, 1);
    ck_assert_int_eq(event_base_dispatch(base), -1);
    ck_assert_str_eq(order, "");
    ck_assert_msg(strstr(last_log, "epoll_wait") != NULL, "log: %s", last_log);
    event_free(ev);
    event_base_free(base);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

/* event2/README: event_base_get_running_event() outside a callback. The
   header says only that its behaviour is not defined; 2.1.12 dereferences
   the base's current callback, which is NULL there: SIGSEGV, before the
   loop has ever run and after it has. */
static void running_event_before_any_loop(void *arg)
{
    (void)arg;
    struct event_base *base = event_base_new();
    (void)event_base_get_running_event(base);
    _exit(0); /* not reached on 2.1.12 */
}

static void running_event_after_a_loop(void *arg)
{
    (void)arg;
    struct event_base *base = event_base_new();
    struct event *ev = event_new(base, -1, 0, on_running, base);
    event_active(ev, 0, 0);
    if (event_base_dispatch(base) != 1 || running_seen != ev)
        _exit(2); /* inside its callback it answered */
    (void)event_base_get_running_event(base);
    _exit(0);
}

START_TEST(running_event_outside_a_callback_crashes)
{
    ck_assert_int_eq(in_child(running_event_before_any_loop, NULL), 128 + SIGSEGV);
    ck_assert_int_eq(in_child(running_event_after_a_loop, NULL), 128 + SIGSEGV);
}
END_TEST

/* Exercise 02, walkthrough 05: event_priority_init() (and
   event_base_priority_init(), which it calls on the current base) fails
   only while some event is active, or for a count outside 1..255. After
   event_set(), with an event pending, after a loop: it works. */
START_TEST(priority_init_fails_only_while_an_event_is_active)
{
    int fds[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    order[0] = '\0';
    struct event_base *base = event_init();
    struct event user, reader;
    event_set(&user, -1, 0, on_noop, NULL);
    ck_assert_int_eq(event_priority_init(3), 0); /* after event_set() */
    event_set(&reader, fds[0], EV_READ, on_never_read, NULL);
    ck_assert_int_eq(event_add(&reader, NULL), 0);
    ck_assert_int_eq(event_priority_init(4), 0); /* with an event pending */
    ck_assert_int_eq(event_base_get_npriorities(base), 4);

    event_active(&user, 0, 0);
    ck_assert_int_eq(event_priority_init(2), -1); /* while one is active */
    ck_assert_int_eq(event_base_priority_init(base, 2), -1);
    ck_assert_int_eq(event_base_get_npriorities(base), 4);

    ck_assert_int_eq(event_loop(EVLOOP_NONBLOCK), 0);
    ck_assert_str_eq(order, "ran");
    ck_assert_int_eq(event_priority_init(2), 0); /* after a loop */
    ck_assert_int_eq(event_base_get_npriorities(base), 2);

    ck_assert_int_eq(event_priority_init(0), -1);
    ck_assert_int_eq(event_priority_init(EVENT_MAX_PRIORITIES), -1);
    ck_assert_int_eq(event_priority_init(EVENT_MAX_PRIORITIES - 1), 0);
    ck_assert_int_eq(event_del(&reader), 0);
    event_base_free(base);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

/* Exercise 02, walkthrough 05: an event keeps the priority it was given
   when it was set up. One set up before event_priority_init(3) got the
   middle of the base's single priority, 0, and keeps it: it is now the
   most urgent, and runs before an event of the new middle priority that
   was activated first. The same holds for event_new(). */
START_TEST(events_set_up_before_priority_init_keep_their_priority)
{
    order[0] = '\0';
    struct event_base *base = event_init();
    struct event early, late;
    event_set(&early, -1, 0, on_once_record, "early");
    ck_assert_int_eq(event_priority_init(3), 0);
    event_set(&late, -1, 0, on_once_record, "late");
    ck_assert_int_eq(event_get_priority(&early), 0);
    ck_assert_int_eq(event_get_priority(&late), 1);
    event_active(&late, EV_TIMEOUT, 0);
    event_active(&early, EV_TIMEOUT, 0);
    ck_assert_int_eq(event_dispatch(), 1);
    ck_assert_str_eq(order, "early late");
    event_base_free(base);

    base = event_base_new();
    struct event *before = event_new(base, -1, 0, on_noop, NULL);
    ck_assert_int_eq(event_base_priority_init(base, 5), 0);
    struct event *after = event_new(base, -1, 0, on_noop, NULL);
    ck_assert_int_eq(event_get_priority(before), 0);
    ck_assert_int_eq(event_get_priority(after), 2);
    event_free(before);
    event_free(after);
    event_base_free(base);
}
END_TEST

/* Exercise 02: fewer priorities than before strand an event whose number
   is now out of range. event_priority_init() does not check, the event
   keeps its number (event_priority_set() would now refuse it), and making
   it active trips an assertion in libevent: the program aborts. */
static void activate_stranded_event(void *arg)
{
    struct event *stranded = arg;
    event_active(stranded, 0, 0);
    _exit(0); /* not reached on 2.1.12 */
}

START_TEST(fewer_priorities_strand_an_event_and_activating_it_aborts)
{
    struct event_base *base = new_base(5);
    struct event *ev = event_new(base, -1, 0, on_noop, NULL);
    ck_assert_int_eq(event_priority_set(ev, 4), 0);
    ck_assert_int_eq(event_base_priority_init(base, 2), 0);
    ck_assert_int_eq(event_base_get_npriorities(base), 2);
    ck_assert_int_eq(event_get_priority(ev), 4);
    ck_assert_int_eq(event_priority_set(ev, 4), -1);
    ck_assert_int_eq(in_child(activate_stranded_event, ev), 128 + SIGABRT);
    event_free(ev);
    event_base_free(base);
}
END_TEST

/* Lesson 02 and the order within one priority: activating an event that is
   already active does not move it, nor run it twice; it adds its flags. */
static void on_what(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    char flags[64];
    char entry[80];
    snprintf(entry, sizeof entry, "%s:%s", (const char *)arg, trace_flags(what, flags, sizeof flags));
    record(entry);
}

START_TEST(activating_an_active_event_again_keeps_its_place)
{
    struct event_base *base = new_base(1);
    struct event *a = event_new(base, -1, 0, on_what, "a");
    struct event *b = event_new(base, -1, 0, on_what, "b");
    event_active(a, EV_READ, 0);
    event_active(b, EV_READ, 0);
    event_active(a, EV_WRITE, 0);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "a:READ|WRITE b:READ");
    event_free(a);
    event_free(b);
    event_base_free(base);
}
END_TEST

/* Lesson 02: an event activated by hand before the loop runs before a read
   event of the same priority that the loop's first poll finds ready,
   although the fd was readable first. */
START_TEST(hand_activated_event_runs_before_io_the_poll_finds)
{
    int fds[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    struct event_base *base = new_base(1);
    struct event *reader = event_new(base, fds[0], EV_READ, on_read_ready, NULL);
    ck_assert_int_eq(event_add(reader, NULL), 0);
    ck_assert_int_eq(write(fds[1], "x", 1), 1);
    struct actor user;
    actor_init(&user, base, "user", -1);
    activate(&user);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "user read");
    event_free(user.ev);
    event_free(reader);
    event_base_free(base);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

/* Exercise 02 (hint 3): an event activated from a callback, at the priority
   being run, joins the end of that queue: it runs after what was already
   active there, and before anything of lower priority. */
START_TEST(same_priority_activated_in_callback_runs_at_the_end_of_its_queue)
{
    ck_assert_str_eq(activation_from_a_callback("same", 1), "normal1 returned normal2 same p2");
}
END_TEST

/* A read event on a socketpair whose callback records its name. */
struct reader {
    int fds[2];
    struct event *ev;
    const char *name;
};

static void on_reader(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct reader *r = arg;
    char byte;
    ck_assert_int_eq(read(fd, &byte, 1), 1);
    record(r->name);
}

static void reader_init(struct reader *r, struct event_base *base, const char *name, int priority)
{
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, r->fds), 0);
    r->name = name;
    r->ev = event_new(base, r->fds[0], EV_READ, on_reader, r);
    ck_assert_ptr_nonnull(r->ev);
    ck_assert_int_eq(event_priority_set(r->ev, priority), 0);
    ck_assert_int_eq(event_add(r->ev, NULL), 0);
}

static void reader_free(struct reader *r)
{
    event_free(r->ev);
    close(r->fds[0]);
    close(r->fds[1]);
}

static void write_to_reader(struct actor *self)
{
    struct reader *r = self->data;
    ck_assert_int_eq(write(r->fds[1], "x", 1), 1);
}

/* Walkthrough 05: the loop runs one priority's queue, then polls the
   kernel again before the next. A read event that became ready meanwhile
   (here, written to by the priority-0 callback) runs before lower
   priorities that were active all along. */
START_TEST(io_ready_after_a_pass_runs_before_lower_priorities)
{
    struct event_base *base = new_base(3);
    struct reader r;
    reader_init(&r, base, "read1", 1);
    struct actor writer, low;
    actor_init(&low, base, "low2", 2);
    actor_init(&writer, base, "writer0", 0);
    writer.action = write_to_reader;
    writer.data = &r;
    activate(&low);
    activate(&writer);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "writer0 read1 low2");
    free_actors(&writer, 1);
    free_actors(&low, 1);
    reader_free(&r);
    event_base_free(base);
}
END_TEST

/* ... but not during a pass: the queue being run is finished first, even
   when what became ready has a higher priority. */
START_TEST(io_ready_during_a_pass_waits_for_the_pass_to_end)
{
    struct event_base *base = new_base(3);
    struct reader r;
    reader_init(&r, base, "read0", 0);
    struct actor writer, other;
    actor_init(&writer, base, "writer1", 1);
    actor_init(&other, base, "other1", 1);
    writer.action = write_to_reader;
    writer.data = &r;
    activate(&writer);
    activate(&other);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "writer1 other1 read0");
    free_actors(&writer, 1);
    free_actors(&other, 1);
    reader_free(&r);
    event_base_free(base);
}
END_TEST

/* Walkthrough 03: re-adding a persistent timer in its own callback, as 1.x
   code did, replaces the deadline libevent has just set (the previous one
   plus the interval) with now plus the interval. The timer (priority 1)
   is made late on purpose: a priority-0 callback sleeps past its deadline,
   so "now" in its callback is later than the deadline it was due at. */
struct readd_check {
    struct event *ev;
    struct timeval interval, due;
    long long rearmed, readded, now;
};

static void on_readd(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct readd_check *c = arg;
    struct timeval deadline, now;
    ck_assert_int_eq(event_pending(c->ev, EV_TIMEOUT, &deadline), EV_TIMEOUT);
    c->rearmed = usec(&deadline);
    ck_assert_int_eq(event_base_gettimeofday_cached(event_get_base(c->ev), &now), 0);
    c->now = usec(&now);
    ck_assert_int_eq(event_add(c->ev, &c->interval), 0); /* the 1.x habit */
    ck_assert_int_eq(event_pending(c->ev, EV_TIMEOUT, &deadline), EV_TIMEOUT);
    c->readded = usec(&deadline);
    ck_assert_int_eq(event_del(c->ev), 0);
}

static void sleep_past(struct actor *self)
{
    /* From before the timer was added: past its deadline by 50 ms at least,
       as libevent's clock (its coarse one ticks every few ms) sees it. */
    const struct timespec nap = { 0, 150 * 1000 * 1000 };
    (void)self;
    nanosleep(&nap, NULL);
}

START_TEST(readding_a_persistent_timer_in_its_callback_rearms_from_now)
{
    struct event_base *base = new_base(2);
    struct readd_check c = { .interval = { 0, 100 * 1000 } };
    c.ev = event_new(base, -1, EV_PERSIST, on_readd, &c);
    ck_assert_int_eq(event_priority_set(c.ev, 1), 0);
    struct actor sleeper;
    actor_init(&sleeper, base, "sleeper", 0);
    sleeper.action = sleep_past;
    ck_assert_int_eq(event_add(c.ev, &c.interval), 0);
    ck_assert_int_eq(event_pending(c.ev, EV_TIMEOUT, &c.due), EV_TIMEOUT);
    activate(&sleeper);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "sleeper");
    long long interval = usec(&c.interval), due = usec(&c.due);
    ck_assert_int_ge(c.now - due, 40 * 1000); /* it ran late */
    ck_assert_int_eq(c.readded, c.now + interval);
    ck_assert_int_gt(c.readded, due + interval); /* so re-adding drifts */
    ck_assert_int_ge(c.rearmed, due + interval);
    free_actors(&sleeper, 1);
    event_free(c.ev);
    event_base_free(base);
}
END_TEST

/* Exercise 01: event_base_once() with no delay, a NULL timeout or a zero
   one, makes its event active at once, not at the loop's first look at
   the timers: it runs before an event activated after it. */
START_TEST(event_once_without_delay_is_active_at_once)
{
    struct event_base *base = new_base(1);
    const struct timeval zero = { 0, 0 };
    struct actor user;
    actor_init(&user, base, "user", -1);
    ck_assert_int_eq(event_base_once(base, -1, EV_TIMEOUT, on_once_record, "zero", &zero), 0);
    ck_assert_int_eq(event_base_once(base, -1, EV_TIMEOUT, on_once_record, "null", NULL), 0);
    activate(&user);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "zero null user");
    event_free(user.ev);
    event_base_free(base);
}
END_TEST

/* Walkthrough 03: EV_TIMEOUT given at setup is kept (event_get_events()
   reports it) and changes nothing: with or without it, event_add() with no
   timeout waits for nothing, and with one waits for it. */
START_TEST(ev_timeout_flag_changes_nothing)
{
    struct event_base *base = new_base(1);
    struct event *with = event_new(base, -1, EV_TIMEOUT, on_what, "with");
    struct event *without = event_new(base, -1, 0, on_what, "without");
    ck_assert_int_eq(event_get_events(with), EV_TIMEOUT);
    ck_assert_int_eq(event_get_events(without), 0);
    struct event *both[] = { with, without };
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(event_add(both[i], NULL), 0);
        ck_assert_int_eq(event_pending(both[i], EV_TIMEOUT | EV_READ | EV_WRITE | EV_SIGNAL, NULL), 0);
    }
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "");
    const struct timeval t10 = { 0, 10000 }, t20 = { 0, 20000 };
    ck_assert_int_eq(event_add(with, &t10), 0);
    ck_assert_int_eq(event_add(without, &t20), 0);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(event_pending(both[i], EV_TIMEOUT | EV_READ | EV_WRITE | EV_SIGNAL, NULL),
                         EV_TIMEOUT);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "with:TIMEOUT without:TIMEOUT");
    event_free(with);
    event_free(without);
    event_base_free(base);
}
END_TEST

/* Walkthrough 03 quotes the installed header on EV_TIMEOUT: "It's not
   necessary to pass this flag to event_for new()/event_assign() to get a
   timeout" and, at event_new(), "The EV_TIMEOUT flag has no effect here".
   It does not call the flag obsolete. */
START_TEST(event_h_says_ev_timeout_has_no_effect_in_event_new)
{
    const char *pkg[] = { "pkg-config", "--variable=includedir", "libevent", NULL };
    struct run_result r;
    run_program(pkg, NULL, 30000, &r);
    ck_assert_int_eq(r.status, 0);
    r.out[strcspn(r.out, "\n")] = '\0';
    char *path;
    if (asprintf(&path, "%s/event2/event.h", r.out) < 0)
        abort();
    run_result_free(&r);
    char *header = read_file(path);
    ck_assert_msg(header != NULL, "cannot read %s", path);
    free(path);
    char *define = strstr(header, "#define EV_TIMEOUT");
    ck_assert_ptr_nonnull(define);
    *define = '\0';
    char *comment = strrchr(header, '/'); /* its doc comment ends just before */
    ck_assert_ptr_nonnull(comment);
    char *start = comment;
    while (start > header && !(start[0] == '/' && start[1] == '*'))
        start--;
    *comment = '\0';
    ck_assert_msg(strstr(start, "It's not necessary to pass") != NULL, "EV_TIMEOUT's comment: %s",
                  start);
    ck_assert_msg(strstr(start, "bsolete") == NULL, "EV_TIMEOUT's comment: %s", start);
    *define = '#';
    *comment = '/';
    ck_assert_ptr_nonnull(strstr(header, "The EV_TIMEOUT flag has no effect here."));
    free(header);
}
END_TEST

/* Walkthrough 04: libevent installs its own handler (sigaction()) when the
   first event for a signal is added, and puts the program's back when the
   last one is deleted. */
static void program_handler(int signum)
{
    (void)signum;
}

static void (*handler_of(int signum))(int)
{
    struct sigaction now;
    ck_assert_int_eq(sigaction(signum, NULL, &now), 0);
    return now.sa_handler;
}

START_TEST(signal_handler_installed_on_first_add_restored_on_last_delete)
{
    struct sigaction mine = { .sa_handler = program_handler };
    ck_assert_int_eq(sigaction(SIGUSR2, &mine, NULL), 0);
    struct event_base *base = new_base(1);
    struct event *first = evsignal_new(base, SIGUSR2, on_signal, NULL);
    struct event *second = evsignal_new(base, SIGUSR2, on_signal, NULL);
    ck_assert(handler_of(SIGUSR2) == program_handler); /* made, not added */
    ck_assert_int_eq(event_add(first, NULL), 0);
    void (*libevents)(int) = handler_of(SIGUSR2);
    ck_assert(libevents != program_handler && libevents != SIG_DFL && libevents != SIG_IGN);
    ck_assert_int_eq(event_add(second, NULL), 0);
    ck_assert(handler_of(SIGUSR2) == libevents);
    ck_assert_int_eq(event_del(first), 0);
    ck_assert(handler_of(SIGUSR2) == libevents); /* one is left */
    ck_assert_int_eq(event_del(second), 0);
    ck_assert(handler_of(SIGUSR2) == program_handler);
    event_free(first);
    event_free(second);
    event_base_free(base);
}
END_TEST

/* Walkthrough 04: one base at a time gets the signals, even different
   ones: the one that most recently added a signal event or started its
   loop. libevent warns when a second base adds one; a signal that arrives
   while the other base holds them is lost to its own base. */
static int usr1_calls, usr2_calls;
static void on_usr(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    (void)arg;
    if (sig == SIGUSR1)
        usr1_calls++;
    else
        usr2_calls++;
}

START_TEST(signals_go_to_one_base_at_a_time)
{
    event_set_log_callback(keep_log);
    struct event_base *a = event_base_new(), *b = event_base_new();
    struct event *usr1 = evsignal_new(a, SIGUSR1, on_usr, NULL);
    struct event *usr2 = evsignal_new(b, SIGUSR2, on_usr, NULL);
    ck_assert_int_eq(event_add(usr1, NULL), 0);
    ck_assert_str_eq(last_log, "");
    ck_assert_int_eq(event_add(usr2, NULL), 0); /* b adds last: b has them */
    ck_assert_msg(strstr(last_log, "Only one can have signals at a time") != NULL, "log: %s",
                  last_log);

    ck_assert_int_eq(raise(SIGUSR1), 0);
    ck_assert_int_eq(event_base_loop(a, EVLOOP_NONBLOCK), 0); /* now a has them */
    ck_assert_int_eq(event_base_loop(b, EVLOOP_NONBLOCK), 0); /* and now b */
    ck_assert_int_eq(usr1_calls, 0); /* the SIGUSR1 went to b: lost */

    ck_assert_int_eq(event_base_loop(a, EVLOOP_NONBLOCK), 0); /* a has them */
    ck_assert_int_eq(raise(SIGUSR1), 0);
    ck_assert_int_eq(raise(SIGUSR2), 0);
    ck_assert_int_eq(event_base_loop(a, EVLOOP_NONBLOCK), 0);
    ck_assert_int_eq(event_base_loop(b, EVLOOP_NONBLOCK), 0);
    ck_assert_int_eq(usr1_calls, 1);
    ck_assert_int_eq(usr2_calls, 0); /* the SIGUSR2 went to a: lost */

    event_free(usr1);
    event_free(usr2);
    event_base_free(a);
    event_base_free(b);
}
END_TEST

/* event1/README: which fields of 1.4's struct event still compile through
   <event.h> on 2.1.12. One program reads all fifteen, each in a function of
   its own, and the compiler must name exactly the ten that are gone; then a
   program that reads only the other five must compile. */
static void compile_field_reads(const char *dir, const char *const fields[], size_t n,
                                struct run_result *r)
{
    char *source, *object;
    if (asprintf(&source, "%s/fields.c", dir) < 0 || asprintf(&object, "%s/fields.o", dir) < 0)
        abort();
    FILE *f = fopen(source, "w");
    ck_assert_ptr_nonnull(f);
    fputs("#include <event.h>\n", f);
    for (size_t i = 0; i < n; i++)
        fprintf(f,
                "void *read_%s(struct event *ev);\n"
                "void *read_%s(struct event *ev) { return (void *)&ev->%s; }\n",
                fields[i], fields[i], fields[i]);
    ck_assert_int_eq(fclose(f), 0);
    const char *cc[] = { "cc", "-std=c11", "-c", "-o", object, source, NULL };
    run_program(cc, NULL, 60000, r);
    ck_assert(!r->timed_out);
    free(source);
    free(object);
}

START_TEST(only_five_1x_struct_event_fields_still_compile)
{
    static const char *const kept[] = { "ev_base", "ev_fd", "ev_events", "ev_res", "ev_timeout" };
    static const char *const gone[] = { "ev_next",   "ev_active_next", "ev_signal_next",
                                        "min_heap_idx", "ev_ncalls",   "ev_pncalls",
                                        "ev_pri",    "ev_callback",    "ev_arg",
                                        "ev_flags" };
    const char *all[15];
    for (size_t i = 0; i < 5; i++)
        all[i] = kept[i];
    for (size_t i = 0; i < 10; i++)
        all[5 + i] = gone[i];
    char *dir = make_temp_dir();
    struct run_result r;
    compile_field_reads(dir, all, 15, &r);
    ck_assert_int_ne(r.status, 0);
    for (size_t i = 0; i < 15; i++) {
        /* gcc: has no member named 'X' (or with typographic quotes); clang:
           no member named 'X' in 'struct event'. */
        char ascii[64], typographic[64];
        snprintf(ascii, sizeof ascii, "member named '%s'", all[i]);
        snprintf(typographic, sizeof typographic, "member named \xe2\x80\x98%s\xe2\x80\x99", all[i]);
        bool named = strstr(r.err, ascii) != NULL || strstr(r.err, typographic) != NULL;
        ck_assert_msg(named == (i >= 5), "%s: %s by the compiler:\n%s", all[i],
                      named ? "refused" : "accepted", r.err);
    }
    run_result_free(&r);
    compile_field_reads(dir, kept, 5, &r);
    ck_assert_msg(r.status == 0, "the five kept fields do not compile:\n%s", r.err);
    run_result_free(&r);
    remove_tree(dir);
    free(dir);
}
END_TEST

/* Lesson 02: a ready read event stays added (pending) while it is active,
   until libevent is about to run its callback; seen from a callback that
   runs first, it is in both sections of the dump. */
static struct event *waiting_reader;
static bool waiting_inserted, waiting_active;
static int waiting_pending;
static void look_at_reader(struct actor *self)
{
    waiting_inserted = dump_lists(self->base, waiting_reader, "Inserted events:");
    waiting_active = dump_lists(self->base, waiting_reader, "Active events:");
    waiting_pending = event_pending(waiting_reader, EV_READ, NULL);
}

START_TEST(ready_event_stays_added_until_its_callback_runs)
{
    int fds[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    struct event_base *base = new_base(1);
    waiting_reader = event_new(base, fds[0], EV_READ, on_read_ready, NULL);
    ck_assert_int_eq(event_add(waiting_reader, NULL), 0);
    ck_assert_int_eq(write(fds[1], "x", 1), 1);
    struct actor observer;
    actor_init(&observer, base, "observer", -1);
    observer.action = look_at_reader;
    activate(&observer);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "observer read");
    ck_assert(waiting_inserted);
    ck_assert(waiting_active);
    ck_assert_int_eq(waiting_pending, EV_READ);
    event_free(observer.ev);
    event_free(waiting_reader);
    event_base_free(base);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

/* Walkthrough 02: event_free() deletes a pending event before freeing it;
   the base is left with nothing added. */
START_TEST(event_free_deletes_a_pending_event)
{
    int fds[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    struct event_base *base = new_base(1);
    struct event *ev = event_new(base, fds[0], EV_READ, on_read_ready, NULL);
    ck_assert_int_eq(event_add(ev, NULL), 0);
    ck_assert_int_eq(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED), 1);
    event_free(ev);
    ck_assert_int_eq(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED), 0);
    ck_assert_int_eq(write(fds[1], "x", 1), 1);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "");
    event_base_free(base);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

/* Walkthrough 03: the timeout is event_add()'s, not the event's: adding a
   pending timer again with another timeout moves its deadline, and it
   fires once, at the new one. */
START_TEST(adding_a_pending_timer_again_moves_its_deadline)
{
    struct event_base *base = new_base(1);
    struct actor t;
    actor_init(&t, base, "timer", -1);
    const struct timeval hour = { 3600, 0 }, soon = { 0, 10000 };
    struct timeval first, second;
    ck_assert_int_eq(event_add(t.ev, &hour), 0);
    ck_assert_int_eq(event_pending(t.ev, EV_TIMEOUT, &first), EV_TIMEOUT);
    ck_assert_int_eq(event_add(t.ev, &soon), 0);
    ck_assert_int_eq(event_pending(t.ev, EV_TIMEOUT, &second), EV_TIMEOUT);
    ck_assert_int_lt(usec(&second), usec(&first) - 3500 * 1000000LL);
    ck_assert_int_eq(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED), 1);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "timer");
    event_free(t.ev);
    event_base_free(base);
}
END_TEST

/* Lesson 01: EVENT_NOEPOLL in the environment rules epoll out, for
   event_base_new() and for event1's event_init() alike;
   event_config_avoid_method() does it from code (2.x), and
   EVENT_BASE_FLAG_IGNORE_ENV makes a base ignore the environment. */
START_TEST(event_noepoll_in_the_environment_rules_epoll_out)
{
    struct event_base *base = new_epoll_base(); /* what this machine picks */
    event_base_free(base);
    ck_assert_int_eq(setenv("EVENT_NOEPOLL", "1", 1), 0);
    base = event_base_new();
    ck_assert_str_eq(event_base_get_method(base), "poll");
    event_base_free(base);
    base = event_init();
    ck_assert_str_eq(event_get_method(), "poll");
    event_base_free(base);
    base = new_epoll_base(); /* EVENT_BASE_FLAG_IGNORE_ENV */
    event_base_free(base);
    ck_assert_int_eq(unsetenv("EVENT_NOEPOLL"), 0);

    struct event_config *cfg = event_config_new();
    ck_assert_int_eq(event_config_avoid_method(cfg, "epoll"), 0);
    base = event_base_new_with_config(cfg);
    ck_assert_str_eq(event_base_get_method(base), "poll");
    event_base_free(base);
    event_config_free(cfg);
}
END_TEST

/* Lesson 04: libevent's own signal handler only writes the signal's
   number, one byte, into a pipe of the base's (libevent calls it a
   socketpair; 2.1.12 makes a pipe with pipe2() where it can); when raise()
   returns, the byte is there and no callback has run. The pipe is the one
   the base opened when it was made (epoll_init() calls evsig_init_()). */
START_TEST(signal_handler_writes_the_signal_number_to_a_pipe)
{
    enum { MAX_FD = 1024 };
    static bool open_before[MAX_FD];
    for (int fd = 0; fd < MAX_FD; fd++)
        open_before[fd] = fcntl(fd, F_GETFD) != -1;
    struct event_base *base = new_epoll_base();
    int read_end = -1, write_end = -1, npipes = 0;
    for (int fd = 0; fd < MAX_FD; fd++) {
        char path[64], target[64] = "";
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (!open_before[fd] && n > 0 && strncmp(target, "pipe:", 5) == 0) {
            npipes++;
            if ((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY)
                read_end = fd;
            else
                write_end = fd;
        }
    }
    ck_assert_int_eq(npipes, 2);
    ck_assert_int_ne(read_end, -1);
    ck_assert_int_ne(write_end, -1);

    struct event *ev = evsignal_new(base, SIGUSR2, on_signal, NULL);
    ck_assert_int_eq(event_add(ev, NULL), 0);
    int waiting = -1;
    ck_assert_int_eq(ioctl(read_end, FIONREAD, &waiting), 0);
    ck_assert_int_eq(waiting, 0);
    ck_assert_int_eq(raise(SIGUSR2), 0);
    ck_assert_int_eq(signal_calls, 0);
    ck_assert_int_eq(ioctl(read_end, FIONREAD, &waiting), 0);
    ck_assert_int_eq(waiting, 1);
    unsigned char byte = 0;
    ck_assert_int_eq(read(read_end, &byte, 1), 1);
    ck_assert_int_eq(byte, SIGUSR2);
    ck_assert_int_eq(write(write_end, &byte, 1), 1); /* put it back for the loop */
    ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 0);
    ck_assert_int_eq(signal_calls, 1);
    event_free(ev);
    event_base_free(base);
}
END_TEST

/* Walkthrough 05: event_config_set_max_dispatch_interval() lets a base
   look again for more urgent events in the middle of a pass: with at most
   one callback per pass at priority 1, a priority-0 read event that became
   ready during the first callback runs before the second. */
static const char *dispatch_with_limit(bool limit)
{
    order[0] = '\0';
    struct event_config *cfg = event_config_new();
    ck_assert_ptr_nonnull(cfg);
    if (limit)
        ck_assert_int_eq(event_config_set_max_dispatch_interval(cfg, NULL, 1, 1), 0);
    struct event_base *base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    ck_assert_ptr_nonnull(base);
    ck_assert_int_eq(event_base_priority_init(base, 2), 0);
    struct reader r;
    reader_init(&r, base, "read0", 0);
    struct actor a[3];
    actor_init(&a[0], base, "first1", 1);
    actor_init(&a[1], base, "second1", 1);
    actor_init(&a[2], base, "third1", 1);
    a[0].action = write_to_reader;
    a[0].data = &r;
    for (int i = 0; i < 3; i++)
        activate(&a[i]);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    free_actors(a, 3);
    reader_free(&r);
    event_base_free(base);
    return order;
}

START_TEST(max_dispatch_interval_lets_the_loop_look_again_during_a_pass)
{
    ck_assert_str_eq(dispatch_with_limit(false), "first1 second1 third1 read0");
    ck_assert_str_eq(dispatch_with_limit(true), "first1 read0 second1 third1");
}
END_TEST

/* Exercise 01 (hint 1): with event2.h instead of <event.h>, the compiler
   names every 1.x call left in the starter (event2.h declares none of
   them: under -Werror an implicit declaration is an error), and the
   struct event variables, whose size it no longer knows. */
START_TEST(event2_h_leaves_every_1x_call_undeclared)
{
    char *starter = read_file("exercises/01-port-to-event2/starter/event2.c");
    ck_assert_ptr_nonnull(starter);
    const char *old_include = "#include <event.h>";
    char *at = strstr(starter, old_include);
    ck_assert_ptr_nonnull(at);
    char *dir = make_temp_dir(), *source, *object;
    if (asprintf(&source, "%s/event2.c", dir) < 0 || asprintf(&object, "%s/event2.o", dir) < 0)
        abort();
    FILE *f = fopen(source, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "%.*s#include \"event2.h\" /* was: %s */%s", (int)(at - starter), starter,
            old_include, at + strlen(old_include));
    ck_assert_int_eq(fclose(f), 0);
    const char *cc[] = { "cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-D_DEFAULT_SOURCE",
                         "-Ievent2", "-Ilessons/lib", "-c", "-o", object, source, NULL };
    struct run_result r;
    run_program(cc, NULL, 30000, &r);
    ck_assert_int_ne(r.status, 0);
    static const char *const old_calls[] = { "event_init",     "event_priority_init",
                                             "evtimer_set",    "event_set",
                                             "event_dispatch", "event_once",
                                             "event_loopexit", "EVENT_FD" };
    for (size_t i = 0; i < sizeof old_calls / sizeof old_calls[0]; i++) {
        /* gcc: implicit declaration of function 'X'; clang: call to
           undeclared function 'X' (quotes typographic or not). */
        char typographic[96], ascii[96];
        snprintf(typographic, sizeof typographic, "function \xe2\x80\x98%s\xe2\x80\x99",
                 old_calls[i]);
        snprintf(ascii, sizeof ascii, "function '%s'", old_calls[i]);
        ck_assert_msg(strstr(r.err, typographic) != NULL || strstr(r.err, ascii) != NULL,
                      "the compiler did not name %s:\n%s", old_calls[i], r.err);
    }
    ck_assert_msg(strstr(r.err, "ticker") != NULL && strstr(r.err, "reader") != NULL,
                  "the compiler did not name the struct event variables:\n%s", r.err);
    run_result_free(&r);
    remove_tree(dir);
    free(dir);
    free(source);
    free(object);
    free(starter);
}
END_TEST

/* event2/README: event_base_foreach_event() visits an added event and an
   active one alike, and tells the callback nothing that tells them apart. */
static int count_visit(const struct event_base *base, const struct event *ev, void *arg)
{
    (void)base;
    const struct event **seen = arg;
    if (seen[0] == NULL)
        seen[0] = ev;
    else
        seen[1] = ev;
    return 0;
}

START_TEST(foreach_event_visits_added_and_active_events_alike)
{
    int fds[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    struct event_base *base = new_base(1);
    struct event *added = event_new(base, fds[0], EV_READ, on_read_ready, NULL);
    struct event *active = event_new(base, -1, 0, on_noop, NULL);
    ck_assert_int_eq(event_add(added, NULL), 0);
    event_active(active, EV_READ, 0);
    const struct event *seen[2] = { NULL, NULL };
    ck_assert_int_eq(event_base_foreach_event(base, count_visit, seen), 0);
    ck_assert((seen[0] == added && seen[1] == active) || (seen[0] == active && seen[1] == added));
    ck_assert_int_eq(event_base_loop(base, EVLOOP_NONBLOCK), 0);
    event_free(added);
    event_free(active);
    event_base_free(base);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

/* event1/README: no libevent 2.1 function carries a deprecation attribute:
   1.x and 2.x calls side by side compile without a warning, even under
   -Wall -Wextra -Werror with -Wdeprecated-declarations on. */
START_TEST(mixing_1x_and_2x_calls_compiles_without_a_warning)
{
    char *dir = make_temp_dir(), *source, *object;
    if (asprintf(&source, "%s/mixed.c", dir) < 0 || asprintf(&object, "%s/mixed.o", dir) < 0)
        abort();
    FILE *f = fopen(source, "w");
    ck_assert_ptr_nonnull(f);
    fputs("#include <event.h>\n"
          "static void cb(evutil_socket_t fd, short what, void *arg)\n"
          "{\n"
          "    (void)fd; (void)what; (void)arg;\n"
          "}\n"
          "int main(void)\n"
          "{\n"
          "    struct event_base *global = event_init(); /* 1.x */\n"
          "    struct event old;\n"
          "    event_set(&old, -1, 0, cb, NULL); /* 1.x */\n"
          "    struct event *ev = event_new(global, -1, 0, cb, NULL); /* 2.x */\n"
          "    int r = event_dispatch() + event_base_dispatch(global); /* both */\n"
          "    event_free(ev);\n"
          "    event_base_free(global);\n"
          "    return r;\n"
          "}\n",
          f);
    ck_assert_int_eq(fclose(f), 0);
    const char *cc[] = { "cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-Wdeprecated-declarations",
                         "-c", "-o", object, source, NULL };
    struct run_result r;
    run_program(cc, NULL, 30000, &r);
    ck_assert_msg(r.status == 0 && r.err[0] == '\0', "status %d:\n%s", r.status, r.err);
    run_result_free(&r);
    remove_tree(dir);
    free(dir);
    free(source);
    free(object);
}
END_TEST

/* Walkthrough 05: between two priorities the loop also looks at its timers
   again. A timer added with a zero timeout by the priority-0 callback is
   due at the next look, and runs before priority 2, which was active all
   along. */
static void add_due_timer(struct actor *self)
{
    const struct timeval zero = { 0, 0 };
    struct actor *timer = self->data;
    ck_assert_int_eq(event_add(timer->ev, &zero), 0);
    ck_assert_int_eq(event_pending(timer->ev, EV_TIMEOUT, NULL), EV_TIMEOUT); /* a timer, not active */
}

START_TEST(timer_due_after_a_pass_runs_before_lower_priorities)
{
    struct event_base *base = new_base(3);
    struct actor first, timer, low;
    actor_init(&low, base, "low2", 2);
    actor_init(&first, base, "first0", 0);
    actor_init(&timer, base, "timer1", 1);
    first.action = add_due_timer;
    first.data = &timer;
    activate(&low);
    activate(&first);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "first0 timer1 low2");
    free_actors(&first, 1);
    free_actors(&timer, 1);
    free_actors(&low, 1);
    event_base_free(base);
}
END_TEST

/* event2/README: what event2/symbols.txt lists. gcc -aux-info writes every
   prototype the nine headers of the kit declare; those that libevent.so or
   libevent_pthreads.so export must be exactly the names in the file. */
static bool has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = strstr(list, word); p != NULL; p = strstr(p + 1, word))
        if ((p == list || p[-1] == '\n' || p[-1] == ' ') && (p[n] == '\n' || p[n] == ' ' || p[n] == '\0'))
            return true;
    return false;
}

START_TEST(event2_symbols_are_the_exports_of_nine_headers)
{
    static const char *const headers[] = { "event.h",  "buffer.h", "bufferevent.h",
                                           "listener.h", "util.h", "thread.h",
                                           "tag.h",    "dns.h",    "http.h" };
    char *dir = make_temp_dir(), *source, *aux, *object;
    if (asprintf(&source, "%s/all.c", dir) < 0 || asprintf(&aux, "%s/aux.txt", dir) < 0 ||
        asprintf(&object, "%s/all.o", dir) < 0)
        abort();
    FILE *f = fopen(source, "w");
    ck_assert_ptr_nonnull(f);
    for (size_t i = 0; i < 9; i++)
        fprintf(f, "#include <event2/%s>\n", headers[i]);
    ck_assert_int_eq(fclose(f), 0);
    const char *gcc[] = { "gcc", "-std=c11", "-aux-info", aux, "-c", "-o", object, source, NULL };
    struct run_result r;
    run_program(gcc, NULL, 60000, &r);
    ck_assert_msg(r.status == 0, "gcc -aux-info failed:\n%s", r.err);
    run_result_free(&r);

    /* The exports: nm -D of both libraries, " T name" lines. */
    const char *pkg[] = { "pkg-config", "--variable=libdir", "libevent", NULL };
    run_program(pkg, NULL, 30000, &r);
    ck_assert_int_eq(r.status, 0);
    r.out[strcspn(r.out, "\n")] = '\0';
    char *core, *pthreads;
    if (asprintf(&core, "%s/libevent.so", r.out) < 0 ||
        asprintf(&pthreads, "%s/libevent_pthreads.so", r.out) < 0)
        abort();
    run_result_free(&r);
    const char *nm[] = { "nm", "-D", "--defined-only", core, pthreads, NULL };
    struct run_result exports;
    run_program(nm, NULL, 30000, &exports);
    ck_assert_int_eq(exports.status, 0);

    char *list = read_file("event2/symbols.txt");
    ck_assert_ptr_nonnull(list);
    /* The list without its comments: one name per line. */
    char *names = calloc(strlen(list) + 2, 1), *out = names;
    for (char *line = strtok(list, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        char *hash = strchr(line, '#');
        if (hash != NULL)
            *hash = '\0';
        char name[128];
        if (sscanf(line, "%127s", name) == 1)
            out += sprintf(out, "%s\n", name);
    }

    char *text = read_file(aux);
    ck_assert_ptr_nonnull(text);
    int declared_and_exported = 0, missing = 0;
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        /* A line: the comment "/usr/include/event2/event.h:1234:NC", then
           "extern int event_add (...);". */
        char file[256];
        if (sscanf(line, "/* %255[^:]:", file) != 1)
            continue;
        const char *base = strrchr(file, '/');
        if (base == NULL || strstr(file, "/event2/") == NULL)
            continue;
        bool ours = false;
        for (size_t i = 0; i < 9; i++)
            ours = ours || strcmp(base + 1, headers[i]) == 0;
        if (!ours)
            continue;
        char *decl = strstr(line, "*/");
        char *paren = decl ? strstr(decl, " (") : NULL;
        if (paren == NULL)
            continue;
        char *start = paren;
        while (start > decl && (start[-1] == '_' || (start[-1] >= 'a' && start[-1] <= 'z') ||
                                (start[-1] >= 'A' && start[-1] <= 'Z') ||
                                (start[-1] >= '0' && start[-1] <= '9')))
            start--;
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(paren - start), start);
        char exported[160];
        snprintf(exported, sizeof exported, " T %s\n", name);
        if (strstr(exports.out, exported) == NULL)
            continue;
        declared_and_exported++;
        if (!has_word(names, name)) {
            missing++;
            ck_assert_msg(false, "event2/symbols.txt lacks %s (declared in %s)", name, base + 1);
        }
    }
    /* ... and nothing else: every name in the file is such a function. */
    int listed = 0;
    for (char *p = names; *p != '\0'; p = strchr(p, '\n') + 1) {
        listed++;
        char exported[160];
        snprintf(exported, sizeof exported, " T %.*s\n", (int)(strchr(p, '\n') - p), p);
        ck_assert_msg(strstr(exports.out, exported) != NULL, "event2/symbols.txt lists %.*s, which libevent does not export",
                      (int)(strchr(p, '\n') - p), p);
    }
    ck_assert_int_eq(missing, 0);
    ck_assert_int_eq(listed, declared_and_exported);
    free(text);
    free(names);
    free(list);
    run_result_free(&exports);
    free(core);
    free(pthreads);
    remove_tree(dir);
    free(dir);
    free(source);
    free(aux);
    free(object);
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
        /* Lessons 01-07, exercises 01-02: more of what they teach. */
        { "loop-returns", { loop_started_from_its_own_callback_returns_minus_1,
                            loop_returns_minus_1_when_the_backend_fails,
                            running_event_outside_a_callback_crashes } },
        { "priority-init", { priority_init_fails_only_while_an_event_is_active,
                             events_set_up_before_priority_init_keep_their_priority,
                             fewer_priorities_strand_an_event_and_activating_it_aborts } },
        { "queue-order", { activating_an_active_event_again_keeps_its_place,
                           hand_activated_event_runs_before_io_the_poll_finds,
                           same_priority_activated_in_callback_runs_at_the_end_of_its_queue,
                           io_ready_after_a_pass_runs_before_lower_priorities,
                           io_ready_during_a_pass_waits_for_the_pass_to_end } },
        { "timers-more", { readding_a_persistent_timer_in_its_callback_rearms_from_now,
                           event_once_without_delay_is_active_at_once,
                           ev_timeout_flag_changes_nothing,
                           event_h_says_ev_timeout_has_no_effect_in_event_new } },
        { "signals-more", { signal_handler_installed_on_first_add_restored_on_last_delete,
                            signals_go_to_one_base_at_a_time } },
        { "headers", { only_five_1x_struct_event_fields_still_compile,
                       event2_h_leaves_every_1x_call_undeclared,
                       mixing_1x_and_2x_calls_compiles_without_a_warning,
                       event2_symbols_are_the_exports_of_nine_headers } },
        { "more", { ready_event_stays_added_until_its_callback_runs,
                    event_free_deletes_a_pending_event,
                    adding_a_pending_timer_again_moves_its_deadline,
                    event_noepoll_in_the_environment_rules_epoll_out,
                    signal_handler_writes_the_signal_number_to_a_pipe,
                    max_dispatch_interval_lets_the_loop_look_again_during_a_pass,
                    foreach_event_visits_added_and_active_events_alike,
                    timer_due_after_a_pass_runs_before_lower_priorities } },
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

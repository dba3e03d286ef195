/*
 * fork.c - the fork suite: what happens to an event_base across fork(),
 * with and without event_reinit() (lesson 12), against the real libevent
 * (2.1.12 on Debian 12, epoll backend). Lessons cite these tests as
 * `fork/<test name>`.
 *
 * Every test forks a child that does one thing to its copy of the base and
 * exits; the parent waits for it (waitpid) before it looks, so no order
 * depends on timing. The child reports through its exit status only: Check
 * assertions belong to the test's own process. Whatever the parent's loop
 * could see is in the kernel before it polls, so one non-blocking pass
 * decides; where a callback has not run after it, the test still waits a
 * bounded 50 ms. No outcome depends on that wait: for a callback that must
 * never run, it is one more chance to be caught.
 */
#include "suites.h"

#include <event2/event.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* One base with one read event on a socketpair; message 1 is waiting on
   the socket when the child is forked. */
struct setup {
    struct event_base *base;
    struct event *reader;
    int fds[2];
};

static int reads; /* callbacks of reader in this process */

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    (void)arg;
    char byte;
    if (read(fd, &byte, 1) == 1)
        reads++;
}

/* The base uses the backend named method (NULL: libevent's choice). */
static void fork_setup(struct setup *s, const char *method)
{
    reads = 0;
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, s->fds), 0);
    struct event_config *cfg = event_config_new();
    ck_assert_ptr_nonnull(cfg);
    if (method != NULL) {
        const char **methods = event_get_supported_methods(); /* libevent's; not freed */
        for (size_t i = 0; methods[i] != NULL; i++)
            if (strcmp(methods[i], method) != 0)
                ck_assert_int_eq(event_config_avoid_method(cfg, methods[i]), 0);
    }
    s->base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    ck_assert_ptr_nonnull(s->base);
    if (method != NULL)
        ck_assert_str_eq(event_base_get_method(s->base), method);
    s->reader = event_new(s->base, s->fds[0], EV_READ, on_readable, NULL);
    ck_assert_ptr_nonnull(s->reader);
    ck_assert_int_eq(event_add(s->reader, NULL), 0);
    ck_assert_int_eq(write(s->fds[1], "1", 1), 1);
}

static void fork_teardown(struct setup *s)
{
    event_free(s->reader);
    event_base_free(s->base);
    close(s->fds[0]);
    close(s->fds[1]);
}

/* Run action in a child process; return its exit status (128 + signal
   number if a signal ended it). The child never returns into Check. */
static int in_child(int (*action)(struct setup *), struct setup *s)
{
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(action(s));
    int status;
    while (waitpid(pid, &status, 0) < 0)
        ck_assert_int_eq(errno, EINTR);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static bool readable(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void on_limit(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ck_assert_int_eq(event_base_loopbreak(arg), 0);
}

/* Run the loop until a 50 ms timer ends it (the bounded wait for
   something that must never happen). */
static void run_for_50ms(struct event_base *base)
{
    struct event *limit = evtimer_new(base, on_limit, base);
    ck_assert_ptr_nonnull(limit);
    const struct timeval ms50 = { 0, 50 * 1000 };
    ck_assert_int_eq(event_add(limit, &ms50), 0);
    ck_assert_int_eq(event_base_dispatch(base), 0);
    event_free(limit);
}

/* Read message 1 in the parent, by hand, when the child left it there. */
static void take_message_1(struct setup *s)
{
    char byte;
    ck_assert_int_eq(read(s->fds[0], &byte, 1), 1);
    ck_assert_int_eq(byte, '1');
}

/* Message 2 goes to the parent's reader: whether it runs. */
static bool parent_reader_runs(struct setup *s)
{
    ck_assert_int_eq(write(s->fds[1], "2", 1), 1);
    ck_assert(readable(s->fds[0]));
    /* libevent still has it added, whatever happened in the child. */
    ck_assert_int_eq(event_pending(s->reader, EV_READ, NULL), EV_READ);
    ck_assert_int_ne(event_base_loop(s->base, EVLOOP_NONBLOCK), -1);
    if (reads == 0)
        run_for_50ms(s->base);
    return reads == 1;
}

/* --- Without event_reinit() ------------------------------------------------ */

static int child_dispatches(struct setup *s)
{
    /* The child's copy works: its reader takes message 1. */
    if (event_base_dispatch(s->base) != 1)
        return 1;
    return reads == 1 ? 0 : 2;
}

/* Lesson 12, round 1: a non-persistent event that fires in the child is
   deleted there, and with epoll the delete reaches the kernel object the
   parent shares: the parent's reader, still added as far as libevent
   knows, never runs although its socket is readable. */
START_TEST(child_loop_without_reinit_deletes_parents_registration)
{
    struct setup s;
    fork_setup(&s, NULL);
    ck_assert_str_eq(event_base_get_method(s.base), "epoll");
    ck_assert_int_eq(in_child(child_dispatches, &s), 0);
    ck_assert(!parent_reader_runs(&s));
    fork_teardown(&s);
}
END_TEST

static int child_deletes(struct setup *s)
{
    return event_del(s->reader) == 0 ? 0 : 1;
}

START_TEST(child_event_del_without_reinit_deafens_parent)
{
    struct setup s;
    fork_setup(&s, NULL);
    ck_assert_int_eq(in_child(child_deletes, &s), 0);
    ck_assert(!parent_reader_runs(&s));
    fork_teardown(&s);
}
END_TEST

static int child_frees_base(struct setup *s)
{
    event_base_free(s->base); /* deletes every added event first */
    return 0;
}

/* Even cleaning up is enough: event_base_free() deletes what is added. */
START_TEST(child_base_free_without_reinit_deafens_parent)
{
    struct setup s;
    fork_setup(&s, NULL);
    ck_assert_int_eq(in_child(child_frees_base, &s), 0);
    ck_assert(!parent_reader_runs(&s));
    fork_teardown(&s);
}
END_TEST

static int child_does_nothing(struct setup *s)
{
    (void)s;
    return 0;
}

/* The shared epoll object changes only when the child calls libevent: a
   child that calls nothing of it (it execs, or exits) harms nothing. */
START_TEST(child_that_calls_no_libevent_leaves_parent_alone)
{
    struct setup s;
    fork_setup(&s, NULL);
    ck_assert_int_eq(in_child(child_does_nothing, &s), 0);
    take_message_1(&s);
    ck_assert(parent_reader_runs(&s));
    fork_teardown(&s);
}
END_TEST

/* poll and select keep their lists of fds in the process's memory, which
   fork() copies: the child's delete stays in the child. */
START_TEST(poll_and_select_child_del_leaves_parent_alone)
{
    const char *const methods[] = { "poll", "select" };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        struct setup s;
        fork_setup(&s, methods[i]);
        ck_assert_int_eq(in_child(child_deletes, &s), 0);
        take_message_1(&s);
        ck_assert_msg(parent_reader_runs(&s), "%s: the child's delete reached the parent",
                      methods[i]);
        fork_teardown(&s);
    }
}
END_TEST

/* --- With event_reinit() --------------------------------------------------- */

/* The epoll objects this process holds a descriptor of. */
static int epoll_fds(void)
{
    int count = 0;
    for (int fd = 0; fd < 1024; fd++) {
        char path[64], link[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t length = readlink(path, link, sizeof link - 1);
        if (length < 0)
            continue;
        link[length] = '\0';
        count += strcmp(link, "anon_inode:[eventpoll]") == 0;
    }
    return count;
}

static int child_reinits_and_dispatches(struct setup *s)
{
    int before = epoll_fds();
    if (before != 1)
        return 4;
    if (event_reinit(s->base) != 0)
        return 1;
    /* A new epoll object, and the inherited descriptor closed: still one. */
    if (epoll_fds() != before)
        return 5;
    /* Added before fork(), still added, now in the child's own epoll. */
    if (event_pending(s->reader, EV_READ, NULL) != EV_READ)
        return 2;
    if (event_base_dispatch(s->base) != 1 || reads != 1)
        return 3;
    event_base_free(s->base);
    return 0;
}

/* Lesson 12, round 2: after event_reinit() the child holds one epoll
   descriptor, as before (it closed its copy of the shared one and made
   its own), and the event added before fork() is added there and runs. */
START_TEST(reinit_in_child_keeps_events_added_before_fork)
{
    struct setup s;
    fork_setup(&s, NULL);
    ck_assert_int_eq(in_child(child_reinits_and_dispatches, &s), 0);
    fork_teardown(&s);
}
END_TEST

static int child_reinits_deletes_frees(struct setup *s)
{
    if (event_reinit(s->base) != 0 || event_base_dispatch(s->base) != 1)
        return 1;
    if (event_add(s->reader, NULL) != 0 || event_del(s->reader) != 0)
        return 2;
    event_free(s->reader);
    event_base_free(s->base);
    return 0;
}

START_TEST(reinit_in_child_leaves_parent_registrations_alone)
{
    struct setup s;
    fork_setup(&s, NULL);
    ck_assert_int_eq(in_child(child_reinits_deletes_frees, &s), 0);
    ck_assert(parent_reader_runs(&s));
    fork_teardown(&s);
}
END_TEST

/* --- Signals ---------------------------------------------------------------- */

static int usr1_calls;

static void on_usr1(evutil_socket_t signum, short what, void *arg)
{
    (void)signum;
    (void)what;
    (void)arg;
    usr1_calls++;
}

static int child_raises(struct setup *s)
{
    (void)s;
    /* libevent's handler writes to its signal socketpair; no cleanup here,
       since freeing the base would delete the parent's registration of it
       (child_base_free_without_reinit_deafens_parent). */
    return raise(SIGUSR1) == 0 ? 0 : 1;
}

static int child_reinits_and_raises(struct setup *s)
{
    if (event_reinit(s->base) != 0)
        return 1;
    return raise(SIGUSR1) == 0 ? 0 : 2;
}

/* How many times the parent's SIGUSR1 callback runs, on a base with this
   backend, after the child raised SIGUSR1 in itself. */
static int parent_usr1_calls(const char *method, int (*child)(struct setup *))
{
    struct setup s;
    fork_setup(&s, method);
    struct event *usr1 = evsignal_new(s.base, SIGUSR1, on_usr1, NULL);
    ck_assert_ptr_nonnull(usr1);
    ck_assert_int_eq(evsignal_add(usr1, NULL), 0);
    usr1_calls = 0;
    ck_assert_int_eq(in_child(child, &s), 0);
    ck_assert_int_ne(event_base_loop(s.base, EVLOOP_NONBLOCK), -1);
    if (usr1_calls == 0)
        run_for_50ms(s.base);
    event_free(usr1);
    fork_teardown(&s);
    return usr1_calls;
}

/* The socketpair libevent's signal handler writes to is shared too, with
   every backend (Linux has three): the parent runs its SIGUSR1 callback for
   a signal only the child received. event_reinit() makes the child a
   socketpair of its own. */
START_TEST(child_signal_without_reinit_runs_parents_callback)
{
    const char *const methods[] = { "epoll", "poll", "select" };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        int calls = parent_usr1_calls(methods[i], child_raises);
        ck_assert_msg(calls == 1, "%s, no event_reinit(): %d parent callbacks", methods[i], calls);
        calls = parent_usr1_calls(methods[i], child_reinits_and_raises);
        ck_assert_msg(calls == 0, "%s, event_reinit(): %d parent callbacks", methods[i], calls);
    }
}
END_TEST

Suite *fork_suite(void)
{
    Suite *s = suite_create("fork");
    TCase *without = tcase_create("without-reinit");
    tcase_set_timeout(without, 10);
    tcase_add_test(without, child_loop_without_reinit_deletes_parents_registration);
    tcase_add_test(without, child_event_del_without_reinit_deafens_parent);
    tcase_add_test(without, child_base_free_without_reinit_deafens_parent);
    tcase_add_test(without, child_that_calls_no_libevent_leaves_parent_alone);
    tcase_add_test(without, poll_and_select_child_del_leaves_parent_alone);
    suite_add_tcase(s, without);

    TCase *with = tcase_create("with-reinit");
    tcase_set_timeout(with, 10);
    tcase_add_test(with, reinit_in_child_keeps_events_added_before_fork);
    tcase_add_test(with, reinit_in_child_leaves_parent_registrations_alone);
    suite_add_tcase(s, with);

    TCase *signals = tcase_create("signals");
    tcase_set_timeout(signals, 10);
    tcase_add_test(signals, child_signal_without_reinit_runs_parents_callback);
    suite_add_tcase(s, signals);
    return s;
}

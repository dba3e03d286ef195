/*
 * mistakes.c - the mistakes suite: lesson 20's common mistakes, each as
 * libevent 2.1.12 (Debian 12, epoll) shows it, and each lesson program's
 * symptom and fix. Lessons cite these tests as `mistakes/<test name>`.
 *
 * Two kinds of test. The "programs" case runs every bug and fix program of
 * lesson 20 in both styles and looks for the line that is its symptom (in
 * the bug) or its fix (in the fix), and for the one line that must not be
 * there. The other cases show the same behaviours here, against the
 * library, without the lesson's code. Nothing waits for a time to pass
 * except where a timer is the point; a wait for something that must NOT
 * happen is a lower bound only (load can make it longer, never shorter).
 */
#define _GNU_SOURCE /* asprintf */
#include "suites.h"
#include "util.h"

#include "asleep.h"
#include "tcp_pair.h"

#include <check.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* --- The lesson's programs ------------------------------------------------------ */

static const struct program_case {
    const char *role;         /* "01-partial-read": the programs ROLE-bug, ROLE-fix */
    const char *bug_has;      /* in the bug's trace: the symptom */
    const char *bug_lacks;    /* not in the bug's trace */
    const char *fix_has;      /* in the fix's trace */
    const char *fix_lacks;    /* not in the fix's trace: the symptom gone */
} programs[] = {
    { "01-partial-read", "message 1 is \"hello\\nwor\"", "message 2 is \"world\"",
      "message 2 is \"world\"", "hello\\nwor\"" },
    { "02-never-enabled", "no read callback; 5 bytes wait in the socket", "read-cb",
      "read \"hello\"", "watchdog callback" },
    { "03-empty-loop", "tick callbacks: 0", "tick     callback", "tick callbacks: 1", "callbacks: 0" },
    { "04-free-unsent", "the peer got 0 of 100000 bytes", "write-cb",
      "the peer got 100000 of 100000 bytes", "got 0 of" },
    { "05-free-in-cb", "conn_b's read callback ran: no", "conn_b read",
      "conn_b read \"hello\"", "watchdog callback" },
    { "06-add-twice", "reminders: 1 of 2", "reminder 2", "reminders: 2 of 2", "reminders: 1 of 2" },
    { "07-sigpipe", "server   killed     signal=SIGPIPE", "socket error",
      "server   exited     status=0", "killed" },
    { "08-active-twice", "jobs done: 1 of 3", "job 2 done", "jobs done: 3 of 3", "1 of 3" },
    { "09-emfile", "accept failed 1000 times for one waiting client", "listener disabled",
      "listener enabled", "1000 times" },
    { "10-blocking-call", "client b answered after a's job ended", "answered before",
      "client b answered before a's job ended", "answered after" },
    { "11-nagle", "the body waited for the client's ACK of the header: yes", "ACK of the header: no",
      "the body waited for the client's ACK of the header: no", "ACK of the header: yes" },
    { "12-no-evthread", "the job ran while the worker waited: no", "waited: yes",
      "the job ran while the worker waited: yes", "waited: no" },
};
enum { NPROGRAMS = sizeof programs / sizeof programs[0] };

/* Run program 20-STYLE-ROLE-KIND; it must exit 0 (a bug program shows its
   symptom, it does not fail); its trace has `has` and lacks `lacks`. */
static void check_program(int i, const char *kind, const char *has, const char *lacks)
{
    const char *style = i % 2 == 0 ? "event1" : "event2";
    const struct program_case *p = &programs[i / 2];
    char *path;
    ck_assert_int_ge(asprintf(&path, "%s/20-%s-%s-%s", bin_dir(), style, p->role, kind), 0);
    const char *argv[] = { path, NULL };
    struct run_result r;
    run_program(argv, NULL, 60000, &r);
    ck_assert_msg(!r.timed_out && r.status == 0, "%s: status %d%s; stderr: %s", path, r.status,
                  r.timed_out ? " (timed out)" : "", r.err);
    ck_assert_msg(strstr(r.out, has) != NULL, "%s: no \"%s\" in its trace:\n%s", path, has, r.out);
    ck_assert_msg(strstr(r.out, lacks) == NULL, "%s: \"%s\" in its trace:\n%s", path, lacks, r.out);
    run_result_free(&r);
    free(path);
}

/* Loop index i: programs[i / 2], event1 for even i, event2 for odd. */
START_TEST(bug_program_shows_its_symptom)
{
    check_program(_i, "bug", programs[_i / 2].bug_has, programs[_i / 2].bug_lacks);
}
END_TEST

START_TEST(fix_program_shows_the_fix)
{
    check_program(_i, "fix", programs[_i / 2].fix_has, programs[_i / 2].fix_lacks);
}
END_TEST

/* --- Helpers ---------------------------------------------------------------------- */

static const struct timeval ten_ms = { 0, 10 * 1000 }, tenth = { 0, 100 * 1000 },
                            two_s = { 2, 0 };

/* A socketpair: fds[0] non-blocking (the program's end), fds[1] the peer. */
static void make_pair(int fds[2])
{
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    ck_assert_int_eq(evutil_make_socket_nonblocking(fds[0]), 0);
}

static void put(int fd, const char *data)
{
    ck_assert_int_eq(write(fd, data, strlen(data)), (ssize_t)strlen(data));
}

/* A timer that ends the loop after a while: a bound on waiting for what
   must not happen. */
static void on_bound(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    ck_assert_int_eq(event_base_loopbreak(arg), 0);
}

static struct event *add_bound(struct event_base *base, const struct timeval *after)
{
    struct event *bound = evtimer_new(base, on_bound, base);
    ck_assert_ptr_nonnull(bound);
    ck_assert_int_eq(evtimer_add(bound, after), 0);
    return bound;
}

/* --- 01: one read callback is not one message ------------------------------------- */

static char seen[256]; /* what the callbacks saw, "[...]" each */

static void note(const char *format, const char *what, size_t n)
{
    size_t used = strlen(seen);
    snprintf(seen + used, sizeof seen - used, format, (int)n, what);
}

static void on_read_whatever(struct bufferevent *bev, void *arg)
{
    char data[64];
    (void)arg;
    size_t n = bufferevent_read(bev, data, sizeof data);
    note("[%.*s]", data, n);
}

static void on_read_lines(struct bufferevent *bev, void *arg)
{
    size_t n;
    char *line;
    (void)arg;
    while ((line = evbuffer_readln(bufferevent_get_input(bev), &n, EVBUFFER_EOL_LF)) != NULL) {
        note("[%.*s]", line, n);
        free(line);
    }
    size_t used = strlen(seen);
    snprintf(seen + used, sizeof seen - used, "(%zu left)",
             evbuffer_get_length(bufferevent_get_input(bev)));
}

/* Two writes, "hello\nwor" and "ld\n", each read in a pass of the loop of
   its own; whatever the callback records. */
static void two_writes(bufferevent_data_cb on_read)
{
    int fds[2];
    make_pair(fds);
    seen[0] = '\0';
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    struct bufferevent *bev = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
    ck_assert_ptr_nonnull(bev);
    bufferevent_setcb(bev, on_read, NULL, NULL, NULL);
    ck_assert_int_eq(bufferevent_enable(bev, EV_READ), 0);
    put(fds[1], "hello\nwor");
    ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 0);
    put(fds[1], "ld\n");
    ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 0);
    bufferevent_free(bev);
    event_base_free(base);
    close(fds[1]);
}

/* A read callback gets what has arrived: a message and a half, then the
   other half. */
START_TEST(a_read_callback_gets_what_arrived_not_a_message)
{
    two_writes(on_read_whatever);
    ck_assert_str_eq(seen, "[hello\nwor][ld\n]");
}
END_TEST

/* evbuffer_readln() takes whole lines only; the rest waits in the input
   for the next callback. */
START_TEST(evbuffer_readln_leaves_a_partial_line_in_the_input)
{
    two_writes(on_read_lines);
    ck_assert_str_eq(seen, "[hello](3 left)[world](0 left)");
}
END_TEST

/* --- 02: reading never enabled ----------------------------------------------------- */

static int read_callbacks;

static void on_read_count(struct bufferevent *bev, void *arg)
{
    (void)arg;
    read_callbacks++;
    ck_assert_int_eq(evbuffer_drain(bufferevent_get_input(bev), 64), 0);
    ck_assert_int_eq(event_base_loopbreak(bufferevent_get_base(bev)), 0);
}

/* Bytes waiting, and a loop bounded by a tenth of a second; how many read
   callbacks ran and how many bytes still wait in the socket. */
static void wait_for_hello(struct bufferevent *(*make)(struct event_base *, int), int *waiting)
{
    int fds[2];
    make_pair(fds);
    read_callbacks = 0;
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    struct bufferevent *bev = make(base, fds[0]);
    put(fds[1], "hello");
    struct event *bound = add_bound(base, &tenth);
    ck_assert_int_ge(event_base_dispatch(base), 0);
    ck_assert_int_eq(ioctl(fds[0], FIONREAD, waiting), 0);
    event_free(bound);
    bufferevent_free(bev);
    event_base_free(base);
    close(fds[1]);
}

static struct bufferevent *new_only(struct event_base *base, int fd)
{
    struct bufferevent *bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    ck_assert_ptr_nonnull(bev);
    bufferevent_setcb(bev, on_read_count, NULL, NULL, NULL);
    ck_assert_int_eq(bufferevent_get_enabled(bev), EV_WRITE);
    return bev;
}

static struct bufferevent *new_and_enabled(struct event_base *base, int fd)
{
    struct bufferevent *bev = new_only(base, fd);
    ck_assert_int_eq(bufferevent_enable(bev, EV_READ), 0);
    ck_assert_int_eq(bufferevent_get_enabled(bev), EV_READ | EV_WRITE);
    return bev;
}

/* A new socket bufferevent is enabled for writing only: with a read
   callback set, the peer's bytes still wait in the socket. */
START_TEST(a_new_socket_bufferevent_does_not_read)
{
    int waiting = -1;
    wait_for_hello(new_only, &waiting);
    ck_assert_int_eq(read_callbacks, 0);
    ck_assert_int_eq(waiting, 5);
}
END_TEST

START_TEST(bufferevent_enable_ev_read_makes_the_read_callback_run)
{
    int waiting = -1;
    wait_for_hello(new_and_enabled, &waiting);
    ck_assert_int_eq(read_callbacks, 1);
    ck_assert_int_eq(waiting, 0);
}
END_TEST

/* --- 03: nothing to wait for ------------------------------------------------------- */

static int ticks;

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    ticks++;
}

/* A timer made and never added: the loop returns 1 at once. */
START_TEST(a_loop_whose_timer_was_never_added_returns_1_at_once)
{
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    struct event *tick = evtimer_new(base, on_tick, NULL);
    ck_assert_ptr_nonnull(tick);
    ticks = 0;
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_int_eq(ticks, 0);
    event_free(tick);
    event_base_free(base);
}
END_TEST

/* Added, it is waited for; the loop returns 1 once it has run and
   nothing is left. */
START_TEST(a_loop_waits_for_an_added_timer_then_returns_1)
{
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    struct event *tick = evtimer_new(base, on_tick, NULL);
    ck_assert_ptr_nonnull(tick);
    ck_assert_int_eq(evtimer_add(tick, &ten_ms), 0);
    ticks = 0;
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_int_eq(ticks, 1);
    event_free(tick);
    event_base_free(base);
}
END_TEST

/* --- 04: freed with output unsent ------------------------------------------------- */

enum { REPLY = 100000 };
static size_t received;

/* Everything the peer end holds until EOF (blocking reads). */
static size_t drain_to_eof(int fd)
{
    char buf[16384];
    size_t total = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        total += (size_t)n;
    ck_assert_int_eq(n, 0);
    return total;
}

/* bufferevent_write() only queues; bufferevent_free() then throws the
   queue away (and, with BEV_OPT_CLOSE_ON_FREE, closes: the peer gets EOF
   and nothing else). bufferevent_flush() on a socket changes nothing. */
START_TEST(bufferevent_free_throws_away_unsent_output)
{
    static char reply[REPLY];
    int fds[2];
    make_pair(fds);
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    struct bufferevent *bev = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
    ck_assert_ptr_nonnull(bev);
    ck_assert_int_eq(bufferevent_write(bev, reply, sizeof reply), 0);
    ck_assert_int_eq(bufferevent_flush(bev, EV_WRITE, BEV_FLUSH), 0);
    ck_assert_uint_eq(evbuffer_get_length(bufferevent_get_output(bev)), REPLY);
    bufferevent_free(bev);
    ck_assert_int_eq(event_base_loop(base, EVLOOP_NONBLOCK), 1);
    ck_assert_uint_eq(drain_to_eof(fds[1]), 0);
    event_base_free(base);
    close(fds[1]);
}
END_TEST

static void on_written_free(struct bufferevent *bev, void *arg)
{
    (void)arg;
    ck_assert_uint_eq(evbuffer_get_length(bufferevent_get_output(bev)), 0);
    bufferevent_free(bev);
}

static void on_peer_count(evutil_socket_t fd, short what, void *arg)
{
    char buf[16384];
    ssize_t n;
    (void)what;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        received += (size_t)n;
    if (n == 0)
        ck_assert_int_eq(event_del(arg), 0);
}

/* With the default low watermark (0) the write callback runs when the
   output is empty: freeing there loses nothing. */
START_TEST(freeing_in_the_write_callback_loses_nothing)
{
    static char reply[REPLY];
    int fds[2];
    make_pair(fds);
    ck_assert_int_eq(evutil_make_socket_nonblocking(fds[1]), 0);
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    struct event *peer = event_new(base, fds[1], EV_READ | EV_PERSIST, on_peer_count, event_self_cbarg());
    ck_assert_ptr_nonnull(peer);
    ck_assert_int_eq(event_add(peer, NULL), 0);
    struct bufferevent *bev = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
    ck_assert_ptr_nonnull(bev);
    bufferevent_setcb(bev, NULL, on_written_free, NULL, NULL);
    received = 0;
    ck_assert_int_eq(bufferevent_write(bev, reply, sizeof reply), 0);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_uint_eq(received, REPLY);
    event_free(peer);
    event_base_free(base);
    close(fds[1]);
}
END_TEST

/* --- 05: a socket closed with its event still added -------------------------------- */

struct conn {
    int fd, peer;
    struct event *ev;
    int reads;     /* callbacks that read bytes */
    bool free_ev;  /* at EOF: event_free() in the callback, before close */
};

static struct event_base *conn_base;
static struct conn conn_a, conn_b;

static void on_conn(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    char data[64];
    (void)what;
    ssize_t n = read(fd, data, sizeof data);
    ck_assert_int_ge(n, 0);
    if (n > 0) {
        c->reads++;
        ck_assert_int_eq(event_base_loopbreak(conn_base), 0);
        return;
    }
    if (c->free_ev) {
        event_free(c->ev); /* in its own callback */
        c->ev = NULL;
    }
    ck_assert_int_eq(close(c->fd), 0);
    ck_assert_int_eq(close(c->peer), 0);
    /* The next connection: the lowest free number, conn_a's. */
    int fds[2];
    make_pair(fds);
    ck_assert_int_eq(fds[0], c->fd);
    conn_b = (struct conn){ .fd = fds[0], .peer = fds[1] };
    conn_b.ev = event_new(conn_base, conn_b.fd, EV_READ | EV_PERSIST, on_conn, &conn_b);
    ck_assert_ptr_nonnull(conn_b.ev);
    ck_assert_int_eq(event_add(conn_b.ev, NULL), 0);
    put(conn_b.peer, "hello");
}

/* conn_a's client leaves; at EOF its callback closes its socket (freeing
   its event first, or not) and opens conn_b on the same number, whose
   client sends at once. The loop is bounded by 2 s (generous: conn_b's
   bytes must come first on a busy machine too). */
static void reuse_a_number(bool free_ev)
{
    conn_base = event_base_new();
    ck_assert_ptr_nonnull(conn_base);
    ck_assert_str_eq(event_base_get_method(conn_base), "epoll");
    int fds[2];
    make_pair(fds);
    conn_a = (struct conn){ .fd = fds[0], .peer = fds[1], .free_ev = free_ev };
    conn_a.ev = event_new(conn_base, conn_a.fd, EV_READ | EV_PERSIST, on_conn, &conn_a);
    ck_assert_ptr_nonnull(conn_a.ev);
    ck_assert_int_eq(event_add(conn_a.ev, NULL), 0);
    ck_assert_int_eq(shutdown(conn_a.peer, SHUT_WR), 0);
    struct event *bound = add_bound(conn_base, &two_s);
    ck_assert_int_ge(event_base_dispatch(conn_base), 0);
    event_free(bound);
}

static void reuse_done(void)
{
    if (conn_a.ev != NULL)
        event_free(conn_a.ev);
    event_free(conn_b.ev);
    close(conn_b.fd);
    close(conn_b.peer);
    event_base_free(conn_base);
}

/* epoll forgets a descriptor when it is closed; libevent does not, while
   the event is added: the next event on that number is added to what
   libevent believes is watched, and the kernel is never told. */
START_TEST(a_socket_closed_with_its_event_added_leaves_its_number_deaf)
{
    reuse_a_number(false);
    ck_assert_int_eq(conn_b.reads, 0);
    ck_assert(event_pending(conn_a.ev, EV_READ, NULL)); /* still added, its socket gone */
    reuse_done();
}
END_TEST

/* event_free() in the event's own callback, then close(): libevent does
   not touch the event after the callback, and the number is watched again
   for the next connection. */
START_TEST(event_free_in_its_own_callback_then_close_is_safe)
{
    reuse_a_number(true);
    ck_assert_ptr_null(conn_a.ev);
    ck_assert_int_eq(conn_b.reads, 1);
    reuse_done();
}
END_TEST

/* 2.1's finalizers: event_free_finalize() tears an event down and calls
   back once its callback can no longer be running; what order 2.1.12
   gives, here with one thread. */
static char order[64]; /* one letter per step, in the order they ran */
static struct event *finalizing;

static void mark(char c)
{
    size_t used = strlen(order);
    ck_assert_uint_lt(used + 1, sizeof order);
    order[used] = c;
    order[used + 1] = '\0';
}

static void on_finalized(struct event *ev, void *arg)
{
    ck_assert_ptr_eq(ev, finalizing);
    ck_assert_ptr_eq(arg, &finalizing);
    mark('F');
}

/* 'c': the callback begins; 'r': event_free_finalize() has returned;
   'e': the callback ends. */
static void on_finalize_self(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    ck_assert_ptr_eq(arg, &finalizing);
    mark('c');
    ck_assert_int_eq(event_free_finalize(0, finalizing, on_finalized), 0);
    mark('r');
    mark('e');
}

/* Called in the event's own callback, event_free_finalize() returns at
   once; the finalizer runs after the callback has returned, in the same
   pass of the loop, as a callback of its own (then the event is freed). */
START_TEST(event_free_finalize_in_its_own_callback_calls_back_after_it)
{
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    finalizing = event_new(base, -1, 0, on_finalize_self, &finalizing);
    ck_assert_ptr_nonnull(finalizing);
    order[0] = '\0';
    event_active(finalizing, EV_READ, 0);
    ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 0);
    ck_assert_str_eq(order, "creF");
    event_base_free(base);
}
END_TEST

/* Outside the loop, event_finalize() (on storage the program owns) calls
   nothing back yet: the event can no longer be added (event_add() fails),
   and its finalizer runs when the loop next runs, or at event_base_free();
   then the storage is the program's to free. */
START_TEST(event_finalize_outside_the_loop_calls_back_from_the_loop)
{
    for (int free_base = 0; free_base <= 1; free_base++) {
        struct event_base *base = event_base_new();
        ck_assert_ptr_nonnull(base);
        finalizing = malloc(event_get_struct_event_size()); /* storage the program owns */
        ck_assert_ptr_nonnull(finalizing);
        ck_assert_int_eq(event_assign(finalizing, base, -1, 0, on_finalize_self, &finalizing), 0);
        order[0] = '\0';
        ck_assert_int_eq(event_finalize(0, finalizing, on_finalized), 0);
        ck_assert_int_eq(event_add(finalizing, NULL), -1);
        ck_assert_str_eq(order, "");
        if (free_base) {
            event_base_free(base); /* runs the finalizer */
            ck_assert_str_eq(order, "F");
        } else {
            ck_assert_int_eq(event_base_loop(base, EVLOOP_NONBLOCK), 1); /* then nothing is left */
            ck_assert_str_eq(order, "F");
            event_base_free(base);
        }
        free(finalizing); /* event_finalize() leaves the storage to its owner */
    }
}
END_TEST

/* --- 06: added twice; set up again while added ------------------------------------- */

/* Added twice, a timer is pending once: the second event_add() moves its
   deadline, and there is one callback, not before the later deadline.
   "Not before" by libevent's clock: a default base's is
   CLOCK_MONOTONIC_COARSE (backends/default_clock_is_coarse), which ticks
   every 4 ms here, so by now_ms() a timer may run up to a tick early (a
   run at load 15 saw a 20 ms timer after 17 ms). 10 ms, then 100 ms: the
   bound, 100 less two ticks, is far from where the first deadline was. */
START_TEST(adding_a_pending_timer_again_moves_its_deadline)
{
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    struct event *tick = evtimer_new(base, on_tick, NULL);
    ck_assert_ptr_nonnull(tick);
    ticks = 0;
    long long start = now_ms();
    ck_assert_int_eq(evtimer_add(tick, &ten_ms), 0);
    ck_assert_int_eq(evtimer_add(tick, &tenth), 0);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_int_eq(ticks, 1);
    ck_assert_int_ge(now_ms() - start, 92); /* a lower bound only */
    event_free(tick);
    event_base_free(base);
}
END_TEST

static void on_child_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    _exit(3); /* the parent would see status 3 */
}

/* The child: a timer added, set up again with event_assign() while added,
   added again, and the loop. With debug set, in debug mode. */
static void assign_added_timer(bool debug, bool del_first)
{
    if (debug)
        event_enable_debug_mode();
    event_set_log_callback(NULL);
    struct event_base *base = event_base_new();
    struct event *t = base != NULL ? evtimer_new(base, on_child_tick, NULL) : NULL;
    if (t == NULL || evtimer_add(t, &ten_ms) != 0)
        _exit(10);
    if (del_first && event_del(t) != 0)
        _exit(11);
    if (event_assign(t, base, -1, 0, on_child_tick, NULL) != 0 || evtimer_add(t, &ten_ms) != 0)
        _exit(12);
    event_base_dispatch(base);
    _exit(13); /* the loop returned without the callback */
}

static pid_t fork_child(bool debug, bool del_first)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a spinning child ends with its test */
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, STDERR_FILENO); /* debug mode's message */
        assign_added_timer(debug, del_first);
    }
    return pid;
}

/* The state letter of process pid in /proc/PID/stat ('R', 'S', ...). */
static char state_of(pid_t pid)
{
    char path[64], text[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    const char *paren = strrchr(text, ')');
    ck_assert_ptr_nonnull(paren);
    return paren[2];
}

/* Set up again while added (no debug mode), the timer stays in libevent's
   heap and the event no longer knows: at its deadline the loop spins,
   never sleeping, never calling back. The child is sampled every 20 ms,
   up to 500 times: it never ends, and is seen running (or ready to) ten
   times in a row (a child asleep in the loop's wait never would). */
START_TEST(event_assign_on_an_added_timer_makes_the_loop_spin)
{
    pid_t pid = fork_child(false, false);
    int running = 0, status;
    for (int i = 0; i < 500 && running < 10; i++) {
        usleep(20 * 1000);
        ck_assert_int_eq(waitpid(pid, &status, WNOHANG), 0); /* still running */
        running = state_of(pid) == 'R' ? running + 1 : 0;
    }
    ck_assert_int_eq(running, 10);
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}
END_TEST

/* event_del() first, then event_assign(): allowed, in debug mode too, and
   the callback it was set up with runs. */
START_TEST(event_del_before_event_assign_is_allowed_in_debug_mode)
{
    pid_t pid = fork_child(true, true);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 3, "status %d", status);
}
END_TEST

/* --- 07: SIGPIPE ------------------------------------------------------------------- */

static void on_gone_event(struct bufferevent *bev, short what, void *arg)
{
    (void)arg;
    if (what & BEV_EVENT_EOF)
        return; /* the rest of the reply goes on */
    if (what == (BEV_EVENT_WRITING | BEV_EVENT_ERROR) && EVUTIL_SOCKET_ERROR() == EPIPE)
        _exit(4); /* the error the parent wants to see */
    _exit(5);
    (void)bev;
}

/* In a child: a TCP connection whose client sent a line and left; the
   bufferevent writes 8 MB to it. Returns the child's wait status. */
static int write_to_a_gone_client(bool ignore_sigpipe)
{
    struct sockaddr_in address;
    int listener = listen_on_loopback(&address);
    int client = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(client, 0);
    ck_assert_int_eq(connect(client, (struct sockaddr *)&address, sizeof address), 0);
    put(client, "GET\n");
    ck_assert_int_eq(close(client), 0);
    int conn = accept(listener, NULL, NULL);
    ck_assert_int_ge(conn, 0);
    ck_assert_int_eq(close(listener), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        signal(SIGPIPE, ignore_sigpipe ? SIG_IGN : SIG_DFL);
        static char chunk[65536];
        struct event_base *base = event_base_new();
        struct bufferevent *bev =
            base != NULL && evutil_make_socket_nonblocking(conn) == 0
                ? bufferevent_socket_new(base, conn, BEV_OPT_CLOSE_ON_FREE) : NULL;
        if (bev == NULL)
            _exit(10);
        bufferevent_setcb(bev, NULL, NULL, on_gone_event, NULL);
        for (int i = 0; i < 128; i++)
            if (bufferevent_write(bev, chunk, sizeof chunk) != 0)
                _exit(11);
        if (bufferevent_enable(bev, EV_READ) != 0)
            _exit(12);
        event_base_dispatch(base);
        _exit(13);
    }
    close(conn);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return status;
}

/* SIGPIPE's default action ends the process at the write after the reset,
   with no callback and no message. */
START_TEST(a_write_to_a_gone_client_kills_with_sigpipe)
{
    int status = write_to_a_gone_client(false);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE, "status %d", status);
}
END_TEST

/* Ignored, the same write fails with EPIPE, which the bufferevent reports
   as BEV_EVENT_WRITING|BEV_EVENT_ERROR on that connection. */
START_TEST(with_sigpipe_ignored_the_bufferevent_reports_epipe)
{
    int status = write_to_a_gone_client(true);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 4, "status %d", status);
}
END_TEST

/* --- 08: event_active() on an active event --------------------------------------- */

static int work_calls;
static short work_what;

static void on_work(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)arg;
    work_calls++;
    work_what = what;
}

/* Active already, an event stays active once: a second and third
   event_active() only add their flags to what its one callback gets. */
START_TEST(event_active_on_an_active_event_runs_the_callback_once)
{
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    struct event *work = event_new(base, -1, 0, on_work, NULL);
    ck_assert_ptr_nonnull(work);
    work_calls = 0;
    event_active(work, EV_READ, 0);
    event_active(work, EV_WRITE, 0);
    event_active(work, EV_TIMEOUT, 0);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_int_eq(work_calls, 1);
    ck_assert_int_eq(work_what, EV_READ | EV_WRITE | EV_TIMEOUT);
    event_free(work);
    event_base_free(base);
}
END_TEST

static void on_work_again(evutil_socket_t fd, short what, void *arg)
{
    on_work(fd, what, arg);
    if (work_calls < 3)
        event_active(*(struct event **)arg, EV_READ, 0);
}

/* Once its callback has begun, the event is no longer active: made active
   again (here from the callback), it runs again. */
START_TEST(event_active_after_the_callback_runs_it_again)
{
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    static struct event *work;
    work = event_new(base, -1, 0, on_work_again, &work);
    ck_assert_ptr_nonnull(work);
    work_calls = 0;
    event_active(work, EV_READ, 0);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_int_eq(work_calls, 3);
    event_free(work);
    event_base_free(base);
}
END_TEST

/* --- 09: accept() failing with EMFILE ---------------------------------------------- */

static int emfile_accepted, emfile_errors, emfile_logged;
static int emfile_conns[2] = { -1, -1 }; /* the server's accepted sockets */
static bool emfile_logged_right;      /* every message is accept()'s EMFILE */

static void on_emfile_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *addr,
                             int len, void *arg)
{
    (void)lev, (void)addr, (void)len, (void)arg;
    ck_assert_int_lt(emfile_accepted, 2);
    emfile_conns[emfile_accepted++] = fd;
}

static void on_emfile_log(int severity, const char *msg)
{
    emfile_logged++;
    emfile_logged_right = emfile_logged_right && severity == EVENT_LOG_WARN &&
                          strcmp(msg, "Error from accept() call: Too many open files") == 0;
}

/* The error callback of the fix: EMFILE, and the listener disabled. */
static void on_emfile_error(struct evconnlistener *lev, void *arg)
{
    (void)arg;
    ck_assert_int_eq(EVUTIL_SOCKET_ERROR(), EMFILE);
    emfile_errors++;
    ck_assert_int_eq(evconnlistener_disable(lev), 0);
}

struct emfile_server {
    struct event_base *base;
    struct evconnlistener *lev;
    int clients[2];
    struct rlimit old;
};

/* Two clients in the backlog of a listener (with error callback errorcb,
   or none); the process may open one more descriptor. */
static void emfile_start(struct emfile_server *e, evconnlistener_errorcb errorcb)
{
    struct sockaddr_in address;
    int listener = listen_on_loopback(&address);
    ck_assert_int_eq(evutil_make_socket_nonblocking(listener), 0);
    for (int i = 0; i < 2; i++) {
        e->clients[i] = socket(AF_INET, SOCK_STREAM, 0);
        ck_assert_int_ge(e->clients[i], 0);
        ck_assert_int_eq(connect(e->clients[i], (struct sockaddr *)&address, sizeof address), 0);
    }
    emfile_accepted = emfile_errors = emfile_logged = 0;
    emfile_logged_right = true;
    emfile_conns[0] = emfile_conns[1] = -1;
    event_set_log_callback(on_emfile_log);
    e->base = event_base_new();
    ck_assert_ptr_nonnull(e->base);
    e->lev = evconnlistener_new(e->base, on_emfile_accept, NULL, LEV_OPT_CLOSE_ON_FREE, -1, listener);
    ck_assert_ptr_nonnull(e->lev);
    evconnlistener_set_error_cb(e->lev, errorcb);
    int lowest = dup(STDERR_FILENO);
    ck_assert_int_ge(lowest, 0);
    ck_assert_int_eq(close(lowest), 0);
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &e->old), 0);
    struct rlimit limit = e->old;
    limit.rlim_cur = (rlim_t)lowest + 1;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &limit), 0);
}

static void emfile_done(struct emfile_server *e)
{
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &e->old), 0);
    event_set_log_callback(NULL);
    evconnlistener_free(e->lev);
    event_base_free(e->base);
    for (int i = 0; i < 2; i++) {
        close(e->clients[i]);
        if (emfile_conns[i] >= 0)
            close(emfile_conns[i]);
    }
}

/* With no error callback, 2.1.12 logs accept()'s EMFILE as a warning and
   leaves the listener enabled: the client still in the backlog wakes the
   loop at once, every time. A hundred EVLOOP_ONCE passes (each waits
   until something is active) return, and each logged the error once. */
START_TEST(a_listener_without_an_error_callback_logs_emfile_and_stays_enabled)
{
    struct emfile_server e;
    emfile_start(&e, NULL);
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(event_base_loop(e.base, EVLOOP_ONCE), 0);
    ck_assert_int_eq(emfile_accepted, 1);
    ck_assert_int_eq(emfile_logged, 100);
    ck_assert(emfile_logged_right);
    emfile_done(&e);
}
END_TEST

/* The error callback runs instead of the warning, with EMFILE as the
   socket error; disabled there, the listener wakes nothing more. With a
   descriptor free and the listener enabled again, the client that waited
   in the backlog is accepted, and the listener's next accept() fails with
   EMFILE at once although nobody waits: Linux takes a descriptor before
   it looks at the backlog, so the error callback runs again. */
START_TEST(disabling_the_listener_in_its_error_callback_stops_the_wake_ups)
{
    struct emfile_server e;
    emfile_start(&e, on_emfile_error);
    for (int i = 0; i < 100; i++)
        ck_assert_int_ge(event_base_loop(e.base, EVLOOP_NONBLOCK), 0);
    ck_assert_int_eq(emfile_accepted, 1);
    ck_assert_int_eq(emfile_errors, 1);
    ck_assert_int_eq(emfile_logged, 0);
    ck_assert_int_eq(close(emfile_conns[0]), 0); /* a descriptor free */
    emfile_conns[0] = -1;
    ck_assert_int_eq(evconnlistener_enable(e.lev), 0);
    ck_assert_int_eq(event_base_loop(e.base, EVLOOP_ONCE), 0);
    ck_assert_int_eq(emfile_accepted, 2);
    ck_assert_int_eq(emfile_errors, 2);
    emfile_done(&e);
}
END_TEST

/* --- 10: a blocking call in a callback --------------------------------------------- */

static char job_order[128];
static int job_fds_a[2], job_fds_b[2], job_slices;
static struct event *job_ev;
static long long job_b_sent, job_a_returned, job_b_ran;

static void on_job_b(evutil_socket_t fd, short what, void *arg)
{
    char buf[16];
    (void)what;
    ck_assert_int_gt(read(fd, buf, sizeof buf), 0);
    job_b_ran = now_ms();
    record_in(job_order, sizeof job_order, "b");
    ck_assert_int_eq(event_del(*(struct event **)arg), 0);
}

/* a's request: b's request arrives, then a sleeps 100 ms in the callback. */
static void on_job_a_blocking(evutil_socket_t fd, short what, void *arg)
{
    char buf[16];
    (void)what;
    ck_assert_int_gt(read(fd, buf, sizeof buf), 0);
    ck_assert_int_eq(event_del(*(struct event **)arg), 0);
    put(job_fds_b[1], "ping");
    job_b_sent = now_ms();
    record_in(job_order, sizeof job_order, "a");
    usleep(100 * 1000); /* the blocking call */
    job_a_returned = now_ms();
}

static void on_job_slice(evutil_socket_t fd, short what, void *arg)
{
    static const struct timeval no_time = { 0, 0 };
    (void)fd, (void)what, (void)arg;
    record_in(job_order, sizeof job_order, "s%d", ++job_slices);
    if (job_slices < 5)
        ck_assert_int_eq(evtimer_add(job_ev, &no_time), 0);
}

/* a's request: b's request arrives, then the job starts: one slice now,
   the others from a zero-timeout timer. */
static void on_job_a_sliced(evutil_socket_t fd, short what, void *arg)
{
    char buf[16];
    (void)what;
    ck_assert_int_gt(read(fd, buf, sizeof buf), 0);
    ck_assert_int_eq(event_del(*(struct event **)arg), 0);
    put(job_fds_b[1], "ping");
    record_in(job_order, sizeof job_order, "a");
    on_job_slice(-1, EV_TIMEOUT, NULL);
}

/* Clients a and b on socketpairs; a has sent its request. */
static void run_job(event_callback_fn on_a)
{
    static struct event *a, *b;
    make_pair(job_fds_a);
    make_pair(job_fds_b);
    job_order[0] = '\0';
    job_slices = 0;
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    a = event_new(base, job_fds_a[0], EV_READ | EV_PERSIST, on_a, &a);
    b = event_new(base, job_fds_b[0], EV_READ | EV_PERSIST, on_job_b, &b);
    job_ev = evtimer_new(base, on_job_slice, NULL);
    ck_assert(a != NULL && b != NULL && job_ev != NULL);
    ck_assert_int_eq(event_add(a, NULL), 0);
    ck_assert_int_eq(event_add(b, NULL), 0);
    put(job_fds_a[1], "job");
    ck_assert_int_eq(event_base_dispatch(base), 1);
    event_free(a);
    event_free(b);
    event_free(job_ev);
    event_base_free(base);
    for (int i = 0; i < 2; i++) {
        close(job_fds_a[i]);
        close(job_fds_b[i]);
    }
}

/* While a callback runs, nothing else does: b's request, ready since
   before a's callback blocked, is read only after it returns, so b waited
   at least as long as the blocking call (a lower bound: certain). */
START_TEST(a_callback_that_blocks_delays_every_other_callback)
{
    run_job(on_job_a_blocking);
    ck_assert_str_eq(job_order, "a b");
    ck_assert_int_ge(job_b_ran, job_a_returned);
    ck_assert_int_ge(job_b_ran - job_b_sent, 100);
}
END_TEST

/* A job in slices from a zero-timeout timer: in each pass of the loop,
   epoll's ready sockets are made active before the due timers, so b's
   request is read after the first slice, before the second. */
START_TEST(a_job_in_zero_timeout_slices_lets_other_clients_in_between)
{
    run_job(on_job_a_sliced);
    ck_assert_str_eq(job_order, "a s1 b s2 s3 s4 s5");
}
END_TEST

/* Slices made to run again with event_active() from their own callback
   do not let b in: 2.1.12 runs an event made active during the pass in
   that same pass, before it looks at the sockets again. */
static void on_job_slice_active(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    record_in(job_order, sizeof job_order, "s%d", ++job_slices);
    if (job_slices < 5)
        event_active(job_ev, EV_TIMEOUT, 0);
}

static void on_job_a_active(evutil_socket_t fd, short what, void *arg)
{
    char buf[16];
    (void)what;
    ck_assert_int_gt(read(fd, buf, sizeof buf), 0);
    ck_assert_int_eq(event_del(*(struct event **)arg), 0);
    put(job_fds_b[1], "ping");
    record_in(job_order, sizeof job_order, "a");
    ck_assert_int_eq(event_assign(job_ev, event_get_base(job_ev), -1, 0, on_job_slice_active, NULL), 0);
    event_active(job_ev, EV_TIMEOUT, 0);
}

START_TEST(slices_run_again_with_event_active_keep_other_clients_out)
{
    run_job(on_job_a_active);
    ck_assert_str_eq(job_order, "a s1 s2 s3 s4 s5 b");
}
END_TEST

/* --- 11: Nagle's algorithm and the client's delayed ACK ------------------------------ */

/* A reply in two parts, as the lesson's server sends it: a header, then a
   body, on a connection over 127.0.0.1 that has had one exchange already
   (a fresh connection ACKs at once). */
static const char nagle_header[] = "200 OK, 6 bytes\n", nagle_body[] = "ready\n";
enum { NAGLE_REQUEST = 12, NAGLE_HEADER = sizeof nagle_header - 1, NAGLE_BODY = sizeof nagle_body - 1 };
static unsigned nagle_held; /* unsent in the server's kernel right after the reply was written */
static int nagle_server;

static void on_request_two_sends(evutil_socket_t fd, short what, void *arg)
{
    char data[64];
    (void)what, (void)arg;
    ck_assert_int_eq(recv(fd, data, sizeof data, 0), NAGLE_REQUEST);
    ck_assert_int_eq(send(fd, nagle_header, NAGLE_HEADER, 0), NAGLE_HEADER);
    ck_assert_int_eq(send(fd, nagle_body, NAGLE_BODY, 0), NAGLE_BODY);
    struct loopback_sender state;
    loopback_sender_state(fd, &state);
    nagle_held = state.unsent;
}

static void on_request_two_bufferevent_writes(struct bufferevent *bev, void *arg)
{
    (void)arg;
    ck_assert_int_eq(evbuffer_drain(bufferevent_get_input(bev), NAGLE_REQUEST), 0);
    ck_assert_int_eq(bufferevent_write(bev, nagle_header, NAGLE_HEADER), 0);
    ck_assert_int_eq(bufferevent_write(bev, nagle_body, NAGLE_BODY), 0);
}

static void on_reply_written(struct bufferevent *bev, void *arg)
{
    (void)bev, (void)arg;
    struct loopback_sender state;
    loopback_sender_state(nagle_server, &state);
    nagle_held = state.unsent;
}

struct nagle_run {
    int peer_has;      /* bytes at the client once the header had come */
    long long body_ms; /* from the reply's writing to the body's arrival */
};

/* Two requests, each answered in two writes (two send()s, or two
   bufferevent_write()s); what the second showed. False if the client
   acknowledged the header before we looked (a stall of 40 ms). */
static bool two_part_reply(bool nodelay, bool bufferevent, struct nagle_run *run)
{
    int peer;
    loopback_pair(&peer, &nagle_server);
    loopback_set_nodelay(nagle_server, nodelay);
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    struct event *ev = NULL;
    struct bufferevent *bev = NULL;
    if (bufferevent) {
        bev = bufferevent_socket_new(base, nagle_server, 0);
        ck_assert_ptr_nonnull(bev);
        bufferevent_setcb(bev, on_request_two_bufferevent_writes, on_reply_written, NULL, NULL);
        ck_assert_int_eq(bufferevent_enable(bev, EV_READ), 0);
    } else {
        ev = event_new(base, nagle_server, EV_READ | EV_PERSIST, on_request_two_sends, NULL);
        ck_assert_ptr_nonnull(ev);
        ck_assert_int_eq(event_add(ev, NULL), 0);
    }
    bool clean = false;
    for (int round = 0; round < 2; round++) {
        loopback_send(peer, NAGLE_REQUEST);
        loopback_wait_for(nagle_server, NAGLE_REQUEST);
        struct loopback_sender before, after;
        loopback_sender_state(nagle_server, &before);
        nagle_held = 0;
        long long start = now_ms();
        /* A bufferevent writes in a later pass than it reads. */
        while (bev != NULL && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
            ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 0);
        ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 0);
        loopback_wait_for(peer, NAGLE_HEADER);
        run->peer_has = loopback_unread(peer);
        loopback_sender_state(nagle_server, &after);
        clean = after.acked == before.acked;
        loopback_receive(peer, NAGLE_HEADER + NAGLE_BODY);
        run->body_ms = now_ms() - start;
    }
    if (bev != NULL)
        bufferevent_free(bev);
    if (ev != NULL)
        event_free(ev);
    event_base_free(base);
    close(nagle_server);
    close(peer);
    return clean;
}

static void nagle_reply(bool nodelay, bool bufferevent, struct nagle_run *run)
{
    for (int attempt = 1; !two_part_reply(nodelay, bufferevent, run); attempt++)
        ck_assert_msg(attempt < 20, "the client acknowledged early 20 times running");
}

/* Nagle's algorithm on (the default): the first send() leaves, the second
   waits in the kernel while the first is unacknowledged, and the client
   delays that ACK: the body arrives no sooner than 20 ms after it was
   written (a lower bound only; Linux delays an ACK 40 ms at least). */
START_TEST(a_reply_in_two_sends_waits_for_the_clients_delayed_ack)
{
    struct nagle_run run;
    nagle_reply(false, false, &run);
    ck_assert_uint_eq(nagle_held, NAGLE_BODY);
    ck_assert_int_eq(run.peer_has, NAGLE_HEADER);
    ck_assert_int_ge(run.body_ms, 20);
}
END_TEST

/* The whole reply reaches the client at once: nothing held. */
static void nothing_waits(bool nodelay, bool bufferevent)
{
    struct nagle_run run;
    nagle_reply(nodelay, bufferevent, &run);
    ck_assert_uint_eq(nagle_held, 0);
    ck_assert_int_eq(run.peer_has, NAGLE_HEADER + NAGLE_BODY);
}

/* TCP_NODELAY on the server's socket: both send()s leave at once. */
START_TEST(with_tcp_nodelay_a_reply_in_two_sends_leaves_at_once)
{
    nothing_waits(true, false);
}
END_TEST

/* Two bufferevent_write()s in one callback leave together: the output
   buffer is written in a later pass, all of it. With Nagle's algorithm
   on, nothing waits. */
START_TEST(two_bufferevent_writes_in_one_callback_leave_together)
{
    nothing_waits(false, true);
}
END_TEST

static void on_accepted(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *address,
                        int length, void *arg)
{
    (void)address, (void)length;
    *(int *)arg = fd;
    ck_assert_int_eq(event_base_loopbreak(evconnlistener_get_base(listener)), 0);
}

/* libevent leaves Nagle's algorithm on: a socket evconnlistener accepts
   has TCP_NODELAY off. */
START_TEST(evconnlistener_leaves_tcp_nodelay_off)
{
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int accepted = -1;
    struct evconnlistener *listener =
        evconnlistener_new_bind(base, on_accepted, &accepted, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
                                (struct sockaddr *)&address, sizeof address);
    ck_assert_ptr_nonnull(listener);
    socklen_t length = sizeof address;
    ck_assert_int_eq(getsockname(evconnlistener_get_fd(listener), (struct sockaddr *)&address, &length), 0);
    int client = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(client, 0);
    ck_assert_int_eq(connect(client, (struct sockaddr *)&address, sizeof address), 0);
    ck_assert_int_eq(event_base_dispatch(base), 0);
    ck_assert_int_ge(accepted, 0);
    int nodelay = -1;
    length = sizeof nodelay;
    ck_assert_int_eq(getsockopt(accepted, IPPROTO_TCP, TCP_NODELAY, &nodelay, &length), 0);
    ck_assert_int_eq(nodelay, 0);
    close(accepted);
    close(client);
    evconnlistener_free(listener);
    event_base_free(base);
}
END_TEST

/* --- 12: a base for two threads, without evthread_use_pthreads() ------------------ */

/* The test's thread runs the loop, watching a pipe; a worker waits until
   that thread sleeps in epoll_wait(), adds a timer with a zero timeout,
   waits up to 2 s for its callback (generous: a woken loop runs it at
   once on a busy machine too), then writes a byte to the pipe. */
enum threads_when { NO_THREADS, THREADS_FIRST, THREADS_AFTER_THE_BASE };

static struct event *late_job;
static int late_wake[2];
static atomic_int late_loop_tid, late_job_ran;
static bool late_ran_while_waiting; /* the worker's finding, read after the join */

static void on_late_job(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    atomic_store(&late_job_ran, 1);
}

static void on_late_wake(evutil_socket_t fd, short what, void *arg)
{
    char byte;
    (void)what;
    ck_assert_int_eq(read(fd, &byte, 1), 1);
    ck_assert_int_eq(event_del(arg), 0);
}

static void *add_from_a_worker(void *arg)
{
    static const struct timeval zero = { 0, 0 };
    (void)arg;
    asleep_wait_for_epoll(atomic_load(&late_loop_tid), 10000);
    if (event_add(late_job, &zero) != 0)
        return NULL; /* late_ran_while_waiting stays false; the test sees the job never ran */
    long long deadline = now_ms() + 2000;
    while (!atomic_load(&late_job_ran) && now_ms() < deadline)
        sleep_ms(1);
    late_ran_while_waiting = atomic_load(&late_job_ran);
    if (write(late_wake[1], "w", 1) != 1)
        return NULL;
    return NULL;
}

/* Whether the worker's timer ran while the worker waited; it must have
   run by the end, once the pipe woke the loop. */
static bool job_ran_while_the_worker_waited(enum threads_when when)
{
    if (when == THREADS_FIRST)
        ck_assert_int_eq(evthread_use_pthreads(), 0);
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    if (when == THREADS_AFTER_THE_BASE)
        ck_assert_int_eq(evthread_use_pthreads(), 0);
    late_job = evtimer_new(base, on_late_job, NULL);
    ck_assert_ptr_nonnull(late_job);
    ck_assert_int_eq(pipe(late_wake), 0);
    struct event *wake = event_new(base, late_wake[0], EV_READ | EV_PERSIST, on_late_wake, event_self_cbarg());
    ck_assert_ptr_nonnull(wake);
    ck_assert_int_eq(event_add(wake, NULL), 0);
    atomic_store(&late_job_ran, 0);
    late_ran_while_waiting = false;
    atomic_store(&late_loop_tid, asleep_thread_id());
    pthread_t worker;
    ck_assert_int_eq(pthread_create(&worker, NULL, add_from_a_worker, NULL), 0);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_int_eq(pthread_join(worker, NULL), 0);
    ck_assert_msg(atomic_load(&late_job_ran), "the job never ran");
    event_free(wake);
    event_free(late_job);
    close(late_wake[0]);
    close(late_wake[1]);
    event_base_free(base);
    if (when != NO_THREADS)
        libevent_global_shutdown();
    return late_ran_while_waiting;
}

/* Without evthread_use_pthreads(), event_add() from another thread puts
   the timer in the base's heap, and nothing wakes the loop: it runs the
   timer only when the pipe wakes it, 2 s later. */
START_TEST(event_add_from_another_thread_does_not_wake_an_unthreaded_loop)
{
    ck_assert(!job_ran_while_the_worker_waited(NO_THREADS));
}
END_TEST

/* evthread_use_pthreads() before event_base_new(): the same event_add()
   wakes the loop, which runs the timer at once. */
START_TEST(event_add_from_another_thread_wakes_a_base_made_after_evthread_use_pthreads)
{
    ck_assert(job_ran_while_the_worker_waited(THREADS_FIRST));
}
END_TEST

/* evthread_use_pthreads() after event_base_new() is too late for that
   base: it has no way to be woken, and event_add() from another thread
   does not wake its loop. */
START_TEST(evthread_use_pthreads_after_event_base_new_is_too_late_for_that_base)
{
    ck_assert(!job_ran_while_the_worker_waited(THREADS_AFTER_THE_BASE));
}
END_TEST

Suite *mistakes_suite(void)
{
    Suite *s = suite_create("mistakes");
    TCase *tc = tcase_create("programs");
    tcase_set_timeout(tc, 180);
    tcase_add_loop_test(tc, bug_program_shows_its_symptom, 0, 2 * NPROGRAMS);
    tcase_add_loop_test(tc, fix_program_shows_the_fix, 0, 2 * NPROGRAMS);
    suite_add_tcase(s, tc);

    struct {
        const char *name;
        const TTest *tests[4];
    } cases[] = {
        { "partial-read", { a_read_callback_gets_what_arrived_not_a_message,
                            evbuffer_readln_leaves_a_partial_line_in_the_input } },
        { "never-enabled", { a_new_socket_bufferevent_does_not_read,
                             bufferevent_enable_ev_read_makes_the_read_callback_run } },
        { "empty-loop", { a_loop_whose_timer_was_never_added_returns_1_at_once,
                          a_loop_waits_for_an_added_timer_then_returns_1 } },
        { "free-unsent", { bufferevent_free_throws_away_unsent_output,
                           freeing_in_the_write_callback_loses_nothing } },
        { "free-in-cb", { a_socket_closed_with_its_event_added_leaves_its_number_deaf,
                          event_free_in_its_own_callback_then_close_is_safe,
                          event_free_finalize_in_its_own_callback_calls_back_after_it,
                          event_finalize_outside_the_loop_calls_back_from_the_loop } },
        { "add-twice", { adding_a_pending_timer_again_moves_its_deadline,
                         event_assign_on_an_added_timer_makes_the_loop_spin,
                         event_del_before_event_assign_is_allowed_in_debug_mode } },
        { "sigpipe", { a_write_to_a_gone_client_kills_with_sigpipe,
                       with_sigpipe_ignored_the_bufferevent_reports_epipe } },
        { "active-twice", { event_active_on_an_active_event_runs_the_callback_once,
                            event_active_after_the_callback_runs_it_again } },
        { "emfile", { a_listener_without_an_error_callback_logs_emfile_and_stays_enabled,
                      disabling_the_listener_in_its_error_callback_stops_the_wake_ups } },
        { "blocking-call", { a_callback_that_blocks_delays_every_other_callback,
                             a_job_in_zero_timeout_slices_lets_other_clients_in_between,
                             slices_run_again_with_event_active_keep_other_clients_out } },
        { "nagle", { a_reply_in_two_sends_waits_for_the_clients_delayed_ack,
                     with_tcp_nodelay_a_reply_in_two_sends_leaves_at_once,
                     two_bufferevent_writes_in_one_callback_leave_together,
                     evconnlistener_leaves_tcp_nodelay_off } },
        { "no-evthread", { event_add_from_another_thread_does_not_wake_an_unthreaded_loop,
                           event_add_from_another_thread_wakes_a_base_made_after_evthread_use_pthreads,
                           evthread_use_pthreads_after_event_base_new_is_too_late_for_that_base } },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tc = tcase_create(cases[i].name);
        tcase_set_timeout(tc, 60);
        for (size_t j = 0; j < 4 && cases[i].tests[j] != NULL; j++)
            tcase_add_test(tc, cases[i].tests[j]);
        suite_add_tcase(s, tc);
    }
    return s;
}

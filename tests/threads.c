/*
 * threads.c - the threads suite: what lesson 17 teaches about threads and
 * debug mode, against the real libevent (2.1.12 on Debian 12, epoll
 * backend). Lessons cite these tests as `threads/<test name>`.
 *
 *   threads   evthread_use_pthreads(), waking a loop from another thread,
 *             a base per thread, the 1.x way with a pipe;
 *   debug     event_enable_debug_mode(): what it catches and what not,
 *             how it ends the process, the fatal and log callbacks;
 *   memory    event_set_mem_functions() counting libevent's blocks, and
 *             libevent_global_shutdown().
 *
 * No outcome depends on timing. A test that acts on a loop running in
 * another thread first waits until that thread is asleep in epoll_wait()
 * (the kernel says so in /proc/self/task/TID/syscall). What must happen is
 * waited for, up to 5 s, and fails with a message if it does not; what
 * must not happen is watched for a bounded 200 ms, after which the loop
 * is woken the 1.x way (a byte down a pipe it watches) to show that what
 * was asked of it was queued all along. A slow machine can only make a
 * "must not" test pass that should fail, never fail one that should pass.
 * The "not woken" tests touch a base without locks from a second thread
 * while its own thread sleeps in the kernel: what those tests are about.
 *
 * Debug-mode misuses end the process, so each runs in a child forked by
 * the test; the child sends libevent's log lines (and its fatal
 * callback's error code) down a pipe, and the test judges the child's
 * end and that text.
 */
#define _GNU_SOURCE /* gettid() */
#include "suites.h"
#include "util.h"

#include "asleep.h" /* asleep_in_epoll(): lessons/lib, shared with lesson 20 */

#include <event.h> /* event_init(), event_set(): the 1.x calls */
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/thread.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { WAIT_MS = 5000, QUIET_MS = 200 };

static const struct timeval ten_seconds = { 10, 0 };

static void nothing(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

/* --- A loop in a thread of its own ------------------------------------------------ */

struct looper {
    struct event_base *base;
    struct event *waker; /* EV_READ|EV_PERSIST on pipe[0]: the 1.x way to wake it */
    int pipe[2];
    pthread_t thread;
    atomic_int tid;
    atomic_int result;   /* what the loop returned, once done */
    atomic_bool done;
};

static atomic_int callbacks; /* of the event a test activates */

static void count_callback(evutil_socket_t fd, short what, void *arg)
{
    nothing(fd, what, arg);
    atomic_fetch_add(&callbacks, 1);
}

/* A byte on the pipe wakes the loop; 'q' also ends it (from its own
   thread, which is safe with or without locks). */
static void on_waker(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct looper *l = arg;
    char byte;
    while (read(fd, &byte, 1) == 1)
        if (byte == 'q' && event_base_loopbreak(l->base) != 0)
            abort();
}

static void *loop_thread(void *arg)
{
    struct looper *l = arg;
    atomic_store(&l->tid, (int)gettid());
    atomic_store(&l->result, event_base_loop(l->base, EVLOOP_NO_EXIT_ON_EMPTY));
    atomic_store(&l->done, true);
    return NULL;
}

/* Run base's loop in a new thread; return once it is asleep. */
static void looper_start(struct looper *l, struct event_base *base)
{
    memset(l, 0, sizeof *l);
    l->base = base;
    ck_assert_int_eq(pipe(l->pipe), 0);
    ck_assert_int_eq(evutil_make_socket_nonblocking(l->pipe[0]), 0);
    l->waker = event_new(base, l->pipe[0], EV_READ | EV_PERSIST, on_waker, l);
    ck_assert_ptr_nonnull(l->waker);
    ck_assert_int_eq(event_add(l->waker, NULL), 0);
    ck_assert_int_eq(pthread_create(&l->thread, NULL, loop_thread, l), 0);
    long long deadline = now_ms() + WAIT_MS;
    while (atomic_load(&l->tid) == 0 || !asleep_in_epoll(atomic_load(&l->tid))) {
        ck_assert_msg(now_ms() < deadline, "the loop thread was not asleep in epoll_wait() within %d ms",
                      WAIT_MS);
        sleep_ms(1);
    }
}

static void looper_send(struct looper *l, char byte)
{
    ck_assert_int_eq(write(l->pipe[1], &byte, 1), 1);
}

/* End the loop (a 'q' down its pipe) and the thread; the loop's result. */
static int looper_stop(struct looper *l)
{
    if (!atomic_load(&l->done))
        looper_send(l, 'q');
    ck_assert_int_eq(pthread_join(l->thread, NULL), 0);
    event_free(l->waker);
    close(l->pipe[0]);
    close(l->pipe[1]);
    return atomic_load(&l->result);
}

/* Wait up to WAIT_MS for *flag to become at least want. */
static bool wait_for(atomic_int *flag, int want)
{
    long long deadline = now_ms() + WAIT_MS;
    while (atomic_load(flag) < want && now_ms() < deadline)
        sleep_ms(1);
    return atomic_load(flag) >= want;
}

static bool wait_done(struct looper *l)
{
    long long deadline = now_ms() + WAIT_MS;
    while (!atomic_load(&l->done) && now_ms() < deadline)
        sleep_ms(1);
    return atomic_load(&l->done);
}

/* --- threads ---------------------------------------------------------------------- */

/* A BEV_OPT_THREADSAFE bufferevent needs a lock from libevent: NULL before
   evthread_use_pthreads(), made after it. */
START_TEST(threadsafe_bufferevent_needs_evthread_use_pthreads)
{
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    ck_assert_ptr_null(bufferevent_socket_new(base, -1, BEV_OPT_THREADSAFE));
    event_base_free(base);

    ck_assert_int_eq(evthread_use_pthreads(), 0);
    base = event_base_new();
    ck_assert_ptr_nonnull(base);
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_THREADSAFE);
    ck_assert_ptr_nonnull(bev);
    bufferevent_free(bev);
    event_base_free(base);
    libevent_global_shutdown();
}
END_TEST

/* With evthread_use_pthreads() first, event_active() from another thread
   wakes a loop asleep in epoll_wait(): the base has a notification
   descriptor, written when an event is activated from outside its loop. */
START_TEST(event_active_from_another_thread_wakes_a_threaded_loop)
{
    ck_assert_int_eq(evthread_use_pthreads(), 0);
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    struct event *ev = event_new(base, -1, 0, count_callback, NULL);
    ck_assert_ptr_nonnull(ev);
    struct looper l;
    looper_start(&l, base);
    event_active(ev, EV_READ, 0);
    ck_assert_msg(wait_for(&callbacks, 1), "the callback did not run within %d ms", WAIT_MS);
    looper_stop(&l);
    event_free(ev);
    event_base_free(base);
    libevent_global_shutdown();
}
END_TEST

/* Without evthread_use_pthreads(), the same event_active() queues the
   event but nothing wakes the loop: it sleeps on until something it
   watches happens (here a byte down its pipe), and runs the callback
   then. */
START_TEST(event_active_from_another_thread_does_not_wake_an_unthreaded_loop)
{
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    struct event *ev = event_new(base, -1, 0, count_callback, NULL);
    ck_assert_ptr_nonnull(ev);
    struct looper l;
    looper_start(&l, base);
    event_active(ev, EV_READ, 0);
    sleep_ms(QUIET_MS);
    ck_assert_msg(atomic_load(&callbacks) == 0, "the callback ran: the loop was woken");
    ck_assert_msg(asleep_in_epoll(atomic_load(&l.tid)), "the loop is no longer in epoll_wait()");
    looper_send(&l, 'w');
    ck_assert_msg(wait_for(&callbacks, 1), "woken by its pipe, the loop did not run the callback");
    looper_stop(&l);
    event_free(ev);
    event_base_free(base);
}
END_TEST

/* "Before anything else": a base made before evthread_use_pthreads() got
   no lock and no notification descriptor, and does not get them later. */
START_TEST(a_base_made_before_evthread_use_pthreads_is_not_woken)
{
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    ck_assert_int_eq(evthread_use_pthreads(), 0);
    struct event *ev = event_new(base, -1, 0, count_callback, NULL);
    ck_assert_ptr_nonnull(ev);
    struct looper l;
    looper_start(&l, base);
    event_active(ev, EV_READ, 0);
    sleep_ms(QUIET_MS);
    ck_assert_msg(atomic_load(&callbacks) == 0, "the callback ran: the loop was woken");
    looper_send(&l, 'w');
    ck_assert(wait_for(&callbacks, 1));
    looper_stop(&l);
    event_free(ev);
    event_base_free(base);
    libevent_global_shutdown();
}
END_TEST

/* event_base_loopexit() from another thread ends a threaded loop at once,
   which returns 0, as for a loopexit from its own thread. */
START_TEST(loopexit_from_another_thread_ends_a_threaded_loop)
{
    ck_assert_int_eq(evthread_use_pthreads(), 0);
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    struct looper l;
    looper_start(&l, base);
    ck_assert_int_eq(event_base_loopexit(base, NULL), 0);
    ck_assert_msg(wait_done(&l), "the loop did not return within %d ms", WAIT_MS);
    ck_assert_int_eq(looper_stop(&l), 0);
    event_base_free(base);
    libevent_global_shutdown();
}
END_TEST

/* ... and does not wake an unthreaded one, which leaves its loop only when
   it next wakes for something else. */
START_TEST(loopexit_from_another_thread_does_not_wake_an_unthreaded_loop)
{
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    struct looper l;
    looper_start(&l, base);
    ck_assert_int_eq(event_base_loopexit(base, NULL), 0);
    sleep_ms(QUIET_MS);
    ck_assert_msg(!atomic_load(&l.done), "the loop returned: it was woken");
    looper_send(&l, 'w');
    ck_assert_msg(wait_done(&l), "woken by its pipe, the loop did not return");
    ck_assert_int_eq(looper_stop(&l), 0);
    event_base_free(base);
}
END_TEST

/* A loop with nothing added returns 1 at once, however soon another
   thread means to activate something; EVLOOP_NO_EXIT_ON_EMPTY makes it
   wait for that. */
START_TEST(a_loop_with_nothing_added_waits_only_with_no_exit_on_empty)
{
    ck_assert_int_eq(evthread_use_pthreads(), 0);
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    ck_assert_int_eq(event_base_loop(base, 0), 1);

    struct event *ev = event_new(base, -1, 0, count_callback, NULL);
    ck_assert_ptr_nonnull(ev);
    struct looper l;
    looper_start(&l, base);
    ck_assert_int_eq(event_del(l.waker), 0); /* now nothing is added at all */
    event_active(ev, EV_READ, 0);
    ck_assert(wait_for(&callbacks, 1));
    ck_assert_msg(!atomic_load(&l.done), "the loop returned once nothing was left");
    ck_assert_int_eq(event_base_loopexit(base, NULL), 0);
    ck_assert(wait_done(&l));
    ck_assert_int_eq(looper_stop(&l), 0);
    event_free(ev);
    event_base_free(base);
    libevent_global_shutdown();
}
END_TEST

/* The 1.x way needs no locks: a byte down a pipe wakes a loop in another
   thread, whose base is never touched by the writer. */
START_TEST(a_pipe_wakes_a_loop_in_another_thread_without_evthread)
{
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    struct looper l;
    looper_start(&l, base);
    looper_send(&l, 'q'); /* its callback runs, and leaves the loop */
    ck_assert_msg(wait_done(&l), "the loop did not wake for its pipe within %d ms", WAIT_MS);
    ck_assert_int_eq(looper_stop(&l), 0);
    event_base_free(base);
}
END_TEST

/* event_init() makes a new base each time and makes it the current one,
   for every thread: event_set() and event_once() then use the newest
   base; event_base_set() moves an event to another. */
START_TEST(event_init_makes_the_newest_base_current)
{
    struct event_base *first = event_init();
    struct event_base *second = event_init();
    ck_assert_ptr_nonnull(first);
    ck_assert_ptr_nonnull(second);
    ck_assert_ptr_ne(first, second);
    struct event ev;
    event_set(&ev, -1, 0, nothing, NULL);
    ck_assert_ptr_eq(event_get_base(&ev), second);
    ck_assert_int_eq(event_base_set(first, &ev), 0);
    ck_assert_ptr_eq(event_get_base(&ev), first);

    ck_assert_int_eq(event_once(-1, EV_TIMEOUT, count_callback, NULL, NULL), 0);
    ck_assert_int_ge(event_base_loop(first, EVLOOP_NONBLOCK), 0);
    ck_assert_int_eq(atomic_load(&callbacks), 0); /* not there */
    ck_assert_int_ge(event_base_loop(second, EVLOOP_NONBLOCK), 0);
    ck_assert_int_eq(atomic_load(&callbacks), 1);
    event_base_free(first);
    event_base_free(second);
}
END_TEST

static atomic_int dispatch_result = -2, dispatch_tid;

static void *dispatch_thread(void *arg)
{
    (void)arg;
    atomic_store(&dispatch_tid, (int)gettid());
    atomic_store(&dispatch_result, event_dispatch());
    return NULL;
}

static void read_byte(evutil_socket_t fd, short what, void *arg)
{
    char byte;
    if (read(fd, &byte, 1) == 1)
        count_callback(fd, what, arg);
}

/* event_dispatch() runs the base that is current when it is called: a
   later event_init() in another thread makes a new current base, and the
   loop already running goes on with its own. The 1.x way to a base per
   thread in lesson 17. */
START_TEST(event_dispatch_runs_the_base_current_when_it_is_called)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    ck_assert_int_eq(evutil_make_socket_nonblocking(fds[0]), 0);
    struct event_base *first = event_init();
    ck_assert_ptr_nonnull(first);
    struct event reader;
    event_set(&reader, fds[0], EV_READ, read_byte, NULL); /* on first */
    ck_assert_int_eq(event_add(&reader, NULL), 0);
    pthread_t thread;
    ck_assert_int_eq(pthread_create(&thread, NULL, dispatch_thread, NULL), 0);
    /* Asleep in epoll_wait(): in first's loop, the only base there is. */
    long long deadline = now_ms() + WAIT_MS;
    while (atomic_load(&dispatch_tid) == 0 || !asleep_in_epoll(atomic_load(&dispatch_tid))) {
        ck_assert_msg(now_ms() < deadline, "event_dispatch() was not asleep within %d ms", WAIT_MS);
        sleep_ms(1);
    }
    struct event_base *second = event_init();
    ck_assert_ptr_nonnull(second);
    ck_assert_int_eq(write(fds[1], "x", 1), 1);
    ck_assert_msg(wait_for(&callbacks, 1), "the first base's loop did not run its event");
    ck_assert_int_eq(pthread_join(thread, NULL), 0);
    ck_assert_int_eq(atomic_load(&dispatch_result), 1); /* its only event ran: nothing left */
    event_base_free(first);
    event_base_free(second);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

/* The lesson's two programs, each run 3 times: every job's result reaches
   main, in order, and both exit 0 (their traces are the lessons suite's). */
START_TEST(lesson_threads_programs_hand_every_result_back)
{
    for (int style = 1; style <= 2; style++)
        for (int run = 0; run < 3; run++) {
            char *program;
            if (asprintf(&program, "%s/17-event%d-threads", bin_dir(), style) < 0)
                abort();
            const char *argv[] = { program, NULL };
            struct run_result r;
            run_program(argv, NULL, 20000, &r);
            ck_assert_msg(r.status == 0, "%s: status %d\n%s", program, r.status, r.err);
            const char *at = r.out;
            for (int job = 1; job <= 3; job++) {
                char want[64];
                snprintf(want, sizeof want, "main     woken      job=%d result=%d", job, job * job);
                at = strstr(at, want);
                ck_assert_msg(at != NULL, "%s: no \"%s\" in its place", program, want);
            }
            run_result_free(&r);
            free(program);
        }
}
END_TEST

/* thread.h (and the libevent book, Ref1) tell a program to call
   event_use_pthreads(); no such function exists: it is
   evthread_use_pthreads(). */
START_TEST(thread_h_names_event_use_pthreads_which_does_not_exist)
{
    ck_assert_ptr_null(dlsym(RTLD_DEFAULT, "event_use_pthreads"));
    ck_assert_ptr_nonnull(dlsym(RTLD_DEFAULT, "evthread_use_pthreads"));
}
END_TEST

/* --- debug: misuses in a child ---------------------------------------------------- */

static int report_fd = -1; /* the child's end of the pipe to the test */

static void report(const char *text)
{
    if (write(report_fd, text, strlen(text)) < 0)
        _exit(90);
}

static void log_to_report(int severity, const char *message)
{
    char line[512];
    snprintf(line, sizeof line, "%d %s\n", severity, message);
    report(line);
}

static bool fatal_returns; /* the child's fatal callback returns */

static void fatal_to_report(int err)
{
    char line[64];
    snprintf(line, sizeof line, "fatal %d\n", err);
    report(line);
    if (!fatal_returns)
        _exit(3);
}

/* Freed blocks are kept, not given back: a use after event_free() then
   reads memory that is still the process's. */
static void *kept_malloc(size_t size)
{
    return malloc(size);
}
static void *kept_realloc(void *p, size_t size)
{
    return realloc(p, size);
}
static void kept_free(void *p)
{
    (void)p; /* kept: the child ends soon */
}

struct child {
    bool signaled;
    int code;  /* exit status, or signal number */
    char *log; /* "SEVERITY message" lines, "fatal ERR" lines */
};

enum child_setup { PLAIN = 0, DEBUG = 1, FATAL_CB = 2, KEEP_FREED = 4 };

/* Fork a child that sets up as asked, runs body() and exits 0. */
static void run_child(int setup, void (*body)(void), struct child *c)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        report_fd = fds[1];
        if (setup & KEEP_FREED)
            event_set_mem_functions(kept_malloc, kept_realloc, kept_free);
        event_set_log_callback(log_to_report);
        if (setup & FATAL_CB)
            event_set_fatal_callback(fatal_to_report);
        if (setup & DEBUG)
            event_enable_debug_mode();
        body();
        _exit(0);
    }
    close(fds[1]);
    size_t size = 0, cap = 4096;
    c->log = malloc(cap);
    ck_assert_ptr_nonnull(c->log);
    ssize_t n;
    while ((n = read(fds[0], c->log + size, cap - size - 1)) > 0)
        if ((size += (size_t)n) == cap - 1)
            ck_assert_ptr_nonnull(c->log = realloc(c->log, cap *= 2));
    c->log[size] = '\0';
    close(fds[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    c->signaled = WIFSIGNALED(status);
    c->code = c->signaled ? WTERMSIG(status) : WEXITSTATUS(status);
}

static void assert_aborted_with(const struct child *c, const char *message)
{
    ck_assert_msg(c->signaled && c->code == SIGABRT, "the child did not abort (%s %d); log: %s",
                  c->signaled ? "signal" : "status", c->code, c->log);
    char want[256];
    snprintf(want, sizeof want, "%d %s", EVENT_LOG_ERR, message);
    ck_assert_msg(strncmp(c->log, want, strlen(want)) == 0, "log: %s\nwanted: %s", c->log, want);
}

static void assert_exited_quietly(const struct child *c)
{
    ck_assert_msg(!c->signaled && c->code == 0, "the child ended with %s %d; log: %s",
                  c->signaled ? "signal" : "status", c->code, c->log);
    ck_assert_msg(c->log[0] == '\0', "libevent logged: %s", c->log);
}

static struct event_base *child_base(void)
{
    struct event_base *base = event_base_new();
    if (base == NULL)
        _exit(91);
    return base;
}

static void add_a_copy(void)
{
    struct event_base *base = child_base();
    struct event *ev = event_new(base, -1, 0, nothing, NULL);
    struct event *copy = malloc(event_get_struct_event_size());
    if (ev == NULL || copy == NULL)
        _exit(92);
    memcpy(copy, ev, event_get_struct_event_size());
    if (event_add(copy, &ten_seconds) != 0)
        _exit(93);
    /* Without debug mode: added, as good as the original. */
    if (event_pending(copy, EV_TIMEOUT, NULL) != EV_TIMEOUT || event_del(copy) != 0)
        _exit(94);
}

/* A copy of a set-up event (as realloc() or a struct assignment makes)
   was never set up at its own address: debug mode aborts at its first
   use, naming its own helper rather than the call that was made. */
START_TEST(debug_mode_aborts_on_a_copied_event)
{
    struct child c;
    run_child(DEBUG, add_a_copy, &c);
    assert_aborted_with(&c, "event_debug_assert_is_setup_ called on a non-initialized event 0x");
    free(c.log);
}
END_TEST

static void assign_an_added_event(void)
{
    struct event_base *base = child_base();
    struct event *ev = event_new(base, -1, 0, nothing, NULL);
    if (ev == NULL || event_add(ev, &ten_seconds) != 0)
        _exit(92);
    if (event_assign(ev, base, -1, 0, nothing, NULL) != 0)
        _exit(93);
    /* Without debug mode: the base still counts it as added, the event no
       longer says it is: the two disagree. */
    if (event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED) != 1 ||
        event_pending(ev, EV_TIMEOUT, NULL) != 0)
        _exit(94);
}

static void set_an_added_event(void)
{
    static struct event ev;
    if (event_init() == NULL)
        _exit(91);
    event_set(&ev, -1, 0, nothing, NULL);
    if (event_add(&ev, &ten_seconds) != 0)
        _exit(92);
    event_set(&ev, -1, 0, nothing, NULL); /* the 1.x call goes through the same check */
}

START_TEST(debug_mode_aborts_on_setting_up_an_added_event_again)
{
    struct child c;
    run_child(DEBUG, assign_an_added_event, &c);
    assert_aborted_with(&c, "event_debug_assert_not_added_ called on an already added event 0x");
    free(c.log);
    run_child(DEBUG, set_an_added_event, &c);
    assert_aborted_with(&c, "event_debug_assert_not_added_ called on an already added event 0x");
    free(c.log);
}
END_TEST

static void add_after_free(void)
{
    struct event_base *base = child_base();
    struct event *ev = event_new(base, -1, 0, nothing, NULL);
    if (ev == NULL)
        _exit(92);
    event_free(ev);
    if (event_add(ev, &ten_seconds) != 0) /* the memory is kept: see kept_free() */
        _exit(93);
}

START_TEST(debug_mode_aborts_on_an_event_used_after_event_free)
{
    struct child c;
    run_child(DEBUG | KEEP_FREED, add_after_free, &c);
    assert_aborted_with(&c, "event_debug_assert_is_setup_ called on a non-initialized event 0x");
    free(c.log);
}
END_TEST

static int blocking_pipe[2];

static void event_for_a_blocking_pipe(void)
{
    struct event_base *base = child_base();
    if (pipe(blocking_pipe) != 0)
        _exit(92);
    if (event_new(base, blocking_pipe[0], EV_READ, nothing, NULL) == NULL)
        _exit(93);
}

static void event_for_a_nonblocking_pipe(void)
{
    struct event_base *base = child_base();
    if (pipe(blocking_pipe) != 0 || evutil_make_socket_nonblocking(blocking_pipe[0]) != 0)
        _exit(92);
    struct event *ev = event_new(base, blocking_pipe[0], EV_READ, nothing, NULL);
    if (ev == NULL)
        _exit(93);
    event_free(ev);
    event_base_free(base);
}

/* Not in event.h's list of what debug mode catches: an event for a
   descriptor that is not non-blocking. */
START_TEST(debug_mode_aborts_on_an_event_for_a_blocking_descriptor)
{
    struct child c;
    run_child(DEBUG, event_for_a_blocking_pipe, &c);
    assert_aborted_with(&c, "event.c:");
    ck_assert_msg(strstr(c.log, "Assertion flags & O_NONBLOCK failed in "
                                "event_debug_assert_socket_nonblocking_") != NULL,
                  "log: %s", c.log);
    free(c.log);
    run_child(DEBUG, event_for_a_nonblocking_pipe, &c);
    assert_exited_quietly(&c);
    free(c.log);
}
END_TEST

static void use_a_zeroed_event(void)
{
    struct event *ev = calloc(1, event_get_struct_event_size());
    if (ev == NULL || event_initialized(ev) != 0)
        _exit(92);
    char line[64];
    snprintf(line, sizeof line, "add %d\n", event_add(ev, &ten_seconds));
    report(line);
    snprintf(line, sizeof line, "del %d\n", event_del(ev));
    report(line);
    event_active(ev, EV_READ, 0);
    snprintf(line, sizeof line, "pending %d\n", event_pending(ev, EV_TIMEOUT | EV_READ, NULL));
    report(line);
    free(ev);
}

/* event.h: debug mode catches "any function ... called on a non-assigned
   event". event_add(), event_del(), event_active() and event_pending() on
   zeroed storage never reach debug mode: each refuses an event without a
   base first, and says so, in either mode. */
START_TEST(event_add_refuses_a_zeroed_event_with_or_without_debug_mode)
{
    for (int debug = 0; debug <= 1; debug++) {
        struct child c;
        run_child(debug ? DEBUG : PLAIN, use_a_zeroed_event, &c);
        ck_assert_msg(!c.signaled && c.code == 0, "debug=%d: ended with %d", debug, c.code);
        char want[512];
        snprintf(want, sizeof want,
                 "%1$d event_add: event has no event_base set.\nadd -1\n"
                 "%1$d event_del_: event has no event_base set.\ndel -1\n"
                 "%1$d event_active: event has no event_base set.\n"
                 "%1$d event_pending: event has no event_base set.\npending 0\n",
                 EVENT_LOG_WARN);
        ck_assert_str_eq(c.log, want);
        free(c.log);
    }
}
END_TEST

static void get_events_of_a_zeroed_event(void)
{
    struct event *ev = calloc(1, event_get_struct_event_size());
    if (ev == NULL || event_get_events(ev) != 0)
        _exit(92);
    free(ev);
}

/* The calls that do not look for a base first are caught on zeroed
   storage: event_get_events(), for one. */
START_TEST(debug_mode_aborts_on_a_getter_of_a_zeroed_event)
{
    struct child c;
    run_child(DEBUG, get_events_of_a_zeroed_event, &c);
    assert_aborted_with(&c, "event_debug_assert_is_setup_ called on a non-initialized event 0x");
    free(c.log);
    run_child(PLAIN, get_events_of_a_zeroed_event, &c);
    assert_exited_quietly(&c);
    free(c.log);
}
END_TEST

static void new_event_for_a_blocking_pipe(void)
{
    event_for_a_blocking_pipe();
}

/* Without debug mode every one of those goes through: return values 0,
   nothing logged (each body checks what it can, see above). */
START_TEST(without_debug_mode_the_same_misuses_go_unnoticed)
{
    void (*bodies[])(void) = { add_a_copy, assign_an_added_event, add_after_free,
                               new_event_for_a_blocking_pipe };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct child c;
        run_child(KEEP_FREED, bodies[i], &c);
        ck_assert_msg(!c.signaled && c.code == 0, "misuse %zu: ended with %s %d; log: %s", i,
                      c.signaled ? "signal" : "status", c.code, c.log);
        ck_assert_msg(c.log[0] == '\0', "misuse %zu: libevent logged: %s", i, c.log);
        free(c.log);
    }
}
END_TEST

/* event.h: "By default, Libevent will call exit(1)". For what debug mode
   catches it calls abort(); exit(1) is for the other fatal errors, such as
   enabling debug mode twice. */
static void enable_debug_mode_again(void)
{
    event_enable_debug_mode();
}

START_TEST(debug_mode_errors_abort_although_event_h_says_exit_1)
{
    struct child c;
    run_child(DEBUG, add_a_copy, &c);
    ck_assert_msg(c.signaled && c.code == SIGABRT, "not SIGABRT: %d", c.code);
    free(c.log);
    run_child(DEBUG, enable_debug_mode_again, &c);
    ck_assert_msg(!c.signaled && c.code == 1, "enabling it twice: %s %d", c.signaled ? "signal" : "status", c.code);
    char want[96];
    snprintf(want, sizeof want, "%d event_enable_debug_mode was called twice!\n", EVENT_LOG_ERR);
    ck_assert_str_eq(c.log, want);
    free(c.log);
}
END_TEST

static void make_a_base_then_enable_debug_mode(void)
{
    child_base();
    event_enable_debug_mode();
}

/* event.h says debug mode "MUST be called before any events or
   event_bases have been created"; after a base, it is a fatal error. */
START_TEST(enabling_debug_mode_after_a_base_exits_1)
{
    struct child c;
    run_child(PLAIN, make_a_base_then_enable_debug_mode, &c);
    ck_assert_msg(!c.signaled && c.code == 1, "ended with %s %d", c.signaled ? "signal" : "status",
                  c.code);
    char want[160];
    snprintf(want, sizeof want,
             "%d event_enable_debug_mode must be called *before* creating any events or "
             "event_bases\n",
             EVENT_LOG_ERR);
    ck_assert_str_eq(c.log, want);
    free(c.log);
}
END_TEST

/* The fatal callback runs after the message, with the error code: for
   debug mode's catches (int)0xdeaddead, libevent's private "abort" code,
   for the others 1. If it returns, libevent calls exit() with that code:
   status 0xad. */
START_TEST(fatal_callback_gets_the_code_and_exit_follows_if_it_returns)
{
    struct child c;
    run_child(DEBUG | FATAL_CB, add_a_copy, &c);
    ck_assert_msg(!c.signaled && c.code == 3, "ended with %d", c.code);
    char want[32];
    snprintf(want, sizeof want, "fatal %d\n", (int)0xdeaddead);
    ck_assert_msg(strstr(c.log, want) != NULL, "log: %s", c.log);
    free(c.log);

    run_child(DEBUG | FATAL_CB, enable_debug_mode_again, &c);
    ck_assert_msg(strstr(c.log, "fatal 1\n") != NULL, "log: %s", c.log);
    free(c.log);

    fatal_returns = true;
    run_child(DEBUG | FATAL_CB, add_a_copy, &c);
    ck_assert_msg(!c.signaled && c.code == 0xad, "after the callback returned: %s %d",
                  c.signaled ? "signal" : "status", c.code);
    free(c.log);
}
END_TEST

/* --- memory: libevent's allocations, counted --------------------------------------- */

static long live; /* libevent's blocks not yet freed */

static void *count_malloc(size_t size)
{
    void *p = malloc(size);
    live += p != NULL;
    return p;
}
static void *count_realloc(void *old, size_t size)
{
    void *p = realloc(old, size);
    live += p != NULL && old == NULL;
    return p;
}
static void count_free(void *p)
{
    live -= p != NULL;
    free(p);
}

/* Live blocks made by event_new() of n events. */
static long blocks_for_events(struct event_base *base, int n)
{
    struct event *evs[100];
    long before = live;
    for (int i = 0; i < n; i++)
        ck_assert_ptr_nonnull(evs[i] = event_new(base, -1, 0, nothing, NULL));
    long made = live - before;
    for (int i = 0; i < n; i++)
        event_free(evs[i]);
    return made;
}

/* Every block libevent allocates goes through the hooks: one per event
   without debug mode, two with it (its entry in the debug map); and with
   neither threads nor debug mode, event_base_free() frees them all. */
static void count_blocks(int setup)
{
    event_set_mem_functions(count_malloc, count_realloc, count_free);
    if (setup & DEBUG)
        event_enable_debug_mode();
    struct event_base *base = event_base_new();
    if (base == NULL)
        _exit(91);
    char line[64];
    snprintf(line, sizeof line, "per-event %ld\n", blocks_for_events(base, 100) / 100);
    report(line);
    event_base_free(base);
    snprintf(line, sizeof line, "after-free %ld\n", live);
    report(line);
    libevent_global_shutdown();
    snprintf(line, sizeof line, "after-shutdown %ld\n", live);
    report(line);
}

static void count_plain(void)
{
    count_blocks(PLAIN);
}
static void count_debug(void)
{
    count_blocks(DEBUG);
}
START_TEST(debug_mode_costs_one_block_per_event_until_global_shutdown)
{
    struct child c;
    run_child(PLAIN, count_plain, &c);
    ck_assert_str_eq(c.log, "per-event 1\nafter-free 0\nafter-shutdown 0\n");
    free(c.log);
    run_child(PLAIN, count_debug, &c);
    ck_assert_str_eq(c.log, "per-event 2\nafter-free 1\nafter-shutdown 0\n");
    free(c.log);
}
END_TEST

static void count_threads_from_the_start(void)
{
    event_set_mem_functions(count_malloc, count_realloc, count_free);
    if (evthread_use_pthreads() != 0)
        _exit(92);
    struct event_base *base = event_base_new();
    if (base == NULL)
        _exit(91);
    event_base_free(base);
    char line[64];
    snprintf(line, sizeof line, "after-free %s\n", live > 0 ? "some" : "none");
    report(line);
    libevent_global_shutdown();
    snprintf(line, sizeof line, "after-shutdown %ld\n", live);
    report(line);
}

/* evthread_use_pthreads() allocates libevent's global locks, which only
   libevent_global_shutdown() frees. */
START_TEST(evthread_use_pthreads_leaves_blocks_until_global_shutdown)
{
    struct child c;
    run_child(PLAIN, count_threads_from_the_start, &c);
    ck_assert_str_eq(c.log, "after-free some\nafter-shutdown 0\n");
    free(c.log);
}
END_TEST

Suite *threads_suite(void)
{
    Suite *s = suite_create("threads");
    struct {
        const char *name;
        const TTest *tests[14];
    } cases[] = {
        { "threads",
          { threadsafe_bufferevent_needs_evthread_use_pthreads,
            event_active_from_another_thread_wakes_a_threaded_loop,
            event_active_from_another_thread_does_not_wake_an_unthreaded_loop,
            a_base_made_before_evthread_use_pthreads_is_not_woken,
            loopexit_from_another_thread_ends_a_threaded_loop,
            loopexit_from_another_thread_does_not_wake_an_unthreaded_loop,
            a_loop_with_nothing_added_waits_only_with_no_exit_on_empty,
            a_pipe_wakes_a_loop_in_another_thread_without_evthread,
            event_init_makes_the_newest_base_current,
            event_dispatch_runs_the_base_current_when_it_is_called,
            lesson_threads_programs_hand_every_result_back,
            thread_h_names_event_use_pthreads_which_does_not_exist } },
        { "debug",
          { debug_mode_aborts_on_a_copied_event, debug_mode_aborts_on_setting_up_an_added_event_again,
            debug_mode_aborts_on_an_event_used_after_event_free,
            debug_mode_aborts_on_an_event_for_a_blocking_descriptor,
            event_add_refuses_a_zeroed_event_with_or_without_debug_mode,
            debug_mode_aborts_on_a_getter_of_a_zeroed_event,
            without_debug_mode_the_same_misuses_go_unnoticed,
            debug_mode_errors_abort_although_event_h_says_exit_1,
            enabling_debug_mode_after_a_base_exits_1,
            fatal_callback_gets_the_code_and_exit_follows_if_it_returns } },
        { "memory",
          { debug_mode_costs_one_block_per_event_until_global_shutdown,
            evthread_use_pthreads_leaves_blocks_until_global_shutdown } },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_set_timeout(tc, 30);
        for (size_t j = 0; j < 14 && cases[i].tests[j] != NULL; j++)
            tcase_add_test(tc, cases[i].tests[j]);
        suite_add_tcase(s, tc);
    }
    return s;
}

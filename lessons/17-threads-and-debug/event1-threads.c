/*
 * Lesson 17, event1 style, role "threads": a base per thread, and waking
 * a loop from another thread, the 1.x way.
 *
 * What it shows: 1.x had no thread support at all: no locks, and no way
 *   to wake a loop from outside. So no base is ever used by two threads
 *   at once. Main and a worker thread each run a base of their own and
 *   hand each other a job and its result down a pipe: the bytes are the
 *   message, and their arrival wakes the receiver's loop through an
 *   EV_READ|EV_PERSIST event on the pipe. Main stops the worker with a
 *   quit message; the worker deletes its event and its loop runs out.
 * Run it:   make lesson-17                 (both roles, both styles)
 *           build/bin/17-event1-threads    (this program alone)
 * Look for: "worker woken job=1" right after "main sends job=1": a write()
 *   from main woke a loop asleep in another thread. Each thread prints
 *   only between being woken and waking the other, so the trace has one
 *   order.
 */
#include "event1.h"

#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

enum { JOBS = 3, QUIT = 0 };

struct message {
    int job;    /* 1, 2, ...; QUIT: stop */
    int result; /* job * job, the worker's answer */
};

/* doc: channel */
/* One direction between the threads: a pipe, and an event on its read
   end in the receiver's base. The pipe carries the message itself, so
   nothing else is shared. */
struct channel {
    struct event ev_storage;
    struct event *ev; /* EV_READ|EV_PERSIST: added, it waits for a message */
    int fds[2];
};

static void channel_open(struct channel *ch, struct event_base *base,
                         void (*cb)(int, short, void *))
{
    if (pipe(ch->fds) != 0)
        die_errno("pipe");
    if (evutil_make_socket_nonblocking(ch->fds[0]) != 0)
        die("evutil_make_socket_nonblocking");
    ch->ev = &ch->ev_storage;
    event_set(ch->ev, ch->fds[0], EV_READ | EV_PERSIST, cb, NULL);
    if (event_base_set(base, ch->ev) != 0) /* event_set() used the current base */
        die("event_base_set");
    if (event_add(ch->ev, NULL) != 0)
        die("event_add");
}

/* The last thing a thread does before the other one runs: once the bytes
   are in the pipe the receiver may already be printing. */
static void channel_send(struct channel *ch, struct message m)
{
    /* At most PIPE_BUF bytes: one write, never mixed with another. */
    if (write(ch->fds[1], &m, sizeof m) != (ssize_t)sizeof m)
        die_errno("write");
}

static struct message channel_receive(struct channel *ch)
{
    struct message m;
    if (read(ch->fds[0], &m, sizeof m) != (ssize_t)sizeof m)
        die_errno("read");
    return m;
}
/* doc: end */

static void channel_close(struct channel *ch)
{
    if (event_del(ch->ev) != 0)
        die("event_del");
    close(ch->fds[0]);
    close(ch->fds[1]);
}

static struct event_base *main_base, *worker_base;
static struct channel to_worker, to_main;
static int worker_result; /* what the worker's loop returned */

/* doc: worker */
/* In the worker thread, from the worker's loop. */
static void on_job(int fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    struct message m = channel_receive(&to_worker);
    if (m.job == QUIT) {
        trace_style("worker: quit; event_del(), and its loop has nothing left");
        if (event_del(to_worker.ev) != 0)
            die("event_del");
        return;
    }
    trace("worker", "woken", "job=%d", m.job);
    m.result = m.job * m.job;
    trace("worker", "replies", "job=%d result=%d", m.job, m.result);
    channel_send(&to_main, m);
}

/* The worker's first callback, from its loop: the loop runs, on the
   worker's base, and main may make the next current base. */
static int ready[2]; /* a pipe: the worker says so to main */

static void on_running(int fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    char byte = 'r';
    if (write(ready[1], &byte, 1) != 1)
        die_errno("write");
}

static void *worker_main(void *arg)
{
    (void)arg;
    /* event_dispatch() runs the current base: still the worker's. */
    worker_result = event_dispatch();
    return NULL;
}
/* doc: end */

/* In the main thread, from main's loop. */
static void on_reply(int fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    struct message m = channel_receive(&to_main);
    trace("main", "woken", "job=%d result=%d", m.job, m.result);
    if (m.job == JOBS) {
        trace("main", "leaves", "jobs=%d", JOBS);
        if (event_loopexit(NULL) != 0)
            die("event_loopexit");
        return;
    }
    trace("main", "sends", "job=%d", m.job + 1);
    channel_send(&to_worker, (struct message){ .job = m.job + 1 });
}

static void start(int fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    trace("main", "sends", "job=1");
    channel_send(&to_worker, (struct message){ .job = 1 });
}

int main(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: 17-event1-threads (no arguments)\n");
        return 2;
    }

    /* doc: setup */
    trace_style("1.x had no thread support: no locks, so no base is used by two threads at once");
    /* event_init() makes a base and makes it the current one, for every
       thread: what event_dispatch(), event_once() and event_set() use. So
       the worker's base is made first, and its loop started, before
       main's base becomes the current one. */
    worker_base = event_init();
    if (worker_base == NULL)
        die("event_init");
    trace("base", "created", "thread=worker");
    channel_open(&to_worker, worker_base, on_job);
    trace_style("each channel: a pipe, and an EV_READ|EV_PERSIST event on it");
    if (pipe(ready) != 0)
        die_errno("pipe");
    if (event_once(-1, EV_TIMEOUT, on_running, NULL, NULL) != 0)
        die("event_once");

    pthread_t worker;
    if (pthread_create(&worker, NULL, worker_main, NULL) != 0)
        die("pthread_create");
    char byte;
    if (read(ready[0], &byte, 1) != 1) /* blocks until on_running() */
        die_errno("read");
    trace("worker", "started", NULL);
    trace_style("its loop runs the worker's base: now main's may become the current one");

    main_base = event_init();
    if (main_base == NULL)
        die("event_init");
    trace("base", "created", "thread=main");
    channel_open(&to_main, main_base, on_reply);
    /* doc: end */

    /* The first job goes from main's loop, once it runs. */
    if (event_once(-1, EV_TIMEOUT, start, NULL, NULL) != 0)
        die("event_once");
    trace("loop", "dispatch", "thread=main");
    int result = event_dispatch();
    trace("loop", "returned", "thread=main result=%d", result);

    /* doc: stop */
    /* No call reaches into another thread's base: a message asks the
       worker to stop, and it deletes its only event. */
    trace_style("a quit message down the worker's pipe");
    channel_send(&to_worker, (struct message){ .job = QUIT });
    if (pthread_join(worker, NULL) != 0)
        die("pthread_join");
    trace("worker", "joined", NULL);
    trace_style("the worker's loop returned %d", worker_result);
    /* doc: end */

    channel_close(&to_worker);
    channel_close(&to_main);
    event_base_free(worker_base);
    trace("base", "freed", "thread=worker");
    event_base_free(main_base);
    trace("base", "freed", "thread=main");
    close(ready[0]);
    close(ready[1]);
    return 0;
}

/*
 * Lesson 17, event2 style, role "threads": a base per thread, and waking
 * a loop from another thread.
 *
 * What it shows: evthread_use_pthreads() gives libevent locks, and every
 *   base made after it a way to be woken from another thread. Before it, a
 *   BEV_OPT_THREADSAFE bufferevent cannot even be made. Then main and a
 *   worker thread each run a base of their own, and hand each other a job
 *   and its result: the message goes into a mailbox under a lock, and
 *   event_active() on the other thread's event wakes that thread's loop.
 *   Main ends the worker's loop with event_base_loopexit(), from main.
 * Run it:   make lesson-17                 (both roles, both styles)
 *           build/bin/17-event2-threads    (this program alone)
 * Look for: "worker woken job=1" right after "main sends job=1": main's
 *   event_active() woke a loop asleep in another thread. Each thread
 *   prints only between being woken and waking the other, so the trace
 *   has one order.
 */
#include "event2.h"

#include <pthread.h>
#include <stdio.h>

enum { JOBS = 3 };

struct message {
    int job;    /* 1, 2, ... */
    int result; /* job * job, the worker's answer */
};

/* doc: channel */
/* One direction between the threads: an event in the receiver's base,
   and a mailbox. libevent's locks guard libevent's structures, not the
   program's: the mailbox has a lock of its own. */
struct channel {
    struct event *ev; /* never added: only event_active() makes it run */
    pthread_mutex_t lock;
    struct message box;
};

static void channel_open(struct channel *ch, struct event_base *base, event_callback_fn cb)
{
    ch->ev = event_new(base, -1, 0, cb, NULL);
    if (ch->ev == NULL)
        die("event_new");
    if (pthread_mutex_init(&ch->lock, NULL) != 0)
        die("pthread_mutex_init");
}

/* The last thing a thread does before the other one runs: after
   event_active() the receiver may already be printing. */
static void channel_send(struct channel *ch, struct message m)
{
    if (pthread_mutex_lock(&ch->lock) != 0)
        die("pthread_mutex_lock");
    ch->box = m;
    if (pthread_mutex_unlock(&ch->lock) != 0)
        die("pthread_mutex_unlock");
    event_active(ch->ev, EV_READ, 0); /* from any thread: wakes the receiver's loop */
}

static struct message channel_receive(struct channel *ch)
{
    if (pthread_mutex_lock(&ch->lock) != 0)
        die("pthread_mutex_lock");
    struct message m = ch->box;
    if (pthread_mutex_unlock(&ch->lock) != 0)
        die("pthread_mutex_unlock");
    return m;
}
/* doc: end */

static void channel_close(struct channel *ch)
{
    event_free(ch->ev);
    if (pthread_mutex_destroy(&ch->lock) != 0)
        die("pthread_mutex_destroy");
}

static struct event_base *main_base, *worker_base;
static struct channel to_worker, to_main;
static int worker_result; /* what the worker's loop returned */

/* doc: worker */
/* In the worker thread, from the worker's loop. */
static void on_job(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    struct message m = channel_receive(&to_worker);
    trace("worker", "woken", "job=%d", m.job);
    m.result = m.job * m.job;
    trace("worker", "replies", "job=%d result=%d", m.job, m.result);
    channel_send(&to_main, m);
}

static void *worker_main(void *arg)
{
    (void)arg;
    /* Its job event is never added: without EVLOOP_NO_EXIT_ON_EMPTY the
       loop would find nothing to wait for and return at once. */
    worker_result = event_base_loop(worker_base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}
/* doc: end */

/* In the main thread, from main's loop. */
static void on_reply(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    struct message m = channel_receive(&to_main);
    trace("main", "woken", "job=%d result=%d", m.job, m.result);
    if (m.job == JOBS) {
        trace("main", "leaves", "jobs=%d", JOBS);
        if (event_base_loopexit(main_base, NULL) != 0)
            die("event_base_loopexit");
        return;
    }
    trace("main", "sends", "job=%d", m.job + 1);
    channel_send(&to_worker, (struct message){ .job = m.job + 1 });
}

static void start(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    trace("main", "sends", "job=1");
    channel_send(&to_worker, (struct message){ .job = 1 });
}

/* doc: before */
/* What a BEV_OPT_THREADSAFE bufferevent needs: a lock from libevent. */
static const char *threadsafe_bufferevent(void)
{
    struct event_base *base = event_base_new();
    if (base == NULL)
        die("event_base_new");
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_THREADSAFE);
    if (bev != NULL)
        bufferevent_free(bev);
    event_base_free(base);
    return bev != NULL ? "made" : "NULL";
}
/* doc: end */

int main(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: 17-event2-threads (no arguments)\n");
        return 2;
    }

    /* doc: setup */
    trace_style("BEV_OPT_THREADSAFE before evthread_use_pthreads(): %s", threadsafe_bufferevent());
    /* First, before any base that another thread will touch: a base made
       earlier has no lock and cannot be woken, even afterwards. */
    if (evthread_use_pthreads() != 0)
        die("evthread_use_pthreads");
    trace_style("evthread_use_pthreads(): bases made from now on have a lock and can be woken");
    trace_style("BEV_OPT_THREADSAFE after it: %s", threadsafe_bufferevent());

    worker_base = event_base_new();
    if (worker_base == NULL)
        die("event_base_new");
    trace("base", "created", "thread=worker");
    channel_open(&to_worker, worker_base, on_job);
    trace_style("each channel: event_new(base, -1, 0), woken by event_active()");

    pthread_t worker;
    if (pthread_create(&worker, NULL, worker_main, NULL) != 0)
        die("pthread_create");
    trace("worker", "started", NULL);

    main_base = event_base_new();
    if (main_base == NULL)
        die("event_base_new");
    trace("base", "created", "thread=main");
    channel_open(&to_main, main_base, on_reply);
    /* doc: end */

    /* The first job goes from main's loop, once it runs. */
    if (event_base_once(main_base, -1, EV_TIMEOUT, start, NULL, NULL) != 0)
        die("event_base_once");
    trace("loop", "dispatch", "thread=main");
    int result = event_base_loop(main_base, EVLOOP_NO_EXIT_ON_EMPTY);
    trace("loop", "returned", "thread=main result=%d", result);

    /* doc: stop */
    /* Safe from this thread because the worker's base has a lock, and it
       wakes the worker's loop: it returns 0, as from its own thread. */
    trace_style("event_base_loopexit(worker's base) from the main thread");
    if (event_base_loopexit(worker_base, NULL) != 0)
        die("event_base_loopexit");
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
    /* The locks evthread_use_pthreads() made are libevent's globals: only
       this frees them (valgrind would call them "still reachable"). */
    libevent_global_shutdown();
    trace_style("libevent_global_shutdown(): its global locks freed");
    return 0;
}

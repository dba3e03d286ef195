/*
 * Lesson 20, event2 style, mistake 12, the fix: evthread_use_pthreads()
 * before the base is made.
 *
 * What it shows: the same worker and the same event_active() as the bug,
 *   but evthread_use_pthreads() is called before event_base_new(): the
 *   base gets a lock, and a way to be woken (a descriptor its loop
 *   watches, written when another thread adds or activates an event). The
 *   loop wakes at once and runs the job while the worker waits; the
 *   worker's byte down the pipe comes after. Called after
 *   event_base_new(), evthread_use_pthreads() would be too late for that
 *   base.
 * Run it:   make lesson-20     (every mistake: the bug, then the fix)
 *           build/bin/20-event2-12-no-evthread-fix
 * Look for: "the job ran while the worker waited: yes".
 */
#include "event2.h"

#include "asleep.h"
#include "clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

enum { ASLEEP_LIMIT_MS = 10000, JOB_WAIT_MS = 2000 }; /* generous: a busy machine */

static struct event *job; /* made active by the worker, never added */
static int wake_pipe[2];  /* the worker's other way to wake the loop */
static atomic_int main_tid, job_ran;
static bool ran_while_waiting; /* the worker's finding, read after the join */

static void on_job(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)arg;
    probe_unwatched_callback("job", what);
    trace_note("the job runs in the main thread");
    atomic_store(&job_ran, 1);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    struct event *self = arg;
    char byte;
    probe_callback(self, what);
    if (read(fd, &byte, 1) != 1)
        die_errno("read");
    if (event_del(self) != 0) /* nothing is left: the loop may end */
        die("event_del");
    probe_step(self, "deleted");
}

static void *worker(void *arg)
{
    (void)arg;
    asleep_wait_for_epoll(atomic_load(&main_tid), ASLEEP_LIMIT_MS);
    /* doc: worker */
    event_active(job, EV_READ, 0); /* returns nothing to check */
    /* Wait for the main thread to run it (a woken loop does at once). */
    long long deadline = now_ms() + JOB_WAIT_MS;
    while (!atomic_load(&job_ran) && now_ms() < deadline)
        sleep_ms(1);
    ran_while_waiting = atomic_load(&job_ran);
    /* Wake the loop the other way: a byte down a pipe it watches. */
    if (write(wake_pipe[1], "w", 1) != 1)
        die_errno("write");
    /* doc: end */
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: %s (no arguments)\n", argv[0]);
        return 2;
    }
    /* doc: fix */
    /* Before any base: bases made from now on have a lock and can be
       woken from another thread. */
    if (evthread_use_pthreads() != 0)
        die("evthread_use_pthreads");
    trace_style("evthread_use_pthreads() first: the base has a lock and can be woken");
    struct event_base *base = event_base_new();
    if (base == NULL)
        die("event_base_new");
    /* doc: end */
    job = event_new(base, -1, 0, on_job, NULL);
    if (job == NULL)
        die("event_new");
    if (pipe(wake_pipe) != 0)
        die_errno("pipe");
    struct event *wake = event_new(base, wake_pipe[0], EV_READ | EV_PERSIST, on_wake, event_self_cbarg());
    if (wake == NULL)
        die("event_new");
    probe_watch(wake, "wake");
    if (event_add(wake, NULL) != 0)
        die("event_add");
    probe_added(wake, NULL);

    atomic_store(&main_tid, asleep_thread_id());
    pthread_t thread;
    int error = pthread_create(&thread, NULL, worker, NULL);
    if (error != 0)
        die("pthread_create");
    trace("loop", "dispatch", NULL);
    int result = event_base_dispatch(base);
    trace("loop", "returned", "result=%d", result);
    error = pthread_join(thread, NULL);
    if (error != 0)
        die("pthread_join");
    trace_note("the job ran while the worker waited: %s", ran_while_waiting ? "yes" : "no");

    probe_free(wake);
    event_free(wake);
    event_free(job);
    close(wake_pipe[0]);
    close(wake_pipe[1]);
    event_base_free(base);
    libevent_global_shutdown(); /* the global locks evthread_use_pthreads() made */
    return 0;
}

/*
 * Lesson 20, event1 style, mistake 12, the bug: a worker thread makes an
 * event active on the main thread's base, and nothing happens.
 *
 * What it shows: 1.x had no thread support at all: a base had no lock
 *   and no way to be woken from another thread, and 2.1 gives a 1.x
 *   program none either. The main thread's loop sleeps in epoll_wait(),
 *   watching a pipe; a worker waits until it sleeps there, then calls
 *   event_active() on the job event. The job is queued, but the loop
 *   sleeps on: the worker waits for the job to run, in vain, then writes
 *   a byte to the pipe. Woken by that, the loop runs the job at last.
 *   (Two threads touching a base that has no lock is also a data race:
 *   here the main thread is asleep in the kernel while the worker does
 *   it, which makes it harmless in this program, not in a real one.)
 * Run it:   make lesson-20     (every mistake: the bug, then the fix)
 *           build/bin/20-event1-12-no-evthread-bug
 * Look for: "the job ran while the worker waited: no": the job's
 *   callback came only after the worker's byte down the pipe.
 */
#include "event1.h"

#include "asleep.h"
#include "clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

enum { ASLEEP_LIMIT_MS = 10000, JOB_WAIT_MS = 2000 }; /* generous: a busy machine */

static struct event job; /* made active by the worker, never added */
static int wake_pipe[2];  /* the worker's other way to wake the loop */
static atomic_int main_tid, job_ran;
static bool ran_while_waiting; /* the worker's finding, read after the join */

static void on_job(int fd, short what, void *arg)
{
    (void)fd, (void)arg;
    probe_unwatched_callback("job", what);
    trace_note("the job runs in the main thread");
    atomic_store(&job_ran, 1);
}

static void on_wake(int fd, short what, void *arg)
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
    event_active(&job, EV_READ, 1); /* returns nothing to check */
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
    /* The mistake: the main thread's base, used from two threads. */
    trace_style("1.x had no threads: the base has no lock and cannot be woken");
    struct event_base *base = event_init();
    if (base == NULL)
        die("event_init");
    event_set(&job, -1, 0, on_job, NULL);
    if (pipe(wake_pipe) != 0)
        die_errno("pipe");
    static struct event wake_ev;
    struct event *wake = &wake_ev;
    event_set(wake, wake_pipe[0], EV_READ | EV_PERSIST, on_wake, wake);
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
    int result = event_dispatch();
    trace("loop", "returned", "result=%d", result);
    error = pthread_join(thread, NULL);
    if (error != 0)
        die("pthread_join");
    trace_note("the job ran while the worker waited: %s", ran_while_waiting ? "yes" : "no");

    probe_free(wake); /* static storage: nothing to free */
    close(wake_pipe[0]);
    close(wake_pipe[1]);
    event_base_free(base);
    return 0;
}

/*
 * Lesson 20, event1 style, mistake 12, the fix, the 1.x way: the worker
 * never touches the main thread's base; it writes to a pipe.
 *
 * What it shows: 1.x had no thread support, so its programs kept every
 *   base to one thread and woke a loop in another thread with a byte
 *   down a pipe the loop watches (lesson 17). Here the job event watches
 *   such a pipe: the worker, once the main thread's loop sleeps, writes
 *   one byte to it instead of calling event_active(). The write wakes the
 *   loop, which runs the job at once, while the worker waits; the
 *   worker's second byte, down the other pipe, comes after. No libevent
 *   call from the worker, so no lock is needed.
 * Run it:   make lesson-20     (every mistake: the bug, then the fix)
 *           build/bin/20-event1-12-no-evthread-fix
 * Look for: "the job ran while the worker waited: yes".
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

static struct event job; /* watches job_pipe: the worker's byte wakes the loop */
static int job_pipe[2];
static int wake_pipe[2];  /* the worker's other way to wake the loop */
static atomic_int main_tid, job_ran;
static bool ran_while_waiting; /* the worker's finding, read after the join */

static void on_job(int fd, short what, void *arg)
{
    char byte;
    (void)arg;
    probe_unwatched_callback("job", what);
    if (read(fd, &byte, 1) != 1)
        die_errno("read");
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
    /* doc: fix-worker */
    /* The 1.x way: no call on the main thread's base; a byte it reads. */
    if (write(job_pipe[1], "j", 1) != 1)
        die_errno("write");
    /* doc: end */
    /* Wait for the main thread to run it (a woken loop does at once). */
    long long deadline = now_ms() + JOB_WAIT_MS;
    while (!atomic_load(&job_ran) && now_ms() < deadline)
        sleep_ms(1);
    ran_while_waiting = atomic_load(&job_ran);
    /* Wake the loop the other way: a byte down a pipe it watches. */
    if (write(wake_pipe[1], "w", 1) != 1)
        die_errno("write");
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: %s (no arguments)\n", argv[0]);
        return 2;
    }
    trace_style("1.x had no threads: the worker wakes the loop with a byte down a pipe");
    struct event_base *base = event_init();
    if (base == NULL)
        die("event_init");
    if (pipe(job_pipe) != 0 || pipe(wake_pipe) != 0)
        die_errno("pipe");
    /* doc: fix */
    event_set(&job, job_pipe[0], EV_READ, on_job, NULL);
    if (event_add(&job, NULL) != 0)
        die("event_add");
    /* doc: end */
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
    close(job_pipe[0]);
    close(job_pipe[1]);
    close(wake_pipe[0]);
    close(wake_pipe[1]);
    event_base_free(base);
    return 0;
}

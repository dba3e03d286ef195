/*
 * Exercise 08: worker threads hand their results to the loop (solution).
 *
 *   event2 [--workers W] [--results N]
 *
 * W worker threads (1 to 16; 2 by default) each compute N results (1 to
 * 100000; 1000 by default): result K of worker W is K * K. Each result is
 * handed to the main thread, whose event loop prints it as "W K K*K" on a
 * line of its own. Once all W * N are printed the loop ends, the workers
 * are joined, "done W*N" is printed, and everything is freed.
 *
 * What makes it safe: evthread_use_pthreads() before the base is made, so
 * event_active() from a worker locks the base and wakes the loop; and a
 * mutex around the queue of results, which is the program's own data.
 */
#include "event2.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_WORKERS = 16, MAX_RESULTS = 100000 };

struct result {
    int worker, k;
    long long value;
    struct result *next;
};

/* Results handed over and not printed yet, oldest first. */
static struct {
    pthread_mutex_t lock;
    struct result *head, *tail;
} queue = { .lock = PTHREAD_MUTEX_INITIALIZER };

static struct event_base *base;
static struct event *deliver; /* made active by a worker: results wait */
static int results_per_worker;
static long printed, expected;

static void *worker_main(void *arg)
{
    int worker = (int)(intptr_t)arg;
    for (int k = 1; k <= results_per_worker; k++) {
        struct result *r = malloc(sizeof *r);
        if (r == NULL) {
            fprintf(stderr, "out of memory in worker %d\n", worker);
            exit(1);
        }
        *r = (struct result){ .worker = worker, .k = k, .value = (long long)k * k };
        pthread_mutex_lock(&queue.lock);
        r->next = queue.head; /* push: the newest in front */
        queue.head = r;
        if (queue.tail == NULL)
            queue.tail = r;
        pthread_mutex_unlock(&queue.lock);
        /* Safe from any thread once evthread_use_pthreads() was called
           before the base was made: it also wakes the loop. Several
           activations before the loop looks make one callback. */
        event_active(deliver, EV_READ, 0);
    }
    return NULL;
}

/* In the main thread: take every result waiting, print them. */
static void on_deliver(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    pthread_mutex_lock(&queue.lock);
    struct result *r = queue.head;
    queue.head = queue.tail = NULL;
    pthread_mutex_unlock(&queue.lock);
    while (r != NULL) {
        struct result *next = r->next;
        printf("%d %d %lld\n", r->worker, r->k, r->value);
        printed++;
        free(r);
        r = next;
    }
    if (printed == expected && event_base_loopexit(base, NULL) != 0) {
        fprintf(stderr, "event_base_loopexit failed\n");
        exit(1);
    }
}

static int number_arg(const char *flag, const char *text, int max)
{
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (errno != 0 || *text == '\0' || *end != '\0' || n < 1 || n > max) {
        fprintf(stderr, "event2: %s wants a number from 1 to %d, not '%s'\n", flag, max, text);
        exit(2);
    }
    return (int)n;
}

int main(int argc, char **argv)
{
    int workers = 2;
    results_per_worker = 1000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc)
            workers = number_arg("--workers", argv[++i], MAX_WORKERS);
        else if (strcmp(argv[i], "--results") == 0 && i + 1 < argc)
            results_per_worker = number_arg("--results", argv[++i], MAX_RESULTS);
        else {
            fprintf(stderr, "usage: event2 [--workers 1-%d] [--results 1-%d]\n", MAX_WORKERS,
                    MAX_RESULTS);
            return 2;
        }
    }
    expected = (long)workers * results_per_worker;

    if (evthread_use_pthreads() != 0) { /* before the base */
        fprintf(stderr, "evthread_use_pthreads failed\n");
        return 1;
    }
    base = event_base_new();
    if (base == NULL || (deliver = event_new(base, -1, 0, on_deliver, NULL)) == NULL) {
        fprintf(stderr, "event_base_new or event_new failed\n");
        return 1;
    }

    pthread_t threads[MAX_WORKERS];
    for (int w = 0; w < workers; w++)
        if (pthread_create(&threads[w], NULL, worker_main, (void *)(intptr_t)(w + 1)) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            return 1;
        }
    /* deliver is never added: without this flag the loop would find
       nothing to wait for and return at once. */
    if (event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY) != 0) {
        fprintf(stderr, "event_base_loop failed\n");
        return 1;
    }
    for (int w = 0; w < workers; w++)
        if (pthread_join(threads[w], NULL) != 0) {
            fprintf(stderr, "pthread_join failed\n");
            return 1;
        }
    printf("done %ld\n", printed);

    event_free(deliver);
    event_base_free(base);
    libevent_global_shutdown();
    return 0;
}

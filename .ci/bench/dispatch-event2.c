/*
 * dispatch-event2.c - one dispatch loop in libevent 2.x calls, for `make
 * bench` to set beside dispatch-event1.c, the same loop in 1.x calls.
 * Built with the event2 kit's purity check, as a lesson variant is.
 *
 * Run it:   build/bench/dispatch-event2 [ROUNDS [ROUND_MS]]
 * Prints:   "dispatch_ns N": one event_base_loop(EVLOOP_ONCE) with 1 of
 *           100 eventfds readable; "churn_ns N": event_assign(),
 *           event_add(), event_del() on one event; "churn_new_ns N": the
 *           same with event_new() and event_free(). Medians of ROUNDS rounds.
 * Look for: the same figures as dispatch-event1's; event_new() adds a
 *   malloc() and a free() to each event's life.
 */
#define _GNU_SOURCE
#include "micro.h"

#include <event2/event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

enum { WATCHED = 100, MAX_ROUNDS = 64 };

static struct event *events[WATCHED], *spare; /* on storage the program owns */
static int fds[WATCHED], callbacks;
static struct event_base *base;

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)what, (void)arg;
    uint64_t count;
    if (read(fd, &count, sizeof count) == (ssize_t)sizeof count)
        callbacks++;
}

static void fail(const char *what)
{
    fprintf(stderr, "dispatch-event2: %s failed\n", what);
    exit(1);
}

/* Mean ns of one loop iteration that runs one ready event. */
static double dispatch_round(int round_ms)
{
    long long spent = 0, until = micro_now_ns() + (long long)round_ms * 1000000;
    const uint64_t one = 1;
    int n = 0;
    while (n < 10 || micro_now_ns() < until) {
        if (write(fds[(n * 37) % WATCHED], &one, sizeof one) != (ssize_t)sizeof one)
            fail("write");
        callbacks = 0;
        long long t0 = micro_now_ns();
        if (event_base_loop(base, EVLOOP_ONCE) != 0)
            fail("event_base_loop");
        spent += micro_now_ns() - t0;
        if (callbacks != 1)
            fail("one callback per iteration");
        n++;
    }
    return (double)spent / n;
}

/* Mean ns of setting up, adding and deleting one event; with_new: the
   event is made with event_new() and freed each time. */
static double churn_round(int round_ms, int with_new)
{
    long long until = micro_now_ns() + (long long)round_ms * 1000000, t0 = micro_now_ns();
    int n = 0;
    while (n < 1000 || micro_now_ns() < until) {
        for (int i = 0; i < 100; i++, n++) {
            struct event *ev = spare;
            if (with_new)
                ev = event_new(base, fds[0], EV_READ, on_readable, NULL);
            else if (event_assign(ev, base, fds[0], EV_READ, on_readable, NULL) != 0)
                ev = NULL;
            if (ev == NULL || event_add(ev, NULL) != 0 || event_del(ev) != 0)
                fail("event_new, event_assign, event_add or event_del");
            if (with_new)
                event_free(ev);
        }
    }
    return (double)(micro_now_ns() - t0) / n;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 5, round_ms = argc > 2 ? atoi(argv[2]) : 50;
    if (rounds < 1 || rounds > MAX_ROUNDS || round_ms < 1)
        fail("ROUNDS (1-64) and ROUND_MS");
    base = event_base_new();
    size_t size = event_get_struct_event_size();
    unsigned char *storage = malloc((WATCHED + 1) * size);
    if (base == NULL || storage == NULL)
        fail("event_base_new");
    spare = (struct event *)(storage + WATCHED * size);
    for (int i = 0; i < WATCHED; i++) {
        if ((fds[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
            fail("eventfd");
        events[i] = (struct event *)(storage + (size_t)i * size);
        if (event_assign(events[i], base, fds[i], EV_READ | EV_PERSIST, on_readable, NULL) != 0 ||
            event_add(events[i], NULL) != 0)
            fail("event_assign or event_add");
    }
    double dispatch[MAX_ROUNDS], churn[MAX_ROUNDS], churn_new[MAX_ROUNDS];
    dispatch_round(round_ms / 4 + 1); /* warm-up */
    for (int r = 0; r < rounds; r++) {
        dispatch[r] = dispatch_round(round_ms);
        churn[r] = churn_round(round_ms, 0);
        churn_new[r] = churn_round(round_ms, 1);
    }
    printf("dispatch_ns %.1f\nchurn_ns %.1f\nchurn_new_ns %.1f\n", median(dispatch, rounds),
           median(churn, rounds), median(churn_new, rounds));
    for (int i = 0; i < WATCHED; i++) {
        if (event_del(events[i]) != 0)
            fail("event_del");
        close(fds[i]);
    }
    event_base_free(base);
    free(storage);
    return 0;
}

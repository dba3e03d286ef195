/*
 * dispatch-event1.c - one dispatch loop in libevent 1.x calls, for `make
 * bench` to set beside dispatch-event2.c, the same loop in 2.x calls.
 * Built with the event1 kit's purity check, as a lesson variant is.
 *
 * Run it:   build/bench/dispatch-event1 [ROUNDS [ROUND_MS]]
 * Prints:   "dispatch_ns N": one event_loop(EVLOOP_ONCE) with 1 of 100
 *           eventfds readable; "churn_ns N": event_set(), event_add(),
 *           event_del() on one event. Medians of ROUNDS rounds.
 * Look for: the same figures as dispatch-event2's: event_set() is
 *   event_assign() on the current base, event_loop() is event_base_loop().
 */
#define _GNU_SOURCE
#include "micro.h"

#include <event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

enum { WATCHED = 100, MAX_ROUNDS = 64 };

static struct event events[WATCHED], spare; /* storage the program owns */
static int fds[WATCHED], callbacks;

static void on_readable(int fd, short what, void *arg)
{
    (void)what, (void)arg;
    uint64_t count;
    if (read(fd, &count, sizeof count) == (ssize_t)sizeof count)
        callbacks++;
}

static void fail(const char *what)
{
    fprintf(stderr, "dispatch-event1: %s failed\n", what);
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
        if (event_loop(EVLOOP_ONCE) != 0)
            fail("event_loop");
        spent += micro_now_ns() - t0;
        if (callbacks != 1)
            fail("one callback per iteration");
        n++;
    }
    return (double)spent / n;
}

/* Mean ns of setting up, adding and deleting one event. */
static double churn_round(int round_ms)
{
    long long until = micro_now_ns() + (long long)round_ms * 1000000, t0 = micro_now_ns();
    int n = 0;
    while (n < 1000 || micro_now_ns() < until) {
        for (int i = 0; i < 100; i++, n++) {
            event_set(&spare, fds[0], EV_READ, on_readable, NULL);
            if (event_add(&spare, NULL) != 0 || event_del(&spare) != 0)
                fail("event_add or event_del");
        }
    }
    return (double)(micro_now_ns() - t0) / n;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 5, round_ms = argc > 2 ? atoi(argv[2]) : 50;
    if (rounds < 1 || rounds > MAX_ROUNDS || round_ms < 1)
        fail("ROUNDS (1-64) and ROUND_MS");
    struct event_base *base = event_init();
    if (base == NULL)
        fail("event_init");
    for (int i = 0; i < WATCHED; i++) {
        if ((fds[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
            fail("eventfd");
        event_set(&events[i], fds[i], EV_READ | EV_PERSIST, on_readable, NULL);
        if (event_add(&events[i], NULL) != 0)
            fail("event_add");
    }
    double dispatch[MAX_ROUNDS], churn[MAX_ROUNDS];
    dispatch_round(round_ms / 4 + 1); /* warm-up */
    for (int r = 0; r < rounds; r++) {
        dispatch[r] = dispatch_round(round_ms);
        churn[r] = churn_round(round_ms);
    }
    printf("dispatch_ns %.1f\nchurn_ns %.1f\n", median(dispatch, rounds), median(churn, rounds));
    for (int i = 0; i < WATCHED; i++) {
        if (event_del(&events[i]) != 0)
            fail("event_del");
        close(fds[i]);
    }
    event_base_free(base);
    return 0;
}

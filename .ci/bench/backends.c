/*
 * backends.c - the cost of one dispatch on each backend, in the manner of
 * libevent's test/bench.c: many descriptors watched, a few of them made
 * readable, one loop iteration timed. Here each watched descriptor is an
 * eventfd (one descriptor each, so select can watch 1,000 of them below
 * FD_SETSIZE); a write makes it readable, its callback reads it back.
 * Only the loop call is timed: what select and poll pay for every
 * descriptor watched, and epoll only for the ready ones.
 */
#define _GNU_SOURCE
#include "micro.h"

#include <event2/event.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <unistd.h>

static int callbacks; /* run in the current iteration */

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)what, (void)arg;
    uint64_t count;
    if (read(fd, &count, sizeof count) == (ssize_t)sizeof count)
        callbacks++;
}

/* A base on that method only, whatever EVENT_* variables say. */
static struct event_base *base_on(const char *method)
{
    static const char *const methods[] = { "epoll", "poll", "select" };
    struct event_config *config = event_config_new();
    if (config == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(methods[i], method) != 0 && event_config_avoid_method(config, methods[i]) != 0) {
            event_config_free(config);
            return NULL;
        }
    struct event_base *base = NULL;
    if (event_config_set_flag(config, EVENT_BASE_FLAG_IGNORE_ENV) == 0)
        base = event_base_new_with_config(config);
    event_config_free(config);
    if (base != NULL && strcmp(event_base_get_method(base), method) != 0) {
        event_base_free(base);
        base = NULL;
    }
    return base;
}

/* One round: iterations of "make `active` readable, run the loop" for
   about round_ms; the mean loop time in µs, or -1 on a failure. */
static double one_round(struct event_base *base, const int *fds, int watched, int active,
                        int round_ms, int *offset)
{
    long long spent = 0, until = micro_now_ns() + (long long)round_ms * 1000000;
    int iterations = 0;
    const uint64_t one = 1;
    while (iterations < 5 || micro_now_ns() < until) {
        for (int k = 0; k < active; k++) {
            int i = (int)(((long long)k * watched / active + *offset) % watched);
            if (write(fds[i], &one, sizeof one) != (ssize_t)sizeof one)
                return -1;
        }
        *offset = (*offset + 7) % watched; /* not always the same ones */
        /* Until every ready event has run: libevent's epoll backend takes
           at most 32 events from the kernel per iteration at first, and
           doubles that each time it fills them (2.1.12's epoll.c). */
        callbacks = 0;
        long long t0 = micro_now_ns();
        while (callbacks < active)
            if (event_base_loop(base, EVLOOP_ONCE) != 0)
                return -1;
        spent += micro_now_ns() - t0;
        iterations++;
    }
    return (double)spent / iterations / 1000.0;
}

double backend_dispatch_us(const char *method, int watched, int active, int rounds, int round_ms,
                           const char **why)
{
    double result = -1, *values = calloc((size_t)rounds, sizeof *values);
    int *fds = calloc((size_t)watched, sizeof *fds);
    struct event **events = calloc((size_t)watched, sizeof *events);
    struct event_base *base = base_on(method);
    int opened = 0, added = 0, offset = 0;
    *why = "out of memory";
    if (values == NULL || fds == NULL || events == NULL)
        goto out;
    *why = "not in this libevent";
    if (base == NULL)
        goto out;
    *why = "too many descriptors (ulimit -n)";
    for (; opened < watched; opened++)
        if ((fds[opened] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
            goto out;
    /* Debian's select aborts on a descriptor past FD_SETSIZE (lesson 15). */
    *why = "select: descriptors past FD_SETSIZE";
    if (strcmp(method, "select") == 0 && watched > 0 && fds[watched - 1] >= FD_SETSIZE)
        goto out;
    *why = "event_new or event_add failed";
    for (; added < watched; added++) {
        events[added] = event_new(base, fds[added], EV_READ | EV_PERSIST, on_readable, NULL);
        if (events[added] == NULL || event_add(events[added], NULL) != 0) {
            added += events[added] != NULL;
            goto out;
        }
    }
    *why = "a loop iteration failed";
    if (one_round(base, fds, watched, active, round_ms / 4 + 1, &offset) < 0) /* warm-up */
        goto out;
    for (int r = 0; r < rounds; r++)
        if ((values[r] = one_round(base, fds, watched, active, round_ms, &offset)) < 0)
            goto out;
    result = median(values, rounds);
    *why = NULL;
out:
    for (int i = 0; i < added; i++)
        event_free(events[i]);
    for (int i = 0; i < opened; i++)
        close(fds[i]);
    if (base != NULL)
        event_base_free(base);
    free(events);
    free(fds);
    free(values);
    return result;
}

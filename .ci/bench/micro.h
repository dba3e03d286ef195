/*
 * micro.h - the bench's microbenchmarks, run inside the bench process:
 * one dispatch on each backend (backends.c) and many timers (timers.c).
 * Each measures a few short rounds and returns the median, so that one
 * round slowed down by the rest of a busy machine does not count.
 */
#ifndef BENCH_MICRO_H
#define BENCH_MICRO_H

#include <stdbool.h>

/* The cost of one event_base_loop(EVLOOP_ONCE) on backend method ("epoll",
   "poll", "select") with `active` of `watched` descriptors readable, in µs:
   the median of `rounds` rounds of about round_ms each. Returns a negative
   number when the backend cannot watch that many (select: descriptors
   past FD_SETSIZE) or is not there; *why says why. */
double backend_dispatch_us(const char *method, int watched, int active, int rounds, int round_ms,
                           const char **why);

struct timer_costs {
    double add_ns, rearm_ns, fire_ns; /* per timer */
};

/* `count` timers of one duration, on libevent's heap (common false) or on
   a common timeout: the cost of adding each, of adding it again while it
   is pending (what an idle timeout does at every read), and of running it
   when due. The median of `rounds` rounds. False if libevent failed. */
bool timer_costs(bool common, int count, int rounds, struct timer_costs *out);

/* Nanoseconds since an arbitrary start (CLOCK_MONOTONIC). */
long long micro_now_ns(void);

/* The median of n values (sorts them). */
double median(double *values, int n);

#endif

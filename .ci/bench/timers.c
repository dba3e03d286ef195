/*
 * timers.c - many timers of one duration, on libevent's heap and on a
 * common timeout (lesson 16). Every add is made from inside a callback,
 * where libevent's cached time stands still, so the deadlines tie as they
 * do in a server adding many timeouts in one pass.
 *
 *   add:   event_add() on each of `count` non-pending timers (60 s)
 *   rearm: event_add() again on each, one loop iteration later: the new
 *          deadline is later than every other, what an idle timeout does at
 *          each read. The heap moves the timer down, O(log n); a common
 *          timeout moves it to the end of its queue, O(1).
 *   fire:  `count` timers (1 ms) overdue when the loop looks: from the end
 *          of the callback that added them to the last timer's callback.
 */
#define _GNU_SOURCE
#include "micro.h"

#include <event2/event.h>
#include <stdlib.h>

struct round {
    struct event_base *base;
    unsigned char *storage; /* count events, event_get_struct_event_size() each */
    size_t size;
    int count, fired;
    bool common, failed;
    const struct timeval *long_tv, *short_tv; /* 60 s and 1 ms, maybe common */
    long long fire_from, fire_until;
    struct timer_costs costs;
};

static struct event *timer_at(struct round *r, int i)
{
    return (struct event *)(r->storage + (size_t)i * r->size);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct round *r = arg;
    if (++r->fired == r->count)
        r->fire_until = micro_now_ns();
}

static void assign_all(struct round *r)
{
    for (int i = 0; i < r->count; i++)
        if (event_assign(timer_at(r, i), r->base, -1, 0, on_timer, r) != 0)
            r->failed = true;
}

static double add_all(struct round *r, const struct timeval *tv)
{
    long long t0 = micro_now_ns();
    for (int i = 0; i < r->count; i++)
        if (event_add(timer_at(r, i), tv) != 0)
            r->failed = true;
    return (double)(micro_now_ns() - t0) / r->count;
}

static void on_fire_setup(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct round *r = arg;
    assign_all(r);
    add_all(r, r->short_tv);
    /* Let real time pass the deadline: when this callback returns, every
       timer is overdue, and the loop's next look finds them all. */
    long long until = micro_now_ns() + 2000000;
    while (micro_now_ns() < until)
        ;
    r->fire_from = micro_now_ns();
}

static void on_rearm(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct round *r = arg;
    r->costs.rearm_ns = add_all(r, r->long_tv);
    for (int i = 0; i < r->count; i++)
        if (event_del(timer_at(r, i)) != 0)
            r->failed = true;
    if (event_base_once(r->base, -1, EV_TIMEOUT, on_fire_setup, r, NULL) != 0)
        r->failed = true;
}

static void on_add(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct round *r = arg;
    assign_all(r);
    r->costs.add_ns = add_all(r, r->long_tv);
    struct timeval one_ms = { 0, 1000 };
    if (event_base_once(r->base, -1, EV_TIMEOUT, on_rearm, r, &one_ms) != 0)
        r->failed = true;
}

static bool one_round(bool common, int count, struct timer_costs *out)
{
    struct round r = { .count = count, .common = common, .size = event_get_struct_event_size() };
    static const struct timeval long_tv = { 60, 0 }, short_tv = { 0, 1000 };
    r.long_tv = &long_tv;
    r.short_tv = &short_tv;
    r.base = event_base_new();
    r.storage = malloc(r.size * (size_t)count);
    bool ok = false;
    if (r.base == NULL || r.storage == NULL)
        goto out;
    if (common) {
        r.long_tv = event_base_init_common_timeout(r.base, &long_tv);
        r.short_tv = event_base_init_common_timeout(r.base, &short_tv);
        if (r.long_tv == NULL || r.short_tv == NULL)
            goto out;
    }
    if (event_base_once(r.base, -1, EV_TIMEOUT, on_add, &r, NULL) != 0 ||
        event_base_dispatch(r.base) < 0 || r.failed || r.fired != count)
        goto out;
    r.costs.fire_ns = (double)(r.fire_until - r.fire_from) / count;
    *out = r.costs;
    ok = true;
out:
    if (r.base != NULL)
        event_base_free(r.base);
    free(r.storage);
    return ok;
}

bool timer_costs(bool common, int count, int rounds, struct timer_costs *out)
{
    double add[16], rearm[16], fire[16];
    if (rounds > 16)
        rounds = 16;
    for (int i = 0; i < rounds; i++) {
        struct timer_costs c;
        if (!one_round(common, count, &c))
            return false;
        add[i] = c.add_ns, rearm[i] = c.rearm_ns, fire[i] = c.fire_ns;
    }
    out->add_ns = median(add, rounds);
    out->rearm_ns = median(rearm, rounds);
    out->fire_ns = median(fire, rounds);
    return true;
}

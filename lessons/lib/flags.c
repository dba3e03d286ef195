/*
 * flags.c - flags as words for the trace: "READ|PERSIST", "READING|EOF",
 * "10ms" (see trace.h). Apart from trace.c, which needs a style's probe,
 * so that the test suites can use these names too.
 */
#include "trace.h"

#include <event2/bufferevent.h> /* BEV_EVENT_* constants only */
#include <event2/event.h>       /* EV_* constants only */

#include <stdio.h>

struct flag_name {
    short flag;
    const char *name;
};

static const char *join_flags(short flags, const struct flag_name *names, size_t n, char *buf,
                              size_t size);

const char *trace_flags(short flags, char *buf, size_t size)
{
    static const struct flag_name names[] = {
        { EV_TIMEOUT, "TIMEOUT" }, { EV_READ, "READ" },       { EV_WRITE, "WRITE" },
        { EV_SIGNAL, "SIGNAL" },   { EV_PERSIST, "PERSIST" }, { EV_ET, "ET" },
        { EV_CLOSED, "CLOSED" },
    };
    return join_flags(flags, names, sizeof names / sizeof names[0], buf, size);
}

/* Flags joined by '|', in table order; "none" if no flag is set. */
static const char *join_flags(short flags, const struct flag_name *names, size_t n, char *buf,
                              size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (!(flags & names[i].flag))
            continue;
        int len = snprintf(buf + used, size - used, "%s%s", used ? "|" : "", names[i].name);
        if (len < 0 || (size_t)len >= size - used)
            break;
        used += (size_t)len;
    }
    if (used == 0)
        snprintf(buf, size, "none");
    return buf;
}

const char *trace_bev_flags(short what, char *buf, size_t size)
{
    static const struct flag_name names[] = {
        { BEV_EVENT_READING, "READING" }, { BEV_EVENT_WRITING, "WRITING" },
        { BEV_EVENT_EOF, "EOF" },         { BEV_EVENT_ERROR, "ERROR" },
        { BEV_EVENT_TIMEOUT, "TIMEOUT" }, { BEV_EVENT_CONNECTED, "CONNECTED" },
    };
    return join_flags(what, names, sizeof names / sizeof names[0], buf, size);
}

const char *trace_duration(const struct timeval *tv, char *buf, size_t size)
{
    long long us = (long long)tv->tv_sec * 1000000 + tv->tv_usec;
    if (us % 1000 == 0)
        snprintf(buf, size, "%lldms", us / 1000);
    else
        snprintf(buf, size, "%lldus", us);
    return buf;
}


/*
 * idle.c - see idle.h.
 */
#define _GNU_SOURCE
#include "idle.h"

#include <stdio.h>

int start_idle_server(struct subject *server, int idle_ms)
{
    char idle[16];
    snprintf(idle, sizeof idle, "%d", idle_ms);
    const char *extra[] = { "--idle-ms", idle, NULL };
    return harness_start_server(server, "event2-server", extra);
}

void expect_echo(int fd, const char *line, const char *what)
{
    assert_reply(fd, line, line, 1000, what);
}

long long expect_closed(int fd, long long since, long min_ms, long max_ms, const char *what)
{
    long long left = since + max_ms - now_ms();
    long waited = harness_wait_close(fd, left > 0 ? (int)left : 0);
    long long now = now_ms();
    ck_assert_msg(waited >= 0, "%s: still connected %ld ms later", what, max_ms);
    ck_assert_msg(now - since >= min_ms, "%s: disconnected after %lld ms, before %ld ms had passed",
                  what, now - since, min_ms);
    return now;
}

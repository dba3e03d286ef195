/*
 * echo.c - see echo.h.
 */
#define _GNU_SOURCE
#include "echo.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>

char pattern(size_t i)
{
    return (char)('a' + (i * 7) % 26);
}

size_t send_without_reading(int fd, size_t most, int stall_ms)
{
    static char chunk[64 * 1024];
    size_t sent = 0;
    while (sent < most) {
        size_t n = most - sent < sizeof chunk ? most - sent : sizeof chunk;
        for (size_t i = 0; i < n; i++)
            chunk[i] = pattern(sent + i);
        ssize_t r = send(fd, chunk, n, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (r > 0) {
            sent += (size_t)r;
            continue;
        }
        if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            break;
        struct pollfd p = { fd, POLLOUT, 0 };
        if (poll(&p, 1, stall_ms) == 0)
            break;     }
    return sent;
}

size_t send_then_half_close(int fd, size_t size, bool *delivered)
{
    /* The 1 s stall and the 2 s to deliver: measured in visible.c, at
       survives_a_client_that_vanishes_mid_echo. */
    size_t sent = send_without_reading(fd, size, 1000);
    int queued = 1;
    for (long long end = now_ms() + 2000; now_ms() < end; sleep_ms(10))
        if (ioctl(fd, SIOCOUTQ, &queued) != 0 || queued == 0)
            break;
    *delivered = sent == size && queued == 0;
    shutdown(fd, SHUT_WR);
    return sent;
}

void assert_still_running(struct subject *server, const char *after)
{
    if (!subject_finished(server))
        return;
    struct outcome o;
    subject_finish(server, 1000, &o);
    char why[128];
    if (!o.exited && o.code == SIGPIPE)
        ck_abort_msg("the server died with SIGPIPE %s: writing to a connection the client has "
                     "closed raises SIGPIPE, which ends a process that does not ignore it",
                     after);
    ck_abort_msg("the server %s %s", outcome_describe(&o, why, sizeof why), after);
}

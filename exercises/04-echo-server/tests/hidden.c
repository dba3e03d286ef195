/*
 * Exercise 04, hidden tests (left out of `make release`): what a server
 * meets from clients that do not behave: one that resets its connection,
 * one that goes away while its echo is being written, one that sends and
 * never reads, one that hangs up with its echo still on the way.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <unistd.h>

enum { MIB = 1024 * 1024 };

/* The byte at offset i of what these tests send. */
static char pattern(size_t i)
{
    return (char)('a' + (i * 7) % 26);
}

/* Send up to `most` bytes on fd without reading a byte back, until that
   is sent or the server has taken nothing for stall_ms. Returns what was
   sent. */
static size_t send_without_reading(int fd, size_t most, int stall_ms)
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
            break; /* the server took nothing for stall_ms */
    }
    return sent;
}

/* Send `size` bytes without reading (as send_without_reading()), wait up
   to 2 s for the kernel to have delivered them all, then half-close.
   Returns what was sent; *delivered says whether all of it (and so the
   FIN) reached the server's side: a server that pushes back takes less. */
static size_t send_then_half_close(int fd, size_t size, bool *delivered)
{
    size_t sent = send_without_reading(fd, size, 1000);
    int queued = 1;
    for (long long end = now_ms() + 2000; now_ms() < end; sleep_ms(10))
        if (ioctl(fd, SIOCOUTQ, &queued) != 0 || queued == 0)
            break;
    *delivered = sent == size && queued == 0;
    shutdown(fd, SHUT_WR);
    return sent;
}

/* The server is still running; else fail saying how it ended and why
   that happened (`after`). */
static void assert_still_running(struct subject *server, const char *after)
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

START_TEST(survives_a_client_reset)
{
    struct subject server;
    int port = harness_start_server(&server, "event2-server", NULL);
    /* A client sends a lot and resets (close with SO_LINGER 0) without
       reading a byte of its echo. */
    int rude = harness_connect(&server, port, 2000);
    static char junk[256 * 1024];
    memset(junk, 'x', sizeof junk);
    send(rude, junk, sizeof junk, MSG_NOSIGNAL | MSG_DONTWAIT);
    struct linger reset = { 1, 0 };
    setsockopt(rude, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    close(rude);
    sleep_ms(100);

    int fd = harness_connect(&server, port, 2000);
    assert_reply(fd, "after\n", "after\n", 3000, "a new client, after another reset its connection");
    close(fd);
    subject_stop(&server);
}
END_TEST

/* A client sends without reading, half-closes, and goes away (a close
   with unread data resets the connection) while the server is still
   writing its echo. A write after that fails with EPIPE: an error on that
   client, or SIGPIPE for the whole server if it does not ignore it. It
   takes a connection whose FIN reached the server before the reset, and
   echo still to write: measured on loopback, 3 MiB did it and 2 MiB did
   not, so the sizes go up by 1 MiB until the server pushes back (a
   server that ignores SIGPIPE survives them all). */
START_TEST(survives_a_client_that_vanishes_mid_echo)
{
    struct subject server;
    int port = harness_start_server(&server, "event2-server", NULL);
    bool delivered = true;
    for (size_t mib = 1; mib <= 8 && delivered; mib++) {
        int fd = harness_connect(&server, port, 2000);
        send_then_half_close(fd, mib * MIB, &delivered);
        sleep_ms(50);
        close(fd);
        sleep_ms(200);
        assert_still_running(&server, "when a client that had half-closed went away while its "
                                      "echo was being written");
    }
    int fd = harness_connect(&server, port, 2000);
    assert_reply(fd, "after\n", "after\n", 3000, "a new client, after others went away mid-echo");
    close(fd);
    subject_stop(&server);
}
END_TEST

/* A client that sends and never reads: the server must stop reading it
   while its echo waits (backpressure), so the client soon cannot send
   more. What it can send is then bounded by the socket buffers both ways
   and the server's own limit: 5 MiB for the solution (measured on
   loopback); a server that reads everything took all 96 MiB in 7 s at
   load average 24. 32 MiB sits between; the 3 s stall is what "cannot
   send more" means (under load a server that pushes back stops at the
   same bound, only later). */
START_TEST(stops_reading_a_client_that_never_reads)
{
    struct subject server;
    int port = harness_start_server(&server, "event2-server", NULL);
    int fd = harness_connect(&server, port, 2000);
    size_t sent = send_without_reading(fd, 64 * MIB, 3000);
    assert_still_running(&server, "while a client sent without reading");
    ck_assert_msg(sent < 32 * MIB,
                  "a client that never reads sent %zu MiB and the server took it all: while a "
                  "client's echo waits, stop reading it (bufferevent_disable(bev, EV_READ)), or "
                  "one client can fill the server's memory",
                  sent / MIB);
    close(fd);
    subject_stop(&server);
}
END_TEST

/* A client sends without reading, half-closes, waits 300 ms, then reads:
   every byte must come back before the server closes. A server that
   frees the connection on EOF loses the echo still queued (measured:
   3 MiB sent, 14 KiB lost). Sizes go up by 1 MiB to 4 MiB. */
START_TEST(echoes_everything_before_closing)
{
    struct subject server;
    int port = harness_start_server(&server, "event2-server", NULL);
    char *buf = malloc(64 * 1024);
    for (size_t mib = 1; mib <= 4; mib++) {
        int fd = harness_connect(&server, port, 2000);
        bool delivered;
        size_t sent = send_then_half_close(fd, mib * MIB, &delivered), got = 0;
        size_t wrong_at = (size_t)-1;
        sleep_ms(300);
        bool eof = false;
        long long deadline = now_ms() + 10000;
        struct pollfd p = { fd, POLLIN, 0 };
        while (!eof && now_ms() < deadline && poll(&p, 1, 1000) >= 0) {
            ssize_t n = recv(fd, buf, 64 * 1024, MSG_DONTWAIT);
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (n <= 0) {
                eof = true;
                break;
            }
            for (ssize_t i = 0; i < n && wrong_at == (size_t)-1; i++)
                if (buf[i] != pattern(got + (size_t)i))
                    wrong_at = got + (size_t)i;
            got += (size_t)n;
        }
        ck_assert_msg(eof, "sent %zu MiB and half-closed; %zu bytes came back and the connection "
                           "stayed open for 10 s more",
                      mib, got);
        ck_assert_msg(got == sent && wrong_at == (size_t)-1,
                      "sent %zu bytes and half-closed (shutdown(SHUT_WR)); %zu came back%s before "
                      "the server closed: on EOF, close only once the echo still queued has been "
                      "written",
                      sent, got, wrong_at != (size_t)-1 ? ", not all of them right," : "");
        close(fd);
    }
    free(buf);
    subject_stop(&server);
}
END_TEST

void exercise_hidden_tests(Suite *suite)
{
    HIDDEN_TEST(suite, survives_a_client_reset, 30);
    HIDDEN_TEST(suite, survives_a_client_that_vanishes_mid_echo, 30);
    HIDDEN_TEST(suite, stops_reading_a_client_that_never_reads, 40);
    HIDDEN_TEST(suite, echoes_everything_before_closing, 40);
}

/*
 * Exercise 04, hidden tests (left out of `make release`): what a server
 * meets from clients that do not behave: one that resets its connection
 * (a variant of the visible survives_a_client_that_vanishes_mid_echo),
 * and one that sends and never reads.
 */
#define _GNU_SOURCE
#include "echo.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

/* A client that sends and never reads: the server must stop reading it
   while its echo waits (backpressure), so the client soon cannot send
   more. What it can send is then bounded by the socket buffers both ways
   and the server's own limit: 5 MiB for the solution (measured on
   loopback); a server that reads everything took all 96 MiB in 7 s at
   load average 24. 32 MiB sits between; the 3 s stall is what "cannot
   send more" means (under load a server that pushes back stops at the
   same bound, only later). Measured as REPLY_MS (visible.c): a send
   that had to wait for the solution waited 208 ms at worst, so 3 s is
   14 times that; the test took 4.3 s at worst of its 40, the reset
   one 0.7 s of its 30. */
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

void exercise_hidden_tests(Suite *suite)
{
    HIDDEN_TEST(suite, survives_a_client_reset, 30);
    HIDDEN_TEST(suite, stops_reading_a_client_that_never_reads, 40);
}

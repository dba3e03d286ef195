/*
 * Exercise 04, hidden tests (left out of `make release`): one client
 * resetting its connection costs the server nothing.
 */
#define _GNU_SOURCE
#include "harness.h"

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

void exercise_hidden_tests(Suite *suite)
{
    HIDDEN_TEST(suite, survives_a_client_reset, 30);
}

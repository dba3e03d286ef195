/*
 * Exercise 04, hidden tests (left out of `make release`): one client
 * resetting its connection costs the server nothing.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <signal.h>
#include <stdlib.h>
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
    harness_sleep_ms(100);

    int fd = harness_connect(&server, port, 2000);
    size_t len;
    bool eof;
    harness_send_text(fd, "after\n");
    char *back = harness_receive_expecting(fd, "after\n", 3000, &len, &eof);
    ck_assert_msg(len == 6 && memcmp(back, "after\n", 6) == 0,
                  "after another client reset its connection, a new client got back \"%s\"%s",
                  harness_excerpt(back, len, 60), eof ? " and was closed" : "");
    free(back);
    close(fd);
    subject_stop(&server);
}
END_TEST

void exercise_hidden_tests(Suite *suite)
{
    HIDDEN_TEST(suite, survives_a_client_reset, 30);
}

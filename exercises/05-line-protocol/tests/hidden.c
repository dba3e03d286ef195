/*
 * Exercise 05, hidden test (left out of `make release`): clients do not
 * share a partial line.
 */
#define _GNU_SOURCE
#include "protocol.h"

#include <unistd.h>

START_TEST(keeps_each_clients_partial_line_apart)
{
    struct subject server;
    int port = harness_start_server(&server, "event2-server", NULL);
    int a = harness_connect(&server, port, 2000);
    int b = harness_connect(&server, port, 2000);
    harness_send_text(a, "PI");
    sleep_ms(50);
    expect_answer(b, "PING\n", "PONG\n", "client B, while client A has sent \"PI\"");
    expect_answer(a, "NG\n", "PONG\n", "client A's \"NG\\n\"");
    close(a);
    close(b);
    subject_stop(&server);
}
END_TEST

void exercise_hidden_tests(Suite *suite)
{
    HIDDEN_TEST(suite, keeps_each_clients_partial_line_apart, 30);
}

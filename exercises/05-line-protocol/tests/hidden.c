/*
 * Exercise 05, hidden tests (left out of `make release`): clients do not
 * share a partial line, and the longest allowed line is allowed.
 */
#define _GNU_SOURCE
#include "protocol.h"

#include <stdio.h>
#include <string.h>
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

START_TEST(accepts_a_line_of_64_bytes)
{
    struct subject server;
    int port = harness_start_server(&server, "event2-server", NULL);
    int fd = harness_connect(&server, port, 2000);
    char line[80], expected[80];
    snprintf(line, sizeof line, "ECHO %s\r\n", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    ck_assert_uint_eq(strlen(line), 64 + 2);
    snprintf(expected, sizeof expected, "%.59s\n", line + 5);
    expect_answer(fd, line, expected, "a line of 64 bytes and \\r\\n");
    close(fd);
    subject_stop(&server);
}
END_TEST

void exercise_hidden_tests(Suite *suite)
{
    HIDDEN_TEST(suite, keeps_each_clients_partial_line_apart, 30);
    HIDDEN_TEST(suite, accepts_a_line_of_64_bytes, 30);
}

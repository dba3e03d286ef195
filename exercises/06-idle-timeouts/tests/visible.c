/*
 * Exercise 06, graded tests: the student's server, black box, with a
 * short idle limit. Silence is measured by the test's own clock.
 */
#define _GNU_SOURCE
#include "idle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

START_TEST(echoes_lines)
{
    struct subject server;
    int port = start_idle_server(&server, 2000);
    int fd = harness_connect(&server, port, 2000);
    expect_echo(fd, "hello\n", "a line");
    expect_echo(fd, "again\n", "a second line");
    close(fd);
    subject_stop(&server);
}
END_TEST

START_TEST(disconnects_a_silent_client)
{
    struct subject server;
    int port = start_idle_server(&server, IDLE_MS);
    int fd = harness_connect(&server, port, 2000);
    long long connected = now_ms();
    char what[96];
    snprintf(what, sizeof what, "a client that says nothing, with --idle-ms %d", IDLE_MS);
    expect_closed(fd, connected, IDLE_MS - EARLY_MS, IDLE_MS + CLOSE_MS, what);
    close(fd);
    subject_stop(&server);
}
END_TEST

/* Talk every 100 ms for 1 s with --idle-ms 600: never silent long enough
   to be dropped, even on a busy machine. */
START_TEST(keeps_a_client_that_keeps_talking)
{
    struct subject server;
    int port = start_idle_server(&server, 600);
    int fd = harness_connect(&server, port, 2000);
    long long start = now_ms();
    int round = 0;
    while (now_ms() - start < 1000) {
        char line[32], what[64];
        snprintf(line, sizeof line, "tick %d\n", ++round);
        snprintf(what, sizeof what, "with --idle-ms 600, after %lld ms of talk",
                 now_ms() - start);
        expect_echo(fd, line, what);
        sleep_ms(100);
    }
    close(fd);
    subject_stop(&server);
}
END_TEST

/* Silence counts from the last thing the client said, not from connect. */
START_TEST(counts_silence_from_the_last_message)
{
    struct subject server;
    int port = start_idle_server(&server, 2 * IDLE_MS);
    int fd = harness_connect(&server, port, 2000);
    sleep_ms(IDLE_MS + IDLE_MS / 2);
    long long spoke = now_ms();
    expect_echo(fd, "still here\n", "with --idle-ms 400, 300 ms after connecting");
    expect_closed(fd, spoke, 2 * IDLE_MS - EARLY_MS, 2 * IDLE_MS + CLOSE_MS,
                  "with --idle-ms 400, silent after a line");
    close(fd);
    subject_stop(&server);
}
END_TEST

START_TEST(silent_client_does_not_stop_the_others)
{
    struct subject server;
    int port = start_idle_server(&server, IDLE_MS);
    int silent = harness_connect(&server, port, 2000);
    long long connected = now_ms();
    int talker = harness_connect(&server, port, 2000);
    /* The talker keeps talking until the silent one is dropped. */
    long long closed = -1;
    for (int round = 1; closed < 0; round++) {
        char line[32];
        snprintf(line, sizeof line, "line %d\n", round);
        expect_echo(talker, line, "the talking client, while the other is silent");
        if (harness_wait_close(silent, 50) >= 0)
            closed = now_ms();
        ck_assert_msg(closed >= 0 || now_ms() - connected < IDLE_MS + CLOSE_MS,
                      "the silent client was not disconnected within %d ms", IDLE_MS + CLOSE_MS);
    }
    expect_echo(talker, "after\n", "the talking client, after the silent one was dropped");
    close(silent);
    close(talker);
    subject_stop(&server);
}
END_TEST

START_TEST(uses_only_event2_functions)
{
    assert_style("event2", "event2-server.o");
}
END_TEST

void exercise_tests(Suite *suite)
{
    GRADED_TEST(suite, echoes_lines, 30);
    GRADED_TEST(suite, disconnects_a_silent_client, 30);
    GRADED_TEST(suite, keeps_a_client_that_keeps_talking, 30);
    GRADED_TEST(suite, counts_silence_from_the_last_message, 30);
    GRADED_TEST(suite, silent_client_does_not_stop_the_others, 30);
    GRADED_TEST(suite, uses_only_event2_functions, PURITY_TEST_S);
}

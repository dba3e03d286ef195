/*
 * Exercise 06, hidden tests (left out of `make release`): many silent
 * clients at once are all dropped, and the server goes on serving.
 */
#define _GNU_SOURCE
#include "idle.h"

#include <stdio.h>
#include <unistd.h>

START_TEST(disconnects_every_silent_client)
{
    enum { SILENT = 10 };
    struct subject server;
    int port = start_idle_server(&server, IDLE_MS);
    int silent[SILENT];
    long long connected = now_ms();
    for (int i = 0; i < SILENT; i++)
        silent[i] = harness_connect(&server, port, 2000);
    for (int i = 0; i < SILENT; i++) {
        char what[64];
        snprintf(what, sizeof what, "silent client %d of %d", i + 1, SILENT);
        expect_closed(silent[i], connected, IDLE_MS - EARLY_MS, IDLE_MS + CLOSE_MS, what);
        close(silent[i]);
    }
    int talker = harness_connect(&server, port, 2000);
    expect_echo(talker, "hello\n", "a new client's first line after the silent ones went");
    close(talker);
    subject_stop(&server);
}
END_TEST

void exercise_hidden_tests(Suite *suite)
{
    HIDDEN_TEST(suite, disconnects_every_silent_client, 30);
}

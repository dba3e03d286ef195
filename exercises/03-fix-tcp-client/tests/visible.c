/*
 * Exercise 03, graded tests: the student's client against a server that
 * is part of the test. What the server receives is judged byte by byte;
 * what the client prints, by its "client reply" and "client closed" lines.
 */
#define _GNU_SOURCE
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(sends_the_message_without_nul)
{
    static const char *const reply[] = { "hello...ack.\n", NULL };
    struct session s;
    run_session(reply, &s);
    ck_assert_msg(s.received_len == 6 && memcmp(s.received, "hello\n", 6) == 0,
                  "the server received %zu bytes, \"%s\"; it should get exactly \"hello\\n\"",
                  s.received_len, harness_excerpt(s.received, s.received_len, 80));
    session_free(&s);
}
END_TEST

START_TEST(prints_the_reply)
{
    static const char *const reply[] = { "hello...ack.\n", NULL };
    struct session s;
    run_session(reply, &s);
    char *texts = reply_texts(s.client.out);
    ck_assert_msg(strcmp(texts, "text=hello...ack.") == 0,
                  "the server answered \"hello...ack.\\n\"; the client's reply lines: \"%s\"",
                  harness_excerpt(texts, strlen(texts), 120));
    free(texts);
    session_free(&s);
}
END_TEST

START_TEST(prints_every_reply_line)
{
    static const char *const reply[] = { "one\ntwo\nthree\n", NULL };
    struct session s;
    run_session(reply, &s);
    char *texts = reply_texts(s.client.out);
    ck_assert_msg(strcmp(texts, "text=one text=two text=three") == 0,
                  "the server answered \"one\\ntwo\\nthree\\n\" in one write; the client's reply "
                  "lines: \"%s\" (want one per line)",
                  harness_excerpt(texts, strlen(texts), 120));
    free(texts);
    session_free(&s);
}
END_TEST

START_TEST(exits_zero_when_the_server_closes)
{
    static const char *const reply[] = { "hello...ack.\n", NULL };
    struct session s;
    run_session(reply, &s);
    assert_exited_zero(&s.client, "event2-client");
    const char *out = s.client.out;
    size_t n = strlen(out);
    const char *last = n > 1 ? out + n - 1 : out;
    while (last > out && last[-1] != '\n')
        last--;
    ck_assert_msg(strcmp(last, "client   closed     reason=eof\n") == 0,
                  "after the server closed, the last line should be \"client closed reason=eof\"; "
                  "it is \"%s\"", harness_excerpt(last, strcspn(last, "\n"), 100));
    session_free(&s);
}
END_TEST

START_TEST(reports_a_refused_connection)
{
    harness_private_network();
    int port = harness_free_port(); /* nobody listens there */
    char port_text[16];
    snprintf(port_text, sizeof port_text, "%d", port);
    const char *args[] = { "--port", port_text, NULL };
    /* Measured as in client.c: the refused client ended 1391 ms after it
       started at worst (median 685); 5000 is 3.5 times that. */
    struct run_options options = { .share_network = true, .timeout_ms = 5000 };
    struct outcome o;
    run_subject("event2-client", args, &options, &o);
    char why[128];
    ck_assert_msg(o.exited && o.code == 1,
                  "with nobody listening, the client should exit with status 1; it %s",
                  outcome_describe(&o, why, sizeof why));
    ck_assert_msg(o.err[0] != '\0', "the client exited 1 but said nothing on stderr");
    outcome_free(&o);
}
END_TEST

void exercise_tests(Suite *suite)
{
    GRADED_TEST(suite, sends_the_message_without_nul, 30);
    GRADED_TEST(suite, prints_the_reply, 30);
    GRADED_TEST(suite, prints_every_reply_line, 30);
    GRADED_TEST(suite, exits_zero_when_the_server_closes, 30);
    GRADED_TEST(suite, reports_a_refused_connection, 30);
}

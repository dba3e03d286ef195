/*
 * Exercise 03, hidden tests (left out of `make release`): a reply line
 * that arrives in two reads is still one line.
 */
#define _GNU_SOURCE
#include "client.h"

#include <stdlib.h>
#include <string.h>

START_TEST(joins_a_reply_split_across_reads)
{
    static const char *const reply[] = { "hello...", "ack.\n", NULL };
    struct session s;
    run_session(reply, &s);
    char *texts = reply_texts(s.client.out);
    ck_assert_msg(strcmp(texts, "text=hello...ack.") == 0,
                  "the server sent \"hello...\", then \"ack.\\n\" 100 ms later; the client's reply "
                  "lines: \"%s\" (want the one line)",
                  harness_excerpt(texts, strlen(texts), 120));
    free(texts);
    session_free(&s);
}
END_TEST

void exercise_hidden_tests(Suite *suite)
{
    HIDDEN_TEST(suite, joins_a_reply_split_across_reads, 30);
}

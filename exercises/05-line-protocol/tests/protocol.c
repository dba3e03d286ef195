/*
 * protocol.c - see protocol.h.
 */
#define _GNU_SOURCE
#include "protocol.h"

#include <stdlib.h>
#include <string.h>

enum { REPLY_MS = 3000 };

void expect_answer(int fd, const char *sent, const char *expected, const char *what)
{
    size_t len;
    bool eof;
    if (*sent != '\0')
        harness_send_text(fd, sent);
    char *got = harness_receive_expecting(fd, expected, REPLY_MS, &len, &eof);
    ck_assert_msg(len == strlen(expected) && memcmp(got, expected, len) == 0,
                  "%s: sent \"%s\", want \"%s\" back, got \"%s\"%s", what,
                  harness_excerpt(sent, strlen(sent), 50),
                  harness_excerpt(expected, strlen(expected), 50), harness_excerpt(got, len, 60),
                  eof ? " and the connection closed" : "");
    free(got);
}

void expect_close(int fd, const char *what)
{
    size_t len;
    bool eof;
    char *got = harness_receive(fd, NULL, REPLY_MS, &len, &eof);
    ck_assert_msg(eof && len == 0, "%s: the server should close the connection now; %s%s%s", what,
                  len > 0 ? "it sent \"" : "it stayed open for 3 s",
                  len > 0 ? harness_excerpt(got, len, 60) : "", len > 0 ? "\" instead" : "");
    free(got);
}

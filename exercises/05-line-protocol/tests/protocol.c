/*
 * protocol.c - see protocol.h.
 */
#define _GNU_SOURCE
#include "protocol.h"

#include <stdlib.h>

enum { REPLY_MS = 3000 };

void expect_answer(int fd, const char *sent, const char *expected, const char *what)
{
    assert_reply(fd, sent, expected, REPLY_MS, what);
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

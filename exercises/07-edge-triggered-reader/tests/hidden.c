/*
 * Exercise 07, hidden test (left out of `make release`): a megabyte sent
 * while the server reads (a variant of the visible counts_a_long_message).
 */
#define _GNU_SOURCE
#include "counting.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* 1 MiB, sent as fast as the server takes it (within 5 s): it arrives in
   many pieces, each an edge, and the hang-up after the last. The whole
   test took 3.1 s at worst (measured as REPLY_MS in counting.c), its
   server's start included; a server that stops reading takes no more
   in 5 s than in 3. */
START_TEST(counts_a_megabyte)
{
    enum { SIZE = 1 << 20 };
    int fd = client(start_server());
    char *text = lines_of_text(SIZE);
    size_t sent = 0;
    long long deadline = now_ms() + 5000;
    while (sent < SIZE && now_ms() < deadline) {
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t n = send(fd, text + sent, SIZE - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        ck_assert_msg(n > 0 || errno == EAGAIN || errno == EINTR, "sending: %s", strerror(errno));
        if (n > 0)
            sent += (size_t)n;
    }
    ck_assert_msg(sent == SIZE, "the server stopped reading: %zu of %d bytes sent in 5 s", sent,
                  SIZE);
    send_and_hang_up(fd, "", 0, false);
    expect_counts(fd, text, SIZE, "sent 1 MiB, 16384 lines");
    free(text);
    done(fd);
}
END_TEST

void exercise_hidden_tests(Suite *suite)
{
    HIDDEN_TEST(suite, counts_a_megabyte, 30);
}

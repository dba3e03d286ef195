/*
 * counting.h - what exercise 07's tests share: a server per test, a client
 * that sends and hangs up, and the answer it must get.
 */
#ifndef EXERCISE07_COUNTING_H
#define EXERCISE07_COUNTING_H

#include "harness.h"

/* The server under test (stopped by done()). */
extern struct subject server;

/* Start the student's server; its port. */
int start_server(void);

/* A new client of the server on port. */
int client(int port);

/* n bytes of text: lines of 64 bytes, "line 00001 xxx...\n". Caller frees. */
char *lines_of_text(size_t n);

/* Send len bytes and hang up (shutdown(SHUT_WR)). together: in one TCP
   segment, bytes and hang-up: the server's reader gets one edge for both. */
void send_and_hang_up(int fd, const void *data, size_t len, bool together);

/* Expect "lines=L bytes=N\n" for what was sent (data, len) within 2 s;
   the failure message names what was sent. */
void expect_counts(int fd, const void *data, size_t len, const char *what);

/* Close the client and stop the server. */
void done(int fd);

#endif

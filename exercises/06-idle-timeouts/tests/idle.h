/*
 * idle.h - what exercise 06's tests share. Times: the server is started
 * with a short --idle-ms; a disconnection is waited for up to CLOSE_MS
 * past it, and must not come more than EARLY_MS before it (the test's
 * clock starts after connect() returns, a moment before the server's).
 */
#ifndef EXERCISE06_IDLE_H
#define EXERCISE06_IDLE_H

#include "harness.h"

enum { IDLE_MS = 200, CLOSE_MS = 1000, EARLY_MS = 50 };

/* Start the server with --idle-ms idle_ms; returns its port. */
int start_idle_server(struct subject *server, int idle_ms);

/* Send a line and expect it echoed within 1 s. */
void expect_echo(int fd, const char *line, const char *what);

/* Expect fd to be closed by the server between min_ms and max_ms after
   `since` (now_ms()); returns when it closed. */
long long expect_closed(int fd, long long since, long min_ms, long max_ms, const char *what);

#endif

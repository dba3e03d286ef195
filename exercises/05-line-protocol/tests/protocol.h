/*
 * protocol.h - what exercise 05's tests share: a server per test, and one
 * exchange of lines checked byte for byte.
 */
#ifndef EXERCISE05_PROTOCOL_H
#define EXERCISE05_PROTOCOL_H

#include "harness.h"

/* Send `sent` (may be empty) and expect exactly `expected` back within 3 s;
   the failure message names `what`. */
void expect_answer(int fd, const char *sent, const char *expected, const char *what);

/* Expect the server to close the connection within 3 s (after anything
   still to come equal to nothing). */
void expect_close(int fd, const char *what);

#endif

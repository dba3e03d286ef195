/*
 * protocol.h - what exercise 05's tests share: one exchange of lines
 * checked byte for byte, and the server's close.
 */
#ifndef EXERCISE05_PROTOCOL_H
#define EXERCISE05_PROTOCOL_H

#include "harness.h"

/* Send `sent` (may be empty) and expect exactly `expected` back within 3 s;
   the failure message names `what`. */
void expect_answer(int fd, const char *sent, const char *expected, const char *what);

/* Expect the server to close the connection within 3 s, sending nothing
   more before it does. */
void expect_close(int fd, const char *what);

#endif

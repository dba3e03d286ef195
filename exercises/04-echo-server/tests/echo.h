/*
 * echo.h - what exercise 04's tests share: clients that send without
 * reading, half-close, go away; and what they check of the server.
 */
#ifndef EXERCISE04_ECHO_H
#define EXERCISE04_ECHO_H

#include "harness.h"

enum { MIB = 1024 * 1024 };

/* The byte at offset i of what these tests send. */
char pattern(size_t i);

/* Send up to `most` bytes on fd without reading a byte back, until that
   is sent or the server has taken nothing for stall_ms. Returns what was
   sent. */
size_t send_without_reading(int fd, size_t most, int stall_ms);

/* Send `size` bytes without reading (as send_without_reading()), wait up
   to 2 s for the kernel to have delivered them all, then half-close.
   Returns what was sent; *delivered says whether all of it (and so the
   FIN) reached the server's side: a server that pushes back takes less. */
size_t send_then_half_close(int fd, size_t size, bool *delivered);

/* The server is still running; else fail saying how it ended and why
   that happened (`after`). */
void assert_still_running(struct subject *server, const char *after);

#endif

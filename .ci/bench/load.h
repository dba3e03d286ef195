/*
 * load.h - the bench's load generator: C connections to a server on
 * 127.0.0.1, each keeping one message in flight (send it, wait for the
 * whole reply, send the next), for a given time; one thread, epoll.
 *
 * Two kinds of server: an echo server (the reply is the message, byte for
 * byte) and a line server (the message is one line, the reply one line,
 * whatever its length: lesson 11's "hello...ack.", exercise 05's ECHO).
 */
#ifndef BENCH_LOAD_H
#define BENCH_LOAD_H

#include <stddef.h>

enum load_kind { LOAD_ECHO, LOAD_LINE };

struct load_spec {
    enum load_kind kind;
    const char *prefix;  /* LOAD_LINE: what each line starts with ("ECHO ") */
    int port;
    int connections;
    size_t message_size; /* bytes sent per message, the "\n" of a line included */
    int warmup_ms;       /* messages sent before this are not counted */
    int measure_ms;      /* then messages are counted for this long */
};

struct load_result {
    double messages_per_s; /* replies completed per second of the measured time */
    double p50_us, p99_us; /* round trip of one message, send to whole reply */
    long messages;         /* replies counted */
    const char *error;     /* NULL, or what went wrong (a static string) */
};

/* Run the load; fills result. The connections are closed before it
   returns. */
void load_run(const struct load_spec *spec, struct load_result *result);

#endif

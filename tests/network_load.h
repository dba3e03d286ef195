/*
 * network_load.h - clients for the network suite's abuse and backpressure
 * tests: many sessions at once from one thread (non-blocking sockets and
 * poll()), on 127.0.0.1 only, with data from a seeded PRNG so that every
 * run sends the same bytes.
 *
 * Two kinds of server are driven: an echo (lesson 10: every byte comes
 * back) and the note's line server (lesson 11: "hello...ack.\n" for every
 * complete line, a line of more than 4096 bytes ends the connection).
 */
#ifndef TESTS_NETWORK_LOAD_H
#define TESTS_NETWORK_LOAD_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum load_reply { LOAD_ECHO, LOAD_ACK };

#define LOAD_ACK_TEXT "hello...ack.\n"
enum { LOAD_ACK_LENGTH = sizeof LOAD_ACK_TEXT - 1 };

/* What abusive clients do; each session is one of these, in turn. */
enum load_kind {
    LOAD_RESET,      /* send up to 32 KB, then close with SO_LINGER 0: a reset */
    LOAD_HALF_CLOSE, /* send up to 64 KB, shutdown(SHUT_WR), read the whole reply to EOF */
    LOAD_RANDOM,     /* random bytes in random-sized writes while reading the reply */
    LOAD_BURST,      /* write up to 1 MB as fast as the kernel takes it, then close
                        with the reply unread (the close sends a reset) */
    LOAD_SLOW_READ,  /* send 256 KB (echo) or 32 KB of short lines (ack), reading
                        at most 512 bytes per turn */
    LOAD_LEAVE,      /* connect and close at once */
    LOAD_KINDS
};

struct load_result {
    int started, finished;
    int verified;        /* sessions whose whole reply was checked byte by byte */
    int per_kind[LOAD_KINDS];
    bool failed;
    char failure[512];   /* the first failure, with its session and seed */
};

/* Run `sessions` sessions against 127.0.0.1:port, at most `concurrency` at
   a time, kinds in turn, data from `seed`. Gives up (failed) after
   timeout_ms. */
void load_run(int port, enum load_reply reply, int sessions, int concurrency, uint64_t seed,
              int timeout_ms, struct load_result *result);

/* One well-behaved session: send "ping\n", hang up (half-close), read the
   reply to EOF and check it. False, with the reason in why, otherwise. */
bool load_ping(int port, enum load_reply reply, int timeout_ms, char *why, size_t why_size);

const char *load_kind_name(enum load_kind kind);

/* 127.0.0.1:port, the address every socket of the network suite uses. */
struct sockaddr_in load_loopback(int port);

/* The bytes a session sends: a seeded xorshift stream; for LOAD_ACK a
   newline is forced after max_line bytes without one (0: never). */
struct load_stream {
    uint64_t state;
    size_t max_line, line; /* line: bytes since the last newline */
    size_t lines;          /* newlines produced so far */
};
void load_stream_init(struct load_stream *s, uint64_t seed, size_t max_line);
void load_stream_fill(struct load_stream *s, unsigned char *buf, size_t n);

/* One end of a TCP connection on this machine, by its two ports, as the
   kernel counts it (sock_diag, which needs no privilege for one's own
   sockets): how many bytes the program behind it has read (taken) and
   written (written), and how many have arrived that it has not read yet
   (unread). A program's buffers hold what it took minus what it wrote.
   False if no such connection is listed. */
struct load_app_bytes {
    unsigned long long taken, written, unread;
};
bool load_app_bytes(int local_port, int remote_port, struct load_app_bytes *out);

#endif

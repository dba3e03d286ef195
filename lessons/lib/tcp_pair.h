/*
 * tcp_pair.h - what lesson 21's programs (and lesson 20's mistake 11) need
 * to watch TCP from both ends at once, in one process: a connection over
 * 127.0.0.1, waiting (without sleeping) until a socket holds a number of
 * bytes, and what the kernel says about a sender's queue. Style-neutral:
 * no libevent calls (the build checks), only the socket API. Each function
 * exits with status 1 and a message on stderr if a call fails.
 */
#ifndef LESSONS_TCP_PAIR_H
#define LESSONS_TCP_PAIR_H

#include <stdbool.h>

/* A TCP connection over 127.0.0.1: *peer is the client's end (blocking),
   *server the accepted end, made non-blocking as a bufferevent needs. */
void loopback_pair(int *peer, int *server);

/* Turn Nagle's algorithm off (TCP_NODELAY on) or leave it on. */
void loopback_set_nodelay(int fd, bool nodelay);

/* Block until fd holds at least `bytes` unread bytes: poll() with the
   socket's SO_RCVLOWAT raised to `bytes`, then put back to 1. */
void loopback_wait_for(int fd, int bytes);

/* How many unread bytes fd holds (FIONREAD). */
int loopback_unread(int fd);

/* Send `bytes` bytes on the blocking fd; read exactly `bytes` from it. */
void loopback_send(int fd, int bytes);
void loopback_receive(int fd, int bytes);

/* What the kernel holds for a sender, from one TCP_INFO reading (one
   snapshot, taken under the socket's lock). */
struct loopback_sender {
    unsigned unsent;              /* written by the program, not yet sent */
    unsigned long long acked;     /* bytes the peer has acknowledged, ever */
};
void loopback_sender_state(int fd, struct loopback_sender *out);

#endif

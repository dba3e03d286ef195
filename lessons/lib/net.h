/*
 * net.h - what the servers and clients of lessons 10 and 11 share in both
 * styles: their command line, the "listening on" line a server prints
 * first, a connect() by hand and the message when one fails, holding
 * SIGINT and SIGTERM until a server can handle them, and turning SIGPIPE
 * off. Style-neutral: no libevent calls (the build checks), only the
 * socket API.
 *
 *   server:  PROGRAM [--port P]            P = 0 (the default): the kernel
 *                                          picks a free port
 *   client:  PROGRAM --port P [--host H]   H defaults to 127.0.0.1
 *
 * A server binds 127.0.0.1 only and prints "listening on 127.0.0.1:PORT"
 * as its first line; whoever started it reads the port from there. That
 * line is not part of the trace (docs/trace-format.md).
 */
#ifndef LESSONS_NET_H
#define LESSONS_NET_H

#include <netinet/in.h>

enum net_role { NET_SERVER, NET_CLIENT };

struct net_options {
    struct sockaddr_in address; /* server: 127.0.0.1:port; client: host:port */
};

/* Read the command line. Bad flags or values print a message and the
   usage on stderr and exit with status 2; --help prints the usage on
   stdout and exits 0. */
void net_parse_options(int argc, char **argv, enum net_role role, struct net_options *options);

/* Print "listening on 127.0.0.1:PORT" for a bound socket, flushed. */
void net_announce(int listening_fd);

/* A blocking connect() to address; returns the connected socket. On
   failure: net_report_connect_error(), exit 1. */
int net_connect(const struct sockaddr_in *address);

/* Say on stderr why a connect to address failed (error: an errno value),
   as "cannot connect to 127.0.0.1:PORT: Connection refused". */
void net_report_connect_error(const struct sockaddr_in *address, int error);

/* Hold SIGINT and SIGTERM (block them) until the server's signal events
   are added, then let them through: a signal sent as soon as the port is
   printed must stop the server cleanly, not kill it. */
void net_hold_stop_signals(void);
void net_release_stop_signals(void);

/* Writing to a peer that has gone raises SIGPIPE, whose default action
   ends the process. A server must not die because one client vanished, so
   the signal is ignored and the write fails with EPIPE instead, which
   libevent reports as an error on that one connection. */
void net_ignore_sigpipe(void);

#endif

/*
 * Exercise 04 (starter): a TCP echo server, to be written. This file,
 * event2-server.c, is what you hand in.
 *
 * What it should do: listen on 127.0.0.1:PORT (--port; 0, the default,
 *   lets the kernel pick and the first line says which) and send every
 *   byte each client sends back to that client, any number of clients at
 *   once; finish a client's echo when it hangs up, then close; on SIGTERM
 *   or SIGINT free everything and exit 0. See ../README.md.
 * What it does: accepts each connection and closes it at once.
 * Run it:   make exercise-4        (builds it, runs the graded tests)
 *           build/exercises/04-echo-server/bin/event2-server --port 5555,
 *           then nc 127.0.0.1 5555
 */
#include "event2.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct event_base *base;

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *peer,
                      int peer_length, void *arg)
{
    (void)listener;
    (void)peer;
    (void)peer_length;
    (void)arg;
    /* Your part: give the connection a bufferevent that echoes. */
    evutil_closesocket(fd);
}

static void usage(void)
{
    fprintf(stderr, "usage: event2-server [--port PORT]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    long port = 0;
    for (int i = 1; i < argc; i += 2) {
        char *end;
        if (i + 1 >= argc || strcmp(argv[i], "--port") != 0)
            usage();
        port = strtol(argv[i + 1], &end, 10);
        if (*end != '\0' || port < 0 || port > 65535)
            usage();
    }

    base = event_base_new();
    if (base == NULL)
        die("event_base_new");

    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct evconnlistener *listener =
        evconnlistener_new_bind(base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
                                128, (struct sockaddr *)&sin, sizeof sin);
    if (listener == NULL)
        die("evconnlistener_new_bind");
    socklen_t length = sizeof sin;
    if (getsockname(evconnlistener_get_fd(listener), (struct sockaddr *)&sin, &length) != 0)
        die_errno("getsockname");
    printf("listening on 127.0.0.1:%d\n", ntohs(sin.sin_port));
    fflush(stdout);

    if (event_base_dispatch(base) < 0)
        die("event_base_dispatch");

    evconnlistener_free(listener);
    event_base_free(base);
    return 0;
}

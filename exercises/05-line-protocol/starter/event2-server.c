/*
 * Exercise 05 (starter): a line protocol server that reads chunks, not
 * lines. Fix it; this file, event2-server.c, is what you hand in.
 *
 * What it should do: answer commands, one a line (../README.md has the
 *   protocol): PING, ECHO text, QUIT; refuse a line longer than 64 bytes
 *   as soon as it cannot fit. What it does: takes whatever one read
 *   brought as one command, however many lines (or how little of one) it
 *   holds, and closes on QUIT before BYE has gone out.
 * Run it:   make exercise-5        (builds it, runs the graded tests)
 *           build/exercises/05-line-protocol/bin/event2-server --port 5555,
 *           then nc 127.0.0.1 5555
 */
#include "event2.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct event_base *base;

static void reply(struct bufferevent *bev, const char *text)
{
    bufferevent_write(bev, text, strlen(text));
    bufferevent_write(bev, "\n", 1);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    (void)arg;
    char buf[128] = { 0 };
    size_t n = bufferevent_read(bev, buf, sizeof buf - 1);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';

    if (strcmp(buf, "PING") == 0) {
        reply(bev, "PONG");
    } else if (strncmp(buf, "ECHO ", 5) == 0) {
        reply(bev, buf + 5);
    } else if (strcmp(buf, "QUIT") == 0) {
        reply(bev, "BYE");
        bufferevent_free(bev);
    } else {
        reply(bev, "ERR unknown command");
    }
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)arg;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        bufferevent_free(bev);
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *peer,
                      int peer_length, void *arg)
{
    (void)listener;
    (void)peer;
    (void)peer_length;
    (void)arg;
    struct bufferevent *bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL) {
        evutil_closesocket(fd);
        return;
    }
    bufferevent_setcb(bev, on_read, NULL, on_event, NULL);
    bufferevent_enable(bev, EV_READ);
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

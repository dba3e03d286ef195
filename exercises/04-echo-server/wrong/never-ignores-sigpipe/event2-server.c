/*
 * Exercise 04 (solution): a TCP echo server with evconnlistener and
 * bufferevents.
 *
 * What it does: listens on 127.0.0.1:PORT (--port; 0, the default, lets
 *   the kernel pick and the first line says which), and sends every byte
 *   each client sends back to that client, any number of clients at once.
 *   A client that hangs up gets the rest of its echo, then the connection
 *   closes. A client that sends faster than it reads is not read from
 *   until its echo has drained. SIGTERM or SIGINT: every connection, the
 *   listener and the base are freed, exit 0.
 * Run it:   make grade EXERCISE=4 SUBMISSION=exercises/04-echo-server/solution
 *           or event2-server --port 5555, then nc 127.0.0.1 5555
 * Look for: bufferevent_write_buffer() moves the input to the output
 *   without a copy; the write low watermark wakes on_write once the echo
 *   has drained.
 */
#include "event2.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Stop reading a client whose echo holds more than OUTPUT_HIGH bytes; read
   again once it is down to OUTPUT_LOW. */
enum { OUTPUT_HIGH = 256 * 1024, OUTPUT_LOW = 64 * 1024 };

struct client {
    struct bufferevent *bev;
    int id;
    bool hung_up; /* EOF seen: close once the echo has drained */
    struct client *prev, *next;
};

static struct event_base *base;
static struct client *clients; /* every open connection, freed at the end */
static int accepted;

static size_t output_length(struct bufferevent *bev)
{
    return evbuffer_get_length(bufferevent_get_output(bev));
}

static void close_client(struct client *c, const char *reason)
{
    trace("client", "closed", "id=%d reason=%s", c->id, reason);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        clients = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    bufferevent_free(c->bev); /* BEV_OPT_CLOSE_ON_FREE closes the socket */
    free(c);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct client *c = arg;
    if (bufferevent_write_buffer(bev, bufferevent_get_input(bev)) != 0) {
        close_client(c, "error");
        return;
    }
    if (output_length(bev) > OUTPUT_HIGH && bufferevent_disable(bev, EV_READ) != 0)
        close_client(c, "error");
}

/* The echo is down to OUTPUT_LOW bytes (the write low watermark). */
static void on_write(struct bufferevent *bev, void *arg)
{
    struct client *c = arg;
    if (c->hung_up) {
        if (output_length(bev) == 0)
            close_client(c, "eof");
    } else if (!(bufferevent_get_enabled(bev) & EV_READ) && bufferevent_enable(bev, EV_READ) != 0) {
        close_client(c, "error");
    }
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct client *c = arg;
    if (what & BEV_EVENT_EOF) {
        c->hung_up = true;
        if (output_length(bev) == 0)
            close_client(c, "eof");
    } else if (what & BEV_EVENT_ERROR) {
        close_client(c, "error");
    }
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *peer,
                      int peer_length, void *arg)
{
    (void)listener;
    (void)peer;
    (void)peer_length;
    (void)arg;
    /* TCP_NODELAY: each echo leaves at once, not 40 ms later when a write
       follows one the client has not acknowledged yet (lesson 21). */
    int on = 1;
    struct client *c = calloc(1, sizeof *c);
    if (c == NULL || setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0) {
        evutil_closesocket(fd);
        free(c);
        return;
    }
    c->id = ++accepted;
    c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
        evutil_closesocket(fd);
        free(c);
        return;
    }
    c->next = clients;
    if (clients != NULL)
        clients->prev = c;
    clients = c;
    trace("listener", "accepted", "client=%d", c->id);
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    bufferevent_setwatermark(c->bev, EV_WRITE, OUTPUT_LOW, 0);
    if (bufferevent_enable(c->bev, EV_READ) != 0)
        close_client(c, "error");
}

static void on_signal(evutil_socket_t signum, short what, void *arg)
{
    (void)what;
    (void)arg;
    trace_note("%s: stopping", signum == SIGINT ? "SIGINT" : "SIGTERM");
    if (event_base_loopexit(base, NULL) != 0)
        die("event_base_loopexit");
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
    struct event *on_term = evsignal_new(base, SIGTERM, on_signal, NULL);
    struct event *on_int = evsignal_new(base, SIGINT, on_signal, NULL);
    if (on_term == NULL || on_int == NULL || evsignal_add(on_term, NULL) != 0 ||
        evsignal_add(on_int, NULL) != 0)
        die("evsignal_new");

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

    while (clients != NULL)
        close_client(clients, "stopped");
    evconnlistener_free(listener);
    event_free(on_term);
    event_free(on_int);
    event_base_free(base);
    return 0;
}

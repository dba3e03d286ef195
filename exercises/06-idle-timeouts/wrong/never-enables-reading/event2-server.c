/*
 * Exercise 06 (solution): an echo server that disconnects idle clients.
 *
 * What it does: listens on 127.0.0.1:PORT (--port; 0 lets the kernel pick,
 *   and the first line says which) and echoes what each client sends. A
 *   client that has sent nothing for --idle-ms milliseconds (default 1000)
 *   is disconnected; the others go on being served. SIGTERM or SIGINT:
 *   everything freed, exit 0.
 * Run it:   make grade EXERCISE=6 SUBMISSION=exercises/06-idle-timeouts/solution
 *           or event2-server --port 5555 --idle-ms 3000, then
 *           nc 127.0.0.1 5555 and say nothing for three seconds
 * Look for: bufferevent_set_timeouts(): a read timeout restarts whenever
 *   data arrives, and when it expires libevent stops reading and calls
 *   on_event with BEV_EVENT_TIMEOUT | BEV_EVENT_READING.
 */
#include "event2.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct client {
    struct bufferevent *bev;
    int id;
    struct client *prev, *next;
};

static struct event_base *base;
static struct client *clients;
static struct timeval idle = { 1, 0 };
static int accepted;

static void close_client(struct client *c, const char *reason)
{
    trace("client", "closed", "id=%d reason=%s", c->id, reason);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        clients = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    bufferevent_free(c->bev);
    free(c);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    if (bufferevent_write_buffer(bev, bufferevent_get_input(bev)) != 0)
        close_client(arg, "error");
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    if (what & BEV_EVENT_TIMEOUT)
        close_client(arg, "idle"); /* silent for the whole read timeout */
    else if (what & BEV_EVENT_EOF)
        close_client(arg, "eof");
    else if (what & BEV_EVENT_ERROR)
        close_client(arg, "error");
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
    bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
    /* A read timeout only: a client that reads slowly is not idle. */
    if (bufferevent_set_timeouts(c->bev, &idle, NULL) != 0)
        close_client(c, "error");
}

static void on_signal(evutil_socket_t signum, short what, void *arg)
{
    (void)signum;
    (void)what;
    (void)arg;
    if (event_base_loopexit(base, NULL) != 0)
        die("event_base_loopexit");
}

static void usage(void)
{
    fprintf(stderr, "usage: event2-server [--port PORT] [--idle-ms MS]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    long port = 0, idle_ms = 1000;
    for (int i = 1; i < argc; i += 2) {
        char *end;
        if (i + 1 >= argc)
            usage();
        long value = strtol(argv[i + 1], &end, 10);
        if (*end != '\0')
            usage();
        if (strcmp(argv[i], "--port") == 0 && value >= 0 && value <= 65535)
            port = value;
        else if (strcmp(argv[i], "--idle-ms") == 0 && value > 0)
            idle_ms = value;
        else
            usage();
    }
    idle.tv_sec = idle_ms / 1000;
    idle.tv_usec = (idle_ms % 1000) * 1000;
    signal(SIGPIPE, SIG_IGN);

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

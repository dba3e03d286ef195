/*
 * Exercise 03 (solution): the TCP client from the course's original notes,
 * fixed.
 *
 * What it does: connects to 127.0.0.1:PORT (--port), sends one line (the
 *   message, --message, default "hello", and "\n"; no NUL), prints every
 *   line the server sends back as "client reply text=LINE", and exits 0
 *   once the server has closed the connection. If the connection fails it
 *   says why on stderr and exits 1.
 * Run it:   make grade EXERCISE=3 SUBMISSION=exercises/03-fix-tcp-client/solution
 *           or against nc -l 127.0.0.1 5555: event2-client --port 5555
 * Look for: bufferevent_enable(EV_READ): a new socket bufferevent writes
 *   but does not read until told to; evbuffer_readln(), which gives whole
 *   lines however the bytes arrive.
 */
#include "event2.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const char *message = "hello";
static size_t queued;    /* bytes handed to the bufferevent */
static int exit_status;  /* 1 once the connection failed */

/* Every complete line in the input, however it was split into reads. */
static void on_read(struct bufferevent *bev, void *arg)
{
    (void)arg;
    struct evbuffer *input = bufferevent_get_input(bev);
    char *line;
    size_t length;
    if ((line = evbuffer_readln(input, &length, EVBUFFER_EOL_CRLF)) != NULL) {
        trace("client", "reply", "text=%s", line);
        free(line);
    }
}

/* The output has drained: the line is on its way. */
static void on_write(struct bufferevent *bev, void *arg)
{
    (void)bev;
    (void)arg;
    trace("client", "sent", "bytes=%zu", queued);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)arg;
    if (what & BEV_EVENT_CONNECTED) {
        trace("client", "connected", NULL);
        /* The line and its newline: strlen() bytes, not the NUL after. */
        if (bufferevent_write(bev, message, strlen(message)) != 0 ||
            bufferevent_write(bev, "\n", 1) != 0)
            die("bufferevent_write");
        queued = strlen(message) + 1;
    } else if (what & BEV_EVENT_EOF) {
        trace("client", "closed", "reason=eof");
        bufferevent_free(bev);
    } else if (what & BEV_EVENT_ERROR) {
        fprintf(stderr, "connection failed: %s\n",
                evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        trace("client", "closed", "reason=error");
        exit_status = 1;
        bufferevent_free(bev);
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: event2-client --port PORT [--message TEXT]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    long port = -1;
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc)
            usage();
        if (strcmp(argv[i], "--port") == 0) {
            char *end;
            port = strtol(argv[i + 1], &end, 10);
            if (*end != '\0' || port < 1 || port > 65535)
                usage();
        } else if (strcmp(argv[i], "--message") == 0) {
            message = argv[i + 1];
        } else {
            usage();
        }
    }
    if (port < 0)
        usage();

    struct event_base *base = event_base_new();
    if (base == NULL)
        die("event_base_new");
    /* fd -1: bufferevent_socket_connect() makes the socket, non-blocking. */
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL)
        die("bufferevent_socket_new");
    bufferevent_setcb(bev, on_read, on_write, on_event, NULL);
    if (bufferevent_enable(bev, EV_READ) != 0) /* writing is on already; reading is not */
        die("bufferevent_enable");

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bufferevent_socket_connect(bev, (struct sockaddr *)&addr, sizeof addr) != 0) {
        fprintf(stderr, "connection failed: %s\n",
                evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        bufferevent_free(bev);
        event_base_free(base);
        return 1;
    }

    if (event_base_dispatch(base) < 0)
        die("event_base_dispatch");
    event_base_free(base);
    return exit_status;
}

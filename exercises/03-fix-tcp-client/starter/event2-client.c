/*
 * Exercise 03 (starter): the TCP client from the course's original notes,
 * bugs and all. Fix it; this file, event2-client.c, is what you hand in.
 *
 * What it should do: connect to 127.0.0.1:PORT, send one line (the
 *   message and "\n"), print every line the server sends back as a
 *   "client reply text=LINE" trace line, and exit 0 once the server has
 *   closed the connection; if the connection fails, say why on stderr and
 *   exit 1. What it does: see ../README.md.
 * Run it:   make exercise-3        (builds it, runs the graded tests)
 *           build/exercises/03-fix-tcp-client/bin/event2-client --port 5555
 *           against a server: nc -l 127.0.0.1 5555 (type a reply, Ctrl-D)
 * Look for: what the server receives, and whether the reply is printed.
 */
#include "event2.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const char *message = "hello";

static void read_cb(struct bufferevent *bev, void *arg)
{
    (void)arg;
    char buf[128] = { 0 };
    bufferevent_read(bev, buf, sizeof(buf));
    trace("client", "reply", "text=%s", buf);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    (void)arg;
    trace("client", "sent", "bytes=%zu", strlen(message) + 2);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)arg;
    if (what & BEV_EVENT_CONNECTED) {
        trace("client", "connected", NULL);
        char line[256];
        snprintf(line, sizeof line, "%s\n", message);
        bufferevent_write(bev, line, strlen(line) + 1);
    } else if (what & BEV_EVENT_EOF) {
        trace("client", "closed", "reason=eof");
        bufferevent_free(bev);
    } else if (what & BEV_EVENT_ERROR) {
        fprintf(stderr, "error occurred.\n");
        bufferevent_free(bev);
    }
}

int main(int argc, char **argv)
{
    int port = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--port") == 0)
            port = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--message") == 0)
            message = argv[i + 1];
    }

    struct event_base *base = event_base_new();
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    struct bufferevent *bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bufferevent_socket_connect(bev, (struct sockaddr *)&addr, sizeof(addr));
    bufferevent_setcb(bev, read_cb, write_cb, event_cb, NULL);
    // bufferevent_enable(bev, EV_READ);

    event_base_dispatch(base);
    event_base_free(base);
    return 0;
}

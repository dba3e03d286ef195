/*
 * tcp_pair.c - see tcp_pair.h. No libevent calls: both styles link this.
 */
#include "tcp_pair.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/tcp.h> /* struct tcp_info with tcpi_notsent_bytes */
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* A failed call ends the program (no trace.h: the suites link this too,
   without a probe). */
static _Noreturn void die_errno(const char *what)
{
    fprintf(stderr, "%s: %s\n", what, strerror(errno));
    exit(1);
}

void loopback_pair(int *peer, int *server)
{
    struct sockaddr_in address = { .sin_family = AF_INET,
                                   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t length = sizeof address;
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0)
        die_errno("socket");
    if (bind(listener, (struct sockaddr *)&address, length) != 0 || listen(listener, 1) != 0 ||
        getsockname(listener, (struct sockaddr *)&address, &length) != 0)
        die_errno("bind, listen or getsockname");
    *peer = socket(AF_INET, SOCK_STREAM, 0);
    if (*peer < 0 || connect(*peer, (struct sockaddr *)&address, length) != 0)
        die_errno("connect");
    *server = accept(listener, NULL, NULL);
    if (*server < 0)
        die_errno("accept");
    int flags = fcntl(*server, F_GETFL);
    if (flags < 0 || fcntl(*server, F_SETFL, flags | O_NONBLOCK) != 0)
        die_errno("fcntl(O_NONBLOCK)");
    close(listener);
}

void loopback_set_nodelay(int fd, bool nodelay)
{
    int on = nodelay;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0)
        die_errno("setsockopt(TCP_NODELAY)");
}

void loopback_wait_for(int fd, int bytes)
{
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof bytes) != 0)
        die_errno("setsockopt(SO_RCVLOWAT)");
    /* TCP's poll() says POLLIN only once SO_RCVLOWAT bytes are there. */
    struct pollfd p = { .fd = fd, .events = POLLIN };
    while (poll(&p, 1, -1) < 0)
        if (errno != EINTR)
            die_errno("poll");
    if (setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof one) != 0)
        die_errno("setsockopt(SO_RCVLOWAT)");
}

int loopback_unread(int fd)
{
    int unread;
    if (ioctl(fd, FIONREAD, &unread) != 0)
        die_errno("ioctl(FIONREAD)");
    return unread;
}

void loopback_send(int fd, int bytes)
{
    char *data = malloc((size_t)bytes);
    if (data == NULL)
        die_errno("malloc");
    memset(data, 'x', (size_t)bytes);
    if (send(fd, data, (size_t)bytes, 0) != bytes)
        die_errno("send");
    free(data);
}

void loopback_receive(int fd, int bytes)
{
    char *data = malloc((size_t)bytes);
    if (data == NULL)
        die_errno("malloc");
    if (recv(fd, data, (size_t)bytes, MSG_WAITALL) != bytes)
        die_errno("recv");
    free(data);
}

void loopback_sender_state(int fd, struct loopback_sender *out)
{
    struct tcp_info info;
    socklen_t length = sizeof info;
    memset(&info, 0, sizeof info);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0)
        die_errno("getsockopt(TCP_INFO)");
    out->unsent = info.tcpi_notsent_bytes;
    out->acked = info.tcpi_bytes_acked;
}

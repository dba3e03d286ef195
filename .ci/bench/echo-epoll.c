/*
 * echo-epoll.c - the bench's yardstick: an echo server on epoll alone,
 * edge-triggered, no libevent. What hand-written code can do on this
 * machine; `make bench` gives every other server as a ratio to it.
 *
 * Run it:   build/bench/echo-epoll [--port PORT]   (SIGINT/SIGTERM: exit 0)
 * Look for: one read() until EAGAIN and one write() per message: a 16 KiB
 *   message is read whole (the buffer is 64 KiB) and written in one call.
 *
 * Like the lesson servers: 127.0.0.1, port 0 unless --port, "listening on
 * 127.0.0.1:PORT" first, TCP_NODELAY on every accepted socket, a client
 * whose echo piles up is not read until it drains (at most BUFFER_SIZE
 * held per client), everything freed at exit.
 */
#define _GNU_SOURCE
#include "net.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

enum { BUFFER_SIZE = 64 * 1024, MAX_EVENTS = 256 };

struct client {
    int fd;
    size_t length, sent; /* bytes read and held to echo; of those, written */
    bool eof;            /* the client sends no more: close once drained */
    struct client *prev, *next;
    char *buffer; /* BUFFER_SIZE bytes, never cleared: only read into */
};

static struct client *clients;

static void fail(const char *what)
{
    perror(what);
    exit(1);
}

static void close_client(struct client *c)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        clients = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    close(c->fd);
    free(c->buffer);
    free(c);
}

/* Write what is held; false on an error. Leaves c->length > 0 when the
   socket is full (EPOLLOUT, an edge, says when to go on). */
static bool flush(struct client *c)
{
    while (c->sent < c->length) {
        ssize_t n = write(c->fd, c->buffer + c->sent, c->length - c->sent);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        if (n <= 0)
            return false;
        c->sent += (size_t)n;
    }
    c->length = c->sent = 0;
    return true;
}

/* Edge-triggered: read until EAGAIN, or the readiness is lost. Each read
   is written back before the next: a client whose echo does not drain is
   not read from (backpressure) until EPOLLOUT calls this again. False:
   close the connection. */
static bool serve(struct client *c)
{
    for (;;) {
        if (!flush(c))
            return false;
        if (c->length > 0)
            return true;
        if (c->eof)
            return false; /* all echoed: done */
        ssize_t n = read(c->fd, c->buffer, BUFFER_SIZE);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        if (n < 0)
            return false;
        if (n == 0)
            c->eof = true;
        c->length = (size_t)n;
    }
}

static void accept_all(int epfd, int listen_fd)
{
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                perror("accept4");
            return;
        }
        int on = 1;
        struct client *c = malloc(sizeof *c);
        char *buffer = malloc(BUFFER_SIZE);
        if (c == NULL || buffer == NULL ||
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0) {
            free(c);
            free(buffer);
            close(fd);
            continue;
        }
        *c = (struct client){ .fd = fd, .buffer = buffer, .next = clients };
        if (clients != NULL)
            clients->prev = c;
        clients = c;
        struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                  .data.ptr = c };
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
            close_client(c);
    }
}

int main(int argc, char **argv)
{
    struct net_options options;
    net_parse_options(argc, argv, NET_SERVER, &options);
    net_ignore_sigpipe();

    /* SIGINT and SIGTERM arrive as reads on a signalfd, inside the loop. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &stop, NULL) != 0)
        fail("sigprocmask");
    int signal_fd = signalfd(-1, &stop, SFD_CLOEXEC);
    int listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int on = 1;
    if (signal_fd < 0 || listen_fd < 0)
        fail("signalfd or socket");
    if (setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        bind(listen_fd, (struct sockaddr *)&options.address, sizeof options.address) != 0 ||
        listen(listen_fd, 1024) != 0)
        fail("bind or listen");
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &listen_fd };
    struct epoll_event sig = { .events = EPOLLIN, .data.ptr = &signal_fd };
    if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &ev) != 0 ||
        epoll_ctl(epfd, EPOLL_CTL_ADD, signal_fd, &sig) != 0)
        fail("epoll");
    net_announce(listen_fd);

    bool running = true;
    while (running) {
        struct epoll_event events[MAX_EVENTS];
        int n = epoll_wait(epfd, events, MAX_EVENTS, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail("epoll_wait");
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr == &signal_fd)
                running = false;
            else if (events[i].data.ptr == &listen_fd)
                accept_all(epfd, listen_fd);
            else if (!serve(events[i].data.ptr))
                close_client(events[i].data.ptr); /* close() takes it out of epoll */
        }
    }
    while (clients != NULL)
        close_client(clients);
    close(epfd);
    close(listen_fd);
    close(signal_fd);
    return 0;
}

/*
 * load.c - see load.h. One epoll loop over every connection; a connection
 * is always either writing its message or waiting for the whole reply.
 * The load sets TCP_NODELAY on its own sockets, so any wait measured is
 * the server's.
 */
#define _GNU_SOURCE
#include "load.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
    int fd;
    size_t written;  /* of the message in flight */
    size_t received; /* of its reply */
    bool writing;    /* EPOLLOUT wanted: the message is not all written */
    int64_t sent_ns; /* when its first byte was written */
};

struct samples {
    int64_t *ns;
    size_t n, cap;
};

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static bool add_sample(struct samples *s, int64_t ns)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 4096;
        int64_t *grown = realloc(s->ns, cap * sizeof *grown);
        if (grown == NULL)
            return false;
        s->ns = grown;
        s->cap = cap;
    }
    s->ns[s->n++] = ns;
    return true;
}

static int compare_ns(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The p-th percentile (0 < p <= 100) of sorted samples, in µs. */
static double percentile_us(const struct samples *s, double p)
{
    size_t rank = (size_t)((p / 100.0) * (double)s->n + 0.999999);
    if (rank < 1)
        rank = 1;
    return (double)s->ns[rank - 1] / 1000.0;
}

static int connect_one(int port)
{
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int on = 1;
    if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0 ||
        fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Write what is left of the message; false on an error. */
static bool write_some(int epfd, struct conn *c, const char *message, size_t size)
{
    while (c->written < size) {
        ssize_t n = write(c->fd, message + c->written, size - c->written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0)
            return false;
        c->written += (size_t)n;
    }
    bool want_out = c->written < size;
    if (want_out != c->writing) {
        struct epoll_event ev = { .events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = c };
        if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0)
            return false;
        c->writing = want_out;
    }
    return true;
}

static bool send_message(int epfd, struct conn *c, const char *message, size_t size)
{
    c->written = 0;
    c->received = 0;
    c->sent_ns = now_ns();
    return write_some(epfd, c, message, size);
}

/* Read what has come; true in *done when the whole reply is in. */
static bool read_some(const struct load_spec *spec, struct conn *c, bool *done)
{
    static char buffer[256 * 1024];
    *done = false;
    for (;;) {
        ssize_t n = read(c->fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        if (n <= 0)
            return false; /* the server closed or reset the connection */
        c->received += (size_t)n;
        if (spec->kind == LOAD_ECHO ? c->received >= spec->message_size
                                    : memchr(buffer, '\n', (size_t)n) != NULL) {
            *done = true;
            return true; /* one message in flight: nothing more can come */
        }
    }
}

static char *make_message(const struct load_spec *spec)
{
    char *m = malloc(spec->message_size);
    if (m == NULL)
        return NULL;
    for (size_t i = 0; i < spec->message_size; i++)
        m[i] = (char)('a' + i % 26);
    if (spec->kind == LOAD_LINE) {
        size_t p = strlen(spec->prefix);
        if (p + 1 > spec->message_size) {
            free(m);
            return NULL;
        }
        memcpy(m, spec->prefix, p);
        m[spec->message_size - 1] = '\n';
    }
    return m;
}

void load_run(const struct load_spec *spec, struct load_result *result)
{
    memset(result, 0, sizeof *result);
    struct samples samples = { 0 };
    char *message = make_message(spec);
    struct conn *conns = calloc((size_t)spec->connections, sizeof *conns);
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    int opened = 0;
    if (message == NULL || conns == NULL || epfd < 0) {
        result->error = "out of memory or descriptors";
        goto out;
    }
    for (; opened < spec->connections; opened++) {
        struct conn *c = &conns[opened];
        c->fd = connect_one(spec->port);
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
        if (c->fd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
            if (c->fd >= 0)
                close(c->fd);
            result->error = "cannot connect to the server";
            goto out;
        }
    }

    /* Replies that complete in [counted_from, end) count, whenever their
       message left. A server slower than the whole window is waited for,
       up to give_up, so that it gets a figure rather than none. */
    int64_t start = now_ns();
    int64_t counted_from = start + (int64_t)spec->warmup_ms * 1000000;
    int64_t end = counted_from + (int64_t)spec->measure_ms * 1000000;
    int64_t give_up = start + (int64_t)5000 * 1000000;
    for (int i = 0; i < opened; i++)
        if (!send_message(epfd, &conns[i], message, spec->message_size)) {
            result->error = "a write to the server failed";
            goto out;
        }

    struct epoll_event events[128];
    int64_t now;
    while ((now = now_ns()) < end || (samples.n == 0 && now < give_up)) {
        int64_t until = now < end ? end : give_up;
        int n = epoll_wait(epfd, events, 128, (int)((until - now) / 1000000) + 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            result->error = "epoll_wait failed";
            goto out;
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            bool done = false;
            if ((events[i].events & EPOLLOUT) &&
                !write_some(epfd, c, message, spec->message_size)) {
                result->error = "a write to the server failed";
                goto out;
            }
            if ((events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !read_some(spec, c, &done)) {
                result->error = "the server closed a connection";
                goto out;
            }
            if (!done)
                continue;
            int64_t replied = now_ns();
            if (replied >= counted_from && !add_sample(&samples, replied - c->sent_ns)) {
                result->error = "out of memory";
                goto out;
            }
            if (replied < end && !send_message(epfd, c, message, spec->message_size)) {
                result->error = "a write to the server failed";
                goto out;
            }
        }
    }
    if (samples.n == 0) {
        result->error = "no reply in 5 s";
        goto out;
    }
    int64_t measured = (now > end ? now : end) - counted_from;
    qsort(samples.ns, samples.n, sizeof *samples.ns, compare_ns);
    result->messages = (long)samples.n;
    result->messages_per_s = (double)samples.n * 1e9 / (double)measured;
    result->p50_us = percentile_us(&samples, 50);
    result->p99_us = percentile_us(&samples, 99);
out:
    for (int i = 0; i < opened; i++)
        close(conns[i].fd);
    if (epfd >= 0)
        close(epfd);
    free(conns);
    free(message);
    free(samples.ns);
}

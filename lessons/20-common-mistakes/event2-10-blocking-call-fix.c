/*
 * Lesson 20, event2 style, mistake 10, the fix: the long job done in
 * slices, one per pass of the loop, so that other clients are served in
 * between.
 *
 * What it shows: the same clients and job as the bug. a's read callback
 *   only starts the job: a timer with a zero timeout does one slice per
 *   callback and adds itself again, and between two slices the loop looks
 *   at the sockets. b's request, which arrives as the job begins, is
 *   answered after the first slice, long before the job ends; a gets the
 *   same result as in the bug. (The other fixes: a worker thread that
 *   hands the result back to the loop, lesson 17; for a slow read, an
 *   event on the descriptor instead of a blocking read.)
 * Run it:   make lesson-20     (every mistake: the bug, then the fix)
 *           build/bin/20-event2-10-blocking-call-fix [--measure]
 * Look for: "client b answered before a's job ended". --measure adds how
 *   long b waited and how long the job took (not in the expected trace).
 */
#include "event2.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { SLICES = 40, ROUNDS = 250000 }; /* the job: 40 slices */
static const struct timeval no_time = { 0, 0 };
static int client_a = -1, client_b = -1; /* the clients' ends of their connections */
static struct event *conn_a, *conn_b, *job;
static int slices_done;
static uint32_t state = 1; /* the job's running result */
static bool job_done, measure;
static long long job_start, b_sent;

static long long now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* One slice of a long computation (a checksum, say): ROUNDS rounds. */
static uint32_t slice(uint32_t x)
{
    for (int i = 0; i < ROUNDS; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
    }
    return x;
}

static void reply(evutil_socket_t fd, const char *text)
{
    if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        die_errno("write");
}

/* Read one request; "" at end of file. */
static const char *request(evutil_socket_t fd, char *buf, size_t size)
{
    ssize_t n = read(fd, buf, size - 1);
    if (n < 0)
        die_errno("read");
    buf[n] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    return buf;
}

static void job_ended(void)
{
    job_done = true;
    trace("server", "job-done", "result=%08x", (unsigned)state);
    if (measure)
        printf("measure  job took %lld us\n", now_us() - job_start);
    char text[32];
    snprintf(text, sizeof text, "%08x\n", (unsigned)state);
    reply(event_get_fd(conn_a), text);
    trace("server", "replied", "client=a");
}

/* doc: fix */
/* One slice per callback; between two, the loop serves the other clients. */
static void on_slice(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    state = slice(state);
    if (++slices_done < SLICES) {
        if (evtimer_add(job, &no_time) != 0) /* due at once, after the sockets */
            die("evtimer_add");
        return;
    }
    job_ended();
}

static void start_job(void)
{
    trace("server", "job-start", "slices=%d", SLICES);
    job_start = now_us();
    on_slice(-1, EV_TIMEOUT, NULL); /* the first slice now, the rest later */
}
/* doc: end */

static void on_request_a(evutil_socket_t fd, short what, void *arg)
{
    char buf[64];
    (void)what, (void)arg;
    trace("server", "read", "client=a request=\"%s\"", request(fd, buf, sizeof buf));
    if (event_del(conn_a) != 0) /* one request per client */
        die("event_del");
    /* The world: b's request arrives as a's job begins. */
    if (write(client_b, "ping\n", 5) != 5)
        die_errno("write");
    b_sent = now_us();
    trace("client", "sent", "client=b request=\"ping\"");
    start_job();
}

static void on_request_b(evutil_socket_t fd, short what, void *arg)
{
    char buf[64];
    (void)what, (void)arg;
    trace("server", "read", "client=b request=\"%s\"", request(fd, buf, sizeof buf));
    if (event_del(conn_b) != 0)
        die("event_del");
    reply(fd, "pong\n");
    if (measure)
        printf("measure  client b waited %lld us\n", now_us() - b_sent);
    trace("server", "replied", "client=b");
    trace_note("client b answered %s a's job ended", job_done ? "after" : "before");
}

/* A connection: the client's end and the server's (non-blocking), with
   the server's read event. */
static struct event *connect_client(struct event_base *base, int *client, event_callback_fn cb)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        die_errno("socketpair");
    if (evutil_make_socket_nonblocking(fds[1]) != 0)
        die("evutil_make_socket_nonblocking");
    struct event *ev = event_new(base, fds[1], EV_READ | EV_PERSIST, cb, NULL);
    if (ev == NULL || event_add(ev, NULL) != 0)
        die("event_new, event_add");
    *client = fds[0];
    return ev;
}

static void close_conn(struct event *ev)
{
    close(event_get_fd(ev));
    event_free(ev);
}

int main(int argc, char **argv)
{
    measure = argc == 2 && strcmp(argv[1], "--measure") == 0;
    if (argc > 2 || (argc == 2 && !measure)) {
        fprintf(stderr, "usage: %s [--measure]\n", argv[0]);
        return 2;
    }
    struct event_base *base = event_base_new();
    if (base == NULL)
        die("event_base_new");
    conn_a = connect_client(base, &client_a, on_request_a);
    conn_b = connect_client(base, &client_b, on_request_b);
    job = evtimer_new(base, on_slice, NULL);
    if (job == NULL)
        die("evtimer_new");
    if (write(client_a, "job\n", 4) != 4)
        die_errno("write");
    trace("client", "sent", "client=a request=\"job\"");

    trace("loop", "dispatch", NULL);
    int result = event_base_dispatch(base);
    trace("loop", "returned", "result=%d", result);
    char buf[64];
    trace("client", "read", "client=a reply=\"%s\"", request(client_a, buf, sizeof buf));
    trace("client", "read", "client=b reply=\"%s\"", request(client_b, buf, sizeof buf));

    event_free(job);
    close_conn(conn_a);
    close_conn(conn_b);
    event_base_free(base);
    close(client_a);
    close(client_b);
    return 0;
}

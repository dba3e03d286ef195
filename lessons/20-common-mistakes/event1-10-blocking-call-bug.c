/*
 * Lesson 20, event1 style, mistake 10, the bug: a long job done inside a
 * callback makes every other client wait.
 *
 * What it shows: two clients, a and b. a asks for a job that takes a
 *   while (a computation of 40 slices; a sleep(), a blocking read or a
 *   blocking DNS lookup would do the same), and the read callback does it
 *   all before it returns. b's request, which arrives as the job begins,
 *   waits in its socket: the loop cannot look at it until the callback
 *   returns. b is answered only after a's job has ended, however small
 *   its own request.
 * Run it:   make lesson-20     (every mistake: the bug, then the fix)
 *           build/bin/20-event1-10-blocking-call-bug [--measure]
 * Look for: "client b answered after a's job ended". --measure adds how
 *   long b waited and how long the job took (not in the expected trace).
 */
#include "event1.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { SLICES = 40, ROUNDS = 250000 }; /* the job: 40 slices */
static int client_a = -1, client_b = -1; /* the clients' ends of their connections */
static struct event conn_a_ev, conn_b_ev, *conn_a = &conn_a_ev, *conn_b = &conn_b_ev; /* 1.x: the program's storage */
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

static void reply(int fd, const char *text)
{
    if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        die_errno("write");
}

/* Read one request; "" at end of file. */
static const char *request(int fd, char *buf, size_t size)
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
    reply(EVENT_FD(conn_a), text);
    trace("server", "replied", "client=a");
}

/* doc: bug */
/* The mistake: the whole job in the callback. No other callback runs
   until it returns: b's request waits in its socket. */
static void start_job(void)
{
    trace("server", "job-start", "slices=%d", SLICES);
    job_start = now_us();
    for (int i = 0; i < SLICES; i++)
        state = slice(state);
    job_ended();
}
/* doc: end */

static void on_request_a(int fd, short what, void *arg)
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

static void on_request_b(int fd, short what, void *arg)
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
static void connect_client(struct event *ev, int *client, void (*cb)(int, short, void *))
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        die_errno("socketpair");
    if (evutil_make_socket_nonblocking(fds[1]) != 0)
        die("evutil_make_socket_nonblocking");
    event_set(ev, fds[1], EV_READ | EV_PERSIST, cb, NULL);
    if (event_add(ev, NULL) != 0)
        die("event_add");
    *client = fds[0];
}

static void close_conn(struct event *ev)
{
    close(EVENT_FD(ev)); /* its event is deleted: nothing to free */
}

int main(int argc, char **argv)
{
    measure = argc == 2 && strcmp(argv[1], "--measure") == 0;
    if (argc > 2 || (argc == 2 && !measure)) {
        fprintf(stderr, "usage: %s [--measure]\n", argv[0]);
        return 2;
    }
    struct event_base *base = event_init();
    if (base == NULL)
        die("event_init");
    connect_client(conn_a, &client_a, on_request_a);
    connect_client(conn_b, &client_b, on_request_b);
    if (write(client_a, "job\n", 4) != 4)
        die_errno("write");
    trace("client", "sent", "client=a request=\"job\"");

    trace("loop", "dispatch", NULL);
    int result = event_dispatch();
    trace("loop", "returned", "result=%d", result);
    char buf[64];
    trace("client", "read", "client=a reply=\"%s\"", request(client_a, buf, sizeof buf));
    trace("client", "read", "client=b reply=\"%s\"", request(client_b, buf, sizeof buf));

    close_conn(conn_a);
    close_conn(conn_b);
    event_base_free(base);
    close(client_a);
    close(client_b);
    return 0;
}

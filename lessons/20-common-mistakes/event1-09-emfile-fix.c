/*
 * Lesson 20, event1 style, mistake 09, the fix: stop accepting until a
 * descriptor is free again.
 *
 * What it shows: the same server and clients as the bug. 1.x had no
 *   evconnlistener: at accept()'s EMFILE the accept callback deletes its
 *   own event (event_del()), so the client waiting in the backlog no
 *   longer wakes the loop, which sleeps. Client a leaves 50 ms later;
 *   the server closes a's connection, a descriptor is free, the accept
 *   event is added again (event_add()) and client b, still in the
 *   backlog, is served.
 * Run it:   make lesson-20     (every mistake: the bug, then the fix)
 *           build/bin/20-event1-09-emfile-fix
 * Look for: "accept failed: Too many open files" once, "listener
 *   disabled", then "server closed client=a", "listener enabled" and
 *   client b's reply; "accept failed 1 time".
 */
#include "event1.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static const struct timeval stay_time = { 0, 50 * 1000 }, watchdog_time = { 10, 0 };
static int client_a = -1, client_b = -1; /* the clients' ends of their connections */
static int accepted, failures;
static int listener = -1;
static struct event accept_ev, conn_a_ev, leave, watchdog; /* 1.x: the program's storage */
static bool conn_a_open, disabled; /* disabled: the accept event, deleted at EMFILE */

/* Client a says goodbye: the server reads end of file. (Its socket stays
   open until the end: in this one process, closing it would free a
   descriptor for the server.) */
static void client_a_leaves(void)
{
    if (shutdown(client_a, SHUT_WR) != 0)
        die_errno("shutdown");
    trace("client", "left", "client=a");
}

/* The server is done: two clients are all it takes (or the watchdog). */
static void shut_down(void)
{
    if (event_del(&accept_ev) != 0)
        die("event_del");
    close(listener);
    if (conn_a_open) {
        if (event_del(&conn_a_ev) != 0)
            die("event_del");
        close(EVENT_FD(&conn_a_ev));
        conn_a_open = false;
    }
    if (event_del(&leave) != 0 || event_del(&watchdog) != 0)
        die("event_del");
}

static void on_watchdog(int fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    trace_note("watchdog: client b not served in 10 s");
    shut_down();
}

static void on_leave(int fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    client_a_leaves();
}

/* Client a's connection: end of file means a has left, and the server
   closes it, which frees a descriptor. */
static void on_conn_a(int fd, short what, void *arg)
{
    char data[64];
    (void)what, (void)arg;
    ssize_t n = read(fd, data, sizeof data);
    if (n != 0)
        return; /* client a sends nothing here */
    if (event_del(&conn_a_ev) != 0)
        die("event_del");
    conn_a_open = false;
    close(fd);
    trace("server", "closed", "client=a");
    /* doc: fix-enable */
    if (disabled) { /* a descriptor is free: accept again */
        if (event_add(&accept_ev, NULL) != 0)
            die("event_add");
        disabled = false;
        trace("listener", "enabled", NULL);
    }
    /* doc: end */
}

/* doc: fix */
/* accept() failed with an error a retry will not cure at once (EMFILE:
   this process is out of descriptors). Stop accepting until a connection
   closes; the waiting client stays in the backlog meanwhile. */
static void accept_failed(int error)
{
    failures++;
    trace_note("accept failed: %s", strerror(error));
    if (event_del(&accept_ev) != 0) /* 1.x had no listener to disable */
        die("event_del");
    disabled = true;
    trace("listener", "disabled", NULL);
    if (evtimer_add(&leave, &stay_time) != 0) /* the world: client a stays 50 ms more */
        die("evtimer_add");
}
/* doc: end */

/* 1.x had no listener: accept() by hand, from an EV_READ|EV_PERSIST event. */
static void on_accept(int fd, short what, void *arg)
{
    (void)what, (void)arg;
    int conn = accept(fd, NULL, NULL);
    if (conn < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
            accept_failed(errno);
        return;
    }
    if (evutil_make_socket_nonblocking(conn) != 0)
        die("evutil_make_socket_nonblocking");
    if (++accepted == 1) { /* client a: kept open, as a busy server keeps its clients */
        trace("server", "accepted", "client=a");
        event_set(&conn_a_ev, conn, EV_READ | EV_PERSIST, on_conn_a, NULL);
        if (event_add(&conn_a_ev, NULL) != 0)
            die("event_add");
        conn_a_open = true;
        return;
    }
    trace("server", "accepted", "client=b");
    if (write(conn, "hello\n", 6) != 6)
        die_errno("write");
    close(conn);
    shut_down();
}

/* Lower the soft limit on descriptors so that one more can be opened:
   the lowest free number is the last. Returns the limit it replaced. */
static struct rlimit leave_one_descriptor(void)
{
    struct rlimit old, limit;
    int lowest = dup(STDERR_FILENO);
    if (lowest < 0 || close(lowest) != 0 || getrlimit(RLIMIT_NOFILE, &old) != 0)
        die_errno("dup, getrlimit");
    limit = old;
    limit.rlim_cur = (rlim_t)lowest + 1;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
        die_errno("setrlimit");
    trace_note("the server may open one more descriptor");
    return old;
}

static int connect_client(const struct sockaddr_in *addr, const char *name)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (const struct sockaddr *)addr, sizeof *addr) != 0)
        die_errno("connect");
    trace("client", "connected", "client=%s", name);
    return fd;
}

int main(int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: %s (no arguments)\n", argv[0]);
        return 2;
    }
    /* The listening socket, 127.0.0.1 on a port the kernel picks. */
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&addr, len) != 0 ||
        listen(listener, 8) != 0 || getsockname(listener, (struct sockaddr *)&addr, &len) != 0)
        die_errno("socket, bind, listen");
    if (evutil_make_socket_nonblocking(listener) != 0)
        die("evutil_make_socket_nonblocking");
    /* Two clients, before the server runs: both wait in the backlog. */
    client_a = connect_client(&addr, "a");
    client_b = connect_client(&addr, "b");

    struct event_base *base = event_init();
    if (base == NULL)
        die("event_init");
    event_set(&accept_ev, listener, EV_READ | EV_PERSIST, on_accept, NULL);
    if (event_add(&accept_ev, NULL) != 0)
        die("event_add");
    evtimer_set(&leave, on_leave, NULL);
    evtimer_set(&watchdog, on_watchdog, NULL);
    if (evtimer_add(&watchdog, &watchdog_time) != 0)
        die("evtimer_add");
    struct rlimit old = leave_one_descriptor();

    trace("loop", "dispatch", NULL);
    int result = event_dispatch();
    trace("loop", "returned", "result=%d", result);
    if (setrlimit(RLIMIT_NOFILE, &old) != 0)
        die_errno("setrlimit");

    char reply[16];
    ssize_t n = read(client_b, reply, sizeof reply - 1);
    reply[n > 0 ? n : 0] = '\0';
    trace("client", "read", "client=b reply=\"%.*s\"", (int)strcspn(reply, "\n"), reply);
    trace_note("accept failed %d time%s", failures, failures == 1 ? "" : "s");

    event_base_free(base);
    close(client_a);
    close(client_b);
    return 0;
}

/*
 * Lesson 20, event2 style, mistake 09, the bug: a listener with no error
 * callback spins when accept() fails with EMFILE.
 *
 * What it shows: a server may open one more descriptor (its soft limit
 *   lowered with setrlimit()); clients a and b wait in the backlog. The
 *   listener accepts a, and accept() fails for b with EMFILE. With no error
 *   callback, libevent 2.1.12 logs the error and leaves the listener
 *   enabled; b is still in the backlog, so the listening socket is still
 *   readable and the loop wakes at once to fail again: 100% CPU, a warning
 *   each time. The program lets it fail 1000 times (its bound; a server
 *   would spin for as long as a stayed), then client a leaves, and b is
 *   served at last.
 * Run it:   make lesson-20     (every mistake: the bug, then the fix)
 *           build/bin/20-event2-09-emfile-bug
 * Look for: libevent's "Error from accept() call: Too many open files",
 *   then "accept failed 1000 times for one waiting client" with nothing
 *   else in between.
 */
#include "event2.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

enum { BOUND = 1000 }; /* failures before client a leaves */
static const struct timeval watchdog_time = { 10, 0 };
static int client_a = -1, client_b = -1; /* the clients' ends of their connections */
static int accepted, warnings;
static struct evconnlistener *lev;
static struct event *conn_a, *watchdog;

/* Client a says goodbye: the server reads end of file. (Its socket stays
   open until the end: in this one process, closing it would free a
   descriptor for the server.) */
static void client_a_leaves(void)
{
    if (shutdown(client_a, SHUT_WR) != 0)
        die_errno("shutdown");
    trace("client", "left", "client=a");
}

/* libevent's messages: it logs an accept() error it has no callback for. */
static void on_log(int severity, const char *msg)
{
    (void)severity;
    if (++warnings == 1)
        trace_style("libevent logged \"%s\"", msg);
    if (warnings == BOUND) { /* the program's bound: a real server spins on */
        trace_note("accept failed %d times for one waiting client", BOUND);
        client_a_leaves();
    }
}

/* The server is done: two clients are all it takes (or the watchdog). */
static void shut_down(void)
{
    evconnlistener_free(lev); /* safe in its own callback; closes the socket */
    if (conn_a != NULL) {
        close(event_get_fd(conn_a));
        event_free(conn_a);
        conn_a = NULL;
    }
    if (event_del(watchdog) != 0)
        die("event_del");
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    trace_note("watchdog: client b not served in 10 s");
    shut_down();
}

/* Client a's connection: end of file means a has left, and the server
   closes it, which frees a descriptor. */
static void on_conn_a(evutil_socket_t fd, short what, void *arg)
{
    char data[64];
    (void)what, (void)arg;
    ssize_t n = read(fd, data, sizeof data);
    if (n != 0)
        return; /* client a sends nothing here */
    event_free(conn_a);
    conn_a = NULL;
    close(fd);
    trace("server", "closed", "client=a");
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *addr, int len,
                      void *arg)
{
    (void)l, (void)addr, (void)len, (void)arg;
    if (++accepted == 1) { /* client a: kept open, as a busy server keeps its clients */
        trace("server", "accepted", "client=a");
        conn_a = event_new(evconnlistener_get_base(lev), fd, EV_READ | EV_PERSIST, on_conn_a, NULL);
        if (conn_a == NULL || event_add(conn_a, NULL) != 0)
            die("event_new, event_add");
        return;
    }
    trace("server", "accepted", "client=b");
    if (write(fd, "hello\n", 6) != 6)
        die_errno("write");
    close(fd);
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
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&addr, len) != 0 ||
        listen(listener, 8) != 0 || getsockname(listener, (struct sockaddr *)&addr, &len) != 0)
        die_errno("socket, bind, listen");
    if (evutil_make_socket_nonblocking(listener) != 0)
        die("evutil_make_socket_nonblocking");
    /* Two clients, before the server runs: both wait in the backlog. */
    client_a = connect_client(&addr, "a");
    client_b = connect_client(&addr, "b");

    struct event_base *base = event_base_new();
    if (base == NULL)
        die("event_base_new");
    event_set_log_callback(on_log);
    lev = evconnlistener_new(base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE, -1, listener);
    if (lev == NULL)
        die("evconnlistener_new");
    /* doc: bug */
    /* The mistake: no evconnlistener_set_error_cb(). */
    /* doc: end */
    watchdog = evtimer_new(base, on_watchdog, NULL);
    if (watchdog == NULL || evtimer_add(watchdog, &watchdog_time) != 0)
        die("evtimer_new, evtimer_add");
    struct rlimit old = leave_one_descriptor();

    trace("loop", "dispatch", NULL);
    int result = event_base_dispatch(base);
    trace("loop", "returned", "result=%d", result);
    if (setrlimit(RLIMIT_NOFILE, &old) != 0)
        die_errno("setrlimit");

    char reply[16];
    ssize_t n = read(client_b, reply, sizeof reply - 1);
    reply[n > 0 ? n : 0] = '\0';
    trace("client", "read", "client=b reply=\"%.*s\"", (int)strcspn(reply, "\n"), reply);

    event_free(watchdog);
    event_base_free(base);
    close(client_a);
    close(client_b);
    return 0;
}

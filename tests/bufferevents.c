/*
 * bufferevents.c - the bufferevents suite: what lessons 07 (basics), 08
 * (when the callbacks run) and 09 (flow control) teach about bufferevents,
 * checked against the real libevent (2.1.12 on Debian 12). The lessons cite
 * these tests as `bufferevents/<test name>`.
 *
 * Orders are recorded as strings ("connected write read:pong eof") and
 * compared whole. Data goes through socketpairs, whose writes are in the
 * peer's queue when write() returns, or through a TCP connection on
 * 127.0.0.1 where each step waits for the one before it. No order depends
 * on timing: the three timeout tests wait at most 40ms each, and check only
 * that a timeout fired, that none did while nothing could fire it, or how
 * far a deadline moved on libevent's own clock.
 */
#define _GNU_SOURCE /* asprintf */
#include "suites.h"
#include "util.h"

#include <event.h> /* the 1.x calls and the public struct bufferevent */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* --- Recording ----------------------------------------------------------------- */

static char order[1024];

static void record(const char *what)
{
    if (order[0] != '\0')
        strncat(order, " ", sizeof order - strlen(order) - 1);
    strncat(order, what, sizeof order - strlen(order) - 1);
}

/* --- A base, and a bufferevent on a socketpair --------------------------------------- */

static struct event_base *new_base(void)
{
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    return base;
}

struct pair {
    struct bufferevent *bev;
    int fd;   /* the bufferevent's end */
    int peer; /* the other end, non-blocking, used by hand */
};

static void pair_open(struct pair *p, struct event_base *base, int options)
{
    int fds[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    ck_assert_int_eq(evutil_make_socket_nonblocking(fds[1]), 0);
    p->fd = fds[0];
    p->peer = fds[1];
    p->bev = bufferevent_socket_new(base, p->fd, BEV_OPT_CLOSE_ON_FREE | options);
    ck_assert_ptr_nonnull(p->bev);
}

static void pair_close(struct pair *p)
{
    bufferevent_free(p->bev);
    close(p->peer);
}

static void send_text(int fd, const char *text)
{
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
}

static size_t input_length(struct bufferevent *bev)
{
    return evbuffer_get_length(bufferevent_get_input(bev));
}

static size_t output_length(struct bufferevent *bev)
{
    return evbuffer_get_length(bufferevent_get_output(bev));
}

/* --- Recording callbacks ------------------------------------------------------------ */

/* on_read_record records "read:DATA" and drains the input; once
   read_total reaches read_stop_at it disables reading (so with the default
   0, after every read), which lets the loop end. */
static size_t read_total, read_stop_at;

static void on_read_record(struct bufferevent *bev, void *arg)
{
    char data[256], entry[300];
    (void)arg;
    size_t n = bufferevent_read(bev, data, sizeof data - 1);
    data[n] = '\0';
    snprintf(entry, sizeof entry, "read:%s", data);
    record(entry);
    read_total += n;
    if (read_total >= read_stop_at)
        ck_assert_int_eq(bufferevent_disable(bev, EV_READ), 0);
}

static void on_write_record(struct bufferevent *bev, void *arg)
{
    char entry[64];
    (void)arg;
    snprintf(entry, sizeof entry, "write:%zu", output_length(bev));
    record(entry);
}

static short enabled_in_event_cb = -1;
static int errno_in_event_cb;

static void on_event_record(struct bufferevent *bev, short what, void *arg)
{
    char flags[64], entry[80];
    (void)arg;
    errno_in_event_cb = errno;
    enabled_in_event_cb = bufferevent_get_enabled(bev);
    snprintf(entry, sizeof entry, "event:%s", trace_bev_flags(what, flags, sizeof flags));
    record(entry);
}

static void on_timer_record(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    record(arg);
}

/* ======================================================================================
 * Lesson 07: bufferevent basics
 * ====================================================================================== */

/* bufferevent_new() with no current base dereferences NULL in 2.1 (upstream
   issue 565); 1.4 allowed it if bufferevent_base_set() followed. Check runs
   each test in a fresh process, so no event_init() has happened here; the
   call is made in a child of its own, without a core file. */
START_TEST(bufferevent_new_without_event_init_crashes)
{
    int fds[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        const struct rlimit no_core = { 0, 0 };
        setrlimit(RLIMIT_CORE, &no_core);
        /* A sanitizer's handler would turn the crash into an exit status. */
        signal(SIGSEGV, SIG_DFL);
        struct bufferevent *bev = bufferevent_new(fds[0], NULL, NULL, on_event_record, NULL);
        _exit(bev != NULL ? 3 : 4); /* not reached on 2.1.12 */
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
                  "bufferevent_new() without event_init() did not crash: %s %d",
                  WIFEXITED(status) ? "exit status" : "signal",
                  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    close(fds[0]);
    close(fds[1]);
}
END_TEST

/* A new bufferevent, either kind, has writing enabled and reading not: data
   waiting in its socket is not read, and with an empty output nothing is
   added, so the loop returns at once. */
START_TEST(reading_is_not_enabled_by_default)
{
    struct event_base *base = event_init();
    ck_assert_ptr_nonnull(base);
    int fds[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    struct bufferevent *old = bufferevent_new(fds[0], on_read_record, NULL, on_event_record, NULL);
    ck_assert_ptr_nonnull(old);
    struct pair p;
    pair_open(&p, base, 0);
    bufferevent_setcb(p.bev, on_read_record, NULL, on_event_record, NULL);

    ck_assert_int_eq(old->enabled, EV_WRITE); /* 1.x read the public field */
    ck_assert_int_eq(bufferevent_get_enabled(old), EV_WRITE);
    ck_assert_int_eq(bufferevent_get_enabled(p.bev), EV_WRITE);

    send_text(fds[1], "old");
    send_text(p.peer, "new");
    ck_assert_int_eq(event_base_dispatch(base), 1); /* nothing to wait for */
    ck_assert_int_eq(event_base_loop(base, EVLOOP_NONBLOCK), 1);
    ck_assert_str_eq(order, "");
    ck_assert_uint_eq(input_length(old), 0);
    ck_assert_uint_eq(input_length(p.bev), 0);

    ck_assert_int_eq(bufferevent_enable(old, EV_READ), 0);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_int_eq(bufferevent_enable(p.bev, EV_READ), 0);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "read:old read:new");

    bufferevent_free(old);
    pair_close(&p);
    event_base_free(base);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

/* bufferevent_base_set() moves a bufferevent_new() bufferevent to another
   base: its callbacks run from that base's loop only. */
START_TEST(bufferevent_base_set_moves_it_to_another_base)
{
    struct event_base *global = event_init();
    ck_assert_ptr_nonnull(global);
    struct event_base *other = new_base();
    int fds[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    struct bufferevent *bev = bufferevent_new(fds[0], on_read_record, NULL, on_event_record, NULL);
    ck_assert_ptr_nonnull(bev);
    /* Made with no base: its events took the current one, its own field
       stayed NULL. */
    ck_assert_ptr_null(bufferevent_get_base(bev));
    ck_assert_int_eq(bufferevent_base_set(other, bev), 0);
    ck_assert_ptr_eq(bufferevent_get_base(bev), other);

    ck_assert_int_eq(bufferevent_enable(bev, EV_READ), 0);
    send_text(fds[1], "x");
    ck_assert_int_eq(event_base_loop(global, EVLOOP_NONBLOCK), 1); /* nothing there */
    ck_assert_str_eq(order, "");
    ck_assert_int_eq(event_base_dispatch(other), 1);
    ck_assert_str_eq(order, "read:x");

    bufferevent_free(bev);
    event_base_free(other);
    event_base_free(global);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

/* The input buffer is first in, first out, and bufferevent_read() removes
   what it returns. libevent fills it whether or not there is a read
   callback. */
START_TEST(input_is_first_in_first_out_and_read_once)
{
    struct event_base *base = new_base();
    struct pair p;
    pair_open(&p, base, 0);
    ck_assert_int_eq(bufferevent_enable(p.bev, EV_READ), 0);
    send_text(p.peer, "hel");
    send_text(p.peer, "lo");
    ck_assert_int_eq(event_base_loop(base, EVLOOP_NONBLOCK), 0);
    ck_assert_uint_eq(input_length(p.bev), 5);

    char data[64];
    ck_assert_uint_eq(bufferevent_read(p.bev, data, 3), 3);
    ck_assert_int_eq(memcmp(data, "hel", 3), 0);
    ck_assert_uint_eq(bufferevent_read(p.bev, data, sizeof data), 2);
    ck_assert_int_eq(memcmp(data, "lo", 2), 0);
    ck_assert_uint_eq(input_length(p.bev), 0);
    ck_assert_uint_eq(bufferevent_read(p.bev, data, sizeof data), 0);
    pair_close(&p);
    event_base_free(base);
}
END_TEST

/* bufferevent_write() only queues: the output holds the bytes until the
   loop writes them, in order; the write callback runs once the output has
   drained (to 0, the default write low watermark). */
START_TEST(output_is_sent_first_in_first_out)
{
    struct event_base *base = new_base();
    struct pair p;
    pair_open(&p, base, 0);
    bufferevent_setcb(p.bev, NULL, on_write_record, on_event_record, NULL);
    ck_assert_int_eq(bufferevent_write(p.bev, "first,", 6), 0);
    ck_assert_int_eq(bufferevent_write(p.bev, "second", 6), 0);
    ck_assert_uint_eq(output_length(p.bev), 12);
    char data[64];
    ck_assert_int_eq(read(p.peer, data, sizeof data), -1); /* nothing sent yet */
    ck_assert_int_eq(errno, EAGAIN);

    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "write:0");
    ck_assert_int_eq(read(p.peer, data, sizeof data), 12);
    ck_assert_int_eq(memcmp(data, "first,second", 12), 0);
    pair_close(&p);
    event_base_free(base);
}
END_TEST

/* bufferevent_disable(EV_READ) stops reading: what arrives waits in the
   socket until reading is enabled again. */
START_TEST(disabled_reading_leaves_data_in_the_socket)
{
    struct event_base *base = new_base();
    struct pair p;
    pair_open(&p, base, 0);
    bufferevent_setcb(p.bev, on_read_record, NULL, on_event_record, NULL);
    ck_assert_int_eq(bufferevent_enable(p.bev, EV_READ), 0);
    send_text(p.peer, "a");
    ck_assert_int_eq(event_base_dispatch(base), 1); /* the callback disables reading */
    ck_assert_int_eq(bufferevent_get_enabled(p.bev), EV_WRITE);

    send_text(p.peer, "b");
    ck_assert_int_eq(event_base_loop(base, EVLOOP_NONBLOCK), 1);
    ck_assert_str_eq(order, "read:a");
    ck_assert_uint_eq(input_length(p.bev), 0);

    ck_assert_int_eq(bufferevent_enable(p.bev, EV_READ), 0);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "read:a read:b");
    pair_close(&p);
    event_base_free(base);
}
END_TEST

/* The peer closing shows up as READING|EOF, and libevent disables reading
   itself; writing stays enabled. */
START_TEST(eof_reports_reading_eof_and_stops_reading)
{
    struct event_base *base = new_base();
    struct pair p;
    pair_open(&p, base, 0);
    bufferevent_setcb(p.bev, on_read_record, NULL, on_event_record, NULL);
    read_stop_at = SIZE_MAX;
    ck_assert_int_eq(bufferevent_enable(p.bev, EV_READ), 0);
    send_text(p.peer, "bye");
    ck_assert_int_eq(close(p.peer), 0);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "read:bye event:READING|EOF");
    ck_assert_int_eq(enabled_in_event_cb, EV_WRITE);
    bufferevent_free(p.bev);
    event_base_free(base);
}
END_TEST

/* Writing to a socket whose peer has closed: WRITING|ERROR, errno says why
   (EPIPE; SIGPIPE must be ignored or the process dies first), and libevent
   disables writing. */
START_TEST(write_after_peer_closed_reports_writing_error)
{
    ck_assert(signal(SIGPIPE, SIG_IGN) != SIG_ERR);
    struct event_base *base = new_base();
    struct pair p;
    pair_open(&p, base, 0);
    bufferevent_setcb(p.bev, NULL, on_write_record, on_event_record, NULL);
    ck_assert_int_eq(close(p.peer), 0);
    ck_assert_int_eq(bufferevent_write(p.bev, "late", 4), 0);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "event:WRITING|ERROR");
    ck_assert_int_eq(errno_in_event_cb, EPIPE);
    ck_assert_int_eq(enabled_in_event_cb, 0);
    bufferevent_free(p.bev);
    event_base_free(base);
}
END_TEST

/* BEV_OPT_CLOSE_ON_FREE closes the socket, but not inside
   bufferevent_free(): libevent 2.1 finishes freeing a bufferevent from the
   loop (its next pass, or event_base_free()). */
START_TEST(close_on_free_closes_the_socket_when_the_loop_runs)
{
    struct event_base *base = new_base();
    struct pair p, q;
    pair_open(&p, base, 0);
    pair_open(&q, base, 0);

    bufferevent_free(p.bev);
    ck_assert(is_open(p.fd));
    ck_assert_int_eq(event_base_loop(base, EVLOOP_NONBLOCK), 1);
    ck_assert(!is_open(p.fd));

    bufferevent_free(q.bev);
    ck_assert(is_open(q.fd));
    event_base_free(base);
    ck_assert(!is_open(q.fd));
    close(p.peer);
    close(q.peer);
}
END_TEST

/* bufferevent_write() only queues: the bytes leave in the loop, when the
   socket is writable. Freeing the bufferevent before that drops them: the
   peer gets EOF and none of the reply. (So a server that answers and then
   closes must close from the write callback, once the output is empty.) */
START_TEST(free_right_after_write_drops_the_unsent_output)
{
    struct event_base *base = new_base();
    struct pair p;
    pair_open(&p, base, 0);
    ck_assert_int_eq(bufferevent_write(p.bev, "reply\n", 6), 0);
    ck_assert_uint_eq(evbuffer_get_length(bufferevent_get_output(p.bev)), 6);
    bufferevent_free(p.bev);
    ck_assert_int_eq(event_base_loop(base, EVLOOP_NONBLOCK), 1);
    ck_assert(!is_open(p.fd));
    char got[16];
    ck_assert_int_eq(read(p.peer, got, sizeof got), 0); /* EOF, no "reply\n" */
    close(p.peer);
    event_base_free(base);
}
END_TEST

/* Without BEV_OPT_CLOSE_ON_FREE, and always for bufferevent_new(), the
   socket stays the caller's to close. */
START_TEST(bufferevent_new_never_closes_the_socket)
{
    struct event_base *base = event_init();
    ck_assert_ptr_nonnull(base);
    int fds[2], more[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, more), 0);
    struct bufferevent *old = bufferevent_new(fds[0], NULL, NULL, on_event_record, NULL);
    struct bufferevent *plain = bufferevent_socket_new(base, more[0], 0);
    ck_assert_ptr_nonnull(old);
    ck_assert_ptr_nonnull(plain);
    bufferevent_free(old);
    bufferevent_free(plain);
    ck_assert_int_eq(event_loop(EVLOOP_NONBLOCK), 1);
    event_base_free(base);
    ck_assert(is_open(fds[0]));
    ck_assert(is_open(more[0]));
    for (int i = 0; i < 2; i++) {
        close(fds[i]);
        close(more[i]);
    }
}
END_TEST

static int log_calls;
static char last_log[256];

static void capture_log(int severity, const char *message)
{
    (void)severity;
    log_calls++;
    snprintf(last_log, sizeof last_log, "%s", message);
}

/* The header says a BEV_OPT_THREADSAFE bufferevent is locked "if threading
   is enabled"; without evthread_use_pthreads() (or other lock callbacks)
   it is not made at all, and nothing is logged. */
START_TEST(threadsafe_without_threading_fails)
{
    event_set_log_callback(capture_log);
    struct event_base *base = new_base();
    int fds[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    ck_assert_ptr_null(bufferevent_socket_new(base, fds[0], BEV_OPT_THREADSAFE));
    ck_assert_ptr_null(bufferevent_socket_new(base, -1, BEV_OPT_THREADSAFE));
    ck_assert_int_eq(log_calls, 0);
    ck_assert(is_open(fds[0])); /* a failed bufferevent_socket_new() leaves it alone */
    event_base_free(base);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

/* BEV_OPT_UNLOCK_CALLBACKS needs BEV_OPT_DEFER_CALLBACKS: alone, the
   bufferevent is not made, and libevent says why. */
START_TEST(unlock_callbacks_requires_defer_callbacks)
{
    event_set_log_callback(capture_log);
    struct event_base *base = new_base();
    ck_assert_ptr_null(bufferevent_socket_new(base, -1, BEV_OPT_UNLOCK_CALLBACKS));
    ck_assert_int_eq(log_calls, 1);
    ck_assert_str_eq(last_log, "UNLOCK_CALLBACKS requires DEFER_CALLBACKS");
    struct bufferevent *bev =
        bufferevent_socket_new(base, -1, BEV_OPT_UNLOCK_CALLBACKS | BEV_OPT_DEFER_CALLBACKS);
    ck_assert_ptr_nonnull(bev);
    bufferevent_free(bev);
    event_base_free(base);
}
END_TEST

/* ======================================================================================
 * Lesson 08: when a bufferevent's callbacks run
 * ====================================================================================== */

/* --- A connection's life ---------------------------------------------------------------------- */

static void on_client_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    (void)arg;
    record(what & BEV_EVENT_CONNECTED ? "connected" : what & BEV_EVENT_EOF ? "eof" : "other-event");
}

static void on_client_write(struct bufferevent *bev, void *arg)
{
    (void)bev;
    (void)arg;
    record("write");
}

static void on_server_read(struct bufferevent *bev, void *arg)
{
    char data[64], entry[80];
    (void)arg;
    size_t n = bufferevent_read(bev, data, sizeof data - 1);
    data[n] = '\0';
    snprintf(entry, sizeof entry, "server-read:%s", data);
    record(entry);
    ck_assert_int_eq(bufferevent_write(bev, "pong", 4), 0);
}

/* Frees its own bufferevent from inside its callback: allowed, libevent
   finishes after the callback returns, and the client sees EOF. */
static void on_server_write(struct bufferevent *bev, void *arg)
{
    (void)arg;
    record("server-write");
    bufferevent_free(bev);
}

/* The lesson's connection: the client queues "ping" before it is connected
   and reads; the server (accepted by hand) answers "pong" and hangs up. */
static const char *connection_round(bool connect_by_hand)
{
    struct sockaddr_in address;
    int listener = listen_on_loopback(&address);
    struct event_base *base = event_init(); /* for bufferevent_new() */
    ck_assert_ptr_nonnull(base);
    struct bufferevent *client;
    int client_fd = -1;
    read_stop_at = SIZE_MAX;
    if (connect_by_hand) {
        client_fd = socket(AF_INET, SOCK_STREAM, 0);
        ck_assert_int_ge(client_fd, 0);
        ck_assert_int_eq(evutil_make_socket_nonblocking(client_fd), 0);
        int r = connect(client_fd, (struct sockaddr *)&address, sizeof address);
        ck_assert(r == 0 || errno == EINPROGRESS);
        client = bufferevent_new(client_fd, on_read_record, on_client_write, on_client_event, NULL);
        ck_assert_ptr_nonnull(client);
    } else {
        client = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
        ck_assert_ptr_nonnull(client);
        bufferevent_setcb(client, on_read_record, on_client_write, on_client_event, NULL);
        ck_assert_int_eq(
            bufferevent_socket_connect(client, (struct sockaddr *)&address, sizeof address), 0);
    }
    ck_assert_int_eq(bufferevent_write(client, "ping", 4), 0);
    ck_assert_int_eq(bufferevent_enable(client, EV_READ), 0);

    int server_fd = accept(listener, NULL, NULL);
    ck_assert_int_ge(server_fd, 0);
    close(listener);
    ck_assert_int_eq(evutil_make_socket_nonblocking(server_fd), 0);
    struct bufferevent *server = bufferevent_socket_new(base, server_fd, BEV_OPT_CLOSE_ON_FREE);
    ck_assert_ptr_nonnull(server);
    bufferevent_setcb(server, on_server_read, on_server_write, NULL, NULL);
    ck_assert_int_eq(bufferevent_enable(server, EV_READ), 0);

    ck_assert_int_eq(event_base_dispatch(base), 1);
    bufferevent_free(client);
    if (client_fd >= 0)
        close(client_fd);
    event_base_free(base);
    return order;
}

/* bufferevent_socket_connect(): connected, write drained, read, EOF. The
   CONNECTED event and the write callback come from the same pass, in that
   order. */
START_TEST(connection_life_runs_connected_write_read_eof)
{
    ck_assert_str_eq(connection_round(false),
                     "connected write server-read:ping server-write read:pong eof");
}
END_TEST

/* A connect() made by hand is never reported as CONNECTED: the first sign
   is the write callback, once libevent could write. */
START_TEST(connect_by_hand_reports_no_connected_event)
{
    ck_assert_str_eq(connection_round(true), "write server-read:ping server-write read:pong eof");
}
END_TEST

/* bufferevent.h: "If no address is provided, we assume that the socket is
   already connecting" and report BEV_EVENT_CONNECTED when it is done. So a
   connect() made by hand is reported too, once bufferevent_socket_connect()
   is called with no address: while the connect is in progress, and even
   after it has completed. */
START_TEST(connect_with_no_address_reports_connected_for_a_socket_connected_by_hand)
{
    struct sockaddr_in address;
    int listener = listen_on_loopback(&address);
    struct event_base *base = new_base();
    for (int completed = 0; completed < 2; completed++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        ck_assert_int_ge(fd, 0);
        if (!completed)
            ck_assert_int_eq(evutil_make_socket_nonblocking(fd), 0);
        int r = connect(fd, (struct sockaddr *)&address, sizeof address);
        ck_assert(completed ? r == 0 : r == 0 || errno == EINPROGRESS);
        ck_assert_int_eq(evutil_make_socket_nonblocking(fd), 0);
        struct bufferevent *bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
        ck_assert_ptr_nonnull(bev);
        bufferevent_setcb(bev, NULL, NULL, on_event_record, NULL);
        ck_assert_int_eq(bufferevent_socket_connect(bev, NULL, 0), 0);
        int accepted = accept(listener, NULL, NULL);
        ck_assert_int_ge(accepted, 0);
        ck_assert_int_eq(event_base_dispatch(base), 1);
        ck_assert_str_eq(order, "event:CONNECTED");
        order[0] = '\0';
        bufferevent_free(bev);
        close(accepted);
    }
    close(listener);
    event_base_free(base);
}
END_TEST

/* --- Where a read callback runs ---------------------------------------------------------- */

/* The rounds of lesson 08: the reader's socket is readable and "starter" is
   active before the loop starts. The loop polls first, so the reader's read
   event becomes active behind starter; starter's callback activates
   "follower", behind the read event; follower's activates "late", after the
   read event has run. Returns the order of the callbacks. */
static struct event *follower, *late, *work;

static void on_starter(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    record(arg);
    event_active(follower, 0, 0);
}

static void on_follower(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    record(arg);
    event_active(late, 0, 0);
}

/* Lesson 08's event1 round: the read callback runs at once and leaves its
   work to an event of its own, as a 1.x program would. */
static void on_read_then_activate_work(struct bufferevent *bev, void *arg)
{
    on_read_record(bev, arg);
    event_active(work, 0, 0);
}

static const char *starter_round(int options, bufferevent_data_cb readcb)
{
    struct event_base *base = new_base();
    struct pair p;
    pair_open(&p, base, options);
    bufferevent_setcb(p.bev, readcb, NULL, on_event_record, NULL);
    struct event *starter = event_new(base, -1, 0, on_starter, "starter");
    follower = event_new(base, -1, 0, on_follower, "follower");
    late = event_new(base, -1, 0, on_timer_record, "late");
    work = event_new(base, -1, 0, on_timer_record, "work");
    ck_assert_ptr_nonnull(starter);
    ck_assert_ptr_nonnull(follower);
    ck_assert_ptr_nonnull(late);
    ck_assert_ptr_nonnull(work);
    ck_assert_int_eq(bufferevent_enable(p.bev, EV_READ), 0);
    send_text(p.peer, "x");
    event_active(starter, 0, 0);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    event_free(starter);
    event_free(follower);
    event_free(late);
    event_free(work);
    pair_close(&p);
    event_base_free(base);
    return order;
}

/* By default the read callback runs inside libevent's own read event: in
   that event's place in the active queue, before follower. */
START_TEST(immediate_read_callback_runs_inside_the_read_event)
{
    ck_assert_str_eq(starter_round(0, on_read_record), "starter read:x follower late");
}
END_TEST

/* BEV_OPT_DEFER_CALLBACKS: the read event does not call the read callback;
   it puts it on the active queue of the bufferevent's priority, there and
   then, as event_active() would. So it runs behind what was already active
   (follower) and ahead of what is made active after it (late, activated by
   follower's callback). Not "after the regular callbacks": late is a
   regular event of the same priority, and it runs last. */
START_TEST(deferred_callback_queues_behind_active_events_ahead_of_later_ones)
{
    ck_assert_str_eq(starter_round(BEV_OPT_DEFER_CALLBACKS, on_read_record),
                     "starter follower read:x late");
}
END_TEST

/* What a 1.x program could do instead: an immediate read callback that
   activates an event of its own ("work"). work lands where the deferred
   callback does: after follower, before late. */
START_TEST(event_active_from_a_read_callback_lands_where_a_deferred_callback_does)
{
    ck_assert_str_eq(starter_round(0, on_read_then_activate_work),
                     "starter read:x follower work late");
}
END_TEST

/* A deferred callback is queued at the bufferevent's priority (the base's
   middle one unless bufferevent_priority_set() says otherwise): it runs
   before events of a lower priority that were active first. */
START_TEST(deferred_callback_runs_before_lower_priority_events)
{
    struct event_base *base = new_base();
    ck_assert_int_eq(event_base_priority_init(base, 3), 0);
    struct pair p;
    pair_open(&p, base, BEV_OPT_DEFER_CALLBACKS); /* priority 1, the middle */
    bufferevent_setcb(p.bev, on_read_record, NULL, on_event_record, NULL);
    struct event *low = event_new(base, -1, 0, on_timer_record, "low");
    ck_assert_ptr_nonnull(low);
    ck_assert_int_eq(event_priority_set(low, 2), 0);
    ck_assert_int_eq(bufferevent_enable(p.bev, EV_READ), 0);
    send_text(p.peer, "x");
    event_active(low, 0, 0);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "read:x low");
    event_free(low);
    pair_close(&p);
    event_base_free(base);
}
END_TEST

/* The limit: in one pass of the loop, 2.1.12 puts at most 33 deferred
   callbacks straight on the active queue (MAX_DEFERREDS_QUEUED is 32, and
   the check is "more than"); the rest wait for the start of the next pass.
   One callback defers 40 read callbacks, then activates "marker": 33 run
   before marker, 7 after. */
enum { MANY_DEFERRED = 40 };
static struct bufferevent *many[MANY_DEFERRED];

static void on_read_count(struct bufferevent *bev, void *arg)
{
    (void)bev;
    (void)arg;
    record("d");
}

static void on_defer_many(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    for (int i = 0; i < MANY_DEFERRED; i++)
        bufferevent_trigger(many[i], EV_READ, BEV_TRIG_DEFER_CALLBACKS); /* returns nothing */
    event_active(arg, 0, 0);
}

START_TEST(deferred_callbacks_past_33_in_one_pass_wait_for_the_next)
{
    struct event_base *base = new_base();
    for (int i = 0; i < MANY_DEFERRED; i++) {
        many[i] = bufferevent_socket_new(base, -1, BEV_OPT_DEFER_CALLBACKS);
        ck_assert_ptr_nonnull(many[i]);
        bufferevent_setcb(many[i], on_read_count, NULL, NULL, NULL);
    }
    struct event *marker = event_new(base, -1, 0, on_timer_record, "marker");
    struct event *trigger = event_new(base, -1, 0, on_defer_many, marker);
    ck_assert_ptr_nonnull(marker);
    ck_assert_ptr_nonnull(trigger);
    event_active(trigger, 0, 0);
    ck_assert_int_eq(event_base_dispatch(base), 1);

    const char *at = strstr(order, "marker");
    ck_assert_ptr_nonnull(at);
    size_t before = 0, after = 0;
    for (const char *c = order; *c != '\0'; c++) {
        bool is_d = *c == 'd' && (c == order || c[-1] == ' ') && (c[1] == ' ' || c[1] == '\0');
        if (is_d && c < at)
            before++;
        else if (is_d)
            after++;
    }
    ck_assert_msg(before == 33 && after == 7, "%zu deferred callbacks before marker, %zu after",
                  before, after);
    event_free(trigger);
    event_free(marker);
    for (int i = 0; i < MANY_DEFERRED; i++)
        bufferevent_free(many[i]);
    event_base_free(base);
}
END_TEST

/* ======================================================================================
 * Lesson 09: flow control
 * ====================================================================================== */

/* --- How much one read takes -------------------------------------------------------------- */

/* on_read_length records "input:N", the input's length when the callback
   runs, and drains it; largest_input keeps the largest N. */
static size_t largest_input;

static void on_read_length(struct bufferevent *bev, void *arg)
{
    char entry[64];
    (void)arg;
    size_t n = input_length(bev);
    snprintf(entry, sizeof entry, "input:%zu", n);
    record(entry);
    if (n > largest_input)
        largest_input = n;
    ck_assert_int_eq(evbuffer_drain(bufferevent_get_input(bev), n), 0);
    read_total += n;
    if (read_total >= read_stop_at)
        ck_assert_int_eq(bufferevent_disable(bev, EV_READ), 0);
}

enum { MESSAGE = 10000 };

/* Sends MESSAGE bytes from fd (all of them: the peer's queue holds them
   before the loop reads), then returns the read callback's record. */
static const char *read_message(struct event_base *base, struct bufferevent *bev, int fd,
                                size_t bytes)
{
    static char message[MESSAGE];
    ck_assert_uint_le(bytes, sizeof message);
    memset(message, 'm', bytes);
    ck_assert_int_eq(write(fd, message, bytes), (ssize_t)bytes);
    order[0] = '\0';
    read_total = 0;
    read_stop_at = bytes;
    ck_assert_int_eq(bufferevent_enable(bev, EV_READ), 0);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    return order;
}

/* libevent 2.1.12 reads at most 4096 bytes into a bufferevent at a time:
   evbuffer_read() caps every read at EVBUFFER_MAX_READ (4096), below the
   16384 that bufferevent_get_max_single_read() answers. A 10000-byte
   message, all of it waiting in the socket, comes as three read callbacks:
   4096, 4096, 1808. Over TCP on 127.0.0.1 too, no read takes more. */
START_TEST(one_read_takes_at_most_4096_bytes)
{
    struct event_base *base = new_base();
    struct pair p;
    pair_open(&p, base, 0);
    bufferevent_setcb(p.bev, on_read_length, NULL, on_event_record, NULL);
    ck_assert_int_eq(bufferevent_get_max_single_read(p.bev), 16384);
    ck_assert_str_eq(read_message(base, p.bev, p.peer, MESSAGE),
                     "input:4096 input:4096 input:1808");
    pair_close(&p);

    struct sockaddr_in address;
    int listener = listen_on_loopback(&address);
    int client = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(client, 0);
    ck_assert_int_eq(connect(client, (struct sockaddr *)&address, sizeof address), 0);
    int server = accept(listener, NULL, NULL);
    ck_assert_int_ge(server, 0);
    ck_assert_int_eq(evutil_make_socket_nonblocking(server), 0);
    struct bufferevent *bev = bufferevent_socket_new(base, server, BEV_OPT_CLOSE_ON_FREE);
    ck_assert_ptr_nonnull(bev);
    bufferevent_setcb(bev, on_read_length, NULL, on_event_record, NULL);
    largest_input = 0;
    read_message(base, bev, client, MESSAGE);
    ck_assert_uint_eq(read_total, MESSAGE);
    ck_assert_msg(largest_input <= 4096, "one read took %zu bytes over TCP", largest_input);
    bufferevent_free(bev);
    close(client);
    close(listener);
    event_base_free(base);
}
END_TEST

/* bufferevent_set_max_single_read() can lower the size of a read, not
   raise it past 4096 (libevent 2.2 changes that: there it raises the
   evbuffer's own limit too). */
START_TEST(max_single_read_lowers_the_read_size_but_cannot_raise_it)
{
    struct event_base *base = new_base();
    struct pair p;
    pair_open(&p, base, 0);
    bufferevent_setcb(p.bev, on_read_length, NULL, on_event_record, NULL);
    ck_assert_int_eq(bufferevent_set_max_single_read(p.bev, 1000), 0);
    ck_assert_str_eq(read_message(base, p.bev, p.peer, 3000), "input:1000 input:1000 input:1000");
    ck_assert_int_eq(bufferevent_set_max_single_read(p.bev, 65536), 0);
    ck_assert_int_eq(bufferevent_get_max_single_read(p.bev), 65536);
    ck_assert_str_eq(read_message(base, p.bev, p.peer, MESSAGE),
                     "input:4096 input:4096 input:1808");
    pair_close(&p);
    event_base_free(base);
}
END_TEST

/* --- Watermarks ------------------------------------------------------------------------ */

/* With a read low watermark, libevent reads what arrives but calls the read
   callback only once the input holds that much: one callback, for all of
   it. Lesson 09's numbers: a 10000-byte message whose first 6000 bytes
   libevent reads (4096 + 1904) without calling back. */
START_TEST(read_low_watermark_delays_the_read_callback)
{
    static char message[MESSAGE];
    struct event_base *base = new_base();
    struct pair p;
    pair_open(&p, base, 0);
    bufferevent_setcb(p.bev, on_read_length, NULL, on_event_record, NULL);
    bufferevent_setwatermark(p.bev, EV_READ, MESSAGE, 0);
    read_stop_at = MESSAGE;
    ck_assert_int_eq(bufferevent_enable(p.bev, EV_READ), 0);
    ck_assert_int_eq(write(p.peer, message, 6000), 6000);
    ck_assert_int_eq(event_base_loop(base, EVLOOP_NONBLOCK), 0);
    ck_assert_uint_eq(input_length(p.bev), 6000); /* read, but under the mark */
    ck_assert_str_eq(order, "");
    ck_assert_int_eq(write(p.peer, message, MESSAGE - 6000), MESSAGE - 6000);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "input:10000");
    pair_close(&p);
    event_base_free(base);
}
END_TEST

/* With a read high watermark, each read takes at most what fills the input
   up to the mark. */
START_TEST(read_high_watermark_caps_each_read)
{
    struct event_base *base = new_base();
    struct pair p;
    pair_open(&p, base, 0);
    bufferevent_setcb(p.bev, on_read_record, NULL, on_event_record, NULL);
    bufferevent_setwatermark(p.bev, EV_READ, 0, 8);
    read_stop_at = 20;
    send_text(p.peer, "abcdefghijklmnopqrst");
    ck_assert_int_eq(bufferevent_enable(p.bev, EV_READ), 0);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "read:abcdefgh read:ijklmnop read:qrst");
    pair_close(&p);
    event_base_free(base);
}
END_TEST

/* Drains the input on every second call only. */
static int undrained_calls;

static void on_read_drain_every_second_call(struct bufferevent *bev, void *arg)
{
    char entry[64];
    (void)arg;
    snprintf(entry, sizeof entry, "input:%zu", input_length(bev));
    record(entry);
    if (++undrained_calls == 2) {
        undrained_calls = 0;
        ck_assert_int_eq(evbuffer_drain(bufferevent_get_input(bev), input_length(bev)), 0);
    }
}

/* While the input is at the high watermark libevent reads nothing more,
   but 2.1.12 runs the read callback again at once, deferred, for as long as
   reading is enabled and the input stays at the mark: a callback that
   never drains spins the loop. Draining lets reading go on. (Every call
   here is inside one event_base_loop(EVLOOP_NONBLOCK), which goes on until
   a pass finds nothing active.) */
START_TEST(read_callback_repeats_until_the_input_drains_below_high)
{
    struct event_base *base = new_base();
    struct pair p;
    pair_open(&p, base, 0);
    bufferevent_setcb(p.bev, on_read_drain_every_second_call, NULL, on_event_record, NULL);
    bufferevent_setwatermark(p.bev, EV_READ, 0, 8);
    send_text(p.peer, "abcdefghijklmnopqrst");
    ck_assert_int_eq(bufferevent_enable(p.bev, EV_READ), 0);
    ck_assert_int_eq(event_base_loop(base, EVLOOP_NONBLOCK), 0);
    ck_assert_str_eq(order, "input:8 input:8 input:8 input:8 input:4");
    pair_close(&p);
    event_base_free(base);
}
END_TEST

/* The write callback runs as soon as the output has drained to the write
   low watermark, with data still in it; libevent writes at most
   bufferevent_get_max_single_write() bytes at a time, so a large output
   passes through (0, low]. */
static size_t first_write_cb_output = SIZE_MAX, drained_by_peer;
enum { BIG_OUTPUT = 1 << 20, WRITE_LOW = 256 * 1024 };

static void on_write_first_length(struct bufferevent *bev, void *arg)
{
    (void)arg;
    if (first_write_cb_output == SIZE_MAX)
        first_write_cb_output = output_length(bev);
}

static void on_peer_drain(evutil_socket_t fd, short what, void *arg)
{
    char chunk[65536];
    (void)what;
    ssize_t n = read(fd, chunk, sizeof chunk);
    ck_assert(n > 0 || errno == EAGAIN);
    if (n > 0)
        drained_by_peer += (size_t)n;
    if (drained_by_peer == BIG_OUTPUT)
        ck_assert_int_eq(event_del(arg), 0);
}

START_TEST(write_low_watermark_calls_back_before_the_output_is_empty)
{
    struct event_base *base = new_base();
    struct pair p;
    pair_open(&p, base, 0);
    bufferevent_setcb(p.bev, NULL, on_write_first_length, on_event_record, NULL);
    bufferevent_setwatermark(p.bev, EV_WRITE, WRITE_LOW, 0);
    char *big = calloc(1, BIG_OUTPUT);
    ck_assert_ptr_nonnull(big);
    ck_assert_int_eq(bufferevent_write(p.bev, big, BIG_OUTPUT), 0);
    free(big);
    struct event *drain =
        event_new(base, p.peer, EV_READ | EV_PERSIST, on_peer_drain, event_self_cbarg());
    ck_assert_ptr_nonnull(drain);
    ck_assert_int_eq(event_add(drain, NULL), 0);
    ck_assert_int_eq(event_base_dispatch(base), 1);

    ck_assert_uint_eq(drained_by_peer, BIG_OUTPUT);
    ck_assert(bufferevent_get_max_single_write(p.bev) < WRITE_LOW);
    ck_assert_msg(first_write_cb_output > 0 && first_write_cb_output <= WRITE_LOW,
                  "first write callback with %zu bytes of output", first_write_cb_output);
    event_free(drain);
    pair_close(&p);
    event_base_free(base);
}
END_TEST

/* --- Timeouts ---------------------------------------------------------------------------- */

static double seconds_until(const struct timeval *deadline)
{
    struct timeval now;
    gettimeofday(&now, NULL);
    return (double)(deadline->tv_sec - now.tv_sec) + (deadline->tv_usec - now.tv_usec) / 1e6;
}

/* 1.x's bufferevent_settimeout() takes whole seconds (2.1 keeps them as
   timevals in the public struct) and arms the read event with that. */
START_TEST(settimeout_takes_whole_seconds)
{
    struct event_base *base = event_init();
    ck_assert_ptr_nonnull(base);
    int fds[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    struct bufferevent *bev = bufferevent_new(fds[0], on_read_record, NULL, on_event_record, NULL);
    ck_assert_ptr_nonnull(bev);
    bufferevent_settimeout(bev, 1, 2);
    ck_assert_int_eq(bev->timeout_read.tv_sec, 1);
    ck_assert_int_eq(bev->timeout_read.tv_usec, 0);
    ck_assert_int_eq(bev->timeout_write.tv_sec, 2);
    ck_assert_int_eq(bev->timeout_write.tv_usec, 0);

    ck_assert_int_eq(bufferevent_enable(bev, EV_READ), 0);
    struct timeval deadline;
    ck_assert_int_eq(event_pending(&bev->ev_read, EV_TIMEOUT, &deadline), EV_TIMEOUT);
    double left = seconds_until(&deadline);
    /* A second, not a millisecond nor the write timeout's two: wide margins,
       since the test may be descheduled and event_pending() converts the
       monotonic deadline to wall-clock time, which can land a little past 1 s. */
    ck_assert_msg(left > 0.1 && left < 1.5, "read timeout due in %.3f s", left);
    bufferevent_free(bev);
    event_base_free(base);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

/* A read timeout reports READING|TIMEOUT to the event callback, and
   reading is disabled after it. */
START_TEST(read_timeout_reports_reading_timeout_and_stops_reading)
{
    struct event_base *base = new_base();
    struct pair p;
    pair_open(&p, base, 0);
    bufferevent_setcb(p.bev, on_read_record, NULL, on_event_record, NULL);
    const struct timeval soon = { 0, 20 * 1000 };
    ck_assert_int_eq(bufferevent_set_timeouts(p.bev, &soon, NULL), 0);
    ck_assert_int_eq(bufferevent_enable(p.bev, EV_READ), 0);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "event:READING|TIMEOUT");
    ck_assert_int_eq(enabled_in_event_cb, EV_WRITE);
    pair_close(&p);
    event_base_free(base);
}
END_TEST

/* The read timeout is armed only while reading is enabled: with reading
   disabled it never fires, however long the loop runs. */
START_TEST(read_timeout_counts_only_while_reading_is_enabled)
{
    struct event_base *base = new_base();
    struct pair p;
    pair_open(&p, base, 0);
    bufferevent_setcb(p.bev, on_read_record, NULL, on_event_record, NULL);
    const struct timeval short_timeout = { 0, 10 * 1000 }, longer = { 0, 40 * 1000 };
    ck_assert_int_eq(bufferevent_set_timeouts(p.bev, &short_timeout, NULL), 0);
    ck_assert_int_eq(event_pending(&p.bev->ev_read, EV_READ | EV_TIMEOUT, NULL), 0);
    ck_assert_int_eq(bufferevent_enable(p.bev, EV_READ), 0);
    ck_assert_int_eq(event_pending(&p.bev->ev_read, EV_READ | EV_TIMEOUT, NULL),
                     EV_READ | EV_TIMEOUT);
    ck_assert_int_eq(bufferevent_disable(p.bev, EV_READ), 0);
    ck_assert_int_eq(event_pending(&p.bev->ev_read, EV_READ | EV_TIMEOUT, NULL), 0);

    ck_assert_int_eq(event_base_once(base, -1, EV_TIMEOUT, on_timer_record, "timer", &longer), 0);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_str_eq(order, "timer"); /* no event:READING|TIMEOUT */
    pair_close(&p);
    event_base_free(base);
}
END_TEST

/* Each read restarts the read timeout: its deadline moves to now plus the
   timeout (compared on libevent's own clock, through event_pending()). */
START_TEST(read_timeout_restarts_when_data_arrives)
{
    struct event_base *base = new_base();
    struct pair p;
    pair_open(&p, base, 0);
    bufferevent_setcb(p.bev, on_read_record, NULL, on_event_record, NULL);
    read_stop_at = SIZE_MAX;
    const struct timeval ten_seconds = { 10, 0 };
    ck_assert_int_eq(bufferevent_set_timeouts(p.bev, &ten_seconds, NULL), 0);
    ck_assert_int_eq(bufferevent_enable(p.bev, EV_READ), 0);
    struct timeval before, after;
    ck_assert_int_eq(event_pending(&p.bev->ev_read, EV_TIMEOUT, &before), EV_TIMEOUT);

    const struct timespec pause = { 0, 30 * 1000 * 1000 };
    nanosleep(&pause, NULL);
    send_text(p.peer, "x");
    ck_assert_int_eq(event_base_loop(base, EVLOOP_NONBLOCK), 0);
    ck_assert_str_eq(order, "read:x");
    ck_assert_int_eq(event_pending(&p.bev->ev_read, EV_TIMEOUT, &after), EV_TIMEOUT);
    double moved = (double)(after.tv_sec - before.tv_sec) + (after.tv_usec - before.tv_usec) / 1e6;
    ck_assert_msg(moved >= 0.025, "the deadline moved by %.3f s", moved);
    pair_close(&p);
    event_base_free(base);
}
END_TEST

/* --- Backpressure ------------------------------------------------------------------------------ */

/* The echo of lesson 09: it stops reading while its output is over
   OUTPUT_HIGH and reads again when the write callback says the output is
   down to OUTPUT_LOW. The peer reads nothing until the first stop. */
enum { ECHO_BYTES = 1 << 20, OUTPUT_HIGH = 64 * 1024, OUTPUT_LOW = 16 * 1024 };

static struct bufferevent *echo;
static struct event *sender, *receiver;
static size_t echo_sent, echo_received, most_output, largest_read;
static int stops, resumes;
static bool paused;

static unsigned char stream_byte(size_t i)
{
    return (unsigned char)(i * 7 + i / 251);
}

static void on_echo_read(struct bufferevent *bev, void *arg)
{
    (void)arg;
    if (input_length(bev) > largest_read) /* what one read took: the input is emptied every time */
        largest_read = input_length(bev);
    ck_assert_int_eq(bufferevent_write_buffer(bev, bufferevent_get_input(bev)), 0);
    ck_assert_uint_eq(input_length(bev), 0); /* moved, not copied */
    if (output_length(bev) > most_output)
        most_output = output_length(bev);
    if (output_length(bev) > OUTPUT_HIGH) {
        ck_assert_int_eq(bufferevent_disable(bev, EV_READ), 0);
        paused = true;
        if (stops++ == 0)
            ck_assert_int_eq(event_add(receiver, NULL), 0);
    }
}

static void on_echo_write(struct bufferevent *bev, void *arg)
{
    (void)arg;
    ck_assert_uint_le(output_length(bev), OUTPUT_LOW);
    if (paused) {
        ck_assert_int_eq(bufferevent_enable(bev, EV_READ), 0);
        paused = false;
        resumes++;
    }
}

static void on_sender(evutil_socket_t fd, short what, void *arg)
{
    unsigned char chunk[16384];
    (void)what;
    (void)arg;
    size_t n = ECHO_BYTES - echo_sent < sizeof chunk ? ECHO_BYTES - echo_sent : sizeof chunk;
    for (size_t i = 0; i < n; i++)
        chunk[i] = stream_byte(echo_sent + i);
    ssize_t written = write(fd, chunk, n);
    ck_assert(written > 0 || errno == EAGAIN);
    if (written > 0)
        echo_sent += (size_t)written;
    if (echo_sent == ECHO_BYTES)
        ck_assert_int_eq(event_del(sender), 0);
}

static void on_receiver(evutil_socket_t fd, short what, void *arg)
{
    unsigned char chunk[16384];
    (void)what;
    (void)arg;
    ssize_t n = read(fd, chunk, sizeof chunk);
    ck_assert(n > 0 || errno == EAGAIN);
    /* Compared without an assertion per byte: each one costs Check a
       message to the runner. */
    for (ssize_t i = 0; i < n; i++, echo_received++)
        if (chunk[i] != stream_byte(echo_received))
            ck_abort_msg("byte %zu came back wrong", echo_received);
    if (echo_received == ECHO_BYTES) {
        ck_assert_int_eq(event_del(receiver), 0);
        ck_assert_int_eq(bufferevent_disable(echo, EV_READ), 0);
    }
}

/* Every byte comes back in order; bufferevent_write_buffer() moves what
   was read to the output, leaving the input empty; the echo stops reading
   at least once and reads again after each stop; its output never holds
   more than the high mark plus one read. One read took 4096 bytes at most (not the 16384 that
   bufferevent_get_max_single_read() answers: see
   one_read_takes_at_most_4096_bytes), and the first one took exactly that,
   since the sender's first write is 16384 bytes. */
START_TEST(backpressure_bounds_the_output_and_echoes_everything)
{
    struct event_base *base = new_base();
    struct pair p;
    pair_open(&p, base, 0);
    const int buffer = 64 * 1024;
    ck_assert_int_eq(setsockopt(p.fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer), 0);
    ck_assert_int_eq(setsockopt(p.peer, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer), 0);
    echo = p.bev;
    bufferevent_setcb(echo, on_echo_read, on_echo_write, on_event_record, NULL);
    bufferevent_setwatermark(echo, EV_WRITE, OUTPUT_LOW, 0);
    ck_assert_int_eq(bufferevent_enable(echo, EV_READ), 0);
    sender = event_new(base, p.peer, EV_WRITE | EV_PERSIST, on_sender, NULL);
    receiver = event_new(base, p.peer, EV_READ | EV_PERSIST, on_receiver, NULL);
    ck_assert_ptr_nonnull(sender);
    ck_assert_ptr_nonnull(receiver);
    ck_assert_int_eq(event_add(sender, NULL), 0);
    ck_assert_int_eq(event_base_dispatch(base), 1);

    ck_assert_uint_eq(echo_received, ECHO_BYTES);
    ck_assert_int_ge(stops, 1);
    ck_assert_int_eq(resumes, stops);
    ck_assert_uint_eq(largest_read, 4096);
    ck_assert_msg(most_output > OUTPUT_HIGH && most_output <= OUTPUT_HIGH + largest_read,
                  "the output held %zu bytes", most_output);
    ck_assert_str_eq(order, ""); /* no EOF, no error */
    event_free(sender);
    event_free(receiver);
    pair_close(&p);
    event_base_free(base);
}
END_TEST

Suite *bufferevents_suite(void)
{
    Suite *s = suite_create("bufferevents");
    struct {
        const char *name;
        const TTest *tests[14];
    } cases[] = {
        { "bev-basics",
          { bufferevent_new_without_event_init_crashes, reading_is_not_enabled_by_default,
            bufferevent_base_set_moves_it_to_another_base,
            input_is_first_in_first_out_and_read_once, output_is_sent_first_in_first_out,
            disabled_reading_leaves_data_in_the_socket, eof_reports_reading_eof_and_stops_reading,
            write_after_peer_closed_reports_writing_error,
            close_on_free_closes_the_socket_when_the_loop_runs,
            free_right_after_write_drops_the_unsent_output,
            bufferevent_new_never_closes_the_socket, threadsafe_without_threading_fails,
            unlock_callbacks_requires_defer_callbacks } },
        /* Lesson 08 */
        { "bev-connection",
          { connection_life_runs_connected_write_read_eof,
            connect_by_hand_reports_no_connected_event,
            connect_with_no_address_reports_connected_for_a_socket_connected_by_hand } },
        { "bev-deferred",
          { immediate_read_callback_runs_inside_the_read_event,
            deferred_callback_queues_behind_active_events_ahead_of_later_ones,
            event_active_from_a_read_callback_lands_where_a_deferred_callback_does,
            deferred_callback_runs_before_lower_priority_events,
            deferred_callbacks_past_33_in_one_pass_wait_for_the_next } },
        /* Lesson 09 */
        { "bev-read-size",
          { one_read_takes_at_most_4096_bytes,
            max_single_read_lowers_the_read_size_but_cannot_raise_it } },
        { "bev-watermarks",
          { read_low_watermark_delays_the_read_callback, read_high_watermark_caps_each_read,
            read_callback_repeats_until_the_input_drains_below_high,
            write_low_watermark_calls_back_before_the_output_is_empty } },
        { "bev-timeouts",
          { settimeout_takes_whole_seconds, read_timeout_reports_reading_timeout_and_stops_reading,
            read_timeout_counts_only_while_reading_is_enabled,
            read_timeout_restarts_when_data_arrives } },
        { "bev-backpressure", { backpressure_bounds_the_output_and_echoes_everything } },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_set_timeout(tc, 20);
        for (size_t j = 0; j < 14 && cases[i].tests[j] != NULL; j++)
            tcase_add_test(tc, cases[i].tests[j]);
        suite_add_tcase(s, tc);
    }
    return s;
}

/*
 * bench.c - the bench suite: lesson 21 (what a message costs a server, in
 * loop iterations and callbacks; where the 44 ms came from) and `make
 * bench` itself.
 *
 * No test here times anything. The costs are counts (iterations,
 * callbacks, bytes per read), made deterministic by letting a whole
 * message arrive before the loop looks (SO_RCVLOWAT and poll(), no
 * sleep). Nagle's algorithm is seen in the kernel's own counts (TCP_INFO:
 * bytes not yet sent, bytes acknowledged), read from one process holding
 * both ends of a loopback connection. A peer's delayed ACK comes 40 ms or
 * more after the data; the one wait that could race with it is checked
 * after the fact (nothing was acknowledged meanwhile) and tried again if
 * it did, at most ATTEMPTS times. `make bench QUICK=1` is run for its
 * rows, never its figures.
 */
#define _GNU_SOURCE
#include "tcp_pair.h"
#include "network_proc.h"
#include "suites.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { MESSAGE = 16384, ATTEMPTS = 20, MAX_WRITES = 16 };

/* --- A bufferevent echo on one end of a loopback pair -------------------- */

struct echo {
    struct event_base *base;
    struct bufferevent *bev;
    int peer, fd;
    size_t taken, echoed;          /* read by the bufferevent; written back */
    int reads, writes, iterations; /* callbacks and loop iterations */
    size_t read_sizes[MAX_WRITES];
    unsigned unsent[MAX_WRITES];   /* TCP_INFO's count at each write callback */
};

static void echo_read(struct bufferevent *bev, void *arg)
{
    struct echo *e = arg;
    struct evbuffer *input = bufferevent_get_input(bev);
    if (e->reads < MAX_WRITES)
        e->read_sizes[e->reads] = evbuffer_get_length(input);
    e->reads++;
    e->taken += evbuffer_get_length(input);
    ck_assert_int_eq(bufferevent_write_buffer(bev, input), 0);
}

static void echo_write(struct bufferevent *bev, void *arg)
{
    (void)bev;
    struct echo *e = arg;
    struct loopback_sender state;
    loopback_sender_state(e->fd, &state);
    if (e->writes < MAX_WRITES)
        e->unsent[e->writes] = state.unsent;
    e->writes++;
    e->echoed = e->taken; /* the output is empty */
}

static void echo_open(struct echo *e, bool nodelay)
{
    memset(e, 0, sizeof *e);
    loopback_pair(&e->peer, &e->fd);
    loopback_set_nodelay(e->fd, nodelay);
    e->base = event_base_new();
    ck_assert_ptr_nonnull(e->base);
    e->bev = bufferevent_socket_new(e->base, e->fd, BEV_OPT_CLOSE_ON_FREE);
    ck_assert_ptr_nonnull(e->bev);
    bufferevent_setcb(e->bev, echo_read, echo_write, NULL, e);
    ck_assert_int_eq(bufferevent_enable(e->bev, EV_READ), 0);
}

/* The peer sends `bytes`; once they are all in the server's socket, the
   loop runs an iteration at a time until the echo is written. The peer
   does not read it. */
static void echo_run(struct echo *e, int bytes)
{
    e->taken = e->echoed = 0;
    e->reads = e->writes = e->iterations = 0;
    loopback_send(e->peer, bytes);
    loopback_wait_for(e->fd, bytes);
    while (e->echoed < (size_t)bytes) {
        ck_assert_int_ge(event_base_loop(e->base, EVLOOP_ONCE), 0);
        ck_assert_int_lt(++e->iterations, 50);
    }
}

static void echo_close(struct echo *e)
{
    bufferevent_free(e->bev);
    event_base_free(e->base);
    close(e->peer);
}

/* A 64-byte exchange, echoed and read back: the peer has now sent data,
   and from here on it delays its ACKs (a fresh connection ACKs at once). */
static void warm_up(struct echo *e)
{
    echo_run(e, 64);
    loopback_receive(e->peer, 64);
}

/* --- What one message costs -------------------------------------------- */

START_TEST(bufferevent_reads_at_most_4096_bytes_at_a_time)
{
    struct echo e;
    echo_open(&e, true);
    echo_run(&e, MESSAGE);
    ck_assert_int_eq(e.reads, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(e.read_sizes[i], 4096);
    loopback_receive(e.peer, MESSAGE);
    echo_close(&e);
}
END_TEST

/* bufferevent.h: "Set the size limit for single read operation"; 2.1.12's
   evbuffer_read() caps every read at 4096 whatever the limit. */
START_TEST(max_single_read_does_not_lift_the_4096_cap)
{
    struct echo e;
    echo_open(&e, true);
    ck_assert_int_eq(bufferevent_set_max_single_read(e.bev, 65536), 0);
    ck_assert_int_eq(bufferevent_get_max_single_read(e.bev), 65536);
    echo_run(&e, MESSAGE);
    ck_assert_int_eq(e.reads, 4);
    ck_assert_uint_eq(e.read_sizes[0], 4096);
    loopback_receive(e.peer, MESSAGE);
    echo_close(&e);
}
END_TEST

START_TEST(bufferevent_echo_takes_two_iterations_for_64_bytes_and_five_for_16_kib)
{
    struct echo e;
    echo_open(&e, true);
    echo_run(&e, 64);
    ck_assert_int_eq(e.iterations, 2);
    ck_assert_int_eq(e.reads, 1);
    ck_assert_int_eq(e.writes, 1);
    loopback_receive(e.peer, 64);
    echo_run(&e, MESSAGE);
    ck_assert_int_eq(e.iterations, 5);
    ck_assert_int_eq(e.reads, 4);
    ck_assert_int_eq(e.writes, 4);
    loopback_receive(e.peer, MESSAGE);
    echo_close(&e);
}
END_TEST

static int raw_calls;
static void raw_echo(evutil_socket_t fd, short what, void *arg)
{
    (void)what, (void)arg;
    static char buffer[64 * 1024];
    ssize_t n = read(fd, buffer, sizeof buffer);
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(write(fd, buffer, (size_t)n), n);
    raw_calls++;
}

START_TEST(raw_event_echoes_16_kib_in_one_iteration)
{
    int peer, fd;
    loopback_pair(&peer, &fd);
    struct event_base *base = event_base_new();
    struct event *raw = event_new(base, fd, EV_READ | EV_PERSIST, raw_echo, NULL);
    ck_assert_int_eq(event_add(raw, NULL), 0);
    for (int size = 64; size <= MESSAGE; size = MESSAGE) {
        raw_calls = 0;
        loopback_send(peer, size);
        loopback_wait_for(fd, size);
        ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 0);
        ck_assert_int_eq(raw_calls, 1);
        ck_assert_int_eq(loopback_unread(fd), 0);
        loopback_receive(peer, size);
        if (size == MESSAGE)
            break;
    }
    event_free(raw);
    event_base_free(base);
    close(fd);
    close(peer);
}
END_TEST

/* 2.1.12's epoll.c asks the kernel for 32 events at first and doubles
   that each time an iteration fills them (up to 4096). */
static int ready_calls;
static void count_ready(evutil_socket_t fd, short what, void *arg)
{
    (void)what, (void)arg;
    uint64_t value;
    ck_assert_int_eq(read(fd, &value, sizeof value), sizeof value);
    ready_calls++;
}

START_TEST(epoll_iteration_runs_at_most_32_ready_events_at_first)
{
    enum { N = 100 };
    int fds[N];
    struct event *events[N];
    struct event_base *base = event_base_new();
    ck_assert_str_eq(event_base_get_method(base), "epoll");
    const uint64_t one = 1;
    for (int i = 0; i < N; i++) {
        fds[i] = eventfd(0, EFD_NONBLOCK);
        ck_assert_int_ge(fds[i], 0);
        events[i] = event_new(base, fds[i], EV_READ | EV_PERSIST, count_ready, NULL);
        ck_assert_int_eq(event_add(events[i], NULL), 0);
        ck_assert_int_eq(write(fds[i], &one, sizeof one), sizeof one);
    }
    int expected[] = { 32, 64, 4 };
    for (int k = 0; k < 3; k++) {
        ready_calls = 0;
        ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 0);
        ck_assert_int_eq(ready_calls, expected[k]);
    }
    for (int i = 0; i < N; i++) {
        event_free(events[i]);
        close(fds[i]);
    }
    event_base_free(base);
}
END_TEST

/* --- Where the 44 ms came from ------------------------------------------- */

/* One 16 KiB echo after a warm-up, with or without TCP_NODELAY; false if
   the peer acknowledged anything of the echo before we looked. */
static bool nagle_echo(bool nodelay, struct echo *e, int *peer_has)
{
    echo_open(e, nodelay);
    warm_up(e);
    struct loopback_sender before, after;
    loopback_send(e->peer, MESSAGE);
    loopback_wait_for(e->fd, MESSAGE);
    loopback_sender_state(e->fd, &before);
    e->taken = e->echoed = 0;
    e->reads = e->writes = e->iterations = 0;
    while (e->echoed < MESSAGE)
        ck_assert_int_ge(event_base_loop(e->base, EVLOOP_ONCE), 0);
    loopback_wait_for(e->peer, nodelay ? MESSAGE : 4096);
    *peer_has = loopback_unread(e->peer);
    loopback_sender_state(e->fd, &after);
    bool clean = nodelay || after.acked == before.acked;
    loopback_receive(e->peer, MESSAGE);
    echo_close(e);
    return clean;
}

START_TEST(nagle_holds_each_write_while_the_first_is_unacknowledged)
{
    struct echo e;
    int peer_has, attempt = 0;
    while (!nagle_echo(false, &e, &peer_has))
        ck_assert_int_lt(++attempt, ATTEMPTS);
    ck_assert_int_eq(e.writes, 4);
    unsigned expected[] = { 0, 4096, 8192, 12288 };
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(e.unsent[i], expected[i]);
    ck_assert_int_eq(peer_has, 4096);
}
END_TEST

START_TEST(nodelay_sends_every_write_at_once)
{
    struct echo e;
    int peer_has;
    ck_assert(nagle_echo(true, &e, &peer_has));
    ck_assert_int_eq(e.writes, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(e.unsent[i], 0);
    ck_assert_int_eq(peer_has, MESSAGE);
}
END_TEST

/* Without the warm-up: a connection's first segments are acknowledged at
   once (quick ACKs), so Nagle's algorithm holds nothing for long, and the
   first messages on a connection do not show the 44 ms. */
START_TEST(fresh_connection_acks_at_once_so_nothing_waits)
{
    struct echo e;
    echo_open(&e, false);
    echo_run(&e, MESSAGE);
    ck_assert_int_eq(e.writes, 4);
    for (int i = 0; i < 4; i++) /* each write had left when the next came */
        ck_assert_uint_eq(e.unsent[i], 0);
    loopback_receive(e.peer, MESSAGE);
    echo_close(&e);
}
END_TEST

/* A request-reply server writes once per request: the request carried the
   ACK of the reply before, so nothing is unacknowledged and the small
   write goes at once, Nagle or not (lesson 11's server). */
START_TEST(small_write_goes_at_once_when_nothing_is_unacknowledged)
{
    int peer, fd;
    loopback_pair(&peer, &fd);
    loopback_set_nodelay(fd, false);
    char reply[13] = "hello...ack.\n";
    for (int i = 0; i < 3; i++) {
        loopback_send(peer, 64); /* the request: it acknowledges any earlier reply */
        loopback_wait_for(fd, 64);
        char request[64];
        ck_assert_int_eq(read(fd, request, sizeof request), 64);
        ck_assert_int_eq(write(fd, reply, sizeof reply), sizeof reply);
        struct loopback_sender state;
        loopback_sender_state(fd, &state);
        ck_assert_uint_eq(state.unsent, 0);
        loopback_receive(peer, sizeof reply);
    }
    close(fd);
    close(peer);
}
END_TEST

/* --- The course's servers set TCP_NODELAY -------------------------------- */

/* The server's own socket for the connection whose far end is `client`:
   taken from the server process with pidfd_getfd() (Linux 5.6), which a
   parent may do to its child. -1 if none matches. */
static int server_socket_for(pid_t pid, int client)
{
    struct sockaddr_in mine, theirs;
    socklen_t length = sizeof mine;
    ck_assert_int_eq(getsockname(client, (struct sockaddr *)&mine, &length), 0);
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    ck_assert_msg(pidfd >= 0, "pidfd_open: %s", strerror(errno));
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *dir = opendir(path);
    ck_assert_ptr_nonnull(dir);
    int found = -1;
    struct dirent *entry;
    while (found < 0 && (entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.')
            continue;
        int fd = (int)syscall(SYS_pidfd_getfd, pidfd, atoi(entry->d_name), 0);
        length = sizeof theirs;
        if (fd >= 0 && getpeername(fd, (struct sockaddr *)&theirs, &length) == 0 &&
            theirs.sin_port == mine.sin_port && theirs.sin_addr.s_addr == mine.sin_addr.s_addr)
            found = fd;
        else if (fd >= 0)
            close(fd);
    }
    closedir(dir);
    close(pidfd);
    return found;
}

static void assert_server_sets_nodelay(const char *program, const char *const extra[])
{
    struct netproc server;
    netproc_start(&server, program, extra);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)server.s.port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int client = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(connect(client, (struct sockaddr *)&to, sizeof to), 0);
    /* One echo: by then the server has accepted and set up the socket. */
    ck_assert_int_eq(write(client, "ping\n", 5), 5);
    char back[5];
    ck_assert_int_eq(recv(client, back, sizeof back, MSG_WAITALL), 5);
    int fd = server_socket_for(server.s.pid, client);
    ck_assert_msg(fd >= 0, "%s: no socket of the server is connected to the client", program);
    int nodelay = 0;
    socklen_t length = sizeof nodelay;
    ck_assert_int_eq(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &length), 0);
    ck_assert_msg(nodelay != 0, "%s leaves Nagle's algorithm on for its clients", program);
    close(fd);
    close(client);
    ck_assert_int_eq(netproc_stop(&server, SIGTERM, 10000), 0);
    netproc_release(&server);
}

static bool have_solutions(void)
{
    return access("exercises/04-echo-server/solution/event2-server.c", F_OK) == 0;
}

static char *program_path(const char *format, const char *dir)
{
    char *path;
    ck_assert_int_ge(asprintf(&path, format, dir), 0);
    return path;
}

START_TEST(course_echo_servers_set_tcp_nodelay)
{
    const char *lessons[] = { "%s/10-event1-server", "%s/10-event2-server" };
    for (size_t i = 0; i < 2; i++) {
        char *path = program_path(lessons[i], bin_dir());
        assert_server_sets_nodelay(path, NULL);
        free(path);
    }
    /* The solutions of exercises 04 and 06, as make memcheck builds them
       (a release for students has no solutions: nothing to check there). */
    const char *solutions[] = { "memcheck/exercises/04-echo-server/event2-server",
                                "memcheck/exercises/06-idle-timeouts/event2-server" };
    for (size_t i = 0; i < 2 && have_solutions(); i++) {
        char *target = program_path("%s/", build_dir()), *path;
        ck_assert_int_ge(asprintf(&path, "%s%s", target, solutions[i]), 0);
        /* make, always: a solution edited since its last build is rebuilt. */
        char *build = program_path("BUILD=%s", build_dir());
        const char *make[] = { "make", "--no-print-directory", "-s", build, path, NULL };
        struct run_result r;
        run_program(make, NULL, 120000, &r);
        ck_assert_msg(r.status == 0, "make %s failed:\n%s%s", path, r.out, r.err);
        run_result_free(&r);
        free(build);
        const char *idle[] = { "--idle-ms", "60000", NULL };
        assert_server_sets_nodelay(path, i == 1 ? idle : NULL);
        free(path);
        free(target);
    }
}
END_TEST

/* --- make bench QUICK=1 ----------------------------------------------------- */

/* The end of a long output: Check's messages are limited in length. */
static const char *tail(const char *text)
{
    size_t n = strlen(text);
    return n > 3000 ? text + n - 3000 : text;
}

static int count_of(const char *text, const char *word)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, word)) != NULL; p += strlen(word))
        n++;
    return n;
}

START_TEST(quick_bench_runs_and_prints_every_row)
{
    char *build;
    ck_assert_int_ge(asprintf(&build, "BUILD=%s", build_dir()), 0);
    /* Built as this suite was: a sanitized suite, a sanitized bench. */
    const char *argv[] = { "make", "--no-print-directory", "-s", build, "bench", "QUICK=1",
#if defined(__SANITIZE_ADDRESS__)
                           "SANITIZE=1",
#endif
                           NULL };
    struct run_result r;
    run_program(argv, NULL, 240000, &r);
    ck_assert_msg(!r.timed_out, "make bench QUICK=1 did not finish");
    ck_assert_msg(r.status == 0, "make bench QUICK=1 failed (status %d):\n%s%s", r.status,
                  tail(r.out), tail(r.err));
    const char *once[] = { "make bench: libevent 2.1.12", "Backends: one loop iteration",
                           "event1 against event2", "loop iteration, 1 of 100 ready",
                           "event_set/event_assign + add + del",
                           "event_new + add + del + event_free", "Timers: 100,000",
                           "add (60 s)", "add again while pending (rearm)", "run when due",
                           "Echo, 64 B, 1 connection", "Echo, 64 B, 100 connections",
                           "Echo, 16 KiB, 1 connection", "Echo, 16 KiB, 100 connections",
                           "done in" };
    for (size_t i = 0; i < sizeof once / sizeof once[0]; i++)
        ck_assert_msg(count_of(r.out, once[i]) == 1, "\"%s\" is not printed once:\n%s", once[i],
                      tail(r.out));
    const char *methods[] = { "epoll", "poll", "select" };
    for (size_t i = 0; i < 3; i++)
        for (int active = 1; active <= 100; active += 99) {
            char line[64];
            snprintf(line, sizeof line, "\n  %-7s %4d  ", methods[i], active);
            ck_assert_msg(count_of(r.out, line) == 1, "no row for %s, %d active:\n%s", methods[i],
                          active, tail(r.out));
        }
    const char *servers[] = { "epoll ET (bench)", "bufferevent (bench)",
                              "bufferevent, Nagle (bench)", "lesson 10 event1",
                              "lesson 10 event2", "lesson 11 event1 (lines)",
                              "lesson 11 event2 (lines)", "exercise 04", "exercise 05 (lines)",
                              "exercise 06" };
    size_t nservers = sizeof servers / sizeof servers[0] - (have_solutions() ? 0 : 3);
    for (size_t i = 0; i < nservers; i++)
        ck_assert_msg(count_of(r.out, servers[i]) == 4, "\"%s\" is not in each echo table:\n%s",
                      servers[i], tail(r.out));
    ck_assert_msg((strstr(r.out, "not built") == NULL || !have_solutions()) &&
                      strstr(r.out, "FAILED") == NULL,
                  "a row has no figures:\n%s", tail(r.out));
    size_t width = 0;
    for (const char *line = r.out; *line != '\0';) {
        size_t n = strcspn(line, "\n");
        width = n > width ? n : width;
        line += n + (line[n] == '\n');
    }
    ck_assert_msg(width <= 80, "a line of %zu columns:\n%s", width, tail(r.out));
    const char *csvs[] = { "backends.csv", "styles.csv", "timers.csv", "echo.csv" };
    int rows[] = { 1 + 18, 1 + 3, 1 + 3, have_solutions() ? 1 + 34 : 1 + 24 };
    for (size_t i = 0; i < 4; i++) {
        char *path, *text;
        ck_assert_int_ge(asprintf(&path, "%s/bench/%s", build_dir(), csvs[i]), 0);
        ck_assert_msg((text = read_file(path)) != NULL, "no %s", path);
        ck_assert_msg(count_of(text, "\n") == rows[i], "%s: %d lines, not %d:\n%s", path,
                      count_of(text, "\n"), rows[i], tail(text));
        free(text);
        free(path);
    }
    run_result_free(&r);
    free(build);
}
END_TEST

Suite *bench_suite(void)
{
    Suite *s = suite_create("bench");
    TCase *cost = tcase_create("cost");
    tcase_set_timeout(cost, 30);
    tcase_add_test(cost, bufferevent_reads_at_most_4096_bytes_at_a_time);
    tcase_add_test(cost, max_single_read_does_not_lift_the_4096_cap);
    tcase_add_test(cost, bufferevent_echo_takes_two_iterations_for_64_bytes_and_five_for_16_kib);
    tcase_add_test(cost, raw_event_echoes_16_kib_in_one_iteration);
    tcase_add_test(cost, epoll_iteration_runs_at_most_32_ready_events_at_first);
    suite_add_tcase(s, cost);

    TCase *nagle = tcase_create("nagle");
    tcase_set_timeout(nagle, 60);
    tcase_add_test(nagle, nagle_holds_each_write_while_the_first_is_unacknowledged);
    tcase_add_test(nagle, nodelay_sends_every_write_at_once);
    tcase_add_test(nagle, fresh_connection_acks_at_once_so_nothing_waits);
    tcase_add_test(nagle, small_write_goes_at_once_when_nothing_is_unacknowledged);
    tcase_add_test(nagle, course_echo_servers_set_tcp_nodelay);
    suite_add_tcase(s, nagle);

    TCase *bench = tcase_create("make_bench");
    tcase_set_timeout(bench, 300);
    tcase_add_test(bench, quick_bench_runs_and_prints_every_row);
    suite_add_tcase(s, bench);
    return s;
}

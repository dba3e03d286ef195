/*
 * edge.c - the edge suite: level- and edge-triggered reads, EV_CLOSED, and
 * what each backend makes of them (lesson 14, exercise 07), against the
 * real libevent (2.1.12 on Debian 12) and the real kernel (Linux; the
 * default backend is epoll). Lessons cite these tests as `edge/<name>`.
 *
 * Most tests run one script on four kinds of descriptor: a pipe, a FIFO,
 * an AF_UNIX socketpair and a TCP connection on loopback, and expect the
 * same counts from each. The loop runs one pass at a time
 * (EVLOOP_ONCE|EVLOOP_NONBLOCK) and the tests count callbacks per pass, so
 * no outcome depends on time. What a pass sees is in the kernel before it
 * runs: a pipe or an AF_UNIX socket has a write's bytes queued before
 * write() returns; for TCP the test waits (poll(), bounded) until the
 * bytes, or the hang-up, have arrived.
 */
#define _GNU_SOURCE /* asprintf, POLLRDHUP */
#include "suites.h"
#include "util.h"

#include <event2/event.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

enum { ARRIVAL_MS = 5000 }; /* how long TCP bytes may take to arrive */

/* --- Descriptors ---------------------------------------------------------- */

enum kind { PIPE, FIFO, SOCKETPAIR, TCP, NKINDS };
static const char *const kind_names[NKINDS] = { "pipe", "fifo", "socketpair", "tcp" };

/* r reads what w writes; r is non-blocking, as reading until EAGAIN
   needs. */
struct channel {
    enum kind kind;
    int r, w;
    char *dir; /* a FIFO's directory */
};

static void channel_open(struct channel *c, enum kind kind)
{
    int fds[2];
    c->kind = kind;
    c->dir = NULL;
    if (kind == PIPE) {
        ck_assert_int_eq(pipe(fds), 0);
        c->r = fds[0];
        c->w = fds[1];
    } else if (kind == FIFO) {
        char *path;
        c->dir = make_temp_dir();
        if (asprintf(&path, "%s/fifo", c->dir) < 0)
            abort();
        ck_assert_int_eq(mkfifo(path, 0600), 0);
        c->r = open(path, O_RDONLY | O_NONBLOCK); /* does not wait for a writer */
        c->w = open(path, O_WRONLY);
        ck_assert(c->r >= 0 && c->w >= 0);
        ck_assert_int_eq(unlink(path), 0);
        free(path);
    } else if (kind == SOCKETPAIR) {
        ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
        c->r = fds[0];
        c->w = fds[1];
    } else {
        struct sockaddr_in address;
        int listener = listen_on_loopback(&address);
        c->w = socket(AF_INET, SOCK_STREAM, 0);
        ck_assert_int_ge(c->w, 0);
        ck_assert_int_eq(connect(c->w, (struct sockaddr *)&address, sizeof address), 0);
        c->r = accept(listener, NULL, NULL);
        ck_assert_int_ge(c->r, 0);
        close(listener);
    }
    ck_assert_int_eq(fcntl(c->r, F_SETFL, fcntl(c->r, F_GETFL) | O_NONBLOCK), 0);
}

static void channel_close(struct channel *c)
{
    close(c->r);
    if (c->w >= 0)
        close(c->w);
    if (c->dir != NULL) {
        ck_assert_int_eq(rmdir(c->dir), 0);
        free(c->dir);
    }
}

/* Bytes waiting to be read on fd, as the kernel counts them. */
static int unread(int fd)
{
    int n;
    ck_assert_int_eq(ioctl(fd, FIONREAD, &n), 0);
    return n;
}

/* Wait (bounded) until the reading end shows `events` (TCP only: the
   others have what was written before write() returns). */
static void await(struct channel *c, short events, int bytes)
{
    long long deadline = now_ms() + ARRIVAL_MS;
    while (c->kind == TCP) {
        struct pollfd p = { .fd = c->r, .events = events };
        ck_assert_int_ge(poll(&p, 1, 10), 0);
        if ((p.revents & events) && (events != POLLIN || unread(c->r) >= bytes))
            return;
        ck_assert_msg(now_ms() < deadline, "tcp: nothing arrived within %d ms", ARRIVAL_MS);
    }
}

/* Write text; return once the reading end has it. */
static void send_text(struct channel *c, const char *text)
{
    int before = unread(c->r);
    ck_assert_int_eq(write(c->w, text, strlen(text)), (ssize_t)strlen(text));
    await(c, POLLIN, before + (int)strlen(text));
}

/* The writer hangs up: shutdown(SHUT_WR) on a socket, close() of a pipe's
   or a FIFO's writing end; return once the reading end sees it. */
static void hang_up(struct channel *c)
{
    if (c->kind == SOCKETPAIR || c->kind == TCP) {
        ck_assert_int_eq(shutdown(c->w, SHUT_WR), 0);
    } else {
        ck_assert_int_eq(close(c->w), 0);
        c->w = -1;
    }
    await(c, POLLRDHUP, 0);
}

/* --- Bases and readers ------------------------------------------------------ */

/* A base on backend method (NULL: libevent's choice) with flags. */
static struct event_base *new_base(const char *method, int flags)
{
    struct event_config *cfg = event_config_new();
    ck_assert_ptr_nonnull(cfg);
    if (method != NULL) {
        const char **methods = event_get_supported_methods(); /* libevent's; not freed */
        for (size_t i = 0; methods[i] != NULL; i++)
            if (strcmp(methods[i], method) != 0)
                ck_assert_int_eq(event_config_avoid_method(cfg, methods[i]), 0);
    }
    if (flags != 0)
        ck_assert_int_eq(event_config_set_flag(cfg, flags), 0);
    struct event_base *base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    ck_assert_ptr_nonnull(base);
    /* "epoll (with changelist)" with EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST */
    const char *want = method != NULL ? method : "epoll";
    ck_assert_msg(strncmp(event_base_get_method(base), want, strlen(want)) == 0, "method %s",
                  event_base_get_method(base));
    return base;
}

/* How a reader reads in each call: one byte; one read() of up to 4 KB;
   until EAGAIN or end of file; not at all. */
enum how { ONE_BYTE, ONE_READ, DRAIN, NO_READ };

struct reader {
    struct event *ev;
    enum how how;
    int calls;        /* callbacks so far */
    short what;       /* the last callback's what */
    size_t bytes;     /* read so far */
    char last;        /* the last byte read */
    int eofs;         /* reads that returned 0 */
    int delete_at;    /* event_del() in this call (0: never) */
    bool readd;       /* event_add() again in every call */
};

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    struct reader *r = arg;
    r->calls++;
    r->what = what;
    while (r->how != NO_READ) {
        char buf[4096];
        ssize_t n = read(fd, buf, r->how == ONE_BYTE ? 1 : sizeof buf);
        if (n > 0) {
            r->bytes += (size_t)n;
            r->last = buf[n - 1];
        } else if (n == 0) {
            r->eofs++;
        } else {
            ck_assert_msg(errno == EAGAIN, "read: %s", strerror(errno));
        }
        if (n <= 0 || r->how != DRAIN)
            break;
    }
    if (r->calls == r->delete_at)
        ck_assert_int_eq(event_del(r->ev), 0);
    if (r->readd)
        ck_assert_int_eq(event_add(r->ev, NULL), 0);
}

static void reader_add(struct reader *r, struct event_base *base, int fd, short events,
                       enum how how)
{
    memset(r, 0, sizeof *r);
    r->how = how;
    r->ev = event_new(base, fd, events, on_read, r);
    ck_assert_ptr_nonnull(r->ev);
    ck_assert_int_eq(event_add(r->ev, NULL), 0);
}

/* One pass of the loop; how many callbacks of r it ran. */
static int pass(struct event_base *base, struct reader *r)
{
    int before = r->calls;
    ck_assert_int_ge(event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK), 0);
    return r->calls - before;
}

/* n passes; the callbacks of r they ran. */
static int passes(struct event_base *base, struct reader *r, int n)
{
    int calls = 0;
    for (int i = 0; i < n; i++)
        calls += pass(base, r);
    return calls;
}

/* A reader of `events` on a new channel of this kind, on the default base. */
struct setup {
    struct channel c;
    struct event_base *base;
    struct reader r;
};

static void setup(struct setup *s, enum kind kind, const char *method, short events, enum how how)
{
    channel_open(&s->c, kind);
    s->base = new_base(method, 0);
    reader_add(&s->r, s->base, s->c.r, events, how);
}

static void teardown(struct setup *s)
{
    event_free(s->r.ev);
    event_base_free(s->base);
    channel_close(&s->c);
}

static char logged[256]; /* libevent's last log message */

static void keep_log(int severity, const char *message)
{
    (void)severity;
    snprintf(logged, sizeof logged, "%s", message);
}

#define FOR_EACH_KIND(k) for (enum kind k = PIPE; k < NKINDS; k++)

static const short LEVEL = EV_READ | EV_PERSIST;
static const short EDGE = EV_READ | EV_PERSIST | EV_ET;

/* --- Level-triggered --------------------------------------------------------- */

/* Lesson 14, round 1: 10 bytes, one read per call: one callback on each
   pass while a byte is left, then none. */
START_TEST(level_one_byte_reader_runs_once_a_pass_until_drained)
{
    FOR_EACH_KIND(k)
    {
        struct setup s;
        setup(&s, k, NULL, LEVEL, ONE_BYTE);
        send_text(&s.c, "0123456789");
        for (int i = 1; i <= 10; i++)
            ck_assert_msg(pass(s.base, &s.r) == 1, "%s: pass %d ran no callback", kind_names[k], i);
        ck_assert_msg(pass(s.base, &s.r) == 0, "%s: a callback with nothing left", kind_names[k]);
        ck_assert_int_eq(s.r.bytes, 10);
        ck_assert_int_eq(s.r.what, EV_READ);
        teardown(&s);
    }
}
END_TEST

/* At end of file the descriptor stays readable: a level-triggered reader
   that does not delete its event is called on every pass. */
START_TEST(level_reader_at_eof_runs_every_pass_until_deleted)
{
    FOR_EACH_KIND(k)
    {
        struct setup s;
        setup(&s, k, NULL, LEVEL, ONE_BYTE);
        s.r.delete_at = 5;
        hang_up(&s.c);
        ck_assert_msg(passes(s.base, &s.r, 8) == 5, "%s: %d calls", kind_names[k], s.r.calls);
        ck_assert_int_eq(s.r.eofs, 5);
        teardown(&s);
    }
}
END_TEST

/* Lesson 14, round 2: one callback per arrival, the hang-up included. */
START_TEST(level_draining_reader_runs_once_per_arrival)
{
    FOR_EACH_KIND(k)
    {
        struct setup s;
        setup(&s, k, NULL, LEVEL, DRAIN);
        send_text(&s.c, "0123456789");
        ck_assert_int_eq(passes(s.base, &s.r, 3), 1);
        ck_assert_int_eq(s.r.bytes, 10);
        send_text(&s.c, "abc");
        ck_assert_int_eq(passes(s.base, &s.r, 3), 1);
        s.r.delete_at = 3;
        hang_up(&s.c);
        ck_assert_msg(passes(s.base, &s.r, 3) == 1, "%s", kind_names[k]);
        ck_assert_int_eq(s.r.bytes, 13);
        ck_assert_int_eq(s.r.eofs, 1);
        teardown(&s);
    }
}
END_TEST

/* event.h says EVLOOP_NONBLOCK runs the ready callbacks "then exit[s]".
   In 2.1.12 one event_base_loop(base, EVLOOP_NONBLOCK) polls again after
   each pass that ran a callback: it runs a one-byte reader until the
   descriptor is drained. */
START_TEST(nonblock_alone_runs_a_level_reader_until_drained)
{
    struct setup s;
    setup(&s, PIPE, NULL, LEVEL, ONE_BYTE);
    send_text(&s.c, "0123456789");
    ck_assert_int_eq(event_base_loop(s.base, EVLOOP_NONBLOCK), 0);
    ck_assert_int_eq(s.r.calls, 10);
    ck_assert_int_eq(s.r.bytes, 10);
    teardown(&s);
}
END_TEST

/* ...and at end of file, until the callback deletes its event (here at
   the 50th call; one that never does makes the call never return). */
START_TEST(nonblock_alone_at_eof_runs_until_the_event_is_deleted)
{
    struct setup s;
    setup(&s, SOCKETPAIR, NULL, LEVEL, ONE_BYTE);
    s.r.delete_at = 50;
    hang_up(&s.c);
    ck_assert_int_eq(event_base_loop(s.base, EVLOOP_NONBLOCK), 1); /* nothing left added */
    ck_assert_int_eq(s.r.calls, 50);
    teardown(&s);
}
END_TEST

/* --- Edge-triggered (epoll) --------------------------------------------------- */

/* Lesson 14, round 3: one callback for 10 bytes; the 9 left wait. The
   callback's what carries EV_ET. */
START_TEST(edge_one_byte_reader_runs_once_and_leaves_the_rest)
{
    FOR_EACH_KIND(k)
    {
        struct setup s;
        setup(&s, k, NULL, EDGE, ONE_BYTE);
        send_text(&s.c, "0123456789");
        ck_assert_msg(passes(s.base, &s.r, 10) == 1, "%s: %d calls", kind_names[k], s.r.calls);
        ck_assert_int_eq(s.r.what, EV_READ | EV_ET);
        ck_assert_int_eq(unread(s.c.r), 9);
        ck_assert(event_pending(s.r.ev, EV_READ, NULL)); /* still added */
        teardown(&s);
    }
}
END_TEST

/* Each arrival is one edge: one callback, which reads the oldest byte
   first. Arrivals between two passes make one edge. */
START_TEST(edge_reader_runs_again_only_when_more_arrives)
{
    FOR_EACH_KIND(k)
    {
        struct setup s;
        setup(&s, k, NULL, EDGE, ONE_BYTE);
        send_text(&s.c, "0123456789");
        ck_assert_int_eq(passes(s.base, &s.r, 3), 1);
        send_text(&s.c, "a");
        ck_assert_msg(passes(s.base, &s.r, 3) == 1, "%s: %d calls", kind_names[k], s.r.calls);
        ck_assert_int_eq(s.r.last, '1');
        send_text(&s.c, "b");
        send_text(&s.c, "c");
        ck_assert_msg(passes(s.base, &s.r, 3) == 1, "%s: two arrivals, %d calls",
                      kind_names[k], s.r.calls - 2);
        ck_assert_int_eq(s.r.last, '2');
        ck_assert_int_eq(unread(s.c.r), 10);
        teardown(&s);
    }
}
END_TEST

/* The hang-up is an edge too: one more callback. A one-byte reader reads
   a byte in it, and then is never called again: the rest and the end of
   file are never read. */
START_TEST(edge_reader_sees_the_hang_up_once_and_never_the_eof)
{
    FOR_EACH_KIND(k)
    {
        struct setup s;
        setup(&s, k, NULL, EDGE, ONE_BYTE);
        send_text(&s.c, "0123456789");
        ck_assert_int_eq(passes(s.base, &s.r, 3), 1);
        hang_up(&s.c);
        ck_assert_msg(passes(s.base, &s.r, 10) == 1, "%s: %d calls", kind_names[k], s.r.calls - 1);
        ck_assert_int_eq(s.r.what & (EV_READ | EV_ET), EV_READ | EV_ET);
        ck_assert_int_eq(s.r.bytes, 2);
        ck_assert_int_eq(s.r.eofs, 0);
        ck_assert_int_eq(unread(s.c.r), 8);
        teardown(&s);
    }
}
END_TEST

/* Lesson 14, round 4: reading until EAGAIN, one callback per arrival
   takes every byte, and the end of file arriving with the last bytes. */
START_TEST(edge_draining_reader_gets_every_byte_and_the_eof)
{
    FOR_EACH_KIND(k)
    {
        struct setup s;
        setup(&s, k, NULL, EDGE, DRAIN);
        send_text(&s.c, "0123456789");
        ck_assert_int_eq(passes(s.base, &s.r, 3), 1);
        ck_assert_int_eq(s.r.bytes, 10);
        send_text(&s.c, "abc");
        hang_up(&s.c);
        ck_assert_msg(passes(s.base, &s.r, 3) == 1, "%s: %d calls", kind_names[k], s.r.calls);
        ck_assert_int_eq(s.r.bytes, 13);
        ck_assert_int_eq(s.r.eofs, 1);
        teardown(&s);
    }
}
END_TEST

/* Bytes and the hang-up already there when the event is added: one
   callback. A reader that reads once, however much it takes, never sees
   the end of file (exercise 07's starter). */
START_TEST(edge_reader_added_after_data_and_hang_up_runs_once)
{
    FOR_EACH_KIND(k)
    {
        struct channel c;
        channel_open(&c, k);
        send_text(&c, "0123456789");
        hang_up(&c);
        struct event_base *base = new_base(NULL, 0);
        struct reader r;
        reader_add(&r, base, c.r, EDGE, ONE_READ);
        ck_assert_msg(passes(base, &r, 5) == 1, "%s: %d calls", kind_names[k], r.calls);
        ck_assert_int_eq(r.bytes, 10);
        ck_assert_int_eq(r.eofs, 0);
        event_free(r.ev);
        event_base_free(base);
        channel_close(&c);
    }
}
END_TEST

/* With epoll, event_add() after event_del() registers the descriptor
   again, and the kernel reports what is already there: a persistent
   event is called once more, a non-persistent one re-added by its
   callback is called on every pass, like a level-triggered one. The same
   with EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST. */
START_TEST(readding_an_edge_event_rearms_it)
{
    const int flags[] = { 0, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST };
    for (size_t f = 0; f < 2; f++) {
        struct channel c;
        channel_open(&c, PIPE);
        struct event_base *base = new_base("epoll", flags[f]);
        struct reader r;
        reader_add(&r, base, c.r, EDGE, ONE_BYTE);
        send_text(&c, "0123456789");
        ck_assert_int_eq(passes(base, &r, 3), 1);
        ck_assert_int_eq(event_del(r.ev), 0);
        ck_assert_int_eq(event_add(r.ev, NULL), 0);
        ck_assert_msg(passes(base, &r, 3) == 1, "flags %d: %d calls", flags[f], r.calls);
        event_free(r.ev);

        reader_add(&r, base, c.r, EV_READ | EV_ET, ONE_BYTE);
        r.readd = true;
        ck_assert_msg(passes(base, &r, 10) == 8, "flags %d: %d calls", flags[f], r.calls);
        ck_assert_int_eq(unread(c.r), 0);
        event_free(r.ev);
        event_base_free(base);
        channel_close(&c);
    }
}
END_TEST

/* event.h: events on one fd "must either all be edge-triggered, or all
   not be". Unchecked, the first added decides for both: a level-triggered
   reader added first makes an EV_ET one level-triggered, and the other way
   round. Debug mode refuses the second event_add(). */
START_TEST(mixing_level_and_edge_on_one_fd_follows_the_first_added)
{
    for (int edge_first = 0; edge_first < 2; edge_first++) {
        struct setup s;
        setup(&s, PIPE, NULL, edge_first ? EDGE : LEVEL, NO_READ);
        struct reader other;
        reader_add(&other, s.base, s.c.r, edge_first ? LEVEL : EDGE, NO_READ);
        send_text(&s.c, "x");
        int want = edge_first ? 1 : 5;
        ck_assert_int_eq(passes(s.base, &s.r, 5), want);
        ck_assert_msg(other.calls == want, "%s first: the other ran %d times",
                      edge_first ? "EV_ET" : "level", other.calls);
        event_free(other.ev);
        teardown(&s);
    }
}
END_TEST

START_TEST(debug_mode_refuses_mixing_level_and_edge_on_one_fd)
{
    event_enable_debug_mode(); /* before any base: this test's process is new */
    event_set_log_callback(keep_log);
    struct setup s;
    setup(&s, PIPE, NULL, LEVEL, NO_READ);
    struct event *other = event_new(s.base, s.c.r, EDGE, on_read, NULL);
    ck_assert_ptr_nonnull(other);
    ck_assert_int_eq(event_add(other, NULL), -1);
    ck_assert_msg(strstr(logged, "Tried to mix edge-triggered and non-edge-triggered") != NULL,
                  "logged: %s", logged);
    event_set_log_callback(NULL);
    event_free(other);
    teardown(&s);
}
END_TEST

/* --- Backends ------------------------------------------------------------------- */

/* What event_base_get_features() says each backend of Linux can do. */
START_TEST(backend_features)
{
    const struct {
        const char *method;
        int features;
    } want[] = {
        { "epoll", EV_FEATURE_ET | EV_FEATURE_O1 | EV_FEATURE_EARLY_CLOSE },
        { "poll", EV_FEATURE_FDS | EV_FEATURE_EARLY_CLOSE },
        { "select", EV_FEATURE_FDS },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        struct event_base *base = new_base(want[i].method, 0);
        ck_assert_msg(event_base_get_features(base) == want[i].features, "%s: features %#x",
                      want[i].method, event_base_get_features(base));
        event_base_free(base);
    }
}
END_TEST

/* Requiring EV_FEATURE_ET leaves epoll; without epoll there is no base. */
START_TEST(requiring_et_without_epoll_gives_no_base)
{
    struct event_config *cfg = event_config_new();
    ck_assert_ptr_nonnull(cfg);
    ck_assert_int_eq(event_config_require_features(cfg, EV_FEATURE_ET), 0);
    struct event_base *base = event_base_new_with_config(cfg);
    ck_assert_ptr_nonnull(base);
    ck_assert_str_eq(event_base_get_method(base), "epoll");
    event_base_free(base);
    ck_assert_int_eq(event_config_avoid_method(cfg, "epoll"), 0);
    event_set_log_callback(keep_log);
    ck_assert_ptr_null(event_base_new_with_config(cfg));
    event_set_log_callback(NULL);
    ck_assert_str_eq(logged, "event_base_new_with_config: no event mechanism available");
    event_config_free(cfg);
}
END_TEST

/* poll and select accept EV_ET (event_add() returns 0) and ignore it: the
   one-byte reader is called on every pass, and what has no EV_ET. */
START_TEST(poll_and_select_treat_ev_et_as_level_triggered)
{
    const char *const methods[] = { "poll", "select" };
    for (size_t m = 0; m < 2; m++)
        FOR_EACH_KIND(k)
        {
            struct setup s;
            setup(&s, k, methods[m], EDGE, ONE_BYTE);
            send_text(&s.c, "0123456789");
            ck_assert_msg(passes(s.base, &s.r, 12) == 10, "%s, %s: %d calls", methods[m],
                          kind_names[k], s.r.calls);
            ck_assert_int_eq(s.r.what, EV_READ);
            teardown(&s);
        }
}
END_TEST

/* epoll refuses a regular file: event_add() fails, and libevent logs the
   kernel's EPERM. poll and select take it, readable on every pass. */
START_TEST(epoll_cannot_watch_a_regular_file)
{
    char *dir = make_temp_dir(), *path;
    if (asprintf(&path, "%s/file", dir) < 0)
        abort();
    int fd = open(path, O_RDWR | O_CREAT | O_NONBLOCK, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "0123456789", 10), 10);
    event_set_log_callback(keep_log);
    const char *const methods[] = { "epoll", "poll", "select" };
    for (size_t m = 0; m < 3; m++) {
        struct event_base *base = new_base(methods[m], 0);
        struct reader r;
        memset(&r, 0, sizeof r);
        r.how = NO_READ;
        r.ev = event_new(base, fd, LEVEL, on_read, &r);
        ck_assert_ptr_nonnull(r.ev);
        int added = event_add(r.ev, NULL);
        if (m == 0) {
            ck_assert_int_eq(added, -1);
            ck_assert_msg(strstr(logged, "Operation not permitted") != NULL, "logged: %s", logged);
        } else {
            ck_assert_int_eq(added, 0);
            ck_assert_int_eq(passes(base, &r, 3), 3);
        }
        event_free(r.ev);
        event_base_free(base);
    }
    event_set_log_callback(NULL);
    close(fd);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(rmdir(dir), 0);
    free(path);
    free(dir);
}
END_TEST

/* --- EV_CLOSED -------------------------------------------------------------------- */

/* Lesson 14, round 5: an EV_CLOSED event without EV_READ is not called
   for data, and is called when the peer of a socket shuts down its
   sending side, with the data still unread: on every pass until deleted,
   or once with EV_ET (epoll; poll ignores EV_ET). */
START_TEST(closed_reports_a_socket_hang_up_before_its_data_is_read)
{
    const char *const methods[] = { "epoll", "poll" };
    for (size_t m = 0; m < 2; m++)
        for (enum kind k = SOCKETPAIR; k <= TCP; k++)
            for (int et = 0; et < 2; et++) {
                struct setup s;
                setup(&s, k, methods[m], EV_CLOSED | EV_PERSIST | (et ? EV_ET : 0), NO_READ);
                send_text(&s.c, "abc");
                ck_assert_int_eq(passes(s.base, &s.r, 3), 0);
                hang_up(&s.c);
                int calls = passes(s.base, &s.r, 3);
                bool edge = et && m == 0; /* poll ignores EV_ET */
                ck_assert_msg(calls == (edge ? 1 : 3), "%s, %s, %s: %d calls", methods[m],
                              kind_names[k], et ? "EV_ET" : "level", calls);
                ck_assert_int_eq(s.r.what, EV_CLOSED | (edge ? EV_ET : 0));
                ck_assert_int_eq(unread(s.c.r), 3);
                teardown(&s);
            }
}
END_TEST

/* A peer that closes its socket entirely is reported as EV_CLOSED too,
   with EV_READ for a read event: what=READ|CLOSED. */
START_TEST(closed_reports_a_closed_socket_too)
{
    for (enum kind k = SOCKETPAIR; k <= TCP; k++) {
        struct setup s;
        setup(&s, k, NULL, EV_READ | EV_CLOSED | EV_PERSIST, NO_READ);
        s.r.delete_at = 1;
        ck_assert_int_eq(close(s.c.w), 0);
        s.c.w = -1;
        await(&s.c, POLLRDHUP, 0);
        ck_assert_int_eq(passes(s.base, &s.r, 3), 1);
        ck_assert_msg(s.r.what == (EV_READ | EV_CLOSED), "%s: what=%#x", kind_names[k], s.r.what);
        teardown(&s);
    }
}
END_TEST

/* A pipe or a FIFO has no half-close to report: when its writer closes,
   epoll says EPOLLHUP, which libevent turns into EV_READ|EV_WRITE. An
   EV_CLOSED event is never called, and a read event's what has no
   EV_CLOSED. poll the same. EV_FEATURE_EARLY_CLOSE does not say so. */
START_TEST(closed_is_never_reported_on_a_pipe)
{
    const char *const methods[] = { "epoll", "poll" };
    for (size_t m = 0; m < 2; m++)
        for (enum kind k = PIPE; k <= FIFO; k++) {
            struct setup s;
            setup(&s, k, methods[m], EV_CLOSED | EV_PERSIST, NO_READ);
            struct reader both;
            reader_add(&both, s.base, s.c.r, EV_READ | EV_CLOSED | EV_PERSIST, NO_READ);
            both.delete_at = 1;
            send_text(&s.c, "abc");
            hang_up(&s.c);
            ck_assert_int_eq(passes(s.base, &s.r, 3), 0);
            ck_assert_int_eq(both.calls, 1);
            ck_assert_msg(both.what == EV_READ, "%s, %s: what=%#x", methods[m], kind_names[k],
                          both.what);
            event_free(both.ev);
            teardown(&s);
        }
}
END_TEST

/* select has no EV_FEATURE_EARLY_CLOSE: an EV_CLOSED event is never
   called, a socket's hang-up is a readable descriptor. */
START_TEST(select_never_reports_closed)
{
    struct setup s;
    setup(&s, SOCKETPAIR, "select", EV_CLOSED | EV_PERSIST, NO_READ);
    struct reader both;
    reader_add(&both, s.base, s.c.r, EV_READ | EV_CLOSED | EV_PERSIST, NO_READ);
    both.delete_at = 1;
    hang_up(&s.c);
    ck_assert_int_eq(passes(s.base, &s.r, 3), 0);
    ck_assert_int_eq(both.calls, 1);
    ck_assert_int_eq(both.what, EV_READ);
    event_free(both.ev);
    teardown(&s);
}
END_TEST

Suite *edge_suite(void)
{
    Suite *s = suite_create("edge");
    TCase *level = tcase_create("level");
    tcase_set_timeout(level, 20);
    tcase_add_test(level, level_one_byte_reader_runs_once_a_pass_until_drained);
    tcase_add_test(level, level_reader_at_eof_runs_every_pass_until_deleted);
    tcase_add_test(level, level_draining_reader_runs_once_per_arrival);
    tcase_add_test(level, nonblock_alone_runs_a_level_reader_until_drained);
    tcase_add_test(level, nonblock_alone_at_eof_runs_until_the_event_is_deleted);
    suite_add_tcase(s, level);

    TCase *edge = tcase_create("edge");
    tcase_set_timeout(edge, 20);
    tcase_add_test(edge, edge_one_byte_reader_runs_once_and_leaves_the_rest);
    tcase_add_test(edge, edge_reader_runs_again_only_when_more_arrives);
    tcase_add_test(edge, edge_reader_sees_the_hang_up_once_and_never_the_eof);
    tcase_add_test(edge, edge_draining_reader_gets_every_byte_and_the_eof);
    tcase_add_test(edge, edge_reader_added_after_data_and_hang_up_runs_once);
    tcase_add_test(edge, readding_an_edge_event_rearms_it);
    tcase_add_test(edge, mixing_level_and_edge_on_one_fd_follows_the_first_added);
    tcase_add_test(edge, debug_mode_refuses_mixing_level_and_edge_on_one_fd);
    suite_add_tcase(s, edge);

    TCase *backends = tcase_create("backends");
    tcase_set_timeout(backends, 20);
    tcase_add_test(backends, backend_features);
    tcase_add_test(backends, requiring_et_without_epoll_gives_no_base);
    tcase_add_test(backends, poll_and_select_treat_ev_et_as_level_triggered);
    tcase_add_test(backends, epoll_cannot_watch_a_regular_file);
    suite_add_tcase(s, backends);

    TCase *closed = tcase_create("closed");
    tcase_set_timeout(closed, 20);
    tcase_add_test(closed, closed_reports_a_socket_hang_up_before_its_data_is_read);
    tcase_add_test(closed, closed_reports_a_closed_socket_too);
    tcase_add_test(closed, closed_is_never_reported_on_a_pipe);
    tcase_add_test(closed, select_never_reports_closed);
    suite_add_tcase(s, closed);
    return s;
}

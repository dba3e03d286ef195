/*
 * Lesson 08, event1 style: bufferevent ordering and flow control.
 *
 * What it shows, in five parts:
 *   1. read watermarks: a low mark holds the read callback back until that
 *      much has arrived; a high mark caps what libevent reads at a time.
 *   2. a read timeout, set with bufferevent_settimeout(): whole seconds, so
 *      this variant does not wait for it (the event2 one does).
 *   3. one connection on 127.0.0.1, opened with connect() by hand: its
 *      callbacks come as write drained, read, EOF. No "connected": being
 *      able to write is the only sign.
 *   4. the order of a read callback among other events; 1.x had no
 *      deferred callbacks.
 *   5. backpressure: an echo stops reading while its output is over a high
 *      mark, and starts again once the output has drained.
 * Run it:   make lesson-8          (both styles side by side)
 *           build/bin/08-event1    (this program alone)
 * Look for: "reader seen input=4" with no read callback before it (part 1);
 *   no "client event-cb what=CONNECTED", which event2 prints (part 3); the
 *   order of the starter, follower and read-cb lines (part 4).
 */
#include "event1.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct event_base *base;

/* --- Helpers ----------------------------------------------------------------- */

/* A bufferevent on one end of a socketpair; the program works the other
   end, the peer, by hand. */
struct pair {
    struct bufferevent *bev;
    int fd;   /* the bufferevent's end */
    int peer; /* the other end, non-blocking */
};

static void pair_open(struct pair *p, evbuffercb readcb, evbuffercb writecb, everrorcb eventcb)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        die_errno("socketpair");
    if (evutil_make_socket_nonblocking(fds[1]) != 0)
        die("evutil_make_socket_nonblocking");
    p->fd = fds[0];
    p->peer = fds[1];
    p->bev = bufferevent_new(p->fd, readcb, writecb, eventcb, NULL);
    if (p->bev == NULL)
        die("bufferevent_new");
}

static void pair_close(struct pair *p)
{
    bufferevent_free(p->bev); /* the socket stays open: 1.x never closed it */
    if (close(p->fd) != 0 || close(p->peer) != 0)
        die_errno("close");
}

static void peer_sends(struct pair *p, const char *data)
{
    if (write(p->peer, data, strlen(data)) != (ssize_t)strlen(data))
        die_errno("write");
    trace("peer", "sent", "data=%s", data);
}

static size_t input_length(struct bufferevent *bev)
{
    return EVBUFFER_LENGTH(EVBUFFER_INPUT(bev));
}

static size_t output_length(struct bufferevent *bev)
{
    return EVBUFFER_LENGTH(EVBUFFER_OUTPUT(bev));
}

static const char *enabled_of(struct bufferevent *bev, char *buf, size_t size)
{
    return trace_flags(bev->enabled, buf, size); /* no bufferevent_get_enabled() in 1.x */
}

static void enable(struct bufferevent *bev, short what)
{
    if (bufferevent_enable(bev, what) != 0)
        die("bufferevent_enable");
}

static void disable(struct bufferevent *bev, short what)
{
    if (bufferevent_disable(bev, what) != 0)
        die("bufferevent_disable");
}

static void dispatch(void)
{
    trace("loop", "dispatch", NULL);
    int result = event_dispatch();
    trace("loop", "returned", "result=%d", result);
}

/* --- 1. Read watermarks ------------------------------------------------------ */

static size_t expected_bytes, received_bytes; /* what the reader waits for */

static void expect(size_t bytes)
{
    expected_bytes = bytes;
    received_bytes = 0;
}

/* doc: reader */
static void on_reader_read(struct bufferevent *bev, void *arg)
{
    char data[64];
    (void)arg;
    size_t input = input_length(bev);
    size_t n = bufferevent_read(bev, data, sizeof data);
    trace("reader", "read-cb", "input=%zu data=%.*s", input, (int)n, data);
    received_bytes += n;
    if (received_bytes == expected_bytes)
        disable(bev, EV_READ); /* all there: nothing left to wait for */
}
/* doc: end */

/* Reached only when a read timeout expires, which only the event2 variant
   waits for (part 2): so its line is a style-only one. */
static void on_reader_event(struct bufferevent *bev, short what, void *arg)
{
    char flags[64], enabled[64];
    (void)arg;
    trace_style("reader event-cb what=%s enabled=%s", trace_bev_flags(what, flags, sizeof flags),
                enabled_of(bev, enabled, sizeof enabled));
}

static void read_watermarks(void)
{
    struct pair reader;
    trace_note("--- 1. read watermarks");
    pair_open(&reader, on_reader_read, NULL, on_reader_event);

    /* doc: low */
    /* Low mark 10: the read callback waits until the input holds 10 bytes. */
    bufferevent_setwatermark(reader.bev, EV_READ, 10, 0); /* returns nothing */
    trace("reader", "watermark", "read_low=10 read_high=0");
    enable(reader.bev, EV_READ);
    expect(10);
    peer_sends(&reader, "abcd");
    trace("loop", "nonblock", NULL); /* no waiting: libevent reads the 4 bytes */
    trace("loop", "returned", "result=%d", event_loop(EVLOOP_NONBLOCK));
    trace("reader", "seen", "input=%zu", input_length(reader.bev));
    peer_sends(&reader, "efghij");
    dispatch();
    /* doc: end */

    /* doc: high */
    /* High mark 8: libevent reads at most 8 bytes at a time, and none while
       the input holds 8. */
    bufferevent_setwatermark(reader.bev, EV_READ, 0, 8); /* returns nothing */
    trace("reader", "watermark", "read_low=0 read_high=8");
    expect(20);
    peer_sends(&reader, "abcdefghijklmnopqrst");
    enable(reader.bev, EV_READ);
    dispatch();
    /* doc: end */
    pair_close(&reader);
}

/* --- 2. A read timeout ------------------------------------------------------- */

static void read_timeout(void)
{
    struct pair reader;
    trace_note("--- 2. a read timeout");
    pair_open(&reader, on_reader_read, NULL, on_reader_event);

    /* doc: timeout */
    /* Whole seconds: 1 s is the shortest timeout it can ask for. (1.x kept
       an int; 2.1 keeps a timeval, still a public field.) The timeout counts
       while reading is enabled and restarts whenever something is read. */
    char duration[32];
    bufferevent_settimeout(reader.bev, 1, 0);
    trace_style("bufferevent_settimeout(reader, 1, 0): whole seconds, timeout_read=%s",
                trace_duration(&reader.bev->timeout_read, duration, sizeof duration));
    expect(4);
    peer_sends(&reader, "ping");
    enable(reader.bev, EV_READ);
    dispatch(); /* the data comes first */

    /* Waiting for the timeout would take a second: not here. */
    trace_style("a 1 s wait for the timeout is left out; event2 waits 50ms instead");
    /* doc: end */
    pair_close(&reader);
}

/* --- 3. A connection's life ---------------------------------------------------- */

static int server_fd; /* closed by hand when the server hangs up */

/* doc: client_event */
static void on_client_event(struct bufferevent *bev, short what, void *arg)
{
    char flags[64];
    (void)bev;
    (void)arg;
    /* A connect() made by hand is never reported here: 1.x had no
       "connected" flag. */
    trace("client", "event-cb", "what=%s", trace_bev_flags(what, flags, sizeof flags));
}
/* doc: end */

static void on_client_write(struct bufferevent *bev, void *arg)
{
    (void)arg;
    trace("client", "write-cb", "output=%zu", output_length(bev));
}

static void on_client_read(struct bufferevent *bev, void *arg)
{
    char data[64];
    (void)arg;
    size_t n = bufferevent_read(bev, data, sizeof data);
    trace("client", "read-cb", "data=%.*s", (int)n, data);
}

static void on_server_read(struct bufferevent *bev, void *arg)
{
    char data[64];
    (void)arg;
    size_t n = bufferevent_read(bev, data, sizeof data);
    trace("server", "read-cb", "data=%.*s", (int)n, data);
    if (bufferevent_write(bev, "pong", 4) != 0)
        die("bufferevent_write");
}

/* 1.x wants an error callback; the server hangs up before it could run. */
static void on_server_event(struct bufferevent *bev, short what, void *arg)
{
    char flags[64];
    (void)bev;
    (void)arg;
    trace("server", "event-cb", "what=%s", trace_bev_flags(what, flags, sizeof flags));
}

/* doc: server_write */
static void on_server_write(struct bufferevent *bev, void *arg)
{
    (void)arg;
    trace("server", "write-cb", "output=%zu", output_length(bev));
    bufferevent_free(bev); /* the answer is out: hang up */
    if (close(server_fd) != 0)
        die_errno("close");
    trace("server", "closed", NULL);
}
/* doc: end */

/* A listening socket on 127.0.0.1, port chosen by the kernel (never
   printed: it differs from run to run). */
static int listen_on_loopback(struct sockaddr_in *address)
{
    socklen_t length = sizeof *address;
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0)
        die_errno("socket");
    memset(address, 0, sizeof *address);
    address->sin_family = AF_INET;
    address->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address->sin_port = 0;
    if (bind(listener, (struct sockaddr *)address, sizeof *address) != 0)
        die_errno("bind");
    if (listen(listener, 1) != 0)
        die_errno("listen");
    if (getsockname(listener, (struct sockaddr *)address, &length) != 0)
        die_errno("getsockname");
    return listener;
}

static void connection_life(void)
{
    struct sockaddr_in address;
    trace_note("--- 3. a connection's life");
    int listener = listen_on_loopback(&address);

    /* doc: connect */
    /* A non-blocking connect() by hand; the bufferevent comes after. It
       queues the data; libevent writes it when the socket becomes writable,
       which is when the connection is up. */
    int client_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (client_fd < 0)
        die_errno("socket");
    if (evutil_make_socket_nonblocking(client_fd) != 0)
        die("evutil_make_socket_nonblocking");
    if (connect(client_fd, (struct sockaddr *)&address, sizeof address) != 0 &&
        errno != EINPROGRESS)
        die_errno("connect");
    trace_style("connect() by hand: no event will say it is connected");
    struct bufferevent *client = bufferevent_new(client_fd, on_client_read, on_client_write,
                                                 on_client_event, NULL);
    if (client == NULL)
        die("bufferevent_new");
    /* Queued now, sent once the connection is up. */
    if (bufferevent_write(client, "ping", 4) != 0)
        die("bufferevent_write");
    trace("client", "wrote", "output=%zu", output_length(client));
    enable(client, EV_READ);
    /* doc: end */

    /* accept() by hand, blocking: it returns once the connection is
       complete. Lesson 10 accepts from the loop instead. */
    server_fd = accept(listener, NULL, NULL);
    if (server_fd < 0)
        die_errno("accept");
    if (close(listener) != 0)
        die_errno("close");
    if (evutil_make_socket_nonblocking(server_fd) != 0)
        die("evutil_make_socket_nonblocking");
    struct bufferevent *server =
        bufferevent_new(server_fd, on_server_read, on_server_write, on_server_event, NULL);
    if (server == NULL)
        die("bufferevent_new");
    enable(server, EV_READ);

    dispatch();
    bufferevent_free(client);
    if (close(client_fd) != 0)
        die_errno("close");
}

/* --- 4. Deferred callbacks ------------------------------------------------------ */

/* 1.x events live in storage the program owns; the pointers let the rest of
   the code read like the event2 variant's. */
static struct event starter_ev, follower_ev;
static struct event *starter = &starter_ev, *follower = &follower_ev;

/* doc: starter */
static void on_starter(int fd, short what, void *arg)
{
    (void)fd;
    (void)arg;
    probe_callback(starter, what);
    /* Made active now, behind the reader's read event, which the loop's
       poll made active just before this callback ran. */
    event_active(follower, 0, 0);
    probe_step(follower, "activated");
    probe_after(starter);
}
/* doc: end */

static void on_follower(int fd, short what, void *arg)
{
    (void)fd;
    (void)arg;
    probe_callback(follower, what);
    probe_after(follower);
}

/* doc: deferred */
/* 1.x had no BEV_OPT_DEFER_CALLBACKS: a read callback always runs inside
   libevent's own read event, at once. */
static void deferred_round(void)
{
    trace_style("no BEV_OPT_DEFER_CALLBACKS in 1.x: a read callback always runs at once");
}
/* doc: end */

static void deferred_callbacks(void)
{
    struct pair reader;
    trace_note("--- 4. deferred callbacks");
    pair_open(&reader, on_reader_read, NULL, on_reader_event);
    event_set(starter, -1, 0, on_starter, NULL);
    event_set(follower, -1, 0, on_follower, NULL);
    probe_watch(starter, "starter");
    probe_watch(follower, "follower");

    /* doc: immediate */
    enable(reader.bev, EV_READ);
    expect(1);
    peer_sends(&reader, "x"); /* the reader's socket is readable from now on */
    event_active(starter, 0, 0);
    probe_step(starter, "activated");
    dispatch();
    /* doc: end */
    pair_close(&reader);
    probe_free(starter); /* static storage: nothing to free */
    probe_free(follower);

    deferred_round();
}

/* --- 5. Backpressure ------------------------------------------------------------ */

enum {
    ECHO_BYTES = 1 << 20,     /* what the peer sends through the echo */
    OUTPUT_HIGH = 64 * 1024,  /* the echo stops reading above this much output */
    OUTPUT_LOW = 16 * 1024,   /* ... and reads again once it is down to this */
    MOST_PER_READ = 16384,    /* libevent 2.1 reads at most this much at a time;
                                 1.x has no call that says so */
    SOCKET_BUFFER = 64 * 1024 /* SO_SNDBUF of both ends (the kernel doubles it) */
};

static struct pair echo;
static struct event sender_ev, receiver_ev;
static struct event *sender = &sender_ev, *receiver = &receiver_ev;
static size_t sent, received, most_output;
static bool echo_paused, paused_once, resumed_once;

/* The byte at offset i of the stream: what the receiver checks. */
static unsigned char stream_byte(size_t i)
{
    return (unsigned char)(i * 7 + i / 251);
}

/* doc: echo */
static void on_echo_read(struct bufferevent *bev, void *arg)
{
    char enabled[64];
    (void)arg;
    if (bufferevent_write_buffer(bev, bufferevent_get_input(bev)) != 0) /* echo it all */
        die("bufferevent_write_buffer");
    if (output_length(bev) > most_output)
        most_output = output_length(bev);
    if (output_length(bev) > OUTPUT_HIGH) {
        /* The peer is not keeping up: stop taking more from it. */
        disable(bev, EV_READ);
        echo_paused = true;
        if (!paused_once) { /* how often it pauses depends on the kernel's buffers */
            paused_once = true;
            trace("echo", "disabled", "what=READ enabled=%s",
                  enabled_of(bev, enabled, sizeof enabled));
            if (event_add(receiver, NULL) != 0) /* the peer starts reading now */
                die("event_add");
            trace("receiver", "started", NULL);
        }
    }
}

/* 1.x wants an error callback; the peer never closes, so it never runs. */
static void on_echo_event(struct bufferevent *bev, short what, void *arg)
{
    char flags[64];
    (void)bev;
    (void)arg;
    trace("echo", "event-cb", "what=%s", trace_bev_flags(what, flags, sizeof flags));
}

/* Runs when the output has drained to OUTPUT_LOW, the write low watermark. */
static void on_echo_write(struct bufferevent *bev, void *arg)
{
    char enabled[64];
    (void)arg;
    if (!echo_paused)
        return;
    enable(bev, EV_READ);
    echo_paused = false;
    if (!resumed_once) {
        resumed_once = true;
        trace("echo", "write-cb", "output=at-most-%d", OUTPUT_LOW);
        trace("echo", "enabled", "what=READ enabled=%s", enabled_of(bev, enabled, sizeof enabled));
    }
}
/* doc: end */

static void on_sender(int fd, short what, void *arg)
{
    unsigned char chunk[16384];
    (void)what;
    (void)arg;
    size_t n = ECHO_BYTES - sent < sizeof chunk ? ECHO_BYTES - sent : sizeof chunk;
    for (size_t i = 0; i < n; i++)
        chunk[i] = stream_byte(sent + i);
    ssize_t written = write(fd, chunk, n);
    if (written < 0 && errno != EAGAIN)
        die_errno("write");
    if (written > 0)
        sent += (size_t)written;
    if (sent == ECHO_BYTES && event_del(sender) != 0)
        die("event_del");
}

static void on_receiver(int fd, short what, void *arg)
{
    unsigned char chunk[16384];
    (void)what;
    (void)arg;
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno != EAGAIN)
        die_errno("read");
    for (ssize_t i = 0; i < n; i++, received++)
        if (chunk[i] != stream_byte(received)) {
            fprintf(stderr, "echo: byte %zu came back wrong\n", received);
            exit(EXIT_FAILURE);
        }
    if (received == ECHO_BYTES) {
        trace("receiver", "done", "bytes=%zu in_order=yes", received);
        if (event_del(receiver) != 0)
            die("event_del");
        disable(echo.bev, EV_READ); /* nothing more will come */
    }
}

static void backpressure(void)
{
    const int buffer = SOCKET_BUFFER;
    trace_note("--- 5. backpressure");
    pair_open(&echo, on_echo_read, on_echo_write, on_echo_event);
    /* Small, fixed socket buffers: the echo's output must pile up on any
       machine, however its defaults are set. */
    if (setsockopt(echo.fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer) != 0 ||
        setsockopt(echo.peer, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer) != 0)
        die_errno("setsockopt");

    /* doc: backpressure */
    /* The write callback runs when the output is down to OUTPUT_LOW. */
    bufferevent_setwatermark(echo.bev, EV_WRITE, OUTPUT_LOW, 0); /* returns nothing */
    trace("echo", "watermark", "write_low=%d", OUTPUT_LOW);
    enable(echo.bev, EV_READ);
    trace_note("the echo stops reading while its output holds more than %d bytes", OUTPUT_HIGH);
    trace_note("the peer sends %d bytes and reads nothing until the echo stops reading",
               ECHO_BYTES);
    event_set(sender, echo.peer, EV_WRITE | EV_PERSIST, on_sender, NULL);
    event_set(receiver, echo.peer, EV_READ | EV_PERSIST, on_receiver, NULL);
    if (event_add(sender, NULL) != 0)
        die("event_add");
    dispatch();
    if (most_output > OUTPUT_HIGH + MOST_PER_READ) {
        fprintf(stderr, "echo: the output grew to %zu bytes\n", most_output);
        exit(EXIT_FAILURE);
    }
    trace_note("the echo's output never held more than the high mark plus one read");
    /* doc: end */
    pair_close(&echo); /* sender and receiver: static storage */
}

int main(void)
{
    base = event_init();
    if (base == NULL)
        die("event_init");
    read_watermarks();
    read_timeout();
    connection_life();
    deferred_callbacks();
    backpressure();
    event_base_free(base);
    return 0;
}

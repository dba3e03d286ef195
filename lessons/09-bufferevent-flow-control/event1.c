/*
 * Lesson 09, event1 style: bufferevent flow control.
 *
 * What it shows: 1. how much one read takes: a 10000-byte message arrives
 *   in three reads, 4096 + 4096 + 1808 bytes (1.x had no call that says how
 *   much a read may take). 2. read watermarks: a low mark holds the read
 *   callback back until the whole message is in; a high mark caps the
 *   input. 3. a read timeout, in whole seconds. 4. backpressure: an echo
 *   stops reading while its output is over 64 KB, and reads again when the
 *   write low watermark says the output has drained.
 * Run it:   make lesson-9          (both styles side by side)
 *           build/bin/09-event1    (this program alone)
 * Look for: "input=4096" twice, then "input=1808"; "reader seen input=6000"
 *   with no read callback before it; "output_empty=no" in part 4.
 */
#include "event1.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct event_base *base;

enum { MESSAGE = 10000 }; /* the message of parts 1 and 2, in bytes */

/* A bufferevent on one end of a socketpair; the program works the other
   end, the peer. */
struct pair {
    struct bufferevent *bev;
    int fd, peer; /* the bufferevent's end; the other end, non-blocking */
};

static const char *enabled_of(struct bufferevent *bev, char *buf, size_t size)
{
    return trace_flags(bev->enabled, buf, size); /* 1.x had no call for it: the public field */
}

/* Every bufferevent's; arg is its name. Reached only when the reader's
   read timeout expires, which only the event2 variant waits for (part 3):
   its line is a style-only one. */
static void on_event(struct bufferevent *bev, short what, void *arg)
{
    char flags[64], enabled[64];
    trace_style("%s event-cb what=%s enabled=%s", (const char *)arg,
                trace_bev_flags(what, flags, sizeof flags), enabled_of(bev, enabled, sizeof enabled));
}

static void pair_open(struct pair *p, char *name, evbuffercb readcb, evbuffercb writecb)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        die_errno("socketpair");
    if (evutil_make_socket_nonblocking(fds[1]) != 0)
        die("evutil_make_socket_nonblocking");
    p->fd = fds[0];
    p->peer = fds[1];
    p->bev = bufferevent_new(p->fd, readcb, writecb, on_event, name);
    if (p->bev == NULL)
        die("bufferevent_new");
}

static void pair_close(struct pair *p)
{
    bufferevent_free(p->bev); /* the socket stays open: 1.x never closed it */
    if (close(p->fd) != 0 || close(p->peer) != 0)
        die_errno("close");
}

static void peer_sends(struct pair *p, size_t bytes)
{
    static char message[MESSAGE];
    memset(message, 'm', bytes);
    if (write(p->peer, message, bytes) != (ssize_t)bytes)
        die_errno("write");
    trace("peer", "sent", "bytes=%zu", bytes);
}

static size_t output_length(struct bufferevent *bev)
{
    return EVBUFFER_LENGTH(EVBUFFER_OUTPUT(bev));
}

/* The marks as libevent holds them, read back from the public fields (1.x
   had no call to read them). */
static void trace_watermarks(struct bufferevent *bev, const char *name)
{
    trace(name, "watermarks", "read_low=%zu read_high=%zu write_low=%zu", bev->wm_read.low,
          bev->wm_read.high, bev->wm_write.low);
}

static void set_reading(struct bufferevent *bev, bool on)
{
    int result = on ? bufferevent_enable(bev, EV_READ) : bufferevent_disable(bev, EV_READ);
    if (result != 0)
        die(on ? "bufferevent_enable" : "bufferevent_disable");
}

/* Runs the loop until nothing is active: every byte waiting is read. */
static void loop_nonblock(void)
{
    trace("loop", "nonblock", NULL);
    trace("loop", "returned", "result=%d", event_loop(EVLOOP_NONBLOCK));
}

/* --- 1. How much one read takes; 2. read watermarks ----------------------------- */

/* doc: reader */
static void on_reader_read(struct bufferevent *bev, void *arg)
{
    struct evbuffer *input = EVBUFFER_INPUT(bev);
    size_t n = EVBUFFER_LENGTH(input); /* all that libevent has read */
    (void)arg;
    trace("reader", "read-cb", "input=%zu", n);
    if (evbuffer_drain(input, n) != 0)
        die("evbuffer_drain");
}
/* doc: end */

static void reading(struct pair *reader)
{
    trace_note("--- 1. how much one read takes");
    /* doc: size */
    set_reading(reader->bev, true);
    peer_sends(reader, MESSAGE); /* all of it waits in the socket */
    loop_nonblock();
    trace_style("1.x has no call that says how much one read may take");
    /* doc: end */

    trace_note("--- 2. read watermarks");
    /* doc: low */
    /* Low mark: no read callback until the input holds the whole message. */
    bufferevent_setwatermark(reader->bev, EV_READ, MESSAGE, 0); /* returns nothing */
    trace_watermarks(reader->bev, "reader");
    peer_sends(reader, 6000);
    loop_nonblock();
    trace("reader", "seen", "input=%zu", EVBUFFER_LENGTH(EVBUFFER_INPUT(reader->bev)));
    peer_sends(reader, MESSAGE - 6000);
    loop_nonblock();
    /* doc: end */

    /* doc: high */
    /* High mark: libevent stops reading while the input holds 3000 bytes. */
    bufferevent_setwatermark(reader->bev, EV_READ, 0, 3000); /* returns nothing */
    trace_watermarks(reader->bev, "reader");
    peer_sends(reader, MESSAGE);
    loop_nonblock();
    /* doc: end */
}

/* --- 3. A read timeout ------------------------------------------------------- */

static void read_timeout(struct pair *reader)
{
    trace_note("--- 3. a read timeout");
    /* doc: timeout */
    /* Whole seconds: 1 s is the shortest it can ask for. (1.x kept an int;
       2.1 keeps a timeval, still a public field.) It counts while reading
       is enabled. */
    char duration[32];
    bufferevent_settimeout(reader->bev, 1, 0); /* returns nothing */
    trace_style("bufferevent_settimeout(reader, 1, 0): whole seconds, timeout_read=%s",
                trace_duration(&reader->bev->timeout_read, duration, sizeof duration));
    trace_style("a 1 s wait for the timeout is left out; event2 waits 50ms instead");
    /* doc: end */
}

/* --- 4. Backpressure ------------------------------------------------------------ */

enum {
    ECHO_BYTES = 1 << 20,     /* what the peer sends through the echo */
    OUTPUT_HIGH = 64 * 1024,  /* the echo stops reading above this much output */
    OUTPUT_LOW = 16 * 1024,   /* ... and reads again once it is down to this */
    SOCKET_BUFFER = 64 * 1024 /* SO_SNDBUF of both ends (the kernel doubles it) */
};

static struct bufferevent *echo, *peer;
static size_t received, largest_read, most_output;
static bool echo_paused, paused_once, resumed_once;

/* doc: echo */
static void on_echo_read(struct bufferevent *bev, void *arg)
{
    char enabled[64];
    struct evbuffer *input = EVBUFFER_INPUT(bev);
    (void)arg;
    if (EVBUFFER_LENGTH(input) > largest_read) /* one read's worth: emptied every time */
        largest_read = EVBUFFER_LENGTH(input);
    if (bufferevent_write_buffer(bev, input) != 0) /* echo it all */
        die("bufferevent_write_buffer");
    if (output_length(bev) > most_output)
        most_output = output_length(bev);
    if (output_length(bev) > OUTPUT_HIGH) {
        set_reading(bev, false); /* the peer is not keeping up: take no more from it */
        echo_paused = true;
        if (!paused_once) { /* how often it pauses depends on the kernel's buffers */
            paused_once = true;
            trace("echo", "disabled", "what=READ enabled=%s",
                  enabled_of(bev, enabled, sizeof enabled));
            set_reading(peer, true); /* the peer starts reading now */
        }
    }
}

/* Runs after a write that leaves the output at the write low watermark or
   less. */
static void on_echo_write(struct bufferevent *bev, void *arg)
{
    char enabled[64];
    size_t output = output_length(bev);
    (void)arg;
    if (!echo_paused)
        return;
    set_reading(bev, true);
    echo_paused = false;
    if (!resumed_once) {
        resumed_once = true;
        trace("echo", "write-cb", "output_empty=%s output_at_most_write_low=%s",
              output == 0 ? "yes" : "no", output <= OUTPUT_LOW ? "yes" : "no");
        trace("echo", "enabled", "what=READ enabled=%s", enabled_of(bev, enabled, sizeof enabled));
    }
}
/* doc: end */

static void on_peer_read(struct bufferevent *bev, void *arg)
{
    struct evbuffer *input = EVBUFFER_INPUT(bev);
    (void)arg;
    received += EVBUFFER_LENGTH(input);
    if (evbuffer_drain(input, EVBUFFER_LENGTH(input)) != 0)
        die("evbuffer_drain");
    if (received == ECHO_BYTES) {
        trace("peer", "received", "bytes=%zu", received);
        set_reading(bev, false);
        set_reading(echo, false); /* nothing more will come */
    }
}

static void backpressure(void)
{
    struct pair p;
    const int buffer = SOCKET_BUFFER;
    static const char megabyte[ECHO_BYTES];
    trace_note("--- 4. backpressure");
    pair_open(&p, "echo", on_echo_read, on_echo_write);
    echo = p.bev;
    /* Small socket buffers: the echo's output piles up on any machine. */
    if (setsockopt(p.fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer) != 0 ||
        setsockopt(p.peer, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer) != 0)
        die_errno("setsockopt");
    /* doc: backpressure */
    /* The peer, a bufferevent too: it writes a megabyte, and reads nothing
       until the echo stops (a new bufferevent does not read). */
    peer = bufferevent_new(p.peer, on_peer_read, NULL, on_event, "peer");
    if (peer == NULL)
        die("bufferevent_new");
    if (bufferevent_write(peer, megabyte, sizeof megabyte) != 0)
        die("bufferevent_write");

    /* The write callback: once a write leaves OUTPUT_LOW bytes or less. */
    bufferevent_setwatermark(echo, EV_WRITE, OUTPUT_LOW, 0); /* returns nothing */
    trace_watermarks(echo, "echo");
    set_reading(echo, true);
    trace_note("the echo stops reading while its output holds more than %d bytes", OUTPUT_HIGH);
    trace("peer", "wrote", "output=%zu", output_length(peer));
    trace("loop", "dispatch", NULL);
    trace("loop", "returned", "result=%d", event_dispatch());
    trace("echo", "largest-read", "bytes=%zu", largest_read);
    trace("echo", "most-output", "over_high=%s by_at_most_one_read=%s",
          most_output > OUTPUT_HIGH ? "yes" : "no",
          most_output <= OUTPUT_HIGH + largest_read ? "yes" : "no");
    /* doc: end */
    bufferevent_free(peer);
    pair_close(&p);
}

int main(void)
{
    struct pair reader;
    base = event_init();
    if (base == NULL)
        die("event_init");
    pair_open(&reader, "reader", on_reader_read, NULL);
    reading(&reader);
    read_timeout(&reader);
    pair_close(&reader);
    backpressure();
    event_base_free(base);
    return 0;
}

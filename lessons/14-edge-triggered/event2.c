/*
 * Lesson 14, event2 style: level- and edge-triggered reads.
 *
 * What it shows: five rounds of one script on a pipe or a socket: write
 *   "abc", then "d", then hang up; after each, run the loop one pass at a
 *   time (EVLOOP_ONCE|EVLOOP_NONBLOCK) until a pass runs nothing.
 *   1. Level-triggered, one byte per callback: called on every pass while
 *      a byte is left, and at end of file on every pass until deleted.
 *   2. Level-triggered, reading until EAGAIN: one callback per arrival.
 *   3. EV_ET, one byte per callback: one callback per arrival, one byte
 *      each; the rest waits, and what is left at the end is never read.
 *   4. EV_ET, reading until EAGAIN, as EV_ET demands: every byte, and EOF.
 *   5. EV_CLOSED alone: no callback for data, one for the hang-up.
 *   1.x had neither EV_ET nor EV_CLOSED: rounds 3-5 print event2 lines.
 * Run it:   make lesson-14         (both styles side by side)
 *           build/bin/14-event2    (this program alone)
 * Look for: round 1, the callback on pass after pass; round 3, "nothing
 *   ran; 2 bytes unread"; round 5, the callback with 4 bytes unread.
 */
#include "event2.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static struct event_base *base;
static int calls; /* callbacks run so far: did a pass run any? */
static int eofs;  /* round 1: how often read() returned 0 */

/* Bytes waiting on fd, asked of the kernel (pipes and sockets alike). */
static int waiting(int fd)
{
    int n;
    if (ioctl(fd, FIONREAD, &n) != 0)
        die_errno("ioctl FIONREAD");
    return n;
}

static void send_text(int fd, const char *text)
{
    if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        die_errno("write");
}

/* fds[0] reads what fds[1] writes. Only fds[0] is watched, and it must
   not block: reading until EAGAIN needs that. */
static void open_pair(int fds[2], bool use_socket)
{
    if (use_socket ? socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0 : pipe(fds) != 0)
        die_errno(use_socket ? "socketpair" : "pipe");
    int flags = fcntl(fds[0], F_GETFL);
    if (flags < 0 || fcntl(fds[0], F_SETFL, flags | O_NONBLOCK) != 0)
        die_errno("fcntl O_NONBLOCK");
}

/* The writer hangs up: a socket shuts down its sending side, a pipe's
   writing end is closed. */
static const char *hang_up(int fds[2], bool use_socket)
{
    if (use_socket ? shutdown(fds[1], SHUT_WR) != 0 : close(fds[1]) != 0)
        die_errno(use_socket ? "shutdown" : "close");
    return use_socket ? "shutdown(SHUT_WR)" : "closed the pipe's writing end";
}

/* doc: drain */
/* Read fd until the kernel has nothing more for now: EAGAIN, or 0 (end of
   file: *eof). What was read goes to text (cut to size). */
static void read_until_eagain(int fd, char *text, size_t size, bool *eof)
{
    size_t used = 0;
    for (;;) {
        char chunk[16];
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n > 0) { /* keep what fits; a real reader would use it all */
            size_t keep = size - 1 - used < (size_t)n ? size - 1 - used : (size_t)n;
            memcpy(text + used, chunk, keep);
            used += keep;
        } else if (n == 0 || errno == EAGAIN) { /* end of file, or nothing more now */
            *eof = n == 0;
            break;
        } else if (errno != EINTR) {
            die_errno("read");
        }
    }
    text[used] = '\0';
}
/* doc: end */

/* doc: pass */
/* One pass of the loop: see what is ready now, run it, return. (Alone,
   EVLOOP_NONBLOCK goes on passing while callbacks run.) */
static bool one_pass(void)
{
    int before = calls;
    if (event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK) < 0)
        die("event_base_loop");
    return calls > before;
}
/* doc: end */

/* Rounds 3-5 are event2's alone: their lines are event2 lines. */
static bool event2_only;

static void say(const char *text)
{
    if (event2_only)
        trace_style("%s", text);
    else
        trace_note("%s", text);
}

/* Passes until one runs nothing (a round that needs ten is broken). */
static void passes(int fd)
{
    for (int i = 0; i < 10; i++) {
        if (!event2_only)
            trace("loop", "pass", NULL);
        if (!one_pass()) {
            if (event2_only)
                trace_style("pass: nothing ran; %d unread", waiting(fd));
            else
                trace_note("nothing ran");
            return;
        }
    }
    die("a round that does not settle");
}

/* doc: nibble */
/* Round 1: one byte per callback, whatever else is waiting. */
static void on_nibble(evutil_socket_t fd, short what, void *arg)
{
    struct event *self = arg;
    char byte;
    calls++;
    probe_callback(self, what);
    ssize_t n = read(fd, &byte, 1);
    if (n == 1) {
        trace_note("read \"%c\"; %d left", byte, waiting(fd));
    } else if (n == 0 && ++eofs == 1) {
        trace_note("read() returned 0: end of file; the event stays added");
    } else if (n == 0) {
        trace_note("read() returned 0 again; event_del()");
        if (event_del(self) != 0)
            die("event_del");
        probe_step(self, "deleted");
    } else {
        die_errno("read");
    }
    probe_after(self);
}
/* doc: end */

/* doc: level-drain */
/* Round 2: everything there is, then EAGAIN; at end of file, delete. */
static void on_drain(evutil_socket_t fd, short what, void *arg)
{
    struct event *self = arg;
    char text[64];
    bool eof;
    calls++;
    probe_callback(self, what);
    read_until_eagain(fd, text, sizeof text, &eof);
    trace_note("read \"%s\", then %s", text, eof ? "0: end of file; event_del()" : "EAGAIN");
    if (eof) {
        if (event_del(self) != 0)
            die("event_del");
        probe_step(self, "deleted");
    }
    probe_after(self);
}
/* doc: end */

/* doc: round */
/* One round: a reader on a new pipe or socket; write "abc", then "d",
   then hang up, each followed by passes until one runs nothing. */
static void round_of(const char *title, bool use_socket, short events,
                     event_callback_fn callback, const char *name)
{
    int fds[2];
    char flags[64];
    say(title);
    open_pair(fds, use_socket);
    struct event *reader = event_new(base, fds[0], events, callback, event_self_cbarg());
    if (reader == NULL)
        die("event_new");
    if (!event2_only)
        probe_watch(reader, name);
    if (event_add(reader, NULL) != 0)
        die("event_add");
    if (!event2_only)
        probe_added(reader, NULL);
    else
        trace_style("%s added, events=%s", name, trace_flags(events, flags, sizeof flags));
    /* doc: end */

    send_text(fds[1], "abc");
    say("wrote \"abc\"");
    passes(fds[0]);
    send_text(fds[1], "d");
    say("wrote \"d\"");
    passes(fds[0]);
    say(hang_up(fds, use_socket));
    passes(fds[0]);

    if (!event2_only)
        probe_free(reader);
    else
        trace_style("%s freed with %d unread", name, waiting(fds[0]));
    event_free(reader);
    close(fds[0]);
    if (use_socket)
        close(fds[1]);
}

/* --- Rounds 3-5: 1.x had no EV_ET and no EV_CLOSED ------------------------ */

/* doc: edge */
/* Round 3: one byte per callback, under EV_ET. One event2 line a call. */
static void on_edge_nibble(evutil_socket_t fd, short what, void *arg)
{
    char byte, flags[64];
    (void)arg;
    calls++;
    trace_flags(what, flags, sizeof flags);
    ssize_t n = read(fd, &byte, 1);
    if (n < 0)
        die_errno("read");
    else if (n == 0) /* not in this round: it never reads that far */
        trace_style("nibbler what=%s: end of file", flags);
    else
        trace_style("nibbler what=%s read \"%c\"; %d left", flags, byte, waiting(fd));
}

/* Round 4: until EAGAIN, as EV_ET demands. */
static void on_edge_drain(evutil_socket_t fd, short what, void *arg)
{
    struct event *self = arg;
    char flags[64], text[64];
    bool eof;
    calls++;
    read_until_eagain(fd, text, sizeof text, &eof);
    trace_style("drainer what=%s read \"%s\", then %s", trace_flags(what, flags, sizeof flags),
                text, eof ? "0: end of file; event_del()" : "EAGAIN");
    if (eof && event_del(self) != 0)
        die("event_del");
}
/* doc: end */

/* doc: closed */
/* Round 5: EV_CLOSED without EV_READ: no callback for data, one for the
   peer's hang-up, however much it sent before. */
static void on_closed(evutil_socket_t fd, short what, void *arg)
{
    struct event *self = arg;
    char flags[64];
    calls++;
    trace_style("closer what=%s; %d bytes unread; event_del()",
                trace_flags(what, flags, sizeof flags), waiting(fd));
    if (event_del(self) != 0)
        die("event_del");
}
/* doc: end */

int main(void)
{
    base = event_base_new();
    if (base == NULL)
        die("event_base_new");
    trace_note("backend: %s", event_base_get_method(base));

    round_of("round 1: level-triggered, a pipe, one byte per callback", false,
             EV_READ | EV_PERSIST, on_nibble, "nibbler");
    round_of("round 2: level-triggered, a socket, read until EAGAIN", true,
             EV_READ | EV_PERSIST, on_drain, "drainer");

    /* doc: features */
    event2_only = true;
    int features = event_base_get_features(base);
    trace_style("EV_FEATURE_ET: %s, EV_FEATURE_EARLY_CLOSE: %s",
                features & EV_FEATURE_ET ? "yes" : "no",
                features & EV_FEATURE_EARLY_CLOSE ? "yes" : "no");
    round_of("round 3: EV_ET, a pipe, one byte per callback", false,
             EV_READ | EV_PERSIST | EV_ET, on_edge_nibble, "nibbler");
    round_of("round 4: EV_ET, a socket, read until EAGAIN", true,
             EV_READ | EV_PERSIST | EV_ET, on_edge_drain, "drainer");
    round_of("round 5: EV_CLOSED alone, a socket", true, EV_CLOSED | EV_PERSIST, on_closed,
             "closer");
    /* doc: end */

    event_base_free(base);
    return 0;
}

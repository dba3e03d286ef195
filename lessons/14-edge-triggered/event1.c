/*
 * Lesson 14, event1 style: level-triggered reads, as 1.x had them.
 *
 * What it shows: one script on a pipe, then on a socket: write "abc",
 *   then "d", then hang up; after each, run the loop one pass at a time
 *   (EVLOOP_ONCE|EVLOOP_NONBLOCK) until a pass runs nothing.
 *   1. One byte per callback: called on every pass while a byte is left,
 *      and at end of file on every pass until the event is deleted.
 *   2. Reading until EAGAIN: one callback per arrival.
 *   1.x had only level-triggered events: no EV_ET, no EV_CLOSED. The
 *   event2 variant adds three rounds with them.
 * Run it:   make lesson-14         (both styles side by side)
 *           build/bin/14-event1    (this program alone)
 * Look for: round 1, the callback on pass after pass, and twice at end of
 *   file; round 2, one callback for "abc".
 */
#include "event1.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

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
    if (event_loop(EVLOOP_ONCE | EVLOOP_NONBLOCK) < 0)
        die("event_loop");
    return calls > before;
}
/* doc: end */

/* Passes until one runs nothing (a round that needs ten is broken). */
static void passes(void)
{
    for (int i = 0; i < 10; i++) {
        trace("loop", "pass", NULL);
        if (!one_pass()) {
            trace_note("nothing ran");
            return;
        }
    }
    die("a round that does not settle");
}

/* doc: nibble */
/* Round 1: one byte per callback, whatever else is waiting. */
static void on_nibble(int fd, short what, void *arg)
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
static void on_drain(int fd, short what, void *arg)
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
                     void (*callback)(int, short, void *), const char *name)
{
    static struct event reader_ev; /* ours; set up again each round */
    struct event *reader = &reader_ev;
    int fds[2];
    trace_note("%s", title);
    open_pair(fds, use_socket);
    event_set(reader, fds[0], events, callback, reader);
    probe_watch(reader, name);
    if (event_add(reader, NULL) != 0)
        die("event_add");
    probe_added(reader, NULL);
    /* doc: end */

    send_text(fds[1], "abc");
    trace_note("wrote \"abc\"");
    passes();
    send_text(fds[1], "d");
    trace_note("wrote \"d\"");
    passes();
    trace_note("%s", hang_up(fds, use_socket));
    passes();

    probe_free(reader); /* deleted by its callback; nothing to free */
    close(fds[0]);
    if (use_socket)
        close(fds[1]);
}

int main(void)
{
    struct event_base *base = event_init();
    if (base == NULL)
        die("event_init");
    trace_note("backend: %s", event_get_method());

    round_of("round 1: level-triggered, a pipe, one byte per callback", false,
             EV_READ | EV_PERSIST, on_nibble, "nibbler");
    round_of("round 2: level-triggered, a socket, read until EAGAIN", true,
             EV_READ | EV_PERSIST, on_drain, "drainer");

    /* doc: features */
    trace_style("1.x has no EV_ET: every event is level-triggered, as in rounds 1-2");
    trace_style("1.x has no EV_CLOSED: a hang-up shows when read() returns 0");
    /* doc: end */

    event_base_free(base);
    return 0;
}

/*
 * Lesson 20, event2 style, mistake 01, the bug: one read callback taken
 * for one message.
 *
 * What it shows: the peer sends two lines, "hello\n" and "world\n", in
 *   two writes cut in the wrong places: "hello\nwor", then "ld\n". The
 *   read callback takes whatever the input holds as one message. TCP and
 *   Unix sockets carry bytes, not messages: a read callback gets what has
 *   arrived, a message and a half, or half of one.
 * Run it:   make lesson-20     (every mistake: the bug, then the fix)
 *           build/bin/20-event2-01-partial-read-bug
 * Look for: "message 1 is "hello\nwor"": two messages' bytes taken as
 *   one, then "message 2 is "ld\n"", the tail of the second.
 */
#include "event2.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int peer = -1;  /* the socketpair's other end, written by hand */
static int messages;

/* "hello\nwor" -> hello\nwor: a newline shown as \n. */
static const char *shown(const char *data, size_t n, char *buf, size_t size)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 3 < size; i++) {
        if (data[i] == '\n') {
            buf[k++] = '\\';
            buf[k++] = 'n';
        } else {
            buf[k++] = data[i];
        }
    }
    buf[k] = '\0';
    return buf;
}

static void peer_sends(const char *data)
{
    char text[64];
    if (write(peer, data, strlen(data)) != (ssize_t)strlen(data))
        die_errno("write");
    trace("peer", "sent", "data=%s", shown(data, strlen(data), text, sizeof text));
}

static void loop_once(struct event_base *base)
{
    trace("loop", "once", NULL);
    int result = event_base_loop(base, EVLOOP_ONCE);
    trace("loop", "returned", "result=%d", result);
}

/* doc: bug */
/* The mistake: whatever the input holds is taken as one message. */
static void on_read(struct bufferevent *bev, void *arg)
{
    char data[64], text[64];
    (void)arg;
    trace("bev", "read-cb", "input=%zu", evbuffer_get_length(bufferevent_get_input(bev)));
    size_t n = bufferevent_read(bev, data, sizeof data);
    trace_note("message %d is \"%s\"", ++messages, shown(data, n, text, sizeof text));
}
/* doc: end */

int main(int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: %s (no arguments)\n", argv[0]);
        return 2;
    }
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        die_errno("socketpair");
    if (evutil_make_socket_nonblocking(fds[0]) != 0)
        die("evutil_make_socket_nonblocking");
    peer = fds[1];
    struct event_base *base = event_base_new();
    if (base == NULL)
        die("event_base_new");
    struct bufferevent *bev = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL)
        die("bufferevent_socket_new");
    bufferevent_setcb(bev, on_read, NULL, NULL, NULL);
    if (bufferevent_enable(bev, EV_READ) != 0)
        die("bufferevent_enable");

    /* One loop pass per write, so each write is one read callback. */
    peer_sends("hello\nwor");
    loop_once(base);
    peer_sends("ld\n");
    loop_once(base);
    trace_note("the lines sent: \"hello\" and \"world\"");

    bufferevent_free(bev);
    event_base_free(base);
    close(peer);
    return 0;
}

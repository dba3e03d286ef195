/*
 * Lesson 13, event2 style: evbuffer.
 *
 * What it shows: an evbuffer is a queue of bytes kept in chunks.
 *   1. evbuffer_add_printf(), evbuffer_add_buffer() (which moves bytes
 *      from one buffer to another), evbuffer_get_length(), and
 *      evbuffer_pullup(buf, -1), which copies the chunks into one so the
 *      bytes can be read through a single pointer.
 *   2. evbuffer_readln() and its end-of-line styles on one input, and what
 *      EVBUFFER_EOL_ANY does to a CR LF that arrives in two pieces.
 *   3. evbuffer_add_cb(): a callback that runs on every change to a buffer.
 *   4. evbuffer_add_cb() on a bufferevent's output buffer: the bufferevent
 *      keeps its own callback, so what bufferevent_write() puts there is
 *      sent. (The event1 variant's evbuffer_setcb() removes it.)
 * Run it:   make lesson-13          (both styles side by side)
 *           build/bin/13-event2     (this program alone)
 * Look for: the blank line that ANY does not return; the lone CR that only
 *   ANY takes as a line end; "peer read 4 bytes" at the end, where event1
 *   reads 0.
 */
#include "event2.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char request[] = "GET / HTTP/1.0\r\nHost: x\r\n\r\nsay\rhi\n";

/* s as a C string literal, CR and LF written as \r and \n. */
static const char *quoted(const char *s, char *out, size_t size)
{
    size_t used = 0;
    out[used++] = '"';
    for (; *s != '\0' && used + 4 < size; s++) {
        if (*s == '\r' || *s == '\n') {
            out[used++] = '\\';
            out[used++] = *s == '\r' ? 'r' : 'n';
        } else {
            out[used++] = *s;
        }
    }
    out[used++] = '"';
    out[used] = '\0';
    return out;
}

static struct evbuffer *new_buffer(void)
{
    struct evbuffer *buf = evbuffer_new();
    if (buf == NULL)
        die("evbuffer_new");
    return buf;
}

static void add(struct evbuffer *buf, const char *text)
{
    if (evbuffer_add(buf, text, strlen(text)) != 0)
        die("evbuffer_add");
}

/* Print one line, free it; NULL means "no complete line": say what is left. */
static void show_line(const char *style, char *line, struct evbuffer *buf)
{
    char text[128];
    if (line != NULL)
        trace_note("%s: %s", style, quoted(line, text, sizeof text));
    else
        trace_note("%s: no line; %zu bytes left", style, evbuffer_get_length(buf));
    free(line);
}

static void data_and_length(void)
{
    trace_note("1. data and length");
    /* doc: pieces */
    struct evbuffer *buf = new_buffer(), *more = new_buffer();
    add(buf, "hello ");
    int added = evbuffer_add_printf(more, "world %d", 42);
    if (added < 0)
        die("evbuffer_add_printf");
    trace("more", "printf", "bytes=%d", added);
    if (evbuffer_add_buffer(buf, more) != 0) /* moves the bytes */
        die("evbuffer_add_buffer");
    trace("buf", "length", "bytes=%zu", evbuffer_get_length(buf));
    trace("more", "length", "bytes=%zu", evbuffer_get_length(more));
    /* doc: end */

    /* doc: data */
    trace_style("%zu of the bytes are contiguous", evbuffer_get_contiguous_space(buf));
    /* One pointer to all the bytes: evbuffer_pullup(buf, -1) copies
       the chunks into one. No NUL is added, so print with the length. */
    size_t length = evbuffer_get_length(buf);
    unsigned char *data = evbuffer_pullup(buf, -1);
    if (data == NULL)
        die("evbuffer_pullup");
    trace_note("data: \"%.*s\"", (int)length, (const char *)data);
    trace_style("%zu of the bytes are contiguous", evbuffer_get_contiguous_space(buf));
    /* doc: end */
    evbuffer_free(buf);
    evbuffer_free(more);
}

static void lines(void)
{
    char text[128];
    char *line;
    trace_note("2. lines from %s", quoted(request, text, sizeof text));

    /* doc: readline */
    struct evbuffer *buf = new_buffer();
    add(buf, request);
    while ((line = evbuffer_readln(buf, NULL, EVBUFFER_EOL_ANY)) != NULL)
        show_line("ANY", line, buf);
    show_line("ANY", NULL, buf);
    evbuffer_free(buf);
    /* doc: end */

    /* doc: readln */
    static const struct {
        const char *name;
        enum evbuffer_eol_style style;
    } styles[] = {
        { "CRLF", EVBUFFER_EOL_CRLF },
        { "CRLF_STRICT", EVBUFFER_EOL_CRLF_STRICT },
        { "LF", EVBUFFER_EOL_LF },
    };
    for (size_t i = 0; i < sizeof styles / sizeof styles[0]; i++) {
        buf = new_buffer();
        add(buf, request);
        while ((line = evbuffer_readln(buf, NULL, styles[i].style)) != NULL)
            show_line(styles[i].name, line, buf);
        show_line(styles[i].name, NULL, buf);
        evbuffer_free(buf);
    }
    /* doc: end */

    /* doc: split */
    /* A line "one\r\n" that arrives in two reads, cut between CR and LF. */
    trace_note("\"one\\r\" arrives, then \"\\ntwo\\n\"");
    buf = new_buffer();
    add(buf, "one\r");
    show_line("ANY", evbuffer_readln(buf, NULL, EVBUFFER_EOL_ANY), buf);
    add(buf, "\ntwo\n");
    show_line("ANY", evbuffer_readln(buf, NULL, EVBUFFER_EOL_ANY), buf);
    show_line("ANY", evbuffer_readln(buf, NULL, EVBUFFER_EOL_ANY), buf);
    evbuffer_free(buf);

    buf = new_buffer();
    add(buf, "one\r");
    show_line("CRLF", evbuffer_readln(buf, NULL, EVBUFFER_EOL_CRLF), buf);
    add(buf, "\ntwo\n");
    show_line("CRLF", evbuffer_readln(buf, NULL, EVBUFFER_EOL_CRLF), buf);
    show_line("CRLF", evbuffer_readln(buf, NULL, EVBUFFER_EOL_CRLF), buf);
    evbuffer_free(buf);
    /* doc: end */
}

/* doc: callback */
static void on_change(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    (void)buf;
    const char *name = arg;
    trace(name, "changed", "from=%zu to=%zu", info->orig_size,
          info->orig_size + info->n_added - info->n_deleted);
}
/* doc: end */

static void callbacks(void)
{
    trace_note("3. a callback on a buffer");
    /* doc: watch */
    struct evbuffer *buf = new_buffer();
    struct evbuffer_cb_entry *entry = evbuffer_add_cb(buf, on_change, "buf");
    if (entry == NULL)
        die("evbuffer_add_cb");
    add(buf, "hello");
    if (evbuffer_drain(buf, 2) != 0)
        die("evbuffer_drain");
    if (evbuffer_remove_cb_entry(buf, entry) != 0) /* only this callback */
        die("evbuffer_remove_cb_entry");
    add(buf, "!"); /* no callback any more */
    trace("buf", "length", "bytes=%zu", evbuffer_get_length(buf));
    /* doc: end */
    evbuffer_free(buf);
}

static void on_output_change(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    (void)buf;
    (void)arg;
    trace_style("output changed from=%zu to=%zu", info->orig_size,
                info->orig_size + info->n_added - info->n_deleted);
}

static void bufferevent_output(void)
{
    trace_note("4. a callback on a bufferevent's output buffer");
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        die_errno("socketpair");
    struct event_base *base = event_base_new();
    if (base == NULL)
        die("event_base_new");
    struct bufferevent *bev = bufferevent_socket_new(base, fds[0], 0);
    if (bev == NULL)
        die("bufferevent_socket_new");

    /* doc: output */
    /* One more callback: the bufferevent's own stays, and it is what
       schedules the write when data arrives in the output buffer. */
    if (evbuffer_add_cb(bufferevent_get_output(bev), on_output_change, NULL) == NULL)
        die("evbuffer_add_cb");
    if (bufferevent_write(bev, "ping", 4) != 0)
        die("bufferevent_write");
    trace("bev", "write", "bytes=4");

    trace("loop", "dispatch", NULL);
    int result = event_base_dispatch(base);
    trace("loop", "returned", "result=%d", result);

    char received[16];
    ssize_t n = recv(fds[1], received, sizeof received, MSG_DONTWAIT);
    if (n < 0 && errno != EAGAIN)
        die_errno("recv");
    trace_style("peer read %zd bytes; %zu left in the output buffer", n < 0 ? 0 : n,
                evbuffer_get_length(bufferevent_get_output(bev)));
    /* doc: end */

    bufferevent_free(bev);
    event_base_free(base);
    close(fds[0]);
    close(fds[1]);
}

int main(void)
{
    data_and_length();
    lines();
    callbacks();
    bufferevent_output();
    return 0;
}

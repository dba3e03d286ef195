/*
 * evbuffers.c - the evbuffers suite: what lesson 13 says about evbuffers,
 * against the real libevent (2.1.12 on Debian 12): EVBUFFER_DATA and
 * EVBUFFER_LENGTH, the end-of-line styles of evbuffer_readln() and
 * evbuffer_readline(), and evbuffer callbacks, on their own and on a
 * bufferevent's output buffer. Lessons cite these tests as
 * `evbuffers/<test name>`.
 */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include "suites.h"
#include "util.h"

#include <event.h> /* the 1.x calls and macros are checked too */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static struct evbuffer *buffer_with(const char *text)
{
    struct evbuffer *buf = evbuffer_new();
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(evbuffer_add(buf, text, strlen(text)), 0);
    return buf;
}

/* --- Data and length --------------------------------------------------------- */

/* "hello " in one buffer, "world 42" moved in from another: two chunks. */
static struct evbuffer *two_chunks(void)
{
    struct evbuffer *buf = buffer_with("hello ");
    struct evbuffer *more = evbuffer_new();
    ck_assert_ptr_nonnull(more);
    ck_assert_int_eq(evbuffer_add_printf(more, "world %d", 42), 8);
    ck_assert_int_eq(evbuffer_add_buffer(buf, more), 0);
    ck_assert_uint_eq(evbuffer_get_length(more), 0);
    evbuffer_free(more);
    return buf;
}

/* evbuffer_add_printf() returns the bytes it added, no NUL among them. */
START_TEST(add_printf_returns_the_bytes_added)
{
    struct evbuffer *buf = evbuffer_new();
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(evbuffer_add_printf(buf, "world %d", 42), 8);
    ck_assert_uint_eq(evbuffer_get_length(buf), 8);
    evbuffer_free(buf);
}
END_TEST

/* evbuffer_add_buffer() moves the bytes: the source is left empty. */
START_TEST(add_buffer_moves_the_bytes)
{
    struct evbuffer *buf = two_chunks(); /* asserts the source is empty */
    ck_assert_uint_eq(evbuffer_get_length(buf), 14);
    evbuffer_free(buf);
}
END_TEST

/* EVBUFFER_DATA(b) is evbuffer_pullup(b, -1) on 2.1: it copies the chunks
   into one, so the whole buffer is contiguous afterwards; EVBUFFER_LENGTH(b)
   is evbuffer_get_length(b). */
START_TEST(evbuffer_data_makes_the_whole_buffer_contiguous)
{
    struct evbuffer *buf = two_chunks();
    ck_assert_uint_eq(EVBUFFER_LENGTH(buf), evbuffer_get_length(buf));
    ck_assert_uint_eq(evbuffer_get_contiguous_space(buf), 6);
    unsigned char *data = EVBUFFER_DATA(buf);
    ck_assert_ptr_nonnull(data);
    ck_assert_uint_eq(evbuffer_get_contiguous_space(buf), 14);
    ck_assert_int_eq(memcmp(data, "hello world 42", 14), 0);
    ck_assert_ptr_eq(evbuffer_pullup(buf, -1), data); /* nothing left to copy */
    evbuffer_free(buf);
}
END_TEST

/* evbuffer_pullup(b, n) copies only as much as the first n bytes need. */
START_TEST(pullup_n_makes_only_the_first_n_contiguous)
{
    struct evbuffer *buf = two_chunks();
    unsigned char *data = evbuffer_pullup(buf, 8);
    ck_assert_ptr_nonnull(data);
    ck_assert_int_eq(memcmp(data, "hello wo", 8), 0);
    ck_assert_uint_eq(evbuffer_get_contiguous_space(buf), 8);
    ck_assert_ptr_null(evbuffer_pullup(buf, 15)); /* more than there is */
    evbuffer_free(buf);
}
END_TEST

/* --- Lines ------------------------------------------------------------------- */

static const char request[] = "GET / HTTP/1.0\r\nHost: x\r\n\r\nsay\rhi\n";

/* Every line evbuffer_readln(style) returns from text (style -1:
   evbuffer_readline()), each in [], then the number of bytes left. */
static const char *lines_of(const char *text, int style)
{
    static char out[256];
    struct evbuffer *buf = buffer_with(text);
    char *line;
    out[0] = '\0';
    while ((line = style < 0 ? evbuffer_readline(buf)
                             : evbuffer_readln(buf, NULL, (enum evbuffer_eol_style)style)) != NULL) {
        size_t used = strlen(out);
        snprintf(out + used, sizeof out - used, "[%s]", line);
        free(line);
    }
    size_t used = strlen(out);
    snprintf(out + used, sizeof out - used, " left=%zu", evbuffer_get_length(buf));
    evbuffer_free(buf);
    return out;
}

START_TEST(readline_is_readln_with_eol_any)
{
    const char *inputs[] = { request, "a\n\n\nb\r\r\nc", "\r\n\r\nx\n", "no end" };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        char any[256];
        snprintf(any, sizeof any, "%s", lines_of(inputs[i], EVBUFFER_EOL_ANY));
        ck_assert_str_eq(lines_of(inputs[i], -1), any);
    }
}
END_TEST

/* ANY: any run of CR and LF characters is one line end, so a blank line
   disappears and a lone CR ends a line. */
START_TEST(eol_any_takes_any_run_of_cr_and_lf_as_one_line_end)
{
    ck_assert_str_eq(lines_of(request, EVBUFFER_EOL_ANY), "[GET / HTTP/1.0][Host: x][say][hi] left=0");
    ck_assert_str_eq(lines_of("a\n\n\r\n\rb\n", EVBUFFER_EOL_ANY), "[a][b] left=0");
}
END_TEST

/* CRLF: an LF, with or without a CR before it; blank lines are kept and a
   lone CR is part of the line. */
START_TEST(eol_crlf_ends_at_lf_with_or_without_cr)
{
    ck_assert_str_eq(lines_of(request, EVBUFFER_EOL_CRLF),
                     "[GET / HTTP/1.0][Host: x][][say\rhi] left=0");
}
END_TEST

/* CRLF_STRICT: only CR LF; what follows the last one stays in the buffer. */
START_TEST(eol_crlf_strict_needs_cr_before_lf)
{
    ck_assert_str_eq(lines_of(request, EVBUFFER_EOL_CRLF_STRICT),
                     "[GET / HTTP/1.0][Host: x][] left=7");
}
END_TEST

/* LF: only LF; a CR before it stays in the line. */
START_TEST(eol_lf_keeps_the_cr_in_the_line)
{
    ck_assert_str_eq(lines_of(request, EVBUFFER_EOL_LF),
                     "[GET / HTTP/1.0\r][Host: x\r][\r][say\rhi] left=0");
}
END_TEST

/* NUL (2.1 only): a zero byte ends a line. */
START_TEST(eol_nul_ends_lines_at_zero_bytes)
{
    struct evbuffer *buf = evbuffer_new();
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(evbuffer_add(buf, "a\nb\0c\0d", 7), 0);
    size_t n;
    char *line = evbuffer_readln(buf, &n, EVBUFFER_EOL_NUL);
    ck_assert_str_eq(line, "a\nb");
    ck_assert_uint_eq(n, 3);
    free(line);
    line = evbuffer_readln(buf, &n, EVBUFFER_EOL_NUL);
    ck_assert_str_eq(line, "c");
    free(line);
    ck_assert_ptr_null(evbuffer_readln(buf, &n, EVBUFFER_EOL_NUL));
    ck_assert_uint_eq(evbuffer_get_length(buf), 1);
    evbuffer_free(buf);
}
END_TEST

/* No complete line yet: NULL, and nothing is taken from the buffer. The
   doc of evbuffer_readline() says NULL means "an error occurred". */
START_TEST(readln_returns_null_until_a_line_is_complete)
{
    struct evbuffer *buf = buffer_with("partial");
    size_t n = 99;
    ck_assert_ptr_null(evbuffer_readln(buf, &n, EVBUFFER_EOL_CRLF));
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(evbuffer_readline(buf));
    ck_assert_uint_eq(evbuffer_get_length(buf), 7);
    ck_assert_int_eq(evbuffer_add(buf, "\r\n", 2), 0);
    char *line = evbuffer_readln(buf, &n, EVBUFFER_EOL_CRLF);
    ck_assert_str_eq(line, "partial");
    ck_assert_uint_eq(n, 7);
    free(line);
    evbuffer_free(buf);
}
END_TEST

/* A CR LF cut in two between reads: ANY ends the line at the CR and then
   takes the LF for the end of an empty line. CRLF waits for the LF. */
START_TEST(eol_any_turns_a_split_crlf_into_an_empty_line)
{
    const enum evbuffer_eol_style styles[] = { EVBUFFER_EOL_ANY, EVBUFFER_EOL_CRLF };
    const char *expected[] = { "[one][][two]", "-[one][two]" }; /* -: no line (NULL) */
    for (size_t i = 0; i < 2; i++) {
        struct evbuffer *buf = buffer_with("one\r");
        char got[64] = "";
        for (int step = 0; step < 3; step++) {
            if (step == 1)
                ck_assert_int_eq(evbuffer_add(buf, "\ntwo\n", 5), 0);
            char *line = evbuffer_readln(buf, NULL, styles[i]);
            size_t used = strlen(got);
            if (line != NULL)
                snprintf(got + used, sizeof got - used, "[%s]", line);
            else
                snprintf(got + used, sizeof got - used, "-");
            free(line);
        }
        ck_assert_str_eq(got, expected[i]);
        ck_assert_uint_eq(evbuffer_get_length(buf), 0);
        evbuffer_free(buf);
    }
}
END_TEST

/* --- Callbacks ----------------------------------------------------------------- */

static char calls[256];

static void note_call(const char *text)
{
    size_t used = strlen(calls);
    snprintf(calls + used, sizeof calls - used, "%s%s", used ? " " : "", text);
}

static void on_change_1x(struct evbuffer *buf, size_t old_length, size_t new_length, void *arg)
{
    (void)buf;
    char text[64];
    snprintf(text, sizeof text, "%s:%zu->%zu", (const char *)arg, old_length, new_length);
    note_call(text);
}

static void on_change_2x(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    (void)buf;
    char text[64];
    snprintf(text, sizeof text, "%s:%zu+%zu-%zu", (const char *)arg, info->orig_size,
             info->n_added, info->n_deleted);
    note_call(text);
}

/* Callbacks run on each change, with the length before and after (1.x) or
   the length before and what was added and removed (2.x). */
START_TEST(callbacks_run_on_every_change)
{
    calls[0] = '\0';
    struct evbuffer *buf = evbuffer_new();
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(evbuffer_setcb(buf, on_change_1x, "old"), 0);
    ck_assert_int_eq(evbuffer_add(buf, "hello", 5), 0);
    ck_assert_int_eq(evbuffer_drain(buf, 2), 0);
    ck_assert_str_eq(calls, "old:0->5 old:5->3");

    calls[0] = '\0';
    ck_assert_int_eq(evbuffer_setcb(buf, NULL, NULL), 0);
    struct evbuffer_cb_entry *entry = evbuffer_add_cb(buf, on_change_2x, "new");
    ck_assert_ptr_nonnull(entry);
    ck_assert_int_eq(evbuffer_add(buf, "!!", 2), 0);
    ck_assert_int_eq(evbuffer_drain(buf, 1), 0);
    ck_assert_int_eq(evbuffer_remove_cb_entry(buf, entry), 0);
    ck_assert_int_eq(evbuffer_add(buf, "?", 1), 0);
    ck_assert_str_eq(calls, "new:3+2-0 new:5+0-1");
    evbuffer_free(buf);
}
END_TEST

/* evbuffer_setcb() removes every callback on the buffer, those added with
   evbuffer_add_cb() too; evbuffer_add_cb() adds one more. */
START_TEST(setcb_replaces_every_callback)
{
    calls[0] = '\0';
    struct evbuffer *buf = evbuffer_new();
    ck_assert_ptr_nonnull(buf);
    ck_assert_ptr_nonnull(evbuffer_add_cb(buf, on_change_2x, "a"));
    ck_assert_ptr_nonnull(evbuffer_add_cb(buf, on_change_2x, "b"));
    ck_assert_int_eq(evbuffer_add(buf, "x", 1), 0);
    ck_assert(strstr(calls, "a:0+1-0") != NULL && strstr(calls, "b:0+1-0") != NULL);

    calls[0] = '\0';
    ck_assert_int_eq(evbuffer_setcb(buf, on_change_1x, "first"), 0);
    ck_assert_int_eq(evbuffer_setcb(buf, on_change_1x, "second"), 0);
    ck_assert_int_eq(evbuffer_add(buf, "y", 1), 0);
    ck_assert_str_eq(calls, "second:1->2");
    evbuffer_free(buf);
}
END_TEST

/* A bufferevent on one end of a socketpair writes "ping" after something
   was done to its output buffer; returns what the other end then reads. */
static ssize_t peer_reads_after(void (*tamper)(struct evbuffer *output))
{
    int fds[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    struct bufferevent *bev = bufferevent_socket_new(base, fds[0], 0);
    ck_assert_ptr_nonnull(bev);
    ck_assert_int_eq(bufferevent_get_enabled(bev), EV_WRITE); /* writing is on */
    tamper(bufferevent_get_output(bev));
    ck_assert_int_eq(bufferevent_write(bev, "ping", 4), 0);
    ck_assert_int_eq(event_base_dispatch(base), 1); /* until nothing is left */
    char received[16];
    ssize_t n = recv(fds[1], received, sizeof received, MSG_DONTWAIT);
    if (n < 0) {
        ck_assert_int_eq(errno, EAGAIN);
        n = 0;
        ck_assert_uint_eq(evbuffer_get_length(bufferevent_get_output(bev)), 4);
    }
    bufferevent_free(bev);
    event_base_free(base);
    close(fds[0]);
    close(fds[1]);
    return n;
}

static void nothing(struct evbuffer *output)
{
    (void)output;
}

static void set_callback(struct evbuffer *output)
{
    ck_assert_int_eq(evbuffer_setcb(output, on_change_1x, "mine"), 0);
}

static void clear_callbacks(struct evbuffer *output)
{
    ck_assert_int_eq(evbuffer_setcb(output, NULL, NULL), 0);
}

static void add_callback(struct evbuffer *output)
{
    ck_assert_ptr_nonnull(evbuffer_add_cb(output, on_change_2x, "mine"));
}

/* The bufferevent's own callback on its output buffer is what schedules the
   write: evbuffer_setcb() removes it, and bufferevent_write() then only
   fills the buffer. Nothing reports an error. */
START_TEST(setcb_on_output_stops_bufferevent_write_from_sending)
{
    ck_assert_int_eq(peer_reads_after(nothing), 4);
    calls[0] = '\0';
    ck_assert_int_eq(peer_reads_after(set_callback), 0);
    ck_assert_str_eq(calls, "mine:0->4"); /* ours ran; nothing drained it */
}
END_TEST

/* Even evbuffer_setcb(output, NULL, NULL), "remove my callback", does it. */
START_TEST(setcb_null_also_removes_the_bufferevents_callback)
{
    ck_assert_int_eq(peer_reads_after(clear_callbacks), 0);
}
END_TEST

START_TEST(add_cb_on_output_leaves_the_bufferevent_working)
{
    calls[0] = '\0';
    ck_assert_int_eq(peer_reads_after(add_callback), 4);
    ck_assert_str_eq(calls, "mine:0+4-0 mine:4+0-4");
}
END_TEST

/* evbuffer_add_cb()'s doc says cb may be "NULL to remove all callbacks"
   (copied from evbuffer_setcb()). It removes nothing: it adds an entry
   whose function is NULL, and the next change to the buffer calls it. */
START_TEST(add_cb_with_null_removes_nothing_and_crashes_later)
{
    calls[0] = '\0';
    struct evbuffer *buf = evbuffer_new();
    ck_assert_ptr_nonnull(buf);
    ck_assert_ptr_nonnull(evbuffer_add_cb(buf, on_change_2x, "kept"));
    struct evbuffer_cb_entry *null_entry = evbuffer_add_cb(buf, NULL, NULL);
    ck_assert_ptr_nonnull(null_entry); /* "succeeds" */
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY); /* a sanitizer's report */
        if (devnull >= 0)
            dup2(devnull, STDERR_FILENO);
        const struct rlimit no_core = { 0, 0 }; /* an expected crash: no core file */
        setrlimit(RLIMIT_CORE, &no_core);
        evbuffer_add(buf, "x", 1);
        _exit(0); /* not reached */
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(!(WIFEXITED(status) && WEXITSTATUS(status) == 0),
                  "adding to the buffer survived the NULL callback");
    /* Without the NULL entry, the first callback is still there. */
    ck_assert_int_eq(evbuffer_remove_cb_entry(buf, null_entry), 0);
    ck_assert_int_eq(evbuffer_add(buf, "x", 1), 0);
    ck_assert_str_eq(calls, "kept:0+1-0");
    evbuffer_free(buf);
}
END_TEST

/* buffer_compat.h tells users of evbuffer_setcb() to use "evbuffer_add(),
   evbuffer_del(), and evbuffer_setflags()" instead. evbuffer_add() adds
   data; the other two do not exist. The functions meant are
   evbuffer_add_cb(), evbuffer_remove_cb() and evbuffer_cb_set_flags(),
   which manage one's own callback without touching anyone else's. */
START_TEST(buffer_compat_points_to_the_wrong_replacements)
{
    const char *argv[] = { "pkg-config", "--variable=includedir", "libevent", NULL };
    struct run_result r;
    run_program(argv, NULL, 10000, &r);
    ck_assert_int_eq(r.status, 0);
    r.out[strcspn(r.out, "\n")] = '\0';
    char path[512];
    snprintf(path, sizeof path, "%s/event2/buffer_compat.h", r.out);
    run_result_free(&r);
    char *header = read_file(path);
    ck_assert_msg(header != NULL, "cannot read %s", path);
    /* The comment is wrapped: compare with every run of spaces made one. */
    size_t to = 0;
    for (size_t from = 0; header[from] != '\0'; from++) {
        bool space = header[from] == ' ' || header[from] == '\n' || header[from] == '\t';
        if (!(space && to > 0 && header[to - 1] == ' '))
            header[to++] = space ? ' ' : header[from];
    }
    header[to] = '\0';
    ck_assert_msg(strstr(header, "Instead, use evbuffer_add(), evbuffer_del(), and "
                                 "evbuffer_setflags() to manage your own evbuffer callbacks") != NULL,
                  "%s no longer names evbuffer_add/evbuffer_del/evbuffer_setflags", path);
    free(header);

    ck_assert_ptr_null(dlsym(RTLD_DEFAULT, "evbuffer_del"));
    ck_assert_ptr_null(dlsym(RTLD_DEFAULT, "evbuffer_setflags"));
    ck_assert_ptr_nonnull(dlsym(RTLD_DEFAULT, "evbuffer_add_cb"));
    ck_assert_ptr_nonnull(dlsym(RTLD_DEFAULT, "evbuffer_remove_cb"));
    ck_assert_ptr_nonnull(dlsym(RTLD_DEFAULT, "evbuffer_cb_set_flags"));

    /* The real replacements leave other callbacks alone. */
    calls[0] = '\0';
    struct evbuffer *buf = evbuffer_new();
    ck_assert_ptr_nonnull(buf);
    ck_assert_ptr_nonnull(evbuffer_add_cb(buf, on_change_2x, "theirs"));
    ck_assert_ptr_nonnull(evbuffer_add_cb(buf, on_change_2x, "mine"));
    ck_assert_int_eq(evbuffer_remove_cb(buf, on_change_2x, "mine"), 0);
    ck_assert_int_eq(evbuffer_add(buf, "x", 1), 0);
    ck_assert_str_eq(calls, "theirs:0+1-0");
    evbuffer_free(buf);
}
END_TEST

Suite *evbuffers_suite(void)
{
    Suite *s = suite_create("evbuffers");
    struct {
        const char *name;
        const TTest *tests[10];
    } cases[] = {
        { "data", { add_printf_returns_the_bytes_added, add_buffer_moves_the_bytes,
                    evbuffer_data_makes_the_whole_buffer_contiguous,
                    pullup_n_makes_only_the_first_n_contiguous } },
        { "lines", { readline_is_readln_with_eol_any,
                     eol_any_takes_any_run_of_cr_and_lf_as_one_line_end,
                     eol_crlf_ends_at_lf_with_or_without_cr, eol_crlf_strict_needs_cr_before_lf,
                     eol_lf_keeps_the_cr_in_the_line, eol_nul_ends_lines_at_zero_bytes,
                     readln_returns_null_until_a_line_is_complete,
                     eol_any_turns_a_split_crlf_into_an_empty_line } },
        { "callbacks", { callbacks_run_on_every_change, setcb_replaces_every_callback,
                         setcb_on_output_stops_bufferevent_write_from_sending,
                         setcb_null_also_removes_the_bufferevents_callback,
                         add_cb_on_output_leaves_the_bufferevent_working,
                         add_cb_with_null_removes_nothing_and_crashes_later,
                         buffer_compat_points_to_the_wrong_replacements } },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_set_timeout(tc, 10);
        for (size_t j = 0; j < 10 && cases[i].tests[j] != NULL; j++)
            tcase_add_test(tc, cases[i].tests[j]);
        suite_add_tcase(s, tc);
    }
    return s;
}

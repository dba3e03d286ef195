/*
 * http.c - the http suite: what lesson 18 (an HTTP server and client with
 * evhttp) claims, checked two ways:
 *   - libevent's own behaviour, in this process: an evhttp server and raw
 *     sockets (or a raw server and an evhttp client) on one base, the
 *     loop run in short slices until what the test waits for has come:
 *     when a handler runs, who owns a request and its buffers, replies
 *     sent later, what closes a connection, the limits and the timeout,
 *     what an evhttp client hears for chunks, a timeout and a refusal, and
 *     the 1.x calls that need event_init() first;
 *   - the lesson's servers as processes, against real clients: curl (a
 *     page, a binary echo, the chunked countdown, 404, 413, keep-alive,
 *     1000 requests 50 at a time), nc and socat (a garbage request line,
 *     headers without an end, clients that vanish or stall mid-body), then
 *     the descriptor count, SIGINT and SIGTERM, bad flags.
 * The lesson cites these tests as `http/<test name>`.
 *
 * Everything stays on 127.0.0.1. Orders come from libevent's own loop and
 * clock (a marker timer in the same base), or from one step waiting for
 * the one before it; "the server has read it" is the kernel's word
 * (/proc/net/tcp). Deadlines only bound how long a failure takes to show,
 * except where a timeout itself is the subject: then a lower bound says it
 * did not come early, and margins are several times the timeout.
 */
#define _GNU_SOURCE /* asprintf, strcasestr */
#include "network_proc.h"
#include "suites.h"
#include "util.h"

#include <event.h> /* event_init(), evhttp_connection_new(): the 1.x calls */
#include <evhttp.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { WAIT_MS = 10000, STOP_TIMEOUT_MS = 10000, RUN_TIMEOUT_MS = 60000 };

static const char *const servers[] = { "18-event1-server", "18-event2-server" };
static const char *const programs[] = { "18-event1-server", "18-event2-server",
                                        "18-event1-client", "18-event2-client" };
enum { SERVERS = 2, PROGRAMS = 4, IDLE_MS = 5000, MAX_BODY = 64 * 1024 };

/* --- Recording ----------------------------------------------------------------- */

static char order[2048];

/* record("..."): one entry in order (tests/util.c). */
#define record(...) record_in(order, sizeof order, __VA_ARGS__)

/* --- Sockets ------------------------------------------------------------------- */

static struct sockaddr_in loopback(int port)
{
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons((uint16_t)port);
    return address;
}

/* A blocking connect() returns once the connection is in the listener's
   queue: nobody need have accepted it. */
static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in address = loopback(port);
    ck_assert_msg(connect(fd, (struct sockaddr *)&address, sizeof address) == 0, "connect: %s",
                  strerror(errno));
    return fd;
}

static void send_all(int fd, const void *data, size_t n)
{
    const char *p = data;
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        ck_assert_msg(w > 0, "send: %s", strerror(errno));
        p += w;
        n -= (size_t)w;
    }
}

static void send_text(int fd, const char *text)
{
    send_all(fd, text, strlen(text));
}

/* A socket bound on 127.0.0.1 that does not listen: connecting to its
   port is refused, and nobody else can take the port while it is open. */
static int bound_only(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in address = loopback(0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&address, sizeof address), 0);
    *port = port_of(fd);
    return fd;
}

/* Bytes received by the server's end of the connection from client_fd and
   not yet read by the server (/proc/net/tcp), and whether it is listed. */
struct server_end {
    int server_port, client_port;
    unsigned unread;
};

static bool is_server_end(const char *line, void *arg)
{
    struct server_end *want = arg;
    unsigned local, remote, rx;
    if (sscanf(line, " %*d: %*8X:%4X %*8X:%4X %*2X %*8X:%8X", &local, &remote, &rx) != 3 ||
        (int)local != want->server_port || (int)remote != want->client_port)
        return false;
    want->unread = rx;
    return true;
}

static bool server_unread(int server_port, int client_fd, unsigned *unread)
{
    struct server_end want = { server_port, port_of(client_fd), 0 };
    if (!tcp_table_has(is_server_end, &want))
        return false;
    *unread = want.unread;
    return true;
}

/* --- An evhttp server in this process, run in slices ----------------------------- */

static struct event_base *base;
static struct evhttp *http;
static int port;

static struct evhttp *new_server(int *bound_port)
{
    struct evhttp *h = evhttp_new(base);
    ck_assert_ptr_nonnull(h);
    struct evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(h, "127.0.0.1", 0);
    ck_assert_ptr_nonnull(bound);
    *bound_port = port_of(evhttp_bound_socket_get_fd(bound));
    return h;
}

static void start_http(void)
{
    base = event_base_new();
    ck_assert_ptr_nonnull(base);
    http = new_server(&port);
}

static void stop_http(void)
{
    evhttp_free(http);
    event_base_free(base);
}

/* Run the loop in 5 ms slices until done(arg) or timeout_ms; whether done. */
static bool loop_until(bool (*done)(void *), void *arg, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    while (!done(arg)) {
        if (now_ms() >= deadline)
            return false;
        const struct timeval slice = { 0, 5000 };
        ck_assert_int_eq(event_base_loopexit(base, &slice), 0);
        ck_assert_int_ge(event_base_dispatch(base), 0);
    }
    return true;
}

/* Run the loop for ms milliseconds of libevent's own clock. */
static bool marker_fired;
static void on_marker(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    marker_fired = true;
    record("marker");
}

static bool marker_done(void *arg)
{
    (void)arg;
    return marker_fired;
}

static void run_for(int ms)
{
    marker_fired = false;
    const struct timeval after = { ms / 1000, (ms % 1000) * 1000 };
    ck_assert_int_eq(event_base_once(base, -1, EV_TIMEOUT, on_marker, NULL, &after), 0);
    ck_assert(loop_until(marker_done, NULL, ms + WAIT_MS));
}

/* Until the server has read all that fd sent. */
struct read_wait {
    int server_port, fd;
};

static bool server_has_read(void *arg)
{
    struct read_wait *w = arg;
    unsigned unread = 1;
    return server_unread(w->server_port, w->fd, &unread) && unread == 0;
}

static void wait_until_read(int server_port, int fd)
{
    struct read_wait w = { server_port, fd };
    ck_assert_msg(loop_until(server_has_read, &w, WAIT_MS),
                  "the server did not read what it was sent within %d ms", WAIT_MS);
}

/* What came back on a raw client socket. */
struct reply {
    int fd;
    char data[1 << 16];
    size_t len;
    bool eof, reset;
};

static void pump(struct reply *r)
{
    for (;;) {
        if (r->len + 1 >= sizeof r->data)
            return;
        ssize_t n = recv(r->fd, r->data + r->len, sizeof r->data - 1 - r->len, MSG_DONTWAIT);
        if (n > 0) {
            r->len += (size_t)n;
            r->data[r->len] = '\0';
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            r->reset = n < 0 && errno == ECONNRESET;
            r->eof = true;
        }
        return;
    }
}

/* A whole response: its headers, then Content-Length bytes, or a chunked
   body up to its last chunk; else whatever came before the close. */
static bool reply_complete(void *arg)
{
    struct reply *r = arg;
    pump(r);
    const char *end = strstr(r->data, "\r\n\r\n");
    if (end == NULL)
        return r->eof;
    size_t head = (size_t)(end - r->data) + 4;
    const char *length = strcasestr(r->data, "\r\nContent-Length:");
    if (length != NULL && length < end)
        return r->eof || r->len >= head + strtoul(length + strlen("\r\nContent-Length:"), NULL, 10);
    if (strcasestr(r->data, "\r\nTransfer-Encoding: chunked") != NULL)
        return r->eof || strstr(end, "\r\n0\r\n\r\n") != NULL;
    return r->eof;
}

static bool reply_closed(void *arg)
{
    struct reply *r = arg;
    pump(r);
    return r->eof;
}

/* The status of the next whole response on fd (r collects it). */
static int await_reply(struct reply *r)
{
    ck_assert_msg(loop_until(reply_complete, r, WAIT_MS), "no whole response within %d ms: %zu "
                  "bytes: %.200s", WAIT_MS, r->len, r->data);
    int status = 0;
    sscanf(r->data, "HTTP/1.%*d %d", &status);
    return status;
}

static void reply_init(struct reply *r, int fd)
{
    memset(r, 0, sizeof *r);
    r->fd = fd;
}

static const char *body_of(const struct reply *r)
{
    const char *end = strstr(r->data, "\r\n\r\n");
    return end != NULL ? end + 4 : "";
}

/* ======================================================================================
 * The server: when handlers run, who owns what, replies now and later
 * ====================================================================================== */

static int handled;
static size_t handled_body;

static void on_count(struct evhttp_request *req, void *arg)
{
    (void)arg;
    handled++;
    handled_body = evbuffer_get_length(evhttp_request_get_input_buffer(req));
    record("handled:%s", evhttp_request_get_uri(req));
    evhttp_send_reply(req, HTTP_OK, "OK", NULL);
}

/* The body comes in three pieces, each read by the server before the next
   is sent: the handler runs once, after the last, with all ten bytes. */
START_TEST(handler_runs_once_the_whole_body_is_in)
{
    start_http();
    evhttp_set_gencb(http, on_count, NULL);
    int fd = connect_to(port);
    send_text(fd, "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123");
    wait_until_read(port, fd);
    ck_assert_int_eq(handled, 0);
    send_text(fd, "456");
    wait_until_read(port, fd);
    ck_assert_int_eq(handled, 0);
    send_text(fd, "789");
    struct reply r;
    reply_init(&r, fd);
    ck_assert_int_eq(await_reply(&r), 200);
    ck_assert_int_eq(handled, 1);
    ck_assert_uint_eq(handled_body, 10);
    close(fd);
    stop_http();
}
END_TEST

static void on_complete_record(struct evhttp_request *req, void *arg)
{
    (void)arg;
    record("complete:%s", evhttp_request_get_uri(req));
}

static void on_answer_uri(struct evhttp_request *req, void *arg)
{
    (void)arg;
    const char *uri = evhttp_request_get_uri(req);
    record("handled:%s", uri);
    evhttp_request_set_on_complete_cb(req, on_complete_record, NULL);
    ck_assert_int_eq(evbuffer_add(evhttp_request_get_output_buffer(req), uri + 1, strlen(uri + 1)),
                     0);
    evhttp_send_reply(req, HTTP_OK, "OK", NULL);
}

/* Both replies: the first's body "a", the second's "b", last. */
static bool both_replies(void *arg)
{
    struct reply *r = arg;
    pump(r);
    return r->len > 5 && strcmp(r->data + r->len - 5, "\r\n\r\nb") == 0;
}

static bool two_completed(void *arg)
{
    (void)arg;
    return strstr(order, "complete:/b") != NULL;
}

/* Two requests in one write (pipelined): the second is handled only once
   the first's reply is written (its on_complete has run), and the replies
   come back in order. */
START_TEST(pipelined_requests_are_answered_one_at_a_time_in_order)
{
    start_http();
    evhttp_set_gencb(http, on_answer_uri, NULL);
    int fd = connect_to(port);
    send_text(fd, "GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n");
    ck_assert(loop_until(two_completed, NULL, WAIT_MS));
    ck_assert_str_eq(order, "handled:/a complete:/a handled:/b complete:/b");
    struct reply r;
    reply_init(&r, fd);
    ck_assert(loop_until(both_replies, &r, WAIT_MS));
    ck_assert_msg(strncmp(r.data, "HTTP/1.1 200 ", 13) == 0 &&
                      strstr(r.data, "\r\n\r\naHTTP/1.1 200 ") != NULL,
                  "%s", r.data);
    close(fd);
    stop_http();
}
END_TEST

static size_t left_in_own_buffer = 99, left_in_input = 99;

/* /own: a buffer of the handler's; /echo: the request's input buffer. */
static void on_pass_buffers(struct evhttp_request *req, void *arg)
{
    (void)arg;
    if (strcmp(evhttp_request_get_uri(req), "/own") == 0) {
        struct evbuffer *own = evbuffer_new();
        ck_assert_ptr_nonnull(own);
        ck_assert_int_eq(evbuffer_add(own, "hello", 5), 0);
        evhttp_send_reply(req, HTTP_OK, "OK", own);
        left_in_own_buffer = evbuffer_get_length(own);
        evbuffer_free(own); /* still the handler's to free */
    } else {
        struct evbuffer *input = evhttp_request_get_input_buffer(req);
        evhttp_send_reply(req, HTTP_OK, "OK", input);
        left_in_input = evbuffer_get_length(input);
    }
}

/* evhttp_send_reply() moves the bytes out of the buffer it is given and
   leaves the buffer itself where it was: the handler's own buffer is
   empty afterwards and still the handler's to free; given the request's
   input buffer, the body goes back without a copy. */
START_TEST(send_reply_moves_the_bytes_and_leaves_the_buffer_to_its_owner)
{
    start_http();
    evhttp_set_gencb(http, on_pass_buffers, NULL);
    int fd = connect_to(port);
    send_text(fd, "GET /own HTTP/1.1\r\nHost: t\r\n\r\n");
    struct reply r;
    reply_init(&r, fd);
    ck_assert_int_eq(await_reply(&r), 200);
    ck_assert_str_eq(body_of(&r), "hello");
    ck_assert_uint_eq(left_in_own_buffer, 0);
    send_text(fd, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nbody");
    reply_init(&r, fd);
    ck_assert_int_eq(await_reply(&r), 200);
    ck_assert_str_eq(body_of(&r), "body");
    ck_assert_uint_eq(left_in_input, 0);
    close(fd);
    stop_http();
}
END_TEST

static struct evhttp_request *held;
static struct event *later;
static int peer_fd = -1;

static void on_hold(struct evhttp_request *req, void *arg)
{
    (void)arg;
    held = req;
    evhttp_request_set_on_complete_cb(req, on_complete_record, NULL);
    record("handler-returned");
}

static bool have_held(void *arg)
{
    (void)arg;
    return held != NULL;
}

static void on_later(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    char byte;
    /* Nothing has been sent to the client yet. */
    ck_assert_int_eq(recv(peer_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT), -1);
    ck_assert_int_eq(errno, EAGAIN);
    ck_assert_ptr_nonnull(evhttp_request_get_connection(held));
    record("timer-replies");
    evhttp_send_reply(held, HTTP_OK, "OK", NULL);
}

/* A handler may return without replying; the request waits, and a timer's
   callback, 20 ms later, answers it. Until then the client gets nothing. */
START_TEST(reply_can_come_later_from_another_callback)
{
    start_http();
    evhttp_set_gencb(http, on_hold, NULL);
    later = evtimer_new(base, on_later, NULL);
    ck_assert_ptr_nonnull(later);
    peer_fd = connect_to(port);
    send_text(peer_fd, "GET /later HTTP/1.1\r\nHost: t\r\n\r\n");
    const struct timeval twenty = { 0, 20000 };
    ck_assert(loop_until(have_held, NULL, WAIT_MS));
    ck_assert_int_eq(evtimer_add(later, &twenty), 0);
    struct reply r;
    reply_init(&r, peer_fd);
    ck_assert_int_eq(await_reply(&r), 200);
    ck_assert_str_eq(order, "handler-returned timer-replies complete:/later");
    close(peer_fd);
    event_free(later);
    stop_http();
}
END_TEST

static bool completed(void *arg)
{
    (void)arg;
    return strstr(order, "complete:") != NULL;
}

/* Once a request is handed to its handler, evhttp stops reading the
   connection: a client that hangs up is not noticed while the request
   waits. The request stays valid, its connection too; the reply is
   written (to the kernel: on_complete runs) though nobody will read it. */
START_TEST(server_does_not_notice_a_client_leaving_while_it_holds_the_request)
{
    start_http();
    evhttp_set_gencb(http, on_hold, NULL);
    int fd = connect_to(port);
    send_text(fd, "GET /gone HTTP/1.1\r\nHost: t\r\n\r\n");
    ck_assert(loop_until(have_held, NULL, WAIT_MS));
    close(fd);
    run_for(100);
    ck_assert_msg(evhttp_request_get_connection(held) != NULL,
                  "the server noticed the client leave while it held the request");
    evhttp_send_reply(held, HTTP_OK, "OK", NULL);
    ck_assert(loop_until(completed, NULL, WAIT_MS));
    ck_assert_str_eq(order, "handler-returned marker complete:/gone");
    stop_http();
}
END_TEST

static bool headers_in(void *arg)
{
    struct reply *r = arg;
    pump(r);
    return strstr(r->data, "\r\n\r\n") != NULL;
}

/* A chunked reply to a client that has gone (it reset the connection):
   the writes fail, libevent frees the connection and lets go of the
   request, which stays valid: evhttp_request_get_connection() says NULL,
   later chunks are dropped, and evhttp_send_reply_end() frees it. */
START_TEST(a_chunked_reply_to_a_vanished_client_loses_its_connection_not_its_request)
{
    start_http();
    evhttp_set_gencb(http, on_hold, NULL);
    int fd = connect_to(port);
    send_text(fd, "GET /chunks HTTP/1.1\r\nHost: t\r\n\r\n");
    ck_assert(loop_until(have_held, NULL, WAIT_MS));
    evhttp_send_reply_start(held, HTTP_OK, "OK");
    struct reply r;
    reply_init(&r, fd);
    ck_assert(loop_until(headers_in, &r, WAIT_MS));
    struct linger reset = { 1, 0 };
    ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset), 0);
    close(fd); /* a reset, at once */
    struct evbuffer *chunk = evbuffer_new();
    int chunks = 0;
    while (evhttp_request_get_connection(held) != NULL && chunks < 100) {
        ck_assert_int_eq(evbuffer_add(chunk, "x", 1), 0);
        evhttp_send_reply_chunk(held, chunk);
        chunks++;
        run_for(5);
    }
    ck_assert_msg(evhttp_request_get_connection(held) == NULL,
                  "after %d chunks to a reset connection the request still has it", chunks);
    ck_assert_int_eq(evbuffer_add(chunk, "x", 1), 0);
    evhttp_send_reply_chunk(held, chunk); /* dropped: nothing to write to */
    evhttp_send_reply_end(held);          /* frees the request */
    ck_assert_msg(strstr(order, "complete") == NULL, "on_complete ran: %s", order);
    evbuffer_free(chunk);
    stop_http();
}
END_TEST

static void on_keep_or_error(struct evhttp_request *req, void *arg)
{
    (void)arg;
    if (strcmp(evhttp_request_get_uri(req), "/error") == 0)
        evhttp_send_error(req, HTTP_NOTFOUND, NULL);
    else
        evhttp_send_reply(req, HTTP_OK, "OK", NULL);
}

/* evhttp_send_reply() keeps an HTTP/1.1 connection open for the next
   request; evhttp_send_error() adds "Connection: close" and closes it
   once the page is written. */
START_TEST(send_error_closes_the_connection_send_reply_keeps_it)
{
    start_http();
    evhttp_set_gencb(http, on_keep_or_error, NULL);
    int fd = connect_to(port);
    struct reply r;
    for (int i = 0; i < 2; i++) {
        send_text(fd, "GET /keep HTTP/1.1\r\nHost: t\r\n\r\n");
        reply_init(&r, fd);
        ck_assert_int_eq(await_reply(&r), 200);
        ck_assert_ptr_null(strcasestr(r.data, "Connection: close"));
        ck_assert(!r.eof);
    }
    send_text(fd, "GET /error HTTP/1.1\r\nHost: t\r\n\r\n");
    reply_init(&r, fd);
    ck_assert_int_eq(await_reply(&r), 404);
    ck_assert_ptr_nonnull(strcasestr(r.data, "\r\nConnection: close\r\n"));
    ck_assert_msg(loop_until(reply_closed, &r, WAIT_MS), "still open after evhttp_send_error()");
    close(fd);
    stop_http();
}
END_TEST

static void on_error_with_header(struct evhttp_request *req, void *arg)
{
    (void)arg;
    ck_assert_int_eq(evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET"), 0);
    if (strcmp(evhttp_request_get_uri(req), "/error") == 0)
        evhttp_send_error(req, HTTP_BADMETHOD, NULL);
    else
        evhttp_send_reply(req, HTTP_BADMETHOD, "Method Not Allowed", NULL);
}

/* A header the handler added (an "Allow" for a 405) goes out with
   evhttp_send_reply(); evhttp_send_error() clears the headers first, and
   sends only its own. */
START_TEST(send_error_drops_the_headers_the_handler_set)
{
    start_http();
    evhttp_set_gencb(http, on_error_with_header, NULL);
    const char *uris[] = { "/reply", "/error" };
    for (int i = 0; i < 2; i++) {
        int fd = connect_to(port);
        char request[64];
        snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", uris[i]);
        send_text(fd, request);
        struct reply r;
        reply_init(&r, fd);
        ck_assert_int_eq(await_reply(&r), 405);
        const char *allow = strcasestr(r.data, "\r\nAllow: GET\r\n");
        ck_assert_msg(i == 0 ? allow != NULL : allow == NULL, "%s: %s", uris[i], r.data);
        close(fd);
    }
    stop_http();
}
END_TEST

/* ======================================================================================
 * The server: limits and the timeout
 * ====================================================================================== */

static char *post(size_t length, const char *extra_headers)
{
    char *request;
    ck_assert_int_ge(asprintf(&request, "POST /echo HTTP/1.1\r\nHost: t\r\n%sContent-Length: %zu\r\n\r\n",
                              extra_headers, length), 0);
    return request;
}

/* Over evhttp_set_max_body_size() (as Content-Length says), libevent
   answers 413 itself and closes the connection: the handler never runs.
   At the limit exactly, it does. */
START_TEST(max_body_size_answers_413_without_calling_the_handler)
{
    start_http();
    evhttp_set_gencb(http, on_count, NULL);
    evhttp_set_max_body_size(http, 1000);
    evhttp_set_flags(http, EVHTTP_SERVER_LINGERING_CLOSE);
    static char body[1001];
    memset(body, 'b', sizeof body);
    const size_t sizes[] = { 1001, 1000 };
    const int statuses[] = { 413, 200 };
    for (int i = 0; i < 2; i++) {
        int fd = connect_to(port);
        char *request = post(sizes[i], "");
        send_text(fd, request);
        send_all(fd, body, sizes[i]);
        struct reply r;
        reply_init(&r, fd);
        ck_assert_int_eq(await_reply(&r), statuses[i]);
        ck_assert_int_eq(handled, i);
        if (i == 0)
            ck_assert_msg(loop_until(reply_closed, &r, WAIT_MS), "open after the 413");
        free(request);
        close(fd);
    }
    stop_http();
}
END_TEST

/* A client that sends 16 MB in one go, more than the kernel's buffers
   hold, to a server whose limit is 1000 bytes. Without
   EVHTTP_SERVER_LINGERING_CLOSE the server answers 413 after the headers
   and closes with the body unread: the client's sending fails (a reset)
   before it is done. With it the server reads the body to its end, then
   answers: every byte goes out, and the 413 comes back. */
START_TEST(lingering_close_lets_a_client_still_sending_read_the_413)
{
    start_http();
    evhttp_set_gencb(http, on_count, NULL);
    evhttp_set_max_body_size(http, 1000);
    if (_i == 1)
        ck_assert_int_eq(evhttp_set_flags(http, EVHTTP_SERVER_LINGERING_CLOSE), 0);
    enum { BODY = 16 << 20 };
    static char chunk[65536];
    memset(chunk, 'b', sizeof chunk);
    int fd = connect_to(port);
    char *request = post(BODY, "");
    send_text(fd, request);
    size_t sent = 0;
    int error = 0;
    long long deadline = now_ms() + 30000;
    while (sent < BODY && error == 0 && now_ms() < deadline) {
        size_t n = BODY - sent < sizeof chunk ? BODY - sent : sizeof chunk;
        ssize_t w = send(fd, chunk, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0)
            sent += (size_t)w;
        else if (errno != EAGAIN)
            error = errno;
        else
            run_for(1); /* the server's turn */
    }
    struct reply r;
    reply_init(&r, fd);
    if (_i == 0) {
        ck_assert_msg(error == ECONNRESET || error == EPIPE,
                      "without lingering close: %zu of %d bytes sent, error %d (%s)", sent, BODY,
                      error, strerror(error));
        ck_assert_uint_lt(sent, BODY);
    } else {
        ck_assert_msg(error == 0 && sent == BODY, "with lingering close: %zu of %d bytes sent, "
                      "error %s", sent, BODY, strerror(error));
        ck_assert_int_eq(await_reply(&r), 413);
    }
    ck_assert_int_eq(handled, 0);
    free(request);
    close(fd);
    stop_http();
}
END_TEST

/* "Expect: 100-continue" with a body over the limit. Without lingering
   close the server answers 413 at once, and the body need never be sent.
   With it, libevent 2.1.12 sends neither "100 Continue" nor the 413 until
   the whole body has come: a client that waits for one of them first (as
   curl does for a body of 1 MB or more, for up to 1 s) waits in vain. */
START_TEST(lingering_close_answers_an_oversized_expect_100_continue_only_after_the_body)
{
    start_http();
    evhttp_set_gencb(http, on_count, NULL);
    evhttp_set_max_body_size(http, 1000);
    if (_i == 1)
        ck_assert_int_eq(evhttp_set_flags(http, EVHTTP_SERVER_LINGERING_CLOSE), 0);
    int fd = connect_to(port);
    char *request = post(2000, "Expect: 100-continue\r\n");
    send_text(fd, request);
    struct reply r;
    reply_init(&r, fd);
    if (_i == 0) {
        ck_assert_int_eq(await_reply(&r), 413);
    } else {
        wait_until_read(port, fd);
        run_for(200);
        pump(&r);
        ck_assert_msg(r.len == 0 && !r.eof, "an answer before the body: %.100s", r.data);
        static char body[2000];
        memset(body, 'b', sizeof body);
        send_all(fd, body, sizeof body);
        ck_assert_int_eq(await_reply(&r), 413);
    }
    ck_assert_int_eq(handled, 0);
    free(request);
    close(fd);
    stop_http();
}
END_TEST

/* evhttp_set_max_headers_size(1000): 1500 bytes of header lines with no
   end in sight get a 400 (HTTP has 431 for it), as does a request line of
   1500 bytes; not the 413 of a body over its limit. Either way the
   connection is closed and the handler never runs. */
START_TEST(headers_over_the_limit_get_400)
{
    start_http();
    evhttp_set_gencb(http, on_count, NULL);
    evhttp_set_max_headers_size(http, 1000);
    char headers[1600] = "GET / HTTP/1.1\r\n", line[1600] = "GET /";
    while (strlen(headers) < 1500)
        strcat(headers, "X-Filler: aaaaaaaaaaaaaaaaaaaa\r\n");
    memset(line + 5, 'a', 1500);
    strcat(line, " HTTP/1.1\r\n");
    const char *requests[] = { headers, line };
    for (int i = 0; i < 2; i++) {
        int fd = connect_to(port);
        send_text(fd, requests[i]);
        struct reply r;
        reply_init(&r, fd);
        ck_assert_int_eq(await_reply(&r), 400);
        ck_assert(loop_until(reply_closed, &r, WAIT_MS));
        close(fd);
    }
    ck_assert_int_eq(handled, 0);
    stop_http();
}
END_TEST

/* A request line that is not HTTP gets libevent's own 400 page and a
   close; no handler runs. */
START_TEST(a_garbage_request_line_gets_400_and_a_close)
{
    start_http();
    evhttp_set_gencb(http, on_count, NULL);
    int fd = connect_to(port);
    send_text(fd, "garbage\r\n\r\n");
    struct reply r;
    reply_init(&r, fd);
    ck_assert_int_eq(await_reply(&r), 400);
    ck_assert(loop_until(reply_closed, &r, WAIT_MS));
    ck_assert_int_eq(handled, 0);
    close(fd);
    stop_http();
}
END_TEST

/* Two servers on one base, one with evhttp_set_timeout_tv(100 ms), one
   with none; a client of each sends half a request and stops. By 500 ms
   (a timer on the same base), the first has closed its connection without
   a byte of reply; the second still holds it: evhttp has no timeout until
   it is given one. */
START_TEST(timeout_closes_a_stalled_request_without_a_reply_and_there_is_none_by_default)
{
    start_http();
    int quiet_port;
    struct evhttp *quiet = new_server(&quiet_port);
    const struct timeval hundred = { 0, 100000 };
    evhttp_set_timeout_tv(http, &hundred);
    evhttp_set_gencb(http, on_count, NULL);
    evhttp_set_gencb(quiet, on_count, NULL);
    int timed = connect_to(port), untimed = connect_to(quiet_port);
    send_text(timed, "GET / HTTP/1.1\r\nHost: t\r\n");
    send_text(untimed, "GET / HTTP/1.1\r\nHost: t\r\n");
    run_for(500);
    struct reply a, b;
    reply_init(&a, timed);
    reply_init(&b, untimed);
    pump(&a);
    pump(&b);
    ck_assert_msg(a.eof && a.len == 0, "with a 100 ms timeout: %zu bytes, %s", a.len,
                  a.eof ? "closed" : "still open after 500 ms");
    ck_assert_msg(!b.eof && b.len == 0, "without a timeout: %zu bytes, %s", b.len,
                  b.eof ? "closed" : "open");
    ck_assert_int_eq(handled, 0);
    close(timed);
    close(untimed);
    evhttp_free(quiet);
    stop_http();
}
END_TEST

static int dribble_fd;
static size_t dribbled;

static void on_dribble(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    static const char slow[] = "GET / HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    if (dribbled < sizeof slow - 1)
        send_all(dribble_fd, slow + dribbled++, 1);
    const struct timeval hundred = { 0, 100000 };
    ck_assert_int_eq(evtimer_add((struct event *)arg, &hundred), 0);
}

/* The timeout is an idle timeout, not a deadline for the request: with a
   400 ms timeout, a client that sends one byte every 100 ms is still
   connected after 2 s, five timeouts, while one that went silent at the
   same time was closed. */
START_TEST(server_timeout_restarts_with_every_byte)
{
    start_http();
    const struct timeval four_hundred = { 0, 400000 };
    evhttp_set_timeout_tv(http, &four_hundred);
    evhttp_set_gencb(http, on_count, NULL);
    dribble_fd = connect_to(port);
    int silent = connect_to(port);
    send_text(silent, "G");
    struct event *dribble = evtimer_new(base, on_dribble, event_self_cbarg());
    ck_assert_ptr_nonnull(dribble);
    event_active(dribble, EV_TIMEOUT, 0);
    run_for(2000);
    struct reply a, b;
    reply_init(&a, dribble_fd);
    reply_init(&b, silent);
    pump(&a);
    pump(&b);
    ck_assert_msg(!a.eof, "the client sending a byte every 100 ms was closed after %zu bytes",
                  dribbled);
    ck_assert_msg(b.eof && b.len == 0, "the silent client was not closed (%zu bytes)", b.len);
    ck_assert_uint_ge(dribbled, 15);
    event_free(dribble);
    close(dribble_fd);
    close(silent);
    stop_http();
}
END_TEST

static void on_slow(struct evhttp_request *req, void *arg)
{
    (void)arg;
    handled++;
    sleep_ms(*(const int *)arg);
    evhttp_send_reply(req, HTTP_OK, "OK", NULL);
}

/* The timeout counts from the loop's clock as it was when the handler was
   called: a handler that takes longer than the timeout (300 ms) adds the
   reply's write with a deadline already past, and the loop, finding the
   socket writable and the deadline gone at once, takes the timeout: the
   connection closes without the reply. A quicker handler's reply comes. */
START_TEST(a_handler_slower_than_the_timeout_loses_its_reply)
{
    static const int sleeps[] = { 600, 50 };
    start_http();
    const struct timeval three_hundred = { 0, 300000 };
    evhttp_set_timeout_tv(http, &three_hundred);
    evhttp_set_gencb(http, on_slow, (void *)&sleeps[_i]);
    int fd = connect_to(port);
    send_text(fd, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    struct reply r;
    reply_init(&r, fd);
    ck_assert(loop_until(reply_complete, &r, WAIT_MS));
    ck_assert_int_eq(handled, 1);
    if (_i == 0)
        ck_assert_msg(r.eof && r.len == 0, "a handler of 600 ms: %zu bytes: %.80s", r.len, r.data);
    else
        ck_assert_msg(strncmp(r.data, "HTTP/1.1 200 ", 13) == 0, "a handler of 50 ms: %.80s",
                      r.data);
    close(fd);
    stop_http();
}
END_TEST

/* ======================================================================================
 * The client
 * ====================================================================================== */

static void on_client_reply(struct evhttp_request *req, void *arg)
{
    (void)arg;
    if (req == NULL)
        record("reply:NULL");
    else
        record("reply:%d:%zu", evhttp_request_get_response_code(req),
               evbuffer_get_length(evhttp_request_get_input_buffer(req)));
}

static void on_client_error(enum evhttp_request_error error, void *arg)
{
    (void)arg;
    record("error:%s", error == EVREQ_HTTP_TIMEOUT ? "TIMEOUT" : error == EVREQ_HTTP_EOF ? "EOF"
                                                                                        : "other");
}

static void on_client_close(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    (void)arg;
    record("closed");
}

static void on_client_chunk(struct evhttp_request *req, void *arg)
{
    (void)arg;
    struct evbuffer *input = evhttp_request_get_input_buffer(req);
    char text[32] = "";
    size_t n = evbuffer_get_length(input);
    ck_assert_int_ge(evbuffer_copyout(input, text, sizeof text - 1), 0);
    text[strcspn(text, "\n")] = '\0';
    record("chunk:%zu:%s", n, text);
}

static bool replied(void *arg)
{
    (void)arg;
    return strstr(order, "reply:") != NULL;
}

static struct evhttp_connection *client_to(int to_port, int timeout_ms)
{
    struct evhttp_connection *evcon = evhttp_connection_base_new(base, NULL, "127.0.0.1",
                                                                 (unsigned short)to_port);
    ck_assert_ptr_nonnull(evcon);
    if (timeout_ms > 0) {
        const struct timeval timeout = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
        evhttp_connection_set_timeout_tv(evcon, &timeout);
    }
    evhttp_connection_set_closecb(evcon, on_client_close, NULL);
    return evcon;
}

static void make_request(struct evhttp_connection *evcon, const char *uri, bool chunks)
{
    struct evhttp_request *req = evhttp_request_new(on_client_reply, NULL);
    ck_assert_ptr_nonnull(req);
    evhttp_request_set_error_cb(req, on_client_error);
    if (chunks)
        evhttp_request_set_chunked_cb(req, on_client_chunk);
    ck_assert_int_eq(evhttp_add_header(evhttp_request_get_output_headers(req), "Host", "t"), 0);
    ck_assert_int_eq(evhttp_make_request(evcon, req, EVHTTP_REQ_GET, uri), 0);
}

/* A refused connection (ten times over): the request's callback runs with
   the request, its status 0, and the error callback does not run at all,
   although evhttp_request_set_error_cb()'s documentation says that on an
   error both run, the error callback first. */
START_TEST(refused_connection_calls_back_with_status_0_and_no_error_callback)
{
    base = event_base_new();
    ck_assert_ptr_nonnull(base);
    int refused_port, fd = bound_only(&refused_port);
    for (int i = 0; i < 10; i++) {
        order[0] = '\0';
        struct evhttp_connection *evcon = client_to(refused_port, 0);
        make_request(evcon, "/", false);
        ck_assert(loop_until(replied, NULL, WAIT_MS));
        ck_assert_str_eq(order, "reply:0:0");
        evhttp_connection_free(evcon);
    }
    close(fd);
    event_base_free(base);
}
END_TEST

/* A server that accepts (the kernel completes the connection) and never
   answers: after the connection's timeout (100 ms), the connection is
   closed, the error callback says EVREQ_HTTP_TIMEOUT, and the request's
   callback runs with NULL: the request is gone already. */
START_TEST(client_timeout_calls_the_error_callback_then_back_with_null)
{
    base = event_base_new();
    ck_assert_ptr_nonnull(base);
    struct sockaddr_in address;
    int fd = listen_on_loopback(&address);
    struct evhttp_connection *evcon = client_to(ntohs(address.sin_port), 100);
    make_request(evcon, "/", false);
    long long started = now_ms();
    ck_assert(loop_until(replied, NULL, WAIT_MS));
    ck_assert_int_ge(now_ms() - started, 90);
    ck_assert_str_eq(order, "closed error:TIMEOUT reply:NULL");
    evhttp_connection_free(evcon);
    close(fd);
    event_base_free(base);
}
END_TEST

struct raw_server {
    int listen_fd, fd;
};

static bool raw_accepted(void *arg)
{
    struct raw_server *s = arg;
    s->fd = accept(s->listen_fd, NULL, NULL);
    return s->fd >= 0;
}

static bool requested(void *arg)
{
    struct raw_server *s = arg;
    char buf[4096];
    ssize_t n = recv(s->fd, buf, sizeof buf - 1, MSG_DONTWAIT);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    return strstr(buf, "\r\n\r\n") != NULL;
}

/* A raw server on this base's loop: the evhttp client's request, read. */
static void raw_serve(struct raw_server *s, int *to_port)
{
    struct sockaddr_in address;
    s->listen_fd = listen_on_loopback(&address);
    ck_assert_int_eq(evutil_make_socket_nonblocking(s->listen_fd), 0);
    *to_port = ntohs(address.sin_port);
}

static void raw_await_request(struct raw_server *s)
{
    ck_assert(loop_until(raw_accepted, s, WAIT_MS));
    ck_assert(loop_until(requested, s, WAIT_MS));
}

static bool chunks_seen(void *arg)
{
    int want = *(int *)arg, n = 0;
    for (const char *p = order; (p = strstr(p, "chunk:")) != NULL; p++)
        n++;
    return n >= want;
}

/* A chunked reply of three chunks, sent in one write: the chunk callback
   runs once per chunk with exactly that chunk, and the reply callback
   finds nothing left in the input buffer. */
START_TEST(chunk_callback_gets_each_chunk_of_a_chunked_reply)
{
    base = event_base_new();
    ck_assert_ptr_nonnull(base);
    struct raw_server s;
    int to_port;
    raw_serve(&s, &to_port);
    struct evhttp_connection *evcon = client_to(to_port, 0);
    make_request(evcon, "/", true);
    raw_await_request(&s);
    send_text(s.fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "2\r\n3\n\r\n2\r\n2\n\r\n2\r\n1\n\r\n0\r\n\r\n");
    ck_assert(loop_until(replied, NULL, WAIT_MS));
    ck_assert_str_eq(order, "chunk:2:3 chunk:2:2 chunk:2:1 reply:200:0");
    evhttp_connection_free(evcon);
    close(s.fd);
    close(s.listen_fd);
    event_base_free(base);
}
END_TEST

/* A reply with a Content-Length, sent in two parts, the second only once
   the client has seen the first: with a chunk callback set, it runs for
   each part, as it is read, though the reply has no chunks. */
START_TEST(chunk_callback_sees_each_read_of_a_reply_that_is_not_chunked)
{
    base = event_base_new();
    ck_assert_ptr_nonnull(base);
    struct raw_server s;
    int to_port;
    raw_serve(&s, &to_port);
    struct evhttp_connection *evcon = client_to(to_port, 0);
    make_request(evcon, "/", true);
    raw_await_request(&s);
    send_text(s.fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345");
    int one = 1;
    ck_assert(loop_until(chunks_seen, &one, WAIT_MS));
    send_text(s.fd, "67890");
    ck_assert(loop_until(replied, NULL, WAIT_MS));
    ck_assert_str_eq(order, "chunk:5:12345 chunk:5:67890 reply:200:0");
    evhttp_connection_free(evcon);
    close(s.fd);
    close(s.listen_fd);
    event_base_free(base);
}
END_TEST

static bool two_replies(void *arg)
{
    (void)arg;
    const char *first = strstr(order, "reply:");
    return first != NULL && strstr(first + 1, "reply:") != NULL;
}

/* An evhttp server and client on one base. A reply that closes the
   connection (evhttp_send_error(): "Connection: close") is heard as the
   connection's close callback first, then the request's callback; the
   next request on the same evhttp_connection opens a new connection. */
START_TEST(client_hears_the_close_before_the_reply_and_reconnects_for_the_next)
{
    start_http();
    evhttp_set_gencb(http, on_keep_or_error, NULL);
    struct evhttp_connection *evcon = client_to(port, 0);
    make_request(evcon, "/error", false);
    ck_assert(loop_until(replied, NULL, WAIT_MS));
    make_request(evcon, "/keep", false);
    ck_assert(loop_until(two_replies, NULL, WAIT_MS));
    ck_assert_str_eq(order, "closed reply:404:90 reply:200:0");
    evhttp_connection_free(evcon); /* still connected: the close callback runs */
    ck_assert_str_eq(order, "closed reply:404:90 reply:200:0 closed");
    stop_http();
}
END_TEST

/* ======================================================================================
 * The 1.x calls: the current base
 * ====================================================================================== */

/* 1.x's evhttp_connection_new() takes the current base, which only
   event_init() sets. Without one it dereferences NULL, as bufferevent_new()
   does: it makes its bufferevent the same way. Check runs each test in a
   fresh process, so no event_init() has happened here; the call is made in
   a child of its own, without a core file. */
START_TEST(evhttp_connection_new_crashes_without_a_current_base)
{
    fflush(NULL);
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        const struct rlimit no_core = { 0, 0 };
        setrlimit(RLIMIT_CORE, &no_core);
        signal(SIGSEGV, SIG_DFL); /* not a sanitizer's handler */
        struct evhttp_connection *evcon = evhttp_connection_new("127.0.0.1", 80);
        _exit(evcon != NULL ? 3 : 4); /* not reached on 2.1.12 */
    }
    int status;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
                  "evhttp_connection_new() without event_init() did not crash: %s %d",
                  WIFEXITED(status) ? "exit status" : "signal",
                  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}
END_TEST

/* After event_init(), evhttp_connection_new() works on that base (a
   request to a server on it is answered), though the connection does not
   say so: evhttp_connection_get_base() returns NULL. */
START_TEST(evhttp_connection_new_works_on_the_current_base_after_event_init)
{
    base = event_init();
    ck_assert_ptr_nonnull(base);
    http = new_server(&port);
    evhttp_set_gencb(http, on_keep_or_error, NULL);
    struct evhttp_connection *evcon = evhttp_connection_new("127.0.0.1", (unsigned short)port);
    ck_assert_ptr_nonnull(evcon);
    ck_assert_ptr_null(evhttp_connection_get_base(evcon));
    make_request(evcon, "/keep", false);
    ck_assert(loop_until(replied, NULL, WAIT_MS));
    ck_assert_str_eq(order, "reply:200:0");
    evhttp_connection_free(evcon);
    stop_http();
}
END_TEST

static char logged[1024];

static void log_to_buffer(int severity, const char *message)
{
    (void)severity;
    strncat(logged, message, sizeof logged - strlen(logged) - 2);
    strcat(logged, "\n");
}

/* Without event_init() the 1.x server calls report success: evhttp_new(NULL)
   returns a server, evhttp_accept_socket() 0, evhttp_start() a server; but
   there is no base to listen on, and all that says so is a warning in
   libevent's log. */
START_TEST(evhttp_1x_servers_without_a_current_base_report_success_and_never_listen)
{
    event_set_log_callback(log_to_buffer);
    struct sockaddr_in address;
    int fd = listen_on_loopback(&address);
    struct evhttp *server = evhttp_new(NULL);
    ck_assert_ptr_nonnull(server);
    ck_assert_int_eq(evhttp_accept_socket(server, fd), 0);
    ck_assert_msg(strstr(logged, "event_add: event has no event_base set") != NULL,
                  "libevent's log: %s", logged);
    evhttp_free(server);
    logged[0] = '\0';
    struct evhttp *started = evhttp_start("127.0.0.1", 0);
    ck_assert_ptr_nonnull(started);
    ck_assert_msg(strstr(logged, "event has no event_base set") != NULL, "libevent's log: %s",
                  logged);
    evhttp_free(started);
    event_set_log_callback(NULL);
}
END_TEST

/* evhttp_accept_socket() takes the socket over: evhttp_free() closes it. */
START_TEST(evhttp_free_closes_the_socket_given_to_evhttp_accept_socket)
{
    base = event_init();
    ck_assert_ptr_nonnull(base);
    struct sockaddr_in address;
    int fd = listen_on_loopback(&address);
    struct evhttp *server = evhttp_new(NULL);
    ck_assert_ptr_nonnull(server);
    ck_assert_int_eq(evhttp_accept_socket(server, fd), 0);
    ck_assert(is_open(fd));
    evhttp_free(server);
    ck_assert_msg(!is_open(fd), "the socket is still open after evhttp_free()");
    event_base_free(base);
}
END_TEST

/* ======================================================================================
 * The lesson's programs
 * ====================================================================================== */

static struct netproc server;

static void stop_servers(void)
{
    netproc_release(&server);
}

static char *program_path(const char *name)
{
    char *path;
    if (asprintf(&path, "%s/%s", bin_dir(), name) < 0)
        abort();
    ck_assert_msg(access(path, X_OK) == 0, "%s is not built (make all)", path);
    return path;
}

static void start_server(int i)
{
    char *path = program_path(servers[i]);
    netproc_start(&server, path, NULL);
    free(path);
}

static char *stop_server(int sig)
{
    int status = netproc_stop(&server, sig, STOP_TIMEOUT_MS);
    char *errors = netproc_errors(&server);
    ck_assert_msg(status == 0, "status %d after signal %d (-1: did not exit); stderr:\n%s",
                  status, sig, errors ? errors : "");
    free(errors);
    char *trace = netproc_trace(&server);
    ck_assert_ptr_nonnull(trace);
    return trace;
}

static void need_tool(const char *tool, const char *package)
{
    char *command;
    if (asprintf(&command, "command -v %s", tool) < 0)
        abort();
    const char *argv[] = { "sh", "-c", command, NULL };
    struct run_result r;
    run_program(argv, NULL, 5000, &r);
    ck_assert_msg(r.status == 0, "%s is not installed (package %s): make deps", tool, package);
    run_result_free(&r);
    free(command);
}

/* Run a shell command (PORT and DIR set); its output. */
static char *shell(const char *command, const char *dir, int timeout_ms, int *status)
{
    char *script;
    if (asprintf(&script, "PORT=%d; DIR=%s; %s", server.s.port, dir ? dir : ".", command) < 0)
        abort();
    const char *argv[] = { "bash", "-c", script, NULL };
    struct run_result r;
    run_program(argv, NULL, timeout_ms, &r);
    ck_assert_msg(!r.timed_out, "%s: did not finish within %d ms", command, timeout_ms);
    *status = r.status;
    if (r.status != 0)
        fprintf(stderr, "%s: status %d\n%s", command, r.status, r.err);
    free(r.err);
    free(script);
    return r.out;
}

/* curl's -w output for a command line of curl options and URLs. */
static char *curl(const char *options)
{
    need_tool("curl", "curl");
    char *command;
    if (asprintf(&command, "curl --silent --show-error --no-progress-meter %s", options) < 0)
        abort();
    int status;
    char *out = shell(command, NULL, RUN_TIMEOUT_MS, &status);
    ck_assert_msg(status == 0, "curl %s: status %d", options, status);
    free(command);
    return out;
}

/* The server holds its descriptors of before (it closes connections on
   its own time: wait for it). */
static void assert_fds_back_to(const char *name, int before)
{
    int now = netproc_fd_count(server.s.pid);
    for (long long deadline = now_ms() + WAIT_MS; now != before && now_ms() < deadline;) {
        struct timespec pause = { 0, 5000000 };
        nanosleep(&pause, NULL);
        now = netproc_fd_count(server.s.pid);
    }
    ck_assert_msg(now == before, "%s holds %d descriptors, %d before", name, now, before);
}

#define URL "http://127.0.0.1:$PORT"

START_TEST(curl_gets_the_page)
{
    start_server(_i);
    char *out = curl("-D - " URL "/");
    ck_assert_msg(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", out);
    ck_assert_ptr_nonnull(strcasestr(out, "\r\nContent-Type: text/html; charset=utf-8\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "<p>Hello from evhttp.</p>"));
    free(out);
    free(stop_server(SIGTERM));
}
END_TEST

/* 60000 random bytes, every value among them, POSTed with --data-binary:
   the same bytes come back. */
START_TEST(curl_echo_of_a_binary_body_is_exact)
{
    start_server(_i);
    char *dir = make_temp_dir(), *command;
    if (asprintf(&command, "head -c 60000 /dev/urandom > $DIR/in && "
                           "curl -s --data-binary @$DIR/in -o $DIR/out -w '%%{http_code}' "
                           URL "/echo && cmp $DIR/in $DIR/out") < 0)
        abort();
    int status;
    char *out = shell(command, dir, RUN_TIMEOUT_MS, &status);
    ck_assert_msg(status == 0 && strcmp(out, "200") == 0, "status %d, %s", status, out);
    free(out);
    free(command);
    remove_tree(dir);
    free(dir);
    free(stop_server(SIGTERM));
}
END_TEST

/* --raw shows the chunks as they came: three, one per tick, then the
   last, empty one. */
START_TEST(curl_gets_the_countdown_in_three_chunks)
{
    start_server(_i);
    char *out = curl("--raw -D - " URL "/countdown");
    ck_assert_ptr_nonnull(strcasestr(out, "\r\nTransfer-Encoding: chunked\r\n"));
    ck_assert_ptr_nonnull(strcasestr(out, "\r\nContent-Type: text/plain\r\n"));
    const char *body = strstr(out, "\r\n\r\n");
    ck_assert_ptr_nonnull(body);
    ck_assert_str_eq(body + 4, "2\r\n3\n\r\n2\r\n2\n\r\n2\r\n1\n\r\n0\r\n\r\n");
    free(out);
    free(stop_server(SIGTERM));
}
END_TEST

/* Another path, or a known path with another method: 404. */
START_TEST(curl_gets_404_for_anything_else)
{
    start_server(_i);
    char *out = curl("-o /dev/null -w '%{http_code} ' " URL "/nowhere "
                     "--next -X POST -o /dev/null -w '%{http_code} ' " URL "/ "
                     "--next -o /dev/null -w '%{http_code} ' " URL "/echo "
                     "--next -X PUT -o /dev/null -w '%{http_code}' " URL "/countdown");
    ck_assert_str_eq(out, "404 404 404 404");
    free(out);
    free(stop_server(SIGTERM));
}
END_TEST

/* 64 KB exactly is echoed; a byte more gets 413; so does 2 MB, for which
   curl first asks (it sends "Expect: 100-continue", and waits up to 1 s). */
START_TEST(curl_gets_413_for_a_body_over_64_kb)
{
    start_server(_i);
    char *dir = make_temp_dir();
    int status;
    char *out = shell("head -c 65536 /dev/zero > $DIR/limit && head -c 65537 /dev/zero > $DIR/over"
                      " && head -c 2097152 /dev/zero > $DIR/big && "
                      "for f in limit over big; do curl -sv -o /dev/null -w '%{http_code} ' "
                      "--data-binary @$DIR/$f " URL "/echo 2> $DIR/$f.err || exit 1; done; "
                      "! grep -q '^> Expect:' $DIR/over.err && "
                      "grep -q '^> Expect: 100-continue' $DIR/big.err && echo expect",
                      dir, RUN_TIMEOUT_MS, &status);
    ck_assert_msg(status == 0, "curl failed");
    ck_assert_str_eq(out, "200 413 413 expect\n");
    free(out);
    remove_tree(dir);
    free(dir);
    free(stop_server(SIGTERM));
}
END_TEST

/* One curl, three URLs: one connection for all three (num_connects: 1,
   then 0). After a 404, which closes (evhttp_send_error()), curl needs a
   new one. */
START_TEST(curl_keeps_the_connection_alive)
{
    start_server(_i);
    char *out = curl("-o /dev/null -w '%{http_code}:%{num_connects} ' " URL "/ "
                     "-o /dev/null " URL "/countdown -o /dev/null " URL "/ "
                     "-o /dev/null " URL "/nowhere -o /dev/null " URL "/");
    ck_assert_str_eq(out, "200:1 200:0 200:0 404:0 200:1 ");
    free(out);
    free(stop_server(SIGTERM));
}
END_TEST

/* curl --parallel --parallel-max 50: 1000 requests, all answered 200, over
   at most 50 connections at a time; then the server holds the
   descriptors it held before. */
START_TEST(curl_1000_requests_50_at_a_time)
{
    start_server(_i);
    int before = netproc_fd_count(server.s.pid);
    ck_assert_int_gt(before, 0);
    char *out = curl("--parallel --parallel-max 50 -o /dev/null -w '%{http_code}:%{num_connects}\\n' "
                     "\"" URL "/?[1-1000]\"");
    int ok = 0, connects = 0;
    for (char *line = strtok(out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        int code, n;
        ck_assert_int_eq(sscanf(line, "%d:%d", &code, &n), 2);
        ok += code == 200;
        connects += n;
    }
    ck_assert_int_eq(ok, 1000);
    ck_assert_int_le(connects, 1000);
    ck_assert_int_ge(connects, 1);
    free(out);
    assert_fds_back_to(servers[_i], before);
    free(stop_server(SIGTERM));
}
END_TEST

/* --- Malformed requests, with nc and socat ---------------------------------------------- */

/* nc sends a line that is not HTTP: libevent's 400 page, and a close (nc
   ends). */
START_TEST(nc_garbage_request_line_gets_400_and_a_close)
{
    need_tool("nc", "netcat-openbsd");
    start_server(_i);
    int status;
    char *out = shell("printf 'garbage\\r\\n\\r\\n' | nc -N 127.0.0.1 $PORT", NULL, 20000, &status);
    ck_assert_int_eq(status, 0);
    ck_assert_msg(strncmp(out, "HTTP/1.1 400 Bad Request\r\n", 26) == 0, "%s", out);
    free(out);
    free(stop_server(SIGTERM));
}
END_TEST

/* socat sends a request line and one header, no end, and waits (its input
   ends, but ignoreeof keeps the connection open): the server closes the
   connection after its 5 s timeout, without a byte. */
START_TEST(socat_headers_without_end_are_closed_after_the_timeout)
{
    need_tool("socat", "socat");
    start_server(_i);
    long long started = now_ms();
    int status;
    char *out = shell("printf 'GET / HTTP/1.1\\r\\nHost: x\\r\\n' | "
                      "socat STDIO,ignoreeof TCP:127.0.0.1:$PORT", NULL, 40000, &status);
    long long took = now_ms() - started;
    ck_assert_msg(out[0] == '\0', "a reply: %s", out);
    ck_assert_msg(took >= IDLE_MS - 100 && took < 3 * IDLE_MS,
                  "closed after %lld ms, not about %d", took, IDLE_MS);
    free(out);
    free(stop_server(SIGTERM));
}
END_TEST

/* 9 KB of header lines, sent at once by socat, no end: event2's limit of 8 KB
   answers 400; event1 has no limit (1.x had none), reads them all, and
   closes at the timeout without a reply. */
START_TEST(socat_headers_over_8_kb_get_400_from_event2_and_a_timeout_from_event1)
{
    need_tool("socat", "socat");
    start_server(_i);
    int status;
    char *out = shell("{ printf 'GET / HTTP/1.1\\r\\n'; for i in $(seq 300); do "
                      "printf 'X-Filler-%03d: aaaaaaaaaaaaaaaa\\r\\n' $i; done; } | "
                      "socat STDIO,ignoreeof TCP:127.0.0.1:$PORT", NULL, 40000, &status);
    if (_i == 1)
        ck_assert_msg(strncmp(out, "HTTP/1.1 400 ", 13) == 0, "%s", out);
    else
        ck_assert_msg(out[0] == '\0', "event1 answered: %s", out);
    free(out);
    free(stop_server(SIGTERM));
}
END_TEST

/* Clients that go away (or stall) in the middle of things, 20 of each
   kind at once: a tenth of a body, then a close (nc); a tenth of a body,
   then nothing (socat; closed by the timeout); a countdown asked for and a
   reset at once (socat, linger=0); a garbage line (nc). Then the server
   answers curl, and holds the descriptors it held before. */
START_TEST(vanishing_and_stalling_clients_leave_the_server_serving_with_no_fd_leaked)
{
    need_tool("nc", "netcat-openbsd");
    need_tool("socat", "socat");
    start_server(_i);
    int before = netproc_fd_count(server.s.pid);
    ck_assert_int_gt(before, 0);
    int status;
    char *out = shell(
        "body() { printf 'POST /echo HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 1000\\r\\n\\r\\n'; "
        "head -c 100 /dev/zero; }; "
        "vanish() { body | nc -N 127.0.0.1 $PORT > /dev/null; }; "
        "stall() { body | socat STDIO,ignoreeof TCP:127.0.0.1:$PORT > /dev/null; }; "
        "reset() { printf 'GET /countdown HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' | "
        "socat -t 0 - TCP:127.0.0.1:$PORT,linger=0 > /dev/null 2>&1; }; "
        "garbage() { printf 'x y z\\r\\n\\r\\n' | nc -N 127.0.0.1 $PORT > /dev/null; }; "
        "for kind in vanish stall reset garbage; do "
        "for i in $(seq 20); do $kind & done; wait; done; "
        "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$PORT/",
        NULL, RUN_TIMEOUT_MS, &status);
    ck_assert_msg(strcmp(out, "200") == 0, "after the clients, curl got %s", out);
    ck_assert_msg(netproc_alive(&server), "the server died (status %d)", server.s.status);
    assert_fds_back_to(servers[_i], before);
    free(out);
    char *trace = stop_server(SIGTERM);
    free(trace);
}
END_TEST

/* --- Signals, flags, the listening socket ------------------------------------------------ */

/* SIGINT and SIGTERM, with a keep-alive connection open and a countdown
   under way: the server leaves the loop, frees everything (countdowns cut
   short, evhttp_free() closing the connections) and exits 0. */
START_TEST(sigint_and_sigterm_stop_the_server_cleanly)
{
    const int signals[] = { SIGINT, SIGTERM };
    for (int k = 0; k < 2; k++) {
        start_server(_i);
        int idle = connect_to(server.s.port);
        send_text(idle, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        char buf[4096];
        ck_assert_int_gt(recv(idle, buf, sizeof buf, 0), 0);
        int counting = connect_to(server.s.port);
        send_text(counting, "GET /countdown HTTP/1.1\r\nHost: x\r\n\r\n");
        ck_assert_int_gt(recv(counting, buf, sizeof buf, 0), 0); /* it has started */
        char *trace = stop_server(signals[k]);
        ck_assert_ptr_nonnull(strstr(trace, k == 0 ? "SIGINT: leaving the loop"
                                                   : "SIGTERM: leaving the loop"));
        ck_assert_ptr_nonnull(strstr(trace, "http     freed"));
        struct reply r;
        reply_init(&r, idle);
        struct pollfd p = { idle, POLLIN, 0 };
        ck_assert_int_eq(poll(&p, 1, WAIT_MS), 1);
        pump(&r);
        ck_assert_msg(r.eof, "the idle connection is still open");
        close(idle);
        close(counting);
        free(trace);
        netproc_release(&server);
    }
}
END_TEST

static bool line_has(const char *line, void *text)
{
    return strstr(line, text) != NULL;
}

/* The servers listen on 127.0.0.1 only, on --port when given. */
START_TEST(server_listens_on_127_0_0_1_and_honours_port)
{
    start_server(_i);
    int chosen = server.s.port;
    char want[40];
    snprintf(want, sizeof want, "0100007F:%04X 00000000:0000 0A", chosen);
    ck_assert_msg(tcp_table_has(line_has, want), "no LISTEN socket on 127.0.0.1:%d", chosen);
    snprintf(want, sizeof want, "00000000:%04X 00000000:0000 0A", chosen);
    ck_assert_msg(!tcp_table_has(line_has, want), "listening on every address");
    free(stop_server(SIGTERM));
    netproc_release(&server);
    char *program = program_path(servers[_i]), text[16];
    snprintf(text, sizeof text, "%d", chosen);
    const char *argv[] = { program, "--port", text, NULL };
    ck_assert(netproc_try_start(&server, argv, 20000));
    ck_assert_int_eq(server.s.port, chosen);
    free(stop_server(SIGTERM));
    free(program);
}
END_TEST

/* Bad flags: a message, the usage, status 2, nothing on stdout. */
START_TEST(bad_flags_are_rejected)
{
    char *program = program_path(programs[_i]);
    const char *cases[][3] = { { "--bogus" }, { "--port", "abc" }, { "extra" } };
    for (size_t k = 0; k < 3; k++) {
        const char *argv[4] = { program, cases[k][0], cases[k][1], NULL };
        struct run_result r;
        run_program(argv, NULL, 10000, &r);
        ck_assert_msg(r.status == 2 && strstr(r.err, "usage:") && r.out[0] == '\0',
                      "%s %s: status %d\n%s", programs[_i], cases[k][0], r.status, r.err);
        run_result_free(&r);
    }
    free(program);
}
END_TEST

/* The client with no server on its port: a clear message, status 1. */
START_TEST(client_without_a_server_fails_clearly)
{
    int refused_port, fd = bound_only(&refused_port);
    char *program = program_path(programs[2 + _i]), text[16];
    snprintf(text, sizeof text, "%d", refused_port);
    const char *argv[] = { program, "--port", text, NULL };
    struct run_result r;
    run_program(argv, NULL, 20000, &r);
    ck_assert_msg(r.status == 1 && strstr(r.err, "no answer from 127.0.0.1:") != NULL,
                  "status %d, stderr:\n%s", r.status, r.err);
    run_result_free(&r);
    close(fd);
    free(program);
}
END_TEST

Suite *http_suite(void)
{
    Suite *s = suite_create("http");

    TCase *server_case = tcase_create("http-server");
    tcase_set_timeout(server_case, 30);
    tcase_add_test(server_case, handler_runs_once_the_whole_body_is_in);
    tcase_add_test(server_case, pipelined_requests_are_answered_one_at_a_time_in_order);
    tcase_add_test(server_case, send_reply_moves_the_bytes_and_leaves_the_buffer_to_its_owner);
    tcase_add_test(server_case, reply_can_come_later_from_another_callback);
    tcase_add_test(server_case, server_does_not_notice_a_client_leaving_while_it_holds_the_request);
    tcase_add_test(server_case,
                   a_chunked_reply_to_a_vanished_client_loses_its_connection_not_its_request);
    tcase_add_test(server_case, send_error_closes_the_connection_send_reply_keeps_it);
    tcase_add_test(server_case, send_error_drops_the_headers_the_handler_set);
    tcase_add_test(server_case, max_body_size_answers_413_without_calling_the_handler);
    tcase_add_loop_test(server_case, lingering_close_lets_a_client_still_sending_read_the_413, 0,
                        2);
    tcase_add_loop_test(server_case,
                        lingering_close_answers_an_oversized_expect_100_continue_only_after_the_body,
                        0, 2);
    tcase_add_test(server_case, headers_over_the_limit_get_400);
    tcase_add_test(server_case, a_garbage_request_line_gets_400_and_a_close);
    tcase_add_test(server_case,
                   timeout_closes_a_stalled_request_without_a_reply_and_there_is_none_by_default);
    tcase_add_test(server_case, server_timeout_restarts_with_every_byte);
    tcase_add_loop_test(server_case, a_handler_slower_than_the_timeout_loses_its_reply, 0, 2);
    suite_add_tcase(s, server_case);

    TCase *client_case = tcase_create("http-client");
    tcase_set_timeout(client_case, 30);
    tcase_add_test(client_case, refused_connection_calls_back_with_status_0_and_no_error_callback);
    tcase_add_test(client_case, client_timeout_calls_the_error_callback_then_back_with_null);
    tcase_add_test(client_case, chunk_callback_gets_each_chunk_of_a_chunked_reply);
    tcase_add_test(client_case, chunk_callback_sees_each_read_of_a_reply_that_is_not_chunked);
    tcase_add_test(client_case, client_hears_the_close_before_the_reply_and_reconnects_for_the_next);
    tcase_add_test(client_case, evhttp_connection_new_crashes_without_a_current_base);
    tcase_add_test(client_case, evhttp_connection_new_works_on_the_current_base_after_event_init);
    tcase_add_test(client_case,
                   evhttp_1x_servers_without_a_current_base_report_success_and_never_listen);
    tcase_add_test(client_case, evhttp_free_closes_the_socket_given_to_evhttp_accept_socket);
    suite_add_tcase(s, client_case);

    TCase *real = tcase_create("http-real-clients");
    tcase_set_timeout(real, 60);
    tcase_add_checked_fixture(real, NULL, stop_servers);
    tcase_add_loop_test(real, curl_gets_the_page, 0, SERVERS);
    tcase_add_loop_test(real, curl_echo_of_a_binary_body_is_exact, 0, SERVERS);
    tcase_add_loop_test(real, curl_gets_the_countdown_in_three_chunks, 0, SERVERS);
    tcase_add_loop_test(real, curl_gets_404_for_anything_else, 0, SERVERS);
    tcase_add_loop_test(real, curl_gets_413_for_a_body_over_64_kb, 0, SERVERS);
    tcase_add_loop_test(real, curl_keeps_the_connection_alive, 0, SERVERS);
    tcase_add_loop_test(real, curl_1000_requests_50_at_a_time, 0, SERVERS);
    tcase_add_loop_test(real, nc_garbage_request_line_gets_400_and_a_close, 0, SERVERS);
    tcase_add_loop_test(real, socat_headers_without_end_are_closed_after_the_timeout, 0, SERVERS);
    tcase_add_loop_test(real, socat_headers_over_8_kb_get_400_from_event2_and_a_timeout_from_event1,
                        0, SERVERS);
    tcase_add_loop_test(real,
                        vanishing_and_stalling_clients_leave_the_server_serving_with_no_fd_leaked,
                        0, SERVERS);
    suite_add_tcase(s, real);

    TCase *programs_case = tcase_create("http-programs");
    tcase_set_timeout(programs_case, 60);
    tcase_add_checked_fixture(programs_case, NULL, stop_servers);
    tcase_add_loop_test(programs_case, sigint_and_sigterm_stop_the_server_cleanly, 0, SERVERS);
    tcase_add_loop_test(programs_case, server_listens_on_127_0_0_1_and_honours_port, 0, SERVERS);
    tcase_add_loop_test(programs_case, bad_flags_are_rejected, 0, PROGRAMS);
    tcase_add_loop_test(programs_case, client_without_a_server_fails_clearly, 0, 2);
    suite_add_tcase(s, programs_case);
    return s;
}

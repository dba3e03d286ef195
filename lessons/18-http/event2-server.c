/*
 * Lesson 18, event2 style: a small HTTP server with evhttp.
 *
 * What it shows: evhttp parses each request and calls the handler of its
 *   path once the whole request, body included, is in: GET / is a page,
 *   POST /echo sends the body back, GET /countdown a chunked reply sent
 *   later, a chunk per tick of a timer; anything else is a 404. The
 *   request is libevent's: the handler answers it (evhttp_send_reply*),
 *   now or later, and libevent frees it once the answer is written.
 *   Limits: a 413 for a body over 64 KB, a 400 for headers over 8 KB; a
 *   connection silent for 5 s is closed.
 * Run it:   make lesson-18          (server and client, both styles)
 *           build/bin/18-event2-server --port 8080, then in another
 *           terminal: curl -i http://127.0.0.1:8080/countdown
 * Look for: one "request received" per request; the ticker added while
 *   a countdown runs.
 */
#include "event2.h"
#include "net.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { MAX_BODY = 64 * 1024, MAX_HEADERS = 8 * 1024, IDLE_S = 5, COUNT_FROM = 3 };
static const struct timeval tick = { 0, 10 * 1000 };
static const char page[] = "<!DOCTYPE html>\n<title>Lesson 18</title>\n<p>Hello from evhttp.</p>\n";

/* A chunked reply in progress: each tick of the ticker sends a chunk. */
struct countdown {
    struct evhttp_request *req; /* libevent's; ours to answer until the end */
    int id, left;               /* the number sent next: 3, 2, 1 */
    struct countdown *next;
};

static struct event_base *base;
static struct event *ticker;  /* one timer for every countdown */
static struct evbuffer *chunk; /* ours: each chunk is written into it */
static struct countdown *countdowns;
static int requests; /* ids 1, 2, ... in the order the handlers ran */

/* A client's text for the trace: printable ASCII only, cut to fit. */
static const char *printable(const char *text, char *out, size_t size)
{
    size_t n = 0;
    for (; text[n] != '\0' && n + 1 < size; n++)
        out[n] = text[n] > ' ' && text[n] < 127 ? text[n] : '?';
    out[n] = '\0';
    return out;
}

/* evhttp_send_error(): a small HTML page, and "Connection: close". */
static void reply_error(struct evhttp_request *req, int id, int status)
{
    evhttp_send_error(req, status, NULL);
    trace("request", "replied", "id=%d status=%d", id, status);
}

/* doc: received */
/* After the reply's last byte was written, before libevent frees req. */
static void on_complete(struct evhttp_request *req, void *arg)
{
    (void)req;
    trace_style("request %d complete: written; libevent frees it now", (int)(intptr_t)arg);
}

/* Each request gets an id and a line. One for a known path with another
   method than `method` (0: any) is answered 404 here, and 0 returned. */
static int received(struct evhttp_request *req, enum evhttp_cmd_type method)
{
    char uri[64];
    int id = ++requests;
    enum evhttp_cmd_type asked = evhttp_request_get_command(req);
    trace("request", "received", "id=%d method=%s uri=%s body=%zu", id,
          asked == EVHTTP_REQ_GET ? "GET" : asked == EVHTTP_REQ_POST ? "POST" : "OTHER",
          printable(evhttp_request_get_uri(req), uri, sizeof uri),
          evbuffer_get_length(evhttp_request_get_input_buffer(req)));
    evhttp_request_set_on_complete_cb(req, on_complete, (void *)(intptr_t)id);
    if (method == 0 || asked == method)
        return id;
    reply_error(req, id, HTTP_NOTFOUND);
    return 0;
}
/* doc: end */

static void on_not_found(struct evhttp_request *req, void *arg)
{
    (void)arg;
    reply_error(req, received(req, 0), HTTP_NOTFOUND);
}

static bool set_type(struct evhttp_request *req, const char *type)
{
    return evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type) == 0;
}

/* doc: page */
static void on_page(struct evhttp_request *req, void *arg)
{
    (void)arg;
    int id = received(req, EVHTTP_REQ_GET);
    if (id == 0)
        return;
    /* The request's own output buffer: libevent's, freed with it. */
    if (evbuffer_add(evhttp_request_get_output_buffer(req), page, sizeof page - 1) != 0 ||
        !set_type(req, "text/html; charset=utf-8")) {
        reply_error(req, id, HTTP_INTERNAL);
        return;
    }
    evhttp_send_reply(req, HTTP_OK, "OK", NULL); /* NULL: what the output buffer holds */
    trace("request", "replied", "id=%d status=200 bytes=%zu", id, sizeof page - 1);
}
/* doc: end */

/* doc: echo */
static void on_echo(struct evhttp_request *req, void *arg)
{
    (void)arg;
    /* No size check: over MAX_BODY, libevent answered 413 itself. */
    int id = received(req, EVHTTP_REQ_POST);
    if (id == 0)
        return;
    struct evbuffer *body = evhttp_request_get_input_buffer(req);
    size_t length = evbuffer_get_length(body);
    if (!set_type(req, "application/octet-stream")) {
        reply_error(req, id, HTTP_INTERNAL);
        return;
    }
    evhttp_send_reply(req, HTTP_OK, "OK", body); /* the body moves to the reply */
    trace("request", "replied", "id=%d status=200 bytes=%zu", id, length);
}
/* doc: end */

static void tick_again(void)
{
    if (event_add(ticker, &tick) != 0)
        die("event_add");
    probe_added(ticker, &tick);
}

/* doc: start */
static void on_countdown(struct evhttp_request *req, void *arg)
{
    (void)arg;
    int id = received(req, EVHTTP_REQ_GET);
    if (id == 0)
        return;
    struct countdown *c = malloc(sizeof *c);
    if (c == NULL || !set_type(req, "text/plain")) {
        free(c);
        reply_error(req, id, HTTP_INTERNAL);
        return;
    }
    /* The status line and headers now, the body later. Returning without
       a whole reply is allowed: the request waits for the rest. */
    evhttp_send_reply_start(req, HTTP_OK, "OK");
    trace("request", "started", "id=%d status=200 transfer=chunked", id);
    if (countdowns == NULL) /* the first: start the ticker */
        tick_again();
    *c = (struct countdown){ .req = req, .id = id, .left = COUNT_FROM, .next = countdowns };
    countdowns = c;
}
/* doc: end */

/* doc: tick */
/* The last chunk; libevent frees the request once it is written, or at
   once if the client has gone. */
static void end_countdown(struct countdown **link)
{
    struct countdown *c = *link;
    evhttp_send_reply_end(c->req);
    *link = c->next;
    free(c);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)arg;
    probe_callback(ticker, what);
    for (struct countdown **link = &countdowns, *c; (c = *link) != NULL;) {
        if (evhttp_request_get_connection(c->req) == NULL) {
            /* The client left; the request is still ours to end. */
            trace("request", "abandoned", "id=%d", c->id);
        } else if (evbuffer_add_printf(chunk, "%d\n", c->left) > 0) {
            evhttp_send_reply_chunk(c->req, chunk); /* moves chunk's bytes: one chunk */
            trace("request", "chunk", "id=%d text=%d", c->id, c->left);
            if (--c->left > 0) {
                link = &c->next;
                continue;
            }
            trace("request", "ended", "id=%d", c->id);
        } /* else out of memory: the reply ends here */
        end_countdown(link);
    }
    if (countdowns != NULL) /* more to count */
        tick_again();
    probe_after(ticker);
}
/* doc: end */

static void on_signal(evutil_socket_t signum, short what, void *arg)
{
    (void)what;
    (void)arg;
    trace_note("%s: leaving the loop", signum == SIGINT ? "SIGINT" : "SIGTERM");
    if (event_base_loopexit(base, NULL) != 0)
        die("event_base_loopexit");
}

int main(int argc, char **argv)
{
    struct net_options options;
    net_parse_options(argc, argv, NET_SERVER, &options);
    net_ignore_sigpipe();
    net_hold_stop_signals();

    base = event_base_new();
    if (base == NULL)
        die("event_base_new");

    /* doc: listen */
    struct evhttp *http = evhttp_new(base);
    if (http == NULL)
        die("evhttp_new");
    struct evhttp_bound_socket *bound =
        evhttp_bind_socket_with_handle(http, "127.0.0.1", ntohs(options.address.sin_port));
    if (bound == NULL)
        die_errno("evhttp_bind_socket_with_handle");
    net_announce(evhttp_bound_socket_get_fd(bound));
    trace_style("evhttp_new() on the base; it binds 127.0.0.1, listens and accepts");
    /* doc: end */

    /* doc: limits */
    evhttp_set_max_body_size(http, MAX_BODY);       /* over it: 413, no handler */
    evhttp_set_max_headers_size(http, MAX_HEADERS); /* over it: 400 */
    const struct timeval idle = { IDLE_S, 0 };
    evhttp_set_timeout_tv(http, &idle);             /* any timeval, 1.5 s too */
    /* Read a refused body to its end before answering, so that a client
       still sending it gets the 413, not a reset. */
    if (evhttp_set_flags(http, EVHTTP_SERVER_LINGERING_CLOSE) != 0)
        die("evhttp_set_flags");
    /* doc: end */

    /* doc: routes */
    if (evhttp_set_cb(http, "/", on_page, NULL) != 0 ||
        evhttp_set_cb(http, "/echo", on_echo, NULL) != 0 ||
        evhttp_set_cb(http, "/countdown", on_countdown, NULL) != 0)
        die("evhttp_set_cb");
    evhttp_set_gencb(http, on_not_found, NULL); /* every other path */
    /* doc: end */

    struct event *sigint = evsignal_new(base, SIGINT, on_signal, NULL);
    struct event *sigterm = evsignal_new(base, SIGTERM, on_signal, NULL);
    if (sigint == NULL || sigterm == NULL || evsignal_add(sigint, NULL) != 0 ||
        evsignal_add(sigterm, NULL) != 0)
        die("evsignal_add");
    ticker = evtimer_new(base, on_tick, NULL);
    chunk = evbuffer_new();
    if (ticker == NULL || chunk == NULL)
        die("event_new");
    probe_watch(ticker, "ticker");
    net_release_stop_signals();

    trace("loop", "dispatch", NULL);
    int result = event_base_dispatch(base);
    trace("loop", "returned", "result=%d", result);

    /* doc: cleanup */
    while (countdowns != NULL) /* cut short: evhttp_free() closes them */
        end_countdown(&countdowns);
    if (event_del(ticker) != 0)
        die("event_del");
    probe_step(ticker, "deleted");
    probe_free(ticker);
    event_free(ticker);
    evbuffer_free(chunk);
    evhttp_free(http); /* the socket, every connection, their requests */
    trace("http", "freed", NULL);
    event_free(sigint);
    event_free(sigterm);
    event_base_free(base);
    /* doc: end */
    return 0;
}

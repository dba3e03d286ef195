/*
 * Lesson 18, event1 style: an HTTP client with evhttp, as 1.x wrote it.
 *
 * What it shows: evhttp_connection_new() names a server, on the current
 *   base (event_init() must come first); it connects when the first
 *   request is made, and again whenever the server has closed.
 *   evhttp_make_request() sends a request made with evhttp_request_new();
 *   its callback runs once with the whole answer, and libevent frees the
 *   request after it. The client runs a script, one request after another:
 *   the lesson's server answers the first five (a page, an echo, a chunked
 *   countdown, a 404, a 413); then a "silent" server that accepts and
 *   never answers (a timeout), and a port where nothing listens (a
 *   refused connection).
 * Run it:   make lesson-18          (starts the server, runs this against it)
 *           build/bin/18-event1-client --port PORT   (PORT: what the server
 *           printed)
 * Look for: "chunk" once per chunk the server sent; "server closed" before
 *   the 404 and 413 replies; how a timeout and a refused connection come
 *   back: error callback or not, a request or NULL.
 */
#include "event1.h"
#include "net.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { TOO_LARGE = 64 * 1024 + 1, SILENT_S = 1, SERVER_S = 10 };

static struct event_base *base;
static struct evhttp_connection *server, *silent, *refused;
static char server_at[32]; /* "127.0.0.1:PORT", for messages */
static unsigned char body[TOO_LARGE]; /* 0, 1, ..., 255, 0, 1, ... */
static bool failed;

/* The script. status: what must come back (-1: no request at all). */
static const struct step {
    const char *name;
    struct evhttp_connection **to;
    enum evhttp_cmd_type method;
    const char *uri;
    size_t body;
    bool chunks; /* the reply is chunked: see each chunk */
    int status;
} script[] = {
    { "page", &server, EVHTTP_REQ_GET, "/", 0, false, 200 },
    { "echo", &server, EVHTTP_REQ_POST, "/echo", 256, false, 200 },
    { "chunked", &server, EVHTTP_REQ_GET, "/countdown", 0, true, 200 },
    { "missing", &server, EVHTTP_REQ_GET, "/nowhere", 0, false, 404 },
    { "toolarge", &server, EVHTTP_REQ_POST, "/echo", TOO_LARGE, false, 413 },
    { "silent", &silent, EVHTTP_REQ_GET, "/", 0, false, -1 },
    { "refused", &refused, EVHTTP_REQ_GET, "/", 0, false, 0 },
};
enum { STEPS = sizeof script / sizeof script[0] };
static size_t next_step;

static void run_next_step(void);

/* doc: chunk */
/* Each chunk of a chunked reply, as it comes, then dropped: the final
   callback finds none of them in the input buffer. (Set on a reply that
   is not chunked, it sees each read of the body instead.) */
static void on_chunk(struct evhttp_request *req, void *arg)
{
    const struct step *step = arg;
    struct evbuffer *input = req->input_buffer;
    size_t n = EVBUFFER_LENGTH(input);
    char text[16] = "";
    if (evbuffer_remove(input, text, sizeof text - 1) < 0) /* the rest is dropped */
        die("evbuffer_remove");
    text[strcspn(text, "\n")] = '\0';
    trace(step->name, "chunk", "bytes=%zu text=%s", n, text);
}
/* doc: end */

/* doc: reply */
static void on_reply(struct evhttp_request *req, void *arg)
{
    const struct step *step = arg;
    int status = -1;
    if (req == NULL) { /* failed after connecting: the request is gone */
        trace(step->name, "failed", "request=NULL");
    } else if ((status = req->response_code) == 0) {
        trace(step->name, "failed", "status=0"); /* never connected */
    } else {
        struct evbuffer *input = req->input_buffer;
        size_t n = EVBUFFER_LENGTH(input);
        bool same = n == step->body && (n == 0 || memcmp(EVBUFFER_DATA(input), body, n) == 0);
        trace(step->name, "reply", "status=%d bytes=%zu%s", status, n,
              status == 200 && step->body > 0 ? (same ? " same=yes" : " same=no") : "");
        failed = failed || (status == 200 && step->body > 0 && !same);
    }
    if (status != step->status) {
        if (status == 0 && step->to == &server)
            fprintf(stderr, "%s: no answer from %s (status 0)\n", step->name, server_at);
        else
            fprintf(stderr, "%s: status %d, not %d\n", step->name, status, step->status);
        failed = true;
    }
    /* libevent frees req when this returns: nothing may keep it. */
    run_next_step();
}
/* doc: end */

static void on_close(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    trace((const char *)arg, "closed", NULL);
}

/* doc: request */
static void run_next_step(void)
{
    if (failed || next_step == STEPS) { /* done: connections stay open */
        if (event_loopexit(NULL) != 0)
            die("event_loopexit");
        return;
    }
    const struct step *step = &script[next_step++];
    struct evhttp_request *req = evhttp_request_new(on_reply, (void *)step);
    if (req == NULL)
        die("evhttp_request_new");
    if (step->chunks) /* for any reply: see on_chunk() */
        evhttp_request_set_chunked_cb(req, on_chunk);
    /* No error callback in 1.x: a failure is a NULL or a status of 0. */
    if (evhttp_add_header(req->output_headers, "Host", "127.0.0.1") != 0 ||
        evbuffer_add(req->output_buffer, body, step->body) != 0)
        die("evhttp_add_header");
    /* From here on req is the connection's: libevent frees it once
       on_reply() has returned. */
    if (evhttp_make_request(*step->to, req, step->method, step->uri) != 0)
        die("evhttp_make_request");
    trace(step->name, "sent", "uri=%s bytes=%zu", step->uri, step->body);
}
/* doc: end */

/* doc: connection */
static struct evhttp_connection *connection(const char *name, const struct sockaddr_in *to,
                                            int timeout_s)
{
    char host[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &to->sin_addr, host, sizeof host);
    /* On the current base: without event_init() first, this crashes. */
    struct evhttp_connection *evcon = evhttp_connection_new(host, ntohs(to->sin_port));
    if (evcon == NULL)
        die("evhttp_connection_new");
    evhttp_connection_set_timeout(evcon, timeout_s); /* whole seconds */
    evhttp_connection_set_closecb(evcon, on_close, (void *)name);
    return evcon;
}
/* doc: end */

/* A socket on 127.0.0.1, port chosen by the kernel: listening (connections
   complete, and wait unanswered) or only bound (connections are refused). */
static int local_socket(bool listening, struct sockaddr_in *address)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    socklen_t length = sizeof *address;
    memset(address, 0, sizeof *address);
    address->sin_family = AF_INET;
    address->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)address, sizeof *address) != 0 ||
        (listening && listen(fd, 8) != 0) ||
        getsockname(fd, (struct sockaddr *)address, &length) != 0)
        die_errno("socket");
    return fd;
}

int main(int argc, char **argv)
{
    struct net_options options;
    net_parse_options(argc, argv, NET_CLIENT, &options);
    snprintf(server_at, sizeof server_at, "%s:%d", inet_ntoa(options.address.sin_addr),
             ntohs(options.address.sin_port));
    net_ignore_sigpipe();
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (unsigned char)i;
    struct sockaddr_in silent_address, refused_address;
    int silent_fd = local_socket(true, &silent_address);
    int refused_fd = local_socket(false, &refused_address);

    base = event_init();
    if (base == NULL)
        die("event_init");
    /* doc: connections */
    server = connection("server", &options.address, SERVER_S);
    silent = connection("silent", &silent_address, SILENT_S);
    refused = connection("refused", &refused_address, SERVER_S);
    trace_style("evhttp_connection_new(): on the current base; no socket until a request");
    /* doc: end */

    run_next_step();
    trace("loop", "dispatch", NULL);
    int result = event_dispatch();
    trace("loop", "returned", "result=%d", result);

    evhttp_connection_free(server);
    evhttp_connection_free(silent);
    evhttp_connection_free(refused);
    close(silent_fd);
    close(refused_fd);
    event_base_free(base);
    if (failed || next_step != STEPS) {
        fprintf(stderr, "the script did not run to its end\n");
        return 1;
    }
    return 0;
}

/*
 * Exercise 09 (starter): a key-value store over HTTP, to be written. This
 * file, event2-server.c, is what you hand in.
 *
 * What it should do: keep values by key. PUT /kv/KEY stores the request's
 *   body (201 for a new key, 204 for a new value), GET /kv/KEY gives it
 *   back (200, or 404), DELETE /kv/KEY drops it (204, or 404); another
 *   method on /kv/KEY: 405; a bad key: 400; another path: 404; a value
 *   over --max-value bytes (default 1024): 413. See ../README.md.
 * What it does: listens on 127.0.0.1:PORT (--port; 0 lets the kernel pick,
 *   and the first line says which), answers every request with 501 Not
 *   Implemented, and on SIGTERM or SIGINT frees everything and exits 0.
 * Run it:   make exercise-9        (builds it, runs the graded tests)
 *           build/exercises/09-http-kv-store/bin/event2-server --port 8080,
 *           then curl -i http://127.0.0.1:8080/kv/greeting
 */
#include "event2.h"

#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct event_base *base;

/* Every request, whatever its method and path, comes here. */
static void on_request(struct evhttp_request *req, void *arg)
{
    (void)arg;
    /* Your part: look at the method and the path, keep the values. */
    evhttp_send_reply(req, HTTP_NOTIMPLEMENTED, "Not Implemented", NULL);
}

static void on_signal(evutil_socket_t signum, short what, void *arg)
{
    (void)signum;
    (void)what;
    (void)arg;
    if (event_base_loopexit(base, NULL) != 0)
        die("event_base_loopexit");
}

static void usage(void)
{
    fprintf(stderr, "usage: event2-server [--port PORT] [--max-value BYTES]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    long port = 0, max_value = 1024;
    for (int i = 1; i < argc; i += 2) {
        char *end;
        if (i + 1 >= argc)
            usage();
        long value = strtol(argv[i + 1], &end, 10);
        if (argv[i + 1][0] == '\0' || *end != '\0')
            usage();
        if (strcmp(argv[i], "--port") == 0 && value >= 0 && value <= 65535)
            port = value;
        else if (strcmp(argv[i], "--max-value") == 0 && value >= 0)
            max_value = value;
        else
            usage();
    }
    signal(SIGPIPE, SIG_IGN);

    base = event_base_new();
    if (base == NULL)
        die("event_base_new");
    struct event *on_term = evsignal_new(base, SIGTERM, on_signal, NULL);
    struct event *on_int = evsignal_new(base, SIGINT, on_signal, NULL);
    if (on_term == NULL || on_int == NULL || evsignal_add(on_term, NULL) != 0 ||
        evsignal_add(on_int, NULL) != 0)
        die("evsignal_new");

    struct evhttp *http = evhttp_new(base);
    if (http == NULL)
        die("evhttp_new");
    struct evhttp_bound_socket *bound =
        evhttp_bind_socket_with_handle(http, "127.0.0.1", (unsigned short)port);
    if (bound == NULL)
        die("evhttp_bind_socket_with_handle");
    struct sockaddr_in sin;
    socklen_t length = sizeof sin;
    if (getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&sin, &length) != 0)
        die_errno("getsockname");
    printf("listening on 127.0.0.1:%d\n", ntohs(sin.sin_port));
    fflush(stdout);

    /* Your part: values over max_value bytes get 413. */
    (void)max_value;
    evhttp_set_gencb(http, on_request, NULL);

    if (event_base_dispatch(base) < 0)
        die("event_base_dispatch");

    evhttp_free(http);
    event_free(on_term);
    event_free(on_int);
    event_base_free(base);
    return 0;
}

/*
 * Exercise 09 (solution): a key-value store over HTTP, with evhttp.
 *
 * What it does: listens on 127.0.0.1:PORT (--port; 0 lets the kernel pick,
 *   and the first line says which) and keeps values by key: PUT /kv/KEY
 *   stores the request's body (201 for a new key, 204 for a new value),
 *   GET /kv/KEY gives it back (200, or 404), DELETE /kv/KEY drops it (204,
 *   or 404). Another method on /kv/KEY: 405; a bad key: 400; another path:
 *   404; a value over --max-value bytes (default 1024): 413. Every answer
 *   keeps the connection open. SIGTERM or SIGINT: everything freed, exit 0.
 * Run it:   make grade EXERCISE=9 SUBMISSION=exercises/09-http-kv-store/solution
 *           or event2-server --port 8080, then
 *           curl -X PUT --data-binary hello http://127.0.0.1:8080/kv/greeting
 *           curl http://127.0.0.1:8080/kv/greeting
 * Look for: evhttp_send_reply() for every answer, errors included:
 *   evhttp_send_error() would close the connection. The 413 is libevent's
 *   own (evhttp_set_max_body_size()): the handler never sees such a body.
 */
#include "event2.h"

#include <arpa/inet.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_KEY = 64 };

struct entry {
    char key[MAX_KEY + 1];
    unsigned char *value;
    size_t length;
    struct entry *next;
};

static struct event_base *base;
static struct entry *entries; /* every key stored, freed at the end */

/* 1 to 64 characters out of A-Z a-z 0-9 . _ - */
static bool valid_key(const char *key)
{
    size_t n = strlen(key);
    return n >= 1 && n <= MAX_KEY &&
           strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* The link that points at key's entry, or at the NULL that ends the list. */
static struct entry **find(const char *key)
{
    struct entry **link = &entries;
    while (*link != NULL && strcmp((*link)->key, key) != 0)
        link = &(*link)->next;
    return link;
}

static void free_entry(struct entry **link)
{
    struct entry *e = *link;
    *link = e->next;
    free(e->value);
    free(e);
}

/* Every answer goes through here: evhttp_send_reply() keeps the
   connection open for the client's next request. */
static void reply(struct evhttp_request *req, int code, const char *reason)
{
    evhttp_send_reply(req, code, reason, NULL);
}

static void get(struct evhttp_request *req, const char *key)
{
    struct entry *e = *find(key);
    if (e == NULL) {
        reply(req, HTTP_NOTFOUND, "Not Found");
        return;
    }
    if (evbuffer_add(evhttp_request_get_output_buffer(req), e->value, e->length) != 0 ||
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                          "application/octet-stream") != 0) {
        reply(req, HTTP_INTERNAL, "Internal Server Error");
        return;
    }
    reply(req, HTTP_OK, "OK");
}

static void put(struct evhttp_request *req, const char *key)
{
    struct evbuffer *body = evhttp_request_get_input_buffer(req);
    size_t length = evbuffer_get_length(body);
    unsigned char *value = malloc(length > 0 ? length : 1);
    if (value == NULL || evbuffer_remove(body, value, length) != (int)length) {
        free(value);
        reply(req, HTTP_INTERNAL, "Internal Server Error");
        return;
    }
    struct entry **link = find(key);
    if (*link != NULL) { /* a new value for a key we have */
        free((*link)->value);
        (*link)->value = value;
        (*link)->length = length;
        reply(req, HTTP_NOCONTENT, "No Content");
        return;
    }
    struct entry *e = calloc(1, sizeof *e);
    if (e == NULL) {
        free(value);
        reply(req, HTTP_INTERNAL, "Internal Server Error");
        return;
    }
    snprintf(e->key, sizeof e->key, "%s", key);
    e->value = value;
    e->length = length;
    e->next = entries;
    entries = e;
    reply(req, 201, "Created");
}

static void on_request(struct evhttp_request *req, void *arg)
{
    (void)arg;
    /* The path without the query string, as the client wrote it. */
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    if (path == NULL || strncmp(path, "/kv/", 4) != 0) {
        reply(req, HTTP_NOTFOUND, "Not Found");
        return;
    }
    const char *key = path + 4;
    if (!valid_key(key)) {
        reply(req, HTTP_BADREQUEST, "Bad Request");
        return;
    }
    switch (evhttp_request_get_command(req)) {
    case EVHTTP_REQ_GET:
        get(req, key);
        break;
    case EVHTTP_REQ_PUT:
        put(req, key);
        break;
    default:
        if (evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
                              "GET, PUT") != 0) {
            reply(req, HTTP_INTERNAL, "Internal Server Error");
            return;
        }
        reply(req, HTTP_BADMETHOD, "Method Not Allowed");
    }
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

    /* A value over the limit: libevent answers 413 itself, reading the
       body to its end first so that the client hears it. */
    evhttp_set_max_body_size(http, max_value);
    if (evhttp_set_flags(http, EVHTTP_SERVER_LINGERING_CLOSE) != 0)
        die("evhttp_set_flags");
    evhttp_set_gencb(http, on_request, NULL);

    if (event_base_dispatch(base) < 0)
        die("event_base_dispatch");

    while (entries != NULL)
        free_entry(&entries);
    evhttp_free(http);
    event_free(on_term);
    event_free(on_int);
    event_base_free(base);
    return 0;
}

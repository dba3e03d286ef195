/*
 * Exercise 05 (solution): a line protocol server: evbuffer_readln() and a
 * read watermark.
 *
 * What it does: listens on 127.0.0.1:PORT (--port; 0 lets the kernel
 *   pick, and the first line says which). Each client sends commands, one
 *   a line, ended by "\n" or "\r\n"; each answer is one line ended by "\n":
 *     PING        -> PONG
 *     ECHO text   -> text
 *     QUIT        -> BYE, then the connection closes
 *     (empty)     -> nothing
 *     other       -> ERR unknown command
 *   A line holds at most 64 bytes before its end of line. Once more than
 *   65 bytes wait without a "\n", no line can fit: ERR line too long, and
 *   the connection closes. SIGTERM or SIGINT: everything freed, exit 0.
 * Run it:   make grade EXERCISE=5 SUBMISSION=exercises/05-line-protocol/solution
 *           or event2-server --port 5555, then nc 127.0.0.1 5555
 * Look for: the read high watermark (MAX_LINE + 2): libevent stops reading
 *   a client once that much is waiting, so a client that never sends "\n"
 *   costs at most 66 bytes, and the check in on_read sees it at once.
 */
#include "event2.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_LINE = 64 };

struct client {
    struct bufferevent *bev;
    bool closing; /* answered QUIT or a too-long line: close once flushed */
    struct client *prev, *next;
};

static struct event_base *base;
static struct client *clients;

static void close_client(struct client *c)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        clients = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    bufferevent_free(c->bev);
    free(c);
}

static void answer(struct client *c, const char *text)
{
    if (bufferevent_write(c->bev, text, strlen(text)) != 0 || bufferevent_write(c->bev, "\n", 1) != 0)
        c->closing = true; /* cannot answer: give up on the client */
}

/* Stop reading; on_write closes once the answer has gone out. */
static void finish(struct client *c, const char *last_answer)
{
    answer(c, last_answer);
    c->closing = true;
    if (bufferevent_disable(c->bev, EV_READ) != 0)
        die("bufferevent_disable");
}

static void handle(struct client *c, const char *line)
{
    if (line[0] == '\0')
        return;
    if (strcmp(line, "PING") == 0)
        answer(c, "PONG");
    else if (strncmp(line, "ECHO", 4) == 0 && (line[4] == '\0' || line[4] == ' '))
        answer(c, line[4] == ' ' ? line + 5 : "");
    else if (strcmp(line, "QUIT") == 0)
        finish(c, "BYE");
    else
        answer(c, "ERR unknown command");
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct client *c = arg;
    struct evbuffer *input = bufferevent_get_input(bev);
    char *line;
    size_t length;
    if (!c->closing && (line = evbuffer_readln(input, &length, EVBUFFER_EOL_CRLF)) != NULL) {
        if (length > MAX_LINE)
            finish(c, "ERR line too long");
        else
            handle(c, line);
        free(line);
    }
    /* No "\n" in what is left: it is the start of a line. 64 bytes and a
       "\r" may still end well; more cannot. */
    if (!c->closing && evbuffer_get_length(input) > MAX_LINE + 1)
        finish(c, "ERR line too long");
}

/* The output has drained (write low watermark 0). */
static void on_write(struct bufferevent *bev, void *arg)
{
    (void)bev;
    struct client *c = arg;
    if (c->closing)
        close_client(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        close_client(arg);
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *peer,
                      int peer_length, void *arg)
{
    (void)listener;
    (void)peer;
    (void)peer_length;
    (void)arg;
    struct client *c = calloc(1, sizeof *c);
    if (c == NULL) {
        evutil_closesocket(fd);
        return;
    }
    c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
        evutil_closesocket(fd);
        free(c);
        return;
    }
    c->next = clients;
    if (clients != NULL)
        clients->prev = c;
    clients = c;
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    /* Read no more than a longest line can take ("\r\n" included): a line
       that does not fit is seen as soon as this much has arrived. */
    bufferevent_setwatermark(c->bev, EV_READ, 0, MAX_LINE + 2);
    if (bufferevent_enable(c->bev, EV_READ) != 0)
        close_client(c);
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
    fprintf(stderr, "usage: event2-server [--port PORT]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    long port = 0;
    for (int i = 1; i < argc; i += 2) {
        char *end;
        if (i + 1 >= argc || strcmp(argv[i], "--port") != 0)
            usage();
        port = strtol(argv[i + 1], &end, 10);
        if (*end != '\0' || port < 0 || port > 65535)
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

    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct evconnlistener *listener =
        evconnlistener_new_bind(base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
                                128, (struct sockaddr *)&sin, sizeof sin);
    if (listener == NULL)
        die("evconnlistener_new_bind");
    socklen_t length = sizeof sin;
    if (getsockname(evconnlistener_get_fd(listener), (struct sockaddr *)&sin, &length) != 0)
        die_errno("getsockname");
    printf("listening on 127.0.0.1:%d\n", ntohs(sin.sin_port));
    fflush(stdout);

    if (event_base_dispatch(base) < 0)
        die("event_base_dispatch");

    while (clients != NULL)
        close_client(clients);
    evconnlistener_free(listener);
    event_free(on_term);
    event_free(on_int);
    event_base_free(base);
    return 0;
}

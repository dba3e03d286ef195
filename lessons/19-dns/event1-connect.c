/*
 * Lesson 19, event1 style: connecting to a server by its name.
 *
 * What it shows: 1.x had no call that connects to a name. A 1.x program
 *   resolved the name with evdns_resolve_ipv4() and, in its callback, made
 *   a non-blocking socket and connect()ed it by hand (lesson 11), port and
 *   all. In this one program: a TCP server on 127.0.0.1 that greets each
 *   connection with "hello" and closes it, the lesson's DNS server, which
 *   says www.lesson.test is 127.0.0.1, and a client that connects to
 *   www.lesson.test, reads the greeting and the EOF. Then a second client
 *   tries nowhere.lesson.test: the resolver's callback gets
 *   DNS_ERR_NOTEXIST, and there is nothing to connect to.
 * Run it:   make lesson-19                (every role, both styles)
 *           build/bin/19-event1-connect   (this program alone)
 * Look for: the DNS question before "connected"; "stranger failed" with
 *   DNS_ERR_NOTEXIST, and no connection tried.
 */
#include "event1.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define KNOWN_NAME "www.lesson.test" /* the one name the server knows */
#define GREETING "hello\n"
enum { TTL = 60, BACKLOG = 16 };

struct client {
    const char *tag; /* its name in the trace */
    int fd;          /* bufferevent_new() never closes it: we do */
    struct bufferevent *bev;
};

static struct event_base *base;
static int tcp_port; /* the TCP server's, chosen by the kernel */
static struct event connecting; /* EV_WRITE: the connect() is over */

/* Names are compared and printed in lower case (see on_question). */
static const char *lower_case(const char *name, char *buf, size_t size)
{
    size_t i = 0;
    for (; name[i] != '\0' && i + 1 < size; i++)
        buf[i] = (char)tolower((unsigned char)name[i]);
    buf[i] = '\0';
    return buf;
}

/* The lesson's DNS server: www.lesson.test is 127.0.0.1, no other name
   exists (NXDOMAIN). Names come in random case: see the resolve role. */
static void on_question(struct evdns_server_request *req, void *arg)
{
    (void)arg;
    int rcode = DNS_ERR_NOTEXIST;
    for (int i = 0; i < req->nquestions; i++) {
        const struct evdns_server_question *q = req->questions[i];
        char name[256];
        const char *answer = "NXDOMAIN";
        if (strcmp(lower_case(q->name, name, sizeof name), KNOWN_NAME) == 0) {
            rcode = DNS_ERR_NONE;
            answer = "none"; /* the name exists, with no address of that type */
            if (q->type == EVDNS_TYPE_A) {
                ev_uint32_t address = htonl(INADDR_LOOPBACK);
                if (evdns_server_request_add_a_reply(req, q->name, 1, &address, TTL) != 0)
                    die("evdns_server_request_add_a_reply");
                answer = "127.0.0.1";
            }
        }
        trace("server", "question", "type=%s name=%s answer=%s",
              q->type == EVDNS_TYPE_A ? "A" : "other", name, answer);
    }
    if (evdns_server_request_respond(req, rcode) != 0) /* sends, and frees req */
        die("evdns_server_request_respond");
}

/* The TCP server: a greeting, then it hangs up. */
static void on_accept(int listen_fd, short what, void *arg)
{
    (void)what;
    (void)arg;
    int fd = accept(listen_fd, NULL, NULL);
    if (fd < 0 && (errno == EAGAIN || errno == ECONNABORTED))
        return; /* the connection went away before we took it */
    if (fd < 0)
        die_errno("accept");
    if (send(fd, GREETING, strlen(GREETING), MSG_NOSIGNAL) != (ssize_t)strlen(GREETING))
        die_errno("send");
    close(fd);
}

static void connect_by_name(struct client *c, const char *name);

static void on_read(struct bufferevent *bev, void *arg)
{
    struct client *c = arg;
    char text[32];
    size_t n = bufferevent_read(bev, text, sizeof text - 1);
    text[n] = '\0';
    text[strcspn(text, "\n")] = '\0';
    trace(c->tag, "read", "bytes=%zu text=%s", n, text);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    static struct client stranger = { "stranger", -1, NULL };
    struct client *c = arg;
    char flags[64];
    trace(c->tag, "event-cb", "what=%s", trace_bev_flags(what, flags, sizeof flags));
    bufferevent_free(bev);
    close(c->fd);
    trace(c->tag, "freed", NULL);
    connect_by_name(&stranger, "nowhere.lesson.test");
}

/* doc: connected */
/* EV_WRITE on the connecting socket: the connect() is over; SO_ERROR says
   how. Then a bufferevent takes the socket over (lesson 11). */
static void on_connected(int fd, short what, void *arg)
{
    struct client *c = arg;
    int error = 0;
    socklen_t length = sizeof error;
    (void)what;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0)
        die_errno("getsockopt(SO_ERROR)");
    if (error != 0) {
        errno = error;
        die_errno("connect");
    }
    trace_style("EV_WRITE on the connecting socket: connect() is done");
    trace(c->tag, "connected", NULL);
    c->bev = bufferevent_new(fd, on_read, NULL, on_event, c);
    if (c->bev == NULL || bufferevent_base_set(base, c->bev) != 0)
        die("bufferevent_new");
    if (bufferevent_enable(c->bev, EV_READ) != 0)
        die("bufferevent_enable");
}
/* doc: end */

/* doc: resolved */
/* The resolver's answer: connect to the first address, by hand. */
static void on_resolved(int result, char type, int count, int ttl, void *addresses, void *arg)
{
    struct client *c = arg;
    (void)ttl;
    if (result != DNS_ERR_NONE || type != DNS_IPv4_A || count == 0) {
        trace(c->tag, "failed", NULL);
        trace_style("the resolver's callback: %s; nothing to connect to",
                    result == DNS_ERR_NOTEXIST ? "DNS_ERR_NOTEXIST" : "another DNS_ERR_ code");
        if (event_loopexit(NULL) != 0) /* the resolver would keep it running */
            die("event_loopexit");
        return;
    }
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons(tcp_port) };
    memcpy(&address.sin_addr, addresses, sizeof address.sin_addr); /* the first */
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0)
        die_errno("socket");
    if (evutil_make_socket_nonblocking(c->fd) != 0)
        die("evutil_make_socket_nonblocking");
    if (connect(c->fd, (struct sockaddr *)&address, sizeof address) != 0 && errno != EINPROGRESS)
        die_errno("connect");
    event_set(&connecting, c->fd, EV_WRITE, on_connected, c);
    if (event_add(&connecting, NULL) != 0)
        die("event_add");
    trace_style("resolved: connect() by hand to the address, EV_WRITE will say when done");
}
/* doc: end */

/* doc: connect */
static void connect_by_name(struct client *c, const char *name)
{
    trace(c->tag, "connecting", "name=%s", name);
    if (evdns_resolve_ipv4(name, 0, on_resolved, c) != 0)
        die("evdns_resolve_ipv4");
    trace_style("evdns_resolve_ipv4(name, 0, on_resolved, c): the connect comes after");
}
/* doc: end */

int main(int argc, char **argv)
{
    if (argc > 1) {
        fprintf(stderr, "usage: %s (no arguments)\n", argv[0]);
        return 2;
    }
    base = event_init();
    if (base == NULL)
        die("event_init");

    /* The TCP server, on a port the kernel picks: socket, bind, listen by
       hand, and a persistent EV_READ event that accepts (lesson 10). */
    struct sockaddr_in address = { .sin_family = AF_INET };
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    int listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&address, sizeof address) != 0 ||
        listen(listen_fd, BACKLOG) != 0 ||
        getsockname(listen_fd, (struct sockaddr *)&address, &length) != 0)
        die_errno("the TCP server's socket");
    if (evutil_make_socket_nonblocking(listen_fd) != 0)
        die("evutil_make_socket_nonblocking");
    tcp_port = ntohs(address.sin_port);
    static struct event listen_event;
    event_set(&listen_event, listen_fd, EV_READ | EV_PERSIST, on_accept, NULL);
    if (event_add(&listen_event, NULL) != 0)
        die("event_add");
    trace_note("a TCP server on 127.0.0.1 that says hello; the DNS server names it");

    /* doc: setup */
    /* The DNS server, on a UDP port the kernel picks, and the global
       resolver, asking only it (the resolve role says more). */
    int server_fd = socket(AF_INET, SOCK_DGRAM, 0);
    address.sin_port = 0;
    length = sizeof address;
    if (server_fd < 0 || bind(server_fd, (struct sockaddr *)&address, sizeof address) != 0 ||
        getsockname(server_fd, (struct sockaddr *)&address, &length) != 0)
        die_errno("the DNS server's socket");
    if (evutil_make_socket_nonblocking(server_fd) != 0)
        die("evutil_make_socket_nonblocking");
    struct evdns_server_port *server = evdns_add_server_port(server_fd, 0, on_question, NULL);
    if (server == NULL)
        die("evdns_add_server_port");
    char nameserver[32];
    snprintf(nameserver, sizeof nameserver, "127.0.0.1:%d", ntohs(address.sin_port));
    if (evdns_nameserver_ip_add(nameserver) != 0)
        die("evdns_nameserver_ip_add");
    /* doc: end */

    static struct client client = { "client", -1, NULL };
    connect_by_name(&client, KNOWN_NAME);
    trace("loop", "dispatch", NULL);
    int result = event_dispatch();
    trace("loop", "returned", "result=%d", result);

    evdns_shutdown(0);
    evdns_close_server_port(server); /* closes server_fd */
    if (event_del(&listen_event) != 0)
        die("event_del");
    close(listen_fd);
    event_base_free(base);
    return result < 0 ? 1 : 0;
}

/*
 * Lesson 19, event2 style: connecting to a server by its name.
 *
 * What it shows: bufferevent_socket_connect_hostname() looks a name up
 *   with the evdns_base it is given, then connects to the address it got.
 *   In this one program: a TCP server on 127.0.0.1 that greets each
 *   connection with "hello" and closes it, the lesson's DNS server, which
 *   says www.lesson.test is 127.0.0.1, and a client that connects to
 *   www.lesson.test, reads the greeting and the EOF. Then a second client
 *   tries nowhere.lesson.test: its event callback gets BEV_EVENT_ERROR, and
 *   bufferevent_socket_get_dns_error() says that the name does not exist.
 * Run it:   make lesson-19                (every role, both styles)
 *           build/bin/19-event2-connect   (this program alone)
 * Look for: the DNS question before "connected": the lookup is part of
 *   the connect; "stranger failed" with EVUTIL_EAI_NONAME, and no
 *   connection tried.
 */
#include "event2.h"
#include <event2/dns_struct.h> /* the questions' fields: 2.1 has no accessor */

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define KNOWN_NAME "www.lesson.test" /* the one name the server knows */
#define GREETING "hello\n"
enum { TTL = 60, BACKLOG = 16 };

static struct event_base *base;
static struct evdns_base *dns;
static int tcp_port; /* the TCP server's, chosen by the kernel */

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
static void on_accept(struct evconnlistener *listener, evutil_socket_t fd,
                      struct sockaddr *peer, int peer_length, void *arg)
{
    (void)listener;
    (void)peer;
    (void)peer_length;
    (void)arg;
    if (send(fd, GREETING, strlen(GREETING), MSG_NOSIGNAL) != (ssize_t)strlen(GREETING))
        die_errno("send");
    evutil_closesocket(fd);
}

static void connect_by_name(const char *tag, const char *name);

static void on_read(struct bufferevent *bev, void *arg)
{
    char text[32];
    size_t n = bufferevent_read(bev, text, sizeof text - 1);
    text[n] = '\0';
    text[strcspn(text, "\n")] = '\0';
    trace((const char *)arg, "read", "bytes=%zu text=%s", n, text);
}

/* doc: event */
static void on_event(struct bufferevent *bev, short what, void *arg)
{
    const char *tag = arg;
    char flags[64];
    trace_bev_flags(what, flags, sizeof flags);
    if (what & BEV_EVENT_CONNECTED) {
        trace_style("event-cb what=%s", flags);
        trace(tag, "connected", NULL);
        return;
    }
    if (what & BEV_EVENT_EOF) {
        trace(tag, "event-cb", "what=%s", flags);
        bufferevent_free(bev); /* BEV_OPT_CLOSE_ON_FREE: closes the socket */
        trace(tag, "freed", NULL);
        connect_by_name("stranger", "nowhere.lesson.test");
        return;
    }
    /* BEV_EVENT_ERROR: the lookup failed (a DNS error), or the connection. */
    int dns_error = bufferevent_socket_get_dns_error(bev);
    trace(tag, "failed", NULL);
    trace_style("event-cb what=%s; the DNS error: %s", flags,
                dns_error == EVUTIL_EAI_NONAME ? "EVUTIL_EAI_NONAME"
                : dns_error == 0 ? "0, not a DNS error" : "another EVUTIL_EAI_ code");
    bufferevent_free(bev);
    if (event_base_loopexit(base, NULL) != 0) /* the resolver would keep it running */
        die("event_base_loopexit");
}
/* doc: end */

/* doc: connect */
static void connect_by_name(const char *tag, const char *name)
{
    /* No socket yet (-1): it is made once the name has an address. */
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL)
        die("bufferevent_socket_new");
    bufferevent_setcb(bev, on_read, NULL, on_event, (void *)tag);
    if (bufferevent_enable(bev, EV_READ) != 0)
        die("bufferevent_enable");
    trace(tag, "connecting", "name=%s", name);
    if (bufferevent_socket_connect_hostname(bev, dns, AF_INET, name, tcp_port) != 0)
        die("bufferevent_socket_connect_hostname");
    trace_style("bufferevent_socket_connect_hostname(bev, dns, AF_INET, name, port)");
}
/* doc: end */

int main(int argc, char **argv)
{
    if (argc > 1) {
        fprintf(stderr, "usage: %s (no arguments)\n", argv[0]);
        return 2;
    }
    base = event_base_new();
    if (base == NULL)
        die("event_base_new");

    /* The TCP server, on a port the kernel picks. */
    struct sockaddr_in address = { .sin_family = AF_INET };
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    struct evconnlistener *listener =
        evconnlistener_new_bind(base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE, BACKLOG,
                                (struct sockaddr *)&address, sizeof address);
    if (listener == NULL)
        die_errno("evconnlistener_new_bind");
    if (getsockname(evconnlistener_get_fd(listener), (struct sockaddr *)&address, &length) != 0)
        die_errno("getsockname");
    tcp_port = ntohs(address.sin_port);
    trace_note("a TCP server on 127.0.0.1 that says hello; the DNS server names it");

    /* doc: setup */
    /* The DNS server, on a UDP port the kernel picks, and a resolver that
       asks only it (the resolve role says more). */
    int server_fd = socket(AF_INET, SOCK_DGRAM, 0);
    address.sin_port = 0;
    length = sizeof address;
    if (server_fd < 0 || bind(server_fd, (struct sockaddr *)&address, sizeof address) != 0 ||
        getsockname(server_fd, (struct sockaddr *)&address, &length) != 0)
        die_errno("the DNS server's socket");
    if (evutil_make_socket_nonblocking(server_fd) != 0)
        die("evutil_make_socket_nonblocking");
    struct evdns_server_port *server =
        evdns_add_server_port_with_base(base, server_fd, 0, on_question, NULL);
    if (server == NULL)
        die("evdns_add_server_port_with_base");
    dns = evdns_base_new(base, 0);
    if (dns == NULL)
        die("evdns_base_new");
    char nameserver[32];
    snprintf(nameserver, sizeof nameserver, "127.0.0.1:%d", ntohs(address.sin_port));
    if (evdns_base_nameserver_ip_add(dns, nameserver) != 0)
        die("evdns_base_nameserver_ip_add");
    /* doc: end */

    connect_by_name("client", KNOWN_NAME);
    trace("loop", "dispatch", NULL);
    int result = event_base_dispatch(base);
    trace("loop", "returned", "result=%d", result);

    evdns_base_free(dns, 0);
    evdns_close_server_port(server); /* closes server_fd */
    evconnlistener_free(listener);   /* LEV_OPT_CLOSE_ON_FREE: closes its socket */
    event_base_free(base);
    return result < 0 ? 1 : 0;
}

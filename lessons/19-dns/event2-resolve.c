/*
 * Lesson 19, event2 style: resolving names with evdns, against the lesson's
 * own DNS server.
 *
 * What it shows: a DNS server on 127.0.0.1 (evdns_add_server_port_with_base)
 *   that knows one name, and a resolver made with evdns_base_new(base, 0),
 *   which reads no system file and asks only that server. Four names go
 *   through evdns_getaddrinfo(): one the server knows, one it does not
 *   (NXDOMAIN), a numeric address, and a name from a hosts file the program
 *   writes itself. The last two are answered inside the call: no query,
 *   no loop, and the callback has run before the call returns.
 * Run it:   make lesson-19                 (every role, both styles)
 *           build/bin/19-event2-resolve    (this program alone)
 * Look for: "server question" only for the first two names; for the other
 *   two, the callback line comes before "evdns_getaddrinfo() returned NULL".
 */
#include "event2.h"
#include <event2/dns_struct.h> /* the questions' fields: 2.1 has no accessor */

#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define KNOWN_NAME "www.lesson.test"              /* the one name the server knows */
#define HOSTS_LINE "127.0.0.2 db.lesson.test\n"   /* the lesson's hosts file */
enum { TTL = 60 };

struct lookup {
    const char *tag;  /* its name in the trace */
    const char *name; /* what is looked up */
    const char *why;  /* what it shows */
    bool waiting;     /* main is in the loop for its answer */
};

static struct event_base *base;

/* Names are compared and printed in lower case (see on_question). */
static const char *lower_case(const char *name, char *buf, size_t size)
{
    size_t i = 0;
    for (; name[i] != '\0' && i + 1 < size; i++)
        buf[i] = (char)tolower((unsigned char)name[i]);
    buf[i] = '\0';
    return buf;
}

static const char *type_name(int type)
{
    return type == EVDNS_TYPE_A ? "A" : type == EVDNS_TYPE_AAAA ? "AAAA" : "other";
}

/* doc: server */
/* The lesson's DNS server: www.lesson.test is 127.0.0.1, no other name
   exists (NXDOMAIN). The resolver sets the case of each letter at random
   (the "0x20" defence against forged replies), so the server compares and
   prints names in lower case, and answers with the name as it came. */
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
        trace("server", "question", "type=%s name=%s answer=%s", type_name(q->type), name, answer);
    }
    if (evdns_server_request_respond(req, rcode) != 0) /* sends, and frees req */
        die("evdns_server_request_respond");
}
/* doc: end */

static const char *gai_error_name(int err)
{
    switch (err) {
    case 0: return "0";
    case EVUTIL_EAI_NONAME: return "EVUTIL_EAI_NONAME";
    case EVUTIL_EAI_FAIL: return "EVUTIL_EAI_FAIL";
    case EVUTIL_EAI_CANCEL: return "EVUTIL_EAI_CANCEL";
    default: return "another EVUTIL_EAI_ code";
    }
}

/* doc: answer */
static void on_answer(int err, struct evutil_addrinfo *ai, void *arg)
{
    struct lookup *l = arg;
    char answer[64] = "none";
    if (ai != NULL) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ai->ai_addr;
        if (evutil_inet_ntop(AF_INET, &sin->sin_addr, answer, sizeof answer) == NULL)
            die("evutil_inet_ntop");
        evutil_freeaddrinfo(ai); /* the answer is ours to free */
    }
    trace(l->tag, "answered", "address=%s", answer);
    trace_style("err=%s", gai_error_name(err));
    /* An answer that took a query comes from the loop: leave it. One given
       inside evdns_getaddrinfo() comes before any loop runs. */
    if (l->waiting && event_base_loopexit(base, NULL) != 0)
        die("event_base_loopexit");
}
/* doc: end */

/* doc: lookup */
static void look_up(struct evdns_base *dns, struct lookup *l)
{
    struct evutil_addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET; /* A records only: one query per name */
    hints.ai_socktype = SOCK_STREAM;

    trace_note("%s", l->why);
    trace(l->tag, "asking", "name=%s", l->name);
    struct evdns_getaddrinfo_request *request =
        evdns_getaddrinfo(dns, l->name, NULL, &hints, on_answer, l);
    if (request == NULL) {
        trace_style("evdns_getaddrinfo() returned NULL: its callback has run, no query");
        return;
    }
    trace_style("evdns_getaddrinfo() returned a request: the answer comes from the loop");
    l->waiting = true;
    trace("loop", "dispatch", NULL);
    int result = event_base_dispatch(base);
    trace("loop", "returned", "result=%d", result);
}
/* doc: end */

/* A UDP socket on 127.0.0.1, on a port the kernel picks: *port. */
static int udp_socket(int *port)
{
    struct sockaddr_in address = { .sin_family = AF_INET };
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        die_errno("socket");
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0 ||
        getsockname(fd, (struct sockaddr *)&address, &length) != 0)
        die_errno("bind");
    *port = ntohs(address.sin_port);
    return fd;
}

/* The lesson's hosts file, in the temporary directory; path gets its name. */
static void write_hosts_file(char *path, size_t size)
{
    const char *dir = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
    snprintf(path, size, "%s/lesson19-hosts.XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0)
        die_errno("mkstemp");
    if (write(fd, HOSTS_LINE, strlen(HOSTS_LINE)) != (ssize_t)strlen(HOSTS_LINE))
        die_errno("write");
    close(fd);
    trace_note("hosts file: %.*s", (int)strlen(HOSTS_LINE) - 1, HOSTS_LINE);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        fprintf(stderr, "usage: %s (no arguments)\n", argv[0]);
        return 2;
    }
    base = event_base_new();
    if (base == NULL)
        die("event_base_new");

    /* doc: setup */
    /* The server: a non-blocking UDP socket (the server reads until it is
       empty), served by the base. evdns_close_server_port() closes it. */
    int port;
    int server_fd = udp_socket(&port);
    if (evutil_make_socket_nonblocking(server_fd) != 0)
        die("evutil_make_socket_nonblocking");
    struct evdns_server_port *server =
        evdns_add_server_port_with_base(base, server_fd, 0, on_question, NULL);
    if (server == NULL)
        die("evdns_add_server_port_with_base");
    trace_note("the lesson's DNS server, on 127.0.0.1: www.lesson.test is 127.0.0.1");
    trace_style("evdns_add_server_port_with_base(base, fd, 0, on_question, NULL)");

    /* The resolver: 0 = no /etc/resolv.conf, no /etc/hosts; our server only. */
    struct evdns_base *dns = evdns_base_new(base, 0);
    if (dns == NULL)
        die("evdns_base_new");
    char nameserver[32];
    snprintf(nameserver, sizeof nameserver, "127.0.0.1:%d", port);
    if (evdns_base_nameserver_ip_add(dns, nameserver) != 0)
        die("evdns_base_nameserver_ip_add");
    trace_note("a resolver that asks only that server and reads no system file");
    trace_style("evdns_base_new(base, 0), evdns_base_nameserver_ip_add(dns, ...)");

    char hosts[256];
    write_hosts_file(hosts, sizeof hosts);
    if (evdns_base_load_hosts(dns, hosts) != 0)
        die("evdns_base_load_hosts");
    trace_style("evdns_base_load_hosts(dns, path): evdns_getaddrinfo() will look there");
    /* doc: end */

    struct lookup lookups[] = {
        { "www", KNOWN_NAME, "a name the server knows", false },
        { "nowhere", "nowhere.lesson.test", "a name that does not exist", false },
        { "numeric", "127.0.0.1", "an address already", false },
        { "hosts", "db.lesson.test", "a name in the hosts file", false },
    };
    for (size_t i = 0; i < sizeof lookups / sizeof lookups[0]; i++)
        look_up(dns, &lookups[i]);

    if (unlink(hosts) != 0)
        die_errno("unlink");
    evdns_base_free(dns, 0);          /* nothing is in flight */
    evdns_close_server_port(server);  /* closes server_fd */
    event_base_free(base);
    return 0;
}

/*
 * Lesson 19, event1 style: resolving names with evdns, against the lesson's
 * own DNS server.
 *
 * What it shows: a DNS server on 127.0.0.1 (evdns_add_server_port, on the
 *   event_init() base) that knows one name, and the global resolver, given
 *   that server with evdns_nameserver_ip_add() and nothing else: no
 *   evdns_init(), which would read /etc/resolv.conf and add the machine's
 *   own nameservers. Four names: one the server knows, one it does not
 *   (NXDOMAIN), a numeric address and a name from a hosts file the program
 *   writes itself. 1.x had only evdns_resolve_ipv4(), which sends every
 *   name to the nameserver, addresses included, and read no hosts file; so
 *   the program, as 1.x programs did, checks for an address with
 *   inet_aton() and looks in the hosts file itself before asking.
 * Run it:   make lesson-19                 (every role, both styles)
 *           build/bin/19-event1-resolve    (this program alone)
 * Look for: "server question" only for the first two names; "event1" lines
 *   where 2.x's evdns_getaddrinfo() does the work for event2.
 */
#include "event1.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

static const char *dns_error_name(int result)
{
    switch (result) {
    case DNS_ERR_NONE: return "DNS_ERR_NONE";
    case DNS_ERR_NOTEXIST: return "DNS_ERR_NOTEXIST";
    case DNS_ERR_TIMEOUT: return "DNS_ERR_TIMEOUT";
    default: return "another DNS_ERR_ code";
    }
}

/* doc: answer */
static void on_answer(int result, char type, int count, int ttl, void *addresses, void *arg)
{
    struct lookup *l = arg;
    char answer[64] = "none";
    (void)ttl;
    if (result == DNS_ERR_NONE && type == DNS_IPv4_A && count > 0 &&
        inet_ntop(AF_INET, addresses, answer, sizeof answer) == NULL) /* the first */
        die_errno("inet_ntop");
    trace(l->tag, "answered", "address=%s", answer);
    trace_style("result=%s", dns_error_name(result));
    if (l->waiting && event_loopexit(NULL) != 0)
        die("event_loopexit");
}
/* doc: end */

/* 1.x evdns read no hosts file: a 1.x program looked in one itself. */
static bool in_hosts_file(const char *path, const char *name, struct in_addr *address)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        die_errno("fopen");
    char line[256];
    bool found = false;
    while (!found && fgets(line, sizeof line, f) != NULL) {
        char *rest, *field = strtok_r(line, " \t\n", &rest);
        if (field == NULL || field[0] == '#' || inet_aton(field, address) == 0)
            continue;
        while (!found && (field = strtok_r(NULL, " \t\n", &rest)) != NULL)
            found = strcasecmp(field, name) == 0; /* names ignore case */
    }
    fclose(f);
    return found;
}

/* doc: lookup */
static void look_up(const char *hosts, struct lookup *l)
{
    struct in_addr address;
    char text[INET_ADDRSTRLEN];

    trace_note("%s", l->why);
    trace(l->tag, "asking", "name=%s", l->name);
    if (inet_aton(l->name, &address) != 0) {
        trace_style("inet_aton() reads an address: no evdns call, no query");
    } else if (in_hosts_file(hosts, l->name, &address)) {
        trace_style("found in the hosts file by the program: 1.x evdns read none");
    } else {
        if (evdns_resolve_ipv4(l->name, 0, on_answer, l) != 0)
            die("evdns_resolve_ipv4");
        trace_style("evdns_resolve_ipv4() returned 0: the answer comes from the loop");
        l->waiting = true;
        trace("loop", "dispatch", NULL);
        int result = event_dispatch();
        trace("loop", "returned", "result=%d", result);
        return;
    }
    trace(l->tag, "answered", "address=%s", inet_ntop(AF_INET, &address, text, sizeof text));
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
    struct event_base *base = event_init();
    if (base == NULL)
        die("event_init");

    /* doc: setup */
    /* The server: a non-blocking UDP socket (the server reads until it is
       empty), served by the current base. evdns_close_server_port() closes it. */
    int port;
    int server_fd = udp_socket(&port);
    if (evutil_make_socket_nonblocking(server_fd) != 0)
        die("evutil_make_socket_nonblocking");
    struct evdns_server_port *server = evdns_add_server_port(server_fd, 0, on_question, NULL);
    if (server == NULL)
        die("evdns_add_server_port");
    trace_note("the lesson's DNS server, on 127.0.0.1: www.lesson.test is 127.0.0.1");
    trace_style("evdns_add_server_port(fd, 0, on_question, NULL): on event_init()'s base");

    /* The resolver: no evdns_init() (it reads /etc/resolv.conf and
       /etc/hosts); the first call makes an empty global resolver. */
    char nameserver[32];
    snprintf(nameserver, sizeof nameserver, "127.0.0.1:%d", port);
    if (evdns_nameserver_ip_add(nameserver) != 0)
        die("evdns_nameserver_ip_add");
    trace_note("a resolver that asks only that server and reads no system file");
    trace_style("no evdns_init(); evdns_nameserver_ip_add(\"127.0.0.1:PORT\")");

    char hosts[256];
    write_hosts_file(hosts, sizeof hosts);
    trace_style("1.x evdns reads no hosts file: the program will look there itself");
    /* doc: end */

    struct lookup lookups[] = {
        { "www", KNOWN_NAME, "a name the server knows", false },
        { "nowhere", "nowhere.lesson.test", "a name that does not exist", false },
        { "numeric", "127.0.0.1", "an address already", false },
        { "hosts", "db.lesson.test", "a name in the hosts file", false },
    };
    for (size_t i = 0; i < sizeof lookups / sizeof lookups[0]; i++)
        look_up(hosts, &lookups[i]);

    if (unlink(hosts) != 0)
        die_errno("unlink");
    evdns_shutdown(0);                /* frees the global resolver */
    evdns_close_server_port(server);  /* closes server_fd */
    event_base_free(base);
    return 0;
}

/*
 * dns.c - the dns suite: what lesson 19 (evdns: a resolver, a DNS server,
 * connecting by name) claims, against the real libevent (2.1.12 on
 * Debian 12). The lesson cites these tests as `dns/<test name>`.
 *
 * Nothing here reaches the network or the machine's resolver. Each test
 * runs its own DNS server on 127.0.0.1 (evdns_add_server_port_with_base(),
 * in the test's own base) or a "silent" nameserver: a UDP socket bound on
 * 127.0.0.1 and never read, where every query sent waits to be counted.
 * Resolvers are made with evdns_base_new(base, 0) and given only those.
 * The two tests that show what the system configuration does read
 * /etc/resolv.conf and /etc/hosts, and suspend the resolver before
 * anything could be sent.
 *
 * Orders come from the loop (a callback "inside the call" is one that ran
 * before the call returned) and from counting: packets at a silent
 * socket, questions at the test's server. Where a timeout itself is the
 * subject, a lower bound says it did not come early, or a guard timer in
 * the same base, with a deadline several times later, says which came
 * first.
 */
#define _GNU_SOURCE /* strcasestr, RTLD_DEFAULT */
#include "suites.h"
#include "util.h"

#include <evdns.h> /* <event.h>, dns.h, dns_compat.h (the 1.x calls), dns_struct.h */
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum { MAX_ASKED = 16, PROGRAM_TIMEOUT_MS = 60000 };

/* --- Sockets on 127.0.0.1 ------------------------------------------------------ */

/* A UDP socket bound on 127.0.0.1, port chosen by the kernel: *port. */
static int udp_socket(int *port)
{
    struct sockaddr_in address = { .sin_family = AF_INET };
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&address, sizeof address), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&address, &length), 0);
    *port = ntohs(address.sin_port);
    return fd;
}

/* How many datagrams wait at fd (read and dropped). */
static int count_packets(int fd)
{
    char packet[1500];
    int count = 0;
    while (recv(fd, packet, sizeof packet, MSG_DONTWAIT) >= 0)
        count++;
    ck_assert_msg(errno == EAGAIN || errno == EWOULDBLOCK, "recv: %s", strerror(errno));
    return count;
}

/* The question's name in a DNS query packet ("google.com"). */
static void query_name(const unsigned char *packet, size_t length, char *name, size_t size)
{
    size_t at = 12, out = 0; /* the header is 12 bytes */
    while (at < length && packet[at] != 0) {
        size_t label = packet[at++];
        ck_assert_msg(at + label <= length && out + label + 1 < size, "a bad query");
        if (out > 0)
            name[out++] = '.';
        memcpy(name + out, packet + at, label);
        out += label;
        at += label;
    }
    name[out] = '\0';
}

/* --- The test's DNS server ------------------------------------------------------- */

/* What it knows: www is 127.0.0.1; two and rev have two addresses each, in
   opposite orders; servfail answers SERVFAIL. Any other name: NXDOMAIN. A
   known name answers an AAAA question with no address. */
static const struct known {
    const char *name;
    int rcode;
    const char *addresses[2];
} known[] = {
    { "www.lesson.test", DNS_ERR_NONE, { "127.0.0.1", NULL } },
    { "two.lesson.test", DNS_ERR_NONE, { "127.0.0.2", "127.0.0.1" } },
    { "rev.lesson.test", DNS_ERR_NONE, { "127.0.0.1", "127.0.0.2" } },
    { "servfail.lesson.test", DNS_ERR_SERVERFAILED, { NULL, NULL } },
};

struct server {
    struct evdns_server_port *port;
    int fd, number;                 /* its socket and UDP port */
    int asked;                      /* questions received */
    char names[MAX_ASKED][256];     /* each as it came */
    int types[MAX_ASKED];
    bool toggle_case;               /* reply with the question's letters in the other case */
};

static void on_question(struct evdns_server_request *req, void *arg)
{
    struct server *s = arg;
    int rcode = DNS_ERR_NOTEXIST;
    for (int i = 0; i < req->nquestions; i++) {
        struct evdns_server_question *q = req->questions[i];
        if (s->asked < MAX_ASKED) {
            snprintf(s->names[s->asked], sizeof s->names[0], "%s", q->name);
            s->types[s->asked] = q->type;
        }
        s->asked++;
        for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) {
            if (strcasecmp(q->name, known[k].name) != 0)
                continue;
            rcode = known[k].rcode;
            for (size_t a = 0; a < 2 && known[k].addresses[a] != NULL && q->type == EVDNS_TYPE_A;
                 a++) {
                struct in_addr address;
                ck_assert_int_eq(inet_pton(AF_INET, known[k].addresses[a], &address), 1);
                ck_assert_int_eq(evdns_server_request_add_a_reply(req, q->name, 1, &address, 60),
                                 0);
            }
        }
        if (s->toggle_case) /* the reply's question section, not the answers */
            for (char *c = q->name; *c != '\0'; c++)
                *c = (char)(isupper((unsigned char)*c) ? tolower((unsigned char)*c)
                                                       : toupper((unsigned char)*c));
    }
    ck_assert_int_eq(evdns_server_request_respond(req, rcode), 0);
}

static void server_start(struct server *s, struct event_base *base)
{
    memset(s, 0, sizeof *s);
    s->fd = udp_socket(&s->number);
    ck_assert_int_eq(evutil_make_socket_nonblocking(s->fd), 0);
    s->port = evdns_add_server_port_with_base(base, s->fd, 0, on_question, s);
    ck_assert_ptr_nonnull(s->port);
}

static void server_stop(struct server *s)
{
    evdns_close_server_port(s->port); /* closes s->fd */
}

/* A resolver that reads nothing of the system's and asks only the
   nameserver on 127.0.0.1:port. */
static struct evdns_base *resolver(struct event_base *base, int port, int flags)
{
    struct evdns_base *dns = evdns_base_new(base, flags);
    ck_assert_ptr_nonnull(dns);
    char nameserver[32];
    snprintf(nameserver, sizeof nameserver, "127.0.0.1:%d", port);
    ck_assert_int_eq(evdns_base_nameserver_ip_add(dns, nameserver), 0);
    return dns;
}

static void set_option(struct evdns_base *dns, const char *option, const char *value)
{
    ck_assert_int_eq(evdns_base_set_option(dns, option, value), 0);
}

/* --- Answers ---------------------------------------------------------------------- */

struct answer {
    int calls;
    int err;                      /* EVUTIL_EAI_* or DNS_ERR_* */
    int count;                    /* addresses */
    char first[INET_ADDRSTRLEN];  /* the first of them */
    bool inside;                  /* it came before the call that asked returned */
    long long at_ms;
};

static bool in_call; /* a test is inside evdns_getaddrinfo() or a resolve call */

static void on_gai(int err, struct evutil_addrinfo *ai, void *arg)
{
    struct answer *a = arg;
    a->calls++;
    a->err = err;
    a->inside = in_call;
    a->at_ms = now_ms();
    a->count = 0;
    a->first[0] = '\0';
    for (struct evutil_addrinfo *p = ai; p != NULL; p = p->ai_next)
        if (a->count++ == 0)
            inet_ntop(AF_INET, &((struct sockaddr_in *)p->ai_addr)->sin_addr, a->first,
                      sizeof a->first);
    if (ai != NULL)
        evutil_freeaddrinfo(ai);
}

static void on_ipv4(int result, char type, int count, int ttl, void *addresses, void *arg)
{
    struct answer *a = arg;
    (void)ttl;
    a->calls++;
    a->err = result;
    a->inside = in_call;
    a->at_ms = now_ms();
    a->count = count;
    a->first[0] = '\0';
    if (type == DNS_IPv4_A && count > 0)
        inet_ntop(AF_INET, addresses, a->first, sizeof a->first);
}

/* evdns_getaddrinfo() for name, family AF_INET or AF_UNSPEC, stream. */
static struct evdns_getaddrinfo_request *gai(struct evdns_base *dns, const char *name, int family,
                                             struct answer *a)
{
    struct evutil_addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    in_call = true;
    struct evdns_getaddrinfo_request *r = evdns_getaddrinfo(dns, name, NULL, &hints, on_gai, a);
    in_call = false;
    return r;
}

static struct evdns_request *resolve(struct evdns_base *dns, const char *name, struct answer *a)
{
    in_call = true;
    struct evdns_request *r = evdns_base_resolve_ipv4(dns, name, 0, on_ipv4, a);
    in_call = false;
    ck_assert_ptr_nonnull(r);
    return r;
}

/* Run the loop until *calls reaches n. */
static void wait_for(struct event_base *base, const int *calls, int n)
{
    while (*calls < n)
        ck_assert_msg(event_base_loop(base, EVLOOP_ONCE) == 0, "nothing left to wait for");
}

/* --- Logs --------------------------------------------------------------------------- */

static char logged[4096];

static void log_to_buffer(int severity, const char *msg)
{
    snprintf(logged + strlen(logged), sizeof logged - strlen(logged), "%d:%s\n", severity, msg);
}

static void evdns_log_to_buffer(int is_warning, const char *msg)
{
    if (strstr(msg, "has failed") != NULL || strstr(msg, "All nameservers") != NULL)
        snprintf(logged + strlen(logged), sizeof logged - strlen(logged), "warning=%d:%s\n",
                 is_warning, msg);
}

/* Every test: libevent's messages into logged, not onto stderr. */
static void quiet(void)
{
    logged[0] = '\0';
    event_set_log_callback(log_to_buffer);
}

/* --- The system's configuration (read only) ---------------------------------------- */

/* "nameserver" lines in /etc/resolv.conf; -1 if there is no such file. */
static int resolv_conf_nameservers(void)
{
    FILE *f = fopen("/etc/resolv.conf", "r");
    if (f == NULL)
        return -1;
    char line[512], word[64];
    int n = 0;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, " %63s", word) == 1 && strcmp(word, "nameserver") == 0)
            n++;
    fclose(f);
    return n;
}

/* The first IPv4 address and name of /etc/hosts. */
static bool first_hosts_entry(char *address, char *name)
{
    FILE *f = fopen("/etc/hosts", "r");
    if (f == NULL)
        return false;
    char line[512];
    bool found = false;
    struct in_addr in;
    while (!found && fgets(line, sizeof line, f) != NULL)
        found = sscanf(line, " %63s %255s", address, name) == 2 && address[0] != '#' &&
                inet_pton(AF_INET, address, &in) == 1;
    fclose(f);
    return found;
}

/* --- The resolver's configuration ---------------------------------------------------- */

START_TEST(base_new_with_0_reads_neither_resolv_conf_nor_hosts)
{
    struct event_base *base = event_base_new();
    struct server s;
    server_start(&s, base);
    struct evdns_base *dns = evdns_base_new(base, 0);
    ck_assert_ptr_nonnull(dns);
    ck_assert_int_eq(evdns_base_count_nameservers(dns), 0);
    char nameserver[32];
    snprintf(nameserver, sizeof nameserver, "127.0.0.1:%d", s.number);
    ck_assert_int_eq(evdns_base_nameserver_ip_add(dns, nameserver), 0);
    ck_assert_int_eq(evdns_base_count_nameservers(dns), 1);

    /* localhost, in every /etc/hosts, goes to the nameserver. */
    struct answer a = { 0 };
    ck_assert_ptr_nonnull(gai(dns, "localhost", AF_INET, &a));
    wait_for(base, &a.calls, 1);
    ck_assert_int_eq(s.asked, 1);
    ck_assert_int_eq(strcasecmp(s.names[0], "localhost"), 0);
    ck_assert_int_eq(a.err, EVUTIL_EAI_NONAME); /* the test's server does not know it */
    evdns_base_free(dns, 0);
    server_stop(&s);
    event_base_free(base);
}
END_TEST

START_TEST(initialize_nameservers_reads_resolv_conf_and_hosts)
{
    int lines = resolv_conf_nameservers();
    char address[64], name[256];
    ck_assert_msg(lines > 0, "this test needs an /etc/resolv.conf with a nameserver");
    ck_assert_msg(first_hosts_entry(address, name), "this test needs an IPv4 line in /etc/hosts");

    struct event_base *base = event_base_new();
    struct evdns_base *dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
    ck_assert_ptr_nonnull(dns);
    ck_assert_int_eq(evdns_base_count_nameservers(dns), lines);
    /* Nothing may reach those nameservers: forget them before asking. */
    ck_assert_int_eq(evdns_base_clear_nameservers_and_suspend(dns), 0);
    ck_assert_int_eq(evdns_base_count_nameservers(dns), 0);

    struct answer a = { 0 };
    ck_assert_ptr_null(gai(dns, name, AF_INET, &a));
    ck_assert_int_eq(a.calls, 1);
    ck_assert(a.inside);
    ck_assert_int_eq(a.err, 0);
    ck_assert_str_eq(a.first, address);
    evdns_base_free(dns, 0);
    event_base_free(base);
}
END_TEST

START_TEST(evdns_init_reads_resolv_conf_and_hosts)
{
    int lines = resolv_conf_nameservers();
    char address[64], name[256];
    ck_assert_msg(lines > 0, "this test needs an /etc/resolv.conf with a nameserver");
    ck_assert_msg(first_hosts_entry(address, name), "this test needs an IPv4 line in /etc/hosts");
    struct event_base *base = event_init();
    ck_assert_ptr_nonnull(base);
    ck_assert_int_eq(evdns_init(), 0);
    ck_assert_ptr_nonnull(evdns_get_global_base());
    ck_assert_int_eq(evdns_count_nameservers(), lines);
    ck_assert_int_eq(evdns_clear_nameservers_and_suspend(), 0); /* before asking */
    struct answer a = { 0 };
    ck_assert_ptr_null(gai(evdns_get_global_base(), name, AF_INET, &a));
    ck_assert(a.inside);
    ck_assert_str_eq(a.first, address);
    evdns_shutdown(0);
    ck_assert_ptr_null(evdns_get_global_base());
    event_base_free(base);
}
END_TEST

/* In a child: evdns_init() with no event_init(); then a 1.x call. */
START_TEST(evdns_init_fails_without_event_init)
{
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        const struct rlimit no_core = { 0, 0 };
        setrlimit(RLIMIT_CORE, &no_core);
        signal(SIGSEGV, SIG_DFL); /* a sanitizer's handler would make it an exit */
        if (evdns_init() != -1 || evdns_get_global_base() != NULL)
            _exit(10);
        (void)evdns_count_nameservers(); /* on no global resolver */
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
                  "status %d: expected evdns_init() == -1, then SIGSEGV", status);
}
END_TEST

START_TEST(nameserver_ip_add_alone_makes_an_empty_global_resolver)
{
    struct event_base *base = event_init();
    struct server s;
    server_start(&s, base);
    char nameserver[32];
    snprintf(nameserver, sizeof nameserver, "127.0.0.1:%d", s.number);
    ck_assert_ptr_null(evdns_get_global_base());
    ck_assert_int_eq(evdns_nameserver_ip_add(nameserver), 0);
    ck_assert_ptr_nonnull(evdns_get_global_base());
    ck_assert_int_eq(evdns_count_nameservers(), 1);

    struct answer a = { 0 };
    ck_assert_ptr_nonnull(gai(evdns_get_global_base(), "localhost", AF_INET, &a));
    wait_for(base, &a.calls, 1);
    ck_assert_int_eq(s.asked, 1); /* no hosts file: localhost was asked */
    ck_assert_int_eq(a.err, EVUTIL_EAI_NONAME);
    evdns_shutdown(0);
    server_stop(&s);
    event_base_free(base);
}
END_TEST

START_TEST(add_server_port_serves_on_the_current_base)
{
    struct event_base *base = event_init();
    struct server s;
    memset(&s, 0, sizeof s);
    s.fd = udp_socket(&s.number);
    ck_assert_int_eq(evutil_make_socket_nonblocking(s.fd), 0);
    s.port = evdns_add_server_port(s.fd, 0, on_question, &s);
    ck_assert_ptr_nonnull(s.port);
    char nameserver[32];
    snprintf(nameserver, sizeof nameserver, "127.0.0.1:%d", s.number);
    ck_assert_int_eq(evdns_nameserver_ip_add(nameserver), 0);
    struct answer a = { 0 };
    ck_assert_int_eq(evdns_resolve_ipv4("www.lesson.test", 0, on_ipv4, &a), 0);
    wait_for(base, &a.calls, 1);
    ck_assert_int_eq(a.err, DNS_ERR_NONE);
    ck_assert_str_eq(a.first, "127.0.0.1");
    /* dns_compat.h calls it "As evdns_server_new_with_base", which is no
       function of libevent's. */
    ck_assert_ptr_null(dlsym(RTLD_DEFAULT, "evdns_server_new_with_base"));
    ck_assert_ptr_nonnull(dlsym(RTLD_DEFAULT, "evdns_add_server_port_with_base"));
    evdns_shutdown(0);
    server_stop(&s);
    event_base_free(base);
}
END_TEST

START_TEST(idle_resolver_keeps_the_loop_running_unless_disable_when_inactive)
{
    /* The server in a base of its own: only the resolver is in base. */
    struct event_base *server_base = event_base_new();
    struct server s;
    server_start(&s, server_base);
    const int flags[] = { 0, EVDNS_BASE_DISABLE_WHEN_INACTIVE };
    for (int i = 0; i < 2; i++) {
        struct event_base *base = event_base_new();
        struct evdns_base *dns = resolver(base, s.number, flags[i]);
        struct answer a = { 0 };
        ck_assert_ptr_nonnull(gai(dns, "www.lesson.test", AF_INET, &a));
        ck_assert_int_eq(event_base_loop(server_base, EVLOOP_ONCE), 0); /* it answers */
        wait_for(base, &a.calls, 1);
        ck_assert_int_eq(a.err, 0);
        /* 0: events are left (the resolver's socket), and dispatch would
           wait for ever; 1: nothing is left, dispatch returns. */
        ck_assert_int_eq(event_base_loop(base, EVLOOP_NONBLOCK), i == 0 ? 0 : 1);
        ck_assert_int_eq(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED), i == 0 ? 1 : 0);
        evdns_base_free(dns, 0);
        event_base_free(base);
    }
    server_stop(&s);
    event_base_free(server_base);
}
END_TEST

START_TEST(set_option_ignores_its_flags)
{
    struct event_base *base = event_init();
    int port, silent = udp_socket(&port);
    char nameserver[32];
    snprintf(nameserver, sizeof nameserver, "127.0.0.1:%d", port);
    ck_assert_int_eq(evdns_nameserver_ip_add(nameserver), 0);
    /* 1.4 applied these only with DNS_OPTION_MISC in flags. */
    ck_assert_int_eq(evdns_set_option("timeout:", "0.05", 0), 0);
    ck_assert_int_eq(evdns_set_option("attempts:", "1", 0), 0);
    struct answer a = { 0 };
    ck_assert_int_eq(evdns_resolve_ipv4("www.lesson.test", 0, on_ipv4, &a), 0);
    wait_for(base, &a.calls, 1);
    ck_assert_int_eq(a.err, DNS_ERR_TIMEOUT);
    ck_assert_int_eq(count_packets(silent), 1); /* not the default 3 */
    evdns_shutdown(0);
    close(silent);
    event_base_free(base);
}
END_TEST

/* --- The server and the case of names ------------------------------------------------ */

START_TEST(query_names_arrive_in_random_case_unless_turned_off)
{
    struct event_base *base = event_base_new();
    struct server s;
    server_start(&s, base);
    struct evdns_base *dns = resolver(base, s.number, 0);
    struct answer a = { 0 };
    for (int i = 0; i < 8; i++) {
        ck_assert_ptr_nonnull(gai(dns, "www.lesson.test", AF_INET, &a));
        wait_for(base, &a.calls, i + 1);
        ck_assert_int_eq(a.err, 0);
    }
    int mixed = 0;
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(strcasecmp(s.names[i], "www.lesson.test"), 0);
        mixed += strcmp(s.names[i], "www.lesson.test") != 0;
    }
    /* 13 letters each: all 8 in lower case by chance is 1 in 2^104. */
    ck_assert_int_gt(mixed, 0);

    set_option(dns, "randomize-case:", "0");
    ck_assert_ptr_nonnull(gai(dns, "www.LESSON.test", AF_INET, &a));
    wait_for(base, &a.calls, 9);
    ck_assert_str_eq(s.names[8], "www.LESSON.test"); /* as asked */
    evdns_base_free(dns, 0);
    server_stop(&s);
    event_base_free(base);
}
END_TEST

START_TEST(reply_case_is_checked_only_when_case_is_not_randomized)
{
    struct event_base *base = event_base_new();
    struct server s;
    server_start(&s, base);
    s.toggle_case = true; /* every letter of the reply's question differs */

    struct evdns_base *dns = resolver(base, s.number, 0); /* randomize-case: 1 */
    struct answer a = { 0 };
    ck_assert_ptr_nonnull(gai(dns, "www.lesson.test", AF_INET, &a));
    wait_for(base, &a.calls, 1);
    ck_assert_int_eq(a.err, 0); /* accepted */
    ck_assert_str_eq(a.first, "127.0.0.1");
    evdns_base_free(dns, 0);

    dns = resolver(base, s.number, 0);
    set_option(dns, "randomize-case:", "0");
    set_option(dns, "timeout:", "0.1");
    set_option(dns, "attempts:", "1");
    struct answer b = { 0 };
    ck_assert_ptr_nonnull(gai(dns, "www.lesson.test", AF_INET, &b));
    wait_for(base, &b.calls, 1);
    ck_assert_int_eq(s.asked, 2);
    ck_assert_int_eq(b.err, EVUTIL_EAI_FAIL); /* the reply was dropped: a timeout */
    evdns_base_free(dns, 0);
    server_stop(&s);
    event_base_free(base);
}
END_TEST

START_TEST(close_server_port_closes_the_socket)
{
    struct event_base *base = event_base_new();
    struct server s;
    server_start(&s, base);
    ck_assert(is_open(s.fd));
    evdns_close_server_port(s.port);
    ck_assert(!is_open(s.fd));
    event_base_free(base);
}
END_TEST

/* --- evdns_getaddrinfo() ----------------------------------------------------------------- */

START_TEST(name_needing_a_query_is_answered_from_the_loop)
{
    struct event_base *base = event_base_new();
    struct server s;
    server_start(&s, base);
    struct evdns_base *dns = resolver(base, s.number, 0);
    struct answer a = { 0 };
    ck_assert_ptr_nonnull(gai(dns, "www.lesson.test", AF_INET, &a));
    ck_assert_int_eq(a.calls, 0);
    wait_for(base, &a.calls, 1);
    ck_assert(!a.inside);
    ck_assert_int_eq(a.err, 0);
    ck_assert_int_eq(a.count, 1);
    ck_assert_str_eq(a.first, "127.0.0.1");
    ck_assert_int_eq(s.asked, 1);
    ck_assert_int_eq(s.types[0], EVDNS_TYPE_A); /* AF_INET: A only */
    evdns_base_free(dns, 0);
    server_stop(&s);
    event_base_free(base);
}
END_TEST

START_TEST(nxdomain_is_eai_noname_or_dns_err_notexist)
{
    struct event_base *base = event_base_new();
    struct server s;
    server_start(&s, base);
    struct evdns_base *dns = resolver(base, s.number, 0);
    struct answer a = { 0 }, b = { 0 };
    ck_assert_ptr_nonnull(gai(dns, "nowhere.lesson.test", AF_INET, &a));
    wait_for(base, &a.calls, 1);
    ck_assert_int_eq(a.err, EVUTIL_EAI_NONAME);
    ck_assert_int_eq(a.count, 0);
    resolve(dns, "nowhere.lesson.test", &b);
    wait_for(base, &b.calls, 1);
    ck_assert_int_eq(b.err, DNS_ERR_NOTEXIST);
    ck_assert_int_eq(b.count, 0);
    ck_assert_int_eq(s.asked, 2); /* each asked once */
    evdns_base_free(dns, 0);
    server_stop(&s);
    event_base_free(base);
}
END_TEST

START_TEST(servfail_is_sent_again_then_reported_as_a_timeout)
{
    struct event_base *base = event_base_new();
    struct server s;
    server_start(&s, base);
    struct evdns_base *dns = resolver(base, s.number, 0);
    struct answer a = { 0 }, b = { 0 };
    resolve(dns, "servfail.lesson.test", &a);
    wait_for(base, &a.calls, 1);
    ck_assert_int_eq(s.asked, 3); /* the default attempts: 3 */
    ck_assert_int_eq(a.err, DNS_ERR_TIMEOUT); /* not DNS_ERR_SERVERFAILED */
    ck_assert_ptr_nonnull(strstr(logged, "has failed: request timed out."));
    ck_assert_ptr_nonnull(gai(dns, "servfail.lesson.test", AF_INET, &b));
    wait_for(base, &b.calls, 1);
    ck_assert_int_eq(b.err, EVUTIL_EAI_FAIL);
    evdns_base_free(dns, 0);
    server_stop(&s);
    event_base_free(base);
}
END_TEST

START_TEST(getaddrinfo_reports_a_timeout_as_eai_fail)
{
    struct event_base *base = event_base_new();
    int port, silent = udp_socket(&port);
    struct evdns_base *dns = resolver(base, port, 0);
    set_option(dns, "timeout:", "0.05");
    set_option(dns, "attempts:", "1");
    struct answer a = { 0 }, b = { 0 };
    ck_assert_ptr_nonnull(gai(dns, "www.lesson.test", AF_INET, &a));
    wait_for(base, &a.calls, 1);
    ck_assert_int_eq(a.err, EVUTIL_EAI_FAIL); /* not EVUTIL_EAI_AGAIN */
    resolve(dns, "www.lesson.test", &b);
    wait_for(base, &b.calls, 1);
    ck_assert_int_eq(b.err, DNS_ERR_TIMEOUT);
    evdns_base_free(dns, 0);
    close(silent);
    event_base_free(base);
}
END_TEST

START_TEST(numeric_address_is_answered_inside_the_call)
{
    struct event_base *base = event_base_new();
    struct server s;
    server_start(&s, base);
    struct evdns_base *dns = resolver(base, s.number, 0);
    struct answer a = { 0 }, b = { 0 };
    ck_assert_ptr_null(gai(dns, "127.0.0.1", AF_INET, &a));
    ck_assert_int_eq(a.calls, 1);
    ck_assert(a.inside);
    ck_assert_int_eq(a.err, 0);
    ck_assert_str_eq(a.first, "127.0.0.1");
    /* No query: the next one is the first the server hears. */
    ck_assert_ptr_nonnull(gai(dns, "www.lesson.test", AF_INET, &b));
    wait_for(base, &b.calls, 1);
    ck_assert_int_eq(s.asked, 1);
    ck_assert_int_eq(strcasecmp(s.names[0], "www.lesson.test"), 0);
    ck_assert_int_eq(a.calls, 1);
    evdns_base_free(dns, 0);
    server_stop(&s);
    event_base_free(base);
}
END_TEST

START_TEST(resolve_ipv4_sends_a_numeric_address_as_a_name)
{
    struct event_base *base = event_base_new();
    struct server s;
    server_start(&s, base);
    struct evdns_base *dns = resolver(base, s.number, 0);
    struct answer a = { 0 };
    resolve(dns, "127.0.0.1", &a);
    ck_assert_int_eq(a.calls, 0);
    wait_for(base, &a.calls, 1);
    ck_assert_int_eq(s.asked, 1);
    ck_assert_str_eq(s.names[0], "127.0.0.1");
    ck_assert_int_eq(a.err, DNS_ERR_NOTEXIST); /* what the test's server says */

    /* The 1.x call does the same. */
    struct event_base *global = event_init();
    struct server t;
    server_start(&t, global);
    char nameserver[32];
    snprintf(nameserver, sizeof nameserver, "127.0.0.1:%d", t.number);
    ck_assert_int_eq(evdns_nameserver_ip_add(nameserver), 0);
    struct answer b = { 0 };
    ck_assert_int_eq(evdns_resolve_ipv4("127.0.0.1", 0, on_ipv4, &b), 0);
    wait_for(global, &b.calls, 1);
    ck_assert_int_eq(t.asked, 1);
    ck_assert_str_eq(t.names[0], "127.0.0.1");
    evdns_shutdown(0);
    server_stop(&t);
    event_base_free(global);
    evdns_base_free(dns, 0);
    server_stop(&s);
    event_base_free(base);
}
END_TEST

static char *write_file(const char *dir, const char *name, const char *text)
{
    char *path;
    if (asprintf(&path, "%s/%s", dir, name) < 0)
        abort();
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_ge(fputs(text, f), 0);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

START_TEST(hosts_entries_are_answered_inside_the_call_without_a_query)
{
    char *dir = make_temp_dir();
    char *hosts = write_file(dir, "hosts",
                             "# a comment\n127.0.0.2 db.lesson.test alias.lesson.test\n");
    char *more = write_file(dir, "more", "127.0.0.3 more.lesson.test\n");
    struct event_base *base = event_base_new();
    struct server s;
    server_start(&s, base);
    struct evdns_base *dns = resolver(base, s.number, 0);
    ck_assert_int_eq(evdns_base_load_hosts(dns, hosts), 0);
    ck_assert_int_eq(evdns_base_load_hosts(dns, more), 0); /* added to the first */

    const char *names[] = { "db.lesson.test", "ALIAS.Lesson.test", "more.lesson.test" };
    const char *addresses[] = { "127.0.0.2", "127.0.0.2", "127.0.0.3" };
    for (int i = 0; i < 3; i++) {
        struct answer a = { 0 };
        ck_assert_ptr_null(gai(dns, names[i], AF_INET, &a));
        ck_assert_int_eq(a.calls, 1);
        ck_assert(a.inside);
        ck_assert_int_eq(a.err, 0);
        ck_assert_str_eq(a.first, addresses[i]);
    }
    struct answer b = { 0 };
    ck_assert_ptr_nonnull(gai(dns, "www.lesson.test", AF_INET, &b));
    wait_for(base, &b.calls, 1);
    ck_assert_int_eq(s.asked, 1); /* www only */
    evdns_base_free(dns, 0);
    server_stop(&s);
    event_base_free(base);
    remove_tree(dir);
    free(more);
    free(hosts);
    free(dir);
}
END_TEST

START_TEST(hosts_entries_are_only_for_getaddrinfo)
{
    char *dir = make_temp_dir();
    char *hosts = write_file(dir, "hosts", "127.0.0.2 db.lesson.test\n");
    struct event_base *base = event_base_new();
    struct server s;
    server_start(&s, base);
    struct evdns_base *dns = resolver(base, s.number, 0);
    ck_assert_int_eq(evdns_base_load_hosts(dns, hosts), 0);
    struct answer a = { 0 };
    resolve(dns, "db.lesson.test", &a);
    wait_for(base, &a.calls, 1);
    ck_assert_int_eq(s.asked, 1);
    ck_assert_int_eq(a.err, DNS_ERR_NOTEXIST);
    evdns_base_free(dns, 0);
    server_stop(&s);
    event_base_free(base);
    remove_tree(dir);
    free(hosts);
    free(dir);
}
END_TEST

START_TEST(load_hosts_of_a_missing_file_fails_but_adds_localhost)
{
    char *dir = make_temp_dir();
    char *missing;
    if (asprintf(&missing, "%s/no-such-file", dir) < 0)
        abort();
    struct event_base *base = event_base_new();
    struct server s;
    server_start(&s, base);
    struct evdns_base *dns = resolver(base, s.number, 0);
    ck_assert_int_eq(evdns_base_load_hosts(dns, missing), -1);
    struct answer a = { 0 };
    ck_assert_ptr_null(gai(dns, "localhost", AF_INET, &a));
    ck_assert(a.inside);
    ck_assert_int_eq(a.err, 0);
    ck_assert_str_eq(a.first, "127.0.0.1");
    ck_assert_int_eq(s.asked, 0);
    evdns_base_free(dns, 0);
    server_stop(&s);
    event_base_free(base);
    remove_tree(dir);
    free(missing);
    free(dir);
}
END_TEST

START_TEST(unspec_family_asks_for_a_and_aaaa)
{
    struct event_base *base = event_base_new();
    struct server s;
    server_start(&s, base);
    struct evdns_base *dns = resolver(base, s.number, 0);
    struct answer a = { 0 };
    ck_assert_ptr_nonnull(gai(dns, "www.lesson.test", AF_UNSPEC, &a));
    wait_for(base, &a.calls, 1);
    ck_assert_int_eq(s.asked, 2);
    ck_assert_int_eq(s.types[0], EVDNS_TYPE_A);
    ck_assert_int_eq(s.types[1], EVDNS_TYPE_AAAA);
    ck_assert_int_eq(a.err, 0);
    ck_assert_int_eq(a.count, 1);
    ck_assert_str_eq(a.first, "127.0.0.1");
    evdns_base_free(dns, 0);
    server_stop(&s);
    event_base_free(base);
}
END_TEST

/* --- A nameserver that never answers ------------------------------------------------- */

START_TEST(attempts_counts_every_send_not_the_resends)
{
    for (int n = 1; n <= 3; n++) {
        struct event_base *base = event_base_new();
        int port, silent = udp_socket(&port);
        struct evdns_base *dns = resolver(base, port, 0);
        char attempts[8];
        snprintf(attempts, sizeof attempts, "%d", n);
        set_option(dns, "timeout:", "0.05");
        set_option(dns, "attempts:", attempts);
        struct answer a = { 0 };
        long long started = now_ms();
        resolve(dns, "www.lesson.test", &a);
        wait_for(base, &a.calls, 1);
        ck_assert_int_eq(a.err, DNS_ERR_TIMEOUT);
        ck_assert_int_eq(count_packets(silent), n);
        /* n waits of 50 ms; libevent's coarse clock may be a tick early */
        ck_assert_int_ge(a.at_ms - started, n * 50 - n * 10);
        evdns_base_free(dns, 0);
        close(silent);
        event_base_free(base);
    }
}
END_TEST

START_TEST(default_is_three_attempts)
{
    struct event_base *base = event_base_new();
    int port, silent = udp_socket(&port);
    struct evdns_base *dns = resolver(base, port, 0);
    set_option(dns, "timeout:", "0.05");
    struct answer a = { 0 };
    resolve(dns, "www.lesson.test", &a);
    wait_for(base, &a.calls, 1);
    ck_assert_int_eq(count_packets(silent), 3);
    evdns_base_free(dns, 0);
    close(silent);
    event_base_free(base);
}
END_TEST

struct arrivals {
    int count;
    long long at_ms[4];
};

static void on_packet(evutil_socket_t fd, short what, void *arg)
{
    struct arrivals *p = arg;
    char packet[1500];
    (void)what;
    while (recv(fd, packet, sizeof packet, MSG_DONTWAIT) >= 0)
        if (p->count < 4)
            p->at_ms[p->count++] = now_ms();
}

START_TEST(default_timeout_is_five_seconds)
{
    struct event_base *base = event_base_new();
    int port, silent = udp_socket(&port);
    struct arrivals p = { 0 };
    struct event *watch = event_new(base, silent, EV_READ | EV_PERSIST, on_packet, &p);
    ck_assert_ptr_nonnull(watch);
    ck_assert_int_eq(event_add(watch, NULL), 0);
    struct evdns_base *dns = resolver(base, port, 0);
    struct answer a = { 0 };
    struct evdns_request *r = resolve(dns, "www.lesson.test", &a);
    wait_for(base, &p.count, 2);
    ck_assert_int_ge(p.at_ms[1] - p.at_ms[0], 5000 - 20);
    evdns_cancel_request(dns, r);
    wait_for(base, &a.calls, 1);
    event_free(watch);
    evdns_base_free(dns, 0);
    close(silent);
    event_base_free(base);
}
END_TEST

static int order_seen[2], order_count;

static void on_guard(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    order_seen[order_count++ % 2] = 2;
}

static void on_ipv4_in_order(int result, char type, int count, int ttl, void *addresses, void *arg)
{
    on_ipv4(result, type, count, ttl, addresses, arg);
    order_seen[order_count++ % 2] = 1;
}

START_TEST(timeout_takes_a_fraction_of_a_second)
{
    /* The 1.x call, as event1 makes it: one attempt of 0.1 s must come
       before a timer of 0.9 s set after it, in the same base (not the
       whole seconds of 1.4, which refused "0.1"). The margin is for a
       busy machine: both overdue at once would run the timer first. */
    struct event_base *base = event_init();
    int port, silent = udp_socket(&port);
    char nameserver[32];
    snprintf(nameserver, sizeof nameserver, "127.0.0.1:%d", port);
    ck_assert_int_eq(evdns_nameserver_ip_add(nameserver), 0);
    ck_assert_int_eq(evdns_set_option("timeout:", "0.1", DNS_OPTION_MISC), 0);
    ck_assert_int_eq(evdns_set_option("attempts:", "1", DNS_OPTION_MISC), 0);
    struct answer a = { 0 };
    ck_assert_int_eq(evdns_resolve_ipv4("www.lesson.test", 0, on_ipv4_in_order, &a), 0);
    struct timeval guard = { 0, 900000 };
    ck_assert_int_eq(event_base_once(base, -1, EV_TIMEOUT, on_guard, NULL, &guard), 0);
    while (order_count < 2)
        ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 0);
    ck_assert_int_eq(order_seen[0], 1); /* the request's timeout first */
    ck_assert_int_eq(a.err, DNS_ERR_TIMEOUT);
    evdns_shutdown(0);
    close(silent);
    event_base_free(base);
}
END_TEST

START_TEST(one_request_giving_up_marks_the_nameserver_down)
{
    struct event_base *base = event_base_new();
    int port, silent = udp_socket(&port);
    struct evdns_base *dns = resolver(base, port, 0);
    set_option(dns, "timeout:", "0.05");
    set_option(dns, "attempts:", "2");
    set_option(dns, "max-timeouts:", "10"); /* "in a row before we assume it's down" */
    struct answer a = { 0 };
    resolve(dns, "www.lesson.test", &a);
    wait_for(base, &a.calls, 1);
    char expected[128];
    snprintf(expected, sizeof expected,
             "%d:Nameserver 127.0.0.1:%d has failed: request timed out.\n"
             "%d:All nameservers have failed\n",
             EVENT_LOG_MSG, port, EVENT_LOG_MSG);
    ck_assert_str_eq(logged, expected);
    evdns_base_free(dns, 0);
    close(silent);
    event_base_free(base);
}
END_TEST

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ++*(int *)arg;
}

START_TEST(down_nameserver_is_probed_with_a_query_for_google_com)
{
    struct event_base *base = event_base_new();
    int port, silent = udp_socket(&port);
    struct evdns_base *dns = resolver(base, port, 0);
    set_option(dns, "timeout:", "0.05");
    set_option(dns, "attempts:", "1");
    set_option(dns, "initial-probe-timeout:", "0.1");
    struct answer a = { 0 };
    resolve(dns, "www.lesson.test", &a);
    wait_for(base, &a.calls, 1);
    ck_assert_int_eq(count_packets(silent), 1); /* the request */

    int readable = 0; /* until the probe arrives */
    struct event *watch = event_new(base, silent, EV_READ, on_readable, &readable);
    ck_assert_ptr_nonnull(watch);
    ck_assert_int_eq(event_add(watch, NULL), 0);
    wait_for(base, &readable, 1);
    unsigned char packet[1500];
    ssize_t n = recv(silent, packet, sizeof packet, MSG_DONTWAIT);
    ck_assert_int_gt(n, 12);
    char name[256];
    query_name(packet, (size_t)n, name, sizeof name);
    ck_assert_int_eq(strcasecmp(name, "google.com"), 0);
    event_free(watch);
    evdns_base_free(dns, 0);
    close(silent);
    event_base_free(base);
}
END_TEST

START_TEST(evdns_messages_go_to_libevents_log)
{
    /* Without a callback of the program's, libevent writes them to stderr. */
    event_set_log_callback(NULL);
    char *dir = make_temp_dir();
    char *path = write_file(dir, "stderr", "");
    int file = open(path, O_WRONLY | O_TRUNC), saved = dup(STDERR_FILENO);
    ck_assert_int_ge(file, 0);
    ck_assert_int_eq(dup2(file, STDERR_FILENO), STDERR_FILENO);
    struct event_base *base = event_base_new();
    int port, silent = udp_socket(&port);
    struct evdns_base *dns = resolver(base, port, 0);
    set_option(dns, "timeout:", "0.05");
    set_option(dns, "attempts:", "1");
    struct answer a = { 0 };
    resolve(dns, "www.lesson.test", &a);
    wait_for(base, &a.calls, 1);
    evdns_base_free(dns, 0);
    close(silent);
    ck_assert_int_eq(dup2(saved, STDERR_FILENO), STDERR_FILENO);
    close(file);
    char *text = read_file(path);
    ck_assert_ptr_nonnull(text);
    quiet();
    ck_assert_msg(strstr(text, "[msg] Nameserver 127.0.0.1:") != NULL &&
                      strstr(text, "has failed: request timed out.") != NULL,
                  "stderr: %s", text);

    /* evdns_set_log_fn() gets them, as "not a warning", like its debug
       messages. */
    evdns_set_log_fn(evdns_log_to_buffer);
    silent = udp_socket(&port);
    dns = resolver(base, port, 0);
    set_option(dns, "timeout:", "0.05");
    set_option(dns, "attempts:", "1");
    struct answer b = { 0 };
    resolve(dns, "www.lesson.test", &b);
    wait_for(base, &b.calls, 1);
    ck_assert_ptr_nonnull(strstr(logged, "warning=0:Nameserver 127.0.0.1:"));
    ck_assert_ptr_nonnull(strstr(logged, "warning=0:All nameservers have failed"));
    evdns_base_free(dns, 0);
    close(silent);
    event_base_free(base);
    free(text);
    remove_tree(dir);
    free(path);
    free(dir);
}
END_TEST

/* --- Cancelling --------------------------------------------------------------------------- */

START_TEST(cancel_calls_back_once_from_the_loop_with_eai_cancel)
{
    struct event_base *base = event_base_new();
    struct server s;
    server_start(&s, base);
    struct evdns_base *dns = resolver(base, s.number, 0);
    struct answer a = { 0 }, b = { 0 };
    struct evdns_getaddrinfo_request *r = gai(dns, "www.lesson.test", AF_INET, &a);
    ck_assert_ptr_nonnull(r);
    evdns_getaddrinfo_cancel(r);
    ck_assert_int_eq(a.calls, 0); /* not inside the cancel */
    wait_for(base, &a.calls, 1);
    ck_assert_int_eq(a.err, EVUTIL_EAI_CANCEL);
    ck_assert_int_eq(a.count, 0);
    /* The query had gone out, and the server answers it; the next
       request's answer comes after that one. */
    ck_assert_ptr_nonnull(gai(dns, "www.lesson.test", AF_INET, &b));
    wait_for(base, &b.calls, 1);
    ck_assert_int_eq(s.asked, 2);
    ck_assert_int_eq(b.err, 0);
    ck_assert_int_eq(a.calls, 1); /* once */
    evdns_base_free(dns, 0);
    server_stop(&s);
    event_base_free(base);
}
END_TEST

START_TEST(cancelled_request_is_never_sent_again)
{
    struct event_base *base = event_base_new();
    int port, silent = udp_socket(&port);
    struct evdns_base *dns = resolver(base, port, 0);
    set_option(dns, "timeout:", "0.05");
    set_option(dns, "attempts:", "2");
    struct answer a = { 0 }, b = { 0 };
    struct evdns_getaddrinfo_request *r = gai(dns, "gone.lesson.test", AF_INET, &a);
    ck_assert_ptr_nonnull(r);
    evdns_getaddrinfo_cancel(r);
    /* b's two attempts end after a's second would have gone: a was sent
       first, and its timeout came first. */
    ck_assert_ptr_nonnull(gai(dns, "slow.lesson.test", AF_INET, &b));
    wait_for(base, &b.calls, 1);
    ck_assert_int_eq(count_packets(silent), 1 + 2);
    ck_assert_int_eq(a.calls, 1);
    ck_assert_int_eq(a.err, EVUTIL_EAI_CANCEL);
    evdns_base_free(dns, 0);
    close(silent);
    event_base_free(base);
}
END_TEST

START_TEST(cancel_request_gives_dns_err_cancel)
{
    struct event_base *base = event_base_new();
    int port, silent = udp_socket(&port);
    struct evdns_base *dns = resolver(base, port, 0);
    struct answer a = { 0 };
    struct evdns_request *r = resolve(dns, "www.lesson.test", &a);
    evdns_cancel_request(dns, r);
    ck_assert_int_eq(a.calls, 0);
    wait_for(base, &a.calls, 1);
    ck_assert_int_eq(a.err, DNS_ERR_CANCEL);
    ck_assert_int_eq(count_packets(silent), 1);
    evdns_base_free(dns, 0);
    close(silent);
    event_base_free(base);
}
END_TEST

START_TEST(freeing_the_base_fails_requests_with_shutdown_not_cancel)
{
    struct event_base *base = event_base_new();
    int port, silent = udp_socket(&port);
    struct evdns_base *dns = resolver(base, port, 0);
    struct answer a = { 0 }, b = { 0 };
    resolve(dns, "www.lesson.test", &a);
    ck_assert_ptr_nonnull(gai(dns, "www.lesson.test", AF_INET, &b));
    evdns_base_free(dns, 1); /* fail_requests */
    ck_assert_int_eq(a.calls + b.calls, 0); /* they come from the loop */
    wait_for(base, &a.calls, 1);
    wait_for(base, &b.calls, 1);
    ck_assert_int_eq(a.err, DNS_ERR_SHUTDOWN);
    ck_assert_int_eq(b.err, EVUTIL_EAI_FAIL);

    /* fail_requests 0: no callback at all; the loop has nothing left. */
    dns = resolver(base, port, 0);
    struct answer c = { 0 };
    resolve(dns, "www.lesson.test", &c);
    evdns_base_free(dns, 0);
    ck_assert_int_eq(event_base_dispatch(base), 1);
    ck_assert_int_eq(c.calls, 0);
    close(silent);
    event_base_free(base);
}
END_TEST

/* --- Connecting by name ------------------------------------------------------------------ */

struct connection {
    int calls;
    short what;
    int dns_error;
    evutil_socket_t fd; /* -1: no socket was made */
};

static void on_bev_event(struct bufferevent *bev, short what, void *arg)
{
    struct connection *c = arg;
    c->calls++;
    c->what = what;
    c->dns_error = bufferevent_socket_get_dns_error(bev);
    c->fd = bufferevent_getfd(bev);
}

/* Connect by name to port; the first event callback's report. */
static struct connection connect_by_name(struct event_base *base, struct evdns_base *dns,
                                         const char *name, int port)
{
    struct connection c = { 0 };
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    ck_assert_ptr_nonnull(bev);
    bufferevent_setcb(bev, NULL, NULL, on_bev_event, &c);
    ck_assert_int_eq(bufferevent_socket_connect_hostname(bev, dns, AF_INET, name, port), 0);
    wait_for(base, &c.calls, 1);
    bufferevent_free(bev);
    return c;
}

START_TEST(connect_hostname_looks_up_then_connects)
{
    struct event_base *base = event_base_new();
    struct server s;
    server_start(&s, base);
    struct evdns_base *dns = resolver(base, s.number, 0);
    struct sockaddr_in address;
    int listener = listen_on_loopback(&address);
    struct connection c = connect_by_name(base, dns, "www.lesson.test", ntohs(address.sin_port));
    ck_assert_int_eq(c.what, BEV_EVENT_CONNECTED);
    ck_assert_int_eq(c.dns_error, 0);
    ck_assert_int_eq(s.asked, 1);
    close(listener);
    evdns_base_free(dns, 0);
    server_stop(&s);
    event_base_free(base);
}
END_TEST

START_TEST(connect_hostname_reports_a_missing_name_as_a_dns_error)
{
    struct event_base *base = event_base_new();
    struct server s;
    server_start(&s, base);
    struct evdns_base *dns = resolver(base, s.number, 0);
    struct sockaddr_in address;
    int listener = listen_on_loopback(&address);
    struct connection c =
        connect_by_name(base, dns, "nowhere.lesson.test", ntohs(address.sin_port));
    ck_assert_int_eq(c.what, BEV_EVENT_ERROR);
    ck_assert_int_eq(c.dns_error, EVUTIL_EAI_NONAME);
    /* No connection was tried: no socket, nothing waits to be accepted. */
    ck_assert_int_eq(c.fd, -1);
    ck_assert_int_eq(evutil_make_socket_nonblocking(listener), 0);
    ck_assert_int_eq(accept(listener, NULL, NULL), -1);
    ck_assert_int_eq(errno, EAGAIN);
    close(listener);
    evdns_base_free(dns, 0);
    server_stop(&s);
    event_base_free(base);
}
END_TEST

START_TEST(connect_hostname_tries_only_the_first_address)
{
    struct event_base *base = event_base_new();
    struct server s;
    server_start(&s, base);
    struct evdns_base *dns = resolver(base, s.number, 0);
    struct sockaddr_in address; /* 127.0.0.1 only: 127.0.0.2 refuses */
    int listener = listen_on_loopback(&address);
    int port = ntohs(address.sin_port);
    struct connection two = connect_by_name(base, dns, "two.lesson.test", port);
    ck_assert_int_eq(two.what & (BEV_EVENT_ERROR | BEV_EVENT_CONNECTED), BEV_EVENT_ERROR);
    ck_assert_int_eq(two.dns_error, 0); /* the lookup worked: 127.0.0.2 refused */
    struct connection rev = connect_by_name(base, dns, "rev.lesson.test", port);
    ck_assert_int_eq(rev.what, BEV_EVENT_CONNECTED);
    close(listener);
    evdns_base_free(dns, 0);
    server_stop(&s);
    event_base_free(base);
}
END_TEST

/* --- The lesson's programs ------------------------------------------------------------------ */

static const char *const programs[] = { "19-event1-resolve", "19-event2-resolve",
                                        "19-event1-connect", "19-event2-connect",
                                        "19-event1-silent",  "19-event2-silent" };

START_TEST(lesson_programs_reject_arguments)
{
    for (size_t i = 0; i < sizeof programs / sizeof programs[0]; i++) {
        char *path;
        if (asprintf(&path, "%s/%s", bin_dir(), programs[i]) < 0)
            abort();
        const char *argv[] = { path, "--port", "53", NULL };
        struct run_result r;
        run_program(argv, NULL, PROGRAM_TIMEOUT_MS, &r);
        ck_assert_msg(r.status == 2, "%s: status %d", programs[i], r.status);
        ck_assert_str_eq(r.out, "");
        ck_assert_msg(strstr(r.err, "usage: ") != NULL, "%s: %s", programs[i], r.err);
        run_result_free(&r);
        free(path);
    }
}
END_TEST

START_TEST(resolve_programs_leave_no_hosts_file_behind)
{
    for (size_t i = 0; i < 2; i++) {
        char *dir = make_temp_dir(), *path, *tmpdir;
        if (asprintf(&path, "%s/%s", bin_dir(), programs[i]) < 0 ||
            asprintf(&tmpdir, "TMPDIR=%s", dir) < 0)
            abort();
        const char *argv[] = { path, NULL };
        const char *env[] = { tmpdir, NULL };
        struct run_result r;
        run_program(argv, env, PROGRAM_TIMEOUT_MS, &r);
        ck_assert_msg(r.status == 0, "%s: status %d: %s", programs[i], r.status, r.err);
        ck_assert_ptr_nonnull(strstr(r.out, "hosts    answered   address=127.0.0.2"));
        ck_assert_int_eq(rmdir(dir), 0); /* empty */
        run_result_free(&r);
        free(tmpdir);
        free(path);
        free(dir);
    }
}
END_TEST

/* Move this process into a network namespace of its own, whose only
   interface is lo, and bring lo up: as root, or else as root of a new user
   namespace. Fails the test where namespaces are not allowed. */
static void enter_loopback_only_network(void)
{
    uid_t uid = getuid();
    gid_t gid = getgid();
    if (unshare(CLONE_NEWNET) != 0) {
        ck_assert_msg(unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0,
                      "this test needs a network namespace of its own: unshare: %s",
                      strerror(errno));
        char map[64];
        snprintf(map, sizeof map, "0 %u 1\n", (unsigned)uid);
        free(write_file("/proc/self", "uid_map", map));
        free(write_file("/proc/self", "setgroups", "deny\n"));
        snprintf(map, sizeof map, "0 %u 1\n", (unsigned)gid);
        free(write_file("/proc/self", "gid_map", map));
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_ge(fd, 0);
    struct ifreq lo;
    memset(&lo, 0, sizeof lo);
    snprintf(lo.ifr_name, sizeof lo.ifr_name, "lo");
    ck_assert_int_eq(ioctl(fd, SIOCGIFFLAGS, &lo), 0);
    lo.ifr_flags |= IFF_UP;
    ck_assert_msg(ioctl(fd, SIOCSIFFLAGS, &lo) == 0, "bringing lo up: %s", strerror(errno));
    /* Nothing can leave: a datagram for another address has no route. */
    struct sockaddr_in elsewhere = { .sin_family = AF_INET, .sin_port = htons(53) };
    ck_assert_int_eq(inet_pton(AF_INET, "192.0.2.1", &elsewhere.sin_addr), 1); /* TEST-NET-1 */
    ck_assert_int_eq(sendto(fd, "?", 1, 0, (struct sockaddr *)&elsewhere, sizeof elsewhere), -1);
    ck_assert_int_eq(errno, ENETUNREACH);
    close(fd);
}

/* Each program in a network with nothing but lo prints its expected trace
   and nothing on stderr: a query sent anywhere else would fail, and evdns
   would say so on stderr (or, in silent, in the trace). */
START_TEST(lesson_programs_need_nothing_but_loopback)
{
    enter_loopback_only_network(); /* this test's process only: Check forks */
    static const char *const roles[] = { "resolve", "resolve", "connect",
                                         "connect", "silent",  "silent" };
    for (size_t i = 0; i < sizeof programs / sizeof programs[0]; i++) {
        char *path, *expected_path;
        if (asprintf(&path, "%s/%s", bin_dir(), programs[i]) < 0 ||
            asprintf(&expected_path, "lessons/19-dns/expected-%s.trace", roles[i]) < 0)
            abort();
        char *expected_file = read_file(expected_path);
        ck_assert_ptr_nonnull(expected_file);
        char *expected = trace_for_style(expected_file, i % 2 == 0 ? "event1" : "event2");
        const char *argv[] = { path, NULL };
        struct run_result r;
        run_program(argv, NULL, PROGRAM_TIMEOUT_MS, &r);
        ck_assert_msg(r.status == 0, "%s: status %d: %s", programs[i], r.status, r.err);
        ck_assert_msg(strcmp(r.err, "") == 0, "%s: stderr: %s", programs[i], r.err);
        ck_assert_msg(strcmp(r.out, expected) == 0, "%s: trace:\n%s", programs[i], r.out);
        run_result_free(&r);
        free(expected);
        free(expected_file);
        free(expected_path);
        free(path);
    }
}
END_TEST

Suite *dns_suite(void)
{
    Suite *s = suite_create("dns");

    TCase *config = tcase_create("configuration");
    tcase_add_checked_fixture(config, quiet, NULL);
    tcase_set_timeout(config, 20);
    tcase_add_test(config, base_new_with_0_reads_neither_resolv_conf_nor_hosts);
    tcase_add_test(config, initialize_nameservers_reads_resolv_conf_and_hosts);
    tcase_add_test(config, evdns_init_reads_resolv_conf_and_hosts);
    tcase_add_test(config, evdns_init_fails_without_event_init);
    tcase_add_test(config, nameserver_ip_add_alone_makes_an_empty_global_resolver);
    tcase_add_test(config, add_server_port_serves_on_the_current_base);
    tcase_add_test(config, idle_resolver_keeps_the_loop_running_unless_disable_when_inactive);
    tcase_add_test(config, set_option_ignores_its_flags);
    suite_add_tcase(s, config);

    TCase *names = tcase_create("names");
    tcase_add_checked_fixture(names, quiet, NULL);
    tcase_set_timeout(names, 20);
    tcase_add_test(names, query_names_arrive_in_random_case_unless_turned_off);
    tcase_add_test(names, reply_case_is_checked_only_when_case_is_not_randomized);
    tcase_add_test(names, close_server_port_closes_the_socket);
    tcase_add_test(names, name_needing_a_query_is_answered_from_the_loop);
    tcase_add_test(names, nxdomain_is_eai_noname_or_dns_err_notexist);
    tcase_add_test(names, servfail_is_sent_again_then_reported_as_a_timeout);
    tcase_add_test(names, numeric_address_is_answered_inside_the_call);
    tcase_add_test(names, resolve_ipv4_sends_a_numeric_address_as_a_name);
    tcase_add_test(names, hosts_entries_are_answered_inside_the_call_without_a_query);
    tcase_add_test(names, hosts_entries_are_only_for_getaddrinfo);
    tcase_add_test(names, load_hosts_of_a_missing_file_fails_but_adds_localhost);
    tcase_add_test(names, unspec_family_asks_for_a_and_aaaa);
    suite_add_tcase(s, names);

    TCase *silent = tcase_create("silent");
    tcase_add_checked_fixture(silent, quiet, NULL);
    tcase_set_timeout(silent, 30);
    tcase_add_test(silent, getaddrinfo_reports_a_timeout_as_eai_fail);
    tcase_add_test(silent, attempts_counts_every_send_not_the_resends);
    tcase_add_test(silent, default_is_three_attempts);
    tcase_add_test(silent, default_timeout_is_five_seconds);
    tcase_add_test(silent, timeout_takes_a_fraction_of_a_second);
    tcase_add_test(silent, one_request_giving_up_marks_the_nameserver_down);
    tcase_add_test(silent, down_nameserver_is_probed_with_a_query_for_google_com);
    tcase_add_test(silent, evdns_messages_go_to_libevents_log);
    suite_add_tcase(s, silent);

    TCase *cancel = tcase_create("cancel");
    tcase_add_checked_fixture(cancel, quiet, NULL);
    tcase_set_timeout(cancel, 20);
    tcase_add_test(cancel, cancel_calls_back_once_from_the_loop_with_eai_cancel);
    tcase_add_test(cancel, cancelled_request_is_never_sent_again);
    tcase_add_test(cancel, cancel_request_gives_dns_err_cancel);
    tcase_add_test(cancel, freeing_the_base_fails_requests_with_shutdown_not_cancel);
    suite_add_tcase(s, cancel);

    TCase *connect = tcase_create("connect");
    tcase_add_checked_fixture(connect, quiet, NULL);
    tcase_set_timeout(connect, 20);
    tcase_add_test(connect, connect_hostname_looks_up_then_connects);
    tcase_add_test(connect, connect_hostname_reports_a_missing_name_as_a_dns_error);
    tcase_add_test(connect, connect_hostname_tries_only_the_first_address);
    suite_add_tcase(s, connect);

    TCase *lesson = tcase_create("programs");
    tcase_add_checked_fixture(lesson, quiet, NULL);
    tcase_set_timeout(lesson, 120);
    tcase_add_test(lesson, lesson_programs_reject_arguments);
    tcase_add_test(lesson, resolve_programs_leave_no_hosts_file_behind);
    tcase_add_test(lesson, lesson_programs_need_nothing_but_loopback);
    suite_add_tcase(s, lesson);
    return s;
}

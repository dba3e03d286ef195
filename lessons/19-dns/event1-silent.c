/*
 * Lesson 19, event1 style: a nameserver that never answers, and a request
 * given up.
 *
 * What it shows: the global resolver's only nameserver is a UDP socket the
 *   program binds on 127.0.0.1 and never reads. With "timeout:" 0.2 and
 *   "attempts:" 2, a request is sent twice, 0.2 s apart, then fails:
 *   evdns_resolve_ipv4() calls back with DNS_ERR_TIMEOUT, and evdns logs
 *   that the nameserver has failed. 1.x could not cancel a request: the
 *   program can only forget one, and the resolver goes on with it, sends
 *   it again and calls back when it fails. What waits at the silent socket
 *   at the end counts every packet sent.
 * Run it:   make lesson-19               (every role, both styles)
 *           build/bin/19-event1-silent   (this program alone)
 * Look for: "packets at the silent socket: 4": two (the attempts) for each
 *   request, the forgotten one included; event2 sends 3.
 */
#include "event1.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* 1.4 read "timeout:" as whole seconds, and refused "0.2"; 2.1 takes a fraction. */
#define TIMEOUT "0.2" /* seconds per attempt */
#define ATTEMPTS "2"  /* sends per request, the first included */

struct request {
    const char *tag; /* its name in the trace */
    bool done;       /* its callback has run */
    int result;      /* what the callback was given */
};

static int silent_fd = -1; /* the nameserver: bound, never read */
static struct request forgotten = { "cancel", false, 0 }, slow = { "slow", false, 0 };

/* libevent's log, which evdns writes to when no evdns_set_log_fn() is
   set: into the trace, with the nameserver's port left out. */
static void on_log(int severity, const char *msg)
{
    const char *server = strstr(msg, "127.0.0.1:");
    (void)severity;
    if (server == NULL) {
        trace_note("libevent logs: %s", msg);
        return;
    }
    const char *rest = server + strlen("127.0.0.1:");
    rest += strspn(rest, "0123456789");
    trace_note("libevent logs: %.*s127.0.0.1:PORT%s", (int)(server - msg), msg, rest);
}

/* How many queries wait at the silent socket: every one ever sent, since
   nobody reads them. */
static int count_packets(void)
{
    char packet[512];
    int count = 0;
    while (recv(silent_fd, packet, sizeof packet, MSG_DONTWAIT) >= 0)
        count++;
    return count;
}

static const char *dns_error_name(int result)
{
    switch (result) {
    case DNS_ERR_NONE: return "DNS_ERR_NONE";
    case DNS_ERR_NOTEXIST: return "DNS_ERR_NOTEXIST";
    case DNS_ERR_TIMEOUT: return "DNS_ERR_TIMEOUT";
    default: return "another DNS_ERR_ code";
    }
}

/* doc: finish */
/* Both requests are over: count what reached the nameserver, and leave
   the loop (the resolver's socket would keep it running). The forgotten
   request's callback may come before or after the other's: it says
   nothing until now. */
static void finish_when_both_are_done(void)
{
    if (!forgotten.done || !slow.done)
        return;
    trace_style("the forgotten request called back too: %s; ignored",
                dns_error_name(forgotten.result));
    trace_style("packets at the silent socket: %d (%s attempts each)", count_packets(),
                ATTEMPTS);
    if (event_loopexit(NULL) != 0)
        die("event_loopexit");
}
/* doc: end */

/* doc: answer */
static void on_answer(int result, char type, int count, int ttl, void *addresses, void *arg)
{
    struct request *r = arg;
    (void)type;
    (void)ttl;
    (void)addresses;
    r->result = result;
    if (r == &slow) {
        trace(r->tag, "answered", "address=%s", count > 0 ? "some" : "none");
        trace_style("result=%s", dns_error_name(result));
    }
    r->done = true;
    finish_when_both_are_done();
}
/* doc: end */

static void ask(struct request *r, const char *name)
{
    trace(r->tag, "asking", "name=%s", name);
    if (evdns_resolve_ipv4(name, 0, on_answer, r) != 0)
        die("evdns_resolve_ipv4");
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
    struct sockaddr_in address = { .sin_family = AF_INET };
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    silent_fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (silent_fd < 0)
        die_errno("socket");
    if (bind(silent_fd, (struct sockaddr *)&address, sizeof address) != 0 ||
        getsockname(silent_fd, (struct sockaddr *)&address, &length) != 0)
        die_errno("bind");
    trace_note("a nameserver that never answers: a UDP socket nobody reads");

    event_set_log_callback(on_log);
    char nameserver[32];
    snprintf(nameserver, sizeof nameserver, "127.0.0.1:%d", ntohs(address.sin_port));
    /* 1.4 applied an option only if flags named its group: DNS_OPTION_MISC
       (2.1 ignores flags). */
    if (evdns_nameserver_ip_add(nameserver) != 0 ||
        evdns_set_option("timeout:", TIMEOUT, DNS_OPTION_MISC) != 0 ||
        evdns_set_option("attempts:", ATTEMPTS, DNS_OPTION_MISC) != 0)
        die("evdns_nameserver_ip_add or evdns_set_option");
    trace_style("evdns_set_option(\"timeout:\", \"%s\", DNS_OPTION_MISC), \"attempts:\" \"%s\"",
                TIMEOUT, ATTEMPTS);
    trace_note("each request: %s attempts, %s s apart", ATTEMPTS, TIMEOUT);
    /* doc: end */

    /* doc: cancel */
    trace_note("a request given up as soon as it is sent");
    ask(&forgotten, "gone.lesson.test");
    trace_style("1.x has no cancel: the program can only forget the request");
    /* doc: end */

    trace_note("a request left to time out");
    ask(&slow, "slow.lesson.test");

    trace("loop", "dispatch", NULL);
    int result = event_dispatch();
    trace("loop", "returned", "result=%d", result);

    evdns_shutdown(0); /* frees the global resolver; nothing is in flight */
    close(silent_fd);
    event_base_free(base);
    return result < 0 ? 1 : 0;
}

/*
 * Lesson 19, event2 style: a nameserver that never answers, and a request
 * given up.
 *
 * What it shows: the resolver's only nameserver is a UDP socket the
 *   program binds on 127.0.0.1 and never reads. With "timeout:" 0.2 and
 *   "attempts:" 2, a request is sent twice, 0.2 s apart, then fails:
 *   evdns_getaddrinfo() calls back with EVUTIL_EAI_FAIL, and evdns logs
 *   that the nameserver has failed. Another request, cancelled with
 *   evdns_getaddrinfo_cancel() as soon as it was sent, calls back once,
 *   from the loop, with EVUTIL_EAI_CANCEL, and is never sent again. What
 *   waits at the silent socket at the end counts every packet sent.
 * Run it:   make lesson-19               (every role, both styles)
 *           build/bin/19-event2-silent   (this program alone)
 * Look for: the cancelled request's callback first thing in the loop;
 *   "packets at the silent socket: 3": one for the cancelled request, two
 *   (the attempts) for the other.
 */
#include "event2.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TIMEOUT "0.2" /* seconds per attempt: "timeout:" takes a fraction */
#define ATTEMPTS "2"  /* sends per request, the first included */

struct request {
    const char *tag; /* its name in the trace */
    bool done;       /* its callback has run */
};

static struct event_base *base;
static int silent_fd = -1; /* the nameserver: bound, never read */
static struct request cancelled = { "cancel", false }, slow = { "slow", false };

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

/* doc: finish */
/* Both requests are over: count what reached the nameserver, and leave
   the loop (the resolver's socket would keep it running). */
static void finish_when_both_are_done(void)
{
    if (!cancelled.done || !slow.done)
        return;
    trace_style("packets at the silent socket: %d (1 cancelled, then %s attempts)",
                count_packets(), ATTEMPTS);
    if (event_base_loopexit(base, NULL) != 0)
        die("event_base_loopexit");
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
    struct request *r = arg;
    if (r == &cancelled) {
        trace_style("the cancelled request's callback: err=%s", gai_error_name(err));
    } else {
        trace(r->tag, "answered", "address=%s", ai != NULL ? "some" : "none");
        trace_style("err=%s: a timeout is a failure, not EVUTIL_EAI_AGAIN", gai_error_name(err));
    }
    if (ai != NULL) /* no answer is expected from a silent nameserver */
        evutil_freeaddrinfo(ai);
    r->done = true;
    finish_when_both_are_done();
}
/* doc: end */

static struct evdns_getaddrinfo_request *ask(struct evdns_base *dns, struct request *r,
                                             const char *name)
{
    struct evutil_addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET; /* one query per attempt */
    hints.ai_socktype = SOCK_STREAM;
    trace(r->tag, "asking", "name=%s", name);
    struct evdns_getaddrinfo_request *request =
        evdns_getaddrinfo(dns, name, NULL, &hints, on_answer, r);
    if (request == NULL) /* a name needs a query: this cannot be answered at once */
        die("evdns_getaddrinfo");
    return request;
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
    struct evdns_base *dns = evdns_base_new(base, 0);
    if (dns == NULL)
        die("evdns_base_new");
    char nameserver[32];
    snprintf(nameserver, sizeof nameserver, "127.0.0.1:%d", ntohs(address.sin_port));
    if (evdns_base_nameserver_ip_add(dns, nameserver) != 0 ||
        evdns_base_set_option(dns, "timeout:", TIMEOUT) != 0 ||
        evdns_base_set_option(dns, "attempts:", ATTEMPTS) != 0)
        die("evdns_base_nameserver_ip_add or evdns_base_set_option");
    trace_style("evdns_base_set_option(dns, \"timeout:\", \"%s\"), \"attempts:\" \"%s\"",
                TIMEOUT, ATTEMPTS);
    trace_note("each request: %s attempts, %s s apart", ATTEMPTS, TIMEOUT);
    /* doc: end */

    /* doc: cancel */
    trace_note("a request given up as soon as it is sent");
    struct evdns_getaddrinfo_request *request = ask(dns, &cancelled, "gone.lesson.test");
    evdns_getaddrinfo_cancel(request); /* request is no longer ours to use */
    trace_style("evdns_getaddrinfo_cancel(): the callback comes later, from the loop");
    /* doc: end */

    trace_note("a request left to time out");
    ask(dns, &slow, "slow.lesson.test");

    trace("loop", "dispatch", NULL);
    int result = event_base_dispatch(base);
    trace("loop", "returned", "result=%d", result);

    evdns_base_free(dns, 0); /* nothing is in flight */
    close(silent_fd);
    event_base_free(base);
    return result < 0 ? 1 : 0;
}

/*
 * network_load.c - see network_load.h.
 */
#define _GNU_SOURCE
#include "network_load.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h> /* struct tcp_info with the byte counts, which glibc's lacks */
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { CHUNK = 16384, ACK_MAX_LINE = 1000 };

const char *load_kind_name(enum load_kind kind)
{
    static const char *names[] = { "reset", "half-close", "random", "burst", "slow-read",
                                   "leave" };
    return kind < LOAD_KINDS ? names[kind] : "?";
}

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t xorshift(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dULL;
}

static size_t random_between(uint64_t *state, size_t low, size_t high)
{
    return low + (size_t)(xorshift(state) % (high - low + 1));
}

void load_stream_init(struct load_stream *s, uint64_t seed, size_t max_line)
{
    memset(s, 0, sizeof *s);
    s->state = splitmix64(seed) | 1; /* xorshift must not start at 0 */
    s->max_line = max_line;
}

void load_stream_fill(struct load_stream *s, unsigned char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char byte = (unsigned char)(xorshift(&s->state) >> 56);
        if (s->max_line > 0 && s->line >= s->max_line)
            byte = '\n';
        if (byte == '\n') {
            s->line = 0;
            s->lines++;
        } else {
            s->line++;
        }
        buf[i] = byte;
    }
}

/* --- Sessions ------------------------------------------------------------------------ */

struct session {
    int fd; /* -1: slot free */
    int index;
    enum load_kind kind;
    uint64_t seed, rng;
    bool connecting, sending_done, shut, reads;
    struct load_stream tx, rx;
    size_t to_send, sent, received, read_max, chunk_max;
    unsigned char pending[CHUNK];
    size_t pending_off, pending_len;
};

struct run {
    enum load_reply reply;
    struct load_result *result;
};

static void fail(struct run *run, struct session *s, const char *fmt, ...)
{
    if (run->result->failed)
        return;
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(run->result->failure, sizeof run->result->failure,
             "session %d (%s, seed %#llx): %s", s->index, load_kind_name(s->kind),
             (unsigned long long)s->seed, what);
    run->result->failed = true;
}

static size_t expected_reply(const struct run *run, const struct session *s)
{
    return run->reply == LOAD_ECHO ? s->to_send : s->tx.lines * LOAD_ACK_LENGTH;
}

static bool wants_write(const struct session *s)
{
    return s->connecting || (!s->sending_done && s->sent < s->to_send);
}

static bool verifies(const struct session *s)
{
    return s->kind == LOAD_HALF_CLOSE || s->kind == LOAD_RANDOM || s->kind == LOAD_SLOW_READ;
}

static void finish(struct run *run, struct session *s, bool verified)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    run->result->finished++;
    run->result->per_kind[s->kind]++;
    if (verified)
        run->result->verified++;
}

static void start_session(struct run *run, struct session *s, int index, uint64_t seed,
                          const struct sockaddr_in *server)
{
    memset(s, 0, offsetof(struct session, pending));
    s->index = index;
    s->kind = (enum load_kind)(index % LOAD_KINDS);
    s->seed = splitmix64(seed ^ (uint64_t)index * 0x9e3779b97f4a7c15ULL);
    s->rng = s->seed | 1;
    s->pending_off = s->pending_len = 0;
    size_t max_line = run->reply == LOAD_ACK ? ACK_MAX_LINE : 0;
    s->read_max = CHUNK;
    s->chunk_max = CHUNK;
    s->reads = verifies(s);
    switch (s->kind) {
    case LOAD_RESET: s->to_send = random_between(&s->rng, 1, 32 * 1024); break;
    case LOAD_HALF_CLOSE: s->to_send = random_between(&s->rng, 1, 64 * 1024); break;
    case LOAD_RANDOM:
        s->to_send = random_between(&s->rng, 1, 64 * 1024);
        s->chunk_max = 4096; /* and each write a random size up to it */
        break;
    case LOAD_BURST: s->to_send = 1024 * 1024; break;
    case LOAD_SLOW_READ:
        s->to_send = run->reply == LOAD_ECHO ? 256 * 1024 : 32 * 1024;
        if (run->reply == LOAD_ACK)
            max_line = 8; /* many short requests: many replies */
        s->read_max = 512;
        break;
    default: s->to_send = 0; break;
    }
    load_stream_init(&s->tx, s->seed, max_line);
    load_stream_init(&s->rx, s->seed, max_line);

    run->result->started++;
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (s->fd < 0) {
        fail(run, s, "socket: %s", strerror(errno));
        return;
    }
    if (connect(s->fd, (const struct sockaddr *)server, sizeof *server) != 0 &&
        errno != EINPROGRESS) {
        fail(run, s, "connect: %s", strerror(errno));
        return;
    }
    s->connecting = true;
}

/* Writable: finish the connect, or send the next piece. */
static void on_writable(struct run *run, struct session *s)
{
    if (s->connecting) {
        int error = 0;
        socklen_t length = sizeof error;
        getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error != 0) {
            fail(run, s, "connect: %s", strerror(error));
            return;
        }
        s->connecting = false;
        if (s->kind == LOAD_LEAVE) {
            finish(run, s, false);
            return;
        }
    }
    while (s->sent < s->to_send) {
        if (s->pending_off == s->pending_len) {
            size_t n = s->to_send - s->sent;
            size_t cap = s->kind == LOAD_RANDOM ? random_between(&s->rng, 1, s->chunk_max)
                                                : s->chunk_max;
            if (n > cap)
                n = cap;
            load_stream_fill(&s->tx, s->pending, n);
            s->pending_off = 0;
            s->pending_len = n;
        }
        ssize_t w = send(s->fd, s->pending + s->pending_off, s->pending_len - s->pending_off,
                         MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            if (s->kind == LOAD_BURST || s->kind == LOAD_RESET) {
                finish(run, s, false); /* abuse only: nothing to check */
                return;
            }
            fail(run, s, "send after %zu bytes: %s", s->sent, strerror(errno));
            return;
        }
        s->pending_off += (size_t)w;
        s->sent += (size_t)w;
        if (s->kind == LOAD_RANDOM)
            break; /* one random-sized write per turn */
    }
    if (s->kind == LOAD_BURST && (s->sent == s->to_send || s->pending_off < s->pending_len)) {
        finish(run, s, false); /* vanish, reply unread */
        return;
    }
    if (s->sent < s->to_send)
        return;
    s->sending_done = true;
    if (s->kind == LOAD_RESET) {
        struct linger reset = { 1, 0 };
        setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        finish(run, s, false);
    } else if (s->kind == LOAD_HALF_CLOSE && !s->shut) {
        if (shutdown(s->fd, SHUT_WR) != 0) {
            fail(run, s, "shutdown: %s", strerror(errno));
            return;
        }
        s->shut = true;
    } else if (s->received == expected_reply(run, s)) {
        finish(run, s, true);
    }
}

/* Check received bytes against what the server must send back. */
static bool check_reply(struct run *run, struct session *s, const unsigned char *data, size_t n)
{
    if (run->reply == LOAD_ECHO) {
        unsigned char want[CHUNK];
        load_stream_fill(&s->rx, want, n);
        if (memcmp(want, data, n) != 0) {
            size_t at = 0;
            while (want[at] == data[at])
                at++;
            fail(run, s, "reply byte %zu is %#x, sent %#x", s->received + at, data[at], want[at]);
            return false;
        }
    } else {
        for (size_t i = 0; i < n; i++)
            if (data[i] != (unsigned char)LOAD_ACK_TEXT[(s->received + i) % LOAD_ACK_LENGTH]) {
                fail(run, s, "reply byte %zu is %#x, not part of \"hello...ack.\\n\"",
                     s->received + i, data[i]);
                return false;
            }
    }
    if (s->received + n > expected_reply(run, s)) {
        fail(run, s, "%zu reply bytes, more than the %zu expected for what was sent",
             s->received + n, expected_reply(run, s));
        return false;
    }
    return true;
}

static void on_readable(struct run *run, struct session *s)
{
    unsigned char data[CHUNK];
    for (;;) {
        ssize_t n = recv(s->fd, data, s->read_max, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            fail(run, s, "recv after %zu reply bytes: %s", s->received, strerror(errno));
            return;
        }
        if (n == 0) {
            size_t want = expected_reply(run, s);
            if (!s->shut || s->received != want)
                fail(run, s, "EOF after %zu of %zu reply bytes%s", s->received, want,
                     s->shut ? "" : ", before we hung up");
            else
                finish(run, s, true);
            return;
        }
        if (!check_reply(run, s, data, (size_t)n))
            return;
        s->received += (size_t)n;
        if (s->sending_done && !s->shut && s->received == expected_reply(run, s)) {
            finish(run, s, true);
            return;
        }
        if (s->kind == LOAD_SLOW_READ)
            return; /* one small read per turn */
    }
}

struct sockaddr_in load_loopback(int port)
{
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons((uint16_t)port);
    return address;
}

void load_run(int port, enum load_reply reply, int sessions, int concurrency, uint64_t seed,
              int timeout_ms, struct load_result *result)
{
    struct sockaddr_in server = load_loopback(port);
    memset(result, 0, sizeof *result);
    struct run run = { reply, result };

    struct session *slots = calloc((size_t)concurrency, sizeof *slots);
    struct pollfd *fds = calloc((size_t)concurrency, sizeof *fds);
    int *which = calloc((size_t)concurrency, sizeof *which);
    if (slots == NULL || fds == NULL || which == NULL)
        abort();
    for (int i = 0; i < concurrency; i++)
        slots[i].fd = -1;
    long long deadline = now_ms() + timeout_ms;
    int next = 0;

    while (!result->failed) {
        int nfds = 0;
        for (int i = 0; i < concurrency && !result->failed; i++) {
            struct session *s = &slots[i];
            if (s->fd < 0 && next < sessions)
                start_session(&run, s, next++, seed, &server);
            if (s->fd < 0)
                continue;
            short events = 0;
            if (wants_write(s))
                events |= POLLOUT;
            if (!s->connecting && s->reads)
                events |= POLLIN;
            fds[nfds] = (struct pollfd){ s->fd, events, 0 };
            which[nfds++] = i;
        }
        if (result->failed || nfds == 0)
            break;
        long long left = deadline - now_ms();
        if (left <= 0) {
            snprintf(result->failure, sizeof result->failure,
                     "gave up after %d ms: %d of %d sessions finished, %d running", timeout_ms,
                     result->finished, sessions, nfds);
            result->failed = true;
            break;
        }
        int ready = poll(fds, (nfds_t)nfds, left < 1000 ? (int)left : 1000);
        if (ready < 0 && errno != EINTR)
            abort();
        for (int k = 0; k < nfds && !result->failed; k++) {
            struct session *s = &slots[which[k]];
            short got = fds[k].revents;
            if (got == 0 || s->fd < 0)
                continue;
            if ((got & POLLIN) || ((got & (POLLHUP | POLLERR)) && s->reads && !s->connecting))
                on_readable(&run, s);
            if (s->fd >= 0 && !result->failed && (got & (POLLOUT | POLLERR | POLLHUP)) &&
                wants_write(s))
                on_writable(&run, s);
        }
    }
    for (int i = 0; i < concurrency; i++)
        if (slots[i].fd >= 0)
            close(slots[i].fd);
    free(slots);
    free(fds);
    free(which);
}

bool load_ping(int port, enum load_reply reply, int timeout_ms, char *why, size_t why_size)
{
    struct sockaddr_in server = load_loopback(port);
    const char *want = reply == LOAD_ECHO ? "ping\n" : LOAD_ACK_TEXT;
    char got[64];
    size_t have = 0;

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&server, sizeof server) != 0) {
        snprintf(why, why_size, "cannot connect: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    if (send(fd, "ping\n", 5, MSG_NOSIGNAL) != 5 || shutdown(fd, SHUT_WR) != 0) {
        snprintf(why, why_size, "cannot send: %s", strerror(errno));
        close(fd);
        return false;
    }
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        struct pollfd p = { fd, POLLIN, 0 };
        long long left = deadline - now_ms();
        if (left <= 0 || poll(&p, 1, (int)left) == 0) {
            snprintf(why, why_size, "no EOF within %d ms (%zu bytes received)", timeout_ms, have);
            close(fd);
            return false;
        }
        ssize_t n = recv(fd, got + have, sizeof got - 1 - have, 0);
        if (n < 0) {
            snprintf(why, why_size, "recv: %s", strerror(errno));
            close(fd);
            return false;
        }
        if (n == 0)
            break;
        have += (size_t)n;
        if (have == sizeof got - 1)
            break;
    }
    close(fd);
    got[have] = '\0';
    if (have != strlen(want) || memcmp(got, want, have) != 0) {
        snprintf(why, why_size, "answered \"%s\" (%zu bytes), not \"%s\"", got, have, want);
        return false;
    }
    return true;
}

/* --- What a program has read and written ------------------------------------------- */

/* tcp_info counts the bytes that arrived in order (tcpi_bytes_received)
   and that the peer acknowledged (tcpi_bytes_acked); the queues say how
   many of the first are still unread (idiag_rqueue: rcv_nxt - copied_seq)
   and how many bytes written are not yet acknowledged (idiag_wqueue:
   write_seq - snd_una). So the program read received - rqueue and wrote
   acked + wqueue. */
bool load_app_bytes(int local_port, int remote_port, struct load_app_bytes *out)
{
    int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl < 0)
        return false;
    struct {
        struct nlmsghdr header;
        struct inet_diag_req_v2 request;
    } query;
    memset(&query, 0, sizeof query);
    query.header.nlmsg_len = sizeof query;
    query.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    query.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    query.request.sdiag_family = AF_INET;
    query.request.sdiag_protocol = IPPROTO_TCP;
    query.request.idiag_states = ~0u;
    query.request.idiag_ext = 1 << (INET_DIAG_INFO - 1);
    query.request.id.idiag_sport = htons((uint16_t)local_port);
    query.request.id.idiag_dport = htons((uint16_t)remote_port);
    bool found = false, done = false;
    if (send(nl, &query, sizeof query, 0) != (ssize_t)sizeof query)
        done = true;
    static char reply[65536];
    while (!done) {
        ssize_t n = recv(nl, reply, sizeof reply, 0);
        if (n <= 0)
            break;
        for (struct nlmsghdr *h = (struct nlmsghdr *)reply; NLMSG_OK(h, (size_t)n);
             h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
                done = true;
                break;
            }
            const struct inet_diag_msg *m = NLMSG_DATA(h);
            if (ntohs(m->id.idiag_sport) != local_port || ntohs(m->id.idiag_dport) != remote_port)
                continue;
            int length = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
            for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, length);
                 a = RTA_NEXT(a, length)) {
                if (a->rta_type != INET_DIAG_INFO)
                    continue;
                struct tcp_info info;
                memset(&info, 0, sizeof info);
                size_t size = RTA_PAYLOAD(a) < sizeof info ? RTA_PAYLOAD(a) : sizeof info;
                if (size < offsetof(struct tcp_info, tcpi_bytes_received) +
                               sizeof info.tcpi_bytes_received)
                    continue; /* a kernel older than 4.1 */
                memcpy(&info, RTA_DATA(a), size);
                out->taken = info.tcpi_bytes_received - m->idiag_rqueue;
                out->written = info.tcpi_bytes_acked + m->idiag_wqueue;
                out->unread = m->idiag_rqueue;
                found = true;
            }
        }
    }
    close(nl);
    return found;
}

/*
 * Lesson 20, event2 style, mistake 07, the fix: ignore SIGPIPE.
 *
 * What it shows: the same client and server as the bug, and one call in
 *   the server before its loop: signal(SIGPIPE, SIG_IGN). The write that
 *   raised the signal now fails with EPIPE, and the bufferevent reports it
 *   to the event callback as an error on that one connection; the server
 *   frees it and lives on.
 * Run it:   make lesson-20     (every mistake: the bug, then the fix)
 *           build/bin/20-event2-07-sigpipe-fix
 * Look for: "bev event-cb what=WRITING|ERROR", "socket error: Broken
 *   pipe", and "server exited status=0".
 */
#include "event2.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

enum { CHUNK = 65536, CHUNKS = 128 }; /* 8 MB, more than a socket buffers */
static char chunk[CHUNK];

static void on_read(struct bufferevent *bev, void *arg)
{
    (void)arg;
    struct evbuffer *input = bufferevent_get_input(bev);
    trace("bev", "read-cb", "input=%zu", evbuffer_get_length(input));
    if (evbuffer_drain(input, evbuffer_get_length(input)) != 0)
        die("evbuffer_drain");
    for (int i = 0; i < CHUNKS; i++)
        if (bufferevent_write(bev, chunk, sizeof chunk) != 0)
            die("bufferevent_write");
    trace("bev", "wrote", "output=%zu", evbuffer_get_length(bufferevent_get_output(bev)));
}

static void on_write(struct bufferevent *bev, void *arg) /* all sent */
{
    (void)arg;
    trace("bev", "write-cb", "output=0");
    bufferevent_free(bev);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    char flags[64];
    int error = EVUTIL_SOCKET_ERROR();
    (void)arg;
    trace("bev", "event-cb", "what=%s", trace_bev_flags(what, flags, sizeof flags));
    if (what & BEV_EVENT_EOF) {
        trace_note("the client has gone; the rest of the reply goes on");
        return;
    }
    trace_note("socket error: %s", strerror(error));
    bufferevent_free(bev);
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *addr,
                      int len, void *arg)
{
    (void)addr, (void)len, (void)arg;
    trace("server", "accepted", NULL);
    struct event_base *base = evconnlistener_get_base(lev);
    evconnlistener_free(lev); /* one client is all this server takes */
    struct bufferevent *bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL)
        die("bufferevent_socket_new");
    bufferevent_setcb(bev, on_read, on_write, on_event, NULL);
    if (bufferevent_enable(bev, EV_READ) != 0)
        die("bufferevent_enable");
}

/* The child: the server's loop on the listening socket, one client. */
static void serve(int listener)
{
    /* doc: fix */
    /* A write to a connection the peer has reset now fails with EPIPE,
       which the bufferevent reports as an error on that connection. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die_errno("signal");
    /* doc: end */
    struct event_base *base = event_base_new();
    if (base == NULL)
        die("event_base_new");
    struct evconnlistener *lev =
        evconnlistener_new(base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE, -1, listener);
    if (lev == NULL)
        die("evconnlistener_new");
    int result = event_base_dispatch(base);
    trace("loop", "returned", "result=%d", result);
    event_base_free(base);
}

int main(int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: %s (no arguments)\n", argv[0]);
        return 2;
    }
    /* The listening socket, 127.0.0.1 on a port the kernel picks. */
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&addr, len) != 0 ||
        listen(listener, 8) != 0 || getsockname(listener, (struct sockaddr *)&addr, &len) != 0)
        die_errno("socket, bind, listen");
    if (evutil_make_socket_nonblocking(listener) != 0)
        die("evutil_make_socket_nonblocking");

    /* The client, all before the server runs: it waits in the backlog. */
    int client = socket(AF_INET, SOCK_STREAM, 0);
    if (client < 0 || connect(client, (struct sockaddr *)&addr, len) != 0)
        die_errno("connect");
    if (write(client, "GET\n", 4) != 4)
        die_errno("write");
    close(client);
    trace("client", "left", "sent=GET read=nothing");

    memset(chunk, 'x', sizeof chunk);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        die_errno("fork");
    if (pid == 0) {
        serve(listener);
        _exit(0);
    }
    close(listener);
    int status;
    if (waitpid(pid, &status, 0) != pid)
        die_errno("waitpid");
    if (WIFSIGNALED(status))
        trace("server", "killed", "signal=%s", WTERMSIG(status) == SIGPIPE ? "SIGPIPE" : "other");
    else
        trace("server", "exited", "status=%d", WEXITSTATUS(status));
    return 0;
}

/*
 * Lesson 15, event2 style: the select backend and descriptor 1024.
 *
 * What it shows: select() takes bitmaps (fd_set) of FD_SETSIZE bits, 1024
 *   here. libevent's select backend allocates larger sets when it needs
 *   them, but Debian builds libevent with _FORTIFY_SOURCE, whose FD_SET()
 *   checks the descriptor against FD_SETSIZE and aborts the process. So
 *   each try runs in a child process, which runs this program again
 *   (--child METHOD NUMBER): it raises its limit on open descriptors,
 *   moves a pipe holding one byte to descriptor NUMBER, makes a base on
 *   backend METHOD and waits for the pipe. The parent waits for the child,
 *   then says how it ended and what it wrote on stderr.
 * Run it:   make lesson-15               (every role, both styles)
 *           build/bin/15-event2-fd1024   (this program alone)
 * Look for: select reads descriptor 1023; with 1024 the child's trace
 *   stops after "reader created", because event_add() itself aborts
 *   ("child killed signal=SIGABRT"). poll and epoll read descriptor 1024
 *   like any other.
 */
#define _GNU_SOURCE /* sigabbrev_np() */
#include "event2.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static char program_path[4096]; /* the child runs this program again */

/* A base on method alone: every other backend libevent knows is avoided.
   NULL when method is not available here. */
static struct event_base *base_for(const char *method)
{
    struct event_config *cfg = event_config_new();
    if (cfg == NULL)
        die("event_config_new");
    /* libevent's own array, valid until the next call: not kept, not freed. */
    const char **methods = event_get_supported_methods();
    if (methods == NULL)
        die("event_get_supported_methods");
    char avoided[128] = "";
    for (size_t i = 0; methods[i] != NULL; i++) {
        if (strcmp(methods[i], method) == 0)
            continue;
        if (event_config_avoid_method(cfg, methods[i]) != 0)
            die("event_config_avoid_method");
        snprintf(avoided + strlen(avoided), sizeof avoided - strlen(avoided), " %s", methods[i]);
    }
    trace_style("event_config_avoid_method():%s", avoided);
    struct event_base *base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    return base;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct event *self = arg;
    char byte;
    probe_callback(self, what);
    if (read(fd, &byte, 1) != 1)
        die_errno("read");
    trace_note("read the byte");
    probe_after(self);
}

/* Raise the soft limit on open descriptors above number, if it is not. */
static void allow_descriptor(int number)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        die_errno("getrlimit");
    if (limit.rlim_cur > (rlim_t)number)
        return;
    if (limit.rlim_max <= (rlim_t)number) {
        fprintf(stderr, "the hard limit on open descriptors is %llu: no descriptor %d here\n",
                (unsigned long long)limit.rlim_max, number);
        exit(EXIT_FAILURE);
    }
    limit.rlim_cur = (rlim_t)number + 1;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
        die_errno("setrlimit");
}

/* doc: child */
/* The child (--child METHOD NUMBER): a pipe holding one byte, moved to
   descriptor number, watched by a base on method. */
static _Noreturn void child(const char *method, int number)
{
    allow_descriptor(number);
    int fds[2];
    if (pipe(fds) != 0)
        die_errno("pipe");
    if (write(fds[1], "x", 1) != 1)
        die_errno("write");
    if (dup2(fds[0], number) != number)
        die_errno("dup2");
    close(fds[0]);

    struct event_base *base = base_for(method);
    if (base == NULL)
        die("event_base_new_with_config");
    trace("base", "created", "method=%s", event_base_get_method(base));
    struct event *reader = event_new(base, number, EV_READ, on_readable, event_self_cbarg());
    if (reader == NULL)
        die("event_new");
    probe_watch(reader, "reader");
    if (event_add(reader, NULL) != 0) /* select, 1024 and up: FD_SET() aborts in here */
        die("event_add");
    probe_added(reader, NULL);
    trace("loop", "dispatch", NULL);
    int result = event_base_dispatch(base);
    trace("loop", "returned", "result=%d", result);
    /* doc: end */

    probe_free(reader);
    event_free(reader);
    event_base_free(base);
    trace("base", "freed", NULL);
    close(number);
    close(fds[1]);
    exit(EXIT_SUCCESS);
}

/* doc: try */
/* Run this program again as --child METHOD NUMBER, in a child process
   whose stderr goes into a pipe; report how it ended and each line it
   wrote there. */
static void try_descriptor(const char *method, int number)
{
    trace_note("%s with descriptor %d", method, number);
    int err[2];
    if (pipe(err) != 0)
        die_errno("pipe");
    fflush(NULL); /* nothing buffered may be written twice */
    pid_t pid = fork();
    if (pid < 0)
        die_errno("fork");
    if (pid == 0) {
        if (dup2(err[1], STDERR_FILENO) != STDERR_FILENO)
            die_errno("dup2");
        close(err[0]);
        close(err[1]);
        /* A new program, not a copy of this one: it raises its own limit,
           and valgrind (make memcheck), which caps the limit of what it
           runs, lets it go. */
        char text[16];
        snprintf(text, sizeof text, "%d", number);
        execl(program_path, program_path, "--child", method, text, (char *)NULL);
        die_errno("execl");
    }
    close(err[1]);

    char said[512], buf[512];
    size_t len = 0;
    ssize_t n;
    while ((n = read(err[0], buf, sizeof buf)) != 0) { /* to the end: the child must not block */
        if (n < 0 && errno != EINTR)
            die_errno("read");
        for (ssize_t i = 0; i < n && len < sizeof said - 1; i++)
            said[len++] = buf[i];
    }
    said[len] = '\0';
    close(err[0]);

    int status;
    if (waitpid(pid, &status, 0) != pid)
        die_errno("waitpid");
    if (WIFSIGNALED(status))
        trace("child", "killed", "signal=SIG%s", sigabbrev_np(WTERMSIG(status)));
    else
        trace("child", "exited", "status=%d", WEXITSTATUS(status));
    for (char *line = strtok(said, "\n"); line != NULL; line = strtok(NULL, "\n"))
        trace_note("the child said: %s", line);
}
/* doc: end */

static int usage(const char *program)
{
    fprintf(stderr, "usage: %s (no arguments)\n", program);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--child") == 0) { /* run by try_descriptor() */
        char *end;
        long number = strtol(argv[3], &end, 10);
        if (*end != '\0' || number < 64 || number > 65535) /* clear of the pipe's own */
            return usage(argv[0]);
        child(argv[2], (int)number);
    }
    if (argc > 1)
        return usage(argv[0]);
    ssize_t n = readlink("/proc/self/exe", program_path, sizeof program_path - 1);
    if (n < 0)
        die_errno("readlink /proc/self/exe");
    program_path[n] = '\0';

    try_descriptor("select", 1023); /* the last one FD_SETSIZE allows */
    try_descriptor("select", 1024);
    try_descriptor("poll", 1024);
    try_descriptor("epoll", 1024);
    return 0;
}

/*
 * server.c - see server.h.
 */
#define _GNU_SOURCE
#include "server.h"

#include "clock.h"
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void reap(struct server *s, int options)
{
    int status;
    pid_t r;
    while ((r = waitpid(s->pid, &status, options)) < 0 && errno == EINTR)
        ;
    if (r == s->pid) {
        s->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        s->pid = 0;
    }
}

bool server_alive(struct server *s)
{
    if (s->pid > 0)
        reap(s, WNOHANG);
    return s->pid > 0;
}

/* In the child: the files as stdout and stderr, signals as a shell would
   leave them, then exec. */
static _Noreturn void child_exec(const char *const argv[], pid_t parent, int out, int err,
                                 int pending_signal)
{
    setpgid(0, 0);
    /* Die with whoever started it, however that ends. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    int in = open("/dev/null", O_RDONLY);
    if (in < 0)
        _exit(127);
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    int opened[] = { in, out, err };
    for (int i = 0; i < 3; i++)
        if (opened[i] > STDERR_FILENO) /* one of 0 to 2 is now what it should be */
            close(opened[i]);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sigset_t mask;
    sigemptyset(&mask);
    if (pending_signal != 0)
        sigaddset(&mask, pending_signal);
    sigprocmask(SIG_SETMASK, &mask, NULL);
    if (pending_signal != 0)
        raise(pending_signal);
    scrub_environment(NULL);
    execvp(argv[0], (char *const *)argv);
    fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* 1: the listening line was read (port set); 0: not yet; -1: the first
   line is something else. */
static int read_port(struct server *s)
{
    char *out = read_file(s->out_path);
    if (out == NULL || strchr(out, '\n') == NULL) {
        free(out);
        return 0;
    }
    unsigned port;
    char end;
    bool ok = sscanf(out, "listening on 127.0.0.1:%u%c", &port, &end) == 2 && end == '\n' &&
              port > 0 && port < 65536;
    free(out);
    if (!ok)
        return -1;
    s->port = (int)port;
    return 1;
}

bool server_start(struct server *s, const char *const argv[], const char *out_path,
                  const char *err_path, int pending_signal, int timeout_ms)
{
    memset(s, 0, sizeof *s);
    s->port = -1;
    s->out_path = out_path;
    s->err_path = err_path;
    /* Emptied here, before the fork: an earlier run's listening line must
       never be read as this one's. */
    int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || err < 0) {
        if (out >= 0)
            close(out);
        return false;
    }
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        child_exec(argv, parent, out, err, pending_signal);
    close(out);
    close(err);
    if (pid < 0)
        return false;
    setpgid(pid, pid); /* also here, so a kill of the group cannot miss */
    s->pid = pid;

    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        /* Alive or not is asked first: one that has exited (stopped by a
           signal it found pending, say) may have printed its line just
           before, and the read below still sees it. */
        bool alive = server_alive(s);
        int got = read_port(s);
        if (got != 0)
            return got > 0;
        if (!alive || now_ms() >= deadline)
            return false;
        sleep_ms(2);
    }
}

int server_stop(struct server *s, int sig, int timeout_ms)
{
    if (s->pid <= 0)
        return s->status;
    kill(s->pid, sig);
    long long deadline = now_ms() + timeout_ms;
    while (server_alive(s)) {
        if (now_ms() >= deadline) {
            server_kill(s);
            return -1;
        }
        sleep_ms(2);
    }
    return s->status;
}

void server_kill(struct server *s)
{
    if (s->pid <= 0)
        return;
    kill(-s->pid, SIGKILL);
    kill(s->pid, SIGKILL);
    reap(s, 0);
}

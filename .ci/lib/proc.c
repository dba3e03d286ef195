/*
 * proc.c - see proc.h.
 */
#define _GNU_SOURCE /* strndup, nftw */
#include "proc.h"

#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* A growing NUL-terminated byte buffer. */
struct sink {
    char *data;
    size_t len, cap;
};

static void sink_add(struct sink *s, const char *buf, size_t n)
{
    if (s->len + n + 1 > s->cap) {
        s->cap = (s->len + n + 1) * 2;
        s->data = realloc(s->data, s->cap);
        if (s->data == NULL)
            abort();
    }
    memcpy(s->data + s->len, buf, n);
    s->len += n;
    s->data[s->len] = '\0';
}

static bool scrubbed(const char *entry)
{
    return strncmp(entry, "EVENT_", 6) == 0 || strncmp(entry, "MAKEFLAGS=", 10) == 0 ||
           strncmp(entry, "MAKELEVEL=", 10) == 0 || strncmp(entry, "MFLAGS=", 7) == 0;
}

void scrub_environment(const char *const env[])
{
    /* Copy the names first: unsetenv() changes environ under us. */
    for (;;) {
        char *name = NULL;
        for (char **e = environ; *e != NULL && name == NULL; e++)
            if (scrubbed(*e))
                name = strndup(*e, strcspn(*e, "="));
        if (name == NULL)
            break;
        unsetenv(name);
        free(name);
    }
    for (size_t i = 0; env != NULL && env[i] != NULL; i++)
        putenv((char *)env[i]);
}

/* In the child: stdout and stderr to the pipes, stdin from /dev/null. */
static void child_exec(const char *const argv[], const char *const env[], int out, int err)
{
    setpgid(0, 0);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0)
        dup2(devnull, STDIN_FILENO);
    scrub_environment(env);
    execvp(argv[0], (char *const *)argv);
    fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Read both pipes until both end or the deadline passes; false on timeout. */
static bool drain(int fds_in[2], struct sink *out, struct sink *err, long long deadline)
{
    struct pollfd fds[2] = { { fds_in[0], POLLIN, 0 }, { fds_in[1], POLLIN, 0 } };
    int open_fds = 2;
    while (open_fds > 0) {
        long long left = deadline - now_ms();
        if (left <= 0)
            return false;
        if (poll(fds, 2, (int)left) < 0 && errno == EINTR)
            continue;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char buf[4096];
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                sink_add(i == 0 ? out : err, buf, (size_t)n);
            } else {
                fds[i].fd = -1;
                open_fds--;
            }
        }
    }
    return true;
}

void run_program(const char *const argv[], const char *const env[], int timeout_ms,
                 struct run_result *result)
{
    int out_pipe[2], err_pipe[2];
    memset(result, 0, sizeof *result);
    if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0)
        abort();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        abort();
    if (pid == 0) {
        close(out_pipe[0]);
        close(err_pipe[0]);
        child_exec(argv, env, out_pipe[1], err_pipe[1]);
    }
    setpgid(pid, pid); /* also here, so the kill below cannot miss */
    close(out_pipe[1]);
    close(err_pipe[1]);

    struct sink out = { 0 }, err = { 0 };
    sink_add(&out, "", 0);
    sink_add(&err, "", 0);
    int fds[2] = { out_pipe[0], err_pipe[0] };
    result->timed_out = !drain(fds, &out, &err, now_ms() + timeout_ms);
    if (result->timed_out)
        kill(-pid, SIGKILL);
    close(out_pipe[0]);
    close(err_pipe[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    kill(-pid, SIGKILL); /* anything the program left behind in its group */
    result->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    result->out = out.data;
    result->err = err.data;
}

void run_result_free(struct run_result *result)
{
    free(result->out);
    free(result->err);
    result->out = result->err = NULL;
}

char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    struct sink s = { 0 };
    sink_add(&s, "", 0);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        sink_add(&s, buf, n);
    fclose(f);
    return s.data;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

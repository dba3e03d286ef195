/*
 * network_proc.c - see network_proc.h.
 */
#define _GNU_SOURCE /* asprintf, strndup */
#include "network_proc.h"
#include "util.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { START_TIMEOUT_MS = 20000 };

static void pause_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void reap(struct netproc *p, int options)
{
    int status;
    pid_t r;
    while ((r = waitpid(p->pid, &status, options)) < 0 && errno == EINTR)
        ;
    if (r == p->pid) {
        p->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        p->pid = 0;
    }
}

bool netproc_alive(struct netproc *p)
{
    if (p->pid > 0)
        reap(p, WNOHANG);
    return p->pid > 0;
}

static bool spawn(struct netproc *p, const char *const argv[], int pending, int timeout_ms)
{
    memset(p, 0, sizeof *p);
    p->port = -1;
    p->dir = make_temp_dir();
    if (asprintf(&p->out_path, "%s/stdout", p->dir) < 0 ||
        asprintf(&p->err_path, "%s/stderr", p->dir) < 0)
        abort();

    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        abort();
    if (pid == 0) {
        setpgid(0, 0);
        /* Die with the test, however the test ends. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int out = open(p->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(p->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int in = open("/dev/null", O_RDONLY);
        if (out < 0 || err < 0 || in < 0)
            _exit(127);
        dup2(in, STDIN_FILENO);
        dup2(out, STDOUT_FILENO);
        dup2(err, STDERR_FILENO);
        close(in);
        close(out);
        close(err);
        signal(SIGPIPE, SIG_DFL); /* as a shell would start it */
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        sigset_t mask;
        sigemptyset(&mask);
        if (pending != 0)
            sigaddset(&mask, pending);
        sigprocmask(SIG_SETMASK, &mask, NULL);
        if (pending != 0)
            raise(pending);
        scrub_environment(NULL); /* as the expected traces were made */
        execv(argv[0], (char *const *)argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid); /* also here, so a kill of the group cannot miss */
    p->pid = pid;

    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        /* Alive or not is asked first: one that has exited (a server
           stopped by a signal it found pending, say) may have printed its
           line just before, and the read below still sees it. */
        bool alive = netproc_alive(p);
        char *out = read_file(p->out_path);
        if (out != NULL && strchr(out, '\n') != NULL) {
            unsigned port;
            char end;
            bool ok = sscanf(out, "listening on 127.0.0.1:%u%c", &port, &end) == 2 &&
                      end == '\n' && port > 0 && port < 65536;
            free(out);
            if (!ok)
                return false;
            p->port = (int)port;
            return true;
        }
        free(out);
        if (!alive || now_ms() >= deadline)
            return false;
        pause_ms(2);
    }
}

bool netproc_try_start(struct netproc *p, const char *const argv[], int timeout_ms)
{
    return spawn(p, argv, 0, timeout_ms);
}

bool netproc_try_start_with_pending(struct netproc *p, const char *const argv[], int sig,
                                    int timeout_ms)
{
    return spawn(p, argv, sig, timeout_ms);
}

void netproc_start(struct netproc *p, const char *program, const char *const extra[])
{
    const char *argv[16] = { program, "--port", "0" };
    size_t n = 3;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 15; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    if (!netproc_try_start(p, argv, START_TIMEOUT_MS)) {
        char *out = netproc_output(p), *err = netproc_errors(p);
        netproc_kill(p);
        ck_abort_msg("%s did not start: no \"listening on 127.0.0.1:PORT\" line within %d ms "
                     "(status %d)\nstdout:\n%s\nstderr:\n%s",
                     program, START_TIMEOUT_MS, p->status, out ? out : "", err ? err : "");
    }
}

int netproc_stop(struct netproc *p, int sig, int timeout_ms)
{
    if (p->pid <= 0)
        return p->status;
    kill(p->pid, sig);
    long long deadline = now_ms() + timeout_ms;
    while (netproc_alive(p)) {
        if (now_ms() >= deadline) {
            netproc_kill(p);
            return -1;
        }
        pause_ms(2);
    }
    return p->status;
}

void netproc_kill(struct netproc *p)
{
    if (p->pid <= 0)
        return;
    kill(-p->pid, SIGKILL);
    kill(p->pid, SIGKILL);
    reap(p, 0);
}

void netproc_release(struct netproc *p)
{
    netproc_kill(p);
    if (p->dir != NULL)
        remove_tree(p->dir);
    free(p->dir);
    free(p->out_path);
    free(p->err_path);
    p->dir = p->out_path = p->err_path = NULL;
}

char *netproc_output(const struct netproc *p)
{
    return p->out_path != NULL ? read_file(p->out_path) : NULL;
}

char *netproc_errors(const struct netproc *p)
{
    return p->err_path != NULL ? read_file(p->err_path) : NULL;
}

char *netproc_trace(const struct netproc *p)
{
    char *out = netproc_output(p);
    if (out == NULL)
        return NULL;
    char *newline = strchr(out, '\n');
    char *trace = strdup(newline != NULL ? newline + 1 : "");
    free(out);
    return trace;
}

int netproc_fd_count(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *dir = opendir(path);
    if (dir == NULL)
        return -1;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL)
        if (e->d_name[0] != '.')
            count++;
    closedir(dir);
    return count;
}

long netproc_memory_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    size_t len = strlen(field);
    long kb = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, field, len) == 0 && line[len] == ':') {
            kb = strtol(line + len + 1, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}
